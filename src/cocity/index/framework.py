"""The indicator framework: a tree indicator → sub-dimension → dimension → index, kept as data.

A framework lists nodes with a code, bilingual names, a parent, a weight relative to its
siblings and, for indicators (the leaves), a direction and optional goalposts or a target.
Per-level aggregation methods and data-availability thresholds are framework settings; a node
may override its level's method. Levels count from the leaves: indicators are level 1, their
parents level 2, …, the index (the root) the top level. Every leaf must sit at level 1, so a
tree with gaps (an indicator hanging directly under a dimension beside sub-dimensions) is
rejected.

YAML layout::

    name_zh: 公共服务指数
    name_en: Public service index
    weights: manual            # or "equal": missing weights then mean equal weights
    aggregation: {default: arithmetic, by_level: {4: geometric}, min_share: {2: 0.5}}
    nodes:
      - {code: PSI, name_zh: 公共服务指数, name_en: Public service index}
      - {code: FAIR, parent: PSI, name_zh: 公平性, name_en: Fairness, weight: 1}
      - {code: urban_share, parent: FAIR, direction: 1, weight: 1, goalposts: [0, 100]}

CSV layout: one row per node with columns code, name_zh, name_en, parent, weight, direction,
target, lower, upper, method (settings other than the nodes take their defaults).

Directions: +1 (more is better) or −1 (less is better). A leaf without a direction of its own
takes its catalog indicator's direction when ``directions`` (the catalog's) are given; a
catalog indicator with direction 0 is descriptive (a share, an area) and cannot enter an index
that way — the leaf must state a direction. Every problem (types, unknown keys, the tree,
weights, directions, unknown aggregation methods) is reported at once as one
:class:`~cocity.index.errors.FrameworkError` whose issues name the file and the key path
(``nodes[4].weight``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pydantic

from cocity.data.errors import Issue
from cocity.i18n import t
from cocity.index import registry
from cocity.index.errors import FrameworkError
from cocity.spec import Spec, issues_of, read_yaml

NODE_COLUMNS = ("code", "name_zh", "name_en", "parent", "weight", "direction", "target",
                "lower", "upper", "method")
Text = Annotated[str, pydantic.BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)]


# ---------------------------------------------------------------------- typed records
class NodeSpec(Spec):
    """One node record of a framework file."""

    code: Text
    name_zh: str | None = None
    name_en: str | None = None
    parent: Text | None = None
    weight: float | None = pydantic.Field(default=None, ge=0)
    direction: float | None = None
    target: float | None = None
    lower: float | None = None
    upper: float | None = None
    goalposts: tuple[float, float] | None = None
    method: str | None = None

    @pydantic.field_validator("direction")
    @classmethod
    def _direction(cls, v: float | None) -> float | None:
        if v is not None and v not in (1, -1):
            raise ValueError(t("index.f.bad_direction", value=f"{v:g}"))
        return v


class AggregationSpec(Spec):
    """The ``aggregation:`` settings: default method, methods and availability thresholds by
    level."""

    default: str = "arithmetic"
    by_level: dict[int, str] = pydantic.Field(default_factory=dict)
    min_share: dict[int, Annotated[float, pydantic.Field(ge=0, le=1)]] = pydantic.Field(
        default_factory=dict)


class TreeSettings(Spec):
    """The framework settings the tree itself uses."""

    name_zh: str = ""
    name_en: str = ""
    weights: Literal["manual", "equal"] = "manual"
    aggregation: AggregationSpec = pydantic.Field(default_factory=AggregationSpec)


def validated(model: type[Spec], data: Any, origin: str, prefix: str = ""
              ) -> tuple[Any, list[Issue]]:
    """``data`` as ``model`` and no issues, or ``None`` and every issue with its key path
    under ``prefix``."""
    try:
        return model.model_validate(data if data is not None else {}), []
    except pydantic.ValidationError as exc:
        return None, [dataclasses.replace(i, key=join_key(prefix, i.key))
                      for i in issues_of(exc, origin)]


def join_key(prefix: str, key: str | None) -> str | None:
    """``nodes[2]`` + ``weight`` → ``nodes[2].weight``."""
    if not key:
        return prefix or None
    if not prefix:
        return key
    return f"{prefix}{key}" if key.startswith("[") else f"{prefix}.{key}"


@dataclass(frozen=True)
class Node:
    code: str
    name_zh: str
    name_en: str
    parent: str | None
    weight: float
    level: int
    direction: int | None = None
    target: float | None = None
    lower: float | None = None
    upper: float | None = None
    method: str | None = None


@dataclass
class Framework:
    """A validated indicator tree. Build with :meth:`from_yaml`, :meth:`from_csv` or
    :meth:`from_records`."""

    nodes: dict[str, Node]
    name_zh: str = ""
    name_en: str = ""
    default_method: str = "arithmetic"
    method_by_level: dict[int, str] = field(default_factory=dict)
    min_share_by_level: dict[int, float] = field(default_factory=dict)

    # ------------------------------------------------------------------ building
    @classmethod
    def from_yaml(cls, path: str | Path, *,
                  directions: Mapping[str, Any] | pd.Series | None = None) -> Framework:
        """The tree of a framework YAML file (its other sections are not read here; see
        :func:`cocity.index.framework_file.load_framework` for the whole file)."""
        data, origin = read_yaml(path)
        if not isinstance(data, Mapping) or not isinstance(data.get("nodes"), list):
            raise FrameworkError([Issue(t("index.f.no_nodes"), origin, key="nodes")])
        return cls.from_records(data["nodes"], settings=data, source=origin,
                                directions=directions, strict=True)

    @classmethod
    def from_csv(cls, path: str | Path, *,
                 directions: Mapping[str, Any] | pd.Series | None = None) -> Framework:
        """The tree of a CSV file, one row per node (see the module docstring)."""
        try:
            df = pd.read_csv(path, dtype={"code": str, "parent": str})
        except (OSError, ValueError) as exc:
            raise FrameworkError([Issue(t("index.f.csv", detail=str(exc)), str(path))]) from None
        missing = [c for c in ("code", "parent") if c not in df.columns]
        if missing:
            raise FrameworkError([Issue(t("index.f.missing_columns",
                                          columns=", ".join(missing)), str(path))])
        records = [{str(k): v for k, v in r.items() if not _missing(v)}
                   for r in df.to_dict("records")]
        return cls.from_records(records, source=str(path), directions=directions, strict=True)

    @classmethod
    def from_records(cls, records: Sequence[Mapping[str, Any]], *,
                     settings: Mapping[str, Any] | None = None, source: str = "<records>",
                     directions: Mapping[str, Any] | pd.Series | None = None,
                     strict: bool = False) -> Framework:
        """Validate node records and settings and build the tree; every problem is reported
        at once (see :func:`framework_issues`)."""
        fw, issues = framework_issues(records, settings=settings, source=source,
                                      directions=directions, strict=strict)
        if issues or fw is None:
            raise FrameworkError(issues)
        return fw

    # ------------------------------------------------------------------ queries
    @property
    def root(self) -> str:
        return next(c for c, n in self.nodes.items() if n.parent is None)

    @property
    def n_levels(self) -> int:
        return self.nodes[self.root].level

    @property
    def indicators(self) -> list[str]:
        """Leaf codes in framework order."""
        return [c for c, n in self.nodes.items() if n.level == 1]

    def children(self, code: str) -> list[str]:
        return [c for c, n in self.nodes.items() if n.parent == code]

    def level_codes(self, level: int) -> list[str]:
        return [c for c, n in self.nodes.items() if n.level == level]

    def directions(self) -> np.ndarray:
        return np.array([self.nodes[c].direction for c in self.indicators], dtype=float)

    def method_for(self, code: str) -> str:
        """Aggregation method of a non-leaf node: its own, else its level's, else the default."""
        node = self.nodes[code]
        return node.method or self.method_by_level.get(node.level, self.default_method)

    def min_share_for(self, code: str) -> float:
        return self.min_share_by_level.get(self.nodes[code].level, 0.0)

    def ancestor(self, code: str, level: int) -> str:
        """The node at ``level`` above ``code`` (``code`` itself at its own level)."""
        while self.nodes[code].level < level:
            parent = self.nodes[code].parent
            assert parent is not None
            code = parent
        return code

    def leaf_weights(self) -> pd.Series:
        """Each indicator's nominal weight in the index: the product of sibling-normalised
        weights from the root down."""
        out = {}
        for c in self.indicators:
            w, node = 1.0, self.nodes[c]
            while node.parent is not None:
                siblings = self.children(node.parent)
                total = sum(self.nodes[s].weight for s in siblings)
                w *= node.weight / total if total > 0 else 1.0 / len(siblings)
                node = self.nodes[node.parent]
            out[c] = w
        return pd.Series(out)

    def check_data(self, columns: list[str] | pd.Index) -> None:
        """Raise if an indicator of the framework is absent from the data."""
        missing = [c for c in self.indicators if c not in set(columns)]
        if missing:
            raise FrameworkError([t("index.f.absent", codes=", ".join(missing))])

    def to_frame(self) -> pd.DataFrame:
        """The nodes as a table (one row per node, in framework order)."""
        return pd.DataFrame([n.__dict__ for n in self.nodes.values()]).set_index("code")


