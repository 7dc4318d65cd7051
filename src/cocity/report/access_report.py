"""The reports of ``cocity access``: 1-hour commuting circles and 15-minute life circles.

Each command writes its tables (CSV files and one XLSX workbook), a GeoPackage and one
self-contained bilingual HTML page. Like the other pages, a page holds both languages (简体中文
first, switched in the page), plotly.js inline once, each boundary set once, a
Content-Security-Policy that forbids every request, and is written atomically; it extends
``index_base.html.j2``. Figures are built in both languages with
:func:`cocity.report.render.bilingual_figure`.

- **Commuting circles** (:func:`build_commute`, :func:`write_commute_outputs`): minutes from each
  core to every county-level unit (:func:`cocity.access.regional.commuting_circles`), one map of
  the minutes per core, one map of the membership of the circles, rail links drawn between
  their station units. Road times are modelled, and the page and the tables say so.
- **Life circles** (:func:`write_lifecircle_outputs`): coverage by level, by facility type and by
  unit, the gaps, a chart of the coverage per type and a map of the homes coloured by the finest
  level at which they are covered, over the street network (planar coordinates of the network's
  CRS, metres).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.offline
import yaml
from markupsafe import Markup

import cocity
from cocity.access.regional import RegionalNetwork, build_regional_network, commuting_circles
from cocity.data.store import Store
from cocity.i18n import LANGS, t
from cocity.index.build import dumps, versions, write_csv, write_text, write_xlsx
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
    # the street-network side needs numba; imported by the caller only when it routes
    from cocity.access.life_circles import LifeCircles
    from cocity.access.network import Network

MAP_HEIGHT = 560
CIRCLE_COLORS = {"both": "#7b3294", "first": "#d95f02", "second": "#1b9e77", "none": "#e3e3e3"}
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


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _plotlyjs() -> Markup:
    return Markup(plotly.offline.get_plotlyjs().replace("</script", "<\\/script"))


def write_gpkg(layers: dict[str, Any], path: str | Path) -> Path:
    """Write GeoDataFrames as the layers of one GeoPackage (pyogrio), atomically: into a
    temporary file beside the target, then renamed. Infinite values are written as nulls."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".gpkg", dir=target.parent)
    os.close(fd)
    Path(tmp).unlink()
    try:
        for name, gdf in layers.items():
            num = gdf.select_dtypes("number").columns
            clean = gdf.copy()
            clean[num] = clean[num].replace([np.inf, -np.inf], np.nan)
            with warnings.catch_warnings():
                # a network without a CRS gives layers without one, as documented
                warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
                clean.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


# ---------------------------------------------------------------------- commuting circles
@dataclass
class Commute:
    """Commuting circles of a workspace: ``table`` (one row per county-level unit: ``unit``,
    names, ``minutes_<core>``, ``modelled_<core>``, ``within_<core>``, ``circle``), the
    regional ``network``, the county boundaries ``geo`` and the spec used."""

    table: pd.DataFrame
    network: RegionalNetwork
    geo: Any
    spec: dict[str, Any]
    threshold: float
    datum: str
    source: str

    @property
    def cores(self) -> list[str]:
        return [str(c) for c in self.spec["cores"]]

    def core_name(self, core: str, lang: str) -> str:
        return str(self.spec["cores"][core].get(f"name_{lang}", core))

    def circle_label(self, circle: str, lang: str) -> str:
        cores = self.cores
        if circle == "both":
            return t("access.cli.commute.circle.both", lang, threshold=self.threshold)
        if circle == "none":
            return t("access.cli.commute.circle.none", lang, threshold=self.threshold)
        return t("access.cli.commute.circle.one", lang, core=self.core_name(
            cores[0] if circle == "first" else cores[1], lang), threshold=self.threshold)


