"""Accessibility measures on a sparse origin–destination cost matrix.

Inputs shared by every measure
------------------------------
- ``cost``: a ``scipy.sparse`` CSR matrix (``csr_matrix`` or ``csr_array``), demand × supply,
  or — for every measure but :func:`fca_ratio` — a tiled matrix on disk
  (:class:`cocity.access.od_tiles.TiledOD`, for matrices larger than memory). A stored
  entry ``c_ij`` is a reachable pair with its travel cost (a stored 0 is "here", a facility
  at the demand point); an absent entry is "not reachable". Costs must be finite and
  ``≥ 0`` and a pair may be stored once; otherwise :class:`AccessInputError`. Other sparse
  formats are refused rather than converted, because converting COO/CSC to CSR *adds* the
  costs of duplicate pairs.
- ``demand`` ``P`` (``n_demand``): population or another weight, finite and ``≥ 0``.
- ``supply`` ``S``: capacities, finite and ``≥ 0``; a 1-D array or Series (``n_supply``) gives a
  Series, a 2-D array or DataFrame (``n_supply × m``, one column per kind of supply: doctors,
  beds, …) gives a DataFrame with the same columns.
- ``cutoff`` ``d0``: a pair is *in reach* when ``c_ij ≤ d0`` (closed, as PySAL ``access``'s
  ``max_cost``). ``d0 ≥ 0``; ``+inf`` keeps every stored pair. ``d0 = 0`` is allowed and keeps
  only the co-located pairs (stored zeros); decays with a scale of their own (linear, Gaussian,
  Epanechnikov) refuse a zero scale.
- ``decay``: a vectorised callable ``f(d) -> weights`` (:mod:`cocity.access.decay`), applied to
  the costs in reach; its weights must be finite and ``≥ 0``.
- Ids: values are taken by position (row ``i`` of ``cost`` is ``P[i]``); results are indexed by
  ``demand_ids`` / ``supply_ids`` when given, else by the index of a Series/DataFrame input, else
  by positions ``0 … n−1``. Ids must be unique.

Everything is computed on the CSR arrays (``data``, ``indices``, ``indptr``) and sparse
matrix–vector products: no Python loop over points.

Tile by tile
------------
Every measure reads the cost matrix as blocks of rows: a matrix in memory is one block, a
:class:`~cocity.access.od_tiles.TiledOD` one block per tile, read, validated (same checks and
messages) and dropped in turn, so memory holds one tile. Gravity, cumulative opportunities,
nearest-k and step 2 of the 2SFCA family are row-local; 3SFCA's selection weights ``G_ij`` are
normalised within a row, so they fit in a block too; step 1's ``Σ_k P_k w_kj`` runs over the
rows and is accumulated over the blocks in the summation order of scipy's sparse product
(:func:`_floating`), so tiled and in-memory results are the same to the bit. The 2SFCA family
reads the tiles twice.

Results of the 2SFCA family (:class:`CatchmentResult`)
------------------------------------------------------
- A supply point with no demand point in reach (a *disconnected facility*) has no provider-to-
  population ratio ``R_j``: it is excluded (contributes nothing), its ``ratio`` is ``NaN`` and
  its id is listed in ``unreached``.
- A supply point in reach of demand whose weighted demand ``Σ_k P_k w_kj`` is 0 (every demand
  point in reach has ``P = 0`` or weight 0) is treated the same way and listed in
  ``zero_demand``. (PySAL ``access`` divides by zero there and returns ``inf``/``NaN``.)
- A demand point with no supply in reach gets ``A_i = 0`` (PySAL ``access`` leaves it out, so
  it appears as ``NaN`` in its ``access_df``). ``access`` is never ``NaN``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from cocity.access import decay as _decay
from cocity.access.errors import AccessInputError
from cocity.i18n import t

if TYPE_CHECKING:
    from cocity.access.od_tiles import TiledOD

Array = NDArray[np.float64]
Ids = Sequence[Hashable] | pd.Index | None
Supply = ArrayLike | pd.Series | pd.DataFrame


@dataclass(frozen=True)
class CatchmentResult:
    """The result of a floating-catchment (2SFCA family) measure.

    - ``access``: ``A_i`` per demand point (Series, or DataFrame for several supply columns);
      0 where no supply is in reach, never ``NaN``.
    - ``ratio``: ``R_j`` per supply point (supply-to-weighted-demand ratio of step 1); ``NaN``
      for the supply points listed in ``unreached`` and ``zero_demand``.
    - ``catchment_demand``: the denominator of ``R_j``, ``Σ_k P_k w_kj`` (Series by supply id).
    - ``unreached``: ids of supply points that no demand point reaches within the cutoff.
    - ``zero_demand``: ids of supply points in reach of demand points whose weighted demand is 0.
    """

    access: pd.Series | pd.DataFrame
    ratio: pd.Series | pd.DataFrame
    catchment_demand: pd.Series
    unreached: list[Hashable]
    zero_demand: list[Hashable]


# ----------------------------------------------------------------------------- input checks

_WHAT = {"demand": "access.m.what.demand", "supply": "access.m.what.supply",
         "weights": "access.m.what.weights"}


@dataclass(frozen=True)
class _OD:
    """A validated block of the cost matrix: CSR arrays with float64 costs; its rows are rows
    ``start … start + n_demand − 1`` of the whole matrix."""

    data: Array
    indices: NDArray[np.int_]
    indptr: NDArray[np.int_]
    n_demand: int
    n_supply: int
    start: int = 0

    def rows(self) -> NDArray[np.intp]:
        """The block's row (local, from 0) of every stored pair."""
        return np.repeat(np.arange(self.n_demand), np.diff(self.indptr))

    def span(self) -> slice:
        """The block's rows in the whole matrix."""
        return slice(self.start, self.start + self.n_demand)

    def matrix(self, values: Array) -> sparse.csr_matrix:
        """A CSR matrix with this pattern and ``values`` as entries (explicit zeros kept)."""
        return sparse.csr_matrix((values, self.indices, self.indptr),
                                 shape=(self.n_demand, self.n_supply))


