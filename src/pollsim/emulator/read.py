"""Election night at the county: read a device's whole memory over its serial port, and file it.

After the polls close, an official connects the county's reader to each unit's service port and
takes everything it holds: who it is, its state, its public and protective counters, its tally,
every cast vote record, every paper (VVPAT) record and its event log, what the county's
§23-15-615 ballot accounting starts from. With the county's copy of the results key every reply
the reader decides on must be sealed, bound to the sealed identity, intact and newer than any
result already accepted from that device, memory card and election (its *scope*), else the
readout is refused as *forged*, *altered* or *replayed* (docs/protocol.md section 8); the last
counter accepted per scope can be kept in a file (``seen``) so that a replay is caught across
readouts too. :mod:`pollsim.emulator.readout` then checks the log chain, the tally and the
ballot accounting.

:func:`read_device` does the reading, :func:`check_readout` the checks and :func:`write_readout`
the filing; ``pollsim read`` chains them and refuses with one line naming the port and the check
that failed. On a noisy line the link adapts (docs/protocol.md section 4); a request that still
fails is asked again, a chunk from the first record the reader lacks; the whole readout ends by
its deadline, with one line saying why.

Layout of the output directory (docs/emulator.md):

    identity.json       IDENTIFY reply, plus the port it was read from
    status.json         STATUS reply
    counters.json       COUNTERS reply
    tally.csv           column,total: one row per choice (CVR column order)
    cvrs.csv            one row per cast vote record, columns c0..c{width-1}, 0/1
    paper_records.csv   the paper records, same layout
    event_log.json      the event log: entries with their chain hashes
    verification.json   what was checked and how it came out
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import serial

from pollsim.emulator.readout import ReadError, Readout, check_readout, verify_log_chain
from pollsim.errors import PollsimError
from pollsim.files import atomic_text
from pollsim.protocol import (
    Client,
    ErrorCode,
    LinkError,
    LogEvent,
    MarksChunk,
    MessageType,
    PayloadError,
    RequestRefused,
    ResultAuthError,
    ResultVerifier,
)
from pollsim.protocol.auth import key_fingerprint
from pollsim.protocol.records import ChunkRequest, LogChunk

__all__ = ["ReadError", "Readout", "check_readout", "open_port", "read_device", "read_seen", "verify_log_chain",
           "write_readout"]  # fmt: skip

T = TypeVar("T")

BALLOT_KINDS = frozenset({"dre", "bmd", "scan-single", "scan-batch"})
DEADLINE = 600.0
"""Seconds a whole readout may take by default, however bad the line."""


def open_port(name: str, timeout: float = 0.01) -> serial.SerialBase:
    """A serial port by device path, or any pyserial URL (``pollsim://dre?...`` included)."""
    try:
        if "://" in name:
            return serial.serial_for_url(name, timeout=timeout)
        return serial.Serial(name, timeout=timeout)
    except (serial.SerialException, ValueError, OSError) as error:
        raise ReadError(f"{name}: cannot open the port ({error})") from None


class _Session:
    """One reader session on a port: asks again after link errors, names the port in errors,
    and keeps the whole readout within its deadline."""

    def __init__(self, client: Client, name: str, attempts: int, chunk: int, deadline: float):
        self.client = client
        self.name = name
        self.attempts = attempts
        self.chunk = chunk
        self.deadline = deadline
        self.end = time.monotonic() + deadline

    def _budget(self, what: str, error: Exception | None = None) -> None:
        """Give the next request what is left of the deadline, or stop with one line."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise ReadError(f"{self.name}: {what}: the readout did not finish within its deadline of {self.deadline:g} s "
                            f"({self.noise()}){f'; last: {error}' if error else ''}")  # fmt: skip
        self.client.link.deadline = left

    def noise(self) -> str:
        """What the line did to the readout so far, for an error message."""
        stats = self.client.link.stats
        if not stats.corrupt:
            return "the line damaged no frame"
        return f"{stats.corrupt} damaged frames, {stats.retransmissions} retransmissions: the line is too noisy"

    def ask(self, what: str, call: Callable[[], T]) -> T:
        error: Exception | None = None
        for _ in range(self.attempts):
            self._budget(what, error)
            try:
                return call()
            except LinkError as failure:
                error = failure
            except RequestRefused as refusal:
                raise ReadError(f"{self.name}: the device refused {what}: {refusal}") from None
            except PayloadError as bad:
                raise ReadError(f"{self.name}: {what}: {bad}") from None
        self._budget(what, error)
        raise ReadError(f"{self.name}: no answer to {what} after {self.attempts} attempts ({error})")

    def optional(self, what: str, call: Callable[[], T]) -> T | None:
        """As :meth:`ask`, but None if the device does not do it (UNSUPPORTED)."""
        try:
            return call()
        except RequestRefused as refusal:
            if refusal.code == ErrorCode.UNSUPPORTED:
                return None
            raise ReadError(f"{self.name}: the device refused {what}: {refusal}") from None
        except (LinkError, PayloadError):
            return self.ask(what, call)

    def chunks(self, request: MessageType, what: str, parse: Callable[[bytes], Any]) -> list[Any] | None:
        """Every chunk of a readout, resuming after failures; None if the device has no such
        records (UNSUPPORTED)."""
        chunks: list[Any] = []
        got, chunk, failures = 0, self.chunk, 0
        while True:
            self._budget(f"{what} from record {got}")
            payload = ChunkRequest(got, chunk).to_payload()
            try:
                part = parse(self.client.call(request, payload))
            except LinkError as error:
                failures += 1
                if failures >= self.attempts:
                    self._budget(f"{what} from record {got}", error)
                    raise ReadError(f"{self.name}: {what} from record {got}: no answer after "
                                    f"{failures} attempts ({error})") from None  # fmt: skip
                asked = chunk if not chunks else min(chunk, max(chunks[-1].total - got, 1))
                chunk = max(1, asked // 2)  # a shorter reply has a better chance on a bad line
                continue
            except RequestRefused as refusal:
                if refusal.code == ErrorCode.UNSUPPORTED:
                    return None
                raise ReadError(f"{self.name}: the device refused {what}: {refusal}") from None
            except PayloadError as bad:
                raise ReadError(f"{self.name}: {what}: {bad}") from None
            failures = 0
            if part.offset != got:
                raise ReadError(f"{self.name}: {what}: asked from record {got}, got a chunk from {part.offset}")
            chunks.append(part)
            count = len(part.events) if isinstance(part, LogChunk) else part.marks.shape[0]
            got += count
            if got >= part.total or count == 0:
                return chunks

    def marks(self, request: MessageType, what: str) -> np.ndarray | None:
        chunks = self.chunks(request, what, MarksChunk.from_payload)
        if chunks is None:
            return None
        widths = {c.marks.shape[1] for c in chunks}
        if len(widths) != 1:
            raise ReadError(f"{self.name}: {what}: chunks of different widths {sorted(widths)}")
        return np.concatenate([c.marks for c in chunks])

    def events(self) -> list[LogEvent] | None:
        chunks = self.chunks(MessageType.EVENT_LOG, "EVENT_LOG", LogChunk.from_payload)
        return None if chunks is None else [event for chunk in chunks for event in chunk.events]


def read_device(
    name: str,
    *,
    key: bytes | None = None,
    seen: dict[str, int] | None = None,
    chunk: int = 0xFFFF,
    ack_timeout: float = 0.5,
    attempts: int = 5,
    rounds: int = 5,
    deadline: float = DEADLINE,
) -> Readout:
    """Read everything from the device on port ``name``, within ``deadline`` seconds.

    With ``key`` every reply the reader decides on must be sealed and verify; ``seen`` (scope
    ``serial|definition_hash|memory_card`` -> last seal counter accepted) sets where replay
    detection starts and is updated. A device may refuse TALLY, PAPER_RECORDS and EVENT_LOG as
    UNSUPPORTED. If the counters change while the records are read (the polls are open and
    voters are voting), the readout is repeated, up to ``rounds`` times.
    """
    port = open_port(name)
    try:
        verifier = ResultVerifier(key, seen=seen) if key is not None else None
        client = Client(port, ack_timeout=ack_timeout, verifier=verifier, deadline=min(deadline, 60.0))
        session = _Session(client, name, attempts, max(1, min(chunk, 0xFFFF)), deadline)
        try:
            identity = client.identify()
        except LinkError as error:
            raise ReadError(f"{name}: no answer to IDENTIFY ({error}; {session.noise()})") from None
        except (RequestRefused, PayloadError) as error:
            raise ReadError(f"{name}: IDENTIFY: {error}") from None
        ballots = identity.kind in BALLOT_KINDS
        for _ in range(rounds):
            status = session.ask("STATUS", client.status)
            counters = session.ask("COUNTERS", client.counters)
            tally = session.optional("TALLY", client.tally) if ballots else None
            cvrs = session.marks(MessageType.CVRS, "CVRS") if ballots else None
            paper = session.marks(MessageType.PAPER_RECORDS, "PAPER_RECORDS") if ballots else None
            events = session.events()
            after = session.ask("COUNTERS", client.counters)
            if (after.public, after.protective) == (counters.public, counters.protective):
                break
        else:
            raise ReadError(f"{name}: the device kept casting ballots during {rounds} readouts; read it after the polls close")
        return Readout(
            port=name, identity=identity, status=status, counters=counters, tally=tally, cvrs=cvrs,
            paper=paper, events=events, sealed=client.sealed,
            verified_counter=None if verifier is None else verifier.last_counter,
            retransmissions=client.link.stats.retransmissions, corrupt_frames=client.link.stats.corrupt,
        )  # fmt: skip
    except ResultAuthError as error:
        raise ReadError(str(error)) from None
    finally:
        port.close()


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _marks_csv(marks: np.ndarray) -> str:
    header = ",".join(f"c{j}" for j in range(marks.shape[1]))
    rows = "\n".join(",".join(map(str, row)) for row in marks.tolist())
    return header + "\n" + rows + ("\n" if rows else "")


def write_readout(readout: Readout, checks: dict[str, Any], out: Path, key: bytes | None = None) -> None:
    """File a checked readout in ``out`` (layout in this module's docstring), each file atomically."""
    out.mkdir(parents=True, exist_ok=True)
    read_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    atomic_text(out / "identity.json", _json({**asdict(readout.identity), "port": readout.port, "read_at": read_at}))
    atomic_text(out / "status.json", _json({**asdict(readout.status), "faults": list(readout.status.faults)}))
    atomic_text(out / "counters.json", _json(asdict(readout.counters)))
    if readout.tally is not None:
        lines = [f"{j},{int(v)}" for j, v in enumerate(readout.tally)]
        atomic_text(out / "tally.csv", "column,total\n" + "".join(f"{line}\n" for line in lines))
    if readout.cvrs is not None:
        atomic_text(out / "cvrs.csv", _marks_csv(readout.cvrs))
    if readout.paper is not None:
        atomic_text(out / "paper_records.csv", _marks_csv(readout.paper))
    if readout.events is not None:
        atomic_text(out / "event_log.json", _json([asdict(event) for event in readout.events]))
    if key is not None:
        checks = {**checks, "seals": {**checks["seals"], "key_fingerprint": key_fingerprint(key)}}
    atomic_text(out / "verification.json", _json(checks))


def read_seen(path: Path) -> dict[str, int]:
    """A ``--seen`` file: a JSON object of scope ``serial|definition_hash|memory_card`` -> the
    last seal counter accepted (docs/protocol.md section 8); {} if it does not exist yet."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        seen = {str(k): int(v) for k, v in data.items()}
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise PollsimError(f"{path}: not a JSON object of serial|definition_hash|memory_card -> counter ({error})") from None
    for scope in seen:
        if scope.count("|") != 2:
            raise PollsimError(f"{path}: key {scope!r} is not serial|definition_hash|memory_card "
                               "(a file written by an older pollsim: start a new one)")  # fmt: skip
    return seen


def read_command(port: str, out: Path, *, key: bytes | None = None, seen: Path | None = None,
                 chunk: int = 0xFFFF, ack_timeout: float = 0.5, deadline: float = DEADLINE) -> str:  # fmt: skip
    """``pollsim read``: read, check, file; return a one-line summary."""
    scopes = read_seen(seen) if seen is not None else {}
    readout = read_device(port, key=key, seen=scopes, chunk=chunk, ack_timeout=ack_timeout, deadline=deadline)
    checks = check_readout(readout)
    write_readout(readout, checks, out, key)
    if seen is not None and key is not None:
        atomic_text(seen, json.dumps(scopes, indent=2, sort_keys=True) + "\n")
    ident, counts = readout.identity, checks["counts"]
    paper = counts.get("paper_records")
    records = f", {counts['cvrs']} CVRs, {'no' if paper is None else paper} paper records" if "cvrs" in counts else ""
    seals = "seals verified" if readout.verified_counter is not None else ("sealed, not verified (no --key)" if readout.sealed else "unsealed")
    log = f", {counts['log_entries']} log entries" if counts["log_entries"] is not None else ""
    return (f"{port}: {ident.kind} {ident.serial}, polls {readout.status.polls}, public {counts['public']}"
            f"{records}{log}; {seals}; log chain {checks['log_chain']} -> {out}")  # fmt: skip
