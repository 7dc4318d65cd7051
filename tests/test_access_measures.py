"""Accessibility measures and decay functions (cocity.access.measures, cocity.access.decay).

Hand-computed cases, edge cases, bad inputs, and agreement with PySAL ``access`` on shared
random inputs (the same cost table, as ``access``'s long-form DataFrame).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.spatial import cKDTree

from cocity.access import decay as D
from cocity.access import measures as M
from cocity.access.errors import AccessInputError
from tests.conftest import assert_messages_match

# access (PySAL) calls pandas methods with inplace=True, deprecated in pandas 3.1.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")


@pytest.fixture(autouse=True)
def _english(english: None) -> None:
    """Messages in English, so that the tests can match them (Chinese is the default)."""

# ----------------------------------------------------------------------------- the hand example
#
# Demand a, b, c with P = 100, 200, 50; supply x, y with S = 5, 3; travel times in minutes:
#
#        x    y
#   a    5   25
#   b   15    .        (b cannot reach y: no stored entry)
#   c   40    0        (c is beyond 30 min of x; y is "here": a stored 0)
#
# Cutoff d0 = 30 minutes throughout.

P = pd.Series([100.0, 200.0, 50.0], index=["a", "b", "c"])
S = pd.Series([5.0, 3.0], index=["x", "y"])


def hand_cost() -> sp.csr_matrix:
    return sp.csr_matrix((np.array([5.0, 25.0, 15.0, 40.0, 0.0]), np.array([0, 1, 0, 0, 1]),
                          np.array([0, 2, 3, 5])), shape=(3, 2))


def test_two_step_fca_hand() -> None:
    # Step 1: x is reached by a and b (c at 40 > 30): R_x = 5 / (100 + 200) = 1/60
    #         y is reached by a and c:                R_y = 3 / (100 + 50)  = 0.02
    # Step 2: A_a = R_x + R_y = 0.0366667, A_b = R_x = 0.0166667, A_c = R_y = 0.02
    r = M.two_step_fca(hand_cost(), P, S, cutoff=30)
    assert r.access.index.tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(r.access, [1 / 60 + 0.02, 1 / 60, 0.02], rtol=1e-12)
    np.testing.assert_allclose(r.ratio, [1 / 60, 0.02], rtol=1e-12)
    np.testing.assert_allclose(r.catchment_demand, [300.0, 150.0])
    assert r.unreached == [] and r.zero_demand == []
    assert r.access.name == "2sfca"


def test_enhanced_2sfca_hand() -> None:
    # Luo & Qi zones [0,10) 1, [10,20) 0.68, [20,30] 0.22:
    #   w_ax = 1 (5 min), w_ay = 0.22 (25), w_bx = 0.68 (15), w_cy = 1 (0)
    # R_x = 5 / (100·1 + 200·0.68) = 5/236 = 0.0211864
    # R_y = 3 / (100·0.22 + 50·1)  = 3/72  = 0.0416667
    # A_a = 1·R_x + 0.22·R_y = 0.0303531, A_b = 0.68·R_x = 0.0144068, A_c = R_y = 0.0416667
    r = M.enhanced_2sfca(hand_cost(), P, S)
    rx, ry = 5 / 236, 3 / 72
    np.testing.assert_allclose(r.access, [rx + 0.22 * ry, 0.68 * rx, ry], rtol=1e-12)
    np.testing.assert_allclose(r.access, [0.0303531, 0.0144068, 0.0416667], atol=5e-8)
    np.testing.assert_allclose(r.ratio, [rx, ry], rtol=1e-12)


def test_enhanced_2sfca_zone_boundaries() -> None:
    # One demand point (P = 10) at exactly 10 and 20 minutes from two facilities (S = 1 each).
    # closed="left": 10 → 0.68, 20 → 0.22; R = 1/(10·w) and A = w·R = 1/10 for each facility,
    # whatever w, so compare the ratios: left R = (1/6.8, 1/2.2), right R = (1/10, 1/6.8).
    C = sp.csr_matrix(np.array([[10.0, 20.0]]))
    left = M.enhanced_2sfca(C, [10.0], [1.0, 1.0])
    right = M.enhanced_2sfca(C, [10.0], [1.0, 1.0], closed="right")
    np.testing.assert_allclose(left.ratio, [1 / 6.8, 1 / 2.2], rtol=1e-12)
    np.testing.assert_allclose(right.ratio, [1 / 10, 1 / 6.8], rtol=1e-12)
    # A cost equal to the outer break is in (closed catchment) in both conventions.
    edge = M.enhanced_2sfca(sp.csr_matrix(np.array([[30.0]])), [4.0], [2.0])
    np.testing.assert_allclose(edge.ratio, [2 / (4 * 0.22)])


def test_gaussian_2sfca_hand() -> None:
    # Dai's weight g(d) = (exp(−½(d/30)²) − e^{−½}) / (1 − e^{−½}):
    #   g(5) = 0.9649455, g(25) = 0.2544483, g(15) = 0.7013666, g(0) = 1, g(40) → beyond
    # R_x = 5 / (100·g(5) + 200·g(15)) = 5 / 236.76786 = 0.0211177
    # R_y = 3 / (100·g(25) + 50·g(0))  = 3 / 75.44483  = 0.0397642
    # A_a = g(5) R_x + g(25) R_y = 0.0304954, A_b = g(15) R_x = 0.0148113, A_c = R_y = 0.0397642
    def g(d: float) -> float:
        return (math.exp(-0.5 * (d / 30) ** 2) - math.exp(-0.5)) / (1 - math.exp(-0.5))

    assert g(5) == pytest.approx(0.9649455, abs=1e-7)
    assert g(25) == pytest.approx(0.2544483, abs=1e-7)
    assert g(15) == pytest.approx(0.7013666, abs=1e-7)
    rx = 5 / (100 * g(5) + 200 * g(15))
    ry = 3 / (100 * g(25) + 50)
    r = M.gaussian_2sfca(hand_cost(), P, S, cutoff=30)
    np.testing.assert_allclose(r.access, [g(5) * rx + g(25) * ry, g(15) * rx, ry], rtol=1e-12)
    np.testing.assert_allclose(r.access, [0.0304954, 0.0148113, 0.0397642], atol=5e-8)


def test_three_step_fca_hand() -> None:
    # Weights W = T = the E2SFCA steps (closed right): W_ax = 1, W_ay = 0.22, W_bx = 0.68,
    # W_cy = 1. Selection G: a: 1/1.22 = 0.8196721 (x), 0.22/1.22 = 0.1803279 (y); b: G_bx = 1;
    # c: G_cy = 1 (x at 40 min is beyond the catchment and takes no share).
    # R_x = 5 / (100·1·0.8196721 + 200·0.68·1)      = 5 / 217.96721 = 0.0229392
    # R_y = 3 / (100·0.22·0.1803279 + 50·1·1)       = 3 / 53.967213 = 0.0555893
    # A_a = 0.8196721·1·R_x + 0.1803279·0.22·R_y   = 0.0210080
    # A_b = 1·0.68·R_x = 0.0155987;  A_c = 1·1·R_y = 0.0555893
    w = D.get("step", breaks=(10, 20, 30), weights=(1, 0.68, 0.22), closed="right")
    r = M.three_step_fca(hand_cost(), P, S, cutoff=30, decay=w)
    gax, gay = 1 / 1.22, 0.22 / 1.22
    rx = 5 / (100 * gax + 200 * 0.68)
    ry = 3 / (100 * 0.22 * gay + 50)
    np.testing.assert_allclose(r.access, [gax * rx + gay * 0.22 * ry, 0.68 * rx, ry],
                               rtol=1e-12)
    np.testing.assert_allclose(r.access, [0.0210080, 0.0155987, 0.0555893], atol=5e-8)
    # A separate selection decay: binary selection (G = 1/n_i), step weights for W.
    r2 = M.three_step_fca(hand_cost(), P, S, cutoff=30, decay=w,
                          selection_decay=D.get("binary", d0=30))
    rx2 = 5 / (100 * 0.5 * 1 + 200 * 1 * 0.68)
    ry2 = 3 / (100 * 0.5 * 0.22 + 50)
    np.testing.assert_allclose(r2.access, [0.5 * rx2 + 0.5 * 0.22 * ry2, 0.68 * rx2, ry2],
                               rtol=1e-12)


def test_simple_measures_hand() -> None:
    C = hand_cost()
    ids = ["a", "b", "c"]
    # Cumulative within 30: a reaches x and y (8), b reaches x (5), c reaches y (3).
    cum = M.cumulative_opportunities(C, S, cutoff=30, demand_ids=ids)
    assert cum.to_dict() == {"a": 8.0, "b": 5.0, "c": 3.0}
    # Within 0 minutes only the co-located pair (c, y) counts.
    assert M.cumulative_opportunities(C, S, cutoff=0).tolist() == [0.0, 0.0, 3.0]
    # Gravity with max(d, 1)^(−1), every stored pair: a 5/5 + 3/25, b 5/15, c 5/40 + 3/1.
    grav = M.gravity(C, S, decay=D.get("power", beta=1, d_min=1), demand_ids=ids)
    np.testing.assert_allclose(grav, [1.12, 1 / 3, 3.125])
    # ... and within 30 minutes: c loses x.
    np.testing.assert_allclose(M.gravity(C, S, decay=D.get("power", beta=1, d_min=1), cutoff=30),
                               [1.12, 1 / 3, 3.0])
    # Nearest: a 5, b 15, c 0; second nearest: a 25, b none (inf), c 40.
    assert M.nearest_k(C, k=1).tolist() == [5.0, 15.0, 0.0]
    assert M.nearest_k(C, k=2).tolist() == [25.0, np.inf, 40.0]
    assert M.nearest_k(C, k=2, how="mean").tolist() == [15.0, np.inf, 20.0]
    assert M.nearest_k(C, k=2, cutoff=30).tolist() == [25.0, np.inf, np.inf]
    # Supply y has no capacity: it no longer counts as a facility.
    assert M.nearest_k(C, k=1, supply=[5.0, 0.0]).tolist() == [5.0, 15.0, 40.0]


def test_nearest_k_unsorted_rows() -> None:
    # Rows stored with unsorted column indices and costs in no order.
    C = sp.csr_matrix((np.array([7.0, 2.0, 9.0, 4.0, 1.0]), np.array([3, 0, 1, 2, 0]),
                       np.array([0, 4, 4, 5])), shape=(3, 4))
    assert not C.has_canonical_format
    assert M.nearest_k(C, k=1).tolist() == [2.0, np.inf, 1.0]
    assert M.nearest_k(C, k=3).tolist() == [7.0, np.inf, np.inf]
    assert M.nearest_k(C, k=4, how="mean").tolist() == [5.5, np.inf, np.inf]


def test_fca_ratio_hand() -> None:
    # Demand-to-demand costs (with the diagonal stored as 0): a–b 12, b–c 50, a–c 35.
    E = sp.csr_matrix((np.array([0.0, 12.0, 35.0, 12.0, 0.0, 50.0, 35.0, 50.0, 0.0]),
                       np.array([0, 1, 2, 0, 1, 2, 0, 1, 2]), np.array([0, 3, 6, 9])),
                      shape=(3, 3))
    # Within 30: supply a 8, b 5, c 3; demand a 100+200, b 200+100, c 50.
    fca = M.fca_ratio(hand_cost(), E, P, S, cutoff=30)
    np.testing.assert_allclose(fca, [8 / 300, 5 / 300, 3 / 50])
    # Zero demand in c's catchment with supply in reach: undefined (NaN); no supply: 0.
    fca0 = M.fca_ratio(hand_cost(), E, [100.0, 200.0, 0.0], S, cutoff=30)
    assert np.isnan(fca0[2]) and fca0[[0, 1]].notna().all()
    fca1 = M.fca_ratio(hand_cost(), E, [100.0, 200.0, 0.0], [5.0, 0.0], cutoff=30)
    assert fca1[2] == 0.0


# ----------------------------------------------------------------------------- documented results


def test_disconnected_facility_and_unserved_demand() -> None:
    # Supply z (third column) has no stored pair at all; w (fourth) only one beyond the cutoff.
    # Demand d (fourth row) reaches nothing within 30.
    C = sp.csr_matrix((np.array([5.0, 25.0, 15.0, 40.0, 0.0, 45.0, 80.0]),
                       np.array([0, 1, 0, 0, 1, 3, 0]), np.array([0, 2, 3, 6, 7])),
                      shape=(4, 4))
    p = pd.Series([100.0, 200.0, 50.0, 70.0], index=["a", "b", "c", "d"])
    s = pd.Series([5.0, 3.0, 9.0, 4.0], index=["x", "y", "z", "w"])
    for fn in (M.two_step_fca, M.gaussian_2sfca, M.three_step_fca):
        r = fn(C, p, s, cutoff=30)
        base = fn(hand_cost(), P, S, cutoff=30)
        np.testing.assert_allclose(r.access[["a", "b", "c"]], base.access, rtol=1e-12)
        assert r.access["d"] == 0.0
        assert not r.access.isna().any()
        assert r.unreached == ["z", "w"]
        assert r.ratio[["z", "w"]].isna().all() and not r.ratio[["x", "y"]].isna().any()


def test_zero_demand_at_a_supply() -> None:
    # c has no population, so y (reached by a and c) keeps a's demand; with a's P = 0 too,
    # y is reached only by zero demand: R_y undefined, listed in zero_demand, A stays finite.
    r = M.two_step_fca(hand_cost(), [0.0, 200.0, 0.0], S, cutoff=30)
    assert r.zero_demand == ["y"] and r.unreached == []
    assert np.isnan(r.ratio["y"])
    np.testing.assert_allclose(r.access, [5 / 200, 5 / 200, 0.0])
    # Gaussian weight 0 at the edge: a pair at exactly d0 carries no demand.
    g = M.gaussian_2sfca(sp.csr_matrix(np.array([[30.0]])), [10.0], [1.0], cutoff=30)
    assert g.zero_demand == [0] and g.access.tolist() == [0.0]


def test_cutoff_zero() -> None:
    # Binary 2SFCA within 0: only the co-located pair (c, y): R_y = 3/50, A_c = 0.06; x unreached.
    r = M.two_step_fca(hand_cost(), P, S, cutoff=0)
    np.testing.assert_allclose(r.access, [0.0, 0.0, 0.06])
    assert r.unreached == ["x"]
    # Decays with a scale refuse a zero one.
    with pytest.raises(AccessInputError, match="d0"):
        M.gaussian_2sfca(hand_cost(), P, S, cutoff=0)
    with pytest.raises(AccessInputError, match="d0"):
        M.two_step_fca(hand_cost(), P, S, cutoff=0, decay=D.get("linear", d0=0))


def test_multiple_supply_columns() -> None:
    sup = pd.DataFrame({"doc": [5.0, 3.0], "bed": [1.0, 0.0]}, index=["x", "y"])
    r = M.two_step_fca(hand_cost(), P, sup, cutoff=30)
    assert list(r.access.columns) == ["doc", "bed"]
    np.testing.assert_allclose(r.access["doc"], M.two_step_fca(hand_cost(), P, S, cutoff=30).access)
    np.testing.assert_allclose(r.access["bed"], [1 / 300, 1 / 300, 0.0])
    cum = M.cumulative_opportunities(hand_cost(), sup, cutoff=30)
    assert cum.to_dict("list") == {"doc": [8.0, 5.0, 3.0], "bed": [1.0, 1.0, 0.0]}


def test_ids() -> None:
    r = M.two_step_fca(hand_cost(), P.to_numpy(), S.to_numpy(), cutoff=30,
                       demand_ids=["h1", "h2", "h3"], supply_ids=["s1", "s2"])
    assert r.access.index.tolist() == ["h1", "h2", "h3"]
    assert r.ratio.index.tolist() == ["s1", "s2"]
    plain = M.two_step_fca(hand_cost(), P.to_numpy(), S.to_numpy(), cutoff=30)
    assert plain.access.index.tolist() == [0, 1, 2]
    with pytest.raises(AccessInputError, match="ids"):
        M.two_step_fca(hand_cost(), P, S, cutoff=30, demand_ids=["h1", "h2"])
    with pytest.raises(AccessInputError, match="duplicate"):
        M.two_step_fca(hand_cost(), P, S, cutoff=30, supply_ids=["s", "s"])


def test_spatial_access_ratio() -> None:
    r = M.two_step_fca(hand_cost(), P, S, cutoff=30)
    a = r.access.to_numpy()
    np.testing.assert_allclose(M.spatial_access_ratio(r), a / a.mean())
    weighted = M.spatial_access_ratio(r.access, weights=P)
    np.testing.assert_allclose(weighted, a / (np.sum(P.to_numpy() * a) / P.sum()))
    # A Series of weights is aligned on the ids, not by position.
    np.testing.assert_allclose(M.spatial_access_ratio(r.access, weights=P[::-1]), weighted)
    with pytest.raises(AccessInputError, match=r"the\ mean\ accessibility\ is\ 0\ \(or\ no\ value"):
        M.spatial_access_ratio(pd.Series([0.0, 0.0]))
    with pytest.raises(AccessInputError, match=r"the\ weights\ lack\ 1\ ids:\ \[\'c\'\]"):
        M.spatial_access_ratio(r.access, weights=P[["a", "b"]])


# ----------------------------------------------------------------------------- bad inputs


def test_bad_cost_matrices() -> None:
    C = hand_cost()
    neg = C.copy()
    neg.data[1] = -1.0
    with pytest.raises(AccessInputError, match="negative"):
        M.two_step_fca(neg, P, S, cutoff=30)
    with pytest.raises(AccessInputError, match="negative"):
        M.nearest_k(neg)
    nan = C.copy()
    nan.data[0] = np.nan
    with pytest.raises(AccessInputError, match="infinite"):
        M.gravity(nan, S, decay=D.get("exponential", beta=0.1))
    with pytest.raises(AccessInputError, match="CSR"):
        M.two_step_fca(C.tocoo(), P, S, cutoff=30)
    with pytest.raises(AccessInputError, match="CSR"):
        M.two_step_fca(C.toarray(), P, S, cutoff=30)
    dup = sp.csr_matrix((np.array([5.0, 6.0]), np.array([0, 0]), np.array([0, 2, 2, 2])),
                        shape=(3, 2))
    with pytest.raises(AccessInputError, match="duplicate"):
        M.two_step_fca(dup, P, S, cutoff=30)
    # A csr_array is accepted like a csr_matrix.
    np.testing.assert_allclose(M.two_step_fca(sp.csr_array(C), P, S, cutoff=30).access,
                               M.two_step_fca(C, P, S, cutoff=30).access)


def test_bad_values_and_parameters() -> None:
    C = hand_cost()
    with pytest.raises(AccessInputError, match="demand"):
        M.two_step_fca(C, [1.0, 2.0], S, cutoff=30)
    with pytest.raises(AccessInputError, match="demand"):
        M.two_step_fca(C, [1.0, -2.0, 3.0], S, cutoff=30)
    with pytest.raises(AccessInputError, match="supply"):
        M.two_step_fca(C, P, [1.0, np.nan], cutoff=30)
    for bad in (-1.0, np.nan, "x"):
        with pytest.raises(AccessInputError, match="cutoff"):
            M.two_step_fca(C, P, S, cutoff=bad)  # type: ignore[arg-type]
    with pytest.raises(AccessInputError, match="k must"):
        M.nearest_k(C, k=0)
    with pytest.raises(AccessInputError, match="how"):
        M.nearest_k(C, k=1, how="median")
    with pytest.raises(AccessInputError, match="decay function returned"):
        M.two_step_fca(C, P, S, cutoff=30, decay=lambda d: d - 10.0)
    with pytest.raises(AccessInputError, match="shape"):
        M.two_step_fca(C, P, S, cutoff=30, decay=lambda d: np.ones(1))
    with pytest.raises(AccessInputError, match="demand-to-demand"):
        M.fca_ratio(C, sp.csr_matrix((3, 2)), P, S, cutoff=30)


# ----------------------------------------------------------------------------- decay functions


def test_decay_values() -> None:
    d = np.array([0.0, 10.0, 15.0, 20.0, 30.0, 31.0])
    assert D.binary(d, 30).tolist() == [1, 1, 1, 1, 1, 0]
    assert D.binary(d, 0).tolist() == [1, 0, 0, 0, 0, 0]
    np.testing.assert_allclose(D.linear(d, 30), [1, 2 / 3, 0.5, 1 / 3, 0, 0])
    np.testing.assert_allclose(D.exponential(d, 0.1), np.exp(-0.1 * d))
    np.testing.assert_allclose(D.power(d, 2, d_min=1), [1, 0.01, 1 / 225, 1 / 400, 1 / 900,
                                                        1 / 961])
    g = D.gaussian(d, 30)
    assert g[0] == 1.0 and g[4] == pytest.approx(0.0, abs=1e-15) and g[5] == 0.0
    np.testing.assert_allclose(g[2], (math.exp(-0.125) - math.exp(-0.5)) / (1 - math.exp(-0.5)))
    np.testing.assert_allclose(D.gaussian_kernel(d, 10), np.exp(-d**2 / 200))
    assert D.step(d).tolist() == [1, 0.68, 0.68, 0.22, 0.22, 0]
    assert D.step(d, closed="right").tolist() == [1, 1, 0.68, 0.68, 0.22, 0]
    np.testing.assert_allclose(D.epanechnikov(d, 30), [1, 8 / 9, 0.75, 5 / 9, 0, 0])
    # Shapes are kept.
    assert D.step(d.reshape(2, 3)).shape == (2, 3)


@pytest.mark.parametrize("n_zones", [1, 3, 40])
@pytest.mark.parametrize("closed", ["left", "right"])
def test_step_zones_against_a_scalar_definition(n_zones: int, closed: str) -> None:
    rng = np.random.default_rng(n_zones)
    breaks = np.sort(rng.choice(np.arange(1.0, 80.0), n_zones, replace=False))
    weights = rng.uniform(0, 1, n_zones)
    d = np.concatenate([np.arange(0.0, 82.0, 0.5), rng.uniform(0, 82, 500)])

    def scalar(x: float) -> float:
        lower = 0.0
        for r, (edge, w) in enumerate(zip(breaks, weights, strict=True)):
            last = r == n_zones - 1
            inside = ((lower <= x < edge or (last and x == edge)) if closed == "left"
                      else ((lower < x <= edge) or (r == 0 and x == 0)))
            if inside:
                return float(w)
            lower = edge
        return 0.0

    np.testing.assert_array_equal(D.step(d, breaks, weights, closed), [scalar(x) for x in d])


def test_decay_bad_inputs() -> None:
    with pytest.raises(AccessInputError, match="d_min"):
        D.power(np.array([0.0, 1.0]), 1.5)
    assert D.power(np.array([0.0]), 0.0).tolist() == [1.0]   # β = 0: no decay, 0^0 = 1
    with pytest.raises(AccessInputError, match="distances"):
        D.binary(np.array([-1.0]), 10)
    with pytest.raises(AccessInputError, match="distances"):
        D.linear(np.array([np.inf]), 10)
    with pytest.raises(AccessInputError, match="beta"):
        D.exponential(np.array([1.0]), -0.1)
    with pytest.raises(AccessInputError, match="sigma"):
        D.gaussian_kernel(np.array([1.0]), 0)
    with pytest.raises(AccessInputError, match="breaks"):
        D.step(np.array([1.0]), breaks=(20, 10), weights=(1, 0.5))
    with pytest.raises(AccessInputError, match="breaks"):
        D.step(np.array([1.0]), breaks=(10, 20), weights=(1,))
    with pytest.raises(AccessInputError, match="closed"):
        D.step(np.array([1.0]), closed="both")
    with pytest.raises(AccessInputError, match="unknown"):
        D.get("triangular", d0=3)
    with pytest.raises(AccessInputError, match="bad parameters"):
        D.get("linear", dzero=3)
    with pytest.raises(AccessInputError, match="h must"):
        D.get("epanechnikov", h=-1)


def test_decays_match_pysal_weights() -> None:
    from access import weights as W

    d = np.concatenate([np.arange(0, 71, 1.0), np.random.default_rng(1).uniform(0, 70, 200)])
    step = W.step_fn({10: 1, 20: 0.68, 30: 0.22})
    np.testing.assert_array_equal(D.step(d, closed="right"), [step(x) for x in d])
    gauss = W.gaussian(12.0)
    np.testing.assert_allclose(D.gaussian_kernel(d, 12.0), [gauss(x) for x in d], rtol=1e-15)
    grav = W.gravity(scale=1, alpha=-1.7, min_dist=2.0)
    np.testing.assert_allclose(D.power(d, 1.7, d_min=2.0), [grav(x) for x in d], rtol=1e-14)


# ----------------------------------------------------------------------------- PySAL access


def random_instance(seed: int = 7, n_d: int = 300, n_s: int = 40, speed: float = 0.5,
                    radius: float = 20.0, rounded: bool = False):
    """Random demand/supply points in a 60 × 60 km square, Euclidean minutes at ``speed``
    km/min up to ``radius`` km. Three supply points sit exactly on demand points (stored zeros),
    one supply point and one demand point are far from everything."""
    rng = np.random.default_rng(seed)
    xy_d = rng.uniform(0, 60, (n_d, 2))
    xy_s = rng.uniform(0, 60, (n_s, 2))
    xy_s[:3] = xy_d[:3]
    xy_s[-1] = (500.0, 500.0)
    xy_d[-1] = (-500.0, 500.0)
    pairs = cKDTree(xy_d).sparse_distance_matrix(cKDTree(xy_s), radius, output_type="ndarray")
    minutes = pairs["v"] / speed
    if rounded:
        minutes = np.round(minutes)
    C = sp.csr_matrix((minutes, (pairs["i"], pairs["j"])), shape=(n_d, n_s))
    assert C.nnz == len(pairs)                      # stored zeros kept
    demand = pd.Series(rng.integers(50, 5000, n_d).astype(float),
                       index=[f"d{i:04d}" for i in range(n_d)], name="pop")
    supply = pd.DataFrame({"doc": rng.integers(1, 20, n_s).astype(float),
                           "bed": rng.integers(0, 60, n_s).astype(float)},
                          index=[f"s{j:03d}" for j in range(n_s)])
    dd = cKDTree(xy_d).sparse_distance_matrix(cKDTree(xy_d), radius, output_type="ndarray")
    E = sp.csr_matrix((dd["v"] / speed, (dd["i"], dd["j"])), shape=(n_d, n_d))
    return C, E, demand, supply


def long_form(C: sp.csr_matrix, origin_ids: pd.Index, dest_ids: pd.Index) -> pd.DataFrame:
    coo = C.tocoo()
    return pd.DataFrame({"origin": np.asarray(origin_ids)[coo.row],
                         "dest": np.asarray(dest_ids)[coo.col], "cost": coo.data})


def pysal(C: sp.csr_matrix, E: sp.csr_matrix, demand: pd.Series, supply: pd.DataFrame):
    from access import Access

    cost = long_form(C, demand.index, supply.index)
    neighbours = long_form(E, demand.index, demand.index)
    return Access(demand_df=demand.rename_axis("geoid").reset_index(), demand_index="geoid",
                  demand_value="pop",
                  supply_df=supply.rename_axis("geoid").reset_index(), supply_index="geoid",
                  supply_value=["doc", "bed"], cost_df=cost, cost_origin="origin",
                  cost_dest="dest", cost_name="cost", neighbor_cost_df=neighbours,
                  neighbor_cost_origin="origin", neighbor_cost_dest="dest",
                  neighbor_cost_name="cost")


def same(ours: pd.DataFrame, theirs: pd.DataFrame, prefix: str) -> None:
    """``access`` leaves out demand points with nothing in reach (NaN in its access_df); ours
    are 0 there. Columns are ``{prefix}_{supply column}`` in ``access``."""
    theirs = theirs.rename(columns=lambda c: c.removeprefix(prefix + "_"))[ours.columns]
    assert theirs.index.equals(ours.index.sort_values())
    missing = theirs.isna().any(axis=1)
    assert (ours.loc[missing[missing].index] == 0).all().all()
    np.testing.assert_allclose(ours.loc[theirs.index].to_numpy(),
                               theirs.fillna(0.0).to_numpy(), rtol=1e-9, atol=0)


@pytest.fixture(scope="module")
def instance():
    C, E, demand, supply = random_instance()
    reach = (C.data <= 30).sum() / C.shape[0]
    assert 3 < reach < 30                            # a meaningful catchment
    return C, E, demand, supply


def test_agrees_with_pysal_two_stage_fca(instance) -> None:
    """Plain 2SFCA = ``access.two_stage_fca(max_cost=30)``. Both treat ``cost = max_cost`` as in
    reach. The far supply point is absent from ``access``'s result and in our ``unreached``;
    the far demand point is NaN in ``access`` and 0 here."""
    C, E, demand, supply = instance
    ours = M.two_step_fca(C, demand, supply, cutoff=30)
    theirs = pysal(C, E, demand, supply).two_stage_fca(name="2sfca", max_cost=30)
    same(ours.access, theirs, "2sfca")
    assert ours.access.loc["d0299"].tolist() == [0.0, 0.0]
    assert "s039" in ours.unreached


def test_agrees_with_pysal_e2sfca(instance) -> None:
    """E2SFCA = ``access.enhanced_two_stage_fca`` with ``step_fn({10: 1, 20: 0.68, 30: 0.22})``.
    ``step_fn`` closes zones on the right (10 min weighs 1); ours default to the left. On
    continuous costs no cost falls on a break, so both conventions agree here; the rounded
    instance below shows the difference."""
    from access import weights as W

    C, E, demand, supply = instance
    fn = W.step_fn({10: 1, 20: 0.68, 30: 0.22})
    theirs = pysal(C, E, demand, supply).enhanced_two_stage_fca(name="e", max_cost=30,
                                                                weight_fn=fn)
    assert not np.isin(C.data, [10.0, 20.0, 30.0]).any()
    same(M.enhanced_2sfca(C, demand, supply).access, theirs, "e")
    same(M.enhanced_2sfca(C, demand, supply, closed="right").access, theirs, "e")


def test_e2sfca_zone_convention_on_whole_minutes() -> None:
    """Costs rounded to whole minutes put many pairs on the 10/20-minute breaks: the
    right-closed zones reproduce ``access``'s ``step_fn``; the left-closed default differs."""
    from access import weights as W

    C, E, demand, supply = random_instance(seed=3, rounded=True)
    assert np.isin(C.data, [10.0, 20.0]).sum() > 20
    fn = W.step_fn({10: 1, 20: 0.68, 30: 0.22})
    theirs = pysal(C, E, demand, supply).two_stage_fca(name="e", max_cost=30, weight_fn=fn)
    same(M.enhanced_2sfca(C, demand, supply, closed="right").access, theirs, "e")
    left = M.enhanced_2sfca(C, demand, supply).access
    assert not np.allclose(left.loc[theirs.index].to_numpy(), theirs.fillna(0).to_numpy(),
                           rtol=1e-6)


