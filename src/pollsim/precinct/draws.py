"""Everything random about a precinct's day, drawn up front as arrays (one row per voter).

Who comes and when, each voter's standing on the roll, needs, service times, and what each voter
means to vote (the **intent** layer) are drawn here with numpy from the precinct's own seed, before
the SimPy model runs. The model then only moves voters through lines and devices: no random call
on the hot path, no Python object per ballot, and the same seed gives the same day.

Arrivals are a non-homogeneous Poisson process: the count in each hour is Poisson with mean
(expected voters × the hour's share); within an hour, arrival times are uniform (the standard
construction, given the count). Expected voters = registered voters × turnout.

Selections, per contest on the voter's ballot style (shares normalised within the contest):
- with probability ``undervote_rate`` the voter marks fewer than N (none when N = 1, otherwise
  uniformly 0..N-1), else exactly N choices, drawn without replacement by weight (Gumbel top-k);
- with probability ``overvote_attempt_rate`` a voter who marked N adds one more (the next choice
  in their own ranking): the mark a DRE warns about and a scanner returns (``overmarks``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pollsim.election.definition import Election
from pollsim.election.roll import RollStatus, VoterNeed
from pollsim.scenario.models import ContestSpec, PrecinctSpec, Scenario, ServiceTime, clock_minutes


def sample_times(rng: np.random.Generator, spec: ServiceTime, n: int, contests: int = 0) -> np.ndarray:
    """Draw ``n`` service times (minutes) from a spec; ``per_contest`` lengthens the mean, same CV."""
    mean = spec.mean + spec.per_contest * contests
    scale = mean / spec.mean if spec.mean > 0 else 1.0
    sd = spec.sd * scale
    d = spec.distribution
    if n == 0 or mean == 0:
        return np.zeros(n)
    if d == "constant" or (sd == 0 and d in ("gamma", "lognormal", "uniform")):
        return np.full(n, mean)
    if d == "exponential":
        return rng.exponential(mean, n)
    if d == "gamma":
        return rng.gamma((mean / sd) ** 2, sd * sd / mean, n)
    if d == "lognormal":
        s2 = np.log1p((sd / mean) ** 2)
        return rng.lognormal(np.log(mean) - s2 / 2, np.sqrt(s2), n)
    half = sd * np.sqrt(3.0)  # uniform
    return rng.uniform(mean - half, mean + half, n)


def arrival_times(rng: np.random.Generator, scenario: Scenario, expected: float, count: int | None = None) -> np.ndarray:
    """Sorted arrival times (minutes after midnight) of one precinct's voters.

    With ``count`` the number of voters is fixed and spread over the hours by the same profile
    (the Poisson process conditioned on its total).
    """
    arr = scenario.arrivals
    t_open = clock_minutes(scenario.polls.open)
    weights = np.array([arr.before_opening_share, *arr.hourly_shares], float)
    weights /= weights.sum()
    starts = np.concatenate([[t_open - arr.before_opening_minutes], t_open + 60.0 * np.arange(len(arr.hourly_shares))])
    widths = np.concatenate([[arr.before_opening_minutes], np.full(len(arr.hourly_shares), 60.0)])
    counts = rng.poisson(expected * weights) if count is None else rng.multinomial(count, weights)
    times = np.repeat(starts, counts) + rng.random(counts.sum()) * np.repeat(widths, counts)
    times.sort()
    return times


def _contest_marks(
    rng: np.random.Generator, spec: ContestSpec, n: int, override: dict[str, float] | None = None, kept: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(intent marks, overvote marks) of ``n`` voters for one contest, columns as in the election.

    ``override``: per-precinct weights by choice id (a choice left out keeps its election weight).
    ``kept``: the rows whose marks are wanted (the others come back blank; the same numbers are
    drawn, so every kept row and every later draw are as without it).
    """
    override = override or {}
    if spec.type == "measure":
        weights = np.array([override.get("yes", spec.yes_share), override.get("no", 1.0 - spec.yes_share)])
        vote_for = 1
    else:
        weights = np.array([override.get(c.id, c.share) for c in spec.choices], float)
        if spec.write_in:
            weights = weights / weights.sum() * (1.0 - spec.write_in_share)
            weights = np.append(weights, override.get("write-in", spec.write_in_share))
        vote_for = spec.vote_for
    k = len(weights)
    marks = np.zeros((n, k), np.uint8)
    over = np.zeros((n, k), np.uint8)
    if n == 0:
        return marks, over
    with np.errstate(divide="ignore"):
        keys = np.log(weights / weights.sum()) + rng.gumbel(size=(n, k))
    under = rng.random(n) < spec.undervote_rate
    m = np.full(n, vote_for)
    m[under] = rng.integers(0, vote_for, under.sum()) if vote_for > 1 else 0
    m = np.minimum(m, (weights > 0).sum())
    attempt = (rng.random(n) < spec.overvote_attempt_rate) & (m == vote_for) & (m < k)
    rows = np.arange(n) if kept is None else np.flatnonzero(kept)
    # each voter's own ordering of the choices: argsort(-keys, stable); its first is the first largest key
    if vote_for == 1:  # one mark: the voter's first choice; an overvote adds the second
        voting = rows[m[rows] > 0]
        marks[voting, np.argmax(keys[voting], axis=1)] = 1
        idx = rows[attempt[rows]]
        over[idx, np.argsort(-keys[idx], axis=1, kind="stable")[:, 1]] = 1
        return marks, over
    rank = np.argsort(-keys[rows], axis=1, kind="stable")
    marks[rows[:, None], rank] = (np.arange(k)[None, :] < m[rows][:, None]).astype(np.uint8)
    local = np.flatnonzero(attempt[rows])
    over[rows[local], rank[local, m[rows[local]]]] = 1
    return marks, over


