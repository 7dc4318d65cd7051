"""The public report of an evaluation run (公共服务评价年度报告) and its machine-readable twins.

:func:`write_run_outputs` writes, into one run folder:

- ``tables/<level>_<table>.csv`` — ranking (scores, 5–95 % intervals, dimension scores, grade,
  uncertain flag, like-for-like change, grades without a simulated survey), rewards,
  rectification (with obstacles and deadline), indicator values (derived, imputed flag,
  normalised, obstacle degree), framework, survey estimates, sensitivity; ``notes.csv`` and
  ``provenance.csv`` — headers ``中文 (key)``, see :mod:`cocity.evaluate.tables`;
- ``survey.csv`` — the survey responses used (the simulated ones flagged in every row);
- ``evaluation.xlsx`` (简体中文) and ``evaluation.en.xlsx`` (English) — the same tables, one
  sheet each, with labels, grade names and number formats for officials;
- ``evaluation.json`` — the same content for machines (deterministic: no timestamps);
- ``report.html`` — one self-contained bilingual page (简体中文 first, switch in the page; no
  network request): headline, grade and score maps on the real boundaries, rankings with
  uncertainty intervals, dimension profiles, reward and rectification lists, year-on-year
  change, methodology appendix;
- ``report.pdf`` (简体中文) and ``report.en.pdf`` (English) — the same report for print
  (WeasyPrint, static SVG figures; maps labelled — city names, county ranks keyed to the
  ranking table). Without a CJK font no PDF is written and a warning says why.

The provenance statements come from the run's provenance record
(:mod:`cocity.report.provenance`); anything depending on a simulated survey says so wherever
it shows.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.offline
from markupsafe import Markup

import cocity
from cocity.evaluate.run import Evaluation, LevelResult
from cocity.evaluate.tables import (
    csv_frame,
    jsonable,
    number_formats,
    ranking,
    result_tables,
    sheet_frame,
)
from cocity.i18n import LANGS, t
from cocity.outputs import versions, write_atomic, write_csv, write_xlsx
from cocity.report.background import Background, resolve
from cocity.report.maps import FEATURE_ID_KEY, flat_colorscale, map_layout
from cocity.report.profile import geojson_of
from cocity.report.provenance import data_sentence, import_lines, survey_sentence
from cocity.report.render import (
    GEO_PREFIX,
    TOPOJSON_NAMES,
    _pair,
    bilingual_figure,
    script_json,
    template_environment,
)
from cocity.report.style import CHART_CONFIG, FONT_STACK, MAP_CONFIG, chart_layout

GRADE_COLORS = {"excellent": "#1a9850", "good": "#91cf60", "pass": "#fee08b",
                "fail": "#d73027"}
DIM_COLORS = ("#1f5f99", "#e08214", "#7b3294", "#1b9e77")
UNCERTAIN_COLOR = "#222222"
PRINT_MAX_ROWS = 60
# Print maps: boundaries simplified to 1 px of the figure (0.26 mm on A4 at 100 % width),
# which halves the vertices WeasyPrint draws (about 13 % of a PDF's time) and does not show
# on a page rendered at 150 dpi; the HTML maps keep their own geometry.
PRINT_TOLERANCE_PX = 1.0
NETWORK_MEASURES = ("e2sfca", "core_minutes", "core_share")


def yes(value: Any) -> bool:
    """True for a true flag; False for false, missing (NA, NaN, None) or absent (a template's
    undefined value, e.g. no ``uncertain`` column without an uncertainty analysis)."""
    if isinstance(value, jinja2.Undefined):
        return False
    try:
        return bool(pd.notna(value) and value)
    except (TypeError, ValueError):
        return False


def grade_color(code: str) -> str:
    return GRADE_COLORS.get(code, "#bdbdbd")


def level_ranking(ev: Evaluation, res: LevelResult) -> pd.DataFrame:
    """The ranking of a level (:func:`cocity.evaluate.tables.ranking`), computed once."""
    if "ranking" not in res.cache:
        res.cache["ranking"] = ranking(res, ev.rules, simulated=ev.simulated_survey)
    out: pd.DataFrame = res.cache["ranking"]
    return out.copy()


# ---------------------------------------------------------------------- geometry
def level_geo(ev: Evaluation, res: LevelResult) -> Any:
    """Boundaries of the evaluated units, named as the evaluation names them; a prefecture
    partly in the circle is drawn as the union of its member counties (its part of the
    circle). Computed once per level (every map of the page and the print pages reads it; do
    not modify it)."""
    if "geo" not in res.cache:
        res.cache["geo"] = _level_geo(ev, res)
    return res.cache["geo"]


def _level_geo(ev: Evaluation, res: LevelResult) -> Any:
    geo = ev.geo
    if geo is None:
        return None
    own = geo[geo["code"].isin(res.units.index)].copy()
    for lang in LANGS:
        own[f"name_{lang}"] = own["code"].map(res.units[f"name_{lang}"])
    if res.level == "prefecture":
        county = geo[geo["level"] == "county"]
        for code in res.units.index[res.units["membership"] == "partial"]:
            members = county[(county["parent"] == code) &
                             county["membership"].isin(["full", "partial"])]
            if len(members):
                own.loc[own["code"] == code, "geometry"] = members.geometry.union_all()
    return own.reset_index(drop=True)


def _hover(ev: Evaluation, res: LevelResult, lang: str) -> pd.DataFrame:
    g = level_ranking(ev, res)
    out = pd.DataFrame(index=g.index)
    out["name"] = g[f"name_{lang}"].astype(str)
    out["grade"] = [ev.rules.label(str(c), lang) if isinstance(c, str) else "—"
                    for c in g["grade"]]
    out["score"] = [f"{v:.1f}" for v in g["score"]]
    if "score_low" in g:
        out["interval"] = [f"{a:.1f}–{b:.1f}" for a, b in zip(g["score_low"], g["score_high"],
                                                               strict=True)]
        out["ranks"] = [f"{r} ({a}–{b})" for r, a, b in
                        zip(g["rank"], g["rank_low"], g["rank_high"], strict=True)]
    else:
        out["interval"] = "—"
        out["ranks"] = [f"{r}" for r in g["rank"]]
    unc = g["uncertain"] if "uncertain" in g else pd.Series(False, index=g.index)
    out["uncertain"] = [t("eval.r.uncertain_yes", lang) if yes(u) else "" for u in unc]
    return out


def _hovertemplate(lang: str) -> str:
    return ("<b>%{customdata[0]}</b> (%{location})<br>"
            f"{t('eval.r.col.grade', lang)}: %{{customdata[1]}} %{{customdata[5]}}<br>"
            f"{t('eval.r.col.score', lang)}: %{{customdata[2]}} "
            f"[%{{customdata[3]}}]<br>{t('eval.r.col.rank', lang)}: %{{customdata[4]}}"
            "<extra></extra>")


def grade_map_figure(ev: Evaluation, res: LevelResult, lang: str = "zh") -> go.Figure:
    """Units coloured by grade, one legend entry per grade; uncertain grades ringed."""
    hover = _hover(ev, res, lang)
    grades = res.graded["grade"].astype(object)
    fig = go.Figure()
    for code in ev.rules.codes:
        sel = [u for u in hover.index if grades.get(u) == code]
        label = ev.rules.label(code, lang)
        fig.add_trace(go.Choropleth(
            geojson=GEO_PREFIX + res.level, featureidkey=FEATURE_ID_KEY, locations=sel,
            z=np.ones(len(sel)), colorscale=flat_colorscale(grade_color(code)),
            showscale=False, showlegend=True, name=f"{label} ({len(sel)})",
            marker={"line": {"color": "white", "width": 0.6}},
            customdata=hover.loc[sel, ["name", "grade", "score", "interval", "ranks",
                                       "uncertain"]].to_numpy() if sel else np.empty((0, 6)),
            hovertemplate=_hovertemplate(lang), meta={"geo": res.level}))
    unc = res.graded.get("uncertain")
    pts = res.units.loc[[u for u in res.units.index if unc is not None and yes(unc.get(u))]]
    fig.add_trace(go.Scattergeo(
        lon=pts["lon"], lat=pts["lat"], mode="markers",
        name=t("eval.r.uncertain_marker", lang),
        marker={"symbol": "circle-open", "size": 9, "color": UNCERTAIN_COLOR,
                "line": {"width": 1.4}},
        text=pts[f"name_{lang}"], hovertemplate="%{text}<extra></extra>"))
    return map_layout(fig, _bbox(ev, res))


def score_range(values: pd.Series, step: float = 5.0) -> tuple[float, float]:
    """The colour range of a score map: the scores' range widened to multiples of ``step``,
    so that the colours spread over the differences that exist (not over 0–100)."""
    v = values.dropna().astype(float)
    if v.empty:
        return 0.0, 100.0
    lo = max(0.0, math.floor(float(v.min()) / step) * step)
    hi = min(100.0, math.ceil(float(v.max()) / step) * step)
    return (lo, hi) if hi > lo else (max(0.0, lo - step), min(100.0, hi + step))


def score_map_figure(ev: Evaluation, res: LevelResult, lang: str = "zh") -> go.Figure:
    hover = _hover(ev, res, lang)
    z = res.graded["score"].reindex(hover.index)
    lo, hi = score_range(z)
    fig = go.Figure(go.Choropleth(
        geojson=GEO_PREFIX + res.level, featureidkey=FEATURE_ID_KEY, locations=hover.index,
        z=z.to_numpy(float), zmin=lo, zmax=hi, colorscale="Viridis", showscale=True,
        colorbar={"title": {"text": t("eval.r.col.score", lang)}, "thickness": 14, "len": 0.6},
        marker={"line": {"color": "white", "width": 0.6}},
        customdata=hover[["name", "grade", "score", "interval", "ranks", "uncertain"]].to_numpy(),
        hovertemplate=_hovertemplate(lang), meta={"geo": res.level},
        name=t("eval.r.col.score", lang)))
    return map_layout(fig, _bbox(ev, res))


def _bbox(ev: Evaluation, res: LevelResult) -> list[float]:
    geo = level_geo(ev, res)
    return [float(v) for v in geo.total_bounds] if geo is not None and len(geo) else []


def _cutoffs(ev: Evaluation) -> list[tuple[str, float]]:
    if ev.rules.kind != "absolute":
        return []
    return [(code, float(v)) for code, v in zip(ev.rules.codes, ev.rules.thresholds,
                                                strict=False)]


def interval_figure(ev: Evaluation, res: LevelResult, lang: str = "zh") -> go.Figure:
    """Index score of every unit with its 5–95 % interval, coloured by grade, cut-offs as
    vertical lines."""
    g = level_ranking(ev, res).iloc[::-1]
    names = g[f"name_{lang}"].astype(str).tolist()
    fig = go.Figure()
    for code in ev.rules.codes:
        sel = g[g["grade"].astype(object) == code]
        if sel.empty:
            fig.add_trace(go.Scatter(x=[], y=[], mode="markers",
                                     name=ev.rules.label(code, lang), showlegend=False))
            continue
        err = None
        if "score_low" in sel:
            err = {"type": "data", "symmetric": False,
                   "array": (sel["score_high"] - sel["score"]).to_numpy(float),
                   "arrayminus": (sel["score"] - sel["score_low"]).to_numpy(float),
                   "color": "#777", "thickness": 1.2, "width": 0}
        fig.add_trace(go.Scatter(
            x=sel["score"], y=sel[f"name_{lang}"].astype(str), mode="markers",
            name=ev.rules.label(code, lang), error_x=err,
            marker={"color": grade_color(code), "size": 8, "line": {"color": "#333", "width": 0.6}},
            hovertemplate=f"%{{y}}: %{{x:.1f}}<extra>{ev.rules.label(code, lang)}</extra>"))
    shapes = [{"type": "line", "x0": v, "x1": v, "y0": 0, "y1": 1, "yref": "paper",
               "line": {"color": "#999", "dash": "dot", "width": 1}} for _, v in _cutoffs(ev)]
    return chart_layout(fig, 120 + 16 * len(names), shapes=shapes,
                        xaxis={"range": [0, 100], "title": {"text": t("eval.r.axis.score", lang)}},
                        yaxis={"categoryorder": "array", "categoryarray": names,
                               "automargin": True, "tickfont": {"size": 11}})


def profile_figure(ev: Evaluation, res: LevelResult, lang: str = "zh") -> go.Figure:
    """Dimension scores of every unit (grouped bars), in rank order."""
    g = level_ranking(ev, res).iloc[::-1]
    fw = res.framework
    fig = go.Figure()
    for i, dim in enumerate(res.dimensions()):
        node = fw.nodes[dim]
        fig.add_trace(go.Bar(
            y=g[f"name_{lang}"].astype(str), x=g[f"score_{dim}"], orientation="h",
            name=node.name_zh if lang == "zh" else node.name_en,
            marker={"color": DIM_COLORS[i % len(DIM_COLORS)]},
            hovertemplate="%{y}: %{x:.1f}<extra>%{fullData.name}</extra>"))
    return chart_layout(fig, 120 + 30 * len(g), barmode="group",
                        xaxis={"range": [0, 100], "title": {"text": t("eval.r.axis.score", lang)}},
                        yaxis={"automargin": True, "tickfont": {"size": 11}})


def change_figure(ev: Evaluation, res: LevelResult, lang: str = "zh") -> go.Figure:
    """This run's score against the previous run's on the indicators both share, the
    diagonal = no change."""
    g = level_ranking(ev, res)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 100], y=[0, 100], mode="lines", hoverinfo="skip",
                             line={"color": "#aaa", "dash": "dash"},
                             name=t("eval.r.no_change", lang)))
    now = res.comparison.current
    for code in ev.rules.codes:
        sel = g[g["grade"].astype(object) == code]
        fig.add_trace(go.Scatter(
            x=sel["previous_score"], y=(now.reindex(sel.index) if now is not None
                                        else sel["score"]), mode="markers",
            name=ev.rules.label(code, lang), text=sel[f"name_{lang}"].astype(str),
            marker={"color": grade_color(code), "size": 8, "line": {"color": "#333", "width": 0.5}},
            hovertemplate="%{text}: %{x:.1f} → %{y:.1f}<extra></extra>"))
    prev = ev.previous_year
    return chart_layout(
        fig, 460,
        xaxis={"range": [0, 100], "title": {"text": t("eval.r.axis.previous", lang, year=prev)}},
        yaxis={"range": [0, 100], "title": {"text": t("eval.r.axis.current", lang,
                                                       year=ev.year)}})


def unit_profiles(ev: Evaluation) -> dict[str, Any]:
    """Per level, the data of the unit-profile chart: every unit's dimension and indicator
    scores (0–100, oriented so that higher is better) beside the circle's median, drawn by the
    page's own script when a unit is chosen."""
    out: dict[str, Any] = {}
    for level, res in ev.levels.items():
        fw = res.framework
        rows: list[dict[str, Any]] = []
        for dim in res.dimensions():
            rows.append({"code": dim, "zh": fw.nodes[dim].name_zh, "en": fw.nodes[dim].name_en,
                         "dim": True})
            for code in fw.indicators:
                if fw.ancestor(code, fw.n_levels - 1) == dim:
                    rows.append({"code": code, "zh": "  " + fw.nodes[code].name_zh,
                                 "en": "  " + fw.nodes[code].name_en, "dim": False})
        scores = res.scores[[r["code"] for r in rows]]
        rk = level_ranking(ev, res)
        values = np.round(scores.reindex(rk.index).to_numpy(float), 2)
        units = [{"code": str(u), "zh": str(r["name_zh"]), "en": str(r["name_en"]),
                  "rank": int(r["rank"]), "score": round(float(r["score"]), 2),
                  "values": values[i].tolist()}
                 for i, (u, r) in enumerate(rk.iterrows())]
        out[level] = {"rows": rows, "units": units,
                      "median": [round(float(v), 2) for v in scores.median()],
                      "labels": {lg: {"median": t("eval.r.circle_median", lg),
                                      "axis": t("eval.r.axis.normalised", lg)}
                                 for lg in LANGS}}
    return out


