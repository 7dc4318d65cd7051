"""``cocity fund`` as a fund manager and an approver use it, on a records file in an empty
folder: set-up, contributions, pools, a dry-run allocation and its posting, maker–checker,
reversal, release, the conditional lines, verify (and a tampered row), the beancount export
checked by bean-check, and refusals that leave the books unchanged."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cocity.cli import app
from cocity.fund.ledger import Ledger
from cocity.records import open_records

runner = CliRunner()
BEAN_CHECK = Path(sys.executable).parent / "bean-check"
DB = "cocity-records.sqlite"


def run(*args: str, lang: str = "en") -> Result:
    return runner.invoke(app, ["--lang", lang, "fund", *args], env={"COLUMNS": "160"})


def ok(*args: str, lang: str = "en") -> str:
    result = run(*args, lang=lang)
    assert result.exit_code == 0, (args, result.output)
    return result.output


def books(folder: Path) -> dict[str, Any]:
    """What the books hold: entries, postings, each balance (read with sqlite3 directly)."""
    with contextlib.closing(sqlite3.connect(folder / DB)) as con:
        return {
            "entries": con.execute("SELECT count(*) FROM fund_entries").fetchone()[0],
            "postings": con.execute("SELECT count(*) FROM fund_postings").fetchone()[0],
            "requests": con.execute("SELECT count(*) FROM fund_requests").fetchone()[0],
            "balances": dict(con.execute("SELECT code, balance FROM fund_accounts")),
        }


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A year booked through the command line; the outputs of each step."""
    here = tmp_path_factory.mktemp("fund-cli")
    out: dict[str, Any] = {"folder": here}
    with contextlib.chdir(here):
        out["init"] = ok("init")
        ok("contribute", "central", "4亿", "--reason", "中央补贴", "--document", "V-1",
           "--actor", "wang")
        ok("contribute", "四川财政出资", "3亿", "--reason", "四川出资", "--document", "V-2",
           "--actor", "wang")
        out["again"] = ok("contribute", "central", "4亿", "--reason", "中央补贴",
                          "--document", "V-1", "--actor", "wang")
        out["pool"] = ok("pool", "--actor", "wang")
        out["before_dry"] = books(here)
        out["dry"] = ok("allocate", "--explain", "三台县", "--out", "plan", lang="zh")
        out["after_dry"] = books(here)
        out["post"] = ok("allocate", "--post", "--actor", "wang")
        out["post_empty"] = run("allocate", "--post", "--actor", "wang")
        out["post_again"] = ok("allocate", "--post", "--fund-size", "7亿", "--actor", "wang")
        out["disburse"] = ok("disburse", "渠县", "facilities", "500万", "--document", "C-7",
                             "--reason", "首期", "--actor", "wang")
        out["self_approve"] = run("approve", "1", "--actor", "wang")
        out["approve"] = ok("approve", "1", "--actor", "li")
        out["balances"] = ok("balances")
        yield out


def test_set_up_and_contributions(year: dict[str, Any]) -> None:
    assert "144" in year["init"] and DB in year["init"]
    assert "Booked before" in year["again"]
    b = books(year["folder"])
    assert b["balances"]["source:central"] == 40_000_000_000  # in its normal (credit) direction
    assert b["balances"]["source:sichuan"] == 30_000_000_000


def test_pooling_follows_the_rules_shares(year: dict[str, Any]) -> None:
    pools = {k: v for k, v in year["before_dry"]["balances"].items() if k.startswith("pool:")}
    assert pools == {"pool:facilities": 35_000_000_000, "pool:social_security": 21_000_000_000,
                     "pool:medical_aid": 14_000_000_000}
    assert year["before_dry"]["balances"]["cash"] == 0


def test_a_dry_run_books_nothing_and_explains(year: dict[str, Any]) -> None:
    assert year["before_dry"] == year["after_dry"]
    dry = year["dry"]
    assert "未记账" in dry and "--post" in dry
    assert "有条件拨付" in dry and "三台县" in dry  # the rectification-listed unit's condition
    assert "模拟" in dry  # the grades' survey is simulated, and it says so
    plan = year["folder"] / "plan"
    assert {p.name for p in plan.iterdir()} >= {"allocation.csv", "allocation.json",
                                                "allocation_explanation.csv"}


def test_posting_is_one_entry_and_idempotent(year: dict[str, Any]) -> None:
    assert "Booked:" in year["post"] and "Booked before" in year["post_again"]
    assert year["post_empty"].exit_code == 2 and "is booked" in year["post_empty"].output
    ledger = Ledger(open_records(year["folder"] / DB))
    try:
        table = ledger.allocations()
        assert len(table) == 1
        detail = ledger.allocation_detail(str(table.iloc[0]["key"]))
        assert detail is not None
        lines = {(r["unit"], r["use"]): r["amount_fen"] for r in detail["lines"]}
        committed = ledger.balances()
        committed = committed[committed["kind"] == "commitment"]
        booked = {(u, s): int(b) for u, s, b in zip(committed["unit"], committed["use"],
                                                    committed["balance_fen"], strict=True)}
        # the books hold exactly the allocation's lines (less the 500万 paid to 渠县)
        paid = {("511725", "facilities"): 500_000_000}
        for k, fen in lines.items():
            assert booked.get(k, 0) + paid.get(k, 0) == fen
        assert sum(lines.values()) == 70_000_000_000
    finally:
        ledger.records.close()


