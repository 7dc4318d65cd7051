"""15-minute life circles on a synthetic street grid: distances against networkx, coverage,
population-weighted shares and gaps computed by hand, and bad inputs."""

from __future__ import annotations

import copy
import re

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import yaml

from cocity.access.errors import AccessInputError
from cocity.access.life_circles import default_spec, life_circles, load_spec
from cocity.access.network import Network
from cocity.spec import SpecError

pytestmark = pytest.mark.usefixtures("english")

STEP = 100.0  # metres between grid nodes
SIDE = 9      # 9 × 9 nodes, 800 m across

# Two levels, two types each: small enough to compute every figure by hand.
SPEC = {"standard": "test", "levels": [
    {"code": "A", "minutes": 5, "name_zh": "甲", "name_en": "A", "walk_m": 300,
     "facilities": {"shop": {"name_zh": "店", "name_en": "Shop"},
                    "clinic": {"name_zh": "诊所", "name_en": "Clinic"}}},
    {"code": "B", "minutes": 10, "name_zh": "乙", "name_en": "B", "walk_m": 500,
     "facilities": {"school": {"name_zh": "学校", "name_en": "School"},
                    "park": {"name_zh": "公园", "name_en": "Park"}}},
]}


def grid(side: int = SIDE, drop: tuple[int, int] | None = None) -> Network:
    """A side × side street grid (node id = row · side + column, x = column · STEP)."""
    ids, xs, ys, us, vs = [], [], [], [], []
    for r in range(side):
        for c in range(side):
            ids.append(r * side + c)
            xs.append(c * STEP)
            ys.append(r * STEP)
    for r in range(side):
        for c in range(side):
            a = r * side + c
            if c + 1 < side:
                us.append(a)
                vs.append(a + 1)
            if r + 1 < side:
                us.append(a)
                vs.append(a + side)
    keep = [i for i, e in enumerate(zip(us, vs, strict=True)) if e != drop]
    u = np.asarray(us)[keep]
    v = np.asarray(vs)[keep]
    x, y = np.asarray(xs), np.asarray(ys)
    return Network.from_arrays(ids, x, y, u, v, np.hypot(x[u] - x[v], y[u] - y[v]))


def at(col: int, row: int) -> tuple[float, float]:
    return col * STEP, row * STEP


HOMES = pd.DataFrame({
    "id": ["h1", "h2", "h3", "h4"],
    "x": [at(0, 0)[0], at(4, 4)[0], at(8, 8)[0], at(2, 0)[0] + 30.0],
    "y": [at(0, 0)[1], at(4, 4)[1], at(8, 8)[1], at(2, 0)[1] + 40.0],
    "population": [100.0, 300.0, 50.0, 25.0],
    "unit": ["u1", "u1", "u2", "u2"],
})
FACILITIES = pd.DataFrame({
    "type": ["shop", "shop", "clinic", "school", "park", "park"],
    "x": [at(1, 0)[0], at(4, 5)[0], at(4, 3)[0], at(3, 3)[0], at(0, 3)[0], at(6, 4)[0]],
    "y": [at(1, 0)[1], at(4, 5)[1], at(4, 3)[1], at(3, 3)[1], at(0, 3)[1], at(6, 4)[1]],
})


def manhattan(a: tuple[float, float], b: tuple[float, float]) -> float:
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


def test_distances_coverage_and_shares_by_hand() -> None:
    res = life_circles(grid(), HOMES, FACILITIES, spec=SPEC)
    d = res.distances()
    # h1 at (0,0): shop (1,0) 100; clinic (4,3) 700 > bound 500 → inf; school (3,3) 600 → inf;
    # park (0,3) 300.
    assert d.loc["h1"].tolist() == [100.0, np.inf, np.inf, 300.0]
    # h2 at (4,4): shop (4,5) 100, clinic (4,3) 100, school (3,3) 200, park (6,4) 200.
    assert d.loc["h2"].tolist() == [100.0, 100.0, 200.0, 200.0]
    # h3 at (8,8): nothing within 500 m but the shop at (4,5) is 700 → all inf.
    assert np.isinf(d.loc["h3"]).all()
    # h4 is 50 m off node (2,0): snap 50 + network to shop (1,0) 100 + 0 = 150; park (0,3)
    # 50 + 500 = 550 > 500 → inf; school (3,3) 50 + 400 = 450; clinic (4,3) 50 + 500 → inf.
    assert d.loc["h4"].tolist() == [150.0, np.inf, 450.0, np.inf]
    cov = res.covered()
    assert cov["A"].tolist() == [False, True, False, False]
    assert cov["B"].tolist() == [False, True, False, False]
    bu = res.by_unit.set_index(["unit", "level"])
    assert bu.loc[("u1", "A"), "share"] == pytest.approx(300 / 400)
    assert bu.loc[("u2", "B"), "share"] == 0.0
    assert bu.loc[("u2", "A"), "population"] == 75.0
    bt = res.by_type.set_index(["level", "type"])
    # shop within 300: h1, h2, h4 → (100 + 300 + 25) / 475
    assert bt.loc[("A", "shop"), "share"] == pytest.approx(425 / 475)
    # park at level B (500 m): h1 (300), h2 (200) → 400 / 475
    assert bt.loc[("B", "park"), "share"] == pytest.approx(400 / 475)
    # at level B the level-A types count again with 500 m
    assert bt.loc[("B", "clinic"), "share"] == pytest.approx(300 / 475)
    assert list(bt.index.get_level_values("level")).count("B") == 4
    but = res.by_unit_type.set_index(["unit", "level", "type"])
    assert but.loc[("u2", "B", "school"), "share"] == pytest.approx(25 / 75)
    summary = res.summary().set_index("level")
    assert summary.loc["A", "share"] == pytest.approx(300 / 475)
    assert res.notes == []


