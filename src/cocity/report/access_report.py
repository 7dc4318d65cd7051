"""The reports of ``cocity access``: 1-hour commuting circles, 15-minute life circles and
accessibility measures — pages and the files of a run. The runs themselves are
:mod:`cocity.access.commute`, :mod:`cocity.access.lifecircle_run` and
:mod:`cocity.access.measure_run`; here they are only rendered and written (every file through
:mod:`cocity.outputs`, the manifest last, with the provenance of the store's data where one is
read).

Each command writes its tables (CSV files and one XLSX workbook), a GeoPackage and one
self-contained bilingual HTML page. Like the other pages, a page holds both languages (简体中文
first, switched in the page), plotly.js inline once, each boundary set once, a
Content-Security-Policy that forbids every request, and is written atomically; it extends
``index_base.html.j2``. Figures are built in both languages with
:func:`cocity.report.render.bilingual_figure`.

- **Commuting circles** (:func:`write_commute_outputs`): minutes from each
  core to every county-level unit (:func:`cocity.access.regional.commuting_circles`), one map of
  the minutes per core, one map of the membership of the circles, rail links drawn between
  their station units. Road times are modelled, and the page and the tables say so. With
  commuting OD data, a third map shows the membership by commuting share
  (:func:`cocity.access.regional.commuting_share_circles`) in the same colour classes, with the
  units on which the two memberships differ (:func:`commute_comparison`).
- **Life circles** (:func:`write_lifecircle_outputs`): coverage by level, by facility type and by
  unit, the gaps, a chart of the coverage per type and a map of the homes coloured by the finest
  level at which they are covered, over the street network (planar coordinates of the network's
  CRS, metres).
- **Accessibility measures** (:func:`write_measure_outputs`): one measure of
  :mod:`cocity.access.measures` on a sparse cost matrix; the score per demand point (and the
  ratios R_j of the 2SFCA family per supply point), summary statistics, a histogram and, with
  coordinates, a map of the points (no GeoPackage).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.offline
import yaml
from markupsafe import Markup

import cocity
from cocity.access.commute import Commute, commute_comparison, commute_counts
from cocity.access.measure_run import STAT_KEYS, MeasureRun, measure_stats
from cocity.i18n import LANGS, t
from cocity.outputs import manifest as make_manifest
from cocity.outputs import sha256_bytes, sha256_file, write_csv, write_gpkg, write_json, write_xlsx
from cocity.report.maps import FEATURE_ID_KEY, flat_colorscale, hover_names, map_layout
from cocity.report.profile import geojson_of
from cocity.report.render import (
    GEO_PREFIX,
    TOPOJSON_NAMES,
    bilingual_figure,
    script_json,
    template_environment,
    write_atomic,
)
from cocity.report.style import CHART_CONFIG, FONT_STACK, MAP_CONFIG, chart_layout

if TYPE_CHECKING:
    # the street-network side needs numba; imported only when a run routes
    from cocity.access.life_circles import LifeCircles
    from cocity.access.lifecircle_run import LifeCircleRun
    from cocity.access.network import Network

MAP_HEIGHT = 560
CIRCLE_COLORS = {"both": "#7b3294", "first": "#d95f02", "second": "#1b9e77", "none": "#e3e3e3"}
DEMAND_COLOR = "Viridis"
SUPPLY_COLOR = "#d6604d"
NO_ACCESS_COLOR = "#9e9e9e"
NO_FLOWS_COLOR = "#8c8c8c"
SHARE_COLORS = {**CIRCLE_COLORS, "no_flows": NO_FLOWS_COLOR}
RAIL_COLOR = "#1f2328"
CORE_COLOR = "#f2b447"
LEVEL_COLORS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")
NOT_COVERED_COLOR = "#b2182b"
NOT_SNAPPED_COLOR = "#9e9e9e"
EDGE_COLOR = "#c9ced6"
MAX_DRAWN_ARCS = 40_000


# ---------------------------------------------------------------------- shared pieces
def _mercator(fig: go.Figure, bbox: list[float], height: int) -> go.Figure:
    """The shared hidden base map in Mercator, which keeps half-width maps of a region this
    small readable (see :func:`cocity.report.diagnose_report._fit`)."""
    fig = map_layout(fig, bbox)
    fig.update_geos(projection={"type": "mercator", "parallels": None})
    fig.update_layout(height=height)
    return fig


def _plotlyjs() -> Markup:
    return Markup(plotly.offline.get_plotlyjs().replace("</script", "<\\/script"))



# ---------------------------------------------------------------------- commuting circles
def _rail_traces(c: Commute, lang: str) -> list[go.Scattergeo]:
    edges = c.network.edges
    rail = edges[edges["mode"] == "rail"]
    rail = rail[rail["u"] < rail["v"]]
    pts = c.geo.set_index("code")[["lon", "lat"]]
    label = t("access.cli.commute.rail", lang)
    traces = []
    for i, r in enumerate(rail.itertuples()):
        a, b = pts.loc[r.u], pts.loc[r.v]
        text = t("access.cli.commute.rail_hover", lang, line=r.line, minutes=f"{r.minutes:g}")
        traces.append(go.Scattergeo(
            lon=[a["lon"], b["lon"]], lat=[a["lat"], b["lat"]], mode="lines",
            line={"width": 2.2, "color": RAIL_COLOR, "dash": "dot"}, name=label,
            legendgroup="rail", showlegend=i == 0, hoverinfo="text", text=[text, text]))
    return traces


def _core_trace(c: Commute, lang: str) -> go.Scattergeo:
    pts = c.geo.set_index("code")
    codes = [str(u) for core in c.cores for u in c.spec.cores[core].counties
             if str(u) in pts.index]
    sub = pts.loc[codes]
    return go.Scattergeo(
        lon=sub["lon"], lat=sub["lat"], mode="markers", name=t("access.cli.commute.core", lang),
        marker={"symbol": "star", "size": 11, "color": CORE_COLOR,
                "line": {"color": "#333", "width": 0.8}},
        customdata=np.column_stack([sub["name_zh"], sub["name_en"], codes]),
        hovertemplate=("<b>%{customdata[0]}</b> %{customdata[1]} (%{customdata[2]})<br>"
                       f"{t('access.cli.commute.core', lang)}<extra></extra>"))


def commute_minutes_figure(c: Commute, core: str, lang: str = "zh") -> go.Figure:
    """Minutes from ``core`` to every unit (colour saturates at twice the threshold)."""
    tab = c.table.rename(columns={"unit": "code"})
    name = c.core_name(core, lang)
    modelled = np.where(tab[f"modelled_{core}"], t("access.cli.commute.modelled", lang),
                        t("access.cli.commute.published", lang))
    within = np.where(tab[f"within_{core}"], t("access.cli.commute.within", lang,
                                               threshold=c.threshold), "")
    unit_l = t("access.cli.commute.minutes_unit", lang)
    fig = go.Figure(go.Choropleth(
        geojson=GEO_PREFIX + "county", featureidkey=FEATURE_ID_KEY, locations=tab["code"],
        z=tab[f"minutes_{core}"].to_numpy(float), zmin=0, zmax=2 * c.threshold,
        colorscale="YlGnBu", reversescale=True, showscale=True,
        name=t("access.cli.commute.minutes_to", lang, core=name),
        colorbar={"title": {"text": unit_l}, "thickness": 14, "len": 0.6, "x": 0.98,
                  "xanchor": "right"},
        marker={"line": {"color": "white", "width": 0.4}},
        customdata=np.column_stack([hover_names(tab), modelled, within]),
        hovertemplate=("<b>%{customdata[0]}</b> %{customdata[1]} (%{customdata[2]})<br>"
                       f"{t('access.cli.commute.minutes_to', lang, core=name)}: "
                       f"%{{z:.0f}} {unit_l} · %{{customdata[3]}}<br>%{{customdata[4]}}"
                       "<extra></extra>"),
        meta={"geo": "county"}))
    fig.add_traces(_rail_traces(c, lang))
    fig.add_trace(_core_trace(c, lang))
    return _mercator(fig, geojson_bbox(c), MAP_HEIGHT)


def _class_trace(sub: pd.DataFrame, color: str, label: str, extra: np.ndarray,
                 detail: str) -> go.Choropleth:
    """One class of a membership map: its units in one colour, the class and its count in the
    legend, names and ``extra`` columns (referred to by ``detail``) in the hover."""
    return go.Choropleth(
        geojson=GEO_PREFIX + "county", featureidkey=FEATURE_ID_KEY,
        locations=sub["code"], z=np.ones(len(sub)), colorscale=flat_colorscale(color),
        showscale=False, showlegend=True, name=f"{label} ({len(sub)})",
        marker={"line": {"color": "white", "width": 0.5}},
        customdata=np.column_stack([hover_names(sub), extra]),
        hovertemplate=("<b>%{customdata[0]}</b> %{customdata[1]} (%{customdata[2]})<br>"
                       f"{label}<br>{detail}<extra></extra>"),
        meta={"geo": "county"})


def commute_membership_figure(c: Commute, lang: str = "zh") -> go.Figure:
    """Membership of the commuting circles, one legend entry per class."""
    tab = c.table.rename(columns={"unit": "code"})
    fig = go.Figure()
    for key in c.classes:
        color = CIRCLE_COLORS[key]
        sub = tab[tab["circle"] == key]
        if sub.empty:
            continue
        label = c.circle_label(key, lang)
        mins = np.column_stack([[f"{v:.0f}" for v in sub[f"minutes_{core}"]]
                                for core in c.cores])
        detail = " · ".join(f"{c.core_name(core, lang)} %{{customdata[{3 + i}]}} "
                            f"{t('access.cli.commute.minutes_unit', lang)}"
                            for i, core in enumerate(c.cores))
        fig.add_trace(_class_trace(sub, color, label, mins, detail))
    fig.add_traces(_rail_traces(c, lang))
    fig.add_trace(_core_trace(c, lang))
    return _mercator(fig, geojson_bbox(c), MAP_HEIGHT + 120)


def commute_share_figure(c: Commute, lang: str = "zh") -> go.Figure:
    """Membership by commuting share, in the colour classes of the time-based map; units
    without outgoing commuters in the data in grey."""
    tab = c.table.rename(columns={"unit": "code"})
    fig = go.Figure()
    none_l = t("access.cli.commute.share.no_data", lang)
    for key, color in SHARE_COLORS.items():
        sub = tab[tab["circle_share"] == key]
        if sub.empty:
            continue
        label = c.share_label(key, lang)
        shares = np.column_stack([[none_l if np.isnan(v) else f"{100 * v:.1f}%"
                                   for v in sub[f"share_{core}"]] for core in c.cores])
        detail = " · ".join(
            t("access.cli.commute.share_to", lang, core=c.core_name(core, lang))
            + f" %{{customdata[{3 + i}]}}" for i, core in enumerate(c.cores))
        fig.add_trace(_class_trace(sub, color, label, shares, detail))
    fig.add_trace(_core_trace(c, lang))
    return _mercator(fig, geojson_bbox(c), MAP_HEIGHT + 120)


def geojson_bbox(c: Commute) -> list[float]:
    return [float(v) for v in c.geo.total_bounds]


def commute_geojson(c: Commute) -> dict[str, dict[str, Any]]:
    return {GEO_PREFIX + "county": geojson_of(c.geo)}


def commute_figures(c: Commute, lang: str = "zh") -> list[dict[str, Any]]:
    figs = [{"id": f"fig-minutes-{i}", "lazy": False, "config": MAP_CONFIG,
             **bilingual_figure(commute_minutes_figure, c, core, lang=lang)}
            for i, core in enumerate(c.cores)]
    figs.append({"id": "fig-circles", "lazy": False, "config": MAP_CONFIG,
                 **bilingual_figure(commute_membership_figure, c, lang=lang)})
    if c.has_shares:
        figs.append({"id": "fig-circles-share", "lazy": False, "config": MAP_CONFIG,
                     **bilingual_figure(commute_share_figure, c, lang=lang)})
    return figs


def _comparison_lists(c: Commute) -> dict[str, dict[str, list[dict[Any, Any]]]]:
    """:func:`commute_comparison` as records by core and kind of difference."""
    comp = commute_comparison(c)
    return {core: {kind: comp[(comp["core"] == core) & (comp["difference"] == kind)]
                   .to_dict("records") for kind in ("time_only", "share_only")}
            for core in c.cores}


def _flows_manifest(c: Commute) -> dict[str, Any]:
    assert c.flows is not None
    path = Path(c.flows_source)
    comp = _comparison_lists(c)
    return {
        "file": c.flows_source, "sha256": sha256_file(path) if path.is_file() else None,
        "rows": len(c.flows), "commuters": float(c.flows["commuters"].sum()),
        "share_threshold": c.share_threshold,
        "units_without_flows": int(c.table["no_flows"].sum()),
        "within_share": {core: int(c.table[f"within_share_{core}"].sum()) for core in c.cores},
        "comparison": {core: {kind: [str(r["unit"]) for r in rows]
                              for kind, rows in by_kind.items()}
                       for core, by_kind in comp.items()},
    }


def commute_manifest(c: Commute, paths: dict[str, Path], root: Path) -> dict[str, Any]:
    """The manifest of a commute run (:func:`cocity.outputs.manifest`): the provenance of the
    workspace's data, the spec as used (and its hash), the units covered and the counts."""
    spec = c.spec.as_dict()
    spec_text = yaml.safe_dump(spec, allow_unicode=True, sort_keys=True)
    return make_manifest(
        "access commute", outputs=paths, root=root, provenance=c.provenance,
        config={"spec": spec, "threshold_minutes": c.threshold,
                "share_threshold": c.share_threshold if c.has_shares else None},
        spec_source=c.source, spec_sha256=sha256_bytes(spec_text.encode()), datum=c.datum,
        units=len(c.table), units_in_data=c.units_in_data,
        coverage={"zh": c.coverage("zh"), "en": c.coverage("en")},
        within={core: int(c.table[f"within_{core}"].sum()) for core in c.cores},
        **({"flows": _flows_manifest(c)} if c.has_shares else {}))


