"""The report of ``cocity diagnose``: one self-contained bilingual HTML page with maps and
charts, and every result as CSV files and one XLSX workbook.

Like the other pages it holds both languages (简体中文 first, switched in the page), plotly.js
inline once, each boundary set once, a Content-Security-Policy that forbids every request, and
is written atomically. Figures are built in both languages with
:func:`cocity.report.render.bilingual_figure`; maps use the hidden base map of
:mod:`cocity.report.maps`; the page extends ``index_base.html.j2``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.offline
from markupsafe import Markup
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

import cocity
from cocity.i18n import LANGS, t
from cocity.metrics import quantities as qty
from cocity.metrics.diagnose_result import Diagnostics
from cocity.metrics.diagnose_tables import result_tables
from cocity.outputs import dumps, manifest, sha256_bytes, write_csv, write_xlsx
from cocity.outputs import write_atomic as write_text
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
from cocity.report.style import (
    CHART_CONFIG,
    COLORSCALE,
    FONT_STACK,
    MAP_CONFIG,
    NO_DATA_COLOR,
    OUTLINE_COLOR,
    chart_layout,
)

MAP_HEIGHT = 520
LISA_COLORS = {"HH": "#d7191c", "HL": "#fdae61", "LH": "#abd9e9", "LL": "#2c7bb6",
               "ns": "#eeeeee"}
SERIES_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
                 "#e377c2", "#17becf", "#7f7f7f", "#bcbd22")
DAGUM_COLORS = {"within": "#3b6ea8", "net_between": "#d62728", "transvariation": "#f2b447"}
EDGE_COLOR = "rgba(198,60,40,0.55)"
NODE_COLOR = "#12385c"
GRADES = 10  # classes of the default coupling-coordination grade table
TABLES_DIR = "tables"
HTML_NAME = "diagnose.html"
XLSX_NAME = "diagnose.xlsx"
MANIFEST_NAME = "diagnose.json"


# ---------------------------------------------------------------------- shared pieces
# Map traces name their boundary set by its page key (``GEO_PREFIX + level``) instead of
# carrying the GeoJSON: the page embeds each set once and the page script swaps it in (as
# :func:`cocity.report.render.figure_json` arranges for the other reports), and plotly.py
# does not deep-copy thousands of coordinates for every trace.
def boundaries(diag: Diagnostics) -> dict[str, dict[str, Any]]:
    """Simplified GeoJSON of the analysed level and of the prefectures (outlines, network)."""
    if diag.geo is None:
        return {}
    return {str(lv): geojson_of(diag.geo[diag.geo["level"] == lv])
            for lv in dict.fromkeys(diag.geo["level"])}


def _fit(fig: go.Figure, bbox: list[float], height: int) -> go.Figure:
    """The shared hidden base map, but in Mercator: plotly.js fits a conic (Albers) map of a
    region this small with wide margins, which leaves the half-width maps of this page
    unreadably small. Mercator's area scale varies by about 12 % across the Chengdu–Chongqing
    region (27.7–33.0° N), which a choropleth of rates and classes tolerates."""
    fig = map_layout(fig, bbox)
    fig.update_geos(projection={"type": "mercator", "parallels": None})
    fig.update_layout(height=height)
    return fig


def _map(fig: go.Figure, geo: dict[str, dict[str, Any]], level: str) -> go.Figure:
    return _fit(fig, geo[level]["bbox"], MAP_HEIGHT)


def _outlines(diag: Diagnostics, geo: dict[str, dict[str, Any]]) -> list[go.Choropleth]:
    """Prefecture outlines over a county map (no fill, no hover)."""
    if diag.spec.level != "county" or "prefecture" not in geo:
        return []
    codes = [f["properties"]["code"] for f in geo["prefecture"]["features"]]
    return [go.Choropleth(
        geojson=GEO_PREFIX + "prefecture", featureidkey=FEATURE_ID_KEY, locations=codes,
        z=np.zeros(len(codes)), colorscale=flat_colorscale("rgba(0,0,0,0)"), showscale=False,
        showlegend=False, hoverinfo="skip",
        marker={"line": {"color": OUTLINE_COLOR, "width": 1.2}}, meta={"geo": "prefecture"})]


def _mapped(diag: Diagnostics, geo: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Analysed units that have a boundary: code, name_zh, name_en."""
    level = diag.spec.level
    codes = {f["properties"]["code"] for f in geo.get(level, {}).get("features", [])}
    scope = diag.scope.reset_index(drop=True)
    return scope[scope["code"].isin(codes)][["code", "name_zh", "name_en"]].reset_index(
        drop=True)


