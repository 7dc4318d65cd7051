"""The "geographic centre" of a region read several ways, and one yardstick to compare any
centres by travel time.

* **Population-weighted centroid**: (Σ p_i λ_i / Σ p_i, Σ p_i φ_i / Σ p_i), the weighted mean of
  the units' longitudes λ and latitudes φ — the plain planar mean of the coordinates (the
  region spans about 8° of longitude at 28–33° N, where the difference from the spherical
  centre of mass of the points is a few kilometres; the variant is chosen for being the one
  planners compute). It is a point, not a place one can travel from: the edge reports the unit
  containing it and measures times from that unit.
* **1-median** (Hakimi 1964): the candidate minimising Σ_i p_i t_ij — the least total (hence
  mean) travel time of the population to the centre (:func:`cocity.plan.location.one_median`).
* **1-centre** (Hakimi 1964): the candidate minimising max_i t_ij — the least travel time from
  the farthest unit (:func:`cocity.plan.location.one_centre`).

:func:`reach` measures a centre j by the population-weighted mean time Σ_i p_i t_ij / Σ_i p_i,
the maximum time max_i t_ij and the shares of the population within each threshold,
Σ_{i: t_ij ≤ T} p_i / Σ_i p_i.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

THRESHOLDS = (60.0, 90.0, 120.0)


def weighted_centroid(lon: ArrayLike, lat: ArrayLike, *,
                      weights: ArrayLike) -> tuple[float, float]:
    """The weighted mean (λ̄, φ̄) of the coordinates (module docstring)."""
    w = np.asarray(weights, dtype=float)
    total = w.sum()
    return (float(np.asarray(lon, dtype=float) @ w / total),
            float(np.asarray(lat, dtype=float) @ w / total))


def reach(times: ArrayLike, *, weights: ArrayLike,
          thresholds: Sequence[float] = THRESHOLDS) -> dict[str, float]:
    """A centre's yardstick from ``times`` (minutes from every demand unit to it): the
    weighted mean time, the maximum time and the weighted share within each threshold
    (``within_<T>``), as in the module docstring."""
    t = np.asarray(times, dtype=float)
    w = np.asarray(weights, dtype=float)
    out = {"mean_minutes": float(t @ w / w.sum()), "max_minutes": float(t.max())}
    for limit in thresholds:
        out[f"within_{limit:g}"] = float(w[t <= limit].sum() / w.sum())
    return out
