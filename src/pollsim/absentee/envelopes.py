"""One precinct's absentee envelopes, drawn up front as arrays: who applied, how they voted, when the
envelope came in and whether the resolution board will accept it.

The precinct's **accepted** ballots are given (the replay's absentee and UOCAVA votes, the
precinct's ``absentee_ballots``/``uocava_ballots``) or drawn: Poisson with mean (expected
election-day ballots) x share / (1 - shares). Everything else comes on top of them, as the day
model puts affidavit voters on top of a replay's regular voters, so a replay's count stays exact:

- the accepted absentee ballots are split mail / in person at the clerk's office (binomial,
  ``in_person_share``); UOCAVA envelopes come by mail;
- rejected envelopes: Poisson with mean accepted x r / (1 - r) for the total rejection rate r of
  the envelope's kind (in person: ``in_person_rejection_factor`` x r), the reason multinomial by
  the rates (§23-15-641); a share of accepted mail envelopes had a signature mismatch the voter
  cured within 10 days (SOS rule of October 2020) and are counted after the cure;
- arrival: the day is drawn from the cumulative return curve (in person: no later than 12:00 noon
  on the Saturday before, §23-15-637(1)(b)); ``post_election_share`` of mail envelopes arrive on
  one of the five business days after election day (weights 1/k), ``late_share`` more arrive after
  that limit and are kept but not counted (§23-15-637(1)(a), §23-15-647);
- ballots sent but never returned: Poisson with mean returned x q / (1 - q), q = ``not_returned_share``;
- the pollbook shows VOTED AB for every voter sent a ballot (SOS rule 1-17-2.3); of those,
  ``at_polls_not_returned`` of the non-returners and ``at_polls_returned`` of the others are
  expected at the polls.

A drill's scripted voter marked VOTED AB adds one mail envelope: accepted, or rejected for a
signature mismatch, as the scenario says (none when the ballot was not returned).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from pollsim.absentee.calendar import DAY, business_days_after, in_person_deadline, minutes
from pollsim.absentee.record import ENVELOPE_DTYPE, Kind, Status
from pollsim.scenario.absentee_spec import REJECTION_REASONS, Absentee
from pollsim.scenario.precinct_spec import PrecinctSpec

_MISMATCH = REJECTION_REASONS.index("signature_mismatch")
_MAIL, _IN_PERSON, _UOCAVA = int(Kind.MAIL), int(Kind.IN_PERSON), int(Kind.UOCAVA)  # plain ints: enum lookups are slow
_ACCEPTED, _REJECTED, _LATE = int(Status.ACCEPTED), int(Status.REJECTED), int(Status.LATE)
_OFFICE_OPEN, _OFFICE_CLOSE = 8 * 60.0, 17 * 60.0


@dataclass(frozen=True)
class Calendar:
    """The dates one election's envelopes are drawn against (minutes after the start of election day)."""

    election: dt.date
    in_person_end: float  # 12:00 noon on the Saturday before (§23-15-637(1)(b))
    after: np.ndarray  # the first business days after election day, as minutes at their start
    cure_days: int  # business days within 10 calendar days: the signature-cure window

    @classmethod
    def of(cls, election: dt.date) -> Calendar:
        days = business_days_after(election, 10)
        after = np.array([minutes(d, election) for d in days])
        cure = sum(1 for d in days if (d - election).days <= 10)
        return cls(election, minutes(in_person_deadline(election), election, 12 * 60.0), after, cure)


@dataclass
class PrecinctEnvelopes:
    """One precinct's envelopes (rows of :data:`ENVELOPE_DTYPE`), which of them are counted on which
    business day (``count_day``: 0 election day, k the k-th after; -1 not counted), and its numbers."""

    envelopes: np.ndarray
    count_day: np.ndarray
    sent: int
    not_returned: int
    at_polls: float
    at_polls_accepted: float


def accepted_targets(rng: np.random.Generator, spec: Absentee, p: PrecinctSpec, expected_day: float) -> tuple[int, int]:
    """(accepted absentee ballots, accepted UOCAVA ballots) of a precinct (see the module docstring)."""
    if p.replay is not None and p.absentee_replayed:
        return sum(p.replay.absentee_votes.values()), sum(p.replay.uocava_votes.values())
    total = expected_day / max(1e-9, 1.0 - spec.share - spec.uocava_share)
    absentee = p.absentee_ballots if p.absentee_ballots is not None else int(rng.poisson(total * spec.share))
    uocava = p.uocava_ballots if p.uocava_ballots is not None else int(rng.poisson(total * spec.uocava_share))
    return absentee, uocava


def _on_top(rng: np.random.Generator, n: int, rate: float) -> int:
    return int(rng.poisson(n * rate / (1.0 - rate))) if 0.0 < rate < 1.0 and n else 0


def _days_from_curve(rng: np.random.Generator, spec: Absentee, n: int) -> np.ndarray:
    """Arrival days (days after the start of election day, negative before) from the return curve."""
    x = np.array([-pt.days_before for pt in spec.returns], float)
    f = np.array([pt.share for pt in spec.returns], float)
    u = rng.random(n) * f[-1]
    return np.interp(u, f, x)


