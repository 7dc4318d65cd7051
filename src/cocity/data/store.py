"""The workspace store: units, indicator catalog, observations and geometries in one DuckDB file.

A workspace is a folder holding ``cocity.duckdb``. The key of an observation (unit, year,
indicator) is kept unique by :meth:`Store.add_observations`, the only writer of observations,
which compares every incoming key with the stored ones before writing; the table carries no
PRIMARY KEY index, whose upkeep would cost most of an import's time (workspaces created before
keep theirs, which changes nothing but speed). Every write is one transaction: it either
lands whole or leaves the store exactly as it was (a full disk included). Reads return pandas /
GeoPandas frames. Commands that only read open the file read-only (``Store.open(ws,
read_only=True)``): they never migrate or write it and may run while other processes read it.
A file another process is writing, or a damaged file, is refused with a message naming the
file and what to do. The embedded default dataset is opened by ``cocity.datasets.open_store``
(the data layer does not know the datasets above it).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cocity.data.errors import (
    Issue,
    ValidationError,
    WorkspaceDamagedError,
    WorkspaceError,
    WorkspaceLockedError,
    WorkspaceNotFoundError,
    WorkspaceReadOnlyError,
    WorkspaceWriteError,
)
from cocity.data.geodesy import DATUM_CRS, convert_coords, normalize_datum
from cocity.data.schema import (
    DIRECTIONS,
    INDICATOR_COLUMNS,
    KINDS,
    LAT_RANGE,
    LEVELS,
    LON_RANGE,
    MEMBERSHIPS,
    METRO_ID,
    OBSERVATION_COLUMNS,
    TIERS,
    UNIT_COLUMNS,
    VALUE_KINDS,
)
from cocity.data.units import UnitIndex
from cocity.data.validate import format_value
from cocity.i18n import t

DB_NAME = "cocity.duckdb"

# Columns added after the first release, for workspaces created before them.
_MIGRATIONS = """
ALTER TABLE imports ADD COLUMN IF NOT EXISTS indicators VARCHAR[];
ALTER TABLE imports ADD COLUMN IF NOT EXISTS years INTEGER[];
ALTER TABLE imports ADD COLUMN IF NOT EXISTS notes VARCHAR[];
"""

_DDL = """
CREATE TABLE IF NOT EXISTS units (
  code VARCHAR PRIMARY KEY, name_zh VARCHAR NOT NULL, name_en VARCHAR NOT NULL,
  level VARCHAR NOT NULL, parent VARCHAR, kind VARCHAR, membership VARCHAR, tier VARCHAR,
  metro VARCHAR, lon DOUBLE, lat DOUBLE);
CREATE TABLE IF NOT EXISTS indicators (
  id VARCHAR PRIMARY KEY, name_zh VARCHAR NOT NULL, name_en VARCHAR NOT NULL,
  unit_zh VARCHAR, unit_en VARCHAR, direction INTEGER NOT NULL, value_kind VARCHAR NOT NULL,
  definition_zh VARCHAR, definition_en VARCHAR, source VARCHAR, license VARCHAR);
CREATE TABLE IF NOT EXISTS observations (
  unit VARCHAR NOT NULL, year INTEGER NOT NULL, indicator VARCHAR NOT NULL, value DOUBLE,
  source VARCHAR, imputed BOOLEAN NOT NULL DEFAULT FALSE,
  simulated BOOLEAN NOT NULL DEFAULT FALSE);
