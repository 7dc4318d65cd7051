"""结对帮扶 pairing: which helper unit helps which helped unit — the pure core (arrays in,
dataclasses out; no store, no files).

**The problem.** ``m`` helpers (rows ``i``) and ``n`` helped units (columns ``j``); a benefit
``b_ij`` (points of the evaluation's dimension scores, :func:`benefit_matrix`) and a travel time
``t_ij`` (minutes over the regional network). A pairing ``x_ij ∈ {0, 1}`` maximises

    z(x) = Σ_ij x_ij · (b_ij − λ · t_ij / 60)

subject to ``Σ_j x_ij ≤ cap_i`` (each helper takes at most its capacity),
``Σ_i x_ij = need_j`` (each helped unit gets exactly its number of helpers) and ``x_ij = 0`` for
a forbidden pair. ``λ`` (``time_weight``) is in benefit points per hour of travel between the
paired units: the benefit a helper must bring to be worth one more hour of travel. The default
``λ = 2`` (:data:`TIME_WEIGHT`) is a policy choice, not an estimate: one hour of travel costs as
much as a two-point advantage in a dimension the helped unit is weakest in; with it, on the
Chengdu–Chongqing prefectures (benefits of ~5–35 points, times of 1–6 hours) the benefit decides
and time breaks near-ties. ``λ = 0`` ignores distance; a large ``λ`` pairs neighbours.

This is a generalised assignment / transportation problem with unit profits (a b-matching on a
bipartite graph); it is solved exactly as a 0–1 integer programme by HiGHS through
:func:`scipy.optimize.milp` (:func:`solve_pairing`), and checked in the tests against two
independent references: :func:`brute_force_pairing`, the enumeration of every feasible
assignment (small cases), and :func:`assignment_pairing`, the same problem with one helper per
helped unit as a rectangular assignment problem over capacity slots solved by
:func:`scipy.optimize.linear_sum_assignment` (large cases). Infeasible inputs —
total capacity below total need, or a helped unit with fewer allowed helpers than it needs — are
found before the solver and said with the amounts; any other infeasibility (forbidden pairs that
leave too few helpers for a group of helped units, Hall's condition) is reported by the solver
and said too.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cocity.i18n import t
from cocity.plan.errors import PlanInputError

Counts = int | Sequence[int] | np.ndarray  # one number for all, or one per unit
TIME_WEIGHT = 2.0  # benefit points per hour of travel (see the module docstring)
BRUTE_LIMIT = 5_000_000  # assignments brute_force_pairing enumerates at most


@dataclass(frozen=True)
class Pairing:
    """An assignment: ``x`` (helpers × helped, bool), the pairs ``(i, j)`` in row-major order,
    the objective ``z`` and its parts — ``benefit`` Σ x b and ``minutes`` Σ x t — and each
    helper's ``load`` (number of helped units)."""

    x: np.ndarray
    objective: float
    benefit: float
    minutes: float
    time_weight: float

    @property
    def pairs(self) -> list[tuple[int, int]]:
        return [(int(i), int(j)) for i, j in zip(*np.nonzero(self.x), strict=True)]

    @property
    def load(self) -> np.ndarray:
        return self.x.sum(axis=1).astype(int)


@dataclass(frozen=True)
class PairingScore:
    """A given assignment scored on the objective of :func:`solve_pairing`: the
    :class:`Pairing` and whether it keeps the constraints (``problems``: what it breaks, in
    the user's language; empty when ``feasible``)."""

    pairing: Pairing
    problems: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        return not self.problems


def _names(names: Sequence[str] | None, k: int, prefix: str) -> list[str]:
    if names is None:
        return [f"{prefix}{i + 1}" for i in range(k)]
    if len(names) != k:
        raise PlanInputError(t("plan.pair.err.names", expected=k, got=len(names)))
    return [str(x) for x in names]


