"""Errors pollsim reports to its users.

Every error a user can cause (a malformed scenario, a corrupt frame, a forged result) is a
subclass of :class:`PollsimError`. The command line turns one into a single line of text, naming
where the problem is (file, line and field; or port and frame), and exits with status 2 — never a
traceback, and never after damaging data already written.
"""


class PollsimError(Exception):
    """Base of every pollsim error; the CLI prints it as one line and exits 2."""


class ScenarioError(PollsimError):
    """A scenario file that cannot be used: each problem names file:line, the field and what was expected."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class DeviceError(PollsimError):
    """A device refused an operation (an illegal state transition, paper out, memory full...)."""
