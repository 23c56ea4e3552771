"""The package of a batch-comparison audit (§23-15-617: published so anyone can check it), and its
verification from the package alone.

Files (``audit.json`` last, with every other file's SHA-256):

- ``batches.csv``: every batch in Arlo's key order (county, batch name): ``batch, county,
  tabulator, equipment, evidence, cards``, the reported votes of each choice
  (``reported:CHOICE``) and the batch's error bound u_p;
- ``sample.csv``: every PPEB draw: ``draw, round, batch, county, ticket, times_drawn``;
- ``tallies.csv``: each drawn batch's hand count, in the order first drawn: ``batch, county,
  cards, choice, reported, hand, difference`` (reported minus hand);
- ``risk.csv``: ``round, draws, contest, assertion, statistic, risk`` (``macro``: MACRO's one
  test over all pairs, statistic 1/P; ``alpha-batch``: each pair, statistic max T);
- ``recount.csv`` after a full manual recount.

:func:`verify_batch` recomputes the evidence of each batch from the table, the reported outcome
from the batch tallies, every error bound and U, the round sizes, every draw and ticket from
the seed, each batch's differences and the risks from the hand counts, the decision and the
workload.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pollsim.audit.batch import BatchContest, draw_ppeb, ppeb_weights
from pollsim.audit.batch_audit import BatchAuditResult, batch_workload, measure, method_check, ppeb_tickets, schedule
from pollsim.audit.boards import AuditBoards
from pollsim.audit.contest import ReportedOutcome
from pollsim.audit.package_common import check_contest, check_end, check_files, check_round, close, csv_text, num, package_doc, read_csv, recount_text, risk_rows, seal
from pollsim.audit.rounds import RoundPolicy

FIXED = ["batch", "county", "tabulator", "equipment", "evidence", "cards"]
SAMPLER = "ppeb (Arlo's draw_ppeb_sample: numpy default_rng(int(sha256_hex(seed), 16)), weights u_p / U over batches sorted by (county, batch))"


def batch_package_files(result: BatchAuditResult, election_id: str = "", definition_sha256: str = "", run_sha256: str = "") -> dict[str, str]:
    """The package's files as text, ``audit.json`` last."""
    bc, [o] = result.table, result.outcomes
    names = result.batch_names
    reported, cards = np.asarray(bc.reported, np.int64), np.asarray(bc.ballots, np.int64)
    files = {
        "batches.csv": csv_text(
            FIXED + [f"reported:{c}" for c in o.choices] + ["error_bound"],
            [[names[b], result.counties[b], result.tabulators[b], result.equipment[b], result.evidence["table"][result.equipment[b]], int(cards[b]),
              *reported[b].tolist(), num(bc.error_bounds[b])] for b in range(len(names))],
        ),  # fmt: skip
        "sample.csv": csv_text(
            ["draw", "round", "batch", "county", "ticket", "times_drawn"],
            [[i + 1, int(r), names[b], result.counties[b], t, int(k)]
             for i, (r, b, t, k) in enumerate(zip(result.draw_round.tolist(), result.draws.tolist(), result.tickets, result.times_drawn.tolist(), strict=True))],
        ),  # fmt: skip
        "tallies.csv": csv_text(
            ["batch", "county", "cards", "choice", "reported", "hand", "difference"],
            [[names[b], result.counties[b], int(cards[b]), ch, int(reported[b, j]), int(h[j]), int(reported[b, j] - h[j])]
             for b, h in result.hand.items() for j, ch in enumerate(o.choices)],
        ),  # fmt: skip
        "risk.csv": csv_text(["round", "draws", "contest", "assertion", "statistic", "risk"], risk_rows(result.rounds)),
    }
    if result.recount:
        files["recount.csv"] = recount_text(result.recount, result.outcomes)
    extra = {
        "evidence": result.evidence,
        "batches": {"file": "batches.csv", "batches": len(names), "ballots": int(cards.sum()), "total_error_bound": float(bc.total_error_bound)},
    }
    counted = [{"batches_counted": len(set(result.draws[: rr.draws].tolist()))} for rr in result.rounds]
    return seal(files, package_doc(result, (election_id, definition_sha256, run_sha256), SAMPLER, extra, counted))


def _table(path: Path, doc: dict, outcome: ReportedOutcome, problems: list[str]) -> tuple[BatchContest, list[tuple[str, str]], list[dict]]:
    """batches.csv: the batch contest, the batch keys, the rows; checks key order and evidence."""
    rows = read_csv(path / "batches.csv")
    keys = [(r["county"], r["batch"]) for r in rows]
    if keys != sorted(keys) or len(set(keys)) != len(keys):
        problems.append("batches.csv: batches are not in Arlo's key order (county, batch name), or repeat")
    table = doc["evidence"]["table"]
    for line, r in enumerate(rows, start=2):
        if table.get(r["equipment"]) != r["evidence"] or r["evidence"] not in ("card", "batch"):
            problems.append(f"batches.csv:{line}: evidence '{r['evidence']}' of {r['equipment']} is not the table's ({table.get(r['equipment'])}) or cannot support batch comparison")
    reported = np.array([[int(r[f"reported:{c}"]) for c in outcome.choices] for r in rows], np.int64).reshape(len(rows), len(outcome.choices))
    bc = BatchContest(outcome.contest, outcome.choices, reported, np.array([int(r["cards"]) for r in rows], np.int64), outcome.vote_for, outcome.kind)
    bad = [i for i, r in enumerate(rows) if not close(float(r["error_bound"]), float(bc.error_bounds[i]))]
    if bad:
        problems.append(f"batches.csv:{bad[0] + 2}: error bound {rows[bad[0]]['error_bound']}, recomputed {float(bc.error_bounds[bad[0]])!r}")
    return bc, [(r["county"], r["batch"]) for r in rows], rows


