"""Election results as a NIST SP 1500-100 (v2) ``ElectionResults.ElectionReport`` JSON document.

Counts come from the electronic records (``cvr`` layer) by :func:`pollsim.tabulate.tally` (the
vote-for-N rules: an overvoted contest counts for no one), one call per precinct's run of rows,
read a chunk at a time; county and state counts are sums of precinct counts. The report holds:

- ``GpUnit``: the state (``ReportingUnit`` Type state), composed of its counties (Type county),
  each composed of its precincts (Type precinct, with registered voters and voters who came),
  each composed of its devices (``ReportingDevice``, with a ``DeviceClass``: dre, opscan-precinct
  for a precinct scanner, bmd);
- ``Party``, and in the one ``Election``: ``Candidate`` (with party), ``BallotStyle`` (with its
  precincts), ``BallotCounts`` (ballots cast per state, county and precinct: Type total) and
  ``Contest`` (``CandidateContest`` or ``BallotMeasureContest``), each selection with
  ``VoteCounts`` (Type total) for the state, every county and every precinct, and the contest's
  ``OtherCounts`` per unit: ``Undervotes`` (unused votes) and ``Overvotes`` (votes lost to
  overvoting: vote-for N per overvoted ballot), so that votes + undervotes + overvotes =
  N x ballots for every unit; ``WriteIns`` where the contest has a write-in line.

With absentee voting and the canvass, each ``VoteCounts`` and ``BallotCounts`` list holds a count
per counting group (NIST ``CountItemType``) before the total: ``election-day`` (the regular
ballots cast at the polls), ``absentee`` (mail and in person at the clerk's office, counted by
the resolution board), ``uocava`` (military and overseas) and ``provisional`` (the accepted
affidavit ballots the canvass counted), for every unit; ``Status`` is then certified.

Without them ``Status`` is unofficial-complete (nothing canvassed or certified), ``IsTest`` true with
``TestType`` "pollsim simulation" (the ballots are simulated). Every contest's
``ElectionDistrictId`` is the state: a run directory does not say which district a contest
belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from pollsim.export.common import STATE, generated_time, provenance
from pollsim.export.jsonstream import write_document
from pollsim.export.nistids import NistIds, is_write_in, party_name, vote_variation
from pollsim.rundir import RunDir
from pollsim.tabulate import tally

DEVICE_CLASS = {"dre": "dre", "scan-single": "opscan-precinct", "scan-batch": "opscan-central", "bmd": "bmd"}


@dataclass
class PrecinctCounts:
    """Per-precinct counts: ``votes[p, column]``, ``undervotes[p, contest]``, ``overvoted[p, contest]`` (ballots), ``ballots[p]``."""

    votes: np.ndarray
    undervotes: np.ndarray
    overvoted: np.ndarray
    ballots: np.ndarray

    def add(self, other: PrecinctCounts) -> PrecinctCounts:
        return PrecinctCounts(self.votes + other.votes, self.undervotes + other.undervotes, self.overvoted + other.overvoted, self.ballots + other.ballots)


def tally_rows(run: RunDir, chunks) -> PrecinctCounts:
    """Tally ``(rows, precinct)`` chunks into per-precinct counts."""
    el = run.election
    n_p, n_c = len(run.precincts), len(el.contests)
    out = PrecinctCounts(np.zeros((n_p, el.width), np.int64), np.zeros((n_p, n_c), np.int64), np.zeros((n_p, n_c), np.int64), np.zeros(n_p, np.int64))
    for rows, pre in chunks:
        if len(pre) > 1 and np.any(pre[1:] < pre[:-1]):  # not grouped by precinct: group this chunk
            order = np.argsort(pre, kind="stable")
            pre, rows = pre[order], rows[order]
        cuts = np.flatnonzero(pre[1:] != pre[:-1]) + 1
        for a, b in zip(np.r_[0, cuts].tolist(), np.r_[cuts, len(pre)].tolist(), strict=True):
            if a == b:
                continue
            p = int(pre[a])
            counted = tally(el, rows[a:b])
            for ci, c in enumerate(el.contests):
                t = counted[c.id]
                out.votes[p, el.contest_slices[c.id]] += [t.votes[ch.id] for ch in c.choices]
                out.undervotes[p, ci] += t.undervotes
                out.overvoted[p, ci] += t.overvoted_ballots
            out.ballots[p] += b - a
    return out


def precinct_counts(run: RunDir) -> PrecinctCounts:
    """Tally every precinct's electronic records (the regular ballots), a chunk of rows at a time."""
    return tally_rows(run, ((rows, run.ballot_precinct[start : start + len(rows)]) for start, rows in run.iter_rows("cvr")))


