"""What every export shares: the state, the device kinds that cast ballots, the export's time stamp.

The run directory is read through :class:`pollsim.rundir.RunDir` (the one reader); the export file
is written through :func:`pollsim.files.atomic_open`, so it appears only once complete.
"""

from __future__ import annotations

import datetime as dt
import re

from pollsim.errors import PollsimError
from pollsim.export.eventlog import timestamp
from pollsim.rundir import RunDir, RunDirError

__all__ = ["STATE", "VOTING_KINDS", "ExportError", "RunDirError", "generated_time", "provenance"]

STATE = "Mississippi"
"""The state every pollsim run is in (README: the reference jurisdiction); the run directory has
no state field, so the exports' top geopolitical unit is this state."""

VOTING_KINDS = frozenset({"dre", "scan-single", "scan-batch"})
"""Device kinds that cast (tabulate) ballots; a BMD only prints a card that the scanner casts."""


class ExportError(PollsimError):
    """An export that cannot be written: a bad format name or an unusable output path."""


def generated_time(run: RunDir) -> str:
    """The export's time stamp: election day, the minute after the last voter out (summary.json
    gives that clock minute with the seconds dropped), local time.

    Fixed by the run, so the same run directory always gives the same bytes; the last voter had
    left by then, so it is a time at which the results could have been generated.
    """
    last = str(run.summary.get("last_voter_out", "") or "19:00")
    m = re.fullmatch(r"(\d+):(\d\d)", last)
    minutes = int(m[1]) * 60 + int(m[2]) + 1 if m else 19 * 60
    try:
        dt.date.fromisoformat(run.election.date)
    except ValueError:
        raise RunDirError(run.dir / "election.json", f"bad election date {run.election.date!r}") from None
    return timestamp(float(minutes), run.election.date)


def provenance(run: RunDir) -> str:
    """The sentence each export carries (NIST ``Notes``/``Details``) naming the run it was made from."""
    s = run.summary
    return f"pollsim simulation: scenario {s.get('scenario', '')}, seed {s.get('seed', '')}; run SHA-256 {run.run_sha256}"
