"""Which units receive, and each one's need, from real indicators of the data.

:func:`read_need_data` (the edge) reads from a store the units, the catalog and the
observations the rules name; everything else here is pure: frames in, frames out.

**Recipients** (:func:`recipients`): the units of the rules' level whose membership is one of
``recipients.membership``, less those of the ``exclude_tiers`` (with the rules' reason) and the
named ``exclude`` entries from every use (a named exclusion from some uses only is applied per
use by the allocation). Units are named by code or by name (``成都``, ``内江市市中区``).

**Values at the level.** County values are used as published. A prefecture only partly in the
circle (membership ``partial``) takes, when every member county has a value, the sum of its
member counties for counts (``value_kind: count`` — population, migrants) and their
population-weighted mean for rates and shares, so that its figures describe its part of the
circle; otherwise (yearbook figures, published for whole prefectures only) the published value
(as :mod:`cocity.evaluate.derive` does).

**Need components** (:func:`compute_needs`). For a component with base ``count`` ``{k: a_k}``,
optional base ``share`` ``s`` and optional factor on indicators ``x_1 … x_m``:

    base_i   = Σ_k a_k · count_k,i  (× s_i / 100 when a share is given)
    r_j      = Σ_u p_u x_j,u / Σ_u p_u        over the reference units u of the level
                                               (the circle's population-weighted level;
                                               p = the rules' population indicator, its year)
    shortfall: factor_i = scale · (1/m) Σ_j max(0, r_j − x_j,i)
    relative:  factor_i = (1/m) Σ_j x_j,i / r_j
    q_i      = base_i · factor_i               (base_i alone without a factor)

with ``x_j,i`` read at the unit (``scope: self``) or at its parent prefecture (``scope: parent``,
for figures published for prefectures only, e.g. beds per 1,000: every county then carries its
city's rate). With ``scale = 0.001`` and a rate per 1,000 residents, ``q_i`` is the number of
beds (doctors, nurses) the unit lacks to reach the circle's level; with ``scale = 0.01`` and a
household share in per cent, the residents living below the circle's level of amenities.
The quantities are in the component's own unit; the allocation turns them into shares.

A recipient without a value of an indicator it needs is an error naming the unit, the
indicator and the year (nothing is imputed: a need is never invented); a reference level is
computed over the reference units that have values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cocity.data.errors import AmbiguousUnitError, Issue, UnitNotFoundError
from cocity.data.units import UnitIndex
from cocity.fund.rules import AllocationError, AllocationRules, ComponentSpec
from cocity.i18n import t

if TYPE_CHECKING:
    from cocity.data.store import Store

UNIT_COLUMNS = ["code", "name_zh", "name_en", "level", "parent", "kind", "membership", "tier"]
MEMBERS = ("full", "partial")


@dataclass(frozen=True)
class NeedData:
    """What the needs read: ``units`` (one row per unit, the columns of :data:`UNIT_COLUMNS`),
    ``catalog`` (index: indicator id; ``value_kind``, ``unit_zh``, ``unit_en``, ``name_zh``,
    ``name_en``) and ``values`` (long: ``unit``, ``year``, ``indicator``, ``value``)."""

    units: pd.DataFrame
    catalog: pd.DataFrame
    values: pd.DataFrame


@dataclass(frozen=True)
class Excluded:
    """A unit that does not receive (from every use when ``use`` is empty): why, in both
    languages."""

    unit: str
    use: str
    reason: str
    zh: str
    en: str


@dataclass
class Needs:
    """The need of every recipient: per use and component, a frame indexed by unit code with
    ``base``, ``value`` (the factor's indicator at the unit or its parent, the mean of several),
    ``reference`` (the circle's level, the mean of several), ``factor`` and ``quantity``
    (NaN columns when the component has no factor)."""

    level: str
    recipients: list[str]
    excluded: list[Excluded]
    components: dict[str, dict[str, pd.DataFrame]]
    units: pd.DataFrame
    use_exclusions: dict[str, dict[str, Excluded]] = field(default_factory=dict)

    def quantities(self, use: str) -> pd.DataFrame:
        """Units × components: the quantity of every component of ``use``."""
        return pd.DataFrame({c: f["quantity"] for c, f in self.components[use].items()})


def read_need_data(store: Store, rules: AllocationRules) -> NeedData:
    """The units, catalog and the observations of every (indicator, year) the rules read."""
    units = store.units()
    catalog = store.catalog()
    frames = []
    for year, ids in rules.reads().items():
        known = [i for i in ids if i in catalog.index]
        if known:
            obs = store.observations(indicators=known, years=[year])
            frames.append(obs[["unit", "year", "indicator", "value"]])
    values = (pd.concat(frames, ignore_index=True) if frames else
              pd.DataFrame(columns=["unit", "year", "indicator", "value"]))
    return NeedData(units[UNIT_COLUMNS].copy(), catalog, values)


# ---------------------------------------------------------------------- recipients
def resolve_units(names: Mapping[str, str], units: pd.DataFrame, *, level: str,
                  origin: str) -> dict[str, str]:
    """Key path → unit code of every unit named in the rules (code or name, at ``level``);
    every unknown or ambiguous name at once as an :class:`AllocationError`."""
    index = UnitIndex(units)
    out, issues = {}, []
    for key, name in names.items():
        try:
            out[key] = index.resolve(name, level)
        except (UnitNotFoundError, AmbiguousUnitError) as exc:
            issues.append(Issue(str(exc), origin, key=key))
    if issues:
        raise AllocationError(issues)
    return out


def _tier_reason(rules: AllocationRules, lang: str, tier: str) -> str:
    r = rules.spec.recipients
    given = r.exclude_tiers_reason_zh if lang == "zh" else r.exclude_tiers_reason_en
    return given or t("fund.alloc.excl.tier", lang, tier=tier)


def recipients(rules: AllocationRules, units: pd.DataFrame
               ) -> tuple[list[str], list[Excluded], dict[str, dict[str, Excluded]]]:
    """The receiving units (sorted codes), the units of the level in the circle that do not
    receive (with the reason), and the per-use exclusions ``{use: {unit: Excluded}}``."""
    spec = rules.spec.recipients
    u = units.set_index("code", drop=False) if "code" in units.columns else units
    at = u[(u["level"] == spec.level) & u["membership"].isin(spec.membership)]
    named = {f"recipients.exclude[{i}].unit": e.unit for i, e in enumerate(spec.exclude)}
    codes = resolve_units(named, units, level=spec.level, origin=rules.source)
    excluded: list[Excluded] = []
    per_use: dict[str, dict[str, Excluded]] = {use: {} for use in rules.uses}
    out = set(map(str, at.index))
    for code in sorted(out):
        tier = u.at[code, "tier"]
        if isinstance(tier, str) and tier in spec.exclude_tiers:
            excluded.append(Excluded(code, "", "tier", _tier_reason(rules, "zh", tier),
                                     _tier_reason(rules, "en", tier)))
            out.discard(code)
    for i, entry in enumerate(spec.exclude):
        code = codes[f"recipients.exclude[{i}].unit"]
        if code not in out:
            continue
        if entry.uses is None:
            excluded.append(Excluded(code, "", "named", entry.reason_zh, entry.reason_en))
            out.discard(code)
        else:
            for use in entry.uses:
                per_use[use][code] = Excluded(code, use, "named", entry.reason_zh,
                                              entry.reason_en)
    return sorted(out), excluded, per_use


# ---------------------------------------------------------------------- values
class _Values:
    """Indicator values at the rules' level (see the module docstring), with the missing
    (unit, indicator, year) recorded rather than raised, so that all are reported at once."""

    def __init__(self, data: NeedData, rules: AllocationRules):
        self.units = data.units.set_index("code", drop=False)
        self.catalog = data.catalog
        v = data.values
        self.wide = {int(str(y)): g.pivot_table(index="unit", columns="indicator",
                                                values="value", aggfunc="first")
                     for y, g in v.groupby("year")}
        self.rules = rules
        self.pop_id = rules.spec.population
        self.year0 = rules.spec.year
        self.members: dict[str, list[str]] = {}
        county = self.units[(self.units["level"] == "county")
                            & self.units["membership"].isin(MEMBERS)]
        for code, parent in zip(county.index, county["parent"], strict=True):
            if isinstance(parent, str):
                self.members.setdefault(parent, []).append(str(code))

    def raw(self, indicator: str, year: int) -> pd.Series:
        wide = self.wide.get(int(year))
        if wide is None or indicator not in wide.columns:
            return pd.Series(dtype=float)
        return wide[indicator].astype(float)

    def at_level(self, indicator: str, year: int, codes: list[str]) -> pd.Series:
        """Values of ``codes`` (one level) with partial prefectures from their members."""
        x = self.raw(indicator, year)
        out = x.reindex(codes).astype(float)
        kind = str(self.catalog["value_kind"].get(indicator, "")) \
            if "value_kind" in self.catalog else ""
        for code in codes:
            if self.units.at[code, "level"] != "prefecture" or \
                    self.units.at[code, "membership"] != "partial":
                continue
            m = self.members.get(code, [])
            vals = x.reindex(m)
            if not m or vals.isna().any():
                continue
            if kind == "count":
                out[code] = float(vals.sum())
            else:
                pop = self.raw(self.pop_id, self.year0).reindex(m)
                if pop.notna().all() and pop.sum() > 0:
                    out[code] = float(np.average(vals, weights=pop))
        return out

    def population(self, codes: list[str]) -> pd.Series:
        return self.at_level(self.pop_id, self.year0, codes)


def _component(vals: _Values, comp: ComponentSpec, units: list[str], ref_units: list[str],
               year0: int, key: str, missing: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    """The frame of one component for ``units`` (see :class:`Needs`)."""
    by = comp.base.year or year0
    base = pd.Series(0.0, index=units)
    for ind, a in comp.base.count.items():
        x = vals.at_level(ind, by, units)
        for code in x.index[x.isna()]:
            missing.append((key + ".base.count", code, ind, by))
        base = base + float(a) * x
    if comp.base.share:
        s = vals.at_level(comp.base.share, by, units)
        for code in s.index[s.isna()]:
            missing.append((key + ".base.share", code, comp.base.share, by))
        base = base * s / 100.0
    frame = pd.DataFrame({"base": base, "value": np.nan, "reference": np.nan,
                          "factor": np.nan, "quantity": base}, index=units)
    f = comp.factor
    if f is None:
        return frame
    fy = f.year or year0
    parent = vals.units["parent"]
    ref_pop = vals.population(ref_units)
    own_cols, ref_vals, factors = [], [], []
    for ind in f.indicators:
        if f.scope == "parent":
            pcodes = sorted({str(parent[c]) for c in [*units, *ref_units]
                             if isinstance(parent[c], str)})
            pv = vals.at_level(ind, fy, pcodes)
            own = pd.Series([pv.get(str(parent[c]), np.nan) for c in units], index=units,
                            dtype=float)
            ref_x = pd.Series([pv.get(str(parent[c]), np.nan) for c in ref_units],
                              index=ref_units, dtype=float)
        else:
            own = vals.at_level(ind, fy, units)
            ref_x = vals.at_level(ind, fy, ref_units)
        for code in own.index[own.isna()]:
            missing.append((key + ".factor.indicators", code, ind, fy))
        ok = ref_x.notna() & ref_pop.notna() & (ref_pop > 0)
        r = float(np.average(ref_x[ok], weights=ref_pop[ok])) if ok.any() else np.nan
        if not np.isfinite(r) or r <= 0:
            missing.append((key + ".factor.indicators", "*", ind, fy))
            r = np.nan
        own_cols.append(own)
        ref_vals.append(r)
        if f.kind == "shortfall":
            factors.append(f.scale * (r - own).clip(lower=0))
        else:
            factors.append(f.scale * own / r)
    frame["value"] = pd.concat(own_cols, axis=1).mean(axis=1)
    frame["reference"] = float(np.mean(ref_vals))
    frame["factor"] = pd.concat(factors, axis=1).mean(axis=1)
    frame["quantity"] = frame["base"] * frame["factor"]
    return frame


def compute_needs(rules: AllocationRules, data: NeedData) -> Needs:
    """Recipients and the quantity of every need component for each (see the module
    docstring). Unknown indicators and missing values are reported all at once."""
    units = data.units
    codes, excluded, per_use = recipients(rules, units)
    issues = []
    for year, ids in rules.reads().items():
        for ind in ids:
            if ind not in data.catalog.index:
                issues.append(Issue(t("fund.alloc.err.unknown_indicator", indicator=ind,
                                      year=year), rules.source))
    if issues:
        raise AllocationError(issues)
    vals = _Values(data, rules)
    u = units.set_index("code", drop=False)
    spec = rules.spec.recipients
    ref_units = sorted(map(str, u.index[(u["level"] == spec.level)
                                        & u["membership"].isin(spec.reference_membership)]))
    missing: list[tuple[str, str, str, int]] = []
    comps: dict[str, dict[str, pd.DataFrame]] = {}
    for use in rules.uses:
        comps[use] = {}
        for j, comp in enumerate(rules.use(use).need):
            comps[use][comp.id] = _component(vals, comp, codes, ref_units, rules.spec.year,
                                             f"uses.{use}.need[{j}]", missing)
    if missing:
        seen: dict[tuple[str, str, int], str] = {}
        for key, code, ind, year in missing:
            seen.setdefault((code, ind, year), key)
        name = u["name_zh"].to_dict()
        raise AllocationError([
            Issue(t("fund.alloc.err.no_reference", indicator=ind, year=year) if code == "*"
                  else t("fund.alloc.err.missing_value", unit=f"{name.get(code, code)} ({code})",
                         indicator=ind, year=year), rules.source, key=key)
            for (code, ind, year), key in sorted(seen.items())])
    return Needs(spec.level, codes, excluded, comps, u[UNIT_COLUMNS[1:]].copy(), per_use)

