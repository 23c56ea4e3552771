"""Arlo ballot manifest: exact columns; batches add up to the CVRs and match the device counters;
a statewide-shaped export passes Arlo's own import rules in every county.

The rules are ported from Arlo's import code (votingworks/arlo, read for this test):

- ``server/util/csv_parse.py`` ``parse_csv``: not empty; comma-delimited; cells stripped; at least
  one row after the headers; headers matched case-insensitively, unique, the required ones
  present and no others; every row as many cells as headers; no empty cell; no cell that looks
  like a total ("total", "subtotal" as a word); numbers are integers; the unique columns together
  unique; the last row not the sum of the rows above it (``reject_final_total_row``).
- ``server/api/ballot_manifest.py`` ``process_ballot_manifest_file``: the columns Container
  (optional), Tabulator (required and part of the unique key in ballot comparison audits),
  Batch Name (unique), Number of Ballots (a number).
- Batches must have at least 1 ballot: Arlo's message as issue 13 reports it from Arlo's service
  ("Batches must have at least 1 ballot. Please remove this row"); not in the versions of the
  import code read for this test, so it is applied here as reported.
- ``server/api/cvrs.py`` ``parse_dominion_cvrs``: four header rows, contest headers
  ``NAME (Vote For=N)``, CvrNumber, TabulatorNum, BatchId, RecordId and ImprintedId present in
  every row, (TabulatorNum, BatchId) a batch of the jurisdiction's manifest, RecordId an integer;
  Arlo ranks each batch's CVRs by RecordId as ballot positions 1..n and samples positions
  1..Number of Ballots from the manifest, so each batch's CVRs must be as many as the manifest
  says, with distinct RecordIds.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from pollsim.export import export_run
from pollsim.export.manifest import no_total_row_last
from pollsim.precinct.election_day import run_election_day
from pollsim.rundir import write_run
from pollsim.scenario import Scenario

from .conftest import ROOT, read_csv, summary


class ArloRefuses(Exception):
    """What Arlo's import would answer instead of accepting the file."""


TOTAL_REGEX = re.compile(r"(^|[^a-zA-Z])(sub)?totals?($|[^a-zA-Z])", re.IGNORECASE)  # csv_parse.py


def arlo_manifest(text: str, ballot_comparison: bool = True) -> list[dict]:
    """The batches Arlo makes of one jurisdiction's manifest, or :class:`ArloRefuses`."""
    if not text:
        raise ArloRefuses("CSV cannot be empty.")
    if "," not in text.splitlines()[0]:
        raise ArloRefuses("Please submit a valid CSV file with columns separated by commas.")
    rows = [[c.strip() for c in r] for r in csv.reader(io.StringIO(text))]
    if len(rows) < 2:
        raise ArloRefuses("CSV must contain at least one row after headers.")
    columns = {"Container": False, "Tabulator": ballot_comparison, "Batch Name": True, "Number of Ballots": True}  # name: required
    unique = ("Batch Name", "Tabulator") if ballot_comparison else ("Batch Name",)
    headers = [next((c for c in columns if c.lower() == h.lower()), h) for h in rows[0]]
    if len(set(headers)) != len(headers):
        raise ArloRefuses("Column headers must be unique.")
    if missing := {c for c, req in columns.items() if req} - set(headers):
        raise ArloRefuses(f"Missing required columns: {', '.join(sorted(missing))}.")
    if set(headers) - set(columns):
        raise ArloRefuses("Found unexpected columns.")
    out, seen = [], set()
    for r, row in enumerate(rows[1:]):
        if not any(row):
            continue
        if len(row) != len(headers):
            raise ArloRefuses(f"Wrong number of cells in row {r + 2}.")
        d = dict(zip(headers, row, strict=True))
        if any(v == "" for v in d.values()):
            raise ArloRefuses(f"A value is required for the cell at row {r + 2}.")
        if any(TOTAL_REGEX.search(v) for v in d.values()):
            raise ArloRefuses(f"It looks like you might have a total row (row {r + 2}).")
        if not re.fullmatch(r"-?\d+", d["Number of Ballots"]):
            raise ArloRefuses(f"Expected a number in column Number of Ballots, row {r + 2}. Got: {d['Number of Ballots']}.")
        d["Number of Ballots"] = int(d["Number of Ballots"])
        if d["Number of Ballots"] < 1:
            raise ArloRefuses("Batches must have at least 1 ballot. Please remove this row")
        key = tuple(d.get(c) for c in unique)
        if key in seen:
            raise ArloRefuses(f"Each row must be uniquely identified by {unique}. Found duplicate: {key}.")
        seen.add(key)
        out.append(d)
    counts = [d["Number of Ballots"] for d in out]
    if sum(counts[:-1]) == counts[-1]:
        raise ArloRefuses("It looks like the last row in the CSV might be a total row.")
    return out