def _grey(frame: pd.DataFrame, geo: dict[str, dict[str, Any]], level: str, label: str,
          what: str) -> go.Choropleth:
    return go.Choropleth(
        geojson=GEO_PREFIX + level, featureidkey=FEATURE_ID_KEY, locations=frame["code"],
        z=np.zeros(len(frame)), colorscale=flat_colorscale(NO_DATA_COLOR), showscale=False,
        showlegend=True, name=f"{label} ({len(frame)})",
        marker={"line": {"color": "white", "width": 0.6}}, customdata=hover_names(frame),
        hovertemplate=("<b>%{customdata[0]}</b> %{customdata[1]} (%{customdata[2]})<br>"
                       f"{what}: {label}<extra></extra>"),
        meta={"geo": level})


# ---------------------------------------------------------------------- maps
def indicator_map_figure(diag: Diagnostics, geo: dict[str, dict[str, Any]], indicator: str,
                         year: int, lang: str = "zh") -> go.Figure:
    """The indicator's value in ``year``; analysed units without a value in grey."""
    level = diag.spec.level
    units = _mapped(diag, geo)
    v = diag.values[(diag.values["indicator"] == indicator) & (diag.values["year"] == year)]
    values = units["code"].map(v.set_index(v["unit"].astype(str))["value"])
    have, missing = units[values.notna()], units[values.isna()]
    name, unit = diag.indicator_name(indicator, lang), diag.indicator_unit(indicator, lang)
    fig = go.Figure()
    if not missing.empty:
        fig.add_trace(_grey(missing, geo, level, t("diagnose.page.no_data", lang), name))
    fig.add_trace(go.Choropleth(
        geojson=GEO_PREFIX + level, featureidkey=FEATURE_ID_KEY, locations=have["code"],
        z=values[values.notna()].to_numpy(float), colorscale=COLORSCALE, showscale=True,
        name=name, colorbar={"title": {"text": unit}, "thickness": 14, "len": 0.6, "x": 0.98,
                             "xanchor": "right"},
        marker={"line": {"color": "white", "width": 0.5}}, customdata=hover_names(have),
        hovertemplate=("<b>%{customdata[0]}</b> %{customdata[1]} (%{customdata[2]})<br>"
                       f"{name} {year}: %{{z:,.4~r}} {unit}<extra></extra>"),
        meta={"geo": level}))
    fig.add_traces(_outlines(diag, geo))
    return _map(fig, geo, level)


def lisa_map_figure(diag: Diagnostics, geo: dict[str, dict[str, Any]], indicator: str,
                    year: int, lang: str = "zh") -> go.Figure:
    """LISA clusters of the indicator: HH, LL, HL, LH at ``alpha``, the rest not significant."""
    assert diag.spatial is not None
    level = diag.spec.level
    units = _mapped(diag, geo)
    lisa = diag.spatial.lisa
    lisa = lisa[(lisa["indicator"] == indicator) & (lisa["year"] == year)].set_index("unit")
    cluster = units["code"].map(lisa["cluster"])
    p_sim = units["code"].map(lisa["p_sim"])
    fig = go.Figure()
    outside = units[cluster.isna()]
    what = t("diagnose.page.lisa", lang)
    if not outside.empty:
        fig.add_trace(_grey(outside, geo, level, t("diagnose.page.not_analysed", lang), what))
    for key, color in LISA_COLORS.items():
        sel = cluster == key
        sub = units[sel]
        label = t(f"diagnose.lisa.{key}", lang)
        fig.add_trace(go.Choropleth(
            geojson=GEO_PREFIX + level, featureidkey=FEATURE_ID_KEY, locations=sub["code"],
            z=np.ones(len(sub)), colorscale=flat_colorscale(color), showscale=False,
            showlegend=True, name=f"{label} ({len(sub)})",
            marker={"line": {"color": "white", "width": 0.5}},
            customdata=np.column_stack([hover_names(sub),
                                        [f"{p:.3f}" for p in p_sim[sel]]]),
            hovertemplate=("<b>%{customdata[0]}</b> %{customdata[1]} (%{customdata[2]})<br>"
                           f"{what}: {label} · p = %{{customdata[3]}}<extra></extra>"),
            meta={"geo": level}))
    fig.add_traces(_outlines(diag, geo))
    return _map(fig, geo, level)


