"""The records store: opening, migrations, settings and its refusals, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from cocity.i18n import use_lang
from cocity.records import (
    DEFAULT_FILE,
    NotRecordsDatabaseError,
    RecordsBusyError,
    RecordsSchemaNewerError,
    RecordsTargetError,
    RecordsUnreachableError,
    head_revision,
    open_records,
)
from cocity.records import schema as records_schema
from cocity.records.store import VERSION_TABLE


def test_default_target_is_a_file_in_the_current_folder(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_records() as records:
        assert records.dialect == "sqlite"
        assert records.revision() == head_revision()
    assert (tmp_path / DEFAULT_FILE).stat().st_size > 0


def test_sqlite_settings_wal_foreign_keys_busy_timeout(tmp_path: Path) -> None:
    with open_records(tmp_path / "r.sqlite") as records, records.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_migrations_leave_the_schema_the_code_queries(records) -> None:
    """Every table and column of ``cocity.records.schema`` exists after the migrations."""
    with records.read() as conn:
        inspector = sa.inspect(conn)
        tables = set(inspector.get_table_names())
        assert set(records_schema.metadata.tables) | {VERSION_TABLE} == tables
        for name, table in records_schema.metadata.tables.items():
            stored = {c["name"] for c in inspector.get_columns(name)}
            assert stored == {c.name for c in table.columns}, name


def test_reopening_keeps_the_data_and_the_revision(records_url: str) -> None:
    with open_records(records_url) as records, records.transaction() as conn:
        conn.execute(records_schema.fund_meta.insert(),
                     {"key": "probe", "value": "kept", "created": "now"})
    with open_records(records_url) as again:
        assert again.revision() == head_revision()
        with again.read() as conn:
            assert conn.execute(sa.select(records_schema.fund_meta.c.value)).scalar() == "kept"


def test_a_database_of_a_newer_schema_is_refused(records_url: str) -> None:
    with open_records(records_url) as records, records.transaction() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '9999_future'"))
    with use_lang("en"), pytest.raises(RecordsSchemaNewerError,
                                       match=r"schema revision 9999_future.*upgrade cocity"):
        open_records(records_url)
    with use_lang("zh"), pytest.raises(RecordsSchemaNewerError, match="请升级 cocity"):
        open_records(records_url)


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"these are my notes, not a database\n" * 20)
    before = path.read_bytes()
    with use_lang("en"), pytest.raises(NotRecordsDatabaseError,
                                       match=r"notes.sqlite is not a cocity records database"):
        open_records(path)
    assert path.read_bytes() == before


def test_another_programs_sqlite_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers VALUES (1, 'x')")
    conn.close()
    with use_lang("zh"), pytest.raises(NotRecordsDatabaseError, match="不是 cocity 记录数据库"):
        open_records(path)
    with sqlite3.connect(path) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert names == {"customers"}


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres@/fund?host={tmp_path / 'no-server-here'}"
    with use_lang("en"), pytest.raises(RecordsUnreachableError,
                                       match=r"cannot reach the records database .*fund"):
        open_records(url)
    with use_lang("zh"), pytest.raises(RecordsUnreachableError, match="无法连接记录数据库"):
        open_records(url)


def test_a_missing_database_on_a_running_server_is_unreachable(postgres_server) -> None:
    with use_lang("en"), pytest.raises(RecordsUnreachableError, match="does not exist"):
        open_records(postgres_server.url("no_such_database"))


def test_unsupported_targets_are_refused(tmp_path: Path) -> None:
    with use_lang("en"), pytest.raises(RecordsTargetError, match="mysql"):
        open_records("mysql://someone@host/db")
    with use_lang("en"), pytest.raises(RecordsTargetError, match="existing folder"):
        open_records(tmp_path / "missing-folder" / "r.sqlite")


def test_concurrent_first_opens_create_the_schema_once(records_url: str) -> None:
    errors: list[BaseException] = []
    revisions: list[str | None] = []

    def opener() -> None:
        try:
            with open_records(records_url) as records:
                revisions.append(records.revision())
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert revisions == [head_revision()] * 4


def test_sqlite_writers_wait_for_each_other_instead_of_failing(tmp_path: Path) -> None:
    """Each writer reads the row count then inserts count + 1 under a UNIQUE column: with a
    deferred BEGIN two writers would read the same count (or fail upgrading their lock); with
    BEGIN IMMEDIATE they queue and every number from 1 to 40 is written once."""
    with open_records(tmp_path / "r.sqlite") as records:
        with records.transaction() as conn:
            conn.exec_driver_sql("CREATE TABLE probe (n INTEGER UNIQUE NOT NULL)")

        def writer() -> None:
            for _ in range(10):
                with records.transaction() as conn:
                    n = conn.exec_driver_sql("SELECT count(*) FROM probe").scalar_one()
                    time.sleep(0.002)
                    conn.exec_driver_sql(f"INSERT INTO probe VALUES ({n + 1})")

        threads = [threading.Thread(target=writer) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        with records.read() as conn:
            got = [r[0] for r in conn.exec_driver_sql("SELECT n FROM probe ORDER BY n")]
    assert got == list(range(1, 41))


def test_a_writer_held_too_long_is_a_busy_error_and_nothing_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cocity.records.store.BUSY_TIMEOUT_S", 0.2)
    with open_records(tmp_path / "r.sqlite") as records:
        with records.transaction() as conn:
            conn.exec_driver_sql("CREATE TABLE probe (n INTEGER)")
        holder = sqlite3.connect(tmp_path / "r.sqlite", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with use_lang("en"), pytest.raises(RecordsBusyError,
                                               match=r"held by another writer.*rolled back"), \
                    records.transaction() as conn:
                conn.exec_driver_sql("INSERT INTO probe VALUES (1)")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        with records.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM probe").scalar_one() == 0