def arlo_dominion_cvrs(text: str, batches: list[dict]) -> tuple[Counter, dict[str, dict[str, int]]]:
    """(CVRs per (tabulator, batch), votes per contest and choice) of one jurisdiction's Dominion
    CVR file read against its manifest, or :class:`ArloRefuses`."""
    rows = list(csv.reader(io.StringIO(text)))
    contest_row = [" ".join(c.splitlines()) for c in rows[1]]
    first = next(c for c, v in enumerate(contest_row) if v != "")
    contests: dict[str, dict] = {}
    for col, (header, choice) in enumerate(zip(contest_row[first:], rows[2][first:], strict=True)):
        m = re.match(r"^(.+) \(Vote For=(\d+)\)$", header)
        if not m:
            raise ArloRefuses(f"Invalid contest name: {header}.")
        contests.setdefault(m[1], {"allowed": int(m[2]), "choices": {}})["choices"][choice] = col
    index = {h: i for i, h in enumerate(rows[3][:first])}
    keys = {(b["Tabulator"], b["Batch Name"]): b for b in batches}
    per_batch: Counter = Counter()
    records: dict[tuple, set] = {}
    votes = {name: dict.fromkeys(c["choices"], 0) for name, c in contests.items()}
    for row in rows[4:]:
        cells = {h: (row[i] if i < len(row) else "") for h, i in index.items()}
        for h in ("CvrNumber", "TabulatorNum", "BatchId", "RecordId", "ImprintedId"):
            if h not in index:
                raise ArloRefuses(f"Missing required column {h}.")
            if not cells[h]:
                raise ArloRefuses(f"Missing required column {h} in row {cells.get('CvrNumber')}.")
        key = (cells["TabulatorNum"], cells["BatchId"])
        if key not in keys:
            raise ArloRefuses(f"Couldn't find a matching batch for TabulatorNum: {key[0]}, BatchId: {key[1]}.")
        record = int(cells["RecordId"])
        if record in records.setdefault(key, set()):
            raise ArloRefuses(f"RecordId {record} twice in batch {key}.")
        records[key].add(record)
        per_batch[key] += 1
        marks = row[first:]
        for name, c in contests.items():
            picks = [marks[col] for col in c["choices"].values()]
            if "" in picks or sum(map(int, picks)) > c["allowed"]:
                continue  # not on the ballot, or overvoted
            for choice, col in c["choices"].items():
                votes[name][choice] += int(marks[col])
    for key, b in keys.items():
        if per_batch[key] != b["Number of Ballots"]:
            raise ArloRefuses(f"batch {key}: {per_batch[key]} CVRs, the manifest says {b['Number of Ballots']} ballots")
    return per_batch, votes


# ------------------------------------------------------------------ the training runs
def manifest(run_dir, tmp_path):
    out = tmp_path / "manifest.csv"
    result = export_run(run_dir, "arlo-manifest", out)
    return result, read_csv(out)


def test_columns_are_exactly_arlos(run_dir, tmp_path):
    _, rows = manifest(run_dir, tmp_path)
    assert rows[0] == ["Container", "Tabulator", "Batch Name", "Number of Ballots"]
    assert all(len(r) == 4 for r in rows)


