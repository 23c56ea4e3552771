"""Which ballots the audit boards pull: seeded, publicly verifiable random samples (§23-15-617.2).

The commissioners roll a ten-sided die twenty times in public (:func:`parse_dice_seed`); from
that seed and the ballot manifest anyone can recompute the sample. Two samplers are provided.

**Rivest's consistent sampler, as Arlo uses it** (:class:`ConsistentSampler`; after the
published description of R. L. Rivest's ``consistent_sampler``, MIT licence, reimplemented here).
Every ballot gets a *ticket number* in (0, 1) from SHA-256 of the seed and its name: with
``seed_hash = sha256_hex(seed)`` and the ballot's id the Python ``str()`` of the tuple
``(batch name, position)`` (e.g. ``"('pct 2', 3)"``), the ticket is ``"0."`` followed by the
decimal digits of ``int(sha256_hex(seed_hash + id), 16)`` (zero-padded to at least 64 digits)
*in reverse order* (the low-order digits are the unbiased ones). Ballots are drawn in increasing
ticket order. Sampling with replacement gives a drawn ballot a new, larger ticket: for ticket
``x`` whose digits after ``"0."`` start with ``k`` nines, the candidates are ``x[:2 + k]`` followed
by the digits of the ticket of ``x + ":" + str(i)`` for i = 1, 2, ... until one exceeds ``x``.
Printed tickets are truncated to 18 significant digits after any leading nines (Arlo's
``digits=18``). A sample of n is the first n draws of one stream, so later rounds extend earlier
ones (``drop``/``take``).

Cost: the n smallest tickets of N ballots cannot be found without computing all N tickets, so
the first draw hashes every ballot once (SHA-256 is unavoidable here; pollsim hashes with the
seed's midstate shared and keeps only a 12-digit integer key per ballot in numpy, then computes
exact ticket strings for the few candidates). Every later round reuses those keys, and draws with
replacement cost one more hash each. For a sampler whose cost is the sample size and not the
number of ballots, use the ColoradoRLA-style sampler.

**ColoradoRLA-style sampler** (:func:`colorado_draws`): the k-th pick (k = 1, 2, ...) is
``min + int(sha256_hex(seed + "," + str(k)), 16) mod (max - min + 1)``; without replacement a
repeat is skipped. Picks are manifest positions 1..N (the card index plus one).
"""

from __future__ import annotations

import hashlib
import heapq
import os
from collections import deque
from dataclasses import dataclass
from functools import cached_property
from itertools import repeat

import numpy as np

from pollsim.audit.errors import AuditError, SeedError
from pollsim.audit.manifest import BallotManifest

try:  # the HACL* SHA-256 built into CPython is faster than OpenSSL's for short messages
    from _sha2 import sha256 as _fast_sha256  # type: ignore[import-not-found]  # Python >= 3.12
except ImportError:  # pragma: no cover - depends on the interpreter
    try:
        from _sha256 import sha256 as _fast_sha256  # type: ignore[import-not-found]  # Python 3.11
    except ImportError:
        _fast_sha256 = hashlib.sha256

TICKET_DIGITS = 18
DICE_ROLLS = 20
_KEY_DIGITS = 12  # digits of the integer sort key kept per ballot
_M5 = 5**_KEY_DIGITS
_M2 = 2**_KEY_DIGITS
_INV5 = pow(_M5, -1, _M2)
PARALLEL_MIN = 200_000  # ballots from which the key pass uses a second process
_BLOCK = 4096  # ballots hashed per map() pass (bounds the hash states alive at once)


# -- the public seed --------------------------------------------------------------------------


def parse_dice_seed(text: str) -> str:
    """The 20 digits of a seed from 20 rolls of a ten-sided die (spaces, commas, dashes allowed).

    >>> parse_dice_seed("01234 56789-01234,56789")
    '01234567890123456789'
    """
    digits = "".join(ch for ch in str(text) if ch not in " \t,-_")
    if not digits.isascii() or not digits.isdigit():
        bad = next(ch for ch in digits if not (ch.isascii() and ch.isdigit()))
        raise SeedError(f"seed '{text}': '{bad}' is not a digit; a ten-sided die shows 0 to 9")
    if len(digits) != DICE_ROLLS:
        raise SeedError(f"seed '{text}': {len(digits)} digits; the public ceremony rolls a ten-sided die {DICE_ROLLS} times")
    return digits


