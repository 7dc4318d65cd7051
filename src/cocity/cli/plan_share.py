"""``cocity plan share``: the cost of a shared project divided among its members by the
Shapley value, the nucleolus, SCRB and proportional rules, each checked against the core
(:mod:`cocity.plan.sharing_report`, imported inside the command).

Exit codes: 0 done, 2 a request refused (nothing written)."""

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


@plan_app.command("share", help=both("plan.share.cli.help"))
def share_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help=both("plan.share.cli.opt.out"))],
    project: Annotated[str | None, typer.Option(
        "--project", help=both("plan.share.cli.opt.project"), show_default=False)] = None,
    projects: Annotated[Path | None, typer.Option(
        "--projects", help=both("plan.share.cli.opt.projects"), show_default=False)] = None,
    costs: Annotated[Path | None, typer.Option(
        "--costs", help=both("plan.share.cli.opt.costs"), show_default=False)] = None,
    method: Annotated[str, typer.Option(
        "--method", help=both("plan.share.cli.opt.method"))] = "all",
    cost_per_km: Annotated[float | None, typer.Option(
        "--cost-per-km", help=both("plan.share.cli.opt.cost_per_km"),
        show_default=False)] = None,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    lang = current_lang()
    with refused():
        from cocity.plan.sharing_report import share_project, write_share

        with working("share", workspace) as store:
            s = share_project(store, project=project, projects=projects, costs=costs,
                              method=method, cost_per_km=cost_per_km)
            paths = write_share(s, out, store=store, lang=lang)
    name = (s.project.name(lang) if s.project is not None else t("plan.share.user_game"))
    unit = t(f"plan.share.unit.{s.unit}")
    table = Table(title=t("plan.share.cli.title", project=name, unit=unit))
    table.add_column(t("plan.share.col.name_zh" if lang == "zh" else "plan.share.col.name_en"))
    for a in s.allocations:
        table.add_column(t(f"plan.share.col.{a.method}"), justify="right")
    for i, code in enumerate(s.codes):
        label = s.names.at[code, "name_zh" if lang == "zh" else "name_en"]
        table.add_row(escape(str(label)), *[f"{a.shares[i]:,.2f}" for a in s.allocations])
    table.add_row(t("plan.share.cli.in_core"),
                  *["✓" if c.in_core else "✗" for c in s.checks])
    console.print(table)
    console.print(t("plan.share.cli.core", answer=t(
        "plan.share.cli.yes" if s.core_nonempty else "plan.share.cli.no")))
    for zh, en in s.notes:
        err_console.print(escape("⚠ " + (zh if lang == "zh" else en)))
    if s.register is not None and s.register.illustrative and costs is None:
        err_console.print(escape("⚠ " + t("plan.share.notice")))
    console.print(t("plan.share.cli.written", path=escape(str(paths["html"]))))
