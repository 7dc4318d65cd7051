"""Shared look of the report's figures and page: fonts, colours and number formats."""

from __future__ import annotations

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