def canonical_seed(seed: str) -> str:
    """The seed the samplers hash: a seed that reads as 20 die rolls (digits with spaces,
    commas or dashes) becomes its 20 digits, so ``"01234 56789 ..."`` and ``"0123456789..."``
    draw the same sample; any other string is used exactly as given."""
    try:
        return parse_dice_seed(seed)
    except SeedError:
        return str(seed)


def format_dice_seed(seed: str) -> str:
    """A dice seed in groups of five for reading aloud and publishing: ``01234 56789 01234 56789``."""
    digits = parse_dice_seed(seed)
    return " ".join(digits[i : i + 5] for i in range(0, DICE_ROLLS, 5))


# -- Rivest's consistent sampler ----------------------------------------------------------------


def sha256_hex(text: str) -> str:
    return hashlib.sha256(str(text).encode("utf-8")).hexdigest()


def uniform_fraction(text: str) -> str:
    """``"0."`` + the reversed decimal digits (at least 64) of SHA-256 of ``text``."""
    value = int.from_bytes(_fast_sha256(text.encode("utf-8")).digest(), "big")
    return "0." + f"{value:064d}"[::-1]


def ballot_id(batch: str, position: int) -> str:
    """The id a ballot is hashed under: Python's ``str()`` of the tuple (batch name, position)."""
    return str((batch, int(position)))


def first_ticket(seed_hash: str, ident: str) -> str:
    """A ballot's first (generation 1) ticket number, full precision."""
    return uniform_fraction(seed_hash + ident)


def next_ticket(x: str) -> str:
    """The next ticket number after ``x`` (full precision): uniform in (x, 1)."""
    x0 = x + "0"
    nines = next(i for i in range(2, len(x0)) if x0[i] < "9")
    y, i = "0.", 0
    while y <= x0:
        i += 1
        y = x0[:nines] + uniform_fraction(f"{x}:{i}")[2:]
    return y


def trim(x: str, digits: int = TICKET_DIGITS) -> str:
    """A ticket truncated to ``digits`` significant digits after its leading nines."""
    x0 = x + "0"
    nines = next(i for i in range(2, len(x0)) if x0[i] < "9")
    return x[: nines + digits]


@dataclass(frozen=True, eq=False)
class Sample:
    """Draws in order: the card index (see :mod:`.manifest`) of each draw, its ticket (``None``
    for the ColoradoRLA-style sampler) and how many times that ballot has been drawn so far,
    this draw included (the ticket's generation)."""

    cards: np.ndarray  # int64[n]
    tickets: tuple[str, ...] | None  # trimmed to 18 digits
    times_drawn: np.ndarray  # int32[n]

    def __len__(self) -> int:
        return len(self.cards)

    def rows(self, manifest: BallotManifest) -> list[dict]:
        """One dict per draw: ``batch``, ``position``, ``ticket``, ``times_drawn``."""
        batch, pos = manifest.locate(self.cards)
        tickets = self.tickets or (None,) * len(self.cards)
        return [
            {"batch": manifest.batch_names[b], "position": p, "ticket": t, "times_drawn": k}
            for b, p, t, k in zip(batch.tolist(), pos.tolist(), tickets, self.times_drawn.tolist(), strict=True)
        ]


def _reverse_digits_table(width: int) -> np.ndarray:
    v = np.arange(10**width, dtype=np.int64)
    out = np.zeros_like(v)
    for _ in range(width):
        out = out * 10 + v % 10
        v //= 10
    return out.astype(np.uint64)


_LIMB_WEIGHTS = np.array([pow(2, 32 * (7 - k), _M5) for k in range(8)], np.uint64)  # 2**(32 k) mod 5**12
_REV4 = _reverse_digits_table(4)  # 1234 -> 4321, 12 -> 2100 (as four digits 0012)


