"""Conformance checks of docs/protocol.md sections 5 and 6: the messages and error codes.

What a county's reader decides on must have the layout section 5 gives: IDENTIFY's fields
(device id, NIST SP 1500-101 kind, contest layout), STATUS, COUNTERS, TALLY equal to what the
CVRs give under the vote-for-N rules, an event log with the NIST fields and an intact hash chain.
A device may refuse any request but IDENTIFY, STATUS and COUNTERS with UNSUPPORTED; a malformed
request must get BAD_REQUEST, an unknown type UNKNOWN_MESSAGE, a test-mode request outside test
mode NOT_IN_TEST_MODE. The suite never changes a device's state: it opens no polls, casts no
ballot, prints no tape. M1-M9 are numbers of this suite.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np

from pollsim.conformance.probe import CheckFailed, NotApplicable
from pollsim.conformance.suite import Context, rule
from pollsim.emulator.readout import layout_tally, verify_log_chain
from pollsim.protocol.messages import Counters, ErrorCode, Identity, MessageType, RequestRefused, Status
from pollsim.protocol.records import ChunkRequest, LogChunk, LogEvent, MarksChunk, decode_tally

__all__ = ["OPTIONAL", "read_records", "refused"]

KINDS = frozenset({"dre", "bmd", "scan-single", "scan-batch", "electronic-poll-book", "ballot-activation"})
OPTIONAL = (MessageType.TALLY, MessageType.CVRS, MessageType.PAPER_RECORDS, MessageType.EVENT_LOG)
DISPOSITIONS = frozenset({"success", "failure", "na", "other"})


def refused(ctx: Context, request: MessageType, body: bytes = b"") -> int:
    """The error code a request is refused with (0: it was answered)."""
    try:
        ctx.ask(request, body)
    except RequestRefused as refusal:
        return int(refusal.code)
    return 0


def read_records(ctx: Context, request: MessageType, step: int = 0xFFFF) -> list[MarksChunk | LogChunk] | None:
    """Every chunk of a readout asked ``step`` records at a time; None if UNSUPPORTED."""
    parse = LogChunk.from_payload if request == MessageType.EVENT_LOG else MarksChunk.from_payload
    chunks: list[MarksChunk | LogChunk] = []
    got = 0
    while True:
        try:
            chunk = parse(ctx.ask(request, ChunkRequest(got, step).to_payload()))
        except RequestRefused as refusal:
            if refusal.code == ErrorCode.UNSUPPORTED and not chunks:
                return None
            raise
        if chunk.offset != got:
            raise CheckFailed(f"{request.name} from {got}: the chunk says offset {chunk.offset}")
        count = len(chunk.events) if isinstance(chunk, LogChunk) else chunk.marks.shape[0]
        chunks.append(chunk)
        got += count
        if got >= chunk.total or count == 0:
            return chunks


def _marks(chunks: list[MarksChunk | LogChunk]) -> np.ndarray:
    parts = [c.marks for c in chunks if isinstance(c, MarksChunk)]
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.uint8)


def events_of(chunks: list[MarksChunk | LogChunk]) -> list[LogEvent]:
    return [event for chunk in chunks if isinstance(chunk, LogChunk) for event in chunk.events]


@rule("M1", "IDENTIFY reply: device id 1..65534, NIST kind, model, serial, firmware, optional fields typed")
def identify_fields(ctx: Context) -> str:
    ctx.session()
    payload = ctx.ask(MessageType.IDENTIFY)
    identity = Identity.from_payload(payload)
    record = json.loads(payload)
    if identity.kind not in KINDS:
        raise CheckFailed(f"kind {identity.kind!r} is not a NIST SP 1500-101 device type")
    if record.get("sealed", True) is not True:
        raise CheckFailed("'sealed' sent as false: it is sent only when true")
    digest = identity.definition_hash
    if digest and (len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest.lower())):
        raise CheckFailed(f"definition_hash {digest!r} is not a hex SHA-256")
    if ctx.probe.device_id != identity.device_id:
        raise CheckFailed(f"device id {identity.device_id}, the survey found {ctx.probe.device_id}")
    layout = f", {len(identity.contests)} contests" if identity.contests else ", no contest layout"
    return f"{identity.kind} {identity.model} {identity.serial} id {identity.device_id}{layout}"


@rule("M2", "STATUS reply: polls closed/open/paused/final, test_mode, clock, faults")
def status_fields(ctx: Context) -> str:
    ctx.session()
    status = Status.from_payload(ctx.ask(MessageType.STATUS))
    return f"polls {status.polls}, test mode {status.test_mode}, {len(status.faults)} faults"


@rule("M3", "COUNTERS reply: public <= protective; log_entries with log_head")
def counters_fields(ctx: Context) -> str:
    ctx.session()
    counters = Counters.from_payload(ctx.ask(MessageType.COUNTERS))
    if counters.public > counters.protective:
        raise CheckFailed(f"public {counters.public} > protective {counters.protective} (the protective counter counts every ballot)")
    if (counters.log_entries is None) != (counters.log_head is None):
        raise CheckFailed("log_entries and log_head must come together")
    return f"public {counters.public}, protective {counters.protective}"


@rule("M4", "a request with a malformed payload is refused with BAD_REQUEST")
def bad_request(ctx: Context) -> str:
    ctx.session()
    code = refused(ctx, MessageType.STATUS, b"x")
    if code != ErrorCode.BAD_REQUEST:
        raise CheckFailed(f"STATUS with a 1-byte payload: {'answered' if not code else f'error code {code}'}, not BAD_REQUEST")
    code = refused(ctx, MessageType.EVENT_LOG, b"\x00\x00\x00")
    if code not in (ErrorCode.BAD_REQUEST, ErrorCode.UNSUPPORTED):
        raise CheckFailed(f"EVENT_LOG with a 3-byte request: {'answered' if not code else f'error code {code}'}, not BAD_REQUEST")
    return "STATUS with a payload and a short chunk request refused with BAD_REQUEST"


@rule("M5", "an unknown message type is refused with UNKNOWN_MESSAGE")
def unknown_type(ctx: Context) -> str:
    ctx.session()
    frame = ctx.probe.request(0x2E)
    if frame.msg_type != MessageType.ERROR:
        raise CheckFailed(f"type 0x2e answered with type 0x{frame.msg_type:02x}, not ERROR")
    refusal = RequestRefused.from_payload(frame.payload)
    if refusal.code != ErrorCode.UNKNOWN_MESSAGE:
        raise CheckFailed(f"type 0x2e refused with code {int(refusal.code)}, not UNKNOWN_MESSAGE (1)")
    return "type 0x2e refused with UNKNOWN_MESSAGE"


@rule("M6", "TALLY, CVRS, PAPER_RECORDS, EVENT_LOG answered, or refused with UNSUPPORTED")
def optional_requests(ctx: Context) -> str:
    ctx.session()
    have, lack = [], []
    for request in OPTIONAL:
        body = b"" if request == MessageType.TALLY else ChunkRequest(0, 1).to_payload()
        try:
            payload = ctx.ask(request, body)
        except RequestRefused as refusal:
            if refusal.code != ErrorCode.UNSUPPORTED:
                raise CheckFailed(f"{request.name} refused with {refusal}, not UNSUPPORTED") from None
            lack.append(request.name)
            continue
        {MessageType.TALLY: decode_tally, MessageType.EVENT_LOG: LogChunk.from_payload}.get(request, MarksChunk.from_payload)(payload)
        have.append(request.name)
    return f"answered: {', '.join(have) or 'none'}; UNSUPPORTED: {', '.join(lack) or 'none'}"


@rule("M7", "CAST_TEST_BALLOT and INJECT_FAULT refused outside test mode")
def test_mode_only(ctx: Context) -> str:
    ctx.session()
    status = Status.from_payload(ctx.ask(MessageType.STATUS))
    if status.test_mode:
        raise NotApplicable("the device is in test mode: the suite casts no test ballot")
    width = sum(c for c, _ in ctx.device().contests) or 1
    for request, body in ((MessageType.CAST_TEST_BALLOT, bytes(width)),
                          (MessageType.INJECT_FAULT, b'{"fault":"paper_out","params":{}}')):  # fmt: skip
        code = refused(ctx, request, body)
        if code not in (ErrorCode.NOT_IN_TEST_MODE, ErrorCode.UNSUPPORTED):
            raise CheckFailed(f"{request.name} outside test mode: {'answered' if not code else f'error code {code}'}")
    return "both refused outside test mode"


@rule("M8", "TALLY equals what the CVRs give under the vote-for-N rules")
def tally_matches(ctx: Context) -> str:
    contests = ctx.device().contests
    if not contests:
        raise NotApplicable("IDENTIFY gives no contest layout")
    ctx.session()
    for _ in range(3):  # the polls may be open: read again until no ballot was cast meanwhile
        try:
            tally = decode_tally(ctx.ask(MessageType.TALLY))
        except RequestRefused as refusal:
            if refusal.code == ErrorCode.UNSUPPORTED:
                raise NotApplicable("TALLY is UNSUPPORTED") from None
            raise
        chunks = read_records(ctx, MessageType.CVRS)
        if chunks is None:
            raise NotApplicable("CVRS is UNSUPPORTED")
        cvrs = _marks(chunks)
        if np.array_equal(decode_tally(ctx.ask(MessageType.TALLY)), tally):
            break
    width = sum(c for c, _ in contests)
    if len(tally) != width or (len(cvrs) and cvrs.shape[1] != width):
        raise CheckFailed(f"{len(tally)} totals and {cvrs.shape[1] if len(cvrs) else width} CVR columns for {width} choices")
    expected = layout_tally(contests, cvrs.reshape(-1, width))
    if not np.array_equal(tally, expected):
        first = int(np.flatnonzero(tally != expected)[0])
        raise CheckFailed(f"TALLY choice {first} is {tally[first]}, the {len(cvrs)} CVRs give {expected[first]}")
    return f"{width} totals equal the count of {len(cvrs)} CVRs"


@rule("M9", "EVENT_LOG: NIST fields, sequence from 1, RFC 3339 times, hash chain to the counters' head")
def event_log(ctx: Context) -> str:
    ident = ctx.device()
    ctx.session()
    counters = Counters.from_payload(ctx.ask(MessageType.COUNTERS))
    chunks = read_records(ctx, MessageType.EVENT_LOG)
    if chunks is None:
        raise NotApplicable("EVENT_LOG is UNSUPPORTED")
    events = events_of(chunks)
    for n, event in enumerate(events, 1):
        if event.sequence != n:
            raise CheckFailed(f"entry {n} has sequence {event.sequence}")
        if event.disposition not in DISPOSITIONS:
            raise CheckFailed(f"entry {n}: disposition {event.disposition!r}")
        try:
            stamp = dt.datetime.fromisoformat(event.timestamp)
        except ValueError:
            raise CheckFailed(f"entry {n}: timestamp {event.timestamp!r} is not ISO 8601") from None
        if stamp.tzinfo is None:
            raise CheckFailed(f"entry {n}: timestamp {event.timestamp!r} has no UTC offset")
    chained = all(event.hash for event in events) and bool(events)
    if chained and ident.definition_hash:
        problem = verify_log_chain(ident.definition_hash, events)
        if problem is not None:
            raise CheckFailed(f"hash chain broken: {problem}")
    if counters.log_entries is not None and ident.definition_hash:
        n = counters.log_entries
        head = events[n - 1].hash if 0 < n <= len(events) else ident.definition_hash if n == 0 else None
        if head != counters.log_head:
            raise CheckFailed(f"the counters' log_head is not the hash of entry {n}")
    return f"{len(events)} entries{', chain verified' if chained and ident.definition_hash else ''}"
