"""Spatial autocorrelation: global Moran's I, Geary's C and Getis–Ord G; local Moran's I (LISA)
and local Getis–Ord G_i / G_i*, with analytical moments and permutation inference.

Shared rules
------------
- ``y`` is an array in the order of ``w.ids`` or a :class:`pandas.Series` indexed by unit id
  (aligned to ``w.ids``; ids absent from ``w`` are ignored, ids of ``w`` absent from ``y`` are
  an error). Missing or infinite values, fewer than 3 units, all-equal values and weights with
  islands raise :class:`~cocity.metrics.errors.MetricInputError`.
- ``transform`` re-weights ``w`` before use: ``"r"`` row-standardised, ``"b"`` binary, ``"o"``
  as given. Defaults follow PySAL ``esda``: ``"r"`` for Moran and Geary, ``"b"`` for G (esda
  forces it) and for local G (esda defaults to ``"r"``; the z-scores and permutation p-values
  here do not depend on the choice, see :func:`local_g`).
- **Permutation inference.** ``permutations`` random permutations (default 999) from a numpy
  :class:`~numpy.random.Generator` seeded with ``seed`` (default 0: results are reproducible;
  ``None`` draws fresh entropy). Global statistics permute all values. Local statistics use
  *conditional* permutation: unit *i* keeps its value and its ``k_i`` neighbour values are
  drawn without replacement from the other ``n − 1`` units. The pseudo p-value is
  ``(M + 1) / (P + 1)`` with ``P`` permutations and ``M`` the number of simulated values at
  least as extreme as the observed one. ``alternative``: ``"directed"`` (default, esda's
  ``p_sim``) takes the tail on the observed side, ``M = min(#{sim ≥ obs}, #{sim ≤ obs})`` —
  one-sided, at most about 0.5; ``"greater"`` ``M = #{sim ≥ obs}``; ``"lesser"``
  ``M = #{sim ≤ obs}``; ``"two-sided"`` ``p = min(1, 2·p_directed)``. Simulated values within
  ``1e-9`` (relative to the statistic's scale) of the observed one count as ties.
- **Analytical inference.** ``z = (S − E[S]) / √V[S]`` under normality and/or randomisation as
  each function states; ``p = 2·Φ(−|z|)`` (``two_sided=True``, default) or ``Φ(−|z|)`` (one
  tail, on the observed side). esda's defaults differ by statistic: two-sided for Moran,
  one-tail for Geary, G and local G.
- Local statistics share the ``P`` random orderings across units (as esda does): each unit's
  reference distribution is an exact conditional-permutation distribution, but the
  distributions of different units are not independent. The computation is vectorised: the
  ``P`` orderings of ``k_max + 1`` units are drawn once, the lag sums are one dense product
  ``(n × k_max) · (k_max × P)``, and the few draws that hit unit *i* itself are corrected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import sparse, stats

from cocity.i18n import t
from cocity.metrics.errors import MetricInputError
from cocity.metrics.weights import SpatialWeights

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
Alternative = Literal["directed", "greater", "lesser", "two-sided"]
Seed = int | np.random.Generator | None

PERMUTATIONS = 999
ALTERNATIVES = ("directed", "greater", "lesser", "two-sided")
QUADRANTS = ("HH", "LH", "LL", "HL")
NOT_SIGNIFICANT = "ns"
_TIE_RTOL = 1e-9
_BLOCK = 1 << 18  # elements per working array of the conditional permutations (cache-sized)
_GLOBAL_BLOCK = 1 << 18  # elements per batch of full permutations


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class GlobalAutocorrelation:
    """A global statistic with its analytical and permutation inference.

    ``var_norm``/``z_norm``/``p_norm`` are under the normality assumption, ``var_rand``/
    ``z_rand``/``p_rand`` under randomisation; ``None`` where a statistic has no such moment
    (General G has only the randomisation one) or where it is undefined (``n = 3`` for the
    randomisation variances, a non-positive variance). The ``sim_*`` fields and ``p_sim`` are
    ``None`` when ``permutations == 0``; ``sim_std`` uses ``ddof = 0`` as esda.
    """

    statistic: str
    value: float
    expected: float
    var_norm: float | None
    var_rand: float | None
    z_norm: float | None
    z_rand: float | None
    p_norm: float | None
    p_rand: float | None
    n: int
    transform: str
    two_sided: bool
    permutations: int
    alternative: str
    p_sim: float | None
    sim_mean: float | None
    sim_std: float | None
    z_sim: float | None
    simulations: Array | None = field(default=None, repr=False)

    def to_series(self) -> pd.Series:
        """The fields except the simulations, as a Series."""
        data = {k: v for k, v in self.__dict__.items() if k != "simulations"}
        return pd.Series(data, name=self.statistic, dtype=object)


@dataclass(frozen=True)
class LocalAutocorrelation:
    """A local statistic: one row per unit in :attr:`table` (indexed by unit id).

    ``simulations`` is the ``(n, permutations)`` array of simulated statistics when requested
    with ``keep_simulations=True``.
    """

    statistic: str
    table: pd.DataFrame
    n: int
    transform: str
    two_sided: bool
    permutations: int
    alternative: str
    alpha: float
    simulations: Array | None = field(default=None, repr=False)


# ----------------------------------------------------------------------------- input checks


def _values(y: ArrayLike | pd.Series, w: SpatialWeights, name: str) -> Array:
    if not isinstance(w, SpatialWeights):
        raise MetricInputError(t("metrics.spatial.err.not_weights", method=name,
                                 got=type(w).__name__))
    if isinstance(y, pd.Series):
        index = y.index.astype(str)
        if index.duplicated().any():
            dup = index[index.duplicated()].unique()
            raise MetricInputError(t("metrics.spatial.err.duplicate_ids",
                                     ids=", ".join(map(str, dup[:10]))))
        series = pd.Series(y.to_numpy(dtype=float, na_value=np.nan), index=index)
        absent = [i for i in w.ids if i not in series.index]
        if absent:
            raise MetricInputError(t("metrics.spatial.err.values_missing_ids", method=name,
                                     count=len(absent), ids=", ".join(absent[:20])))
        x = series.reindex(list(w.ids)).to_numpy(dtype=float)
    else:
        x = np.asarray(y, dtype=float)
        if x.ndim == 2 and 1 in x.shape:
            x = x.ravel()
        if x.ndim != 1 or x.size != w.n:
            raise MetricInputError(t("metrics.spatial.err.values_length", method=name,
                                     shape=x.shape, n=w.n))
    bad = ~np.isfinite(x)
    if bad.any():
        raise MetricInputError(t("metrics.spatial.err.nan", method=name, count=int(bad.sum()),
                                 n=x.size))
    if x.size < 3:
        raise MetricInputError(t("metrics.spatial.err.too_few_units", n=x.size, need=3))
    if w.islands:
        raise MetricInputError(t("metrics.spatial.err.islands", count=len(w.islands),
                                 ids=", ".join(w.islands[:20])))
    if np.ptp(x) == 0:
        raise MetricInputError(t("metrics.spatial.err.constant", method=name, value=x[0]))
    return x


def _check_inference(permutations: int, alternative: str, alpha: float | None = None) -> int:
    if (not isinstance(permutations, int | np.integer) or isinstance(permutations, bool)
            or permutations < 0):
        raise MetricInputError(t("metrics.spatial.err.permutations", value=permutations))
    if alternative not in ALTERNATIVES:
        raise MetricInputError(t("metrics.spatial.err.alternative", value=alternative))
    if alpha is not None and not (0 < alpha < 1):
        raise MetricInputError(t("metrics.spatial.err.alpha", value=alpha))
    return int(permutations)


def _nonnegative(x: Array, name: str) -> None:
    if np.any(x < 0):
        raise MetricInputError(t("metrics.spatial.err.negative", method=name,
                                 count=int((x < 0).sum()), lowest=float(x.min())))


# ----------------------------------------------------------------------------- inference helpers


def _p_normal(z: Array | float | None, two_sided: bool) -> Any:
    if z is None:
        return None
    tail = stats.norm.sf(np.abs(z))
    return 2.0 * tail if two_sided else tail


def _z(value: float, expected: float, var: float | None) -> float | None:
    if var is None or not var > 0:
        return None
    return float((value - expected) / np.sqrt(var))


def _p_sim(obs: Array, sims: Array, tol: Array, alternative: str) -> Array:
    """Pseudo p-values along the last axis of ``sims`` (module docstring)."""
    perms = sims.shape[-1]
    ge = (sims >= (obs - tol)[..., None]).sum(axis=-1)
    le = (sims <= (obs + tol)[..., None]).sum(axis=-1)
    p_ge = (ge + 1.0) / (perms + 1.0)
    p_le = (le + 1.0) / (perms + 1.0)
    if alternative == "greater":
        return np.asarray(p_ge, dtype=float)
    if alternative == "lesser":
        return np.asarray(p_le, dtype=float)
    directed = np.minimum(p_ge, p_le)
    if alternative == "two-sided":
        return np.asarray(np.minimum(1.0, 2.0 * directed), dtype=float)
    return np.asarray(directed, dtype=float)


def _z_sim(obs: Array, mean: Array, std: Array, tol: Array) -> Array:
    """``(obs − mean) / std``; 0 where the reference distribution is degenerate."""
    safe = std > tol
    return np.where(safe, (obs - mean) / np.where(safe, std, 1.0), 0.0)


def _global_sims(x: Array, permutations: int, rng: np.random.Generator,
                 statistic: Callable[[Array], Array]) -> Array:
    """``statistic(Xt)`` for ``permutations`` random permutations of ``x``, drawn in batches
    (``Xt`` is ``(n, batch)``, one permutation per column; small batches stay in cache)."""
    n = x.size
    batch = max(1, _GLOBAL_BLOCK // n)
    out = np.empty(permutations)
    for start in range(0, permutations, batch):
        stop = min(permutations, start + batch)
        block = np.tile(x, (stop - start, 1))
        rng.permuted(block, axis=1, out=block)
        out[start:stop] = statistic(np.ascontiguousarray(block.T))
    return out


def _global_result(name: str, value: float, expected: float, var_norm: float | None,
                   var_rand: float | None, n: int, transform: str, two_sided: bool,
                   permutations: int, alternative: str, sims: Array | None,
                   scale: float) -> GlobalAutocorrelation:
    z_norm = _z(value, expected, var_norm)
    z_rand = _z(value, expected, var_rand)
    p_sim = sim_mean = sim_std = z_sim = None
    if sims is not None:
        tol = np.asarray(_TIE_RTOL * (abs(value) + scale))
        obs = np.asarray(value)
        p_sim = float(_p_sim(obs, sims, tol, alternative))
        sim_mean = float(sims.mean())
        sim_std = float(sims.std())
        z_sim = float(_z_sim(obs, np.asarray(sim_mean), np.asarray(sim_std), tol))
    return GlobalAutocorrelation(
        statistic=name, value=float(value), expected=float(expected),
        var_norm=var_norm, var_rand=var_rand, z_norm=z_norm, z_rand=z_rand,
        p_norm=_p_normal(z_norm, two_sided) if z_norm is not None else None,
        p_rand=_p_normal(z_rand, two_sided) if z_rand is not None else None,
        n=n, transform=transform, two_sided=two_sided, permutations=permutations,
        alternative=alternative, p_sim=p_sim, sim_mean=sim_mean, sim_std=sim_std, z_sim=z_sim,
        simulations=sims)


# ----------------------------------------------------------------------------- global statistics


def moran(y: ArrayLike | pd.Series, w: SpatialWeights, *, transform: str = "r",
          permutations: int = PERMUTATIONS, seed: Seed = 0,
          alternative: Alternative = "directed", two_sided: bool = True
          ) -> GlobalAutocorrelation:
    """Global Moran's I.

    **Formula**: ``I = (n / S0) · Σ_i Σ_j w_ij z_i z_j / Σ_i z_i²`` with ``z = y − ȳ`` and
    ``S0 = Σ w_ij``; ``E[I] = −1/(n−1)``; under normality
    ``V[I] = (n² S1 − n S2 + 3 S0²) / ((n²−1) S0²) − E[I]²``; under randomisation
    ``V[I] = [n((n²−3n+3) S1 − n S2 + 3 S0²) − b2((n²−n) S1 − 2n S2 + 6 S0²)]
    / ((n−1)(n−2)(n−3) S0²) − E[I]²`` with the kurtosis ``b2 = n Σz⁴ / (Σz²)²``.

    **Source**: Moran (1950), *Biometrika* 37; moments from Cliff & Ord (1981), *Spatial
    Processes*, §2.3; PySAL ``esda.Moran``.

    **Variant**: as esda (row-standardised weights by default). The randomisation variance
    needs ``n ≥ 4`` (``None`` for ``n = 3``).
    """
    P = _check_inference(permutations, alternative)
    x = _values(y, w, "moran")
    W = w.transformed(transform)
    M = W.matrix
    n = x.size
    z = x - x.mean()
    z2ss = float(z @ z)
    s0, s1, s2 = W.s0, W.s1, W.s2
    factor = n / (s0 * z2ss)
    value = factor * float(z @ (M @ z))
    expected = -1.0 / (n - 1)
    var_norm = (n * n * s1 - n * s2 + 3 * s0 * s0) / ((n - 1) * (n + 1) * s0 * s0) \
        - expected ** 2
    var_rand: float | None = None
    if n > 3:
        b2 = (np.sum(z ** 4) / n) / (z2ss / n) ** 2
        a = n * ((n * n - 3 * n + 3) * s1 - n * s2 + 3 * s0 * s0)
        b = b2 * ((n * n - n) * s1 - 2 * n * s2 + 6 * s0 * s0)
        var_rand = float((a - b) / ((n - 1) * (n - 2) * (n - 3) * s0 * s0) - expected ** 2)
    sims = None
    if P:
        def stat(Zt: Array) -> Array:
            return np.asarray(factor * np.einsum("ij,ij->j", Zt, M @ Zt), dtype=float)
        sims = _global_sims(z, P, np.random.default_rng(seed), stat)
    scale = factor * s0 * float(np.max(z * z))
    return _global_result("moran_i", value, expected, float(var_norm), var_rand, n,
                          W.transform, two_sided, P, alternative, sims, scale)


def geary(y: ArrayLike | pd.Series, w: SpatialWeights, *, transform: str = "r",
          permutations: int = PERMUTATIONS, seed: Seed = 0,
          alternative: Alternative = "directed", two_sided: bool = True
          ) -> GlobalAutocorrelation:
    """Geary's contiguity ratio C.

    **Formula**: ``C = (n−1) Σ_i Σ_j w_ij (y_i − y_j)² / (2 S0 Σ_i z_i²)``, ``E[C] = 1``;
    under normality ``V[C] = ((2 S1 + S2)(n−1) − 4 S0²) / (2 (n+1) S0²)``; under
    randomisation ``V[C] = [(n−1) S1 (n²−3n+3 − (n−1) b2) − ¼ (n−1) S2 (n²+3n−6 − (n²−n+2) b2)
    + S0² (n²−3 − (n−1)² b2)] / (n (n−2)(n−3) S0²)``.

    **Source**: Geary (1954), *The Incorporated Statistician* 5; Cliff & Ord (1981), §2.3;
    PySAL ``esda.Geary``.

    **Variant**: as esda. ``C < 1`` is positive autocorrelation, so ``"directed"`` p-values
    take the lower tail when ``C`` is below the simulated values.
    """
    P = _check_inference(permutations, alternative)
    x = _values(y, w, "geary")
    W = w.transformed(transform)
    M = W.matrix
    n = x.size
    z = x - x.mean()
    z2ss = float(z @ z)
    s0, s1, s2 = W.s0, W.s1, W.s2
    factor = (n - 1) / (2.0 * s0 * z2ss)
    deg = np.asarray(M.sum(axis=1)).ravel() + np.asarray(M.sum(axis=0)).ravel()
    value = factor * float(deg @ (z * z) - 2.0 * z @ (M @ z))
    var_norm = ((2 * s1 + s2) * (n - 1) - 4 * s0 * s0) / (2 * (n + 1) * s0 * s0)
    var_rand: float | None = None
    if n > 3:
        b2 = (np.sum(z ** 4) / n) / (z2ss / n) ** 2
        a = (n - 1) * s1 * (n * n - 3 * n + 3 - (n - 1) * b2)
        b = 0.25 * ((n - 1) * s2 * (n * n + 3 * n - 6 - (n * n - n + 2) * b2))
        c = s0 * s0 * (n * n - 3 - (n - 1) ** 2 * b2)
        var_rand = float((a - b + c) / (n * (n - 2) * (n - 3) * s0 * s0))
    sims = None
    if P:
        def stat(Zt: Array) -> Array:
            quad = np.einsum("ij,ij->j", Zt, M @ Zt)
            return np.asarray(factor * (deg @ (Zt * Zt) - 2.0 * quad), dtype=float)
        sims = _global_sims(z, P, np.random.default_rng(seed), stat)
    scale = factor * 4.0 * s0 * float(np.max(z * z))
    return _global_result("geary_c", value, 1.0, float(var_norm), var_rand, n, W.transform,
                          two_sided, P, alternative, sims, scale)


def getis_ord_g(y: ArrayLike | pd.Series, w: SpatialWeights, *, transform: str = "b",
                permutations: int = PERMUTATIONS, seed: Seed = 0,
                alternative: Alternative = "directed", two_sided: bool = True
                ) -> GlobalAutocorrelation:
    """Getis–Ord General G (high/low clustering of a non-negative variable).

    **Formula**: ``G = Σ_i Σ_j w_ij y_i y_j / Σ_i Σ_{j≠i} y_i y_j``, ``E[G] = S0 / (n(n−1))``,
    ``V[G] = E[G²] − E[G]²`` with ``E[G²] = (B0 m2² + B1 m4 + B2 m1² m2 + B3 m1 m3 + B4 m1⁴)
    / ((m1² − m2)² n(n−1)(n−2)(n−3))``, ``m_k = Σ y^k`` and ``B0…B4`` the polynomials in
    ``n, S0, S1, S2`` of Getis & Ord (1992) — the randomisation variance (no normality one).

    **Source**: Getis & Ord (1992), *Geographical Analysis* 24(3), eq. 9–12; PySAL
    ``esda.G``.

    **Variant**: binary weights by default (esda forces them; ``transform`` allows others).
    ``y`` must be non-negative (:class:`MetricInputError` otherwise); the variance needs
    ``n ≥ 4``.
    """
    P = _check_inference(permutations, alternative)
    x = _values(y, w, "getis_ord_g")
    _nonnegative(x, "getis_ord_g")
    W = w.transformed(transform)
    M = W.matrix
    n = x.size
    m1, m2, m3, m4 = (float(np.sum(x ** k)) for k in (1, 2, 3, 4))
    den = m1 * m1 - m2
    value = float(x @ (M @ x)) / den
    s0, s1, s2 = W.s0, W.s1, W.s2
    expected = s0 / (n * (n - 1))
    var_rand: float | None = None
    if n > 3:
        b0 = (n * n - 3 * n + 3) * s1 - n * s2 + 3 * s0 * s0
        b1 = -((n * n - n) * s1 - 2 * n * s2 + 6 * s0 * s0)
        b2 = -(2 * n * s1 - (n + 3) * s2 + 6 * s0 * s0)
        b3 = 4 * (n - 1) * s1 - 2 * (n + 1) * s2 + 8 * s0 * s0
        b4 = s1 - s2 + s0 * s0
        eg2 = (b0 * m2 * m2 + b1 * m4 + b2 * m1 * m1 * m2 + b3 * m1 * m3 + b4 * m1 ** 4) \
            / (den * den * n * (n - 1) * (n - 2) * (n - 3))
        var_rand = float(eg2 - expected ** 2)
    sims = None
    if P:
        def stat(Yt: Array) -> Array:
            return np.asarray(np.einsum("ij,ij->j", Yt, M @ Yt) / den, dtype=float)
        sims = _global_sims(x, P, np.random.default_rng(seed), stat)
    scale = s0 * float(np.max(x)) ** 2 / den
    return _global_result("getis_ord_g", value, expected, None, var_rand, n, W.transform,
                          two_sided, P, alternative, sims, scale)


# ------------------------------------------------------------------ conditional permutation


def _ordered_samples(n: int, size: int, count: int, rng: np.random.Generator) -> IntArray:
    """``count`` rows of ``size`` distinct indices from ``range(n)``, each row a uniformly
    random ordered sample (rejection of rows with repeats when they are rare, otherwise the
    order of random keys)."""
    accept = float(np.prod(1.0 - np.arange(size) / n))
    if accept >= 0.25:
        out = rng.integers(0, n, size=(count, size), dtype=np.int64)
        todo = np.arange(count)
        while size > 1 and todo.size:
            s = np.sort(out[todo], axis=1)
            todo = todo[np.any(s[:, 1:] == s[:, :-1], axis=1)]
            if todo.size:
                out[todo] = rng.integers(0, n, size=(todo.size, size), dtype=np.int64)
        return out
    out = np.empty((count, size), dtype=np.int64)
    rows = max(1, _BLOCK // n)
    for start in range(0, count, rows):
        stop = min(count, start + rows)
        keys = rng.random((stop - start, n))
        if size < n:
            part = np.argpartition(keys, size - 1, axis=1)[:, :size]
        else:
            part = np.broadcast_to(np.arange(n), keys.shape).copy()
        order = np.argsort(np.take_along_axis(keys, part, axis=1), axis=1)
        out[start:stop] = np.take_along_axis(part, order, axis=1)
    return out


def _conditional_lags(x: Array, M: sparse.csr_array, permutations: int,
                      rng: np.random.Generator) -> Iterator[tuple[int, int, Array]]:
    """Blocks ``(start, stop, L)`` with ``L[i − start, p] = Σ_j w_ij x[σ_ip(j)]``: the spatial
    lag of unit ``i`` when its ``k_i`` neighbour values are replaced by a random ordered sample
    (without replacement) of the other ``n − 1`` values, for ``p < permutations``.

    One random ordered sample ``π_p`` of ``k_max + 1`` units serves every unit: unit ``i``
    takes the first ``k_i`` entries of ``π_p`` other than ``i`` (a uniform sample of the
    others). The lags are ``Wpad · x[π]ᵀ`` (``Wpad`` the ``n × k_max`` neighbour weights), plus
    a correction for the pairs where ``π_p`` holds ``i`` among its first ``k_i`` entries.
    """
    n = x.size
    indptr, data = M.indptr, M.data
    card = np.diff(indptr).astype(np.int64)
    kmax = int(card.max())
    perm = _ordered_samples(n, kmax + 1, permutations, rng)
    A = x[perm]                                   # (P, kmax + 1)
    AT = np.ascontiguousarray(A[:, :kmax].T)      # (kmax, P)
    D = A[:, 1:] - A[:, :-1]                      # (P, kmax)
    # draws that hit the focal unit among its own first k_i positions
    hit_p, hit_m = np.nonzero(np.arange(kmax)[None, :] < card[perm[:, :kmax]])
    hit_i = perm[hit_p, hit_m]
    order = np.argsort(hit_i, kind="stable")
    hit_p, hit_m, hit_i = hit_p[order], hit_m[order], hit_i[order]
    slot = np.arange(data.size) - np.repeat(indptr[:-1], card)
    rows_per_block = max(1, _BLOCK // max(permutations, kmax, 1))
    for start in range(0, n, rows_per_block):
        stop = min(n, start + rows_per_block)
        lo, hi = indptr[start], indptr[stop]
        wpad = np.zeros((stop - start, kmax))
        wpad[np.repeat(np.arange(stop - start), card[start:stop]), slot[lo:hi]] = data[lo:hi]
        L = wpad @ AT
        a, b = np.searchsorted(hit_i, [start, stop])
        step = max(1, _BLOCK // max(kmax, 1))
        for c in range(a, b, step):
            e = min(b, c + step)
            p, m, i = hit_p[c:e], hit_m[c:e], hit_i[c:e] - start
            tail = np.arange(kmax)[None, :] >= m[:, None]
            L[i, p] += np.sum(np.where(tail, wpad[i] * D[p], 0.0), axis=1)
        yield start, stop, L


def _local_inference(x: Array, M: sparse.csr_array, permutations: int, seed: Seed,
                     alternative: str, obs: Array, scale: Array, offset: Array,
                     keep: bool) -> dict[str, Any]:
    """Simulated local statistics ``scale_i · L_ip + offset_i`` (``L`` from
    :func:`_conditional_lags`) against ``obs``: p-values, mean, sd, z, optional sims."""
    n = x.size
    p_sim, mean, std = np.empty(n), np.empty(n), np.empty(n)
    sims = np.empty((n, permutations)) if keep else None
    wabs = np.asarray(abs(M).sum(axis=1)).ravel()
    tol = _TIE_RTOL * (np.abs(obs) + np.abs(scale) * wabs * np.max(np.abs(x)) + np.abs(offset))
    for start, stop, L in _conditional_lags(x, M, permutations, np.random.default_rng(seed)):
        S = L * scale[start:stop, None] + offset[start:stop, None]
        p_sim[start:stop] = _p_sim(obs[start:stop], S, tol[start:stop], alternative)
        mean[start:stop] = S.mean(axis=1)
        std[start:stop] = S.std(axis=1)
        if sims is not None:
            sims[start:stop] = S
    return {"p_sim": p_sim, "sim_mean": mean, "sim_std": std,
            "z_sim": _z_sim(obs, mean, std, tol), "simulations": sims}


# ----------------------------------------------------------------------------- local statistics


def local_moran(y: ArrayLike | pd.Series, w: SpatialWeights, *, transform: str = "r",
                permutations: int = PERMUTATIONS, seed: Seed = 0,
                alternative: Alternative = "directed", alpha: float = 0.05,
                two_sided: bool = True, keep_simulations: bool = False
                ) -> LocalAutocorrelation:
    """Local Moran's I (LISA) with quadrants, cluster labels and conditional permutation.

    **Formula**: ``I_i = (n−1) z_i Σ_j w_ij z_j / Σ_k z_k²`` with ``z = (y − ȳ)/σ_y``
    (``σ`` with ``ddof = 0``), i.e. ``I_i = z_i · lag_i · (n−1)/n``. Quadrant of
    ``(z_i, lag_i)``: ``HH`` (both > 0), ``LH`` (``z_i ≤ 0 < lag_i``), ``LL`` (both ≤ 0),
    ``HL`` (``lag_i ≤ 0 < z_i``). ``cluster`` is the quadrant where the p-value (``p_sim``, or
    ``p_rand`` with ``permutations=0``) is ``≤ alpha``, else ``"ns"``.
    Moments, with ``w_i = Σ_j w_ij``, ``w_i(2) = Σ_j w_ij²``, ``m2 = Σz²/n``,
    ``b2 = (Σz⁴/n)/m2²`` and ``c = (n−1)/n``: under total randomisation
    ``E[I_i] = −c w_i/(n−1)``, ``V[I_i] = c² [w_i(2)(n−b2)/(n−1) + (w_i² − w_i(2))(2b2−n)
    / ((n−1)(n−2)) − w_i²/(n−1)²]``; under conditional randomisation (``z_i`` fixed)
    ``E_c[I_i] = −c z_i² w_i / ((n−1) m2)``, ``V_c[I_i] = c² (z_i/m2)² · n/(n−2) ·
    (w_i(2) − w_i²/(n−1)) · (m2 − z_i²/(n−1))``.

    **Source**: Anselin (1995), *Geographical Analysis* 27(2); moments from Sokal, Oden &
    Thomson (1998), *Geographical Analysis* 30(4), eq. A3, A4*, A7, A8; PySAL
    ``esda.Moran_Local``.

    **Variant**: ``I_i`` is esda's (the ``n − 1`` divisor of the variance, as GeoDa). esda
    computes the moments for ``z_i · lag_i`` (divisor ``n``) and reports them unchanged, so its
    ``EI``, ``VI``, ``EIc``, ``VIc`` are those here divided by ``c`` and ``c²``; the factor
    ``c`` makes them the exact moments of the ``I_i`` reported. ``z_I`` uses the total
    randomisation moments. Clusters use ``p ≤ alpha`` (esda's ``get_cluster_labels`` uses
    ``<``). A unit whose value equals the mean has a degenerate reference distribution:
    ``p_sim = 1``, ``z_sim = 0``.

    Columns of :attr:`LocalAutocorrelation.table`: ``value``, ``z`` (standardised value),
    ``lag`` (``Σ_j w_ij z_j``), ``I``, ``quadrant``, ``E_I``, ``V_I``, ``z_I``, ``p_rand``,
    ``E_I_cond``, ``V_I_cond``, then with permutations ``p_sim``, ``sim_mean``, ``sim_std``,
    ``z_sim``, and last ``cluster``.
    """
    P = _check_inference(permutations, alternative, alpha)
    x = _values(y, w, "local_moran")
    W = w.transformed(transform)
    M = W.matrix
    n = x.size
    z = (x - x.mean()) / x.std()
    den = float(z @ z)
    lag = M @ z
    scale = (n - 1) * z / den
    I_loc = scale * lag
    quad = np.where(z > 0, np.where(lag > 0, 0, 3), np.where(lag > 0, 1, 2))
    c = (n - 1) / n
    m2 = den / n
    b2 = (np.sum(z ** 4) / n) / m2 ** 2
    wi = np.asarray(M.sum(axis=1)).ravel()
    wi2 = np.asarray(M.multiply(M).sum(axis=1)).ravel()
    E = -c * wi / (n - 1)
    V = c * c * (wi2 * (n - b2) / (n - 1) + (wi * wi - wi2) * (2 * b2 - n) / ((n - 1) * (n - 2))
                 - (wi / (n - 1)) ** 2)
    Ec = -c * z * z * wi / ((n - 1) * m2)
    Vc = c * c * (z / m2) ** 2 * (n / (n - 2)) * (wi2 - wi * wi / (n - 1)) * (m2 - z * z / (n - 1))
    zI = np.where(V > 0, (I_loc - E) / np.sqrt(np.where(V > 0, V, 1.0)), 0.0)
    p_rand = _p_normal(zI, two_sided)
    table = pd.DataFrame({"value": x, "z": z, "lag": lag, "I": I_loc,
                          "quadrant": np.asarray(QUADRANTS, dtype=object)[quad],
                          "E_I": E, "V_I": V, "z_I": zI, "p_rand": p_rand,
                          "E_I_cond": Ec, "V_I_cond": Vc},
                         index=pd.Index(W.ids, name="unit"))
    sims = None
    p_used = p_rand
    if P:
        inf = _local_inference(z, M, P, seed, alternative, I_loc, scale, np.zeros(n),
                               keep_simulations)
        for col in ("p_sim", "sim_mean", "sim_std", "z_sim"):
            table[col] = inf[col]
        sims, p_used = inf["simulations"], inf["p_sim"]
    table["cluster"] = np.where(p_used <= alpha, table["quadrant"], NOT_SIGNIFICANT)
    return LocalAutocorrelation("local_moran", table, n, W.transform, two_sided, P,
                                alternative, alpha, sims)


def local_g(y: ArrayLike | pd.Series, w: SpatialWeights, *, star: bool = False,
            transform: str = "b", permutations: int = PERMUTATIONS, seed: Seed = 0,
            alternative: Alternative = "directed", alpha: float = 0.05,
            two_sided: bool = True, keep_simulations: bool = False
            ) -> LocalAutocorrelation:
    """Local Getis–Ord G_i (``star=False``) and G_i* (``star=True``): hot and cold spots.

    **Formula**: ``G_i = Σ_{j≠i} w_ij y_j / Σ_{j≠i} y_j``; ``G_i* = Σ_j w_ij y_j / Σ_j y_j``
    with the self-weight ``w_ii`` set to the row's largest weight (1 for binary weights)
    before ``transform``. With ``N`` the number of values summed (``n − 1``, or ``n`` for
    G_i*), ``ȳ`` and ``s²`` (``ddof = 0``) their mean and variance, ``W_i = Σ_j w_ij`` and
    ``W_i(2) = Σ_j w_ij²`` over the same ``j``: ``E[G_i] = W_i / N`` and
    ``V[G_i] = s² (N W_i(2) − W_i²) / ((N−1) N² ȳ²)``, the exact variance when the ``N``
    values are randomly permuted over the units. ``cluster`` is ``"hot"`` (``G > E``) or
    ``"cold"`` where the p-value (``p_sim``, or ``p_norm`` with ``permutations=0``) is
    ``≤ alpha``, else ``"ns"``.

    **Source**: Getis & Ord (1992), *Geographical Analysis* 24(3); Ord & Getis (1995),
    *Geographical Analysis* 27(4), eq. 3–4; PySAL ``esda.G_Local``.

    **Variant**: for binary weights ``W_i(2) = W_i`` and the variance is esda's; for other
    weights esda uses ``W_i`` in place of ``W_i(2)`` (exact only for binary weights), so with
    row-standardised weights its ``VGs`` and ``Zs`` differ from these. Here ``z`` and the
    p-values do not depend on ``transform`` (rescaling a row rescales ``G_i``, ``E`` and
    ``√V`` alike). As in esda, G_i*'s analytical moments treat all ``n`` values as random
    while its permutations keep ``y_i`` in place. ``y`` must be non-negative; a unit whose
    other values sum to 0 raises :class:`MetricInputError`. Where ``V = 0`` (degenerate:
    ``G = E``) ``z = 0``.

    Columns: ``value``, ``G``, ``E_G``, ``V_G``, ``z``, ``p_norm``, then with permutations
    ``p_sim``, ``sim_mean``, ``sim_std``, ``z_sim``, and last ``cluster``.
    """
    name = "local_g_star" if star else "local_g"
    P = _check_inference(permutations, alternative, alpha)
    x = _values(y, w, name)
    _nonnegative(x, name)
    n = x.size
    base = w.matrix
    selfw = (np.asarray(base.max(axis=1).toarray()).ravel() if star else np.zeros(n))
    code = str(transform).upper()
    if code == "B":
        M = w.binary().matrix
        selfw = (selfw > 0).astype(float)
    elif code == "R":
        rows = np.asarray(base.sum(axis=1)).ravel() + selfw
        inv = 1.0 / rows
        M = sparse.csr_array(base.copy())
        M.data = M.data * np.repeat(inv, np.diff(M.indptr))
        selfw = selfw * inv
    elif code == "O":
        M = base
    else:
        raise MetricInputError(t("metrics.spatial.err.transform", value=transform))
    total = float(x.sum())
    if star:
        N = n
        denom = np.full(n, total)
        mean = np.full(n, total / n)
        var = np.full(n, float(np.sum(x * x)) / n - (total / n) ** 2)
    else:
        N = n - 1
        denom = total - x
        zero = denom <= 0
        if zero.any():
            ids = ", ".join(np.asarray(w.ids, dtype=object)[zero][:20])
            raise MetricInputError(t("metrics.spatial.err.zero_others", method=name, ids=ids))
        mean = denom / N
        var = (float(np.sum(x * x)) - x * x) / N - mean ** 2
    var = np.maximum(var, 0.0)
    lag = M @ x + selfw * x
    G = lag / denom
    Wi = np.asarray(M.sum(axis=1)).ravel() + selfw
    Wi2 = np.asarray(M.multiply(M).sum(axis=1)).ravel() + selfw ** 2
    E = Wi / N
    V = np.maximum(var * (N * Wi2 - Wi * Wi) / ((N - 1) * N * N * mean * mean), 0.0)
    zG = np.where(V > 0, (G - E) / np.sqrt(np.where(V > 0, V, 1.0)), 0.0)
    p_norm = _p_normal(zG, two_sided)
    table = pd.DataFrame({"value": x, "G": G, "E_G": E, "V_G": V, "z": zG, "p_norm": p_norm},
                         index=pd.Index(w.ids, name="unit"))
    sims = None
    p_used = p_norm
    if P:
        inv_den = 1.0 / denom
        inf = _local_inference(x, M, P, seed, alternative, G, inv_den, selfw * x * inv_den,
                               keep_simulations)
        for col in ("p_sim", "sim_mean", "sim_std", "z_sim"):
            table[col] = inf[col]
        sims, p_used = inf["simulations"], inf["p_sim"]
    sig = p_used <= alpha
    table["cluster"] = np.where(sig & (G > E), "hot",
                                np.where(sig & (G < E), "cold", NOT_SIGNIFICANT))
    return LocalAutocorrelation(name, table, n, code, two_sided, P, alternative, alpha, sims)
