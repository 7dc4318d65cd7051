"""Cluster definitions as data: a city cluster (城市群) or metropolitan area (都市圈) is a YAML
file naming its member units, the plan document that defines it, its cores and the
metropolitan areas inside it.

A member is a prefecture-level unit of the national base (name or code), whole (``full``) or,
when the plan names only some of its counties, ``partial`` with those counties listed. A
definition may also name members the national base does not hold (Hong Kong, Macao), each with
the reason; they are reported, never silently dropped. The shipped definitions
(``definitions/*.yaml``) are checked against the plan documents they cite; a user's own is a
file of the same form or, with :func:`user_cluster`, a plain list of names or codes.

:func:`load_cluster` reads a shipped key or a file through the one specification layer, so a
faulty file lists every problem with its key path; :func:`resolve` turns the member names into
codes of a unit table and refuses every unknown or ambiguous name in one error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
import pydantic

from cocity.clusters.errors import ClusterError
from cocity.i18n import t
from cocity.spec import Spec, load_spec

Name = Annotated[str, pydantic.BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)]
KINDS = ("city_cluster", "metropolitan_area")


class Document(Spec):
    """The plan document that defines a cluster, and where its member list is stated."""

    title_zh: str
    title_en: str = ""
    issuer_zh: str
    issuer_en: str = ""
    date: dt.date
    number: str = ""          # document number (文号), when it has one
    url: str = ""
    where_zh: str = ""        # the chapter or section that lists the members
    quote_zh: str = ""        # the sentence that lists them, as the document words it


class Member(Spec):
    """A prefecture-level member; ``counties`` makes it partial (only those counties)."""

    unit: Name
    counties: list[Name] = pydantic.Field(default_factory=list)


class Absent(Spec):
    """A member the national base does not hold, and why."""

    name_zh: str
    name_en: str
    reason_zh: str
    reason_en: str


class Metro(Spec):
    """A metropolitan area inside a cluster: its members (prefecture names or codes) and the
    document that defines it."""

    name_zh: str
    name_en: str
    members: list[Member | Name] = pydantic.Field(min_length=1)
    document: Document | None = None


class ClusterSpec(Spec):
    """One cluster definition (see the module docstring)."""

    name_zh: str
    name_en: str
    kind: Literal["city_cluster", "metropolitan_area"]
    document: Document | None = None  # None only for a user's own cluster
    members: list[Member | Name] = pydantic.Field(min_length=1)
    cores: list[Name] = pydantic.Field(default_factory=list)
    metros: dict[str, Metro] = pydantic.Field(default_factory=dict)
    absent: list[Absent] = pydantic.Field(default_factory=list)
    # A shipped regional-network spec (cocity/access/*.yaml) whose SOURCED rail links apply
    # to this cluster (``regional_chengyu``); empty: modelled road times only.
    rail: str = ""
    verified_zh: str = ""     # how the member list was checked against the document
    verified_en: str = ""

    def member_list(self) -> list[Member]:
        return [m if isinstance(m, Member) else Member(unit=m) for m in self.members]


@dataclass(frozen=True)
class Cluster:
    """A loaded definition: its key (file stem) and spec."""

    key: str
    spec: ClusterSpec
    source: str

    def name(self, lang: str) -> str:
        return self.spec.name_zh if lang == "zh" else self.spec.name_en


def definitions_dir() -> Path:
    return Path(str(resources.files(__package__ or "cocity.clusters") / "definitions"))


def shipped() -> list[str]:
    """Keys of the shipped definitions, sorted."""
    return sorted(p.stem for p in definitions_dir().glob("*.yaml"))


def load_cluster(ref: str | Path) -> Cluster:
    """A shipped definition by key (``jingjinji``) or a definition file."""
    path = Path(ref)
    if str(ref) in shipped():
        path = definitions_dir() / f"{ref}.yaml"
    elif not (path.suffix in (".yaml", ".yml") and path.exists()):
        raise ClusterError(t("clusters.err.unknown", name=str(ref),
                             known=", ".join(shipped())))
    spec = load_spec(ClusterSpec, path)
    return Cluster(key=path.stem, spec=spec, source=str(path))


def user_cluster(names: list[str], *, key: str, name_zh: str | None = None,
                 name_en: str | None = None, source: str = "<units>") -> Cluster:
    """A user's own cluster from a list of prefecture names or codes (whole members)."""
    members = [n.strip() for n in names if n.strip() and not n.strip().startswith("#")]
    if not members:
        raise ClusterError(t("clusters.err.empty"))
    spec = ClusterSpec(name_zh=name_zh or key, name_en=name_en or key, kind="city_cluster",
                       members=list(members))
    return Cluster(key=key, spec=spec, source=source)