def _od(cost: Any, method: str, start: int = 0) -> _OD:
    if not (sparse.issparse(cost) and cost.format == "csr"):
        raise AccessInputError(t("access.m.err.not_csr", method=method,
                                 got=getattr(cost, "format", type(cost).__name__)))
    if cost.ndim != 2:
        raise AccessInputError(t("access.m.err.not_csr", method=method, got=f"{cost.ndim}-D"))
    data = np.asarray(cost.data, dtype=np.float64)
    nonfinite = ~np.isfinite(data)
    if nonfinite.any():
        raise AccessInputError(t("access.m.err.cost_nonfinite", method=method,
                                 count=int(nonfinite.sum())))
    negative = data < 0
    if negative.any():
        raise AccessInputError(t("access.m.err.cost_negative", method=method,
                                 count=int(negative.sum()), lowest=float(data.min())))
    n_d, n_s = (int(x) for x in cost.shape)
    indices, indptr = np.asarray(cost.indices), np.asarray(cost.indptr)
    if not cost.has_canonical_format:
        # Unsorted or duplicated column indices within a row: duplicates are ambiguous (two
        # costs for one pair), unsorted rows are fine.
        rows = np.repeat(np.arange(n_d), np.diff(indptr))
        order = np.lexsort((indices, rows))
        same = (np.diff(indices[order]) == 0) & (np.diff(rows[order]) == 0)
        if same.any():
            raise AccessInputError(t("access.m.err.duplicates", method=method,
                                     count=int(same.sum())))
    return _OD(data, indices, indptr, n_d, n_s, start)


@dataclass(frozen=True)
class _Costs:
    """The cost matrix as blocks of rows: one block for a matrix in memory (validated at
    once), one per tile for a :class:`~cocity.access.od_tiles.TiledOD` (each tile validated,
    with the same messages, when it is read)."""

    n_demand: int
    n_supply: int
    single: _OD | None
    tiled: TiledOD | None
    method: str

    def blocks(self) -> Iterator[_OD]:
        if self.single is not None:
            yield self.single
            return
        assert self.tiled is not None
        for start, block in self.tiled.blocks():
            yield _od(block, self.method, start)


