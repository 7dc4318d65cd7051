"""``cocity init``, ``cocity units`` and ``cocity indicators``: create and browse a workspace."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from cocity.cli import app, console
from cocity.data.store import DB_NAME, Store
from cocity.datasets import load_into, open_store
from cocity.i18n import current_lang, t

WorkspaceOpt = typer.Option(
    None, "--workspace", "-w",
    help="工作区目录（缺省为内置成渝数据集）/ workspace folder (default: the embedded dataset)")


@app.command()
def init(
    path: Path = typer.Argument(..., help="新工作区目录 / folder of the new workspace"),
    dataset: str = typer.Option("chengyu", help="预装数据集，none 为空 / dataset to load, or none"),
) -> None:
    """创建工作区 / Create a workspace, preloaded with an embedded dataset."""
    if (path / DB_NAME).exists():
        raise typer.BadParameter(t("cli.init.exists", path=path))
    store = Store.open(path, create=True)
    try:
        if dataset != "none":
            load_into(store, dataset)
    except BaseException:
        store.close()
        (path / DB_NAME).unlink(missing_ok=True)
        raise
    store.close()
    console.print(t("cli.init.done", path=path, dataset=dataset))


def _label(prefix: str, value: object) -> str:
    """The label of a coded value, or an empty cell when the value is missing."""
    return t(f"{prefix}.{value}") if isinstance(value, str) and value else ""


@app.command()
def units(
    workspace: Path | None = WorkspaceOpt,
    level: str | None = typer.Option(None, help="province | prefecture | county"),
    membership: str | None = typer.Option(None, help="full | partial | outside"),
) -> None:
    """列出行政单元 / List administrative units."""
    lang = current_lang()
    store = open_store(workspace)
    df = store.units(level=level, membership=membership)
    table = Table(title=f"{t('cli.units.title')} ({len(df)})")
    for key in ("col.code", "col.name", "col.level", "col.parent", "col.membership",
                "col.tier", "col.metro"):
        table.add_column(t(key))
    for r in df.to_dict("records"):
        table.add_row(
            str(r["code"]), str(r[f"name_{lang}"]), _label("level", r["level"]),
            r["parent"] if isinstance(r["parent"], str) else "",
            _label("membership", r["membership"]), _label("tier", r["tier"]),
            _label("metro", r["metro"]),
        )
    console.print(table)


@app.command()
def indicators(workspace: Path | None = WorkspaceOpt) -> None:
    """列出指标目录 / List the indicator catalog."""
    lang = current_lang()
    cat = open_store(workspace).catalog()
    table = Table(title=f"{t('cli.indicators.title')} ({len(cat)})")
    for key in ("col.id", "col.name", "col.unit_of_measure", "col.direction"):
        table.add_column(t(key))
    table.add_column(t("col.source"), max_width=40, no_wrap=True, overflow="ellipsis")
    for r in cat.to_dict("records"):
        table.add_row(str(r["id"]), str(r[f"name_{lang}"]), str(r[f"unit_{lang}"]),
                      "+" if int(r["direction"]) > 0 else "−", str(r["source"]))
    console.print(table)
