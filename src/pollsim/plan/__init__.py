"""Planning the polling place: the fewest units that meet a service target, and a fleet shared out.

``pollsim plan SCENARIO --target "p95<=30"`` calls :func:`plan_scenario`: for each precinct, the
fewest check-in stations, voting units (DREs or booths) and scanners whose simulated days meet the
targets on 19 of 20 days, tried on the same days (common random numbers) with the precinct day's
own lines (:mod:`pollsim.precinct.lanes`), so the recommendation's own ``pollsim run`` gives the
same waits. :func:`allocate_fleet` shares out a fixed fleet (the units a county owns) to make the
worst precinct's wait, or the voters lost, as small as it can, with the value of one more unit per
precinct. The targets and their sources are in :mod:`pollsim.plan.targets`; docs/planning.md is the
guide.
"""

from pollsim.plan.result import PlanResult, PrecinctPlan, Settings, csv_header, csv_rows, table_text
from pollsim.plan.run import plan_precinct, plan_scenario, settings_for
from pollsim.plan.targets import Target, TargetError, parse_target

__all__ = [
    "PlanResult", "PrecinctPlan", "Settings", "Target", "TargetError", "csv_header", "csv_rows", "parse_target",
    "plan_precinct", "plan_scenario", "settings_for", "table_text",
]  # fmt: skip
