"""pollsim: a poll-place hardware and tabulation simulator.

A precinct's election day is simulated in SimPy (voters, pollbooks, DRE units with VVPAT printers,
marking booths, precinct scanners and ballot-marking devices); the devices are emulated down to
their counters, tapes and event logs; the results flow on to election night, reconciliation
(Miss. Code §23-15-615) and risk-limiting audits (§23-15-617).

The public API (docs/architecture.md): each stage's front door and its records, and
:func:`run_election`, which runs the chain::

    import pollsim
    scenario = pollsim.load_scenario("scenarios/training-precinct.yaml")
    run = pollsim.run_election(scenario, seed=7)
    pollsim.write_run(run, "runs/demo")

Names are imported on first use, so ``import pollsim`` (and ``pollsim --help``) stays cheap.
Importing pollsim registers its pyserial URL handler: ``serial.serial_for_url("pollsim://dre")``
opens an emulated device in-process (pollsim.urlhandler.protocol_pollsim).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    # scenario -> election
    "load_scenario": "pollsim.scenario",
    "Scenario": "pollsim.scenario.models",
    "Election": "pollsim.election.definition",
    # election day
    "run_election_day": "pollsim.precinct.election_day",
    "ElectionDayRun": "pollsim.precinct.election_day",
    "simulate_precinct": "pollsim.precinct",
    "PrecinctResult": "pollsim.precinct",
    # absentee voting before the day, and the canvass after the night
    "run_absentee": "pollsim.absentee",
    "run_canvass": "pollsim.canvass",
    # election night
    "simulate_night": "pollsim.night",
    "NightResult": "pollsim.night",
    # tabulation
    "tally": "pollsim.tabulate",
    "tally_dict": "pollsim.tabulate",
    # reconciliation
    "reconcile_precincts": "pollsim.reconcile",
    "ReconciliationReport": "pollsim.reconcile",
    "PrecinctCounts": "pollsim.reconcile",
    # audit
    "run_audit": "pollsim.audit",
    "RunBallots": "pollsim.audit",
    "AuditResult": "pollsim.audit",
    "verify_package": "pollsim.audit",
    # the chain and the run directory
    "run_election": "pollsim.pipeline",
    "ElectionRun": "pollsim.pipeline",
    "AuditRequest": "pollsim.pipeline",
    "write_run": "pollsim.rundir",
    "RunDir": "pollsim.rundir",
    # readers of a finished run
    "export_run": "pollsim.export",
    "build_report": "pollsim.report",
    # errors
    "PollsimError": "pollsim.errors",
    "ScenarioError": "pollsim.errors",
}

__all__ = ["__version__", *_EXPORTS]


def _version() -> str:
    """The installed package's version, looked up on first use of ``pollsim.__version__``: the
    package metadata costs more than the rest of ``pollsim --help`` (issue 12)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pollsim")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def lazy_names(
    package: str, exports: dict[str, str], namespace: dict[str, Any], computed: dict[str, Callable[[], Any]] | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's module-level ``__getattr__`` and ``__dir__`` serving ``exports`` (name -> module
    that defines it) on first use, so that importing the package imports none of its modules
    (``pollsim --help`` and ``pollsim report`` stay fast; issue 12). ``computed``: names made by
    a function instead (``pollsim.__version__``). Each name is kept in ``namespace`` once served.
    Every package with lazy names uses this one pair::

        __getattr__, __dir__ = lazy_names(__name__, _EXPORTS, globals())
    """
    made = computed or {}

    def __getattr__(name: str) -> Any:
        if name in made:
            value = made[name]()
        else:
            module = exports.get(name)
            if module is None:
                raise AttributeError(f"module {package!r} has no attribute {name!r}")
            value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports) | set(made))

    return __getattr__, __dir__


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, globals(), {"__version__": _version})


def _register_url_handler() -> None:
    import serial

    if "pollsim.urlhandler" not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append("pollsim.urlhandler")


_register_url_handler()

if TYPE_CHECKING:  # for type checkers and IDEs: the names __getattr__ serves
    from pollsim.absentee import run_absentee
    from pollsim.audit import AuditResult, RunBallots, run_audit, verify_package
    from pollsim.canvass import run_canvass
    from pollsim.election.definition import Election
    from pollsim.errors import PollsimError, ScenarioError
    from pollsim.export import export_run
    from pollsim.night import NightResult, simulate_night
    from pollsim.pipeline import AuditRequest, ElectionRun, run_election
    from pollsim.precinct import PrecinctResult, simulate_precinct
    from pollsim.precinct.election_day import ElectionDayRun, run_election_day
    from pollsim.reconcile import PrecinctCounts, ReconciliationReport, reconcile_precincts
    from pollsim.report import build_report
    from pollsim.rundir import RunDir, write_run
    from pollsim.scenario import load_scenario
    from pollsim.scenario.models import Scenario
    from pollsim.tabulate import tally, tally_dict

    __version__: str
