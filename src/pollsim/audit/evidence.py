"""What each kind of paper lets an audit do: evidence per device type (§23-15-617.2, "widely
accepted statistical methods"; issue 16, item 3).

Which audit a stretch of paper supports is a property of the equipment that made and counted it,
not of the audit software:

- **card**: every paper record can be tied to its own CVR (a ballot imprinted with the CVR's id
  by the scanner that counted it). Supports card-level comparison (Kaplan-Markov, ALPHA), and
  everything below.
- **batch**: the paper cannot be tied to individual CVRs, but the batch it lies in has its own
  reported tally (a device's results tape, a precinct, an absentee batch). Supports batch
  comparison (MACRO, batch-level ALPHA), ONEAudit (the batch is a pool), and ballot polling.
- **paper**: paper only, no usable tally for the batch. Supports ballot polling only.

The default table (:data:`EQUIPMENT`), as Mississippi's equipment works; change it per audit with
``overrides`` (``pollsim audit ... --evidence KIND=LEVEL``):

============================  ========  =====================================================
equipment                     evidence  why
============================  ========  =====================================================
``vvpat-roll``                batch     a DRE's voter-verified records on one continuous thermal
                                        roll (AccuVote TSx + AccuView); the unit's results tape
                                        is the batch tally
``precinct-scanner``          batch     a DS200-type precinct scanner without imprinting: its
                                        CVRs cannot be matched to the ballots in its box
``precinct-scanner-imprint``  card      the same scanner printing each ballot's CVR id on it
``bmd-card``                  batch     a BMD summary card: counted on the precinct scanner with
                                        the hand-marked ballots, so it is evidence of that box
``central-count-absentee``    batch     absentee ballots counted in batches by the resolution
                                        board; each batch has a tally
``central-count-imprint``     card      central-count scanner that imprints each ballot
============================  ========  =====================================================

A run's devices map to equipment by their ``devices.csv`` kind (:data:`DEVICE_EQUIPMENT`:
``dre`` -> ``vvpat-roll``, ``scan-single`` -> ``precinct-scanner``, ``bmd`` -> ``bmd-card``);
BMD cards are tabulated by the precinct scanner, so their ballots lie in the scanner's batch and
take its evidence. A device of unknown kind has a results tape: ``batch``. pollsim's own DRE
stores its CVRs in cast order, the order of the VVPAT roll, so ``--evidence vvpat-roll=card``
models a roll whose records are matched to CVRs by their position on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from pollsim.audit.ballots import RunBallots
from pollsim.audit.errors import AuditError

LEVELS = ("card", "batch", "paper")
EQUIPMENT: dict[str, tuple[str, str]] = {
    "vvpat-roll": ("batch", "DRE voter-verified records on one continuous roll; the unit's results tape is the batch tally"),
    "precinct-scanner": ("batch", "precinct scanner without imprinting: its CVRs cannot be matched to the ballots in its box"),
    "precinct-scanner-imprint": ("card", "precinct scanner that prints each ballot's CVR id on it"),
    "bmd-card": ("batch", "BMD summary card, counted on the precinct scanner with the hand-marked ballots"),
    "central-count-absentee": ("batch", "absentee ballots counted in batches by the resolution board, a tally per batch"),
    "central-count-imprint": ("card", "central-count scanner that imprints each ballot"),
    "unknown": ("batch", "a tabulating device of unknown kind: its results tape is the batch tally"),
}
DEVICE_EQUIPMENT = {"dre": "vvpat-roll", "scan-single": "precinct-scanner", "bmd": "bmd-card"}
METHODS = {
    "card": ("card-level comparison", "ONEAudit (own CVR)", "batch comparison", "ballot polling"),
    "batch": ("batch comparison", "ONEAudit (pool)", "ballot polling"),
    "paper": ("ballot polling",),
}


def parse_overrides(items: Iterable[str] | None) -> dict[str, str]:
    """``["precinct-scanner=card", ...]`` -> {equipment: level}; a device kind (``dre``,
    ``scan-single``, ``bmd``) stands for its equipment."""
    out: dict[str, str] = {}
    for item in items or ():
        name, sep, level = str(item).partition("=")
        name, level = name.strip(), level.strip()
        name = DEVICE_EQUIPMENT.get(name, name)
        if not sep or name not in EQUIPMENT or level not in LEVELS:
            raise AuditError(
                f"--evidence '{item}': expected EQUIPMENT=LEVEL with EQUIPMENT one of {', '.join(EQUIPMENT)} "
                f"(or a device kind: {', '.join(DEVICE_EQUIPMENT)}) and LEVEL one of {', '.join(LEVELS)}"
            )
        out[name] = level
    return out


def evidence_table(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Equipment -> evidence level: the default table with ``overrides`` applied."""
    table = {k: v[0] for k, v in EQUIPMENT.items()}
    for k, v in parse_overrides(f"{k}={v}" for k, v in (overrides or {}).items()).items():
        table[k] = v
    return table


@dataclass(frozen=True, eq=False)
class BatchEvidence:
    """Equipment and evidence level of every batch of a run (``ballots.batches`` order)."""

    table: dict[str, str]  # equipment -> level, as applied
    equipment: tuple[str, ...]  # per batch
    level: tuple[str, ...]  # per batch

    def mask(self, level: str) -> np.ndarray:
        """``bool[n_batches]``: batches at ``level``."""
        return np.array([x == level for x in self.level], bool)

    def summary(self, counts: np.ndarray) -> dict:
        """What the package records: the table and, per equipment in the run, batches and cards."""
        seen: dict[str, dict] = {}
        for eq, n in zip(self.equipment, np.asarray(counts).tolist(), strict=True):
            row = seen.setdefault(eq, {"evidence": self.table[eq], "batches": 0, "cards": 0})
            row["batches"] += 1
            row["cards"] += int(n)
        return {"table": dict(self.table), "equipment": {k: seen[k] for k in sorted(seen)}}


def batch_evidence(ballots: RunBallots, overrides: dict[str, str] | None = None) -> BatchEvidence:
    """The evidence of each batch (precinct x device) of a run under the table with ``overrides``."""
    table = evidence_table(overrides)
    b = ballots.batches
    equipment = []
    for key in b.keys.tolist():
        p, d = divmod(int(key), b.stride)
        kind = ballots.device_kinds.get((p, d), "")
        equipment.append(DEVICE_EQUIPMENT.get(kind, kind if kind in EQUIPMENT else "unknown"))
    return BatchEvidence(table, tuple(equipment), tuple(table[e] for e in equipment))


def require(evidence: BatchEvidence, allowed: tuple[str, ...], method: str, names: tuple[str, ...]) -> None:
    """Refuse a method that some batch's paper cannot support, naming the first such batch."""
    for name, eq, level in zip(names, evidence.equipment, evidence.level, strict=True):
        if level not in allowed:
            raise AuditError(
                f"{method} needs {' or '.join(allowed)} evidence, but batch '{name}' ({eq}) has '{level}' evidence; "
                f"choose another method or change the table with --evidence {eq}=LEVEL"
            )
