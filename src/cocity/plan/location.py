"""Service-centre location on a cost matrix: p-median, p-centre, maximal covering (MCLP) and
location set covering (LSCP), solved exactly with HiGHS (:func:`scipy.optimize.milp`), and the
single centres (1-median, 1-centre) by enumeration.

Every function takes ``cost`` (an n × m array: ``cost[i, j]`` the travel time or distance from
demand point i to candidate j; finite and non-negative) and keyword-only parameters, and returns
a :class:`Location`: the chosen candidates (column indices, ascending), the assignment of every
demand point (its closest chosen candidate; for MCLP −1 when uncovered), the objective, whether
HiGHS proved the optimum (and its relative MIP gap) and the solver's wall time.

The models (notation: demand i with weight w_i, candidate j, open y_j ∈ {0, 1}):

* **p-median** (Hakimi 1964; ReVelle & Swain 1970): min Σ_i w_i min_{j open} c_ij with Σ y_j = p.
  Solved in the *radius formulation* of Cornuéjols, Nemhauser & Wolsey (1980) as strengthened by
  Elloumi (2010): for demand i let D_i^1 < D_i^2 < … < D_i^{K_i} be its distinct costs, truncated
  at the (m − p + 1)-th nearest candidate (among any p open candidates one is at most that far),
  and z_ik ∈ [0, 1] (k < K_i) be "i is served farther than D_i^k". Then

      min Σ_i w_i (D_i^1 + Σ_k (D_i^{k+1} − D_i^k) z_ik)
      s.t. z_ik + Σ_{j: c_ij ≤ D_i^k} y_j ≥ 1,   Σ_j y_j = p,   y binary,   z ≥ 0
  (z ≤ 1 is implied at an optimum since z's costs are non-negative, and is left out).

  Its LP relaxation is as tight as the classical assignment model's (Elloumi 2010) with no
  assignment variables; the rows are chained so that they stay sparse (:func:`_median_rows`).
  The levels are moreover *truncated and extended* (after García, Labbé & Marín 2011): each
  demand point first keeps its 2⌈m/p⌉ nearest candidates, beyond which it costs the next
  distinct cost D_i^next — a relaxation, since min(c_i(open), D_i^next) ≤ c_i(open). If in
  the relaxation's optimum every point is served within its kept candidates, the relaxed and
  true costs of that solution agree, so it is optimal for the full model; otherwise the points
  served beyond are given twice as many candidates and the model is solved again. p = 1 (the
  1-median) and p = m are solved by enumeration.
* **p-centre** (Hakimi 1964; Daskin 2013, ch. 5): min max_i w_i min_{j open} c_ij with
  Σ y_j = p (w_i = 1 unless ``weights`` are given). Solved as a search over the sorted distinct
  values r of w_i c_ij (Minieka 1970; Daskin 2013 §5.3): the optimum is the least r whose set
  cover (LSCP with coverage w_i c_ij ≤ r) needs at most p candidates. The search is a bisection
  between the lower bound max_i min_j w_i c_ij and the value of a greedy solution, each step an
  exact LSCP; when the cover has fewer than p candidates the others are added greedily (each
  lowering Σ w_i c_i most), which cannot raise the maximum.
* **MCLP** (Church & ReVelle 1974): max Σ_i w_i z_i s.t. z_i ≤ Σ_{j ∈ N_i} y_j, Σ y_j ≤ p,
  z_i ∈ [0, 1], y binary, with N_i = {j: c_ij ≤ radius}. z needs no integrality (at an optimum
  z_i = min(1, Σ_{N_i} y_j) ∈ {0, 1}). Reductions that keep the optimum: demand points no
  candidate covers are dropped, points with the same N_i are merged (weights summed), and a
  candidate whose covered set is contained in another's is dropped (ties keep the lower index);
  with "≤ p" the optimum equals that of "= p", and the chosen set is filled up to p greedily.
* **LSCP** (Toregas, Swain, ReVelle & Bergman 1971): min Σ_j y_j s.t. Σ_{j ∈ N_i} y_j ≥ 1 for
  every i. Reductions that keep the optimum: a row whose N_i contains another row's is implied
  and dropped (equal rows keep one), and dominated candidates are dropped as for the MCLP. A
  demand point with empty N_i makes it infeasible: :class:`UncoveredDemandError` lists them.
* **1-median / 1-centre**: argmin_j Σ_i w_i c_ij and argmin_j max_i c_ij by enumeration (exact;
  the first index among ties).

References: Hakimi, S.L. (1964) Oper. Res. 12:450–459; ReVelle, C. & Swain, R. (1970) Geogr.
Anal. 2:30–42; Church, R. & ReVelle, C. (1974) Pap. Reg. Sci. 32:101–118; Toregas, C. et al.
(1971) Oper. Res. 19:1363–1373; Cornuéjols, G., Nemhauser, G. & Wolsey, L. (1980) Math. Oper.
Res. 5:232–245 (radius formulation); Elloumi, S. (2010) Comput. Optim. Appl. 46:271–288;
García, S., Labbé, M. & Marín, A. (2011) INFORMS J. Comput. 23:546–556;
Minieka, E. (1970) SIAM J. Appl. Math. 18:207–221; Daskin, M.S. (2013) *Network and Discrete
Location*, 2nd ed., Wiley.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from cocity.i18n import t
from cocity.plan.errors import PlanInputError

MODELS = ("p-median", "p-centre", "mclp", "lscp")
DEPTH0 = 2  # first truncation of the p-median: DEPTH0 · ⌈m / p⌉ nearest candidates


class UncoveredDemandError(PlanInputError):
    """Demand points that no candidate reaches within the radius; ``rows`` are their indices
    (the edge names the units)."""

    def __init__(self, rows: np.ndarray, radius: float) -> None:
        self.rows = np.asarray(rows, dtype=int)
        self.radius = float(radius)
        super().__init__(t("plan.locate.err.uncovered_rows", radius=f"{radius:g}",
                           rows=", ".join(str(int(r)) for r in self.rows[:20]),
                           n=len(self.rows)))


@dataclass(frozen=True)
class Location:
    """The solution of one model: ``chosen`` candidate indices (ascending), ``assignment[i]``
    the chosen candidate serving demand i (closest; −1 when the MCLP leaves i uncovered),
    ``objective`` (model's own: weighted total cost, maximum cost, covered weight, number of
    centres), ``optimal`` (HiGHS proved it), ``gap`` (relative MIP gap) and ``seconds``."""

    model: str
    chosen: np.ndarray
    assignment: np.ndarray
    objective: float
    optimal: bool
    gap: float
    seconds: float
    radius: float | None = None


# ---------------------------------------------------------------------- checks
def _cost(cost: ArrayLike) -> np.ndarray:
    c = np.asarray(cost, dtype=float)
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
        raise PlanInputError(t("plan.locate.err.cost_shape", shape=str(np.shape(cost))))
    bad = np.flatnonzero(~np.isfinite(c).all(axis=1) | (c < 0).any(axis=1))
    if bad.size:
        raise PlanInputError(t("plan.locate.err.cost_values",
                               rows=", ".join(str(int(r)) for r in bad[:20])))
    return c


def _weights(weights: ArrayLike | None, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=float).ravel()
    if w.shape != (n,):
        raise PlanInputError(t("plan.locate.err.weights_shape", n=n, got=w.size))
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise PlanInputError(t("plan.locate.err.weights_values",
                               rows=", ".join(str(int(r)) for r in bad[:20])))
    return w


def _p(p: object, m: int) -> int:
    if isinstance(p, bool) or not isinstance(p, int | np.integer) or not 1 <= int(p) <= m:
        raise PlanInputError(t("plan.locate.err.p", p=p, m=m))
    return int(p)


def _radius(radius: object) -> float:
    try:
        r = float(radius)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        r = float("nan")
    if not np.isfinite(r) or r < 0:
        raise PlanInputError(t("plan.locate.err.radius", radius=radius))
    return r


# ---------------------------------------------------------------------- helpers
def _assign(cost: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Each demand point's closest chosen candidate (first among ties)."""
    return chosen[np.argmin(cost[:, chosen], axis=1)]


