"""Render a :class:`~cocity.report.profile.Profile` as one self-contained bilingual HTML page.

The page carries both languages (简体中文 first) and switches with a small inline script; it holds
plotly.js inline once and every boundary set once, and makes no network request.
"""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline
from markupsafe import Markup

import cocity
from cocity.data.schema import LEVELS
from cocity.i18n import LANGS, labels, t
from cocity.outputs import write_atomic
from cocity.report.charts import distribution_figure
from cocity.report.maps import choropleth_figure, membership_figure
from cocity.report.profile import Profile
from cocity.report.style import FONT_STACK, d3_format

GEO_PREFIX = "cocity-geo:"
# plotly.js asks for a base-map topology whenever a geo trace has a locationmode, even with the
# base map hidden; an empty topology stands in for it so the page never fetches one.
TOPOJSON_NAMES = ("world_110m",)


# ---------------------------------------------------------------------- figures
def _flatten(obj: Any, prefix: str, out: dict[str, Any]) -> dict[str, Any]:
    if isinstance(obj, dict) and obj:
        for key, value in obj.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj):
        for i, value in enumerate(obj):
            _flatten(value, f"{prefix}[{i}]", out)
    else:
        out[prefix] = obj
    return out


def _patch(base: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Attribute paths whose value in ``other`` differs from ``base``, with ``other``'s value."""
    flat_base, flat_other = _flatten(base, "", {}), _flatten(other, "", {})
    if flat_base.keys() != flat_other.keys():
        raise ValueError("figures differ in structure between languages")
    return {k: v for k, v in flat_other.items() if v != flat_base[k]}


def figure_json(fig: go.Figure) -> dict[str, Any]:
    """The figure as plain JSON data, each map trace's GeoJSON replaced by its shared key."""
    for trace in fig.data:
        meta = getattr(trace, "meta", None)
        if isinstance(meta, dict) and "geo" in meta and getattr(trace, "geojson", None):
            trace.geojson = GEO_PREFIX + str(meta["geo"])
    out: dict[str, Any] = json.loads(pio.to_json(fig, validate=False, engine="json"))
    out["layout"].pop("template", None)  # the default template is large and plotly.js has it
    return out


def bilingual_figure(build: Any, *args: Any, lang: str = "zh") -> dict[str, Any]:
    """Build a figure in every language; keep ``lang``'s and the patches to switch language."""
    built = {lg: figure_json(build(*args, lang=lg)) for lg in LANGS}
    base = built[lang]
    patches = {}
    for lg, fig in built.items():
        if len(fig["data"]) != len(base["data"]):
            raise ValueError("figures differ in traces between languages")
        patches[lg] = {
            "layout": _patch(base["layout"], fig["layout"]),
            "traces": [_patch(b, o) for b, o in zip(base["data"], fig["data"], strict=True)],
        }
    return {"data": base["data"], "layout": base["layout"], "base": lang, "i18n": patches}


def page_figures(profile: Profile, lang: str = "zh") -> list[dict[str, Any]]:
    """Every figure of the page with its element id, in page order."""
    map_config = {"displaylogo": False, "responsive": True, "scrollZoom": False,
                  "modeBarButtonsToRemove": ["select2d", "lasso2d", "toImage"]}
    chart_config = {"displayModeBar": False, "responsive": True}
    figs = [
        {"id": "fig-membership", "lazy": False, "config": map_config,
         **bilingual_figure(membership_figure, profile, lang=lang)},
        {"id": "fig-choropleth", "lazy": False, "config": map_config,
         **bilingual_figure(choropleth_figure, profile, lang=lang)},
    ]
    for i, dist in enumerate(profile.distributions):
        figs.append({"id": f"fig-dist-{i}", "lazy": True, "config": chart_config,
                     **bilingual_figure(distribution_figure, profile, dist, lang=lang)})
    return figs


# ---------------------------------------------------------------------- template helpers
def _bi(key: str, **fmt: object) -> Markup:
    """Both languages of a label, one shown at a time by the page's language switch."""
    return _pair(t(key, "zh", **fmt), t(key, "en", **fmt))


def _bi_or(key: str, default: object) -> Markup:
    """:func:`_bi` of ``key``, or ``default`` as it is when no such label exists (an
    identifier of the user's data, e.g. a metropolitan area of another cluster)."""
    if key in labels():
        return _bi(key)
    return _pair(default, default)


def _pair(zh: object, en: object) -> Markup:
    zh_s = "" if zh is None or (isinstance(zh, float) and pd.isna(zh)) else str(zh)
    en_s = "" if en is None or (isinstance(en, float) and pd.isna(en)) else str(en)
    return Markup(
        f'<span data-l="zh" lang="zh-CN">{html.escape(zh_s)}</span>'
        f'<span data-l="en" lang="en">{html.escape(en_s)}</span>')


def _num(value: object, spec: str = ",") -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if spec == "d":
        return format(round(float(value)), "d")  # type: ignore[arg-type]
    return format(value, spec)


def script_json(obj: Any) -> Markup:
    """JSON safe inside a <script> element ("<" escaped, so no "</script>" can occur)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace("\u2028", "\\u2028")
                  .replace("\u2029", "\\u2029"))


def _heat_color(share: float) -> str:
    """Red (none) through yellow to green (complete)."""
    hue = round(120 * max(0.0, min(1.0, share)))
    return f"hsl({hue}, 65%, 82%)"


def _coverage_table(profile: Profile) -> dict[str, Any]:
    cov = profile.coverage
    columns = [(lv, int(y)) for lv in LEVELS
               for y in sorted(cov.loc[cov["level"] == lv, "year"].unique())]
    cells = {(str(c["indicator"]), str(c["level"]), int(c["year"])): c
             for c in cov.to_dict("records")}
    rows = []
    for ind in profile.catalog.index:
        row: list[dict[str, Any] | None] = []
        for lv, y in columns:
            c = cells.get((str(ind), lv, y))
            row.append(None if c is None else {
                "share": float(c["share"]), "n": int(c["non_missing"]),
                "simulated": int(c["simulated"]),
                "of": int(c["n_units"]), "color": _heat_color(float(c["share"]))})
        rows.append({"id": ind, "cells": row})
    groups = [(lv, sum(1 for c in columns if c[0] == lv)) for lv in LEVELS
              if any(c[0] == lv for c in columns)]
    return {"columns": columns, "groups": groups, "rows": rows}


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _split_pair(text: object) -> tuple[str, str]:
    """``"中文（注）/ English"`` as ``("中文（注）", "English")``: split at the first slash with
    Chinese before it and none after it; other text stands for both languages."""
    value = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    for i, ch in enumerate(value):
        if ch == "/" and _has_cjk(value[:i]) and not _has_cjk(value[i + 1:]):
            zh, en = value[:i].strip(), value[i + 1:].strip()
            if zh and en:
                return zh, en
    return value, value


def _info_sources(info: dict[str, Any]) -> list[dict[str, str]]:
    """The sources listed in an embedded dataset's dataset.yaml (a mapping or a list)."""
    raw = info.get("sources") or []
    items = list(raw.values()) if isinstance(raw, dict) else list(raw)
    out = []
    for item in items:
        entry = item if isinstance(item, dict) else {"label": item}
        zh, en = _split_pair(entry.get("label") or entry.get("name") or "")
        out.append({"zh": zh, "en": en, "citation": str(entry.get("citation") or ""),
                    "license": str(entry.get("license") or ""), "url": str(entry.get("url") or "")})
    return out


def _info_notes(info: dict[str, Any]) -> list[tuple[str, str]]:
    """Notes of dataset.yaml (keys ``<topic>_note_zh`` / ``<topic>_note_en``), datum first."""
    topics = sorted({k.rsplit("_note_", 1)[0] for k in info
                     if k.endswith(("_note_zh", "_note_en"))},
                    key=lambda topic: (topic != "datum", topic))
    notes = []
    for topic in topics:
        zh, en = info.get(f"{topic}_note_zh"), info.get(f"{topic}_note_en")
        notes.append((str(zh or en), str(en or zh)))
    return notes


def _obs_sources(profile: Profile) -> list[dict[str, Any]]:
    tags = profile.info.get("source_tags") or {}
    out = []
    for r in profile.obs_sources.to_dict("records"):
        source = str(r["source"])
        tag = tags.get(source) if isinstance(tags, dict) else None
        zh, en = ((str(tag.get("zh", source)), str(tag.get("en", source)))
                  if isinstance(tag, dict) else (source, source))
        out.append({"tag": source, "zh": zh, "en": en, "n": int(r["n"]),
                    "simulated": int(r["simulated"])})
    return out


@cache
def template_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cocity.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(bi=_bi, bi_or=_bi_or, pair=_pair, num=_num, t=t, fmt=d3_format,
                       split=lambda text: _pair(*_split_pair(text)))
    return env


# ---------------------------------------------------------------------- page
def profile_html(profile: Profile, lang: str = "zh") -> str:
    """The complete page as a string; ``lang`` is the language shown first."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    figures = page_figures(profile, lang)
    geo = {GEO_PREFIX + lv: fc for lv, fc in profile.boundaries.items()}
    template = template_environment().get_template("profile.html.j2")
    return template.render(
        p=profile, lang=lang, version=cocity.__version__, font_stack=FONT_STACK,
        plotlyjs=Markup(plotly.offline.get_plotlyjs().replace("</script", "<\\/script")),
        figures_json=script_json(figures), geo_json=script_json(geo),
        topojson_json=script_json(list(TOPOJSON_NAMES)),
        figures={f["id"]: f for f in figures}, coverage=_coverage_table(profile),
        info_sources=_info_sources(profile.info), info_notes=_info_notes(profile.info),
        obs_sources=_obs_sources(profile),
        dist_ids={d.indicator: f"fig-dist-{i}" for i, d in enumerate(profile.distributions)},
        simulated_indicators=list(profile.catalog.index[profile.catalog["n_simulated"] > 0]),
        unit_names=profile.units.set_index("code")[["name_zh", "name_en"]].to_dict("index"),
    )


def render_profile_html(profile: Profile, path: str | Path, lang: str = "zh") -> Path:
    """Write the profile page to ``path`` (atomically) and return the path."""
    return write_atomic(profile_html(profile, lang), path)
