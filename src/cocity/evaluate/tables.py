"""The result tables of an evaluation run.

One frame per table with stable machine column names (the JSON document and the report read
these), and their two human forms:

- :func:`csv_frame` — what ``tables/<name>.csv`` holds: every column labelled
  ``中文名 (key)`` (Chinese first, the machine key beside it, so that :func:`read_table` reads it
  back), grade names in Chinese (``grade_en`` beside), yes/no as 是/否, ranks as integers and
  numbers rounded for reading (scores to 2 decimals, shares in per cent to 1 decimal);
  indicator values keep their precision (they are data);
- :func:`sheet_frame` — a sheet of the workbook in one language: labels in that language
  only, the other language's duplicate columns left out, values as in the CSV; the number
  formats of the sheet come from :func:`number_formats`.

Column labels are data: ``eval.col.<key>`` in ``i18n/evaluate_columns.yaml``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cocity.evaluate.grades import GradingRules, explain
from cocity.evaluate.run import Evaluation, LevelResult
from cocity.i18n import LANGS, labels, t

# -------------------------------------------------------------------- the tables (machine form)


def ranking(res: LevelResult, rules: GradingRules, *, simulated: bool = False) -> pd.DataFrame:
    """One row per unit, best first (index: unit code): names, index score with its 5–95 %
    interval, integer rank and whole-rank interval, grade (code) with its base grade, interval
    and probabilities, whether it is uncertain, why (``reason_zh``/``reason_en``), dimension
    scores, the like-for-like change on the previous edition, and — when the survey is
    simulated — the score and grade without the survey-based indicators."""
    g = res.graded
    out = res.units[["name_zh", "name_en", "parent"]].rename_axis("unit").copy()
    out["score"] = g["score"].reindex(out.index)
    for col in ("score_low", "score_high"):
        if col in g:
            out[col] = g[col].reindex(out.index)
    for col in ("rank", "rank_low", "rank_high"):
        if col in g:
            out[col] = pd.array(np.round(g[col].reindex(out.index).to_numpy(float)),
                                dtype="Int64")
    out["grade"] = g["grade"].reindex(out.index).astype(object)
    out["base_grade"] = g["base_grade"].reindex(out.index).astype(object)
    for col in ("grade_low", "grade_high"):
        if col in g:
            out[col] = g[col].reindex(out.index).astype(object)
    if "uncertain" in g:
        out["uncertain"] = g["uncertain"].reindex(out.index)
    for code in rules.codes:
        if f"share_{code}" in g:
            out[f"share_{code}"] = g[f"share_{code}"].reindex(out.index)
    for lang in LANGS:
        out[f"reason_{lang}"] = [explain(row, lang, rules) for _, row in
                                 g.reindex(out.index).iterrows()]
    for dim in res.dimensions():
        out[f"score_{dim}"] = res.scores[dim].reindex(out.index)
    cmp = res.comparison
    if cmp.current is not None and cmp.previous is not None:
        out["previous_score"] = cmp.previous.reindex(out.index)
        out["score_change"] = (cmp.current - cmp.previous).reindex(out.index)
    if res.without_survey is not None:
        out["score_without_survey"] = res.without_survey["score"].reindex(out.index)
        out["grade_without_survey"] = res.without_survey["grade"].reindex(
            out.index).astype(object)
    out["simulated_survey"] = bool(simulated)
    return out.sort_values(["rank", "score"], ascending=[True, False])


def indicators(res: LevelResult) -> pd.DataFrame:
    """Long table: unit, indicator, derived value, value used (after imputation), imputed
    flag, normalised score (0–100), obstacle degree (%)."""
    cols = res.framework.indicators
    parts = {"value": res.pipeline.raw[cols], "value_used": res.values_used,
             "imputed": res.imputed[cols], "normalised": res.pipeline.data["normalise"][cols],
             "obstacle_pct": res.obstacles[cols]}
    out = pd.DataFrame({name: frame.stack(future_stack=True) for name, frame in parts.items()})
    out.index.names = ["unit", "indicator"]
    out = out.reset_index()
    names = res.units["name_zh"]
    out.insert(1, "name_zh", out["unit"].map(names))
    fw = res.framework
    out.insert(3, "indicator_zh", out["indicator"].map({c: fw.nodes[c].name_zh for c in cols}))
    return out


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
        dim = fw.ancestor(code, fw.n_levels - 1)
        rows.append({
            "indicator": code, "name_zh": node.name_zh, "name_en": node.name_en,
            "dimension": dim, "dimension_zh": fw.nodes[dim].name_zh,
            "direction": node.direction,
            "weight": node.weight, "effective_weight": float(eff[code]),
            "lower": node.lower, "upper": node.upper, "measure": kind,
            "parameters": ", ".join(f"{k}={v}" for k, v in m.items()),
            "data_year": ev.edition.sources.get(str(source)),
            "unit_zh": spec.get("unit_zh", ""), "unit_en": spec.get("unit_en", ""),
            "about_zh": spec.get("about_zh", ""), "about_en": spec.get("about_en", ""),
        })
    return pd.DataFrame(rows)


def _list(frame: pd.DataFrame, res: LevelResult) -> pd.DataFrame:
    """A reward or rectification list with integer ranks and the like-for-like change."""
    out = frame.reset_index(drop=frame.index.name is None).drop(columns=["grade"],
                                                                  errors="ignore")
    for col in ("rank", "rank_low", "rank_high"):
        if col in out:
            out[col] = pd.array(np.round(out[col].to_numpy(float)), dtype="Int64")
    if "change" in out:
        change = res.comparison.change
        out["change"] = (out["unit"].map(change).astype(float) if change is not None
                         else np.nan)
        if change is None:
            out = out.drop(columns=["change"])
    return out


def provenance_table(ev: Evaluation) -> pd.DataFrame:
    """The provenance of the run as rows (item, value): workspace, embedded dataset, datum,
    the survey, and every user import that touched the indicators used."""
    p = ev.provenance
    sv = p.get("survey", {})
    rows: list[dict[str, Any]] = [
        {"item": "workspace", "value": p.get("workspace") or "—"},
        {"item": "dataset", "value": p.get("dataset") or "—"},
        {"item": "datum", "value": p.get("datum") or ev.datum or "—"},
        {"item": "user_data", "value": bool(p.get("user_data"))},
        {"item": "survey", "value": sv.get("kind", "none")},
        {"item": "survey_source", "value": sv.get("source") or "—"},
        {"item": "survey_sha256", "value": sv.get("sha256") or "—"},
        {"item": "survey_respondents", "value": sv.get("respondents", 0)},
    ]
    for i, imp in enumerate(p.get("imports", []), start=1):
        for key in ("file", "sha256", "kind", "rows", "added", "replaced", "imported_at",
                    "indicators", "years"):
            value = imp.get(key)
            if isinstance(value, list):
                value = ", ".join(map(str, value))
            rows.append({"item": f"import_{i}_{key}", "value": value if value is not None
                         else "—"})
    return pd.DataFrame(rows, columns=["item", "value"])


def result_tables(ev: Evaluation) -> dict[str, pd.DataFrame]:
    """Every table of a run, keyed ``<level>_<table>`` (plus ``notes`` and ``provenance``),
    in machine form."""
    tables: dict[str, pd.DataFrame] = {}
    for level, res in ev.levels.items():
        tables[f"{level}_ranking"] = ranking(res, ev.rules,
                                             simulated=ev.simulated_survey).reset_index()
        tables[f"{level}_rewards"] = _list(res.rewards, res)
        tables[f"{level}_rectification"] = _list(res.rectification, res)
        tables[f"{level}_indicators"] = indicators(res)
        tables[f"{level}_framework"] = framework_table(ev, res)
        if res.survey_estimates is not None:
            tables[f"{level}_survey"] = res.survey_estimates
        if res.uncertainty is not None and not res.uncertainty.sobol.empty:
            tables[f"{level}_sensitivity"] = res.uncertainty.sobol.reset_index()
    tables["notes"] = pd.DataFrame([{"kind": n.kind, "level": n.level, "zh": n.zh, "en": n.en}
                                    for n in ev.notes], columns=["kind", "level", "zh", "en"])
    tables["provenance"] = provenance_table(ev)
    return tables


def jsonable(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Records with NaN/NA as null and numpy scalars as Python numbers."""
    clean = frame.astype(object).where(frame.notna(), None)
    out = []
    for rec in clean.to_dict("records"):
        out.append({str(k): (v.item() if isinstance(v, np.generic) else v)
                    for k, v in rec.items()})
    return out


