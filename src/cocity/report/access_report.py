"""The reports of ``cocity access``: 1-hour commuting circles, 15-minute life circles and
accessibility measures.

Each command writes its tables (CSV files and one XLSX workbook), a GeoPackage and one
self-contained bilingual HTML page. Like the other pages, a page holds both languages (简体中文
first, switched in the page), plotly.js inline once, each boundary set once, a
Content-Security-Policy that forbids every request, and is written atomically; it extends
``index_base.html.j2``. Figures are built in both languages with
:func:`cocity.report.render.bilingual_figure`.

- **Commuting circles** (:func:`build_commute`, :func:`write_commute_outputs`): minutes from each
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
- **Accessibility measures** (:class:`MeasureParams`, :func:`build_measure`,
  :func:`write_measure_outputs`): one measure of :mod:`cocity.access.measures` on a sparse cost
  matrix; the score per demand point (and the ratios R_j of the 2SFCA family per supply point),
  summary statistics, a histogram and, with coordinates, a map of the points (no GeoPackage).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.offline
import yaml
from markupsafe import Markup
from scipy import sparse

import cocity
from cocity.access import decay as _decay
from cocity.access import measures
from cocity.access.errors import AccessInputError
from cocity.access.regional import (
    RegionalNetwork,
    build_regional_network,
    commuting_circles,
    commuting_share_circles,
)
from cocity.data.store import Store
from cocity.i18n import LANGS, t
from cocity.outputs import dumps, sha256_file, versions, write_csv, write_gpkg, write_xlsx
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
from cocity.report.style import CHART_CONFIG, FONT_STACK, MAP_CONFIG, chart_layout

if TYPE_CHECKING:
    # the street-network side needs numba; imported by the caller only when it routes
    from cocity.access.life_circles import LifeCircles
    from cocity.access.network import Network

MAP_HEIGHT = 560
CIRCLE_COLORS = {"both": "#7b3294", "first": "#d95f02", "second": "#1b9e77", "none": "#e3e3e3"}
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
@dataclass
class Commute:
    """Commuting circles of a workspace: ``table`` (one row per county-level unit: ``unit``,
    names, ``minutes_<core>``, ``modelled_<core>``, ``within_<core>``, ``circle``), the
    regional ``network``, the county boundaries ``geo`` and the spec used.

    With commuting origin–destination data (``flows``: ``origin``, ``destination`` as unit
    codes, ``commuters``), the table also has ``share_<core>`` (share of the unit's outgoing
    commuters working in the core; empty where the data hold no outgoing commuters),
    ``within_share_<core>``, ``no_flows`` and ``circle_share`` (membership by commuting share,
    :func:`cocity.access.regional.commuting_share_circles`)."""

    table: pd.DataFrame
    network: RegionalNetwork
    geo: Any
    spec: dict[str, Any]
    threshold: float
    datum: str
    source: str
    flows: pd.DataFrame | None = None
    share_threshold: float | None = None
    flows_source: str = ""

    @property
    def cores(self) -> list[str]:
        return [str(c) for c in self.spec["cores"]]

    @property
    def has_shares(self) -> bool:
        return self.flows is not None

    def core_name(self, core: str, lang: str) -> str:
        return str(self.spec["cores"][core].get(f"name_{lang}", core))

    def core_units(self) -> dict[str, list[str]]:
        return {core: [str(u) for u in self.spec["cores"][core]["counties"]]
                for core in self.cores}

    def circle_label(self, circle: str, lang: str) -> str:
        cores = self.cores
        if circle == "both":
            return t("access.cli.commute.circle.both", lang, threshold=self.threshold)
        if circle == "none":
            return t("access.cli.commute.circle.none", lang, threshold=self.threshold)
        return t("access.cli.commute.circle.one", lang, core=self.core_name(
            cores[0] if circle == "first" else cores[1], lang), threshold=self.threshold)

    @property
    def share_pct(self) -> str:
        """The commuting-share threshold as a percentage, e.g. ``10%``."""
        return f"{100 * (self.share_threshold or 0):g}%"

    def share_label(self, circle: str, lang: str) -> str:
        """The label of a membership class by commuting share."""
        share = self.share_pct
        if circle in ("both", "none", "no_flows"):
            return t(f"access.cli.commute.share.{circle}", lang, share=share)
        return t("access.cli.commute.share.one", lang, core=self.core_name(
            self.cores[0] if circle == "first" else self.cores[1], lang), share=share)


def _circle_classes(within: np.ndarray, n_cores: int) -> np.ndarray:
    """``both``/``first``/``second``/``none`` from a units × cores membership matrix."""
    if n_cores == 2:
        return np.select([within.all(axis=1), within[:, 0], within[:, 1]],
                         ["both", "first", "second"], "none")
    return np.where(within.any(axis=1), "first", "none")


def build_commute(store: Store, spec: dict[str, Any], *, source: str = "",
                  flows: pd.DataFrame | None = None, share_threshold: float = 0.10,
                  flows_source: str = "") -> Commute:
    """The regional network and the commuting circles of ``spec`` on the store's counties;
    with ``flows`` (origin and destination as county codes, commuters) also the membership by
    commuting share at ``share_threshold``."""
    net = build_regional_network(store, spec)
    circles = commuting_circles(net, spec)
    units = store.units(level="county").set_index("code")
    table = circles.reset_index()
    table.insert(1, "name_zh", table["unit"].map(units["name_zh"]))
    table.insert(2, "name_en", table["unit"].map(units["name_en"]))
    table.insert(3, "parent", table["unit"].map(units["parent"]))
    cores = [str(c) for c in spec["cores"]]
    within = table[[f"within_{c}" for c in cores]].to_numpy(bool)
    table["circle"] = _circle_classes(within, len(cores))
    table["nearest_core"] = [cores[i] for i in np.argmin(
        table[[f"minutes_{c}" for c in cores]].to_numpy(float), axis=1)]
    geo = store.geodata(level="county")
    geo = geo[geo.geometry.notna()].reset_index(drop=True)
    c = Commute(table, net, geo, spec, float(spec.get("threshold_minutes", 60)),
                str(geo.attrs.get("datum", "")), source)
    if flows is not None:
        c.flows = flows.reset_index(drop=True)
        c.share_threshold = float(share_threshold)
        c.flows_source = flows_source
        _add_shares(c)
    return c


def _add_shares(c: Commute) -> None:
    """Columns of the membership by commuting share (see :class:`Commute`)."""
    assert c.flows is not None and c.share_threshold is not None
    members = c.core_units()
    shares = commuting_share_circles(c.flows[["origin", "destination", "commuters"]], members,
                                     threshold=c.share_threshold)
    codes = c.table["unit"].astype(str)
    found = shares.reindex(codes)
    no_flows = ~found["no_flows"].eq(False).to_numpy()
    within = np.empty((len(codes), len(c.cores)), dtype=bool)
    for j, core in enumerate(c.cores):
        c.table[f"share_{core}"] = np.where(no_flows, np.nan,
                                            found[f"share_{core}"].to_numpy(float))
        within[:, j] = found[f"within_{core}"].eq(True).to_numpy() | codes.isin(
            members[core]).to_numpy()
        c.table[f"within_share_{core}"] = within[:, j]
    c.table["no_flows"] = no_flows
    circle = _circle_classes(within, len(c.cores))
    c.table["circle_share"] = np.where(no_flows & (circle == "none"), "no_flows", circle)


def commute_comparison(c: Commute) -> pd.DataFrame:
    """Units in a core's circle by time but not by commuting share (``time_only``) and the
    reverse (``share_only``); units without outgoing commuters in the data are left out."""
    cols = ["core", "difference", "unit", "name_zh", "name_en", "minutes", "share"]
    if not c.has_shares:
        return pd.DataFrame(columns=cols)
    tab = c.table[~c.table["no_flows"]]
    parts = []
    for core in c.cores:
        time_in = tab[f"within_{core}"].to_numpy(bool)
        share_in = tab[f"within_share_{core}"].to_numpy(bool)
        for kind, sel in (("time_only", time_in & ~share_in), ("share_only", share_in & ~time_in)):
            sub = tab[sel]
            parts.append(pd.DataFrame({
                "core": core, "difference": kind, "unit": sub["unit"].to_numpy(),
                "name_zh": sub["name_zh"].to_numpy(), "name_en": sub["name_en"].to_numpy(),
                "minutes": sub[f"minutes_{core}"].to_numpy(float),
                "share": sub[f"share_{core}"].to_numpy(float)}))
    return pd.concat(parts, ignore_index=True)[cols]


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


def commute_counts(c: Commute, column: str = "circle") -> list[tuple[str, int]]:
    """Units per membership class of ``column`` (``circle`` or ``circle_share``)."""
    counts = c.table[column].value_counts()
    keys = SHARE_COLORS if column == "circle_share" else CIRCLE_COLORS
    return [(k, int(counts.get(k, 0))) for k in keys]


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


def commute_manifest(c: Commute, paths: dict[str, Path]) -> dict[str, Any]:
    spec_text = yaml.safe_dump(c.spec, allow_unicode=True, sort_keys=True)
    return {
        "kind": "access commute",
        "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "spec_source": c.source, "spec_sha256": hashlib.sha256(spec_text.encode()).hexdigest(),
        "spec": c.spec, "threshold_minutes": c.threshold, "datum": c.datum,
        "units": len(c.table),
        "within": {core: int(c.table[f"within_{core}"].sum()) for core in c.cores},
        **({"flows": _flows_manifest(c)} if c.has_shares else {}),
        "versions": versions(),
        "outputs": {k: {"file": p.name, "sha256": sha256_file(p)} for k, p in paths.items()},
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
        share_counts=commute_counts(c, "circle_share") if c.has_shares else [],
        share_colors=SHARE_COLORS, comparison=_comparison_lists(c),
        manifest=manifest or commute_manifest(c, {}), files=files or [],
        rows=c.table.sort_values(f"minutes_{c.cores[0]}"),
        names=c.geo.set_index("code")[["name_zh", "name_en"]].to_dict("index"))


COMMUTE_NAMES = {"csv": "commute.csv", "xlsx": "commute.xlsx", "gpkg": "commute.gpkg",
                 "html": "commute.html", "manifest": "commute.json"}


def write_commute_outputs(c: Commute, out: str | Path, lang: str = "zh") -> dict[str, Path]:
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
        "inputs": {k: {"file": v, "sha256": sha256_file(Path(v)) if Path(v).is_file() else None}
                   for k, v in inputs.items()},
        "max_snap_m": res.max_snap, "include_snap": res.include_snap, "crs": res.crs,
        "summary": res.summary().to_dict("records"),
        "notes": [{"zh": n.text("zh"), "en": n.text("en")} for n in res.notes],
        "versions": versions(),
        "outputs": {k: {"file": p.name, "sha256": sha256_file(p)} for k, p in paths.items()},
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



# ---------------------------------------------------------------------- accessibility measures
MEASURE_METHODS = ("gravity", "cumulative_opportunities", "nearest_k", "fca_ratio",
                   "two_step_fca", "enhanced_2sfca", "gaussian_2sfca", "three_step_fca")
#: measures of the 2SFCA family: they have supply-side ratios R_j
CATCHMENT_METHODS = ("two_step_fca", "enhanced_2sfca", "gaussian_2sfca", "three_step_fca")
_NEEDS_THRESHOLD = ("cumulative_opportunities", "fca_ratio", "two_step_fca", "gaussian_2sfca",
                    "three_step_fca")
_TAKES_DECAY = ("gravity", "fca_ratio", "two_step_fca", "three_step_fca")
SPAR_MODES = ("none", "mean", "demand")
#: the command-line option of each decay or method parameter
PARAM_OPTIONS = {"beta": "--beta", "sigma": "--sigma", "h": "--bandwidth", "d_min": "--d-min",
                 "breaks": "--breaks", "weights": "--weights", "closed": "--closed",
                 "d0": "--threshold"}
E2SFCA_PARAMS = ("breaks", "weights", "closed")
DEMAND_COLOR = "Viridis"
SUPPLY_COLOR = "#d6604d"
NO_ACCESS_COLOR = "#9e9e9e"


def _options(params: list[str] | set[str]) -> str:
    return ", ".join(PARAM_OPTIONS.get(p, p) for p in sorted(params))


@dataclass
class MeasureParams:
    """What ``cocity access measure`` was asked to compute.

    ``params`` holds the decay parameters the user gave (``beta``, ``sigma``, ``h``,
    ``d_min``, ``breaks``, ``weights``, ``closed``); for ``enhanced_2sfca`` ``breaks``,
    ``weights`` and ``closed`` are the method's zones. A decay with a catchment scale ``d0``
    (binary, linear, Gaussian) takes the threshold, Epanechnikov takes it as ``h`` unless
    ``--bandwidth`` is given."""

    method: str
    threshold: float | None = None
    decay: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    k: int | None = None
    how: str | None = None
    spar: str = "none"

    def check(self) -> None:
        """Refuse a combination of options that the method would not use or cannot run."""
        m = self.method
        if m not in MEASURE_METHODS:
            raise AccessInputError(t("access.cli.measure.err.method", value=m,
                                     names=", ".join(MEASURE_METHODS)))
        if self.threshold is not None and not self.threshold > 0:
            raise AccessInputError(t("access.cli.measure.err.threshold_positive",
                                     value=self.threshold))
        if m == "enhanced_2sfca" and self.threshold is not None:
            raise AccessInputError(t("access.cli.measure.err.threshold_e2sfca"))
        if m in _NEEDS_THRESHOLD and self.threshold is None:
            raise AccessInputError(t("access.cli.measure.err.threshold_needed", method=m))
        if m == "gravity" and self.decay is None:
            raise AccessInputError(t("access.cli.measure.err.decay_needed", method=m))
        if m not in _TAKES_DECAY and self.decay is not None:
            raise AccessInputError(t("access.cli.measure.err.decay_not_used", method=m))
        if m != "nearest_k" and (self.k is not None or self.how is not None):
            raise AccessInputError(t("access.cli.measure.err.nearest_only", method=m))
        if self.spar not in SPAR_MODES:
            raise AccessInputError(t("access.cli.measure.err.spar", value=self.spar,
                                     names=", ".join(SPAR_MODES)))
        if m == "nearest_k" and self.spar != "none":
            raise AccessInputError(t("access.cli.measure.err.spar_nearest"))
        if self.decay is None:
            allowed = set(E2SFCA_PARAMS) if m == "enhanced_2sfca" else set()
            extra = set(self.params) - allowed
            if extra:
                raise AccessInputError(t("access.cli.measure.err.params_unused", method=m,
                                         options=_options(extra)))
        if m == "enhanced_2sfca":
            _decay.get("step", **self.params)  # checks the zones now
        self.decay_function()

    def decay_function(self) -> _decay.DecayFunction | None:
        """The decay with its parameters bound, or ``None`` (``f ≡ 1`` or the method's own)."""
        if self.decay is None:
            return None
        name = self.decay
        if name not in _decay.DECAYS:
            raise AccessInputError(t("access.m.err.unknown_decay", name=name,
                                     names=", ".join(_decay.DECAYS)))
        sig = inspect.signature(_decay.DECAYS[name])
        accepted = list(sig.parameters)[1:]
        params = dict(self.params)
        if "d0" in accepted:
            params["d0"] = self.threshold
        if name == "epanechnikov" and "h" not in params:
            params["h"] = self.threshold
        extra = {p for p, v in params.items() if p not in accepted and v is not None}
        if extra:
            raise AccessInputError(t("access.cli.measure.err.decay_param_unused", decay=name,
                                     options=_options(extra)))
        missing = [p for p in accepted if params.get(p) is None
                   and sig.parameters[p].default is inspect.Parameter.empty]
        if missing:
            raise AccessInputError(t("access.cli.measure.err.decay_param_missing", decay=name,
                                     options=_options(missing)))
        return _decay.get(name, **{p: v for p, v in params.items() if v is not None})

    def cutoff(self) -> float | None:
        """How far a search on a network has to go: the catchment (``None``: unbounded)."""
        if self.method == "enhanced_2sfca":
            return float(self.params.get("breaks", _decay.LUO_QI_2009_BREAKS)[-1])
        return self.threshold

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "threshold": self.threshold,
                               "decay": self.decay, "decay_params": dict(self.params)}
        if self.method == "enhanced_2sfca":
            out["decay_params"] = {"breaks": list(_decay.LUO_QI_2009_BREAKS),
                                   "weights": list(_decay.LUO_QI_2009_WEIGHTS),
                                   "closed": "left", **self.params}
        if self.method == "nearest_k":
            out.update(k=self.k or 1, how=self.how or "kth")
        out["spar"] = self.spar
        return out


