"""People–circle (人–圈) coupling coordination per unit and year.

Each subsystem (the economy, "circle"; livelihoods, "people") is a composite index built with
:class:`cocity.index.Pipeline` on a (unit, year) panel — by default median imputation, min–max
onto [0, 1] pooled over all unit-years (so that years are comparable), entropy weights pooled
over unit-years (m = units × years), arithmetic aggregation — and the two scores U_circle,
U_people ∈ [0, 1] are combined with the capacity-coupling model of :mod:`cocity.index.coupling`:
C (traditional 2·√(U₁U₂)/(U₁+U₂) or the corrected variant of 王淑佳 et al. 2021),
T = α₁U₁ + α₂U₂ and D = √(C·T), graded with the default ten-class table (廖重斌 1999).
The specification is data (:class:`PeopleCircleSpec`): ``people_circle.yaml`` beside this
module, a user's file of the same shape or a mapping, read with :func:`cocity.spec.load_spec`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pydantic

from cocity.data.store import Store
from cocity.i18n import t
from cocity.index.coupling import coupling_coordination, grade
from cocity.index.framework import Framework
from cocity.index.pipeline import Pipeline
from cocity.metrics.errors import MetricInputError
from cocity.spec import Spec
from cocity.spec import load_spec as _load_spec

DEFAULT = "people_circle.yaml"


class DataSelection(Spec):
    level: Literal["province", "prefecture", "county"] = "county"
    years: list[int] | None = None
    membership: list[Literal["full", "partial", "outside"]] | None = None


class Subsystem(Spec):
    name_zh: str | None = None
    name_en: str | None = None
    indicators: dict[str, Literal[1, -1]] = pydantic.Field(min_length=1)


class CouplingSpec(Spec):
    variant: Literal["traditional", "corrected"] = "traditional"
    alpha: list[pydantic.NonNegativeFloat] | None = None


def _default_pipeline() -> list[dict[str, Any]]:
    return [{"normalise": {"method": "minmax", "low": 0, "high": 1}}, {"aggregate": {}}]


class PeopleCircleSpec(Spec):
    """``people_circle.yaml``: two subsystems (indicator → direction ±1), the data selection,
    the index pipeline (steps as data, checked by the index engine) and the coupling model."""

    name_zh: str = ""
    name_en: str = ""
    data: DataSelection = pydantic.Field(default_factory=DataSelection)
    subsystems: dict[str, Subsystem]
    pipeline: list[dict[str, Any]] = pydantic.Field(default_factory=_default_pipeline)
    coupling: CouplingSpec = pydantic.Field(default_factory=CouplingSpec)

    @pydantic.field_validator("subsystems")
    @classmethod
    def _two(cls, value: dict[str, Subsystem]) -> dict[str, Subsystem]:
        if len(value) != 2:
            raise ValueError(t("metrics.pc.two_subsystems", n=len(value)))
        return value

    @pydantic.model_validator(mode="after")
    def _alpha_per_subsystem(self) -> PeopleCircleSpec:
        alpha = self.coupling.alpha
        if alpha is not None and len(alpha) != len(self.subsystems):
            raise ValueError(t("diagnose.err.pc_alpha", n=len(alpha), m=len(self.subsystems)))
        return self

    def indicators(self) -> list[str]:
        return [i for sub in self.subsystems.values() for i in sub.indicators]


def default_spec() -> PeopleCircleSpec:
    """The shipped specification (``people_circle.yaml``)."""
    return load_spec()


def load_spec(source: str | Path | Mapping[str, Any] | None = None) -> PeopleCircleSpec:
    """A specification from a mapping, a YAML file, or (``None``) the shipped default; every
    problem comes back at once as a :class:`~cocity.spec.SpecError` with its key path."""
    return _load_spec(PeopleCircleSpec, source, package=__package__, default=DEFAULT)


def subsystem_framework(code: str, sub: Subsystem) -> Framework:
    """A two-level framework: the subsystem index over its indicators (equal nominal weights)."""
    records: list[dict[str, Any]] = [
        {"code": code, "name_zh": sub.name_zh or code, "name_en": sub.name_en or code}]
    for ind, direction in sub.indicators.items():
        records.append({"code": ind, "parent": code, "weight": 1, "direction": int(direction)})
    return Framework.from_records(records)


def people_circle_panel(store: Store, spec: PeopleCircleSpec) -> pd.DataFrame:
    """The (unit, year) panel of every indicator the specification needs."""
    sel = spec.data
    panel = store.panel(spec.indicators(), years=sel.years, level=sel.level)
    if sel.membership:
        keep = set(store.units(membership=list(sel.membership))["code"])
        panel = panel[panel.index.get_level_values("unit").isin(keep)]
    if panel.empty:
        raise MetricInputError(t("metrics.pc.empty"))
    return panel


def people_circle(panel: pd.DataFrame, spec: PeopleCircleSpec | None = None) -> pd.DataFrame:
    """U of each subsystem, C, T, D and the grade (zh, en) for every (unit, year) of ``panel``.

    ``panel`` is indexed by (unit, year) with the indicators of both subsystems as columns.
    Rows whose subsystem score is missing (too little data) are left out, never returned as
    NaN; ``imputed_<subsystem>`` counts the indicator values imputed in each row.
    """
    spec = spec or default_spec()
    scores, imputed = {}, {}
    for code, sub in spec.subsystems.items():
        fw = subsystem_framework(code, sub)
        pipe = Pipeline(panel, fw).apply(spec.pipeline)
        scores[code] = pipe.scores[code]
        imputed[f"imputed_{code}"] = pipe.imputed.sum(axis=1)
    U = pd.DataFrame(scores).dropna()
    if U.empty:
        raise MetricInputError(t("metrics.pc.empty"))
    cc = coupling_coordination(U.to_numpy(float), alpha=spec.coupling.alpha,
                               variant=spec.coupling.variant)
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
