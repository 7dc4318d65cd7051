"""Cell-level parsing and checks for importers: numbers, years, units, indicators, units of measure.

Each parser takes one raw cell and returns a clean value or raises :class:`CellError` carrying a
message and a hint (both localised through :func:`cocity.i18n.t`); the caller adds file, row and
column and collects every issue before anything is written.

Rules for values (documented in the user guide and tested):

* A blank cell is a missing value: the importer writes no observation for it.
* Numbers may carry thousands separators (``1,234,567``) and full-width digits; ``−`` (U+2212)
  counts as a minus sign. Anything else (``abc``, ``—``, ``-``, ``N/A``, ``#DIV/0!``, dates,
  TRUE/FALSE) is an error, as are ``nan`` and ``inf``.
* A trailing ``%`` (or an Excel percent format) is accepted for shares only: 55.2% is stored as
  55.2 for ``share_pct`` indicators and as 0.552 for ``share_01`` ones.
* A unit of measure given in a header (``常住人口（万人）``), a units row or a unit column that
  differs from the catalog's is converted when both are units of one dimension (万人 → 人,
  万元/亿元 → the catalog's 元/万元/亿元, ‰ ↔ %, % ↔ share); see :mod:`cocity.data.uom`.
* Plausible ranges (``bounds.yaml``), checked after conversion: by the catalog's ``value_kind``
  (count ≥ 0, share_pct 0–100, share_01 0–1, ratio ≥ 0, and no magnitude beyond 1e12) and,
  tighter, by its unit (a population in 人 cannot exceed China's). The message names the
  bound and its reason.
* Formulas without a saved value (a workbook never calculated by Excel) are errors, not blanks.
* Years are whole numbers from 1900 to 2100 (``2020``, ``2020.0``, ``2020年``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections import defaultdict

import pandas as pd

from cocity.data.errors import AmbiguousUnitError, UnitNotFoundError
from cocity.data.import_read import Cell, FormulaCell, PercentCell
from cocity.data.units import LEVEL_PREFERENCE, UnitIndex, normalize
from cocity.data.uom import Bounds, bounds_for, conversion, header_aliases, no_unit
from cocity.i18n import current_lang, t

YEAR_MIN, YEAR_MAX = 1900, 2100

NUMBER_PATTERN = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
_NUMBER = re.compile(f"^{NUMBER_PATTERN}$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_YEAR_TEXT = re.compile(r"^(\d{4})(\.0+)?(年|年度)?$")
_TRAILING_UNIT = re.compile(r"^(.*?)\s*\(([^()]*)\)\s*$")
# Labels of total rows in yearbooks, which are not units.
_TOTALS = {normalize(x) for x in ("合计", "总计", "小计", "全省", "全市", "全国", "全区", "总体",
                                  "total", "subtotal", "sum", "all")}


class CellError(Exception):
    """A problem with one cell: a localised message and a hint saying what to do."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


def is_blank(cell: Cell) -> bool:
    """True for an empty cell or one holding only whitespace."""
    return cell is None or (isinstance(cell, str) and not cell.strip())


def cell_text(cell: Cell) -> str:
    """The cell as a user would read it: ``2020`` (not ``2020.0``), ``55.2%`` for percent cells."""
    if cell is None:
        return ""
    if isinstance(cell, FormulaCell):
        return cell.formula
    if isinstance(cell, PercentCell):
        return f"{cell.fraction * 100:.10g}%"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _number_text(text: str) -> str:
    """Fold full-width characters and the Unicode minus, drop surrounding spaces."""
    return unicodedata.normalize("NFKC", text).replace("\u2212", "-").strip()


# ------------------------------------------------------------------ values
def format_value(value: float) -> str:
    """A stored value at full precision for messages: ``17012.65`` (never rounded to
    ``17012.7``), head-counts as whole numbers (``20937757``, never ``2.09378e+07``)."""
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(float(value))


def _shown_bound(value: float) -> str:
    """A bound for messages: ``1,500,000,000``, ``100``, ``0.5``."""
    return f"{int(value):,}" if value.is_integer() and abs(value) < 1e16 else f"{value:g}"