def _counts(value: Counts, k: int, what: str,
            names: list[str]) -> np.ndarray:
    """``value`` as k non-negative integers (one number for all, or one each)."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(k, float(arr))
    if arr.shape != (k,):
        raise PlanInputError(t("plan.pair.err.count_shape", what=t(f"plan.pair.what.{what}"),
                               expected=k,
                               got=arr.size))
    bad = [f"{names[i]}={arr[i]:g}" for i in range(k)
           if not np.isfinite(arr[i]) or arr[i] < 0 or arr[i] != np.round(arr[i])]
    if bad:
        raise PlanInputError(t("plan.pair.err.count_value", what=t(f"plan.pair.what.{what}"),
                               values=", ".join(bad)))
    return arr.astype(int)


@dataclass(frozen=True)
class _Problem:
    profit: np.ndarray
    benefit: np.ndarray
    minutes: np.ndarray
    capacity: np.ndarray
    need: np.ndarray
    allowed: np.ndarray
    helpers: list[str]
    helped: list[str]
    time_weight: float


def _problem(benefit: np.ndarray, minutes: np.ndarray, *, capacity: Counts, need: Counts,
             time_weight: float, allowed: np.ndarray | None,
             names: tuple[Sequence[str], Sequence[str]] | None) -> _Problem:
    b = np.asarray(benefit, dtype=float)
    tm = np.asarray(minutes, dtype=float)
    if b.ndim != 2 or tm.shape != b.shape:
        raise PlanInputError(t("plan.pair.err.shape", benefit=str(b.shape),
                               minutes=str(tm.shape)))
    m, n = b.shape
    helpers = _names(names[0] if names else None, m, "H")
    helped = _names(names[1] if names else None, n, "U")
    for what, arr in (("benefit", b), ("minutes", tm)):
        bad = [f"{helpers[i]}→{helped[j]}" for i, j in zip(*np.nonzero(~np.isfinite(arr)),
                                                             strict=True)]
        if bad:
            raise PlanInputError(t("plan.pair.err.not_finite", what=what,
                                   pairs=", ".join(bad[:10])))
    if (tm < 0).any():
        i, j = np.argwhere(tm < 0)[0]
        raise PlanInputError(t("plan.pair.err.negative_minutes", pair=f"{helpers[i]}→{helped[j]}",
                               value=f"{tm[i, j]:g}"))
    if not np.isfinite(time_weight) or time_weight < 0:
        raise PlanInputError(t("plan.pair.err.time_weight", value=time_weight))
    cap = _counts(capacity, m, "capacity", helpers)
    nd = _counts(need, n, "need", helped)
    ok = np.ones((m, n), bool) if allowed is None else np.asarray(allowed, dtype=bool)
    if ok.shape != (m, n):
        raise PlanInputError(t("plan.pair.err.allowed_shape", expected=f"({m}, {n})",
                               got=str(ok.shape)))
    if cap.sum() < nd.sum():
        raise PlanInputError(t("plan.pair.err.capacity_total", capacity=int(cap.sum()),
                               need=int(nd.sum()), short=int(nd.sum() - cap.sum())))
    usable = ok & (cap[:, None] > 0)  # allowed, with a helper that has any capacity
    short = [t("plan.pair.err.short", unit=helped[j], need=int(nd[j]),
               allowed=int(usable[:, j].sum())) for j in range(n) if usable[:, j].sum() < nd[j]]
    if short:
        raise PlanInputError(t("plan.pair.err.no_helper", units="; ".join(short)))
    profit = b - time_weight * tm / 60.0
    return _Problem(profit, b, tm, cap, nd, ok, helpers, helped, float(time_weight))


def _result(x: np.ndarray, p: _Problem) -> Pairing:
    x = np.asarray(x, dtype=bool)
    return Pairing(x=x, objective=float(p.profit[x].sum()), benefit=float(p.benefit[x].sum()),
                   minutes=float(p.minutes[x].sum()), time_weight=p.time_weight)


def solve_pairing(benefit: np.ndarray, minutes: np.ndarray, *,
                  capacity: Counts = 2, need: Counts = 1,
                  time_weight: float = TIME_WEIGHT, allowed: np.ndarray | None = None,
                  names: tuple[Sequence[str], Sequence[str]] | None = None) -> Pairing:
    """The optimal pairing (module docstring): max Σ x_ij (b_ij − λ t_ij / 60) s.t.
    Σ_j x_ij ≤ cap_i, Σ_i x_ij = need_j, x binary, x_ij = 0 where ``allowed`` is False.

    ``benefit`` and ``minutes``: helpers × helped arrays; ``capacity`` and ``need``: one
    integer for all or one per helper / helped unit; ``time_weight`` λ in benefit points per
    hour; ``names``: (helper names, helped names) for the messages. Exact: HiGHS
    branch-and-bound through :func:`scipy.optimize.milp` with a zero relative gap (the
    constraint matrix is totally unimodular, so the LP relaxation is already integral).
    HiGHS's MIP presolve is switched off: on this structure it costs far more than it saves
    (50 × 500: ~25 s with it, under 1 s without; ``benchmarks/bench_pairing.py``). An
    infeasible problem is a :class:`~cocity.plan.errors.PlanInputError` saying why."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    p = _problem(benefit, minutes, capacity=capacity, need=need, time_weight=time_weight,
                 allowed=allowed, names=names)
    m, n = p.profit.shape
    var = np.arange(m * n).reshape(m, n)  # x_ij is variable i·n + j
    rows = np.concatenate([np.repeat(np.arange(m), n), m + np.tile(np.arange(n), m)])
    cols = np.concatenate([var.ravel(), var.ravel()])
    a = coo_array((np.ones(2 * m * n), (rows, cols)), shape=(m + n, m * n)).tocsr()
    lower = np.concatenate([np.zeros(m), p.need])
    upper = np.concatenate([p.capacity, p.need]).astype(float)
    res = milp(c=-p.profit.ravel(), integrality=np.ones(m * n),
               bounds=Bounds(np.zeros(m * n), p.allowed.ravel().astype(float)),
               constraints=LinearConstraint(a, lower, upper),
               options={"mip_rel_gap": 0.0, "presolve": False})
    if res.status == 2:  # infeasible: the forbidden pairs leave too few helpers (Hall)
        raise PlanInputError(t("plan.pair.err.infeasible"))
    if res.status != 0 or res.x is None:
        raise PlanInputError(t("plan.pair.err.solver", message=str(res.message)))
    return _result(np.round(res.x).reshape(m, n) > 0.5, p)