# ---------------------------------------------------------------------- validation
def framework_issues(records: Any, *, settings: Mapping[str, Any] | None = None,
                     source: str = "<records>",
                     directions: Mapping[str, Any] | pd.Series | None = None,
                     strict: bool = False, prefix: str = "nodes"
                     ) -> tuple[Framework | None, list[Issue]]:
    """The framework of ``records`` and ``settings``, and every problem found.

    Checked at once: each record's types and (``strict``) unknown keys, the settings (name,
    ``weights``, ``aggregation`` with known methods and levels), duplicate or missing codes,
    unknown parents, cycles, the number of roots, gaps in levels, missing or negative weights,
    leaf directions (own, else the catalog's ``directions``; a catalog direction of 0 is
    refused) and node methods. ``strict=False`` ignores keys it does not know in records and
    settings (a caller such as the evaluation framework validates its own keys); a framework
    file is read strictly. Returns ``(None, issues)`` when any issue was found.
    """
    issues: list[Issue] = []
    known = set(TreeSettings.model_fields)
    given = {k: v for k, v in (settings or {}).items() if k in known}
    tree_settings, found = validated(TreeSettings, given, source)
    issues += found
    if not isinstance(records, list) or not records:
        return None, [*issues, Issue(t("index.f.no_nodes"), source, key=prefix)]
    specs: dict[str, NodeSpec] = {}
    positions: dict[str, int] = {}
    broken: set[str] = set()  # nodes with invalid fields: in the tree, no further checks
    node_fields = set(NodeSpec.model_fields)
    for i, rec in enumerate(records):
        where = f"{prefix}[{i}]"
        if not isinstance(rec, Mapping):
            issues.append(Issue(t("spec.err.not_mapping", kind=type(rec).__name__), source,
                                key=where))
            continue
        data = dict(rec) if strict else {k: v for k, v in rec.items() if k in node_fields}
        node, found = validated(NodeSpec, data, source, where)
        issues += found
        if node is None:
            code, parent = rec.get("code"), rec.get("parent")
            if not isinstance(code, (str, int)) or (
                    parent is not None and not isinstance(parent, (str, int))):
                continue
            node = NodeSpec.model_construct(code=str(code), parent=None if parent is None
                                            else str(parent), weight=1.0, direction=1.0)
            broken.add(str(code).strip())
        code = node.code.strip()
        if code == "":
            issues.append(Issue(t("index.f.no_code"), source, key=f"{where}.code"))
        elif code in specs:
            issues.append(Issue(t("index.f.duplicate", code=code), source, key=f"{where}.code"))
        else:
            specs[code] = node
            positions[code] = i
    parents = {c: (None if n.parent is None or str(n.parent).strip() == ""
                   else str(n.parent).strip()) for c, n in specs.items()}
    tree_ok = True
    for c, p in parents.items():
        if p is not None and p not in specs:
            tree_ok = False
            issues.append(Issue(t("index.f.unknown_parent", code=c, parent=p), source,
                                key=f"{prefix}[{positions[c]}].parent"))
    roots = [c for c, p in parents.items() if p is None]
    if len(roots) != 1:
        tree_ok = False
        issues.append(Issue(t("index.f.roots", n=len(roots), roots=", ".join(roots) or "—"),
                            source, key=prefix))
    cyclic = _cycles(parents)
    if cyclic:
        tree_ok = False
        issues.append(Issue(t("index.f.cycle", codes=", ".join(sorted(cyclic))), source,
                            key=prefix))
    children: dict[str, list[str]] = {c: [] for c in specs}
    for c, p in parents.items():
        if p is not None and p in children:
            children[p].append(c)
    # Checks of each node that need no complete tree: weights, directions, methods.
    equal = tree_settings is not None and tree_settings.weights == "equal"
    catalog = _catalog_directions(directions)
    own_direction: dict[str, int | None] = {}
    for c, spec in specs.items():
        if c in broken:
            continue
        where = f"{prefix}[{positions[c]}]"
        if spec.weight is None and not equal and parents[c] is not None:
            issues.append(Issue(t("index.f.no_weight", code=c), source, key=f"{where}.weight"))
        if not children[c] and c not in roots:
            own_direction[c] = None
            if spec.direction is not None:
                own_direction[c] = int(spec.direction)
            elif catalog is not None and c in catalog and catalog[c] == 0:
                issues.append(Issue(t("index.f.descriptive", code=c), source,
                                    key=f"{where}.direction"))
            elif catalog is not None and c in catalog and catalog[c] in (1, -1):
                own_direction[c] = int(catalog[c])
            else:
                issues.append(Issue(t("index.f.no_direction", code=c), source,
                                    key=f"{where}.direction"))
        if spec.method is not None and children[c]:
            issues += _method_issues(spec.method, source, f"{where}.method")
    if not tree_ok or not specs:
        return None, issues
    depth = _depths(roots[0], children)
    leaves = [c for c in specs if not children[c]]
    top = max(depth[c] for c in leaves)
    gaps = sorted(c for c in leaves if depth[c] != top)
    if gaps:
        issues.append(Issue(t("index.f.gaps", codes=", ".join(gaps)), source, key=prefix))
    nodes: dict[str, Node] = {}
    for c, spec in specs.items():
        lower, upper = spec.lower, spec.upper
        if spec.goalposts is not None:
            lower, upper = spec.goalposts
        nodes[c] = Node(code=c, name_zh=spec.name_zh if spec.name_zh is not None else c,
                        name_en=spec.name_en if spec.name_en is not None else c,
                        parent=parents[c], weight=float(1.0 if spec.weight is None
                                                        else spec.weight),
                        level=top - depth[c] + 1, direction=own_direction.get(c),
                        target=spec.target, lower=lower, upper=upper, method=spec.method)
    if tree_settings is None:
        return None, issues
    agg = tree_settings.aggregation
    issues += _method_issues(agg.default, source, "aggregation.default")
    for lv, method in agg.by_level.items():
        issues += _method_issues(method, source, f"aggregation.by_level.{lv}")
    for section, levels in (("by_level", agg.by_level), ("min_share", agg.min_share)):
        for lv in levels:
            if not 2 <= lv <= top + 1:
                issues.append(Issue(t("index.f.bad_level", level=lv, top=top + 1), source,
                                    key=f"aggregation.{section}.{lv}"))
    if issues:
        return None, issues
    return _framework(nodes, tree_settings), []


