"""``cocity diagnose``: run the integration-diagnostics toolbox on a workspace and write a
bilingual HTML report with maps and charts, CSV/XLSX tables and a manifest.

Exit codes: 0 on success, 2 when the specification, the data or a metric's input cannot be
used (the message says which and where).
"""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from cocity.cli import app, console, err_console, progress_bar
from cocity.cli.workspace import WorkspaceOpt
from cocity.data.errors import CocityError
from cocity.datasets import open_store
from cocity.i18n import both, current_lang, t
from cocity.metrics.diagnose import Diagnostics, load_spec, run_diagnostics
from cocity.report.diagnose_report import write_diagnose_outputs

DEFAULT_OUT = Path("cocity-diagnose")


class GroupBy(StrEnum):
    province = "province"
    prefecture = "prefecture"
    metro = "metro"


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
    workspace: Path | None = WorkspaceOpt,
    spec: SpecOpt = None,
    group_by: GroupOpt = None,
    year: YearOpt = None,
    out: OutOpt = DEFAULT_OUT,
) -> None:
    """Run the diagnostics, print the headline figures and write the report and tables."""
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
        err_console.print(f"[bold red]{t('cli.error')}:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    print_summary(diag, paths, lang)


def _fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return format(value, spec)


def print_summary(diag: Diagnostics, paths: dict[str, Path], lang: str) -> None:
    """Headline figures per indicator, the other sections in a few lines, notes, files."""
    year = diag.spec.main_year
    title = t("diagnose.cli.title", lang, year=year, n=len(diag.scope),
              level=t(f"level.{diag.spec.level}", lang),
              group_by=t(f"diagnose.page.group_by.{diag.spec.group_by}", lang))
    table = Table(title=escape(title), title_justify="left")
    table.add_column(t("diagnose.page.col.indicator", lang))
    cols: list[tuple[str, Any]] = []
    q, c, sp = diag.inequality, diag.convergence, diag.spatial
    if q is not None:
        s = q.summary[q.summary["year"] == year].set_index("indicator")
        gini, between = s["gini"].to_dict(), s["theil_between_share"].to_dict()
        net = s["dagum_net_between_pct"].to_dict()
        cols += [(t("diagnose.cli.col.gini", lang), lambda i: _fmt(gini[i], ".4f")),
                 (t("diagnose.cli.col.between", lang),
                  lambda i: _fmt(100 * between[i], ".2f") + "%"),
                 (t("diagnose.cli.col.net_between", lang), lambda i: _fmt(net[i], ".1f") + "%")]
    if c is not None:
        b = c.beta.set_index("indicator")
        beta, half = b["beta"].to_dict(), b["half_life"].to_dict()
        cols += [("β", lambda i: _fmt(beta[i], ".4f")),
                 (t("diagnose.cli.col.half_life", lang), lambda i: _fmt(half[i], ".1f"))]
    if sp is not None:
        m = sp.moran[sp.moran["year"] == year].set_index("indicator")
        moran_i, moran_p = m["I"].to_dict(), m["p_sim"].to_dict()
        cols += [(t("diagnose.cli.col.moran", lang),
                  lambda i: f"{_fmt(moran_i[i], '.4f')} (p {_fmt(moran_p[i], '.3f')})")]
    for name, _ in cols:
        table.add_column(escape(name), justify="right")
    for ind in diag.spec.indicators:
        table.add_row(escape(diag.indicator_name(ind, lang)), *(get(ind) for _, get in cols))

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    if (st := diag.structure) is not None:
        poles = st.roles[st.roles["poles"] != ""]
        facts.add_row(t("diagnose.section.structure", lang), t(
            "diagnose.cli.structure", lang, pairs=len(st.warnings), threshold=st.threshold,
            roles="; ".join(f"{diag.unit_name(u, lang)} {r[f'role_label_{lang}']}"
                            for u, r in poles.iterrows()) or "—"))
    if (nw := diag.network) is not None:
        top = nw.edges.iloc[0] if len(nw.edges) else None
        facts.add_row(t("diagnose.section.network", lang), t(
            "diagnose.cli.network", lang, density=f"{float(nw.summary['density']):.3f}",
            link="—" if top is None else
            f"{diag.unit_name(top['a'], lang)}–{diag.unit_name(top['b'], lang)}",
            core=", ".join(diag.unit_name(u, lang) for u in nw.core)))
    if (pl := diag.polycentricity) is not None:
        prim = ", ".join(f"{str(k).upper()} {v:.3f}" for k, v in pl.primacy.items())
        facts.add_row(t("diagnose.section.polycentricity", lang), t(
            "diagnose.cli.polycentricity", lang, primacy=prim or "—",
            q=f"{pl.rank_size.q:.3f}"))
    if (pc := diag.people_circle) is not None:
        facts.add_row(t("diagnose.section.people_circle", lang), "; ".join(
            t("diagnose.cli.coupling", lang, year=y, mean=f"{d:.4f}", n=n)
            for y, d, n in zip(pc.summary["year"], pc.summary["mean_D"], pc.summary["n"],
                               strict=True)))
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
