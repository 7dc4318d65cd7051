"""``step.param=value`` changes of a framework file's pipeline (the command line's ``--set``).

``normalise.method=zscore``, ``aggregate.by_level.3=arithmetic``, ``weight.method=entropy``
(level-1 weights; ``weight.2.method=equal`` for level 2). Values are read as YAML (``1``,
``0.5``, ``[0, 100]``, ``geometric``). Changing a step's method starts that step from the new
method's defaults; a step the file does not have is added at its place in the pipeline's order.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from cocity.data.errors import Issue
from cocity.i18n import t
from cocity.index.errors import FrameworkError
from cocity.index.pipeline import ORDER
from cocity.index.steps import Step

NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")
ORIGIN = "--set"


@dataclass(frozen=True)
class Override:
    """One ``step.param=value`` change of a step parameter."""

    text: str
    step: str
    level: int | None  # weight steps: the level whose weights change
    path: tuple[str | int, ...]
    value: Any


def _refused(key: str, text: str, **fmt: Any) -> FrameworkError:
    return FrameworkError([Issue(t(key, text=text, **fmt), ORIGIN)])


def parse_override(text: str) -> Override:
    """``"normalise.method=zscore"`` → an :class:`Override` (clear error on bad syntax)."""
    key, sep, raw = text.partition("=")
    parts = key.strip().split(".")
    if not sep or raw.strip() == "" or len(parts) < 2 or any(p == "" for p in parts):
        raise _refused("index.cli.err.bad_set", text)
    step, rest = parts[0], parts[1:]
    if step not in ORDER:
        raise _refused("index.cli.err.set_step", text, step=step, steps=", ".join(ORDER))
    level = None
    if step == "weight" and rest[0].isdigit():
        level, rest = int(rest[0]), rest[1:]
        if not rest:
            raise _refused("index.cli.err.bad_set", text)
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise _refused("index.cli.err.set_value", text, detail=str(exc)) from None
    if isinstance(value, str) and NUMBER.fullmatch(value.strip()):
        value = float(value)  # YAML 1.1 reads 1e2 (no dot) as text
    path = tuple(int(p) if p.isdigit() else p for p in rest)
    return Override(text, step, level, path, value)


def apply_overrides(steps: Sequence[Step], overrides: Iterable[str | Override]) -> list[Step]:
    """A copy of ``steps`` with the overrides applied, in the pipeline's step order."""
    out = copy.deepcopy(list(steps))
    parsed = [o if isinstance(o, Override) else parse_override(o) for o in overrides]
    # A method change resets its step, so method changes go first.
    for ov in sorted(parsed, key=lambda o: o.path != ("method",)):
        params = _find_step(out, ov.step, ov.level)
        if ov.path == ("method",) and params.get("method") != ov.value:
            keep = {"level": params["level"]} if "level" in params else {}
            params.clear()
            params.update(keep)
        target: dict[Any, Any] = params
        for key in ov.path[:-1]:
            nxt = target.setdefault(key, {})
            if not isinstance(nxt, dict):
                raise _refused("index.cli.err.bad_set", ov.text)
            target = nxt
        target[ov.path[-1]] = ov.value
    out.sort(key=lambda e: ORDER.index(next(iter(e))))
    return out


def _find_step(steps: list[Step], kind: str, level: int | None) -> dict[str, Any]:
    """The parameters of step ``kind`` (a weight step: of ``level``, default 1); added when
    the steps do not have it."""
    for entry in steps:
        if kind in entry and (kind != "weight" or int(entry[kind].get("level", 1)) == (level or 1)):
            return entry[kind]
    params: dict[str, Any] = {"level": level} if kind == "weight" and level else {}
    steps.append({kind: params})
    return params
