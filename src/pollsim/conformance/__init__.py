"""The conformance suite: does a device on a serial port follow the pollsim protocol?

A county buying a new model of precinct scanner, a vendor porting the C reference firmware, a
maintainer changing the emulator: each wants to know whether the device behind a port follows
docs/protocol.md, rule by rule, before any readout depends on it. ``pollsim conformance PORT``
runs one check per numbered rule (L1-L14, S1-S9) and per message requirement a reader relies on
(F1-F3 framing, M1-M9 messages, R1-R3 chunked readouts), each under its own deadline, and
prints a table; the exit status is 0 only if every required rule passes.

Modules: :mod:`.probe` (the host that sends raw frames), :mod:`.suite` (the register and the
runner), one module of checks per section of the specification: :mod:`.framing` (2-3),
:mod:`.linkrules` and :mod:`.linksend` (4), :mod:`.messages` (5-6), :mod:`.chunks` (7),
:mod:`.seals` (8). The suite only reads: it opens no polls, casts no ballot, prints no tape.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from pollsim.conformance.suite import RULES, Context, Result, Rule, run_suite
from pollsim.errors import PollsimError

__all__ = ["RULES", "Result", "Rule", "check_port", "exit_status", "format_table", "rules"]


def rules() -> list[Rule]:
    """Every rule, in the order of the specification (framing, link, messages, chunks, seals)."""
    from pollsim.conformance import chunks, framing, linkrules, linksend, messages, seals  # noqa: F401

    return sorted(RULES.values(), key=lambda r: ("FLMRS".index(r.number[0]), int(r.number[1:])))


def check_port(port: str, *, key: bytes | None = None, baud: int = 115200, numbers: list[str] | None = None,
               budget: float = 10.0) -> list[Result]:  # fmt: skip
    """Run the suite (or the rules ``numbers``) on the device at ``port``: a device path or a
    pyserial URL. Each check ends by ``budget`` seconds."""
    import serial

    from pollsim.conformance.probe import Probe

    order = [r.number for r in rules()]
    wanted = order if not numbers else [n.upper() for n in numbers]
    for number in wanted:
        if number not in RULES:
            raise PollsimError(f"--rule {number}: no such rule (rules: {' '.join(order)})")
    try:
        handle = serial.serial_for_url(port, baudrate=baud, timeout=0.01, write_timeout=min(budget, 5.0))
    except (serial.SerialException, ValueError, OSError) as error:
        raise PollsimError(f"{port}: cannot open the port ({error})") from None
    try:
        return run_suite(Context(Probe(handle, budget), key), wanted)
    finally:
        handle.close()


def exit_status(results: list[Result]) -> int:
    """0 if every required rule checked passed (n/a counts as passed), else 1."""
    return 1 if any(r.required and r.result == "fail" for r in results) else 0


def format_table(results: list[Result], port: str) -> str:
    """The table ``pollsim conformance`` prints: rule, result, title, detail; a summary line."""
    lines = [f"{'rule':<5} {'result':<6} {'req':<3} title: detail"]
    for r in results:
        lines.append(f"{r.number:<5} {r.result:<6} {'yes' if r.required else 'no':<3} {r.title}: {r.detail}")
    failed = [r.number for r in results if r.result == "fail" and r.required]
    counts = {k: sum(r.result == k for r in results) for k in ("pass", "fail", "n/a")}
    verdict = "conforms" if not failed else f"does not conform (required rules failed: {' '.join(failed)})"
    lines.append(f"{port}: {counts['pass']} pass, {counts['fail']} fail, {counts['n/a']} n/a: {verdict}")
    return "\n".join(lines)


def write_json(results: list[Result], port: str, out: Path) -> None:
    """The results as JSON (``--json OUT``), written atomically."""
    from pollsim.files import atomic_text

    doc = {"port": port, "conforms": exit_status(results) == 0, "rules": [asdict(r) for r in results]}
    atomic_text(out, json.dumps(doc, indent=2) + "\n")