def compute_measure(cost: sparse.csr_matrix, demand: pd.Series, supply: pd.Series,
                    p: MeasureParams, *, demand_cost: sparse.csr_matrix | None = None
                    ) -> tuple[pd.Series, measures.CatchmentResult | None]:
    """The measure ``p.method`` on a demand × supply cost matrix (rows in the order of
    ``demand``, columns in the order of ``supply``; both Series indexed by id). Returns the
    score per demand point and, for the 2SFCA family, the full result with the ratios."""
    p.check()
    fn = p.decay_function()
    d_ids, s_ids = demand.index, supply.index
    res: measures.CatchmentResult | None = None
    m = p.method
    if m == "gravity":
        assert fn is not None
        score = measures.gravity(cost, supply.to_numpy(float), fn, cutoff=p.threshold
                                 if p.threshold is not None else float("inf"),
                                 demand_ids=d_ids, supply_ids=s_ids)
    elif m == "cumulative_opportunities":
        score = measures.cumulative_opportunities(cost, supply.to_numpy(float),
                                                  float(p.threshold or 0), demand_ids=d_ids,
                                                  supply_ids=s_ids)
    elif m == "nearest_k":
        score = measures.nearest_k(cost, p.k or 1, how=p.how or "kth",
                                   supply=supply.to_numpy(float),
                                   cutoff=p.threshold if p.threshold is not None
                                   else float("inf"), demand_ids=d_ids)
    elif m == "fca_ratio":
        if demand_cost is None:
            raise AccessInputError(t("access.cli.measure.err.demand_cost_needed"))
        score = measures.fca_ratio(cost, demand_cost, demand.to_numpy(float),
                                   supply.to_numpy(float), float(p.threshold or 0), decay=fn,
                                   demand_ids=d_ids, supply_ids=s_ids)
    elif m == "two_step_fca":
        res = measures.two_step_fca(cost, demand.to_numpy(float), supply.to_numpy(float),
                                    float(p.threshold or 0), decay=fn, demand_ids=d_ids,
                                    supply_ids=s_ids)
    elif m == "enhanced_2sfca":
        res = measures.enhanced_2sfca(cost, demand.to_numpy(float), supply.to_numpy(float),
                                      demand_ids=d_ids, supply_ids=s_ids, **p.params)
    elif m == "gaussian_2sfca":
        res = measures.gaussian_2sfca(cost, demand.to_numpy(float), supply.to_numpy(float),
                                      float(p.threshold or 0), demand_ids=d_ids,
                                      supply_ids=s_ids)
    else:
        res = measures.three_step_fca(cost, demand.to_numpy(float), supply.to_numpy(float),
                                      float(p.threshold or 0), decay=fn, demand_ids=d_ids,
                                      supply_ids=s_ids)
    if res is not None:
        score = res.access
    assert isinstance(score, pd.Series)
    return score.rename("access"), res


