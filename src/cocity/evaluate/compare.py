"""Like-for-like comparisons inside an evaluation run.

**Year-on-year change on shared indicators.** Two editions may not measure the same things
(the 2010 edition has no yearbook indicators, a user's framework may add one). The change of a
unit's index score is only meaningful when both scores are built from the same indicators, so
:func:`compare_editions` rebuilds both scores on the indicators the two editions share (the
framework restricted to them, the same pipeline steps, each edition on its own values after
imputation) and reports which indicators it left out:

- ``same``: both editions have the same indicators; change = score − previous score;
- ``shared``: change = S_shared − P_shared, both built on the shared indicators, which must be
  at least ``MIN_SHARED`` of this edition's indicators;
- ``none``: fewer shared indicators than that — the editions are marked not comparable, no
  change is computed (and no grade moves for it).

**Weight of a dimension.** :func:`scores_without` rebuilds the index without some indicators
(e.g. every survey-based indicator when the survey is simulated), with the same pipeline steps
and the remaining weights renormalised by the aggregation, so a reader sees how much those
indicators decide.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cocity.evaluate.framework import EvalFramework
from cocity.index.pipeline import Pipeline

MIN_SHARED = 0.5


@dataclass(frozen=True)
class Comparison:
    """How one level of this edition compares with the previous one."""

    kind: str  # same | shared | none
    shared: list[str] = field(default_factory=list)
    current_only: list[str] = field(default_factory=list)
    previous_only: list[str] = field(default_factory=list)
    current: pd.Series | None = None  # this edition's score on the compared indicators
    previous: pd.Series | None = None  # the previous edition's score on the same indicators

    @property
    def comparable(self) -> bool:
        return self.kind != "none"

    @property
    def change(self) -> pd.Series | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous.reindex(self.current.index)


def _rebuild(fw: EvalFramework, level: str, values: pd.DataFrame, keep: list[str],
             steps: list[dict[str, dict[str, Any]]]) -> pd.Series:
    """The index score of ``values`` with the framework of ``level`` restricted to ``keep``."""
    drop = {str(n["code"]) for n in fw.leaves} - set(keep)
    framework = fw.for_level(level, drop)
    pipe = Pipeline(values[framework.indicators], framework)
    pipe.apply(copy.deepcopy(steps))
    return pipe.scores[framework.root]


def compare_editions(fw: EvalFramework, level: str, *, current_values: pd.DataFrame,
                     current_scores: pd.Series, previous_values: pd.DataFrame | None,
                     previous_scores: pd.Series | None,
                     steps: list[dict[str, dict[str, Any]]]) -> Comparison:
    """Compare this edition's index scores with the previous edition's on the indicators
    both have (see the module docstring). ``*_values``: units × indicators after imputation."""
    if previous_scores is None:
        return Comparison("none")
    cur = [str(c) for c in current_values.columns]
    prev = [str(c) for c in previous_values.columns] if previous_values is not None else []
    shared = [c for c in cur if c in prev]
    only_cur = [c for c in cur if c not in prev]
    only_prev = [c for c in prev if c not in cur]
    if previous_values is None or (not only_cur and not only_prev):
        return Comparison("same", shared or cur, [], [], current_scores,
                          previous_scores.reindex(current_scores.index))
    if len(shared) < MIN_SHARED * len(cur) or not shared:
        return Comparison("none", shared, only_cur, only_prev)
    now = _rebuild(fw, level, current_values, shared, steps)
    before = _rebuild(fw, level, previous_values, shared, steps)
    return Comparison("shared", shared, only_cur, only_prev, now.reindex(current_scores.index),
                      before.reindex(current_scores.index))


def scores_without(fw: EvalFramework, level: str, *, values: pd.DataFrame,
                   leave_out: Iterable[str],
                   steps: list[dict[str, dict[str, Any]]]) -> pd.Series:
    """Index scores of ``level`` rebuilt without the indicators ``leave_out``."""
    out = set(leave_out)
    keep = [str(c) for c in values.columns if str(c) not in out]
    return _rebuild(fw, level, values, keep, steps)
