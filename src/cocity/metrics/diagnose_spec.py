"""The specification of ``cocity diagnose`` as a typed model (:mod:`cocity.spec`).

The shipped ``diagnose_default.yaml`` holds every key with its default; a user file (or
mapping) needs only the keys it changes and is merged over it (``overlay``); the command-line
overrides ``--group-by`` and ``--year`` are merged last. Every problem of the merged document
— unknown key, wrong type, a value out of range, an unknown method name, years out of order,
an unreadable role or people–circle file — comes back at once as one
:class:`~cocity.spec.SpecError` naming the file and the key path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pydantic

from cocity.i18n import t
from cocity.metrics import people_circle as pc
from cocity.metrics.streams import SECTIONS
from cocity.metrics.structure import RoleRules, load_role_rules
from cocity.spec import Spec, SpecError, merge, read_yaml, validate_spec

DEFAULT_SPEC = "diagnose_default.yaml"
GROUP_BY = ("province", "prefecture", "metro")

Level = Literal["province", "prefecture", "county"]
Membership = Literal["full", "partial", "outside"]
Section = Literal["inequality", "convergence", "structure", "network", "polycentricity",
                  "spatial", "people_circle"]
NonNegInt = pydantic.NonNegativeInt


def _unique(values: list[Any]) -> list[Any]:
    if len(set(values)) != len(values):
        raise ValueError(t("diagnose.err.spec_duplicates", got=values))
    return values


class ScopeSpec(Spec):
    level: Level
    membership: list[Membership] | None

    @pydantic.field_validator("membership")
    @classmethod
    def _no_repeats(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _unique(v)


class IndicatorYear(Spec):
    indicator: str
    year: int


class InequalitySpec(Spec):
    group_by: Literal["province", "prefecture", "metro"]
    theil: Literal["T", "L"]
    permutations: NonNegInt
    min_group_size: pydantic.PositiveInt


class ConvergenceSpec(Spec):
    years: list[int] = pydantic.Field(min_length=2)
    sigma: Literal["cv", "gini", "theil"]

    @pydantic.field_validator("years")
    @classmethod
    def _increasing(cls, v: list[int]) -> list[int]:
        if v != sorted(v) or len(set(v)) != len(v):
            raise ValueError(t("diagnose.err.spec_increasing", got=v))
        return v


class HomogeneousSpec(Spec):
    method: Literal["baseline", "absolute"]
    k: pydantic.NonNegativeFloat
    threshold: float = pydantic.Field(gt=0, le=1)
    shared_lq: pydantic.PositiveFloat
    exclude_sectors: list[str]


class StructureSpec(Spec):
    level: Level
    year: int | None
    sector_prefix: str = pydantic.Field(min_length=1)
    missing_sectors: Literal["drop", "raise"]
    totals: str
    homogeneous: HomogeneousSpec
    roles: str | None


class NetworkSpec(Spec):
    level: Level
    population: IndicatorYear
    gdp: IndicatorYear
    decay: pydantic.NonNegativeFloat
    top_k: pydantic.PositiveInt | None
    points: Literal["in_circle", "unit"]
    partial_gdp: Literal["population_share", "whole"]
    core_periphery: Literal["binary", "weighted"]


class PolycentricitySpec(Spec):
    level: Level
    size: IndicatorYear
    primacy: list[Literal["s2", "s4", "s11"]]
    tops: list[int] = pydantic.Field(min_length=1)

    @pydantic.field_validator("primacy")
    @classmethod
    def _no_repeats(cls, v: list[str]) -> list[str]:
        return _unique(v)

    @pydantic.field_validator("tops")
    @classmethod
    def _at_least_two(cls, v: list[int]) -> list[int]:
        if any(k < 2 for k in v):
            raise ValueError(t("diagnose.err.spec_tops", got=v))
        return _unique(v)


class SpatialSpec(Spec):
    contiguity: Literal["queen", "rook"]
    snap: pydantic.NonNegativeFloat
    islands: Literal["raise", "nearest"]
    permutations: NonNegInt
    alpha: float = pydantic.Field(gt=0, lt=1)


class DiagnoseSpec(Spec):
    """A validated specification (see ``diagnose_default.yaml`` for every key)."""

    scope: ScopeSpec
    partial_units: Literal["in_circle", "whole"]
    indicators: list[str] = pydantic.Field(min_length=1)
    years: list[int] = pydantic.Field(min_length=1)
    population: str
    seed: NonNegInt
    sections: list[Section] = pydantic.Field(min_length=1)
    inequality: InequalitySpec
    convergence: ConvergenceSpec
    structure: StructureSpec
    network: NetworkSpec
    polycentricity: PolycentricitySpec
    spatial: SpatialSpec
    people_circle: str | pc.PeopleCircleSpec | None

    _source: str = pydantic.PrivateAttr(default="<default>")
    _raw: dict[str, Any] = pydantic.PrivateAttr(default_factory=dict)
    _pc: pc.PeopleCircleSpec | None = pydantic.PrivateAttr(default=None)
    _roles: RoleRules | None = pydantic.PrivateAttr(default=None)

    @pydantic.field_validator("indicators", "years", "sections")
    @classmethod
    def _no_repeats(cls, v: list[Any]) -> list[Any]:
        return _unique(v)

    # ------------------------------------------------------------------ derived
    @property
    def level(self) -> str:
        return self.scope.level

    @property
    def membership(self) -> tuple[str, ...] | None:
        return None if self.scope.membership is None else tuple(self.scope.membership)

    @property
    def group_by(self) -> str:
        return self.inequality.group_by

    @property
    def main_year(self) -> int:
        return self.years[0]

    @property
    def source(self) -> str:
        return self._source

    @property
    def raw(self) -> dict[str, Any]:
        """The merged document as validated (recorded in the manifest)."""
        return self._raw

    @property
    def sha256(self) -> str:
        text = json.dumps(self._raw, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def people_circle_spec(self) -> pc.PeopleCircleSpec:
        assert self._pc is not None
        return self._pc

    @property
    def role_rules(self) -> RoleRules:
        assert self._roles is not None
        return self._roles


def default_document() -> dict[str, Any]:
    """The shipped specification (``diagnose_default.yaml``) as a mapping."""
    data, _ = read_yaml(package=__package__, default=DEFAULT_SPEC)
    return dict(data)


def load_spec(source: str | Path | Mapping[str, Any] | None = None, *,
              group_by: str | None = None, year: int | None = None) -> DiagnoseSpec:
    """The default specification merged with ``source`` (a YAML file or a mapping), then the
    command-line overrides ``group_by`` and ``year`` (which makes ``years`` ``[year]``).

    Raises :class:`~cocity.spec.SpecError` listing every problem with its key path (the
    role-rule and people–circle files named in it are read and checked here too).
    """
    if source is None:
        user: Any = {}
        origin = DEFAULT_SPEC
    elif isinstance(source, Mapping):
        user, origin = dict(source), "<spec>"
    else:
        user, origin = read_yaml(source)
        user = {} if user is None else user
    if not isinstance(user, Mapping):
        validate_spec(DiagnoseSpec, user, origin=origin)  # raises: not a mapping
    over: dict[str, Any] = {}
    if group_by is not None:
        over["inequality"] = {"group_by": group_by}
    if year is not None:
        over["years"] = [year]
    doc = merge(merge(default_document(), user), over)
    spec = validate_spec(DiagnoseSpec, doc, origin=origin)
    spec._source = origin
    spec._raw = spec.model_dump(mode="json")
    pcs = spec.people_circle
    spec._pc = pcs if isinstance(pcs, pc.PeopleCircleSpec) else pc.load_spec(pcs)
    spec._roles = load_role_rules(spec.structure.roles)
    return spec


__all__ = ["GROUP_BY", "SECTIONS", "DiagnoseSpec", "SpecError", "default_document",
           "load_spec"]
