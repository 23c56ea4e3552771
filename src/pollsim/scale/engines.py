"""The engines precinct days run on: this process, a process pool, or a Dask cluster."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager

from pollsim.errors import PollsimError


class EngineError(PollsimError):
    """An engine that cannot be started (missing extra, unreachable scheduler)."""


@contextmanager
def executor(workers: int = 1, engine: str = "process", scheduler: str | None = None) -> Iterator[Executor | None]:
    """An executor for ``workers`` workers on ``engine`` ("process" or "dask"); None means in-process."""
    if engine == "dask":
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise EngineError("--engine dask needs the optional extra: pip install 'pollsim[dask]'") from None
        if scheduler:
            try:
                client = Client(scheduler, timeout="10s")
            except OSError as exc:
                raise EngineError(f"dask scheduler {scheduler}: cannot connect ({exc})") from None
            with client:
                yield client.get_executor()
            return
        with LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
            yield client.get_executor()
        return
    if engine != "process":
        raise EngineError(f"unknown engine {engine!r} (process or dask)")
    if workers <= 1:
        yield None
        return
    # "spawn" keeps workers free of the parent's threads and state; results do not depend on it.
    # The workers start and import the precinct day at once (the initializer), while the parent
    # still loads the scenario and runs the stages before the day (absentee voting): that second
    # of start-up is overlapped instead of added to the run.
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_warm) as pool:
        for _ in range(workers):
            pool.submit(_noop)
        yield pool


def _warm() -> None:
    """A worker's start: import what every precinct day needs before the first task arrives."""
    import pollsim.precinct.election_day  # noqa: F401


def _noop() -> None:
    """A task that makes the pool start its workers now rather than at the first real task."""
