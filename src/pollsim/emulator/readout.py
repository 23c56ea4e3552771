"""What the county's reader checks in a device's readout before it files anything.

A readout is everything one device handed over on election night (:class:`Readout`). Before the
county's §23-15-615 ballot accounting may use it, :func:`check_readout` holds it to four checks
(docs/protocol.md sections 5, 8 and 11; docs/emulator.md "pollsim read"):

1. **Seals**: done while reading (:class:`~pollsim.protocol.auth.ResultVerifier`); a readout
   with a key says so in ``verified_counter``. With a key, *nothing unsealed decides anything*:
   the event log, which is not sealed, must chain from the sealed election definition hash to
   the head the sealed counters vouch for, or the readout is refused.
2. **The event log's hash chain** (:func:`verify_log_chain`), from the election definition's
   SHA-256; without a key it is checked when the device gives the definition hash.
3. **The tally**: each choice's total must be what the CVRs give under the vote-for-N rules
   (an overvoted contest counts for no one), using the contest layout the device sent.
4. **Ballot accounting**: public counter = CVRs = paper records (in test mode, CVRs = paper
   records, which the protective counter must cover).

Each failure is a :class:`ReadError`: one line naming the port and the check.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from pollsim.errors import PollsimError
from pollsim.protocol import Counters, Identity, LogEvent, Status

__all__ = ["ReadError", "Readout", "check_readout", "layout_tally", "verify_log_chain"]


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
    """Per-choice totals (None: the device keeps no ballots, or does not tally)."""
    cvrs: np.ndarray | None
    paper: np.ndarray | None
    events: list[LogEvent] | None
    """The event log (None: the device does not hand one out)."""
    sealed: bool
    """Whether the results came sealed."""
    verified_counter: int | None
    """The last seal counter accepted (None: seals not checked, no key)."""
    retransmissions: int
    corrupt_frames: int


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


def layout_tally(contests: tuple[tuple[int, int], ...], cvrs: np.ndarray) -> np.ndarray:
    """Each choice's total from the CVRs and the contest layout (choices, vote for), by the
    rules of docs/protocol.md section 5: a contest marked more than vote-for times on a ballot
    counts for no one on that ballot; fewer marks count as they are (undervotes)."""
    totals, start = [], 0
    for choices, vote_for in contests:
        block = np.asarray(cvrs[:, start : start + choices], np.int64)
        valid = block.sum(axis=1) <= vote_for
        totals.append(block[valid].sum(axis=0))
        start += choices
    return np.concatenate(totals) if totals else np.zeros(0, np.int64)


def _check_chain(readout: Readout) -> str:
    """The log check's outcome; raises :class:`ReadError` if the log must not be accepted."""
    name, counters, events = readout.port, readout.counters, readout.events
    genesis, keyed = readout.identity.definition_hash, readout.verified_counter is not None
    why = ""
    if events is None:
        why = "the device hands out no event log"
    elif not genesis:
        why = "the device did not give its election definition hash"
    else:
        problem = verify_log_chain(genesis, events)
        if problem is not None:
            raise ReadError(f"{name}: event log chain broken: {problem}")
    if not why and (counters.log_head is None or counters.log_entries is None):
        why = "the counters vouch for no log head"
    if why:
        if keyed:
            raise ReadError(f"{name}: event log chain cannot be verified ({why}); with a key it must be")
        return f"not verifiable ({why})"
    assert events is not None and counters.log_entries is not None
    n = counters.log_entries
    head = events[n - 1].hash if n else genesis
    if n > len(events) or head != counters.log_head:
        raise ReadError(f"{name}: event log does not match the head the counters vouch for (entry {n})")
    return "verified"


def check_readout(readout: Readout) -> dict[str, Any]:
    """Check the log chain, the tally and the ballot accounting; raise :class:`ReadError`
    naming the port and the failed check, or return what was checked (for verification.json)."""
    name, counters = readout.port, readout.counters
    chain = _check_chain(readout)
    counts: dict[str, Any] = {"public": counters.public, "protective": counters.protective,
                              "log_entries": None if readout.events is None else len(readout.events)}  # fmt: skip
    tally = "not checked (no tally, CVRs or contest layout)"
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
        contests = readout.identity.contests
        if readout.tally is not None and contests:
            if sum(c for c, _ in contests) != readout.cvrs.shape[1]:
                raise ReadError(f"{name}: the contest layout covers {sum(c for c, _ in contests)} choices, the CVRs {readout.cvrs.shape[1]}")
            expected = layout_tally(contests, readout.cvrs)
            if not np.array_equal(np.asarray(readout.tally), expected):
                first = int(np.flatnonzero(np.asarray(readout.tally) != expected)[0]) if len(readout.tally) == len(expected) else 0
                raise ReadError(f"{name}: TALLY is not what the CVRs give (first at choice {first})")
            tally = "equals the CVRs' count"
    seals = {"sealed": readout.sealed, "verified": readout.verified_counter is not None,
             "last_counter": readout.verified_counter}  # fmt: skip
    return {"port": name, "log_chain": chain, "tally": tally, "counts": counts, "seals": seals,
            "retransmissions": readout.retransmissions, "corrupt_frames": readout.corrupt_frames}  # fmt: skip
