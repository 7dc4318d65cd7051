"""Convergence: exact constructed cases, hand-counted Markov chains, giddy and statsmodels
references, bad input."""

from __future__ import annotations

import libpysal
import mapclassify
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import statsmodels.api as sm
from giddy.ergodic import steady_state
from giddy.markov import Markov, Spatial_Markov
from scipy import stats

from cocity.metrics import convergence as C
from cocity.metrics import inequality as I
from cocity.metrics.errors import MetricInputError


def random_panel(n: int = 49, years: int = 8, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    level = rng.normal(0, 0.5, (n, 1)) + np.cumsum(rng.normal(0.05, 0.1, (n, years)), axis=1)
    return pd.DataFrame(np.exp(level), index=[f"u{i:02d}" for i in range(n)],
                        columns=range(2010, 2010 + years))


def orthogonal_noise(X: np.ndarray, seed: int, scale: float = 1e-3) -> np.ndarray:
    """Noise with zero OLS projection on the columns of X: coefficients stay exact."""
    e = np.random.default_rng(seed).normal(0, scale, X.shape[0])
    return e - X @ np.linalg.lstsq(X, e, rcond=None)[0]


# ----------------------------------------------------------------------------- σ-convergence


def test_sigma_series_and_trend() -> None:
    # units 1, e, e² in 2000 (sd of logs √(2/3)); spread halves each year
    base = np.array([0.0, 1.0, 2.0])
    panel = pd.DataFrame(np.exp(np.column_stack([base * f for f in (1.0, 0.5, 0.25, 0.125)])),
                         columns=[2000, 2001, 2002, 2003])
    s = C.sigma_convergence(panel)
    np.testing.assert_allclose(s.series.to_numpy(),
                               np.sqrt(2 / 3) * np.array([1, 0.5, 0.25, 0.125]), atol=1e-15)
    ref = stats.linregress([2000, 2001, 2002, 2003], s.series.to_numpy())
    assert s.slope == pytest.approx(ref.slope, abs=1e-14)
    assert s.p_value == pytest.approx(ref.pvalue, abs=1e-14)
    assert s.converging and s.slope < 0
    assert list(s.series.index) == [2000, 2001, 2002, 2003]


def test_sigma_measures_use_the_inequality_functions() -> None:
    panel = random_panel()
    pop = pd.DataFrame(np.random.default_rng(1).integers(1, 9, panel.shape),
                       index=panel.index, columns=panel.columns)
    cv = C.sigma_convergence(panel, measure="cv").series
    gini_w = C.sigma_convergence(panel, measure="gini", p=pop).series
    wcv = C.sigma_convergence(panel, measure="cv", p=pop).series
    theil = C.sigma_convergence(panel, measure="theil").series
    sd1 = C.sigma_convergence(panel, ddof=1).series
    for year in panel.columns:
        y, w = panel[year].to_numpy(), pop[year].to_numpy()
        assert cv[year] == pytest.approx(I.coefficient_of_variation(y), abs=1e-14)
        assert gini_w[year] == pytest.approx(I.gini(y, w), abs=1e-14)
        assert wcv[year] == pytest.approx(I.williamson_cv(y, w), abs=1e-14)
        assert theil[year] == pytest.approx(I.theil(y), abs=1e-14)
        assert sd1[year] == pytest.approx(np.log(y).std(ddof=1), abs=1e-14)
    # trend p-value is the OLS slope test (statsmodels as the reference)
    s = C.sigma_convergence(panel, measure="cv")
    ols = sm.OLS(cv.to_numpy(), sm.add_constant(np.arange(2010, 2018.0))).fit()
    assert s.p_value == pytest.approx(ols.pvalues[1], abs=1e-12)
    assert s.stderr == pytest.approx(ols.bse[1], abs=1e-14)


def test_sigma_constant_series_and_bad_input() -> None:
    panel = pd.DataFrame([[1.0, 2.0, 4.0], [2.0, 4.0, 8.0]], columns=[2001, 2002, 2003])
    s = C.sigma_convergence(panel)                      # every year the same log spread
    assert s.slope == pytest.approx(0.0, abs=1e-15) and s.p_value == pytest.approx(1.0)
    with pytest.raises(MetricInputError, match=r"σ\-convergence：至少需要 3 个年份，实际为 2"):
        C.sigma_convergence(panel.iloc[:, :2])          # 2 years: no trend p-value
    with pytest.raises(MetricInputError, match=r"σ\-convergence：需要取对数或负幂，要求全部为正值"):
        C.sigma_convergence(panel - 1.5)                # logs of negatives
    with pytest.raises(MetricInputError, match=r'未知离散度指标 .range.；可选 "sd_log"、"cv"、"gi'):
        C.sigma_convergence(panel, measure="range")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- β-convergence


def test_absolute_beta_speed_and_half_life_on_an_exact_case() -> None:
    # g_i = α + β ln y_i0 with β = −(1 − e^{−λT})/T, λ = 0.03, T = 10:
    # speed must come back as 0.03 and the half-life as ln 2 / 0.03 ≈ 23.1 years.
    lam, T, alpha = 0.03, 10, 0.2
    beta = -(1 - np.exp(-lam * T)) / T
    rng = np.random.default_rng(0)
    ln0 = rng.normal(9, 0.6, 40)
    X = np.column_stack([np.ones(40), ln0])
    g = alpha + beta * ln0 + orthogonal_noise(X, 1)
    panel = pd.DataFrame({2005: np.exp(ln0), 2010: np.exp(ln0 + 5), 2015: np.exp(ln0 + T * g)})
    b = C.beta_convergence(panel)
    assert b.kind == "absolute" and b.horizon == 10
    assert b.beta == pytest.approx(beta, abs=1e-12)
    assert b.alpha == pytest.approx(alpha, abs=1e-10)
    assert b.speed == pytest.approx(lam, abs=1e-12)
    assert b.half_life == pytest.approx(np.log(2) / lam, abs=1e-8)
    assert b.converging and b.p_value < 1e-6
    # start/end by label: 2010 → 2015 is a 5-year horizon
    later = C.beta_convergence(panel, start=2010)
    assert later.horizon == 5 and later.beta == pytest.approx(2 * beta, abs=1e-12)
    # 2005 → 2010: every unit grows by exactly 1 per year — nothing to explain
    with pytest.raises(MetricInputError, match=r"β\-convergence：各观测的增长率相同（无变异），β"):
        C.beta_convergence(panel, end=2010)
    steady = pd.DataFrame({2000: np.exp(ln0), 2001: np.exp(ln0 + 1), 2002: np.exp(ln0 + 2)})
    with pytest.raises(MetricInputError, match=r"panel β\-convergence：各观测的增长率相同（无变异"):
        C.beta_convergence_panel(steady)
    # robust errors are passed to statsmodels
    hc1 = C.beta_convergence(panel, cov_type="HC1")
    ref = sm.OLS(g, X).fit(cov_type="HC1")
    assert hc1.se == pytest.approx(ref.bse[1], rel=1e-8)


def test_conditional_beta_recovers_the_controls() -> None:
    rng = np.random.default_rng(4)
    n, T = 60, 8
    ln0 = rng.normal(8, 0.5, n)
    invest = rng.uniform(0.1, 0.4, n)
    X = np.column_stack([np.ones(n), ln0, invest])
    g = 0.3 - 0.02 * ln0 + 0.05 * invest + orthogonal_noise(X, 2)
    units = [f"c{i}" for i in range(n)]
    panel = pd.DataFrame({2000: np.exp(ln0), 2008: np.exp(ln0 + T * g)}, index=units)
    controls = pd.DataFrame({"invest": invest}, index=units).iloc[::-1]   # order irrelevant
    b = C.beta_convergence(panel, controls=controls)
    assert b.kind == "conditional"
    assert b.beta == pytest.approx(-0.02, abs=1e-12)
    assert b.params.loc["invest", "coef"] == pytest.approx(0.05, abs=1e-12)
    assert list(b.params.index) == ["const", "ln_y0", "invest"]
    with pytest.raises(MetricInputError, match=r"β\-convergence：控制变量缺少 1 个面板单元，或单"):
        C.beta_convergence(panel, controls=controls.iloc[:-1])            # a unit missing


def test_speed_undefined_cases_are_none_not_nan() -> None:
    assert C._speed(0.01, 10) == (pytest.approx(-np.log(1.1) / 10), None)   # divergence
    assert C._speed(-0.2, 10) == (None, None)                                # 1 + βT < 0
    lam, half = C._speed(-0.05, 10)
    assert lam == pytest.approx(np.log(2) / 10) and half == pytest.approx(10.0)


def fe_panel(seed: int = 5) -> tuple[pd.DataFrame, float]:
    # ln y_{i,t+1} = ln y_it + μ_i + β ln y_it + ε_it (τ = 1), ε orthogonal to FE and ln y
    rng = np.random.default_rng(seed)
    n, years, beta = 12, 6, -0.08
    mu = rng.normal(0.8, 0.05, n)
    logs = np.zeros((n, years))
    logs[:, 0] = rng.normal(9, 0.4, n)
    for t in range(years - 1):
        logs[:, t + 1] = logs[:, t] + mu + beta * logs[:, t] + rng.normal(0, 0.01, n)
    return pd.DataFrame(np.exp(logs), index=[f"r{i}" for i in range(n)],
                        columns=range(2015, 2015 + years)), beta


def dummy_regression(panel: pd.DataFrame, time_effects: bool) -> object:
    logs = np.log(panel.to_numpy())
    n, years = logs.shape
    rows = [(i, t, logs[i, t + 1] - logs[i, t], logs[i, t])
            for i in range(n) for t in range(years - 1)]
    df = pd.DataFrame(rows, columns=["unit", "t", "g", "x"])
    X = pd.get_dummies(df["unit"], prefix="u", dtype=float)
    if time_effects:
        X = X.join(pd.get_dummies(df["t"], prefix="t", drop_first=True, dtype=float))
    X.insert(0, "x", df["x"])
    return sm.OLS(df["g"], X).fit(cov_type="cluster", cov_kwds={"groups": df["unit"]},
                                  use_t=True), len(df), X.shape[1]


@pytest.mark.parametrize("time_effects", [False, True])
def test_panel_fixed_effects_against_the_dummy_variable_regression(time_effects: bool) -> None:
    panel, _ = fe_panel()
    b = C.beta_convergence_panel(panel, time_effects=time_effects)
    ref, N, K_dummy = dummy_regression(panel, time_effects)
    # the within estimator is the LSDV estimator (Frisch–Waugh–Lovell)
    assert b.beta == pytest.approx(ref.params["x"], abs=1e-10)
    assert b.nobs == N == 60 and b.n_units == 12 and b.horizon == 1
    # Cluster-robust SE: same sandwich; statsmodels' LSDV counts the 12 unit dummies in K,
    # Stata's xtreg fe (ours) does not: K = 1 (const) + 1 (ln y) + year dummies.
    K_fe = 2 + (panel.shape[1] - 2 if time_effects else 0)
    factor = np.sqrt(((N - 1) / (N - K_dummy)) / ((N - 1) / (N - K_fe)))
    assert ref.bse["x"] == pytest.approx(b.se * factor, rel=1e-9)
    assert b.cov_type == "cluster"
    lam, half = C._speed(b.beta, 1.0)
    assert b.speed == lam and b.half_life == half


def test_panel_fixed_effects_exact_case_and_missing_observations() -> None:
    rng = np.random.default_rng(8)
    n, years, beta, tau = 10, 5, -0.1, 2.0
    mu = rng.normal(1.0, 0.1, n)
    logs = np.zeros((n, years))
    logs[:, 0] = rng.normal(9, 0.5, n)
    for t in range(years - 1):
        logs[:, t + 1] = logs[:, t] + tau * (mu + beta * logs[:, t])
    panel = pd.DataFrame(np.exp(logs), columns=[2000, 2002, 2004, 2006, 2008])
    b = C.beta_convergence_panel(panel)
    assert b.beta == pytest.approx(beta, abs=1e-10) and b.horizon == tau
    assert b.speed == pytest.approx(-np.log(1 + beta * tau) / tau, abs=1e-10)
    holed = panel.copy()
    holed.iloc[0, 2] = np.nan
    with pytest.raises(MetricInputError, match=r"panel β\-convergence：有 2 处缺失值（NaN）；请先"):
        C.beta_convergence_panel(holed)
    dropped = C.beta_convergence_panel(holed, dropna=True)
    assert dropped.nobs == b.nobs - 2                     # the two intervals touching the hole
    assert dropped.beta == pytest.approx(beta, abs=1e-10)
    # uneven spacing
    with pytest.raises(MetricInputError, match=r"panel β\-convergence：年份间隔须相等"):
        C.beta_convergence_panel(panel.rename(columns={2008: 2009}))


# ----------------------------------------------------------------------------- kernel density


def test_kernel_density_matches_scipy_on_a_common_grid() -> None:
    panel = random_panel()
    k = C.kernel_density_evolution(panel, transform="log", n_grid=300)
    assert k.densities.shape == (300, panel.shape[1])
    logs = np.log(panel.to_numpy())
    for j, year in enumerate(panel.columns):
        kde = stats.gaussian_kde(logs[:, j])
        np.testing.assert_allclose(k.densities[year].to_numpy(), kde(k.grid), rtol=1e-12)
        assert k.bandwidth[year] == pytest.approx(np.sqrt(kde.covariance[0, 0]))
    areas = np.trapezoid(k.densities.to_numpy(), k.grid, axis=0)
    np.testing.assert_allclose(areas, 1.0, atol=1e-3)
    rel = C.kernel_density_evolution(panel, transform="relative", grid=np.linspace(0, 5, 50))
    first = panel.iloc[:, 0].to_numpy()
    np.testing.assert_allclose(rel.densities.iloc[:, 0].to_numpy(),
                               stats.gaussian_kde(first / first.mean())(np.linspace(0, 5, 50)),
                               rtol=1e-12)


def test_kernel_density_bad_input() -> None:
    panel = random_panel(n=5, years=3)
    panel[2011] = 7.0
    with pytest.raises(MetricInputError, match=r"kernel density：2011 年各单元取值全部相同，无法"):
        C.kernel_density_evolution(panel)
    with pytest.raises(MetricInputError, match=r"kernel density：网格须为至少 2 个严格递增的有限"):
        C.kernel_density_evolution(random_panel(), grid=np.array([1.0, 0.5]))


# ----------------------------------------------------------------------------- Markov


def test_markov_counts_on_a_hand_made_panel() -> None:
    # cut-offs 1.5 and 2.5: class 0 ≤ 1.5 < class 1 ≤ 2.5 < class 2
    #   u1: 1 2 3 → 0 1 2   transitions 0→1, 1→2
    #   u2: 3 3 1 → 2 2 0   transitions 2→2, 2→0
    #   u3: 2 1 1 → 1 0 0   transitions 1→0, 0→0
    #   u4: 2.5 2.6 1.5 → 1 2 0 (bounds belong to the lower class) 1→2, 2→0
    panel = pd.DataFrame([[1, 2, 3], [3, 3, 1], [2, 1, 1], [2.5, 2.6, 1.5]],
                         index=["u1", "u2", "u3", "u4"], columns=[2018, 2019, 2020])
    mc = C.markov_chain(panel, cutoffs=[1.5, 2.5])
    assert mc.classes.loc["u4"].tolist() == [1, 2, 0]
    np.testing.assert_array_equal(mc.counts.to_numpy(), [[1, 1, 0], [1, 0, 2], [2, 0, 1]])
    np.testing.assert_allclose(mc.P.to_numpy(),
                               [[0.5, 0.5, 0], [1 / 3, 0, 2 / 3], [2 / 3, 0, 1 / 3]])
    assert mc.initial.tolist() == [0.25, 0.5, 0.25] and mc.final.tolist() == [0.75, 0, 0.25]
    # irreducible: π P = π, Σ π = 1, and giddy agrees
    pi = mc.steady_state
    assert pi is not None
    np.testing.assert_allclose(pi.to_numpy() @ mc.P.to_numpy(), pi.to_numpy(), atol=1e-12)
    np.testing.assert_allclose(pi.to_numpy(), steady_state(mc.P.to_numpy()), atol=1e-12)


def test_markov_reducible_chain_has_no_steady_state() -> None:
    panel = pd.DataFrame([[1, 1, 1], [3, 3, 3], [1, 3, 3]], columns=[1, 2, 3])
    mc = C.markov_chain(panel, cutoffs=[2])
    np.testing.assert_array_equal(mc.counts.to_numpy(), [[2, 1], [0, 3]])
    assert mc.steady_state is None


@pytest.mark.parametrize("quantiles", ["per_year", "pooled"])
def test_markov_matches_giddy_and_mapclassify(quantiles: str) -> None:
    panel = random_panel()
    y = panel.to_numpy()
    mc = C.markov_chain(panel, k=4, quantiles=quantiles)  # type: ignore[arg-type]
    if quantiles == "per_year":
        ids = np.column_stack([mapclassify.Quantiles(y[:, j], k=4).yb
                               for j in range(y.shape[1])])
    else:
        ids = mapclassify.Quantiles(y.ravel(), k=4).yb.reshape(y.shape)
    np.testing.assert_array_equal(mc.classes.to_numpy(), ids)
    ref = Markov(ids, summary=False)
    np.testing.assert_allclose(mc.counts.to_numpy(), ref.transitions, atol=1e-9)
    np.testing.assert_allclose(mc.P.to_numpy(), ref.p, atol=1e-9)
    assert mc.steady_state is not None
    np.testing.assert_allclose(mc.steady_state.to_numpy(), ref.steady_state, atol=1e-9)


@pytest.mark.parametrize(("quantiles", "fixed"), [("pooled", True), ("per_year", False)])
def test_spatial_markov_matches_giddy(quantiles: str, fixed: bool) -> None:
    panel = random_panel()
    w = libpysal.weights.lat2W(7, 7)
    w.transform = "r"
    ref = Spatial_Markov(panel.to_numpy(), w, k=4, m=4, fixed=fixed)
    dense = w.full()[0]
    res = C.spatial_markov(panel, dense, k=4, quantiles=quantiles)  # type: ignore[arg-type]
    np.testing.assert_allclose(res.counts.to_numpy(), ref.T.reshape(16, 4), atol=1e-9)
    np.testing.assert_allclose(res.matrices(), ref.P, atol=1e-9)
    np.testing.assert_allclose(res.chain.P.to_numpy(), ref.p, atol=1e-9)
    np.testing.assert_array_equal(res.lag_classes.to_numpy(), ref.lclass_ids)
    assert pytest.approx(ref.Q, abs=1e-9) == res.Q
    assert pytest.approx(ref.LR, abs=1e-9) == res.LR
    assert res.dof == ref.dof_hom
    assert res.Q_p_value == pytest.approx(ref.Q_p_value, abs=1e-9)
    assert res.LR_p_value == pytest.approx(ref.LR_p_value, abs=1e-9)
    # the other forms of W give the same result: binary dense (row-standardised here),
    # sparse, labelled DataFrame, dict of neighbours
    binary = (dense > 0).astype(float)
    units = panel.index
    neighbours = {units[i]: [units[j] for j in js] for i, js in w.neighbors.items()}
    for W in (binary, sp.csr_matrix(binary),
              pd.DataFrame(binary, index=units, columns=units).iloc[::-1, ::-1], neighbours):
        other = C.spatial_markov(panel, W, k=4, quantiles=quantiles)  # type: ignore[arg-type]
        np.testing.assert_allclose(other.P.to_numpy(), res.P.to_numpy(), atol=1e-12)


def test_spatial_markov_hand_case() -> None:
    # Four units on a line a–b–c–d (binary contiguity, row-standardised), two years.
    # 2001: 1 2 3 4 → classes (cut-off 2.5) 0 0 1 1; lags: 2, 2, 3, 3 → lag classes
    # (cut-off 2.5) 0 0 1 1. 2002: 3 1 4 2 → classes 1 0 1 0.
    # Lag class 0: a 0→1, b 0→0 ; lag class 1: c 1→1, d 1→0.
    panel = pd.DataFrame({2001: [1.0, 2, 3, 4], 2002: [3.0, 1, 4, 2]}, index=list("abcd"))
    W = {"a": ["b"], "b": ["a", "c"], "c": ["b", "d"], "d": ["c"]}
    res = C.spatial_markov(panel, W, cutoffs=[2.5], lag_cutoffs=[2.5])
    np.testing.assert_array_equal(res.lag_classes[2001].to_numpy(), [0, 0, 1, 1])
    np.testing.assert_array_equal(res.counts.loc[0].to_numpy(), [[1, 1], [0, 0]])
    np.testing.assert_array_equal(res.counts.loc[1].to_numpy(), [[0, 0], [1, 1]])
    np.testing.assert_allclose(res.P.loc[0].to_numpy(), [[0.5, 0.5], [0, 0]])


@pytest.mark.usefixtures("english")
def test_markov_bad_input() -> None:
    panel = random_panel(n=9, years=3)
    with pytest.raises(MetricInputError, match="cut points coincide"):
        C.markov_chain(pd.DataFrame(np.ones((6, 3)), columns=[1, 2, 3]), k=3)
    holed = panel.copy()
    holed.iloc[2, 1] = np.nan
    with pytest.raises(MetricInputError, match="dropna=True"):
        C.markov_chain(holed, k=3)
    assert C.markov_chain(holed, k=3, dropna=True).classes.shape == (8, 3)
    with pytest.raises(MetricInputError, match="not a year"):
        C.markov_chain(panel.rename(columns={2010: "first"}), k=3)
    with pytest.raises(MetricInputError, match="strictly increasing"):
        C.markov_chain(panel[[2011, 2010, 2012]], k=3)
    with pytest.raises(MetricInputError, match="integer ≥ 2"):
        C.markov_chain(panel, k=1)
    # an isolate (no neighbours) has no spatial lag
    W = np.ones((9, 9)) - np.eye(9)
    W[4, :] = 0
    with pytest.raises(MetricInputError, match=r"1 unit\(s\) have no neighbours .*u04"):
        C.spatial_markov(panel, W, k=3)
    with pytest.raises(MetricInputError, match=r"expected \(9, 9\)"):
        C.spatial_markov(panel, np.ones((8, 8)), k=3)
    with pytest.raises(MetricInputError, match="not in the panel"):
        C.spatial_markov(panel, {"u00": ["elsewhere"]}, k=3)
    with pytest.raises(MetricInputError, match="non-negative"):
        C.spatial_markov(panel, -W, k=3)
    # dropping a unit with a missing value also drops it from W
    full = np.ones((9, 9)) - np.eye(9)
    res = C.spatial_markov(holed, full, k=3, dropna=True)
    assert res.lag_classes.shape == (8, 3)
