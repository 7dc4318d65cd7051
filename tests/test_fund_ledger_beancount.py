"""The beancount export: ``bean-check`` accepts it, and beancount's own sums of the exported
postings equal the ledger's balances (both databases)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from beancount import loader
from beancount.core import data

from cocity.fund.beancount import account_name, export_beancount, yuan
from cocity.fund.ledger import Ledger
from tests.conftest import CHECKER, LEDGER_UNITS, WHO

BEAN_CHECK = Path(sys.executable).parent / "bean-check"


def days_clock() -> callable:  # type: ignore[valid-type]
    """A clock that moves on by 7 hours per reading, so entries fall on several days."""
    state = {"t": dt.datetime(2024, 3, 1, 8, tzinfo=dt.UTC)}

    def tick() -> dt.datetime:
        state["t"] += dt.timedelta(hours=7)
        return state["t"]

    return tick


def busy(records) -> Ledger:
    ledger = Ledger(records, clock=days_clock())
    ledger.open_fund(units=LEDGER_UNITS)
    ledger.contribute("central", 10_000_000, key="c1", reason="中央 \"首批\" 拨款", **WHO)
    ledger.contribute("sichuan", 3_333_333, key="c2", reason="四川出资", **WHO)
    ledger.contribute("social_capital", 1_000_001, key="c3", reason="社会资本", **WHO)
    ledger.fund_pools({"facilities": 6_000_000, "social_security": 2_500_000,
                       "medical_aid": 1_234_567}, key="p1", reason="分池", **WHO)
    ledger.post_allocation([("510300", "facilities", 3_000_000),
                            ("510400", "facilities", 2_000_001),
                            ("500101", "social_security", 1_500_000),
                            ("500101", "medical_aid", 999_999)], key="a1", reason="分配", **WHO)
    for i, (unit, use, amount) in enumerate([("510300", "facilities", 1_250_000),
                                             ("500101", "medical_aid", 333_333),
                                             ("510300", "facilities", 49)]):
        rid = ledger.request_disbursement(unit, use, amount, key=f"d{i}", reason="拨付",
                                          document=f"合同-{i}", **WHO)
        ledger.approve(rid, **CHECKER)
    ledger.release("510400", "facilities", key="r1", reason="项目取消", **WHO)
    wrong = ledger.contribute("chongqing", 777, key="c4", reason="误记", **WHO)
    ledger.reverse(wrong.entry_id, key="x1", reason="冲销误记", **WHO)
    assert ledger.verify() == []
    return ledger


def test_yuan_is_exact() -> None:
    assert [yuan(x) for x in (0, 1, 99, 100, 123_456_789, -5, -100_001)] == [
        "0.00", "0.01", "0.99", "1.00", "1234567.89", "-0.05", "-1000.01"]


def test_bean_check_accepts_the_export_and_its_sums_equal_the_ledger(records,
                                                                     tmp_path: Path) -> None:
    ledger = busy(records)
    path = export_beancount(ledger, tmp_path / "fund.beancount")
    run = subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True,
                         timeout=120)
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")

    entries, errors, _options = loader.load_file(str(path))
    assert errors == []
    sums: dict[str, Decimal] = defaultdict(Decimal)
    txns = [e for e in entries if isinstance(e, data.Transaction)]
    for txn in txns:
        for posting in txn.postings:
            assert posting.units.currency == "CNY"
            sums[posting.account] += posting.units.number
    assert len(txns) == len(ledger.statement()["seq"].unique()) == 11
    assert len({str(t.date) for t in txns}) > 3  # the entries fall on several days
    balances = ledger.balances()
    for row in balances.itertuples():
        sign = 1 if row.normal == "debit" else -1
        assert sums.get(account_name(row.account), Decimal(0)) * 100 == sign * row.balance_fen
    assert sum(sums.values()) == 0
    assert {t.meta["key"] for t in txns} >= {"c1", "d0", "x1"}
    reversal = next(t for t in txns if t.meta["key"] == "x1")
    assert reversal.meta["reverses"] == 10 and reversal.narration == "冲销误记"


def test_bean_check_would_catch_a_wrong_balance(records, tmp_path: Path) -> None:
    """The control: the same file with one asserted balance off by one fen fails."""
    ledger = busy(records)
    path = export_beancount(ledger, tmp_path / "fund.beancount")
    cash = int(ledger.balances().set_index("account").loc["cash", "balance_fen"])
    text = path.read_text(encoding="utf-8")
    line = f"balance Assets:Fund:Cash  {yuan(cash)}0 CNY"
    assert text.count(line) == 1
    path.write_text(text.replace(line, f"balance Assets:Fund:Cash  {yuan(cash + 1)}0 CNY"),
                    encoding="utf-8")
    run = subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode != 0
    assert "Balance failed for 'Assets:Fund:Cash'" in run.stderr + run.stdout
