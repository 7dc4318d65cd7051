"""Where a cost game's coalition costs come from: the links needed to join the members, or a
table of coalition costs given by the user.

**Link cost (a minimum-cost spanning-tree game, Bird 1976).** The project has a *root* (its
first listed unit: the hub the line starts from) and *players* (the other units). A
coalition ``S`` joins its members to the root by the shortest network of direct links between
their representative points: ``c(S) = k · MST({root} ∪ S)``, the weight of the minimum
spanning tree (exact, by Prim's algorithm on the complete graph) over great-circle distances
(haversine, mean Earth radius 6 371.0088 km) — straight-line kilometres between the units'
representative points, not route lengths — times ``k``, a cost per kilometre given by the
user (default 1: the costs are then kilometres of link). Bird's game always has a non-empty
core. Shortest-path Steiner trees are not used: with direct links on a complete graph of
straight lines the MST is the exact cheapest network without extra junctions.

**User table.** A CSV with columns ``coalition`` (unit names or codes joined by ``+``) and
``cost``: one row for every non-empty coalition of the units that appear, checked all at
once (every unreadable cost, unknown unit, repeated or missing coalition named).

Pure: arrays and frames in, arrays out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cocity.i18n import t
from cocity.plan.errors import PlanInputError
from cocity.plan.sharing import MAX_EXACT, members

EARTH_KM = 6371.0088
MAX_ISSUES = 30


def haversine_km(lon: Sequence[float], lat: Sequence[float]) -> np.ndarray:
    """The matrix of great-circle distances (km) between points given in degrees:
    ``d = 2R asin √(sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2))``."""
    lam = np.radians(np.asarray(lon, dtype=float))
    phi = np.radians(np.asarray(lat, dtype=float))
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    h = np.sin(dphi / 2) ** 2 + np.cos(phi)[:, None] * np.cos(phi)[None, :] * np.sin(dlam / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def mst_weight(weights: np.ndarray) -> float:
    """The weight of a minimum spanning tree of the complete graph with edge weights
    ``weights[i, j]`` (Prim 1957, ``O(k²)``)."""
    w = np.asarray(weights, dtype=float)
    k = w.shape[0]
    if k <= 1:
        return 0.0
    inside = np.zeros(k, dtype=bool)
    inside[0] = True
    best = w[0].copy()
    total = 0.0
    for _ in range(k - 1):
        cand = np.where(inside, np.inf, best)
        j = int(np.argmin(cand))
        total += float(cand[j])
        inside[j] = True
        best = np.minimum(best, w[j])
    return total


def mst_game(weights: np.ndarray, *, root: int = 0, per_unit: float = 1.0) -> np.ndarray:
    """Bird's (1976) minimum-cost spanning-tree game on the points of ``weights`` (a symmetric
    distance matrix): players are every point but ``root`` in their order, and
    ``c(S) = per_unit · MST({root} ∪ S)``; ``2**n`` costs by bitmask (``n ≤ 20``)."""
    w = np.asarray(weights, dtype=float)
    k = w.shape[0]
    if w.shape != (k, k) or not np.isfinite(w).all():
        raise PlanInputError(t("plan.share.err.weights_matrix"))
    others = [i for i in range(k) if i != root]
    n = len(others)
    if n < 1 or n > MAX_EXACT:
        raise PlanInputError(t("plan.share.err.players", n=n, max=MAX_EXACT))
    costs = np.zeros(1 << n)
    for s in range(1, 1 << n):
        idx = [root] + [others[i] for i in members(s)]
        costs[s] = per_unit * mst_weight(w[np.ix_(idx, idx)])
    return costs


def mst_cost_function(weights: np.ndarray, *, root: int = 0,
                      per_unit: float = 1.0) -> Callable[[tuple[int, ...]], float]:
    """``c(S)`` of :func:`mst_game` as a function of the members' positions among the
    players (for the sampled Shapley value of large games)."""
    w = np.asarray(weights, dtype=float)
    others = [i for i in range(w.shape[0]) if i != root]

    def cost(coalition: tuple[int, ...]) -> float:
        idx = [root] + [others[i] for i in coalition]
        return per_unit * mst_weight(w[np.ix_(idx, idx)])

    return cost


@dataclass(frozen=True)
class TableGame:
    """A cost game read from a user table: ``codes`` of the players (in order of first
    appearance) and ``costs`` by bitmask."""

    codes: list[str]
    costs: np.ndarray


def table_game(frame: pd.DataFrame, resolve: Callable[[str], str | None], *,
               source: str = "costs") -> TableGame:
    """The cost game of a coalition table (columns ``coalition``, ``cost``; module docstring).
    ``resolve(name)`` gives a unit's code or ``None`` when the name is unknown. Every problem
    is collected and raised in one :class:`PlanInputError` naming the file and row (row 2 is
    the first data row, the header being row 1)."""
    issues: list[str] = []
    missing_cols = [c for c in ("coalition", "cost") if c not in frame.columns]
    if missing_cols:
        raise PlanInputError(t("plan.share.err.table_columns", file=source,
                               columns=", ".join(missing_cols)))
    codes: list[str] = []
    rows: list[tuple[int, frozenset[str], float]] = []
    for k, (coal, cost) in enumerate(zip(frame["coalition"], frame["cost"], strict=True)):
        row = k + 2
        names = [p.strip() for p in str(coal if coal is not None else "").split("+")]
        if not coal or pd.isna(coal) or not all(names):
            issues.append(t("plan.share.err.table_empty", file=source, row=row))
            continue
        bad = False
        members_: list[str] = []
        for name in names:
            code = resolve(name)
            if code is None:
                issues.append(t("plan.share.err.table_unit", file=source, row=row, name=name))
                bad = True
            else:
                members_.append(code)
        value = pd.to_numeric(pd.Series([cost]), errors="coerce").iloc[0]
        if pd.isna(value) or not np.isfinite(value) or value < 0:
            issues.append(t("plan.share.err.table_cost", file=source, row=row, cost=cost))
            bad = True
        if bad:
            continue
        for c in members_:
            if c not in codes:
                codes.append(c)
        rows.append((row, frozenset(members_), float(value)))
    n = len(codes)
    if n > MAX_EXACT:
        issues.append(t("plan.share.err.players", n=n, max=MAX_EXACT))
    pos = {c: i for i, c in enumerate(codes)}
    seen: dict[int, int] = {}
    costs = np.full(1 << min(n, MAX_EXACT), np.nan)
    if costs.size:
        costs[0] = 0.0
    for row, coalition, value in rows:
        mask = sum(1 << pos[c] for c in coalition)
        if mask in seen:
            issues.append(t("plan.share.err.table_repeat", file=source, row=row,
                            first=seen[mask]))
            continue
        seen[mask] = row
        if mask < costs.size:
            costs[mask] = value
    if n and n <= MAX_EXACT:
        absent = np.flatnonzero(np.isnan(costs))
        for mask in absent[:MAX_ISSUES]:
            label = "+".join(codes[i] for i in members(int(mask)))
            issues.append(t("plan.share.err.table_missing", file=source, coalition=label))
        if absent.size > MAX_ISSUES:
            issues.append(t("plan.share.err.table_more", n=int(absent.size - MAX_ISSUES)))
    if n == 0 and not issues:
        issues.append(t("plan.share.err.table_nothing", file=source))
    if issues:
        raise PlanInputError("\n".join(issues))
    return TableGame(codes=codes, costs=costs)