def build_commute(store: Store, spec: dict[str, Any], *, source: str = "") -> Commute:
    """The regional network and the commuting circles of ``spec`` on the store's counties."""
    net = build_regional_network(store, spec)
    circles = commuting_circles(net, spec)
    units = store.units(level="county").set_index("code")
    table = circles.reset_index()
    table.insert(1, "name_zh", table["unit"].map(units["name_zh"]))
    table.insert(2, "name_en", table["unit"].map(units["name_en"]))
    table.insert(3, "parent", table["unit"].map(units["parent"]))
    cores = [str(c) for c in spec["cores"]]
    within = table[[f"within_{c}" for c in cores]].to_numpy(bool)
    if len(cores) == 2:
        circle = np.select([within.all(axis=1), within[:, 0], within[:, 1]],
                           ["both", "first", "second"], "none")
    else:
        circle = np.where(within.any(axis=1), "first", "none")
    table["circle"] = circle
    table["nearest_core"] = [cores[i] for i in np.argmin(
        table[[f"minutes_{c}" for c in cores]].to_numpy(float), axis=1)]
    geo = store.geodata(level="county")
    geo = geo[geo.geometry.notna()].reset_index(drop=True)
    return Commute(table, net, geo, spec, float(spec.get("threshold_minutes", 60)),
                   str(geo.attrs.get("datum", "")), source)


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
    codes = [str(u) for core in c.cores for u in c.spec["cores"][core]["counties"]
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


def commute_membership_figure(c: Commute, lang: str = "zh") -> go.Figure:
    """Membership of the commuting circles, one legend entry per class."""
    tab = c.table.rename(columns={"unit": "code"})
    fig = go.Figure()
    for key, color in CIRCLE_COLORS.items():
        sub = tab[tab["circle"] == key]
        if sub.empty:
            continue
        label = c.circle_label(key, lang)
        mins = np.column_stack([[f"{v:.0f}" for v in sub[f"minutes_{core}"]]
                                for core in c.cores])
        detail = " · ".join(f"{c.core_name(core, lang)} %{{customdata[{3 + i}]}} "
                            f"{t('access.cli.commute.minutes_unit', lang)}"
                            for i, core in enumerate(c.cores))
        fig.add_trace(go.Choropleth(
            geojson=GEO_PREFIX + "county", featureidkey=FEATURE_ID_KEY,
            locations=sub["code"], z=np.ones(len(sub)), colorscale=flat_colorscale(color),
            showscale=False, showlegend=True, name=f"{label} ({len(sub)})",
            marker={"line": {"color": "white", "width": 0.5}},
            customdata=np.column_stack([hover_names(sub), mins]),
            hovertemplate=("<b>%{customdata[0]}</b> %{customdata[1]} (%{customdata[2]})<br>"
                           f"{label}<br>{detail}<extra></extra>"),
            meta={"geo": "county"}))
    fig.add_traces(_rail_traces(c, lang))
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
    return figs


def commute_counts(c: Commute) -> list[tuple[str, int]]:
    counts = c.table["circle"].value_counts()
    return [(k, int(counts.get(k, 0))) for k in CIRCLE_COLORS]


def commute_manifest(c: Commute, paths: dict[str, Path]) -> dict[str, Any]:
    spec_text = yaml.safe_dump(c.spec, allow_unicode=True, sort_keys=True)
    return {
        "kind": "access commute",
        "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "spec_source": c.source, "spec_sha256": hashlib.sha256(spec_text.encode()).hexdigest(),
        "spec": c.spec, "threshold_minutes": c.threshold, "datum": c.datum,
        "units": len(c.table),
        "within": {core: int(c.table[f"within_{core}"].sum()) for core in c.cores},
        "versions": versions(),
        "outputs": {k: {"file": p.name, "sha256": _sha256(p)} for k, p in paths.items()},
    }


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
        notice_zh=t("access.cli.commute.notice", "zh", model=c.spec["road"].get("model_zh", "")),
        notice_en=t("access.cli.commute.notice", "en", model=c.spec["road"].get("model_en", "")),
        c=c, counts=commute_counts(c), colors=CIRCLE_COLORS, rail=rail,
        manifest=manifest or commute_manifest(c, {}), files=files or [],
        rows=c.table.sort_values(f"minutes_{c.cores[0]}"),
        names=c.geo.set_index("code")[["name_zh", "name_en"]].to_dict("index"))


COMMUTE_NAMES = {"csv": "commute.csv", "xlsx": "commute.xlsx", "gpkg": "commute.gpkg",
                 "html": "commute.html", "manifest": "commute.json"}


def write_commute_outputs(c: Commute, out: str | Path, lang: str = "zh") -> dict[str, Path]:
    """``commute.csv``/``.xlsx`` (the table; the workbook also lists the links), the
    GeoPackage ``commute.gpkg`` (layer ``counties``), ``commute.html`` and the manifest
    ``commute.json`` into folder ``out``."""
    folder = Path(out)
    paths: dict[str, Path] = {}
    paths["csv"] = write_csv(c.table, folder / COMMUTE_NAMES["csv"], index=False)
    paths["xlsx"] = write_xlsx({"commute": c.table, "links": c.network.edges},
                               folder / COMMUTE_NAMES["xlsx"],
                               index={"commute": False, "links": False})
    layer = c.geo[["code", "geometry"]].merge(c.table, left_on="code", right_on="unit")
    paths["gpkg"] = write_gpkg({"counties": layer.drop(columns="code")},
                               folder / COMMUTE_NAMES["gpkg"])
    files = [COMMUTE_NAMES[k] for k in ("csv", "xlsx", "gpkg", "manifest")]
    html = commute_html(c, lang, manifest=commute_manifest(c, paths), files=files)
    paths["html"] = write_atomic(html, folder / COMMUTE_NAMES["html"])
    paths["manifest"] = write_text(dumps(commute_manifest(c, paths)),
                                   folder / COMMUTE_NAMES["manifest"])
    return paths


