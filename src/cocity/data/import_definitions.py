"""Import the definitions of a workspace — its units and its indicator catalog — from CSV/XLSX.

With these two, ``cocity init ws --dataset none`` becomes a workspace for any city cluster:
``import units`` (the administrative units and their circle membership), ``import catalog``
(the indicators), then ``import boundaries`` and ``import observations``.

Both tables have one header row (the first non-blank row) whose labels are matched like the
observation importer's (case-insensitive, Chinese or English, :data:`UNIT_COLUMNS` and
:data:`CATALOG_COLUMNS`); other columns are ignored and reported. Every cell is checked and every
problem comes back at once (row, column as ``header (C)``, what to do); nothing is written unless
all is well, and the write is one transaction logged in the import log (kinds ``units`` and
``catalog``). A stored unit or indicator whose definition differs is a conflict unless
``replace`` — like observations; an identical re-import changes nothing.

Units: ``code`` (6-digit GB/T 2260), ``name_zh`` and ``level`` are required. ``name_en`` is
optional — pinyin names are not required: a unit without one is shown by its Chinese name in
English output (the import notes how many). ``parent`` (a code in the file or the workspace),
``kind``, ``membership`` (full / partial / outside, or 全域纳入 / 部分纳入 / 未纳入), ``tier``
(core / node / hinterland), ``metro`` (any lower-case identifier naming a metropolitan area)
and ``lon`` / ``lat`` (a representative point in degrees) are optional.

Catalog: ``id`` (lower-case identifier), ``name_zh``, ``direction`` (1 / −1 / 0, or 正向 / 逆向
/ 描述性, benefit / cost / descriptive), ``value_kind`` (count, share_pct, share_01, ratio, level,
or their Chinese names) and ``source`` are required; ``name_en`` (default: the Chinese name),
``unit_zh`` / ``unit_en``, ``definition_zh`` / ``definition_en`` and ``license`` are optional.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cocity.data.errors import Issue, ValidationError
from cocity.data.import_read import Cell, Progress, column_letter, read_grid
from cocity.data.importers import ImportResult, level_counts
from cocity.data.schema import (
    INDICATOR_COLUMNS,
    KINDS,
    LEVELS,
    MEMBERSHIPS,
    METRO_ID,
    TIERS,
    UNIT_COLUMNS,
    VALUE_KINDS,
)
from cocity.data.store import Store
from cocity.data.units import normalize
from cocity.data.validate import cell_text, is_blank
from cocity.i18n import t
from cocity.outputs import sha256_file

UNIT_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("code", "区划代码", "行政区划代码", "代码", "adcode", "unit_code", "gbcode"),
    "name_zh": ("name_zh", "名称", "中文名称", "单元名称", "地区", "地区名称", "name"),
    "name_en": ("name_en", "英文名称", "english_name", "pinyin", "拼音"),
    "level": ("level", "层级", "级别"),
    "parent": ("parent", "上级", "上级代码", "parent_code"),
    "kind": ("kind", "类型", "单元类型"),
    "membership": ("membership", "纳入情况", "纳入"),
    "tier": ("tier", "等级"),
    "metro": ("metro", "都市圈"),
    "lon": ("lon", "经度", "longitude", "lng"),
    "lat": ("lat", "纬度", "latitude"),
}
CATALOG_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "指标编号", "指标代码", "indicator", "indicator_id"),
    "name_zh": ("name_zh", "名称", "指标名称", "中文名称"),
    "name_en": ("name_en", "英文名称", "english_name"),
    "unit_zh": ("unit_zh", "计量单位", "单位"),
    "unit_en": ("unit_en", "英文单位", "unit"),
    "direction": ("direction", "方向", "指标方向"),
    "value_kind": ("value_kind", "数值类型", "类型", "kind"),
    "definition_zh": ("definition_zh", "定义", "指标定义", "中文定义"),
    "definition_en": ("definition_en", "英文定义", "definition"),
    "source": ("source", "来源", "数据来源"),
    "license": ("license", "许可", "许可协议"),
}
UNIT_REQUIRED = ("code", "name_zh", "level")
CATALOG_REQUIRED = ("id", "name_zh", "direction", "value_kind", "source")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_CODE = re.compile(r"^\d{6}$")
_DIRECTION_WORDS = {
    1: ("1", "+1", "+", "正向", "正", "benefit", "higher is better", "positive"),
    -1: ("-1", "-", "逆向", "负向", "负", "cost", "lower is better", "negative"),
    0: ("0", "描述性", "描述", "descriptive", "none", "无"),
}


# ------------------------------------------------------------------ reading
def _table(path: Path, aliases: dict[str, tuple[str, ...]], required: tuple[str, ...],
           sheet: str | None) -> tuple[list[tuple[int, dict[str, Cell]]], dict[str, str],
                                       list[str], list[Issue]]:
    """The data rows as ``(row number, {column: cell})``, the columns as shown, the ignored
    columns and the header issues."""
    grid = read_grid(path, sheet=sheet)
    name = str(path)
    top = int(np.flatnonzero(grid.filled().any(axis=1))[0])
    header = grid.row(top)
    lookup = {normalize(a): col for col, names in aliases.items() for a in names}
    cols: dict[str, int] = {}
    shown: dict[str, str] = {}
    ignored: list[str] = []
    issues: list[Issue] = []
    for j, label in enumerate(header):
        if is_blank(label):
            continue
        text = cell_text(label)
        role = lookup.get(normalize(text))
        label_shown = f"{text} ({column_letter(j)})"
        if role is None:
            ignored.append(label_shown)
        elif role in cols:
            issues.append(Issue(t("import.header.duplicate_role", role=role,
                                  other=shown[role]), name, grid.number(top), label_shown,
                                t("import.header.duplicate_role_hint")))
        else:
            cols[role], shown[role] = j, label_shown
    found = ", ".join(cell_text(c) for c in header if not is_blank(c)) or "—"
    for role in required:
        if role not in cols:
            issues.append(Issue(
                t("import.header.missing", role=role, aliases=" / ".join(aliases[role][:4]),
                  found=found), name, grid.number(top), role, t("import.header.missing_hint")))
    rows: list[tuple[int, dict[str, Cell]]] = []
    for i in range(top + 1, len(grid)):
        cells = grid.row(i)
        if all(is_blank(c) for c in cells):
            continue
        rows.append((grid.number(i), {role: cells[j] for role, j in cols.items()}))
        extra = [j for j, c in enumerate(cells) if not is_blank(c)
                 and (j >= len(header) or is_blank(header[j]))]
        for j in extra:
            issues.append(Issue(t("import.header.beyond", value=cell_text(cells[j])), name,
                                grid.number(i), column_letter(j),
                                t("import.header.beyond_hint")))
    return rows, shown, ignored, issues


def _text(cell: Cell) -> str | None:
    """The cell as text (codes written as numbers by Excel read as 510100), None when blank."""
    if is_blank(cell):
        return None
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return cell_text(cell)


def _choice(cell: Cell, allowed: tuple[str, ...], label_prefix: str) -> str | None:
    """An allowed code given as itself or as its Chinese/English label; raises ValueError."""
    text = _text(cell)
    if text is None:
        return None
    key = normalize(text)
    for value in allowed:
        names = {normalize(value), normalize(t(f"{label_prefix}.{value}", "zh")),
                 normalize(t(f"{label_prefix}.{value}", "en"))}
        if key in names:
            return value
    raise ValueError(text)


def _number(cell: Cell) -> float | None:
    text = _text(cell)
    if text is None:
        return None
    value = float(cell) if isinstance(cell, int | float) and not isinstance(cell, bool) \
        else float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


# ------------------------------------------------------------------ units
def read_units(store: Store, path: str | Path, *, sheet: str | None = None,
               replace: bool = False) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Validate a table of units; returns (the units frame, ignored columns, notes) or raises
    :class:`ValidationError` with every problem found."""
    path = Path(path)
    name = str(path)
    rows, shown, ignored, issues = _table(path, UNIT_ALIASES, UNIT_REQUIRED, sheet)
    if issues and any(i.column in UNIT_REQUIRED for i in issues):
        raise ValidationError(issues)
    stored = set(store.units()["code"])
    codes_in_file = {c for _, r in rows if (c := _text(r.get("code"))) is not None}
    records: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    no_english = 0

    def bad(row: int, role: str, key: str, hint: str, **fmt: object) -> None:
        issues.append(Issue(t(key, None, **fmt), name, row, shown.get(role, role), t(hint)))

    for number, r in rows:
        rec: dict[str, Any] = {c: None for c in UNIT_COLUMNS}
        code = _text(r.get("code"))
        if code is None or not _CODE.match(code):
            bad(number, "code", "import.def.bad_code", "import.def.bad_code_hint", value=code or "")
        elif code in seen:
            bad(number, "code", "import.def.repeated", "import.def.repeated_hint", value=code,
                other=seen[code])
        else:
            seen[code] = number
        rec["code"] = code
        rec["name_zh"] = _text(r.get("name_zh"))
        if rec["name_zh"] is None:
            bad(number, "name_zh", "import.def.missing", "import.def.missing_hint",
                column="name_zh")
        rec["name_en"] = _text(r.get("name_en"))
        if rec["name_en"] is None and rec["name_zh"] is not None:
            rec["name_en"] = rec["name_zh"]
            no_english += 1
        for role, allowed, prefix in (("level", LEVELS, "level"),
                                      ("membership", MEMBERSHIPS, "membership"),
                                      ("tier", TIERS, "tier"), ("kind", KINDS, "kind")):
            try:
                rec[role] = _choice(r.get(role), allowed, prefix)
            except ValueError as exc:
                bad(number, role, "import.def.not_allowed", "import.def.not_allowed_hint",
                    value=str(exc), allowed=", ".join(allowed))
        if rec["level"] is None and "level" in shown and is_blank(r.get("level")):
            bad(number, "level", "import.def.missing", "import.def.missing_hint",
                column="level")
        parent = _text(r.get("parent"))
        if parent is not None and parent not in codes_in_file | stored:
            bad(number, "parent", "import.def.unknown_parent", "import.def.unknown_parent_hint",
                value=parent)
        if parent is not None and parent == code:
            bad(number, "parent", "import.def.own_parent", "import.def.unknown_parent_hint",
                value=parent)
        rec["parent"] = parent
        metro = _text(r.get("metro"))
        if metro is not None and not METRO_ID.match(metro):
            bad(number, "metro", "check.metro", "import.def.metro_hint", value=metro)
        rec["metro"] = metro
        for role, low, high in (("lon", -180.0, 180.0), ("lat", -90.0, 90.0)):
            try:
                value = _number(r.get(role))
                if value is not None and not low <= value <= high:
                    raise ValueError(cell_text(r.get(role)))
                rec[role] = value
            except ValueError:
                bad(number, role, "import.def.coordinate", "import.def.coordinate_hint",
                    value=cell_text(r.get(role)), low=low, high=high)
        records.append(rec)
    if not rows and not issues:
        issues.append(Issue(t("import.file.no_data"), name, hint=t("import.def.no_rows_hint")))
    frame = pd.DataFrame(records, columns=list(UNIT_COLUMNS))
    if not issues:
        issues += _conflicts(store, "units", frame, rows, name, shown, replace)
    if issues:
        raise ValidationError(sorted(dict.fromkeys(issues), key=lambda i: i.row or 0))
    notes = [t("import.def.no_english", n=no_english)] if no_english else []
    return frame, ignored, notes


