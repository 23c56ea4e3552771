"""Post-election reconciliation and audit selection under Miss. Code §23-15-615.

The six totals per precinct and the checks between them (:mod:`.totals`), the §615(4)
threshold (:mod:`.threshold`), and the Secretary of State's county audit selection
(:mod:`.selection`).
"""

from pollsim.reconcile.selection import deadlines, rotation, select_audits
from pollsim.reconcile.threshold import threshold, thresholds
from pollsim.reconcile.totals import CHECKS, TOTALS, PrecinctCounts, Reconciliation, reconcile

__all__ = ["CHECKS", "TOTALS", "PrecinctCounts", "Reconciliation", "deadlines", "reconcile", "rotation", "select_audits", "threshold", "thresholds"]