# -------------------------------------------------------------------- the human forms
GRADE_COLUMNS = ("grade", "base_grade", "grade_low", "grade_high", "grade_without_survey")
BOOL_COLUMNS = ("uncertain", "imputed", "simulated_survey", "simulated", "user_data")
SCORE_2 = re.compile(r"^(score.*|previous_score|change|normalised|obstacle_pct|"
                     r"obstacle_\d+_pct|lower|upper|estimate|se|ci_low|ci_high|value_pct)$")
SHARE = re.compile(r"^share_.+$")
WEIGHT = re.compile(r"^(weight|effective_weight|S1|ST|S1_conf|ST_conf)$")
INT = re.compile(r"^(rank|rank_low|rank_high|n|respondents|rows|added|replaced|data_year)$")


def column_label(key: str, lang: str, rules: GradingRules | None = None,
                 names: dict[str, dict[str, str]] | None = None, table: str = "") -> str:
    """The human label of column ``key`` of ``table`` in ``lang``: ``eval.col.<table kind>.<key>``
    or ``eval.col.<key>``, or built for the families ``score_<dimension>``, ``share_<grade>``
    and ``obstacle_<k>_…``; the key itself when no label is known."""
    known = labels()
    kind = table.rsplit("_", 1)[-1]
    if f"eval.col.{kind}.{key}" in known:
        return t(f"eval.col.{kind}.{key}", lang)
    if f"eval.col.{key}" in known:
        return t(f"eval.col.{key}", lang)
    m = re.match(r"^score_(.+)$", key)
    if m and names and m.group(1) in names:
        return t("eval.col.score_dim", lang, name=names[m.group(1)][lang])
    m = re.match(r"^share_(.+)$", key)
    if m and rules is not None and m.group(1) in rules.codes:
        return t("eval.col.share_grade", lang, grade=rules.label(m.group(1), lang))
    m = re.match(r"^obstacle_(\d+)(?:_(name_zh|name_en|pct))?$", key)
    if m:
        part = m.group(2) or "code"
        return t(f"eval.col.obstacle_{part}", lang, k=m.group(1))
    return key