def test_maker_checker(year: dict[str, Any]) -> None:
    assert year["self_approve"].exit_code == 2
    assert "Error" in year["self_approve"].output
    assert "Booked:" in year["approve"]
    b = books(year["folder"])
    assert b["balances"]["disbursed:511725:facilities"] == 500_000_000


def test_sources_and_uses_reconcile(year: dict[str, Any]) -> None:
    assert "Sources and uses agree" in year["balances"]
    assert "700,000,000.00" in year["balances"]


def test_refusals_leave_the_books_unchanged(year: dict[str, Any]) -> None:
    here = year["folder"]
    with contextlib.chdir(here):
        before = books(here)
        bad = [
            ("contribute", "central", "0.001", "--reason", "x"),            # fraction of a fen
            ("contribute", "mars", "5", "--reason", "x"),                   # unknown source
            ("disburse", "不存在县", "facilities", "5", "--document", "d", "--reason", "x"),
            ("disburse", "渠县", "housing", "5", "--document", "d", "--reason", "x"),
            ("disburse", "渠县", "facilities", "99亿", "--document", "d", "--reason", "x"),
            ("contribute", "central", "4亿", "--reason", "other body", "--document", "V-1",
             "--key", "contribution:central:40000000000:V-1"),              # key reused
            ("reverse", "999", "--reason", "x"),                            # unknown entry
            ("allocate", "--post", "--fund-size", "100亿"),                 # pools too small
        ]
        for args in bad:
            result = run(*args)
            assert result.exit_code == 2, (args, result.output)
            assert "Error" in result.output and "Traceback" not in result.output, args
        zh = run("contribute", "central", "abc", "--reason", "x", lang="zh")
        assert zh.exit_code == 2 and "错误" in zh.output and "元" in zh.output
        assert books(here) == before


def test_conditional_lines_wait_for_a_later_evaluation(year: dict[str, Any]) -> None:
    with contextlib.chdir(year["folder"]):
        held = run("disburse", "三台县", "facilities", "1", "--document", "d", "--reason", "x")
        assert held.exit_code == 2
        assert "conditional" in held.output and "--after" in held.output


def test_reverse_release_verify_export_and_tamper(year: dict[str, Any],
                                                  tmp_path: Path) -> None:
    here = year["folder"]
    with contextlib.chdir(here):
        journal = ok("statement", "--account", "disbursed:511725:facilities")
        assert "5,000,000.00" in journal
        entry = books(here)["entries"]  # the approval is the last entry
        assert "Booked:" in ok("reverse", str(entry), "--reason", "wrong amount",
                               "--actor", "wang")
        twice = run("reverse", str(entry), "--reason", "again", "--key", "other")
        assert twice.exit_code == 2
        assert "Booked:" in ok("release", "渠县", "facilities", "--reason", "project dropped",
                               "--actor", "wang")
        b = books(here)
        assert b["balances"]["disbursed:511725:facilities"] == 0
        assert b["balances"]["commitment:511725:facilities"] == 0
        assert "verify" in ok("verify").lower()
        ok("export", "--out", str(tmp_path / "fund.beancount"))
        check = subprocess.run([str(BEAN_CHECK), str(tmp_path / "fund.beancount")],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        # a row changed behind the ledger's back (triggers dropped) is found
        copy = tmp_path / "tampered.sqlite"
        with contextlib.closing(sqlite3.connect(here / DB)) as src, \
                contextlib.closing(sqlite3.connect(copy)) as dst:
            src.backup(dst)
        with contextlib.closing(sqlite3.connect(copy)) as con:
            triggers = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name="
                "'fund_postings'")]
            for name in triggers:
                con.execute(f"DROP TRIGGER {name}")
            con.execute("UPDATE fund_postings SET amount = amount + 1 WHERE id = "
                        "(SELECT min(id) FROM fund_postings WHERE amount > 0)")
            con.commit()
        bad = run("verify", "--db", str(copy))
        assert bad.exit_code == 1
        assert "problem" in bad.output


def test_scenarios_side_by_side(year: dict[str, Any]) -> None:
    with contextlib.chdir(year["folder"]):
        before = books(year["folder"])
        out = ok("allocate", "--fund-size", "7亿", "--vs-fund-size", "14亿", "--out", "scen")
        assert "Scenario" in out and "1,400,000,000.00" in out
        assert books(year["folder"]) == before
        import pandas as pd

        table = pd.read_csv("scen/scenarios.csv", dtype={"unit": str})
        fund = table[(table["unit"] == "*") & (table["use"] == "total")].iloc[0]
        assert fund["amount_base"] == 70_000_000_000 and fund["amount_alt"] == 140_000_000_000
        assert run("allocate", "--post", "--vs-fund-size", "1亿").exit_code == 2


def test_a_folder_without_books_is_not_given_an_empty_database(tmp_path: Path) -> None:
    with contextlib.chdir(tmp_path):
        for args in (("verify",), ("balances",), ("approve", "1")):
            result = run(*args)
            assert result.exit_code == 2, args
            assert "cocity fund init" in result.output
        assert list(tmp_path.iterdir()) == []
