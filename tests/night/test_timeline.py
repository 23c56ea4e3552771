"""Election night: every card counted once, incidents handled as the county would, a reporting curve."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from pollsim.night import cards_of, night_seed, simulate_night
from pollsim.precinct.election_day import run_election_day
from pollsim.scenario import Scenario
from tests.conftest import SCENARIOS

QUIET = {"unreadable_card_rate": 0.0, "duplicate_card_rate": 0.0, "missing_card_rate": 0.0, "forged_result_rate": 0.0, "late_precinct_rate": 0.0}


@pytest.fixture(scope="module")
def county_run():
    d = yaml.safe_load((SCENARIOS / "ms-2020-general.yaml").read_text())
    d["mississippi"]["counties"] = ["Adams", "Amite"]
    return run_election_day(Scenario.model_validate(d), seed=2)


def night(run, **changes):
    spec = run.scenario.night.model_copy(update=changes)
    return simulate_night(run, night_seed(run.seed), spec)


def test_a_quiet_night_counts_every_ballot_and_reports_everything(county_run):
    n = night(county_run, **QUIET)
    assert n.counted_ballots == n.total_ballots == sum(p.ballots_cast for p in county_run.precincts)
    assert not n.missing_precincts and not n.incidents
    assert n.publications[-1, 1] == n.publications[-1, 2] == 1.0
    assert np.all(np.diff(n.publications[:, 2]) >= 0)  # the reporting curve never goes down
    t50, t90, t100 = (n.ballots_reported_by(s) for s in (0.5, 0.9, 1.0))
    assert 19 * 60 < t50 <= t90 <= t100
    closing = min(p.polls_closed for p in county_run.precincts)
    assert np.all(n.reported_at >= closing)


def test_a_card_delivered_twice_is_counted_once(county_run):
    n = night(county_run, **{**QUIET, "duplicate_card_rate": 1.0})
    assert n.counted_ballots == n.total_ballots
    assert sum(i["kind"] == "duplicate-card-ignored" for i in n.incidents) == len(cards_of(county_run))


def test_missing_cards_flag_their_precincts(county_run):
    n = night(county_run, **{**QUIET, "missing_card_rate": 1.0})
    assert n.counted_ballots == 0
    assert len(n.missing_precincts) == len(county_run.precincts)
    assert n.ballots_reported_by(1.0) is None


def test_results_failing_authentication_are_rejected_then_reread(county_run):
    n = night(county_run, **{**QUIET, "forged_result_rate": 1.0})
    rejected = [i for i in n.incidents if i["kind"] == "result-rejected"]
    assert len(rejected) == len(cards_of(county_run)) and {i["reason"] for i in rejected} == {"ForgedResult"}
    assert n.counted_ballots == n.total_ballots
    assert n.ballots_reported_by(1.0) > night(county_run, **QUIET).ballots_reported_by(1.0)


def test_an_unreadable_card_costs_a_hand_count_of_its_ballots(county_run):
    slow = night(county_run, **{**QUIET, "unreadable_card_rate": 1.0, "hand_count_share": 1.0, "hand_count_ballots_per_hour": 60.0})
    assert slow.counted_ballots == slow.total_ballots
    assert all(i["recovery"] == "hand count" for i in slow.incidents)
    card = max(cards_of(county_run), key=lambda c: c.ballots)
    # at 60 ballots an hour, the biggest card alone takes card.ballots minutes after the polls close
    assert slow.reported_at[card.precinct] >= county_run.precincts[card.precinct].polls_closed + card.ballots


def test_more_readers_never_report_later(county_run):
    one = night(county_run, **QUIET, readers_per_county=1)
    four = night(county_run, **QUIET, readers_per_county=4)
    assert np.all(four.reported_at <= one.reported_at + 1e-9)


def test_the_same_seed_gives_the_same_night(county_run):
    a, b = night(county_run), night(county_run)
    assert np.array_equal(a.reported_at, b.reported_at, equal_nan=True) and a.incidents == b.incidents
