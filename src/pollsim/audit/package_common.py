"""What every audit package shares (§23-15-617: the audit's results are published so anyone can
check them): file texts and hashes, the contest and its assertions, the recount and the
§23-15-617.4 decisions, and the checks :func:`~pollsim.audit.package.verify_package` makes of
them whatever the audit's design (card-level, batch comparison, hybrid, ONEAudit).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from pathlib import Path

import numpy as np

from pollsim import __version__
from pollsim.audit.contest import ReportedOutcome
from pollsim.audit.risk import KaplanMarkov
from pollsim.audit.rounds import Decision, RoundRecord, decide, draw_classes

FORMAT = "pollsim-rla-package/1"
LAW = "Miss. Code §§23-15-617 to 23-15-617.5"


def csv_text(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


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
