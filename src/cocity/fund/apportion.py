"""Sharing an integer number of fen among recipients, exactly: proportional shares with floors
and caps, then largest-remainder rounding. Pure arithmetic on :class:`fractions.Fraction`
(no floating-point error can make a pool miss its total by a fen).

**Floors and caps** (:func:`bounded_shares`). Each recipient ``i`` has a weight ``w_i ≥ 0``,
a floor ``f_i`` and a cap ``c_i`` (``f_i ≤ c_i``; no cap: ``c_i = ∞``). The amounts are

    x_i = clamp(λ · w_i, f_i, c_i)     with the one λ for which Σ_i x_i = T,

i.e. proportional to the weights except where a floor or a cap binds, the money a cap frees
(or a floor takes) being shared by everyone else in proportion to their weights. A recipient of
zero weight has no need: it receives nothing and no floor (a floor never funds a unit without
need). λ is found by iterative redistribution: with the units fixed so far at their floor
(set F) or cap (set C), ``λ = (T − Σ_F f − Σ_C c) / Σ_free w``; among the free units let
``D = Σ max(0, f_i − λw_i)`` (money the floors would take) and ``E = Σ max(0, λw_i − c_i)``
(money the caps would free). If ``E ≥ D`` the total at λ is at most T, so the final λ is at
least this one and every unit above its cap now is above it at the end: fix those at their
caps. Otherwise the final λ is smaller and every unit below its floor now stays below: fix those
at their floors. Repeat until no free unit violates its bounds — at most one round per
recipient. Feasibility: ``Σ f_i ≤ T ≤ Σ c_i`` over the units with need, else
:class:`Infeasible`.

**Largest remainder** (:func:`largest_remainder`: Hamilton's method, also Hare–Niemeyer;
Balinski & Young, *Fair Representation*, 2nd ed., Brookings 2001). The exact amounts ``q_i``
(summing to the integer T) are cut to ``⌊q_i⌋``; the ``R = T − Σ ⌊q_i⌋`` fen left (``0 ≤ R < n``)
go one each to the recipients with the largest fractional parts ``q_i − ⌊q_i⌋``; equal
fractional parts are served by ascending key (the unit code), so the result is deterministic and
independent of the order of the inputs. Every amount is ``⌊q_i⌋`` or ``⌊q_i⌋ + 1``: within one
fen of the exact share, and the amounts sum to T exactly. An integer floor or cap met by ``q_i``
is met by the rounded amount too (``⌊q_i⌋ ≥ f_i``; ``⌊q_i⌋ + 1 ≤ c_i`` whenever ``q_i < c_i``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction


class Infeasible(ValueError):
    """Floors above the total (``kind="floors"``) or caps below it (``kind="caps"``), or no
    recipient with need (``kind="no_need"``): ``required`` and ``available`` in fen."""

    def __init__(self, kind: str, required: Fraction, available: Fraction):
        self.kind = kind
        self.required = required
        self.available = available
        super().__init__(f"{kind}: required {float(required)}, available {float(available)}")


@dataclass(frozen=True)
class Bounded:
    """Result of :func:`bounded_shares`: the exact amounts, each recipient's state
    (``free``, ``floor``, ``cap`` or ``none`` for zero weight), λ and the rounds run."""

    amounts: list[Fraction]
    state: list[str]
    lam: Fraction
    rounds: int


def bounded_shares(total: int | Fraction, weights: Sequence[Fraction],
                   floors: Sequence[Fraction | int | None] | None = None,
                   caps: Sequence[Fraction | int | None] | None = None) -> Bounded:
    """Exact amounts ``clamp(λ w_i, f_i, c_i)`` summing to ``total`` (see the module
    docstring). ``None`` in ``floors``/``caps``: no floor (0) / no cap."""
    n = len(weights)
    w = [Fraction(x) for x in weights]
    if any(x < 0 for x in w):
        raise ValueError("weights must not be negative")
    f = [Fraction(0)] * n
    capped: dict[int, Fraction] = {}  # recipients with a cap
    for i in range(n):
        lo = None if floors is None else floors[i]
        hi = None if caps is None else caps[i]
        if lo is not None:
            f[i] = Fraction(lo)
        if hi is not None:
            capped[i] = Fraction(hi)
    T = Fraction(total)
    active = [i for i in range(n) if w[i] > 0]
    need_floor = sum((f[i] for i in active), Fraction(0))
    if need_floor > T:
        raise Infeasible("floors", need_floor, T)
    if T == 0:
        return Bounded([Fraction(0)] * n, ["none" if w[i] == 0 else "free" for i in range(n)],
                       Fraction(0), 0)
    if not active:
        raise Infeasible("no_need", T, Fraction(0))
    if all(i in capped for i in active):
        room = sum((capped[i] for i in active), Fraction(0))
        if room < T:
            raise Infeasible("caps", T, room)
    state = ["none" if w[i] == 0 else "free" for i in range(n)]

    def fixed_amount(i: int) -> Fraction:
        return f[i] if state[i] == "floor" else capped[i]

    rounds = 0
    while True:
        rounds += 1
        free = [i for i in active if state[i] == "free"]
        fixed = sum((fixed_amount(i) for i in active if state[i] != "free"), Fraction(0))
        wsum = sum((w[i] for i in free), Fraction(0))
        lam = (T - fixed) / wsum if wsum > 0 else Fraction(0)
        below = [i for i in free if lam * w[i] < f[i]]
        above = [i for i in free if i in capped and lam * w[i] > capped[i]]
        if not below and not above:
            break
        deficit = sum((f[i] - lam * w[i] for i in below), Fraction(0))
        excess = sum((lam * w[i] - capped[i] for i in above), Fraction(0))
        if excess >= deficit:
            for i in above:
                state[i] = "cap"
        else:
            for i in below:
                state[i] = "floor"
    amounts = [Fraction(0) if state[i] == "none" else
               lam * w[i] if state[i] == "free" else fixed_amount(i) for i in range(n)]
    if sum(amounts, Fraction(0)) != T:  # cannot happen when the bounds are feasible
        raise RuntimeError("bounded shares do not sum to the total")
    return Bounded(amounts, state, lam, rounds)


def largest_remainder(total: int, quotas: Sequence[Fraction], keys: Sequence[str]) -> list[int]:
    """Integer amounts summing to ``total`` from exact ``quotas`` (which must sum to it), by
    the largest remainder; ties by ascending key (see the module docstring)."""
    if len(quotas) != len(keys) or len(set(keys)) != len(keys):
        raise ValueError("one distinct key per quota")
    q = [Fraction(x) for x in quotas]
    if sum(q, Fraction(0)) != total:
        raise ValueError(f"quotas sum to {float(sum(q, Fraction(0)))}, not {total}")
    if any(x < 0 for x in q):
        raise ValueError("quotas must not be negative")
    base = [x.numerator // x.denominator for x in q]
    left = total - sum(base)
    order = sorted(range(len(q)), key=lambda i: (-(q[i] - base[i]), keys[i]))
    for i in order[:left]:
        base[i] += 1
    return base