def commute_html(c: Commute, lang: str = "zh", *, manifest: dict[str, Any] | None = None,
                 files: list[str] | None = None) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    figs = commute_figures(c, lang)
    rail = c.network.edges[(c.network.edges["mode"] == "rail")]
    rail = rail[rail["u"] < rail["v"]]
    template = template_environment().get_template("access_commute.html.j2")
    return template.render(
        lang=lang, version=cocity.__version__, font_stack=FONT_STACK, plotlyjs=_plotlyjs(),
        topojson_json=script_json(list(TOPOJSON_NAMES)),
        geo_json=script_json(commute_geojson(c)), figures_json=script_json(figs),
        title_zh=t("access.cli.commute.title", "zh"), title_en=t("access.cli.commute.title", "en"),
        notice_zh=t("access.cli.commute.notice", "zh", model=c.spec.road.model_zh),
        notice_en=t("access.cli.commute.notice", "en", model=c.spec.road.model_en),
        c=c, counts=commute_counts(c), colors=CIRCLE_COLORS, rail=rail,
        share_counts=commute_counts(c, "circle_share") if c.has_shares else [],
        share_colors=SHARE_COLORS, comparison=_comparison_lists(c),
        manifest=manifest or commute_manifest(c, {}, Path(".")), files=files or [],
        rows=c.table.sort_values(f"minutes_{c.cores[0]}"),
        names=c.geo.set_index("code")[["name_zh", "name_en"]].to_dict("index"))


