"""``cocity access commute|lifecircle``: 1-hour commuting circles on a workspace and 15-minute
life circles on a street network, each written as tables, a GeoPackage and a bilingual HTML
report.

Exit codes: 0 on success, 2 when a specification, a file or a parameter cannot be used (the
message says which).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from cocity.access.errors import AccessInputError
from cocity.access.regional import load_spec as load_regional_spec
from cocity.cli import app, console, err_console, progress_bar
from cocity.cli.workspace import WorkspaceOpt
from cocity.data.errors import CocityError
from cocity.data.store import open_store
from cocity.i18n import both, current_lang, t
from cocity.report.access_report import Commute, build_commute, write_commute_outputs

if TYPE_CHECKING:
    from cocity.access.life_circles import LifeCircles
    from cocity.access.network import Network

access_app = typer.Typer(no_args_is_help=True, help=both("access.cli.help"))
app.add_typer(access_app, name="access")

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

NETWORK_TABLES = (".csv", ".txt", ".parquet", ".pq", ".geoparquet")
NETWORK_LINES = (".gpkg", ".geojson", ".json", ".shp", ".fgb")
NETWORK_OSM = (".pbf", ".osm")


@contextmanager
def _errors() -> Iterator[None]:
    """A rejected request: one localised message and exit status 2."""
    try:
        yield
    except (CocityError, OSError, KeyError) as exc:
        err_console.print(f"[bold red]{t('cli.error')}:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None


# ---------------------------------------------------------------------- commute
@access_app.command(help=both("access.cli.commute.help"))
def commute(
    workspace: Path | None = WorkspaceOpt,
    spec: SpecOpt = None,
    threshold: ThresholdOpt = None,
    out: CommuteOut = Path("cocity-access-commute"),
) -> None:
    """Commuting circles of the spec's cores on the workspace's county-level units."""
    lang = current_lang()
    with _errors():
        if spec is not None and not spec.is_file():
            raise AccessInputError(t("access.net.err.no_file", path=str(spec)))
        sp = copy.deepcopy(load_regional_spec(spec))
        if threshold is not None:
            sp["threshold_minutes"] = threshold
        with progress_bar(bar=False) as bar:
            task = bar.add_task(t("access.cli.step.network"), total=None)
            store = open_store(workspace)
            try:
                c = build_commute(store, sp, source=str(spec) if spec else
                                  "cocity.access/regional_chengyu.yaml")
            finally:
                store.close()
            bar.update(task, description=t("access.cli.step.write"))
            paths = write_commute_outputs(c, out, lang=lang)
    _print_commute(c, paths, lang)


def _print_commute(c: Commute, paths: dict[str, Path], lang: str) -> None:
    table = Table(title=escape(t("access.cli.commute.term_title", lang,
                                 threshold=c.threshold, n=len(c.table))),
                  title_justify="left")
    table.add_column(t("access.cli.commute.col.circle", lang))
    table.add_column(t("access.cli.commute.col.units", lang), justify="right")
    counts = c.table["circle"].value_counts()
    for key in ("both", "first", "second", "none"):
        if key in counts.index:
            table.add_row(escape(c.circle_label(key, lang)), str(int(counts[key])))
    console.print(table)
    console.print(f"[yellow]※ {escape(t('access.cli.commute.term_modelled', lang))}[/]")
    _print_files(paths, lang)


def _print_files(paths: dict[str, Path], lang: str) -> None:
    html = paths["html"]
    console.print(f"{t('access.cli.term.report', lang)}: [green]{escape(str(html))}[/] "
                  f"({t('profile.term.size', lang, mb=html.stat().st_size / 1e6)})")
    others = [str(p) for k, p in paths.items() if k in ("csv", "xlsx", "gpkg", "manifest")]
    csvs = [p for k, p in paths.items() if k.startswith("csv:")]
    if csvs:
        others.append(f"{csvs[0].parent}/*.csv ({len(csvs)})")
    console.print(f"{t('access.cli.term.files', lang)}: {escape(' · '.join(others))}")


# ---------------------------------------------------------------------- lifecircle
def read_network(path: Path, nodes: Path | None = None, crs: str | None = None) -> Network:
    """A walk network from an edge table (CSV/Parquet, with ``--nodes`` or edge geometries), a
    line layer (GeoPackage, GeoJSON, Shapefile) or an OpenStreetMap file (PBF/XML)."""
    from cocity.access.network import Network  # numba: loaded only when routing

    if not path.is_file():
        raise AccessInputError(t("access.net.err.no_file", path=str(path)))
    suffix = path.suffix.lower()
    if suffix in NETWORK_TABLES:
        return Network.from_edges(path, nodes, profile="walk", crs=crs)
    if suffix in NETWORK_LINES:
        return Network.from_lines(path, profile="walk", crs=crs)
    if suffix in NETWORK_OSM or path.name.lower().endswith(".osm.pbf"):
        return Network.from_osm(path, profile="walk")
    raise AccessInputError(t("access.cli.err.network_format", path=str(path)))


def read_points(path: Path, what: str) -> pd.DataFrame:
    """Points from CSV (``x``/``y`` or ``lon``/``lat``), Parquet or a vector layer."""
    if not path.is_file():
        raise AccessInputError(t("access.net.err.no_file", path=str(path)))
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".parquet", ".pq", ".geoparquet"):
        from cocity.access.network import read_table

        return read_table(path)
    if suffix in NETWORK_LINES:
        import geopandas as gpd

        return gpd.read_file(path, engine="pyogrio")
    raise AccessInputError(t("access.cli.err.points_format", path=str(path),
                             what=t(f"access.lc.what.{what}")))


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
) -> None:
    """15-minute life circles (GB 50180-2018) of homes on a street network."""
    from cocity.access.life_circles import life_circles, load_spec
    from cocity.report.access_report import write_lifecircle_outputs

    lang = current_lang()
    with _errors():
        sp = load_spec(spec)
        with progress_bar(bar=False) as bar:
            task = bar.add_task(t("access.cli.step.network"), total=None)
            raw = read_network(network, nodes, crs)
            net, report = raw.largest_component("weak")
            extra: list[tuple[str, str]] = []
            if report.dropped_nodes:
                extra.append((t("access.cli.lc.note.component", "zh", n=report.dropped_nodes,
                                kept=report.kept_nodes),
                              t("access.cli.lc.note.component", "en", n=report.dropped_nodes,
                                kept=report.kept_nodes)))
            bar.update(task, description=t("access.cli.step.points"))
            hm = read_points(homes, "homes")
            fc = read_points(facilities, "facilities")
            bar.update(task, description=t("access.cli.step.search"))
            res = life_circles(net, hm, fc, spec=sp, max_snap=max_snap, crs=crs)
            bar.update(task, description=t("access.cli.step.write"))
            inputs = {"network": str(network), "homes": str(homes),
                      "facilities": str(facilities)}
            if nodes is not None:
                inputs["nodes"] = str(nodes)
            paths = write_lifecircle_outputs(res, net, out, inputs=inputs, lang=lang,
                                             extra_notes=extra)
    _print_lifecircle(res, paths, lang, [zh if lang == "zh" else en for zh, en in extra])


def _print_lifecircle(res: LifeCircles, paths: dict[str, Path], lang: str,
                      extra: list[str]) -> None:
    from cocity.report.access_report import finest_level

    table = Table(title=escape(t("access.cli.lc.term_title", lang, homes=len(res.homes),
                                 standard=res.spec.standard)), title_justify="left")
    table.add_column(t("access.cli.lc.col.level", lang))
    table.add_column(t("access.cli.lc.col.walk_m", lang), justify="right")
    table.add_column(t("access.cli.lc.col.population", lang), justify="right")
    table.add_column(t("access.cli.lc.col.share", lang), justify="right")
    summary = res.summary()
    for lv, pop, share in zip(res.spec.levels, summary["population"].to_numpy(float),
                              summary["share"].to_numpy(float), strict=True):
        text = "—" if np.isnan(share) else f"{100 * share:.1f}%"
        table.add_row(escape(lv.name(lang)), f"{lv.walk_m:g}", f"{pop:,.0f}", text)
    console.print(table)
    gaps = res.gaps.groupby("type")["population"].sum().sort_values(ascending=False).head(5)
    if len(gaps):
        console.print(t("access.cli.lc.term_gaps", lang, gaps="; ".join(
            f"{res.spec.type_name(str(k), lang)} {v:,.0f}" for k, v in gaps.items())))
    counts = finest_level(res).value_counts()
    console.print(t("access.cli.lc.term_uncovered", lang, n=int(counts.get("none", 0))))
    for n in res.notes:
        console.print(f"[yellow]※ {escape(n.text(lang))}[/]")
    for text in extra:
        console.print(f"[yellow]※ {escape(text)}[/]")
    _print_files(paths, lang)

