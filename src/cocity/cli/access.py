"""``cocity access commute|lifecircle|measure``: 1-hour commuting circles on a workspace (with
``--flows``, also by the commuting share of origin–destination data), 15-minute life circles on
a street network, and the accessibility measures of :mod:`cocity.access.measures` (the 2SFCA
family, gravity, cumulative opportunities, nearest k) on a user's cost table or street network,
each written as tables, a GeoPackage where there are areas, a manifest and a bilingual HTML
report.

The commands only parse and print: the runs are :mod:`cocity.access.commute`,
:mod:`cocity.access.lifecircle_run` and :mod:`cocity.access.measure_run`, their files
:mod:`cocity.report.access_report`; all are imported inside the commands (the street-network
side loads numba only when it routes).

Exit codes: 0 on success, 2 when a specification, a file or a parameter cannot be used (the
message says which).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cocity.cli import app, console, progress_bar, refused
from cocity.cli.executor_opts import Execution, ExecutorOpt, SchedulerOpt, WorkersOpt
from cocity.cli.workspace import WorkspaceOpt
from cocity.i18n import both, current_lang, t

if TYPE_CHECKING:
    from cocity.access.commute import Commute
    from cocity.access.lifecircle_run import LifeCircleRun
    from cocity.access.measure_run import MeasureRun

access_app = typer.Typer(no_args_is_help=True, help=both("access.cli.help"))
app.add_typer(access_app, name="access")

#: for the help pages only (this module stays light); a test keeps them equal to
#: cocity.access.measure_run.MEASURE_METHODS and cocity.access.decay.DECAYS
MEASURE_METHODS = ("gravity", "cumulative_opportunities", "nearest_k", "fca_ratio",
                   "two_step_fca", "enhanced_2sfca", "gaussian_2sfca", "three_step_fca")
DECAY_NAMES = ("binary", "linear", "exponential", "power", "gaussian", "gaussian_kernel",
               "step", "epanechnikov")

SpecOpt = Annotated[Path | None, typer.Option("--spec", "-s", help=both("access.cli.opt.spec"),
                                              show_default=False)]
ThresholdOpt = Annotated[float | None, typer.Option(
    "--threshold", help=both("access.cli.opt.threshold"), show_default=False)]
CommuteOut = Annotated[Path, typer.Option("--out", "-o", help=both("access.cli.opt.out"))]
NetworkOpt = Annotated[Path, typer.Option("--network", "-n", help=both("access.cli.opt.network"),
                                          show_default=False)]
NodesOpt = Annotated[Path | None, typer.Option("--nodes", help=both("access.cli.opt.nodes"),
                                               show_default=False)]
HomesOpt = Annotated[Path, typer.Option("--homes", help=both("access.cli.opt.homes"),
                                        show_default=False)]
FacilitiesOpt = Annotated[Path, typer.Option("--facilities", help=both("access.cli.opt.facilities"),
                                             show_default=False)]
MaxSnapOpt = Annotated[float, typer.Option("--max-snap", help=both("access.cli.opt.max_snap"))]
CrsOpt = Annotated[str | None, typer.Option("--crs", help=both("access.cli.opt.crs"),
                                            show_default=False)]
FlowsOpt = Annotated[Path | None, typer.Option("--flows", help=both("access.cli.opt.flows"),
                                               show_default=False)]
ShareOpt = Annotated[float, typer.Option("--share-threshold",
                                         help=both("access.cli.opt.share_threshold"))]



class _Stages:
    """A transient progress display whose label follows the stages of a run (``step``) and
    whose bar follows the searches' jobs as they complete (``progress``)."""

    def __init__(self, bar: Any, task: Any) -> None:
        self._bar, self._task = bar, task

    def step(self, key: str) -> None:
        self._bar.update(self._task, description=t(key), completed=0, total=None)

    def progress(self, done: int, total: int) -> None:
        self._bar.update(self._task, completed=done, total=total)


@contextmanager
def _stages(first: str) -> Iterator[_Stages]:
    with progress_bar(counts=True) as bar:
        yield _Stages(bar, bar.add_task(t(first), total=None))


def _covers(text: str) -> None:
    console.print(escape(t("index.cli.covers", coverage=text)))


