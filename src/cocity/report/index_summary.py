"""The outputs of composite-index runs: the files of ``cocity index build``, ``compare`` and
``uncertainty`` — tables (CSV, XLSX), the pipeline log, the HTML page and, last, the manifest
(:func:`cocity.outputs.manifest`, with the provenance of the data read) — and the pages
themselves: the summary of a build and the page of an uncertainty analysis.

Like the data profile, each page is one self-contained file: both languages (简体中文 first,
switched in the page), plotly.js inline once, boundaries embedded once, a Content-Security-Policy
that forbids every request, written atomically. Figures are made bilingual, templates rendered
and files written with the profile renderer's helpers (:mod:`cocity.report.render`); maps use
the hidden base map of :mod:`cocity.report.maps`.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.offline
from markupsafe import Markup
from plotly.colors import sample_colorscale

import cocity
from cocity.i18n import LANGS, t
from cocity.index.tables import (
    log_entries,
    nodes_table,
    ranking_table,
    scores_table,
    uncertainty_tables,
)
from cocity.index.uncertainty import input_label
from cocity.outputs import jsonable, write_csv, write_json, write_xlsx
from cocity.outputs import manifest as make_manifest
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
)

if TYPE_CHECKING:
    from cocity.index.run import IndexRun, UncertaintyRun
    from cocity.index.uncertainty import UncertaintyResult

ROW_HEIGHT = 15  # pixels per unit in the bar and rank charts
BAR_COLOR = "#3b6ea8"
NOMINAL_COLOR = "#d62728"


# ---------------------------------------------------------------------- map
def _map_frames(run: IndexRun) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Units of the run's level that have a boundary: (evaluated, with score and rank; the
    others), or None when no evaluated unit has one."""
    if run.geo is None:
        return None
    geo = run.geo[run.geo["level"] == run.selection.level]
    score, rank = run.scores[run.root], run.ranks[run.root]
    shown = geo[geo["code"].isin(score.dropna().index)][["code", "name_zh", "name_en"]].copy()
    if shown.empty:
        return None
    shown["score"] = shown["code"].map(score).to_numpy(float)
    shown["rank"] = shown["code"].map(rank).to_numpy(float)
    others = geo[~geo["code"].isin(shown["code"])][["code", "name_zh", "name_en"]]
    return shown.reset_index(drop=True), others.reset_index(drop=True)


def boundaries(run: IndexRun) -> dict[str, dict[str, Any]]:
    """Simplified GeoJSON of the run's level (and prefecture outlines over a county map)."""
    if run.geo is None:
        return {}
    levels = [run.selection.level]
    if run.selection.level == "county" and (run.geo["level"] == "prefecture").any():
        levels.append("prefecture")
    return {lv: geojson_of(run.geo[run.geo["level"] == lv]) for lv in levels}


def index_map_figure(run: IndexRun, geo: dict[str, dict[str, Any]],
                     lang: str = "zh") -> go.Figure:
    """The index score of every evaluated unit; the level's other units in grey."""
    frames = _map_frames(run)
    assert frames is not None
    shown, others = frames
    level = run.selection.level
    name = _node_name(run, run.root, lang)
    score_l, rank_l = t("index.cli.page.score", lang), t("index.cli.page.rank", lang)
    n = int(run.scores[run.root].notna().sum())
    fig = go.Figure()
    if not others.empty:
        label = t("index.cli.page.not_evaluated", lang)
        fig.add_trace(go.Choropleth(
            geojson=geo[level], featureidkey=FEATURE_ID_KEY, locations=others["code"],
            z=np.zeros(len(others)), colorscale=flat_colorscale(NO_DATA_COLOR), showscale=False,
            showlegend=True, name=f"{label} ({len(others)})",
            marker={"line": {"color": "white", "width": 0.6}}, customdata=hover_names(others),
            hovertemplate=("<b>%{customdata[0]}</b> %{customdata[1]} (%{customdata[2]})<br>"
                           f"{label}<extra></extra>"),
            meta={"geo": level}))
    ranks = np.array([f"{int(r)}" if np.isfinite(r) else "—" for r in shown["rank"]])
    fig.add_trace(go.Choropleth(
        geojson=geo[level], featureidkey=FEATURE_ID_KEY, locations=shown["code"],
        z=shown["score"].to_numpy(float), colorscale=COLORSCALE, showscale=True, name=name,
        colorbar={"title": {"text": score_l}, "thickness": 14, "len": 0.6, "x": 0.98,
                  "xanchor": "right"},
        marker={"line": {"color": "white", "width": 0.6}},
        customdata=np.column_stack([hover_names(shown), ranks]),
        hovertemplate=("<b>%{customdata[0]}</b> %{customdata[1]} (%{customdata[2]})<br>"
                       f"{name}<br>{score_l}: %{{z:.2f}} · {rank_l}: %{{customdata[3]}} / {n}"
                       "<extra></extra>"),
        meta={"geo": level}))
    if "prefecture" in geo and level == "county":
        codes = [f["properties"]["code"] for f in geo["prefecture"]["features"]]
        fig.add_trace(go.Choropleth(
            geojson=geo["prefecture"], featureidkey=FEATURE_ID_KEY, locations=codes,
            z=np.zeros(len(codes)), colorscale=flat_colorscale("rgba(0,0,0,0)"), showscale=False,
            showlegend=False, hoverinfo="skip",
            marker={"line": {"color": OUTLINE_COLOR, "width": 1.2}}, meta={"geo": "prefecture"}))
    return map_layout(fig, geo[level]["bbox"])


