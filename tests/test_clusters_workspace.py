"""Cluster workspaces cut from the national base (issue 15, point 3): membership, the
cluster's regional network and framework, and the evaluation and diagnostics run on two
clusters other than Chengdu–Chongqing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from cocity.access.regional import build_regional_network, default_spec, workspace_spec
from cocity.cli import app
from cocity.clusters.build import URBAN_DENSITY, ClusterData, cluster_data, load_cluster_into
from cocity.clusters.definition import load_cluster, user_cluster
from cocity.clusters.errors import ClusterError
from cocity.clusters.framework import cluster_framework
from cocity.data.store import Store
from cocity.datasets import open_store, read_observations, read_units
from cocity.evaluate.framework import load_framework
from cocity.evaluate.run import evaluate
from cocity.metrics.diagnose import run_diagnostics
from cocity.metrics.diagnose_spec import load_spec as diagnose_spec

# A fixture definition with a partial member (two counties of 常州), a core and a metro; the
# members follow 南京都市圈 loosely — a test input, not a shipped definition.
DEFINITION = {
    "name_zh": "测试城市群", "name_en": "Test cluster", "kind": "metropolitan_area",
    "members": ["南京市", "镇江市", "扬州市", {"unit": "常州市", "counties": ["金坛区", "溧阳市"]}],
    "cores": ["南京市"],
    "metros": {"ning": {"name_zh": "宁镇", "name_en": "Ning-Zhen", "members": ["南京", "镇江"]}},
}
CHANGZHUTAN = ["长沙", "株洲", "湘潭"]


@pytest.fixture(scope="module")
def test_def(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("def") / "testcluster.yaml"
    path.write_text(yaml.safe_dump(DEFINITION, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def nj(test_def: Path) -> ClusterData:
    return cluster_data(load_cluster(test_def))


@pytest.fixture(scope="module")
def czt() -> ClusterData:
    return cluster_data(user_cluster(CHANGZHUTAN, key="czt", name_zh="长株潭", name_en="CZT"))


def _store(data: ClusterData) -> Store:
    store = Store.open(None)
    load_cluster_into(store, data)
    return store


def test_membership_of_a_partial_member(nj: ClusterData) -> None:
    u = nj.units.set_index("code")
    assert u.at["320400", "membership"] == "partial"          # 常州: two counties named
    assert u.at["320100", "membership"] == "full"
    assert u.at["320000", "membership"] == "partial"          # 江苏: not every city
    changzhou = u[u["parent"] == "320400"]
    inside = set(changzhou.index[changzhou["membership"] == "full"])
    assert set(changzhou.loc[list(inside), "name_zh"]) == {"金坛区", "溧阳市"}
    assert (changzhou.drop(index=list(inside))["membership"] == "outside").all()
    assert u.at["320100", "tier"] == "core" and u.at["321100", "tier"] == "node"
    assert u.at["320100", "metro"] == "ning" and pd.isna(u.at["321000", "metro"])
    # every county of a whole member is in, and nothing from elsewhere
    base = read_units("china")
    expected = set(base.loc[base["parent"].isin(["320100", "321100", "321000"]), "code"])
    assert expected <= set(u.index[u["membership"] == "full"])
    assert set(u.index) <= set(base["code"])


def test_population_passes_through_unchanged(czt: ClusterData) -> None:
    obs = read_observations("china")
    pop = obs[(obs["indicator"] == "pop_total") & (obs["year"] == 2020)].set_index("unit")
    mine = czt.observations
    mine = mine[(mine["indicator"] == "pop_total") & (mine["year"] == 2020)].set_index("unit")
    for code in ("430100", "430200", "430300"):
        assert mine.at[code, "value"] == pop.at[code, "value"]
    # the three prefecture totals of the census: 10,047,914 + 3,902,738 + 2,726,181
    assert mine.loc[["430100", "430200", "430300"], "value"].sum() == 16_676_833


def test_network_cores_are_dense_districts(nj: ClusterData) -> None:
    core = nj.network["cores"]["320100"]
    assert nj.network["rail"].get("links", []) == []
    geo = nj.boundaries.set_index("code").set_crs(4326, allow_override=True).to_crs(6933)
    obs = nj.observations
    pop = obs[(obs["indicator"] == "pop_total") & (obs["year"] == 2020)].set_index("unit")
    units = nj.units.set_index("code")
    for code in units.index[(units["parent"] == "320100") & (units["kind"] == "district")]:
        density = pop.at[code, "value"] / (geo.loc[code].geometry.area / 1e6)
        assert (code in core["counties"]) == (density >= URBAN_DENSITY), code
    assert set(core["counties"]) == set(units.index[(units["tier"] == "core")
                                                     & (units["level"] == "county")])


def test_workspace_network_is_the_default(nj: ClusterData) -> None:
    store = _store(nj)
    spec = workspace_spec(store)
    assert list(spec.cores) == ["320100"]
    net = build_regional_network(store)
    assert set(net.edges["mode"]) == {"road"}
    assert set(net.ids) <= set(nj.units["code"])
    assert workspace_spec(open_store()) == default_spec()  # chengyu keeps its rail


def test_framework_leaves_out_what_the_base_lacks() -> None:
    # 景德镇, 鹰潭, 上饶 and 抚州 are not among the 166 cities of the 2019 yearbook snapshot
    data = cluster_data(user_cluster(["景德镇", "鹰潭", "上饶", "抚州"], key="gan"))
    cf = cluster_framework(data)
    text, left = cf.text, cf.left_out
    gone = {x.code for x in left}
    assert {"beds_shortfall", "doctors_shortfall", "nurses_shortfall", "beds_access"} <= gone
    assert all(x.covered == 0 and x.members == 4 for x in left if x.code == "beds_shortfall")
    doc = yaml.safe_load(text)
    assert gone.isdisjoint({str(n["code"]) for n in doc["nodes"]})
    assert "beds_shortfall" in {str(n["code"]) for n in load_framework().nodes}
    assert "床位" in doc["notice_zh"] and "hospital beds" in doc["notice_en"].lower()
    assert doc["name_zh"] == "gan公共服务评价"


@pytest.fixture(scope="module")
def jingjinji() -> ClusterData:
    return cluster_data(load_cluster("jingjinji"))


@pytest.fixture(scope="module")
def greater_bay_area() -> ClusterData:
    return cluster_data(load_cluster("greater_bay_area"))


@pytest.mark.parametrize("which", ["jingjinji", "greater_bay_area", "nj", "czt"])
def test_evaluation_and_diagnostics_run_on_other_clusters(
        which: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    data = request.getfixturevalue(which)
    store = _store(data)
    path = tmp_path / "framework.yaml"
    path.write_text(cluster_framework(data).text, encoding="utf-8")
    fw = load_framework(path)
    ev = evaluate(fw, store, replications=0)
    members = data.units[data.units["membership"].isin(["full", "partial"])]
    for level in ("prefecture", "county"):
        ranked = ev.levels[level].scores
        assert set(ranked.index) == set(members.loc[members["level"] == level, "code"])
        assert np.isfinite(ranked[fw.nodes[0]["code"]]).all()
    diag = run_diagnostics(store, diagnose_spec({"inequality": {"permutations": 19},
                                                 "spatial": {"permutations": 19}}))
    assert diag.inequality is not None
    summary = diag.inequality.summary
    assert set(diag.scope["code"]) == set(members.loc[members["level"] == "county", "code"])
    row = summary.iloc[0]
    assert row["theil"] == pytest.approx(row["theil_between"] + row["theil_within"])


def test_cli_init_cluster_and_evaluate(tmp_path: Path, test_def: Path) -> None:
    runner = CliRunner()
    ws = tmp_path / "ws"
    res = runner.invoke(app, ["init", str(ws), "--cluster", str(test_def)])
    assert res.exit_code == 0, res.output
    assert "测试城市群" in res.output and "金坛" not in res.output
    assert (ws / "framework.yaml").is_file() and (ws / "cocity.duckdb").is_file()
    out = tmp_path / "eval"
    res = runner.invoke(app, ["evaluate", "-w", str(ws), "--out", str(out), "--level",
                              "prefecture", "--replications", "0", "--no-pdf", "--no-previous"])
    assert res.exit_code == 0, res.output
    report = next(out.glob("runs/2020-*/report.html")).read_text(encoding="utf-8")
    assert "测试城市群公共服务评价" in report and "成渝地区双城经济圈公共服务评价" not in report


def test_cli_init_units_file_and_refusals(tmp_path: Path) -> None:
    runner = CliRunner()
    units = tmp_path / "mine.txt"
    units.write_text("长沙\n株洲\n# a comment\n湘潭\n", encoding="utf-8")
    res = runner.invoke(app, ["init", str(tmp_path / "a"), "--units", str(units),
                              "--name", "长株潭"])
    assert res.exit_code == 0, res.output
    assert "长株潭" in res.output and "3 个地级单元" in res.output
    res = runner.invoke(app, ["init", str(tmp_path / "b"), "--cluster", "no_such_cluster"])
    assert res.exit_code == 2 and "no_such_cluster" in res.output
    assert not (tmp_path / "b" / "cocity.duckdb").exists()
    bad = tmp_path / "bad.txt"
    bad.write_text("长沙\n不存在市\n", encoding="utf-8")
    res = runner.invoke(app, ["init", str(tmp_path / "c"), "--units", str(bad)])
    assert res.exit_code == 2 and "不存在市" in res.output
    assert not (tmp_path / "c" / "cocity.duckdb").exists()
    res = runner.invoke(app, ["init", str(tmp_path / "d"), "--units", str(units),
                              "--cluster", "x"])
    assert res.exit_code == 2


def test_resolve_reports_every_problem_at_once() -> None:
    bad = user_cluster(["长沙", "没有这个", "也没有"], key="x")
    with pytest.raises(ClusterError, match=r"没有这个.*也没有"):
        cluster_data(bad)


def test_a_user_cluster_takes_its_first_member_as_core(czt: ClusterData) -> None:
    u = czt.units.set_index("code")
    assert list(czt.network["cores"]) == ["430100"]           # 长沙, listed first
    assert u.at["430100", "tier"] == "core" and u.at["430200", "tier"] == "node"
    assert u.at["430000", "membership"] == "partial"          # 湖南: 3 of its 14 cities


def test_previous_edition_dropped_only_where_2010_data_are_missing(czt: ClusterData) -> None:
    cf = cluster_framework(czt)
    assert cf.no_previous is not None and cf.no_previous.covered < cf.no_previous.members / 2
    doc = yaml.safe_load(cf.text)
    assert doc["previous"] is None and 2010 not in doc["editions"]
    assert "2010" in doc["notice_zh"]
    # 广州, 深圳, 佛山 and 东莞 carry 2010 county values: the edition stays
    gd = cluster_framework(cluster_data(user_cluster(["广州", "深圳", "佛山", "东莞"], key="gd")))
    assert gd.no_previous is None and yaml.safe_load(gd.text)["previous"] == 2010
