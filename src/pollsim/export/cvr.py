"""Cast vote records as a NIST SP 1500-103 (v1.0.0) ``CVR.CastVoteRecordReport`` JSON document.

One ``CVR.CVR`` per regular ballot, from the electronic record (``cvr`` layer of
``ballots.npz``), in ballots.npz order: ``UniqueId`` is the 1-based row number (the same number as
the Dominion CSV's ``CvrNumber``), ``BatchId`` the (precinct, device) batch of the Arlo manifest,
``BatchSequenceId`` the ballot's place in that batch. Each CVR has one snapshot (``Type``
original) with a ``CVRContest`` for every contest of the ballot style (and any other contest the
record marks), holding the marked selections. Vote-for-N rules (as :mod:`pollsim.tabulate`):

- ``Selections`` = marks; fewer than N: ``Undervotes`` = N - marks, ``Status`` undervoted (and
  not-indicated when blank);
- more than N: ``Status`` overvoted, ``Overvotes`` = N (the contest's votes lost on that ballot),
  every mark ``IsAllocable`` "no" and ``TotalNumberVotes`` 0: the contest counts for no one;
- otherwise each mark is ``HasIndication`` yes, ``IsAllocable`` yes, ``NumberVotes`` 1; a mark on
  the write-in line is allocable to the contest's write-in selection (``IsWriteIn``) and counted
  in ``WriteIns`` (pollsim records no write-in name).

With absentee voting and the canvass, the regular ballots are followed by the absentee ballots
the resolution board counted (absentee.npz, in batch order; ``BatchId`` ``COUNTY/AB-0001``, the
absentee batch of the ballot manifest) and then the accepted affidavit ballots the canvass
counted (``COUNTY/AFF``), each ``CreatingDeviceId`` the county's absentee scanner
(``dev-absentee.COUNTY``) and ``BallotStyleUnitId`` the voter's precinct; ``UniqueId`` numbers
on. (SP 1500-103 v1.0 has no counting group on a CVR: the batch says which group a ballot is.)

Streaming: the header (report, parties, geopolitical units, devices, election) is written first,
then the CVRs a chunk of rows at a time (:mod:`.jsonstream`). The contest part of a CVR depends
only on the row's marks and ballot style, so it is built once per distinct row of a chunk from
per-contest pieces cached by their marks (:mod:`.patterns`), and the per-ballot text is one string
format.
"""

from __future__ import annotations

from typing import IO, Any

import numpy as np

from pollsim.election.definition import Contest
from pollsim.export.common import STATE, generated_time, provenance
from pollsim.export.jsonstream import Streamed, dumps, jstr, write_document
from pollsim.export.nistids import EXPORTER_DEVICE, NistIds, is_write_in, party_name, vote_variation
from pollsim.export.patterns import RowTexts
from pollsim.rundir import RunDir

CVR_VERSION = "1.0.0"
CVR_CHUNK = 2048
"""Ballots per chunk: ~1.3 kB of JSON each, so a chunk is a few MB of text."""


def _code(value: str) -> list[dict]:
    return [{"@type": "CVR.Code", "Type": "local-level", "Value": value}]


