"""GCJ-02, the lon/lat of Chinese web maps, and its conversion to and from WGS-84.

GCJ-02 ("Mars coordinates", 国测局坐标) is WGS-84 shifted by a published non-linear offset of a
few hundred metres, required for maps published in mainland China. It is no geodetic datum:
no EPSG code describes it and PROJ cannot convert it. cocity therefore

* labels GCJ-02 GeoDataFrames with :data:`GCJ02_CRS`, a geographic CRS on the WGS 84 ellipsoid
  whose *name* says GCJ-02 and NOT WGS 84 (``crs.to_epsg()`` is ``None``), instead of claiming
  EPSG:4326. Areas and lengths computed through ``to_crs`` stay close (the offset moves a
  county by a few hundred metres and changes the area of the chengyu counties by 0.08 %),
  but ``to_crs("EPSG:4326")`` does not remove the offset — PROJ knows no transformation, so
  it leaves the coordinates as they are;
  use :func:`gcj02_to_wgs84` (``Store.geodata(datum="WGS-84")``) for that.
* implements the offset (:func:`wgs84_to_gcj02`) and its inverse (:func:`gcj02_to_wgs84`).

The forward formula (the one published with the GCJ-02 leak and used by every open
implementation, e.g. ``eviltransform``): with x = lon − 105, y = lat − 35 in degrees,

    Δlat* = −100 + 2x + 3y + 0.2y² + 0.1xy + 0.2√|x|
            + ⅔(20 sin 6πx + 20 sin 2πx) + ⅔(20 sin πy + 40 sin(πy/3))
            + ⅔(160 sin(πy/12) + 320 sin(πy/30))
    Δlon* = 300 + x + 2y + 0.1x² + 0.1xy + 0.1√|x|
            + ⅔(20 sin 6πx + 20 sin 2πx) + ⅔(20 sin πx + 40 sin(πx/3))
            + ⅔(150 sin(πx/12) + 300 sin(πx/30))

in metres on the Krasovsky 1940 ellipsoid (a = 6 378 245 m, e² = 0.006 693 421 622 965 943),
turned into degrees at latitude φ with W = 1 − e² sin²φ:

    Δlat = Δlat* · 180 / (π · a(1 − e²) / W^{3/2}),   Δlon = Δlon* · 180 / (π · a / √W · cos φ)

and GCJ-02 = WGS-84 + (Δlon, Δlat). Points outside the rough rectangle of China the formula
is defined for (longitude 72.004–137.8347°, latitude 0.8293–55.8271°) are left unchanged, as
every implementation does.

The inverse has no closed form; :func:`gcj02_to_wgs84` solves ``wgs84_to_gcj02(w) = g`` by the
fixed-point iteration w ← w − (wgs84_to_gcj02(w) − g), which converges in a few steps because
the offset varies slowly (its derivative is about 10⁻⁵), to 1e-12° (about 0.1 µm).
"""

from __future__ import annotations

import numpy as np
import pyproj

_A = 6378245.0  # Krasovsky 1940 semi-major axis (m)
_EE = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared
_CHINA = (72.004, 137.8347, 0.8293, 55.8271)  # lon min, lon max, lat min, lat max
TOLERANCE = 1e-12  # degrees: the inverse iterates until every point moves less than this
MAX_ITERATIONS = 30

GCJ02_CRS = pyproj.CRS.from_wkt(
    'GEOGCRS["GCJ-02 (Chinese web-map lon/lat, offset from WGS 84; NOT WGS 84)",'
    'DATUM["GCJ-02 (WGS 84 shifted by the published non-linear offset)",'
    'ELLIPSOID["WGS 84",6378137,298.257223563,LENGTHUNIT["metre",1]]],'
    'PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],'
    'CS[ellipsoidal,2],'
    'AXIS["geodetic longitude (Lon)",east,ORDER[1],ANGLEUNIT["degree",0.0174532925199433]],'
    'AXIS["geodetic latitude (Lat)",north,ORDER[2],ANGLEUNIT["degree",0.0174532925199433]]]')
"""The CRS of GCJ-02 GeoDataFrames: geographic lon/lat, named GCJ-02, no EPSG code."""

DATUM_CRS: dict[str, pyproj.CRS] = {
    "WGS-84": pyproj.CRS.from_epsg(4326),
    "CGCS2000": pyproj.CRS.from_epsg(4490),
    "GCJ-02": GCJ02_CRS,
}


DATUMS = ("WGS-84", "GCJ-02", "BD-09", "CGCS2000")


def normalize_datum(datum: str) -> str | None:
    """``wgs84`` → ``WGS-84``, ``gcj-02`` → ``GCJ-02`` …; ``None`` if not a known datum."""
    def key(text: str) -> str:
        return "".join(ch for ch in text.casefold() if ch.isalnum())

    by_key = {key(d): d for d in DATUMS}
    return by_key.get(key(datum))


def inside_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Where the offset applies (the rectangle every GCJ-02 implementation uses)."""
    lon0, lon1, lat0, lat1 = _CHINA
    return (lon >= lon0) & (lon <= lon1) & (lat >= lat0) & (lat <= lat1)


def _offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Δlon, Δlat) in degrees at WGS-84 (lon, lat); zero outside China."""
    x, y = lon - 105.0, lat - 35.0
    pi = np.pi
    common = (20 * np.sin(6 * pi * x) + 20 * np.sin(2 * pi * x)) * 2 / 3
    dlat = (-100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + common + (20 * np.sin(pi * y) + 40 * np.sin(pi * y / 3)) * 2 / 3
            + (160 * np.sin(pi * y / 12) + 320 * np.sin(pi * y / 30)) * 2 / 3)
    dlon = (300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + common + (20 * np.sin(pi * x) + 40 * np.sin(pi * x / 3)) * 2 / 3
            + (150 * np.sin(pi * x / 12) + 300 * np.sin(pi * x / 30)) * 2 / 3)
    phi = lat / 180 * pi
    w = 1 - _EE * np.sin(phi) ** 2
    dlat = dlat * 180 / (_A * (1 - _EE) / (w * np.sqrt(w)) * pi)
    dlon = dlon * 180 / (_A / np.sqrt(w) * np.cos(phi) * pi)
    inside = inside_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon: np.ndarray | float, lat: np.ndarray | float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 (lon, lat) of WGS-84 points (arrays or scalars, in degrees)."""
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon_a, lat_a)
    return lon_a + dlon, lat_a + dlat


def gcj02_to_wgs84(lon: np.ndarray | float, lat: np.ndarray | float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 (lon, lat) of GCJ-02 points: the inverse of :func:`wgs84_to_gcj02`, by
    fixed-point iteration to :data:`TOLERANCE` degrees."""
    g_lon, g_lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(MAX_ITERATIONS):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = f_lon - g_lon, f_lat - g_lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        if max(float(np.max(np.abs(e_lon), initial=0.0)),
               float(np.max(np.abs(e_lat), initial=0.0))) < TOLERANCE:
            break
    return w_lon, w_lat


def convert_coords(coords: np.ndarray, source: str, target: str) -> np.ndarray:
    """An (n, 2) array of lon/lat converted from datum ``source`` to ``target`` (GCJ-02 ↔
    WGS-84; CGCS2000 is taken as WGS-84, which it matches to centimetres)."""
    gcj = {"GCJ-02"}
    plain = {"WGS-84", "CGCS2000"}
    if source == target or (source in plain and target in plain):
        return coords
    if source in gcj and target in plain:
        lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    elif source in plain and target in gcj:
        lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    else:
        raise ValueError(f"{source} → {target}")
    return np.column_stack([lon, lat])