def _solve(c: np.ndarray, a: sparse.csr_array, lb: np.ndarray, ub: np.ndarray,
           integrality: np.ndarray, hi: np.ndarray, *, time_limit: float | None,
           lo: np.ndarray | None = None) -> tuple[np.ndarray, bool, float]:
    """Minimise c·x s.t. lo ≤ A x ≤ hi (lo = −∞ if None), lb ≤ x ≤ ub; HiGHS with a zero
    relative gap. Returns x, proven optimal, relative gap."""
    options: dict[str, float | bool] = {"mip_rel_gap": 0.0, "disp": False}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    low = np.full(a.shape[0], -np.inf) if lo is None else lo
    res = milp(c, constraints=LinearConstraint(a, low, hi), bounds=Bounds(lb, ub),
               integrality=integrality, options=options)
    if res.x is None:
        raise PlanInputError(t("plan.locate.err.solver", message=str(res.message)))
    gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
    return np.asarray(res.x), res.status == 0, gap


def _fill(cost: np.ndarray, weights: np.ndarray, chosen: np.ndarray, p: int) -> np.ndarray:
    """``chosen`` plus candidates added one at a time, each lowering Σ w_i min_j c_ij most,
    until there are ``p`` (Daskin 2013's greedy adding heuristic)."""
    sel = [int(j) for j in chosen]
    best = cost[:, sel].min(axis=1) if sel else np.full(cost.shape[0], np.inf)
    while len(sel) < p:
        free = np.setdiff1d(np.arange(cost.shape[1]), sel)
        totals = (weights[:, None] * np.minimum(best[:, None], cost[:, free])).sum(axis=0)
        j = int(free[np.argmin(totals)])
        sel.append(j)
        best = np.minimum(best, cost[:, j])
    return np.array(sorted(sel), dtype=int)


