"""The precinct's election day in SimPy: arrivals, pollbook, voting stations, devices, closing.

``simulate_precinct(scenario, election, precinct, seed)`` runs one precinct and returns its
:class:`~pollsim.precinct.result.PrecinctResult`.
"""

from pollsim.precinct.day import PrecinctDay, simulate_precinct
from pollsim.precinct.result import VOTER_DTYPE, BallotAccounting, DeviceRecord, Outcome, PrecinctResult

__all__ = ["VOTER_DTYPE", "BallotAccounting", "DeviceRecord", "Outcome", "PrecinctDay", "PrecinctResult", "simulate_precinct"]
