"""The numbers behind the report's plots, computed from the per-voter records with numpy.

- **Lines** (:func:`line_lengths`): how many people stood in each precinct's two lines, minute by
  minute. The pollbook line at time *t* is the voters who had arrived by *t* and not yet started
  checking in (arrivals minus check-in starts); the voting line is the voters who had finished
  checking in and not yet taken a unit (check-in ends minus voting starts; it includes the
  half-minute walk to the voting area). Counted for every precinct at once with one ``bincount``
  and a ``cumsum``.
- **Waits** (:func:`wait_percentiles`): the same percentiles as summary.json (numpy's linear
  interpolation).
- **Device use** (:func:`device_use`): the share of its precinct's open hours (polls open to the
  close after the last voter, from the devices' event logs) that each station held a voter.
  Pollbook stations: check-in start to end (an affidavit voter's envelope included). DRE and
  accessible units: the voter's start to the cast, for every ballot the unit cast. Precinct
  scanners and BMDs: the run keeps when each ballot left the scanner, not when the feed began, so
  their busy share is not known; the report gives their ballot counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pollsim.report.data import ReportData
from pollsim.rundir import wait_stats

DAY_START = 6 * 60.0  # the earliest the time axis starts (the opening line forms from 6:30)


@dataclass(frozen=True)
class Lines:
    """``pollbook[p, k]`` and ``voting[p, k]``: people in precinct *p*'s lines at ``minutes[k]``."""

    minutes: np.ndarray
    pollbook: np.ndarray
    voting: np.ndarray

    def busiest(self, k: int) -> np.ndarray:
        """Indexes of the ``k`` precincts with the longest line at any minute, longest first."""
        peak = np.maximum(self.pollbook.max(axis=1, initial=0), self.voting.max(axis=1, initial=0))
        return np.lexsort((np.arange(len(peak)), -peak))[:k]


def _counts_by_minute(times: np.ndarray, precinct: np.ndarray, n: int, t0: float, k: int) -> np.ndarray:
    """``out[p, j]``: events of precinct ``p`` at or before ``t0 + j`` minutes."""
    ok = np.isfinite(times)
    j = np.clip(np.ceil(times[ok] - t0 - 1e-9), 0, k - 1).astype(np.int64)
    flat = np.bincount(precinct[ok].astype(np.int64) * k + j, minlength=n * k)
    return np.cumsum(flat.reshape(n, k), axis=1, dtype=np.int32)


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
    def both(a: str, b: str) -> np.ndarray:  # a voter counts in a line only with both ends known
        return np.isfinite(v[a]) & np.isfinite(v[b])

    m = both("arrival", "checkin_start")
    pollbook = _counts_by_minute(v["arrival"][m], p[m], n, t0, k) - _counts_by_minute(v["checkin_start"][m], p[m], n, t0, k)
    m = both("checkin_end", "vote_start")
    voting = _counts_by_minute(v["checkin_end"][m], p[m], n, t0, k) - _counts_by_minute(v["vote_start"][m], p[m], n, t0, k)
    return Lines(t0 + np.arange(k, dtype=np.float64), pollbook, voting)


def wait_percentiles(waits: np.ndarray) -> dict[str, float]:
    """mean, p50, p95, max of the waits, exactly as summary.json has them."""
    return wait_stats(waits)


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


def device_use(run: ReportData) -> list[DeviceUse]:
    """Every pollbook station and device, precinct by precinct (pollbook stations first)."""
    v, n = run.voters, run.n_precincts
    minutes = open_minutes(run)
    ids = run.precinct_ids
    out: list[DeviceUse] = []
    # pollbook stations: (precinct, station) -> busy minutes, voters
    st = v["checkin_station"].astype(np.int64)
    ok = (st >= 0) & np.isfinite(v["checkin_start"]) & np.isfinite(v["checkin_end"])
    width = int(st[ok].max()) + 1 if ok.any() else 0
    pb_busy = np.zeros((n, width))
    pb_voters = np.zeros((n, width), np.int64)
    if width:
        key = v["precinct"][ok].astype(np.int64) * width + st[ok]
        pb_busy = np.bincount(key, weights=v["checkin_end"][ok] - v["checkin_start"][ok], minlength=n * width).reshape(n, width)
        pb_voters = np.bincount(key, minlength=n * width).reshape(n, width)
    # voting devices: ballots.npz (precinct, device, voter) -> the voter's start..cast
    offsets = np.zeros(n + 1, np.int64)
    index_of = {pid: i for i, pid in enumerate(ids)}
    per_precinct = np.zeros(n, np.int64)
    for d in run.devices:
        i = index_of.get(d["precinct"])
        if i is not None:
            per_precinct[i] = max(per_precinct[i], int(d["index"]) + 1)
    offsets[1:] = np.cumsum(per_precinct)
    voter_offsets = np.zeros(n + 1, np.int64)
    voter_offsets[1:] = np.cumsum(np.bincount(v["precinct"].astype(np.int64), minlength=n))
    b = run.ballots
    bp = b["precinct"].astype(np.int64)
    row = voter_offsets[bp] + b["voter"].astype(np.int64)
    held = v["vote_end"][row] - v["vote_start"][row]
    held = np.where(np.isfinite(held), held, 0.0)
    dev_busy = np.bincount(offsets[bp] + b["device"].astype(np.int64), weights=held, minlength=int(offsets[-1]))
    by_precinct: dict[int, list[dict]] = {}
    for d in run.devices:
        i = index_of.get(d["precinct"])
        if i is not None:
            by_precinct.setdefault(i, []).append(d)
    for i, pid in enumerate(ids):
        for s in np.flatnonzero(pb_voters[i]).tolist():
            out.append(DeviceUse(pid, f"PB-{s + 1}", "pollbook", int(pb_voters[i, s]), float(pb_busy[i, s]), float(minutes[i])))
        for d in by_precinct.get(i, []):
            kind = d["kind"]
            timed = kind == "dre"
            busy = float(dev_busy[offsets[i] + int(d["index"])]) if timed else float("nan")
            out.append(DeviceUse(pid, d["device_id"], kind, int(d["public_count"]), busy, float(minutes[i])))
    return out
