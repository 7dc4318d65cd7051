"""Importers of observations: long and wide tables, every kind of bad input, all-or-nothing."""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from cocity.data.errors import Issue, ValidationError
from cocity.data.importers import import_observations, read_observations
from cocity.data.store import Store
from tests.conftest import tiny_boxes, tiny_catalog, tiny_observations, tiny_units

pytestmark = pytest.mark.usefixtures("english")

# ---------------------------------------------------------------------------- helpers
EXTRA_INDICATORS = pd.DataFrame([
    ("employment_01", "就业率", "Employment share", "", "", 1, "share_01",
     "就业人口占比", "Employed share", "test", "CC0"),
    ("dependency", "抚养比", "Dependency ratio", "", "", -1, "ratio",
     "非劳动年龄人口/劳动年龄人口", "Dependants per working-age person", "test", "CC0"),
    ("gdp_growth", "GDP增速", "GDP growth", "%", "%", 1, "level",
     "地区生产总值增长率", "Real GDP growth", "test", "CC0"),
], columns=tiny_catalog().columns)
CHENGDU = pd.DataFrame([("510100", "成都市", "Chengdu City", "prefecture", "510000",
                         "prefecture_city", "full", "core", "chengdu", 104.07, 30.57)],
                       columns=tiny_units().columns)


def make_store(observations: bool = True) -> Store:
    """The tiny test store (with boundaries) plus 成都市 and indicators of every value_kind."""
    store = Store.open(None)
    store.add_units(pd.concat([tiny_units(), CHENGDU], ignore_index=True))
    store.add_indicators(pd.concat([tiny_catalog(), EXTRA_INDICATORS], ignore_index=True))
    if observations:
        store.add_observations(tiny_observations())
    store.add_geometries(tiny_boxes(), datum="WGS-84")
    return store


@dataclass
class Snapshot:
    """Everything an import could change."""

    observations: pd.DataFrame
    units: pd.DataFrame
    log: pd.DataFrame
    meta: dict[str, str]
    geo: list[bytes | None]


def snapshot(store: Store) -> Snapshot:
    """Copy of the store's observations, units, import log, meta and boundaries."""
    geo = store.geodata()
    return Snapshot(store.observations(), store.units(), store.import_log(), store.meta(),
                    [None if g is None else g.wkb for g in geo.geometry])


def assert_unchanged(store: Store, before: Snapshot) -> None:
    """The store holds exactly what it held when ``before`` was taken."""
    after = snapshot(store)
    pd.testing.assert_frame_equal(after.observations, before.observations)
    pd.testing.assert_frame_equal(after.units, before.units)
    pd.testing.assert_frame_equal(after.log, before.log)
    assert after.meta == before.meta
    assert after.geo == before.geo


