"""City clusters side by side: the pure part of ``cocity clusters compare``.

:func:`compare_clusters` opens each cluster (:func:`~cocity.clusters.build.open_cluster`, its
data cut from the national base), runs the SAME integration-diagnostics specification on each
(:func:`cocity.metrics.diagnose.run_diagnostics`; the shipped default with the decompositions
grouped by prefecture, merged with the caller's overrides) and gathers the headline figures in
one table, one column per cluster. Nothing here re-implements a metric: inequality,
convergence, polycentricity and specialisation are read from the toolbox's results; the public
service figures are weighted means of catalog indicators and the travel times of the cluster's
own regional network (:mod:`cocity.access.regional`).

The figures (each defined, with formula and source, in :attr:`Comparison.definitions`):

- **size**: resident population (2020 census) — a whole member's own prefecture total, a
  partial member's member counties summed; prefecture-level members; county-level units;
- per indicator, in the spec's main year: population-weighted **Gini**, **Theil T** and the
  shares of it within and between prefectures (``T = T_within + T_between``);
  **σ** (Williamson's population-weighted CV, by default) in the first and last convergence
  year, absolute **β** and its p-value; global **Moran's I**;
- **polycentricity**: primacy indices s2, s4, s11, the Zipf coefficient q, the mean
  morphological slope of the 2–4 largest cities and Green's functional polycentricity;
- **specialisation**: the mean over the prefecture-level members of Krugman's index of each
  against the rest of the cluster;
- **public services**: the share of residents within the network's threshold (60 minutes) of
  a core city's urban districts over the cluster's regional network (modelled road times
  unless the definition names sourced rail); the population-weighted means of the 2020 census
  household-amenity shares over the member counties; hospital beds per 1,000 residents (2019
  city yearbook) weighted by the members' residents, with the number of members that have it.

The indicators are the same for every cluster: an indicator of the spec without values in a
cluster in one of the years used is dropped for all, with a note. A cell that cannot be
computed is ``NaN`` and has a note in :attr:`Comparison.notes` saying why — never a silent gap
(:func:`compare_clusters` checks this before returning).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from cocity.clusters.definition import Cluster
from cocity.clusters.errors import ClusterError
from cocity.i18n import LANGS, t

AMENITIES = ("hh_piped_water_share", "hh_kitchen_share", "hh_toilet_share", "hh_bath_share")
BEDS = "hospital_beds_per_1000"
POPULATION = "pop_total"
CENSUS_YEAR = 2020
# The comparison's departure from the shipped diagnostics default: the between/within
# decompositions are by prefecture, a grouping every cluster has.
COMPARE_DEFAULTS: dict[str, Any] = {"inequality": {"group_by": "prefecture"}}
SECTIONS = ("size", "inequality", "convergence", "spatial", "polycentricity",
            "specialisation", "services")
Progress = Callable[[str, str], None]


@dataclass(frozen=True)
class Figure:
    """A row of the comparison: ``key`` names its i18n labels ``cmp.fig.{key}.*`` (name,
    unit, formula, source); ``indicator`` is set for the per-indicator figures."""

    key: str
    section: str
    indicator: str = ""
    year: int | None = None


@dataclass(frozen=True)
class Comparison:
    """What :func:`compare_clusters` found (plain data).

    ``table``: index (``figure``, ``indicator``), one column per cluster key (float; ``NaN``
    only where ``notes`` explains it). ``definitions``: per figure its section, names, unit,
    formula and source in both languages. ``notes``: ``cluster`` (key, or ``""`` for all),
    ``figure``, ``indicator`` (``""`` for a note on the whole cluster), ``text_zh``,
    ``text_en``. ``catalog``: the indicators compared (names, units, source).
    """

    clusters: tuple[Cluster, ...]
    spec: Any                         # the DiagnoseSpec run on every cluster
    indicators: tuple[str, ...]
    dropped: tuple[str, ...]
    table: pd.DataFrame
    definitions: pd.DataFrame
    notes: pd.DataFrame
    catalog: pd.DataFrame
    provenance: Mapping[str, Mapping[str, Any]]   # per cluster key

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.clusters]

    def value(self, figure: str, cluster: str, indicator: str = "") -> float:
        return float(cast(float, self.table.at[(figure, indicator), cluster]))

    def notes_for(self, cluster: str, figure: str = "", indicator: str = "") -> list[str]:
        """Texts (current language) of the notes on one cell (or on the whole cluster)."""
        from cocity.i18n import current_lang

        n = self.notes
        sel = n[(n["cluster"].isin([cluster, ""])) & (n["figure"] == figure)
                & (n["indicator"] == indicator)]
        return sel[f"text_{current_lang()}"].tolist()

    def long(self) -> pd.DataFrame:
        """The table in long form: cluster, figure, indicator, value."""
        out = self.table.reset_index().melt(id_vars=["figure", "indicator"],
                                            var_name="cluster", value_name="value")
        return out[["cluster", "figure", "indicator", "value"]]


class _Notes:
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


# ---------------------------------------------------------------------- the spec
def comparison_spec(source: str | Path | Mapping[str, Any] | None = None, *,
                    indicators: Sequence[str] | None = None) -> Any:
    """The diagnostics spec run on every cluster: the shipped default, then
    :data:`COMPARE_DEFAULTS`, then ``source`` (a YAML file or mapping of overrides), then
    ``indicators`` when given."""
    from cocity.metrics.diagnose_spec import load_spec
    from cocity.spec import merge, read_yaml

    if source is None:
        user: Any = {}
    elif isinstance(source, Mapping):
        user = dict(source)
    else:
        user, _ = read_yaml(source)
        user = user or {}
    doc = merge(COMPARE_DEFAULTS, user) if isinstance(user, Mapping) else user
    if indicators is not None and isinstance(doc, Mapping):
        doc = merge(doc, {"indicators": list(indicators)})
    return load_spec(doc)


def _scope_codes(units: pd.DataFrame, level: str, membership: tuple[str, ...] | None
                 ) -> set[str]:
    at = units[units["level"] == level]
    if membership is not None:
        at = at[at["membership"].isin(membership)]
    return set(at["code"].astype(str))


def _common_indicators(stores: Mapping[str, Any], spec: Any, notes: _Notes
                       ) -> tuple[list[str], list[str]]:
    """The spec's indicators with values in every cluster and every year used; the others
    are dropped for all clusters, each with a note naming where it lacks."""
    years = sorted({*spec.years, *spec.convergence.years})
    keep, dropped = [], []
    for ind in spec.indicators:
        lacking = []
        for key, store in stores.items():
            units = store.units()
            scope = _scope_codes(units, spec.level, spec.membership)
            obs = store.observations([ind], years, spec.level)
            obs = obs[obs["unit"].astype(str).isin(scope) & obs["value"].notna()]
            have = set(obs["year"].astype(int))
            lacking += [(key, y) for y in years if y not in have]
        if lacking:
            dropped.append(ind)
            where = ", ".join(f"{k} {y}" for k, y in lacking)
            notes.add("", "", ind, "cmp.note.dropped", indicator=ind, where=where)
        else:
            keep.append(ind)
    return keep, dropped


# ---------------------------------------------------------------------- diagnostics
def _run(store: Any, spec: Any, on_step: Callable[[str], None] | None
         ) -> tuple[dict[str, Any], dict[str, str]]:
    """The diagnostics per section: all at once, or — when one section refuses — each
    section on its own (polycentricity with the network it needs), so that one refusal
    empties only its own cells. Returns (section → Diagnostics, section → message)."""
    from cocity.metrics.diagnose import run_diagnostics
    from cocity.metrics.errors import DiagnoseError

    try:
        diag = run_diagnostics(store, spec, on_step=on_step)
        return dict.fromkeys(spec.sections, diag), {}
    except DiagnoseError:
        pass
    done: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for section in spec.sections:
        sections = ["network", section] if section == "polycentricity" else [section]
        one = spec.model_copy(update={"sections": sections})
        for attr in ("_source", "_raw", "_pc", "_roles"):
            setattr(one, attr, getattr(spec, attr))
        try:
            done[section] = run_diagnostics(store, one)
        except DiagnoseError as exc:
            failed[section] = str(exc)
    return done, failed


# ---------------------------------------------------------------------- figures
def _members(units: pd.DataFrame) -> pd.DataFrame:
    """Prefecture-level members: prefectures in full or in part, and county-level cities
    directly under their province that are members themselves."""
    provinces = set(units.loc[units["level"] == "province", "code"])
    pref = units[(units["level"] == "prefecture") & units["membership"].isin(["full", "partial"])]
    direct = units[(units["level"] == "county") & units["parent"].isin(provinces)
                   & (units["membership"] == "full")]
    return pd.concat([pref, direct]).set_index("code")


def _member_counties(units: pd.DataFrame) -> list[str]:
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


def _core_share(store: Any, counties: list[str], pop: pd.Series, key: str, notes: _Notes
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


class _Cells:
    """One cluster's column: figure → value, with notes for what cannot be computed."""

    def __init__(self, key: str, notes: _Notes) -> None:
        self.key, self.notes = key, notes
        self.values: dict[tuple[str, str], float] = {}

    def set(self, fig: Figure, value: Any) -> None:
        v = float("nan") if value is None else float(value)
        self.values[(fig.key, fig.indicator)] = v

    def missing(self, fig: Figure, label: str, **fmt: Any) -> None:
        self.values[(fig.key, fig.indicator)] = float("nan")
        self.notes.add(self.key, fig.key, fig.indicator, label, **fmt)

    def failed(self, fig: Figure, message: str) -> None:
        self.values[(fig.key, fig.indicator)] = float("nan")
        self.notes.texts(self.key, fig.key, fig.indicator,
                         *(t("cmp.note.section_failed", lg, error=message) for lg in LANGS))


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


