"""pollsim's pytest plugin: emulated voting devices as fixtures, for teams testing their readers.

A county's test team proves its reader against devices it can control: a DRE, a precinct
scanner, a BMD or an electronic pollbook that lives a scenario's election day on a real
pseudo-terminal (or a ``pollsim://`` URL), that a test can make run out of paper, jam, misrecord,
lose power or sit behind a noisy line mid-test, and whose memory the test reads to assert that
the reader got every counter, record and log entry right (docs/protocol.md; the numbers feed the
county's §23-15-615 ballot accounting). Installed with pollsim, registered under the ``pytest11``
entry point, so every pytest session has it. The guide is
docs/guides/test-your-reader-with-pytest.md.

Fixtures:

* ``pollsim_device``: a factory; ``pollsim_device("dre")`` starts a device and returns its
  :class:`~pollsim.pytest_plugin.bench.DeviceHandle` (``.port``, ``.url``, ``.controller``,
  ``.election``, ``.day``, ``.key``, ``.election_code``); every device is stopped at teardown.
* ``pollsim_scenario``: the scenario devices live by default (``--pollsim-scenario``), or None.

Options (command line, or ini without the dashes): ``--pollsim-scenario PATH``,
``--pollsim-seed N``.

This module imports only pytest and the standard library: the emulator is imported when a test
asks for a fixture, so the plugin costs nothing in sessions that do not use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pollsim.pytest_plugin.bench import DeviceHandle

__all__ = ["pollsim_device", "pollsim_scenario", "pytest_addoption"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pollsim", "pollsim emulated devices")
    group.addoption("--pollsim-scenario", dest="pollsim_scenario", metavar="PATH", default=None,
                    help="scenario YAML the pollsim_device fixture's devices live by default (default: none, "
                         "the device waits before the election with pollsim's test election)")  # fmt: skip
    group.addoption("--pollsim-seed", dest="pollsim_seed", metavar="N", type=int, default=None,
                    help="root seed of the devices' day and line noise (default: the scenario's seed)")
    parser.addini("pollsim_scenario", "scenario YAML for pollsim_device (relative to the ini file)", default="")
    parser.addini("pollsim_seed", "root seed for pollsim_device (default: the scenario's)", default="")


def _scenario(config: pytest.Config) -> Path | None:
    given = config.getoption("pollsim_scenario")
    if given:
        return Path(given).resolve()
    ini = str(config.getini("pollsim_scenario"))
    if not ini:
        return None
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    return (base / ini).resolve()


def _seed(config: pytest.Config) -> int | None:
    given = config.getoption("pollsim_seed")
    if given is not None:
        return int(given)
    ini = str(config.getini("pollsim_seed")).strip()
    if not ini:
        return None
    try:
        return int(ini)
    except ValueError:
        raise pytest.UsageError(f"ini option pollsim_seed = {ini!r}: not an integer") from None


@pytest.fixture(scope="session")
def pollsim_scenario(pytestconfig: pytest.Config) -> Path | None:
    """The scenario ``pollsim_device`` devices live unless told otherwise (``--pollsim-scenario``
    or the ``pollsim_scenario`` ini value), or None."""
    path = _scenario(pytestconfig)
    if path is not None and not path.is_file():
        raise pytest.UsageError(f"--pollsim-scenario {path}: no such file")
    return path


@pytest.fixture
def pollsim_device(pollsim_scenario: Path | None, pytestconfig: pytest.Config,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., DeviceHandle]]:  # fmt: skip
    """Start emulated devices: ``pollsim_device(kind="dre", *, scenario=..., seed=None, key=None,
    test_mode=False, until=None, speed=None, memory=True, baud=None, corrupt=0.0, drop=0.0,
    device_id=1, election_code=None, election=None)`` returns a DeviceHandle, already serving.
    At teardown every device started is powered off, its pty closed, its threads joined."""
    from pollsim.pytest_plugin.bench import Bench

    bench = Bench(tmp_path_factory.mktemp("pollsim"), scenario=pollsim_scenario, seed=_seed(pytestconfig))
    try:
        yield bench.start
    finally:
        bench.close()
