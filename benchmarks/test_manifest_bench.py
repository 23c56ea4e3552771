"""A county's devices at once (issue 14 item 6): the county's read station with 1, 2 and 4 ports.

Run with ``.venv/bin/pytest benchmarks/test_manifest_bench.py --benchmark-only -s -p no:randomly``
(about half an hour: the lines are paced; ``POLLSIM_BENCH_SETS=adams`` runs Adams County alone).

For each device set, ``pollsim serve --scenario S (--county Adams | --precincts 36) --baud 115200
--key K --manifest M`` serves every DRE and scanner after its day on its own pty paced to 115200
baud (11,520 bytes/s each, 8N1), results sealed, in its own process; the station
(:func:`pollsim.emulator.station.read_station`, what ``pollsim read --manifest`` runs) reads and
checks them all with K reader ports, in this process. Sets: Adams County (118 DREs, 13,759
ballots) and the first 36 precincts of the statewide scenario (218 devices, 24,514 ballots).

Reported per K: the station's wall time; **goodput**, CVR and paper record bytes per second, all
ports together; **line use**, every byte the devices sent (frames, seals, event logs: counted by
``pollsim serve``) over K x 11,520 B/s x the time. The baseline is the 1-port station of the same
set in the same run: K ports must bring the time down to at most 1.6 / K of it (an idle line
between requests is the only loss a paced reader port should have).
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pollsim.emulator.station import read_station

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.emulator.conftest import KEY, POLLSIM, ROOT  # noqa: E402

BAUD = 115_200
LINE_RATE = BAUD / 10
SETS = {
    "adams": (ROOT / "scenarios" / "ms-2020-adams.yaml", ("--county", "Adams")),
    "statewide-36": (ROOT / "scenarios" / "ms-2020-general.yaml", ("--precincts", "36")),
}
CHOSEN = [s for s in os.environ.get("POLLSIM_BENCH_SETS", ",".join(SETS)).split(",") if s]
CASES = [(name, ports) for name in CHOSEN for ports in (1, 2, 4)]
ONE_PORT: dict[str, float] = {}
"""The 1-port station's time per set, measured in this run: the baseline."""


def serve(scenario: Path, select_args: tuple[str, ...], manifest: Path, stderr: Path) -> subprocess.Popen:
    err = open(stderr, "wb")  # noqa: SIM115
    process = subprocess.Popen([*POLLSIM, "serve", "--scenario", str(scenario), *select_args, "--baud", str(BAUD),
                                "--key", KEY.hex(), "--manifest", str(manifest)], stdout=subprocess.PIPE, stderr=err)  # fmt: skip
    err.close()
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 300)
    assert ready and process.stdout.readline().decode().strip() == str(manifest)
    return process


@pytest.mark.parametrize(("name", "ports"), CASES)
def test_county_read_station(benchmark, tmp_path, name: str, ports: int) -> None:
    scenario, select_args = SETS[name]
    manifest = tmp_path / "manifest.csv"
    process = serve(scenario, select_args, manifest, tmp_path / "serve.err")
    results = []
    try:
        results.append(benchmark.pedantic(lambda: read_station(manifest, ports=ports, key=KEY), rounds=1, iterations=1))
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=120) == 0
    result = results[0]
    assert not result.failed, result.failed[0].error
    sent = int(re.search(r"sent (\d+) bytes", (tmp_path / "serve.err").read_text()).group(1))  # type: ignore[union-attr]
    devices, ballots = len(result.reads), sum(r.public for r in result.reads)
    line_use = sent / (ports * LINE_RATE * result.seconds)
    benchmark.extra_info.update(devices=devices, ballots=ballots, seconds=round(result.seconds, 1),
                                goodput_bytes_s=round(result.goodput), wire_bytes=sent, line_use=round(line_use, 3))  # fmt: skip
    if ports == 1:
        ONE_PORT[name] = result.seconds
    speedup = ONE_PORT[name] / result.seconds if name in ONE_PORT else float("nan")
    print(f"\n{name}, {ports} ports: {devices} devices, {ballots} ballots, {result.record_bytes} record bytes, "
          f"{sent} bytes sent, in {result.seconds:.1f} s; goodput {result.goodput:,.0f} B/s; line use {line_use:.1%}; "
          f"{speedup:.2f}x the 1-port station; load {os.getloadavg()[0]:.2f} ({time.strftime('%H:%M:%S')})")  # fmt: skip
    if name in ONE_PORT and ports > 1:
        assert result.seconds <= 1.6 * ONE_PORT[name] / ports
