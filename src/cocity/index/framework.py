"""The indicator framework: a tree indicator → sub-dimension → dimension → index, kept as data.

A framework file (YAML or CSV) lists nodes with a code, bilingual names, a parent, a weight
relative to its siblings and, for indicators (the leaves), a direction and optional goalposts or
a target. Per-level aggregation methods and data-availability thresholds are framework settings;
a node may override its level's method. Levels count from the leaves: indicators are level 1,
their parents level 2, …, the index (the root) the top level. Every leaf must sit at level 1, so
a tree with gaps (an indicator hanging directly under a dimension beside sub-dimensions) is
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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from cocity.i18n import t
from cocity.index.errors import FrameworkError

NODE_COLUMNS = ("code", "name_zh", "name_en", "parent", "weight", "direction", "target",
                "lower", "upper", "method")


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
    def from_yaml(cls, path: str | Path) -> Framework:
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
        if not isinstance(data, dict) or "nodes" not in data:
            raise FrameworkError([t("index.f.no_nodes", file=str(path))])
        return cls.from_records(data["nodes"], settings=data, source=str(path))

    @classmethod
    def from_csv(cls, path: str | Path) -> Framework:
        df = pd.read_csv(path, dtype={"code": str, "parent": str})
        missing = [c for c in ("code", "parent") if c not in df.columns]
        if missing:
            raise FrameworkError([t("index.f.missing_columns", file=str(path),
                                    columns=", ".join(missing))])
        records = [{str(k): v for k, v in r.items() if not _missing(v)}
                   for r in df.to_dict("records")]
        return cls.from_records(records, source=str(path))

    @classmethod
    def from_records(cls, records: list[dict[str, Any]], *, settings: dict[str, Any] | None = None,
                     source: str = "<records>") -> Framework:
        """Validate node records and build the tree; every problem is reported at once."""
        settings = settings or {}
        equal = settings.get("weights", "manual") == "equal"
        issues: list[str] = []
        seen: dict[str, dict[str, Any]] = {}
        for i, rec in enumerate(records, start=1):
            code = rec.get("code")
            if _missing(code) or str(code).strip() == "":
                issues.append(t("index.f.no_code", source=source, n=i))
                continue
            code = str(code).strip()
            if code in seen:
                issues.append(t("index.f.duplicate", source=source, code=code))
                continue
            seen[code] = rec
        parents = {c: (None if _missing(r.get("parent")) or str(r.get("parent")).strip() == ""
                       else str(r["parent"]).strip()) for c, r in seen.items()}
        roots = [c for c, p in parents.items() if p is None]
        for c, p in parents.items():
            if p is not None and p not in seen:
                issues.append(t("index.f.unknown_parent", source=source, code=c, parent=p))
        if len(roots) != 1:
            issues.append(t("index.f.roots", source=source, n=len(roots),
                            roots=", ".join(roots) or "—"))
        cyclic = _cycles(parents)
        if cyclic:
            issues.append(t("index.f.cycle", source=source, codes=", ".join(sorted(cyclic))))
        if issues:
            raise FrameworkError(issues)
        children: dict[str, list[str]] = {c: [] for c in seen}
        for c, p in parents.items():
            if p is not None:
                children[p].append(c)
        depth = _depths(roots[0], children)
        leaves = [c for c in seen if not children[c]]
        top = max(depth[c] for c in leaves)
        gaps = sorted(c for c in leaves if depth[c] != top)
        if gaps:
            issues.append(t("index.f.gaps", source=source, codes=", ".join(gaps)))
        nodes: dict[str, Node] = {}
        for c, rec in seen.items():
            level = top - depth[c] + 1
            weight: Any = rec.get("weight")
            if _missing(weight):
                if not equal and parents[c] is not None:
                    issues.append(t("index.f.no_weight", source=source, code=c))
                weight = 1.0
            direction = _direction(rec.get("direction")) if level == 1 else None
            if level == 1 and direction is None:
                issues.append(t("index.f.no_direction", source=source, code=c))
            lower, upper = rec.get("lower"), rec.get("upper")
            if "goalposts" in rec:
                lower, upper = rec["goalposts"]
            try:
                w = float(weight)
            except (TypeError, ValueError):
                issues.append(t("index.f.bad_weight", source=source, code=c, value=weight))
                w = 1.0
            if w < 0:
                issues.append(t("index.f.bad_weight", source=source, code=c, value=weight))
            nodes[c] = Node(
                code=c, name_zh=str(rec.get("name_zh", c)), name_en=str(rec.get("name_en", c)),
                parent=parents[c], weight=w, level=level, direction=direction,
                target=_float(rec.get("target")), lower=_float(lower), upper=_float(upper),
                method=None if _missing(rec.get("method")) else str(rec["method"]))
        if issues:
            raise FrameworkError(issues)
        agg = settings.get("aggregation", {}) or {}
        return cls(
            nodes=nodes, name_zh=str(settings.get("name_zh", "")),
            name_en=str(settings.get("name_en", "")),
            default_method=str(agg.get("default", "arithmetic")),
            method_by_level={int(k): str(v) for k, v in (agg.get("by_level") or {}).items()},
            min_share_by_level={int(k): float(v)
                                for k, v in (agg.get("min_share") or {}).items()},
        )

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


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def _direction(v: Any) -> int | None:
    """+1 or −1, or None when ``v`` is missing or anything else."""
    try:
        d = int(v)
    except (TypeError, ValueError):
        return None
    return d if d in (1, -1) else None


def _float(v: Any) -> float | None:
    return None if _missing(v) else float(v)


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