def write_csv(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) and return the path."""
    path.write_text(text, encoding="utf-8")
    return path


def rejected(store: Store, path: Path, **options: object) -> list[Issue]:
    """Import ``path`` expecting a ValidationError; check the store did not change."""
    before = snapshot(store)
    with pytest.raises(ValidationError, match=r"problem\(s\) found|个问题") as err:
        import_observations(store, path, **options)  # type: ignore[arg-type]
    assert_unchanged(store, before)
    assert err.value.issues
    return err.value.issues


def the_issue(issues: list[Issue], row: int | None, column: str | None) -> Issue:
    """The one issue at ``row`` whose column starts with ``column``."""
    hits = [i for i in issues if i.row == row
            and (column is None or (i.column or "").startswith(column))]
    assert len(hits) == 1, issues
    assert hits[0].hint, hits[0]
    return hits[0]


@pytest.fixture
def store() -> Store:
    return make_store()


HEADER = "unit,year,indicator,value\n"
GOOD_ROW = "内江市市中区,2021,pop_total,1000\n"

# ---------------------------------------------------------------------------- long form


def test_long_csv_with_chinese_headers_imports_and_reimport_is_noop(store: Store,
                                                                   tmp_path: Path) -> None:
    path = write_csv(tmp_path / "人口.csv", (
        "地区,年份,指标,数值,计量单位,来源,备注\n"
        '内江市市中区,2021,常住人口,"1,234,567",人,统计年鉴,\n'
        "东兴,2021,urban_share,55.5,%,,\n"
        "Leshan Shizhong,2021,Urban share,60%,,,x\n"
        ",,,,,,\n"
        "沙湾区,2021,文盲率,,%,,\n"))
    result = import_observations(store, path)
    assert (result.form, result.rows_read, result.records) == ("long", 4, 3)
    assert (result.added, result.changed, result.unchanged, result.blank) == (3, 0, 0, 1)
    assert result.ignored_columns == ("备注 (G)",)
    obs = store.observations(years=[2021]).set_index(["unit", "indicator"])
    assert obs.loc[("511002", "pop_total"), "value"] == 1234567
    assert obs.loc[("511002", "pop_total"), "source"] == "统计年鉴"
    assert obs.loc[("511011", "urban_share"), "source"] == "人口.csv"
    assert obs.loc[("511102", "urban_share"), "value"] == 60
    log = store.import_log()
    assert log["file"].iloc[-1] == str(path) and log["added"].iloc[-1] == 3
    assert log["sha256"].iloc[-1] == result.sha256

    before = snapshot(store).observations
    again = import_observations(store, path)
    assert (again.added, again.changed, again.unchanged) == (0, 0, 3)
    pd.testing.assert_frame_equal(store.observations(), before)


def test_english_headers_are_case_insensitive_and_columns_may_move(store: Store,
                                                                  tmp_path: Path) -> None:
    path = write_csv(tmp_path / "obs.csv", (
        "Value,Indicator,YEAR,Unit_Code,Source\n"
        "0.5,employment_01,2020,511000,survey\n"
        "1.5,Dependency ratio,2020,511100,survey\n"))
    result = import_observations(store, path)
    assert result.added == 2
    panel = store.panel(["employment_01", "dependency"], years=[2020], level="prefecture")
    assert panel.loc[("511000", 2020), "employment_01"] == 0.5
    assert panel.loc[("511100", 2020), "dependency"] == 1.5


@pytest.mark.parametrize("spelling", ["成都", "成都市", "Chengdu", "chengdu city", "510100",
                                      "５１０１００"])
def test_name_variants_resolve_to_the_same_unit(store: Store, tmp_path: Path,
                                                spelling: str) -> None:
    path = write_csv(tmp_path / "cd.csv", HEADER + f"{spelling},2020,pop_total,20937757\n")
    assert import_observations(store, path).added == 1
    assert store.panel(["pop_total"], units=["510100"]).loc[("510100", 2020), "pop_total"] == (
        20937757)
    # The same observation under another spelling is a no-op.
    other = write_csv(tmp_path / "cd2.csv", HEADER + "510100,2020,pop_total,20937757\n")
    result = import_observations(store, other)
    assert (result.added, result.changed) == (0, 0)


def test_year_option_fills_a_missing_year_column(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "y.csv", "unit,indicator,value\n东兴区,pop_total,5\n")
    issues = rejected(store, path)
    assert the_issue(issues, 1, "year").message.startswith("missing required column 'year'")
    assert import_observations(store, path, year=2023).added == 1
    assert store.observations(years=[2023])["unit"].tolist() == ["511011"]


def test_excel_long_form_with_code_and_name_columns(store: Store, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["区划代码", "地区", "年份", "指标", "值"])
    ws.append([511002, "市中区", 2022.0, "pop_total", 10])  # the code settles the ambiguity
    ws.append(["511102", "乐山市中区", 2022, "pop_total", 20])  # name matches nothing: code wins
    ws.append([None, "沙湾区", 2022, "pop_total", 30])  # no code: the name decides
    wb.save(tmp_path / "codes.xlsx")
    result = import_observations(store, tmp_path / "codes.xlsx")
    assert result.added == 3
    values = store.panel(["pop_total"], years=[2022])["pop_total"]
    assert values.to_dict() == {("511002", 2022): 10, ("511102", 2022): 20,
                                ("511111", 2022): 30}


def test_code_and_name_that_disagree_are_an_error(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "pair.csv",
                     "code,name,year,indicator,value\n511002,沙湾区,2022,pop_total,1\n")
    issue = the_issue(rejected(store, path), 2, "code")
    assert "511002" in issue.message and "沙湾区" in issue.message and "511111" in issue.message


def test_gbk_semicolon_csv_is_read(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("地区;年份;指标;数值\n东兴区;2019;常住人口;12\n".encode("gbk"))
    assert import_observations(store, path).added == 1


# ---------------------------------------------------------------------------- wide form


def yearbook(path: Path, *, unit_of_pop: str = "人", extra: list[object] | None = None) -> Path:
    """A yearbook sheet: title, merged group header over two header rows, a note at the end."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人口"
    ws.append(["表 3-1  各区县人口与教育（2021年）"])
    ws.merge_cells("A1:E1")
    ws.append(["地区", "人口", None, "教育", "序号"])
    ws.append([None, f"常住人口（{unit_of_pop}）", "城镇化率（%）", "文盲率(%)", None])
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:C2")
    ws.merge_cells("E2:E3")
    ws.append(["内江市市中区", 337106, 80.1, 2.5, 1])
    ws.append(["511011", "754,120", 0.551, None, 2])
    ws["C5"].number_format = "0.0%"
    ws.append(["Leshan Shizhong", 814597, 70.2, 1.5, 3])
    ws.append([])
    if extra is not None:
        ws.append(extra)
    ws.append(["注：本表为测试数据。"])
    wb.create_sheet("说明").append(["nothing here"])
    wb.save(path)
    return path