def parse_number(cell: Cell, value_kind: str) -> tuple[float, bool]:
    """The number in a non-blank cell and whether it carried its own percent sign (then it is
    already on the scale of ``value_kind``); raises CellError for anything else."""
    shown = cell_text(cell)
    if isinstance(cell, FormulaCell):
        raise CellError(t("import.value.formula", value=shown), t("import.value.formula_hint"))
    if isinstance(cell, bool):
        raise CellError(t("import.value.not_number", value=shown),
                        t("import.value.not_number_hint"))
    if isinstance(cell, dt.datetime | dt.date | dt.time | dt.timedelta):
        raise CellError(t("import.value.date", value=shown), t("import.value.date_hint"))
    if isinstance(cell, PercentCell):
        value, percent = _from_percent(cell.fraction * 100, value_kind, shown), True
    elif isinstance(cell, int | float):
        value, percent = float(cell), False
    else:
        text = _number_text(str(cell))
        percent = text.endswith("%")
        if percent:
            text = text[:-1].strip()
        if _GROUPED.match(text):
            text = text.replace(",", "")
        if not _NUMBER.match(text):
            raise CellError(t("import.value.not_number", value=shown),
                            t("import.value.not_number_hint"))
        value = float(text)
        if percent:
            value = _from_percent(value, value_kind, shown)
    if not math.isfinite(value):
        raise CellError(t("import.value.not_finite", value=shown),
                        t("import.value.not_number_hint"))
    return value, percent


def parse_value(cell: Cell, value_kind: str, *, factor: float = 1.0,
                bounds: Bounds | None = None) -> float | None:
    """A finite float in the catalog's unit (``factor`` converts the unit the file gives)
    within the plausible range, or ``None`` for a blank cell."""
    if is_blank(cell):
        return None
    value, percent = parse_number(cell, value_kind)
    if factor != 1.0 and not percent:
        value = float(f"{value * factor:.15g}")
    check_range(value, value_kind, cell_text(cell), bounds=bounds, converted=factor != 1.0
                and not percent)
    return value


def _from_percent(percent: float, value_kind: str, shown: str) -> float:
    """Convert a percentage to the scale of ``value_kind`` (only shares accept percentages)."""
    if value_kind == "share_pct":
        return float(f"{percent:.12g}")
    if value_kind == "share_01":
        return float(f"{percent / 100:.12g}")
    raise CellError(t("import.value.percent", value=shown, kind=t(f"import.kind.{value_kind}")),
                    t("import.value.percent_hint"))


def looks_numeric(cell: Cell) -> bool:
    """True if ``cell`` would parse as a number (used to tell data rows from header rows)."""
    if is_blank(cell) or isinstance(cell, bool):
        return False
    if isinstance(cell, int | float | PercentCell):
        return True
    if isinstance(cell, str):
        text = _number_text(cell).rstrip("%").strip()
        return bool(_NUMBER.match(text) or _GROUPED.match(text))
    return False


def check_range(value: float, value_kind: str, shown: str | None = None, *,
                bounds: Bounds | None = None, converted: bool = False) -> None:
    """Raise CellError if ``value`` is impossible or implausible for an indicator of
    ``value_kind`` (``bounds``: its range from ``bounds.yaml``, default the kind's)."""
    shown = shown if shown is not None else format_value(value)
    if converted:
        shown = f"{shown} → {format_value(value)}"
    kind = t(f"import.kind.{value_kind}")
    b = bounds if bounds is not None else bounds_for(value_kind, None, None)
    if value_kind in ("count", "ratio") and value < 0 <= b.low:
        raise CellError(t("import.value.negative", value=shown, kind=kind),
                        t("import.value.negative_hint"))
    if value_kind == "share_pct" and not 0 <= value <= 100:
        raise CellError(t("import.value.range", value=shown, kind=kind, low=0, high=100),
                        t("import.value.share_pct_hint"))
    if value_kind == "share_01" and not 0 <= value <= 1:
        raise CellError(t("import.value.range", value=shown, kind=kind, low=0, high=1),
                        t("import.value.share_01_hint"))
    if value > b.high:
        raise CellError(t("import.value.too_large", value=shown, high=_shown_bound(b.high),
                          reason=b.reason), t("import.value.implausible_hint"))
    if value < b.low:
        raise CellError(t("import.value.too_small", value=shown, low=_shown_bound(b.low),
                          reason=b.reason), t("import.value.implausible_hint"))


# ------------------------------------------------------------------ years
def year_of(cell: Cell) -> int | None:
    """The year a cell or header label holds (``2020``, ``2020.0``, ``2020年``), else ``None``."""
    if isinstance(cell, bool) or cell is None:
        return None
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        return int(cell) if cell.is_integer() else None
    if isinstance(cell, str):
        m = _YEAR_TEXT.match(_number_text(cell))
        return int(m.group(1)) if m else None
    return None


def is_year_label(cell: Cell) -> bool:
    """True if a header cell names a plausible year (used for year-per-column layouts)."""
    y = year_of(cell)
    return y is not None and YEAR_MIN <= y <= YEAR_MAX


