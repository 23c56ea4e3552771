"""After the last voter: the records go wrong where the scenario says, and the day is written up.

:func:`inject_errors` applies the scenario's poll-worker and device ``errors`` to the records (not
to the voters): a pollbook entry not marked, a receipt not signed, ballot stock miscounted, a
spoiled ballot not recorded, a DRE counter glitch. :func:`collect_result` then assembles the
:class:`~pollsim.precinct.result.PrecinctResult` that crosses into election night: the voters'
records, each cast ballot's three layers in cast order, the devices' counters and logs, and the
§23-15-615(1) ballot accounting form.
"""

from __future__ import annotations

import numpy as np

from pollsim.devices import VotingDevice
from pollsim.precinct.result import VOTER_DTYPE, BallotAccounting, DeviceRecord, PrecinctResult
from pollsim.precinct.room import Room


def inject_errors(room: Room) -> None:
    """Poll-worker and device errors (scenario ``errors``): the records, not the voters, go wrong."""
    for err in room.scenario.errors:
        if err.precinct != room.spec.id:
            continue
        if err.kind == "pollbook_not_marked":
            room.pollbook.marked_voted -= min(err.count, room.pollbook.marked_voted)
        elif err.kind == "receipt_not_signed":
            room.pollbook.receipt_signatures -= min(err.count, room.pollbook.receipt_signatures)
        elif err.kind == "ballot_stock_miscounted":
            room.stock_recorded_extra += err.count
        elif err.kind == "spoiled_not_recorded":
            room.spoiled_unrecorded += min(err.count, room.spoiled)
        elif err.kind == "dre_counter_glitch":
            room.devices["DRE"][0].store.public += err.count
        # lost_paper_ballot is planned before the day (Room.lost_voters): those ballots never reach the scanner


def _device_record(dev: VotingDevice) -> DeviceRecord:
    printer = getattr(dev, "printer", None)
    return DeviceRecord(
        device_id=dev.device_id,
        kind=dev.kind,
        public_count=dev.public_count,
        protective_count=dev.protective_count,
        log_entries=len(dev.log),
        log_head=(dev.log, len(dev.log)),  # type: ignore[arg-type]  # hashed when read (result.DeviceRecord)
        vvpat_records_printed=printer.records_printed if printer else 0,
        vvpat_records_rejected=printer.records_rejected if printer else 0,
        ballots_returned=getattr(dev, "returned", 0),
        overrides=getattr(dev, "overrides", 0),
    )


def collect_result(room: Room, t_end: float) -> PrecinctResult:
    """Assemble the day's records from the room and its devices (cast order kept)."""
    d = room.draws
    n = d.n
    voters = np.zeros(n, VOTER_DTYPE)
    voters["arrival"] = d.arrival
    for name, values in room.rec.items():
        voters[name] = values
    for name, stations in room.rec_station.items():
        voters[name] = stations
    voters["status"] = d.status
    voters["need"] = d.need
    voters["outcome"] = room.outcome

    ballot_voter = np.array(room.cast_voter, np.int32)
    ballot_device = np.array(room.cast_device, np.int16)
    width = room.election.width
    cvr = np.zeros((len(ballot_voter), width), np.uint8)
    paper = np.zeros_like(cvr)
    for k, dev in enumerate(room.device_list):
        if dev.kind == "bmd":
            continue  # its cards are cast (and recorded) by the scanner
        rows = ballot_device == k
        dev_cvr, dev_paper, _ = dev.store.ballots()
        cvr[rows] = dev_cvr
        paper[rows] = dev_paper
    affidavit_voter = np.array(sorted(room.affidavit_voters), np.int32)

    eq = room.spec.equipment
    stock = eq.ballot_stock if eq.ballot_stock is not None else (
        room.spec.registered_voters if eq.kind == "paper" else -(-room.spec.registered_voters // 10)
    )
    dres = [dev for dev in room.device_list if dev.kind == "dre"]
    scanned = sum(dev.public_count for dev in room.device_list if dev.kind == "scan-single")
    bmd_cards = sum(dev.public_count for dev in room.device_list if dev.kind == "bmd")
    n_aff = len(affidavit_voter)
    paper_voted = scanned - bmd_cards + n_aff
    accounting = BallotAccounting(
        voters_arrived=n,
        pollbook_marked_voted=room.pollbook.marked_voted,
        receipt_book_signatures=room.pollbook.receipt_signatures,
        ballots_received=stock + room.stock_recorded_extra,
        paper_ballots_voted=paper_voted,
        paper_ballots_unused=stock - paper_voted - room.spoiled - len(room.lost_voters),
        paper_ballots_spoiled=room.spoiled - room.spoiled_unrecorded,
        bmd_cards_cast=bmd_cards,
        electronic_ballots_cast=sum(dev.public_count for dev in dres),
        affidavit_ballots=n_aff,
        regular_ballots_cast=len(ballot_voter),
        total_ballots_cast=len(ballot_voter) + n_aff,
    )
    open_minutes = max(t_end - room.t_open, 1e-9)
    utilisation = {
        name: sum(pool.busy_minutes) / (pool.units * open_minutes) for name, pool in room.pools.items() if pool.units
    }
    return PrecinctResult(
        precinct=room.spec.id,
        county=room.spec.county,
        kind=eq.kind,
        registered_voters=room.spec.registered_voters,
        voters=voters,
        intent=d.intent[ballot_voter],
        paper=paper,
        cvr=cvr,
        ballot_voter=ballot_voter,
        ballot_device=ballot_device,
        affidavit=d.intent[affidavit_voter],
        devices=[_device_record(dev) for dev in room.device_list],
        accounting=accounting,
        polls_closed=t_end,
        zero_tapes=room.zero_tapes,
        results_tapes=room.results_tapes,
        incidents=sorted(room.incident_log, key=lambda x: (x["out_from"], x["device"])),
        utilisation=utilisation,
        logs={dev.device_id: dev.log for dev in room.device_list}
        | ({room.pollbook.device_id: room.pollbook.log} if room.pollbook.log is not None else {}),
        staffing={} if room.staffing is None else {
            "opened": room.t_ready, "late_minutes": room.staffing.late,
            "closures": sorted(room.staff_log, key=lambda x: (x["closed_from"], x["station"]))},
    )  # fmt: skip