# ---------------------------------------------------------------------- life circles
def finest_level(res: LifeCircles) -> pd.Series:
    """Per home: the code of the finest level at which it is covered, ``none`` or
    ``not_snapped``."""
    out = pd.Series("none", index=res.homes.index, dtype=object)
    for lv in reversed(res.spec.levels):
        out[res.homes[f"covered_{lv.code}"]] = lv.code
    out[~res.homes["snapped"]] = "not_snapped"
    return out


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
    cls = finest_level(res)
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


def lifecircle_manifest(res: LifeCircles, inputs: dict[str, str],
                        paths: dict[str, Path]) -> dict[str, Any]:
    return {
        "kind": "access lifecircle",
        "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "spec_source": res.spec.source, "standard": res.spec.standard,
        "levels": [{"code": lv.code, "walk_m": lv.walk_m, "types": list(lv.facilities)}
                   for lv in res.spec.levels],
        "inputs": {k: {"file": v, "sha256": _sha256(Path(v)) if Path(v).is_file() else None}
                   for k, v in inputs.items()},
        "max_snap_m": res.max_snap, "include_snap": res.include_snap, "crs": res.crs,
        "summary": res.summary().to_dict("records"),
        "notes": [{"zh": n.text("zh"), "en": n.text("en")} for n in res.notes],
        "versions": versions(),
        "outputs": {k: {"file": p.name, "sha256": _sha256(p)} for k, p in paths.items()},
    }


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
    cls = finest_level(res)
    homes = res.homes.assign(finest_level=cls)
    return {"homes": homes, "by_unit": res.by_unit, "by_type": res.by_type,
            "by_unit_type": res.by_unit_type, "gaps": res.gaps, "far_homes": res.far_homes,
            "far_facilities": res.far_facilities}


def write_lifecircle_outputs(res: LifeCircles, network: Network, out: str | Path, *,
                             inputs: dict[str, str], lang: str = "zh",
                             extra_notes: list[tuple[str, str]] | None = None
                             ) -> dict[str, Path]:
    """``tables/<name>.csv`` and ``lifecircle.xlsx`` (homes, coverage by unit / type /
    unit × type, gaps, points not snapped), ``lifecircle.gpkg`` (layers ``homes``: coverage,
    finest level and the lacking types as text; ``gaps``: one point per home and lacking
    type), ``lifecircle.html`` and the manifest ``lifecircle.json``."""
    import geopandas as gpd

    folder = Path(out)
    tables = lifecircle_tables(res)
    paths: dict[str, Path] = {}
    for name, frame in tables.items():
        paths[f"csv:{name}"] = write_csv(frame, folder / "tables" / f"{name}.csv", index=False)
    paths["xlsx"] = write_xlsx(tables, folder / "lifecircle.xlsx",
                               index=dict.fromkeys(tables, False))
    homes = res.gap_layer()
    homes["missing"] = homes["missing"].map(",".join)
    homes["finest_level"] = finest_level(res).to_numpy()
    home_xy = res.homes.set_index("home")[["x", "y"]]
    gaps = res.gaps.join(home_xy, on="home")
    gap_layer = gpd.GeoDataFrame(gaps, geometry=gpd.points_from_xy(gaps["x"], gaps["y"]),
                                 crs=res.crs)
    paths["gpkg"] = write_gpkg({"homes": homes, "gaps": gap_layer},
                               folder / "lifecircle.gpkg")
    files = ["lifecircle.xlsx", f"tables/*.csv ({len(tables)})", "lifecircle.gpkg",
             "lifecircle.json"]
    html = lifecircle_html(res, network, lang, manifest=lifecircle_manifest(res, inputs, paths),
                           files=files, extra_notes=extra_notes)
    paths["html"] = write_atomic(html, folder / "lifecircle.html")
    paths["manifest"] = write_text(dumps(lifecircle_manifest(res, inputs, paths)),
                                   folder / "lifecircle.json")
    return paths