COMMUTE_NAMES = {"csv": "commute.csv", "xlsx": "commute.xlsx", "gpkg": "commute.gpkg",
                 "html": "commute.html", "manifest": "commute.json"}


def write_commute_outputs(c: Commute, out: str | Path, *, lang: str = "zh") -> dict[str, Path]:
    """``commute.csv``/``.xlsx`` (the table; the workbook also lists the links and, with
    commuting data, the comparison of the two memberships and the flows as read), the
    GeoPackage ``commute.gpkg`` (layer ``counties``), ``commute.html`` and the manifest
    ``commute.json`` into folder ``out``."""
    folder = Path(out)
    paths: dict[str, Path] = {}
    paths["csv"] = write_csv(c.table, folder / COMMUTE_NAMES["csv"], index=False)
    sheets = {"commute": c.table, "links": c.network.edges}
    if c.flows is not None:
        sheets["comparison"] = commute_comparison(c)
        sheets["flows"] = c.flows
    paths["xlsx"] = write_xlsx(sheets, folder / COMMUTE_NAMES["xlsx"],
                               index=dict.fromkeys(sheets, False))
    layer = c.geo[["code", "geometry"]].merge(c.table, left_on="code", right_on="unit")
    paths["gpkg"] = write_gpkg({"counties": layer.drop(columns="code")},
                               folder / COMMUTE_NAMES["gpkg"])
    files = [COMMUTE_NAMES[k] for k in ("csv", "xlsx", "gpkg", "manifest")]
    html = commute_html(c, lang, manifest=commute_manifest(c, paths, folder), files=files)
    paths["html"] = write_atomic(html, folder / COMMUTE_NAMES["html"])
    paths["manifest"] = write_json(commute_manifest(c, paths, folder),
                                   folder / COMMUTE_NAMES["manifest"])
    return paths


