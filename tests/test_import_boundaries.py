"""Boundary import: GeoJSON, GeoPackage and Shapefile, reprojection, datum, validation."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from cocity.data.errors import Issue, ValidationError
from cocity.data.import_boundaries import import_boundaries, normalize_datum
from cocity.data.store import Store
from tests.test_importers import assert_unchanged, make_store, snapshot

pytestmark = pytest.mark.usefixtures("english")

BOXES = {  # code → (lon, lat) of a 0.2° square
    "511002": (105.06, 29.58), "511011": (105.07, 29.59), "511102": (103.76, 29.55),
    "511111": (103.55, 29.41),
}


def frame(ids: list[object], column: str = "code", crs: str | None = "EPSG:4326",
          shift: float = 0.0) -> gpd.GeoDataFrame:
    """Squares around the test units, identified by ``ids`` in ``column``."""
    geoms = [shapely.box(x - 0.1 + shift, y - 0.1, x + 0.1 + shift, y + 0.1)
             for x, y in BOXES.values()][:len(ids)]
    return gpd.GeoDataFrame({column: ids}, geometry=geoms, crs=crs)


def rejected(store: Store, path: Path, **options: object) -> list[Issue]:
    """Import expecting a ValidationError; the store must not change."""
    before = snapshot(store)
    with pytest.raises(ValidationError, match=r"problem\(s\) found|个问题") as err:
        import_boundaries(store, path, **options)  # type: ignore[arg-type]
    assert_unchanged(store, before)
    return err.value.issues


@pytest.fixture
def store() -> Store:
    return make_store()


def geometry_of(store: Store, code: str) -> shapely.Geometry:
    gdf = store.geodata().set_index("code")
    return gdf.geometry[code]


def test_geojson_by_code_then_reimport_is_noop(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "b.geojson"
    frame([511002, 511011, 511102, 511111], shift=0.5).to_file(path, driver="GeoJSON")
    # Stored boundaries that differ are overwritten only with replace (--replace).
    issues = rejected(store, path, datum="wgs84")
    assert [(i.row, i.column) for i in issues] == [(1, "code"), (2, "code"), (3, "code"),
                                                   (4, "code")]
    assert "the boundary of 乐山市沙湾区 (511111) differs from the stored one" in issues[3].message
    assert "--replace" in (issues[3].hint or "")
    result = import_boundaries(store, path, datum="wgs84", replace=True)
    assert (result.kind, result.rows_read, result.added, result.changed) == (
        "boundaries", 4, 0, 4)
    assert shapely.equals_exact(geometry_of(store, "511111"),
                                shapely.box(103.95, 29.31, 104.15, 29.51), tolerance=1e-9)
    assert store.meta()["datum"] == "WGS-84"
    log = store.import_log()
    assert log["kind"].iloc[-1] == "boundaries" and log["changed"].iloc[-1] == 4
    before = snapshot(store)
    again = import_boundaries(store, path)
    assert (again.added, again.changed, again.unchanged) == (0, 0, 4)
    assert before.geo == snapshot(store).geo


def test_geopackage_in_utm_is_reprojected_and_matched_by_name(tmp_path: Path) -> None:
    store = make_store()  # 成都市 has no boundary yet
    lonlat = gpd.GeoDataFrame({"名称": ["成都市", "Leshan Shizhong"]},
                              geometry=[shapely.box(103.9, 30.5, 104.2, 30.7),
                                        shapely.box(103.66, 29.45, 103.86, 29.65)],
                              crs="EPSG:4326")
    path = tmp_path / "b.gpkg"
    lonlat.to_crs("EPSG:32648").to_file(path, driver="GPKG", layer="县区")
    result = import_boundaries(store, path, replace=True)
    assert (result.added, result.changed) == (1, 1)
    assert any("EPSG:32648" in n for n in result.notes)
    got = geometry_of(store, "510100")
    assert got.bounds == pytest.approx((103.9, 30.5, 104.2, 30.7), abs=1e-6)


def test_shapefile_with_explicit_code_column(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "b.shp"
    frame(["511002", "511011"], column="ADCODE", shift=1.0).to_file(path)
    result = import_boundaries(store, path, code_column="adcode", replace=True)
    assert result.changed == 2


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_no_crs_is_taken_as_degrees_only_when_plausible(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "degrees.gpkg"
    frame(["511002"], crs=None, shift=0.3).to_file(path, driver="GPKG")
    result = import_boundaries(store, path, replace=True)
    assert result.changed == 1 and any("no CRS" in n for n in result.notes)
    projected = tmp_path / "metres.gpkg"
    frame(["511002"], crs="EPSG:4326").to_crs("EPSG:3857").set_crs(
        None, allow_override=True).to_file(projected, driver="GPKG")
    issues = rejected(store, projected)
    assert "no coordinate reference system" in issues[0].message
    assert "look like metres" in issues[0].message and ".prj" in (issues[0].hint or "")


@pytest.mark.parametrize(("ids", "column", "expect_row", "expect"), [
    (["Atlantis"], "name", 1, "unknown unit 'Atlantis'"),
    (["511002", "市中区"], "name", 2, "ambiguous"),
    (["511002", "内江市市中区"], "name", 2, "already is feature 1"),
])
def test_bad_features_name_the_feature_and_column(store: Store, tmp_path: Path, ids: list[str],
                                                  column: str, expect_row: int,
                                                  expect: str) -> None:
    path = tmp_path / "bad.geojson"
    frame(ids, column=column).to_file(path, driver="GeoJSON")
    issues = rejected(store, path)
    hits = [i for i in issues if i.row == expect_row and i.column == column]
    assert len(hits) == 1 and expect in hits[0].message and hits[0].file == str(path)


def test_bad_geometries(store: Store, tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"code": ["511002", "511011", "511102"]},
                           geometry=[None, shapely.Point(105, 29), shapely.box(0, 0, 1, 1)],
                           crs="EPSG:4326")
    path = tmp_path / "geoms.gpkg"
    gdf.to_file(path, driver="GPKG")
    issues = rejected(store, path)
    assert [(i.row, i.column) for i in issues] == [(1, "geometry"), (2, "geometry")]
    assert "empty" in issues[0].message and "Point" in issues[1].message


def test_columns_layers_datum_and_files(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "b.gpkg"
    frame(["511002"], column="label").to_file(path, driver="GPKG", layer="a")
    assert "no code or name column" in rejected(store, path)[0].message
    assert "columns found: label" in rejected(store, path, code_column="adcode")[0].message
    assert "not both" in rejected(store, path, code_column="label", name_column="x")[0].message
    frame(["511002"], column="label").to_file(path, driver="GPKG", layer="b")
    assert "several layers: a, b" in rejected(store, path, name_column="label")[0].message
    assert "no layer named c" in rejected(store, path, name_column="label",
                                          layer="c")[0].message
    assert import_boundaries(store, path, name_column="label", layer="b").unchanged == 1
    issue = rejected(store, path, name_column="label", layer="b", datum="NAD27")[0]
    assert issue.column == "--datum" and "GCJ-02" in issue.message
    text = tmp_path / "t.geojson"
    text.write_text("this is not json", encoding="utf-8")
    assert "cannot read this spatial file" in rejected(store, text)[0].message
    (tmp_path / "b.kml").write_text("<kml/>", encoding="utf-8")
    assert "unsupported file type .kml" in rejected(store, tmp_path / "b.kml")[0].message
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    assert "no features" in rejected(store, empty)[0].message


def test_datum_clash_with_stored_boundaries(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "gcj.geojson"
    frame(["511002"]).to_file(path, driver="GeoJSON")
    issue = rejected(store, path, datum="GCJ-02")[0]
    assert "WGS-84" in issue.message and "6 other units" in issue.message
    every = tmp_path / "all.geojson"
    codes = ["510000", "511000", "511100", "511002", "511011", "511102", "511111"]
    gpd.GeoDataFrame({"code": codes}, geometry=[shapely.box(i, 0, i + 1, 1) for i in range(7)],
                     crs="EPSG:4326").to_file(every, driver="GeoJSON")
    result = import_boundaries(store, every, datum="gcj02", replace=True)
    assert result.changed == 7 and store.meta()["datum"] == "GCJ-02"
    assert store.geodata().attrs["datum"] == "GCJ-02"


def test_normalize_datum() -> None:
    assert normalize_datum("wgs 84") == "WGS-84"
    assert normalize_datum("Gcj-02") == "GCJ-02"
    assert normalize_datum("bd09") == "BD-09"
    assert normalize_datum("ED50") is None


def bowtie(x: float, y: float) -> shapely.Polygon:
    """A self-intersecting "bow-tie" ring around (x, y)."""
    return shapely.Polygon([(x - 0.1, y - 0.1), (x + 0.1, y + 0.1), (x + 0.1, y - 0.1),
                            (x - 0.1, y + 0.1)])


def test_self_intersections_are_refused_or_repaired_on_request(tmp_path: Path) -> None:
    store = make_store()
    path = tmp_path / "bow.geojson"
    gpd.GeoDataFrame({"code": ["510100"]}, geometry=[bowtie(104.07, 30.57)],
                     crs="EPSG:4326").to_file(path, driver="GeoJSON")
    issue = rejected(store, path)[0]
    assert (issue.row, issue.column) == (1, "geometry")
    assert issue.message.startswith("invalid geometry: Self-intersection[104.07 30.57]")
    assert "--make-valid" in (issue.hint or "") and "Fix geometries" in (issue.hint or "")
    result = import_boundaries(store, path, make_valid=True)
    assert result.added == 1
    assert any(n.startswith("feature 1 (510100) repaired with make_valid: Self-intersection")
               for n in result.notes)
    stored = geometry_of(store, "510100")
    assert stored.is_valid and stored.geom_type == "MultiPolygon"
    assert stored.area == pytest.approx(0.02)  # the two triangles of the bow-tie


def test_swapped_and_out_of_range_coordinates_are_refused(store: Store, tmp_path: Path) -> None:
    x, y = BOXES["511002"]
    swapped = tmp_path / "swapped.geojson"
    gpd.GeoDataFrame({"code": ["511002"]}, geometry=[shapely.box(y - 0.1, x - 0.1, y + 0.1,
                                                                 x + 0.1)],
                     crs="EPSG:4326").to_file(swapped, driver="GeoJSON")
    issue = rejected(store, swapped)[0]
    assert (issue.row, issue.column) == (1, "geometry")
    assert "longitude and latitude seem swapped" in issue.message
    assert "(longitude, latitude)" in (issue.hint or "")
    # Swapped but still within ±90° (western China): told apart by the unit's point.
    store.add_units(pd.DataFrame([{"code": "653101", "name_zh": "喀什市", "name_en": "Kashi",
                                   "level": "county", "lon": 75.99, "lat": 39.47}]))
    near = tmp_path / "near.geojson"
    gpd.GeoDataFrame({"code": ["653101"]}, geometry=[shapely.box(39.37, 75.89, 39.57, 76.09)],
                     crs="EPSG:4326").to_file(near, driver="GeoJSON")
    assert "seem swapped" in rejected(store, near)[0].message
    right = tmp_path / "right.geojson"
    gpd.GeoDataFrame({"code": ["653101"]}, geometry=[shapely.box(75.89, 39.37, 76.09, 39.57)],
                     crs="EPSG:4326").to_file(right, driver="GeoJSON")
    assert import_boundaries(store, right).added == 1
    far = tmp_path / "far.geojson"
    gpd.GeoDataFrame({"code": ["511002", "511011"]},
                     geometry=[shapely.box(100, 95, 101, 96), shapely.box(200, 29, 201, 30)],
                     crs="EPSG:4326").to_file(far, driver="GeoJSON")
    issues = rejected(store, far)
    assert [i.row for i in issues] == [1, 2]
    assert all("outside longitude/latitude degrees" in i.message for i in issues)