def verify_batch(path: Path, doc: dict, problems: list[str]) -> None:
    """Recompute a batch-comparison package (see the module doc); append what disagrees."""
    check_files(path, doc, problems)
    [c] = doc["contests"]
    outcome = ReportedOutcome.from_dict(c)
    bc, keys, rows = _table(path, doc, outcome, problems)
    recomputed = bc.outcome
    if (recomputed.votes, recomputed.ballots) != (outcome.votes, outcome.ballots):
        problems.append(f"audit.json: contest {outcome.contest}: reported votes {list(outcome.votes)} are not the batches' {list(recomputed.votes)}")
    check_contest(c, recomputed.ballots, problems)
    cid, n = outcome.contest, len(rows)
    if not close(float(doc["batches"]["total_error_bound"]), bc.total_error_bound) or doc["batches"]["batches"] != n:
        problems.append(f"audit.json: U = {doc['batches']['total_error_bound']} over {doc['batches']['batches']} batches, recomputed {bc.total_error_bound!r} over {n}")
    method, params = method_check(doc["method"]["method"]), doc["method"]
    beta = float(params.get("beta", 1.0))
    if set(params) != ({"method", "beta"} if method == "alpha-batch" else {"method"}):
        problems.append(f"audit.json: method {params}: unexpected parameters")
    risk_limit, policy = float(doc["risk_limit"]), RoundPolicy(**doc["policy"])
    ends = schedule(method, bc, risk_limit, policy, beta)
    recorded_ends = [r["draws"] for r in doc["rounds"]]
    if recorded_ends != ends[: len(recorded_ends)] or doc["direct_to_count"] != ([] if ends else [cid]):
        problems.append(f"audit.json: rounds {recorded_ends} (direct to count {doc['direct_to_count']}) do not follow the policy: {ends}")
    total = recorded_ends[-1] if recorded_ends else 0
    draws = draw_ppeb(doc["seed"], ppeb_weights(bc), total) if total else np.zeros(0, np.int64)
    tickets, times = ppeb_tickets(doc["seed"], keys, draws)
    round_of = np.zeros(total, np.int64)
    for r in doc["rounds"]:
        round_of[r["draws"] - r["new_draws"] : r["draws"]] = r["round"]
    sample = read_csv(path / "sample.csv")
    if len(sample) != total:
        problems.append(f"sample.csv: {len(sample)} draws, the rounds say {total}")
    for i, row in enumerate(sample[:total]):
        b = int(draws[i])
        want = (str(i + 1), str(round_of[i]), keys[b][1], keys[b][0], tickets[i], str(times[i]))
        if tuple(row[k] for k in ("draw", "round", "batch", "county", "ticket", "times_drawn")) != want:
            problems.append(f"sample.csv:{i + 2}: draw {tuple(row.values())} is not the seed's draw {want}")
            break
    # hand counts, in the order first drawn
    index = {k[1]: i for i, k in enumerate(keys)}
    hand: dict[int, np.ndarray] = {}
    for line, t in enumerate(read_csv(path / "tallies.csv"), start=2):
        b = index[t["batch"]]
        j = outcome.choices.index(t["choice"])
        h = hand.setdefault(b, np.zeros(len(outcome.choices), np.int64))
        h[j] = int(t["hand"])
        if int(t["reported"]) != int(bc.reported[b, j]) or int(t["cards"]) != int(bc.ballots[b]) or int(t["difference"]) != int(t["reported"]) - h[j] or h[j] < 0:
            problems.append(f"tallies.csv:{line}: {t['batch']}/{t['choice']}: reported {t['reported']}, hand {t['hand']}, difference {t['difference']} do not agree with batches.csv")
    if list(hand) != list(dict.fromkeys(draws.tolist())):
        problems.append("tallies.csv: the batches hand-counted are not the batches drawn, in the order first drawn")
        return
    recorded_risks = {(int(r["round"]), r["contest"], r["assertion"]): r for r in read_csv(path / "risk.csv")}
    seen, confirmed, risk = 0, False, 1.0
    for r in doc["rounds"]:
        end = r["draws"]
        m = measure(method, bc, draws[:end], np.array([hand[x] for x in draws[:end].tolist()]), tickets[:end], risk_limit, beta)
        seen += len(m)
        risk = check_round(recorded_risks, r, cid, end, m, problems)
        now = risk <= risk_limit
        if r["confirmed"] != ([cid] if now else []) or (confirmed and now):
            problems.append(f"audit.json: round {r['round']} confirms {r['confirmed']}, recomputed {[cid] if now else []}")
        confirmed = confirmed or now
        counted = set(draws[:end].tolist())
        if r["batches_counted"] != len(counted) or r["ballots_examined"] != int(np.asarray(bc.ballots)[list(counted)].sum()):
            problems.append(f"audit.json: round {r['round']}: {r['batches_counted']} batches ({r['ballots_examined']} ballots) counted, the sample has {len(counted)}")
    work = batch_workload(AuditBoards(**doc["boards"]), bc, tuple(k[0] for k in keys), list(hand), not confirmed)
    check_end(path, doc, outcome, confirmed, risk, len(ends), seen, recorded_risks, work, problems)
