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

**Clusters as tasks.** Each cluster's run (cut it from the national base, check which of the
spec's indicators it has, run the diagnostics, compute its column and notes) is one job of
the executor map :func:`cocity.index.executors.completed` (serial, a process pool or Dask);
what every job reads — the spec, the overrides it came from, the language — is shipped once.
The common indicators need every cluster's data, so the first round runs each cluster
speculatively on the indicators *it* has complete; a cluster whose set differs from the
common one is run again with the common set (a second round, usually empty: the clusters
share one national base). A run depends only on its cluster and its spec, and results are put
back by position, so the table and notes are the same whatever the executor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd

from cocity.clusters.compare_cells import (
    AMENITIES,
    BEDS,
    POPULATION,
    Cells,
    Notes,
    definitions_table,
    diagnostic_cells,
    figures,
    member_counties,
    size_and_services,
)
from cocity.clusters.definition import Cluster
from cocity.clusters.errors import ClusterError
from cocity.i18n import LANGS, current_lang, t, use_lang

# The comparison's departure from the shipped diagnostics default: the between/within
# decompositions are by prefecture, a grouping every cluster has.
COMPARE_DEFAULTS: dict[str, Any] = {"inequality": {"group_by": "prefecture"}}
#: ``progress(done, total)``: cluster runs finished, cluster runs known so far
Progress = Callable[[int, int], None]


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



# ---------------------------------------------------------------------- the spec
def comparison_spec(source: str | Path | Mapping[str, Any] | None = None, *,
                    indicators: Sequence[str] | None = None) -> Any:
    """The diagnostics spec run on every cluster: the shipped default, then
    :data:`COMPARE_DEFAULTS`, then ``source`` (a YAML file or mapping of overrides), then
    ``indicators`` when given."""
    return _spec_of(_overrides(source), indicators)


def _overrides(source: str | Path | Mapping[str, Any] | None) -> dict[str, Any]:
    """The caller's overrides as a mapping (a file is checked, then read once here, so that
    the jobs never need the file)."""
    from cocity.metrics.diagnose_spec import load_spec
    from cocity.spec import read_yaml

    if source is None:
        return {}
    if isinstance(source, Mapping):
        return dict(source)
    load_spec(source)  # a faulty file: every problem named with the file and key path
    data, _ = read_yaml(source)
    return dict(data or {})


def _spec_of(user: Mapping[str, Any], indicators: Sequence[str] | None = None) -> Any:
    from cocity.metrics.diagnose_spec import load_spec
    from cocity.spec import merge

    doc = merge(COMPARE_DEFAULTS, user)
    if indicators is not None:
        doc = merge(doc, {"indicators": list(indicators)})
    return load_spec(doc)


def _scope_codes(units: pd.DataFrame, level: str, membership: tuple[str, ...] | None
                 ) -> set[str]:
    at = units[units["level"] == level]
    if membership is not None:
        at = at[at["membership"].isin(membership)]
    return set(at["code"].astype(str))


def _lacking(store: Any, spec: Any) -> dict[str, list[int]]:
    """Per indicator of ``spec``: the years used (main and convergence years) in which no
    unit of the cluster in the spec's level and membership has a value."""
    years = sorted({*spec.years, *spec.convergence.years})
    scope = _scope_codes(store.units(), spec.level, spec.membership)
    out = {}
    for ind in spec.indicators:
        obs = store.observations([ind], years, spec.level)
        obs = obs[obs["unit"].astype(str).isin(scope) & obs["value"].notna()]
        have = set(obs["year"].astype(int))
        out[ind] = [y for y in years if y not in have]
    return out


def _common_indicators(lacking: Mapping[str, Mapping[str, list[int]]], spec: Any,
                       notes: Notes) -> tuple[list[str], list[str]]:
    """The spec's indicators with values in every cluster and every year used (``lacking``:
    per cluster key, :func:`_lacking`); the others are dropped for all clusters, each with a
    note naming where it lacks."""
    keep, dropped = [], []
    for ind in spec.indicators:
        where = [(key, y) for key, per in lacking.items() for y in per[ind]]
        if where:
            dropped.append(ind)
            notes.add("", "", ind, "cmp.note.dropped", indicator=ind,
                      where=", ".join(f"{k} {y}" for k, y in where))
        else:
            keep.append(ind)
    return keep, dropped


