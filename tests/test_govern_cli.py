"""``cocity govern case …`` and ``import-rectification`` as a secretary uses them, on a records
file in an empty folder: a case through its life, the version guard, refusals that write
nothing, the listing filters, and a rectification list whose next edition shows on the case."""

from __future__ import annotations

import contextlib
from pathlib import Path

from typer.testing import CliRunner, Result

from cocity.cli import app
from cocity.govern import Register
from cocity.records import open_records

runner = CliRunner()
DB = "cocity-records.sqlite"
CASE = ["case", "add", "异地就医报销慢", "--category", "医疗", "--unit", "成都", "--unit",
        "重庆市", "--lead", "四川省医保局", "--co", "重庆市医保局", "--opened", "2024-03-01",
        "--due", "2024-05-31", "--reason", "热线转办", "--actor", "zhang"]


def run(*args: str, lang: str = "en") -> Result:
    return runner.invoke(app, ["--lang", lang, "govern", *args], env={"COLUMNS": "200"})


def ok(*args: str, lang: str = "en") -> str:
    result = run(*args, lang=lang)
    assert result.exit_code == 0, (args, result.output)
    return result.output


def refused(*args: str, match: str, lang: str = "en") -> None:
    result = run(*args, lang=lang)
    assert result.exit_code == 2, (args, result.output)
    assert match in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output


def log(folder: Path) -> list[tuple[int, str, str]]:
    with open_records(folder / DB) as records:
        frame = Register(records).events()
    return list(zip(frame["seq"], frame["kind"], frame["to_state"], strict=True))


def test_a_case_through_its_life_on_the_command_line(tmp_path: Path) -> None:
    with contextlib.chdir(tmp_path):
        refused("case", "list", match="no records database at")
        assert not (tmp_path / DB).exists()
        assert "case registered" in ok(*CASE)
        assert "nothing written twice" in ok(*CASE)
        ok("case", "update", "1", "--to", "受理", "--reason", "受理", "--effective",
           "2024-03-02", "--version", "1")
        refused("case", "update", "1", "--to", "in_progress", "--reason", "x", "--version", "1",
                match="you saw version 1, it is now version 2")
        refused("case", "update", "1", "--to", "closed", "--reason", "x",
                match="must say whether the problem was resolved")
        refused("case", "update", "1", "--defer", "--extend", "2024-09-01", "--reason", "x",
                match="make one change at a time (given: --extend, --defer)")
        ok("case", "update", "1", "--extend", "2024-08-01", "--reason", "跨省协商",
           "--effective", "2024-05-20")
        ok("case", "update", "1", "--escalate", "quarterly", "--reason", "逾期",
           "--effective", "2024-08-02")
        ok("case", "update", "1", "--to", "in_progress", "--reason", "办理",
           "--effective", "2024-08-03")
        ok("case", "update", "1", "--to", "closed", "--unresolved", "--reason", "办结",
           "--effective", "2024-09-30")
        assert log(tmp_path) == [(1, "state", "registered"), (2, "state", "accepted"),
                                 (3, "extend", "accepted"), (4, "escalate", "accepted"),
                                 (5, "state", "in_progress"), (6, "state", "closed")]
        shown = ok("case", "show", "1", lang="zh")
        for text in ("已办结", "2024-05-31 → 2024-08-01", "延期至 2024-08-01", "季度问题协调会",
                     "未解决", "成都市 (510100)"):
            assert text in shown, text
        refused("case", "add", "x", "--category", "天气", "--unit", "成都", "--lead", "a",
                "--due", "2024-01-01", "--reason", "r", match="category = 天气 is not allowed")
        refused("case", "add", "x", "--category", "其他", "--unit", "上海", "--lead", "a",
                "--due", "2024-01-01", "--reason", "r", match="the unit 上海 cannot be resolved")
        refused("case", "add", "x", "--category", "其他", "--unit", "成都", "--lead", "a",
                "--opened", "2024-02-01", "--due", "2024-01-01", "--reason", "r",
                match="the due date 2024-01-01 is before the opening date 2024-02-01")
        assert len(log(tmp_path)) == 6


def test_the_listing_filters_and_marks_overdue(tmp_path: Path) -> None:
    with contextlib.chdir(tmp_path):
        ok(*CASE)
        ok("case", "add", "校车跨界接送", "--category", "education", "--unit", "广安市",
           "--lead", "广安市教育局", "--opened", "2024-04-01", "--due", "2024-12-31",
           "--reason", "公众提交", "--source", "public")
        listed = ok("case", "list", "--as-of", "2024-06-30")
        assert "cases (2)" in listed and listed.count("overdue") == 1
        assert "cases (1)" in ok("case", "list", "--overdue", "--as-of", "2024-06-30")
        only = ok("case", "list", "--unit", "广安", "--category", "教育")
        assert "cases (1)" in only and "校车跨界接送" in only
        assert "cases (0)" in ok("case", "list", "--state", "closed")


def test_a_rectification_list_opens_cases_once_and_the_next_edition_shows(
        tmp_path: Path) -> None:
    with contextlib.chdir(tmp_path):
        first = ok("import-rectification", "--year", "2010", "--level", "prefecture")
        assert "12 cases opened" in first and "computed now" in " ".join(first.split())
        assert "0 cases opened, 12 already registered" in ok(
            "import-rectification", "--year", "2010", "--level", "prefecture")
        later = ok("import-rectification", "--year", "2020", "--level", "prefecture")
        assert "later grades recorded on 12 cases" in later
        shown = ok("case", "show", "1")
        assert "from the rectification list of the 2010 evaluation" in shown
        assert "next edition: 2020 grade" in shown
