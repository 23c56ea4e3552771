"""Voters who give up on a long line, and the planner's defaults: the ``giving_up`` and ``plan`` sections.

A voter who reaches the door and sees too long a check-in line may leave at once (**balking**) or
come back later; a voter in the line may leave after waiting longer than they are willing to
(**reneging**). Both happen only in the check-in line: a voter who has been checked in holds a
ballot and votes (Lamb 2021 and Stein et al. 2020 observed voters leaving the *check-in* line).
Lost voters cast no ballot and are no part of the §23-15-615 totals; they are the cost of a line.

Sources of the defaults (docs/planning.md discusses them):

- **Patience**, the longest a voter will wait: Economist/YouGov poll of 18-20 October 2020 (1,500
  registered voters): of those voting in person, 16 % would give up within half an hour, 15 %
  within an hour, 5 % within one to two hours, and 64 % would wait as long as it takes. Read as
  limits of 30, 60 and 120 minutes (``survey``); stated limits, so if anything they overstate
  leaving, which Stewart & Ansolabehere (2013, "Waiting in Line to Vote", Caltech/MIT VTP working
  paper 114) put at 500,000-700,000 votes lost to lines nationally in 2012.
- **Balking on the line seen**: Lamb (2021), "Who Leaves the Line, Anyway?", Election Law Journal
  (doi:10.1089/elj.2020.0686): leaving grows with the number of people in line. A voter reckons
  the wait as (people waiting) x (mean check-in minutes) / (check-in stations) and balks when that
  exceeds their patience.
- **Coming back later**: no published rate ("There isn't good data on what happens to people who
  leave the line, even if they intend to try again later", C. Stewart III, quoted by ProPublica,
  November 2018): a setting, 0 by default.
- ``exponential`` patience makes the check-in line the M/M/c+M queue of Erlang A (Garnett,
  Mandelbaum & Reiman 2002), for checks against theory.

Off unless the scenario turns it on for ``pollsim run`` (the fidelity scenarios and their queue
checks are exact without it); on by default in ``pollsim plan``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from pollsim.scenario.day_spec import ServiceTime
from pollsim.scenario.fields import Bool, FieldProblem, Float, Int, Minutes, Share, Strict

SURVEY_LIMITS = [30.0, 60.0, 120.0]
"""Economist/YouGov, 18-20 Oct 2020: give up within half an hour, an hour, one to two hours."""
SURVEY_SHARES = [0.16, 0.15, 0.05]
"""The same poll: 16 %, 15 %, 5 % of in-person voters; the other 64 % wait as long as it takes."""


class Patience(Strict):
    """How long a voter is willing to wait in the check-in line (minutes)."""

    distribution: Literal["survey", "exponential", "never"] = "survey"
    """``survey``: a share of voters gives up at each of ``limits``, the rest never (Economist/YouGov 2020);
    ``exponential``: every voter's patience is exponential with ``mean`` (Erlang A's M/M/c+M);
    ``never``: nobody gives up."""
    limits: Annotated[list[Minutes], Field(min_length=1, max_length=10)] = SURVEY_LIMITS
    """``survey``: the waits (minutes, increasing) at which the voters of each share give up."""
    shares: Annotated[list[Share], Field(min_length=1, max_length=10)] = SURVEY_SHARES
    """``survey``: the share of voters giving up at each limit; the rest wait as long as it takes."""
    mean: Annotated[Float, Field(gt=0.0, le=10_000.0)] = 60.0
    """``exponential``: mean patience in minutes (a setting: no published value)."""

    @model_validator(mode="after")
    def _brackets(self) -> Patience:
        if len(self.limits) != len(self.shares):
            raise FieldProblem(("shares",), f"{len(self.shares)} shares for {len(self.limits)} limits: give one share per limit")
        if any(b <= a for a, b in zip(self.limits, self.limits[1:], strict=False)):
            raise FieldProblem(("limits",), "limits must increase")
        if sum(self.shares) > 1.0 + 1e-12:
            raise FieldProblem(("shares",), f"shares add up to {sum(self.shares):.0%}, more than 100 %")
        return self


class GivingUp(Strict):
    """Voters who leave the check-in line (balking at the door, reneging in line) and may come back."""

    enabled: Bool | None = None
    """``true``/``false``; left out: off in ``pollsim run``, on in ``pollsim plan``."""
    balking: Bool = True
    """A voter who reckons the line longer than their patience leaves at the door (Lamb 2021)."""
    reneging: Bool = True
    """A voter still in the check-in line when their patience runs out leaves it."""
    patience: Patience = Patience()
    """How long voters are willing to wait."""
    come_back_share: Share = 0.0
    """Share of balking voters who come back later (once, and then stay); no published rate: a setting."""
    come_back_after: ServiceTime = ServiceTime(distribution="uniform", mean=120.0, sd=34.641)
    """Minutes until a balking voter comes back (before the polls close, else they are lost): a setting."""


class Plan(Strict):
    """What ``pollsim plan`` does when its options are left out (docs/planning.md)."""

    targets: Annotated[list[Annotated[str, Field(min_length=1, max_length=40)]], Field(min_length=1, max_length=5)] = ["p95<=30"]
    """Service targets every recommended configuration meets, e.g. ``p95<=30`` (95th-percentile wait at most 30
    minutes), ``mean<=10``, ``lost<=1%``; the Presidential Commission on Election Administration (2014) asked that no
    voter wait more than 30 minutes."""
    replications: Annotated[Int, Field(ge=1, le=200)] = 20
    """Simulated days per candidate configuration (replication r is the day ``pollsim run --seed SEED+r`` simulates)."""
    meet: Annotated[Int, Field(ge=1, le=200)] | None = None
    """Days of the ``replications`` on which the targets must hold. Default: 19 of 20 (95 %, rounded up)."""
    scope: Literal["voter", "line"] = "voter"
    """``voter``: the targets apply to each voter's whole wait (all lines together, as ``pollsim run`` reports it);
    ``line``: to each line separately (as the public line calculators do)."""
    resources: Annotated[list[Literal["pollbooks", "voting", "scanners", "managers"]], Field(min_length=1, max_length=4)] = [
        "pollbooks", "voting", "scanners", "managers"]  # fmt: skip
    """What the planner may change: check-in stations, voting units (DREs, or booths in paper precincts),
    scanners (paper precincts), poll managers (with a ``staff`` section)."""

    @model_validator(mode="after")
    def _meet(self) -> Plan:
        if self.meet is not None and self.meet > self.replications:
            raise FieldProblem(("meet",), f"{self.meet} days of {self.replications} replications: at most {self.replications}")
        return self

    @property
    def days_to_meet(self) -> int:
        return self.meet if self.meet is not None else -(-self.replications * 19 // 20)
