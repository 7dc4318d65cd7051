"""Cost sharing among the members of a shared project: a cost game and its allocation rules.

A **cost game** on ``n`` players is an array ``costs`` of length ``2**n`` indexed by bitmask:
``costs[S]`` is what coalition ``S`` (player ``i`` is in ``S`` when bit ``i`` of ``S`` is
set) would pay to carry out the project on its own; ``costs[0] = 0`` and ``costs[2**n - 1]
= c(N)`` is the cost of the project shared by all. Every rule returns one
:class:`Allocation` (shares ``x`` with ``Σ x_i = c(N)``, the rule's name, optional 95 %
confidence bounds) and :func:`in_core` checks any allocation against every coalition.

Rules (formulas in each docstring):

- :func:`shapley` — the exact Shapley value (Shapley 1953), vectorised over bitmasks
  (``n ≤ 20``); :func:`shapley_sampled` — the permutation-sampling estimate with 95 %
  confidence intervals for larger games (Castro, Gómez & Tejada 2009).
- :func:`nucleolus` — Schmeidler's (1969) nucleolus on the imputation set, by the sequential
  linear programmes of Maschler, Peleg & Shapley (1979) in Kopelowitz's (1967) scheme.
- :func:`scrb` — separable costs, remaining benefits (James & Lee 1971; Young, Okada &
  Hashimoto 1982).
- :func:`proportional` — shares in proportion to a weight (population, any vector) or, by
  default, to the stand-alone costs ``c({i})``.
- :func:`in_core`, :func:`core_nonempty` — the core ``{x : x(N) = c(N), x(S) ≤ c(S) ∀S}``
  (Gillies 1959) and the Bondareva–Shapley linear programme.

Checked (``tests/test_plan_share_rules.py``) against: the airport game's closed form
(Littlechild & Owen 1973: the Shapley value shares each cost increment equally among those who
need it); the published nucleolus example of Ferguson, *Game Theory*, Part IV (coalitional
games) — v = (−1, 0, 1, 3, 4, 2, 5) on {1},{2},{3},{12},{13},{23},{123}, nucleolus
(8/3, 2/3, 5/3), as used in the tests of the R package CoopGame; the Shapley example of the R
package GameTheoryAllocation (``Shapley_value``: cost game (1, 1, 2, 1, 2, 2, 2) → (1/3, 1/3,
4/3)); and the independent Rust implementation ``coopgame-py`` 0.3.0 (``shapley``,
``cost_nucleolus``, ``airport``) on identical games. The TVA game (Straffin & Heaney 1981) and
the Swedish municipalities game (Young, Okada & Hashimoto 1982) are not among the references:
their coalition costs were not found in a source at hand.

Pure: arrays in, dataclasses out; no store, no files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import factorial

import numpy as np

from cocity.i18n import t
from cocity.plan.errors import PlanInputError

MAX_EXACT = 20
MAX_NUCLEOLUS = 16
TOL = 1e-7
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Allocation:
    """Shares ``x`` (one per player, ``Σ x = c(N)``) by rule ``method``; ``low``/``high`` are
    95 % confidence bounds when the rule is an estimate (``None`` when exact)."""

    method: str
    shares: np.ndarray
    low: np.ndarray | None = None
    high: np.ndarray | None = None

    @property
    def exact(self) -> bool:
        return self.low is None


@dataclass(frozen=True)
class CoreCheck:
    """Whether ``x`` is in the core: ``efficient`` (``|x(N) − c(N)|`` within tolerance) and
    ``min_excess`` = min over proper coalitions of ``c(S) − x(S)`` (≥ 0 for a core allocation),
    attained by ``coalition`` (a bitmask; ``members`` its players)."""

    in_core: bool
    efficient: bool
    min_excess: float
    coalition: int
    members: tuple[int, ...]


# ---------------------------------------------------------------------- game helpers
def players(costs: np.ndarray) -> int:
    """The number of players ``n`` of a game of ``2**n`` coalition costs (checked: a power of
    two, ``n ≥ 1``, every cost finite, ``costs[0] = 0``)."""
    costs = np.asarray(costs, dtype=float)
    size = costs.shape[0] if costs.ndim == 1 else 0
    n = size.bit_length() - 1
    if costs.ndim != 1 or size < 2 or size != 1 << n:
        raise PlanInputError(t("plan.share.err.game_size", size=size))
    if not np.isfinite(costs).all():
        bad = [members_label(int(s)) for s in np.flatnonzero(~np.isfinite(costs))[:10]]
        raise PlanInputError(t("plan.share.err.not_finite", coalitions=", ".join(bad)))
    if abs(costs[0]) > TOL:
        raise PlanInputError(t("plan.share.err.empty_cost", cost=costs[0]))
    return n


def members(mask: int) -> tuple[int, ...]:
    """The players of bitmask ``mask``."""
    return tuple(i for i in range(mask.bit_length()) if mask >> i & 1)


def members_label(mask: int) -> str:
    return "{" + ",".join(str(i + 1) for i in members(mask)) + "}"


def popcounts(n: int) -> np.ndarray:
    """``|S|`` for every bitmask ``S < 2**n``."""
    sizes = np.zeros(1, dtype=np.int64)
    for _ in range(n):
        sizes = np.concatenate([sizes, sizes + 1])
    return sizes


def subset_sums(x: np.ndarray) -> np.ndarray:
    """``x(S) = Σ_{i∈S} x_i`` for every bitmask ``S < 2**len(x)`` (built by doubling)."""
    sums = np.zeros(1)
    for v in np.asarray(x, dtype=float):
        sums = np.concatenate([sums, sums + v])
    return sums


def incidence(n: int) -> np.ndarray:
    """The ``2**n × n`` 0/1 matrix of membership (row ``S``, column ``i``)."""
    masks = np.arange(1 << n, dtype=np.int64)
    return ((masks[:, None] >> np.arange(n)[None, :]) & 1).astype(float)


def airport_game(requirements: Sequence[float]) -> np.ndarray:
    """The airport game of Littlechild & Owen (1973): ``c(S) = max_{i∈S} r_i`` (a runway long
    enough for the most demanding member of ``S`` serves them all)."""
    r = np.asarray(requirements, dtype=float)
    costs = np.zeros(1 << len(r))
    for i, v in enumerate(r):
        lo = 1 << i
        costs[lo:2 * lo] = np.maximum(costs[:lo], v)
    return costs


# ---------------------------------------------------------------------- Shapley
def shapley(costs: np.ndarray) -> Allocation:
    """The exact Shapley value (Shapley 1953):

        φ_i = Σ_{S ⊆ N∖{i}} |S|! (n − |S| − 1)! / n! · (c(S ∪ {i}) − c(S)),

    each player's marginal cost averaged over all orders of arrival. Vectorised: for player
    ``i`` the costs are viewed as a ``(2**(n−1−i), 2, 2**i)`` array whose two middle slices
    are the coalitions without and with ``i`` in the same order, so the sum is one NumPy
    expression over views (``O(n 2**n)`` operations, ``n ≤ 20``)."""
    costs = np.asarray(costs, dtype=float)
    n = players(costs)
    if n > MAX_EXACT:
        raise PlanInputError(t("plan.share.err.too_many_exact", n=n, max=MAX_EXACT))
    weights = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)])
    sizes = popcounts(n)
    phi = np.empty(n)
    for i in range(n):
        # bitmasks as (high bits, bit i, low bits): [:, 0, :] lacks i, [:, 1, :] adds it
        shaped = costs.reshape(-1, 2, 1 << i)
        size = sizes.reshape(-1, 2, 1 << i)[:, 0, :]
        phi[i] = float((weights[size] * (shaped[:, 1, :] - shaped[:, 0, :])).sum())
    return Allocation("shapley", phi)


def shapley_sampled(cost_fn: Callable[[tuple[int, ...]], float], n: int, *, samples: int,
                    seed: int) -> Allocation:
    """The Shapley value estimated by permutation sampling (Castro, Gómez & Tejada 2009): for
    ``samples`` orders π drawn uniformly at random, player ``i``'s marginal cost
    ``c(P_i^π ∪ {i}) − c(P_i^π)`` (``P_i^π``: the players before ``i``); the estimate is the
    mean and the 95 % interval ``mean ± 1.96 · sd / √samples`` per player (normal
    approximation). Each order costs ``n`` calls of ``cost_fn(members)``. The orders come
    from ``numpy.random.SeedSequence(seed).spawn(1)``. Each order's marginal costs sum to
    ``c(N)`` exactly, so the estimate is efficient without rescaling."""
    if samples < 2:
        raise PlanInputError(t("plan.share.err.samples", samples=samples))
    if n < 1:
        raise PlanInputError(t("plan.share.err.game_size", size=n))
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    marg = np.empty((samples, n))
    for k in range(samples):
        order = rng.permutation(n)
        before = 0.0
        prefix: list[int] = []
        for i in order:
            prefix.append(int(i))
            now = float(cost_fn(tuple(sorted(prefix))))
            marg[k, i] = now - before
            before = now
    mean = marg.mean(axis=0)
    half = Z95 * marg.std(axis=0, ddof=1) / np.sqrt(samples)
    return Allocation("shapley_sampled", mean, low=mean - half, high=mean + half)


# ---------------------------------------------------------------------- nucleolus
def nucleolus(costs: np.ndarray) -> Allocation:
    """The nucleolus (Schmeidler 1969) of the cost game on its imputation set
    ``I = {x : x(N) = c(N), x_i ≤ c({i})}``: the ``x`` in ``I`` that lexicographically
    maximises the vector of excesses ``e(S, x) = c(S) − x(S)`` (what each coalition saves
    against going alone) sorted from the smallest, over every coalition ``∅ ≠ S ≠ N``.

    Variant: the sequential linear programmes of Maschler, Peleg & Shapley (1979) in the
    scheme of Kopelowitz (1967). Stage ``k`` solves

        max ε  s.t.  x(S) + ε ≤ c(S)       for the coalitions not yet fixed,
                     x(S) = c(S) − ε_j     for the coalitions fixed at stage j < k,
                     x(N) = c(N),  x_i ≤ c({i}),

    with HiGHS (``scipy.optimize.linprog``); the coalitions whose dual price is positive are
    tight in every optimal solution (complementary slackness) and are fixed at ``ε_k``; a
    coalition whose membership vector is a combination of the fixed ones and ``N`` has a
    constant excess and leaves the programme. Each stage adds a vector independent of the
    fixed ones, so at most ``n`` stages determine ``x``. ``n ≤ 16`` (``2**n`` constraints).
    An empty imputation set (``Σ c({i}) < c(N)``: sharing costs more than everyone alone) is
    refused."""
    from scipy.optimize import linprog

    costs = np.asarray(costs, dtype=float)
    n = players(costs)
    if n > MAX_NUCLEOLUS:
        raise PlanInputError(t("plan.share.err.too_many_nucleolus", n=n, max=MAX_NUCLEOLUS))
    full = (1 << n) - 1
    single = costs[[1 << i for i in range(n)]]
    scale = max(1.0, float(np.abs(costs).max()))
    c = costs / scale
    if single.sum() / scale < c[full] - TOL:
        raise PlanInputError(t("plan.share.err.no_imputation", standalone=f"{single.sum():.6g}",
                               total=f"{costs[full]:.6g}"))
    if n == 1:
        return Allocation("nucleolus", np.array([costs[full]]))
    inc = incidence(n)
    free = list(range(1, full))  # coalitions whose excess is still to be settled
    fixed_rows: list[np.ndarray] = [inc[full]]
    fixed_rhs: list[float] = [float(c[full])]
    bounds = [(None, float(v)) for v in single / scale] + [(None, None)]
    x = np.zeros(n)
    for _stage in range(n + 1):
        basis = np.array(fixed_rows)
        a_ub = np.hstack([inc[free], np.ones((len(free), 1))])
        a_eq = np.hstack([basis, np.zeros((len(basis), 1))])
        res = linprog(np.r_[np.zeros(n), -1.0], A_ub=a_ub, b_ub=c[free], A_eq=a_eq,
                      b_eq=np.array(fixed_rhs), bounds=bounds, method="highs")
        if res.status != 0:
            raise PlanInputError(t("plan.share.err.lp", message=str(res.message)))
        eps = float(res.x[n])
        x = res.x[:n]
        duals = -np.asarray(res.ineqlin.marginals)
        for s in (s for s, d in zip(free, duals, strict=True) if d > 1e-9):
            if _independent(np.array(fixed_rows), inc[[s]])[0]:
                fixed_rows.append(inc[s])
                fixed_rhs.append(float(c[s]) - eps)
        keep = _independent(np.array(fixed_rows), inc[free])
        free = [s for s, k in zip(free, keep, strict=True) if k]
        if not free:
            break
    basis = np.array(fixed_rows)
    if np.linalg.matrix_rank(basis) == n:
        x = np.linalg.lstsq(basis, np.array(fixed_rhs), rcond=None)[0]
    return Allocation("nucleolus", x * scale)


def _independent(basis: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each of ``rows``: whether it lies outside the row space of ``basis`` (its residual
    after projection on an orthonormal basis of that space is not zero)."""
    u, sv, _ = np.linalg.svd(basis.T, full_matrices=False)
    q = u[:, sv > 1e-9 * max(1.0, float(sv.max()))]
    resid = rows - (rows @ q) @ q.T
    return np.linalg.norm(resid, axis=1) > 1e-7


