"""``cocity portal``: the portal's users and its audit trail from the command line.

``cocity portal user add LOGIN --role admin`` creates a user (the password is asked twice
without echo, or read from the first line of standard input with ``--password-stdin``);
``user list``, ``user roles LOGIN --role …`` (replaces the roles), ``user password LOGIN``
(resets it), ``user deactivate LOGIN``; ``cocity portal audit`` prints the newest audit rows.
The records database is ``--db`` (a file or a ``postgresql+psycopg://`` URL), else
``COCITY_RECORDS``, else ``cocity-records.sqlite`` in the current folder — the one
``cocity serve`` uses. Every change goes through :mod:`cocity.web.users` and is audited with
the actor (``--actor``, else ``COCITY_ACTOR``, else the login name) and the client ``cli``.
Exit codes: 0 done, 2 refused (nothing changed).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cocity.cli import app, console, refused
from cocity.i18n import both, t

if TYPE_CHECKING:
    from cocity.records import Records

portal_app = typer.Typer(no_args_is_help=True, help=both("web.cli.portal.help"))
app.add_typer(portal_app, name="portal")
user_app = typer.Typer(no_args_is_help=True, help=both("web.cli.user.help"))
portal_app.add_typer(user_app, name="user")

DbOpt = Annotated[str | None, typer.Option("--db", help=both("web.cli.opt.db"),
                                           show_default=False)]
ActorOpt = Annotated[str | None, typer.Option("--actor", help=both("web.cli.opt.actor"),
                                              show_default=False)]
RolesOpt = Annotated[list[str], typer.Option("--role", help=both("web.cli.opt.role"))]
StdinOpt = Annotated[bool, typer.Option("--password-stdin", help=both("web.cli.opt.stdin"))]
LoginArg = Annotated[str, typer.Argument(help=both("web.cli.arg.login"), show_default=False)]


def records_target(db: str | None) -> str | None:
    """``--db``, else ``COCITY_RECORDS``, else ``None`` (the default file)."""
    return db or os.environ.get("COCITY_RECORDS") or None


@contextmanager
def opened(db: str | None) -> Iterator[Records]:
    from cocity.records import open_records

    with refused():
        records = open_records(records_target(db))
        try:
            yield records
        finally:
            records.close()


def _actor(actor: str | None) -> str:
    from cocity.records import default_actor

    return actor or default_actor()


def _password(stdin: bool) -> str:
    if stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return str(typer.prompt(t("web.cli.prompt.password"), hide_input=True,
                            confirmation_prompt=t("web.cli.prompt.again")))


@user_app.command("add", help=both("web.cli.user.add.help"))
def user_add(login: LoginArg, role: RolesOpt,
             name: Annotated[str, typer.Option("--name", help=both("web.cli.opt.name"))] = "",
             password_stdin: StdinOpt = False, db: DbOpt = None,
             actor: ActorOpt = None) -> None:
    from cocity.web.users import add_user

    password = _password(password_stdin)
    with opened(db) as records, refused():
        user = add_user(records, login, password=password, roles=role, name=name,
                        actor=_actor(actor))
    console.print(escape(t("web.cli.user.added", login=user.login,
                           roles=", ".join(sorted(user.roles)) or "—")))


@user_app.command("list", help=both("web.cli.user.list.help"))
def user_list(db: DbOpt = None) -> None:
    from cocity.web.roles import role_label
    from cocity.web.users import users

    with opened(db) as records, refused():
        found = users(records)
    table = Table(title=t("web.cli.user.list.title"), title_justify="left")
    for key in ("login", "name", "roles", "active", "created"):
        table.add_column(t(f"web.cli.col.{key}"))
    for u in found:
        table.add_row(escape(u.login), escape(u.name),
                      escape("、".join(role_label(r) for r in sorted(u.roles)) or "—"),
                      t("web.admin.active") if u.active else t("web.admin.inactive"),
                      u.created_at[:19])
    console.print(table)
    if not found:
        console.print(escape(t("web.cli.no_users")))


@user_app.command("roles", help=both("web.cli.user.roles.help"))
def user_roles(login: LoginArg, role: Annotated[list[str] | None, typer.Option(
        "--role", help=both("web.cli.opt.role"))] = None, db: DbOpt = None,
        actor: ActorOpt = None) -> None:
    from cocity.web.users import set_roles

    with opened(db) as records, refused():
        user = set_roles(records, login, roles=role or [], actor=_actor(actor))
    console.print(escape(t("web.cli.user.roles_set", login=user.login,
                           roles=", ".join(sorted(user.roles)) or "—")))


@user_app.command("password", help=both("web.cli.user.password.help"))
def user_password(login: LoginArg, password_stdin: StdinOpt = False, db: DbOpt = None,
                  actor: ActorOpt = None) -> None:
    from cocity.web.users import set_password

    password = _password(password_stdin)
    with opened(db) as records, refused():
        set_password(records, login, password=password, actor=_actor(actor))
    console.print(escape(t("web.cli.user.password_set", login=login)))


@user_app.command("deactivate", help=both("web.cli.user.deactivate.help"))
def user_deactivate(login: LoginArg, db: DbOpt = None, actor: ActorOpt = None) -> None:
    from cocity.web.users import deactivate

    with opened(db) as records, refused():
        deactivate(records, login, actor=_actor(actor))
    console.print(escape(t("web.cli.user.deactivated", login=login)))


@portal_app.command("audit", help=both("web.cli.audit.help"))
def audit(limit: Annotated[int, typer.Option("--limit", "-n", min=1,
                                             help=both("web.cli.opt.limit"))] = 50,
          action: Annotated[str | None, typer.Option("--action", help=both(
              "web.cli.opt.action"), show_default=False)] = None,
          db: DbOpt = None) -> None:
    import json

    from cocity.web.auditlog import audit_trail

    with opened(db) as records, refused():
        entries = audit_trail(records, limit=limit, action=action)
    table = Table(title=t("web.nav.audit"), title_justify="left")
    for key in ("at", "actor", "role", "action", "target", "detail", "client"):
        table.add_column(t(f"web.audit.{key}"), overflow="fold")
    for e in entries:
        table.add_row(e.at[:19], escape(e.actor), escape(e.role), escape(e.action),
                      escape(e.target), escape(json.dumps(e.detail, ensure_ascii=False)),
                      escape(e.client))
    console.print(table)
