"""Grades of the public-service evaluation (优秀 / 良好 / 合格 / 不合格), rewards and rectification.

Grades are data (``grading.yaml`` beside this module, or the user's own file or mapping): an
ordered list of codes with bilingual labels, best first — by default ``excellent`` 优秀,
``good`` 良好, ``pass`` 合格, ``fail`` 不合格. Below, grade ``g`` is counted from 0 (the best) to
``G − 1`` (the lowest); one grade up means ``g − 1``.

**Base rule** (``rule.kind``), one threshold per grade except the lowest:

- ``absolute``: score cut-offs ``c_0 > c_1 > … > c_{G−2}``; a unit gets the best grade ``g``
  with ``score ≥ c_g`` (a score exactly at a cut-off reaches it), the lowest grade when the score
  is below every cut-off. Comparisons are exact: a score computed as 79.99999999 is below 80.
- ``quantile``: shares from the top ``q_0, …, q_{G−2}``, each in ``(0, 1)``, summing to at most
  1, cumulated ``C_g = q_0 + … + q_g``. Among the ``n`` units with a score, each unit gets a
  rank ``r`` (1 = highest score). Ties (``ties``): ``average`` (default) — tied units share the
  mean of the ranks they occupy (two units tied for 2nd and 3rd both get 2.5); ``min`` — they
  share the best of them (both get 2). The unit gets the best grade ``g`` with ``r ≤ C_g · n``
  (up to 1e-9), the lowest grade when ``r > C_{G−2} · n``. Without ties a grade thus holds
  ``⌊C_g n⌋ − ⌊C_{g−1} n⌋`` units; tied units always share a grade, which may hold one more or
  fewer unit than that. If the shares sum to 1 the lowest grade stays empty.

**Improvement** (optional ``improvement``), only for a unit with both a score and a previous
score (``change = score − previous``): ``change ≥ min_gain`` moves the base grade up one, never
above the best; with ``max_loss`` set, ``change ≤ −max_loss`` moves it down one, never below the
lowest. Changes are compared with a tolerance of 1e-9 points (70.3 − 65.3 counts as a gain of 5).

**Not evaluated**: a unit whose score is ``NaN`` keeps its row with grade ``NaN`` and reason
``not_evaluated``; it takes no rank and does not count in ``n``.

**Rewards and rectification**: units of the ``reward.grades`` (default the best grade) earn the
subsidy; units of the ``rectification.grades`` (default the lowest) must rectify within
``deadline_months`` (default 12) of the publication date, and their list names their
``top_k`` (default 3) largest obstacle degrees (:mod:`cocity.index.obstacles`).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pydantic
from numpy.typing import ArrayLike, NDArray
from scipy.stats import rankdata

from cocity.data.errors import CocityError, Issue
from cocity.i18n import current_lang, labels, t
from cocity.index.obstacles import top_obstacles
from cocity.index.uncertainty import column_percentile
from cocity.spec import Spec, SpecError, load_spec, read_yaml, validate_spec

KINDS = ("absolute", "quantile")
TIES = ("average", "min")
REASONS = (
    "not_evaluated",       # no score
    "cutoff",              # absolute: score ≥ the cut-off of its grade
    "below_cutoffs",       # absolute: score below every cut-off (the lowest grade)
    "share",               # quantile: rank within the cumulated share of its grade
    "beyond_shares",       # quantile: rank beyond every share (the lowest grade)
    "improved",            # moved up one grade for a gain ≥ min_gain
    "improved_at_top",     # gain ≥ min_gain but already the best grade
    "declined",            # moved down one grade for a loss ≥ max_loss
    "declined_at_bottom",  # loss ≥ max_loss but already the lowest grade
)
LIST_COLUMNS = (
    "unit", "name_zh", "name_en", "parent", "grade", "grade_zh", "grade_en", "score", "change",
    "rank", "rank_low", "rank_high", "uncertain",
)
CHANGE_TOL = 1e-9
_RANK_TOL = 1e-9
_K = "evaluate.grades."


class GradingError(CocityError, ValueError):
    """Invalid grading rules or inputs; ``issues`` lists every problem found."""

    def __init__(self, issues: Sequence[str], name: str | None = None):
        self.issues = list(issues)
        lines = "\n".join(f"  - {i}" for i in self.issues)
        head = t(_K + "err.invalid", name=name, n=len(self.issues)) if name is not None else None
        super().__init__(f"{head}\n{lines}" if head else lines)


# ----------------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Grade:
    """One grade: its code and its label in both languages (``key``: the i18n key, if any)."""

    code: str
    zh: str
    en: str
    key: str | None = None

    def label(self, lang: str | None = None) -> str:
        return self.zh if (lang or current_lang()) == "zh" else self.en


@dataclass(frozen=True)
class GradingRules:
    """Validated grading rules (see the module docstring for every rule).

    ``thresholds`` holds the cut-offs (``kind="absolute"``) or the shares (``"quantile"``), one
    per grade except the lowest, best grade first. ``min_gain`` / ``max_loss`` of ``None``
    switch that half of the improvement rule off.
    """

    grades: tuple[Grade, ...]
    kind: str
    thresholds: tuple[float, ...]
    ties: str = "average"
    min_gain: float | None = None
    max_loss: float | None = None
    rectify: tuple[str, ...] = ("fail",)
    deadline_months: int = 12
    top_k: int = 3
    reward: tuple[str, ...] = ("excellent",)
    name: str = "custom"

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(g.code for g in self.grades)

    def level(self, code: str) -> int:
        """Position of grade ``code``, 0 = best."""
        return self.codes.index(code)

    def label(self, code: str, lang: str | None = None) -> str:
        """The label of grade ``code`` in ``lang`` (default: the current language)."""
        return self.grades[self.level(code)].label(lang)

    @property
    def dtype(self) -> pd.CategoricalDtype:
        """Ordered categorical of the grade codes, lowest first (so ``max`` is the best)."""
        return pd.CategoricalDtype(list(reversed(self.codes)), ordered=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GradingRules:
        """Rules from a mapping shaped like ``grading.yaml``; raises
        :class:`~cocity.spec.SpecError` listing every problem with its key. Missing sections:
        ``grades`` → the shipped four grades,
        ``improvement`` → off, ``rectification`` → the lowest grade, 12 months, top 3,
        ``reward`` → the best grade; ``rule`` is required."""
        return _parse(data)

    def to_dict(self) -> dict[str, Any]:
        """A mapping that :meth:`from_dict` reads back into equal rules (for run manifests)."""
        grades = [{"code": g.code, "label": g.key} if g.key else
                  {"code": g.code, "zh": g.zh, "en": g.en} for g in self.grades]
        field = "cutoffs" if self.kind == "absolute" else "shares"
        rule: dict[str, Any] = {"kind": self.kind,
                                field: dict(zip(self.codes, self.thresholds, strict=False))}
        if self.kind == "quantile":
            rule["ties"] = self.ties
        out: dict[str, Any] = {"name": self.name, "grades": grades, "rule": rule}
        if self.min_gain is not None or self.max_loss is not None:
            out["improvement"] = {"min_gain": self.min_gain, "max_loss": self.max_loss}
        out["rectification"] = {"grades": list(self.rectify),
                                 "deadline_months": self.deadline_months, "top_k": self.top_k}
        out["reward"] = {"grades": list(self.reward)}
        return out


def _msg(key: str, **fmt: object) -> str:
    return t(_K + "err." + key, None, **fmt)


# ---------------------------------------------------------------- the rules file, typed
Finite = Annotated[float, pydantic.Field(strict=True, allow_inf_nan=False)]
Positive = Annotated[float, pydantic.Field(strict=True, allow_inf_nan=False, gt=0)]
Count = Annotated[int, pydantic.Field(strict=True, gt=0)]


class GradeSpec(Spec):
    code: Annotated[str, pydantic.Field(min_length=1)]
    label: str | None = None
    zh: str | None = None
    en: str | None = None


class RuleSpec(Spec):
    """``absolute``: ``cutoffs`` per grade but the lowest; ``quantile``: ``shares`` (and
    ``ties``)."""

    kind: Literal["absolute", "quantile"]
    cutoffs: dict[str, Finite] | None = None
    shares: dict[str, Finite] | None = None
    ties: Literal["average", "min"] | None = None


class ImprovementSpec(Spec):
    min_gain: Positive | None = None
    max_loss: Positive | None = None


class RectificationSpec(Spec):
    grades: Annotated[list[str], pydantic.Field(min_length=1)] | None = None
    deadline_months: Count = 12
    top_k: Count = 3


class RewardSpec(Spec):
    grades: Annotated[list[str], pydantic.Field(min_length=1)] | None = None


class GradingSpec(Spec):
    """The grading rules file (``grading.yaml``): its shape, checked by :mod:`cocity.spec`; the
    rules between its parts are checked by :func:`_rules_of`."""

    name: str = "custom"
    description: str | None = None
    grades: Annotated[list[GradeSpec], pydantic.Field(min_length=2)] | None = None
    rule: RuleSpec
    improvement: ImprovementSpec | None = None
    rectification: RectificationSpec = pydantic.Field(default_factory=RectificationSpec)
    reward: RewardSpec = pydantic.Field(default_factory=RewardSpec)


def _grades_of(spec: GradingSpec, add: Callable[[str, str], None]) -> tuple[Grade, ...]:
    entries = spec.grades if spec.grades is not None else [
        GradeSpec.model_validate(g) for g in _shipped()["grades"]]
    grades: list[Grade] = []
    for i, entry in enumerate(entries):
        where = f"grades[{i}]"
        if entry.code in (g.code for g in grades):
            add(where, _msg("grade_dup", code=entry.code))
        elif entry.label is not None and entry.label in labels():
            found = labels()[entry.label]
            grades.append(Grade(entry.code, found["zh"], found["en"], entry.label))
        elif entry.label is None and entry.zh and entry.en:
            grades.append(Grade(entry.code, entry.zh, entry.en))
        else:
            add(where, _msg("grade_label", code=entry.code))
    return tuple(grades)


def _thresholds(spec: GradingSpec, codes: tuple[str, ...],
                add: Callable[[str, str], None]) -> tuple[float, ...]:
    rule = spec.rule
    field, other = ("cutoffs", "shares") if rule.kind == "absolute" else ("shares", "cutoffs")
    if getattr(rule, other) is not None:
        add(f"rule.{other}", _msg("unknown_keys", where="rule", keys=other,
                                  allowed=", ".join(("kind", field) if rule.kind == "absolute"
                                                    else ("kind", field, "ties"))))
    if rule.kind == "absolute" and rule.ties is not None:
        add("rule.ties", _msg("unknown_keys", where="rule", keys="ties",
                              allowed="kind, cutoffs"))
    values = getattr(rule, field) or {}
    if set(values) != set(codes[:-1]):
        add(f"rule.{field}", _msg("rule_values", field=field, expected=", ".join(codes[:-1]),
                                  value=", ".join(map(str, values)) or "—"))
        return ()
    nums = tuple(float(values[c]) for c in codes[:-1])
    if rule.kind == "absolute":
        for (a, va), (b, vb) in zip(zip(codes, nums, strict=False),
                                    zip(codes[1:], nums[1:], strict=False), strict=False):
            if not va > vb:
                add(f"rule.cutoffs.{b}", _msg("cutoffs_order", upper=a, upper_value=va,
                                               lower=b, lower_value=vb))
    else:
        for c, v in zip(codes, nums, strict=False):
            if not 0 < v < 1:
                add(f"rule.shares.{c}", _msg("share_range", code=c, value=v))
        if sum(nums) > 1 + 1e-9:
            add("rule.shares", _msg("share_sum", total=sum(nums)))
    return nums


def _rules_of(spec: GradingSpec, origin: str) -> GradingRules:
    """The rules of a well-shaped file, after the checks between its parts (grade labels and
    codes, thresholds per grade, their order and range, the grades named by the lists); every
    problem at once as a :class:`~cocity.spec.SpecError`."""
    problems: list[Issue] = []

    def add(key: str, message: str) -> None:
        problems.append(Issue(message, origin, key=key))

    grades = _grades_of(spec, add)
    codes = tuple(g.code for g in grades)
    thresholds = _thresholds(spec, codes, add) if len(codes) >= 2 else ()
    refs: dict[str, tuple[str, ...]] = {}
    for where, given, default in (("rectification.grades", spec.rectification.grades,
                                   list(codes[-1:])),
                                  ("reward.grades", spec.reward.grades, list(codes[:1]))):
        chosen = given if given is not None else default
        unknown = [c for c in chosen if c not in codes]
        if unknown:
            add(where, _msg("grade_refs", where=where, codes=", ".join(codes), value=chosen))
        refs[where] = tuple(dict.fromkeys(chosen))
    if problems:
        raise SpecError(problems)
    imp = spec.improvement or ImprovementSpec()
    return GradingRules(
        grades=grades, kind=spec.rule.kind, thresholds=thresholds,
        ties=spec.rule.ties or "average",
        min_gain=imp.min_gain, max_loss=imp.max_loss, rectify=refs["rectification.grades"],
        deadline_months=spec.rectification.deadline_months, top_k=spec.rectification.top_k,
        reward=refs["reward.grades"], name=spec.name)


def _parse(data: Mapping[str, Any], origin: str = "<rules>") -> GradingRules:
    return _rules_of(validate_spec(GradingSpec, data, origin=origin), origin)


@cache
def _shipped() -> dict[str, Any]:
    data, _ = read_yaml(package="cocity.evaluate", default="grading.yaml")
    return dict(data or {})


def load_rules(source: GradingRules | str | Path | Mapping[str, Any] | None = None
               ) -> GradingRules:
    """Grading rules: ``None`` → the shipped ``grading.yaml``; a path to a YAML file; a mapping
    (as :meth:`GradingRules.from_dict`); rules already loaded are returned as they are. Every
    problem of a file comes back at once as a :class:`~cocity.spec.SpecError` naming the key."""
    if isinstance(source, GradingRules):
        return source
    if source is None:
        return _parse(_shipped(), "grading.yaml")
    if isinstance(source, Mapping):
        return _parse(source)
    spec = load_spec(GradingSpec, source)
    return _rules_of(spec, str(source))


# ------------------------------------------------------------------------------ the rule


def _ranks(S: NDArray[np.float64], method: str) -> NDArray[np.float64]:
    """Ranks along the last axis, 1 = highest; ``method`` "average" or "min"; NaN stays NaN."""
    missing = np.isnan(S)
    r = rankdata(np.where(missing, np.inf, -S), axis=-1, method=method)
    return np.where(missing, np.nan, r)


def _levels(rules: GradingRules, S: NDArray[np.float64], previous: NDArray[np.float64] | None,
            *, min_ranks: NDArray[np.float64] | None = None
            ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64] | None]:
    """Base and final grade positions ``(R, n)`` (0 = best, −1 = not graded) of scores
    ``S`` ``(R, n)``, and the ranks the quantile rule used (``None`` for absolute rules);
    ``min_ranks``: the "min" ranks of ``S``, when already computed."""
    missing = np.isnan(S)
    G = len(rules.grades)
    ranks = None
    if rules.kind == "absolute":
        ascending = np.asarray(rules.thresholds[::-1])
        reached = np.searchsorted(ascending, np.where(missing, -np.inf, S), side="right")
        base = (G - 1) - reached
    else:
        ranks = (min_ranks if min_ranks is not None and rules.ties == "min"
                 else _ranks(S, rules.ties))
        n = (~missing).sum(axis=-1, keepdims=True)
        base = np.zeros(S.shape, dtype=np.int64)
        for bound in np.cumsum(rules.thresholds):
            base += ranks > bound * n + _RANK_TOL
    level = base.copy()
    if previous is not None:
        change = S - previous
        if rules.min_gain is not None:
            up = change >= rules.min_gain - CHANGE_TOL
            level = np.where(up, np.maximum(base - 1, 0), level)
        if rules.max_loss is not None:
            down = change <= -rules.max_loss + CHANGE_TOL
            level = np.where(down, np.minimum(base + 1, G - 1), level)
    base = np.where(missing, -1, base).astype(np.int64)
    level = np.where(missing, -1, level).astype(np.int64)
    return base, level, ranks


def _check_series(s: Any, what: str) -> pd.Series:
    if not isinstance(s, pd.Series):
        raise GradingError([_msg("series", what=what)])
    if s.index.has_duplicates:
        dup = sorted({str(u) for u in s.index[s.index.duplicated()]})
        raise GradingError([_msg("duplicates", what=what, units=", ".join(dup))])
    values = pd.to_numeric(s, errors="coerce").astype(float)
    bad = (values.isna() & s.notna()) | np.isinf(values)
    if bad.any():
        raise GradingError([_msg("values", what=what,
                                 units=", ".join(str(u) for u in s.index[bad]))])
    return values


def _codes(rules: GradingRules, levels: NDArray[np.int64], index: pd.Index) -> pd.Series:
    codes = np.array([*rules.codes, None], dtype=object)[levels]
    return pd.Series(pd.Categorical(codes, dtype=rules.dtype), index=index)


def assign_grades(scores: pd.Series, *,
                  rules: GradingRules | str | Path | Mapping[str, Any] | None = None,
                  previous: pd.Series | None = None,
                  change: pd.Series | None = None) -> pd.DataFrame:
    """Grade every unit of ``scores`` (indexed by unit code) with ``rules``.

    ``previous``: last run's scores by unit (units missing there have no previous score).
    ``change``: the change to judge instead of ``score − previous`` (e.g. a like-for-like
    change computed on the indicators two editions share, :mod:`cocity.evaluate.compare`);
    ``previous`` is then taken as ``score − change``. Give one of the two.
    Returns a frame indexed by unit (order of ``scores``) with columns

    - ``score``, ``previous``, ``change`` (``score − previous``, ``NaN`` if either is missing);
    - ``rank``: 1 = highest score among the units with a score, ties share the best rank
      (1, 2, 2, 4); ``NaN`` when not evaluated;
    - ``base_grade`` (the base rule) and ``grade`` (after the improvement rule): ordered
      categoricals of the grade codes (:attr:`GradingRules.dtype`), ``NaN`` when not evaluated;
    - ``reason``: one of :data:`REASONS`; ``reason_params``: a dict with what :func:`explain`
      needs (``rule``, the ``cutoff`` and ``cutoff_grade`` or the quantile ``rank``, ``n``,
      ``ties``, ``share_low`` and ``share_high``; ``change`` with ``min_gain`` or
      ``max_loss`` when the improvement rule fired).
    """
    rules = load_rules(rules)
    s = _check_series(scores, "scores")
    if change is not None:
        if previous is not None:
            raise GradingError([_msg("previous_and_change")])
        previous = s - _check_series(change, "change").reindex(s.index)
    prev = (_check_series(previous, "previous").reindex(s.index) if previous is not None
            else pd.Series(np.nan, index=s.index))
    S = np.asarray(s.to_numpy(dtype=np.float64), dtype=np.float64)
    P = np.asarray(prev.to_numpy(dtype=np.float64), dtype=np.float64)
    base, level, qranks = _levels(rules, S[None, :], P if previous is not None else None)
    base, level = base[0], level[0]
    delta = S - P
    n = int(np.sum(~np.isnan(S)))
    cum = np.concatenate([[0.0], np.cumsum(rules.thresholds)])
    reasons: list[str] = []
    params: list[dict[str, Any]] = []
    G = len(rules.grades)
    for i in range(len(S)):
        if base[i] < 0:
            reasons.append("not_evaluated")
            params.append({})
            continue
        b = int(base[i])
        p: dict[str, Any] = {"rule": rules.kind}
        if rules.kind == "absolute":
            code = "cutoff" if b < G - 1 else "below_cutoffs"
            at = b if b < G - 1 else G - 2
            p.update(cutoff=rules.thresholds[at], cutoff_grade=rules.codes[at])
        else:
            assert qranks is not None
            code = "share" if b < G - 1 else "beyond_shares"
            p.update(rank=float(qranks[0, i]), n=n, ties=rules.ties,
                     share_low=float(cum[b]), share_high=float(cum[b + 1]) if b < G - 1 else 1.0)
        if level[i] < b:
            code = "improved"
            p.update(change=float(delta[i]), min_gain=rules.min_gain)
        elif level[i] > b:
            code = "declined"
            p.update(change=float(delta[i]), max_loss=rules.max_loss)
        elif rules.min_gain is not None and delta[i] >= rules.min_gain - CHANGE_TOL:
            code = "improved_at_top"
            p.update(change=float(delta[i]), min_gain=rules.min_gain)
        elif rules.max_loss is not None and delta[i] <= -rules.max_loss + CHANGE_TOL:
            code = "declined_at_bottom"
            p.update(change=float(delta[i]), max_loss=rules.max_loss)
        reasons.append(code)
        params.append(p)
    out = pd.DataFrame({
        "score": S, "previous": P, "change": delta,
        "rank": _ranks(S, "min"),
    }, index=pd.Index(s.index, name="unit"))
    out["base_grade"] = _codes(rules, base, out.index)
    out["grade"] = _codes(rules, level, out.index)
    out["reason"] = reasons
    out["reason_params"] = pd.Series(params, index=out.index, dtype=object)
    return out


def explain(row: Mapping[str, Any] | pd.Series, lang: str | None = None,
            rules: GradingRules | None = None) -> str:
    """One sentence saying why a row of :func:`assign_grades` got its grade, in ``lang``
    (default: the current language). Grade labels come from ``rules`` (default: the shipped
    rules; a code they do not know is shown as it is)."""
    rules = rules or load_rules()
    lang = lang or current_lang()
    reason = str(row["reason"])
    if reason == "not_evaluated":
        return t(_K + "explain.not_evaluated", lang)
    p = dict(row["reason_params"])

    def name(code: Any) -> str:
        return rules.label(str(code), lang) if str(code) in rules.codes else str(code)

    base, grade, score = row["base_grade"], row["grade"], float(row["score"])
    if p["rule"] == "absolute":
        key = "below" if str(base) == rules.codes[-1] else "cutoff"
        text = t(_K + f"explain.{key}", lang, score=score, cutoff=p["cutoff"],
                 at=name(p["cutoff_grade"]), grade=name(base))
    else:
        ties = t(_K + f"explain.ties.{p['ties']}", lang)
        key = ("quantile_rest" if base == rules.codes[-1] else
               "quantile_top" if p["share_low"] == 0 else "quantile")
        text = t(_K + f"explain.{key}", lang, rank=p["rank"], n=p["n"], ties=ties,
                 low=100 * p["share_low"], high=100 * p["share_high"], grade=name(base))
    if reason in ("improved", "improved_at_top", "declined", "declined_at_bottom"):
        text += t(_K + "explain.join", lang) + t(
            _K + f"explain.{reason}", lang, change=p["change"], loss=-p["change"],
            min_gain=p.get("min_gain"), max_loss=p.get("max_loss"), base=name(base),
            grade=name(grade))
    return text


# ------------------------------------------------------------------------- uncertainty


def grade_uncertainty(
    replicated_scores: ArrayLike,
    units: Sequence[str] | pd.Index,
    *,
    rules: GradingRules | str | Path | Mapping[str, Any] | None,
    nominal: pd.DataFrame,
    previous: pd.Series | None = None,
    coverage: float = 0.90,
    ranks: pd.DataFrame | None = None,
    replicated_ranks: ArrayLike | None = None,
) -> pd.DataFrame:
    """How stable each unit's grade is across the replications of an uncertainty analysis.

    ``replicated_scores`` ``(R, n)``: the scores of the ``n`` ``units`` in R replications (e.g.
    :attr:`cocity.index.uncertainty.UncertaintyResult.scores`), ``NaN`` = no score. Every
    replication is graded with the same ``rules`` and ``previous`` scores as the nominal run
    (a quantile rule re-ranks the units within each replication). ``nominal``: the output of
    :func:`assign_grades` for the nominal scores (its ``grade`` column is used).

    Returns a frame indexed by unit (the order of ``units``) with columns

    - ``grade``: the nominal grade; ``share_nominal``: the share of the unit's graded
      replications that give the nominal grade;
    - ``grade_low`` / ``grade_high``: the lowest and the highest grade of the central
      ``coverage`` interval of the replication grades: the interval drops at most
      ``(1 − coverage)/2`` of the unit's graded replications at each end — ``grade_high`` is
      the best grade ``g`` with share(grade at least as good as ``g``) > ``(1 − coverage)/2``,
      ``grade_low`` the worst grade ``g`` with share(grade at least as bad as ``g``) >
      ``(1 − coverage)/2`` (with a 1e-9 tolerance: with coverage 0.9, a grade reached in
      exactly 5 % of the replications at one end is dropped);
    - ``uncertain``: the interval spans more than one grade (nullable boolean);
    - ``share_<code>`` for every grade: the share of graded replications with that grade;
    - ``rank_low`` / ``rank_high``: a rank interval (1 = best; ``rank_low ≤ rank_high``) taken
      from ``ranks`` if given (columns ``rank_low``/``rank_high``, or ``p05``/``p95`` as in
      :attr:`UncertaintyResult.rank_summary`, matched by unit), else computed from the
      replications: ranks with ties sharing the best rank, their ``(1 − coverage)/2`` and
      ``(1 + coverage)/2`` percentiles taken at observed ranks (NumPy's ``lower`` and
      ``higher`` methods), so that the interval holds whole ranks; given bounds are rounded
      outwards.

    ``replicated_ranks`` ``(R, n)``: the replications' ranks already computed from
    ``replicated_scores`` (1 = best, ties sharing the best rank, ``NaN`` = no score: e.g.
    :attr:`cocity.index.uncertainty.UncertaintyResult.ranks`), used instead of ranking the
    scores again — for the rank interval and for a quantile rule whose ties take the best rank.

    Units never graded (``NaN`` in every replication) get ``NaN`` shares and grades and
    ``uncertain`` ``<NA>``.
    """
    rules = load_rules(rules)
    idx = pd.Index(units, name="unit")
    S = np.asarray(replicated_scores, dtype=float)
    if S.ndim != 2 or S.shape[1] != len(idx):
        raise GradingError([_msg("replications_shape", n=len(idx), shape=S.shape)])
    if np.isinf(S).any():
        raise GradingError([_msg("values", what="replicated_scores", units="inf")])
    if isinstance(coverage, bool) or not 0 < float(coverage) < 1:
        raise GradingError([_msg("coverage", value=coverage)])
    if "grade" not in nominal.columns or not idx.isin(nominal.index).all():
        missing = [str(u) for u in idx if u not in nominal.index] or ["grade"]
        raise GradingError([_msg("nominal", units=", ".join(missing))])
    prev = None
    if previous is not None:
        prev = _check_series(previous, "previous").reindex(idx).to_numpy(dtype=float)
    given = None
    if replicated_ranks is not None:
        given = np.asarray(replicated_ranks, dtype=float)
        if given.shape != S.shape or not np.array_equal(np.isnan(given), np.isnan(S)):
            raise GradingError([_msg("replications_shape", n=len(idx), shape=given.shape)])
    _base, lev, _r = _levels(rules, S, prev, min_ranks=given)

    G = len(rules.grades)
    counts = np.stack([(lev == g).sum(axis=0) for g in range(G)], axis=1)        # (n, G)
    total = counts.sum(axis=1)
    limit = (1.0 - float(coverage)) / 2.0 * total + 1e-9 * np.maximum(total, 1)
    at_least = np.cumsum(counts, axis=1)                  # grade as good as g or better
    at_most = total[:, None] - np.concatenate([np.zeros((len(idx), 1), int), at_least[:, :-1]],
                                              axis=1)     # grade as bad as g or worse
    graded = total > 0
    high = np.where(graded, G - (at_least > limit[:, None]).sum(axis=1), -1)
    low = np.where(graded, (at_most > limit[:, None]).sum(axis=1) - 1, -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = counts / total[:, None]

    nominal_grade = nominal["grade"].reindex(idx)
    nom = np.array([rules.level(str(g)) if pd.notna(g) and str(g) in rules.codes else -1
                    for g in nominal_grade], dtype=np.int64)
    unknown = [str(g) for g in nominal_grade.dropna() if str(g) not in rules.codes]
    if unknown:
        raise GradingError([_msg("unknown_grade", where="nominal", codes=", ".join(unknown))])
    share_nominal = np.where((nom >= 0) & graded,
                             shares[np.arange(len(idx)), np.maximum(nom, 0)], np.nan)
    out = pd.DataFrame(index=idx)
    out["grade"] = _codes(rules, nom, idx)
    out["share_nominal"] = share_nominal
    out["grade_low"] = _codes(rules, low.astype(np.int64), idx)
    out["grade_high"] = _codes(rules, high.astype(np.int64), idx)
    out["uncertain"] = pd.array(np.where(graded, low != high, False), dtype="boolean")
    out.loc[~graded, "uncertain"] = pd.NA
    for g, code in enumerate(rules.codes):
        out[f"share_{code}"] = shares[:, g]
    lo, hi = _rank_interval(S, idx, coverage, ranks, given)
    out["rank_low"] = lo
    out["rank_high"] = hi
    return out


def _rank_interval(S: NDArray[np.float64], idx: pd.Index, coverage: float,
                   ranks: pd.DataFrame | None, replicated: NDArray[np.float64] | None = None
                   ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Whole-rank interval: given bounds rounded outwards (⌊low⌋, ⌈high⌉), or the
    replications' rank percentiles taken at observed ranks (``lower`` / ``higher``)."""
    if ranks is not None:
        for low, high in (("rank_low", "rank_high"), ("p05", "p95")):
            if low in ranks.columns and high in ranks.columns:
                got = ranks.reindex(idx)
                return (np.floor(got[low].to_numpy(dtype=float)),
                        np.ceil(got[high].to_numpy(dtype=float)))
        raise GradingError([_msg("ranks_columns")])
    tail = (1.0 - float(coverage)) / 2.0
    R = _ranks(S, "min") if replicated is None else replicated
    return (column_percentile(R, 100 * tail, method="lower"),
            column_percentile(R, 100 * (1 - tail), method="higher"))