CREATE TABLE IF NOT EXISTS geometries (code VARCHAR PRIMARY KEY, wkb BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS imports (
  file VARCHAR, sha256 VARCHAR, kind VARCHAR, rows INTEGER, added INTEGER, changed INTEGER,
  imported_at TIMESTAMP DEFAULT current_timestamp, indicators VARCHAR[], years INTEGER[],
  notes VARCHAR[]);
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
"""


def _none_if_missing(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else v


def _same(a: Any, b: Any) -> bool:
    """Equal values, missing values (None, NaN) being equal to each other."""
    a, b = _none_if_missing(a), _none_if_missing(b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, int | float | np.number) and isinstance(b, int | float | np.number):
        return bool(float(a) == float(b))
    return str(a) == str(b)


# What DuckDB raises when the file cannot be written (an I/O error while writing, or a commit
# that could not write its log); other errors are programming errors and pass through.
_WRITE_FAILURES = (duckdb.IOException, duckdb.TransactionException)
_TABLES = ("units", "indicators", "observations", "geometries", "imports", "meta")
_FULL = ("no space left", "file too large", "disk quota")
_DENIED = ("permission denied", "read-only file system")


def _reason(exc: BaseException) -> str:
    """The first line of a DuckDB message without its ``IO Error:`` prefix."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.split(": ", 1)[1] if text.startswith(("IO Error: ", "IO Error:")) else text


def workspace_fault(exc: BaseException, db: Path, *, writing: bool) -> WorkspaceError:
    """The user-facing error for a DuckDB failure on the workspace file ``db``.

    Locks (another process has the file open) → :class:`WorkspaceLockedError` with the other
    process's id when DuckDB names it; a full disk, a file-size limit or a permission problem
    while writing → :class:`WorkspaceWriteError`; anything else while opening →
    :class:`WorkspaceDamagedError`.
    """
    text = str(exc)
    low = text.lower()
    reason = _reason(exc)
    if "lock" in low and ("conflicting lock" in low or "could not set lock" in low):
        pid = re.search(r"PID (\d+)", text)
        return WorkspaceLockedError(t("store.locked", db=db, pid=pid.group(1) if pid else "?"))
    if any(k in low for k in _FULL):
        return WorkspaceWriteError(t("store.disk_full", db=db, reason=reason))
    if any(k in low for k in _DENIED):
        return WorkspaceWriteError(t("store.denied", db=db, reason=reason))
    if writing:
        return WorkspaceWriteError(t("store.write_failed", db=db, reason=reason))
    return WorkspaceDamagedError(t("store.damaged", db=db, reason=reason))


class Store:
    """A cocity workspace. Open with :meth:`Store.open` (or ``cocity.datasets.open_store``,
    which also opens the embedded default dataset)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | None, *,
                 read_only: bool = False):
        self.con = con
        self.path = path
        self.read_only = read_only
        self._index: UnitIndex | None = None
        if read_only:
            tables = {r[0] for r in con.execute(
                "SELECT table_name FROM information_schema.tables").fetchall()}
            missing = [x for x in _TABLES if x not in tables]
            if missing:
                raise WorkspaceDamagedError(t("store.not_cocity", db=self.db,
                                              tables=", ".join(missing)))
        else:
            self.con.execute(_DDL)
            self.con.execute(_MIGRATIONS)

    @property
    def db(self) -> Path | str:
        """The workspace file (``:memory:`` for an in-memory store)."""
        return self.path / DB_NAME if self.path is not None else ":memory:"

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def open(cls, workspace: str | Path | None = None, *, create: bool = False,
             read_only: bool = False) -> Store:
        """Open the store of ``workspace`` (a folder); ``None`` gives an in-memory store.

        ``read_only`` opens the file without writing anything (no schema migration), so that
        several processes may read one workspace at once. A workspace another process holds,
        or a damaged file, raises a :class:`WorkspaceError` naming the file and what to do.
        """
        if workspace is None:
            return cls(duckdb.connect(":memory:"), None)
        folder = Path(workspace)
        db = folder / DB_NAME
        if not db.exists() and (not create or read_only):
            raise WorkspaceNotFoundError(t("error.no_workspace", folder=folder, db=DB_NAME))
        if db.is_dir():
            raise WorkspaceDamagedError(t("store.damaged", db=db, reason="directory"))
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceWriteError(t("store.write_failed", db=db, reason=exc)) from exc
        try:
            con = duckdb.connect(str(db), read_only=read_only)
        except duckdb.Error as exc:
            raise workspace_fault(exc, db, writing=False) from None
        try:
            return cls(con, folder, read_only=read_only)
        except duckdb.Error as exc:
            con.close()
            raise workspace_fault(exc, db, writing=not read_only) from None
        except BaseException:
            con.close()
            raise

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing block: any exception rolls every statement back.

        A failed write of the file itself (disk full, …) becomes a :class:`WorkspaceError`
        after the rollback; the workspace holds what it held before the block.
        """
        if self.read_only:
            raise WorkspaceReadOnlyError(t("store.read_only", db=self.db))
        try:
            self.con.execute("BEGIN TRANSACTION")
        except duckdb.Error as exc:
            raise self._fault(exc) from None
        try:
            yield self.con
            self.con.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
            if isinstance(exc, _WRITE_FAILURES):
                raise self._fault(exc) from None
            raise
        finally:
            self._index = None

    def _fault(self, exc: BaseException) -> BaseException:
        """A DuckDB failure to write the file, as a user-facing error (others unchanged)."""
        if isinstance(exc, _WRITE_FAILURES):
            return workspace_fault(exc, Path(str(self.db)), writing=True)
        return exc

    @contextlib.contextmanager
    def _registered(self, **frames: pd.DataFrame) -> Iterator[None]:
        """Expose frames to SQL under the given names for the duration of the block."""
        for name, frame in frames.items():
            self.con.register(name, frame)
        try:
            yield
        finally:
            for name in frames:
                self.con.unregister(name)

    # ------------------------------------------------------------------ meta
    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as con:
            con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def meta(self) -> dict[str, str]:
        return dict(self._read("SELECT key, value FROM meta").fetchall())

    # ------------------------------------------------------------------ reads
    def _read(self, sql: str, params: Sequence[Any] = ()) -> duckdb.DuckDBPyConnection:
        """Run a read; a file that cannot be read (damaged) becomes WorkspaceDamagedError."""
        try:
            return self.con.execute(sql, list(params))
        except duckdb.IOException as exc:
            raise workspace_fault(exc, Path(str(self.db)), writing=False) from None

    def _df(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        try:
            return self._read(sql, params).df()
        except duckdb.IOException as exc:
            raise workspace_fault(exc, Path(str(self.db)), writing=False) from None

    def units(
        self,
        level: str | None = None,
        membership: str | Sequence[str] | None = None,
        metro: str | None = None,
        parent: str | None = None,
    ) -> pd.DataFrame:
        """Units as a frame ordered by code; filter by level, membership, metro area or parent."""
        df = self._df("SELECT * FROM units ORDER BY code")
        if level is not None:
            df = df[df["level"] == level]
        if membership is not None:
            wanted = [membership] if isinstance(membership, str) else list(membership)
            df = df[df["membership"].isin(wanted)]
        if metro is not None:
            df = df[df["metro"] == metro]
        if parent is not None:
            df = df[df["parent"] == self.resolve(parent)]
        return df.reset_index(drop=True)

    def unit_index(self) -> UnitIndex:
        if self._index is None:
            self._index = UnitIndex(self._df("SELECT * FROM units"))
        return self._index

    def resolve(self, name: object, level: str | None = None) -> str:
        """The code of the unit that ``name`` names (成都, 成都市, Chengdu, 510100 …)."""
        return self.unit_index().resolve(name, level)

    def catalog(self) -> pd.DataFrame:
        """The indicator catalog, ordered by id."""
        return self._df("SELECT * FROM indicators ORDER BY id").set_index("id", drop=False)

    def observations(
        self,
        indicators: Sequence[str] | None = None,
        years: Sequence[int] | None = None,
        level: str | None = None,
        units: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Observations in long form with provenance columns."""
        sql = "SELECT o.* FROM observations o JOIN units u ON u.code = o.unit WHERE TRUE"
        params: list[Any] = []
        if indicators is not None:
            sql += " AND o.indicator IN (SELECT unnest(?))"
            params.append(list(indicators))
        if years is not None:
            sql += " AND o.year IN (SELECT unnest(?))"
            params.append([int(y) for y in years])
        if level is not None:
            sql += " AND u.level = ?"
            params.append(level)
        if units is not None:
            sql += " AND o.unit IN (SELECT unnest(?))"
            params.append([self.resolve(u) for u in units])
        return self._df(sql + " ORDER BY o.unit, o.year, o.indicator", params)

    def panel(
        self,
        indicators: Sequence[str] | None = None,
        years: Sequence[int] | None = None,
        level: str | None = None,
        units: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Wide panel: index (unit, year), one float column per indicator."""
        obs = self.observations(indicators, years, level, units)
        wide = obs.pivot(index=["unit", "year"], columns="indicator", values="value")
        wide.columns.name = None
        if indicators is not None:
            wide = wide.reindex(columns=list(indicators))
        return wide.astype(float)

    def geodata(self, level: str | None = None, *, datum: str | None = None
                ) -> gpd.GeoDataFrame:
        """Units with their boundaries, in the workspace's datum or converted to ``datum``.

        The CRS says what the coordinates are: EPSG:4326 for WGS-84, EPSG:4490 for CGCS2000,
        :data:`cocity.data.geodesy.GCJ02_CRS` (a lon/lat CRS named GCJ-02, no EPSG code) for
        GCJ-02 — never EPSG:4326 for offset coordinates — and none for BD-09.
        ``attrs["datum"]`` names the datum. ``datum="WGS-84"`` converts GCJ-02 boundaries and
        representative points with :func:`cocity.data.geodesy.gcj02_to_wgs84`.
        """
        stored = self.meta().get("datum", "WGS-84")
        target = stored if datum is None else normalize_datum(datum)
        if target is None or (target != stored and "BD-09" in (stored, target)):
            raise WorkspaceError(t("store.datum_conversion", source=stored, target=datum))
        units = self.units(level=level)
        geo = self._df("SELECT code, wkb FROM geometries")
        merged = units.merge(geo, on="code", how="left")
        geom = np.array([shapely.from_wkb(bytes(b)) if isinstance(b, (bytes, bytearray))
                         else None for b in merged.pop("wkb")], dtype=object)
        if target != stored:
            geom = shapely.transform(geom, lambda c: convert_coords(c, stored, target))
            points = merged[["lon", "lat"]].to_numpy(dtype=float, copy=True)
            ok = np.isfinite(points).all(axis=1)
            points[ok] = convert_coords(points[ok], stored, target)
            merged[["lon", "lat"]] = points
        gdf = gpd.GeoDataFrame(merged, geometry=list(geom), crs=DATUM_CRS.get(target))
        gdf.attrs["datum"] = target
        return gdf

    def coverage(self) -> pd.DataFrame:
        """Observation counts by indicator, year and level."""
        return self._df(
            "SELECT o.indicator, o.year, u.level, count(*) AS n, count(o.value) AS non_missing "
            "FROM observations o JOIN units u ON u.code = o.unit "
            "GROUP BY ALL ORDER BY ALL"
        )

    def import_log(self) -> pd.DataFrame:
        """Every write that changed the workspace after its dataset was loaded: ``file`` (the
        file imported, or ``<api>`` for a frame written from Python), ``sha256``, ``kind``
        (observations, boundaries, …), ``rows``, ``added``, ``changed`` (stored values
        replaced), ``imported_at`` (UTC), and for observations the ``indicators`` and
        ``years`` written."""
        return self._df("SELECT * FROM imports ORDER BY imported_at")

    # ------------------------------------------------------------------ writes
    def row_changes(self, table: str, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Boolean masks over the rows of ``frame`` (units or indicators, keyed by their first
        column): keys not stored yet, and stored rows that differ in any column."""
        key = frame.columns[0]
        stored = self._df(f"SELECT * FROM {table}").set_index(key)
        keys = frame[key].astype(str)
        is_new = ~keys.isin(stored.index).to_numpy()
        differs = np.zeros(len(frame), dtype=bool)
        for i in np.flatnonzero(~is_new):
            old = stored.loc[keys.iloc[i]]
            row = frame.iloc[i]
            differs[i] = any(not _same(row[c], old[c]) for c in frame.columns[1:])
        return is_new, differs

    def add_units(self, units: pd.DataFrame, *, source: str = "<frame>",
                  file: str | None = None, sha256: str | None = None) -> int:
        """Insert or update units (by code). Parents must exist in the store or in the frame.
        With ``file``, the write is logged in :meth:`import_log` (kind ``units``) in the same
        transaction when it changes anything."""
        df = units.reindex(columns=list(UNIT_COLUMNS)).copy()
        df["code"] = df["code"].astype(str)
        issues = _check_units(df, set(self.units()["code"]), source)
        if issues:
            raise ValidationError(issues)
        df = df.astype(object).where(df.notna(), None)
        self._upsert("units", df, "units", file, sha256)
        return len(df)

    def add_indicators(self, catalog: pd.DataFrame, *, source: str = "<frame>",
                       file: str | None = None, sha256: str | None = None) -> int:
        """Insert or update catalog entries (by id); logged like :meth:`add_units` (kind
        ``catalog``) when ``file`` is given."""
        df = catalog.reindex(columns=list(INDICATOR_COLUMNS)).copy()
        issues = _check_catalog(df, source)
        if issues:
            raise ValidationError(issues)
        df["direction"] = df["direction"].astype(int)
        df = df.astype(object).where(df.notna(), None)
        self._upsert("indicators", df, "catalog", file, sha256)
        return len(df)

    def _upsert(self, table: str, df: pd.DataFrame, kind: str, file: str | None,
                sha256: str | None) -> None:
        """INSERT OR REPLACE ``df`` into ``table`` in one transaction, logged when ``file``."""
        added = changed = 0
        if file is not None:
            is_new, differs = self.row_changes(table, df)
            added, changed = int(is_new.sum()), int(differs.sum())
        with self._registered(incoming=df), self.transaction() as con:
            con.execute(f"INSERT OR REPLACE INTO {table} SELECT * FROM incoming")
            if file is not None and (added or changed):
                con.execute(
                    "INSERT INTO imports (file, sha256, kind, rows, added, changed) "
                    "VALUES (?, ?, ?, ?, ?, ?)", [file, sha256, kind, len(df), added, changed])

    def stored_wkb(self) -> dict[str, bytes]:
        """The stored boundaries as WKB, by unit code."""
        rows = self._read("SELECT code, wkb FROM geometries").fetchall()
        return {str(code): bytes(wkb) for code, wkb in rows}

    def geometry_changes(self, codes: Sequence[str], wkb: Sequence[bytes]) -> tuple[
            np.ndarray, np.ndarray]:
        """Boolean masks over the incoming boundaries: new codes, and stored ones that differ."""
        stored = self.stored_wkb()
        is_new = np.array([c not in stored for c in codes], dtype=bool)
        differs = np.array([c in stored and stored[c] != w
                            for c, w in zip(codes, wkb, strict=True)], dtype=bool)
        return is_new, differs

    def add_geometries(
        self,
        geoms: gpd.GeoDataFrame | pd.DataFrame,
        *,
        datum: str | None = None,
        file: str | None = None,
        sha256: str | None = None,
    ) -> tuple[int, int]:
        """Upsert boundaries by unit code (column ``code``, 2-D geometry in lon/lat).

        Identical boundaries are skipped; returns (added, changed). With ``file``, the import is
        logged in the same transaction when it changed anything.
        """
        codes = [str(c) for c in geoms["code"]]
        unknown = sorted(set(codes) - set(self.units()["code"]))
        if unknown:
            raise ValidationError([Issue(t("check.geometry_unknown_unit", code=c),
                                         hint=t("check.geometry_unknown_unit.hint"))
                                   for c in unknown[:20]])
        wkb = list(shapely.to_wkb(np.asarray(geoms.geometry)))
        is_new, differs = self.geometry_changes(codes, wkb)
        keep = is_new | differs
        df = pd.DataFrame({"code": np.asarray(codes, dtype=object)[keep],
                           "wkb": np.asarray(wkb, dtype=object)[keep]})
        added, changed = int(is_new.sum()), int(differs.sum())
        with self._registered(incoming=df), self.transaction() as con:
            con.execute("INSERT OR REPLACE INTO geometries SELECT * FROM incoming")
            if datum:
                con.execute("INSERT OR REPLACE INTO meta VALUES ('datum', ?)", [datum])
            if file is not None and (added or changed):
                con.execute(
                    "INSERT INTO imports (file, sha256, kind, rows, added, changed) "
                    "VALUES (?, ?, 'boundaries', ?, ?, ?)",
                    [file, sha256, len(codes), added, changed])
        return added, changed

    def add_observations(
        self,
        obs: pd.DataFrame,
        *,
        replace: bool = False,
        file: str | None = None,
        sha256: str | None = None,
        kind: str = "observations",
        notes: Sequence[str] = (),
    ) -> tuple[int, int]:
        """Upsert resolved observations (codes, catalog ids). Returns (added, changed).

        Identical rows are no-ops, so re-importing a file changes nothing (not even the import
        log). A row whose value differs from the stored one is a conflict unless ``replace``.
        Every write that changes something is logged in :meth:`import_log` (``file`` or
        ``<api>``, the indicators and years written, ``notes`` such as the unit conversions
        applied), except ``kind="dataset"`` — the loading of an embedded dataset, whose
        provenance is the dataset's own.
        """
        df = obs.reindex(columns=list(OBSERVATION_COLUMNS)).copy()
        keys = ["unit", "year", "indicator"]
        repeated = df[df.duplicated(keys, keep=False)]
        if len(repeated):
            raise ValidationError([
                Issue(t("error.repeated_key", unit=r.unit, year=r.year, indicator=r.indicator),
                      file=file, hint=t("import.duplicate_hint"))
                for r in repeated.drop_duplicates(keys).head(20).itertuples()])
        df["imputed"] = df["imputed"].fillna(False).astype(bool)
        df["simulated"] = df["simulated"].fillna(False).astype(bool)
        df["year"] = df["year"].astype(int)
        df["value"] = df["value"].astype(float)
        if df["source"].isna().any():
            df["source"] = df["source"].astype(object).where(df["source"].notna(), None)
        with self._registered(incoming=df[["unit", "year", "indicator"]]):
            old = self._df(
                "SELECT o.unit, o.year, o.indicator, o.value AS old_value FROM observations o "
                "JOIN incoming USING (unit, year, indicator)"
            )
        if old.empty:  # nothing stored under these keys: everything is new
            merged = df.assign(old_value=np.nan)
            existing = pd.Series(False, index=df.index)
        else:
            merged = df.merge(old, on=["unit", "year", "indicator"], how="left",
                              indicator=True)
            existing = merged["_merge"] == "both"
        differs = existing & ~np.isclose(
            merged["value"].to_numpy(float), merged["old_value"].to_numpy(float),
            rtol=1e-12, atol=0.0, equal_nan=True)
        if differs.any() and not replace:
            rows = merged[differs].head(20)
            raise ValidationError([
                Issue(t("error.value_conflict", unit=r.unit, year=r.year, indicator=r.indicator,
                        old=format_value(r.old_value), new=format_value(r.value)), file=file,
                      hint=t("error.value_conflict.hint"))
                for r in rows.itertuples()])
        new = df[~existing.to_numpy() | differs.to_numpy()]
        with self._registered(incoming=new), self.transaction() as con:
            if differs.any():
                con.execute("DELETE FROM observations o USING incoming i WHERE o.unit = i.unit "
                            "AND o.year = i.year AND o.indicator = i.indicator")
            con.execute("INSERT INTO observations SELECT * FROM incoming")
            if kind != "dataset" and len(new):
                con.execute(
                    "INSERT INTO imports (file, sha256, kind, rows, added, changed, indicators,"
                    " years, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [file or "<api>", sha256, kind, len(df), int((~existing).sum()),
                     int(differs.sum()), sorted(map(str, new["indicator"].unique())),
                     sorted(map(int, new["year"].unique())), list(notes) or None])
        return int((~existing).sum()), int(differs.sum())


def _check_units(df: pd.DataFrame, known: set[str], source: str) -> list[Issue]:
    issues: list[Issue] = []
    codes = set(df["code"]) | known
    for i, r in enumerate(df.to_dict("records"), start=2):
        code = r["code"]
        if not (isinstance(code, str) and len(code) == 6 and code.isdigit()):
            issues.append(Issue(t("check.bad_code", code=code), source, i, "code"))
        for col, allowed in (("level", LEVELS), ("membership", MEMBERSHIPS),
                             ("tier", TIERS), ("kind", KINDS)):
            v = _none_if_missing(r[col])
            if (v is not None or col == "level") and v not in allowed:
                issues.append(Issue(t("check.not_allowed", column=col, value=v,
                                      allowed=", ".join(allowed)), source, i, col))
        metro = _none_if_missing(r["metro"])
        if metro is not None and not (isinstance(metro, str) and METRO_ID.match(metro)):
            issues.append(Issue(t("check.metro", value=metro), source, i, "metro"))
        for col, (low, high) in (("lon", LON_RANGE), ("lat", LAT_RANGE)):
            v = _none_if_missing(r[col])
            if v is not None and not (isinstance(v, int | float) and low <= float(v) <= high):
                issues.append(Issue(t("check.coordinate", column=col, value=v, low=low,
                                      high=high), source, i, col))
        for col in ("name_zh", "name_en"):
            if not isinstance(_none_if_missing(r[col]), str):
                issues.append(Issue(t("check.missing", column=col), source, i, col))
        p = _none_if_missing(r["parent"])
        if p is not None and str(p) not in codes:
            issues.append(Issue(t("check.unknown_parent", parent=p), source, i, "parent",
                                t("check.unknown_parent.hint")))
    dup = df["code"][df["code"].duplicated()]
    issues += [Issue(t("check.duplicate", column="code", value=c), source, column="code")
               for c in dup]
    return issues


def _check_catalog(df: pd.DataFrame, source: str) -> list[Issue]:
    issues: list[Issue] = []
    for i, r in enumerate(df.to_dict("records"), start=2):
        if not isinstance(_none_if_missing(r["id"]), str) or not r["id"]:
            issues.append(Issue(t("check.missing", column="id"), source, i, "id"))
        for col in ("name_zh", "name_en"):
            if not isinstance(_none_if_missing(r[col]), str):
                issues.append(Issue(t("check.missing", column=col), source, i, col))
        try:
            ok = int(r["direction"]) in DIRECTIONS
        except (TypeError, ValueError):
            ok = False
        if not ok:
            issues.append(Issue(t("check.not_allowed", column="direction", value=r["direction"],
                                  allowed="1, -1, 0"), source, i, "direction"))
        if r["value_kind"] not in VALUE_KINDS:
            issues.append(Issue(t("check.not_allowed", column="value_kind", value=r["value_kind"],
                                  allowed=", ".join(VALUE_KINDS)), source, i, "value_kind"))
    dup = df["id"][df["id"].duplicated()]
    issues += [Issue(t("check.duplicate", column="id", value=c), source, column="id")
               for c in dup]
    return issues

