"""The canvass: affidavit ballots resolved, late ballots counted, the counties' certification.

After election night the commissioners rule on every sealed affidavit ballot (§23-15-573; a
no-ID voter has five business days to show it, §23-15-563; a VOTED AB voter's is rejected when
the absentee ballot was accepted, SOS rule 1-17-2.3), the resolution board's late and cured
absentee ballots are counted, the unofficial results keep changing, and each county certifies
its returns by the §23-15-603 deadline. The front door is :func:`run_canvass` (the day, the
absentee record and the night in, a :class:`CanvassResult` out).
"""

from pollsim.canvass.affidavit import AFFIDAVIT_REJECTIONS, acceptance_shares
from pollsim.canvass.record import COUNT_DTYPE, CanvassResult, Group
from pollsim.canvass.stage import run_canvass

__all__ = ["AFFIDAVIT_REJECTIONS", "COUNT_DTYPE", "CanvassResult", "Group", "acceptance_shares", "run_canvass"]
