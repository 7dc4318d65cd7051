"""Normalisation methods: bring indicators to a common, comparable scale.

Every normaliser has the signature ``normalise(X, directions, **params)`` (see
:mod:`cocity.index.registry`): ``X`` is ``(..., n, m)`` with ``NaN`` for missing values,
``directions`` is ``(m,)`` of +1/−1, and the result has X's shape and is oriented so that a
higher score is always better. Directions are handled here and nowhere else in the engine.
Statistics (min, max, mean, sd, ranks) are taken over the observed units of each column, separately
for every leading replication index; missing cells stay missing; an all-missing column stays
all-missing. Leading axes broadcast: ``normalise(X[None])`` equals ``normalise(X)[None]``.

The column helpers below (``as_matrix``, ``check_directions``, ``col_*``) are shared by the other
method modules of the engine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cocity.i18n import t
from cocity.index.errors import MethodInputError
from cocity.index.registry import register

Array = NDArray[np.float64]


# ---------------------------------------------------------------------------- shared helpers


def as_matrix(X: ArrayLike, method: str) -> Array:
    """``X`` as a float array of shape ``(..., n, m)``; ±inf is rejected (``NaN`` = missing)."""
    arr = np.array(X, dtype=float)  # a copy: methods never modify the caller's array
    if arr.ndim < 2:
        raise MethodInputError(t("index.m.ndim", method=method, ndim=arr.ndim, need=2))
    if arr.shape[-2] == 0 or arr.shape[-1] == 0:
        raise MethodInputError(t("index.m.empty", method=method, shape=arr.shape))
    if np.isinf(arr).any():
        raise MethodInputError(t("index.m.infinite", method=method))
    return arr


def check_directions(directions: ArrayLike, m: int, method: str) -> Array:
    """Directions as a float array ``(m,)`` of +1/−1, or a clear error."""
    d = np.asarray(directions, dtype=float)
    if d.shape != (m,):
        raise MethodInputError(t("index.m.vector_shape", method=method, name="directions",
                                 shape=d.shape, m=m))
    if not np.isin(d, (1.0, -1.0)).all():
        raise MethodInputError(t("index.m.directions", method=method))
    return d


def check_vector(v: ArrayLike, m: int, method: str, name: str) -> Array:
    """A per-indicator parameter as a float array ``(m,)`` without missing values."""
    arr = np.asarray(v, dtype=float)
    if arr.shape != (m,):
        raise MethodInputError(t("index.m.vector_shape", method=method, name=name,
                                 shape=arr.shape, m=m))
    if not np.isfinite(arr).all():
        raise MethodInputError(t("index.m.vector_finite", method=method, name=name))
    return arr


def bad_columns(mask: ArrayLike) -> list[int]:
    """Column indices flagged anywhere in ``mask`` of shape ``(..., m)`` or ``(..., 1, m)``."""
    arr = np.asarray(mask, dtype=bool)
    flat = arr.reshape(-1, arr.shape[-1])
    return [int(j) for j in np.flatnonzero(flat.any(axis=0))]


def col_count(X: Array) -> Array:
    """Observed values per column, shape ``(..., 1, m)``."""
    return (~np.isnan(X)).sum(axis=-2, keepdims=True).astype(float)


def col_min(X: Array) -> Array:
    """Column minimum over observed values, ``(..., 1, m)``; ``NaN`` for all-missing columns."""
    return np.fmin.reduce(X, axis=-2, keepdims=True)  # fmin skips NaN unless all are NaN


def col_max(X: Array) -> Array:
    """Column maximum over observed values, ``(..., 1, m)``; ``NaN`` for all-missing columns."""
    return np.fmax.reduce(X, axis=-2, keepdims=True)


def col_mean(X: Array) -> Array:
    """Column mean over observed values, ``(..., 1, m)``; ``NaN`` for all-missing columns."""
    missing = np.isnan(X)
    if not missing.any():
        return X.mean(axis=-2, keepdims=True)
    n = (~missing).sum(axis=-2, keepdims=True)
    total = np.where(missing, 0.0, X).sum(axis=-2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / n, np.nan)


def col_std(X: Array, ddof: int = 1) -> Array:
    """Column standard deviation (``ddof`` 1 by default), ``(..., 1, m)``; ``NaN`` if too few."""
    missing = np.isnan(X)
    if not missing.any() and X.shape[-2] > ddof:
        return X.std(axis=-2, ddof=ddof, keepdims=True)
    n = (~missing).sum(axis=-2, keepdims=True)
    dev = np.where(missing, 0.0, X - col_mean(X))
    ss = (dev**2).sum(axis=-2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > ddof, np.sqrt(ss / (n - ddof)), np.nan)


def col_rank(X: Array) -> Array:
    """Average ranks (1 = lowest) of the observed values of each column; ``NaN`` stays ``NaN``."""
    # Work with units on the last (contiguous) axis; argsort puts NaN last.
    xt = np.ascontiguousarray(np.swapaxes(X, -1, -2))
    n = xt.shape[-1]
    order = np.argsort(xt, axis=-1)
    xs = np.take_along_axis(xt, order, axis=-1)
    ordinal = np.arange(1, n + 1, dtype=float)
    same = xs[..., 1:] == xs[..., :-1]  # NaN never equals, so missing cells form no ties
    if same.any():
        # a tied run gets the mean of its first and last ordinal rank
        new_run = np.ones(xs.shape, dtype=bool)
        new_run[..., 1:] = ~same
        first = np.maximum.accumulate(np.where(new_run, ordinal, 0.0), axis=-1)
        end_run = np.ones(xs.shape, dtype=bool)
        end_run[..., :-1] = ~same
        last = np.where(end_run, ordinal, np.inf)[..., ::-1]
        last = np.minimum.accumulate(last, axis=-1)[..., ::-1]
        avg = (first + last) / 2.0
    else:
        avg = np.broadcast_to(ordinal, xs.shape)
    ranks = np.empty(xs.shape)
    np.put_along_axis(ranks, order, avg, axis=-1)
    ranks[np.isnan(xt)] = np.nan
    return np.swapaxes(ranks, -1, -2)


def _raise_constant(method: str, spread: Array) -> None:
    bad = bad_columns(spread == 0)
    if bad:
        raise MethodInputError(t("index.m.constant", method=method, columns=_cols(bad)))


def _cols(cols: Sequence[int]) -> str:
    return ", ".join(str(c) for c in cols)


def _prepare(X: ArrayLike, directions: ArrayLike, method: str) -> tuple[Array, Array]:
    arr = as_matrix(X, method)
    return arr, check_directions(directions, arr.shape[-1], method)


# ---------------------------------------------------------------------------- normalisers


@register("normalise", "minmax")
def minmax(X: ArrayLike, directions: ArrayLike, *, low: float = 0.0,
           high: float = 100.0) -> Array:
    """Min–max rescaling of each indicator to ``[low, high]`` (default 0–100).

    Formula: ``y = low + (high − low)·(x − min)/(max − min)`` for direction +1 and
    ``y = low + (high − low)·(max − x)/(max − min)`` for direction −1 (min and max over the
    observed units of the column).
    Source: OECD/JRC *Handbook on Constructing Composite Indicators* (2008), §5 "min-max";
    COINr ``n_minmax``.
    Variant: target range is a parameter; a constant column (max = min, including a single
    observed value) raises :class:`MethodInputError` naming the column.
    """
    arr, d = _prepare(X, directions, "minmax")
    if not high > low:
        raise MethodInputError(t("index.m.range_order", method="minmax", low=low, high=high))
    lo, hi = col_min(arr), col_max(arr)
    span = hi - lo
    _raise_constant("minmax", span)
    # one pass over the data: y = low + (x − base)·(high − low)·d/span, base = min or max
    base = np.where(d > 0, lo, hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = (high - low) * d / span
    arr -= base
    arr *= factor
    arr += low
    return arr


@register("normalise", "zscore")
def zscore(X: ArrayLike, directions: ArrayLike, *, mean: float = 0.0,
           sd: float = 1.0) -> Array:
    """Standardisation (z-score), optionally moved to a chosen mean and standard deviation.

    Formula: ``y = mean + sd·dᵢ·(x − x̄)/s`` with ``dᵢ`` the direction (+1/−1), ``x̄`` the column
    mean and ``s`` the sample standard deviation (denominator n − 1, as R's ``sd``).
    Source: OECD/JRC Handbook (2008), §5 "standardisation"; COINr ``n_zscore(m_sd = c(mean, sd))``.
    Variant: sample sd (n − 1); a constant column (s = 0 or a single value) raises.
    """
    arr, d = _prepare(X, directions, "zscore")
    if not sd > 0:
        raise MethodInputError(t("index.m.positive", method="zscore", name="sd", value=sd))
    s = col_std(arr)
    _raise_constant("zscore", np.where(np.isnan(s) & (col_count(arr) == 1), 0.0, s))
    mu = col_mean(arr)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = sd * d / s
    arr -= mu
    arr *= factor
    arr += mean
    return arr


@register("normalise", "rank")
def rank(X: ArrayLike, directions: ArrayLike) -> Array:
    """Rank of each unit on each indicator, 1 = worst, ties get the average rank.

    Formula: ``y = rank(dᵢ·x)`` among the observed units of the column (average ranks for ties).
    Source: OECD/JRC Handbook (2008), §5 "ranking"; COINr ``n_rank`` (``ties.method = "average"``).
    Variant: higher rank is better (the best unit gets the number of observed units).
    """
    arr, d = _prepare(X, directions, "rank")
    return col_rank(arr * d)


@register("normalise", "percentile")
def percentile(X: ArrayLike, directions: ArrayLike) -> Array:
    """Percentile rank in 0–100 (0 = worst observed unit, 100 = best), ties averaged.

    Formula: ``y = 100·(r − 1)/(N − 1)`` with ``r`` the average rank of ``dᵢ·x`` and ``N`` the
    number of observed units of the column.
    Source: OECD/JRC Handbook (2008), §5 "percentile ranks"; COINr ``n_prank``.
    Variant: average ranks for ties (COINr's ``percent_rank`` takes the minimum rank); a column
    with a single observed value gets 50, and so does a column whose values are all tied.
    """
    arr, d = _prepare(X, directions, "percentile")
    r = col_rank(arr * d)
    n = col_count(arr)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 1, 100.0 * (r - 1.0) / (n - 1.0), np.where(np.isnan(r), np.nan, 50.0))


@register("normalise", "borda")
def borda(X: ArrayLike, directions: ArrayLike) -> Array:
    """Borda count of positions: the number of units a unit outperforms on the indicator.

    Formula: ``y = #{k : dᵢ·x_k < dᵢ·x} + ½·#{k ≠ unit : x_k = x} = r − 1`` with ``r`` the
    average rank among observed units.
    Source: Borda (1784); OECD/JRC Handbook (2008), §6 "non-compensatory / Borda".
    Variant: half a point per tie, so the points equal the average rank minus one (0 … N − 1).
    """
    arr, d = _prepare(X, directions, "borda")
    return col_rank(arr * d) - 1.0


@register("normalise", "distance_max")
def distance_max(X: ArrayLike, directions: ArrayLike, *, scale: float = 100.0) -> Array:
    """Ratio to the best observed value ("distance to the leader"), times ``scale``.

    Formula: ``y = scale·x / max(x)`` for direction +1 and ``y = scale·min(x) / x`` for −1, so
    the best unit scores ``scale`` and the others less.
    Source: OECD/JRC Handbook (2008), §5 "distance to a reference (the leader)"; the
    "linear max" normalisation of MCDA (benefit: x/max, cost: min/x).
    Variant: a ratio scale is required: values must be ≥ 0 with a positive maximum for +1,
    and > 0 for −1; otherwise :class:`MethodInputError` names the column.
    """
    arr, d = _prepare(X, directions, "distance_max")
    benefit = np.broadcast_to(d > 0, arr.shape)
    neg = np.where(benefit, arr < 0, arr <= 0) & ~np.isnan(arr)
    hi, lo = col_max(arr), col_min(arr)
    bad = bad_columns(neg) + bad_columns((d > 0) & (hi <= 0))
    if bad:
        raise MethodInputError(t("index.m.ratio_scale", method="distance_max",
                                 columns=_cols(sorted(set(bad)))))
    with np.errstate(invalid="ignore", divide="ignore"):
        return scale * np.where(benefit, arr / hi, lo / arr)


@register("normalise", "distance_target")
def distance_target(X: ArrayLike, directions: ArrayLike, *, targets: ArrayLike,
                    cap: bool = True, scale: float = 100.0) -> Array:
    """Progress from the worst observed value towards a target, times ``scale``.

    Formula: ``y = scale·(x − min)/(target − min)`` for direction +1 and
    ``y = scale·(max − x)/(max − target)`` for −1; with ``cap`` (default) values above ``scale``
    (units beyond the target) are set to ``scale``.
    Source: COINr ``n_dist2targ`` (direction-aware, ``cap_max``); OECD/JRC Handbook (2008), §5
    "distance to a target".
    Variant: COINr's "distance from the worst towards the target" rather than the plain ratio
    x/target. The target must lie beyond the worst observed value (above the minimum for +1,
    below the maximum for −1); otherwise :class:`MethodInputError` names the column.
    """
    arr, d = _prepare(X, directions, "distance_target")
    tg = check_vector(targets, arr.shape[-1], "distance_target", "targets")
    lo, hi = col_min(arr), col_max(arr)
    denom = np.where(d > 0, tg - lo, hi - tg)
    bad = bad_columns(denom <= 0)
    if bad:
        raise MethodInputError(t("index.m.target_reached", method="distance_target",
                                 columns=_cols(bad)))
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.where(d > 0, arr - lo, hi - arr) / denom
    if cap:
        y = np.minimum(y, 1.0)
    return scale * y


@register("normalise", "distance_reference")
def distance_reference(X: ArrayLike, directions: ArrayLike, *, ref: int,
                       scale: float = 100.0) -> Array:
    """Ratio to a reference unit (row ``ref``), times ``scale``: the reference scores ``scale``.

    Formula: ``y = scale·x / x_ref`` for direction +1 and ``y = scale·x_ref / x`` for −1.
    Source: OECD/JRC Handbook (2008), §5 "distance to a reference"; COINr ``n_dist2ref``.
    Variant: no cap (units better than the reference exceed ``scale``). The reference value must
    be observed and positive (unless the whole column is missing), and for −1 every value must
    be positive; otherwise :class:`MethodInputError` names the column.
    """
    arr, d = _prepare(X, directions, "distance_reference")
    n = arr.shape[-2]
    if not -n <= int(ref) < n:
        raise MethodInputError(t("index.m.ref_row", method="distance_reference", ref=ref, n=n))
    xr = arr[..., [int(ref)], :]
    nonpos = (d < 0) & (arr <= 0) & ~np.isnan(arr)
    has_data = col_count(arr) > 0  # an all-missing column simply stays missing
    bad = sorted(set(bad_columns(~(xr > 0) & has_data) + bad_columns(nonpos)))
    if bad:
        raise MethodInputError(t("index.m.ref_value", method="distance_reference", ref=ref,
                                 columns=_cols(bad)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return scale * np.where(d > 0, arr / xr, xr / arr)


@register("normalise", "goalposts")
def goalposts(X: ArrayLike, directions: ArrayLike, *, lower: ArrayLike, upper: ArrayLike,
              scale: float = 100.0) -> Array:
    """Rescaling between fixed goalposts, clipped, times ``scale`` (default 0–100).

    Formula: ``y = scale·clip((x − L)/(U − L), 0, 1)`` for direction +1 and
    ``y = scale·clip((U − x)/(U − L), 0, 1)`` for −1, with goalposts ``L < U`` per indicator.
    Source: UNDP *Human Development Report* technical notes (HDI dimension indices); COINr
    ``n_goalposts``.
    Variant: values outside the goalposts are clipped (HDI practice); ``L ≥ U`` raises.
    """
    arr, d = _prepare(X, directions, "goalposts")
    m = arr.shape[-1]
    lo = check_vector(lower, m, "goalposts", "lower")
    hi = check_vector(upper, m, "goalposts", "upper")
    bad = [int(j) for j in np.flatnonzero(~(hi > lo))]
    if bad:
        raise MethodInputError(t("index.m.goalposts", method="goalposts", columns=_cols(bad)))
    frac = np.where(d > 0, arr - lo, hi - arr) / (hi - lo)
    return scale * np.clip(frac, 0.0, 1.0)
