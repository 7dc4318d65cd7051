"""Charts of a profile: the distribution of each indicator as one box per year."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from cocity.i18n import t
from cocity.report.profile import Distribution, Profile
from cocity.report.style import FONT_STACK, SIMULATED_COLOR, d3_format

BOX_COLOR = "#3b6ea8"


def distribution_figure(profile: Profile, dist: Distribution, lang: str = "zh") -> go.Figure:
    """Horizontal box plot per year with every unit as a point (hover: names and value);
    simulated values are drawn again as red crosses and tagged in the hover."""
    row = profile.catalog.loc[dist.indicator]
    unit = str(row[f"unit_{lang}"]) if pd.notna(row[f"unit_{lang}"]) else ""
    fmt = d3_format(row["value_kind"])
    sim_note = t("profile.simulated.tag", lang)
    fig = go.Figure()
    years = sorted(dist.values["year"].unique())
    for year in years:
        sub = dist.values[dist.values["year"] == year]
        flags = np.where(sub["simulated"], f" <b>[{sim_note}]</b>", "")
        fig.add_trace(go.Box(
            x=sub["value"].to_numpy(float), y=[str(year)] * len(sub), name=str(year),
            orientation="h", boxpoints="all", jitter=0.5, pointpos=0,
            marker={"size": 4, "opacity": 0.55, "color": BOX_COLOR},
            line={"color": BOX_COLOR, "width": 1.4}, fillcolor="rgba(59,110,168,0.12)",
            customdata=np.column_stack([sub["name_zh"].astype(str), sub["name_en"].astype(str),
                                        flags]),
            hovertemplate=(f"<b>%{{customdata[0]}}</b> %{{customdata[1]}}<br>{year}: "
                           f"%{{x:{fmt}}} {unit}%{{customdata[2]}}<extra></extra>"),
            showlegend=False))
    simulated = dist.values[dist.values["simulated"]]
    if not simulated.empty:
        fig.add_trace(go.Scatter(
            x=simulated["value"].to_numpy(float), y=simulated["year"].astype(str),
            mode="markers", name=t("profile.simulated.tag", lang), showlegend=True,
            marker={"symbol": "x", "size": 8, "color": SIMULATED_COLOR},
            customdata=np.column_stack([simulated["name_zh"].astype(str),
                                        simulated["name_en"].astype(str)]),
            hovertemplate=(f"<b>%{{customdata[0]}}</b> %{{customdata[1]}}<br>%{{y}}: "
                           f"%{{x:{fmt}}} {unit} <b>[{sim_note}]</b><extra></extra>")))
    fig.update_layout(
        height=70 + 48 * len(years), margin={"l": 48, "r": 12, "t": 8, "b": 40},
        font={"family": FONT_STACK, "size": 12}, paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="#fafafa", hoverlabel={"font": {"family": FONT_STACK}},
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
        xaxis={"title": {"text": unit, "standoff": 4}, "zeroline": False},
        yaxis={"type": "category", "categoryorder": "array",
               "categoryarray": [str(y) for y in years], "autorange": "reversed"},
    )
    return fig
