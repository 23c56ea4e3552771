"""The fewest units that meet the targets, for one polling place.

Two ways to read a target (``Plan.scope``, docs/planning.md):

- ``line``: each line on its own meets the targets, as the public line calculators work (the
  MIT/Caltech line-optimization calculator, Georgia Tech's polling location tool). Lines come one
  after another and a later line never slows an earlier one, so each resource is the fewest units
  whose line meets the targets given the lines before it: where a line is an M/M/c queue this is
  the smallest c meeting the target by the Erlang C formula (tests/plan/test_theory.py).
- ``voter`` (the default): each voter's whole wait, all lines together, as ``pollsim run`` reports
  it. The search starts from the ``line`` answer (no line can wait less than the whole), adds the
  unit that helps most until the targets are met, then takes away any unit the targets do not
  need. So the answer meets the targets, and one unit fewer of any resource does not.

Each step tries its few candidate configurations together on the same simulated days
(:class:`~pollsim.plan.trials.Trials`). Units are assumed to help (more units, no longer waits),
which common random numbers keep true day by day in all but freak cases.
"""

from __future__ import annotations

from dataclasses import dataclass

from pollsim.plan.trials import ENOUGH, LINE, Config, DayFigures, Trials

WINDOW = 5
"""Unit counts tried at once when looking for the fewest that serve one line."""


@dataclass(frozen=True)
class Search:
    """What one precinct's search found."""

    resources: tuple[str, ...]
    today: DayFigures
    recommended: DayFigures
    one_fewer: dict[str, DayFigures]  # resource -> the recommendation with one unit fewer of it
    reachable: bool  # False: no configuration within the bounds meets the targets
    tried: int  # configurations tried


def _with(config: Config, k: int, value: int) -> Config:
    return config[:k] + (value,) + config[k + 1 :]


def fewest_for_line(trials: Trials, config: Config, k: int, meet: int, also: tuple[Config, ...] = ()) -> tuple[int, bool]:
    """The fewest units of resource ``k`` whose line meets the targets, the others as in ``config``
    (windows of :data:`WINDOW` counts, up or down from a guess); (count, found). ``also``: other
    configurations to try with the first window (a batch costs little more for more lanes)."""
    resource = trials.resources[k]
    lo, hi = trials.bounds(resource)
    line = LINE[resource]

    def meets(f: DayFigures) -> bool:
        return f.days_meeting(trials.targets, line) >= meet

    start = min(hi, max(lo, trials.guess(resource) - 1))
    known: int | None = None  # the fewest found to meet so far
    while True:
        values = list(range(start, min(hi, start + WINDOW - 1) + 1))
        until = "checkin" if line == "checkin" else ""
        ok = [meets(f) for f in trials.figures([_with(config, k, v) for v in values] + ([] if until else list(also)), until=until)[: len(values)]]
        also = also if until else ()
        if any(ok):
            first = values[ok.index(True)]
            if first == start > lo:  # the fewest may be lower still
                known, start = first, max(lo, start - WINDOW)
                continue
            return first, True
        if known is not None:  # none below the last window's first count meets
            return known, True
        if values[-1] >= hi:
            return hi, False
        start = values[-1] + 1


def search(trials: Trials, meet: int, scope: str = "voter") -> Search:
    """The recommendation for one precinct (see the module docstring)."""
    targets = trials.targets
    config = trials.today
    crew = trials.resources.index("managers") if "managers" in trials.resources else None
    if crew is not None:  # every post staffed while the stations are counted; then the fewest managers
        config = _with(config, crew, ENOUGH)
    reachable = True
    for k in range(len(trials.resources)):
        value, found = fewest_for_line(trials, config, k, meet, also=(trials.today,))  # today's room rides along with the first full batch
        config = _with(config, k, value)
        reachable &= found
    line = scope == "line"

    def meets(f: DayFigures) -> bool:
        if line:
            return all(f.days_meeting(targets, LINE[r]) >= meet for r in trials.resources)
        return f.days_meeting(targets) >= meet

    if not line and reachable:
        current = trials.figures([config])[0]
        while not meets(current):  # add the unit that helps most
            ups = [_with(config, k, config[k] + 1) for k, r in enumerate(trials.resources) if config[k] < trials.bounds(r)[1]]
            if not ups:
                reachable = False
                break
            current = min(trials.figures(ups), key=lambda f: (f.worst(targets, meet), ups.index(f.config)))
            config = current.config
        while reachable:  # take away what the targets do not need
            downs = [_with(config, k, config[k] - 1) for k, r in enumerate(trials.resources) if config[k] > trials.bounds(r)[0]]
            fine = [f for f in trials.figures(downs) if meets(f)]
            if not fine:
                break
            config = min(fine, key=lambda f: (f.worst(targets, meet), sum(f.config), downs.index(f.config))).config
    fewer = {r: _with(config, k, config[k] - 1) for k, r in enumerate(trials.resources) if config[k] > trials.bounds(r)[0]}
    figures = trials.figures([trials.today, config, *fewer.values()])
    return Search(trials.resources, figures[0], figures[1], dict(zip(fewer, figures[2:], strict=True)), reachable and meets(figures[1]), len(trials.tried) + len(trials.checkin_only))