def grade_colors() -> list[str]:
    """One colour per coupling-coordination grade, red (disorder) to green (coordination)."""
    return list(sample_colorscale("RdYlGn", [i / (GRADES - 1) for i in range(GRADES)]))


def coupling_map_figure(diag: Diagnostics, geo: dict[str, dict[str, Any]], year: int,
                        lang: str = "zh") -> go.Figure:
    """Coupling-coordination grade of every unit in ``year`` (one legend entry per grade)."""
    assert diag.people_circle is not None
    level = diag.spec.level
    units = _mapped(diag, geo)
    sc = diag.people_circle.scores
    sc = sc[sc["year"] == year].set_index("unit")
    grade = units["code"].map(sc["grade"])
    what = t("diagnose.page.cc_grade", lang)
    fig = go.Figure()
    outside = units[grade.isna()]
    if not outside.empty:
        fig.add_trace(_grey(outside, geo, level, t("diagnose.page.not_analysed", lang), what))
    colors = grade_colors()
    for g in sorted(int(x) for x in sc["grade"].unique()):
        sel = grade == g
        sub = units[sel]
        rows = sc.loc[sub["code"]]
        label = str(rows[f"grade_{lang}"].iloc[0])
        fig.add_trace(go.Choropleth(
            geojson=GEO_PREFIX + level, featureidkey=FEATURE_ID_KEY, locations=sub["code"],
            z=np.ones(len(sub)), colorscale=flat_colorscale(colors[min(g, GRADES - 1)]),
            showscale=False, showlegend=True, name=f"{label} ({len(sub)})",
            marker={"line": {"color": "white", "width": 0.5}},
            customdata=np.column_stack([hover_names(sub), [f"{d:.3f}" for d in rows["D"]]]),
            hovertemplate=("<b>%{customdata[0]}</b> %{customdata[1]} (%{customdata[2]})<br>"
                           f"{what}: {label} · D = %{{customdata[3]}}<extra></extra>"),
            meta={"geo": level}))
    fig.add_traces(_outlines(diag, geo))
    return _map(fig, geo, level)


def network_figure(diag: Diagnostics, geo: dict[str, dict[str, Any]],
                   lang: str = "zh") -> go.Figure:
    """The kept links drawn between the units' points (width by strength) over the unit
    boundaries; points sized by total linkage, the core outlined."""
    assert diag.network is not None
    nw = diag.network
    level = nw.level
    pts = nw.units[["lon", "lat"]].join(diag.units[["name_zh", "name_en"]])
    fig = go.Figure()
    if level in geo:
        codes = [f["properties"]["code"] for f in geo[level]["features"]]
        fig.add_trace(go.Choropleth(
            geojson=GEO_PREFIX + level, featureidkey=FEATURE_ID_KEY, locations=codes,
            z=np.zeros(len(codes)), colorscale=flat_colorscale("#eef2f6"), showscale=False,
            showlegend=False, hoverinfo="skip", marker={"line": {"color": "#9aa5b1",
                                                                 "width": 0.8}},
            meta={"geo": level}))
    top = float(nw.edges["weight"].max()) if len(nw.edges) else 1.0
    link_l = t("diagnose.page.link", lang)
    for i, e in enumerate(nw.edges.itertuples()):
        a, b = pts.loc[str(e.a)], pts.loc[str(e.b)]
        text = (f"{a[f'name_{lang}']} – {b[f'name_{lang}']}<br>"
                f"{link_l}: {qty.human(e.weight)} {nw.unit[lang]} · "
                f"{qty.human(e.distance_km, sig=3)} km")
        fig.add_trace(go.Scattergeo(
            lon=[a["lon"], b["lon"]], lat=[a["lat"], b["lat"]], mode="lines",
            line={"width": 1 + 9 * float(e.weight) / top,  # type: ignore[arg-type]
                  "color": EDGE_COLOR},
            name=link_l, legendgroup="links", showlegend=i == 0, hoverinfo="text",
            text=[text, text]))
    total = nw.units["total_linkage"].to_numpy(float)
    size = 8 + 30 * np.sqrt(total / total.max())
    core = nw.units["core"].to_numpy(bool)
    tl = t("diagnose.page.total_linkage", lang)
    fig.add_trace(go.Scattergeo(
        lon=pts["lon"], lat=pts["lat"], mode="markers+text",
        text=pts[f"name_{lang}"].astype(str), textposition="top center",
        textfont={"family": FONT_STACK, "size": 11},
        marker={"size": size, "color": NODE_COLOR, "opacity": 0.85,
                "line": {"color": np.where(core, "#f2b447", "white").tolist(),
                         "width": np.where(core, 3, 1).tolist()}},
        name=t("diagnose.page.units_points", lang),
        customdata=np.column_stack([pts["name_zh"], pts["name_en"], pts.index,
                                    [f"{qty.human(v)} {nw.unit[lang]}" for v in total],
                                    np.where(core, t("diagnose.page.core_yes", lang), "")]),
        hovertemplate=("<b>%{customdata[0]}</b> %{customdata[1]} (%{customdata[2]})<br>"
                       f"{tl}: %{{customdata[3]}} %{{customdata[4]}}<extra></extra>")))
    bbox = geo[level]["bbox"] if level in geo else [
        float(pts["lon"].min()), float(pts["lat"].min()), float(pts["lon"].max()),
        float(pts["lat"].max())]
    return _fit(fig, bbox, MAP_HEIGHT + 80)


