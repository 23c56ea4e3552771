"""A batch-comparison audit of a run (issue 16, item 1): the package, checked against a transcription
of Arlo's macro.py and sampler.py; verification and tampering; a wrong outcome."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from pollsim.audit import AuditBoards, verify_package
from pollsim.audit.errors import AuditError
from pollsim.rundir import audit_run_dir

from .conftest import SEED
from .test_batch import arlo_compute_risk, arlo_max_error, arlo_sample_size


def quiet(_line: str) -> None:
    pass


def rows(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def packages(mixed_run, mixed_wrong_run, tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("batch-packages")
    out = {}
    for name, run, method, boards in [
        ("macro", mixed_run, "batch", AuditBoards(error_rate=0.01, seed=3)),
        ("alpha", mixed_run, "alpha-batch", None),
        ("wrong", mixed_wrong_run, "batch", None),
    ]:
        out[name] = base / name
        audit_run_dir(run, "president", 0.05, SEED, method, out[name], quiet, boards=boards)
    return out


def test_macro_is_arlos_sample_size_draws_and_p_value(packages):
    pkg = packages["macro"]
    doc = json.loads((pkg / "audit.json").read_text())
    [c] = doc["contests"]
    batches = {(r["county"], r["batch"]): {**{ch: int(r[f"reported:{ch}"]) for ch in c["choices"]}, "ballots": int(r["cards"])} for r in rows(pkg / "batches.csv")}
    assert list(batches) == sorted(batches)  # Arlo's batch keys, sorted
    totals = dict(zip(c["choices"], c["reported_votes"], strict=True))
    winners, losers = c["winners"], c["losers"]
    alpha = Decimal(str(doc["risk_limit"]))
    assert doc["rounds"][0]["draws"] == arlo_sample_size(alpha, batches, winners, losers, totals)
    # Arlo's draw_ppeb_sample: one generator seeded with the seed's SHA-256, choice with the weights
    big_u = sum((arlo_max_error(b, winners, losers, totals) for b in batches.values()), Decimal(0))
    weights = [float(arlo_max_error(b, winners, losers, totals) / big_u) for b in batches.values()]
    keys = list(batches)
    n = doc["rounds"][-1]["draws"]
    generator = np.random.default_rng(int(hashlib.sha256(doc["seed"].encode()).hexdigest(), 16))
    arlo_draws = [keys[i] for i in generator.choice(len(keys), n, p=weights, replace=True)]
    sample = rows(pkg / "sample.csv")
    assert [(s["county"], s["batch"]) for s in sample] == arlo_draws
    # Arlo's compute_risk: the hand tallies, the draws in ticket order
    audited: dict = {}
    for t in rows(pkg / "tallies.csv"):
        audited.setdefault((t["county"], t["batch"]), {})[t["choice"]] = int(t["hand"])
    assert any(int(t["difference"]) for t in rows(pkg / "tallies.csv"))  # the boards misread some ballots
    drawn = [(s["county"], s["batch"]) for s in sorted(sample, key=lambda s: s["ticket"])]
    p, confirmed = arlo_compute_risk(alpha, batches, drawn, audited, winners, losers, totals)
    risk = float(rows(pkg / "risk.csv")[-1]["risk"])
    assert risk == pytest.approx(p, rel=1e-9) and doc["decisions"][0]["risk_limit_met"] == confirmed


def test_batch_alpha_confirms_and_names_each_pair(packages):
    doc = json.loads((packages["alpha"] / "audit.json").read_text())
    assert doc["method"]["method"] == "alpha-batch" and set(doc["rounds"][-1]["risks"]["president"]) == {"a>b", "a>c"}
    assert doc["decisions"][0]["risk_limit_met"]


def test_a_wrong_outcome_goes_to_a_full_recount_that_certifies_the_paper(packages):
    doc = json.loads((packages["wrong"] / "audit.json").read_text())
    [d] = doc["decisions"]
    assert d["reported_winners"] == ["b"] and not d["risk_limit_met"] and d["certified_winners"] == ["a"] and d["outcome_changed"]
    assert doc["workload"]["escalated"] and (packages["wrong"] / "recount.csv").is_file()


@pytest.mark.parametrize("name", ["macro", "alpha", "wrong"])
def test_a_batch_package_verifies_from_the_package_alone(packages, name, tmp_path):
    moved = tmp_path / "published"
    shutil.copytree(packages[name], moved)
    assert verify_package(moved) == (True, [])


def test_the_same_batch_audit_writes_byte_identical_packages(mixed_run, tmp_path):
    for d in ("a", "b"):
        audit_run_dir(mixed_run, "president", 0.05, SEED, "batch", tmp_path / d, quiet, boards=AuditBoards(error_rate=0.01, seed=3))
    for f in (tmp_path / "a").iterdir():
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name


def test_batch_comparison_takes_one_contest_and_paper_with_a_tally(mixed_run, tmp_path):
    with pytest.raises(AuditError, match="one contest"):
        audit_run_dir(mixed_run, "president,measure-1", 0.05, SEED, "batch", tmp_path / "x", quiet)
    with pytest.raises(AuditError, match="paper"):
        audit_run_dir(mixed_run, "president", 0.05, SEED, "batch", tmp_path / "y", quiet, evidence={"precinct-scanner": "paper"})


def rehash(pkg: Path) -> None:
    doc = json.loads((pkg / "audit.json").read_text())
    doc["files"] = {n: hashlib.sha256((pkg / n).read_text().encode()).hexdigest() for n in doc["files"]}
    (pkg / "audit.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def edit_csv(pkg: Path, name: str, row: int, column: str, change) -> None:
    with (pkg / name).open(newline="") as f:
        table = list(csv.reader(f))
    j = table[0].index(column)
    table[row][j] = str(change(table[row][j]))
    with (pkg / name).open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(table)


def edit_json(pkg: Path, change) -> None:
    doc = json.loads((pkg / "audit.json").read_text())
    change(doc)
    (pkg / "audit.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def _first_drawn_row(pkg: Path) -> int:
    first = rows(pkg / "sample.csv")[0]["batch"]
    return next(i for i, r in enumerate(rows(pkg / "batches.csv"), start=1) if r["batch"] == first)


TAMPERING = {
    "a reported vote": lambda p: edit_csv(p, "batches.csv", 5, "reported:a", lambda v: int(v) + 1),
    "a drawn batch's reported vote": lambda p: edit_csv(p, "batches.csv", _first_drawn_row(p), "reported:b", lambda v: int(v) - 1),
    "a batch's cards": lambda p: edit_csv(p, "batches.csv", 7, "cards", lambda v: int(v) + 3),
    "an error bound": lambda p: edit_csv(p, "batches.csv", 3, "error_bound", lambda v: float(v) * 1.01),
    "a batch's evidence": lambda p: edit_csv(p, "batches.csv", 2, "evidence", lambda v: "paper"),
    "a drawn batch": lambda p: edit_csv(p, "sample.csv", 2, "batch", lambda v: rows(p / "batches.csv")[0]["batch"] if v != rows(p / "batches.csv")[0]["batch"] else rows(p / "batches.csv")[1]["batch"]),
    "a ticket": lambda p: edit_csv(p, "sample.csv", 1, "ticket", lambda v: v[:-1] + ("1" if v[-1] != "1" else "2")),
    "a draw's round": lambda p: edit_csv(p, "sample.csv", 1, "round", lambda v: int(v) + 1),
    "a hand count": lambda p: edit_csv(p, "tallies.csv", 1, "hand", lambda v: int(v) + 1),
    "a difference": lambda p: edit_csv(p, "tallies.csv", 2, "difference", lambda v: int(v) - 1),
    "a risk": lambda p: edit_csv(p, "risk.csv", 1, "risk", lambda v: float(v) / 2),
    "the risk limit": lambda p: edit_json(p, lambda d: d.update(risk_limit=0.2)),
    "the seed": lambda p: edit_json(p, lambda d: d.update(seed=d["seed"][:-1] + "0")),
    "the method": lambda p: edit_json(p, lambda d: d["method"].update(method="alpha-batch", beta=1.0)),
    "U": lambda p: edit_json(p, lambda d: d["batches"].update(total_error_bound=d["batches"]["total_error_bound"] + 0.5)),
    "a reported total": lambda p: edit_json(p, lambda d: d["contests"][0]["reported_votes"].__setitem__(0, d["contests"][0]["reported_votes"][0] + 1)),
    "the decision": lambda p: edit_json(p, lambda d: d["decisions"][0].update(risk_limit_met=not d["decisions"][0]["risk_limit_met"])),
    "the per diem": lambda p: edit_json(p, lambda d: d["workload"].update(per_diem_cost=d["workload"]["per_diem_cost"] + 110)),
    "the evidence table": lambda p: edit_json(p, lambda d: d["evidence"]["table"].update({"vvpat-roll": "paper"})),
    "the rounds": lambda p: edit_json(p, lambda d: d["rounds"][0].update(draws=d["rounds"][0]["draws"] - 1)),
}


@pytest.mark.parametrize("what", list(TAMPERING))
def test_tampering_with_any_number_is_caught(packages, tmp_path, what):
    pkg = tmp_path / "pkg"
    shutil.copytree(packages["macro"], pkg)
    TAMPERING[what](pkg)
    rehash(pkg)  # a careful forger fixes the hashes too
    ok, problems = verify_package(pkg)
    assert not ok and problems, what