class ConsistentSampler:
    """Rivest's consistent sampler over a ballot manifest, with Arlo's ballot ids and 18-digit
    tickets. The first call computes every ballot's sort key (one SHA-256 each); draws after that
    cost a few hashes per ballot drawn."""

    def __init__(self, manifest: BallotManifest, seed: str, workers: int | None = None):
        self.manifest = manifest
        self.seed = str(seed)
        self.seed_hash = sha256_hex(self.seed)
        self.workers = min(2, os.cpu_count() or 1) if workers is None else workers

    def _digest_batches(self, lo: int, hi: int) -> bytes:
        """SHA-256 of ``seed_hash + id`` for every ballot of batches lo..hi-1, concatenated.

        The seed hash is exactly one 64-byte block, and a batch's ids share their prefix, so
        each ballot costs one copy of the batch's hash state, one short update and a digest —
        done by ``map`` over blocks of ballots, with no Python bytecode per ballot.
        """
        m = self.manifest
        base = _fast_sha256(self.seed_hash.encode())
        kind = type(base)
        copy, update, digest = kind.copy, kind.update, kind.digest
        counts = m.counts[lo:hi].tolist()
        tails = [b"%d)" % i for i in range(1, max(counts, default=0) + 1)]
        chunks: list[bytes] = []
        for name, n in zip(m.batch_names[lo:hi], counts, strict=True):
            head = base.copy()
            head.update(f"({name!r}, ".encode())
            for start in range(0, n, _BLOCK):
                block = tails[start : min(n, start + _BLOCK)]
                states = list(map(copy, repeat(head, len(block))))
                deque(map(update, states, block), maxlen=0)
                chunks.append(b"".join(map(digest, states)))
        return b"".join(chunks)

    def _digests(self) -> bytes:
        """Every ballot's digest in manifest order; on a machine with two or more cores and a
        large manifest, the second half is hashed in a forked child process (a pipe brings its
        32 bytes per ballot back); if the child fails, the parent hashes that half itself."""
        m = self.manifest
        nb = len(m.batch_names)
        if self.workers < 2 or m.total < PARALLEL_MIN or nb < 2 or not hasattr(os, "fork"):
            return self._digest_batches(0, nb)
        mid = int(np.searchsorted(m.offsets, m.total // 2))
        mid = min(max(mid, 1), nb - 1)
        expected = 32 * int(m.offsets[nb] - m.offsets[mid])
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: hash the second half, write it, leave without cleanup
            status = 1
            try:
                os.close(r)
                data = memoryview(self._digest_batches(mid, nb))
                while data:
                    data = data[os.write(w, data) :]
                status = 0
            finally:
                os._exit(status)
        os.close(w)
        try:
            first = self._digest_batches(0, mid)
            parts = []
            while chunk := os.read(r, 1 << 20):
                parts.append(chunk)
        finally:
            os.close(r)
            _, status = os.waitpid(pid, 0)
        second = b"".join(parts)
        if status != 0 or len(second) != expected:
            second = self._digest_batches(mid, nb)
        return first + second

    @cached_property
    def keys(self) -> np.ndarray:
        """``uint64[N]``: the first 12 digits of each ballot's first ticket, as an integer.

        Ticket order and key order agree wherever keys differ; ties are settled on the full
        ticket strings. The ticket's first digits are the hash's last decimal digits, reversed:
        the value mod 10**12 comes from the Chinese remainder theorem, mod 5**12 as one sum of
        the eight 32-bit limbs times 2**(32 k) mod 5**12 (each product < 2**60, the sum < 2**63),
        mod 2**12 from the last limb.
        """
        limbs = np.frombuffer(self._digests(), dtype=">u4").reshape(-1, 8).astype(np.uint64)
        m5 = np.uint64(_M5)
        r5 = (limbs @ _LIMB_WEIGHTS) % m5
        r2 = limbs[:, 7] & np.uint64(_M2 - 1)
        t = ((r2 + np.uint64(_M2) - r5 % np.uint64(_M2)) * np.uint64(_INV5)) % np.uint64(_M2)
        low = r5 + m5 * t  # the hash mod 10**12
        rev = _REV4
        c = low % np.uint64(10**4)
        b = (low // np.uint64(10**4)) % np.uint64(10**4)
        a = low // np.uint64(10**8)
        return rev[c] * np.uint64(10**8) + rev[b] * np.uint64(10**4) + rev[a]

    def _ident(self, card: int) -> tuple[str, int]:
        b, p = self.manifest.locate(np.array([card]))
        return self.manifest.batch_names[int(b[0])], int(p[0])

    def _candidates(self, count: int) -> list[tuple[str, tuple[str, int], int, int]]:
        """Heap entries (ticket, id, generation, card) for every ballot whose first ticket may be
        among the ``count`` smallest."""
        keys = self.keys
        k = min(count, len(keys))
        threshold = np.partition(keys, k - 1)[k - 1]
        cards = np.flatnonzero(keys <= threshold)
        batch, pos = self.manifest.locate(cards)
        names = self.manifest.batch_names
        out = []
        for card, b, p in zip(cards.tolist(), batch.tolist(), pos.tolist(), strict=True):
            ident = (names[b], p)
            out.append((first_ticket(self.seed_hash, str(ident)), ident, 1, card))
        return out

    def draws(self, count: int, with_replacement: bool = True) -> Sample:
        """The first ``count`` draws of the stream (a later round asks for more and keeps these)."""
        if count <= 0:
            return Sample(np.zeros(0, np.int64), (), np.zeros(0, np.int32))
        if not with_replacement and count > self.manifest.total:
            raise AuditError(f"cannot draw {count} ballots without replacement from a manifest of {self.manifest.total}")
        heap = self._candidates(count)
        heapq.heapify(heap)
        cards: list[int] = []
        tickets: list[str] = []
        gens: list[int] = []
        while len(cards) < count:
            ticket, ident, gen, card = heapq.heappop(heap)
            cards.append(card)
            tickets.append(trim(ticket))
            gens.append(gen)
            if with_replacement:
                heapq.heappush(heap, (next_ticket(ticket), ident, gen + 1, card))
        return Sample(np.array(cards, np.int64), tuple(tickets), np.array(gens, np.int32))


def consistent_draws(manifest: BallotManifest, seed: str, count: int, with_replacement: bool = True) -> Sample:
    """The first ``count`` draws of Rivest's consistent sampler over ``manifest``."""
    return ConsistentSampler(manifest, seed).draws(count, with_replacement)


# -- ColoradoRLA-style sampler ------------------------------------------------------------------


def colorado_draws(seed: str, count: int, minimum: int, maximum: int, with_replacement: bool = True) -> list[int]:
    """Picks in ``minimum..maximum``: the k-th is ``minimum + SHA-256(seed + "," + k) mod size``
    (k from 1, the hash as a big integer from its hex digest); without replacement repeats are
    skipped."""
    size = maximum - minimum + 1
    if size <= 0:
        raise AuditError(f"empty range {minimum}..{maximum}")
    if not with_replacement and count > size:
        raise AuditError(f"cannot draw {count} without replacement from {minimum}..{maximum}")
    out: list[int] = []
    seen: set[int] = set()
    k = 0
    while len(out) < count:
        k += 1
        pick = minimum + int(hashlib.sha256(f"{seed},{k}".encode()).hexdigest(), 16) % size
        if not with_replacement and pick in seen:
            continue
        seen.add(pick)
        out.append(pick)
    return out


class ColoradoSampler:
    """The ColoradoRLA-style sampler over a manifest's positions 1..N (cost: one hash per draw)."""

    def __init__(self, manifest: BallotManifest, seed: str):
        self.manifest = manifest
        self.seed = str(seed)

    def draws(self, count: int, with_replacement: bool = True) -> Sample:
        picks = np.array(colorado_draws(self.seed, count, 1, self.manifest.total, with_replacement), np.int64) - 1
        return Sample(picks, None, times_drawn(picks))


def times_drawn(cards: np.ndarray) -> np.ndarray:
    """For each draw, how many times its card has been drawn so far (this draw included)."""
    cards = np.asarray(cards, np.int64)
    order = np.argsort(cards, kind="stable")
    sorted_cards = cards[order]
    start = np.r_[True, sorted_cards[1:] != sorted_cards[:-1]] if len(cards) else np.zeros(0, bool)
    group_start = np.maximum.accumulate(np.where(start, np.arange(len(cards)), 0))
    out = np.empty(len(cards), np.int32)
    out[order] = np.arange(len(cards)) - group_start + 1
    return out


SAMPLERS = {"consistent": ConsistentSampler, "colorado": ColoradoSampler}


def make_sampler(name: str, manifest: BallotManifest, seed: str) -> ConsistentSampler | ColoradoSampler:
    """A sampler by name over ``manifest``, seeded with :func:`canonical_seed` of ``seed``."""
    try:
        return SAMPLERS[name](manifest, canonical_seed(seed))
    except KeyError:
        raise AuditError(f"unknown sampler '{name}' (choose from: {', '.join(SAMPLERS)})") from None
