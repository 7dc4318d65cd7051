"""Static SVG figures for printed reports: choropleth maps, interval charts and grouped bars.

WeasyPrint (the PDF writer, :mod:`cocity.report.pdf`) runs no JavaScript, so the plotly figures
of the HTML pages cannot appear in a PDF. These builders draw the same kinds of figures as plain
SVG documents, in pure Python (no matplotlib), and return them as strings that can be inlined in
an HTML page. Every text is XML-escaped and set in the report's :data:`FONT_STACK`; coordinates
are rounded to 0.1 px. Maps project longitude/latitude (EPSG:4326 axes) with an equirectangular
projection scaled by the cosine of the mean latitude (undistorted at the region's centre, which
is all a map of a city cluster needs), fitted to the drawn units.
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely

from cocity.i18n import t
from cocity.report.style import FONT_STACK, NO_DATA_COLOR, OUTLINE_COLOR, SIMULATED_COLOR

# The report's font stack without the CSS quoting, as an SVG presentation attribute expects it
# (renderers split on commas and strip quotes).
FONT_FAMILY = ", ".join(part.strip().strip("'\"") for part in FONT_STACK.split(","))
FONT_SIZE = 12
TEXT_COLOR = "#222222"
MUTED_COLOR = "#555555"
GRID_COLOR = "#dddddd"
AXIS_COLOR = "#888888"
BAND_COLOR = "#f5f5f5"
UNIT_STROKE = "#ffffff"

# Sequential palette for numbers (viridis, as the HTML maps use) and a qualitative one for
# categories without given colours (the d3 "category10" colours).
VIRIDIS = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e",
           "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725")
QUALITATIVE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")

#: boundaries simplified to this many pixels by default; map labels are always placed on them
LABEL_TOLERANCE_PX = 0.5

NumberFormat = str | Callable[[float], str] | None
LegendSpec = Sequence[tuple[str, str]] | Literal["auto"] | None


# ---------------------------------------------------------------------- text and numbers
def esc(text: object) -> str:
    """``text`` escaped for XML character data and attribute values."""
    return html.escape(str(text), quote=True)


def _n(value: float) -> str:
    """A coordinate rounded to 0.1 (``12``, ``12.5``, never ``-0``)."""
    out = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if out in ("-0", "") else out


def format_number(value: float, spec: NumberFormat = None) -> str:
    """``value`` formatted by a format spec or callable; by default whole numbers with
    thousands separators from 1,000 on and four significant digits below."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if callable(spec):
        return spec(value)
    if spec:
        return format(value, spec)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.4g}"


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Rough advance width of ``text`` in a CJK sans font: full width for CJK characters,
    about 0.58 em for Latin letters and digits."""
    width = 0.0
    for ch in str(text):
        if ord(ch) >= 0x2E80:
            width += 1.0
        elif ch in "il.,:;'|!":
            width += 0.3
        elif ch.isupper() or ch in "mwMW%":
            width += 0.72
        else:
            width += 0.58
    return width * size


def _text(x: float, y: float, text: object, *, size: float | None = None,
          anchor: str | None = None, weight: str | None = None, fill: str | None = None,
          cls: str | None = None) -> str:
    attrs = [f'x="{_n(x)}"', f'y="{_n(y)}"']
    if cls:
        attrs.append(f'class="{cls}"')
    if size:
        attrs.append(f'font-size="{_n(size)}"')
    if anchor:
        attrs.append(f'text-anchor="{anchor}"')
    if weight:
        attrs.append(f'font-weight="{weight}"')
    if fill:
        attrs.append(f'fill="{fill}"')
    return f"<text {' '.join(attrs)}>{esc(text)}</text>"


def _document(width: float, height: float, body: Iterable[str], title: str | None,
              cls: str) -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="cocity-figure {cls}" '
            f'width="{_n(width)}" height="{_n(height)}" '
            f'viewBox="0 0 {_n(width)} {_n(height)}" role="img" '
            f'font-family="{esc(FONT_FAMILY)}" font-size="{FONT_SIZE}" fill="{TEXT_COLOR}">')
    parts = [head]
    if title:
        parts.append(f"<title>{esc(title)}</title>")
    parts.extend(body)
    parts.append("</svg>")
    return "\n".join(parts)


def _title(title: str | None) -> tuple[list[str], float]:
    """The figure title as a text line and the height it takes."""
    if not title:
        return [], 0.0
    return [_text(8, 20, title, size=15, weight="bold", cls="figure-title")], 32.0


# ---------------------------------------------------------------------- colours and scales
def _rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def sample_palette(palette: Sequence[str], n: int) -> list[str]:
    """``n`` colours evenly spaced along ``palette`` (interpolated in RGB)."""
    if n <= 0:
        return []
    if n == 1:
        return [palette[len(palette) // 2]]
    rgb = np.array([_rgb(c) for c in palette], float)
    pos = np.linspace(0, len(palette) - 1, n)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(palette) - 1)
    frac = (pos - lo)[:, None]
    mixed = np.rint(rgb[lo] * (1 - frac) + rgb[hi] * frac).astype(int)
    return ["#{:02x}{:02x}{:02x}".format(*row) for row in mixed]


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering [lo, hi] (steps of 1, 2, 2.5 or 5 × 10^k)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError("axis limits must be finite")
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * 0.999)
    start = math.floor(lo / step + 1e-9) * step
    stop = math.ceil(hi / step - 1e-9) * step
    count = round((stop - start) / step)
    digits = max(0, -math.floor(math.log10(step)) + 1)
    return [round(start + i * step, digits) for i in range(count + 1)]


def _axis(domain: tuple[float, float] | None, lows: Iterable[float],
          highs: Iterable[float]) -> tuple[float, float, list[float]]:
    if domain is not None:
        lo, hi = float(domain[0]), float(domain[1])
        ticks = [v for v in nice_ticks(lo, hi) if lo - 1e-9 <= v <= hi + 1e-9]
        return lo, hi, ticks
    finite = [float(v) for v in (*lows, *highs) if v is not None and np.isfinite(v)]
    if not finite:
        return 0.0, 1.0, [0.0, 0.5, 1.0]
    ticks = nice_ticks(min(finite), max(finite))
    return ticks[0], ticks[-1], ticks


def _floats(values: Iterable[Any], n: int, what: str) -> np.ndarray:
    arr = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce")
    out = arr.to_numpy(float)
    if len(out) != n:
        raise ValueError(f"{what} has {len(out)} values for {n} labels")
    return out


def _row_colors(colors: str | Sequence[str] | None, n: int) -> list[str]:
    if colors is None:
        return [QUALITATIVE[0]] * n
    if isinstance(colors, str):
        return [colors] * n
    out = list(colors)
    if len(out) != n:
        raise ValueError(f"colors has {len(out)} entries for {n} labels")
    return out


# ---------------------------------------------------------------------- choropleth
def _rings(geom: Any) -> list[np.ndarray]:
    """Coordinate arrays of every ring (exteriors and holes) of a (multi)polygon."""
    if geom is None or geom.is_empty:
        return []
    polys = shapely.get_parts(geom)
    rings: list[np.ndarray] = []
    for poly in polys:
        if poly.geom_type == "Polygon":
            rings.append(shapely.get_coordinates(poly.exterior))
            rings.extend(shapely.get_coordinates(r) for r in poly.interiors)
        elif poly.geom_type in ("MultiPolygon", "GeometryCollection"):
            for sub in _rings(poly):
                rings.append(sub)
    return rings


class _Projection:
    """Equirectangular projection scaled by cos(mean latitude), fitted to a box."""

    def __init__(self, bounds: tuple[float, float, float, float], box_w: float, box_h: float | None,
                 left: float, top: float) -> None:
        x0, y0, x1, y1 = bounds
        self.coslat = math.cos(math.radians((y0 + y1) / 2))
        dx = max((x1 - x0) * self.coslat, 1e-9)
        dy = max(y1 - y0, 1e-9)
        self.k = box_w / dx if box_h is None else min(box_w / dx, box_h / dy)
        self.width, self.height = dx * self.k, dy * self.k
        self.x0, self.y1 = x0, y1
        self.left = left + (box_w - self.width) / 2
        self.top = top + (0 if box_h is None else (box_h - self.height) / 2)

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        out = np.empty_like(xy, dtype=float)
        out[:, 0] = self.left + (xy[:, 0] - self.x0) * self.coslat * self.k
        out[:, 1] = self.top + (self.y1 - xy[:, 1]) * self.k
        return out


def _tenths(value: int) -> str:
    """An integer number of tenths as a short SVG number: 12 → ``1.2``, -5 → ``-.5``."""
    whole, frac = divmod(abs(value), 10)
    sign = "-" if value < 0 else ""
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole or ''}.{frac}"


def _path_d(geom: Any, proj: _Projection) -> str:
    """SVG path data of a (multi)polygon: one closed subpath per ring, holes included (to be
    filled with ``fill-rule="evenodd"``). Points are rounded to 0.1 px, points that round onto
    the previous one dropped, and each ring after its first point written as relative moves
    (exact, as the deltas are taken between rounded points)."""
    parts = []
    for ring in _rings(geom):
        pts = np.rint(proj(ring[:, :2]) * 10).astype(np.int64)
        if len(pts) > 1:
            keep = np.ones(len(pts), bool)
            keep[1:] = np.any(pts[1:] != pts[:-1], axis=1)
            pts = pts[keep]
        if len(pts) > 1 and np.array_equal(pts[0], pts[-1]):
            pts = pts[:-1]
        if len(pts) < 3:
            continue
        steps = " ".join(_tenths(int(v)) for v in np.diff(pts, axis=0).ravel())
        parts.append(f"M{_tenths(int(pts[0, 0]))} {_tenths(int(pts[0, 1]))}"
                     f"l{steps.replace(' -', '-')}z")
    return "".join(parts)


def simplify_coverage(geoms: Sequence[Any], tolerance: float) -> list[Any]:
    """Simplify adjoining boundaries by ``tolerance`` (degrees) without opening gaps between
    neighbours (``shapely.coverage_simplify``, GEOS ≥ 3.12); falls back to simplifying each
    geometry on its own with its topology preserved. The last results are kept (keyed by the
    geometries' content): a report draws the same boundaries at the same size in each
    language."""
    if tolerance <= 0 or not len(geoms):
        return list(geoms)
    return list(_simplified(tuple(geoms), float(tolerance)))


@functools.lru_cache(maxsize=32)
def _simplified(geoms: tuple[Any, ...], tolerance: float) -> tuple[Any, ...]:
    arr = np.asarray(list(geoms), dtype=object)
    simplify = getattr(shapely, "coverage_simplify", None)
    if simplify is not None:
        try:
            out = simplify(arr, tolerance)
            if all(g is not None and not g.is_empty for g in out):
                return tuple(out)
        except Exception:  # not a valid coverage or GEOS too old: simplify one by one
            pass
    return tuple(shapely.simplify(arr, tolerance, preserve_topology=True))


def _unit_codes(geo: Any) -> pd.Index:
    codes = geo["code"] if "code" in geo.columns else geo.index.to_series()
    return pd.Index(codes.astype(str).to_numpy())


def _unit_names(geo: Any, lang: str | None) -> list[str]:
    codes = list(_unit_codes(geo))
    column = f"name_{lang or 'zh'}"
    if column not in geo.columns:
        return codes
    names = geo[column].astype(object).to_numpy()
    return [f"{n} ({c})" if isinstance(n, str) and n else c
            for n, c in zip(names, codes, strict=True)]


def _classes(vals: pd.Series, bins: int | Sequence[float], palette: Sequence[str],
             number_format: NumberFormat) -> tuple[pd.Series, list[tuple[str, str, int]]]:
    """Colours of numeric values in equal-interval classes with round breaks (``bins`` about
    how many) or the given class edges; the legend entries (label, colour, count)."""
    have = vals.dropna().astype(float)
    if have.empty:
        return pd.Series(np.nan, index=vals.index, dtype=object), []
    if isinstance(bins, int):
        edges = nice_ticks(float(have.min()), float(have.max()), max(bins, 1))
    else:
        edges = sorted(float(b) for b in bins)
        if len(edges) < 2:
            raise ValueError("bins needs at least two class edges")
    n = len(edges) - 1
    colors = sample_palette(palette, n)
    index = np.clip(np.searchsorted(edges[1:-1], have.to_numpy(), side="right"), 0, n - 1)
    fills = pd.Series(np.nan, index=vals.index, dtype=object)
    fills.loc[have.index] = np.array([colors[i] for i in index], dtype=object)
    counts = np.bincount(index, minlength=n)
    legend = [(f"{format_number(edges[i], number_format)} – "
               f"{format_number(edges[i + 1], number_format)}", colors[i], int(counts[i]))
              for i in range(n)]
    return fills, legend


def _categories(vals: pd.Series, colors: Mapping[str, str] | None
                ) -> tuple[pd.Series, list[tuple[str, str, int]]]:
    """Colours of categorical labels (given ones first, then the qualitative palette)."""
    have = vals.dropna().astype(str)
    mapping = dict(colors or {})
    spare = [c for c in QUALITATIVE if c not in mapping.values()]
    for label in pd.unique(have):
        if label not in mapping:
            mapping[label] = spare.pop(0) if spare else QUALITATIVE[len(mapping) % 10]
    fills = pd.Series(np.nan, index=vals.index, dtype=object)
    fills.loc[have.index] = have.map(mapping)
    counts = have.value_counts()
    legend = [(label, color, int(counts.get(label, 0))) for label, color in mapping.items()
              if counts.get(label, 0) > 0]
    return fills, legend


def choropleth_svg(
    geo: Any,
    values: pd.Series,
    *,
    colors: Mapping[str, str] | None = None,
    palette: Sequence[str] = VIRIDIS,
    bins: int | Sequence[float] = 5,
    legend: LegendSpec = "auto",
    legend_title: str | None = None,
    title: str | None = None,
    width: float = 640,
    height: float | None = None,
    highlight: Iterable[str] | None = None,
    highlight_label: str | None = None,
    outline: Any = None,
    number_format: NumberFormat = None,
    tolerance: float | None = None,
    tolerance_px: float = LABEL_TOLERANCE_PX,
    lang: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> str:
    """A choropleth map of ``values`` (indexed by unit code) over the units of ``geo`` (a
    GeoDataFrame in EPSG:4326 axes with a ``code`` column, or indexed by code).

    Categorical values (strings, or any values when ``colors`` is given) take ``colors[label]``
    or a qualitative colour; numbers are put in about ``bins`` equal-interval classes with
    round breaks (or between the given class edges) coloured along ``palette``. Units without
    a value are grey. ``legend="auto"`` lists the classes with their counts and "no data";
    a list of ``(label, colour)`` replaces it, ``None`` draws none. ``highlight`` codes are
    outlined in red (``highlight_label`` adds them to the legend); ``outline`` (another
    GeoDataFrame, e.g. prefectures over counties) is drawn as borders on top. Boundaries are
    simplified to ``tolerance_px`` pixels of the figure, half a pixel by default
    (``tolerance`` in degrees overrides). Each unit is one
    ``<path class="unit" data-code=…>`` with its name as a tooltip. ``labels`` (unit code →
    text: a name, or a number keyed to a table) are written on the units, at a point inside
    each (``shapely.point_on_surface``), with a white halo, so that a reader finds a unit on
    paper.
    """
    codes = _unit_codes(geo)
    geoms = list(geo.geometry)
    names = _unit_names(geo, lang)
    drawn = [i for i, g in enumerate(geoms) if g is not None and not g.is_empty]
    if not drawn:
        raise ValueError("no unit has a geometry to draw")
    vals = values.copy()
    vals.index = vals.index.astype(str)
    if vals.index.has_duplicates:
        raise ValueError("values has duplicate unit codes")
    # only the drawn units count: classes, legend counts and "no data" are what the map shows
    vals = vals.reindex(codes[drawn])
    vals.index = pd.RangeIndex(len(drawn))
    numeric = (colors is None and pd.api.types.is_numeric_dtype(values.dtype)
               and not pd.api.types.is_bool_dtype(values.dtype))
    if numeric:
        fills, entries = _classes(vals, bins, palette, number_format)
    else:
        fills, entries = _categories(vals.astype(object).where(vals.notna(), None), colors)
    fill_list = [c if isinstance(c, str) else NO_DATA_COLOR for c in fills.to_numpy()]
    missing = sum(1 for c in fills.to_numpy() if not isinstance(c, str))

    # legend entries: (label, fill, stroke)
    items: list[tuple[str, str, str | None]] = []
    if legend == "auto":
        items = [(f"{label} ({count})", color, None) for label, color, count in entries]
        if missing:
            items.append((f"{t('static.map.no_data', lang)} ({missing})", NO_DATA_COLOR, None))
    elif legend is not None:
        items = [(str(label), color, None) for label, color in legend]
    highlight_set = {str(c) for c in (highlight or ())}
    if highlight_set and highlight_label and legend is not None:
        items.append((highlight_label, "none", SIMULATED_COLOR))

    # layout: title on top, map on the left, legend column on the right
    pad = 8.0
    head, title_h = _title(title)
    swatch, line_h = 14.0, 20.0
    label_w = max([text_width(label) for label, _, _ in items]
                  + [text_width(legend_title or "", FONT_SIZE)], default=0.0)
    legend_w = (swatch + 8 + label_w + 2 * pad) if items else 0.0
    legend_h = (len(items) + (1 if legend_title else 0)) * line_h
    box_w = width - legend_w - 2 * pad
    if box_w < width * 0.4:
        raise ValueError("the legend leaves too little room for the map; widen the figure")
    bounds = tuple(shapely.total_bounds(np.asarray([geoms[i] for i in drawn], dtype=object)))
    box_h = None if height is None else max(height - title_h - 2 * pad, 10.0)
    proj = _Projection(bounds, box_w, box_h, pad, title_h + pad)
    if height is None:
        height = max(title_h + proj.height + 2 * pad, title_h + legend_h + 2 * pad)
    tol = tolerance if tolerance is not None else tolerance_px / proj.k
    simple = simplify_coverage([geoms[i] for i in drawn], tol)

    body = list(head)
    body.append(f'<g class="units" stroke="{UNIT_STROKE}" stroke-width="0.5" '
                f'stroke-linejoin="round">')
    highlighted = []
    for pos, (i, geom) in enumerate(zip(drawn, simple, strict=True)):
        d = _path_d(geom, proj)
        if not d:
            continue
        body.append(f'<path class="unit" data-code="{esc(codes[i])}" fill="{fill_list[pos]}" '
                    f'fill-rule="evenodd" d="{d}"><title>{esc(names[i])}</title></path>')
        if codes[i] in highlight_set:
            highlighted.append(d)
    body.append("</g>")
    if outline is not None:
        shapes = [g for g in outline.geometry if g is not None and not g.is_empty]
        body.append(f'<g class="outline" fill="none" stroke="{OUTLINE_COLOR}" '
                    f'stroke-width="1" stroke-linejoin="round">')
        body.extend(f'<path d="{d}"/>' for d in
                    (_path_d(g, proj) for g in simplify_coverage(shapes, tol)) if d)
        body.append("</g>")
    if highlighted:
        body.append(f'<g class="highlight" fill="none" stroke="{SIMULATED_COLOR}" '
                    f'stroke-width="1.6" stroke-linejoin="round">')
        body.extend(f'<path fill-rule="evenodd" d="{d}"/>' for d in highlighted)
        body.append("</g>")
    if labels:
        # placed on the boundaries simplified to half a pixel whatever the drawing's
        # tolerance, so that a coarser drawing does not move them
        placed = simple if tolerance is not None or tolerance_px == LABEL_TOLERANCE_PX else \
            simplify_coverage([geoms[i] for i in drawn], LABEL_TOLERANCE_PX / proj.k)
        body.extend(_map_labels(labels, [codes[i] for i in drawn], placed, proj))
    if items:
        x = width - legend_w + pad
        y = title_h + pad
        body.append('<g class="legend">')
        if legend_title:
            body.append(_text(x, y + 14, legend_title, weight="bold"))
            y += line_h
        for label, color, stroke in items:
            stroke_attr = (f' stroke="{stroke}" stroke-width="1.6"' if stroke
                           else ' stroke="#999999" stroke-width="0.5"')
            body.append(f'<rect x="{_n(x)}" y="{_n(y + 3)}" width="{_n(swatch)}" '
                        f'height="{_n(swatch - 2)}" fill="{color}"{stroke_attr}/>')
            body.append(_text(x + swatch + 6, y + 14, label, cls="legend-label"))
            y += line_h
        body.append("</g>")
    return _document(width, height, body, title, "cocity-map")


def _map_labels(labels: Mapping[str, str], codes: Sequence[str], geoms: Sequence[Any],
               proj: _Projection) -> list[str]:
    """Text labels at a point inside each labelled unit, with a white halo."""
    chosen = [(str(labels[c]), g) for c, g in zip(codes, geoms, strict=True)
              if c in labels and labels[c] not in (None, "")]
    if not chosen:
        return []
    size = 7 if len(chosen) > 40 else 9
    pts = proj(shapely.get_coordinates(shapely.point_on_surface(
        np.asarray([g for _, g in chosen], dtype=object))))
    out = [f'<g class="labels" font-size="{size}" text-anchor="middle" stroke="#ffffff" '
           f'stroke-width="2" stroke-linejoin="round" paint-order="stroke" fill="{TEXT_COLOR}">']
    out += [f'<text class="map-label" x="{_n(x)}" y="{_n(y + size / 3)}">{esc(text)}</text>'
            for (text, _), (x, y) in zip(chosen, pts, strict=True)]
    out.append("</g>")
    return out


# ---------------------------------------------------------------------- charts
def _x_axis(ticks: list[float], scale: Callable[[float], float], top: float, bottom: float,
            axis_title: str, number_format: NumberFormat, left: float, right: float) -> list[str]:
    out = [f'<g class="axis" stroke="{GRID_COLOR}" stroke-width="0.8">']
    out.extend(f'<line x1="{_n(scale(v))}" y1="{_n(top)}" x2="{_n(scale(v))}" '
               f'y2="{_n(bottom)}"/>' for v in ticks)
    out.append(f'<line x1="{_n(left)}" y1="{_n(bottom)}" x2="{_n(right)}" y2="{_n(bottom)}" '
               f'stroke="{AXIS_COLOR}"/>')
    out.append("</g>")
    out.extend(_text(scale(v), bottom + 15, format_number(v, number_format), size=11,
                     anchor="middle", fill=MUTED_COLOR) for v in ticks)
    if axis_title:
        out.append(_text((left + right) / 2, bottom + 33, axis_title, anchor="middle",
                         cls="axis-title"))
    return out


def _label_column(labels: Sequence[str], width: float) -> float:
    widest = max((text_width(s) for s in labels), default=0.0)
    return min(max(widest + 14, 40.0), width * 0.4)


def interval_chart_svg(
    labels: Sequence[str],
    values: Sequence[float],
    low: Sequence[float],
    high: Sequence[float],
    *,
    colors: str | Sequence[str] | None = None,
    axis_title: str = "",
    title: str | None = None,
    width: float = 640,
    row_height: float = 20,
    domain: tuple[float, float] | None = None,
    reference: float | None = None,
    number_format: NumberFormat = None,
) -> str:
    """A horizontal dot-and-whisker chart: one row per label, a dot at the value and a line
    from ``low`` to ``high`` (e.g. a score or rank with its 5–95 % interval). Missing values
    draw no mark. ``colors`` is one colour or one per row; ``domain`` fixes the axis range;
    ``reference`` draws a dashed vertical line (e.g. the mean)."""
    labels = [str(s) for s in labels]
    n = len(labels)
    vals = _floats(values, n, "values")
    lows = _floats(low, n, "low")
    highs = _floats(high, n, "high")
    row_colors = _row_colors(colors, n)
    head, title_h = _title(title)
    label_w = _label_column(labels, width)
    left, right = 8 + label_w, width - 16
    top = title_h + 6
    bottom = top + n * row_height
    lo, hi, ticks = _axis(domain, [*vals, *lows], [*vals, *highs])
    span = (hi - lo) or 1.0

    def scale(v: float) -> float:
        return left + (min(max(v, lo), hi) - lo) / span * (right - left)

    body = list(head)
    body.extend(f'<rect class="band" x="{_n(left)}" y="{_n(top + i * row_height)}" '
                f'width="{_n(right - left)}" height="{_n(row_height)}" fill="{BAND_COLOR}"/>'
                for i in range(0, n, 2))
    body.extend(_x_axis(ticks, scale, top, bottom, axis_title, number_format, left, right))
    if reference is not None and math.isfinite(reference):
        body.append(f'<line class="reference" x1="{_n(scale(reference))}" y1="{_n(top)}" '
                    f'x2="{_n(scale(reference))}" y2="{_n(bottom)}" stroke="{MUTED_COLOR}" '
                    f'stroke-width="1" stroke-dasharray="4 3"/>')
    for i, label in enumerate(labels):
        cy = top + (i + 0.5) * row_height
        body.append(_text(left - 8, cy + 4, label, anchor="end", cls="row-label"))
        color = row_colors[i]
        if np.isfinite(lows[i]) and np.isfinite(highs[i]):
            x0, x1 = scale(lows[i]), scale(highs[i])
            cap = row_height * 0.25
            body.append(f'<path class="whisker" d="M{_n(x0)} {_n(cy)}H{_n(x1)}'
                        f'M{_n(x0)} {_n(cy - cap)}V{_n(cy + cap)}'
                        f'M{_n(x1)} {_n(cy - cap)}V{_n(cy + cap)}" '
                        f'stroke="{color}" stroke-width="1.4" fill="none"/>')
        if np.isfinite(vals[i]):
            body.append(f'<circle class="dot" cx="{_n(scale(vals[i]))}" cy="{_n(cy)}" '
                        f'r="{_n(min(4.0, row_height * 0.25))}" fill="{color}" '
                        f'stroke="#ffffff" stroke-width="0.8"/>')
    height = bottom + (42 if axis_title else 26)
    return _document(width, height, body, title, "cocity-interval")


def bar_chart_svg(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    colors: Mapping[str, str] | Sequence[str] | None = None,
    axis_title: str = "",
    title: str | None = None,
    width: float = 640,
    bar_height: float = 9,
    domain: tuple[float, float] | None = None,
    show_values: bool = False,
    number_format: NumberFormat = None,
) -> str:
    """Grouped horizontal bars: one group per label, one bar per series (e.g. dimension
    profiles of a few units), bars drawn from zero so negative values point left, a legend of
    the series on top. Missing values draw no bar."""
    labels = [str(s) for s in labels]
    n = len(labels)
    names = [str(k) for k in series]
    data = [_floats(v, n, f"series {k!r}") for k, v in series.items()]
    if colors is None:
        palette = [QUALITATIVE[i % len(QUALITATIVE)] for i in range(len(names))]
    elif isinstance(colors, Mapping):
        palette = [colors.get(k, QUALITATIVE[i % 10]) for i, k in enumerate(names)]
    else:
        palette = list(colors)
        if len(palette) < len(names):
            raise ValueError("fewer colors than series")
    head, title_h = _title(title)
    label_w = _label_column(labels, width)
    left, right = 8 + label_w, width - (56 if show_values else 16)

    # legend of the series, wrapped over as many lines as needed
    legend: list[str] = []
    x, y = left, title_h + 4
    for name, color in zip(names, palette, strict=False):
        item_w = 12 + 6 + text_width(name) + 18
        if x + item_w > width - 8 and x > left:
            x, y = left, y + 18
        legend.append(f'<rect x="{_n(x)}" y="{_n(y + 2)}" width="12" height="10" '
                      f'fill="{color}"/>')
        legend.append(_text(x + 18, y + 12, name, cls="legend-label"))
        x += item_w
    top = (y + 24) if names else title_h + 6
    gap = bar_height * 0.8
    group_h = len(names) * bar_height + gap
    bottom = top + n * group_h
    lows = [min([0.0, *(v for v in col if np.isfinite(v))]) for col in data] or [0.0]
    highs = [max([0.0, *(v for v in col if np.isfinite(v))]) for col in data] or [1.0]
    lo, hi, ticks = _axis(domain, lows, highs)
    span = (hi - lo) or 1.0

    def scale(v: float) -> float:
        return left + (min(max(v, lo), hi) - lo) / span * (right - left)

    body = list(head)
    body.append('<g class="legend">')
    body.extend(legend)
    body.append("</g>")
    body.extend(f'<rect class="band" x="{_n(left)}" y="{_n(top + i * group_h)}" '
                f'width="{_n(right - left)}" height="{_n(group_h)}" fill="{BAND_COLOR}"/>'
                for i in range(0, n, 2))
    body.extend(_x_axis(ticks, scale, top, bottom, axis_title, number_format, left, right))
    zero = scale(0.0)
    for i, label in enumerate(labels):
        y0 = top + i * group_h + gap / 2
        body.append(_text(left - 8, top + (i + 0.5) * group_h + 4, label, anchor="end",
                          cls="row-label"))
        for j, col in enumerate(data):
            v = col[i]
            if not np.isfinite(v):
                continue
            x0, x1 = sorted((zero, scale(v)))
            by = y0 + j * bar_height
            body.append(f'<rect class="bar" data-series="{esc(names[j])}" x="{_n(x0)}" '
                        f'y="{_n(by)}" width="{_n(max(x1 - x0, 0.5))}" '
                        f'height="{_n(bar_height * 0.9)}" fill="{palette[j]}"/>')
            if show_values:  # beyond the bar's end: right of positive, left of negative bars
                body.append(_text(x1 + 3 if v >= 0 else x0 - 3, by + bar_height * 0.8,
                                  format_number(v, number_format), size=min(10.0, bar_height + 1),
                                  anchor=None if v >= 0 else "end", fill=MUTED_COLOR))
    body.append(f'<line x1="{_n(zero)}" y1="{_n(top)}" x2="{_n(zero)}" y2="{_n(bottom)}" '
                f'stroke="{AXIS_COLOR}" stroke-width="0.8"/>')
    height = bottom + (42 if axis_title else 26)
    return _document(width, height, body, title, "cocity-bars")


def line_chart_svg(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    axis_title: str = "",
    title: str | None = None,
    width: float = 640,
    height: float = 300,
    domain: tuple[float, float] | None = None,
    number_format: NumberFormat = None,
    max_labels: int = 12,
) -> str:
    """A trend over ordered categories (e.g. quarters): one line with markers per series,
    broken where a value is missing, a legend on top, the y axis from ``domain`` or from zero
    to the data's maximum; at most ``max_labels`` category labels, evenly thinned (the first
    and last always shown)."""
    labels = [str(s) for s in labels]
    n = len(labels)
    names = [str(k) for k in series]
    data = [_floats(v, n, f"series {k!r}") for k, v in series.items()]
    palette = [QUALITATIVE[i % len(QUALITATIVE)] for i in range(len(names))]
    head, title_h = _title(title)
    ticks_y = domain
    highs = [max([0.0, *(v for v in col if np.isfinite(v))]) for col in data] or [1.0]
    lo, hi, ticks = _axis(ticks_y, [0.0], highs)
    span = (hi - lo) or 1.0
    tick_w = max((text_width(format_number(v, number_format), 11) for v in ticks), default=20)
    left, right = 14 + tick_w + (16 if axis_title else 0), width - 16
    legend: list[str] = []
    x, y = left, title_h + 4
    for name, color in zip(names, palette, strict=True):
        item_w = 12 + 6 + text_width(name) + 18
        if x + item_w > width - 8 and x > left:
            x, y = left, y + 18
        legend.append(f'<rect x="{_n(x)}" y="{_n(y + 4)}" width="12" height="4" '
                      f'fill="{color}"/>')
        legend.append(_text(x + 18, y + 12, name, cls="legend-label"))
        x += item_w
    top = y + 26
    bottom = height - 30

    def sx(i: float) -> float:
        return left + (right - left) * (0.5 if n == 1 else i / (n - 1))

    def sy(v: float) -> float:
        return bottom - (min(max(v, lo), hi) - lo) / span * (bottom - top)

    body = [*head, '<g class="legend">', *legend, "</g>",
            f'<g class="axis" stroke="{GRID_COLOR}" stroke-width="0.8">']
    body.extend(f'<line x1="{_n(left)}" y1="{_n(sy(v))}" x2="{_n(right)}" y2="{_n(sy(v))}"/>'
                for v in ticks)
    body.append(f'<line x1="{_n(left)}" y1="{_n(bottom)}" x2="{_n(right)}" y2="{_n(bottom)}" '
                f'stroke="{AXIS_COLOR}"/>')
    body.append("</g>")
    body.extend(_text(left - 6, sy(v) + 4, format_number(v, number_format), size=11,
                      anchor="end", fill=MUTED_COLOR) for v in ticks)
    if axis_title:
        body.append(f'<text x="12" y="{_n((top + bottom) / 2)}" class="axis-title" '
                    f'text-anchor="middle" transform="rotate(-90 12 {_n((top + bottom) / 2)})">'
                    f'{esc(axis_title)}</text>')
    step = max(1, math.ceil(n / max(max_labels, 1)))
    shown = list(range(0, n, step))
    if n and shown[-1] != n - 1:  # the last label replaces a thinned one too close to it
        shown = [*shown[:-1], n - 1] if n - 1 - shown[-1] < step else [*shown, n - 1]
    body.extend(_text(sx(i), bottom + 16, labels[i], size=10, anchor="middle",
                      fill=MUTED_COLOR, cls="x-label") for i in shown)
    for name, col, color in zip(names, data, palette, strict=True):
        runs: list[list[str]] = [[]]
        for i, v in enumerate(col):
            if np.isfinite(v):
                runs[-1].append(f"{_n(sx(i))},{_n(sy(v))}")
            elif runs[-1]:
                runs.append([])
        for run in runs:
            if len(run) > 1:
                body.append(f'<polyline class="line" data-series="{esc(name)}" fill="none" '
                            f'stroke="{color}" stroke-width="1.6" points="{" ".join(run)}"/>')
        body.extend(f'<circle class="marker" data-series="{esc(name)}" cx="{_n(sx(i))}" '
                    f'cy="{_n(sy(v))}" r="{2.2 if n > 24 else 3}" fill="{color}"/>'
                    for i, v in enumerate(col) if np.isfinite(v))
    return _document(width, height, body, title, "cocity-lines")
