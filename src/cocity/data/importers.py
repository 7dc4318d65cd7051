"""Import observations from the tables analysts really have (CSV / XLSX, long or wide form).

Rules for cells (blank = no observation, thousands separators accepted, value ranges by
``value_kind`` …) are listed in :mod:`cocity.data.validate`; layouts (long, wide with multi-row
headers) in :mod:`cocity.data.import_layout`.

Everything is validated before anything is written: unknown or ambiguous units, unknown
indicators, duplicate (unit, year, indicator) keys, non-numeric cells and formulas without a
saved value, values implausible for the indicator (``bounds.yaml``), bad years, units of measure
that cannot be converted to the catalog's and values that conflict with stored ones. All issues
are collected and raised together as one :class:`~cocity.data.errors.ValidationError`, each
naming file, spreadsheet row, column and what to do. The write is one transaction, so a failed
import leaves the store exactly as it was and re-importing a file changes nothing. Boundaries
are imported by :func:`cocity.data.import_boundaries.import_boundaries`, units and catalogs by
:mod:`cocity.data.import_definitions`.

Speed: validation is vectorised. Distinct unit, year and indicator cells are resolved once;
plain numbers are parsed, converted and range-checked as arrays; only the cells that are not
plain numbers within their bounds (and the rows whose unit or year fails) go through the
per-cell functions of :mod:`cocity.data.validate`, which give the messages — so the messages
are those of a cell-by-cell check. ``benchmarks/bench_import.py`` compares with the
record-by-record importer this replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cocity.data.errors import Issue, ValidationError
from cocity.data.import_layout import (
    Layout,
    Records,
    detect_form,
    distinct,
    read_long,
    read_wide,
)
from cocity.data.import_read import Progress, not_none, or_none, read_grid
from cocity.data.store import Store
from cocity.data.uom import convert
from cocity.data.validate import (
    NUMBER_PATTERN,
    CellError,
    IndicatorMatcher,
    UnitResolver,
    format_value,
    parse_value,
    parse_year,
)
from cocity.i18n import current_lang, t
from cocity.outputs import sha256_file

FORMS = ("auto", "long", "wide")
# A plain number, as float() reads it (surrounding ASCII spaces and tabs allowed).
_PLAIN_NUMBER = rf"[ \t]*{NUMBER_PATTERN}[ \t]*"


@dataclass(frozen=True)
class ImportResult:
    """What an import did. ``unchanged`` rows were identical to stored ones (skipped)."""

    file: str
    kind: str
    form: str | None
    rows_read: int
    records: int
    added: int
    changed: int
    unchanged: int
    blank: int = 0
    ignored_columns: tuple[str, ...] = ()
    sha256: str = ""
    dry_run: bool = False
    notes: tuple[str, ...] = ()
    units: str = ""  # which units the file covers, e.g. "16 个地级单元、142 个县级单元"


def units_covered(store: Store, codes: pd.Series | list[str]) -> str:
    """``16 个地级单元、142 个县级单元`` / ``16 prefecture-level, 142 county-level``: the units
    a file covers, by level."""
    units = store.units().set_index("code")
    return level_counts(units["level"].reindex(pd.Series(codes, dtype=object).unique()))


def level_counts(levels: pd.Series) -> str:
    """How many of ``levels`` (one entry per unit) are at each level, in words."""
    counts = levels.value_counts()
    en = current_lang() == "en"
    parts = [t("import.units.at_level", n=int(counts[lv]),
               level=t(f"level.{lv}").lower() if en else t(f"level.{lv}"))
             for lv in ("province", "prefecture", "county") if lv in counts.index]
    return t("import.units.sep").join(parts) if parts else "—"


@dataclass
class ParsedObservations:
    """Validated observations of one file, ready for :meth:`Store.add_observations`."""

    frame: pd.DataFrame
    layout: Layout
    sha256: str


def read_observations(
    store: Store,
    path: str | Path,
    *,
    form: str = "auto",
    year: int | str | None = None,
    sheet: str | None = None,
    header_rows: int | None = None,
    source: str | None = None,
    replace: bool = False,
    simulated: bool = False,
    progress: Progress | None = None,
) -> ParsedObservations:
    """Read and validate a table of observations without writing anything.

    ``form`` is ``long``, ``wide`` or ``auto`` (long if the header has an indicator or a value
    column). ``year`` applies where the file gives none (no year column, no year header).
    ``header_rows`` counts header rows from the first non-blank row (default: detected).
    ``source`` defaults to the file name. Unless ``replace``, a value differing from the stored
    one is an issue. ``simulated`` flags every value as simulated (demonstration data), so that
    reports say so. Raises :class:`ValidationError` listing every problem found.
    """
    path = Path(path)
    name = str(path)
    _check_options(name, form, header_rows)
    year_option: int | None = None
    if year is not None:
        try:
            year_option = parse_year(year)
        except CellError as e:
            raise ValidationError([Issue(e.message, name, column="--year", hint=e.hint)]) from None
    grid = read_grid(path, sheet=sheet, progress=progress)
    digest = sha256_file(path)
    matcher = IndicatorMatcher(store.catalog())
    index = store.unit_index()
    chosen = detect_form(grid) if form == "auto" else form
    default_source = source or path.name
    if chosen == "long":
        layout = read_long(grid, matcher, header_rows=header_rows,
                           has_year_option=year_option is not None, default_source=default_source)
    else:
        layout = read_wide(grid, matcher, index, header_rows=header_rows,
                           has_year_option=year_option is not None, default_source=default_source)
    frame, issues = _validate(layout, name, matcher, UnitResolver(index), year_option, progress)
    issues = layout.issues + issues
    if not issues and frame.empty:
        issues.append(Issue(t("import.file.no_data"), name, hint=t("import.file.no_data_hint")))
    if not issues and not replace:
        issues = _conflicts(store, frame, name)
    if issues:
        raise ValidationError(_sorted_unique(issues))
    frame["simulated"] = bool(simulated)
    return ParsedObservations(frame.drop(columns=["src_row", "src_col"]), layout, digest)


def import_observations(
    store: Store,
    path: str | Path,
    *,
    form: str = "auto",
    year: int | str | None = None,
    sheet: str | None = None,
    header_rows: int | None = None,
    source: str | None = None,
    replace: bool = False,
    simulated: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate a table of observations and write it to ``store`` in one transaction.

    See :func:`read_observations` for the options. With ``dry_run`` nothing is written and
    ``added`` / ``changed`` say what an import would do. Raises :class:`ValidationError`.
    """
    path = Path(path)
    parsed = read_observations(store, path, form=form, year=year, sheet=sheet,
                               header_rows=header_rows, source=source, replace=replace,
                               simulated=simulated, progress=progress)
    frame = parsed.frame
    if dry_run:
        added, changed = _diff_counts(store, frame)
    else:
        if progress:
            progress("write", 0, 1)
        added, changed = store.add_observations(frame, replace=replace, file=str(path),
                                                sha256=parsed.sha256, kind="observations",
                                                notes=list(parsed.layout.notes))
        if progress:
            progress("write", 1, 1)
    layout = parsed.layout
    return ImportResult(
        file=str(path), kind="observations", form=layout.form, rows_read=layout.rows_read,
        records=len(frame), added=added, changed=changed, unchanged=len(frame) - added - changed,
        blank=layout.blank, ignored_columns=tuple(layout.ignored_columns),
        sha256=parsed.sha256, dry_run=dry_run, notes=tuple(layout.notes),
        units=units_covered(store, frame["unit"]))


