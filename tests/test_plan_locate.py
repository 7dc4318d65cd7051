"""The location models (:mod:`cocity.plan.location`) against hand-computed cases, brute force
over every candidate set, and PySAL spopt (with CBC) on identical inputs."""

from __future__ import annotations

import itertools

import numpy as np
import pulp
import pytest
import spopt  # noqa: F401  (the reference must be installed: fail, never skip)
from spopt.locate import LSCP, MCLP, PCenter, PMedian

from cocity.plan.errors import PlanInputError
from cocity.plan.location import (
    UncoveredDemandError,
    lscp,
    mclp,
    one_centre,
    one_median,
    p_centre,
    p_median,
)


def _instance(seed: int, n: int, m: int, *, integer: bool = False) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 100, (n, 2))
    sites = rng.uniform(0, 100, (m, 2))
    cost = np.linalg.norm(demand[:, None, :] - sites[None, :, :], axis=2)
    if integer:
        cost = np.round(cost)  # many ties between distances
    return cost, rng.integers(1, 50, n).astype(float)


def _brute(cost: np.ndarray, w: np.ndarray, p: int) -> dict[str, float]:
    best = {"median": np.inf, "centre": np.inf}
    for sel in itertools.combinations(range(cost.shape[1]), p):
        near = cost[:, list(sel)].min(axis=1)
        best["median"] = min(best["median"], float(w @ near))
        best["centre"] = min(best["centre"], float(near.max()))
    return best


def _brute_cover(cost: np.ndarray, w: np.ndarray, p: int, radius: float) -> float:
    cover = cost <= radius
    return max(float(w[cover[:, list(sel)].any(axis=1)].sum())
               for sel in itertools.combinations(range(cost.shape[1]), p))


def _brute_lscp(cost: np.ndarray, radius: float) -> int:
    cover = cost <= radius
    for k in range(1, cost.shape[1] + 1):
        if any(cover[:, list(sel)].any(axis=1).all()
               for sel in itertools.combinations(range(cost.shape[1]), k)):
            return k
    raise AssertionError("no cover")


# PuLP 3.3 announces its 4.0 API on every variable spopt creates
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pulp")
CBC = pulp.PULP_CBC_CMD(msg=False)


def _spopt_open(model: object) -> list[int]:
    """The candidates spopt opened (its solution, re-evaluated exactly by the tests: CBC
    reports objectives to six decimals)."""
    return [j for j, v in enumerate(model.fac_vars) if v.value() > 0.5]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- hand-computed
def test_hand_computed_line():
    # demand at 0, 1, 2, 10 (weights 1, 1, 1, 5); candidates at the same places
    x = np.array([0.0, 1.0, 2.0, 10.0])
    cost = np.abs(x[:, None] - x[None, :])
    w = np.array([1.0, 1.0, 1.0, 5.0])
    # 1-median: at 2 → 2+1+0+8·5 = 43; at 10 → 10+9+8 = 27; at 1 → 1+0+1+45 = 47
    assert one_median(cost, weights=w) == 3
    assert p_median(cost, weights=w, p=1).objective == pytest.approx(27.0)
    # 2-median: {1, 10} → 1 + 0 + 1 + 0 = 2
    r = p_median(cost, weights=w, p=2)
    assert r.chosen.tolist() == [1, 3] and r.objective == pytest.approx(2.0) and r.optimal
    assert r.assignment.tolist() == [1, 1, 1, 3]
    # 1-centre: max distance at 2 is 8, at 10 is 10 → 2; weighted: at 10 → 10, at 2 → 40
    assert one_centre(cost) == 2
    assert one_centre(cost, weights=w) == 3
    c1 = p_centre(cost, p=1)
    assert c1.chosen.tolist() == [2] and c1.objective == pytest.approx(8.0)
    assert p_centre(cost, p=2).objective == pytest.approx(1.0)
    assert p_centre(cost, p=1, weights=w).objective == pytest.approx(10.0)
    # covering within 1.5: {1} covers 3 points (weight 3), {10} covers weight 5
    m1 = mclp(cost, weights=w, p=1, radius=1.5)
    assert m1.chosen.tolist() == [3] and m1.objective == pytest.approx(5.0)
    assert m1.assignment.tolist() == [-1, -1, -1, 3]
    assert mclp(cost, weights=w, p=2, radius=1.5).objective == pytest.approx(8.0)
    cover = lscp(cost, radius=1.0)
    assert cover.objective == 2 and cover.chosen.tolist() == [1, 3]


def test_grid_centres():
    # a 3 × 3 grid of unit weights, Manhattan distances: the middle is the 1-median and 1-centre
    pts = np.array([(i, j) for i in range(3) for j in range(3)], dtype=float)
    cost = np.abs(pts[:, None, :] - pts[None, :, :]).sum(axis=2)
    assert one_median(cost, weights=np.ones(9)) == 4
    assert one_centre(cost) == 4
    assert p_centre(cost, p=1).objective == pytest.approx(2.0)
    assert p_median(cost, weights=np.ones(9), p=1).objective == pytest.approx(12.0)


