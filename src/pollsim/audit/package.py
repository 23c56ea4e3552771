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

import json
from pathlib import Path

import numpy as np

from pollsim.audit.batch_audit import BatchAuditResult
from pollsim.audit.boards import AuditBoards
from pollsim.audit.contest import parse_votes, vote_string
from pollsim.audit.manifest import BallotManifest, parse_manifest_csv
from pollsim.audit.package_batch import batch_package_files, verify_batch
from pollsim.audit.package_common import check_contest, check_decisions, check_files, check_round, csv_text, discrepancy, package_doc, read_csv, read_recount, recount_text, risk_rows, seal
from pollsim.audit.package_strata import strata_package_files, verify_strata
from pollsim.audit.risk import risk_function
from pollsim.audit.rounds import AuditResult, RoundPolicy, draw_classes, measure, plan, workload
from pollsim.audit.sampling import make_sampler
from pollsim.audit.strata_audit import StrataAuditResult

AnyAuditResult = AuditResult | BatchAuditResult | StrataAuditResult

FILES = ("manifest.csv", "sample.csv", "comparisons.csv", "risk.csv", "recount.csv")


def package_files(result: AnyAuditResult, election_id: str = "", definition_sha256: str = "", run_sha256: str = "") -> dict[str, str]:
    """The package's files as text, ``audit.json`` last (it carries the others' hashes); a batch,
    hybrid or ONEAudit result has its own files (:mod:`.package_batch`, :mod:`.package_strata`)."""
    if isinstance(result, BatchAuditResult):
        return batch_package_files(result, election_id, definition_sha256, run_sha256)
    if isinstance(result, StrataAuditResult):
        return strata_package_files(result, election_id, definition_sha256, run_sha256)
    m = result.manifest
    files: dict[str, str] = {"manifest.csv": m.to_csv()}
    batch, position = m.locate(result.sample.cards)
    tickets = result.sample.tickets or ("",) * len(result.sample)
    files["sample.csv"] = csv_text(
        ["draw", "round", "batch", "position", "ticket", "times_drawn"],
        [[i + 1, int(r), m.batch_names[b], p, t, k] for i, (r, b, p, t, k) in enumerate(zip(result.draw_round.tolist(), batch.tolist(), position.tolist(), tickets, result.sample.times_drawn.tolist(), strict=True))],
    )
    rows = []
    disc = {o.contest: discrepancy(o, result.cvr_blocks[o.contest], result.mvr_blocks[o.contest], result.phantom) for o in result.outcomes}
    for i in range(len(result.sample)):
        for o in result.outcomes:
            rows.append([
                i + 1, int(result.draw_round[i]), m.batch_names[batch[i]], int(position[i]), o.contest, int(result.phantom[i]),
                vote_string(result.cvr_blocks[o.contest][i], o.choices), vote_string(result.mvr_blocks[o.contest][i], o.choices), int(disc[o.contest][i]),
            ])  # fmt: skip
    files["comparisons.csv"] = csv_text(["draw", "round", "batch", "position", "contest", "phantom", "cvr", "mvr", "discrepancy"], rows)
    files["risk.csv"] = csv_text(["round", "draws", "contest", "assertion", "statistic", "risk"], risk_rows(result.rounds))
    if result.recount:
        files["recount.csv"] = recount_text(result.recount, result.outcomes)
    manifest = {
        "file": "manifest.csv", "sha256": m.sha256, "batches": len(m.batch_names), "ballots": m.total,
        "phantoms": {m.batch_names[b]: int(result.phantoms[b]) for b in np.flatnonzero(result.phantoms).tolist()},
    }  # fmt: skip
    return seal(files, package_doc(result, (election_id, definition_sha256, run_sha256), result.sampler, {"manifest": manifest}))


# -- verification ---------------------------------------------------------------------------


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
    design = doc.get("design", "card") if isinstance(doc, dict) else "card"
    check = {"card": _verify, "batch": verify_batch, "hybrid": verify_strata, "oneaudit": verify_strata}.get(design)
    if check is None:
        return False, [f"{path / 'audit.json'}: unknown audit design {design!r}"]
    try:
        check(path, doc, problems)
    except Exception as exc:  # a malformed package is a failed verification, not a crash
        problems.append(f"{path}: malformed package ({type(exc).__name__}: {exc})")
    return not problems, problems


def _verify(path: Path, doc: dict, problems: list[str]) -> None:
    texts = check_files(path, doc, problems)
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
    outcomes = [check_contest(c, manifest.total, problems) for c in doc["contests"]]
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
    sample_rows = read_csv(path / "sample.csv")
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
    comp = read_csv(path / "comparisons.csv")
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
        recomputed = discrepancy(by_id[cid], cvr[cid], mvr[cid], phantom)
        bad = np.flatnonzero(recomputed != disc[cid])
        if len(bad):
            problems.append(f"comparisons.csv: draw {int(bad[0]) + 1} contest {cid}: discrepancy {int(disc[cid][bad[0]])}, recomputed {int(recomputed[bad[0]])}")
    recorded_risks = {(int(r["round"]), r["contest"], r["assertion"]): r for r in read_csv(path / "risk.csv")}
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
            seen += len(m)
            risk_of[cid] = check_round(recorded_risks, r, cid, end, m, problems)
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
    if seen != len(recorded_risks):
        problems.append(f"risk.csv: {len(recorded_risks)} rows, recomputed {seen}")
    if active and len(doc["rounds"]) < len(ends):
        problems.append(f"audit.json: the audit stopped after {len(doc['rounds'])} round(s) with {active} unconfirmed and rounds left")

    # decisions
    recount = read_recount(path, doc, by_id, problems)
    check_decisions(doc, by_id, confirmed, risk_of, recount, problems)

    # workload
    boards = AuditBoards(**doc["boards"])
    want_work = workload(boards, manifest, phantoms, cards, phantom, bool(recount))
    if want_work != doc["workload"]:
        problems.append(f"audit.json: workload {doc['workload']} does not match the recomputed {want_work}")


def load_manifest(path: Path) -> BallotManifest:
    """The manifest of a package."""
    return parse_manifest_csv((Path(path) / "manifest.csv").read_text(encoding="utf-8"), str(Path(path) / "manifest.csv"))
