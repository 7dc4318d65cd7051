"""What each page of the site shows, from the JSON documents of :mod:`cocity.publish.api`
(the figures on a page are the figures of the endpoint beside it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from cocity.i18n import LANGS, t
from cocity.report.evaluate_report import GRADE_COLORS

if TYPE_CHECKING:
    from cocity.data.store import Store
    from cocity.govern.stats import GovernStats
    from cocity.publish.sources import Published


def _maps(doc: dict[str, Any], geo: Any) -> dict[str, dict[str, Markup]]:
    from cocity.publish.figures import grade_map, level_geo

    out: dict[str, dict[str, Markup]] = {}
    levels = {lv["level"]: lv for lv in doc["levels"]}
    for lv in doc["levels"]:
        outline = None
        if lv["level"] == "county" and "prefecture" in levels:
            outline = level_geo(geo, "prefecture",
                                [r["unit"] for r in levels["prefecture"]["ranking"]])
        out[lv["level"]] = {lang: Markup(grade_map(geo, lv, doc["grade_labels"], lang,
                                                   outline=outline)) for lang in LANGS}
    return out


def _charts(doc: dict[str, Any]) -> dict[str, dict[str, Markup]]:
    from cocity.publish.figures import rank_chart

    out: dict[str, dict[str, Markup]] = {}
    for lv in doc["levels"]:
        if not any(r.get("rank_low") is not None for r in lv["ranking"]):
            continue
        out[lv["level"]] = {lang: Markup(rank_chart(lv, lang, title=t(
            "publish.site.col.rank_interval", lang))) for lang in LANGS}
    return out


def _dictionary(data: dict[str, bytes]) -> list[dict[str, str]]:
    import csv
    import io

    name = next(n for n in data if n.endswith("-dictionary.csv"))
    return list(csv.DictReader(io.StringIO(data[name].decode("utf-8"))))


def provenance(doc: dict[str, Any]) -> dict[str, list[str]]:
    """The edition's data and survey in words (as the run's report says them), per language."""
    from cocity.report.provenance import data_sentence, import_lines, survey_sentence

    prov = doc.get("provenance") or {}
    return {lang: [data_sentence(prov, lang), *import_lines(prov, lang),
                   survey_sentence(prov.get("survey"), lang)] for lang in LANGS}


def edition_context(doc: dict[str, Any], data: dict[str, bytes], geo: Any) -> dict[str, Any]:
    sums = [line.split("  ", 1) for line in data["SHA256SUMS"].decode().splitlines()]
    return {"doc": doc, "provenance": provenance(doc), "maps": _maps(doc, geo),
            "charts": _charts(doc),
            "grade_colors": GRADE_COLORS, "downloads": [n for n in data if n != "SHA256SUMS"],
            "sums": sums, "dictionary": _dictionary(data)}


def edition_unit_context(doc: dict[str, Any], level: dict[str, Any], row: dict[str, Any],
                         pub: Published) -> dict[str, Any]:
    from cocity.publish.api import _obstacle_list

    rect = [r for r in level["rectification"] if r["unit"] == row["unit"]]
    return {"doc": doc, "level": level, "row": row,
            "reward": any(r["unit"] == row["unit"] for r in level["rewards"]),
            "rectification": rect[0] if rect else None,
            "obstacles": _obstacle_list(pub, level["level"], row["unit"]),
            "grade_colors": GRADE_COLORS}


def diagnostics_context(store: Store, year: int, geo: Any) -> dict[str, Any]:
    """``cocity diagnose`` for ``year`` with the default specification: the headline table,
    the facts of the other sections and a map of the first indicator (both languages)."""
    from cocity.data.errors import CocityError
    from cocity.metrics.diagnose import run_diagnostics
    from cocity.metrics.diagnose_spec import load_spec
    from cocity.metrics.diagnose_tables import headline_facts, headline_table
    from cocity.report.svg import choropleth_svg

    try:
        diag = run_diagnostics(store, load_spec(year=year))
    except CocityError as exc:
        return {"year": year, "failed": str(exc), "tables": {}, "facts": {}, "maps": {}}
    indicator = diag.spec.indicators[0]
    values = diag.values
    maps: dict[str, Markup] = {}
    if len(values):
        sel = values[(values["indicator"] == indicator) & (values["year"] == year)]
        series = sel.set_index(sel["unit"].astype(str))["value"].astype(float)
        shapes = geo[(geo["level"] == diag.spec.level) & geo["code"].isin(series.index)]
        for lang in LANGS:
            name = diag.indicator_name(indicator, lang)
            maps[lang] = Markup(choropleth_svg(
                shapes, series, width=720, lang=lang, legend_title=name,
                title=t("publish.site.diag.map", lang, indicator=name, year=year)))
    return {"year": year, "failed": None,
            "tables": {lang: headline_table(diag, lang) for lang in LANGS},
            "facts": {lang: headline_facts(diag, lang) for lang in LANGS}, "maps": maps}


def committee_context(stats: GovernStats | None) -> dict[str, Any]:
    if stats is None:
        return {"stats": None, "tables": {}, "charts": {}}
    from cocity.report.govern_stats import tables, unit_names
    from cocity.report.svg import line_chart_svg

    names = unit_names()
    q = stats.table[stats.table["dimension"] == "quarter"]
    charts: dict[str, list[Markup]] = {}
    for lang in LANGS:
        charts[lang] = []
        if len(q):
            counts = {t(f"govern.stats.col.{c}", lang): [float(v) for v in q[c]]
                      for c in ("opened", "closed", "overdue_open")}
            charts[lang].append(Markup(line_chart_svg(
                list(q["key"]), counts, title=t("govern.stats.chart.cases", lang),
                axis_title=t("govern.stats.chart.count", lang))))
    return {"stats": stats, "tables": {lang: tables(stats, lang, names) for lang in LANGS},
            "charts": charts}
