"""The day's sections of a scenario: polling hours, arrivals, service times and voter behaviour.

Polling hours follow Miss. Code §23-15-581 (07:00 to 19:00; everyone in line at closing votes).
Arrivals follow Edelstein & Edelstein (EVT/WOTE 2010); service times Spencer & Markovits (2008)
and county studies; VVPAT behaviour VVSG 1.1 §7.8.2; DRE overvote warnings §23-15-531.1(c).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from pollsim.scenario.fields import ClockTime, FieldProblem, Float, Int, Minutes, Share, Strict, Weight, clock_minutes, hhmm


class Polls(Strict):
    """Polling hours, Miss. Code §23-15-581: 7:00 to 19:00; everyone in line at closing votes."""

    open: ClockTime = "07:00"
    """Polls open (HH:MM, 24-hour), §23-15-581."""
    close: ClockTime = "19:00"
    """Polls close (HH:MM, 24-hour): arrivals stop; everyone in line votes. A whole number of hours after opening."""

    @model_validator(mode="after")
    def _order(self) -> Polls:
        minutes = clock_minutes(self.close) - clock_minutes(self.open)
        if minutes <= 0:
            raise FieldProblem(("close",), f"polls must close after they open ({self.open})")
        if minutes % 60:
            raise FieldProblem(("close",), f"the polls must be open a whole number of hours (arrivals are given per hour); {self.open}-{self.close} is {minutes / 60:g} hours")
        return self

    @property
    def hours(self) -> int:
        return int(clock_minutes(self.close) - clock_minutes(self.open)) // 60


EDELSTEIN_SHARES = [10, 10, 5, 5, 5, 10, 10, 5, 5, 5, 10, 10, 10]
"""Edelstein & Edelstein (EVT/WOTE 2010) hourly arrival shares, in %, for a 13-hour day 6:00-19:00."""


def default_profile(hours: int) -> list[float]:
    """Edelstein's 12 shares of the hours 7:00-19:00 spread over ``hours`` equal hours.

    The 12-hour profile is a step function over the day; each of the ``hours`` parts gets its
    integral, so the opening, lunch and evening peaks keep their places and the shares keep
    their total (the line before opening stays the same part of the day). For 12 hours this is
    Edelstein's profile itself.
    """
    steps = [float(s) for s in EDELSTEIN_SHARES[1:]]
    out = []
    for k in range(hours):
        lo, hi = 12.0 * k / hours, 12.0 * (k + 1) / hours
        out.append(sum(s * max(0.0, min(hi, j + 1) - max(lo, j)) for j, s in enumerate(steps)))
    return [round(x, 9) for x in out]


class Arrivals(Strict):
    """Non-homogeneous Poisson arrivals: the expected count of each hour is its share of the day.

    Default: Edelstein's 13-hour profile; its first hour (6:00-7:00) becomes the line waiting when
    the polls open at 7:00 (Stewart's line studies: almost every precinct has a line at opening),
    its other 12 shares are the hours 7:00-19:00. When ``polls`` gives other hours and
    ``hourly_shares`` is left out, those 12 shares are spread over the polling hours
    (``default_profile``), keeping the opening, lunch and evening peaks.
    """

    hourly_shares: Annotated[list[Weight], Field(min_length=1, max_length=24)] = [float(s) for s in EDELSTEIN_SHARES[1:]]
    """Relative weights, one per hour the polls are open (normalised with before_opening_share);
    left out, Edelstein's profile spread over the polling hours."""
    before_opening_share: Weight = float(EDELSTEIN_SHARES[0])
    """Weight of the voters who arrive before the polls open and wait in line."""
    before_opening_minutes: Annotated[Float, Field(gt=0.0, le=240.0)] = 30.0
    """They arrive uniformly over this many minutes before opening (a setting)."""


class ServiceTime(Strict):
    """A service-time distribution in minutes: mean and standard deviation (gamma by default)."""

    distribution: Literal["gamma", "lognormal", "exponential", "constant", "uniform"] = "gamma"
    """Shape of the distribution; gamma is the usual service-time model (SimOpt Ohio model)."""
    mean: Minutes
    """Mean minutes (before per_contest)."""
    sd: Minutes = 0.0
    """Ignored for exponential (sd = mean) and constant; for uniform the range is mean ± sd·√3; for gamma
    and lognormal at most 10 x the mean (beyond that the draws are almost all zero or huge)."""
    per_contest: Annotated[Float, Field(ge=0.0, le=10.0)] = 0.0
    """Added to the mean for every contest on the ballot (voting times only): longer ballots take longer."""

    @model_validator(mode="after")
    def _sd(self) -> ServiceTime:
        if self.distribution in ("gamma", "lognormal"):
            if self.sd <= 0 and self.mean > 0:
                raise FieldProblem(("sd",), f"{self.distribution} needs sd > 0")
            if self.sd > 10 * self.mean:
                raise FieldProblem(("sd",), f"sd {self.sd:g} is over 10 x the mean {self.mean:g}: no service process varies that much")
        if self.distribution == "uniform" and self.sd * 3**0.5 > self.mean:
            raise FieldProblem(("sd",), "uniform range mean ± sd·√3 would go below zero")
        return self


def _st(dist: str, mean: float, sd: float = 0.0, per_contest: float = 0.0) -> ServiceTime:
    return ServiceTime(distribution=dist, mean=mean, sd=sd, per_contest=per_contest)  # type: ignore[arg-type]


class ServiceTimes(Strict):
    """How long each step takes, in minutes. Sources in docs/scenarios.md."""

    checkin_paper: ServiceTime = _st("gamma", 1.875, 0.5)
    """Paper roster: 1:45-2:00 typical, up to 5-6 min (Lawrence Co. OH 2015; Boone Co. MO)."""
    checkin_electronic: ServiceTime = _st("gamma", 0.5, 0.15)
    """Electronic pollbook: 0:15-0:45 (same sources)."""
    affidavit_paperwork: ServiceTime = _st("gamma", 4.0, 1.5)
    """Extra time at the table for the affidavit envelope and register: no published value, a setting."""
    walk: ServiceTime = _st("constant", 0.5)
    """Walk from the pollbook to the voting station: +30 s (Spencer & Markovits 2008)."""
    dre_vote: ServiceTime = _st("gamma", 1.5, 1.2, per_contest=0.375)
    """DRE: mean about 4.5 min for a typical ballot, range 28 s to 19.5 min (Spencer & Markovits 2008):
    1.5 min + 22.5 s per contest gives 4.5 min for 8 contests."""
    paper_mark: ServiceTime = _st("gamma", 1.0, 0.8, per_contest=0.25)
    """Hand-marking: mean about 3 min (Spencer & Markovits 2008): 1 min + 15 s per contest."""
    scan: ServiceTime = _st("uniform", 0.2083, 0.024)
    """Precinct scanner: 10-15 s a ballot, about 360 ballots/hour (election observers)."""
    accessible_factor: Annotated[Float, Field(ge=1.0, le=20.0)] = 3.0
    """Audio ballot time / visual ballot time: no published value (parameters.md), a setting."""
    language_factor: Annotated[Float, Field(ge=1.0, le=5.0)] = 1.1
    """Alternative-language ballot time / English ballot time: a setting."""
    overvote_correction: ServiceTime = _st("gamma", 0.5, 0.25)
    """DRE overvote warning and correction (§23-15-531.1(c)): a setting."""
    vvpat_review: ServiceTime = _st("gamma", 0.5, 0.25)
    """Reading the VVPAT record before casting: a setting."""
    vvpat_paper_replace: ServiceTime = _st("gamma", 5.0, 2.0)
    """Replacing an empty VVPAT roll (supervisor card, new roll, test print): no published value, a setting."""
    spoil_replace: ServiceTime = _st("gamma", 1.0, 0.4)
    """Spoiling a paper ballot and getting a replacement from a poll manager: a setting."""


class Behaviour(Strict):
    """How voters behave at the machines (settings unless a source is named)."""

    vvpat_review_share: Share = 0.5
    """Share of DRE voters who read their VVPAT record before casting."""
    vvpat_reject_share: Share = 0.01
    """Share of reviewing voters who reject the printed record and revise (VVSG 1.1 §7.8.2)."""
    vvpat_rejections_before_official: Annotated[Int, Field(ge=0, le=5)] = 3
    """Rejected records on one machine before an official steps in (VVSG 1.1 §7.8.2 default 3)."""
    scanner_overvote_spoil_share: Share = 0.8
    """Of voters whose overvoted ballot the scanner returns: the share who spoil it and re-mark; the rest override."""
    scanner_misfeed_rate: Share = 0.00067
    """Share of scanner feeds that misfeed or double-pick and come back unread (hardware.md: a worn
    scanner stopped 8 times in 12,000 ballots); the voter feeds the ballot again."""
    paper_spoil_share: Share = 0.005
    """Share of paper voters who spoil a ballot for another mistake and ask for a replacement."""


def check_hours(polls: Polls, arrivals: Arrivals, explicit: bool) -> Arrivals:
    """The arrivals for these polling hours: Edelstein's profile spread over them unless ``explicit``.

    Raises :class:`FieldProblem` (path under the scenario) when the given shares do not fit.
    """
    hours = polls.hours
    if not explicit:
        if hours != len(arrivals.hourly_shares):
            arrivals = arrivals.model_copy(update={"hourly_shares": default_profile(hours)})
    elif len(arrivals.hourly_shares) != hours:
        raise FieldProblem(
            ("arrivals", "hourly_shares"),
            f"{len(arrivals.hourly_shares)} entries given; expected one per hour the polls are open "
            f"({hours}: {polls.open}-{polls.close}); give {hours} or leave hourly_shares out to spread the default profile",
        )
    if sum(arrivals.hourly_shares) + arrivals.before_opening_share <= 0:
        raise FieldProblem(("arrivals", "hourly_shares"), "all shares are zero: nobody would come")
    first = clock_minutes(polls.open) - arrivals.before_opening_minutes
    if arrivals.before_opening_share > 0 and first < 0:
        raise FieldProblem(
            ("arrivals", "before_opening_minutes"),
            f"voters would arrive from {hhmm(first + 1440)} the day before (polls open {polls.open}); shorten it or set before_opening_share: 0",
        )
    return arrivals

