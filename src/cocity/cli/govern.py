"""``cocity govern …``: the governance committee (民生协同治理委员会) — its case register,
meetings, standards register and published statistics (``docs/committee.md``).

The records database is ``--db`` (a file path or a ``postgresql+psycopg://`` URL), else
``COCITY_RECORDS``, else ``cocity-records.sqlite`` in the current folder — the same store as
the fund's. Who acts is ``--actor`` (else ``COCITY_ACTOR``, else the login name); every write
records it with the role, the time and the reason.

The commands only parse and print; the work is :mod:`cocity.govern`, imported inside them.
Exit codes: 0 done, 2 a request refused (nothing written).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cocity.cli import app, refused
from cocity.i18n import both

if TYPE_CHECKING:
    from cocity.govern import Register

govern_app = typer.Typer(no_args_is_help=True, help=both("govern.cli.help"))
app.add_typer(govern_app, name="govern")
case_app = typer.Typer(no_args_is_help=True, help=both("govern.cli.case.help"))
govern_app.add_typer(case_app, name="case")

DbOpt = Annotated[str | None, typer.Option("--db", help=both("govern.cli.opt.db"),
                                           show_default=False)]
ActorOpt = Annotated[str | None, typer.Option("--actor", help=both("govern.cli.opt.actor"),
                                              show_default=False)]
RoleOpt = Annotated[str, typer.Option("--role", help=both("govern.cli.opt.role"))]
ReasonOpt = Annotated[str, typer.Option("--reason", help=both("govern.cli.opt.reason"))]
KeyOpt = Annotated[str | None, typer.Option("--key", help=both("govern.cli.opt.key"),
                                            show_default=False)]
OutDir = Annotated[Path, typer.Option("--out", "-o", help=both("govern.cli.opt.out_dir"))]


@contextmanager
def open_register(db: str | None, *, create: bool = False) -> Iterator[Register]:
    """The register on the records database. A missing SQLite file is created only by the
    commands that write (``create=True``); the others say where they looked."""
    from cocity.govern import GovernError, Register
    from cocity.records import DEFAULT_FILE, open_records

    target = db or os.environ.get("COCITY_RECORDS") or None
    with refused():
        path = Path(target or DEFAULT_FILE) if target is None or "://" not in target else None
        if path is not None and not create and not path.exists():
            raise GovernError("govern.cli.err.no_records", path=str(path.resolve()))
        records = open_records(target)
        try:
            yield Register(records)
        finally:
            records.close()


def actor_of(actor: str | None) -> str:
    from cocity.records import default_actor

    return actor or default_actor()
