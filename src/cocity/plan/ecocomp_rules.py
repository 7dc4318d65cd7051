"""The rules of the eco-compensation tool as typed specifications (:mod:`cocity.spec`).

- :class:`Standard`: the class limits of GB 3838-2002 Table 1 (``ecocomp_gb3838.yaml``, shipped,
  mg/L; a value ≤ a class's limit is in that class).
- :class:`Rules`: the two agreement forms and the baseline (``ecocomp_rules.yaml``, shipped
  with ILLUSTRATIVE amounts; a user's ``--rules`` file holds only the keys it changes and is
  merged over it, every problem reported at once as a :class:`cocity.spec.SpecError`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pydantic

from cocity.i18n import t
from cocity.spec import Spec, load_spec, merge, read_yaml, validate_spec

ITEMS = ("codmn", "nh3n", "tn", "tp")  # the items of the monitoring data (P-index items)
CLASSES = ("I", "II", "III", "IV", "V")  # class 6 is 劣V (worse than V)
WORSE_THAN_V = 6
RULES_FILE = "ecocomp_rules.yaml"


def class_label(c: int, lang: str = "zh") -> str:
    """``I`` … ``V``, 劣V / worse than V for class 6."""
    if c == WORSE_THAN_V:
        return t("plan.ecocomp.class.worse", lang)
    return CLASSES[c - 1]


class Standard(Spec):
    """GB 3838-2002 class limits: ``limits[item]`` the five upper limits of classes I–V (mg/L,
    increasing); ``class_items[water_body]`` the items that set a sample's class."""

    standard: str
    unit: Literal["mg/L"] = "mg/L"
    limits: dict[str, list[pydantic.PositiveFloat]]
    class_items: dict[Literal["river", "lake"], list[str]]

    @pydantic.model_validator(mode="after")
    def _check(self) -> Standard:
        for item, lim in self.limits.items():
            if len(lim) != len(CLASSES) or any(
                    b <= a for a, b in itertools.pairwise(lim)):
                raise ValueError(t("plan.ecocomp.spec.limits", item=item))
        for body, items in self.class_items.items():
            bad = [i for i in items if i not in self.limits]
            if bad:
                raise ValueError(t("plan.ecocomp.spec.class_items", body=body,
                                   items=", ".join(bad)))
        return self


class PIndexRule(Spec):
    """P = K0 · Σ k_i C_i / C_i0; P ≤ 1 → downstream pays upstream ``amount`` (万元 per year),
    P > 1 → upstream pays downstream ``amount``; ``period`` ``month`` pays amount/12 a month
    on the monthly P."""

    source: str = ""
    k0: pydantic.PositiveFloat
    weights: dict[str, pydantic.NonNegativeFloat]
    amount: pydantic.NonNegativeFloat
    period: Literal["year", "month"] = "year"

    @pydantic.field_validator("weights")
    @classmethod
    def _weights(cls, weights: dict[str, float]) -> dict[str, float]:
        bad = [k for k in weights if k not in ITEMS]
        if bad:
            raise ValueError(t("plan.ecocomp.spec.weights_items", items=", ".join(bad),
                               allowed=", ".join(ITEMS)))
        if sum(weights.values()) <= 0:
            raise ValueError(t("plan.ecocomp.spec.weights_zero"))
        return weights


class TrendRule(Spec):
    against: Literal["baseline", "previous"] = "baseline"
    tolerance: float = pydantic.Field(0.05, ge=0, lt=1)
    modifiers: dict[Literal["improved", "stable", "worsened"], float]

    @pydantic.field_validator("modifiers")
    @classmethod
    def _modifiers(cls, modifiers: dict[str, float]) -> dict[str, float]:
        missing = [k for k in ("improved", "stable", "worsened") if k not in modifiers]
        if missing:
            raise ValueError(t("plan.ecocomp.spec.modifiers", missing=", ".join(missing)))
        return modifiers


class FixedRule(Spec):
    """Signed monthly amount by offset = class − target (positive: downstream pays upstream),
    plus the trend modifier."""

    target_class: Literal["I", "II", "III", "IV", "V"] = "III"
    targets: dict[str, Literal["I", "II", "III", "IV", "V"]] = pydantic.Field(
        default_factory=dict)
    amounts: dict[int, float]
    trend: TrendRule

    @pydantic.field_validator("amounts")
    @classmethod
    def _amounts(cls, amounts: dict[int, float]) -> dict[int, float]:
        if not amounts:
            raise ValueError(t("plan.ecocomp.spec.amounts_empty"))
        keys = sorted(amounts)
        if keys != list(range(keys[0], keys[-1] + 1)):
            raise ValueError(t("plan.ecocomp.spec.amounts_gaps",
                               keys=", ".join(map(str, keys))))
        if any(amounts[b] > amounts[a] for a, b in itertools.pairwise(keys)):
            raise ValueError(t("plan.ecocomp.spec.amounts_order"))
        return amounts

    def target(self, section: str) -> int:
        """The target class (1–5) of ``section``."""
        return CLASSES.index(self.targets.get(section, self.target_class)) + 1


class Baseline(Spec):
    years: list[int] = pydantic.Field(default_factory=list)
    values: dict[str, dict[str, pydantic.PositiveFloat]] = pydantic.Field(
        default_factory=dict)

    @pydantic.model_validator(mode="after")
    def _check(self) -> Baseline:
        for section, vals in self.values.items():
            missing = [k for k in ITEMS if k not in vals]
            extra = [k for k in vals if k not in ITEMS]
            if missing or extra:
                raise ValueError(t("plan.ecocomp.spec.baseline_items", section=section,
                                   items=", ".join(missing + extra),
                                   allowed=", ".join(ITEMS)))
        return self


class Rules(Spec):
    """The whole rules file (see ``ecocomp_rules.yaml``)."""

    illustrative: bool = False
    p_index: PIndexRule
    fixed: FixedRule
    baseline: Baseline
    water_body: Literal["river", "lake"] = "river"


def load_standard() -> Standard:
    """The shipped GB 3838-2002 limits."""
    return load_spec(Standard, package=__package__, default="ecocomp_gb3838.yaml")


# tables a user's file replaces whole (a merge key by key could not remove a row)
WHOLE = (("p_index", "weights"), ("fixed", "amounts"))


def load_rules(source: str | Path | Mapping[str, Any] | None = None) -> Rules:
    """The shipped rules, or the user's file (or mapping) merged over them: mappings key by
    key, except the tables ``p_index.weights`` and ``fixed.amounts``, which the user's file
    replaces whole."""
    shipped, _ = read_yaml(package=__package__, default=RULES_FILE)
    if source is None:
        return validate_spec(Rules, shipped, origin=RULES_FILE)
    if isinstance(source, Mapping):
        user, origin = dict(source), "<rules>"
    else:
        user, origin = read_yaml(source)
    if user is None:
        user = {}
    if not isinstance(user, Mapping):
        return validate_spec(Rules, user, origin=origin)  # refused: not a mapping
    data = merge(shipped, user)
    for part, key in WHOLE:
        given = user.get(part)
        if isinstance(given, Mapping) and key in given:
            data[part][key] = given[key]
    return validate_spec(Rules, data, origin=origin)
