"""The allocation rules of the livelihood fund as a typed specification (:mod:`cocity.spec`).

A rules file says how the fund's money is shared (the shipped default is ``rules/default.yaml``;
a user's own file replaces it, or is merged over it with ``overlay=True``):

- ``recipients`` — which units receive: the ``level`` (``prefecture`` or ``county``), their
  ``membership`` in the circle, tiers left out (``exclude_tiers``: ``[core]`` leaves out the
  central districts of the two core cities, the "周边中小城市" rule), and named exclusions
  (``exclude``: a unit by code or name, from every use or some, with the reason in both
  languages);
- ``uses`` — the three uses of the fund (ids :data:`USES`: ``facilities``, ``social_security``,
  ``medical_aid``), each a pool given as a ``share`` of the fund or an ``amount_yuan``; per-line
  ``floor_*`` and ``cap_*`` (in yuan or as a share of the pool); and the ``need``: weighted
  components (:class:`ComponentSpec`), each a base count of people (``base``) times an optional
  factor (``factor``: a shortfall below the circle's level or a ratio to it), every one naming
  its proxy (``proxy_zh`` / ``proxy_en``);
- ``limits`` — floors and caps of named units (in every use or some);
- ``bonus`` — the extra subsidy of units graded ``grades`` (default 优秀) in an evaluation run:
  ``rate`` of their base amount;
- ``rectification`` — units on a run's rectification list are funded only in the uses their
  named obstacles map to (``obstacles``: evaluation indicator → use), and those lines are
  conditional: released when a later edition's score exceeds the recorded one by more than
  ``min_gain`` points.

Money is written in yuan with at most two decimals and held in integer fen. Shares and weights
are read as the decimals written (``0.3`` is exactly 3/10), so that "the shares sum to 1" is an
exact check. Every problem of a file — its shape (unknown keys, types, ranges) and the rules
between its parts (shares summing to 1, weights summing to 1 within a use, a floor above a cap,
an obstacle mapped to a use the file does not fund) — comes back at once as one
:class:`~cocity.spec.SpecError` with the key path of each.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic

from cocity.data.errors import Issue, IssuesError
from cocity.i18n import t
from cocity.spec import Spec, SpecError, issues_of, merge, read_yaml

PACKAGE = "cocity.fund"
DEFAULT = "rules/default.yaml"
USES = ("facilities", "social_security", "medical_aid")
UseId = Literal["facilities", "social_security", "medical_aid"]
Membership = Literal["full", "partial", "outside"]
MEMBERS: tuple[Membership, ...] = ("full", "partial")


class AllocationError(IssuesError):
    """An allocation cannot be made as asked (rules that do not fit the data, an evaluation run
    that cannot be read, floors above a pool …); ``issues`` lists every problem, each naming the
    file or unit and, for a rules file, the key."""

    headline = "fund.alloc.err.title"


def _msg(key: str, **fmt: object) -> str:
    return t("fund.alloc.err." + key, None, **fmt)


# ---------------------------------------------------------------------- value types
def _yuan(value: Any) -> Decimal:
    """Yuan as a decimal with at most two places (whole fen), not negative."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueError(_msg("yuan", value=repr(value)))
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(_msg("yuan", value=repr(value))) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_msg("yuan", value=repr(value)))
    return amount


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _as_weights(value: Any) -> Any:
    return {value: 1.0} if isinstance(value, str) else value


Yuan = Annotated[Decimal, pydantic.BeforeValidator(_yuan)]
Positive = Annotated[float, pydantic.Field(gt=0, allow_inf_nan=False)]
NonNegative = Annotated[float, pydantic.Field(ge=0, allow_inf_nan=False)]
Share = Annotated[float, pydantic.Field(gt=0, le=1, allow_inf_nan=False)]
ShareOrZero = Annotated[float, pydantic.Field(ge=0, le=1, allow_inf_nan=False)]
Text = Annotated[str, pydantic.Field(min_length=1)]
Names = Annotated[list[Text], pydantic.BeforeValidator(_as_list), pydantic.Field(min_length=1)]


