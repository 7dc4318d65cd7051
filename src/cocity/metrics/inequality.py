"""Inequality measures and their decompositions by groups.

Inputs are 1-D arrays (or anything array-like, e.g. pandas Series) of equal length ``n``:

- ``y``: the variable whose distribution is measured, per unit (e.g. GDP per capita of each
  county, or income per person). Values must be finite; measures that take logarithms need
  ``y > 0``, the others ``y ≥ 0`` with a positive mean.
- ``p`` (optional): population weights, one per unit, finite and ``> 0`` (e.g. resident
  population). With ``p`` every unit stands for ``p_i`` people who each have ``y_i``; the
  measures are then those of the population distribution (the form Chinese regional studies
  use). Without ``p`` every unit counts once (*unit-weighted*, as PySAL's ``inequality`` does).
  A population-weighted measure on integer ``p`` equals the unit-weighted measure on the data
  with unit ``i`` repeated ``p_i`` times (the tests check exactly this against PySAL).
- ``groups``: a label per unit (any hashable values: province, metropolitan area, …).

Missing values: a ``NaN`` in ``y`` or ``p``, or a missing group label, raises
:class:`~cocity.metrics.errors.MetricInputError` unless ``dropna=True``, which drops every
unit with a missing entry in any of the inputs. No function returns a silent ``NaN``.

Documented results for degenerate input: all-equal values give Gini 0, Theil 0, Atkinson 0,
CV 0 and a Dagum decomposition with every component 0 (its percentage contributions are then
reported as 0, there being no inequality to apportion); a single unit is the all-equal case.

Permutation inference (``permutations > 0``): the group labels are shuffled among the units
(each unit keeps its ``y`` and ``p``), the between-group statistic is recomputed for each
shuffle, and the pseudo p-value is ``(1 + #{stat_perm ≥ stat_obs}) / (permutations + 1)``
(one-sided: is the between-group component larger than random groupings give?). This is
PySAL's ``inequality.theil.TheilDSim`` convention; shuffling the values among fixed labels,
as PySAL does, is the same permutation applied the other way round, so that seeding both with
``numpy.random.RandomState(s)`` / ``numpy.random.seed(s)`` gives identical p-values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cocity.i18n import t
from cocity.metrics.errors import MetricInputError

Array = NDArray[np.float64]
IntArray = NDArray[np.intp]
Seed = int | np.random.Generator | np.random.RandomState | None

TheilIndex = Literal["T", "L"]
GapKind = Literal["ratio", "difference", "relative", "log_ratio"]

_PERM_CHUNK = 256


# ----------------------------------------------------------------------------- input checks


@dataclass(frozen=True)
class _Input:
    y: Array
    p: Array            # population weights; ones when none were given
    weighted: bool      # whether p was given
    codes: IntArray     # group codes 0..k-1 (zeros when no groups were given)
    labels: pd.Index    # group labels, in code order


def _vector(x: object, name: str, what: str, n: int | None) -> NDArray[np.object_] | Array:
    arr = np.asarray(x.to_numpy() if isinstance(x, pd.Series | pd.Index) else x)
    if arr.ndim != 1:
        raise MetricInputError(t("metrics.ineq.err.ndim", what=what, name=name,
                                 shape=arr.shape))
    if n is not None and arr.shape[0] != n:
        raise MetricInputError(t("metrics.ineq.err.length", what=what, name=name,
                                 got=arr.shape[0], n=n))
    return arr


def _floats(arr: NDArray[np.object_] | Array, name: str, what: str) -> Array:
    try:
        return np.asarray(arr, dtype=float)
    except (TypeError, ValueError):
        raise MetricInputError(t("metrics.ineq.err.numeric", what=what, name=name)) from None


def _prepare(what: str, y: ArrayLike, p: ArrayLike | None = None,
             groups: ArrayLike | None = None, *, dropna: bool = False) -> _Input:
    """Validate and align ``y``, ``p`` and ``groups``; drop or reject missing entries."""
    ya = _floats(_vector(y, "y", what, None), "y", what)
    n = ya.shape[0]
    pa = None if p is None else _floats(_vector(p, "p", what, n), "p", what)
    ga = None if groups is None else _vector(groups, "groups", what, n)

    missing = {"y": np.isnan(ya)}
    if pa is not None:
        missing["p"] = np.isnan(pa)
    if ga is not None:
        missing["groups"] = np.asarray(pd.isna(ga), dtype=bool)
    any_missing = np.logical_or.reduce(list(missing.values()))
    if any_missing.any():
        if not dropna:
            name = next(k for k, m in missing.items() if m.any())
            raise MetricInputError(t("metrics.ineq.err.nan", what=what, name=name,
                                     count=int(missing[name].sum())))
        keep = ~any_missing
        ya = ya[keep]
        pa = None if pa is None else pa[keep]
        ga = None if ga is None else ga[keep]
    if ya.size == 0:
        raise MetricInputError(t("metrics.ineq.err.empty", what=what))
    if not np.all(np.isfinite(ya)):
        raise MetricInputError(t("metrics.ineq.err.infinite", what=what, name="y"))
    if pa is not None and (not np.all(np.isfinite(pa)) or np.any(pa <= 0)):
        raise MetricInputError(t("metrics.ineq.err.weights", what=what))

    if ga is None:
        codes = np.zeros(ya.size, dtype=np.intp)
        labels = pd.Index([0])
    else:
        try:
            raw_codes, uniques = pd.factorize(ga, sort=True)
        except TypeError:  # labels of mixed, unorderable types: order of first appearance
            raw_codes, uniques = pd.factorize(ga, sort=False)
        codes = np.asarray(raw_codes, dtype=np.intp)
        labels = pd.Index(uniques)
    weights = np.ones_like(ya) if pa is None else pa
    return _Input(ya, weights, pa is not None, codes, labels)


def _check_nonnegative(what: str, y: Array) -> None:
    if np.any(y < 0):
        raise MetricInputError(t("metrics.ineq.err.negative", what=what,
                                 count=int((y < 0).sum()), lowest=float(y.min())))


def _check_positive(what: str, y: Array) -> None:
    if np.any(y <= 0):
        raise MetricInputError(t("metrics.ineq.err.nonpositive", what=what,
                                 count=int((y <= 0).sum()), lowest=float(y.min())))


def _weighted_mean(what: str, y: Array, p: Array) -> float:
    mean = float(np.dot(p, y) / p.sum())
    if mean <= 0:
        raise MetricInputError(t("metrics.ineq.err.mean", what=what, mean=mean))
    return mean


def _check_permutations(permutations: int) -> int:
    if isinstance(permutations, bool) or not isinstance(permutations, int | np.integer) \
            or permutations < 0:
        raise MetricInputError(t("metrics.ineq.err.permutations", value=permutations))
    return int(permutations)


def _rng(seed: Seed) -> np.random.Generator | np.random.RandomState:
    if isinstance(seed, np.random.Generator | np.random.RandomState):
        return seed
    return np.random.default_rng(seed)


def _permuted_codes(codes: IntArray, permutations: int, seed: Seed) -> list[IntArray]:
    """Group codes after each shuffle, in chunks of ``(r, n)``.

    Shuffle ``r`` draws ``perm = rng.permutation(n)`` and moves unit ``perm[i]`` into the
    group of position ``i`` — the same as permuting the values among fixed labels, as PySAL's
    ``TheilDSim`` does with ``numpy.random.permutation(y)``.
    """
    rng = _rng(seed)
    n = codes.size
    chunks: list[IntArray] = []
    done = 0
    while done < permutations:
        r = min(_PERM_CHUNK, permutations - done)
        perms = np.stack([np.asarray(rng.permutation(n), dtype=np.intp) for _ in range(r)])
        out = np.empty((r, n), dtype=np.intp)
        np.put_along_axis(out, perms, np.broadcast_to(codes, (r, n)), axis=1)
        chunks.append(out)
        done += r
    return chunks


def _group_sums(codes: IntArray, values: Array, k: int) -> Array:
    """Sums of ``values`` by group for a ``(r, n)`` code matrix → ``(r, k)``."""
    r = codes.shape[0]
    flat = (codes + k * np.arange(r)[:, None]).ravel()
    sums = np.bincount(flat, weights=np.broadcast_to(values, codes.shape).ravel(),
                       minlength=r * k)
    return np.asarray(sums, dtype=float).reshape(r, k)


def _p_value(observed: float, null: Array) -> float:
    # A relative tolerance keeps a permutation that reproduces the observed grouping (equal
    # statistic up to rounding) counted as "at least as large".
    tol = 1e-12 * max(abs(observed), 1e-300)
    return float((1 + np.count_nonzero(null >= observed - tol)) / (null.size + 1))


# ----------------------------------------------------------------------------- pairwise sums


def _pair_sums(y: Array, p: Array, codes: IntArray, k: int) -> Array:
    """``A[h, j] = Σ_{r∈h} Σ_{i∈j, y_i ≤ y_r} p_r p_i (y_r − y_i)`` in O(n log n + n k).

    Units are sorted once by ``y``; for each unit ``r`` the weighted count and weighted sum of
    the units of every group sorted before it (exclusive cumulative sums) give its sum of
    differences to them; summing by ``r``'s group gives ``A``. Ties contribute 0 whichever
    way they are ordered. ``A[h, j] + A[j, h]`` is the cross-group sum of ``p_r p_i |y_r − y_i|``
    and ``A[j, j]`` half the within-group double sum. ``y`` is centred first (differences are
    unchanged) so that equal values give exactly 0.
    """
    order = np.argsort(y, kind="stable")
    ys = y[order] - float(np.dot(p, y) / p.sum())
    ps = p[order]
    cs = codes[order]
    n = ys.size
    onehot = np.zeros((n, k))
    onehot[np.arange(n), cs] = ps
    before_w = np.cumsum(onehot, axis=0) - onehot
    onehot_y = onehot * ys[:, None]
    before_wy = np.cumsum(onehot_y, axis=0) - onehot_y
    contrib = ps[:, None] * (ys[:, None] * before_w - before_wy)     # (n, k)
    A = np.zeros((k, k))
    np.add.at(A, cs, contrib)
    return A


# ----------------------------------------------------------------------------- Gini


def gini(y: ArrayLike, p: ArrayLike | None = None, *, dropna: bool = False) -> float:
    """Gini coefficient, unweighted or population-weighted.

    **Formula** (mean-difference form): ``G = Σ_i Σ_j p_i p_j |y_i − y_j| / (2 μ P²)`` with
    ``P = Σ p_i`` and ``μ = Σ p_i y_i / P``; without ``p`` every ``p_i = 1``, i.e.
    ``G = Σ Σ |y_i − y_j| / (2 n² μ)``. Computed in O(n log n) by sorting.

    **Source**: Gini (1912); the mean-difference form as in Cowell, *Measuring Inequality*
    (3rd ed. 2011), §A.3. Unweighted, identical to PySAL ``inequality.gini.Gini``.

    **Variant**: the population form with divisor ``n²`` (``P²``), whose maximum is
    ``1 − 1/n``; the sample-corrected ``n(n − 1)`` divisor is not used. Values must be
    ``≥ 0`` with a positive mean; all-equal values give 0.
    """
    what = "Gini"
    d = _prepare(what, y, p, dropna=dropna)
    _check_nonnegative(what, d.y)
    mu = _weighted_mean(what, d.y, d.p)
    A = _pair_sums(d.y, d.p, d.codes, 1)
    total_p = float(d.p.sum())
    return float(A[0, 0] / (mu * total_p**2))


# ----------------------------------------------------------------------------- Theil


def _theil_parts(y: Array, p: Array, codes: IntArray, k: int, index: TheilIndex,
                 what: str, labels: pd.Index) -> tuple[Array, Array, Array, Array, Array]:
    """Per group: population share π_g, income share s_g, mean μ_g, Theil_g, n_g."""
    P = float(p.sum())
    Pg = np.bincount(codes, weights=p, minlength=k)
    Yg = np.bincount(codes, weights=p * y, minlength=k)
    ng = np.bincount(codes, minlength=k).astype(float)
    mean_g = Yg / Pg
    pi_g = Pg / P
    s_g = Yg / Yg.sum()
    if index == "T":
        zero = np.flatnonzero(Yg <= 0)
        if zero.size:
            raise MetricInputError(t("metrics.ineq.err.group_zero", what=what,
                                     group=labels[int(zero[0])]))
        rel = y / mean_g[codes]
        term = np.where(rel > 0, rel * np.log(np.where(rel > 0, rel, 1.0)), 0.0)
        theil_g = np.bincount(codes, weights=p * term, minlength=k) / Pg
    else:
        theil_g = np.bincount(codes, weights=p * np.log(mean_g[codes] / y), minlength=k) / Pg
    return pi_g, s_g, mean_g, theil_g, ng


def _between(pi_g: Array, s_g: Array, index: TheilIndex) -> Array:
    """Per-group between contributions (``r × k`` or ``k``)."""
    if index == "T":
        safe = np.where(s_g > 0, s_g, 1.0)
        return np.where(s_g > 0, s_g * np.log(safe / pi_g), 0.0)
    return pi_g * np.log(pi_g / s_g)


def _check_index(index: str) -> TheilIndex:
    if index not in ("T", "L"):
        raise MetricInputError(t("metrics.ineq.err.theil_index", value=index))
    return "T" if index == "T" else "L"


def theil(y: ArrayLike, p: ArrayLike | None = None, *, index: TheilIndex = "T",
          dropna: bool = False) -> float:
    """Theil index: T (GE(1)) or L (GE(0), mean log deviation), optionally population-weighted.

    **Formula**: with population shares ``π_i = p_i / P``, income shares
    ``s_i = p_i y_i / Σ p_j y_j`` and ``μ = Σ π_i y_i``:
    ``T = Σ_i s_i ln(s_i / π_i) = Σ_i π_i (y_i/μ) ln(y_i/μ)`` and
    ``L = Σ_i π_i ln(π_i / s_i) = Σ_i π_i ln(μ / y_i)``. Without ``p``, ``π_i = 1/n``.

    **Source**: Theil, *Economics and Information Theory* (1967); Shorrocks (1980),
    *Econometrica* 48, 613–625 (the generalised-entropy family, GE(1) = T, GE(0) = L).
    Unweighted T is PySAL's ``inequality.theil.Theil``.

    **Variant**: T allows zeros (``0 · ln 0 = 0``, the limit; PySAL instead adds the smallest
    positive float to zeros, which gives the same value) but needs ``y ≥ 0`` with a positive
    mean; L takes ``ln y`` and raises :class:`MetricInputError` on any ``y ≤ 0``. All-equal
    values give 0.
    """
    idx = _check_index(index)
    what = f"Theil {idx}"
    d = _prepare(what, y, p, dropna=dropna)
    if idx == "T":
        _check_nonnegative(what, d.y)
    else:
        _check_positive(what, d.y)
    _weighted_mean(what, d.y, d.p)
    _, _, _, theil_g, _ = _theil_parts(d.y, d.p, d.codes, 1, idx, what, d.labels)
    return float(theil_g[0])


@dataclass(frozen=True)
class TheilDecomposition:
    """Result of :func:`theil_decomposition`.

    ``groups`` has one row per group (index: the group labels, sorted) and the columns ``n``
    (units), ``pop_share`` (π_g; ``n_g / n`` when unit-weighted), ``income_share`` (s_g),
    ``mean`` (μ_g, population-weighted when weighted), ``theil`` (the group's own index
    T_g or L_g), ``within`` (its within-group contribution: ``s_g T_g`` for T, ``π_g L_g``
    for L), ``between`` (its term of the between-group sum: ``s_g ln(s_g/π_g)`` for T,
    ``π_g ln(π_g/s_g)`` for L — single terms may be negative, their sum is not) and
    ``within_pct`` / ``between_pct`` (those contributions in % of the total).
    """

    index: TheilIndex
    weighting: Literal["population", "unit"]
    total: float
    between: float
    within: float
    groups: pd.DataFrame
    permutations: int
    p_value: float | None

    @property
    def between_share(self) -> float:
        """Between-group component as a share of the total (0 when the total is 0)."""
        return self.between / self.total if self.total > 0 else 0.0


def theil_decomposition(y: ArrayLike, groups: ArrayLike, p: ArrayLike | None = None, *,
                        index: TheilIndex = "T", permutations: int = 0, seed: Seed = None,
                        dropna: bool = False) -> TheilDecomposition:
    """Theil T or L decomposed into between- and within-group components.

    **Formula** (groups ``g``, population shares ``π_g = Σ_{i∈g} p_i / P``, income shares
    ``s_g = Σ_{i∈g} p_i y_i / Σ_i p_i y_i``):

    - ``T = Σ_g s_g T_g + Σ_g s_g ln(s_g / π_g)`` (within weighted by income shares);
    - ``L = Σ_g π_g L_g + Σ_g π_g ln(π_g / s_g)`` (within weighted by population shares);

    with ``T_g``, ``L_g`` the index over the units of group ``g`` alone (see :func:`theil`).
    Both decompositions are exact: ``total = between + within``.

    **Source**: Shorrocks (1980, 1984); the population-weighted form with income and
    population shares is the one of Chinese regional studies (e.g. 万广华, 《经济发展与收入
    不均等：方法和证据》, 2006; Akita 2003, *Annals of Regional Science* 37, 55–77).

    **Variant**: with ``p`` the decomposition is **population-weighted** (every unit stands
    for ``p_i`` people); without ``p`` it is **unit-weighted** (``π_g = n_g / n``), which for
    T is exactly PySAL's ``inequality.theil.TheilD`` (``bg = Σ_g s_g ln(n s_g / n_g)``).
    PySAL has no population weights: applied to per-capita values of units with unequal
    populations it measures inequality between units, not between people, and its between
    component differs from the weighted one. With ``permutations > 0`` the between component
    gets a pseudo p-value from shuffled group labels (module docstring; PySAL ``TheilDSim``).
    Bad input as in :func:`theil`; a group whose total is 0 raises for T (its ``T_g`` is
    undefined). A one-member group has a within index of 0.
    """
    idx = _check_index(index)
    what = f"Theil {idx}"
    n_perm = _check_permutations(permutations)
    d = _prepare(what, y, p, groups, dropna=dropna)
    if idx == "T":
        _check_nonnegative(what, d.y)
    else:
        _check_positive(what, d.y)
    _weighted_mean(what, d.y, d.p)
    k = len(d.labels)
    pi_g, s_g, mean_g, theil_g, ng = _theil_parts(d.y, d.p, d.codes, k, idx, what, d.labels)
    within_g = (s_g if idx == "T" else pi_g) * theil_g
    between_g = _between(pi_g, s_g, idx)
    between = float(between_g.sum())
    within = float(within_g.sum())
    total = between + within
    pct = 100.0 / total if total > 0 else 0.0
    table = pd.DataFrame({
        "n": ng.astype(int), "pop_share": pi_g, "income_share": s_g, "mean": mean_g,
        "theil": theil_g, "within": within_g, "between": between_g,
        "within_pct": within_g * pct, "between_pct": between_g * pct,
    }, index=d.labels.rename("group"))

    p_value = None
    if n_perm:
        P = float(d.p.sum())
        Ytot = float(np.dot(d.p, d.y))
        null = []
        for chunk in _permuted_codes(d.codes, n_perm, seed):
            pis = _group_sums(chunk, d.p, k) / P
            ss = _group_sums(chunk, d.p * d.y, k) / Ytot
            null.append(_between(pis, ss, idx).sum(axis=1))
        p_value = _p_value(between, np.concatenate(null))
    return TheilDecomposition(idx, "population" if d.weighted else "unit", total, between,
                              within, table, n_perm, p_value)


# ----------------------------------------------------------------------------- Dagum


@dataclass(frozen=True)
class DagumDecomposition:
    """Result of :func:`dagum_decomposition`; groups are ordered by increasing mean.

    - ``gini``: the overall Gini ``G = within + net_between + transvariation``.
    - ``contributions``: the three components in % of ``G`` (index ``within``,
      ``net_between``, ``transvariation``; all 0 when ``G = 0``).
    - ``groups``: per group ``n``, ``pop_share`` (p_j), ``income_share`` (s_j), ``mean``,
      ``gini`` (G_jj) and ``within`` (its contribution ``G_jj p_j s_j``).
    - ``gini_matrix``: ``G_jh`` (symmetric; the diagonal holds ``G_jj``).
    - ``affluence``: ``D_jh = (d_jh − p_jh)/(d_jh + p_jh)``, antisymmetric; the entries with
      ``mean_j ≥ mean_h`` (below the diagonal) are Dagum's ``D_jh ∈ [0, 1]``.
    - ``gross_affluence``: ``d_jh``; the transvariation moment is ``p_jh = d_hj`` (transpose).
      The diagonal applies the same definition within a group (half its mean difference).
    - ``pairs``: one row per pair ``(j, h)`` with ``mean_j ≥ mean_h``: ``gini`` (G_jh),
      ``affluence`` (D_jh), ``weight`` (``p_j s_h + p_h s_j``), ``net_between`` and
      ``transvariation`` (its two contributions) and ``between_pct`` (their sum in % of G).
    - ``permutations`` / ``p_value``: pseudo p-value of ``net_between`` from shuffled labels.
    """

    gini: float
    within: float
    net_between: float
    transvariation: float
    contributions: pd.Series
    groups: pd.DataFrame
    gini_matrix: pd.DataFrame
    affluence: pd.DataFrame
    gross_affluence: pd.DataFrame
    pairs: pd.DataFrame
    weighting: Literal["population", "unit"]
    permutations: int
    p_value: float | None

    @property
    def between(self) -> float:
        """Gross between-group component ``G_b = G_nb + G_t``."""
        return self.net_between + self.transvariation


def dagum_decomposition(y: ArrayLike, groups: ArrayLike, p: ArrayLike | None = None, *,
                        min_group_size: int = 1, permutations: int = 0, seed: Seed = None,
                        dropna: bool = False) -> DagumDecomposition:
    """Dagum's decomposition of the Gini coefficient by groups.

    **Formula** (groups ``j = 1..k`` ordered so that ``ȳ_1 ≤ … ≤ ȳ_k``; ``P_j`` group
    population, ``p_j = P_j / P``, ``s_j = P_j ȳ_j / (P ȳ)``; sums over members ``i ∈ j``,
    ``r ∈ h`` weighted by ``p_i p_r``, all weights 1 without ``p``):

    - ``G_jj = Σ_i Σ_r |y_ji − y_jr| / (2 P_j² ȳ_j)``, ``G_w = Σ_j G_jj p_j s_j``;
    - ``G_jh = Σ_i Σ_r |y_ji − y_hr| / (P_j P_h (ȳ_j + ȳ_h))``;
    - ``d_jh = Σ_i Σ_r max(y_ji − y_hr, 0) / (P_j P_h)`` (gross economic affluence),
      ``p_jh = Σ_i Σ_r max(y_hr − y_ji, 0) / (P_j P_h)`` (first-order transvariation moment),
      ``D_jh = (d_jh − p_jh) / (d_jh + p_jh)`` (relative economic affluence, 0 when
      ``d_jh + p_jh = 0``);
    - ``G_nb = Σ_{j=2..k} Σ_{h<j} G_jh (p_j s_h + p_h s_j) D_jh`` (net between),
      ``G_t = Σ_{j=2..k} Σ_{h<j} G_jh (p_j s_h + p_h s_j)(1 − D_jh)`` (transvariation);
    - ``G = G_w + G_nb + G_t`` equals the overall Gini of :func:`gini`.

    All pairwise sums come from one sort (O(n log n + n k), see ``_pair_sums``), not from the
    O(n²) double loop. Since ``d_jh − p_jh = ȳ_j − ȳ_h``, ``G_nb`` is the Gini of the group
    means weighted by group populations.

    **Source**: Dagum, C. (1997), "A new approach to the decomposition of the Gini income
    inequality ratio", *Empirical Economics* 22, 515–531; the grouping and notation of the
    Chinese regional literature (e.g. 刘华军、赵浩、杨骞 2012, 《数量经济技术经济研究》).

    **Variant**: unweighted (each unit counts once, as in most applications to provinces or
    cities) or, with ``p``, population-weighted (every sum weighted by ``p_i p_r``, shares
    from group populations); both satisfy the identity exactly. Values must be ``≥ 0``, and
    every group must have a positive mean. A **one-member group** has ``G_jj = 0`` (no
    within-group dispersion) and still enters the between-group terms; pass
    ``min_group_size=2`` (or more) to raise :class:`MetricInputError` instead. At least two
    groups are required. All-equal values give every component 0 (contributions reported
    as 0). With ``permutations > 0``, ``p_value`` tests ``G_nb`` (equivalently its share of
    ``G``, which shuffling leaves unchanged) against shuffled labels.
    """
    what = "Dagum"
    n_perm = _check_permutations(permutations)
    if isinstance(min_group_size, bool) or int(min_group_size) != min_group_size \
            or min_group_size < 1:
        raise MetricInputError(t("metrics.ineq.err.min_group_size", value=min_group_size))
    d = _prepare(what, y, p, groups, dropna=dropna)
    _check_nonnegative(what, d.y)
    mu = _weighted_mean(what, d.y, d.p)
    k0 = len(d.labels)
    if k0 < 2:
        raise MetricInputError(t("metrics.ineq.err.one_group", what=what, k=k0))
    ng0 = np.bincount(d.codes, minlength=k0)
    small = np.flatnonzero(ng0 < min_group_size)
    if small.size:
        j = int(small[0])
        raise MetricInputError(t("metrics.ineq.err.group_small", what=what,
                                 group=d.labels[j], size=int(ng0[j]),
                                 need=int(min_group_size)))
    Pg0 = np.bincount(d.codes, weights=d.p, minlength=k0)
    mean0 = np.bincount(d.codes, weights=d.p * d.y, minlength=k0) / Pg0
    zero = np.flatnonzero(mean0 <= 0)
    if zero.size:
        raise MetricInputError(t("metrics.ineq.err.group_mean_zero", what=what,
                                 group=d.labels[int(zero[0])]))

    # order groups by increasing mean (ties: label order), as Dagum requires
    rank = np.lexsort((np.arange(k0), mean0))
    new_code = np.empty(k0, dtype=np.intp)
    new_code[rank] = np.arange(k0)
    codes = new_code[d.codes]
    labels = d.labels[rank].rename("group")
    k = k0
    Pg, mean_g, ng = Pg0[rank], mean0[rank], ng0[rank]

    A = _pair_sums(d.y, d.p, codes, k)
    P = float(d.p.sum())
    pj = Pg / P
    sj = Pg * mean_g / (P * mu)
    S = A + A.T                                   # Σ Σ p p |y − y| between j and h (j ≠ h)
    denom = np.outer(Pg, Pg) * (mean_g[:, None] + mean_g[None, :])
    G = S / denom
    np.fill_diagonal(G, np.diag(A) / (Pg**2 * mean_g))
    dmat = A / np.outer(Pg, Pg)                   # d_jh
    with np.errstate(invalid="ignore", divide="ignore"):
        D = np.where(S > 0, (A - A.T) / np.where(S > 0, S, 1.0), 0.0)
    np.fill_diagonal(D, 0.0)
    weight = np.outer(pj, sj) + np.outer(sj, pj)  # p_j s_h + p_h s_j

    g_w = float(np.sum(np.diag(G) * pj * sj))
    low = np.tril_indices(k, -1)                  # (j, h) with j > h, mean_j ≥ mean_h
    nb_pair = G[low] * weight[low] * D[low]
    t_pair = G[low] * weight[low] * (1.0 - D[low])
    g_nb = float(nb_pair.sum())
    g_t = float(t_pair.sum())
    total = g_w + g_nb + g_t
    pct = 100.0 / total if total > 0 else 0.0

    p_value = None
    if n_perm:
        null = []
        for chunk in _permuted_codes(codes, n_perm, seed):
            Pp = _group_sums(chunk, d.p, k)
            Mp = _group_sums(chunk, d.p * (d.y - mu), k) / Pp     # centred group means
            diff = np.abs(Mp[:, :, None] - Mp[:, None, :])
            null.append(np.einsum("rj,rh,rjh->r", Pp, Pp, diff) / (2.0 * P**2 * mu))
        p_value = _p_value(g_nb, np.concatenate(null))

    def frame(m: Array) -> pd.DataFrame:
        return pd.DataFrame(m, index=labels, columns=labels.rename(None))

    pairs = pd.DataFrame({
        "group_j": labels[low[0]], "group_h": labels[low[1]],
        "gini": G[low], "affluence": D[low], "weight": weight[low],
        "net_between": nb_pair, "transvariation": t_pair,
        "between_pct": (nb_pair + t_pair) * pct,
    })
    group_table = pd.DataFrame({
        "n": ng.astype(int), "pop_share": pj, "income_share": sj, "mean": mean_g,
        "gini": np.diag(G).copy(), "within": np.diag(G) * pj * sj,
    }, index=labels)
    contributions = pd.Series({"within": g_w * pct, "net_between": g_nb * pct,
                               "transvariation": g_t * pct}, name="pct")
    return DagumDecomposition(total, g_w, g_nb, g_t, contributions, group_table, frame(G),
                              frame(D), frame(dmat), pairs,
                              "population" if d.weighted else "unit", n_perm, p_value)


# ----------------------------------------------------------------------------- CV, Atkinson


def coefficient_of_variation(y: ArrayLike, *, ddof: int = 0, dropna: bool = False) -> float:
    """Coefficient of variation ``CV = s / ȳ`` (unweighted).

    **Formula**: ``s = √(Σ (y_i − ȳ)² / (n − ddof))``, ``ȳ = Σ y_i / n``.

    **Source**: the dispersion measure of σ-convergence studies (Barro & Sala-i-Martin,
    *Economic Growth*, 2nd ed. 2004, §11.1) and of Chinese regional-disparity reports.

    **Variant**: ``ddof=0`` (population standard deviation, default, the convention of
    inequality measurement) or ``ddof=1`` (sample). Needs a positive mean (a CV of a variable
    with mean ≤ 0 is meaningless); all-equal values give 0.
    """
    what = "CV"
    d = _prepare(what, y, dropna=dropna)
    if ddof not in (0, 1):
        raise MetricInputError(t("metrics.ineq.err.ddof", value=ddof))
    if d.y.size - ddof <= 0:
        raise MetricInputError(t("metrics.ineq.err.too_few", what=what, need=ddof + 1,
                                 got=d.y.size))
    mean = float(d.y.mean())
    if mean <= 0:
        raise MetricInputError(t("metrics.ineq.err.mean", what=what, mean=mean))
    return float(d.y.std(ddof=ddof) / mean)


def williamson_cv(y: ArrayLike, p: ArrayLike, *, dropna: bool = False) -> float:
    """Williamson's population-weighted coefficient of variation.

    **Formula**: ``V_w = √(Σ_i (y_i − ȳ)² p_i / P) / ȳ`` with ``P = Σ p_i`` and ``ȳ`` the
    population-weighted mean ``Σ p_i y_i / P`` (the national per-capita value when ``y`` is
    per-capita income of regions and ``p`` their populations).

    **Source**: Williamson, J. G. (1965), "Regional inequality and the process of national
    development", *Economic Development and Cultural Change* 13(4), 1–84.

    **Variant**: ``ȳ`` is the weighted mean (Williamson's definition), not the unweighted mean
    of the regions. Equals the unweighted CV (``ddof=0``) of the data with unit ``i``
    repeated ``p_i`` times. Needs a positive mean; all-equal values give 0.
    """
    what = "Williamson CV"
    d = _prepare(what, y, p, dropna=dropna)
    mean = _weighted_mean(what, d.y, d.p)
    var = float(np.dot(d.p, (d.y - mean) ** 2) / d.p.sum())
    return float(np.sqrt(var) / mean)


def atkinson(y: ArrayLike, epsilon: float = 0.5, p: ArrayLike | None = None, *,
             dropna: bool = False) -> float:
    """Atkinson index with inequality aversion ``ε ≥ 0``.

    **Formula**: ``A_ε = 1 − y_EDE / μ`` with the equally-distributed-equivalent
    ``y_EDE = (Σ π_i y_i^{1−ε})^{1/(1−ε)}`` for ``ε ≠ 1`` and the geometric mean
    ``y_EDE = exp(Σ π_i ln y_i)`` for ``ε = 1``; ``π_i = p_i / P`` (``1/n`` unweighted).

    **Source**: Atkinson, A. B. (1970), "On the measurement of inequality", *Journal of
    Economic Theory* 2, 244–263. Unweighted, identical to PySAL ``inequality.atkinson``.

    **Variant**: ``ε = 0`` gives 0. For ``0 < ε < 1`` zeros are allowed (``y ≥ 0``); for
    ``ε ≥ 1`` (logarithm or negative powers) every ``y`` must be ``> 0``, else
    :class:`MetricInputError` — PySAL rejects zeros for every ``ε``. ``A_1 = 1 − exp(−L)``
    with ``L`` Theil's L.
    """
    what = "Atkinson"
    eps = float(epsilon)
    if not np.isfinite(eps) or eps < 0:
        raise MetricInputError(t("metrics.ineq.err.epsilon", epsilon=epsilon))
    d = _prepare(what, y, p, dropna=dropna)
    if eps >= 1:
        _check_positive(what, d.y)
    else:
        _check_nonnegative(what, d.y)
    mu = _weighted_mean(what, d.y, d.p)
    pi = d.p / d.p.sum()
    if eps == 0:
        return 0.0
    if eps == 1:
        ede = float(np.exp(np.dot(pi, np.log(d.y / mu)))) * mu
    else:
        ede = float(np.dot(pi, (d.y / mu) ** (1.0 - eps)) ** (1.0 / (1.0 - eps))) * mu
    return float(1.0 - ede / mu)


# ----------------------------------------------------------------------------- gaps


def gap_ratio(a: ArrayLike | pd.Series, b: ArrayLike | pd.Series, *, kind: GapKind = "ratio",
              dropna: bool = False) -> pd.Series | Array:
    """Gap between two series, e.g. urban and rural income per capita (城乡收入比).

    **Formula**: ``kind="ratio"``: ``a / b`` (the urban–rural income ratio when ``a`` is urban
    and ``b`` rural income); ``"difference"``: ``a − b``; ``"relative"``: ``(a − b) / b``;
    ``"log_ratio"``: ``ln(a / b)``.

    **Source**: the urban–rural income ratio of the National Bureau of Statistics of China
    (城镇居民人均可支配收入 ÷ 农村居民人均可支配收入); Kanbur & Zhang (2005), *Review of
    Development Economics* 9, 87–106, for the log-ratio.

    **Variant**: pandas Series are aligned on their index (the indices must hold the same
    labels) and a Series is returned; arrays must have equal length and an array is returned.
    ``ratio``, ``relative`` and ``log_ratio`` need ``b > 0``; ``log_ratio`` also ``a > 0``.
    Missing values raise unless ``dropna=True`` (which drops the pairs with a missing side).
    """
    what = "gap ratio"
    if kind not in ("ratio", "difference", "relative", "log_ratio"):
        raise MetricInputError(t("metrics.ineq.err.gap_kind", value=kind))
    index = None
    if isinstance(a, pd.Series) and isinstance(b, pd.Series):
        if set(a.index) != set(b.index) or a.index.has_duplicates:
            raise MetricInputError(t("metrics.ineq.err.gap_align"))
        index = a.index
        av = _floats(a.to_numpy(), "a", what)
        bv = _floats(b.reindex(index).to_numpy(), "b", what)
    else:
        av = _floats(_vector(a, "a", what, None), "a", what)
        bv = _floats(_vector(b, "b", what, av.shape[0]), "b", what)
    miss = np.isnan(av) | np.isnan(bv)
    if miss.any():
        if not dropna:
            raise MetricInputError(t("metrics.ineq.err.nan", what=what,
                                     name="a" if np.isnan(av).any() else "b",
                                     count=int(miss.sum())))
        av, bv = av[~miss], bv[~miss]
        index = None if index is None else index[~miss]
    if not (np.all(np.isfinite(av)) and np.all(np.isfinite(bv))):
        raise MetricInputError(t("metrics.ineq.err.infinite", what=what, name="a, b"))
    if kind != "difference" and np.any(bv <= 0):
        raise MetricInputError(t("metrics.ineq.err.nonpositive", what=what,
                                 count=int((bv <= 0).sum()), lowest=float(bv.min())))
    if kind == "log_ratio" and np.any(av <= 0):
        raise MetricInputError(t("metrics.ineq.err.nonpositive", what=what,
                                 count=int((av <= 0).sum()), lowest=float(av.min())))
    if kind == "ratio":
        out = av / bv
    elif kind == "difference":
        out = av - bv
    elif kind == "relative":
        out = (av - bv) / bv
    else:
        out = np.log(av / bv)
    return out if index is None else pd.Series(out, index=index, name=kind)
