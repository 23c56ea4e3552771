"""The conformance suite's register of rules, the device it is checking, and the run of checks.

Before a county accepts a new model of voting device it has the model's service port tested
against the protocol (docs/protocol.md): every numbered rule (L1-L14 of the link, S1-S9 of
sealed results) and every message requirement a reader relies on (framing, IDENTIFY's fields,
TALLY against the CVRs, chunked readouts). :data:`RULES` holds one :class:`Rule` per check, in
the order of the specification; each check module registers its own with :func:`rule`.
:func:`run_suite` surveys the device once (SYNC, IDENTIFY), then runs every check under its own
deadline and returns one :class:`Result` per rule: pass, fail (one line saying why) or n/a.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pollsim.conformance.probe import CheckFailed, NotApplicable, Probe
from pollsim.errors import PollsimError
from pollsim.protocol.auth import ResultAuthError, ResultVerifier, is_sealed, unseal
from pollsim.protocol.messages import Identity, MessageType, PayloadError, RequestRefused, reply_type

__all__ = ["RULES", "Context", "Result", "Rule", "run_suite", "rule"]


@dataclass(frozen=True)
class Rule:
    number: str
    """As the specification numbers it (L3, S1), or F/M/R for sections 2-3, 5-6 and 7."""
    title: str
    required: bool
    check: Callable[[Context], str]
    """Returns what it saw on a pass; raises CheckFailed or NotApplicable."""


RULES: dict[str, Rule] = {}
"""Every rule the suite checks, by number, in the order the checks run."""


def rule(number: str, title: str, *, required: bool = True) -> Callable[[Callable[[Context], str]], Callable[[Context], str]]:
    """Register the decorated function as the check of rule ``number``."""

    def register(check: Callable[[Context], str]) -> Callable[[Context], str]:
        RULES[number] = Rule(number, title, required, check)
        return check

    return register


@dataclass
class Result:
    number: str
    title: str
    required: bool
    result: str
    """"pass", "fail" or "n/a"."""
    detail: str
    seconds: float


@dataclass
class Context:
    """What a check has: the probe, the county's key (if given) and what the survey learnt."""

    probe: Probe
    key: bytes | None = None
    identity: Identity | None = None
    survey_error: str = ""
    seen: dict[str, int] = field(default_factory=dict)
    """Last seal counter accepted per scope, across the checks (S5)."""

    @property
    def sealed(self) -> bool:
        return self.identity is not None and self.identity.sealed

    def device(self) -> Identity:
        """The surveyed identity, or fail the check: nothing to check without it."""
        if self.identity is None:
            raise CheckFailed(f"the device could not be identified: {self.survey_error}")
        return self.identity

    def session(self, features: int = 0) -> int:
        """A new session (SYNC) for the check; the device's features."""
        self.device()
        return self.probe.sync(features)[0]

    def payload(self, request: MessageType, frame_type: int, payload: bytes) -> bytes:
        """The payload of a reply, opened: an ERROR raises the refusal; a sealed one is
        unsealed (layout and digest; verifying seals is the S checks' business)."""
        if frame_type == MessageType.ERROR:
            raise RequestRefused.from_payload(payload)
        if frame_type != reply_type(request):
            raise CheckFailed(f"reply type 0x{frame_type:02x} to {request.name} (expected 0x{reply_type(request):02x})")
        if is_sealed(payload):
            try:
                return unseal(payload)
            except ResultAuthError as error:
                raise CheckFailed(f"{request.name} reply: envelope {error.what}: {error}") from None
        return payload

    def ask(self, request: MessageType, body: bytes = b"") -> bytes:
        """One request in the present session; the opened payload of its reply."""
        frame = self.probe.request(request, body)
        return self.payload(request, frame.msg_type, frame.payload)

    def verifier(self) -> ResultVerifier:
        """A verifier with the county's key, or n/a: the seals cannot be checked without it."""
        if self.key is None:
            raise NotApplicable("no --key given: seals not verified")
        if not self.sealed:
            raise CheckFailed("a key was given but IDENTIFY does not say the device seals")
        return ResultVerifier(self.key, seen=self.seen)


def survey(context: Context) -> None:
    """SYNC and IDENTIFY once, so that every check knows the device's id and what it offers."""
    probe = context.probe
    probe.begin()
    try:
        probe.sync()
        frame = probe.request(MessageType.IDENTIFY)
        context.identity = Identity.from_payload(context.payload(MessageType.IDENTIFY, frame.msg_type, frame.payload))
        probe.device_id = context.identity.device_id
    except (CheckFailed, PollsimError) as error:
        context.survey_error = str(error)
    finally:
        probe.settle()


def run_suite(context: Context, numbers: Iterable[str] | None = None) -> list[Result]:
    """Run the checks of ``numbers`` (default: all) on the device; one :class:`Result` each."""
    from pollsim.conformance import chunks, framing, linkrules, linksend, messages, seals  # noqa: F401  (registration)

    wanted = list(RULES) if numbers is None else list(numbers)
    unknown = [n for n in wanted if n not in RULES]
    if unknown:
        raise PollsimError(f"--rule {unknown[0]}: no such rule (rules: {' '.join(RULES)})")
    survey(context)
    results = []
    for number in wanted:
        entry = RULES[number]
        context.probe.begin()
        start = time.monotonic()
        try:
            outcome, detail = "pass", entry.check(context)
        except CheckFailed as failure:
            outcome, detail = "fail", str(failure)
        except NotApplicable as why:
            outcome, detail = "n/a", str(why)
        except RequestRefused as refusal:
            outcome, detail = "fail", f"refused: {refusal}"
        except PayloadError as error:
            outcome, detail = "fail", f"malformed reply: {error}"
        except Exception as error:  # a device's bytes must never crash the suite  # noqa: BLE001
            outcome, detail = "fail", f"{type(error).__name__}: {error}"
        try:
            context.probe.settle()
        except OSError as error:
            outcome, detail = "fail", f"the port failed: {error}"
        results.append(Result(number, entry.title, entry.required, outcome, " ".join(str(detail).split()), time.monotonic() - start))
    return results