# ---------------------------------------------------------------------- SCRB, proportional
def scrb(costs: np.ndarray, *,
         benefits: Sequence[float] | np.ndarray | None = None) -> Allocation:
    """Separable costs, remaining benefits (James & Lee 1971; Young, Okada & Hashimoto 1982):

        s_i = c(N) − c(N ∖ {i})                   separable (marginal) cost,
        r_i = min(b_i, c({i})) − s_i              remaining benefit,
        x_i = s_i + r_i / Σ_j r_j · (c(N) − Σ_j s_j),

    the non-separable cost shared in proportion to the remaining benefits. ``b_i`` is player
    i's benefit (default: none given, so the alternative cost ``c({i})`` caps it). Refused
    when a remaining benefit is negative (the player's separable cost exceeds what it would
    pay alone) or all are zero while a non-separable cost remains."""
    costs = np.asarray(costs, dtype=float)
    n = players(costs)
    full = (1 << n) - 1
    sep = np.array([costs[full] - costs[full & ~(1 << i)] for i in range(n)])
    alone = costs[[1 << i for i in range(n)]]
    cap = alone if benefits is None else np.minimum(np.asarray(benefits, dtype=float), alone)
    rem = cap - sep
    scale = max(1.0, float(np.abs(costs).max()))
    bad = [i + 1 for i in np.flatnonzero(rem < -TOL * scale)]
    if bad:
        raise PlanInputError(t("plan.share.err.scrb_negative",
                               players=", ".join(map(str, bad))))
    rem = np.clip(rem, 0.0, None)
    joint = float(costs[full] - sep.sum())
    if rem.sum() <= TOL * scale:
        if abs(joint) > TOL * scale:
            raise PlanInputError(t("plan.share.err.scrb_zero", joint=f"{joint:.6g}"))
        return Allocation("scrb", sep)
    return Allocation("scrb", sep + rem / rem.sum() * joint)


