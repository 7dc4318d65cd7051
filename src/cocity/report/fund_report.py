"""The fund's reports (基金账目报告): sources and uses, balance sheet and trial balance, the
allocation with its map, disbursements and reversals, the audit — from the books.

API::

    write_fund_report(ledger, *, out, allocation=None, store=None,
                      formats=("html", "xlsx", "pdf"), unit=None, illustrative=None) -> dict

reads the books through the ledger's public reads (:func:`cocity.report.fund_tables.fund_books`)
and writes into the folder ``out`` (every file atomically, through :mod:`cocity.outputs`):

- ``fund_report.html`` — one self-contained bilingual page (简体中文 first, the language switch
  of the other pages, plotly inline, no network request): every table, and a map of the
  amounts allocated per unit (plotly choropleth without tiles) with the units receiving the
  优秀 bonus marked;
- ``fund_report.xlsx`` (简体中文) and ``fund_report.en.xlsx`` (English) — one sheet per table,
  headers in the workbook's language naming their units; amounts in 元 as numbers with two
  decimals (``#,##0.00``);
- ``fund_report.pdf`` and ``fund_report.en.pdf`` — A4 print pages (WeasyPrint through
  :func:`cocity.report.pdf.write_pdf`; the map as a static SVG choropleth with the bonus units
  outlined). Without a font covering Chinese no PDF is written and the manifest's
  ``warnings`` say why;
- ``manifest.json`` — :func:`cocity.outputs.manifest` of kind ``fund report``: every file with
  its size and SHA-256, the chain head (seq, hash), the outcome of ``verify`` (``holds`` and
  every problem), the allocation key, the provenance of the allocation's data.

``allocation`` is an allocation document (:meth:`cocity.fund.allocation.Allocation.document`,
e.g. read back from the records database); ``store`` the data store whose boundaries draw the
map (without one, the report says that no map was drawn). When the evaluation followed used a
simulated survey (the document's ``notes``) or the contributions are illustrative
(``illustrative``: by default as the fund was opened, ``Ledger.open_fund(illustrative=…)``),
the report says so first, on every output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cocity.i18n import LANGS, both, t
from cocity.report.fund_tables import FundBooks, FundReportError, Table, fund_books, yuan

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from cocity.fund.ledger import Ledger

FORMATS = ("html", "xlsx", "pdf")
STEM = "fund_report"
BONUS_COLOR = "#d62728"
NUMERIC = ("yuan", "yuan_f", "int", "pct", "num")
XLSX_FORMATS = {"yuan": "#,##0.00", "yuan_f": "#,##0.00", "int": "0", "pct": "0.0000%",
                "num": "0.00"}
SECTIONS = (  # (section id, i18n key of its heading, its tables)
    ("sources-uses", "fund.r.s.sources_uses", ("sources", "uses", "reconcile", "units")),
    ("balance", "fund.r.s.balance", ("balance_sheet", "trial_balance")),
    ("allocation", "fund.r.s.allocation", ("allocation_posted", "allocation_units",
                                           "allocation", "conditions", "explanation")),
    ("requests", "fund.r.s.requests", ("requests", "reversals")),
    ("audit", "fund.r.s.audit", ("chain", "checks", "problems", "audit_log")),
)


# ---------------------------------------------------------------------- cells
def cell_text(value: Any, kind: str, lang: str) -> str:
    """A cell as text in ``lang`` (amounts in 元 with two decimals)."""
    if value is None:
        return "—"
    if kind == "pair":
        return str(value.get(lang, ""))
    if kind == "yuan":
        return yuan(int(value))
    if kind == "yuan_f":
        return f"{float(value) / 100:,.2f}"
    if kind == "pct":
        return f"{float(value) * 100:.4f}%"
    if kind == "num":
        return f"{float(value):.2f}"
    if kind == "int":
        return str(int(value))
    if kind == "flag":
        return t("fund.r.yes" if value else "fund.r.no", lang)
    return str(value)


def cell_value(value: Any, kind: str, lang: str) -> Any:
    """A cell as a workbook value: amounts as numbers of 元, texts in ``lang``."""
    if value is None:
        return None
    if kind in ("yuan", "yuan_f"):
        return float(value) / 100
    if kind in ("pct", "num"):
        return float(value)
    if kind == "int":
        return int(value)
    return cell_text(value, kind, lang)


def sheet_frame(table: Table, lang: str) -> Any:
    """A table as a frame of the ``lang`` workbook (the total as the last row)."""
    import pandas as pd

    rows = table.rows + ([table.total] if table.total else [])
    data = [[cell_value(r.get(c.key), c.kind, lang) for c in table.columns] for r in rows]
    return pd.DataFrame(data, columns=[t(c.label, lang) for c in table.columns])


def sheet_name(table: Table, lang: str, taken: set[str]) -> str:
    name = t(table.title, lang).replace("/", "·")[:31]
    for ch in "[]:*?\\":
        name = name.replace(ch, " ")
    base, i = name, 2
    while name in taken:
        name = f"{base[:28]} {i}"
        i += 1
    taken.add(name)
    return name


# ---------------------------------------------------------------------- the map
def map_geo(store: Any, level: str, codes: Iterable[str]) -> Any:
    """Boundaries of the level's units in the circle (and any allocated unit), named."""
    geo = store.geodata()
    geo = geo[geo.geometry.notna() & ~geo.geometry.is_empty]
    wanted = set(codes)
    keep = (geo["level"] == level) & (geo["membership"].isin(["full", "partial"])
                                      | geo["code"].isin(wanted))
    return geo[keep].reset_index(drop=True)


