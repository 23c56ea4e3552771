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
    gp: list[dict[str, Any]] = [{"@id": ids.state, "@type": "CVR.GpUnit", "Name": STATE, "OtherType": "state", "Type": "other"}]
    gp += [{"@id": ids.county[c], "@type": "CVR.GpUnit", "Name": c, "OtherType": "county", "Type": "other"} for c in run.counties]
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


def cvr_chunks(run: RunDir, ids: NistIds, chunk: int = CVR_CHUNK):
    """Lists of CVR JSON texts, one list per chunk of ballot rows."""
    el = run.election
    style_index = {s.id: i for i, s in enumerate(el.ballot_styles)}
    precinct_style = np.array([style_index[s] for s in run.precinct_styles], np.int64) if run.precincts else np.zeros(0, np.int64)
    frags = contest_texts(run, ids)
    stride = run.device_stride
    batch_head: dict[int, str] = {}
    batch_tail: dict[int, str] = {}
    for d in run.devices:
        key = d.precinct * stride + d.index
        p = run.precincts[d.precinct]
        batch_head[key] = (
            f'{{"@type":"CVR.CVR","BallotStyleId":{jstr(run.precinct_styles[d.precinct])},"BallotStyleUnitId":{jstr(ids.precinct[d.precinct])},'
            f'"BatchId":{jstr(f"{p.id}/{d.device_id}")},"BatchSequenceId":'
        )
        batch_tail[key] = f',"CreatingDeviceId":{jstr(ids.device[(d.precinct, d.index)])},"CurrentSnapshotId":"snap-'
    election_tail = f'","ElectionId":{jstr(ids.election)},"UniqueId":"'
    keys_all, seq_all, pre_all = run.batch_keys, run.batch_sequence, run.ballot_precinct
    for start, rows in run.iter_rows("cvr", chunk):
        stop = start + len(rows)
        texts, where = frags.chunk(rows, precinct_style[pre_all[start:stop]])
        keys = keys_all[start:stop].tolist()
        seqs = map(str, seq_all[start:stop].tolist())
        yield [
            f'{batch_head[b]}{q},"CVRSnapshot":[{{"@id":"snap-{u}","@type":"CVR.CVRSnapshot","CVRContest":{texts[f]},"Type":"original"}}]'
            f"{batch_tail[b]}{u}{election_tail}{u}\"}}"
            for b, q, f, u in zip(keys, seqs, where, map(str, range(start + 1, stop + 1)), strict=True)
        ]


def write_nist_cvr(run: RunDir, fh: IO[str], chunk: int = CVR_CHUNK) -> int:
    """Write the CVR report to ``fh``; returns the number of CVRs written."""
    ids = NistIds(run)
    return write_document(fh, [*report_header(run, ids), ("CVR", Streamed(cvr_chunks(run, ids, chunk)))])