def _undominated(cover: np.ndarray) -> np.ndarray:
    """Columns of the boolean ``cover`` not contained in another column (equal columns keep
    the lowest index)."""
    a = cover.astype(np.int32)
    outside = a.T @ (1 - a)  # outside[j, k] = #rows j covers and k does not
    m = cover.shape[1]
    keep = np.ones(m, dtype=bool)
    for j in range(m):
        subset = outside[j] == 0
        subset[j] = False
        equal = subset & (outside[:, j] == 0)
        strictly = subset & ~equal
        if strictly.any() or equal[:j].any():
            keep[j] = False
    return np.flatnonzero(keep)


def _median_rows(c: np.ndarray, w: np.ndarray, p: int,
                 depth: np.ndarray) -> tuple[sparse.csr_array, np.ndarray, np.ndarray]:
    """The constraint matrix (variables y_1..y_m, then every z_ik), objective and lower row
    bounds of the radius formulation over the ``depth[i]`` nearest candidates of each demand
    point i, in its chained sparse form: with S_ik = {j: c_ij ≤ D_i^k},

        z_i1 + Σ_{j∈S_i1} y_j ≥ 1,   z_ik − z_i,k−1 + Σ_{j∈S_ik∖S_i,k−1} y_j ≥ 0  (k ≥ 2).

    Summed over k' ≤ k these give Elloumi's row k; conversely, with z_i,k−1 at its least value
    max(0, 1 − Σ_{S_i,k−1} y) the chained row asks no more than Elloumi's, so both have the same
    LP relaxation and integer optima, with O(m + K_i) non-zeros per demand point instead of
    O(m·K_i). When ``depth[i]`` stops short of m − p + 1 the next distinct cost stands as a last
    level without candidates, so that i costs min(c_i(open), D_i^next) — a lower bound of its
    true cost (:func:`p_median`). The last row is Σ y_j = p."""
    n, m = c.shape
    full = m - p + 1  # the farthest rank any demand point can be served at
    order = np.argsort(c, axis=1, kind="stable")
    sc = np.take_along_axis(c, order, axis=1)
    # the positions in use: the first depth[i] (a truncated row also keeps its next position)
    length = np.where(depth >= full, full, np.minimum(depth + 1, m))
    valid = np.arange(m)[None, :] < length[:, None]
    first = np.ones_like(sc, dtype=bool)
    first[:, 1:] = sc[:, 1:] != sc[:, :-1]
    first &= valid
    level = np.cumsum(first, axis=1) - 1  # level index of each sorted position
    nlev = level[np.arange(n), length - 1] + 1  # K_i
    nz = nlev - 1  # z variables per demand point
    offset = np.concatenate([[0], np.cumsum(nz)[:-1]])
    total = int(nz.sum())
    values = sc[first]  # level values row by row
    vstart = np.concatenate([[0], np.cumsum(nlev)[:-1]])
    steps = np.diff(values)
    # keep the steps inside each row (drop the jump from one row's last level to the next)
    inside = np.ones(steps.size, dtype=bool)
    inside[vstart[1:] - 1] = False
    coef = np.repeat(w, nz) * steps[inside]
    # y entries: position q of row i lies in row offset_i + level, if level < K_i − 1
    keep = valid & (level < (nlev - 1)[:, None])
    ii = np.broadcast_to(np.arange(n)[:, None], level.shape)[keep]
    y_rows = offset[ii] + level[keep]
    y_cols = order[keep]
    z_idx = np.arange(total)
    chain = np.ones(total, dtype=bool)
    chain[offset[nz > 0]] = False  # the first row of each demand point has no predecessor
    rows = np.concatenate([y_rows, z_idx, z_idx[chain], np.full(m, total)])
    cols = np.concatenate([y_cols, m + z_idx, m + z_idx[chain] - 1, np.arange(m)])
    vals = np.concatenate([np.ones(y_rows.size), np.ones(total), -np.ones(int(chain.sum())),
                           np.ones(m)])
    a = sparse.csr_array((vals, (rows, cols)), shape=(total + 1, m + total))
    lo = np.concatenate([np.where(chain, 0.0, 1.0), [p]])
    obj = np.concatenate([np.zeros(m), coef])
    return a, obj, lo


