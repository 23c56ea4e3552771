"""Checks across the sections of a scenario: references resolve, and the day described can be run.

Each check raises :class:`~pollsim.scenario.fields.FieldProblem` with the path of the field to
fix. Besides the references (ballot styles, contests, choices, precincts, devices), they refuse
what would make ``pollsim run`` meaningless or endless: incidents and scripted voters outside
the polling hours of Miss. Code §23-15-581, and a precinct whose expected work would keep it
voting more than 24 hours past closing (everyone in line at closing votes, §23-15-581).
"""

from __future__ import annotations

from collections.abc import Sequence

from pollsim.scenario.absentee_spec import Absentee
from pollsim.scenario.day_spec import Polls, ServiceTimes
from pollsim.scenario.election_spec import ContestSpec, ElectionSpec
from pollsim.scenario.events_spec import SILENT_KINDS, Incident, InjectedError, Procedures, parse_device_id
from pollsim.scenario.fields import FieldProblem, clock_minutes, hhmm
from pollsim.scenario.precinct_spec import PrecinctSpec

MAX_REGISTERED = 5_000_000
"""Registered voters in all precincts together: about 2.3 x Mississippi's 2,143,149 (EAVS 2020)."""
MAX_HOURS_PAST_CLOSING = 24
"""The expected work of every station must be done within this many hours of closing."""


def known(names: set[str]) -> str:
    """'a, b, c' for a message, at most ten names."""
    shown = sorted(names)
    return ", ".join(shown[:10]) + (f", ... ({len(shown)} in all)" if len(shown) > 10 else "")


def _choice_ids(contest: ContestSpec) -> set[str]:
    if contest.type == "measure":
        return {"yes", "no"}
    return {c.id for c in contest.choices} | ({"write-in"} if contest.write_in else set())


def check_precincts(election: ElectionSpec, precincts: Sequence[PrecinctSpec]) -> None:
    """Unique ids, known ballot styles, contests and choices, and a total the machine can hold."""
    if not precincts:
        raise FieldProblem(("precincts",), "required field is missing: list the precincts, or give a mississippi section to generate them")
    styles = {s.id for s in election.ballot_styles}
    contests = {c.id: c for c in election.contests}
    seen: set[str] = set()
    for i, p in enumerate(precincts):
        if p.id in seen:
            raise FieldProblem(("precincts", i, "id"), f"precinct id {p.id!r} is used twice")
        seen.add(p.id)
        if p.ballot_style not in styles:
            raise FieldProblem(("precincts", i, "ballot_style"), f"unknown ballot style {p.ballot_style!r} (known: {known(styles)})")
        for cid, weights in p.shares.items():
            if cid not in contests:
                raise FieldProblem(("precincts", i, "shares", cid), f"unknown contest {cid!r}")
            contest = contests[cid]
            for ch in weights:
                if ch not in _choice_ids(contest):
                    raise FieldProblem(("precincts", i, "shares", cid, ch), f"unknown choice {ch!r}")
            if contest.type == "measure":
                effective = [weights.get("yes", contest.yes_share), weights.get("no", 1.0 - contest.yes_share)]
            else:
                effective = [weights.get(c.id, c.share) for c in contest.choices]
                effective += [weights.get("write-in", contest.write_in_share)] if contest.write_in else []
            if sum(effective) <= 0:
                raise FieldProblem(("precincts", i, "shares", cid), "every weight is zero: nobody could vote in this contest (use undervote_rate)")
        if p.replay is not None:
            c = contests.get(p.replay.contest)
            if c is None or c.type != "candidate" or c.vote_for != 1:
                raise FieldProblem(("precincts", i, "replay", "contest"), "must name a vote-for-1 candidate contest")
            for group in ("votes", "absentee_votes", "uocava_votes"):
                for ch in getattr(p.replay, group):
                    if ch not in {x.id for x in c.choices}:
                        raise FieldProblem(("precincts", i, "replay", group, ch), f"unknown choice {ch!r}")
    total = sum(p.registered_voters for p in precincts)
    if total > MAX_REGISTERED:
        raise FieldProblem(("precincts",), f"{total:,} registered voters in all; at most {MAX_REGISTERED:,} (a run keeps every voter in memory)")