def _diagnostic_cells(cells: _Cells, rows: list[Figure], diags: Mapping[str, Any],
                      failed: Mapping[str, str]) -> None:
    by_section = {"inequality": "inequality", "convergence": "convergence",
                  "spatial": "spatial", "polycentricity": "polycentricity",
                  "specialisation": "structure"}
    for fig in rows:
        section = by_section.get(fig.section)
        if section is None:
            continue
        if section in failed:
            cells.failed(fig, failed[section])
            continue
        diag = diags.get(section)
        if diag is None:
            cells.missing(fig, "cmp.note.not_run", section=section)
            continue
        _one_cell(cells, fig, diag)


def _one_cell(cells: _Cells, fig: Figure, diag: Any) -> None:
    ind = fig.indicator
    if fig.section == "inequality":
        s = diag.inequality.summary
        row = s[(s["indicator"] == ind) & (s["year"] == fig.year)]
        if row.empty:
            cells.missing(fig, "cmp.note.no_data", what=ind)
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
            s = conv.sigma
            row = s[(s["indicator"] == ind) & (s["year"] == fig.year)]
            if row.empty or pd.isna(row.iloc[0]["sigma"]):
                cells.missing(fig, "cmp.note.no_data", what=ind)
            else:
                cells.set(fig, row.iloc[0]["sigma"])
        else:
            b = conv.beta[conv.beta["indicator"] == ind]
            col = {"beta": "beta", "beta_p": "p_value", "beta_n": "n"}[fig.key]
            if b.empty or pd.isna(b.iloc[0][col]):
                cells.missing(fig, "cmp.note.no_data", what=ind)
            else:
                cells.set(fig, b.iloc[0][col])
    elif fig.section == "spatial":
        m = diag.spatial.moran
        row = m[(m["indicator"] == ind) & (m["year"] == fig.year)]
        if row.empty or pd.isna(row.iloc[0]["I"]):
            cells.missing(fig, "cmp.note.no_data", what=ind)
        else:
            cells.set(fig, row.iloc[0]["I"])
    elif fig.section == "polycentricity":
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
        elif poly.functional is None:
            cells.missing(fig, "cmp.note.not_run", section="network")
        else:
            cells.set(fig, poly.functional["polycentricity"])
    else:  # specialisation
        k = diag.structure.krugman.dropna()
        if k.empty:
            cells.missing(fig, "cmp.note.no_data", what="krugman")
        else:
            cells.set(fig, k.mean())
            cells.notes.add(cells.key, fig.key, "", "cmp.note.krugman_n", n=len(k))


