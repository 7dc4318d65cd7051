"""Division of labour: location quotients, Krugman specialisation, structural similarity and a
configurable classification of each city's role (tier and functional "poles").

Input
-----
An employment matrix ``E``: a DataFrame with one row per unit (city or county) and one column
per sector, holding employment counts or shares (any scale; a row is never required to sum to
100). Every cell must be finite and non-negative, and every unit must have some employment:
a missing cell, a negative value or a unit whose row sums to 0 raises
:class:`~cocity.metrics.errors.MetricInputError` naming the offending units or sectors. Fill a
missing cell explicitly (e.g. ``E.fillna(0)``) or drop its column before calling.

Counts or shares
----------------
Krugman's index and the similarity coefficient only use each unit's own sector shares, so they
are the same for counts and shares. The location quotient's **cluster reference** and the
"rest of the cluster" in :func:`krugman_vs_rest` aggregate units: with counts the aggregate is
employment-weighted (the textbook definition); with shares it gives every unit the same
weight. :func:`counts_from_shares` turns shares into counts given each unit's employment (or a
proxy such as resident population, which assumes the same employment rate everywhere).

Notation: ``e_ij`` employment of unit ``i`` in sector ``j``, ``e_i = Σ_j e_ij``,
``e_j = Σ_i e_ij``, ``e = Σ_ij e_ij``, ``s_ij = e_ij / e_i``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pydantic

from cocity.data.schema import TIERS
from cocity.i18n import current_lang, labels, t
from cocity.metrics.errors import MetricInputError
from cocity.spec import Spec, load_spec

DEFAULT_SIMILARITY_THRESHOLD = 0.9
_SHOW = 5  # how many offending names an error message lists


def _fail(key: str, **fmt: object) -> MetricInputError:
    return MetricInputError(t(f"metrics.struct.err.{key}", None, **fmt))


def _names(items: Sequence[object]) -> str:
    shown = ", ".join(str(i) for i in items[:_SHOW])
    return shown + (" …" if len(items) > _SHOW else "")


# ----------------------------------------------------------------------------- validation


def _check_matrix(E: pd.DataFrame, *, min_units: int = 1) -> pd.DataFrame:
    """``E`` as a float frame after the checks of the module docstring."""
    if not isinstance(E, pd.DataFrame):
        raise _fail("not_frame", got=type(E).__name__)
    if E.shape[0] < min_units or E.shape[1] < 1:
        raise _fail("shape", units=E.shape[0], sectors=E.shape[1], need=min_units)
    if E.index.has_duplicates or E.columns.has_duplicates:
        dup = list(E.index[E.index.duplicated()]) + list(E.columns[E.columns.duplicated()])
        raise _fail("duplicates", names=_names(dup))
    try:
        X = E.astype(float)
    except (TypeError, ValueError) as exc:
        raise _fail("not_numeric") from exc
    values = X.to_numpy()
    bad = ~np.isfinite(values)
    if bad.any():
        rows, cols = np.nonzero(bad)
        cells = [f"({X.index[int(r)]}, {X.columns[int(c)]})"
                 for r, c in zip(rows, cols, strict=True)]
        raise _fail("missing", count=len(cells), cells=_names(cells))
    if (values < 0).any():
        rows = np.unique(np.nonzero(values < 0)[0])
        raise _fail("negative", units=_names(list(X.index[rows])))
    empty = values.sum(axis=1) <= 0
    if empty.any():
        raise _fail("empty_unit", units=_names(list(X.index[empty])))
    return X


def _check_reference(reference: pd.Series, columns: pd.Index) -> pd.Series:
    """A reference sector structure covering ``columns``: finite, non-negative, not all 0."""
    ref = pd.Series(reference, dtype=float)
    missing = [c for c in columns if c not in ref.index]
    if missing:
        raise _fail("reference_missing", sectors=_names(missing))
    ref = ref.reindex(columns)
    if not np.isfinite(ref.to_numpy()).all() or (ref.to_numpy() < 0).any():
        raise _fail("reference_invalid")
    if ref.sum() <= 0:
        raise _fail("reference_zero")
    return ref


def _shares(X: pd.DataFrame) -> pd.DataFrame:
    return X.div(X.sum(axis=1), axis=0)


def counts_from_shares(shares: pd.DataFrame, totals: pd.Series) -> pd.DataFrame:
    """Employment counts from sector shares and each unit's total.

    **Formula**: ``e_ij = T_i · s_ij / Σ_k s_ik`` — each row is re-scaled to sum to its total
    ``T_i`` (so shares in per cent, per one or rounded so that a row sums to 99.9997 all work).

    **Variant**: when ``T_i`` is a proxy (e.g. resident population instead of employed
    persons) the result assumes the same employment rate in every unit; the location quotients
    then compare each unit with a population-weighted cluster structure.
    """
    X = _check_matrix(shares)
    T = pd.Series(totals, dtype=float).reindex(X.index)
    if T.isna().any():
        raise _fail("totals_missing", units=_names(list(X.index[T.isna().to_numpy()])))
    if not (np.isfinite(T.to_numpy()).all() and (T.to_numpy() > 0).all()):
        raise _fail("totals_positive")
    return _shares(X).mul(T, axis=0)


# ----------------------------------------------------------------------------- measures


def location_quotients(E: pd.DataFrame, reference: pd.Series | None = None, *,
                       empty_sectors: str = "raise") -> pd.DataFrame:
    """Location quotient of every unit in every sector.

    **Formula**: ``LQ_ij = (e_ij / e_i) / (e_j / e)``; the reference structure ``e_j / e`` is
    the cluster's (the sum over all units of ``E``) unless ``reference`` gives another one (a
    Series of counts or shares by sector, e.g. the national or provincial structure).
    ``LQ_ij > 1`` means unit ``i`` is more specialised in sector ``j`` than the reference.
    Against the cluster reference the employment-weighted mean of each column is 1:
    ``Σ_i e_i LQ_ij / e = 1``.

    **Source**: Isard (1960) *Methods of Regional Analysis* (MIT Press); the 区位熵 of Chinese
    regional studies is the same ratio.

    **Variant**: a sector whose reference employment is 0 has no defined quotient;
    ``empty_sectors="raise"`` (default) rejects it, ``"drop"`` leaves its column out of the
    result.
    """
    X = _check_matrix(E)
    ref = X.sum(axis=0) if reference is None else _check_reference(reference, X.columns)
    if empty_sectors not in ("raise", "drop"):
        raise _fail("empty_sectors_option", value=empty_sectors)
    # Row shares use the unit's total over *all* sectors, also when empty ones are dropped.
    totals = X.sum(axis=1)
    zero = ref.to_numpy() <= 0
    if zero.any():
        if empty_sectors == "raise":
            raise _fail("empty_sector", sectors=_names(list(X.columns[zero])))
        X, ref = X.loc[:, ~zero], ref[~zero]
    ref_share = ref / ref.sum()
    return X.div(totals, axis=0).div(ref_share, axis=1)


def krugman_pairwise(E: pd.DataFrame) -> pd.DataFrame:
    """Krugman specialisation (dissimilarity) index for every pair of units.

    **Formula**: ``K_ij = Σ_k |s_ik − s_jk|`` with ``s`` the sector shares of each unit; 0 for
    identical structures, 2 for units with no sector in common. Symmetric, 0 on the diagonal.

    **Source**: Krugman (1991) *Geography and Trade* (the index of regional divergence
    between US regions and between European countries); Midelfart-Knarvik, Overman, Redding
    & Venables (2000) *The Location of European Industry* use the same sum.

    **Variant**: the sum without the factor ½ (range [0, 2]); halve it for the share of
    employment that would have to move to make the two structures equal.
    """
    X = _check_matrix(E, min_units=2)
    S = _shares(X).to_numpy()
    K = np.abs(S[:, None, :] - S[None, :, :]).sum(axis=2)
    return pd.DataFrame(K, index=X.index, columns=X.index)


def krugman_vs_rest(E: pd.DataFrame) -> pd.Series:
    """Krugman specialisation index of each unit against the rest of the cluster.

    **Formula**: ``K_i = Σ_k |s_ik − r_ik|`` with ``r_ik = Σ_{l≠i} e_lk / Σ_{l≠i} e_l`` the
    sector structure of all *other* units (unit ``i`` is excluded from its own reference, so a
    large unit is not compared with itself). Range [0, 2].

    **Source**: Krugman (1991); Midelfart-Knarvik et al. (2000) (index against the rest of the
    countries). **Variant**: the rest is employment-weighted when ``E`` holds counts and
    unit-weighted when it holds shares (module docstring); no factor ½.
    """
    X = _check_matrix(E, min_units=2)
    values = X.to_numpy()
    rest = values.sum(axis=0)[None, :] - values
    s = values / values.sum(axis=1, keepdims=True)
    r = rest / rest.sum(axis=1, keepdims=True)
    return pd.Series(np.abs(s - r).sum(axis=1), index=X.index, name="krugman")


def structural_similarity(E: pd.DataFrame) -> pd.DataFrame:
    """Structural similarity coefficient matrix of the units' sector structures.

    **Formula**: ``S_ij = Σ_k s_ik s_jk / √(Σ_k s_ik² · Σ_k s_jk²)`` — the cosine of the two
    structure vectors: 1 for identical (proportional) structures, 0 for disjoint ones.
    Symmetric with 1 on the diagonal; the same for counts and shares.

    **Source**: the coefficient proposed by UNIDO's International Centre for Industrial
    Studies (1979), used as the 产业结构相似系数 of Chinese regional studies.

    **Variant**: computed on whatever sectors ``E`` holds; studies of 同质化竞争 often restrict
    it to industrial sub-sectors — pass the columns to compare. With broad census sections a
    large common agriculture/construction block pushes every value towards 1.
    """
    X = _check_matrix(E)
    V = X.to_numpy()
    unit = V / np.linalg.norm(V, axis=1, keepdims=True)
    S = np.clip(unit @ unit.T, 0.0, 1.0)
    np.fill_diagonal(S, 1.0)
    return pd.DataFrame(S, index=X.index, columns=X.index)


def similarity_with_rest(E: pd.DataFrame) -> pd.Series:
    """Structural similarity of each unit with the rest of the cluster.

    **Formula**: ``S_i· = Σ_k e_ik r_ik / √(Σ_k e_ik² · Σ_k r_ik²)`` with
    ``r_ik = Σ_{l≠i} e_lk`` the employment of all *other* units (as in :func:`krugman_vs_rest`,
    a large unit is not compared with itself). Needs counts for an employment-weighted rest.
    """
    X = _check_matrix(E, min_units=2)
    V = X.to_numpy()
    rest = V.sum(axis=0)[None, :] - V
    num = (V * rest).sum(axis=1)
    den = np.linalg.norm(V, axis=1) * np.linalg.norm(rest, axis=1)
    if (den <= 0).any():
        raise _fail("empty_unit", units=_names(list(X.index[den <= 0])))
    return pd.Series(np.clip(num / den, 0.0, 1.0), index=X.index, name="similarity_rest")


def excess_similarity(E: pd.DataFrame) -> pd.DataFrame:
    """How much more alike two units are than either is to the rest of the cluster.

    **Formula**: ``X_ij = S_ij − max(S_i·, S_j·)`` with ``S_ij`` the structural similarity
    (:func:`structural_similarity`) and ``S_i·`` each unit's similarity with the rest of the
    cluster (:func:`similarity_with_rest`). ``X_ij > 0``: the pair shares a structure that
    the cluster as a whole does not have. Symmetric; the diagonal is 0.
    """
    S = structural_similarity(E).to_numpy()
    r = similarity_with_rest(E).to_numpy()
    X = S - np.maximum(r[:, None], r[None, :])
    np.fill_diagonal(X, 0.0)
    return pd.DataFrame(X, index=E.index, columns=E.index)


@dataclass(frozen=True)
class Homogeneity:
    """Result of :func:`homogeneous_competition`."""

    method: str               # "baseline" or "absolute"
    pairs: pd.DataFrame       # flagged: unit_a, unit_b, similarity, excess, shared
    cutoff: float             # the excess (baseline) or similarity (absolute) to exceed
    n_pairs: int              # pairs examined, n(n − 1)/2
    mean: float               # mean excess over all pairs (baseline), else mean S
    sd: float                 # its standard deviation (ddof = 0)
    rest_similarity: pd.Series


def homogeneous_competition(E: pd.DataFrame, *, method: str = "baseline", k: float = 1.0,
                            threshold: float = DEFAULT_SIMILARITY_THRESHOLD,
                            shared_lq: float = 1.0) -> Homogeneity:
    """Warning list of pairs whose employment structures are too alike (同质化竞争).

    **Rule** ``method="baseline"`` (default): a pair ``{i, j}`` is flagged when its excess
    similarity ``X_ij = S_ij − max(S_i·, S_j·)`` (:func:`excess_similarity`) is positive *and*
    above ``mean(X) + k·sd(X)`` over all ``n(n−1)/2`` pairs (``sd`` with ``ddof = 0``): the two
    units are more alike than either is to the rest of the cluster, by clearly more than pairs
    of this cluster usually are. The reference is the cluster itself, so a structure common to
    every unit (a large farming and construction block in broad census sections) does not
    make every pair "homogeneous".

    ``method="absolute"``: ``S_ij > threshold`` (strictly above; the 0.9 convention of the
    产业结构相似系数 literature, a coefficient above 0.9 read as 趋同). On broad sections this
    flags most pairs — on the 19 census sections of the Chengdu–Chongqing prefectures in 2020,
    98 of 120 — and is kept for comparison only.

    **Explanation**: ``shared`` lists the sectors in which both units have a location quotient
    above ``shared_lq`` against the cluster (their common specialisations), strongest
    first (by the smaller of the two quotients).

    **Source**: similarity coefficient of UNIDO (1979) (:func:`structural_similarity`); the
    baseline, a unit's similarity with the rest of its region, follows the practice of comparing
    specialisation against the rest of the region in Krugman (1991) and Midelfart-Knarvik et al.
    (2000); the cut-off ``mean + k·sd`` is this module's calibration (documented, data in the
    specification). Sorted by the rule's measure descending, ties in matrix order.
    """
    if method not in ("baseline", "absolute"):
        raise _fail("homogeneity_method", value=method)
    if not (math.isfinite(float(k)) and float(k) >= 0):
        raise _fail("homogeneity_k", value=k)
    if not (0.0 < float(threshold) <= 1.0):
        raise _fail("threshold", value=threshold)
    X = _check_matrix(E, min_units=2)
    S = structural_similarity(X).to_numpy()
    rest = similarity_with_rest(X)
    ex = excess_similarity(X).to_numpy()
    lq = location_quotients(X, empty_sectors="drop")
    iu, ju = np.triu_indices(len(X), k=1)
    s_pairs, x_pairs = S[iu, ju], ex[iu, ju]
    if method == "baseline":
        mean, sd = float(x_pairs.mean()), float(x_pairs.std())
        cutoff = max(0.0, mean + float(k) * sd)
        measure = x_pairs
    else:
        mean, sd = float(s_pairs.mean()), float(s_pairs.std())
        cutoff = float(threshold)
        measure = s_pairs
    keep = measure > cutoff
    order = np.lexsort((ju[keep], iu[keep], -measure[keep]))
    a, b = X.index[iu[keep]], X.index[ju[keep]]
    shared = []
    for ua, ub in zip(a, b, strict=True):
        both = lq.loc[[ua, ub]].min(axis=0)
        both = both[both > shared_lq].sort_values(ascending=False, kind="stable")
        shared.append(",".join(map(str, both.index)))
    pairs = pd.DataFrame({"unit_a": a, "unit_b": b, "similarity": s_pairs[keep],
                          "excess": x_pairs[keep], "shared": shared})
    return Homogeneity(method, pairs.iloc[order].reset_index(drop=True), cutoff,
                       len(iu), mean, sd, rest)


# ----------------------------------------------------------------------------- role rules

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
}
_OP_SIGNS = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}
_POP_MEASURES = ("pop_share", "pop_rank")


@dataclass(frozen=True)
class Condition:
    measure: str       # "pop_share", "pop_rank", "share:<group>" or "lq:<group>"
    op: str
    value: float


@dataclass(frozen=True)
class Rule:
    key: str           # tier or pole key
    mode: str          # "all" or "any"
    conditions: tuple[Condition, ...]
    label: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Group:
    key: str
    sectors: tuple[str, ...] | None       # explicit list, or
    all_except: tuple[str, ...] | None    # every sector of E except these
    label: Mapping[str, str] | None = None


@dataclass(frozen=True)
class RoleRules:
    """The role-classification rule, as loaded from ``roles.yaml`` (see that file)."""

    sector_prefix: str
    groups: Mapping[str, Group]
    tier_rules: tuple[Rule, ...]
    tier_default: str
    poles: tuple[Rule, ...]

    def measures(self) -> list[str]:
        seen: dict[str, None] = {}
        for rule in (*self.tier_rules, *self.poles):
            for c in rule.conditions:
                seen.setdefault(c.measure, None)
        return list(seen)


def _bad_rule(where: str, reason: str, **fmt: object) -> MetricInputError:
    text = t(f"metrics.struct.rules.{reason}", None, **fmt)
    return _fail("rules_invalid", where=where, reason=text)


# The rule file as a typed specification (cocity.spec): shape, types, comparison operators and
# tiers are checked by the models; measures naming a defined group and resolvable labels by
# RolesSpec's validator, which reports every such problem with its key path at once.
class LabelSpec(Spec):
    zh: str
    en: str


class ConditionSpec(Spec):
    measure: str
    op: Literal[">=", ">", "<=", "<"]
    value: pydantic.FiniteFloat


class _RuleSpec(Spec):
    all: list[ConditionSpec] | None = pydantic.Field(default=None, min_length=1)
    any: list[ConditionSpec] | None = pydantic.Field(default=None, min_length=1)
    label: LabelSpec | None = None

    @pydantic.model_validator(mode="after")
    def _one_mode(self) -> _RuleSpec:
        if (self.all is None) == (self.any is None):
            raise ValueError(t("metrics.struct.rules.mode"))
        return self

    @property
    def mode(self) -> str:
        return "all" if self.all is not None else "any"

    @property
    def conditions(self) -> list[ConditionSpec]:
        return self.all if self.all is not None else (self.any or [])


class TierRuleSpec(_RuleSpec):
    tier: Literal["core", "node", "hinterland"]


class PoleRuleSpec(_RuleSpec):
    pole: str


class GroupSpec(Spec):
    sectors: list[str] | None = pydantic.Field(default=None, min_length=1)
    all_except: list[str] | None = None
    label: LabelSpec | None = None

    @pydantic.model_validator(mode="after")
    def _one_kind(self) -> GroupSpec:
        if (self.sectors is None) == (self.all_except is None):
            raise ValueError(t("metrics.struct.rules.group_spec"))
        return self


class TiersSpec(Spec):
    rules: list[TierRuleSpec]
    default: Literal["core", "node", "hinterland"]


class RolesSpec(Spec):
    """``roles.yaml``: sector groups, tier rules and pole rules (see that file)."""

    sector_prefix: str = ""
    groups: dict[str, GroupSpec]
    tiers: TiersSpec
    poles: list[PoleRuleSpec]

    @pydantic.model_validator(mode="after")
    def _resolvable(self) -> RolesSpec:
        problems = []
        rules: list[tuple[str, _RuleSpec]] = [
            (f"tiers.rules[{i}]", r) for i, r in enumerate(self.tiers.rules)]
        rules += [(f"poles[{i}]", r) for i, r in enumerate(self.poles)]
        for where, rule in rules:
            for j, c in enumerate(rule.conditions):
                head, _, group = c.measure.partition(":")
                if c.measure not in _POP_MEASURES and (
                        head not in ("share", "lq") or group not in self.groups):
                    problems.append(f"{where}.{rule.mode}[{j}].measure: " + t(
                        "metrics.struct.rules.measure", measure=c.measure))
        for key, g in self.groups.items():
            if g.label is None and f"metrics.struct.group.{key}" not in labels():
                problems.append(f"groups.{key}: " + t("metrics.struct.rules.no_label"))
        for i, p in enumerate(self.poles):
            if p.label is None and f"metrics.struct.pole.{p.pole}" not in labels():
                problems.append(f"poles[{i}] ({p.pole}): " + t("metrics.struct.rules.no_label"))
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _rule(spec: _RuleSpec, key: str) -> Rule:
    return Rule(key, spec.mode, tuple(Condition(c.measure, c.op, float(c.value))
                                      for c in spec.conditions),
                spec.label.model_dump() if spec.label is not None else None)


def load_role_rules(source: str | Path | Mapping[str, Any] | None = None) -> RoleRules:
    """The role rule from a YAML file, a mapping with the same layout, or (``None``) the
    shipped default ``cocity/metrics/roles.yaml``, read with :func:`cocity.spec.load_spec`:
    every problem of the file (key path and reason) is reported at once as a
    :class:`~cocity.spec.SpecError`."""
    spec = load_spec(RolesSpec, source, package=__package__, default="roles.yaml")
    groups = {key: Group(key, tuple(g.sectors) if g.sectors is not None else None,
                         tuple(g.all_except) if g.all_except is not None else None,
                         g.label.model_dump() if g.label is not None else None)
              for key, g in spec.groups.items()}
    return RoleRules(spec.sector_prefix, groups,
                     tuple(_rule(r, r.tier) for r in spec.tiers.rules), spec.tiers.default,
                     tuple(_rule(r, r.pole) for r in spec.poles))


def _group_label(g: Group, lang: str) -> str:
    if g.label is not None:
        return g.label[lang]
    key = f"metrics.struct.group.{g.key}"
    if key not in labels():
        raise _bad_rule(f"groups.{g.key}", "no_label")
    return t(key, lang)


def _rule_label(rule: Rule, kind: str, lang: str) -> str:
    if rule.label is not None:
        return rule.label[lang]
    key = f"metrics.struct.{kind}.{rule.key}"
    if key not in labels():
        raise _bad_rule(f"{kind}s.{rule.key}", "no_label")
    return t(key, lang)


def _measure_label(measure: str, rules: RoleRules, lang: str) -> str:
    if measure in _POP_MEASURES:
        return t(f"metrics.struct.measure.{measure}", lang)
    head, _, group = measure.partition(":")
    return t(f"metrics.struct.measure.{head}", lang,
             group=_group_label(rules.groups[group], lang))


def _group_columns(g: Group, columns: pd.Index, prefix: str) -> list[str]:
    def column(sector: str) -> str:
        for name in (sector, prefix + sector):
            if name in columns:
                return name
        raise _fail("group_sector", group=g.key, sector=sector)

    if g.sectors is not None:
        return [column(s) for s in g.sectors]
    excluded = {column(s) for s in g.all_except or ()}
    cols = [c for c in columns if c not in excluded]
    if not cols:
        raise _fail("group_empty", group=g.key)
    return cols


def _compute_measures(X: pd.DataFrame, population: pd.Series | None, rules: RoleRules,
                      reference: pd.Series | None) -> pd.DataFrame:
    wanted = rules.measures()
    out = pd.DataFrame(index=X.index)
    totals = X.sum(axis=1)
    if any(m in _POP_MEASURES for m in wanted):
        if population is None:
            raise _fail("population_needed")
        P = pd.Series(population, dtype=float).reindex(X.index)
        if P.isna().any():
            raise _fail("population_missing", units=_names(list(X.index[P.isna().to_numpy()])))
        if not (np.isfinite(P.to_numpy()).all() and (P.to_numpy() > 0).all()):
            raise _fail("population_positive")
    ref = X.sum(axis=0) if reference is None else _check_reference(reference, X.columns)
    for m in wanted:
        if m == "pop_share":
            out[m] = P / P.sum()
        elif m == "pop_rank":
            out[m] = P.rank(ascending=False, method="min")
        else:
            head, _, group = m.partition(":")
            cols = _group_columns(rules.groups[group], X.columns, rules.sector_prefix)
            share = X[cols].sum(axis=1) / totals
            if head == "share":
                out[m] = share
            else:
                ref_share = float(ref[cols].sum() / ref.sum())
                if ref_share <= 0:
                    raise _fail("empty_group", group=group)
                out[m] = share / ref_share
    return out


def _fire(rule: Rule, row: pd.Series) -> list[Condition] | None:
    """The conditions that justify ``rule`` for this unit, or ``None`` if it does not fire."""
    held = [c for c in rule.conditions if _OPS[c.op](float(row[c.measure]), c.value)]
    if rule.mode == "all":
        return list(rule.conditions) if len(held) == len(rule.conditions) else None
    return held or None


def _explain(conds: list[Condition], row: pd.Series, rules: RoleRules, lang: str) -> str:
    parts = []
    for c in conds:
        value = float(row[c.measure])
        shown = f"{int(value)}" if c.measure == "pop_rank" else f"{value:.3g}"
        op = _OP_SIGNS[c.op]
        parts.append(f"{_measure_label(c.measure, rules, lang)} = {shown} {op} {c.value:g}")
    return t("metrics.struct.role.cond_sep", lang).join(parts)


def classify_roles(E: pd.DataFrame, *, population: pd.Series | None = None,
                   tier: pd.Series | None = None,
                   rules: RoleRules | str | Path | Mapping[str, Any] | None = None,
                   reference: pd.Series | None = None,
                   lang: str | None = None) -> pd.DataFrame:
    """Each unit's role in the cluster: a tier (core / node / hinterland) and functional poles.

    **Rule** (data, not code: ``cocity/metrics/roles.yaml`` by default, or ``rules``): sector
    *groups* (e.g. tourism = accommodation & catering + culture, sports & entertainment) define
    the measures ``share:<group>`` (the group's share of the unit's employment, 0–1) and
    ``lq:<group>`` (the group's location quotient, :func:`location_quotients` summed over the
    group, against the cluster or ``reference``); ``pop_share`` (``P_i / Σ P``) and
    ``pop_rank`` (1 = most populous) use ``population``. The **tier** is the first tier rule
    that fires, in file order, else the default; a rule fires when ``all`` (or ``any``) of its
    conditions hold. A given ``tier`` Series (values core / node / hinterland, e.g. the
    ``tier`` column of the units table) takes precedence over the tier rules. Every **pole**
    rule is evaluated on its own: a unit may be several poles or none.

    **Default rule** (``roles.yaml``; the source text's division of labour: core cities keep
    high-end services — 做加法 — while node cities specialise as 制造极, 文旅极, 物流极 …):
    core = ``pop_share ≥ 0.15`` and ``share:tertiary ≥ 0.5``; node = any of
    ``pop_share ≥ 0.04``, ``lq:manufacturing ≥ 1``, ``lq:advanced_services ≥ 0.75``; else
    hinterland. Poles: ``lq ≥ 1.2`` of manufacturing; tourism (accommodation & catering +
    culture/sports); logistics (transport, storage & post); advanced services (ICT, finance,
    leasing & business services, research & technical services); energy (mining + utilities).
    The population thresholds suit a prefecture-level cluster of some 10–20 cities; for
    counties pass ``tier``.

    **Returns** one row per unit: ``tier``, ``tier_label``, ``tier_source`` (``rule`` /
    ``given`` / ``default``), ``tier_reason``, ``poles`` (comma-separated keys, ``""`` for
    none), ``pole_labels``, ``pole_reasons``, ``role_label``, then one column per measure the
    rule uses (named as in the rule, e.g. ``lq:manufacturing``). Reasons name the rule that
    fired and the values that made it fire, in ``lang`` (default: the current language).
    """
    X = _check_matrix(E)
    rule_set = rules if isinstance(rules, RoleRules) else load_role_rules(rules)
    lang = lang or current_lang()
    given: dict[Any, str] | None = None
    if tier is not None:
        tiers = pd.Series(tier).reindex(X.index)
        if tiers.isna().any():
            raise _fail("tier_missing", units=_names(list(X.index[tiers.isna().to_numpy()])))
        bad = sorted({str(v) for v in tiers if v not in TIERS})
        if bad:
            raise _fail("tier_value", values=_names(bad), allowed=", ".join(TIERS))
        given = {u: str(v) for u, v in tiers.items()}
    M = _compute_measures(X, population, rule_set, reference)
    sep = t("metrics.struct.role.list_sep", lang)
    colon = t("metrics.struct.role.reason_sep", lang)
    reasons_sep = t("metrics.struct.role.reasons_sep", lang)
    records = []
    for unit, row in M.iterrows():
        if given is not None:
            tier_key, source = given[unit], "given"
            reason = t("metrics.struct.role.tier_given", lang)
        else:
            tier_key, source, reason = rule_set.tier_default, "default", ""
            for rule in rule_set.tier_rules:
                conds = _fire(rule, row)
                if conds is not None:
                    tier_key, source = rule.key, "rule"
                    reason = _explain(conds, row, rule_set, lang)
                    break
            else:
                reason = t("metrics.struct.role.tier_default", lang)
        tier_label = t(f"metrics.struct.tier.{tier_key}", lang)
        pole_keys, pole_labels, pole_reasons = [], [], []
        for rule in rule_set.poles:
            conds = _fire(rule, row)
            if conds is not None:
                label = _rule_label(rule, "pole", lang)
                pole_keys.append(rule.key)
                pole_labels.append(label)
                pole_reasons.append(f"{label}{colon}{_explain(conds, row, rule_set, lang)}")
        records.append({
            "tier": tier_key,
            "tier_label": tier_label,
            "tier_source": source,
            "tier_reason": f"{tier_label}{colon}{reason}",
            "poles": ",".join(pole_keys),
            "pole_labels": sep.join(pole_labels),
            "pole_reasons": reasons_sep.join(pole_reasons),
            "role_label": " · ".join([tier_label, *pole_labels]),
        })
    out = pd.DataFrame.from_records(records, index=M.index)
    return pd.concat([out, M], axis=1)
