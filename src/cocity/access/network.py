"""Street networks for the accessibility engine: nodes, a directed CSR graph, travel profiles.

Purpose
-------
A :class:`Network` is what the kernel (:mod:`cocity.access.kernel`) routes on: node ids with
planar coordinates, and directed arcs in CSR form with their length (metres) and travel time
(minutes) for one travel **profile** — ``"walk"``, ``"bike"`` or ``"drive"``. Builders read edge
lists (DataFrame, CSV, Parquet: :meth:`Network.from_edges`), line layers (GeoPackage, Shapefile,
GeoJSON or a GeoDataFrame: :meth:`Network.from_lines`) and OpenStreetMap PBF files
(:meth:`Network.from_osm`, in :mod:`cocity.access.osm`). :meth:`Network.largest_component`
removes the parts not connected to the main network and reports what it dropped;
:meth:`Network.snap` attaches points (homes, facilities, grid cells) to their nearest node.

Formula
-------
- **Travel time** of an arc: ``minutes = length_m / (speed_kmh × 1000 / 60)``.
- **Speeds** (km/h, finite and ``> 0``; anything else raises
  :class:`~cocity.access.errors.AccessInputError`). ``speed_kmh`` is a number (one speed for
  every road) or a mapping from road class (``highway``) to speed with an optional
  ``"default"`` for the classes it does not list. Defaults: walk 4.5 km/h and bike 15 km/h on
  every road; drive by road class (:data:`DRIVE_SPEEDS_KMH`, a mapping given for drive is laid
  over it). An edge list may carry its own ``speed_kmh`` column, which wins over the profile.
- **Direction**: walking ignores one-way restrictions (every edge is two arcs); bike and drive
  follow ``oneway`` (``yes``/``true``/``1`` along the edge, ``-1``/``reverse`` against it,
  ``no``/``false``/``0``/empty both ways).
- **Road classes by profile**: edges whose ``highway`` is in :data:`EXCLUDED_HIGHWAYS` for the
  profile are dropped (walk: motorways; bike: motorways, steps, footways; drive: footways,
  paths, steps, cycleways, tracks, …); classes the table does not know are kept at the default
  speed, so networks whose classes are not OSM's load unchanged.
- **Coordinates**: ``x``/``y`` in a projected CRS whose unit is the metre. Longitude/latitude
  input (``lon``/``lat`` node columns, or a layer in a geographic CRS) is projected to the
  WGS 84 / UTM zone of its mean longitude (EPSG:326zz north, 327zz south) with pyproj; lengths
  taken from lon/lat geometries are measured after that projection (scale error below 0.1 %
  within a zone). The datum is taken as given (GCJ-02 coordinates stay GCJ-02).

Algorithm
---------
- **Nodes of line layers**: every line (every part of a multi-line) is one edge between its
  first and last vertex; end points closer than ``node_tolerance`` metres (default 1 cm) are
  merged into one node (pairs from a KD-tree, merged transitively). Lines that cross without
  sharing an end point are not connected: road-centreline data are expected to be split at
  junctions (OSM ways are split by :mod:`~cocity.access.osm`).
- **Node order**: edge lists, line layers and OSM files all store their nodes along a
  Z-order curve (:func:`z_order`), whatever order the source lists them in, so that a bounded
  search reads neighbouring memory (``benchmarks/bench_kernel.py``, "node order", measures
  the same searches with the nodes in random order). Node positions are internal: use
  :meth:`Network.index_of` and ``node_ids``.
- **Cleaning**: self-loops are dropped (they never shorten a path), parallel edges kept, nodes
  used by no kept edge dropped; all counted in :attr:`Network.report`.
- **Largest component**: strongly connected by default (every kept node can reach, and be
  reached from, every other — the right notion for one-way streets), or weakly connected.
- **Snapping**: nearest node by Euclidean distance on the projected coordinates (a
  ``scipy.spatial.cKDTree`` built once per network). A point farther than ``max_snap`` metres
  (default 500 m) from every node is **flagged and excluded**: its ``node`` is ``-1`` and
  ``snapped`` is ``False``; its distance to the nearest node is still reported.

Source
------
Speeds: walking 4.5 km/h (1.25 m/s), a typical adult walking pace; GB 50180-2018
《城市居住区规划设计标准》 puts the 5-/10-/15-minute life circles at about 300 / 500 /
800–1,000 m of walking, i.e. 3.2–4 km/h with crossings and waits included — pass
``speed_kmh=4.0`` to reproduce the standard's distances. Cycling 15 km/h, a common planning
value for urban cycling. Drive speeds per class follow the design speeds of CJJ 37-2012
《城市道路工程设计规范》 for urban expressways (60–100 km/h), arterials (40–60), sub-arterials
(30–50) and branch roads (20–40), taken at or below the middle of each range for urban traffic.
OSM road classes: https://wiki.openstreetmap.org/wiki/Key:highway.

Variant
-------
One network per profile: the edges kept and their directions differ between profiles, so a
walk and a drive network are built separately from the same source. Edge shapes are not kept
beyond their length; isochrones draw arcs as straight segments between their nodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from cocity.access.errors import AccessInputError
from cocity.access.kernel import CSRGraph, arcs_to_csr
from cocity.i18n import t

if TYPE_CHECKING:
    import geopandas as gpd

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
Profile = Literal["walk", "bike", "drive"]
SpeedSpec = float | Mapping[str, float] | None

PROFILES: tuple[str, ...] = ("walk", "bike", "drive")
DEFAULT_SPEED_KMH: dict[str, float] = {"walk": 4.5, "bike": 15.0, "drive": 30.0}
DRIVE_SPEEDS_KMH: dict[str, float] = {
    "motorway": 80.0, "motorway_link": 40.0, "trunk": 60.0, "trunk_link": 30.0,
    "primary": 40.0, "primary_link": 30.0, "secondary": 35.0, "secondary_link": 25.0,
    "tertiary": 30.0, "tertiary_link": 20.0, "unclassified": 25.0, "residential": 20.0,
    "living_street": 10.0, "service": 15.0, "road": 25.0, "default": 30.0,
}
NEVER_HIGHWAYS = frozenset({"abandoned", "bus_guideway", "construction", "disused", "escape", "no",
                    "planned", "platform", "proposed", "raceway", "razed", "rest_area",
                    "services"})
EXCLUDED_HIGHWAYS: dict[str, frozenset[str]] = {
    "walk": NEVER_HIGHWAYS | {"motorway", "motorway_link"},
    "bike": NEVER_HIGHWAYS | {"motorway", "motorway_link", "steps", "footway", "corridor",
                              "elevator", "escalator", "bridleway"},
    "drive": NEVER_HIGHWAYS | {"footway", "path", "pedestrian", "steps", "cycleway",
                               "bridleway", "corridor", "elevator", "escalator", "track",
                               "busway", "via_ferrata", "sidewalk", "crossing"},
}
_ONEWAY = {"yes": 1, "true": 1, "1": 1, "-1": -1, "reverse": -1, "no": 0, "false": 0, "0": 0,
           "": 0, "nan": 0, "none": 0}


# ----------------------------------------------------------------------------- shared helpers


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise AccessInputError(t("access.net.err.profile", value=profile,
                                 allowed=", ".join(PROFILES)))
    return profile


def speed_table(profile: str, speed_kmh: SpeedSpec = None) -> dict[str, float]:
    """Speeds by road class for ``profile`` (key ``"default"`` for every other class)."""
    check_profile(profile)
    if speed_kmh is None:
        table = dict(DRIVE_SPEEDS_KMH) if profile == "drive" else {
            "default": DEFAULT_SPEED_KMH[profile]}
    elif isinstance(speed_kmh, Mapping):
        base = dict(DRIVE_SPEEDS_KMH) if profile == "drive" else {
            "default": DEFAULT_SPEED_KMH[profile]}
        table = {**base, **{str(k): v for k, v in speed_kmh.items()}}
    else:
        table = {"default": speed_kmh}
    for cls, v in table.items():
        try:
            ok = bool(np.isfinite(float(v)) and float(v) > 0)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise AccessInputError(t("access.net.err.speed", value=v, cls=cls, profile=profile))
    return {k: float(v) for k, v in table.items()}


def edge_speeds(highway: NDArray[Any] | None, table: Mapping[str, float], n: int) -> Array:
    """Speed (km/h) of each edge from its class; classes not in ``table`` get the default."""
    default = table["default"]
    if highway is None or len(table) == 1:
        return np.full(n, default)
    mapped = pd.Series(highway, dtype=object).map(dict(table)).astype(float)
    return np.asarray(mapped.fillna(default).to_numpy(), dtype=np.float64)


def parse_oneway(values: ArrayLike, *, strict: bool = True) -> NDArray[np.int8]:
    """``oneway`` values → ``1`` (along), ``-1`` (against), ``0`` (both ways).

    Booleans, numbers and OSM strings are understood; missing values are two-way. ``strict``:
    an unknown value raises; otherwise it counts as two-way (OSM's ``reversible``/
    ``alternating`` and tagging errors). Each distinct value is parsed once.
    """
    arr = np.asarray(values)
    if arr.dtype.kind in "biu":
        if arr.dtype.kind != "b" and not np.isin(arr, (-1, 0, 1)).all():
            if strict:
                raise AccessInputError(t("access.net.err.oneway",
                                         value=arr[~np.isin(arr, (-1, 0, 1))][0]))
            arr = np.where(np.isin(arr, (-1, 0, 1)), arr, 0)
        return arr.astype(np.int8).ravel()
    codes, uniques = pd.factorize(pd.Series(arr.ravel(), dtype=object), use_na_sentinel=True)
    table = np.zeros(len(uniques) + 1, dtype=np.int8)      # last slot: missing values
    for i, v in enumerate(uniques):
        table[i] = _oneway_value(v, strict)
    return table[np.where(codes < 0, len(uniques), codes)]


def _oneway_value(v: Any, strict: bool) -> int:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return 0
    if isinstance(v, bool | np.bool_):
        return 1 if v else 0
    if isinstance(v, int | float | np.integer | np.floating):
        key = str(int(v)) if float(v).is_integer() else str(v)
    else:
        key = str(v).strip().lower()
    if key in _ONEWAY:
        return _ONEWAY[key]
    if strict:
        raise AccessInputError(t("access.net.err.oneway", value=v))
    return 0


def utm_crs(lon: ArrayLike, lat: ArrayLike) -> str:
    """The WGS 84 / UTM zone (``EPSG:326zz`` / ``EPSG:327zz``) of the mean coordinate."""
    lo = float(np.nanmean(np.asarray(lon, dtype=float)))
    la = float(np.nanmean(np.asarray(lat, dtype=float)))
    zone = int(np.clip(np.floor((lo + 180.0) / 6.0) + 1, 1, 60))
    return f"EPSG:{(32600 if la >= 0 else 32700) + zone}"


def project_lonlat(lon: ArrayLike, lat: ArrayLike, crs: str | None = None
                   ) -> tuple[Array, Array, str]:
    """Longitude/latitude (degrees, WGS 84 axes) → metres in ``crs`` (default: its UTM zone)."""
    from pyproj import Transformer

    lo = np.asarray(lon, dtype=float)
    la = np.asarray(lat, dtype=float)
    if len(lo) and (np.nanmax(np.abs(la)) > 90 or np.nanmax(np.abs(lo)) > 180):
        raise AccessInputError(t("access.net.err.lonlat_range"))
    target = crs or utm_crs(lo, la)
    tr = Transformer.from_crs("EPSG:4326", target, always_xy=True)
    x, y = tr.transform(lo, la)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float), target


def _metric_gdf(gdf: gpd.GeoDataFrame | gpd.GeoSeries, crs: str | None = None) -> Any:
    """``gdf`` in a metre-based projected CRS (geographic → UTM; no CRS → ``crs`` or error)."""
    from pyproj import CRS

    if gdf.crs is None:
        if crs is None:
            raise AccessInputError(t("access.net.err.no_crs"))
        gdf = gdf.set_crs(crs)
    c = CRS.from_user_input(gdf.crs)
    if c.is_geographic:
        b = gdf.total_bounds
        return gdf.to_crs(utm_crs([b[0], b[2]], [b[1], b[3]]))
    unit = c.axis_info[0].unit_name if c.axis_info else ""
    if unit not in ("metre", "meter", "m"):
        raise AccessInputError(t("access.net.err.crs_unit", crs=c.to_string(), unit=unit))
    return gdf


def _crs_string(crs: Any) -> str | None:
    if crs is None:
        return None
    from pyproj import CRS

    c = CRS.from_user_input(crs)
    auth = c.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else c.to_wkt()


def read_table(source: Any) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source
    path = Path(source)
    if not path.exists():
        raise AccessInputError(t("access.net.err.no_file", path=str(path)))
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return pd.read_csv(path)
    if suffix in (".parquet", ".pq", ".geoparquet"):
        import pyarrow.parquet as pq

        if b"geo" in (pq.read_schema(path).metadata or {}):
            import geopandas as gpd

            return gpd.read_parquet(path)
        return pd.read_parquet(path)
    raise AccessInputError(t("access.net.err.table_format", path=str(path)))


def _geometries(col: pd.Series) -> NDArray[Any]:
    """A geometry column as shapely objects (WKT strings and WKB bytes are parsed)."""
    vals = np.asarray(col, dtype=object)
    if len(vals) == 0:
        return vals
    first = next((v for v in vals if v is not None), None)
    if isinstance(first, str):
        return np.asarray(shapely.from_wkt(vals))
    if isinstance(first, bytes | bytearray | memoryview):
        return np.asarray(shapely.from_wkb(vals))
    return vals


# ----------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class ComponentReport:
    """What :meth:`Network.largest_component` kept and dropped."""

    kind: str
    n_components: int
    kept_nodes: int
    dropped_nodes: int
    dropped_arcs: int
    dropped_sizes: list[int]           # sizes of the largest dropped components (up to 10)
    dropped_node_ids: NDArray[Any]

    def __str__(self) -> str:
        return t("access.net.component_report", kind=t(f"access.net.component.{self.kind}"),
                 n=self.n_components, kept=self.kept_nodes, dropped=self.dropped_nodes,
                 arcs=self.dropped_arcs,
                 sizes=", ".join(str(s) for s in self.dropped_sizes) or "—")


@dataclass(frozen=True)
class Snapped:
    """Points snapped to nodes: ``node`` (position, ``-1`` if excluded), ``distance`` (metres to
    the nearest node, also for excluded points), ``snapped`` (within ``max_snap``)."""

    node: IntArray
    node_id: NDArray[Any]
    distance: Array
    snapped: NDArray[np.bool_]
    max_snap: float

    @property
    def far(self) -> IntArray:
        """Positions (in the input order) of the points flagged as too far and excluded."""
        return np.flatnonzero(~self.snapped).astype(np.int64)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"node": self.node, "node_id": self.node_id,
                             "distance_m": self.distance, "snapped": self.snapped})

    def __str__(self) -> str:
        return t("access.net.snap_report", n=len(self.node), ok=int(self.snapped.sum()),
                 far=int((~self.snapped).sum()), max_snap=self.max_snap)


# ----------------------------------------------------------------------------- the network


@dataclass(frozen=True, eq=False)
class Network:
    """A directed street network for one profile.

    Arrays: ``node_ids`` (any hashable ids; int64 when they are integers), ``x``/``y`` (metres,
    in ``crs``; ``None`` when unknown), and CSR arcs ``indptr`` (int64, ``n + 1``), ``indices``
    (int32 head nodes), ``weights`` (minutes), ``length`` (metres), ``highway`` (road class
    per arc, or ``None``). ``speeds`` is the speed table used, ``report`` the build counts.
    Node positions ``0 … n − 1`` are what the kernel takes; :meth:`index_of` maps ids to them.
    """

    node_ids: NDArray[Any]
    x: Array
    y: Array
    indptr: IntArray
    indices: NDArray[np.int32]
    weights: Array
    length: Array
    profile: str
    crs: str | None = None
    highway: NDArray[Any] | None = None
    speeds: dict[str, float] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ basics

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_arcs(self) -> int:
        return len(self.indices)

    @property
    def csr(self) -> CSRGraph:
        return CSRGraph(self.indptr, self.indices, self.weights)

    @cached_property
    def _id_index(self) -> pd.Index:
        return pd.Index(self.node_ids)

    @cached_property
    def _tree(self) -> cKDTree:
        return cKDTree(np.column_stack([self.x, self.y]))

    def index_of(self, ids: ArrayLike) -> IntArray:
        """Positions of node ids (unknown ids raise, naming up to five)."""
        arr = np.atleast_1d(np.asarray(ids, dtype=self.node_ids.dtype))
        pos = np.asarray(self._id_index.get_indexer(pd.Index(arr)), dtype=np.int64)
        if (pos < 0).any():
            missing = arr[pos < 0]
            raise AccessInputError(t("access.net.err.unknown_nodes", count=len(missing),
                                     ids=", ".join(map(str, missing[:5]))))
        return pos

    def tails(self) -> IntArray:
        """Tail node (position) of every arc, in CSR order."""
        return np.repeat(np.arange(self.n_nodes, dtype=np.int64), np.diff(self.indptr))

    def nodes_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"id": self.node_ids, "x": self.x, "y": self.y})

    def arcs_frame(self) -> pd.DataFrame:
        """One row per arc: ``u``, ``v`` (node ids), ``length_m``, ``minutes``, ``highway``."""
        return pd.DataFrame({"u": self.node_ids[self.tails()],
                             "v": self.node_ids[self.indices],
                             "length_m": self.length, "minutes": self.weights,
                             "highway": self.highway if self.highway is not None else None})

    def to_scipy(self, weight: Literal["minutes", "length"] = "minutes") -> sparse.csr_matrix:
        """``n × n`` ``csr_matrix`` of arc times (or lengths); parallel arcs keep the minimum.

        Zero-time arcs are explicit zeros, which ``scipy.sparse.csgraph`` treats as arcs.
        """
        if weight not in ("minutes", "length"):
            raise AccessInputError(t("access.net.err.weight", value=weight))
        w = self.weights if weight == "minutes" else self.length
        tail = self.tails()
        head = self.indices.astype(np.int64)
        order = np.lexsort((w, head, tail))
        tail, head, w = tail[order], head[order], w[order]
        first = np.ones(len(tail), dtype=bool)
        first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
        counts = np.bincount(tail[first], minlength=self.n_nodes)
        indptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return sparse.csr_matrix((w[first], head[first].astype(np.int32), indptr),
                                 shape=(self.n_nodes, self.n_nodes))

    def with_speeds(self, speed_kmh: SpeedSpec) -> Network:
        """The same network with travel times recomputed from new speeds (same profile)."""
        table = speed_table(self.profile, speed_kmh)
        minutes = self.length / (edge_speeds(self.highway, table, self.n_arcs) * 1000.0 / 60.0)
        return replace(self, weights=minutes, speeds=table)

    # ------------------------------------------------------------------ builders

    @classmethod
    def from_arrays(cls, node_ids: ArrayLike, x: ArrayLike, y: ArrayLike, u: ArrayLike,
                    v: ArrayLike, length: ArrayLike, *, profile: Profile = "walk",
                    oneway: ArrayLike | None = None, highway: ArrayLike | None = None,
                    speed_kmh: SpeedSpec = None, edge_speed_kmh: ArrayLike | None = None,
                    crs: Any = None, drop_unused: bool = True, filter_classes: bool = True,
                    spatial_order: bool = False,
                    report: Mapping[str, Any] | None = None) -> Network:
        """The network from node arrays and edges given as node *positions* ``u``, ``v``.

        ``oneway``: ``1``/``-1``/``0`` per edge (or anything :func:`parse_oneway` reads);
        ``highway``: road class per edge (profile filter and speeds); ``edge_speed_kmh``: a
        speed per edge (NaN → the profile's speed). Lengths in metres, finite and ``≥ 0``.
        ``filter_classes=False`` keeps every class (the caller has filtered, as the OSM reader
        does with its access tags); ``drop_unused`` drops nodes no kept edge uses;
        ``spatial_order`` stores the nodes along a Z-order curve instead of in input order
        (see :func:`spatial_order`).
        """
        check_profile(profile)
        table = speed_table(profile, speed_kmh)
        ids = np.asarray(node_ids)
        if ids.dtype.kind in "iu":
            ids = ids.astype(np.int64)
        elif ids.dtype.kind != "O":
            ids = ids.astype(object)
        xs = np.asarray(x, dtype=float)
        ys = np.asarray(y, dtype=float)
        n = len(ids)
        if len(xs) != n or len(ys) != n:
            raise AccessInputError(t("access.net.err.node_arrays", n=n, x=len(xs), y=len(ys)))
        if n and not (np.isfinite(xs).all() and np.isfinite(ys).all()):
            raise AccessInputError(t("access.net.err.coords"))
        if len(pd.Index(ids).unique()) != n:
            raise AccessInputError(t("access.net.err.duplicate_nodes"))
        uu = np.asarray(u, dtype=np.int64).ravel()
        vv = np.asarray(v, dtype=np.int64).ravel()
        ln = np.asarray(length, dtype=float).ravel()
        k = len(uu)
        if len(vv) != k or len(ln) != k:
            raise AccessInputError(t("access.net.err.edge_arrays", u=k, v=len(vv), length=len(ln)))
        if k and (min(uu.min(), vv.min()) < 0 or max(uu.max(), vv.max()) >= n):
            raise AccessInputError(t("access.net.err.arc_nodes", n=n))
        bad = ~np.isfinite(ln) | (ln < 0)
        if bad.any():
            raise AccessInputError(t("access.net.err.length", count=int(bad.sum())))
        direction = (np.zeros(k, dtype=np.int8) if oneway is None
                     else parse_oneway(oneway)).ravel()
        if len(direction) != k:
            raise AccessInputError(t("access.net.err.edge_arrays", u=k, v=len(direction),
                                     length=k))
        hw = None if highway is None else np.asarray(highway, dtype=object).ravel()
        if hw is not None and len(hw) != k:
            raise AccessInputError(t("access.net.err.edge_arrays", u=k, v=len(hw), length=k))
        esp = None if edge_speed_kmh is None else np.asarray(edge_speed_kmh, dtype=float).ravel()
        if esp is not None:
            if len(esp) != k:
                raise AccessInputError(t("access.net.err.edge_arrays", u=k, v=len(esp),
                                         length=k))
            given = ~np.isnan(esp)
            if (given & ~(np.isfinite(esp) & (esp > 0))).any():
                bad_v = esp[given & ~(np.isfinite(esp) & (esp > 0))][0]
                raise AccessInputError(t("access.net.err.speed", value=bad_v, cls="speed_kmh",
                                         profile=profile))

        rep: dict[str, Any] = dict(report or {})
        rep.update(profile=profile, edges_in=k)
        keep = np.ones(k, dtype=bool)
        if hw is not None and filter_classes:
            classes = pd.Series(hw, dtype=object).astype(str)
            excluded = classes.isin(EXCLUDED_HIGHWAYS[profile]).to_numpy()
            rep["dropped_by_class"] = {str(c): int(m) for c, m in
                                       classes[excluded].value_counts().items()}
            keep &= ~excluded
        loops = uu == vv
        rep["self_loops"] = int((loops & keep).sum())
        keep &= ~loops
        if not keep.any():
            raise AccessInputError(t("access.net.err.no_edges", profile=profile, k=k))
        uu, vv, ln, direction = uu[keep], vv[keep], ln[keep], direction[keep]
        hw = hw[keep] if hw is not None else None
        esp = esp[keep] if esp is not None else None
        if profile == "walk":
            direction = np.zeros_like(direction)
        speed = edge_speeds(hw, table, len(uu))
        if esp is not None:
            speed = np.where(np.isnan(esp), speed, esp)
        minutes = ln / (speed * 1000.0 / 60.0)

        fwd = direction >= 0
        bwd = direction <= 0
        tail = np.concatenate([uu[fwd], vv[bwd]])
        head = np.concatenate([vv[fwd], uu[bwd]])
        arc_len = np.concatenate([ln[fwd], ln[bwd]])
        arc_min = np.concatenate([minutes[fwd], minutes[bwd]])
        arc_hw = None if hw is None else np.concatenate([hw[fwd], hw[bwd]])
        if drop_unused:
            used = np.zeros(n, dtype=bool)
            used[tail] = True
            used[head] = True
            rep["unused_nodes"] = int(n - used.sum())
            if not used.all():
                new = np.cumsum(used) - 1
                ids, xs, ys = ids[used], xs[used], ys[used]
                tail, head = new[tail], new[head]
                n = len(ids)
        if spatial_order and n:
            perm = z_order(xs, ys)
            new = np.empty(n, dtype=np.int64)
            new[perm] = np.arange(n, dtype=np.int64)
            ids, xs, ys = ids[perm], xs[perm], ys[perm]
            tail, head = new[tail], new[head]
        order = np.argsort(tail, kind="stable")
        graph = arcs_to_csr(n, tail, head, arc_min)
        rep.update(nodes=n, arcs=len(tail))
        return cls(ids, xs, ys, graph.indptr, graph.indices, graph.weights, arc_len[order],
                   profile, _crs_string(crs), None if arc_hw is None else arc_hw[order],
                   table, rep)

    @classmethod
    def from_edges(cls, edges: Any, nodes: Any = None, *, profile: Profile = "walk",
                   speed_kmh: SpeedSpec = None, crs: Any = None,
                   columns: Mapping[str, str] | None = None) -> Network:
        """The network from an edge list (DataFrame, CSV or Parquet path).

        Edge columns: ``u``, ``v`` (node ids; required), ``length`` (metres) or ``geometry``
        (lines as shapely objects, WKT or WKB; their length is used), ``oneway``, ``highway``,
        ``speed_kmh`` (all optional). Node coordinates come from ``nodes`` (columns ``id`` and
        ``x``/``y`` in ``crs``, metres, or ``lon``/``lat``) or else from the first and last
        vertex of each edge geometry. Without a ``length`` the length of the geometry, or else
        the straight line between the two nodes, is used. ``columns`` renames input columns
        (``{"from": "u", "to": "v"}``). Nodes are stored along a Z-order curve, whatever
        order the file lists them in (:func:`z_order`).
        """
        df = read_table(edges)
        if columns:
            df = df.rename(columns=dict(columns))
        missing = [c for c in ("u", "v") if c not in df.columns]
        if missing:
            raise AccessInputError(t("access.net.err.columns", columns=", ".join(missing),
                                     what=t("access.net.what.edges")))
        geoms = _geometries(df["geometry"]) if "geometry" in df.columns else None
        geo_crs = getattr(df, "crs", None) if geoms is not None else None
        lonlat_geoms = False
        if geoms is not None:
            from pyproj import CRS

            gcrs = geo_crs if geo_crs is not None else crs
            lonlat_geoms = gcrs is not None and CRS.from_user_input(gcrs).is_geographic
        target_crs: str | None = None
        if nodes is not None:
            nd = read_table(nodes)
            if columns:
                nd = nd.rename(columns=dict(columns))
            if "id" not in nd.columns:
                raise AccessInputError(t("access.net.err.columns", columns="id",
                                         what=t("access.net.what.nodes")))
            if {"lon", "lat"} <= set(nd.columns):
                x, y, target_crs = project_lonlat(nd["lon"], nd["lat"])
            elif {"x", "y"} <= set(nd.columns):
                x = nd["x"].to_numpy(dtype=float)
                y = nd["y"].to_numpy(dtype=float)
                target_crs = _crs_string(crs)
            else:
                raise AccessInputError(t("access.net.err.columns", columns="x/y, lon/lat",
                                         what=t("access.net.what.nodes")))
            node_ids = nd["id"].to_numpy()
        elif geoms is not None:
            start = shapely.get_point(geoms, 0)
            end = shapely.get_point(geoms, -1)
            if shapely.is_missing(start).any() or shapely.is_missing(end).any():
                raise AccessInputError(t("access.net.err.not_lines"))
            ids_all = pd.concat([df["u"], df["v"]], ignore_index=True)
            pts = np.concatenate([shapely.get_coordinates(start), shapely.get_coordinates(end)])
            first = ~ids_all.duplicated().to_numpy()
            node_ids = ids_all[first].to_numpy()
            x, y = pts[first, 0], pts[first, 1]
            if lonlat_geoms:
                x, y, target_crs = project_lonlat(x, y)
            else:
                target_crs = _crs_string(geo_crs if geo_crs is not None else crs)
        else:
            raise AccessInputError(t("access.net.err.no_coords"))
        index = pd.Index(node_ids)
        if not index.is_unique:
            raise AccessInputError(t("access.net.err.duplicate_nodes"))
        u = index.get_indexer(df["u"])
        v = index.get_indexer(df["v"])
        if (u < 0).any() or (v < 0).any():
            unknown = pd.concat([df["u"][u < 0], df["v"][v < 0]]).unique()
            raise AccessInputError(t("access.net.err.unknown_nodes", count=len(unknown),
                                     ids=", ".join(map(str, unknown[:5]))))
        if "length" in df.columns:
            length = df["length"].to_numpy(dtype=float)
        elif geoms is not None:
            if lonlat_geoms:
                import geopandas as gpd

                gs = gpd.GeoSeries(geoms, crs=geo_crs if geo_crs is not None else crs)
                length = np.asarray(gs.to_crs(target_crs).length, dtype=float)
            else:
                length = np.asarray(shapely.length(geoms), dtype=float)
        else:
            length = np.hypot(x[u] - x[v], y[u] - y[v])
        return cls.from_arrays(
            node_ids, x, y, u, v, length, profile=profile,
            oneway=df["oneway"].to_numpy() if "oneway" in df.columns else None,
            highway=df["highway"].to_numpy() if "highway" in df.columns else None,
            speed_kmh=speed_kmh,
            edge_speed_kmh=df["speed_kmh"].to_numpy(dtype=float)
            if "speed_kmh" in df.columns else None,
            crs=target_crs, spatial_order=True, report={"source": "edges"})

    @classmethod
    def from_lines(cls, lines: Any, *, layer: str | None = None, profile: Profile = "walk",
                   speed_kmh: SpeedSpec = None, node_tolerance: float = 0.01,
                   crs: Any = None) -> Network:
        """The network from a line layer (a path read with pyogrio, or a GeoDataFrame).

        Each line joins its first and last vertex; end points within ``node_tolerance`` metres
        are one node (see the module notes). Attribute columns ``oneway``, ``highway`` and
        ``speed_kmh`` are used when present. A layer without a CRS needs ``crs``. Node ids are
        ``0 … n − 1`` in order of first appearance (their positions follow :func:`z_order`).
        """
        import geopandas as gpd

        if isinstance(lines, gpd.GeoDataFrame):
            gdf = lines
        else:
            path = Path(lines)
            if not path.exists():
                raise AccessInputError(t("access.net.err.no_file", path=str(path)))
            gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
        if not (np.isfinite(node_tolerance) and node_tolerance >= 0):
            raise AccessInputError(t("access.net.err.tolerance", value=node_tolerance))
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        if len(gdf) == 0:
            raise AccessInputError(t("access.net.err.empty_layer"))
        gdf = gdf.explode(index_parts=False)
        if not set(gdf.geom_type.unique()) <= {"LineString", "LinearRing"}:
            raise AccessInputError(t("access.net.err.not_lines"))
        gdf = _metric_gdf(gdf, crs)
        geoms = gdf.geometry.to_numpy()
        k = len(geoms)
        ends = np.empty((2 * k, 2))
        ends[0::2] = shapely.get_coordinates(shapely.get_point(geoms, 0))
        ends[1::2] = shapely.get_coordinates(shapely.get_point(geoms, -1))
        label = _cluster_points(ends, node_tolerance)
        # node ids 0, 1, … in order of first appearance (line 0 start, line 0 end, line 1 …);
        # a merged node keeps the coordinates of its first end point
        _, first, inverse = np.unique(label, return_index=True, return_inverse=True)
        order = np.argsort(first)
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        node_of = rank[np.asarray(inverse).ravel()]
        xy = ends[first[order]]
        u, v = node_of[0::2], node_of[1::2]
        return cls.from_arrays(
            np.arange(len(xy), dtype=np.int64), xy[:, 0], xy[:, 1], u, v,
            np.asarray(shapely.length(geoms), dtype=float), profile=profile,
            oneway=gdf["oneway"].to_numpy() if "oneway" in gdf.columns else None,
            highway=gdf["highway"].to_numpy() if "highway" in gdf.columns else None,
            speed_kmh=speed_kmh,
            edge_speed_kmh=gdf["speed_kmh"].to_numpy(dtype=float)
            if "speed_kmh" in gdf.columns else None,
            crs=gdf.crs, spatial_order=True, report={"source": "lines", "lines": k})

    @classmethod
    def from_osm(cls, path: str | Path, *, profile: Profile = "walk",
                 speed_kmh: SpeedSpec = None) -> Network:
        """The network from an OpenStreetMap PBF/XML file (see :mod:`cocity.access.osm`)."""
        from cocity.access.osm import read_osm

        return read_osm(path, profile=profile, speed_kmh=speed_kmh)

    # ------------------------------------------------------------------ cleaning

    def subgraph(self, keep: ArrayLike) -> Network:
        """The network on the nodes where ``keep`` (boolean, per node) is true."""
        mask = np.asarray(keep, dtype=bool)
        if mask.shape != (self.n_nodes,):
            raise AccessInputError(t("access.net.err.mask", n=self.n_nodes, shape=mask.shape))
        tail = self.tails()
        arc = mask[tail] & mask[self.indices]
        new = np.cumsum(mask) - 1
        g = arcs_to_csr(int(mask.sum()), new[tail[arc]], new[self.indices[arc]],
                        self.weights[arc])
        # arcs_to_csr sorts stably by tail, and the kept arcs are already in tail order
        return replace(self, node_ids=self.node_ids[mask], x=self.x[mask], y=self.y[mask],
                       indptr=g.indptr, indices=g.indices, weights=g.weights,
                       length=self.length[arc],
                       highway=None if self.highway is None else self.highway[arc],
                       report={**self.report, "nodes": int(mask.sum()), "arcs": int(arc.sum())})

    def components(self, kind: Literal["strong", "weak"] = "strong") -> tuple[int, IntArray]:
        """Number of connected components and the component label of every node."""
        if kind not in ("strong", "weak"):
            raise AccessInputError(t("access.net.err.component_kind", value=kind))
        structure = sparse.csr_matrix(
            (np.ones(self.n_arcs, dtype=np.int8), self.indices, self.indptr),
            shape=(self.n_nodes, self.n_nodes))
        ncomp, labels = connected_components(structure, directed=True, connection=kind)
        return int(ncomp), np.asarray(labels, dtype=np.int64)

    def largest_component(self, kind: Literal["strong", "weak"] = "strong"
                          ) -> tuple[Network, ComponentReport]:
        """The largest connected component (by nodes; ties: the one with the lowest node).

        ``"strong"`` (default): every kept node reaches every other along the arcs' directions.
        ``"weak"``: arcs taken as undirected. Returns the cleaned network and a report.
        """
        if self.n_nodes == 0:
            raise AccessInputError(t("access.net.err.empty_network"))
        ncomp, labels = self.components(kind)
        sizes = np.bincount(labels, minlength=ncomp)
        best = int(np.argmax(sizes))
        mask = labels == best
        net = self.subgraph(mask)
        others = np.sort(np.delete(sizes, best))[::-1]
        rep = ComponentReport(kind, ncomp, int(mask.sum()), int((~mask).sum()),
                              self.n_arcs - net.n_arcs, [int(s) for s in others[:10]],
                              self.node_ids[~mask])
        net.report["component"] = {"kind": kind, "n_components": ncomp,
                                   "dropped_nodes": rep.dropped_nodes,
                                   "dropped_arcs": rep.dropped_arcs}
        return net, rep

    # ------------------------------------------------------------------ snapping

    def snap(self, points: Any, *, max_snap: float = 500.0, crs: Any = None,
             on_far: Literal["flag", "raise"] = "flag") -> Snapped:
        """Nearest node of each point (see the module notes).

        ``points``: an ``(n, 2)`` array of ``x``/``y`` in the network's CRS (or in ``crs``), a
        DataFrame with ``x``/``y`` or ``lon``/``lat`` columns, or a GeoSeries/GeoDataFrame
        (reprojected; non-point geometries use their representative point). Points farther than
        ``max_snap`` metres are flagged and excluded (``on_far="flag"``) or raise
        (``"raise"``).
        """
        if not (np.isfinite(max_snap) and max_snap >= 0):
            raise AccessInputError(t("access.net.err.max_snap", value=max_snap))
        if on_far not in ("flag", "raise"):
            raise AccessInputError(t("access.net.err.on_far", value=on_far))
        if self.n_nodes == 0:
            raise AccessInputError(t("access.net.err.empty_network"))
        xy = self.point_coords(points, crs)
        dist, node = self._tree.query(xy) if len(xy) else (np.zeros(0), np.zeros(0, int))
        dist = np.asarray(dist, dtype=float)
        ok = dist <= max_snap
        if on_far == "raise" and not ok.all():
            far = np.flatnonzero(~ok)
            raise AccessInputError(t("access.net.err.far_points", count=len(far),
                                     max_snap=max_snap, first=", ".join(map(str, far[:5])),
                                     worst=float(dist.max())))
        nodes = np.where(ok, np.asarray(node, dtype=np.int64), -1)
        ids = np.empty(len(nodes), dtype=object)
        ids[ok] = self.node_ids[nodes[ok]]
        return Snapped(nodes, ids, dist, ok, float(max_snap))

    def point_coords(self, points: Any, crs: Any = None) -> Array:
        """``(n, 2)`` coordinates of ``points`` in the network's CRS (inputs as :meth:`snap`)."""
        import geopandas as gpd

        if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
            geo = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
            if geo.isna().any() or geo.is_empty.any():
                raise AccessInputError(t("access.net.err.points_missing"))
            if geo.crs is None and crs is None:
                xy_raw = geo.representative_point()
            else:
                if self.crs is None:
                    raise AccessInputError(t("access.net.err.network_crs"))
                src = geo if geo.crs is not None else geo.set_crs(crs)
                xy_raw = src.to_crs(self.crs).representative_point()
            return np.column_stack([xy_raw.x.to_numpy(), xy_raw.y.to_numpy()])
        if isinstance(points, pd.DataFrame):
            if {"lon", "lat"} <= set(points.columns):
                if self.crs is None:
                    raise AccessInputError(t("access.net.err.network_crs"))
                x, y, _ = project_lonlat(points["lon"], points["lat"], self.crs)
                xy = np.column_stack([x, y])
            elif {"x", "y"} <= set(points.columns):
                xy = points[["x", "y"]].to_numpy(dtype=float)
            else:
                raise AccessInputError(t("access.net.err.columns", columns="x/y, lon/lat",
                                         what=t("access.net.what.points")))
        else:
            xy = np.asarray(points, dtype=float)
            if xy.ndim == 1 and xy.size == 2:
                xy = xy.reshape(1, 2)
            if xy.ndim != 2 or xy.shape[1] != 2:
                raise AccessInputError(t("access.net.err.points_shape", shape=xy.shape))
            if crs is not None and self.crs is not None and _crs_string(crs) != self.crs:
                from pyproj import Transformer

                tr = Transformer.from_crs(crs, self.crs, always_xy=True)
                xx, yy = tr.transform(xy[:, 0], xy[:, 1])
                xy = np.column_stack([xx, yy])
        if not np.isfinite(xy).all():
            raise AccessInputError(t("access.net.err.points_missing"))
        return xy



def _spread_bits(v: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Interleave zeros between the low 16 bits of ``v`` (for Morton codes)."""
    v = v & np.uint64(0xFFFF)
    v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
    v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
    v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
    return (v | (v << np.uint64(1))) & np.uint64(0x55555555)


def z_order(x: ArrayLike, y: ArrayLike) -> IntArray:
    """The permutation that sorts points along a Z-order (Morton) curve.

    Coordinates are quantised to 16 bits over their bounding box and their bits interleaved;
    nodes close in space then sit close in memory, so a bounded search touches few cache lines
    (OSM node ids, for one, carry no spatial order). Ties keep their input order.
    """
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    if len(xs) == 0:
        return np.zeros(0, dtype=np.int64)
    span = max(float(np.ptp(xs)), float(np.ptp(ys))) or 1.0
    qx = ((xs - xs.min()) / span * 65535).astype(np.uint64)
    qy = ((ys - ys.min()) / span * 65535).astype(np.uint64)
    key = _spread_bits(qx) | (_spread_bits(qy) << np.uint64(1))
    return np.argsort(key, kind="stable").astype(np.int64)


def _cluster_points(xy: Array, tol: float) -> IntArray:
    """Label points so that points within ``tol`` of each other (transitively) share a label."""
    if tol == 0 or len(xy) < 2:
        _, inv = np.unique(xy, axis=0, return_inverse=True)
        return np.asarray(inv, dtype=np.int64).ravel()
    pairs = cKDTree(xy).query_pairs(tol, output_type="ndarray")
    n = len(xy)
    adj = sparse.csr_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])),
                            shape=(n, n))
    _, labels = connected_components(adj, directed=False)
    return np.asarray(labels, dtype=np.int64)