def check_errors(errors: Sequence[InjectedError], precincts: Sequence[PrecinctSpec]) -> None:
    by_id = {p.id: p for p in precincts}
    for i, err in enumerate(errors):
        if err.precinct not in by_id:
            raise FieldProblem(("errors", i, "precinct"), f"unknown precinct {err.precinct!r}")
        kind = by_id[err.precinct].equipment.kind
        if err.kind == "dre_counter_glitch" and kind != "dre":
            raise FieldProblem(("errors", i, "kind"), "a DRE counter glitch needs a DRE precinct")
        if err.kind == "lost_paper_ballot" and kind != "paper":
            raise FieldProblem(("errors", i, "kind"), "a lost paper ballot needs a paper precinct")


def check_absentee(absentee: Absentee | None, precincts: Sequence[PrecinctSpec]) -> None:
    """Absentee numbers of precincts need an ``absentee`` section; its errors name known precincts."""
    if absentee is None:
        for i, p in enumerate(precincts):
            for name in ("absentee_ballots", "uocava_ballots"):
                if getattr(p, name) is not None:
                    raise FieldProblem(("precincts", i, name), "needs an absentee section (absentee: {} for the defaults)")
            if p.absentee_replayed:
                raise FieldProblem(("precincts", i, "replay", "absentee_votes"), "needs an absentee section (absentee: {} for the defaults)")
        return
    ids = {p.id for p in precincts}
    for i, err in enumerate(absentee.errors):
        if err.precinct not in ids:
            raise FieldProblem(("absentee", "errors", i, "precinct"), f"unknown precinct {err.precinct!r}")


def check_incidents(
    incidents: Sequence[Incident], precincts: Sequence[PrecinctSpec], election: ElectionSpec, polls: Polls, procedures: Procedures
) -> None:
    """Each incident names a device the precinct has, a kind that fits it, and a time the unit is in use."""
    by_id = {p.id: p for p in precincts}
    contests = {c.id: c for c in election.contests}
    start = max(0.0, clock_minutes(polls.open) - procedures.opening_minutes)
    for i, inc in enumerate(incidents):
        if inc.precinct is None and len(precincts) > 1:
            raise FieldProblem(("incidents", i, "precinct"), "required when the scenario has several precincts")
        if inc.precinct is not None and inc.precinct not in by_id:
            raise FieldProblem(("incidents", i, "precinct"), f"unknown precinct {inc.precinct!r}")
        precinct = by_id[inc.precinct] if inc.precinct else precincts[0]
        try:
            pool, unit = parse_device_id(inc.device)
        except ValueError as exc:
            raise FieldProblem(("incidents", i, "device"), str(exc)) from None
        if unit >= precinct.equipment.units(pool):
            raise FieldProblem(("incidents", i, "device"), f"precinct {precinct.id!r} has no {inc.device}")
        if inc.response == "paper_pollbook" and (pool != "PB" or precinct.equipment.pollbook != "electronic"):
            raise FieldProblem(("incidents", i, "response"), "paper_pollbook needs an electronic pollbook station (PB-n)")
        if inc.kind in SILENT_KINDS and pool not in ("DRE", "ADA"):
            raise FieldProblem(("incidents", i, "kind"), f"{inc.kind} acts on a DRE unit (DRE-n or ADA-n)")
        if inc.kind == "misrecording":
            if inc.contest not in contests:
                raise FieldProblem(("incidents", i, "contest"), "misrecording needs a contest of the election")
            if inc.to is not None and inc.to not in {c.id for c in contests[inc.contest].choices}:
                raise FieldProblem(("incidents", i, "to"), f"unknown choice {inc.to!r}")
        at = clock_minutes(inc.at)
        if not start <= at < clock_minutes(polls.close):
            raise FieldProblem(
                ("incidents", i, "at"),
                f"{inc.at} is outside the hours the units are in use: from {hhmm(start)} (the opening procedures) "
                f"to {polls.close} (the polls close); an incident then would never meet a voter",
            )


