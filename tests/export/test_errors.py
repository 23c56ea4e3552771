"""Errors: a bad run directory or format is a PollsimError naming the file, and nothing is left
at the output path, whether the export fails before writing or half-way through."""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import numpy as np
import pytest

from pollsim.errors import PollsimError
from pollsim.export import FORMATS, ExportError, RunDirError, export_run
from pollsim.files import write_npz
from tests.conftest import reseal


def assert_nothing_written(out):
    assert not out.exists()
    assert list(out.parent.glob(f".{out.name}*")) == [], "temporary file left behind"


def copy_run(src, tmp_path):
    dst = tmp_path / "run"
    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_run_directory_is_an_error_naming_it(tmp_path, fmt):
    out = tmp_path / "out.txt"
    with pytest.raises(RunDirError) as err:
        export_run(tmp_path / "no-such-run", fmt, out)
    assert str(tmp_path / "no-such-run") in str(err.value) and "\n" not in str(err.value)
    assert isinstance(err.value, PollsimError)
    assert_nothing_written(out)


def test_an_unknown_format_is_an_error_naming_the_path_and_the_formats(dre_run, tmp_path):
    out = tmp_path / "out.xml"
    with pytest.raises(ExportError) as err:
        export_run(dre_run[1], "nist-xml", out)
    msg = str(err.value)
    assert str(out) in msg and "nist-xml" in msg and all(f in msg for f in FORMATS) and "\n" not in msg
    assert_nothing_written(out)


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda d: (d / "ballots.npz").unlink(), "ballots.npz"),
        (lambda d: (d / "ballots.npz").write_bytes(b"PK\x03\x04 not really a zip"), "ballots.npz"),
        (lambda d: (d / "election.json").write_text("{ not json"), "election.json"),
        (lambda d: (d / "election.json").write_text('{"id": "x"}'), "election.json"),
        (lambda d: (d / "summary.json").unlink(), "summary.json"),
        (lambda d: (d / "devices.csv").write_text("precinct,index\nx,0\n"), "devices.csv"),
        (lambda d: (d / "precincts.csv").write_text("precinct,county,equipment,registered_voters,voters_arrived,ballots_cast\ntraining-1,T,dre,many,1,1\n"), "precincts.csv"),
    ],
    ids=["no-ballots", "corrupt-ballots", "corrupt-election", "incomplete-election", "no-summary", "devices-columns", "precinct-row"],
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_damaged_run_directory_is_an_error_naming_the_file(dre_run, tmp_path, damage, named, fmt):
    run_dir = copy_run(dre_run[1], tmp_path)
    damage(run_dir)
    out = tmp_path / "out" / "export.dat"
    with pytest.raises(RunDirError) as err:
        export_run(run_dir, fmt, out)
    assert named in str(err.value) and "\n" not in str(err.value)
    assert_nothing_written(out)


def _rewrite_ballots(run_dir, change):
    with np.load(run_dir / "ballots.npz") as z:
        arrays = {k: z[k].copy() for k in z.files}
    change(arrays)
    write_npz(run_dir / "ballots.npz", arrays)
    reseal(run_dir)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda a: a.update(columns=a["columns"][::-1].copy()), "columns"),
        (lambda a: a.update(cvr=a["cvr"][:, :-1].copy()), "shape"),
        (lambda a: a.update(device=np.full_like(a["device"], 9)), "devices.csv"),
        (lambda a: a.update(precinct=a["precinct"][:-1].copy()), "one entry per ballot"),
        (lambda a: a.pop("cvr"), "cvr"),
    ],
    ids=["columns", "width", "unknown-device", "short-index", "no-cvr"],
)
def test_ballots_that_disagree_with_the_other_files_are_refused(dre_run, tmp_path, change, says):
    run_dir = copy_run(dre_run[1], tmp_path)
    _rewrite_ballots(run_dir, change)
    out = tmp_path / "cvr.json"
    with pytest.raises(RunDirError, match=says) as err:
        export_run(run_dir, "nist-cvr", out)
    assert "ballots.npz" in str(err.value)
    assert_nothing_written(out)


def test_a_failure_half_way_through_the_stream_leaves_no_file_and_keeps_an_old_one(dre_run, tmp_path):
    """The cvr matrix is cut short inside the archive: the header and the first chunks are already
    written when the export finds out."""
    run_dir = copy_run(dre_run[1], tmp_path)
    with np.load(run_dir / "ballots.npz") as z:
        arrays = {k: z[k] for k in z.files}
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arrays["cvr"])
    with zipfile.ZipFile(run_dir / "ballots.npz", "w") as zf:
        for name, arr in arrays.items():
            if name == "cvr":
                zf.writestr("cvr.npy", buf.getvalue()[: -arrays["cvr"].shape[1] * 3])
            else:
                b = io.BytesIO()
                np.lib.format.write_array(b, arr)
                zf.writestr(name + ".npy", b.getvalue())
    reseal(run_dir)
    out = tmp_path / "cvr.json"
    out.write_text("previous export\n")
    with pytest.raises(RunDirError, match="truncated"):
        export_run(run_dir, "nist-cvr", out)
    assert out.read_text() == "previous export\n"
    assert list(tmp_path.glob(".cvr.json*")) == []


def test_an_output_path_that_is_a_directory_is_an_error(dre_run, tmp_path):
    with pytest.raises(ExportError, match=str(tmp_path)):
        export_run(dre_run[1], "arlo-manifest", tmp_path)


def test_every_format_writes_the_same_bytes_twice(dre_run, tmp_path):
    for fmt in FORMATS:
        a, b = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
        export_run(dre_run[1], fmt, a)
        export_run(dre_run[1], fmt, b)
        assert a.read_bytes() == b.read_bytes(), fmt
    assert json.loads((tmp_path / "a.nist-cvr").read_text())["GeneratedDate"] == "2026-11-03T19:26:00-06:00"  # the minute after the last voter out (19:25 on the run's clock)
