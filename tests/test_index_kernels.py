"""The numba kernels of the uncertainty engine give numpy's and scipy's results to the bit, and
decline (so that the numpy path runs) where they cannot; the engine with and without them gives
the same SHA-256 of scores, ranks, samples and Sobol' indices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from cocity.index import registry
from cocity.index.aggregate import arithmetic, geometric
from cocity.index.framework import Framework
from cocity.index.kernels import MAX_CHILDREN, min_ranks, tree_means, weighted_means
from cocity.index.pipeline import Pipeline
from cocity.index.uncertainty import (
    UncertaintySpec,
    _geometric,
    _Tree,
    run_uncertainty,
)
from tests.test_index_dask import _digest

pytestmark = pytest.mark.usefixtures("english")


def _bits(a: np.ndarray) -> np.ndarray:
    """The bytes of a float array as integers: equal bits, signed zeros told apart."""
    return np.ascontiguousarray(a, dtype=np.float64).view(np.int64)


def _awkward(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values over 12 orders of magnitude, both signs, with +0 and −0 cells."""
    x = rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 7, shape)
    x[rng.random(shape) < 0.05] = 0.0
    x[rng.random(shape) < 0.05] = -0.0
    return x


@pytest.mark.parametrize("k", [*range(1, 20), 31, 64, 100, MAX_CHILDREN])
def test_one_node_equals_numpy_arithmetic_to_the_bit(k: int) -> None:
    """Below 8 children numpy sums in one running sum, from 8 in eight accumulators: both
    orders, and the zero weights, are reproduced."""
    rng = np.random.default_rng(k)
    n, reps = 57, 40
    values = _awkward(rng, (n, k))
    w = rng.random((reps, k)) * 10.0 ** rng.integers(-3, 4, (reps, k))
    w[rng.random(w.shape) < 0.15] = 0.0
    w[:, 0] += 0.5
    expected = arithmetic(np.ascontiguousarray(np.broadcast_to(values, (reps, n, k))), w)
    got = tree_means(values, np.array([0, k]), np.arange(k), np.arange(k), w, np.array([k]))
    assert got is not None and got.shape == (reps, 1, n)
    np.testing.assert_array_equal(_bits(got[:, 0]), _bits(expected))


def test_a_tree_equals_the_registered_method_node_by_node() -> None:
    """Two levels (7 and 9 children, then 2): the exported nodes equal the arithmetic mean
    applied level by level with numpy."""
    rng = np.random.default_rng(7)
    n, m, reps = 40, 16, 25
    values = _awkward(rng, (n, m))
    weights = rng.random((reps, m + 3)) + 0.01
    first, second = list(range(7)), list(range(7, 16))

    def mean(y: np.ndarray, kids: list[int]) -> np.ndarray:
        # C-contiguous children and weights, as the engine passes them (np.stack(…, axis=-1),
        # weights[np.ix_(rows, kids)]): numpy's order of summation follows the memory layout
        return arithmetic(np.ascontiguousarray(y), np.ascontiguousarray(weights[:, kids]))

    low = mean(np.broadcast_to(values[:, first], (reps, n, 7)), first)
    high = mean(np.broadcast_to(values[:, second], (reps, n, 9)), second)
    top = mean(np.stack([low, high], axis=-1), [m, m + 1])
    got = tree_means(values, np.array([0, 7, 16, 18]), np.array([*first, *second, m, m + 1]),
                     np.array([*first, *second, m, m + 1]), weights, np.array([m, m + 2]))
    assert got is not None
    np.testing.assert_array_equal(_bits(got[:, 0]), _bits(low))
    np.testing.assert_array_equal(_bits(got[:, 1]), _bits(top))


@pytest.mark.parametrize("case", ["nan value", "infinite value", "negative weight",
                                  "infinite weight", "nan weight", "zero weights",
                                  "too many children"])
def test_declines_what_numpy_must_handle(case: str) -> None:
    """Missing values, invalid weights or too wide a node: None, so that the caller runs the
    registered method (which handles or refuses them)."""
    k = MAX_CHILDREN + 1 if case == "too many children" else 3
    values = np.ones((5, k))
    w = np.ones((2, k))
    if case == "nan value":
        values[2, 1] = np.nan
    elif case == "infinite value":
        values[2, 1] = np.inf
    elif case == "negative weight":
        w[1, 0] = -1.0
    elif case == "infinite weight":
        w[1, 0] = np.inf
    elif case == "zero weights":
        w[1] = 0.0
    elif case == "nan weight":
        w[0, 2] = np.nan
    assert tree_means(values, np.array([0, k]), np.arange(k), np.arange(k), w,
                      np.array([k])) is None


@pytest.mark.parametrize("k", [1, 2, 3, 6, 8, 9, 17])
def test_geometric_mean_through_weighted_means_equals_numpy(k: int) -> None:
    """The engine's geometric mean (numpy's log and exp, the kernel's weighted sum) equals the
    registered method to the bit on the C-contiguous arrays the engine passes; a zero weight
    or a non-positive child sends it back to the registered method."""
    rng = np.random.default_rng(k)
    y = np.ascontiguousarray(rng.lognormal(2, 1.5, size=(30, 41, k)))
    w = rng.random((30, k)) * 10.0 ** rng.integers(-3, 4, (30, k)) + 1e-6
    got = _geometric(y, w)
    assert got is not None
    np.testing.assert_array_equal(_bits(got), _bits(geometric(y, w)))
    w[3, 0] = 0.0
    assert _geometric(y, w) is None and weighted_means(y, w) is None
    w[3, 0] = 1.0
    y[2, 5, 0] = 0.0
    assert _geometric(y, w) is None
    assert weighted_means(np.asfortranarray(y), w) is None