def _check_options(name: str, form: str, header_rows: int | None) -> None:
    """Reject impossible option values before reading the file."""
    issues = []
    if form not in FORMS:
        issues.append(Issue(t("import.option.form", value=form, forms=", ".join(FORMS)), name,
                            column="--form"))
    if header_rows is not None and header_rows < 1:
        issues.append(Issue(t("import.option.header_rows", value=header_rows), name,
                            column="--header-rows"))
    if issues:
        raise ValidationError(issues)


def _validate(layout: Layout, file: str, matcher: IndicatorMatcher, units: UnitResolver,
              year_option: int | None, progress: Progress | None
              ) -> tuple[pd.DataFrame, list[Issue]]:
    """Resolve units, years and values of every record; collect issues and duplicates.

    The happy path is vectorised: distinct unit and year cells are resolved once, plain
    numbers are parsed and range-checked as whole arrays. Every cell that is not a plain
    number within its range — and every row whose unit or year fails — goes through the
    per-cell functions of :mod:`cocity.data.validate`, which give the messages.
    """
    recs = layout.records
    columns = ["unit", "year", "indicator", "value", "source", "src_row", "src_col"]
    if recs is None or len(recs) == 0:
        return _frame(pd.DataFrame(columns=columns)), []
    total = len(recs)
    if progress:
        progress("validate", 0, total)
    issues: list[Issue] = []
    codes, unit_ok = _units(recs, file, units, issues)
    years, year_ok = _years(recs, file, year_option, issues)
    has_ind = not_none(recs.indicator)
    values, value_ok = _values(recs, has_ind, file, matcher, issues)
    ok = unit_ok & year_ok & has_ind & value_ok
    frame = pd.DataFrame({
        "unit": codes[ok], "year": years[ok], "indicator": recs.indicator[ok],
        "value": values[ok], "source": recs.source[ok], "src_row": recs.row[ok],
        "src_col": recs.value_col[ok]})
    keys = ["unit", "year", "indicator"]
    dup = frame.duplicated(keys, keep="first").to_numpy()
    if dup.any():
        first = frame.groupby(keys, sort=False)["src_row"].transform("first").to_numpy()
        at = np.flatnonzero(dup)
        for code, year, ind, row, col, other in zip(
                frame["unit"].to_numpy()[at], frame["year"].to_numpy()[at],
                frame["indicator"].to_numpy()[at], frame["src_row"].to_numpy()[at],
                frame["src_col"].to_numpy()[at], first[at], strict=True):
            issues.append(Issue(
                t("import.duplicate", unit=units.index.qualified_name(str(code)), code=code,
                  year=year, name=matcher.label(str(ind)), other=int(other)),
                file, int(row), str(col), t("import.duplicate_hint")))
        frame = frame[~dup]
    if progress:
        progress("validate", total, total)
    return _frame(frame.reset_index(drop=True)), issues


