"""The numbers behind the report's plots, computed from the per-voter records with numpy.

- **Lines** (:func:`line_lengths`): how many people stood in each precinct's lines, minute by
  minute. The pollbook line at time *t* is the voters who had arrived by *t* and not yet started
  checking in (arrivals minus check-in starts); the voting line is the voters who had finished
  checking in and not yet taken a DRE, booth or BMD (check-in ends minus voting starts; it
  includes the half-minute walk to the voting area); in a paper precinct the scanner line is the
  voters who had marked their ballot and not yet begun feeding the scanner (the last time, for a
  voter sent back to mark a new ballot). Counted for every precinct at once with one
  ``bincount`` and a ``cumsum``.
- **Waits** (:func:`wait_percentiles`): the same percentiles as summary.json (numpy's linear
  interpolation); :func:`waits_by_arrival`: the same by hour of arrival.
- **Device use** (:func:`device_use`): the share of its precinct's open hours (polls open to the
  close after the last voter, from the devices' event logs) that each station held a voter.
  Pollbook stations: check-in start to end (an affidavit voter's envelope included). DRE and
  accessible units: the voter's start to the cast, for every ballot the unit cast. Precinct
  scanners: from the voter's (last) start of feeding to the cast. Marking booths and BMDs: from
  taking the booth to leaving it with the marked ballot (an affidavit ballot: to the sealed
  envelope; a voter who spoiled a ballot and marked another: the first booth, to the last
  marking). Runs made before pollsim recorded scanner times show scanner and BMD ballot counts
  only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from pollsim.election.roll import VoterNeed
from pollsim.precinct.result import Outcome
from pollsim.report.data import ReportData
from pollsim.rundir import wait_stats

DAY_START = 6 * 60.0  # the earliest the time axis starts (the opening line forms from 6:30)


@dataclass(frozen=True)
class Lines:
    """``pollbook[p, k]``, ``voting[p, k]``, ``scanner[p, k]``: people in precinct *p*'s lines at
    ``minutes[k]`` (the scanner line is 0 in DRE precincts and in runs without scanner times)."""

    minutes: np.ndarray
    pollbook: np.ndarray
    voting: np.ndarray
    scanner: np.ndarray

    def busiest(self, k: int) -> np.ndarray:
        """Indexes of the ``k`` precincts with the longest line at any minute, longest first."""
        peak = np.maximum.reduce([a.max(axis=1, initial=0) for a in (self.pollbook, self.voting, self.scanner)])
        return np.lexsort((np.arange(len(peak)), -peak))[:k]

    def in_line_at(self, t: float) -> np.ndarray:
        """People in any line of each precinct at minute ``t`` (the last minute counted before ``t``)."""
        k = int(np.clip(np.searchsorted(self.minutes, t, side="right") - 1, 0, len(self.minutes) - 1))
        return self.pollbook[:, k] + self.voting[:, k] + self.scanner[:, k]


def _in_line(enter: np.ndarray, leave: np.ndarray, row: np.ndarray, n: int, t0: float, k: int) -> np.ndarray:
    """``out[p, j]``: people of precinct ``p`` who entered a line at or before ``t0 + j`` minutes
    and had not left it by then (every voter given has both times; ``row``: each voter's precinct
    times ``k``)."""
    flat = np.bincount(_minute(enter, t0, k, row), minlength=n * k)
    flat -= np.bincount(_minute(leave, t0, k, row), minlength=n * k)
    return np.cumsum(flat.reshape(n, k), axis=1, dtype=np.int32)


def _minute(times: np.ndarray, t0: float, k: int, row: np.ndarray | int = 0) -> np.ndarray:
    """The first whole minute (``t0 + j``) at or after each time, as ``j`` in 0..k-1 (plus ``row``)."""
    j = np.subtract(times, t0)
    j -= 1e-9
    np.ceil(j, out=j)
    np.clip(j, 0, k - 1, out=j)
    return j.astype(np.int64) + row


def measure(run: ReportData, until: Callable[[], bool] = lambda: False) -> None:
    """Compute the measures the page needs, each kept on ``run``, the lines first, and stop when
    ``until()`` says so (no matplotlib needed: :func:`pollsim.report.build_report` does this while
    matplotlib is still being imported; what is left is computed when the page asks for it)."""
    for step in (line_lengths, device_table, waits_by_arrival):
        step(run)
        if until():
            return


def line_lengths(run: ReportData) -> Lines:
    """The lines of every precinct, minute by minute (computed once per run)."""
    if "lines" not in run.measured:
        run.measured["lines"] = _line_lengths(run)
    return run.measured["lines"]


def _line_lengths(run: ReportData) -> Lines:
    v = run.voters
    n = max(run.n_precincts, 1)
    arrival = v["arrival"]
    ends = np.concatenate([v["exit"][np.isfinite(v["exit"])], run.polls_closed[np.isfinite(run.polls_closed)], [19 * 60.0]])
    starts = arrival[np.isfinite(arrival)]
    t0 = float(np.floor(min(DAY_START, starts.min() if len(starts) else DAY_START)))
    t1 = float(np.ceil(ends.max())) + 1
    k = int(t1 - t0) + 1
    row = v["precinct"].astype(np.int64) * k

    def line(a: str, b: str) -> np.ndarray:  # a voter counts in a line only with both ends known
        m = np.isfinite(v[a])
        m &= np.isfinite(v[b])
        if m.all():
            return _in_line(v[a], v[b], row, n, t0, k)
        return _in_line(v[a][m], v[b][m], row[m], n, t0, k)

    pollbook = line("arrival", "checkin_start")
    voting = line("checkin_end", "vote_start")
    scanner = line("mark_end", "scan_start") if run.has_scanner_times else np.zeros_like(voting)
    return Lines(t0 + np.arange(k, dtype=np.float64), pollbook, voting, scanner)


def wait_percentiles(waits: np.ndarray) -> dict[str, float]:
    """mean, p50, p95, max of the waits, exactly as summary.json has them."""
    return wait_stats(waits)


def waits_by_arrival(run: ReportData, step: float = 60.0) -> list[tuple[float, int, float, float, int]]:
    """(start of the arrival window, voters, median wait, 95th percentile, voters over 30 minutes)
    for each ``step``-minute window of arrival time that had voters, in clock order (computed once per run and step)."""
    key = ("waits_by_arrival", step)
    if key not in run.measured:
        run.measured[key] = _waits_by_arrival(run.voters["wait"], run.voters["arrival"], step)
    return run.measured[key]


def _waits_by_arrival(w: np.ndarray, a: np.ndarray, step: float) -> list[tuple[float, int, float, float, int]]:
    ok = np.isfinite(w) & np.isfinite(a)
    w, a = w[ok], a[ok]
    if not len(w):
        return []
    start = np.floor(a / step)  # the window of each voter, as a whole number of steps
    first = float(start.min())
    window = (start - first).astype(np.int64)
    voters = np.bincount(window)
    over = np.bincount(window, weights=w > 30)
    # each window's waits side by side: a stable sort of 16-bit keys is a radix sort, one pass
    order = np.argsort(window.astype(np.int16) if len(voters) < 2**15 else window, kind="stable")
    edges = np.concatenate([[0], np.cumsum(voters)])
    ws_all = w[order]
    out = []
    for k in np.flatnonzero(voters).tolist():
        ws = ws_all[edges[k] : edges[k + 1]]
        out.append((float((first + k) * step), int(voters[k]), float(np.percentile(ws, 50)), float(np.percentile(ws, 95)), int(over[k])))
    return out


def precinct_p95(run: ReportData) -> np.ndarray:
    """Each precinct's 95th-percentile wait, from precincts.csv."""
    return np.array([float(r.get("wait_p95") or 0.0) for r in run.precincts])


