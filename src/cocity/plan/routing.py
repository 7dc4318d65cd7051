"""Tourism routes as an orienteering problem with time windows (OPTW), several days allowed.

The problem (Tsiligirides 1984; the survey of Vansteenwegen, Souffriau & Van Oudheusden 2011,
"The orienteering problem: a survey", EJOR 209, 1–10, §4 team OP and §5 OP with time windows).
Places 0…n−1 are attractions with a score s_i, visit minutes v_i and an opening window
[e_i, l_i] on the start of the visit (minutes after midnight, the same every day); places n…m−1
are depots (hotels, stations). ``travel[a, b]`` are the minutes from place a to place b. Day d
(a "vehicle" of the team OP) leaves its start depot at ``depart_d`` and must be back at its end
depot by ``back_by_d``. A route of day d is a sequence i_1 … i_k of distinct attractions with

    arrival a_1 = depart_d + t(start_d, i_1),   a_{j+1} = f_j + t(i_j, i_{j+1}),
    start   b_j = max(a_j, e_{i_j})  (waiting allowed),   b_j ≤ l_{i_j},
    finish  f_j = b_j + v_{i_j},      f_k + t(i_k, end_d) ≤ back_by_d,

and no attraction is visited on two days. The objective is max Σ s_i over visited attractions.
Two optional side constraints serve the named corridors: ``allowed[d, i]`` (attraction i may be
visited on day d) and ``rank[i]`` (ranks never decrease along a day's route: the cities of a
corridor in the named order).

Solvers:

* :func:`solve_exact` — dynamic programming over subsets with time feasibility, the label
  setting of Righini & Salani (2009, "Decremental state space relaxation strategies and
  initialization heuristics for solving the OPTW", C&OR 36, 1191–1203) without relaxation:
  F_d(S, j) = the earliest finish at j of a day-d route visiting exactly S and ending at j,
  F_d(S ∪ {k}, k) = min_j max(F_d(S, j) + t(j, k), e_k) + v_k subject to the window and the
  return (finish + t(k, end_d) ≤ back_by_d; the finish is non-decreasing in the departure, so
  the earliest label dominates). A subset S is feasible for day d when some F_d(S, j) is
  finite. Days are then combined exactly by G_d(M) = max over feasible S ⊆ M of
  s(S) + G_{d−1}(M \\ S). Exact; O(2^n n²) per day plus O(|feasible| 2^n) for the days; for
  n ≤ ``EXACT_LIMIT``.
* :func:`solve_ortools` — Google OR-Tools routing (``pywrapcp``): one vehicle per day with its
  own start and end depot, a time dimension with the visit minutes as service time (transit
  i→j = v_i + t(i, j)), opening windows on the start of service (repeated each day, the nights
  removed), day windows on the vehicles, optional attractions as disjunctions whose penalty is
  the score (scaled above any possible travel cost, so the score dominates and travel time
  breaks ties). Integer seconds: travel and visit rounded up, opening rounded up, latest start
  rounded down, so that every route OR-Tools accepts is feasible in minutes. The search is
  deterministic: path cheapest arc and, separately, local cheapest insertion, each followed
  by tabu search stopped by a number of solutions (``solution_limit``), the better kept. Tabu
  search was chosen because it reached the exact optimum on 40 of 40 random 9-attraction
  instances where guided local search missed 11; the second strategy because path cheapest
  arc alone stayed at the empty route on a random 40-attraction, 3-day instance. A
  wall-clock limit is only a safety, and its hit is reported (``status``). A heuristic: its
  result carries no optimality proof.

:func:`evaluate_route` times and scores any given routes; both solvers report through it.
"""

from __future__ import annotations

import math
import time as time_module
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

EXACT_LIMIT = 16
DAY = 1440.0


@dataclass(frozen=True)
class Day:
    """One day (a vehicle): start and end depots (0-based among the depots), departure time
    and the time to be back by (minutes after midnight)."""

    start: int
    end: int
    depart: float
    back_by: float


