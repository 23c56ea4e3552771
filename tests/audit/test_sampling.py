"""Samplers: the published check vectors, consistency, and the public dice seed."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from pollsim.audit import sampling
from pollsim.audit.errors import SeedError
from pollsim.audit.manifest import BallotManifest
from pollsim.audit.sampling import ConsistentSampler, colorado_draws, consistent_draws, format_dice_seed, parse_dice_seed, times_drawn

ARLO_SEED = "12345678901234567890abcdefghijklmnopqrstuvwxyz😊"


def manifest(names, counts) -> BallotManifest:
    return BallotManifest(tuple(names), ("",) * len(names), ("",) * len(names), np.array(counts, np.int64))


def arlo_manifest() -> BallotManifest:
    return manifest([f"pct {i}" for i in range(1, 5)], [25] * 4)


def reference_sampler(ids, seed, count, with_replacement):
    """The published description, written out directly: every ballot's ticket in a sorted list."""

    def uniform(text):
        return "0." + f"{int(hashlib.sha256(text.encode()).hexdigest(), 16):064d}"[::-1]

    def nxt(x):
        x0 = x + "0"
        k = next(i for i in range(2, len(x0)) if x0[i] < "9")
        y, i = "0.", 0
        while y <= x0:
            i += 1
            y = x0[:k] + uniform(x + ":" + str(i))[2:]
        return y

    def trim18(x):
        k = next(i for i in range(2, len(x + "0")) if (x + "0")[i] < "9")
        return x[: k + 18]

    seed_hash = hashlib.sha256(seed.encode()).hexdigest()
    tickets = sorted((uniform(seed_hash + str(i)), i, 1) for i in ids)
    out = []
    while len(out) < count:
        t = tickets.pop(0)
        out.append((trim18(t[0]), t[1], t[2]))
        if with_replacement:
            tickets.append((nxt(t[0]), t[1], t[2] + 1))
            tickets.sort()
    return out


def test_consistent_sampler_reproduces_arlos_check_vector():
    rows = consistent_draws(arlo_manifest(), ARLO_SEED, 20, with_replacement=True).rows(arlo_manifest())
    assert len(rows) == 20
    assert (rows[0]["batch"], rows[0]["position"], rows[0]["ticket"]) == ("pct 2", 3, "0.000617786129909912")
    assert (rows[1]["batch"], rows[1]["position"]) == ("pct 3", 24)
    assert (rows[2]["batch"], rows[2]["position"]) == ("pct 1", 25)
    assert all(len(r["ticket"]) == 20 for r in rows)  # "0." and 18 digits (no leading nines here)


def test_consistent_sampler_matches_the_published_algorithm_draw_for_draw():
    m = arlo_manifest()
    ids = [(f"pct {b}", p) for b in range(1, 5) for p in range(1, 26)]
    for with_replacement in (True, False):
        want = reference_sampler(ids, ARLO_SEED, 60, with_replacement)
        got = consistent_draws(m, ARLO_SEED, 60, with_replacement).rows(m)
        assert [(r["ticket"], (r["batch"], r["position"]), r["times_drawn"]) for r in got] == want


def test_tickets_close_to_one_keep_eighteen_digits_after_their_nines():
    m = manifest(["only"], [2])
    got = consistent_draws(m, "9", 120).rows(m)
    want = reference_sampler([("only", 1), ("only", 2)], "9", 120, True)
    assert [(r["ticket"], r["times_drawn"]) for r in got] == [(t, g) for t, _, g in want]
    assert got[-1]["ticket"].startswith("0.99999") and len(got[-1]["ticket"]) > 20


def test_a_larger_sample_extends_the_smaller_one():
    m = manifest(["a", "b", "c"], [40, 7, 300])
    small = consistent_draws(m, "314159", 30)
    big = consistent_draws(m, "314159", 90)
    assert big.cards[:30].tolist() == small.cards.tolist()
    assert big.tickets[:30] == small.tickets


def test_tickets_increase_and_a_ballot_drawn_again_gets_a_larger_ticket():
    m = manifest(["x"], [3])
    s = consistent_draws(m, "7", 30)
    assert list(s.tickets) == sorted(s.tickets)
    assert s.times_drawn.max() > 1


def test_sampling_without_replacement_never_repeats_and_can_take_every_ballot():
    m = manifest(["a", "b"], [5, 6])
    s = consistent_draws(m, "7", 11, with_replacement=False)
    assert sorted(s.cards.tolist()) == list(range(11))
    assert set(s.times_drawn.tolist()) == {1}


def test_ballot_ids_are_python_tuples_with_quotes_escaped_as_repr_does():
    assert sampling.ballot_id("O'Brien 1", 3) == str(("O'Brien 1", 3)) == "(\"O'Brien 1\", 3)"
    m = manifest(["O'Brien 1", 'say "hi"'], [4, 4])
    ids = [("O'Brien 1", p) for p in range(1, 5)] + [('say "hi"', p) for p in range(1, 5)]
    want = reference_sampler(ids, "1", 8, False)
    assert [(r["batch"], r["position"]) for r in consistent_draws(m, "1", 8, False).rows(m)] == [i for _, i, _ in want]


def test_the_second_process_hashes_the_same_keys_as_one(monkeypatch):
    m = manifest([f"b{i}" for i in range(30)], [100 + i for i in range(30)])
    one = ConsistentSampler(m, "42", workers=1).keys
    monkeypatch.setattr(sampling, "PARALLEL_MIN", 10)
    two = ConsistentSampler(m, "42", workers=2).keys
    assert np.array_equal(one, two)


def test_colorado_sampler_reproduces_its_check_vector():
    assert colorado_draws("3546311556112163624615351222", 5, 1, 876, with_replacement=False) == [740, 180, 264, 789, 238]


def test_colorado_sampler_with_replacement_counts_repeats():
    picks = colorado_draws("1", 50, 1, 5, with_replacement=True)
    assert set(picks) <= set(range(1, 6))
    assert times_drawn(np.array(picks)).max() > 1


def test_dice_seed_is_twenty_digits_and_formats_in_groups_of_five():
    assert parse_dice_seed("01234 56789-01234,56789") == "01234567890123456789"
    assert format_dice_seed("01234567890123456789") == "01234 56789 01234 56789"


@pytest.mark.parametrize("bad, says", [("0123456789", "10 digits"), ("0123456789012345678A", "'A' is not a digit"), ("012345678901234567890", "21 digits")])
def test_a_dice_seed_that_is_not_twenty_rolls_is_refused(bad, says):
    with pytest.raises(SeedError, match=says):
        parse_dice_seed(bad)


def test_each_ballots_sort_key_is_the_first_twelve_digits_of_its_ticket():
    m = manifest(["a", "b 2", "c'3", "big"], [100, 57, 80, sampling._BLOCK + 9])  # "big" spans two hashing blocks
    s = ConsistentSampler(m, "2718281828")
    batch, pos = m.locate(np.arange(m.total))
    want = [int(sampling.first_ticket(s.seed_hash, sampling.ballot_id(m.batch_names[b], p))[2:14]) for b, p in zip(batch.tolist(), pos.tolist(), strict=True)]
    assert s.keys.tolist() == want


def test_a_dice_seed_draws_the_same_sample_however_it_is_written():
    m = manifest(["a", "b"], [30, 30])
    spaced = sampling.make_sampler("consistent", m, "01234 56789 01234 56789").draws(10)
    plain = sampling.make_sampler("consistent", m, "01234567890123456789").draws(10)
    assert spaced.cards.tolist() == plain.cards.tolist()
    assert sampling.canonical_seed("12345678901234567890abc") == "12345678901234567890abc"
