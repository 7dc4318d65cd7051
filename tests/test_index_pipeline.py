"""Replayable pipeline: hand-computed build, logging, replay, rerun/compare, panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cocity.index.errors import MethodInputError
from cocity.index.framework import Framework
from cocity.index.pipeline import Pipeline

pytestmark = pytest.mark.usefixtures("english")

TREE = [
    {"code": "IDX"},
    {"code": "A", "parent": "IDX", "weight": 1},
    {"code": "B", "parent": "IDX", "weight": 1},
    {"code": "a1", "parent": "A", "weight": 1, "direction": 1},
    {"code": "a2", "parent": "A", "weight": 1, "direction": -1},
    {"code": "b1", "parent": "B", "weight": 1, "direction": 1},
]


@pytest.fixture
def fw() -> Framework:
    return Framework.from_records(TREE)


@pytest.fixture
def data() -> pd.DataFrame:
    return pd.DataFrame({"a1": [0.0, 5.0, 10.0], "a2": [4.0, 2.0, 0.0], "b1": [1.0, 3.0, 2.0],
                         "extra": [9.0, 9.0, 9.0]}, index=pd.Index(["u", "v", "w"], name="unit"))


def test_hand_computed_build(fw: Framework, data: pd.DataFrame) -> None:
    pipe = Pipeline(data, fw).normalise("minmax").aggregate()
    # minmax 0–100; a2 is a cost indicator: (max − x)/(max − min).
    # a1 = [0, 50, 100]; a2 = [0, 50, 100]; b1 = [0, 100, 50]
    # A = mean(a1, a2) = [0, 50, 100]; B = b1; IDX = (A + B)/2 = [0, 75, 75]
    assert pipe.scores["A"].tolist() == [0, 50, 100]
    assert pipe.scores["IDX"].tolist() == [0, 75, 75]
    assert pipe.ranks["IDX"].tolist() == [3, 1, 1]
    assert [e["step"] for e in pipe.log] == ["normalise", "aggregate"]
    assert "extra" not in pipe.scores


def test_replay_changes_later_steps_only(fw: Framework, data: pd.DataFrame) -> None:
    pipe = Pipeline(data, fw).normalise("minmax").aggregate()
    before = pipe.scores.copy()
    # Geometric mean of (A, B) with a zero is an error, and the pipeline stays as it was.
    with pytest.raises(MethodInputError, match=r"geometric\ needs\ positive\ values\ but\ 2\ valu"):
        pipe.aggregate(by_level={3: "geometric"})
    pd.testing.assert_frame_equal(pipe.scores, before)
    assert pipe.params["aggregate"]["by_level"] == {}
    pipe.aggregate(by_level={3: "geometric"}, params={3: {"shift": 1.0}})
    expected = np.sqrt(np.array([1.0, 51.0, 101.0]) * np.array([1.0, 101.0, 51.0])) - 1
    assert pipe.scores["IDX"].to_numpy() == pytest.approx(expected)
    assert [e["step"] for e in pipe.log] == ["normalise", "aggregate"]
    assert pipe.log[-1]["params"]["by_level"] == {3: "geometric"}


def test_rerun_and_compare(fw: Framework, data: pd.DataFrame) -> None:
    base = Pipeline(data, fw).normalise("minmax").aggregate()
    other = base.rerun(normalise={"method": "rank"})
    assert base.scores["IDX"].tolist() == [0, 75, 75]  # the original is untouched
    assert other.params["normalise"]["method"] == "rank"
    cmp = base.compare(other)
    assert list(cmp.columns) == ["score", "rank", "score_other", "rank_other", "score_change",
                                 "rank_change"]
    assert cmp.loc["u", "rank"] == 3
    weighted = base.rerun(weight={2: {"method": "manual", "w": {"A": 3, "B": 1}}})
    # IDX = 0.75·A + 0.25·B = [0, 62.5, 87.5]
    assert weighted.scores["IDX"].to_numpy() == pytest.approx([0, 62.5, 87.5])
    with pytest.raises(MethodInputError, match="unknown step"):
        base.rerun(normalize={"method": "rank"})


def test_objective_weights_and_imputation(fw: Framework, data: pd.DataFrame) -> None:
    gappy = data.copy()
    gappy.loc["v", "a1"] = np.nan
    pipe = Pipeline(gappy, fw).impute("mean").normalise("minmax").weight("entropy").aggregate()
    assert pipe.imputed.loc["v", "a1"] and pipe.imputed.to_numpy().sum() == 1
    assert pipe.data["impute"].loc["v", "a1"] == 5.0  # mean of 0 and 10
    assert pipe.data["raw"].loc["v", "a1"] != pipe.data["raw"].loc["v", "a1"]  # raw kept NaN
    w = pipe.weights[["a1", "a2"]]
    assert w.sum() == pytest.approx(1.0) and (w > 0).all()
    entry = next(e for e in pipe.log if e["step"] == "weight")
    assert entry["level"] == 1 and set(entry["weights"]) == {"a1", "a2", "b1"}


def test_screen_and_denominate(fw: Framework, data: pd.DataFrame) -> None:
    gappy = data.copy()
    gappy.loc["w", ["a1", "a2"]] = np.nan
    pop = pd.DataFrame({"pop": [1.0, 2.0, 4.0]}, index=data.index)
    pipe = (Pipeline(gappy, fw, denominators=pop).denominate({"b1": "pop"}, scale=100)
            .screen(min_share=0.5).normalise("minmax").aggregate())
    assert pipe.data["denominate"]["b1"].tolist() == [100.0, 150.0, 50.0]
    assert list(pipe.scores.index) == ["u", "v"]
    assert pipe.log[1]["dropped"] == ["w"]
    with pytest.raises(MethodInputError, match="denominators"):
        Pipeline(data, fw).denominate({"b1": "pop"})


def test_panel_latest_imputation_pools_years(fw: Framework) -> None:
    idx = pd.MultiIndex.from_product([["u", "v"], [2019, 2020]], names=["unit", "year"])
    panel = pd.DataFrame({"a1": [1.0, np.nan, 3.0, 4.0], "a2": [1.0, 2.0, 3.0, 4.0],
                          "b1": [4.0, 3.0, 2.0, 1.0]}, index=idx)
    pipe = Pipeline(panel, fw).impute("latest").normalise("minmax").aggregate()
    assert pipe.data["impute"].loc[("u", 2020), "a1"] == 1.0  # carried forward from 2019
    # Pooled min–max over unit-years: a1 ∈ [1, 4] → u 2019 = 0, v 2020 = 100.
    assert pipe.data["normalise"].loc[("v", 2020), "a1"] == pytest.approx(100)
    assert pipe.data["normalise"].loc[("u", 2019), "a1"] == pytest.approx(0)
    with pytest.raises(MethodInputError, match="panel"):
        Pipeline(panel.droplevel(1).iloc[:2], fw).impute("latest")


def test_aggregate_needs_normalise_first(fw: Framework, data: pd.DataFrame) -> None:
    with pytest.raises(MethodInputError, match="normalise"):
        Pipeline(data, fw).aggregate()


def test_steps_as_data(fw: Framework, data: pd.DataFrame) -> None:
    steps = [{"normalise": {"method": "minmax"}}, {"aggregate": None}]
    pipe = Pipeline(data, fw).apply(steps)  # type: ignore[arg-type]
    assert pipe.scores["IDX"].tolist() == [0, 75, 75]
    with pytest.raises(MethodInputError, match="unknown step"):
        Pipeline(data, fw).apply([{"normalize": {}}])
    with pytest.raises(MethodInputError, match="one `name: params` entry"):
        Pipeline(data, fw).apply([{"normalise": {}, "aggregate": {}}])
