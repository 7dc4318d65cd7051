"""The region every planning tool works on and the one planning report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cocity.datasets import open_store
from cocity.outputs import verify_outputs
from cocity.plan.errors import PlanInputError
from cocity.plan.region import load_boundaries, load_region, resolve_units
from cocity.report.plan_page import Layer, PlanReport, PlanTable, read_layers, write_plan_report


@pytest.fixture(scope="module")
def store():
    return open_store()


@pytest.fixture(scope="module")
def counties(store):
    return load_region(store, level="county")


def test_county_times_are_shortest_paths_in_the_circle(counties):
    m = counties.minutes
    assert m.shape == (len(counties.codes), len(counties.codes))
    assert np.allclose(np.diag(m), 0)
    assert np.allclose(m, m.T)  # road and rail links run both ways
    # triangle inequality holds for all-pairs shortest paths
    k = 7
    assert (m <= m[:, [k]] + m[[k], :] + 1e-9).all()
    assert (counties.units["membership"] != "outside").all()
    assert counties.year == 2020


def test_prefecture_time_is_the_population_weighted_mean_of_member_times(store, counties):
    prefs = load_region(store, level="prefecture")
    u = counties.units
    a, b = "510100", "510500"
    ia = np.flatnonzero(u["parent"].astype(str) == a)
    ib = np.flatnonzero(u["parent"].astype(str) == b)
    pa, pb = counties.population[ia], counties.population[ib]
    expected = (pa[:, None] * pb[None, :] * counties.minutes[np.ix_(ia, ib)]).sum() / (
        pa.sum() * pb.sum())
    assert prefs.times([a], [b])[0, 0] == pytest.approx(expected)
    assert prefs.units.at[a, "population"] == pytest.approx(pa.sum())


def test_unknown_units_and_names_are_refused_by_name(store, counties):
    with pytest.raises(PlanInputError, match="999999"):
        counties.positions(["510104", "999999"])
    assert resolve_units(store, ["成都", "Chongqing"], level="prefecture") == ["510100", "500100"]
    with pytest.raises(PlanInputError, match="不存在的城市"):
        resolve_units(store, ["不存在的城市"], level="prefecture")
    with pytest.raises(PlanInputError, match=r"province"):
        load_region(store, level="province")


def test_report_files_layers_round_trip_and_manifest(store, tmp_path):
    region = load_region(store, level="prefecture")
    u = region.units.reset_index()
    points = Layer("centre", "中心", "Centre", "points",
                   pd.DataFrame({"lon": u["lon"][:2], "lat": u["lat"][:2],
                                 "label_zh": u["name_zh"][:2], "label_en": u["name_en"][:2],
                                 "rank": [1, 2]}))
    lines = Layer("pairs", "结对", "Pairs", "lines",
                  pd.DataFrame({"path": [[(104.0, 30.6), (105.4, 28.9)]],
                                "label_zh": ["成都→泸州"], "label_en": ["Chengdu→Luzhou"]}),
                  flag="illustrative")
    report = PlanReport(kind="demo", title_zh="示例", title_en="Example",
                        tables=[PlanTable("units", u.head(3), "单元", "Units")],
                        layers=[points, lines], notes=[("注意", "Note")],
                        notice=("示意数据", "Illustrative"), provenance=region.provenance)
    paths = write_plan_report(report, tmp_path, boundaries=load_boundaries(store))
    doc = json.loads(paths["manifest"].read_text(encoding="utf-8"))
    assert doc["kind"] == "cocity plan demo"
    assert verify_outputs(doc, tmp_path) == []
    html = paths["html"].read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "示意数据" in html and "Illustrative" in html
    back = read_layers(paths["layers"])
    assert [(x.key, x.kind, x.flag) for x in back] == [("centre", "points", None),
                                                       ("pairs", "lines", "illustrative")]
    assert back[0].features["rank"].tolist() == [1, 2]
    assert back[1].features["path"][0] == [(104.0, 30.6), (105.4, 28.9)]
    assert pd.read_csv(paths["csv:units"])["code"].astype(str).tolist() == \
        u["code"].head(3).tolist()