def test_gaps_long_table_and_layer() -> None:
    res = life_circles(grid(), HOMES, FACILITIES, spec=SPEC)
    gaps = res.gaps
    by_home = gaps.groupby("home", sort=False)["type"].agg(list).to_dict()
    # lacking = farther than the distance of the type's own level
    assert by_home == {"h1": ["clinic", "school"],
                       "h3": ["shop", "clinic", "school", "park"],
                       "h4": ["clinic", "park"]}
    row = gaps[(gaps["home"] == "h4") & (gaps["type"] == "clinic")].iloc[0]
    assert row["level"] == "A" and row["required_m"] == 300 and np.isinf(row["distance_m"])
    assert row["population"] == 25.0 and row["unit"] == "u2"
    layer = res.gap_layer()
    assert layer["missing"].tolist() == [["clinic", "school"], [],
                                         ["shop", "clinic", "school", "park"],
                                         ["clinic", "park"]]
    assert layer["n_missing"].tolist() == [2, 0, 4, 2]
    assert layer.geometry.x.tolist() == HOMES["x"].tolist()


def test_nearest_distances_equal_networkx() -> None:
    rng = np.random.default_rng(7)
    net = grid(drop=(40, 41))
    g = nx.Graph()
    arcs = net.arcs_frame()
    for r in arcs.itertuples():
        g.add_edge(r.u, r.v, weight=r.length_m)
    nodes = rng.choice(SIDE * SIDE, size=30, replace=False)
    homes = pd.DataFrame({"x": nodes % SIDE * STEP, "y": nodes // SIDE * STEP,
                          "population": rng.integers(1, 50, 30).astype(float)})
    fac_nodes = rng.choice(SIDE * SIDE, size=8, replace=False)
    kinds = ["shop", "clinic", "school", "park"] * 2
    fac = pd.DataFrame({"x": fac_nodes % SIDE * STEP, "y": fac_nodes // SIDE * STEP,
                        "type": kinds})
    spec = copy.deepcopy(SPEC)
    spec["levels"][1]["walk_m"] = 5000  # unbounded on this grid
    res = life_circles(net, homes, fac, spec=spec)
    d = res.distances()
    for k in ("shop", "clinic", "school", "park"):
        srcs = {int(n) for n, kk in zip(fac_nodes, kinds, strict=True) if kk == k}
        exp = nx.multi_source_dijkstra_path_length(g, srcs)
        for i, n in enumerate(nodes):
            assert d.iloc[i][k] == pytest.approx(exp[int(n)], abs=1e-9)


def test_far_points_are_reported_not_snapped() -> None:
    homes = pd.concat([HOMES, pd.DataFrame({"id": ["far"], "x": [5000.0], "y": [0.0],
                                            "population": [1000.0], "unit": ["u1"]})],
                      ignore_index=True)
    fac = pd.concat([FACILITIES, pd.DataFrame({"type": ["clinic"], "x": [0.0],
                                               "y": [3000.0]})], ignore_index=True)
    res = life_circles(grid(), homes, fac, spec=SPEC, max_snap=200)
    assert res.far_homes["home"].tolist() == ["far"]
    assert res.far_homes["snap_m"].iloc[0] == pytest.approx(4200.0)
    assert res.far_facilities["row"].tolist() == [6]
    assert res.homes.set_index("home").loc["far", "snapped"] == False  # noqa: E712
    # the far home is out of the shares: u1 A is still 300 / 400
    bu = res.by_unit.set_index(["unit", "level"])
    assert bu.loc[("u1", "A"), "share"] == pytest.approx(0.75)
    texts = [n.text("en") for n in res.notes]
    assert any("1 home(s) (population 1,000) lie more than 200 m" in s for s in texts)
    assert any("1 facilit" in s and "200 m" in s for s in texts)
    assert "far" not in set(res.gaps["home"])


