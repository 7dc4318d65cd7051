"""``cocity clusters``: the shipped city-cluster and metropolitan-area definitions
(:mod:`cocity.clusters`). With no subcommand it lists them: key, name, kind, member count and
the plan document that defines each. ``cocity init ws --cluster KEY`` builds a workspace of
one.

Exit codes: 0 done, 2 a definition cannot be read (the message says which and where).
"""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from cocity.cli import app, console, fail
from cocity.data.errors import CocityError
from cocity.i18n import both, current_lang, t

clusters_app = typer.Typer(help=both("clusters.cli.help"), invoke_without_command=True)
app.add_typer(clusters_app, name="clusters")


@clusters_app.callback()
def clusters(ctx: typer.Context) -> None:
    """列出内置城市群、都市圈定义 / List the shipped city-cluster definitions."""
    if ctx.invoked_subcommand is not None:
        return
    from cocity.clusters.definition import describe, load_cluster, shipped

    lang = current_lang()
    table = Table(title=t("clusters.cli.title"))
    for key in ("key", "name", "kind", "members", "document"):
        table.add_column(t(f"clusters.cli.col.{key}"), overflow="fold",
                         justify="right" if key == "members" else "left")
    try:
        rows = [describe(load_cluster(key), lang) for key in shipped()]
    except CocityError as exc:
        raise fail(exc) from None
    for row in rows:
        table.add_row(*(escape(str(row[k])) for k in
                        ("key", "name", "kind", "members", "document")))
    console.print(table)
    console.print(t("clusters.cli.hint"))
