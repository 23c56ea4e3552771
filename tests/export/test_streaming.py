"""Streaming: exporting 200,000 ballots never holds the document (nor a dict per ballot) in memory."""

from __future__ import annotations

import io
import json
import tracemalloc

import pytest

from pollsim.export.cvr import write_nist_cvr
from pollsim.export.dominion import write_dominion_cvr
from pollsim.rundir import RunDir

from .conftest import make_synthetic_run_dir

N_BALLOTS = 200_000
PEAK_BOUND = 40_000_000  # bytes of Python and numpy allocations during the export


class CountingSink(io.TextIOBase):
    """A text file that keeps only its length and its first and last characters."""

    def __init__(self):
        self.chars = 0
        self.head = ""
        self.tail = ""

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if len(self.head) < 200:
            self.head += s[:200]
        self.tail = (self.tail + s[-200:])[-200:]
        self.chars += len(s)
        return len(s)


@pytest.fixture(scope="module")
def big_run(tmp_path_factory, dre_run):
    """200,000 ballots (drawn from 500 distinct rows, as real ballots repeat) in 40 precincts."""
    return make_synthetic_run_dir(tmp_path_factory.mktemp("big"), dre_run[1], N_BALLOTS, 40, distinct_rows=500)


@pytest.mark.parametrize("writer", [write_nist_cvr, write_dominion_cvr], ids=["nist-cvr", "dominion-cvr"])
def test_peak_memory_stays_far_below_the_document_size(big_run, writer):
    sink = CountingSink()
    tracemalloc.start()
    try:
        run = RunDir(big_run)
        records = writer(run, sink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert records == N_BALLOTS
    assert peak < PEAK_BOUND, f"peak {peak / 1e6:.1f} MB"
    if writer is write_nist_cvr:
        assert sink.chars > 10 * PEAK_BOUND  # ~260 MB of JSON went through
        assert sink.head.startswith('{\n"@type":"CVR.CastVoteRecordReport"') and sink.tail.endswith(f'"UniqueId":"{N_BALLOTS}"}}\n]\n}}\n')
    else:
        assert sink.chars > 20_000_000


def test_a_streamed_report_parses_as_one_json_document(synthetic_run, tmp_path):
    out = tmp_path / "cvr.json"
    with out.open("w") as f:
        write_nist_cvr(RunDir(synthetic_run), f, chunk=1000)
    doc = json.loads(out.read_text())
    assert len(doc["CVR"]) == 5_000 and list(doc)[-1] == "CVR"
