"""``cocity plan …``: planning tools; ``cocity plan whatif`` recomputes accessibility, derived
indicators, grades and the fund allocation after added beds, hospitals or faster links, beside
the published edition (:mod:`cocity.plan.whatif`; ``docs/whatif.md``).

The command parses and prints only; the computation and the files are :mod:`cocity.plan`,
imported inside the command. Exit codes: 0 done, 2 a request refused (nothing written).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cocity.cli import app, console, progress_bar, refused
from cocity.cli.workspace import WorkspaceOpt
from cocity.i18n import both, current_lang, t

if TYPE_CHECKING:
    from cocity.data.store import Store
    from cocity.plan.whatif import WhatIf

plan_app = typer.Typer(no_args_is_help=True, help=both("whatif.cli.help"))
app.add_typer(plan_app, name="plan")


@contextmanager
def working(tool: str, workspace: Path | None) -> Iterator[Store]:
    """The data of a planning command (a workspace read-only, else the embedded dataset),
    while a spinner says what ``cocity plan <tool>`` is doing (``plan.<tool>.cli.working``)."""
    from cocity.datasets import open_store

    store = open_store(workspace, read_only=True)
    with progress_bar(bar=False) as bar:
        bar.add_task(t(f"plan.{tool}.cli.working"), total=None)
        yield store

def _arrow(a: Any, b: Any) -> str:
    return f"{a}" if a == b else f"{a} → {b}"


def _num(x: Any, places: int = 2) -> str:
    try:
        return f"{float(x):.{places}f}"
    except (TypeError, ValueError):
        return "—"


def _print(w: WhatIf) -> None:
    lang = current_lang()
    rules = w.baseline.rules
    alloc: dict[str, tuple[int, int]] | None = None
    fund_level = None
    if w.allocation is not None and w.allocations is not None:
        a = w.allocation
        tot = a[(a["use"] == "total") & (a["unit"] != "*")]
        alloc = {str(u): (int(b), int(s)) for u, b, s in zip(
            tot["unit"], tot["amount_baseline"], tot["amount_scenario"], strict=True)}
        fund_level = w.allocations["baseline"].rules.level
    for level, res in w.levels.items():
        name = w.baseline.framework.level_label(level, lang)
        changed = res.changed
        if changed.empty:
            console.print(t("whatif.cli.none", level=name))
            continue
        table = Table(title=t("whatif.cli.title", level=name))
        table.add_column(t("whatif.cli.col.unit"))
        pub = "published_score" in changed.columns
        if pub:
            table.add_column(t("whatif.cli.col.published"), justify="right")
        table.add_column(t("whatif.cli.col.score"), justify="right")
        table.add_column(t("whatif.cli.col.rank"), justify="right")
        table.add_column(t("whatif.cli.col.grade"))
        show_alloc = alloc is not None and level == fund_level
        if show_alloc:
            table.add_column(t("whatif.cli.col.allocation"), justify="right")
        for code, row in changed.iterrows():
            cells = [escape(str(row[f"name_{lang}"]))]
            if pub:
                cells.append(_num(row["published_score"]))
            cells.append(_arrow(_num(row["baseline_score"]), _num(row["scenario_score"])))
            cells.append(_arrow(row["baseline_rank"], row["scenario_rank"]))
            cells.append(_arrow(rules.label(str(row["baseline_grade"]), lang),
                                rules.label(str(row["scenario_grade"]), lang)))
            if show_alloc and alloc is not None:
                if str(code) in alloc:
                    b, s = alloc[str(code)]
                    cells.append(f"{s / 100:,.2f}" if s == b else
                                 f"{s / 100:,.2f} ({(s - b) / 100:+,.2f})")
                else:
                    cells.append("—")
            table.add_row(*cells)
        console.print(table)
        console.print(t("whatif.cli.indicators", level=name, n=len(res.indicators)))
    console.print(f"[bold]{t('whatif.cli.notes')}[/]")
    for note in w.notes:
        console.print(f"• {escape(note[lang])}")
    console.print(t("whatif.cli.time", seconds=f"{w.seconds:.2f}"))


def _read_survey(path: Path, store: Any, *, year: int | None, run: Path | None,
                 framework: Path | None) -> Any:
    """The survey file, read for the evaluation year (given, the run's, or the
    framework's)."""
    from cocity.evaluate.framework import load_framework
    from cocity.evaluate.survey import read_survey
    from cocity.plan.whatif import read_published

    if year is None:
        year = read_published(run).year if run is not None else load_framework(framework).year
    return read_survey(path, store, year=year)


@plan_app.command("whatif", help=both("whatif.cli.whatif.help"))
def whatif_cmd(
    beds: Annotated[list[str] | None, typer.Option(
        "--beds", help=both("whatif.cli.opt.beds"), metavar="UNIT:BEDS",
        show_default=False)] = None,
    hospital: Annotated[list[str] | None, typer.Option(
        "--hospital", help=both("whatif.cli.opt.hospital"), metavar="UNIT:BEDS",
        show_default=False)] = None,
    link: Annotated[list[str] | None, typer.Option(
        "--link", help=both("whatif.cli.opt.link"), metavar="A-B:MINUTES",
        show_default=False)] = None,
    year: Annotated[int | None, typer.Option(
        "--year", help=both("whatif.cli.opt.year"), show_default=False)] = None,
    level: Annotated[str | None, typer.Option(
        "--level", help=both("whatif.cli.opt.level"), show_default=False)] = None,
    run: Annotated[Path | None, typer.Option(
        "--run", help=both("whatif.cli.opt.run"), show_default=False)] = None,
    fund: Annotated[str | None, typer.Option(
        "--fund", help=both("whatif.cli.opt.fund"), show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help=both("whatif.cli.opt.out"), show_default=False)] = None,
    framework: Annotated[Path | None, typer.Option(
        "--framework", help=both("whatif.cli.opt.framework"), show_default=False)] = None,
    rules: Annotated[Path | None, typer.Option(
        "--rules", help=both("whatif.cli.opt.rules"), show_default=False)] = None,
    replications: Annotated[int, typer.Option(
        "--replications", help=both("whatif.cli.opt.replications"))] = 0,
    seed: Annotated[int | None, typer.Option(
        "--seed", help=both("whatif.cli.opt.seed"), show_default=False)] = None,
    survey: Annotated[Path | None, typer.Option(
        "--survey", help=both("whatif.cli.opt.survey"), show_default=False)] = None,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    with refused():
        from cocity.datasets import open_store
        from cocity.fund.money import parse_yuan
        from cocity.plan.whatif import parse_changes, what_if

        changes = parse_changes(beds=beds or [], hospitals=hospital or [], links=link or [])
        if not changes:
            console.print(t("whatif.cli.nothing"))
        fund_fen = parse_yuan(fund) if fund is not None else None
        store = open_store(workspace, read_only=True)
        sv = _read_survey(survey, store, year=year, run=run, framework=framework) \
            if survey is not None else None
        with progress_bar(bar=False) as bar:
            bar.add_task(t("whatif.cli.working"), total=None)
            w = what_if(store, changes=changes, framework=framework, year=year, level=level,
                        run=run, fund_fen=fund_fen, rules=rules, replications=replications,
                        seed=seed, survey=sv)
        _print(w)
        if out is not None:
            from cocity.plan.files import write_what_if

            path = write_what_if(w, out)
            console.print(t("whatif.cli.written", path=escape(str(path.parent))))
