"""The law's dates: in-person absentee voting ends at noon on the Saturday before (§23-15-637(1)(b)),
mail counts if received within five business days after election day (§23-15-637(1)(a)), business
days skip the legal holidays of §3-3-7.

Expected dates are read off the calendar by hand, and the 2020 ones are the ones the Secretary of
State published (in-person voting ended Saturday 31 October 2020; mail postmarked by 3 November and
received within five business days: by Tuesday 10 November).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from pollsim.absentee import business_days_after, in_person_deadline, legal_holidays, mail_deadline
from pollsim.absentee.calendar import DAY, WorkHours

D = dt.date


@pytest.mark.parametrize(
    ("election", "saturday", "deadline"),
    [
        (D(2020, 11, 3), D(2020, 10, 31), D(2020, 11, 10)),  # Wed 4, Thu 5, Fri 6, Mon 9, Tue 10
        (D(2024, 11, 5), D(2024, 11, 2), D(2024, 11, 13)),  # Mon 11 Nov is Veterans Day: Wed 6 .. Fri 8, Tue 12, Wed 13
        (D(2023, 11, 21), D(2023, 11, 18), D(2023, 11, 29)),  # Thu 23 Thanksgiving: Wed 22, Fri 24, Mon 27, Tue 28, Wed 29
        (D(2019, 11, 5), D(2019, 11, 2), D(2019, 11, 13)),  # Veterans Day on Monday 11 Nov 2019
    ],
)
def test_the_deadlines_of_a_tuesday_election(election, saturday, deadline):
    assert in_person_deadline(election) == saturday and saturday.weekday() == 5
    assert mail_deadline(election) == deadline


def test_business_days_skip_weekends_and_legal_holidays():
    assert business_days_after(D(2020, 11, 3), 5) == [D(2020, 11, 4), D(2020, 11, 5), D(2020, 11, 6), D(2020, 11, 9), D(2020, 11, 10)]
    assert business_days_after(D(2020, 12, 23), 2) == [D(2020, 12, 24), D(2020, 12, 28)]  # Christmas Day a Friday


def test_legal_holidays_of_section_3_3_7():
    h = legal_holidays(2020)
    assert {D(2020, 1, 1), D(2020, 1, 20), D(2020, 2, 17), D(2020, 4, 27), D(2020, 5, 25), D(2020, 7, 4), D(2020, 9, 7), D(2020, 11, 11), D(2020, 11, 26), D(2020, 12, 25)} == set(h)
    assert D(2021, 7, 5) in legal_holidays(2021)  # 4 July 2021 was a Sunday: kept on the Monday


def test_work_hours_turn_working_minutes_into_the_clock():
    hours = WorkHours(D(2020, 11, 3), 7 * 60.0, 24 * 60.0, 8 * 60.0, 17 * 60.0)
    first = 17 * 60.0  # election day 07:00-24:00
    assert hours.clock(0.0)[0] == 7 * 60
    assert hours.clock(first)[0] == 24 * 60  # the end of election night
    assert hours.clock(first + 1.0)[0] == DAY + 8 * 60 + 1  # Wednesday 08:01
    assert hours.clock(first + 9 * 60 * 3 + 30)[0] == 6 * DAY + 8 * 60 + 30  # Mon 9 Nov 08:30 (weekend skipped)
    assert hours.work_at(DAY + 9 * 60) == first + 60
    assert np.array_equal(hours.day_of(np.array([8 * 60.0, DAY + 10 * 60, 6 * DAY + 9 * 60])), [0, 1, 4])
