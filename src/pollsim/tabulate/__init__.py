"""Tabulation: exact vote counts from ballot matrices, by the vote-for-N rules (see :mod:`.tally`)."""

from pollsim.tabulate.tally import ContestTally, tally, tally_dict, tally_votes

__all__ = ["ContestTally", "tally", "tally_dict", "tally_votes"]
