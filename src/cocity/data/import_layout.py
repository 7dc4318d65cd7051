"""Turn a :class:`~cocity.data.import_read.Grid` into raw observation records, column by column.

Two layouts are understood:

* **long**: one observation per row, columns unit (or code), year, indicator, value and optional
  source and unit of measure. Headers are matched case-insensitively against English and Chinese
  aliases (:data:`ROLE_ALIASES`); other columns are ignored and reported.
* **wide** ("yearbook"): one row per unit, one column per indicator, possibly under several header
  rows with merged group cells. A header names an indicator by catalog id, ``name_zh``,
  ``name_en`` or a yearbook alias (年末常住人口, 人均GDP …, see :mod:`cocity.data.uom`),
  optionally followed by its unit of measure in parentheses (``常住人口（万人）``); a header row
  holding only units (万人, 亿元, %) or a title row ``单位：万元`` gives the units too.
  The year comes from a year header over the column (``2020年``), else from a year column,
  else from the ``year`` option.

A unit of measure that differs from the catalog's is converted when it can be (万人 → 人 …) and
noted in :attr:`Layout.notes`; otherwise it is an issue. Cells beyond the header (a column with
data but no header, extra cells of a ragged row) are issues naming row and column, never
silently dropped.

Header rows are counted from the first non-blank row. When not given they are detected: the
header ends where the unit column (地区, 单元, 区划代码, unit …) has its first value. Leading
rows holding a single non-year cell (a table title) and trailing note rows (注：…, 资料来源：…)
are skipped; blank rows are skipped everywhere.

The records are columnar (:class:`Records`): header analysis looks at a few rows, the data
rows are handled as whole columns, and the per-cell checks live in
:mod:`cocity.data.importers`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cocity.data.errors import Issue
from cocity.data.import_read import Cell, Grid, column_letter, not_none
from cocity.data.units import UnitIndex, normalize
from cocity.data.uom import is_unit
from cocity.data.validate import (
    CellError,
    IndicatorMatcher,
    cell_text,
    is_blank,
    is_year_label,
    looks_numeric,
    unit_text,
    year_of,
)
from cocity.i18n import t

ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("code", "unit_code", "adcode", "gbcode", "区划代码", "行政区划代码", "代码",
             "地区代码", "统计用区划代码"),
    "name": ("unit", "unit_name", "name", "region", "area", "city", "county", "district",
             "单元", "地区", "地区名称", "地名", "行政区", "行政区划", "区域", "名称", "城市",
             "区县", "县（市、区）", "县（市，区）", "市州", "地级市"),
    "year": ("year", "年份", "年度", "年"),
    "indicator": ("indicator", "indicator_id", "variable", "指标", "指标名称", "指标代码",
                  "指标编号"),
    "value": ("value", "数值", "值", "指标值", "数据", "取值"),
    "source": ("source", "来源", "数据来源", "资料来源"),
    "uom": ("unit_of_measure", "uom", "measure_unit", "计量单位", "单位"),
    "ignore": ("序号", "no", "#", "备注", "note", "notes", "remark", "remarks", "说明"),
}
_ALIAS = {normalize(a): role for role, aliases in ROLE_ALIASES.items() for a in aliases}
_NOTE_PREFIXES = tuple(normalize(p)
                       for p in ("注", "说明", "资料来源", "数据来源", "note", "source"))
_SEARCH_ROWS = 20  # header detection looks at this many rows from the top
_UNIT_LABEL = re.compile(
    r"^(?:计量)?单位\s*[:：]\s*(\S.*)$|^unit(?:s)?\s*(?:of\s*measure)?\s*:\s*(\S.*)$",
    re.IGNORECASE)


@dataclass
class Records:
    """Candidate observations before validation, one entry per non-blank value cell.

    ``value_col`` / ``year_col`` are the columns as users see them (``header (C)``);
    ``year`` holds the raw year cell, an ``int`` from a year header, or ``None`` (the
    ``year`` option applies); ``factor`` converts the unit of measure the file gives to the
    catalog's; ``indicator`` is ``None`` where the indicator could not be matched (the issue is
    already recorded).
    """

    row: np.ndarray
    indicator: np.ndarray
    value: np.ndarray
    value_col: np.ndarray
    factor: np.ndarray
    year: np.ndarray
    year_col: np.ndarray
    code: np.ndarray | None
    name: np.ndarray | None
    source: np.ndarray
    code_col: str | None = None
    name_col: str | None = None

    def __len__(self) -> int:
        return len(self.row)


def distinct(cells: np.ndarray) -> tuple[np.ndarray, list[Cell]]:
    """(index of each cell into the distinct cells, the distinct cells in order of first
    appearance). Blank cells share one entry; cells are told apart by type as well as value
    (``1`` is not ``1.0`` nor ``True``), so that each distinct cell is diagnosed as written."""
    if len(cells) == 0:
        return np.zeros(0, dtype=np.int64), []
    series = pd.Series(cells, dtype=object)
    values, _ = pd.factorize(series, use_na_sentinel=False)
    if pd.api.types.infer_dtype(cells, skipna=True) not in ("string", "empty"):
        kinds, _ = pd.factorize(series.map(type))
        values, _ = pd.factorize(values.astype(np.int64) * (int(kinds.max()) + 1) + kinds)
    codes = values.astype(np.int64)
    return codes, [cells[int(i)] for i in first_of(codes)]


def first_of(codes: np.ndarray) -> np.ndarray:
    """The index of the first occurrence of each code 0…k−1 (codes numbered by first
    appearance, as :func:`pandas.factorize` numbers them)."""
    first = np.empty(int(codes.max()) + 1 if len(codes) else 0, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


def _objects(values: Sequence[object]) -> np.ndarray:
    """A 1-D object array of ``values``."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _repeat(value: object, n: int) -> np.ndarray:
    """A 1-D object array holding ``value`` ``n`` times."""
    out = np.empty(n, dtype=object)
    out[:] = [value] * n
    return out


