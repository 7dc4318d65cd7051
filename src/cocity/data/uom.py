"""Units of measure, plausible ranges and yearbook header aliases — all read from data files.

* ``uom.yaml``: the units yearbooks use (万人, 亿元, ‰, …) grouped by dimension with their
  scale. :func:`conversion` gives the factor that turns a value given in one unit into the
  catalog's unit (万人 → 人: × 10 000; 万元 → 亿元: × 0.0001; ‰ → %: × 0.1; % → share: × 0.01).
* ``bounds.yaml``: the plausible range of a value by the indicator's ``value_kind`` and, tighter,
  by its catalog unit (a population in 人 cannot exceed China's). :func:`bounds_for` gives the
  range an indicator's values must respect, with the reason shown in messages.
* ``header_aliases.yaml``: headers yearbooks write for catalog indicators (年末常住人口 →
  ``pop_total``, 人均GDP → ``gdp_per_capita``) and known headers the catalog does not hold
  (户籍人口).

Converted values are rounded to 15 significant digits (:func:`convert`): a double holds 15–17,
so this removes the artefacts of the binary product (75.4 × 10 000 = 754 000.000 000 000 1)
and never changes a figure given with 15 digits or fewer.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

import numpy as np

from cocity.i18n import current_lang
from cocity.spec import Spec, load_spec

M = TypeVar("M", bound=Spec)

_SYNONYMS = {"％": "%", "pct": "%", "‰": "‰"}
_NO_UOM = {"", "无", "none", "-", "—"}


def uom_key(text: object) -> str:
    """A unit of measure folded for comparison: NFKC, lower case, no spaces (``km²`` → ``km2``,
    ``％`` → ``%``, ``persons`` → ``persons``)."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    key = "".join(unicodedata.normalize("NFKC", str(text)).casefold().split())
    return _SYNONYMS.get(key, key)


class _Bilingual(Spec):
    zh: str
    en: str


class _UomSpec(Spec):
    dimensions: dict[str, dict[str, float]]
    implied_by_value_kind: dict[str, str]


class _KindBounds(Spec):
    low: float
    high: float
    reason: _Bilingual


class _UnitBounds(Spec):
    spellings: list[str]
    low: float | None = None
    high: float | None = None
    reason: _Bilingual


class _BoundsSpec(Spec):
    value_kinds: dict[str, _KindBounds]
    units: list[_UnitBounds]


class _AliasesSpec(Spec):
    aliases: dict[str, str]
    not_in_catalog: dict[str, _Bilingual]


def _load(model: type[M], name: str) -> M:
    """A shipped table of this package, typed (:func:`cocity.spec.load_spec`)."""
    return load_spec(model, package=__package__, default=name)


@cache
def _scales() -> tuple[dict[str, tuple[str, float]], dict[str, str]]:
    """``{unit key: (dimension, scale)}`` and the units implied by value kinds."""
    doc = _load(_UomSpec, "uom.yaml")
    scales = {uom_key(u): (dim, float(s)) for dim, units in doc.dimensions.items()
              for u, s in units.items()}
    return scales, {k: uom_key(v) for k, v in doc.implied_by_value_kind.items()}


def is_unit(text: object) -> bool:
    """True if ``text`` is a unit of measure the importer knows (万人, 亿元, %, ‰ …)."""
    return uom_key(text) in _scales()[0]


def no_unit(text: object) -> bool:
    """True for the spellings of "no unit" (blank, 无, none, —)."""
    return uom_key(text) in _NO_UOM


def catalog_unit_keys(unit_zh: object, unit_en: object, value_kind: str) -> set[str]:
    """The keys an indicator's catalog unit accepts (its zh and en spellings, or the unit its
    value_kind implies when both are blank)."""
    keys = {uom_key(unit_zh), uom_key(unit_en)} - {""}
    if not keys:
        implied = _scales()[1].get(value_kind)
        keys = {implied} if implied else set()
    return keys


def conversion(given: str, unit_zh: object, unit_en: object, value_kind: str) -> float | None:
    """The factor turning values given in ``given`` into the catalog's unit, ``1.0`` when they
    are the same unit, ``None`` when no conversion exists (another dimension, or unknown)."""
    key = uom_key(given)
    expected = catalog_unit_keys(unit_zh, unit_en, value_kind)
    if key in expected:
        return 1.0
    scales = _scales()[0]
    if key not in scales:
        return None
    dim, scale = scales[key]
    for e in sorted(expected):
        if e in scales and scales[e][0] == dim:
            return scale / scales[e][1]
    return None


def convert(values: np.ndarray, factor: float) -> np.ndarray:
    """``values × factor`` rounded to 15 significant digits (no rounding when factor is 1)."""
    if factor == 1.0:
        return values
    out = np.asarray(values, dtype=float) * factor
    return np.array([float(f"{v:.15g}") for v in out], dtype=float)


@dataclass(frozen=True)
class Bounds:
    """The plausible range of an indicator's values and why (in both languages)."""

    low: float
    high: float
    reason_zh: str
    reason_en: str

    @property
    def reason(self) -> str:
        return self.reason_en if current_lang() == "en" else self.reason_zh


@cache
def _bounds_doc() -> _BoundsSpec:
    return _load(_BoundsSpec, "bounds.yaml")


def bounds_for(value_kind: str, unit_zh: object, unit_en: object) -> Bounds:
    """The range values of an indicator of ``value_kind`` measured in the catalog unit
    (``unit_zh`` / ``unit_en``) must respect: the kind's range, tightened by the unit's."""
    doc = _bounds_doc()
    kind = doc.value_kinds[value_kind]
    low, high, reason = kind.low, kind.high, kind.reason
    keys = {uom_key(unit_zh), uom_key(unit_en)} - {""}
    for rule in doc.units:
        if keys & {uom_key(s) for s in rule.spellings}:
            if rule.low is not None and rule.low > low:
                low = rule.low
            if rule.high is not None and rule.high < high:
                high = rule.high
            reason = rule.reason
            break
    return Bounds(low, high, reason.zh, reason.en)


@cache
def header_aliases() -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """``({header: indicator id}, {header: {zh, en} meaning})`` from ``header_aliases.yaml``."""
    doc = _load(_AliasesSpec, "header_aliases.yaml")
    return (dict(doc.aliases), {k: v.model_dump() for k, v in doc.not_in_catalog.items()})
