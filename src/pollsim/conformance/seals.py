"""Conformance checks of docs/protocol.md section 8, rules S1-S9: sealed results.

The county's copy of the results key (``--key``) lets the suite check what a forger could not
fake: every reply a reader decides on sealed, the MAC verifying, bound to the sealed identity's
scope, its counter rising across sessions, a reply sent again the same envelope. Without the key
the suite checks what any reader can (the envelope's layout and digest, the scope of the sealed
identity) and marks the rest n/a; on a device that does not seal, the sealing rules are n/a.
"""

from __future__ import annotations

from pollsim.conformance.messages import OPTIONAL, events_of, read_records
from pollsim.conformance.probe import CheckFailed, NotApplicable
from pollsim.conformance.suite import Context, rule
from pollsim.emulator.readout import verify_log_chain
from pollsim.protocol.auth import ResultAuthError, counter_of, is_sealed, scope_digest, unseal
from pollsim.protocol.messages import Counters, ErrorCode, Identity, MessageType, RequestRefused, reply_type
from pollsim.protocol.records import ChunkRequest

__all__: list[str] = []

SEALED_KINDS = (MessageType.IDENTIFY, MessageType.STATUS, MessageType.COUNTERS, *OPTIONAL[:3])


def _sealing(ctx: Context) -> None:
    """n/a unless the device seals (or a key says it must)."""
    ctx.device()
    if not ctx.sealed and ctx.key is None:
        raise NotApplicable("the device does not seal (IDENTIFY) and no --key was given")


def _raw(ctx: Context, request: MessageType) -> bytes | None:
    """A reply's payload as it came (sealed or not); None if UNSUPPORTED."""
    body = ChunkRequest(0, 0xFFFF).to_payload() if request in (MessageType.CVRS, MessageType.PAPER_RECORDS) else b""
    frame = ctx.probe.request(request, body)
    if frame.msg_type == MessageType.ERROR:
        refusal = RequestRefused.from_payload(frame.payload)
        if refusal.code == ErrorCode.UNSUPPORTED and request in OPTIONAL:
            return None
        raise refusal
    if frame.msg_type != reply_type(request):
        raise CheckFailed(f"reply type 0x{frame.msg_type:02x} to {request.name}")
    return frame.payload


def _all(ctx: Context) -> dict[MessageType, bytes]:
    ctx.session()
    replies = {kind: _raw(ctx, kind) for kind in SEALED_KINDS}
    return {kind: payload for kind, payload in replies.items() if payload is not None}


@rule("S1", "with the key every sealed reply opens: MAC, scope, digest, counter above the last")
def opening(ctx: Context) -> str:
    verifier = ctx.verifier()
    replies = _all(ctx)
    try:
        for kind, payload in replies.items():
            if kind == MessageType.IDENTIFY:
                verifier.open_identity(payload)
            else:
                verifier.open(payload)
    except ResultAuthError as error:
        raise CheckFailed(f"{kind.name} reply is {error.what}: {error}") from None
    return f"{len(replies)} replies verified, counters up to {verifier.last_counter}"


@rule("S2", "IDENTIFY sealed, bound to the scope of the identity it carries")
def identity_first(ctx: Context) -> str:
    _sealing(ctx)
    ctx.session()
    payload = _raw(ctx, MessageType.IDENTIFY)
    assert payload is not None
    if not is_sealed(payload):
        raise CheckFailed("the IDENTIFY reply is not sealed (a reader with the key takes it as forged)")
    if ctx.key is not None:
        try:
            identity = ctx.verifier().open_identity(payload)
        except ResultAuthError as error:
            raise CheckFailed(f"IDENTIFY reply is {error.what}: {error}") from None
    else:
        identity = Identity.from_payload(unseal(payload))
        if payload[12:44] != scope_digest(identity.scope):
            raise CheckFailed("the sealed IDENTIFY's scope is not that of the identity it carries")
    if not identity.sealed:
        raise CheckFailed("the sealed IDENTIFY does not say \"sealed\": true")
    return f"scope {identity.scope}"


@rule("S3", "every reply of the sealed kinds sealed")
def every_decision(ctx: Context) -> str:
    _sealing(ctx)
    replies = _all(ctx)
    bare = [kind.name for kind, payload in replies.items() if not is_sealed(payload)]
    if bare:
        raise CheckFailed(f"not sealed: {', '.join(bare)}")
    return f"sealed: {', '.join(kind.name for kind in replies)}"


