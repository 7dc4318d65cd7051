"""Import observations from the tables analysts really have (CSV / XLSX, long or wide form).

Rules for cells (blank = no observation, thousands separators accepted, value ranges by
``value_kind`` …) are listed in :mod:`cocity.data.validate`; layouts (long, wide with multi-row
headers) in :mod:`cocity.data.import_layout`.

Everything is validated before anything is written: unknown or ambiguous units, unknown
indicators, duplicate (unit, year, indicator) keys, non-numeric cells, values impossible for the
indicator's ``value_kind``, bad years, units of measure that differ from the catalog and values
that conflict with stored ones. All issues are collected and raised together as one
:class:`~cocity.data.errors.ValidationError`, each naming file, spreadsheet row, column and what
to do. The write is one transaction, so a failed import leaves the store exactly as it was and
re-importing a file changes nothing. Boundaries are imported by
:func:`cocity.data.import_boundaries.import_boundaries`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cocity.data.errors import Issue, ValidationError
from cocity.data.import_layout import Layout, RawObs, detect_form, read_long, read_wide
from cocity.data.import_read import Progress, read_grid
from cocity.data.store import Store
from cocity.data.validate import (
    CellError,
    IndicatorMatcher,
    UnitResolver,
    is_blank,
    parse_value,
    parse_year,
)
from cocity.i18n import t
from cocity.outputs import sha256_file

FORMS = ("auto", "long", "wide")
_PROGRESS_EVERY = 2000


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
    progress: Progress | None = None,
) -> ParsedObservations:
    """Read and validate a table of observations without writing anything.

    ``form`` is ``long``, ``wide`` or ``auto`` (long if the header has an indicator or a value
    column). ``year`` applies where the file gives none (no year column, no year header).
    ``header_rows`` counts header rows from the first non-blank row (default: detected).
    ``source`` defaults to the file name. Unless ``replace``, a value differing from the stored
    one is an issue. Raises :class:`ValidationError` listing every problem found.
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
                               progress=progress)
    frame = parsed.frame
    if dry_run:
        added, changed = _diff_counts(store, frame)
    else:
        if progress:
            progress("write", 0, 1)
        added, changed = store.add_observations(frame, replace=replace, file=str(path),
                                                sha256=parsed.sha256, kind="observations")
        if progress:
            progress("write", 1, 1)
    layout = parsed.layout
    return ImportResult(
        file=str(path), kind="observations", form=layout.form, rows_read=layout.rows_read,
        records=len(frame), added=added, changed=changed, unchanged=len(frame) - added - changed,
        blank=layout.blank, ignored_columns=tuple(layout.ignored_columns),
        sha256=parsed.sha256, dry_run=dry_run)


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
    """Resolve units, years and values of every record; collect issues and duplicates."""
    issues: list[Issue] = []
    rows: list[tuple[str, int, str, float, str | None, int, str]] = []
    seen: dict[tuple[str, int, str], int] = {}
    total = len(layout.records)
    for i, rec in enumerate(layout.records):
        if progress and i % _PROGRESS_EVERY == 0:
            progress("validate", i, total)
        code = _unit(rec, file, units, issues)
        year = _year(rec, file, year_option, issues)
        value: float | None = None
        if rec.indicator is not None:
            try:
                value = parse_value(rec.value, matcher.value_kind(rec.indicator))
            except CellError as e:
                issues.append(Issue(e.message, file, rec.row, rec.value_col, e.hint))
        if code is None or year is None or rec.indicator is None or value is None:
            continue
        key = (code, year, rec.indicator)
        if key in seen:
            issues.append(Issue(
                t("import.duplicate", unit=units.index.qualified_name(code), code=code, year=year,
                  name=matcher.label(rec.indicator), other=seen[key]),
                file, rec.row, rec.value_col, t("import.duplicate_hint")))
            continue
        seen[key] = rec.row
        rows.append((code, year, rec.indicator, value, rec.source, rec.row, rec.value_col))
    if progress:
        progress("validate", total, total)
    frame = pd.DataFrame(rows, columns=["unit", "year", "indicator", "value", "source",
                                        "src_row", "src_col"])
    frame["imputed"] = False
    frame["simulated"] = False
    return frame, issues


def _unit(rec: RawObs, file: str, units: UnitResolver, issues: list[Issue]) -> str | None:
    """The code of a record's unit: the code cell if filled (the name cell must agree with it),
    else the name cell."""
    use_code = rec.code_col is not None and (not is_blank(rec.code) or rec.name_col is None)
    cell, col = (rec.code, rec.code_col) if use_code else (rec.name, rec.name_col)
    try:
        code = units.resolve(cell)
        if use_code and rec.name_col is not None:
            units.check_pair(code, rec.name)
        return code
    except CellError as e:
        issues.append(Issue(e.message, file, rec.row, col, e.hint))
        return None


def _year(rec: RawObs, file: str, year_option: int | None, issues: list[Issue]) -> int | None:
    """The year of a record: its own cell, else the ``year`` option."""
    if rec.year is None and rec.year_col is None:
        return year_option
    try:
        return parse_year(rec.year)
    except CellError as e:
        issues.append(Issue(e.message, file, rec.row, rec.year_col or "year", e.hint))
        return None


def _stored(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """Stored observations sharing a (unit, year, indicator) key with ``frame``."""
    old = store.observations(indicators=sorted(set(frame["indicator"])),
                             years=sorted({int(y) for y in frame["year"]}))
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
    return [Issue(t("import.conflict", stored=f"{old:g}", value=f"{new:g}", unit=unit,
                    year=year, indicator=ind),
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

