"""Run directories to export (made once per test session), the official NIST schemas, and readers
that parse the exports back the way other tools would."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from pollsim.election.definition import Election
from pollsim.files import write_npz
from pollsim.precinct.election_day import run_election_day
from pollsim.rundir import DEVICE_COLUMNS, PRECINCT_COLUMNS
from pollsim.rundir import write_run as write_run_dir
from pollsim.scenario import load_scenario
from pollsim.tabulate import tally_dict
from tests.conftest import reseal

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
SCHEMAS = {
    "nist-cvr": DATA / "NIST_V0_cast_vote_records.json",
    "nist-results": DATA / "NIST_V2_election_results_reporting.json",
    "nist-eventlog": DATA / "NIST_V1_election_event_logging.json",
}


def _training_run(tmp_path_factory, scenario: str, name: str):
    """(ElectionDayRun, run directory) of a bundled training scenario at seed 7."""
    run = run_election_day(load_scenario(ROOT / "scenarios" / scenario), 7)
    out = tmp_path_factory.mktemp(name)
    write_run_dir(run, out)
    return run, out


@pytest.fixture(scope="session")
def dre_run(tmp_path_factory):
    """The training precinct (DRE + VVPAT), seed 7."""
    return _training_run(tmp_path_factory, "training-precinct.yaml", "dre-run")


@pytest.fixture(scope="session")
def paper_run(tmp_path_factory):
    """The training precinct on paper + scanner + BMD, seed 7 (two ballots cast overvoted)."""
    return _training_run(tmp_path_factory, "training-precinct-paper.yaml", "paper-run")


@pytest.fixture(scope="session", params=["dre", "paper"])
def run_dir(request, dre_run, paper_run) -> Path:
    """Each training run directory in turn."""
    return (dre_run if request.param == "dre" else paper_run)[1]


def validator(fmt: str) -> jsonschema.Draft4Validator:
    """The official schema's validator (its own definitions; draft 4; date-time formats checked)."""
    schema = json.loads(SCHEMAS[fmt].read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def schema_errors(fmt: str, doc: dict) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator(fmt).iter_errors(doc)]


def summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def election(run_dir: Path) -> Election:
    return Election.from_dict(json.loads((run_dir / "election.json").read_text()))


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def random_ballots(el: Election, n: int, rng: np.random.Generator, overvote_share: float) -> np.ndarray:
    """Each contest: vote-for-N random marks, none (5 %), or (a share) one mark too many."""
    cvr = np.zeros((n, el.width), np.uint8)
    for c in el.contests:
        k = len(c.choices)
        ranks = rng.random((n, k)).argsort(axis=1).argsort(axis=1)
        marks = ranks < c.vote_for
        marks[rng.random(n) < 0.05] = False
        over = rng.random(n) < overvote_share
        marks[over] = ranks[over] < min(k, c.vote_for + 1)
        cvr[:, el.contest_slices[c.id]] = marks
    return cvr