def parse_year(cell: Cell) -> int:
    """A whole year from 1900 to 2100, or raise CellError."""
    shown = cell_text(cell)
    if is_blank(cell):
        raise CellError(t("import.year.missing"), t("import.year.hint"))
    y = year_of(cell)
    if y is None:
        raise CellError(t("import.year.not_year", value=shown), t("import.year.hint"))
    if not YEAR_MIN <= y <= YEAR_MAX:
        raise CellError(t("import.year.implausible", value=shown, low=YEAR_MIN, high=YEAR_MAX),
                        t("import.year.hint"))
    return y


# ------------------------------------------------------------------ units (places)
def unit_text(cell: Cell) -> str:
    """Text to resolve as a unit: integers and Excel floats such as 510100.0 become codes."""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return cell_text(cell)


class UnitResolver:
    """Resolve unit cells to GB/T 2260 codes with localised errors; caches each distinct text."""

    def __init__(self, index: UnitIndex):
        self.index = index
        self._cache: dict[str, str | CellError] = {}

    def resolve(self, cell: Cell) -> str:
        """The code of the unit a cell names, or raise CellError (unknown, ambiguous, blank)."""
        if is_blank(cell):
            raise CellError(t("import.unit.missing"), t("import.unit.unknown_hint"))
        text = unit_text(cell)
        hit = self._cache.get(text)
        if hit is None:
            hit = self._resolve(text)
            self._cache[text] = hit
        if isinstance(hit, CellError):
            raise hit
        return hit

    def _resolve(self, text: str) -> str | CellError:
        try:
            return self.index.resolve(text)
        except UnitNotFoundError:
            total = normalize(text) in _TOTALS
            return CellError(t("import.unit.unknown", value=text),
                             t("import.unit.total_hint" if total else "import.unit.unknown_hint"))
        except AmbiguousUnitError:
            found = self.candidates(text)
            listed = self.listed(found)
            return CellError(t("import.unit.ambiguous", value=text, candidates=listed),
                             t("import.unit.ambiguous_hint"))

    def listed(self, codes: set[str]) -> str:
        """``内江市市中区 (511002)、乐山市市中区 (511102)`` for messages."""
        sep = "、" if current_lang() == "zh" else ", "
        return sep.join(f"{self.index.qualified_name(c)} ({c})" for c in sorted(codes))

    def candidates(self, text: str) -> set[str]:
        """Codes ``text`` could mean at the level that resolution prefers (for messages)."""
        found = self.index.candidates(text)
        for level in LEVEL_PREFERENCE:
            at = {c for c in found if self.index.units.at[c, "level"] == level}
            if at:
                return at
        return found

    def check_pair(self, code: str, name: Cell) -> None:
        """Raise CellError if a name cell clearly names another unit than ``code``.

        A name that matches no unit at all is accepted (the code decides); a name that matches
        units none of which is ``code`` is an error.
        """
        if is_blank(name):
            return
        found = self.index.candidates(unit_text(name))
        if found and code not in found:
            listed = self.listed(found)
            raise CellError(
                t("import.unit.mismatch", code=code, name=self.index.qualified_name(code),
                  value=cell_text(name), candidates=listed),
                t("import.unit.mismatch_hint"))


# ------------------------------------------------------------------ indicators
def split_unit_of_measure(text: str) -> tuple[str, str | None]:
    """Split ``常住人口（万人）`` into (``常住人口``, ``万人``); no parentheses → (text, None)."""
    folded = unicodedata.normalize("NFKC", text).strip()
    m = _TRAILING_UNIT.match(folded)
    if m and m.group(1).strip():
        return m.group(1).strip(), m.group(2).strip()
    return folded, None