def page_figures(ev: Evaluation, lang: str) -> list[dict[str, Any]]:
    figs: list[dict[str, Any]] = []
    for level, res in ev.levels.items():
        figs.append({"id": f"fig-grades-{level}", "lazy": False, "config": MAP_CONFIG,
                     **bilingual_figure(grade_map_figure, ev, res, lang=lang)})
        figs.append({"id": f"fig-scores-{level}", "lazy": True, "config": MAP_CONFIG,
                     **bilingual_figure(score_map_figure, ev, res, lang=lang)})
        figs.append({"id": f"fig-intervals-{level}", "lazy": True, "config": CHART_CONFIG,
                     **bilingual_figure(interval_figure, ev, res, lang=lang)})
        figs.append({"id": f"fig-profile-{level}", "lazy": True, "config": CHART_CONFIG,
                     **bilingual_figure(profile_figure, ev, res, lang=lang)})
        if res.comparison.comparable and res.comparison.previous is not None:
            figs.append({"id": f"fig-change-{level}", "lazy": True, "config": CHART_CONFIG,
                         **bilingual_figure(change_figure, ev, res, lang=lang)})
    return figs


# ---------------------------------------------------------------------- document
def _counts(ev: Evaluation, grades: pd.Series) -> dict[str, int]:
    counts = grades.astype(object).value_counts()
    return {c: int(counts.get(c, 0)) for c in ev.rules.codes}