def proportional(costs: np.ndarray, *, weights: Sequence[float] | np.ndarray | None = None,
                 name: str = "standalone") -> Allocation:
    """Shares of ``c(N)`` in proportion to ``weights`` (``x_i = w_i / Σ w · c(N)``): by
    population, by any non-negative weight vector, or — ``weights=None`` — by the stand-alone
    costs ``c({i})``. The method is named ``proportional_<name>``."""
    costs = np.asarray(costs, dtype=float)
    n = players(costs)
    w = costs[[1 << i for i in range(n)]] if weights is None else np.asarray(weights, float)
    if w.shape != (n,) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise PlanInputError(t("plan.share.err.weights", name=name, n=n))
    return Allocation(f"proportional_{name}", w / w.sum() * costs[(1 << n) - 1])


# ---------------------------------------------------------------------- the core
def in_core(costs: np.ndarray, x: Sequence[float] | np.ndarray, *,
            tol: float = 1e-6) -> CoreCheck:
    """Whether ``x`` is in the core: ``x(N) = c(N)`` and ``x(S) ≤ c(S)`` for every coalition
    (no group pays more than it would alone). ``min_excess`` is ``min_S c(S) − x(S)`` over
    ``∅ ≠ S ≠ N`` and ``coalition`` the most violated (or least slack) one; tolerances are
    relative to the largest cost."""
    costs = np.asarray(costs, dtype=float)
    n = players(costs)
    xs = np.asarray(x, dtype=float)
    if xs.shape != (n,):
        raise PlanInputError(t("plan.share.err.allocation_size", got=xs.size, n=n))
    full = (1 << n) - 1
    scale = max(1.0, float(np.abs(costs).max()))
    sums = subset_sums(xs)
    efficient = abs(sums[full] - costs[full]) <= tol * scale
    if n == 1:
        return CoreCheck(efficient, efficient, 0.0, full, members(full))
    excess = (costs - sums)[1:full]
    k = int(np.argmin(excess))
    worst = float(excess[k])
    mask = k + 1
    return CoreCheck(bool(efficient and worst >= -tol * scale), bool(efficient), worst, mask,
                     members(mask))


def core_nonempty(costs: np.ndarray, *, tol: float = 1e-7) -> bool:
    """Bondareva (1963) – Shapley (1967): the core is non-empty iff
    ``max {x(N) : x(S) ≤ c(S) for every ∅ ≠ S ≠ N} ≥ c(N)`` (one linear programme, HiGHS)."""
    from scipy.optimize import linprog

    costs = np.asarray(costs, dtype=float)
    n = players(costs)
    full = (1 << n) - 1
    if n == 1:
        return True
    scale = max(1.0, float(np.abs(costs).max()))
    inc = incidence(n)[1:full]
    res = linprog(-np.ones(n), A_ub=inc, b_ub=costs[1:full] / scale,
                  bounds=[(None, None)] * n, method="highs")
    if res.status != 0:
        raise PlanInputError(t("plan.share.err.lp", message=str(res.message)))
    return bool(-res.fun >= costs[full] / scale - tol)


# ---------------------------------------------------------------------- the rules by name
METHODS = ("shapley", "nucleolus", "scrb", "proportional")
