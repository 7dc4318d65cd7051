"""``cocity plan ecocomp``: eco-compensation across cross-border water-quality sections
(:mod:`cocity.plan.ecocomp`, :mod:`cocity.plan.ecocomp_run`, imported inside the command).

Parses and prints only. Exit codes: 0 done, 2 a request refused (nothing written)."""

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


@plan_app.command("ecocomp", help=both("plan.ecocomp.cli.help"))
def ecocomp_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help=both("plan.ecocomp.cli.opt.out"))],
    data: Annotated[Path | None, typer.Option(
        "--data", help=both("plan.ecocomp.cli.opt.data"), show_default=False)] = None,
    rules: Annotated[Path | None, typer.Option(
        "--rules", help=both("plan.ecocomp.cli.opt.rules"), show_default=False)] = None,
    year: Annotated[int | None, typer.Option(
        "--year", help=both("plan.ecocomp.cli.opt.year"), show_default=False)] = None,
    rule: Annotated[str, typer.Option("--rule", help=both("plan.ecocomp.cli.opt.rule"))] = "both",
    workspace: Path | None = WorkspaceOpt,
) -> None:
    lang = current_lang()
    with refused():
        from cocity.plan.ecocomp_run import ecocomp_report, run_ecocomp
        from cocity.plan.region import load_boundaries
        from cocity.report.plan_page import write_plan_report

        with working("ecocomp", workspace) as store:
            run = run_ecocomp(store, data=data, rules=rules, year=year, rule=rule)
            report = ecocomp_report(run)
            paths = write_plan_report(report, out, boundaries=load_boundaries(store),
                                      lang=lang)
    comp = run.comp
    pairs = comp.pairs[comp.pairs["rule"] == "all"]
    if pairs.empty:
        console.print(t("plan.ecocomp.cli.none"))
    else:
        table = Table(title=t("plan.ecocomp.cli.title", year=comp.year))
        for key, justify in (("pair_en" if lang == "en" else "pair_zh", "left"),
                             ("to_upstream", "right"), ("to_downstream", "right"),
                             ("net", "right"), ("payer", "left")):
            table.add_column(t(f"plan.ecocomp.cli.col.{key}"), justify=justify)  # type: ignore[arg-type]
        for r in pairs.to_dict("records"):
            who = (f"{run.name(r['payer'], lang)} → {run.name(r['payee'], lang)}"
                   if r["payer"] else "—")
            table.add_row(escape(f"{run.name(r['upstream'], lang)} → "
                                 f"{run.name(r['downstream'], lang)}"),
                          f"{r['to_upstream']:,.2f}", f"{r['to_downstream']:,.2f}",
                          f"{r['net']:+,.2f}", escape(who))
        console.print(table)
    if comp.simulated:
        err_console.print(escape("⚠ " + t("plan.ecocomp.notice.simulated")))
    if comp.illustrative:
        err_console.print(escape("⚠ " + t("plan.ecocomp.notice.illustrative")))
    console.print(escape(t("plan.ecocomp.cli.written", path=str(paths["html"]))))
