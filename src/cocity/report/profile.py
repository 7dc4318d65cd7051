"""The data profile of a store: its units, indicators, years, coverage and values.

:func:`build_profile` reads a :class:`~cocity.data.store.Store` and returns a :class:`Profile`,
plain data (frames, dicts, GeoJSON) with no figures and no I/O, which the renderers turn into a
terminal summary and an HTML page.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cocity.data.errors import CocityError
from cocity.data.schema import LEVELS, MEMBERSHIPS
from cocity.data.store import Store
from cocity.i18n import t

DEFAULT_INDICATOR = "urban_share"
# Preferred level for the choropleth and distributions when none is asked for: finest first.
LEVEL_PREFERENCE = ("county", "prefecture", "province")
# Boundaries are simplified for display: 0.002° is about 200 m, under one screen pixel when the
# whole region fills the map, and coordinates keep 4 decimals (about 10 m).
SIMPLIFY_TOLERANCE = 0.002
COORD_DECIMALS = 4
# Membership category of units whose membership is not recorded.
UNSPECIFIED = "unspecified"


class ProfileError(CocityError):
    """The profile cannot be built as asked."""


class EmptyWorkspaceError(ProfileError):
    """The store holds no units or no observations."""


class UnknownIndicatorError(ProfileError):
    """The requested indicator is not in the catalog."""


class NoDataError(ProfileError):
    """The requested indicator has no values for the requested year or level."""


@dataclass(frozen=True)
class ValueMap:
    """Values of one indicator in one year at one level: the data of a choropleth.

    ``values`` has one row per unit of the level that has a boundary, ordered by code, with
    columns code, name_zh, name_en, value (NaN: no data), simulated, imputed.
    """

    indicator: str
    year: int
    level: str
    values: pd.DataFrame


@dataclass(frozen=True)
class Distribution:
    """All non-missing values of one indicator at one level (every year), for a box plot."""

    indicator: str
    level: str
    values: pd.DataFrame  # code, name_zh, name_en, year, value, simulated


@dataclass(frozen=True)
class Profile:
    """What a store holds. Built by :func:`build_profile`; rendered by :mod:`cocity.report`."""

    dataset: str  # embedded dataset key, workspace folder name, or "" when unnamed
    title_zh: str
    title_en: str
    info: dict[str, Any]  # the embedded dataset's dataset.yaml, or {}
    datum: str
    units: pd.DataFrame  # the units' columns plus has_boundary
    unit_counts: pd.DataFrame  # index level, columns memberships + "total"
    catalog: pd.DataFrame  # the catalog plus n_values, n_simulated, n_imputed, years, levels
    years: tuple[int, ...]
    n_observations: int
    n_values: int  # observations with a non-missing value
    n_simulated: int
    n_imputed: int
    coverage: pd.DataFrame  # indicator, level, year, n_units, non_missing, simulated, share
    missingness: pd.DataFrame  # index indicator: expected, observed, missing, missing_share
    distributions: tuple[Distribution, ...]
    membership_level: str
    membership: pd.DataFrame  # units of membership_level with a boundary
    choropleth: ValueMap
    boundaries: dict[str, dict[str, Any]]  # level -> simplified GeoJSON FeatureCollection
    sources: pd.DataFrame  # source, license, n_indicators
    obs_sources: pd.DataFrame  # source (the observations' provenance tag), n, simulated

    @property
    def fill_rate(self) -> float:
        """Share of expected (unit, year, indicator) cells that hold a value."""
        expected = int(self.missingness["expected"].sum())
        return float(self.missingness["observed"].sum()) / expected if expected else 0.0

    def indicator_name(self, indicator: str, lang: str) -> str:
        return str(self.catalog.at[indicator, f"name_{lang}"])


Step = Callable[[str], None]


def build_profile(
    store: Store,
    indicator: str | None = None,
    year: int | None = None,
    level: str | None = None,
    *,
    distributions: list[str] | None = None,
    on_step: Step | None = None,
) -> Profile:
    """Profile ``store``; the choropleth shows ``indicator`` in ``year`` at ``level``.

    Defaults: ``urban_share`` (else the indicator with most values), the finest level where it
    has data, its latest year there. ``distributions`` limits the box plots to some indicators
    (default: all). ``on_step`` is called with a step key before each stage (for progress bars).
    """
    step = on_step or (lambda _key: None)
    step("profile.step.read")
    units = store.units()
    if units.empty:
        raise EmptyWorkspaceError(t("profile.error.no_units"))
    optional = ["parent", "kind", "membership", "tier", "metro"]
    units[optional] = units[optional].astype(object).where(units[optional].notna(), None)
    obs = store.observations()
    if obs.empty:
        raise EmptyWorkspaceError(t("profile.error.no_observations"))
    catalog = store.catalog()
    meta = store.meta()
    level_of = units.set_index("code")["level"]
    obs = obs.assign(level=obs["unit"].map(level_of))
    if level is not None and level not in LEVELS:
        raise ProfileError(t("profile.error.unknown_level", level=level,
                               levels=", ".join(LEVELS)))

    step("profile.step.coverage")
    coverage = _coverage(obs, units)
    missingness = _missingness(coverage, obs)
    catalog = _catalog_summary(catalog, obs)

    step("profile.step.choose")
    ind = _choose_indicator(indicator, catalog, obs)
    lvl = _choose_level(ind, level, obs)
    yr = _choose_year(ind, year, lvl, obs)

    step("profile.step.boundaries")
    geo = store.geodata()
    units = units.assign(has_boundary=units["code"].isin(
        geo.loc[geo.geometry.notna() & ~geo.geometry.is_empty, "code"]).to_numpy())
    membership_level = _membership_level(units)
    levels_needed = {membership_level, lvl}
    if membership_level == "county" and (units["level"] == "prefecture").any():
        levels_needed.add("prefecture")  # prefecture outlines drawn over the county map
    boundaries = {lv: geojson_of(geo[geo["level"] == lv]) for lv in sorted(levels_needed)}

    step("profile.step.values")
    choropleth = _value_map(ind, yr, lvl, obs, units)
    wanted = list(catalog.index) if distributions is None else distributions
    unknown = [i for i in wanted if i not in catalog.index]
    if unknown:
        raise UnknownIndicatorError(_unknown_message(unknown[0], catalog))
    dists = tuple(d for i in wanted if (d := _distribution(i, lvl, obs, units)) is not None)

    title_zh, title_en, info = _titles(store, meta)
    return Profile(
        dataset=meta.get("dataset") or (store.path.name if store.path else ""),
        title_zh=title_zh,
        title_en=title_en,
        info=info,
        datum=str(geo.attrs.get("datum", "WGS-84")),
        units=units,
        unit_counts=_unit_counts(units),
        catalog=catalog,
        years=tuple(sorted(int(y) for y in obs["year"].unique())),
        n_observations=len(obs),
        n_values=int(obs["value"].notna().sum()),
        n_simulated=int(obs["simulated"].sum()),
        n_imputed=int(obs["imputed"].sum()),
        coverage=coverage,
        missingness=missingness,
        distributions=dists,
        membership_level=membership_level,
        membership=units[(units["level"] == membership_level) & units["has_boundary"]]
        .reset_index(drop=True),
        choropleth=choropleth,
        boundaries=boundaries,
        sources=_sources(catalog),
        obs_sources=(obs.assign(source=obs["source"].fillna(""))
                     .groupby("source", as_index=False)
                     .agg(n=("value", "size"), simulated=("simulated", "sum"))),
    )


# ---------------------------------------------------------------------- choices and errors
def _unknown_message(indicator: str, catalog: pd.DataFrame) -> str:
    ids = list(catalog.index)
    close = difflib.get_close_matches(indicator, ids, n=5, cutoff=0.5)
    if close:
        return t("profile.error.unknown_indicator_close", indicator=indicator,
                 ids=", ".join(close))
    return t("profile.error.unknown_indicator", indicator=indicator, ids=", ".join(ids[:8]),
             n=len(ids))


def _choose_indicator(indicator: str | None, catalog: pd.DataFrame, obs: pd.DataFrame) -> str:
    counts = obs[obs["value"].notna()].groupby("indicator").size()
    if indicator is None:
        if DEFAULT_INDICATOR in counts.index:
            return DEFAULT_INDICATOR
        return str(counts.sort_values(ascending=False, kind="stable").index[0])
    if indicator not in catalog.index:
        # Also accept the exact Chinese or English name.
        by_name = catalog[(catalog["name_zh"] == indicator)
                          | (catalog["name_en"].str.casefold() == indicator.casefold())]
        if len(by_name) != 1:
            raise UnknownIndicatorError(_unknown_message(indicator, catalog))
        indicator = str(by_name.index[0])
    if indicator not in counts.index:
        raise NoDataError(t("profile.error.no_values", indicator=indicator))
    return indicator


def _choose_level(indicator: str, level: str | None, obs: pd.DataFrame) -> str:
    have = obs[(obs["indicator"] == indicator) & obs["value"].notna()]
    levels = [lv for lv in LEVEL_PREFERENCE if (have["level"] == lv).any()]
    if level is None:
        return levels[0]
    if level not in levels:
        raise NoDataError(t("profile.error.no_values_level", indicator=indicator, level=level,
                            levels=", ".join(levels)))
    return level


def _choose_year(indicator: str, year: int | None, level: str, obs: pd.DataFrame) -> int:
    have = obs[(obs["indicator"] == indicator) & (obs["level"] == level) & obs["value"].notna()]
    years = sorted(int(y) for y in have["year"].unique())
    if year is None:
        return years[-1]
    if int(year) not in years:
        raise NoDataError(t("profile.error.no_values_year", indicator=indicator, year=year,
                            level=level, years=", ".join(map(str, years))))
    return int(year)


def _membership_level(units: pd.DataFrame) -> str:
    """The finest level whose units have boundaries (the membership map's level)."""
    for lv in LEVEL_PREFERENCE:
        if (units["has_boundary"] & (units["level"] == lv)).any():
            return lv
    raise EmptyWorkspaceError(t("profile.error.no_boundaries"))


# ---------------------------------------------------------------------- tables
def _unit_counts(units: pd.DataFrame) -> pd.DataFrame:
    membership = units["membership"].fillna(UNSPECIFIED)
    table = pd.crosstab(units["level"], membership)
    cols = [m for m in (*MEMBERSHIPS, UNSPECIFIED) if m in table.columns]
    table = table.reindex(columns=cols, fill_value=0)
    table = table.reindex([lv for lv in LEVELS if lv in table.index])
    table["total"] = table.sum(axis=1)
    table.columns.name = None
    return table


def _coverage(obs: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Non-missing values per indicator, level and year, against the units of that level."""
    n_units = units.groupby("level").size()
    cov = (obs.assign(has=obs["value"].notna(), sim=obs["value"].notna() & obs["simulated"])
           .groupby(["indicator", "level", "year"], as_index=False)
           .agg(non_missing=("has", "sum"), simulated=("sim", "sum")))
    cov["n_units"] = cov["level"].map(n_units).astype(int)
    cov["non_missing"] = cov["non_missing"].astype(int)
    cov["simulated"] = cov["simulated"].astype(int)
    cov["share"] = cov["non_missing"] / cov["n_units"]
    return cov[["indicator", "level", "year", "n_units", "non_missing", "simulated", "share"]]


def _missingness(coverage: pd.DataFrame, obs: pd.DataFrame) -> pd.DataFrame:
    """Per indicator: cells expected (units × years at every level where it is published),
    cells with a value, and the missing share."""
    agg = coverage.groupby("indicator").agg(expected=("n_units", "sum"),
                                            observed=("non_missing", "sum"))
    agg["missing"] = agg["expected"] - agg["observed"]
    agg["missing_share"] = agg["missing"] / agg["expected"]
    flags = obs.groupby("indicator")[["simulated", "imputed"]].sum().astype(int)
    return agg.join(flags).fillna(0)


def _catalog_summary(catalog: pd.DataFrame, obs: pd.DataFrame) -> pd.DataFrame:
    g = obs[obs["value"].notna()].groupby("indicator")
    out = catalog.copy()
    out["n_values"] = g.size().reindex(out.index, fill_value=0).astype(int)
    out["n_simulated"] = obs.groupby("indicator")["simulated"].sum().reindex(
        out.index, fill_value=0).astype(int)
    out["n_imputed"] = obs.groupby("indicator")["imputed"].sum().reindex(
        out.index, fill_value=0).astype(int)
    years: dict[str, tuple[int, ...]] = {
        str(i): tuple(sorted(int(y) for y in s.unique())) for i, s in g["year"]}
    levels: dict[str, tuple[str, ...]] = {
        str(i): tuple(lv for lv in LEVELS if lv in set(s)) for i, s in g["level"]}
    out["years"] = [years.get(str(i), ()) for i in out.index]
    out["levels"] = [levels.get(str(i), ()) for i in out.index]
    return out


def _sources(catalog: pd.DataFrame) -> pd.DataFrame:
    src = catalog[["source", "license"]].fillna("").astype(str)
    out = src.groupby(["source", "license"]).size().rename("n_indicators").reset_index()
    return out[out["source"] != ""].reset_index(drop=True)


def _titles(store: Store, meta: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    from cocity.datasets import DATASETS, read_info

    key = meta.get("dataset")
    info: dict[str, Any] = dict(read_info(key)) if key in DATASETS else {}
    zh = info.get("title_zh") or info.get("name_zh")
    en = info.get("title_en") or info.get("name_en")
    if zh and en:
        return str(zh), str(en), info
    if key or store.path is not None:
        name = key or (store.path.name if store.path else "")
        return str(name), str(name), info
    return t("profile.dataset.unnamed", "zh"), t("profile.dataset.unnamed", "en"), info


# ---------------------------------------------------------------------- values
def _named(frame: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    names = units.set_index("code")[["name_zh", "name_en"]]
    return frame.join(names, on="code")


def _value_map(indicator: str, year: int, level: str, obs: pd.DataFrame,
               units: pd.DataFrame) -> ValueMap:
    mapped = units.loc[(units["level"] == level) & units["has_boundary"],
                       ["code", "name_zh", "name_en"]]
    sel = obs[(obs["indicator"] == indicator) & (obs["year"] == year)]
    sel = sel[["unit", "value", "simulated", "imputed"]].rename(columns={"unit": "code"})
    values = mapped.merge(sel, on="code", how="left")
    values["value"] = values["value"].astype(float)
    values["simulated"] = values["simulated"].fillna(False).astype(bool)
    values["imputed"] = values["imputed"].fillna(False).astype(bool)
    return ValueMap(indicator, year, level, values.sort_values("code").reset_index(drop=True))


def _distribution(indicator: str, level: str, obs: pd.DataFrame,
                  units: pd.DataFrame) -> Distribution | None:
    have = obs[(obs["indicator"] == indicator) & obs["value"].notna()]
    if have.empty:
        return None
    if not (have["level"] == level).any():
        level = str(have["level"].value_counts().index[0])
    sel = have[have["level"] == level][["unit", "year", "value", "simulated"]]
    sel = _named(sel.rename(columns={"unit": "code"}), units)
    sel = sel.sort_values(["year", "code"]).reset_index(drop=True)
    return Distribution(indicator, level, sel[["code", "name_zh", "name_en", "year", "value",
                                               "simulated"]])


# ---------------------------------------------------------------------- geometry
def geojson_of(gdf: gpd.GeoDataFrame) -> dict[str, Any]:
    """Simplified FeatureCollection (``properties.code``, ``bbox``), exterior rings clockwise
    as the spherical geometry of d3-geo, which plotly.js uses, expects."""
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    geoms = np.asarray(gdf.geometry)
    simple = shapely.simplify(geoms, SIMPLIFY_TOLERANCE, preserve_topology=True)
    simple = shapely.transform(simple, lambda xy: np.round(xy, COORD_DECIMALS))
    simple = shapely.orient_polygons(simple, exterior_cw=True)
    features = [
        {"type": "Feature", "id": code, "properties": {"code": code},
         "geometry": shapely.geometry.mapping(g)}
        for code, g in zip(gdf["code"], simple, strict=True)
    ]
    bbox = [float(v) for v in shapely.total_bounds(simple)] if len(features) else []
    return {"type": "FeatureCollection", "bbox": bbox, "features": features}
