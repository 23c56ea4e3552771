"""The §23-15-615(4) discrepancy threshold, exactly as the statute's table reads.

| total votes cast in the precinct | threshold |
|---|---|
| 0 to 20 | 1 |
| 21 to 40 | 2 |
| 41 to 60 | 3 |
| 61 to 80 | 4 |
| 81 to 500 | 3 % of total votes cast, rounded up to a whole number |
| more than 500 | 15 |

The table is not monotonic (61-80 votes give 4, 81 votes give ceil(2.43) = 3): implemented as
written. 3 % is computed in integers, ceil(3 v / 100), so no floating-point rounding can move a
boundary.
"""

from __future__ import annotations

import numpy as np


def threshold(total_votes: int) -> int:
    """The threshold for one precinct with ``total_votes`` votes cast."""
    return int(thresholds(np.array([total_votes]))[0])


def thresholds(total_votes: np.ndarray) -> np.ndarray:
    """The threshold for each precinct (vectorized)."""
    v = np.asarray(total_votes, np.int64)
    if (v < 0).any():
        raise ValueError("total votes cast cannot be negative")
    pct = -((-3 * v) // 100)  # ceil(3 v / 100)
    return np.select([v <= 20, v <= 40, v <= 60, v <= 80, v <= 500], [1, 2, 3, 4, pct], 15).astype(np.int64)