# ---------------------------------------------------------------------- brute force
@pytest.mark.parametrize(("seed", "integer"), [(1, False), (2, True), (3, True), (4, False)])
def test_equal_to_brute_force_on_tiny_instances(seed, integer):
    cost, w = _instance(seed, 12, 7, integer=integer)
    radius = float(np.quantile(cost, 0.3))
    for p in (1, 2, 3):
        brute = _brute(cost, w, p)
        med = p_median(cost, weights=w, p=p)
        assert med.optimal and len(med.chosen) == p
        assert med.objective == pytest.approx(brute["median"])
        cen = p_centre(cost, p=p)
        assert cen.optimal and len(cen.chosen) == p
        assert cen.objective == pytest.approx(brute["centre"])
        mc = mclp(cost, weights=w, p=p, radius=radius)
        assert len(mc.chosen) == p
        assert mc.objective == pytest.approx(_brute_cover(cost, w, p, radius))
    big = float(cost.min(axis=1).max()) + 5
    assert lscp(cost, radius=big).objective == _brute_lscp(cost, big)


# ---------------------------------------------------------------------- spopt
@pytest.mark.parametrize("seed", [11, 12])
def test_equal_objectives_to_spopt(seed):
    cost, w = _instance(seed, 60, 15, integer=seed == 12)
    p = 4
    radius = float(np.quantile(cost, 0.2))
    ref = PMedian.from_cost_matrix(cost, w, p).solve(CBC)
    sel = _spopt_open(ref)
    assert len(sel) == p
    ours = p_median(cost, weights=w, p=p)
    assert ours.optimal and ours.objective == pytest.approx(
        float(w @ cost[:, sel].min(axis=1)), rel=1e-12)
    assert ours.objective == pytest.approx(pulp.value(ref.problem.objective), rel=1e-6)
    ref = PCenter.from_cost_matrix(cost, p).solve(CBC)
    sel = _spopt_open(ref)
    ours = p_centre(cost, p=p)
    assert ours.optimal and ours.objective == pytest.approx(
        float(cost[:, sel].min(axis=1).max()), rel=1e-12)
    ref = MCLP.from_cost_matrix(cost, w, radius, p).solve(CBC)
    sel = _spopt_open(ref)
    ours = mclp(cost, weights=w, p=p, radius=radius)
    assert ours.optimal and ours.objective == pytest.approx(
        float(w[(cost[:, sel] <= radius).any(axis=1)].sum()), rel=1e-12)
    cover_r = float(cost.min(axis=1).max()) * 1.3
    ref = LSCP.from_cost_matrix(cost, cover_r).solve(CBC)
    ours = lscp(cost, radius=cover_r)
    assert ours.optimal and ours.objective == len(_spopt_open(ref))
    assert (cost[:, ours.chosen] <= cover_r).any(axis=1).all()


def test_p_median_truncation_extends_to_the_optimum():
    # p = 2 of 30: the first truncation (⌈m/p⌉ nearest) is too short for the far cluster;
    # the answer must still equal spopt's
    rng = np.random.default_rng(5)
    near = rng.uniform(0, 10, (40, 2))
    far = rng.uniform(200, 210, (3, 2))
    demand = np.vstack([near, far])
    sites = np.vstack([rng.uniform(0, 10, (28, 2)), rng.uniform(100, 110, (2, 2))])
    cost = np.linalg.norm(demand[:, None, :] - sites[None, :, :], axis=2)
    w = np.ones(len(demand))
    ours = p_median(cost, weights=w, p=2)
    ref = PMedian.from_cost_matrix(cost, w, 2).solve(CBC)
    assert ours.optimal
    assert ours.objective == pytest.approx(
        float(w @ cost[:, _spopt_open(ref)].min(axis=1)), rel=1e-12)


# ---------------------------------------------------------------------- refusals
def test_refusals_name_the_parameter_or_the_row():
    cost, w = _instance(7, 6, 3)
    with pytest.raises(PlanInputError, match=r"p = 4"):
        p_median(cost, weights=w, p=4)
    with pytest.raises(PlanInputError, match=r"p = 0"):
        p_centre(cost, p=0)
    with pytest.raises(PlanInputError, match=r"radius = -1"):
        mclp(cost, weights=w, p=1, radius=-1)
    with pytest.raises(UncoveredDemandError, match=r"0, 1, 2, 3, 4, 5") as info:
        lscp(cost, radius=0.0)
    assert info.value.rows.tolist() == [0, 1, 2, 3, 4, 5]
    bad = cost.copy()
    bad[2, 1] = np.nan
    with pytest.raises(PlanInputError, match=r"2"):
        p_median(bad, weights=w, p=1)
    with pytest.raises(PlanInputError, match=r"6 .*5 "):
        p_median(cost, weights=w[:5], p=1)


def test_many_small_instances_with_ties_and_zero_weights_equal_brute_force():
    rng = np.random.default_rng(0)
    for k in range(30):
        n, m = int(rng.integers(3, 12)), int(rng.integers(2, 7))
        cost = (rng.integers(0, 12, (n, m)).astype(float) if k % 2
                else rng.uniform(0, 50, (n, m)))
        w = rng.integers(0, 5, n).astype(float)
        radius = float(rng.choice(cost.ravel()))
        for p in range(1, m + 1):
            sets = [list(s) for s in itertools.combinations(range(m), p)]
            near = [cost[:, s].min(axis=1) for s in sets]
            assert p_median(cost, weights=w, p=p).objective == pytest.approx(
                min(float(w @ x) for x in near))
            assert p_centre(cost, p=p).objective == pytest.approx(min(x.max() for x in near))
            assert p_centre(cost, p=p, weights=w).objective == pytest.approx(
                min(float((w * x).max()) for x in near))
            assert mclp(cost, weights=w, p=p, radius=radius).objective == pytest.approx(
                max(float(w[x <= radius].sum()) for x in near))
