"""The roll's front door: simulate Mississippi's voter roll over election cycles under one suffrage law.

:func:`simulate_roll` builds the population (:mod:`pollsim.roll.population`), calibrates the
November 2020 roll to EAVS 2020 (:mod:`pollsim.roll.calibrate`), lives the roll to the last day
(:mod:`pollsim.roll.engine`) and returns a :class:`RollRun`: the roll's columns at the end, its
history, and the record of every scheduled election between ``start`` and ``end``
(:class:`pollsim.roll.vote.ElectionRecord`). :func:`compare_laws` runs the same population under
both suffrage laws (law.md: the earlier law and the 2024 bill); the population and every person's
choices are the same, only the law differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pollsim.errors import PollsimError
from pollsim.roll.calendar import day, iso
from pollsim.roll.calibrate import NOVEMBER_2020, Calibration, calibrated
from pollsim.roll.engine import FIRST_DAY, History, Plan
from pollsim.roll.geography import Geography, geography
from pollsim.roll.rates import LAWS, Law, Rates
from pollsim.roll.table import Roll
from pollsim.roll.vote import ElectionRecord

LAST_DAY = "2060-12-31"
Sink = Callable[[ElectionRecord], None]


def _discard(record: ElectionRecord) -> None:
    """A sink for the run whose pollbooks are not written: they leave memory unwritten."""


@dataclass
class RollRun:
    """A simulated roll: the table at the end, its history, and each recorded election."""

    plan: Plan
    geo: Geography
    roll: Roll
    history: History
    records: list[ElectionRecord]
    calibration: Calibration
    start: int
    end: int

    @property
    def law(self) -> Law:
        return self.plan.law

    def summary(self) -> str:
        """Statewide, per election: listed active and inactive, votes and affidavit ballots by reason."""
        from pollsim.roll.vote import METRICS

        cols = ("active", "inactive", "restored", "votes", "affidavit", "affidavit_inactive", "affidavit_not_on_roll",
                "affidavit_wrong_precinct", "affidavit_new_registrant", "notices", "removed_no_response")  # fmt: skip
        rows = [["election", *cols]]
        for rec in self.records:
            total = rec.metrics.sum(axis=0)
            rows.append([rec.election.iso, *(f"{int(total[METRICS.index(c)]):,}" for c in cols)])
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows)

    def record(self, date: str) -> ElectionRecord:
        for rec in self.records:
            if rec.election.iso == date:
                return rec
        raise PollsimError(f"--election {date}: no scheduled election on that day between {iso(self.start)} and {iso(self.end)} "
                           f"(elections: {', '.join(r.election.iso for r in self.records)})")  # fmt: skip


def _check(start: str, end: str, law: str, scale: float) -> tuple[int, int]:
    try:
        a, b = day(start), day(end)
    except ValueError:
        raise PollsimError(f"--start {start} / --end {end}: dates are YYYY-MM-DD") from None
    if a <= day(FIRST_DAY):
        raise PollsimError(f"--start {start}: the roll is built on {FIRST_DAY} and calibrated to November 2020; start after {FIRST_DAY}")
    if b < a or b > day(LAST_DAY):
        raise PollsimError(f"--end {end}: must be on or after --start {start} and at most {LAST_DAY}")
    if b < NOVEMBER_2020:
        raise PollsimError(f"--end {end}: the roll is calibrated to the pollbook of the {iso(NOVEMBER_2020)} general (EAVS 2020); end on or after that day")
    if law not in LAWS:
        raise PollsimError(f"--law {law}: one of {', '.join(LAWS)}")
    if not 0.0 < scale <= 1.0:
        raise PollsimError(f"--scale {scale:g}: a share of the population, more than 0 and at most 1")
    return a, b


def simulate_roll(start: str = "2020-01-01", end: str = "2028-12-31", *, law: Law = "2024", seed: int = 1, scale: float = 1.0,
                  counties: tuple[str, ...] = (), rates: Rates | None = None, sink: Sink | None = None) -> RollRun:  # fmt: skip
    """Simulate the roll of ``counties`` (all 82 by default) from ``start`` to ``end`` under ``law``.

    ``scale`` shrinks the population (0.1: a tenth of every county) for quick runs; the EAVS
    targets shrink with it. Same arguments, same result, byte for byte. ``sink`` (e.g.
    :meth:`pollsim.roll.store.RollWriter.election`) takes each election's pollbook as it is made, which
    then leaves memory (the records keep their counts).
    """
    a, b = _check(start, end, law, scale)
    geo = geography(tuple(counties))
    sim, cal = calibrated(geo, rates or Rates(), law, seed, scale, a, b, sink)
    sim.run()
    return RollRun(sim.plan, geo, sim.roll, sim.history, sim.records, cal, a, b)


def compare_laws(start: str = "2020-01-01", end: str = "2028-12-31", *, seed: int = 1, scale: float = 1.0,
                 counties: tuple[str, ...] = (), rates: Rates | None = None, sink: Sink | None = None,
                 sink_law: Law = "2024") -> dict[Law, RollRun]:  # fmt: skip
    """The same population under the earlier law and under the 2024 bill (``sink`` takes ``sink_law``'s pollbooks).

    Until the 2024 bill takes effect the two runs are the same, so the roll is simulated once up to
    that day and then continued under each law (the result equals two :func:`simulate_roll` runs).
    """
    a, b = _check(start, end, "2024", scale)
    rates = rates or Rates()
    fork = day(rates.effective) - 1
    if fork <= NOVEMBER_2020 + 31:  # the laws already differ before the calibration's count
        return {law: simulate_roll(start, end, law=law, seed=seed, scale=scale, counties=counties, rates=rates,
                                   sink=sink if law == sink_law else _discard) for law in LAWS}  # fmt: skip
    geo = geography(tuple(counties))
    sim, cal = calibrated(geo, rates, "2024", seed, scale, a, b, sink)
    sim.run(until=fork)
    twin = sim.fork("pre2024")
    if sink is not None:
        twin.sink, sim.sink = (sink, _discard) if sink_law == "pre2024" else (_discard, sink)
    out: dict[Law, RollRun] = {}
    for s in (twin, sim):
        s.run()
        out[s.law] = RollRun(s.plan, geo, s.roll, s.history, s.records, cal, a, b)
    return out


__all__ = ["NOVEMBER_2020", "RollRun", "compare_laws", "simulate_roll"]