@dataclass
class MeasureRun:
    """A finished ``cocity access measure``: ``demand`` (``id``, ``demand``, coordinates when
    known, ``snapped``/``snap`` on a network, ``access``, ``spar``) and ``supply`` (``id``,
    ``capacity``, coordinates, ``ratio``, ``catchment_demand`` and ``status`` for the 2SFCA
    family); ``cost_unit`` is ``minutes``, ``metres`` or ``cost`` (a user's table)."""

    params: MeasureParams
    demand: pd.DataFrame
    supply: pd.DataFrame
    source: str
    cost_unit: str
    pairs: int
    inputs: dict[str, str]
    coords: str | None = None          # "xy", "lonlat" or None
    crs: str | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def has_ratios(self) -> bool:
        return "ratio" in self.supply.columns

    @property
    def lower_is_better(self) -> bool:
        return self.params.method == "nearest_k"

    def method_name(self, lang: str) -> str:
        return t(f"access.cli.measure.method.{self.params.method}", lang)


def build_measure(cost: sparse.csr_matrix, demand: pd.DataFrame, supply: pd.DataFrame,
                  p: MeasureParams, *, source: str, cost_unit: str, inputs: dict[str, str],
                  demand_cost: sparse.csr_matrix | None = None, coords: str | None = None,
                  crs: str | None = None,
                  notes: list[tuple[str, str]] | None = None) -> MeasureRun:
    """Run the measure on prepared frames (``demand``: ``id``, ``demand``; ``supply``:
    ``id``, ``capacity``; rows in the order of the cost matrix) and collect the tables."""
    d = demand.reset_index(drop=True)
    s = supply.reset_index(drop=True)
    score, res = compute_measure(cost, pd.Series(d["demand"].to_numpy(float), index=d["id"]),
                                 pd.Series(s["capacity"].to_numpy(float), index=s["id"]), p,
                                 demand_cost=demand_cost)
    d["access"] = score.to_numpy(float)
    if p.spar != "none":
        spar = measures.spatial_access_ratio(
            score, weights=d["demand"].to_numpy(float) if p.spar == "demand" else None)
        d["spar"] = np.asarray(spar, dtype=float)
    out_notes = list(notes or [])
    if res is not None:
        s["ratio"] = np.asarray(res.ratio, dtype=float)
        s["catchment_demand"] = res.catchment_demand.to_numpy(float)
        status = np.full(len(s), "ok", dtype=object)
        status[s["id"].isin(res.unreached).to_numpy()] = "unreached"
        status[s["id"].isin(res.zero_demand).to_numpy()] = "zero_demand"
        s["status"] = status
        for key in ("unreached", "zero_demand"):
            n = int((status == key).sum())
            if n:
                out_notes.append(_bi_note(f"access.cli.measure.note.{key}", n=n))
    if p.method == "nearest_k":
        none = int(np.isinf(d["access"]).sum())
    else:
        none = int((d["access"] == 0).sum())
    if none:
        pop = float(d.loc[np.isinf(d["access"]) if p.method == "nearest_k"
                          else d["access"] == 0, "demand"].sum())
        out_notes.append(_bi_note("access.cli.measure.note.no_supply", n=none, pop=pop))
    return MeasureRun(p, d, s, source, cost_unit, int(cost.nnz), inputs, coords, crs,
                      out_notes)


