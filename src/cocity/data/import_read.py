"""Read a CSV or XLSX file into a :class:`Grid` of raw cells, keeping spreadsheet row numbers.

Nothing here interprets the cells: that is the job of :mod:`cocity.data.validate` and
:mod:`cocity.data.import_layout`. Every problem with the file itself (missing, empty, wrong format,
unknown sheet) becomes a :class:`~cocity.data.errors.ValidationError` with a clear message.

* CSV / TSV: decoded as UTF-8 (with or without BOM), falling back to GB18030 (which covers the
  GBK files that Chinese Excel and WPS write). The delimiter is a tab for ``.tsv``; for ``.csv``
  and ``.txt`` it is whichever of ``,`` ``;`` and tab occurs most in the first line.
  Well-formed files are parsed by pandas' C reader (the fast path); a file whose rows have
  more fields than its first line (a "ragged" file) is read record by record with the
  :mod:`csv` module, so that the cells beyond the header reach the layout and are reported.
* XLSX / XLSM: read with openpyxl (the values formulas had when the file was last saved by
  Excel or WPS). A formula that was never calculated — a workbook written by a script and never
  opened in Excel — has no saved value: it is kept as :class:`FormulaCell` and reported where
  it is used, never read as a blank. Merged cell ranges are kept so that multi-row headers can
  be expanded. A number formatted as a percentage in Excel (shown as ``55.2%`` but stored as
  ``0.552``) is kept as :class:`PercentCell`. A damaged workbook (a broken zip or deflate
  stream, bad XML) is a file-level issue naming the file.

The grid is columnar: ``cells`` is a 2-D object array (``None`` for blank cells) and
``numbers`` the spreadsheet row number of each row, so that layouts can work on whole columns.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

import numpy as np
import pandas as pd

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


@dataclass(frozen=True)
class FormulaCell:
    """A formula without a saved value (the workbook was never calculated by Excel/WPS)."""

    formula: str

    def __str__(self) -> str:
        return self.formula


Cell = (str | int | float | bool | dt.datetime | dt.date | dt.time | dt.timedelta | PercentCell
        | FormulaCell | None)


def not_none(values: np.ndarray) -> np.ndarray:
    """Boolean array: which entries of an object array are not ``None``."""
    return np.asarray(values != None)  # noqa: E711  (element-wise on object arrays)


def or_none(keep: np.ndarray, values: np.ndarray) -> np.ndarray:
    """An object array holding ``values`` where ``keep`` and ``None`` elsewhere."""
    out = np.full(len(values), None, dtype=object)
    out[keep] = values[keep]
    return out


@dataclass
class Grid:
    """The cells of one sheet: ``cells[i, j]`` (``None`` when blank) of spreadsheet row
    ``numbers[i]`` and 0-based column ``j``."""

    file: str
    cells: np.ndarray  # object array (rows, columns)
    numbers: np.ndarray  # int64, spreadsheet row number of each row
    # Merged ranges as (min_row, min_col, max_row, max_col), 1-based like Excel.
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    _filled: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def ncols(self) -> int:
        return int(self.cells.shape[1])

    def __len__(self) -> int:
        return int(self.cells.shape[0])

    def row(self, i: int) -> list[Cell]:
        """The cells of row ``i`` (an index into the grid, not a spreadsheet number)."""
        return list(self.cells[i])

    def number(self, i: int) -> int:
        """The spreadsheet row number of row ``i``."""
        return int(self.numbers[i])

    def filled(self) -> np.ndarray:
        """Boolean array: which cells are not blank (computed once)."""
        if self._filled is None or self._filled.shape != self.cells.shape:
            self._filled = not_none(self.cells)
        return self._filled

    @property
    def rows(self) -> list[tuple[int, list[Cell]]]:
        """Every row as ``(spreadsheet row number, cells)`` (for readers of small tables)."""
        return [(self.number(i), self.row(i)) for i in range(len(self))]

    @classmethod
    def from_rows(cls, file: str, rows: list[tuple[int, list[Cell]]], ncols: int,
                  merged: list[tuple[int, int, int, int]] | None = None) -> Grid:
        """A grid from ``(row number, cells)`` pairs (cells padded to ``ncols``)."""
        cells = np.empty((len(rows), ncols), dtype=object)
        for i, (_, row) in enumerate(rows):
            cells[i, :len(row)] = row[:ncols]
        numbers = np.fromiter((n for n, _ in rows), dtype=np.int64, count=len(rows))
        return cls(file, cells, numbers, list(merged or []))


def column_letter(col: int) -> str:
    """Spreadsheet letter of the 0-based column ``col`` (0 → A, 26 → AA)."""
    from openpyxl.utils import get_column_letter

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
    if not grid.filled().any():
        raise file_issue(str(path), "import.file.empty", "import.file.empty_hint")
    return grid


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
    delimiter = _delimiter(text, ext)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=object,
                            keep_default_na=False, na_filter=False, skip_blank_lines=False,
                            engine="c", quotechar='"', doublequote=True)
    except (pd.errors.ParserError, ValueError):
        return _read_csv_records(path, text, delimiter)  # ragged or unusual: record by record
    cells = frame.to_numpy(dtype=object)
    if cells.size:
        if _may_hold_blank_fields(text, delimiter):
            blank = np.column_stack([frame[c].str.strip().eq("").to_numpy(dtype=bool)
                                     for c in frame.columns])
        else:
            blank = np.equal(cells, "")
        cells[blank] = None
    numbers = np.arange(1, len(cells) + 1, dtype=np.int64)
    return _trim(Grid(str(path), cells, numbers))


# Every whitespace character but line breaks, and the quote: a text holding none of them has no
# field made only of whitespace (quoted or not), so its blank cells are exactly the empty ones.
_SPACE_OR_QUOTE = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c not in "\r\n")
_SPACE_OR_QUOTE += '"'


def _may_hold_blank_fields(text: str, delimiter: str) -> bool:
    """Whether some field could hold only whitespace (then cells are stripped to find them)."""
    return any(c in text for c in _SPACE_OR_QUOTE if c != delimiter)


def _read_csv_records(path: Path, text: str, delimiter: str) -> Grid:
    """Read a delimited text record by record (rows may have different lengths)."""
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise file_issue(str(path), "import.file.csv_error", "import.file.csv_error_hint",
                         error=str(exc)) from exc
    ncols = max((len(r) for r in records), default=0)
    rows: list[tuple[int, list[Cell]]] = [
        (number, [c if c.strip() else None for c in record])
        for number, record in enumerate(records, start=1)]
    return _trim(Grid.from_rows(str(path), rows, ncols))


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")
_BAD_WORKBOOK = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError, ValueError,
                 TypeError, IndexError, AttributeError, ParseError)


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet of the workbook holds a formula (``<f>`` element)."""
    with zipfile.ZipFile(path) as z:
        return any(_FORMULA_TAG.search(z.read(n)) for n in z.namelist()
                   if n.startswith("xl/worksheets/") and n.endswith(".xml"))


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
        formulas = openpyxl.load_workbook(path, data_only=False) if _has_formulas(path) else None
    except (*_BAD_WORKBOOK, InvalidFileException) as exc:
        # openpyxl raises many types on damaged input (zip, deflate, XML): all mean the same.
        raise file_issue(str(path), "import.file.bad_xlsx", "import.file.not_xlsx_hint",
                         error=str(exc) or type(exc).__name__) from exc
    try:
        names = wb.sheetnames
        if sheet is None:
            index = 0
        elif sheet in names:
            index = names.index(sheet)
        elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
            index = int(sheet) - 1
        else:
            raise file_issue(str(path), "import.file.no_sheet", "import.file.no_sheet_hint",
                             sheet=sheet, sheets=", ".join(names))
        ws = wb.worksheets[index]
        fs = formulas.worksheets[index] if formulas is not None else None
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
                elif v is None and fs is not None:
                    cells.append(_formula(fs.cell(row=number, column=c.column).value))
                else:
                    cells.append(v)
            rows.append((number, cells))
        merged = [(r.min_row, r.min_col, r.max_row, r.max_col) for r in ws.merged_cells.ranges]
    finally:
        wb.close()
        if formulas is not None:
            formulas.close()
    return _trim(Grid.from_rows(str(path), rows, ncols, merged))


def _formula(value: object) -> Cell:
    """A :class:`FormulaCell` for a formula (``=…`` text or an array formula), else ``None``."""
    if isinstance(value, str) and value.startswith("="):
        return FormulaCell(value)
    text = getattr(value, "text", None)  # openpyxl ArrayFormula / DataTableFormula
    return FormulaCell(str(text)) if isinstance(text, str) else None


def _trim(grid: Grid) -> Grid:
    """Drop trailing columns and trailing rows that are entirely blank."""
    filled = grid.filled()
    if not filled.size or not filled.any():
        return Grid(grid.file, grid.cells[:0, :0], grid.numbers[:0], grid.merged)
    ncols = int(np.flatnonzero(filled.any(axis=0))[-1]) + 1
    nrows = int(np.flatnonzero(filled.any(axis=1))[-1]) + 1
    return Grid(grid.file, grid.cells[:nrows, :ncols], grid.numbers[:nrows], grid.merged)
