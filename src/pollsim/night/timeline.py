"""Election night: from the polling places to the county office to the unofficial results.

When the last voter has left, the poll managers run the closing procedure (results tapes,
counters against the pollbook, memory cards sealed) and drive the sealed cards to the county
office. There the cards queue for the county's card readers; each read checks the results'
signature and is tabulated; at fixed intervals the county publishes unofficial results. Things go
wrong: a card cannot be read (the county re-reads the device over serial, or hand counts its paper
records), a card arrives twice (counted once: the county keys each result by device, election and
results hash), a card never arrives (its precinct is flagged missing), a results payload fails
authentication (rejected and flagged; the device is re-read), a precinct is late.

The model is one SimPy environment for the state: a process per precinct, a
``simpy.Resource`` of readers per county. Everything random is drawn up front from the night's
seed. Results are the accepted cards' ballots; tallies stay exact integers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import simpy

from pollsim.precinct.draws import sample_times
from pollsim.protocol.auth import ResultAuthError, sign, verify
from pollsim.scenario.models import Night

_LOG_ENTRY_BYTES = 64  # an event-log entry on the wire, about (docs/protocol.md)
_CARD_OVERHEAD = 1024  # identity, counters, tapes


def night_seed(root: int, night: int = 0) -> np.random.SeedSequence:
    """The seed of election night ``night`` under root seed ``root`` (apart from every precinct's)."""
    return np.random.SeedSequence(root, spawn_key=(1 << 30, night))


@dataclass(frozen=True)
class Card:
    """One device's memory card: what the county reads in."""

    precinct: int  # index in the run's precincts
    device_id: str
    ballots: int
    bytes: int
    results_hash: str  # SHA-256 of the device's electronic records and counters


@dataclass
class NightResult:
    """What election night produced.

    Attributes:
        reported_at: ``float64[n_precincts]`` minutes after midnight when the precinct's last card
            was tabulated (NaN: missing on election night).
        publications: ``float64[k, 3]`` rows of (time, share of precincts reported, share of
            ballots reported) at each publication of unofficial results.
        incidents: what went wrong, in time order.
        counted_ballots: ballots in the accepted cards.
    """

    reported_at: np.ndarray
    publications: np.ndarray
    incidents: list[dict] = field(default_factory=list)
    counted_ballots: int = 0
    total_ballots: int = 0
    missing_precincts: list[str] = field(default_factory=list)

    def ballots_reported_by(self, share: float) -> float | None:
        """First publication time at which at least ``share`` of ballots were reported (None: never)."""
        hit = np.flatnonzero(self.publications[:, 2] >= share - 1e-12)
        return float(self.publications[hit[0], 0]) if len(hit) else None


def cards_of(run) -> list[Card]:
    """The memory cards of a run's devices (BMDs cast nothing and carry no card)."""
    cards = []
    for pi, p in enumerate(run.precincts):
        for k, dev in enumerate(p.devices):
            if dev.kind == "bmd":
                continue
            rows = p.cvr[p.ballot_device == k]
            digest = hashlib.sha256(rows.tobytes() + f"|{dev.public_count}|{dev.protective_count}".encode()).hexdigest()
            size = rows.size + dev.log_entries * _LOG_ENTRY_BYTES + _CARD_OVERHEAD
            cards.append(Card(pi, dev.device_id, int(len(rows)), int(size), digest))
    return cards


def simulate_night(run, seed: np.random.SeedSequence, night: Night | None = None) -> NightResult:
    """Simulate election night for a run of precinct days."""
    spec = night or run.scenario.night
    rng = np.random.default_rng(seed)
    precincts = run.precincts
    n_p = len(precincts)
    cards = cards_of(run)
    n_c = len(cards)
    counties = sorted({p.county for p in precincts})
    county_of = [counties.index(p.county) for p in precincts]
    key = hashlib.sha256(f"pollsim-night-key|{run.election.definition_hash}|{run.seed}".encode()).digest()

    # Everything random, drawn up front.
    closing = sample_times(rng, spec.closing, n_p)
    transport = np.empty(n_p)
    for ci, county in enumerate(counties):
        idx = [i for i in range(n_p) if county_of[i] == ci]
        transport[idx] = sample_times(rng, spec.transport_by_county.get(county, spec.transport), len(idx))
    late = rng.random(n_p) < spec.late_precinct_rate
    transport[late] *= spec.late_factor
    setup = sample_times(rng, spec.read_setup, n_c)
    unreadable = rng.random(n_c) < spec.unreadable_card_rate
    hand_count = rng.random(n_c) < spec.hand_count_share
    reread = sample_times(rng, spec.reread_minutes, n_c)
    duplicate = rng.random(n_c) < spec.duplicate_card_rate
    missing = rng.random(n_c) < spec.missing_card_rate
    forged = rng.random(n_c) < spec.forged_result_rate

    env = simpy.Environment(initial_time=min((p.polls_closed for p in precincts), default=0.0))
    readers = [simpy.Resource(env, spec.readers_per_county) for _ in counties]
    accepted: dict[tuple[str, str], str] = {}  # (precinct, device) -> results hash
    last_counter: dict[tuple[str, str], int] = {}
    done_at = np.full(n_c, np.nan)
    incidents: list[dict] = []
    cards_by_precinct: dict[int, list[int]] = {}
    for ci, card in enumerate(cards):
        cards_by_precinct.setdefault(card.precinct, []).append(ci)

    def incident(kind: str, ci: int, **extra) -> None:
        card = cards[ci]
        incidents.append({"time": round(float(env.now), 3), "kind": kind, "precinct": precincts[card.precinct].precinct, "device": card.device_id, **extra})

    def read_card(ci: int, counter: int, payload_key: bytes):
        card = cards[ci]
        with readers[county_of[card.precinct]].request() as req:
            yield req
            yield env.timeout(setup[ci] + card.bytes / spec.read_bytes_per_second / 60.0)
            ident = (precincts[card.precinct].precinct, card.device_id)
            envelope = sign(payload_key, counter, card.results_hash.encode())
            try:
                verify(key, last_counter.get(ident, 0), envelope)
            except ResultAuthError as exc:
                incident("result-rejected", ci, reason=type(exc).__name__)
                return False
            last_counter[ident] = counter
            if accepted.get(ident) == card.results_hash:
                incident("duplicate-card-ignored", ci)
                return True
            if unreadable[ci]:
                incident("card-unreadable", ci, recovery="hand count" if hand_count[ci] else "serial re-read")
                minutes = card.ballots / spec.hand_count_ballots_per_hour * 60.0 if hand_count[ci] else reread[ci]
                yield env.timeout(minutes)
            accepted[ident] = card.results_hash
            return True

    def deliver(pi: int):
        yield env.timeout(precincts[pi].polls_closed - env.now + closing[pi] + transport[pi])
        if late[pi]:
            incidents.append({"time": round(float(env.now), 3), "kind": "late-precinct", "precinct": precincts[pi].precinct, "device": ""})
        for ci in cards_by_precinct.get(pi, []):
            if missing[ci]:
                incident("card-missing", ci)
                continue
            ok = yield env.process(read_card(ci, 1, bytes(32) if forged[ci] else key))
            if not ok:  # re-read the device over serial, now with the genuine signature
                yield env.timeout(reread[ci])
                ok = yield env.process(read_card(ci, 2, key))
            if ok:
                done_at[ci] = env.now
            if duplicate[ci]:
                yield env.process(read_card(ci, 3, key))

    for pi in range(n_p):
        env.process(deliver(pi))
    env.run()

    reported_at = np.full(n_p, np.nan)
    ballots = np.array([p.ballots_cast for p in precincts], np.int64)
    for pi, idx in cards_by_precinct.items():
        times = done_at[idx]
        if not np.isnan(times).any():
            reported_at[pi] = times.max() if len(times) else precincts[pi].polls_closed
    for pi in range(n_p):
        if pi not in cards_by_precinct:
            reported_at[pi] = precincts[pi].polls_closed
    first = min((p.polls_closed for p in precincts), default=0.0)
    last = np.nanmax(reported_at) if np.isfinite(reported_at).any() else first
    times = first + spec.publish_every * np.arange(1, int(np.ceil((last - first) / spec.publish_every)) + 2)
    total = int(ballots.sum())
    pubs = np.empty((len(times), 3))
    for k, t in enumerate(times):
        done = reported_at <= t
        pubs[k] = (t, done.mean() if n_p else 1.0, ballots[done].sum() / total if total else 1.0)
    counted = int(sum(cards[ci].ballots for ci in range(n_c) if not np.isnan(done_at[ci])))
    missing_names = [precincts[pi].precinct for pi in range(n_p) if np.isnan(reported_at[pi])]
    incidents.sort(key=lambda x: (x["time"], x["precinct"], x["device"], x["kind"]))
    return NightResult(reported_at, pubs, incidents, counted, total, missing_names)