def amount_map_figure(books: FundBooks, geo: Any, lang: str = "zh") -> go.Figure:
    """Amounts allocated per unit (元), units without money in grey, bonus units starred."""
    import numpy as np
    import plotly.graph_objects as go

    from cocity.report.maps import FEATURE_ID_KEY, flat_colorscale, map_layout
    from cocity.report.render import GEO_PREFIX
    from cocity.report.style import COLORSCALE, NO_DATA_COLOR

    level = str(books.level)
    names = geo.set_index("code")[f"name_{lang}"].astype(str)
    have = [c for c in geo["code"] if books.unit_amounts.get(c, 0) > 0]
    none = [c for c in geo["code"] if books.unit_amounts.get(c, 0) <= 0]
    amount_label = t("fund.r.map.amount", lang)
    fig = go.Figure()
    fig.add_trace(go.Choropleth(
        geojson=GEO_PREFIX + level, featureidkey=FEATURE_ID_KEY, locations=none,
        z=np.zeros(len(none)), colorscale=flat_colorscale(NO_DATA_COLOR), showscale=False,
        showlegend=True, name=f"{t('fund.r.map.none', lang)} ({len(none)})",
        marker={"line": {"color": "white", "width": 0.6}},
        customdata=np.array([[names.get(c, c)] for c in none], dtype=object).reshape(-1, 1),
        hovertemplate="<b>%{customdata[0]}</b> (%{location})<extra></extra>",
        meta={"geo": level}))
    bonus_tag = t("fund.r.map.bonus", lang)
    fig.add_trace(go.Choropleth(
        geojson=GEO_PREFIX + level, featureidkey=FEATURE_ID_KEY, locations=have,
        z=np.array([books.unit_amounts[c] / 100 for c in have], dtype=float),
        colorscale=COLORSCALE, showscale=True, name=amount_label,
        colorbar={"title": {"text": amount_label}, "thickness": 14, "len": 0.6,
                  "x": 0.98, "xanchor": "right"},
        marker={"line": {"color": "white", "width": 0.6}},
        customdata=np.array([[names.get(c, c), yuan(books.unit_amounts[c]),
                              bonus_tag if c in books.bonus_units else ""] for c in have],
                            dtype=object).reshape(-1, 3),
        hovertemplate=("<b>%{customdata[0]}</b> (%{location})<br>"
                       f"{amount_label}: %{{customdata[1]}} %{{customdata[2]}}<extra></extra>"),
        meta={"geo": level}))
    pts = geo[geo["code"].isin(books.bonus_units)]
    fig.add_trace(go.Scattergeo(
        lon=pts["lon"].astype(float), lat=pts["lat"].astype(float), mode="markers",
        name=f"{bonus_tag} ({len(pts)})", text=pts[f"name_{lang}"].astype(str),
        marker={"symbol": "star", "size": 11, "color": BONUS_COLOR,
                "line": {"color": "white", "width": 0.8}},
        hovertemplate="%{text}<extra></extra>"))
    return map_layout(fig, [float(v) for v in geo.total_bounds] if len(geo) else [])