def _frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Typed columns plus the provenance flags of imported observations."""
    frame = frame.astype({"year": "int64", "value": "float64", "src_row": "int64"})
    frame["imputed"] = False
    frame["simulated"] = False
    return frame


def _units(recs: Records, file: str, units: UnitResolver, issues: list[Issue]
           ) -> tuple[np.ndarray, np.ndarray]:
    """The code of each record's unit: the code cell if filled (the name cell must agree with
    it), else the name cell; and which records resolved."""
    n = len(recs)
    code_cells = recs.code if recs.code is not None else np.full(n, None, dtype=object)
    name_cells = recs.name if recs.name is not None else np.full(n, None, dtype=object)
    use_code = (not_none(code_cells) | (recs.name is None)) if recs.code is not None \
        else np.zeros(n, dtype=bool)
    cells = np.where(use_code, code_cells, name_cells)
    pair = or_none(use_code & (recs.name is not None), name_cells)
    ci, cu = distinct(cells)
    pi, pu = distinct(pair)
    inverse, pairs = pd.factorize(ci * (len(pu) + 1) + pi)
    resolved = np.full(len(pairs), None, dtype=object)
    errors: dict[int, CellError] = {}
    for j, k in enumerate(pairs):
        cell, name = cu[int(k) // (len(pu) + 1)], pu[int(k) % (len(pu) + 1)]
        try:
            code = units.resolve(cell)
            if name is not None:
                units.check_pair(code, name)
            resolved[j] = code
        except CellError as e:
            errors[j] = e
    out = resolved[inverse]
    ok = not_none(out)
    for i in np.flatnonzero(~ok):
        err = errors[int(inverse[i])]
        col = recs.code_col if use_code[i] else recs.name_col
        issues.append(Issue(err.message, file, int(recs.row[i]), col, err.hint))
    return out, ok


def _years(recs: Records, file: str, year_option: int | None, issues: list[Issue]
           ) -> tuple[np.ndarray, np.ndarray]:
    """The year of each record: its own cell (or header), else the ``year`` option."""
    n = len(recs)
    out = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    from_option = ~not_none(recs.year) & ~not_none(recs.year_col)
    if year_option is not None:
        out[from_option] = year_option
        ok[from_option] = True
    idx, seen = distinct(or_none(~from_option, recs.year))
    for k, cell in enumerate(seen):
        at = (idx == k) & ~from_option
        if not at.any():
            continue
        try:
            out[at] = parse_year(cell)
            ok[at] = True
        except CellError as exc:
            for i in np.flatnonzero(at):
                issues.append(Issue(exc.message, file, int(recs.row[i]),
                                    recs.year_col[i] or "year", exc.hint))
    return out, ok


def _plain_numbers(texts: np.ndarray) -> np.ndarray:
    """The value of each text that is a plain number (:data:`NUMBER_PATTERN`, surrounding
    spaces allowed), NaN for any other text.

    When every text is ASCII without underscores, ``float()`` accepts exactly the plain numbers
    plus ``nan``/``inf`` spellings (which give non-finite values, diagnosed per cell later), so
    the whole array is converted at once; otherwise (or when some text is not a number) each
    text is matched against the pattern first.
    """
    joined = "".join(texts.tolist())
    if joined.isascii() and "_" not in joined:
        try:
            return np.asarray(texts.astype(float))
        except ValueError:
            pass
    series = pd.Series(texts, dtype=object)
    plain = series.str.fullmatch(_PLAIN_NUMBER).fillna(False).to_numpy(dtype=bool)
    parsed = np.full(len(texts), np.nan)
    parsed[plain] = texts[plain].astype(float)
    return parsed


def _values(recs: Records, has_ind: np.ndarray, file: str, matcher: IndicatorMatcher,
            issues: list[Issue]) -> tuple[np.ndarray, np.ndarray]:
    """Each record's value in the catalog's unit, and which records passed.

    Plain numbers (numeric cells, and text matching the number pattern) are parsed,
    converted and checked against the indicator's bounds as arrays; everything else — and
    every value out of bounds — is parsed and diagnosed cell by cell.
    """
    n = len(recs)
    cells = recs.value
    if pd.api.types.infer_dtype(cells, skipna=True) in ("string", "empty"):
        is_str, is_num = not_none(cells), np.zeros(n, dtype=bool)
    else:
        series = pd.Series(cells, dtype=object)
        is_num = series.map(lambda c: isinstance(c, int | float) and not isinstance(c, bool)
                            ).to_numpy(dtype=bool)
        is_str = series.map(lambda c: isinstance(c, str)).to_numpy(dtype=bool)
    values = np.full(n, np.nan)
    values[is_num] = cells[is_num].astype(float)
    if is_str.any():
        values[is_str] = _plain_numbers(cells[is_str])
    fast = np.isfinite(values) & has_ind
    scaled = recs.factor != 1.0
    for f in np.unique(recs.factor[fast & scaled]):
        at = fast & (recs.factor == f)
        values[at] = convert(values[at], float(f))
    ind_idx, ind_distinct = distinct(or_none(has_ind, recs.indicator))
    low = np.full(n, -np.inf)
    high = np.full(n, np.inf)
    for k, ind in enumerate(ind_distinct):
        if ind is not None:
            b = matcher.bounds(str(ind))
            low[ind_idx == k], high[ind_idx == k] = b.low, b.high
    with np.errstate(invalid="ignore"):
        ok = fast & (values >= low) & (values <= high)
    for i in np.flatnonzero(has_ind & ~ok):
        ind = str(recs.indicator[i])
        try:
            values[i] = parse_value(cells[i], matcher.value_kind(ind),
                                    factor=float(recs.factor[i]), bounds=matcher.bounds(ind))
            ok[i] = True
        except CellError as e:
            issues.append(Issue(t("import.value.about", indicator=matcher.describe(ind),
                                  message=e.message),
                                file, int(recs.row[i]), str(recs.value_col[i]), e.hint))
    return values, ok


def _stored(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """Stored observations sharing a (unit, year, indicator) key with ``frame``."""
    old = store.observations(indicators=sorted(map(str, frame["indicator"].unique())),
                             years=sorted(map(int, frame["year"].unique())))
    old = old[["unit", "year", "indicator", "value"]].rename(columns={"value": "old_value"})
    old["year"] = old["year"].astype(int)
    return frame.merge(old, on=["unit", "year", "indicator"], how="inner")


def _differs(merged: pd.DataFrame) -> np.ndarray:
    """Rows whose new value differs from the stored one (same tolerance as the store)."""
    return ~np.isclose(merged["value"].to_numpy(float), merged["old_value"].to_numpy(float),
                       rtol=1e-12, atol=0.0, equal_nan=True)


def _conflicts(store: Store, frame: pd.DataFrame, file: str) -> list[Issue]:
    """An issue for every value that differs from the one already stored."""
    merged = _stored(store, frame)
    merged = merged[_differs(merged)]
    return [Issue(t("import.conflict", stored=format_value(old), value=format_value(new),
                    unit=unit, year=year, indicator=ind),
                  file, int(row), str(col), t("import.conflict_hint"))
            for unit, year, ind, old, new, row, col in zip(
                merged["unit"], merged["year"], merged["indicator"], merged["old_value"],
                merged["value"], merged["src_row"], merged["src_col"], strict=True)]


def _diff_counts(store: Store, frame: pd.DataFrame) -> tuple[int, int]:
    """(added, changed) that writing ``frame`` would give, without writing."""
    if frame.empty:
        return 0, 0
    merged = _stored(store, frame)
    return len(frame) - len(merged), int(_differs(merged).sum())


def _sorted_unique(issues: list[Issue]) -> list[Issue]:
    """Drop repeated issues and order them by row (file-level issues first)."""
    unique = list(dict.fromkeys(issues))
    return sorted(unique, key=lambda i: i.row if i.row is not None else 0)

