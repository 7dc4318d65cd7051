"""Import unit boundaries from GeoJSON, GeoPackage or Shapefile (read with pyogrio).

Features are matched to units by a code column or a name column (resolved with the store's
:class:`~cocity.data.units.UnitIndex`; by default the first column named like ``code`` /
``adcode`` / ``区划代码``, else like ``name`` / ``名称``). Geometries must be polygons; they are
reprojected to EPSG:4326 when the file has another CRS and made 2-D. A file without a CRS is
taken as EPSG:4326 only if its coordinates are plausible degrees; coordinates in metres
(a projected file that lost its ``.prj``) are refused. ``datum`` records whether the lon/lat are
WGS-84, GCJ-02 (the datum of most Chinese web maps), BD-09 or CGCS2000; a workspace keeps one
datum, so importing boundaries of another datum than the stored ones is refused unless the file
replaces them all. Issue rows are feature numbers (1-based, in file order).

Every feature is checked, and every problem is reported at once:

* coordinates outside −180…180 / −90…90 after reprojection are refused; when swapping the two
  axes would make them valid, or when the unit's representative point (``lon``/``lat`` of the
  workspace) lies near the swapped feature and far from the feature as given, the message says
  that latitude and longitude are swapped;
* invalid geometries (self-intersections, …; :func:`shapely.is_valid_reason` names where) are
  refused by default, with the remedy: repair them in QGIS ("Fix geometries"), or pass
  ``make_valid=True`` (``--make-valid``) to repair them with :func:`shapely.make_valid` — the
  result is noted feature by feature. Refusing is the default because a repair can change a
  boundary (a bow-tie becomes two triangles) and an official map must not change silently;
* a unit whose stored boundary differs from the file's is a conflict unless ``replace``
  (``--replace``), as for observations; identical boundaries are skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from cocity.data.errors import Issue, ValidationError
from cocity.data.geodesy import DATUMS, normalize_datum
from cocity.data.import_read import Progress, check_file, file_issue
from cocity.data.importers import ImportResult, units_covered
from cocity.data.store import Store
from cocity.data.units import normalize
from cocity.data.validate import CellError, UnitResolver
from cocity.i18n import t
from cocity.outputs import sha256_file

BOUNDARY_EXTENSIONS = (".geojson", ".json", ".gpkg", ".shp", ".zip")
CODE_ALIASES = ("code", "adcode", "gbcode", "unit_code", "区划代码", "行政区划代码", "代码", "pac")
NAME_ALIASES = ("name", "name_zh", "unit", "名称", "地名", "地区", "单元", "name_en")
_POLYGONAL = ("Polygon", "MultiPolygon")
_METRES = 1000.0  # coordinates this large are metres of a projected CRS, not degrees
_NEAR, _FAR = 0.5, 2.0  # degrees: a unit's point near the swapped feature, far from it as given
_READ_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, RuntimeError,
                OSError, ValueError)


def import_boundaries(
    store: Store,
    path: str | Path,
    *,
    code_column: str | None = None,
    name_column: str | None = None,
    layer: str | None = None,
    datum: str | None = None,
    replace: bool = False,
    make_valid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate boundaries and store them by unit code in one transaction (logged as an import).

    Give at most one of ``code_column`` / ``name_column`` (default: detected). A multi-layer
    GeoPackage needs ``layer``. ``replace`` allows overwriting stored boundaries that differ;
    ``make_valid`` repairs invalid geometries instead of refusing them. Raises
    :class:`ValidationError` listing every problem; nothing is written then. Re-importing the
    same file changes nothing.
    """
    path = Path(path)
    name = str(path)
    datum_value = _check_datum(name, datum)
    check_file(path, BOUNDARY_EXTENSIONS)
    if code_column is not None and name_column is not None:
        raise file_issue(name, "import.geo.both_columns", "import.geo.both_columns_hint")
    if progress:
        progress("read", 0, 1)
    gdf = _read(path, layer)
    if progress:
        progress("read", 1, 1)
    notes: list[str] = []
    gdf = _to_4326(gdf, name, notes)
    column = _choose_column(gdf, name, code_column, name_column)
    codes, issues = _match(gdf, name, column, UnitResolver(store.unit_index()), progress)
    geometry = shapely.force_2d(np.asarray(gdf.geometry))
    issues += _coordinates(store, geometry, codes, name)
    geometry, repaired = _validity(geometry, codes, name, make_valid, issues)
    notes += repaired
    if datum_value is not None:
        issues += _datum_clash(store, name, datum_value, set(codes.dropna()))
    is_new = differs = np.zeros(len(geometry), dtype=bool)
    if not issues:
        is_new, differs = store.geometry_changes([str(c) for c in codes],
                                                 list(shapely.to_wkb(geometry)))
        if differs.any() and not replace:
            index = store.unit_index()
            issues += [Issue(t("import.geo.conflict", unit=index.qualified_name(str(codes[i])),
                               code=codes[i]), name, int(i) + 1, column,
                             t("import.geo.conflict_hint"))
                       for i in np.flatnonzero(differs)]
    if issues:
        raise ValidationError(sorted(dict.fromkeys(issues), key=lambda i: i.row or 0))
    incoming = gpd.GeoDataFrame({"code": codes.astype(str).to_numpy()}, geometry=geometry)
    added, changed = int(is_new.sum()), int(differs.sum())
    digest = sha256_file(path)
    if datum_value is not None:
        notes.append(t("import.geo.note_datum", datum=datum_value))
    if not dry_run:
        if progress:
            progress("write", 0, 1)
        store.add_geometries(incoming, datum=datum_value, file=name, sha256=digest)
        if progress:
            progress("write", 1, 1)
    return ImportResult(
        file=name, kind="boundaries", form=None, rows_read=len(gdf), records=len(incoming),
        added=added, changed=changed, unchanged=len(incoming) - added - changed,
        ignored_columns=(), sha256=digest, dry_run=dry_run, notes=tuple(notes),
        units=units_covered(store, incoming["code"]))