def _bi_note(key: str, **fmt: Any) -> tuple[str, str]:
    return t(key, "zh", **fmt), t(key, "en", **fmt)


def measure_stats(run: MeasureRun) -> dict[str, float]:
    """Summary statistics of the scores (finite values; demand-weighted mean)."""
    a = run.demand["access"].to_numpy(float)
    w = run.demand["demand"].to_numpy(float)
    ok = np.isfinite(a)
    v = a[ok]
    q = np.quantile(v, [0.0, 0.25, 0.5, 0.75, 1.0]) if len(v) else np.full(5, np.nan)
    wsum = float(w[ok].sum())
    none = np.isinf(a) if run.lower_is_better else a == 0
    total = float(w.sum())
    return {
        "n": float(len(a)), "finite": float(ok.sum()),
        "mean": float(v.mean()) if len(v) else float("nan"),
        "weighted_mean": float((v * w[ok]).sum() / wsum) if wsum > 0 else float("nan"),
        "std": float(v.std(ddof=1)) if len(v) > 1 else float("nan"),
        "min": float(q[0]), "p25": float(q[1]), "median": float(q[2]), "p75": float(q[3]),
        "max": float(q[4]), "no_supply": float(none.sum()),
        "no_supply_share": float(w[none].sum() / total) if total > 0 else float("nan"),
    }