# ---------------------------------------------------------------------- charts
def _node_name(run: IndexRun, code: str, lang: str) -> str:
    return str(nodes_table(run).at[code, f"name_{lang}"])


def _chart_layout(fig: go.Figure, n: int, x_title: str) -> go.Figure:
    """A tall chart with one category row per unit, first row on top, the x axis and the
    legend above the rows."""
    fig.update_layout(
        height=110 + ROW_HEIGHT * n, margin={"l": 8, "r": 16, "t": 86, "b": 16},
        font={"family": FONT_STACK, "size": 12}, paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="#fafafa", hoverlabel={"font": {"family": FONT_STACK}},
        legend={"orientation": "h", "x": 0, "y": 1, "yref": "container", "yanchor": "top"},
        xaxis={"title": {"text": x_title, "standoff": 4}, "side": "top", "zeroline": False},
        yaxis={"type": "category", "range": [n - 0.5, -0.5], "automargin": True,
               "tickfont": {"size": 11}},
    )
    return fig


def index_bar_figure(run: IndexRun, lang: str = "zh") -> go.Figure:
    """Index scores, highest first, one bar per unit, coloured like the map."""
    ranking = ranking_table(run)
    ranking = ranking[ranking[run.root].notna()]
    codes = list(ranking.index)
    names = ranking[f"name_{lang}"].astype(str).tolist()
    score_l, rank_l = t("index.cli.page.score", lang), t("index.cli.page.rank", lang)
    values = ranking[run.root].to_numpy(float)
    span = float(values.max() - values.min()) if len(values) else 0.0
    where = (values - values.min()) / span if span > 0 else np.full(len(values), 0.5)
    fig = go.Figure(go.Bar(
        x=values, y=codes, orientation="h",
        # explicit colours (the map's scale): plotly.js warns on numbers in bar hover labels
        marker={"color": sample_colorscale(COLORSCALE, list(where))},
        customdata=np.column_stack([ranking["name_zh"].astype(str),
                                    ranking["name_en"].astype(str),
                                    ranking["rank"].astype(str)]),
        hovertemplate=("<b>%{customdata[0]}</b> %{customdata[1]} (%{y})<br>"
                       f"{score_l}: %{{x:.2f}} · {rank_l}: %{{customdata[2]}}<extra></extra>"),
        showlegend=False))
    fig = _chart_layout(fig, len(codes), _node_name(run, run.root, lang))
    fig.update_yaxes(tickmode="array", tickvals=codes, ticktext=names)
    return fig


def _rank_text(values: pd.Series) -> list[str]:
    return [f"{v:g}" if np.isfinite(v) else "—"
            for v in values.astype("Float64").to_numpy(float, na_value=np.nan)]


def _float(value: object) -> float | None:
    """A score as a float, or None when missing (rendered as a dash)."""
    if value is None or value is pd.NA:
        return None
    v = float(value)  # type: ignore[arg-type]
    return v if np.isfinite(v) else None