def amount_map_svg(books: FundBooks, geo: Any, lang: str) -> str:
    """The same map for print: classes of amounts, bonus units outlined in red."""
    import pandas as pd

    from cocity.report.svg import choropleth_svg

    values = pd.Series({c: books.unit_amounts[c] / 100 for c in geo["code"]
                        if books.unit_amounts.get(c, 0) > 0}, dtype=float)
    return choropleth_svg(geo, values, bins=5, legend_title=t("fund.r.map.amount", lang),
                          highlight=books.bonus_units,
                          highlight_label=t("fund.r.map.bonus", lang), width=640, lang=lang,
                          number_format=",.0f")


# ---------------------------------------------------------------------- pages
def _context(books: FundBooks) -> dict[str, Any]:
    import cocity

    doc = books.allocation or {}
    sections = []
    for sid, title, ids in SECTIONS:
        tables = [books.tables[i] for i in ids if i in books.tables]
        if tables or sid != "allocation":
            sections.append({"id": sid, "title": title, "tables": tables})
    return {"books": books, "sections": sections, "version": cocity.__version__,
            "numeric": NUMERIC, "cell": cell_text, "yuan": yuan,
            "run": doc.get("run"), "rules": doc.get("rules"), "fund_fen": doc.get("fund_fen")}


def report_html(books: FundBooks, *, geo: Any = None, lang: str = "zh",
                files: list[str] | None = None) -> str:
    """The bilingual page (``lang`` shown first)."""
    import plotly.offline
    from markupsafe import Markup

    from cocity.outputs import versions
    from cocity.report.profile import geojson_of
    from cocity.report.render import (
        GEO_PREFIX,
        TOPOJSON_NAMES,
        bilingual_figure,
        script_json,
        template_environment,
    )
    from cocity.report.style import FONT_STACK, MAP_CONFIG

    figures, geo_json = [], {}
    if geo is not None and books.level is not None:
        figures.append({"id": "fig-amounts", "lazy": False, "config": MAP_CONFIG,
                        **bilingual_figure(amount_map_figure, books, geo, lang=lang)})
        geo_json[GEO_PREFIX + books.level] = geojson_of(geo)
    template = template_environment().get_template("fund.html.j2")
    return template.render(
        lang=lang, font_stack=FONT_STACK, title_zh=books.name or t("fund.r.title", "zh"),
        title_en=books.name_en or books.name or t("fund.r.title", "en"),
        notice_zh=None, notice_en=None,
        plotlyjs=Markup(plotly.offline.get_plotlyjs().replace("</script", "<\\/script")),
        topojson_json=script_json(list(TOPOJSON_NAMES)), geo_json=script_json(geo_json),
        figures_json=script_json(figures), has_map=bool(figures), files=files or [],
        versions=versions(), **_context(books))


