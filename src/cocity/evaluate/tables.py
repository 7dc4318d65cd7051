"""The result tables of an evaluation run, as data frames with stable column names: the same
content goes to CSV files, the Excel workbook, the JSON document and the report."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cocity.evaluate.grades import GradingRules, explain
from cocity.evaluate.run import Evaluation, LevelResult
from cocity.i18n import LANGS


def _names(res: LevelResult) -> pd.DataFrame:
    return res.units[["name_zh", "name_en", "parent"]].rename_axis("unit")


def ranking(res: LevelResult, previous: pd.Series | None = None,
            rules: GradingRules | None = None) -> pd.DataFrame:
    """One row per unit, best first: names, index score and rank with their 5–95 % intervals,
    dimension scores, grade, why (``reason_zh``/``reason_en``) and whether it is uncertain,
    change on the previous run."""
    g = res.graded
    out = _names(res).join(g.drop(columns=[c for c in ("name_zh", "name_en", "parent",
                                                       "reason_params") if c in g.columns]))
    for lang in LANGS:
        out[f"reason_{lang}"] = [explain(row, lang, rules) for _, row in
                                 g.reindex(out.index).iterrows()]
    for dim in res.dimensions():
        out[f"score_{dim}"] = res.scores[dim].reindex(out.index)
    if previous is not None:
        out["previous_score"] = previous.reindex(out.index)
        out["score_change"] = out["score"] - out["previous_score"]
    out["simulated_survey"] = bool(res.survey_estimates is not None and
                                   bool(res.survey_estimates.get(
                                       "simulated", pd.Series([False])).any()))
    return out.sort_values(["rank", "score"], ascending=[True, False])


def indicators(res: LevelResult) -> pd.DataFrame:
    """Long table: unit, indicator, derived value, value used (after imputation), imputed
    flag, normalised score, obstacle degree (%)."""
    cols = res.framework.indicators
    used = res.pipeline.data.get("impute", res.pipeline.raw)
    parts = {"value": res.pipeline.raw[cols], "value_used": used[cols],
             "imputed": res.imputed[cols], "normalised": res.pipeline.data["normalise"][cols],
             "obstacle_pct": res.obstacles[cols]}
    out = pd.DataFrame({name: frame.stack(future_stack=True) for name, frame in parts.items()})
    out.index.names = ["unit", "indicator"]
    return out.reset_index()


def framework_table(ev: Evaluation, res: LevelResult) -> pd.DataFrame:
    """The indicators of a level as evaluated: names, dimension, direction, weight, effective
    weight, goalposts, measure, data year, unit of measure, what it measures."""
    fw = res.framework
    eff = fw.leaf_weights()
    rows = []
    for code in fw.indicators:
        node, spec = fw.nodes[code], ev.framework.leaf(code)
        m = dict(spec["measure"])
        kind = m.pop("kind")
        # measures without a source read the census (population weights) or the survey
        source = m.get("source", "survey" if kind == "survey" else "census")
        rows.append({
            "indicator": code, "name_zh": node.name_zh, "name_en": node.name_en,
            "dimension": fw.ancestor(code, fw.n_levels - 1), "direction": node.direction,
            "weight": node.weight, "effective_weight": float(eff[code]),
            "lower": node.lower, "upper": node.upper, "measure": kind,
            "parameters": ", ".join(f"{k}={v}" for k, v in m.items()),
            "data_year": ev.edition.sources.get(str(source)),
            "unit_zh": spec.get("unit_zh", ""), "unit_en": spec.get("unit_en", ""),
            "about_zh": spec.get("about_zh", ""), "about_en": spec.get("about_en", ""),
        })
    return pd.DataFrame(rows)


def result_tables(ev: Evaluation) -> dict[str, pd.DataFrame]:
    """Every table of a run, keyed ``<level>_<table>`` (plus ``notes``)."""
    tables: dict[str, pd.DataFrame] = {}
    for level, res in ev.levels.items():
        tables[f"{level}_ranking"] = ranking(res, ev.previous_scores.get(level),
                                             ev.rules).reset_index()
        tables[f"{level}_rewards"] = res.rewards.reset_index(drop=res.rewards.index.name is None)
        tables[f"{level}_rectification"] = res.rectification.reset_index(
            drop=res.rectification.index.name is None)
        tables[f"{level}_indicators"] = indicators(res)
        tables[f"{level}_framework"] = framework_table(ev, res)
        if res.survey_estimates is not None:
            tables[f"{level}_survey"] = res.survey_estimates
        if res.uncertainty is not None and not res.uncertainty.sobol.empty:
            tables[f"{level}_sensitivity"] = res.uncertainty.sobol.reset_index()
    tables["notes"] = pd.DataFrame([{"kind": n.kind, "level": n.level, "zh": n.zh, "en": n.en}
                                    for n in ev.notes], columns=["kind", "level", "zh", "en"])
    return tables


def jsonable(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Records with NaN as null and numpy scalars as Python numbers."""
    clean = frame.astype(object).where(frame.notna(), None)
    out = []
    for rec in clean.to_dict("records"):
        out.append({str(k): (v.item() if isinstance(v, np.generic) else v)
                    for k, v in rec.items()})
    return out