def rank_interval_figure(run: IndexRun, result: UncertaintyResult,
                         lang: str = "zh") -> go.Figure:
    """Median rank and 5–95 % interval of every unit (sorted), with the nominal rank."""
    summary = result.rank_summary
    codes = [str(c) for c in summary.index]
    names = run.units.reindex(summary.index)
    med = summary["median_rank"].to_numpy(float)
    custom = np.column_stack([names["name_zh"].astype(str), names["name_en"].astype(str),
                              _rank_text(summary["median_rank"]), _rank_text(summary["p05"]),
                              _rank_text(summary["p95"]), _rank_text(summary["nominal_rank"])])
    hover = ("<b>%{customdata[0]}</b> %{customdata[1]} (%{y})<br>"
             f"{t('index.cli.page.median', lang)}: %{{customdata[2]}}<br>"
             f"{t('index.cli.page.interval', lang)}: %{{customdata[3]}}–%{{customdata[4]}}<br>"
             f"{t('index.cli.page.nominal', lang)}: %{{customdata[5]}}<extra></extra>")
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=med, y=codes, mode="markers", name=t("index.cli.page.median", lang),
        marker={"color": BAR_COLOR, "size": 6},
        error_x={"type": "data", "symmetric": False,
                 "array": summary["p95"].to_numpy(float) - med,
                 "arrayminus": med - summary["p05"].to_numpy(float),
                 "color": "rgba(59,110,168,0.55)", "thickness": 2, "width": 0},
        customdata=custom, hovertemplate=hover))
    fig.add_trace(go.Scatter(
        x=summary["nominal_rank"].to_numpy(float), y=codes, mode="markers",
        name=t("index.cli.page.nominal", lang),
        marker={"color": NOMINAL_COLOR, "symbol": "diamond-open", "size": 7},
        customdata=custom, hovertemplate=hover))
    fig = _chart_layout(fig, len(codes), t("index.cli.page.rank", lang))
    fig.update_yaxes(tickmode="array", tickvals=codes,
                     ticktext=names[f"name_{lang}"].astype(str).tolist())
    return fig


def sobol_figure(result: UncertaintyResult, lang: str = "zh") -> go.Figure:
    """First- and total-order Sobol indices of every uncertain input, with their intervals."""
    sob = result.sobol
    labels = ["<br>".join(textwrap.wrap(input_label(str(i), lang), 18)) for i in sob.index]
    fig = go.Figure()
    for col, key, color in (("S1", "index.cli.page.s1", BAR_COLOR),
                            ("ST", "index.cli.page.st", "#e08214")):
        fig.add_trace(go.Bar(
            x=labels, y=sob[col].to_numpy(float), name=t(key, lang), marker={"color": color},
            error_y={"type": "data", "array": sob[f"{col}_conf"].to_numpy(float),
                     "color": "#444", "thickness": 1.2},
            hovertemplate=f"%{{x}}<br>{t(key, lang)}: %{{y:.3f}}<extra></extra>"))
    fig.update_layout(
        barmode="group", height=420, margin={"l": 48, "r": 16, "t": 24, "b": 60},
        font={"family": FONT_STACK, "size": 12}, paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="#fafafa", hoverlabel={"font": {"family": FONT_STACK}},
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02,
                "yanchor": "bottom"},
        xaxis={"automargin": True, "tickangle": 0},
        yaxis={"rangemode": "tozero", "zeroline": True})
    return fig


# ---------------------------------------------------------------------- page data
def _step_outcome(run: IndexRun, entry: dict[str, Any]) -> tuple[str, str]:
    """What a logged step did, as (Chinese, English) text."""
    step = entry["step"]
    texts = {lg: "" for lg in LANGS}
    if step == "impute":
        texts = {lg: t("index.cli.page.imputed", lg, n=entry.get("cells", 0)) for lg in LANGS}
    elif step == "screen":
        texts = {lg: t("index.cli.page.screened", lg, n=len(entry.get("dropped", [])))
                 for lg in LANGS}
    elif step == "treat":
        done = [c for c in entry.get("indicators", []) if c["treatment"] != "none"]
        nodes = nodes_table(run)
        texts = {lg: "; ".join(
            t("index.cli.page.treated", lg, indicator=nodes.at[c["indicator"], f"name_{lg}"],
              treatment=c["treatment"],
              n=len(c["winsorised"]) if c["treatment"] == "winsorise" else len(run.panel))
            for c in done) or t("index.cli.page.no_treatment", lg) for lg in LANGS}
    elif step == "weight":
        text = ", ".join(f"{k}: {v:.3f}" for k, v in (entry.get("weights") or {}).items())
        texts = {lg: text for lg in LANGS}
    return texts["zh"], texts["en"]


