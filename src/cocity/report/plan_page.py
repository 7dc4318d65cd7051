"""The one report of every planning tool (``cocity plan pair|locate|route|share|ecocomp|map``):
its tables as CSV and one workbook, its map layers as GeoJSON, one self-contained bilingual
HTML page and the manifest — every file through :mod:`cocity.outputs`, the manifest last.

A tool builds a :class:`PlanReport` (pure data: cards, tables, map layers, notes, the notice of
anything simulated or illustrative, provenance, configuration) and calls
:func:`write_plan_report`. The page extends ``index_base.html.j2`` (both languages in the page,
plotly.js inline, a Content-Security-Policy that forbids every request, written atomically).

**Map layers** (:class:`Layer`) are points (``lon``, ``lat``) or lines (``path``: a list of
``(lon, lat)``), each row with ``label_zh``/``label_en``; they are drawn over the county
boundaries with no tiles, and written as ``layers.geojson`` (one FeatureCollection, each
feature's ``properties.layer`` naming its layer) — the file :func:`read_layers` reads back, so
that the planning map (规划一张图) can draw the layers of several tools' outputs together.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup

import cocity
from cocity.i18n import LANGS, t
from cocity.outputs import manifest as make_manifest
from cocity.outputs import write_csv, write_json, write_xlsx
from cocity.report.maps import FEATURE_ID_KEY, flat_colorscale, hover_names, map_layout
from cocity.report.render import (
    GEO_PREFIX,
    TOPOJSON_NAMES,
    bilingual_figure,
    script_json,
    template_environment,
    write_atomic,
)
from cocity.report.style import FONT_STACK, MAP_CONFIG

LAYERS_FILE = "layers.geojson"
MAP_HEIGHT = 600
LEGEND_ROW = 22  # pixels per row of two legend entries
MAX_ROWS = 400
BASE_COLOR = "#eef1f4"
PALETTE = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#7f7f7f")


@dataclass(frozen=True)
class Layer:
    """One map layer. ``kind`` ``points``: ``features`` has ``lon``, ``lat``, ``label_zh``,
    ``label_en``; ``lines``: ``path`` (a list of ``(lon, lat)``), ``label_zh``, ``label_en``.
    Other scalar columns travel into the GeoJSON properties. ``flag`` marks a layer built on
    ``simulated`` or ``illustrative`` inputs; its legend entry says so."""

    key: str
    label_zh: str
    label_en: str
    kind: Literal["points", "lines"]
    features: pd.DataFrame
    color: str | None = None
    flag: Literal["simulated", "illustrative"] | None = None
    hidden: bool = False  # drawn only when switched on in the legend

    def label(self, lang: str) -> str:
        text = self.label_zh if lang == "zh" else self.label_en
        return text if self.flag is None else f"{text} ({t(f'plan.page.flag.{self.flag}', lang)})"


@dataclass(frozen=True)
class PlanTable:
    """A result table: ``stem`` names its CSV file and workbook sheet; column labels are the
    i18n keys ``{labels}.{column}`` when ``labels`` is given (else the column names)."""

    stem: str
    frame: pd.DataFrame
    title_zh: str
    title_en: str
    labels: str | None = None

    def header(self, column: str, lang: str) -> str:
        if self.labels is None:
            return column
        return t(f"{self.labels}.{column}", lang)


@dataclass
class PlanReport:
    """Everything one planning run shows and writes (see the module docstring)."""

    kind: str
    title_zh: str
    title_en: str
    subtitle_zh: str = ""
    subtitle_en: str = ""
    cards: list[tuple[str, str, str]] = field(default_factory=list)
    tables: list[PlanTable] = field(default_factory=list)
    layers: list[Layer] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    notice: tuple[str, str] | None = None
    figures: list[tuple[str, str, str, Callable[..., go.Figure]]] = field(default_factory=list)
    provenance: dict[str, Any] | None = None
    config: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------- layers as GeoJSON
def _scalar(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def layers_geojson(layers: Sequence[Layer]) -> dict[str, Any]:
    """One FeatureCollection of every layer (WGS-84 order lon, lat as the boundaries' datum);
    the layer's own fields are in ``properties`` (``layer``, ``layer_zh``, ``layer_en``,
    ``kind``, ``color``, ``flag``)."""
    features = []
    for layer in layers:
        for rec in layer.features.to_dict("records"):
            if layer.kind == "points":
                geom = {"type": "Point", "coordinates": [float(rec["lon"]), float(rec["lat"])]}
            else:
                geom = {"type": "LineString",
                        "coordinates": [[float(x), float(y)] for x, y in rec["path"]]}
            props = {k: _scalar(v) for k, v in rec.items()
                     if k not in ("lon", "lat", "path") and not isinstance(v, list | tuple | dict)}
            props.update(layer=layer.key, layer_zh=layer.label_zh, layer_en=layer.label_en,
                         kind=layer.kind, color=layer.color, flag=layer.flag)
            features.append({"type": "Feature", "geometry": geom, "properties": props})
    return {"type": "FeatureCollection", "features": features}


def read_layers(path: str | Path) -> list[Layer]:
    """The layers of a ``layers.geojson`` written by :func:`write_plan_report`, in order."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    order: list[str] = []
    rows: dict[str, list[dict[str, Any]]] = {}
    meta: dict[str, dict[str, Any]] = {}
    for feat in doc.get("features", []):
        props = dict(feat["properties"])
        key = str(props.pop("layer"))
        if key not in rows:
            order.append(key)
            rows[key] = []
            meta[key] = {k: props.get(k) for k in ("layer_zh", "layer_en", "kind", "color",
                                                    "flag")}
        for k in ("layer_zh", "layer_en", "kind", "color", "flag"):
            props.pop(k, None)
        geom = feat["geometry"]
        if geom["type"] == "Point":
            props["lon"], props["lat"] = geom["coordinates"]
        else:
            props["path"] = [tuple(p) for p in geom["coordinates"]]
        rows[key].append(props)
    return [Layer(key=k, label_zh=str(meta[k]["layer_zh"]), label_en=str(meta[k]["layer_en"]),
                  kind=meta[k]["kind"], features=pd.DataFrame(rows[k]),
                  color=meta[k]["color"], flag=meta[k]["flag"]) for k in order]


