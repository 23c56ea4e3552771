"""The Mississippi scenarios: the 2020 replay reproduces the certified presidential count exactly."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from pollsim.precinct.election_day import run_election_day
from pollsim.scenario import Scenario, load_scenario
from pollsim.scenario.mississippi import counties
from pollsim.tabulate import tally_dict
from tests.conftest import SCENARIOS


def test_the_scenarios_generate_the_published_precinct_counts():
    s20 = load_scenario(SCENARIOS / "ms-2020-general.yaml")
    s24 = load_scenario(SCENARIOS / "ms-2024-general.yaml")
    assert len(s20.precincts) == 1765 and len(s24.precincts) == 1736
    assert len({p.county for p in s20.precincts}) == 82
    dre_counties = {c.name for c in counties() if c.dre_in_2020}
    assert {p.county for p in s20.precincts if p.equipment.kind == "dre"} == dre_counties
    assert all(p.equipment.kind == "paper" for p in s24.precincts)
    assert sum(sum(p.replay.votes.values()) for p in s20.precincts) == 1_313_759


def test_replayed_counties_with_mismatched_precinct_files_still_total_their_certified_votes():
    d = yaml.safe_load((SCENARIOS / "ms-2020-general.yaml").read_text())
    d["mississippi"]["counties"] = ["Hinds", "Amite", "Coahoma"]  # the precinct file is short or over here
    scenario = Scenario.model_validate(d)
    run = run_election_day(scenario, seed=4)
    certified = {c.name: (c.votes_2020, c.trump_2020, c.biden_2020) for c in counties()}
    for county in ("Hinds", "Amite", "Coahoma"):
        cvr = np.concatenate([p.cvr for p in run.precincts if p.county == county])
        paper = np.concatenate([p.paper for p in run.precincts if p.county == county])
        for layer in (cvr, paper):
            t = tally_dict(run.election, layer)["president"]
            assert (sum(t.values()), t["trump"], t["biden"]) == certified[county]


@pytest.mark.slow
def test_the_statewide_2020_replay_equals_the_certified_totals():
    run = run_election_day(load_scenario(SCENARIOS / "ms-2020-general.yaml"), seed=1)
    for layer in ("cvr", "paper"):
        stacked = np.concatenate([getattr(p, layer) for p in run.precincts])
        t = tally_dict(run.election, stacked)["president"]
        assert sum(t.values()) == 1_313_759
        assert (t["trump"], t["biden"]) == (756_764, 539_398)
