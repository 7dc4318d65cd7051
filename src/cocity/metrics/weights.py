"""Spatial weights: who neighbours whom, as a sparse matrix with unit ids.

A :class:`SpatialWeights` holds an ``n × n`` :class:`scipy.sparse.csr_array` ``W`` (row ``i`` is the
focal unit, column ``j`` a neighbour, ``w_ij > 0``; no self-weights) and the ``n`` unit ids that
label its rows and columns. Builders:

- :func:`contiguity` (:func:`queen`, :func:`rook`) from polygons — the store's boundaries;
- :func:`knn`, :func:`distance_band` and :func:`inverse_distance` from points — the store's
  ``units()`` representative points.

Conventions
-----------
- **Contiguity is geometric, with a tolerance.** Candidate pairs come from a shapely 2
  :class:`~shapely.STRtree` query with the predicate ``dwithin`` (distance ``snap``) or, when
  ``snap == 0``, ``intersects``. *Queen*: the two polygons are at most ``snap`` apart (they share
  at least a point, up to the tolerance). *Rook*: they also share a border of positive length —
  the length of unit *i*'s boundary lying within ``snap`` of polygon *j*, and vice versa, both
  exceed ``min_length`` (default ``20 × snap``; ``0`` when ``snap == 0``, so that any shared
  segment counts and a shared point does not). ``snap`` and ``min_length`` are in the units of
  the coordinates: degrees for the store's lon/lat boundaries (1e-6° ≈ 0.1 m). The default
  ``snap = 1e-6`` absorbs floating-point noise only; boundaries simplified independently of
  each other leave slivers and gaps of up to the simplification tolerance, so raise ``snap`` to
  about that tolerance (e.g. ``1e-3`` ≈ 100 m) — candidates for ``islands`` are the first sign.
  A corner contact between edges meeting at an angle θ measures at most ``2·snap / sin θ``, so
  with the default ``min_length`` corner contacts stay queen-only unless θ < 6°.
- **Distances** from points are great-circle distances in kilometres on a sphere of radius
  ``6371.0088 km`` (the IUGG mean Earth radius) when ``metric="haversine"`` (the default; the
  coordinates are longitude/latitude in degrees — GCJ-02 offsets of a few hundred metres do not
  matter at this scale), or Euclidean distances in the coordinates' own unit when
  ``metric="euclidean"`` (projected coordinates). Neighbour searches run on a KD-tree (on 3-D
  unit vectors for great-circle distances: the chord is monotone in the arc).
- **Islands** (units without a neighbour) are listed by :attr:`SpatialWeights.islands`. Every
  builder takes ``islands``: ``"raise"`` (default) raises
  :class:`~cocity.metrics.errors.MetricInputError` naming them; ``"nearest"`` links each island
  to its nearest unit, both ways (polygons: the smallest planar distance between the polygons in
  the coordinates' unit; points: the builder's metric), with weight 1 (inverse distance for
  :func:`inverse_distance`), and records the islands in :attr:`SpatialWeights.joined_islands`;
  ``"keep"`` keeps them (the autocorrelation statistics refuse such weights).
- **Disconnected components** are not an error: :attr:`SpatialWeights.n_components` and
  :attr:`SpatialWeights.components` report them (weak connectivity for asymmetric weights).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from cocity.i18n import t
from cocity.metrics.errors import MetricInputError
from cocity.metrics.geodesy import EARTH_RADIUS_KM, haversine_km

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
IslandPolicy = Literal["raise", "nearest", "keep"]
Metric = Literal["haversine", "euclidean"]

DEFAULT_SNAP = 1e-6
TRANSFORMS = ("O", "R", "B")


# ----------------------------------------------------------------------------- the weights


class SpatialWeights:
    """Sparse spatial weights with unit ids.

    ``matrix`` is any square matrix-like (SciPy sparse or dense) of finite, non-negative weights
    with a zero diagonal; ``ids`` labels its rows and columns (unique). ``kind`` names the
    builder, ``transform`` is ``"O"`` (weights as built), ``"R"`` (row-standardised) or ``"B"``
    (binary), ``joined_islands`` lists the islands a builder linked to their nearest unit.
    Instances are not modified after construction; transformations return new instances.
    """

    __slots__ = ("_components", "ids", "joined_islands", "kind", "matrix", "transform")

    def __init__(self, matrix: Any, ids: Sequence[object], *, kind: str = "custom",
                 transform: str = "O", joined_islands: Sequence[str] = ()):
        m = sparse.csr_array(matrix, dtype=float)
        id_list = [str(i) for i in ids]
        if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(id_list):
            raise MetricInputError(t("metrics.spatial.err.matrix_shape", shape=m.shape,
                                     n=len(id_list)))
        if len(set(id_list)) != len(id_list):
            dup = pd.Index(id_list)[pd.Index(id_list).duplicated()].unique()
            raise MetricInputError(t("metrics.spatial.err.duplicate_ids",
                                     ids=", ".join(map(str, dup[:10]))))
        if not np.all(np.isfinite(m.data)) or np.any(m.data < 0):
            raise MetricInputError(t("metrics.spatial.err.bad_weights"))
        if np.any(m.diagonal() != 0):
            raise MetricInputError(t("metrics.spatial.err.self_weights"))
        if transform.upper() not in TRANSFORMS:
            raise MetricInputError(t("metrics.spatial.err.transform", value=transform))
        m.eliminate_zeros()
        m.sort_indices()
        self.matrix: sparse.csr_array = m
        self.ids: tuple[str, ...] = tuple(id_list)
        self.kind = kind
        self.transform = transform.upper()
        self.joined_islands: tuple[str, ...] = tuple(joined_islands)
        self._components: tuple[int, IntArray] | None = None

    # ------------------------------------------------------------------ description
    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def nnz(self) -> int:
        """Number of (directed) links ``w_ij > 0``."""
        return int(self.matrix.nnz)

    @property
    def cardinalities(self) -> IntArray:
        """Number of neighbours of each unit, in ``ids`` order."""
        return np.diff(self.matrix.indptr).astype(np.int64)

    @property
    def islands(self) -> list[str]:
        """Ids of the units without any neighbour."""
        return [self.ids[i] for i in np.flatnonzero(self.cardinalities == 0)]

    def _comp(self) -> tuple[int, IntArray]:
        if self._components is None:
            count, labels = connected_components(self.matrix, directed=True, connection="weak")
            self._components = (int(count), labels.astype(np.int64))
        return self._components

    @property
    def n_components(self) -> int:
        """Number of connected components (weakly connected for asymmetric weights)."""
        return self._comp()[0]

    @property
    def components(self) -> pd.Series:
        """Component label (0-based, in order of first appearance) of each unit."""
        return pd.Series(self._comp()[1], index=pd.Index(self.ids, name="unit"),
                         name="component")

    @property
    def is_symmetric(self) -> bool:
        diff = abs(self.matrix - self.matrix.T)
        return bool(diff.nnz == 0 or diff.max() <= 1e-12 * max(1.0, float(self.matrix.max())))

    @property
    def s0(self) -> float:
        """``S0 = Σ_i Σ_j w_ij``."""
        return float(self.matrix.sum())

    @property
    def s1(self) -> float:
        """``S1 = ½ Σ_i Σ_j (w_ij + w_ji)²``."""
        sym = self.matrix + self.matrix.T
        return float(0.5 * sym.multiply(sym).sum())

    @property
    def s2(self) -> float:
        """``S2 = Σ_i (w_i· + w_·i)²`` (row sum plus column sum)."""
        rows = np.asarray(self.matrix.sum(axis=1)).ravel()
        cols = np.asarray(self.matrix.sum(axis=0)).ravel()
        return float(((rows + cols) ** 2).sum())

    def neighbours(self, unit: object) -> dict[str, float]:
        """The neighbours of ``unit`` and their weights."""
        key = str(unit)
        try:
            i = self.ids.index(key)
        except ValueError:
            raise MetricInputError(t("metrics.spatial.err.unknown_id", id=key)) from None
        lo, hi = self.matrix.indptr[i], self.matrix.indptr[i + 1]
        return {self.ids[j]: float(v) for j, v in
                zip(self.matrix.indices[lo:hi], self.matrix.data[lo:hi], strict=True)}

    def to_frame(self) -> pd.DataFrame:
        """The links as rows ``focal, neighbour, weight`` (in CSR order)."""
        coo = self.matrix.tocoo()
        ids = np.asarray(self.ids, dtype=object)
        return pd.DataFrame({"focal": ids[coo.row], "neighbour": ids[coo.col],
                             "weight": coo.data})

    def summary(self) -> dict[str, object]:
        """Size, cardinalities, islands and components, as plain values."""
        card = self.cardinalities
        return {"kind": self.kind, "transform": self.transform, "n": self.n, "links": self.nnz,
                "min_neighbours": int(card.min()) if self.n else 0,
                "mean_neighbours": float(card.mean()) if self.n else 0.0,
                "max_neighbours": int(card.max()) if self.n else 0,
                "islands": self.islands, "joined_islands": list(self.joined_islands),
                "n_components": self.n_components, "symmetric": self.is_symmetric}

    def __repr__(self) -> str:
        return (f"SpatialWeights(kind={self.kind!r}, n={self.n}, links={self.nnz}, "
                f"transform={self.transform!r}, islands={len(self.islands)}, "
                f"components={self.n_components})")

    # ------------------------------------------------------------------ transformations
    def _with(self, matrix: sparse.csr_array, transform: str) -> SpatialWeights:
        return SpatialWeights(matrix, self.ids, kind=self.kind, transform=transform,
                              joined_islands=self.joined_islands)

    def row_standardised(self) -> SpatialWeights:
        """Weights divided by their row sums (``Σ_j w_ij = 1``; islands keep an empty row)."""
        rows = np.asarray(self.matrix.sum(axis=1)).ravel()
        scale = np.divide(1.0, rows, out=np.zeros_like(rows), where=rows > 0)
        m = self.matrix.copy()
        m.data = m.data * np.repeat(scale, self.cardinalities)
        return self._with(m, "R")

    def binary(self) -> SpatialWeights:
        """Every link weighted 1."""
        m = self.matrix.copy()
        m.data = np.ones_like(m.data)
        return self._with(m, "B")

    def transformed(self, transform: str) -> SpatialWeights:
        """``"R"`` row-standardised, ``"B"`` binary, ``"O"`` as they are (case-insensitive)."""
        code = str(transform).upper()
        if code == "R":
            return self if self.transform == "R" else self.row_standardised()
        if code == "B":
            return self if self.transform == "B" else self.binary()
        if code == "O":
            return self
        raise MetricInputError(t("metrics.spatial.err.transform", value=transform))

    def symmetrised(self) -> SpatialWeights:
        """``w'_ij = max(w_ij, w_ji)``: for binary weights (k-nearest neighbours) the union of
        the two directions."""
        return self._with(sparse.csr_array(self.matrix.maximum(self.matrix.T)), self.transform)


# ----------------------------------------------------------------------------- shared helpers


def _finish(matrix: sparse.csr_array, ids: Sequence[str], kind: str, islands: str,
            link: Any) -> SpatialWeights:
    """Apply the island policy; ``link(i)`` returns (neighbour indices, weights) of island i."""
    if islands not in ("raise", "nearest", "keep"):
        raise MetricInputError(t("metrics.spatial.err.island_policy", value=islands))
    card = np.diff(matrix.indptr)
    lonely = np.flatnonzero(card == 0)
    joined: list[str] = []
    if lonely.size and islands == "raise":
        shown = ", ".join(ids[int(i)] for i in lonely[:20])
        raise MetricInputError(t("metrics.spatial.err.islands", count=int(lonely.size),
                                 ids=shown))
    if lonely.size and islands == "nearest":
        if len(ids) < 2:
            raise MetricInputError(t("metrics.spatial.err.too_few_units", n=len(ids), need=2))
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for i in lonely:
            js, ws = link(int(i))
            for j, w in zip(js, ws, strict=True):
                rows += [int(i), int(j)]
                cols += [int(j), int(i)]
                vals += [float(w), float(w)]
        extra = sparse.csr_array((vals, (rows, cols)), shape=matrix.shape)
        matrix = sparse.csr_array(matrix.maximum(extra))
        joined = [ids[int(i)] for i in lonely]
    return SpatialWeights(matrix, ids, kind=kind, joined_islands=joined)


def _pairs_matrix(i: IntArray, j: IntArray, w: Array, n: int) -> sparse.csr_array:
    """Symmetric matrix from pairs ``i < j``."""
    rows = np.concatenate([i, j])
    cols = np.concatenate([j, i])
    return sparse.csr_array((np.concatenate([w, w]), (rows, cols)), shape=(n, n))


def _geometries(data: Any, ids: Sequence[object] | None,
                id_column: str) -> tuple[NDArray[Any], list[str]]:
    if isinstance(data, gpd.GeoDataFrame):
        geoms = np.asarray(data.geometry.values, dtype=object)
        if ids is None:
            ids = (data[id_column].tolist() if id_column in data.columns
                   else data.index.tolist())
    elif isinstance(data, gpd.GeoSeries):
        geoms = np.asarray(data.values, dtype=object)
        if ids is None:
            ids = data.index.tolist()
    else:
        geoms = np.asarray(list(data), dtype=object)
        if ids is None:
            ids = list(range(len(geoms)))
    id_list = [str(i) for i in ids]
    if len(id_list) != len(geoms):
        raise MetricInputError(t("metrics.spatial.err.ids_length", ids=len(id_list),
                                 n=len(geoms)))
    missing = [id_list[i] for i, g in enumerate(geoms)
               if g is None or (isinstance(g, float) and np.isnan(g))
               or shapely.is_empty(g)]
    if missing:
        raise MetricInputError(t("metrics.spatial.err.no_geometry", count=len(missing),
                                 ids=", ".join(missing[:20])))
    kinds = set(shapely.get_type_id(geoms).tolist())
    if not kinds <= {3, 6}:  # Polygon, MultiPolygon
        raise MetricInputError(t("metrics.spatial.err.not_polygons"))
    return geoms, id_list


# ----------------------------------------------------------------------------- contiguity


def contiguity(polygons: Any, rule: Literal["queen", "rook"] = "queen", *,
               ids: Sequence[object] | None = None, id_column: str = "code",
               snap: float = DEFAULT_SNAP, min_length: float | None = None,
               islands: IslandPolicy = "raise") -> SpatialWeights:
    """Binary contiguity weights from polygons (``w_ij = 1`` for neighbours, symmetric).

    **Formula**: *queen* — ``w_ij = 1`` iff ``dist(P_i, P_j) ≤ snap``; *rook* — also
    ``min(len(∂P_i ∩ B(P_j, snap)), len(∂P_j ∩ B(P_i, snap))) > min_length`` with ``∂P`` the
    boundary and ``B(P, s)`` the polygon buffered by ``s`` (with ``snap == 0``:
    ``∂P_i ∩ P_j``). Candidates come from an STRtree ``dwithin``/``intersects`` query.

    **Source**: queen and rook contiguity as in Anselin (1988), *Spatial Econometrics*, §3.1;
    PySAL ``libpysal.weights.Queen`` / ``Rook``.

    **Variant**: geometric rather than vertex-based. PySAL compares vertices (queen: a shared
    vertex; rook: a shared pair of consecutive vertices), so where one polygon's vertex lies on
    another's edge without a matching vertex (a T-junction, or boundaries simplified apart)
    PySAL finds no contact and this function does. ``snap`` (degrees for lon/lat) and
    ``min_length`` are the tolerances described in the module docstring. ``polygons`` is a
    GeoDataFrame (ids from ``id_column``, else its index), a GeoSeries (ids from its index) or a
    sequence of shapely polygons with ``ids``; a unit without geometry raises
    :class:`MetricInputError` (drop it first).
    """
    if rule not in ("queen", "rook"):
        raise MetricInputError(t("metrics.spatial.err.rule", value=rule))
    if not (np.isfinite(snap) and snap >= 0):
        raise MetricInputError(t("metrics.spatial.err.snap", value=snap))
    if min_length is None:
        min_length = 20.0 * snap
    if not (np.isfinite(min_length) and min_length >= 0):
        raise MetricInputError(t("metrics.spatial.err.min_length", value=min_length))
    geoms, id_list = _geometries(polygons, ids, id_column)
    n = len(geoms)
    tree = shapely.STRtree(geoms)
    if snap > 0:
        left, right = tree.query(geoms, predicate="dwithin", distance=snap)
    else:
        left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    i, j = left[keep].astype(np.int64), right[keep].astype(np.int64)
    if rule == "rook" and i.size:
        bounds = shapely.boundary(geoms)
        zones = shapely.buffer(geoms, snap) if snap > 0 else geoms
        shared_ij = shapely.length(shapely.intersection(bounds[i], zones[j]))
        shared_ji = shapely.length(shapely.intersection(bounds[j], zones[i]))
        edge = np.minimum(shared_ij, shared_ji) > min_length
        i, j = i[edge], j[edge]
    matrix = _pairs_matrix(i, j, np.ones(i.size), n)

    def link(k: int) -> tuple[IntArray, Array]:
        others = np.delete(np.arange(n), k)
        d = shapely.distance(geoms[k], geoms[others])
        return others[d <= d.min()], np.ones(int((d <= d.min()).sum()))

    return _finish(matrix, id_list, rule, islands, link)


def queen(polygons: Any, **kwargs: Any) -> SpatialWeights:
    """Queen contiguity: :func:`contiguity` with ``rule="queen"``."""
    return contiguity(polygons, "queen", **kwargs)


def rook(polygons: Any, **kwargs: Any) -> SpatialWeights:
    """Rook contiguity: :func:`contiguity` with ``rule="rook"``."""
    return contiguity(polygons, "rook", **kwargs)


# ----------------------------------------------------------------------------- points


def _points(points: Any, ids: Sequence[object] | None, id_column: str, lon: str,
            lat: str) -> tuple[Array, list[str]]:
    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        geo = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
        if geo.isna().any() or not bool((geo.geom_type == "Point").all()):
            raise MetricInputError(t("metrics.spatial.err.not_points"))
        xy = np.column_stack([geo.x.to_numpy(float), geo.y.to_numpy(float)])
        if ids is None:
            ids = (points[id_column].tolist() if isinstance(points, gpd.GeoDataFrame)
                   and id_column in points.columns else points.index.tolist())
    elif isinstance(points, pd.DataFrame):
        if lon not in points.columns or lat not in points.columns:
            raise MetricInputError(t("metrics.spatial.err.lonlat_columns", lon=lon, lat=lat))
        xy = points[[lon, lat]].to_numpy(dtype=float)
        if ids is None:
            ids = (points[id_column].tolist() if id_column in points.columns
                   else points.index.tolist())
    else:
        xy = np.asarray(points, dtype=float)
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise MetricInputError(t("metrics.spatial.err.points_shape", shape=xy.shape))
        if ids is None:
            ids = list(range(len(xy)))
    id_list = [str(i) for i in ids]
    if len(id_list) != len(xy):
        raise MetricInputError(t("metrics.spatial.err.ids_length", ids=len(id_list),
                                 n=len(xy)))
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        raise MetricInputError(t("metrics.spatial.err.no_point", count=int(bad.sum()),
                                 ids=", ".join(np.asarray(id_list)[bad][:20])))
    return xy, id_list


class _Space:
    """Points in a metric space with a KD-tree; distances in km (haversine) or coordinates."""

    def __init__(self, xy: Array, metric: str):
        if metric not in ("haversine", "euclidean"):
            raise MetricInputError(t("metrics.spatial.err.metric", value=metric))
        self.metric = metric
        self.xy = xy
        if metric == "haversine":
            lon, lat = xy[:, 0], xy[:, 1]
            if np.any(np.abs(lat) > 90) or np.any(np.abs(lon) > 360):
                raise MetricInputError(t("metrics.spatial.err.lonlat_range"))
            lam, phi = np.radians(lon), np.radians(lat)
            self.coords = np.column_stack([np.cos(phi) * np.cos(lam),
                                           np.cos(phi) * np.sin(lam), np.sin(phi)])
        else:
            self.coords = xy
        self.tree = cKDTree(self.coords)

    def distance(self, i: IntArray, j: IntArray) -> Array:
        """Distances between points ``i`` and ``j`` (elementwise)."""
        a, b = self.xy[i], self.xy[j]
        if self.metric == "euclidean":
            return np.asarray(np.hypot(a[:, 0] - b[:, 0], a[:, 1] - b[:, 1]), dtype=float)
        return haversine_km(a[:, 0], a[:, 1], b[:, 0], b[:, 1])

    def radius(self, d: float) -> float:
        """Search radius in tree coordinates covering distance ``d`` (slightly generous)."""
        if self.metric == "euclidean":
            return d * (1 + 1e-9) + 1e-12
        half = min(d / (2 * EARTH_RADIUS_KM), np.pi / 2)
        return 2 * np.sin(half) * (1 + 1e-9) + 1e-12

    def nearest_other(self, i: int) -> tuple[IntArray, Array]:
        """The nearest other points of ``i`` (all of them when tied) and their distance."""
        others = np.delete(np.arange(len(self.xy)), i)
        d = self.distance(np.full(others.size, i), others)
        near = d <= d.min()
        return others[near], d[near]


def knn(points: Any, k: int, *, ids: Sequence[object] | None = None, id_column: str = "code",
        lon: str = "lon", lat: str = "lat", metric: Metric = "haversine") -> SpatialWeights:
    """k-nearest-neighbour weights: ``w_ij = 1`` for the ``k`` units nearest to ``i``.

    **Formula**: ``w_ij = 1`` iff ``j ≠ i`` is among the ``k`` smallest ``d(i, j)``.

    **Source**: PySAL ``libpysal.weights.KNN`` (same neighbour sets; ``radius`` there gives
    great-circle distances as here).

    **Variant**: asymmetric (use :meth:`SpatialWeights.symmetrised` for the union); a tie at
    the ``k``-th distance is broken by the KD-tree's order, as in PySAL; a point coincident with
    ``i`` counts as a neighbour at distance 0. Distances follow ``metric`` (module docstring).
    ``points`` is a DataFrame with ``lon``/``lat`` columns (ids from ``id_column``, else the
    index), a GeoDataFrame/GeoSeries of points, or an ``(n, 2)`` array with ``ids``.
    There are no islands; ``k`` must be a positive integer below ``n``.
    """
    xy, id_list = _points(points, ids, id_column, lon, lat)
    n = len(xy)
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1 or k >= n:
        raise MetricInputError(t("metrics.spatial.err.knn_k", k=k, n=n))
    space = _Space(xy, metric)
    _, idx = space.tree.query(space.coords, k=int(k) + 1)
    idx = np.asarray(idx, dtype=np.int64).reshape(n, int(k) + 1)
    not_self = idx != np.arange(n)[:, None]
    too_many = not_self.sum(axis=1) == k + 1
    not_self[too_many, -1] = False
    cols = idx[not_self].reshape(n, int(k))
    rows = np.repeat(np.arange(n), int(k))
    matrix = sparse.csr_array((np.ones(n * int(k)), (rows, cols.ravel())), shape=(n, n))
    return SpatialWeights(matrix, id_list, kind="knn")


def distance_band(points: Any, threshold: float, *, binary: bool = True, power: float = 1.0,
                  ids: Sequence[object] | None = None, id_column: str = "code",
                  lon: str = "lon", lat: str = "lat", metric: Metric = "haversine",
                  islands: IslandPolicy = "raise") -> SpatialWeights:
    """Distance-band weights: neighbours are the units within ``threshold``.

    **Formula**: ``w_ij = 1`` (``binary``) or ``w_ij = d_ij^(−power)`` for ``0 < d_ij ≤
    threshold``, ``j ≠ i``; ``threshold`` in km for ``metric="haversine"``, in the coordinates'
    unit for ``"euclidean"``.

    **Source**: PySAL ``libpysal.weights.DistanceBand`` (``alpha = −power``).

    **Variant**: symmetric. With ``binary=False`` two coincident points (``d = 0``) raise
    :class:`MetricInputError` instead of an infinite weight. Islands follow ``islands``
    (module docstring); ``"nearest"`` links an island beyond the threshold with the same weight
    rule at the island's nearest distance.
    """
    if not (np.isfinite(threshold) and threshold > 0):
        raise MetricInputError(t("metrics.spatial.err.threshold", value=threshold))
    if not (np.isfinite(power) and power > 0):
        raise MetricInputError(t("metrics.spatial.err.power", value=power))
    xy, id_list = _points(points, ids, id_column, lon, lat)
    n = len(xy)
    space = _Space(xy, metric)
    pairs = space.tree.query_pairs(space.radius(float(threshold)), output_type="ndarray")
    i = np.asarray(pairs[:, 0], dtype=np.int64)
    j = np.asarray(pairs[:, 1], dtype=np.int64)
    d = space.distance(i, j)
    within = d <= threshold
    i, j, d = i[within], j[within], d[within]

    def weight(dist: Array) -> Array:
        if binary:
            return np.ones_like(dist)
        if np.any(dist <= 0):
            raise MetricInputError(t("metrics.spatial.err.coincident"))
        return np.asarray(dist ** (-float(power)), dtype=float)

    matrix = _pairs_matrix(i, j, weight(d), n)

    def link(k: int) -> tuple[IntArray, Array]:
        js, dist = space.nearest_other(k)
        return js, weight(dist)

    kind = "distance_band" if binary else "inverse_distance"
    return _finish(matrix, id_list, kind, islands, link)


def inverse_distance(points: Any, threshold: float | None = None, *, power: float = 1.0,
                     **kwargs: Any) -> SpatialWeights:
    """Inverse-distance weights ``w_ij = d_ij^(−power)``, within ``threshold`` if given.

    **Formula**: as :func:`distance_band` with ``binary=False``; ``threshold=None`` links every
    pair (a dense matrix: ``n²`` links).

    **Source**: PySAL ``libpysal.weights.DistanceBand(binary=False, alpha=−power)``.

    **Variant**: not row-standardised here (the statistics transform as they need); coincident
    points raise :class:`MetricInputError`.
    """
    if threshold is None:
        xy, _ = _points(points, kwargs.get("ids"), kwargs.get("id_column", "code"),
                        kwargs.get("lon", "lon"), kwargs.get("lat", "lat"))
        threshold = _diameter(xy, kwargs.get("metric", "haversine"))
    return distance_band(points, threshold, binary=False, power=power, **kwargs)


def _diameter(xy: Array, metric: str) -> float:
    """An upper bound of the largest pairwise distance (plus a margin), positive."""
    if metric == "haversine":
        return float(np.pi * EARTH_RADIUS_KM)
    span = np.ptp(xy, axis=0) if len(xy) else np.zeros(2)
    return float(np.hypot(*span)) * 1.01 + 1.0

