"""Opening the records database: engine, dialect settings, migrations, transactions, errors.

``open_records(target)`` accepts

* ``None`` — ``cocity-records.sqlite`` in the current folder;
* a path — an SQLite file (created when missing; its folder must exist);
* a URL — ``sqlite:///path`` or ``postgresql+psycopg://user@host/db`` (``postgresql://`` and
  ``postgres://`` are taken as psycopg 3). Other databases are refused.

It then brings the schema to the newest revision with the Alembic migrations shipped in
``cocity/records/migrations`` (run programmatically: users need no ``alembic.ini``). The
migration runs under a writer's lock (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction
advisory lock) so that two processes opening a new database at once do not both create it. The
schema version is kept in the table ``cocity_records_version``. Before migrating, the database
is checked: a file that is not SQLite, a database holding tables but no version table (another
program's), or a version this cocity does not know (a newer cocity wrote it) is refused with a
bilingual :class:`~cocity.records.errors.RecordsError` naming the database and what to do.

SQLite settings (every connection): ``journal_mode=WAL`` (readers never block the writer),
``foreign_keys=ON``, a busy timeout of :data:`BUSY_TIMEOUT_S` seconds, and the driver's own
transaction handling switched off so that :meth:`Records.transaction` can start writers with
``BEGIN IMMEDIATE``: a writer takes the database's write lock at its first statement, so
concurrent writers wait for each other (up to the busy timeout) instead of failing half-way
when a reader upgrades to a writer. Reads (:meth:`Records.read`) use a deferred ``BEGIN``: a
consistent snapshot that never blocks writers.

PostgreSQL runs at READ COMMITTED; the ledger takes row locks and a transaction advisory lock
where it needs order (see :mod:`cocity.fund.journal`); reads use REPEATABLE READ, one snapshot.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from cocity.records.errors import (
    NotRecordsDatabaseError,
    RecordsBusyError,
    RecordsError,
    RecordsSchemaNewerError,
    RecordsTargetError,
    RecordsUnreachableError,
    RecordsWriteError,
)

DEFAULT_FILE = "cocity-records.sqlite"
VERSION_TABLE = "cocity_records_version"
BUSY_TIMEOUT_S = 30.0
# the key of PostgreSQL's transaction advisory lock taken while migrating ("cocity-mg")
_MIGRATE_LOCK = 0x636F636974796D67
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _url_of(target: str | Path | None) -> sa.URL:
    if target is None:
        target = Path.cwd() / DEFAULT_FILE
    if isinstance(target, str) and "://" in target:
        try:
            url = sa.make_url(target)
        except sa.exc.ArgumentError as exc:
            raise RecordsTargetError(target, reason=str(exc)) from None
        backend = url.get_backend_name()
        if backend in ("postgresql", "postgres"):
            return url.set(drivername="postgresql+psycopg")
        if backend == "sqlite" and url.get_driver_name() in ("", "pysqlite"):
            if not url.database or url.database == ":memory:":
                raise RecordsTargetError(target, reason="sqlite:///<file>")
            return url.set(drivername="sqlite+pysqlite")
        raise RecordsTargetError(target, reason=backend)
    path = Path(target).expanduser().resolve()
    if not path.parent.is_dir():
        raise RecordsTargetError(str(path), reason=f"{path.parent} ?")
    if path.is_dir():
        raise RecordsTargetError(str(path), reason="folder")
    return sa.URL.create("sqlite+pysqlite", database=str(path))


def _sqlite_engine(url: sa.URL) -> Engine:
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # the driver must not open transactions by itself: we say BEGIN (IMMEDIATE) ourselves
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        writer = conn.get_execution_options().get("cocity_writer", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


def _check_sqlite_file(url: sa.URL) -> None:
    path = Path(url.database or "")
    if path.is_file() and path.stat().st_size > 0:
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
        if head != _SQLITE_MAGIC:
            raise NotRecordsDatabaseError(str(path))


def _script_location() -> str:
    return str(resources.files("cocity.records") / "migrations")


def _alembic_config(conn: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", _script_location())
    cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str:
    """The newest schema revision this cocity ships."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", _script_location())
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def _known_revisions() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", _script_location())
    return {rev.revision for rev in ScriptDirectory.from_config(cfg).walk_revisions()}


