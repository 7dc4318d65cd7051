"""``cocity plan map``: the one planning map over the register and planning output folders,
and its refusals (nothing written)."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner, Result

from cocity.cli import app
from cocity.outputs import verify_outputs
from cocity.report.plan_page import Layer, PlanReport, read_layers, write_plan_report

runner = CliRunner()


def run(*args: str, lang: str = "en") -> Result:
    return runner.invoke(app, ["--lang", lang, "plan", *args], env={"COLUMNS": "200"})


def test_map_draws_the_register_and_output_folders(tmp_path):
    share_out = tmp_path / "out"
    assert run("share", "--out", str(share_out)).exit_code == 0
    other = tmp_path / "locate"
    write_plan_report(PlanReport(kind="demo", title_zh="示例", title_en="Example", layers=[
        Layer("centre", "服务中心", "Service centre", "points",
              pd.DataFrame({"lon": [105.0], "lat": [30.1], "label_zh": ["中心"],
                            "label_en": ["Centre"]}), flag="simulated")]), other)
    out = tmp_path / "map"
    res = run("map", "--out", str(out), "--from", str(share_out), "--from", str(other))
    assert res.exit_code == 0, res.output
    layers = pd.read_csv(out / "layers.csv")
    assert layers["layer"].tolist() == ["projects/rail", "projects/road", "out/project",
                                        "out/members", "out/root", "locate/centre"]
    assert layers["source"].tolist()[-1] == str(other)
    back = {x.key: x for x in read_layers(out / "layers.geojson")}
    assert back["locate/centre"].flag == "simulated"
    assert set(back["projects/rail"].features["status"]) == {"", "in_service"}
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert verify_outputs(doc, out) == [] and doc["simulated"] and doc["illustrative"]
    twin = tmp_path / "twin" / "out"
    write_plan_report(PlanReport(kind="demo", title_zh="示例", title_en="Example", layers=[
        Layer("centre", "中心", "Centre", "points",
              pd.DataFrame({"lon": [104.0], "lat": [30.0], "label_zh": ["甲"],
                            "label_en": ["A"]}))]), twin)
    res = run("map", "--out", str(tmp_path / "twins"), "--from", str(share_out), "--from",
              str(twin))
    assert res.exit_code == 0, res.output
    assert pd.read_csv(tmp_path / "twins" / "layers.csv")["layer"].tolist()[-1] == "out-2/centre"
    alone = tmp_path / "alone"
    assert run("map", "--out", str(alone)).exit_code == 0
    assert pd.read_csv(alone / "layers.csv")["layer"].tolist() == ["projects/rail",
                                                                   "projects/road"]


def test_map_refuses_a_folder_without_layers(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "map"
    res = run("map", "--out", str(out), "--from", str(empty), "--from", str(tmp_path / "gone"))
    assert res.exit_code == 2 and not out.exists()
    assert "layers.geojson" in res.output and "gone" in res.output


def test_a_line_layer_of_many_lines_starts_hidden(tmp_path):
    from cocity.datasets import open_store
    from cocity.plan.planmap import HIDDEN_ABOVE, build_map
    from cocity.plan.region import load_boundaries

    def lines(n):
        return pd.DataFrame({"path": [[(104.0, 30.0), (104.0 + i / 100, 30.5)] for i in range(n)],
                             "label_zh": [f"线{i}" for i in range(n)],
                             "label_en": [f"line {i}" for i in range(n)]})

    write_plan_report(PlanReport(kind="demo", title_zh="示例", title_en="Example", layers=[
        Layer("many", "多", "Many", "lines", lines(HIDDEN_ABOVE + 1)),
        Layer("few", "少", "Few", "lines", lines(HIDDEN_ABOVE))]), tmp_path / "out")
    store = open_store()
    m = build_map(store, sources=[tmp_path / "out"])
    hidden = {x.key: x.hidden for x in m.layers if x.key.startswith("out/")}
    assert hidden == {"out/many": True, "out/few": False}
    paths = write_plan_report(PlanReport(kind="map", title_zh="图", title_en="Map",
                                         layers=m.layers[-2:]), tmp_path / "page",
                              boundaries=load_boundaries(store))
    html = paths["html"].read_text(encoding="utf-8")
    assert html.count('"visible":"legendonly"') == 1
