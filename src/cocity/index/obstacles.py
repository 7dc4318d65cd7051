"""Obstacle degree (障碍度): which indicators hold each unit back, and by how much.

Arrays follow :mod:`cocity.index.registry`: ``X`` is ``(..., n, m)`` (units × indicators,
leading axes are replications), ``NaN`` is missing.

**Formula** (obstacle-degree model, 障碍度模型)::

    F_j  = w_j                                  factor contribution (因子贡献度): the overall
                                                weight of indicator j in the index
    I_ij = 1 − x'_ij                            deviation (指标偏离度), x' normalised to [0, 1]
    O_ij = F_j · I_ij / Σ_j F_j · I_ij × 100 %  obstacle degree (障碍度) of indicator j for unit i
    U_ik = Σ_{j ∈ dimension k} O_ij             obstacle degree of dimension k

**Source**: the obstacle-degree model as commonly used in Chinese regional evaluation studies
(the formula above; the usual citations could not be verified here, so none is given).

**Variant**: ``F_j`` is the product of the weights down the tree, given as an input array (any
positive scale: it cancels in the ratio). Missing cells get ``NaN`` and the unit's obstacle
degrees are shared over its observed indicators (they still sum to 100 %). A unit with no
deviation at all (every observed, positively weighted indicator at 1) has no obstacle:
every ``O_ij = 0`` (documented choice for the 0/0 case). A unit with no observed indicator
gets ``NaN`` throughout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cocity.i18n import t
from cocity.index.errors import MethodInputError

Array = NDArray[np.float64]
_RANGE_TOL = 1e-12


def obstacle_degree(X: ArrayLike, w: ArrayLike) -> Array:
    """Obstacle degree ``O_ij`` in percent, shape ``(..., n, m)`` (see the module docstring).

    ``X``: normalised scores in ``[0, 1]``, oriented so that 1 is best (values outside raise
    :class:`MethodInputError`); ``w``: overall indicator weights ``(m,)`` or ``(..., m)``,
    finite and non-negative.
    """
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim < 2:
        raise MethodInputError(t("index.a.err.ndim", method="obstacle_degree", shape=Xa.shape))
    m = Xa.shape[-1]
    wa = np.asarray(w, dtype=float)
    if wa.ndim == 0 or wa.shape[-1] != m or not np.all(np.isfinite(wa)) or np.any(wa < 0):
        raise MethodInputError(t("index.a.err.obstacle_weights", m=m))
    obs = ~np.isnan(Xa)
    if np.any(obs):
        low, high = float(Xa[obs].min()), float(Xa[obs].max())
        if low < -_RANGE_TOL or high > 1 + _RANGE_TOL:
            raise MethodInputError(t("index.a.err.obstacle_range", low=low, high=high))
    deviation = 1.0 - np.clip(np.where(obs, Xa, 1.0), 0.0, 1.0)
    contrib = wa[..., None, :] * deviation                     # F_j · I_ij, (..., n, m)
    total = contrib.sum(axis=-1, keepdims=True)
    share = np.divide(contrib, total, out=np.zeros(contrib.shape), where=total > 0) * 100.0
    return np.where(obs, share, np.nan)


@dataclass(frozen=True)
class DimensionObstacles:
    """Obstacle degree per dimension, ``values`` ``(..., n, d)``; ``labels`` in column order."""

    values: Array
    labels: list[str]


def dimension_obstacles(obstacle: ArrayLike, dimensions: Sequence[str]) -> DimensionObstacles:
    """Sum the indicators' obstacle degrees within each dimension.

    ``dimensions`` gives each indicator's dimension label (length m); dimensions appear in the
    order of their first indicator. **Formula**: ``U_ik = Σ_{j ∈ k} O_ij`` over the observed
    indicators of dimension ``k``; ``NaN`` when none of them is observed for unit ``i``.
    """
    Oa = np.asarray(obstacle, dtype=float)
    m = Oa.shape[-1]
    if len(dimensions) != m:
        raise MethodInputError(t("index.a.err.obstacle_dims", got=len(dimensions), m=m))
    labels = list(dict.fromkeys(str(d) for d in dimensions))
    dims = np.array([str(d) for d in dimensions], dtype=object)
    out = np.empty((*Oa.shape[:-1], len(labels)))
    for k, label in enumerate(labels):
        cols = Oa[..., dims == label]
        seen = np.any(~np.isnan(cols), axis=-1)
        out[..., k] = np.where(seen, np.nansum(cols, axis=-1), np.nan)
    return DimensionObstacles(values=out, labels=labels)


@dataclass(frozen=True)
class TopObstacles:
    """Each unit's ``k`` largest obstacles: column ``index`` (``-1`` = none) and ``value``."""

    index: NDArray[np.int64]
    value: Array


def top_obstacles(obstacle: ArrayLike, *, k: int = 3) -> TopObstacles:
    """Each unit's ``k`` main obstacles, largest first, shape ``(..., n, k)``.

    Ties are broken by column order (the indicator listed first in the framework comes first;
    a stable sort). Only positive obstacle degrees are listed: missing cells and indicators
    with ``O_ij = 0`` (no deviation or zero weight) are not obstacles; when a unit has fewer
    than ``k`` obstacles the remaining slots hold index ``-1`` and value ``NaN``.
    """
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1:
        raise MethodInputError(t("index.a.err.top_k", k=k))
    Oa = np.asarray(obstacle, dtype=float)
    positive = ~np.isnan(Oa) & (Oa > 0)
    key = np.where(positive, -Oa, np.inf)
    order = np.argsort(key, axis=-1, kind="stable")
    m = Oa.shape[-1]
    width = min(int(k), m)
    idx = order[..., :width]
    vals = np.take_along_axis(Oa, idx, axis=-1)
    keep = np.take_along_axis(positive, idx, axis=-1)
    idx = np.where(keep, idx, -1).astype(np.int64)
    vals = np.where(keep, vals, np.nan)
    if width < k:
        pad = (*Oa.shape[:-1], int(k) - width)
        idx = np.concatenate([idx, np.full(pad, -1, dtype=np.int64)], axis=-1)
        vals = np.concatenate([vals, np.full(pad, np.nan)], axis=-1)
    return TopObstacles(index=idx, value=vals)