# ------------------------------------------------------------------------------- lists


def _table(df: pd.DataFrame, keys: Sequence[str], columns: Sequence[str], what: str
           ) -> pd.DataFrame:
    """``df`` indexed by its first column of ``keys`` (else its index), checked for
    ``columns``."""
    for key in keys:
        if key in df.columns:
            df = df.set_index(key, drop=False)
            break
    df = df[~df.index.duplicated()]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise GradingError([_msg("columns", what=what, columns=", ".join(missing))])
    return df


def _base_list(graded: pd.DataFrame, names: pd.DataFrame, rules: GradingRules,
               wanted: Sequence[str], uncertainty: pd.DataFrame | None) -> pd.DataFrame:
    need = [c for c in ("score", "grade", "rank") if c not in graded.columns]
    if need:
        raise GradingError([_msg("columns", what="graded", columns=", ".join(need))])
    chosen = graded[graded["grade"].astype(object).isin(list(wanted))]
    names = _table(names, ("code",), ("name_zh", "name_en", "parent"), "names")
    missing = [str(u) for u in chosen.index if u not in names.index]
    if missing:
        raise GradingError([_msg("names_missing", units=", ".join(missing))])
    codes = [str(g) for g in chosen["grade"]]
    out = pd.DataFrame({
        "unit": [str(u) for u in chosen.index],
        "name_zh": names.loc[chosen.index, "name_zh"].to_numpy(),
        "name_en": names.loc[chosen.index, "name_en"].to_numpy(),
        "parent": names.loc[chosen.index, "parent"].to_numpy(),
        "grade": codes,
        "grade_zh": [rules.label(c, "zh") for c in codes],
        "grade_en": [rules.label(c, "en") for c in codes],
        "score": chosen["score"].to_numpy(dtype=float),
        "change": (chosen["change"].to_numpy(dtype=float) if "change" in chosen.columns
                   else np.full(len(chosen), np.nan)),
        "rank": chosen["rank"].to_numpy(dtype=float),
    })
    extra = uncertainty if uncertainty is not None else graded
    for col in ("rank_low", "rank_high"):
        out[col] = (extra[col].reindex(chosen.index).to_numpy(dtype=float)
                    if col in extra.columns else np.nan)
    if "uncertain" in extra.columns:
        out["uncertain"] = pd.array(extra["uncertain"].reindex(chosen.index).to_numpy(),
                                    dtype="boolean")
    else:
        out["uncertain"] = pd.array([pd.NA] * len(out), dtype="boolean")
    out = out.sort_values(["rank", "unit"], kind="stable").reset_index(drop=True)
    return out[list(LIST_COLUMNS)]


