"""Planning a statewide audit that fits the paper each county has (§§23-15-617 to 617.5, with the
commissioners' §23-15-153 per diem; issue 16, item 3): ``pollsim audit plan RUN_DIR --contest ID
--risk-limit A``.

For the contest the Secretary of State chose, :func:`plan_audit` looks at every batch's equipment
and the evidence it gives (:mod:`.evidence`), simulates each statewide design the evidence
supports on the run's reported data (:mod:`.plan_designs`: ballot polling, batch comparison,
hybrid, ONEAudit, card-level comparison), and costs each simulated audit with the audit boards'
rates (:mod:`.boards`): ballots pulled one by one at ``audit_ballots_per_hour``, batches
hand-counted whole at ``recount_ballots_per_hour``, a full manual recount of every county at the
same counting rate when an audit escalates; county-days rounded up per county, five
commissioners at $110 a day. It proposes the available design with the lowest expected per diem
(ties: board-hours) and reports, per county, the strata and methods of that design and its
expected workload, with Monte Carlo quantiles (50/90/99 %) of the statewide figures for every
design. A design the evidence does not support is listed with the reason; when no paper is tied
to its CVR, the hybrid design is also shown *as if* the precinct scanners imprinted (a what-if
row, never proposed).
"""

from __future__ import annotations

import time

import numpy as np

from pollsim.audit.ballots import RunBallots
from pollsim.audit.boards import AuditBoards
from pollsim.audit.contest import blank_overvotes, outcome_from_votes
from pollsim.audit.designs import batch_tallies, check_risk_limit, one_contest
from pollsim.audit.errors import AuditError
from pollsim.audit.evidence import batch_evidence
from pollsim.audit.plan_designs import PlanData, Simulated, simulate_batch, simulate_card, simulate_hybrid, simulate_oneaudit, simulate_polling
from pollsim.audit.risk import O1
from pollsim.audit.rounds import RoundPolicy

DESIGNS = {
    "polling": ("ballot polling (BRAVO)", simulate_polling),
    "batch": ("batch comparison (MACRO)", simulate_batch),
    "hybrid": ("hybrid (SUITE: comparison + polling)", simulate_hybrid),
    "oneaudit": ("ONEAudit (CVRs + batch pools)", simulate_oneaudit),
    "card": ("card-level comparison (Kaplan-Markov)", simulate_card),
}
WHAT_IF = {"precinct-scanner": "card"}  # the hybrid what-if: precinct scanners that imprint
QUANTILES = (50, 90, 99)


def plan_data(ballots: RunBallots, contest: str, evidence: dict[str, str] | None) -> tuple[PlanData, tuple[str, ...]]:
    """(the contest's reported data, each batch's equipment) from a run's CVR layer."""
    reported = batch_tallies(ballots, contest)
    c = ballots.election.contest(contest)
    b = ballots.batches
    county_names = tuple(sorted(set(b.containers)))
    code = {x: i for i, x in enumerate(county_names)}
    ev = batch_evidence(ballots, evidence)
    outcome = outcome_from_votes(contest, c.kind, c.vote_for, tuple(ch.id for ch in c.choices), tuple(int(v) for v in reported.sum(axis=0)), ballots.n)
    block = blank_overvotes(np.asarray(ballots.cvr)[:, ballots.election.contest_slices[contest]], c.vote_for)
    data = PlanData(outcome, block, ballots.row_batch, reported, b.counts.astype(np.int64), np.array([code[x] for x in b.containers], np.int64), county_names, b.names, ev.level)
    return data, ev.equipment


def _why_not(key: str, level: tuple[str, ...]) -> str | None:
    levels = set(level)
    if key in ("batch", "oneaudit") and "paper" in levels:
        return "some paper has no batch tally"
    if key == "hybrid" and "card" not in levels:
        return "no paper is tied to its CVR (no card evidence)"
    if key == "card" and levels != {"card"}:
        return "not every ballot is tied to its CVR"
    return None


def _q(x: np.ndarray) -> dict:
    return {"mean": round(float(np.mean(x)), 2), **{str(q): round(float(np.percentile(x, q)), 2) for q in QUANTILES}}


