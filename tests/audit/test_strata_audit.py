"""Hybrid (SUITE-style) and ONEAudit audits of a run (issue 16, item 2): the strata follow the
equipment's evidence, the P-values follow from the run's own tallies, packages verify and
tampering is caught, a wrong outcome is not confirmed."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from pollsim.audit import verify_package
from pollsim.audit.bets import km_equivalent_bet
from pollsim.audit.oneaudit import OneAuditContest
from pollsim.audit.stratified import Strata, suite_p_value
from pollsim.rundir import RunDir, audit_run_dir

from .conftest import SEED
from .test_batch_audit import edit_csv, edit_json, rehash


def quiet(_line: str) -> None:
    pass


def rows(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


IMPRINT = {"precinct-scanner": "card"}


@pytest.fixture(scope="module")
def packages(mixed_run, mixed_wrong_run, tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("strata-packages")
    out = {}
    for name, run, method, kw in [
        ("hybrid", mixed_run, "hybrid", {"evidence": IMPRINT}),
        ("fisher", mixed_run, "hybrid", {"evidence": IMPRINT, "combine": "fisher"}),
        ("polling-only", mixed_run, "hybrid", {}),
        ("oneaudit", mixed_run, "oneaudit", {"evidence": IMPRINT}),
        ("pools-only", mixed_run, "oneaudit", {}),
        ("colorado", mixed_run, "hybrid", {"evidence": IMPRINT, "sampler": "colorado"}),
        ("hybrid-wrong", mixed_wrong_run, "hybrid", {"evidence": IMPRINT}),
        ("oneaudit-wrong", mixed_wrong_run, "oneaudit", {"evidence": IMPRINT}),
    ]:
        out[name] = base / name
        audit_run_dir(run, "president", 0.05, SEED, method, out[name], quiet, **kw)
    return out


def kind_tallies(run: Path) -> dict[str, np.ndarray]:
    """Reported votes for a, b, c and cards, per device kind, straight from the run's arrays."""
    rd = RunDir(run)
    kinds = {(d.precinct, d.index): d.kind for d in rd.devices}
    cvr = rd.layer("cvr")[:, :3].astype(np.int64)
    valid = cvr.sum(axis=1) <= 1
    kind = np.array([kinds[(int(p), int(d))] for p, d in zip(rd.ballot_precinct, rd.ballot_device, strict=True)])
    return {k: np.r_[(cvr[(kind == k) & valid]).sum(axis=0), (kind == k).sum()] for k in ("scan-single", "dre")}


def pair(text: str, w: str, lo: str) -> int:
    marks = set(filter(None, text.split("+")))
    return (w in marks) - (lo in marks)


@pytest.mark.parametrize("name", ["hybrid", "fisher", "colorado"])
def test_the_hybrid_p_value_is_suite_on_the_runs_strata(packages, mixed_run, name):
    pkg = packages[name]
    doc = json.loads((pkg / "audit.json").read_text())
    t = kind_tallies(mixed_run)
    card, poll = t["scan-single"], t["dre"]
    assert doc["strata"] == {"card": {"batches": doc["evidence"]["equipment"]["precinct-scanner"]["batches"], "ballots": int(card[3])},
                             "poll": {"batches": doc["evidence"]["equipment"]["vvpat-roll"]["batches"], "ballots": int(poll[3])}}  # fmt: skip
    comp = rows(pkg / "comparisons.csv")
    last = doc["rounds"][-1]
    for a, (w, lo) in {"a>b": (0, 1), "a>c": (0, 2)}.items():
        s = Strata(int(card[3]), int(card[w] - card[lo]), int(poll[3]), int(poll[w] - poll[lo]))
        names = "abc"
        omega = np.array([pair(c["cvr"], names[w], names[lo]) - pair(c["mvr"], names[w], names[lo]) for c in comp if c["stratum"] == "card"])
        paper = np.array([pair(c["mvr"], names[w], names[lo]) for c in comp if c["stratum"] == "poll"])
        assert len(omega) == last["draws_by_stratum"]["card"] and len(paper) == last["draws_by_stratum"]["poll"]
        assert last["risks"]["president"][a] == pytest.approx(suite_p_value(s, omega, paper, doc["method"]["combine"]), rel=1e-9)
    assert doc["decisions"][0]["risk_limit_met"]


def test_a_hybrid_without_paper_tied_to_cvrs_is_the_polling_stratum_alone(packages):
    doc = json.loads((packages["polling-only"] / "audit.json").read_text())
    assert set(doc["strata"]) == {"poll"} and {r["stratum"] for r in rows(packages["polling-only"] / "comparisons.csv")} == {"poll"}
    assert all(r["cvr"] == "" for r in rows(packages["polling-only"] / "comparisons.csv"))