@dataclass(frozen=True)
class DeviceUse:
    """One station's day: ``busy_share`` is NaN where the run does not record its busy time."""

    precinct: str
    device_id: str
    kind: str  # "pollbook", "dre", "scan-single", "bmd", ...
    ballots: int  # voters checked in (pollbook) or the public counter (voting devices)
    busy_minutes: float
    open_minutes: float

    @property
    def busy_share(self) -> float:
        return self.busy_minutes / self.open_minutes if self.open_minutes > 0 else float("nan")

    @property
    def label(self) -> str:
        return f"{self.precinct} {self.device_id}"


def open_minutes(run: ReportData) -> np.ndarray:
    """Each precinct's open minutes: polls open to the devices' close (07:00-19:00 if unlogged)."""
    exits = np.full(run.n_precincts, np.nan)
    e = run.voters["exit"]
    ok = np.isfinite(e)
    np.fmax.at(exits, run.voters["precinct"][ok].astype(np.int64), e[ok])
    opened = np.where(np.isfinite(run.polls_open), run.polls_open, 7 * 60.0)
    closed = np.where(np.isfinite(run.polls_closed), run.polls_closed, np.fmax(19 * 60.0, exits))
    return np.maximum(closed - opened, 0.0)


def _per_unit(n: int, precinct: np.ndarray, unit: np.ndarray, busy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(busy minutes, voters) per (precinct, unit) for the voters with a unit and a finite busy time."""
    ok = (unit >= 0) & np.isfinite(busy)
    width = int(unit[ok].max()) + 1 if ok.any() else 0
    if not width:
        return np.zeros((n, 0)), np.zeros((n, 0), np.int64)
    key = precinct[ok].astype(np.int64) * width + unit[ok].astype(np.int64)
    return (np.bincount(key, weights=busy[ok], minlength=n * width).reshape(n, width),
            np.bincount(key, minlength=n * width).reshape(n, width))  # fmt: skip


def _marking(run: ReportData) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Marking booths and BMDs: (busy, voters) per (precinct, unit), from the paper columns."""
    v, n = run.voters, run.n_precincts
    p = v["precinct"]
    regular = (v["outcome"] == int(Outcome.REGULAR)) & np.isfinite(v["mark_end"])
    audio = v["need"] == int(VoterNeed.AUDIO)
    sealed = (v["outcome"] == int(Outcome.AFFIDAVIT)) | (v["outcome"] == int(Outcome.BALLOT_LOST))  # marked in a booth (not a voter who gave up)
    marked = v["mark_end"] - v["vote_start"]
    booth_unit = np.where(regular & ~audio, v["marking_station"], np.where(sealed, v["voting_station"], -1))
    booth_busy = np.where(regular, marked, v["vote_end"] - v["vote_start"])
    bmd_unit = np.where(regular & audio, v["marking_station"], -1)
    return _per_unit(n, p, booth_unit, booth_busy), _per_unit(n, p, bmd_unit, marked)


@dataclass(frozen=True)
class DeviceTable:
    """Every station of :func:`device_use`, column by column (a statewide run has some 19,000):
    station ``j`` is ``device_id[j]`` of precinct ``precinct_ids[precinct[j]]``; :meth:`records`
    makes the :class:`DeviceUse` records of the stations a table shows."""

    precinct_ids: Sequence[str]
    precinct: np.ndarray  # int64, index into precinct_ids
    device_id: list[str]
    kind: np.ndarray  # str
    ballots: np.ndarray  # int64
    busy: np.ndarray  # float64 minutes, NaN: not recorded
    open: np.ndarray  # float64 minutes

    def __len__(self) -> int:
        return len(self.device_id)

    @cached_property
    def share(self) -> np.ndarray:
        """Each station's :attr:`DeviceUse.busy_share` (the same division)."""
        out = np.full(len(self), np.nan)
        np.divide(self.busy, self.open, out=out, where=self.open > 0)
        return out

    @cached_property
    def timed(self) -> np.ndarray:
        """Indexes of the stations with a busy share, in order."""
        return np.flatnonzero(np.isfinite(self.share))

    def records(self, rows: np.ndarray | None = None) -> list[DeviceUse]:
        """The :class:`DeviceUse` of the stations ``rows`` (all of them, in order, by default)."""
        rows = np.arange(len(self)) if rows is None else np.asarray(rows, np.int64)
        ids, dev = self.precinct_ids, self.device_id
        return [DeviceUse(ids[p], dev[j], k, b, busy, span) for j, p, k, b, busy, span in zip(
            rows.tolist(), self.precinct[rows].tolist(), self.kind[rows].tolist(), self.ballots[rows].tolist(),
            self.busy[rows].tolist(), self.open[rows].tolist(), strict=True)]  # fmt: skip


def device_use(run: ReportData) -> list[DeviceUse]:
    """Every pollbook station, device and marking booth, precinct by precinct (pollbook stations
    first, then the devices in devices.csv order, then the booths)."""
    return device_table(run).records()


def device_table(run: ReportData) -> DeviceTable:
    """:func:`device_use` as columns, computed with numpy (a Python loop over the devices.csv rows only; once per run)."""
    if "devices" not in run.measured:
        run.measured["devices"] = _device_table(run)
    return run.measured["devices"]


def _device_table(run: ReportData) -> DeviceTable:
    v, n = run.voters, run.n_precincts
    ids = run.precinct_ids
    pb_busy, pb_voters = _per_unit(n, v["precinct"], v["checkin_station"].astype(np.int64), v["checkin_end"] - v["checkin_start"])
    # voting devices: ballots.npz (precinct, device, voter) -> the voter's start (of feeding, at a scanner) .. cast
    index_of = {pid: i for i, pid in enumerate(ids)}
    d_precinct, d_index, d_kind, d_id, d_count = [], [], [], [], []
    for d in run.devices:  # the rows of known precincts, in file order
        i = index_of.get(d["precinct"])
        if i is not None:
            d_precinct.append(i)
            d_index.append(int(d["index"]))
            d_kind.append(d["kind"])
            d_id.append(d["device_id"])
            d_count.append(int(d["public_count"]))
    dp, di = np.array(d_precinct, np.int64), np.array(d_index, np.int64)
    per_precinct = np.zeros(n, np.int64)
    np.maximum.at(per_precinct, dp, di + 1)
    offsets = np.zeros(n + 1, np.int64)
    offsets[1:] = np.cumsum(per_precinct)
    slots = offsets[dp] + di
    kinds = np.array(d_kind, dtype=str)
    is_scanner = np.char.startswith(kinds, "scan") if len(kinds) else np.zeros(0, bool)
    scanner = np.zeros(int(offsets[-1]), bool)
    scanner[slots] = is_scanner
    voter_offsets = np.zeros(n + 1, np.int64)
    voter_offsets[1:] = np.cumsum(np.bincount(v["precinct"].astype(np.int64), minlength=n))
    b = run.ballots
    bp = b["precinct"].astype(np.int64)
    row = voter_offsets[bp] + b["voter"].astype(np.int64)
    slot = offsets[bp] + b["device"].astype(np.int64)
    began = np.where(scanner[slot], v["scan_start"][row], v["vote_start"][row]) if run.has_scanner_times else v["vote_start"][row]
    held = v["vote_end"][row] - began
    dev_busy = np.bincount(slot, weights=np.where(np.isfinite(held), held, 0.0), minlength=int(offsets[-1]))
    (booth_busy, booth_voters), (bmd_busy, bmd_voters) = _marking(run) if run.has_scanner_times else ((np.zeros((n, 0)),) * 2, (np.zeros((n, 0)),) * 2)
    busy = np.full(len(d_id), np.nan)
    timed = (kinds == "dre") | (is_scanner & run.has_scanner_times)
    busy[timed] = dev_busy[slots[timed]]
    if run.has_scanner_times:
        for j in np.flatnonzero(kinds == "bmd").tolist():
            last = d_id[j].rsplit("-", 1)[-1]
            unit = int(last) - 1 if last.isdigit() else -1
            busy[j] = float(bmd_busy[dp[j], unit]) if 0 <= unit < bmd_busy.shape[1] else 0.0
    pb_rows, pb_units = np.nonzero(pb_voters)
    booth_rows, booth_units = np.nonzero(booth_voters)
    # precinct by precinct: its pollbook stations (in unit order), its devices (in file order), its booths
    precinct = np.concatenate([pb_rows, dp, booth_rows]).astype(np.int64)
    group = np.repeat([0, 1, 2], [len(pb_rows), len(dp), len(booth_rows)])
    order = np.lexsort((np.concatenate([pb_units, np.arange(len(dp)), booth_units]), group, precinct))
    names = [f"PB-{s + 1}" for s in pb_units.tolist()] + d_id + [f"BOOTH-{s + 1}" for s in booth_units.tolist()]
    return DeviceTable(
        precinct_ids=ids,
        precinct=precinct[order],
        device_id=[names[j] for j in order.tolist()],
        kind=np.concatenate([np.full(len(pb_rows), "pollbook"), kinds, np.full(len(booth_rows), "booth")])[order],
        ballots=np.concatenate([pb_voters[pb_rows, pb_units], np.array(d_count, np.int64), booth_voters[booth_rows, booth_units]]).astype(np.int64)[order],
        busy=np.concatenate([pb_busy[pb_rows, pb_units], busy, booth_busy[booth_rows, booth_units]]).astype(np.float64)[order],
        open=open_minutes(run)[precinct[order]],
    )
