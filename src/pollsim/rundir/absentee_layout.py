"""The run directory's absentee and canvass files: what goes in each (written by :mod:`.write`).

With absentee voting (§§23-15-621 ff.) and the canvass (§23-15-573, §23-15-603) a run also holds:

- ``absentee.npz``: every envelope (``envelope_*``: precinct, kind, reason, received, status,
  rejection, cured, processed, counted: the fields of
  :data:`pollsim.absentee.ENVELOPE_DTYPE`), the counted ballots' three layers (``intent``,
  ``paper``, ``cvr``: ``uint8[n, width]``, columns as ballots.npz) with ``precinct``, ``batch``
  and ``envelope`` (-1: a ballot fed through the scanner a second time), the batches
  (``batch_*``: county, number, ballots, day, ready, counted), per precinct ``applications``,
  ``sent``, ``not_returned``, ``receipt_entries``, ``voted_ab``, ``at_polls``,
  ``at_polls_accepted``, per county ``county_names``, ``scanner``, ``board_minutes``,
  ``scan_minutes``, ``board_days``, ``per_diem``, ``applications_by_reason``, and the code
  tables ``kinds``, ``statuses``, ``reasons``, ``rejections``;
- ``absentee.csv``: one row per precinct, for people (:data:`ABSENTEE_COLUMNS`);
- ``canvass.npz``: the affidavit rulings (``affidavit_*``, rows as ballots.npz's ``affidavit``),
  every count that changed the results (``count_time``, ``count_county``, ``count_group``,
  ``count_ballots``), the reporting ``curve`` (time, share of the certified ballots), per county
  ``certified_at``, ``commissioner_minutes``, ``per_diem`` and ``county_names``, the code table
  ``affidavit_rejections`` and ``deadline``;
- ``canvass.csv``: the reporting curve, continued from election night to the last certification
  (:data:`CANVASS_COLUMNS`);
- summary.json's ``absentee`` and ``canvass`` sections (the certified tallies of both layers
  among them).

Times are minutes after the start of election day, as every time of the run; on the days after
it the run's clock runs on (day 2 at 17:00 is ``65:00``), and the ``date`` column says the day.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from pollsim.rundir.layout import csv_text, hhmm
from pollsim.tabulate import tally_dict

if TYPE_CHECKING:  # the writers below import the stages they lay out when called: a reader (RunDir,
    # the report) needs only the field names above them, not the simulation (issue 12)
    from pollsim.absentee import AbsenteeRun
    from pollsim.canvass import CanvassResult
    from pollsim.election.definition import Election

ABSENTEE_FILES = ("absentee.npz", "absentee.csv")
CANVASS_FILES = ("canvass.npz", "canvass.csv")
ABSENTEE_COLUMNS = [
    "precinct", "county", "applications", "ballots_sent", "not_returned", "voted_ab", "envelopes_received",
    "accepted", "rejected", "late", "receipt_book_entries", "ballots_counted",
]  # fmt: skip
CANVASS_COLUMNS = ["time", "date", "share_of_ballots"]
ENVELOPE_FIELDS = ("precinct", "kind", "reason", "received", "status", "rejection", "cured", "processed", "counted")
BATCH_FIELDS = ("county", "number", "ballots", "day", "ready", "counted")
AFFIDAVIT_FIELDS = ("precinct", "status", "accepted", "rejection", "counted", "decided", "batch")


def when(t: float, election: dt.date) -> str:
    """A moment of the run's clock as ``YYYY-MM-DD HH:MM`` ("" for NaN)."""
    if t != t:
        return ""
    day, rest = divmod(int(round(t * 60)), 86400)
    return f"{(election + dt.timedelta(days=day)).isoformat()} {rest // 3600:02d}:{rest % 3600 // 60:02d}"


def absentee_arrays(ab: AbsenteeRun, columns: np.ndarray) -> dict[str, np.ndarray]:
    """The arrays of ``absentee.npz``."""
    from pollsim.absentee import Kind, Status
    from pollsim.scenario.absentee_spec import APPLICATION_REASONS, REJECTION_REASONS

    out: dict[str, np.ndarray] = {"columns": columns}
    out.update({f"envelope_{f}": ab.envelopes[f] for f in ENVELOPE_FIELDS})
    out.update({"intent": ab.intent, "paper": ab.paper, "cvr": ab.cvr, "precinct": ab.ballot_precinct, "batch": ab.ballot_batch, "envelope": ab.ballot_envelope})
    out.update({f"batch_{f}": ab.batches[f] for f in BATCH_FIELDS})
    out.update(ab.per_precinct)
    out.update(ab.per_county)
    out.update(
        {
            "precinct_ids": np.array(ab.precinct_ids), "precinct_county": ab.precinct_county, "county_names": np.array(ab.county_names),
            "scanner": np.array(ab.scanner), "applications_by_reason": ab.applications_by_reason,
            "kinds": np.array([k.name.lower() for k in Kind]), "statuses": np.array([s.name.lower() for s in Status]),
            "reasons": np.array(APPLICATION_REASONS), "rejections": np.array(REJECTION_REASONS),
        }
    )  # fmt: skip
    return out


def absentee_csv(ab: AbsenteeRun) -> str:
    """``absentee.csv``: each precinct's absentee numbers (the absentee part of §23-15-615 (b) and (f))."""
    from pollsim.absentee import Status

    env, n = ab.envelopes, len(ab.precinct_ids)
    by = lambda mask: np.bincount(env["precinct"][mask], minlength=n)  # noqa: E731
    received, accepted = by(np.ones(len(env), bool)), by(env["status"] == Status.ACCEPTED)
    rejected, late = by(env["status"] == Status.REJECTED), by(env["status"] == Status.LATE)
    counted, pp = ab.tabulated(), ab.per_precinct
    rows = [
        [pid, ab.county_names[int(ab.precinct_county[i])], int(pp["applications"][i]), int(pp["sent"][i]), int(pp["not_returned"][i]), int(pp["voted_ab"][i]),
         int(received[i]), int(accepted[i]), int(rejected[i]), int(late[i]), int(pp["receipt_entries"][i]), int(counted[i])]
        for i, pid in enumerate(ab.precinct_ids)
    ]  # fmt: skip
    return csv_text(ABSENTEE_COLUMNS, rows)


