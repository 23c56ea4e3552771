"""List maintenance on hand-made people, one rule at a time, at the dates where each rule turns.

Each test puts people with a known history into an otherwise empty county and lets the clerk's
calendar run: the systematic programme runs on the first of each month outside the 90-day freeze
(April 2020 is the first such month of 2020: the 10 March primary freezes January to March).
"""

from __future__ import annotations

import numpy as np

from pollsim.roll.calendar import NO_DATE, Calendar, day, plus_years, scheduled_elections
from pollsim.roll.maintenance import no_vote_cutoff
from pollsim.roll.table import AWAY, Notice, Reason, Status

from .conftest import Clerk


def test_no_vote_notice_after_two_years_with_a_governors_and_a_federal_general(clerk: Clerk):
    since_2016 = clerk.add(last_vote="2016-11-08", activity="2016-11-08")
    since_2018 = clerk.add(last_vote="2018-11-06", activity="2018-11-06")
    clerk.run_to("2020-03-31")
    assert clerk.status[since_2016] == Status.ACTIVE  # January-March 2020 are frozen
    clerk.run_to("2020-04-01")
    assert clerk.status[since_2016] == Status.INACTIVE
    assert clerk.notice_date[since_2016] == day("2020-04-01") and clerk.notice_reason[since_2016] == Notice.NONVOTING
    assert clerk.status[since_2018] == Status.ACTIVE  # not two years yet (that comes on 2020-11-06)
    clerk.run_to("2020-12-31")
    assert clerk.status[since_2018] == Status.ACTIVE  # the no-vote scan runs once a year
    clerk.run_to("2021-01-01")
    assert clerk.status[since_2018] == Status.INACTIVE and clerk.notice_date[since_2018] == day("2021-01-01")


def test_no_vote_notice_after_three_years_with_two_federal_generals():
    c = Clerk(last="2024-12-31")
    # voted at the 2019 governor's election: the 2-year rule needs another governor's election (2023),
    # the 3-year rule two federal generals after it: 2020 and 2022, so 2023's scan
    row = c.add(last_vote="2019-11-05", activity="2019-11-05")
    c.run_to("2022-12-31")
    assert c.status[row] == Status.ACTIVE
    c.run_to("2023-01-01")
    assert c.status[row] == Status.INACTIVE and c.notice_date[row] == day("2023-01-01")


def test_a_voter_who_votes_is_not_sent_a_no_vote_notice(clerk: Clerk):
    voter = clerk.add(latent=50.0, last_vote="2016-11-08", activity="2016-11-08")
    clerk.run_to("2021-06-30")
    assert clerk.status[voter] == Status.ACTIVE
    assert clerk.last_vote[voter] == day("2020-11-03")


def test_no_notice_for_the_same_trigger_within_six_years(clerk: Clerk):
    just_in_time = clerk.add(latent=50.0)
    one_day_short = clerk.add(latent=50.0)
    clerk.last_notice[just_in_time, Notice.NCOA - 1] = day("2018-04-01")
    clerk.last_notice[one_day_short, Notice.NCOA - 1] = day("2018-04-02")
    other_trigger = clerk.add(latent=50.0)
    clerk.last_notice[other_trigger, Notice.NONVOTING - 1] = day("2023-01-01")
    clerk.run_to("2024-03-15")
    for row in (just_in_time, one_day_short, other_trigger):
        clerk.queue(row, Notice.NCOA)
    clerk.run_to("2024-04-01")
    assert clerk.status[just_in_time] == Status.INACTIVE and clerk.notice_date[just_in_time] == day("2024-04-01")
    assert clerk.status[one_day_short] == Status.ACTIVE  # 2024-04-01 is within six years of 2018-04-02
    assert clerk.pending[one_day_short] == 0  # and the trigger is not kept for later
    assert clerk.status[other_trigger] == Status.INACTIVE  # a notice for another trigger does not count


def test_notices_wait_out_the_ninety_days_before_a_federal_election(clerk: Clerk):
    early, late = clerk.add(latent=50.0), clerk.add(latent=50.0)
    clerk.run_to("2020-07-20")
    clerk.queue(early, Notice.MOVE_INFO)
    clerk.run_to("2020-08-01")  # 3 November - 90 = 5 August: 1 August is in time
    assert clerk.notice_date[early] == day("2020-08-01")
    clerk.queue(late, Notice.MOVE_INFO)
    clerk.run_to("2020-11-30")
    assert clerk.status[late] == Status.ACTIVE
    clerk.run_to("2020-12-01")
    assert clerk.notice_date[late] == day("2020-12-01")


def test_removal_when_a_notice_is_neither_answered_nor_followed_by_a_vote_through_two_federal_generals(clerk: Clerk):
    before_2018 = clerk.add(status=Status.INACTIVE, notice_date="2018-11-05", notice_reason=Notice.NCOA)
    on_2018 = clerk.add(status=Status.INACTIVE, notice_date="2018-11-06", notice_reason=Notice.NCOA)
    voted = clerk.add(status=Status.INACTIVE, notice_date="2017-03-01", notice_reason=Notice.NCOA, latent=50.0)
    clerk.run_to("2020-11-30")
    assert clerk.status[before_2018] == Status.INACTIVE  # two generals have passed, but not outside the freeze
    clerk.run_to("2020-12-01")
    assert clerk.status[before_2018] == Status.REMOVED and clerk.removed_reason[before_2018] == Reason.NO_RESPONSE
    assert clerk.removed_date[before_2018] == day("2020-12-01")
    assert clerk.status[on_2018] == Status.INACTIVE  # the 2018 general is not after its notice
    assert clerk.status[voted] == Status.ACTIVE and clerk.notice_date[voted] == NO_DATE  # a vote answers the notice
    clerk.run_to("2022-12-01")
    assert clerk.status[on_2018] == Status.REMOVED and clerk.removed_date[on_2018] == day("2022-12-01")


