"""``cocity plan map``: the one planning map (规划一张图) — the project register and the map
layers of planning output folders on one page (:mod:`cocity.plan.planmap`, imported inside the
command).

Exit codes: 0 done, 2 a request refused (nothing written)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cocity.cli import console, err_console, refused
from cocity.cli.plan import plan_app, working
from cocity.cli.workspace import WorkspaceOpt
from cocity.i18n import both, current_lang, t


@plan_app.command("map", help=both("plan.map.cli.help"))
def map_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help=both("plan.map.cli.opt.out"))],
    sources: Annotated[list[Path] | None, typer.Option(
        "--from", help=both("plan.map.cli.opt.from"), show_default=False)] = None,
    projects: Annotated[Path | None, typer.Option(
        "--projects", help=both("plan.map.cli.opt.projects"), show_default=False)] = None,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    lang = current_lang()
    with refused():
        from cocity.plan.planmap import build_map, layers_table, write_map

        with working("map", workspace) as store:
            m = build_map(store, sources=sources or [], projects=projects)
            paths = write_map(m, out, store=store, lang=lang)
    table = Table(title=t("plan.map.cli.title"))
    for col in ("layer", "label_zh" if lang == "zh" else "label_en", "features", "flag",
                "source"):
        table.add_column(t(f"plan.map.col.{col}"))
    for row in layers_table(m).itertuples(index=False):
        flag = t("plan.page.flag." + str(row.flag)) if row.flag else ""
        label = row.label_zh if lang == "zh" else row.label_en
        table.add_row(escape(str(row.layer)), escape(str(label)), str(row.features), flag,
                      escape(str(row.source)))
    console.print(table)
    flags = sorted({x.flag for x in m.layers if x.flag})
    if flags:
        err_console.print(escape("⚠ " + t("plan.map.notice", flags=", ".join(
            t(f"plan.page.flag.{f}") for f in flags))))
    console.print(t("plan.map.cli.written", path=escape(str(paths["html"]))))
