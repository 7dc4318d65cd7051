"""Coarse regional network and commuting circles on the embedded Chengdu–Chongqing data."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import yaml

from cocity.access.errors import AccessInputError
from cocity.access.regional import (
    RegionalNetwork,
    build_regional_network,
    commuting_circles,
    default_spec,
    load_spec,
    road_minutes,
    travel_times,
)
from cocity.datasets import open_store
from cocity.spec import SpecError

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(scope="module")
def net() -> RegionalNetwork:
    return build_regional_network(open_store())


def test_road_model_by_hand() -> None:
    # 46 km × 1.3 / 60 km/h = 0.9967 h = 59.8 min
    assert road_minutes(np.array([46.0]), detour=1.3, speed_kmh=60)[0] == pytest.approx(59.8)
    with pytest.raises(AccessInputError, match="must be positive"):
        road_minutes(np.array([1.0]), detour=1.3, speed_kmh=-5)


def test_network_links(net: RegionalNetwork) -> None:
    road = net.edges[net.edges["mode"] == "road"]
    pairs = set(zip(road.u, road.v, strict=True))
    assert all((v, u) in pairs for u, v in pairs)  # contiguity is symmetric
    assert road["modelled"].all() and (road["minutes"] > 0).all()
    rail = net.edges[net.edges["mode"] == "rail"]
    # 成都东 (成华区) – 沙坪坝区: 62 min in the train + 10 access + 10 egress.
    link = rail[(rail.u == "510108") & (rail.v == "500106")]
    assert link["minutes"].tolist() == [82.0] and not link["modelled"].any()
    assert len(rail) == 2 * len(default_spec().rail.links)


def test_times_equal_networkx(net: RegionalNetwork) -> None:
    g = nx.DiGraph()
    for r in net.edges.itertuples():
        if not g.has_edge(r.u, r.v) or g[r.u][r.v]["weight"] > r.minutes:
            g.add_edge(r.u, r.v, weight=r.minutes)
    origins = default_spec().cores["chengdu"].counties
    expected = nx.multi_source_dijkstra_path_length(g, set(origins))
    ours = travel_times(net, origins)["minutes"]
    for code, minutes in expected.items():
        assert ours[code] == pytest.approx(minutes, abs=1e-9)


def test_commuting_circles(net: RegionalNetwork) -> None:
    cc = commuting_circles(net)
    cores = default_spec().cores
    assert (cc.loc[cores["chengdu"].counties, "minutes_chengdu"] == 0).all()
    assert cc.loc[cores["chongqing"].counties, "within_chongqing"].all()
    # 龙马潭区 is reached from 沙坪坝区 by rail only (26 + 20 min): within, and not modelled.
    assert cc.loc["510504", "within_chongqing"]
    assert not cc.loc["510504", "modelled_chongqing"]
    assert cc.loc["510504", "minutes_chongqing"] == pytest.approx(46.0)
    # Road-reached members are flagged as modelled.
    road_members = cc[cc.within_chengdu & (cc.minutes_chengdu > 0)]
    assert len(road_members) > 0 and road_members["modelled_chengdu"].all()
    # Nothing is in both one-hour circles: the cores are ~270 km apart.
    assert not (cc.within_chengdu & cc.within_chongqing).any()


def test_bad_inputs(net: RegionalNetwork) -> None:
    with pytest.raises(AccessInputError, match="origin units"):
        travel_times(net, ["999999"])
    spec = default_spec().as_dict()
    spec["threshold_minutes"] = 0
    with pytest.raises(SpecError, match="key threshold_minutes: must be greater than 0"):
        commuting_circles(net, spec)
    spec = default_spec().as_dict()
    spec["rail"]["stations"]["123400"] = "123401"
    spec["rail"]["links"].append({"from": "510100", "to": "123400", "minutes": 30})
    with pytest.raises(AccessInputError, match="rail link"):
        build_regional_network(open_store(), spec)


def test_every_problem_of_a_network_spec_at_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = default_spec().as_dict()
    spec["road"]["speed_kmh"] = -60
    spec["rail"]["links"][0]["minutes"] = "fast"
    spec["rail"]["links"].append({"from": "999900", "to": "510100", "minutes": 30})
    spec["cores"]["chengdu"]["countys"] = spec["cores"]["chengdu"].pop("counties")
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SpecError, match="4 problem") as err:
        load_spec(path)
    assert [i.key for i in err.value.issues] == [
        "road.speed_kmh", "rail.links[0].minutes", "cores.chengdu.counties",
        "cores.chengdu.countys"]
    assert all(i.file == str(path) for i in err.value.issues)
    spec["road"]["speed_kmh"] = 60
    spec["rail"]["links"][0]["minutes"] = 62
    spec["cores"]["chengdu"]["counties"] = spec["cores"]["chengdu"].pop("countys")
    with pytest.raises(SpecError, match=r"key rail: .*without a station in `stations`: 999900"):
        load_spec(spec)


def test_commuting_share_circles_by_hand() -> None:
    import pandas as pd

    from cocity.access.regional import commuting_share_circles

    flows = pd.DataFrame({
        "origin":      ["a", "a", "a", "b", "b", "c", "core"],
        "destination": ["a", "core", "b", "b", "core", "c", "core"],
        "commuters":   [70, 20, 10, 95, 5, 0, 100]})
    out = commuting_share_circles(flows, {"k": ["core"]}, threshold=0.10)
    # a: 20 / 100 = 0.20 → member; b: 5 / 100 = 0.05 → not; c: no outgoing commuters.
    assert out.loc["a", "share_k"] == pytest.approx(0.20) and out.loc["a", "within_k"]
    assert out.loc["b", "share_k"] == pytest.approx(0.05) and not out.loc["b", "within_k"]
    assert out.loc["c", "no_flows"] and out.loc["c", "share_k"] == 0
    assert not out.loc["c", "within_k"]
    assert out.loc["core", "within_k"]
    with pytest.raises(AccessInputError, match="non-negative"):
        commuting_share_circles(flows.assign(commuters=-1), {"k": ["core"]})
    with pytest.raises(AccessInputError, match="columns"):
        commuting_share_circles(flows.drop(columns="commuters"), {"k": ["core"]})
