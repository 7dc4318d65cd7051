"""Street networks from OpenStreetMap files (PBF, or XML), read with pyosmium.

Purpose
-------
:func:`read_osm` turns an OSM extract into a :class:`~cocity.access.network.Network` for the
walk, bike or drive profile: the ways with a ``highway`` tag that the profile may use, split at
junctions, with their lengths, one-way rules and road classes.

Why pyosmium
------------
pyosmium (the Python binding of libosmium) ships as binary wheels on PyPI for Linux, macOS and
Windows — one ``pip install``, nothing else. It **streams** the file: objects pass through once
and only what is kept stays in memory, and its C++ filters (``KeyFilter("highway")`` for the
ways, ``IdFilter`` for the nodes they use) run before anything reaches Python. The alternatives
fit an offline, pip-only tool worse: pyrosm decodes whole PBF blocks into DataFrames in memory
and its releases lag behind current Pythons; quackosm runs on DuckDB and downloads DuckDB's
spatial extension at run time (no network here, and a moving dependency); Java-based tools
(osmosis, r5) need a JVM.

Algorithm
---------
1. **Ways** (first pass, ``highway`` ways only): a way is kept when the profile may use it —
   its class is not in :data:`~cocity.access.network.EXCLUDED_HIGHWAYS` for the profile (an
   explicit ``foot``/``bicycle``/``motor_vehicle``/``motorcar`` = ``yes``/``designated``/
   ``permissive``/``destination`` admits an excluded class, except the never-usable ones such as
   ``construction``), it is not an area (``area=yes``), and neither ``access`` nor the
   profile's own access key is ``no``/``private`` (the profile key wins over ``access``).
2. **Direction**: walk ignores one-way tags. Bike and drive read ``oneway`` (bike:
   ``oneway:bicycle`` wins when present): ``yes``/``true``/``1`` along the way, ``-1``/
   ``reverse`` against it, anything else both ways; with no ``oneway`` tag,
   ``junction=roundabout``/``circular`` and ``highway=motorway`` are one-way along the way
   (OSM's implied one-way rules).
3. **Nodes** (second pass): coordinates of the nodes the kept ways use. A way is split into
   edges at its end points, at nodes shared with another kept way (or used twice by the same
   way), and around nodes missing from the file (clipped extracts): segments touching a missing
   node are dropped and counted.
4. **Lengths**: great-circle (haversine) distance on a sphere of radius 6,371,008.8 m (the
   IUGG mean radius) summed over a way's segments between two graph nodes; node coordinates
   are then projected to their WGS 84 / UTM zone for snapping.
5. The edges go to :meth:`Network.from_arrays` (speeds per profile and class; self-loops,
   e.g. closed ways without a junction, dropped). A file with no usable way for the profile
   raises :class:`~cocity.access.errors.AccessInputError`.

Source
------
OSM tagging: https://wiki.openstreetmap.org/wiki/Key:highway, .../Key:oneway, .../Key:access.
pyosmium: https://osmcode.org/pyosmium/ (``FileProcessor``, ``filter.KeyFilter``,
``filter.IdFilter``).

Variant
-------
Turn restrictions (relations), barriers on nodes and ``maxspeed`` are not used: speeds come
from the road class (free-flow limits overstate urban travel speeds). Edge shapes are reduced
to their length.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cocity.access.errors import AccessInputError
from cocity.access.network import (
    EXCLUDED_HIGHWAYS,
    NEVER_HIGHWAYS,
    Network,
    Profile,
    SpeedSpec,
    check_profile,
    project_lonlat,
    speed_table,
)
from cocity.i18n import t

EARTH_RADIUS_M = 6371008.8
_ALLOW = frozenset({"yes", "designated", "permissive", "destination", "official"})
_DENY = frozenset({"no", "private"})
_PROFILE_KEYS: dict[str, tuple[str, ...]] = {
    "walk": ("foot",), "bike": ("bicycle",), "drive": ("motorcar", "motor_vehicle"),
}
_FORWARD = frozenset({"yes", "true", "1"})
_BACKWARD = frozenset({"-1", "reverse"})


def way_rule(tags: Mapping[str, str], profile: str) -> tuple[bool, int]:
    """``(usable, direction)`` of a way with these tags for ``profile``.

    ``direction``: ``1`` one-way along the way, ``-1`` against it, ``0`` both ways.
    """
    hw = tags.get("highway")
    if not hw or tags.get("area") == "yes":
        return False, 0
    specific = next((tags[k] for k in _PROFILE_KEYS[profile] if k in tags), None)
    if specific in _DENY:
        return False, 0
    admitted = specific in _ALLOW
    if hw in EXCLUDED_HIGHWAYS[profile] and (hw in NEVER_HIGHWAYS or not admitted):
        return False, 0
    if tags.get("access") in _DENY and not admitted:
        return False, 0
    if profile == "walk":
        return True, 0
    tag = tags.get("oneway")
    if profile == "bike" and "oneway:bicycle" in tags:
        tag = tags["oneway:bicycle"]
    if tag is None:
        implied = tags.get("junction") in ("roundabout", "circular") or hw == "motorway"
        return True, 1 if implied else 0
    value = tag.strip().lower()
    return True, 1 if value in _FORWARD else -1 if value in _BACKWARD else 0


def _haversine(lon1: NDArray[np.float64], lat1: NDArray[np.float64],
               lon2: NDArray[np.float64], lat2: NDArray[np.float64]) -> NDArray[np.float64]:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat = p2 - p1
    dlon = np.radians(lon2 - lon1)
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def read_osm(path: str | Path, *, profile: Profile = "walk",
             speed_kmh: SpeedSpec = None) -> Network:
    """The ``profile`` network of an OSM file (``.osm.pbf``, ``.osm``, ``.osm.bz2``).

    See the module notes for the rules. The network's node ids are OSM node ids; its
    ``report`` counts the highway ways seen and kept, the segments dropped for missing nodes and
    the edges dropped per road class.
    """
    import osmium

    check_profile(profile)
    speed_table(profile, speed_kmh)          # bad speeds fail before the file is read
    p = Path(path)
    if not p.is_file():
        raise AccessInputError(t("access.net.err.no_file", path=str(p)))

    refs: list[NDArray[np.int64]] = []
    directions: list[int] = []
    classes: list[str] = []
    seen = 0
    try:
        ways = osmium.FileProcessor(str(p), osmium.osm.WAY).with_filter(
            osmium.filter.KeyFilter("highway"))
        for w in ways:
            if not isinstance(w, osmium.osm.Way):
                continue
            seen += 1
            tags = {tag.k: tag.v for tag in w.tags}
            usable, direction = way_rule(tags, profile)
            if not usable or len(w.nodes) < 2:
                continue
            refs.append(np.fromiter((n.ref for n in w.nodes), dtype=np.int64,
                                    count=len(w.nodes)))
            directions.append(direction)
            classes.append(tags["highway"])
        if not refs:
            raise AccessInputError(t("access.net.err.osm_no_ways", path=str(p), profile=profile,
                                     seen=seen))
        all_refs = np.concatenate(refs)
        uniq, counts = np.unique(all_refs, return_counts=True)
        found: list[int] = []
        found_lon: list[float] = []
        found_lat: list[float] = []
        nodes = osmium.FileProcessor(str(p), osmium.osm.NODE).with_filter(
            osmium.filter.IdFilter(uniq.tolist()))
        for nd in nodes:
            if isinstance(nd, osmium.osm.Node):
                loc = nd.location
                if loc.valid():
                    found.append(nd.id)
                    found_lon.append(loc.lon)
                    found_lat.append(loc.lat)
    except (RuntimeError, OSError) as exc:
        raise AccessInputError(t("access.net.err.osm_read", path=str(p), error=str(exc))) from exc

    lon = np.full(len(uniq), np.nan)
    lat = np.full(len(uniq), np.nan)
    at_found = np.searchsorted(uniq, np.asarray(found, dtype=np.int64))
    lon[at_found] = found_lon
    lat[at_found] = found_lat
    lens = np.fromiter((len(r) for r in refs), dtype=np.int64, count=len(refs))
    way_of = np.repeat(np.arange(len(refs), dtype=np.int64), lens)
    at = np.searchsorted(uniq, all_refs)
    valid = ~np.isnan(lon[at])
    rlon, rlat = lon[at], lat[at]
    same = way_of[:-1] == way_of[1:]
    pair_ok = same & valid[:-1] & valid[1:]
    broken = same & ~pair_ok
    seg = np.zeros(len(pair_ok))
    seg[pair_ok] = _haversine(rlon[:-1][pair_ok], rlat[:-1][pair_ok],
                              rlon[1:][pair_ok], rlat[1:][pair_ok])
    cum_len = np.concatenate([[0.0], np.cumsum(seg)])
    cum_broken = np.concatenate([[0], np.cumsum(broken)])
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    is_end = np.zeros(len(all_refs), dtype=bool)
    is_end[starts] = True
    is_end[starts + lens - 1] = True
    near_break = np.zeros(len(all_refs), dtype=bool)
    near_break[:-1] |= broken
    near_break[1:] |= broken
    graph_pos = np.flatnonzero(valid & (is_end | (counts[at] >= 2) | near_break))
    a, b = graph_pos[:-1], graph_pos[1:]
    edge = (way_of[a] == way_of[b]) & (cum_broken[b] == cum_broken[a])
    a, b = a[edge], b[edge]
    if len(a) == 0:
        raise AccessInputError(t("access.net.err.osm_no_ways", path=str(p), profile=profile,
                                 seen=seen))
    node_ids = np.unique(all_refs[np.concatenate([a, b])])
    node_at = np.searchsorted(uniq, node_ids)
    x, y, crs = project_lonlat(lon[node_at], lat[node_at])
    wa = way_of[a]
    report: dict[str, Any] = {
        "source": "osm", "path": str(p), "highway_ways": seen, "ways_kept": len(refs),
        "missing_nodes": int((~valid).sum()), "segments_dropped_missing": int(broken.sum()),
    }
    return Network.from_arrays(
        node_ids, x, y, np.searchsorted(node_ids, all_refs[a]),
        np.searchsorted(node_ids, all_refs[b]), cum_len[b] - cum_len[a], profile=profile,
        oneway=np.asarray(directions, dtype=np.int8)[wa],
        highway=np.asarray(classes, dtype=object)[wa], speed_kmh=speed_kmh, crs=crs,
        filter_classes=False, spatial_order=True, report=report)
