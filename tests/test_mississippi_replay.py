"""The Mississippi scenarios: the 2020 replay reproduces the certified presidential count exactly,
split as it happened into election-day, absentee and UOCAVA ballots (EAC EAVS 2020 per county).

Expected values are the certified county totals (ms_counties.csv: OpenElections county file =
certified results) and the EAVS 2020 participation figures of ms_county_supplement.csv (F1b
election day, F1d mail/absentee, F1c UOCAVA), read here straight from the bundled CSV files.
"""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np
import pytest
import yaml

from pollsim.pipeline import run_election
from pollsim.precinct.election_day import run_election_day
from pollsim.rundir import RunDir, write_run
from pollsim.scenario import Scenario, load_scenario
from pollsim.scenario.mississippi import counties
from pollsim.tabulate import tally_dict
from tests.conftest import SCENARIOS


def _csv(name: str) -> dict[str, dict[str, str]]:
    with resources.files("pollsim.data").joinpath(name).open("r", encoding="utf-8") as f:
        return {r["county"]: r for r in csv.DictReader(f)}


CERTIFIED = {c: (int(r["votes_2020_total"]), int(r["trump_2020"]), int(r["biden_2020"])) for c, r in _csv("ms_counties.csv").items()}
EAVS = {c: (int(r["eavs_election_day_2020"]), int(r["eavs_mail_absentee_2020"]), int(r["eavs_uocava_2020"])) for c, r in _csv("ms_county_supplement.csv").items()}


def _scenario(counties_: list[str] | None = None, absentee: bool = True) -> Scenario:
    d = yaml.safe_load((SCENARIOS / "ms-2020-general.yaml").read_text())
    if counties_:
        d["mississippi"]["counties"] = counties_
    if not absentee:
        d.pop("absentee")
    return Scenario.model_validate(d)


def test_the_scenarios_generate_the_published_precinct_counts():
    s20 = load_scenario(SCENARIOS / "ms-2020-general.yaml")
    s24 = load_scenario(SCENARIOS / "ms-2024-general.yaml")
    assert len(s20.precincts) == 1765 and len(s24.precincts) == 1736
    assert len({p.county for p in s20.precincts}) == 82
    dre_counties = {c.name for c in counties() if c.dre_in_2020}
    assert {p.county for p in s20.precincts if p.equipment.kind == "dre"} == dre_counties
    assert all(p.equipment.kind == "paper" for p in s24.precincts)
    total = sum(sum(p.replay.votes.values()) + sum(p.replay.absentee_votes.values()) + sum(p.replay.uocava_votes.values()) for p in s20.precincts)
    assert total == 1_313_759


def test_each_countys_ballots_are_split_in_its_eavs_2020_proportions():
    s = load_scenario(SCENARIOS / "ms-2020-general.yaml")
    by_county: dict[str, np.ndarray] = {}
    for p in s.precincts:
        r = p.replay
        by_county.setdefault(p.county, np.zeros(3, np.int64))
        by_county[p.county] += [sum(r.votes.values()), sum(r.absentee_votes.values()), sum(r.uocava_votes.values())]
    for county, groups in by_county.items():
        total, weights = groups.sum(), np.array(EAVS[county], float)
        assert total == CERTIFIED[county][0]
        assert np.all(np.abs(groups - total * weights / weights.sum()) < 1.0), county  # within one ballot of the EAVS share


def test_the_2024_scenario_splits_the_2024_ballots_the_same_way():
    s = load_scenario(SCENARIOS / "ms-2024-general.yaml")
    rows = _csv("ms_county_supplement.csv")
    for county in ("Hinds", "Tunica", "DeSoto"):
        mine = [p for p in s.precincts if p.county == county]
        absentee, uocava = sum(p.absentee_ballots or 0 for p in mine), sum(p.uocava_ballots or 0 for p in mine)
        total, weights = int(rows[county]["votes_2024_total"]), np.array(EAVS[county], float)
        assert abs(absentee - total * weights[1] / weights.sum()) < 1.0 and abs(uocava - total * weights[2] / weights.sum()) < 1.0


def _certified_by_county(run) -> dict[str, dict[str, dict[str, int]]]:
    """Per county and layer, the presidential tally of every counted ballot (day, absentee, accepted affidavits)."""
    day, ab, cv = run.day, run.absentee, run.canvass
    layers = day.layers()
    county_of = np.array([p.county for p in day.precincts])
    out: dict[str, dict[str, dict[str, int]]] = {}
    for layer in ("cvr", "paper"):
        rows = [layers[layer], getattr(ab, layer), layers["affidavit"][cv.affidavit_counted]]
        pre = [layers["precinct"], ab.ballot_precinct, cv.affidavit_precinct[cv.affidavit_counted]]
        stacked, where = np.concatenate(rows), county_of[np.concatenate(pre)]
        for county in np.unique(where).tolist():
            out.setdefault(county, {})[layer] = tally_dict(day.election, stacked[where == county])["president"]
    return out


def test_replayed_counties_with_mismatched_precinct_files_still_total_their_certified_votes():
    run = run_election(_scenario(["Hinds", "Amite", "Coahoma"]), seed=4)  # the precinct file is short or over here
    for county, layers in _certified_by_county(run).items():
        for t in layers.values():
            assert (sum(t.values()), t["trump"], t["biden"]) == CERTIFIED[county]
        ab = run.absentee
        counted = np.bincount(ab.ballot_precinct, minlength=len(run.day.precincts))
        n = sum(int(counted[i]) for i, p in enumerate(run.day.precincts) if p.county == county)
        e = np.array(EAVS[county], float)
        assert abs(n - CERTIFIED[county][0] * (e[1] + e[2]) / e.sum()) < 2.0  # absentee + UOCAVA, each within one ballot


def test_without_an_absentee_section_the_day_replays_every_certified_vote():
    run = run_election_day(_scenario(["Amite"], absentee=False), seed=2)
    for layer in ("cvr", "paper"):
        t = tally_dict(run.election, np.concatenate([getattr(p, layer) for p in run.precincts]))["president"]
        assert (sum(t.values()), t["trump"], t["biden"]) == CERTIFIED["Amite"]


@pytest.mark.slow
def test_the_statewide_2020_replay_equals_the_certified_totals_in_every_county(tmp_path):
    run = run_election(load_scenario(SCENARIOS / "ms-2020-general.yaml"), seed=1)
    per_county = _certified_by_county(run)
    assert set(per_county) == set(CERTIFIED)
    for county, layers in per_county.items():
        for t in layers.values():
            assert (sum(t.values()), t["trump"], t["biden"]) == CERTIFIED[county], county
    summary = write_run(run, tmp_path / "MS")
    for key in ("tally", "paper_tally"):
        t = summary["canvass"][key]["president"]
        assert (sum(t.values()), t["trump"], t["biden"]) == (1_313_759, 756_764, 539_398)
    rd = RunDir(tmp_path / "MS")
    assert len(rd.absentee_layer("cvr")) == run.absentee.n_ballots and not summary["canvass"]["late_counties"]
