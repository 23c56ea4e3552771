"""The run report's "Voter roll" section (issue 17; docs/roll.md): shown for a run made with ``--roll``.

What the roll put in the run (summary.json's ``roll``, ``roll_counts.csv`` and ``roll_policy.csv``,
read through the run directory's reader in :mod:`.data`; the roll directory itself is never opened):

- the pollbook of the election (Miss. Code §23-15-125) for the run's counties: active voters
  (restored ones among them), inactive voters (affidavit ballot only, §23-15-152(3)), VOTED AB;
  eligible people inactive or off the roll, deadwood, the clerk's notices and removals since the
  previous election, and the commissioners' per diem for revising the roll (§23-15-153);
- the affidavit ballots at the polls by reason (§23-15-573): as the roll drew them and as the run's
  day cast them, and the mean wait of affidavit and regular voters;
- with a roll made with ``--compare``: the same population under the earlier suffrage law and the
  2024 bill, side by side, with the difference.
"""

from __future__ import annotations

from pollsim.report.data import ReportData
from pollsim.report.page import Section, data_table, fact_table, number, paragraph, text
from pollsim.report.parts import SHOW_ROWS, fold

ROLL_ROWS = (
    ("active", "active voters listed (regular ballot)"),
    ("restored", "of whom registered again under the 2024 bill"),
    ("inactive", "inactive voters listed (affidavit ballot only)"),
    ("eligible_inactive", "eligible voters inactive (living where registered)"),
    ("eligible_off_roll", "eligible residents with no record in their county"),
    ("wrongly_removed", "of whom removed for not answering a notice while living there"),
    ("barred_residents", "residents barred by a conviction"),
    ("deadwood_dead", "records of the dead still listed"),
    ("deadwood_moved_away", "records of people who left the state still listed"),
    ("deadwood_other_county", "records of people living in another county"),
    ("deadwood_barred", "records of people barred, still listed"),
    ("notices", "confirmation notices sent since the previous election"),
    ("answered", "notices answered"),
    ("removed_death", "removed: death"),
    ("removed_felony", "removed: disenfranchising conviction"),
    ("removed_no_response", "removed: no answer or vote through two federal generals"),
    ("revision_cost", "commissioners' per diem for revising the roll, $ (§23-15-153)"),
)
REASONS = ("inactive", "not_on_roll", "wrong_precinct", "new_registrant", "no_photo_id", "voted_ab")
POLICY_ROWS = ("active", "inactive", "restored", "barred_residents", "eligible_off_roll", "restored_off_roll", "deadwood_barred",
               "removed_felony", "affidavit", "affidavit_inactive", "affidavit_not_on_roll", "affidavit_wrong_precinct",
               "affidavit_new_registrant", "affidavit_completed_sentence", "restored_regular", "ineligible_regular")  # fmt: skip


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _label(name: str) -> str:
    return name.replace("_", " ")


def _total(rows: list[dict[str, str]]) -> dict[str, str]:
    return next((r for r in rows if r.get("county") == "total"), rows[-1] if rows else {})


def roll_section(run: ReportData) -> Section | None:
    """The section, or None for a run made without ``--roll``."""
    if run.roll is None:
        return None
    s, counts = run.roll["summary"], run.roll["counts"]
    total = _total(counts)
    book = s.get("pollbook") or {}
    counties = s.get("counties") or []
    where = f"{len(counties)} counties" if len(counties) > 3 else ", ".join(counties)
    body = [paragraph(
        f"This run's pollbooks are the voter roll's at the {text(s.get('label') or s.get('election'))} ({text(s.get('election'))}; "
        f"registrations through {text(s.get('deadline'))} listed), simulated under the {'2024 bill' if s.get('law') == '2024' else 'earlier law'} "
        f"(roll seed {text(s.get('seed'))}, roll.json SHA-256 <code>{text(str(s.get('roll_json_sha256', ''))[:16])}</code>). "
        f"Who is listed, with which status, and who voted absentee come from the roll, for {text(where)}.", "lead")]  # fmt: skip
    facts = [("roll_voted_ab", "marked VOTED AB (the roll's absentee voters)", book.get("voted_ab", 0), number(book.get("voted_ab", 0)))]
    facts += [(f"roll_{k}", label, _int(total.get(k)), number(_int(total.get(k)))) for k, label in ROLL_ROWS if k in total]
    body.append("<h3>The roll at this election</h3>" + fact_table(facts))
    if len(counts) > 2:  # per county: the listed voters by status
        rows = [[r["county"], number(_int(r["active"])), number(_int(r["inactive"])), number(_int(r.get("restored"))), number(_int(r.get("affidavit")))]
                for r in counts if r["county"] != "total"]  # fmt: skip
        table = data_table(["county", "active", "inactive", "restored", "affidavit ballots (roll)"], rows, table_id="roll-counties")
        body.append(table if len(rows) <= SHOW_ROWS else fold(f"all {len(rows)} counties", table))
    by = s.get("affidavit_by_reason") or {}
    arrivals = s.get("roll_arrivals") or {}
    rows = [[_label(k), number(_int(arrivals.get(k))), number(_int(by.get(k)))] for k in REASONS]
    rows.append(["all affidavit ballots", number(sum(_int(arrivals.get(k)) for k in REASONS)), number(sum(_int(by.get(k)) for k in REASONS))])
    body.append("<h3>Affidavit ballots by reason (§23-15-573)</h3>"
                + paragraph("The roll's column: voters who came to these precincts in the roll's simulation of the election, by how the "
                            "poll manager found them. The run's column: affidavit ballots cast on this run's day, whose check-in shares "
                            "came from the roll (no photo ID is not a roll matter; VOTED AB: the roll's absentee voters who came anyway).")
                + data_table(["reason", "roll", "this run"], rows, table_id="roll-affidavit", row_class=[""] * (len(rows) - 1) + ["total"]))  # fmt: skip
    w = s.get("waits") or {}
    if w.get("affidavit_mean_minutes") is not None and w.get("regular_mean_minutes") is not None:
        body.append(paragraph(f"Mean wait: {number(w['affidavit_mean_minutes'], 1)} minutes for the {number(w.get('affidavit_voters', 0))} "
                              f"affidavit voters, {number(w['regular_mean_minutes'], 1)} minutes for the {number(w.get('regular_voters', 0))} "
                              "regular voters on this run's day."))  # fmt: skip
    policy = run.roll.get("policy")
    if policy:
        mine = {r["measure"]: r for r in policy if r.get("county") == "total"}
        rows = [[_label(m), number(_int(mine[m]["pre2024"])), number(_int(mine[m]["2024"])), f"{_int(mine[m]['difference']):+,}"]
                for m in POLICY_ROWS if m in mine]  # fmt: skip
        body.append("<h3>Two suffrage laws, the same population</h3>"
                    + paragraph("The roll simulated twice with the same people and choices: under the earlier law (Miss. Const. art. 12 "
                                "§241: a disenfranchising conviction removes the voter for good) and under the 2024 bill (removed only "
                                "while incarcerated or on parole, enfranchised again when the sentence is complete, from 1 July 2024). "
                                f"Totals for {text(where)} at this election; every county in roll_policy.csv.")
                    + data_table(["measure", "earlier law", "2024 bill", "difference"], rows, table_id="roll-policy"))  # fmt: skip
    else:
        body.append(paragraph("The roll was simulated under one law only; make it with <code>pollsim roll simulate --compare</code> "
                              "to see the earlier law and the 2024 bill side by side."))  # fmt: skip
    return Section("roll", "Voter roll", "\n".join(body))


__all__ = ["roll_section"]
