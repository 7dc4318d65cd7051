"""The page and files of ``cocity plan pair`` (:class:`cocity.report.plan_page.PlanReport` of a
:class:`cocity.plan.pairing_run.PairingRun`): the three solutions as tables and as line layers
helper → helped unit, the comparison, the benefit terms of every candidate pair and the obstacle
shares by dimension, a heat map of the benefit matrix, and the notes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from cocity.i18n import LANGS, t
from cocity.report.plan_page import Layer, PlanReport, PlanTable, write_plan_report

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from cocity.data.store import Store
    from cocity.plan.pairing_run import PairingRun, Solution

KIND = "pair"
LABELS = "plan.pair.col"
COLORS = {"optimum": "#d62728", "text": "#1f77b4", "text_optimum": "#2ca02c"}
PAIR_COLUMNS = ["helper", "helper_zh", "helper_en", "helped", "helped_zh", "helped_en",
                "helped_score", "benefit", "minutes", "value", "fixes", "fixes_zh",
                "fixes_en", "forms_zh", "forms_en"]


def _f(frame: pd.DataFrame, row: str, col: str) -> float:
    return float(cast(Any, frame.at[row, col]))


def _s(frame: pd.DataFrame, row: str, col: str) -> str:
    return str(frame.at[row, col])


def _both(key: str, **fmt: Any) -> tuple[str, str]:
    return t(key, "zh", **fmt), t(key, "en", **fmt)


def _solutions(run: PairingRun) -> list[Solution]:
    return [s for s in (run.optimum, run.text, run.text_optimum) if s is not None]


def _line_layer(run: PairingRun, sol: Solution) -> Layer:
    units = run.region.units
    rows = []
    for rec in sol.pairs.to_dict("records"):
        h, u = str(rec["helper"]), str(rec["helped"])
        rows.append({
            "path": [(_f(units, h, "lon"), _f(units, h, "lat")),
                     (_f(units, u, "lon"), _f(units, u, "lat"))],
            "label_zh": f"{rec['helper_zh']} → {rec['helped_zh']}：收益 {rec['benefit']:.1f} 分，"
                        f"{rec['minutes']:.0f} 分钟；{rec['forms_zh']}",
            "label_en": f"{rec['helper_en']} → {rec['helped_en']}: benefit "
                        f"{rec['benefit']:.1f} points, {rec['minutes']:.0f} min; {rec['forms_en']}",
            "helper": h, "helped": u, "benefit": rec["benefit"], "minutes": rec["minutes"],
        })
    zh, en = _both(f"plan.pair.layer.{sol.key}")
    return Layer(sol.key, zh, en, "lines", pd.DataFrame(rows), color=COLORS[sol.key],
                 flag="simulated" if run.simulated else None)


def _point_layer(run: PairingRun, key: str, codes: list[str], color: str) -> Layer:
    units = run.region.units
    view = run.view
    rows = [{"lon": _f(units, c, "lon"), "lat": _f(units, c, "lat"),
             "label_zh": f"{_s(view.units, c, 'name_zh')}（得分 {_f(view.units, c, 'score'):.1f}）",
             "label_en": f"{_s(view.units, c, 'name_en')} (score {_f(view.units, c, 'score'):.1f})",
             "unit": c, "score": round(_f(view.units, c, "score"), 2)} for c in codes]
    zh, en = _both(f"plan.pair.layer.{key}")
    return Layer(key, zh, en, "points", pd.DataFrame(rows), color=color)


def summary_table(run: PairingRun) -> pd.DataFrame:
    """One row per solution: its pairs, objective, benefit, minutes, and whether it keeps the
    capacities (with what it breaks)."""
    rows = []
    for sol in _solutions(run):
        p = sol.pairing
        rows.append({
            "solution": sol.key,
            "solution_zh": t(f"plan.pair.solution.{sol.key}", "zh"),
            "solution_en": t(f"plan.pair.solution.{sol.key}", "en"),
            "pairs_zh": "；".join(f"{h}→{u}" for h, u in zip(
                sol.pairs["helper_zh"], sol.pairs["helped_zh"], strict=True)),
            "pairs_en": "; ".join(f"{h}→{u}" for h, u in zip(
                sol.pairs["helper_en"], sol.pairs["helped_en"], strict=True)),
            "objective": round(p.objective, 3), "benefit": round(p.benefit, 3),
            "minutes": round(p.minutes, 1),
            "feasible": sol.score.feasible if sol.score is not None else True,
            "problems": "; ".join(sol.score.problems) if sol.score is not None else "",
            "simulated": run.simulated,
        })
    return pd.DataFrame(rows)


def benefit_table(run: PairingRun) -> pd.DataFrame:
    """Every candidate pair of the solutions' helpers and helped units: benefit, minutes and
    net value b − λ·hours."""
    helpers = list(dict.fromkeys(c for s in _solutions(run) for c in s.helpers))
    helped = list(dict.fromkeys(c for s in _solutions(run) for c in s.helped))
    u = run.view.units
    rows = []
    for h in helpers:
        for j in helped:
            if h == j:
                continue
            b = _f(run.benefit, h, j)
            m = _f(run.minutes, h, j)
            rows.append({"helper": h, "helper_zh": u.at[h, "name_zh"],
                         "helper_en": u.at[h, "name_en"], "helped": j,
                         "helped_zh": u.at[j, "name_zh"], "helped_en": u.at[j, "name_en"],
                         "benefit": round(b, 3), "minutes": round(m, 1),
                         "value": round(b - run.time_weight * m / 60.0, 3)})
    return pd.DataFrame(rows)


def weights_table(run: PairingRun) -> pd.DataFrame:
    """Per helped unit of any solution and dimension: its dimension score and the share of its
    obstacle degree in that dimension (the weights w_jd of the benefit)."""
    helped = list(dict.fromkeys(c for s in _solutions(run) for c in s.helped))
    helpers = list(dict.fromkeys(c for s in _solutions(run) for c in s.helpers))
    v = run.view
    rows = []
    for c in helpers + helped:
        for d in run.dimensions:
            rows.append({"unit": c, "name_zh": v.units.at[c, "name_zh"],
                         "name_en": v.units.at[c, "name_en"], "dimension": d,
                         "dimension_zh": v.dim_names[d][0], "dimension_en": v.dim_names[d][1],
                         "dim_score": round(_f(v.dim_scores, c, d), 3),
                         "weight": round(_f(run.weights, c, d), 4)})
    return pd.DataFrame(rows)


def _heatmap(run: PairingRun, *, lang: str = "zh") -> go.Figure:
    import plotly.graph_objects as go

    frame = benefit_table(run)
    col = "helper_zh" if lang == "zh" else "helper_en"
    ucol = "helped_zh" if lang == "zh" else "helped_en"
    wide = frame.pivot(index=col, columns=ucol, values="benefit")
    fig = go.Figure(go.Heatmap(z=wide.to_numpy(), x=list(wide.columns), y=list(wide.index),
                               colorscale="Reds", texttemplate="%{z:.1f}",
                               colorbar={"title": t("plan.pair.col.benefit", lang)}))
    fig.update_layout(height=260 + 20 * len(wide.index), margin={"l": 90, "r": 20, "t": 30,
                                                                  "b": 60})
    return fig


def build_report(run: PairingRun) -> PlanReport:
    """The :class:`PlanReport` of a pairing run."""
    v = run.view
    sols = _solutions(run)
    cards: list[tuple[str, str, str]] = [(f"{run.optimum.pairing.objective:.2f}",
                                          *_both("plan.pair.card.objective"))]
    if run.text is not None and run.text_optimum is not None:
        gap = run.text_optimum.pairing.objective - run.text.pairing.objective
        cards += [(f"{run.text.pairing.objective:.2f}", *_both("plan.pair.card.text")),
                  (f"{run.text_optimum.pairing.objective:.2f}",
                   *_both("plan.pair.card.text_optimum")),
                  (f"{gap:.2f}", *_both("plan.pair.card.gap"))]
    tables = [PlanTable("summary", summary_table(run), *_both("plan.pair.table.summary"),
                        labels=LABELS)]
    tables += [PlanTable(f"pairs_{s.key}", s.pairs[PAIR_COLUMNS],
                         *_both(f"plan.pair.table.{s.key}"), labels=LABELS) for s in sols]
    tables += [PlanTable("benefit", benefit_table(run), *_both("plan.pair.table.benefit"),
                         labels=LABELS),
               PlanTable("weights", weights_table(run), *_both("plan.pair.table.weights"),
                         labels=LABELS)]
    layers = [_line_layer(run, s) for s in sols]
    helpers = list(dict.fromkeys(c for s in sols for c in s.helpers))
    helped = list(dict.fromkeys(c for s in sols for c in s.helped))
    layers += [_point_layer(run, "helpers", helpers, "#222222"),
               _point_layer(run, "helped", helped, "#ff7f0e")]
    level_name = {lang: t(f"plan.region.level.{v.level}", lang) for lang in LANGS}
    notes = [*run.notes, _both("plan.pair.note.objective", lam=f"{run.time_weight:g}"),
             _both("plan.pair.note.fixes")]
    notice = _both("plan.pair.note.with_survey") if run.simulated else None
    config = {"level": v.level, "year": v.year, "run": v.run, "time_weight": run.time_weight,
              "with_survey": run.with_survey,
              "helpers": {c: int(k) for c, k in zip(run.optimum.helpers,
                                                    run.optimum.capacity, strict=True)},
              "helped": run.optimum.helped, "helped_default": run.helped_default}
    facts = {"objective": {s.key: s.pairing.objective for s in sols},
             "simulated": run.simulated, "evaluation": v.source}
    return PlanReport(
        kind=KIND, title_zh=t("plan.pair.page.title", "zh"),
        title_en=t("plan.pair.page.title", "en"),
        subtitle_zh=t("plan.pair.page.subtitle", "zh", level=level_name["zh"],
                      source=v.source["zh"]),
        subtitle_en=t("plan.pair.page.subtitle", "en", level=level_name["en"],
                      source=v.source["en"]),
        cards=cards, tables=tables, layers=layers, notes=notes, notice=notice,
        figures=[(*_both("plan.pair.figure.heatmap"), "heatmap",
                  lambda lang="zh": _heatmap(run, lang=lang))],
        provenance=v.provenance, config=config, facts=facts)


def write_pairing(run: PairingRun, out: str | Path, *, store: Store,
                  lang: str = "zh") -> dict[str, Path]:
    """Write the files of ``run`` into ``out`` (tables, workbook, layers, page, manifest)."""
    from cocity.plan.region import load_boundaries

    return write_plan_report(build_report(run), out, boundaries=load_boundaries(store),
                             lang=lang)
