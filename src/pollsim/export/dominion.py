"""Cast vote records as a Dominion Democracy Suite "CVR export" CSV, the layout Arlo ingests.

Four header rows, then one row per ballot (layout as Arlo's ``parse_dominion_cvrs`` reads it,
votingworks/arlo ``server/api/cvrs.py``, and its test fixtures):

1. election name, export version (here ``pollsim VERSION``), then empty cells;
2. empty over the eight metadata columns, then the contest of each choice column as
   ``TITLE (Vote For=N)`` (repeated over the contest's choices);
3. empty over the metadata columns, then each choice's name;
4. ``CvrNumber,TabulatorNum,BatchId,RecordId,ImprintedId,CountingGroup,PrecinctPortion,BallotType``
   then each choice's party (empty for none);
5. per ballot: ``CvrNumber`` the 1-based row of ballots.npz (the NIST export's ``UniqueId``),
   ``TabulatorNum`` the device id and ``BatchId`` ``PRECINCT/DEVICE`` (the manifest's
   ``Tabulator`` and ``Batch Name``: Arlo matches CVRs to batches on that pair), ``RecordId`` the
   ballot's place in its batch (1..n in cast order), ``ImprintedId`` ``BATCH-RECORD``,
   ``CountingGroup`` "Election Day", ``PrecinctPortion`` the precinct id, ``BallotType`` the
   ballot style id; then 1/0 per choice as the electronic record (``cvr`` layer) has it, and empty
   cells for a contest not on the ballot's style (Arlo's "contest not on ballot");
6. then the ballots counted after the polls closed (``RunDir.counted_rows``): absentee and
   accepted affidavit ballots, ``CvrNumber`` continuing after the regular ones (as the NIST
   ``UniqueId``), ``TabulatorNum`` ``AB-SCAN``, ``BatchId`` the manifest's ``COUNTY/AB-0001`` or
   ``COUNTY/AFF``, ``RecordId`` the place in that batch, ``CountingGroup`` "Absentee" or
   "Provisional", ``PrecinctPortion`` the voter's precinct.

Overvotes stay as marked (a row can have more 1s than the contest's Vote For): a reader applies
the vote-for-N rule itself, as Arlo does. Real Dominion exports number tabulators and batches;
pollsim's are text ids, which Arlo accepts. Lines end in ``\\n``; fields are quoted only when
they need it (CSV minimal quoting). Streamed a chunk of rows at a time, with each distinct
(ballot style, row) of a chunk written as text once (:mod:`.patterns`).
"""

from __future__ import annotations

import csv
import io
from typing import IO

import numpy as np

from pollsim.election.definition import Contest
from pollsim.export.patterns import RowTexts
from pollsim.rundir import RunDir

META_COLUMNS = ["CvrNumber", "TabulatorNum", "BatchId", "RecordId", "ImprintedId", "CountingGroup", "PrecinctPortion", "BallotType"]
COUNTING_GROUP = "Election Day"
COUNTED_GROUP = {"absentee": "Absentee", "provisional": "Provisional"}
"""``CountingGroup`` of the batches counted after the polls closed, by ``CountedBatch.group``."""
DOMINION_CHUNK = 16_384
"""Ballots per chunk (~100 bytes of CSV each)."""


def _field(s: str) -> str:
    """One CSV field, quoted as ``csv.QUOTE_MINIMAL`` would."""
    if any(c in s for c in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def header_rows(run: RunDir) -> list[list[str]]:
    el = run.election
    pad = [""] * len(META_COLUMNS)
    contest_row, choice_row, party_row = list(pad), list(pad), list(META_COLUMNS)
    for c in el.contests:
        for ch in c.choices:
            contest_row.append(f"{' '.join(c.title.split())} (Vote For={c.vote_for})")
            choice_row.append(ch.name)
            party_row.append(ch.party)
    width = len(contest_row)
    first = [el.name, f"pollsim {run.pollsim_version}".strip()]
    return [first + [""] * (width - len(first)), contest_row, choice_row, party_row]


def write_dominion_cvr(run: RunDir, fh: IO[str], chunk: int = DOMINION_CHUNK) -> int:
    """Write the CVR CSV to ``fh``; returns the number of ballot rows."""
    el = run.election
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(header_rows(run))
    fh.write(buf.getvalue())

    style_index = {s.id: i for i, s in enumerate(el.ballot_styles)}
    precinct_style = np.array([style_index[s] for s in run.precinct_styles], np.int64) if run.precincts else np.zeros(0, np.int64)

    def piece(c: Contest, marks: list[int], on_style: bool) -> str:
        on = on_style or any(marks)
        return ",".join(str(v) if on else "" for v in marks)

    marks_texts = RowTexts(el, piece, ",".join)

    stride = run.device_stride
    head: dict[int, str] = {}  # batch key -> "TabulatorNum,BatchId,"
    batch_of: dict[int, str] = {}  # batch key -> ImprintedId prefix (the batch name)
    mid: dict[int, str] = {}  # batch key -> ",CountingGroup,PrecinctPortion,BallotType,"
    for d in run.devices:
        key = d.precinct * stride + d.index
        batch_of[key] = batch = run.device_path(d)
        head[key] = f"{_field(d.device_id)},{_field(batch)},"
        mid[key] = f",{_field(COUNTING_GROUP)},{_field(run.precincts[d.precinct].id)},{_field(run.precinct_styles[d.precinct])},"

    keys_all, seq_all, pre_all = run.batch_keys, run.batch_sequence, run.ballot_precinct
    rows_written = 0
    for start, rows in run.iter_rows("cvr", chunk):
        stop = start + len(rows)
        texts, where = marks_texts.chunk(rows, precinct_style[pre_all[start:stop]])
        lines = [
            f"{u},{head[b]}{q},{_field(f'{batch_of[b]}-{q}')}{mid[b]}{texts[f]}\n"
            for b, q, f, u in zip(keys_all[start:stop].tolist(), seq_all[start:stop].tolist(), where, range(start + 1, stop + 1), strict=True)
        ]
        fh.write("".join(lines))
        rows_written += stop - start
    return rows_written + _write_counted(run, fh, marks_texts, precinct_style, chunk)


def _write_counted(run: RunDir, fh: IO[str], marks_texts: RowTexts, precinct_style: np.ndarray, chunk: int) -> int:
    """The absentee and counted affidavit ballots after the regular ones (``CvrNumber`` continuing)."""
    batches = run.counted_batches
    if not batches:
        return 0
    rows, pre, batch, pos = run.counted_rows("cvr")
    head = [f"{_field(b.tabulator)},{_field(b.name)}," for b in batches]
    group = [_field(COUNTED_GROUP[b.group]) for b in batches]
    tail = [f",{_field(p.id)},{_field(s)}," for p, s in zip(run.precincts, run.precinct_styles, strict=True)]
    first = run.n_ballots + 1
    for start in range(0, len(rows), chunk):
        stop = min(start + chunk, len(rows))
        texts, where = marks_texts.chunk(rows[start:stop], precinct_style[pre[start:stop]])
        fh.write(
            "".join(
                f"{u},{head[b]}{q},{_field(f'{batches[b].name}-{q}')},{group[b]}{tail[p]}{texts[f]}\n"
                for b, q, p, f, u in zip(batch[start:stop].tolist(), pos[start:stop].tolist(), pre[start:stop].tolist(), where, range(first + start, first + stop), strict=True)
            )
        )
    return len(rows)
