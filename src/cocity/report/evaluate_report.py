"""The public report of an evaluation run (公共服务评价年度报告) and its machine-readable twins.

:func:`write_run_outputs` writes, into one run folder:

- ``tables/<level>_<table>.csv`` — ranking (scores, 5–95 % intervals, dimension scores, grade,
  uncertain flag, change), rewards, rectification (with obstacles and deadline), indicator
  values (derived, imputed flag, normalised, obstacle degree), framework, survey estimates,
  sensitivity; ``notes.csv``;
- ``survey.csv`` — the survey responses used (the simulated ones flagged in every row);
- ``evaluation.xlsx`` — the same tables, one sheet each, for officials;
- ``evaluation.json`` — the same content for machines (deterministic: no timestamps);
- ``report.html`` — one self-contained bilingual page (简体中文 first, switch in the page; no
  network request): headline, grade and score maps on the real boundaries, rankings with
  uncertainty intervals, dimension profiles, reward and rectification lists, year-on-year
  change, methodology appendix;
- ``report.pdf`` (简体中文) and ``report.en.pdf`` (English) — the same report for print
  (WeasyPrint, static SVG figures).

Anything depending on a simulated survey says so wherever it shows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.offline
from markupsafe import Markup

import cocity
from cocity.evaluate.run import Evaluation, LevelResult
from cocity.evaluate.tables import jsonable, ranking, result_tables
from cocity.i18n import LANGS, t
from cocity.outputs import versions, write_csv, write_xlsx
from cocity.outputs import write_atomic as write_text
from cocity.report.maps import FEATURE_ID_KEY, flat_colorscale, map_layout
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

GRADE_COLORS = {"excellent": "#1a9850", "good": "#91cf60", "pass": "#fee08b",
                "fail": "#d73027"}
DIM_COLORS = ("#1f5f99", "#e08214", "#7b3294", "#1b9e77")
UNCERTAIN_COLOR = "#222222"
PRINT_MAX_ROWS = 60


def yes(value: Any) -> bool:
    """True for a true flag; False for false, missing (NA, NaN, None) or absent."""
    try:
        return bool(pd.notna(value) and value)
    except (TypeError, ValueError):
        return False


def grade_color(code: str) -> str:
    return GRADE_COLORS.get(code, "#bdbdbd")


def display_names(ev: Evaluation, frame: pd.DataFrame, lang: str) -> list[str]:
    """Unit names for chart axes, made unique: a name shared by several units (市中区) gets
    its prefecture's name added."""
    names = frame[f"name_{lang}"].astype(str)
    dup = names.duplicated(keep=False)
    units = ev.geo.set_index("code") if ev.geo is not None else None
    out = []
    for name, parent, is_dup in zip(names, frame["parent"], dup, strict=True):
        if is_dup and units is not None and parent in units.index:
            p = str(units.at[parent, f"name_{lang}"])
            out.append(f"{name}（{p}）" if lang == "zh" else f"{name} ({p})")
        else:
            out.append(name)
    return out


# ---------------------------------------------------------------------- geometry
def level_geo(ev: Evaluation, res: LevelResult) -> Any:
    """Boundaries of the evaluated units; a prefecture partly in the circle is drawn as the
    union of its member counties (its part of the circle)."""
    geo = ev.geo
    if geo is None:
        return None
    own = geo[geo["code"].isin(res.units.index)].copy()
    if res.level == "prefecture":
        county = geo[geo["level"] == "county"]
        for code in res.units.index[res.units["membership"] == "partial"]:
            members = county[(county["parent"] == code) &
                             county["membership"].isin(["full", "partial"])]
            if len(members):
                own.loc[own["code"] == code, "geometry"] = members.geometry.union_all()
    return own.reset_index(drop=True)


