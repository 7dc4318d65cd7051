"""The in-circle part of a partial unit, from the county-level data of its member counties.

A prefecture-level unit may lie only partly in the circle: Chongqing (500100) covers the whole
municipality although 27 districts/counties in full and parts of 开州 and 云阳 belong to the
circle; 绵阳, 达州 and 雅安 leave out a few counties. Its in-circle part is the set of its
**member counties** — its counties whose membership is ``full`` or ``partial``. County data
cover whole counties, so a partial county (开州, 云阳) enters with all of it: the in-circle part
is the smallest set of whole counties containing it (an over-estimate the report states).

Pure functions on frames; the diagnostics decide where to use them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

MEMBERS = ("full", "partial")


def member_counties(units: pd.DataFrame, parents: Sequence[str]) -> pd.Series:
    """County code → parent code for the member counties of ``parents``.

    ``units`` is the units table indexed by code (columns ``level``, ``parent``,
    ``membership``); a member county is a county whose parent is one of ``parents`` and whose
    membership is ``full`` or ``partial``.
    """
    counties = units[(units["level"] == "county")
                     & units["parent"].astype(str).isin([str(p) for p in parents])
                     & units["membership"].isin(MEMBERS)]
    return counties["parent"].astype(str).rename("parent")


def aggregate(values: pd.Series, members: pd.Series, *, how: str,
              weights: pd.Series | None = None) -> tuple[pd.Series, list[str]]:
    """The in-circle value of each parent from its member counties' values.

    **Formula**: ``how="sum"`` (counts such as residents): ``x_p = Σ_{c ∈ M(p)} x_c``;
    ``how="mean"`` (rates, shares, levels): the weighted mean
    ``x_p = Σ_c w_c x_c / Σ_c w_c`` with ``w`` the county ``weights`` (residents). ``M(p)``
    is the set of member counties of ``p`` (:func:`member_counties`).

    A parent is computed only when every member county has a value (and a weight): an
    aggregate over a subset would silently mix in-circle and partial figures. Returns the
    values by parent and the parents that could not be computed.
    """
    if how not in ("sum", "mean"):
        raise ValueError(f"how must be 'sum' or 'mean', not {how!r}")
    x = pd.Series(values, dtype=float).reindex(members.index)
    ok = x.notna()
    if how == "mean":
        if weights is None:
            raise ValueError("how='mean' needs weights")
        w = pd.Series(weights, dtype=float).reindex(members.index)
        ok &= w.notna() & (w > 0)
    complete = ok.groupby(members).all()
    good = [str(p) for p in complete.index[complete]]
    lacking = [str(p) for p in complete.index[~complete]]
    sel = members.isin(good)
    if how == "sum":
        out = x[sel].groupby(members[sel]).sum()
    else:
        ws = w[sel]
        out = (x[sel] * ws).groupby(members[sel]).sum() / ws.groupby(members[sel]).sum()
    out.index = out.index.astype(str)
    return out.astype(float), lacking


def weighted_points(points: pd.DataFrame, members: pd.Series,
                    weights: pd.Series) -> pd.DataFrame:
    """The population-weighted centre of each parent's member counties.

    **Formula**: ``λ_p = Σ_c w_c λ_c / Σ_c w_c`` and ``φ_p = Σ_c w_c φ_c / Σ_c w_c`` over the
    member counties with a representative point (``lon``/``lat``) and a positive weight; a
    weighted mean of coordinates, which over a region of a few hundred km differs from the
    spherical centroid by far less than the county points' own spread. Parents without any
    such county are left out.
    """
    pts = points.reindex(members.index)[["lon", "lat"]].astype(float)
    w = pd.Series(weights, dtype=float).reindex(members.index)
    ok = pts.notna().all(axis=1) & w.notna() & (w > 0)
    pts, w, m = pts[ok], w[ok], members[ok]
    total = w.groupby(m).sum()
    out = pd.DataFrame({
        "lon": (pts["lon"] * w).groupby(m).sum() / total,
        "lat": (pts["lat"] * w).groupby(m).sum() / total,
    })
    out.index = out.index.astype(str)
    finite = np.isfinite(out.to_numpy()).all(axis=1)
    return out.loc[finite]