def evaluate_pairing(benefit: np.ndarray, minutes: np.ndarray,
                     pairs: Sequence[tuple[int, int]], *,
                     capacity: Counts = 2, need: Counts = 1,
                     time_weight: float = TIME_WEIGHT, allowed: np.ndarray | None = None,
                     names: tuple[Sequence[str], Sequence[str]] | None = None) -> PairingScore:
    """A given assignment (``pairs`` of (helper row, helped column)) on the objective of
    :func:`solve_pairing`, with what it breaks: a helper over its capacity, a helped unit with
    more or fewer helpers than it needs, a forbidden or repeated pair."""
    p = _problem(benefit, minutes, capacity=capacity, need=need, time_weight=time_weight,
                 allowed=allowed, names=names)
    m, n = p.profit.shape
    x = np.zeros((m, n), bool)
    problems: list[str] = []
    for i, j in pairs:
        if not (0 <= i < m and 0 <= j < n):
            raise PlanInputError(t("plan.pair.err.pair_index", pair=f"({i}, {j})",
                                   shape=f"{m} × {n}"))
        if x[i, j]:
            problems.append(t("plan.pair.bad.repeated", pair=f"{p.helpers[i]}→{p.helped[j]}"))
        if not p.allowed[i, j]:
            problems.append(t("plan.pair.bad.forbidden", pair=f"{p.helpers[i]}→{p.helped[j]}"))
        x[i, j] = True
    load = x.sum(axis=1)
    got = x.sum(axis=0)
    problems += [t("plan.pair.bad.over", helper=p.helpers[i], load=int(load[i]),
                   capacity=int(p.capacity[i])) for i in range(m) if load[i] > p.capacity[i]]
    problems += [t("plan.pair.bad.need", unit=p.helped[j], got=int(got[j]), need=int(p.need[j]))
                 for j in range(n) if got[j] != p.need[j]]
    return PairingScore(_result(x, p), tuple(problems))


def brute_force_pairing(benefit: np.ndarray, minutes: np.ndarray, *,
                        capacity: Counts = 2, need: Counts = 1,
                        time_weight: float = TIME_WEIGHT, allowed: np.ndarray | None = None,
                        limit: int = BRUTE_LIMIT) -> Pairing:
    """The optimum by enumeration — the independent reference of :func:`solve_pairing`: every
    choice of ``need_j`` allowed helpers for each helped unit (the product over j of the
    combinations), the capacities checked, the best objective kept (the first found on ties).
    Refuses more than ``limit`` assignments."""
    p = _problem(benefit, minutes, capacity=capacity, need=need, time_weight=time_weight,
                 allowed=allowed, names=None)
    m, n = p.profit.shape
    choices = [list(itertools.combinations(np.flatnonzero(p.allowed[:, j]).tolist(),
                                           int(p.need[j]))) for j in range(n)]
    total = int(np.prod([len(c) for c in choices], dtype=float))
    if total > limit:
        raise PlanInputError(t("plan.pair.err.brute_limit", count=total, limit=limit))
    best: np.ndarray | None = None
    best_z = -np.inf
    for combo in itertools.product(*choices):
        load = np.zeros(m, int)
        z = 0.0
        for j, helpers in enumerate(combo):
            for i in helpers:
                load[i] += 1
                z += p.profit[i, j]
        if (load <= p.capacity).all() and z > best_z + 1e-12:
            best_z = z
            best = np.zeros((m, n), bool)
            for j, helpers in enumerate(combo):
                best[list(helpers), j] = True
    if best is None:
        raise PlanInputError(t("plan.pair.err.infeasible"))
    return _result(best, p)


