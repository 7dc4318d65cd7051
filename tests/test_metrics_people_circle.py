"""People–circle coupling on the embedded census panel, checked against its parts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cocity.datasets import open_store
from cocity.index.coupling import coupling_coordination
from cocity.index.pipeline import Pipeline
from cocity.metrics.errors import MetricInputError
from cocity.metrics.people_circle import (
    DataSelection,
    default_spec,
    load_spec,
    people_circle,
    people_circle_panel,
    subsystem_framework,
)
from cocity.spec import SpecError


@pytest.fixture(scope="module")
def result() -> tuple[pd.DataFrame, pd.DataFrame]:
    spec = default_spec()
    panel = people_circle_panel(open_store(), spec)
    return panel, people_circle(panel, spec)


def test_scores_are_the_index_engine_and_the_coupling_model(
        result: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    panel, out = result
    spec = default_spec()
    fw = subsystem_framework("people", spec.subsystems["people"])
    people = Pipeline(panel, fw).apply(spec.pipeline).scores["people"]
    np.testing.assert_allclose(out["U_people"], people.loc[out.index], rtol=1e-12)
    u1, u2 = out["U_circle"].to_numpy(), out["U_people"].to_numpy()
    c = 2 * np.sqrt(u1 * u2) / (u1 + u2)                      # traditional C for n = 2
    np.testing.assert_allclose(out["C"], c, rtol=1e-12)
    np.testing.assert_allclose(out["D"], np.sqrt(c * (u1 + u2) / 2), rtol=1e-12)
    cc = coupling_coordination(out[["U_circle", "U_people"]].to_numpy())
    np.testing.assert_allclose(out["D"], cc.D)


def test_panel_covers_both_years_and_grades_are_labelled(
        result: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, out = result
    years = set(out.index.get_level_values("year"))
    assert years == {2010, 2020}
    assert out[["U_circle", "U_people"]].stack().between(0, 1).all()
    assert out["grade_zh"].str.endswith(("失调", "协调")).all()
    assert set(out["grade_en"]).isdisjoint(set(out["grade_zh"]))
    # Living conditions rose between the censuses: the mean people score is higher in 2020.
    mean = out.groupby(level="year")["U_people"].mean()
    assert mean[2020] > mean[2010]


def test_bad_specifications(english: None, tmp_path: Path) -> None:
    doc = default_spec().model_dump()
    one = {**doc, "subsystems": {"circle": doc["subsystems"]["circle"]}}
    with pytest.raises(SpecError, match="needs exactly two subsystems, got 1"):
        load_spec(one)
    # every problem at once, each with its key path
    bad = {**doc, "coupling": {"variant": "magic"}, "colour": "red",
           "subsystems": {**doc["subsystems"], "people": {"indicators": {"x": 2}}}}
    with pytest.raises(SpecError, match="3 problem") as err:
        load_spec(bad)
    for where in ("coupling.variant", "colour", "subsystems.people.indicators.x"):
        assert where in str(err.value)
    path = tmp_path / "pc.yaml"
    path.write_text("subsystems: [1, 2\n", encoding="utf-8")
    with pytest.raises(SpecError, match="YAML syntax error"):
        load_spec(path)
    empty = default_spec().model_copy(update={"data": DataSelection(years=[1999])})
    with pytest.raises(MetricInputError, match="no data in the selection"):
        people_circle_panel(open_store(), empty)


def test_imputed_cells_are_reported(result: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    panel, out = result
    people = list(default_spec().subsystems["people"].indicators)
    missing = panel[people].isna().sum(axis=1).reindex(out.index)
    pd.testing.assert_series_equal(out["imputed_people"], missing.astype(int),
                                   check_names=False)
    gappy = panel.copy()
    gappy.loc[("510104", 2020), "schooling_years"] = np.nan
    again = people_circle(gappy)
    assert again.loc[("510104", 2020), "imputed_people"] == 1
    assert again["imputed_people"].sum() == out["imputed_people"].sum() + 1
    # 前锋区 (511603) has no comparable 2010 census figures: no 2010 row is invented for it.
    assert ("511603", 2020) in out.index and ("511603", 2010) not in out.index