# ---------------------------------------------------------------------- diagnostics
def _run(store: Any, spec: Any) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The diagnostics per section: all at once, or — when a section refuses — each section
    on its own, so that one refusal empties only its own cells (polycentricity runs with the
    linkage network when that succeeded, else without it and so without its functional
    index). Returns (section → Diagnostics, section → the refusal in each language)."""
    from cocity.metrics.diagnose import run_diagnostics
    from cocity.metrics.errors import DiagnoseError

    try:
        diag = run_diagnostics(store, spec)
        return dict.fromkeys(spec.sections, diag), {}
    except DiagnoseError:
        pass

    def attempt(sections: list[str]) -> tuple[Any, dict[str, str]]:
        one = spec.model_copy(update={"sections": sections})
        for attr in ("_source", "_raw", "_pc", "_roles"):
            setattr(one, attr, getattr(spec, attr))
        messages: dict[str, str] = {}
        for lg in LANGS:  # the refusal's text in each language (it fails again, early)
            with use_lang(lg):
                try:
                    return run_diagnostics(store, one), {}
                except DiagnoseError as exc:
                    messages[lg] = str(exc)
        return None, messages

    done: dict[str, Any] = {}
    failed: dict[str, dict[str, str]] = {}
    for section in spec.sections:
        sections = [section]
        if section == "polycentricity" and "network" in done:
            sections = ["network", section]
        diag, messages = attempt(sections)
        if diag is None:
            failed[section] = messages
        else:
            done[section] = diag
    return done, failed


def _check_explained(table: pd.DataFrame, notes: pd.DataFrame) -> None:
    """Every ``NaN`` cell has a note on that cell (a programming error otherwise)."""
    noted = set(zip(notes["cluster"], notes["figure"], notes["indicator"], strict=True))
    gaps = table.isna().to_numpy()
    for i, (fig, ind) in enumerate(table.index):
        for j, key in enumerate(table.columns):
            if gaps[i, j] and (key, fig, ind) not in noted:
                raise AssertionError(f"unexplained NaN: {key} {fig} {ind}")


@dataclass(frozen=True)
class _Shared:
    """What every cluster's job reads, shipped to each worker once."""

    overrides: Mapping[str, Any]    # the caller's overrides (a file already read)
    spec: Any                       # the spec on the overrides, every indicator asked
    lang: str                       # the caller's language (messages raised in a job)


@dataclass(frozen=True)
class _Outcome:
    """One cluster's run, as plain data for the caller. ``indicators``: those the run used
    (``None``: not run — no county-level member, or no indicator with complete data)."""

    lacking: dict[str, list[int]] = field(default_factory=dict)
    indicators: tuple[str, ...] | None = None
    values: dict[tuple[str, str], float] = field(default_factory=dict)
    notes: list[dict[str, str]] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    no_units: bool = False


def _cluster_job(job: tuple[Cluster, tuple[str, ...] | None], shared: _Shared) -> _Outcome:
    """One cluster's run (a job of :func:`cocity.index.executors.completed`): open it, find
    the indicators it lacks, then run the spec on ``job[1]`` when given, else on the
    indicators this cluster has complete; its column of figures, notes and provenance."""
    from cocity.clusters.build import open_cluster
    from cocity.data.provenance import provenance

    cluster, forced = job
    with use_lang(shared.lang):
        store = open_cluster(cluster)
        try:
            if not member_counties(store.units()):
                return _Outcome(no_units=True)
            lacking = _lacking(store, shared.spec)
            kept = forced if forced is not None else tuple(
                ind for ind in shared.spec.indicators if not lacking[ind])
            if not kept:
                return _Outcome(lacking=lacking)
            spec = (shared.spec if list(kept) == list(shared.spec.indicators)
                    else _spec_of(shared.overrides, kept))
            notes = Notes()
            cells = Cells(cluster.key, notes)
            diags, failed = _run(store, spec)
            for d in {id(x): x for x in diags.values()}.values():
                for n in d.notes:
                    notes.texts(cluster.key, "", "", n.text("zh"), n.text("en"))
            rows = figures(spec, list(kept))
            diagnostic_cells(cells, rows, diags, failed)
            size_and_services(cells, rows, store)
            prov = provenance(store, indicators=sorted({*kept, POPULATION, BEDS, *AMENITIES}))
            return _Outcome(lacking=lacking, indicators=tuple(kept), values=dict(cells.values),
                            notes=notes.rows, provenance=dict(prov))
        finally:
            store.close()


