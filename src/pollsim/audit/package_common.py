"""What every audit package shares (§23-15-617: the audit's results are published so anyone can
check them): file texts and hashes, the contest and its assertions, the recount and the
§23-15-617.4 decisions, and the checks :func:`~pollsim.audit.package.verify_package` makes of
them whatever the audit's design (card-level, batch comparison, hybrid, ONEAudit).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from pathlib import Path

import numpy as np

from pollsim import __version__
from pollsim.audit.contest import ReportedOutcome
from pollsim.audit.designs import DesignAuditResult
from pollsim.audit.risk import KaplanMarkov
from pollsim.audit.rounds import AuditResult, Decision, RoundRecord, decide, draw_classes
from pollsim.files import csv_text

FORMAT = "pollsim-rla-package/1"
LAW = "Miss. Code §§23-15-617 to 23-15-617.5"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def num(x: float) -> str:
    return repr(float(x))


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def close(a: float, b: float) -> bool:
    return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def head(election_id: str, definition_sha256: str, run_sha256: str) -> dict:
    """The first keys of every audit.json."""
    return {
        "format": FORMAT,
        "pollsim_version": __version__,
        "law": LAW,
        "election": {"id": election_id, "definition_sha256": definition_sha256},
        "run_sha256": run_sha256,
    }


def package_doc(result: AuditResult | DesignAuditResult, ids: tuple[str, str, str], sampler: str, extra: dict, rounds_extra: list[dict] | None = None) -> dict:
    """audit.json (without the file hashes): the head (``ids``: election id, definition and run
    SHA-256), the design of an audit that fits the paper, the contests, method, risk limit, seed,
    ``sampler``, policy and boards, the design's ``extra`` keys, then rounds, decisions, workload."""
    doc = head(*ids)
    if isinstance(result, DesignAuditResult):
        doc["design"] = result.design
    doc.update({
        "contests": [contest_doc(o) for o in result.outcomes], "method": result.method_params, "risk_limit": result.risk_limit,
        "seed": result.seed, "sampler": sampler, "with_replacement": True, "policy": result.policy.to_dict(), "boards": result.boards.to_dict(),
    })  # fmt: skip
    doc.update(extra)
    doc.update({
        "rounds": rounds_doc(result.rounds, rounds_extra), "direct_to_count": list(result.direct_to_count),
        "decisions": [decision_dict(d) for d in result.decisions], "workload": result.workload,
    })  # fmt: skip
    return doc


def seal(files: dict[str, str], doc: dict) -> dict[str, str]:
    """The package's files with ``audit.json`` last, carrying every other file's SHA-256."""
    doc["files"] = {name: sha(text) for name, text in files.items()}
    files["audit.json"] = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return files


def contest_doc(o: ReportedOutcome) -> dict:
    return {**o.to_dict(), "assertions": [{"name": a.name, "margin": a.margin, "diluted_margin": a.diluted_margin} for a in o.assertions]}


def rounds_doc(rounds: list[RoundRecord], extra: list[dict] | None = None) -> list[dict]:
    """The rounds as audit.json lists them (``extra``: design-specific keys per round)."""
    out = []
    for i, rr in enumerate(rounds):
        d: dict = {"round": rr.round, "draws": rr.draws, "new_draws": rr.new_draws, "ballots_examined": rr.ballots_examined}
        d.update((extra or [{}] * len(rounds))[i])
        d.update({"confirmed": list(rr.confirmed), "risks": rr.risks})
        out.append(d)
    return out


def risk_rows(rounds: list[RoundRecord]) -> list[list]:
    return [[rr.round, rr.draws, c, a, num(rr.statistics[c][a]), num(rr.risks[c][a])] for rr in rounds for c in rr.risks for a in rr.risks[c]]


def recount_text(recount: dict[str, tuple[int, ...]], outcomes: list[ReportedOutcome]) -> str:
    by_id = {o.contest: o for o in outcomes}
    return csv_text(["contest", "choice", "reported", "recount"], [[c, ch, by_id[c].votes[i], votes[i]] for c, votes in recount.items() for i, ch in enumerate(by_id[c].choices)])


def discrepancy(outcome: ReportedOutcome, cvr: np.ndarray, mvr: np.ndarray, phantom: np.ndarray) -> np.ndarray:
    """Largest overstatement (votes) over the contest's assertions, per draw (phantom: 2)."""
    classes = draw_classes(KaplanMarkov(), outcome, cvr, mvr, phantom)
    return np.max(np.stack(list(classes.values())), axis=0) if len(phantom) else np.zeros(0, np.int8)


def decision_dict(d: Decision) -> dict:
    return {
        "contest": d.contest, "risk_limit_met": d.risk_limit_met, "measured_risk": d.measured_risk,
        "official_record": d.official_record, "full_manual_recount": d.full_hand_count,
        "reported_votes": d.reported_votes, "certified_votes": d.certified_votes,
        "reported_winners": list(d.reported_winners), "certified_winners": list(d.certified_winners),
        "recount_differs": d.recount_differs, "outcome_changed": d.outcome_changed, "statement": d.statement,
    }  # fmt: skip


# -- verification ---------------------------------------------------------------------------