def _stations(p: PrecinctSpec, contests: int, times: ServiceTimes) -> list[tuple[str, float, int, str]]:
    """(equipment field, expected minutes of work, units, what) for each kind of station of a precinct.

    Expected voters x mean minutes, split as the day splits them: affidavit voters mark paper in a
    booth, audio-ballot voters use the accessible units at ``accessible_factor`` times the time, an
    empty VVPAT roll costs a replacement every roll's worth of records (the estimate of
    pollsim.devices.dre.records_per_roll: 3 in + 0.75 in per contest a record).
    """
    eq, roll, needs = p.equipment, p.roll, p.needs
    voters = max(p.registered_voters * p.turnout, float(sum(p.replay.votes.values())) if p.replay else 0.0) + len(p.scripted_voters)
    aff = roll.inactive + roll.not_on_roll + roll.wrong_precinct + roll.no_photo_id + roll.new_registrant + roll.voted_ab
    checkin = (times.checkin_electronic if eq.pollbook == "electronic" else times.checkin_paper).mean + aff * times.affidavit_paperwork.mean
    vote = times.dre_vote.mean + times.dre_vote.per_contest * contests
    mark = times.paper_mark.mean + times.paper_mark.per_contest * contests
    visual = 1.0 + needs.language * (times.language_factor - 1.0)
    out = [("pollbook_stations", voters * checkin, eq.pollbook_stations, "check-in station")]
    if eq.kind == "dre":
        if eq.vvpat_roll_feet is not None:
            vote += times.vvpat_paper_replace.mean / max(1.0, eq.vvpat_roll_feet * 12.0 / (3.0 + 0.75 * contests))
        regular = voters * (1.0 - aff)
        out += [
            ("dre_units", regular * (1.0 - needs.audio) * vote * visual, eq.dre_units, "DRE"),
            ("accessible_units", regular * needs.audio * vote * times.accessible_factor, eq.accessible_units, "accessible DRE"),
            ("marking_booths", voters * aff * mark, eq.booths, "marking booth"),
        ]
    else:
        out += [
            ("marking_booths", voters * (1.0 - needs.audio) * mark * visual, eq.booths, "marking booth"),
            ("accessible_units", voters * needs.audio * vote * times.accessible_factor, eq.accessible_units, "BMD"),
            ("scanners", voters * times.scan.mean, eq.scanners, "scanner"),
        ]
    return out


def check_day(precincts: Sequence[PrecinctSpec], election: ElectionSpec, polls: Polls, times: ServiceTimes) -> None:
    """Scripted voters come while the polls are open, and each station's expected work fits the day."""
    close = clock_minutes(polls.close)
    limit = polls.hours * 60.0 + MAX_HOURS_PAST_CLOSING * 60.0
    styles = {s.id: len(s.contests) for s in election.ballot_styles}
    for i, p in enumerate(precincts):
        for j, v in enumerate(p.scripted_voters):
            if clock_minutes(v.at) >= close:
                raise FieldProblem(("precincts", i, "scripted_voters", j, "at"), f"{v.at} is not before the polls close ({polls.close}): arrivals stop at closing")
        for field, work, units, what in _stations(p, styles.get(p.ballot_style, 0), times):
            if work / units > limit:
                raise FieldProblem(
                    ("precincts", i, "equipment", field),
                    f"about {work / 60:,.0f} hours of voters' time at {units} {what}(s), for polls open {polls.hours} hours: "
                    f"the last voter would leave over {MAX_HOURS_PAST_CLOSING} hours after closing; add units or shorten the times",
                )
