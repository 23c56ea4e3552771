"""``pollsim run``: the run directory, its summary, and byte-identical output for the same seed."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from pollsim.tabulate import tally_dict
from tests.conftest import SCENARIOS

SUMMARY_KEYS = {"scenario", "seed", "pollsim_version", "precincts", "voters", "ballots_cast", "affidavit_ballots", "wait_minutes", "last_voter_out", "tally", "paper_tally"}


def pollsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pollsim.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    out = {}
    for name, scen, seed in [("A", "training-precinct", 7), ("B", "training-precinct", 7), ("C", "training-precinct-paper", 7), ("D", "training-precinct", 8)]:
        proc = pollsim("run", str(SCENARIOS / f"{scen}.yaml"), "--seed", str(seed), "--out", str(base / name))
        assert proc.returncode == 0, proc.stderr
        out[name] = base / name
    out["stdout"] = proc.stdout
    return out


def test_same_scenario_and_seed_give_byte_identical_files(runs):
    a, b = runs["A"], runs["B"]
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert {"summary.json", "precincts.csv", "ballots.npz", "voters.npz"} <= {str(f) for f in files}
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert (a / "summary.json").read_bytes() != (runs["D"] / "summary.json").read_bytes()


def test_summary_has_the_promised_fields(runs):
    s = json.loads((runs["A"] / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(s)
    assert s["seed"] == 7 and s["precincts"] == 1
    assert s["voters"] == s["ballots_cast"] + s["affidavit_ballots"]
    assert set(s["wait_minutes"]) == {"mean", "p50", "p95", "max"}
    assert s["wait_minutes"]["p50"] <= s["wait_minutes"]["p95"] <= s["wait_minutes"]["max"]
    hh, mm = map(int, s["last_voter_out"].split(":"))
    assert hh * 60 + mm >= 19 * 60


def test_summary_tallies_are_the_column_sums_of_the_saved_records(runs, election):
    for run in ("A", "C"):
        s = json.loads((runs[run] / "summary.json").read_text())
        with np.load(runs[run] / "ballots.npz") as z:
            assert list(z["columns"]) == [f"{c.contest}/{c.choice}" for c in election.columns]
            assert s["tally"] == tally_dict(election, z["cvr"])
            assert s["paper_tally"] == tally_dict(election, z["paper"])
            assert len(z["cvr"]) == s["ballots_cast"] and len(z["affidavit"]) == s["affidavit_ballots"]


def test_per_precinct_csv_and_tapes_are_written(runs):
    lines = (runs["C"] / "precincts.csv").read_text().splitlines()
    assert lines[0].startswith("precinct,county,equipment") and len(lines) == 2
    assert ",paper," in lines[1]
    tapes = sorted(p.name for p in (runs["A"] / "tapes" / "training-1").iterdir())
    assert "DRE-1-zero.txt" in tapes and "ADA-1-results.txt" in tapes


def test_the_terminal_summary_is_printed(runs):
    assert "wait (min)" in runs["stdout"] and "Tally" in runs["stdout"]


def test_a_bad_scenario_is_refused_without_touching_an_earlier_run(runs, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((SCENARIOS / "training-precinct.yaml").read_text().replace("turnout: 0.55", "turnout: 1.7"))
    before = (runs["A"] / "summary.json").read_bytes()
    proc = pollsim("run", str(bad), "--out", str(runs["A"]))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "precincts[0].turnout" in proc.stderr and f"{bad}:" in proc.stderr
    assert (runs["A"] / "summary.json").read_bytes() == before


def test_saved_event_logs_recompute_to_each_devices_log_head(runs, election):
    import csv

    from pollsim.devices.eventlog import LogEntry, chain_next

    z = np.load(runs["C"] / "eventlog.npz")
    heads = {f"{r['precinct']}/{r['device_id']}": r["log_head"] for r in csv.DictReader((runs["C"] / "devices.csv").open())}
    assert heads and set(heads) <= set(z["device_ids"])
    for di, dev in enumerate(z["device_ids"]):
        rows = np.flatnonzero(z["device"] == di)
        h = election.definition_hash
        for r in rows:
            e = LogEntry(int(z["sequence"][r]), float(z["time"][r]), str(dev).split("/")[-1], str(z["types"][z["type"][r]]), str(z["dispositions"][z["disposition"][r]]), str(z["details_text"][z["details"][r]]))
            h = chain_next(h, e)
        if dev in heads:
            assert h == heads[dev]
    assert "ballot-cast" in set(z["types"]) and not any("trump" in t or "ellis" in t for t in z["details_text"])


def test_procedures_are_on_the_clock_and_the_accounting_form_has_the_615_totals(runs):
    import csv

    rows = list(csv.DictReader((runs["A"] / "procedures.csv").open()))
    opening = [r for r in rows if r["phase"] == "opening"]
    closing = [r for r in rows if r["phase"] == "closing"]
    assert opening[-1]["end"] == "07:00" and all(a["end"] == b["start"] for a, b in zip(opening, opening[1:], strict=False))
    summary = json.loads((runs["A"] / "summary.json").read_text())
    assert closing[0]["start"] <= summary["last_voter_out"]  # closing starts as the last voter leaves
    assert any("zero tape" in r["step"] for r in opening) and any("seal" in r["step"] for r in closing)
    form = (runs["A"] / "forms" / "training-1-ballot-accounting.txt").read_text()
    pc = next(csv.DictReader((runs["A"] / "precincts.csv").open()))
    assert f"(a) voters marked VOTED in the pollbook ............ {int(pc['pollbook_marked_voted']):>7}" in form
    assert f"(f) total ballots cast ............................. {int(pc['ballots_cast']):>7}" in form
    assert "difference ....................................       0" in form
    assert form.count("seal MS-") == 5  # four DREs and the accessible unit


def test_a_silent_fault_is_not_counted_as_an_incident_in_the_printed_summary(tmp_path):
    """Trainees must find misrecording firmware through the audit, not from the run's summary table."""
    proc = pollsim("run", str(SCENARIOS / "drills" / "misrecording-audit.yaml"), "--out", str(tmp_path / "M"))
    assert proc.returncode == 0, proc.stderr
    row = next(line for line in proc.stdout.splitlines() if "incidents" in line)
    cells = [c.strip() for c in row.strip().strip("│").split("│")]
    assert cells == ["incidents", "0"], row
    kinds = [i["kind"] for i in json.loads((tmp_path / "M" / "summary.json").read_text())["incidents"]]
    assert "misrecording" in kinds  # the run directory keeps it for the trainer


def test_a_run_with_absentee_voting_prints_the_certified_tally(tmp_path, runs):
    proc = pollsim("run", str(SCENARIOS / "drills" / "voted-ab-affidavit.yaml"), "--seed", "1", "--out", str(tmp_path / "AB"))
    assert proc.returncode == 0, proc.stderr
    canvass = json.loads((tmp_path / "AB" / "summary.json").read_text())["canvass"]
    assert "Certified tally" in proc.stdout and "Certified tally" not in runs["stdout"]  # only with a canvass
    after = proc.stdout[proc.stdout.index("Certified tally") :]
    row = next(line for line in after.splitlines() if "dawson" in line)
    cells = [c.strip() for c in row.strip().strip("│").split("│")]
    assert cells[1:] == ["dawson", f"{canvass['tally']['us-senate']['dawson']:,}", f"{canvass['paper_tally']['us-senate']['dawson']:,}"], row
    first = proc.stdout[: proc.stdout.index("Certified tally")]
    day = next(line for line in first.splitlines() if "dawson" in line)
    assert day != row  # the certified count has the absentee and affidavit ballots on top of election day's