def draw_precinct(rng: np.random.Generator, spec: Absentee, p: PrecinctSpec, index: int, expected_day: float, cal: Calendar) -> PrecinctEnvelopes:
    """Every envelope of one precinct (see the module docstring)."""
    absentee, uocava = accepted_targets(rng, spec, p, expected_day)
    in_person = int(rng.binomial(absentee, spec.in_person_share)) if absentee else 0
    accepted = {_MAIL: absentee - in_person, _IN_PERSON: in_person, _UOCAVA: uocava}
    rates = np.array(spec.rejection.rates())
    parts: list[tuple[int, int, int, int]] = []  # (kind, n, status, rejection): runs of identical envelopes
    for kind, n in accepted.items():
        parts.append((kind, n, _ACCEPTED, -1))
        r = rates * (spec.in_person_rejection_factor if kind == _IN_PERSON else 1.0)
        rejected = _on_top(rng, n, float(r.sum()))
        if rejected:
            for reason, k in enumerate(rng.multinomial(rejected, r / r.sum()).tolist()):
                parts.append((kind, k, _REJECTED, reason))
    drilled = [v.absentee_ballot for v in p.scripted_voters if v.status == "voted_ab" and v.absentee_ballot != "not_returned"]
    for outcome in drilled:
        parts.append((_MAIL, 1, _ACCEPTED if outcome == "accepted" else _REJECTED, -1 if outcome == "accepted" else _MISMATCH))
    by_mail = sum(n for kind, n, _, _ in parts if kind != _IN_PERSON)
    late = _on_top(rng, by_mail, spec.late_share)
    if late:
        parts.append((_MAIL, late, _LATE, -1))
    n = sum(k for _, k, _, _ in parts)
    env = np.zeros(n, ENVELOPE_DTYPE)
    env["precinct"] = index
    env["kind"] = np.repeat([k for k, *_ in parts], [m for _, m, _, _ in parts])
    env["status"] = np.repeat([s for _, _, s, _ in parts], [m for _, m, _, _ in parts])
    env["rejection"] = np.repeat([r for *_, r in parts], [m for _, m, _, _ in parts])
    env["processed"] = env["counted"] = np.nan
    kinds, status = env["kind"], env["status"]
    reasons = np.array(spec.reasons.weights())
    env["reason"] = np.where(kinds == _UOCAVA, -1, rng.choice(len(reasons), n, p=reasons / reasons.sum()))

    # Arrival: the return curve, in-person by the Saturday-noon deadline; some mail after election day.
    days = _days_from_curve(rng, spec, n)
    received = np.floor(days) * DAY + rng.uniform(_OFFICE_OPEN, _OFFICE_CLOSE, n)
    received = np.where(kinds == _IN_PERSON, np.minimum(received, cal.in_person_end - rng.uniform(0.0, 240.0, n)), received)
    received = np.maximum(received, -spec.days_available * DAY + _OFFICE_OPEN)
    count_day = np.where(status == _ACCEPTED, 0, -1)
    post = (kinds != _IN_PERSON) & (status != _LATE) & (rng.random(n) < spec.post_election_share)
    weights = 1.0 / np.arange(1, 6)
    k = rng.choice(5, int(post.sum()), p=weights / weights.sum())
    received[post] = cal.after[k] + 10 * 60.0
    count_day[post & (status == _ACCEPTED)] = k[status[post] == _ACCEPTED] + 1
    late_rows = status == _LATE
    received[late_rows] = cal.after[rng.integers(5, len(cal.after), int(late_rows.sum()))] + 10 * 60.0
    env["received"] = received

    # Signature mismatches cured within 10 days: counted on the day of the cure.
    mismatch = float(rates[_MISMATCH])
    cure = spec.signature_cure_share
    p_cured = min(1.0, mismatch * cure / (1.0 - cure)) if cure < 1.0 else 0.0
    cured = (kinds != _IN_PERSON) & (status == _ACCEPTED) & (rng.random(n) < p_cured)
    env["cured"] = cured
    if cal.cure_days:
        count_day[cured] = np.maximum(count_day[cured], rng.integers(1, cal.cure_days + 1, int(cured.sum())))

    returned = int((kinds != _IN_PERSON).sum())
    not_returned = _on_top(rng, returned, spec.not_returned_share) + sum(1 for v in p.scripted_voters if v.status == "voted_ab" and v.absentee_ballot == "not_returned")
    n_acc = int((status == _ACCEPTED).sum())
    at_polls = spec.at_polls_not_returned * not_returned + spec.at_polls_returned * n
    accepted_at_polls = spec.at_polls_returned * n_acc / at_polls if at_polls > 0 else 0.0
    return PrecinctEnvelopes(env, count_day.astype(np.int16), n + not_returned, not_returned, at_polls, accepted_at_polls)