def test_wide_yearbook_with_multi_row_merged_header(store: Store, tmp_path: Path) -> None:
    path = yearbook(tmp_path / "yearbook.xlsx")
    result = import_observations(store, path, year=2021)
    assert (result.form, result.rows_read, result.records, result.blank) == ("wide", 3, 8, 1)
    assert result.ignored_columns == ("序号 (E)",)
    panel = store.panel(["pop_total", "urban_share", "illiteracy_rate"], years=[2021])
    assert panel.loc[("511002", 2021)].tolist() == [337106, 80.1, 2.5]
    assert panel.loc[("511011", 2021), "pop_total"] == 754120
    assert panel.loc[("511011", 2021), "urban_share"] == pytest.approx(55.1, abs=1e-9)
    assert pd.isna(panel.loc[("511011", 2021), "illiteracy_rate"])
    assert panel.loc[("511102", 2021), "pop_total"] == 814597
    # Same file, explicit layout: nothing changes.
    again = import_observations(store, path, year=2021, form="wide", header_rows=3,
                                sheet="人口")
    assert (again.added, again.changed, again.unchanged) == (0, 0, 8)


def test_wide_with_year_headers_over_indicator_groups(store: Store, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["单元", "常住人口（人）", None, "urban_share"])
    ws.append([None, "2019年", "2020年", "2019"])
    ws.merge_cells("B1:C1")
    ws.append(["沙湾", 150000, 144931, 39.5])
    wb.save(tmp_path / "years.xlsx")
    result = import_observations(store, tmp_path / "years.xlsx")
    assert (result.added, result.unchanged) == (2, 1)  # 2020 population is already stored
    panel = store.panel(["pop_total", "urban_share"], units=["511111"])
    assert panel.loc[("511111", 2019)].tolist() == [150000, 39.5]


