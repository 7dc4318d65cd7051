"""``cocity access commute|lifecircle`` through the command line."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import cocity.cli.access  # registers `cocity access`
from cocity.access.life_circles import life_circles
from cocity.access.network import Network
from cocity.access.regional import (
    build_regional_network,
    commuting_circles,
    commuting_share_circles,
    default_spec,
)
from cocity.cli import app
from cocity.datasets import open_store
from cocity.outputs import verify_outputs
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
    assert len(layer) == len(table) and layer.crs.name.startswith("GCJ-02")  # not EPSG:4326
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
    assert man["kind"] == "access commute" and verify_outputs(man, out) == []
    prov = man["provenance"]
    assert prov["dataset"] == "chengyu" and prov["datum"] == "GCJ-02"
    assert prov["user_data"] is False and prov["workspace"] is None
    assert man["config"]["spec"] == default_spec().as_dict()
    n_units = len(open_store().units(level="county"))
    assert man["coverage"]["zh"] == (f"区域网络上的 {len(table)} 个有边界的县级单元"
                                     f"（数据中共 {n_units} 个县级单元）")
    assert f"范围：区域网络上的 {len(table)} 个有边界的县级单元" in output
    assert 'data-testid="provenance"' in page and "无用户导入数据" in page
    n = int(expected["within_chengdu"].sum())
    assert re.search(rf"成都 60 分钟通勤圈\s+│\s+{n - int(within.sum())} │", output), output
    assert "道路时间为模型估计" in output


def test_commute_threshold_and_spec(tmp_path: Path) -> None:
    spec = default_spec().as_dict()
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
    assert man["kind"] == "access lifecircle" and verify_outputs(man, out) == []
    assert "provenance" not in man  # no store is read: the inputs are the files
    assert man["coverage"]["en"] == "4 homes in 2 unit(s), 4 of them snapped to the network"
    assert "范围：4 个住宅点（2 个单元），其中 4 个吸附到路网" in output


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
    ("spec", "键 levels[0].walk_m: 应大于 0.0，实为 0",
     "key levels[0].walk_m: must be greater than 0.0, got 0"),
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


# ---------------------------------------------------------------------- commute --flows
def generated_flows() -> tuple[pd.DataFrame, str, str]:
    """Commuting OD rows generated from the embedded units (not data: a test input). Units are
    named by their Chinese name where it is unique, else by code. Returns the flows, a unit
    given hand-set flows and a unit left without any outgoing commuters."""
    store = open_store()
    try:
        units = store.units(level="county").reset_index(drop=True)
    finally:
        store.close()
    spec = default_spec()
    cd = list(spec.cores["chengdu"].counties)
    cq = list(spec.cores["chongqing"].counties)
    unique = ~units["name_zh"].duplicated(keep=False)
    outside = units[~units["code"].isin(cd + cq)]["code"].tolist()
    hand, silent = outside[0], outside[1]
    rows: list[tuple[str, str, float]] = []
    for i, u in units.iterrows():
        code = str(u["code"])
        label = str(u["name_zh"]) if unique.iloc[i] and i % 2 else code
        if code == silent:
            rows.append((cd[0], code, 40.0))  # commuters *into* it only
            continue
        if code == hand:  # 600 stay, 300 to Chengdu, 100 to Chongqing: 30 % and 10 %
            rows += [(label, code, 600.0), (label, cd[-1], 300.0), (code, cq[0], 100.0)]
            continue
        rows += [(label, code, 1000.0), (code, cd[i % len(cd)], float((i * 37) % 300)),
                 (code, cq[0], float((i * 53) % 200))]
    return pd.DataFrame(rows, columns=["origin", "destination", "commuters"]), hand, silent


@pytest.fixture(scope="module")
def flows_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, str, str]:
    folder = tmp_path_factory.mktemp("flows")
    flows, hand, silent = generated_flows()
    path = folder / "flows.csv"
    flows.to_csv(path, index=False)
    result = runner.invoke(app, ["access", "commute", "--flows", str(path), "--out",
                                 str(folder / "out")],
                           env={"COLUMNS": "400", "COCITY_LANG": "zh"})
    assert result.exit_code == 0, result.output
    return folder / "out", path, hand, silent, result.output


def test_commute_flows_add_the_share_membership(
        flows_out: tuple[Path, Path, str, str, str]) -> None:
    out, path, hand, silent, output = flows_out
    table = pd.read_csv(out / "commute.csv", dtype={"unit": str, "parent": str})
    # the library on the same flows given as codes
    store = open_store()
    try:
        raw = pd.read_csv(path, dtype=str)
        codes = raw.assign(origin=[store.resolve(v, level="county") for v in raw["origin"]],
                           destination=[store.resolve(v, level="county")
                                        for v in raw["destination"]],
                           commuters=raw["commuters"].astype(float))
    finally:
        store.close()
    spec = default_spec()
    cores = {k: list(v.counties) for k, v in spec.cores.items()}
    expected = commuting_share_circles(codes, cores, threshold=0.10)
    tab = table.set_index("unit")
    with_flows = expected.index[~expected["no_flows"]].intersection(tab.index)
    for core in cores:
        np.testing.assert_allclose(tab.loc[with_flows, f"share_{core}"],
                                   expected.loc[with_flows, f"share_{core}"])
        assert tab.loc[with_flows, f"within_share_{core}"].tolist() == \
            expected.loc[with_flows, f"within_{core}"].tolist()
    # the hand-set unit: 300 of 1,000 to Chengdu, 100 of 1,000 to Chongqing (≥ 10 %: both)
    assert tab.loc[hand, "share_chengdu"] == pytest.approx(0.3)
    assert tab.loc[hand, "share_chongqing"] == pytest.approx(0.1)
    assert tab.loc[hand, "circle_share"] == "both"
    # a unit without outgoing commuters has no share and its own class
    assert bool(tab.loc[silent, "no_flows"]) and np.isnan(tab.loc[silent, "share_chengdu"])
    assert tab.loc[silent, "circle_share"] == "no_flows"
    # the core's own units stay in its circle
    assert tab.loc[cores["chengdu"], "within_share_chengdu"].all()
    # the comparison in the manifest and the workbook follows from the table
    man = json.loads((out / "commute.json").read_text(encoding="utf-8"))
    assert man["flows"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert man["flows"]["rows"] == len(raw) and man["flows"]["share_threshold"] == 0.10
    compared = tab[~tab["no_flows"].astype(bool)]
    for core in cores:
        time_only = compared.index[compared[f"within_{core}"] & ~compared[f"within_share_{core}"]]
        share_only = compared.index[~compared[f"within_{core}"] & compared[f"within_share_{core}"]]
        assert man["flows"]["comparison"][core] == {"time_only": time_only.tolist(),
                                                    "share_only": share_only.tolist()}
        assert man["flows"]["within_share"][core] == int(tab[f"within_share_{core}"].sum())
    xlsx = pd.read_excel(out / "commute.xlsx", sheet_name=None, dtype={"unit": str})
    assert set(xlsx) == {"commute", "links", "comparison", "flows"}
    assert len(xlsx["flows"]) == len(raw)
    assert len(xlsx["comparison"]) == sum(len(v["time_only"]) + len(v["share_only"])
                                          for v in man["flows"]["comparison"].values())
    layer = gpd.read_file(out / "commute.gpkg", layer="counties")
    assert layer.set_index("unit").loc[hand, "circle_share"] == "both"
    page = (out / "commute.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert 'id="fig-circles-share"' in page and 'data-testid="comparison-table"' in page
    assert "按通勤比例的通勤圈" in page and "Circles by commuting share" in page
    assert man["flows"]["sha256"] in page
    # terminal: the share table and the comparison per core
    n_both = int((tab["circle_share"] == "both").sum())
    assert re.search(rf"同属两个通勤圈（通勤比例 ≥ 10%）\s+│\s+{n_both} │", output), output
    n_time = len(man["flows"]["comparison"]["chengdu"]["time_only"])
    assert f"成都：仅在时间圈内 {n_time} 个" in output


def test_commute_flows_from_xlsx_with_another_threshold(tmp_path: Path) -> None:
    flows, hand, _silent = generated_flows()
    path = tmp_path / "flows.xlsx"
    flows.to_excel(path, index=False)
    code, output = invoke("--lang", "en", "access", "commute", "--flows", str(path),
                          "--share-threshold", "0.25", "--out", str(tmp_path / "o"))
    assert code == 0, output
    tab = pd.read_csv(tmp_path / "o" / "commute.csv", dtype={"unit": str}).set_index("unit")
    assert tab.loc[hand, "circle_share"] == "first"  # 30 % ≥ 25 %, 10 % < 25 %
    has = ~tab["no_flows"].astype(bool)
    cores = default_spec().cores
    for core, v in cores.items():
        member = tab.index.isin(list(v.counties))
        expected = (tab[f"share_{core}"] >= 0.25) | member
        assert (tab.loc[has, f"within_share_{core}"] == expected[has]).all()
    assert "Circles by commuting share (≥ 25%" in output


def test_commute_without_flows_has_no_share_columns(commute_out: tuple[Path, str]) -> None:
    out, _ = commute_out
    table = pd.read_csv(out / "commute.csv")
    assert not [c for c in table.columns if "share" in c or c == "no_flows"]
    man = json.loads((out / "commute.json").read_text(encoding="utf-8"))
    assert "flows" not in man
    assert 'id="fig-circles-share"' not in (out / "commute.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(("rows", "args", "zh", "en"), [
    ([("Nowhere", "510104", 5), ("市中区", "510104", 3), ("Nowhere", "Atlantis", 1)], [],
     "3 个起讫名称无法对应到唯一的县级单元", "origin \"Nowhere\" (row 2, 4)"),
    ([("510104", "510104", -5)], [], "通勤人数须为非负数字", "row 2"),
    ([("510104", "510104", 5)], ["--share-threshold", "0"], "通勤比例阈值须大于 0",
     "must be above 0 and at most 1"),
])
def test_commute_flows_errors_exit_2(tmp_path: Path, rows: list[tuple[str, str, float]],
                                     args: list[str], zh: str, en: str) -> None:
    path = tmp_path / "flows.csv"
    pd.DataFrame(rows, columns=["origin", "destination", "commuters"]).to_csv(path, index=False)
    argv = ["access", "commute", "--flows", str(path), *args, "--out", str(tmp_path / "o")]
    code, output = invoke(*argv)
    assert code == 2 and "错误" in output and zh in output, output
    code, output = invoke("--lang", "en", *argv)
    assert code == 2 and en in output, output
    assert not (tmp_path / "o").exists()


def test_commute_flows_reports_every_unknown_name(tmp_path: Path) -> None:
    path = tmp_path / "flows.csv"
    pd.DataFrame([("Nowhere", "510104", 5), ("市中区", "510104", 3),
                  ("Nowhere", "Atlantis", 1)],
                 columns=["origin", "destination", "commuters"]).to_csv(path, index=False)
    code, output = invoke("--lang", "en", "access", "commute", "--flows", str(path), "--out",
                          str(tmp_path / "o"))
    assert code == 2
    text = " ".join(output.split())
    assert 'origin "Nowhere" (row 2, 4)' in text
    assert 'origin "市中区" (row 3, ambiguous)' in text
    assert 'destination "Atlantis" (row 4)' in text


def test_commute_flows_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "flows.csv"
    pd.DataFrame({"from": ["510104"], "to": ["510104"], "commuters": [1]}).to_csv(path,
                                                                               index=False)
    code, output = invoke("access", "commute", "--flows", str(path), "--out",
                          str(tmp_path / "o"))
    assert code == 2 and "缺少列：origin, destination" in " ".join(output.split()), output
    assert not (tmp_path / "o").exists()


def test_access_cli_module_is_light_and_catches_nothing_broad() -> None:
    from cocity.access.decay import DECAYS
    from cocity.access.measure_run import MEASURE_METHODS
    from tests.test_index_cli import LIGHT, broad_handlers, module_level_imports

    heavy = [m for m in module_level_imports("cocity.cli.access")
             if not any(m == ok or m.startswith(ok + ".") for ok in LIGHT)]
    assert heavy == []
    assert broad_handlers("cocity.cli.access") == []
    assert cocity.cli.access.MEASURE_METHODS == MEASURE_METHODS  # help pages list them all
    assert tuple(DECAYS) == cocity.cli.access.DECAY_NAMES
