"""The tables of an index run: the framework's nodes as used, the ranking, every unit × node
score, the pipeline's log, and the uncertainty analysis's rank intervals and Sobol' indices.
Pure: frames in, frames out (written by :mod:`cocity.report.index_summary`)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cocity.index.uncertainty import input_label

if TYPE_CHECKING:
    from cocity.index.run import IndexRun, UncertaintyRun


def nodes_table(run: IndexRun) -> pd.DataFrame:
    """The framework's nodes with bilingual names, weights (as used, normalised among
    siblings), effective weight in the index, direction, aggregation method and, for
    indicators, the unit of measure."""
    fw, pipe = run.framework, run.pipeline
    weights = pipe.weights
    agg = pipe.params.get("aggregate", {})
    by_level = {int(k): str(v) for k, v in (agg.get("by_level") or {}).items()}
    rows = []
    for code in run.node_order():
        node = fw.nodes[code]
        local = 1.0
        if node.parent is not None:
            sibs = fw.children(node.parent)
            total = float(weights[sibs].sum())
            local = float(weights[code]) / total if total > 0 else 1.0 / len(sibs)
        cat = run.catalog.loc[code] if code in run.catalog.index else None
        assert cat is None or isinstance(cat, pd.Series)
        rows.append({
            "code": code, "name_zh": _name(node.name_zh, code, cat, "name_zh"),
            "name_en": _name(node.name_en, code, cat, "name_en"), "level": node.level,
            "parent": node.parent or "", "weight": local, "direction": node.direction,
            "method": (by_level.get(node.level) or fw.method_for(code)) if node.level > 1
            else "",
            "unit_zh": "" if cat is None else _text(cat["unit_zh"]),
            "unit_en": "" if cat is None else _text(cat["unit_en"]),
        })
    out = pd.DataFrame(rows).set_index("code")
    local_w = out["weight"].astype(float).to_dict()
    effective = {}
    for code in out.index:
        w, c = 1.0, str(code)
        while True:
            w *= local_w[c]
            parent = fw.nodes[c].parent
            if parent is None:
                break
            c = parent
        effective[code] = w
    out.insert(5, "effective_weight", pd.Series(effective))
    return out


def ranking_table(run: IndexRun) -> pd.DataFrame:
    """One row per unit, best first: names, rank, the index score, then the score and rank
    of every node between the index and the indicators."""
    fw = run.framework
    out = run.units[["name_zh", "name_en"]].copy()
    out.index.name = "code"
    out["rank"] = run.ranks[run.root]
    out[run.root] = run.scores[run.root]
    for lv in range(fw.n_levels - 1, 1, -1):
        for code in fw.level_codes(lv):
            out[code] = run.scores[code]
            out[f"{code}_rank"] = run.ranks[code]
    out = out.sort_values(["rank", "name_zh"], na_position="last", kind="stable")
    out["rank"] = out["rank"].astype("Int64")
    for c in out.columns:
        if c.endswith("_rank"):
            out[c] = out[c].astype("Int64")
    return out


def scores_table(run: IndexRun) -> pd.DataFrame:
    """Every (unit, node) pair: unit and node names, the node's level, score and rank and,
    for indicators, the raw value and whether it was imputed."""
    nodes = nodes_table(run)
    scores = run.scores.rename_axis("unit").reset_index().melt(
        id_vars="unit", var_name="node", value_name="score")
    ranks = run.ranks.rename_axis("unit").reset_index().melt(
        id_vars="unit", var_name="node", value_name="rank")
    out = scores.merge(ranks, on=["unit", "node"])
    out["rank"] = out["rank"].astype("Int64")
    out.insert(1, "unit_name_zh", out["unit"].map(run.units["name_zh"]))
    out.insert(2, "unit_name_en", out["unit"].map(run.units["name_en"]))
    out.insert(4, "node_name_zh", out["node"].map(nodes["name_zh"]))
    out.insert(5, "node_name_en", out["node"].map(nodes["name_en"]))
    out.insert(6, "level", out["node"].map(nodes["level"]).astype(int))
    raw = run.panel.rename_axis("unit").reset_index().melt(
        id_vars="unit", var_name="node", value_name="value")
    imputed = run.pipeline.imputed.reindex(index=run.panel.index,
                                            columns=run.panel.columns, fill_value=False)
    raw["imputed"] = imputed.to_numpy().ravel(order="F")
    out = out.merge(raw, on=["unit", "node"], how="left")
    order = {c: i for i, c in enumerate(run.node_order())}
    out["_order"] = out["node"].map(order)
    out = out.sort_values(["_order", "rank", "unit"], kind="stable", na_position="last")
    return out.drop(columns="_order").reset_index(drop=True)


def log_entries(run: IndexRun) -> list[dict[str, Any]]:
    """The pipeline's log, with the outlier treatment of each indicator by unit code."""
    entries = copy.deepcopy(run.pipeline.log)
    configured = {k: v for e in run.steps for k, v in e.items() if k == "impute"}
    for entry in entries:
        if entry["step"] == "impute" and "groups" in entry["params"]:
            entry["params"]["groups"] = configured["impute"].get("groups")
    info = run.pipeline.treatment
    cols = info.get("columns") if isinstance(info, dict) else None
    if cols:
        names = list(run.panel.columns)
        codes = list(run.panel.index)
        for entry in entries:
            if entry["step"] == "treat":
                entry["indicators"] = [
                    {"indicator": names[int(c["column"])], "treatment": c["treatment"],
                     "winsorised": [codes[int(r)] for r in c.get("rows") or []],
                     "skew_before": c.get("skew_before"), "kurt_before": c.get("kurt_before"),
                     "skew_after": c.get("skew_after"), "kurt_after": c.get("kurt_after")}
                    for c in cols]
    return entries


def _text(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def _name(given: str, code: str, cat: pd.Series | None, col: str) -> str:
    """A node's name: the framework's, else the catalog's (indicators), else the code."""
    if given and given != code:
        return given
    if cat is None:
        return given
    return _text(cat[col]) or code


def uncertainty_tables(unc: UncertaintyRun) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rank intervals (one row per unit, by median rank) and the Sobol indices (one row per
    uncertain input), with bilingual names."""
    run, result = unc.run, unc.result
    ranks = run.units[["name_zh", "name_en"]].join(result.rank_summary, how="right")
    ranks.index.name = "code"
    sobol = result.sobol.copy()
    sobol.insert(0, "label_zh", [input_label(str(i), "zh") for i in sobol.index])
    sobol.insert(1, "label_en", [input_label(str(i), "en") for i in sobol.index])
    return ranks, sobol
