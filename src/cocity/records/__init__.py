"""The records store: the transactional database of the institutions (the fund's ledger; later
the committee's register and the portal's users) through SQLAlchemy Core with Alembic
migrations — an SQLite file by default, PostgreSQL when given a URL.

    from cocity.records import open_records
    with open_records("fund.sqlite") as records:        # or "postgresql+psycopg://…"
        with records.transaction() as conn:              # one write transaction
            ...

See :mod:`cocity.records.store` for the settings of each database and the checks on open.
"""

from cocity.records.errors import (
    NotRecordsDatabaseError,
    RecordsBusyError,
    RecordsError,
    RecordsSchemaNewerError,
    RecordsTargetError,
    RecordsUnreachableError,
    RecordsWriteError,
)
from cocity.records.store import (
    DEFAULT_FILE,
    Records,
    default_actor,
    head_revision,
    open_records,
)

__all__ = [
    "DEFAULT_FILE",
    "NotRecordsDatabaseError",
    "Records",
    "RecordsBusyError",
    "RecordsError",
    "RecordsSchemaNewerError",
    "RecordsTargetError",
    "RecordsUnreachableError",
    "RecordsWriteError",
    "default_actor",
    "head_revision",
    "open_records",
]
