"""Exact apportionment in fen: largest remainder and floors/caps by iterative redistribution,
against hand-computed cases, an independent breakpoint solver and properties (hypothesis)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocity.fund.apportion import Infeasible, bounded_shares, largest_remainder


# ---------------------------------------------------------------- largest remainder by hand
def test_largest_remainder_hand_case() -> None:
    # 1001 fen in proportion 1:3:6 → 100.1, 300.3, 600.6 → floors 100+300+600 = 1000,
    # the one fen left goes to the largest remainder (0.6)
    q = [Fraction(1001, 10), Fraction(3003, 10), Fraction(6006, 10)]
    assert largest_remainder(1001, q, ["b", "c", "d"]) == [100, 300, 601]


def test_largest_remainder_ties_by_key_not_by_order() -> None:
    # 100 fen among three equal shares: 33⅓ each, one fen left; the tie goes to the smallest key
    q = [Fraction(100, 3)] * 3
    assert largest_remainder(100, q, ["510703", "510104", "510922"]) == [33, 34, 33]
    assert largest_remainder(100, q, ["510922", "510703", "510104"]) == [33, 33, 34]
    # two fen left among four equal shares of 25.5 → the two smallest codes
    assert largest_remainder(102, [Fraction(51, 2)] * 4, ["4", "2", "3", "1"]) == [25, 26, 25, 26]


def test_largest_remainder_refuses_quotas_that_do_not_sum() -> None:
    with pytest.raises(ValueError, match="quotas sum to"):
        largest_remainder(10, [Fraction(3), Fraction(3)], ["a", "b"])
    with pytest.raises(ValueError, match="distinct key"):
        largest_remainder(6, [Fraction(3), Fraction(3)], ["a", "a"])


weights_st = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=40).filter(
    lambda w: sum(w) > 0)


@settings(max_examples=200, deadline=None)
@given(total=st.integers(min_value=0, max_value=10**12), weights=weights_st, data=st.data())
def test_largest_remainder_properties(total: int, weights: list[int], data: st.DataObject
                                      ) -> None:
    keys = [f"{i:06d}" for i in range(len(weights))]
    W = sum(weights)
    quotas = [Fraction(total * w, W) for w in weights]
    out = largest_remainder(total, quotas, keys)
    # the pool sums exactly
    assert sum(out) == total
    # every amount within one fen of its exact share: ⌊q⌋ or ⌊q⌋ + 1
    for a, q in zip(out, quotas, strict=True):
        assert q - 1 < a < q + 1
        assert a in (q.numerator // q.denominator, q.numerator // q.denominator + 1)
    # deterministic and independent of the order of the inputs
    perm = data.draw(st.permutations(list(range(len(weights)))))
    again = largest_remainder(total, [quotas[i] for i in perm], [keys[i] for i in perm])
    assert {keys[i]: a for i, a in zip(perm, again, strict=True)} == dict(
        zip(keys, out, strict=True))
    # the extra fen go by remainder, largest first, equal remainders by ascending key
    frac = [q - (q.numerator // q.denominator) for q in quotas]
    got_extra = [a > q.numerator // q.denominator for a, q in zip(out, quotas, strict=True)]
    for i in range(len(out)):
        for j in range(len(out)):
            if got_extra[i] and not got_extra[j]:
                assert (frac[i], -int(keys[i])) >= (frac[j], -int(keys[j]))


# ---------------------------------------------------------------- floors and caps by hand
def test_bounded_proportional_without_bounds() -> None:
    res = bounded_shares(10000, [Fraction(1), Fraction(3), Fraction(6)])
    assert res.amounts == [1000, 3000, 6000]
    assert res.state == ["free"] * 3


def test_bounded_cap_redistributes_in_proportion() -> None:
    # D (weight 6) capped at 5000 of 10000; the 5000 left are shared 1:3
    res = bounded_shares(10000, [Fraction(1), Fraction(3), Fraction(6)],
                         caps=[None, None, 5000])
    assert res.amounts == [1250, 3750, 5000]
    assert res.state == ["free", "free", "cap"]


def test_bounded_floor_takes_from_the_others() -> None:
    # floors of 2000 each: B (1000 by need) is raised; C and D share 8000 as 3:6
    res = bounded_shares(10000, [Fraction(1), Fraction(3), Fraction(6)],
                         floors=[2000, 2000, 2000])
    assert res.amounts == [2000, Fraction(8000, 3), Fraction(16000, 3)]
    assert res.state == ["floor", "free", "free"]
    assert largest_remainder(10000, res.amounts, ["b", "c", "d"]) == [2000, 2667, 5333]


def test_bounded_floor_and_cap_in_cascade() -> None:
    # weights 1, 1, 8 of 1000: the cap of 500 on the third frees 300 which lifts the others
    # to 250 each — above their floor of 200, so only the cap binds in the end
    res = bounded_shares(1000, [Fraction(1), Fraction(1), Fraction(8)],
                         floors=[200, 200, 0], caps=[None, None, 500])
    assert res.amounts == [250, 250, 500]
    assert res.state == ["free", "free", "cap"]


def test_bounded_zero_weight_gets_nothing_and_no_floor() -> None:
    res = bounded_shares(900, [Fraction(0), Fraction(1), Fraction(2)], floors=[100, 100, 100])
    assert res.amounts == [0, 300, 600]
    assert res.state == ["none", "free", "free"]


def test_bounded_infeasible() -> None:
    with pytest.raises(Infeasible, match="floors"):
        bounded_shares(100, [Fraction(1), Fraction(1)], floors=[60, 60])
    with pytest.raises(Infeasible, match="caps"):
        bounded_shares(100, [Fraction(1), Fraction(1)], caps=[40, 40])
    with pytest.raises(Infeasible, match="no_need"):
        bounded_shares(100, [Fraction(0), Fraction(0)])
    with pytest.raises(Infeasible, match="floors"):
        bounded_shares(0, [Fraction(1)], floors=[1])
    assert bounded_shares(0, [Fraction(1), Fraction(0)]).amounts == [0, 0]


# ---------------------------------------------------------------- an independent solver
def breakpoint_solution(total: Fraction, w: list[Fraction], f: list[Fraction],
                        c: list[Fraction | None]) -> list[Fraction]:
    """clamp(λ w_i, f_i, c_i) with Σ = total, by the breakpoints of the piecewise-linear
    G(λ) = Σ clamp(λ w_i, f_i, c_i) (independent of the iterative method)."""
    act = [i for i in range(len(w)) if w[i] > 0]

    def G(lam: Fraction) -> Fraction:
        out = Fraction(0)
        for i in act:
            x = max(f[i], lam * w[i])
            cap = c[i]
            out += min(x, cap) if cap is not None else x
        return out

    points = sorted({Fraction(0)} | {f[i] / w[i] for i in act}
                    | {c[i] / w[i] for i in act if c[i] is not None})  # type: ignore[operator]
    lo = None
    for p in points:
        if G(p) >= total:
            lo = p
            break
    if lo is None:  # beyond the last breakpoint G is linear in the uncapped units
        last = points[-1]
        slope = sum((w[i] for i in act if c[i] is None), Fraction(0))
        lam = last + (total - G(last)) / slope
    else:
        prev = max((p for p in points if p < lo), default=Fraction(0))
        g0, g1 = G(prev), G(lo)
        lam = lo if g1 == g0 else prev + (total - g0) * (lo - prev) / (g1 - g0)
    out = []
    for i in range(len(w)):
        if w[i] == 0:
            out.append(Fraction(0))
            continue
        x = max(f[i], lam * w[i])
        cap = c[i]
        out.append(min(x, cap) if cap is not None else x)
    return out


@st.composite
def bounded_case(draw: st.DrawFn) -> tuple[int, list[Fraction], list[Fraction],
                                           list[Fraction | None]]:
    n = draw(st.integers(min_value=1, max_value=25))
    w = [Fraction(draw(st.integers(min_value=0, max_value=1000))) for _ in range(n)]
    if all(x == 0 for x in w):
        w[0] = Fraction(1)
    f = [Fraction(draw(st.integers(min_value=0, max_value=300))) for _ in range(n)]
    c: list[Fraction | None] = []
    for i in range(n):
        cap = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=2000)))
        c.append(None if cap is None else max(f[i], Fraction(cap)))
    act = [i for i in range(n) if w[i] > 0]
    lo = int(sum(f[i] for i in act))
    capped = all(c[i] is not None for i in act)
    hi = int(sum(c[i] for i in act)) if capped else lo + 100000  # type: ignore[misc]
    total = draw(st.integers(min_value=lo, max_value=hi))
    return total, w, f, c


@settings(max_examples=300, deadline=None)
@given(case=bounded_case())
def test_bounded_matches_breakpoint_solution(case: tuple[int, list[Fraction], list[Fraction],
                                                         list[Fraction | None]]) -> None:
    total, w, f, c = case
    res = bounded_shares(total, w, f, c)
    assert sum(res.amounts) == total
    assert res.amounts == breakpoint_solution(Fraction(total), w, f, c)
    for i, x in enumerate(res.amounts):
        if w[i] > 0:
            assert f[i] <= x
            cap = c[i]
            assert cap is None or x <= cap
        else:
            assert x == 0
    # rounding keeps the pool exact and every line within a fen; integer bounds still hold
    keys = [f"{i:03d}" for i in range(len(w))]
    fen = largest_remainder(total, res.amounts, keys)
    assert sum(fen) == total
    for i, (a, x) in enumerate(zip(fen, res.amounts, strict=True)):
        assert abs(a - x) < 1
        if w[i] > 0:
            cap = c[i]
            assert f[i] <= a and (cap is None or a <= cap)
