"""Errors of the accessibility engine."""

from __future__ import annotations

from cocity.data.errors import CocityError


class AccessInputError(CocityError, ValueError):
    """Bad input to a network builder, the kernel or a measure (message from ``i18n``)."""