def _human_values(frame: pd.DataFrame, lang: str, rules: GradingRules) -> pd.DataFrame:
    """Grades as names in ``lang``, yes/no, integer ranks, rounded numbers."""
    out = frame.copy()
    for col in out.columns:
        key = str(col)
        if key in GRADE_COLUMNS:
            out[col] = [rules.label(str(v), lang) if isinstance(v, str) and v in rules.codes
                        else (None if v is None or (isinstance(v, float) and np.isnan(v))
                              else v) for v in out[col]]
        elif key in BOOL_COLUMNS:
            yes, no = t("eval.col.yes", lang), t("eval.col.no", lang)
            out[col] = [None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
                        else (yes if bool(v) else no) for v in out[col]]
        elif INT.match(key) and pd.api.types.is_numeric_dtype(out[col]):
            out[col] = pd.array(np.round(out[col].to_numpy(float, na_value=np.nan)),
                                dtype="Int64")
        elif SHARE.match(key) and pd.api.types.is_numeric_dtype(out[col]):
            out[col] = (100 * out[col].astype(float)).round(1)
        elif SCORE_2.match(key) and pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].astype(float).round(2)
        elif WEIGHT.match(key) and pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].astype(float).round(4)
    return out


def _dimension_names(ev: Evaluation) -> dict[str, dict[str, str]]:
    names: dict[str, dict[str, str]] = {}
    for res in ev.levels.values():
        for d in res.dimensions():
            node = res.framework.nodes[d]
            names[d] = {"zh": node.name_zh, "en": node.name_en}
    return names