class IndicatorMatcher:
    """Match header or cell text to catalog ids by id, ``name_zh``, ``name_en`` (normalised) or
    a yearbook alias (``header_aliases.yaml``, where the catalog holds the indicator)."""

    def __init__(self, catalog: pd.DataFrame):
        self.catalog = catalog.set_index("id", drop=False) if "id" in catalog else catalog
        self._by_key: dict[str, set[str]] = defaultdict(set)
        for ind, zh, en in zip(catalog["id"], catalog["name_zh"], catalog["name_en"], strict=True):
            for key in (normalize(ind), normalize(zh), normalize(en)):
                if key:
                    self._by_key[key].add(str(ind))
        aliases, meanings = header_aliases()
        self._alias_keys: set[str] = set()
        for alias, ind in aliases.items():
            key = normalize(alias)
            if ind in self.catalog.index and key not in self._by_key:
                self._by_key[key].add(ind)
                self._alias_keys.add(key)
        self._meanings = {normalize(k): v for k, v in meanings.items()}
        self._cache: dict[str, tuple[str, str | None] | CellError | None] = {}
        self._bounds: dict[str, Bounds] = {}

    def value_kind(self, indicator: str) -> str:
        """The catalog's value_kind of ``indicator``."""
        return str(self.catalog.at[indicator, "value_kind"])

    def label(self, indicator: str) -> str:
        """``name_zh`` or ``name_en`` of ``indicator`` in the current language."""
        col = "name_en" if current_lang() == "en" else "name_zh"
        return str(self.catalog.at[indicator, col])

    def unit(self, indicator: str) -> str:
        """The catalog unit of ``indicator`` in the current language ("" when it has none)."""
        col = "unit_en" if current_lang() == "en" else "unit_zh"
        value = self.catalog.at[indicator, col]
        return str(value) if isinstance(value, str) else ""

    def describe(self, indicator: str) -> str:
        """``常住人口 / Resident population（pop_total，人）`` for messages."""
        zh, en = (str(self.catalog.at[indicator, c]) for c in ("name_zh", "name_en"))
        names = zh if zh == en else f"{zh} / {en}"
        unit = self.unit(indicator)
        return t("import.indicator.described", names=names, id=indicator,
                 unit=unit or t("import.indicator.no_unit"))

    def bounds(self, indicator: str) -> Bounds:
        """The plausible range of ``indicator``'s values (``bounds.yaml``)."""
        if indicator not in self._bounds:
            row = self.catalog.loc[indicator]
            self._bounds[indicator] = bounds_for(str(row["value_kind"]), row["unit_zh"],
                                                 row["unit_en"])
        return self._bounds[indicator]

    def is_alias(self, text: str) -> bool:
        """True if ``text`` names its indicator through a yearbook alias."""
        whole = normalize(text)
        return (whole in self._alias_keys
                or normalize(split_unit_of_measure(text)[0]) in self._alias_keys)

    def meaning(self, text: str) -> str | None:
        """What a known header that the catalog does not hold means (户籍人口 …), or None."""
        entry = self._meanings.get(normalize(split_unit_of_measure(text)[0]))
        return None if entry is None else entry["en" if current_lang() == "en" else "zh"]

    def find(self, text: str) -> tuple[str, str | None] | None:
        """(id, unit of measure in the text or None) if ``text`` names one indicator, else None.

        Raises CellError if the text matches several indicators.
        """
        hit = self._cache.get(text, ...)
        if hit is ...:
            hit = self._find(text)
            self._cache[text] = hit
        if isinstance(hit, CellError):
            raise hit
        return hit

    def _find(self, text: str) -> tuple[str, str | None] | CellError | None:
        whole = self._by_key.get(normalize(text), set())
        name, uom = split_unit_of_measure(text)
        found, given = (whole, None) if whole else (self._by_key.get(normalize(name), set()), uom)
        if len(found) > 1:
            return CellError(t("import.indicator.ambiguous", value=text,
                               candidates=", ".join(sorted(found))),
                             t("import.indicator.hint"))
        return (next(iter(found)), given) if found else None

    def unknown(self, text: str, key: str = "import.indicator.unknown") -> CellError:
        """The error for text naming no indicator (saying what a known header means)."""
        meaning = self.meaning(text)
        if meaning is not None:
            return CellError(t("import.indicator.not_in_catalog", value=text, meaning=meaning),
                             t("import.indicator.not_in_catalog_hint"))
        return CellError(t(key, value=text), t("import.indicator.hint"))

    def resolve(self, cell: Cell) -> tuple[str, str | None]:
        """Like :meth:`find` for a cell, raising CellError for blank or unknown indicators."""
        if is_blank(cell):
            raise CellError(t("import.indicator.missing"), t("import.indicator.hint"))
        hit = self.find(cell_text(cell))
        if hit is None:
            raise self.unknown(cell_text(cell))
        return hit

    def conversion(self, indicator: str, given: str | None) -> float:
        """The factor converting values given in ``given`` (a header's or a unit column's unit
        of measure) to the catalog's unit: 1.0 when none is given or it is the same unit.
        Raises CellError when the units cannot be converted."""
        if given is None:
            return 1.0
        row = self.catalog.loc[indicator]
        kind = str(row["value_kind"])
        factor = conversion(given, row["unit_zh"], row["unit_en"], kind)
        if factor is not None:
            return factor
        expected = " / ".join(str(u) for u in dict.fromkeys((row["unit_zh"], row["unit_en"]))
                              if isinstance(u, str) and u)
        if not expected:
            if no_unit(given):
                return 1.0
            raise CellError(t("import.uom.none_expected", value=given, name=self.label(indicator)),
                            t("import.uom.none_expected_hint"))
        raise CellError(t("import.uom.mismatch", value=given, name=self.label(indicator),
                          expected=expected), t("import.uom.hint"))