def exact(value: float | Decimal | int) -> Fraction:
    """The number as written in the file: ``0.3`` → 3/10 (not the binary float)."""
    return Fraction(str(value))


def fen(yuan: Decimal) -> int:
    """Integer fen of an amount in yuan with at most two decimals."""
    return int(yuan * 100)


# ---------------------------------------------------------------------- the parts
class LimitFields(Spec):
    """Floor and cap of an allocation line: in yuan or as a share of the use's pool."""

    floor_yuan: Yuan | None = None
    floor_share: ShareOrZero | None = None
    cap_yuan: Yuan | None = None
    cap_share: ShareOrZero | None = None

    @pydantic.model_validator(mode="after")
    def _one_each(self) -> LimitFields:
        for what in ("floor", "cap"):
            if getattr(self, f"{what}_yuan") is not None and getattr(
                    self, f"{what}_share") is not None:
                raise ValueError(_msg("both_limits", what=what))
        if self.floor_yuan is not None and self.cap_yuan is not None \
                and self.floor_yuan > self.cap_yuan:
            raise ValueError(_msg("floor_above_cap", floor=self.floor_yuan, cap=self.cap_yuan))
        if self.floor_share is not None and self.cap_share is not None \
                and self.floor_share > self.cap_share:
            raise ValueError(_msg("floor_above_cap", floor=self.floor_share,
                                  cap=self.cap_share))
        return self

    def floor_fen(self, pool: int) -> int | None:
        """The floor in fen for a pool of ``pool`` fen (a share rounded up to whole fen)."""
        if self.floor_yuan is not None:
            return fen(self.floor_yuan)
        if self.floor_share is not None:
            q = exact(self.floor_share) * pool
            return -((-q.numerator) // q.denominator)
        return None

    def cap_fen(self, pool: int) -> int | None:
        """The cap in fen for a pool of ``pool`` fen (a share rounded down to whole fen)."""
        if self.cap_yuan is not None:
            return fen(self.cap_yuan)
        if self.cap_share is not None:
            q = exact(self.cap_share) * pool
            return q.numerator // q.denominator
        return None


class BaseSpec(Spec):
    """The base of a need component, a count of people: ``Σ_k a_k · x_k`` over the ``count``
    indicators (one id, or ``{id: a_k}``), times ``share/100`` when a percentage indicator is
    given (e.g. ``pop_total`` × ``age_65_share``)."""

    count: Annotated[dict[Text, Positive], pydantic.BeforeValidator(_as_weights),
                     pydantic.Field(min_length=1)]
    share: Text | None = None
    year: int | None = None


class FactorSpec(Spec):
    """The factor of a need component, from indicators ``x_k`` read at the unit
    (``scope: self``) or at its parent prefecture (``scope: parent``), against the circle's
    population-weighted level ``r_k``:

    - ``shortfall``: ``scale · mean_k max(0, r_k − x_k)`` (how far below the circle level);
    - ``relative``: ``mean_k x_k / r_k`` (how far above or below it, as a ratio)."""

    kind: Literal["shortfall", "relative"]
    indicators: Names
    year: int | None = None
    scope: Literal["self", "parent"] = "self"
    scale: Positive = 1.0


class ComponentSpec(Spec):
    """One weighted part of a use's need: quantity ``q_i = base_i × factor_i`` in ``unit_*``,
    named with the proxy it stands for (``proxy_*``: said in every explanation)."""

    id: Text
    weight: Positive
    name_zh: Text
    name_en: Text
    unit_zh: Text
    unit_en: Text
    proxy_zh: Text
    proxy_en: Text
    base: BaseSpec
    factor: FactorSpec | None = None


class UseSpec(LimitFields):
    """One use of the fund: its pool (``share`` of the fund or ``amount_yuan``), the floor and
    cap of every line, and its need components (weights summing to 1)."""

    name_zh: Text
    name_en: Text
    about_zh: str = ""
    about_en: str = ""
    share: Share | None = None
    amount_yuan: Yuan | None = None
    need: Annotated[list[ComponentSpec], pydantic.Field(min_length=1)]

    @pydantic.model_validator(mode="after")
    def _pool_and_weights(self) -> UseSpec:
        if (self.share is None) == (self.amount_yuan is None):
            raise ValueError(_msg("pool_one"))
        ids = [c.id for c in self.need]
        if len(set(ids)) != len(ids):
            raise ValueError(_msg("component_dup", ids=", ".join(ids)))
        total = sum((exact(c.weight) for c in self.need), Fraction(0))
        if total != 1:
            raise ValueError(_msg("weights_sum", total=f"{float(total):g}"))
        return self


class ExclusionSpec(Spec):
    unit: Text
    uses: list[UseId] | None = None
    reason_zh: Text
    reason_en: Text


class RecipientsSpec(Spec):
    """Which units receive. ``reference_membership``: the units whose population-weighted
    level is the circle's reference level of the need factors (default: every unit of the
    level in the circle, receiving or not)."""

    level: Literal["prefecture", "county"]
    membership: Annotated[list[Membership], pydantic.Field(min_length=1)] = pydantic.Field(
        default_factory=lambda: list(MEMBERS))
    exclude_tiers: list[Text] = pydantic.Field(default_factory=list)
    exclude_tiers_reason_zh: str = ""
    exclude_tiers_reason_en: str = ""
    exclude: list[ExclusionSpec] = pydantic.Field(default_factory=list)
    reference_membership: Annotated[list[Membership], pydantic.Field(min_length=1)] = \
        pydantic.Field(default_factory=lambda: list(MEMBERS))


class UnitLimitSpec(LimitFields):
    unit: Text
    uses: list[UseId] | None = None


class BonusSpec(Spec):
    grades: Annotated[list[Text], pydantic.Field(min_length=1)] = pydantic.Field(
        default_factory=lambda: ["excellent"])
    rate: NonNegative


class RectificationSpec(Spec):
    obstacles: dict[Text, UseId] = pydantic.Field(default_factory=dict)
    min_gain: NonNegative = 0.0
    about_zh: str = ""
    about_en: str = ""


class RulesSpec(Spec):
    """The rules file, as written."""

    name_zh: Text
    name_en: Text
    about_zh: str = ""
    about_en: str = ""
    fund_yuan: Yuan | None = None
    year: int
    population: Text = "pop_total"
    recipients: RecipientsSpec
    uses: Annotated[dict[UseId, UseSpec], pydantic.Field(min_length=1)]
    limits: list[UnitLimitSpec] = pydantic.Field(default_factory=list)
    bonus: BonusSpec | None = None
    rectification: RectificationSpec | None = None


# ---------------------------------------------------------------------- the rules
@dataclass(frozen=True)
class AllocationRules:
    """Rules read and checked: the typed document, where it came from and its SHA-256 (of the
    canonical JSON of the document, so that the same rules hash alike from a file or a
    mapping)."""

    spec: RulesSpec
    source: str
    sha256: str

    @property
    def uses(self) -> tuple[str, ...]:
        """The uses the rules fund, in the order of :data:`USES`."""
        return tuple(u for u in USES if u in self.spec.uses)

    def use(self, use: str) -> UseSpec:
        return self.spec.uses[use]  # type: ignore[index]

    @property
    def level(self) -> str:
        return self.spec.recipients.level

    def name(self, lang: str) -> str:
        return self.spec.name_zh if lang == "zh" else self.spec.name_en

    def reads(self) -> dict[int, list[str]]:
        """Every indicator the needs read, by year (for the store read and the provenance)."""
        out: dict[int, set[str]] = {}
        y0 = self.spec.year
        out.setdefault(y0, set()).add(self.spec.population)
        for use in self.uses:
            for c in self.use(use).need:
                out.setdefault(c.base.year or y0, set()).update(c.base.count)
                if c.base.share:
                    out[c.base.year or y0].add(c.base.share)
                if c.factor is not None:
                    out.setdefault(c.factor.year or y0, set()).update(c.factor.indicators)
        return {y: sorted(v) for y, v in sorted(out.items())}


def _cross_issues(raw: Mapping[str, Any], origin: str) -> list[Issue]:
    """The rules between the parts of a file, checked on the raw document so that they are
    reported together with any shape problem (malformed parts are skipped here: their shape
    problem is reported already)."""
    out: list[Issue] = []

    def add(key: str, message: str) -> None:
        out.append(Issue(message, origin, key=key))

    uses = raw.get("uses")
    uses = uses if isinstance(uses, Mapping) else {}
    shares: list[Fraction] = []
    for use, spec in uses.items():
        if use not in USES or not isinstance(spec, Mapping):
            continue
        share = spec.get("share")
        if isinstance(share, (int, float)) and not isinstance(share, bool) and share > 0:
            shares.append(exact(share))
    if shares and sum(shares, Fraction(0)) != 1:
        add("uses", _msg("shares_sum", total=f"{float(sum(shares)):g}"))
    rect = raw.get("rectification")
    if isinstance(rect, Mapping) and isinstance(rect.get("obstacles"), Mapping):
        for indicator, use in rect["obstacles"].items():
            if use in USES and use not in uses:
                add(f"rectification.obstacles.{indicator}",
                    _msg("use_not_funded", use=use, funded=", ".join(map(str, uses))))
    limits = raw.get("limits")
    for i, item in enumerate(limits if isinstance(limits, list) else []):
        if isinstance(item, Mapping) and isinstance(item.get("uses"), list):
            for use in item["uses"]:
                if use in USES and use not in uses:
                    add(f"limits[{i}].uses", _msg("use_not_funded", use=use,
                                                  funded=", ".join(map(str, uses))))
    recip = raw.get("recipients")
    excl = recip.get("exclude") if isinstance(recip, Mapping) else None
    for i, item in enumerate(excl if isinstance(excl, list) else []):
        if isinstance(item, Mapping) and isinstance(item.get("uses"), list):
            for use in item["uses"]:
                if use in USES and use not in uses:
                    add(f"recipients.exclude[{i}].uses",
                        _msg("use_not_funded", use=use, funded=", ".join(map(str, uses))))
    return out


def _sha256(spec: RulesSpec) -> str:
    doc = spec.model_dump(mode="json")
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()
                          ).hexdigest()