def test_min_ranks_equal_scipy_rankdata() -> None:
    """Ties (runs of equal values, +0 and −0), NaN cells and a row of NaN only; the dtype too
    (int64 without NaN, float64 with)."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 401))
    x[3, :50] = 0.25
    x[4, :3] = [0.0, -0.0, 0.0]
    x[5] = np.round(x[5], 1)
    clean = x.copy()
    x[::7, 11] = np.nan
    x[9] = np.nan
    for scores in (clean, x):
        expected = rankdata(-scores, axis=-1, method="min", nan_policy="omit")
        got = min_ranks(scores)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


# ------------------------------------------------------------------ the engine, both paths


def _framework(wide: bool) -> Framework:
    nodes: list[dict[str, object]] = [{"code": "IDX"}]
    for d in ("D1", "D2", "D3"):
        nodes.append({"code": d, "parent": "IDX", "weight": 1})
        for j in range(9 if wide and d == "D2" else 3):
            nodes.append({"code": f"{d}_{j}", "parent": d, "weight": 1 + j,
                          "direction": -1 if j == 2 else 1})
    return Framework.from_records(nodes)


def _pipe(*, missing: bool = False, wide: bool = False) -> Pipeline:
    fw = _framework(wide)
    rng = np.random.default_rng(3)
    data = pd.DataFrame(rng.lognormal(2, 0.6, size=(30, len(fw.indicators))),
                        columns=fw.indicators,
                        index=pd.Index([f"u{i:02d}" for i in range(30)], name="unit"))
    if missing:
        data = data.mask(rng.random(data.shape) < 0.1)
    return Pipeline(data, fw).treat("winsorise").normalise("minmax", low=1, high=100).aggregate()


WEIGHTS = {"step": "weights", "noise": 0.3, "sets": 20}
NORMALISE = {"step": "normalise", "choices": [{"method": "minmax", "low": 1, "high": 100},
                                              {"method": "rank"}]}
CASES = {
    "treat, normalise, top-level mean": ({}, [
        NORMALISE, WEIGHTS, {"step": "aggregate", "level": 3,
                             "choices": ["arithmetic", "geometric"]},
        {"step": "treat", "param": "max_winsorised", "range": [0, 3]}]),
    "methods comparing units below": ({"wide": True}, [
        NORMALISE, WEIGHTS,
        {"step": "aggregate", "level": 2, "choices": ["arithmetic", "topsis", "geometric"]},
        {"step": "aggregate", "level": 3,
         "choices": ["arithmetic", "mazziotta_pareto", "copeland"]}]),
    "missing values (the kernel declines)": ({"missing": True}, [NORMALISE, WEIGHTS]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_engine_with_kernels_equals_the_numpy_path(case: str) -> None:
    options, inputs = CASES[case]
    pipe = _pipe(**options)
    spec = UncertaintySpec.from_dict({"replications": 500, "seed": 4, "inputs": inputs})
    fast = run_uncertainty(pipe, spec, _kernels=True)
    numpy_only = run_uncertainty(pipe, spec, _kernels=False)
    assert _digest(fast) == _digest(numpy_only)
    assert fast.ranks.dtype == numpy_only.ranks.dtype
    assert np.isfinite(fast.sobol.to_numpy()).all()


def test_engine_equals_one_replication_at_a_time() -> None:
    """The straightforward reference: for a few replications, the tree aggregated node by node
    with the registered methods on that replication alone (its normalised matrix rebuilt
    through the pipeline, its weights = the group's weights × its perturbation factors)."""
    from cocity.index.uncertainty import weight_sets

    pipe = _pipe(wide=True)
    _options, inputs = CASES["treat, normalise, top-level mean"]
    spec = UncertaintySpec.from_dict({"replications": 200, "seed": 9, "inputs": inputs})
    res = run_uncertainty(pipe, spec, sobol=False, _kernels=True)
    fw = pipe.framework
    tree = _Tree.of(fw)
    table = weight_sets(len(tree.codes), noise=0.3, sets=20, seed=9)
    for r in (0, 5, 77, res.replications - 1):
        sample = res.samples.iloc[r]
        choice = NORMALISE["choices"][int(sample["normalise"])]
        treat = {**pipe.params["treat"], "max_winsorised": int(sample["treat.max_winsorised"])}
        variant = pipe.rerun(normalise=dict(choice), treat=treat)
        weights = variant.weights[tree.codes].to_numpy(float) * table[int(sample["weights"])]
        scores = {i: variant.data["normalise"][c].to_numpy(float)
                  for i, c in enumerate(fw.indicators)}
        top = ["arithmetic", "geometric"][int(sample["aggregate.level3"])]
        for position, level, kids, default, share in tree.inner:
            fn = registry.get("aggregate", top if level == 3 else default)
            y = np.stack([scores[k] for k in kids], axis=-1)[None]
            scores[position] = fn(y, weights[kids][None], min_share=share)[0]
        np.testing.assert_array_equal(_bits(res.scores[r]), _bits(scores[len(tree.codes) - 1]))


def test_kernels_in_a_process_pool_equal_the_numpy_path() -> None:
    """The kernels run in forked pool workers after the parent has used them (they are
    single-threaded: nothing to break across the fork) and give the same results."""
    pipe = _pipe()
    _options, inputs = CASES["treat, normalise, top-level mean"]
    spec = UncertaintySpec.from_dict({"replications": 1500, "seed": 6, "inputs": inputs})
    serial = run_uncertainty(pipe, spec, _kernels=True)
    pooled = run_uncertainty(pipe, spec, executor="processes", workers=2, _kernels=True)
    assert _digest(pooled) == _digest(serial) == _digest(
        run_uncertainty(pipe, spec, _kernels=False))