UOCAVA_KIND = 2  # pollsim.absentee.Kind.UOCAVA, as absentee.npz's kinds table has it


def counting_groups(run: RunDir) -> dict[str, PrecinctCounts]:
    """Per-precinct counts by NIST counting group, ``election-day`` first; {} without absentee voting
    or a canvass that counted affidavit ballots (the regular ballots are then all there is)."""
    aff_rows, aff_pre = run.affidavits_counted("cvr")
    if not run.has_absentee and not len(aff_rows):
        return {}
    out = {"election-day": precinct_counts(run)}
    if run.has_absentee:
        ix = run.absentee_index
        rows, pre = run.absentee_layer("cvr"), ix["precinct"]
        kind = np.where(ix["envelope"] >= 0, ix["envelope_kind"][np.maximum(ix["envelope"], 0)], 0)
        uocava = kind == UOCAVA_KIND
        out["absentee"] = tally_rows(run, [(rows[~uocava], pre[~uocava])])
        out["uocava"] = tally_rows(run, [(rows[uocava], pre[uocava])])
    out["provisional"] = tally_rows(run, [(aff_rows, aff_pre)])
    return out


def _total(parts: list[PrecinctCounts]) -> PrecinctCounts:
    out = parts[0]
    for p in parts[1:]:
        out = out.add(p)
    return out


def _text(s: str) -> dict:
    return {"@type": "ElectionResults.InternationalizedText", "Text": [{"@type": "ElectionResults.LanguageString", "Content": s, "Language": "en"}]}


def _ext(value: str) -> list[dict]:
    return [{"@type": "ElectionResults.ExternalIdentifier", "Type": "local-level", "Value": value}]


def election_type(name: str, ident: str) -> str:
    text = f"{name} {ident}".lower()
    for word in ("primary", "runoff", "special", "general"):
        if word in text:
            return word
    return "other"


