"""One set of numbers (issue 13, item 3): one convention per kind of figure, the same in every file.

- Times of day: ``HH:MM`` is the minute on the clock, the HH:MM:SS a device prints with its
  seconds dropped (19:43:42 is 19:43), in summary.json, precincts.csv, procedures.csv, the
  ballot accounting form, the report, summary.json's incident times and stress's night clocks;
  past midnight the clock runs on (25:10).
- Ballot totals: "total ballots cast" is the form's (f), the regular ballots; affidavit ballots
  are counted apart, everywhere.

The device tapes are printed by the firmware's own clock (:func:`pollsim.devices.firmware.clock_text`),
so the tapes are the independent reference for the times.
"""

from __future__ import annotations

import csv
import json
import re

import numpy as np

from pollsim.devices.firmware import clock_text
from pollsim.rundir import hhmm
from pollsim.scale.stress import stress, write_stress
from pollsim.scenario import load_scenario
from tests.conftest import SCENARIOS
from tests.report.test_report import page_of


def test_hhmm_is_the_tape_clock_without_its_seconds():
    rng = np.random.default_rng(13)
    times = np.concatenate([rng.uniform(0, 48 * 60, 20_000), np.arange(0, 1500, 1 / 120), [1183.7, 1183.999, 1183.9917, 719.99999]])
    for t in times.tolist():
        assert hhmm(t) == clock_text(t)[:5], t
    assert (hhmm(1183.7), hhmm(25 * 60 + 10.2), hhmm(float("nan"))) == ("19:43", "25:10", "")


def test_every_file_gives_the_last_voter_out_on_the_same_clock(bare_run):
    s = json.loads((bare_run / "summary.json").read_text())
    last = s["last_voter_out"]
    with (bare_run / "precincts.csv").open() as f:
        assert [r["last_voter_out"] for r in csv.DictReader(f)] == [last]
    with (bare_run / "procedures.csv").open() as f:
        closing = [r for r in csv.DictReader(f) if r["phase"] == "closing"]
    assert closing[0]["start"] == last  # closing begins as the last voter leaves
    form = next((bare_run / "forms").glob("*.txt")).read_text()
    assert f"Polls closed after the last voter at {last}\n" in form
    printed = {m for tape in (bare_run / "tapes").rglob("*-results.txt") for m in re.findall(r"^PRINTED\s+(\d\d:\d\d:\d\d)$", tape.read_text(), re.M)}
    assert printed and {p[:5] for p in printed} == {last}  # the results tapes print as the last voter leaves
    assert page_of(bare_run).facts["summary"]["last_voter_out"] == last


def test_incident_times_in_summary_json_are_on_the_clock(full_run):
    s = json.loads((full_run / "summary.json").read_text())
    for i in s["incidents"]:
        assert re.fullmatch(r"\d\d:\d\d", i["out_from"]) and re.fullmatch(r"\d\d:\d\d", i["back_at"])
        h0, m0, h1, m1 = (int(x) for x in (*i["out_from"].split(":"), *i["back_at"].split(":")))
        assert abs((h1 * 60 + m1) - (h0 * 60 + m0) - i["minutes_out"]) <= 1
    night = s["reporting"]
    assert all(re.fullmatch(r"\d\d:\d\d", i["time"]) for i in night["incidents"])
    with (full_run / "reporting.csv").open() as f:
        times = [r["time"] for r in csv.DictReader(f)]
    assert times == sorted(times) and all(re.fullmatch(r"\d\d:\d\d", t) for t in times)  # past midnight: 24:30, not 00:30


def test_total_ballots_cast_is_the_forms_f_everywhere(full_run):
    s = json.loads((full_run / "summary.json").read_text())
    with (full_run / "precincts.csv").open() as f:
        rows = list(csv.DictReader(f))
    rec = {r["precinct"]: r for r in json.loads((full_run / "reconciliation.json").read_text())["precincts"]}
    for r in rows:
        form = (full_run / "forms" / f"{r['precinct']}-ballot-accounting.txt").read_text()
        f_line = int(re.search(r"^\(f\) total ballots cast \.+\s+(\d+)$", form, re.M)[1])
        affidavit = int(re.search(r"affidavit ballots \(sealed, counted later\) \.+\s+(\d+)$", form, re.M)[1])
        assert int(r["total_ballots_cast"]) == f_line == int(r["ballots_cast"]) == rec[r["precinct"]]["f_total_cast"]
        assert int(r["affidavit_ballots"]) == affidavit
    assert s["ballots_cast"] == sum(int(r["total_ballots_cast"]) for r in rows)
    assert s["voters"] == s["ballots_cast"] + s["affidavit_ballots"]


def test_stress_gives_its_nights_on_the_same_clock(tmp_path):
    dist, rows = stress(load_scenario(SCENARIOS / "training-precinct.yaml"), 5, 1)
    [row] = rows
    assert re.fullmatch(r"\d\d:\d\d", row["last_voter_out"]) and row["all_reported"] is not None and re.fullmatch(r"\d\d:\d\d", row["all_reported"])
    h, m = map(int, row["last_voter_out"].split(":"))
    assert h * 60 + m == int(dist["last_voter_out_minutes"]["max"] + 1 / 120)  # the statistic keeps minutes after midnight
    write_stress(tmp_path, dist, rows)
    assert json.loads((tmp_path / "stress.json").read_text())["per_night"][0]["last_voter_out"] == row["last_voter_out"]
    with (tmp_path / "stress.csv").open() as f:
        assert next(csv.DictReader(f))["all_reported"] == row["all_reported"]
