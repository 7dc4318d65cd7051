"""``cocity init``, ``cocity units`` and ``cocity indicators``: create and browse a workspace.

``units`` and ``indicators`` open the workspace read-only (several may run at once, and never
while an import writes). Each listing says which set it covers: how many units of which level,
by membership and by province, and which membership filter applies. Only light modules are
imported here; the data layer is loaded by the command that runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from cocity.cli import app, console, fail
from cocity.data.errors import CocityError
from cocity.i18n import current_lang, t

if TYPE_CHECKING:
    import pandas as pd

WorkspaceOpt = typer.Option(
    None, "--workspace", "-w",
    help="工作区目录（缺省为内置成渝数据集）/ workspace folder (default: the embedded dataset)")
LEVELS = ("province", "prefecture", "county")  # cocity.data.schema.LEVELS, in display order
MEMBERSHIPS = ("full", "partial", "outside")


@app.command(help="创建工作区 / Create a workspace: an embedded dataset, a city cluster cut "
                  "from the national base, or empty.")
def init(
    path: Path = typer.Argument(..., help="新工作区目录 / folder of the new workspace"),
    dataset: str = typer.Option("chengyu", help="预装数据集，none 为空 / dataset to load, or none"),
    cluster: str | None = typer.Option(
        None, help="城市群代号或定义文件（见 cocity clusters），取自全国底库 / cluster key or "
                   "definition file (see cocity clusters), cut from the national base"),
    units_file: Path | None = typer.Option(
        None, "--units", help="自定义城市群：地级单元名称或代码清单文件，第一个为核心城市 / "
                             "your own cluster: a file of prefecture names or codes, the "
                             "first one its core city"),
    name: str | None = typer.Option(None, help="自定义城市群的名称 / name of your own cluster"),
) -> None:
    """``cocity init``: a workspace preloaded with an embedded dataset, a cluster or nothing."""
    from cocity.data.store import DB_NAME

    if (path / DB_NAME).exists():
        raise typer.BadParameter(t("cli.init.exists", path=path))
    if cluster is not None and units_file is not None:
        raise typer.BadParameter(t("cli.init.cluster_or_units"), param_hint="--units")
    if cluster is not None or units_file is not None:
        _init_cluster(path, cluster, units_file, name)
        return
    _init_dataset(path, dataset)


def _init_dataset(path: Path, dataset: str) -> None:
    from cocity.data.store import DB_NAME, Store
    from cocity.datasets import dataset_dir, load_into

    try:
        if dataset != "none":
            dataset_dir(dataset)  # an unknown name is refused before anything is created
        store = Store.open(path, create=True)
    except CocityError as exc:
        raise fail(exc) from None
    try:
        if dataset != "none":
            load_into(store, dataset)
        loaded = store.units()
    except BaseException as exc:
        store.close()
        (path / DB_NAME).unlink(missing_ok=True)
        if isinstance(exc, CocityError):
            raise fail(exc) from None
        raise
    store.close()
    console.print(t("cli.init.done", path=path, dataset=dataset))
    for line in unit_summary(loaded, loaded, None)[:-1] or [t("cli.init.empty")]:
        console.print(escape(line))


def _init_cluster(path: Path, ref: str | None, units_file: Path | None,
                  name: str | None) -> None:
    """``cocity init WS --cluster KEY`` / ``--units FILE``: the cluster cut from the national
    base, its regional network and its evaluation framework (``WS/framework.yaml``)."""
    from cocity.cli import progress_bar
    from cocity.clusters.build import cluster_data, load_cluster_into
    from cocity.clusters.definition import load_cluster, read_units_file, user_cluster
    from cocity.clusters.framework import cluster_framework
    from cocity.data.store import DB_NAME, Store
    from cocity.evaluate.framework import FRAMEWORK_FILE, load_framework
    from cocity.outputs import write_atomic

    lang = current_lang()
    try:
        with progress_bar(bar=False) as bar:
            bar.add_task(t("cli.init.cutting"), total=None)
            if units_file is not None:
                c = user_cluster(read_units_file(units_file), key=units_file.stem,
                                 name_zh=name, name_en=name, source=str(units_file))
            else:
                c = load_cluster(str(ref))
            data = cluster_data(c)
            cf = cluster_framework(data)
            store = Store.open(path, create=True)
    except CocityError as exc:
        raise fail(exc) from None
    try:
        load_cluster_into(store, data)
        write_atomic(cf.text, path / FRAMEWORK_FILE)
        loaded = store.units()
    except BaseException as exc:
        store.close()
        (path / DB_NAME).unlink(missing_ok=True)
        (path / FRAMEWORK_FILE).unlink(missing_ok=True)
        if isinstance(exc, CocityError):
            raise fail(exc) from None
        raise
    store.close()
    console.print(t("cli.init.cluster_done", path=path, cluster=c.name(lang)))
    doc = c.spec.document
    if doc is not None:
        console.print(escape(t("cli.init.document", title=doc.title_zh if lang == "zh" else (
            doc.title_en or doc.title_zh), date=doc.date.isoformat())))
    for line in unit_summary(loaded, loaded, None)[:-1]:
        console.print(escape(line))
    for a in c.spec.absent:
        console.print(escape(t("cli.init.absent", name=getattr(a, f"name_{lang}"),
                               reason=getattr(a, f"reason_{lang}"))))
    cores = "、".join(str(v[f"name_{lang}"]) for v in data.network["cores"].values())
    console.print(escape(t("cli.init.network", cores=cores) + " " + (
        t("cli.init.rail") if c.spec.rail else t("clusters.no_rail"))))
    for x in cf.left_out:
        console.print(escape(t("cli.init.left_out", name=getattr(x, f"name_{lang}"),
                               indicator=x.indicator, n=x.covered, of=x.members)))
    if (gap := cf.no_previous) is not None:
        console.print(escape(t("clusters.fw.no_previous", year=load_framework().previous,
                               name=getattr(gap, f"name_{lang}"), indicator=gap.indicator,
                               n=gap.covered, of=gap.members)))
    console.print(t("cli.init.next", path=path))


def _label(prefix: str, value: object) -> str:
    """The label of a coded value (the value itself when it has none: a workspace may name its
    own metropolitan areas), or an empty cell when the value is missing."""
    if not isinstance(value, str) or not value:
        return ""
    from cocity.i18n import labels

    key = f"{prefix}.{value}"
    return t(key) if key in labels() else value


def _count(n: int, level: str) -> str:
    name = t(f"level.{level}")
    return t("cli.units.count", n=n, what=name.lower() if current_lang() == "en" else name)


def unit_summary(df: pd.DataFrame, everything: pd.DataFrame, membership: str | None) -> list[str]:
    """Lines saying which units a listing covers: per level, the count by membership and by
    province (``16 个地级单元：全域纳入 12、部分纳入 4；四川省 15、重庆市 1``), and the
    membership filter in force."""
    names = everything.set_index("code")["name_zh" if current_lang() == "zh" else "name_en"]
    parents = everything.set_index("code")["parent"]
    lines = []
    for level in LEVELS:
        at = df[df["level"] == level]
        if at.empty:
            continue
        by_membership = [f"{_label('membership', m)} {int((at['membership'] == m).sum())}"
                         for m in MEMBERSHIPS if (at["membership"] == m).any()]
        inside = int(at["membership"].isin(["full", "partial"]).sum())
        suffix = (t("cli.units.inside", n=inside) if (at["membership"] == "partial").any()
                  else "")
        unspecified = int(at["membership"].isna().sum())
        if unspecified:
            by_membership.append(f"{t('cli.units.unspecified')} {unspecified}")
        provinces: dict[str, list[str]] = {}
        for code in at["code"]:
            top = _province_of(str(code), parents, level)
            label = str(names.get(top, top)) if top else t("cli.units.unspecified")
            provinces.setdefault(label, []).append(str(code))
        by_province = [f"{p} {len(c)}" + (f" ({c[0]})" if len(c) == 1 and level != "province"
                                          else "") for p, c in provinces.items()]
        sep = "、" if current_lang() == "zh" else ", "
        lines.append(t("cli.units.summary", what=_count(len(at), level),
                       membership=sep.join(by_membership) + suffix,
                       provinces=sep.join(by_province)))
    scope = (t("cli.units.scope_all") if membership is None
             else t("cli.units.scope", membership=_label("membership", membership)))
    lines.append(scope)
    return lines


def _province_of(code: str, parents: pd.Series, level: str) -> str | None:
    """The province-level ancestor of a unit (itself for a province)."""
    if level == "province":
        return code
    seen = set()
    current: object = code
    while isinstance(current, str) and current in parents.index and current not in seen:
        seen.add(current)
        parent = parents.get(current)
        if not isinstance(parent, str) or not parent:
            return current if current != code else None
        current = parent
    return current if isinstance(current, str) else None


@app.command()
def units(
    workspace: Path | None = WorkspaceOpt,
    level: str | None = typer.Option(None, help="province | prefecture | county"),
    membership: str | None = typer.Option(None, help="full | partial | outside"),
) -> None:
    """列出行政单元，并说明所列范围 / List administrative units and say which set is listed."""
    from cocity.datasets import open_store

    lang = current_lang()
    if level is not None and level not in LEVELS:
        raise typer.BadParameter(" | ".join(LEVELS), param_hint="--level")
    if membership is not None and membership not in MEMBERSHIPS:
        raise typer.BadParameter(" | ".join(MEMBERSHIPS), param_hint="--membership")
    try:
        store = open_store(workspace, read_only=True)
        try:
            everything = store.units()
            df = store.units(level=level, membership=membership)
        finally:
            store.close()
    except CocityError as exc:
        raise fail(exc) from None
    table = Table(title=f"{t('cli.units.title')} ({len(df)})")
    for key in ("col.code", "col.name", "col.level", "col.parent", "col.membership",
                "col.tier", "col.metro"):
        table.add_column(t(key))
    for r in df.to_dict("records"):
        table.add_row(
            str(r["code"]), escape(str(r[f"name_{lang}"])), _label("level", r["level"]),
            r["parent"] if isinstance(r["parent"], str) else "",
            _label("membership", r["membership"]), _label("tier", r["tier"]),
            escape(_label("metro", r["metro"])),
        )
    console.print(table)
    for line in unit_summary(df, everything, membership):
        console.print(escape(line))


def direction_label(direction: object) -> str:
    """正向 / 逆向 / 描述性 (benefit / cost / descriptive) for a catalog direction."""
    key = {1: "benefit", -1: "cost", 0: "descriptive"}.get(int(str(direction)), "descriptive")
    return t(f"direction.{key}")


@app.command()
def indicators(workspace: Path | None = WorkspaceOpt) -> None:
    """列出指标目录 / List the indicator catalog."""
    from cocity.datasets import open_store

    lang = current_lang()
    try:
        store = open_store(workspace, read_only=True)
        try:
            cat = store.catalog()
        finally:
            store.close()
    except CocityError as exc:
        raise fail(exc) from None
    table = Table(title=f"{t('cli.indicators.title')} ({len(cat)})")
    for key in ("col.id", "col.name", "col.unit_of_measure", "col.direction"):
        table.add_column(t(key))
    table.add_column(t("col.source"), max_width=40, no_wrap=True, overflow="ellipsis")
    for r in cat.to_dict("records"):
        unit = r[f"unit_{lang}"]
        table.add_row(str(r["id"]), escape(str(r[f"name_{lang}"])),
                      escape(unit if isinstance(unit, str) else ""),
                      direction_label(r["direction"]), escape(str(r["source"])))
    console.print(table)
    counts = cat["direction"].astype(int).value_counts()
    console.print(t("cli.indicators.summary", n=len(cat), benefit=int(counts.get(1, 0)),
                    cost=int(counts.get(-1, 0)), descriptive=int(counts.get(0, 0))))
