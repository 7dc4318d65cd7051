"""Yearbook tables: damaged workbooks, uncalculated formulas, ragged rows, yearbook units and
headers, plausible bounds and full-precision messages (issue #10, points 2, 4 and 5)."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from cocity.data.errors import Issue
from cocity.data.importers import import_observations
from cocity.data.store import Store
from cocity.data.uom import bounds_for, conversion, header_aliases
from tests.conftest import tiny_catalog
from tests.test_importers import HEADER, make_store, rejected, the_issue, write_csv

pytestmark = pytest.mark.usefixtures("english")

MONEY = pd.DataFrame([
    ("gdp", "地区生产总值", "Gross regional product", "亿元", "100m yuan", 1, "ratio",
     "地区生产总值", "GRP", "test", "CC0"),
    ("gdp_per_capita", "人均地区生产总值", "GRP per capita", "元", "yuan", 1, "ratio",
     "人均地区生产总值", "GRP per head", "test", "CC0"),
], columns=tiny_catalog().columns)


@pytest.fixture
def store() -> Store:
    store = make_store()
    store.add_indicators(MONEY)
    return store


# ---------------------------------------------------------------------------- point 2: files
def test_a_broken_deflate_stream_is_an_issue_naming_the_file(store: Store,
                                                             tmp_path: Path) -> None:
    path = tmp_path / "good.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["unit", "year", "indicator", "value"])
    for i in range(200):
        wb.active.append(["东兴区", 1901 + i, "pop_total", i])
    wb.save(path)
    data = bytearray(path.read_bytes())
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:
                                                    info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    for k in range(start + 10, start + 40):  # corrupt the compressed sheet
        data[k] ^= 0xFF
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(bytes(data))
    issues = rejected(store, broken)
    assert len(issues) == 1 and issues[0].file == str(broken)
    assert issues[0].message.startswith("cannot read this Excel workbook: Error -3 while "
                                        "decompressing data")
    assert "save it again as .xlsx" in (issues[0].hint or "")


def test_formulas_without_a_saved_value_are_reported_not_dropped(store: Store,
                                                                 tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["unit", "year", "indicator", "value"])
    ws.append(["东兴区", 2021, "pop_total", 1000])
    ws.append(["沙湾区", 2021, "pop_total", "=D2*2"])  # written by a script, never calculated
    wb.save(tmp_path / "formulas.xlsx")
    issue = the_issue(rejected(store, tmp_path / "formulas.xlsx"), 3, "value (D)")
    assert issue.message == ("常住人口 / Resident population (pop_total, unit: persons): the "
                             "formula =D2*2 has no saved result (the workbook was written by a "
                             "program and never calculated in Excel/WPS)")
    assert "open and save the workbook in Excel/WPS" in (issue.hint or "")


def test_cells_beyond_the_header_of_ragged_rows_are_issues(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ragged.csv", HEADER + "东兴区,2021,pop_total,5\n"
                     "沙湾区,2021,pop_total,1,234\n")  # an unquoted thousands separator
    issue = the_issue(rejected(store, path), 3, "E")
    assert issue.message == "cell '234' lies beyond the header (its column has no header)"
    assert "unquoted comma" in (issue.hint or "")
    wide = write_csv(tmp_path / "wide.csv", "地区,常住人口\n东兴区,1\n沙湾区,2,3\n")
    issue = the_issue(rejected(store, wide, year=2021), 3, "C")
    assert "cell '3' lies beyond the header" in issue.message


# ---------------------------------------------------------------------------- point 4: bounds
@pytest.mark.parametrize(("indicator", "value", "column", "expect"), [
    ("pop_total", "1e308", "value (D)",
     "常住人口 / Resident population (pop_total, unit: persons): value 1e308 is above the "
     "plausible maximum 1,500,000,000 (cannot exceed China's population (1.41 billion in the "
     "2020 census))"),
    ("urban_share", "1e6%", "value (D)",
     "城镇化率 / Urban share (urban_share, unit: %): value 1e6% is outside 0–100, the range "
     "of a percentage indicator"),
    ("gdp", "2e7", "value (D)",
     "地区生产总值 / Gross regional product (gdp, unit: 100m yuan): value 2e7 is above the "
     "plausible maximum 10,000,000 (about 8 times China's 2023 GDP (126 trillion yuan); no "
     "region can reach it)"),
    ("dependency", "5e12", "value (D)",
     "抚养比 / Dependency ratio (dependency, unit: none): value 5e12 is above the plausible "
     "maximum 1,000,000,000,000 (beyond any statistic of a city cluster)"),
    ("gdp_growth", "-2e12", "value (D)",
     "GDP增速 / GDP growth (gdp_growth, unit: %): value -2e12 is below the plausible minimum "
     "-1,000,000,000,000 (beyond any statistic of a city cluster)"),
])
def test_implausible_values_name_indicator_unit_bound_and_column(
        store: Store, tmp_path: Path, indicator: str, value: str, column: str,
        expect: str) -> None:
    path = write_csv(tmp_path / "big.csv", HEADER + f"东兴区,2021,{indicator},{value}\n")
    issue = the_issue(rejected(store, path), 2, column)
    assert issue.message == expect
    assert issue.file == str(path)


def test_bounds_are_data_by_value_kind_and_unit() -> None:
    assert (bounds_for("count", "人", "persons").high, bounds_for("count", "", "").high) == (
        1.5e9, 1e12)
    assert bounds_for("share_pct", "%", "%").high == 100
    assert bounds_for("ratio", "平方公里", "km²").high == 9.7e6
    assert bounds_for("level", None, None).low == -1e12


# ---------------------------------------------------------------------------- point 5: units
def test_conversion_factors() -> None:
    assert conversion("万人", "人", "persons", "count") == 10_000
    assert conversion("万元", "亿元", "100m yuan", "ratio") == pytest.approx(1e-4)
    assert conversion("亿元", "元", "yuan", "ratio") == 1e8
    assert conversion("‰", "%", "%", "share_pct") == pytest.approx(0.1)
    assert conversion("%", "", "", "share_01") == pytest.approx(0.01)
    assert conversion("比例", "%", "%", "share_pct") == 100
    assert conversion("人", "亿元", "100m yuan", "ratio") is None


def yearbook(path: Path) -> Path:
    """A yearbook sheet: a title, a table-wide unit row (单位：万元), a units row under the
    headers, yearbook headers and units that differ from the catalog's."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["表 2-1 主要经济指标（2021年）"])
    ws.append(["单位：万元"])
    ws.append(["地区", "年末常住人口", "地区生产总值", "人均GDP", "文盲率", "就业率", "城镇化率"])
    ws.append([None, "万人", None, "元", "‰", "%", "比例"])
    ws.append(["东兴区", 75.41, 1701265, 22560, 25, 61.5, 0.551])
    ws.append(["沙湾区", 14.49, 2345678.9, 31000, 8, 58, 0.4])
    wb.save(path)
    return path


