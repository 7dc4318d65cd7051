"""``cocity plan pair``: 结对帮扶 — the optimal pairing of helpers and helped units, the text's
proposal scored on the same objective and the optimum on the text's own set
(:mod:`cocity.plan.pairing_run`, :mod:`cocity.plan.pairing_report`; ``docs/planning.md``).

The command parses and prints only; the computation and the files are :mod:`cocity.plan`,
imported inside the command. Exit codes: 0 done, 2 a request refused (nothing written).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cocity.cli import console, err_console, refused
from cocity.cli.plan import plan_app, working
from cocity.cli.workspace import WorkspaceOpt
from cocity.data.errors import CocityError
from cocity.i18n import both, current_lang, t

SEPARATORS = re.compile(r"[,，、;；]")


class CapacityTextError(CocityError, ValueError):
    """``--capacity`` that is not one whole number or a comma-separated list of them."""


def split_names(text: str | None) -> list[str]:
    """``成都,重庆，德阳`` → the names (ASCII or full-width commas, 、 or semicolons)."""
    if text is None:
        return []
    return [p.strip() for p in SEPARATORS.split(text) if p.strip()]


def parse_capacity(text: str | None) -> list[int] | None:
    """``2`` or ``2,2,1`` → the capacities; anything else is refused."""
    if text is None:
        return None
    parts = split_names(text)
    if not parts or not all(p.isdigit() for p in parts):
        raise CapacityTextError(t("plan.pair.err.capacity_text", text=text))
    return [int(p) for p in parts]


@plan_app.command("pair", help=both("plan.pair.cli.help"))
def pair_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help=both("plan.pair.cli.opt.out"))],
    helpers: Annotated[str | None, typer.Option(
        "--helpers", help=both("plan.pair.cli.opt.helpers"), show_default=False)] = None,
    helped: Annotated[str | None, typer.Option(
        "--helped", help=both("plan.pair.cli.opt.helped"), show_default=False)] = None,
    capacity: Annotated[str | None, typer.Option(
        "--capacity", help=both("plan.pair.cli.opt.capacity"), show_default=False)] = None,
    level: Annotated[str, typer.Option(
        "--level", help=both("plan.pair.cli.opt.level"))] = "prefecture",
    year: Annotated[int | None, typer.Option(
        "--year", help=both("plan.pair.cli.opt.year"), show_default=False)] = None,
    run: Annotated[Path | None, typer.Option(
        "--run", help=both("plan.pair.cli.opt.run"), show_default=False)] = None,
    time_weight: Annotated[float, typer.Option(
        "--time-weight", help=both("plan.pair.cli.opt.time_weight"))] = 2.0,
    with_survey: Annotated[bool, typer.Option(
        "--with-survey", help=both("plan.pair.cli.opt.with_survey"))] = False,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    with refused():
        from cocity.plan.pairing_report import write_pairing
        from cocity.plan.pairing_run import run_pairing

        caps = parse_capacity(capacity)
        with working("pair", workspace) as store:
            result = run_pairing(store, helpers=split_names(helpers) or None,
                                 helped=split_names(helped) or None, capacity=caps,
                                 level=level, year=year, run=run, time_weight=time_weight,
                                 with_survey=with_survey)
        lang = current_lang()
        opt = result.optimum
        table = Table(title=t("plan.pair.cli.title", objective=f"{opt.pairing.objective:.2f}"))
        for col in ("helper", "helped", "benefit", "minutes", "value", "forms"):
            key = {"helper": f"helper_{lang}", "helped": f"helped_{lang}",
                   "forms": f"forms_{lang}"}.get(col, col)
            table.add_column(t(f"plan.pair.col.{key}"),
                             justify="right" if col in ("benefit", "minutes", "value") else "left")
        for rec in opt.pairs.to_dict("records"):
            table.add_row(escape(str(rec[f"helper_{lang}"])), escape(str(rec[f"helped_{lang}"])),
                          f"{rec['benefit']:.2f}", f"{rec['minutes']:.0f}",
                          f"{rec['value']:.2f}", escape(str(rec[f"forms_{lang}"])))
        console.print(table)
        if result.text is not None and result.text_optimum is not None:
            a, b = result.text.pairing.objective, result.text_optimum.pairing.objective
            console.print(t("plan.pair.cli.compare", text=f"{a:.2f}", best=f"{b:.2f}",
                            gap=f"{b - a:.2f}"))
        for note in result.notes:
            console.print(f"• {escape(note[0] if lang == 'zh' else note[1])}")
        if result.simulated:
            err_console.print(escape("⚠ " + t("plan.pair.cli.simulated")))
        paths = write_pairing(result, out, store=store, lang=lang)
        console.print(escape(t("plan.pair.cli.written", path=str(paths["html"]))))
