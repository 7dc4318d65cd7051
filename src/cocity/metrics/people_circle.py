"""People–circle (人–圈) coupling coordination per unit and year.

Each subsystem (the economy, "circle"; livelihoods, "people") is a composite index built with
:class:`cocity.index.Pipeline` on a (unit, year) panel — by default median imputation, min–max
onto [0, 1] pooled over all unit-years (so that years are comparable), entropy weights pooled
over unit-years (m = units × years), arithmetic aggregation — and the two scores U_circle,
U_people ∈ [0, 1] are combined with the capacity-coupling model of :mod:`cocity.index.coupling`:
C (traditional 2·√(U₁U₂)/(U₁+U₂) or the corrected variant of 王淑佳 et al. 2021),
T = α₁U₁ + α₂U₂ and D = √(C·T), graded with the default ten-class table (廖重斌 1999).
The specification is data: ``people_circle.yaml`` beside this module, or any mapping of the
same shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cocity.data.store import Store
from cocity.i18n import t
from cocity.index.coupling import coupling_coordination, grade
from cocity.index.framework import Framework
from cocity.index.pipeline import Pipeline
from cocity.metrics.errors import MetricInputError
from cocity.specfiles import read_spec


def default_spec() -> dict[str, Any]:
    """The shipped specification (``people_circle.yaml``)."""
    return read_spec(__package__ or "", "people_circle.yaml")


def load_spec(source: str | Path | dict[str, Any] | None = None) -> dict[str, Any]:
    """A specification from a mapping, a YAML file, or the shipped default."""
    return read_spec(__package__ or "", "people_circle.yaml", source)


def subsystem_framework(code: str, sub: dict[str, Any]) -> Framework:
    """A two-level framework: the subsystem index over its indicators (equal nominal weights)."""
    records: list[dict[str, Any]] = [
        {"code": code, "name_zh": sub.get("name_zh", code), "name_en": sub.get("name_en", code)}]
    for ind, direction in sub["indicators"].items():
        records.append({"code": ind, "parent": code, "weight": 1, "direction": int(direction)})
    return Framework.from_records(records)


def people_circle_panel(store: Store, spec: dict[str, Any]) -> pd.DataFrame:
    """The (unit, year) panel of every indicator the specification needs."""
    sel = spec.get("data", {})
    indicators = [i for sub in spec["subsystems"].values() for i in sub["indicators"]]
    panel = store.panel(indicators, years=sel.get("years"), level=sel.get("level", "county"))
    if sel.get("membership"):
        keep = set(store.units(membership=sel["membership"])["code"])
        panel = panel[panel.index.get_level_values("unit").isin(keep)]
    if panel.empty:
        raise MetricInputError(t("metrics.pc.empty"))
    return panel


def people_circle(panel: pd.DataFrame, spec: dict[str, Any] | None = None) -> pd.DataFrame:
    """U of each subsystem, C, T, D and the grade (zh, en) for every (unit, year) of ``panel``.

    ``panel`` is indexed by (unit, year) with the indicators of both subsystems as columns.
    Rows whose subsystem score is missing (too little data) are left out, never returned as
    NaN; ``imputed_<subsystem>`` counts the indicator values imputed in each row.
    """
    spec = spec or default_spec()
    subs = spec["subsystems"]
    if len(subs) != 2:
        raise MetricInputError(t("metrics.pc.two_subsystems", n=len(subs)))
    scores, imputed = {}, {}
    for code, sub in subs.items():
        fw = subsystem_framework(code, sub)
        pipe = Pipeline(panel, fw).apply(spec.get("pipeline", [{"normalise": {
            "method": "minmax", "low": 0, "high": 1}}, {"aggregate": {}}]))
        scores[code] = pipe.scores[code]
        imputed[f"imputed_{code}"] = pipe.imputed.sum(axis=1)
    U = pd.DataFrame(scores).dropna()
    if U.empty:
        raise MetricInputError(t("metrics.pc.empty"))
    cfg = spec.get("coupling", {})
    cc = coupling_coordination(U.to_numpy(float), alpha=cfg.get("alpha"),
                               variant=cfg.get("variant", "traditional"))
    out = U.rename(columns={c: f"U_{c}" for c in U.columns})
    out["C"], out["T"], out["D"] = cc.C, cc.T, cc.D
    out["grade_zh"] = grade(cc.D, lang="zh").label
    out["grade_en"] = grade(cc.D, lang="en").label
    out["grade"] = grade(cc.D).index
    for name, cells in imputed.items():  # how many indicator values were imputed per row
        out[name] = cells.reindex(out.index).fillna(0).astype(int)
    if not np.isfinite(out[["C", "T", "D"]].to_numpy()).all():
        raise MetricInputError(t("metrics.pc.nonfinite"))
    return out
