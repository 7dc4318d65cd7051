"""``cocity import observations`` / ``cocity import boundaries`` through the command line."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

import cocity.cli.imports
import cocity.cli.workspace  # noqa: F401  (registers `cocity init`)
from cocity.cli import app
from cocity.data.store import Store
from tests.conftest import tiny_catalog, tiny_units
from tests.test_importers import CHENGDU, EXTRA_INDICATORS, write_csv, yearbook

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("COCITY_LANG", "zh")  # restored after --lang en changed it


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace made by `cocity init`, then given the test units and catalog."""
    ws = tmp_path / "ws"
    result = runner.invoke(app, ["init", str(ws), "--dataset", "none"])
    assert result.exit_code == 0, result.output
    with Store.open(ws) as store:
        store.add_units(pd.concat([tiny_units(), CHENGDU], ignore_index=True))
        store.add_indicators(pd.concat([tiny_catalog(), EXTRA_INDICATORS], ignore_index=True))
    return ws


def observations(ws: Path) -> pd.DataFrame:
    with Store.open(ws) as store:
        return store.observations()


def test_wide_import_prints_a_chinese_summary(workspace: Path, tmp_path: Path) -> None:
    path = yearbook(tmp_path / "年鉴.xlsx")
    result = runner.invoke(app, ["import", "observations", str(path), "-w", str(workspace),
                                 "--year", "2021", "--header-rows", "3"])
    assert result.exit_code == 0, result.output
    assert "导入完成" in result.output and "宽表" in result.output
    assert "新增" in result.output and "│ 8 " in result.output
    assert len(observations(workspace)) == 8
    again = runner.invoke(app, ["--lang", "en", "import", "observations", str(path),
                                "-w", str(workspace), "--year", "2021"])
    assert again.exit_code == 0
    assert "Identical (skipped)" in again.output and "│ 8 " in again.output


def test_rejected_import_prints_a_table_and_exits_2(workspace: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "bad.csv", "unit,year,indicator,value\n"
                     "成都,2021,pop_total,-5\nAtlantis,2021,pop_total,1\n")
    before = observations(workspace)
    result = runner.invoke(app, ["--lang", "en", "import", "observations", str(path),
                                 "-w", str(workspace)])
    assert result.exit_code == 2
    out = result.output
    for text in ("2 problem(s) found; nothing was imported", "What to do", "bad.csv",
                 "value (D)", "value -5 is negative", "unknown unit 'Atlantis'",
                 "The workspace was not changed."):
        assert text in out, out
    pd.testing.assert_frame_equal(observations(workspace), before)
    monkeypatch.setenv("COCITY_LANG", "zh")  # `--lang en` set it for the whole process
    zh = runner.invoke(app, ["import", "observations", str(path), "-w", str(workspace)])
    assert zh.exit_code == 2 and "处理办法" in zh.output and "未知地区" in zh.output


def test_dry_run_and_replace(workspace: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", "地区,年份,指标,数值\n成都,2020,常住人口,100\n")
    dry = runner.invoke(app, ["import", "observations", str(path), "-w", str(workspace),
                              "--dry-run"])
    assert dry.exit_code == 0 and "校验通过" in dry.output
    assert observations(workspace).empty
    assert runner.invoke(app, ["import", "observations", str(path), "-w",
                               str(workspace)]).exit_code == 0
    changed = write_csv(tmp_path / "b.csv", "地区,年份,指标,数值\n成都,2020,常住人口,200\n")
    conflict = runner.invoke(app, ["import", "observations", str(changed), "-w", str(workspace)])
    assert conflict.exit_code == 2 and "--replace" in conflict.output
    ok = runner.invoke(app, ["import", "observations", str(changed), "-w", str(workspace),
                             "--replace"])
    assert ok.exit_code == 0
    assert observations(workspace)["value"].tolist() == [200.0]


def test_boundaries_command(workspace: Path, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "b.gpkg"
    gpd.GeoDataFrame({"区划代码": ["510100", "511002"]},
                     geometry=[shapely.box(103.9, 30.5, 104.2, 30.7),
                               shapely.box(105, 29.5, 105.1, 29.6)],
                     crs="EPSG:4326").to_crs("EPSG:3857").to_file(path, driver="GPKG")
    result = runner.invoke(app, ["--lang", "en", "import", "boundaries", str(path),
                                 "-w", str(workspace), "--datum", "gcj02"])
    assert result.exit_code == 0, result.output
    assert re.search(r"Units covered +│ 1 prefecture-level, 1 county-level", result.output), \
        result.output
    assert "reprojected from EPSG:3857" in result.output and "GCJ-02" in result.output
    with Store.open(workspace) as store:
        geo = store.geodata().set_index("code")
        assert geo.geometry["510100"].bounds == pytest.approx((103.9, 30.5, 104.2, 30.7))
        assert store.meta()["datum"] == "GCJ-02"
    monkeypatch.setenv("COCITY_LANG", "zh")
    bad = runner.invoke(app, ["import", "boundaries", str(path), "-w", str(workspace),
                              "--name-column", "名字"])
    assert bad.exit_code == 2 and "没有名为“名字”的属性列" in bad.output


def test_missing_workspace_is_a_clear_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", "unit,year,indicator,value\n")
    result = runner.invoke(app, ["--lang", "en", "import", "observations", str(path),
                                 "-w", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "is not a cocity workspace" in result.output and "cocity init" in result.output
