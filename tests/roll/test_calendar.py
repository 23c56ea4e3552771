"""The calendar the roll lives by: election days, book closing, legal holidays, the 90-day freeze.

Expected dates are Mississippi's real ones (Secretary of State election calendars), not the
code's arithmetic: e.g. the 2020 general's registration deadline was Monday 5 October 2020.
"""

from __future__ import annotations

import numpy as np
import pytest

from pollsim.roll.calendar import NEVER, NO_DATE, Calendar, day, is_holiday, iso, latest_plus_years_at_most, plus_years, registration_deadline, scheduled_elections
from pollsim.roll.table import Roll, Status

ELECTIONS = scheduled_elections(2016, 2028)


@pytest.mark.parametrize("date", ["2016-03-08", "2016-11-08", "2018-06-05", "2018-11-06", "2019-08-06", "2019-11-05", "2020-03-10",
                                  "2020-11-03", "2022-06-07", "2022-11-08", "2023-08-08", "2023-11-07", "2024-03-12", "2024-11-05"])  # fmt: skip
def test_mississippi_election_days_of_2016_to_2024_are_scheduled(date):
    assert date in {e.iso for e in ELECTIONS}


def test_federal_generals_and_the_governors_election_are_told_apart():
    kinds = {e.iso: (e.federal, e.federal_general, e.governor) for e in ELECTIONS}
    assert kinds["2020-11-03"] == (True, True, False)
    assert kinds["2022-06-07"] == (True, False, False)  # congressional primaries start the freeze
    assert kinds["2023-11-07"] == (False, False, True)
    assert kinds["2023-08-08"] == (False, False, False)


@pytest.mark.parametrize(("election", "deadline"), [
    ("2020-11-03", "2020-10-05"),  # the 30th day is Sunday 4 Oct: Monday counts
    ("2024-11-05", "2024-10-07"),
    ("2023-11-07", "2023-10-09"),
    ("2023-08-08", "2023-07-10"),
])  # fmt: skip
def test_registration_deadlines_of_real_elections(election, deadline):
    assert iso(registration_deadline(day(election))) == deadline


def test_a_sunday_thirtieth_day_followed_by_a_monday_holiday_moves_to_tuesday():
    # 2021-02-16: the 30th day before is Sunday 17 January; Monday 18 January is King/Lee day
    assert iso(registration_deadline(day("2021-02-16"))) == "2021-01-19"
    # 2020-06-23: Sunday 24 May, then Memorial Day
    assert iso(registration_deadline(day("2020-06-23"))) == "2020-05-26"
    # 2027-08-03: Sunday 4 July, kept as a holiday on Monday 5 July (§3-3-7)
    assert is_holiday(day("2027-07-05"))
    assert iso(registration_deadline(day("2027-08-03"))) == "2027-07-06"


def test_a_holiday_on_a_weekday_or_friday_moves_to_the_next_business_day_and_a_saturday_stands():
    assert iso(registration_deadline(day("2020-10-07"))) == "2020-09-08"  # Labor Day, Monday 7 September
    assert iso(registration_deadline(day("2022-12-11"))) == "2022-11-14"  # Veterans Day, Friday 11 November
    assert iso(registration_deadline(day("2020-11-02"))) == "2020-10-03"  # a Saturday is not moved
    assert iso(registration_deadline(day("2020-11-04"))) == "2020-10-05"  # an ordinary Monday


def test_the_pollbook_lists_a_registration_of_the_deadline_day_and_not_of_the_day_after():
    deadline = registration_deadline(day("2020-11-03"))
    r = Roll(3)
    r.status[:] = Status.ACTIVE
    r.reg_date[:] = [deadline - 1, deadline, deadline + 1]
    assert r.listed(deadline).tolist() == [True, True, False]


def test_the_ninety_day_freeze_before_a_federal_election():
    cal = Calendar(ELECTIONS)
    e = day("2020-11-03")
    assert not cal.frozen(e - 90)  # a programme completed on the 90th day before is in time
    assert cal.frozen(e - 89)
    assert cal.frozen(e)
    assert not cal.frozen(e + 1)
    assert cal.frozen(day("2022-06-07") - 1)  # congressional primaries are federal elections
    assert not cal.frozen(day("2023-11-07") - 10)  # the governor's election is not


def test_federal_generals_counted_strictly_before_a_day():
    cal = Calendar(ELECTIONS)
    assert cal.generals_before(day("2020-11-03")) == (day("2018-11-06"), day("2016-11-08"))
    assert cal.generals_before(day("2020-11-04")) == (day("2020-11-03"), day("2018-11-06"))
    after = np.array([day("2016-11-08"), day("2016-11-07")])
    assert cal.count_between(cal.generals, after, day("2018-11-06")).tolist() == [1, 2]


def test_six_years_later_is_the_same_day_and_29_february_falls_back():
    d = np.array([day("2018-04-01"), day("2020-02-29"), day("2019-12-31")])
    assert [iso(x) for x in plus_years(d, 6)] == ["2024-04-01", "2026-02-28", "2025-12-31"]


@pytest.mark.parametrize("years", [2, 3, 6])
def test_plus_years_at_most_a_day_is_one_comparison(years):
    # the clerk's rules ask "is plus_years(d, k) on or before t?" of millions of rows: it must be exactly
    # "is d on or before latest_plus_years_at_most(t, k)?", for every day, 29 February included
    d = np.concatenate([np.arange(day("1995-01-01"), day("2045-01-01")), [NO_DATE, NEVER]]).astype(np.int32)
    for t in [*range(day("2016-01-01"), day("2030-01-01"), 37), day("2024-02-29"), day("2026-02-28"), day("2026-03-01")]:
        assert ((plus_years(d, years) <= t) == (d <= latest_plus_years_at_most(t, years))).all(), iso(t)
    assert iso(latest_plus_years_at_most(day("2026-02-28"), 6)) == "2020-02-29"  # 29 February 2020 + 6 years: 28 February 2026
