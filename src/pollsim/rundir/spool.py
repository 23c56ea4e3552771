"""A run directory written while its election day runs: the day streamed into the staging folder.

A statewide day has over a million voters; holding every precinct's per-voter timings, ballot
layers and event logs until the run directory is written cost the parent process more memory
than the day itself (issue 12). :class:`DaySpool` is the sink
(:class:`~pollsim.precinct.election_day.DaySink`) that ``pollsim run`` hands the day: as each
chunk of precincts is made, where it is made (a pool worker, or this process),
:func:`pack_chunk` packs it (:class:`PackedChunk`):

- the chunk's rows of each array of ``ballots.npz``, ``voters.npz`` and ``eventlog.npz`` deflated
  as one piece per archive member (:func:`~pollsim.files.deflate`), so the workers compress their
  own precincts and the parent only appends (the event logs' coded columns, whose code tables
  grow across the whole state, are coded and deflated by the parent, as the chunks arrive);
- the precinct's tapes, and its result slimmed (:class:`~pollsim.precinct.result.Streamed`): what
  the night, the canvass, the reconciliation and the audit read stays (counts, devices, the
  ``cvr`` and ``paper`` layers, the voters who did not cast a regular ballot), the rest is packed.

:meth:`DaySpool.take`, in scenario order whatever order the workers finish in, appends each piece
to its member's :class:`~pollsim.files.DeflatedSpool` in ``STAGE/.spool/`` and writes the tapes to
``STAGE/tapes/PRECINCT/`` (their hashes kept). :func:`~pollsim.rundir.write_run` then joins each
member's pieces into its archive (never inflating them) in the same staging folder, removes
``.spool`` and swaps the folder into place. A day written from memory goes through the same
packing, chunk by chunk (:meth:`DaySpool.take_day`), so the output is byte for byte the same
whether the day was streamed or not and whatever the worker count: a member's pieces are the
chunks of :data:`~pollsim.precinct.election_day.CHUNK` precincts in scenario order. The write
stays all-or-nothing: the staging folder is the one :func:`write_run` would use, the target is
checked before the day starts, and a failure (or leaving the ``with`` block without writing)
removes the staging folder and leaves the earlier run as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType

import numpy as np

import pollsim.precinct.election_day as election_day
from pollsim.absentee import AbsenteeRun
from pollsim.election.definition import Election
from pollsim.errors import PollsimError
from pollsim.files import Deflated, DeflatedSpool, deflate, file_sha256, one_line, write_npz
from pollsim.precinct import Outcome, PrecinctResult
from pollsim.precinct.election_day import LAYERS, STREAMED_LAYERS, precinct_layers
from pollsim.precinct.result import Streamed
from pollsim.rundir.absentee_layout import absentee_arrays
from pollsim.rundir.layout import FOLDERS, SUMMARY, EventLogTables, ballot_columns, voter_columns, wait_stats
from pollsim.rundir.read import RunDirError, is_run_dir

__all__ = ["SPOOL", "DaySpool", "PackedChunk", "check_target", "pack_chunk", "staging"]

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


@dataclass
class PackedChunk:
    """A chunk of precincts as :func:`pack_chunk` packs it for :meth:`DaySpool.take`.

    ``pieces``: archive (``ballots``, ``voters``, ``eventlog``) -> member -> the chunk's rows,
    deflated; ``logs``: per device log, in order, ``(PRECINCT/DEVICE, kind, kinds)`` for the coded
    columns (:meth:`~pollsim.rundir.layout.EventLogTables.codes`); ``tapes``: ``tapes/`` file ->
    (bytes, SHA-256); ``results``: the precincts slimmed.
    """

    first: int
    results: list[PrecinctResult]
    pieces: dict[str, dict[str, Deflated]]
    logs: list[tuple[str, np.ndarray, list]]
    tapes: dict[str, tuple[bytes, str]]


def _stack(parts: Sequence[dict[str, np.ndarray]], names: Sequence[str]) -> dict[str, Deflated]:
    return {name: deflate(np.concatenate([part[name] for part in parts])) for name in names}


def pack_chunk(first: int, results: list[PrecinctResult]) -> PackedChunk:
    """Pack the precincts at ``first``... (scenario order) for the run directory (module docstring);
    runs where they were simulated (:func:`~pollsim.precinct.election_day.run_election_day` hands
    it to the pool's workers)."""
    if not results:
        raise ValueError("an empty chunk of precincts")
    layers = [precinct_layers(first + k, p) for k, p in enumerate(results)]
    voters = [voter_columns(first + k, p) for k, p in enumerate(results)]
    own: list[dict[str, np.ndarray]] = []  # each device log's own columns
    logs: list[tuple[str, np.ndarray, list]] = []
    tapes: dict[str, tuple[bytes, str]] = {}
    for k, p in enumerate(results):
        for dev_id, log in p.logs.items():
            seq, time, kind, kinds = log.columns()
            own.append({"precinct": np.full(len(seq), first + k, np.int32), "sequence": seq, "time": time})
            logs.append((f"{p.precinct}/{dev_id}", kind, kinds))
        for suffix, texts in (("zero", p.zero_tapes), ("results", p.results_tapes)):
            for dev, body in texts.items():
                data = body.encode()
                tapes[f"{p.precinct}/{dev}-{suffix}.txt"] = (data, hashlib.sha256(data).hexdigest())
    empty: dict[str, np.ndarray] = {"precinct": np.zeros(0, np.int32), "sequence": np.zeros(0, np.int64), "time": np.zeros(0)}
    pieces = {
        "ballots": _stack(layers, LAYERS),
        "voters": _stack(voters, list(voters[0])),
        "eventlog": _stack(own or [empty], list(empty)),
    }
    return PackedChunk(first, [_slim(p) for p in results], pieces, logs, tapes)


def _slim(p: PrecinctResult) -> PrecinctResult:
    """``p`` without what went to the run directory (:class:`~pollsim.precinct.result.Streamed`)."""
    v = p.voters
    streamed = Streamed(len(v), p.last_voter_out, wait_stats(v["wait"]))
    assert STREAMED_LAYERS == ("intent", "voter")  # the layers dropped here
    return replace(
        p, voters=v[v["outcome"] != int(Outcome.REGULAR)], intent=p.intent[:0].copy(), ballot_voter=p.ballot_voter[:0].copy(),
        cvr=_own(p.cvr), paper=_own(p.paper), ballot_device=_own(p.ballot_device), affidavit=_own(p.affidavit),
        logs={}, zero_tapes={}, results_tapes={}, streamed=streamed,
    )  # fmt: skip


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
        self.arrays: dict[str, dict[str, DeflatedSpool]] = {g: {} for g in GROUPS}
        self.logs = EventLogTables()
        self.tapes: dict[str, str] = {}  # tapes/ file -> SHA-256
        self.absentee: tuple[AbsenteeRun, str] | None = None  # the absentee run whose absentee.npz is written, its SHA-256
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

    pack = staticmethod(pack_chunk)
    """Packs a chunk where it was simulated (the day hands it to its pool's workers)."""

    def take(self, first: int, packed: PackedChunk) -> list[PrecinctResult]:
        """Spool the packed precincts at ``first``... (the next ones in scenario order); return them slimmed."""
        if self.state != "open":
            raise PollsimError(f"{self.out}: the run directory being written was {self.state}; start the run again")
        if first != self.precincts or packed.first != first:
            raise ValueError(f"precincts must arrive in scenario order: got precinct {packed.first}, expected {self.precincts}")
        try:
            self._take(packed)
            for group in self.arrays.values():  # the chunk is on disk, not in a buffer
                for spool in group.values():
                    spool.flush()
            self.precincts += len(packed.results)
            return packed.results
        except OSError as exc:
            self.discard()
            raise PollsimError(f"{self.out}: cannot write the run directory ({one_line(exc)})") from None

    def take_absentee(self, ab: AbsenteeRun, election: Election) -> None:
        """Write ``absentee.npz`` now, on the caller's thread (the chain calls this from the thread
        on which the boards count while the day runs, so the archive is compressed during the day,
        not after it); :func:`~pollsim.rundir.write_run` keeps it when the run's absentee stage is ``ab``."""
        if self.state != "open":
            raise PollsimError(f"{self.out}: the run directory being written was {self.state}; start the run again")
        write_npz(self.stage / "absentee.npz", absentee_arrays(ab, ballot_columns(election)))
        self.absentee = (ab, file_sha256(self.stage / "absentee.npz"))

    def take_day(self, precincts: Sequence[PrecinctResult]) -> None:
        """Spool a day held in memory, packed chunk by chunk as a streamed day would be (the same bytes)."""
        step = election_day.CHUNK
        for first in range(0, len(precincts), step):
            self.take(first, pack_chunk(first, list(precincts[first : first + step])))

    def _append(self, group: str, name: str, piece: Deflated) -> None:
        spool = self.arrays[group].get(name)
        if spool is None:
            spool = self.arrays[group][name] = DeflatedSpool(self.stage / SPOOL / f"{group}.{name}")
        spool.append(piece)

    def _take(self, packed: PackedChunk) -> None:
        for group, pieces in packed.pieces.items():
            for name, piece in pieces.items():
                self._append(group, name, piece)
        coded = [self.logs.codes(device, kind, kinds) for device, kind, kinds in packed.logs]
        for name, piece in _stack(coded or [{name: np.zeros(0, np.int32) for name in EventLogTables.CODED}], EventLogTables.CODED).items():
            self._append("eventlog", name, piece)
        folder = f"{self.stage}/tapes"  # str paths: 16,000 tapes statewide
        for p in packed.results:
            os.mkdir(f"{folder}/{p.precinct}")
        for name, (data, sha) in packed.tapes.items():
            with open(f"{folder}/{name}", "wb") as f:
                f.write(data)
            self.tapes[name] = sha

    def members(self, group: str) -> dict[str, DeflatedSpool]:
        """The spooled members of ``ballots``, ``voters`` or ``eventlog`` (``.npz``), in archive order."""
        if group == "eventlog":
            return {name: self.arrays[group][name] for name in EventLogTables.COLUMNS}
        return dict(self.arrays[group])

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
