"""The roll directory: the one writer and reader of what ``pollsim roll simulate`` leaves.

``ROLL/`` holds:

- ``roll.json``: the run (seed, law, scale, counties, dates), the elections recorded (each with its
  registration deadline and file), the calibration per county (:mod:`pollsim.roll.calibrate`), the
  rates used, and the SHA-256 of every other file;
- ``precincts.csv``: ``index, id, county, name`` (ids as the scenario generator gives them);
- ``persons.npz``: the synthetic identities (``first``, ``middle``, ``last``: indexes into
  ``pollsim/data/names_1990_census.csv``; ``birth``), and the record at the end (``reg_no``,
  ``county``, ``precinct``, ``status``, ``reg_date``, ``last_vote``, ``notice_date``,
  ``notice_reason``, ``removed_date``, ``removed_reason``, ``restored``) beside the truth (``home``,
  ``death``, ``conv``, ``sentence``, ``custody_end``); one row per person;
- ``history.npz``: every status change (``row``, ``date``, ``status``, ``reason``, ``county``);
- ``elections/DATE.npz``: the pollbook of that election as printed, precinct by precinct (``row``:
  the persons listed, those of precinct k at ``precinct_start[k]:precinct_start[k+1]``; ``status``:
  1 active, 2 inactive, +4 if restored under the 2024 bill; ``reg_date``; ``voted``: 1 regular,
  2 absentee (VOTED AB), 3 affidavit), ``arrivals`` (precincts x
  :class:`~pollsim.election.roll.RollStatus`: who came to the polls and how the poll manager found
  them) and ``absentee`` per precinct;
- ``counts.csv``: per election, per county and statewide, the measures of
  :data:`pollsim.roll.vote.METRICS`;
- ``policy.csv`` (with ``--compare``): the same population under both suffrage laws, side by side.

Every file is written atomically into a staging folder that is renamed into place when complete;
a directory that is not a roll directory is never written into. Reading checks each file against
its SHA-256 first: a changed or damaged file is one line naming it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from pollsim.errors import PollsimError
from pollsim.files import atomic_text, csv_text, one_line, write_npz
from pollsim.roll.calendar import iso
from pollsim.roll.run import RollRun
from pollsim.roll.vote import METRICS, ElectionRecord

FORMAT = "pollsim-roll"
FORMAT_VERSION = 1
PERSON_COLUMNS = ("first", "middle", "last", "birth", "reg_no", "county", "precinct", "status", "reg_date", "last_vote", "notice_date",
                  "notice_reason", "removed_date", "removed_reason", "restored", "home", "death", "conv", "sentence", "custody_end")  # fmt: skip


class RollDirError(PollsimError):
    def __init__(self, path: Path | str, problem: str):
        super().__init__(f"{path}: {problem}")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def counts_rows(run: RollRun) -> list[list[object]]:
    """``counts.csv`` rows: election, county (or statewide), then every measure."""
    out: list[list[object]] = []
    for rec in run.records:
        for c, name in enumerate(run.geo.names):
            out.append([rec.election.iso, name, *rec.metrics[c].tolist()])
        out.append([rec.election.iso, "statewide", *rec.metrics.sum(axis=0).tolist()])
    return out


def check_target(out: Path, force: bool) -> None:
    """Refuse ``out`` unless it is missing, empty, or (with ``force``) a roll directory."""
    if out.exists() and not out.is_dir():
        raise RollDirError(out, "exists and is not a directory; choose another --out")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not (out / "roll.json").is_file():
        raise RollDirError(out, "is not empty and is not a pollsim roll directory; choose another --out (nothing was written)")
    if not force:
        raise RollDirError(out, "holds another roll; use --force to replace it (nothing was written)")


class RollWriter:
    """Writes a roll directory into a staging folder beside ``out``, election by election as the
    simulation makes them (:meth:`election` is a sink for :func:`pollsim.roll.simulate_roll`), then
    the rest and the swap into place (:meth:`finish`). Use as a context manager: on an error the
    staging folder goes and ``out`` is untouched."""

    def __init__(self, out: Path | str, force: bool = False):
        self.out = Path(out)
        check_target(self.out, force)
        self.stage = self.out.with_name(f".{self.out.name}.new-{os.getpid()}")
        self.old = self.out.with_name(f".{self.out.name}.old-{os.getpid()}")
        self.files: dict[str, str] = {}
        for leftover in (self.stage, self.old):
            shutil.rmtree(leftover, ignore_errors=True)
        try:
            (self.stage / "elections").mkdir(parents=True)
        except OSError as exc:
            raise PollsimError(f"{self.out}: cannot write the roll directory ({one_line(exc)})") from None

    def __enter__(self) -> RollWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)

    def _text(self, name: str, body: str) -> None:
        atomic_text(self.stage / name, body)
        self.files[name] = _sha(body.encode())

    def _npz(self, name: str, arrays: dict[str, np.ndarray]) -> None:
        members: dict[str, Any] = dict(arrays)  # write_npz also takes spooled arrays
        write_npz(self.stage / name, members)
        self.files[name] = _sha((self.stage / name).read_bytes())

    def election(self, rec: ElectionRecord) -> None:
        """Write one election's pollbook (precinct by precinct) and arrivals."""
        order = np.argsort(rec.precinct, kind="stable")  # by precinct, then row
        start = np.concatenate([[0], np.cumsum(np.bincount(rec.precinct, minlength=len(rec.absentee)))]).astype(np.int64)
        self._npz(f"elections/{rec.election.iso}.npz", {"row": rec.rows[order], "precinct_start": start, "status": rec.status[order],
                                                       "reg_date": rec.reg_date[order], "voted": rec.voted[order],
                                                       "arrivals": rec.arrivals, "absentee": rec.absentee})  # fmt: skip

    def finish(self, run: RollRun, policy: str | None = None) -> dict:
        """Write the rest of ``run`` (its pollbooks must have gone to :meth:`election`), swap into place; return roll.json."""
        geo, r = run.geo, run.roll
        elections = []
        for rec in run.records:
            e, name = rec.election, f"elections/{rec.election.iso}.npz"
            if name not in self.files:
                raise PollsimError(f"{self.out}: the pollbook of {e.iso} was not written")
            elections.append({"date": e.iso, "label": e.label, "deadline": iso(e.deadline), "federal": e.federal,
                              "federal_general": e.federal_general, "governor": e.governor, "file": name})  # fmt: skip
        self._text("precincts.csv", csv_text(["index", "id", "county", "name"],
                                             [[k, pid, geo.names[geo.precinct_county[k]], geo.precinct_names[k]] for k, pid in enumerate(geo.precinct_ids)]))  # fmt: skip
        self._npz("persons.npz", {name: getattr(r, name) for name in PERSON_COLUMNS})
        self._npz("history.npz", run.history.arrays())
        self._text("counts.csv", csv_text(["election", "county", *METRICS], counts_rows(run)))
        if policy is not None:
            self._text("policy.csv", policy)
        doc = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "seed": run.plan.seed, "law": run.law,
            "effective_2024_bill": run.plan.rates.effective if run.law == "2024" else None, "scale": run.plan.scale,
            "counties": list(geo.names), "start": iso(run.start), "end": iso(run.end), "persons": int(r.n),
            "elections": elections, "calibration": run.calibration.rows(geo.names), "rates": run.plan.rates.describe(),
            "files": dict(sorted(self.files.items())),
        }  # fmt: skip
        try:
            atomic_text(self.stage / "roll.json", json.dumps(doc, indent=2) + "\n")
            if self.out.exists():
                self.out.rename(self.old)
            self.stage.rename(self.out)
        except OSError as exc:
            if self.old.exists() and not self.out.exists():
                self.old.rename(self.out)
            raise PollsimError(f"{self.out}: cannot write the roll directory ({one_line(exc)})") from None
        shutil.rmtree(self.old, ignore_errors=True)
        return doc


