"""The poll managers of each polling place: who is at which post, and their training under §23-15-239.

- :func:`staff_day` (:mod:`.roster`): for one precinct, when the polls can open (the opening
  procedures done by the staff who came) and when each check-in station or scanner is closed for
  want of a poll manager (arrivals, breaks with relief, departures);
- :func:`check_staff` (:mod:`.compliance`): every person's training against §23-15-239, the
  polling places without a certified poll manager at a general election, per county and
  statewide, and the day's pay bill (§23-15-227, §23-15-153).

The scenario's ``staff`` section (:mod:`pollsim.scenario.staff_spec`) says who works where.
"""

from pollsim.staff.compliance import Compliance, PersonCheck, PrecinctCheck, check_staff, compliance_text
from pollsim.staff.roster import StaffDay, crew, precinct_people, staff_day

__all__ = ["Compliance", "PersonCheck", "PrecinctCheck", "StaffDay", "check_staff", "compliance_text", "crew", "precinct_people", "staff_day"]