def _size_and_services(cells: _Cells, rows: list[Figure], store: Any) -> None:
    units = store.units()
    units = units.assign(code=units["code"].astype(str))
    members = _members(units)
    counties = _member_counties(units)
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


def _check_explained(table: pd.DataFrame, notes: pd.DataFrame) -> None:
    """Every ``NaN`` cell has a note on that cell (a programming error otherwise)."""
    noted = set(zip(notes["cluster"], notes["figure"], notes["indicator"], strict=True))
    gaps = table.isna().to_numpy()
    for i, (fig, ind) in enumerate(table.index):
        for j, key in enumerate(table.columns):
            if gaps[i, j] and (key, fig, ind) not in noted:
                raise AssertionError(f"unexplained NaN: {key} {fig} {ind}")


def compare_clusters(clusters: Sequence[Cluster], *,
                     spec: str | Path | Mapping[str, Any] | None = None,
                     progress: Progress | None = None) -> Comparison:
    """Compare ``clusters`` side by side (module docstring).

    ``spec``: overrides of the diagnostics spec (a YAML file or mapping, merged over the
    shipped default and :data:`COMPARE_DEFAULTS`); the same spec runs on every cluster.
    ``progress(cluster_key, step)`` is called as each cluster opens (``open``), before each
    diagnostics section, for the service figures (``services``) and when it is ``done``.

    Raises :class:`~cocity.clusters.errors.ClusterError` for fewer than two clusters, a key
    given twice, a cluster without county-level units, or no indicator with data in every
    cluster; :class:`~cocity.spec.SpecError` for a faulty spec.
    """
    from cocity.clusters.build import open_cluster
    from cocity.data.provenance import provenance

    if len(clusters) < 2:
        raise ClusterError(t("cmp.err.two", n=len(clusters)))
    keys = [c.key for c in clusters]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ClusterError(t("cmp.err.twice", keys=", ".join(twice)))
    report: Progress = progress or (lambda _k, _s: None)
    base_spec = comparison_spec(spec)
    notes = _Notes()
    stores: dict[str, Any] = {}
    try:
        for c in clusters:
            report(c.key, "open")
            store = open_cluster(c)
            stores[c.key] = store
            if not _member_counties(store.units()):
                raise ClusterError(t("cmp.err.no_units", name=c.name("zh"), cluster=c.key))
            for a in c.spec.absent:
                notes.add(c.key, "", "", "cmp.note.absent", name={"zh": a.name_zh,
                                                                    "en": a.name_en},
                          reason={"zh": a.reason_zh, "en": a.reason_en})
        kept, dropped = _common_indicators(stores, base_spec, notes)
        if not kept:
            raise ClusterError(t("cmp.err.no_indicator",
                                 indicators=", ".join(base_spec.indicators)))
        run_spec = comparison_spec(spec, indicators=kept) if dropped else base_spec
        rows = figures(run_spec, kept)
        columns, prov = {}, {}
        for c in clusters:
            store = stores[c.key]
            cells = _Cells(c.key, notes)
            diags, failed = _run(store, run_spec, partial(report, c.key))
            for d in {id(x): x for x in diags.values()}.values():
                for n in d.notes:
                    notes.texts(c.key, "", "", n.text("zh"), n.text("en"))
            _diagnostic_cells(cells, rows, diags, failed)
            report(c.key, "services")
            _size_and_services(cells, rows, store)
            columns[c.key] = pd.Series(cells.values, dtype=float)
            prov[c.key] = provenance(store, indicators=sorted({*kept, POPULATION, BEDS,
                                                               *AMENITIES}))
            report(c.key, "done")
    finally:
        for store in stores.values():
            store.close()
    index = pd.MultiIndex.from_tuples([(f.key, f.indicator) for f in rows],
                                      names=["figure", "indicator"])
    table = pd.DataFrame(columns).reindex(index)
    note_frame = notes.frame()
    _check_explained(table, note_frame)
    return Comparison(clusters=tuple(clusters), spec=run_spec, indicators=tuple(kept),
                      dropped=tuple(dropped), table=table,
                      definitions=definitions_table(rows, run_spec), notes=note_frame,
                      catalog=_catalog_frame([*kept, *AMENITIES, BEDS, POPULATION]),
                      provenance=prov)


def _catalog_frame(ids: list[str]) -> pd.DataFrame:
    """Name, unit and source of the indicators compared (the national base's catalog)."""
    from cocity.datasets import read_indicators

    full = read_indicators("china").set_index("id")
    cols = ["name_zh", "name_en", "unit_zh", "unit_en", "source"]
    out = full.reindex([i for i in dict.fromkeys(ids) if i in full.index])[cols]
    return out.rename_axis("indicator").reset_index()