def report_print_html(books: FundBooks, *, geo: Any = None, lang: str = "zh") -> str:
    """The print page in one language (the map as inline SVG)."""
    from markupsafe import Markup

    from cocity.report.pdf import PRINT_CSS
    from cocity.report.render import template_environment

    svg = None
    if geo is not None and books.level is not None:
        svg = Markup(amount_map_svg(books, geo, lang))
    template = template_environment().get_template("fund_print.html.j2")
    return template.render(lang=lang, L=lambda key, **fmt: t(key, lang, **fmt),
                           print_css=Markup(PRINT_CSS), map_svg=svg, **_context(books))


# ---------------------------------------------------------------------- files
def write_workbooks(books: FundBooks, out: Path) -> dict[str, Path]:
    from cocity.outputs import write_xlsx

    paths = {}
    for lg in LANGS:
        taken: set[str] = set()
        sheets, formats = {}, {}
        for table in books.tables.values():
            name = sheet_name(table, lg, taken)
            sheets[name] = sheet_frame(table, lg)
            formats[name] = {t(c.label, lg): XLSX_FORMATS[c.kind] for c in table.columns
                             if c.kind in XLSX_FORMATS}
        key, file = ("xlsx", f"{STEM}.xlsx") if lg == "zh" else (f"xlsx:{lg}",
                                                                 f"{STEM}.{lg}.xlsx")
        paths[key] = write_xlsx(sheets, out / file, number_formats=formats)
    return paths


def write_fund_report(ledger: Ledger, *, out: str | Path,
                      allocation: Mapping[str, Any] | None = None, store: Any = None,
                      formats: Iterable[str] = FORMATS, unit: str | None = None,
                      illustrative: bool | None = None) -> dict[str, Any]:
    """Write the fund's report into ``out`` (see the module docstring) and return its
    manifest (also written as ``manifest.json``)."""
    from cocity.outputs import manifest, write_atomic, write_json

    wanted = list(dict.fromkeys(formats))
    bad = [f for f in wanted if f not in FORMATS]
    if bad or not wanted:
        raise FundReportError(both("fund.r.err.formats", given=", ".join(bad) or "—",
                                   known=", ".join(FORMATS)))
    books = fund_books(ledger, allocation=allocation, unit=unit, illustrative=illustrative)
    geo = None
    if store is not None and books.level is not None:
        geo = map_geo(store, books.level, books.unit_amounts)
    folder = Path(out)
    warnings: list[str] = []
    from cocity.report.pdf import pdf_possible

    pdf = pdf_possible("pdf" in wanted, warnings)
    paths: dict[str, Path] = {}
    if "xlsx" in wanted:
        paths.update(write_workbooks(books, folder))
    if pdf:
        from cocity.report.pdf import write_pdf

        for lg in LANGS:
            key, file = ("pdf", f"{STEM}.pdf") if lg == "zh" else (f"pdf:{lg}",
                                                                   f"{STEM}.{lg}.pdf")
            paths[key] = write_pdf(report_print_html(books, geo=geo, lang=lg), folder / file)
    if "html" in wanted:
        files = sorted(p.name for p in paths.values())
        paths["html"] = write_atomic(report_html(books, geo=geo, files=files),
                                     folder / f"{STEM}.html")
    doc = books.allocation or {}
    prov = doc.get("provenance") or None
    if prov is None and store is not None:
        from cocity.data.provenance import provenance

        prov = provenance(store)
    facts = manifest(
        "fund report", outputs=paths, root=folder, provenance=prov,
        config={"formats": wanted, "unit": books.explained_unit,
                "illustrative": books.illustrative},
        fund=books.name, head={"seq": books.head[0], "hash": books.head[1]},
        verify={"holds": books.holds, "problems": books.problems},
        reconciles=books.reconciles, trial_balance_balanced=books.balanced,
        allocation=None if not doc else {"key": doc.get("key"), "fund_fen": doc.get("fund_fen"),
                                         "run": doc.get("run")},
        notes=books.notes, warnings=warnings, map_drawn=geo is not None)
    write_json(facts, folder / "manifest.json")
    return facts
