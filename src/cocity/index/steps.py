"""Pipeline steps kept as data — a framework file's ``pipeline:`` section — and their check.

A section is a list of one-key mappings ``{step: parameters}``, steps being those of
:data:`cocity.index.pipeline.ORDER`::

    pipeline:
      - impute: {method: median, groups: parent}
      - normalise: {method: minmax, low: 1, high: 100}
      - weight: {method: entropy, level: 1}
      - aggregate: {by_level: {3: geometric}}

:func:`step_issues` finds every problem of such a section at once — an entry that is not one
``step: params`` mapping, an unknown step, an unknown method (with the closest name), a
parameter the method or the step does not take, an unknown aggregation method in
``by_level``, an imputation group that is not a unit column — each as an
:class:`~cocity.data.errors.Issue` with its key path (``pipeline[1].normalise.method``). The
index framework file and the evaluation framework (or any other caller with a ``pipeline:``
section) call it on their own section and report its issues with their others.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from cocity.data.errors import Issue
from cocity.i18n import t
from cocity.index import registry
from cocity.index.errors import FrameworkError
from cocity.index.pipeline import ORDER, Pipeline

Step = dict[str, dict[str, Any]]

#: the steps of a framework file without a ``pipeline:`` section
DEFAULT_STEPS: list[Step] = [{"normalise": {"method": "minmax"}}, {"aggregate": {}}]
#: steps whose parameters are those of a registered method (and the pipeline's own keywords)
METHOD_STEPS = ("impute", "treat", "normalise", "weight")
STEP_EXTRAS = {"weight": ("method", "level")}
PLAIN_STEPS = {"denominate": ("by", "scale"), "screen": ("min_share",),
               "aggregate": ("by_level", "min_share", "params")}
#: unit columns an impute step may name as its groups
UNIT_GROUP_COLUMNS = ("parent", "membership", "tier", "metro", "kind")


def default_steps() -> list[Step]:
    return copy.deepcopy(DEFAULT_STEPS)


def step_issues(steps: Any, *, origin: str = "<pipeline>", key: str = "pipeline"
                ) -> list[Issue]:
    """Every problem of a ``pipeline:`` section (see the module docstring); empty when the
    steps can be run."""
    if not isinstance(steps, list):
        return [Issue(t("spec.err.list_type", value=_short(steps)), origin, key=key)]
    issues: list[Issue] = []
    for i, entry in enumerate(steps):
        where = f"{key}[{i}]"
        if not isinstance(entry, Mapping) or len(entry) != 1:
            issues.append(Issue(t("index.p.bad_step", entry=entry), origin, key=where))
            continue
        ((kind, params),) = entry.items()
        if kind not in ORDER:
            issues.append(Issue(t("index.p.unknown_step", step=kind, steps=", ".join(ORDER)),
                                origin, key=where))
            continue
        if params is not None and not isinstance(params, Mapping):
            issues.append(Issue(t("index.p.bad_step", entry=entry), origin, key=where))
            continue
        issues += _params_issues(str(kind), dict(params or {}), origin, f"{where}.{kind}")
    return issues


def _params_issues(kind: str, params: dict[str, Any], origin: str, where: str) -> list[Issue]:
    issues: list[Issue] = []
    if kind in PLAIN_STEPS:
        issues += _name_issues(kind, None, params, PLAIN_STEPS[kind], origin, where)
        by_level = params.get("by_level")
        if kind == "aggregate" and by_level is not None:
            if not isinstance(by_level, Mapping):
                issues.append(Issue(t("spec.err.dict_type", value=_short(by_level)), origin,
                                    key=f"{where}.by_level"))
            else:
                for level, method in by_level.items():
                    problem = registry.unknown_method("aggregate", str(method), step=kind)
                    if problem:
                        issues.append(Issue(problem, origin, key=f"{where}.by_level.{level}"))
        return issues
    default = inspect.signature(getattr(Pipeline, kind)).parameters["method"].default
    method = str(params.get("method", default))
    problem = registry.unknown_method(kind, method, step=kind)
    if problem:
        return [Issue(problem, origin, key=f"{where}.method")]
    if kind == "weight" and "level" in params and not (
            isinstance(params["level"], int) and params["level"] >= 1):
        issues.append(Issue(t("spec.err.greater_than_equal", limit=1,
                              value=_short(params["level"])), origin, key=f"{where}.level"))
    if kind == "impute" and isinstance(params.get("groups"), str) and \
            params["groups"] not in UNIT_GROUP_COLUMNS:
        issues.append(Issue(t("index.cli.err.groups", column=params["groups"],
                              allowed=", ".join(UNIT_GROUP_COLUMNS)), origin,
                            key=f"{where}.groups"))
    sig = inspect.signature(registry.get(kind, method)).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig):
        return issues
    allowed = [p.name for p in sig if p.kind is inspect.Parameter.KEYWORD_ONLY]
    return issues + _name_issues(kind, method, params,
                                 (*STEP_EXTRAS.get(kind, ("method",)), *allowed), origin, where)


def _name_issues(step: str, method: str | None, params: Mapping[str, Any],
                 allowed: Sequence[str], origin: str, where: str) -> list[Issue]:
    unknown = [str(k) for k in params if k not in allowed]
    if not unknown:
        return []
    return [Issue(t("index.cli.err.unknown_param", step=step, method=method or step,
                    params=", ".join(unknown), allowed=", ".join(allowed) or "—"), origin,
                  key=where)]


def check_steps(steps: Any, *, origin: str = "<pipeline>", key: str = "pipeline"
                ) -> list[Step]:
    """The steps as ``[{step: params}, …]`` (a copy), or a
    :class:`~cocity.index.errors.FrameworkError` with every issue of :func:`step_issues`."""
    issues = step_issues(steps, origin=origin, key=key)
    if issues:
        raise FrameworkError(issues)
    return [{str(k): dict(v or {})} for entry in steps for k, v in entry.items()]


def prepare_steps(steps: Sequence[Step], units: pd.DataFrame) -> list[Step]:
    """Steps as the pipeline takes them: an impute step's ``groups`` naming a unit column
    becomes that column of ``units`` (missing values as empty text)."""
    out = copy.deepcopy(list(steps))
    for entry in out:
        params = entry.get("impute")
        if params and isinstance(params.get("groups"), str):
            col = params["groups"]
            params["groups"] = units[col].astype(object).where(units[col].notna(), "")
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"
