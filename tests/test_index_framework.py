"""Indicator framework: building from YAML/CSV and every validation error."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocity.index.errors import FrameworkError
from cocity.index.framework import Framework

pytestmark = pytest.mark.usefixtures("english")

TREE = [
    {"code": "IDX", "name_zh": "指数", "name_en": "Index"},
    {"code": "A", "parent": "IDX", "weight": 2},
    {"code": "B", "parent": "IDX", "weight": 1},
    {"code": "a1", "parent": "A", "weight": 1, "direction": 1},
    {"code": "a2", "parent": "A", "weight": 3, "direction": -1, "goalposts": [0, 50]},
    {"code": "b1", "parent": "B", "weight": 1, "direction": 1},
]


def test_levels_weights_and_queries() -> None:
    fw = Framework.from_records(TREE, settings={"aggregation": {"by_level": {3: "geometric"},
                                                                "min_share": {2: 0.5}}})
    assert fw.root == "IDX" and fw.n_levels == 3
    assert fw.indicators == ["a1", "a2", "b1"]
    assert fw.children("A") == ["a1", "a2"]
    assert list(fw.directions()) == [1, -1, 1]
    # Leaf weights: A = 2/3, a1 = 1/4 of A, a2 = 3/4 of A, b1 = all of B = 1/3.
    lw = fw.leaf_weights()
    assert lw["a1"] == pytest.approx(2 / 3 * 1 / 4)
    assert lw["a2"] == pytest.approx(2 / 3 * 3 / 4)
    assert lw["b1"] == pytest.approx(1 / 3)
    assert lw.sum() == pytest.approx(1)
    assert fw.method_for("IDX") == "geometric" and fw.method_for("A") == "arithmetic"
    assert fw.min_share_for("A") == 0.5 and fw.min_share_for("IDX") == 0.0
    assert fw.nodes["a2"].lower == 0 and fw.nodes["a2"].upper == 50
    assert fw.ancestor("a2", 2) == "A" and fw.ancestor("a2", 3) == "IDX"


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: [*r, {"code": "a1", "parent": "A", "weight": 1, "direction": 1}],
     "duplicate node code a1"),
    (lambda r: [*r, {"code": "c1", "parent": "C", "weight": 1, "direction": 1}],
     "unknown parent C"),
    (lambda r: [dict(x, parent="a1") if x["code"] == "A" else x for x in r],
     "cycle"),
    (lambda r: [*r, {"code": "Z", "name_zh": "另一个根"}], "exactly one root"),
    (lambda r: [*r, {"code": "x", "parent": "IDX", "weight": 1, "direction": 1}],
     "gap in levels): x"),
    (lambda r: [dict(x, weight=None) if x["code"] == "B" else x for x in r],
     "node B has no weight"),
    (lambda r: [dict(x, direction=0) if x["code"] == "b1" else x for x in r],
     "indicator b1 needs a direction"),
    (lambda r: [dict(x, weight=-1) if x["code"] == "b1" else x for x in r],
     "not a non-negative number"),
])
def test_invalid_trees_are_rejected(change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FrameworkError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Framework.from_records(change([dict(r) for r in TREE]))


def test_all_issues_are_reported_together() -> None:
    bad = [dict(r) for r in TREE] + [
        {"code": "a1", "parent": "A", "weight": 1, "direction": 1},
        {"code": "c1", "parent": "C", "weight": 1, "direction": 1},
    ]
    with pytest.raises(FrameworkError) as err:
        Framework.from_records(bad)
    assert len(err.value.issues) == 2


def test_equal_weights_setting_allows_missing_weights() -> None:
    records = [{k: v for k, v in r.items() if k != "weight"} for r in TREE]
    fw = Framework.from_records(records, settings={"weights": "equal"})
    assert fw.leaf_weights()["b1"] == pytest.approx(0.5)


def test_yaml_and_csv_files(tmp_path: Path) -> None:
    yml = tmp_path / "fw.yaml"
    yml.write_text(
        "name_zh: 测试\nname_en: Test\naggregation: {default: geometric}\nnodes:\n"
        "  - {code: IDX, name_zh: 指数, name_en: Index}\n"
        "  - {code: u, parent: IDX, weight: 1, direction: 1, name_zh: 城镇化率}\n"
        "  - {code: v, parent: IDX, weight: 1, direction: -1}\n", encoding="utf-8")
    fw = Framework.from_yaml(yml)
    assert fw.indicators == ["u", "v"] and fw.method_for("IDX") == "geometric"
    assert fw.nodes["u"].name_zh == "城镇化率"
    csv = tmp_path / "fw.csv"
    csv.write_text("code,name_zh,name_en,parent,weight,direction,lower,upper\n"
                   "IDX,指数,Index,,,,,\nu,甲,A,IDX,1,1,0,100\nv,乙,B,IDX,2,-1,,\n",
                   encoding="utf-8")
    fw2 = Framework.from_csv(csv)
    assert fw2.leaf_weights()["v"] == pytest.approx(2 / 3)
    assert fw2.nodes["u"].upper == 100 and fw2.nodes["v"].upper is None
    with pytest.raises(FrameworkError, match="absent from the data: v"):
        fw2.check_data(["u", "w"])
    (tmp_path / "empty.yaml").write_text("name_zh: x\n", encoding="utf-8")
    with pytest.raises(FrameworkError, match="needs a `nodes` list"):
        Framework.from_yaml(tmp_path / "empty.yaml")