def _tie_end(sc: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """``depth`` moved past ties so that position depth[i] − 1 and depth[i] of the sorted row
    differ (a level is never cut in two)."""
    m = sc.shape[1]
    out = depth.copy()
    for i in np.flatnonzero(depth < m):
        d = int(depth[i])
        while d < m and sc[i, d] == sc[i, d - 1]:
            d += 1
        out[i] = d
    return out


# ---------------------------------------------------------------------- the models
def p_median(cost: ArrayLike, *, weights: ArrayLike, p: int,
             time_limit: float | None = None) -> Location:
    """The p-median: the ``p`` candidates minimising Σ_i w_i min_{j open} c_ij (module
    docstring: Hakimi 1964, ReVelle & Swain 1970; solved in the Cornuéjols–Nemhauser–Wolsey /
    Elloumi 2010 radius formulation, never deeper than the (m − p + 1)-th nearest candidate,
    truncated and extended as García et al. 2011)."""
    c = _cost(cost)
    n, m = c.shape
    w = _weights(weights, n)
    p = _p(p, m)
    start = time.perf_counter()
    if p in (1, m):  # by enumeration: the 1-median, or every candidate
        chosen = np.array([int(np.argmin(w @ c))]) if p == 1 else np.arange(m)
        assignment = _assign(c, chosen)
        return Location("p-median", chosen, assignment,
                        float(w @ c[np.arange(n), assignment]), True, 0.0,
                        time.perf_counter() - start)
    full = m - p + 1
    sc = np.sort(c, axis=1)
    depth = _tie_end(sc, np.full(n, min(full, DEPTH0 * -(-m // p))))
    while True:
        a_all, obj, lo = _median_rows(c, w, p, depth)
        nzv = a_all.shape[1] - m
        hi = np.concatenate([np.full(nzv, np.inf), [p]])
        integ = np.concatenate([np.ones(m), np.zeros(nzv)])
        # z needs no upper bound: its cost is non-negative, so at an optimum it is at its
        # least, max(0, z_i,k−1 − Σ y) ≤ 1 (leaving z ≤ 1 out makes HiGHS faster)
        upper = np.concatenate([np.ones(m), np.full(nzv, np.inf)])
        x, optimal, gap = _solve(obj, a_all, np.zeros(m + nzv), upper, integ, hi,
                                 lo=lo, time_limit=time_limit)
        chosen = np.flatnonzero(x[:m] > 0.5)
        assignment = _assign(c, chosen)
        served = c[np.arange(n), assignment]
        short = (depth < full) & (served > sc[np.arange(n), np.maximum(depth, 1) - 1])
        if not short.any():
            break
        depth = np.where(short, _tie_end(sc, np.minimum(full, 2 * depth)), depth)
    objective = float(w @ served)
    return Location("p-median", chosen, assignment, objective, optimal, gap,
                    time.perf_counter() - start)


def _cover_min(cover: np.ndarray, *, time_limit: float | None) -> tuple[np.ndarray, bool, float]:
    """The least set of columns of the boolean ``cover`` (n × m, no empty row) covering every
    row: LSCP after the row and column reductions of the module docstring."""
    cols = _undominated(cover)
    sub = cover[:, cols]
    sub_rows = np.unique(sub, axis=0)
    # drop rows implied by another row (a superset of it)
    r = sub_rows.astype(np.int32)
    inside = r @ (1 - r).T  # inside[a, b] = #columns in a not in b; 0 ⇒ a ⊆ b
    implied = ((inside == 0).sum(axis=0) > 1)  # b contains some other (distinct) row a
    sub_rows = sub_rows[~implied]
    if sub_rows.shape[0] == 0:
        return np.zeros(0, dtype=int), True, 0.0
    k = len(cols)
    a = sparse.csr_array(sub_rows.astype(float))
    x, optimal, gap = _solve(np.ones(k), a, np.zeros(k), np.ones(k), np.ones(k),
                             np.full(a.shape[0], np.inf), lo=np.ones(a.shape[0]),
                             time_limit=time_limit)
    chosen = cols[x > 0.5]
    return np.sort(chosen), optimal, gap


def lscp(cost: ArrayLike, *, radius: float, time_limit: float | None = None) -> Location:
    """The location set covering problem: the fewest candidates such that every demand point
    has one within ``radius`` (c_ij ≤ radius; Toregas et al. 1971). A demand point no candidate
    reaches makes it infeasible: :class:`UncoveredDemandError`."""
    c = _cost(cost)
    r = _radius(radius)
    start = time.perf_counter()
    cover = c <= r
    lonely = np.flatnonzero(~cover.any(axis=1))
    if lonely.size:
        raise UncoveredDemandError(lonely, r)
    chosen, optimal, gap = _cover_min(cover, time_limit=time_limit)
    return Location("lscp", chosen, _assign(c, chosen), float(len(chosen)), optimal, gap,
                    time.perf_counter() - start, radius=r)


def p_centre(cost: ArrayLike, *, p: int, weights: ArrayLike | None = None,
             time_limit: float | None = None) -> Location:
    """The p-centre: the ``p`` candidates minimising max_i w_i min_{j open} c_ij (w_i = 1 by
    default; Hakimi 1964), by bisection over the sorted distinct values of w_i c_ij with an
    exact LSCP at each step (Minieka 1970; Daskin 2013 §5.3; module docstring)."""
    c = _cost(cost)
    n, m = c.shape
    w = _weights(weights, n)
    p = _p(p, m)
    start = time.perf_counter()
    wc = w[:, None] * c
    # greedy upper bound: farthest-first additions from the 1-centre
    sel = [int(np.argmin(wc.max(axis=0)))]
    best = wc[:, sel[0]].copy()
    while len(sel) < p:
        totals = np.minimum(best[:, None], wc).max(axis=0)
        totals[sel] = np.inf
        j = int(np.argmin(totals))
        sel.append(j)
        best = np.minimum(best, wc[:, j])
    upper = float(best.max())
    lower = float(wc.min(axis=1).max())
    values = np.unique(wc)
    values = values[(values >= lower) & (values <= upper)]
    lo_i, hi_i = 0, len(values) - 1
    hi_sel = np.array(sorted(sel), dtype=int)
    optimal = True
    gap = 0.0
    while lo_i < hi_i:
        mid = (lo_i + hi_i) // 2
        chosen, ok, g = _cover_min(wc <= values[mid], time_limit=time_limit)
        optimal = optimal and ok
        gap = max(gap, g)
        if len(chosen) <= p:
            hi_i, hi_sel = mid, chosen
        else:
            lo_i = mid + 1
    if len(hi_sel) < p:
        hi_sel = _fill(c, w, hi_sel, p)
    assignment = hi_sel[np.argmin(wc[:, hi_sel], axis=1)]
    objective = float(wc[np.arange(n), assignment].max())
    return Location("p-centre", hi_sel, assignment, objective, optimal, gap,
                    time.perf_counter() - start)


def mclp(cost: ArrayLike, *, weights: ArrayLike, p: int, radius: float,
         time_limit: float | None = None) -> Location:
    """The maximal covering location problem: the ``p`` candidates maximising the weight of
    demand within ``radius`` of an open one (Church & ReVelle 1974; reductions in the module
    docstring). ``objective`` is the covered weight; ``assignment`` is −1 where uncovered."""
    c = _cost(cost)
    n, m = c.shape
    w = _weights(weights, n)
    p = _p(p, m)
    r = _radius(radius)
    start = time.perf_counter()
    cover = c <= r
    live = cover.any(axis=1) & (w > 0)
    cols = _undominated(cover[live]) if live.any() else np.zeros(0, dtype=int)
    if live.any() and len(cols) > p:
        rows, inverse = np.unique(cover[np.ix_(live, cols)], axis=0, return_inverse=True)
        rw = np.bincount(inverse.ravel(), weights=w[live], minlength=rows.shape[0])
        k, q = len(cols), rows.shape[0]
        # variables: y (k, binary), z (q, continuous); rows: z_i − Σ_{N_i} y ≤ 0, Σ y ≤ p
        block = sparse.hstack([-sparse.csr_array(rows.astype(float)),
                               sparse.identity(q, format="csr")])
        card = sparse.csr_array(np.concatenate([np.ones(k), np.zeros(q)])[None, :])
        a = sparse.vstack([block, card]).tocsr()
        hi = np.concatenate([np.zeros(q), [p]])
        x, optimal, gap = _solve(np.concatenate([np.zeros(k), -rw]), a, np.zeros(k + q),
                                 np.ones(k + q), np.concatenate([np.ones(k), np.zeros(q)]),
                                 hi, time_limit=time_limit)
        chosen = cols[x[:k] > 0.5]
    else:
        chosen, optimal, gap = cols, True, 0.0
    chosen = _fill(np.where(cover, 0.0, 1.0), w, np.sort(chosen), p) \
        if len(chosen) < p else np.sort(chosen)
    assignment = _assign(c, chosen)
    covered = c[np.arange(n), assignment] <= r
    assignment = np.where(covered, assignment, -1)
    return Location("mclp", chosen, assignment, float(w[covered].sum()), optimal, gap,
                    time.perf_counter() - start, radius=r)


def one_median(cost: ArrayLike, *, weights: ArrayLike) -> int:
    """The 1-median: argmin_j Σ_i w_i c_ij by enumeration (first index among ties)."""
    c = _cost(cost)
    w = _weights(weights, c.shape[0])
    return int(np.argmin(w @ c))


def one_centre(cost: ArrayLike, *, weights: ArrayLike | None = None) -> int:
    """The 1-centre: argmin_j max_i w_i c_ij by enumeration (w_i = 1 by default; first index
    among ties)."""
    c = _cost(cost)
    w = _weights(weights, c.shape[0])
    return int(np.argmin((w[:, None] * c).max(axis=0)))
