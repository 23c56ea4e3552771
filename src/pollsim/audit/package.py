"""The audit package: what the commissioners publish so anyone can check the audit (§23-15-617).

Results of the audit are published within 3 days. pollsim writes a directory that holds
everything needed to recompute every number of the audit without the run or the CVR files:

- ``audit.json``: the law, the election (id and definition hash), the contests with their
  reported votes (the machine tabulation), winners, losers and assertions; the method and its
  parameters; the risk limit; the public seed and the sampler; the round policy; the audit
  boards' parameters; the manifest's SHA-256 and its phantoms per batch; each round (draws,
  ballots examined, the risk of every assertion, the contests confirmed); the §23-15-617.4
  decision per contest; labour and per diem; and the SHA-256 of every other file.
- ``manifest.csv``: the ballot manifest (``Container,Tabulator,Batch Name,Number of Ballots``).
- ``sample.csv``: every draw in order: ``draw,round,batch,position,ticket,times_drawn``.
- ``comparisons.csv``: every draw x contest: the electronic record and the audit board's manual
  record of that ballot (choices joined by ``+``; empty: no vote), whether it is a phantom, and
  the discrepancy (the largest overstatement over the contest's assertions, in votes).
- ``risk.csv``: the risk trace: for each round and assertion, the test statistic (max T so far)
  and the measured risk.
- ``recount.csv`` (when a contest went to a full manual recount): reported and recounted votes.

:func:`verify_package` recomputes from the package alone: the manifest's hash; the reported
outcome and its assertions; the round sizes; the whole sample from the seed; every
discrepancy, statistic and risk from the recorded records; the decisions; the workload; and the
hash of every file. A single changed digit anywhere makes it fail.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from pathlib import Path

import numpy as np

from pollsim import __version__
from pollsim.audit.boards import AuditBoards
from pollsim.audit.contest import ReportedOutcome, parse_votes, vote_string
from pollsim.audit.manifest import BallotManifest, parse_manifest_csv
from pollsim.audit.risk import KaplanMarkov, risk_function
from pollsim.audit.rounds import AuditResult, RoundPolicy, decide, draw_classes, measure, plan, workload
from pollsim.audit.sampling import make_sampler

FORMAT = "pollsim-rla-package/1"
LAW = "Miss. Code §§23-15-617 to 23-15-617.5"
FILES = ("manifest.csv", "sample.csv", "comparisons.csv", "risk.csv", "recount.csv")


def _csv(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _num(x: float) -> str:
    return repr(float(x))


def _discrepancy(outcome: ReportedOutcome, cvr: np.ndarray, mvr: np.ndarray, phantom: np.ndarray) -> np.ndarray:
    """Largest overstatement (votes) over the contest's assertions, per draw (phantom: 2)."""
    classes = draw_classes(KaplanMarkov(), outcome, cvr, mvr, phantom)
    return np.max(np.stack(list(classes.values())), axis=0) if len(phantom) else np.zeros(0, np.int8)