def test_wide_csv_with_a_year_column_and_blank_corner(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "panel.csv", (
        ",年份,常住人口,Employment share\n"
        "内江,2018,3700000,0.61\n"
        "内江,2019,3720000,\n"))
    result = import_observations(store, path)
    assert (result.form, result.added, result.blank) == ("wide", 3, 1)
    assert store.panel(["pop_total"], units=["内江"])["pop_total"].tolist() == [3700000, 3720000]


# ---------------------------------------------------------------------------- bad cells


@pytest.mark.parametrize(("row", "column", "expect"), [
    ("Atlantis,2021,pop_total,5", "unit", "unknown unit 'Atlantis'"),
    ("999999,2021,pop_total,5", "unit", "unknown unit '999999'"),
    (",2021,pop_total,5", "unit", "the unit is blank"),
    ("市中区,2021,pop_total,5", "unit", "511002"),
    ("东兴区,2021,population,5", "indicator", "indicator 'population' is not in the catalog"),
    ("东兴区,2021,,5", "indicator", "the indicator is blank"),
    ("东兴区,2021,pop_total,abc", "value", "'abc' is not a number"),
    ("东兴区,2021,pop_total,—", "value", "'—' is not a number"),
    ("东兴区,2021,pop_total,-", "value", "'-' is not a number"),
    ("东兴区,2021,pop_total,N/A", "value", "'N/A' is not a number"),
    ("东兴区,2021,pop_total,#DIV/0!", "value", "'#DIV/0!' is not a number"),
    ("东兴区,2021,pop_total,\"1,23\"", "value", "'1,23' is not a number"),
    ("东兴区,2021,pop_total,nan", "value", "'nan' is not a number"),
    ("东兴区,2021,pop_total,1_000", "value", "'1_000' is not a number"),
    ("东兴区,2021,pop_total,Infinity", "value", "'Infinity' is not a number"),
    ("东兴区,2021,pop_total,inf", "value", "'inf' is not a number"),
    ("东兴区,2021,pop_total,1e999", "value", "'1e999' is not a finite number"),
    ("东兴区,2021,pop_total,-5", "value", "value -5 is negative"),
    ("东兴区,2021,pop_total,5%", "value", "'5%' is a percentage"),
    ("东兴区,2021,dependency,-0.1", "value", "value -0.1 is negative"),
    ("东兴区,2021,urban_share,100.5", "value", "outside 0–100"),
    ("东兴区,2021,urban_share,-1", "value", "outside 0–100"),
    ("东兴区,2021,employment_01,1.2", "value", "outside 0–1"),
    ("东兴区,2021,employment_01,120%", "value", "value 120% is outside 0–1"),
    ("东兴区,2020.5,pop_total,5", "year", "'2020.5' is not a year"),
    ("东兴区,1800,pop_total,5", "year", "year 1800 is implausible"),
    ("东兴区,3000,pop_total,5", "year", "year 3000 is implausible"),
    ("东兴区,二〇二〇,pop_total,5", "year", "'二〇二〇' is not a year"),
    ("东兴区,,pop_total,5", "year", "the year is blank"),
])
def test_bad_cell_names_file_row_and_column(store: Store, tmp_path: Path, row: str,
                                            column: str, expect: str) -> None:
    path = write_csv(tmp_path / "bad.csv", HEADER + GOOD_ROW + row + "\n")
    issues = rejected(store, path)
    issue = the_issue(issues, 3, column)
    assert issue.file == str(path)
    assert expect in issue.message
    text = str(ValidationError(issues))
    assert str(path) in text and "row 3" in text and f"column '{column}" in text


def test_ambiguous_name_lists_the_candidates(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "amb.csv", HEADER + "市中区,2021,pop_total,5\n")
    issue = the_issue(rejected(store, path), 2, "unit (A)")
    assert "内江市市中区 (511002), 乐山市市中区 (511102)" in issue.message
    assert "qualify" in (issue.hint or "")