def test_the_oneaudit_statistic_follows_from_the_pools_tallies(packages, mixed_run):
    pkg = packages["oneaudit"]
    doc = json.loads((pkg / "audit.json").read_text())
    batches = rows(pkg / "batches.csv")
    pools = [b for b in batches if b["stratum"] == "pool"]
    assert {b["equipment"] for b in pools} == {"vvpat-roll"} and {b["equipment"] for b in batches if b["stratum"] == "cvr"} == {"precinct-scanner"}
    t = kind_tallies(mixed_run)
    n = sum(int(b["cards"]) for b in batches)
    for a, (w, lo) in {"a>b": ("a", "b"), "a>c": ("a", "c")}.items():
        cvr_w, cvr_l = int(t["scan-single"]["abc".index(w)]), int(t["scan-single"]["abc".index(lo)])
        pw = np.array([int(b[f"reported:{w}"]) for b in pools])
        pl = np.array([int(b[f"reported:{lo}"]) for b in pools])
        pn = np.array([int(b["cards"]) for b in pools])
        v = (cvr_w - cvr_l + pw.sum() - pl.sum()) / n
        mean = {b["batch"]: (k + x - y) / (2 * k) for b, k, x, y in zip(pools, pn, pw, pl, strict=True)}
        nc = int(t["scan-single"][3])
        lam = OneAuditContest(np.r_[np.ones(cvr_w), -np.ones(cvr_l), np.zeros(nc - cvr_w - cvr_l)].astype(np.int8), pw, pl, pn).bet()
        assert doc["method"]["bets"][a] == pytest.approx(lam, rel=1e-12) and 0 < lam <= km_equivalent_bet(v)
        log_t = 0.0
        best = 0.0
        for c in rows(pkg / "comparisons.csv"):
            abar = mean[c["batch"]] if c["batch"] in mean else (1 + pair(c["cvr"], w, lo)) / 2
            b_val = (1 - (abar - (1 + pair(c["mvr"], w, lo)) / 2)) / (2 - v)
            log_t += math.log1p(lam * (b_val - 0.5))
            best = max(best, log_t)
        assert doc["rounds"][-1]["risks"]["president"][a] == pytest.approx(min(1.0, math.exp(-best)), rel=1e-9)


@pytest.mark.parametrize("name", ["hybrid-wrong", "oneaudit-wrong"])
def test_a_wrong_outcome_is_not_confirmed(packages, name):
    [d] = json.loads((packages[name] / "audit.json").read_text())["decisions"]
    assert d["reported_winners"] == ["b"] and not d["risk_limit_met"] and d["certified_winners"] == ["a"]


@pytest.mark.parametrize("name", ["hybrid", "fisher", "polling-only", "oneaudit", "pools-only", "colorado", "hybrid-wrong", "oneaudit-wrong"])
def test_a_hybrid_or_oneaudit_package_verifies_from_the_package_alone(packages, name, tmp_path):
    moved = tmp_path / "published"
    shutil.copytree(packages[name], moved)
    assert verify_package(moved) == (True, [])


def test_the_same_hybrid_audit_writes_byte_identical_packages(mixed_run, tmp_path):
    for d in ("a", "b"):
        audit_run_dir(mixed_run, "president", 0.05, SEED, "hybrid", tmp_path / d, quiet, evidence=IMPRINT)
    for f in (tmp_path / "a").iterdir():
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name


TAMPERING = {
    "a reported vote": lambda p: edit_csv(p, "batches.csv", 4, "reported:b", lambda v: int(v) + 1),
    "a batch's stratum": lambda p: edit_csv(p, "batches.csv", 1, "stratum", lambda v: "card" if v == "poll" else "poll"),
    "a batch's cards": lambda p: edit_csv(p, "batches.csv", 6, "cards", lambda v: int(v) + 2),
    "a drawn position": lambda p: edit_csv(p, "sample.csv", 3, "position", lambda v: int(v) + 1),
    "a ticket": lambda p: edit_csv(p, "sample.csv", 2, "ticket", lambda v: v[:-1] + ("1" if v[-1:] != "1" else "2")),
    "a manual record": lambda p: edit_csv(p, "comparisons.csv", next(i for i, r in enumerate(rows(p / "comparisons.csv"), 1) if r["mvr"] == "a"), "mvr", lambda v: "b"),
    "a discrepancy": lambda p: edit_csv(p, "comparisons.csv", next(i for i, r in enumerate(rows(p / "comparisons.csv"), 1) if r["discrepancy"] != ""), "discrepancy", lambda v: int(v) + 1),
    "a risk": lambda p: edit_csv(p, "risk.csv", 1, "risk", lambda v: float(v) * 0.9),
    "the combination": lambda p: edit_json(p, lambda d: d["method"].update(combine="fisher" if d["method"].get("combine") == "product" else "product")),
    "the risk limit": lambda p: edit_json(p, lambda d: d.update(risk_limit=0.04)),
    "the decision": lambda p: edit_json(p, lambda d: d["decisions"][0].update(risk_limit_met=not d["decisions"][0]["risk_limit_met"])),
    "the per diem": lambda p: edit_json(p, lambda d: d["workload"]["audit"].update(per_diem_cost=0.0)),
    "the strata": lambda p: edit_json(p, lambda d: d["strata"][next(iter(d["strata"]))].update(ballots=1)),
    "the evidence table": lambda p: edit_json(p, lambda d: d["evidence"]["table"].update({"precinct-scanner": "batch"})),
}


@pytest.mark.parametrize("name", ["hybrid", "oneaudit", "colorado"])
@pytest.mark.parametrize("what", list(TAMPERING))
def test_tampering_with_any_number_is_caught(packages, tmp_path, name, what):
    if what == "the combination" and name == "oneaudit":
        what = "the risk limit"
    pkg = tmp_path / "pkg"
    shutil.copytree(packages[name], pkg)
    TAMPERING[what](pkg)
    rehash(pkg)
    ok, problems = verify_package(pkg)
    assert not ok and problems, what
