"""Static SVG figures of the site, drawn by :mod:`cocity.report.svg` (no script, no network):
the grade map of a level of an edition and its ranking with rank intervals."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cocity.i18n import t
from cocity.report.evaluate_report import GRADE_COLORS
from cocity.report.svg import choropleth_svg, interval_chart_svg


def level_geo(geo: Any, level: str, codes: list[str]) -> Any:
    """The boundaries of the evaluated units of ``level``; a prefecture only partly in the
    circle is drawn as the union of its member counties (as the evaluation report draws it)."""
    own = geo[geo["code"].astype(str).isin(codes)].copy()
    if level == "prefecture":
        county = geo[geo["level"] == "county"]
        for code in own.loc[own["membership"] == "partial", "code"]:
            members = county[(county["parent"] == code) &
                             county["membership"].isin(["full", "partial"])]
            if len(members):
                own.loc[own["code"] == code, "geometry"] = members.geometry.union_all()
    return own.reset_index(drop=True)


def grade_map(geo: Any, level: dict[str, Any], labels: dict[str, dict[str, str]],
              lang: str, *, outline: Any = None) -> str:
    """The grades of one level of an edition on the real boundaries (SVG)."""
    codes = [r["unit"] for r in level["ranking"]]
    shapes = level_geo(geo, level["level"], codes)
    if shapes.empty:
        return ""
    names = {r["unit"]: r[f"name_{lang}"] for r in level["ranking"]}
    shapes[f"name_{lang}"] = shapes["code"].map(names)
    values = pd.Series({r["unit"]: labels[r["grade"]][lang] for r in level["ranking"]
                        if r.get("grade") in labels})
    colors = {labels[c][lang]: GRADE_COLORS.get(c, "#bdbdbd") for c in labels}
    uncertain = [r["unit"] for r in level["ranking"] if r.get("uncertain")]
    return choropleth_svg(shapes, values, colors=colors, highlight=uncertain, width=720,
                          highlight_label=t("publish.site.col.uncertain", lang),
                          lang=lang, outline=outline,
                          legend_title=level[f"name_{lang}"])


def rank_chart(level: dict[str, Any], lang: str, *, title: str) -> str:
    """Each unit's rank with its whole-rank interval (SVG; rows best first)."""
    rows = [r for r in level["ranking"] if r.get("rank") is not None]
    return interval_chart_svg(
        [r[f"name_{lang}"] for r in rows], [float(r["rank"]) for r in rows],
        [float(r["rank_low"] if r.get("rank_low") is not None else r["rank"]) for r in rows],
        [float(r["rank_high"] if r.get("rank_high") is not None else r["rank"]) for r in rows],
        colors=[GRADE_COLORS.get(str(r.get("grade")), "#bdbdbd") for r in rows],
        axis_title=title, width=720, row_height=14, number_format=".0f")
