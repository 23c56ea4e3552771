"""The §23-15-615(4) threshold table, at every boundary, as the statute is written."""

import numpy as np
import pytest

from pollsim.reconcile.threshold import threshold, thresholds


@pytest.mark.parametrize(
    ("votes", "expected"),
    [(0, 1), (20, 1), (21, 2), (40, 2), (41, 3), (60, 3), (61, 4), (80, 4), (81, 3), (100, 3), (101, 4), (133, 4), (134, 5), (500, 15), (501, 15), (5015, 15)],
)
def test_threshold_table(votes, expected):
    assert threshold(votes) == expected


def test_the_table_is_not_monotonic_at_80_81_as_written():
    assert threshold(80) == 4 and threshold(81) == 3


def test_three_percent_is_rounded_up_exactly():
    v = np.arange(81, 501)
    assert (thresholds(v) == [-(-3 * x // 100) for x in v]).all()
    assert threshold(300) == 9 and threshold(301) == 10  # 9.00 -> 9, 9.03 -> 10


def test_negative_totals_are_refused():
    with pytest.raises(ValueError):
        threshold(-1)
