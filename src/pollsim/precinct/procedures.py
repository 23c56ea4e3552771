"""The poll managers' opening and closing procedures, and the forms they fill in (§23-15-239).

Before 7:00 the poll managers check the seals, print and post the zero tapes and record the
counters; after the last voter they print the results tapes, compare the counters with the
pollbook and the receipt book, fill in the ballot accounting form with the §23-15-615 totals, and
seal the memory cards for the trip to the county. This module lays the scenario's steps on the
clock and writes the forms as text, from the precinct's records.
"""

from __future__ import annotations

import hashlib

from pollsim.precinct.result import PrecinctResult
from pollsim.scenario.models import Procedures, Step


def timeline(steps: list[Step], start: float) -> list[tuple[str, float, float]]:
    """(step, start, end) for steps done one after another from ``start`` (minutes after midnight)."""
    out, t = [], start
    for s in steps:
        out.append((s.step, t, t + s.minutes))
        t += s.minutes
    return out


def schedule(procedures: Procedures, polls_open: float, last_voter_out: float) -> list[tuple[str, str, float, float]]:
    """(phase, step, start, end): opening ends as the polls open; closing starts after the last voter."""
    opening_minutes = sum(s.minutes for s in procedures.opening)
    rows = [("opening", *r) for r in timeline(procedures.opening, polls_open - opening_minutes)]
    rows += [("closing", *r) for r in timeline(procedures.closing, last_voter_out)]
    return rows


def seal_number(precinct: str, device: str, seed: int) -> str:
    """The tamper-evident seal on a device's memory-card case (deterministic for the run)."""
    return "MS-" + str(int(hashlib.sha256(f"{seed}|{precinct}|{device}".encode()).hexdigest()[:10], 16) % 10**7).zfill(7)


def accounting_form(p: PrecinctResult, election_name: str, seed: int, clock, absentee: int = 0, absentee_counted: int = 0) -> str:
    """The ballot accounting form of a precinct (§23-15-615(1)): (b) and (f) include the precinct's
    absentee voters the resolution board entered in the receipt book (``absentee``) and its
    absentee ballots counted (``absentee_counted``), as the registrar reports them."""
    a = p.accounting
    dev_public = sum(d.public_count for d in p.devices if d.kind in ("dre", "scan-single"))
    lines = [
        "BALLOT ACCOUNTING FORM (Miss. Code §23-15-615)",
        f"Election: {election_name}",
        f"Precinct: {p.precinct}   County: {p.county}   Equipment: {p.kind}",
        f"Polls closed after the last voter at {clock(p.polls_closed)}",
        "",
        f"(a) voters marked VOTED in the pollbook ............ {a.pollbook_marked_voted:>7}",
        f"(b) receipt-book signatures {a.receipt_book_signatures} + absentee {absentee} = {a.receipt_book_signatures + absentee}",
        f"(c) ballots received from election officials ...... {a.ballots_received:>7}",
        f"(d) paper ballots voted {a.paper_ballots_voted} + unused {a.paper_ballots_unused} + spoiled {a.paper_ballots_spoiled} = {a.paper_ballots_voted + a.paper_ballots_unused + a.paper_ballots_spoiled}",
        f"(e) electronic ballots cast (DRE public counters) .. {a.electronic_ballots_cast:>7}",
        f"(f) total ballots cast ............................. {a.regular_ballots_cast + absentee_counted:>7}"
        + (f"  (polling place {a.regular_ballots_cast} + absentee {absentee_counted})" if absentee_counted else ""),
        f"    affidavit ballots (sealed, counted later) ...... {a.affidavit_ballots:>7}",
        "",
        "COUNTERS AGAINST THE POLLBOOK",
        f"    units' public counters (DRE + scanner) ........ {dev_public:>7}",
        f"    pollbook VOTED ................................ {a.pollbook_marked_voted:>7}",
        f"    difference .................................... {dev_public - a.pollbook_marked_voted:>7}",
        "",
        "MEMORY CARDS SEALED",
    ]
    for d in p.devices:
        if d.kind in ("dre", "scan-single"):
            lines.append(f"    {d.device_id:<8} public {d.public_count:>5}  protective {d.protective_count:>6}  seal {seal_number(p.precinct, d.device_id, seed)}")
    lines += ["", "Poll managers: ______________________  ______________________  ______________________", ""]
    return "\n".join(lines)
