"""The evaluation framework file: an index framework (:mod:`cocity.index.framework`) whose
indicators say how they are derived (``measure``), at which levels they apply (``levels``) and
what they mean (``about_zh``/``about_en``), plus the editions (data years per evaluation year),
the evaluated levels, the survey, the grading rules, the pipeline and the uncertainty design.

:func:`load_framework` reads and validates a file (or the shipped default) through the typed
specification layer and reports every problem at once, with its key path;
:meth:`EvalFramework.for_level` gives the index framework of one level and one
edition, without the indicators that do not apply or have no data there.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
import yaml

from cocity.data.errors import Issue
from cocity.evaluate.derive import MEASURES, Edition
from cocity.evaluate.errors import EvaluationError
from cocity.i18n import t
from cocity.index.framework import Framework
from cocity.spec import OpenSpec, Spec, SpecError

DEFAULT = "chengyu_public_services"
LEVELS = ("prefecture", "county")


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

    def level_records(self, level: str, drop: set[str] | frozenset[str] = frozenset()
                      ) -> list[dict[str, Any]]:
        """The node records of ``level`` without the leaves in ``drop`` (and without the inner
        nodes left with no leaf)."""
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
        return copy.deepcopy(keep)

    def for_level(self, level: str, drop: set[str] | frozenset[str] = frozenset()
                  ) -> Framework:
        """The index framework of ``level`` without the leaves in ``drop`` (and without the
        inner nodes left with no leaf)."""
        return Framework.from_records(self.level_records(level, drop), settings=self.doc,
                                      source=self.source)


FRAMEWORK_FILE = "framework.yaml"


def workspace_framework(workspace: str | Path | None) -> Path | None:
    """A workspace's own framework (``WS/framework.yaml``, written by ``cocity init
    --cluster``), the default of ``cocity evaluate -w WS``; None when it has none."""
    if workspace is None:
        return None
    path = Path(workspace) / FRAMEWORK_FILE
    return path if path.is_file() else None


def load_framework(ref: str | Path | None = None) -> EvalFramework:
    """Read and validate an evaluation framework: a YAML path, a shipped name, or None for
    the default (``chengyu_public_services``). Every problem of the file — YAML syntax, unknown
    or mistyped keys anywhere, editions, levels, measures and their parameters, the tree of
    each level, the pipeline's methods and parameters, the uncertainty section, the grading
    rules — comes back at once as a :class:`~cocity.spec.SpecError`, each issue with the file
    and its key path."""
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
    except UnicodeDecodeError:
        raise SpecError([Issue(t("spec.err.encoding"), source)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SpecError([Issue(t("spec.err.yaml", problem=getattr(exc, "problem", None)
                                 or str(exc)), source,
                               mark.line + 1 if mark is not None else None)]) from None
    if not isinstance(doc, dict):
        raise SpecError([Issue(t("spec.err.not_mapping", kind=type(doc).__name__), source)])
    fw = EvalFramework(source, content, doc)
    issues = framework_problems(fw)
    if issues:
        raise SpecError(issues)
    return fw


# ---------------------------------------------------------------------- the file, typed
LevelName = Literal["prefecture", "county"]
Membership = Literal["full", "partial", "outside"]


class LevelSpec(Spec):
    name_zh: str | None = None
    name_en: str | None = None
    membership: list[Membership] = pydantic.Field(
        default_factory=lambda: list[Membership](["full", "partial"]))


class SimulateSpec(Spec):
    n_per_unit: Annotated[int, pydantic.Field(strict=True, ge=2)] = 60
    seed: Annotated[int, pydantic.Field(strict=True)] = 0


class SurveyOptions(Spec):
    simulate: SimulateSpec = pydantic.Field(default_factory=SimulateSpec)
    min_n: Annotated[int, pydantic.Field(strict=True, ge=0)] = 30
    min_response: Annotated[float, pydantic.Field(ge=0, le=1)] = 0.5


class EvalFrameworkSpec(Spec):
    """The top level of an evaluation framework file (the tree's own keys, the pipeline, the
    uncertainty section and the grading rules are checked by their owners' checks)."""

    name_zh: str = ""
    name_en: str = ""
    notice_zh: str | None = None
    notice_en: str | None = None
    year: Annotated[int, pydantic.Field(strict=True)]
    previous: Annotated[int, pydantic.Field(strict=True)] | None = None
    editions: Annotated[dict[int, dict[str, Annotated[int, pydantic.Field(strict=True)] | None]],
                        pydantic.Field(min_length=1)]
    levels: Annotated[dict[LevelName, LevelSpec], pydantic.Field(min_length=1)]
    network: str | None = None
    survey: SurveyOptions | None = None
    grading: Any = None
    improvement_max_years: Annotated[int, pydantic.Field(strict=True, ge=0)] = 1
    weights: Any = None
    aggregation: Any = None
    pipeline: Any = None
    uncertainty: Any = None
    nodes: list[Any]


class MeasureSpec(OpenSpec):
    kind: str


class EvalNodeExtras(Spec):
    """The keys an evaluation framework adds to an index framework's node."""

    measure: MeasureSpec | None = None
    levels: list[LevelName] | None = None
    about_zh: str | None = None
    about_en: str | None = None
    unit_zh: str | None = None
    unit_en: str | None = None


def framework_problems(fw: EvalFramework) -> list[Issue]:
    """Every problem of an evaluation framework file, each with its key path."""
    from cocity.index.framework import NodeSpec, framework_issues, join_key, validated
    from cocity.index.steps import step_issues
    from cocity.index.uncertainty import uncertainty_issues

    doc, src = fw.doc, fw.source
    top, issues = validated(EvalFrameworkSpec, doc, src)
    given = doc.get("nodes")
    nodes: list[Any] = given if isinstance(given, list) else []
    extra_keys = set(EvalNodeExtras.model_fields)
    node_keys = set(NodeSpec.model_fields) | extra_keys
    for i, node in enumerate(nodes):
        if not isinstance(node, dict):
            continue
        where = f"nodes[{i}]"
        for key in sorted(set(node) - node_keys, key=str):
            issues.append(Issue(t("spec.err.extra_forbidden"), src, key=f"{where}.{key}"))
        issues += validated(EvalNodeExtras, {k: v for k, v in node.items() if k in extra_keys},
                            src, where)[1]
    raw_editions = doc.get("editions")
    editions: dict[Any, Any] = raw_editions if isinstance(raw_editions, dict) else {}
    sources = {str(k) for ed in editions.values() if isinstance(ed, dict) for k in ed}
    for key in ("year", "previous"):
        year = doc.get(key)
        if isinstance(year, int) and editions and year not in editions:
            issues.append(Issue(t("eval.err.no_edition", year=year, source=src, known=", ".join(
                str(y) for y in editions)), src, key=key))
    for node in fw.leaves if nodes else []:
        issues += _measure_issues(node, f"nodes[{nodes.index(node)}]", src, sources)
    if doc.get("pipeline") is not None:
        issues += step_issues(doc["pipeline"], origin=src, key="pipeline")
    if doc.get("uncertainty") is not None:
        issues += uncertainty_issues(doc["uncertainty"], origin=src)[1]
    if doc.get("grading") is not None and not isinstance(doc["grading"], str):
        from cocity.evaluate.grades import load_rules

        try:
            load_rules(doc["grading"])
        except SpecError as exc:
            issues += [Issue(i.message, src, key=join_key("grading", i.key))
                       for i in exc.issues]
    if issues or top is None:
        return issues
    for level in top.levels:
        _, found = framework_issues(fw.level_records(level), settings=doc, source=src)
        issues += [Issue(t("eval.err.level_tree", level=level, detail=i.message), src,
                         key=i.key) for i in found]
    return issues


def _measure_issues(node: dict[str, Any], where: str, src: str, sources: set[str]
                    ) -> list[Issue]:
    """A leaf's measure: known, with the parameters its function takes, from a known source."""
    code = node.get("code")
    m = node.get("measure")
    if not isinstance(m, dict) or "kind" not in m:
        return [Issue(t("eval.err.no_measure", file=src, code=code), src,
                      key=f"{where}.measure")]
    kind = str(m["kind"])
    if kind not in MEASURES:
        return [Issue(t("eval.err.unknown_measure", file=src, code=code, kind=kind,
                        known=", ".join(sorted(MEASURES))), src, key=f"{where}.measure.kind")]
    out = []
    params = set(m) - {"kind"}
    sig = inspect.signature(MEASURES[kind])
    allowed = [p for p in sig.parameters if p not in ("ctx", "level", "units")]
    bad = sorted(params - set(allowed))
    if bad:
        out.append(Issue(t("eval.err.measure_params", file=src, code=code, kind=kind,
                           params=", ".join(bad), allowed=", ".join(allowed) or "—"), src,
                         key=f"{where}.measure.{bad[0]}"))
    required = [p.name for p in sig.parameters.values()
                if p.default is inspect.Parameter.empty and p.kind == p.KEYWORD_ONLY]
    lacking = sorted(set(required) - params)
    if lacking:
        out.append(Issue(t("eval.err.measure_required", file=src, code=code, kind=kind,
                           params=", ".join(lacking)), src, key=f"{where}.measure"))
    if "source" in m and str(m["source"]) not in sources:
        out.append(Issue(t("eval.err.measure_source", file=src, code=code, source=m["source"],
                           known=", ".join(sorted(sources))), src,
                         key=f"{where}.measure.source"))
    return out
