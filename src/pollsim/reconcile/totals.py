"""The six totals of §23-15-615(1) per precinct, and the checks between them.

Within 10 days of the election each county registrar reports, per precinct:

- (a) voters marked VOTED in the pollbook;
- (b) voters who signed the receipt book on election day, plus voters who voted absentee;
- (c) ballots the poll managers received from the local election officials;
- (d) paper ballots voted on election day + unused ballots + spoiled ballots;
- (e) electronic ballots cast (the DRE units' public counters);
- (f) total ballots cast: the ballots in the tabulated results (DRE and scanned ballots) plus
  the absentee ballots tabulated on the county's absentee equipment. Affidavit ballots are
  examined by the commissioners later and are reported separately, so they are in neither (a),
  (b) nor (f).

The absentee part of (b) is the voters the resolution board entered in the receipt book
(§23-15-639: an accepted ballot goes into the box and the voter's name into the receipt book);
the absentee part of (f) is the absentee ballots in the count. The two differ when absentee
handling goes wrong: an envelope's ballot fed through the scanner twice, a box never counted.

The statute speaks of "the difference between the reported totals" without naming pairs; pollsim
compares the pairs that catch real poll-worker and device errors (rationale in
docs/reconciliation.md):

- ``pollbook_vs_receipt_book``: (a) - (b). A voter not marked VOTED, or a voter who did not sign.
- ``ballots_received_vs_accounted``: (c) - (d). Stock miscounted, a spoiled ballot not
  recorded, a paper ballot lost.
- ``voters_vs_ballots``: (a) + absentee - (f). Voters who got a ballot against ballots counted:
  a pollbook not marked, a ballot lost before it was counted.
- ``ballots_vs_counters``: (f) - absentee counted - (e) - scanner public counters. The tabulated
  results against the devices' own counters: a public counter glitch.
- ``absentee_receipts_vs_counted``: absentee voters in the receipt book - absentee ballots counted:
  a ballot counted twice, a box left uncounted.

A check is flagged when its absolute difference meets or exceeds the precinct's §615(4)
threshold, computed from (f). Everything is vectorized over precincts: one numpy array per total.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from pollsim.reconcile.threshold import thresholds

TOTALS = ("a_pollbook_voted", "b_receipt_book_plus_absentee", "c_ballots_received", "d_paper_voted_unused_spoiled", "e_electronic_cast", "f_total_cast")
CHECKS = ("pollbook_vs_receipt_book", "ballots_received_vs_accounted", "voters_vs_ballots", "ballots_vs_counters", "absentee_receipts_vs_counted")


@dataclass
class PrecinctCounts:
    """What the reports are computed from, one array entry per precinct (all ``int64``).

    ``absentee``: absentee voters the resolution board entered in the receipt book;
    ``absentee_tabulated``: absentee ballots in the count (None: the same as ``absentee``).
    """

    pollbook_voted: np.ndarray
    receipt_signatures: np.ndarray
    absentee: np.ndarray
    ballots_received: np.ndarray
    paper_voted: np.ndarray
    paper_unused: np.ndarray
    paper_spoiled: np.ndarray
    dre_public: np.ndarray
    scanner_public: np.ndarray
    tabulated: np.ndarray  # ballots in the tabulated results (CVRs), absentee excluded
    absentee_tabulated: np.ndarray | None = None

    def filled(self) -> PrecinctCounts:
        """These counts with ``absentee_tabulated`` given (the receipt-book count where it was left out)."""
        if self.absentee_tabulated is not None:
            return self
        return dataclasses.replace(self, absentee_tabulated=self.absentee)


@dataclass
class Reconciliation:
    """The six totals, each check's difference, the thresholds and the flags, per precinct."""

    totals: dict[str, np.ndarray]
    differences: dict[str, np.ndarray]
    threshold: np.ndarray
    flags: dict[str, np.ndarray]

    @property
    def flagged(self) -> np.ndarray:
        """Precincts with at least one check at or over threshold."""
        out = np.zeros(len(self.threshold), bool)
        for f in self.flags.values():
            out |= f
        return out


def reconcile(c: PrecinctCounts) -> Reconciliation:
    counted = c.absentee if c.absentee_tabulated is None else c.absentee_tabulated
    totals = {
        "a_pollbook_voted": c.pollbook_voted,
        "b_receipt_book_plus_absentee": c.receipt_signatures + c.absentee,
        "c_ballots_received": c.ballots_received,
        "d_paper_voted_unused_spoiled": c.paper_voted + c.paper_unused + c.paper_spoiled,
        "e_electronic_cast": c.dre_public,
        "f_total_cast": c.tabulated + counted,
    }
    totals = {k: np.asarray(v, np.int64) for k, v in totals.items()}
    diffs = {
        "pollbook_vs_receipt_book": totals["a_pollbook_voted"] + c.absentee - totals["b_receipt_book_plus_absentee"],
        "ballots_received_vs_accounted": totals["c_ballots_received"] - totals["d_paper_voted_unused_spoiled"],
        "voters_vs_ballots": totals["a_pollbook_voted"] + c.absentee - totals["f_total_cast"],
        "ballots_vs_counters": totals["f_total_cast"] - counted - totals["e_electronic_cast"] - c.scanner_public,
        "absentee_receipts_vs_counted": np.asarray(c.absentee - counted, np.int64),
    }
    limit = thresholds(totals["f_total_cast"])
    flags = {k: np.abs(v) >= limit for k, v in diffs.items()}
    return Reconciliation(totals, diffs, limit, flags)


def counts_from_results(precincts, absentee: np.ndarray | None = None, absentee_tabulated: np.ndarray | None = None) -> PrecinctCounts:
    """The counts behind the reports, from the day's :class:`~pollsim.precinct.PrecinctResult` list and,
    with absentee voting, each precinct's absentee receipt-book entries and absentee ballots counted."""
    acc = [p.accounting for p in precincts]
    absentee = np.asarray(absentee, np.int64) if absentee is not None else np.zeros(len(acc), np.int64)
    col = lambda f: np.array([f(a) for a in acc], np.int64)  # noqa: E731
    scanner = np.array([sum(d.public_count for d in p.devices if d.kind == "scan-single") for p in precincts], np.int64)
    dre = np.array([sum(d.public_count for d in p.devices if d.kind == "dre") for p in precincts], np.int64)
    return PrecinctCounts(
        pollbook_voted=col(lambda a: a.pollbook_marked_voted),
        receipt_signatures=col(lambda a: a.receipt_book_signatures),
        absentee=absentee,
        ballots_received=col(lambda a: a.ballots_received),
        paper_voted=col(lambda a: a.paper_ballots_voted),
        paper_unused=col(lambda a: a.paper_ballots_unused),
        paper_spoiled=col(lambda a: a.paper_ballots_spoiled),
        dre_public=dre,
        scanner_public=scanner,
        tabulated=np.array([p.ballots_cast for p in precincts], np.int64),
        absentee_tabulated=np.asarray(absentee_tabulated, np.int64) if absentee_tabulated is not None else absentee.copy(),
    )
