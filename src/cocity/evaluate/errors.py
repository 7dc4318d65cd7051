"""Errors of the evaluation system."""

from __future__ import annotations

from cocity.data.errors import CocityError


class EvaluationError(CocityError, ValueError):
    """An evaluation cannot be run as asked: framework, data, survey or run registry (the
    message, from ``i18n``, says which and what to do)."""

    def __init__(self, messages: str | list[str]):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))
