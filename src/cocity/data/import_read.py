"""Read a CSV or XLSX file into a :class:`Grid` of raw cells, keeping spreadsheet row numbers.

Nothing here interprets the cells: that is the job of :mod:`cocity.data.validate` and
:mod:`cocity.data.import_layout`. Every problem with the file itself (missing, empty, wrong format,
unknown sheet) becomes a :class:`~cocity.data.errors.ValidationError` with a clear message.

* CSV / TSV: decoded as UTF-8 (with or without BOM), falling back to GB18030 (which covers the
  GBK files that Chinese Excel and WPS write). The delimiter is a tab for ``.tsv``; for ``.csv``
  and ``.txt`` it is whichever of ``,`` ``;`` and tab occurs most in the first line.
* XLSX / XLSM: read with openpyxl (the values formulas had when the file was last saved by
  Excel or WPS; a formula that was never calculated, as in files written by scripts, reads as a
  blank cell). Merged cell ranges are
  kept so that multi-row headers can be expanded. A number formatted as a percentage in Excel
  (shown as ``55.2%`` but stored as ``0.552``) is kept as :class:`PercentCell`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.utils import get_column_letter

from cocity.data.errors import Issue, ValidationError
from cocity.i18n import t

TABLE_EXTENSIONS = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls (and other OLE2 files)

Progress = Callable[[str, int, int], None]
"""Progress callback: ``(stage, done, total)``; stage is ``read``, ``validate`` or ``write``."""


@dataclass(frozen=True)
class PercentCell:
    """A number that Excel displays as a percentage: ``fraction`` 0.552 is shown as 55.2%."""

    fraction: float


Cell = (str | int | float | bool | dt.datetime | dt.date | dt.time | dt.timedelta | PercentCell
        | None)


@dataclass
class Grid:
    """The cells of one sheet: ``rows[i] = (spreadsheet row number, cells padded to ncols)``."""

    file: str
    rows: list[tuple[int, list[Cell]]]
    ncols: int
    # Merged ranges as (min_row, min_col, max_row, max_col), 1-based like Excel.
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)


def column_letter(col: int) -> str:
    """Spreadsheet letter of the 0-based column ``col`` (0 → A, 26 → AA)."""
    return get_column_letter(col + 1)


def file_issue(file: str, key: str, hint_key: str | None = None, **fmt: object) -> ValidationError:
    """A ValidationError with one file-level issue built from i18n keys."""
    hint = t(hint_key, None, **fmt) if hint_key else None
    return ValidationError([Issue(t(key, None, **fmt), file=file, hint=hint)])


def check_file(path: Path, extensions: tuple[str, ...]) -> str:
    """Fail clearly if ``path`` is missing, a folder, empty or has an unsupported extension."""
    name = str(path)
    if not path.exists():
        raise file_issue(name, "import.file.missing", "import.file.missing_hint")
    if path.is_dir():
        raise file_issue(name, "import.file.is_dir", "import.file.missing_hint")
    ext = path.suffix.lower()
    if ext not in extensions:
        raise file_issue(name, "import.file.extension", "import.file.extension_hint",
                         ext=ext or "—", accepted=", ".join(extensions))
    if path.stat().st_size == 0:
        raise file_issue(name, "import.file.empty", "import.file.empty_hint")
    return ext


def read_grid(path: Path, *, sheet: str | None = None, progress: Progress | None = None) -> Grid:
    """Read a CSV/TSV/XLSX file into a :class:`Grid` (raises ValidationError on bad files)."""
    ext = check_file(path, TABLE_EXTENSIONS)
    if progress:
        progress("read", 0, 1)
    if ext in (".xlsx", ".xlsm"):
        grid = _read_xlsx(path, sheet)
    else:
        if sheet is not None:
            raise file_issue(str(path), "import.file.sheet_in_csv", "import.file.sheet_in_csv_hint")
        grid = _read_csv(path, ext)
    if progress:
        progress("read", 1, 1)
    if not any(any(not _blank(c) for c in cells) for _, cells in grid.rows):
        raise file_issue(str(path), "import.file.empty", "import.file.empty_hint")
    return grid


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _decode(path: Path, data: bytes) -> str:
    """Decode text bytes as UTF-8 (BOM optional) or GB18030; reject binary files."""
    if data.startswith(_ZIP_MAGIC):
        raise file_issue(str(path), "import.file.csv_is_zip", "import.file.csv_is_zip_hint")
    if data.startswith(_OLE_MAGIC) or b"\x00" in data[:4096]:
        raise file_issue(str(path), "import.file.binary", "import.file.binary_hint")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise file_issue(str(path), "import.file.encoding", "import.file.encoding_hint") from exc


def _delimiter(text: str, ext: str) -> str:
    """Tab for .tsv; otherwise the most frequent of , ; and tab in the first line."""
    if ext == ".tsv":
        return "\t"
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _read_csv(path: Path, ext: str) -> Grid:
    """Read a delimited text file; row numbers count records as Excel shows them."""
    text = _decode(path, path.read_bytes())
    if not text.strip():
        raise file_issue(str(path), "import.file.empty", "import.file.empty_hint")
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text, ext)))
    except csv.Error as exc:
        raise file_issue(str(path), "import.file.csv_error", "import.file.csv_error_hint",
                         error=str(exc)) from exc
    ncols = max((len(r) for r in records), default=0)
    rows: list[tuple[int, list[Cell]]] = []
    for number, record in enumerate(records, start=1):
        cells: list[Cell] = [c if c.strip() else None for c in record]
        rows.append((number, cells + [None] * (ncols - len(cells))))
    return _trim(Grid(str(path), rows, ncols))


def _read_xlsx(path: Path, sheet: str | None) -> Grid:
    """Read one worksheet of an .xlsx workbook (cached values, merged ranges, % formats)."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic == _OLE_MAGIC:
        raise file_issue(str(path), "import.file.xls", "import.file.xls_hint")
    if magic != _ZIP_MAGIC:
        raise file_issue(str(path), "import.file.not_xlsx", "import.file.not_xlsx_hint")
    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise file_issue(str(path), "import.file.bad_xlsx", "import.file.not_xlsx_hint",
                         error=str(exc)) from exc
    try:
        names = wb.sheetnames
        if sheet is None:
            ws = wb.worksheets[0]
        elif sheet in names:
            ws = wb[sheet]
        elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
            ws = wb.worksheets[int(sheet) - 1]
        else:
            raise file_issue(str(path), "import.file.no_sheet", "import.file.no_sheet_hint",
                             sheet=sheet, sheets=", ".join(names))
        ncols = ws.max_column
        rows: list[tuple[int, list[Cell]]] = []
        for number, row in enumerate(ws.iter_rows(min_row=1, max_col=ncols), start=1):
            cells: list[Cell] = []
            for c in row:
                v = c.value
                if (isinstance(v, int | float) and not isinstance(v, bool)
                        and "%" in str(c.number_format or "")):
                    cells.append(PercentCell(float(v)))
                elif isinstance(v, str) and not v.strip():
                    cells.append(None)
                else:
                    cells.append(v)
            rows.append((number, cells))
        merged = [(r.min_row, r.min_col, r.max_row, r.max_col) for r in ws.merged_cells.ranges]
    finally:
        wb.close()
    return _trim(Grid(str(path), rows, ncols, merged))


def _trim(grid: Grid) -> Grid:
    """Drop trailing columns and trailing rows that are entirely blank."""
    used = [i for _, cells in grid.rows for i, c in enumerate(cells) if not _blank(c)]
    ncols = max(used) + 1 if used else 0
    rows = [(n, cells[:ncols]) for n, cells in grid.rows]
    while rows and all(_blank(c) for c in rows[-1][1]):
        rows.pop()
    return Grid(grid.file, rows, ncols, grid.merged)