def reward_list(graded: pd.DataFrame, names: pd.DataFrame, *,
                rules: GradingRules | str | Path | Mapping[str, Any] | None = None,
                uncertainty: pd.DataFrame | None = None) -> pd.DataFrame:
    """The units that earn the subsidy: those whose ``grade`` is one of ``rules.reward``.

    ``graded``: :func:`assign_grades` output (optionally with the columns of
    :func:`grade_uncertainty` joined); ``names``: units with ``code`` (column or index),
    ``name_zh``, ``name_en``, ``parent`` (e.g. ``Store.units()``); ``uncertainty``: the output
    of :func:`grade_uncertainty`, for ``rank_low``, ``rank_high``, ``uncertain`` (missing:
    ``NaN`` / ``<NA>``). Columns :data:`LIST_COLUMNS`, one row per unit, by rank then code.
    Uncertain units stay on the list, flagged.
    """
    rules = load_rules(rules)
    return _base_list(graded, names, rules, rules.reward, uncertainty)


def add_months(date: dt.date, months: int) -> dt.date:
    """``date`` plus ``months`` calendar months; a day past the end of the target month becomes
    its last day (2021-08-31 + 6 months = 2022-02-28)."""
    y, m = divmod(date.month - 1 + months, 12)
    year, month = date.year + y, m + 1
    return dt.date(year, month, min(date.day, calendar.monthrange(year, month)[1]))


