"""Errors of the composite-indicator engine (messages come from ``i18n`` labels)."""

from __future__ import annotations

from cocity.data.errors import CocityError


class IndexEngineError(CocityError, ValueError):
    """Base class: a method or framework was given input it cannot use."""


class MethodInputError(IndexEngineError):
    """Bad input to a method (e.g. a constant indicator where spread is needed)."""


class ConsistencyError(IndexEngineError):
    """An AHP judgement matrix whose consistency ratio is not below the limit."""


class FrameworkError(IndexEngineError):
    """An indicator framework that is not a valid tree; carries every issue found."""

    def __init__(self, issues: list[str]):
        self.issues = list(issues)
        super().__init__("\n".join(f"  - {i}" for i in self.issues))