# ---------------------------------------------------------------------- life circles
def _class_label(res: LifeCircles, cls: str, lang: str) -> str:
    if cls in ("none", "not_snapped"):
        return t(f"access.cli.lc.class.{cls}", lang)
    lv = next(lv for lv in res.spec.levels if lv.code == cls)
    return t("access.cli.lc.class.level", lang, level=lv.name(lang), m=f"{lv.walk_m:g}")


def lifecircle_map_figure(res: LifeCircles, network: Network, lang: str = "zh") -> go.Figure:
    """Homes coloured by the finest covered level, over the network's arcs (metres)."""
    fig = go.Figure()
    tails = network.tails()
    heads = np.asarray(network.indices, dtype=np.int64)
    keep = tails < heads
    if int(keep.sum()) <= MAX_DRAWN_ARCS:
        a, b = tails[keep], heads[keep]
        xs = np.column_stack([network.x[a], network.x[b], np.full(len(a), np.nan)]).ravel()
        ys = np.column_stack([network.y[a], network.y[b], np.full(len(a), np.nan)]).ravel()
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=t("access.cli.lc.streets", lang),
                                 line={"color": EDGE_COLOR, "width": 1}, hoverinfo="skip"))
    cls = res.finest_level()
    colors = {lv.code: LEVEL_COLORS[i % len(LEVEL_COLORS)]
              for i, lv in enumerate(res.spec.levels)}
    colors.update(none=NOT_COVERED_COLOR, not_snapped=NOT_SNAPPED_COLOR)
    layer = res.gap_layer()
    pop_l = t("access.cli.lc.col.population", lang)
    miss_l = t("access.cli.lc.missing", lang)
    for key, color in colors.items():
        sel = (cls == key).to_numpy()
        sub = layer[sel]
        label = _class_label(res, key, lang)
        missing = [", ".join(res.spec.type_name(k, lang) for k in m) or "—"
                   for m in sub["missing"]]
        fig.add_trace(go.Scatter(
            x=sub["x"], y=sub["y"], mode="markers", name=f"{label} ({len(sub)})",
            marker={"color": color, "size": 7, "line": {"color": "white", "width": 0.5}},
            customdata=np.column_stack([sub["home"].astype(str), sub["unit"].astype(str),
                                        [f"{p:,.0f}" for p in sub["population"]], missing])
            if len(sub) else np.empty((0, 4)),
            hovertemplate=("<b>%{customdata[0]}</b> · %{customdata[1]}<br>"
                           f"{pop_l}: %{{customdata[2]}}<br>{label}<br>"
                           f"{miss_l}: %{{customdata[3]}}<extra></extra>")))
    fig.update_layout(
        height=640, margin={"l": 8, "r": 8, "t": 8, "b": 8},
        font={"family": FONT_STACK, "size": 12}, paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="#ffffff", hoverlabel={"font": {"family": FONT_STACK}},
        legend={"x": 0.01, "y": 0.99, "bgcolor": "rgba(255,255,255,0.85)"},
        xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x",
                                         "scaleratio": 1})
    return fig


