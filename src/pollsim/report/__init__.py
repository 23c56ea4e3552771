"""The run report: one page a trainer can open after a simulated election day.

``pollsim report RUN_DIR`` calls :func:`build_report`, which reads the run directory and writes
``RUN_DIR/report.html``, a single self-contained page (pictures embedded, no scripts, nothing
fetched: it opens offline and prints), and the same pictures as PNG files in ``RUN_DIR/plots/``.

What a trainer sees, top to bottom (docs/report.md explains how to read each part):

1. **Summary**: scenario and seed, voters, regular and affidavit ballots, waits (a plain warning
   when many waited over 30 minutes), when the last voter left, and the tally by candidate name
   (the paper records' tally and a drill's key folded away for the trainer).
2. **Lines at the stations**: the pollbook, voting and (paper precincts) scanner lines over the
   day, with the units out of service and the polls' close on the same clock, for each precinct,
   or for a big run all precincts together and the busiest few.
3. **Waiting times**: waits by time of arrival, and every voter's wait in a histogram, with the
   median and 95th percentile.
4. **Device use and incidents**: how busy each station was (pollbook stations, DREs, booths,
   BMDs, scanners), and when units were out of service. Silent faults (misrecording firmware,
   calibration drift) are not shown: nothing on the day showed them.
5. **Ballot accounting**: the §23-15-615(1) form of every precinct (county totals for big runs).
6. **Reconciliation**: the six totals and four checks, flagged differences highlighted (after
   ``pollsim reconcile``).
7. **Election night reporting**: the share of precincts and ballots reported at each publication.
8. **Risk-limiting audit**: the measured risk after each round (when the run has an audit package).

With a ``staff`` section the run's page also has **Poll managers** (:mod:`.staffing`: a late
opening, stations closed for want of a poll manager, the §23-15-239 compliance report per county,
the pay bill); with voters who may give up, the summary counts the voters lost. A run made with
``pollsim run --roll`` also has **Voter roll** (:mod:`.roll`: the roll at the election, affidavit
ballots by reason, and the earlier law and the 2024 bill side by side when the roll holds both). ``pollsim plan``
writes its own page with the same look (:mod:`.planning`: the plan per precinct, the what-if chart
of waits against units, turnout sensitivity, a fleet shared out).

The same run directory always gives the same bytes, so a report can be checked into a training
pack and compared later.
"""

from pollsim.report.build import build_report, render_report
from pollsim.report.data import ReportData, ReportError, gather

__all__ = ["ReportError", "ReportData", "build_report", "gather", "render_report"]
