"""``--out FILE.gz``: every export format, gzip-compressed, reproducible byte for byte (issue 13, item 6)."""

from __future__ import annotations

import gzip
import struct

import pytest

from pollsim.export import FORMATS, export_run


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_gz_output_is_the_same_export_compressed(paper_run, tmp_path, fmt):
    run_dir = paper_run[1]
    plain = export_run(run_dir, fmt, tmp_path / "plain" / "out.txt")
    packed = export_run(run_dir, fmt, tmp_path / "a" / "out.txt.gz")
    again = export_run(run_dir, fmt, tmp_path / "b" / "out.txt.gz")
    data = packed.path.read_bytes()
    assert gzip.decompress(data) == plain.path.read_bytes() and packed.records == plain.records
    assert again.path.read_bytes() == data  # same run, same bytes: another folder, another time
    magic, method, flags, mtime = struct.unpack("<HBBI", data[:8])
    assert (magic, method, mtime) == (0x8B1F, 8, 0) and not flags & 0x08  # deflate, no time, no file name
    if plain.path.stat().st_size > 10_000:
        assert len(data) < plain.path.stat().st_size / 3  # records repeat themselves a lot


def test_a_failed_gz_export_leaves_nothing(paper_run, tmp_path):
    run_dir = paper_run[1]
    out = tmp_path / "cvr.json.gz"
    (run_dir / "ballots.npz").rename(tmp_path / "moved.npz")
    try:
        with pytest.raises(Exception, match="ballots.npz"):
            export_run(run_dir, "nist-cvr", out)
    finally:
        (tmp_path / "moved.npz").rename(run_dir / "ballots.npz")
    assert not out.exists() and not list(tmp_path.glob("cvr.json.gz*"))
