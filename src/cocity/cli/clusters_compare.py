"""``cocity clusters compare A B [C …] --out DIR`` (or ``--all``): city clusters side by side.

Each argument is a shipped definition key (``jingjinji``), a definition file (``.yaml``) or
``@FILE``, a file of unit names or codes (one per line, or a CSV with a ``unit`` column) that
makes a user's own cluster whose key is the file's stem. Every cluster is cut from the national
base and run through the same diagnostics spec (:mod:`cocity.clusters.compare`); the command
prints a summary table and writes the CSV tables, one workbook, the bilingual page and the
manifest (:mod:`cocity.report.cluster_compare`). ``--all`` compares every shipped definition
(the national per-cluster run). Each cluster's run is a job of the shared executor options
(``--executor``, ``--scheduler``, ``--workers``: :mod:`cocity.cli.executor_opts`); the progress
bar follows the runs as they finish; the files do not depend on where the runs ran.

The computations are imported inside the command, so that ``cocity --help`` stays light.

Exit codes: 0 done; 2 refused — fewer than two clusters, clusters named with ``--all``, an
unknown key or unreadable file, a cluster without units, a faulty spec, an unknown executor or
unreachable scheduler — with nothing written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cocity.cli import console, fail, progress_bar
from cocity.cli.clusters import clusters_app
from cocity.cli.executor_opts import Execution, ExecutorOpt, SchedulerOpt, WorkersOpt
from cocity.data.errors import CocityError
from cocity.i18n import both, current_lang, t

if TYPE_CHECKING:
    from cocity.clusters.compare import Comparison
    from cocity.clusters.definition import Cluster

DEFAULT_OUT = Path("cocity-clusters-compare")
# Rows of the printed summary (figure, per indicator?); the page and tables hold every row.
SUMMARY = (("population", False), ("prefectures", False), ("counties", False),
           ("gini", True), ("theil_between_share", True), ("sigma_start", True),
           ("sigma_end", True), ("primacy_s2", False), ("zipf_q", False),
           ("krugman_mean", False), ("core_share", False), ("beds", False))

ClustersArg = Annotated[list[str] | None, typer.Argument(
    help=both("cmp.cli.arg.clusters"), show_default=False)]
AllOpt = Annotated[bool, typer.Option("--all", help=both("cmp.cli.opt.all"))]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help=both("cmp.cli.opt.out"))]
SpecOpt = Annotated[Path | None, typer.Option("--spec", "-s", help=both("cmp.cli.opt.spec"),
                                              show_default=False)]


def read_cluster(ref: str) -> Cluster:
    """A shipped key, a definition file, or ``@FILE`` of unit names (key: the stem)."""
    from cocity.clusters.definition import load_cluster, read_units_file, user_cluster

    if ref.startswith("@"):
        path = Path(ref[1:])
        return user_cluster(read_units_file(path), key=path.stem, source=str(path))
    return load_cluster(ref)


@clusters_app.command("compare", help=both("cmp.cli.help"))
def compare(clusters: ClustersArg = None, out: OutOpt = DEFAULT_OUT, spec: SpecOpt = None,
            all_: AllOpt = False, executor: ExecutorOpt = None,
            scheduler: SchedulerOpt = None, workers: WorkersOpt = 1) -> None:
    """Compare the clusters, print the summary, write the report."""
    lang = current_lang()
    try:
        from cocity.clusters.definition import shipped
        from cocity.clusters.errors import ClusterError

        refs = list(clusters or [])
        if all_ and refs:
            raise ClusterError(t("cmp.cli.err.all_and_names", names=", ".join(refs)))
        if all_:
            refs = shipped()
        if len(refs) < 2:
            raise ClusterError(t("cmp.err.two", n=len(refs)))
        how = Execution(executor, scheduler, workers).kwargs()
        chosen = [read_cluster(ref) for ref in refs]
        from cocity.clusters.compare import compare_clusters
        from cocity.report.cluster_compare import write_compare_outputs

        with progress_bar(counts=True) as bar:
            task = bar.add_task(t("cmp.cli.step.runs"), total=len(chosen))

            def step(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = compare_clusters(chosen, spec=spec, progress=step, **how)
        paths = write_compare_outputs(result, out, lang=lang)
    except (CocityError, OSError) as exc:
        raise fail(exc) from None
    print_summary(result, paths, lang)


def print_summary(cmp: Comparison, paths: dict[str, Path], lang: str) -> None:
    """A few headline rows (the first indicator for the per-indicator figures), the notes
    count and the files written."""
    from cocity.report.cluster_compare import cluster_name, figure_name, format_value

    table = Table(title=t("cmp.cli.title", lang, n=len(cmp.keys)), title_justify="left")
    table.add_column(t("cmp.page.col.figure", lang))
    for key in cmp.keys:
        table.add_column(escape(cluster_name(cmp, key, lang)), justify="right")
    first = cmp.indicators[0]
    for figure, per_indicator in SUMMARY:
        ind = first if per_indicator else ""
        cells = [format_value(figure, cmp.value(figure, key, ind)) for key in cmp.keys]
        table.add_row(escape(figure_name(cmp, figure, ind, lang)), *cells)
    console.print(table)
    console.print(t("cmp.cli.notes", lang, n=len(cmp.notes)))
    console.print(t("cmp.cli.written", lang, html=str(paths["html"]), xlsx=str(paths["xlsx"]),
                    manifest=str(paths["manifest"])))
