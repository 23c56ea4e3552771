"""The day clock settles voters' steps and SimPy events in SimPy's own order (issue 12).

:class:`~pollsim.precinct.stations.DayClock` keeps a voter's next step as a bare entry of SimPy's
queue instead of a timeout object. Whatever mix of steps, handovers, timeouts, triggered events
and processes is scheduled, the clock must run them in exactly the order a plain
``simpy.Environment`` runs the same things as events (time, then priority, then the order they
were scheduled in), ties included; a negative delay is refused as SimPy refuses it.
"""

from __future__ import annotations

import random

import pytest
import simpy

from pollsim.precinct.stations import DayClock, StationPool


def _script(seed: int) -> list[tuple[str, float]]:
    """A random mix of things to schedule, on a coarse grid of times so that many coincide."""
    r = random.Random(seed)
    return [(r.choice(["step", "step", "handover", "timeout", "process", "event"]), r.choice([0.0, 0.5, 1.0, 1.0, 2.0])) for _ in range(60)]


def _run(env: simpy.Environment, script: list[tuple[str, float]], bare: bool) -> list[tuple[float, int]]:
    """Run the script on ``env``: each thing logs (time, its number); steps scheduled while running
    schedule more, so what is scheduled at the same instant interleaves with what fires then."""
    seen: list[tuple[float, int]] = []

    def fired(k: int, depth: int) -> None:
        seen.append((env.now, k))
        if depth < 2:
            schedule(k * 10 + 1, depth + 1, *script[(k * 7 + depth) % len(script)])

    def schedule(k: int, depth: int, kind: str, delay: float) -> None:
        if kind == "step":
            if bare:
                env.after(delay, k, lambda v: fired(v, depth))  # type: ignore[attr-defined]
            else:
                env.timeout(delay).callbacks.append(lambda _ev: fired(k, depth))
        elif kind == "handover":
            if bare:
                env.hand_over(k, 3, lambda v, unit: fired(v * 100 + unit, depth))  # type: ignore[attr-defined]
            else:
                env.timeout(0.0).callbacks.append(lambda _ev: fired(k * 100 + 3, depth))
        elif kind == "timeout":
            env.timeout(delay).callbacks.append(lambda _ev: fired(k, depth))
        elif kind == "event":
            ev = env.event()
            ev.callbacks.append(lambda _ev: fired(k, depth))
            ev.succeed()
        else:

            def proc():
                yield env.timeout(delay)
                fired(k, depth)

            env.process(proc())

    for k, (kind, delay) in enumerate(script):
        schedule(k, 0, kind, delay)
    env.run()
    return seen


@pytest.mark.parametrize("seed", range(8))
def test_steps_and_simpy_events_run_in_simpy_order(seed):
    script = _script(seed)
    expected = _run(simpy.Environment(initial_time=5.0), script, bare=False)
    got = _run(DayClock(initial_time=5.0), script, bare=True)
    assert len(expected) > 100 and len({t for t, _ in expected}) < len(expected)  # ties, or the test proves little
    assert got == expected


def test_many_arrivals_at_once_are_as_many_single_steps():
    delays = [random.Random(1).choice([0.0, 0.25, 0.5]) for _ in range(40)]
    one, each = DayClock(initial_time=1.0), DayClock(initial_time=1.0)
    seen: dict[str, list] = {"one": [], "each": []}
    one.after(0.25, -1, lambda v: seen["one"].append((one.now, v)))
    each.after(0.25, -1, lambda v: seen["each"].append((each.now, v)))
    one.after_each(delays, lambda v: seen["one"].append((one.now, v)))
    for k, d in enumerate(delays):
        each.after(d, k, lambda v: seen["each"].append((each.now, v)))
    one.run()
    each.run()
    assert seen["one"] == seen["each"] and len(seen["one"]) == 41


def test_a_negative_delay_is_refused():
    env = DayClock()
    with pytest.raises(ValueError, match="Negative delay"):
        env.after(-0.5, 0, lambda v: None)
    with pytest.raises(ValueError, match="Negative delay"):
        env.after_each([1.0, -0.5], lambda v: None)


def test_run_until_and_step_still_work_as_in_simpy():
    env = DayClock()
    seen: list[float] = []
    for d in (1.0, 2.0, 3.0):
        env.after(d, 0, lambda v: seen.append(env.now))
    env.run(until=2.5)
    assert seen == [1.0, 2.0] and env.now == 2.5
    env.step()
    assert seen == [1.0, 2.0, 3.0]
    with pytest.raises(simpy.core.EmptySchedule):
        env.step()


def test_a_failed_process_nobody_waits_for_crashes_the_day_as_in_simpy():
    env = DayClock()

    def broken():
        yield env.timeout(1.0)
        raise RuntimeError("unit caught fire")

    env.process(broken())
    with pytest.raises(RuntimeError, match="unit caught fire"):
        env.run()


def test_a_released_unit_goes_to_the_first_voter_in_line_at_that_instant():
    env = DayClock()
    pool = StationPool(env, "DRE", 1)
    pool.open()
    got: list[tuple[float, int, int]] = []
    take = lambda voter, unit: got.append((env.now, voter, unit))
    pool.request(1, take)
    pool.request(2, take)
    pool.request(3, take)
    env.after(4.0, 0, lambda v: pool.release(0))
    env.run()
    assert got == [(0.0, 1, 0), (4.0, 2, 0)] and [v for v, _ in pool.waiting] == [3]
