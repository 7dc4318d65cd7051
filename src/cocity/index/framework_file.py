"""Framework files: the tree of :mod:`cocity.index.framework` plus the sections that say how to
build it — read and validated in one pass.

A framework file is a YAML file (or a CSV file with the nodes only) or the name of a shipped
framework (``frameworks/*.yaml``). Besides the tree (``name_zh``, ``name_en``, ``weights``,
``aggregation``, ``nodes``) and a notice (``notice_zh``, ``notice_en``) it may carry::

    data: {year: 2020, level: county, membership: [full, partial]}
    pipeline:
      - impute: {method: median}
      - normalise: {method: minmax, low: 1, high: 100}
      - aggregate: {by_level: {3: geometric}}
    uncertainty: {replications: 2000, seed: 1, inputs: [...]}   # cocity.index.uncertainty

``data`` is optional (see :func:`cocity.index.selection.load_panel`); without ``pipeline`` the
steps are min–max normalisation and aggregation. Every problem of the file — YAML syntax,
unknown keys anywhere, wrong types, the tree, directions (a leaf without one takes the
catalog's when ``directions`` are given; a descriptive catalog indicator, direction 0, is
refused), unknown methods and parameters in ``pipeline`` and ``uncertainty`` — comes back in
one :class:`~cocity.index.errors.FrameworkError`, each issue with the file and its key path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
import pydantic

from cocity.data.errors import Issue
from cocity.i18n import t
from cocity.index.errors import FrameworkError
from cocity.index.framework import Framework, framework_issues, validated
from cocity.index.steps import Step, default_steps, step_issues
from cocity.index.uncertainty import UncertaintySpec, uncertainty_issues
from cocity.spec import Spec, SpecError, read_yaml

FRAMEWORKS_DIR = "frameworks"
LevelName = Literal["province", "prefecture", "county"]
MembershipName = Literal["full", "partial", "outside"]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class DataSpec(Spec):
    """The ``data:`` section: which observations the index is built on."""

    year: int | None = None
    level: LevelName | None = None
    membership: Annotated[list[MembershipName] | None, pydantic.BeforeValidator(_as_list)] = None


class FrameworkFileSpec(Spec):
    """The top level of a framework file (the tree's own keys are checked by
    :func:`cocity.index.framework.framework_issues`, the sections by their checks)."""

    name_zh: str = ""
    name_en: str = ""
    notice_zh: str = ""
    notice_en: str = ""
    weights: Any = None
    aggregation: Any = None
    data: DataSpec = pydantic.Field(default_factory=DataSpec)
    pipeline: Any = None
    uncertainty: Any = None
    nodes: Any


@dataclass(frozen=True)
class FrameworkFile:
    """A framework file as read: the validated tree and the file's other sections."""

    source: str  # the path or shipped name as given
    name: str  # file stem, used for default output folders
    content: bytes
    framework: Framework
    data: DataSpec
    steps: list[Step]
    uncertainty: UncertaintySpec | None
    uncertainty_doc: dict[str, Any] | None = None  # the section as written (for manifests)
    notice_zh: str = ""
    notice_en: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def shipped_frameworks() -> list[str]:
    """Names of the framework files shipped with cocity."""
    folder = resources.files("cocity.index").joinpath(FRAMEWORKS_DIR)
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir()
                  if p.name.endswith(".yaml"))


def load_framework(ref: str | Path, *,
                   directions: Mapping[str, Any] | pd.Series | None = None) -> FrameworkFile:
    """Read and validate a framework file: a path (YAML or CSV) or the name of a shipped
    framework. ``directions``: the catalog's indicator directions, for leaves without one."""
    path = Path(ref)
    source = str(ref)
    if path.is_file():
        content, name, suffix = path.read_bytes(), path.stem, path.suffix.lower()
    elif source in shipped_frameworks():
        content, name, suffix = resources.files("cocity.index").joinpath(
            FRAMEWORKS_DIR, f"{ref}.yaml").read_bytes(), source, ".yaml"
    else:
        raise FrameworkError([Issue(t("index.cli.err.no_framework", ref=source,
                                      shipped=", ".join(shipped_frameworks())))])
    if suffix == ".csv":
        tree = Framework.from_csv(path, directions=directions)
        return FrameworkFile(source, name, content, tree, DataSpec(), default_steps(),
                             None)
    try:
        doc, _ = (read_yaml(path) if path.is_file() else
                  read_yaml(package="cocity.index", default=f"{FRAMEWORKS_DIR}/{ref}.yaml"))
    except SpecError as exc:
        raise FrameworkError([Issue(i.message, source, i.row, hint=i.hint)
                              for i in exc.issues]) from None
    if not isinstance(doc, Mapping):
        raise FrameworkError([Issue(t("spec.err.not_mapping", kind=type(doc).__name__),
                                    source)])
    top, issues = validated(FrameworkFileSpec, doc, source)
    framework, found = framework_issues(doc.get("nodes"), settings=doc, source=source,
                                        directions=directions, strict=True)
    issues += [i for i in found if i.key != "nodes" or "nodes" in doc]
    if doc.get("pipeline") is not None:
        issues += step_issues(doc["pipeline"], origin=source)
    unc = None
    if doc.get("uncertainty") is not None:
        section, found = uncertainty_issues(doc["uncertainty"], origin=source)
        issues += found
        unc = None if section is None else UncertaintySpec.from_section(section)
    if issues or top is None or framework is None:
        raise FrameworkError(issues)
    steps = default_steps() if doc.get("pipeline") is None else [
        {str(k): dict(v or {})} for entry in doc["pipeline"] for k, v in entry.items()]
    return FrameworkFile(source, name, content, framework, top.data, steps, unc,
                         dict(doc["uncertainty"]) if unc is not None else None,
                         top.notice_zh, top.notice_en)