def _provenance_values(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The provenance table's items and coded values in words."""
    out = frame.copy()
    items = []
    for item in out["item"]:
        m = re.match(r"^import_(\d+)_(.+)$", str(item))
        items.append(t(f"eval.prov.import_{m.group(2)}", lang, i=m.group(1)) if m
                     else t(f"eval.prov.{item}", lang))
    def word(item: str, value: Any) -> Any:
        if item == "survey":
            return t(f"eval.prov.survey.{value}", lang)
        if isinstance(value, bool):
            return t("eval.col.yes" if value else "eval.col.no", lang)
        if item == "workspace" and value == "—":
            return t("prov.memory", lang)
        return value

    out["value"] = [word(str(it), v) for it, v in zip(out["item"], out["value"], strict=True)]
    out["item"] = items
    return out


def csv_frame(frame: pd.DataFrame, ev: Evaluation, table: str = "") -> pd.DataFrame:
    """A table as its CSV holds it (see the module docstring)."""
    names = _dimension_names(ev)
    out = _human_values(frame, "zh", ev.rules)
    if table == "provenance":
        out = _provenance_values(out, "zh")
    if "grade" in frame.columns and "grade_en" not in frame.columns:
        pos = list(out.columns).index("grade") + 1
        out.insert(pos, "grade_en", [ev.rules.label(str(v), "en") if isinstance(v, str)
                                     and v in ev.rules.codes else None
                                     for v in frame["grade"]])
    out.columns = [f"{column_label(str(c), 'zh', ev.rules, names, table)} ({c})"
                   for c in out.columns]
    return out


def _other_language(columns: list[Any], lang: str) -> list[Any]:
    """Columns that repeat another column in the other language (left out of a sheet)."""
    other = "en" if lang == "zh" else "zh"
    return [c for c in columns if str(c) == other or (
        str(c).endswith(f"_{other}") and str(c) != f"name_{other}"
        and not re.match(r"^obstacle_\d+_name_", str(c)))
        or re.match(rf"^obstacle_\d+_name_{other}$", str(c))]


def sheet_frame(frame: pd.DataFrame, ev: Evaluation, lang: str, table: str = ""
                ) -> pd.DataFrame:
    """A table as a sheet of the ``lang`` workbook (see the module docstring)."""
    out = _human_values(frame.drop(columns=_other_language(list(frame.columns), lang)),
                        lang, ev.rules)
    if table == "provenance":
        out = _provenance_values(out, lang)
    names = _dimension_names(ev)
    out.columns = [column_label(str(c), lang, ev.rules, names, table) for c in out.columns]
    return out


def number_formats(frame: pd.DataFrame, ev: Evaluation, lang: str, table: str = ""
                   ) -> dict[str, str]:
    """Excel number formats of a sheet made by :func:`sheet_frame` (keyed by its labels)."""
    names = _dimension_names(ev)
    out = {}
    for c in frame.columns:
        key = str(c)
        label = column_label(key, lang, ev.rules, names, table)
        if INT.match(key):
            out[label] = "0"
        elif SHARE.match(key) or SCORE_2.match(key):
            out[label] = "0.0" if SHARE.match(key) else "0.00"
        elif WEIGHT.match(key):
            out[label] = "0.0000"
    return out


LABELLED = re.compile(r"^.*\(([^()]+)\)$")


def read_table(path: str | Path) -> pd.DataFrame:
    """A ``tables/*.csv`` file back in machine form: columns named by the key in brackets;
    unit codes as text; 是/否 as booleans."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.columns = [m.group(1) if (m := LABELLED.match(str(c))) else str(c)
                     for c in frame.columns]
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        values = frame[col].replace("", np.nan)
        if col in BOOL_COLUMNS:
            out[col] = values.map({t("eval.col.yes", "zh"): True, t("eval.col.no", "zh"): False})
        elif col in ("unit", "parent", "indicator") or col.endswith(("_zh", "_en")):
            out[col] = values
        else:
            num = pd.to_numeric(values, errors="coerce")
            out[col] = num if num.notna().sum() == values.notna().sum() else values
    return out
