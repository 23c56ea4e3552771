"""The election definition: contests, choices, ballot styles, and the column layout of ballots.

This is what a county's election officials build before anything else and load into every device:
which contests appear, how many seats each fills (vote for N), the choices, and which ballot style
each precinct gets. Every device proves which definition it runs by its SHA-256
(:attr:`Election.definition_hash`), printed on every tape and carried in every log and payload.
"""

from pollsim.election.definition import BallotStyle, Choice, Column, Contest, Election
from pollsim.election.roll import RollStatus, VoterNeed

__all__ = ["BallotStyle", "Choice", "Column", "Contest", "Election", "RollStatus", "VoterNeed"]