def _date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise GradingError([_msg("date", value=value)]) from None


def _obstacle_factor(obstacles: pd.DataFrame, scale: str) -> float:
    """100 for shares (rows summing to 1), 1 for percentages (rows summing to 100)."""
    if scale == "share":
        return 100.0
    if scale == "percent":
        return 1.0
    if scale != "auto":
        raise GradingError([_msg("obstacle_scale", scale=scale, sums="-")])
    sums = obstacles.sum(axis=1, skipna=True)
    sums = sums[sums > 0]
    if sums.empty or np.allclose(sums, 1.0, atol=1e-6):
        return 100.0
    if np.allclose(sums, 100.0, atol=1e-4):
        return 1.0
    shown = ", ".join(f"{v:g}" for v in sums.head(5))
    raise GradingError([_msg("obstacle_scale", scale=scale, sums=shown)])


def rectification_list(
    graded: pd.DataFrame,
    names: pd.DataFrame,
    *,
    obstacles: pd.DataFrame,
    indicator_names: pd.DataFrame,
    rules: GradingRules | str | Path | Mapping[str, Any] | None,
    publication_date: dt.date | str,
    uncertainty: pd.DataFrame | None = None,
    scale: str = "auto",
) -> pd.DataFrame:
    """The units that must rectify: those whose ``grade`` is one of ``rules.rectify``.

    Columns: :data:`LIST_COLUMNS`, then for ``i = 1 … top_k`` ``obstacle_i`` (indicator code),
    ``obstacle_i_name_zh``, ``obstacle_i_name_en``, ``obstacle_i_pct`` (obstacle degree in
    percent), then ``publication_date`` and ``deadline`` (ISO dates; the deadline is
    :func:`add_months` of the publication date by ``deadline_months``). One row per unit, by
    rank then code.

    ``obstacles``: units × indicators obstacle degrees (:func:`cocity.index.obstacles
    .obstacle_degree` as a frame); ``scale="auto"`` reads rows summing to 1 as shares and rows
    summing to 100 as percentages (``"share"`` / ``"percent"`` to say so). The main obstacles
    follow :func:`cocity.index.obstacles.top_obstacles`: largest first, ties by column order,
    only positive degrees; empty slots are missing (``NaN``). ``indicator_names``: ``id``
    or ``code`` (column or index), ``name_zh``, ``name_en`` (e.g. ``Store.catalog()``). Other
    arguments as in :func:`reward_list`.
    """
    rules = load_rules(rules)
    start = _date(publication_date)
    out = _base_list(graded, names, rules, rules.rectify, uncertainty)
    missing = [u for u in out["unit"] if u not in obstacles.index.astype(str)]
    if missing:
        raise GradingError([_msg("obstacles_missing", units=", ".join(missing))])
    inds = _table(indicator_names, ("id", "code"), ("name_zh", "name_en"), "indicator_names")
    cols = [str(c) for c in obstacles.columns]
    unknown = [c for c in cols if c not in inds.index]
    if unknown:
        raise GradingError([_msg("indicators_missing", ids=", ".join(unknown))])
    factor = _obstacle_factor(obstacles, scale)
    frame = obstacles.set_axis(obstacles.index.astype(str), axis=0)
    values = frame.loc[list(out["unit"])].to_numpy(dtype=float).reshape(len(out), len(cols))
    top = top_obstacles(values, k=rules.top_k)
    ids = np.array([*cols, None], dtype=object)
    zh = np.array([*inds.loc[cols, "name_zh"], None], dtype=object)
    en = np.array([*inds.loc[cols, "name_en"], None], dtype=object)
    for k in range(rules.top_k):
        j = top.index[:, k]
        out[f"obstacle_{k + 1}"] = ids[j]
        out[f"obstacle_{k + 1}_name_zh"] = zh[j]
        out[f"obstacle_{k + 1}_name_en"] = en[j]
        out[f"obstacle_{k + 1}_pct"] = top.value[:, k] * factor
    out["publication_date"] = start.isoformat()
    out["deadline"] = add_months(start, rules.deadline_months).isoformat()
    return out