def test_batch_counts_sum_to_the_number_of_cvrs(run_dir, tmp_path):
    result, rows = manifest(run_dir, tmp_path)
    assert sum(int(r[3]) for r in rows[1:]) == summary(run_dir)["ballots_cast"]
    assert result.records == len(rows) - 1


def test_each_tabulators_batch_matches_its_public_counter(run_dir, tmp_path):
    _, rows = manifest(run_dir, tmp_path)
    with (run_dir / "devices.csv").open() as f:
        devices = list(csv.DictReader(f))
    with (run_dir / "precincts.csv").open() as f:
        county = {r["precinct"]: r["county"] for r in csv.DictReader(f)}
    expected = [
        [county[d["precinct"]], d["device_id"], f"{d['precinct']}/{d['device_id']}", d["public_count"]]
        for d in devices
        if d["kind"] != "bmd" and int(d["public_count"]) > 0
    ]
    assert rows[1:] == expected  # BMDs print cards the scanner casts; a unit that cast nothing has no batch


def test_batch_names_are_unique_and_are_the_cvr_exports_batches(synthetic_run, tmp_path):
    _, rows = manifest(synthetic_run, tmp_path)
    names = [r[2] for r in rows[1:]]
    assert len(names) == len(set(names)) == 36
    export_run(synthetic_run, "dominion-cvr", tmp_path / "cvr.csv")
    cvr_rows = read_csv(tmp_path / "cvr.csv")[4:]
    per_batch = Counter((r[1], r[2]) for r in cvr_rows)
    assert per_batch == Counter({(r[1], r[2]): int(r[3]) for r in rows[1:]})
    records = {}
    for r in cvr_rows:
        records.setdefault((r[1], r[2]), []).append(int(r[3]))
    assert all(v == list(range(1, len(v) + 1)) for v in records.values())
    assert {r[0] for r in rows[1:]} == {"Alpha", "Beta"}


# ------------------------------------------------------------------ a statewide-shaped export
COUNTIES = ["Issaquena", "Sharkey", "Benton", "Choctaw", "Jefferson", "Quitman"]


@pytest.fixture(scope="module")
def statewide(tmp_path_factory) -> tuple[Path, Path, Path]:
    """Six real Mississippi counties of the 2020 replay (DRE + VVPAT, and Choctaw's paper + BMD):
    accessible units that no voter used cast 0 ballots. (run directory, manifest, Dominion CVRs)."""
    d = yaml.safe_load((ROOT / "scenarios" / "ms-2020-general.yaml").read_text())
    d["mississippi"]["counties"] = COUNTIES
    out = tmp_path_factory.mktemp("statewide")
    write_run(run_election_day(Scenario.model_validate(d), 2020), out / "run")
    export_run(out / "run", "arlo-manifest", out / "manifest.csv")
    export_run(out / "run", "dominion-cvr", out / "cvr.csv")
    return out / "run", out / "manifest.csv", out / "cvr.csv"


def by_county(manifest_path: Path, cvr_path: Path) -> dict[str, tuple[str, str]]:
    """Each county's manifest and CVR file, split as docs/exports.md tells a county to (on
    Container; CVRs by their manifest batch)."""
    rows = read_csv(manifest_path)
    county_of = {(r[1], r[2]): r[0] for r in rows[1:]}
    cvr = read_csv(cvr_path)
    out = {}
    for county in dict.fromkeys(r[0] for r in rows[1:]):
        m, c = io.StringIO(), io.StringIO()
        csv.writer(m, lineterminator="\n").writerows([rows[0], *(r for r in rows[1:] if r[0] == county)])
        csv.writer(c, lineterminator="\n").writerows([*cvr[:4], *(r for r in cvr[4:] if county_of[(r[1], r[2])] == county)])
        out[county] = (m.getvalue(), c.getvalue())
    return out