def import_units(store: Store, path: str | Path, *, sheet: str | None = None,
                 replace: bool = False, dry_run: bool = False,
                 progress: Progress | None = None) -> ImportResult:
    """Validate a table of units and write it in one transaction (logged); see the module
    documentation for the columns. Raises :class:`ValidationError` listing every problem."""
    return _import(store, path, "units", read_units, sheet=sheet, replace=replace,
                   dry_run=dry_run, progress=progress)


# ------------------------------------------------------------------ catalog
def read_catalog(store: Store, path: str | Path, *, sheet: str | None = None,
                 replace: bool = False) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Validate an indicator catalog; returns (the catalog frame, ignored columns, notes) or
    raises :class:`ValidationError` with every problem found."""
    path = Path(path)
    name = str(path)
    rows, shown, ignored, issues = _table(path, CATALOG_ALIASES, CATALOG_REQUIRED, sheet)
    if issues and any(i.column in CATALOG_REQUIRED for i in issues):
        raise ValidationError(issues)
    records: list[dict[str, Any]] = []
    seen: dict[str, int] = {}

    def bad(row: int, role: str, key: str, hint: str, **fmt: object) -> None:
        issues.append(Issue(t(key, None, **fmt), name, row, shown.get(role, role), t(hint)))

    for number, r in rows:
        rec: dict[str, Any] = {c: _text(r.get(c)) for c in INDICATOR_COLUMNS}
        ind = rec["id"]
        if ind is None or not _ID.match(ind):
            bad(number, "id", "import.def.bad_id", "import.def.bad_id_hint", value=ind or "")
        elif ind in seen:
            bad(number, "id", "import.def.repeated", "import.def.repeated_hint", value=ind,
                other=seen[ind])
        else:
            seen[ind] = number
        for role in ("name_zh", "source"):
            if rec[role] is None:
                bad(number, role, "import.def.missing", "import.def.missing_hint", column=role)
        if rec["name_en"] is None:
            rec["name_en"] = rec["name_zh"]
        direction = _direction(r.get("direction"))
        if direction is None:
            bad(number, "direction", "import.def.direction", "import.def.direction_hint",
                value=cell_text(r.get("direction")))
        rec["direction"] = direction
        try:
            rec["value_kind"] = _choice(r.get("value_kind"), VALUE_KINDS, "import.kind")
        except ValueError as exc:
            rec["value_kind"] = None
            bad(number, "value_kind", "import.def.not_allowed", "import.def.value_kind_hint",
                value=str(exc), allowed=", ".join(VALUE_KINDS))
        if rec["value_kind"] is None and is_blank(r.get("value_kind")):
            bad(number, "value_kind", "import.def.missing", "import.def.value_kind_hint",
                column="value_kind")
        records.append(rec)
    if not rows and not issues:
        issues.append(Issue(t("import.file.no_data"), name, hint=t("import.def.no_rows_hint")))
    frame = pd.DataFrame(records, columns=list(INDICATOR_COLUMNS))
    if not issues:
        issues += _conflicts(store, "indicators", frame, rows, name, shown, replace)
    if issues:
        raise ValidationError(sorted(dict.fromkeys(issues), key=lambda i: i.row or 0))
    return frame, ignored, []


def _direction(cell: Cell) -> int | None:
    """1, −1 or 0 from a number or a word (正向 / 逆向 / 描述性, benefit / cost / descriptive)."""
    text = _text(cell)
    if text is None:
        return None

    def key(word: str) -> str:  # keeps the sign (normalize() would drop the minus)
        return " ".join(unicodedata.normalize("NFKC", word).replace("\u2212", "-")
                        .casefold().split())

    for value, words in _DIRECTION_WORDS.items():
        if key(text) in {key(w) for w in words}:
            return value
    return None


def import_catalog(store: Store, path: str | Path, *, sheet: str | None = None,
                   replace: bool = False, dry_run: bool = False,
                   progress: Progress | None = None) -> ImportResult:
    """Validate an indicator catalog and write it in one transaction (logged); see the module
    documentation for the columns. Raises :class:`ValidationError` listing every problem."""
    return _import(store, path, "catalog", read_catalog, sheet=sheet, replace=replace,
                   dry_run=dry_run, progress=progress)


# ------------------------------------------------------------------ shared
def _import(store: Store, path: str | Path, kind: str,
            read: Callable[..., tuple[pd.DataFrame, list[str], list[str]]], *,
            sheet: str | None, replace: bool, dry_run: bool,
            progress: Progress | None) -> ImportResult:
    """Read and validate a definitions file with ``read``, then write it (or not, with
    ``dry_run``)."""
    file = Path(path)
    if progress:
        progress("read", 0, 1)
    frame, ignored, notes = read(store, file, sheet=sheet, replace=replace)
    if progress:
        progress("read", 1, 1)
    return _write(store, kind, frame, file, ignored, notes, dry_run)


def _conflicts(store: Store, table: str, frame: pd.DataFrame,
               rows: list[tuple[int, dict[str, Cell]]], name: str, shown: dict[str, str],
               replace: bool) -> list[Issue]:
    """An issue for every stored unit/indicator the file defines differently (unless
    ``replace``)."""
    if replace:
        return []
    _, differs = store.row_changes(table, frame)
    key = frame.columns[0]
    return [Issue(t("import.def.conflict", value=frame[key].iloc[i]), name, rows[i][0],
                  shown.get(key, key), t("import.conflict_hint"))
            for i in np.flatnonzero(differs)]


def _write(store: Store, kind: str, frame: pd.DataFrame, path: Path, ignored: list[str],
           notes: list[str], dry_run: bool) -> ImportResult:
    table = "units" if kind == "units" else "indicators"
    is_new, differs = store.row_changes(table, frame)
    digest = sha256_file(path)
    if not dry_run:
        if kind == "units":
            store.add_units(frame, source=str(path), file=str(path), sha256=digest)
        else:
            store.add_indicators(frame, source=str(path), file=str(path), sha256=digest)
    added, changed = int(is_new.sum()), int(differs.sum())
    covered = level_counts(frame["level"]) if kind == "units" else ""
    return ImportResult(
        file=str(path), kind=kind, form=None, rows_read=len(frame), records=len(frame),
        added=added, changed=changed, unchanged=len(frame) - added - changed,
        ignored_columns=tuple(ignored), sha256=digest, dry_run=dry_run, notes=tuple(notes),
        units=covered)
