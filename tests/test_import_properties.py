"""Property tests of the importers: malformed tables never touch the store; valid ones round-trip.

Tables are generated in long and wide form, as CSV or XLSX, with units and indicators spelled
in the many ways analysts write them.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocity.data.errors import ValidationError
from cocity.data.importers import import_observations
from cocity.data.store import Store
from tests.test_importers import Snapshot, assert_unchanged, make_store, snapshot

UNIT_SPELLINGS = {
    "510100": ["成都", "成都市", "Chengdu", "chengdu city", "510100", "510100000000"],
    "511000": ["内江", "内江市", "Neijiang", "511000"],
    "511100": ["乐山市", "Leshan City", "511100"],
    "511002": ["内江市市中区", "Neijiang Shizhong", "511002"],
    "511011": ["东兴区", "东兴", "Dongxing District", "511011"],
    "511102": ["乐山市市中区", "Leshan Shizhong", "511102"],
    "511111": ["沙湾区", "Shawan", "511111"],
}
INDICATORS = {  # id → (value_kind, spellings)
    "pop_total": ("count", ["pop_total", "常住人口", "Resident population", "常住人口（人）"]),
    "urban_share": ("share_pct", ["urban_share", "城镇化率", "Urban Share", "城镇化率(%)"]),
    "employment_01": ("share_01", ["employment_01", "就业率", "employment share"]),
    "dependency": ("ratio", ["dependency", "抚养比", "Dependency ratio"]),
    "gdp_growth": ("level", ["gdp_growth", "GDP增速", "GDP growth（%）"]),
}
YEARS = [2015, 2019, 2020, 2021]
CODES = sorted(UNIT_SPELLINGS)
LONG_HEADER = ["unit", "year", "indicator", "value"]
FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def values(kind: str) -> st.SearchStrategy[float]:
    """Valid values of an indicator of ``kind``."""
    finite = {"allow_nan": False, "allow_infinity": False}
    return {
        "count": st.integers(0, 10**9).map(float),
        "share_pct": st.floats(0, 100, **finite),
        "share_01": st.floats(0, 1, **finite),
        "ratio": st.floats(0, 1e6, **finite),
        "level": st.floats(-1e6, 1e6, **finite),
    }[kind]


def shown(value: float, kind: str, grouped: bool) -> str:
    """A value as text that parses back exactly (counts sometimes with thousands separators)."""
    if kind == "count":
        return f"{int(value):,}" if grouped else str(int(value))
    return repr(value)


Obs = tuple[str, int, str, float]


@st.composite
def observations(draw: st.DrawFn) -> list[Obs]:
    """Valid observations with unique (unit, year, indicator) keys."""
    keys = draw(st.lists(st.tuples(st.sampled_from(CODES), st.sampled_from(YEARS),
                                   st.sampled_from(sorted(INDICATORS))),
                         min_size=1, max_size=20, unique=True))
    return [(u, y, i, draw(values(INDICATORS[i][0]))) for u, y, i in keys]


@st.composite
def long_rows(draw: st.DrawFn, obs: list[Obs]) -> list[list[str]]:
    """Long-form rows of ``obs`` with randomly chosen spellings."""
    return [[draw(st.sampled_from(UNIT_SPELLINGS[u])), str(y),
             draw(st.sampled_from(INDICATORS[i][1])),
             shown(v, INDICATORS[i][0], draw(st.booleans()))] for u, y, i, v in obs]


@st.composite
def wide_table(draw: st.DrawFn, obs: list[Obs]) -> list[list[str]]:
    """Wide form (unit, year, one column per indicator; blank where no observation)."""
    inds = sorted({i for _, _, i, _ in obs})
    header = ["地区", "年份"] + [draw(st.sampled_from(INDICATORS[i][1])) for i in inds]
    cells: dict[tuple[str, int], dict[str, str]] = {}
    for u, y, i, v in obs:
        cells.setdefault((u, y), {})[i] = shown(v, INDICATORS[i][0], draw(st.booleans()))
    rows = [[draw(st.sampled_from(UNIT_SPELLINGS[u])), str(y)] + [row.get(i, "") for i in inds]
            for (u, y), row in cells.items()]
    return [header, *rows]


def write(folder: Path, table: list[list[str]], xlsx: bool) -> Path:
    """Write rows (header first) as CSV or as an XLSX sheet of text cells."""
    if xlsx:
        path = folder / "t.xlsx"
        wb = openpyxl.Workbook()
        for row in table:
            wb.active.append([c if c != "" else None for c in row])
        wb.save(path)
        return path
    path = folder / "t.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(table)
    return path


@pytest.fixture(autouse=True)
def _english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCITY_LANG", "en")


# ---------------------------------------------------------------------------- valid tables
@FAST
@given(obs=observations(), data=st.data(), wide=st.booleans(), xlsx=st.booleans())
def test_valid_tables_round_trip(obs: list[Obs], data: st.DataObject, wide: bool,
                                 xlsx: bool) -> None:
    store = make_store(observations=False)
    table = (data.draw(wide_table(obs)) if wide
             else [LONG_HEADER, *data.draw(long_rows(obs))])
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), table, xlsx)
        result = import_observations(store, path)
        assert (result.form, result.added, result.changed) == (
            "wide" if wide else "long", len(obs), 0)
        panel = store.panel()
        assert int(panel.notna().sum().sum()) == len(obs)
        for u, y, i, v in obs:
            assert panel.loc[(u, y), i] == v
        again = import_observations(store, path)
        assert (again.added, again.changed, again.unchanged) == (0, 0, len(obs))


# ---------------------------------------------------------------------------- malformed tables
LETTERS = "abcxyzQ—-/#!无？ "
CORRUPTIONS = ("unknown_unit", "ambiguous_unit", "not_number", "negative_count", "share_over_100",
               "share01_over_1", "duplicate", "drop_column", "bad_year", "unknown_indicator")


@st.composite
def malformed_long(draw: st.DrawFn) -> list[list[str]]:
    """A long table with one to three deliberate faults."""
    rows = draw(long_rows(draw(observations())))
    header = list(LONG_HEADER)
    for fault in draw(st.lists(st.sampled_from(CORRUPTIONS), min_size=1, max_size=3)):
        i = draw(st.integers(0, len(rows) - 1))
        row = rows[i]
        if fault == "unknown_unit":
            row[0] = "Zz" + draw(st.text(LETTERS, max_size=6))
        elif fault == "ambiguous_unit":
            row[0] = "市中区"
        elif fault == "not_number":
            row[3] = draw(st.text(LETTERS, min_size=1).filter(str.strip))
        elif fault == "negative_count":
            row[2:4] = ["pop_total", repr(-draw(st.floats(1e-6, 1e9)))]
        elif fault == "share_over_100":
            row[2:4] = ["城镇化率", repr(draw(st.floats(100.001, 1e9)))]
        elif fault == "share01_over_1":
            row[2:4] = ["employment_01", repr(draw(st.floats(1.0001, 1e6)))]
        elif fault == "duplicate":
            code = next((c for c, names in UNIT_SPELLINGS.items() if row[0] in names), None)
            spelling = draw(st.sampled_from(UNIT_SPELLINGS[code])) if code else row[0]
            twin = [spelling, *row[1:]]
            rows.insert(draw(st.integers(0, len(rows))), twin)
        elif fault == "drop_column":
            col = draw(st.integers(0, len(header) - 1))
            header.pop(col)
            for r in rows:
                r.pop(col)
            break  # later faults would index the dropped column
        elif fault == "bad_year":
            row[1] = draw(st.sampled_from(["20x0", "1800", "2020.5", "", "year", "3001", "-2020"]))
        elif fault == "unknown_indicator":
            row[2] = "zz" + draw(st.text(LETTERS, max_size=6))
    return [header, *rows]


@st.composite
def malformed_wide(draw: st.DrawFn) -> list[list[str]]:
    """A wide table with one fault: unknown unit, non-number, negative count, bad header …"""
    table = draw(wide_table(draw(observations())))
    header, rows = table[0], table[1:]
    r = draw(st.integers(0, len(rows) - 1))
    fault = draw(st.sampled_from(["unit", "number", "negative", "header", "duplicate", "year"]))
    if fault == "unit":
        rows[r][0] = "Zz" + draw(st.text(LETTERS, max_size=6))
    elif fault == "number":
        c = draw(st.integers(2, len(header) - 1))
        rows[r][c] = draw(st.text(LETTERS, min_size=1).filter(str.strip))
    elif fault == "negative":
        header.append("Resident population")
        for row in rows:
            row.append("")
        rows[r][-1] = str(-draw(st.integers(1, 10**6)))
    elif fault == "header":
        header[draw(st.integers(2, len(header) - 1))] = "zz" + draw(st.text(LETTERS, max_size=5))
    elif fault == "duplicate":
        rows.append(list(rows[r]))
    else:
        rows[r][1] = draw(st.sampled_from(["two thousand", "1066", "2020.25"]))
    return [header, *rows]


def _check_rejected(table: list[list[str]], xlsx: bool,
                    store_and_before: tuple[Store, Snapshot]) -> None:
    """Importing ``table`` raises ValidationError naming the file and leaves the store as it was."""
    store, before = store_and_before
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), table, xlsx)
        with pytest.raises(ValidationError, match=r"problem\(s\) found|个问题") as err:
            import_observations(store, path)
        for issue in err.value.issues:
            assert issue.file == str(path)
            assert issue.row is None or issue.column, issue
            assert issue.message and issue.hint, issue
    assert_unchanged(store, before)


def test_malformed_long_tables_are_rejected_and_store_is_unchanged() -> None:
    store = make_store()
    state = (store, snapshot(store))

    @FAST
    @given(table=malformed_long(), xlsx=st.booleans())
    def check(table: list[list[str]], xlsx: bool) -> None:
        _check_rejected(table, xlsx, state)

    check()


def test_malformed_wide_tables_are_rejected_and_store_is_unchanged() -> None:
    store = make_store()
    state = (store, snapshot(store))

    @FAST
    @given(table=malformed_wide(), xlsx=st.booleans())
    def check(table: list[list[str]], xlsx: bool) -> None:
        _check_rejected(table, xlsx, state)

    check()
