"""Dominion-style CVR CSV as Arlo parses it: four header rows, one row per ballot, columns that
re-tally to the summary."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

from pollsim.export import export_run
from pollsim.export.dominion import META_COLUMNS
from tests.conftest import reseal

from .conftest import election, read_csv, summary


@pytest.fixture(scope="module")
def dominion(run_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("dominion") / "cvr.csv"
    result = export_run(run_dir, "dominion-cvr", out)
    return run_dir, result, read_csv(out)


def parse_like_arlo(rows):
    """Arlo's parse_dominion_cvrs: contest headers, choices, metadata columns, then per contest and
    choice the votes of ballots that have the contest and did not overvote it."""
    contest_row = rows[1]
    first = next(i for i, v in enumerate(contest_row) if v != "")
    contests = {}
    for col, (header, choice) in enumerate(zip(contest_row[first:], rows[2][first:], strict=True)):
        m = re.match(r"^(.+) \(Vote For=(\d+)\)$", header)
        assert m, header
        c = contests.setdefault(m[1], {"votes_allowed": int(m[2]), "choices": {}})
        c["choices"][choice] = {"column": col, "num_votes": 0}
    headers = {h: i for i, h in enumerate(rows[3][:first])}
    for row in rows[4:]:
        marks = row[first:]
        for c in contests.values():
            cells = [marks[ch["column"]] for ch in c["choices"].values()]
            if any(x == "" for x in cells) or sum(map(int, cells)) > c["votes_allowed"]:
                continue
            for ch in c["choices"].values():
                ch["num_votes"] += int(marks[ch["column"]])
    return first, headers, contests


def test_four_header_rows_then_one_row_per_ballot(dominion):
    run_dir, result, rows = dominion
    el = election(run_dir)
    assert rows[0][:2] == [el.name, "pollsim 0.1.0"] and set(rows[0][2:]) == {""}
    assert rows[3][: len(META_COLUMNS)] == [
        "CvrNumber", "TabulatorNum", "BatchId", "RecordId", "ImprintedId", "CountingGroup", "PrecinctPortion", "BallotType",
    ]  # fmt: skip
    assert rows[3][len(META_COLUMNS) :] == [ch.party for c in el.contests for ch in c.choices]
    assert len({len(r) for r in rows}) == 1
    n = summary(run_dir)["ballots_cast"]
    assert result.records == len(rows) - 4 == n
    assert [r[0] for r in rows[4:]] == [str(i) for i in range(1, n + 1)]
    assert all(r[5] == "Election Day" and r[6] == "training-1" and r[7] == "style-1" for r in rows[4:])


def test_arlo_reads_the_contests_and_choices_of_the_election(dominion):
    run_dir, _, rows = dominion
    el = election(run_dir)
    first, headers, contests = parse_like_arlo(rows)
    assert first == len(META_COLUMNS) and list(headers) == META_COLUMNS
    assert list(contests) == [c.title for c in el.contests]
    for c in el.contests:
        assert contests[c.title]["votes_allowed"] == c.vote_for
        assert list(contests[c.title]["choices"]) == [ch.name for ch in c.choices]


@pytest.mark.parametrize("which", ["training", "synthetic"])
def test_choice_columns_sum_to_the_tally(which, dominion, synthetic_run, tmp_path):
    if which == "training":
        run_dir, _, rows = dominion
    else:
        run_dir = synthetic_run
        export_run(run_dir, "dominion-cvr", tmp_path / "cvr.csv")
        rows = read_csv(tmp_path / "cvr.csv")
    el = election(run_dir)
    _, _, contests = parse_like_arlo(rows)
    got = {c.id: {ch.id: contests[c.title]["choices"][ch.name]["num_votes"] for ch in c.choices} for c in el.contests}
    assert got == summary(run_dir)["tally"]
    # the raw columns are the electronic record itself, overvotes included
    marks = np.array([[int(x) for x in r[len(META_COLUMNS) :]] for r in rows[4:]])
    assert np.array_equal(marks, np.load(run_dir / "ballots.npz")["cvr"])


def test_a_contest_off_the_ballot_style_is_left_blank(dre_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(dre_run[1], run_dir)
    d = json.loads((run_dir / "election.json").read_text())
    d["ballot_styles"][0]["contests"].remove("local-option")
    (run_dir / "election.json").write_text(json.dumps(d))
    reseal(run_dir)
    cvr = np.load(run_dir / "ballots.npz")["cvr"]
    export_run(run_dir, "dominion-cvr", tmp_path / "cvr.csv")
    rows = read_csv(tmp_path / "cvr.csv")[4:]
    for row, rec in zip(rows, cvr, strict=True):
        last = row[-2:]
        assert last == (["", ""] if not rec[-2:].any() else [str(v) for v in rec[-2:]])