# ---------------------------------------------------------------------- charts
def lorenz_figure(diag: Diagnostics, year: int, lang: str = "zh") -> go.Figure:
    """Population-weighted Lorenz curves of every indicator in ``year``."""
    assert diag.inequality is not None
    lz = diag.inequality.lorenz
    gini_of = diag.inequality.summary.set_index(["indicator", "year"])["gini"].to_dict()
    fig = go.Figure()
    eq = t("diagnose.page.equality", lang)
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name=eq,
                             line={"color": "#888", "dash": "dash", "width": 1},
                             hoverinfo="skip"))
    for i, ind in enumerate(diag.spec.indicators):
        sub = lz[(lz["indicator"] == ind) & (lz["year"] == year)]
        gini = float(gini_of[(ind, year)])
        name = f"{diag.indicator_name(ind, lang)} (G = {gini:.3f})"
        fig.add_trace(go.Scatter(
            x=sub["pop_share"], y=sub["value_share"], mode="lines", name=name,
            line={"color": SERIES_COLORS[i % len(SERIES_COLORS)], "width": 2},
            hovertemplate=f"{name}<br>%{{x:.1%}} → %{{y:.1%}}<extra></extra>"))
    return chart_layout(
        fig, 460, xaxis={"title": {"text": t("diagnose.page.cum_pop", lang)},
                         "range": [0, 1], "tickformat": ".0%"},
        yaxis={"title": {"text": t("diagnose.page.cum_value", lang)}, "range": [0, 1],
               "tickformat": ".0%"})


def group_gini_figure(diag: Diagnostics, year: int, lang: str = "zh") -> go.Figure:
    """Gini of every indicator overall and within each group (Dagum's G_jj)."""
    assert diag.inequality is not None
    q = diag.inequality
    names = [diag.indicator_name(i, lang) for i in diag.spec.indicators]
    summ = q.summary[q.summary["year"] == year].set_index("indicator")
    fig = go.Figure()
    overall = t("diagnose.page.overall", lang)
    fig.add_trace(go.Bar(x=names, y=summ.loc[list(diag.spec.indicators), "gini"],
                         name=overall, marker={"color": "#444"},
                         hovertemplate=f"{overall}<br>%{{x}}: %{{y:.4f}}<extra></extra>"))
    dg = q.dagum_groups[q.dagum_groups["year"] == year]
    for i, g in enumerate(diag.groups.index):
        sub = dg[dg["group"] == g].set_index("indicator").reindex(list(diag.spec.indicators))
        label = diag.group_name(g, lang)
        fig.add_trace(go.Bar(
            x=names, y=sub["gini"], name=label,
            marker={"color": SERIES_COLORS[i % len(SERIES_COLORS)]},
            hovertemplate=f"{label}<br>%{{x}}: %{{y:.4f}}<extra></extra>"))
    return chart_layout(fig, 440, barmode="group",
                         yaxis={"title": {"text": t("diagnose.page.gini", lang)},
                                "rangemode": "tozero"},
                         xaxis={"automargin": True})


