"""``import units`` and ``import catalog``: every problem at once, all-or-nothing, logged,
conflicts need --replace (issue #10, points 7 and 8)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from cocity.cli import app
from cocity.data.errors import Issue, ValidationError
from cocity.data.import_definitions import import_catalog, import_units
from cocity.data.store import Store
from tests.test_importers import assert_unchanged, snapshot, write_csv

pytestmark = pytest.mark.usefixtures("english")

UNITS = ("code,name_zh,name_en,level,parent,membership\n"
         "110000,北京市,Beijing Municipality,省级,,全域纳入\n"
         "110100,北京市,Beijing,prefecture,110000,full\n"
         "110105,朝阳区,,县级,110100,full\n")


def refused(store: Store, fn: Callable[..., object], path: Path,
            **options: object) -> list[Issue]:
    """Import expecting a ValidationError; the store must not change."""
    before = snapshot(store)
    with pytest.raises(ValidationError, match=r"problem\(s\) found|个问题") as err:
        fn(store, path, **options)
    assert_unchanged(store, before)
    return err.value.issues


def test_units_import_accepts_chinese_labels_and_no_pinyin(tmp_path: Path) -> None:
    store = Store.open(None)
    result = import_units(store, write_csv(tmp_path / "u.csv", UNITS))
    assert (result.kind, result.added, result.changed) == ("units", 3, 0)
    assert result.units == "1 province-level, 1 prefecture-level, 1 county-level"
    assert result.notes == ("1 unit(s) have no English name: English output shows their Chinese "
                            "name (pinyin names are not required)",)
    units = store.units().set_index("code")
    assert units.at["110105", "level"] == "county" and units.at["110000", "membership"] == "full"
    assert units.at["110105", "name_en"] == "朝阳区"
    assert store.resolve("朝阳区") == "110105"
    log = store.import_log()
    assert (log["kind"].iloc[-1], log["added"].iloc[-1]) == ("units", 3)
    again = import_units(store, tmp_path / "u.csv")
    assert (again.added, again.changed, again.unchanged) == (0, 0, 3)
    assert len(store.import_log()) == 1  # an identical re-import is not logged


def test_every_unit_problem_is_reported_at_once(tmp_path: Path) -> None:
    store = Store.open(None)
    path = write_csv(tmp_path / "bad.csv", (
        "代码,名称,层级,上级,纳入情况,经度,都市圈\n"
        "11010,甲,county,,full,116.4,\n"          # 5-digit code
        "110105,,county,999999,full,,\n"          # no name, unknown parent
        "110105,乙,town,,inside,,\n"               # repeated code, bad level, bad membership
        "110106,丙,county,110106,full,1164000,Beijing\n"))  # own parent, metres, bad metro
    issues = refused(store, import_units, path)
    found = {(i.row, i.column) for i in issues}
    assert found == {(2, "代码 (A)"), (3, "名称 (B)"), (3, "上级 (D)"), (4, "代码 (A)"),
                     (4, "层级 (C)"), (4, "纳入情况 (E)"), (5, "上级 (D)"), (5, "经度 (F)"),
                     (5, "都市圈 (G)")}
    messages = {(i.row, i.column): i.message for i in issues}
    assert messages[(2, "代码 (A)")] == "code '11010' is not a 6-digit GB/T 2260 code"
    assert messages[(4, "代码 (A)")] == "'110105' is repeated; it already appears in row 3"
    assert messages[(4, "层级 (C)")] == "'town' is not one of province, prefecture, county"
    assert "not between -180.0 and 180.0" in messages[(5, "经度 (F)")]
    assert all(i.hint for i in issues)


def test_missing_columns_and_changed_units(tmp_path: Path) -> None:
    store = Store.open(None)
    issues = refused(store, import_units, write_csv(tmp_path / "n.csv", "code,name\n110000,x\n"))
    assert [i.column for i in issues] == ["level"]
    assert "missing required column 'level'" in issues[0].message
    import_units(store, write_csv(tmp_path / "u.csv", UNITS))
    changed = write_csv(tmp_path / "c.csv", UNITS.replace("朝阳区,,县级", "朝阳区,Chaoyang,县级"))
    issue = refused(store, import_units, changed)[0]
    assert (issue.row, issue.column) == (4, "code (A)")
    assert issue.message == "110105 is already in the workspace with another definition"
    assert "--replace" in (issue.hint or "")
    result = import_units(store, changed, replace=True)
    assert (result.added, result.changed, result.unchanged) == (0, 1, 2)
    assert store.units().set_index("code").at["110105", "name_en"] == "Chaoyang"


CATALOG = ("编号,指标名称,英文名称,计量单位,方向,数值类型,来源\n"
           "pop_total,常住人口,Resident population,人,描述性,计数型,demo\n"
           "beds_per_1000,每千人床位数,Beds per 1000,张/千人,正向,ratio,demo\n"
           "commute_minutes,平均通勤时间,,分钟,-1,level,demo\n")


def test_catalog_import_with_words_for_directions_and_kinds(tmp_path: Path) -> None:
    store = Store.open(None)
    result = import_catalog(store, write_csv(tmp_path / "c.csv", CATALOG))
    assert (result.kind, result.added) == ("catalog", 3)
    cat = store.catalog()
    assert cat["direction"].to_dict() == {"beds_per_1000": 1, "commute_minutes": -1,
                                          "pop_total": 0}
    assert cat.at["pop_total", "value_kind"] == "count"
    assert cat.at["commute_minutes", "name_en"] == "平均通勤时间"
    assert store.import_log()["kind"].tolist() == ["catalog"]


def test_every_catalog_problem_is_reported_at_once(tmp_path: Path) -> None:
    store = Store.open(None)
    path = write_csv(tmp_path / "bad.csv", (
        "id,name_zh,direction,value_kind,source\n"
        "Pop Total,常住人口,2,count,demo\n"
        "gdp,,up,money,\n"
        "gdp,地区生产总值,1,ratio,demo\n"))
    issues = refused(store, import_catalog, path)
    assert {(i.row, i.column) for i in issues} == {
        (2, "id (A)"), (2, "direction (C)"), (3, "name_zh (B)"), (3, "direction (C)"),
        (3, "value_kind (D)"), (3, "source (E)"), (4, "id (A)")}
    by = {(i.row, i.column): i.message for i in issues}
    assert by[(2, "direction (C)")] == ("direction '2' must be 1 (benefit), -1 (cost) or 0 "
                                        "(descriptive)")
    assert by[(3, "value_kind (D)")] == ("'money' is not one of count, share_pct, share_01, "
                                         "ratio, level")


def test_units_from_a_workbook_through_the_command_line(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(ws), "--dataset", "none"]).exit_code == 0
    wb = openpyxl.Workbook()
    for line in UNITS.splitlines():
        wb.active.append([int(c) if c.isdigit() else (c or None) for c in line.split(",")])
    wb.save(tmp_path / "units.xlsx")
    result = runner.invoke(app, ["import", "units", str(tmp_path / "units.xlsx"), "-w", str(ws)],
                           env={"COLUMNS": "200", "COCITY_LANG": "en"})
    assert result.exit_code == 0, result.output
    assert "1 province-level, 1 prefecture-level, 1 county-level" in result.output
    bad = runner.invoke(app, ["import", "catalog", str(write_csv(tmp_path / "c.csv",
                                                                  "id,name_zh\nx,y\n")),
                              "-w", str(ws)], env={"COLUMNS": "200", "COCITY_LANG": "en"})
    assert bad.exit_code == 2 and "missing required column 'direction'" in bad.output
    assert "The workspace was not changed." in bad.output
    with Store.open(ws, read_only=True) as store:
        assert len(store.units()) == 3 and store.catalog().empty
