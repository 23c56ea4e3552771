"""The guide "test your reader with pytest": its sample suite runs green in a fresh pytest
process (the plugin found by its entry point, the sample's own pytest.ini), and the guide
documents every fixture, every argument of the device factory, every controller method and
every field of the ground truth."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guides" / "test-your-reader-with-pytest.md"
SAMPLE = ROOT / "docs" / "guides" / "reader-tests"


def test_the_sample_suite_of_the_guide_runs_green(pytester, monkeypatch) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # leave no __pycache__ in docs/
    result = pytester.runpytest_subprocess(str(SAMPLE), "-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["*test_the_reader_sees_paper_out_mid_day PASSED*",
                                 "*test_power_loss_mid_readout_and_back PASSED*"])  # fmt: skip
    assert not (SAMPLE / "__pycache__").exists()


def test_the_guide_documents_every_fixture_argument_method_and_field() -> None:
    from pollsim.pytest_plugin.bench import Bench, DeviceHandle
    from pollsim.pytest_plugin.controller import Controller
    from pollsim.pytest_plugin.truth import GroundTruth

    guide = GUIDE.read_text()
    names = ["pollsim_device", "pollsim_scenario", "--pollsim-scenario", "--pollsim-seed", "pollsim_seed"]
    names += [p for p in inspect.signature(Bench.start).parameters if p != "self"]
    names += [m for m, _ in inspect.getmembers(Controller, inspect.isfunction) if not m.startswith("_")]
    names += [f.name for f in dataclasses.fields(GroundTruth)]
    names += [m for m, _ in inspect.getmembers(GroundTruth, inspect.isfunction) if not m.startswith("_")]
    names += ["port", "pty", "url", "controller", "election", "day", "powered"]
    missing = [name for name in names if f"`{name}" not in guide]
    assert not missing, missing
    assert "(reader-tests/)" in guide and (SAMPLE / "test_sample_reader.py").is_file()
    assert "guides/test-your-reader-with-pytest.md" in (ROOT / "README.md").read_text()
    assert "guides/test-your-reader-with-pytest.md" in (ROOT / "docs" / "emulator.md").read_text()
    assert DeviceHandle.__doc__