@rule("S4", "sealed COUNTERS vouch for the event log: chain from definition_hash to log_head")
def log_through_counters(ctx: Context) -> str:
    _sealing(ctx)
    ident = ctx.device()
    ctx.session()
    identity, counters_payload = _raw(ctx, MessageType.IDENTIFY), _raw(ctx, MessageType.COUNTERS)
    assert identity is not None and counters_payload is not None
    if ctx.key is not None:
        verifier = ctx.verifier()
        try:
            verifier.open_identity(identity)
            opened = verifier.open(counters_payload)
        except ResultAuthError as error:
            raise CheckFailed(f"reply is {error.what}: {error}") from None
    else:
        opened = unseal(counters_payload)
    counters = Counters.from_payload(opened)
    if counters.log_entries is None or counters.log_head is None or not ident.definition_hash:
        raise CheckFailed("sealed COUNTERS without log_entries and log_head (or no definition_hash)")
    chunks = read_records(ctx, MessageType.EVENT_LOG)
    if chunks is None:
        raise CheckFailed("EVENT_LOG is UNSUPPORTED: a sealing device's log cannot be verified")
    events = events_of(chunks)[: counters.log_entries]
    problem = verify_log_chain(ident.definition_hash, events)
    head = events[-1].hash if events else ident.definition_hash
    if problem is not None or len(events) != counters.log_entries or head != counters.log_head:
        raise CheckFailed(f"the event log does not chain to the sealed log_head ({problem or 'head differs'})")
    return f"{counters.log_entries} entries chain to the sealed head"


@rule("S5", "seal counters keep rising within the scope across sessions")
def scopes(ctx: Context) -> str:
    _sealing(ctx)
    counters = []
    for _ in range(2):
        ctx.session()
        payload = _raw(ctx, MessageType.IDENTIFY)
        assert payload is not None
        if not is_sealed(payload):
            raise CheckFailed("the IDENTIFY reply is not sealed")
        if ctx.key is not None:
            try:
                ctx.verifier().open_identity(payload)
            except ResultAuthError as error:
                raise CheckFailed(f"IDENTIFY in a new session is {error.what}: {error}") from None
        counters.append(counter_of(payload))
    if counters[1] <= counters[0]:
        raise CheckFailed(f"a new session's seal counter {counters[1]} is not above {counters[0]}")
    return f"counter {counters[0]} then {counters[1]}"


@rule("S6", "the reader's --seen file keeps the last counter per scope", required=False)
def seen_file(ctx: Context) -> str:
    raise NotApplicable("a reader's rule (pollsim read --seen): nothing to check on a device")


@rule("S7", "sealed replies open without the key: layout and digest")
def without_key(ctx: Context) -> str:
    _sealing(ctx)
    replies = _all(ctx)
    for kind, payload in replies.items():
        if is_sealed(payload):
            try:
                unseal(payload)
            except ResultAuthError as error:
                raise CheckFailed(f"{kind.name} envelope is {error.what}: {error}") from None
    return f"{sum(map(is_sealed, replies.values()))} envelopes intact"


@rule("S8", "each counter used once, rising; a reply sent again is the same envelope")
def counter_once(ctx: Context) -> str:
    _sealing(ctx)
    ctx.session()
    probe = ctx.probe
    first, again = probe.ask_twice(MessageType.STATUS)  # asked again: the same envelope, not sealed anew
    new = probe.request(MessageType.STATUS)
    if not all(map(is_sealed, (first.payload, again.payload, new.payload))):
        raise CheckFailed("a STATUS reply is not sealed")
    if again.payload != first.payload:
        raise CheckFailed(f"a reply sent again was sealed anew (counter {counter_of(first.payload)} then {counter_of(again.payload)})")
    if counter_of(new.payload) <= counter_of(first.payload):
        raise CheckFailed(f"a new request's seal counter {counter_of(new.payload)} is not above {counter_of(first.payload)}")
    return f"same envelope sent again; next counter {counter_of(new.payload)} > {counter_of(first.payload)}"


@rule("S9", "a pollbook seals IDENTIFY, STATUS and COUNTERS")
def pollbooks(ctx: Context) -> str:
    if ctx.device().kind != "electronic-poll-book":
        raise NotApplicable(f"not a pollbook ({ctx.device().kind})")
    _sealing(ctx)
    replies = _all(ctx)
    bare = [kind.name for kind in SEALED_KINDS[:3] if not is_sealed(replies[kind])]
    if bare:
        raise CheckFailed(f"not sealed: {', '.join(bare)}")
    return "IDENTIFY, STATUS and COUNTERS sealed"