def check_files(path: Path, doc: dict, problems: list[str]) -> dict[str, str]:
    """The texts of the files audit.json lists, each checked against its recorded SHA-256."""
    if doc.get("format") != FORMAT:
        problems.append(f"audit.json: format {doc.get('format')!r}, expected {FORMAT!r}")
    texts = {}
    for name, digest in doc["files"].items():
        try:
            texts[name] = (path / name).read_text(encoding="utf-8")
        except OSError:
            problems.append(f"{name}: missing")
            continue
        if sha(texts[name]) != digest:
            problems.append(f"{name}: SHA-256 {sha(texts[name])} does not match audit.json ({digest})")
    return texts


def check_contest(c: dict, ballots: int, problems: list[str]) -> ReportedOutcome:
    """The reported outcome of an audit.json contest, its winners, losers and assertions checked."""
    o = ReportedOutcome.from_dict(c)
    if o.ballots != ballots:
        problems.append(f"audit.json: contest {o.contest} counts {o.ballots} ballots, the manifest {ballots}")
    if [o.choices[i] for i in o.winners] != c["winners"] or [o.choices[i] for i in o.losers] != c["losers"]:
        problems.append(f"audit.json: contest {o.contest}: winners/losers do not follow from the reported votes")
    if [a["name"] for a in c["assertions"]] != [a.name for a in o.assertions] or any(
        a["margin"] != x.margin or not close(a["diluted_margin"], x.diluted_margin) for a, x in zip(c["assertions"], o.assertions, strict=False)
    ):
        problems.append(f"audit.json: contest {o.contest}: assertions or margins do not follow from the reported votes")
    return o


def check_risk_row(rec: dict | None, where: str, draws: int, stat: float, risk: float, recorded: float | None, problems: list[str]) -> None:
    """One assertion's risk in one round: risk.csv's row and audit.json's figure against the recomputed ones."""
    if rec is None or not close(float(rec["risk"]), risk) or not close(float(rec["statistic"]), stat) or int(rec["draws"]) != draws:
        problems.append(f"risk.csv: {where}: recorded {rec and (rec['statistic'], rec['risk'])}, recomputed ({stat!r}, {risk!r})")
    if not close(float(math.nan if recorded is None else recorded), risk):
        problems.append(f"audit.json: {where}: risk {recorded}, recomputed {risk!r}")


def check_round(recorded: dict, r: dict, cid: str, draws: int, m: dict[str, tuple[float, float]], problems: list[str]) -> float:
    """One round of one contest: each assertion's risk.csv row (``recorded``, keyed by round,
    contest, assertion) and audit.json figure against ``m`` ({assertion: (statistic, risk)});
    returns the contest's risk, the largest."""
    for a, (stat, risk) in m.items():
        check_risk_row(recorded.get((r["round"], cid, a)), f"round {r['round']} {cid} {a}", draws, stat, risk, r["risks"].get(cid, {}).get(a), problems)
    return max(v[1] for v in m.values())


def read_recount(path: Path, doc: dict, by_id: dict[str, ReportedOutcome], problems: list[str]) -> dict[str, list[int]]:
    recount: dict[str, list[int]] = {}
    if "recount.csv" in doc["files"]:
        for row in read_csv(path / "recount.csv"):
            o = by_id[row["contest"]]
            recount.setdefault(o.contest, [0] * len(o.choices))[o.choices.index(row["choice"])] = int(row["recount"])
            if int(row["reported"]) != o.votes[o.choices.index(row["choice"])]:
                problems.append(f"recount.csv: {row['contest']}/{row['choice']}: reported {row['reported']} is not the tabulation")
    return recount


def check_decisions(doc: dict, by_id: dict[str, ReportedOutcome], confirmed: set[str], risk_of: dict[str, float], recount: dict[str, list[int]], problems: list[str]) -> None:
    """Each recorded §23-15-617.4 decision against the one the confirmations and recount give."""
    for d in doc["decisions"]:
        cid = d["contest"]
        decision = decide(by_id[cid], cid in confirmed, risk_of[cid], tuple(recount[cid]) if cid in recount else None) if (cid in confirmed or cid in recount) else None
        if decision is None:
            problems.append(f"audit.json: {cid}: risk limit not met and no recount recorded")
            continue
        if decision_dict(decision) != {**d, "measured_risk": decision.measured_risk} or not close(d["measured_risk"], decision.measured_risk):
            problems.append(f"audit.json: decision for {cid} does not follow (recomputed: {decision.statement})")
    if sorted(d["contest"] for d in doc["decisions"]) != sorted(by_id):
        problems.append("audit.json: not one decision per contest")


def check_end(path: Path, doc: dict, outcome: ReportedOutcome, confirmed: bool, risk: float, planned: int, seen: int, recorded: dict, work: dict, problems: list[str]) -> None:
    """The end of a one-contest audit (batch, hybrid, ONEAudit): no extra risk.csv rows, no stop
    with rounds left unconfirmed, the recount and the decision, the workload ``work`` recomputed."""
    if seen != len(recorded):
        problems.append(f"risk.csv: {len(recorded)} rows, recomputed {seen}")
    if not confirmed and len(doc["rounds"]) < planned:
        problems.append(f"audit.json: the audit stopped after {len(doc['rounds'])} round(s) unconfirmed with rounds left")
    cid = outcome.contest
    recount = read_recount(path, doc, {cid: outcome}, problems)
    check_decisions(doc, {cid: outcome}, {cid} if confirmed else set(), {cid: risk}, recount, problems)
    if work != doc["workload"]:
        problems.append(f"audit.json: workload {doc['workload']} does not match the recomputed {work}")
