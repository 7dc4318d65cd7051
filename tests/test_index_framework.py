"""Indicator framework: building from YAML/CSV and every validation error."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cocity.index.errors import FrameworkError
from cocity.index.framework import Framework
from cocity.index.framework_file import load_framework

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
    (lambda r: [dict(x, direction=None) if x["code"] == "b1" else x for x in r],
     "nodes[5].direction: indicator b1 needs a direction"),
    (lambda r: [dict(x, direction=0) if x["code"] == "b1" else x for x in r],
     "nodes[5].direction: a direction is 1 (more is better) or -1 (less is better), not 0"),
    (lambda r: [dict(x, weight=-1) if x["code"] == "b1" else x for x in r],
     "nodes[5].weight: must be at least 0.0, got -1"),
    (lambda r: [dict(x, weight="heavy") if x["code"] == "b1" else x for x in r],
     "nodes[5].weight: expected a number, got 'heavy'"),
    (lambda r: [dict(x, method="geometrc") if x["code"] == "A" else x for x in r],
     "nodes[1].method: step aggregate has no method geometrc (did you mean geometric?)"),
])
def test_invalid_trees_are_rejected(change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FrameworkError, match=re.escape(message)):
        Framework.from_records(change([dict(r) for r in TREE]))


def test_all_issues_are_reported_together() -> None:
    bad = [dict(r) for r in TREE] + [
        {"code": "a1", "parent": "A", "weight": 1, "direction": 1},
        {"code": "c1", "parent": "C", "weight": 1, "direction": 1},
    ]
    with pytest.raises(FrameworkError, match="duplicate node code a1") as err:
        Framework.from_records(bad)
    assert [(i.key, i.message) for i in err.value.issues] == [
        ("nodes[6].code", "duplicate node code a1"), ("nodes[7].parent",
                                                      "node c1 has unknown parent C")]


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
    with pytest.raises(FrameworkError, match="needs a non-empty `nodes` list"):
        Framework.from_yaml(tmp_path / "empty.yaml")
    csv.write_text("code,parent,weight,direction,colour\nIDX,,,,\nu,IDX,1,1,red\n",
                   encoding="utf-8")
    with pytest.raises(FrameworkError, match=r"key nodes\[1\]\.colour: unknown key"):
        Framework.from_csv(csv)


# ---------------------------------------------------------------------- directions
def catalog_frame(**directions: int) -> pd.DataFrame:
    """A catalog as ``Store.catalog()`` returns it (indexed by id), here only the directions."""
    return pd.DataFrame({"direction": directions}).rename_axis("id")


def test_a_leaf_without_direction_takes_the_catalogs() -> None:
    records = [dict(r) for r in TREE]
    for r in records:
        r.pop("direction", None)
    fw = Framework.from_records(records, directions=catalog_frame(a1=1, a2=-1, b1=1)["direction"])
    assert list(fw.directions()) == [1, -1, 1]
    own = [dict(r, direction=-1) if r["code"] == "a1" else r for r in records]
    fw = Framework.from_records(own, directions=catalog_frame(a1=1, a2=-1, b1=1)["direction"])
    assert list(fw.directions()) == [-1, -1, 1]  # the framework's own direction wins


def test_a_descriptive_catalog_indicator_is_a_framework_error() -> None:
    """Direction 0 in the catalog (a descriptive indicator: industry shares, land area) gives
    a leaf without its own direction no orientation: refused, with the other problems."""
    records = [dict(r) for r in TREE]
    for r in records:
        if r["code"] in ("a2", "b1"):
            r.pop("direction")
    records.append({"code": "c9", "parent": "Q", "weight": 1, "direction": 1})
    catalog = catalog_frame(a1=1, a2=0, b1=-1)
    with pytest.raises(FrameworkError, match="direction 0 in the catalog") as err:
        Framework.from_records(records, directions=catalog["direction"])
    assert [i.key for i in err.value.issues] == ["nodes[6].parent", "nodes[4].direction"]
    records.pop()
    with pytest.raises(FrameworkError, match=r"key nodes\[4\]\.direction: indicator a2 has "
                                             r"direction 0 in the catalog") as err:
        Framework.from_records(records, directions=catalog["direction"])
    assert len(err.value.issues) == 1
    records[4]["direction"] = 1  # stating the direction makes it usable
    fw = Framework.from_records(records, directions=catalog["direction"])
    assert list(fw.directions()) == [1, 1, -1]


# ---------------------------------------------------------------------- framework files
FILE = """\
name_zh: 测试
nodes:
  - {code: IDX}
  - {code: A, parent: IDX, weight: 1}
  - {code: a1, parent: A, weight: 1}
  - {code: a2, parent: A}
