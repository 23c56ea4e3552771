"""No input makes ``pollsim validate`` print a traceback, hang, or accept nonsense (issue 13, item 2).

tests/scenario/bad/ holds malformed scenarios, each opening with the message it must give:
``# expect: LINE: FIELD: words of the message``. Every one must exit 2 with exactly one line
``pollsim: FILE:LINE: FIELD: ...`` on stderr and nothing on stdout. A few run as real processes
to prove no traceback reaches stderr. The alarm is a hang guard only, not a speed requirement.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pollsim.cli import main
from pollsim.scenario.yamldoc import MAX_BYTES
from tests.conftest import ROOT

BAD = Path(__file__).parent / "bad"
FILES = sorted(BAD.glob("*.yaml"))
HANG_GUARD = 20  # seconds


def expectation(path: Path) -> tuple[str, str, str]:
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8")
    assert first.startswith("# expect: "), f"{path.name} has no '# expect:' line"
    line, field, words = first.removeprefix("# expect: ").split(": ", 2)
    return line, field, words


@contextlib.contextmanager
def hang_guard(seconds: int = HANG_GUARD) -> Iterator[None]:
    def timeout(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def validate(path: Path | str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    with hang_guard():
        code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    return code, err.splitlines(), out


def test_the_corpus_is_large_and_every_file_says_what_it_must_give():
    assert len(FILES) >= 100
    for path in FILES:
        line, field, words = expectation(path)
        assert line.isdigit() and field and words


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_malformed_scenario_gives_one_located_line_and_exit_2(path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    rel = path.relative_to(ROOT)
    line, field, words = expectation(path)
    code, err, out = validate(rel, capsys)
    assert code == 2 and out == ""
    assert len(err) == 1, err
    assert err[0].startswith(f"pollsim: {rel}:{line}: {field}: "), err[0]
    assert words in err[0]


@pytest.mark.parametrize(
    "name", ["nul-byte", "alias-bomb", "deep-nesting-flow", "recursive-alias-list", "complex-key", "invalid-date", "mississippi-election-text", "not-utf8"]
)
def test_as_a_real_process_no_traceback_reaches_stderr(name):
    path = BAD / f"{name}.yaml"
    line, field, words = expectation(path)
    proc = subprocess.run([sys.executable, "-m", "pollsim.cli", "validate", str(path)], capture_output=True, text=True, timeout=HANG_GUARD, cwd=ROOT)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "Error:" not in proc.stderr
    assert proc.stderr.splitlines() == [proc.stderr.strip()] and f"{path}:{line}: {field}: " in proc.stderr


def test_dev_zero_is_refused_at_the_size_cap_not_read_forever(capsys):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero on this system")
    code, err, _ = validate("/dev/zero", capsys)
    assert code == 2 and err == ["pollsim: /dev/zero:1: (file): larger than 2 MiB: not a scenario file"]


def test_a_file_over_the_cap_is_refused_and_one_at_the_cap_is_read(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_BYTES + 1))
    code, err, _ = validate(big, capsys)
    assert code == 2 and err == [f"pollsim: {big}:1: (file): larger than 2 MiB: not a scenario file"]
    big.write_bytes(b"#" * MAX_BYTES)  # a comment: read whole, then found empty
    code, err, _ = validate(big, capsys)
    assert code == 2 and err == [f"pollsim: {big}:1: (top level): the file is empty; a scenario needs scenario, election and precincts"]


def test_a_directory_and_a_missing_file_are_told_plainly(tmp_path, capsys):
    code, err, _ = validate(tmp_path, capsys)
    assert code == 2 and len(err) == 1 and err[0].startswith(f"pollsim: {tmp_path}:1: (file): cannot read the scenario file")
    code, err, _ = validate(tmp_path / "nope.yaml", capsys)
    assert code == 2 and err == [f"pollsim: {tmp_path / 'nope.yaml'}:1: (file): cannot read the scenario file (No such file or directory)"]
