"""Post-election reconciliation and audit selection under Miss. Code §23-15-615.

The six totals per precinct and the checks between them (:mod:`.totals`), the §615(4)
threshold (:mod:`.threshold`), and the Secretary of State's county audit selection
(:mod:`.selection`). The stage's front door is :func:`reconcile_precincts` (counts in, a
:class:`ReconciliationReport` out); :mod:`.report` also keeps it live on election night.
"""

from pollsim.reconcile.report import LiveReconciliation, ReconciliationReport, flags_at_publications, reconcile_precincts
from pollsim.reconcile.selection import deadlines, rotation, select_audits
from pollsim.reconcile.threshold import threshold, thresholds
from pollsim.reconcile.totals import CHECKS, TOTALS, PrecinctCounts, Reconciliation, reconcile

__all__ = [
    "CHECKS", "TOTALS", "LiveReconciliation", "PrecinctCounts", "Reconciliation", "ReconciliationReport", "deadlines",
    "flags_at_publications", "reconcile", "reconcile_precincts", "rotation", "select_audits", "threshold", "thresholds",
]  # fmt: skip