def lifecircle_types_figure(res: LifeCircles, lang: str = "zh") -> go.Figure:
    """Population share within each type's own level distance, one bar per type."""
    fig = go.Figure()
    share = res.by_type.set_index(["level", "type"])["share"].to_dict()
    for i, lv in enumerate(res.spec.levels):
        types = list(lv.facilities)
        shares = [float(share[(lv.code, k)]) for k in types]
        label = f"{lv.name(lang)} ({lv.walk_m:g} m)"
        fig.add_trace(go.Bar(
            y=[res.spec.type_name(k, lang) for k in types], x=shares, orientation="h",
            name=label, marker={"color": LEVEL_COLORS[i % len(LEVEL_COLORS)]},
            hovertemplate=f"{label}<br>%{{y}}: %{{x:.1%}}<extra></extra>"))
    n = len(res.spec.types)
    return chart_layout(fig, 120 + 26 * n,
                         xaxis={"range": [0, 1], "tickformat": ".0%",
                                "title": {"text": t("access.cli.lc.share_pop", lang)}},
                         yaxis={"autorange": "reversed", "automargin": True})


def lifecircle_figures(res: LifeCircles, network: Network,
                       lang: str = "zh") -> list[dict[str, Any]]:
    return [{"id": "fig-homes", "lazy": False, "config": MAP_CONFIG,
             **bilingual_figure(lifecircle_map_figure, res, network, lang=lang)},
            {"id": "fig-types", "lazy": False, "config": CHART_CONFIG,
             **bilingual_figure(lifecircle_types_figure, res, lang=lang)}]


