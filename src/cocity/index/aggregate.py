"""Aggregation methods: children scores ``Y`` ``(..., n, k)`` and weights ``w`` → ``(..., n)``.

Every aggregator has the same signature, ``f(Y, w, *, min_share=0.5, **params)``, so that the
pipeline can choose one per level (see :mod:`cocity.index.registry` for the array conventions).

Shared rules
------------
- ``Y`` holds the children's scores, already oriented so that higher is better (directions are
  handled by normalisation, once). ``NaN`` is a missing child score. Leading axes of ``Y`` and
  ``w`` are replications and broadcast against each other.
- ``w`` is ``(k,)`` or ``(..., k)``, non-negative and finite. Weights are relative: they are
  re-scaled to sum to 1. A child with weight 0 takes no part in the aggregate (it is neither
  counted as available nor as missing).
- **Data-availability threshold** (``min_share``, in ``[0, 1]``): a unit whose share of
  available children (non-missing among the children with positive weight) is below
  ``min_share`` gets ``NaN``; so does a unit with no available child at all, whatever
  ``min_share``. Every other unit is aggregated over its available children, with the weights
  re-normalised over them: ``w'_j = w_j / Σ_{l available} w_l`` (the COINr convention for
  ``a_amean``, extended here to every method). Default ``min_share = 0.5``: a unit needs at
  least half of its children (COINr's ``dat_thresh`` has no default; 0 reproduces it).
- Infinite scores, negative or non-finite weights, all-zero weights and values outside a
  method's domain raise :class:`~cocity.index.errors.MethodInputError` with a bilingual
  message; no aggregator returns ``NaN`` for a unit whose children passed the threshold.

Methods that compare units (``mazziotta_pareto`` with standardisation, ``copeland``,
``topsis``, ``entropy_topsis``) use, along the unit axis, the units that passed the threshold
(MPI's standardisation uses every observed value of a child).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq

from cocity.i18n import t
from cocity.index.errors import MethodInputError
from cocity.index.registry import register

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]

DEFAULT_MIN_SHARE = 0.5
_TIE_TOL = 1e-12


# ----------------------------------------------------------------------------- shared helpers


class _Prepared:
    """Inputs after validation: filled scores, availability, re-normalised weights."""

    __slots__ = ("avail", "filled", "ok", "raw", "weff", "wfull")

    def __init__(self, raw: Array, filled: Array, avail: Mask, weff: Array, ok: Mask,
                 wfull: Array):
        self.raw = raw          # Y as given (NaN = missing), shape (..., n, k)
        self.filled = filled    # Y with unavailable cells set to 0, broadcast shape (..., n, k)
        self.avail = avail      # available: observed and positive weight, (..., n, k)
        self.weff = weff        # weights re-normalised over available children, (..., n, k)
        self.ok = ok            # unit passes the availability threshold, (..., n)
        self.wfull = wfull      # weights re-scaled to sum to 1 over all children, (..., 1, k)


def _prepare(Y: ArrayLike, w: ArrayLike, min_share: float, method: str) -> _Prepared:
    Yr = np.asarray(Y, dtype=float)
    if Yr.ndim < 2:
        raise MethodInputError(t("index.a.err.ndim", method=method, shape=Yr.shape))
    k = Yr.shape[-1]
    wa = np.asarray(w, dtype=float)
    if wa.ndim == 0 or wa.shape[-1] != k:
        raise MethodInputError(t("index.a.err.weights_shape", method=method,
                                 shape=wa.shape, k=k))
    if not np.all(np.isfinite(wa)) or np.any(wa < 0):
        raise MethodInputError(t("index.a.err.weights_invalid", method=method))
    wsum = wa.sum(axis=-1, keepdims=True)
    if np.any(wsum <= 0):
        raise MethodInputError(t("index.a.err.weights_zero", method=method))
    if np.any(np.isinf(Yr)):
        raise MethodInputError(t("index.a.err.infinite", method=method))
    if not (0.0 <= float(min_share) <= 1.0):
        raise MethodInputError(t("index.a.err.min_share", value=min_share))

    wfull = (wa / wsum)[..., None, :]                     # (..., 1, k)
    support = wfull > 0
    if not np.isnan(Yr).any():
        # Fast path (complete data, the common case in uncertainty runs): nothing to
        # re-normalise, so the weights are a broadcast view rather than a per-unit copy.
        shape = np.broadcast_shapes(Yr.shape, wfull.shape)
        avail = np.broadcast_to(support, shape)
        ok = np.broadcast_to(support.any(axis=-1), shape[:-1])
        return _Prepared(Yr, np.broadcast_to(Yr, shape), avail, np.broadcast_to(wfull, shape),
                         ok, wfull)
    avail = ~np.isnan(Yr) & support                       # (..., n, k)
    n_support = support.sum(axis=-1)                      # (..., 1)
    n_avail = avail.sum(axis=-1)                          # (..., n)
    ok = (n_avail > 0) & (n_avail >= float(min_share) * n_support - 1e-9)
    w_avail = np.where(avail, wfull, 0.0)
    tot = w_avail.sum(axis=-1, keepdims=True)
    weff = np.divide(w_avail, tot, out=np.zeros_like(w_avail), where=tot > 0)
    filled = np.where(avail, Yr, 0.0)
    return _Prepared(Yr, filled, avail, weff, ok, wfull)


def _used(p: _Prepared) -> Mask:
    """Cells that enter an aggregate: available children of units above the threshold."""
    return p.avail & p.ok[..., None]


def _check_lower(p: _Prepared, values: Array, bound: float, strict: bool, method: str) -> None:
    used = _used(p)
    bad = used & ((values <= bound) if strict else (values < bound))
    if np.any(bad):
        key = "index.a.err.nonpositive" if strict else "index.a.err.negative"
        raise MethodInputError(t(key, method=method, count=int(bad.sum()),
                                 lowest=float(np.min(values[used]))))


def _finish(p: _Prepared, value: Array) -> Array:
    return np.where(p.ok, value, np.nan)


# ----------------------------------------------------------------------------- means


@register("aggregate", "arithmetic")
def arithmetic(Y: ArrayLike, w: ArrayLike, *, min_share: float = DEFAULT_MIN_SHARE) -> Array:
    """Weighted arithmetic mean.

    **Formula**: ``y_i = Σ_j w'_ij y_ij`` with ``w'`` the weights re-normalised over unit
    ``i``'s available children (module docstring).

    **Source**: OECD/JRC *Handbook on Constructing Composite Indicators* (2008), §6.1
    (linear aggregation); COINr ``a_amean``.

    **Variant**: fully compensatory; missing children are skipped with re-normalised weights
    (as COINr does), subject to the ``min_share`` availability threshold.
    """
    p = _prepare(Y, w, min_share, "arithmetic")
    return _finish(p, np.sum(p.weff * p.filled, axis=-1))


@register("aggregate", "geometric")
def geometric(Y: ArrayLike, w: ArrayLike, *, min_share: float = DEFAULT_MIN_SHARE,
              shift: float = 0.0) -> Array:
    """Weighted geometric mean.

    **Formula**: ``y_i = exp(Σ_j w'_ij ln(y_ij + s)) − s`` with ``s = shift`` (default 0,
    which gives the plain weighted geometric mean ``Π_j y_ij^{w'_ij}``).

    **Source**: OECD/JRC Handbook (2008), §6.1 (geometric aggregation); COINr ``a_gmean``.

    **Variant / zeros**: the logarithm needs ``y + s > 0``. A zero or negative score raises
    :class:`MethodInputError` (as COINr does) unless ``shift`` is set so that every used value
    plus ``shift`` is positive; the shift is subtracted again afterwards, so that a unit whose
    children are all equal to ``c`` still scores ``c``. Prefer normalising onto a positive
    range (e.g. min–max onto [1, 100]) to a shift: the result depends on ``s``.
    """
    p = _prepare(Y, w, min_share, "geometric")
    s = float(shift)
    vals = p.filled + s
    _check_lower(p, vals, 0.0, True, "geometric")
    logs = np.log(np.where(_used(p), vals, 1.0))
    return _finish(p, np.exp(np.sum(p.weff * logs, axis=-1)) - s)


@register("aggregate", "harmonic")
def harmonic(Y: ArrayLike, w: ArrayLike, *, min_share: float = DEFAULT_MIN_SHARE,
             shift: float = 0.0) -> Array:
    """Weighted harmonic mean.

    **Formula**: ``y_i = 1 / Σ_j (w'_ij / (y_ij + s)) − s``, ``s = shift`` (default 0).

    **Source**: COINr ``a_hmean``; the power mean of order −1 (OECD/JRC Handbook 2008, §6.1).

    **Variant / zeros**: values plus ``shift`` must be positive; a zero or negative score
    raises :class:`MethodInputError` (COINr also rejects zeros) unless ``shift`` makes them
    positive. The shift is subtracted again afterwards.
    """
    p = _prepare(Y, w, min_share, "harmonic")
    s = float(shift)
    vals = p.filled + s
    _check_lower(p, vals, 0.0, True, "harmonic")
    inv = np.where(_used(p), 1.0 / np.where(_used(p), vals, 1.0), 0.0)
    denom = np.sum(p.weff * inv, axis=-1)
    with np.errstate(divide="ignore"):
        return _finish(p, 1.0 / np.where(p.ok, denom, 1.0) - s)


@register("aggregate", "generalised")
def generalised(Y: ArrayLike, w: ArrayLike, *, min_share: float = DEFAULT_MIN_SHARE,
                p: float = 1.0, shift: float = 0.0) -> Array:
    """Weighted generalised (power) mean of order ``p``.

    **Formula**: ``y_i = (Σ_j w'_ij (y_ij + s)^p)^{1/p} − s`` for ``p ≠ 0``; ``p = 0`` is the
    geometric mean (the limit), ``p = 1`` the arithmetic and ``p = −1`` the harmonic mean.

    **Source**: COINr ``a_genmean``; power means as in the OECD/JRC Handbook (2008), §6.1
    (the order ``p`` sets the degree of compensability: lower ``p``, less compensation).

    **Variant / domain**: ``p`` must be finite. For ``p = 1`` any value is accepted; for
    ``p > 0`` (``p ≠ 1``) values plus ``shift`` must be ``≥ 0``; for ``p ≤ 0`` they must be
    ``> 0``; otherwise :class:`MethodInputError`.
    """
    order = float(p)
    if not np.isfinite(order):
        raise MethodInputError(t("index.a.err.power", p=p))
    if order == 0.0:
        return geometric(Y, w, min_share=min_share, shift=shift)
    prep = _prepare(Y, w, min_share, "generalised")
    s = float(shift)
    vals = prep.filled + s
    if order == 1.0:
        return _finish(prep, np.sum(prep.weff * prep.filled, axis=-1))
    _check_lower(prep, vals, 0.0, order < 0, "generalised")
    used = _used(prep)
    powered = np.where(used, np.where(used, vals, 1.0) ** order, 0.0)
    inner = np.sum(prep.weff * powered, axis=-1)
    with np.errstate(divide="ignore"):
        out = np.where(prep.ok, inner, 1.0) ** (1.0 / order) - s
    return _finish(prep, out)


# ----------------------------------------------------------------------------- Mazziotta–Pareto


def _mpi_standardise(Yr: Array, used_cols: Mask) -> Array:
    """``z_ij = 100 + 10 (y_ij − M_j) / S_j`` over the observed values of each child."""
    obs = ~np.isnan(Yr)
    cnt = obs.sum(axis=-2, keepdims=True)
    safe = np.where(obs, Yr, 0.0)
    mean = np.divide(safe.sum(axis=-2, keepdims=True), cnt,
                     out=np.zeros(cnt.shape), where=cnt > 0)
    dev = np.where(obs, Yr - mean, 0.0)
    sd = np.sqrt(np.divide((dev ** 2).sum(axis=-2, keepdims=True), cnt,
                           out=np.zeros(cnt.shape), where=cnt > 0))
    constant = (sd[..., 0, :] == 0) & used_cols
    if np.any(constant):
        cols = sorted({int(j) for j in np.nonzero(constant)[-1]})
        raise MethodInputError(t("index.a.err.constant_child", method="mazziotta_pareto",
                                 columns=cols))
    return 100.0 + 10.0 * np.divide(dev, sd, out=np.zeros(dev.shape), where=sd > 0)


@register("aggregate", "mazziotta_pareto")
def mazziotta_pareto(Y: ArrayLike, w: ArrayLike, *, min_share: float = DEFAULT_MIN_SHARE,
                     penalty_sign: int = -1, standardise: bool = True) -> Array:
    """Mazziotta–Pareto Index (MPI): a mean penalised by the unit's imbalance.

    **Formula**: with ``z_ij`` the standardised children (below),
    ``M_i = Σ_j w'_ij z_ij``, ``S_i = sqrt(Σ_j w'_ij (z_ij − M_i)²)``, ``cv_i = S_i / M_i``::

        MPI_i = M_i + penalty_sign · S_i · cv_i      (penalty_sign = −1: M − S·cv)

    With ``standardise=True`` (default), each child is first standardised over the units the
    MPI way: ``z_ij = 100 + 10 (y_ij − M_j) / S_j``, ``M_j`` and ``S_j`` the mean and
    *population* standard deviation (divisor n) of child ``j`` over its observed values.

    **Source**: De Muro, Mazziotta & Pareto (2011), *Soc. Indic. Res.* 104: 1–18; Mazziotta &
    Pareto (2016), *Soc. Indic. Res.* 127: 983–1003 (MPI±); COINr ``a_mpi``.

    **Variant**: the original MPI with equal weights uses ``M_i`` and ``S_i`` as the plain mean
    and population s.d. over the unit's children; here they are *weighted* (``w'``), which
    reduces to the original for equal weights. ``penalty_sign = −1`` (default, MPI⁻ in the
    notation "M − S·cv") penalises unbalanced units of a higher-is-better index;
    ``penalty_sign = +1`` is for an index where higher is worse. With ``standardise=False``
    the scores are used as given (e.g. already z-scored 100 ± 10); ``M_i`` must then be
    ``> 0``. A constant child (``S_j = 0``, including a child observed once) cannot be
    standardised: :class:`MethodInputError`.
    """
    if penalty_sign not in (-1, 1):
        raise MethodInputError(t("index.a.err.penalty_sign", value=penalty_sign))
    p = _prepare(Y, w, min_share, "mazziotta_pareto")
    used = _used(p)
    if standardise:
        used_cols = np.any(used, axis=-2)
        while used_cols.ndim > p.raw.ndim - 1:   # weights may add replication axes
            used_cols = np.any(used_cols, axis=0)
        z = _mpi_standardise(p.raw, used_cols)
        z = np.where(used, np.broadcast_to(z, used.shape), 0.0)
    else:
        z = np.where(used, p.filled, 0.0)
    M = np.sum(p.weff * z, axis=-1)
    S = np.sqrt(np.sum(p.weff * np.where(used, (z - M[..., None]) ** 2, 0.0), axis=-1))
    if np.any(p.ok & (M <= 0)):
        raise MethodInputError(t("index.a.err.mpi_mean"))
    safeM = np.where(p.ok, M, 1.0)
    return _finish(p, M + penalty_sign * S * (S / safeM))


# ----------------------------------------------------------------------------- OWA


def orness(order_weights: ArrayLike) -> float:
    """Yager's orness of order weights ``v`` (length k): ``Σ_r (k − r)/(k − 1) · v_r``.

    1 for the maximum (``v = (1, 0, …)``), 0 for the minimum, 0.5 for the plain mean.
    """
    v = np.asarray(order_weights, dtype=float)
    k = v.size
    if k == 1:
        return 0.5
    r = np.arange(1, k + 1)
    return float(np.sum((k - r) / (k - 1) * v))


def owa_weights_from_orness(k: int, alpha: float) -> Array:
    """Maximum-entropy order weights of length ``k`` with orness ``alpha`` (O'Hagan 1988).

    The solution is a geometric progression ``v_r ∝ h^{r−1}`` (Fullér & Majlender 2001); ``h``
    is found by root finding so that ``orness(v) = alpha``. ``alpha = 0.5`` gives equal weights,
    ``alpha = 1`` the maximum ``(1, 0, …, 0)``, ``alpha = 0`` the minimum.
    """
    a = float(alpha)
    if not (0.0 <= a <= 1.0):
        raise MethodInputError(t("index.a.err.orness", value=alpha))
    if k < 1:
        raise MethodInputError(t("index.a.err.owa_weights", k=k))
    if k == 1:
        return np.ones(1)
    if a == 1.0:
        return np.eye(k)[0]
    if a == 0.0:
        return np.eye(k)[-1]
    r = np.arange(k)

    def weights(log_h: float) -> Array:
        logs = r * log_h
        e = np.exp(logs - logs.max())
        return e / e.sum()

    bound = 745.0 / (k - 1)
    lo, hi = -bound, bound
    f_lo, f_hi = orness(weights(lo)) - a, orness(weights(hi)) - a
    if f_lo <= 0:
        return weights(lo)
    if f_hi >= 0:
        return weights(hi)
    log_h = brentq(lambda x: orness(weights(x)) - a, lo, hi, xtol=1e-14)
    return weights(float(log_h))


@register("aggregate", "owa")
def owa(Y: ArrayLike, w: ArrayLike, *, min_share: float = DEFAULT_MIN_SHARE,
        order_weights: ArrayLike | None = None, orness: float | None = None) -> Array:
    """Ordered weighted averaging (OWA), with importance weights through Torra's WOWA.

    **Formula** (Yager 1988): with a unit's scores sorted in decreasing order
    ``b_1 ≥ b_2 ≥ … ≥ b_k`` and order weights ``v`` (``v_r ≥ 0``, ``Σ v_r = 1``),
    ``OWA = Σ_r v_r b_r``. The importance weights ``w`` enter through the weighted OWA of
    Torra (1997): let ``W`` be the piecewise-linear function through the points
    ``(r/k, Σ_{s≤r} v_s)``, ``r = 0..k``, and ``c_r`` the cumulated re-normalised importance
    weights of the sorted children; then ``ω_r = W(c_r) − W(c_{r−1})`` and
    ``y_i = Σ_r ω_r b_r``.

    **Source**: Yager (1988), *IEEE Trans. SMC* 18(1): 183–190; Torra (1997), *Int. J. Intell.
    Syst.* 12: 153–166 (WOWA); O'Hagan (1988) and Fullér & Majlender (2001) for the
    maximum-entropy order weights of a given orness.

    **Variant**: give exactly one of ``order_weights`` (length k, non-negative, summing to 1)
    or ``orness`` in ``[0, 1]`` (maximum-entropy weights, :func:`owa_weights_from_orness`).
    With equal importance weights and complete data this is exactly Yager's OWA; with
    ``orness = 0.5`` (equal order weights) it is the weighted arithmetic mean. Missing
    children are handled through the re-normalised importance weights (so ``W`` spreads the
    order weights over the available children). Tied scores give the same result whatever
    their order (the terms telescope).
    """
    if (order_weights is None) == (orness is None):
        raise MethodInputError(t("index.a.err.owa_params"))
    p = _prepare(Y, w, min_share, "owa")
    k = p.raw.shape[-1]
    if order_weights is not None:
        v = np.asarray(order_weights, dtype=float)
        if (v.shape != (k,) or not np.all(np.isfinite(v)) or np.any(v < 0)
                or abs(v.sum() - 1.0) > 1e-9):
            raise MethodInputError(t("index.a.err.owa_weights", k=k))
    else:
        assert orness is not None
        v = owa_weights_from_orness(k, float(orness))
    knots = np.linspace(0.0, 1.0, k + 1)
    cumv = np.concatenate([[0.0], np.cumsum(v)])
    cumv[-1] = 1.0
    key = np.where(p.avail, p.filled, -np.inf)
    idx = np.argsort(-key, axis=-1, kind="stable")
    b = np.take_along_axis(p.filled, idx, axis=-1)
    ps = np.take_along_axis(p.weff, idx, axis=-1)
    c = np.clip(np.cumsum(ps, axis=-1), 0.0, 1.0)
    omega = np.interp(c, knots, cumv) - np.interp(np.clip(c - ps, 0.0, 1.0), knots, cumv)
    return _finish(p, np.sum(omega * b, axis=-1))


# ----------------------------------------------------------------------------- Copeland


@register("aggregate", "copeland")
def copeland(Y: ArrayLike, w: ArrayLike, *, min_share: float = DEFAULT_MIN_SHARE) -> Array:
    """Copeland score from the weighted pairwise outranking matrix.

    **Formula**: for units ``a ≠ b``, over the children ``C_ab`` available for both,
    ``e_ab = Σ_{j∈C_ab} w_j ([y_aj > y_bj] + ½ [y_aj = y_bj]) / Σ_{j∈C_ab} w_j``.
    ``a`` beats ``b`` when ``e_ab > 0.5``, loses when ``e_ab < 0.5``; the score is
    ``wins − losses`` (an integer in ``[−(n−1), n−1]``).

    **Source**: OECD/JRC Handbook (2008), §6.1.3 (Condorcet-type non-compensatory
    aggregation, Copeland's rule); COINr ``outrankMatrix``.

    **Variant**: classical Copeland (wins − losses). COINr's ``a_copeland`` instead returns
    the row sums of the outranking matrix. Only units above the availability threshold take
    part; a pair with no child in common counts as a tie (neither a win nor a loss).
    Exact ties ``e_ab = 0.5`` (within 1e-12) are neither. Cost: ``O(k · n²)`` time and
    ``(..., n, n)`` memory per call (the outranking matrix).
    """
    p = _prepare(Y, w, min_share, "copeland")
    used = _used(p)
    shape = p.filled.shape[:-1]
    num = np.zeros((*shape, shape[-1]))
    den = np.zeros_like(num)
    wfull = np.broadcast_to(p.wfull, (*p.filled.shape[:-2], 1, p.filled.shape[-1]))
    for j in range(p.filled.shape[-1]):
        yj = p.filled[..., :, j]
        aj = used[..., :, j]
        wj = wfull[..., 0, j][..., None, None]
        both = aj[..., :, None] & aj[..., None, :]
        gt = yj[..., :, None] > yj[..., None, :]
        eq = yj[..., :, None] == yj[..., None, :]
        num += np.where(both, wj * (gt + 0.5 * eq), 0.0)
        den += np.where(both, wj, 0.0)
    e = np.divide(num, den, out=np.full(num.shape, 0.5), where=den > 0)
    wins = np.sum(e > 0.5 + _TIE_TOL, axis=-1)
    losses = np.sum(e < 0.5 - _TIE_TOL, axis=-1)
    return _finish(p, (wins - losses).astype(float))


# ----------------------------------------------------------------------------- TOPSIS


def _topsis(p: _Prepared, weights: Array, normalise: str, method: str) -> Array:
    """TOPSIS closeness from prepared inputs and per-unit weights ``(..., n, k)``."""
    used = _used(p)
    vals = p.filled
    if normalise == "vector":
        _check_lower(p, vals, 0.0, False, method)
        norm = np.sqrt(np.sum(np.where(used, vals ** 2, 0.0), axis=-2, keepdims=True))
        r = np.divide(vals, norm, out=np.zeros(vals.shape), where=norm > 0)
    elif normalise == "none":
        r = vals
    else:
        raise MethodInputError(t("index.a.err.topsis_normalise", value=normalise))
    hi = np.max(np.where(used, r, -np.inf), axis=-2, keepdims=True)
    lo = np.min(np.where(used, r, np.inf), axis=-2, keepdims=True)
    hi = np.where(np.isfinite(hi), hi, 0.0)
    lo = np.where(np.isfinite(lo), lo, 0.0)
    w2 = np.where(used, weights, 0.0) ** 2
    d_plus = np.sqrt(np.sum(w2 * np.where(used, (r - hi) ** 2, 0.0), axis=-1))
    d_minus = np.sqrt(np.sum(w2 * np.where(used, (r - lo) ** 2, 0.0), axis=-1))
    total = d_plus + d_minus
    if np.any(p.ok & (total <= 0)):
        raise MethodInputError(t("index.a.err.topsis_degenerate", method=method))
    return _finish(p, d_minus / np.where(p.ok, total, 1.0))


@register("aggregate", "topsis")
def topsis(Y: ArrayLike, w: ArrayLike, *, min_share: float = DEFAULT_MIN_SHARE,
           normalise: str = "vector") -> Array:
    """TOPSIS: relative closeness to the ideal unit.

    **Formula**: ``r_ij = y_ij / sqrt(Σ_i y_ij²)`` (``normalise="vector"``) or ``r_ij = y_ij``
    (``"none"``, for scores already on a common scale); weighted ``v_ij = w_j r_ij``; ideal
    ``v⁺_j = max_i v_ij`` and anti-ideal ``v⁻_j = min_i v_ij`` (every child is a benefit
    criterion: scores arrive oriented); ``d⁺_i = ‖v_i − v⁺‖₂``, ``d⁻_i = ‖v_i − v⁻‖₂``;
    closeness ``C_i = d⁻_i / (d⁺_i + d⁻_i)`` in ``[0, 1]``.

    **Source**: Hwang & Yoon (1981), *Multiple Attribute Decision Making*, Springer.

    **Variant**: Euclidean distances, vector normalisation by default. The alternatives are
    the units above the availability threshold; the ideal points are taken over them. A unit
    with missing children is measured over its available children with re-normalised weights
    (``w'_ij``); for complete data this is the textbook method (weights are relative: scaling
    them does not change ``C``). Vector normalisation needs non-negative scores. A child that
    is constant over the units contributes nothing; if every child of a unit is constant
    (``d⁺ + d⁻ = 0``) :class:`MethodInputError` is raised.
    """
    p = _prepare(Y, w, min_share, "topsis")
    return _topsis(p, p.weff, normalise, "topsis")


@register("aggregate", "entropy_topsis")
def entropy_topsis(Y: ArrayLike, w: ArrayLike, *, min_share: float = DEFAULT_MIN_SHARE,
                   normalise: str = "vector", entropy_params: dict[str, Any] | None = None,
                   ) -> Array:
    """Entropy-weighted TOPSIS (熵权-TOPSIS): entropy weights of the children, then TOPSIS.

    **Formula**: ``e = entropy(Y_alt)`` with the registered ``weight`` method ``"entropy"``
    (:mod:`cocity.index.weights`, whose docstring states its convention) applied to the
    children scores of the units above the availability threshold; then :func:`topsis` with
    the weights ``e``.

    **Source**: the entropy weight method (Shannon entropy; see the weight method's
    docstring) combined with Hwang & Yoon (1981) TOPSIS, as commonly used in Chinese regional
    evaluation studies.

    **Variant**: the entropy weights *replace* ``w``; ``w`` only decides which children take
    part (a child with weight 0 is left out and the entropy weights are re-normalised over the
    others). The entropy step sees only the units above the availability threshold (the
    others' rows are missing) and the cells they use; ``entropy_params`` are passed to it.
    Leading replication axes give one set of entropy weights per replication, ``(..., k)``.
    """
    from cocity.index.registry import get

    entropy = get("weight", "entropy")
    p = _prepare(Y, w, min_share, "entropy_topsis")
    used = _used(p)
    # children left out (weight 0) enter as a constant column: entropy weight 0, then dropped
    alt = np.where(used, p.filled, np.where(p.wfull > 0, np.nan, 0.0))
    e = np.asarray(entropy(alt, **(entropy_params or {})), dtype=float)
    e = np.where(p.wfull[..., 0, :] > 0, e, 0.0)
    e_units = np.where(p.avail, e[..., None, :], 0.0)
    tot = e_units.sum(axis=-1, keepdims=True)
    if np.any(p.ok & (tot[..., 0] <= 0)):
        raise MethodInputError(t("index.a.err.entropy_zero"))
    weights = np.divide(e_units, tot, out=np.zeros_like(e_units), where=tot > 0)
    return _topsis(p, weights, normalise, "entropy_topsis")