def _hover(ev: Evaluation, res: LevelResult, lang: str) -> pd.DataFrame:
    g = ranking(res, ev.previous_scores.get(res.level), ev.rules)
    out = pd.DataFrame(index=g.index)
    out["name"] = g[f"name_{lang}"].astype(str)
    out["grade"] = [ev.rules.label(str(c), lang) if isinstance(c, str) else "—"
                    for c in g["grade"]]
    out["score"] = [f"{v:.1f}" for v in g["score"]]
    if "score_low" in g:
        out["interval"] = [f"{a:.1f}–{b:.1f}" for a, b in zip(g["score_low"], g["score_high"],
                                                               strict=True)]
        out["ranks"] = [f"{int(r)} ({a:.0f}–{b:.0f})" for r, a, b in
                        zip(g["rank"], g["rank_low"], g["rank_high"], strict=True)]
    else:
        out["interval"] = "—"
        out["ranks"] = [f"{int(r)}" for r in g["rank"]]
    unc = g["uncertain"] if "uncertain" in g else pd.Series(False, index=g.index)
    out["uncertain"] = [t("eval.r.uncertain_yes", lang) if bool(u) is True else ""
                        for u in unc.fillna(False)]
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
    pts = res.units.loc[[u for u in res.units.index if unc is not None and
                         bool(pd.notna(unc.get(u)) and unc.get(u))]]
    fig.add_trace(go.Scattergeo(
        lon=pts["lon"], lat=pts["lat"], mode="markers",
        name=t("eval.r.uncertain_marker", lang),
        marker={"symbol": "circle-open", "size": 9, "color": UNCERTAIN_COLOR,
                "line": {"width": 1.4}},
        text=pts[f"name_{lang}"], hovertemplate="%{text}<extra></extra>"))
    return map_layout(fig, _bbox(ev, res))


