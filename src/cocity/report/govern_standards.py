"""The standards register's coverage report (统一标准与资质互认覆盖情况): a unit × item table of
the statuses in force with their dates, the coverage of each item, and a map of the share of
items adopted per unit — from the register's reads.

API::

    write_standards_report(standards, *, out, store=None, as_of=None,
                           formats=("html", "xlsx", "pdf")) -> dict

writes into the folder ``out`` (every file atomically, through :mod:`cocity.outputs`):

- ``standards_report.html`` — one self-contained bilingual page (简体中文 first, the language
  switch of the other pages, plotly inline, no network request): the coverage per item, the
  unit × item table, the map (plotly choropleth without tiles, on the data store's real
  boundaries) of ``share_adopted`` per unit (items adopted / items), the items and their
  sources;
- ``standards_report.xlsx`` (简体中文) and ``standards_report.en.xlsx`` (English) — the
  coverage, the unit × item table and every record;
- ``standards_report.pdf`` and ``standards_report.en.pdf`` — A4 print pages (the map as a
  static SVG choropleth). Without a font covering Chinese no PDF is written and the
  manifest's ``warnings`` say why;
- ``manifest.json`` — :func:`cocity.outputs.manifest` of kind ``standards report``.

The unit set is the register's default (the evaluation's prefecture level) plus any unit
with a record. Records flagged simulated are marked in every table (``*`` after the status),
outlined in red on the map, and announced first on every output.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cocity.govern.standards import NONE, Catalogue, Standards, StandardsError
from cocity.i18n import LANGS, both, t

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

FORMATS = ("html", "xlsx", "pdf")
STEM = "standards_report"
SIM_COLOR = "#d62728"
STATUS_COLORS = {"adopted": "#1a9850", "piloting": "#91cf60", "planned": "#fee08b",
                 "suspended": "#fc8d59", NONE: "#f0f0f0"}


@dataclass(frozen=True)
class StandardsView:
    """What the report shows, read once from the register."""

    as_of: str
    catalogue: Catalogue
    units: list[str]  # codes, in code order
    names: dict[str, dict[str, str]]  # lang → code → name
    status: pd.DataFrame
    coverage: pd.DataFrame
    shares: pd.DataFrame
    history: pd.DataFrame

    @property
    def simulated(self) -> int:
        """How many records in force are simulated."""
        return int(self.status["simulated"].sum())

    @property
    def share_rows(self) -> dict[str, dict[Any, Any]]:
        """Per unit code: its row of :meth:`Standards.unit_shares`."""
        return {str(r["unit_code"]): r for r in self.shares.to_dict("records")}

    def name(self, code: str, lang: str) -> str:
        return self.names[lang].get(code, code)

    def status_name(self, status: str, lang: str) -> str:
        if status == NONE:
            return t("govern.std.none", lang)
        return self.catalogue.statuses[status].text(lang)

    def cell_status(self, item: str, code: str) -> str:
        """The status id in force of ``item`` in ``code`` (``none`` without a record)."""
        row = self.status[(self.status["standard"] == item) & (self.status["unit_code"] == code)]
        return NONE if row.empty else str(row.iloc[0]["status"])

    def cell(self, item: str, code: str, lang: str) -> str:
        """A table cell: the status in force, its date, ``*`` if simulated."""
        row = self.status[(self.status["standard"] == item) & (self.status["unit_code"] == code)]
        if row.empty:
            return ""
        r = row.iloc[0]
        text = self.status_name(str(r["status"]), lang)
        if r["status"] != NONE:
            text += f" {r['date']}"
        return text + (" *" if bool(r["simulated"]) else "")


def standards_view(standards: Standards, *, as_of: dt.date | str | None = None) -> StandardsView:
    """Read the register for the report (``as_of`` default: today in China, UTC+8, as the
    case register and the statistics count it)."""
    from cocity.govern.stats import china_today

    day = (china_today() if as_of is None else
           dt.date.fromisoformat(str(as_of)) if not isinstance(as_of, dt.date) else as_of)
    status = standards.status(as_of=day)
    units = sorted(set(status["unit_code"]))
    frame = standards.units.units
    names = {lg: {c: str(frame.at[c, f"name_{lg}"]) if c in frame.index else c for c in units}
             for lg in LANGS}
    return StandardsView(
        as_of=day.isoformat(), catalogue=standards.catalogue, units=units, names=names,
        status=status, coverage=standards.coverage(as_of=day, units=units),
        shares=standards.unit_shares(as_of=day, units=units), history=standards.history())


# ---------------------------------------------------------------------- tables
def coverage_frame(view: StandardsView, lang: str) -> pd.DataFrame:
    import pandas as pd

    cat = view.catalogue
    cols = [*cat.statuses, NONE]
    rows = []
    for _, r in view.coverage.iterrows():
        item = cat.items[str(r["standard"])]
        rows.append([item.text(lang), vocab_name(item.category, lang),
                     *(int(r[c]) for c in cols), int(r["units"]), float(r["share_adopted"]),
                     int(r["simulated"])])
    return pd.DataFrame(rows, columns=[
        t("govern.std.r.c.item", lang), t("govern.std.r.c.category", lang),
        *(view.status_name(c, lang) for c in cols), t("govern.std.r.c.units", lang),
        t("govern.std.r.c.share", lang), t("govern.std.r.c.simulated", lang)])


def matrix_frame(view: StandardsView, lang: str) -> pd.DataFrame:
    """The unit × item table: one row per unit, one column per item."""
    import pandas as pd

    items = list(view.catalogue.items)
    shares = view.share_rows
    rows = [[code, view.name(code, lang), *(view.cell(i, code, lang) for i in items),
             float(shares[code]["share_adopted"])] for code in view.units]
    return pd.DataFrame(rows, columns=[
        t("govern.std.r.c.code", lang), t("govern.std.r.c.unit", lang),
        *(view.catalogue.items[i].text(lang) for i in items), t("govern.std.r.c.share", lang)])


def records_frame(view: StandardsView, lang: str) -> pd.DataFrame:
    import pandas as pd

    h = view.history
    rows = [[int(r["id"]), view.catalogue.items[str(r["standard"])].text(lang),
             str(r["unit_code"]), view.name(str(r["unit_code"]), lang),
             view.status_name(str(r["status"]), lang), r["date"], r["document"],
             t("govern.std.simulated", lang) if bool(r["simulated"]) else "",
             r["actor"], r["role"], r["reason"], r["time"]] for _, r in h.iterrows()]
    return pd.DataFrame(rows, columns=[t(f"govern.std.r.c.{k}", lang) for k in (
        "id", "item", "code", "unit", "status", "date", "document", "simulated", "actor",
        "role", "reason", "time")])


def vocab_name(category: str, lang: str) -> str:
    from cocity.govern.machine import vocabularies

    return vocabularies().categories[category].text(lang)


# ---------------------------------------------------------------------- the map
def share_map_figure(view: StandardsView, geo: Any, lang: str = "zh") -> go.Figure:
    """Share of items adopted per unit (0–100 %), units with simulated records starred."""
    import plotly.graph_objects as go

    from cocity.report.maps import FEATURE_ID_KEY, map_layout
    from cocity.report.render import GEO_PREFIX
    from cocity.report.style import COLORSCALE

    level = "standards"
    shares = view.share_rows
    codes = [c for c in geo["code"] if c in shares]
    label = t("govern.std.r.map.share", lang)
    fig = go.Figure()
    fig.add_trace(go.Choropleth(
        geojson=GEO_PREFIX + level, featureidkey=FEATURE_ID_KEY, locations=codes,
        z=[100 * float(shares[c]["share_adopted"]) for c in codes],
        zmin=0, zmax=100, colorscale=COLORSCALE, showscale=True, name=label,
        colorbar={"title": {"text": label}, "thickness": 14, "len": 0.6, "x": 0.98,
                  "xanchor": "right", "ticksuffix": "%"},
        marker={"line": {"color": "white", "width": 0.6}},
        customdata=[[view.name(c, lang), int(shares[c]["adopted"]), int(shares[c]["items"]),
                     int(shares[c]["piloting"])] for c in codes],
        hovertemplate=("<b>%{customdata[0]}</b> (%{location})<br>"
                       f"{t('govern.std.r.map.hover', lang)}<extra></extra>"),
        meta={"geo": level}))
    sim = [c for c in codes if int(shares[c]["simulated"]) > 0]
    pts = geo[geo["code"].isin(sim)]
    tag = t("govern.std.simulated", lang)
    fig.add_trace(go.Scattergeo(
        lon=pts["lon"].astype(float), lat=pts["lat"].astype(float), mode="markers",
        name=f"{tag} ({len(pts)})", text=pts[f"name_{lang}"].astype(str),
        marker={"symbol": "x", "size": 10, "color": SIM_COLOR},
        hovertemplate="%{text}<extra></extra>"))
    return map_layout(fig, [float(v) for v in geo.total_bounds] if len(geo) else [])


def share_map_svg(view: StandardsView, geo: Any, lang: str) -> str:
    """The same map for print: classes of the share adopted (%), simulated units outlined."""
    import pandas as pd

    from cocity.report.svg import choropleth_svg

    shares = view.share_rows
    values = pd.Series({c: 100 * float(shares[c]["share_adopted"]) for c in geo["code"]
                        if c in shares}, dtype=float)
    sim = [c for c, r in shares.items() if int(r["simulated"]) > 0]
    return choropleth_svg(geo, values, bins=[0, 20, 40, 60, 80, 100],
                          legend_title=t("govern.std.r.map.share", lang), highlight=sim,
                          highlight_label=t("govern.std.simulated", lang), width=640,
                          lang=lang, number_format=".0f")


# ---------------------------------------------------------------------- pages
def _context(view: StandardsView) -> dict[str, Any]:
    import cocity

    return {"view": view, "items": view.catalogue.items, "colors": STATUS_COLORS,
            "version": cocity.__version__, "category": vocab_name,
            "status_ids": [*view.catalogue.statuses, NONE]}


def report_html(view: StandardsView, *, geo: Any = None, lang: str = "zh",
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
    if geo is not None:
        figures.append({"id": "fig-shares", "lazy": False, "config": MAP_CONFIG,
                        **bilingual_figure(share_map_figure, view, geo, lang=lang)})
        geo_json[GEO_PREFIX + "standards"] = geojson_of(geo)
    template = template_environment().get_template("govern_standards.html.j2")
    return template.render(
        lang=lang, font_stack=FONT_STACK, title_zh=t("govern.std.r.title", "zh"),
        title_en=t("govern.std.r.title", "en"), notice_zh=None, notice_en=None,
        plotlyjs=Markup(plotly.offline.get_plotlyjs().replace("</script", "<\\/script")),
        topojson_json=script_json(list(TOPOJSON_NAMES)), geo_json=script_json(geo_json),
        figures_json=script_json(figures), has_map=bool(figures), files=files or [],
        versions=versions(), **_context(view))


def report_print_html(view: StandardsView, *, geo: Any = None, lang: str = "zh") -> str:
    """The print page in one language (the map as inline SVG)."""
    from markupsafe import Markup

    from cocity.report.pdf import PRINT_CSS
    from cocity.report.render import template_environment

    svg = None if geo is None else Markup(share_map_svg(view, geo, lang))
    template = template_environment().get_template("govern_standards_print.html.j2")
    return template.render(lang=lang, L=lambda key, **fmt: t(key, lang, **fmt),
                           print_css=Markup(PRINT_CSS), map_svg=svg, **_context(view))


# ---------------------------------------------------------------------- files
def write_workbooks(view: StandardsView, out: Path) -> dict[str, Path]:
    from cocity.outputs import write_xlsx

    paths = {}
    for lg in LANGS:
        share = t("govern.std.r.c.share", lg)
        sheets = {t("govern.std.r.s.coverage", lg)[:31]: coverage_frame(view, lg),
                  t("govern.std.r.s.matrix", lg)[:31]: matrix_frame(view, lg),
                  t("govern.std.r.s.records", lg)[:31]: records_frame(view, lg)}
        formats = {name: {share: "0.0%"} for name in list(sheets)[:2]}
        key, file = ("xlsx", f"{STEM}.xlsx") if lg == "zh" else (f"xlsx:{lg}",
                                                                 f"{STEM}.{lg}.xlsx")
        paths[key] = write_xlsx(sheets, out / file, number_formats=formats)
    return paths


def map_geo(store: Any, codes: Iterable[str]) -> Any:
    """Boundaries of the prefecture-level units of the circle and of any unit shown."""
    from cocity.govern.standards import DEFAULT_LEVEL
    from cocity.report.fund_report import map_geo as fund_map_geo

    wanted = set(codes)
    geo = fund_map_geo(store, DEFAULT_LEVEL, wanted)
    return geo[geo["code"].isin(wanted)].reset_index(drop=True)


def write_standards_report(standards: Standards, *, out: str | Path, store: Any = None,
                           as_of: dt.date | str | None = None,
                           formats: Iterable[str] = FORMATS) -> dict[str, Any]:
    """Write the coverage report into ``out`` (see the module docstring) and return its
    manifest (also written as ``manifest.json``). ``store``: the data store whose boundaries
    draw the map (without one, the report says no map was drawn)."""
    from cocity.outputs import manifest, write_atomic, write_json

    wanted = list(dict.fromkeys(formats))
    bad = [f for f in wanted if f not in FORMATS]
    if bad or not wanted:
        raise StandardsError("govern.std.r.err.formats", given=", ".join(bad) or "—",
                             known=", ".join(FORMATS))
    view = standards_view(standards, as_of=as_of)
    geo = None if store is None else map_geo(store, view.units)
    folder = Path(out)
    warnings: list[str] = []
    from cocity.report.pdf import pdf_possible

    pdf = pdf_possible("pdf" in wanted, warnings)
    paths: dict[str, Path] = {}
    if "xlsx" in wanted:
        paths.update(write_workbooks(view, folder))
    if pdf:
        from cocity.report.pdf import write_pdf

        for lg in LANGS:
            key, file = ("pdf", f"{STEM}.pdf") if lg == "zh" else (f"pdf:{lg}",
                                                                   f"{STEM}.{lg}.pdf")
            paths[key] = write_pdf(report_print_html(view, geo=geo, lang=lg), folder / file)
    if "html" in wanted:
        files = sorted(p.name for p in paths.values())
        paths["html"] = write_atomic(report_html(view, geo=geo, files=files),
                                     folder / f"{STEM}.html")
    prov = None
    if store is not None:
        from cocity.data.provenance import provenance

        prov = provenance(store, indicators=[])
    facts = manifest(
        "standards report", outputs=paths, root=folder, provenance=prov,
        config={"formats": wanted, "as_of": view.as_of}, units=view.units,
        unit_set=both("govern.std.r.unit_set"), records=len(view.history),
        simulated_in_force=view.simulated,
        simulated_records=int(view.history["simulated"].sum()), warnings=warnings,
        map_drawn=geo is not None)
    write_json(facts, folder / "manifest.json")
    return facts