def dagum_figure(diag: Diagnostics, lang: str = "zh") -> go.Figure:
    """Dagum decomposition of each indicator and year: contributions in % of the Gini."""
    assert diag.inequality is not None
    s = diag.inequality.summary
    labels = [f"{diag.indicator_name(str(ind), lang)} · {year}"
              for ind, year in zip(s["indicator"], s["year"], strict=True)]
    fig = go.Figure()
    for part, color in DAGUM_COLORS.items():
        name = t(f"diagnose.page.dagum.{part}", lang)
        fig.add_trace(go.Bar(
            y=labels, x=s[f"dagum_{part}_pct"], name=name, orientation="h",
            marker={"color": color},
            hovertemplate=f"%{{y}}<br>{name}: %{{x:.1f}}%<extra></extra>"))
    return chart_layout(
        fig, 110 + 30 * len(labels), barmode="stack",
        xaxis={"title": {"text": t("diagnose.page.share_of_gini", lang)}, "range": [0, 100],
               "ticksuffix": "%"},
        yaxis={"autorange": "reversed", "automargin": True})


def sigma_figure(diag: Diagnostics, lang: str = "zh") -> go.Figure:
    """σ (the dispersion measure of the spec) of each indicator in each year."""
    assert diag.convergence is not None
    c = diag.convergence
    fig = go.Figure()
    for i, ind in enumerate(diag.spec.indicators):
        sub = c.sigma[c.sigma["indicator"] == ind]
        name = diag.indicator_name(ind, lang)
        fig.add_trace(go.Scatter(
            x=sub["year"].astype(str), y=sub["sigma"], mode="lines+markers", name=name,
            line={"color": SERIES_COLORS[i % len(SERIES_COLORS)], "width": 2},
            hovertemplate=f"{name}<br>%{{x}}: %{{y:.4f}}<extra></extra>"))
    return chart_layout(fig, 400, xaxis={"type": "category"},
                         yaxis={"title": {"text": t(f"diagnose.sigma.{c.measure}", lang)},
                                "rangemode": "tozero"})


def beta_figure(diag: Diagnostics, lang: str = "zh") -> go.Figure:
    """One panel per indicator: annual log growth against the log initial level, with the
    fitted β line."""
    assert diag.convergence is not None
    c = diag.convergence
    inds = list(diag.spec.indicators)
    cols = min(3, len(inds))
    rows = math.ceil(len(inds) / cols)
    beta = c.beta.set_index("indicator")
    fig = make_subplots(rows=rows, cols=cols, horizontal_spacing=0.07,
                        vertical_spacing=0.16 if rows > 1 else 0.1,
                        subplot_titles=[diag.indicator_name(i, lang) for i in inds])
    names = diag.units[["name_zh", "name_en"]]
    fit_l = t("diagnose.page.fit", lang)
    for k, ind in enumerate(inds):
        r, col = k // cols + 1, k % cols + 1
        pts = c.points[c.points["indicator"] == ind]
        alpha_b, beta_b = beta.loc[ind, ["alpha", "beta"]].to_numpy(float)
        codes = pts["unit"].astype(str)
        fig.add_trace(go.Scatter(
            x=pts["ln_y0"], y=pts["growth"], mode="markers", showlegend=False,
            marker={"size": 5, "color": "#3b6ea8", "opacity": 0.6},
            customdata=np.column_stack([codes.map(names["name_zh"]),
                                        codes.map(names["name_en"]), codes]),
            hovertemplate=("<b>%{customdata[0]}</b> %{customdata[1]} (%{customdata[2]})<br>"
                           "ln y₀ = %{x:.3f} · g = %{y:.4f}<extra></extra>")),
            row=r, col=col)
        xs = np.array([float(pts["ln_y0"].min()), float(pts["ln_y0"].max())])
        fig.add_trace(go.Scatter(
            x=xs, y=alpha_b + beta_b * xs, mode="lines",
            name=fit_l, showlegend=k == 0, line={"color": "#d62728", "width": 2},
            hovertemplate=f"β = {beta_b:.4f}<extra>{fit_l}</extra>"),
            row=r, col=col)
    fig.update_xaxes(title_text="ln y₀", title_standoff=2)
    fig.update_yaxes(title_text=t("diagnose.page.growth", lang), title_standoff=2, col=1)
    return chart_layout(fig, 120 + 280 * rows)