def _sources(cells: np.ndarray, default: str) -> np.ndarray:
    """The source note of each row: its source cell as text, else ``default``."""
    index, values = distinct(cells)
    texts = _objects([default if is_blank(v) else cell_text(v) for v in values])
    return texts[index] if len(cells) else _objects([])


@dataclass
class Layout:
    """Records read from a grid, with issues found in headers and cells that need no store."""

    form: str
    records: Records | None = None
    issues: list[Issue] = field(default_factory=list)
    rows_read: int = 0
    blank: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def role_of(label: Cell) -> str | None:
    """The column role a header label stands for (code, name, year, …) or ``None``."""
    return None if is_blank(label) else _ALIAS.get(normalize(cell_text(label)))


def _shown(label: str | None, col: int) -> str:
    """A column as users see it: ``数值 (D)``, or just ``D`` without a header."""
    return f"{label} ({column_letter(col)})" if label else column_letter(col)


def _nonblank(cells: list[Cell]) -> int:
    return sum(not is_blank(c) for c in cells)


def _is_note(cells: list[Cell]) -> bool:
    """A row holding only a note such as 注：… or 资料来源：…"""
    filled = [c for c in cells if not is_blank(c)]
    return (len(filled) == 1 and isinstance(filled[0], str)
            and normalize(filled[0]).startswith(_NOTE_PREFIXES))


def _unit_label(cell: Cell) -> str | None:
    """The unit a header label gives: ``万人``, ``（万人）`` or ``单位：万人`` → ``万人``."""
    if is_blank(cell) or not isinstance(cell, str):
        return None
    text = unicodedata.normalize("NFKC", cell).strip()
    m = _UNIT_LABEL.match(text)
    if m:
        return (m.group(1) or m.group(2)).strip()
    inner = text[1:-1].strip() if text[:1] == "(" and text[-1:] == ")" else text
    return inner if is_unit(inner) else None


def _first_nonblank(grid: Grid) -> int:
    """Index of the first row holding anything."""
    return int(np.flatnonzero(grid.filled().any(axis=1))[0])


def _data_rows(grid: Grid, start: int) -> np.ndarray:
    """Indices of the rows from ``start`` that hold data: not blank, not a note."""
    filled = grid.filled()[start:]
    counts = filled.sum(axis=1)
    keep = counts > 0
    for i in np.flatnonzero(counts == 1):
        if _is_note(grid.row(start + int(i))):
            keep[i] = False
    return np.flatnonzero(keep) + start


