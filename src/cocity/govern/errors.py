"""Refusals of the committee's case register: each a :class:`~cocity.data.errors.CocityError`
with a bilingual label naming the case, field or value refused and what to do. A refused
operation writes nothing (its transaction is rolled back or never started)."""

from __future__ import annotations

from typing import Any

from cocity.data.errors import CocityError
from cocity.i18n import t


class GovernError(CocityError):
    """An operation on the register was refused; nothing was written."""

    label = "govern.err.generic"

    def __init__(self, label: str | None = None, **fmt: Any) -> None:
        """``label`` replaces the class's label (a variant of the same refusal)."""
        self.fmt = fmt
        super().__init__(t(label or self.label, **fmt))


class InvalidCaseError(GovernError):
    """A case field is missing or not one of the allowed values (category, source, priority),
    a date is not a date, or an audit field (key, actor, role, reason) is empty."""

    label = "govern.err.invalid"


class UnknownUnitError(GovernError):
    """A unit named by the case cannot be resolved to one GB/T 2260 code (unknown or
    ambiguous), or is named twice."""

    label = "govern.err.unit"


class DueBeforeOpenedError(GovernError):
    """The due date is before the date the case was opened."""

    label = "govern.err.due"


class DuplicateCaseError(GovernError):
    """The idempotency key was used before for a case (or a change of state) with another
    body."""

    label = "govern.err.duplicate"


class UnknownCaseError(GovernError):
    """No case has this id."""

    label = "govern.err.unknown_case"


class InvalidTransitionError(GovernError):
    """The state machine does not allow this change from the case's current state (or the
    target is not a state, or ``resolved`` is missing on closing / given otherwise)."""

    label = "govern.err.transition"


class VersionConflictError(GovernError):
    """The case changed since the writer read it (``expected_version`` is stale)."""

    label = "govern.err.conflict"


class AppendOnlyError(GovernError):
    """The database refused to change or delete an event or a case's fixed fields."""

    label = "govern.err.append_only"
