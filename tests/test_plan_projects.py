"""The project register: the demo register, the three file formats, every bad row named."""

from __future__ import annotations

import json

import pytest

from cocity.datasets import open_store
from cocity.plan.errors import PlanInputError
from cocity.plan.projects import read_register


@pytest.fixture(scope="module")
def store():
    return open_store()


def test_demo_register_is_illustrative_with_no_cost(store):
    reg = read_register(store)
    assert reg.illustrative and reg.note is not None
    assert all(p.cost_yi is None for p in reg.projects)
    cdw = reg.get("cdw-hsr")
    assert cdw.units == ("510100", "510900", "511300", "511700", "500100")
    assert cdw.drawn_through_units and len(cdw.path) == 5
    assert reg.frame()["illustrative"].all()
    with pytest.raises(PlanInputError, match="nope"):
        reg.get("nope")


def test_csv_yaml_and_geojson_registers(store, tmp_path):
    csv = tmp_path / "p.csv"
    csv.write_text("id,name_zh,name_en,kind,units,cost_yi,status\n"
                   "w1,引水工程,Water link,water,成都+德阳,12.5,planned\n", encoding="utf-8")
    reg = read_register(store, csv)
    assert not reg.illustrative
    assert reg.projects[0].units == ("510100", "510600") and reg.projects[0].cost_yi == 12.5
    geo = tmp_path / "p.geojson"
    geo.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "LineString",
                                        "coordinates": [[104.0, 30.6], [104.4, 31.1]]},
        "properties": {"id": "e1", "name_zh": "输电", "name_en": "Grid", "kind": "energy",
                       "units": "Chengdu+Deyang", "status": "in_service"}}]}), encoding="utf-8")
    g = read_register(store, geo).projects[0]
    assert g.path == ((104.0, 30.6), (104.4, 31.1)) and not g.drawn_through_units
    yml = tmp_path / "p.yaml"
    yml.write_text("- {id: f1, name_zh: 中心, name_en: Centre, kind: facility, units: [遂宁],"
                   " coordinates: [[105.5, 30.5]]}\n", encoding="utf-8")
    assert read_register(store, yml).projects[0].path == ((105.5, 30.5),)


def test_every_bad_row_is_named_at_once(store, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("id,name_zh,name_en,kind,units,cost_yi,status\n"
                   "a,甲,A,rail,成都+重庆,,\n"
                   "a,乙,B,rail,成都+重庆,,\n"
                   "c,,C,canal,成都+火星城,-3,done\n"
                   "d,丁,D,road,,,\n", encoding="utf-8")
    with pytest.raises(PlanInputError) as info:
        read_register(store, csv)
    msg = str(info.value)
    for part in ("第 2 个项目（a）", "name_zh", "canal", "火星城", "-3", "done",
                 "第 4 个项目（d）"):
        assert part in msg
    with pytest.raises(PlanInputError, match=r"missing\.csv"):
        read_register(store, tmp_path / "missing.csv")
    txt = tmp_path / "p.txt"
    txt.write_text("x", encoding="utf-8")
    with pytest.raises(PlanInputError, match=r"\.csv"):
        read_register(store, txt)
