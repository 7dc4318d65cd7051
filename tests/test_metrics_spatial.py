"""Spatial autocorrelation against esda, hand-computed cases, exact permutation moments,
the conditional-permutation sampler, LISA labels and bad input."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from typing import Any

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
import shapely

from cocity.datasets import open_store
from cocity.metrics.errors import MetricInputError
from cocity.metrics.spatial import (
    geary,
    getis_ord_g,
    local_g,
    local_moran,
    moran,
)
from cocity.metrics.weights import SpatialWeights, knn, queen, rook

RTOL = 1e-9
ATOL = 1e-12


def close(a: object, b: object) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=RTOL, atol=ATOL)


def lp_w(w: SpatialWeights) -> Any:
    """The same weights as a libpysal W (ids in the same order)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return libpysal.weights.WSP(w.matrix.tocsr(), id_order=list(w.ids)).to_W(
            silence_warnings=True)


def esda_call(cls: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(*args, **kwargs)


@pytest.fixture(scope="module")
def esda_interpreted() -> Iterator[None]:
    """esda's conditional randomisation run by the Python interpreter, not numba.

    esda compiles its engine with numba on first use (about a minute here, uncached); the
    interpreted functions (``py_func``) compute the same numbers, fast enough for ~150 units.
    """
    import esda.crand as cr
    import esda.getisord as go
    import esda.moran as mo

    def py(f: object) -> object:
        return getattr(f, "py_func", f)

    mp = pytest.MonkeyPatch()
    mp.setattr(cr, "boolean", bool)
    for name in ("vec_permutations", "compute_chunk", "_permutation_significance",
                 "_prepare_univariate"):
        mp.setattr(cr, name, py(getattr(cr, name)))
    mp.setattr(mo, "_prepare_univariate", py(mo._prepare_univariate))
    mp.setattr(go, "_prepare_univariate", py(go._prepare_univariate))
    mp.setattr(mo, "_moran_local_crand", py(mo._moran_local_crand))
    mp.setattr(go, "_g_local_crand", py(go._g_local_crand))
    mp.setattr(go, "_g_local_star_crand", py(go._g_local_star_crand))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def counties() -> tuple[SpatialWeights, pd.Series]:
    """Queen contiguity of the real county boundaries and 2020 urban share (%)."""
    store = open_store()
    gdf = store.geodata(level="county")
    w = queen(gdf[gdf.geometry.notna()])
    y = store.panel(indicators=["urban_share"], level="county").xs(2020, level="year")
    return w, y["urban_share"]


@pytest.fixture(scope="module")
def knn_case() -> tuple[SpatialWeights, np.ndarray]:
    """Asymmetric KNN-6 weights on 300 random points and a weakly correlated variable."""
    rng = np.random.default_rng(11)
    pts = rng.random((300, 2)) * 10
    y = 0.15 * pts[:, 0] + rng.normal(size=300)
    return knn(pts, 6, metric="euclidean"), np.exp(y / 2)


def line(n: int = 4) -> SpatialWeights:
    m = np.zeros((n, n))
    for i in range(n - 1):
        m[i, i + 1] = m[i + 1, i] = 1
    return SpatialWeights(m, [f"u{i}" for i in range(n)])


# ----------------------------------------------------------------------------- by hand


def test_moran_on_a_four_unit_line_by_hand() -> None:
    # z = (−1.5, −0.5, 0.5, 1.5), Σz² = 5.
    # Row-standardised: Wz = (−0.5, −0.5, 0.5, 0.5), z'Wz = 2, S0 = 4 → I = (4/4)(2/5) = 0.4.
    # Binary: Wz = (−0.5, −1, 1, 0.5), z'Wz = 2.5, S0 = 6 → I = (4/6)(2.5/5) = 1/3.
    y = [1.0, 2.0, 3.0, 4.0]
    r = moran(y, line(), permutations=0)
    assert r.value == pytest.approx(0.4, abs=1e-15)
    assert r.expected == pytest.approx(-1 / 3, abs=1e-15)
    assert r.p_sim is None and r.simulations is None
    assert moran(y, line(), transform="b", permutations=0).value == pytest.approx(1 / 3)
    # Geary, binary: Σ w (y_i − y_j)² = 6 → C = 3·6 / (2·6·5) = 0.3; row-standardised: 3·4/(2·4·5)
    assert geary(y, line(), transform="b", permutations=0).value == pytest.approx(0.3)
    assert geary(y, line(), permutations=0).value == pytest.approx(0.3)
    # General G: Σ w y_i y_j = 2(2 + 6 + 12) = 40, Σ_{i≠j} y_i y_j = 100 − 30 = 70
    g = getis_ord_g(y, line(), permutations=0)
    assert g.value == pytest.approx(4 / 7) and g.expected == pytest.approx(0.5)


def test_global_moments_are_the_exact_permutation_moments() -> None:
    y = np.array([3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.6])
    n = y.size
    m = np.zeros((n, n))
    for i in range(n - 1):
        m[i, i + 1] = m[i + 1, i] = 1.0
    m[0, 3], m[5, 1] = 2.0, 0.5  # asymmetric, unequal weights
    w = SpatialWeights(m, list("abcdefg"))
    perms = np.array(list(itertools.permutations(range(n))))
    Y = y[perms]
    for fn, transform in ((moran, "r"), (geary, "r"), (getis_ord_g, "o")):
        res = fn(y, w, transform=transform, permutations=0)
        W = w.transformed(transform).matrix.toarray()
        Z = Y - y.mean()
        if fn is moran:
            exact = n / W.sum() * np.einsum("pi,ij,pj->p", Z, W, Z) / np.sum(Z[0] ** 2)
        elif fn is geary:
            d2 = (Y[:, :, None] - Y[:, None, :]) ** 2
            exact = (n - 1) * np.einsum("ij,pij->p", W, d2) / (2 * W.sum() * np.sum(Z[0] ** 2))
        else:
            exact = np.einsum("pi,ij,pj->p", Y, W, Y) / (y.sum() ** 2 - np.sum(y ** 2))
        assert res.expected == pytest.approx(exact.mean(), rel=1e-12)
        assert res.var_rand == pytest.approx(exact.var(), rel=1e-10)


def test_three_units_have_no_randomisation_variance() -> None:
    r = moran([1.0, 2.0, 4.0], line(3), permutations=99)
    assert r.var_rand is None and r.z_rand is None and r.p_rand is None
    assert r.var_norm is not None and r.p_sim is not None
    assert getis_ord_g([1.0, 2.0, 4.0], line(3), permutations=0).var_rand is None


# ----------------------------------------------------------------------------- against esda, global


@pytest.mark.parametrize("case", ["counties", "knn_case"])
def test_global_statistics_match_esda(case: str, request: pytest.FixtureRequest) -> None:
    w, y = request.getfixturevalue(case)
    yv = np.asarray(y.reindex(list(w.ids)) if isinstance(y, pd.Series) else y, dtype=float)
    ref_w = lp_w(w)

    m = moran(y, w, permutations=0)
    e = esda_call(esda.Moran, yv, ref_w, permutations=0)
    close([m.value, m.expected, m.var_norm, m.var_rand, m.z_norm, m.z_rand],
          [e.I, e.EI, e.VI_norm, e.VI_rand, e.z_norm, e.z_rand])
    close([m.p_norm, m.p_rand], [e.p_norm, e.p_rand])  # esda: two-tailed by default

    c = geary(y, w, permutations=0, two_sided=False)
    e = esda_call(esda.Geary, yv, lp_w(w), permutations=0)
    close([c.value, c.expected, c.var_norm, c.var_rand, c.z_norm, c.z_rand, c.p_norm, c.p_rand],
          [e.C, e.EC, e.VC_norm, e.VC_rand, e.z_norm, e.z_rand, e.p_norm, e.p_rand])

    g = getis_ord_g(y, w, permutations=0, two_sided=False)
    e = esda_call(esda.G, yv, lp_w(w), permutations=0)
    close([g.value, g.expected, g.var_rand, g.z_rand, g.p_rand],
          [e.G, e.EG, e.VG, e.z_norm, e.p_norm])
    assert g.var_norm is None


def test_global_permutation_p_values_match_esda_within_monte_carlo(
        knn_case: tuple[SpatialWeights, np.ndarray]) -> None:
    w, y = knn_case
    perms = 4999
    np.random.seed(20240601)
    for fn, cls, attr in ((moran, esda.Moran, "I"), (geary, esda.Geary, "C"),
                          (getis_ord_g, esda.G, "G")):
        ours = fn(y, w, permutations=perms, seed=3)
        ref = esda_call(cls, y, lp_w(w), permutations=perms)
        assert 0.005 < ref.p_sim < 0.5  # a non-trivial case
        assert abs(ours.p_sim - ref.p_sim) < 0.02, attr
        sims = np.asarray(ref.sim)
        assert ours.sim_mean == pytest.approx(sims.mean(), abs=4 * sims.std() / np.sqrt(perms))
        assert ours.sim_std == pytest.approx(sims.std(), rel=0.06)
        assert ours.value == pytest.approx(getattr(ref, attr), rel=1e-12)


def test_permutation_p_values_follow_their_definition(
        knn_case: tuple[SpatialWeights, np.ndarray]) -> None:
    w, y = knn_case
    res = {a: moran(y, w, permutations=999, seed=5, alternative=a)
           for a in ("directed", "greater", "lesser", "two-sided")}
    sims = res["directed"].simulations
    assert sims is not None and sims.shape == (999,)
    for r in res.values():  # same seed → same simulations
        np.testing.assert_array_equal(r.simulations, sims)
    obs = res["directed"].value
    ge, le = int((sims >= obs).sum()), int((sims <= obs).sum())
    assert res["greater"].p_sim == (ge + 1) / 1000
    assert res["lesser"].p_sim == (le + 1) / 1000
    assert res["directed"].p_sim == (min(ge, le) + 1) / 1000
    assert res["two-sided"].p_sim == min(1.0, 2 * (min(ge, le) + 1) / 1000)
    z = res["directed"]
    assert z.z_sim == pytest.approx((obs - sims.mean()) / sims.std())
    assert moran(y, w, permutations=0, two_sided=False).p_norm == pytest.approx(
        moran(y, w, permutations=0).p_norm / 2)


def test_global_permutations_are_reproducible(counties: tuple[SpatialWeights, pd.Series]) -> None:
    w, y = counties
    a = geary(y, w, seed=42)
    b = geary(y, w, seed=42)
    c = geary(y, w, seed=43)
    assert a.simulations is not None and b.simulations is not None
    np.testing.assert_array_equal(a.simulations, b.simulations)
    assert not np.array_equal(a.simulations, c.simulations)
    assert a.to_series()["p_sim"] == b.p_sim
    gen = np.random.default_rng(42)
    np.testing.assert_array_equal(geary(y, w, seed=gen).simulations, a.simulations)


# ----------------------------------------------------------------------------- against esda, local


def test_local_moran_matches_esda(counties: tuple[SpatialWeights, pd.Series],
                                  esda_interpreted: None) -> None:
    w, y = counties
    yv = y.reindex(list(w.ids)).to_numpy(float)
    ours = local_moran(y, w, permutations=9999, seed=1).table
    ref = esda_call(esda.Moran_Local, yv, lp_w(w), permutations=9999, seed=1, n_jobs=1)
    close(ours["I"], ref.Is)
    close(ours["z"], ref.z)
    codes = ours["quadrant"].map({"HH": 1, "LH": 2, "LL": 3, "HL": 4})
    np.testing.assert_array_equal(codes, ref.q)
    # esda's moments are those of z_i·lag_i; ours of I_i = (n−1)/n · z_i·lag_i
    c = (w.n - 1) / w.n
    close(ours["E_I"], c * ref.EI)
    close(ours["V_I"], c * c * ref.VI)
    close(ours["E_I_cond"], c * ref.EIc)
    close(ours["V_I_cond"], c * c * ref.VIc)
    # Monte Carlo: sd of a difference of two p ≈ 0.25 estimates from 9999 draws is 0.006
    diff = np.abs(ours["p_sim"].to_numpy() - ref.p_sim)
    assert diff.max() < 0.03 and diff.mean() < 0.01
    assert np.abs(ours["sim_mean"] - ref.EI_sim).max() < 0.05
    np.testing.assert_allclose(ours["sim_std"], ref.seI_sim, rtol=0.1)


def test_local_moran_moments_are_exact_for_its_statistic() -> None:
    y = np.array([3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.6])
    n = y.size
    m = np.zeros((n, n))
    for i in range(n - 1):
        m[i, i + 1] = m[i + 1, i] = 1.0
    m[0, 3] = m[3, 0] = 2.0
    w = SpatialWeights(m, list("abcdefg"))
    t = local_moran(y, w, transform="o", permutations=0).table
    z = t["z"].to_numpy()
    scale = (n - 1) / float(z @ z)
    perms = np.array(list(itertools.permutations(range(n))))
    Zp = z[perms]
    total = scale * Zp * (Zp @ m.T)  # I_i for every permutation of all values
    close(t["E_I"], total.mean(axis=0))
    close(t["V_I"], total.var(axis=0))
    for i in range(n):
        nb = np.flatnonzero(m[i])
        others = [j for j in range(n) if j != i]
        cond = np.array([scale * z[i] * (m[i, nb] @ z[list(p)])
                         for p in itertools.permutations(others, nb.size)])
        assert t["E_I_cond"].iloc[i] == pytest.approx(cond.mean(), rel=1e-10, abs=1e-14)
        assert t["V_I_cond"].iloc[i] == pytest.approx(cond.var(), rel=1e-10, abs=1e-14)


def test_conditional_sampler_draws_uniformly_from_the_other_units() -> None:
    # unit 0 has neighbours 1 and 2 with weights 1 and 10: its simulated lag identifies the
    # ordered pair drawn; each of the 5·4 ordered pairs of other units must appear 1/20 of the
    # time, and unit 0 itself never.
    n = 6
    m = np.zeros((n, n))
    m[0, 1], m[0, 2] = 1.0, 10.0
    for i in range(1, n):
        m[i, (i % (n - 1)) + 1] = 1.0
    w = SpatialWeights(m, list("abcdef"))
    y = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
    res = local_g(y, w, transform="o", permutations=100_000, seed=9, keep_simulations=True)
    assert res.simulations is not None
    lag = np.round(res.simulations[0] * (y.sum() - y[0]), 9)
    expected = {round(y[a] + 10 * y[b], 9) for a, b in itertools.permutations(range(1, n), 2)}
    values, counts = np.unique(lag, return_counts=True)
    assert set(values.tolist()) == expected
    np.testing.assert_allclose(counts / counts.sum(), 1 / 20, atol=0.004)


def test_local_permutations_are_reproducible_and_seeded(
        knn_case: tuple[SpatialWeights, np.ndarray]) -> None:
    w, y = knn_case
    a = local_moran(y, w, permutations=199, seed=7, keep_simulations=True)
    b = local_moran(y, w, permutations=199, seed=7, keep_simulations=True)
    c = local_moran(y, w, permutations=199, seed=8)
    assert a.simulations is not None and a.simulations.shape == (300, 199)
    np.testing.assert_array_equal(a.simulations, b.simulations)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not np.array_equal(a.table["p_sim"], c.table["p_sim"])
    sims, obs = a.simulations, a.table["I"].to_numpy()
    ge = (sims >= obs[:, None]).sum(axis=1)
    le = (sims <= obs[:, None]).sum(axis=1)
    np.testing.assert_array_equal(a.table["p_sim"], (np.minimum(ge, le) + 1) / 200)


@pytest.mark.parametrize("star", [False, True])
def test_local_g_matches_esda_with_binary_weights(counties: tuple[SpatialWeights, pd.Series],
                                                  star: bool, esda_interpreted: None) -> None:
    w, y = counties
    yv = y.reindex(list(w.ids)).to_numpy(float)
    ours = local_g(y, w, star=star, permutations=9999, seed=2, two_sided=False).table
    ref = esda_call(esda.G_Local, yv, lp_w(w.binary()), transform="B", star=star,
                    permutations=9999, seed=2, n_jobs=1)
    close(ours["G"], ref.Gs)
    close(ours["E_G"], ref.EGs)
    close(ours["V_G"], ref.VGs)
    close(ours["z"], ref.Zs)
    close(ours["p_norm"], ref.p_norm)  # esda: one tail
    # Monte Carlo: sd of a difference of two p ≈ 0.25 estimates from 9999 draws is 0.006
    diff = np.abs(ours["p_sim"].to_numpy() - ref.p_sim)
    assert diff.max() < 0.03 and diff.mean() < 0.01


def test_local_g_row_standardised_differs_from_esda_only_in_the_variance(
        counties: tuple[SpatialWeights, pd.Series]) -> None:
    w, y = counties
    yv = y.reindex(list(w.ids)).to_numpy(float)
    binary = local_g(y, w, permutations=999, seed=4).table
    row = local_g(y, w, transform="r", permutations=999, seed=4).table
    ref = esda_call(esda.G_Local, yv, lp_w(w), transform="R", permutations=0)
    close(row["G"], ref.Gs)
    close(row["E_G"], ref.EGs)
    # exact variance of Σ_j w_ij y_j / Σ_{j≠i} y_j over the permutations of the other values
    k = w.cardinalities
    wi = 1.0 / k
    N = w.n - 1
    tot = yv.sum() - yv
    s2 = (np.sum(yv ** 2) - yv ** 2) / N - (tot / N) ** 2
    exact = s2 * (N * k * wi ** 2 - 1.0) / ((N - 1) * tot ** 2)
    close(row["V_G"], exact)
    assert not np.allclose(row["V_G"], ref.VGs)  # esda uses Σw in place of Σw²
    close(row["z"], binary["z"])  # z and p do not depend on the row scaling
    np.testing.assert_array_equal(row["p_sim"], binary["p_sim"])
    np.testing.assert_array_equal(row["cluster"], binary["cluster"])


def test_local_g_star_simulations_match_their_analytical_moments() -> None:
    rng = np.random.default_rng(3)
    pts = rng.random((40, 2))
    w = knn(pts, 4, metric="euclidean")
    y = rng.gamma(2.0, size=40)
    t = local_g(y, w, star=True, permutations=20_000, seed=1).table
    # binary weights with self-weight 1; permutations keep y_i: their mean is
    # (y_i + 4 ȳ_{−i}) / Σy, while the analytical E[G_i*] = 5/n treats y_i as random too
    others_mean = (y.sum() - y) / 39
    cond_mean = (y + 4 * others_mean) / y.sum()
    close(t["E_G"], 5 / 40)
    np.testing.assert_allclose(t["sim_mean"], cond_mean, rtol=0.01)
    assert set(t["cluster"]) <= {"hot", "cold", "ns"}


# ----------------------------------------------------------------------------- LISA labels


def test_lisa_quadrants_and_clusters_on_a_constructed_pattern() -> None:
    # 8 × 8 grid: a high block in the top-left 4 × 4 corner, low elsewhere, one low cell
    # inside the high block (LH) and one high cell in the low region (HL), plus small noise.
    cells = [shapely.box(c, r, c + 1, r + 1) for r in range(8) for c in range(8)]
    codes = [f"r{r}c{c}" for r in range(8) for c in range(8)]
    gdf = gpd.GeoDataFrame({"code": codes}, geometry=cells)
    y = pd.Series(0.0, index=codes)
    rng = np.random.default_rng(0)
    y[:] = rng.normal(0, 0.05, size=64)
    for r in range(4):
        for c in range(4):
            y[f"r{r}c{c}"] += 10.0
    y["r1c1"] = 0.0
    y["r5c6"] = 10.0
    res = local_moran(y, queen(gdf), permutations=999, seed=0)
    q, cl = res.table["quadrant"], res.table["cluster"]
    assert q["r0c0"] == "HH" and q["r7c7"] == "LL"
    assert q["r1c1"] == "LH" and q["r5c6"] == "HL"
    assert cl["r1c2"] == "HH" and cl["r2c2"] == "HH" and cl["r1c1"] == "LH"
    assert cl["r2c7"] == "LL"
    # a high cell amid uniformly low ones is not extreme under conditional permutation:
    # most random neighbour sets are as low as its own
    assert cl["r5c6"] == "ns" and res.table.loc["r5c6", "I"] < 0
    assert (cl[res.table["p_sim"] > 0.05] == "ns").all()
    assert ((cl == "ns") | (cl == q)).all()
    analytic = local_moran(y, queen(gdf), permutations=0, alpha=0.01).table
    assert "p_sim" not in analytic.columns
    assert ((analytic["cluster"] != "ns") == (analytic["p_rand"] <= 0.01)).all()


def test_unit_at_the_mean_has_a_degenerate_reference() -> None:
    w = line(5)
    y = [1.0, 5.0, 3.0, 2.0, 4.0]  # mean 3, unit 2 equals it
    t = local_moran(y, w, permutations=99).table
    assert t["I"].iloc[2] == 0.0
    assert t["p_sim"].iloc[2] == 1.0 and t["z_sim"].iloc[2] == 0.0
    assert t["cluster"].iloc[2] == "ns"


# ----------------------------------------------------------------------------- bad input


def test_constant_values_are_an_error(english: None) -> None:
    for fn in (moran, geary, getis_ord_g, local_moran, local_g):
        with pytest.raises(MetricInputError, match="same value"):
            fn([2.0] * 4, line())


def test_nan_values_are_counted(english: None) -> None:
    y = [1.0, np.nan, 3.0, np.inf, 5.0]
    for fn in (moran, geary, getis_ord_g, local_moran, local_g):
        with pytest.raises(MetricInputError, match="2 of 5 values"):
            fn(y, line(5))


def test_islands_are_an_error(english: None) -> None:
    m = np.zeros((4, 4))
    m[0, 1] = m[1, 0] = m[1, 2] = m[2, 1] = 1.0
    w = SpatialWeights(m, list("abcd"))
    assert w.islands == ["d"]
    for fn in (moran, geary, getis_ord_g, local_moran, local_g):
        with pytest.raises(MetricInputError, match=r"no neighbour.*d"):
            fn([1.0, 2.0, 3.0, 4.0], w)


def test_too_few_units_is_an_error() -> None:
    w = SpatialWeights(np.array([[0, 1.0], [1, 0]]), ["a", "b"])
    for fn in (moran, geary, getis_ord_g, local_moran, local_g):
        with pytest.raises(MetricInputError, match=r"至少需要 3 个单元，实际为 2"):
            fn([1.0, 2.0], w)


def test_series_are_aligned_to_the_weights(english: None) -> None:
    w = line()
    y = pd.Series([4.0, 3.0, 2.0, 1.0, 100.0], index=["u3", "u2", "u1", "u0", "other"])
    assert moran(y, w, permutations=0).value == pytest.approx(0.4)
    with pytest.raises(MetricInputError, match=r"1 unit.*u3"):
        moran(y.drop("u3"), w)
    with pytest.raises(MetricInputError, match=r"duplicate unit ids: u0"):
        moran(pd.Series([1.0, 2.0, 3.0, 4.0], index=["u0", "u0", "u1", "u2"]), w)
    with pytest.raises(MetricInputError, match=r"moran: values must be a 1\-D array matching the"):
        moran([1.0, 2.0, 3.0], w)
    with pytest.raises(MetricInputError, match=r"moran: values must be a 1\-D array matching the"):
        moran(np.ones((2, 2)), w)


def test_g_needs_non_negative_values_and_positive_other_sums() -> None:
    with pytest.raises(MetricInputError, match=r"getis_ord_g：需要非负取值，但有 1 个值 < 0（最小"):
        getis_ord_g([1.0, -2.0, 3.0, 4.0], line())
    with pytest.raises(MetricInputError, match=r"local_g：需要非负取值，但有 1 个值 < 0（最小 \-2"):
        local_g([1.0, -2.0, 3.0, 4.0], line())
    with pytest.raises(MetricInputError, match="u0"):
        local_g([5.0, 0.0, 0.0, 0.0], line())
    t = local_g([5.0, 0.0, 0.0, 0.0], line(), star=True, permutations=0).table
    assert np.isfinite(t["z"]).all()


def test_bad_options() -> None:
    y = [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(MetricInputError, match=r'备择假设须为 "directed"、"greater"、"lesser" 或'):
        moran(y, line(), alternative="both")
    with pytest.raises(MetricInputError, match=r"置换次数须为非负整数，实际为 \-1"):
        moran(y, line(), permutations=-1)
    with pytest.raises(MetricInputError, match=r"显著性水平 alpha 须在 0 与 1 之间，实际为 1\.5"):
        local_moran(y, line(), alpha=1.5)
    with pytest.raises(MetricInputError, match=r'未知的权重变换 .x.；可选 "r"（行标准化）、"b"（'):
        moran(y, line(), transform="x")
    with pytest.raises(MetricInputError, match=r'未知的权重变换 .x.；可选 "r"（行标准化）、"b"（'):
        local_g(y, line(), transform="x")
    with pytest.raises(MetricInputError, match=r"moran：需要 cocity 空间权重（SpatialWeights），"):
        moran(y, np.eye(4))


def test_rook_weights_and_knn_give_finite_results_on_real_data(
        counties: tuple[SpatialWeights, pd.Series]) -> None:
    _, y = counties
    store = open_store()
    gdf = store.geodata(level="county")
    r = rook(gdf[gdf.geometry.notna()])
    res = moran(y, r)
    assert res.value > 0.4 and res.p_sim == 0.001
    units = store.units(level="county").dropna(subset=["lon", "lat"])
    lisa = local_moran(y, knn(units, 6)).table
    assert lisa.notna().all().all()
    assert set(lisa["cluster"]) <= {"HH", "LH", "LL", "HL", "ns"}


# ----------------------------------------------------------------------------- messages


def test_messages_and_labels_exist_in_both_languages_with_the_same_fields() -> None:
    import re
    import string
    from pathlib import Path

    import cocity.metrics.spatial as S
    from cocity.i18n import labels

    src = Path(S.__file__).parent
    used: set[str] = set()
    for name in ("weights.py", "spatial.py"):
        used |= set(re.findall(r't\("(metrics\.spatial\.[a-z_.]+)"', (src / name).read_text()))
    table = labels()
    defined_errors = {k for k in table if k.startswith("metrics.spatial.err.")}
    assert len(used) > 30
    assert defined_errors == used  # every message used, every used message defined
    names = {f"metrics.spatial.stat.{s}" for s in
             ("moran_i", "geary_c", "getis_ord_g", "local_moran", "local_g", "local_g_star")}
    clusters = {f"metrics.spatial.cluster.{c}" for c in (*S.QUADRANTS, "hot", "cold",
                                                          S.NOT_SIGNIFICANT)}
    assert {k for k in table if k.startswith("metrics.spatial.")} == used | names | clusters
    for key in sorted(used | names | clusters):
        entry = table[key]
        assert set(entry) == {"zh", "en"}, key
        fields = [{f for _, f, _, _ in string.Formatter().parse(entry[lang]) if f}
                  for lang in ("zh", "en")]
        assert fields[0] == fields[1], key