def test_arlo_accepts_every_county_of_a_statewide_export(statewide):
    run, manifest_path, cvr_path = statewide
    with (run / "devices.csv").open() as f:
        idle = [d for d in csv.DictReader(f) if d["kind"] != "bmd" and d["public_count"] == "0"]
    assert len(idle) >= 5  # units that cast nothing: Arlo would refuse their 0-ballot rows
    files = by_county(manifest_path, cvr_path)
    assert sorted(files) == sorted(COUNTIES)
    ballots = 0
    votes: dict[str, Counter] = {}
    for m, c in files.values():
        for comparison in (True, False):  # ballot comparison (Tabulator + Batch Name) and ballot polling (Batch Name alone)
            batches = arlo_manifest(m, ballot_comparison=comparison)
        per_batch, county_votes = arlo_dominion_cvrs(c, batches)
        ballots += sum(per_batch.values())
        for contest, choices in county_votes.items():
            votes.setdefault(contest, Counter()).update(choices)
    s = summary(run)
    assert ballots == s["ballots_cast"]
    el = yaml.safe_load((ROOT / "scenarios" / "ms-2020-general.yaml").read_text())["election"]
    names = {c["title"]: {ch["name"]: ch["id"] for ch in c.get("choices", [])} or {"Yes": "yes", "No": "no"} for c in el["contests"]}
    ids = {c["title"]: c["id"] for c in el["contests"]}
    assert {ids[t]: {names[t][n]: v for n, v in ch.items()} for t, ch in votes.items()} == s["tally"]  # totals equal the tally


def test_the_ported_rules_refuse_what_arlo_refuses(statewide):
    _, manifest_path, cvr_path = statewide
    m, c = by_county(manifest_path, cvr_path)["Sharkey"]
    head, *rows = m.splitlines()
    first = rows[0].split(",")
    zero = ",".join([*first[:3], "0"])
    refused = {
        "0 ballots": "\n".join([head, *rows, zero]),
        "duplicate batch": "\n".join([head, *rows, rows[0]]),
        "total row": "\n".join([head, *rows, "Sharkey,Total,Total,1"]),
        "final total": "\n".join([head, *rows, ",".join([*first[:2], "x/y", str(sum(int(r.split(",")[3]) for r in rows))])]),
        "not a number": "\n".join([head, rows[0].rsplit(",", 1)[0] + ",12.5", *rows[1:]]),
        "missing column": "\n".join(r.rsplit(",", 1)[0] for r in [head, *rows]),
        "extra column": "\n".join(r + ",x" for r in [head, *rows]),
    }
    for why, text in refused.items():
        with pytest.raises(ArloRefuses):
            arlo_manifest(text)
            pytest.fail(f"accepted: {why}")
    batches = arlo_manifest(m)
    cvr_rows = c.splitlines()
    with pytest.raises(ArloRefuses, match="matching batch"):
        arlo_dominion_cvrs("\n".join([*cvr_rows, cvr_rows[4].replace("/", "-", 1)]), batches)
    with pytest.raises(ArloRefuses, match="CVRs, the manifest says"):
        arlo_dominion_cvrs("\n".join(cvr_rows[:-1]), batches)
    with pytest.raises(ArloRefuses, match="twice"):
        arlo_dominion_cvrs("\n".join([*cvr_rows, cvr_rows[-1]]), batches)


def test_a_county_whose_last_batch_looks_like_a_total_is_reordered():
    rows = [["A", "DRE-1", "p1/DRE-1", 10], ["B", "DRE-1", "p2/DRE-1", 7], ["A", "DRE-2", "p1/DRE-2", 5], ["A", "DRE-3", "p3/DRE-3", 15]]
    out = no_total_row_last(rows)
    a = [r for r in out if r[0] == "A"]
    assert a == [rows[3], rows[0], rows[2]] and out[1] == rows[1]  # county A rotated in place; B untouched
    assert sum(r[3] for r in a[:-1]) != a[-1][3]
    assert no_total_row_last(rows[:3]) == rows[:3]
    two = [["A", "DRE-1", "p/DRE-1", 4], ["A", "DRE-2", "p/DRE-2", 4]]
    assert no_total_row_last(two) == two  # cannot be ordered out of the rule (docs/exports.md)
