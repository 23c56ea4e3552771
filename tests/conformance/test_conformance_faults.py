"""Non-conforming devices: an emulated DRE behind a relay that breaks one rule must fail exactly
the rules that fault breaks, with exit status 1; a port where nothing answers fails every
required rule, each with one line, and the suite ends; bad arguments are one line, exit 2."""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import threading
import time
import tty
from collections.abc import Iterator

import numpy as np
import pytest

from pollsim.conformance import rules
from pollsim.protocol import Frame, FrameDecoder, MessageType
from pollsim.protocol.testing import PseudoTerminal
from tests.conformance.conftest import run_conformance
from tests.conformance.relay import Relay, deaf_to_naks, forged_counters, no_naks, stale_after_sync
from tests.emulator.conftest import KEY, POLLSIM, Served, start_serve


@pytest.fixture(scope="module")
def sealed_dre() -> Iterator[Served]:
    served = start_serve("dre", "--key", KEY.hex())
    yield served
    assert served.stop() == 0


def _behind(served: Served, fault, tmp_path, *args: object):
    relay = Relay(served.path, fault)
    try:
        return run_conformance(relay.path, tmp_path, *args)
    finally:
        relay.close()


def test_a_relay_that_changes_nothing_still_conforms(sealed_dre: Served, tmp_path) -> None:
    """The control: the relay itself breaks no rule, so the failures below are the faults'."""
    outcome = _behind(sealed_dre, lambda direction, frame, run: [run], tmp_path, "--key", KEY.hex())
    assert outcome.returncode == 0, outcome.stdout
    assert outcome.failed() == set()


def test_a_stale_reply_after_sync_fails_l2_and_l3(sealed_dre: Served, tmp_path) -> None:
    outcome = _behind(sealed_dre, stale_after_sync(), tmp_path, "--key", KEY.hex())
    assert outcome.returncode == 1
    assert outcome.failed() == {"L2", "L3"}, outcome.stdout
    assert "issue 14" in outcome.results["L3"]["detail"]
    assert "does not conform (required rules failed: L2 L3)" in outcome.stdout


def test_a_forged_counters_seal_fails_s1_and_s4(sealed_dre: Served, tmp_path) -> None:
    outcome = _behind(sealed_dre, forged_counters(), tmp_path, "--key", KEY.hex())
    assert outcome.returncode == 1
    assert outcome.failed() == {"S1", "S4"}, outcome.stdout
    assert "COUNTERS reply is forged" in outcome.results["S1"]["detail"]
    assert outcome.result("S7") == "pass"  # the digest holds: only the key tells the forgery


def test_the_same_forgery_without_the_key_goes_unseen(sealed_dre: Served, tmp_path) -> None:
    outcome = _behind(sealed_dre, forged_counters(), tmp_path, "--rule", "S1", "S3", "S4", "S7")
    assert outcome.returncode == 0
    assert [outcome.result(n) for n in ("S1", "S3", "S4", "S7")] == ["n/a", "pass", "pass", "pass"]


def test_a_device_whose_naks_are_lost_fails_l5(sealed_dre: Served, tmp_path) -> None:
    outcome = _behind(sealed_dre, no_naks(), tmp_path)
    assert outcome.returncode == 1
    assert outcome.failed() == {"L5"}, outcome.stdout
    assert outcome.results["L5"]["detail"].startswith("no NAK")


def test_a_device_deaf_to_naks_fails_l11(sealed_dre: Served, tmp_path) -> None:
    outcome = _behind(sealed_dre, deaf_to_naks(), tmp_path)
    assert outcome.returncode == 1
    assert outcome.failed() == {"L11"}, outcome.stdout
    assert "no copy of the reply within 0.6 s of NAK" in outcome.results["L11"]["detail"]


def test_a_port_where_nothing_answers_fails_every_required_rule_and_ends(tmp_path) -> None:
    with PseudoTerminal() as silent:  # nobody reads or writes the device end
        outcome = run_conformance(silent.path, tmp_path, "--rule-deadline", "3")
    assert outcome.returncode == 1
    required = {r.number for r in rules() if r.required}
    assert outcome.failed() == required - {"S1"}
    assert outcome.result("S1") == "n/a"  # without a key S1 cannot be checked, device or no device
    for number in required:
        detail = outcome.results[number]["detail"]
        assert detail and "\n" not in detail
    assert "SYNC" in outcome.results["L2"]["detail"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/dev/pts/no-such-port"], "/dev/pts/no-such-port: cannot open the port"),
        (["/dev/null", "--rule", "L99"], "--rule L99: no such rule"),
        (["/dev/null", "--key", "abc"], "--key 'abc': neither a file nor hex digits"),
        (["/dev/null", "--rule-deadline", "0"], "--rule-deadline 0.0: must be positive"),
        (["/dev/null", "--json", "/no/such/dir/out.json"], "--json /no/such/dir/out.json: no directory /no/such/dir"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    done = subprocess.run([*POLLSIM, "conformance", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr
    assert done.stdout == ""


def test_a_missing_port_is_a_usage_error() -> None:
    done = subprocess.run([*POLLSIM, "conformance"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "the following arguments are required: port" in done.stderr


def test_a_babbling_device_fails_with_one_line_per_rule_by_the_deadlines(tmp_path) -> None:
    """A device that answers SYNC and then pours out data frames that answer nothing (and junk):
    every required rule fails, each with one line, and the suite ends by its deadlines."""
    with Babbler() as device:
        outcome = run_conformance(device.path, tmp_path, "--rule-deadline", "2")
    assert outcome.returncode == 1
    required = {r.number for r in rules() if r.required}
    assert outcome.failed() == required - {"S1"}
    assert "could not be identified: no reply to the request (seq 1) within the check's deadline" in outcome.results["M1"]["detail"]
    assert all(r["seconds"] <= 3.0 for r in outcome.results.values())  # each check ends by its own deadline


class Babbler:
    """A device end of a pty that answers SYNC with SYNC_ACK and otherwise babbles; it never
    blocks on a full line (a babbler the host stopped reading still stops when told)."""

    def __init__(self) -> None:
        self._fd, self._held = os.openpty()
        tty.setraw(self._held)
        self.path = os.ttyname(self._held)
        os.set_blocking(self._fd, False)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Babbler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self._fd)
        os.close(self._held)

    def _run(self) -> None:
        rng = np.random.default_rng(5)
        decoder = FrameDecoder()
        seq = 0
        while not self._stop.is_set():
            readable, writable, _ = select.select([self._fd], [self._fd], [], 0.01)
            out = b""
            if readable:
                for item in decoder.feed(os.read(self._fd, 65536)):
                    if isinstance(item, Frame) and item.msg_type == MessageType.SYNC:
                        out += Frame(MessageType.SYNC_ACK, item.payload, 9).encode()
            seq = seq % 0xFFFF + 1
            out += Frame(MessageType.IDENTIFY | 0x80, b"{}", 9, seq, 0x7777).encode()
            out += rng.integers(0, 256, 64, dtype=np.uint8).tobytes()
            if writable:
                with contextlib.suppress(BlockingIOError):
                    os.write(self._fd, out)
            time.sleep(0.002)