def score_map_figure(ev: Evaluation, res: LevelResult, lang: str = "zh") -> go.Figure:
    hover = _hover(ev, res, lang)
    fig = go.Figure(go.Choropleth(
        geojson=GEO_PREFIX + res.level, featureidkey=FEATURE_ID_KEY, locations=hover.index,
        z=res.graded["score"].reindex(hover.index).to_numpy(float), zmin=0, zmax=100,
        colorscale="Viridis", showscale=True,
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
    g = ranking(res, ev.previous_scores.get(res.level), ev.rules).iloc[::-1]
    g["label"] = display_names(ev, g, lang)
    names = g["label"].tolist()
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
            x=sel["score"], y=sel["label"], mode="markers",
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
    g = ranking(res, ev.previous_scores.get(res.level), ev.rules).iloc[::-1]
    fw = res.framework
    fig = go.Figure()
    for i, dim in enumerate(res.dimensions()):
        node = fw.nodes[dim]
        fig.add_trace(go.Bar(
            y=display_names(ev, g, lang), x=g[f"score_{dim}"], orientation="h",
            name=node.name_zh if lang == "zh" else node.name_en,
            marker={"color": DIM_COLORS[i % len(DIM_COLORS)]},
            hovertemplate="%{y}: %{x:.1f}<extra>%{fullData.name}</extra>"))
    return chart_layout(fig, 120 + 30 * len(g), barmode="group",
                        xaxis={"range": [0, 100], "title": {"text": t("eval.r.axis.score", lang)}},
                        yaxis={"automargin": True, "tickfont": {"size": 11}})


def change_figure(ev: Evaluation, res: LevelResult, lang: str = "zh") -> go.Figure:
    """This run's score against the previous run's, the diagonal = no change."""
    g = ranking(res, ev.previous_scores.get(res.level), ev.rules)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 100], y=[0, 100], mode="lines", hoverinfo="skip",
                             line={"color": "#aaa", "dash": "dash"},
                             name=t("eval.r.no_change", lang)))
    for code in ev.rules.codes:
        sel = g[g["grade"].astype(object) == code]
        fig.add_trace(go.Scatter(
            x=sel["previous_score"], y=sel["score"], mode="markers",
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
        rk = ranking(res, rules=ev.rules)
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
        if ev.previous_scores.get(level) is not None:
            figs.append({"id": f"fig-change-{level}", "lazy": True, "config": CHART_CONFIG,
                         **bilingual_figure(change_figure, ev, res, lang=lang)})
    return figs


# ---------------------------------------------------------------------- document
def level_summary(ev: Evaluation, res: LevelResult) -> dict[str, Any]:
    g = res.graded
    counts = g["grade"].astype(object).value_counts()
    top = ranking(res, rules=ev.rules).head(5)
    unc = g["uncertain"] if "uncertain" in g else pd.Series(False, index=g.index)
    return {
        "level": res.level, "name_zh": ev.framework.level_label(res.level, "zh"),
        "name_en": ev.framework.level_label(res.level, "en"), "units": len(g),
        "grade_counts": {c: int(counts.get(c, 0)) for c in ev.rules.codes},
        "uncertain": int(unc.fillna(False).astype(bool).sum()),
        "top": [{"unit": u, "name_zh": r["name_zh"], "name_en": r["name_en"],
                 "score": round(float(r["score"]), 6)} for u, r in top.iterrows()],
        "indicators": list(res.framework.indicators),
        "left_out": res.left_out,
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
        "framework": {"source": fw.source, "sha256": fw.sha256,
                      "name_zh": fw.doc.get("name_zh"), "name_en": fw.doc.get("name_en")},
        "inputs_sha256": ev.inputs_sha256(), "dataset": ev.source, "datum": ev.datum,
        "simulated_survey": ev.simulated_survey,
        "survey_source": getattr(ev.survey, "source", None),
        "seed": ev.seed, "replications": ev.replications,
        "publication_date": ev.publication_date.isoformat(),
        "grading": ev.rules.to_dict(), "cocity_version": cocity.__version__,
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


def _level_context(ev: Evaluation, res: LevelResult, tables: dict[str, pd.DataFrame]
                   ) -> dict[str, Any]:
    rk = ranking(res, ev.previous_scores.get(res.level), ev.rules)
    fw = res.framework
    dims = [(d, fw.nodes[d].name_zh, fw.nodes[d].name_en) for d in res.dimensions()]
    survey = None
    if res.survey_estimates is not None:
        est = res.survey_estimates
        ov = est[est["domain"] == "overall"].set_index("group")
        survey = ov.reindex(res.units.index)
    survey_dims = {fw.ancestor(c, fw.n_levels - 1) for c in fw.indicators
                   if ev.framework.leaf(c)["measure"]["kind"] == "survey"}
    return {
        "simulated_dims": survey_dims if ev.simulated_survey else set(),
        "level": res.level, "res": res, "summary": level_summary(ev, res), "rows": rk,
        "dims": dims, "rewards": res.rewards, "rect": res.rectification,
        "framework": tables[f"{res.level}_framework"], "survey": survey,
        "has_previous": ev.previous_scores.get(res.level) is not None,
        "top_k": ev.rules.top_k,
        "sobol": res.uncertainty.sobol if res.uncertainty is not None else None,
        "movers": _movers(rk),
    }


def _movers(rk: pd.DataFrame, n: int = 5) -> dict[str, pd.DataFrame]:
    if "score_change" not in rk:
        return {}
    ch = rk.dropna(subset=["score_change"]).sort_values("score_change")
    return {"up": ch.iloc[::-1].head(n), "down": ch.head(n)}


def _grade_label(ev: Evaluation) -> Any:
    def label(code: Any) -> Markup:
        from cocity.report.render import _pair  # the shared bilingual span

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
        notice_zh=str(fw.doc.get("notice_zh") or ""), notice_en=str(fw.doc.get("notice_en") or ""),
        ev=ev, levels=[_level_context(ev, r, tables) for r in ev.levels.values()],
        grade_label=_grade_label(ev), colors=GRADE_COLORS, explain=explain,
        notes=ev.notes, files=files or [], versions=versions(), yes=yes,
        unc_zh=uncertainty_inputs(ev, "zh"), unc_en=uncertainty_inputs(ev, "en"),
        profiles_json=script_json(unit_profiles(ev)), dim_colors=list(DIM_COLORS),
        intro_zh=method_intro(ev, "zh"), intro_en=method_intro(ev, "en"),
        cutoffs=_cutoffs(ev))


# ---------------------------------------------------------------------- print (PDF)
def report_print_html(ev: Evaluation, tables: dict[str, pd.DataFrame], lang: str = "zh") -> str:
    """The report as a print page in one language, figures as inline SVG."""
    from cocity.report.pdf import PRINT_CSS
    from cocity.report.svg import bar_chart_svg, choropleth_svg, interval_chart_svg

    figures: dict[str, dict[str, Markup]] = {}
    for level, res in ev.levels.items():
        geo = level_geo(ev, res)
        grades = res.graded["grade"].astype(object)
        values = pd.Series({u: ev.rules.label(str(g), lang) for u, g in grades.items()
                            if isinstance(g, str)})
        colors = {ev.rules.label(c, lang): grade_color(c) for c in ev.rules.codes}
        outline = None
        if level == "county":
            outline = level_geo(ev, ev.levels["prefecture"]) if "prefecture" in ev.levels \
                else None
        uncertain = [str(u) for u, v in res.graded.get("uncertain", pd.Series(dtype=object)).items()
                     if pd.notna(v) and bool(v)]
        figs = {"map": Markup(choropleth_svg(
            geo, values, colors=colors, legend_title=t("eval.r.col.grade", lang),
            highlight=uncertain, highlight_label=t("eval.r.uncertain_marker", lang),
            outline=outline, width=640, lang=lang))}
        figs["cover"] = Markup(choropleth_svg(
            geo, values, colors=colors, legend=None, outline=outline, width=330, lang=lang,
            title=ev.framework.level_label(level, lang)))
        rk = ranking(res, ev.previous_scores.get(level), ev.rules)
        if len(rk) > PRINT_MAX_ROWS and "uncertain" in rk:
            # a long level prints only the units whose grade is uncertain (the table has all)
            rk = rk[rk["uncertain"].fillna(False).astype(bool)].head(PRINT_MAX_ROWS)
        has_iv = "score_low" in rk
        figs["intervals"] = Markup(interval_chart_svg(
            display_names(ev, rk, lang), rk["score"].tolist(),
            rk["score_low" if has_iv else "score"].tolist(),
            rk["score_high" if has_iv else "score"].tolist(),
            colors=[grade_color(str(g)) for g in rk["grade"].astype(object)],
            axis_title=t("eval.r.axis.score", lang), width=640, domain=(0, 100),
            row_height=16))
        if level == "prefecture":
            fw = res.framework
            figs["profile"] = Markup(bar_chart_svg(
                display_names(ev, rk, lang),
                {(fw.nodes[d].name_zh if lang == "zh" else fw.nodes[d].name_en):
                 rk[f"score_{d}"].tolist() for d in res.dimensions()},
                colors=list(DIM_COLORS), axis_title=t("eval.r.axis.score", lang), width=640,
                domain=(0, 100)))
        figures[level] = figs
    template = template_environment().get_template("evaluate_print.html.j2")
    from cocity.evaluate.grades import explain

    return template.render(
        lang=lang, L=lambda key, **fmt: t(key, lang, **fmt), print_css=Markup(PRINT_CSS),
        title=str(ev.framework.doc.get(f"name_{lang}", "")),
        notice=str(ev.framework.doc.get(f"notice_{lang}") or ""), ev=ev,
        levels=[_level_context(ev, r, tables) for r in ev.levels.values()],
        figures=figures, grade=lambda c: ev.rules.label(str(c), lang) if isinstance(c, str)
        else "—", explain=explain, version=cocity.__version__, yes=yes, colors=GRADE_COLORS,
        unc_inputs=uncertainty_inputs(ev, lang), intro=method_intro(ev, lang))


# ---------------------------------------------------------------------- files
def write_run_outputs(ev: Evaluation, folder: str | Path, *, lang: str = "zh",
                      pdf: bool = True) -> dict[str, Path]:
    """Every output of a run into ``folder`` (see the module docstring); returns their paths
    keyed ``csv:<table>``, ``xlsx``, ``json``, ``html``, ``pdf``."""
    out = Path(folder)
    tables = result_tables(ev)
    paths: dict[str, Path] = {}
    for name, frame in tables.items():
        paths[f"csv:{name}"] = write_csv(frame, out / "tables" / f"{name}.csv", index=False)
    if ev.survey is not None:
        from cocity.evaluate.survey import write_survey

        paths["csv:survey_responses"] = write_survey(ev.survey, out / "survey.csv")
    paths["xlsx"] = write_xlsx(tables, out / "evaluation.xlsx",
                               index=dict.fromkeys(tables, False))
    paths["json"] = write_text(json.dumps(document(ev, tables), ensure_ascii=False, indent=1,
                                          sort_keys=False, allow_nan=False) + "\n",
                               out / "evaluation.json")
    files = ["evaluation.xlsx", "evaluation.json", f"tables/*.csv ({len(tables)})"]
    if ev.survey is not None:
        files.append("survey.csv")
    if pdf:
        files += ["report.pdf", "report.en.pdf"]
    paths["html"] = write_atomic(report_html(ev, tables, lang, files=files),
                                 out / "report.html")
    if pdf:
        from cocity.report.pdf import write_pdf

        for lg in LANGS:
            key, name = ("pdf", "report.pdf") if lg == "zh" else (f"pdf:{lg}", f"report.{lg}.pdf")
            paths[key] = write_pdf(report_print_html(ev, tables, lg), out / name)
    return paths
