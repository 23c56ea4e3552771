"""The voter roll across election cycles: registration, list maintenance and restored suffrage (issue 17).

Mississippi's statewide roll as numpy columns, one row per person (synthetic identities), lived from
2018 through the years asked for: people move, die, come of age, arrive, are convicted and complete
their sentences (rates with sources: :mod:`pollsim.roll.rates`); the circuit clerks keep the roll as
the law says (law.md, "Pollbooks and who votes a regular ballot": 30-day book closing with the
Sunday and holiday rule, confirmation notices and inactive status, removal after two federal
general elections, the 90-day freeze, removed records kept for two federal generals, deaths and
moves learned from each source with its delay and miss rate), under the earlier suffrage law or
the 2024 bill. The November 2020 roll equals EAVS 2020 per county (:mod:`pollsim.roll.calibrate`).

Front doors: :func:`simulate_roll` (one law), :func:`compare_laws` (both, same population),
:func:`write_roll` / :class:`RollDir` (the roll directory), :func:`precinct_pollbook` (a precinct's
pollbook at an election, and its :class:`~pollsim.scenario.RollMix` for the day model),
:func:`print_pollbook` (the §23-15-125 pollbook for trainers), :func:`policy_csv` (the two laws
side by side); for ``pollsim run --roll``, :func:`pollsim.roll.pollbook.scenario_from_roll` (every
precinct's pollbook, VOTED AB marks included, from the roll) and
:func:`pollsim.roll.attach.roll_attachment` (the roll's tables the run directory keeps for its report).
"""

from pollsim.roll.calendar import Election, registration_deadline, scheduled_elections
from pollsim.roll.policy import headline, policy_csv
from pollsim.roll.pollbook import PrecinctPollbook, precinct_pollbook, print_pollbook
from pollsim.roll.rates import LAWS, Law, Rates
from pollsim.roll.run import RollRun, compare_laws, simulate_roll
from pollsim.roll.store import RollDir, write_roll

__all__ = [
    "LAWS", "Election", "Law", "PrecinctPollbook", "Rates", "RollDir", "RollRun", "compare_laws", "headline", "policy_csv",
    "precinct_pollbook", "print_pollbook", "registration_deadline", "scheduled_elections", "simulate_roll", "write_roll",
]  # fmt: skip
