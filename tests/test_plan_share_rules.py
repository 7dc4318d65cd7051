"""The cost-sharing rules against closed forms, published examples and an independent
implementation (coopgame-py, Rust) on identical games."""

from __future__ import annotations

import itertools

import coopgame
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocity.plan.errors import PlanInputError
from cocity.plan.sharing import (
    airport_game,
    core_nonempty,
    in_core,
    nucleolus,
    proportional,
    scrb,
    shapley,
    shapley_sampled,
    subset_sums,
)
from cocity.plan.sharing_costs import haversine_km, mst_cost_function, mst_game, mst_weight


def game(values: dict[int, float], n: int) -> np.ndarray:
    out = np.zeros(1 << n)
    for mask, v in values.items():
        out[mask] = v
    return out


def random_game(rng: np.random.Generator, n: int) -> np.ndarray:
    """A subadditive-ish cost game: the MST game of random points (core non-empty)."""
    pts = rng.uniform(size=(n + 1, 2))
    return mst_game(np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1)))


def airport_closed_form(r: np.ndarray) -> np.ndarray:
    """Littlechild & Owen (1973): each cost increment shared equally by those needing it."""
    order = np.argsort(r, kind="stable")
    levels = np.r_[0.0, r[order]]
    n = len(r)
    per = np.cumsum(np.diff(levels) / (n - np.arange(n)))
    out = np.empty(n)
    out[order] = per
    return out


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=9))
def test_shapley_of_the_airport_game_is_the_littlechild_owen_closed_form(r):
    r = np.array(r)
    assert shapley(airport_game(r)).shares == pytest.approx(airport_closed_form(r), abs=1e-7)


def test_published_examples():
    # Ferguson, "Game Theory", Part IV (coalitional games), nucleolus example, as checked in
    # the tests of the CoopGame R package: the profit game v(1)=-1, v(2)=0, v(3)=1,
    # v(12)=3, v(13)=4, v(23)=2, v(123)=5 has nucleolus (8/3, 2/3, 5/3). As a cost game
    # c = -v the nucleolus is its negative.
    v = {1: -1, 2: 0, 4: 1, 3: 3, 5: 4, 6: 2, 7: 5}
    c = game({k: -x for k, x in v.items()}, 3)
    assert -nucleolus(c).shares == pytest.approx([8 / 3, 2 / 3, 5 / 3], abs=1e-9)
    # GameTheoryAllocation (R, Saavedra-Nieves), Shapley_value example: the cost game
    # c(1)=1, c(2)=1, c(3)=2, c(12)=1, c(13)=2, c(23)=2, c(123)=2 → (1/3, 1/3, 4/3).
    g = game({1: 1, 2: 1, 4: 2, 3: 1, 5: 2, 6: 2, 7: 2}, 3)
    assert shapley(g).shares == pytest.approx([1 / 3, 1 / 3, 4 / 3])


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6, 8])
def test_shapley_and_nucleolus_match_coopgame_on_identical_games(n):
    rng = np.random.default_rng(np.random.SeedSequence(7).spawn(9)[n])
    for _ in range(3):
        c = random_game(rng, n)
        ref = coopgame.Game(list(c[1:]))
        assert shapley(c).shares == pytest.approx(coopgame.shapley(ref), abs=1e-7)
        assert nucleolus(c).shares == pytest.approx(coopgame.cost_nucleolus(ref), abs=1e-6)
    a = airport_game(rng.uniform(1, 10, size=n))
    ref = coopgame.airport(list(a[[1 << i for i in range(n)]]))
    assert nucleolus(a).shares == pytest.approx(ref["nucleolus"], abs=1e-6)


def _sorted_excesses(c: np.ndarray, x: np.ndarray) -> np.ndarray:
    full = len(c) - 1
    return np.sort((c - subset_sums(x))[1:full])


def test_nucleolus_is_efficient_and_lexicographically_best_over_a_grid():
    rng = np.random.default_rng(3)
    c = random_game(rng, 3)
    x = nucleolus(c).shares
    assert x.sum() == pytest.approx(c[7])
    best = _sorted_excesses(c, x)
    step = c[7] / 60
    for a, b in itertools.product(np.arange(-20, 80) * step, repeat=2):
        y = np.array([a, b, c[7] - a - b])
        if (y > c[[1, 2, 4]] + 1e-12).any():
            continue  # outside the imputation set
        other = _sorted_excesses(c, y)
        k = np.flatnonzero(np.abs(other - best) > 1e-9)
        assert k.size == 0 or other[k[0]] < best[k[0]]  # never lexicographically larger


