"""Reading npz members straight from an archive's bytes (``pollsim.rundir.read.npz_member``) and
sharing them (``RunDirBase.share_arrays``), as the report does (issue 12): the same arrays as
``np.load`` gives, whichever way the archive was written and whichever library inflates it."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pollsim.files import DeflatedSpool, deflate, write_npz
from pollsim.rundir import RunDir, RunDirError, write_run
from pollsim.rundir import read as reader

ARRAYS = {
    "times": np.linspace(360.0, 1200.0, 5001),
    "gaps": np.array([np.nan, np.inf, -0.0, 1e-300]),
    "station": np.arange(-3, 300, dtype=np.int16),
    "matrix": np.arange(60, dtype=np.uint8).reshape(5, 12),
    "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    "empty": np.zeros((0, 3)),
    "names": np.array(["28001-001", "paper-1"]),
    "flags": np.array([True, False, True]),
}


def _same(got: np.ndarray | None, want: np.ndarray) -> None:
    assert got is not None
    assert got.dtype == want.dtype and got.shape == want.shape and got.tobytes(order="A") == want.tobytes(order="A")
    assert got.flags.f_contiguous == want.flags.f_contiguous and got.flags.c_contiguous == want.flags.c_contiguous
    assert got.flags.aligned and not got.flags.writeable  # shared: nobody may change them


def _archives(tmp_path: Path) -> dict[str, bytes]:
    """The same arrays written every way a run directory or numpy writes an npz archive."""
    out = {}
    for name, save in (("stored", np.savez), ("deflated", np.savez_compressed)):
        buf = io.BytesIO()
        save(buf, **ARRAYS)
        out[name] = buf.getvalue()
    write_npz(tmp_path / "level.npz", ARRAYS, level=1)
    write_npz(tmp_path / "streamed.npz", ARRAYS)
    out["level 1"], out["streamed"] = (tmp_path / "level.npz").read_bytes(), (tmp_path / "streamed.npz").read_bytes()
    spool = DeflatedSpool(tmp_path / "times.spool")  # the day's members: pieces deflated by the workers, joined
    for part in np.array_split(ARRAYS["times"], 7):
        spool.append(deflate(part))
    write_npz(tmp_path / "pieces.npz", {**ARRAYS, "times": spool})
    out["pieces"] = (tmp_path / "pieces.npz").read_bytes()
    return out


@pytest.mark.parametrize("inflater", ["libdeflate", "zlib"])
def test_every_member_is_what_np_load_reads(tmp_path, monkeypatch, inflater):
    if inflater == "zlib":
        monkeypatch.setattr(reader, "_libdeflate", lambda: None)
    elif reader._libdeflate() is None:
        pytest.skip("no libdeflate on this system (zlib inflates: the other case)")
    for how, data in _archives(tmp_path).items():
        with np.load(io.BytesIO(data)) as z:
            for name in ARRAYS:
                _same(reader.npz_member(data, name), z[name])
                assert np.array_equal(z[name], ARRAYS[name], equal_nan=z[name].dtype.kind == "f"), (how, name)


def test_what_it_does_not_read_is_left_to_np_load(tmp_path):
    data = _archives(tmp_path)["deflated"]
    assert reader.npz_member(data, "missing") is None
    assert reader.npz_member(b"not a zip at all", "times") is None
    assert reader.npz_member(data[: len(data) // 2], "times") is None  # truncated
    buf = io.BytesIO()
    np.savez(buf, objects=np.array([1, None], dtype=object))
    assert reader.npz_member(buf.getvalue(), "objects") is None
    bz = io.BytesIO()
    with zipfile.ZipFile(bz, "w", zipfile.ZIP_BZIP2) as z:
        z.writestr("times.npy", _npy(ARRAYS["times"]))
    assert reader.npz_member(bz.getvalue(), "times") is None
    bz.seek(0)
    with np.load(bz) as z:  # np.load reads it (and the reader falls back to np.load)
        assert np.array_equal(z["times"], ARRAYS["times"])


def test_a_damaged_member_is_not_read_as_an_array(tmp_path, monkeypatch):
    """Bytes changed inside a deflated member: no array (np.load then names the archive unreadable)."""
    data = bytearray(_archives(tmp_path)["deflated"])
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("times.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 40 : start + 60] = bytes(20)
    for libdeflate in (reader._libdeflate, lambda: None):
        monkeypatch.setattr(reader, "_libdeflate", libdeflate)
        got = reader.npz_member(bytes(data), "times")
        assert got is None or not np.array_equal(got, ARRAYS["times"])


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a)
    return buf.getvalue()


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    from pollsim.precinct.election_day import run_election_day
    from pollsim.scenario import load_scenario

    out = tmp_path_factory.mktemp("read") / "run"
    write_run(run_election_day(load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "training-precinct.yaml"), 1), out)
    return out


def test_shared_arrays_are_the_ones_load_arrays_reads(small_run):
    fields = ("arrival", "wait", "checkin_station", "precinct")
    want = RunDir(small_run).voters(fields)
    run = RunDir(small_run)
    run.read_bytes("voters.npz")
    for field in fields:
        run.share_arrays("voters.npz", (field,))
    got = run.voters(fields)
    for field in fields:
        _same(got[field], want[field])
        assert want[field].flags.writeable  # load_arrays of another reader: its own arrays, as before
    assert run.load_arrays("voters.npz", ("wait",))["wait"] is got["wait"]  # shared, not read again


def test_a_member_it_did_not_share_is_still_named_when_missing(small_run):
    run = RunDir(small_run)
    run.share_arrays("voters.npz", ("arrival", "no_such_column"))
    with pytest.raises(RunDirError, match=r"voters\.npz: missing array\(s\) no_such_column"):
        run.load_arrays("voters.npz", ("arrival", "no_such_column"))
