"""The evaluation framework file: an index framework (:mod:`cocity.index.framework`) whose
indicators say how they are derived (``measure``), at which levels they apply (``levels``) and
what they mean (``about_zh``/``about_en``), plus the editions (data years per evaluation year),
the evaluated levels, the survey, the grading rules, the pipeline and the uncertainty design.

:func:`load_framework` reads and validates a file (or the shipped default) and reports every
problem at once; :meth:`EvalFramework.for_level` gives the index framework of one level and one
edition, without the indicators that do not apply or have no data there.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cocity.evaluate.derive import MEASURES, Edition
from cocity.evaluate.errors import EvaluationError
from cocity.i18n import t
from cocity.index.framework import Framework, FrameworkError

DEFAULT = "chengyu_public_services"
LEVELS = ("prefecture", "county")
TOP_KEYS = {"name_zh", "name_en", "notice_zh", "notice_en", "year", "previous", "editions",
            "levels", "network", "survey", "grading", "weights", "aggregation", "pipeline",
            "uncertainty", "nodes", "improvement_max_years"}


def shipped() -> list[str]:
    folder = resources.files(__package__ or "").joinpath("frameworks")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


@dataclass(frozen=True)
class EvalFramework:
    """A validated evaluation framework file."""

    source: str
    content: bytes
    doc: dict[str, Any]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def nodes(self) -> list[dict[str, Any]]:
        return list(self.doc["nodes"])

    @property
    def leaves(self) -> list[dict[str, Any]]:
        parents = {str(n.get("parent")) for n in self.nodes if n.get("parent") is not None}
        return [n for n in self.nodes if str(n["code"]) not in parents]

    @property
    def year(self) -> int:
        return int(self.doc["year"])

    @property
    def previous(self) -> int | None:
        p = self.doc.get("previous")
        return None if p is None else int(p)

    def edition(self, year: int) -> Edition:
        editions = self.doc["editions"]
        if year not in editions:
            raise EvaluationError(t("eval.err.no_edition", year=year, source=self.source,
                                    known=", ".join(str(y) for y in editions)))
        return Edition(year, {str(k): (None if v is None else int(v))
                              for k, v in editions[year].items()})

    def level_label(self, level: str, lang: str) -> str:
        return str(self.doc["levels"][level].get(f"name_{lang}", level))

    def leaf(self, code: str) -> dict[str, Any]:
        return next(n for n in self.nodes if str(n["code"]) == code)

    def applies(self, node: dict[str, Any], level: str) -> bool:
        levels = node.get("levels")
        return levels is None or level in levels

    def for_level(self, level: str, drop: set[str] | frozenset[str] = frozenset()
                  ) -> Framework:
        """The index framework of ``level`` without the leaves in ``drop`` (and without the
        inner nodes left with no leaf)."""
        keep = [n for n in self.nodes if not (n in self.leaves and
                                              (not self.applies(n, level) or
                                               str(n["code"]) in drop))]
        while True:
            parents = {str(n.get("parent")) for n in keep if n.get("parent") is not None}
            inner = {str(n["code"]) for n in self.nodes if str(n["code"]) in
                     {str(m.get("parent")) for m in self.nodes if m.get("parent") is not None}}
            empty = [n for n in keep if str(n["code"]) in inner and str(n["code"]) not in parents]
            if not empty:
                break
            keep = [n for n in keep if n not in empty]
        return Framework.from_records(copy.deepcopy(keep), settings=self.doc, source=self.source)


def load_framework(ref: str | Path | None = None) -> EvalFramework:
    """Read and validate an evaluation framework: a YAML path, a shipped name, or None for
    the default (``chengyu_public_services``)."""
    ref = DEFAULT if ref is None else ref
    path = Path(ref)
    if path.is_file():
        content, source = path.read_bytes(), str(path)
    elif str(ref) in shipped():
        content = resources.files(__package__ or "").joinpath(
            "frameworks", f"{ref}.yaml").read_bytes()
        source = str(ref)
    else:
        raise EvaluationError(t("eval.err.no_framework", ref=str(ref),
                                shipped=", ".join(shipped())))
    try:
        doc = yaml.safe_load(content.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise EvaluationError(t("eval.err.yaml", file=source, detail=str(exc))) from None
    if not isinstance(doc, dict):
        raise EvaluationError(t("eval.err.not_mapping", file=source))
    fw = EvalFramework(source, content, doc)
    validate(fw)
    return fw


def validate(fw: EvalFramework) -> None:
    """Every problem of the file at once, as one :class:`EvaluationError`."""
    doc, src = fw.doc, fw.source
    issues: list[str] = []
    unknown = sorted(set(doc) - TOP_KEYS)
    if unknown:
        issues.append(t("eval.err.top_keys", file=src, keys=", ".join(unknown),
                        allowed=", ".join(sorted(TOP_KEYS))))
    for key in ("year", "editions", "levels", "nodes"):
        if key not in doc:
            issues.append(t("eval.err.missing_key", file=src, name=key))
    if issues:
        raise EvaluationError(issues)
    editions = doc["editions"]
    if not isinstance(editions, dict) or not editions:
        issues.append(t("eval.err.editions", file=src))
        editions = {}
    for y in (doc.get("year"), doc.get("previous")):
        if y is not None and y not in editions:
            issues.append(t("eval.err.no_edition", year=y, source=src,
                            known=", ".join(str(k) for k in editions)))
    sources = {str(k) for ed in editions.values() if isinstance(ed, dict) for k in ed}
    levels = doc["levels"]
    if not isinstance(levels, dict) or not set(levels) <= set(LEVELS) or not levels:
        issues.append(t("eval.err.levels", file=src, allowed=", ".join(LEVELS)))
        levels = {}
    nodes = doc["nodes"]
    if not isinstance(nodes, list) or not all(isinstance(n, dict) and "code" in n
                                              for n in nodes):
        raise EvaluationError([*issues, t("eval.err.nodes", file=src)])
    for node in fw.leaves:
        code = node["code"]
        m = node.get("measure")
        if not isinstance(m, dict) or "kind" not in m:
            issues.append(t("eval.err.no_measure", file=src, code=code))
            continue
        kind = str(m["kind"])
        if kind not in MEASURES:
            issues.append(t("eval.err.unknown_measure", file=src, code=code, kind=kind,
                            known=", ".join(sorted(MEASURES))))
            continue
        params = set(m) - {"kind"}
        sig = inspect.signature(MEASURES[kind])
        allowed = [p for p in sig.parameters if p not in ("ctx", "level", "units")]
        bad = sorted(params - set(allowed))
        if bad:
            issues.append(t("eval.err.measure_params", file=src, code=code, kind=kind,
                            params=", ".join(bad), allowed=", ".join(allowed) or "—"))
        required = [p.name for p in sig.parameters.values()
                    if p.default is inspect.Parameter.empty and p.kind == p.KEYWORD_ONLY]
        lacking = sorted(set(required) - params)
        if lacking:
            issues.append(t("eval.err.measure_required", file=src, code=code, kind=kind,
                            params=", ".join(lacking)))
        if "source" in m and str(m["source"]) not in sources:
            issues.append(t("eval.err.measure_source", file=src, code=code,
                            source=m["source"], known=", ".join(sorted(sources))))
        lv = node.get("levels")
        if lv is not None and (not isinstance(lv, list) or not set(lv) <= set(LEVELS)):
            issues.append(t("eval.err.node_levels", file=src, code=code,
                            allowed=", ".join(LEVELS)))
    if issues:
        raise EvaluationError(issues)
    for level in levels:
        try:
            fw.for_level(level)
        except FrameworkError as exc:
            issues.append(t("eval.err.level_tree", level=level, detail=str(exc)))
    if issues:
        raise EvaluationError(issues)
