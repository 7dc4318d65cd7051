"""Errors of the composite-indicator engine (messages come from ``i18n`` labels)."""

from __future__ import annotations

from collections.abc import Iterable

from cocity.data.errors import CocityError, Issue
from cocity.spec import SpecError


class IndexEngineError(CocityError, ValueError):
    """Base class: a method or framework was given input it cannot use."""


class MethodInputError(IndexEngineError):
    """Bad input to a method (e.g. a constant indicator where spread is needed)."""


class ConsistencyError(IndexEngineError):
    """An AHP judgement matrix whose consistency ratio is not below the limit."""


class BuildError(IndexEngineError):
    """An index cannot be built as asked: the data selection (no such level, no units, no
    values), a node, a missing section, a step that fails on the data."""


class FrameworkError(SpecError, IndexEngineError):
    """A framework (tree, settings, ``data``/``pipeline``/``uncertainty`` sections, ``--set``
    changes) that cannot be used; ``issues`` lists every problem found, each with its file and
    key path."""

    def __init__(self, issues: Iterable[Issue | str]):
        super().__init__([i if isinstance(i, Issue) else Issue(str(i)) for i in issues])