def cost(sim: Simulated, d: PlanData, boards: AuditBoards) -> dict:
    """Board-hours, county-days and per diem of each simulated audit; quantiles and per-county means."""
    rate = boards.audit_ballots_per_hour if sim.counted == "ballots pulled" else boards.recount_ballots_per_hour
    per_day = boards.boards_per_county * boards.hours_per_day
    cards = np.bincount(d.batch_county, weights=d.batch_cards, minlength=len(d.counties))
    esc = sim.escalated.astype(float)
    days = np.ceil(sim.units / (per_day * rate) - 1e-9) + esc[:, None] * np.ceil(cards / (per_day * boards.recount_ballots_per_hour) - 1e-9)[None, :]
    hours = sim.units / rate + esc[:, None] * (cards / boards.recount_ballots_per_hour)[None, :]
    money = days * boards.commissioners_per_county * boards.per_diem
    out = {
        "first_round": sim.first,
        "counted": sim.counted,
        "escalated_share": round(float(sim.escalated.mean()), 4),
        "work": _q(sim.units.sum(axis=1)),
        "board_hours": _q(hours.sum(axis=1)),
        "county_days": _q(days.sum(axis=1)),
        "per_diem": _q(money.sum(axis=1)),
        "per_county": {
            name: {"work": round(float(sim.units[:, i].mean()), 2), "work_90": round(float(np.percentile(sim.units[:, i], 90)), 2),
                   "board_hours": round(float(hours[:, i].mean()), 2), "county_days": round(float(days[:, i].mean()), 2),
                   "per_diem": round(float(money[:, i].mean()), 2)}
            for i, name in enumerate(d.counties)
        },  # fmt: skip
    }
    if sim.batches is not None:
        out["batches"] = _q(sim.batches)
    return out


def _county_rows(d: PlanData, equipment: tuple[str, ...], key: str, per_county: dict) -> list[dict]:
    """The proposed design, county by county: equipment (evidence), methods, expected work."""
    rows = []
    for i, name in enumerate(d.counties):
        mine = np.flatnonzero(d.batch_county == i)
        kinds: dict[str, list] = {}
        for b in mine.tolist():
            row = kinds.setdefault(equipment[b], [0, 0, d.level[b]])
            row[0] += 1
            row[1] += int(d.batch_cards[b])
        levels = {d.level[b] for b in mine.tolist()}
        methods = {
            "polling": ["ballot polling"], "batch": ["batch comparison"], "card": ["card-level comparison"],
            "hybrid": (["comparison"] if "card" in levels else []) + (["polling"] if levels - {"card"} else []),
            "oneaudit": (["CVRs"] if "card" in levels else []) + (["pools"] if levels - {"card"} else []),
        }[key]  # fmt: skip
        rows.append({"county": name, "equipment": {k: {"batches": v[0], "cards": v[1], "evidence": v[2]} for k, v in sorted(kinds.items())},
                     "methods": methods, **per_county[name]})  # fmt: skip
    return rows


def plan_audit(
    ballots: RunBallots, contest: str, risk_limit: float, *, evidence: dict[str, str] | None = None, boards: AuditBoards | None = None,
    policy: RoundPolicy | None = None, trials: int = 400, seed: int = 0, o1: float = O1,
) -> dict:  # fmt: skip
    """Simulate and cost every statewide design for ``contest``; propose one (see the module doc).

    Returns a JSON-able dict: the contest, ballots, batches, counties, the evidence, ``designs``
    (one entry per design: ``available``, or ``why`` not; its round-1 size and quantiles of work,
    board-hours, county-days, per diem, escalation share, per-county means), ``proposed`` (the
    design's key) and ``counties`` (the proposed design per county), ``seconds``.
    """
    t0 = time.perf_counter()
    cid, risk_limit = one_contest(contest, "planned"), check_risk_limit(risk_limit)
    if trials < 1:
        raise AuditError(f"trials {trials}: at least one simulated audit per design")
    boards, policy = boards or AuditBoards(), policy or RoundPolicy()
    d, equipment = plan_data(ballots, cid, evidence)
    seeds = np.random.SeedSequence(seed).spawn(len(DESIGNS) + 1)
    designs: list[dict] = []
    for (key, (name, simulate)), ss in zip(DESIGNS.items(), seeds, strict=False):
        why = _why_not(key, d.level)
        if why is None:
            sim = simulate(d, risk_limit, policy, trials, np.random.default_rng(ss), o1)
            designs.append({"design": key, "name": name, "available": True, **cost(sim, d, boards)})
        else:
            designs.append({"design": key, "name": name, "available": False, "why": why})
    if "card" not in d.level and "precinct-scanner" in equipment:
        wd, _ = plan_data(ballots, cid, {**(evidence or {}), **WHAT_IF})
        sim = simulate_hybrid(wd, risk_limit, policy, trials, np.random.default_rng(seeds[-1]), o1)
        designs.append({"design": "hybrid-if-imprinting", "name": "hybrid, if precinct scanners imprinted (what-if)", "available": True, "what_if": dict(WHAT_IF), **cost(sim, wd, boards)})
    choices = [x for x in designs if x["available"] and "what_if" not in x]
    best = min(choices, key=lambda x: (x["per_diem"]["mean"], x["board_hours"]["mean"]))
    levels = {eq: lv for eq, lv in zip(equipment, d.level, strict=True)}
    return {
        "contest": cid,
        "risk_limit": risk_limit,
        "ballots": int(d.batch_cards.sum()),
        "batches": len(d.batch_cards),
        "counties": len(d.counties),
        "reported_winners": [d.outcome.choices[i] for i in d.outcome.winners],
        "diluted_margin": min(a.diluted_margin for a in d.outcome.assertions),
        "evidence": {eq: levels[eq] for eq in sorted(levels)},
        "trials": trials,
        "planning_rate_o1": o1,
        "boards": boards.to_dict(),
        "designs": designs,
        "proposed": best["design"],
        "county_plan": _county_rows(d, equipment, best["design"], best["per_county"]),
        "seconds": round(time.perf_counter() - t0, 2),
    }


