"""Emulator benchmarks: a reader's goodput on a paced 115200-baud line, and a kill -9 soak.

Run with ``.venv/bin/pytest benchmarks/test_emulator_bench.py --benchmark-only -s``.

* **Paced goodput.** An emulated DRE in test mode holding 9,000 test ballots (the built-in test
  election: 9 choices, so 81,000 bytes of CVRs) is served on a real pty paced to 115200 baud;
  ``Client.read_all_cvrs()`` reads them through pyserial with sealed results. The line rate is
  115200 / 10 = 11,520 bytes per second (8N1: 10 bits per byte on the wire). **Goodput** is the
  CVR payload bytes (rows x choices, the matrix the reader ends with) delivered per second of the
  readout; target: at least 80 % of the line rate. The rest of the line carries the frame
  overhead (header, CRC, COBS, delimiters, the 80-byte seal and 12-byte chunk header per chunk,
  ACK frames) and stands idle while the reader turns a chunk round. Also reported: **frame
  efficiency**, CVR bytes over all bytes the device sent.
* **Goodput against the error rate** (issue 14): a sealed readout (``read_device`` with every
  check) of the training precinct's DRE, and of its paper scenario's scanner, on a pty paced to
  115200 baud with 0, 0.1, 1, 2 and 5 % of the bytes corrupted and as many dropped, in both
  directions. Goodput: bytes of records read (CVRs, paper records, event-log entries as sent)
  per second of the whole readout, against the clean readout's. At 1 % + 1 % every record must
  arrive exactly once, at no less than 30 % of the clean goodput (issue 14; the replies then
  travel as compact pieces, docs/protocol.md L15-L18); at 5 % + 5 % the readout completes or
  stops by its deadline with one line.
* **Kill soak** (only with ``--benchmark-only`` or ``POLLSIM_SOAK=1``): ``pollsim serve`` living the
  training day at 4000x on a memory file is killed with SIGKILL at 200 seeded random instants;
  after each kill its memory must hold counter = CVRs = paper records with an intact log chain,
  and after the last restart the CVRs must be DRE-1's ballots in the model, each exactly once.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import serial

from pollsim.emulator.pty import PtyPort
from pollsim.emulator.read import ReadError, check_readout, read_device
from pollsim.emulator.serve import Emulator, EmulatorSettings
from pollsim.protocol import Client, LineFaults, ResultVerifier

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.emulator.conftest import (  # noqa: E402
    KEY,
    TRAINING,
    TRAINING_PAPER,
    check_memory,
    model_ballots,
    start_serve,
    wait_until_final,
)

BAUD = 115_200
LINE_RATE = BAUD / 10  # bytes per second, 8N1
ROWS = 9_000


@pytest.fixture(scope="module")
def paced_device():
    """A DRE in test mode with ROWS test ballots, sealed, on a pty paced to 115200 baud."""
    emulator = Emulator(EmulatorSettings("dre", key=KEY))
    rng = np.random.default_rng(5)
    width = emulator.election.width
    for row in (rng.random((ROWS, width)) < 0.3).astype(np.uint8):
        emulator.service.cast(row, as_is=False)
    port = PtyPort(baud=BAUD)
    emulator.start(port)
    yield emulator, port
    emulator.close()
    port.close()


@pytest.mark.parametrize("max_chunk", [0xFFFF, 2_000])
def test_paced_goodput_is_at_least_80_percent_of_the_115200_baud_line_rate(benchmark, paced_device, max_chunk: int) -> None:
    emulator, port = paced_device
    expected = emulator.service.cvrs()
    with serial.Serial(port.path, timeout=0.01) as host:
        client = Client(host, verifier=ResultVerifier(KEY), max_chunk=max_chunk)
        client.identify()
        sent_before: list[int] = []

        def read() -> np.ndarray:
            sent_before.append(port.stats.sent)
            return client.read_all_cvrs()

        matrix = benchmark.pedantic(read, rounds=2, iterations=1)
        sent = (port.stats.sent - sent_before[0]) / len(sent_before)
    np.testing.assert_array_equal(matrix, expected)
    goodput = expected.nbytes / benchmark.stats.stats.min
    ratio, efficiency = goodput / LINE_RATE, expected.nbytes / sent
    benchmark.extra_info.update(goodput_bytes_s=round(goodput), line_share=round(ratio, 3), frame_efficiency=round(efficiency, 3))
    print(f"\nmax_chunk {max_chunk}: {expected.nbytes} CVR bytes in {benchmark.stats.stats.min:.2f} s: goodput "
          f"{goodput:,.0f} B/s = {ratio:.1%} of {LINE_RATE:,.0f} B/s; frame efficiency {efficiency:.1%}")  # fmt: skip
    assert ratio >= 0.80


RATES = (0.0, 0.001, 0.01, 0.02, 0.05)
"""Shares of the bytes corrupted, and as many dropped, each way."""
NOISY_DEADLINE = 300.0


def noisy_readout(kind: str, rate: float) -> dict:
    """Read a sealed device that lived its day over a paced pty with ``rate`` + ``rate`` noise
    both ways; what came, how long it took, and whether every record came exactly once."""
    emulator = Emulator(EmulatorSettings(kind, scenario=TRAINING if kind == "dre" else TRAINING_PAPER, key=KEY))
    emulator.live_election_day(threading.Event())
    service = emulator.service
    port = PtyPort(baud=BAUD, faults=LineFaults(rate, rate, seed=14))
    emulator.start(port)
    start = time.perf_counter()
    try:
        readout = read_device(port.path, key=KEY, deadline=NOISY_DEADLINE)
    except ReadError as error:
        return {"kind": kind, "rate": rate, "seconds": time.perf_counter() - start, "failed": str(error)}
    finally:
        emulator.close()
        port.close()
    seconds = time.perf_counter() - start
    check_readout(readout)
    assert readout.cvrs is not None and readout.paper is not None and readout.events is not None
    exact = (np.array_equal(readout.cvrs, service.cvrs()) and np.array_equal(readout.paper, service.paper_records())
             and readout.events == list(service.event_log()))  # fmt: skip
    size = readout.cvrs.nbytes + readout.paper.nbytes + sum(len(event.to_json()) for event in readout.events)
    return {"kind": kind, "rate": rate, "seconds": seconds, "bytes": size, "goodput": size / seconds, "exact": exact,
            "damaged": readout.corrupt_frames}  # fmt: skip


def test_goodput_against_the_error_rate_both_ways_at_115200_baud(benchmark) -> None:
    rows: list[dict] = []

    def measure() -> None:
        rows.extend(noisy_readout("dre", rate) for rate in RATES)
        rows.extend(noisy_readout("scanner", rate) for rate in (0.0, 0.01))

    benchmark.pedantic(measure, rounds=1, iterations=1)
    clean = {row["kind"]: row["goodput"] for row in rows if row["rate"] == 0.0}
    print("\n| device | corrupt + dropped, each way | readout | goodput | of clean |")
    for row in rows:
        if "failed" in row:
            print(f"| {row['kind']} | {row['rate']:.1%} + {row['rate']:.1%} | stopped after {row['seconds']:.0f} s: "
                  f"{row['failed'].split(': ', 1)[1]} | - | - |")  # fmt: skip
            continue
        share = row["goodput"] / clean[row["kind"]]
        print(f"| {row['kind']} | {row['rate']:.1%} + {row['rate']:.1%} | {row['bytes']:,} bytes in {row['seconds']:.1f} s, "
              f"{row['damaged']} frames damaged | {row['goodput']:,.0f} B/s | {share:.0%} |")  # fmt: skip
        benchmark.extra_info[f"{row['kind']}_{row['rate']}"] = round(row["goodput"])
    for row in rows:
        if row["rate"] <= 0.01:
            assert "failed" not in row and row["exact"], row  # every record, exactly once
        if row["rate"] == 0.01:
            assert row["goodput"] >= 0.30 * clean[row["kind"]], row  # issue 14: at least 30 % of the clean goodput
        else:
            assert "failed" in row or row["exact"], row
            assert row["seconds"] < NOISY_DEADLINE + 30  # or it stopped by its deadline


SOAK_KILLS = 200


@pytest.fixture
def soak_enabled(request) -> None:
    if not (request.config.getoption("benchmark_only", False) or os.environ.get("POLLSIM_SOAK") == "1"):
        pytest.skip("the kill soak runs with --benchmark-only or POLLSIM_SOAK=1")


def day_in_memory(state: Path) -> np.ndarray:
    """The CVRs a memory file holds."""
    from pollsim.devices.store import SQLiteStore
    from pollsim.scenario import build_election, load_scenario

    election = build_election(load_scenario(TRAINING).election)
    store = SQLiteStore(state, election.width, election.definition_hash)
    try:
        return store.ballots()[0].copy()
    finally:
        store.close()


def test_kill_soak_two_hundred_power_losses_lose_or_double_no_ballot(benchmark, soak_enabled, tmp_path) -> None:
    """Each kill lands on an unfinished day; when a day is over, its memory must hold DRE-1's
    ballots of the model exactly, and the next kills go to a new device."""
    expected = model_ballots(TRAINING, "DRE-1", seed=1)
    rng = np.random.default_rng(200)
    held: list[int] = []
    days: list[Path] = [tmp_path / "day-0.db"]

    def soak() -> None:
        while len(held) < SOAK_KILLS:
            served = start_serve("dre", "--scenario", TRAINING, "--state", days[-1], "--speed", 4000, "--key", KEY.hex())
            time.sleep(rng.uniform(0.02, 0.5))
            served.kill()
            n = check_memory(days[-1], TRAINING, test=False)
            if n == len(expected):  # killed after the polls closed: the day is over
                np.testing.assert_array_equal(day_in_memory(days[-1]), expected)
                days.append(tmp_path / f"day-{len(days)}.db")
            else:
                held.append(n)

    start = time.perf_counter()
    benchmark.pedantic(soak, rounds=1, iterations=1)
    elapsed = time.perf_counter() - start
    link = tmp_path / "dre"
    served = start_serve("dre", "--scenario", TRAINING, "--state", days[-1], "--link", link, "--key", KEY.hex())
    try:
        wait_until_final(str(link))
        with serial.Serial(str(link), timeout=0.01) as port:
            client = Client(port, verifier=ResultVerifier(KEY))
            client.identify()
            cvrs = client.read_all_cvrs()
    finally:
        served.stop()
    np.testing.assert_array_equal(cvrs, expected)
    benchmark.extra_info.update(kills_while_voting=len(held), days=len(days), seconds_per_kill=round(elapsed / len(held), 2))
    print(f"\n{len(held)} kills while voting over {len(days)} election days, {elapsed / len(held):.2f} s per kill; "
          f"every day ended with DRE-1's {len(expected)} ballots of the model, none lost or doubled")  # fmt: skip
    assert len(held) >= SOAK_KILLS
