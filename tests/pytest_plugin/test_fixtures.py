"""pollsim's pytest plugin, run as a test team runs it: inner pytest sessions (pytester) whose
tests use the documented fixtures, checked by their outcomes. The plugin is found by its
``pytest11`` entry point alone; a reader that gets the count wrong fails its test; every device
started is gone at teardown, its pty, symlink, threads and URL too."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import serial

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
TRAINING = ROOT / "scenarios" / "training-precinct.yaml"
PAPER = ROOT / "scenarios" / "training-precinct-paper.yaml"


def run_inner(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    """Run ``source`` as a test module in a fresh pytest session of this process."""
    pytester.makepyfile(test_inner=source)
    return pytester.runpytest("-p", "no:cacheprovider", "--pollsim-scenario", str(TRAINING), *args)


def _ptmx_fds() -> int:
    """pty masters this process holds open."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") == "/dev/ptmx"
        except OSError:
            pass
    return count


def test_the_plugin_is_registered_by_its_entry_point_and_imports_nothing_heavy(pytester) -> None:
    points = [p for p in importlib.metadata.entry_points(group="pytest11") if p.name == "pollsim"]
    assert [p.value for p in points] == ["pollsim.pytest_plugin"]
    # a fresh interpreter: pytest finds the plugin with no pytest_plugins line anywhere
    helped = pytester.runpytest_subprocess("--help")
    assert helped.ret == 0
    helped.stdout.fnmatch_lines(["*--pollsim-scenario=PATH*", "*--pollsim-seed=N*", "*pollsim_scenario (string)*"])
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, pollsim.pytest_plugin; print(sorted(m for m in sys.modules if m.startswith(('pollsim', 'numpy'))))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert loaded.stdout.strip() == "['pollsim', 'pollsim.pytest_plugin']"


def test_a_reader_that_gets_the_tally_wrong_is_caught_by_the_ground_truth(pytester) -> None:
    result = run_inner(pytester, """
        import serial
        from pollsim.protocol import Client
        from pollsim.tabulate.tally import tally_votes

        def read_tally(port, follow_chunks):
            with serial.Serial(port, timeout=0.01) as line:
                client = Client(line, max_chunk=50)
                chunks = list(client.cvrs()) if follow_chunks else [next(client.cvrs())]  # the bug: one chunk only
                return chunks

        def count(device, follow_chunks):
            import numpy as np
            cvrs = np.concatenate([c.marks for c in read_tally(device.port, follow_chunks)])
            return tally_votes(device.election, cvrs).tolist()

        def test_a_good_reader(pollsim_device):
            device = pollsim_device("dre")
            truth = device.controller.truth()
            assert truth.polls == "final" and truth.public > 50
            assert count(device, True) == truth.tally.tolist()

        def test_a_reader_that_reads_one_chunk(pollsim_device):
            device = pollsim_device("dre")
            assert count(device, False) == device.controller.truth().tally.tolist()
    """)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_a_reader_that_reads_one_chunk*", "*AssertionError*"])


def test_every_kind_is_read_over_its_pty_and_its_url_as_its_firmware_holds_it(pytester) -> None:
    result = run_inner(pytester, f"""
        import numpy as np, pytest, serial
        from pollsim.emulator.read import check_readout, read_device

        KEY = bytes(range(32))

        @pytest.mark.parametrize("kind", ["dre", "scanner", "bmd", "pollbook"])
        @pytest.mark.parametrize("via", ["port", "url"])
        def test_kind(pollsim_device, kind, via):
            scenario = {str(PAPER)!r} if kind in ("scanner", "bmd") else True
            device = pollsim_device(kind, scenario=scenario, key=KEY, seed=3)
            readout = read_device(getattr(device, via), key=KEY)
            check_readout(readout)
            truth = device.controller.truth()
            assert readout.status.polls == truth.polls == "final"
            assert (readout.counters.public, readout.counters.protective) == (truth.public, truth.protective)
            assert readout.counters.public > 0
            assert [e.hash for e in readout.events] == [e.hash for e in truth.events]
            if kind == "pollbook":
                assert truth.cvrs is None and readout.cvrs is None
                assert truth.protective == len(device.day.ballots)
            else:
                np.testing.assert_array_equal(readout.cvrs, truth.cvrs)
                np.testing.assert_array_equal(readout.paper, truth.paper)
                np.testing.assert_array_equal(truth.paper, device.day.ballots)  # every voter's ballot, in order
                assert sum(truth.totals()[device.election.contests[0].id].values()) > 0
    """)
    result.assert_outcomes(passed=8)


def test_teardown_leaves_no_device_pty_symlink_thread_or_url_behind(pytester, tmp_path) -> None:
    record = tmp_path / "devices.json"
    before = _ptmx_fds()
    result = run_inner(pytester, f"""
        import json, serial

        def note(device):
            with open({str(record)!r}, "a") as out:
                out.write(json.dumps([device.pty, device.port, device.url, device.name]) + "\\n")

        def test_two_devices_and_a_reader_left_open(pollsim_device):
            for kind in ("dre", "pollbook"):
                device = pollsim_device(kind)
                note(device)
            serial.Serial(device.port, timeout=0.01)  # never closed by the test
            serial.serial_for_url(device.url, timeout=0.01)

        def test_a_test_that_fails_after_starting_a_device(pollsim_device):
            device = pollsim_device("dre", until=3)
            note(device)
            device.controller.power_loss()
            device.controller.power_on()
            note(device)
            raise RuntimeError("the reader crashed")
    """)
    result.assert_outcomes(passed=1, failed=1)
    seen = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(seen) == 4 and seen[2][1:] == seen[3][1:]  # a power cycle keeps the port and the URL
    for pty, port, url, name in seen:
        assert pty.startswith("/dev/pts/")
        assert not os.path.lexists(port), port
        with pytest.raises(serial.SerialException, match="no device is attached"):
            serial.serial_for_url(url)
        assert not [t.name for t in threading.enumerate() if t.name.startswith(name + " ")]
    assert _ptmx_fds() == before  # every pty's master closed (the pts numbers are the kernel's to reuse)


def test_the_scenario_and_seed_options_and_their_ini_values(pytester, monkeypatch) -> None:
    source = """
        import json, os
        def test_day(pollsim_device, pollsim_scenario):
            device = pollsim_device("dre")
            with open(os.environ["POLLSIM_OUT"], "a") as out:
                out.write(json.dumps([str(pollsim_scenario), device.controller.truth().public]) + "\\n")
    """
    out = pytester.path / "out.jsonl"
    monkeypatch.setenv("POLLSIM_OUT", str(out))
    pytester.makepyfile(test_inner=source)
    pytester.runpytest("-p", "no:cacheprovider", "--pollsim-scenario", str(TRAINING), "--pollsim-seed", "1").assert_outcomes(passed=1)
    pytester.makeini(f"[pytest]\npollsim_scenario = {os.path.relpath(TRAINING, pytester.path)}\npollsim_seed = 1\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    pytester.runpytest("-p", "no:cacheprovider", "--pollsim-seed", "2").assert_outcomes(passed=1)  # the option wins
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {row[0] for row in rows} == {str(TRAINING)}
    assert rows[0][1] == rows[1][1]  # the same seed from the command line and the ini file: the same day
    assert rows[2][1] != rows[0][1]  # another seed, another day

    missing = pytester.runpytest("-p", "no:cacheprovider", "--pollsim-scenario", "no-such.yaml")
    assert missing.ret != 0
    missing.stdout.fnmatch_lines(["*--pollsim-scenario*no-such.yaml: no such file*"])