def _n(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 or x == int(x) else f"{x:,.1f}"


def plan_text(doc: dict) -> str:
    """The plan as ``pollsim audit plan`` prints it: the designs compared, then the proposed design per county."""
    lines = [
        f"Audit plan: {doc['contest']}, risk limit {doc['risk_limit']:g}; {doc['ballots']:,} ballots in {doc['batches']:,} batches, "
        f"{doc['counties']} counties; winners {', '.join(doc['reported_winners'])}, smallest diluted margin {doc['diluted_margin']:.4f}",
        "evidence: " + "; ".join(f"{k}: {v}" for k, v in doc["evidence"].items()) + f"; {doc['trials']:,} simulated audits per design (planning rate o1 {doc['planning_rate_o1']:g})",
        "",
        f"{'design':<48} {'round 1':>22} {'work p50 / p90 / p99':>30} {'board-hours p50/p90':>20} {'per diem p50 / p90':>22} {'full count':>10}",
    ]  # fmt: skip
    for x in doc["designs"]:
        mark = "*" if x["design"] == doc["proposed"] else " "
        if not x["available"]:
            lines.append(f"{mark}{x['name']:<47} not available: {x['why']}")
            continue
        w, h, m = x["work"], x["board_hours"], x["per_diem"]
        unit = "batches" if "batches" in x else "ballots"
        work = f"{_n(x['batches']['50'])} / {_n(x['batches']['90'])} / {_n(x['batches']['99'])} {unit}" if "batches" in x else f"{_n(w['50'])} / {_n(w['90'])} / {_n(w['99'])} {unit}"
        lines.append(f"{mark}{x['name']:<47} {x['first_round']:>22} {work:>30} {_n(h['50']) + ' / ' + _n(h['90']):>20} "
                     f"{'$' + _n(m['50']) + ' / $' + _n(m['90']):>22} {x['escalated_share']:>10.1%}")  # fmt: skip
    best = next(x for x in doc["designs"] if x["design"] == doc["proposed"])
    lines += ["", f"proposed (*): {best['name']}: the lowest expected per diem (${_n(best['per_diem']['mean'])}; {_n(best['board_hours']['mean'])} board-hours)", ""]
    lines.append(f"{'county':<16} {'equipment (evidence): batches, ballots':<58} {'methods':<24} {'expected ' + best['counted']:>26} {'p90':>8} {'board-h':>8} {'days':>6} {'per diem':>10}")
    for r in doc["county_plan"]:
        eq = "; ".join(f"{k} ({v['evidence']}): {v['batches']:,}, {v['cards']:,}" for k, v in r["equipment"].items())
        lines.append(f"{r['county']:<16} {eq:<58} {' + '.join(r['methods']):<24} {_n(r['work']):>26} {_n(r['work_90']):>8} {_n(r['board_hours']):>8} {r['county_days']:>6.2f} {'$' + _n(r['per_diem']):>10}")
    lines.append(f"({doc['seconds']:g} s)")
    return "\n".join(lines)
