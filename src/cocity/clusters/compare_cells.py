"""The rows of a comparison of clusters (:mod:`cocity.clusters.compare`): which figures,
how each cell is read from the diagnostics of one cluster or computed from its store (size and
public services), the notes explaining every cell that cannot be computed, and the
definitions table.

Each figure's definition (name, unit, formula, source) is the set of labels
``cmp.fig.{key}.*`` in ``i18n/clusters_compare.yaml``; :func:`definitions_table` gathers them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cocity.i18n import LANGS, t

AMENITIES = ("hh_piped_water_share", "hh_kitchen_share", "hh_toilet_share", "hh_bath_share")
BEDS = "hospital_beds_per_1000"
POPULATION = "pop_total"
CENSUS_YEAR = 2020
SECTIONS = ("size", "inequality", "convergence", "spatial", "polycentricity",
            "specialisation", "services")


@dataclass(frozen=True)
class Figure:
    """A row of the comparison: ``key`` names its i18n labels ``cmp.fig.{key}.*`` (name,
    unit, formula, source); ``indicator`` is set for the per-indicator figures."""

    key: str
    section: str
    indicator: str = ""
    year: int | None = None



class Notes:
    """Collects the notes of a comparison, bilingual at once."""

    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []

    def add(self, cluster: str, figure: str, indicator: str, key: str, /,
            **fmt: Any) -> None:
        texts = {}
        for lg in LANGS:
            params = {k: (v[lg] if isinstance(v, Mapping) else v) for k, v in fmt.items()}
            texts[f"text_{lg}"] = t(key, lg, **params)
        self.rows.append({"cluster": cluster, "figure": figure, "indicator": indicator,
                          **texts})

    def texts(self, cluster: str, figure: str, indicator: str, zh: str, en: str, /
              ) -> None:
        self.rows.append({"cluster": cluster, "figure": figure, "indicator": indicator,
                          "text_zh": zh, "text_en": en})

    def frame(self) -> pd.DataFrame:
        cols = ["cluster", "figure", "indicator", "text_zh", "text_en"]
        return pd.DataFrame(self.rows, columns=cols).drop_duplicates().reset_index(drop=True)



# ---------------------------------------------------------------------- figures
def _members(units: pd.DataFrame) -> pd.DataFrame:
    """Prefecture-level members: prefectures in full or in part, and county-level cities
    directly under their province that are members themselves."""
    provinces = set(units.loc[units["level"] == "province", "code"])
    pref = units[(units["level"] == "prefecture") & units["membership"].isin(["full", "partial"])]
    direct = units[(units["level"] == "county") & units["parent"].isin(provinces)
                   & (units["membership"] == "full")]
    return pd.concat([pref, direct]).set_index("code")


def member_counties(units: pd.DataFrame) -> list[str]:
    return units.loc[(units["level"] == "county") & (units["membership"] == "full"),
                     "code"].astype(str).tolist()


def member_population(units: pd.DataFrame, pop: pd.Series) -> pd.Series:
    """Residents of each prefecture-level member in the cluster: the member's own total
    when whole, the sum over its member counties when partial (``NaN`` where lacking)."""
    members = _members(units)
    counties = units[(units["level"] == "county") & (units["membership"] == "full")]
    out = {}
    for code, row in members.iterrows():
        if row["membership"] == "partial":
            part = counties.loc[counties["parent"] == code, "code"]
            vals = pop.reindex(part)
            out[str(code)] = float(vals.sum()) if vals.notna().all() and len(vals) else np.nan
        else:
            out[str(code)] = float(pop.get(code, np.nan))
    return pd.Series(out, dtype=float)


def _values(store: Any, indicator: str, year: int, level: str) -> pd.Series:
    obs = store.observations([indicator], [year], level)
    obs = obs[obs["value"].notna()]
    return obs.set_index(obs["unit"].astype(str))["value"].astype(float)


def _weighted(values: pd.Series, weights: pd.Series) -> tuple[float, int]:
    """Σ w·x / Σ w over the units having both, and their number."""
    both = values.dropna().index.intersection(weights.dropna().index)
    w = weights[both]
    if not len(both) or float(w.sum()) <= 0:
        return float("nan"), 0
    return float(np.dot(values[both], w) / w.sum()), len(both)


def _core_share(store: Any, counties: list[str], pop: pd.Series, key: str, notes: Notes
                ) -> float:
    """Share (%) of the member counties' residents within the threshold of a core."""
    from cocity.access.regional import build_regional_network, travel_times, workspace_spec
    from cocity.data.errors import CocityError

    spec = workspace_spec(store)
    try:
        net = build_regional_network(store, spec)
        times = pd.concat([travel_times(net, list(core.counties))["minutes"]
                           for core in spec.cores.values()], axis=1).min(axis=1)
    except CocityError as exc:
        notes.texts(key, "core_share", "", *(t("cmp.note.no_network", lg, error=str(exc))
                                             for lg in LANGS))
        return float("nan")
    rail = spec.rail.links
    notes.add(key, "core_share", "", "cmp.note.rail" if rail else "cmp.note.road_only",
              minutes=f"{spec.threshold_minutes:g}", links=len(rail))
    notes.add(key, "core_share", "", "cmp.note.cores",
              cores={lg: ", ".join(getattr(c, f"name_{lg}") for c in spec.cores.values())
                     for lg in LANGS})
    on = [c for c in counties if c in times.index and c in pop.index]
    off = [c for c in counties if c not in on]
    if off:
        lost = float(pop.reindex(off).sum())
        total = float(pop.reindex(counties).sum())
        notes.add(key, "core_share", "", "cmp.note.off_network", n=len(off),
                  pct=f"{100 * lost / total:.2f}" if total else "—")
    p = pop[on]
    if not len(on) or float(p.sum()) <= 0:
        notes.add(key, "core_share", "", "cmp.note.no_data", what="pop_total")
        return float("nan")
    within = times.reindex(on) <= spec.threshold_minutes
    return 100.0 * float(p[within.to_numpy()].sum()) / float(p.sum())


