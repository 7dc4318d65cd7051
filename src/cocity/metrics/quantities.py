"""Units of measure and human-readable numbers for the diagnostics' tables, terminal and page.

Every figure shown to a person carries its unit and is rounded sensibly, never in scientific
notation: :func:`human` rounds to a few significant digits with thousands separators,
:func:`pvalue` writes small p-values as ``< 0.001``, and :func:`gravity_unit` gives the unit
the modified gravity formula produces from the units of its inputs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

Bilingual = Mapping[str, str]

_SUPERSCRIPT = str.maketrans("0123456789.-", "⁰¹²³⁴⁵⁶⁷⁸⁹·⁻")
POP_SCALE = 10_000  # persons per 万人, the population unit of the gravity model
POP_UNIT = {"zh": "万人", "en": "10⁴ persons"}


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def human(value: object, *, sig: int = 4, max_decimals: int = 6) -> str:
    """``value`` with ``sig`` significant digits (at least), thousands separators and no
    exponent: 12814763.2 → ``12,814,763``; 1281.476 → ``1,281``; 0.863183 → ``0.8632``;
    0.000012345 → ``0.000012``; whole numbers without decimals. ``None``/NaN → ``—``."""
    if _missing(value):
        return "—"
    v = float(value)  # type: ignore[arg-type]
    if not math.isfinite(v):
        return "∞" if v > 0 else "−∞"
    if v == 0:
        return "0"
    if v.is_integer():
        return f"{v:,.0f}"
    magnitude = math.floor(math.log10(abs(v)))
    decimals = min(max(0, sig - 1 - magnitude), max_decimals)
    text = f"{v:,.{decimals}f}"
    return "0" if float(text.replace(",", "")) == 0 else text


def fixed(value: object, decimals: int = 3) -> str:
    """``value`` with a fixed number of decimals (indices on a known scale, e.g. 0–1)."""
    return "—" if _missing(value) else f"{float(value):,.{decimals}f}"  # type: ignore[arg-type]


def percent(value: object, decimals: int = 1, *, scale: float = 1.0) -> str:
    """``value × scale`` as a percentage: ``percent(0.1234, scale=100)`` → ``12.3%``."""
    if _missing(value):
        return "—"
    return f"{float(value) * scale:.{decimals}f}%"  # type: ignore[arg-type]


def pvalue(value: object) -> str:
    """A p-value: three decimals, ``< 0.001`` below that."""
    if _missing(value):
        return "—"
    v = float(value)  # type: ignore[arg-type]
    return "< 0.001" if v < 0.001 else f"{v:.3f}"


def power(symbol: str, exponent: float) -> str:
    """``km`` with exponent 2 → ``km²``; 1 → ``km``; 0 → ``""``; 1.5 → ``km¹·⁵``."""
    if exponent == 0:
        return ""
    if exponent == 1:
        return symbol
    text = f"{exponent:g}".translate(_SUPERSCRIPT)
    return symbol + text


def gravity_unit(pop_unit: Bilingual, gdp_unit: Bilingual, b: float) -> dict[str, str]:
    """The unit of the modified gravity linkage ``k·√(P_i G_i)·√(P_j G_j)/D^b``:
    population unit · GDP unit / km^b (``k`` is a pure number), e.g. ``万人·亿元/km²``."""
    dist = power("km", b)
    return {lg: f"{pop_unit[lg]}·{gdp_unit[lg]}" + (f"/{dist}" if dist else "")
            for lg in ("zh", "en")}
