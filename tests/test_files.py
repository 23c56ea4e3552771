"""Archives written from pieces deflated elsewhere (pollsim.files): what a pool worker compresses,
the parent joins into one ``.npy`` member that numpy, zipfile and unzip read as any other.

The independent checks are zlib's own CRC-32 of the joined bytes, ``zipfile``'s CRC test of every
member, ``np.load`` and the Info-ZIP ``unzip -t`` where it is installed.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollsim.files import DeflatedSpool, crc32_combine, deflate, write_npz


@given(st.binary(max_size=3000), st.binary(max_size=3000))
def test_crc32_combine_is_the_crc_of_the_joined_bytes(a, b):
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_crc32_combine_across_more_zeros_than_one_block():
    a, b = b"abc", bytes(3 << 20) + b"xyz"
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def _parts(rows: list[int], width: int, dtype: str, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    shape = (0, width) if width else (0,)
    return [rng.integers(0, 5, (n, *shape[1:])).astype(dtype) for n in rows]


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.integers(0, 400), min_size=1, max_size=8),
    width=st.sampled_from([0, 3, 14]),
    dtype=st.sampled_from(["u1", "<i4", "<f8", "<i8"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_member_joined_from_pieces_is_the_concatenated_array(tmp_path_factory, rows, width, dtype, seed):
    tmp = tmp_path_factory.mktemp("npz")
    parts = _parts(rows, width, dtype, seed)
    spool = DeflatedSpool(tmp / "spool")
    for part in parts:
        spool.append(deflate(part))
    whole = np.concatenate(parts)
    assert np.array_equal(spool.load(), whole) and spool.load().dtype == whole.dtype
    write_npz(tmp / "a.npz", {"small": np.arange(5), "joined": spool, "after": np.array(["x", "yz"])})
    with zipfile.ZipFile(tmp / "a.npz") as zf:
        assert zf.testzip() is None  # every member's CRC-32 checks
        assert [i.filename for i in zf.infolist()] == ["small.npy", "joined.npy", "after.npy"]
    with np.load(tmp / "a.npz") as z:
        assert np.array_equal(z["joined"], whole) and z["joined"].dtype == whole.dtype
        assert list(z["small"]) == [0, 1, 2, 3, 4] and list(z["after"]) == ["x", "yz"]


def test_an_empty_spool_is_an_empty_array_of_its_pieces_dtype(tmp_path):
    typed = DeflatedSpool(tmp_path / "typed")
    typed.append(deflate(np.zeros((0, 14), np.uint8)))
    untouched = DeflatedSpool(tmp_path / "untouched")
    write_npz(tmp_path / "e.npz", {"typed": typed, "untouched": untouched})
    with np.load(tmp_path / "e.npz") as z:
        assert z["typed"].shape == (0, 14) and z["typed"].dtype == np.uint8
        assert z["untouched"].shape == (0,) and z["untouched"].dtype == np.float64  # as np.zeros(0)


def test_pieces_of_another_dtype_are_refused(tmp_path):
    spool = DeflatedSpool(tmp_path / "s")
    spool.append(deflate(np.zeros(3, np.int32)))
    with pytest.raises(ValueError, match="a piece of"):
        spool.append(deflate(np.zeros(3, np.int64)))


@pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP unzip is not installed")
def test_info_zip_reads_the_joined_member(tmp_path):
    spool = DeflatedSpool(tmp_path / "spool")
    parts = _parts([1000, 0, 2000, 7], 14, "u1", 3)
    for part in parts:
        spool.append(deflate(part))
    write_npz(tmp_path / "a.npz", {"joined": spool})
    check = subprocess.run(["unzip", "-t", str(tmp_path / "a.npz")], capture_output=True, text=True)
    assert check.returncode == 0 and "No errors detected" in check.stdout


def _stored(path, member: str) -> bytes:
    """A member's compressed bytes as they are in the file (after its local header)."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        local = f.read(30)
        f.seek(info.header_offset + 30 + int.from_bytes(local[26:28], "little") + int.from_bytes(local[28:30], "little"))
        return f.read(info.compress_size)


def test_an_array_is_written_at_pollsims_level_as_its_header_and_data_joined(tmp_path):
    """write_npz deflates each member at files.LEVEL as two joinable pieces, the ``.npy`` header
    ``np.lib.format.write_array`` writes, then the data, then the final empty block
    (docs/reference.md): the stored bytes are made again here from zlib and numpy alone; another
    level gives other bytes."""
    from pollsim.files import LEVEL

    a = np.arange(60_000, dtype=np.int64) % 97
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a)
    header = buf.getvalue()[: -a.nbytes]

    def piece(data: bytes, level: int) -> bytes:
        z = zlib.compressobj(level, zlib.DEFLATED, -15)
        return z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)

    for level in (LEVEL, 6):
        path = tmp_path / f"a{level}.npz"
        write_npz(path, {"a": a}, level=level)
        expected = piece(header, level) + piece(a.tobytes(), level) + zlib.compressobj(level, zlib.DEFLATED, -15).flush()
        assert _stored(path, "a.npy") == expected
        assert np.array_equal(np.load(path)["a"], a)
    assert _stored(tmp_path / f"a{LEVEL}.npz", "a.npy") != _stored(tmp_path / "a6.npz", "a.npy")


def test_an_array_of_python_objects_is_refused(tmp_path):
    with pytest.raises(ValueError, match="Python objects"):
        write_npz(tmp_path / "o.npz", {"o": np.array([object(), 1], dtype=object)})
    assert not (tmp_path / "o.npz").exists()
