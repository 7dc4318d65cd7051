"""Turn a :class:`~cocity.data.import_read.Grid` into raw observation records.

Two layouts are understood:

* **long**: one observation per row, columns unit (or code), year, indicator, value and optional
  source and unit of measure. Headers are matched case-insensitively against English and Chinese
  aliases (:data:`ROLE_ALIASES`); other columns are ignored and reported.
* **wide** ("yearbook"): one row per unit, one column per indicator, possibly under several header
  rows with merged group cells. A header names an indicator by catalog id, ``name_zh`` or
  ``name_en``, optionally followed by its unit of measure in parentheses (``常住人口（人）``).
  The year comes from a year header over the column (``2020年``), else from a year column,
  else from the ``year`` option.

Header rows are counted from the first non-blank row. When not given they are detected: the
header ends where the unit column (地区, 单元, 区划代码, unit …) has its first value. Leading
rows holding a single non-year cell (a table title) and trailing note rows (注：…, 资料来源：…)
are skipped; blank rows are skipped everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cocity.data.errors import Issue
from cocity.data.import_read import Cell, Grid, column_letter
from cocity.data.units import UnitIndex, normalize
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


@dataclass
class RawObs:
    """One candidate observation before validation; columns are shown as ``header (C)``."""

    row: int
    indicator: str | None
    value: Cell
    value_col: str
    year: Cell
    year_col: str | None
    code: Cell = None
    code_col: str | None = None
    name: Cell = None
    name_col: str | None = None
    source: str | None = None


@dataclass
class Layout:
    """Records read from a grid, with issues found in headers and cells that need no store."""

    form: str
    records: list[RawObs] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    rows_read: int = 0
    blank: int = 0
    ignored_columns: list[str] = field(default_factory=list)


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


def _first_nonblank(grid: Grid) -> int:
    """Index into ``grid.rows`` of the first row holding anything."""
    return next(i for i, (_, cells) in enumerate(grid.rows) if _nonblank(cells))


def _expanded_header(grid: Grid, top: int, bottom: int) -> list[list[tuple[int, Cell]]]:
    """Per column, the (row number, label) pairs of header rows top..bottom (indices into rows),
    with merged ranges filled from their top-left cell and repeated labels collapsed."""
    block = {grid.rows[i][0]: list(grid.rows[i][1]) for i in range(top, bottom + 1)}
    first, last = grid.rows[top][0], grid.rows[bottom][0]
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


def _drop_titles(grid: Grid, top: int, bottom: int) -> int:
    """Skip leading header rows that hold one non-year cell (a title), keeping one row."""
    while top < bottom:
        cells = grid.rows[top][1]
        filled = [c for c in cells if not is_blank(c)]
        if len(filled) == 1 and not is_year_label(filled[0]):
            top += 1
        else:
            break
    return top


def detect_form(grid: Grid) -> str:
    """``long`` if a row among the first ones has an indicator or a value column (so that a
    long table missing one of them is reported as such), else ``wide``."""
    start = _first_nonblank(grid)
    for _, cells in grid.rows[start:start + _SEARCH_ROWS]:
        if {role_of(c) for c in cells} & {"indicator", "value"}:
            return "long"
    return "wide"


# ------------------------------------------------------------------ long form
def read_long(grid: Grid, matcher: IndicatorMatcher, *, header_rows: int | None,
              has_year_option: bool, default_source: str) -> Layout:
    """Records of a long table (one observation per row)."""
    out = Layout("long")
    top = _first_nonblank(grid)
    if header_rows is None:
        bottom = top
        for i in range(top, min(top + _SEARCH_ROWS, len(grid.rows))):
            if sum(role_of(c) not in (None, "ignore") for c in grid.rows[i][1]) >= 2:
                bottom = i
                break
        top = bottom
    else:
        bottom = min(top + header_rows - 1, len(grid.rows) - 1)
    header = _expanded_header(grid, top, bottom)
    header_row = grid.rows[bottom][0]
    cols: dict[str, int] = {}
    found: list[str] = []
    for col, labels in enumerate(header):
        if not labels:
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
    for number, cells in grid.rows[bottom + 1:]:
        if not _nonblank(cells) or _is_note(cells):
            continue
        out.rows_read += 1
        indicator: str | None = None
        try:
            indicator, uom = matcher.resolve(cells[cols["indicator"]])
            matcher.check_unit_of_measure(indicator, uom)
        except CellError as e:
            out.issues.append(Issue(e.message, grid.file, number, labels_of["indicator"], e.hint))
        if indicator is not None and "uom" in cols and not is_blank(cells[cols["uom"]]):
            try:
                matcher.check_unit_of_measure(indicator, cell_text(cells[cols["uom"]]))
            except CellError as e:
                out.issues.append(Issue(e.message, grid.file, number, labels_of["uom"], e.hint))
        value = cells[cols["value"]]
        if is_blank(value):
            out.blank += 1
            continue
        source = cells[cols["source"]] if "source" in cols else None
        out.records.append(RawObs(
            row=number, indicator=indicator, value=value, value_col=labels_of["value"],
            year=cells[cols["year"]] if "year" in cols else None,
            year_col=labels_of.get("year"),
            code=cells[cols["code"]] if "code" in cols else None, code_col=labels_of.get("code"),
            name=cells[cols["name"]] if "name" in cols else None, name_col=labels_of.get("name"),
            source=default_source if is_blank(source) else cell_text(source)))
    return out


# ------------------------------------------------------------------ wide form
@dataclass
class _IndicatorColumn:
    col: int
    shown: str
    indicator: str
    year: int | None


def _header_block(grid: Grid, index: UnitIndex, header_rows: int | None) -> tuple[int, int]:
    """(top, bottom) indices into ``grid.rows`` of the header of a wide table."""
    top = _first_nonblank(grid)
    if header_rows is not None:
        return top, min(top + header_rows - 1, len(grid.rows) - 1)
    window = range(top, min(top + _SEARCH_ROWS, len(grid.rows)))
    for i in window:
        number, cells = grid.rows[i]
        for c, v in enumerate(cells):
            if role_of(v) in ("code", "name"):
                end = number
                for r0, c0, r1, c1 in grid.merged:
                    if r0 <= number <= r1 and c0 <= c + 1 <= c1:
                        end = max(end, r1)
                bottom = i + (end - number)
                while bottom + 1 < len(grid.rows):
                    nxt = grid.rows[bottom + 1][1]
                    numeric = any(looks_numeric(x) and not is_year_label(x) for x in nxt)
                    if not is_blank(nxt[c]) or not _nonblank(nxt) or numeric:
                        break
                    bottom += 1
                return top, min(bottom, len(grid.rows) - 1)
    for i in window:
        if any(not is_blank(v) and index.candidates(unit_text(v)) for v in grid.rows[i][1]):
            return top, max(top, i - 1)
    return top, top


def read_wide(grid: Grid, matcher: IndicatorMatcher, index: UnitIndex, *,
              header_rows: int | None, has_year_option: bool, default_source: str) -> Layout:
    """Records of a wide table (one row per unit, one column per indicator)."""
    out = Layout("wide")
    top, bottom = _header_block(grid, index, header_rows)
    top = _drop_titles(grid, top, bottom)
    header = _expanded_header(grid, top, bottom)
    data = [(n, cells) for n, cells in grid.rows[bottom + 1:]
            if _nonblank(cells) and not _is_note(cells)]
    roles: dict[str, tuple[int, str]] = {}
    columns: list[_IndicatorColumn] = []
    unknown: list[tuple[int, int, str]] = []  # (col, header row, label)
    for col, labels in enumerate(header):
        if not labels:
            if any(not is_blank(cells[col]) for _, cells in data):
                unknown.append((col, grid.rows[bottom][0], ""))
            continue
        leaf_row, leaf = labels[-1]
        shown = _shown(cell_text(leaf), col)
        role = role_of(leaf)
        if role in ("code", "name", "year", "source") and role not in roles:
            roles[role] = (col, shown)
            continue
        if role is not None:
            out.ignored_columns.append(shown)
            continue
        years = [year_of(v) for _, v in labels if is_year_label(v)]
        texts = [(r, cell_text(v)) for r, v in labels if not is_year_label(v)]
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
        try:
            matcher.check_unit_of_measure(*hit)
        except CellError as e:
            out.issues.append(Issue(e.message, grid.file, leaf_row, shown, e.hint))
        columns.append(_IndicatorColumn(col, shown, hit[0], years[-1] if years else None))
    if "code" not in roles and "name" not in roles and unknown:
        col, _, label = unknown.pop(0)
        roles["name"] = (col, _shown(label, col))
    header_row = grid.rows[bottom][0]
    for col, row, label in unknown:
        out.issues.append(Issue(
            t("import.indicator.unknown_header", value=label) if label
            else t("import.header.no_label"),
            grid.file, row, _shown(label, col), t("import.indicator.header_hint")))
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
    if out.issues:
        return out
    code_col, code_shown = roles.get("code", (None, None))
    name_col, name_shown = roles.get("name", (None, None))
    year_col, year_shown = roles.get("year", (None, None))
    source_col = roles.get("source", (None, ""))[0]
    for number, cells in data:
        out.rows_read += 1
        source = cells[source_col] if source_col is not None else None
        for ic in columns:
            value = cells[ic.col]
            if is_blank(value):
                out.blank += 1
                continue
            from_row = ic.year is None and year_col is not None
            out.records.append(RawObs(
                row=number, indicator=ic.indicator, value=value, value_col=ic.shown,
                year=cells[year_col] if from_row and year_col is not None else ic.year,
                year_col=year_shown if from_row else None,
                code=cells[code_col] if code_col is not None else None, code_col=code_shown,
                name=cells[name_col] if name_col is not None else None, name_col=name_shown,
                source=default_source if is_blank(source) else cell_text(source)))
    return out
