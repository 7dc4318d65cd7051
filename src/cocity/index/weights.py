"""Weighting methods: subjective (manual, equal, AHP), objective (entropy, CRITIC, PCA, optimised)
and their combination, plus the effective weights an index actually gives its indicators.

Signature ``weight(X, **params) -> ndarray`` of shape ``(..., m)`` summing to 1 over the columns
(see :mod:`cocity.index.registry`). ``X`` is ``(..., n, m)``; leading axes are replications and
every method returns one weight vector per replication. Methods that do not look at the data
(``equal``, ``manual``, ``ahp``) use ``X`` only for its shape.

**Which data the objective methods see.** They take ``X`` as given: in the pipeline that is the
*normalised* matrix, already oriented so that higher is better. ``entropy`` and ``critic`` then
min–max standardise each column to [0, 1] again (so their result does not depend on the
normaliser's range); pass ``directions`` to use them on raw data, where the standardisation is
direction-aware (``(max − x)/(max − min)`` for −1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from cocity.i18n import t
from cocity.index.errors import ConsistencyError, MethodInputError
from cocity.index.normalise import (
    as_matrix,
    bad_columns,
    check_directions,
    col_count,
    col_max,
    col_min,
    col_std,
)
from cocity.index.registry import get, register

Array = NDArray[np.float64]

#: Saaty's random consistency index RI for k = 1 … 15 (Saaty 1980, *The Analytic Hierarchy
#: Process*, table 1.7; the values for k = 11 … 15, including the non-monotone 1.48 at k = 12,
#: come from the same simulation with fewer matrices). pymcdm uses the Tummala & Ling (1998)
#: values instead (0.5799, 0.8921, …), so its CR differs from ours by the RI ratio.
SAATY_RI = (0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57,
            1.59)


def _cols(cols: list[int]) -> str:
    return ", ".join(map(str, cols))


def _lead(X: ArrayLike, method: str) -> tuple[Array, tuple[int, ...], int]:
    arr = as_matrix(X, method)
    return arr, arr.shape[:-2], arr.shape[-1]


def _normalised_weights(w: ArrayLike, m: int, method: str) -> Array:
    arr = np.asarray(w, dtype=float)
    if arr.ndim == 0 or arr.shape[-1] != m:
        raise MethodInputError(t("index.m.vector_shape", method=method, name="w",
                                 shape=arr.shape, m=m))
    if not np.isfinite(arr).all():
        raise MethodInputError(t("index.m.vector_finite", method=method, name="w"))
    if (arr < 0).any():
        raise MethodInputError(t("index.m.negative_weights", method=method))
    total = arr.sum(axis=-1, keepdims=True)
    if (total <= 0).any():
        raise MethodInputError(t("index.m.zero_weights", method=method))
    return arr / total


# ---------------------------------------------------------------------------- subjective


@register("weight", "equal")
def equal(X: ArrayLike) -> Array:
    """Equal weights: ``w_j = 1/m``.

    Source: OECD/JRC *Handbook on Constructing Composite Indicators* (2008), §6.1.
    Variant: one vector per replication.
    """
    _, lead, m = _lead(X, "equal")
    return np.full((*lead, m), 1.0 / m)


@register("weight", "manual")
def manual(X: ArrayLike, *, w: ArrayLike) -> Array:
    """User weights, rescaled to sum to 1: ``w_j = v_j / Σ_k v_k``.

    Source: OECD/JRC Handbook (2008), §6 (participatory / expert weights).
    Variant: ``w`` is ``(m,)`` or ``(..., m)`` (per replication, e.g. sampled weights in
    uncertainty analysis); negative, missing or all-zero weights raise.
    """
    _, lead, m = _lead(X, "manual")
    return np.broadcast_to(_normalised_weights(w, m, "manual"), (*lead, m)).copy()


@dataclass(frozen=True)
class AHPConsistency:
    """Consistency of a pairwise comparison matrix (Saaty 1980)."""

    k: int
    lambda_max: float
    ci: float  #: consistency index (λmax − k)/(k − 1)
    ri: float  #: Saaty's random index for k
    cr: float  #: consistency ratio CI/RI (0 for k ≤ 2)


def _check_pairwise(A: ArrayLike, rtol: float) -> Array:
    a = np.asarray(A, dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise MethodInputError(t("index.m.ahp_square", shape=a.shape))
    if not (np.isfinite(a).all() and (a > 0).all()):
        raise MethodInputError(t("index.m.ahp_positive"))
    k = a.shape[0]
    if k > len(SAATY_RI):
        raise MethodInputError(t("index.m.ahp_size", k=k, kmax=len(SAATY_RI)))
    prod = a * a.T
    bad = np.argwhere(np.abs(prod - 1.0) > rtol)
    if bad.size:
        i, j = (int(v) for v in bad[0])
        raise MethodInputError(t("index.m.ahp_reciprocal", i=i, j=j, aij=a[i, j], aji=a[j, i]))
    return a


def ahp_consistency(A: ArrayLike, *, rtol: float = 0.05) -> AHPConsistency:
    """λmax, CI = (λmax − k)/(k − 1), RI (Saaty) and CR = CI/RI of a pairwise matrix ``A``.

    λmax is the principal (Perron) eigenvalue of ``A``, whatever method derives the weights.
    ``A`` must be square, positive and reciprocal: ``|a_ij·a_ji − 1| ≤ rtol`` (default 0.05, so
    judgements typed to two decimals such as 0.33, 0.14 or 0.13 for 1/3, 1/7, 1/8 pass; the
    matrix is used as given).
    """
    a = _check_pairwise(A, rtol)
    k = a.shape[0]
    lam = float(np.max(np.linalg.eigvals(a).real))
    if k <= 2:
        return AHPConsistency(k=k, lambda_max=lam, ci=0.0, ri=SAATY_RI[k - 1], cr=0.0)
    ci = (lam - k) / (k - 1)
    ri = SAATY_RI[k - 1]
    return AHPConsistency(k=k, lambda_max=lam, ci=ci, ri=ri, cr=ci / ri)


def ahp_weights(A: ArrayLike, *, method: str = "eigen", rtol: float = 0.05) -> Array:
    """Priority vector of a pairwise comparison matrix (no consistency check; see :func:`ahp`)."""
    a = _check_pairwise(A, rtol)
    if method == "eigen":
        vals, vecs = np.linalg.eig(a)
        v = np.abs(vecs[:, int(np.argmax(vals.real))].real)  # Perron vector: one sign
        return v / v.sum()
    if method == "geometric":
        g = np.exp(np.log(a).mean(axis=1))
        return g / g.sum()
    if method == "arithmetic":
        return (a / a.sum(axis=0, keepdims=True)).mean(axis=1)
    raise MethodInputError(t("index.m.choice", method="ahp", name="method", value=method,
                             allowed="eigen, geometric, arithmetic"))


@register("weight", "ahp")
def ahp(X: ArrayLike, *, A: ArrayLike, method: str = "eigen", allow_inconsistent: bool = False,
        cr_limit: float = 0.1, rtol: float = 0.05) -> Array:
    """Analytic Hierarchy Process weights from a pairwise comparison matrix ``A`` (k × k = m).

    Formula: ``"eigen"``: ``w`` = principal right eigenvector of ``A`` (``A w = λmax w``),
    normalised to sum 1; ``"geometric"``: ``w_i ∝ (Π_j a_ij)^{1/k}`` (row geometric mean,
    Crawford & Williams 1985); ``"arithmetic"``: ``w_i = (1/k) Σ_j a_ij / Σ_l a_lj`` (normalised
    column sums, then row mean). Consistency: ``CI = (λmax − k)/(k − 1)``, ``CR = CI/RI`` with
    Saaty's random index (:data:`SAATY_RI`).
    Source: Saaty, T. L. (1980), *The Analytic Hierarchy Process*, McGraw-Hill.
    Variant: λmax is always the principal eigenvalue (also for the approximations); CR = 0 for
    k ≤ 2; ``CR ≥ cr_limit`` (default 0.1) raises :class:`ConsistencyError` unless
    ``allow_inconsistent=True``; k > 15 raises (no RI).
    """
    _, lead, m = _lead(X, "ahp")
    a = _check_pairwise(A, rtol)
    if a.shape[0] != m:
        raise MethodInputError(t("index.m.ahp_size_mismatch", k=a.shape[0], m=m))
    cons = ahp_consistency(a, rtol=rtol)
    if cons.cr >= cr_limit and not allow_inconsistent:
        raise ConsistencyError(t("index.m.ahp_inconsistent", cr=f"{cons.cr:.3f}",
                                 limit=cr_limit, ci=f"{cons.ci:.3f}", ri=cons.ri))
    w = ahp_weights(a, method=method, rtol=rtol)
    return np.broadcast_to(w, (*lead, m)).copy()


# ---------------------------------------------------------------------------- objective


def _standardise01(arr: Array, directions: ArrayLike | None, method: str) -> Array:
    """Direction-aware column min–max to [0, 1]; a constant column becomes 0."""
    lo, hi = col_min(arr), col_max(arr)
    span = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(span > 0, (arr - lo) / span, 0.0)
    if directions is not None:
        d = check_directions(directions, arr.shape[-1], method)
        z = np.where(d > 0, z, np.where(span > 0, 1.0 - z, 0.0))
    return np.where(np.isnan(arr), np.nan, z)


def _pool_panel(arr: Array, panel_axis: int | None, method: str) -> Array:
    if panel_axis is None:
        return arr
    nlead = arr.ndim - 2
    ax = panel_axis + arr.ndim if panel_axis < 0 else panel_axis
    if not 0 <= ax < nlead:
        raise MethodInputError(t("index.m.panel_axis", method=method, axis=panel_axis,
                                 ndim=arr.ndim))
    moved = np.moveaxis(arr, ax, -3)
    T, n, m = moved.shape[-3:]
    return moved.reshape((*moved.shape[:-3], T * n, m))


@register("weight", "entropy")
def entropy(X: ArrayLike, *, directions: ArrayLike | None = None, standardise: bool = True,
            shift: float = 1e-4, panel_axis: int | None = None) -> Array:
    """Entropy weights: indicators whose values are more unequal across units weigh more.

    Formula: ``z_ij`` = min–max standardised value in [0, 1] (direction-aware when
    ``directions`` is given) plus ``shift``; ``p_ij = z_ij / Σ_i z_ij``;
    ``e_j = −(1/ln N_j) Σ_i p_ij ln p_ij`` (with ``0·ln 0 = 0``); ``d_j = 1 − e_j``;
    ``w_j = d_j / Σ_k d_k``. ``N_j`` is the number of observed units of indicator j, or of
    observed unit-years when ``panel_axis`` pools a ``(T, n, m)`` panel into ``T·n`` rows.
    Source: Shannon (1948); Zeleny (1982), *Multiple Criteria Decision Making*; the 熵值法 of
    Chinese evaluation practice (e.g. 郭显光 1998).
    Variant (stated, as the issue asks): min–max standardise first, then shift by
    ``shift = 1e-4`` (the common "平移 0.0001") so no p is zero; ``standardise=False`` uses ``X``
    as given (must be ≥ 0; ``directions`` are then not allowed). Missing values are left out of
    the sums. A constant indicator has ``e = 1`` and gets weight 0 (documented, not an error);
    an indicator with fewer than 2 observed values raises; all indicators constant raises.
    """
    arr = _pool_panel(as_matrix(X, "entropy"), panel_axis, "entropy")
    if not shift >= 0:
        raise MethodInputError(t("index.m.positive", method="entropy", name="shift", value=shift))
    n = col_count(arr)
    bad = bad_columns(n < 2)
    if bad:
        raise MethodInputError(t("index.m.too_few", method="entropy", columns=_cols(bad), need=2))
    if standardise:
        z = _standardise01(arr, directions, "entropy")
    else:
        if directions is not None:
            d = check_directions(directions, arr.shape[-1], "entropy")
            if (d < 0).any():
                raise MethodInputError(t("index.m.entropy_raw_directions"))
        neg = bad_columns(arr < 0)
        if neg:
            raise MethodInputError(t("index.m.negative_values", method="entropy",
                                     columns=_cols(neg)))
        z = arr
    z = z + shift
    obs = ~np.isnan(z)
    zf = np.where(obs, z, 0.0)
    total = zf.sum(axis=-2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        # an all-zero column (shift 0) is constant: spread evenly, e = 1
        p = np.where(total > 0, zf / total, np.where(obs, 1.0 / n, 0.0))
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    e = -plogp.sum(axis=-2) / np.log(n[..., 0, :])
    dvg = np.clip(1.0 - e, 0.0, None)
    s = dvg.sum(axis=-1, keepdims=True)
    if (s <= 0).any():
        raise MethodInputError(t("index.m.no_spread", method="entropy"))
    return dvg / s


def pairwise_corr(Z: Array) -> Array:
    """Pearson correlations of the columns of ``Z`` ``(..., n, m)`` over pairwise-complete rows.

    Returns ``(..., m, m)``; ``NaN`` where a pair has fewer than 2 common rows or no spread.
    """
    obs = (~np.isnan(Z)).astype(float)
    zf = np.where(np.isnan(Z), 0.0, Z)
    zt = np.swapaxes(zf, -1, -2)
    ot = np.swapaxes(obs, -1, -2)
    nn = ot @ obs  # common rows of (j, k)
    sj = zt @ obs  # Σ z_j over rows common with k
    sjj = (zt**2) @ obs
    sjk = zt @ zf
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sjk - sj * np.swapaxes(sj, -1, -2) / nn
        vj = sjj - sj**2 / nn
        vk = np.swapaxes(vj, -1, -2)
        r = cov / np.sqrt(vj * vk)
    scale = np.maximum(np.abs(sjj), 1e-300)
    ok = (nn >= 2) & (vj > 1e-12 * scale) & (vk > 1e-12 * np.swapaxes(scale, -1, -2))
    return np.where(ok, np.clip(r, -1.0, 1.0), np.nan)


@register("weight", "critic")
def critic(X: ArrayLike, *, directions: ArrayLike | None = None) -> Array:
    """CRITIC weights (CRiteria Importance Through Intercriteria Correlation).

    Formula: ``z`` = min–max standardised columns in [0, 1] (direction-aware when
    ``directions`` is given); ``σ_j`` = sample sd of ``z_j`` (n − 1); ``r_jk`` = Pearson
    correlation; ``C_j = σ_j Σ_k (1 − r_jk)``; ``w_j = C_j / Σ_k C_k``.
    Source: Diakoulaki, Mavrotas & Papayannakis (1995), *Computers & Operations Research*
    22(7), 763–770.
    Variant: missing values are left out (σ over observed values, r over pairwise-complete
    rows). A constant column has no correlation and raises; so does a pair of columns with
    fewer than 2 common observations (or no spread on them).
    """
    arr = as_matrix(X, "critic")
    span = col_max(arr) - col_min(arr)
    bad = bad_columns(~(span > 0))
    if bad:
        raise MethodInputError(t("index.m.constant", method="critic", columns=_cols(bad)))
    z = _standardise01(arr, directions, "critic")
    sd = col_std(z)[..., 0, :]
    r = pairwise_corr(z)
    if np.isnan(r).any():
        raise MethodInputError(t("index.m.no_pair", method="critic",
                                 columns=_cols(bad_columns(np.isnan(r).any(axis=-1)))))
    r = np.where(np.abs(np.abs(r) - 1.0) < 1e-12, np.round(r), r)  # exact ±1 despite rounding
    c = sd * (1.0 - r).sum(axis=-1)
    s = c.sum(axis=-1, keepdims=True)
    if (s <= 0).any():
        raise MethodInputError(t("index.m.no_spread", method="critic"))
    return c / s


def _complete(arr: Array, method: str) -> None:
    bad = bad_columns(np.isnan(arr).any(axis=-2))
    if bad:
        raise MethodInputError(t("index.m.needs_complete", method=method, columns=_cols(bad)))
    if arr.shape[-2] < 3:
        raise MethodInputError(t("index.m.too_few_rows", method=method, need=3))
    sd = col_std(arr)[..., 0, :]
    bad = bad_columns(~(sd > 1e-12 * np.maximum(np.abs(arr).max(axis=-2), 1e-300)))
    if bad:
        raise MethodInputError(t("index.m.constant", method=method, columns=_cols(bad)))


def varimax(L: Array, *, normalize: bool = True, tol: float = 1e-10,
            max_iter: int = 1000) -> Array:
    """Varimax rotation of a loading matrix ``(m, k)`` (Kaiser 1958; R ``stats::varimax``).

    With ``normalize`` (Kaiser normalisation, R's default) rows are scaled to unit communality
    before rotating and scaled back after.
    """
    p, k = L.shape
    if k < 2:
        return L.copy()
    h = np.sqrt((L**2).sum(axis=1))
    h = np.where(h > 0, h, 1.0) if normalize else np.ones(p)
    Ln = L / h[:, None]
    R = np.eye(k)
    crit = 0.0
    for _ in range(max_iter):
        Lr = Ln @ R
        u, s, vt = np.linalg.svd(Ln.T @ (Lr**3 - Lr * ((Lr**2).sum(axis=0) / p)))
        R = u @ vt
        old, crit = crit, float(s.sum())
        if old > 0 and crit < old * (1.0 + tol):
            break
    return (Ln @ R) * h[:, None]


def _sign_fix(L: Array) -> Array:
    """Flip each component so that its largest-absolute loading is positive."""
    idx = np.argmax(np.abs(L), axis=0)
    signs = np.sign(L[idx, np.arange(L.shape[1])])
    return L * np.where(signs == 0, 1.0, signs)


@dataclass(frozen=True)
class PCALoadings:
    """Principal components of the correlation matrix, with the sign convention applied."""

    eigenvalues: Array  #: all m eigenvalues of the correlation matrix, descending
    loadings: Array  #: (m, k) loadings of the retained (optionally rotated) components
    explained: Array  #: (k,) share of total variance carried by each retained component
    k: int


def pca_loadings(X: ArrayLike, *, k: int | None = None, min_share: float = 0.6,
                 rotation: str = "varimax") -> PCALoadings:
    """PCA of the correlation matrix of ``X`` ``(n, m)`` (complete data, no constant column).

    Loadings ``L = V·√λ`` (the correlation of each indicator with each component). ``k`` given,
    or the smallest k whose components explain at least ``min_share`` of the variance.
    ``rotation`` ``"varimax"`` (Kaiser-normalised) or ``"none"``. Sign convention: each
    component is flipped so that its largest-absolute loading is positive.
    """
    arr = as_matrix(X, "pca")
    if arr.ndim != 2:
        raise MethodInputError(t("index.m.ndim", method="pca", ndim=arr.ndim, need=2))
    _complete(arr, "pca")
    m = arr.shape[1]
    if rotation not in ("varimax", "none"):
        raise MethodInputError(t("index.m.choice", method="pca", name="rotation",
                                 value=rotation, allowed="varimax, none"))
    corr = np.corrcoef(arr, rowvar=False)
    vals, vecs = np.linalg.eigh(corr)
    order = np.argsort(vals)[::-1]
    vals = np.clip(vals[order], 0.0, None)
    vecs = vecs[:, order]
    if k is None:
        if not 0 < min_share <= 1:
            raise MethodInputError(t("index.m.choice", method="pca", name="min_share",
                                     value=min_share, allowed="(0, 1]"))
        cum = np.cumsum(vals) / vals.sum()
        k = int(np.searchsorted(cum, min_share - 1e-12) + 1)
    if not 1 <= int(k) <= m:
        raise MethodInputError(t("index.m.choice", method="pca", name="k", value=k,
                                 allowed=f"1 … {m}"))
    k = int(k)
    L = _sign_fix(vecs[:, :k] * np.sqrt(vals[:k]))
    if rotation == "varimax":
        L = _sign_fix(varimax(L))
    explained = (L**2).sum(axis=0) / m
    return PCALoadings(eigenvalues=vals, loadings=L, explained=explained, k=k)


@register("weight", "pca")
def pca(X: ArrayLike, *, k: int | None = None, min_share: float = 0.6,
        rotation: str = "varimax") -> Array:
    """PCA weights (the OECD/JRC Handbook procedure, principal components variant).

    Formula: PCA of the correlation matrix; keep k components (``k``, or the fewest explaining
    ≥ ``min_share`` = 60 % of the variance); rotate (varimax by default); square the loadings
    and scale them to unity sum within each component, ``q_jc = L_jc² / Σ_i L_ic²``; assign each
    indicator to the component on which it loads most (largest ``L_jc²``); weigh the component
    by its share of the explained variance ``v_c / Σ_c v_c`` (``v_c = Σ_i L_ic²``); then
    ``w_j ∝ q_{j,c(j)} · v_{c(j)} / Σ_c v_c``, normalised to sum 1.
    Source: OECD/JRC *Handbook on Constructing Composite Indicators* (2008), §6.1 "weights based
    on principal components / factor analysis" (Nicoletti, Scarpetta & Boylaud 2000).
    Variant: principal components (not a factor model) on the correlation matrix, Kaiser
    varimax; sign convention of :func:`pca_loadings` (irrelevant to the weights, which use
    squared loadings, but fixed for reporting). Needs complete data (impute first) and no
    constant indicator. Leading replication axes are looped.
    """
    arr, lead, m = _lead(X, "pca")
    out = np.empty((*lead, m))
    for idx in np.ndindex(*lead):
        res = pca_loadings(arr[idx], k=k, min_share=min_share, rotation=rotation)
        sq = res.loadings**2
        v = sq.sum(axis=0)
        q = sq / v
        c = np.argmax(sq, axis=1)
        raw = q[np.arange(m), c] * (v / v.sum())[c]
        out[idx] = raw / raw.sum()
    return out


def _index_corr(arr: Array, w: Array) -> Array:
    """Pearson correlation of each column of ``arr`` ``(n, m)`` with the index ``arr @ w``."""
    y = arr @ w
    xc = arr - arr.mean(axis=0)
    yc = y - y.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        return (xc * yc[:, None]).sum(axis=0) / np.sqrt((xc**2).sum(axis=0) * (yc**2).sum())


@register("weight", "optimised")
def optimised(X: ArrayLike, *, targets: ArrayLike | None = None,
              objective: str = "balance") -> Array:
    """Weights that give the indicators chosen shares of "importance" in the index.

    Formula: importance = Pearson correlation ``r_j(w) = corr(x_j, Σ_k w_k x_k)`` of each
    indicator with the weighted arithmetic index. ``"balance"`` minimises
    ``Σ_j (r_j/Σ_k r_k − t_j/Σ_k t_k)²`` (equal importance when ``targets`` is None);
    ``"infomax"`` maximises ``Σ_j r_j``. Constraints ``w_j ≥ 0``, ``Σ w_j = 1``; solved with
    SLSQP (scipy.optimize) from equal weights.
    Source: COINr ``get_opt_weights`` (``optype = "balance" | "infomax"``), a linear version of
    Becker, Saisana, Paruolo & Vandecasteele (2017), *Ecological Indicators* 80, 12–22.
    Variant: Pearson correlation, index = weighted mean of ``X`` (normalised data). Needs complete
    data and no constant indicator. Leading replication axes are looped.
    """
    arr, lead, m = _lead(X, "optimised")
    if objective not in ("balance", "infomax"):
        raise MethodInputError(t("index.m.choice", method="optimised", name="objective",
                                 value=objective, allowed="balance, infomax"))
    tg = np.ones(m) if targets is None else _normalised_weights(targets, m, "optimised")
    tg = tg / tg.sum()
    out = np.empty((*lead, m))
    for idx in np.ndindex(*lead):
        a = arr[idx]
        _complete(a, "optimised")

        def loss(w: Array, a: Array = a) -> float:
            r = _index_corr(a, w)
            if objective == "infomax":
                return -float(r.sum())
            return float(((r / r.sum() - tg) ** 2).sum())

        res = optimize.minimize(
            loss, np.full(m, 1.0 / m), method="SLSQP", bounds=[(0.0, 1.0)] * m,
            constraints=({"type": "eq", "fun": lambda w: w.sum() - 1.0},),
            options={"ftol": 1e-12, "maxiter": 500},
        )
        if not res.success:
            raise MethodInputError(t("index.m.optimise_failed", method="optimised",
                                     detail=str(res.message)))
        w = np.clip(res.x, 0.0, None)
        out[idx] = w / w.sum()
    return out


@register("weight", "combine")
def combine(X: ArrayLike, *, w1: ArrayLike | str, w2: ArrayLike | str, alpha: float = 0.5,
            how: str = "linear", params1: dict[str, Any] | None = None,
            params2: dict[str, Any] | None = None) -> Array:
    """Combine two weight vectors, typically subjective (AHP, expert) and objective (entropy).

    Formula: ``"linear"``: ``w = α·w1 + (1 − α)·w2``; ``"multiplicative"``:
    ``w_j = w1_j·w2_j / Σ_k w1_k·w2_k``.
    Source: the 组合赋权 (combination weighting) of Chinese evaluation practice, e.g. AHP–entropy
    combinations; OECD/JRC Handbook (2008), §6.
    Variant: ``w1``/``w2`` are arrays ``(m,)``/``(..., m)`` or the name of a registered weight
    method computed on ``X`` with ``params1``/``params2``; each is rescaled to sum 1 first.
    ``alpha`` in [0, 1]. A multiplicative product that is zero everywhere raises.
    """
    arr, lead, m = _lead(X, "combine")

    def resolve(w: ArrayLike | str, params: dict[str, Any] | None) -> Array:
        if isinstance(w, str):
            w = get("weight", w)(arr, **(params or {}))
        return np.broadcast_to(_normalised_weights(w, m, "combine"), (*lead, m))

    a, b = resolve(w1, params1), resolve(w2, params2)
    if how == "linear":
        if not 0.0 <= alpha <= 1.0:
            raise MethodInputError(t("index.m.choice", method="combine", name="alpha",
                                     value=alpha, allowed="[0, 1]"))
        return alpha * a + (1.0 - alpha) * b
    if how == "multiplicative":
        prod = a * b
        s = prod.sum(axis=-1, keepdims=True)
        if (s <= 0).any():
            raise MethodInputError(t("index.m.zero_weights", method="combine"))
        return prod / s
    raise MethodInputError(t("index.m.choice", method="combine", name="how", value=how,
                             allowed="linear, multiplicative"))


def effective_weights(X_normalised: ArrayLike, w: ArrayLike, *,
                      measure: str = "variance_share") -> Array:
    """Each indicator's actual contribution to a weighted arithmetic index ``I = Σ_j w_j x_j``.

    ``"variance_share"`` (default): ``s_j = w_j·Cov(x_j, I) / Var(I)``; the shares sum to 1
    (because ``Σ_j w_j Cov(x_j, I) = Var(I)``) and show how much of the index's spread across
    units each indicator drives, which differs from the nominal weight when indicators have
    different variances or are correlated. ``"correlation"``: Pearson ``corr(x_j, I)``, the
    "importance" of Paruolo, Saisana & Saltelli (2013), *JRSS A* 176(3), 609–634 (not summing
    to 1).
    Rows with a missing value are left out. Shapes: ``X_normalised`` ``(..., n, m)``, ``w``
    ``(m,)`` or ``(..., m)``; result ``(..., m)``. (COINr's ``get_eff_weights`` is a different
    notion — the product of nominal weights down the tree — which the framework computes.)
    """
    arr = as_matrix(X_normalised, "effective_weights")
    m = arr.shape[-1]
    wn = _normalised_weights(w, m, "effective_weights")
    if measure not in ("variance_share", "correlation"):
        raise MethodInputError(t("index.m.choice", method="effective_weights", name="measure",
                                 value=measure, allowed="variance_share, correlation"))
    complete = ~np.isnan(arr).any(axis=-1, keepdims=True)
    nrows = complete.sum(axis=-2)
    if (nrows < 2).any():
        raise MethodInputError(t("index.m.too_few_rows", method="effective_weights",
                                 need=2))
    x = np.where(complete, arr, 0.0)
    mean = x.sum(axis=-2, keepdims=True) / nrows[..., None]
    xc = np.where(complete, x - mean, 0.0)
    idx = (xc * wn[..., None, :]).sum(axis=-1, keepdims=True)
    cov = (xc * idx).sum(axis=-2)
    var_i = (idx**2).sum(axis=-2)
    if (var_i <= 0).any():
        raise MethodInputError(t("index.m.no_spread", method="effective_weights"))
    if measure == "variance_share":
        return wn * cov / var_i
    var_x = (xc**2).sum(axis=-2)
    bad = bad_columns(var_x <= 0)
    if bad:
        raise MethodInputError(t("index.m.constant", method="effective_weights",
                                 columns=_cols(bad)))
    return cov / np.sqrt(var_x * var_i)