@dataclass(frozen=True)
class Instance:
    """An OPTW instance (module docstring). ``travel`` is (m, m) with the n attractions first
    and the depots after them; ``score``, ``visit``, ``opens``, ``closes`` are (n,)."""

    travel: np.ndarray
    score: np.ndarray
    visit: np.ndarray
    opens: np.ndarray
    closes: np.ndarray
    days: tuple[Day, ...]
    allowed: np.ndarray | None = None
    rank: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.score)

    def place(self, depot: int) -> int:
        """The place index of a depot."""
        return self.n + depot

    def may_visit(self, day: int) -> np.ndarray:
        if self.allowed is None:
            return np.ones(self.n, dtype=bool)
        return np.asarray(self.allowed[day], dtype=bool)

    def check(self) -> None:
        """Shape and value checks (a ``ValueError`` naming the array: the edges validate user
        input before building an instance)."""
        n, m = self.n, self.travel.shape[0]
        if self.travel.shape != (m, m) or m < n + 1:
            raise ValueError("travel must be square with the depots after the attractions")
        for name in ("visit", "opens", "closes"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} must have one entry per attraction")
        if not self.days:
            raise ValueError("at least one day is needed")
        for d in self.days:
            if not (0 <= d.start < m - n and 0 <= d.end < m - n):
                raise ValueError("a day's depots must be depot indices")
        if not np.isfinite(self.travel).all() or (self.travel < 0).any():
            raise ValueError("travel times must be finite and non-negative")


@dataclass(frozen=True)
class Stop:
    """A visit on a route: day, position (1-based), attraction, arrival, start and end of the
    visit (minutes after midnight), and the wait before the start."""

    day: int
    position: int
    node: int
    arrival: float
    start: float
    end: float

    @property
    def wait(self) -> float:
        return self.start - self.arrival


@dataclass(frozen=True)
class Solution:
    """Routes (one sequence of attraction indices per day), their score, the timed stops, the
    return time of each day, feasibility with the reasons of any infeasibility
    (``("window", day, node)``, ``("budget", day, -1)``, ``("repeat", day, node)``,
    ``("not_allowed", day, node)``, ``("rank", day, node)``), the method and its status."""

    routes: tuple[tuple[int, ...], ...]
    score: float
    stops: tuple[Stop, ...]
    returns: tuple[float, ...]
    feasible: bool
    problems: tuple[tuple[str, int, int], ...] = ()
    method: str = "given"
    status: str = ""
    optimal: bool = False
    extra: dict[str, float] = field(default_factory=dict)


def evaluate_route(inst: Instance, routes: Sequence[Sequence[int]], *,
                   method: str = "given", status: str = "",
                   optimal: bool = False) -> Solution:
    """Time and score ``routes`` (one sequence per day) by the recurrences of the module
    docstring; every violated constraint is listed in ``problems`` (the timing goes on after
    a violation so that the whole route is shown). The score counts each attraction once."""
    if len(routes) != len(inst.days):
        raise ValueError("one route per day is needed")
    stops: list[Stop] = []
    returns: list[float] = []
    problems: list[tuple[str, int, int]] = []
    seen: set[int] = set()
    for d, (day, route) in enumerate(zip(inst.days, routes, strict=True)):
        may = inst.may_visit(d)
        here = inst.place(day.start)
        clock = day.depart
        last_rank = -math.inf
        for pos, node in enumerate(route, start=1):
            node = int(node)
            if not 0 <= node < inst.n:
                raise ValueError(f"{node} is not an attraction")
            if node in seen:
                problems.append(("repeat", d, node))
            seen.add(node)
            if not may[node]:
                problems.append(("not_allowed", d, node))
            if inst.rank is not None:
                if inst.rank[node] < last_rank:
                    problems.append(("rank", d, node))
                last_rank = max(last_rank, float(inst.rank[node]))
            arrival = clock + float(inst.travel[here, node])
            start = max(arrival, float(inst.opens[node]))
            if start > inst.closes[node] + 1e-9:
                problems.append(("window", d, node))
            end = start + float(inst.visit[node])
            stops.append(Stop(d, pos, node, arrival, start, end))
            here, clock = node, end
        back = clock + float(inst.travel[here, inst.place(day.end)])
        if back > day.back_by + 1e-9:
            problems.append(("budget", d, -1))
        returns.append(back)
    score = float(sum(float(inst.score[i]) for i in seen))
    return Solution(routes=tuple(tuple(int(i) for i in r) for r in routes), score=score,
                    stops=tuple(stops), returns=tuple(returns), feasible=not problems,
                    problems=tuple(problems), method=method, status=status, optimal=optimal)