def test_scrb_hand_computed():
    # c(1)=6, c(2)=7, c(3)=8, c(12)=10, c(13)=11, c(23)=12, c(N)=15.
    # separable s = (15-12, 15-11, 15-10) = (3, 4, 5); remaining r = c(i) - s = (3, 3, 3);
    # non-separable 15 - 12 = 3 shared equally → (4, 5, 6).
    c = game({1: 6, 2: 7, 4: 8, 3: 10, 5: 11, 6: 12, 7: 15}, 3)
    assert scrb(c).shares == pytest.approx([4, 5, 6])
    assert proportional(c).shares == pytest.approx(np.array([6, 7, 8]) / 21 * 15)
    assert proportional(c, weights=[1, 1, 2], name="population").shares == \
        pytest.approx([3.75, 3.75, 7.5])
    bad = game({1: 1, 2: 1, 4: 1, 3: 2, 5: 2, 6: 2, 7: 4}, 3)  # s_i = 2 > c(i) = 1
    with pytest.raises(PlanInputError, match="1, 2, 3"):
        scrb(bad)


def test_core_check_names_the_most_violated_coalition_and_an_empty_core():
    # c(i)=1, c(ij)=1, c(N)=2: x(S) ≤ 1 on pairs sums to 2x(N) ≤ 3 < 4 — the core is empty.
    c = game({1: 1, 2: 1, 4: 1, 3: 1, 5: 1, 6: 1, 7: 2}, 3)
    assert not core_nonempty(c)
    check = in_core(c, shapley(c).shares)
    assert not check.in_core and check.efficient
    assert check.min_excess == pytest.approx(1 - 4 / 3) and len(check.members) == 2
    ok = game({1: 6, 2: 7, 4: 8, 3: 10, 5: 11, 6: 12, 7: 15}, 3)
    assert core_nonempty(ok) and in_core(ok, [4, 5, 6]).in_core
    worst = in_core(ok, [7, 4, 4])  # {1} pays 7 > 6
    assert not worst.in_core and worst.members == (0,) and worst.min_excess == pytest.approx(-1)
    assert not in_core(ok, [4, 5, 5]).efficient


def test_mst_cost_function_matches_networkx():
    rng = np.random.default_rng(11)
    pts = np.c_[rng.uniform(103, 108, 9), rng.uniform(28, 32, 9)]
    d = haversine_km(pts[:, 0], pts[:, 1])
    ref = nx.minimum_spanning_tree(nx.from_numpy_array(d)).size(weight="weight")
    assert mst_weight(d) == pytest.approx(ref)
    c = mst_game(d, root=0, per_unit=2.0)
    for mask in (1, 0b101, 0b11110000, (1 << 8) - 1):
        idx = [0] + [i + 1 for i in range(8) if mask >> i & 1]
        sub = nx.minimum_spanning_tree(nx.from_numpy_array(d[np.ix_(idx, idx)]))
        assert c[mask] == pytest.approx(2 * sub.size(weight="weight"))
    # Bird's game has a non-empty core; the representative points of Chengdu and Chongqing
    # (the middle of the municipality) are ≈ 390 km apart as the crow flies
    assert core_nonempty(c)
    cd_cq = haversine_km([103.8663, 107.8712], [30.76301, 30.18075])[0, 1]
    assert 380 < cd_cq < 400


def test_sampled_shapley_covers_the_exact_value():
    rng = np.random.default_rng(5)
    pts = rng.uniform(size=(9, 2))
    d = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    exact = shapley(mst_game(d)).shares
    est = shapley_sampled(mst_cost_function(d), 8, samples=3000, seed=42)
    assert est.low is not None and est.high is not None and not est.exact
    assert ((est.low <= exact) & (exact <= est.high)).sum() >= 7  # 95 % intervals
    assert est.shares.sum() == pytest.approx(exact.sum())
    again = shapley_sampled(mst_cost_function(d), 8, samples=3000, seed=42)
    assert np.array_equal(again.shares, est.shares)


def test_bad_games_are_refused():
    with pytest.raises(PlanInputError, match="2\\^n"):
        shapley(np.zeros(6))
    with pytest.raises(PlanInputError, match="0"):
        nucleolus(np.array([1.0, 1.0, 1.0, 1.0]))
    # stand-alone costs 1 + 1 < joint 3: no imputation
    with pytest.raises(PlanInputError, match="3"):
        nucleolus(np.array([0.0, 1.0, 1.0, 3.0]))
    with pytest.raises(PlanInputError, match=r"samples|抽样"):
        shapley_sampled(lambda s: float(len(s)), 3, samples=1, seed=0)


def test_nucleolus_matches_coopgame_on_general_games_with_or_without_a_core():
    rng = np.random.default_rng(np.random.SeedSequence(21).spawn(1)[0])
    empty_cores = 0
    for _ in range(30):
        n = int(rng.integers(2, 7))
        c = np.r_[0.0, rng.uniform(1, 10, size=(1 << n) - 1)]
        alone = c[[1 << i for i in range(n)]].sum()
        c[-1] = min(c[-1], alone * rng.uniform(0.5, 1.0))  # a non-empty imputation set
        empty_cores += not core_nonempty(c)
        ref = coopgame.cost_nucleolus(coopgame.Game(list(c[1:])))
        assert nucleolus(c).shares == pytest.approx(ref, abs=1e-6)
    assert empty_cores > 0  # the comparison covers games whose core is empty
