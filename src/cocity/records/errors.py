"""Errors of the records store, each a bilingual message naming the database and what to do."""

from __future__ import annotations

from typing import Any

from cocity.data.errors import CocityError
from cocity.i18n import t


class RecordsError(CocityError):
    """The records database cannot be used as asked (the message names it and what to do).

    Nothing was written: a failed open changes nothing, a failed write is rolled back.
    """

    label = "records.err.generic"

    def __init__(self, where: str, **fmt: Any) -> None:
        self.where = where
        self.fmt = fmt
        super().__init__(t(self.label, where=where, **fmt))


class RecordsUnreachableError(RecordsError):
    """The database server cannot be reached (or refused the connection)."""

    label = "records.err.unreachable"


class NotRecordsDatabaseError(RecordsError):
    """The file or database is not a cocity records database (garbage, another program's)."""

    label = "records.err.not_records"


class RecordsSchemaNewerError(RecordsError):
    """The database was written by a newer cocity (a schema revision this one does not know)."""

    label = "records.err.newer"


class RecordsBusyError(RecordsError):
    """Another writer held the database longer than the busy timeout."""

    label = "records.err.busy"


class RecordsWriteError(RecordsError):
    """A write failed (disk full, read-only file, lost connection); it was rolled back."""

    label = "records.err.write"


class RecordsTargetError(RecordsError):
    """The target given is neither a file path nor a supported database URL."""

    label = "records.err.target"
