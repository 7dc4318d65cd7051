"""``cocity govern stats`` and ``cocity govern export``: the committee's published statistics
and its public event log (:mod:`cocity.govern.stats`, :mod:`cocity.govern.export`,
:mod:`cocity.report.govern_stats`, imported inside the commands).

Exit codes: 0 done, 2 a request refused (nothing written)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cocity.cli import console, err_console, progress_bar, refused
from cocity.cli.govern import DbOpt, govern_app, open_register
from cocity.i18n import both, t

AsOfOpt = Annotated[str | None, typer.Option("--as-of", help=both("govern.stats.cli.opt.as_of"),
                                             show_default=False)]


@govern_app.command("stats", help=both("govern.stats.cli.help"))
def stats_cmd(db: DbOpt = None, as_of: AsOfOpt = None,
              out: Annotated[Path | None, typer.Option(
                  "--out", "-o", help=both("govern.stats.cli.opt.out"),
                  show_default=False)] = None,
              pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help=both(
                  "govern.stats.cli.opt.no_pdf"))] = True) -> None:
    from cocity.govern.stats import statistics
    from cocity.report.govern_stats import FORMATS, cell, write_stats_report

    with open_register(db) as register, refused():
        if out is None:
            stats = statistics(register.records, as_of=as_of)
        else:
            formats = FORMATS if pdf else tuple(f for f in FORMATS if f != "pdf")
            with progress_bar(bar=False) as bar:
                bar.add_task(t("govern.stats.title"), total=None)
                stats, _doc = write_stats_report(register.records, out=out, as_of=as_of,
                                                 formats=formats)
    if stats.simulated:
        err_console.print(escape("⚠ " + t("govern.stats.simulated_warning",
                                          n=stats.simulated_cases)))
    table = Table(title=f"{t('govern.stats.cli.headline')} · "
                        f"{t('govern.stats.as_of', day=stats.as_of.isoformat())}")
    table.add_column(t("govern.stats.cli.figure"))
    table.add_column(t("govern.stats.cli.value"), justify="right")
    overall = stats.overall()
    for key in ("opened", "closed", "on_time_rate", "closed_extended", "resolution_rate",
                "median_days", "p90_days", "open", "overdue_open", "escalated_quarterly",
                "escalated_leading_group", "returned", "withdrawn", "simulated"):
        table.add_row(t(f"govern.stats.col.{key}"), cell(overall[key], key))
    console.print(table)
    if out is not None:
        console.print(escape(t("govern.stats.cli.wrote", path=str(out))))


@govern_app.command("export", help=both("govern.stats.cli.export_help"))
def export_cmd(out: Annotated[Path, typer.Option("--out", "-o",
                                                 help=both("govern.stats.cli.opt.file"))],
               fmt: Annotated[str, typer.Option("--format",
                                                help=both("govern.stats.cli.opt.format"))] = "csv",
               db: DbOpt = None, as_of: AsOfOpt = None) -> None:
    from cocity.govern.export import write_export

    with open_register(db) as register, refused():
        doc = write_export(register.records, out, fmt=fmt, as_of=as_of)
    if doc["simulated"]:
        err_console.print(escape("⚠ " + t("govern.stats.simulated_warning",
                                          n=doc["simulated_cases"])))
    console.print(escape(t("govern.stats.cli.exported", rows=doc["rows"], path=str(out),
                           manifest=str(out) + ".manifest.json")))
