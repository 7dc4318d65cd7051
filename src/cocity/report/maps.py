"""Map figures of a profile: circle membership and the choropleth of one indicator.

Maps are ``go.Choropleth`` traces on a hidden geo subplot (``geo.visible=False``, no tiles, no
base map), fitted to the drawn units. Every trace names the boundary set it draws in
``meta["geo"]`` (a level), so that a renderer can embed each GeoJSON once and share it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from cocity.i18n import t
from cocity.report.profile import UNSPECIFIED, Profile
from cocity.report.style import (
    COLORSCALE,
    FONT_STACK,
    MEMBERSHIP_COLORS,
    NO_DATA_COLOR,
    OUTLINE_COLOR,
    SIMULATED_COLOR,
    d3_format,
)

FEATURE_ID_KEY = "properties.code"
MAP_HEIGHT = 640


def flat_colorscale(color: str) -> list[list[object]]:
    return [[0, color], [1, color]]


def hover_names(frame: pd.DataFrame) -> np.ndarray:
    return np.column_stack([frame["name_zh"].astype(str), frame["name_en"].astype(str),
                            frame["code"].astype(str)])


def map_layout(fig: go.Figure, bbox: list[float]) -> go.Figure:
    """Hidden base map fitted to the drawn units, in an Albers equal-area projection (the
    usual one for maps of China) with standard parallels at 1/6 and 5/6 of the latitude span;
    ``fitbounds`` centres the projection on the units."""
    projection: dict[str, object] = {"type": "albers"}
    if len(bbox) == 4:
        y0, y1 = bbox[1], bbox[3]
        span = y1 - y0
        projection.update(parallels=[y0 + span / 6, y1 - span / 6])
    fig.update_geos(visible=False, fitbounds="locations", projection=projection,
                    bgcolor="rgba(0,0,0,0)")
    fig.update_layout(
        height=MAP_HEIGHT, margin={"l": 0, "r": 0, "t": 0, "b": 0},
        font={"family": FONT_STACK, "size": 13}, paper_bgcolor="rgba(0,0,0,0)",
        legend={"x": 0.01, "y": 0.99, "bgcolor": "rgba(255,255,255,0.85)"},
        hoverlabel={"font": {"family": FONT_STACK}},
    )
    return fig


def _outline(profile: Profile, level: str) -> list[go.Choropleth]:
    """Prefecture outlines drawn over a county map (no fill, no hover)."""
    if level != "county" or "prefecture" not in profile.boundaries:
        return []
    codes = [f["properties"]["code"] for f in profile.boundaries["prefecture"]["features"]]
    return [go.Choropleth(
        geojson=profile.boundaries["prefecture"], featureidkey=FEATURE_ID_KEY,
        locations=codes, z=np.zeros(len(codes)), colorscale=flat_colorscale("rgba(0,0,0,0)"),
        showscale=False, showlegend=False, hoverinfo="skip",
        marker={"line": {"color": OUTLINE_COLOR, "width": 1.2}}, meta={"geo": "prefecture"})]


def membership_figure(profile: Profile, lang: str = "zh") -> go.Figure:
    """Units of the finest mapped level, coloured full / partial / outside the circle."""
    level = profile.membership_level
    frame = profile.membership.assign(
        membership=profile.membership["membership"].fillna(UNSPECIFIED))
    fig = go.Figure()
    for category, color in MEMBERSHIP_COLORS.items():
        sub = frame[frame["membership"] == category]
        if sub.empty:
            continue
        label = (t("profile.membership.unspecified", lang) if category == UNSPECIFIED
                 else t(f"membership.{category}", lang))
        fig.add_trace(go.Choropleth(
            geojson=profile.boundaries[level], featureidkey=FEATURE_ID_KEY,
            locations=sub["code"], z=np.ones(len(sub)), colorscale=flat_colorscale(color),
            showscale=False, showlegend=True, name=f"{label} ({len(sub)})",
            marker={"line": {"color": "white", "width": 0.6}},
            customdata=hover_names(sub),
            hovertemplate=("<b>%{customdata[0]}</b> %{customdata[1]} (%{customdata[2]})<br>"
                           f"{label}<extra></extra>"),
            meta={"geo": level}))
    fig.add_traces(_outline(profile, level))
    return map_layout(fig, profile.boundaries[level]["bbox"])


def choropleth_figure(profile: Profile, lang: str = "zh") -> go.Figure:
    """The chosen indicator in the chosen year and level; units without a value in grey,
    simulated values outlined in red and labelled in the hover."""
    vm = profile.choropleth
    row = profile.catalog.loc[vm.indicator]
    unit = str(row[f"unit_{lang}"]) if pd.notna(row[f"unit_{lang}"]) else ""
    name = str(row[f"name_{lang}"])
    fmt = d3_format(row["value_kind"])
    level = vm.level
    have = vm.values[vm.values["value"].notna()]
    missing = vm.values[vm.values["value"].isna()]
    sim_note = t("profile.simulated.tag", lang)
    flags = np.where(have["simulated"], f" <b>[{sim_note}]</b>", "")
    fig = go.Figure()
    if not missing.empty:
        label = t("profile.map.no_data", lang)
        fig.add_trace(go.Choropleth(
            geojson=profile.boundaries[level], featureidkey=FEATURE_ID_KEY,
            locations=missing["code"], z=np.zeros(len(missing)),
            colorscale=flat_colorscale(NO_DATA_COLOR), showscale=False, showlegend=True,
            name=f"{label} ({len(missing)})", marker={"line": {"color": "white", "width": 0.6}},
            customdata=hover_names(missing),
            hovertemplate=("<b>%{customdata[0]}</b> %{customdata[1]} (%{customdata[2]})<br>"
                           f"{name}: {label}<extra></extra>"),
            meta={"geo": level}))
    fig.add_trace(go.Choropleth(
        geojson=profile.boundaries[level], featureidkey=FEATURE_ID_KEY,
        locations=have["code"], z=have["value"].to_numpy(float), colorscale=COLORSCALE,
        showscale=True, name=name,
        colorbar={"title": {"text": unit}, "thickness": 14, "len": 0.6,
                  "x": 0.98, "xanchor": "right"},
        marker={"line": {"color": "white", "width": 0.6}},
        customdata=np.column_stack([hover_names(have), flags]),
        hovertemplate=("<b>%{customdata[0]}</b> %{customdata[1]} (%{customdata[2]})<br>"
                       f"{name} {vm.year}: %{{z:{fmt}}} {unit}%{{customdata[3]}}<extra></extra>"),
        meta={"geo": level}))
    simulated = have[have["simulated"]]
    if not simulated.empty:
        fig.add_trace(go.Choropleth(
            geojson=profile.boundaries[level], featureidkey=FEATURE_ID_KEY,
            locations=simulated["code"], z=np.zeros(len(simulated)),
            colorscale=flat_colorscale("rgba(0,0,0,0)"), showscale=False, showlegend=True,
            name=f"{t('profile.map.simulated', lang)} ({len(simulated)})", hoverinfo="skip",
            marker={"line": {"color": SIMULATED_COLOR, "width": 2.5}}, meta={"geo": level}))
    fig.add_traces(_outline(profile, level))
    return map_layout(fig, profile.boundaries[level]["bbox"])

