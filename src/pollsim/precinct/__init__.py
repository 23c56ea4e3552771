"""The precinct's election day in SimPy: arrivals, pollbook, voting stations, devices, closing.

``simulate_precinct(scenario, election, precinct, seed)`` runs one precinct and returns its
:class:`~pollsim.precinct.result.PrecinctResult`.

Names are imported on first use (as in ``pollsim/__init__.py``), so that importing one module of
the package (``pollsim.precinct.result``) does not load the rest (issue 12).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pollsim import lazy_names

_EXPORTS = {
    "PrecinctDay": "pollsim.precinct.day",
    "simulate_precinct": "pollsim.precinct.day",
    "VOTER_DTYPE": "pollsim.precinct.result",
    "BallotAccounting": "pollsim.precinct.result",
    "DeviceRecord": "pollsim.precinct.result",
    "Outcome": "pollsim.precinct.result",
    "PrecinctResult": "pollsim.precinct.result",
}

__all__ = ["VOTER_DTYPE", "BallotAccounting", "DeviceRecord", "Outcome", "PrecinctDay", "PrecinctResult", "simulate_precinct"]


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, globals())


if TYPE_CHECKING:  # for type checkers and IDEs: the names __getattr__ serves
    from pollsim.precinct.day import PrecinctDay, simulate_precinct
    from pollsim.precinct.result import VOTER_DTYPE, BallotAccounting, DeviceRecord, Outcome, PrecinctResult