def _input_files(inputs: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {k: {"file": v, "sha256": sha256_file(Path(v)) if Path(v).is_file() else None}
            for k, v in inputs.items()}


def lifecircle_manifest(run: LifeCircleRun, paths: dict[str, Path],
                        root: Path) -> dict[str, Any]:
    """The manifest of a life-circle run (:func:`cocity.outputs.manifest`; no store is read,
    so the inputs are the files with their hashes)."""
    res = run.result
    return make_manifest(
        "access lifecircle", outputs=paths, root=root,
        config={"max_snap_m": res.max_snap, "include_snap": res.include_snap},
        spec_source=res.spec.source, standard=res.spec.standard,
        levels=[{"code": lv.code, "walk_m": lv.walk_m, "types": list(lv.facilities)}
                for lv in res.spec.levels],
        inputs=_input_files(run.inputs), crs=res.crs,
        coverage={"zh": run.coverage("zh"), "en": run.coverage("en")},
        summary=res.summary().to_dict("records"),
        notes=[{"zh": n.text("zh"), "en": n.text("en")} for n in res.notes]
        + [{"zh": zh, "en": en} for zh, en in run.notes])


def lifecircle_html(res: LifeCircles, network: Network, lang: str = "zh", *,
                    manifest: dict[str, Any], files: list[str] | None = None,
                    extra_notes: list[tuple[str, str]] | None = None) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    figs = lifecircle_figures(res, network, lang)
    template = template_environment().get_template("access_lifecircle.html.j2")
    by_type = res.by_type.set_index(["level", "type"])
    units = res.by_unit.pivot(index="unit", columns="level", values="share")
    pops = res.by_unit.drop_duplicates("unit").set_index("unit")[["homes", "population"]]
    return template.render(
        lang=lang, version=cocity.__version__, font_stack=FONT_STACK, plotlyjs=_plotlyjs(),
        topojson_json=script_json(list(TOPOJSON_NAMES)), geo_json=script_json({}),
        figures_json=script_json(figs),
        title_zh=t("access.cli.lc.title", "zh"), title_en=t("access.cli.lc.title", "en"),
        notice_zh=None, notice_en=None, r=res, summary=res.summary(), by_type=by_type,
        unit_shares=units.reindex(columns=[lv.code for lv in res.spec.levels]), unit_pops=pops,
        gap_counts=res.gaps.groupby("type").agg(homes=("home", "size"),
                                                population=("population", "sum")),
        notes=[(n.text("zh"), n.text("en")) for n in res.notes] + (extra_notes or []),
        manifest=manifest, files=files or [], network=network,
        snapped_pop=float(res.homes.loc[res.homes["snapped"], "population"].sum()))


LC_TABLES = ("homes", "by_unit", "by_type", "by_unit_type", "gaps", "far_homes",
             "far_facilities")


def lifecircle_tables(res: LifeCircles) -> dict[str, pd.DataFrame]:
    cls = res.finest_level()
    homes = res.homes.assign(finest_level=cls)
    return {"homes": homes, "by_unit": res.by_unit, "by_type": res.by_type,
            "by_unit_type": res.by_unit_type, "gaps": res.gaps, "far_homes": res.far_homes,
            "far_facilities": res.far_facilities}


def write_lifecircle_outputs(run: LifeCircleRun, out: str | Path, *,
                             lang: str = "zh") -> dict[str, Path]:
    """``tables/<name>.csv`` and ``lifecircle.xlsx`` (homes, coverage by unit / type /
    unit × type, gaps, points not snapped), ``lifecircle.gpkg`` (layers ``homes``: coverage,
    finest level and the lacking types as text; ``gaps``: one point per home and lacking
    type), ``lifecircle.html`` and the manifest ``lifecircle.json``."""
    import geopandas as gpd

    res, network = run.result, run.network
    folder = Path(out)
    tables = lifecircle_tables(res)
    paths: dict[str, Path] = {}
    for name, frame in tables.items():
        paths[f"csv:{name}"] = write_csv(frame, folder / "tables" / f"{name}.csv", index=False)
    paths["xlsx"] = write_xlsx(tables, folder / "lifecircle.xlsx",
                               index=dict.fromkeys(tables, False))
    homes = res.gap_layer()
    homes["missing"] = homes["missing"].map(",".join)
    homes["finest_level"] = res.finest_level().to_numpy()
    home_xy = res.homes.set_index("home")[["x", "y"]]
    gaps = res.gaps.join(home_xy, on="home")
    gap_layer = gpd.GeoDataFrame(gaps, geometry=gpd.points_from_xy(gaps["x"], gaps["y"]),
                                 crs=res.crs)
    paths["gpkg"] = write_gpkg({"homes": homes, "gaps": gap_layer},
                               folder / "lifecircle.gpkg")
    files = ["lifecircle.xlsx", f"tables/*.csv ({len(tables)})", "lifecircle.gpkg",
             "lifecircle.json"]
    html = lifecircle_html(res, network, lang, manifest=lifecircle_manifest(run, paths, folder),
                           files=files, extra_notes=run.notes)
    paths["html"] = write_atomic(html, folder / "lifecircle.html")
    paths["manifest"] = write_json(lifecircle_manifest(run, paths, folder),
                                   folder / "lifecircle.json")
    return paths



# ---------------------------------------------------------------------- accessibility measures
def _score_label(run: MeasureRun, lang: str) -> str:
    if run.lower_is_better:
        return t("access.cli.measure.score_nearest", lang,
                 unit=t(f"access.cli.measure.unit.{run.cost_unit}", lang))
    return t("access.cli.measure.score", lang)


def measure_histogram_figure(run: MeasureRun, lang: str = "zh") -> go.Figure:
    """Distribution of the scores over the demand points (finite values)."""
    a = run.demand["access"].to_numpy(float)
    label = _score_label(run, lang)
    fig = go.Figure(go.Histogram(
        x=a[np.isfinite(a)], name=label, marker={"color": "#2c7fb8",
                                                 "line": {"color": "white", "width": 0.5}},
        hovertemplate=(f"{label}: %{{x}}<br>{t('access.cli.measure.points', lang)}: "
                       "%{y}<extra></extra>")))
    return chart_layout(fig, 360, bargap=0.04, showlegend=False,
                        xaxis={"title": {"text": label}},
                        yaxis={"title": {"text": t("access.cli.measure.points", lang)}})


def measure_map_figure(run: MeasureRun, lang: str = "zh") -> go.Figure:
    """Demand points coloured by their score, supply points sized by capacity."""
    d, s = run.demand, run.supply
    a = d["access"].to_numpy(float)
    none = np.isinf(a) if run.lower_is_better else a == 0
    label = _score_label(run, lang)
    dem_l = t("access.cli.measure.col.demand", lang)
    fig = go.Figure()
    sub = d[none]
    fig.add_trace(go.Scatter(
        x=sub["x"], y=sub["y"], mode="markers",
        name=f"{t('access.cli.measure.no_supply', lang)} ({len(sub)})",
        marker={"color": NO_ACCESS_COLOR, "size": 7, "line": {"color": "white", "width": 0.5}},
        customdata=np.column_stack([sub["id"].astype(str), sub["demand"].to_numpy(float)])
        if len(sub) else np.empty((0, 2)),
        hovertemplate=(f"<b>%{{customdata[0]}}</b><br>{dem_l}: %{{customdata[1]:,.0f}}<br>"
                       f"{t('access.cli.measure.no_supply', lang)}<extra></extra>")))
    sub = d[~none]
    fig.add_trace(go.Scatter(
        x=sub["x"], y=sub["y"], mode="markers",
        name=f"{t('access.cli.measure.demand_points', lang)} ({len(sub)})",
        marker={"color": sub["access"].to_numpy(float), "colorscale": DEMAND_COLOR,
                "reversescale": run.lower_is_better, "size": 8, "showscale": True,
                "colorbar": {"title": {"text": label}, "thickness": 14, "len": 0.6},
                "line": {"color": "white", "width": 0.5}},
        customdata=np.column_stack([sub["id"].astype(str), sub["demand"].to_numpy(float),
                                    sub["access"].to_numpy(float)])
        if len(sub) else np.empty((0, 3)),
        hovertemplate=(f"<b>%{{customdata[0]}}</b><br>{dem_l}: %{{customdata[1]:,.0f}}<br>"
                       f"{label}: %{{customdata[2]:.4g}}<extra></extra>")))
    cap = s["capacity"].to_numpy(float)
    top = float(cap.max()) if len(cap) and cap.max() > 0 else 1.0
    cap_l = t("access.cli.measure.col.capacity", lang)
    fig.add_trace(go.Scatter(
        x=s["x"], y=s["y"], mode="markers",
        name=f"{t('access.cli.measure.supply_points', lang)} ({len(s)})",
        marker={"color": SUPPLY_COLOR, "symbol": "diamond", "opacity": 0.85,
                "size": 8 + 22 * np.sqrt(cap / top), "line": {"color": "#333", "width": 0.8}},
        customdata=np.column_stack([s["id"].astype(str), cap]) if len(s)
        else np.empty((0, 2)),
        hovertemplate=(f"<b>%{{customdata[0]}}</b><br>{cap_l}: %{{customdata[1]:,.4g}}"
                       "<extra></extra>")))
    ys = np.concatenate([d["y"].to_numpy(float), s["y"].to_numpy(float)])
    ratio = 1.0
    if run.coords == "lonlat" and len(ys):
        ratio = 1.0 / max(np.cos(np.radians(float(np.nanmean(ys)))), 0.1)
    fig.update_layout(
        height=600, margin={"l": 8, "r": 8, "t": 8, "b": 8},
        font={"family": FONT_STACK, "size": 12}, paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="#ffffff", hoverlabel={"font": {"family": FONT_STACK}},
        legend={"x": 0.01, "y": 0.99, "bgcolor": "rgba(255,255,255,0.85)"},
        xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x",
                                         "scaleratio": ratio})
    return fig


