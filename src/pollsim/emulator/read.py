"""Election night at the county: read a device's whole memory over its serial port, and check it.

After the polls close, an official connects the county's reader to each unit's service port and
takes everything it holds: who it is, its state, its public and protective counters, its tally,
every cast vote record, every paper (VVPAT) record and its event log. Before anything is filed,
the reader checks what it got:

1. **Seals** (with the county's copy of the results key): every result reply must be genuine,
   intact and newer than any result already accepted from that device, else the readout is
   refused as *forged*, *altered* or *replayed* (docs/protocol.md section 8). The last counter
   accepted per device can be kept in a file (``seen``) so that a replay is caught across
   readouts too.
2. **The event log's hash chain**: each entry's hash must follow from the previous one and from
   the entry's own text, starting from the election definition's SHA-256; the sealed counters
   name the log's head, so a log rewritten in transit does not pass either.
3. **Ballot accounting**: public counter = CVRs = paper records (in test mode, CVRs = paper
   records, which the protective counter must cover).

:func:`read_device` does the reading, :func:`check_readout` the checks and :func:`write_readout`
the filing; ``pollsim read`` chains them and refuses with one line naming the port and the check
that failed. On a noisy line the reader asks again (a chunk request resumes at the first record
it lacks, with half as many records per chunk after each failure).

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
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import serial

from pollsim.errors import PollsimError
from pollsim.protocol import (
    Client,
    Counters,
    ErrorCode,
    Identity,
    LinkError,
    LogEvent,
    MarksChunk,
    MessageType,
    PayloadError,
    RequestRefused,
    ResultVerifier,
    Status,
)
from pollsim.protocol.auth import key_fingerprint
from pollsim.protocol.messages import ChunkRequest, LogChunk

__all__ = ["ReadError", "Readout", "check_readout", "open_port", "read_device", "verify_log_chain", "write_readout"]

T = TypeVar("T")

BALLOT_KINDS = frozenset({"dre", "bmd", "scan-single", "scan-batch"})


class ReadError(PollsimError):
    """A readout that cannot be completed or must not be accepted; names the port."""


@dataclass
class Readout:
    """Everything read from one device."""

    port: str
    identity: Identity
    status: Status
    counters: Counters
    tally: np.ndarray | None
    """Per-choice totals (None: the device keeps no ballots)."""
    cvrs: np.ndarray | None
    paper: np.ndarray | None
    events: list[LogEvent]
    sealed: bool
    """Whether the results came sealed."""
    verified_counter: int | None
    """The last seal counter accepted (None: seals not checked, no key)."""
    retransmissions: int
    corrupt_frames: int


def open_port(name: str, timeout: float = 0.01) -> serial.SerialBase:
    """A serial port by device path, or any pyserial URL (``pollsim://dre?...`` included)."""
    try:
        if "://" in name:
            return serial.serial_for_url(name, timeout=timeout)
        return serial.Serial(name, timeout=timeout)
    except (serial.SerialException, ValueError, OSError) as error:
        raise ReadError(f"{name}: cannot open the port ({error})") from None


class _Session:
    """One reader session on a port: asks again after link errors, names the port in errors."""

    def __init__(self, client: Client, name: str, attempts: int, chunk: int):
        self.client = client
        self.name = name
        self.attempts = attempts
        self.chunk = chunk

    def ask(self, what: str, call: Callable[[], T]) -> T:
        error: Exception | None = None
        for _ in range(self.attempts):
            try:
                return call()
            except LinkError as failure:
                error = failure
            except RequestRefused as refusal:
                raise ReadError(f"{self.name}: the device refused {what}: {refusal}") from None
            except PayloadError as bad:
                raise ReadError(f"{self.name}: {what}: {bad}") from None
        raise ReadError(f"{self.name}: no answer to {what} after {self.attempts} attempts ({error})")

    def chunks(self, request: MessageType, what: str, parse: Callable[[bytes], Any]) -> list[Any] | None:
        """Every chunk of a readout, resuming after failures; None if the device has no such
        records (UNSUPPORTED)."""
        chunks: list[Any] = []
        got, chunk, failures = 0, self.chunk, 0
        while True:
            payload = ChunkRequest(got, chunk).to_payload()
            try:
                part = parse(self.client.call(request, payload))
            except LinkError as error:
                failures += 1
                if failures >= self.attempts:
                    raise ReadError(f"{self.name}: {what} from record {got}: no answer after "
                                    f"{failures} attempts ({error})") from None  # fmt: skip
                asked = chunk if not chunks else min(chunk, max(chunks[-1].total - got, 1))
                chunk = max(1, asked // 2)  # a shorter frame has a better chance on a bad line
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

    def events(self) -> list[LogEvent]:
        chunks = self.chunks(MessageType.EVENT_LOG, "EVENT_LOG", LogChunk.from_payload) or []
        return [event for chunk in chunks for event in chunk.events]


def read_device(
    name: str,
    *,
    key: bytes | None = None,
    last_counters: dict[str, int] | None = None,
    chunk: int = 0xFFFF,
    ack_timeout: float = 0.5,
    attempts: int = 5,
    rounds: int = 5,
) -> Readout:
    """Read everything from the device on port ``name``.

    With ``key`` every result must be sealed and verify; ``last_counters`` (serial -> last seal
    counter accepted) sets where replay detection starts and is updated. If the counters change
    while the records are read (the polls are open and voters are voting), the readout is
    repeated, up to ``rounds`` times.
    """
    port = open_port(name)
    try:
        verifier = ResultVerifier(key) if key is not None else None
        client = Client(port, ack_timeout=ack_timeout, verifier=verifier)
        session = _Session(client, name, attempts, max(1, min(chunk, 0xFFFF)))
        try:
            identity = client.identify()
        except LinkError as error:
            raise ReadError(f"{name}: no answer to IDENTIFY: is a device on this port? ({error})") from None
        except (RequestRefused, PayloadError) as error:
            raise ReadError(f"{name}: IDENTIFY: {error}") from None
        if verifier is not None and last_counters is not None:
            verifier.last_counter = last_counters.get(identity.serial, 0)
        ballots = identity.kind in BALLOT_KINDS
        for _ in range(rounds):
            status = session.ask("STATUS", client.status)
            counters = session.ask("COUNTERS", client.counters)
            tally = session.ask("TALLY", client.tally) if ballots else None
            cvrs = session.marks(MessageType.CVRS, "CVRS") if ballots else None
            paper = session.marks(MessageType.PAPER_RECORDS, "PAPER_RECORDS") if ballots else None
            events = session.events()
            after = session.ask("COUNTERS", client.counters)
            if (after.public, after.protective) == (counters.public, counters.protective):
                break
        else:
            raise ReadError(f"{name}: the device kept casting ballots during {rounds} readouts; read it after the polls close")
        if verifier is not None and last_counters is not None:
            last_counters[identity.serial] = verifier.last_counter
        return Readout(
            port=name, identity=identity, status=status, counters=counters, tally=tally, cvrs=cvrs,
            paper=paper, events=events, sealed=client.sealed,
            verified_counter=None if verifier is None else verifier.last_counter,
            retransmissions=client.link.stats.retransmissions, corrupt_frames=client.link.stats.corrupt,
        )  # fmt: skip
    finally:
        port.close()


def verify_log_chain(genesis: str, events: list[LogEvent]) -> str | None:
    """Recompute the event log's hash chain from ``genesis``; return where it breaks, or None.

    Entry *n*'s hash is SHA-256(bytes of entry *n-1*'s hash ‖ UTF-8 of entry *n*'s canonical
    text); the canonical text is ``sequence|time|device|event_id|disposition|description``.
    """
    previous = genesis
    for n, event in enumerate(events, 1):
        if event.sequence != n:
            return f"entry {n} has sequence {event.sequence}"
        if not event.hash or not event.canonical:
            return f"entry {n} carries no chain hash"
        fields = event.canonical.split("|", 5)
        if len(fields) != 6 or (fields[0], fields[3], fields[4], fields[5]) != (
            str(event.sequence), event.event_id, event.disposition, event.description,
        ):  # fmt: skip
            return f"entry {n}: its hashed text does not match its fields"
        try:
            expected = hashlib.sha256(bytes.fromhex(previous) + event.canonical.encode()).hexdigest()
        except ValueError:
            return f"entry {n}: the previous hash is not hex"
        if expected != event.hash:
            return f"entry {n}: its hash does not follow from entry {n - 1} and its own text"
        previous = event.hash
    return None


def check_readout(readout: Readout) -> dict[str, Any]:
    """Check the log chain and the ballot accounting; raise :class:`ReadError` naming the port
    and the failed check, or return what was checked (for verification.json)."""
    name, counters = readout.port, readout.counters
    genesis = readout.identity.definition_hash
    chain = "not verifiable (the device did not give its election definition hash)"
    if genesis:
        problem = verify_log_chain(genesis, readout.events)
        if problem is not None:
            raise ReadError(f"{name}: event log chain broken: {problem}")
        chain = "verified"
    if counters.log_head is not None and counters.log_entries is not None:
        n = counters.log_entries
        if n > len(readout.events) or (n and readout.events[n - 1].hash != counters.log_head):
            raise ReadError(f"{name}: event log does not match the head the counters vouch for (entry {n})")
    counts: dict[str, Any] = {"public": counters.public, "protective": counters.protective,
                              "log_entries": len(readout.events)}  # fmt: skip
    if readout.cvrs is not None:
        n_cvr = len(readout.cvrs)
        n_paper = None if readout.paper is None else len(readout.paper)
        counts.update(cvrs=n_cvr, paper_records=n_paper)
        if n_paper is not None and n_paper != n_cvr:
            raise ReadError(f"{name}: ballot accounting: {n_cvr} CVRs but {n_paper} paper records")
        if readout.status.test_mode:
            if counters.protective < n_cvr:
                raise ReadError(f"{name}: ballot accounting: {n_cvr} test CVRs but protective counter {counters.protective}")
        elif counters.public != n_cvr:
            raise ReadError(f"{name}: ballot accounting: public counter {counters.public} but {n_cvr} CVRs")
    seals = {"sealed": readout.sealed, "verified": readout.verified_counter is not None,
             "last_counter": readout.verified_counter}  # fmt: skip
    return {"port": name, "log_chain": chain, "counts": counts, "seals": seals,
            "retransmissions": readout.retransmissions, "corrupt_frames": readout.corrupt_frames}  # fmt: skip


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _write_marks(path: Path, marks: np.ndarray) -> None:
    header = ",".join(f"c{j}" for j in range(marks.shape[1]))
    rows = "\n".join(",".join(map(str, row)) for row in marks.tolist())
    path.write_text(header + "\n" + rows + ("\n" if rows else ""))


def write_readout(readout: Readout, checks: dict[str, Any], out: Path, key: bytes | None = None) -> None:
    """File a checked readout in ``out`` (layout in this module's docstring)."""
    out.mkdir(parents=True, exist_ok=True)
    read_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    _write_json(out / "identity.json", {**asdict(readout.identity), "port": readout.port, "read_at": read_at})
    status = asdict(readout.status)
    status["polls"], status["faults"] = readout.status.polls.value, list(readout.status.faults)
    _write_json(out / "status.json", status)
    _write_json(out / "counters.json", asdict(readout.counters))
    if readout.tally is not None:
        lines = [f"{j},{int(v)}" for j, v in enumerate(readout.tally)]
        (out / "tally.csv").write_text("column,total\n" + "".join(f"{line}\n" for line in lines))
    if readout.cvrs is not None:
        _write_marks(out / "cvrs.csv", readout.cvrs)
    if readout.paper is not None:
        _write_marks(out / "paper_records.csv", readout.paper)
    _write_json(out / "event_log.json", [asdict(event) for event in readout.events])
    if key is not None:
        checks = {**checks, "seals": {**checks["seals"], "key_fingerprint": key_fingerprint(key)}}
    _write_json(out / "verification.json", checks)


def read_command(port: str, out: Path, *, key: bytes | None = None, seen: Path | None = None,
                 chunk: int = 0xFFFF, ack_timeout: float = 0.5) -> str:  # fmt: skip
    """``pollsim read``: read, check, file; return a one-line summary."""
    last: dict[str, int] = {}
    if seen is not None and seen.exists():
        try:
            last = {str(k): int(v) for k, v in json.loads(seen.read_text()).items()}
        except (ValueError, AttributeError, TypeError) as error:
            raise PollsimError(f"{seen}: not a JSON object of serial -> counter ({error})") from None
    readout = read_device(port, key=key, last_counters=last, chunk=chunk, ack_timeout=ack_timeout)
    checks = check_readout(readout)
    write_readout(readout, checks, out, key)
    if seen is not None and key is not None:
        temporary = seen.with_name(f".{seen.name}.{os.getpid()}")
        temporary.write_text(json.dumps(last, indent=2, sort_keys=True) + "\n")
        os.replace(temporary, seen)
    ident, counts = readout.identity, checks["counts"]
    records = f", {counts['cvrs']} CVRs, {counts['paper_records']} paper records" if "cvrs" in counts else ""
    seals = "seals verified" if readout.verified_counter is not None else ("sealed, not verified (no --key)" if readout.sealed else "unsealed")
    return (f"{port}: {ident.kind} {ident.serial}, polls {readout.status.polls.value}, public {counts['public']}"
            f"{records}, {counts['log_entries']} log entries; {seals}; log chain {checks['log_chain']} -> {out}")  # fmt: skip
