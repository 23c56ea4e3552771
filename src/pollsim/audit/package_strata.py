"""The package of a hybrid (SUITE-style) or ONEAudit audit (§23-15-617: published so anyone can
check it), and its verification from the package alone.

Files (``audit.json`` last, with every other file's SHA-256):

- ``batches.csv``: the run's manifest with each batch's evidence: ``batch, county, tabulator,
  equipment, evidence, stratum, cards`` and its reported votes (``reported:CHOICE``); a
  stratum's manifest is its rows in this order (hybrid: ``card`` and ``poll``; ONEAudit: one
  manifest of all batches, ``cvr`` batches keep their CVRs, ``pool`` batches are pools);
- ``sample.csv``: every draw of every stratum: ``stratum, draw, round, batch, position, ticket,
  times_drawn`` (draws numbered within the stratum's stream; the ticket is empty for the
  ColoradoRLA-style sampler);
- ``comparisons.csv``: ``stratum, draw, batch, position, contest, cvr, mvr, discrepancy``: the
  CVR where the design uses one (empty for polling and pool draws), the boards' reading, and the
  largest overstatement over the assertions (votes) where there is a CVR;
- ``risk.csv``: ``round, draws, contest, assertion, statistic, risk``;
- ``recount.csv`` after a full manual recount.

:func:`verify_strata` recomputes each batch's stratum from the evidence table, the reported
outcome and the strata's figures from the batch tallies, the round sizes, every draw from the
seed, the discrepancies, every P-value (SUITE's over beta, or ONEAudit's with its bets), the
decision and the workload.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pollsim.audit.boards import AuditBoards
from pollsim.audit.contest import ReportedOutcome, outcome_from_votes, parse_votes, vote_string
from pollsim.audit.manifest import BallotManifest
from pollsim.audit.package_common import check_contest, check_end, check_files, check_round, csv_text, discrepancy, package_doc, read_csv, recount_text, risk_rows, seal
from pollsim.audit.rounds import RoundPolicy
from pollsim.audit.sampling import Sample, make_sampler
from pollsim.audit.strata_audit import (
    STRATA,
    StrataAuditResult,
    draw_values,
    hybrid_schedule,
    hybrid_strata,
    measure_hybrid,
    measure_oneaudit,
    one_audit_contests,
    oneaudit_schedule,
    pool_index,
    strata_of,
    strata_workload,
    stratum_seed,
    sub_manifest,
)

FIXED = ["batch", "county", "tabulator", "equipment", "evidence", "stratum", "cards"]
USES_CVR = ("card", "cvr")  # strata whose draws are compared with their own CVR


def strata_package_files(result: StrataAuditResult, election_id: str = "", definition_sha256: str = "", run_sha256: str = "") -> dict[str, str]:
    """The package's files as text, ``audit.json`` last."""
    m, [o] = result.manifest, result.outcomes
    files = {
        "batches.csv": csv_text(
            FIXED + [f"reported:{c}" for c in o.choices],
            [[m.batch_names[b], m.containers[b], m.tabulators[b], result.equipment[b], result.evidence["table"][result.equipment[b]],
              result.stratum_of[b], int(m.counts[b]), *result.reported[b].tolist()] for b in range(len(m.batch_names))],
        ),  # fmt: skip
    }
    sample, comp = [], []
    stratum_manifests = _manifests(result.design, m, result.stratum_of)
    for s, smp in result.samples.items():
        sm = stratum_manifests[s]
        batch, position = sm.locate(smp.cards)
        tickets = smp.tickets or ("",) * len(smp)
        cvr_stratum = _uses_cvr(result.design, sm, result.stratum_of, m, batch)
        disc = discrepancy(o, result.cvr_blocks[s], result.mvr_blocks[s], np.zeros(len(smp), bool))
        for i, (r, b, p, t, k) in enumerate(zip(result.draw_round[s].tolist(), batch.tolist(), position.tolist(), tickets, smp.times_drawn.tolist(), strict=True)):
            sample.append([s, i + 1, r, sm.batch_names[b], p, t, k])
            own = bool(cvr_stratum[i])
            comp.append([s, i + 1, sm.batch_names[b], p, o.contest, vote_string(result.cvr_blocks[s][i], o.choices) if own else "",
                         vote_string(result.mvr_blocks[s][i], o.choices), int(disc[i]) if own else ""])  # fmt: skip
    files["sample.csv"] = csv_text(["stratum", "draw", "round", "batch", "position", "ticket", "times_drawn"], sample)
    files["comparisons.csv"] = csv_text(["stratum", "draw", "batch", "position", "contest", "cvr", "mvr", "discrepancy"], comp)
    files["risk.csv"] = csv_text(["round", "draws", "contest", "assertion", "statistic", "risk"], risk_rows(result.rounds))
    if result.recount:
        files["recount.csv"] = recount_text(result.recount, result.outcomes)
    by_stratum = [{"draws_by_stratum": {s: int(np.count_nonzero(result.draw_round[s] <= rr.round)) for s in result.samples}} for rr in result.rounds]
    extra = {"evidence": result.evidence, "strata": {s: {"batches": len(x.batch_names), "ballots": x.total} for s, x in stratum_manifests.items()}}
    return seal(files, package_doc(result, (election_id, definition_sha256, run_sha256), result.sampler, extra, by_stratum))