def absentee_summary(ab: AbsenteeRun) -> dict:
    """summary.json's ``absentee`` section."""
    from pollsim.absentee import Kind, Status, in_person_deadline, mail_deadline
    from pollsim.scenario.absentee_spec import APPLICATION_REASONS, REJECTION_REASONS

    env = ab.envelopes
    status = ab.counts_by("status", len(Status))
    return {
        "law": "Miss. Code §§23-15-621 to 23-15-657, §§23-15-711 to 23-15-735",
        "in_person_ends": f"{in_person_deadline(ab.election_date).isoformat()} 12:00",
        "mail_received_by": mail_deadline(ab.election_date).isoformat(),
        "applications": int(ab.per_precinct["applications"].sum()),
        "ballots_sent": int(ab.per_precinct["sent"].sum()),
        "envelopes": {s.name.lower(): int(status[s]) for s in Status},
        "by_kind": {k.name.lower(): int(v) for k, v in zip(Kind, ab.counts_by("kind", len(Kind)).tolist(), strict=True)},
        "applications_by_reason": dict(zip(APPLICATION_REASONS, ab.applications_by_reason.sum(axis=0).tolist(), strict=True)),
        "rejected_by_reason": dict(zip(REJECTION_REASONS, ab.counts_by("rejection", len(REJECTION_REASONS)).tolist(), strict=True)),
        "cured": int(env["cured"].sum()),
        "ballots_counted": ab.n_ballots,
        "counted_after_election_day": int(np.isin(ab.ballot_batch, np.flatnonzero(ab.batches["day"] > 0)).sum()),
        "batches": len(ab.batches),
        "board_minutes": round(float(ab.per_county["board_minutes"].sum()), 1),
        "scan_minutes": round(float(ab.per_county["scan_minutes"].sum()), 1),
        "per_diem_dollars": round(float(ab.per_county["per_diem"].sum()), 2),
    }


def canvass_arrays(cv: CanvassResult) -> dict[str, np.ndarray]:
    """The arrays of ``canvass.npz``."""
    from pollsim.canvass import AFFIDAVIT_REJECTIONS

    out = {f"affidavit_{f}": getattr(cv, f"affidavit_{f}") for f in AFFIDAVIT_FIELDS}
    out.update({f"count_{f}": cv.batches[f] for f in ("time", "county", "group", "ballots")})
    out.update(
        {
            "curve": cv.curve, "certified_at": cv.certified_at, "commissioner_minutes": cv.commissioner_minutes, "per_diem": cv.per_diem,
            "county_names": np.array(cv.county_names), "affidavit_rejections": np.array(AFFIDAVIT_REJECTIONS), "deadline": np.array(cv.deadline),
        }
    )  # fmt: skip
    return out


def canvass_csv(cv: CanvassResult) -> str:
    """``canvass.csv``: the reporting curve from election night to the last certification."""
    rows = [[hhmm(t), when(t, cv.election_date), f"{s:.6f}"] for t, s in cv.curve.tolist()]
    return csv_text(CANVASS_COLUMNS, rows)


def certified_layers(election: Election, layers: dict[str, np.ndarray], ab: AbsenteeRun | None, cv: CanvassResult | None) -> dict[str, np.ndarray]:
    """Every counted ballot of the certified results, per layer (``cvr``, ``paper``): the day's regular
    ballots, the absentee ballots counted, the accepted affidavit ballots counted (their paper is
    what the voter marked; the scanner reads it as marked)."""
    out = {}
    for layer in ("cvr", "paper"):
        parts = [layers[layer]]
        if ab is not None:
            parts.append(getattr(ab, layer))
        if cv is not None:
            parts.append(layers["affidavit"][cv.affidavit_counted])
        out[layer] = np.concatenate(parts) if len(parts) > 1 else parts[0]
    return out


def canvass_summary(cv: CanvassResult, election: Election, certified: dict[str, np.ndarray]) -> dict:
    """summary.json's ``canvass`` section, with the certified tallies of both layers."""
    from pollsim.canvass import AFFIDAVIT_REJECTIONS

    rej = cv.affidavit_rejection.astype(np.int64)
    return {
        "law": "Miss. Code §23-15-573, §23-15-603",
        "affidavit": {
            "ballots": len(rej),
            "accepted": int(cv.affidavit_accepted.sum()),
            "counted": int(cv.affidavit_counted.sum()),
            "rejected_by_reason": dict(zip(AFFIDAVIT_REJECTIONS, np.bincount(rej[rej >= 0], minlength=len(AFFIDAVIT_REJECTIONS)).tolist(), strict=True)),
        },
        "deadline": when(cv.deadline, cv.election_date),
        "certified": {c: when(t, cv.election_date) for c, t in zip(cv.county_names, cv.certified_at.tolist(), strict=True)},
        "late_counties": cv.late_counties,
        "commissioner_minutes": round(float(cv.commissioner_minutes.sum()), 1),
        "per_diem_dollars": round(float(cv.per_diem.sum()), 2),
        "ballots_certified": int(len(certified["cvr"])),
        "tally": tally_dict(election, certified["cvr"]),
        "paper_tally": tally_dict(election, certified["paper"]),
    }