def level_summary(ev: Evaluation, res: LevelResult) -> dict[str, Any]:
    g = res.graded
    top = level_ranking(ev, res).head(5)
    unc = g["uncertain"] if "uncertain" in g else pd.Series(False, index=g.index)
    cmp = res.comparison
    return {
        "level": res.level, "name_zh": ev.framework.level_label(res.level, "zh"),
        "name_en": ev.framework.level_label(res.level, "en"), "units": len(g),
        "units_in_data": res.in_data,
        "membership": list(ev.framework.doc["levels"][res.level].get(
            "membership", ["full", "partial"])),
        "grade_counts": _counts(ev, g["grade"]),
        "grade_counts_without_survey": (_counts(ev, res.without_survey["grade"])
                                        if res.without_survey is not None else None),
        "uncertain": int(sum(yes(v) for v in unc)),
        "replications": res.replications_run,
        "top": [{"unit": u, "name_zh": r["name_zh"], "name_en": r["name_en"],
                 "score": round(float(r["score"]), 6)} for u, r in top.iterrows()],
        "indicators": list(res.framework.indicators),
        "left_out": res.left_out,
        "comparison": {"kind": cmp.kind, "shared": cmp.shared,
                       "current_only": cmp.current_only, "previous_only": cmp.previous_only},
        "saturated": res.saturated,
    }