@dataclass
class VoterDraws:
    """The arrays that drive one precinct's day. Row *i* is the *i*-th voter to arrive.

    Columns of ``intent`` and ``overmarks`` follow :attr:`Election.columns`.
    """

    arrival: np.ndarray  # float64 minutes after midnight, sorted
    status: np.ndarray  # int8 RollStatus
    need: np.ndarray  # int8 VoterNeed
    intent: np.ndarray  # uint8 [n, width]: what the voter means to vote
    overmarks: np.ndarray  # uint8 [n, width]: the extra mark of an overvote attempt (mostly zero)
    checkin: np.ndarray  # minutes at the pollbook station
    affidavit: np.ndarray  # extra minutes of affidavit paperwork at the station
    walk: np.ndarray  # minutes from the pollbook to the voting station
    vote: np.ndarray  # minutes at the DRE / booth / BMD (first attempt, all corrections included on a DRE)
    remark: np.ndarray  # minutes to mark a paper ballot other than the first: a replacement, or an affidavit ballot in a DRE precinct
    spoil_replace: np.ndarray  # minutes to spoil a ballot and get a replacement
    scan: np.ndarray  # minutes at the scanner per feed
    paper_replace: np.ndarray  # minutes to replace empty VVPAT rolls, in the order rolls run out
    vvpat_reject: np.ndarray  # bool: the voter rejects the first VVPAT record
    spoil_on_return: np.ndarray  # bool: on an overvote return, spoil and re-mark (else override)
    spoil_mistake: np.ndarray  # bool: spoils a paper ballot for another mistake
    misfeed: np.ndarray  # bool: the voter's first scanner feed misfeeds

    @property
    def n(self) -> int:
        return len(self.arrival)

    @property
    def overvote_attempt(self) -> np.ndarray:
        return np.asarray(self.overmarks.any(axis=1))


def _statuses(rng: np.random.Generator, precinct: PrecinctSpec, n: int) -> np.ndarray:
    roll = precinct.roll
    p_status = np.zeros(len(RollStatus))
    p_status[RollStatus.RESTORED] = roll.restored
    p_status[RollStatus.INACTIVE] = roll.inactive
    p_status[RollStatus.NOT_ON_ROLL] = roll.not_on_roll
    p_status[RollStatus.WRONG_PRECINCT] = roll.wrong_precinct
    p_status[RollStatus.NO_PHOTO_ID] = roll.no_photo_id
    p_status[RollStatus.NEW_REGISTRANT] = roll.new_registrant
    p_status[RollStatus.VOTED_AB] = roll.voted_ab  # the pollbook shows VOTED AB: affidavit ballot (SOS rule 1-17-2.3)
    p_status[RollStatus.ACTIVE] = max(0.0, 1.0 - p_status.sum())
    return rng.choice(len(RollStatus), size=n, p=p_status / p_status.sum()).astype(np.int8)