def write_roll(run: RollRun, out: Path | str, *, force: bool = False, policy: str | None = None) -> dict:
    """Write ``run`` (simulated without a sink: its pollbooks in memory) into the roll directory ``out``."""
    with RollWriter(out, force) as w:
        for rec in run.records:
            w.election(rec)
        return w.finish(run, policy)


class RollDir:
    """A roll directory, read through its SHA-256 checks."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        meta = self.path / "roll.json"
        if not meta.is_file():
            raise RollDirError(self.path, "is not a roll directory (no roll.json); make one with 'pollsim roll simulate --out DIR'")
        try:
            self.doc = json.loads(meta.read_text(encoding="utf-8"))
            ok = isinstance(self.doc, dict) and self.doc.get("format") == FORMAT and isinstance(self.doc.get("files"), dict)
        except (OSError, ValueError) as exc:
            raise RollDirError(meta, f"unreadable ({one_line(exc)})") from None
        if not ok:
            raise RollDirError(meta, f"not a {FORMAT} description (field 'format' or 'files' missing)")
        self._loaded: dict[str, dict[str, np.ndarray]] = {}
        if self.doc.get("format_version") != FORMAT_VERSION:
            raise RollDirError(meta, f"format_version {self.doc.get('format_version')!r}; this pollsim reads {FORMAT_VERSION}")

    def _bytes(self, name: str) -> bytes:
        want = self.doc["files"].get(name)
        if want is None:
            raise RollDirError(self.path / name, "not part of this roll directory")
        try:
            data = (self.path / name).read_bytes()
        except OSError as exc:
            raise RollDirError(self.path / name, f"missing or unreadable ({one_line(exc)})") from None
        if _sha(data) != want:
            raise RollDirError(self.path / name, "changed or damaged since it was written (SHA-256 differs from roll.json)")
        return data

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        try:
            with np.load(io.BytesIO(self._bytes(name)), allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (ValueError, OSError, KeyError) as exc:
            raise RollDirError(self.path / name, f"not a readable npz archive ({one_line(exc)})") from None

    @cached_property
    def persons(self) -> dict[str, np.ndarray]:
        return self.arrays("persons.npz")

    @cached_property
    def precincts(self) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(self._bytes("precincts.csv").decode("utf-8"))))

    @property
    def elections(self) -> list[dict]:
        return list(self.doc.get("elections", []))

    def election(self, date: str) -> tuple[dict, dict[str, np.ndarray]]:
        """An election's entry in roll.json and its arrays (read once, then kept)."""
        for e in self.elections:
            if e.get("date") == date:
                if date not in self._loaded:
                    self._loaded[date] = self.arrays(e["file"])
                return e, self._loaded[date]
        dates = ", ".join(e.get("date", "?") for e in self.elections)
        raise RollDirError(self.path, f"--election {date}: no election recorded on that day (recorded: {dates})")

    def precinct_index(self, pid: str) -> int:
        for row in self.precincts:
            if row["id"] == pid:
                return int(row["index"])
        raise RollDirError(self.path, f"--precinct {pid}: no such precinct (ids are FIPS-NNN, e.g. {self.precincts[0]['id'] if self.precincts else '28001-001'})")

    def counts(self) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(self.text("counts.csv"))))

    def has(self, name: str) -> bool:
        """Whether the roll directory holds ``name`` (``policy.csv``: made with ``--compare``)."""
        return name in self.doc["files"]

    def text(self, name: str) -> str:
        """A text file of the roll directory, checked against its SHA-256."""
        return self._bytes(name).decode("utf-8")

    def sha256(self) -> str:
        """SHA-256 of ``roll.json``, which holds every other file's: the roll's identity."""
        try:
            return hashlib.sha256((self.path / "roll.json").read_bytes()).hexdigest()
        except OSError as exc:
            raise RollDirError(self.path / "roll.json", f"unreadable ({one_line(exc)})") from None