def test_agrees_with_pysal_gaussian(instance) -> None:
    """``access.weights.gaussian(σ)`` is the unshifted ``exp(−d²/2σ²)``: it matches
    ``two_step_fca`` with ``decay.gaussian_kernel``. Dai's shifted Gaussian (our
    ``gaussian_2sfca``) is not in ``access``; passed to it as a ``weight_fn`` it agrees."""
    from access import weights as W

    C, E, demand, supply = instance
    A = pysal(C, E, demand, supply)
    theirs = A.two_stage_fca(name="g", max_cost=30, weight_fn=W.gaussian(12.0))
    ours = M.two_step_fca(C, demand, supply, cutoff=30, decay=D.get("gaussian_kernel", sigma=12.0))
    same(ours.access, theirs, "g")

    def dai(x: float) -> float:
        return (math.exp(-0.5 * (x / 30) ** 2) - math.exp(-0.5)) / (1 - math.exp(-0.5))

    theirs = A.two_stage_fca(name="dai", max_cost=30, weight_fn=dai)
    same(M.gaussian_2sfca(C, demand, supply, cutoff=30).access, theirs, "dai")


def test_agrees_with_pysal_three_stage_fca(instance) -> None:
    """3SFCA = ``access.three_stage_fca`` with its default Wan et al. step weights
    ``{10: 0.962, 20: 0.704, 30: 0.377, 60: 0.042}`` and ``max_cost=60`` (the cost table holds
    pairs up to 40 minutes, all in reach)."""
    C, E, demand, supply = instance
    w = D.get("step", breaks=(10, 20, 30, 60), weights=(0.962, 0.704, 0.377, 0.042),
              closed="right")
    theirs = pysal(C, E, demand, supply).three_stage_fca(name="3", max_cost=60)
    same(M.three_step_fca(C, demand, supply, cutoff=60, decay=w).access, theirs, "3")


