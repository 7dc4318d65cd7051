"""``cocity profile``: a terminal summary and a self-contained bilingual HTML data profile."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from cocity.cli import app, console, progress_bar
from cocity.cli.workspace import WorkspaceOpt
from cocity.i18n import both, current_lang, t

if TYPE_CHECKING:
    from cocity.report.profile import Profile

DEFAULT_OUT = Path("cocity-profile.html")
# Progress steps: opening the store, the five stages of build_profile, rendering.
_STEPS = 7


class MapLevel(StrEnum):
    county = "county"
    prefecture = "prefecture"


IndicatorOpt = typer.Option(None, "--indicator", "-i", help=both("profile.cli.opt.indicator"))
YearOpt = typer.Option(None, "--year", "-y", help=both("profile.cli.opt.year"))
LevelOpt = typer.Option(None, "--level", help=both("profile.cli.opt.level"))
OutOpt = typer.Option(DEFAULT_OUT, "--out", "-o", help=both("profile.cli.opt.out"))


@app.command(help=both("profile.cli.help"))
def profile(
    workspace: Path | None = WorkspaceOpt,
    indicator: str | None = IndicatorOpt,
    year: int | None = YearOpt,
    level: MapLevel | None = LevelOpt,
    out: Path = OutOpt,
) -> None:
    """Profile a workspace: terminal summary and one self-contained bilingual HTML page."""
    from cocity.datasets import open_store
    from cocity.report.profile import build_profile
    from cocity.report.render import render_profile_html

    lang = current_lang()
    progress = progress_bar()
    with progress:
        task = progress.add_task(t("profile.step.read", lang), total=_STEPS)

        def step(key: str) -> None:
            progress.update(task, description=t(key, lang), advance=1)

        store = open_store(workspace, read_only=True)
        try:
            prof = build_profile(store, indicator, year, level.value if level else None,
                                 on_step=step)
        finally:
            store.close()
        step("profile.step.render")
        path = render_profile_html(prof, out, lang=lang)
        progress.update(task, completed=_STEPS)
    print_summary(prof, path, lang)


def print_summary(prof: Profile, path: Path, lang: str) -> None:
    """The terminal summary: units, indicators, years, observations, coverage, output."""
    title = prof.title_zh if lang == "zh" else prof.title_en
    units = Table(title=t("profile.term.units_title", lang), title_justify="left")
    units.add_column(t("col.level", lang))
    labels = {"total": "profile.membership.total", "unspecified": "profile.membership.unspecified"}
    for col in prof.unit_counts.columns:
        units.add_column(t(labels.get(col, f"membership.{col}"), lang), justify="right")
    for lv, row in prof.unit_counts.iterrows():
        units.add_row(t(f"level.{lv}", lang), *(f"{int(v):,}" for v in row))

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")  # paths are never cut short
    facts.add_row(t("profile.term.units", lang), f"{len(prof.units):,}")
    facts.add_row(t("profile.term.indicators", lang), f"{len(prof.catalog):,}")
    facts.add_row(t("profile.term.years", lang), ", ".join(map(str, prof.years)))
    facts.add_row(t("profile.term.observations", lang), t(
        "profile.term.observations_value", lang, values=f"{prof.n_values:,}",
        total=f"{prof.n_observations:,}", simulated=f"{prof.n_simulated:,}",
        imputed=f"{prof.n_imputed:,}"))
    facts.add_row(t("profile.term.fill_rate", lang), f"{prof.fill_rate:.1%}")
    worst = prof.missingness[prof.missingness["missing"] > 0].sort_values(
        "missing_share", ascending=False, kind="stable").head(3)
    facts.add_row(t("profile.term.most_missing", lang), "; ".join(
        escape(f"{prof.indicator_name(str(i), lang)} ({r.missing_share:.0%})")
        for i, r in worst.iterrows())
        or t("profile.term.none_missing", lang))
    vm = prof.choropleth
    level = t(f"level.{vm.level}", lang)
    facts.add_row(t("profile.term.map", lang), escape(
        f"{prof.indicator_name(vm.indicator, lang)} [{vm.indicator}], {vm.year}, {level}"))
    facts.add_row(t("profile.term.datum", lang), prof.datum)
    size = path.stat().st_size / 1e6
    facts.add_row(t("profile.term.written", lang),
                  f"[green]{escape(str(path))}[/] ({t('profile.term.size', lang, mb=size)})")

    console.print(Panel(facts, title=t("profile.term.title", lang, name=title),
                        title_align="left", border_style="blue"))
    console.print(units)
    if prof.n_simulated:
        console.print(f"[yellow]{t('profile.term.simulated_warning', lang, n=prof.n_simulated)}[/]")
