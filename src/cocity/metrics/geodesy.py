"""Distances on the Earth between points given by longitude and latitude in degrees.

One formula for the whole package: the region's networks (:mod:`cocity.metrics.network`),
distance-based spatial weights (:mod:`cocity.metrics.weights`), the regional travel model of
:mod:`cocity.access.regional` and the centres of :mod:`cocity.plan.location_run` all measure
great-circle distances with :func:`haversine_km`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

#: the IUGG mean Earth radius, km
EARTH_RADIUS_KM = 6371.0088


def haversine_km(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike
                 ) -> np.ndarray:
    """Great-circle distances in km between (``lon1``, ``lat1``) and (``lon2``, ``lat2``),
    degrees, broadcast elementwise as numpy does.

    **Formula**: haversine, ``d = 2R·asin √(sin²(Δφ/2) + cos φ₁ cos φ₂ sin²(Δλ/2))``, longitudes
    ``λ`` and latitudes ``φ`` in radians, ``R`` = :data:`EARTH_RADIUS_KM`; the term under the
    root clipped to [0, 1] against rounding.

    **Variant**: a sphere, not the ellipsoid (error ≤ 0.5 %); no datum conversion (the
    embedded dataset's GCJ-02 points are a few hundred metres from WGS-84, negligible between
    units tens of kilometres apart).
    """
    lam1, lam2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lon2))
    phi1, phi2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lat2))
    h = (np.sin((phi1 - phi2) / 2) ** 2
         + np.cos(phi1) * np.cos(phi2) * np.sin((lam1 - lam2) / 2) ** 2)
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))