def read_units_file(path: Path) -> list[str]:
    """Names or codes from a file: one per line, or a CSV with a ``unit`` (or ``code`` or
    ``name``) column."""
    if not path.exists():
        raise ClusterError(t("clusters.err.no_file", path=path))
    text = path.read_text(encoding="utf-8-sig")
    first = text.splitlines()[0].strip().lower() if text.strip() else ""
    if "," in first:
        df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
        for col in ("unit", "code", "name", "name_zh"):
            if col in df.columns:
                return [str(v) for v in df[col].dropna()]
        raise ClusterError(t("clusters.err.no_column", path=path))
    return text.splitlines()


# ---------------------------------------------------------------------- resolution
@dataclass(frozen=True)
class Resolved:
    """Member codes of a cluster in a unit table: prefecture code → None (whole) or the set of
    its member county codes; cores and metropolitan areas as prefecture codes."""

    members: dict[str, frozenset[str] | None]
    cores: list[str]
    metros: dict[str, list[str]]
    # metro key → prefecture code → its counties in that metro, for the prefectures a metro
    # takes only in part (重庆都市圈: 21 districts of Chongqing); absent: the whole prefecture
    metro_counties: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)


def _lookup(units: pd.DataFrame, name: str, *, level: str, parent: str | None = None
            ) -> tuple[str | None, list[str]]:
    """(code, candidates): the unit of ``level`` (under ``parent``) called or coded ``name``.

    At ``prefecture`` level the county-level units directly under a province (仙桃, 潜江, 天门,
    济源 …) count too: they are prefecture-level members of a cluster."""
    at = units[units["level"] == level]
    if level == "prefecture":
        provinces = set(units.loc[units["level"] == "province", "code"])
        at = units[(units["level"] == level)
                   | ((units["level"] == "county") & units["parent"].isin(provinces))]
    if parent is not None:
        at = at[at["parent"] == parent]
    if name in set(at["code"]):
        return name, [name]
    for col in ("name_zh", "name_en"):
        hits = at.loc[at[col] == name, "code"].tolist()
        if not hits and col == "name_zh":  # 成都 for 成都市, 北京 for 北京市
            hits = at.loc[at[col].str.rstrip("市区县州盟") == name.rstrip("市区县州盟"),
                          "code"].tolist()
        if len(hits) == 1:
            return str(hits[0]), hits
        if hits:
            return None, [str(h) for h in hits]
    return None, []


def resolve(cluster: Cluster, units: pd.DataFrame) -> Resolved:
    """Codes of every member, county, core and metro member; all problems in one error."""
    problems: list[str] = []

    def one(name: str, level: str, parent: str | None = None) -> str | None:
        code, hits = _lookup(units, str(name), level=level, parent=parent)
        if code is None:
            problems.append(t("clusters.err.ambiguous", name=name, codes=", ".join(hits))
                            if hits else t("clusters.err.no_unit", name=name))
        return code

    def members_of(items: list[Member]) -> dict[str, frozenset[str] | None]:
        out: dict[str, frozenset[str] | None] = {}
        for m in items:
            code = one(str(m.unit), "prefecture")
            if code is None:
                continue
            if code in out:
                problems.append(t("clusters.err.twice", name=m.unit))
            counties = [one(str(c), "county", parent=code) for c in m.counties]
            out[code] = frozenset(c for c in counties if c) if m.counties else None
        return out

    spec = cluster.spec
    members = members_of(spec.member_list())
    cores = [c for c in (one(str(n), "prefecture") for n in spec.cores) if c]
    for c in cores:
        if c not in members:
            problems.append(t("clusters.err.core_outside", name=c))
    metros: dict[str, list[str]] = {}
    metro_counties: dict[str, dict[str, frozenset[str]]] = {}
    for key, metro in spec.metros.items():
        items = [m if isinstance(m, Member) else Member(unit=m) for m in metro.members]
        inside = members_of(items)
        metros[key] = sorted(inside)
        metro_counties[key] = {p: c for p, c in inside.items() if c is not None}
    if problems:
        raise ClusterError(t("clusters.err.resolve", source=cluster.source,
                             problems="; ".join(dict.fromkeys(problems))))
    return Resolved(members=members, cores=cores, metros=metros,
                    metro_counties=metro_counties)


def describe(cluster: Cluster, lang: str) -> dict[str, Any]:
    """The listing row of a cluster (``cocity clusters``)."""
    doc = cluster.spec.document
    return {"key": cluster.key, "name": cluster.name(lang),
            "kind": t(f"clusters.kind.{cluster.spec.kind}", lang),
            "members": len(cluster.spec.members) + len(cluster.spec.absent),
            "document": "" if doc is None else (
                f"{doc.title_zh if lang == 'zh' else doc.title_en or doc.title_zh}"
                f" ({doc.date.isoformat()})")}
