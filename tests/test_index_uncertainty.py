"""Uncertainty engine: vectorised replications equal rebuilt pipelines; Sobol indices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cocity.index.errors import FrameworkError, MethodInputError
from cocity.index.framework import Framework
from cocity.index.pipeline import Pipeline
from cocity.index.uncertainty import (
    STREAMS,
    UncertaintySpec,
    data_sets,
    rebuild_replication,
    run_uncertainty,
    streams,
    weight_sets,
)

pytestmark = pytest.mark.usefixtures("english")


def _framework() -> Framework:
    nodes = [{"code": "IDX"}]
    for d in ("D1", "D2", "D3"):
        nodes.append({"code": d, "parent": "IDX", "weight": 1})
        for j in range(3):
            nodes.append({"code": f"{d}_{j}", "parent": d, "weight": 1 + j,
                          "direction": -1 if j == 2 else 1})
    return Framework.from_records(nodes)


@pytest.fixture
def pipe() -> Pipeline:
    rng = np.random.default_rng(3)
    fw = _framework()
    data = pd.DataFrame(rng.lognormal(2, 0.6, size=(25, 9)), columns=fw.indicators,
                        index=pd.Index([f"u{i:02d}" for i in range(25)], name="unit"))
    return Pipeline(data, fw).treat("winsorise").normalise("minmax", low=1, high=100).aggregate()


SPEC = {
    "replications": 300, "seed": 7,
    "inputs": [
        {"step": "normalise", "choices": [{"method": "minmax", "low": 1, "high": 100},
                                          {"method": "rank"}]},
        {"step": "aggregate", "level": 3, "choices": ["arithmetic", "geometric"]},
        {"step": "weights", "noise": 0.3, "sets": 20},
        {"step": "treat", "param": "max_winsorised", "range": [0, 3]},
    ],
}


def test_vectorised_replications_equal_rebuilt_pipelines(pipe: Pipeline) -> None:
    spec = UncertaintySpec.from_dict(SPEC)
    res = run_uncertainty(pipe, spec, sobol=False)
    assert res.replications == 64 * (4 + 2)  # N = 2^⌈log2(300/6)⌉ = 64
    for r in (0, 7, 101, 250, res.replications - 1):
        rebuilt = rebuild_replication(pipe, spec, sample=res.samples.iloc[r])
        np.testing.assert_allclose(res.scores[r], rebuilt.to_numpy(), rtol=1e-10)


def test_reproducible_parallel_and_summarised(pipe: Pipeline) -> None:
    spec = UncertaintySpec.from_dict(SPEC)
    a = run_uncertainty(pipe, spec, seed=1)
    b = run_uncertainty(pipe, spec, seed=1, workers=2)
    np.testing.assert_array_equal(a.scores, b.scores)
    pd.testing.assert_frame_equal(a.sobol, b.sobol)
    summary = a.rank_summary
    assert list(summary.columns) == ["nominal_rank", "median_rank", "p05", "p95"]
    assert (summary.p05 <= summary.median_rank).all() and (summary.median_rank <= summary.p95).all()
    assert summary.nominal_rank.to_dict() == pipe.ranks["IDX"].to_dict()
    c = run_uncertainty(pipe, spec, seed=2, sobol=False)
    assert not np.array_equal(a.scores, c.scores)


def test_results_do_not_depend_on_the_order_of_the_inputs(pipe: Pipeline) -> None:
    spec = UncertaintySpec.from_dict(SPEC)
    turned = UncertaintySpec.from_dict({**SPEC, "inputs": SPEC["inputs"][::-1]})
    a, b = run_uncertainty(pipe, spec), run_uncertainty(pipe, turned)
    np.testing.assert_array_equal(a.scores, b.scores)
    pd.testing.assert_frame_equal(a.samples, b.samples[a.samples.columns])
    assert list(b.sobol.index) == [i["step"] if i["step"] not in ("aggregate", "treat") else
                                   {"aggregate": "aggregate.level3",
                                    "treat": "treat.max_winsorised"}[i["step"]]
                                   for i in SPEC["inputs"][::-1]]  # listed as in the file
    pd.testing.assert_frame_equal(a.sobol, b.sobol.loc[a.sobol.index])


def test_each_role_draws_from_its_own_stream(pipe: Pipeline) -> None:
    """One seed, SeedSequence(seed).spawn(4): the design, the weight sets, the data sets and
    the bootstrap never share a stream (with the bare seed, the weights' uniforms and the
    data's normals would come from the same bits)."""
    children = streams(5)
    assert list(children) == list(STREAMS)
    assert len({tuple(c.generate_state(4)) for c in children.values()}) == len(STREAMS)
    assert all(c.entropy == 5 for c in children.values())
    w = weight_sets(9, noise=0.3, sets=4, seed=5)
    np.testing.assert_array_equal(w, weight_sets(9, noise=0.3, sets=4,
                                                 seed=children["weights"]))
    assert not np.allclose(w, np.random.default_rng(5).uniform(0.7, 1.3, (4, 9)))
    se = pd.DataFrame(1.0, index=pipe.raw.index, columns=pipe.raw.columns)
    noise = data_sets(pipe.raw, se, sets=4, seed=5) - pipe.raw.to_numpy()[None]
    np.testing.assert_allclose(
        noise, np.random.default_rng(children["data"]).standard_normal((4, *pipe.raw.shape)))
    shared = np.random.default_rng(children["weights"]).standard_normal((4, *pipe.raw.shape))
    assert not np.allclose(noise, shared)


def test_sobol_indices_find_the_input_that_matters(pipe: Pipeline) -> None:
    # "generalised" with its default p = 1 *is* the arithmetic mean: that choice changes
    # nothing, so its indices must be ≈ 0 while the normalisation carries the variance.
    spec = UncertaintySpec.from_dict({
        "replications": 2000, "seed": 3,
        "inputs": [
            {"step": "normalise", "choices": [{"method": "minmax", "low": 1, "high": 100},
                                              {"method": "rank"}, {"method": "zscore"}]},
            {"step": "aggregate", "level": 3, "choices": ["arithmetic", "generalised"]},
        ]})
    res = run_uncertainty(pipe, spec)
    s = res.sobol
    assert s.loc["aggregate.level3", "ST"] == pytest.approx(0, abs=1e-9)
    assert s.loc["normalise", "ST"] > 0.9 and s.loc["normalise", "S1"] > 0.9
    assert list(s.columns) == ["S1", "S1_conf", "ST", "ST_conf"]


@pytest.mark.parametrize(("bad", "message"), [
    ({"inputs": []}, r"key uncertainty\.inputs: needs at least 1 item"),
    ({"inputs": [{"step": "colour"}]}, r"uncertainty\.inputs\[0\]\.step: 'colour' is not one of"),
    ({"inputs": [{"step": "normalise", "choices": ["minmax"]}]}, "at least two choices"),
    ({"inputs": [{"step": "aggregate", "choices": ["arithmetic", "geometric"]}]}, "needs `level`"),
    ({"inputs": [{"step": "treat", "range": [0, 3]}]}, "needs `param` and `range`"),
    ({"inputs": [{"step": "normalise", "choices": ["minmax", "rnk"]}]},
     r"choices\[1\]: step normalise has no method rnk \(did you mean rank\?\)"),
    ({"inputs": [{"step": "weights"}, {"step": "weights", "sets": 4}]}, "more than once: weights"),
    ({"seed": -1, "inputs": [{"step": "weights", "nois": 0.1}]},
     r"(?s)uncertainty\.seed: must be at least 0.*inputs\[0\]\.nois: unknown key"),
])
def test_bad_specs(bad: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(FrameworkError, match=message):
        UncertaintySpec.from_dict(bad)


def test_measurement_error_as_an_input(pipe: Pipeline) -> None:
    """A ``data`` input picks one of several perturbed data sets (x + N(0, se)); the engine
    equals the rebuilt pipelines, cells without a standard error never move, and Sobol' finds
    the input when the errors are large."""
    se = pd.DataFrame(np.nan, index=pipe.raw.index, columns=pipe.raw.columns)
    se["D1_0"] = pipe.raw["D1_0"].std() * 2
    spec = UncertaintySpec.from_dict({"replications": 200, "seed": 5, "inputs": [
        {"step": "data", "sets": 16}, {"step": "weights", "noise": 0.01, "sets": 8}]})
    res = run_uncertainty(pipe, spec, data_se=se)
    for r in (0, 33, res.replications - 1):
        rebuilt = rebuild_replication(pipe, spec, sample=res.samples.iloc[r], data_se=se)
        np.testing.assert_allclose(res.scores[r], rebuilt.to_numpy(), rtol=1e-10)
    assert res.sobol.loc["data", "ST"] > 5 * res.sobol.loc["weights", "ST"]
    from cocity.index.uncertainty import data_sets

    sets = data_sets(pipe.raw, se, sets=16, seed=5)
    assert sets.shape == (16, *pipe.raw.shape)
    assert np.array_equal(sets[:, :, 1], np.broadcast_to(pipe.raw["D1_1"].to_numpy(), (16, 25)))
    assert not np.allclose(sets[:, :, 0], pipe.raw["D1_0"].to_numpy())
    with pytest.raises(MethodInputError, match="data_se"):
        run_uncertainty(pipe, spec)