# ---------------------------------------------------------------------- commute
@access_app.command(help=both("access.cli.commute.help"))
def commute(
    workspace: Path | None = WorkspaceOpt,
    spec: SpecOpt = None,
    threshold: ThresholdOpt = None,
    flows: FlowsOpt = None,
    share_threshold: ShareOpt = 0.10,
    out: CommuteOut = Path("cocity-access-commute"),
) -> None:
    """Commuting circles of the spec's cores on the workspace's county-level units; with
    ``--flows`` also the circles by commuting share."""
    lang = current_lang()
    with refused():
        from cocity.access.commute import run_commute
        from cocity.datasets import open_store
        from cocity.report.access_report import write_commute_outputs

        with _stages("access.cli.step.network") as stages:
            store = open_store(workspace, read_only=True)
            try:
                c = run_commute(store, spec=spec, threshold=threshold, flows=flows,
                                share_threshold=share_threshold)
            finally:
                store.close()
            stages.step("access.cli.step.write")
            paths = write_commute_outputs(c, out, lang=lang)
    _print_commute(c, paths, lang)


def _print_commute(c: Commute, paths: dict[str, Path], lang: str) -> None:
    _covers(c.coverage(lang))
    table = Table(title=escape(t("access.cli.commute.term_title", lang,
                                 threshold=c.threshold, n=len(c.table))),
                  title_justify="left")
    table.add_column(t("access.cli.commute.col.circle", lang))
    table.add_column(t("access.cli.commute.col.units", lang), justify="right")
    counts = c.table["circle"].value_counts()
    for key in c.classes:
        if key in counts.index:
            table.add_row(escape(c.circle_label(key, lang)), str(int(counts[key])))
    console.print(table)
    if c.has_shares and c.flows is not None:
        from cocity.access.commute import commute_comparison, commute_counts

        share = Table(title=escape(t("access.cli.commute.term_share_title", lang,
                                     share=c.share_pct, rows=len(c.flows))),
                      title_justify="left")
        share.add_column(t("access.cli.commute.col.circle_share", lang))
        share.add_column(t("access.cli.commute.col.units", lang), justify="right")
        for key, n in commute_counts(c, "circle_share"):
            if n:
                share.add_row(escape(c.share_label(key, lang)), str(n))
        console.print(share)
        comp = commute_comparison(c)
        name = "name_zh" if lang == "zh" else "name_en"
        for core in c.cores:
            parts: dict[str, object] = {}
            for kind in ("time_only", "share_only"):
                sub = comp[(comp["core"] == core) & (comp["difference"] == kind)]
                names = sub[name].astype(str).tolist()
                listed = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
                parts[kind] = len(sub)
                parts[f"{kind.split('_')[0]}_list"] = f" ({listed})" if names else ""
            console.print(escape(t("access.cli.commute.term_compare", lang,
                                   core=c.core_name(core, lang), **parts)))
    console.print(f"[yellow]※ {escape(t('access.cli.commute.term_modelled', lang))}[/]")
    _print_files(paths, lang)


def _print_files(paths: dict[str, Path], lang: str) -> None:
    html = paths["html"]
    console.print(f"{t('access.cli.term.report', lang)}: [green]{escape(str(html))}[/] "
                  f"({t('profile.term.size', lang, mb=html.stat().st_size / 1e6)})")
    others = [str(p) for k, p in paths.items() if k != "html" and not k.startswith("csv:")]
    csvs = [p for k, p in paths.items() if k.startswith("csv:")]
    if csvs:
        others.append(f"{csvs[0].parent}/*.csv ({len(csvs)})")
    console.print(f"{t('access.cli.term.files', lang)}: {escape(' · '.join(others))}")


# ---------------------------------------------------------------------- lifecircle
@access_app.command(help=both("access.cli.lc.help"))
def lifecircle(
    network: NetworkOpt,
    homes: HomesOpt,
    facilities: FacilitiesOpt,
    nodes: NodesOpt = None,
    spec: SpecOpt = None,
    max_snap: MaxSnapOpt = 500.0,
    crs: CrsOpt = None,
    out: CommuteOut = Path("cocity-access-lifecircle"),
    executor: ExecutorOpt = None,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = 1,
) -> None:
    """15-minute life circles (GB 50180-2018) of homes on a street network."""
    lang = current_lang()
    with refused():
        from cocity.access.lifecircle_run import run_lifecircle
        from cocity.report.access_report import write_lifecircle_outputs

        execution = Execution(executor, scheduler, workers).kwargs()
        with _stages("access.cli.step.network") as stages:
            run = run_lifecircle(network, homes, facilities, nodes=nodes, spec=spec,
                                 max_snap=max_snap, crs=crs, on_step=stages.step,
                                 progress=stages.progress, **execution)
            stages.step("access.cli.step.write")
            paths = write_lifecircle_outputs(run, out, lang=lang)
    _print_lifecircle(run, paths, lang)


