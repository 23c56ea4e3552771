"""Drawing the report's plots in forked child processes while the page is assembled (issue 12).

A statewide report spends most of its time in matplotlib. Inside :func:`forking` (``build_report``
uses it), :func:`run` hands a plot to a child process forked at that moment, which has the data
and the drawing function already and nothing to pickle, and returns at once a :class:`Pending`
placeholder; the report goes on with its tables and other plots on this process. At most as many
children draw at a time as there are other CPUs (none on a machine with one: everything is drawn
here, at once). A plot asked for while every child is busy waits in a queue, and the report goes
on with its tables: :func:`drain` (called by :meth:`pollsim.report.parts.Plots.finish`, which
collects the PNGs) then hands the queued plots to children as they become free, one child per CPU
now that this process only waits.

The PNG is the same whichever process draws it (the plots keep no global state, the style is
fixed): the page's bytes do not depend on the split. A child that fails leaves its plot to be
drawn again here, where any error is raised as before. Without ``os.fork`` (Windows) everything
is drawn on this process. No matplotlib here: :mod:`.parts` imports this module.
"""

from __future__ import annotations

import gc
import os
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

OK = b"\x01"  # the first byte of a child's file when it drew the plot


class Job:
    """A plot drawn by the child ``pid`` into ``file``; :meth:`result` its PNG."""

    def __init__(self, pid: int, file: IO[bytes], make: Callable[[], bytes]) -> None:
        self.pid, self.file, self.make = pid, file, make
        self.status: int | None = None  # the child's wait status once reaped

    def running(self) -> bool:
        if self.status is None:
            pid, status = self._reap(os.WNOHANG)
            if pid == 0:
                return True
            self.status = status
        return False

    def wait(self) -> None:
        if self.status is None:
            self.status = self._reap(0)[1]

    def _reap(self, options: int) -> tuple[int, int]:
        try:
            return os.waitpid(self.pid, options)
        except ChildProcessError:  # reaped by someone else: its plot is drawn here again
            return self.pid, -1

    def result(self) -> bytes:
        """The child's PNG; if the child failed, the plot drawn here (raising what it raises)."""
        self.wait()
        try:
            self.file.seek(0)
            data = self.file.read()
        finally:
            self.file.close()
        if self.status == 0 and data.startswith(OK):
            return data[len(OK) :]
        return self.make()

    def stop(self) -> None:
        """Stop the child (the report failed before it collected the plot) and reap it."""
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.wait()
        self.file.close()


class Pending(bytes):
    """Stand-in bytes for a plot not drawn yet (never written anywhere): a child draws it
    (``job``), or it waits in the queue for :func:`drain`; :meth:`result` is its PNG."""

    job: Job | None
    make: Callable[[], bytes]
    drawn: bytes | None

    def result(self) -> bytes:
        if self.drawn is None:
            self.drawn = self.make() if self.job is None else self.job.result()
        return self.drawn


_jobs: list[Job] | None = None  # inside forking(): the children started
_queue: list[Pending] = []  # inside forking(): the plots waiting for a child or for drain()
_children = 0  # inside forking(): at most this many drawing at once


def spare_cpus() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(cpus - 1, 0)


@contextmanager
def forking(enabled: bool = True) -> Iterator[None]:
    """Within the block, :func:`run` may draw in child processes; children left over when the
    block ends (an error before the plots were collected) are stopped."""
    global _jobs, _children
    if not enabled or not hasattr(os, "fork") or _jobs is not None:
        yield
        return
    _jobs, _children = [], spare_cpus()
    gc.freeze()  # the objects so far out of the collector's sight: collecting does not write to the pages a child shares
    try:
        yield
    finally:
        gc.unfreeze()
        jobs, _jobs = _jobs, None
        _queue.clear()
        for job in jobs:
            if not job.file.closed:
                job.stop()


def run(make: Callable[[], bytes]) -> bytes:
    """``make()``, the PNG of one plot: drawn in a child when forking and a CPU is free, else
    queued for :func:`drain` (a :class:`Pending` returned at once either way); drawn here at once
    when not forking or with no CPU to spare."""
    if _jobs is None or not _children:
        return make()
    pending = Pending(b"pending plot %d" % (len(_jobs) + len(_queue) + 1))
    pending.job, pending.make, pending.drawn = None, make, None
    if _free():
        _start(pending)
    else:
        _queue.append(pending)
    return pending


def drain() -> None:
    """Draw the queued plots, each in a child as soon as one is free: this process only waits from
    now on, so as many children draw at once as there are CPUs (no CPU idles while this one
    draws a plot and a child has finished)."""
    while _queue:
        if _free(_children + 1):
            _start(_queue.pop(0))
        else:
            time.sleep(0.002)


def _free(children: int | None = None) -> bool:
    return _jobs is not None and sum(1 for j in _jobs if j.running()) < (_children if children is None else children)


def _start(pending: Pending) -> None:
    """Fork a child that draws ``pending``'s plot."""
    assert _jobs is not None
    make = pending.make
    file = tempfile.TemporaryFile()
    pid = os.fork()
    if pid == 0:  # the child: draw, hand the bytes over, and leave without running any clean-up of the parent's
        code = 1
        try:
            gc.disable()
            png = make()
            file.write(OK + png)
            file.flush()
            code = 0
        finally:
            os._exit(code)
    pending.job = Job(pid, file, make)
    _jobs.append(pending.job)