def _costs(cost: Any, method: str) -> _Costs:
    if not sparse.issparse(cost):
        from cocity.access.od_tiles import TiledOD  # pyarrow only when tiles are used

        if isinstance(cost, TiledOD):
            n_d, n_s = cost.shape
            return _Costs(n_d, n_s, None, cost, method)
    od = _od(cost, method)
    return _Costs(od.n_demand, od.n_supply, od, None, method)


def _ids(given: Ids, inferred: pd.Index | None, n: int, what: str, method: str) -> pd.Index:
    if given is not None:
        index = pd.Index(given)
    elif inferred is not None:
        index = inferred
    else:
        return pd.RangeIndex(n)
    if len(index) != n:
        raise AccessInputError(t("access.m.err.ids_length", method=method,
                                 what=t(_WHAT[what]), got=len(index), n=n))
    if not index.is_unique:
        dup = index[index.duplicated()].unique()[:5].tolist()
        raise AccessInputError(t("access.m.err.ids_duplicate", method=method,
                                 what=t(_WHAT[what]), ids=dup))
    return index


def _weights_vector(values: ArrayLike | pd.Series, n: int, what: str,
                    method: str) -> tuple[Array, pd.Index | None]:
    index = values.index if isinstance(values, pd.Series) else None
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise AccessInputError(t("access.m.err.values_shape", method=method,
                                 what=t(_WHAT[what]), shape=arr.shape, n=n))
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        raise AccessInputError(t("access.m.err.values_invalid", method=method,
                                 what=t(_WHAT[what]), count=int(bad.sum())))
    return arr, index


def _supply(values: Supply, n: int, method: str
            ) -> tuple[Array, pd.Index | None, pd.Index | None]:
    """Supply as ``(n,)`` or ``(n, m)``, with the index and columns of a pandas input."""
    index = values.index if isinstance(values, pd.Series | pd.DataFrame) else None
    columns: pd.Index | None = values.columns if isinstance(values, pd.DataFrame) else None
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim not in (1, 2) or arr.shape[0] != n:
        raise AccessInputError(t("access.m.err.values_shape", method=method,
                                 what=t(_WHAT["supply"]), shape=arr.shape, n=n))
    if arr.ndim == 2 and columns is None:
        columns = pd.RangeIndex(arr.shape[1])
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        raise AccessInputError(t("access.m.err.values_invalid", method=method,
                                 what=t(_WHAT["supply"]), count=int(bad.sum())))
    return arr, index, columns