def _expanded_header(grid: Grid, top: int, bottom: int) -> list[list[tuple[int, Cell]]]:
    """Per column, the (row number, label) pairs of header rows top..bottom (indices into rows),
    with merged ranges filled from their top-left cell and repeated labels collapsed."""
    block = {grid.number(i): grid.row(i) for i in range(top, bottom + 1)}
    first, last = grid.number(top), grid.number(bottom)
    for r0, c0, r1, c1 in grid.merged:
        if first <= r0 <= last:
            value = block[r0][c0 - 1] if c0 - 1 < grid.ncols else None
            for r in range(r0, min(r1, last) + 1):
                for c in range(c0 - 1, min(c1, grid.ncols)):
                    block[r][c] = value
    columns: list[list[tuple[int, Cell]]] = []
    for col in range(grid.ncols):
        labels: list[tuple[int, Cell]] = []
        for r in range(first, last + 1):
            v = block[r][col]
            if not is_blank(v) and (not labels or cell_text(labels[-1][1]) != cell_text(v)):
                labels.append((r, v))
        columns.append(labels)
    return columns


def _drop_titles(grid: Grid, top: int, bottom: int) -> tuple[int, str | None]:
    """Skip leading header rows that hold one non-year cell (a title), keeping one row; the
    unit a skipped ``单位：万元`` row gives for the whole table."""
    table_unit: str | None = None
    while top < bottom:
        filled = [c for c in grid.row(top) if not is_blank(c)]
        if len(filled) == 1 and not is_year_label(filled[0]):
            table_unit = _unit_label(filled[0]) or table_unit
            top += 1
        else:
            break
    return top, table_unit


def detect_form(grid: Grid) -> str:
    """``long`` if a row among the first ones has an indicator or a value column (so that a
    long table missing one of them is reported as such), else ``wide``."""
    start = _first_nonblank(grid)
    for i in range(start, min(start + _SEARCH_ROWS, len(grid))):
        if {role_of(c) for c in grid.row(i)} & {"indicator", "value"}:
            return "long"
    return "wide"


def _beyond_header(grid: Grid, rows: np.ndarray, cols: list[int], issues: list[Issue]) -> None:
    """An issue for every filled cell of ``rows`` in columns without a header."""
    for col in cols:
        values = grid.cells[rows, col]
        for i in np.flatnonzero(not_none(values)):
            issues.append(Issue(
                t("import.header.beyond", value=cell_text(values[i])), grid.file,
                grid.number(int(rows[i])), column_letter(col), t("import.header.beyond_hint")))


def _conversion_note(shown: str, given: str, matcher: IndicatorMatcher, indicator: str,
                     factor: float) -> str:
    """``常住人口（万人） (B): 万人 → 人 × 10,000``."""
    return t("import.uom.converted", column=shown, given=given,
             expected=matcher.unit(indicator) or matcher.describe(indicator),
             factor=f"{factor:,.12g}")