class Cells:
    """One cluster's column: figure → value, with notes for what cannot be computed."""

    def __init__(self, key: str, notes: Notes) -> None:
        self.key, self.notes = key, notes
        self.values: dict[tuple[str, str], float] = {}

    def set(self, fig: Figure, value: Any) -> None:
        v = float("nan") if value is None else float(value)
        self.values[(fig.key, fig.indicator)] = v

    def missing(self, fig: Figure, label: str, **fmt: Any) -> None:
        self.values[(fig.key, fig.indicator)] = float("nan")
        self.notes.add(self.key, fig.key, fig.indicator, label, **fmt)

    def failed(self, fig: Figure, messages: Mapping[str, str]) -> None:
        self.values[(fig.key, fig.indicator)] = float("nan")
        self.notes.texts(self.key, fig.key, fig.indicator,
                         *(t("cmp.note.section_failed", lg, error=messages[lg])
                           for lg in LANGS))


def figures(spec: Any, indicators: Sequence[str]) -> list[Figure]:
    """Every row of the comparison table, in order."""
    y0, y1 = spec.convergence.years[0], spec.convergence.years[-1]
    rows = [Figure("population", "size", year=CENSUS_YEAR),
            Figure("prefectures", "size"), Figure("counties", "size")]
    for ind in indicators:
        rows += [Figure("gini", "inequality", ind, spec.main_year),
                 Figure("theil", "inequality", ind, spec.main_year),
                 Figure("theil_within_share", "inequality", ind, spec.main_year),
                 Figure("theil_between_share", "inequality", ind, spec.main_year),
                 Figure("sigma_start", "convergence", ind, y0),
                 Figure("sigma_end", "convergence", ind, y1),
                 Figure("beta", "convergence", ind), Figure("beta_p", "convergence", ind),
                 Figure("beta_n", "convergence", ind),
                 Figure("moran_i", "spatial", ind, spec.main_year)]
    rows += [Figure(f"primacy_{p}", "polycentricity") for p in ("s2", "s4", "s11")]
    rows += [Figure("zipf_q", "polycentricity"), Figure("morph_slope", "polycentricity"),
             Figure("functional_poly", "polycentricity"),
             Figure("krugman_mean", "specialisation"),
             Figure("core_share", "services", year=CENSUS_YEAR)]
    rows += [Figure("amenity", "services", a, CENSUS_YEAR) for a in AMENITIES]
    rows += [Figure("beds", "services", year=2019), Figure("beds_coverage", "services")]
    return rows


