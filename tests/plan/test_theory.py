"""The planner against queueing theory, where the polling place reduces to textbook queues.

A precinct with a constant arrival rate, exponential check-in and (for the tandem case) exponential
voting times, no walk, no affidavit or audio voters, is a line of M/M/c queues. The planner's
counts must then be the smallest c meeting the target by the Erlang C formula; with voters who
leave after an exponential patience (and do not balk), the check-in line is M/M/c+M and the
share lost must follow Erlang A within simulation error. The expected values come from
tests/plan/theory.py (the formulas), never from the planner or the model. Cases are chosen with
the target well away from the values at c - 1 and c, so that 20 simulated days of 23 hours decide
them without doubt.
"""

from __future__ import annotations

import numpy as np
import pytest

from pollsim.plan import plan_scenario, settings_for
from tests.conftest import scenario_from
from tests.plan.theory import erlang_a_abandonment, mmc_mean_wait, mmc_wait_quantile, smallest_c

HOURS = 23


def mm_scenario(training_dict: dict, lam: float, checkin_mean: float, voting: dict | None = None, dre_units: int = 60,
                giving_up: dict | None = None):  # fmt: skip
    """One precinct: lam voters a minute all day (polls 00:00-23:00), exponential check-in."""
    p = dict(training_dict["precincts"][0])
    p.update(registered_voters=int(lam * 60 * HOURS), turnout=1.0)
    p["roll"] = {k: 0.0 for k in ("inactive", "not_on_roll", "wrong_precinct", "no_photo_id", "new_registrant", "restored")}
    p["needs"] = {"audio": 0.0, "language": 0.0}
    p["equipment"] = {"kind": "dre", "pollbook": "electronic", "pollbook_stations": 2, "dre_units": dre_units, "vvpat_roll_feet": None}
    times = {"checkin_electronic": {"distribution": "exponential", "mean": checkin_mean}, "walk": {"distribution": "constant", "mean": 0.0}}
    if voting is not None:
        times["dre_vote"] = voting
    contests = [dict(c, overvote_attempt_rate=0.0) for c in training_dict["election"]["contests"]]
    return scenario_from(
        training_dict, election=dict(training_dict["election"], contests=contests), polls={"open": "00:00", "close": f"{HOURS:02d}:00"},
        precincts=[p], arrivals={"hourly_shares": [1.0] * HOURS, "before_opening_share": 0.0}, service_times=times,
        behaviour={"vvpat_review_share": 0.0, "vvpat_reject_share": 0.0}, giving_up=giving_up or {"enabled": False},
    )  # fmt: skip


# (arrivals a minute, mean check-in minutes, target): the target lies well between the values at c - 1 and c
MMC_CASES = [(2.0, 1.5, "p95<=2"), (1.2, 1.5, "p90<=1"), (3.0, 0.8, "mean<=0.3"), (0.5, 3.0, "p95<=6")]


@pytest.mark.parametrize(("lam", "mean", "target"), MMC_CASES)
def test_check_in_stations_are_the_smallest_c_meeting_the_target_by_erlang_c(training_dict, lam, mean, target):
    mu = 1 / mean
    measure, limit = target.split("<=")
    if measure == "mean":
        expected = smallest_c(lambda c: mmc_mean_wait(lam, mu, c) <= float(limit))
        near = [mmc_mean_wait(lam, mu, c) for c in (expected - 1, expected)]
    else:
        q = float(measure[1:]) / 100
        expected = smallest_c(lambda c: mmc_wait_quantile(lam, mu, c, q) <= float(limit))
        near = [mmc_wait_quantile(lam, mu, c, q) for c in (expected - 1, expected)]
    assert near[0] > 1.3 * float(limit) and near[1] < 0.8 * float(limit), f"case too close to call: {near}"
    scenario = mm_scenario(training_dict, lam, mean)
    result = plan_scenario(scenario, settings_for(scenario, targets=[target], resources=["pollbooks"], seed=3), whatif=0)
    plan = result.precincts[0].search
    assert plan.recommended.config == (expected,)
    assert plan.reachable
    assert plan.one_fewer["pollbooks"].days_meeting(result.settings.targets) < result.settings.meet


def test_each_line_of_a_tandem_of_mm_queues_gets_its_own_erlang_c_count(training_dict):
    # check-in M/M/c1 then voting M/M/c2: the departures of an M/M/c queue are Poisson (Burke
    # 1956), so the voting line is M/M/c2 too, and 'line' scope plans each by its own formula
    lam, checkin, voting, limit = 1.5, 1.0, 2.2, 0.5
    c1 = smallest_c(lambda c: mmc_wait_quantile(lam, 1 / checkin, c, 0.95) <= limit)
    c2 = smallest_c(lambda c: mmc_wait_quantile(lam, 1 / voting, c, 0.95) <= limit)
    for c, mean in ((c1, checkin), (c2, voting)):
        assert mmc_wait_quantile(lam, 1 / mean, c - 1, 0.95) > 1.3 * limit and mmc_wait_quantile(lam, 1 / mean, c, 0.95) < 0.8 * limit
    scenario = mm_scenario(training_dict, lam, checkin, voting={"distribution": "exponential", "mean": voting})
    settings = settings_for(scenario, targets=[f"p95<={limit}"], resources=["pollbooks", "voting"], scope="line", seed=5)
    plan = plan_scenario(scenario, settings, whatif=0).precincts[0].search
    assert plan.recommended.config == (c1, c2)


ERLANG_A_CASES = [(2.0, 1.5, 5.0, 0.04), (2.0, 1.0, 3.0, 0.04)]


@pytest.mark.parametrize(("lam", "mean", "patience", "limit"), ERLANG_A_CASES)
def test_with_reneging_the_check_in_line_loses_voters_as_erlang_a_says(training_dict, lam, mean, patience, limit):
    mu, theta = 1 / mean, 1 / patience
    expected = smallest_c(lambda c: erlang_a_abandonment(lam, mu, c, theta) <= limit)
    near = [erlang_a_abandonment(lam, mu, c, theta) for c in (expected - 1, expected)]
    assert near[0] > 1.4 * limit and near[1] < 0.6 * limit, f"case too close to call: {near}"
    giving_up = {"enabled": True, "balking": False, "patience": {"distribution": "exponential", "mean": patience}}
    scenario = mm_scenario(training_dict, lam, mean, giving_up=giving_up)
    settings = settings_for(scenario, targets=[f"lost<={100 * limit:g}%"], resources=["pollbooks"], seed=9)
    assert settings.giving_up
    plan = plan_scenario(scenario, settings, whatif=0).precincts[0].search
    assert plan.recommended.config == (expected,)
    # the share lost at that c, against Erlang A: within 4 standard errors of the 20 days' mean
    shares = plan.recommended.lost / plan.recommended.voters
    se = shares.std(ddof=1) / np.sqrt(len(shares))
    assert abs(shares.mean() - near[1]) < 4 * se + 0.1 * near[1], (shares.mean(), near[1], se)


def test_the_formulas_match_textbook_values():
    from tests.plan.theory import erlang_c

    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert erlang_c(2, 1.5) == pytest.approx(4.5 / 7)
    assert mmc_mean_wait(0.5, 1.0, 1) == pytest.approx(1.0)  # M/M/1: rho / (mu - lambda)
    # Erlang A with no patience limit (theta -> 0) loses nobody; with c = 0 servers everyone leaves
    assert erlang_a_abandonment(1.0, 1.0, 2, 1e-9, states=3000) < 1e-6
    assert erlang_a_abandonment(1.0, 1.0, 0, 1.0) == pytest.approx(1.0)