def measure_figures(run: MeasureRun, lang: str = "zh") -> list[dict[str, Any]]:
    figs = [{"id": "fig-hist", "lazy": False, "config": CHART_CONFIG,
             **bilingual_figure(measure_histogram_figure, run, lang=lang)}]
    if run.coords is not None:
        figs.append({"id": "fig-points", "lazy": False, "config": MAP_CONFIG,
                     **bilingual_figure(measure_map_figure, run, lang=lang)})
    return figs


def measure_manifest(run: MeasureRun, paths: dict[str, Path], root: Path) -> dict[str, Any]:
    """The manifest of a measure run (:func:`cocity.outputs.manifest`; no store is read, so
    the inputs are the files with their hashes)."""
    return make_manifest(
        "access measure", outputs=paths, root=root, config=run.params.as_dict(),
        parameters=run.params.as_dict(), cost_source=run.source, cost_unit=run.cost_unit,
        pairs=run.pairs, crs=run.crs, inputs=_input_files(run.inputs),
        demand_points=len(run.demand), supply_points=len(run.supply),
        coverage={"zh": run.coverage("zh"), "en": run.coverage("en")},
        summary=measure_stats(run), notes=[{"zh": zh, "en": en} for zh, en in run.notes])


MAX_SUPPLY_ROWS = 500