def test_zero_and_level_values_are_fine(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ok.csv", HEADER + (
        "东兴区,2021,pop_total,0\n东兴区,2021,gdp_growth,-3.5\n东兴区,2021,urban_share,100\n"
        "东兴区,2021,employment_01,0\n东兴区,2021,dependency,1e3\n"))
    assert import_observations(store, path).added == 5


def test_duplicate_key_within_file_names_both_rows(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "dup.csv",
                     HEADER + GOOD_ROW + "Neijiang Shizhong,2021,常住人口,1000\n")
    issue = the_issue(rejected(store, path), 3, "value")
    assert "row 2" in issue.message and "511002" in issue.message


def test_all_issues_are_collected_in_one_error(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "many.csv", HEADER + (
        "Atlantis,2021,pop_total,5\n东兴区,20x1,pop_total,x\n东兴区,2021,foo,1\n"))
    issues = rejected(store, path)
    assert {(i.row, (i.column or "")[:4]) for i in issues} == {
        (2, "unit"), (3, "year"), (3, "valu"), (4, "indi")}


def test_units_of_measure_are_converted_or_refused(store: Store, tmp_path: Path) -> None:
    # 万人 in a unit column, in the indicator cell and in a wide header: converted to 人.
    path = write_csv(tmp_path / "uom.csv",
                     "地区,年份,指标,数值,单位\n东兴区,2021,pop_total,75.4,万人\n")
    result = import_observations(store, path)
    assert result.added == 1 and result.notes == ("单位 (E): 万人 → persons, values multiplied "
                                                  "by 10,000",)
    assert store.panel(["pop_total"], years=[2021]).loc[("511011", 2021), "pop_total"] == 754000
    path = write_csv(tmp_path / "uom2.csv", HEADER + "东兴区,2022,常住人口（万人）,75.4\n")
    assert import_observations(store, path).added == 1
    assert store.panel(["pop_total"], years=[2022]).iloc[0, 0] == 754000
    # Head-counts labelled 万人 are converted, then found implausible (more than China).
    path = yearbook(tmp_path / "uom.xlsx", unit_of_pop="万人")
    issue = the_issue(rejected(store, path, year=2021), 4, "常住人口（万人） (B)")
    assert issue.message == (
        "常住人口 / Resident population (pop_total, unit: persons): value 337106 → 3371060000 "
        "is above the plausible maximum 1,500,000,000 (cannot exceed China's population "
        "(1.41 billion in the 2020 census))")
    # Units of another dimension cannot be converted: refused at the cell that gives them.
    bad = write_csv(tmp_path / "bad.csv",
                    "地区,年份,指标,数值,单位\n东兴区,2021,pop_total,75.4,亿元\n")
    issue = the_issue(rejected(store, bad), 2, "单位")
    assert "'亿元'" in issue.message and "人 / persons" in issue.message
    bad = write_csv(tmp_path / "bad2.csv", HEADER + "东兴区,2021,常住人口（公顷）,75.4\n")
    assert "'公顷'" in the_issue(rejected(store, bad), 2, "indicator").message
    # Matching units are accepted in either language and width.
    ok = write_csv(tmp_path / "uom3.csv", "unit,year,indicator,value,unit_of_measure\n"
                   "东兴区,2023,pop_total,5,persons\n东兴区,2023,urban_share,5,％\n")
    result = import_observations(store, ok)
    assert result.added == 2 and result.notes == ()