def _cutoff(value: float, method: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise AccessInputError(t("access.m.err.cutoff", method=method, value=value)) from None
    if not v >= 0:  # rejects negatives and NaN; +inf allowed
        raise AccessInputError(t("access.m.err.cutoff", method=method, value=value))
    return v


def _decay_weights(od: _OD, in_reach: NDArray[np.bool_], decay: _decay.DecayFunction | None,
                   method: str) -> Array:
    """``f(c_ij)`` for the pairs in reach, 0 for the others (kept as explicit zeros)."""
    if decay is None:
        return in_reach.astype(np.float64)
    w = np.zeros_like(od.data)
    if in_reach.all():
        vals = np.asarray(decay(od.data), dtype=np.float64)
        target = od.data
    else:
        target = od.data[in_reach]
        vals = np.asarray(decay(target), dtype=np.float64)
    if vals.shape != target.shape:
        raise AccessInputError(t("access.m.err.decay_shape", method=method,
                                 got=vals.shape, expected=target.shape))
    bad = ~np.isfinite(vals) | (vals < 0)
    if bad.any():
        raise AccessInputError(t("access.m.err.decay_output", method=method,
                                 count=int(bad.sum())))
    if in_reach.all():
        return vals
    w[in_reach] = vals
    return w


def _frame(values: Array, index: pd.Index, columns: pd.Index | None,
           name: str) -> pd.Series | pd.DataFrame:
    if values.ndim == 1:
        return pd.Series(values, index=index, name=name)
    return pd.DataFrame(values, index=index, columns=columns)


# ----------------------------------------------------------------------------- simple sums


def gravity(cost: Any, supply: Supply, *, decay: _decay.DecayFunction,
            cutoff: float = float("inf"), demand_ids: Ids = None, supply_ids: Ids = None,
            name: str = "gravity") -> pd.Series | pd.DataFrame:
    """Gravity (Hansen) accessibility: supply in reach, weighted by a distance decay.

    **Formula**: ``A_i = Σ_{j: c_ij ≤ d0} S_j f(c_ij)``.

    **Source**: Hansen (1959), "How accessibility shapes land use", *Journal of the American
    Institute of Planners* 25(2): 73–76. PySAL ``access``: ``Access.weighted_catchment`` with
    ``weight_fn`` and ``max_cost``.

    **Variant**: ``cutoff`` defaults to ``+inf`` (every stored pair; the matrix itself is
    usually bounded by the search cutoff of the kernel). Demand with no supply in reach gets 0.
    """
    costs = _costs(cost, name)
    d0 = _cutoff(cutoff, name)
    s, s_index, columns = _supply(supply, costs.n_supply, name)
    _ids(supply_ids, s_index, costs.n_supply, "supply", name)
    d_index = _ids(demand_ids, None, costs.n_demand, "demand", name)
    out = np.zeros((costs.n_demand, *s.shape[1:]))
    for od in costs.blocks():   # row-local: each block gives its own rows
        w = _decay_weights(od, od.data <= d0, decay, name)
        out[od.span()] = od.matrix(w) @ s
    return _frame(out, d_index, columns, name)


def cumulative_opportunities(cost: Any, supply: Supply, *, cutoff: float,
                             demand_ids: Ids = None, supply_ids: Ids = None,
                             name: str = "cumulative") -> pd.Series | pd.DataFrame:
    """Cumulative opportunities: the supply within the cutoff.

    **Formula**: ``A_i = Σ_j S_j [c_ij ≤ d0]`` (with ``S_j = 1``: the number of facilities).

    **Source**: Wachs & Kumagai (1973), *Socio-Economic Planning Sciences* 7(5): 437–456.
    PySAL ``access``: ``Access.weighted_catchment`` with ``max_cost`` and no ``weight_fn``.

    **Variant**: the catchment is closed (``c_ij = d0`` counts); ``d0 = 0`` counts co-located
    supply only. Demand with no supply in reach gets 0.
    """
    d0 = _cutoff(cutoff, name)
    return gravity(cost, supply, decay=_decay.get("binary", d0=d0), cutoff=d0,
                   demand_ids=demand_ids, supply_ids=supply_ids, name=name)


def nearest_k(cost: Any, *, k: int = 1, how: str = "kth", supply: ArrayLike | None = None,
              cutoff: float = float("inf"), demand_ids: Ids = None,
              name: str | None = None) -> pd.Series:
    """Travel cost to the ``k``-th nearest supply point, or mean cost to the ``k`` nearest.

    **Formula**: with ``c_i(1) ≤ c_i(2) ≤ …`` the sorted costs of the supply points in reach of
    ``i``: ``how="kth"``: ``A_i = c_i(k)``; ``how="mean"``: ``A_i = (1/k) Σ_{r ≤ k} c_i(r)``.

    **Source**: minimum distance to the nearest facility and mean distance to the ``k``
    nearest, as compared in Talen & Anselin (1998), *Environment and Planning A* 30(4):
    595–613, and Apparicio et al. (2008), *International Journal of Health Geographics* 7: 7.

    **Variant**: only stored pairs within ``cutoff`` count; with ``supply`` given, only supply
    points with ``S_j > 0`` count. Fewer than ``k`` supply points in reach → ``+inf`` (farther
    than the matrix reaches; no ``NaN``). Lower is better, unlike the other measures.
    """
    label = name or f"nearest_{how}_{k}"
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise AccessInputError(t("access.m.err.k", value=k))
    if how not in ("kth", "mean"):
        raise AccessInputError(t("access.m.err.how", value=how))
    costs = _costs(cost, label)
    d0 = _cutoff(cutoff, label)
    d_index = _ids(demand_ids, None, costs.n_demand, "demand", label)
    s = None if supply is None else _weights_vector(supply, costs.n_supply, "supply", label)[0]
    out = np.full(costs.n_demand, np.inf)
    for od in costs.blocks():   # row-local: each block gives its own rows
        out[od.span()] = _nearest_block(od, d0, s, k, how)
    return pd.Series(out, index=d_index, name=label)


def _nearest_block(od: _OD, d0: float, s: Array | None, k: int, how: str) -> Array:
    keep = od.data <= d0
    if s is not None:
        keep &= s[od.indices] > 0
    rows = od.rows()[keep]
    data = od.data[keep]
    # Sort by cost, then (stably) by row: entries of each row are contiguous and ascending.
    order = np.argsort(data, kind="stable")
    order = order[np.argsort(rows[order], kind="stable")]
    data, rows = data[order], rows[order]
    counts = np.bincount(rows, minlength=od.n_demand)
    start = np.cumsum(counts) - counts
    enough = counts >= k
    out = np.full(od.n_demand, np.inf)
    if how == "kth":
        out[enough] = data[start[enough] + k - 1]
    else:
        rank = np.arange(data.size) - start[rows]
        first = rank < k
        sums = np.bincount(rows[first], weights=data[first], minlength=od.n_demand)
        out[enough] = sums[enough] / k
    return out


def fca_ratio(cost: Any, demand_cost: Any, demand: ArrayLike | pd.Series, supply: Supply,
              *, cutoff: float, decay: _decay.DecayFunction | None = None,
              demand_ids: Ids = None, supply_ids: Ids = None,
              name: str = "fca") -> pd.Series | pd.DataFrame:
    """Floating catchment area ratio: supply over demand within one catchment around ``i``.

    **Formula**: ``A_i = Σ_{j: c_ij ≤ d0} S_j f(c_ij) / Σ_{k: e_ik ≤ d0} P_k f(e_ik)``, with
    ``c`` the demand × supply costs and ``e`` the demand × demand costs (``demand_cost``);
    ``f ≡ 1`` by default.

    **Source**: Luo (2004), "Using GIS-based floating catchment area method to assess areas
    with shortage of physicians", *Health & Place* 10(1): 1–11. PySAL ``access``:
    ``Access.fca_ratio`` (``neighbor_cost_df`` = ``demand_cost``).

    **Variant**: a demand point counts its own demand only if ``demand_cost`` stores the pair
    ``(i, i)`` (a stored 0). No supply in reach → 0; supply in reach but no demand in the
    catchment → ``NaN`` (the ratio is undefined; PySAL ``access`` gives ``inf``).
    """
    od = _od(cost, name)
    dd = _od(demand_cost, name)
    if (dd.n_demand, dd.n_supply) != (od.n_demand, od.n_demand):
        raise AccessInputError(t("access.m.err.demand_cost_shape", method=name,
                                 shape=(dd.n_demand, dd.n_supply), n=od.n_demand))
    d0 = _cutoff(cutoff, name)
    p, p_index = _weights_vector(demand, od.n_demand, "demand", name)
    s, s_index, columns = _supply(supply, od.n_supply, name)
    _ids(supply_ids, s_index, od.n_supply, "supply", name)
    d_index = _ids(demand_ids, p_index, od.n_demand, "demand", name)
    supply_sum = od.matrix(_decay_weights(od, od.data <= d0, decay, name)) @ s
    demand_sum = dd.matrix(_decay_weights(dd, dd.data <= d0, decay, name)) @ p
    den = demand_sum if s.ndim == 1 else demand_sum[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den > 0, supply_sum / np.where(den > 0, den, 1.0),
                         np.where(supply_sum > 0, np.nan, 0.0))
    return _frame(ratio, d_index, columns, name)


# ----------------------------------------------------------------------------- 2SFCA family


Weigh = Callable[[_OD], tuple[Array, NDArray[np.bool_]]]


def _floating(costs: _Costs, p: Array, s: Array, weigh: Weigh, d_index: pd.Index,
              s_index: pd.Index, columns: pd.Index | None, name: str) -> CatchmentResult:
    """Both steps, block by block, with per-pair weights ``weigh(block) -> (w, in_reach)``
    (``w`` 0 outside the catchment).

    Pass 1 accumulates ``Σ_k P_k w_kj``: for a matrix in memory (one block, weighed once) by
    the sparse product ``Wᵀ P``; over tiles by
    :func:`~cocity.access.od_tiles.add_column_sums`, which adds the pairs in the order of that
    product (scipy's ``csc_matvec``), so the sums are the same to the bit however the rows are
    cut into tiles. Pass 2 (``A_i = Σ_j w_ij R_j``) is row-local.
    """
    demand_at = np.zeros(costs.n_supply)                       # Σ_k P_k w_kj
    reached = np.zeros(costs.n_supply, dtype=bool)
    kept: Array | None = None
    for od in costs.blocks():
        w, in_reach = weigh(od)
        if costs.single is not None:
            kept = w
            demand_at = od.matrix(w).T @ p
        else:
            from cocity.access.od_tiles import add_column_sums

            add_column_sums(demand_at, od, w, p[od.span()])
        reached[od.indices[in_reach]] = True
    defined = demand_at > 0
    den = demand_at if s.ndim == 1 else demand_at[:, None]
    mask = defined if s.ndim == 1 else defined[:, None]
    ratio = np.divide(s, den, out=np.zeros_like(s), where=mask)   # R_j, 0 when undefined
    access = np.zeros((costs.n_demand, *s.shape[1:]))
    for od in costs.blocks():
        w = kept if kept is not None else weigh(od)[0]
        access[od.span()] = od.matrix(w) @ ratio               # Σ_j w_ij R_j
    ratio_out = np.where(mask, ratio, np.nan)
    return CatchmentResult(
        access=_frame(access, d_index, columns, name),
        ratio=_frame(ratio_out, s_index, columns, name),
        catchment_demand=pd.Series(demand_at, index=s_index, name="catchment_demand"),
        unreached=s_index[~reached].tolist(),
        zero_demand=s_index[reached & ~defined].tolist(),
    )


def _prepare(cost: Any, demand: ArrayLike | pd.Series, supply: Supply, cutoff: float,
             demand_ids: Ids, supply_ids: Ids, name: str
             ) -> tuple[_Costs, float, Array, Array, pd.Index, pd.Index, pd.Index | None]:
    costs = _costs(cost, name)
    d0 = _cutoff(cutoff, name)
    p, p_index = _weights_vector(demand, costs.n_demand, "demand", name)
    s, s_index, columns = _supply(supply, costs.n_supply, name)
    d_idx = _ids(demand_ids, p_index, costs.n_demand, "demand", name)
    s_idx = _ids(supply_ids, s_index, costs.n_supply, "supply", name)
    return costs, d0, p, s, d_idx, s_idx, columns


def two_step_fca(cost: Any, demand: ArrayLike | pd.Series, supply: Supply, *, cutoff: float,
                 decay: _decay.DecayFunction | None = None, demand_ids: Ids = None,
                 supply_ids: Ids = None, name: str = "2sfca") -> CatchmentResult:
    """Two-step floating catchment area (2SFCA), with any distance decay.

    **Formula**: step 1, for each supply point, the ratio of its capacity to the demand in its
    catchment, ``R_j = S_j / Σ_{k: c_kj ≤ d0} P_k f(c_kj)``; step 2, for each demand point, the
    sum of the ratios in its catchment, ``A_i = Σ_{j: c_ij ≤ d0} f(c_ij) R_j``. With
    ``decay=None`` (``f ≡ 1``) this is the original 2SFCA; with a decay it is the generalised
    2SFCA.

    **Source**: Luo & Wang (2003), "Measures of spatial accessibility to health care in a GIS
    environment: synthesis and a case study in the Chicago region", *Environment and Planning
    B* 30(6): 865–884; generalised form: Wang (2012), *Annals of the AAG* 102(5): 1104–1112.
    PySAL ``access``: ``Access.two_stage_fca`` (``weight_fn``, ``max_cost``).

    **Variant**: see the module docstring for disconnected facilities (``unreached``), zero
    demand (``zero_demand``), demand without supply (0) and ``cutoff = 0``. The same ``f`` is
    used in both steps.
    """
    costs, d0, p, s, d_idx, s_idx, columns = _prepare(cost, demand, supply, cutoff,
                                                      demand_ids, supply_ids, name)

    def weigh(od: _OD) -> tuple[Array, NDArray[np.bool_]]:
        in_reach = od.data <= d0
        return _decay_weights(od, in_reach, decay, name), in_reach

    return _floating(costs, p, s, weigh, d_idx, s_idx, columns, name)


def enhanced_2sfca(cost: Any, demand: ArrayLike | pd.Series, supply: Supply, *,
                   breaks: Sequence[float] = _decay.LUO_QI_2009_BREAKS,
                   weights: Sequence[float] = _decay.LUO_QI_2009_WEIGHTS,
                   closed: str = "left", demand_ids: Ids = None, supply_ids: Ids = None,
                   name: str = "e2sfca") -> CatchmentResult:
    """Enhanced 2SFCA (E2SFCA): travel-time zones with step weights in both steps.

    **Formula**: zones ``D_r`` (``r = 1…K``) with weights ``W_r`` (:func:`decay.step`);
    ``R_j = S_j / Σ_r Σ_{k ∈ D_rj} P_k W_r``, ``A_i = Σ_r Σ_{j ∈ D_ri} R_j W_r``. The catchment
    is the outer zone: ``d0 = breaks[-1]``.

    **Source**: Luo & Qi (2009), *Health & Place* 15(4): 1100–1107 (zones 0–10, 10–20, 20–30
    minutes, weights 1, 0.68, 0.22 — the defaults). PySAL ``access``:
    ``Access.enhanced_two_stage_fca`` with ``weights.step_fn({10: 1, 20: 0.68, 30: 0.22})``.

    **Variant**: ``closed="left"`` puts a cost equal to a break in the outer zone (10 minutes
    weighs 0.68); PySAL ``access``'s ``step_fn`` is ``closed="right"`` (10 minutes weighs 1).
    """
    fn = _decay.get("step", breaks=breaks, weights=weights, closed=closed)
    return two_step_fca(cost, demand, supply, cutoff=float(breaks[-1]), decay=fn,
                        demand_ids=demand_ids, supply_ids=supply_ids, name=name)


def gaussian_2sfca(cost: Any, demand: ArrayLike | pd.Series, supply: Supply, *,
                   cutoff: float, demand_ids: Ids = None, supply_ids: Ids = None,
                   name: str = "g2sfca") -> CatchmentResult:
    """Gaussian 2SFCA: the 2SFCA with Dai's Gaussian decay, 1 at the point and 0 at ``d0``.

    **Formula**: ``f(d) = (exp(−½(d/d0)²) − exp(−½)) / (1 − exp(−½))`` (:func:`decay.gaussian`)
    in both steps of :func:`two_step_fca`.

    **Source**: Dai (2010), *Health & Place* 16(5): 1038–1052. PySAL ``access`` has no shifted
    Gaussian; its ``weights.gaussian(σ)`` is ``exp(−d²/2σ²)`` (:func:`decay.gaussian_kernel`,
    usable through :func:`two_step_fca`).

    **Variant**: ``cutoff`` must be ``> 0`` (the decay's scale).
    """
    fn = _decay.get("gaussian", d0=_cutoff(cutoff, name))
    return two_step_fca(cost, demand, supply, cutoff=cutoff, decay=fn, demand_ids=demand_ids,
                        supply_ids=supply_ids, name=name)


def three_step_fca(cost: Any, demand: ArrayLike | pd.Series, supply: Supply, *,
                   cutoff: float, decay: _decay.DecayFunction | None = None,
                   selection_decay: _decay.DecayFunction | None = None,
                   demand_ids: Ids = None, supply_ids: Ids = None,
                   name: str = "3sfca") -> CatchmentResult:
    """Three-step floating catchment area (3SFCA): 2SFCA with selection weights.

    **Formula**: step 0, the probability that demand ``i`` chooses supply ``j`` among those in
    reach, ``G_ij = T_ij / Σ_{k: c_ik ≤ d0} T_ik`` with ``T = selection_decay(c)`` (default: the
    decay ``W = decay(c)``); step 1, ``R_j = S_j / Σ_{k: c_kj ≤ d0} G_kj P_k W_kj``; step 2,
    ``A_i = Σ_{j: c_ij ≤ d0} G_ij R_j W_ij``.

    **Source**: Wan, Zou & Sternberg (2012), "A three-step floating catchment area method for
    analyzing spatial access to health services", *International Journal of Geographical
    Information Science* 26(6): 1073–1089. PySAL ``access``: ``Access.three_stage_fca`` (default
    weights ``step_fn({10: 0.962, 20: 0.704, 30: 0.377, 60: 0.042})``).

    **Variant**: ``G`` is normalised over the supply points *in reach* (``c_ik ≤ d0``), as Wan
    et al. define it; PySAL ``access`` normalises over every pair of its cost table, including
    pairs beyond ``max_cost``. With ``decay=None`` ``W ≡ 1`` and ``G_ij = 1/n_i`` (``n_i`` the
    supply points in reach). A demand point with no supply in reach has no ``G`` and gets 0.
    """
    costs, d0, p, s, d_idx, s_idx, columns = _prepare(cost, demand, supply, cutoff,
                                                      demand_ids, supply_ids, name)

    def weigh(od: _OD) -> tuple[Array, NDArray[np.bool_]]:
        # G is normalised within a row, so a block of rows holds all it needs
        in_reach = od.data <= d0
        w = _decay_weights(od, in_reach, decay, name)
        sel = (w if selection_decay is None
               else _decay_weights(od, in_reach, selection_decay, name))
        den = (od.matrix(sel) @ np.ones(od.n_supply))[od.rows()]
        g = np.divide(sel, den, out=np.zeros_like(sel), where=den > 0)
        return w * g, in_reach

    return _floating(costs, p, s, weigh, d_idx, s_idx, columns, name)


# ----------------------------------------------------------------------------- normalised forms


def spatial_access_ratio(access: pd.Series | pd.DataFrame | CatchmentResult, *,
                         weights: ArrayLike | pd.Series | None = None
                         ) -> pd.Series | pd.DataFrame:
    """Spatial access ratio (SPAR): accessibility over its mean, so 1 is the average.

    **Formula**: ``SPAR_i = A_i / Ā`` with ``Ā = (1/n) Σ_i A_i`` or, with ``weights`` ``P``,
    ``Ā = Σ_i P_i A_i / Σ_i P_i`` (per column for a DataFrame).

    **Source**: Wan, Zou & Sternberg (2012), *IJGIS* 26(6): 1073–1089 (SPAR, plain mean).
    PySAL ``access``'s ``normalize=True`` divides by the demand-weighted mean: pass
    ``weights=demand`` to reproduce it.

    **Variant**: ``NaN`` values (an undefined :func:`fca_ratio`) stay ``NaN`` and are left out
    of the mean (and of the weights' sum). A mean of 0 leaves the ratio undefined and raises
    :class:`AccessInputError`. ``weights`` as a Series is aligned on the ids; otherwise by
    position.
    """
    values = access.access if isinstance(access, CatchmentResult) else access
    frame = values.to_frame() if isinstance(values, pd.Series) else values
    a = frame.to_numpy(dtype=np.float64)
    if weights is None:
        wv = np.ones(a.shape[0])
    elif isinstance(weights, pd.Series):
        missing = frame.index.difference(weights.index)
        if len(missing):
            raise AccessInputError(t("access.m.err.spar_weights_ids", count=len(missing),
                                     ids=missing[:5].tolist()))
        wv, _ = _weights_vector(weights.reindex(frame.index), a.shape[0], "weights", "spar")
    else:
        wv, _ = _weights_vector(weights, a.shape[0], "weights", "spar")
    ok = ~np.isnan(a)
    wsum = (wv[:, None] * ok).sum(axis=0)
    num = np.where(ok, a * wv[:, None], 0.0).sum(axis=0)
    if np.any(~(wsum > 0)) or np.any(num == 0):
        raise AccessInputError(t("access.m.err.spar_mean_zero"))
    out = a / (num / wsum)
    if isinstance(values, pd.Series):
        return pd.Series(out[:, 0], index=values.index, name=values.name)
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)
