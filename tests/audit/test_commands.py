"""The entry points the command line calls."""

from __future__ import annotations

from pollsim.audit import cli_draw, cli_sample_size


def test_cli_draw_reads_a_manifest_csv_and_lists_the_draws(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("Container,Tabulator,Batch Name,Number of Ballots\n" + "".join(f"C,T,pct {i},25\n" for i in range(1, 5)))
    draws = cli_draw(path, "12345678901234567890abcdefghijklmnopqrstuvwxyz😊", 20, True, "consistent")
    assert draws[0] == {"batch": "pct 2", "position": 3, "ticket": "0.000617786129909912", "times_drawn": 1}
    assert [(d["batch"], d["position"]) for d in draws[1:3]] == [("pct 3", 24), ("pct 1", 25)]
    assert len(draws) == 20


def test_cli_draw_with_the_colorado_sampler_has_no_tickets(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("Batch Name,Number of Ballots\na,800\nb,76\n")
    draws = cli_draw(path, "3546311556112163624615351222", 5, False, "colorado")
    assert [(d["batch"], d["position"]) for d in draws] == [("a", 740), ("a", 180), ("a", 264), ("a", 789), ("a", 238)]
    assert all(d["ticket"] is None and d["times_drawn"] == 1 for d in draws)


def test_cli_sample_size_gives_the_size_and_simulated_quantiles():
    r = cli_sample_size("kaplan-markov", 0.05, 0.10, None, 0.0, 0.0)
    assert r["sample_size"] == 96 and set(r["quantiles"]) == {"50", "90", "99"}
    assert cli_sample_size("bravo", 0.02, 0.10, 5000, 0.001, 0.0001)["sample_size"] == 5000