def test_yearbook_units_and_headers_are_converted_with_notes(store: Store,
                                                            tmp_path: Path) -> None:
    result = import_observations(store, yearbook(tmp_path / "年鉴.xlsx"), year=2021)
    assert result.added == 12
    panel = store.panel(years=[2021]).loc[[("511011", 2021), ("511111", 2021)]]
    assert panel["pop_total"].tolist() == [754100, 144900]
    assert panel["gdp"].tolist() == [170.1265, 234.56789]  # 万元 → 亿元, exactly
    assert panel["gdp_per_capita"].tolist() == [22560, 31000]  # 元 as in the catalog
    assert panel["illiteracy_rate"].tolist() == [2.5, 0.8]  # ‰ → %
    assert panel["employment_01"].tolist() == [0.615, 0.58]  # % → share
    assert panel["urban_share"].tolist() == [55.1, 40]  # share → %
    assert result.notes == (
        "年末常住人口 (B): 万人 → persons, values multiplied by 10,000",
        "年末常住人口 (B) read as 常住人口 / Resident population (pop_total, unit: persons) "
        "(a usual yearbook header)",
        "地区生产总值 (C): 万元 → 100m yuan, values multiplied by 0.0001",
        "人均GDP (D) read as 人均地区生产总值 / GRP per capita (gdp_per_capita, unit: yuan) "
        "(a usual yearbook header)",
        "文盲率 (E): ‰ → %, values multiplied by 0.1",
        "就业率 (F): % → 就业率 / Employment share (employment_01, unit: none), values "
        "multiplied by 0.01",
        "城镇化率 (G): 比例 → %, values multiplied by 100",
    )
    log = store.import_log()
    assert list(log["notes"].iloc[-1]) == list(result.notes)
    from cocity.data.provenance import provenance

    entry = provenance(store, indicators=["gdp"])["imports"][-1]
    assert entry["notes"] == list(result.notes) and entry["file"].endswith("年鉴.xlsx")