# ---------------------------------------------------------------------- the map
def _layer_trace(layer: Layer, color: str, lang: str) -> go.Scattergeo:
    f = layer.features
    text = f["label_zh" if lang == "zh" else "label_en"].astype(str).tolist()
    name = f"{layer.label(lang)} ({len(f)})"
    if layer.kind == "points":
        return go.Scattergeo(
            lon=f["lon"].astype(float), lat=f["lat"].astype(float), mode="markers+text",
            text=text, textposition="top center", name=name, showlegend=True,
            marker={"size": 11, "color": color, "line": {"color": "white", "width": 1.2}},
            textfont={"size": 11, "color": "#1f2328"},
            visible="legendonly" if layer.hidden else True,
            hovertemplate="%{text}<extra>" + layer.label(lang) + "</extra>")
    lon: list[float | None] = []
    lat: list[float | None] = []
    hover: list[str | None] = []
    for path, label in zip(f["path"], text, strict=True):
        for x, y in path:
            lon.append(float(x))
            lat.append(float(y))
            hover.append(label)
        lon.append(None)
        lat.append(None)
        hover.append(None)
    return go.Scattergeo(lon=lon, lat=lat, mode="lines", name=name, text=hover, showlegend=True,
                         line={"width": 2.5, "color": color},
                         visible="legendonly" if layer.hidden else True,
                         hovertemplate="%{text}<extra>" + layer.label(lang) + "</extra>")