def write_nist_results(run: RunDir, fh: IO[str]) -> int:
    """Write the results report to ``fh``; returns the number of ``VoteCounts`` written."""
    el = run.election
    ids = NistIds(run)
    groups = counting_groups(run)
    counts = precinct_counts(run) if not groups else _total(list(groups.values()))
    county_of = [run.counties.index(p.county) for p in run.precincts]
    county_ix = np.array(county_of, np.int64) if run.precincts else np.zeros(0, np.int64)
    n_county = len(run.counties)

    def by_county(a: np.ndarray) -> np.ndarray:
        out = np.zeros((n_county, *a.shape[1:]), np.int64)
        np.add.at(out, county_ix, a)
        return out

    # (unit id, counts) rows: state, counties, precincts
    units = [ids.state] + [ids.county[c] for c in run.counties] + ids.precinct
    stack = lambda a: np.concatenate([a.sum(axis=0, keepdims=True), by_county(a), a])  # noqa: E731
    votes, under, over, ballots = stack(counts.votes), stack(counts.undervotes), stack(counts.overvoted), stack(counts.ballots)
    group_votes = {g: stack(c.votes) for g, c in groups.items()}
    group_ballots = {g: stack(c.ballots) for g, c in groups.items()}

    gp: list[dict] = [
        {
            "@id": ids.state,
            "@type": "ElectionResults.ReportingUnit",
            "ComposingGpUnitIds": [ids.county[c] for c in run.counties],
            "Name": _text(STATE),
            "Type": "state",
            "VotersParticipated": sum(p.voters_arrived for p in run.precincts),
            "VotersRegistered": sum(p.registered_voters for p in run.precincts),
        }
    ]
    for k, county in enumerate(run.counties):
        members = [pi for pi, ck in enumerate(county_of) if ck == k]
        gp.append(
            {
                "@id": ids.county[county],
                "@type": "ElectionResults.ReportingUnit",
                "ComposingGpUnitIds": [ids.precinct[pi] for pi in members],
                "Name": _text(county),
                "Type": "county",
                "VotersParticipated": sum(run.precincts[pi].voters_arrived for pi in members),
                "VotersRegistered": sum(run.precincts[pi].registered_voters for pi in members),
            }
        )
    for pi, p in enumerate(run.precincts):
        unit: dict[str, Any] = {"@id": ids.precinct[pi], "@type": "ElectionResults.ReportingUnit"}
        devs = run.devices_by_precinct[pi]
        if devs:
            unit["ComposingGpUnitIds"] = [ids.device[(d.precinct, d.index)] for d in devs]
        unit.update({"ExternalIdentifier": _ext(p.id), "Name": _text(p.id), "Type": "precinct", "VotersParticipated": p.voters_arrived, "VotersRegistered": p.registered_voters})
        gp.append(unit)
    for d in run.devices:
        cls = {"@type": "ElectionResults.DeviceClass", "Manufacturer": "pollsim", "Model": d.kind}
        if d.kind in DEVICE_CLASS:
            cls["Type"] = DEVICE_CLASS[d.kind]
        else:
            cls["Type"], cls["OtherType"] = "other", d.kind
        gp.append({"@id": ids.device[(d.precinct, d.index)], "@type": "ElectionResults.ReportingDevice", "DeviceClass": cls, "SerialNumber": run.device_path(d)})

    n_counts = 0

    def vote_counts(column: int) -> list[dict]:
        nonlocal n_counts
        out = []
        for u, row in enumerate(units):
            for g, gv in group_votes.items():
                out.append({"@type": "ElectionResults.VoteCounts", "Count": int(gv[u, column]), "GpUnitId": row, "Type": g})
            out.append({"@type": "ElectionResults.VoteCounts", "Count": int(votes[u, column]), "GpUnitId": row, "Type": "total"})
        n_counts += len(out)
        return out

    completed = [{"@type": "ElectionResults.CountStatus", "Status": "completed", "Type": "total"}]
    candidates: list[dict[str, Any]] = []
    contests: list[dict[str, Any]] = []
    for ci, c in enumerate(el.contests):
        sl = el.contest_slices[c.id]
        selections = []
        for k, ch in enumerate(c.choices):
            sel: dict = {"@id": ids.selection[(c.id, ch.id)]}
            if c.kind == "measure":
                sel.update({"@type": "ElectionResults.BallotMeasureSelection", "ExternalIdentifier": _ext(ch.id), "Selection": _text(ch.name)})
            elif is_write_in(ch.id):
                sel.update({"@type": "ElectionResults.CandidateSelection", "IsWriteIn": True})
            else:
                cand: dict[str, Any] = {"@id": ids.candidate[(c.id, ch.id)], "@type": "ElectionResults.Candidate", "BallotName": _text(ch.name), "ExternalIdentifier": _ext(ch.id)}
                if ch.party:
                    cand["PartyId"] = ids.party[ch.party]
                candidates.append(cand)
                sel.update({"@type": "ElectionResults.CandidateSelection", "CandidateIds": [cand["@id"]]})
            sel["SequenceOrder"] = k + 1
            sel["VoteCounts"] = vote_counts(sl.start + k)
            selections.append(sel)
        write_in_cols = [sl.start + k for k, ch in enumerate(c.choices) if is_write_in(ch.id)]
        other = []
        for u, uv, ov, row in zip(units, under[:, ci].tolist(), over[:, ci].tolist(), range(len(units)), strict=True):
            oc: dict[str, Any] = {"@type": "ElectionResults.OtherCounts", "GpUnitId": u, "Overvotes": ov * c.vote_for, "Undervotes": uv}
            if write_in_cols:
                oc["WriteIns"] = int(votes[row, write_in_cols].sum())
            other.append(oc)
        contest: dict[str, Any] = {
            "@id": ids.contest[c.id],
            "@type": "ElectionResults.CandidateContest" if c.kind != "measure" else "ElectionResults.BallotMeasureContest",
            "BallotTitle": _text(c.title),
            "ContestSelection": selections,
            "CountStatus": completed,
            "ElectionDistrictId": ids.state,
            "ExternalIdentifier": _ext(c.id),
            "Name": c.title,
        }
        if c.kind != "measure":
            contest["NumberElected"] = c.vote_for
        contest["OtherCounts"] = other
        contest["SequenceOrder"] = ci + 1
        if c.kind == "measure":
            contest["Type"] = "ballot-measure"
        contest["VoteVariation"] = vote_variation(c.vote_for)
        if c.kind != "measure":
            contest["VotesAllowed"] = c.vote_for
        contests.append(contest)

    styles = []
    for st in el.ballot_styles:
        style_members = [ids.precinct[pi] for pi, sid in enumerate(run.precinct_styles) if sid == st.id]
        if style_members:
            styles.append(
                {
                    "@type": "ElectionResults.BallotStyle",
                    "ExternalIdentifier": _ext(st.id),
                    "GpUnitIds": style_members,
                    "OrderedContent": [{"@type": "ElectionResults.OrderedContest", "ContestId": ids.contest[cid]} for cid in st.contests if cid in ids.contest],
                }
            )
    etype = election_type(el.name, el.id)
    election = {
        "@type": "ElectionResults.Election",
        "BallotCounts": [
            {"@type": "ElectionResults.BallotCounts", "BallotsCast": int(b), "GpUnitId": u, "Type": g}
            for i, u in enumerate(units)
            for g, b in [*((g, gb[i]) for g, gb in group_ballots.items()), ("total", ballots[i])]
        ],
        "BallotStyle": styles,
        "Candidate": candidates,
        "Contest": contests,
        "CountStatus": completed,
        "ElectionScopeId": ids.state,
        "EndDate": el.date,
        "ExternalIdentifier": _ext(el.id),
        "Name": _text(el.name),
        **({"OtherType": el.name} if etype == "other" else {}),
        "StartDate": el.date,
        "Type": etype,
    }
    notes = (
        f"{provenance(run)}; "
        f"counts from the electronic records ({'ballots.npz, absentee.npz and the counted affidavit ballots' if groups else 'ballots.npz'} cvr layer); "
        f"election definition sha256 {run.definition_hash}"
    )
    write_document(
        fh,
        [
            ("@type", "ElectionResults.ElectionReport"),
            ("Format", "precinct-level"),
            ("GeneratedDate", generated_time(run)),
            ("IsTest", True),
            ("Issuer", "pollsim"),
            ("IssuerAbbreviation", "pollsim"),
            ("Notes", notes),
            ("SequenceEnd", 1),
            ("SequenceStart", 1),
            ("Status", "certified" if run.has_canvass else "unofficial-complete"),
            ("TestType", "pollsim simulation"),
            ("VendorApplicationId", f"pollsim {run.pollsim_version}".strip()),
            ("Party", [{"@id": ids.party[p], "@type": "ElectionResults.Party", "Abbreviation": _text(p), "Name": _text(party_name(p))} for p in ids.party_codes]),
            ("GpUnit", gp),
            ("Election", [election]),
        ],
    )
    return n_counts
