"""Polycentricity of a city system: primacy indices, the rank–size slope, morphological
polycentricity (rank–size slopes of the largest cities) and functional polycentricity (Green
2007, from the linkage network).

Sizes are a Series (or array) of positive city sizes — population, GDP or any other mass —
in any order; the functions sort them. Non-finite or non-positive sizes (logs are taken, and
primacy ratios divide by sizes) and too few cities for an index raise
:class:`~cocity.metrics.errors.MetricInputError`. Ranks are ordinal (1 = largest); tied sizes
take consecutive ranks in their input order, which leaves every index below unchanged except
the rank–size regression, where ties are rare in real size data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from cocity.i18n import t
from cocity.metrics.errors import MetricInputError

PRIMACY_INDICES = ("s2", "s4", "s11")
_NEED = {"s2": 2, "s4": 4, "s11": 11}


def _fail(key: str, **fmt: object) -> MetricInputError:
    return MetricInputError(t(f"metrics.struct.err.{key}", None, **fmt))


def _sorted_sizes(sizes: pd.Series | ArrayLike, need: int, what: str) -> np.ndarray:
    """Positive finite sizes sorted from largest to smallest (stable for ties)."""
    if isinstance(sizes, pd.Series):
        index, values = list(sizes.index), sizes.to_numpy(dtype=float)
    else:
        values = np.asarray(sizes, dtype=float).ravel()
        index = list(range(len(values)))
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        shown = ", ".join(str(index[i]) for i in np.flatnonzero(bad)[:5])
        raise _fail("sizes_positive", units=shown)
    if len(values) < need:
        raise _fail("few_cities", what=what, need=need, got=len(values))
    return values[np.argsort(-values, kind="stable")]


# ----------------------------------------------------------------------------- primacy


def two_city_index(sizes: pd.Series | ArrayLike) -> float:
    """Two-city primacy index ``S2 = P1 / P2`` (P1 ≥ P2 ≥ … the sorted sizes).

    **Source**: Jefferson (1939) "The law of the primate city", *Geographical Review* 29:
    226–232; 两城市指数 in 许学强、周一星、宁越敏《城市地理学》(2nd ed., 2009).
    **Reading**: 2 under the rank–size rule ``P_r = P1 / r``; larger means more primate.
    """
    P = _sorted_sizes(sizes, 2, "S2")
    return float(P[0] / P[1])


def four_city_index(sizes: pd.Series | ArrayLike) -> float:
    """Four-city primacy index ``S4 = P1 / (P2 + P3 + P4)``.

    **Source**: usually attributed to Ginsburg (1961) *Atlas of Economic Development*; the
    四城市指数 of 许学强 等 (2009). **Reading**: ``1 / (1/2 + 1/3 + 1/4) ≈ 0.923`` under
    the rank–size rule (the textbooks round it to 1); larger means more primate. Needs at
    least 4 cities.
    """
    P = _sorted_sizes(sizes, 4, "S4")
    return float(P[0] / P[1:4].sum())


def eleven_city_index(sizes: pd.Series | ArrayLike) -> float:
    """Eleven-city primacy index ``S11 = 2·P1 / (P2 + P3 + … + P11)``.

    **Source**: usually attributed to Mehta (1964) *Demography* 1: 136–147; the 十一城市指数
    of 许学强 等 (2009). **Reading**: ``2 / (H₁₁ − 1) ≈ 0.990`` under the rank–size rule
    (``H₁₁`` the 11th harmonic number); larger means more primate. Needs at least 11 cities.
    """
    P = _sorted_sizes(sizes, 11, "S11")
    return float(2 * P[0] / P[1:11].sum())


def primacy_indices(sizes: pd.Series | ArrayLike,
                    which: Sequence[str] = PRIMACY_INDICES) -> pd.Series:
    """The primacy indices named in ``which`` (``s2``, ``s4``, ``s11``) as a Series; an index
    that needs more cities than given raises an error (ask only for the ones that apply)."""
    funcs = {"s2": two_city_index, "s4": four_city_index, "s11": eleven_city_index}
    unknown = [w for w in which if w not in funcs]
    if unknown or not which:
        raise _fail("primacy_which", value=", ".join(map(str, unknown)) or "()",
                    allowed=", ".join(PRIMACY_INDICES))
    return pd.Series({w: funcs[w](sizes) for w in which}, dtype=float)


# ----------------------------------------------------------------------------- rank–size


@dataclass(frozen=True)
class RankSize:
    """OLS fit of ``ln P_r = a + slope · ln(r − rank_shift)``; ``q = −slope``."""

    q: float            # Zipf coefficient (1 = Zipf's law; larger = more hierarchical)
    se: float           # OLS standard error of q (of the slope)
    se_gi: float        # Gabaix–Ibragimov asymptotic standard error q·√(2/n)
    slope: float
    intercept: float
    r2: float
    n: int
    rank_shift: float


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """slope, intercept, standard error of the slope (n − 2 d.f.; 0 if n = 2), R²."""
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    slope = float(((x - xm) * (y - ym)).sum() / sxx)
    intercept = float(ym - slope * xm)
    resid = y - intercept - slope * x
    ssr = float((resid ** 2).sum())
    sst = float(((y - ym) ** 2).sum())
    se = float(np.sqrt(ssr / (len(x) - 2) / sxx)) if len(x) > 2 else 0.0
    r2 = 1.0 - ssr / sst if sst > 0 else 1.0
    return slope, intercept, se, r2


def rank_size(sizes: pd.Series | ArrayLike, *, top: int | None = None,
              rank_shift: float = 0.0) -> RankSize:
    """Rank–size (Zipf) regression of city sizes.

    **Formula**: OLS of ``ln P_r`` on ``ln(r − rank_shift)`` over the ranks ``r = 1 … n`` of
    all cities (default) or of the ``top`` largest; ``ln P_r = a − q ln r``. ``q`` is the Zipf
    coefficient: 1 is Zipf's law, ``q > 1`` a more hierarchical (primate) system, ``q < 1``
    a more even one; ``se`` is the usual OLS standard error with ``n − 2`` degrees of freedom
    (known to understate the uncertainty of rank regressions, hence also ``se_gi``).

    **Source**: Zipf (1949); Rosen & Resnick (1980) *J. Urban Econ.* 8: 165–186 (the
    regression); Gabaix & Ibragimov (2011) *J. Bus. Econ. Stat.* 29: 24–39 (``rank_shift =
    0.5`` reduces the small-sample bias; their standard error ``q·√(2/n)``).

    **Variant**: ln P on ln r (the Chinese 位序–规模 literature's form), not ln r on ln P
    (the Pareto exponent, ≈ 1/q). Needs at least 3 cities. Equal sizes give ``q = 0`` with
    ``se = 0`` and ``r2 = 1`` (a perfect flat fit, documented rather than 0/0).
    """
    if not 0.0 <= float(rank_shift) < 1.0:
        raise _fail("rank_shift", value=rank_shift)
    P = _sorted_sizes(sizes, 3, t("metrics.struct.what.rank_size"))
    if top is not None:
        if isinstance(top, bool) or not isinstance(top, int | np.integer) \
                or not 3 <= top <= len(P):
            raise _fail("top", value=top, most=len(P))
        P = P[:top]
    r = np.arange(1, len(P) + 1, dtype=float)
    slope, intercept, se, r2 = _ols(np.log(r - rank_shift), np.log(P))
    q = -slope
    return RankSize(q=q, se=se, se_gi=abs(q) * float(np.sqrt(2.0 / len(P))), slope=slope,
                    intercept=intercept, r2=r2, n=len(P), rank_shift=float(rank_shift))


def morphological_polycentricity(sizes: pd.Series | ArrayLike,
                                 tops: Sequence[int] = (2, 3, 4)) -> pd.Series:
    """Morphological polycentricity: rank–size slopes of the few largest cities.

    **Formula**: for each ``k`` in ``tops``, the OLS slope ``b_k`` of ``ln P_r`` on ``ln r``
    over the ``k`` largest cities (``b_2 = (ln P2 − ln P1) / ln 2`` exactly), and their mean
    ``mean_slope``. Slopes are ≤ 0: 0 means the largest cities are equally large (perfectly
    polycentric), about −1 a Zipf hierarchy, more negative a more monocentric system.

    **Source**: Meijers & Burger (2010) *Environment and Planning A* 42: 1383–1402 and Burger
    & Meijers (2012) *Urban Studies* 49: 1127–1149 (slopes of the two, three and four largest
    centres, averaged); the ESPON 1.1.1 (2004) size-polycentricity index uses the same
    rank–size idea over all FUAs.

    **Variant**: the slopes are reported as they come (negative), not as absolute values.
    Burger & Meijers's *functional* counterpart applies the same slopes to the centres'
    weighted degrees — pass ``centralities(G)["strength"]`` as ``sizes`` for it.
    """
    tops = list(tops)
    if not tops or any(isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2
                       for k in tops):
        raise _fail("tops", value=tops)
    P = _sorted_sizes(sizes, max(tops), t("metrics.struct.what.morphological"))
    out = {}
    lr, lp = np.log(np.arange(1, len(P) + 1, dtype=float)), np.log(P)
    for k in tops:
        out[f"slope_top{k}"] = _ols(lr[:k], lp[:k])[0]
    out["mean_slope"] = float(np.mean(list(out.values())))
    return pd.Series(out, dtype=float)


# ----------------------------------------------------------------------------- functional


def functional_polycentricity(G: nx.Graph, *, weight: str | None = "weight") -> pd.Series:
    """Green's functional polycentricity of a linkage network.

    **Formula**: with ``d_i`` the nodal degrees (weighted degrees ``Σ_j w_ij`` when ``weight``
    names an edge attribute, link counts when ``weight=None``), ``σ`` their standard deviation
    and ``σ_max`` the standard deviation of the two-node set ``{0, max_i d_i}`` (both with
    ``ddof = 0``, so ``σ_max = d_max / 2`` and ``σ ≤ σ_max``):

    - ``balance = 1 − σ / σ_max`` ∈ [0, 1]: 1 when every city is equally connected (perfectly
      polycentric), 0 at the most unequal spread;
    - ``density Δ``: ``2m / (n(n − 1))`` unweighted, or for a valued network
      ``Σ_{i<j} w_ij / (n(n − 1)/2 · max w)`` (total flow over the maximum possible with the
      largest observed link value);
    - ``polycentricity = balance · Δ`` — Green's ``P_F``, which is high only when links are both
      even and dense.

    **Source**: Green (2007) "Functional polycentricity: a formal definition in terms of social
    network analysis", *Urban Studies* 44(11): 2077–2103.

    **Variant**: on an undirected network (Green also defines it on in-degrees of directed
    flows); population standard deviations. A network without links raises an error; equal
    degrees give ``balance = 1``.
    """
    if not isinstance(G, nx.Graph) or G.is_directed():
        raise _fail("graph_type")
    n = G.number_of_nodes()
    if n < 2:
        raise _fail("few_units", need=2, got=n)
    weights = [1.0 if weight is None else float(w)
               for _, _, w in G.edges(data=weight or "weight", default=1.0)]
    if not all(np.isfinite(w) and w > 0 for w in weights):
        raise _fail("edge_weight")
    if not weights:
        raise _fail("no_links")
    d = np.array([deg for _, deg in G.degree(weight=weight)], dtype=float)
    sigma = float(d.std())
    sigma_max = float(np.std([0.0, d.max()]))
    balance = 1.0 - sigma / sigma_max
    pairs = n * (n - 1) / 2
    density = sum(weights) / (pairs * max(weights))
    return pd.Series({
        "sigma": sigma,
        "sigma_max": sigma_max,
        "balance": balance,
        "density": density,
        "polycentricity": balance * density,
    }, dtype=float)