def package_files(result: AuditResult, election_id: str = "", definition_sha256: str = "", run_sha256: str = "") -> dict[str, str]:
    """The package's files as text, ``audit.json`` last (it carries the others' hashes)."""
    m = result.manifest
    files: dict[str, str] = {"manifest.csv": m.to_csv()}
    batch, position = m.locate(result.sample.cards)
    tickets = result.sample.tickets or ("",) * len(result.sample)
    files["sample.csv"] = _csv(
        ["draw", "round", "batch", "position", "ticket", "times_drawn"],
        [[i + 1, int(r), m.batch_names[b], p, t, k] for i, (r, b, p, t, k) in enumerate(zip(result.draw_round.tolist(), batch.tolist(), position.tolist(), tickets, result.sample.times_drawn.tolist(), strict=True))],
    )
    rows = []
    disc = {o.contest: _discrepancy(o, result.cvr_blocks[o.contest], result.mvr_blocks[o.contest], result.phantom) for o in result.outcomes}
    for i in range(len(result.sample)):
        for o in result.outcomes:
            rows.append([
                i + 1, int(result.draw_round[i]), m.batch_names[batch[i]], int(position[i]), o.contest, int(result.phantom[i]),
                vote_string(result.cvr_blocks[o.contest][i], o.choices), vote_string(result.mvr_blocks[o.contest][i], o.choices), int(disc[o.contest][i]),
            ])  # fmt: skip
    files["comparisons.csv"] = _csv(["draw", "round", "batch", "position", "contest", "phantom", "cvr", "mvr", "discrepancy"], rows)
    files["risk.csv"] = _csv(
        ["round", "draws", "contest", "assertion", "statistic", "risk"],
        [[rr.round, rr.draws, c, a, _num(rr.statistics[c][a]), _num(rr.risks[c][a])] for rr in result.rounds for c in rr.risks for a in rr.risks[c]],
    )
    if result.recount:
        by_id = {o.contest: o for o in result.outcomes}
        files["recount.csv"] = _csv(
            ["contest", "choice", "reported", "recount"],
            [[c, ch, by_id[c].votes[i], votes[i]] for c, votes in result.recount.items() for i, ch in enumerate(by_id[c].choices)],
        )
    doc = {
        "format": FORMAT,
        "pollsim_version": __version__,
        "law": LAW,
        "election": {"id": election_id, "definition_sha256": definition_sha256},
        "run_sha256": run_sha256,
        "contests": [{**o.to_dict(), "assertions": [{"name": a.name, "margin": a.margin, "diluted_margin": a.diluted_margin} for a in o.assertions]} for o in result.outcomes],
        "method": result.method_params,
        "risk_limit": result.risk_limit,
        "seed": result.seed,
        "sampler": result.sampler,
        "with_replacement": True,
        "policy": result.policy.to_dict(),
        "boards": result.boards.to_dict(),
        "manifest": {
            "file": "manifest.csv", "sha256": m.sha256, "batches": len(m.batch_names), "ballots": m.total,
            "phantoms": {m.batch_names[b]: int(result.phantoms[b]) for b in np.flatnonzero(result.phantoms).tolist()},
        },  # fmt: skip
        "rounds": [
            {"round": rr.round, "draws": rr.draws, "new_draws": rr.new_draws, "ballots_examined": rr.ballots_examined,
             "confirmed": list(rr.confirmed), "risks": rr.risks}
            for rr in result.rounds
        ],  # fmt: skip
        "direct_to_count": list(result.direct_to_count),
        "decisions": [_decision_dict(d) for d in result.decisions],
        "workload": result.workload,
    }
    doc["files"] = {name: _sha(text) for name, text in files.items()}
    files["audit.json"] = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return files


def _decision_dict(d) -> dict:
    return {
        "contest": d.contest, "risk_limit_met": d.risk_limit_met, "measured_risk": d.measured_risk,
        "official_record": d.official_record, "full_manual_recount": d.full_hand_count,
        "reported_votes": d.reported_votes, "certified_votes": d.certified_votes,
        "reported_winners": list(d.reported_winners), "certified_winners": list(d.certified_winners),
        "recount_differs": d.recount_differs, "outcome_changed": d.outcome_changed, "statement": d.statement,
    }  # fmt: skip


# -- verification ---------------------------------------------------------------------------


