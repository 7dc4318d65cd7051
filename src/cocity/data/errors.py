"""Errors raised by the data layer. Each issue names file, row, column and a remedy."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem found in an input. ``row`` is 1-based as a spreadsheet shows it."""

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    hint: str | None = None
    key: str | None = None  # key path in a specification file (levels.county.membership[1])

    def __str__(self) -> str:
        from cocity.i18n import t

        where = [p for p in (
            self.file,
            t("issue.row", row=self.row) if self.row is not None else None,
            t("issue.column", column=self.column) if self.column is not None else None,
            t("issue.key", path=self.key) if self.key is not None else None,
        ) if p]
        text = (": ".join([", ".join(where), self.message]) if where else self.message)
        return f"{text} — {self.hint}" if self.hint else text


class CocityError(Exception):
    """Base class for errors meant to be shown to users (no traceback needed)."""


class UnitNotFoundError(CocityError, KeyError):
    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class AmbiguousUnitError(CocityError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


class WorkspaceNotFoundError(CocityError, FileNotFoundError):
    """The folder holds no cocity workspace."""


class WorkspaceError(CocityError):
    """A workspace file cannot be used as asked; the message names the file and what to do.

    Nothing was written: a failed open changes nothing, a failed write is rolled back.
    """


class WorkspaceLockedError(WorkspaceError):
    """Another process holds the workspace open for writing (or is reading it while we
    would write)."""


class WorkspaceDamagedError(WorkspaceError):
    """``cocity.duckdb`` is truncated, garbage or not a cocity workspace."""


class WorkspaceWriteError(WorkspaceError):
    """A write to the workspace failed (disk full, file-size limit, permissions); rolled back."""


class WorkspaceReadOnlyError(WorkspaceError):
    """A write was attempted on a workspace opened read-only."""


class IssuesError(CocityError):
    """An input rejected with every problem found (``issues``); nothing was changed. The
    message is a headline (label ``headline``) and the issues, at most ``max_shown`` of them
    (the rest counted with label ``more``). Subclasses name their headline."""

    headline = "error.validation"
    more = "error.more"
    max_shown = 20

    def __init__(self, issues: list[Issue], max_shown: int | None = None):
        from cocity.i18n import t

        self.issues = list(issues)
        limit = self.max_shown if max_shown is None else max_shown
        shown = "\n".join(f"  - {i}" for i in self.issues[:limit])
        rest = len(self.issues) - limit
        tail = "\n  " + t(self.more, n=rest) if rest > 0 else ""
        super().__init__(f"{t(self.headline, n=len(self.issues))}\n{shown}{tail}")


class ValidationError(IssuesError):
    """Input rejected; carries every issue found (the store was not changed)."""
