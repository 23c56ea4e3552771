"""The canvass after election night (§23-15-573, §23-15-563, §23-15-603, SOS rule 1-17-2.3): each
affidavit ballot ruled on by its reason, the accepted ones counted, the results changing day by
day after election night, and every county certified by the deadline."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from pollsim.absentee import business_days_after
from pollsim.absentee.calendar import DAY, minutes
from pollsim.canvass import AFFIDAVIT_REJECTIONS, Group, acceptance_shares, run_canvass
from pollsim.canvass.affidavit import rule
from pollsim.election.roll import RollStatus
from pollsim.pipeline import run_election
from pollsim.scenario.canvass_spec import AffidavitRules
from tests.absentee.conftest import mississippi, with_absentee

S = RollStatus


def test_the_rules_by_reason():
    rng = np.random.default_rng(0)
    status = np.array([S.WRONG_PRECINCT, S.VOTED_AB, S.VOTED_AB, S.INACTIVE, S.NO_PHOTO_ID] * 2000, np.int8)
    known = np.where(np.arange(len(status)) % 5 == 1, 1, np.where(np.arange(len(status)) % 5 == 2, 0, -1)).astype(np.int8)
    everyone = AffidavitRules(inactive=1.0, not_on_roll=1.0, wrong_precinct=1.0, no_photo_id=1.0, new_registrant=1.0, voted_ab=1.0)
    accepted, reason = rule(rng, everyone, status, np.zeros(len(status)), known)
    assert not accepted[1::5].any() and (reason[1::5] == AFFIDAVIT_REJECTIONS.index("absentee_accepted")).all()  # absentee accepted: always rejected
    assert accepted[2::5].all() and accepted[0::5].all() and (reason[accepted] == -1).all()
    accepted, reason = rule(rng, AffidavitRules(), status, np.zeros(len(status)), known)
    assert not accepted[0::5].any() and (reason[0::5] == AFFIDAVIT_REJECTIONS.index("wrong_precinct")).all()  # §23-15-573: not entitled there
    assert abs(accepted[3::5].mean() - AffidavitRules().inactive) < 0.04
    assert (reason[4::5][~accepted[4::5]] == AFFIDAVIT_REJECTIONS.index("no_id_shown")).all()


def test_a_voted_ab_voters_absentee_outcome_is_drawn_from_the_absentee_stages_share():
    rng = np.random.default_rng(1)
    status = np.full(20_000, S.VOTED_AB, np.int8)
    accepted, reason = rule(rng, AffidavitRules(voted_ab=1.0), status, np.full(len(status), 0.3), np.full(len(status), -1, np.int8))
    assert abs((reason == AFFIDAVIT_REJECTIONS.index("absentee_accepted")).mean() - 0.3) < 0.02 and abs(accepted.mean() - 0.7) < 0.02
    assert acceptance_shares(AffidavitRules())[S.ACTIVE] == 1.0


@pytest.fixture(scope="module")
def county_run():
    return run_election(mississippi(["Adams", "Tunica"]), 2)


def test_affidavit_ballots_are_ruled_on_from_the_start_day_and_no_id_ballots_wait_five_business_days(county_run):
    cv, sc = county_run.canvass, county_run.day.scenario
    election = sc.election.date
    start = minutes(business_days_after(election, sc.canvass.affidavit_start_day)[-1], election, 8 * 60)
    sixth = minutes(business_days_after(election, 6)[-1], election, 8 * 60)
    assert len(cv.affidavit_status) == sum(len(p.affidavit) for p in county_run.day.precincts) > 0
    assert (cv.affidavit_decided >= start).all()
    no_id = cv.affidavit_status == S.NO_PHOTO_ID
    assert no_id.any() and (cv.affidavit_decided[no_id] >= sixth).all()  # §23-15-563: five business days to show the ID


def test_a_replay_precincts_accepted_affidavit_ballots_are_ruled_on_but_not_counted(county_run):
    cv = county_run.canvass
    assert cv.affidavit_accepted.any() and not cv.affidavit_counted.any()
    assert (cv.batches["group"] != Group.AFFIDAVIT).all()


def test_outside_a_replay_accepted_affidavit_ballots_are_counted_after_election_night(training_dict):
    run = run_election(with_absentee(training_dict, absentee_ballots=100), 4)
    cv = run.canvass
    assert np.array_equal(cv.affidavit_counted, cv.affidavit_accepted) and cv.affidavit_counted.any()
    aff = cv.batches[cv.batches["group"] == Group.AFFIDAVIT]
    assert aff["ballots"].sum() == cv.affidavit_counted.sum() and (aff["time"] > DAY).all()


def test_the_reporting_curve_runs_on_past_election_night_to_certification(county_run):
    cv, night = county_run.canvass, county_run.night
    t, share = cv.curve[:, 0], cv.curve[:, 1]
    assert np.all(np.diff(t) > 0) and np.all(np.diff(share) >= 0) and share[-1] == 1.0
    assert t[0] == night.publications[0, 0] and t[-1] == cv.certified_at.max()
    after_night = t > DAY
    assert after_night.any() and share[after_night].min() > share[~after_night].max()  # late mail, cured signatures
    total = sum(p.ballots_cast for p in county_run.day.precincts) + county_run.absentee.n_ballots + int(cv.affidavit_counted.sum())
    assert cv.batches["ballots"].sum() == total


def test_every_county_certifies_by_the_603_deadline_or_is_named_late(county_run):
    cv = county_run.canvass
    assert cv.deadline == minutes(dt.date(2020, 11, 13), dt.date(2020, 11, 3), DAY)  # 10 days after 3 November 2020
    assert (cv.certified_at <= cv.deadline).all() and cv.late_counties == []
    for k in range(len(cv.county_names)):
        assert cv.certified_at[k] >= cv.batches["time"][cv.batches["county"] == k].max()
    tight = mississippi(["Adams"], canvass={"deadline_days": 2})
    late = run_canvass(county_run.day, county_run.absentee, county_run.night, 2)
    assert late.late_counties == []  # the run's own scenario: 10 days
    assert run_election(tight, 2).canvass.late_counties == ["Adams"]
