"""``cocity plan whatif``: the table of changed units, the files with their manifest, the
parsing of the changes and refusals without a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from cocity.cli import app
from cocity.outputs import verify_outputs
from cocity.plan.whatif import AddBeds, AddHospital, FasterLink, WhatIfError, parse_changes

runner = CliRunner()


def run(*args: str, lang: str = "zh") -> Result:
    return runner.invoke(app, ["--lang", lang, "plan", "whatif", *args],
                         env={"COLUMNS": "200"})


def test_parse_changes() -> None:
    assert parse_changes(beds=["成都:500"], hospitals=["资阳：800"],
                         links=["成都-资阳:35", "乐至县 - 成华区:20.5"]) == [
        AddBeds("成都", 500.0), AddHospital("资阳", 800.0), FasterLink("成都", "资阳", 35.0),
        FasterLink("乐至县", "成华区", 20.5)]
    with pytest.raises(WhatIfError, match="--link"):
        parse_changes(links=["成都资阳:35"])
    with pytest.raises(WhatIfError, match="成都:many"):
        parse_changes(beds=["成都:many"])
    with pytest.raises(WhatIfError, match="UNIT:BEDS"):
        parse_changes(hospitals=["资阳"])


def test_whatif_prints_the_changed_units_and_writes_its_files(tmp_path: Path) -> None:
    out = tmp_path / "whatif"
    res = run("--hospital", "资阳:800", "--link", "成都-资阳:35", "--fund", "10亿",
              "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "资阳市" in res.output and "地级单元" in res.output and "县级单元" in res.output
    assert "用时" in res.output and "秒" in res.output
    assert "未模拟" in res.output  # what a hospital does not model is said
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert verify_outputs(manifest, out) == []
    assert {"csv:changes", "csv:prefecture_units", "csv:county_units", "csv:allocation",
            "csv:notes", "xlsx", "json"} <= set(manifest["outputs"])
    assert manifest["config"]["fund_fen"] == 10**11
    assert "provenance" in manifest and manifest["provenance"]["user_data"] is False
    units = pd.read_csv(out / "prefecture_units.csv", dtype={"unit": str}).set_index("unit")
    assert units.at["512000", "scenario_score"] > units.at["512000", "baseline_score"]
    alloc = pd.read_csv(out / "allocation.csv", dtype={"unit": str})
    assert alloc.loc[alloc["unit"] == "*", "amount_scenario"].max() == 10**11
    doc = json.loads((out / "whatif.json").read_text(encoding="utf-8"))
    assert doc["kind"] == "cocity what-if" and len(doc["changes"]) == 2


def test_whatif_in_english_without_fund(tmp_path: Path) -> None:
    res = run("--beds", "Ziyang:300", "--level", "prefecture", lang="en")
    assert res.exit_code == 0, res.output
    assert "Prefecture level" in res.output and "Ziyang" in res.output
    assert "no fund size" in res.output


def test_whatif_with_a_survey_file(tmp_path: Path) -> None:
    from cocity.datasets import open_store
    from cocity.evaluate.survey import simulate_survey, write_survey

    path = write_survey(simulate_survey(open_store(), year=2020, level="county",
                                        n_per_unit=40, seed=3), tmp_path / "survey.csv")
    res = run("--beds", "资阳:300", "--level", "prefecture", "--survey", str(path))
    assert res.exit_code == 0, res.output
    assert "资阳市" in res.output


@pytest.mark.parametrize(("args", "match"), [
    (["--beds", "成都:-5"], "-5"),
    (["--link", "成都-成都:30"], "同一个单元"),
    (["--link", "成都资阳:30"], "A-B:MINUTES"),
    (["--beds", "火星:10"], "火星"),
    (["--fund", "很多"], "很多"),
])
def test_whatif_refuses_bad_input_without_a_traceback(args: list[str], match: str) -> None:
    res = run(*args, "--level", "prefecture")
    assert res.exit_code == 2
    assert match in res.output
    assert "Traceback" not in res.output


def test_help_loads_no_numerical_stack() -> None:
    from tests.test_cli_startup import HEAVY, loaded

    heavy = loaded("plan", "whatif", "--help") & set(HEAVY)
    assert heavy == set(), f"cocity plan whatif --help imported {sorted(heavy)}"
