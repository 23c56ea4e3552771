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

from dataclasses import dataclass

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


def _in_line(enter: np.ndarray, leave: np.ndarray, precinct: np.ndarray, n: int, t0: float, k: int) -> np.ndarray:
    """``out[p, j]``: people of precinct ``p`` who entered a line at or before ``t0 + j`` minutes
    and had not left it by then (every voter given has both times)."""
    p = precinct.astype(np.int64) * k
    flat = np.bincount(p + _minute(enter, t0, k), minlength=n * k) - np.bincount(p + _minute(leave, t0, k), minlength=n * k)
    return np.cumsum(flat.reshape(n, k), axis=1, dtype=np.int32)


def _minute(times: np.ndarray, t0: float, k: int) -> np.ndarray:
    """The first whole minute (``t0 + j``) at or after each time, as ``j`` in 0..k-1."""
    return np.clip(np.ceil(times - t0 - 1e-9), 0, k - 1).astype(np.int64)


def line_lengths(run: ReportData) -> Lines:
    v = run.voters
    n = max(run.n_precincts, 1)
    arrival = v["arrival"]
    ends = np.concatenate([v["exit"][np.isfinite(v["exit"])], run.polls_closed[np.isfinite(run.polls_closed)], [19 * 60.0]])
    starts = arrival[np.isfinite(arrival)]
    t0 = float(np.floor(min(DAY_START, starts.min() if len(starts) else DAY_START)))
    t1 = float(np.ceil(ends.max())) + 1
    k = int(t1 - t0) + 1
    p = v["precinct"]

    def line(a: str, b: str) -> np.ndarray:  # a voter counts in a line only with both ends known
        m = np.isfinite(v[a]) & np.isfinite(v[b])
        return _in_line(v[a][m], v[b][m], p[m], n, t0, k)

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


def device_use(run: ReportData) -> list[DeviceUse]:
    """Every pollbook station, device and marking booth, precinct by precinct (pollbook stations
    first, then the devices in devices.csv order, then the booths)."""
    v, n = run.voters, run.n_precincts
    minutes = open_minutes(run)
    ids = run.precinct_ids
    out: list[DeviceUse] = []
    pb_busy, pb_voters = _per_unit(n, v["precinct"], v["checkin_station"].astype(np.int64), v["checkin_end"] - v["checkin_start"])
    # voting devices: ballots.npz (precinct, device, voter) -> the voter's start (of feeding, at a scanner) .. cast
    index_of = {pid: i for i, pid in enumerate(ids)}
    by_precinct: dict[int, list[dict]] = {}
    for d in run.devices:
        i = index_of.get(d["precinct"])
        if i is not None:
            by_precinct.setdefault(i, []).append(d)
    per_precinct = np.array([max((int(d["index"]) + 1 for d in by_precinct.get(i, [])), default=0) for i in range(n)], np.int64)
    offsets = np.zeros(n + 1, np.int64)
    offsets[1:] = np.cumsum(per_precinct)
    scanner = np.zeros(int(offsets[-1]), bool)
    for i, devs in by_precinct.items():
        for d in devs:
            scanner[offsets[i] + int(d["index"])] = d["kind"].startswith("scan")
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
    pollbooks, booths = _by_row(pb_voters, pb_busy), _by_row(booth_voters, booth_busy)
    dev_busy_at = dev_busy.tolist()
    for i, (pid, span) in enumerate(zip(ids, minutes.tolist(), strict=True)):
        for s, voters, busy in pollbooks[i]:
            out.append(DeviceUse(pid, f"PB-{s + 1}", "pollbook", voters, busy, span))
        for d in by_precinct.get(i, []):
            k, kind = offsets[i] + int(d["index"]), d["kind"]
            if kind == "dre" or (kind.startswith("scan") and run.has_scanner_times):
                busy = dev_busy_at[k]
            elif kind == "bmd" and run.has_scanner_times:
                unit = int(d["device_id"].rsplit("-", 1)[-1]) - 1 if d["device_id"].rsplit("-", 1)[-1].isdigit() else -1
                busy = float(bmd_busy[i, unit]) if 0 <= unit < bmd_busy.shape[1] else 0.0
            else:
                busy = float("nan")
            out.append(DeviceUse(pid, d["device_id"], kind, int(d["public_count"]), busy, span))
        for s, voters, busy in booths[i]:
            out.append(DeviceUse(pid, f"BOOTH-{s + 1}", "booth", voters, busy, span))
    return out


def _by_row(voters: np.ndarray, busy: np.ndarray) -> list[list[tuple[int, int, float]]]:
    """For each row (precinct) of a (precinct, unit) table: (unit, voters, busy minutes) of the units with voters, in unit order."""
    out: list[list[tuple[int, int, float]]] = [[] for _ in range(voters.shape[0])]
    rows, units = np.nonzero(voters)
    for i, s, v, b in zip(rows.tolist(), units.tolist(), voters[rows, units].tolist(), busy[rows, units].tolist(), strict=True):
        out[i].append((s, int(v), float(b)))
    return out
