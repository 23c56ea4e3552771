"""A run directory written while its election day runs: the day streamed into the staging folder.

A statewide day has over a million voters; holding every precinct's per-voter timings, ballot
layers and event logs until the run directory is written cost the parent process more memory
than the day itself (issue 12). :class:`DaySpool` is the sink
(:class:`~pollsim.precinct.election_day.DaySink`) that ``pollsim run`` hands the day: as each
chunk of precincts arrives, in scenario order whatever order the workers finish in,

- the arrays of ``ballots.npz``, ``voters.npz`` and ``eventlog.npz`` are appended, uncompressed, to
  one :class:`~pollsim.files.ArraySpool` per archive member in ``STAGE/.spool/`` (the code tables of
  the event logs grow as :func:`~pollsim.rundir.layout.event_log_arrays` would grow them);
- each precinct's tapes are written to ``STAGE/tapes/PRECINCT/`` (their hashes kept);
- the precinct's result comes back slimmed (:class:`~pollsim.precinct.result.Streamed`): what the
  night, the canvass, the reconciliation and the audit read stays (counts, devices, the ``cvr``
  and ``paper`` layers, the voters who did not cast a regular ballot), the rest is on disk.

:func:`~pollsim.rundir.write_run` then compresses each archive member from its spool (never loading
it) into the same staging folder, removes ``.spool`` and swaps the folder into place, so the
output is byte for byte what writing the day from memory gives, and the write stays
all-or-nothing: the staging folder is the one :func:`write_run` would use, the target is checked
before the day starts, and a failure (or leaving the ``with`` block without writing) removes the
staging folder and leaves the earlier run as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path
from types import TracebackType

import numpy as np

from pollsim.errors import PollsimError
from pollsim.files import ArraySpool, one_line
from pollsim.precinct import Outcome, PrecinctResult
from pollsim.precinct.election_day import STREAMED_LAYERS, precinct_layers
from pollsim.precinct.result import Streamed
from pollsim.rundir.layout import FOLDERS, SUMMARY, EventLogTables, voter_columns, wait_stats
from pollsim.rundir.read import RunDirError, is_run_dir

__all__ = ["SPOOL", "DaySpool", "check_target", "staging"]

SPOOL = ".spool"
"""The folder of the array spools inside the staging folder (removed before the swap)."""
GROUPS = ("ballots", "voters", "eventlog")


def staging(out: Path) -> tuple[Path, Path]:
    """(the staging folder a run is written into, the name the earlier run has during the swap)."""
    return out.with_name(f".{out.name}.new-{os.getpid()}"), out.with_name(f".{out.name}.old-{os.getpid()}")


def check_target(out: Path, force: bool) -> None:
    """Refuse ``out`` unless it is missing, empty, or (with ``force``) a run directory."""
    if out.exists() and not out.is_dir():
        raise RunDirError(out, "exists and is not a directory; choose another --out")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not is_run_dir(out):
        raise RunDirError(out, "is not empty and is not a pollsim run directory; choose another --out (nothing was written)")
    if not force:
        try:
            s = json.loads((out / SUMMARY).read_text(encoding="utf-8"))
            what = f" (scenario {s.get('scenario')}, seed {s.get('seed')})"
        except (OSError, ValueError, AttributeError):
            what = ""
        raise RunDirError(out, f"holds another run{what}; use --force to replace it and everything made from it (nothing was written)")


def _own(a: np.ndarray) -> np.ndarray:
    """``a`` not as a view into a larger buffer (a kept slice must not keep the whole buffer)."""
    return a.copy() if a.base is not None else a


class DaySpool:
    """The run directory ``out`` being written as the day runs (module docstring).

    Use as a context manager around the day and :func:`~pollsim.rundir.write_run`::

        with DaySpool(out, force=force) as spool:
            write_run(run_election(scenario, seed, sink=spool), out, force=force)

    The target is checked (as ``write_run`` checks it) when the spool is made; leaving the block
    without a written run removes the staging folder.
    """

    def __init__(self, out: Path | str, *, force: bool = False):
        self.out = Path(out)
        check_target(self.out, force)
        self.stage, old = staging(self.out)
        self.arrays: dict[str, dict[str, ArraySpool]] = {g: {} for g in GROUPS}
        self.logs = EventLogTables()
        self.tapes: dict[str, str] = {}  # tapes/ file -> SHA-256
        self.precincts = 0  # precincts taken so far
        self.state = "open"  # open -> written | discarded
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            for leftover in (self.stage, old):
                shutil.rmtree(leftover, ignore_errors=True)
            self.stage.mkdir()
            (self.stage / SPOOL).mkdir()
            for folder in FOLDERS:
                (self.stage / folder).mkdir()
        except OSError as exc:
            self.discard()
            raise PollsimError(f"{self.out}: cannot write the run directory ({one_line(exc)})") from None

    def __enter__(self) -> DaySpool:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.state == "open":
            self.discard()

    def take(self, first: int, results: list[PrecinctResult]) -> list[PrecinctResult]:
        """Spool the precincts at ``first``... (the next ones in scenario order); return them slimmed."""
        if self.state != "open":
            raise PollsimError(f"{self.out}: the run directory being written was {self.state}; start the run again")
        if first != self.precincts:
            raise ValueError(f"precincts must arrive in scenario order: got precinct {first}, expected {self.precincts}")
        try:
            slim = [self._take(first + k, p) for k, p in enumerate(results)]
            for group in self.arrays.values():  # the chunk is on disk, not in a buffer
                for spool in group.values():
                    spool.flush()
            return slim
        except OSError as exc:
            self.discard()
            raise PollsimError(f"{self.out}: cannot write the run directory ({one_line(exc)})") from None

    def _append(self, group: str, name: str, part: np.ndarray) -> None:
        spool = self.arrays[group].get(name)
        if spool is None:
            spool = self.arrays[group][name] = ArraySpool(self.stage / SPOOL / f"{group}.{name}")
        spool.append(part)

    def _take(self, pi: int, p: PrecinctResult) -> PrecinctResult:
        for name, part in precinct_layers(pi, p).items():
            self._append("ballots", name, part)
        for name, part in voter_columns(pi, p).items():
            self._append("voters", name, part)
        for cols in self.logs.columns(pi, p):
            for name, part in cols.items():
                self._append("eventlog", name, part)
        (self.stage / "tapes" / p.precinct).mkdir()
        for suffix, tapes in (("zero", p.zero_tapes), ("results", p.results_tapes)):
            for dev, body in tapes.items():
                name, data = f"{p.precinct}/{dev}-{suffix}.txt", body.encode()
                (self.stage / "tapes" / name).write_bytes(data)
                self.tapes[name] = hashlib.sha256(data).hexdigest()
        self.precincts += 1
        v = p.voters
        streamed = Streamed(len(v), p.last_voter_out, wait_stats(v["wait"]))
        assert STREAMED_LAYERS == ("intent", "voter")  # the layers dropped here
        return replace(
            p, voters=v[v["outcome"] != int(Outcome.REGULAR)], intent=p.intent[:0].copy(), ballot_voter=p.ballot_voter[:0].copy(),
            cvr=_own(p.cvr), paper=_own(p.paper), ballot_device=_own(p.ballot_device), affidavit=_own(p.affidavit),
            logs={}, zero_tapes={}, results_tapes={}, streamed=streamed,
        )  # fmt: skip

    def members(self, group: str) -> dict[str, ArraySpool]:
        """The spooled members of ``ballots``, ``voters`` or ``eventlog`` (``.npz``), in archive order."""
        out = dict(self.arrays[group])
        if group == "eventlog":  # no log at all: empty columns, as event_log_arrays gives
            out = {name: out.get(name) or ArraySpool(self.stage / SPOOL / f"eventlog.{name}") for name in EventLogTables.COLUMNS}
        return out

    def load(self, group: str, name: str) -> np.ndarray:
        """One spooled array in memory (e.g. every voter's wait, for the summary's percentiles)."""
        return self.arrays[group][name].load()

    def voter_field(self, name: str) -> np.ndarray:
        """Every voter's ``name`` so far (:meth:`ElectionDayRun.voter_field`), read back from the spool."""
        if self.state != "open":
            raise PollsimError(f"{self.out}: the day's voters were streamed into a run directory that was already {self.state}")
        return self.load("voters", name)

    def check_for(self, out: Path) -> None:
        """Refuse to write the spooled day anywhere but into the run directory it was spooled for."""
        if self.state != "open":
            raise PollsimError(f"{out}: the day was streamed into a run directory that was already {self.state}; run it again")
        if out.absolute() != self.out.absolute():
            raise PollsimError(f"{out}: the day was streamed into {self.out}'s staging folder; write it there")

    def close(self) -> None:
        """Close the spools and remove ``.spool`` (the run's files are written)."""
        for group in self.arrays.values():
            for spool in group.values():
                spool.close()
        shutil.rmtree(self.stage / SPOOL, ignore_errors=True)

    def discard(self) -> None:
        """Give up the run being written: the staging folder goes, the target is untouched."""
        for group in self.arrays.values():
            for spool in group.values():
                spool.close()
        shutil.rmtree(self.stage, ignore_errors=True)
        self.state = "discarded"
