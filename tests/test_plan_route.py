"""``cocity plan route`` on the default data: the attractions file, the corridors, the plans,
the page and the command line (default run and refusals)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cocity.cli import app
from cocity.datasets import open_store
from cocity.outputs import verify_outputs
from cocity.plan.errors import PlanInputError
from cocity.plan.region import load_region
from cocity.plan.route_inputs import Settings, clock, demo_path, hhmm, read_attractions
from cocity.plan.route_run import build_instance, plan_routes, routes_table, stops_table
from cocity.plan.routing import evaluate_route
from cocity.spec import SpecError, validate_spec
from tests.plan_docs import planning_section

runner = CliRunner()
ENV = {"COLUMNS": "400", "COCITY_LANG": "zh"}


@pytest.fixture(scope="module")
def store():
    return open_store()


@pytest.fixture(scope="module")
def plan(store):
    return plan_routes(store)


def test_clock_round_trip():
    assert clock("08:30") == 510 and clock("24:00") == 1440
    assert clock("09:15:00") == 555  # a spreadsheet's time cell
    assert clock("8.30") is None and clock("25:00") is None and clock("10:60") is None
    assert hhmm(510.4) == "08:30" and hhmm(1440 + 75) == "01:15+1"


def test_demo_file_is_flagged_and_every_county_is_in_the_region(store, plan):
    demo = pd.read_csv(demo_path(), dtype=str, keep_default_na=False)
    assert (demo["illustrative"] == "true").all()
    # the source text's own examples are in the file
    assert {"洪崖洞", "宽窄巷子", "李白故里", "泸州老窖旅游区"} <= set(demo["name_zh"])
    a = plan.attractions
    assert len(a) == len(demo)
    assert set(a["code"]) <= set(plan.region.codes)
    where = dict(zip(a["name_zh"], a["code"], strict=True))
    assert where["洪崖洞"] == "500103" and where["宽窄巷子"] == "510105"
    assert where["李白故里"] == "510781" and where["泸州老窖旅游区"] == "510502"
    assert a["default_window"].all() and plan.illustrative


def test_bad_rows_are_named_all_at_once(store, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        "name_zh,name_en,county,score,visit_minutes,opens,closes,theme\n"
        "宽窄巷子,Kuanzhai Alley,青羊区,8,90,09:00,17:00,history\n"
        "甲,A,不存在县,5,60,,,x\n"
        "乙,B,渝中区,-1,abc,09:00,08:00,x\n"
        "宽窄巷子,C,渝中区,5,60,9点,,x\n"
        "天生三桥,Three Natural Bridges,武隆区,5,60,,,nature\n", encoding="utf-8")
    with pytest.raises(PlanInputError) as err:
        read_attractions(store, path, counties=load_region(store).codes)
    msg = str(err.value)
    assert "第 3 行 county「不存在县」" in msg
    assert "第 4 行 score「-1」" in msg and "第 4 行 visit_minutes「abc」" in msg
    assert "第 4 行 closes「08:00」" in msg
    assert "第 5 行 name_zh「宽窄巷子」" in msg and "第 5 行 opens「9点」" in msg
    assert "第 6 行 county「武隆区」：不在成渝地区双城经济圈内" in msg  # outside the circle
    assert "有 8 处错误" in msg
    lacking = tmp_path / "b.csv"
    lacking.write_text("name_zh,county\n甲,渝中区\n", encoding="utf-8")
    with pytest.raises(PlanInputError, match="缺少列：name_en, score"):
        read_attractions(store, lacking)
    with pytest.raises(PlanInputError, match="找不到景点文件"):
        read_attractions(store, tmp_path / "none.csv")


def test_user_xlsx_with_hours_is_read(store, tmp_path):
    frame = pd.DataFrame({"name_zh": ["武侯祠"], "name_en": ["Wuhou Shrine"],
                          "county": ["510107"], "score": ["7"], "visit_minutes": ["90"],
                          "opens": ["08:00"], "closes": ["17:30"], "theme": ["history"]})
    path = tmp_path / "a.xlsx"
    frame.to_excel(path, index=False)
    a = read_attractions(store, path)
    assert a.loc[0, "opens"] == 480 and a.loc[0, "closes"] == 1050
    assert not a.loc[0, "default_window"] and not a.loc[0, "illustrative"]


def test_corridors_as_named_against_their_optima(plan):
    r = routes_table(plan).set_index(["plan", "variant"])
    for key in ("history", "liquor"):
        named, same, every = (r.loc[(key, v), "score"] for v in ("named", "same", "open"))
        assert named <= same <= every  # fewer constraints never score less
        assert r.loc[(key, "named"), "optimal"] and r.loc[(key, "same"), "optimal"]
    by = {(p.key, p.variant): p for p in plan.plans}
    named = by[("history", "named")]
    a = plan.attractions
    cities = ["500100", "510100", "510700"]
    parents = [str(plan.region.units.at[str(a.iloc[i]["code"]), "parent"])
               for i in named.visited()]
    ranks = [cities.index(p) for p in parents]
    assert ranks == sorted(ranks)  # the cities in the named order
    assert set(a.iloc[named.visited()]["theme"]) == {"history"}
    assert named.days == (("500103", "510105"), ("510105", "510703"))


def test_solutions_are_feasible_when_re_evaluated_on_the_region(store, plan):
    region = load_region(store, level="county")
    s = plan.settings
    for p in plan.plans:
        inst = build_instance(region, plan.attractions, p.candidates, p.days, s)
        again = evaluate_route(inst, p.solution.routes)
        assert again.feasible and again.score == p.solution.score
    stops = stops_table(plan)
    visits = stops[stops["kind"] == "visit"]
    assert (visits["start"] >= visits["arrival"]).all()  # HH:MM strings compare in order
    assert (visits["start"] >= "09:00").all() and (visits["start"] <= "17:00").all()


def test_same_county_rule(store):
    region = load_region(store, level="county")
    a = read_attractions(store)
    idx = [int(np.flatnonzero(a["name_zh"] == n)[0]) for n in ("宽窄巷子", "杜甫草堂", "洪崖洞")]
    inst = build_instance(region, a, idx, [("510105", "510105")], Settings(
        same_county_minutes=33))
    assert inst.travel[0, 1] == 33 and inst.travel[0, 3] == 33  # same county, and the depot
    assert inst.travel[0, 2] == pytest.approx(region.times(["510105"], ["500103"])[0, 0])
    assert inst.travel[3, 3] == 0


def test_settings_are_checked(store):
    with pytest.raises(SpecError, match="不晚于出发时间"):
        validate_spec(Settings, {"day_start": "18:00", "day_end": "08:00"})
    with pytest.raises(SpecError, match="未知求解方法"):
        validate_spec(Settings, {"solver": "greedy"})
    with pytest.raises(SpecError, match="HH:MM"):
        validate_spec(Settings, {"default_opens": "9am"})


def test_cli_default_run_writes_a_flagged_page(tmp_path: Path):
    out = tmp_path / "route"
    result = runner.invoke(app, ["plan", "route", "--out", str(out)], env=ENV)
    assert result.exit_code == 0, result.output
    assert "示意值" in result.output and "重庆—成都—绵阳历史文化线路" in result.output
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert doc["kind"] == "cocity plan route" and verify_outputs(doc, out) == []
    assert doc["illustrative"] is True
    assert doc["inputs"]["attractions"]["file"] == "shipped:route_attractions_demo.csv"
    assert len(doc["inputs"]["corridors"]["sha256"]) == 64
    html = (out / "route.html").read_text(encoding="utf-8")
    assert "示意数据" in html and "Illustrative data" in html
    stops = pd.read_csv(out / "stops.csv")
    assert stops["illustrative"].all()
    layers = json.loads((out / "layers.geojson").read_text(encoding="utf-8"))
    kinds = {f["properties"]["layer"] for f in layers["features"]}
    assert {"attractions", "routes_named", "routes_open", "routes_proposal"} <= kinds
    assert all(f["properties"]["flag"] == "illustrative" for f in layers["features"])


def test_cli_refuses_a_day_shorter_than_any_visit(tmp_path: Path):
    out = tmp_path / "short"
    corridors = tmp_path / "c.yaml"
    corridors.write_text(
        "proposals:\n  - {key: x, name_zh: 甲, name_en: X, base: 青羊区, days: 1}\n",
        encoding="utf-8")
    result = runner.invoke(app, ["plan", "route", "--out", str(out), "--corridors",
                                 str(corridors), "--start", "09:00", "--end", "10:00"], env=ENV)
    assert result.exit_code == 2
    assert "每日时长 60 分钟" in result.output and "短于任何一处景点所需" in result.output
    assert not out.exists()


def test_cli_refuses_a_corridor_day_longer_than_the_day(tmp_path: Path):
    out = tmp_path / "tight"
    result = runner.invoke(app, ["--lang", "en", "plan", "route", "--out", str(out),
                                 "--start", "08:00", "--end", "09:30"], env=ENV)
    assert result.exit_code == 2
    assert "Plan history, day 1" in result.output and "Yuzhong District" in result.output
    assert not out.exists()


def test_docs_example_with_options_runs(tmp_path: Path):
    import re
    import shlex

    doc = planning_section("route")
    lines = re.findall(r"^    (cocity plan route .*?)(?<!\\)$", doc.replace("\\\n", " "),
                       flags=re.M)
    example = next(x for x in lines if "--from" in x)
    args = shlex.split(example)[1:]
    args[args.index("--out") + 1] = str(tmp_path / "emei")
    result = runner.invoke(app, args, env=ENV)
    assert result.exit_code == 0, result.output
    routes = pd.read_csv(tmp_path / "emei" / "routes.csv", dtype={"plan": str})
    extra = routes[routes["plan"] == "from_511181_1d"]
    assert len(extra) == 1 and extra["score"].iloc[0] > 0
    stops = pd.read_csv(tmp_path / "emei" / "stops.csv")
    assert (stops.loc[stops["kind"] == "depart", "end"] == "07:30").all()
