"""NIST SP 1500-101 event-log export from a run directory: schema-valid, same as the live
devices' logs, hash chains that end where devices.csv says, and tampering refused."""

from __future__ import annotations

import copy
import csv
import json
import shutil
import zipfile

import numpy as np
import pytest

from pollsim.errors import PollsimError
from pollsim.export import device_event_log, export_run
from pollsim.files import write_npz
from pollsim.rundir import RunDirError
from tests.conftest import reseal

from .conftest import schema_errors


@pytest.fixture(scope="module", params=["dre", "paper"])
def eventlog(request, dre_run, paper_run, tmp_path_factory):
    run, run_dir = dre_run if request.param == "dre" else paper_run
    out = tmp_path_factory.mktemp("eventlog") / "log.json"
    result = export_run(run_dir, "nist-eventlog", out)
    return run, run_dir, result, json.loads(out.read_text())


def test_event_log_validates_against_the_official_sp1500_101_schema(eventlog):
    *_, doc = eventlog
    assert schema_errors("nist-eventlog", doc) == []
    assert doc["@type"] == "EventLogging.ElectionEventLog"


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.pop("GeneratedTime"),
        lambda d: d["Device"][0]["Event"][0].update(Disposition="maybe"),
        lambda d: d["Device"][0]["Event"][0].update(Sequence=1),
        lambda d: d["Device"][0].update(HashType="crc32"),
    ],
    ids=["no-time", "bad-disposition", "integer-sequence", "bad-hash-type"],
)
def test_a_broken_event_log_fails_the_schema(eventlog, breakage):
    doc = copy.deepcopy({**eventlog[-1], "Device": eventlog[-1]["Device"][:1]})
    assert schema_errors("nist-eventlog", doc) == []
    breakage(doc)
    assert schema_errors("nist-eventlog", doc)


def test_each_device_equals_the_export_of_the_live_devices_log(eventlog):
    run, _, result, doc = eventlog
    live = []
    for p in run.precincts:
        kinds = {d.device_id: d.kind for d in p.devices}
        for dev, log in p.logs.items():
            d = device_event_log(log, kinds.get(dev, "electronic-poll-book"), run.election.date)
            d["Id"] = f"{p.precinct}/{dev}"
            live.append(d)
    assert doc["Device"] == live
    assert result.records == sum(len(d["Event"]) for d in live)


def test_recomputed_chains_end_at_the_devices_csv_log_heads(eventlog):
    _, run_dir, _, doc = eventlog
    with (run_dir / "devices.csv").open() as f:
        rows = {f"{r['precinct']}/{r['device_id']}": r for r in csv.DictReader(f)}
    by_id = {d["Id"]: d for d in doc["Device"]}
    for name, r in rows.items():
        assert by_id[name]["Event"][-1]["Hash"] == r["log_head"]
        assert len(by_id[name]["Event"]) == int(r["log_entries"])
        assert by_id[name]["Type"] == r["kind"]


def _rewrite_eventlog(src, dst, change):
    shutil.copytree(src, dst)
    with np.load(dst / "eventlog.npz") as z:
        arrays = {k: z[k].copy() for k in z.files}
    change(arrays)
    write_npz(dst / "eventlog.npz", arrays)
    return reseal(dst)


@pytest.mark.parametrize(
    "change",
    [
        lambda a: a["time"].__setitem__(10, a["time"][10] + 1.0),
        lambda a: a["details"].__setitem__(4, 1),
        lambda a: [a[k].__setitem__(slice(5, 7), a[k][5:7][::-1].copy()) for k in ("time", "type", "details")],
    ],
    ids=["moved-time", "edited-details", "swapped-entries"],
)
def test_an_altered_log_is_refused_and_nothing_is_written(dre_run, tmp_path, change):
    run_dir = _rewrite_eventlog(dre_run[1], tmp_path / "run", change)
    out = tmp_path / "log.json"
    with pytest.raises(RunDirError) as err:
        export_run(run_dir, "nist-eventlog", out)
    assert "eventlog.npz" in str(err.value) and "devices.csv" in str(err.value)
    assert not out.exists() and list(tmp_path.glob(".log.json*")) == []


def test_a_corrupt_eventlog_archive_is_a_pollsim_error_naming_the_file(dre_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(dre_run[1], run_dir)
    with zipfile.ZipFile(run_dir / "eventlog.npz", "w") as zf:
        zf.writestr("device_ids.npy", b"not an array")
    with pytest.raises(PollsimError, match="eventlog.npz"):
        export_run(run_dir, "nist-eventlog", tmp_path / "log.json")
    assert not (tmp_path / "log.json").exists()