STAT_KEYS = ("n", "mean", "weighted_mean", "std", "min", "p25", "median", "p75", "max",
             "no_supply", "no_supply_share")


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


def measure_manifest(run: MeasureRun, paths: dict[str, Path]) -> dict[str, Any]:
    return {
        "kind": "access measure",
        "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "parameters": run.params.as_dict(), "cost_source": run.source,
        "cost_unit": run.cost_unit, "pairs": run.pairs, "crs": run.crs,
        "inputs": {k: {"file": v, "sha256": sha256_file(Path(v)) if Path(v).is_file() else None}
                   for k, v in run.inputs.items()},
        "demand_points": len(run.demand), "supply_points": len(run.supply),
        "summary": measure_stats(run),
        "notes": [{"zh": zh, "en": en} for zh, en in run.notes],
        "versions": versions(),
        "outputs": {k: {"file": p.name, "sha256": sha256_file(p)} for k, p in paths.items()},
    }


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


def write_measure_outputs(run: MeasureRun, out: str | Path, lang: str = "zh") -> dict[str, Path]:
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
    html = measure_html(run, lang, manifest=measure_manifest(run, paths), files=files)
    paths["html"] = write_atomic(html, folder / "measure.html")
    paths["manifest"] = write_text(dumps(measure_manifest(run, paths)), folder / "measure.json")
    return paths
