"""The absentee stage's front door: every precinct's absentee voting before election day, and its count.

:func:`run_absentee` takes the validated :class:`~pollsim.scenario.models.Scenario` (with an
``absentee`` section) and the root seed and returns an
:class:`~pollsim.absentee.record.AbsenteeRun`: envelopes drawn per precinct
(:mod:`.envelopes`), checked and counted per county by the resolution board (:mod:`.board`,
§23-15-639), the ballots' three layers (:mod:`.ballots`), and the injected errors in absentee
handling (``absentee.errors``). :func:`with_voted_ab` then marks the pollbooks VOTED AB for the
day (SOS rule 1-17-2.3). It runs before election day, in the data flow's order; the marks need
only the envelopes (:func:`draw_envelopes`), so the chain (:func:`pollsim.pipeline.run_election`)
starts the day once they are drawn and lets the boards count while it runs.

Seeds: precinct ``i`` draws its envelopes from ``SeedSequence(root, spawn_key=(3 << 30, i))``,
county ``k``'s board from ``(3 << 30, 1 << 20, k)``, the non-returned applications' reasons from
``(3 << 30, 2 << 20)`` and every ballot's marks from ``(3 << 30, 4 << 20)``, in a fixed order in
one process. So the output depends on the root seed alone, never on worker counts or order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pollsim.absentee.ballots import mark_all
from pollsim.absentee.board import work_county
from pollsim.absentee.calendar import DAY, WorkHours
from pollsim.absentee.envelopes import Calendar, PrecinctEnvelopes, draw_precinct
from pollsim.absentee.record import BATCH_DTYPE, AbsenteeRun, Status
from pollsim.scenario.absentee_spec import APPLICATION_REASONS, Absentee
from pollsim.scenario.models import PrecinctSpec, Scenario, build_election, clock_minutes

ABSENTEE_KEY = 3 << 30


def _seed(root: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(root, spawn_key=(ABSENTEE_KEY, *key)))


def expected_day_ballots(p: PrecinctSpec) -> float:
    """Ballots the precinct is expected to cast at the polls (the replay's regular votes, else registered x turnout)."""
    return float(sum(p.replay.votes.values())) if p.replay is not None else p.registered_voters * p.turnout


def _counties(precincts: list[PrecinctSpec]) -> tuple[list[str], np.ndarray]:
    names = list(dict.fromkeys(p.county for p in precincts))
    index = {c: i for i, c in enumerate(names)}
    return names, np.array([index[p.county] for p in precincts], np.int32)


def draw_envelopes(scenario: Scenario, seed: int, first: int = 0, stop: int | None = None) -> list[PrecinctEnvelopes]:
    """Every precinct's envelopes (:mod:`.envelopes`), the first part of :func:`run_absentee`:
    enough for :func:`with_voted_ab`, so the day can start while the boards count. ``first``,
    ``stop``: only precincts ``first`` to ``stop - 1`` (each precinct draws from its own seed, so
    the envelopes drawn in parts are the envelopes drawn at once)."""
    spec = scenario.absentee if scenario.absentee is not None else Absentee()
    cal = Calendar.of(scenario.election.date)
    part = scenario.precincts[first:stop]
    return [draw_precinct(_seed(seed, i), spec, p, i, expected_day_ballots(p), cal) for i, p in enumerate(part, first)]


def run_absentee(scenario: Scenario, seed: int, drawn: list[PrecinctEnvelopes] | None = None) -> AbsenteeRun:
    """Absentee voting of every precinct of ``scenario`` under root seed ``seed`` (module docstring);
    ``drawn``: the envelopes :func:`draw_envelopes` drew for the same scenario and seed (drawn here
    when not given)."""
    spec = scenario.absentee if scenario.absentee is not None else Absentee()
    election = build_election(scenario.election)
    cal = Calendar.of(scenario.election.date)
    if drawn is None:
        drawn = draw_envelopes(scenario, seed)
    elif len(drawn) != len(scenario.precincts):
        raise ValueError(f"envelopes drawn for {len(drawn)} precincts, the scenario has {len(scenario.precincts)}")
    env = np.concatenate([d.envelopes for d in drawn])
    count_day = np.concatenate([d.count_day for d in drawn]).astype(np.int64)
    names, precinct_county = _counties(scenario.precincts)
    env_county = precinct_county[env["precinct"]]
    b = spec.board
    polls_open, polls_close = clock_minutes(scenario.polls.open), clock_minutes(scenario.polls.close)
    hours = WorkHours(cal.election, polls_open, clock_minutes(b.election_night_end), clock_minutes(b.day_start), clock_minutes(b.day_end))
    scanners = [str(spec.scanner_by_county.get(c, spec.scanner)) for c in names]
    batches: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    ballot_batch: list[np.ndarray] = []
    per_county = {k: np.zeros(len(names)) for k in ("board_minutes", "scan_minutes", "board_days", "per_diem")}
    for k in range(len(names)):
        mine = np.flatnonzero(env_county == k)
        part = env[mine]
        minutes = b.central_ballot_minutes if scanners[k] == "central" else b.hand_fed_ballot_minutes
        work = work_county(_seed(seed, 1 << 20, k), b, hours, part, count_day[mine], minutes, polls_close)
        env[mine] = part
        work.batches["county"] = k
        ballot_batch.append(work.ballot_batch + sum(len(x) for x in batches))
        batches.append(work.batches)
        rows.append(mine[work.ballot_rows])
        for key in per_county:
            per_county[key][k] = getattr(work, key)
    batch_arr = np.concatenate(batches) if batches else np.zeros(0, BATCH_DTYPE)
    ballot_env = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    ballot_b = np.concatenate(ballot_batch) if ballot_batch else np.zeros(0, np.int64)
    ballot_p = env["precinct"][ballot_env].astype(np.int32)

    intent, paper = mark_all(_seed(seed, 4 << 20), scenario, election, ballot_p, env["kind"][ballot_env])
    cvr = paper.copy()
    run = AbsenteeRun(
        election_date=cal.election,
        precinct_ids=[p.id for p in scenario.precincts],
        precinct_county=precinct_county,
        county_names=names,
        scanner=scanners,
        envelopes=env,
        intent=intent,
        paper=paper,
        cvr=cvr,
        ballot_precinct=ballot_p,
        ballot_batch=ballot_b.astype(np.int32),
        ballot_envelope=ballot_env.astype(np.int32),
        batches=batch_arr,
        per_precinct=_per_precinct(drawn, env, len(scenario.precincts)),
        applications_by_reason=_by_reason(_seed(seed, 2 << 20), spec, drawn, env, precinct_county, len(names)),
        per_county={k: (v.astype(np.int64) if k == "board_days" else v) for k, v in per_county.items()},
    )
    return inject_errors(run, spec, scenario)


def _per_precinct(drawn: list[PrecinctEnvelopes], env: np.ndarray, n: int) -> dict[str, np.ndarray]:
    accepted = np.bincount(env["precinct"][env["status"] == Status.ACCEPTED], minlength=n).astype(np.int64)
    sent = np.array([d.sent for d in drawn], np.int64)
    return {
        "applications": sent,
        "sent": sent,
        "not_returned": np.array([d.not_returned for d in drawn], np.int64),
        "receipt_entries": accepted,
        "voted_ab": sent,
        "at_polls": np.array([d.at_polls for d in drawn], float),
        "at_polls_accepted": np.array([d.at_polls_accepted for d in drawn], float),
    }


def _by_reason(rng: np.random.Generator, spec: Absentee, drawn: list[PrecinctEnvelopes], env: np.ndarray, precinct_county: np.ndarray, n: int) -> np.ndarray:
    """Applications per county by excuse (UOCAVA envelopes apart): the envelopes' reasons, plus the
    non-returned ballots' reasons drawn by the shares."""
    out = np.zeros((n, len(APPLICATION_REASONS)), np.int64)
    has = env["reason"] >= 0
    np.add.at(out, (precinct_county[env["precinct"][has]], env["reason"][has].astype(np.int64)), 1)
    weights = np.array(spec.reasons.weights())
    for i, d in enumerate(drawn):
        if d.not_returned:
            out[precinct_county[i]] += rng.multinomial(d.not_returned, weights / weights.sum())
    return out


def inject_errors(run: AbsenteeRun, spec: Absentee, scenario: Scenario) -> AbsenteeRun:
    """Apply ``absentee.errors``: ballots fed through the scanner twice (no paper behind the second
    record), or accepted ballots left in a box that was never counted."""
    if not spec.errors:
        return run
    index = {p.id: i for i, p in enumerate(scenario.precincts)}
    keep = np.ones(run.n_ballots, bool)
    extra: list[int] = []
    for err in spec.errors:
        pos = np.flatnonzero((run.ballot_precinct == index[err.precinct]) & keep)
        if err.kind == "envelope_accepted_twice":
            extra.extend(pos[: err.count].tolist())
        else:
            gone = pos[len(pos) - min(err.count, len(pos)) :]
            keep[gone] = False
            run.envelopes["counted"][run.ballot_envelope[gone]] = np.nan
    src = np.concatenate([np.flatnonzero(keep), np.array(extra, np.int64)])
    dup = np.concatenate([np.zeros(int(keep.sum()), bool), np.ones(len(extra), bool)])
    order = np.argsort(run.ballot_batch[src], kind="stable")
    src, dup = src[order], dup[order]
    blank = np.where(dup[:, None], 0, 1).astype(np.uint8)
    run.intent, run.paper, run.cvr = run.intent[src] * blank, run.paper[src] * blank, run.cvr[src]
    run.ballot_precinct, run.ballot_batch = run.ballot_precinct[src], run.ballot_batch[src]
    run.ballot_envelope = np.where(dup, -1, run.ballot_envelope[src]).astype(np.int32)
    run.batches["ballots"] = np.bincount(run.ballot_batch, minlength=len(run.batches))
    return run


def with_voted_ab(scenario: Scenario, run: AbsenteeRun | list[PrecinctEnvelopes]) -> Scenario:
    """The scenario with each precinct's pollbook marking VOTED AB the absentee voters expected at the
    polls (``roll.voted_ab``: their share of the precinct's voters), so the day offers them an
    affidavit ballot (SOS rule 1-17-2.3). ``run``: the absentee stage, or just its envelopes
    (:func:`draw_envelopes`: the same marks)."""
    at_polls = run.per_precinct["at_polls"] if isinstance(run, AbsenteeRun) else [d.at_polls for d in run]
    return scenario.model_copy(update={"precincts": voted_ab(scenario.precincts, at_polls)})


def voted_ab(precincts: Sequence[PrecinctSpec], at_polls: Sequence[float] | np.ndarray) -> list[PrecinctSpec]:
    """:func:`with_voted_ab` of some precincts: each marks VOTED AB its share of the absentee
    voters expected at its polls (``at_polls``, in the same order); the chain marks the precincts
    chunk by chunk as it hands them to the day (:func:`pollsim.pipeline.run_election`)."""
    out = []
    for p, expected in zip(precincts, at_polls, strict=True):
        roll = p.roll
        others = sum(v for k, v in roll.model_dump().items() if k != "voted_ab")
        share = min(max(0.0, 1.0 - others), expected / max(1.0, expected_day_ballots(p) + expected))
        out.append(p.model_copy(update={"roll": roll.model_copy(update={"voted_ab": float(share)})}))
    return out


__all__ = ["DAY", "draw_envelopes", "expected_day_ballots", "inject_errors", "run_absentee", "voted_ab", "with_voted_ab"]