def test_removed_records_are_kept_for_two_federal_generals(clerk: Clerk):
    kept = clerk.add(status=Status.REMOVED, removed_date="2020-11-04", removed_reason=Reason.DEATH)
    older = clerk.add(status=Status.REMOVED, removed_date="2020-11-02", removed_reason=Reason.REQUEST)
    clerk.run_to("2022-11-08")
    assert clerk.status[older] == Status.REMOVED  # kept through the 2020 and 2022 generals
    clerk.run_to("2022-12-01")
    assert clerk.status[older] == Status.PURGED and clerk.removed_reason[older] == Reason.REQUEST
    assert clerk.status[kept] == Status.REMOVED
    clerk.run_to("2024-11-05")
    assert clerk.status[kept] == Status.REMOVED
    clerk.run_to("2024-12-01")
    assert clerk.status[kept] == Status.PURGED


def test_a_reported_death_removes_the_record_even_in_the_freeze(clerk: Clerk):
    row = clerk.add(death="2020-08-20", death_learned="2020-09-15")
    clerk.run_to("2020-09-30")
    assert clerk.status[row] == Status.ACTIVE
    clerk.run_to("2020-10-01")
    assert clerk.status[row] == Status.REMOVED and clerk.removed_reason[row] == Reason.DEATH
    assert clerk.removed_date[row] == day("2020-10-01")


def test_a_death_no_source_reports_stays_on_the_roll_until_the_notice_runs_its_course(clerk: Clerk):
    row = clerk.add(death="2019-02-01", last_vote="2018-11-06", activity="2018-11-06")
    clerk.run_to("2021-01-01")
    assert clerk.status[row] == Status.INACTIVE and clerk.notice_reason[row] == Notice.NONVOTING
    clerk.run_to("2024-12-01")  # notice 2021-01-01; generals 2022 and 2024
    assert clerk.status[row] == Status.REMOVED and clerk.removed_reason[row] == Reason.NO_RESPONSE


def test_answers_to_a_notice(clerk: Clerk):
    from dataclasses import replace

    c = Clerk(rates=replace(clerk.sim.rates, answers_resident=1.0, answers_moved_away=1.0, answer_days=1.0))
    here = c.add(latent=50.0)
    gone = c.add(latent=-50.0, home=AWAY)
    c.run_to("2021-03-01")
    c.queue(here, Notice.NCOA)
    c.queue(gone, Notice.NCOA)
    c.run_to("2021-04-01")
    assert c.status[here] == Status.INACTIVE and c.status[gone] == Status.INACTIVE
    c.run_to("2021-05-01")
    assert c.status[here] == Status.ACTIVE
    assert c.status[gone] == Status.REMOVED and c.removed_reason[gone] == Reason.REQUEST


def test_a_registration_after_the_books_close_is_not_in_that_pollbook():
    from pollsim.roll.vote import hold_election

    c = Clerk()
    on_time = c.add(status=Status.UNREGISTERED, reg_date=2**31 - 1, apply="2020-10-05")
    late = c.add(status=Status.UNREGISTERED, reg_date=2**31 - 1, apply="2020-10-06")
    seen = {}
    c.sim.run(lambda s, e: seen.setdefault(e.iso, s.roll.listed(e.deadline)[[on_time, late]].tolist()), until=day("2020-11-03"))
    assert seen["2020-11-03"] == [True, False]
    assert c.status[late] == Status.ACTIVE and c.reg_date[late] == day("2020-10-06")
    assert hold_election  # the election itself runs after the pollbook is printed


def test_the_no_vote_scan_is_both_rules_as_written():
    # no vote in 3 years including 2 federal generals, or in 2 years including a governor's and a federal
    # general election (counted after the last activity): the scan's one date must say the same for every day
    cal = Calendar(scheduled_elections(2014, 2040))
    since = np.concatenate([np.arange(day("2012-01-01"), day("2038-01-01"), 3), [NO_DATE]]).astype(np.int32)
    for t in range(day("2016-01-01"), day("2039-01-01"), 29):
        generals = cal.count_between(cal.generals, since, t)
        three = (plus_years(since, 3) <= t) & (generals >= 2)
        two = (plus_years(since, 2) <= t) & (generals >= 1) & (cal.count_between(cal.governors, since, t) >= 1)
        rules = (since <= t - 730) & (three | two)
        last = no_vote_cutoff(cal, t)
        assert (rules == (since <= last if last is not None else False)).all(), t
    assert no_vote_cutoff(Calendar(scheduled_elections(2020, 2030)), day("2021-01-01")) is None  # one federal general: nobody yet
