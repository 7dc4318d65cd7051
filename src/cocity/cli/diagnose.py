"""``cocity diagnose``: run the integration-diagnostics toolbox on a workspace and write a
bilingual HTML report with maps and charts, CSV/XLSX tables and a manifest.

This module parses the command line and prints; the computations (:mod:`cocity.metrics`), the
headline texts (:mod:`cocity.metrics.diagnose_tables`) and the files
(:mod:`cocity.report.diagnose_report`) are imported inside the command, so that
``cocity --help`` does not load the numerical stack.

Exit codes: 0 on success, 2 when the specification, the data or a metric's input cannot be
used (the message says which and where).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from cocity.cli import app, console, fail, progress_bar
from cocity.data.errors import CocityError
from cocity.i18n import both, current_lang, t

if TYPE_CHECKING:
    from cocity.metrics.diagnose_result import Diagnostics

DEFAULT_OUT = Path("cocity-diagnose")


class GroupBy(StrEnum):
    province = "province"
    prefecture = "prefecture"
    metro = "metro"


WorkspaceOpt = Annotated[Path | None, typer.Option(
    "--workspace", "-w", help=both("diagnose.cli.opt.workspace"), show_default=False)]
SpecOpt = Annotated[Path | None, typer.Option("--spec", "-s", help=both("diagnose.cli.opt.spec"),
                                              show_default=False)]
GroupOpt = Annotated[GroupBy | None, typer.Option("--group-by", "-g",
                                                  help=both("diagnose.cli.opt.group_by"),
                                                  show_default=False)]
YearOpt = Annotated[int | None, typer.Option("--year", "-y", help=both("diagnose.cli.opt.year"),
                                             show_default=False)]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help=both("diagnose.cli.opt.out"))]


@app.command(help=both("diagnose.cli.help"))
def diagnose(
    workspace: WorkspaceOpt = None,
    spec: SpecOpt = None,
    group_by: GroupOpt = None,
    year: YearOpt = None,
    out: OutOpt = DEFAULT_OUT,
) -> None:
    """Run the diagnostics, print the headline figures and write the report and tables."""
    from cocity.datasets import open_store
    from cocity.metrics.diagnose import load_spec, run_diagnostics
    from cocity.report.diagnose_report import write_diagnose_outputs

    lang = current_lang()
    try:
        sp = load_spec(spec, group_by=group_by.value if group_by else None, year=year)
        total = len(sp.sections) + 2
        with progress_bar() as bar:
            task = bar.add_task(t("diagnose.cli.step.read"), total=total)

            def step(section: str) -> None:
                bar.update(task, description=t(f"diagnose.section.{section}"), advance=1)

            store = open_store(workspace, read_only=True)
            try:
                diag = run_diagnostics(store, sp, on_step=step)
            finally:
                store.close()
            bar.update(task, description=t("diagnose.cli.step.write"), advance=1)
            paths = write_diagnose_outputs(diag, out, lang=lang)
            bar.update(task, completed=total)
    except (CocityError, OSError) as exc:
        raise fail(exc) from None
    print_summary(diag, paths, lang)


def print_summary(diag: Diagnostics, paths: dict[str, Path], lang: str) -> None:
    """Headline figures per indicator, the other sections in a few lines, the units each
    section covers, the data's provenance, notes, files."""
    from cocity.metrics.diagnose_tables import headline_facts, headline_table

    title = t("diagnose.cli.title", lang, year=diag.spec.main_year, n=len(diag.scope),
              level=t(f"level.{diag.spec.level}", lang),
              group_by=t(f"diagnose.page.group_by.{diag.spec.group_by}", lang))
    cols, rows = headline_table(diag, lang)
    table = Table(title=escape(title), title_justify="left")
    for i, name in enumerate(cols):
        table.add_column(escape(name), justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    for label, text in headline_facts(diag, lang):
        facts.add_row(escape(label), escape(text))
    html = paths["html"]
    facts.add_row(t("diagnose.cli.report", lang), f"[green]{escape(str(html))}[/] "
                  f"({t('profile.term.size', lang, mb=html.stat().st_size / 1e6)})")
    csvs = [p for k, p in paths.items() if k.startswith("csv:")]
    facts.add_row(t("diagnose.cli.tables", lang), escape(
        t("diagnose.cli.tables_value", lang, xlsx=str(paths["xlsx"]), n=len(csvs),
          folder=str(csvs[0].parent) if csvs else "—", manifest=str(paths["manifest"]))))

    console.print(table)
    console.print(Panel(facts, title=t("diagnose.page.title", lang), title_align="left",
                        border_style="blue"))
    for n in diag.notes:
        console.print(f"[yellow]※ {escape(n.text(lang))}[/]")