# ---------------------------------------------------------------------- exact
def _day_labels(inst: Instance, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """F_d(S, j) (earliest finish), the predecessor of j in the best label, and the earliest
    return per subset (inf when S is infeasible for day d)."""
    n = inst.n
    day = inst.days[d]
    t = np.asarray(inst.travel, float)
    start, end = inst.place(day.start), inst.place(day.end)
    opens, closes = np.asarray(inst.opens, float), np.asarray(inst.closes, float)
    visit = np.asarray(inst.visit, float)
    may = inst.may_visit(d)
    rank = None if inst.rank is None else np.asarray(inst.rank, float)
    back_leg = t[:n, end]
    size = 1 << n
    finish = np.full((size, n), np.inf)
    pred = np.full((size, n), -1, dtype=np.int8 if n < 127 else np.int16)
    bits = 1 << np.arange(n)

    def extend(leave: np.ndarray) -> np.ndarray:
        """Finish at each k from a departure time per k (inf where impossible)."""
        begin = np.maximum(leave, opens)
        out = begin + visit
        ok = (begin <= closes + 1e-9) & (out + back_leg <= day.back_by + 1e-9) & may
        return np.where(ok, out, np.inf)

    first = extend(day.depart + t[start, :n])
    finish[bits, np.arange(n)] = first
    returns = np.full(size, np.inf)
    if day.depart + t[start, end] <= day.back_by + 1e-9:
        returns[0] = day.depart + t[start, end]
    tt = t[:n, :n]
    for s in range(1, size):
        row = finish[s]
        live = np.isfinite(row)
        if not live.any():
            continue
        returns[s] = float(np.min(row + back_leg))
        # arrival at k from each live j: (live j) × (all k)
        js = np.flatnonzero(live)
        leave = row[js][:, None] + tt[js, :]
        if rank is not None:
            leave = np.where(rank[None, :] >= rank[js][:, None], leave, np.inf)
        best_j = np.argmin(leave, axis=0)
        cand = extend(leave[best_j, np.arange(n)])
        cand[(s & bits) != 0] = np.inf
        for k in np.flatnonzero(np.isfinite(cand)):
            nxt = s | (1 << int(k))
            if cand[k] < finish[nxt, k]:
                finish[nxt, k] = cand[k]
                pred[nxt, k] = js[best_j[k]]
    return finish, pred, returns


def _order(finish: np.ndarray, pred: np.ndarray, back_leg: np.ndarray, subset: int) -> list[int]:
    if subset == 0:
        return []
    j = int(np.argmin(finish[subset] + back_leg))
    order = [j]
    s = subset
    while True:
        p = int(pred[s, j])
        s &= ~(1 << j)
        if p < 0:
            break
        order.append(p)
        j = p
    return order[::-1]


def solve_exact(inst: Instance) -> Solution:
    """The optimum by dynamic programming over subsets (module docstring). Among subsets of
    equal score the first found is kept; a day's order is the one returning earliest."""
    inst.check()
    n = inst.n
    if n > EXACT_LIMIT:
        raise ValueError(f"the exact solver handles at most {EXACT_LIMIT} attractions")
    size = 1 << n
    masks = np.arange(size)
    bits = 1 << np.arange(n)
    subset_score = ((masks[:, None] & bits[None, :]) != 0) @ np.asarray(inst.score, float)
    labels = [_day_labels(inst, d) for d in range(len(inst.days))]
    choice: list[np.ndarray] = []
    best = np.zeros(size)
    for d, (_finish, _pred, returns) in enumerate(labels):
        feasible = np.isfinite(returns)
        if d == 0:
            # G_1(M) = max over feasible S ⊆ M of s(S): a max over subsets, bit by bit
            g = np.where(feasible, subset_score, -np.inf)
            arg = np.where(feasible, masks, -1)
            for b in bits:
                has = (masks & b) != 0
                src = masks[has] ^ b
                better = g[src] > g[masks[has]] + 1e-12
                tgt = masks[has][better]
                g[tgt] = g[src[better]]
                arg[tgt] = arg[src[better]]
        else:
            g = np.full(size, -np.inf)
            arg = np.full(size, -1, dtype=np.int64)
            order = np.flatnonzero(feasible)
            order = order[np.argsort(-subset_score[order], kind="stable")]
            for s in order:
                sel = masks[(masks & s) == s]
                val = subset_score[s] + best[sel ^ s]
                better = val > g[sel] + 1e-12
                g[sel[better]] = val[better]
                arg[sel[better]] = s
        best = g
        choice.append(arg)
    routes: list[list[int]] = [[] for _ in inst.days]
    if not np.isfinite(best[size - 1]):
        # not even an empty day fits its window: say so through the evaluation
        return evaluate_route(inst, routes, method="exact", status="infeasible")
    mask = size - 1
    for d in range(len(inst.days) - 1, -1, -1):
        chosen = int(choice[d][mask])
        finish, pred, _ = labels[d]
        back_leg = inst.travel[:n, inst.place(inst.days[d].end)]
        routes[d] = _order(finish, pred, back_leg, chosen)
        mask ^= chosen
    return evaluate_route(inst, routes, method="exact", status="optimal", optimal=True)


# ---------------------------------------------------------------------- OR-Tools
SECONDS = 60


STRATEGIES = ("PATH_CHEAPEST_ARC", "LOCAL_CHEAPEST_INSERTION")


def solve_ortools(inst: Instance, *, solution_limit: int = 500,
                  safety_seconds: float = 20.0,
                  initial: Sequence[Sequence[int]] | None = None) -> Solution:
    """A route by OR-Tools routing (module docstring): one search per first-solution strategy
    of ``STRATEGIES`` (path cheapest arc fails to leave the empty route on some multi-day
    instances; local cheapest insertion is weaker on small ones), each followed by tabu search,
    the better kept (the first on a tie); ``initial`` (routes known to be feasible, e.g. an
    exact optimum over fewer attractions) is returned instead, with status ``initial``, when
    it scores more than both searches. ``status`` names the strategy kept and OR-Tools' own
    status (``ROUTING_SUCCESS`` …), with ``+safety_timeout`` when the wall-clock safety limit
    stopped that search before its solution limit."""
    inst.check()
    can = reachable(inst)  # an attraction no day can reach alone is left out of the model
    if not can.any():
        return evaluate_route(inst, [[] for _ in inst.days], method="ortools",
                              status="NO_ATTRACTION_REACHABLE")
    best: Solution | None = None
    for strategy in STRATEGIES:
        sol = _ortools_once(inst, strategy, can=can, solution_limit=solution_limit,
                            safety_seconds=safety_seconds)
        if best is None or sol.score > best.score + 1e-9:
            best = sol
    assert best is not None
    if initial is not None:
        given = evaluate_route(inst, initial, method="ortools", status="initial")
        if given.feasible and given.score > best.score + 1e-9:
            return given
    return best


def _ortools_once(inst: Instance, strategy: str, *, can: np.ndarray, solution_limit: int,
                  safety_seconds: float) -> Solution:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n, m = inst.n, inst.travel.shape[0]
    days = inst.days
    nv = len(days)
    travel = np.ceil(np.asarray(inst.travel, float) * SECONDS - 1e-6).astype(np.int64)
    visit = np.zeros(m, dtype=np.int64)
    visit[:n] = np.ceil(np.asarray(inst.visit, float) * SECONDS - 1e-6).astype(np.int64)
    day_s = int(DAY * SECONDS)
    # one node per depot use so that depots are never visitable; nodes: attractions, then a
    # start and an end node for each day (a copy of its depot place)
    places = list(range(n))
    starts, ends = [], []
    for day in days:
        starts.append(len(places))
        places.append(inst.place(day.start))
        ends.append(len(places))
        places.append(inst.place(day.end))
    pl = np.asarray(places)
    cost = travel[np.ix_(pl, pl)] + visit[pl][:, None]
    manager = pywrapcp.RoutingIndexManager(len(places), nv, starts, ends)
    routing = pywrapcp.RoutingModel(manager)
    # matrices by node (OR-Tools maps its indices to nodes): no Python callback in the search
    cb = routing.RegisterTransitMatrix(cost.tolist())
    horizon = nv * day_s
    routing.AddDimension(cb, horizon, horizon, False, "time")
    time = routing.GetDimensionOrDie("time")
    routing.SetArcCostEvaluatorOfAllVehicles(
        routing.RegisterTransitMatrix(travel[np.ix_(pl, pl)].tolist()))
    for v, day in enumerate(days):
        lo = v * day_s + math.ceil(day.depart * SECONDS - 1e-6)
        hi = v * day_s + math.floor(day.back_by * SECONDS + 1e-6)
        time.CumulVar(routing.Start(v)).SetRange(lo, hi)
        time.CumulVar(routing.End(v)).SetRange(lo, hi)
    opens = [math.ceil(float(x) * SECONDS - 1e-6) for x in inst.opens]
    closes = [math.floor(float(x) * SECONDS + 1e-6) for x in inst.closes]
    bound = int(travel.sum() + visit.sum() + 1)
    scores = np.asarray(inst.score, float)
    for i in range(n):
        idx = manager.NodeToIndex(i)
        var = time.CumulVar(idx)
        var.SetRange(opens[i], (nv - 1) * day_s + closes[i])
        for d in range(nv - 1):
            var.RemoveInterval(d * day_s + closes[i] + 1, (d + 1) * day_s + opens[i] - 1)
        allowed = [int(v) for v in range(nv) if can[v, i]]
        if not allowed:
            routing.solver().Add(routing.ActiveVar(idx) == 0)
        elif len(allowed) < nv:
            routing.VehicleVar(idx).SetValues([-1, *allowed])
        routing.AddDisjunction([idx], round(float(scores[i]) * 1000) * bound)
    if inst.rank is not None:
        for i in range(n):
            for j in range(n):
                if inst.rank[j] < inst.rank[i]:
                    routing.NextVar(manager.NodeToIndex(i)).RemoveValue(manager.NodeToIndex(j))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, strategy)
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.TABU_SEARCH)
    params.solution_limit = solution_limit
    params.time_limit.FromMilliseconds(int(safety_seconds * 1000))
    params.log_search = False
    began = time_module.perf_counter()
    found = routing.SolveWithParameters(params)
    status = strategy + ":" + routing_enums_pb2.RoutingSearchStatus.Value.Name(routing.status())
    if time_module.perf_counter() - began >= safety_seconds * 0.98:
        status += "+safety_timeout"
    routes: list[list[int]] = [[] for _ in days]
    if found is not None:
        for v in range(nv):
            idx = routing.Start(v)
            idx = found.Value(routing.NextVar(idx))
            while not routing.IsEnd(idx):
                routes[v].append(manager.IndexToNode(idx))
                idx = found.Value(routing.NextVar(idx))
    return evaluate_route(inst, routes, method="ortools", status=status)


def reachable(inst: Instance) -> np.ndarray:
    """(days, n): attraction i can be visited alone on day d (window, return and
    ``allowed``)."""
    out = np.zeros((len(inst.days), inst.n), dtype=bool)
    for d in range(len(inst.days)):
        for i in range(inst.n):
            routes: list[list[int]] = [[] for _ in inst.days]
            routes[d] = [i]
            sol = evaluate_route(inst, routes)
            out[d, i] = not [p for p in sol.problems if p[1] == d]
    return out
