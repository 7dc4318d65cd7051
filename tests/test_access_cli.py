"""``cocity access commute|lifecircle`` through the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import cocity.cli.access  # noqa: F401  (registers `cocity access`)
from cocity.access.life_circles import life_circles
from cocity.access.network import Network
from cocity.access.regional import build_regional_network, commuting_circles, default_spec
from cocity.cli import app
from cocity.data.store import open_store
from tests.test_access_life_circles import FACILITIES, HOMES, SPEC, grid

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setenv("COCITY_LANG", "zh")


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def assert_self_contained(page: str) -> None:
    assert page.count("plotly.js v") == 1
    assert "default-src 'none'" in page
    start = page.index("<script>/**")
    rest = page[:start] + page[page.index("</script>", start):]
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", rest)
    assert 'data-set-lang="zh"' in page and 'data-set-lang="en"' in page


# ---------------------------------------------------------------------- commute
@pytest.fixture(scope="module")
def commute_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("commute")
    result = runner.invoke(app, ["access", "commute", "--out", str(out)],
                           env={"COLUMNS": "400", "COCITY_LANG": "zh"})
    assert result.exit_code == 0, result.output
    return out, result.output


def test_commute_writes_every_output_equal_to_the_engine(commute_out: tuple[Path, str]) -> None:
    out, output = commute_out
    expected = commuting_circles(build_regional_network(open_store()), default_spec())
    table = pd.read_csv(out / "commute.csv", dtype={"unit": str, "parent": str})
    assert table["unit"].tolist() == expected.index.tolist()
    cols = list(expected.columns)
    pd.testing.assert_frame_equal(table.set_index("unit")[cols], expected[cols],
                                  check_names=False)
    within = expected["within_chengdu"] & expected["within_chongqing"]
    assert (table["circle"] == "both").sum() == within.sum()
    assert (table["circle"] == "first").tolist() == (
        expected["within_chengdu"] & ~expected["within_chongqing"]).tolist()
    xlsx = pd.read_excel(out / "commute.xlsx", sheet_name=None, dtype={"unit": str})
    assert set(xlsx) == {"commute", "links"}
    assert xlsx["commute"]["minutes_chengdu"].tolist() == table["minutes_chengdu"].tolist()
    layer = gpd.read_file(out / "commute.gpkg", layer="counties")
    assert len(layer) == len(table) and layer.crs.to_epsg() == 4326
    assert layer.set_index("unit").loc[table["unit"], "within_chongqing"].astype(bool).tolist() \
        == table["within_chongqing"].tolist()
    page = (out / "commute.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert "道路时间为模型估计" in page and "Road times are modelled" in page
    for fig_id in ("fig-minutes-0", "fig-minutes-1", "fig-circles"):
        assert f'id="{fig_id}"' in page
    assert page.count("成渝高铁") >= 2  # rail table and map hover
    man = json.loads((out / "commute.json").read_text(encoding="utf-8"))
    assert man["within"] == {"chengdu": int(expected["within_chengdu"].sum()),
                             "chongqing": int(expected["within_chongqing"].sum())}
    assert set(man["outputs"]) == {"csv", "xlsx", "gpkg", "html"}
    n = int(expected["within_chengdu"].sum())
    assert re.search(rf"成都 60 分钟通勤圈\s+│\s+{n - int(within.sum())} │", output), output
    assert "道路时间为模型估计" in output


def test_commute_threshold_and_spec(tmp_path: Path) -> None:
    spec = default_spec()
    spec["road"]["speed_kmh"] = 90
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    code, output = invoke("--lang", "en", "access", "commute", "--spec", str(path),
                          "--threshold", "45", "--out", str(tmp_path / "o"))
    assert code == 0, output
    table = pd.read_csv(tmp_path / "o" / "commute.csv", dtype={"unit": str})
    spec["threshold_minutes"] = 45
    expected = commuting_circles(build_regional_network(open_store(), spec), spec)
    assert table["within_chengdu"].tolist() == expected["within_chengdu"].tolist()
    assert "45-minute commuting circles" in output


@pytest.mark.parametrize(("args", "zh", "en"), [
    (["--threshold", "0"], "通勤时间阈值须为正数", "the commuting threshold must be positive"),
    (["--spec", "no_such.yaml"], "no_such.yaml", "no_such.yaml"),
])
def test_commute_errors_exit_2(tmp_path: Path, args: list[str], zh: str, en: str) -> None:
    code, output = invoke("access", "commute", *args, "--out", str(tmp_path / "o"))
    assert code == 2 and "错误" in output and zh in output, output
    code, output = invoke("--lang", "en", "access", "commute", *args, "--out",
                          str(tmp_path / "o"))
    assert code == 2 and "Error" in output and en in output, output
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------------- lifecircle
def write_inputs(folder: Path, net: Network) -> dict[str, Path]:
    arcs = net.arcs_frame()
    arcs = arcs[arcs["u"] < arcs["v"]][["u", "v", "length_m"]].rename(
        columns={"length_m": "length"})
    paths = {"edges": folder / "edges.csv", "nodes": folder / "nodes.csv",
             "homes": folder / "homes.csv", "facilities": folder / "facilities.csv",
             "spec": folder / "spec.yaml"}
    arcs.to_csv(paths["edges"], index=False)
    net.nodes_frame().to_csv(paths["nodes"], index=False)
    HOMES.to_csv(paths["homes"], index=False)
    FACILITIES.to_csv(paths["facilities"], index=False)
    paths["spec"].write_text(yaml.safe_dump(SPEC, allow_unicode=True, sort_keys=False),
                             encoding="utf-8")
    return paths


def test_lifecircle_on_a_synthetic_network(tmp_path: Path) -> None:
    net = grid()
    p = write_inputs(tmp_path, net)
    out = tmp_path / "out"
    code, output = invoke("access", "lifecircle", "--network", str(p["edges"]), "--nodes",
                          str(p["nodes"]), "--homes", str(p["homes"]), "--facilities",
                          str(p["facilities"]), "--spec", str(p["spec"]), "--out", str(out))
    assert code == 0, output
    expected = life_circles(net, HOMES, FACILITIES, spec=SPEC)
    homes = pd.read_csv(out / "tables" / "homes.csv")
    for k in ("shop", "clinic", "school", "park"):
        np.testing.assert_array_equal(homes[f"dist_{k}"].to_numpy(),
                                      expected.homes[f"dist_{k}"].to_numpy())
    assert homes["finest_level"].tolist() == ["none", "A", "none", "none"]
    by_unit = pd.read_csv(out / "tables" / "by_unit.csv")
    pd.testing.assert_frame_equal(by_unit, expected.by_unit)
    gaps = pd.read_csv(out / "tables" / "gaps.csv")
    assert gaps["type"].tolist() == expected.gaps["type"].tolist()
    xlsx = pd.read_excel(out / "lifecircle.xlsx", sheet_name=None)
    assert {"homes", "by_unit", "by_type", "by_unit_type", "gaps"} <= set(xlsx)
    layer = gpd.read_file(out / "lifecircle.gpkg", layer="homes")
    assert layer["missing"].tolist() == ["clinic,school", None, "shop,clinic,school,park",
                                         "clinic,park"] or layer["missing"].fillna("").tolist() \
        == ["clinic,school", "", "shop,clinic,school,park", "clinic,park"]
    assert layer["covered_A"].astype(bool).tolist() == [False, True, False, False]
    gap_layer = gpd.read_file(out / "lifecircle.gpkg", layer="gaps")
    assert len(gap_layer) == len(expected.gaps)
    page = (out / "lifecircle.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert 'id="fig-homes"' in page and 'id="fig-types"' in page
    # level A: 300 of 475 people covered
    assert "63.2%" in page and "63.2%" in output
    man = json.loads((out / "lifecircle.json").read_text(encoding="utf-8"))
    assert man["inputs"]["homes"]["file"] == str(p["homes"]) and man["inputs"]["homes"]["sha256"]


def test_lifecircle_reports_far_points_and_absent_types(tmp_path: Path) -> None:
    net = grid()
    p = write_inputs(tmp_path, net)
    far = pd.concat([HOMES, pd.DataFrame({"id": ["far"], "x": [9000.0], "y": [0.0],
                                          "population": [7.0], "unit": ["u1"]})])
    far.to_csv(p["homes"], index=False)
    code, output = invoke("--lang", "en", "access", "lifecircle", "-n", str(p["edges"]),
                          "--nodes", str(p["nodes"]), "--homes", str(p["homes"]),
                          "--facilities", str(p["facilities"]), "--out", str(tmp_path / "o"))
    assert code == 0, output
    assert "1 home(s) (population 7) lie more than 500 m" in output
    # the shipped GB 50180 spec knows none of the test's types
    assert "every home lacks them: kindergarten, elderly_day_care" in output
    assert "ignored: clinic, park, school, shop" in output
    page = (tmp_path / "o" / "lifecircle.html").read_text(encoding="utf-8")
    assert "lie more than 500 m" in page
    homes = pd.read_csv(tmp_path / "o" / "tables" / "homes.csv")
    assert homes["finest_level"].iloc[-1] == "not_snapped"


@pytest.mark.parametrize(("change", "zh", "en"), [
    ("network", "无法识别路网文件格式", "unknown network file format"),
    ("homes", "住宅缺少列 population", "homes lack the column population"),
    ("spec", "步行距离须为正数", "walking distance of level A must be positive"),
    ("missing", "missing.csv", "missing.csv"),
])
def test_lifecircle_errors_exit_2(tmp_path: Path, change: str, zh: str, en: str) -> None:
    p = write_inputs(tmp_path, grid())
    if change == "network":
        bad = tmp_path / "edges.xyz"
        bad.write_text("u,v\n", encoding="utf-8")
        p["edges"] = bad
    elif change == "homes":
        HOMES.drop(columns="population").to_csv(p["homes"], index=False)
    elif change == "spec":
        spec = yaml.safe_load(p["spec"].read_text(encoding="utf-8"))
        spec["levels"][0]["walk_m"] = 0
        p["spec"].write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    else:
        p["facilities"] = tmp_path / "missing.csv"
    args = ["access", "lifecircle", "-n", str(p["edges"]), "--nodes", str(p["nodes"]),
            "--homes", str(p["homes"]), "--facilities", str(p["facilities"]), "--spec",
            str(p["spec"]), "--out", str(tmp_path / "o")]
    code, output = invoke(*args)
    assert code == 2 and zh in output, output
    code, output = invoke("--lang", "en", *args)
    assert code == 2 and en in output, output
    assert not (tmp_path / "o").exists()


def test_lifecircle_reads_geopackages(tmp_path: Path) -> None:
    """Streets as a GeoPackage line layer, homes and facilities as point layers (EPSG:32648)."""
    import shapely

    net = grid()
    arcs = net.arcs_frame()
    arcs = arcs[arcs["u"] < arcs["v"]]
    pos_u, pos_v = net.index_of(arcs["u"]), net.index_of(arcs["v"])
    lines = shapely.linestrings(np.stack([np.column_stack([net.x[pos_u], net.y[pos_u]]),
                                          np.column_stack([net.x[pos_v], net.y[pos_v]])],
                                         axis=1))
    crs = "EPSG:32648"
    gpd.GeoDataFrame({"highway": ["residential"] * len(lines)}, geometry=lines, crs=crs).to_file(
        tmp_path / "streets.gpkg", engine="pyogrio")
    gpd.GeoDataFrame(HOMES, geometry=gpd.points_from_xy(HOMES["x"], HOMES["y"]),
                     crs=crs).drop(columns=["x", "y"]).to_file(tmp_path / "homes.gpkg",
                                                               engine="pyogrio")
    gpd.GeoDataFrame(FACILITIES, geometry=gpd.points_from_xy(FACILITIES["x"], FACILITIES["y"]),
                     crs=crs).drop(columns=["x", "y"]).to_file(tmp_path / "fac.gpkg",
                                                               engine="pyogrio")
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC, allow_unicode=True, sort_keys=False), encoding="utf-8")
    code, output = invoke("access", "lifecircle", "-n", str(tmp_path / "streets.gpkg"),
                          "--homes", str(tmp_path / "homes.gpkg"), "--facilities",
                          str(tmp_path / "fac.gpkg"), "--spec", str(spec), "--out",
                          str(tmp_path / "o"))
    assert code == 0, output
    homes = pd.read_csv(tmp_path / "o" / "tables" / "homes.csv")
    expected = life_circles(net, HOMES, FACILITIES, spec=SPEC).homes
    for k in ("shop", "clinic", "school", "park"):
        np.testing.assert_allclose(homes[f"dist_{k}"], expected[f"dist_{k}"])
    layer = gpd.read_file(tmp_path / "o" / "lifecircle.gpkg", layer="homes")
    assert layer.crs.to_epsg() == 32648
