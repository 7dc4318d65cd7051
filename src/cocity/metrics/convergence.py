"""Convergence: σ- and β-convergence, kernel-density evolution, Markov and spatial Markov chains.

Input is a **wide panel**: a DataFrame with one row per unit (index: unit codes or names) and
one column per year (labels: years as int, float, digit strings, or ``Timestamp``/``Period``,
strictly increasing), holding a positive level variable such as GDP per capita. For example::

              2015    2016    2017
    510100  76960   86911   94782
    510300  50840   54975   60013

Missing values raise :class:`~cocity.metrics.errors.MetricInputError` unless ``dropna=True``;
what ``dropna`` drops is stated per function (whole units for the cross-sectional and Markov
methods, single observations for the panel regression). No function returns a silent ``NaN``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd
import scipy.sparse as sp
import statsmodels.api as sm
from numpy.typing import NDArray
from scipy import stats
from scipy.sparse.csgraph import connected_components

from cocity.i18n import t
from cocity.metrics import inequality as ineq
from cocity.metrics.errors import MetricInputError

Array = NDArray[np.float64]
IntArray = NDArray[np.intp]

SigmaMeasure = Literal["sd_log", "cv", "gini", "theil"]
Quantiles = Literal["pooled", "per_year"]
KdeTransform = Literal["none", "log", "relative"]
Weights: TypeAlias = (NDArray[np.float64] | sp.spmatrix | sp.sparray | pd.DataFrame
           | Mapping[Hashable, Iterable[Hashable]])

_CROSS_COV = ("nonrobust", "HC0", "HC1", "HC2", "HC3")


# ----------------------------------------------------------------------------- the panel


def _year(label: object, what: str) -> float:
    if isinstance(label, pd.Timestamp | pd.Period):
        return float(label.year)
    try:
        value = float(label)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise MetricInputError(t("metrics.ineq.conv.err.year", what=what,
                                 label=label)) from None
    if not np.isfinite(value):
        raise MetricInputError(t("metrics.ineq.conv.err.year", what=what, label=label))
    return value


def _panel(panel: pd.DataFrame, what: str, *, min_years: int = 2) -> tuple[Array, Array]:
    """Values ``(n, T)`` as floats and years ``(T,)``; checks shape, numbers and years."""
    if not isinstance(panel, pd.DataFrame):
        raise MetricInputError(t("metrics.ineq.conv.err.not_frame", what=what))
    if panel.index.has_duplicates:
        raise MetricInputError(t("metrics.ineq.conv.err.duplicate_units", what=what))
    years = np.array([_year(c, what) for c in panel.columns], dtype=float)
    if years.size < min_years:
        raise MetricInputError(t("metrics.ineq.conv.err.few_years", what=what,
                                 need=min_years, got=years.size))
    if np.any(np.diff(years) <= 0):
        raise MetricInputError(t("metrics.ineq.conv.err.years_order", what=what))
    try:
        values = panel.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise MetricInputError(t("metrics.ineq.conv.err.numeric", what=what)) from None
    if np.any(np.isinf(values)):
        raise MetricInputError(t("metrics.ineq.err.infinite", what=what, name="panel"))
    return values, years


def _drop_units(values: Array, what: str, dropna: bool, extra: Array | None = None
                ) -> NDArray[np.bool_]:
    """Rows to keep: all of them, or (``dropna``) those without a missing value."""
    missing = np.isnan(values).any(axis=1)
    if extra is not None:
        missing |= np.isnan(extra).any(axis=1)
    if missing.any() and not dropna:
        raise MetricInputError(t("metrics.ineq.conv.err.nan", what=what,
                                 count=int(missing.sum())))
    keep = np.asarray(~missing, dtype=bool)
    if keep.sum() < 2:
        raise MetricInputError(t("metrics.ineq.err.too_few", what=what, need=2,
                                 got=int(keep.sum())))
    return keep


def _require_positive(values: Array, what: str) -> None:
    bad = values <= 0
    if bad.any():
        raise MetricInputError(t("metrics.ineq.err.nonpositive", what=what,
                                 count=int(bad.sum()), lowest=float(np.min(values))))


# ----------------------------------------------------------------------------- σ-convergence


@dataclass(frozen=True)
class SigmaConvergence:
    """Result of :func:`sigma_convergence`: the dispersion series and its linear trend.

    ``series`` holds σ_t indexed by the panel's column labels; ``slope``/``intercept`` are the
    OLS fit ``σ_t = a + b·year_t``, ``stderr``, ``t_stat`` and ``p_value`` (two-sided,
    Student t with ``T − 2`` degrees of freedom) belong to ``b``; ``r2`` is the fit's R².
    """

    measure: SigmaMeasure
    weighted: bool
    series: pd.Series
    slope: float
    intercept: float
    stderr: float
    t_stat: float
    p_value: float
    r2: float

    @property
    def converging(self) -> bool:
        """σ falls over time (negative trend; read together with ``p_value``)."""
        return self.slope < 0


def sigma_convergence(panel: pd.DataFrame, *, measure: SigmaMeasure = "sd_log",
                      p: pd.DataFrame | None = None, ddof: int = 0,
                      dropna: bool = False) -> SigmaConvergence:
    """σ-convergence: the cross-sectional dispersion per year and its trend test.

    **Formula**: ``σ_t`` is, for each year ``t`` over the units ``i``,

    - ``"sd_log"`` (default): ``√(Σ_i (ln y_it − m_t)² / (n − ddof))``, ``m_t`` the mean of
      ``ln y_it`` (population-weighted, divisor ``P``, when ``p`` is given);
    - ``"cv"``: ``s_t / ȳ_t`` (:func:`~cocity.metrics.inequality.coefficient_of_variation`;
      with ``p``, Williamson's :func:`~cocity.metrics.inequality.williamson_cv`);
    - ``"gini"`` / ``"theil"``: :func:`~cocity.metrics.inequality.gini` /
      :func:`~cocity.metrics.inequality.theil` (T), weighted by ``p`` if given.

    The trend test is the OLS regression ``σ_t = a + b t + e_t`` (``t`` the year); σ-convergence
    is a significantly negative ``b``.

    **Source**: Barro & Sala-i-Martin (1992), "Convergence", *Journal of Political Economy*
    100, 223–251; *Economic Growth* (2nd ed. 2004), §11.1 (σ as the standard deviation of
    log income); Friedman (1992) on testing dispersion trends.

    **Variant**: a balanced panel (units with a missing year are rejected, or dropped with
    ``dropna=True``, so every σ_t is over the same units); ``ddof=0`` by default (population
    dispersion; ``ddof=1`` for the sample form, unweighted only). ``p`` is a panel of
    population weights with the same units and years. At least 3 years are needed for the
    trend's p-value. ``"sd_log"`` needs ``y > 0``. A series constant up to rounding (range
    ≤ 1e-12 of its largest value, e.g. all-equal values every year) gives slope 0, t 0,
    p-value 1 and R² 0.
    """
    what = "σ-convergence"
    if measure not in ("sd_log", "cv", "gini", "theil"):
        raise MetricInputError(t("metrics.ineq.conv.err.measure", value=measure))
    if ddof not in (0, 1):
        raise MetricInputError(t("metrics.ineq.err.ddof", value=ddof))
    values, years = _panel(panel, what, min_years=3)
    weights = None
    if p is not None:
        if ddof != 0:
            raise MetricInputError(t("metrics.ineq.conv.err.ddof_weighted"))
        if not (isinstance(p, pd.DataFrame) and p.shape == panel.shape
                and p.index.equals(panel.index) and list(p.columns) == list(panel.columns)):
            raise MetricInputError(t("metrics.ineq.conv.err.weights_panel", what=what))
        weights = _panel(p, what, min_years=3)[0]
    keep = _drop_units(values, what, dropna, weights)
    values = values[keep]
    weights = None if weights is None else weights[keep]
    if weights is not None and (np.any(weights <= 0)):
        raise MetricInputError(t("metrics.ineq.err.weights", what=what))
    if measure == "sd_log":
        _require_positive(values, what)

    out = np.empty(values.shape[1])
    for j in range(values.shape[1]):
        col = values[:, j]
        w = None if weights is None else weights[:, j]
        if measure == "sd_log":
            logs = np.log(col)
            if w is None:
                out[j] = logs.std(ddof=ddof)
            else:
                m = np.dot(w, logs) / w.sum()
                out[j] = np.sqrt(np.dot(w, (logs - m) ** 2) / w.sum())
        elif measure == "cv":
            out[j] = (ineq.coefficient_of_variation(col, ddof=ddof) if w is None
                      else ineq.williamson_cv(col, w))
        elif measure == "gini":
            out[j] = ineq.gini(col, w)
        else:
            out[j] = ineq.theil(col, w, index="T")
    series = pd.Series(out, index=panel.columns, name=measure)
    if np.ptp(out) <= 1e-12 * max(float(np.abs(out).max()), 1e-300):
        # constant up to rounding: no trend (a regression on rounding noise would report
        # an arbitrary slope and p-value)
        return SigmaConvergence(measure, weights is not None, series, 0.0,
                                float(out.mean()), 0.0, 0.0, 1.0, 0.0)
    fit = stats.linregress(years, out)
    t_stat = float(fit.slope / fit.stderr) if fit.stderr > 0 else float(
        np.sign(fit.slope) * np.inf)
    return SigmaConvergence(measure, weights is not None, series, float(fit.slope),
                            float(fit.intercept), float(fit.stderr), t_stat,
                            float(fit.pvalue), float(fit.rvalue**2))


# ----------------------------------------------------------------------------- β-convergence


@dataclass(frozen=True)
class BetaConvergence:
    """Result of :func:`beta_convergence` and :func:`beta_convergence_panel`.

    ``beta`` is the coefficient on the log initial level, with ``se``, ``t_stat`` and
    ``p_value``; ``alpha`` the intercept (for the panel model, Stata's ``_cons``: the mean
    unit effect). ``horizon`` is ``T`` (years between start and end) for the cross-section and
    the interval ``τ`` between consecutive columns for the panel. ``speed`` ``λ`` and
    ``half_life`` are ``None`` where undefined (see the functions). ``params`` lists every
    regressor (``coef``, ``se``, ``t``, ``p_value``); ``r2`` is R² (within R² for the panel).
    """

    kind: Literal["absolute", "conditional", "panel_fe"]
    beta: float
    se: float
    t_stat: float
    p_value: float
    alpha: float
    r2: float
    nobs: int
    n_units: int
    horizon: float
    speed: float | None
    half_life: float | None
    params: pd.DataFrame
    cov_type: str

    @property
    def converging(self) -> bool:
        """β < 0: poorer units grow faster (read together with ``p_value``)."""
        return self.beta < 0


def _speed(beta: float, horizon: float) -> tuple[float | None, float | None]:
    """``λ = −ln(1 + βT)/T`` and ``ln 2 / λ``; ``None`` where undefined."""
    base = 1.0 + beta * horizon
    if base <= 0:
        return None, None
    lam = -float(np.log(base)) / horizon
    return lam, (float(np.log(2.0) / lam) if lam > 0 else None)


def _params_table(res: sm.regression.linear_model.RegressionResultsWrapper,
                  names: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"coef": np.asarray(res.params), "se": np.asarray(res.bse),
                         "t": np.asarray(res.tvalues), "p_value": np.asarray(res.pvalues)},
                        index=pd.Index(names, name="term"))


def _check_variation(dep: Array, scale: Array, what: str) -> None:
    """Reject a dependent variable without variation (up to rounding): β would be 0 with an
    undefined test statistic and R²."""
    spread = float(np.max(np.abs(dep - dep.mean()))) if dep.size else 0.0
    if spread <= 1e-12 * max(float(np.max(np.abs(scale))), 1e-300):
        raise MetricInputError(t("metrics.ineq.conv.err.no_variation", what=what))


def _term(table: pd.DataFrame, term: str) -> tuple[float, float, float, float]:
    """``(coef, se, t, p_value)`` of one regressor."""
    coef, se, tv, pv = table.loc[term, ["coef", "se", "t", "p_value"]].to_numpy(dtype=float)
    return float(coef), float(se), float(tv), float(pv)


def _column(panel: pd.DataFrame, label: Hashable | None, default: int, what: str) -> int:
    if label is None:
        return default % panel.shape[1]
    matches = [i for i, c in enumerate(panel.columns) if c == label]
    if not matches:
        raise MetricInputError(t("metrics.ineq.conv.err.no_column", what=what, label=label))
    return matches[0]


def beta_convergence(panel: pd.DataFrame, *, start: Hashable | None = None,
                     end: Hashable | None = None, controls: pd.DataFrame | None = None,
                     cov_type: str = "nonrobust", dropna: bool = False) -> BetaConvergence:
    """Absolute or conditional β-convergence (cross-section OLS).

    **Formula**: ``g_i = (ln y_iT − ln y_i0) / T = α + β ln y_i0 (+ γ′ x_i) + ε_i`` with
    ``T`` the number of years between ``start`` and ``end`` (default: the first and last
    columns). Convergence: ``β < 0``. Speed ``λ = −ln(1 + βT) / T`` (from
    ``β = −(1 − e^{−λT}) / T``), half-life ``ln 2 / λ``.

    **Source**: Barro & Sala-i-Martin (1992), *JPE* 100, 223–251, eq. (12); *Economic Growth*
    (2nd ed. 2004), §11.2; Mankiw, Romer & Weil (1992) for conditional convergence.

    **Variant**: the average *annual log* growth rate as the dependent variable (so that
    ``β`` is per year and the speed formula above applies); ``controls`` (a DataFrame indexed
    by the same units, one numeric column per control, e.g. investment rate or industry
    structure at the start) make it conditional. ``cov_type``: ``"nonrobust"`` (default) or
    ``"HC0"``–``"HC3"`` (heteroskedasticity-robust, statsmodels). ``speed`` is ``None`` when
    ``1 + βT ≤ 0``; ``half_life`` is ``None`` unless ``λ > 0`` (divergence has no
    half-life). Growth rates equal for every unit (up to rounding) raise
    :class:`MetricInputError` (no variation to explain; the test would be undefined).
    Levels must be ``> 0``; ``dropna=True`` drops units missing the start or end value or a
    control.
    """
    what = "β-convergence"
    if cov_type not in _CROSS_COV:
        raise MetricInputError(t("metrics.ineq.conv.err.cov_type", value=cov_type,
                                 allowed=", ".join(_CROSS_COV)))
    values, years = _panel(panel, what)
    j0, j1 = _column(panel, start, 0, what), _column(panel, end, -1, what)
    horizon = float(years[j1] - years[j0])
    if horizon <= 0:
        raise MetricInputError(t("metrics.ineq.conv.err.horizon", what=what))
    ends = values[:, [j0, j1]]
    names = ["const", "ln_y0"]
    xc = None
    if controls is not None:
        if not isinstance(controls, pd.DataFrame) or controls.shape[1] == 0:
            raise MetricInputError(t("metrics.ineq.conv.err.controls", what=what))
        absent = panel.index.difference(controls.index)
        if len(absent) or controls.index.has_duplicates:
            raise MetricInputError(t("metrics.ineq.conv.err.controls_units", what=what,
                                     count=len(absent)))
        try:
            xc = controls.reindex(panel.index).to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise MetricInputError(t("metrics.ineq.conv.err.numeric", what=what)) from None
        names += [str(c) for c in controls.columns]
    keep = _drop_units(ends, what, dropna, xc)
    ends = ends[keep]
    _require_positive(ends, what)
    ln0 = np.log(ends[:, 0])
    growth = (np.log(ends[:, 1]) - ln0) / horizon
    X = np.column_stack([np.ones_like(ln0), ln0] + ([] if xc is None else [xc[keep]]))
    if X.shape[0] <= X.shape[1]:
        raise MetricInputError(t("metrics.ineq.err.too_few", what=what, need=X.shape[1] + 1,
                                 got=X.shape[0]))
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise MetricInputError(t("metrics.ineq.conv.err.collinear", what=what))
    _check_variation(growth, growth, what)
    res = sm.OLS(growth, X).fit(cov_type=cov_type)
    table = _params_table(res, names)
    beta, se, tv, pv = _term(table, "ln_y0")
    speed, half = _speed(beta, horizon)
    return BetaConvergence("absolute" if xc is None else "conditional", beta, se, tv, pv,
                           _term(table, "const")[0], float(res.rsquared), int(X.shape[0]),
                           int(X.shape[0]), horizon, speed, half, table, cov_type)


def beta_convergence_panel(panel: pd.DataFrame, *,
                           controls: Mapping[str, pd.DataFrame] | None = None,
                           time_effects: bool = False, dropna: bool = False
                           ) -> BetaConvergence:
    """Panel β-convergence with unit fixed effects (within estimator, cluster-robust SE).

    **Formula**: for consecutive columns ``t`` and ``t + τ``:
    ``g_it = (ln y_i,t+τ − ln y_it) / τ = β ln y_it (+ γ′ x_it) + μ_i (+ η_t) + ε_it``.
    Estimated by the within transformation (Stata's ``xtreg, fe``: every variable minus its
    unit mean plus its grand mean, with a constant, so that the constant is the mean unit
    effect); year effects ``η_t`` (``time_effects=True``) enter as dummies for all intervals
    but the first. Speed ``λ = −ln(1 + βτ) / τ`` and half-life ``ln 2 / λ`` as in
    :func:`beta_convergence`.

    **Source**: Islam (1995), "Growth empirics: a panel data approach", *QJE* 110,
    1127–1170; standard errors clustered by unit (Arellano 1987), with Stata's small-sample
    factor ``G/(G − 1) · (N − 1)/(N − K)`` (``G`` units, ``N`` observations, ``K`` regressors
    including the constant and the year dummies but not the unit effects, which are nested in
    the clusters) and Student t with ``G − 1`` degrees of freedom — statsmodels OLS on the
    transformed data with ``cov_type="cluster"``. ``linearmodels`` is not required.

    **Variant**: years must be evenly spaced (``τ`` is the common interval; the speed formula
    needs it). ``controls`` maps names to wide panels of the same shape, measured at the start
    of each interval. Missing values raise unless ``dropna=True``, which here drops only the
    affected observations (unit–interval pairs), keeping the rest of the unit. Units with a
    single remaining observation carry no within variation and are left out; at least 2
    units with 2 observations are needed, and a growth rate without within-unit variation
    raises :class:`MetricInputError`. ``β`` carries the Nickell (1981) bias of dynamic fixed-effects
    panels when the number of periods is small: report it as such (GMM is out of scope).
    """
    what = "panel β-convergence"
    values, years = _panel(panel, what, min_years=3)
    steps = np.diff(years)
    if not np.allclose(steps, steps[0]):
        raise MetricInputError(t("metrics.ineq.conv.err.uneven", what=what))
    tau = float(steps[0])
    n, T = values.shape
    finite = values[~np.isnan(values)]
    if finite.size:
        _require_positive(finite, what)
    logs = np.log(values)
    dep = (logs[:, 1:] - logs[:, :-1]) / tau                       # (n, T−1)
    regs = {"ln_y": logs[:, :-1]}
    for name, frame in (controls or {}).items():
        if not (isinstance(frame, pd.DataFrame) and frame.shape == panel.shape
                and frame.index.equals(panel.index)
                and list(frame.columns) == list(panel.columns)):
            raise MetricInputError(t("metrics.ineq.conv.err.weights_panel", what=what))
        regs[str(name)] = _panel(frame, what)[0][:, :-1]
    unit_idx = np.repeat(np.arange(n), T - 1)
    time_idx = np.tile(np.arange(T - 1), n)
    cols = [dep.ravel()] + [r.ravel() for r in regs.values()]
    data = np.column_stack(cols)
    ok = ~np.isnan(data).any(axis=1)
    if not ok.all() and not dropna:
        raise MetricInputError(t("metrics.ineq.conv.err.nan", what=what,
                                 count=int((~ok).sum())))
    data, unit_idx, time_idx = data[ok], unit_idx[ok], time_idx[ok]
    # units with one observation have no within variation (their own effect fits them
    # exactly); drop them before counting units and observations
    multi = np.bincount(unit_idx, minlength=n)[unit_idx] >= 2
    data, unit_idx, time_idx = data[multi], unit_idx[multi], time_idx[multi]
    units, unit_codes = np.unique(unit_idx, return_inverse=True)
    if units.size < 2:
        raise MetricInputError(t("metrics.ineq.err.too_few", what=what, need=2,
                                 got=int(units.size)))
    names = ["const", *regs]
    if time_effects:
        present = np.unique(time_idx)
        dummies = (time_idx[:, None] == present[None, 1:]).astype(float)
        data = np.column_stack([data, dummies])
        names += [f"year_{panel.columns[int(j)]}" for j in present[1:]]
    sizes = np.bincount(unit_codes).astype(float)
    unit_means = np.stack([np.bincount(unit_codes, weights=data[:, c]) / sizes
                           for c in range(data.shape[1])], axis=1)
    within = data - unit_means[unit_codes] + data.mean(axis=0)
    y_w = within[:, 0]
    X = np.column_stack([np.ones(within.shape[0]), within[:, 1:]])
    if X.shape[0] <= X.shape[1] or np.linalg.matrix_rank(X) < X.shape[1]:
        raise MetricInputError(t("metrics.ineq.conv.err.collinear", what=what))
    _check_variation(y_w, data[:, 0], what)
    res = sm.OLS(y_w, X).fit(cov_type="cluster", cov_kwds={"groups": unit_codes},
                             use_t=True)
    table = _params_table(res, names)
    beta, se, tv, pv = _term(table, "ln_y")
    speed, half = _speed(beta, tau)
    return BetaConvergence("panel_fe", beta, se, tv, pv, _term(table, "const")[0],
                           float(res.rsquared), int(X.shape[0]), int(units.size), tau, speed,
                           half, table, "cluster")


# ----------------------------------------------------------------------------- kernel density


@dataclass(frozen=True)
class KernelDensityEvolution:
    """Result of :func:`kernel_density_evolution`.

    ``densities`` has the common ``grid`` as index (name ``value``) and one column per year;
    ``bandwidth`` the kernel standard deviation used for each year.
    """

    transform: KdeTransform
    grid: Array
    densities: pd.DataFrame
    bandwidth: pd.Series


def kernel_density_evolution(panel: pd.DataFrame, *, transform: KdeTransform = "none",
                             n_grid: int = 256, grid: Array | None = None,
                             bw_method: str | float | None = None,
                             dropna: bool = False) -> KernelDensityEvolution:
    """Gaussian kernel density of the cross-section in each year, on one common grid.

    **Formula**: ``f_t(x) = (1/(n h_t)) Σ_i φ((x − z_it)/h_t)`` with ``z_it`` the (transformed)
    value of unit ``i`` in year ``t``, ``φ`` the standard normal density and ``h_t`` the
    bandwidth: ``bw_method`` as :class:`scipy.stats.gaussian_kde` takes it (``None`` → Scott's
    rule ``h_t = s_t n^{−1/5}``, ``"silverman"``, or a scalar factor times ``s_t``, ``s_t``
    the sample standard deviation).

    **Source**: Quah (1993, 1996) on the evolution of the cross-section distribution
    ("twin peaks"); Silverman, *Density Estimation* (1986). Evaluated with scipy's
    ``gaussian_kde``.

    **Variant**: ``transform``: ``"none"`` (levels), ``"log"`` (``ln y``, needs ``y > 0``) or
    ``"relative"`` (``y`` divided by the year's unweighted mean, the usual choice for comparing
    shapes across years of growth). Default grid: ``n_grid`` points from the overall minimum
    minus three times the largest bandwidth to the maximum plus the same, so that every
    year's density is nearly complete on it; or pass ``grid`` (1-D, increasing). Each year
    needs at least 2 distinct values. ``dropna=True`` drops units with a missing year.
    """
    what = "kernel density"
    if transform not in ("none", "log", "relative"):
        raise MetricInputError(t("metrics.ineq.conv.err.transform", value=transform))
    values, _ = _panel(panel, what, min_years=1)
    keep = _drop_units(values, what, dropna)
    values = values[keep]
    if transform == "log":
        _require_positive(values, what)
        values = np.log(values)
    elif transform == "relative":
        means = values.mean(axis=0)
        if np.any(means <= 0):
            raise MetricInputError(t("metrics.ineq.err.mean", what=what,
                                     mean=float(means.min())))
        values = values / means
    kdes = []
    for j, label in enumerate(panel.columns):
        col = values[:, j]
        if np.ptp(col) == 0:
            raise MetricInputError(t("metrics.ineq.conv.err.kde_constant", what=what,
                                     year=label))
        try:
            kdes.append(stats.gaussian_kde(col, bw_method=bw_method))
        except (ValueError, TypeError, np.linalg.LinAlgError) as exc:
            raise MetricInputError(t("metrics.ineq.conv.err.kde", what=what, year=label,
                                     reason=str(exc))) from None
    bws = np.array([float(np.sqrt(k.covariance[0, 0])) for k in kdes])
    if grid is None:
        if int(n_grid) < 2:
            raise MetricInputError(t("metrics.ineq.conv.err.grid", what=what))
        pad = 3.0 * float(bws.max())
        xs = np.linspace(float(values.min()) - pad, float(values.max()) + pad, int(n_grid))
    else:
        xs = np.asarray(grid, dtype=float)
        if xs.ndim != 1 or xs.size < 2 or not np.all(np.isfinite(xs)) \
                or np.any(np.diff(xs) <= 0):
            raise MetricInputError(t("metrics.ineq.conv.err.grid", what=what))
    dens = np.column_stack([k(xs) for k in kdes])
    frame = pd.DataFrame(dens, index=pd.Index(xs, name="value"), columns=panel.columns)
    return KernelDensityEvolution(transform, xs, frame,
                                  pd.Series(bws, index=panel.columns, name="bandwidth"))


# ----------------------------------------------------------------------------- Markov chains


def _cuts(x: Array, k: int, what: str, where: object) -> Array:
    cuts = np.percentile(x, 100.0 * np.arange(1, k) / k)
    if np.any(np.diff(cuts) <= 0) or (k > 1 and cuts[-1] >= x.max()):
        raise MetricInputError(t("metrics.ineq.conv.err.ties", what=what, k=k, where=where))
    return np.asarray(cuts, dtype=float)


def _classify(values: Array, k: int, quantiles: Quantiles, cutoffs: Iterable[float] | None,
              columns: pd.Index, what: str) -> tuple[IntArray, pd.DataFrame, int]:
    """Class ids ``(n, T)`` in ``0..k−1``: class ``j`` holds ``c_{j−1} < y ≤ c_j``."""
    if cutoffs is not None:
        cuts = np.asarray(list(cutoffs), dtype=float)
        if cuts.ndim != 1 or cuts.size < 1 or not np.all(np.isfinite(cuts)) \
                or np.any(np.diff(cuts) <= 0):
            raise MetricInputError(t("metrics.ineq.conv.err.cutoffs", what=what))
        k = cuts.size + 1
        ids = np.searchsorted(cuts, values, side="left")
        table = pd.DataFrame([cuts], index=pd.Index(["cutoffs"], name="quantiles"))
    else:
        if isinstance(k, bool) or int(k) != k or k < 2:
            raise MetricInputError(t("metrics.ineq.conv.err.k", what=what, k=k))
        k = int(k)
        if quantiles == "pooled":
            cuts = _cuts(values.ravel(), k, what, "pooled")
            ids = np.searchsorted(cuts, values, side="left")
            table = pd.DataFrame([cuts], index=pd.Index(["pooled"], name="quantiles"))
        elif quantiles == "per_year":
            rows = [_cuts(values[:, j], k, what, columns[j]) for j in range(values.shape[1])]
            ids = np.column_stack([np.searchsorted(c, values[:, j], side="left")
                                   for j, c in enumerate(rows)])
            table = pd.DataFrame(rows, index=pd.Index(columns, name="year"))
        else:
            raise MetricInputError(t("metrics.ineq.conv.err.quantiles", value=quantiles))
    table.columns = pd.Index([f"c{j + 1}" for j in range(table.shape[1])])
    return np.asarray(ids, dtype=np.intp), table, k


def _transition_counts(ids: IntArray, k: int, cond: IntArray | None = None,
                       m: int = 1) -> Array:
    """Counts ``(m, k, k)`` of transitions ``ids[:, t] → ids[:, t+1]``, by ``cond[:, t]``."""
    start, stop = ids[:, :-1].ravel(), ids[:, 1:].ravel()
    lag = np.zeros_like(start) if cond is None else cond[:, :-1].ravel()
    flat = (lag * k + start) * k + stop
    return np.bincount(flat, minlength=m * k * k).reshape(m, k, k).astype(float)


def _probabilities(counts: Array) -> Array:
    rows = counts.sum(axis=-1, keepdims=True)
    return np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)


def _steady_state(P: Array) -> Array | None:
    """Stationary distribution of an irreducible chain; ``None`` otherwise."""
    k = P.shape[0]
    if np.any(P.sum(axis=1) == 0):
        return None
    n_comp, _ = connected_components(sp.csr_matrix(P > 0), directed=True,
                                     connection="strong")
    if n_comp != 1:
        return None
    # solve π (P − I) = 0 with Σ π = 1 (least squares on the stacked system)
    system = np.vstack([(P - np.eye(k)).T, np.ones((1, k))])
    rhs = np.zeros(k + 1)
    rhs[-1] = 1.0
    pi = np.linalg.lstsq(system, rhs, rcond=None)[0]
    return np.clip(pi, 0.0, None) / np.clip(pi, 0.0, None).sum()


@dataclass(frozen=True)
class MarkovChain:
    """Result of :func:`markov_chain`.

    ``classes``: the class (0 = lowest) of each unit and year; ``cutoffs``: the class upper
    bounds (one row ``pooled``/``cutoffs``, or one row per year); ``counts``: transitions
    from class (rows, ``from``) to class (columns, ``to``) between consecutive years, summed
    over all pairs of years; ``P``: ``counts`` divided by row sums (a class never left from
    has a row of zeros); ``initial``/``final``: class shares in the first and last year;
    ``steady_state``: the stationary distribution when the chain is irreducible, else
    ``None``.
    """

    quantiles: str
    classes: pd.DataFrame
    cutoffs: pd.DataFrame
    counts: pd.DataFrame
    P: pd.DataFrame
    initial: pd.Series
    final: pd.Series
    steady_state: pd.Series | None


def _class_frame(m: Array, k: int, name_from: str = "from") -> pd.DataFrame:
    return pd.DataFrame(m, index=pd.RangeIndex(k, name=name_from),
                        columns=pd.RangeIndex(k, name="to"))


def _chain(values: Array, panel: pd.DataFrame, keep: NDArray[np.bool_], k: int,
           quantiles: Quantiles, cutoffs: Iterable[float] | None, what: str
           ) -> tuple[MarkovChain, IntArray]:
    ids, cut_table, k = _classify(values, k, quantiles, cutoffs, panel.columns, what)
    counts = _transition_counts(ids, k)[0]
    P = _probabilities(counts)
    shares = [np.bincount(ids[:, j], minlength=k) / ids.shape[0] for j in (0, -1)]
    ss = _steady_state(P)
    classes = pd.DataFrame(ids, index=panel.index[keep], columns=panel.columns)
    chain = MarkovChain(
        "cutoffs" if cutoffs is not None else quantiles, classes, cut_table,
        _class_frame(counts, k), _class_frame(P, k),
        pd.Series(shares[0], index=pd.RangeIndex(k, name="class"), name="initial"),
        pd.Series(shares[1], index=pd.RangeIndex(k, name="class"), name="final"),
        None if ss is None else pd.Series(ss, index=pd.RangeIndex(k, name="class"),
                                          name="steady_state"))
    return chain, ids


def markov_chain(panel: pd.DataFrame, *, k: int = 5, quantiles: Quantiles = "pooled",
                 cutoffs: Iterable[float] | None = None, dropna: bool = False) -> MarkovChain:
    """Discrete Markov chain of class transitions (maximum-likelihood transition matrix).

    **Formula**: each value is put in one of ``k`` classes; ``n_ij`` counts units in class
    ``i`` in year ``t`` and class ``j`` in year ``t+1`` over all consecutive pairs of years;
    ``P_ij = n_ij / Σ_j n_ij`` (Anderson & Goodman 1957). Class ``j`` (0-based) holds the
    values ``c_{j−1} < y ≤ c_j`` (``c_{−1} = −∞``, ``c_{k−1} = +∞``).

    **Source**: Quah (1993), "Empirical cross-section dynamics in economic growth", *European
    Economic Review* 37, 426–434; Rey (2001), *Geographical Analysis* 33, 195–214. Counts
    and ``P`` equal ``giddy.markov.Markov`` on the same class ids.

    **Variant**: ``quantiles="pooled"`` (default) takes the ``k``-quantiles of all values of
    all years together (fixed classes, absolute mobility; giddy ``Spatial_Markov`` with
    ``fixed=True``); ``"per_year"`` takes them in each year separately (every year has about
    ``n/k`` units per class, relative mobility; giddy's ``Markov`` examples and
    ``fixed=False``). Quantiles use linear interpolation (``numpy.percentile``, as
    mapclassify's ``Quantiles``). Where ties make two cut points equal, mapclassify silently
    merges classes; here :class:`MetricInputError` is raised instead (choose a smaller ``k``
    or explicit ``cutoffs``). ``cutoffs`` (``k − 1`` increasing values) override the
    quantiles (as giddy's ``cutoffs`` / mapclassify ``UserDefined``). To study relative
    levels divide the panel by its yearly mean first. ``dropna=True`` drops units with a
    missing year.
    """
    what = "Markov"
    values, _ = _panel(panel, what)
    keep = _drop_units(values, what, dropna)
    chain, _ = _chain(values[keep], panel, keep, k, quantiles, cutoffs, what)
    return chain


def _weights_matrix(W: Weights, units: pd.Index, what: str) -> sp.csr_matrix:
    """Row-standardised sparse ``W`` ordered as ``units``; rejects isolates."""
    n = len(units)
    if isinstance(W, Mapping):
        pos = {u: i for i, u in enumerate(units)}
        rows, cols = [], []
        for unit, neighbours in W.items():
            if unit not in pos:
                raise MetricInputError(t("metrics.ineq.conv.err.w_unit", what=what,
                                         unit=unit))
            for other in neighbours:
                if other not in pos:
                    raise MetricInputError(t("metrics.ineq.conv.err.w_unit", what=what,
                                             unit=other))
                rows.append(pos[unit])
                cols.append(pos[other])
        M = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
        M.sum_duplicates()
        M.data[:] = 1.0
    elif isinstance(W, pd.DataFrame):
        if not (set(W.index) == set(units) and set(W.columns) == set(units)):
            raise MetricInputError(t("metrics.ineq.conv.err.w_labels", what=what))
        M = sp.csr_matrix(W.reindex(index=units, columns=units).to_numpy(dtype=float))
    else:
        M = sp.csr_matrix(W, dtype=float)
    if M.shape != (n, n):
        raise MetricInputError(t("metrics.ineq.conv.err.w_shape", what=what,
                                 shape=M.shape, n=n))
    if not np.all(np.isfinite(M.data)) or np.any(M.data < 0):
        raise MetricInputError(t("metrics.ineq.conv.err.w_values", what=what))
    return M


def _row_standardise(M: sp.csr_matrix, units: pd.Index, what: str) -> sp.csr_matrix:
    sums = np.asarray(M.sum(axis=1)).ravel()
    isolates = np.flatnonzero(sums <= 0)
    if isolates.size:
        shown = ", ".join(str(units[i]) for i in isolates[:10])
        raise MetricInputError(t("metrics.ineq.conv.err.isolates", what=what,
                                 count=int(isolates.size), units=shown))
    return sp.csr_matrix(sp.diags(1.0 / sums) @ M)


@dataclass(frozen=True)
class SpatialMarkov:
    """Result of :func:`spatial_markov`.

    ``counts`` and ``P`` have a row MultiIndex (``lag`` class of the neighbours at the start
    year, ``from`` class) and the ``to`` class as columns: block ``lag = l`` is the transition
    matrix of units whose spatial lag was in class ``l``. ``lag_classes``/``lag_cutoffs``
    describe the lag's discretisation, ``chain`` the non-spatial chain on the same classes.
    ``Q``/``Q_dof``/``Q_p_value`` (Pearson χ²) and ``LR``/``LR_p_value`` (likelihood ratio)
    test that the conditional matrices equal the pooled one (Bickenbach & Bode 2003).
    """

    chain: MarkovChain
    lag_classes: pd.DataFrame
    lag_cutoffs: pd.DataFrame
    counts: pd.DataFrame
    P: pd.DataFrame
    Q: float
    LR: float
    dof: int
    Q_p_value: float
    LR_p_value: float

    def matrices(self) -> Array:
        """``P`` as an array ``(m, k, k)``."""
        m = self.P.index.get_level_values("lag").nunique()
        k = self.P.shape[1]
        return self.P.to_numpy().reshape(m, k, k)


def _homogeneity(T: Array) -> tuple[float, float, int]:
    """Bickenbach–Bode Q and LR statistics and their degrees of freedom."""
    pooled = T.sum(axis=0)
    p0 = _probabilities(pooled)
    n_lm = T.sum(axis=2)                                          # (m, k)
    p_l = _probabilities(T)
    den = np.where(p0 > 0, p0, 1.0)
    Q = float(np.sum(n_lm[:, :, None] * (p_l - p0) ** 2 / den))
    mask = (T > 0) & (p0 > 0)
    ratio = np.where(mask, p_l, 1.0) / np.where(mask, p0, 1.0)
    LR = float(2.0 * np.sum(T * np.log(ratio)))
    b_i = (n_lm > 0).sum(axis=0)                                  # lag classes seen per row
    a_i = (pooled > 0).sum(axis=1)                                # destinations per row
    dof = int(np.sum((b_i - 1) * (a_i - 1)))
    return Q, LR, dof


def spatial_markov(panel: pd.DataFrame, W: Weights, *, k: int = 5, m: int | None = None,
                   quantiles: Quantiles = "pooled", cutoffs: Iterable[float] | None = None,
                   lag_cutoffs: Iterable[float] | None = None,
                   dropna: bool = False) -> SpatialMarkov:
    """Spatial Markov chain: transition matrices conditioned on the neighbours' class.

    **Formula**: the spatial lag ``L_it = Σ_j w_ij y_jt`` with ``W`` row-standardised
    (``Σ_j w_ij = 1``) is discretised into ``m`` classes; ``n_lij`` counts transitions
    ``i → j`` between ``t`` and ``t+1`` of units whose lag was in class ``l`` at ``t``, and
    ``P_l,ij = n_lij / Σ_j n_lij``. The homogeneity test compares each ``P_l`` with the pooled
    ``P``: ``Q = Σ_l Σ_i Σ_j n_li (p_l,ij − p_ij)² / p_ij`` and
    ``LR = 2 Σ n_lij ln(p_l,ij / p_ij)``, χ² with ``Σ_i (b_i − 1)(a_i − 1)`` degrees of
    freedom (``b_i`` lag classes with transitions out of ``i``, ``a_i`` positive entries of
    row ``i`` of ``P``).

    **Source**: Rey (2001), "Spatial empirics for economic growth and convergence",
    *Geographical Analysis* 33, 195–214; Bickenbach & Bode (2003), *International Regional
    Science Review* 26, 363–392. Counts, ``P``, ``Q`` and ``LR`` equal
    ``giddy.markov.Spatial_Markov`` on the same input (``quantiles="pooled"`` ↔
    ``fixed=True``, ``"per_year"`` ↔ ``fixed=False``).

    **Variant**: ``W`` is a dense ``(n, n)`` array or scipy sparse matrix ordered as the
    panel's rows, a DataFrame labelled by unit, or a dict ``{unit: [neighbour units]}``
    (binary contiguity); it is row-standardised here (a row-standardised ``W`` is left as it
    is). A unit without neighbours (an isolate, e.g. an island or a disconnected county) has
    no spatial lag and raises :class:`MetricInputError`. Classes of ``y`` as in
    :func:`markov_chain`; the lag uses the same ``quantiles`` convention with ``m`` classes
    (default ``m = k``) unless ``lag_cutoffs`` are given. ``dropna=True`` drops units with a
    missing year and removes them from ``W`` before row-standardising.
    """
    what = "spatial Markov"
    values, _ = _panel(panel, what)
    keep = _drop_units(values, what, dropna)
    M = _weights_matrix(W, panel.index, what)
    idx = np.flatnonzero(keep)
    units = panel.index[keep]
    Wr = _row_standardise(sp.csr_matrix(M[idx][:, idx]), units, what)
    values = values[keep]
    chain, ids = _chain(values, panel, keep, k, quantiles, cutoffs, what)
    k = chain.P.shape[0]
    lag = np.asarray(Wr @ values)
    lag_ids, lag_table, m_used = _classify(lag, k if m is None else m, quantiles,
                                           lag_cutoffs, panel.columns, what)
    T = _transition_counts(ids, k, lag_ids, m_used)
    P = _probabilities(T)
    Q, LR, dof = _homogeneity(T)
    rows = pd.MultiIndex.from_product([range(m_used), range(k)], names=["lag", "from"])
    cols = pd.RangeIndex(k, name="to")
    p_q = float(stats.chi2.sf(Q, dof)) if dof > 0 else 1.0
    p_lr = float(stats.chi2.sf(LR, dof)) if dof > 0 else 1.0
    return SpatialMarkov(chain,
                         pd.DataFrame(lag_ids, index=units, columns=panel.columns),
                         lag_table,
                         pd.DataFrame(T.reshape(m_used * k, k), index=rows, columns=cols),
                         pd.DataFrame(P.reshape(m_used * k, k), index=rows, columns=cols),
                         Q, LR, dof, p_q, p_lr)