def compare_clusters(clusters: Sequence[Cluster], *,
                     spec: str | Path | Mapping[str, Any] | None = None,
                     progress: Progress | None = None, executor: str | None = None,
                     scheduler: str | None = None, workers: int = 1) -> Comparison:
    """Compare ``clusters`` side by side (module docstring).

    ``spec``: overrides of the diagnostics spec (a YAML file or mapping, merged over the
    shipped default and :data:`COMPARE_DEFAULTS`); the same spec runs on every cluster.
    Each cluster's run is a job of :func:`cocity.index.executors.completed`: ``executor``
    ``serial`` | ``processes`` | ``dask`` (default :func:`~cocity.index.executors.choose`),
    ``scheduler`` a Dask scheduler's address, ``workers`` the size of the local pool or
    cluster; the result does not depend on them. ``progress(done, total)`` is called as each
    run finishes (``total`` grows when a cluster is run again on the common indicators).

    Raises :class:`~cocity.clusters.errors.ClusterError` for fewer than two clusters, a key
    given twice, a cluster without county-level units, or no indicator with data in every
    cluster; :class:`~cocity.spec.SpecError` for a faulty spec;
    :class:`~cocity.index.executors.ExecutorError` for an unknown executor or an unreachable
    scheduler.
    """
    from cocity.index.executors import choose, completed

    if len(clusters) < 2:
        raise ClusterError(t("cmp.err.two", n=len(clusters)))
    keys = [c.key for c in clusters]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ClusterError(t("cmp.err.twice", keys=", ".join(twice)))
    how = choose(executor, scheduler=scheduler, workers=workers)
    report: Progress = progress or (lambda _done, _total: None)
    overrides = _overrides(spec)
    shared = _Shared(overrides, _spec_of(overrides), current_lang())
    outcomes: list[_Outcome] = [_Outcome()] * len(clusters)
    done, total = 0, len(clusters)

    def run(positions: list[int], forced: tuple[str, ...] | None) -> None:
        nonlocal done
        jobs = [(clusters[i], forced) for i in positions]
        for j, outcome in completed(_cluster_job, jobs, shared=shared, executor=how,
                                    workers=workers, scheduler=scheduler):
            outcomes[positions[j]] = outcome
            done += 1
            report(done, total)

    run(list(range(len(clusters))), None)
    notes = Notes()
    for c, outcome in zip(clusters, outcomes, strict=True):
        if outcome.no_units:
            raise ClusterError(t("cmp.err.no_units", name=c.name("zh"), cluster=c.key))
        for a in c.spec.absent:
            notes.add(c.key, "", "", "cmp.note.absent", name={"zh": a.name_zh,
                                                                "en": a.name_en},
                      reason={"zh": a.reason_zh, "en": a.reason_en})
    kept, dropped = _common_indicators({c.key: o.lacking for c, o in zip(clusters, outcomes,
                                                                         strict=True)},
                                       shared.spec, notes)
    if not kept:
        raise ClusterError(t("cmp.err.no_indicator",
                             indicators=", ".join(shared.spec.indicators)))
    run_spec = _spec_of(overrides, kept) if dropped else shared.spec
    again = [i for i, o in enumerate(outcomes) if o.indicators != tuple(kept)]
    if again:  # speculated on other indicators than the common ones
        total += len(again)
        run(again, tuple(kept))
    rows = figures(run_spec, kept)
    columns, prov = {}, {}
    for c, outcome in zip(clusters, outcomes, strict=True):
        notes.rows.extend(outcome.notes)
        columns[c.key] = pd.Series(outcome.values, dtype=float)
        prov[c.key] = outcome.provenance
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
