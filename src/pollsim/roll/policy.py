"""What a suffrage law does: the same population under the earlier law and the 2024 bill, side by side.

For every election recorded, every county and the state: each measure of
:data:`pollsim.roll.vote.METRICS` (registrants by status; eligible voters inactive or off the roll;
deadwood by cause and age; notices sent and answered; removals by reason; ballots by how the poll
manager found the voter, affidavit ballots by reason, and those cast by people whose sentence is
complete) under each law, and the difference (2024 bill minus earlier law). The two runs share the
seed, so they are the same people making the same choices until the 2024 bill takes effect; every
difference after that is the law's.
"""

from __future__ import annotations

import numpy as np

from pollsim.files import csv_text
from pollsim.roll.run import RollRun
from pollsim.roll.vote import METRICS

HEADLINE = ("active", "inactive", "restored", "barred_residents", "eligible_off_roll", "restored_off_roll", "deadwood_barred",
            "affidavit", "affidavit_not_on_roll", "affidavit_completed_sentence", "restored_regular", "removed_felony", "reinstated")  # fmt: skip
"""The measures printed by ``pollsim roll simulate --compare`` (all are in policy.csv)."""


def policy_rows(before: RollRun, bill: RollRun) -> list[list[object]]:
    """Rows ``election, county, measure, pre2024, 2024, difference`` (county ``statewide`` for the sum)."""
    rows: list[list[object]] = []
    for a, b in zip(before.records, bill.records, strict=True):
        names = [*before.geo.names, "statewide"]
        ma = np.vstack([a.metrics, a.metrics.sum(axis=0)])
        mb = np.vstack([b.metrics, b.metrics.sum(axis=0)])
        for c, county in enumerate(names):
            for k, measure in enumerate(METRICS):
                x, y = int(ma[c, k]), int(mb[c, k])
                rows.append([a.election.iso, county, measure, x, y, y - x])
    return rows


def policy_csv(before: RollRun, bill: RollRun) -> str:
    return csv_text(["election", "county", "measure", "pre2024", "2024", "difference"], policy_rows(before, bill))


def headline(before: RollRun, bill: RollRun, elections: int = 4) -> str:
    """The statewide headline measures at the last ``elections`` elections, as a text table."""
    recs = list(zip(before.records, bill.records, strict=True))[-elections:]
    head = ["measure (statewide)", *(f"{a.election.iso} pre2024 / 2024" for a, _ in recs)]
    body = []
    for measure in HEADLINE:
        k = METRICS.index(measure)
        body.append([measure, *(f"{int(a.metrics[:, k].sum()):,} / {int(b.metrics[:, k].sum()):,}" for a, b in recs)])
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [head, *body]) + "\n"


__all__ = ["HEADLINE", "headline", "policy_csv", "policy_rows"]
