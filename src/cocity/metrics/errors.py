"""Errors of the diagnostics toolbox."""

from __future__ import annotations

from cocity.data.errors import CocityError


class MetricInputError(CocityError, ValueError):
    """A diagnostic was given input it cannot use (message from ``i18n`` labels)."""


class DiagnoseError(MetricInputError):
    """The diagnostics cannot run as asked: missing data, or a metric's
    :class:`MetricInputError` with where it arose (a bad specification is a
    :class:`~cocity.spec.SpecError`)."""
