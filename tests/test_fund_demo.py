"""``cocity fund demo``: a demonstration year in the current folder's default records
database, which ``cocity fund verify`` then finds without options; illustrative amounts flagged
as such; a second run books nothing twice."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cocity.cli import app

runner = CliRunner()


def counts(db: Path) -> tuple[int, int, int]:
    with contextlib.closing(sqlite3.connect(db)) as con:
        return tuple(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore
                     for t in ("fund_entries", "fund_postings", "fund_requests"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    here = tmp_path_factory.mktemp("fund-demo")
    with contextlib.chdir(here):
        first = runner.invoke(app, ["fund", "demo", "--no-pdf"], env={"COLUMNS": "160"})
        assert first.exit_code == 0, first.output
        after_first = counts(here / "cocity-records.sqlite")
        verify = runner.invoke(app, ["--lang", "en", "fund", "verify"])
        second = runner.invoke(app, ["fund", "demo", "--no-pdf"], env={"COLUMNS": "160"})
        yield {"here": here, "first": first.output, "verify": verify, "second": second,
               "after_first": after_first,
               "after_second": counts(here / "cocity-records.sqlite")}


def test_the_demo_books_a_year_and_says_what_is_illustrative(demo: dict[str, Any]) -> None:
    out = demo["first"]
    assert "示意金额" in out and "模拟" in out
    entries, postings, requests = demo["after_first"]
    # 4 contributions, pooling, allocation, 4 approvals, reversal, release
    assert entries == 12 and requests == 5
    assert postings > 120  # the allocation alone earmarks every recipient's lines


def test_verify_finds_the_default_database(demo: dict[str, Any]) -> None:
    assert demo["verify"].exit_code == 0, demo["verify"].output
    assert "cocity-records.sqlite" in demo["verify"].output
    assert "verify" in demo["verify"].output


def test_a_second_run_books_nothing(demo: dict[str, Any]) -> None:
    assert demo["second"].exit_code == 0, demo["second"].output
    assert demo["after_second"] == demo["after_first"]
    assert "此前已记账" in demo["second"].output  # the booked allocation stands


def test_the_books_flag_the_illustrative_money(demo: dict[str, Any]) -> None:
    with contextlib.closing(sqlite3.connect(demo["here"] / "cocity-records.sqlite")) as con:
        name = con.execute("SELECT value FROM fund_meta WHERE key='name'").fetchone()[0]
        reasons = [r[0] for r in con.execute(
            "SELECT reason FROM fund_entries WHERE kind='contribution'")]
    assert "演示" in name and "示意金额" in name
    assert len(reasons) == 4 and all("示意金额" in r for r in reasons)


def test_the_demo_writes_its_reports(demo: dict[str, Any]) -> None:
    report = demo["here"] / "cocity-fund"
    html = (report / "fund_report.html").read_text(encoding="utf-8")
    assert "示意金额" in html
    assert any(p.suffix == ".xlsx" for p in report.iterdir())