def _check_datum(name: str, datum: str | None) -> str | None:
    """The canonical datum name, or raise for an unknown one."""
    if datum is None:
        return None
    value = normalize_datum(datum)
    if value is None:
        raise ValidationError([Issue(t("import.geo.datum_unknown", value=datum,
                                       datums=", ".join(DATUMS)), name, column="--datum",
                                     hint=t("import.geo.datum_hint"))])
    return value


def _read(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    """Read one layer with pyogrio; unreadable files and ambiguous layers become issues."""
    name = str(path)
    try:
        layers = [str(x) for x in pyogrio.list_layers(path)[:, 0]]
        if layer is None and len(layers) > 1:
            raise file_issue(name, "import.geo.layers", "import.geo.layers_hint",
                             layers=", ".join(layers))
        if layer is not None and layer not in layers:
            raise file_issue(name, "import.geo.no_layer", "import.geo.layers_hint",
                             layer=layer, layers=", ".join(layers))
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except _READ_ERRORS as exc:
        raise file_issue(name, "import.geo.unreadable", "import.geo.unreadable_hint",
                         error=str(exc).strip()) from exc
    if len(gdf) == 0:
        raise file_issue(name, "import.geo.no_features", "import.geo.unreadable_hint")
    return gdf


def _to_4326(gdf: gpd.GeoDataFrame, name: str, notes: list[str]) -> gpd.GeoDataFrame:
    """Reproject to EPSG:4326; a file without CRS must already be in plausible degrees (its
    coordinates are then checked feature by feature with the others)."""
    if gdf.crs is None:
        bounds = gdf.total_bounds
        if np.isfinite(bounds).all() and np.abs(bounds).max() > _METRES:
            raise file_issue(name, "import.geo.no_crs", "import.geo.no_crs_hint",
                             bounds=", ".join(f"{b:,.0f}" for b in bounds))
        notes.append(t("import.geo.note_assumed"))
        return gdf.set_crs("EPSG:4326", allow_override=True)
    if gdf.crs.equals("EPSG:4326", ignore_axis_order=True):
        return gdf
    source = gdf.crs.to_string()
    try:
        out = gdf.to_crs("EPSG:4326")
    except Exception as exc:  # pyproj raises several types for impossible transformations
        raise file_issue(name, "import.geo.reproject", "import.geo.no_crs_hint",
                         crs=source, error=str(exc)) from exc
    notes.append(t("import.geo.note_reprojected", crs=source))
    return out


def _choose_column(gdf: gpd.GeoDataFrame, name: str, code_column: str | None,
                   name_column: str | None) -> str:
    """The attribute column that identifies units (given or detected)."""
    columns = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    wanted = code_column if code_column is not None else name_column
    if wanted is not None:
        exact = [c for c in columns if c == wanted]
        loose = [c for c in columns if normalize(c) == normalize(wanted)]
        if exact or len(loose) == 1:
            return (exact or loose)[0]
        raise ValidationError([Issue(
            t("import.geo.no_column", column=wanted, found=", ".join(columns) or "—"),
            name, column=wanted, hint=t("import.geo.column_hint"))])
    for aliases in (CODE_ALIASES, NAME_ALIASES):
        keys = {normalize(a) for a in aliases}
        for c in columns:
            if normalize(c) in keys:
                return c
    raise ValidationError([Issue(t("import.geo.no_id_column", found=", ".join(columns) or "—"),
                                 name, hint=t("import.geo.column_hint"))])


def _plain(value: Any) -> Any:
    """numpy scalars → Python values; NaN/NA → None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _match(gdf: gpd.GeoDataFrame, name: str, column: str, units: UnitResolver,
           progress: Progress | None) -> tuple[pd.Series, list[Issue]]:
    """Resolve each feature to a unit code and check its geometry; collect issues."""
    issues: list[Issue] = []
    codes: list[str | None] = []
    seen: dict[str, int] = {}
    geoms = np.asarray(gdf.geometry)
    total = len(gdf)
    for i, (cell, geom) in enumerate(zip(gdf[column], geoms, strict=True)):
        row = i + 1
        if progress and i % 500 == 0:
            progress("validate", i, total)
        if geom is None or shapely.is_empty(geom):
            issues.append(Issue(t("import.geo.empty"), name, row, "geometry",
                                t("import.geo.empty_hint")))
        elif geom.geom_type not in _POLYGONAL:
            issues.append(Issue(t("import.geo.not_polygon", kind=geom.geom_type), name, row,
                                "geometry", t("import.geo.empty_hint")))
        try:
            code: str | None = units.resolve(_plain(cell))
        except CellError as e:
            issues.append(Issue(e.message, name, row, column, e.hint))
            code = None
        if code is not None:
            if code in seen:
                issues.append(Issue(
                    t("import.geo.duplicate", code=code, unit=units.index.qualified_name(code),
                      other=seen[code]), name, row, column, t("import.geo.duplicate_hint")))
            seen.setdefault(code, row)
        codes.append(code)
    if progress:
        progress("validate", total, total)
    return pd.Series(codes, dtype=object), issues


def _coordinates(store: Store, geometry: np.ndarray, codes: pd.Series, name: str
                 ) -> list[Issue]:
    """Issues for features with coordinates outside lon/lat degrees or with swapped axes."""
    issues: list[Issue] = []
    points = store.units().set_index("code")[["lon", "lat"]].astype(float)
    for i, geom in enumerate(geometry):
        if geom is None or shapely.is_empty(geom):
            continue
        x0, y0, x1, y1 = shapely.bounds(geom)
        inside = (np.isfinite([x0, y0, x1, y1]).all() and -180 <= x0 <= x1 <= 180
                  and -90 <= y0 <= y1 <= 90)
        swapped_inside = (np.isfinite([x0, y0, x1, y1]).all() and -180 <= y0 <= y1 <= 180
                          and -90 <= x0 <= x1 <= 90)
        code = codes.iloc[i]
        swapped = False
        if inside and code is not None and code in points.index:
            lon, lat = points.loc[code].to_numpy(dtype=float)
            if np.isfinite(lon) and np.isfinite(lat):
                c = shapely.centroid(geom)
                given = np.hypot(c.x - lon, c.y - lat)
                crossed = np.hypot(c.y - lon, c.x - lat)
                swapped = bool(crossed < _NEAR and given > _FAR)
        if not inside or swapped:
            key = "import.geo.swapped" if swapped or swapped_inside else "import.geo.out_of_range"
            issues.append(Issue(t(key, bounds=f"{x0:.6g}, {y0:.6g}, {x1:.6g}, {y1:.6g}"),
                                name, i + 1, "geometry", t(f"{key}_hint")))
    return issues


def _validity(geometry: np.ndarray, codes: pd.Series, name: str, repair: bool,
              issues: list[Issue]) -> tuple[np.ndarray, list[str]]:
    """Invalid polygons: issues (default) or, with ``repair``, the polygonal part of
    :func:`shapely.make_valid` and a note per repaired feature."""
    out = geometry.copy()
    notes: list[str] = []
    for i, geom in enumerate(geometry):
        if geom is None or shapely.is_empty(geom) or geom.geom_type not in _POLYGONAL:
            continue
        if shapely.is_valid(geom):
            continue
        reason = shapely.is_valid_reason(geom)
        if not repair:
            issues.append(Issue(t("import.geo.invalid", reason=reason), name, i + 1, "geometry",
                                t("import.geo.invalid_hint")))
            continue
        fixed = shapely.make_valid(geom)
        if fixed.geom_type == "GeometryCollection":
            parts = [g for g in shapely.get_parts(fixed) if g.geom_type in _POLYGONAL]
            fixed = shapely.union_all(parts) if parts else None
        if fixed is None or shapely.is_empty(fixed) or fixed.geom_type not in _POLYGONAL:
            issues.append(Issue(t("import.geo.unrepairable", reason=reason), name, i + 1,
                                "geometry", t("import.geo.empty_hint")))
            continue
        out[i] = fixed
        area = shapely.area(geom)
        notes.append(t("import.geo.note_repaired", row=i + 1, code=codes.iloc[i] or "?",
                       reason=reason, before=f"{area:.6g}", after=f"{shapely.area(fixed):.6g}"))
    return out, notes


def _datum_clash(store: Store, name: str, datum: str, codes: set[str]) -> list[Issue]:
    """An issue if other stored boundaries are in another datum than ``datum``."""
    current = store.meta().get("datum")
    if current is None or current == datum:
        return []
    others = set(store.stored_wkb()) - codes
    if not others:
        return []
    return [Issue(t("import.geo.datum_clash", datum=datum, current=current, n=len(others)),
                  name, column="--datum", hint=t("import.geo.datum_clash_hint", current=current))]