data: {year: 2020, level: county}
pipeline:
  - normalise: {method: minmx}
  - treat: {method: winsorise, max_winsorized: 3}
  - aggregate: {by_level: {2: geometrc}}
uncertainty:
  inputs:
    - {step: normalise, choices: [minmax, zscor]}
"""


def test_every_problem_of_a_framework_file_in_one_list(tmp_path: Path) -> None:
    """Unknown methods and parameters of the pipeline and the uncertainty inputs come with the
    tree's problems and the catalog's directions, each with its key path."""
    path = tmp_path / "fw.yaml"
    path.write_text(FILE.replace("name_zh: 测试", "name_zh: 测试\ncolour: blue"),
                    encoding="utf-8")
    with pytest.raises(FrameworkError, match="7 problem") as err:
        load_framework(path, directions=catalog_frame(a1=0, a2=1)["direction"])
    found = {i.key: i.message for i in err.value.issues}
    assert set(found) == {"colour", "nodes[3].weight", "nodes[2].direction",
                          "pipeline[0].normalise.method", "pipeline[1].treat",
                          "pipeline[2].aggregate.by_level.2",
                          "uncertainty.inputs[0].choices[1]"}
    assert "minmx (did you mean minmax?)" in found["pipeline[0].normalise.method"]
    assert "has no parameter(s) max_winsorized" in found["pipeline[1].treat"]
    assert "direction 0 in the catalog" in found["nodes[2].direction"]
    assert all(i.file == str(path) for i in err.value.issues)



def test_the_pipeline_check_for_any_framework() -> None:
    """``step_issues`` checks a ``pipeline:`` section on its own (the evaluation framework
    calls it on its own section): every problem, each with its key path under ``key``."""
    from cocity.index.steps import step_issues

    section = [{"impute": {"method": "group_median", "groups": "province"}},
               {"normalise": {"method": "minmx"}}, {"treat": {"method": "winsorise"}},
               {"weight": {"method": "entropy", "level": 0}}, {"colour": {}}, "aggregate"]
    issues = step_issues(section, origin="eval.yaml", key="levels.county.pipeline")
    assert [(i.file, i.key) for i in issues] == [
        ("eval.yaml", "levels.county.pipeline[0].impute.groups"),
        ("eval.yaml", "levels.county.pipeline[1].normalise.method"),
        ("eval.yaml", "levels.county.pipeline[3].weight.level"),
        ("eval.yaml", "levels.county.pipeline[4]"),
        ("eval.yaml", "levels.county.pipeline[5]")]
    assert "did you mean minmax?" in issues[1].message
    assert step_issues([{"normalise": {"method": "minmax", "low": 1}}, {"aggregate": {}}]) == []


def test_the_engine_does_not_reach_into_reports_or_the_command_line() -> None:
    """Data flows one way: index and access import neither cocity.report nor cocity.cli."""
    import ast
    import pkgutil

    import cocity.access
    import cocity.index

    for package in (cocity.index, cocity.access):
        for info in pkgutil.iter_modules(package.__path__):
            path = Path(package.__path__[0]) / f"{info.name}.py"
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
            names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
            upstream = [m for m in names if m.startswith(("cocity.report", "cocity.cli"))]
            assert upstream == [], (path.name, upstream)