def diagnostic_cells(cells: Cells, rows: list[Figure], diags: Mapping[str, Any],
                      failed: Mapping[str, Mapping[str, str]]) -> None:
    by_section = {"inequality": "inequality", "convergence": "convergence",
                  "spatial": "spatial", "polycentricity": "polycentricity",
                  "specialisation": "structure"}
    for fig in rows:
        section = by_section.get(fig.section)
        if section is None:
            continue
        if fig.key == "functional_poly" and "network" in failed:
            section = "network"  # Green's index needs the linkage network
        if section in failed:
            cells.failed(fig, failed[section])
            continue
        diag = diags.get(section)
        if diag is None:
            cells.missing(fig, "cmp.note.not_run", section=section)
            continue
        _one_cell(cells, fig, diag)


def _match(frame: pd.DataFrame, **where: Any) -> pd.DataFrame:
    """The rows of a result table matching ``where`` (none when the table is empty: the
    toolbox leaves a table without columns when it skipped every case, with a note)."""
    if frame.empty or any(c not in frame.columns for c in where):
        return frame.iloc[0:0]
    keep = np.ones(len(frame), dtype=bool)
    for col, value in where.items():
        keep &= (frame[col] == value).to_numpy()
    return frame[keep]


def _one_cell(cells: Cells, fig: Figure, diag: Any) -> None:
    ind = fig.indicator
    if fig.section == "inequality":
        row = _match(diag.inequality.summary, indicator=ind, year=fig.year)
        if row.empty:  # the toolbox skipped it: fewer than two groups with data
            cells.missing(fig, "cmp.note.skipped", what=ind, year=fig.year)
            return
        r = row.iloc[0]
        value = {"gini": r["gini"], "theil": r["theil"],
                 "theil_between_share": r["theil_between_share"],
                 "theil_within_share": (r["theil_within"] / r["theil"]
                                        if r["theil"] > 0 else np.nan)}[fig.key]
        if pd.isna(value):
            cells.missing(fig, "cmp.note.theil_zero", indicator=ind)
        else:
            cells.set(fig, value)
    elif fig.section == "convergence":
        conv = diag.convergence
        if fig.key in ("sigma_start", "sigma_end"):
            row = _match(conv.sigma, indicator=ind, year=fig.year)
            col = "sigma"
        else:
            row = _match(conv.beta, indicator=ind)
            col = {"beta": "beta", "beta_p": "p_value", "beta_n": "n"}[fig.key]
        if row.empty or pd.isna(row.iloc[0][col]):
            cells.missing(fig, "cmp.note.no_data", what=ind)
        else:
            cells.set(fig, row.iloc[0][col])
    elif fig.section == "spatial":
        row = _match(diag.spatial.moran, indicator=ind, year=fig.year)
        if row.empty or pd.isna(row.iloc[0]["I"]):
            cells.missing(fig, "cmp.note.no_data", what=ind)
        else:
            cells.set(fig, row.iloc[0]["I"])
    elif fig.section == "polycentricity":
        _polycentricity_cell(cells, fig, diag)
    else:  # specialisation
        k = diag.structure.krugman.dropna()
        if k.empty:
            cells.missing(fig, "cmp.note.no_data", what="krugman")
        else:
            cells.set(fig, k.mean())
            cells.notes.add(cells.key, fig.key, "", "cmp.note.krugman_n", n=len(k))


