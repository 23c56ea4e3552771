"""The precinct model agrees with queueing theory where theory has an answer.

With a constant arrival rate and exponential service at one stage (the pollbook; voting units so
plentiful nobody waits for one), the pollbook line is an M/M/c queue, whose long-run mean wait
is the Erlang-C value computed here from its formula.
"""

from __future__ import annotations

import math

import numpy as np

from pollsim.precinct import Outcome
from pollsim.precinct.election_day import run_election_day
from tests.conftest import scenario_from


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean time in queue of an M/M/c queue (Erlang C)."""
    a = lam / mu
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


def test_pollbook_line_mean_wait_matches_erlang_c(training_dict):
    # M/M/3 at rho = 0.6 over 100 precinct-days of 23 hours (polls 00:00-23:00), so the sample
    # is large enough for the 5 % bound: across seeds the relative error has sd of about 2 %.
    lam, mean_service, c, hours = 1.2, 1.5, 3, 23
    precinct = dict(training_dict["precincts"][0])
    precinct["registered_voters"] = int(lam * 60 * hours)
    precinct["turnout"] = 1.0
    precinct["roll"] = {k: 0.0 for k in ("inactive", "not_on_roll", "wrong_precinct", "no_photo_id", "new_registrant", "restored")}
    precinct["needs"] = {"audio": 0.0, "language": 0.0}
    precinct["equipment"] = {"kind": "dre", "pollbook": "electronic", "pollbook_stations": c, "dre_units": 100}
    scenario = scenario_from(
        training_dict,
        polls={"open": "00:00", "close": f"{hours:02d}:00"},
        precincts=[{**precinct, "id": f"p{k}"} for k in range(100)],
        arrivals={"hourly_shares": [1.0] * hours, "before_opening_share": 0.0},
        service_times={
            "checkin_electronic": {"distribution": "exponential", "mean": mean_service},
            "walk": {"distribution": "constant", "mean": 0.0},
        },
    )
    run = run_election_day(scenario, seed=2026)
    waits = []
    for p in run.precincts:
        v = p.voters
        steady = (v["arrival"] >= 60) & (v["arrival"] < (hours - 1) * 60)  # skip warm-up and the close
        waits.append(v["checkin_start"][steady] - v["arrival"][steady])
        assert (v["outcome"] == Outcome.REGULAR).all()
    measured = float(np.concatenate(waits).mean())
    expected = erlang_c_wait(lam, 1 / mean_service, c)
    assert abs(measured - expected) / expected < 0.05, (measured, expected)


def test_erlang_c_formula_matches_a_textbook_value():
    # M/M/1 special case: Wq = rho / (mu - lam)
    assert math.isclose(erlang_c_wait(0.5, 1.0, 1), 1.0)
    # M/M/2 with a = 1.5: P(wait) = 4.5 / 7, Wq = P / (2 mu - lam)
    assert math.isclose(erlang_c_wait(1.5, 1.0, 2), (4.5 / 7) / 0.5)
