"""The ``election`` section of a scenario: contests, choices and ballot styles, as the devices load them.

Contests are candidate contests (vote for N, Miss. Code §23-15-531.1) or measures (yes/no); a DRE
warns of an overvote (§23-15-531.1(c)) and a precinct scanner returns the ballot. ``build_election``
turns the section into the :class:`~pollsim.election.definition.Election` every device loads.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from pollsim.election.definition import BallotStyle, Choice, Contest, Election
from pollsim.scenario.fields import MAX_WEIGHT, Bool, Date, FieldProblem, Float, Ident, Int, Name, Share, Strict

MAX_CONTESTS = 200
"""Most contests on a ballot (long US ballots hold about 100); bounds the ballot matrix and the VVPAT record."""
MAX_CHOICES = 100
"""Most choices in one contest."""


class ChoiceSpec(Strict):
    id: Ident
    """Choice id, unique in its contest (letters, digits, - _ . and spaces); ``write-in`` is reserved."""
    name: Name
    """Name as printed on the ballot."""
    party: Name = ""
    """Party label printed on the ballot (empty for nonpartisan contests)."""
    share: Annotated[Float, Field(gt=0.0, le=MAX_WEIGHT)] = 1.0
    """Relative weight of this choice among the voters' selections (normalised per contest)."""


class ContestSpec(Strict):
    id: Ident
    """Contest id, unique in the election."""
    title: Name
    """Office or measure title as printed."""
    type: Literal["candidate", "measure"] = "candidate"
    """``candidate`` (choices listed) or ``measure`` (yes/no)."""
    vote_for: Annotated[Int, Field(ge=1, le=20)] = 1
    """Seats to fill: a voter may mark up to this many choices (vote for N)."""
    choices: Annotated[list[ChoiceSpec], Field(max_length=MAX_CHOICES)] = []
    """Candidates (candidate contests only); a measure's choices are always yes and no."""
    yes_share: Share = 0.5
    """Measures only: share of voters who mark yes among those who vote on the measure."""
    write_in: Bool = False
    """Whether the contest has a write-in line (an extra column ``write-in``)."""
    write_in_share: Share = 0.002
    """Share of selections written in (OpenElections MS 2020: write-ins are rare; a setting)."""
    undervote_rate: Share = 0.01
    """Share of voters who mark fewer than vote_for choices (skip the contest when vote_for is 1)."""
    overvote_attempt_rate: Share = 0.002
    """Share of voters who mark one choice too many: a DRE warns (§23-15-531.1(c)); a scanner returns the ballot."""

    @model_validator(mode="after")
    def _choices(self) -> ContestSpec:
        if self.type == "candidate":
            if len(self.choices) < 1:
                raise FieldProblem(("choices",), "a candidate contest needs at least one choice")
            if self.vote_for > len(self.choices) + int(self.write_in):
                raise FieldProblem(("vote_for",), f"vote for {self.vote_for} exceeds the number of choices")
            ids = [c.id for c in self.choices]
            for i, cid in enumerate(ids):
                if cid in ids[:i] or cid == "write-in":
                    raise FieldProblem(("choices", i, "id"), f"choice id {cid!r} is used twice (or is reserved)")
        else:
            if self.choices:
                raise FieldProblem(("choices",), "a measure has no choices list (its choices are yes and no)")
            if self.vote_for != 1:
                raise FieldProblem(("vote_for",), "a measure is vote for 1")
        return self


class BallotStyleSpec(Strict):
    id: Ident
    """Ballot style id, named by precincts."""
    contests: Annotated[list[Ident], Field(min_length=1, max_length=MAX_CONTESTS)]
    """The contests on this style's ballot."""


class ElectionSpec(Strict):
    id: Ident
    """Election id, carried into every export."""
    name: Name
    """Election name printed on tapes."""
    date: Date
    """Election day (YYYY-MM-DD, a real date between 1900 and 2100)."""
    contests: Annotated[list[ContestSpec], Field(min_length=1, max_length=MAX_CONTESTS)]
    """The contests, in ballot order (this order fixes the ballot matrix columns)."""
    ballot_styles: Annotated[list[BallotStyleSpec], Field(min_length=1, max_length=1000)]
    """The ballot styles precincts use."""

    @model_validator(mode="after")
    def _refs(self) -> ElectionSpec:
        ids = [c.id for c in self.contests]
        for i, cid in enumerate(ids):
            if cid in ids[:i]:
                raise FieldProblem(("contests", i, "id"), f"contest id {cid!r} is used twice")
        sids = [s.id for s in self.ballot_styles]
        for i, style in enumerate(self.ballot_styles):
            if style.id in sids[:i]:
                raise FieldProblem(("ballot_styles", i, "id"), f"ballot style id {style.id!r} is used twice")
            for j, cid in enumerate(style.contests):
                if cid not in ids:
                    raise FieldProblem(("ballot_styles", i, "contests", j), f"unknown contest {cid!r}")
                if cid in style.contests[:j]:
                    raise FieldProblem(("ballot_styles", i, "contests", j), f"contest {cid!r} is on the ballot twice")
        return self


def build_election(spec: ElectionSpec) -> Election:
    """The election definition the devices load, from the scenario's election section."""
    contests = []
    for c in spec.contests:
        choices: tuple[Choice, ...]
        if c.type == "measure":
            choices = (Choice("yes", "Yes"), Choice("no", "No"))
        else:
            choices = tuple(Choice(ch.id, ch.name, ch.party) for ch in c.choices)
            if c.write_in:
                choices += (Choice("write-in", "Write-in"),)
        contests.append(Contest(c.id, c.title, c.type, c.vote_for, choices))
    styles = tuple(BallotStyle(s.id, tuple(s.contests)) for s in spec.ballot_styles)
    return Election(spec.id, spec.name, spec.date.isoformat(), tuple(contests), styles)