def _framework(nodes: dict[str, Node], settings: TreeSettings) -> Framework:
    agg = settings.aggregation
    return Framework(nodes=nodes, name_zh=settings.name_zh, name_en=settings.name_en,
                     default_method=agg.default, method_by_level=dict(agg.by_level),
                     min_share_by_level={k: float(v) for k, v in agg.min_share.items()})


def _method_issues(name: str, source: str, key: str) -> list[Issue]:
    problem = registry.unknown_method("aggregate", name, step="aggregate")
    return [Issue(problem, source, key=key)] if problem else []


def _catalog_directions(directions: Mapping[str, Any] | pd.Series | None
                        ) -> dict[str, float] | None:
    if directions is None:
        return None
    items = directions.items()
    return {str(k): float(v) for k, v in items if not _missing(v)}


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def _cycles(parents: dict[str, str | None]) -> set[str]:
    """Codes that sit on a parent cycle."""
    bad: set[str] = set()
    for start in parents:
        seen: list[str] = []
        c: str | None = start
        while c is not None and c in parents and c not in seen:
            seen.append(c)
            c = parents[c]
        if c is not None and c in seen:
            bad.update(seen[seen.index(c):])
    return bad


def _depths(root: str, children: dict[str, list[str]]) -> dict[str, int]:
    depth = {root: 0}
    stack = [root]
    while stack:
        c = stack.pop()
        for k in children[c]:
            depth[k] = depth[c] + 1
            stack.append(k)
    return depth

