"""``cocity import units|catalog|boundaries|observations``: validated, all-or-nothing.

A workspace for any city cluster is built with these four, in this order, on an empty
workspace (``cocity init ws --dataset none``); see docs/new-cluster.md.

Exit codes: 0 on success, 2 when the input is rejected (every problem is listed as a table of
file, row, column, problem and what to do; the workspace is left unchanged) or when the
workspace cannot be used (locked by another process, damaged, disk full: a message naming the
file and what to do). Only light modules are imported here; the importers are loaded by the
command that runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import TaskID
from rich.table import Table

from cocity.cli import app, console, err_console, fail, progress_bar
from cocity.data.errors import CocityError, Issue, ValidationError
from cocity.i18n import both, t

if TYPE_CHECKING:
    from cocity.data.importers import ImportResult
    from cocity.data.store import Store

import_app = typer.Typer(no_args_is_help=True, help=both("import.cli.help"))
app.add_typer(import_app, name="import")

MAX_SHOWN = 200  # issues printed; the rest are counted

FileArg = Annotated[Path, typer.Argument(help=both("import.cli.opt.file"), show_default=False)]
WorkspaceReq = Annotated[Path, typer.Option(
    "--workspace", "-w", help=both("import.cli.opt.workspace"), show_default=False)]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help=both("import.cli.opt.dry_run"))]
SheetOpt = Annotated[str | None, typer.Option("--sheet", help=both("import.cli.opt.sheet"),
                                              show_default=False)]
ReplaceOpt = Annotated[bool, typer.Option("--replace", help=both("import.cli.opt.replace"))]
Action = Callable[["Store", Callable[[str, int, int], None]], "ImportResult"]


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    """A Rich progress display (spinner while reading, bar while validating) as a callback."""
    with progress_bar(counts=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            """Spinner for reading and writing, bar for validating (task made on first use)."""
            spinner = stage != "validate"
            if stage not in tasks:
                tasks[stage] = bar.add_task(t(f"import.cli.stage.{stage}"),
                                            total=None if spinner else total)
            if not spinner:
                bar.update(tasks[stage], total=total, completed=done)
            elif done >= total:
                bar.update(tasks[stage], total=1, completed=1)

        yield update


def _print_issues(issues: list[Issue]) -> None:
    """The problems as a table: file, row, column, problem, what to do."""
    table = Table(title=t("import.cli.rejected", n=len(issues)), title_style="bold red",
                  show_lines=True)
    for key in ("file", "row", "column", "problem", "todo"):
        table.add_column(t(f"import.cli.col.{key}"), overflow="fold")
    for i in issues[:MAX_SHOWN]:
        table.add_row(escape(Path(i.file).name) if i.file else "",
                      str(i.row) if i.row else "", escape(i.column or ""), escape(i.message),
                      escape(i.hint or ""))
    err_console.print(table)
    if len(issues) > MAX_SHOWN:
        err_console.print(t("import.cli.more", n=len(issues) - MAX_SHOWN))
    err_console.print(f"[bold]{t('import.cli.unchanged')}[/]")


def _print_result(result: ImportResult) -> None:
    """A summary table of what the import read and wrote, and which units it covers."""
    title = t("import.cli.checked" if result.dry_run else "import.cli.done")
    table = Table(title=title, title_style="bold green", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    rows = [("file", result.file), ("kind", t(f"import.cli.kind.{result.kind}"))]
    if result.form is not None:
        rows.append(("form", t(f"import.cli.form.{result.form}")))
    rows += [("rows_read", str(result.rows_read)), ("records", str(result.records)),
             ("added", str(result.added)), ("changed", str(result.changed)),
             ("unchanged", str(result.unchanged))]
    if result.units:
        rows.append(("units", result.units))
    if result.kind == "observations":
        rows.append(("blank", str(result.blank)))
    if result.ignored_columns:
        rows.append(("ignored", ", ".join(result.ignored_columns)))
    rows += [("note", n) for n in result.notes]
    rows.append(("sha256", result.sha256[:16]))
    for key, value in rows:
        table.add_row(t(f"import.cli.sum.{key}"), escape(value))
    console.print(table)


def _run(workspace: Path, action: Action) -> None:
    """Open the workspace, run ``action`` with a progress display, print the outcome."""
    from cocity.data.store import DB_NAME, Store

    if not (workspace / DB_NAME).exists():
        err_console.print(f"[bold red]{t('cli.error')}:[/] "
                          f"{escape(t('import.cli.no_workspace', path=workspace))}")
        raise typer.Exit(2)
    try:
        store = Store.open(workspace)
    except CocityError as exc:
        raise fail(exc) from None
    try:
        with _progress() as progress:
            result = action(store, progress)
    except ValidationError as exc:
        _print_issues(exc.issues)
        raise typer.Exit(2) from None
    except CocityError as exc:
        raise fail(exc) from None
    finally:
        store.close()
    _print_result(result)


@import_app.command("units", help=both("import.cli.units.help"))
def units(file: FileArg, workspace: WorkspaceReq, sheet: SheetOpt = None,
          replace: ReplaceOpt = False, dry_run: DryRunOpt = False) -> None:
    from cocity.data.import_definitions import import_units

    _run(workspace, lambda store, progress: import_units(
        store, file, sheet=sheet, replace=replace, dry_run=dry_run, progress=progress))


@import_app.command("catalog", help=both("import.cli.catalog.help"))
def catalog(file: FileArg, workspace: WorkspaceReq, sheet: SheetOpt = None,
            replace: ReplaceOpt = False, dry_run: DryRunOpt = False) -> None:
    from cocity.data.import_definitions import import_catalog

    _run(workspace, lambda store, progress: import_catalog(
        store, file, sheet=sheet, replace=replace, dry_run=dry_run, progress=progress))


@import_app.command("observations", help=both("import.cli.observations.help"))
def observations(
    file: FileArg,
    workspace: WorkspaceReq,
    form: Annotated[str, typer.Option("--form", help=both("import.cli.opt.form"))] = "auto",
    year: Annotated[int | None, typer.Option("--year", help=both("import.cli.opt.year"),
                                             show_default=False)] = None,
    sheet: SheetOpt = None,
    header_rows: Annotated[int | None, typer.Option(
        "--header-rows", help=both("import.cli.opt.header_rows"), show_default=False)] = None,
    source: Annotated[str | None, typer.Option("--source", help=both("import.cli.opt.source"),
                                               show_default=False)] = None,
    replace: ReplaceOpt = False,
    simulated: Annotated[bool, typer.Option("--simulated",
                                            help=both("import.cli.opt.simulated"))] = False,
    dry_run: DryRunOpt = False,
) -> None:
    from cocity.data.importers import import_observations

    _run(workspace, lambda store, progress: import_observations(
        store, file, form=form, year=year, sheet=sheet, header_rows=header_rows, source=source,
        replace=replace, simulated=simulated, dry_run=dry_run, progress=progress))


@import_app.command("boundaries", help=both("import.cli.boundaries.help"))
def boundaries(
    file: FileArg,
    workspace: WorkspaceReq,
    code_column: Annotated[str | None, typer.Option(
        "--code-column", help=both("import.cli.opt.code_column"), show_default=False)] = None,
    name_column: Annotated[str | None, typer.Option(
        "--name-column", help=both("import.cli.opt.name_column"), show_default=False)] = None,
    layer: Annotated[str | None, typer.Option("--layer", help=both("import.cli.opt.layer"),
                                              show_default=False)] = None,
    datum: Annotated[str | None, typer.Option("--datum", help=both("import.cli.opt.datum"),
                                              show_default=False)] = None,
    replace: ReplaceOpt = False,
    make_valid: Annotated[bool, typer.Option("--make-valid",
                                             help=both("import.cli.opt.make_valid"))] = False,
    dry_run: DryRunOpt = False,
) -> None:
    from cocity.data.import_boundaries import import_boundaries

    _run(workspace, lambda store, progress: import_boundaries(
        store, file, code_column=code_column, name_column=name_column, layer=layer, datum=datum,
        replace=replace, make_valid=make_valid, dry_run=dry_run, progress=progress))