def make_synthetic_run_dir(
    out: Path, template: Path, n_ballots: int, n_precincts: int, seed: int = 3, overvote_share: float = 0.01, distinct_rows: int | None = None
) -> Path:
    """A run directory of ``n_ballots`` random ballots (:func:`random_ballots`; drawn from
    ``distinct_rows`` distinct rows if given, as real ballots are) over ``n_precincts`` precincts
    in two counties, three DREs each, with the template run's election; no event log or tapes.
    Consistent across files (summary tally, counts per device and precinct).
    """
    el = election(template)
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    if distinct_rows is None:
        cvr = random_ballots(el, n_ballots, rng, overvote_share)
    else:
        cvr = random_ballots(el, distinct_rows, rng, overvote_share)[rng.integers(0, distinct_rows, n_ballots)]
    precinct = np.sort(rng.integers(0, n_precincts, n_ballots)).astype(np.int32)
    device = rng.integers(0, 3, n_ballots).astype(np.int16)
    ids = [f"syn-{i + 1:03d}" for i in range(n_precincts)]
    write_npz(
        out / "ballots.npz",
        {
            "columns": np.array([f"{c.contest}/{c.choice}" for c in el.columns]),
            "precinct_ids": np.array(ids),
            "intent": cvr,
            "paper": cvr,
            "cvr": cvr,
            "precinct": precinct,
            "device": device,
            "voter": np.arange(n_ballots, dtype=np.int32),
            "affidavit": np.zeros((0, el.width), np.uint8),
            "affidavit_precinct": np.zeros(0, np.int32),
        },
    )
    per_precinct = np.bincount(precinct, minlength=n_precincts)
    per_device = np.bincount(precinct.astype(np.int64) * 3 + device, minlength=n_precincts * 3)
    with (out / "precincts.csv").open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(PRECINCT_COLUMNS)
        for i, pid in enumerate(ids):
            n = int(per_precinct[i])
            row = dict.fromkeys(PRECINCT_COLUMNS, 0)
            row.update(precinct=pid, county="Alpha" if i % 2 == 0 else "Beta", equipment="dre", registered_voters=2 * n, voters_arrived=n, ballots_cast=n, last_voter_out="19:00")
            w.writerow([row[c] for c in PRECINCT_COLUMNS])
    with (out / "devices.csv").open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(DEVICE_COLUMNS)
        for i, pid in enumerate(ids):
            for k in range(3):
                n = int(per_device[i * 3 + k])
                w.writerow([pid, k, f"DRE-{k + 1}", "dre", n, n, n, "0" * 64])
    (out / "election.json").write_text(json.dumps(el.to_dict(), indent=2) + "\n")
    summ = {
        "scenario": "synthetic",
        "seed": seed,
        "pollsim_version": "0.1.0",
        "election": {"id": el.id, "definition_sha256": el.definition_hash},
        "precincts": n_precincts,
        "ballots_cast": n_ballots,
        "last_voter_out": "19:30",
        "tally": tally_dict(el, cvr),
    }
    (out / "summary.json").write_text(json.dumps(summ, indent=2) + "\n")
    return reseal(out)


@pytest.fixture(scope="session")
def synthetic_run(tmp_path_factory, dre_run) -> Path:
    """5,000 random ballots in 12 precincts of two counties, about 1 % of contests overvoted."""
    return make_synthetic_run_dir(tmp_path_factory.mktemp("synthetic"), dre_run[1], 5_000, 12)


def cvr_selection_map(doc: dict) -> dict[str, tuple[str, str]]:
    """ContestSelection @id -> (contest id, choice id), from the report's Election (its Codes)."""
    out = {}
    for contest in doc["Election"][0]["Contest"]:
        cid = contest["Code"][0]["Value"]
        for sel in contest["ContestSelection"]:
            out[sel["@id"]] = (cid, sel["Code"][0]["Value"])
    return out


def retally_cvr_report(doc: dict) -> dict[str, dict[str, int]]:
    """Count a CVR report as a tabulator reading it would: allocable indications only."""
    sel = cvr_selection_map(doc)
    contest_code = {c["@id"]: c["Code"][0]["Value"] for c in doc["Election"][0]["Contest"]}
    out = {contest_code[c["@id"]]: {sel[s["@id"]][1]: 0 for s in c["ContestSelection"]} for c in doc["Election"][0]["Contest"]}
    for cvr in doc["CVR"]:
        for contest in cvr["CVRSnapshot"][0].get("CVRContest", []):
            for cs in contest.get("CVRContestSelection", []):
                cid, ch = sel[cs["ContestSelectionId"]]
                for pos in cs["SelectionPosition"]:
                    if pos["HasIndication"] == "yes" and pos.get("IsAllocable") == "yes":
                        out[cid][ch] += pos["NumberVotes"]
    return out