def _read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _close(a: float, b: float) -> bool:
    return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def verify_package(path: Path) -> tuple[bool, list[str]]:
    """Recompute every number of an audit package from the package alone.

    Returns (ok, problems); each problem is one line naming the file and what disagrees.
    """
    path = Path(path)
    problems: list[str] = []
    try:
        doc = json.loads((path / "audit.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return False, [f"{path / 'audit.json'}: unreadable ({exc})"]
    try:
        _verify(path, doc, problems)
    except Exception as exc:  # a malformed package is a failed verification, not a crash
        problems.append(f"{path}: malformed package ({type(exc).__name__}: {exc})")
    return not problems, problems


def _verify(path: Path, doc: dict, problems: list[str]) -> None:
    if doc.get("format") != FORMAT:
        problems.append(f"audit.json: format {doc.get('format')!r}, expected {FORMAT!r}")
    texts = {}
    for name, digest in doc["files"].items():
        try:
            texts[name] = (path / name).read_text(encoding="utf-8")
        except OSError:
            problems.append(f"{name}: missing")
            continue
        if _sha(texts[name]) != digest:
            problems.append(f"{name}: SHA-256 {_sha(texts[name])} does not match audit.json ({digest})")
    if "manifest.csv" not in texts:
        return
    manifest = parse_manifest_csv(texts["manifest.csv"], str(path / "manifest.csv"))
    if manifest.sha256 != doc["manifest"]["sha256"]:
        problems.append(f"manifest.csv: SHA-256 {manifest.sha256} is not the published {doc['manifest']['sha256']}")
    if manifest.total != doc["manifest"]["ballots"]:
        problems.append(f"manifest.csv: {manifest.total} ballots, audit.json says {doc['manifest']['ballots']}")
    phantoms = np.zeros(len(manifest.batch_names), np.int64)
    for name, n in doc["manifest"]["phantoms"].items():
        phantoms[manifest.index[name]] = int(n)

    # reported outcomes and assertions
    outcomes = []
    for c in doc["contests"]:
        o = ReportedOutcome.from_dict(c)
        outcomes.append(o)
        if o.ballots != manifest.total:
            problems.append(f"audit.json: contest {o.contest} counts {o.ballots} ballots, the manifest {manifest.total}")
        if [o.choices[i] for i in o.winners] != c["winners"] or [o.choices[i] for i in o.losers] != c["losers"]:
            problems.append(f"audit.json: contest {o.contest}: winners/losers do not follow from the reported votes")
        if [a["name"] for a in c["assertions"]] != [a.name for a in o.assertions] or any(
            a["margin"] != x.margin or not _close(a["diluted_margin"], x.diluted_margin) for a, x in zip(c["assertions"], o.assertions, strict=False)
        ):
            problems.append(f"audit.json: contest {o.contest}: assertions or margins do not follow from the reported votes")
    by_id = {o.contest: o for o in outcomes}

    # rounds
    fn = risk_function(doc["method"]["method"], doc["method"])
    risk_limit = float(doc["risk_limit"])
    policy = RoundPolicy(**doc["policy"])
    ends, direct = plan(fn, outcomes, risk_limit, policy, manifest.total)
    recorded_ends = [r["draws"] for r in doc["rounds"]]
    if recorded_ends != ends[: len(recorded_ends)] or sorted(direct) != sorted(doc["direct_to_count"]):
        problems.append(f"audit.json: rounds {recorded_ends} (direct to count {doc['direct_to_count']}) do not follow the policy: {ends} (direct {direct})")

    # the sample
    sample_rows = _read_csv(path / "sample.csv")
    total = recorded_ends[-1] if recorded_ends else 0
    if len(sample_rows) != total:
        problems.append(f"sample.csv: {len(sample_rows)} draws, the rounds say {total}")
    expected = make_sampler(doc["sampler"], manifest, doc["seed"]).draws(total) if total else None
    round_of = np.zeros(total, np.int64)
    for r in doc["rounds"]:
        round_of[r["draws"] - r["new_draws"] : r["draws"]] = r["round"]
    if expected is not None:
        for i, (row, want) in enumerate(zip(sample_rows, expected.rows(manifest), strict=False)):
            got = (row["batch"], int(row["position"]), row["ticket"] or None, int(row["times_drawn"]), int(row["round"]), int(row["draw"]))
            exp = (want["batch"], want["position"], want["ticket"], want["times_drawn"], int(round_of[i]), i + 1)
            if got != exp:
                problems.append(f"sample.csv:{i + 2}: draw {got} is not the seed's draw {exp}")
                break

    # comparisons -> classes -> risks
    comp = _read_csv(path / "comparisons.csv")
    contests = [o.contest for o in outcomes]
    if len(comp) != total * len(contests):
        problems.append(f"comparisons.csv: {len(comp)} rows, expected {total} draws x {len(contests)} contests")
        return
    cvr = {c: np.zeros((total, len(by_id[c].choices)), np.uint8) for c in contests}
    mvr = {c: np.zeros((total, len(by_id[c].choices)), np.uint8) for c in contests}
    phantom = np.zeros(total, bool)
    disc = {c: np.zeros(total, np.int64) for c in contests}
    cards = np.zeros(total, np.int64)
    for k, row in enumerate(comp):
        i, c = divmod(k, len(contests))
        cid = contests[c]
        line = k + 2
        if row["contest"] != cid or int(row["draw"]) != i + 1:
            problems.append(f"comparisons.csv:{line}: expected draw {i + 1}, contest {cid}")
            return
        if i < len(sample_rows) and (row["batch"], row["position"]) != (sample_rows[i]["batch"], sample_rows[i]["position"]):
            problems.append(f"comparisons.csv:{line}: ballot {row['batch']} #{row['position']} is not draw {i + 1} of sample.csv")
        b = manifest.index[row["batch"]]
        pos = int(row["position"])
        cards[i] = manifest.offsets[b] + pos - 1
        is_ph = pos > manifest.counts[b] - phantoms[b]
        if bool(int(row["phantom"])) != is_ph:
            problems.append(f"comparisons.csv:{line}: phantom flag {row['phantom']} disagrees with the manifest's phantoms")
        phantom[i] = is_ph
        cvr[cid][i] = parse_votes(row["cvr"], by_id[cid].choices)
        mvr[cid][i] = parse_votes(row["mvr"], by_id[cid].choices)
        disc[cid][i] = int(row["discrepancy"])
    for cid in contests:
        recomputed = _discrepancy(by_id[cid], cvr[cid], mvr[cid], phantom)
        bad = np.flatnonzero(recomputed != disc[cid])
        if len(bad):
            problems.append(f"comparisons.csv: draw {int(bad[0]) + 1} contest {cid}: discrepancy {int(disc[cid][bad[0]])}, recomputed {int(recomputed[bad[0]])}")
    risk_rows = {(int(r["round"]), r["contest"], r["assertion"]): r for r in _read_csv(path / "risk.csv")}
    active = [c for c in contests if c not in direct]
    risk_of = {c: 1.0 for c in contests}
    confirmed: set[str] = set()
    seen = 0
    for r in doc["rounds"]:
        end = r["draws"]
        newly = []
        recorded = r["risks"]
        if sorted(recorded) != sorted(active):
            problems.append(f"audit.json: round {r['round']} measures {sorted(recorded)}, expected {sorted(active)}")
        for cid in list(active):
            o = by_id[cid]
            m = measure(fn, o, draw_classes(fn, o, cvr[cid], mvr[cid], phantom), end)
            for a, (stat, risk) in m.items():
                rec = risk_rows.get((r["round"], cid, a))
                seen += 1
                if rec is None or not _close(float(rec["risk"]), risk) or not _close(float(rec["statistic"]), stat) or int(rec["draws"]) != end:
                    problems.append(f"risk.csv: round {r['round']} {cid} {a}: recorded {rec and (rec['statistic'], rec['risk'])}, recomputed ({stat!r}, {risk!r})")
                if not _close(float(recorded.get(cid, {}).get(a, math.nan)), risk):
                    problems.append(f"audit.json: round {r['round']} {cid} {a}: risk {recorded.get(cid, {}).get(a)}, recomputed {risk!r}")
            risk_of[cid] = max(v[1] for v in m.values())
            if risk_of[cid] <= risk_limit:
                newly.append(cid)
        for cid in newly:
            active.remove(cid)
            confirmed.add(cid)
        if sorted(r["confirmed"]) != sorted(newly):
            problems.append(f"audit.json: round {r['round']} confirms {r['confirmed']}, recomputed {newly}")
        distinct = len(set(cards[:end].tolist()))
        if r["ballots_examined"] != distinct:
            problems.append(f"audit.json: round {r['round']}: {r['ballots_examined']} ballots examined, the sample has {distinct}")
    if seen != len(risk_rows):
        problems.append(f"risk.csv: {len(risk_rows)} rows, recomputed {seen}")
    if active and len(doc["rounds"]) < len(ends):
        problems.append(f"audit.json: the audit stopped after {len(doc['rounds'])} round(s) with {active} unconfirmed and rounds left")

    # decisions
    recount: dict[str, list[int]] = {}
    if "recount.csv" in doc["files"]:
        for row in _read_csv(path / "recount.csv"):
            o = by_id[row["contest"]]
            recount.setdefault(o.contest, [0] * len(o.choices))[o.choices.index(row["choice"])] = int(row["recount"])
            if int(row["reported"]) != o.votes[o.choices.index(row["choice"])]:
                problems.append(f"recount.csv: {row['contest']}/{row['choice']}: reported {row['reported']} is not the tabulation")
    for d in doc["decisions"]:
        cid = d["contest"]
        decision = decide(by_id[cid], cid in confirmed, risk_of[cid], tuple(recount[cid]) if cid in recount else None) if (cid in confirmed or cid in recount) else None
        if decision is None:
            problems.append(f"audit.json: {cid}: risk limit not met and no recount recorded")
            continue
        if _decision_dict(decision) != {**d, "measured_risk": decision.measured_risk} or not _close(d["measured_risk"], decision.measured_risk):
            problems.append(f"audit.json: decision for {cid} does not follow (recomputed: {decision.statement})")
    if sorted(d["contest"] for d in doc["decisions"]) != sorted(contests):
        problems.append("audit.json: not one decision per contest")

    # workload
    boards = AuditBoards(**doc["boards"])
    want_work = workload(boards, manifest, phantoms, cards, phantom, bool(recount))
    if want_work != doc["workload"]:
        problems.append(f"audit.json: workload {doc['workload']} does not match the recomputed {want_work}")


def load_manifest(path: Path) -> BallotManifest:
    """The manifest of a package."""
    return parse_manifest_csv((Path(path) / "manifest.csv").read_text(encoding="utf-8"), str(Path(path) / "manifest.csv"))