def test_three_stage_selection_normalisation_differs_from_pysal(instance) -> None:
    """Wan et al. normalise the selection weights ``G`` over the supply points in reach;
    ``access`` over every pair of its cost table, even beyond ``max_cost``. With a decay that
    is positive beyond the cutoff (an unshifted Gaussian) ``access`` on the full table differs
    from ours, and ``access`` on the table truncated at the cutoff agrees."""
    from access import weights as W

    C, E, demand, supply = instance
    ours = M.three_step_fca(C, demand, supply, cutoff=25,
                            decay=D.get("gaussian_kernel", sigma=15.0)).access
    full = pysal(C, E, demand, supply).three_stage_fca(name="3", max_cost=25,
                                                       weight_fn=W.gaussian(15.0))
    mask = C.data <= 25                              # the cost table truncated at the cutoff
    truncated = sp.csr_matrix((C.data[mask], (np.repeat(np.arange(C.shape[0]),
                                                        np.diff(C.indptr))[mask],
                                              C.indices[mask])), shape=C.shape)
    cut = pysal(truncated, E, demand, supply).three_stage_fca(name="3", max_cost=25,
                                                               weight_fn=W.gaussian(15.0))
    same(ours, cut, "3")
    full = full.rename(columns=lambda c: c.removeprefix("3_"))[ours.columns].fillna(0)
    assert not np.allclose(ours.loc[full.index].to_numpy(), full.to_numpy(), rtol=1e-6)


