"""``cocity plan route``: cultural-tourism routes (an orienteering problem with opening hours
and a day budget) — the two corridors of the text evaluated as named and against the optimum,
and proposals (:mod:`cocity.plan.route_run`; ``docs/planning_route.md``).

The command parses and prints only; the computation and the files are :mod:`cocity.plan`,
imported inside the command. Exit codes: 0 done, 2 refused (nothing written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cocity.cli import console, refused
from cocity.cli.plan import plan_app, working
from cocity.cli.workspace import WorkspaceOpt
from cocity.i18n import both, current_lang, t


@plan_app.command("route", help=both("plan.route.cli.help"))
def route_cmd(
    out: Annotated[Path, typer.Option(
        "--out", "-o", help=both("plan.route.cli.opt.out"), show_default=False)],
    attractions: Annotated[Path | None, typer.Option(
        "--attractions", help=both("plan.route.cli.opt.attractions"),
        show_default=False)] = None,
    corridors: Annotated[Path | None, typer.Option(
        "--corridors", help=both("plan.route.cli.opt.corridors"), show_default=False)] = None,
    start: Annotated[str, typer.Option(
        "--start", help=both("plan.route.cli.opt.start"))] = "08:00",
    end: Annotated[str, typer.Option("--end", help=both("plan.route.cli.opt.end"))] = "20:00",
    same_county: Annotated[float, typer.Option(
        "--same-county-minutes", help=both("plan.route.cli.opt.same_county"))] = 20.0,
    base: Annotated[list[str] | None, typer.Option(
        "--from", help=both("plan.route.cli.opt.from"), metavar="UNIT",
        show_default=False)] = None,
    days: Annotated[int, typer.Option(
        "--days", min=1, max=7, help=both("plan.route.cli.opt.days"))] = 2,
    solver: Annotated[str, typer.Option(
        "--solver", help=both("plan.route.cli.opt.solver"))] = "auto",
    solutions: Annotated[int, typer.Option(
        "--solution-limit", min=1, help=both("plan.route.cli.opt.solutions"))] = 500,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    with refused():
        from cocity.plan.region import load_boundaries
        from cocity.plan.route_inputs import Settings
        from cocity.plan.route_page import route_report
        from cocity.plan.route_run import plan_routes
        from cocity.report.plan_page import write_plan_report
        from cocity.spec import validate_spec

        settings = validate_spec(Settings, {
            "day_start": start, "day_end": end, "same_county_minutes": same_county,
            "solver": solver, "solution_limit": solutions}, origin="--start/--end/--solver")
        with working("route", workspace) as store:
            rp = plan_routes(store, attractions=None if attractions is None else str(attractions),
                             corridors=None if corridors is None else str(corridors),
                             settings=settings, extra=[(b, days) for b in base or []])
        lang = current_lang()
        table = Table(title=t("plan.route.cli.title"))
        for key in ("plan", "variant", "days", "visits", "score", "method"):
            table.add_column(t(f"plan.route.col.{key}"),
                             justify="right" if key in ("days", "visits", "score") else "left")
        for p in rp.plans:
            sol = p.solution
            table.add_row(escape(p.name_zh if lang == "zh" else p.name_en),
                          t(f"plan.route.variant.{p.variant}"), str(len(p.days)),
                          str(len(sol.stops)), f"{sol.score:g}",
                          sol.method + (" ✓" if sol.optimal else ""))
        console.print(table)
        if rp.illustrative:
            console.print(f"[bold yellow]{t('plan.route.cli.illustrative')}[/]")
        paths = write_plan_report(route_report(rp), out, boundaries=load_boundaries(store),
                                  lang=lang)
        console.print(t("plan.route.cli.written", path=escape(str(paths["html"]))))
