"""Shared look of the report's figures and page: fonts, colours and number formats."""

from __future__ import annotations

from typing import Any

# Chinese text needs a CJK font: Noto Sans CJK SC first (Debian: fonts-noto-cjk).
FONT_STACK = ("'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'PingFang SC', "
              "'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif")

MEMBERSHIP_COLORS = {
    "full": "#1a9850",
    "partial": "#a6d96a",
    "outside": "#d9d9d9",
    "unspecified": "#f4f4f4",
}
NO_DATA_COLOR = "#e0e0e0"
SIMULATED_COLOR = "#d62728"
OUTLINE_COLOR = "#444444"
COLORSCALE = "Viridis"

# d3-format specifiers of hover values by the catalog's value_kind: whole numbers for counts,
# five significant digits otherwise (79.53, 0.0042, 17,013).
_FORMATS = {"count": ",.0f"}
_DEFAULT_FORMAT = ",.5~r"


def d3_format(value_kind: object) -> str:
    """The d3-format specifier for hover values of ``value_kind``."""
    return _FORMATS.get(str(value_kind), _DEFAULT_FORMAT)


MAP_CONFIG = {"displaylogo": False, "responsive": True, "scrollZoom": False,
              "modeBarButtonsToRemove": ["select2d", "lasso2d", "toImage"]}
CHART_CONFIG = {"displayModeBar": False, "responsive": True}


def chart_layout(fig: Any, height: int, **axes: Any) -> Any:
    """The common look of report charts: height, margins, font, horizontal legend on top."""
    fig.update_layout(
        height=height, margin={"l": 56, "r": 16, "t": 36, "b": 48},
        font={"family": FONT_STACK, "size": 12}, paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="#fafafa", hoverlabel={"font": {"family": FONT_STACK}},
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}, **axes)
    return fig
