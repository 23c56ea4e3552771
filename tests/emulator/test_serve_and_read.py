"""``pollsim serve`` and ``pollsim read`` as a test team uses them: a DRE on a pty lives the
training precinct's day, and the county's reader finds its results, sealed and whole."""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

from tests.emulator.conftest import (
    KEY,
    OTHER_KEY,
    POLLSIM,
    TRAINING,
    model_ballots,
    read_csv_marks,
    run_read,
    start_serve,
    wait_until_final,
)


@pytest.fixture(scope="module")
def day_served(tmp_path_factory):
    """A DRE that lived the training precinct's day (seed 1), sealed with KEY, read once."""
    tmp = tmp_path_factory.mktemp("dre")
    link = tmp / "pollsim-dre"
    served = start_serve("dre", "--scenario", TRAINING, "--link", link, "--key", KEY.hex(), stderr=tmp / "serve.err")
    wait_until_final(str(link))
    readout = run_read(link, tmp / "R", "--key", KEY.hex())
    yield served, link, readout, tmp / "R"
    assert served.stop() == 0


def test_serve_prints_the_pty_path_first_and_keeps_a_symlink_to_it(day_served) -> None:
    served, link, _, _ = day_served
    assert served.path.startswith("/dev/pts/")
    assert os.readlink(link) == served.path


def test_a_reader_finds_identity_counters_cvrs_and_log_of_the_day(day_served) -> None:
    _, _, readout, out = day_served
    assert readout.returncode == 0, readout.stderr
    assert "seals verified" in readout.stdout and "log chain verified" in readout.stdout
    identity = json.loads((out / "identity.json").read_text())
    assert (identity["kind"], identity["device_id"], identity["sealed"]) == ("dre", 1, True)
    counters = json.loads((out / "counters.json").read_text())
    cvrs = read_csv_marks(out / "cvrs.csv")
    assert counters["public"] == counters["protective"] == len(cvrs) > 50
    np.testing.assert_array_equal(read_csv_marks(out / "paper_records.csv"), cvrs)
    events = json.loads((out / "event_log.json").read_text())
    assert sum(e["event_id"] == "ballot-cast" for e in events) == len(cvrs)
    assert {"state-polls-open", "state-polls-closed", "key-loaded"} <= {e["event_id"] for e in events}
    status = json.loads((out / "status.json").read_text())
    assert status["polls"] == "final" and status["test_mode"] is False


def test_the_cvrs_read_are_dre_1s_ballots_in_the_model_with_the_same_seed(day_served) -> None:
    _, _, _, out = day_served
    np.testing.assert_array_equal(read_csv_marks(out / "cvrs.csv"), model_ballots(TRAINING, "DRE-1", seed=1))
    tally = np.loadtxt(out / "tally.csv", delimiter=",", skiprows=1, dtype=np.int64)
    assert tally[:, 1].sum() > 0


def test_the_readout_records_what_was_verified(day_served) -> None:
    _, _, _, out = day_served
    verification = json.loads((out / "verification.json").read_text())
    assert verification["seals"]["verified"] and verification["seals"]["last_counter"] > 0
    assert verification["log_chain"] == "verified"
    assert verification["counts"]["cvrs"] == verification["counts"]["paper_records"]


def test_a_reader_with_the_wrong_key_refuses_the_results_as_forged(day_served, tmp_path) -> None:
    _, link, _, _ = day_served
    readout = run_read(link, tmp_path / "R", "--key", OTHER_KEY.hex())
    assert readout.returncode == 2
    assert readout.stderr.count("\n") == 1
    assert str(link) in readout.stderr and "forged" in readout.stderr
    assert not (tmp_path / "R").exists()  # nothing is filed from a refused readout


def test_serve_exits_cleanly_on_sigterm_and_removes_its_symlink(tmp_path) -> None:
    link = tmp_path / "dev"
    served = start_serve("scanner", "--link", link)
    assert link.is_symlink()
    assert served.stop() == 0
    assert not link.exists() and not link.is_symlink()


def test_read_of_a_port_nobody_answers_is_one_line_naming_the_port(tmp_path) -> None:
    master, slave = os.openpty()  # a serial port with no device behind it
    try:
        path = os.ttyname(slave)
        readout = run_read(path, tmp_path / "R", "--ack-timeout", "0.05")
    finally:
        os.close(master)
        os.close(slave)
    assert readout.returncode == 2
    assert readout.stderr.startswith(f"pollsim: {path}: no answer to IDENTIFY")
    assert readout.stderr.count("\n") == 1