def measure_html(run: MeasureRun, lang: str = "zh", *, manifest: dict[str, Any],
                 files: list[str] | None = None) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    template = template_environment().get_template("access_measure.html.j2")
    supply = run.supply
    if run.has_ratios:
        supply = supply.sort_values("ratio", ascending=False, na_position="last")
    return template.render(
        lang=lang, version=cocity.__version__, font_stack=FONT_STACK, plotlyjs=_plotlyjs(),
        topojson_json=script_json(list(TOPOJSON_NAMES)), geo_json=script_json({}),
        figures_json=script_json(measure_figures(run, lang)),
        title_zh=t("access.cli.measure.title", "zh"),
        title_en=t("access.cli.measure.title", "en"),
        notice_zh=None, notice_en=None, run=run, stats=measure_stats(run),
        stat_keys=STAT_KEYS, params=run.params.as_dict(),
        supply_rows=supply.head(MAX_SUPPLY_ROWS).to_dict("records"),
        max_rows=MAX_SUPPLY_ROWS, manifest=manifest, files=files or [])


def write_measure_outputs(run: MeasureRun, out: str | Path, *,
                          lang: str = "zh") -> dict[str, Path]:
    """``measure.csv`` (one row per demand point), ``measure_supply.csv`` (the ratios of the
    2SFCA family), ``measure.xlsx`` (the same and the summary), ``measure.html`` and the
    manifest ``measure.json`` into folder ``out``."""
    folder = Path(out)
    paths: dict[str, Path] = {}
    paths["csv"] = write_csv(run.demand, folder / "measure.csv", index=False)
    sheets = {"demand": run.demand}
    if run.has_ratios:
        paths["csv_supply"] = write_csv(run.supply, folder / "measure_supply.csv", index=False)
        sheets["supply"] = run.supply
    sheets["summary"] = pd.DataFrame({"statistic": list(STAT_KEYS),
                                      "value": [measure_stats(run)[k] for k in STAT_KEYS]})
    paths["xlsx"] = write_xlsx(sheets, folder / "measure.xlsx",
                               index=dict.fromkeys(sheets, False))
    files = [p.name for p in paths.values()] + ["measure.json"]
    html = measure_html(run, lang, manifest=measure_manifest(run, paths, folder), files=files)
    paths["html"] = write_atomic(html, folder / "measure.html")
    paths["manifest"] = write_json(measure_manifest(run, paths, folder), folder / "measure.json")
    return paths
