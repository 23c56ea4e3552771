"""Conformance checks of docs/protocol.md section 7: chunked readouts (CVRS, PAPER_RECORDS,
EVENT_LOG).

On election night a readout that breaks halfway resumes from the first record the county lacks:
that works only if every device cuts its chunks as section 7 says (no more than asked, no more
than remain, at least one while records remain), answers an offset at the end with an empty
chunk and one past it with OUT_OF_RANGE, and hands out the same records whichever way the
readout is cut. R1-R3 are numbers of this suite; a request the device refuses with UNSUPPORTED
is skipped (n/a when it refuses all three).
"""

from __future__ import annotations

from pollsim.conformance.messages import events_of, read_records
from pollsim.conformance.probe import CheckFailed, NotApplicable
from pollsim.conformance.suite import Context, rule
from pollsim.protocol.messages import ErrorCode, MessageType, RequestRefused
from pollsim.protocol.records import ChunkRequest, LogChunk, MarksChunk

__all__: list[str] = []

READOUTS = (MessageType.CVRS, MessageType.PAPER_RECORDS, MessageType.EVENT_LOG)


def _chunk(ctx: Context, request: MessageType, offset: int, count: int) -> MarksChunk | LogChunk | None:
    payload = ChunkRequest(offset, count).to_payload()
    try:
        body = ctx.ask(request, payload)
    except RequestRefused as refusal:
        if refusal.code == ErrorCode.UNSUPPORTED:
            return None
        raise
    return LogChunk.from_payload(body) if request == MessageType.EVENT_LOG else MarksChunk.from_payload(body)


def _count(chunk: MarksChunk | LogChunk) -> int:
    return len(chunk.events) if isinstance(chunk, LogChunk) else int(chunk.marks.shape[0])


def _each(ctx: Context, check) -> str:
    ctx.session()
    done = []
    for request in READOUTS:
        first = _chunk(ctx, request, 0, 2)
        if first is not None:
            done.append(f"{request.name}: {check(request, first)}")
    if not done:
        raise NotApplicable("CVRS, PAPER_RECORDS and EVENT_LOG are all UNSUPPORTED")
    return "; ".join(done)


@rule("R1", "a chunk: offset as asked, no more records than asked or remain, at least one while any remain")
def chunk_sizes(ctx: Context) -> str:
    def check(request: MessageType, first: MarksChunk | LogChunk) -> str:
        for asked, chunk in ((2, first), (0xFFFF, _chunk(ctx, request, 0, 0xFFFF))):
            assert chunk is not None
            got = _count(chunk)
            if chunk.offset != 0:
                raise CheckFailed(f"{request.name} from 0: chunk offset {chunk.offset}")
            if got > asked or got > chunk.total:
                raise CheckFailed(f"{request.name}: {got} records for {asked} asked of {chunk.total}")
            if got == 0 and chunk.total > 0:
                raise CheckFailed(f"{request.name}: an empty chunk though {chunk.total} records remain")
        return f"{first.total} records"

    return _each(ctx, check)


@rule("R2", "an offset at the end gets an empty chunk, one past it OUT_OF_RANGE")
def chunk_ends(ctx: Context) -> str:
    def check(request: MessageType, first: MarksChunk | LogChunk) -> str:
        total = first.total
        for _ in range(3):  # a device still voting may add records meanwhile: ask at its new end
            end = _chunk(ctx, request, total, 10)
            assert end is not None
            if end.total > total:
                total = end.total
                continue
            if _count(end) != 0 or end.offset != total:
                raise CheckFailed(f"{request.name} from {total} (the total): {_count(end)} records at offset {end.offset}")
            try:
                past = _chunk(ctx, request, total + 1, 10)
            except RequestRefused as refusal:
                if refusal.code != ErrorCode.OUT_OF_RANGE:
                    raise CheckFailed(f"{request.name} past the end refused with {refusal}, not OUT_OF_RANGE") from None
                return "end empty, past it OUT_OF_RANGE"
            assert past is not None
            if past.total <= total:
                raise CheckFailed(f"{request.name} from {total + 1} (past the end) was answered, not OUT_OF_RANGE")
            total = past.total
        raise CheckFailed(f"{request.name}: the total kept growing; check the device with its polls closed")

    return _each(ctx, check)

@rule("R3", "a readout resumed from any offset gives the same records as one read whole")
def chunk_resume(ctx: Context) -> str:
    def check(request: MessageType, first: MarksChunk | LogChunk) -> str:
        whole = read_records(ctx, request)
        step = max(1, first.total // 3)
        cut = read_records(ctx, request, step)
        assert whole is not None and cut is not None
        # records keep their order; a device still voting only adds to the end: compare what both hold
        if request == MessageType.EVENT_LOG:
            one, two = events_of(whole), events_of(cut)
            same = one[: len(two)] == two[: len(one)]
        else:
            rows = [row.tobytes() for c in whole if isinstance(c, MarksChunk) for row in c.marks]
            again = [row.tobytes() for c in cut if isinstance(c, MarksChunk) for row in c.marks]
            same = rows[: len(again)] == again[: len(rows)]
        if not same:
            raise CheckFailed(f"{request.name} read {step} at a time differs from the readout in one go")
        return f"{len(cut)} chunks of {step} = 1 read whole"

    return _each(ctx, check)
