"""``pollsim audit plan`` (issue 16, item 3): designs the evidence supports, their simulated workload
checked against closed forms, the costing against the package's, and the proposal."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import numpy as np
import pytest

from pollsim.audit import AuditBoards, plan_audit
from pollsim.audit.plan import cost, plan_data, plan_text
from pollsim.audit.plan_designs import Simulated
from pollsim.rundir import RunDir, audit_run_dir

from .conftest import SEED
from .test_batch import arlo_max_error, arlo_sample_size


@pytest.fixture(scope="module")
def ballots(mixed_run):
    return RunDir(mixed_run).audit_ballots()


@pytest.fixture(scope="module")
def plan(ballots):
    return plan_audit(ballots, "president", 0.05, trials=300, seed=4)


def design(doc: dict, key: str) -> dict:
    return next(x for x in doc["designs"] if x["design"] == key)


def test_the_designs_the_evidence_supports_and_the_proposal(plan, ballots):
    assert {x["design"]: x["available"] for x in plan["designs"]} == {
        "polling": True, "batch": True, "hybrid": False, "oneaudit": True, "card": False, "hybrid-if-imprinting": True,
    }  # fmt: skip
    assert "no card evidence" in design(plan, "hybrid")["why"] and design(plan, "hybrid-if-imprinting")["what_if"] == {"precinct-scanner": "card"}
    real = [x for x in plan["designs"] if x["available"] and "what_if" not in x]
    assert plan["proposed"] == min(real, key=lambda x: (x["per_diem"]["mean"], x["board_hours"]["mean"]))["design"]
    assert len(plan["county_plan"]) == plan["counties"] == 12
    assert sum(v["cards"] for r in plan["county_plan"] for v in r["equipment"].values()) == plan["ballots"] == ballots.n
    json.dumps(plan)  # --json
    text = plan_text(plan)
    assert "proposed (*)" in text and all(r["county"] in text for r in plan["county_plan"])


def test_with_imprinting_scanners_the_hybrid_is_a_real_choice(ballots):
    doc = plan_audit(ballots, "president", 0.05, trials=100, seed=4, evidence={"precinct-scanner": "card"})
    assert design(doc, "hybrid")["available"] and not any("what_if" in x for x in doc["designs"]) and not design(doc, "card")["available"]
    assert {m for r in doc["county_plan"] for m in r["methods"]} <= {"ballot polling", "batch comparison", "comparison", "polling", "CVRs", "pools"}


def test_batch_work_without_discrepancies_is_the_expected_distinct_batches(ballots, mixed_run):
    """With no discrepancy every MACRO audit stops after round 1's n PPEB draws, so the cards
    counted average sum_p (1 - (1 - w_p)^n) b_p, and n is Arlo's size."""
    doc = plan_audit(ballots, "president", 0.05, trials=400, seed=5, o1=0.0)
    x = design(doc, "batch")
    d, _ = plan_data(ballots, "president", None)
    choices = d.outcome.choices
    batches = {i: {**dict(zip(choices, d.reported[i].tolist(), strict=True)), "ballots": int(d.batch_cards[i])} for i in range(len(d.batch_cards))}
    totals = dict(zip(choices, d.outcome.votes, strict=True))
    winners, losers = [choices[i] for i in d.outcome.winners], [choices[i] for i in d.outcome.losers]
    n = arlo_sample_size(Decimal("0.05"), batches, winners, losers, totals)
    assert x["first_round"] == f"{n:,} batches" and x["escalated_share"] == 0
    u = np.array([float(arlo_max_error(b, winners, losers, totals)) for b in batches.values()])
    w = u / u.sum()
    expected = float(np.sum((1 - (1 - w) ** n) * d.batch_cards))
    var = float(np.sum(d.batch_cards**2 * (1 - (1 - w) ** n) * (1 - w) ** n))  # an upper bound: draws of different batches are negatively correlated
    assert abs(x["work"]["mean"] - expected) < 4 * math.sqrt(var / 400)
    # and the audit itself draws what the plan says
    pkg = audit_run_dir(mixed_run, "president", 0.05, SEED, "batch", mixed_run.parent / "plan-batch", lambda _s: None)
    assert pkg["rounds"][0]["draws"] == n


def test_polling_round_one_is_bravos_asn(plan, ballots):
    d, _ = plan_data(ballots, "president", None)
    v = d.outcome.votes
    sizes = []
    for lo in (1, 2):
        pw, pl = v[0] / ballots.n, v[lo] / ballots.n
        s = pw / (pw + pl)
        sizes.append((math.log(1 / 0.05) + math.log(2 * s) / 2) / (pw * math.log(2 * s) + pl * math.log(2 - 2 * s)))
    assert design(plan, "polling")["first_round"] == f"{math.ceil(max(sizes)):,} ballots"


def test_costing_is_the_packages_workload(ballots):
    d, _ = plan_data(ballots, "president", None)
    boards = AuditBoards(audit_ballots_per_hour=20, boards_per_county=3)
    units = np.array([[0, 250] + [0] * 10, [800, 1] + [0] * 10], float)
    sim = Simulated(units, np.array([False, True]), np.array([250, 801]), "x", "ballots pulled")
    got = cost(sim, d, boards)
    cards = {c: int(d.batch_cards[d.batch_county == i].sum()) for i, c in enumerate(d.counties)}
    want = [boards.total({d.counties[i]: int(u) for i, u in enumerate(row) if u}, boards.audit_ballots_per_hour, cards, bool(e))["per_diem_cost"]
            for row, e in zip(units, sim.escalated, strict=True)]  # fmt: skip
    assert got["per_diem"]["50"] == pytest.approx(np.percentile(want, 50)) and got["per_diem"]["mean"] == pytest.approx(np.mean(want))


def test_the_same_seed_plans_the_same(ballots):
    a, b = (plan_audit(ballots, "president", 0.05, trials=60, seed=9) for _ in range(2))
    a.pop("seconds"), b.pop("seconds")
    assert a == b
