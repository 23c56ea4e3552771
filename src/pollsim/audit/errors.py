"""What can go wrong when a county prepares or checks a risk-limiting audit (§§23-15-617 to 617.5).

Every error is a :class:`~pollsim.errors.PollsimError`: the command line prints it as one line
naming the file (and row) at fault, and exits with status 2.
"""

from pollsim.errors import PollsimError


class AuditError(PollsimError):
    """An audit that cannot be carried out as asked (unknown contest, CVRs missing from the manifest...)."""


class ManifestError(AuditError):
    """A ballot manifest that cannot be used; the message names the file and the row."""


class SeedError(AuditError):
    """A random seed that is not what the public ceremony must produce (20 rolls of a ten-sided die)."""