def plan_map_figure(boundaries: pd.DataFrame, layers: Sequence[Layer],
                    lang: str = "zh") -> go.Figure:
    """The county boundaries in one pale colour (names on hover) and every layer over them, in
    the order given, each in its colour (or the next of the palette)."""
    fig = go.Figure(go.Choropleth(
        geojson=GEO_PREFIX + "county", featureidkey=FEATURE_ID_KEY,
        locations=boundaries["code"], z=np.ones(len(boundaries)),
        colorscale=flat_colorscale(BASE_COLOR), showscale=False, showlegend=False,
        marker={"line": {"color": "#b9c0c8", "width": 0.5}},
        customdata=hover_names(boundaries),
        hovertemplate="<b>%{customdata[0]}</b> %{customdata[1]} (%{customdata[2]})<extra></extra>",
        meta={"geo": "county"}))
    for i, layer in enumerate(layers):
        if not layer.features.empty:
            fig.add_trace(_layer_trace(layer, layer.color or PALETTE[i % len(PALETTE)], lang))
    fig = map_layout(fig, [])
    x0, y0, x1, y1 = (float(v) for v in boundaries.total_bounds)
    pad = 0.03 * max(x1 - x0, y1 - y0)
    # explicit ranges in Mercator fill the frame; fitbounds leaves a region this small tiny
    fig.update_geos(fitbounds=False, projection={"type": "mercator"},
                    lonaxis_range=[x0 - pad, x1 + pad], lataxis_range=[y0 - pad, y1 + pad])
    # the legend under the map (a planning map may carry a dozen layers), with room for it
    rows = -(-len(layers) // 2)
    fig.update_layout(height=MAP_HEIGHT + LEGEND_ROW * rows,
                      legend={"orientation": "h", "x": 0, "y": 0, "yanchor": "top",
                              "bgcolor": "#ffffff"})
    return fig


# ---------------------------------------------------------------------- the files
def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "—"
    if isinstance(v, bool | np.bool_):
        return "✓" if v else "·"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    if isinstance(v, float | np.floating):
        return f"{float(v):,.4g}" if abs(float(v)) < 1e4 else f"{float(v):,.0f}"
    return str(v)


def _html_table(table: PlanTable) -> dict[str, Any]:
    frame = table.frame
    return {"stem": table.stem, "title_zh": table.title_zh, "title_en": table.title_en,
            "headers": [(table.header(c, "zh"), table.header(c, "en")) for c in frame.columns],
            "numeric": [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns],
            "rows": [[_cell(v) for v in row] for row in
                     frame.head(MAX_ROWS).itertuples(index=False, name=None)],
            "total": len(frame)}


def _xlsx_sheet(table: PlanTable) -> pd.DataFrame:
    if table.labels is None:
        return table.frame
    return table.frame.rename(columns={c: f"{table.header(c, 'zh')} ({c})"
                                       for c in table.frame.columns})


def plan_html(report: PlanReport, *, boundaries: pd.DataFrame | None, manifest: dict[str, Any],
              files: Sequence[str], lang: str = "zh") -> str:
    """The page as a string; ``lang`` is the language shown first."""
    from cocity.report.profile import geojson_of

    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    figures: list[dict[str, Any]] = []
    geo: dict[str, Any] = {}
    if boundaries is not None and report.layers:
        geo[GEO_PREFIX + "county"] = geojson_of(boundaries)
        figures.append({"id": "fig-map", "lazy": False, "config": MAP_CONFIG,
                        **bilingual_figure(plan_map_figure, boundaries, report.layers,
                                           lang=lang)})
    extra = []
    for i, (title_zh, title_en, _kind, build) in enumerate(report.figures):
        fid = f"fig-extra-{i}"
        figures.append({"id": fid, "lazy": True, "config": MAP_CONFIG,
                        **bilingual_figure(build, lang=lang)})
        extra.append({"id": fid, "title_zh": title_zh, "title_en": title_en})
    import plotly.offline

    template = template_environment().get_template("plan.html.j2")
    return template.render(
        lang=lang, version=cocity.__version__, font_stack=FONT_STACK,
        plotlyjs=Markup(plotly.offline.get_plotlyjs().replace("</script", "<\\/script")),
        topojson_json=script_json(list(TOPOJSON_NAMES)), geo_json=script_json(geo),
        figures_json=script_json(figures), title_zh=t("plan.page.title", "zh"),
        title_en=t("plan.page.title", "en"), report=report,
        notice_zh=report.notice[0] if report.notice else None,
        notice_en=report.notice[1] if report.notice else None,
        has_map=bool(geo), extra=extra, tables=[_html_table(x) for x in report.tables],
        max_rows=MAX_ROWS, manifest=manifest, files=list(files))


def write_plan_report(report: PlanReport, out: str | Path, *,
                      boundaries: pd.DataFrame | None = None,
                      lang: str = "zh") -> dict[str, Path]:
    """Write ``<stem>.csv`` per table, ``<kind>.xlsx`` (headers ``中文 (key)``),
    ``layers.geojson`` when there are layers, ``<kind>.html`` and ``manifest.json`` into
    ``out``; returns the paths by role. ``boundaries``: the county boundaries (a GeoDataFrame
    with ``code``, ``name_zh``, ``name_en``) the map is drawn on."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for table in report.tables:
        paths[f"csv:{table.stem}"] = write_csv(table.frame, folder / f"{table.stem}.csv")
    if report.tables:
        paths["xlsx"] = write_xlsx({x.stem: _xlsx_sheet(x) for x in report.tables},
                                   folder / f"{report.kind}.xlsx")
    if report.layers:
        paths["layers"] = write_json(layers_geojson(report.layers), folder / LAYERS_FILE)
    files = [p.name for p in paths.values()] + [f"{report.kind}.html", "manifest.json"]

    def _manifest() -> dict[str, Any]:
        return make_manifest(
            f"cocity plan {report.kind}", outputs=paths, root=folder,
            provenance=report.provenance, config=report.config,
            notes=[{"zh": zh, "en": en} for zh, en in report.notes],
            **({"notice": {"zh": report.notice[0], "en": report.notice[1]}}
               if report.notice else {}), **report.facts)

    html = plan_html(report, boundaries=boundaries, manifest=_manifest(), files=files,
                     lang=lang)
    paths["html"] = write_atomic(html, folder / f"{report.kind}.html")
    paths["manifest"] = write_json(_manifest(), folder / "manifest.json")
    return paths