def _print_lifecircle(run: LifeCircleRun, paths: dict[str, Path], lang: str) -> None:
    res = run.result
    _covers(run.coverage(lang))
    table = Table(title=escape(t("access.cli.lc.term_title", lang, homes=len(res.homes),
                                 standard=res.spec.standard)), title_justify="left")
    table.add_column(t("access.cli.lc.col.level", lang))
    table.add_column(t("access.cli.lc.col.walk_m", lang), justify="right")
    table.add_column(t("access.cli.lc.col.population", lang), justify="right")
    table.add_column(t("access.cli.lc.col.share", lang), justify="right")
    summary = res.summary()
    for lv, pop, share in zip(res.spec.levels, summary["population"].to_numpy(float),
                              summary["share"].to_numpy(float), strict=True):
        text = "—" if math.isnan(share) else f"{100 * share:.1f}%"
        table.add_row(escape(lv.name(lang)), f"{lv.walk_m:g}", f"{pop:,.0f}", text)
    console.print(table)
    gaps = res.gaps.groupby("type")["population"].sum().sort_values(ascending=False).head(5)
    if len(gaps):
        console.print(t("access.cli.lc.term_gaps", lang, gaps="; ".join(
            f"{res.spec.type_name(str(k), lang)} {v:,.0f}" for k, v in gaps.items())))
    counts = res.finest_level().value_counts()
    console.print(t("access.cli.lc.term_uncovered", lang, n=int(counts.get("none", 0))))
    for n in res.notes:
        console.print(f"[yellow]※ {escape(n.text(lang))}[/]")
    for zh, en in run.notes:
        console.print(f"[yellow]※ {escape(zh if lang == 'zh' else en)}[/]")
    _print_files(paths, lang)



# ---------------------------------------------------------------------- measure
def _opt(name: str, key: str, *alias: str) -> Any:
    return typer.Option(name, *alias, help=both(f"access.cli.measure.opt.{key}"),
                        show_default=False)


DemandOpt = Annotated[Path, _opt("--demand", "demand")]
SupplyOpt = Annotated[Path, _opt("--supply", "supply")]
MethodOpt = Annotated[str, typer.Option("--method", "-m", help=both("access.cli.measure.opt.method",
                                        names=", ".join(MEASURE_METHODS)))]
CostOpt = Annotated[Path | None, _opt("--cost", "cost")]
DemandCostOpt = Annotated[Path | None, _opt("--demand-cost", "demand_cost")]
OptNetworkOpt = Annotated[Path | None, _opt("--network", "network", "-n")]
NetworkCostOpt = Annotated[str, typer.Option("--network-cost",
                                             help=both("access.cli.measure.opt.network_cost"))]
CatchmentOpt = Annotated[float | None, _opt("--threshold", "threshold")]
DecayOpt = Annotated[str | None, typer.Option("--decay", help=both(
    "access.cli.measure.opt.decay", names=", ".join(DECAY_NAMES)), show_default=False)]


