"""``cocity plan locate``: where to put a regional public-service centre — p-median, p-centre,
MCLP and LSCP over population-weighted demand and travel times, and the geographic centre read
several ways (:mod:`cocity.plan.location_run`; ``docs/planning.md``).

The command parses and prints only; the computation and the files are :mod:`cocity.plan`,
imported inside the command. Exit codes: 0 done, 2 a request refused (nothing written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cocity.cli import console, err_console, refused
from cocity.cli.plan import plan_app, working
from cocity.cli.workspace import WorkspaceOpt
from cocity.i18n import both, current_lang, t


def _objective(value: float) -> str:
    """Person-minutes and covered people in full with separators, never an exponent."""
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:,.6g}"


@plan_app.command("locate", help=both("plan.locate.cli.help"))
def locate_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help=both("plan.locate.cli.opt.out"))],
    model: Annotated[str, typer.Option("--model", help=both("plan.locate.cli.opt.model"),
                                       metavar="p-median|p-centre|mclp|lscp|all")] = "all",
    p: Annotated[int, typer.Option("--p", help=both("plan.locate.cli.opt.p"))] = 1,
    radius: Annotated[float, typer.Option("--radius",
                                          help=both("plan.locate.cli.opt.radius"))] = 90.0,
    candidates: Annotated[str | None, typer.Option(
        "--candidates", help=both("plan.locate.cli.opt.candidates"), metavar="FILE|NAMES",
        show_default=False)] = None,
    level: Annotated[str, typer.Option("--level", help=both("plan.locate.cli.opt.level"),
                                       metavar="county|prefecture")] = "county",
    year: Annotated[int | None, typer.Option("--year", help=both("plan.locate.cli.opt.year"),
                                             show_default=False)] = None,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    lang = current_lang()
    with refused():
        from cocity.plan.location_run import (
            model_table,
            parse_candidates,
            read_candidates,
            run_locate,
            write_locate,
        )

        names = None
        source = "--candidates"
        if candidates is not None:
            if Path(candidates).is_file() or candidates.lower().endswith(".csv"):
                names, source = read_candidates(candidates), candidates
            else:
                names = parse_candidates(candidates)
        with working("locate", workspace) as store:
            run = run_locate(store, model=model, p=p, radius=radius, candidates=names,
                             candidates_source=source, level=level, year=year)
            paths = write_locate(run, out, store=store, lang=lang)
    table = Table(title=t("plan.locate.table.models"))
    for key in ("model", "centres", "objective", "mean_minutes", "max_minutes",
                "within_radius"):
        table.add_column(t(f"plan.locate.cli.col.{key}"),
                         justify="left" if key in ("model", "centres") else "right")
    for _, row in model_table(run).iterrows():
        table.add_row(escape(str(row["model"])), escape(str(row[f"centres_{lang}"])),
                      _objective(float(row["objective"])), f"{row['mean_minutes']:.1f}",
                      f"{row['max_minutes']:.1f}", f"{100 * row['within_radius']:.1f}%")
    console.print(table)
    centres = Table(title=t("plan.locate.table.centres"))
    for key in ("variant", "unit", "mean_minutes", "max_minutes", "within_60", "within_90",
                "within_120"):
        centres.add_column(t(f"plan.locate.cli.col.{key}"),
                           justify="left" if key in ("variant", "unit") else "right")
    for _, row in run.centres.iterrows():
        centres.add_row(escape(str(row[f"variant_{lang}"])), escape(str(row[f"name_{lang}"])),
                        f"{row['mean_minutes']:.1f}", f"{row['max_minutes']:.1f}",
                        *(f"{100 * row[f'within_{k}']:.1f}%" for k in (60, 90, 120)))
    console.print(centres)
    for zh, en in run.skipped.values():
        err_console.print(escape("⚠ " + (zh if lang == "zh" else en)))
    console.print(escape(t("plan.region.times_note")))
    console.print(escape(t("plan.locate.cli.written", path=str(paths["html"]))))
