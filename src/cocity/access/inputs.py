"""Reading the user's files of ``cocity access``: street networks (edge tables, line layers,
OpenStreetMap) and point sets (CSV/Parquet tables with coordinates, vector layers). A file
that is missing or of an unknown format is a clear :class:`AccessInputError`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from cocity.access.errors import AccessInputError
from cocity.i18n import t

if TYPE_CHECKING:
    from cocity.access.network import Network

NETWORK_TABLES = (".csv", ".txt", ".parquet", ".pq", ".geoparquet")
NETWORK_LINES = (".gpkg", ".geojson", ".json", ".shp", ".fgb")
NETWORK_OSM = (".pbf", ".osm")


def row_list(rows: list[int], most: int = 10) -> str:
    """Spreadsheet rows as text: the first ``most``, then an ellipsis."""
    text = ", ".join(str(r) for r in rows[:most])
    return text + (", …" if len(rows) > most else "")


def read_network(path: Path, *, nodes: Path | None = None, crs: str | None = None
                 ) -> Network:
    """A walk network from an edge table (CSV/Parquet, with ``--nodes`` or edge geometries), a
    line layer (GeoPackage, GeoJSON, Shapefile) or an OpenStreetMap file (PBF/XML)."""
    from cocity.access.network import Network  # numba: loaded only when routing

    if not path.is_file():
        raise AccessInputError(t("access.net.err.no_file", path=str(path)))
    suffix = path.suffix.lower()
    if suffix in NETWORK_TABLES:
        return Network.from_edges(path, nodes, profile="walk", crs=crs)
    if suffix in NETWORK_LINES:
        return Network.from_lines(path, profile="walk", crs=crs)
    if suffix in NETWORK_OSM or path.name.lower().endswith(".osm.pbf"):
        return Network.from_osm(path, profile="walk")
    raise AccessInputError(t("access.cli.err.network_format", path=str(path)))


def read_points(path: Path, what: str) -> pd.DataFrame:
    """Points from CSV (``x``/``y`` or ``lon``/``lat``), Parquet or a vector layer."""
    if not path.is_file():
        raise AccessInputError(t("access.net.err.no_file", path=str(path)))
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".parquet", ".pq", ".geoparquet"):
        from cocity.access.network import read_table

        return read_table(path)
    if suffix in NETWORK_LINES:
        import geopandas as gpd

        return gpd.read_file(path, engine="pyogrio")
    label = t(f"access.lc.what.{what}") if what in ("homes", "facilities") else \
        t(f"access.cli.measure.what.{what}")
    raise AccessInputError(t("access.cli.err.points_format", path=str(path), what=label))
