"""The report of ``cocity clusters compare``: CSV tables, one workbook, one self-contained
bilingual HTML page and the manifest, every file through :mod:`cocity.outputs` (the manifest
last).

The page extends ``index_base.html.j2`` like the other reports: both languages in the page
(简体中文 first, switched in the page), plotly.js inline once, a Content-Security-Policy that
forbids every request, written atomically. It shows the side-by-side table (one column per
cluster, each cell's notes under it), three charts — the Theil index of each indicator split
into its within- and between-prefecture parts, σ in the first and last convergence year, and
the coverage of public services — the definitions of every figure and the notes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.offline
from markupsafe import Markup

import cocity
from cocity.clusters.compare import Comparison
from cocity.clusters.compare_cells import SECTIONS
from cocity.i18n import LANGS, t
from cocity.outputs import manifest, write_csv, write_json, write_xlsx
from cocity.report.render import (
    TOPOJSON_NAMES,
    bilingual_figure,
    script_json,
    template_environment,
    write_atomic,
)
from cocity.report.style import CHART_CONFIG, FONT_STACK, chart_layout

TABLES_DIR = "tables"
HTML_NAME = "cluster_compare.html"
XLSX_NAME = "cluster_compare.xlsx"
MANIFEST_NAME = "manifest.json"
COLORS = ("#1f5f99", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf",
          "#7f7f7f")
INTEGERS = {"population", "prefectures", "counties", "beds_coverage", "beta_n"}


# ---------------------------------------------------------------------- labels
def cluster_name(cmp: Comparison, key: str, lang: str) -> str:
    return next(c.name(lang) for c in cmp.clusters if c.key == key)


def indicator_name(cmp: Comparison, indicator: str, lang: str) -> str:
    cat = cmp.catalog.set_index("indicator")
    return str(cat.at[indicator, f"name_{lang}"]) if indicator in cat.index else indicator


def figure_name(cmp: Comparison, figure: str, indicator: str, lang: str) -> str:
    name = str(cmp.definitions.set_index("figure").at[figure, f"name_{lang}"])
    return f"{name} · {indicator_name(cmp, indicator, lang)}" if indicator else name


def format_value(figure: str, value: float) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if figure in INTEGERS:
        return f"{round(value):,d}"
    if figure == "beta_p":
        return f"{value:.2g}" if value < 0.001 else f"{value:.3f}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:.4g}" if abs(value) < 1 else f"{value:.3f}"


# ---------------------------------------------------------------------- tables
def wide_table(cmp: Comparison, lang: str) -> pd.DataFrame:
    """The comparison with names: section, figure, indicator, name, unit, one column per
    cluster (values)."""
    defs = cmp.definitions.set_index("figure")
    rows = cmp.table.reset_index()
    out = pd.DataFrame({
        "section": [t(f"cmp.section.{defs.at[f, 'section']!s}", lang)
                    for f in rows["figure"]],
        "figure": rows["figure"], "indicator": rows["indicator"],
        "name": [figure_name(cmp, f, i, lang) for f, i in
                 zip(rows["figure"], rows["indicator"], strict=True)],
        "unit": [defs.at[f, f"unit_{lang}"] for f in rows["figure"]]})
    for key in cmp.keys:
        out[key] = rows[key].to_numpy()
    return out


def result_tables(cmp: Comparison, lang: str) -> dict[str, pd.DataFrame]:
    """Every table written: the comparison (wide and long), definitions, notes, indicators,
    clusters."""
    clusters = pd.DataFrame([{
        "key": c.key, "name_zh": c.spec.name_zh, "name_en": c.spec.name_en,
        "source": c.source, "members": len(c.spec.members),
        "absent": "; ".join(a.name_en for a in c.spec.absent)} for c in cmp.clusters])
    return {"comparison": wide_table(cmp, lang), "comparison_long": cmp.long(),
            "definitions": cmp.definitions, "notes": cmp.notes, "indicators": cmp.catalog,
            "clusters": clusters}


# ---------------------------------------------------------------------- charts
def _color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def theil_figure(cmp: Comparison, lang: str = "zh") -> go.Figure:
    """Per indicator and cluster, the Theil index as a stacked bar: within prefectures
    (solid) and between them (hatched)."""
    fig = go.Figure()
    x = [indicator_name(cmp, i, lang) for i in cmp.indicators]
    for n, key in enumerate(cmp.keys):
        theil = np.array([cmp.value("theil", key, i) for i in cmp.indicators])
        within = theil * np.array([cmp.value("theil_within_share", key, i)
                                   for i in cmp.indicators])
        between = theil - within
        name = cluster_name(cmp, key, lang)
        fig.add_bar(x=x, y=within, name=f"{name} · {t('cmp.page.within', lang)}",
                    offsetgroup=key, marker={"color": _color(n)},
                    hovertemplate="%{x}: %{y:.4f}<extra></extra>")
        fig.add_bar(x=x, y=between, base=within, offsetgroup=key,
                    name=f"{name} · {t('cmp.page.between', lang)}",
                    marker={"color": _color(n), "pattern": {"shape": "/"}, "opacity": 0.55},
                    hovertemplate="%{x}: %{y:.4f}<extra></extra>")
    chart_layout(fig, 420, barmode="group",
                 yaxis={"title": {"text": t("cmp.page.theil_axis", lang)}})
    return fig


def sigma_figure(cmp: Comparison, lang: str = "zh") -> go.Figure:
    """σ of each indicator in the first (light) and last (solid) convergence year, per
    cluster."""
    y0, y1 = cmp.spec.convergence.years[0], cmp.spec.convergence.years[-1]
    x = [indicator_name(cmp, i, lang) for i in cmp.indicators]
    fig = go.Figure()
    for n, key in enumerate(cmp.keys):
        name = cluster_name(cmp, key, lang)
        for fig_key, year, opacity in (("sigma_start", y0, 0.45), ("sigma_end", y1, 1.0)):
            fig.add_bar(x=x, y=[cmp.value(fig_key, key, i) for i in cmp.indicators],
                        name=f"{name} {year}", marker={"color": _color(n), "opacity": opacity},
                        hovertemplate="%{x}: %{y:.4f}<extra></extra>")
    chart_layout(fig, 420, barmode="group",
                 yaxis={"title": {"text": t("cmp.page.sigma_axis", lang,
                                            measure=cmp.spec.convergence.sigma)}})
    return fig


def services_figure(cmp: Comparison, lang: str = "zh") -> go.Figure:
    """The percentage figures of public-service coverage, one bar per cluster."""
    rows = [("core_share", "")] + [("amenity", a) for a in cmp.table.loc["amenity"].index]
    x = [figure_name(cmp, f, i, lang) if f != "amenity" else indicator_name(cmp, i, lang)
         for f, i in rows]
    fig = go.Figure()
    for n, key in enumerate(cmp.keys):
        fig.add_bar(x=x, y=[cmp.value(f, key, i) for f, i in rows],
                    name=cluster_name(cmp, key, lang), marker={"color": _color(n)},
                    hovertemplate="%{x}: %{y:.1f}%<extra></extra>")
    chart_layout(fig, 420, barmode="group",
                 yaxis={"title": {"text": "%"}, "range": [0, 100]})
    return fig


CHARTS = (("theil", theil_figure), ("sigma", sigma_figure), ("services", services_figure))


# ---------------------------------------------------------------------- page
def _cell_notes(cmp: Comparison) -> dict[tuple[str, str, str], list[tuple[str, str]]]:
    out: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    for r in cmp.notes.to_dict("records"):
        if r["figure"]:
            out.setdefault((str(r["cluster"]), str(r["figure"]), str(r["indicator"])),
                           []).append((str(r["text_zh"]), str(r["text_en"])))
    return out


def page_sections(cmp: Comparison) -> list[dict[str, Any]]:
    """The table's rows grouped by section, each cell with its text and notes."""
    notes = _cell_notes(cmp)
    defs = cmp.definitions.set_index("figure")
    sections: dict[str, dict[str, Any]] = {}
    values = cmp.table.to_numpy(dtype=float)
    for i, (figure, indicator) in enumerate(cmp.table.index):
        fig, ind = str(figure), str(indicator)
        section = str(defs.at[fig, "section"])
        block = sections.setdefault(section, {
            "key": section, "title": (t(f"cmp.section.{section}", "zh"),
                                      t(f"cmp.section.{section}", "en")), "rows": []})
        block["rows"].append({
            "name": tuple(figure_name(cmp, fig, ind, lg) for lg in LANGS),
            "unit": tuple(str(defs.at[fig, f"unit_{lg}"]) for lg in LANGS),
            "figure": fig, "indicator": ind,
            "cells": [{"text": format_value(fig, float(values[i, j])),
                       "missing": bool(np.isnan(values[i, j])),
                       "notes": notes.get((k, fig, ind), [])}
                      for j, k in enumerate(cmp.keys)]})
    return [sections[s] for s in SECTIONS if s in sections]


