"""The orienteering solvers of ``cocity plan route`` (:mod:`cocity.plan.routing`) against a
hand-computed case and brute-force enumeration of every order on tiny random instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cocity.plan.routing import (
    EXACT_LIMIT,
    Day,
    Instance,
    evaluate_route,
    reachable,
    solve_exact,
    solve_ortools,
)


def hand(back_by: float = 200.0) -> Instance:
    # places: A=0, B=1, depot D=2; D–A 10, D–B 20, A–B 15 minutes
    travel = np.array([[0, 15, 10], [15, 0, 20], [10, 20, 0]], float)
    return Instance(travel=travel, score=np.array([3.0, 5.0]), visit=np.array([30.0, 40.0]),
                    opens=np.array([0.0, 100.0]), closes=np.array([1440.0, 120.0]),
                    days=(Day(0, 0, 60.0, back_by),))


def test_hand_computed_timing_and_optimum():
    inst = hand()
    ab = evaluate_route(inst, [[0, 1]])
    # A: arrive 70, visit 70–100; B: arrive 115, visit 115–155; back 175
    assert [(s.arrival, s.start, s.end) for s in ab.stops] == [(70, 70, 100), (115, 115, 155)]
    assert ab.returns == (175.0,) and ab.feasible and ab.score == 8
    ba = evaluate_route(inst, [[1, 0]])
    # B: arrive 80, wait until 100, visit 100–140; A: 155–185; back 195
    assert [(s.arrival, s.start, s.end) for s in ba.stops] == [(80, 100, 140), (155, 155, 185)]
    assert ba.stops[0].wait == 20 and ba.returns == (195.0,)
    best = solve_exact(inst)
    assert best.routes == ((0, 1),) and best.score == 8 and best.optimal  # earliest return
    # back by 170: neither order fits (175, 195); B alone (back 160) beats A alone (110)
    tight = solve_exact(hand(170.0))
    assert tight.routes == ((1,),) and tight.score == 5 and tight.returns == (160.0,)


def test_evaluation_names_every_violation():
    inst = hand(150.0)
    sol = evaluate_route(inst, [[0, 1, 0]])
    assert not sol.feasible
    assert ("repeat", 0, 0) in sol.problems and ("budget", 0, -1) in sol.problems
    late = evaluate_route(hand(), [[0, 0]])
    assert ("repeat", 0, 0) in late.problems
    window = Instance(travel=hand().travel, score=hand().score, visit=hand().visit,
                      opens=np.array([0.0, 0.0]), closes=np.array([1440.0, 70.0]),
                      days=hand().days)
    assert ("window", 0, 1) in evaluate_route(window, [[1]]).problems  # arrives at 80 > 70
    with pytest.raises(ValueError, match="one route per day"):
        evaluate_route(inst, [[0], [1]])


def random_instance(seed: int, n: int, days: int, *, rank: bool = False,
                    allowed: bool = False, integer: bool = True) -> Instance:
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 100, (n + 2, 2))
    t = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    if integer:
        t = np.rint(t)
    opens = rng.integers(480, 660, n).astype(float)
    closes = opens + rng.integers(0, 360, n)
    return Instance(
        travel=t, score=rng.integers(1, 10, n).astype(float),
        visit=rng.integers(10, 60, n).astype(float), opens=opens, closes=closes,
        days=tuple(Day(d % 2, (d + 1) % 2, 480.0, 480.0 + float(rng.integers(150, 330)))
                   for d in range(days)),
        rank=rng.integers(0, 3, n).astype(float) if rank else None,
        allowed=rng.random((days, n)) < 0.7 if allowed else None)


def brute_force(inst: Instance) -> float:
    """The best score over every assignment of attractions to days (or none) and every order
    of each day's attractions — independent of the solvers."""
    best = 0.0
    for assign in itertools.product(range(-1, len(inst.days)), repeat=inst.n):
        groups = [[i for i in range(inst.n) if assign[i] == d] for d in range(len(inst.days))]
        for routes in itertools.product(*[itertools.permutations(g) for g in groups]):
            sol = evaluate_route(inst, routes)
            if sol.feasible:
                best = max(best, sol.score)
    return best


CASES = [(seed, 6, 1, False, False) for seed in range(8)] + \
    [(seed, 5, 2, False, False) for seed in range(8, 14)] + \
    [(seed, 5, 2, True, True) for seed in range(14, 18)] + \
    [(seed, 6, 1, True, False) for seed in range(18, 21)]


@pytest.mark.parametrize(("seed", "n", "days", "rank", "allowed"), CASES)
def test_exact_equals_brute_force(seed, n, days, rank, allowed):
    inst = random_instance(seed, n, days, rank=rank, allowed=allowed)
    sol = solve_exact(inst)
    assert sol.feasible, sol.problems
    assert sol.score == brute_force(inst)


@pytest.mark.parametrize("seed", [101, 102, 103, 104, 105, 106])
def test_ortools_reaches_the_exact_optimum_on_small_instances(seed):
    inst = random_instance(seed, 9, 1 + seed % 2, rank=seed == 105,
                           allowed=seed in (105, 106))
    exact = solve_exact(inst)
    first = solve_ortools(inst, solution_limit=200)
    again = solve_ortools(inst, solution_limit=200)
    assert first.feasible and first.score == exact.score
    assert first.routes == again.routes  # deterministic: stopped by a number of solutions
    assert "safety_timeout" not in first.status


def test_ortools_rounds_so_that_its_routes_are_feasible_in_minutes():
    inst = random_instance(7, 10, 2, integer=False)
    sol = solve_ortools(inst, solution_limit=200)
    assert sol.feasible and sol.score <= solve_exact(inst).score


def test_nothing_reachable_and_size_limit():
    inst = hand(61.0)  # back one minute after leaving: no visit fits
    assert not reachable(inst).any()
    assert solve_exact(inst).score == 0 and solve_exact(inst).routes == ((),)
    assert solve_ortools(inst).status == "NO_ATTRACTION_REACHABLE"
    big = random_instance(1, EXACT_LIMIT + 1, 1)
    with pytest.raises(ValueError, match="at most"):
        solve_exact(big)


def test_ortools_never_returns_less_than_a_given_feasible_route():
    inst = random_instance(104, 9, 2)
    exact = solve_exact(inst)
    weak = solve_ortools(inst, solution_limit=1, initial=exact.routes)
    assert weak.feasible and weak.score == exact.score
    bad = solve_ortools(inst, solution_limit=1, initial=[[0, 0], []])  # infeasible: ignored
    assert bad.feasible and bad.status != "initial"