def similarity_figure(diag: Diagnostics, lang: str = "zh") -> go.Figure:
    """Structural similarity coefficients between the units' employment structures."""
    assert diag.structure is not None
    sim = diag.structure.similarity
    labels = [diag.unit_name(c, lang) for c in sim.index]
    fig = go.Figure(go.Heatmap(
        z=sim.to_numpy(float), x=labels, y=labels, colorscale="YlOrRd",
        zmin=float(np.floor(sim.to_numpy().min() * 20) / 20), zmax=1.0,
        colorbar={"thickness": 14, "title": {"text": "S"}},
        hovertemplate="%{y} – %{x}<br>S = %{z:.4f}<extra></extra>"))
    fig = chart_layout(fig, 140 + 26 * len(labels),
                        yaxis={"autorange": "reversed", "automargin": True},
                        xaxis={"automargin": True, "tickangle": -45})
    fig.update_layout(margin={"l": 8, "r": 8, "t": 16, "b": 8})
    return fig


def rank_size_figure(diag: Diagnostics, lang: str = "zh") -> go.Figure:
    """City sizes by rank on log–log axes with the fitted rank–size line."""
    assert diag.polycentricity is not None
    p = diag.polycentricity
    sizes = p.sizes
    ranks = np.arange(1, len(sizes) + 1, dtype=float)
    rs = p.rank_size
    size_l = t("diagnose.page.size", lang)
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=ranks, y=sizes.to_numpy(float), mode="markers+text", name=size_l,
        text=[diag.unit_name(c, lang) for c in sizes.index], textposition="middle right",
        textfont={"size": 10}, marker={"size": 8, "color": NODE_COLOR},
        hovertemplate=f"%{{text}}<br>#%{{x}} · {size_l}: %{{y:,.0f}}<extra></extra>"))
    fit_l = t("diagnose.page.rank_size_fit", lang, q=f"{rs.q:.3f}", r2=f"{rs.r2:.3f}")
    fig.add_trace(go.Scatter(
        x=ranks, y=np.exp(rs.intercept + rs.slope * np.log(ranks - rs.rank_shift)),
        mode="lines", name=fit_l, line={"color": "#d62728", "width": 2}, hoverinfo="skip"))
    return chart_layout(fig, 440, xaxis={"type": "log", "title": {"text": t(
        "diagnose.page.rank", lang)}}, yaxis={"type": "log", "title": {"text": size_l}})


# ---------------------------------------------------------------------- page data
def page_figures(diag: Diagnostics, geo: dict[str, dict[str, Any]],
                 lang: str = "zh") -> list[dict[str, Any]]:
    """Every figure of the page with its element id, in page order."""
    figs: list[dict[str, Any]] = []

    def add(fig_id: str, build: Callable[..., go.Figure], *args: Any, kind: str = "chart",
            lazy: bool = True) -> None:
        figs.append({"id": fig_id, "lazy": lazy,
                     "config": MAP_CONFIG if kind == "map" else CHART_CONFIG,
                     **bilingual_figure(build, *args, lang=lang)})

    year = diag.spec.main_year
    mapped = diag.spec.level in geo
    if mapped:
        for i, ind in enumerate(diag.spec.indicators):
            add(f"fig-map-{i}", indicator_map_figure, diag, geo, ind, year, kind="map",
                lazy=i > 0)
            if diag.spatial is not None:
                add(f"fig-lisa-{i}", lisa_map_figure, diag, geo, ind, year, kind="map",
                    lazy=i > 0)
    if diag.inequality is not None:
        add("fig-lorenz", lorenz_figure, diag, year)
        add("fig-groups", group_gini_figure, diag, year)
        add("fig-dagum", dagum_figure, diag)
    if diag.convergence is not None:
        add("fig-sigma", sigma_figure, diag)
        add("fig-beta", beta_figure, diag)
    if diag.structure is not None:
        add("fig-similarity", similarity_figure, diag)
    if diag.network is not None:
        add("fig-network", network_figure, diag, geo, kind="map")
    if diag.polycentricity is not None:
        add("fig-ranksize", rank_size_figure, diag)
    if diag.people_circle is not None and mapped:
        for y in sorted(diag.people_circle.summary["year"]):
            add(f"fig-cc-{int(y)}", coupling_map_figure, diag, geo, int(y), kind="map")
    return figs