class Records:
    """An open records database. Use :meth:`transaction` to write, :meth:`read` to read."""

    def __init__(self, engine: Engine, *, where: str) -> None:
        self.engine = engine
        self.where = where
        self.dialect: str = engine.dialect.name  # "sqlite" | "postgresql"

    # -- transactions -------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back on any error.
        SQLite starts it with ``BEGIN IMMEDIATE`` (concurrent writers wait their turn)."""
        with self._translated(), self.engine.connect() as conn:
            conn = conn.execution_options(cocity_writer=True)
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """One read-only snapshot (SQLite: deferred ``BEGIN``; PostgreSQL: REPEATABLE READ,
        READ ONLY)."""
        with self._translated(), self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ",
                                              postgresql_readonly=True)
            else:
                conn = conn.execution_options(cocity_writer=False)
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except sa.exc.OperationalError as exc:
            if str(getattr(exc.orig, "sqlstate", "") or "").startswith("40"):
                raise  # deadlock / serialisation failure: the caller may try again
            raise self.translate(exc) from exc

    def translate(self, exc: sa.exc.DBAPIError) -> RecordsError:
        """The :class:`RecordsError` for a driver's operational error."""
        text = str(exc.orig).lower()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if self.dialect == "sqlite":
            if "locked" in text or "busy" in text:
                return RecordsBusyError(self.where, seconds=BUSY_TIMEOUT_S)
            if "not a database" in text or "malformed" in text:
                return NotRecordsDatabaseError(self.where)
            return RecordsWriteError(self.where, reason=reason)
        if exc.connection_invalidated or "connect" in text or "terminat" in text:
            return RecordsUnreachableError(self.where, reason=reason)
        return RecordsWriteError(self.where, reason=reason)

    # -- schema --------------------------------------------------------------------------
    def revision(self) -> str | None:
        """The schema revision stored in the database (``None``: not created yet)."""
        from alembic.runtime.migration import MigrationContext

        with self.read() as conn:
            ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            return ctx.get_current_revision()

    def migrate(self) -> None:
        """Bring the schema to the newest revision (a no-op when it is there)."""
        from alembic import command
        from alembic.runtime.migration import MigrationContext

        with self.transaction() as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATE_LOCK})
            names = set(sa.inspect(conn).get_table_names())
            if VERSION_TABLE not in names:
                if names:
                    raise NotRecordsDatabaseError(self.where)
                current = None
            else:
                ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
                current = ctx.get_current_revision()
                if current is not None and current not in _known_revisions():
                    raise RecordsSchemaNewerError(self.where, revision=current,
                                                  head=head_revision())
            if current != head_revision():
                command.upgrade(_alembic_config(conn), "head")

    def close(self) -> None:
        """Release every connection (the database stays as it is)."""
        self.engine.dispose()

    def __enter__(self) -> Records:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Records({self.where!r})"


def open_records(target: str | Path | None = None, *, migrate: bool = True) -> Records:
    """Open (and create or migrate) the records database ``target``; see the module doc."""
    url = _url_of(target)
    where = (url.database or "") if url.get_backend_name() == "sqlite" \
        else url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":
        _check_sqlite_file(url)
        engine = _sqlite_engine(url)
    else:
        timeout = int(os.environ.get("COCITY_RECORDS_CONNECT_TIMEOUT", "10"))
        engine = sa.create_engine(url, connect_args={"connect_timeout": timeout},
                                  pool_pre_ping=True)
    records = Records(engine, where=where)
    try:
        with records._translated(), engine.connect():
            pass
        if migrate:
            records.migrate()
    except sa.exc.DatabaseError as exc:  # e.g. "file is not a database" on the first query
        records.close()
        raise records.translate(exc) from exc
    except BaseException:
        records.close()
        raise
    return records


def default_actor() -> str:
    """Who is acting when a command is not told: ``COCITY_ACTOR``, else the login name."""
    import getpass

    return os.environ.get("COCITY_ACTOR") or getpass.getuser()
