"""Imputation methods: fill missing indicator values (``NaN``) without touching observed ones.

Signature ``impute(X, **params) -> ndarray`` of X's shape (see :mod:`cocity.index.registry`).
Cross-sectional methods work on the last two axes ``(n, m)`` and treat every leading axis as a
replication (so on a panel ``(T, n, m)`` ``mean`` fills with each year's column mean). The panel
methods ``latest`` and ``linear`` read axis −3 as years sorted ascending: ``(..., T, n, m)``.

Observed values never change: every method writes only into missing cells. When a cell cannot be
filled the method raises :class:`MethodInputError` (e.g. an all-missing column for ``mean``),
except the panel methods, which by documented design leave cells outside the observed years
missing unless asked to carry the nearest value. :func:`imputed_mask` tells which cells were
filled; :func:`impute_with` runs any user callable and checks it kept observed values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cocity.i18n import t
from cocity.index.errors import MethodInputError
from cocity.index.normalise import as_matrix, bad_columns, col_count, col_mean, col_std
from cocity.index.registry import register

Array = NDArray[np.float64]

_FALLBACKS = (None, "mean", "median")


def imputed_mask(before: ArrayLike, after: ArrayLike) -> NDArray[np.bool_]:
    """Cells that were missing in ``before`` and hold a value in ``after`` (same shape)."""
    b, a = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if b.shape != a.shape:
        raise MethodInputError(t("index.m.shape_changed", method="imputed_mask",
                                 before=b.shape, after=a.shape))
    return np.isnan(b) & ~np.isnan(a)


def _col_median(X: Array) -> Array:
    """Column median over observed values, ``(..., 1, m)`` (callers exclude all-missing)."""
    srt = np.sort(X, axis=-2)  # NaN sorts last
    n = col_count(X).astype(int)
    lo = np.clip((n - 1) // 2, 0, None)
    hi = np.clip(n // 2, 0, None)
    a = np.take_along_axis(srt, lo, axis=-2)
    b = np.take_along_axis(srt, hi, axis=-2)
    return np.where(n > 0, (a + b) / 2.0, np.nan)


def _col_stat(X: Array, stat: str) -> Array:
    return col_mean(X) if stat == "mean" else _col_median(X)


def _fill_columns(X: ArrayLike, stat: str) -> Array:
    arr = as_matrix(X, stat)
    bad = bad_columns(col_count(arr) == 0)
    if bad:
        raise MethodInputError(t("index.m.all_missing", method=stat,
                                 columns=", ".join(map(str, bad))))
    return np.where(np.isnan(arr), _col_stat(arr, stat), arr)


@register("impute", "mean")
def mean(X: ArrayLike) -> Array:
    """Fill each missing cell with the mean of the observed values of its indicator (column).

    Formula: ``x̂_ij = (1/|O_j|)·Σ_{k∈O_j} x_kj`` with ``O_j`` the units observed on indicator j.
    Source: OECD/JRC *Handbook on Constructing Composite Indicators* (2008), §3 "unconditional
    mean imputation"; COINr ``Impute(imtype = "indicator_mean")``.
    Variant: per replication (leading axes); an all-missing column raises.
    """
    return _fill_columns(X, "mean")


@register("impute", "median")
def median(X: ArrayLike) -> Array:
    """Fill each missing cell with the median of the observed values of its indicator.

    Formula: ``x̂_ij = median_{k∈O_j} x_kj`` (mean of the two middle values for an even count).
    Source: OECD/JRC Handbook (2008), §3; COINr ``Impute(imtype = "indicator_median")``.
    Variant: per replication (leading axes); an all-missing column raises.
    """
    return _fill_columns(X, "median")


def _by_group(X: ArrayLike, groups: ArrayLike, stat: str, fallback: str | None) -> Array:
    method = f"group_{stat}"
    arr = as_matrix(X, method)
    if fallback not in _FALLBACKS:
        raise MethodInputError(t("index.m.choice", method=method, name="fallback",
                                 value=fallback, allowed="None, mean, median"))
    labels = np.asarray(groups)
    if labels.shape != (arr.shape[-2],):
        raise MethodInputError(t("index.m.groups_shape", method=method, shape=labels.shape,
                                 n=arr.shape[-2]))
    out = arr.copy()
    missing = np.isnan(arr)
    for g in np.unique(labels):
        rows = labels == g
        sub = arr[..., rows, :]
        fill = _col_stat(sub, stat)  # (..., 1, m)
        need = missing[..., rows, :]
        unfilled = need & np.isnan(fill)
        if unfilled.any():
            if fallback is None:
                raise MethodInputError(t("index.m.group_empty", method=method, group=g.item(),
                                         columns=", ".join(map(str, bad_columns(unfilled)))))
            fill = np.where(np.isnan(fill), _col_stat(arr, fallback), fill)
            if (need & np.isnan(fill)).any():
                raise MethodInputError(t("index.m.all_missing", method=method, columns=", ".join(
                    map(str, bad_columns(need & np.isnan(fill))))))
        out[..., rows, :] = np.where(need, fill, sub)
    return out


@register("impute", "group_mean")
def group_mean(X: ArrayLike, *, groups: ArrayLike, fallback: str | None = None) -> Array:
    """Fill a missing cell with the mean of its indicator over the units of the same group.

    Formula: ``x̂_ij = mean_{k∈O_j, g(k)=g(i)} x_kj`` with ``g`` the group label (e.g. the metro
    area, the province, the city tier).
    Source: OECD/JRC Handbook (2008), §3 "conditional (group) mean imputation"; COINr
    ``Impute(imtype = "indicator_mean", impute_by = "column", group_level = …)``.
    Variant: ``groups`` is an ``(n,)`` array of labels. If a group has no observed value on an
    indicator where one of its units is missing: ``fallback=None`` raises, ``"mean"``/``"median"``
    uses the statistic over all units.
    """
    return _by_group(X, groups, "mean", fallback)


@register("impute", "group_median")
def group_median(X: ArrayLike, *, groups: ArrayLike, fallback: str | None = None) -> Array:
    """Fill a missing cell with the median of its indicator over the units of the same group.

    Formula: ``x̂_ij = median_{k∈O_j, g(k)=g(i)} x_kj``.
    Source: OECD/JRC Handbook (2008), §3; COINr ``Impute`` with ``group_level``.
    Variant: as :func:`group_mean` (``fallback`` for groups with no observed value).
    """
    return _by_group(X, groups, "median", fallback)


@register("impute", "dimension_mean")
def dimension_mean(X: ArrayLike, *, dimension: ArrayLike, fallback: str | None = None) -> Array:
    """Fill a missing cell from the unit's own values on the other indicators of its dimension.

    Formula: the columns are first z-scored, ``z_ik = (x_ik − μ_k)/s_k`` (observed mean and
    sample sd); a missing ``x_ij`` gets the unit's mean z-score over the observed indicators k of
    the same dimension, mapped back to column j's scale:
    ``x̂_ij = μ_j + s_j · mean_{k∈D(j), x_ik observed} z_ik``.
    Source: COINr ``Impute(impute_by = "row")`` ("mean of the unit's other indicators in the
    aggregation group"), OECD/JRC Handbook (2008), §3; the z-scoring makes indicators on
    different units of measure comparable before averaging across a row.
    Variant: a donor column that is constant or has one observed value contributes ``z = 0``
    (its values equal its mean); a target column with ``s_j`` undefined gets ``μ_j``. When the unit
    has no observed indicator in the dimension: ``fallback=None`` raises, ``"mean"``/``"median"``
    uses the column statistic. An all-missing target column raises.
    """
    arr = as_matrix(X, "dimension_mean")
    if fallback not in _FALLBACKS:
        raise MethodInputError(t("index.m.choice", method="dimension_mean", name="fallback",
                                 value=fallback, allowed="None, mean, median"))
    dims = np.asarray(dimension)
    m = arr.shape[-1]
    if dims.shape != (m,):
        raise MethodInputError(t("index.m.vector_shape", method="dimension_mean",
                                 name="dimension", shape=dims.shape, m=m))
    missing = np.isnan(arr)
    mu, s = col_mean(arr), col_std(arr)
    need_cols = missing.any(axis=-2, keepdims=True)
    bad = bad_columns(need_cols & np.isnan(mu))
    if bad:
        raise MethodInputError(t("index.m.all_missing", method="dimension_mean",
                                 columns=", ".join(map(str, bad))))
    s_ok = np.where(np.isnan(s) | (s == 0), 0.0, s)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(s_ok > 0, (arr - mu) / s_ok, 0.0)
    z = np.where(missing, np.nan, z)
    zhat = np.full(arr.shape, np.nan)
    for dim in np.unique(dims):
        cols = dims == dim
        zd = z[..., cols]
        cnt = (~np.isnan(zd)).sum(axis=-1, keepdims=True)
        tot = np.where(np.isnan(zd), 0.0, zd).sum(axis=-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            row_mean = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
        zhat[..., cols] = np.broadcast_to(row_mean, zd.shape)
    fill = mu + s_ok * zhat
    unfilled = missing & np.isnan(fill)
    if unfilled.any():
        if fallback is None:
            rows = sorted({int(i) for i in np.argwhere(unfilled)[:, -2]})
            raise MethodInputError(t("index.m.row_empty", method="dimension_mean",
                                     rows=", ".join(map(str, rows))))
        fill = np.where(np.isnan(fill), _col_stat(arr, fallback), fill)
    return np.where(missing, fill, arr)


def _panel(X: ArrayLike, method: str) -> Array:
    arr = np.array(X, dtype=float)
    if arr.ndim < 3:
        raise MethodInputError(t("index.m.ndim", method=method, ndim=arr.ndim, need=3))
    if np.isinf(arr).any():
        raise MethodInputError(t("index.m.infinite", method=method))
    return arr


def _prev_next(obs: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Index of the last observed year ≤ t and of the first observed year ≥ t (−1 / T if none)."""
    T = obs.shape[-3]
    tt = np.arange(T).reshape((T, 1, 1))
    prev = np.maximum.accumulate(np.where(obs, tt, -1), axis=-3)
    nxt = np.flip(np.minimum.accumulate(np.flip(np.where(obs, tt, T), axis=-3), axis=-3),
                  axis=-3)
    return prev, nxt


@register("impute", "latest")
def latest(X: ArrayLike, *, backfill: bool = False) -> Array:
    """Panel imputation by the latest available value (last observation carried forward).

    Formula: ``x̂_t = x_s`` with ``s = max{s ≤ t : x_s observed}`` along the year axis (−3).
    Source: OECD/JRC Handbook (2008), §3 (use of the latest available year); COINr
    panel practice (``Impute`` on a purse with ``"latest year"``); common in yearbook-based
    indices where a series lags.
    Variant: years before a unit's first observation stay missing, unless ``backfill=True``,
    which then carries the first observed value backward (next observation carried backward).
    """
    arr = _panel(X, "latest")
    obs = ~np.isnan(arr)
    prev, nxt = _prev_next(obs)
    T = arr.shape[-3]
    carried = np.take_along_axis(arr, np.clip(prev, 0, T - 1), axis=-3)
    out = np.where(prev >= 0, carried, np.nan)
    if backfill:
        ahead = np.take_along_axis(arr, np.clip(nxt, 0, T - 1), axis=-3)
        out = np.where(np.isnan(out) & (nxt < T), ahead, out)
    return np.where(obs, arr, out)


@register("impute", "linear")
def linear(X: ArrayLike, *, years: ArrayLike | None = None, extrapolate: str = "none") -> Array:
    """Panel imputation by linear interpolation between the nearest observed years.

    Formula: for a missing year t between observed years a < t < b,
    ``x̂_t = x_a + (x_b − x_a)·(y_t − y_a)/(y_b − y_a)`` with ``y`` the calendar years
    (``years``; default equally spaced 0 … T−1) along axis −3.
    Source: OECD/JRC Handbook (2008), §3; standard practice for yearbook gaps.
    Variant: no extrapolation: years before the first or after the last observation stay
    missing with ``extrapolate="none"`` (default); ``"nearest"`` carries the nearest observed
    value (flat, never a trend).
    """
    arr = _panel(X, "linear")
    if extrapolate not in ("none", "nearest"):
        raise MethodInputError(t("index.m.choice", method="linear", name="extrapolate",
                                 value=extrapolate, allowed="none, nearest"))
    T = arr.shape[-3]
    yrs = np.arange(T, dtype=float) if years is None else np.asarray(years, dtype=float)
    if yrs.shape != (T,) or not np.all(np.diff(yrs) > 0):
        raise MethodInputError(t("index.m.years", method="linear", T=T))
    obs = ~np.isnan(arr)
    prev, nxt = _prev_next(obs)
    pc, nc = np.clip(prev, 0, T - 1), np.clip(nxt, 0, T - 1)
    xa = np.take_along_axis(arr, pc, axis=-3)
    xb = np.take_along_axis(arr, nc, axis=-3)
    ya, yb = yrs[pc], yrs[nc]
    yt = yrs.reshape((T, 1, 1))
    inside = (prev >= 0) & (nxt < T)
    with np.errstate(invalid="ignore", divide="ignore"):
        interp = np.where(yb > ya, xa + (xb - xa) * (yt - ya) / (yb - ya), xa)
    out = np.where(inside, interp, np.nan)
    if extrapolate == "nearest":
        out = np.where((prev < 0) & (nxt < T), xb, out)
        out = np.where((nxt >= T) & (prev >= 0), xa, out)
    return np.where(obs, arr, out)


def impute_with(fn: Callable[..., Any], X: ArrayLike, **kwargs: Any) -> Array:
    """Run a user imputation callable ``fn(X, **kwargs)`` and check that it kept observed values.

    The callable receives a copy of ``X``; it must return an array of the same shape whose
    observed cells are exactly the input's (bitwise equal). Otherwise :class:`MethodInputError`.
    """
    arr = np.array(X, dtype=float)
    result = np.asarray(fn(arr.copy(), **kwargs), dtype=float)
    if result.shape != arr.shape:
        raise MethodInputError(t("index.m.shape_changed", method="callable",
                                 before=arr.shape, after=result.shape))
    obs = ~np.isnan(arr)
    changed = obs & (result != arr)
    if changed.any():
        cells = [tuple(int(i) for i in c) for c in np.argwhere(changed)[:5]]
        raise MethodInputError(t("index.m.observed_changed", method="callable",
                                 n=int(changed.sum()), cells=cells))
    return result


@register("impute", "callable")
def callable_(X: ArrayLike, *, fn: Callable[..., Any], **kwargs: Any) -> Array:
    """Any user imputation function, checked by :func:`impute_with`.

    Formula: whatever ``fn`` computes. Source: user supplied. Variant: observed values must come
    back unchanged, and the shape must be kept; otherwise :class:`MethodInputError`.
    """
    return impute_with(fn, X, **kwargs)
