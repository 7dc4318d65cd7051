"""Outlier treatment: the skewness/kurtosis rule, iterative winsorisation, log and Box–Cox.

Signature ``treat(X, **params) -> (X_treated, info)`` (see :mod:`cocity.index.registry`).

**The rule** (OECD/JRC Handbook 2008; COINr ``check_SkewKurt``): an indicator needs treatment when
``|skew| ≥ skew_thresh`` (default 2) **and** ``kurt ≥ kurt_thresh`` (default 3.5); both
comparisons allow a relative slack of 1e-9, so a value equal to a threshold in exact arithmetic
reaches it despite rounding.

**Estimators** (:func:`skew_kurtosis`): the ones COINr's ``skew()``/``kurt()`` use, i.e. e1071
``type = 2`` = Excel ``SKEW``/``KURT`` = SAS/SPSS (Joanes & Gill 1998): the adjusted
Fisher–Pearson sample skewness ``G1 = g1·√(N(N−1))/(N−2)`` and the sample **excess** kurtosis
``G2 = ((N+1)·g2 + 6)·(N−1)/((N−2)(N−3))``, with ``g1 = m3/m2^{3/2}``, ``g2 = m4/m2² − 3`` and
``m_r`` the central moments (divisor N) of the N observed values. They need N ≥ 4 and a non-zero
spread; otherwise the rule cannot be evaluated and the column is left as it is (recorded in
``info``). Equal to ``scipy.stats.skew(bias=False)`` and ``scipy.stats.kurtosis(bias=False)``.

**info**: for ``X`` of shape ``(n, m)``, ``{"method", "params", "columns": [per column record]}``;
each record has ``column``, ``n`` (observed values), ``skew_before``, ``kurt_before``,
``failed_before``, ``treatment`` ("none", "winsorise", "log", "boxcox"), ``winsorised`` (number
of points), ``rows`` (their row indices), ``winsorised_to`` (the values they received),
``lambda`` (Box–Cox), ``log_variant``, ``skew_after``, ``kurt_after``, ``failed_after``,
``override``, ``note``. Undefined statistics are ``None``. With leading replication axes the
methods loop over replications (winsorisation is sequential and data dependent, so it is not
vectorised) and ``info`` holds ``"replications": [{"index": (…), "columns": […]}, …]`` in C order.
Missing values stay missing. Every transform used is increasing, so directions are preserved.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from cocity.i18n import t
from cocity.index.errors import MethodInputError
from cocity.index.normalise import as_matrix
from cocity.index.registry import register

Array = NDArray[np.float64]
Info = dict[str, Any]

LOG_VARIANTS = ("ct", "ct_orig", "ct_plus")
OVERRIDES = ("none", "winsorise", "log", "boxcox")
FALLBACKS = ("log", "boxcox", "none")


def skew_kurtosis(X: ArrayLike) -> tuple[Array, Array]:
    """Sample skewness ``G1`` and excess kurtosis ``G2`` of each column over observed values.

    Shapes ``(..., m)``; ``NaN`` where fewer than 4 values are observed or the column is
    constant (the statistics are undefined there). See the module docstring for the formulas.
    """
    arr = np.asarray(X, dtype=float)
    obs = ~np.isnan(arr)
    n = obs.sum(axis=-2).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(obs, arr, 0.0).sum(axis=-2) / n
        dev = np.where(obs, arr - mean[..., None, :], 0.0)
        m2 = (dev**2).sum(axis=-2) / n
        m3 = (dev**3).sum(axis=-2) / n
        m4 = (dev**4).sum(axis=-2) / n
        g1 = m3 / m2**1.5
        g2 = m4 / m2**2 - 3.0
        G1 = g1 * np.sqrt(n * (n - 1.0)) / (n - 2.0)
        G2 = ((n + 1.0) * g2 + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0))
    # spread relative to the values' magnitude: exact-zero tests miss float noise of a constant
    scale = np.where(obs, np.abs(arr), 0.0).max(axis=-2)
    ok = (n >= 4) & (m2 > (1e-12 * np.maximum(scale, 1e-300)) ** 2)
    return np.where(ok, G1, np.nan), np.where(ok, G2, np.nan)


def _stats(x: Array) -> tuple[float | None, float | None]:
    s, k = skew_kurtosis(x.reshape(-1, 1))
    sv, kv = float(s[0]), float(k[0])
    return (None if np.isnan(sv) else sv), (None if np.isnan(kv) else kv)


def _fails(s: float | None, k: float | None, skew_thresh: float, kurt_thresh: float) -> bool | None:
    if s is None or k is None:
        return None
    # a relative 1e-9 slack so that values equal to a threshold in exact arithmetic reach it
    return (abs(s) >= skew_thresh - 1e-9 * abs(skew_thresh)
            and k >= kurt_thresh - 1e-9 * abs(kurt_thresh))


def _winsorise(x: Array, skew_thresh: float, kurt_thresh: float,
               max_winsorised: int) -> tuple[Array, list[int], bool]:
    """Iterative winsorisation of the observed values of one column.

    Each step, while the rule fails: on the side of the skew (high end when skew > 0), the
    point(s) holding the most extreme value are set to the next value in order; tied extreme
    points move together and each counts once towards ``max_winsorised``. The step is skipped
    (and winsorisation stops) when it would exceed ``max_winsorised`` points.
    Returns the values, the winsorised rows and whether the rule still fails.
    """
    y = x.copy()
    obs = np.flatnonzero(~np.isnan(y))
    done: set[int] = set()
    while True:
        s, k = _stats(y)
        if not _fails(s, k, skew_thresh, kurt_thresh):
            return y, sorted(done), False
        vals = y[obs]
        distinct = np.unique(vals)
        if distinct.size < 2:
            return y, sorted(done), True
        assert s is not None
        extreme, nxt = (distinct[-1], distinct[-2]) if s > 0 else (distinct[0], distinct[1])
        group = obs[vals == extreme]
        new = [int(i) for i in group if int(i) not in done]
        if len(done) + len(new) > max_winsorised:
            return y, sorted(done), True
        y[group] = nxt
        done.update(new)


def _log(x: Array, variant: str, column: int) -> Array:
    obs = ~np.isnan(x)
    lo, hi = np.min(x[obs]), np.max(x[obs])
    if variant == "ct_orig":
        return np.log(x - lo + 1.0)
    a = 0.01 * (hi - lo)
    if not a > 0:
        raise MethodInputError(t("index.m.treat_constant", method="log", column=column))
    if variant == "ct_plus":
        s, _ = _stats(x)
        if s is not None and s < 0:
            return -np.log(hi + a - x)
    return np.log(x - lo + a)


def _boxcox(x: Array, lam: float | None, column: int) -> tuple[Array, float]:
    obs = ~np.isnan(x)
    shifted = x[obs] - np.min(x[obs]) + 1.0
    out = np.full(x.shape, np.nan)
    if lam is None:
        if np.unique(shifted).size < 2:
            raise MethodInputError(t("index.m.treat_constant", method="boxcox", column=column))
        values, fitted = stats.boxcox(shifted)
        out[obs] = values
        return out, float(fitted)
    out[obs] = stats.boxcox(shifted, lmbda=float(lam))
    return out, float(lam)


def _check_common(m: int, overrides: dict[int, str] | None, log_variant: str,
                  max_winsorised: int, method: str) -> dict[int, str]:
    if log_variant not in LOG_VARIANTS:
        raise MethodInputError(t("index.m.choice", method=method, name="log_variant",
                                 value=log_variant, allowed=", ".join(LOG_VARIANTS)))
    if int(max_winsorised) < 0:
        raise MethodInputError(t("index.m.positive", method=method, name="max_winsorised",
                                 value=max_winsorised))
    ov = dict(overrides or {})
    for j, how in ov.items():
        if not (isinstance(j, int | np.integer) and 0 <= int(j) < m):
            raise MethodInputError(t("index.m.override_column", method=method, column=j, m=m))
        if how not in OVERRIDES:
            raise MethodInputError(t("index.m.choice", method=method, name=f"overrides[{j}]",
                                     value=how, allowed=", ".join(OVERRIDES)))
    return {int(j): how for j, how in ov.items()}


def _treat_column(x: Array, j: int, plan: str, *, skew_thresh: float, kurt_thresh: float,
                  max_winsorised: int, fallback: str, log_variant: str, lam: float | None,
                  forced: bool, override: str | None) -> tuple[Array, dict[str, Any]]:
    """Treat one column. ``plan``: "none", "winsorise" (then ``fallback``), "log", "boxcox";
    ``forced`` applies ``plan`` whatever the rule says (overrides), else only when it fails."""
    s0, k0 = _stats(x)
    failed0 = _fails(s0, k0, skew_thresh, kurt_thresh)
    rec: dict[str, Any] = {
        "column": j, "n": int((~np.isnan(x)).sum()), "skew_before": s0, "kurt_before": k0,
        "failed_before": failed0, "treatment": "none", "winsorised": 0, "rows": [],
        "winsorised_to": [], "lambda": None, "log_variant": None, "override": override,
        "note": None,
    }
    y = x
    if failed0 is None and not forced:
        rec["note"] = "too_few_or_constant"
    elif plan != "none" and (forced or failed0):
        if plan == "winsorise":
            y, rows, still = _winsorise(x, skew_thresh, kurt_thresh, max_winsorised)
            if rows:
                rec.update(treatment="winsorise", winsorised=len(rows), rows=rows,
                           winsorised_to=[float(y[i]) for i in rows])
            if still:
                rec["note"] = "winsorisation_failed"
            if still and fallback != "none" and not forced:
                # COINr Treat(): when winsorisation cannot pass the rule, the second function
                # is applied to the original values instead.
                rec.update(winsorised=0, rows=[], winsorised_to=[])
                plan = fallback
                y = x
        if plan == "log":
            y = _log(x, log_variant, j)
            rec.update(treatment="log", log_variant=log_variant)
        elif plan == "boxcox":
            y, used = _boxcox(x, lam, j)
            rec.update(treatment="boxcox")
            rec["lambda"] = used
    s1, k1 = _stats(y)
    rec.update(skew_after=s1, kurt_after=k1, failed_after=_fails(s1, k1, skew_thresh, kurt_thresh))
    return y, rec


def _run(X: ArrayLike, method: str, default_plan: str, params: dict[str, Any],
         overrides: dict[int, str] | None) -> tuple[Array, Info]:
    arr = as_matrix(X, method)
    m = arr.shape[-1]
    ov = _check_common(m, overrides, params["log_variant"], params["max_winsorised"], method)
    out = arr.copy()
    knobs = {k: params[k] for k in ("skew_thresh", "kurt_thresh", "max_winsorised", "fallback",
                                    "log_variant", "lam")}
    lead = arr.shape[:-2]
    reps = []
    for idx in np.ndindex(*lead):
        cols = []
        for j in range(m):
            plan = ov.get(j, default_plan)
            y, rec = _treat_column(arr[(*idx, slice(None), j)], j, plan, forced=j in ov,
                                   override=ov.get(j), **knobs)
            out[(*idx, slice(None), j)] = y
            cols.append(rec)
        reps.append({"index": idx, "columns": cols})
    info: Info = {"method": method, "params": {**knobs, "overrides": ov}}
    if lead:
        info["replications"] = reps
    else:
        info["columns"] = reps[0]["columns"]
    return out, info


@register("treat", "winsorise")
def winsorise(X: ArrayLike, *, skew_thresh: float = 2.0, kurt_thresh: float = 3.5,
              max_winsorised: int = 5, fallback: str = "log", log_variant: str = "ct",
              lam: float | None = None,
              overrides: dict[int, str] | None = None) -> tuple[Array, Info]:
    """Two-stage outlier treatment: iterative winsorisation, then a transform if still needed.

    Formula: for each indicator failing the rule ``|G1| ≥ skew_thresh and G2 ≥ kurt_thresh``,
    repeatedly set the most extreme point on the side of the skew to the next value in order,
    re-checking the rule after each step, up to ``max_winsorised`` points (default 5). If the
    rule still fails, the **original** values are transformed instead by ``fallback``: ``"log"``
    (see :func:`log`, variant ``log_variant``), ``"boxcox"`` (see :func:`boxcox`, ``lam``) or
    ``"none"`` (keep the winsorised values).
    Source: OECD/JRC *Handbook on Constructing Composite Indicators* (2008), §4; COINr
    ``Treat()`` / ``winsorise(winmax = 5, skew_thresh = 2, kurt_thresh = 3.5)`` with
    ``f2 = "log_CT"``.
    Variant: tied extreme points are moved together (each counts towards the limit); a step
    that would exceed the limit is not taken. ``overrides = {column: "none" | "winsorise" |
    "log" | "boxcox"}`` replaces the procedure for that column: ``"none"`` leaves it untouched,
    ``"winsorise"`` winsorises without fallback, ``"log"``/``"boxcox"`` transform it whether or
    not the rule fails.
    """
    params = {"skew_thresh": skew_thresh, "kurt_thresh": kurt_thresh,
              "max_winsorised": int(max_winsorised), "fallback": fallback,
              "log_variant": log_variant, "lam": lam}
    if fallback not in FALLBACKS:
        raise MethodInputError(t("index.m.choice", method="winsorise", name="fallback",
                                 value=fallback, allowed=", ".join(FALLBACKS)))
    return _run(X, "winsorise", "winsorise", params, overrides)


@register("treat", "log")
def log(X: ArrayLike, *, skew_thresh: float = 2.0, kurt_thresh: float = 3.5,
        log_variant: str = "ct", overrides: dict[int, str] | None = None) -> tuple[Array, Info]:
    """Log-transform the indicators that fail the skewness/kurtosis rule (no winsorisation).

    Formula (``log_variant``): ``"ct"`` (default, COINr ``log_CT``) ``y = ln(x − min + a)`` with
    ``a = 0.01·(max − min)``; ``"ct_orig"`` (COINr ``log_CT_orig``, the original COIN Tool)
    ``y = ln(x − min + 1)``; ``"ct_plus"`` (COINr ``log_CT_plus``) as ``"ct"`` when skew ≥ 0 and
    ``y = −ln(max + a − x)`` when skew < 0, so negative skew is reduced too.
    Source: JRC COIN Tool; COINr ``log_CT*``; OECD/JRC Handbook (2008), §4.
    Variant: the scaled shift ``a`` is the default (it keeps the transform independent of the
    unit of measure); ``"ct"`` on a constant column raises. ``overrides`` as in
    :func:`winsorise` (``"log"`` forces the transform).
    """
    params = {"skew_thresh": skew_thresh, "kurt_thresh": kurt_thresh, "max_winsorised": 0,
              "fallback": "none", "log_variant": log_variant, "lam": None}
    return _run(X, "log", "log", params, overrides)


@register("treat", "boxcox")
def boxcox(X: ArrayLike, *, lam: float | None = None, skew_thresh: float = 2.0,
           kurt_thresh: float = 3.5,
           overrides: dict[int, str] | None = None) -> tuple[Array, Info]:
    """Box–Cox-transform the indicators that fail the skewness/kurtosis rule.

    Formula: ``y = ((x − min + 1)^λ − 1)/λ`` (``ln(x − min + 1)`` for ``λ = 0``); the shift
    ``x − min + 1`` makes every value ≥ 1 (COINr ``boxcox(makepos = TRUE)``).
    Source: Box & Cox (1964); ``scipy.stats.boxcox``; COINr ``boxcox``.
    Variant: ``lam`` given, or fitted per column by maximum likelihood (``scipy.stats.boxcox``)
    when ``None``; the λ used is recorded. ``overrides`` as in :func:`winsorise`.
    """
    params = {"skew_thresh": skew_thresh, "kurt_thresh": kurt_thresh, "max_winsorised": 0,
              "fallback": "none", "log_variant": "ct", "lam": lam}
    return _run(X, "boxcox", "boxcox", params, overrides)


@register("treat", "none")
def none(X: ArrayLike, *, skew_thresh: float = 2.0,
         kurt_thresh: float = 3.5) -> tuple[Array, Info]:
    """No treatment; ``info`` still records each indicator's skewness, kurtosis and rule result.

    Formula: ``y = x``. Source: —. Variant: useful as the "no treatment" choice in uncertainty
    analysis.
    """
    params = {"skew_thresh": skew_thresh, "kurt_thresh": kurt_thresh, "max_winsorised": 0,
              "fallback": "none", "log_variant": "ct", "lam": None}
    return _run(X, "none", "none", params, None)
