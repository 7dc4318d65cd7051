"""A cluster's data, cut from the national base: the pure part of ``cocity init --cluster``.

:func:`cluster_data` selects from the national base (``cocity.datasets`` ``china``) the
cluster's member prefecture-level units, all their counties and their provinces, and sets

- ``membership``: a prefecture is ``full`` when the definition takes it whole, ``partial``
  when it names some of its counties; a county is ``full`` when it is in the cluster and
  ``outside`` when it belongs to a partial member but is not named; a province is ``full``
  when all its prefecture-level units are members, else ``partial``;
- ``tier``: ``core`` for the core cities (the definition's ``cores``; for a definition
  without any, its first member) and their urban districts (below), ``node`` for the other
  members (the national base has no finer tiers);
- ``metro``: the key of the metropolitan area a member belongs to (the first one listing it;
  of a prefecture a metro takes only in part, just the counties it names).

The regional network of a cluster (:mod:`cocity.access.regional`) has the modelled road links
of the shipped specification and rail links only where sourced: the definition's ``rail``
names a shipped network spec whose published rail times apply (``regional_chengyu`` for
Chengdu–Chongqing); otherwise there are none. Its cores are the core cities' urban districts:
the districts (kind ``district``) of each core city whose 2020 resident density is at least
1,500 persons/km², the density threshold of an urban centre in the EU–OECD–UN degree of
urbanisation (Dijkstra et al. 2021, *J. Urban Econ.* 125, 103312), applied here to whole
districts; when none reaches it, the densest district. Density uses the boundary's area on the
equal-area EPSG:6933 projection, as the evaluation does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from cocity.clusters.definition import Cluster, Resolved, resolve
from cocity.clusters.errors import ClusterError
from cocity.i18n import t

BASE = "china"
URBAN_DENSITY = 1500.0  # persons per km², EU–OECD–UN degree of urbanisation (urban centre)
MAX_CORES = 6


@dataclass
class ClusterData:
    """Everything a cluster workspace holds, as frames, plus its network spec and notes."""

    cluster: Cluster
    resolved: Resolved
    units: pd.DataFrame
    indicators: pd.DataFrame
    observations: pd.DataFrame
    boundaries: gpd.GeoDataFrame
    datum: str
    network: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def meta(self) -> dict[str, str]:
        """The workspace metadata that makes the cluster reproducible and self-describing."""
        return {"dataset": BASE, "cluster": self.cluster.key,
                "cluster_spec": json.dumps(self.cluster.spec.model_dump(mode="json"),
                                           ensure_ascii=False, sort_keys=True),
                "network": json.dumps(self.network, ensure_ascii=False, sort_keys=True)}


def cluster_data(cluster: Cluster) -> ClusterData:
    """Cut ``cluster`` out of the national base (see the module docstring)."""
    from cocity.datasets import (
        read_boundaries,
        read_indicators,
        read_info,
        read_observations,
        read_units,
    )

    base = read_units(BASE)
    res = resolve(cluster, base)
    units = _member_units(base, res)
    codes = set(units["code"])
    obs = read_observations(BASE)
    obs = obs[obs["unit"].isin(codes)].reset_index(drop=True)
    geo = read_boundaries(BASE)
    geo = geo[geo["code"].isin(codes)].reset_index(drop=True)
    info = read_info(BASE)
    data = ClusterData(cluster=cluster, resolved=res, units=units,
                       indicators=read_indicators(BASE), observations=obs, boundaries=geo,
                       datum=str(info.get("datum", "")), network={})
    data.network = network_spec(data)
    urban = {c for core in data.network["cores"].values() for c in core["counties"]}
    data.units.loc[data.units["code"].isin(urban) & (data.units["level"] == "county"),
                   "tier"] = "core"
    data.units.loc[data.units["code"].isin(list(data.network["cores"])), "tier"] = "core"
    return data


def _member_units(base: pd.DataFrame, res: Resolved) -> pd.DataFrame:
    by_code = base.set_index("code")
    rows = []
    metro_of = {p: key for key, ps in reversed(list(res.metros.items())) for p in ps}

    def county_metro(prefecture: str, county: str) -> str | None:
        """The first metro holding the county: its prefecture whole, or the county named."""
        for key, ps in res.metros.items():
            part = res.metro_counties.get(key, {}).get(prefecture)
            if prefecture in ps and (part is None or county in part):
                return key
        return None

    for code, counties in res.members.items():
        unit = by_code.loc[code]
        if unit["level"] == "county":  # a county-level city under its province (仙桃 …)
            rows.append({"code": code, "membership": "full",
                         "tier": "core" if code in res.cores else "node",
                         "metro": metro_of.get(code)})
            continue
        rows.append({"code": code, "membership": "full" if counties is None else "partial",
                     "tier": "core" if code in res.cores else "node",
                     "metro": metro_of.get(code)})
        for county in base.loc[base["parent"] == code, "code"]:
            inside = counties is None or county in counties
            rows.append({"code": county, "membership": "full" if inside else "outside",
                         "tier": "node" if inside else None,
                         "metro": county_metro(code, county) if inside else None})
    # every member (a prefecture, or a county-level city under its province) has a province
    provinces = sorted({str(by_code.at[c, "parent"]) for c in res.members})
    for prov in provinces:
        children = base[(base["parent"] == prov)]
        whole = all(res.members.get(c, "x") is None for c in children["code"])
        rows.append({"code": prov, "membership": "full" if whole else "partial",
                     "tier": None, "metro": None})
    chosen = pd.DataFrame(rows).drop_duplicates("code").set_index("code")
    out = base[base["code"].isin(chosen.index)].copy()
    for col in ("membership", "tier", "metro"):
        out[col] = out["code"].map(chosen[col]).astype(object)
    return out.sort_values("code").reset_index(drop=True)


def urban_districts(data_units: pd.DataFrame, observations: pd.DataFrame,
                    boundaries: gpd.GeoDataFrame, core: str) -> tuple[list[str], float]:
    """The urban districts of a core city (module docstring) and the density threshold used."""
    districts = data_units[(data_units["parent"] == core) & (data_units["kind"] == "district")
                           & (data_units["membership"] == "full")]
    if districts.empty:  # a city without districts: all its member counties
        districts = data_units[(data_units["parent"] == core)
                               & (data_units["membership"] == "full")]
    pop = observations[(observations["indicator"] == "pop_total")
                       & (observations["year"] == observations["year"].max())]
    pop = pop.set_index("unit")["value"]
    geo = boundaries.set_index("code")
    density = {}
    for code in districts["code"]:
        if code in geo.index and code in pop.index:
            shape = geo.loc[[code]].geometry.set_crs(4326, allow_override=True)
            area = float(shape.to_crs("EPSG:6933").area.iloc[0]) / 1e6
            if area > 0:
                density[code] = float(pop[code]) / area
    if not density:
        return [str(c) for c in districts["code"]], 0.0
    dense = sorted(c for c, d in density.items() if d >= URBAN_DENSITY)
    return (dense or [max(density, key=lambda c: density[c])]), URBAN_DENSITY


def network_spec(data: ClusterData) -> dict[str, Any]:
    """The cluster's regional network: the shipped road model, the sourced rail links of the
    spec the definition names in ``rail`` (none otherwise), the urban districts of its cores
    (of its first member when it names no core)."""
    from importlib import resources

    from cocity.access.regional import RegionalSpec
    from cocity.spec import load_spec

    rail_spec = data.cluster.spec.rail
    if rail_spec and not (resources.files("cocity.access") / f"{rail_spec}.yaml").is_file():
        raise ClusterError(t("clusters.err.rail", name=rail_spec))
    shipped = load_spec(RegionalSpec, None, package="cocity.access",
                        default=f"{rail_spec or 'regional_chengyu'}.yaml").as_dict()
    units = data.units.set_index("code")
    cores = data.resolved.cores or [next(iter(data.resolved.members))]
    if len(cores) > MAX_CORES:
        raise ClusterError(t("clusters.err.cores", n=len(cores), max=MAX_CORES))
    spec_cores = {}
    for core in cores:
        if units.at[core, "level"] == "county":
            counties = [core]
        else:
            counties, _ = urban_districts(data.units, data.observations, data.boundaries, core)
        spec_cores[core] = {"name_zh": str(units.at[core, "name_zh"]),
                            "name_en": str(units.at[core, "name_en"]), "counties": counties}
    rail = shipped["rail"] if rail_spec else {"source": t("clusters.no_rail",
                                                                          "en")}
    return {"road": shipped["road"], "rail": rail,
            "cores": spec_cores, "threshold_minutes": shipped["threshold_minutes"]}


def load_cluster_into(store: Any, data: ClusterData) -> None:
    """Write a cluster's data into an empty store (units, catalog, observations, boundaries,
    metadata)."""
    src = f"{BASE}/units.csv#cluster={data.cluster.key}"
    store.add_units(data.units, source=src)
    store.add_indicators(data.indicators, source=f"{BASE}/indicators.csv")
    store.add_observations(data.observations, replace=True, kind="dataset")
    store.add_geometries(data.boundaries, datum=data.datum)
    for key, value in data.meta().items():
        store.set_meta(key, value)


def open_cluster(cluster: Cluster) -> Any:
    """An in-memory store holding ``cluster`` cut from the national base (a
    :class:`~cocity.data.store.Store`; for comparisons and tests, no workspace folder)."""
    from cocity.data.store import Store

    store = Store.open(None)
    load_cluster_into(store, cluster_data(cluster))
    return store
