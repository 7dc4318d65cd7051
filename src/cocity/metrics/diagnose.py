"""Integration diagnostics of a workspace: the pure part of ``cocity diagnose``.

:func:`run_diagnostics` reads a :class:`~cocity.data.store.Store` and runs the toolbox of
:mod:`cocity.metrics` as a specification (:class:`~cocity.metrics.diagnose_spec.DiagnoseSpec`,
``diagnose_default.yaml`` merged with a user file) asks:

- **inequality** of each indicator in each cross-section year: population-weighted Gini,
  Theil T (or L) with its between/within decomposition, Dagum's Gini decomposition by groups
  (province, prefecture or metropolitan area) and Williamson's CV;
- **convergence**: the σ series (with its trend test from three years on) and absolute
  β-convergence with speed and half-life;
- **division of labour** of the prefecture-level units: location quotients, Krugman indices,
  structural similarity with a calibrated homogeneous-competition list, roles;
- the **linkage network** (modified gravity model) with centralities and core–periphery, and
  **polycentricity** (primacy, rank–size, morphological and functional);
- **spatial autocorrelation**: global Moran's I with permutation inference and LISA clusters on
  contiguity weights from the boundaries;
- **people–circle coupling coordination** per unit and year, graded.

The module is split by concern: the spec (:mod:`~cocity.metrics.diagnose_spec`), the result
container (:mod:`~cocity.metrics.diagnose_result`), the shared state of a run — values, in-circle
parts of partial units, notes, random streams — (:mod:`~cocity.metrics.diagnose_context`), the
county-level sections (:mod:`~cocity.metrics.diagnose_sections`), the prefecture-level sections
(:mod:`~cocity.metrics.diagnose_regional`) and the tables
(:mod:`~cocity.metrics.diagnose_tables`).

The result, :class:`Diagnostics`, is plain data. Units without data are left out of a
computation with a :class:`Note` saying which; bad input raises :class:`DiagnoseError` — a
:class:`~cocity.metrics.errors.MetricInputError` carrying the metric's own message and where
it arose — or gets a documented result with a note. No table holds a silent ``NaN``: the few
undefined entries (a half-life under divergence) are explained by a note.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cocity.data.provenance import provenance
from cocity.data.store import Store
from cocity.i18n import t
from cocity.metrics.diagnose_context import Context, boundaries
from cocity.metrics.diagnose_regional import run_network, run_polycentricity, run_structure
from cocity.metrics.diagnose_result import (
    ConvergenceResult,
    Diagnostics,
    InequalityResult,
    NetworkResult,
    Note,
    PeopleCircleResult,
    PolycentricityResult,
    SpatialResult,
    StructureResult,
    UnitSet,
)
from cocity.metrics.diagnose_sections import (
    run_convergence,
    run_inequality,
    run_people_circle,
    run_spatial,
)
from cocity.metrics.diagnose_spec import DiagnoseSpec, load_spec
from cocity.metrics.diagnose_tables import result_tables
from cocity.metrics.errors import DiagnoseError
from cocity.metrics.streams import SECTIONS


def run_diagnostics(store: Store, spec: DiagnoseSpec | None = None, *,
                    on_step: Callable[[str], None] | None = None) -> Diagnostics:
    """Run the sections of ``spec`` (default: :func:`load_spec`) on ``store``.

    ``on_step(section)`` is called before each section starts (for progress displays).
    Raises :class:`DiagnoseError` (the metric's message, where it arose) on bad input.
    """
    spec = spec or load_spec()
    ctx = Context(store, spec, on_step)
    for ind in (*spec.indicators, spec.population):
        ctx.indicator(ind, "indicators")
    scope = ctx.scope_units(spec.level)
    groups, group_names = ctx.groups(scope)
    spec = ctx.spec  # groups() turns province groups into prefectures inside one province
    scope_table = scope[["code", "name_zh", "name_en", "parent", "metro", "tier",
                         "membership"]].copy()
    scope_table["group"] = groups.reindex(scope_table.index)
    geo = boundaries(store, ctx)

    results: dict[str, Any] = {}
    for section in spec.sections:
        ctx.on_step(section)
        if section == "inequality":
            results[section] = run_inequality(ctx, scope, groups)
        elif section == "convergence":
            results[section] = run_convergence(ctx, scope)
        elif section == "structure":
            results[section] = run_structure(ctx)
        elif section == "network":
            results[section] = run_network(ctx)
        elif section == "polycentricity":
            nw = results.get("network")
            results[section] = run_polycentricity(ctx, nw.graph if nw is not None else None)
        elif section == "spatial":
            if geo is None or not (geo["level"] == spec.level).any():
                raise DiagnoseError(t("diagnose.err.no_boundaries",
                                      level=t(f"level.{spec.level}")))
            results[section] = run_spatial(ctx, scope, geo[geo["level"] == spec.level])
        else:
            results[section] = run_people_circle(ctx)

    used = sorted({*spec.indicators, spec.population})
    values = store.observations(used, sorted({*spec.years, *spec.convergence.years}),
                                spec.level)
    values = values[values["unit"].astype(str).isin(scope.index)][
        ["unit", "year", "indicator", "value"]].reset_index(drop=True)
    shown = {*used, spec.network.gdp.indicator, spec.network.population.indicator,
             spec.polycentricity.size.indicator, spec.structure.totals}
    if results.get("structure") is not None:
        shown |= set(results["structure"].sectors)
    if "people_circle" in spec.sections:
        shown |= set(spec.people_circle_spec.indicators())
    catalog = ctx.catalog.loc[[c for c in ctx.catalog.index if c in shown]]
    group_table = group_names.assign(n=groups.value_counts().reindex(group_names.index)
                                     .fillna(0).astype(int))
    return Diagnostics(
        spec=spec, provenance=provenance(store, indicators=sorted(shown)),
        units=ctx.units, scope=scope_table, groups=group_table, catalog=catalog,
        values=values, geo=geo,
        inequality=results.get("inequality"), convergence=results.get("convergence"),
        structure=results.get("structure"), network=results.get("network"),
        polycentricity=results.get("polycentricity"), spatial=results.get("spatial"),
        people_circle=results.get("people_circle"), unit_sets=dict(ctx.unit_sets),
        notes=(*ctx.data_notes(), *ctx.notes))


__all__ = ["SECTIONS", "ConvergenceResult", "DiagnoseError", "DiagnoseSpec", "Diagnostics",
           "InequalityResult", "NetworkResult", "Note", "PeopleCircleResult",
           "PolycentricityResult", "SpatialResult", "StructureResult", "UnitSet", "load_spec",
           "result_tables", "run_diagnostics"]
