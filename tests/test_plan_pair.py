"""The pairing core (:mod:`cocity.plan.pairing`): the integer programme against brute-force
enumeration on many small random instances, hand-computed cases, infeasibility said before the
solver, and a given assignment scored on the same objective."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize

from cocity.i18n import use_lang
from cocity.plan.errors import PlanInputError
from cocity.plan.pairing import (
    assignment_pairing,
    benefit_matrix,
    brute_force_pairing,
    dimension_weights,
    evaluate_pairing,
    expected_fixes,
    solve_pairing,
)


def _solve_or_none(fn, *args, **kw):  # type: ignore[no-untyped-def]
    try:
        return fn(*args, **kw)
    except PlanInputError:
        return None


def test_hand_computed_two_by_two() -> None:
    b = np.array([[10.0, 4.0], [6.0, 8.0]])
    t = np.array([[60.0, 120.0], [180.0, 30.0]])
    # λ = 2 points/hour: profits [[10 − 2, 4 − 4], [6 − 6, 8 − 1]] = [[8, 0], [0, 7]]
    p = solve_pairing(b, t, capacity=1, time_weight=2.0)
    assert p.pairs == [(0, 0), (1, 1)]
    assert p.objective == pytest.approx(15.0)
    assert p.benefit == pytest.approx(18.0)
    assert p.minutes == pytest.approx(90.0)
    # helper 2 has no capacity: helper 1 takes both, z = 8 + 0
    p = solve_pairing(b, t, capacity=[2, 0], time_weight=2.0)
    assert p.pairs == [(0, 0), (0, 1)]
    assert p.objective == pytest.approx(8.0)
    assert list(p.load) == [2, 0]
    # the cross assignment wins when its benefit is larger and time is free: 9 + 9 > 10 + 1
    p = solve_pairing(np.array([[10.0, 9.0], [9.0, 1.0]]), np.zeros((2, 2)), capacity=1,
                      time_weight=0.0)
    assert p.pairs == [(0, 1), (1, 0)]
    assert p.objective == pytest.approx(18.0)
    # time decides when it weighs enough: λ = 12 points/hour, cross pairs take 1 h each
    p = solve_pairing(np.array([[10.0, 9.0], [9.0, 1.0]]), np.array([[0.0, 60.0], [60.0, 0.0]]),
                      capacity=1, time_weight=12.0)
    assert p.pairs == [(0, 0), (1, 1)]
    assert p.objective == pytest.approx(11.0)


def test_milp_equals_brute_force_on_random_instances() -> None:
    rng = np.random.default_rng(20261203)
    outcomes = []
    for _ in range(300):
        m, n = int(rng.integers(1, 5)), int(rng.integers(1, 6))
        b = np.round(rng.uniform(-5, 30, (m, n)), 2)
        t = np.round(rng.uniform(0, 400, (m, n)), 1)
        cap = rng.integers(0, 4, m)
        need = rng.integers(1, 3, n) if rng.random() < 0.3 else 1
        allowed = rng.random((m, n)) < 0.8 if rng.random() < 0.5 else None
        lam = float(rng.choice([0.0, 2.0, 7.5]))
        kw = {"capacity": cap, "need": need, "time_weight": lam, "allowed": allowed}
        exact = _solve_or_none(solve_pairing, b, t, **kw)
        brute = _solve_or_none(brute_force_pairing, b, t, **kw)
        outcomes.append((exact, brute, kw, b))
    both = [(e, r, kw, b) for e, r, kw, b in outcomes if e is not None and r is not None]
    neither = [o for o in outcomes if o[0] is None and o[1] is None]
    assert len(both) + len(neither) == len(outcomes)  # never one without the other
    assert len(both) >= 150 and len(neither) >= 20  # both paths exercised
    for exact, brute, kw, b in both:
        assert exact.objective == pytest.approx(brute.objective, abs=1e-6)
        need = np.broadcast_to(kw["need"], (b.shape[1],))
        assert (exact.x.sum(axis=0) == need).all()
        assert (exact.load <= kw["capacity"]).all()
        assert kw["allowed"] is None or not (exact.x & ~kw["allowed"]).any()


def test_milp_equals_the_assignment_algorithm_on_larger_instances() -> None:
    rng = np.random.default_rng(7)
    sizes = [(3, 12), (6, 30), (20, 150), (20, 150)]
    for m, n in sizes:
        b = rng.uniform(0, 40, (m, n))
        t = rng.uniform(20, 500, (m, n))
        cap = rng.integers(1, 12, m)
        cap[0] += max(0, n - int(cap.sum()))  # enough in total
        allowed = rng.random((m, n)) < 0.9
        allowed[0, :] = True  # every unit keeps a helper with room
        exact = solve_pairing(b, t, capacity=cap, time_weight=3.0, allowed=allowed)
        ref = assignment_pairing(b, t, capacity=cap, time_weight=3.0, allowed=allowed)
        assert exact.objective == pytest.approx(ref.objective, rel=1e-9, abs=1e-6)
        assert not (exact.x & ~allowed).any() and (exact.load <= cap).all()


def test_given_assignment_scored_on_the_same_objective() -> None:
    b = np.array([[10.0, 4.0, 3.0], [6.0, 8.0, 5.0]])
    t = np.array([[60.0, 120.0, 30.0], [180.0, 30.0, 90.0]])
    score = evaluate_pairing(b, t, [(0, 0), (1, 1), (1, 2)], capacity=2, time_weight=2.0)
    assert score.feasible and score.problems == ()
    # (10 − 2) + (8 − 1) + (5 − 3)
    assert score.pairing.objective == pytest.approx(17.0)
    assert score.pairing.benefit == pytest.approx(23.0)
    assert score.pairing.minutes == pytest.approx(180.0)  # 60 + 30 + 90
    best = solve_pairing(b, t, capacity=2, time_weight=2.0)
    assert best.objective >= score.pairing.objective
    with use_lang("en"):
        bad = evaluate_pairing(b, t, [(0, 0), (0, 1), (0, 2)], capacity=2, time_weight=2.0,
                               names=(["Chongqing", "Chengdu"], ["Luzhou", "Dazhou", "Suining"]))
    assert not bad.feasible
    assert bad.problems == ("Chongqing helps 3, above its capacity 2",)
    with use_lang("en"):
        bad = evaluate_pairing(b, t, [(0, 0), (1, 0)], capacity=2)
    assert bad.problems == ("U1 has 2 helpers instead of 1", "U2 has 0 helpers instead of 1",
                            "U3 has 0 helpers instead of 1")


def test_infeasible_said_before_the_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_solver(*args: object, **kw: object) -> None:
        raise AssertionError("the solver must not be called")

    monkeypatch.setattr(scipy.optimize, "milp", no_solver)
    b = np.ones((2, 5))
    names = (["Chongqing", "Chengdu"], ["Luzhou", "Dazhou", "Mianyang", "Nanchong", "Suining"])
    with use_lang("en"), pytest.raises(PlanInputError,
                                       match=r"total capacity 4 is below .* need 5, short by 1"):
        solve_pairing(b, b, capacity=2, names=names)
    allowed = np.ones((2, 5), bool)
    allowed[:, 1] = False
    with use_lang("en"), pytest.raises(PlanInputError,
                                       match=r"too few helpers available.*Dazhou \(needs 1, 0"):
        solve_pairing(b, b, capacity=3, allowed=allowed, names=names)
    with use_lang("zh"), pytest.raises(PlanInputError, match="还差 1"):
        solve_pairing(b, b, capacity=2, names=names)


def test_infeasible_found_by_the_solver_is_said() -> None:
    # every unit has an allowed helper and the total is enough, but both can only go to
    # helper 1, whose capacity is 1 (Hall's condition fails)
    allowed = np.array([[True, True], [False, False]])
    allowed[1, :] = False
    b = np.ones((2, 2))
    with use_lang("en"), pytest.raises(PlanInputError, match="cannot be shared out"):
        solve_pairing(b, b, capacity=[1, 1], allowed=allowed)
    with use_lang("en"), pytest.raises(PlanInputError, match="cannot be shared out"):
        brute_force_pairing(b, b, capacity=[1, 1], allowed=allowed)


def test_bad_inputs_name_what_is_wrong() -> None:
    b = np.ones((2, 2))
    with use_lang("en"):
        with pytest.raises(PlanInputError, match="same shape"):
            solve_pairing(b, np.ones((2, 3)))
        with pytest.raises(PlanInputError, match=r"benefit has missing .*H2→U1"):
            solve_pairing(np.array([[1.0, 2.0], [np.nan, 1.0]]), b)
        with pytest.raises(PlanInputError, match=r"H1→U2 is -5 minutes"):
            solve_pairing(b, np.array([[1.0, -5.0], [1.0, 1.0]]))
        with pytest.raises(PlanInputError, match=r"capacity must be non-negative whole.*H2=1.5"):
            solve_pairing(b, b, capacity=[2, 1.5])
        with pytest.raises(PlanInputError, match=r"one per unit \(2\); 3 given"):
            solve_pairing(b, b, capacity=[1, 1, 1])
        with pytest.raises(PlanInputError, match="time weight"):
            solve_pairing(b, b, time_weight=-1.0)
        with pytest.raises(PlanInputError, match=r"above the limit of 10"):
            brute_force_pairing(np.ones((3, 4)), np.ones((3, 4)), capacity=4, limit=10)


def test_benefit_and_weights_by_hand() -> None:
    # two dimensions; helper scores (80, 60), helped (50, 70) and (90, 20)
    s_h = np.array([[80.0, 60.0]])
    s_u = np.array([[50.0, 70.0], [90.0, 20.0]])
    obstacles = np.array([[30.0, 10.0, 60.0], [0.0, 0.0, 0.0]])  # indicators in dims 0, 0, 1
    w = dimension_weights(obstacles, [0, 0, 1], 2)
    np.testing.assert_allclose(w, [[0.4, 0.6], [0.5, 0.5]])  # no obstacle: equal weights
    b = benefit_matrix(s_h, s_u, w)
    # unit 1: 0.4·max(0, 30) + 0.6·max(0, −10) = 12; unit 2: 0.5·0 + 0.5·40 = 20
    np.testing.assert_allclose(b, [[12.0, 20.0]])


def test_expected_fixes_rank_obstacles_where_the_helper_leads() -> None:
    helper = np.array([90.0, 40.0, 80.0, 70.0])
    helped = np.array([50.0, 60.0, 75.0, np.nan])
    obstacles = np.array([10.0, 50.0, 30.0, 20.0])
    # lead 40, −20, 5, n/a → products 400, 0, 150, 0
    assert expected_fixes(helper, helped, obstacles, top=3) == [(0, 400.0), (2, 150.0)]
    assert expected_fixes(helper, helped, obstacles, top=1) == [(0, 400.0)]
