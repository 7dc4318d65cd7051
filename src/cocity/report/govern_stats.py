"""The committee's published statistics as a bilingual page (HTML, plotly inline), a print
version (PDF, one per language, charts as static SVG), the tables (CSV, XLSX) and a manifest
(every file with its SHA-256), through the shared report stack (:mod:`cocity.report.render`,
:mod:`cocity.report.pdf`, :mod:`cocity.report.svg`, :mod:`cocity.outputs`).

A register holding simulated cases says so first, on the page, in each PDF and in the
manifest. The figures are :func:`cocity.govern.stats.statistics` (definitions there).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cocity.govern.stats import COLUMNS, COUNTS, DIMENSIONS, GovernStats
from cocity.i18n import LANGS, t

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from cocity.records import Records

STEM = "govern-stats"
FORMATS = ("html", "pdf", "csv", "xlsx")
PERCENT = ("on_time_rate", "resolution_rate")
DAYS = ("median_days", "p90_days")
SHOWN = ("opened", "closed", "closed_on_time", "on_time_rate", "closed_extended",
         "closed_resolved", "resolution_rate", "median_days", "p90_days", "open",
         "overdue_open", "escalated_quarterly", "escalated_leading_group", "returned",
         "withdrawn", "simulated")
# print: each table in two parts that fit a portrait page (closing figures; the rest)
PRINT_PARTS = (SHOWN[:9], SHOWN[9:])
Names = Mapping[str, tuple[str, str]]


def cell(value: Any, column: str) -> str:
    """A figure as shown: counts with thousands separators, rates in percent (1 decimal),
    days with 1 decimal, a missing value as —."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if column in PERCENT:
        return f"{100 * float(value):.1f}%"
    if column in DAYS:
        return f"{float(value):.1f}"
    return f"{int(value):,}"


def unit_names() -> dict[str, tuple[str, str]]:
    """Unit code → (Chinese name, English name) of the embedded dataset."""
    from cocity.datasets import open_store

    units = open_store().units()
    return {str(c): (str(z), str(e)) for c, z, e in
            zip(units["code"], units["name_zh"], units["name_en"], strict=True)}


def group_name(dimension: str, key: str, lang: str, names: Names) -> str:
    """The group's name: the category's or unit's name, the quarter, 总体 overall."""
    from cocity.govern.machine import vocabularies

    if dimension == "overall":
        return t("govern.stats.dim.overall", lang)
    if dimension == "category":
        cats = vocabularies().categories
        return cats[key].text(lang) if key in cats else key
    if dimension == "unit" and key in names:
        return f"{names[key][0 if lang == 'zh' else 1]} ({key})"
    return key


def tables(stats: GovernStats, lang: str, names: Names, *,
           parts: Sequence[Sequence[str]] = (SHOWN,)) -> list[dict[str, Any]]:
    """One table per dimension (and per part of the columns): title, column labels,
    formatted rows."""
    out = []
    for dim in DIMENSIONS:
        part = stats.table[stats.table["dimension"] == dim]
        if part.empty:
            continue
        for k, shown in enumerate(parts):
            rows = [[group_name(dim, str(r["key"]), lang, names),
                     *(cell(r[c], c) for c in shown)] for _, r in part.iterrows()]
            title = t(f"govern.stats.dim.{dim}", lang)
            out.append({"id": dim if k == 0 else f"{dim}-{k + 1}",
                        "title": title if k == 0 else f"{title} ({k + 1})",
                        "columns": [t("govern.stats.col.key", lang),
                                    *(t(f"govern.stats.col.{c}", lang) for c in shown)],
                        "rows": rows})
    return out


def _quarters(stats: GovernStats) -> pd.DataFrame:
    return stats.table[stats.table["dimension"] == "quarter"]


def cases_figure(stats: GovernStats, *, lang: str = "zh") -> go.Figure:
    """Opened, closed and overdue open cases by quarter (lines)."""
    import plotly.graph_objects as go

    q = _quarters(stats)
    fig = go.Figure()
    for col in ("opened", "closed", "overdue_open"):
        fig.add_trace(go.Scatter(x=list(q["key"]), y=list(q[col]), mode="lines+markers",
                                 name=t(f"govern.stats.col.{col}", lang)))
    fig.update_layout(title=t("govern.stats.chart.cases", lang), height=380,
                      xaxis_title=t("govern.stats.chart.quarter", lang),
                      yaxis_title=t("govern.stats.chart.count", lang),
                      margin={"l": 60, "r": 20, "t": 50, "b": 50})
    return fig


def rates_figure(stats: GovernStats, *, lang: str = "zh") -> go.Figure:
    """On-time closure rate and resolution rate by quarter (lines; gaps where nothing closed)."""
    import plotly.graph_objects as go

    q = _quarters(stats)
    fig = go.Figure()
    for col in PERCENT:
        fig.add_trace(go.Scatter(x=list(q["key"]), y=[None if v != v else v for v in q[col]],
                                 mode="lines+markers", name=t(f"govern.stats.col.{col}", lang)))
    fig.update_layout(title=t("govern.stats.chart.rates", lang), height=380,
                      xaxis_title=t("govern.stats.chart.quarter", lang),
                      yaxis={"title": t("govern.stats.chart.rate", lang), "tickformat": ".0%",
                             "range": [0, 1.05]},
                      margin={"l": 60, "r": 20, "t": 50, "b": 50})
    return fig


