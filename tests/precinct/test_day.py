"""One precinct's day: who votes what kind of ballot, what the counts must satisfy, the clock."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from pollsim.election.roll import RollStatus, VoterNeed
from pollsim.precinct import Outcome, simulate_precinct
from pollsim.precinct.election_day import precinct_seed
from pollsim.scenario import build_election
from pollsim.tabulate import tally_votes
from tests.conftest import SCENARIOS, scenario_from


def busy_precinct(base: dict, kind: str, **precinct_changes) -> dict:
    """The training precinct with more voters and more of every unusual case, for stronger checks."""
    p = dict(base["precincts"][0])
    p.update(registered_voters=3000, turnout=0.6)
    p["roll"] = {"inactive": 0.03, "not_on_roll": 0.01, "wrong_precinct": 0.01, "no_photo_id": 0.01, "new_registrant": 0.01, "restored": 0.02}
    p["needs"] = {"audio": 0.02, "language": 0.02}
    if kind == "dre":
        p["equipment"] = {"kind": "dre", "pollbook_stations": 6, "dre_units": 12, "accessible_units": 1}
    else:
        p["equipment"] = {"kind": "paper", "pollbook_stations": 6, "marking_booths": 20, "scanners": 2, "accessible_units": 1, "ballot_stock": 3000}
    p.update(precinct_changes)
    return p


@pytest.fixture(scope="module", params=["dre", "paper"])
def day(request, training_dict):
    kind = request.param
    contests = [dict(c, overvote_attempt_rate=0.05) for c in training_dict["election"]["contests"]]
    election = dict(training_dict["election"], contests=contests)
    behaviour = {"vvpat_reject_share": 0.2, "paper_spoil_share": 0.02}
    scenario = scenario_from(training_dict, election=election, behaviour=behaviour, precincts=[busy_precinct(training_dict, kind)])
    el = build_election(scenario.election)
    return scenario, el, simulate_precinct(scenario, el, scenario.precincts[0], precinct_seed(5, 0))


def test_every_arriving_voter_ends_in_exactly_one_outcome(day):
    _, _, r = day
    v = r.voters
    assert len(v) == r.accounting.voters_arrived > 1000
    assert set(np.unique(v["outcome"])) <= {Outcome.REGULAR, Outcome.AFFIDAVIT}
    regular = v["outcome"] == Outcome.REGULAR
    assert regular.sum() == r.ballots_cast == len(r.cvr)
    assert (~regular).sum() == r.accounting.affidavit_ballots == len(r.affidavit)
    assert sorted(r.ballot_voter.tolist()) == np.flatnonzero(regular).tolist()  # each voter's ballot once
    assert not np.isnan(v["exit"]).any()


def test_roll_status_decides_regular_or_affidavit(day):
    v = day[2].voters
    regular_status = np.isin(v["status"], [RollStatus.ACTIVE, RollStatus.RESTORED])
    assert (regular_status == (v["outcome"] == Outcome.REGULAR)).all()
    for status in (RollStatus.INACTIVE, RollStatus.NOT_ON_ROLL, RollStatus.NEW_REGISTRANT, RollStatus.RESTORED):
        assert (v["status"] == status).any(), f"the busy precinct should see {status.name}"


def test_the_clock_of_each_voter_runs_forward(day):
    v = day[2].voters
    for a, b in [("arrival", "checkin_start"), ("checkin_start", "checkin_end"), ("checkin_end", "vote_start"), ("vote_start", "vote_end"), ("vote_end", "exit")]:
        assert (v[b] >= v[a] - 1e-9).all(), (a, b)
    assert (v["wait"] >= -1e-9).all()
    assert (v["wait"] <= v["exit"] - v["arrival"] + 1e-9).all()


def test_polls_open_at_seven_and_everyone_in_line_at_seven_pm_votes(day):
    _, _, r = day
    v = r.voters
    assert v["checkin_start"].min() >= 7 * 60
    assert (v["arrival"] < 7 * 60).any(), "a line is waiting at opening"
    assert v["arrival"].max() < 19 * 60
    assert r.polls_closed >= 19 * 60 and r.polls_closed == pytest.approx(max(19 * 60, v["exit"].max()))


def test_arrivals_follow_the_hourly_profile(day):
    scenario, _, r = day
    hours = np.floor((r.voters["arrival"] - 7 * 60) / 60).astype(int)
    counts = np.bincount(hours[hours >= 0], minlength=12)
    shares = np.array(scenario.arrivals.hourly_shares)
    expected = len(r.voters) * shares / (shares.sum() + scenario.arrivals.before_opening_share)
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 32.9, chi2  # chi-square 99.95th percentile, 11 degrees of freedom


def test_pollbook_and_ballot_accounting_balance(day):
    _, _, r = day
    a = r.accounting
    assert a.pollbook_marked_voted == a.receipt_book_signatures == a.regular_ballots_cast
    assert a.paper_ballots_voted + a.paper_ballots_unused + a.paper_ballots_spoiled == a.ballots_received
    assert a.total_ballots_cast == a.regular_ballots_cast + a.affidavit_ballots
    publics = {d.device_id: d.public_count for d in r.devices}
    if r.kind == "dre":
        assert a.electronic_ballots_cast == a.regular_ballots_cast == sum(publics.values())
        assert a.paper_ballots_voted == a.affidavit_ballots
    else:
        assert a.electronic_ballots_cast == 0
        scanned = sum(n for dev, n in publics.items() if dev.startswith("SCAN"))
        assert scanned == a.regular_ballots_cast
        assert a.bmd_cards_cast == sum(n for dev, n in publics.items() if dev.startswith("BMD")) > 0
        assert a.paper_ballots_spoiled > 0


def test_each_device_cast_the_ballots_it_counted(day):
    _, _, r = day
    for k, dev in enumerate(r.devices):
        if dev.kind != "bmd":
            assert (r.ballot_device == k).sum() == dev.public_count
        assert dev.protective_count == dev.public_count  # no test ballots on election day


def test_audio_voters_use_the_accessible_unit(day):
    _, _, r = day
    v = r.voters
    audio_ballots = v["need"][r.ballot_voter] == VoterNeed.AUDIO
    kinds = np.array([d.device_id.split("-")[0] for d in r.devices])[r.ballot_device]
    if r.kind == "dre":
        assert (kinds[audio_ballots] == "ADA").all() and (kinds[~audio_ballots] == "DRE").all()
    else:
        assert (kinds == "SCAN").all()


def test_without_faults_paper_and_electronic_records_agree(day):
    _, _, r = day
    assert np.array_equal(r.paper, r.cvr)


def test_a_dre_never_records_an_overvote_but_an_override_on_paper_does(day):
    _, el, r = day
    over = np.zeros(len(r.cvr), bool)
    for c in el.contests:
        over |= r.cvr[:, el.contest_slices[c.id]].sum(axis=1) > c.vote_for
    if r.kind == "dre":
        assert not over.any()
        assert np.array_equal(r.cvr, r.intent)  # the voter corrected every overvote
    else:
        overrides = sum(d.overrides for d in r.devices)
        assert 0 < over.sum() <= overrides
        assert np.array_equal(r.cvr[~over], r.intent[~over])
        # an overvoted contest counts for no one, and the ballot's other contests count as meant
        cvr_votes = tally_votes(el, r.cvr)
        for c in el.contests:
            sl = el.contest_slices[c.id]
            over_here = r.cvr[:, sl].sum(axis=1) > c.vote_for
            assert np.array_equal(cvr_votes[sl], r.intent[~over_here][:, sl].sum(axis=0))


def test_vvpat_rejections_are_counted_and_officials_called(day):
    _, _, r = day
    rejected = sum(d.vvpat_records_rejected for d in r.devices)
    printed = sum(d.vvpat_records_printed for d in r.devices)
    if r.kind == "dre":
        assert rejected > 0
        assert printed == r.ballots_cast + rejected
    else:  # no VVPAT printers in a paper precinct
        assert printed == rejected == 0


def test_zero_and_results_tapes_carry_the_definition_hash_and_counts(day):
    _, el, r = day
    dev = r.devices[0]
    zero, results = r.zero_tapes[dev.device_id], r.results_tapes[dev.device_id]
    for tape in (zero, results):
        assert el.definition_hash[:16] in tape and el.definition_hash[16:] in tape
    assert "PUBLIC COUNT             0" in zero
    assert f"PUBLIC COUNT      {dev.public_count:>8}" in results


def test_an_incident_takes_the_unit_out_of_service_until_repaired(training_dict):
    incidents = [{"at": "09:30", "device": "DRE-2", "kind": "paper_out", "minutes": 90}]
    scenario = scenario_from(training_dict, incidents=incidents)
    el = build_election(scenario.election)
    r = simulate_precinct(scenario, el, scenario.precincts[0], precinct_seed(3, 0))
    [inc] = r.incidents
    assert inc["out_from"] >= 9 * 60 + 30 and inc["back_at"] == pytest.approx(inc["out_from"] + 90)
    v = r.voters
    on_unit = v[r.ballot_voter][r.ballot_device == 1]  # DRE-2 is device index 1
    during = (on_unit["vote_start"] < inc["back_at"]) & (on_unit["vote_end"] > inc["out_from"])
    assert not during.any()


def test_same_seed_same_day_and_another_seed_another(training, election):
    p = training.precincts[0]
    a = simulate_precinct(training, election, p, precinct_seed(7, 0))
    b = simulate_precinct(training, election, p, precinct_seed(7, 0))
    c = simulate_precinct(training, election, p, precinct_seed(8, 0))
    assert a.voters.tobytes() == b.voters.tobytes() and np.array_equal(a.cvr, b.cvr)
    assert a.voters.tobytes() != c.voters.tobytes()


def test_a_vvpat_roll_that_runs_out_stops_the_unit_until_paper_is_replaced(training_dict):
    p = dict(training_dict["precincts"][0])
    p["equipment"] = dict(p["equipment"], vvpat_roll_feet=40.0)  # 40 ft: 53 records of an 8-contest ballot
    scenario = scenario_from(training_dict, precincts=[p])
    el = build_election(scenario.election)
    r = simulate_precinct(scenario, el, scenario.precincts[0], precinct_seed(3, 0))
    outs = [inc for inc in r.incidents if inc["kind"] == "paper_out"]
    assert outs, "busy units must run out of a 40-ft roll"
    v = r.voters
    for inc in outs:
        k = [d.device_id for d in r.devices].index(inc["device"])
        on_unit = v[r.ballot_voter][r.ballot_device == k]
        assert not ((on_unit["vote_start"] < inc["back_at"] - 1e-9) & (on_unit["vote_end"] > inc["out_from"] + 1e-9)).any()
    assert r.ballots_cast == r.accounting.pollbook_marked_voted  # nobody's ballot was lost
    for d in r.devices:
        assert d.vvpat_records_printed == d.public_count + d.vvpat_records_rejected


def test_scanner_misfeeds_are_fed_again_and_every_ballot_still_counts(training_dict):
    paper = yaml.safe_load((SCENARIOS / "training-precinct-paper.yaml").read_text())
    scenario = scenario_from(paper, behaviour={"scanner_misfeed_rate": 0.2})
    el = build_election(scenario.election)
    r = simulate_precinct(scenario, el, scenario.precincts[0], precinct_seed(3, 0))
    scanner = next(d for d in r.devices if d.device_id == "SCAN-1")
    misfeeds = sum(1 for e in r.logs["SCAN-1"].entries if e.type == "fault" and e.details.startswith("misfeed"))
    assert misfeeds > 50 and scanner.ballots_returned >= misfeeds
    assert r.ballots_cast == r.accounting.pollbook_marked_voted == scanner.public_count


def test_a_power_loss_shorter_than_the_battery_takes_nothing_out(training_dict):
    short = [{"at": "10:00", "device": "DRE-1", "kind": "power_loss", "minutes": 20, "battery_minutes": 60}]
    long = [{"at": "10:00", "device": "DRE-1", "kind": "power_loss", "minutes": 90, "battery_minutes": 30}]
    el = build_election(scenario_from(training_dict).election)
    a = scenario_from(training_dict, incidents=short)
    b = scenario_from(training_dict, incidents=long)
    ra = simulate_precinct(a, el, a.precincts[0], precinct_seed(3, 0))
    rb = simulate_precinct(b, el, b.precincts[0], precinct_seed(3, 0))
    assert ra.incidents[0]["out_from"] == ra.incidents[0]["back_at"]
    assert [e.type for e in ra.logs["DRE-1"].entries].count("ac-power-lost") == 1
    [inc] = rb.incidents  # dark from the flat battery (or its voter leaving) until the power is back at 11:30
    assert inc["out_from"] >= 10 * 60 + 30 and inc["back_at"] == pytest.approx(11 * 60 + 30)


def test_misrecording_firmware_changes_the_electronic_record_and_the_paper_keeps_the_vote(training_dict):
    incidents = [{"at": "06:00", "device": "DRE-1", "kind": "misrecording", "contest": "us-senate", "to": "pruitt", "share": 1.0, "minutes": 24 * 60 - 1}]
    scenario = scenario_from(training_dict, incidents=incidents)
    el = build_election(scenario.election)
    r = simulate_precinct(scenario, el, scenario.precincts[0], precinct_seed(3, 0))
    on_dre1 = r.ballot_device == 0
    assert np.array_equal(r.paper, r.intent)  # the VVPAT shows what the voter chose
    sl = el.contest_slices["us-senate"]
    pruitt = el.column_of("us-senate", "pruitt")
    voted = r.intent[on_dre1][:, sl].any(axis=1)
    assert (r.cvr[on_dre1][voted, pruitt] == 1).all()  # every senate vote on DRE-1 went to pruitt
    assert np.array_equal(r.cvr[~on_dre1], r.intent[~on_dre1])
    assert tally_votes(el, r.cvr)[pruitt] > tally_votes(el, r.paper)[pruitt]
    assert not any(i["kind"] == "paper_out" for i in r.incidents)  # a silent fault stops nothing


def test_scripted_voters_arrive_on_cue_and_meet_their_fate(training_dict):
    p = dict(training_dict["precincts"][0])
    p["scripted_voters"] = [
        {"at": "09:15", "status": "inactive"},
        {"at": "10:30", "status": "restored"},
        {"at": "11:00", "vvpat_reject": True},
        {"at": "11:05", "overvote": True},
    ]
    plain = scenario_from(training_dict)
    scripted = scenario_from(training_dict, precincts=[p])
    el = build_election(plain.election)
    a = simulate_precinct(plain, el, plain.precincts[0], precinct_seed(3, 0))
    b = simulate_precinct(scripted, el, scripted.precincts[0], precinct_seed(3, 0))
    assert len(b.voters) == len(a.voters) + 4
    v = b.voters
    by_time = {t: i for i, t in enumerate(v["arrival"].tolist())}
    inactive, restored, rejecter, overvoter = (by_time[m] for m in (555.0, 630.0, 660.0, 665.0))
    assert v["outcome"][inactive] == Outcome.AFFIDAVIT and v["status"][inactive] == RollStatus.INACTIVE
    assert v["outcome"][restored] == Outcome.REGULAR and v["status"][restored] == RollStatus.RESTORED
    assert sum(d.vvpat_records_rejected for d in b.devices) >= 1
    row = np.flatnonzero(b.ballot_voter == overvoter)[0]
    assert np.array_equal(b.cvr[row], b.intent[row])  # the DRE warned, the voter corrected
    # the drawn voters are the same people with the same ballots
    assert np.array_equal(np.sort(a.voters["arrival"]), np.sort(np.delete(v["arrival"], [inactive, restored, rejecter, overvoter])))


def test_a_downed_e_pollbook_switches_to_paper_and_the_technician_comes_within_30_minutes(training_dict):
    p = dict(training_dict["precincts"][0])
    p["equipment"] = dict(p["equipment"], pollbook="electronic")
    incidents = [
        {"at": "15:00", "device": "PB-1", "kind": "pollbook_down", "minutes": 120, "response": "paper_pollbook"},
        {"at": "09:30", "device": "DRE-2", "kind": "machine_failure", "minutes": 20, "response": "technician"},
    ]
    scenario = scenario_from(training_dict, precincts=[p], incidents=incidents)
    el = build_election(scenario.election)
    r = simulate_precinct(scenario, el, scenario.precincts[0], precinct_seed(3, 0))
    tech = next(i for i in r.incidents if i["device"] == "DRE-2")
    assert 20 <= tech["back_at"] - tech["out_from"] <= 50
    switch = next(i for i in r.incidents if i["device"] == "PB-1")
    assert switch["back_at"] - switch["out_from"] == pytest.approx(5.0)
    types = [e.type for e in r.logs["PB"].entries]
    assert "paper-pollbook-in-use" in types and "electronic-pollbook-restored" in types
    v = r.voters
    on_paper = (v["checkin_station"] == 0) & (v["checkin_start"] >= switch["back_at"]) & (v["checkin_start"] < 17 * 60)
    elsewhere = (v["checkin_station"] == 0) & (v["checkin_start"] < 15 * 60)
    dur = v["checkin_end"] - v["checkin_start"]
    assert on_paper.sum() > 5 and np.median(dur[on_paper]) > 2 * np.median(dur[elsewhere])  # paper roster: ~1.9 vs ~0.5 min


def test_a_rejected_record_that_ends_the_roll_is_followed_by_a_new_roll_and_the_cast(training_dict):
    """A VOID record can take the roll's last space: the poll manager loads a new roll while the
    voter waits, then the voter's ballot is printed and cast (it used to be refused: BallotRefused).
    A short roll and many rejections make that happen on every seed tried."""
    p = dict(training_dict["precincts"][0], turnout=0.6)
    p["equipment"] = dict(p["equipment"], dre_units=6, vvpat_roll_feet=20.0)
    scenario = scenario_from(training_dict, precincts=[p], behaviour={"vvpat_reject_share": 0.3})
    el = build_election(scenario.election)
    hit = 0
    for seed in range(6):
        r = simulate_precinct(scenario, el, scenario.precincts[0], precinct_seed(seed, 0))
        regular = int((r.voters["outcome"] == int(Outcome.REGULAR)).sum())
        assert r.ballots_cast == regular == len(r.cvr)  # every regular voter's ballot was cast
        for dev in r.devices:
            if dev.kind == "dre":
                assert dev.public_count == int((r.ballot_device == r.devices.index(dev)).sum())
        outs = [i for i in r.incidents if i["kind"] == "paper_out"]
        hit += sum(1 for i in outs if i["back_at"] - i["out_from"] > 0)
    assert hit > 0