def report_header(run: RunDir, ids: NistIds) -> list[tuple[str, object]]:
    """The report's members other than the CVRs, in output order."""
    el = run.election
    devices = [
        {"@id": EXPORTER_DEVICE, "@type": "CVR.ReportingDevice", "Application": f"pollsim {run.pollsim_version}".strip(), "Manufacturer": "pollsim", "Model": "pollsim export"}
    ]
    for d in run.devices:
        devices.append(
            {"@id": ids.device[(d.precinct, d.index)], "@type": "CVR.ReportingDevice", "Manufacturer": "pollsim", "Model": d.kind, "SerialNumber": run.device_path(d)}
        )
    for county, scanner in ids.absentee_scanners.items():
        devices.append(
            {"@id": ids.absentee_device[county], "@type": "CVR.ReportingDevice", "Manufacturer": "pollsim", "Model": f"absentee {scanner}", "SerialNumber": f"{county}/absentee"}
        )
    gp: list[dict[str, Any]] = [{"@id": ids.state, "@type": "CVR.GpUnit", "Name": STATE, "OtherType": "state", "Type": "other"}]
    for county in run.counties:
        unit: dict[str, Any] = {"@id": ids.county[county], "@type": "CVR.GpUnit", "Name": county, "OtherType": "county"}
        if county in ids.absentee_device:
            unit["ReportingDeviceIds"] = [ids.absentee_device[county]]
        gp.append({**unit, "Type": "other"})
    for pi, p in enumerate(run.precincts):
        gp.append(
            {
                "@id": ids.precinct[pi],
                "@type": "CVR.GpUnit",
                "Code": _code(p.id),
                "Name": p.id,
                "ReportingDeviceIds": [ids.device[(d.precinct, d.index)] for d in run.devices_by_precinct[pi]],
                "Type": "precinct",
            }
        )
    candidates: list[dict[str, Any]] = []
    contests: list[dict[str, Any]] = []
    for c in el.contests:
        selections: list[dict[str, Any]] = []
        for ch in c.choices:
            sid = ids.selection[(c.id, ch.id)]
            if c.kind == "measure":
                selections.append({"@id": sid, "@type": "CVR.BallotMeasureSelection", "Code": _code(ch.id), "Selection": ch.name})
            elif is_write_in(ch.id):
                selections.append({"@id": sid, "@type": "CVR.CandidateSelection", "Code": _code(ch.id), "IsWriteIn": True})
            else:
                cand: dict[str, Any] = {"@id": ids.candidate[(c.id, ch.id)], "@type": "CVR.Candidate", "Code": _code(ch.id), "Name": ch.name}
                if ch.party:
                    cand["PartyId"] = ids.party[ch.party]
                candidates.append(cand)
                selections.append({"@id": sid, "@type": "CVR.CandidateSelection", "CandidateIds": [cand["@id"]], "Code": _code(ch.id)})
        contest: dict[str, Any] = {"@id": ids.contest[c.id], "@type": "CVR.CandidateContest" if c.kind != "measure" else "CVR.BallotMeasureContest", "Code": _code(c.id), "ContestSelection": selections, "Name": c.title}
        if c.kind != "measure":
            contest["NumberElected"] = c.vote_for
            contest["VotesAllowed"] = c.vote_for
        contest["VoteVariation"] = vote_variation(c.vote_for)
        contests.append(contest)
    election = {
        "@id": ids.election,
        "@type": "CVR.Election",
        "Candidate": candidates,
        "Code": _code(el.id),
        "Contest": contests,
        "ElectionScopeId": ids.state,
        "Name": el.name,
    }
    notes = (
        f"{provenance(run)}; "
        f"electronic records (ballots.npz cvr layer); election definition sha256 {run.definition_hash}"
    )
    return [
        ("@type", "CVR.CastVoteRecordReport"),
        ("Version", CVR_VERSION),
        ("ReportType", ["aggregated"]),
        ("GeneratedDate", generated_time(run)),
        ("Notes", notes),
        ("ReportGeneratingDeviceIds", [EXPORTER_DEVICE]),
        ("ReportingDevice", devices),
        ("Party", [{"@id": ids.party[p], "@type": "CVR.Party", "Abbreviation": p, "Name": party_name(p)} for p in ids.party_codes]),
        ("GpUnit", gp),
        ("Election", [election]),
    ]


def contest_json(contest: Contest, contest_id: str, marks: list[int], selection_ids: list[str]) -> dict:
    """One ``CVR.CVRContest`` for a ballot's marks in one contest (vote-for-N rules)."""
    n, m = contest.vote_for, sum(marks)
    over = m > n
    sels = [
        {
            "@type": "CVR.CVRContestSelection",
            "ContestSelectionId": sid,
            "SelectionPosition": [{"@type": "CVR.SelectionPosition", "HasIndication": "yes", "IsAllocable": "no" if over else "yes", "NumberVotes": v}],
            "TotalNumberVotes": 0 if over else v,
        }
        for sid, v in zip(selection_ids, marks, strict=True)
        if v
    ]
    out: dict = {"@type": "CVR.CVRContest"}
    if sels:
        out["CVRContestSelection"] = sels
    out["ContestId"] = contest_id
    if over:
        out["Overvotes"] = n
    out["Selections"] = m
    if over:
        out["Status"] = ["overvoted"]
    elif m == 0:
        out["Status"] = ["not-indicated", "undervoted"]
    elif m < n:
        out["Status"] = ["undervoted"]
    if m < n:
        out["Undervotes"] = n - m
    write_ins = sum(v for ch, v in zip(contest.choices, marks, strict=True) if is_write_in(ch.id))
    if write_ins:
        out["WriteIns"] = write_ins
    return out