def _bi_labels(key: str, **label_keys: str) -> Markup:
    """Both languages of label ``key`` whose fields are themselves labels (given by key),
    each field in the language of the text around it."""
    zh, en = (t(key, lg, **{k: t(v, lg) for k, v in label_keys.items()}) for lg in LANGS)
    pair = template_environment().globals["pair"]
    assert callable(pair)
    return Markup(pair(zh, en))


def _sector_label(diag: Diagnostics, sector: str, lang: str) -> str:
    """A sector's name without the catalog's "employment share" prefix."""
    name = diag.indicator_name(sector, lang)
    for sep in ("：", ": "):
        if sep in name:
            return name.split(sep, 1)[1]
    return name


def page_context(diag: Diagnostics, lang: str, files: list[str]) -> dict[str, Any]:
    """What the template needs besides the figures (selections of the results, no
    computation of its own)."""
    year = diag.spec.main_year
    ctx: dict[str, Any] = {"diag": diag, "spec": diag.spec, "year": year, "files": files,
                           "lisa_colors": LISA_COLORS, "hum": qty.human, "pv": qty.pvalue,
                           "fx": qty.fixed}
    if diag.inequality is not None:
        q = diag.inequality
        ctx["theil_groups"] = {
            ind: q.theil_groups[(q.theil_groups["indicator"] == ind)
                                & (q.theil_groups["year"] == year)]
            for ind in diag.spec.indicators}
    if diag.convergence is not None:
        sig = diag.convergence.sigma.pivot(index="indicator", columns="year", values="sigma")
        ctx["sigma_table"] = sig.reindex(list(diag.spec.indicators))
    if diag.structure is not None:
        s = diag.structure
        ctx["sectors"] = [(c, _sector_label(diag, c, "zh"), _sector_label(diag, c, "en"))
                          for c in s.lq.columns]
        ctx["warnings_shown"] = s.warnings.head(20)
        h, hs = s.homogeneity, diag.spec.structure.homogeneous
        ctx["warnings_rule"] = {lg: t(
            f"diagnose.page.warnings_rule.{h.method}", lg, pairs=h.n_pairs, n=len(s.warnings),
            k=f"{hs.k:g}", mean=qty.fixed(h.mean, 4), sd=qty.fixed(h.sd, 4),
            cutoff=qty.fixed(h.cutoff, 4), lq=f"{hs.shared_lq:g}",
            excluded=("、" if lg == "zh" else ", ").join(
                _sector_label(diag, c, lg) for c in s.excluded) or "—") for lg in LANGS}
    if diag.network is not None:
        ctx["links_shown"] = diag.network.edges.head(10)
    if diag.spatial is not None:
        ctx["lisa_counts"] = diag.spatial.cluster_counts(year, list(diag.spec.indicators),
                                                         list(LISA_COLORS))
    if diag.people_circle is not None:
        sc = diag.people_circle.scores
        last = int(diag.people_circle.summary["year"].max())
        ctx["cc_year"] = last
        ctx["cc_top"] = sc[sc["year"] == last].sort_values("D", ascending=False).head(10)
        ctx["cc_bottom"] = sc[sc["year"] == last].sort_values("D").head(10)
        ctx["grade_colors"] = grade_colors()
        gr = diag.people_circle.grades
        counts = gr.pivot(index="grade", columns="year", values="n").fillna(0).astype(int)
        ctx["cc_grades"] = gr.drop_duplicates("grade").set_index("grade")[
            ["grade_zh", "grade_en"]].join(counts).sort_index()
    return ctx


