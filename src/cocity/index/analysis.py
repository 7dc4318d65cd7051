"""Read-only analysis of indicators and results: statistics, correlations, reliability, PCA,
strengths and weaknesses, importance by removal.

These functions report; they take and return pandas objects (units in rows, indicators in
columns, ``NaN`` missing) and never change their input. Column names of the returned frames
are identifiers; display labels for the flags are ``index.a.flag.*`` in ``i18n``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from cocity.i18n import t
from cocity.index.errors import MethodInputError


def indicator_stats(df: pd.DataFrame, *, skew_limit: float = 2.0, kurt_limit: float = 3.5,
                    cv_limit: float = 0.01, collinear_limit: float = 0.9) -> pd.DataFrame:
    """One row per indicator: summary statistics and flags.

    Columns: ``n`` (observed values), ``missing_share``, ``mean``, ``sd`` (sample, divisor
    n − 1), ``min``, ``max``, ``skew`` and ``kurtosis`` (bias-corrected sample skewness and
    *excess* kurtosis — the Excel ``SKEW``/``KURT`` estimators the JRC rule was set with;
    ``NaN`` below 3 resp. 4 values or for a constant column), ``cv`` (``sd / |mean|``), and:

    - ``flag_skew_kurt``: ``|skew| ≥ skew_limit`` and ``kurtosis ≥ kurt_limit`` (OECD/JRC
      Handbook 2008 and COINr's outlier rule: 2 and 3.5);
    - ``flag_constant``: every observed value equal;
    - ``flag_low_variability``: constant, or ``cv < cv_limit`` (0.01);
    - ``flag_collinear``: ``|r| > collinear_limit`` (Pearson, pairwise-complete, at least 3
      pairs) with another indicator, listed in ``collinear_with``. The absolute value is
      used: a strong negative correlation is as redundant as a positive one;
    - ``flag_no_data``: no observed value (statistics ``NaN``, other flags false).
    """
    num = df.astype(float)
    total = len(num)
    corr = num.corr(method="pearson", min_periods=3)
    rows = []
    for col in num.columns:
        x = num[col].dropna().to_numpy()
        n = x.size
        mean = float(x.mean()) if n else np.nan
        sd = float(x.std(ddof=1)) if n > 1 else np.nan
        constant = bool(n > 0 and x.max() == x.min())
        skew = kurt = np.nan
        if not constant:
            if n >= 3:
                skew = float(stats.skew(x, bias=False))
            if n >= 4:
                kurt = float(stats.kurtosis(x, fisher=True, bias=False))
        cv = sd / abs(mean) if n > 1 and mean != 0 else np.nan
        others = corr[col].drop(index=col) if col in corr else pd.Series(dtype=float)
        partners = [str(c) for c, r in others.items()
                    if np.isfinite(r) and abs(r) > collinear_limit]
        rows.append({
            "indicator": col,
            "n": n,
            "missing_share": 1.0 - n / total if total else np.nan,
            "mean": mean,
            "sd": sd,
            "min": float(x.min()) if n else np.nan,
            "max": float(x.max()) if n else np.nan,
            "skew": skew,
            "kurtosis": kurt,
            "cv": cv,
            "flag_skew_kurt": bool(np.isfinite(skew) and np.isfinite(kurt)
                                   and abs(skew) >= skew_limit and kurt >= kurt_limit),
            "flag_constant": constant,
            "flag_low_variability": bool(constant or (np.isfinite(cv) and cv < cv_limit)),
            "flag_collinear": bool(partners),
            "collinear_with": partners,
            "flag_no_data": n == 0,
        })
    return pd.DataFrame(rows).set_index("indicator")


@dataclass(frozen=True)
class Correlations:
    """Correlation matrix ``r``, two-sided p-values ``p`` and pair counts ``n``."""

    r: pd.DataFrame
    p: pd.DataFrame
    n: pd.DataFrame


def correlations(df: pd.DataFrame, *, method: str = "pearson") -> Correlations:
    """Pairwise correlations with p-values (``scipy.stats.pearsonr`` / ``spearmanr``).

    Each pair uses the units observed on both (pairwise deletion). ``r`` and ``p`` are ``NaN``
    for a pair with fewer than 3 common units or a constant column among them (undefined; see
    ``indicator_stats`` flags). The diagonal holds ``r = 1``, ``p = 0`` for a column with
    spread.
    """
    if method not in ("pearson", "spearman"):
        raise MethodInputError(t("index.a.err.correlation_method", value=method))
    cols = list(df.columns)
    X = df.astype(float).to_numpy()
    m = len(cols)
    r = np.full((m, m), np.nan)
    p = np.full((m, m), np.nan)
    cnt = np.zeros((m, m), dtype=int)
    fn = stats.pearsonr if method == "pearson" else stats.spearmanr
    for i in range(m):
        for j in range(i, m):
            both = ~np.isnan(X[:, i]) & ~np.isnan(X[:, j])
            a, b = X[both, i], X[both, j]
            cnt[i, j] = cnt[j, i] = int(both.sum())
            if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
                continue
            if i == j:
                r[i, i], p[i, i] = 1.0, 0.0
                continue
            res = fn(a, b)
            r[i, j] = r[j, i] = float(res[0])
            p[i, j] = p[j, i] = float(res[1])
    return Correlations(r=pd.DataFrame(r, index=cols, columns=cols),
                        p=pd.DataFrame(p, index=cols, columns=cols),
                        n=pd.DataFrame(cnt, index=cols, columns=cols))


def cronbach_alpha(df: pd.DataFrame) -> float:
    """Cronbach's alpha of the indicators (columns) of ``df``.

    **Formula**: ``α = k/(k − 1) · (1 − Σ_i σ_i² / σ_T²)``, ``σ_i²`` the sample variance of
    indicator ``i``, ``σ_T²`` that of the row total; listwise deletion (units observed on every
    indicator). **Source**: Cronbach (1951), *Psychometrika* 16: 297–334; OECD/JRC Handbook
    (2008), §4. Needs ``k ≥ 2`` indicators and 2 complete units; ``σ_T² = 0`` raises
    :class:`MethodInputError`.
    """
    k = df.shape[1]
    what = t("index.a.name.cronbach")
    if k < 2:
        raise MethodInputError(t("index.a.err.few_columns", what=what, need=2, got=k))
    X = df.astype(float).dropna().to_numpy()
    if X.shape[0] < 2:
        raise MethodInputError(t("index.a.err.few_rows", what=what, need=2, got=X.shape[0]))
    var_total = X.sum(axis=1).var(ddof=1)
    if var_total == 0:
        raise MethodInputError(t("index.a.err.zero_variance", what=what))
    return float(k / (k - 1) * (1.0 - X.var(axis=0, ddof=1).sum() / var_total))


@dataclass(frozen=True)
class PCASummary:
    """Eigenvalues, explained share, cumulative share and loadings (indicators × components)."""

    eigenvalues: pd.Series
    explained: pd.Series
    cumulative: pd.Series
    loadings: pd.DataFrame
    n_units: int


def pca_summary(df: pd.DataFrame, *, standardise: bool = True) -> PCASummary:
    """Principal components of the indicators, with a fixed sign convention.

    **Formula**: eigen-decomposition ``R = V Λ Vᵀ`` of the correlation matrix
    (``standardise=True``) or of the covariance matrix (sample, divisor n − 1), over the
    units observed on every indicator; eigenvalues in decreasing order; explained share
    ``λ_c / Σ λ``; loadings ``V_c · sqrt(λ_c)`` (for the correlation matrix: the correlation
    of each indicator with the component).

    **Variant / sign**: an eigenvector's sign is arbitrary; here each component is flipped so
    that its largest-|loading| entry is positive (the first such entry on ties). A constant
    indicator cannot be standardised: :class:`MethodInputError`.
    """
    cols = list(df.columns)
    what = t("index.a.name.pca")
    if len(cols) < 2:
        raise MethodInputError(t("index.a.err.few_columns", what=what, need=2, got=len(cols)))
    X = df.astype(float).dropna().to_numpy()
    if X.shape[0] < 2:
        raise MethodInputError(t("index.a.err.few_rows", what=what, need=2, got=X.shape[0]))
    sd = X.std(axis=0, ddof=1)
    if standardise and np.any(sd == 0):
        bad = [j for j in range(len(cols)) if sd[j] == 0]
        raise MethodInputError(t("index.a.err.constant_child", method=what, columns=bad))
    M = np.corrcoef(X, rowvar=False) if standardise else np.cov(X, rowvar=False, ddof=1)
    vals, vecs = np.linalg.eigh(M)
    order = np.argsort(vals)[::-1]
    vals = np.clip(vals[order], 0.0, None)
    vecs = vecs[:, order]
    load = vecs * np.sqrt(vals)
    pivot = np.argmax(np.abs(load), axis=0)
    signs = np.sign(load[pivot, np.arange(load.shape[1])])
    load = load * np.where(signs == 0, 1.0, signs)
    names = [f"PC{c + 1}" for c in range(len(vals))]
    share = vals / vals.sum() if vals.sum() > 0 else np.full(vals.shape, np.nan)
    return PCASummary(
        eigenvalues=pd.Series(vals, index=names),
        explained=pd.Series(share, index=names),
        cumulative=pd.Series(np.cumsum(share), index=names),
        loadings=pd.DataFrame(load, index=cols, columns=names),
        n_units=int(X.shape[0]),
    )


def _oriented(df: pd.DataFrame, directions: Mapping[str, int] | pd.Series | None) -> pd.DataFrame:
    num = df.astype(float)
    if directions is None:
        return num
    d = pd.Series(directions, dtype=float).reindex(num.columns)
    if d.isna().any() or not d.isin([1.0, -1.0]).all():
        raise MethodInputError(t("index.a.err.directions"))
    return num * d


def strengths_weaknesses(df: pd.DataFrame, *, k: int = 3,
                         directions: Mapping[str, int] | pd.Series | None = None,
                         ) -> pd.DataFrame:
    """Each unit's ``k`` strongest and ``k`` weakest indicators, by rank among the units.

    Each indicator is ranked over the units (1 = best; ``directions`` +1/−1 per column when
    ``df`` is not already oriented so that higher is better; ties share the best rank,
    "min" method). A unit's strengths are its ``k`` indicators with the best (lowest) rank,
    its weaknesses the ``k`` with the worst (highest) rank; ties between indicators are
    broken by column order; missing values are skipped. When a unit has fewer than ``2k``
    observed indicators the two lists overlap.

    Returns a long frame: ``unit``, ``kind`` (``"strength"``/``"weakness"``; labels
    ``index.a.strength``/``index.a.weakness``), ``position`` (1..k), ``indicator``, ``value``
    (as given), ``rank``.
    """
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise MethodInputError(t("index.a.err.top_k", k=k))
    ranks = _oriented(df, directions).rank(ascending=False, method="min")
    cols = list(df.columns)
    values = df.astype(float).to_numpy()
    rank_arr = ranks.to_numpy(dtype=float)
    out = []
    for i, unit in enumerate(ranks.index):
        rk = rank_arr[i]
        seen = np.flatnonzero(~np.isnan(rk))
        best = seen[np.argsort(rk[seen], kind="stable")][:k]
        worst = seen[np.argsort(-rk[seen], kind="stable")][:k]
        for kind, picks in (("strength", best), ("weakness", worst)):
            for pos, j in enumerate(picks, start=1):
                out.append({"unit": unit, "kind": kind, "position": pos, "indicator": cols[j],
                            "value": float(values[i, j]),
                            "rank": int(rk[j])})
    return pd.DataFrame(out, columns=["unit", "kind", "position", "indicator", "value", "rank"])


def _ranks(scores: NDArray[np.float64], method: str) -> NDArray[np.float64]:
    return np.asarray(stats.rankdata(-scores, method=method), dtype=float)


def removal_importance(build: Callable[[NDArray[np.bool_]], ArrayLike],
                       elements: Sequence[str], *, rank_method: str = "min") -> pd.Series:
    """Importance of each element: the mean absolute rank change when it is removed.

    ``build(mask)`` rebuilds the index keeping the elements where ``mask`` (boolean, one entry
    per element) is true and returns the units' scores (higher is better, ``NaN`` allowed);
    any pipeline can be wrapped this way. **Formula**: with ``r_i`` unit ``i``'s rank in the
    full build and ``r_i^{(−j)}`` its rank without element ``j``,
    ``importance_j = mean_i |r_i^{(−j)} − r_i|``, over the units scored in both builds (ranks
    computed among those units, 1 = highest score, ties by ``rank_method``, default "min").

    **Source**: COINr ``remove_elements`` (mean absolute rank change); OECD/JRC Handbook
    (2008), §7 (sensitivity to the inclusion/exclusion of indicators).
    """
    m = len(elements)
    full = np.ones(m, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        base = np.asarray(build(full), dtype=float)
    out = np.empty(m)
    for j in range(m):
        mask = full.copy()
        mask[j] = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            alt = np.asarray(build(mask), dtype=float)
        if alt.shape != base.shape:
            raise MethodInputError(t("index.a.err.build_shape", got=alt.shape,
                                     expected=base.shape))
        common = np.isfinite(base) & np.isfinite(alt)
        if not np.any(common):
            raise MethodInputError(t("index.a.err.no_common_units", element=elements[j]))
        diff = _ranks(alt[common], rank_method) - _ranks(base[common], rank_method)
        out[j] = float(np.mean(np.abs(diff)))
    return pd.Series(out, index=list(elements), name="mean_abs_rank_change")