def test_a_header_the_catalog_does_not_hold_says_what_it_means(store: Store,
                                                               tmp_path: Path) -> None:
    path = write_csv(tmp_path / "hukou.csv", "地区,户籍人口\n东兴区,80\n")
    issue = the_issue(rejected(store, path, year=2021), 1, "户籍人口 (B)")
    assert issue.message == ("header '户籍人口' is the registered (hukou) population, not the "
                             "resident population, which the catalog does not hold")
    assert "cocity import catalog" in (issue.hint or "")
    aliases, meanings = header_aliases()
    assert aliases["年末常住人口"] == "pop_total" and "户籍人口" in meanings


def test_aliases_apply_only_where_the_catalog_has_the_indicator(tmp_path: Path) -> None:
    store = make_store()  # no gdp_per_capita in this catalog
    path = write_csv(tmp_path / "gdp.csv", "地区,人均GDP\n东兴区,80\n")
    issue = the_issue(rejected(store, path, year=2021), 1, "人均GDP (B)")
    assert "matches no indicator" in issue.message


def test_conflicts_show_full_precision_and_whole_head_counts(store: Store,
                                                            tmp_path: Path) -> None:
    first = write_csv(tmp_path / "a.csv", HEADER + "东兴区,2019,gdp,17012.65\n"
                      "东兴区,2019,pop_total,20937757\n")
    import_observations(store, first)
    second = write_csv(tmp_path / "b.csv", HEADER + "东兴区,2019,gdp,17012.7\n"
                       "东兴区,2019,pop_total,20937758\n")
    issues: list[Issue] = rejected(store, second)
    messages = sorted(i.message for i in issues)
    assert messages == [
        "511011 2019 gdp: the stored value 17012.65 differs from the new value 17012.7",
        "511011 2019 pop_total: the stored value 20937757 differs from the new value 20937758"]


def test_every_new_data_label_has_both_languages_with_the_same_fields() -> None:
    import string
    from importlib import resources

    import yaml

    text = resources.files("cocity.i18n").joinpath("data_v2.yaml").read_text(encoding="utf-8")
    labels = yaml.safe_load(text)
    assert len(labels) > 60
    for key, entry in labels.items():
        assert set(entry) == {"zh", "en"}, key
        fields = [{f for _, f, _, _ in string.Formatter().parse(entry[lang]) if f}
                  for lang in ("zh", "en")]
        assert fields[0] == fields[1], key


def test_cells_holding_only_whitespace_are_blank(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ws.csv", HEADER + "东兴区,2021,pop_total,\u3000\n"
                     '沙湾区,2021,pop_total,"  "\n东兴区,2021,urban_share,\t\n'
                     "沙湾区,2021,urban_share,7\n")
    result = import_observations(store, path)
    assert (result.records, result.blank) == (1, 3)
