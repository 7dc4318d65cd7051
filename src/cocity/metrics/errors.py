"""Errors of the diagnostics toolbox."""

from __future__ import annotations

from cocity.data.errors import CocityError


class MetricInputError(CocityError, ValueError):
    """A diagnostic was given input it cannot use (message from ``i18n`` labels)."""
