"""Polycentricity: primacy indices, rank–size regression, morphological and functional
polycentricity — hand-computed, with statsmodels as the reference for the regressions."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from cocity.metrics.errors import MetricInputError
from cocity.metrics.polycentricity import (
    eleven_city_index,
    four_city_index,
    functional_polycentricity,
    morphological_polycentricity,
    primacy_indices,
    rank_size,
    two_city_index,
)

SIZES = pd.Series([100.0, 50, 25, 20, 10, 9, 8, 7, 6, 5, 4, 3],
                  index=[f"c{i}" for i in range(12)])
# Perfect rank–size rule: P_r = 1000 / r, r = 1 … 11.
ZIPF = pd.Series([1000.0 / r for r in range(1, 12)])


# ----------------------------------------------------------------------------- primacy


def test_primacy_indices_by_hand() -> None:
    # S2 = 100/50 = 2; S4 = 100/(50+25+20) = 100/95; S11 = 200/(50+25+20+10+9+8+7+6+5+4) = 200/144
    assert two_city_index(SIZES) == pytest.approx(2.0)
    assert four_city_index(SIZES) == pytest.approx(100 / 95)
    assert eleven_city_index(SIZES) == pytest.approx(200 / 144)
    shuffled = SIZES.sample(frac=1.0, random_state=1)
    pd.testing.assert_series_equal(primacy_indices(shuffled), primacy_indices(SIZES))
    assert primacy_indices(SIZES).index.tolist() == ["s2", "s4", "s11"]


def test_primacy_under_the_rank_size_rule() -> None:
    # S2 = 2; S4 = 1/(1/2 + 1/3 + 1/4) = 12/13; S11 = 2/(H11 − 1), H11 = 83711/27720
    s = primacy_indices(ZIPF)
    assert s["s2"] == pytest.approx(2.0)
    assert s["s4"] == pytest.approx(12 / 13)
    assert s["s11"] == pytest.approx(2 / (83711 / 27720 - 1))


def test_primacy_needs_enough_cities(english: None) -> None:
    with pytest.raises(MetricInputError, match="S4 needs at least 4 cities; got 3"):
        four_city_index([3.0, 2.0, 1.0])
    with pytest.raises(MetricInputError, match="S11 needs at least 11 cities; got 10"):
        primacy_indices(ZIPF.iloc[:10])
    assert primacy_indices(ZIPF.iloc[:4], which=("s2", "s4")).tolist() == pytest.approx(
        [2.0, 12 / 13])
    with pytest.raises(MetricInputError, match="unknown primacy index s3"):
        primacy_indices(ZIPF, which=("s3",))


@pytest.mark.parametrize("bad", [[3.0, 0.0, 1.0, 1.0], [3.0, -2.0, 1.0, 1.0],
                                 [3.0, np.nan, 1.0, 1.0], [3.0, np.inf, 1.0, 1.0]])
def test_sizes_must_be_positive(english: None, bad: list[float]) -> None:
    with pytest.raises(MetricInputError, match=r"finite and positive.*1"):
        two_city_index(bad)
    with pytest.raises(MetricInputError, match="finite and positive"):
        rank_size(bad)


# ----------------------------------------------------------------------------- rank–size


def test_rank_size_on_an_exact_power_law() -> None:
    fit = rank_size(ZIPF)
    assert fit.q == pytest.approx(1.0)
    assert fit.se == pytest.approx(0.0, abs=1e-12)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.intercept == pytest.approx(math.log(1000))
    assert fit.n == 11
    assert fit.se_gi == pytest.approx(math.sqrt(2 / 11))


def test_rank_size_matches_statsmodels() -> None:
    for top, shift in ((None, 0.0), (6, 0.0), (None, 0.5)):
        fit = rank_size(SIZES.sample(frac=1.0, random_state=2), top=top, rank_shift=shift)
        P = np.sort(SIZES.to_numpy())[::-1][:top]
        r = np.arange(1, len(P) + 1)
        ols = sm.OLS(np.log(P), sm.add_constant(np.log(r - shift))).fit()
        assert fit.slope == pytest.approx(ols.params[1], rel=1e-12)
        assert fit.q == pytest.approx(-ols.params[1], rel=1e-12)
        assert fit.se == pytest.approx(ols.bse[1], rel=1e-10)
        assert fit.intercept == pytest.approx(ols.params[0], rel=1e-12)
        assert fit.r2 == pytest.approx(ols.rsquared, rel=1e-12)
        assert fit.n == len(P)


def test_rank_size_with_equal_sizes_is_flat() -> None:
    fit = rank_size([5.0] * 6)
    assert (fit.q, fit.se, fit.r2) == (0.0, 0.0, 1.0)


def test_rank_size_bad_options(english: None) -> None:
    with pytest.raises(MetricInputError, match="needs at least 3 cities"):
        rank_size([2.0, 1.0])
    with pytest.raises(MetricInputError, match="top must be an integer from 3 to 12"):
        rank_size(SIZES, top=2)
    with pytest.raises(MetricInputError, match="rank_shift"):
        rank_size(SIZES, rank_shift=1.0)


# ----------------------------------------------------------------------------- morphological


def test_morphological_polycentricity_by_hand() -> None:
    # Rank–size rule: every slope is −1. Top two of SIZES: (ln 50 − ln 100)/ln 2 = −1.
    m = morphological_polycentricity(ZIPF)
    np.testing.assert_allclose(m.to_numpy(), -1.0)
    assert m.index.tolist() == ["slope_top2", "slope_top3", "slope_top4", "mean_slope"]
    m = morphological_polycentricity(SIZES)
    assert m["slope_top2"] == pytest.approx(-1.0)
    x = np.log([1.0, 2.0, 3.0])
    ref3 = sm.OLS(np.log([100.0, 50.0, 25.0]), sm.add_constant(x)).fit().params[1]
    assert m["slope_top3"] == pytest.approx(ref3, rel=1e-12)
    assert m["mean_slope"] == pytest.approx(m.iloc[:3].mean())
    # Equal largest cities: perfectly polycentric.
    np.testing.assert_allclose(morphological_polycentricity([7.0] * 4).to_numpy(), 0.0,
                               atol=1e-15)


def test_morphological_bad_tops(english: None) -> None:
    with pytest.raises(MetricInputError, match="tops"):
        morphological_polycentricity(SIZES, tops=(1, 2))
    with pytest.raises(MetricInputError, match="needs at least 5 cities; got 4"):
        morphological_polycentricity([4.0, 3.0, 2.0, 1.0], tops=(5,))


# ----------------------------------------------------------------------------- functional


def test_green_functional_polycentricity_of_a_star() -> None:
    # Star with 4 leaves: degrees (4, 1, 1, 1, 1), mean 1.6, σ = √((2.4² + 4·0.6²)/5) = 1.2;
    # σ_max = std{0, 4} = 2 → balance 0.4; density 4/10 → P_F = 0.16.
    f = functional_polycentricity(nx.star_graph(4), weight=None)
    assert f["sigma"] == pytest.approx(1.2)
    assert f["sigma_max"] == pytest.approx(2.0)
    assert f["balance"] == pytest.approx(0.4)
    assert f["density"] == pytest.approx(0.4)
    assert f["polycentricity"] == pytest.approx(0.16)


def test_green_functional_polycentricity_weighted() -> None:
    # Path A–B (2), B–C (4): strengths (2, 6, 4), σ = √(8/3), σ_max = 3,
    # density = (2 + 4)/(3 pairs · max 4) = 0.5.
    G = nx.Graph()
    G.add_edge("A", "B", weight=2.0)
    G.add_edge("B", "C", weight=4.0)
    f = functional_polycentricity(G)
    assert f["sigma"] == pytest.approx(math.sqrt(8 / 3))
    assert f["balance"] == pytest.approx(1 - math.sqrt(8 / 3) / 3)
    assert f["density"] == pytest.approx(0.5)
    assert f["polycentricity"] == pytest.approx((1 - math.sqrt(8 / 3) / 3) * 0.5)


def test_a_complete_even_network_is_fully_polycentric() -> None:
    f = functional_polycentricity(nx.complete_graph(4), weight=None)
    assert (f["balance"], f["density"], f["polycentricity"]) == (1.0, 1.0, 1.0)


def test_functional_polycentricity_bad_input(english: None) -> None:
    with pytest.raises(MetricInputError, match="no links"):
        functional_polycentricity(nx.empty_graph(3))
    with pytest.raises(MetricInputError, match="undirected"):
        functional_polycentricity(nx.DiGraph([(0, 1)]))
    with pytest.raises(MetricInputError, match="at least 2"):
        functional_polycentricity(nx.empty_graph(1))


def test_real_data_polycentricity_is_finite() -> None:
    from cocity.datasets import open_store

    store = open_store()
    pop = store.panel(["pop_total"], years=[2020], level="prefecture")["pop_total"]
    s = primacy_indices(pop)
    # Chongqing (32.1 M) over Chengdu (20.9 M): a twin-core, not a primate, system.
    assert 1.4 < s["s2"] < 1.7
    fit = rank_size(pop)
    assert 0.5 < fit.q < 1.5 and fit.se > 0