def _params_text(params: dict[str, Any]) -> str:
    return json.dumps(jsonable(params), ensure_ascii=False)


def _common(run: IndexRun, lang: str) -> dict[str, Any]:
    fw = run.framework
    root = nodes_table(run).loc[run.root]
    members = run.selection.membership
    return {
        "lang": lang, "version": cocity.__version__, "font_stack": FONT_STACK,
        "plotlyjs": Markup(plotly.offline.get_plotlyjs().replace("</script", "<\\/script")),
        "topojson_json": script_json(list(TOPOJSON_NAMES)),
        "title_zh": fw.name_zh or str(root["name_zh"]),
        "title_en": fw.name_en or str(root["name_en"]),
        "notice_zh": run.file.notice_zh, "notice_en": run.file.notice_en,
        "sel": run.selection, "membership_keys": list(members) if members else [],
        "n_units": int(run.scores[run.root].notna().sum()),
        "n_indicators": len(fw.indicators),
        "coverage_zh": run.selection.coverage("zh"),
        "coverage_en": run.selection.coverage("en"),
    }


def _figures_json(figs: list[dict[str, Any]]) -> Markup:
    return script_json(figs)


def index_summary_html(run: IndexRun, manifest: dict[str, Any], *, lang: str = "zh") -> str:
    """The summary page of a build as a string; ``lang`` is the language shown first."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    geo = boundaries(run)
    figs = []
    if _map_frames(run) is not None:
        figs.append({"id": "fig-map", "config": MAP_CONFIG,
                     **bilingual_figure(index_map_figure, run, geo, lang=lang)})
    figs.append({"id": "fig-bar", "config": CHART_CONFIG,
                 **bilingual_figure(index_bar_figure, run, lang=lang)})
    fw = run.framework
    nodes = nodes_table(run)
    dims = [c for lv in range(fw.n_levels - 1, 1, -1) for c in fw.level_codes(lv)]
    ranking = ranking_table(run)
    log = log_entries(run)
    steps = [{"step": e["step"], "params": _params_text(e["params"]),
              "level": e.get("level"), "outcome": _step_outcome(run, e)} for e in log]
    rows = [{"code": str(code), "rank": "—" if pd.isna(r["rank"]) else str(int(r["rank"])),
             "name_zh": r["name_zh"], "name_en": r["name_en"], "score": _float(r[run.root]),
             "dims": [_float(r[d]) for d in dims]} for code, r in ranking.iterrows()]
    scored = ranking[ranking[run.root].notna()]
    top = scored.iloc[0] if len(scored) else None
    template = template_environment().get_template("index_summary.html.j2")
    return template.render(
        **_common(run, lang), run=run, nodes=nodes, dims=dims, rows=rows, root=run.root,
        top=top, steps=steps, overrides=list(run.overrides), manifest=manifest,
        figures_json=_figures_json(figs), figure_ids=[f["id"] for f in figs],
        geo_json=script_json({GEO_PREFIX + lv: fc for lv, fc in geo.items()}),
    )


def uncertainty_html(unc: UncertaintyRun, manifest: dict[str, Any], *,
                     lang: str = "zh") -> str:
    """The page of an uncertainty analysis: rank intervals and Sobol indices."""
    run, result = unc.run, unc.result
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    figs = [{"id": "fig-ranks", "config": CHART_CONFIG,
             **bilingual_figure(rank_interval_figure, run, result, lang=lang)},
            {"id": "fig-sobol", "config": CHART_CONFIG,
             **bilingual_figure(sobol_figure, result, lang=lang)}]
    summary = result.rank_summary.join(run.units[["name_zh", "name_en"]])
    sobol = result.sobol.assign(
        label_zh=[input_label(str(i), "zh") for i in result.sobol.index],
        label_en=[input_label(str(i), "en") for i in result.sobol.index])
    template = template_environment().get_template("index_uncertainty.html.j2")
    return template.render(
        **_common(run, lang), run=run, summary=summary, sobol=sobol,
        replications=result.replications, manifest=manifest,
        figures_json=_figures_json(figs), figure_ids=[f["id"] for f in figs],
        geo_json=script_json({}),
    )


# ---------------------------------------------------------------------- the files of a run
def build_manifest(run: IndexRun, paths: dict[str, Path], root: Path) -> dict[str, Any]:
    """The manifest of a build: the provenance of the data read, the configuration, the
    inputs and their hashes, the units covered, and every file in ``paths``."""
    return make_manifest("index build", outputs=paths, root=root, provenance=run.provenance,
                    config=run.config(), inputs=run.inputs(),
                    coverage={"zh": run.selection.coverage("zh"),
                              "en": run.selection.coverage("en")})


def write_outputs(run: IndexRun, out: str | Path, *, lang: str = "zh") -> dict[str, Path]:
    """Write the build's files into folder ``out``: ``ranking.csv`` (one row per unit),
    ``scores.csv`` (every unit × node, bilingual names), ``index.xlsx`` (ranking, scores,
    framework, pipeline and input data sheets), ``log.json``, ``index.html`` and, last,
    ``manifest.json`` with the hashes of the others. Returns the paths by key."""
    folder = Path(out)
    ranking, long, nodes = ranking_table(run), scores_table(run), nodes_table(run)
    log = log_entries(run)
    steps = pd.DataFrame([{"step": e["step"], "params": _params_text(e["params"])}
                          for e in log], columns=["step", "params"])
    data = run.units[["name_zh", "name_en"]].join(run.panel)
    data.index.name = "code"
    paths = {
        "ranking_csv": write_csv(ranking, folder / "ranking.csv", index=True),
        "scores_csv": write_csv(long, folder / "scores.csv", index=False),
        "xlsx": write_xlsx({"ranking": ranking, "scores": long, "framework": nodes,
                            "pipeline": steps, "data": data}, folder / "index.xlsx",
                           index={"ranking": True, "framework": True, "data": True}),
        "log": write_json(log, folder / "log.json"),
    }
    page = index_summary_html(run, build_manifest(run, paths, folder), lang=lang)
    paths["html"] = write_atomic(page, folder / "index.html")
    paths["manifest"] = write_json(build_manifest(run, paths, folder), folder / "manifest.json")
    return paths


def write_compare(base: IndexRun, other: IndexRun, table: pd.DataFrame,
                  out: str | Path) -> dict[str, Path]:
    """Write a comparison: ``compare.csv``, ``compare.xlsx`` and the manifest
    ``compare.json`` (both runs' inputs, configuration and provenance, versions and output
    hashes)."""
    folder = Path(out)
    paths = {"csv": write_csv(table, folder / "compare.csv", index=True),
             "xlsx": write_xlsx({"compare": table}, folder / "compare.xlsx",
                                index={"compare": True})}
    doc = make_manifest("index compare", outputs=paths, root=folder, provenance=base.provenance,
                   base={"inputs": base.inputs(), "config": base.config()},
                   other={"inputs": other.inputs(), "config": other.config(),
                          "provenance": other.provenance})
    paths["manifest"] = write_json(doc, folder / "compare.json")
    return paths


def uncertainty_manifest(unc: UncertaintyRun, paths: dict[str, Path],
                         root: Path) -> dict[str, Any]:
    return make_manifest("index uncertainty", outputs=paths, root=root,
                    provenance=unc.run.provenance, config=unc.config(),
                    inputs=unc.run.inputs(),
                    coverage={"zh": unc.run.selection.coverage("zh"),
                              "en": unc.run.selection.coverage("en")})


def write_uncertainty(unc: UncertaintyRun, out: str | Path, *,
                      lang: str = "zh") -> dict[str, Path]:
    """Write ``uncertainty_ranks.csv``, ``uncertainty_sobol.csv``, ``uncertainty.xlsx`` (ranks,
    Sobol indices and the sampled input values), ``uncertainty.html`` and, last,
    ``uncertainty.json`` (the manifest)."""
    folder = Path(out)
    ranks, sobol = uncertainty_tables(unc)
    paths = {
        "ranks_csv": write_csv(ranks, folder / "uncertainty_ranks.csv", index=True),
        "sobol_csv": write_csv(sobol, folder / "uncertainty_sobol.csv", index=True),
        "xlsx": write_xlsx({"ranks": ranks, "sobol": sobol, "samples": unc.result.samples},
                           folder / "uncertainty.xlsx",
                           index={"ranks": True, "sobol": True, "samples": True}),
    }
    page = uncertainty_html(unc, uncertainty_manifest(unc, paths, folder), lang=lang)
    paths["html"] = write_atomic(page, folder / "uncertainty.html")
    paths["manifest"] = write_json(uncertainty_manifest(unc, paths, folder),
                                   folder / "uncertainty.json")
    return paths