def document(ev: Evaluation, tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The JSON twin of the report (no timestamps, so that a re-run gives the same bytes)."""
    fw = ev.framework
    levels = []
    for level, res in ev.levels.items():
        entry = level_summary(ev, res)
        for name in ("ranking", "rewards", "rectification", "framework", "survey",
                     "sensitivity"):
            key = f"{level}_{name}"
            if key in tables:
                entry[name] = jsonable(tables[key])
        levels.append(entry)
    return {
        "kind": "cocity evaluation", "year": ev.year, "edition": ev.edition.sources,
        "previous_year": ev.previous_year,
        "previous_run": ev.previous.run if ev.previous is not None else None,
        "framework": {"source": fw.source, "sha256": fw.sha256,
                      "name_zh": fw.doc.get("name_zh"), "name_en": fw.doc.get("name_en")},
        "inputs_sha256": ev.inputs_sha256(), "provenance": ev.provenance, "datum": ev.datum,
        "simulated_survey": ev.simulated_survey,
        "seed": ev.seed,
        "replications": {"asked": ev.replications_asked,
                         "run": {lv: r.replications_run for lv, r in ev.levels.items()}},
        "improvement_applies": ev.improvement_applies,
        "publication_date": ev.publication_date.isoformat(),
        "grading": ev.rules.to_dict(),
        "grade_labels": {c: {lg: ev.rules.label(c, lg) for lg in LANGS} for c in ev.rules.codes},
        "cocity_version": cocity.__version__,
        "notes": jsonable(tables["notes"]), "levels": levels,
    }


def uncertainty_inputs(ev: Evaluation, lang: str) -> str:
    """The framework's uncertain inputs in words."""
    spec = ev.framework.doc.get("uncertainty") or {}
    parts = []
    for item in spec.get("inputs", []):
        step = item.get("step")
        choices = ", ".join(str(c.get("method", c)) if isinstance(c, dict) else str(c)
                            for c in item.get("choices", []))
        noise = float(item.get("noise", 0.25))
        low, high = item.get("range", (None, None))
        parts.append(t(f"eval.r.input.{step}", lang, sets=item.get("sets", 100),
                       low=low if step == "treat" else f"{1 - noise:g}",
                       high=high if step == "treat" else f"{1 + noise:g}",
                       choices=choices, level=item.get("level"), param=item.get("param")))
    sep = "；" if lang == "zh" else "; "
    return sep.join(parts) or "—"


def replications_text(ev: Evaluation, lang: str) -> str:
    """What the uncertainty analysis ran, per level (or that it did not run)."""
    ran = {lv: r.replications_run for lv, r in ev.levels.items()}
    if not any(ran.values()):
        return t("eval.note.no_uncertainty", lang)
    return t("eval.r.replications", lang, asked=ev.replications_asked, ran=max(ran.values()))


def method_intro(ev: Evaluation, lang: str) -> str:
    """The appendix's opening sentence, from the framework: its pipeline steps and the weights
    of the dimensions (those of the first level evaluated)."""
    steps = " → ".join(
        f"{kind}({', '.join(f'{k}={v}' for k, v in (params or {}).items())})"
        for entry in (ev.framework.doc.get("pipeline") or []) for kind, params in entry.items())
    res = next(iter(ev.levels.values()))
    fw = res.framework
    total = sum(fw.nodes[d].weight for d in res.dimensions()) or 1.0
    names = {d: fw.nodes[d].name_zh if lang == "zh" else fw.nodes[d].name_en
             for d in res.dimensions()}
    weights = ", ".join(f"{names[d]} {100 * fw.nodes[d].weight / total:.0f}%"
                        for d in res.dimensions())
    return t("eval.r.method_intro", lang, steps=steps or "—", weights=weights)


def provenance_statements(ev: Evaluation, lang: str) -> dict[str, Any]:
    """The provenance of the run in words (from its provenance record)."""
    used_sources = [k for k, v in ev.edition.sources.items() if v is not None
                    and k != "survey"] + ["boundaries"]
    network = any(ev.framework.leaf(c)["measure"]["kind"] in NETWORK_MEASURES
                  for res in ev.levels.values() for c in res.framework.indicators)
    return {"data": data_sentence(ev.provenance, lang, sources=used_sources),
            "imports": import_lines(ev.provenance, lang),
            "survey": survey_sentence(ev.provenance.get("survey"), lang),
            "network": t("prov.network", lang) if network else "",
            "not_official": t("prov.not_official", lang) if ev.simulated_survey else "",
            "framework_notice": str(ev.framework.doc.get(f"notice_{lang}") or "")}


def _level_context(ev: Evaluation, res: LevelResult, tables: dict[str, pd.DataFrame]
                   ) -> dict[str, Any]:
    rk = level_ranking(ev, res)
    fw = res.framework
    dims = [(d, fw.nodes[d].name_zh, fw.nodes[d].name_en) for d in res.dimensions()]
    survey = None
    if res.survey_estimates is not None:
        est = res.survey_estimates
        ov = est[est["domain"] == "overall"].set_index("group")
        survey = ov.reindex(res.units.index)
    survey_dims = {fw.ancestor(c, fw.n_levels - 1) for c in fw.indicators
                   if ev.framework.leaf(c)["measure"]["kind"] == "survey"}
    has_change = res.comparison.comparable and "score_change" in rk
    return {
        "simulated_dims": survey_dims if ev.simulated_survey else set(),
        "level": res.level, "res": res, "summary": level_summary(ev, res), "rows": rk,
        "dims": dims, "rewards": res.rewards, "rect": res.rectification,
        "framework": tables[f"{res.level}_framework"], "survey": survey,
        "has_previous": has_change, "comparison": res.comparison,
        "without_survey": res.without_survey is not None,
        "top_k": ev.rules.top_k,
        "sobol": res.uncertainty.sobol if res.uncertainty is not None else None,
        "movers": _movers(rk) if has_change else {},
        "saturated": res.saturated,
    }


def _movers(rk: pd.DataFrame, n: int = 5) -> dict[str, pd.DataFrame]:
    """The largest rises (change > 0) and the largest falls (change < 0) only."""
    if "score_change" not in rk:
        return {}
    ch = rk.dropna(subset=["score_change"]).sort_values("score_change")
    return {"up": ch[ch["score_change"] > 0].iloc[::-1].head(n),
            "down": ch[ch["score_change"] < 0].head(n)}


def _grade_label(ev: Evaluation) -> Any:
    def label(code: Any) -> Markup:
        if not isinstance(code, str):
            return Markup("—")
        return _pair(ev.rules.label(code, "zh"), ev.rules.label(code, "en"))
    return label


def report_html(ev: Evaluation, tables: dict[str, pd.DataFrame], lang: str = "zh", *,
                files: list[str] | None = None) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    from cocity.evaluate.grades import explain

    figs = page_figures(ev, lang)
    geo = {GEO_PREFIX + lv: geojson_of(level_geo(ev, res)) for lv, res in ev.levels.items()}
    fw = ev.framework
    template = template_environment().get_template("evaluate.html.j2")
    return template.render(
        lang=lang, version=cocity.__version__, font_stack=FONT_STACK,
        plotlyjs=Markup(plotly.offline.get_plotlyjs().replace("</script", "<\\/script")),
        topojson_json=script_json(list(TOPOJSON_NAMES)), geo_json=script_json(geo),
        figures_json=script_json(figs), figure_ids={f["id"] for f in figs},
        title_zh=str(fw.doc.get("name_zh", "")), title_en=str(fw.doc.get("name_en", "")),
        notice_zh=None, notice_en=None,
        prov={lg: provenance_statements(ev, lg) for lg in LANGS},
        ev=ev, levels=[_level_context(ev, r, tables) for r in ev.levels.values()],
        grade_label=_grade_label(ev), colors=GRADE_COLORS, explain=explain,
        notes=ev.notes, files=files or [], versions=versions(), yes=yes,
        unc_zh=uncertainty_inputs(ev, "zh"), unc_en=uncertainty_inputs(ev, "en"),
        reps_zh=replications_text(ev, "zh"), reps_en=replications_text(ev, "en"),
        profiles_json=script_json(unit_profiles(ev)), dim_colors=list(DIM_COLORS),
        intro_zh=method_intro(ev, "zh"), intro_en=method_intro(ev, "en"),
        cutoffs=_cutoffs(ev))


# ---------------------------------------------------------------------- print (PDF)
def _short_name(name: str, lang: str) -> str:
    """A city's name for a map label: 成都市 → 成都, Chengdu City → Chengdu."""
    if lang == "zh":
        return name[:-1] if name.endswith("市") and len(name) > 2 else name
    return name.split(" ")[0]


def _print_figures(ev: Evaluation, res: LevelResult, lang: str) -> dict[str, Markup]:
    from cocity.report.svg import bar_chart_svg, choropleth_svg, interval_chart_svg

    level = res.level
    geo = level_geo(ev, res)
    grades = res.graded["grade"].astype(object)
    values = pd.Series({u: ev.rules.label(str(g), lang) for u, g in grades.items()
                        if isinstance(g, str)})
    colors = {ev.rules.label(c, lang): grade_color(c) for c in ev.rules.codes}
    outline = None
    if level == "county" and "prefecture" in ev.levels:
        outline = level_geo(ev, ev.levels["prefecture"])
    uncertain = [str(u) for u, v in res.graded.get("uncertain", pd.Series(dtype=object)).items()
                 if yes(v)]
    rk = level_ranking(ev, res)
    if level == "prefecture":
        labels = {str(u): _short_name(str(n), lang) for u, n in rk[f"name_{lang}"].items()}
    else:  # counties: their rank, keyed to the ranking table
        labels = {str(u): str(r) for u, r in rk["rank"].items()}
    figs = {"map": Markup(choropleth_svg(
        geo, values, colors=colors, legend_title=t("eval.r.col.grade", lang),
        highlight=uncertain, highlight_label=t("eval.r.uncertain_marker", lang),
        outline=outline, width=680, lang=lang, labels=labels,
        tolerance_px=PRINT_TOLERANCE_PX))}
    figs["cover"] = Markup(choropleth_svg(
        geo, values, colors=colors, legend=None, outline=outline, width=330, lang=lang,
        title=ev.framework.level_label(level, lang), tolerance_px=PRINT_TOLERANCE_PX))
    figs["scores"] = Markup(choropleth_svg(
        geo, res.graded["score"].astype(float), bins=5,
        legend_title=t("eval.r.col.score", lang), outline=outline, width=640, lang=lang,
        number_format=".0f", labels=labels, tolerance_px=PRINT_TOLERANCE_PX))
    chart = rk
    if len(chart) > PRINT_MAX_ROWS and "uncertain" in chart:
        # a long level prints only the units whose grade is uncertain (the table has all)
        chart = chart[[yes(v) for v in chart["uncertain"]]].head(PRINT_MAX_ROWS)
    has_iv = "score_low" in chart
    figs["intervals"] = Markup(interval_chart_svg(
        chart[f"name_{lang}"].astype(str).tolist(), chart["score"].tolist(),
        chart["score_low" if has_iv else "score"].tolist(),
        chart["score_high" if has_iv else "score"].tolist(),
        colors=[grade_color(str(g)) for g in chart["grade"].astype(object)],
        axis_title=t("eval.r.axis.score", lang), width=640, domain=(0, 100),
        row_height=16))
    if level == "prefecture":
        fw = res.framework
        figs["profile"] = Markup(bar_chart_svg(
            rk[f"name_{lang}"].astype(str).tolist(),
            {(fw.nodes[d].name_zh if lang == "zh" else fw.nodes[d].name_en):
             rk[f"score_{d}"].tolist() for d in res.dimensions()},
            colors=list(DIM_COLORS), axis_title=t("eval.r.axis.score", lang), width=640,
            domain=(0, 100), bar_height=6))
    return figs


def report_print_html(ev: Evaluation, tables: dict[str, pd.DataFrame], lang: str = "zh") -> str:
    """The report as a print page in one language, figures as inline SVG."""
    from cocity.evaluate.grades import explain
    from cocity.report.pdf import PRINT_CSS

    figures = {level: _print_figures(ev, res, lang) for level, res in ev.levels.items()}
    template = template_environment().get_template("evaluate_print.html.j2")
    return template.render(
        lang=lang, L=lambda key, **fmt: t(key, lang, **fmt), print_css=Markup(PRINT_CSS),
        title=str(ev.framework.doc.get(f"name_{lang}", "")),
        prov=provenance_statements(ev, lang), ev=ev,
        levels=[_level_context(ev, r, tables) for r in ev.levels.values()],
        figures=figures, grade=lambda c: ev.rules.label(str(c), lang) if isinstance(c, str)
        else "—", explain=explain, version=cocity.__version__, yes=yes, colors=GRADE_COLORS,
        unc_inputs=uncertainty_inputs(ev, lang), reps=replications_text(ev, lang),
        intro=method_intro(ev, lang))


# ---------------------------------------------------------------------- files
def write_run_outputs(ev: Evaluation, folder: str | Path, *, lang: str = "zh",
                      pdf: bool = True, warnings: list[str] | None = None
                      ) -> dict[str, Path]:
    """Every output of a run into ``folder`` (see the module docstring); returns their paths
    keyed ``csv:<table>``, ``xlsx``, ``xlsx:en``, ``json``, ``html``, ``pdf``, ``pdf:en``.
    A PDF that cannot be made readable (no CJK font) is left out and the reason appended to
    ``warnings``. Everything is written in this process (:func:`start_run_outputs` hands the
    slow files to worker processes)."""
    started = start_run_outputs(ev, folder, lang=lang, pdf=pdf, warnings=warnings,
                                background=Background(0))
    return {key: resolve(value) for key, value in started.items()}


def start_run_outputs(ev: Evaluation, folder: str | Path, *, background: Background,
                      lang: str = "zh", pdf: bool = True, warnings: list[str] | None = None
                      ) -> dict[str, Path | Future[Path]]:
    """The outputs of :func:`write_run_outputs`, the slow ones — the PDFs (WeasyPrint) and the
    workbooks (XlsxWriter) — handed to ``background`` as soon as their input is ready (the
    print pages first, the longest jobs), the others written here meanwhile. Returns the
    paths, a future for each file still being written; the files are the same as
    :func:`write_run_outputs`'."""
    from cocity.report.pdf import PdfUnavailableError, require_cjk_font, write_pdf

    out = Path(folder)
    tables = result_tables(ev)
    paths: dict[str, Path | Future[Path]] = {}
    if pdf:
        try:
            require_cjk_font()
        except PdfUnavailableError as exc:
            pdf = False
            if warnings is not None:
                warnings.append(str(exc))
    if pdf:
        for lg in LANGS:
            key, name = ("pdf", "report.pdf") if lg == "zh" else (f"pdf:{lg}", f"report.{lg}.pdf")
            paths[key] = background.submit(write_pdf, report_print_html(ev, tables, lg),
                                           out / name)
    for lg in LANGS:
        key, name = ("xlsx", "evaluation.xlsx") if lg == "zh" else (f"xlsx:{lg}",
                                                                    f"evaluation.{lg}.xlsx")
        sheets = {_sheet_name(ev, n, lg): sheet_frame(f, ev, lg, n) for n, f in tables.items()}
        formats = {_sheet_name(ev, n, lg): number_formats(f, ev, lg, n)
                   for n, f in tables.items()}
        paths[key] = background.submit(write_xlsx, sheets, out / name, number_formats=formats)
    for name, frame in tables.items():
        paths[f"csv:{name}"] = write_csv(csv_frame(frame, ev, name),
                                         out / "tables" / f"{name}.csv")
    if ev.survey is not None:
        from cocity.evaluate.survey import write_survey

        paths["csv:survey_responses"] = write_survey(ev.survey, out / "survey.csv")
    paths["json"] = write_atomic(json.dumps(document(ev, tables), ensure_ascii=False, indent=1,
                                            sort_keys=False, allow_nan=False) + "\n",
                                 out / "evaluation.json")
    files = ["evaluation.xlsx", "evaluation.en.xlsx", "evaluation.json",
             f"tables/*.csv ({len(tables)})"]
    if ev.survey is not None:
        files.append("survey.csv")
    if pdf:
        files += ["report.pdf", "report.en.pdf"]
    paths["html"] = write_atomic(report_html(ev, tables, lang, files=files),
                                 out / "report.html")
    return paths


def _sheet_name(ev: Evaluation, table: str, lang: str) -> str:
    """A workbook sheet's name: ``县级单元·排名`` / ``County level · ranking``."""
    level, _, kind = table.partition("_")
    if level not in ev.levels:
        return t(f"eval.sheet.{table}", lang)[:31]
    return t("eval.sheet.level", lang, level=ev.framework.level_label(level, lang),
             table=t(f"eval.sheet.{kind}", lang))[:31]