def test_read_of_a_missing_port_or_a_bad_key_is_one_line_exit_2(tmp_path) -> None:
    missing = run_read(tmp_path / "no-such-port", tmp_path / "R")
    assert missing.returncode == 2 and "cannot open the port" in missing.stderr
    short = run_read(tmp_path / "no-such-port", tmp_path / "R", "--key", "abcd")
    assert short.returncode == 2 and "at least 16 bytes" in short.stderr


BAD_KEY_FILES = {
    "0x-prefix": ("0x" + KEY.hex() + "\n", "'x' at line 1, column 2"),
    "comment": ("# results key, precinct 1\n" + KEY.hex() + "\n", "'#' at line 1, column 1"),
    "not-hex": ("zz" * 32 + "\n", "'z' at line 1, column 1"),
    "second-line": (KEY.hex() + "\r\n  " + KEY.hex()[:4] + "g\r\n", "'g' at line 2, column 7"),
}


@pytest.mark.parametrize("name", sorted(BAD_KEY_FILES))
@pytest.mark.parametrize("command", ["serve", "read", "conformance"])
def test_a_key_file_that_is_not_hex_is_one_line_exit_2_naming_the_file(tmp_path, command, name) -> None:
    """A key file is hex digits and whitespace, nothing else (docs/protocol.md section 8): anything
    else is refused with one line naming the file and the first bad character, never taken as the
    file's raw bytes (which a reader parsing the same file as hex would call forged)."""
    text, where = BAD_KEY_FILES[name]
    keyfile = tmp_path / f"{name}.key"
    keyfile.write_text(text, newline="")
    args = {"serve": ["dre", "--link", tmp_path / "dre"], "read": [tmp_path / "no-such-port", "--out", tmp_path / "R"],
            "conformance": [tmp_path / "no-such-port"]}[command]  # fmt: skip
    result = subprocess.run([*POLLSIM, command, *map(str, args), "--key", str(keyfile)], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"pollsim: key file {keyfile}: not a results key: {where}"), result.stderr


def test_key_files_take_hex_in_either_case_with_any_whitespace_and_a_file_wins_over_hex(tmp_path, monkeypatch) -> None:
    from pollsim.emulator.keyfile import read_key
    from pollsim.errors import PollsimError

    for text in (KEY.hex() + "\n", KEY.hex().upper(), f"  {KEY.hex()}\r\n", " ".join(f"{b:02x}" for b in KEY),
                 KEY.hex()[:32] + "\n\t" + KEY.hex()[32:] + "\n"):  # fmt: skip
        (tmp_path / "k").write_text(text, newline="")
        assert read_key(str(tmp_path / "k")) == KEY
    assert read_key(KEY.hex()) == KEY and read_key(KEY.hex().upper()) == KEY
    monkeypatch.chdir(tmp_path)
    (tmp_path / OTHER_KEY.hex()).write_text(KEY.hex())  # a file named like a key: the file wins
    assert read_key(OTHER_KEY.hex()) == KEY
    (tmp_path / "short").write_text("00" * 15)
    with pytest.raises(PollsimError, match="key file short: a results key needs at least 16 bytes"):
        read_key("short")
    (tmp_path / "odd").write_text("0" * 33)
    with pytest.raises(PollsimError, match="key file odd: not a results key: an odd number"):
        read_key("odd")
    with pytest.raises(PollsimError, match="neither a file nor hex digits"):
        read_key("no-such-file")


def test_serve_refuses_a_bad_option_with_one_line() -> None:
    result = subprocess.run([*POLLSIM, "serve", "dre", "--corrupt", "1.5"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == "pollsim: corrupt rate 1.5 is not in [0, 1)"


def test_a_pollbook_takes_a_key_and_its_readout_is_sealed(tmp_path) -> None:
    """A pollbook keeps no ballots, but it takes the results key before its polls open and seals
    what a reader decides on, as the other devices do (it used to refuse: "already holds another key")."""
    link = tmp_path / "pollsim-pb"
    served = start_serve("pollbook", "--link", link, "--key", KEY.hex(), stderr=tmp_path / "serve.err")
    try:
        readout = run_read(link, tmp_path / "R", "--key", KEY.hex())
        assert readout.returncode == 0, readout.stderr
        assert "electronic-poll-book" in readout.stdout and "seals verified" in readout.stdout
        assert json.loads((tmp_path / "R" / "identity.json").read_text())["sealed"] is True
        forged = run_read(link, tmp_path / "F", "--key", OTHER_KEY.hex())
        assert forged.returncode == 2 and "Traceback" not in forged.stderr
    finally:
        assert served.stop() == 0
