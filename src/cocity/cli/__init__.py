"""The ``cocity`` command line. One module per command group registers its commands on ``app``.

Command modules import only Typer, Rich and the labels at module level; the numerical stacks
(NumPy, pandas, DuckDB, GeoPandas, numba, Plotly, WeasyPrint) are imported inside the commands
that use them, so that ``cocity --help`` and light commands start fast.

``--lang zh|en`` is accepted anywhere on the command line (``cocity --lang en evaluate`` and
``cocity evaluate --lang en`` alike): the root group takes it out before parsing and sets the
language of the command's context (:func:`cocity.i18n.set_lang`).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from cocity.cli.helpformat import CocityGroup, use_cjk_help
from cocity.data.errors import CocityError
from cocity.i18n import LANGS, both, reset_lang, set_lang, t

console = Console()
err_console = Console(stderr=True)


def lift_lang(args: list[str]) -> list[str]:
    """``args`` with every ``--lang X`` / ``--lang=X`` moved to the front (the last one wins),
    so that the root option may be given after a subcommand. Arguments after ``--`` are
    left alone."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest += args[i:]
            break
        if a == "--lang" and i + 1 < len(args):
            front = ["--lang", args[i + 1]]
            i += 2
            continue
        if a.startswith("--lang="):
            front = [a]
        else:
            rest.append(a)
        i += 1
    return front + rest


class RootGroup(CocityGroup):
    """The root command group: lifts ``--lang`` to the front before parsing."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, lift_lang(list(args)))


app = typer.Typer(cls=RootGroup, no_args_is_help=True, add_completion=False,
                  help=both("cli.help"), rich_markup_mode=None)


def progress_bar(*, bar: bool = True, counts: bool = False) -> Progress:
    """The transient Rich progress display every long-running command uses."""
    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    columns += [BarColumn()] if bar else []
    columns += [MofNCompleteColumn()] if counts else []
    return Progress(*columns, TimeElapsedColumn(), console=console, transient=True)


def fail(exc: BaseException) -> typer.Exit:
    """Print a user-facing error (no traceback) and return the exit to raise (code 2)."""
    err_console.print(f"[bold red]{t('cli.error')}:[/] {escape(str(exc))}")
    return typer.Exit(2)


@contextmanager
def refused() -> Iterator[None]:
    """A request the command cannot carry out (a :class:`CocityError` or an OS error): one
    localised message, no traceback, exit status 2."""
    try:
        yield
    except (CocityError, OSError) as exc:
        raise fail(exc) from None


@app.callback()
def _root(
    ctx: typer.Context,
    lang: str = typer.Option(None, "--lang", help=both("cli.opt.lang"), show_default=False),
) -> None:
    """cocity — 城市群一体化工具 / city-cluster integration toolkit."""
    if lang is not None:
        if lang not in LANGS:
            raise typer.BadParameter("zh | en", param_hint="--lang")
        token = set_lang(lang)
        ctx.call_on_close(lambda: reset_lang(token))  # the language is the command's only


def _register() -> None:
    # Importing a module registers its commands on ``app``.
    from cocity.cli import (  # noqa: F401
        access,
        clusters,
        clusters_compare,
        diagnose,
        evaluate,
        fund,
        govern,
        govern_meetings,
        govern_standards,
        govern_stats,
        imports,
        index,
        plan,
        plan_ecocomp,
        plan_locate,
        plan_map,
        plan_pair,
        plan_route,
        plan_share,
        portal,
        profile,
        publish,
        serve,
        workspace,
    )


_register()
use_cjk_help(app)


def main() -> None:
    """The ``cocity`` program (the process ends when it returns)."""
    try:
        app()
    except (CocityError, OSError) as exc:
        raise SystemExit(fail(exc).exit_code) from None
    finally:
        sys.stdout.flush()
        # Every file is written and closed by now: leave the command's objects out of the
        # collections of the interpreter's shutdown, which would trace them all once more
        # (≈ 0.5 s after `cocity evaluate`); objects are still freed, atexit hooks still run.
        gc.freeze()