def test_missing_required_columns_lists_columns_found(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cols.csv", "地区,年份,指标,备注\n东兴区,2021,pop_total,x\n")
    issue = the_issue(rejected(store, path, form="long"), 1, "value")
    assert "missing required column 'value'" in issue.message
    assert "地区, 年份, 指标, 备注" in issue.message


def test_two_columns_with_the_same_role(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "two.csv",
                     "unit,year,indicator,value,数值\n东兴区,2021,pop_total,1,2\n")
    issue = the_issue(rejected(store, path), 1, "数值 (E)")
    assert "'value'" in issue.message


def test_conflict_with_stored_value_needs_replace(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "new.csv", HEADER + "内江市市中区,2020,pop_total,1\n")
    issue = the_issue(rejected(store, path), 2, "value")
    assert "stored value 337106 differs from the new value 1" in issue.message
    assert "--replace" in (issue.hint or "")
    result = import_observations(store, path, replace=True)
    assert (result.added, result.changed) == (0, 1)
    assert store.panel(["pop_total"]).loc[("511002", 2020), "pop_total"] == 1


def test_dry_run_reports_without_writing(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "dry.csv", HEADER + "内江市市中区,2020,pop_total,337106\n"
                     + GOOD_ROW)
    before = snapshot(store)
    result = import_observations(store, path, dry_run=True)
    assert (result.added, result.changed, result.unchanged, result.dry_run) == (1, 0, 1, True)
    assert_unchanged(store, before)
    parsed = read_observations(store, path)
    assert parsed.frame[["unit", "year", "indicator", "value"]].values.tolist() == [
        ["511002", 2020, "pop_total", 337106.0], ["511002", 2021, "pop_total", 1000.0]]


# ---------------------------------------------------------------------------- bad wide tables


def test_wide_unknown_header_and_headerless_column(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "w.csv", "地区,常住人口,人均GDP,\n东兴区,1,2,3\n")
    issues = rejected(store, path, year=2021)
    assert "header '人均GDP' matches no indicator" in the_issue(issues, 1, "人均GDP (C)").message
    assert "cell '3' lies beyond the header" in the_issue(issues, 2, "D").message


def test_wide_needs_a_year(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "w.csv", "地区,常住人口\n东兴区,1\n")
    issue = the_issue(rejected(store, path), 1, "year")
    assert "--year" in (issue.hint or "")


def test_wide_repeated_indicator_columns(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "w.csv", "地区,常住人口,pop_total\n东兴区,1,1\n")
    issue = the_issue(rejected(store, path, year=2021), 1, "pop_total (C)")
    assert "already appears in column '常住人口 (B)'" in issue.message


def test_wide_bad_cells_use_spreadsheet_rows(store: Store, tmp_path: Path) -> None:
    path = yearbook(tmp_path / "bad.xlsx", extra=["沙湾区", -3, 120, "—", 4])
    issues = rejected(store, path, year=2021)
    assert "negative" in the_issue(issues, 8, "常住人口（人） (B)").message
    assert "outside 0–100" in the_issue(issues, 8, "城镇化率（%） (C)").message
    assert "not a number" in the_issue(issues, 8, "文盲率(%) (D)").message
    assert len(issues) == 3


def test_excel_cells_of_the_wrong_type(store: Store, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["unit", "year", "indicator", "value"])
    ws.append(["东兴区", 2021, "pop_total", dt.datetime(2021, 5, 1)])
    ws.append(["东兴区", 2021, "urban_share", True])
    ws.append(["东兴区", 2021, "pop_total", 0.5])
    ws["D4"].number_format = "0%"
    wb.save(tmp_path / "types.xlsx")
    issues = rejected(store, tmp_path / "types.xlsx")
    assert "date" in the_issue(issues, 2, "value").message
    assert "not a number" in the_issue(issues, 3, "value").message
    assert "percentage" in the_issue(issues, 4, "value").message


# ---------------------------------------------------------------------------- bad files


def _xlsx_bytes(tmp_path: Path) -> bytes:
    wb = openpyxl.Workbook()
    wb.active.append(["unit", "year", "indicator", "value"])
    wb.save(tmp_path / "real.xlsx")
    return (tmp_path / "real.xlsx").read_bytes()


@pytest.mark.parametrize(("name", "content", "expect"), [
    ("text.xlsx", b"unit,year,indicator,value\n", "not an Excel workbook"),
    ("empty.csv", b"", "the file is empty"),
    ("blank.csv", b" \n\n , \n", "the file is empty"),
    ("data.doc", b"unit,year", "unsupported file type .doc"),
    ("noext", b"unit,year", "unsupported file type"),
    ("old.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100, "unsupported file type .xls"),
    ("old.xlsx", b"\xd0\xcf\x11\xe0" + b"\0" * 100, "Excel 97-2003"),
    ("binary.csv", b"\xd0\xcf\x11\xe0" + b"\0" * 100, "not a text file"),
    ("broken.xlsx", b"PK\x03\x04garbage", "cannot read this Excel workbook"),
    ("header_only.csv", b"unit,year,indicator,value\n", "holds no observations"),
])
def test_unreadable_files_are_clear_errors(store: Store, tmp_path: Path, name: str,
                                           content: bytes, expect: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    issues = rejected(store, path)
    assert len(issues) == 1 and issues[0].file == str(path)
    assert expect in issues[0].message and issues[0].hint


def test_workbook_named_csv_and_missing_things(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_bytes(_xlsx_bytes(tmp_path))
    assert "Excel workbook" in rejected(store, path)[0].message
    assert "file not found" in rejected(store, tmp_path / "nope.csv")[0].message
    assert "folder" in rejected(store, tmp_path)[0].message
    xlsx = yearbook(tmp_path / "y.xlsx")
    issue = rejected(store, xlsx, sheet="Sheet9")[0]
    assert "no sheet named Sheet9" in issue.message and "人口, 说明" in issue.message
    assert "--sheet" in rejected(store, write_csv(tmp_path / "a.csv", HEADER), sheet="x")[0].message
    assert rejected(store, xlsx, year=1700)[0].column == "--year"
    assert rejected(store, xlsx, form="diagonal")[0].column == "--form"
    assert rejected(store, xlsx, header_rows=0)[0].column == "--header-rows"


def test_zip_that_is_not_a_workbook(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    assert "cannot read this Excel workbook" in rejected(store, path)[0].message


def test_sheet_by_position(store: Store, tmp_path: Path) -> None:
    xlsx = yearbook(tmp_path / "y.xlsx")
    issues = rejected(store, xlsx, sheet="2", year=2021)  # the notes sheet
    assert issues[0].message == "no indicator columns found in the header"
    assert issues[0].column == "indicator"
    assert import_observations(store, xlsx, sheet="1", year=2021).added == 8


def test_messages_are_chinese_by_default(store: Store, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCITY_LANG", "zh")
    path = write_csv(tmp_path / "zh.csv", HEADER + "东兴区,2021,pop_total,-5\n")
    issue = the_issue(rejected(store, path), 2, "value")
    assert issue.message == ("常住人口 / Resident population（pop_total，单位：人）："
                             "数值 -5 为负，但该指标是计数型，不能小于 0")
    assert issue.hint == "检查符号和指标是否填对"


def test_long_table_under_a_title_and_total_rows(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "titled.csv", (
        "表1 主要指标,,,\n"
        ",,,\n"
        "地区,年份,指标,数值\n"
        "东兴区,2021,pop_total,7\n"
        "合计,2021,pop_total,7\n"
        "资料来源：测试,,,\n"))
    issue = the_issue(rejected(store, path), 5, "地区 (A)")
    assert "unknown unit '合计'" in issue.message and "total" in (issue.hint or "")
    path.write_text(path.read_text(encoding="utf-8").replace("合计,2021,pop_total,7\n", ""),
                    encoding="utf-8")
    result = import_observations(store, path)
    assert (result.rows_read, result.added) == (1, 1)


def test_every_import_message_has_both_languages_with_the_same_fields() -> None:
    import string

    from cocity.i18n import labels

    mine = {k: v for k, v in labels().items() if k.startswith("import.")}
    assert len(mine) > 100
    for key, entry in mine.items():
        assert set(entry) == {"zh", "en"}, key
        fields = [{f for _, f, _, _ in string.Formatter().parse(entry[lang]) if f}
                  for lang in ("zh", "en")]
        assert fields[0] == fields[1], key