# ------------------------------------------------------------------ long form
def read_long(grid: Grid, matcher: IndicatorMatcher, *, header_rows: int | None,
              has_year_option: bool, default_source: str) -> Layout:
    """Records of a long table (one observation per row)."""
    out = Layout("long")
    top = _first_nonblank(grid)
    if header_rows is None:
        bottom = top
        for i in range(top, min(top + _SEARCH_ROWS, len(grid))):
            if sum(role_of(c) not in (None, "ignore") for c in grid.row(i)) >= 2:
                bottom = i
                break
        top = bottom
    else:
        bottom = min(top + header_rows - 1, len(grid) - 1)
    header = _expanded_header(grid, top, bottom)
    header_row = grid.number(bottom)
    cols: dict[str, int] = {}
    found: list[str] = []
    headerless: list[int] = []
    for col, labels in enumerate(header):
        if not labels:
            headerless.append(col)
            continue
        label = cell_text(labels[-1][1])
        found.append(label)
        role = role_of(label)
        if role is None or role == "ignore":
            out.ignored_columns.append(_shown(label, col))
        elif role in cols:
            other = cell_text(header[cols[role]][-1][1])
            out.issues.append(Issue(
                t("import.header.duplicate_role", role=t(f"import.role.{role}"), other=other),
                grid.file, header_row, _shown(label, col), t("import.header.duplicate_role_hint")))
        else:
            cols[role] = col
    required = ["indicator", "value"] + ([] if has_year_option else ["year"])
    missing = [r for r in required if r not in cols]
    if "code" not in cols and "name" not in cols:
        missing.insert(0, "name")
    for role in missing:
        out.issues.append(Issue(
            t("import.header.missing", role=t(f"import.role.{role}"),
              aliases=" / ".join(ROLE_ALIASES[role][:4]), found=", ".join(found) or "—"),
            grid.file, header_row, role, t("import.header.missing_hint")))
    if out.issues:
        return out
    labels_of = {role: _shown(cell_text(header[c][-1][1]), c) for role, c in cols.items()}
    rows = _data_rows(grid, bottom + 1)
    out.rows_read = len(rows)
    _beyond_header(grid, rows, headerless, out.issues)
    cells = grid.cells[rows]
    numbers = grid.numbers[rows]
    n = len(rows)
    # Indicators (and the unit each one's cell or the unit column gives), one distinct pair at
    # a time: a file repeats a handful of them over thousands of rows.
    ind_cells = cells[:, cols["indicator"]]
    uom_cells = cells[:, cols["uom"]] if "uom" in cols else np.full(n, None, dtype=object)
    ii, iu = distinct(ind_cells)
    ui, uu = distinct(uom_cells)
    inverse, pairs = pd.factorize(ii * (len(uu) + 1) + ui)
    hits = [_long_indicator(matcher, iu[int(k) // (len(uu) + 1)], uu[int(k) % (len(uu) + 1)],
                            labels_of) for k in pairs]
    ids = _objects([ind if not errors else None for ind, _, errors, _ in hits])
    indicator = ids[inverse] if n else np.full(0, None, dtype=object)
    factor = np.array([f for _, f, _, _ in hits], dtype=float)[inverse] if n else np.ones(0)
    for j, (ind, f, errors, given) in enumerate(hits):
        if errors:
            for at in np.flatnonzero(inverse == j):
                for column, err in errors:
                    out.issues.append(Issue(err.message, grid.file, int(numbers[at]), column,
                                            err.hint))
        elif ind is not None and f != 1.0 and given is not None:
            note = _conversion_note(given[0], given[1], matcher, ind, f)
            if note not in out.notes:
                out.notes.append(note)
    values = cells[:, cols["value"]]
    filled = not_none(values)
    out.blank = int((~filled).sum())
    keep = np.flatnonzero(filled)
    m = len(keep)
    source = (_sources(cells[keep, cols["source"]], default_source) if "source" in cols
              else _repeat(default_source, m))
    out.records = Records(
        row=numbers[keep], indicator=indicator[keep], value=values[keep],
        value_col=_repeat(labels_of["value"], m), factor=factor[keep],
        year=cells[keep, cols["year"]] if "year" in cols else np.full(m, None, dtype=object),
        year_col=_repeat(labels_of.get("year"), m),
        code=cells[keep, cols["code"]] if "code" in cols else None,
        name=cells[keep, cols["name"]] if "name" in cols else None,
        source=source, code_col=labels_of.get("code"), name_col=labels_of.get("name"))
    return out


_LongIndicator = tuple[str | None, float, list[tuple[str, CellError]], tuple[str, str] | None]


def _long_indicator(matcher: IndicatorMatcher, cell: Cell, uom: Cell, labels_of: dict[str, str]
                    ) -> _LongIndicator:
    """(indicator id, unit factor, errors with their column, (column, unit) the factor comes
    from) of one indicator cell and unit cell of a long table."""
    try:
        indicator, in_cell = matcher.resolve(cell)
    except CellError as e:
        return None, 1.0, [(labels_of["indicator"], e)], None
    errors: list[tuple[str, CellError]] = []
    factor = 1.0
    given = (labels_of["indicator"], in_cell) if in_cell is not None else None
    try:
        factor = matcher.conversion(indicator, in_cell)
    except CellError as e:
        errors.append((labels_of["indicator"], e))
    if "uom" in labels_of and not is_blank(uom):
        try:
            column_factor = matcher.conversion(indicator, cell_text(uom))
        except CellError as e:
            errors.append((labels_of["uom"], e))
        else:
            if in_cell is not None and not errors and column_factor != factor:
                errors.append((labels_of["uom"], CellError(
                    t("import.uom.contradicts", value=cell_text(uom), other=in_cell),
                    t("import.uom.contradicts_hint"))))
            factor = column_factor
            given = (labels_of["uom"], cell_text(uom))
    return indicator, factor, errors, given


# ------------------------------------------------------------------ wide form
@dataclass
class _IndicatorColumn:
    col: int
    shown: str
    indicator: str
    year: int | None
    factor: float


def _header_block(grid: Grid, index: UnitIndex, header_rows: int | None) -> tuple[int, int]:
    """(top, bottom) indices of the header of a wide table."""
    top = _first_nonblank(grid)
    if header_rows is not None:
        return top, min(top + header_rows - 1, len(grid) - 1)
    window = range(top, min(top + _SEARCH_ROWS, len(grid)))
    for i in window:
        number, cells = grid.number(i), grid.row(i)
        for c, v in enumerate(cells):
            if role_of(v) in ("code", "name"):
                end = number
                for r0, c0, r1, c1 in grid.merged:
                    if r0 <= number <= r1 and c0 <= c + 1 <= c1:
                        end = max(end, r1)
                bottom = i + (end - number)
                while bottom + 1 < len(grid):
                    nxt = grid.row(bottom + 1)
                    numeric = any(looks_numeric(x) and not is_year_label(x) for x in nxt)
                    if not is_blank(nxt[c]) or not _nonblank(nxt) or numeric:
                        break
                    bottom += 1
                return top, min(bottom, len(grid) - 1)
    for i in window:
        if any(not is_blank(v) and index.candidates(unit_text(v)) for v in grid.row(i)):
            return top, max(top, i - 1)
    return top, top


def read_wide(grid: Grid, matcher: IndicatorMatcher, index: UnitIndex, *,
              header_rows: int | None, has_year_option: bool, default_source: str) -> Layout:
    """Records of a wide table (one row per unit, one column per indicator)."""
    out = Layout("wide")
    top, bottom = _header_block(grid, index, header_rows)
    top, table_unit = _drop_titles(grid, top, bottom)
    header = _expanded_header(grid, top, bottom)
    rows = _data_rows(grid, bottom + 1)
    filled_cols = np.asarray(not_none(grid.cells[rows]).any(axis=0) if len(rows)
                             else np.zeros(grid.ncols, dtype=bool))
    roles: dict[str, tuple[int, str]] = {}
    columns: list[_IndicatorColumn] = []
    unknown: list[tuple[int, int, str]] = []  # (col, header row, label)
    headerless: list[int] = []
    for col, labels in enumerate(header):
        if not labels:
            if filled_cols[col]:
                headerless.append(col)
            continue
        named = [(r, v) for r, v in labels if _unit_label(v) is None or role_of(v)]
        leaf_row, leaf = named[-1] if named else labels[-1]
        shown = _shown(cell_text(leaf), col)
        role = role_of(leaf)
        if role in ("code", "name", "year", "source") and role not in roles:
            roles[role] = (col, shown)
            continue
        if role is not None:
            out.ignored_columns.append(shown)
            continue
        years = [year_of(v) for _, v in labels if is_year_label(v)]
        unit_rows = [(r, u) for r, v in labels if not is_year_label(v)
                     for u in [_unit_label(v)] if u is not None]
        texts = [(r, cell_text(v)) for r, v in labels
                 if not is_year_label(v) and _unit_label(v) is None]
        hit: tuple[str, str | None] | None = None
        try:
            for _, text in reversed(texts):
                hit = matcher.find(text)
                if hit is not None:
                    break
        except CellError as e:
            out.issues.append(Issue(e.message, grid.file, leaf_row, shown, e.hint))
            continue
        if hit is None:
            unknown.append((col, leaf_row, cell_text(leaf)))
            continue
        ind, given = hit
        if given is None and unit_rows:
            given = unit_rows[-1][1]
        given = given if given is not None else table_unit
        try:
            factor = matcher.conversion(ind, given)
        except CellError as e:
            out.issues.append(Issue(e.message, grid.file, leaf_row, shown, e.hint))
            continue
        if factor != 1.0 and given is not None:
            out.notes.append(_conversion_note(shown, given, matcher, ind, factor))
        matched = next((text for _, text in reversed(texts) if matcher.find(text)), "")
        if matched and matcher.is_alias(matched):
            out.notes.append(t("import.indicator.alias_note", column=shown,
                               indicator=matcher.describe(ind)))
        columns.append(_IndicatorColumn(col, shown, ind, years[-1] if years else None, factor))
    if "code" not in roles and "name" not in roles and (unknown or headerless):
        # A unit column without a header (a blank corner) or with an unknown one.
        col = min([c for c, _, _ in unknown] + headerless)
        label = next((lab for c, _, lab in unknown if c == col), "")
        unknown = [u for u in unknown if u[0] != col]
        headerless = [c for c in headerless if c != col]
        roles["name"] = (col, _shown(label, col))
    header_row = grid.number(bottom)
    for col, row, label in unknown:
        err = matcher.unknown(label, "import.indicator.unknown_header")
        out.issues.append(Issue(err.message, grid.file, row, _shown(label, col),
                                err.hint if matcher.meaning(label) else
                                t("import.indicator.header_hint")))
    if "code" not in roles and "name" not in roles:
        found = ", ".join(cell_text(labels[-1][1]) for labels in header if labels) or "—"
        out.issues.append(Issue(
            t("import.header.missing", role=t("import.role.name"),
              aliases=" / ".join(ROLE_ALIASES["name"][:4]), found=found),
            grid.file, header_row, "name", t("import.header.missing_hint")))
    if not columns and not out.issues:
        out.issues.append(Issue(t("import.header.no_indicators"), grid.file, header_row,
                                "indicator", t("import.indicator.header_hint")))
    seen: dict[tuple[str, int | None], str] = {}
    for ic in columns:
        key = (ic.indicator, ic.year)
        if key in seen:
            out.issues.append(Issue(
                t("import.header.duplicate_indicator", name=matcher.label(ic.indicator),
                  other=seen[key]),
                grid.file, header_row, ic.shown, t("import.header.duplicate_indicator_hint")))
        seen[key] = ic.shown
    if (not has_year_option and "year" not in roles
            and any(ic.year is None for ic in columns)):
        out.issues.append(Issue(t("import.year.none_given"), grid.file, header_row, "year",
                                t("import.year.none_given_hint")))
    _beyond_header(grid, rows, sorted(headerless), out.issues)
    if out.issues:
        return out
    out.rows_read = len(rows)
    out.records = _wide_records(grid, rows, columns, roles, default_source)
    out.blank = len(rows) * len(columns) - len(out.records)
    return out


def _wide_records(grid: Grid, rows: np.ndarray, columns: list[_IndicatorColumn],
                  roles: dict[str, tuple[int, str]], default_source: str) -> Records:
    """One record per filled indicator cell, ordered by row then column."""
    cells = grid.cells[rows]
    numbers = grid.numbers[rows]
    code_col, code_shown = roles.get("code", (None, None))
    name_col, name_shown = roles.get("name", (None, None))
    year_col, year_shown = roles.get("year", (None, None))
    source_col = roles.get("source", (None, ""))[0]
    sources = (_sources(cells[:, source_col], default_source) if source_col is not None
               else _repeat(default_source, len(rows)))
    parts: dict[str, list[np.ndarray]] = {k: [] for k in (
        "pos", "ind", "value", "value_col", "factor", "year", "year_col", "src")}
    for k, ic in enumerate(columns):
        values = cells[:, ic.col]
        at = np.flatnonzero(not_none(values))
        m = len(at)
        from_row = ic.year is None and year_col is not None
        parts["pos"].append(at * (len(columns) + 1) + k)
        parts["ind"].append(_repeat(ic.indicator, m))
        parts["value"].append(values[at])
        parts["value_col"].append(_repeat(ic.shown, m))
        parts["factor"].append(np.full(m, ic.factor))
        parts["year"].append(cells[at, year_col] if from_row and year_col is not None
                             else _repeat(ic.year, m))
        parts["year_col"].append(_repeat(year_shown if from_row else None, m))
        parts["src"].append(at)
    pos = np.concatenate(parts["pos"]) if columns else np.zeros(0, dtype=np.int64)
    order = np.argsort(pos, kind="stable")
    at = np.concatenate(parts["src"])[order] if columns else np.zeros(0, dtype=np.int64)

    def joined(key: str) -> np.ndarray:
        return (np.concatenate(parts[key])[order] if columns
                else np.zeros(0, dtype=float if key == "factor" else object))

    return Records(
        row=numbers[at], indicator=joined("ind"), value=joined("value"),
        value_col=joined("value_col"), factor=joined("factor"), year=joined("year"),
        year_col=joined("year_col"),
        code=cells[at, code_col] if code_col is not None else None,
        name=cells[at, name_col] if name_col is not None else None,
        source=sources[at], code_col=code_shown, name_col=name_shown)
