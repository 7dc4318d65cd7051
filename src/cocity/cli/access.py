"""``cocity access commute|lifecircle|measure``: 1-hour commuting circles on a workspace (with
``--flows``, also by the commuting share of origin–destination data), 15-minute life circles on
a street network, and the accessibility measures of :mod:`cocity.access.measures` (the 2SFCA
family, gravity, cumulative opportunities, nearest k) on a user's cost table or street network,
each written as tables, a GeoPackage where there are areas, a manifest and a bilingual HTML
report.

Exit codes: 0 on success, 2 when a specification, a file or a parameter cannot be used (the
message says which).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from cocity.access.decay import DECAYS
from cocity.access.errors import AccessInputError
from cocity.access.regional import load_spec as load_regional_spec
from cocity.cli import app, console, err_console, progress_bar
from cocity.cli.workspace import WorkspaceOpt
from cocity.data.errors import AmbiguousUnitError, CocityError, UnitNotFoundError
from cocity.data.store import Store
from cocity.datasets import open_store
from cocity.i18n import both, current_lang, t
from cocity.report.access_report import (
    MEASURE_METHODS,
    Commute,
    build_commute,
    write_commute_outputs,
)

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
FlowsOpt = Annotated[Path | None, typer.Option("--flows", help=both("access.cli.opt.flows"),
                                               show_default=False)]
ShareOpt = Annotated[float, typer.Option("--share-threshold",
                                         help=both("access.cli.opt.share_threshold"))]

DECAY_NAMES = tuple(DECAYS)
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
    flows: FlowsOpt = None,
    share_threshold: ShareOpt = 0.10,
    out: CommuteOut = Path("cocity-access-commute"),
) -> None:
    """Commuting circles of the spec's cores on the workspace's county-level units; with
    ``--flows`` also the circles by commuting share."""
    lang = current_lang()
    with _errors():
        if spec is not None and not spec.is_file():
            raise AccessInputError(t("access.net.err.no_file", path=str(spec)))
        if flows is not None and not 0 < share_threshold <= 1:
            raise AccessInputError(t("access.cli.commute.err.share_threshold",
                                     value=share_threshold))
        sp = copy.deepcopy(load_regional_spec(spec))
        if threshold is not None:
            sp["threshold_minutes"] = threshold
        with progress_bar(bar=False) as bar:
            task = bar.add_task(t("access.cli.step.network"), total=None)
            store = open_store(workspace, read_only=True)
            try:
                od = None if flows is None else read_flows(flows, store)
                c = build_commute(store, sp, source=str(spec) if spec else
                                  "cocity.access/regional_chengyu.yaml", flows=od,
                                  share_threshold=share_threshold,
                                  flows_source=str(flows) if flows else "")
            finally:
                store.close()
            bar.update(task, description=t("access.cli.step.write"))
            paths = write_commute_outputs(c, out, lang=lang)
    _print_commute(c, paths, lang)


FLOW_COLUMNS = ("origin", "destination", "commuters")


def _row_list(rows: list[int], most: int = 10) -> str:
    text = ", ".join(str(r) for r in rows[:most])
    return text + (", …" if len(rows) > most else "")


def read_flows(path: Path, store: Store) -> pd.DataFrame:
    """Commuting OD data from CSV or XLSX: ``origin``, ``destination`` (codes or names of
    county-level units, resolved with the store's name matching) and ``commuters``.

    Returns ``row`` (the spreadsheet row, header = row 1), ``origin_input``,
    ``destination_input``, ``origin``, ``destination`` (codes) and ``commuters``. Every name
    that names no county-level unit, or more than one, is reported at once with its rows."""
    if not path.is_file():
        raise AccessInputError(t("access.net.err.no_file", path=str(path)))
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    elif suffix in (".xlsx", ".xlsm"):
        raw = pd.read_excel(path, dtype=str, keep_default_na=False)
    else:
        raise AccessInputError(t("access.cli.commute.err.flows_format", path=str(path)))
    raw.columns = [str(col).strip().lower() for col in raw.columns]
    missing = [col for col in FLOW_COLUMNS if col not in raw.columns]
    if missing:
        raise AccessInputError(t("access.cli.commute.err.flows_columns", path=str(path),
                                 columns=", ".join(missing)))
    rows = np.arange(len(raw)) + 2
    counts = pd.to_numeric(raw["commuters"].str.strip(), errors="coerce")
    bad = (counts.isna() | (counts < 0)).to_numpy()
    if bad.any():
        raise AccessInputError(t("access.cli.commute.err.flows_values", path=str(path),
                                 n=int(bad.sum()), rows=_row_list(rows[bad].tolist())))
    codes: dict[str, str | None] = {}
    ambiguous: set[str] = set()
    failed: dict[tuple[str, str], list[int]] = {}
    resolved: dict[str, list[str]] = {}
    for column in ("origin", "destination"):
        out = []
        for row, value in zip(rows, raw[column].astype(str).str.strip(), strict=True):
            if value not in codes:
                try:
                    codes[value] = store.resolve(value, level="county") if value else None
                except AmbiguousUnitError:
                    codes[value] = None
                    ambiguous.add(value)
                except UnitNotFoundError:
                    codes[value] = None
            code = codes[value]
            if code is None:
                failed.setdefault((column, value), []).append(int(row))
            out.append(code or "")
        resolved[column] = out
    if failed:
        items = [t("access.cli.commute.err.flows_item", column=column,
                   name=name or t("access.cli.commute.err.empty_name"), rows=_row_list(rws),
                   why=t("access.cli.commute.err.ambiguous") if name in ambiguous else "")
                 for (column, name), rws in failed.items()]
        raise AccessInputError(t("access.cli.commute.err.flows_units", path=str(path),
                                 n=len(failed), items="; ".join(items)))
    return pd.DataFrame({"row": rows, "origin_input": raw["origin"].to_numpy(),
                         "destination_input": raw["destination"].to_numpy(),
                         "origin": resolved["origin"], "destination": resolved["destination"],
                         "commuters": counts.to_numpy(float)})


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
    if c.has_shares and c.flows is not None:
        from cocity.report.access_report import commute_comparison, commute_counts

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
    label = t(f"access.lc.what.{what}") if what in ("homes", "facilities") else \
        t(f"access.cli.measure.what.{what}")
    raise AccessInputError(t("access.cli.err.points_format", path=str(path), what=label))


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


def _column(frame: pd.DataFrame, column: str, option: str, what: str, path: Path) -> None:
    if column not in frame.columns:
        raise AccessInputError(t("access.cli.measure.err.column", what=t(
            f"access.cli.measure.what.{what}"), path=str(path), column=column, option=option,
            columns=", ".join(map(str, frame.columns))))


def _first_column(frame: pd.DataFrame, given: str | None, defaults: tuple[str, ...]) -> str:
    if given is not None:
        return given
    return next((c for c in defaults if c in frame.columns), defaults[0])


def _points_table(path: Path, what: str, id_col: str | None, value_col: str,
                  value_name: str, id_option: str, value_option: str,
                  need_ids: bool) -> pd.DataFrame:
    """Demand or supply points with ``id`` (text), ``demand``/``capacity`` and the original
    columns; ids and values are checked, each problem named with its rows."""
    raw = read_points(path, what)
    frame = raw.reset_index(drop=True)
    if len(frame) == 0:
        raise AccessInputError(t("access.cli.measure.err.empty", path=str(path),
                                 what=t(f"access.cli.measure.what.{what}")))
    rows = np.arange(len(frame)) + 2
    label = t(f"access.cli.measure.what.{what}")
    col = id_col or "id"
    if col not in frame.columns and (need_ids or id_col is not None):
        _column(frame, col, id_option, what, path)
    if col in frame.columns:
        ids = frame[col]
        empty = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy()
        if empty.any():
            raise AccessInputError(t("access.cli.measure.err.ids_missing", what=label,
                                     path=str(path), column=col,
                                     n=int(empty.sum()), rows=_row_list(rows[empty].tolist())))
        id_text = ids.astype(str).str.strip()
    else:
        id_text = pd.Series(np.arange(len(frame)).astype(str))
    dup = id_text[id_text.duplicated()].unique().tolist()
    if dup:
        raise AccessInputError(t("access.cli.measure.err.ids_duplicate", what=label,
                                 path=str(path), ids=", ".join(dup[:10])))
    _column(frame, value_col, value_option, what, path)
    values = pd.to_numeric(frame[value_col], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        items = ", ".join(t("access.cli.measure.err.value_item", row=int(r), id=i, value=v)
                          for r, i, v in list(zip(rows[bad], id_text[bad],
                                                  frame[value_col][bad], strict=True))[:10])
        raise AccessInputError(t("access.cli.measure.err.values", what=label, path=str(path),
                                 column=value_col, n=int(bad.sum()), items=items))
    frame = frame.drop(columns=[c for c in {col, "id", value_col, value_name}
                                if c in frame.columns])
    frame.insert(0, "id", id_text.to_numpy())
    frame.insert(1, value_name, values)
    return frame


def _pairs_to_csr(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]
                  ) -> Any:
    """A CSR matrix from distinct (row, column) pairs; stored zeros are kept."""
    from scipy import sparse

    order = np.lexsort((cols, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    out = sparse.csr_matrix((values.astype(float), cols.astype(np.int32), indptr), shape=shape)
    out.has_sorted_indices = True
    return out


def read_cost_table(path: Path, origins: pd.Series, destinations: pd.Series, *,
                    columns: tuple[str, str, str], what: str) -> Any:
    """A long cost table (origin, destination, cost) as a CSR matrix with rows in the order
    of ``origins`` and columns in the order of ``destinations`` (ids as text). Unknown ids,
    missing, non-numeric or negative costs and repeated pairs are refused with their rows."""
    from cocity.access.network import read_table

    if not path.is_file():
        raise AccessInputError(t("access.net.err.no_file", path=str(path)))
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".txt", ".parquet", ".pq"):
        raise AccessInputError(t("access.cli.measure.err.cost_format", path=str(path)))
    table = read_table(path)
    o_col, d_col, c_col = columns
    for col, option in zip(columns, ("--origin-col", "--destination-col", "--cost-col"),
                           strict=True):
        _column(table, col, option, what, path)
    rows = np.arange(len(table)) + 2
    o_ids = table[o_col].astype(str).str.strip().to_numpy()
    d_ids = table[d_col].astype(str).str.strip().to_numpy()
    o_pos = pd.Index(origins).get_indexer(o_ids)
    d_pos = pd.Index(destinations).get_indexer(d_ids)
    problems = []
    for col, ids, pos, kind in ((o_col, o_ids, o_pos, "demand"),
                                (d_col, d_ids, d_pos, "supply" if what == "cost" else "demand")):
        unknown = pos < 0
        if unknown.any():
            first = pd.Series(rows[unknown]).groupby(ids[unknown]).min()
            listed = ", ".join(f"\u201c{i}\u201d ({r})" for i, r in list(first.items())[:10])
            problems.append(t("access.cli.measure.err.unknown_ids_item", column=col,
                              n=len(first), what=t(f"access.cli.measure.what.{kind}"),
                              ids=listed + (", …" if len(first) > 10 else "")))
    if problems:
        raise AccessInputError(t("access.cli.measure.err.unknown_ids", path=str(path),
                                 items="; ".join(problems)))
    cost = pd.to_numeric(table[c_col], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(cost) | (cost < 0)
    if bad.any():
        raise AccessInputError(t("access.cli.measure.err.cost_values", path=str(path),
                                 column=c_col, n=int(bad.sum()),
                                 rows=_row_list(rows[bad].tolist())))
    pair = pd.Series(o_pos.astype(np.int64) * len(destinations) + d_pos)
    dup = pair.duplicated(keep=False).to_numpy()
    if dup.any():
        raise AccessInputError(t("access.cli.measure.err.cost_duplicates", path=str(path),
                                 n=int(dup.sum()), rows=_row_list(rows[dup].tolist())))
    return _pairs_to_csr(o_pos, d_pos, cost, (len(origins), len(destinations)))


def _has_coords(*frames: pd.DataFrame) -> str | None:
    if all({"x", "y"} <= set(f.columns) for f in frames):
        return "xy"
    if all({"lon", "lat"} <= set(f.columns) for f in frames):
        return "lonlat"
    return None


def _route(router: Any, origins: Any, o_leg: np.ndarray, destinations: Any,
           d_leg: np.ndarray, cutoff: float | None, shape: tuple[int, int]) -> Any:
    """Node-to-node costs between snapped points (several points may share a node), plus the
    legs from each point to its node; pairs of points not snapped are absent."""
    o_ok, d_ok = origins.snapped, destinations.snapped
    o_nodes, o_inv = np.unique(origins.node[o_ok], return_inverse=True)
    d_nodes, d_inv = np.unique(destinations.node[d_ok], return_inverse=True)
    if len(o_nodes) == 0 or len(d_nodes) == 0:
        return _pairs_to_csr(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), shape)
    m = router.many_to_many(o_nodes, cutoff, destinations=d_nodes).tocoo()
    od = pd.DataFrame({"r": m.row, "c": m.col, "v": m.data})
    orig = pd.DataFrame({"r": o_inv.ravel(), "i": np.flatnonzero(o_ok)})
    dest = pd.DataFrame({"c": d_inv.ravel(), "j": np.flatnonzero(d_ok)})
    pairs = od.merge(orig, on="r").merge(dest, on="c")
    i = pairs["i"].to_numpy(np.int64)
    j = pairs["j"].to_numpy(np.int64)
    v = pairs["v"].to_numpy(float) + o_leg[i] + d_leg[j]
    return _pairs_to_csr(i, j, v, shape)


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
) -> None:
    """An accessibility measure (2SFCA family, gravity, cumulative, nearest-k) on user files."""
    from cocity.report.access_report import MeasureParams, build_measure, write_measure_outputs

    lang = current_lang()
    with _errors():
        given = {"beta": beta, "sigma": sigma, "h": bandwidth, "d_min": d_min,
                 "breaks": _numbers(breaks, "--breaks"), "weights": _numbers(weights, "--weights"),
                 "closed": closed}
        params = MeasureParams(method, threshold, decay,
                               {p: v for p, v in given.items() if v is not None}, k, how, spar)
        params.check()
        if (cost is None) == (network is None):
            raise AccessInputError(t("access.cli.measure.err.cost_or_network"))
        if network is None and nodes is not None:
            raise AccessInputError(t("access.cli.measure.err.network_only", option="--nodes"))
        if demand_cost is not None and (method != "fca_ratio" or cost is None):
            raise AccessInputError(t("access.cli.measure.err.demand_cost_unused"))
        if method == "fca_ratio" and cost is not None and demand_cost is None:
            raise AccessInputError(t("access.cli.measure.err.demand_cost_needed"))
        if network_cost not in ("minutes", "metres"):
            raise AccessInputError(t("access.cli.measure.err.network_cost", value=network_cost))
        with progress_bar(bar=False) as bar:
            task = bar.add_task(t("access.cli.measure.step.points"), total=None)
            dem = read_points(demand, "demand")
            sup = read_points(supply, "supply")
            dem = _points_table(demand, "demand", demand_id,
                                _first_column(dem, demand_col, ("population", "demand")),
                                "demand", "--demand-id", "--demand-col", cost is not None)
            sup = _points_table(supply, "supply", supply_id,
                                _first_column(sup, capacity_col, ("capacity", "supply")),
                                "capacity", "--supply-id", "--capacity-col", cost is not None)
            inputs = {"demand": str(demand), "supply": str(supply)}
            notes: list[tuple[str, str]] = []
            dd_cost = None
            if cost is not None:
                bar.update(task, description=t("access.cli.measure.step.cost"))
                columns = (origin_col, destination_col, cost_col)
                od = read_cost_table(cost, dem["id"], sup["id"], columns=columns, what="cost")
                if demand_cost is not None:
                    dd_cost = read_cost_table(demand_cost, dem["id"], dem["id"],
                                              columns=columns, what="demand_cost")
                    inputs["demand_cost"] = str(demand_cost)
                inputs["cost"] = str(cost)
                coords = _has_coords(dem, sup)
                if coords == "lonlat":
                    dem = dem.assign(x=dem["lon"], y=dem["lat"])
                    sup = sup.assign(x=sup["lon"], y=sup["lat"])
                run_crs, source, unit = crs, "table", "cost"
            else:
                assert network is not None
                bar.update(task, description=t("access.cli.step.network"))
                net, od, dd_cost, dem, sup, notes = _network_costs(
                    network, nodes, crs, dem, sup, params, network_cost, max_snap,
                    need_demand_cost=method == "fca_ratio")
                inputs["network"] = str(network)
                if nodes is not None:
                    inputs["nodes"] = str(nodes)
                coords, run_crs, source, unit = "xy", net.crs, "network", network_cost
            bar.update(task, description=t("access.cli.measure.step.measure"))
            run = build_measure(od, dem, sup, params, source=source, cost_unit=unit,
                                inputs=inputs, demand_cost=dd_cost, coords=coords, crs=run_crs,
                                notes=notes)
            bar.update(task, description=t("access.cli.step.write"))
            paths = write_measure_outputs(run, out, lang=lang)
    _print_measure(run, paths, lang)


def _numbers(text: str | None, option: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(v) for v in text.replace("，", ",").split(",") if v.strip()]
    except ValueError:
        raise AccessInputError(t("access.cli.measure.err.numbers", option=option,
                                 value=text)) from None


def _network_costs(path: Path, nodes: Path | None, crs: str | None, dem: pd.DataFrame,
                   sup: pd.DataFrame, params: Any, unit: str, max_snap: float, *,
                   need_demand_cost: bool) -> tuple[Any, ...]:
    """Costs on a street network: snap both point sets, route demand → supply (and demand →
    demand for the FCA ratio) within the catchment, add the legs to and from the network."""
    from cocity.access.kernel import Router
    from cocity.access.life_circles import length_graph
    from cocity.access.network import DEFAULT_SPEED_KMH

    raw = read_network(path, nodes, crs)
    net, report = raw.largest_component("weak")
    notes: list[tuple[str, str]] = []
    if report.dropped_nodes:
        notes.append(_note("access.cli.lc.note.component", n=report.dropped_nodes,
                           kept=report.kept_nodes))
    speed = float(net.speeds.get("default", DEFAULT_SPEED_KMH[net.profile]))
    per_metre = 1.0 if unit == "metres" else 60.0 / (speed * 1000.0)
    frames, snaps, legs = [], [], []
    for what, frame in (("demand", dem), ("supply", sup)):
        snap = net.snap(frame, max_snap=max_snap, crs=crs)
        xy = net.point_coords(frame, crs)
        frame = frame.assign(x=xy[:, 0], y=xy[:, 1], snapped=snap.snapped,
                             snap_m=snap.distance)
        far = int((~snap.snapped).sum())
        if far:
            notes.append(_note(f"access.cli.measure.note.far_{what}", n=far, max_snap=max_snap))
        frames.append(frame)
        snaps.append(snap)
        legs.append(snap.distance * per_metre)
    graph = net.csr if unit == "minutes" else length_graph(net)
    router = Router(graph)
    cutoff = params.cutoff()
    od = _route(router, snaps[0], legs[0], snaps[1], legs[1], cutoff, (len(dem), len(sup)))
    dd = _route(router, snaps[0], legs[0], snaps[0], legs[0], cutoff,
                (len(dem), len(dem))) if need_demand_cost else None
    return net, od, dd, frames[0], frames[1], notes


def _note(key: str, **fmt: Any) -> tuple[str, str]:
    return t(key, "zh", **fmt), t(key, "en", **fmt)


def _print_measure(run: Any, paths: dict[str, Path], lang: str) -> None:
    from cocity.report.access_report import STAT_KEYS, measure_stats

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
