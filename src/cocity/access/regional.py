"""A coarse regional travel network and 1-hour commuting circles.

The network links every county-level unit to its contiguous neighbours (queen contiguity of the
real boundaries, :func:`cocity.metrics.weights.queen`) with a **modelled** road time

    t_ij = d_ij · detour / v · 60   [minutes]

where d_ij is the great-circle distance (km) between the two units' representative points, and
adds rail links between the station units of cities with the **published** fastest in-vehicle
times plus access and egress penalties, t = access + in-vehicle + egress. Parameters and rail
links are data (``regional_chengyu.yaml``). Shortest travel times from a core (a set of origin
units, 0 minutes among themselves) come from Dijkstra's algorithm — on a graph this small
(≈ 160 nodes) scipy's implementation is the right tool; the bounded kernel of
:mod:`cocity.access.kernel` is for street networks. A unit belongs to a core's commuting circle
when its time is within the threshold (default 60 min). Every time that uses a road edge is a
modelled figure and is flagged as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import pydantic
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from cocity.access.errors import AccessInputError
from cocity.data.store import Store
from cocity.i18n import t
from cocity.metrics.network import great_circle_km
from cocity.metrics.weights import queen
from cocity.spec import Spec
from cocity.spec import load_spec as _load_spec

SPEC_FILE = "regional_chengyu.yaml"
Code = Annotated[str, pydantic.BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)]
Positive = Annotated[float, pydantic.Field(gt=0)]
NonNegative = Annotated[float, pydantic.Field(ge=0)]


class RoadSpec(Spec):
    """The modelled road times: t = d · detour / v · 60."""

    model_zh: str = ""
    model_en: str = ""
    detour: Positive
    speed_kmh: Positive
    snap_degrees: NonNegative = 1e-3


class RailLink(Spec):
    """A published rail link between the stations of two cities."""

    from_: Code = pydantic.Field(alias="from")
    to: Code
    minutes: Positive
    line: str = ""


class RailSpec(Spec):
    access_minutes: NonNegative = 0.0
    egress_minutes: NonNegative = 0.0
    stations: dict[Code, Code] = pydantic.Field(default_factory=dict)
    links: list[RailLink] = pydantic.Field(default_factory=list)
    source: str = ""

    @pydantic.model_validator(mode="after")
    def _stations_known(self) -> RailSpec:
        unknown = sorted({c for link in self.links for c in (link.from_, link.to)}
                         - set(self.stations))
        if unknown:
            raise ValueError(t("access.reg.no_station", cities=", ".join(unknown)))
        return self


class CoreSpec(Spec):
    name_zh: str
    name_en: str
    counties: list[Code] = pydantic.Field(min_length=1)


class RegionalSpec(Spec):
    """The regional network and its commuting circles (``regional_chengyu.yaml``): road model,
    rail links, one to six cores (the origin units of their circles) and the threshold."""

    road: RoadSpec
    rail: RailSpec = pydantic.Field(default_factory=RailSpec)
    cores: dict[str, CoreSpec] = pydantic.Field(min_length=1, max_length=6)
    threshold_minutes: Positive = 60.0

    def as_dict(self) -> dict[str, Any]:
        """The spec as plain data, keyed as in the file (for manifests and copies)."""
        return self.model_dump(mode="json", by_alias=True)


def default_spec() -> RegionalSpec:
    """The shipped specification (``regional_chengyu.yaml``)."""
    return load_spec()


def load_spec(source: str | Path | Mapping[str, Any] | RegionalSpec | None = None
              ) -> RegionalSpec:
    """A specification from a mapping, a YAML file, or (``None``) the shipped default; every
    problem at once as a :class:`~cocity.spec.SpecError` with its key path."""
    if isinstance(source, RegionalSpec):
        return source
    return _load_spec(RegionalSpec, source, package=__package__, default=SPEC_FILE)


def workspace_spec(store: Store) -> RegionalSpec:
    """The network of a workspace: its own when it carries one (a cluster workspace stores it
    in its metadata, key ``network``; see :mod:`cocity.clusters.build`), else the shipped
    ``regional_chengyu.yaml``."""
    import json

    own = store.meta().get("network")
    return load_spec(json.loads(own) if own else None)


def road_minutes(distance_km: np.ndarray, *, detour: float, speed_kmh: float) -> np.ndarray:
    """Modelled road time t = d · detour / v · 60 (minutes)."""
    if speed_kmh <= 0 or detour <= 0:
        raise AccessInputError(t("access.reg.bad_road", speed=speed_kmh, detour=detour))
    return np.asarray(distance_km, dtype=float) * detour / speed_kmh * 60.0


@dataclass
class RegionalNetwork:
    """Units and their links: ``edges`` has u, v, minutes, mode (road/rail), modelled, line."""

    ids: list[str]
    edges: pd.DataFrame

    def matrix(self) -> sparse.csr_matrix:
        """Directed n × n travel-time matrix (the fastest link per pair)."""
        pos = {c: i for i, c in enumerate(self.ids)}
        best = self.edges.groupby(["u", "v"], as_index=False)["minutes"].min()
        return sparse.csr_matrix(
            (best["minutes"].to_numpy(float),
             (best["u"].map(pos).to_numpy(), best["v"].map(pos).to_numpy())),
            shape=(len(self.ids), len(self.ids)))


def build_regional_network(store: Store,
                           spec: RegionalSpec | Mapping[str, Any] | None = None
                           ) -> RegionalNetwork:
    """Road links between contiguous county-level units plus the spec's rail links (``spec``
    None: the workspace's own, :func:`workspace_spec`)."""
    sp = workspace_spec(store) if spec is None else load_spec(spec)
    road = sp.road
    geo = store.geodata(level="county")
    geo = geo[geo.geometry.notna()].reset_index(drop=True)
    if len(geo) < 2:
        raise AccessInputError(t("access.reg.no_units"))
    w = queen(geo.set_index("code").geometry, snap=road.snap_degrees, islands="nearest")
    coo = sparse.coo_matrix(w.matrix)
    ids = [str(i) for i in w.ids]
    points = geo.set_index("code").loc[ids, ["lon", "lat"]]
    dist = great_circle_km(points).to_numpy()
    minutes = road_minutes(dist[coo.row, coo.col], detour=road.detour,
                           speed_kmh=road.speed_kmh)
    edges = pd.DataFrame({"u": np.asarray(ids)[coo.row], "v": np.asarray(ids)[coo.col],
                          "minutes": minutes, "mode": "road", "modelled": True, "line": ""})
    rail = sp.rail
    if rail.links:
        extra = rail.access_minutes + rail.egress_minutes
        rows = []
        for link in rail.links:
            a, b = rail.stations[link.from_], rail.stations[link.to]
            if a not in ids or b not in ids:
                raise AccessInputError(t("access.reg.bad_station", link=link.model_dump(
                    by_alias=True)))
            for u, v in ((a, b), (b, a)):
                rows.append({"u": u, "v": v, "minutes": link.minutes + extra,
                             "mode": "rail", "modelled": False, "line": link.line})
        edges = pd.concat([edges, pd.DataFrame(rows)], ignore_index=True)
    return RegionalNetwork(ids=ids, edges=edges)