def _replayed_voters(rng: np.random.Generator, scenario: Scenario, precinct: PrecinctSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(arrival, status, replayed choice index or -1) for a replay precinct.

    The regular voters are exactly the replayed votes; affidavit voters come on top, as many as
    the roll mix implies (their ballots are sealed, not counted, so the count stays exact).
    """
    replay = precinct.replay
    assert replay is not None
    spec = next(c for c in scenario.election.contests if c.id == replay.contest)
    ids = [c.id for c in spec.choices]
    regular = sum(replay.votes.values())
    roll = precinct.roll
    aff_share = roll.inactive + roll.not_on_roll + roll.wrong_precinct + roll.no_photo_id + roll.new_registrant + roll.voted_ab
    n_aff = int(rng.poisson(regular * aff_share / (1.0 - aff_share))) if aff_share < 1.0 else 0
    n = regular + n_aff
    arrival = arrival_times(rng, scenario, 0.0, count=n)
    status = np.zeros(n, np.int8)
    is_aff = np.zeros(n, bool)
    is_aff[rng.choice(n, n_aff, replace=False)] = True
    if n_aff:
        weights = np.array([roll.inactive, roll.not_on_roll, roll.wrong_precinct, roll.no_photo_id, roll.new_registrant, roll.voted_ab])
        kinds = [RollStatus.INACTIVE, RollStatus.NOT_ON_ROLL, RollStatus.WRONG_PRECINCT, RollStatus.NO_PHOTO_ID, RollStatus.NEW_REGISTRANT, RollStatus.VOTED_AB]
        status[is_aff] = np.array(kinds, np.int8)[rng.choice(len(kinds), n_aff, p=weights / weights.sum())]
    restored = roll.restored / max(1e-12, 1.0 - aff_share)
    status[~is_aff] = np.where(rng.random(regular) < restored, RollStatus.RESTORED, RollStatus.ACTIVE)
    choice = np.full(n, -1, np.int64)
    votes = np.repeat(np.arange(len(ids)), [replay.votes.get(c, 0) for c in ids])
    choice[~is_aff] = rng.permutation(votes)
    return arrival, status, choice


def draw_voters(rng: np.random.Generator, scenario: Scenario, election: Election, precinct: PrecinctSpec) -> VoterDraws:
    """Draw one precinct's voters from its generator (see the module docstring).

    Scripted voters (``precinct.scripted_voters``, for drills) are drawn from a child generator
    and merged in by arrival time, so they change nothing about the other voters.
    """
    scripted = precinct.scripted_voters
    child = rng.spawn(1)[0] if scripted else None
    if precinct.replay is None:
        arrival = arrival_times(rng, scenario, precinct.registered_voters * precinct.turnout)
        status = _statuses(rng, precinct, len(arrival))
        replayed = None
    else:
        arrival, status, replayed = _replayed_voters(rng, scenario, precinct)
    u = rng.random(len(arrival))
    need = np.where(u < precinct.needs.audio, VoterNeed.AUDIO, np.where(u < precinct.needs.audio + precinct.needs.language, VoterNeed.LANGUAGE, VoterNeed.NONE)).astype(np.int8)
    draws = _draw_ballots_and_times(rng, scenario, election, precinct, arrival, status, need, replayed)
    if not scripted:
        return draws
    arrival = np.array([clock_minutes(v.at) for v in scripted])
    status = np.array([RollStatus[v.status.upper()] for v in scripted], np.int8)
    need = np.array([VoterNeed[v.need.upper()] for v in scripted], np.int8)
    extra = _draw_ballots_and_times(child, scenario, election, precinct.model_copy(update={"replay": None}), arrival, status, need, None)
    style = election.ballot_style(precinct.ballot_style)
    st = scenario.service_times
    dre = precinct.equipment.kind == "dre"
    for k, v in enumerate(scripted):
        if dre and v.vvpat_reject and not extra.vvpat_reject[k]:  # read the record, reject it, revise, read again
            extra.vote[k] += 2 * st.vvpat_review.mean + st.overvote_correction.mean
        if dre and v.overvote:  # the DRE warns and the voter corrects
            extra.vote[k] += st.overvote_correction.mean
        extra.vvpat_reject[k] = v.vvpat_reject
        extra.spoil_mistake[k] = v.spoil
        extra.overmarks[k] = 0
        if v.overvote:  # one mark too many in the first contest where the voter marked every seat
            for cid in style.contests:
                sl, seats = election.contest_slices[cid], election.contest(cid).vote_for
                row = extra.intent[k, sl]
                if row.sum() == seats and seats < len(row):
                    extra.overmarks[k, sl.start + int(np.flatnonzero(row == 0)[0])] = 1
                    break
    return _merge(draws, extra)


def _merge(a: VoterDraws, b: VoterDraws) -> VoterDraws:
    """Both sets of voters in one, ordered by arrival (stable: ties keep ``a`` first)."""
    order = np.argsort(np.concatenate([a.arrival, b.arrival]), kind="stable")
    fields = {}
    for name, value in vars(a).items():
        if name == "paper_replace":
            fields[name] = value
        else:
            fields[name] = np.concatenate([value, getattr(b, name)])[order]
    return VoterDraws(**fields)


def _draw_ballots_and_times(rng, scenario, election, precinct, arrival, status, need, replayed) -> VoterDraws:
    """Selections, service times and behaviour of voters whose arrival, status and need are known."""
    n = len(arrival)

    style = election.ballot_style(precinct.ballot_style)
    intent = np.zeros((n, election.width), np.uint8)
    overmarks = np.zeros_like(intent)
    specs = {c.id: c for c in scenario.election.contests}
    for cid in style.contests:
        sl = election.contest_slices[cid]
        replay = replayed is not None and cid == precinct.replay.contest
        kept = replayed < 0 if replay else None  # the replayed votes replace the others' marks
        intent[:, sl], overmarks[:, sl] = _contest_marks(rng, specs[cid], n, precinct.shares.get(cid), kept)
        if replay:
            rows = np.flatnonzero(replayed >= 0)
            intent[rows, sl] = 0
            overmarks[rows, sl] = 0
            intent[rows, sl.start + replayed[rows]] = 1

    st, bh = scenario.service_times, scenario.behaviour
    n_contests = len(style.contests)
    checkin_spec = st.checkin_electronic if precinct.equipment.pollbook == "electronic" else st.checkin_paper
    factor = np.where(need == VoterNeed.AUDIO, st.accessible_factor, np.where(need == VoterNeed.LANGUAGE, st.language_factor, 1.0))
    dre = precinct.equipment.kind == "dre"
    attempt = overmarks.any(axis=1)
    if dre:
        vote = sample_times(rng, st.dre_vote, n, n_contests) * factor
        review = rng.random(n) < bh.vvpat_review_share
        reject = review & (rng.random(n) < bh.vvpat_reject_share)
        vote += np.where(attempt, sample_times(rng, st.overvote_correction, n), 0.0)
        vote += np.where(review, sample_times(rng, st.vvpat_review, n), 0.0)
        vote += np.where(reject, sample_times(rng, st.overvote_correction, n) + sample_times(rng, st.vvpat_review, n), 0.0)
    else:
        mark = sample_times(rng, st.paper_mark, n, n_contests)
        bmd = sample_times(rng, st.dre_vote, n, n_contests)
        audio = need == VoterNeed.AUDIO
        vote = np.where(audio, bmd, mark) * factor
        reject = np.zeros(n, bool)
    return VoterDraws(
        arrival=arrival,
        status=status,
        need=need,
        intent=intent,
        overmarks=overmarks,
        checkin=sample_times(rng, checkin_spec, n),
        affidavit=sample_times(rng, st.affidavit_paperwork, n),
        walk=sample_times(rng, st.walk, n),
        vote=vote,
        remark=sample_times(rng, st.paper_mark, n, n_contests) * factor,
        spoil_replace=sample_times(rng, st.spoil_replace, n),
        scan=sample_times(rng, st.scan, n),
        paper_replace=sample_times(rng, st.vvpat_paper_replace, 64),
        vvpat_reject=reject,
        spoil_on_return=rng.random(n) < bh.scanner_overvote_spoil_share,
        spoil_mistake=rng.random(n) < bh.paper_spoil_share,
        misfeed=rng.random(n) < bh.scanner_misfeed_rate,
    )