def _svg_charts(stats: GovernStats, lang: str) -> list[str]:
    from cocity.report.svg import line_chart_svg

    q = _quarters(stats)
    if q.empty:
        return []
    labels = list(q["key"])
    counts = {t(f"govern.stats.col.{c}", lang): [float(v) for v in q[c]]
              for c in ("opened", "closed", "overdue_open")}
    rates = {t(f"govern.stats.col.{c}", lang): [float("nan") if v != v else 100 * float(v)
                                                 for v in q[c]] for c in PERCENT}
    return [line_chart_svg(labels, counts, title=t("govern.stats.chart.cases", lang),
                           axis_title=t("govern.stats.chart.count", lang)),
            line_chart_svg(labels, rates, title=t("govern.stats.chart.rates", lang),
                           axis_title="%", domain=(0, 100))]


def _context(stats: GovernStats, lang: str, names: Names) -> dict[str, Any]:
    import cocity

    o = stats.overall()
    cards = [(c, cell(o[c], c)) for c in ("opened", "closed", "on_time_rate",
                                          "resolution_rate", "median_days", "overdue_open")]
    return {"stats": stats, "cards": cards, "tables": tables(stats, lang, names),
            "version": cocity.__version__, "as_of": stats.as_of.isoformat()}


def stats_html(stats: GovernStats, *, names: Names, lang: str = "zh",
               files: Iterable[str] = ()) -> str:
    """The bilingual page (``lang`` shown first; the tables in both languages)."""
    import plotly.offline
    from markupsafe import Markup

    from cocity.outputs import versions
    from cocity.report.render import (
        TOPOJSON_NAMES,
        bilingual_figure,
        script_json,
        template_environment,
    )
    from cocity.report.style import FONT_STACK

    config = {"displayModeBar": False, "responsive": True}
    figures = []
    if not _quarters(stats).empty:
        figures = [{"id": "fig-cases", "lazy": False, "config": config,
                    **bilingual_figure(cases_figure, stats, lang=lang)},
                   {"id": "fig-rates", "lazy": False, "config": config,
                    **bilingual_figure(rates_figure, stats, lang=lang)}]
    template = template_environment().get_template("govern_stats.html.j2")
    return template.render(
        lang=lang, font_stack=FONT_STACK, title_zh=t("govern.stats.title", "zh"),
        title_en=t("govern.stats.title", "en"), notice_zh=None, notice_en=None,
        plotlyjs=Markup(plotly.offline.get_plotlyjs().replace("</script", "<\\/script")),
        topojson_json=script_json(list(TOPOJSON_NAMES)), geo_json=script_json({}),
        figures_json=script_json(figures), has_charts=bool(figures), files=list(files),
        versions=versions(), by_lang={lg: _context(stats, lg, names) for lg in LANGS},
        **_context(stats, lang, names))


def stats_print_html(stats: GovernStats, *, names: Names, lang: str = "zh") -> str:
    """The print page in one language (charts as inline SVG)."""
    from markupsafe import Markup

    from cocity.report.pdf import PRINT_CSS
    from cocity.report.render import template_environment

    template = template_environment().get_template("govern_stats_print.html.j2")
    context = _context(stats, lang, names)
    context["tables"] = tables(stats, lang, names, parts=PRINT_PARTS)
    return template.render(lang=lang, L=lambda key, **fmt: t(key, lang, **fmt),
                           print_css=Markup(PRINT_CSS),
                           charts=[Markup(s) for s in _svg_charts(stats, lang)], **context)


def table_frame(stats: GovernStats, lang: str) -> pd.DataFrame:
    """The table with translated column names (for the workbook)."""
    frame = stats.table.copy()
    return frame.rename(columns={c: t(f"govern.stats.col.{c}", lang) for c in COLUMNS
                                 if c not in ("dimension", "key")})


def write_stats_report(records: Records, *, out: str | Path, as_of: Any = None,
                       formats: Iterable[str] = FORMATS, names: Names | None = None
                       ) -> tuple[GovernStats, dict[str, Any]]:
    """Compute the statistics and write the page, the PDFs, the tables and ``manifest.json``
    into ``out``; returns the statistics and the manifest."""
    from cocity.govern.stats import QUANTILE_METHOD, statistics
    from cocity.outputs import manifest, write_atomic, write_csv, write_json, write_xlsx

    wanted = list(dict.fromkeys(formats))
    stats = statistics(records, as_of=as_of)
    names = unit_names() if names is None else names
    folder = Path(out)
    paths: dict[str, Path] = {}
    warnings: list[str] = []
    if "csv" in wanted:
        paths["csv"] = write_csv(stats.table, folder / f"{STEM}.csv")
    if "xlsx" in wanted:
        paths["xlsx"] = write_xlsx({lg: table_frame(stats, lg) for lg in LANGS},
                                   folder / f"{STEM}.xlsx")
    from cocity.report.pdf import pdf_possible

    if pdf_possible("pdf" in wanted, warnings):
        from cocity.report.pdf import write_pdf

        for lg in LANGS:
            key, file = ("pdf", f"{STEM}.pdf") if lg == "zh" else (f"pdf:{lg}",
                                                                   f"{STEM}.{lg}.pdf")
            paths[key] = write_pdf(stats_print_html(stats, names=names, lang=lg),
                                   folder / file)
    if "html" in wanted:
        files = sorted(p.name for p in paths.values())
        paths["html"] = write_atomic(stats_html(stats, names=names, files=files),
                                     folder / f"{STEM}.html")
    doc = manifest("govern stats", outputs=paths, root=folder,
                   config={"as_of": stats.as_of.isoformat(), "formats": wanted,
                           "quantile_method": QUANTILE_METHOD},
                   cases=stats.cases, simulated_cases=stats.simulated_cases,
                   simulated=stats.simulated, counts=list(COUNTS), warnings=warnings)
    write_json(doc, folder / "manifest.json")
    return stats, doc