def diagnose_html(diag: Diagnostics, lang: str = "zh", *, manifest: dict[str, Any] | None = None,
                  files: list[str] | None = None) -> str:
    """The complete page as a string; ``lang`` is the language shown first."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    geo = boundaries(diag)
    figs = page_figures(diag, geo, lang)
    template = template_environment().get_template("diagnose.html.j2")
    return template.render(
        lang=lang, version=cocity.__version__, font_stack=FONT_STACK,
        plotlyjs=Markup(plotly.offline.get_plotlyjs().replace("</script", "<\\/script")),
        topojson_json=script_json(list(TOPOJSON_NAMES)),
        geo_json=script_json({GEO_PREFIX + lv: fc for lv, fc in geo.items()}),
        figures_json=script_json(figs), figure_ids=[f["id"] for f in figs],
        title_zh=t("diagnose.page.title", "zh"), title_en=t("diagnose.page.title", "en"),
        notice_zh=None, notice_en=None, manifest=manifest or diagnose_manifest(diag, {}, "."),
        sector_label=_sector_label, bi_labels=_bi_labels,
        **page_context(diag, lang, files or []))


# ---------------------------------------------------------------------- files
def diagnose_manifest(diag: Diagnostics, paths: dict[str, Path],
                      root: str | Path) -> dict[str, Any]:
    """The run manifest (:func:`cocity.outputs.manifest`): the provenance of the data read,
    the merged spec and its hash, the units each section covers, headline figures, notes,
    versions and every output file with its size and SHA-256."""
    values_csv = diag.values.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return manifest(
        "diagnose", outputs=paths, root=root, provenance=diag.provenance,
        config=diag.spec.raw, spec_source=diag.spec.source, spec_sha256=diag.spec.sha256,
        values_sha256=sha256_bytes(values_csv), sections=list(diag.spec.sections),
        unit_sets={k: u.record() for k, u in diag.unit_sets.items()},
        headline=diag.headline(),
        notes=[{"section": n.section, "zh": n.text("zh"), "en": n.text("en")}
               for n in diag.notes])


def _number_format(values: pd.Series) -> str | None:
    """An Excel number format for a column: none for text, whole numbers with thousands
    separators, decimals by magnitude (never scientific)."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None
    if pd.api.types.is_integer_dtype(values):
        return "#,##0"
    top = float(values.abs().max()) if len(values) else 0.0
    return "#,##0.0" if top >= 1000 else "#,##0.000" if top >= 1 else "0.0000"


def workbook_sheets(tables: dict[str, pd.DataFrame], lang: str
                    ) -> tuple[dict[str, pd.DataFrame], dict[str, dict[str, str]]]:
    """The tables as workbook sheets: each column holding a quantity is headed with its unit
    of measure in ``lang`` (from the ``columns`` data dictionary), and every numeric column
    gets a number format. Sheet names are cut to Excel's 31 characters."""
    units = tables["columns"]
    sheets: dict[str, pd.DataFrame] = {}
    formats: dict[str, dict[str, str]] = {}
    for name, frame in tables.items():
        sheet = name[:31]
        mine = units[units["table"] == name]
        unit_of = dict(zip(mine["column"], mine[f"unit_{lang}"], strict=True))
        numeric = [c for c in frame.columns if _number_format(frame[c]) is not None]
        heads = {}
        for c in frame.columns:
            unit = unit_of.get(str(c), unit_of.get("*") if c in numeric else None)
            heads[c] = f"{c}（{unit}）" if unit and lang == "zh" else \
                f"{c} ({unit})" if unit else str(c)
        sheets[sheet] = frame.rename(columns=heads)
        formats[sheet] = {heads[c]: fmt for c in frame.columns
                          if (fmt := _number_format(frame[c])) is not None}
    return sheets, formats


def write_diagnose_outputs(diag: Diagnostics, out: str | Path, *,
                           lang: str = "zh") -> dict[str, Path]:
    """Write every result table as ``tables/<name>.csv`` and as a sheet of ``diagnose.xlsx``,
    the page ``diagnose.html`` and, last, ``diagnose.json`` (the manifest with the other
    files' hashes) into folder ``out``. Returns the paths by key."""
    folder = Path(out)
    tables = result_tables(diag)
    paths: dict[str, Path] = {}
    for name, frame in tables.items():
        paths[f"csv:{name}"] = write_csv(frame, folder / TABLES_DIR / f"{name}.csv",
                                         index=False)
    sheets, formats = workbook_sheets(tables, lang)
    paths["xlsx"] = write_xlsx(sheets, folder / XLSX_NAME, index={n: False for n in sheets},
                               number_formats=formats)
    files = [XLSX_NAME, f"{TABLES_DIR}/*.csv ({len(tables)})", MANIFEST_NAME]
    html = diagnose_html(diag, lang, manifest=diagnose_manifest(diag, paths, folder),
                         files=files)
    paths["html"] = write_atomic(html, folder / HTML_NAME)
    paths["manifest"] = write_text(dumps(diagnose_manifest(diag, paths, folder)),
                                   folder / MANIFEST_NAME)
    return paths
