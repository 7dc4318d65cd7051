"""``cocity index build|compare|uncertainty``: composite indices from a framework file.

The command only parses and prints: the runs are :mod:`cocity.index.run`, their files
:mod:`cocity.report.index_summary`; both (and NumPy, pandas) are imported inside the commands.

Exit codes: 0 on success, 2 when the framework, the selection or a parameter change cannot be
used (the message says which and how to fix it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cocity.cli import app, console, err_console, progress_bar, refused
from cocity.cli.executor_opts import Execution, ExecutorOpt, SchedulerOpt, WorkersOpt
from cocity.cli.workspace import WorkspaceOpt
from cocity.i18n import both, current_lang, t

if TYPE_CHECKING:
    from cocity.index.run import IndexRun, UncertaintyRun

index_app = typer.Typer(no_args_is_help=True, help=both("index.cli.help"))
app.add_typer(index_app, name="index")

FrameworkArg = Annotated[str, typer.Argument(help=both("index.cli.opt.framework"),
                                             show_default=False)]
YearOpt = Annotated[int | None, typer.Option("--year", "-y", help=both("index.cli.opt.year"),
                                             show_default=False)]
LevelOpt = Annotated[str | None, typer.Option("--level", help=both("index.cli.opt.level"),
                                              show_default=False)]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help=both("index.cli.opt.out"),
                                             show_default=False)]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help=both("index.cli.opt.set"),
                                                  show_default=False)]
TopOpt = Annotated[int, typer.Option("--top", help=both("index.cli.opt.top"))]


@contextmanager
def _spinner() -> Iterator[Callable[[str], None]]:
    """A transient spinner whose label follows the stages of a run."""
    with progress_bar(bar=False) as bar:
        task = bar.add_task(t("index.cli.step.framework"), total=None)

        def step(key: str) -> None:
            bar.update(task, description=t(key))

        yield step


def _build(framework: str, workspace: Path | None, year: int | None,
           level: str | None, overrides: list[str], step: Callable[[str], None]) -> IndexRun:
    from cocity.datasets import open_store
    from cocity.index.run import build_index

    store = open_store(workspace, read_only=True)
    try:
        return build_index(framework, store, year=year, level=level, overrides=overrides,
                           on_step=step)
    finally:
        store.close()


def _fmt(value: object, spec: str = ".2f") -> str:
    import pandas as pd

    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return format(value, spec)


def _print_top(run: IndexRun, top: int) -> None:
    from cocity.index.tables import nodes_table, ranking_table

    lang = current_lang()
    ranking = ranking_table(run)
    nodes = nodes_table(run)
    fw = run.framework
    dims = [c for lv in range(fw.n_levels - 1, 1, -1) for c in fw.level_codes(lv)]
    title = t("index.cli.top.title", name=nodes.at[run.root, f"name_{lang}"],
              n=min(top, len(ranking)), total=int(ranking[run.root].notna().sum()),
              year=run.selection.year, level=t(f"level.{run.selection.level}"))
    table = Table(title=escape(title), title_justify="left")
    table.add_column(t("index.cli.col.rank"), justify="right")
    table.add_column(t("index.cli.col.code"))
    table.add_column(t("index.cli.col.unit"))
    table.add_column(escape(str(nodes.at[run.root, f"name_{lang}"])), justify="right",
                     style="bold")
    for d in dims:
        table.add_column(escape(str(nodes.at[d, f"name_{lang}"])), justify="right")
    for code, r in ranking.head(top).iterrows():
        table.add_row(_fmt(r["rank"], "d"), str(code), escape(str(r[f"name_{lang}"])),
                      _fmt(r[run.root]), *(_fmt(r[d]) for d in dims))
    console.print(table)


def _print_notes(run: IndexRun) -> None:
    notice = run.file.notice_zh if current_lang() == "zh" else run.file.notice_en
    if notice:
        console.print(f"[yellow]{escape(notice)}[/]")
    console.print(escape(t("index.cli.covers", coverage=run.selection.coverage())))
    if run.dropped:
        text = t("index.cli.dropped", n=len(run.dropped), codes=", ".join(run.dropped))
        console.print(f"[yellow]{escape(text)}[/]")
    unscored = run.scores.index[run.scores[run.root].isna()]
    if len(unscored):
        text = t("index.cli.no_score", n=len(unscored), codes=", ".join(map(str, unscored)))
        console.print(f"[yellow]{escape(text)}[/]")


def _print_files(paths: dict[str, Path]) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for i, p in enumerate(paths.values()):
        grid.add_row(t("index.cli.written") if i == 0 else "", f"[green]{escape(str(p))}[/]")
    console.print(grid)


@index_app.command("build", help=both("index.cli.build.help"))
def build(
    framework: FrameworkArg,
    workspace: Path | None = WorkspaceOpt,
    year: YearOpt = None,
    level: LevelOpt = None,
    out: OutOpt = None,
    set_: SetOpt = None,
    top: TopOpt = 10,
) -> None:
    """Build an index, print its top units and write tables, log, manifest and HTML."""
    with refused():
        from cocity.index.run import default_out
        from cocity.report.index_summary import write_outputs

        with _spinner() as step:
            run = _build(framework, workspace, year, level, list(set_ or []), step)
            step("index.cli.step.write")
            paths = write_outputs(run, out or default_out(run.file), lang=current_lang())
        _print_notes(run)
        _print_top(run, top)
        _print_files(paths)


@index_app.command("compare", help=both("index.cli.compare.help"))
def compare(
    framework: FrameworkArg,
    other: Annotated[str | None, typer.Argument(help=both("index.cli.opt.other"),
                                                show_default=False)] = None,
    workspace: Path | None = WorkspaceOpt,
    year: YearOpt = None,
    level: LevelOpt = None,
    set_: SetOpt = None,
    against: Annotated[list[str] | None, typer.Option(
        "--against-set", help=both("index.cli.opt.against_set"), show_default=False)] = None,
    node: Annotated[str | None, typer.Option("--node", help=both("index.cli.opt.node"),
                                             show_default=False)] = None,
    out: OutOpt = None,
    top: TopOpt = 10,
) -> None:
    """Compare two versions of an index: score and rank changes of every unit."""
    with refused():
        if other is None and not set_ and not against:
            err_console.print(f"[bold red]{t('cli.error')}:[/] "
                              f"{escape(t('index.cli.err.nothing_to_compare'))}")
            raise typer.Exit(2)
        from cocity.index.run import compare_runs, default_out
        from cocity.report.index_summary import write_compare

        with _spinner() as step:
            base = _build(framework, workspace, year, level, list(against or []), step)
            step("index.cli.step.other")
            second = _build(other or framework, workspace, year, level, list(set_ or []),
                            lambda _key: None)
            table = compare_runs(base, second, node=node)
            step("index.cli.step.write")
            paths = write_compare(base, second, table, out or default_out(base.file))
        console.print(escape(t("index.cli.covers", coverage=base.selection.coverage())))
        _print_compare(base, second, table, node or base.root, top)
        _print_files(paths)


def _version_label(run: IndexRun) -> str:
    changes = " ".join(f"--set {o}" for o in run.overrides)
    return f"{run.file.source} {changes or '(' + t('index.cli.compare.as_file') + ')'}"


def _print_compare(base: IndexRun, other: IndexRun, table: Any, node: str,
                   top: int) -> None:
    import pandas as pd

    from cocity.index.tables import nodes_table

    lang = current_lang()
    console.print(f"[bold]{t('index.cli.compare.base')}:[/] {escape(_version_label(base))}")
    console.print(f"[bold]{t('index.cli.compare.other')}:[/] {escape(_version_label(other))}")
    both_ranked = table.dropna(subset=["rank", "rank_other"])
    change = both_ranked["rank_change"].astype(float).abs()
    rho = both_ranked["score"].astype(float).rank().corr(
        both_ranked["score_other"].astype(float).rank())
    console.print(t("index.cli.compare.summary", units=len(both_ranked),
                    changed=int((change > 0).sum()), mean=float(change.mean()),
                    max=int(change.max()) if len(change) else 0,
                    rho=float(rho) if pd.notna(rho) else float("nan")))
    order = table.assign(_abs=table["rank_change"].astype(float).abs()).sort_values(
        ["_abs", "rank"], ascending=[False, True], kind="stable")
    shown = order.head(top)
    name = nodes_table(base).at[node, f"name_{lang}"] if node in nodes_table(base).index else node
    out = Table(title=escape(t("index.cli.compare.title", n=len(shown), node=name)),
                title_justify="left")
    out.add_column(t("index.cli.col.code"))
    out.add_column(t("index.cli.col.unit"))
    for key in ("rank_base", "rank_other", "rank_change", "score_base", "score_other",
                "score_change"):
        out.add_column(t(f"index.cli.col.{key}"), justify="right")
    for code, r in shown.iterrows():
        delta = r["rank_change"]
        style = "" if delta is pd.NA or delta == 0 else ("red" if delta > 0 else "green")
        out.add_row(str(code), escape(str(r[f"name_{lang}"])), _fmt(r["rank"], "d"),
                    _fmt(r["rank_other"], "d"),
                    f"[{style}]{_fmt(delta, '+d')}[/]" if style else _fmt(delta, "+d"),
                    _fmt(r["score"]), _fmt(r["score_other"]), _fmt(r["score_change"], "+.2f"))
    console.print(out)


@index_app.command("uncertainty", help=both("index.cli.uncertainty.help"))
def uncertainty(
    framework: FrameworkArg,
    workspace: Path | None = WorkspaceOpt,
    year: YearOpt = None,
    level: LevelOpt = None,
    set_: SetOpt = None,
    replications: Annotated[int | None, typer.Option(
        "--replications", "-n", help=both("index.cli.opt.replications"),
        show_default=False, min=2)] = None,
    seed: Annotated[int | None, typer.Option("--seed", help=both("index.cli.opt.seed"),
                                             show_default=False, min=0)] = None,
    workers: WorkersOpt = 1,
    executor: ExecutorOpt = None,
    scheduler: SchedulerOpt = None,
    out: OutOpt = None,
    top: TopOpt = 10,
) -> None:
    """Rank intervals and Sobol indices of an index under its uncertain inputs."""
    with refused():
        from cocity.index.run import default_out, run_uncertainty_analysis
        from cocity.report.index_summary import write_uncertainty

        with _spinner() as step:
            run = _build(framework, workspace, year, level, list(set_ or []), step)
        with progress_bar(counts=True) as bar:
            task = bar.add_task(t("index.cli.step.uncertainty"), total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            unc = run_uncertainty_analysis(run, replications=replications, seed=seed,
                                           progress=progress,
                                           **Execution(executor, scheduler, workers).kwargs())
            bar.update(task, description=t("index.cli.step.write"))
            paths = write_uncertainty(unc, out or default_out(run.file), lang=current_lang())
        _print_notes(run)
        _print_uncertainty(unc, top)
        _print_files(paths)


def _print_uncertainty(unc: UncertaintyRun, top: int) -> None:
    from cocity.index.uncertainty import input_label

    run, result = unc.run, unc.result
    lang = current_lang()
    summary = result.rank_summary.join(run.units[["name_zh", "name_en"]])
    ranks = Table(title=escape(t("index.cli.unc.ranks_title", n=result.replications,
                                 top=min(top, len(summary)))), title_justify="left")
    ranks.add_column(t("index.cli.col.code"))
    ranks.add_column(t("index.cli.col.unit"))
    for key in ("nominal_rank", "median_rank", "interval"):
        ranks.add_column(t(f"index.cli.col.{key}"), justify="right")
    for code, r in summary.head(top).iterrows():
        ranks.add_row(str(code), escape(str(r[f"name_{lang}"])), _fmt(r["nominal_rank"], "g"),
                      _fmt(r["median_rank"], "g"),
                      f"{_fmt(r['p05'], 'g')}–{_fmt(r['p95'], 'g')}")
    console.print(ranks)
    sobol = Table(title=t("index.cli.unc.sobol_title"), title_justify="left")
    sobol.add_column(t("index.cli.col.input"))
    for col in ("S1", "S1_conf", "ST", "ST_conf"):
        sobol.add_column(col.replace("_conf", " ±"), justify="right")
    for name, r in result.sobol.iterrows():
        sobol.add_row(escape(f"{input_label(str(name), lang)} ({name})"),
                      *(_fmt(r[c], ".3f") for c in ("S1", "S1_conf", "ST", "ST_conf")))
    console.print(sobol)