def _manifests(design: str, m: BallotManifest, stratum: tuple[str, ...]) -> dict[str, BallotManifest]:
    """Each stratum's manifest (the run's batches of that stratum, in order); empty strata left out."""
    if design == "oneaudit":
        return {"all": m}
    found = {s: sub_manifest(m, np.array([x == s for x in stratum], bool)) for s in STRATA[design]}
    return {s: x for s, x in found.items() if x is not None}


def _uses_cvr(design: str, sm: BallotManifest, stratum: tuple[str, ...], m: BallotManifest, batch: np.ndarray) -> np.ndarray:
    """``bool[n]``: whether each draw (batch of the stratum manifest ``sm``) is compared with its own CVR."""
    index = {name: i for i, name in enumerate(m.batch_names)}
    own = np.array([stratum[index[name]] in USES_CVR for name in sm.batch_names], bool)
    return own[batch] if len(batch) else np.zeros(0, bool)


def verify_strata(path: Path, doc: dict, problems: list[str]) -> None:
    """Recompute a hybrid or ONEAudit package (see the module doc); append what disagrees."""
    check_files(path, doc, problems)
    design, [c] = doc["design"], doc["contests"]
    declared = ReportedOutcome.from_dict(c)
    rows = read_csv(path / "batches.csv")
    table = doc["evidence"]["table"]
    evidence = tuple(table.get(r["equipment"], "?") for r in rows)
    stratum = strata_of(design, evidence)
    for line, (r, ev, st) in enumerate(zip(rows, evidence, stratum, strict=True), start=2):
        if (r["evidence"], r["stratum"]) != (ev, st) or (design == "oneaudit" and ev == "paper"):
            problems.append(f"batches.csv:{line}: evidence {r['evidence']}, stratum {r['stratum']}: the table ({r['equipment']}: {ev}) puts it in {st}")
    manifest = BallotManifest(tuple(r["batch"] for r in rows), tuple(r["county"] for r in rows), tuple(r["tabulator"] for r in rows), np.array([int(r["cards"]) for r in rows], np.int64))
    reported = np.array([[int(r[f"reported:{x}"]) for x in declared.choices] for r in rows], np.int64).reshape(len(rows), len(declared.choices))
    o = outcome_from_votes(declared.contest, declared.kind, declared.vote_for, declared.choices, tuple(int(v) for v in reported.sum(axis=0)), manifest.total)
    if o.votes != declared.votes:
        problems.append(f"audit.json: contest {o.contest}: reported votes {list(declared.votes)} are not the batches' {list(o.votes)}")
    check_contest(c, manifest.total, problems)
    cid, risk_limit, policy = o.contest, float(doc["risk_limit"]), RoundPolicy(**doc["policy"])
    manifests = _manifests(design, manifest, stratum)
    if doc["strata"] != {s: {"batches": len(x.batch_names), "ballots": x.total} for s, x in manifests.items()}:
        problems.append(f"audit.json: strata {doc['strata']} are not the batches' strata")
    # the records of every draw, stratum by stratum
    recorded_ends = [r["draws_by_stratum"] for r in doc["rounds"]]
    totals = recorded_ends[-1] if recorded_ends else {}
    sample_rows = read_csv(path / "sample.csv")
    comp_rows = read_csv(path / "comparisons.csv")
    if len(sample_rows) != sum(totals.values()) or len(comp_rows) != len(sample_rows):
        problems.append(f"sample.csv/comparisons.csv: {len(sample_rows)}/{len(comp_rows)} draws, the rounds say {sum(totals.values())}")
        return
    k = len(o.choices)
    samples: dict[str, Sample] = {}
    cards, cvr, mvr, at = {}, {s: np.zeros((0, k), np.uint8) for s in ("card", "poll", "all")}, {s: np.zeros((0, k), np.uint8) for s in ("card", "poll", "all")}, 0
    for s, n in totals.items():
        sm = manifests[s]
        want = make_sampler(doc["sampler"], sm, stratum_seed(doc["sampler"], doc["seed"], s)).draws(n) if n else None
        round_of = np.zeros(n, np.int64)
        prev = 0
        for r, e in zip(doc["rounds"], recorded_ends, strict=True):
            round_of[prev : e[s]], prev = r["round"], e[s]
        cards[s] = want.cards if want is not None else np.zeros(0, np.int64)
        if want is not None:
            samples[s] = want
        own = _uses_cvr(design, sm, stratum, manifest, sm.locate(cards[s])[0])
        cv, mv, disc = np.zeros((n, k), np.uint8), np.zeros((n, k), np.uint8), []
        for i, (row, w) in enumerate(zip(sample_rows[at : at + n], want.rows(sm) if want is not None else [], strict=True)):
            got = (row["stratum"], row["draw"], row["round"], row["batch"], row["position"], row["ticket"], row["times_drawn"])
            if got != (s, str(i + 1), str(round_of[i]), w["batch"], str(w["position"]), w["ticket"] or "", str(w["times_drawn"])):
                problems.append(f"sample.csv:{at + i + 2}: draw {got} is not the seed's draw of stratum {s}")
                return
            cr = comp_rows[at + i]
            if (cr["stratum"], cr["draw"], cr["batch"], cr["position"], cr["contest"]) != (s, str(i + 1), w["batch"], str(w["position"]), cid) or (cr["cvr"] and not own[i]):
                problems.append(f"comparisons.csv:{at + i + 2}: not draw {i + 1} of stratum {s} ({w['batch']} #{w['position']}, {cid})")
            cv[i], mv[i] = parse_votes(cr["cvr"], o.choices), parse_votes(cr["mvr"], o.choices)
            disc.append(cr["discrepancy"])
        recomputed = discrepancy(o, cv, mv, np.zeros(n, bool))
        bad = [i for i in range(n) if disc[i] != (str(int(recomputed[i])) if own[i] else "")]
        if bad:
            problems.append(f"comparisons.csv:{at + bad[0] + 2}: discrepancy '{disc[bad[0]]}', recomputed {int(recomputed[bad[0]]) if own[bad[0]] else 'none'}")
        cvr[s], mvr[s], at = cv, mv, at + n
    # the plan and the risks
    if design == "hybrid":
        if set(doc["method"]) != {"method", "combine"}:
            problems.append(f"audit.json: method {doc['method']}: a hybrid audit records its method and combining function only")
        strata = hybrid_strata(o, manifest.counts, reported, stratum)
        plan = [{s: n for s, n in zip(("card", "poll"), e, strict=True) if s in manifests} for e in hybrid_schedule(strata, o, reported, stratum, risk_limit, policy)]
    else:
        pool = np.array([x == "pool" for x in stratum], bool)
        contests = one_audit_contests(o, _cvr_pairs(path, doc, o, manifest, pool, problems), reported, manifest.counts, pool)
        plan = [{"all": e} for e in oneaudit_schedule(contests, risk_limit, policy, manifest.total)]
        if {a: x.bet() for a, x in contests.items()} != doc["method"].get("bets") or set(doc["method"]) != {"method", "bets"}:
            problems.append(f"audit.json: ONEAudit bets {doc['method'].get('bets')}, recomputed {({a: x.bet() for a, x in contests.items()})}")
    if recorded_ends != plan[: len(recorded_ends)] or doc["direct_to_count"] != ([] if plan else [cid]):
        problems.append(f"audit.json: rounds {recorded_ends} (direct {doc['direct_to_count']}) do not follow the policy: {plan}")
    recorded_risks = {(int(r["round"]), r["contest"], r["assertion"]): r for r in read_csv(path / "risk.csv")}
    seen, confirmed, risk, total = 0, False, 1.0, 0
    for r, ends in zip(doc["rounds"], recorded_ends, strict=True):
        if design == "hybrid":
            m = measure_hybrid(o, strata, cvr["card"], mvr, (ends.get("card", 0), ends.get("poll", 0)), doc["method"]["combine"])
        else:
            m = measure_oneaudit(o, contests, draw_values(o, contests, pool_index(manifest, pool, cards["all"]), cvr["all"]), mvr["all"], ends["all"])
        drawn = sum(ends.values())
        seen += len(m)
        risk = check_round(recorded_risks, r, cid, drawn, m, problems)
        now = risk <= risk_limit
        if r["confirmed"] != ([cid] if now else []) or confirmed or r["draws"] != drawn or r["new_draws"] != drawn - total:
            problems.append(f"audit.json: round {r['round']}: {r['draws']} draws, confirms {r['confirmed']}; recomputed {drawn}, {[cid] if now else []}")
        examined = sum(len(set(cards[s][: ends[s]].tolist())) for s in ends)
        if r["ballots_examined"] != examined:
            problems.append(f"audit.json: round {r['round']}: {r['ballots_examined']} ballots examined, the sample has {examined}")
        confirmed, total = now, drawn
    work = strata_workload(AuditBoards(**doc["boards"]), manifests, samples, manifest, not confirmed)
    check_end(path, doc, o, confirmed, risk, len(plan), seen, recorded_risks, work, problems)


def _cvr_pairs(path: Path, doc: dict, o: ReportedOutcome, manifest: BallotManifest, pool: np.ndarray, problems: list[str]) -> dict[str, np.ndarray]:
    """ONEAudit's reported figures for the cards with their own CVRs: the package does not carry
    those CVRs (only the drawn ones), so their pair values follow from the batches' tallies: a
    card-evidence batch's tally counts its CVRs' votes, which is all the bet and the margin use."""
    r = np.array([[int(x[f"reported:{c}"]) for c in o.choices] for x in read_csv(path / "batches.csv")], np.int64).reshape(len(manifest.counts), len(o.choices))
    own = ~pool
    out = {}
    for a in o.assertions:
        w, lo, n = int(r[own, a.winner_index].sum()), int(r[own, a.loser_index].sum()), int(manifest.counts[own].sum())
        out[a.name] = np.concatenate([np.ones(w, np.int8), -np.ones(lo, np.int8), np.zeros(n - w - lo, np.int8)])
    return out