def test_agrees_with_pysal_fca_ratio(instance) -> None:
    """FCA ratio = ``access.fca_ratio(max_cost=30)`` with the demand-to-demand table (diagonal
    stored as 0) as ``neighbor_cost_df``."""
    C, E, demand, supply = instance
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")             # access warns about unmatched tracts
        theirs = pysal(C, E, demand, supply).fca_ratio(name="fca", max_cost=30)
    same(M.fca_ratio(C, E, demand, supply, cutoff=30), theirs, "fca")


def test_agrees_with_pysal_weighted_catchment(instance) -> None:
    """Cumulative opportunities and gravity = ``access.weighted_catchment`` (no weight / a
    gravity weight ``max(d, 1)^(−1.5)``)."""
    from access import weights as W

    C, E, demand, supply = instance
    A = pysal(C, E, demand, supply)
    theirs = A.weighted_catchment(name="cum", max_cost=30)
    same(M.cumulative_opportunities(C, supply, cutoff=30, demand_ids=demand.index), theirs, "cum")
    theirs = A.weighted_catchment(name="grav", max_cost=30,
                                  weight_fn=W.gravity(scale=1, alpha=-1.5, min_dist=1.0))
    ours = M.gravity(C, supply, decay=D.get("power", beta=1.5, d_min=1.0), cutoff=30,
                     demand_ids=demand.index)
    same(ours, theirs, "grav")


def test_agrees_with_pysal_normalised(instance) -> None:
    """``normalize=True`` in ``access`` divides by the demand-weighted mean:
    ``spatial_access_ratio(…, weights=demand)``."""
    C, E, demand, supply = instance
    theirs = pysal(C, E, demand, supply).two_stage_fca(name="n", max_cost=30, normalize=True)
    ours = M.spatial_access_ratio(M.two_step_fca(C, demand, supply, cutoff=30), weights=demand)
    same(ours, theirs, "n")


# ----------------------------------------------------------------------------- messages


def test_messages_in_chinese_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COCITY_LANG")
    with pytest.raises(AccessInputError, match="负值"):
        M.two_step_fca(sp.csr_matrix(np.array([[-1.0]])), [1.0], [1.0], cutoff=30)


def test_messages_exist_in_both_languages_with_the_same_fields() -> None:
    src = Path(M.__file__).parent
    assert_messages_match("access.m.", src / "measures.py", src / "decay.py")