def general_notes(cmp: Comparison) -> list[dict[str, Any]]:
    """Notes on a whole cluster (or on all), grouped by cluster."""
    n = cmp.notes[cmp.notes["figure"] == ""]
    out = []
    common = n[n["cluster"] == ""]
    if not common.empty:
        out.append({"title": (t("cmp.page.all_clusters", "zh"), t("cmp.page.all_clusters", "en")),
                    "notes": list(zip(common["text_zh"], common["text_en"], strict=True))})
    for key in cmp.keys:
        mine = n[n["cluster"] == key]
        out.append({"title": (cluster_name(cmp, key, "zh"), cluster_name(cmp, key, "en")),
                    "notes": list(zip(mine["text_zh"], mine["text_en"], strict=True))})
    return out


def compare_html(cmp: Comparison, *, manifest: dict[str, Any], files: list[str],
                 lang: str = "zh") -> str:
    """The page as a string; ``lang`` is the language shown first."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    figures = [{"id": f"fig-{key}", "lazy": False, "config": CHART_CONFIG,
                **bilingual_figure(build, cmp, lang=lang)} for key, build in CHARTS]
    clusters = [{"key": c.key, "name": (c.spec.name_zh, c.spec.name_en), "source": c.source,
                 "members": len(c.spec.members)} for c in cmp.clusters]
    defs = [{"figure": r["figure"],
             **{p: (r[f"{p}_zh"], r[f"{p}_en"]) for p in ("name", "unit", "formula",
                                                            "source")}}
            for r in cmp.definitions.to_dict("records")]
    template = template_environment().get_template("cluster_compare.html.j2")
    return template.render(
        lang=lang, version=cocity.__version__, font_stack=FONT_STACK,
        plotlyjs=Markup(plotly.offline.get_plotlyjs().replace("</script", "<\\/script")),
        topojson_json=script_json(list(TOPOJSON_NAMES)), geo_json=script_json({}),
        figures_json=script_json(figures), charts=[k for k, _ in CHARTS],
        title_zh=t("cmp.page.title", "zh"), title_en=t("cmp.page.title", "en"),
        notice_zh=None, notice_en=None, clusters=clusters, sections=page_sections(cmp),
        definitions=defs, general=general_notes(cmp), manifest=manifest, files=files,
        spec=cmp.spec, dropped=list(cmp.dropped),
        indicators=[(indicator_name(cmp, i, "zh"), indicator_name(cmp, i, "en"))
                    for i in cmp.indicators])


# ---------------------------------------------------------------------- files
def compare_manifest(cmp: Comparison, paths: dict[str, Path], root: Path) -> dict[str, Any]:
    """The manifest: provenance of the data (the national base; one record per cluster),
    the diagnostics spec run on every cluster and its hash, the clusters, the indicators
    compared and dropped, notes, versions and every output with size and SHA-256."""
    first = next(iter(cmp.provenance.values()))
    return manifest(
        "cocity clusters compare", outputs=paths, root=root, provenance=first,
        config=cmp.spec.raw, spec_sha256=cmp.spec.sha256,
        clusters=[{"key": c.key, "name_zh": c.spec.name_zh, "name_en": c.spec.name_en,
                   "source": c.source, "definition": c.spec.model_dump(mode="json")}
                  for c in cmp.clusters],
        cluster_provenance=dict(cmp.provenance), indicators=list(cmp.indicators),
        dropped=list(cmp.dropped),
        notes=[{"cluster": r["cluster"], "figure": r["figure"], "indicator": r["indicator"],
                "zh": r["text_zh"], "en": r["text_en"]} for r in cmp.notes.to_dict("records")])


def _number_formats(frame: pd.DataFrame) -> dict[str, str]:
    return {str(c): "0.0000" for c in frame.columns
            if pd.api.types.is_float_dtype(frame[c])}


def write_compare_outputs(cmp: Comparison, out: str | Path, *,
                          lang: str = "zh") -> dict[str, Path]:
    """Write ``tables/<name>.csv`` for every table, ``cluster_compare.xlsx`` (one sheet per
    table), ``cluster_compare.html`` and, last, ``manifest.json`` into ``out``; returns the
    paths by role."""
    folder = Path(out)
    tables = result_tables(cmp, lang)
    paths: dict[str, Path] = {}
    for name, frame in tables.items():
        paths[f"csv:{name}"] = write_csv(frame, folder / TABLES_DIR / f"{name}.csv")
    paths["xlsx"] = write_xlsx(tables, folder / XLSX_NAME,
                               index={n: False for n in tables},
                               number_formats={n: _number_formats(f) for n, f in
                                               tables.items()})
    files = [XLSX_NAME, f"{TABLES_DIR}/*.csv ({len(tables)})", MANIFEST_NAME]
    html = compare_html(cmp, manifest=compare_manifest(cmp, paths, folder), files=files,
                        lang=lang)
    paths["html"] = write_atomic(html, folder / HTML_NAME)
    paths["manifest"] = write_json(compare_manifest(cmp, paths, folder),
                                   folder / MANIFEST_NAME)
    return paths