def _polycentricity_cell(cells: Cells, fig: Figure, diag: Any) -> None:
    poly = diag.polycentricity
    n = len(poly.sizes)
    if fig.key.startswith("primacy_"):
        which = fig.key.removeprefix("primacy_")
        need = {"s2": 2, "s4": 4, "s11": 11}[which]
        if which in poly.primacy.index and pd.notna(poly.primacy[which]):
            cells.set(fig, poly.primacy[which])
        elif n < need:
            cells.missing(fig, "cmp.note.too_few", need=need, n=n)
        else:
            cells.missing(fig, "cmp.note.not_asked", what=which)
    elif fig.key == "zipf_q":
        cells.set(fig, poly.rank_size.q)
    elif fig.key == "morph_slope":
        if "mean_slope" in poly.morphological.index:
            cells.set(fig, poly.morphological["mean_slope"])
        else:
            cells.missing(fig, "cmp.note.too_few", need=2, n=n)
    elif poly.functional is not None:
        cells.set(fig, poly.functional["polycentricity"])
    elif "network" in diag.spec.sections:  # run, but skipped: too few units
        cells.missing(fig, "cmp.note.no_network_built")
    else:
        cells.missing(fig, "cmp.note.not_run", section="network")


def size_and_services(cells: Cells, rows: list[Figure], store: Any) -> None:
    units = store.units()
    units = units.assign(code=units["code"].astype(str))
    members = _members(units)
    counties = member_counties(units)
    pref_pop = pd.concat([_values(store, POPULATION, CENSUS_YEAR, "prefecture"),
                          _values(store, POPULATION, CENSUS_YEAR, "county")])
    pref_pop = pref_pop[~pref_pop.index.duplicated()]
    member_pop = member_population(units, pref_pop)
    county_pop = _values(store, POPULATION, CENSUS_YEAR, "county").reindex(counties).dropna()
    for fig in rows:
        if fig.key == "population":
            lacking = member_pop.index[member_pop.isna()].tolist()
            if lacking:
                cells.missing(fig, "cmp.note.pop_lacking", units=", ".join(lacking))
            else:
                cells.set(fig, member_pop.sum())
        elif fig.key == "prefectures":
            cells.set(fig, len(members))
        elif fig.key == "counties":
            cells.set(fig, len(counties))
        elif fig.key == "core_share":
            cells.set(fig, _core_share(store, counties, county_pop, cells.key, cells.notes))
        elif fig.key == "amenity":
            vals = _values(store, fig.indicator, CENSUS_YEAR, "county").reindex(counties)
            mean, n = _weighted(vals, county_pop)
            if n == 0:
                cells.missing(fig, "cmp.note.no_data", what=fig.indicator)
                continue
            cells.set(fig, mean)
            if n < len(counties):
                cells.notes.add(cells.key, fig.key, fig.indicator, "cmp.note.coverage",
                                n=n, of=len(counties))
        elif fig.key in ("beds", "beds_coverage"):
            beds = pd.concat([_values(store, BEDS, 2019, "prefecture"),
                              _values(store, BEDS, 2019, "county")])
            beds = beds[~beds.index.duplicated()].reindex(member_pop.index)
            mean, n = _weighted(beds, member_pop)
            if fig.key == "beds_coverage":
                cells.set(fig, n)
                cells.notes.add(cells.key, fig.key, "", "cmp.note.beds_of", n=n,
                                of=len(member_pop))
            elif n == 0:
                cells.missing(fig, "cmp.note.no_beds", of=len(member_pop))
            else:
                cells.set(fig, mean)
                partial = [c for c in member_pop.index[beds.notna()]
                           if members.at[c, "membership"] == "partial"]
                if partial:
                    cells.notes.add(cells.key, fig.key, "", "cmp.note.beds_partial",
                                    units=", ".join(partial))


# ---------------------------------------------------------------------- tables
def definitions_table(rows: Sequence[Figure], spec: Any) -> pd.DataFrame:
    """Per figure: section, name, unit, formula and source in both languages."""
    fmt = {"y0": spec.convergence.years[0], "y1": spec.convergence.years[-1],
           "main": spec.main_year, "measure": spec.convergence.sigma,
           "theil": spec.inequality.theil}
    out = []
    for key in dict.fromkeys(f.key for f in rows):
        section = next(f.section for f in rows if f.key == key)
        row: dict[str, Any] = {"figure": key, "section": section}
        for part in ("name", "unit", "formula", "source"):
            for lg in LANGS:
                row[f"{part}_{lg}"] = t(f"cmp.fig.{key}.{part}", lg, **fmt)
        out.append(row)
    return pd.DataFrame(out)