def travel_times(net: RegionalNetwork, origins: list[str]) -> pd.DataFrame:
    """Shortest time (minutes) from the nearest origin to every unit, and whether the path
    uses a modelled road link (every path leaving the origin set does, unless it is rail only)."""
    missing = [o for o in origins if o not in net.ids]
    if missing or not origins:
        raise AccessInputError(t("access.reg.bad_origins", codes=", ".join(missing) or "—"))
    pos = {c: i for i, c in enumerate(net.ids)}
    graph = net.matrix()
    src = [pos[o] for o in origins]
    dist, pred, _ = dijkstra(graph, directed=True, indices=src, min_only=True,
                             return_predecessors=True)
    rail_only = _rail_only_paths(net, pred, set(src))
    return pd.DataFrame({"minutes": dist, "modelled": ~rail_only & (dist > 0)},
                        index=pd.Index(net.ids, name="unit"))


def _rail_only_paths(net: RegionalNetwork, pred: np.ndarray, sources: set[int]) -> np.ndarray:
    """True where the shortest path consists of rail links only (no modelled road time)."""
    pos = {c: i for i, c in enumerate(net.ids)}
    fastest = net.edges.loc[net.edges.groupby(["u", "v"])["minutes"].idxmin()]
    is_rail = {(pos[u], pos[v]): m == "rail" for u, v, m in
               zip(fastest["u"], fastest["v"], fastest["mode"], strict=True)}
    out = np.zeros(len(net.ids), dtype=bool)
    for node in range(len(net.ids)):
        if node in sources or pred[node] < 0:
            continue
        ok, cur = True, node
        while cur not in sources and pred[cur] >= 0:
            ok &= is_rail.get((int(pred[cur]), cur), False)
            cur = int(pred[cur])
        out[node] = ok
    return out