def contest_texts(run: RunDir, ids: NistIds) -> RowTexts:
    """The ``CVRContest`` array text of each distinct (ballot style, row)."""

    def piece(c: Contest, marks: list[int], on_style: bool) -> str | None:
        if not on_style and not any(marks):
            return None
        return dumps(contest_json(c, ids.contest[c.id], marks, [ids.selection[(c.id, ch.id)] for ch in c.choices]))

    return RowTexts(run.election, piece, lambda parts: "[" + ",".join(parts) + "]")


class _Rows:
    """The text of CVRs of one source of rows: ``head[precinct]`` + ``batch[b]`` + position, the
    snapshot, ``tail[b]`` + unique id (keys in the order of the regular ballots' records)."""

    def __init__(self, run: RunDir, ids: NistIds):
        el = run.election
        style_index = {s.id: i for i, s in enumerate(el.ballot_styles)}
        self.style = np.array([style_index[s] for s in run.precinct_styles], np.int64) if run.precincts else np.zeros(0, np.int64)
        self.frags = contest_texts(run, ids)
        self.head = [
            f'{{"@type":"CVR.CVR","BallotStyleId":{jstr(run.precinct_styles[pi])},"BallotStyleUnitId":{jstr(ids.precinct[pi])},' for pi in range(len(run.precincts))
        ]
        self.election_tail = f'","ElectionId":{jstr(ids.election)},"UniqueId":"'

    def texts(self, rows, pre, keys, seqs, first, batch: dict, tail: dict) -> list[str]:
        texts, where = self.frags.chunk(rows, self.style[pre])
        uids = map(str, range(first + 1, first + len(rows) + 1))
        return [
            f'{self.head[p]}{batch[b]}{q},"CVRSnapshot":[{{"@id":"snap-{u}","@type":"CVR.CVRSnapshot","CVRContest":{texts[f]},"Type":"original"}}]'
            f"{tail[b]}{u}{self.election_tail}{u}\"}}"
            for p, b, q, f, u in zip(pre.tolist(), keys, map(str, seqs), where, uids, strict=True)
        ]


def _batch_text(name: str, device: str) -> tuple[str, str]:
    return f'"BatchId":{jstr(name)},"BatchSequenceId":', f',"CreatingDeviceId":{jstr(device)},"CurrentSnapshotId":"snap-'


def cvr_chunks(run: RunDir, ids: NistIds, chunk: int = CVR_CHUNK):
    """Lists of CVR JSON texts, one list per chunk of ballot rows: regular, absentee, affidavit."""
    src = _Rows(run, ids)
    stride = run.device_stride
    batch: dict[int, str] = {}
    tail: dict[int, str] = {}
    for d in run.devices:
        key = d.precinct * stride + d.index
        batch[key], tail[key] = _batch_text(f"{run.precincts[d.precinct].id}/{d.device_id}", ids.device[(d.precinct, d.index)])
    keys_all, seq_all, pre_all = run.batch_keys, run.batch_sequence, run.ballot_precinct
    for start, rows in run.iter_rows("cvr", chunk):
        stop = start + len(rows)
        yield src.texts(rows, pre_all[start:stop], keys_all[start:stop].tolist(), seq_all[start:stop].tolist(), start, batch, tail)
    first = run.n_ballots
    rows_all, pre, keys, seqs = run.counted_rows("cvr")
    texts = [_batch_text(b.name, ids.absentee_device[b.county]) for b in run.counted_batches]
    head = {k: t[0] for k, t in enumerate(texts)}
    tail = {k: t[1] for k, t in enumerate(texts)}
    for start in range(0, len(rows_all), chunk):
        sl = slice(start, start + chunk)
        yield src.texts(rows_all[sl], pre[sl], keys[sl].tolist(), seqs[sl].tolist(), first + start, head, tail)


def write_nist_cvr(run: RunDir, fh: IO[str], chunk: int = CVR_CHUNK) -> int:
    """Write the CVR report to ``fh``; returns the number of CVRs written."""
    ids = NistIds(run)
    return write_document(fh, [*report_header(run, ids), ("CVR", Streamed(cvr_chunks(run, ids, chunk)))])
