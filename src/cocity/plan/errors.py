"""The one error of the planning tools' inputs: a bad row, unit or parameter, or a problem
with no solution (capacity below demand, a budget too short), said in the user's language."""

from __future__ import annotations

from cocity.data.errors import CocityError


class PlanInputError(CocityError, ValueError):
    """A planning input or parameter that cannot be used; the message names it and says why."""
