"""A real, throw-away PostgreSQL server for the tests (and the fund benchmark).

:class:`PostgresServer` creates a temporary data directory, runs ``initdb`` and
``pg_ctl start`` with the server listening on a Unix socket in that directory only (no TCP), and
stops it and deletes everything at the end. PostgreSQL refuses to run as root, so when the tests
run as root (CI does) the binaries run as the ``postgres`` system user (``runuser -u postgres
--``) and the directory is handed to that user. The binaries are found under
``/usr/lib/postgresql/*/bin`` (the newest version) or on ``PATH``.

When PostgreSQL is not installed, :func:`find_bin` raises :class:`PostgresMissing`: the tests
parametrised over ``postgresql`` then FAIL (they are not skipped) — CI installs the server.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path


class PostgresMissing(RuntimeError):
    """PostgreSQL's server binaries are not installed."""


def find_bin() -> Path:
    """The folder of ``initdb``/``pg_ctl``/``postgres`` (the highest installed version)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name)
                   if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise PostgresMissing(
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): install the Debian "
        "package `postgresql` (CI does, in .ci/run); the PostgreSQL-parametrised tests fail "
        "without it")


class PostgresServer:
    """A PostgreSQL server on a Unix socket in a temporary directory.

    ``durable=False`` (the tests) turns fsync and synchronous commit off — the server's data
    are thrown away anyway, and killing a *client* (the crash test) does not depend on them;
    the benchmark keeps the defaults (``durable=True``).
    """

    def __init__(self, *, durable: bool = False) -> None:
        self.bin = find_bin()
        self.durable = durable
        self.root = Path(tempfile.mkdtemp(prefix="cocity-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root
        self.as_root = os.geteuid() == 0
        self.started = False

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> PostgresServer:
        if self.as_root:
            shutil.chown(self.root, user="postgres", group="postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--locale=C.UTF-8", "-N")
        options = [f"-c unix_socket_directories={self.socket_dir}", "-c listen_addresses=''",
                   "-c max_connections=60"]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off",
                        "-c full_page_writes=off"]
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-o", " ".join(options), "-w", "-t", "60", "start")
        self.started = True
        return self

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` (psycopg 3 over the Unix socket)."""
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(host=str(self.socket_dir), user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            if self.started:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            self.started = False
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
