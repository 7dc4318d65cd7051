"""The ``cocity`` command line. One module per command group registers its commands on ``app``."""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from cocity.data.errors import CocityError
from cocity.i18n import t

app = typer.Typer(no_args_is_help=True, add_completion=False, help=t("cli.help", "zh"))
console = Console()
err_console = Console(stderr=True)


def progress_bar(*, bar: bool = True, counts: bool = False) -> Progress:
    """The transient Rich progress display every long-running command uses."""
    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    columns += [BarColumn()] if bar else []
    columns += [MofNCompleteColumn()] if counts else []
    return Progress(*columns, TimeElapsedColumn(), console=console, transient=True)


@app.callback()
def _root(
    lang: str = typer.Option(
        None, "--lang", help="界面语言 zh（默认）或 en / output language zh (default) or en"
    ),
) -> None:
    """cocity — 城市群一体化工具 / city-cluster integration toolkit."""
    if lang is not None:
        if lang not in ("zh", "en"):
            raise typer.BadParameter("--lang must be zh or en")
        os.environ["COCITY_LANG"] = lang


def _register() -> None:
    # Importing a module registers its commands on ``app``.
    from cocity.cli import (  # noqa: F401
        access,
        diagnose,
        evaluate,
        imports,
        index,
        profile,
        workspace,
    )


def main() -> None:
    _register()
    try:
        app()
    except (CocityError, FileNotFoundError) as exc:
        err_console.print(f"[bold red]{t('cli.error')}:[/] {exc}")
        sys.exit(2)