def test_absent_and_unknown_types_are_documented() -> None:
    fac = FACILITIES[FACILITIES["type"] != "park"]
    fac = pd.concat([fac, pd.DataFrame({"type": ["cinema"], "x": [0.0], "y": [0.0]})])
    res = life_circles(grid(), HOMES, fac, spec=SPEC)
    assert np.isinf(res.distances()["park"]).all()
    assert not res.covered()["B"].any()
    assert res.gaps[res.gaps["type"] == "park"]["home"].tolist() == ["h1", "h2", "h3", "h4"]
    texts = " ".join(n.text("en") for n in res.notes)
    assert "every home lacks them: park" in texts
    assert "ignored: cinema" in texts
    assert res.facility_counts["park"] == 0 and res.facility_counts["shop"] == 2


def test_node_to_node_without_snap_distances() -> None:
    res = life_circles(grid(), HOMES, FACILITIES, spec=SPEC, include_snap=False)
    assert res.distances().loc["h4", "shop"] == 100.0


def test_population_weighting_differs_from_counting_homes() -> None:
    homes = HOMES.assign(population=[1.0, 1.0, 1.0, 1.0])
    res = life_circles(grid(), homes, FACILITIES, spec=SPEC)
    assert res.summary().set_index("level").loc["A", "share"] == pytest.approx(0.25)


def test_default_spec_and_edited_copy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sp = default_spec()
    assert [lv.code for lv in sp.levels] == ["L5", "L10", "L15"]
    assert [lv.walk_m for lv in sp.levels] == [300, 500, 1000]
    assert "kindergarten" in sp.required("L15") and "middle_school" not in sp.required("L10")
    assert sp.bound("kindergarten") == 1000 and sp.bound("middle_school") == 1000
    assert sp.type_name("kindergarten", "zh") == "幼儿园"
    raw = copy.deepcopy(SPEC)
    raw["levels"][1]["walk_m"] = 800
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    edited = load_spec(path)
    assert edited.levels[1].walk_m == 800 and edited.source == str(path)
    res = life_circles(grid(), HOMES, FACILITIES, spec=path)
    # with 800 m, h1 reaches the school (600) and clinic (700): covered at B, not at A
    assert res.covered().loc["h1"].tolist() == [False, True]


@pytest.mark.parametrize(("walk", "message"), [(0, "must be greater than 0.0, got 0"),
                                               (-300, "must be greater than 0.0, got -300"),
                                               ("x", "expected a number, got 'x'")])
def test_zero_or_negative_cutoff_is_an_error(walk: object, message: str) -> None:
    spec = copy.deepcopy(SPEC)
    spec["levels"][0]["walk_m"] = walk
    with pytest.raises(SpecError, match=re.escape(f"key levels[0].walk_m: {message}")):
        life_circles(grid(), HOMES, FACILITIES, spec=spec)


@pytest.mark.parametrize(("change", "message"), [
    (lambda h, f: (h.drop(columns="population"), f), "homes lack the column population"),
    (lambda h, f: (h, f.drop(columns="type")), "facilities lack the column type"),
    (lambda h, f: (h.assign(population=[1.0, -2.0, 1.0, 1.0]), f),
     "1 home(s) have a missing or negative population (the first at row 1"),
    (lambda h, f: (h.assign(population=[1.0, np.nan, 1.0, 1.0]), f), "missing or negative"),
    (lambda h, f: (h.assign(id=["a", "a", "b", "c"]), f), "home ids repeat"),
    (lambda h, f: ([1, 2], f), "homes must be a table with coordinates"),
])
def test_bad_inputs(change, message: str) -> None:  # type: ignore[no-untyped-def]
    homes, fac = change(HOMES.copy(), FACILITIES.copy())
    with pytest.raises(AccessInputError, match=re.escape(message)):
        life_circles(grid(), homes, fac, spec=SPEC)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda s: s.update(levels=[]), r"key levels: needs at least 1 item"),
    (lambda s: s["levels"][1].update(walk_m=200), "must go from the shortest"),
    (lambda s: s["levels"][1]["facilities"].update(shop={}), "shop is listed at more than"),
    (lambda s: s["levels"][1].update(facilities={}),
     r"key levels\[1\]\.facilities: needs at least 1 item"),
    (lambda s: s["levels"][1].update(code="A"), "level codes repeat"),
    (lambda s: s["levels"][0].update(walkm=300, minutes="five"),
     r"(?s)levels\[0\]\.minutes: expected a number.*levels\[0\]\.walkm: unknown key"),
])
def test_bad_specs(edit, message: str) -> None:  # type: ignore[no-untyped-def]
    spec = copy.deepcopy(SPEC)
    edit(spec)
    with pytest.raises(SpecError, match=message):
        load_spec(spec)