def benefit_matrix(helper_scores: np.ndarray, helped_scores: np.ndarray,
                   weights: np.ndarray) -> np.ndarray:
    """``b_ij = Σ_d w_jd · max(0, s_id − s_jd)``: helper i's advantage over helped unit j in
    each dimension d of the evaluation (dimension scores ``s`` on 0–100), weighted by how much
    of j's shortfall lies in d (``w_jd ≥ 0``, Σ_d w_jd = 1: j's obstacle degrees summed over
    the indicators of d, as shares; :func:`dimension_weights`). A helper is worth nothing in a
    dimension where it is not ahead, and most where the helped unit's obstacles are. Shapes:
    (m, D), (n, D), (n, D) → (m, n), in score points."""
    s_h = np.asarray(helper_scores, dtype=float)
    s_u = np.asarray(helped_scores, dtype=float)
    w = np.asarray(weights, dtype=float)
    gap = np.maximum(0.0, s_h[:, None, :] - s_u[None, :, :])
    return np.asarray(np.einsum("ijd,jd->ij", gap, w))


def dimension_weights(obstacles: np.ndarray, dimension_of: Sequence[int],
                      n_dimensions: int) -> np.ndarray:
    """``w_jd = Σ_{k∈d} O_jk / Σ_k O_jk``: the share of unit j's obstacle degree (``O``,
    units × indicators, in %, :func:`cocity.index.obstacles.obstacle_degree`) that falls in
    dimension d (``dimension_of[k]``: the dimension of indicator k). A unit with no obstacle
    at all gets equal weights."""
    o = np.nan_to_num(np.asarray(obstacles, dtype=float), nan=0.0)
    o = np.maximum(o, 0.0)
    w = np.zeros((o.shape[0], n_dimensions))
    for k, d in enumerate(dimension_of):
        w[:, d] += o[:, k]
    total = w.sum(axis=1, keepdims=True)
    return np.where(total > 0, w / np.where(total > 0, total, 1.0), 1.0 / n_dimensions)


def expected_fixes(helper_values: np.ndarray, helped_values: np.ndarray,
                   helped_obstacles: np.ndarray, *, top: int = 3) -> list[tuple[int, float]]:
    """What one pair is expected to fix: the helped unit's indicators k with an obstacle
    (``O_k > 0``) where the helper is ahead on the normalised 0–100 scale, ranked by
    ``O_k · (v_helper,k − v_helped,k)`` (the obstacle weighted by the helper's lead); the
    ``top`` first as (indicator position, that product)."""
    h = np.asarray(helper_values, dtype=float)
    u = np.asarray(helped_values, dtype=float)
    o = np.nan_to_num(np.asarray(helped_obstacles, dtype=float), nan=0.0)
    lead = np.nan_to_num(h - u, nan=0.0)
    score = np.where((o > 0) & (lead > 0), o * lead, 0.0)
    order = [int(k) for k in np.argsort(-score, kind="stable") if score[k] > 0]
    return [(k, float(score[k])) for k in order[:top]]


def assignment_pairing(benefit: np.ndarray, minutes: np.ndarray, *,
                       capacity: Counts = 2, time_weight: float = TIME_WEIGHT,
                       allowed: np.ndarray | None = None) -> Pairing:
    """The optimum when every helped unit needs one helper, by a different exact method — the
    second independent reference of :func:`solve_pairing`, fast enough for large instances:
    each helper i is copied into ``cap_i`` slots and the rectangular assignment problem
    (helped units × slots, maximise Σ profit) is solved by
    :func:`scipy.optimize.linear_sum_assignment` (Crouse's shortest augmenting path, a
    Jonker–Volgenant variant). Forbidden pairs get a profit so low that no optimum uses them
    unless the problem is infeasible, which is then said."""
    from scipy.optimize import linear_sum_assignment

    p = _problem(benefit, minutes, capacity=capacity, need=1, time_weight=time_weight,
                 allowed=allowed, names=None)
    slots = np.repeat(np.arange(p.profit.shape[0]), p.capacity)
    span = float(np.abs(p.profit).max()) if p.profit.size else 0.0
    forbidden = -(span + 1.0) * (p.profit.shape[1] + 1)
    gain = np.where(p.allowed, p.profit, forbidden)[slots].T  # helped × slots
    rows, cols = linear_sum_assignment(gain, maximize=True)
    x = np.zeros(p.profit.shape, bool)
    x[slots[cols], rows] = True
    if (x & ~p.allowed).any():
        raise PlanInputError(t("plan.pair.err.infeasible"))
    return _result(x, p)
