"""docs/background.md's queueing table, recomputed (issue 13, item 8).

Every number of the table is computed here from the scenario defaults (pollsim.scenario
ServiceTimes and Behaviour, the training precinct's size) with Erlang C for M/M/c and the
Allen–Cunneen factor (1 + c_s²)/2 for M/G/c, and compared with the doc as printed. The service
moments are checked against 100,000 voters drawn by the model's own draws, so the table cannot
drift from what the simulation does.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import yaml

from pollsim.election.roll import VoterNeed
from pollsim.precinct.draws import draw_voters
from pollsim.scenario import Scenario, build_election
from pollsim.scenario.day_spec import Behaviour, ServiceTimes

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "background.md"


def erlang_c(c: int, a: float) -> float:
    """Erlang's C: the chance an arrival waits in M/M/c with offered load ``a``."""
    top = a**c / math.factorial(c) / (1 - a / c)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def times_bernoulli(p: float, mean: float, var: float) -> tuple[float, float]:
    """Mean and variance of X taken with probability p (else 0)."""
    return p * mean, p * (var + mean**2) - (p * mean) ** 2


def dre_service() -> tuple[float, float]:
    """Mean and squared CV of a DRE voter's time: the 8-contest ballot, the VVPAT review half the
    voters make, and a rejection (correction and a second review) for 1 % of those."""
    st, bh = ServiceTimes(), Behaviour()
    mean = st.dre_vote.mean + 8 * st.dre_vote.per_contest
    var = (st.dre_vote.sd * mean / st.dre_vote.mean) ** 2
    parts = [
        (mean, var),
        times_bernoulli(bh.vvpat_review_share, st.vvpat_review.mean, st.vvpat_review.sd**2),
        times_bernoulli(bh.vvpat_review_share * bh.vvpat_reject_share, st.overvote_correction.mean + st.vvpat_review.mean,
                        st.overvote_correction.sd**2 + st.vvpat_review.sd**2),
    ]  # fmt: skip
    m, v = sum(p[0] for p in parts), sum(p[1] for p in parts)
    return m, v / m**2


def table() -> dict[str, list[str]]:
    text = DOC.read_text(encoding="utf-8")
    rows = re.findall(r"^\| (paper pollbook|DREs) \|(.*)\|$", text, re.M)
    return {name: [c.strip() for c in cells.split("|")] for name, cells in rows}


def test_the_queueing_table_is_erlang_c_and_allen_cunneen_of_the_defaults():
    st = ServiceTimes()
    training = yaml.safe_load((ROOT / "scenarios" / "training-precinct.yaml").read_text())["precincts"][0]
    lam = training["registered_voters"] * training["turnout"] * 0.10 / 60  # a 10 % hour, per minute
    stages = {"paper pollbook": (2, st.checkin_paper.mean, (st.checkin_paper.sd / st.checkin_paper.mean) ** 2), "DREs": (4, *dre_service())}
    doc = table()
    assert set(doc) == set(stages)
    for name, (c, mean, cv2) in stages.items():
        servers, service, rho, p_wait, wq_mmc, wq_mgc, rho_quiet = doc[name]
        a = lam * mean
        wq = erlang_c(c, a) / (c / mean - lam)
        assert int(servers) == c
        assert service.startswith(f"{mean:g} min, {cv2:.2f}")
        assert (float(rho), float(p_wait)) == (round(a / c, 2), round(erlang_c(c, a), 2)), name
        shown = 1 if wq < 10 else 0  # minutes: one decimal under 10, whole minutes above
        assert wq_mmc == f"{wq:.{shown}f} min" and wq_mgc == f"{wq * (1 + cv2) / 2:.{shown if wq * (1 + cv2) / 2 < 10 else 0}f} min", name
        assert float(rho_quiet) == round(a / 2 / c, 2)
    assert "voters who give up" in DOC.read_text() and "stays in line however long" in DOC.read_text()


def test_the_service_moments_are_the_models_own():
    d = yaml.safe_load((ROOT / "scenarios" / "training-precinct.yaml").read_text())
    p = d["precincts"][0]
    p["registered_voters"] = 20_000
    p["equipment"].update(pollbook_stations=20, dre_units=60)  # enough units for a plausible day: only the draws are used
    scenario = Scenario.model_validate(d)
    election = build_election(scenario.election)
    draws = [draw_voters(np.random.default_rng(seed), scenario, election, scenario.precincts[0]) for seed in range(10)]
    # the audio ballot goes to the accessible unit; language voters take 10 % longer
    at_dre = np.concatenate([x.vote[x.need == VoterNeed.NONE] for x in draws])
    checkin = np.concatenate([x.checkin for x in draws])
    mean, cv2 = dre_service()
    assert len(at_dre) > 100_000
    assert abs(at_dre.mean() - mean) < 3 * at_dre.std() / np.sqrt(len(at_dre)) + 0.01  # 0.01: overvote corrections, not in the table
    assert abs(at_dre.var() / at_dre.mean() ** 2 - cv2) < 0.02
    st = ServiceTimes()
    assert abs(checkin.mean() - st.checkin_paper.mean) < 0.01 and abs(checkin.var() / checkin.mean() ** 2 - (0.5 / 1.875) ** 2) < 0.005
