"""``pollsim conformance`` on the two implementations of the protocol: the emulated devices
(``pollsim serve``) and the C reference firmware (firmware_stubs/), sealed and unsealed. Both must
pass every required rule; the rules that cannot apply say why (n/a), and with a key the sealing
rules are really checked, not skipped."""

from __future__ import annotations

import pytest

from pollsim.conformance import rules
from tests.conformance.conftest import run_conformance
from tests.emulator.conftest import KEY, OTHER_KEY, TRAINING, start_serve, wait_until_final

LINK = {f"L{n}" for n in range(1, 19)}
NOT_CHECKED = {"L4", "L16", "L17", "L18", "S6"}  # rules of a receiver opening its port, of compact pieces, of a reader
SEALING = {f"S{n}" for n in range(1, 10)}


def _conforms(outcome) -> None:
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert outcome.failed() == set(), outcome.stdout
    assert set(outcome.results) == {r.number for r in rules()}
    assert outcome.stdout.strip().splitlines()[-1].endswith("conforms")


def test_every_numbered_rule_of_the_spec_has_a_check() -> None:
    numbers = {r.number for r in rules()}
    assert LINK | SEALING <= numbers
    assert {"F1", "F2", "F3", "M1", "M8", "M9", "R1", "R2", "R3"} <= numbers
    assert {r.number for r in rules() if not r.required} == NOT_CHECKED


def test_an_unsealed_dre_from_pollsim_serve_conforms(tmp_path) -> None:
    served = start_serve("dre")
    try:
        outcome = run_conformance(served.path, tmp_path)
    finally:
        assert served.stop() == 0
    _conforms(outcome)
    assert {n for n in LINK if outcome.result(n) == "pass"} == LINK - NOT_CHECKED
    assert {outcome.result(n) for n in SEALING} == {"n/a"}  # no key, no seals: nothing to verify
    assert "FRAGMENT" in outcome.results["L13"]["detail"]  # the emulator joins fragments: really cut and joined


def test_a_sealed_dre_that_lived_the_training_day_conforms_with_its_key(tmp_path) -> None:
    served = start_serve("dre", "--scenario", TRAINING, "--key", KEY.hex())
    try:
        wait_until_final(served.path)
        outcome = run_conformance(served.path, tmp_path, "--key", KEY.hex())
    finally:
        assert served.stop() == 0
    _conforms(outcome)
    for number in ("S1", "S2", "S3", "S4", "S5", "S7", "S8"):
        assert outcome.result(number) == "pass", outcome.results[number]
    assert "CVRs" in outcome.results["M8"]["detail"] and " 0 CVRs" not in outcome.results["M8"]["detail"]


def test_a_sealed_scanner_read_with_another_key_fails_the_seal_rules_only(tmp_path) -> None:
    served = start_serve("scanner", "--key", KEY.hex())
    try:
        good = run_conformance(served.path, tmp_path, "--key", KEY.hex())
        wrong = run_conformance(served.path, tmp_path, "--key", OTHER_KEY.hex(), "--rule", "S1", "S2", "L3", "M1")
    finally:
        assert served.stop() == 0
    _conforms(good)
    assert wrong.returncode == 1
    assert wrong.failed() == {"S1", "S2"}
    assert "forged" in wrong.results["S1"]["detail"]


def test_the_c_stub_conforms_unsealed(stub: str, tmp_path) -> None:
    outcome = run_conformance(stub, tmp_path)
    _conforms(outcome)
    assert outcome.result("L8") == "pass"  # ACKs tripled after damage: the stub learnt L8
    assert outcome.result("M8") == "pass" and "7 CVRs" in outcome.results["M8"]["detail"]
    assert "PAPER_RECORDS" in outcome.results["M6"]["detail"].split("UNSUPPORTED:")[1]


def test_the_c_stub_conforms_sealed_with_its_key_file(sealed_stub: str, tmp_path) -> None:
    key_file = tmp_path / "county.key"
    key_file.write_text(KEY.hex() + "\n")
    outcome = run_conformance(sealed_stub, tmp_path, "--key", key_file)
    _conforms(outcome)
    for number in ("S1", "S2", "S3", "S4", "S5", "S7", "S8"):
        assert outcome.result(number) == "pass", outcome.results[number]


@pytest.mark.parametrize("rule", ["L3", "S2"])
def test_one_rule_at_a_time(sealed_stub: str, tmp_path, rule: str) -> None:
    outcome = run_conformance(sealed_stub, tmp_path, "--rule", rule)
    assert outcome.returncode == 0
    assert list(outcome.results) == [rule]


def test_a_dre_conforms_while_its_polls_are_open_and_voters_vote(tmp_path) -> None:
    """Records added during the checks (TALLY, chunk ends, resumed readouts) are not failures."""
    served = start_serve("dre", "--scenario", TRAINING, "--speed", 300)
    try:
        outcome = run_conformance(served.path, tmp_path)
    finally:
        assert served.stop() == 0
    _conforms(outcome)
    assert "polls open" in outcome.results["M2"]["detail"]