def load_rules(source: AllocationRules | str | Path | Mapping[str, Any] | None = None, *,
               overlay: bool = False) -> AllocationRules:
    """The allocation rules: ``None`` → the shipped ``rules/default.yaml``; a path to the
    user's YAML file or a mapping (``overlay=True``: only the keys it changes, merged over the
    default — mappings key by key, lists replaced); rules already loaded are returned as they
    are. Every problem comes back at once as a :class:`~cocity.spec.SpecError`."""
    if isinstance(source, AllocationRules):
        return source
    if source is None:
        raw, origin = read_yaml(package=PACKAGE, default=DEFAULT)
    elif isinstance(source, Mapping):
        raw, origin = dict(source), "<rules>"
    else:
        raw, origin = read_yaml(source)
    if overlay and source is not None:
        if raw is not None and not isinstance(raw, Mapping):
            raise SpecError([Issue(t("spec.err.not_mapping", kind=type(raw).__name__),
                                   origin)])
        raw = merge(read_yaml(package=PACKAGE, default=DEFAULT)[0], raw or {})
    if not isinstance(raw, Mapping):
        raise SpecError([Issue(t("spec.err.not_mapping", kind=type(raw).__name__), origin)])
    issues: list[Issue] = []
    spec: RulesSpec | None = None
    try:
        spec = RulesSpec.model_validate(raw)
    except pydantic.ValidationError as exc:
        issues.extend(issues_of(exc, origin))
    issues.extend(_cross_issues(raw, origin))
    if issues or spec is None:
        raise SpecError(issues)
    return AllocationRules(spec, origin, _sha256(spec))