@access_app.command(help=both("access.cli.measure.help"))
def measure(
    demand: DemandOpt,
    supply: SupplyOpt,
    method: MethodOpt = "two_step_fca",
    cost: CostOpt = None,
    demand_cost: DemandCostOpt = None,
    network: OptNetworkOpt = None,
    nodes: NodesOpt = None,
    network_cost: NetworkCostOpt = "minutes",
    max_snap: MaxSnapOpt = 500.0,
    crs: CrsOpt = None,
    threshold: CatchmentOpt = None,
    decay: DecayOpt = None,
    beta: Annotated[float | None, _opt("--beta", "beta")] = None,
    sigma: Annotated[float | None, _opt("--sigma", "sigma")] = None,
    bandwidth: Annotated[float | None, _opt("--bandwidth", "bandwidth")] = None,
    d_min: Annotated[float | None, _opt("--d-min", "d_min")] = None,
    breaks: Annotated[str | None, _opt("--breaks", "breaks")] = None,
    weights: Annotated[str | None, _opt("--weights", "weights")] = None,
    closed: Annotated[str | None, _opt("--closed", "closed")] = None,
    k: Annotated[int | None, _opt("--k", "k")] = None,
    how: Annotated[str | None, _opt("--how", "how")] = None,
    spar: Annotated[str, typer.Option("--spar", help=both("access.cli.measure.opt.spar"))
                    ] = "none",
    demand_id: Annotated[str | None, _opt("--demand-id", "demand_id")] = None,
    demand_col: Annotated[str | None, _opt("--demand-col", "demand_col")] = None,
    supply_id: Annotated[str | None, _opt("--supply-id", "supply_id")] = None,
    capacity_col: Annotated[str | None, _opt("--capacity-col", "capacity_col")] = None,
    origin_col: Annotated[str, typer.Option("--origin-col",
                                            help=both("access.cli.measure.opt.origin_col"))
                          ] = "origin",
    destination_col: Annotated[str, typer.Option(
        "--destination-col", help=both("access.cli.measure.opt.destination_col"))
    ] = "destination",
    cost_col: Annotated[str, typer.Option("--cost-col",
                                          help=both("access.cli.measure.opt.cost_col"))
                        ] = "cost",
    out: CommuteOut = Path("cocity-access-measure"),
    executor: ExecutorOpt = None,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = 1,
) -> None:
    """An accessibility measure (2SFCA family, gravity, cumulative, nearest-k) on user files."""
    lang = current_lang()
    with refused():
        from cocity.access.measure_run import (
            MeasureColumns,
            MeasureFiles,
            MeasureParams,
            parse_numbers,
            run_measure,
        )
        from cocity.report.access_report import write_measure_outputs

        execution = Execution(executor, scheduler, workers).kwargs()
        given = {"beta": beta, "sigma": sigma, "h": bandwidth, "d_min": d_min,
                 "breaks": parse_numbers(breaks, option="--breaks"),
                 "weights": parse_numbers(weights, option="--weights"), "closed": closed}
        params = MeasureParams(method, threshold, decay,
                               {p: v for p, v in given.items() if v is not None}, k, how, spar)
        files = MeasureFiles(demand, supply, cost=cost, demand_cost=demand_cost,
                             network=network, nodes=nodes)
        columns = MeasureColumns(demand_id=demand_id, demand=demand_col, supply_id=supply_id,
                                 capacity=capacity_col, origin=origin_col,
                                 destination=destination_col, cost=cost_col)
        with _stages("access.cli.measure.step.points") as stages:
            run = run_measure(params, files, columns=columns, network_cost=network_cost,
                              max_snap=max_snap, crs=crs, on_step=stages.step,
                              progress=stages.progress, **execution)
            stages.step("access.cli.step.write")
            paths = write_measure_outputs(run, out, lang=lang)
    _print_measure(run, paths, lang)


def _print_measure(run: MeasureRun, paths: dict[str, Path], lang: str) -> None:
    import numpy as np

    from cocity.access.measure_run import STAT_KEYS, measure_stats

    _covers(run.coverage(lang))
    stats = measure_stats(run)
    table = Table(title=escape(t("access.cli.measure.term_title", lang,
                                 method=run.method_name(lang), demand=len(run.demand),
                                 supply=len(run.supply))), title_justify="left")
    table.add_column(t("access.cli.measure.col.statistic", lang))
    table.add_column(t("access.cli.measure.col.value", lang), justify="right")
    for key in STAT_KEYS:
        v = stats[key]
        if key == "no_supply_share":
            text = "—" if np.isnan(v) else f"{100 * v:.1f}%"
        elif key in ("n", "no_supply"):
            text = f"{v:,.0f}"
        else:
            text = "—" if np.isnan(v) else f"{v:.6g}"
        table.add_row(escape(t(f"access.cli.measure.stat.{key}", lang)), text)
    console.print(table)
    for zh, en in run.notes:
        console.print(f"[yellow]※ {escape(zh if lang == 'zh' else en)}[/]")
    _print_files(paths, lang)
