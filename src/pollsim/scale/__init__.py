"""Scale-out: precinct days and election nights as tasks on an existing engine.

``executor(workers, engine, scheduler)`` gives a context manager yielding a
``concurrent.futures.Executor``: none (run in this process) for one worker, a process pool for
several, or Dask distributed's ``Client.get_executor()`` (a LocalCluster unless a scheduler
address is given; needs the optional extra ``pollsim[dask]``). No home-made scheduler.
"""

from pollsim.scale.engines import executor

__all__ = ["executor"]