def commuting_circles(net: RegionalNetwork,
                      spec: RegionalSpec | Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Minutes to each core and membership of each core's commuting circle, per unit."""
    sp = load_spec(spec)
    threshold = sp.threshold_minutes
    out = pd.DataFrame(index=pd.Index(net.ids, name="unit"))
    for name, core in sp.cores.items():
        times = travel_times(net, list(core.counties))
        out[f"minutes_{name}"] = times["minutes"].round(1)
        out[f"modelled_{name}"] = times["modelled"]
        out[f"within_{name}"] = times["minutes"] <= threshold
    return out


def commuting_share_circles(flows: pd.DataFrame, cores: dict[str, list[str]], *,
                            threshold: float = 0.10) -> pd.DataFrame:
    """Membership of each core's commuting circle from origin–destination commuting data.

    ``flows`` has columns ``origin``, ``destination``, ``commuters`` (employed residents of the
    origin unit working in the destination unit, own unit included). For unit i and core K:

        share_iK = Σ_{d ∈ K} f_id / Σ_d f_id

    and i belongs to K's circle when share_iK ≥ ``threshold`` (default 10 %, a common
    delineation threshold for Chinese metropolitan areas; the US CBSA rule uses 25 %) or when
    i is in K itself. A unit without outgoing flows gets share 0 and ``no_flows`` True.
    """
    need = {"origin", "destination", "commuters"}
    if not need <= set(flows.columns):
        raise AccessInputError(t("access.reg.bad_flows", columns=", ".join(sorted(need))))
    f = flows.astype({"origin": str, "destination": str})
    commuters = pd.to_numeric(f["commuters"], errors="coerce")
    if commuters.isna().any() or (commuters < 0).any():
        raise AccessInputError(t("access.reg.bad_flow_values"))
    if not 0 < threshold <= 1:
        raise AccessInputError(t("access.reg.bad_threshold", value=threshold))
    f = f.assign(commuters=commuters.astype(float))
    total = f.groupby("origin")["commuters"].sum()
    units = sorted(set(f["origin"]) | set(f["destination"]))
    out = pd.DataFrame(index=pd.Index(units, name="unit"))
    out["no_flows"] = ~out.index.isin(total.index[total > 0])
    for name, members in cores.items():
        members = [str(m) for m in members]
        to_core = f[f["destination"].isin(members)].groupby("origin")["commuters"].sum()
        share = (to_core / total).reindex(out.index).fillna(0.0)
        out[f"share_{name}"] = share.where(~out["no_flows"], 0.0)
        out[f"within_{name}"] = (out[f"share_{name}"] >= threshold) | out.index.isin(members)
    return out
