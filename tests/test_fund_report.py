"""The fund's reports (issue #11, point 5): a small fund on a temporary SQLite records database
with the lines of a REAL allocation (the shipped rules on the embedded data, following a real
2020 evaluation run), a disbursement approved by another user and a reversal; then the HTML
(headless chromium), the workbooks, the PDFs (pdftotext) and the manifest are checked against
the ledger's own figures; a tampered row makes the audit section report the problem."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cocity.datasets import open_store
from cocity.evaluate.framework import load_framework
from cocity.evaluate.run import evaluate
from cocity.fund.allocation import allocate_store
from cocity.fund.ledger import Ledger
from cocity.outputs import sha256_file, verify_outputs
from cocity.records import open_records
from cocity.records.schema import fund_entries
from cocity.report.fund_report import cell_text, write_fund_report
from cocity.report.fund_tables import CHECKS, FundReportError, fund_books, yuan
from tests.chromium import assert_clean_console, figure, require_chromium, run_chromium
from tests.conftest import CHECKER, WHO
from tests.test_fund_ledger_db import triggers_off

FUND = 10**10  # fen: 100 million yuan, a size chosen for the test (no amount is published)
CONTRIBUTIONS = {"central": 6 * 10**9, "sichuan": 25 * 10**8, "chongqing": 25 * 10**8}


@pytest.fixture(scope="module")
def store() -> Any:
    return open_store()


@pytest.fixture(scope="module")
def doc(store: Any) -> dict[str, Any]:
    ev = evaluate(load_framework(), store, replications=0, levels=["county"])
    return allocate_store(store, run=ev, fund_fen=FUND).document()


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory, doc: dict[str, Any]) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("fund") / "fund.sqlite"
    ledger = Ledger(open_records(path))
    lines = [r for r in doc["lines"] if r["amount_fen"] > 0]
    ledger.open_fund(units={r["unit"]: (r["name_zh"], r["name_en"]) for r in lines})
    for i, (source, amount) in enumerate(CONTRIBUTIONS.items()):
        ledger.contribute(source, amount, key=f"c{i}", reason="2021 拨款", **WHO)
    ledger.fund_pools(doc["pools"], key="pools", reason="年度分池", **WHO)
    ledger.post_allocation([(r["unit"], r["use"], r["amount_fen"]) for r in lines],
                           key=doc["key"], reason="2021 分配", **WHO)
    unit, use, amount = lines[0]["unit"], lines[0]["use"], lines[0]["amount_fen"]
    rid = ledger.request_disbursement(unit, use, amount // 2, key="d1", reason="医院一期",
                                      document="合同 2021-17", **WHO)
    ledger.approve(rid, **CHECKER)
    ledger.request_disbursement(unit, use, 1_000, key="d2", reason="二期", document="合同 2021-18",
                                **WHO)  # left pending
    wrong = ledger.contribute("social_capital", 123_456, key="c-wrong", reason="误记", **WHO)
    rev = ledger.reverse(wrong.entry_id, key="rev-1", reason="误记更正", document="更正单 1",
                         **CHECKER)
    assert ledger.verify() == []
    return {"ledger": ledger, "path": path, "unit": unit, "use": use, "paid": amount // 2,
            "reversal_seq": rev.seq, "wrong_seq": wrong.seq}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, books: dict[str, Any],
           doc: dict[str, Any], store: Any) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("report")
    return out, write_fund_report(books["ledger"], out=out, allocation=doc, store=store,
                                  illustrative=True)


def _sheets(path: Path) -> dict[str, pd.DataFrame]:
    return pd.read_excel(path, sheet_name=None)


def _fen(value: Any) -> int:
    return round(float(value) * 100)


# ---------------------------------------------------------------------- the numbers
def test_tables_equal_the_ledgers_figures(books: dict[str, Any], doc: dict[str, Any]) -> None:
    ledger = books["ledger"]
    fb = fund_books(ledger, allocation=doc)
    sau = ledger.sources_and_uses()
    contributed = sum(CONTRIBUTIONS.values())
    assert fb.tables["sources"].total["contributed"] == contributed == sau.contributed_fen
    by_source = dict(zip(fb.tables["sources"].column("source"),
                         fb.tables["sources"].column("contributed"), strict=True))
    assert by_source == {**CONTRIBUTIONS, "social_capital": 0}  # the reversed one is gone
    uses = fb.tables["uses"].total
    assert uses["total"] == contributed  # Σ sources = Σ uses
    assert uses["disbursed"] == books["paid"]
    assert uses["committed"] == FUND - books["paid"]
    assert [r["amount"] for r in fb.tables["reconcile"].rows] == [contributed, contributed, 0]
    assert fb.reconciles and fb.balanced and fb.holds
    tb = fb.tables["trial_balance"]
    assert tb.total["debit"] == tb.total["credit"] == ledger.trial_balance().total_debit
    assert sum(tb.column("debit")) == tb.total["debit"]
    sheet = {r["kind"]["en"]: r["balance"] for r in fb.tables["balance_sheet"].rows}
    assert sheet == {"Sources": contributed, "Cash": contributed - FUND, "Pools by use": 0,
                     "Commitments": FUND - books["paid"], "Disbursed": books["paid"]}
    assert fb.tables["balance_sheet"].total["balance"] == 0
    # the allocation total equals the earmarks posted under its key
    assert fb.tables["allocation"].total["amount"] == FUND
    posted = fb.tables["allocation_posted"].rows
    assert len(posted) == 1 and posted[0]["earmarked"] == FUND and posted[0]["equal"]
    assert sum(fb.unit_amounts.values()) == FUND


def test_bonus_conditions_requests_and_reversal(books: dict[str, Any], doc: dict[str, Any]
                                                ) -> None:
    fb = fund_books(books["ledger"], allocation=doc)
    excellent = {r["unit"] for r in doc["lines"] if r["grade"] == "excellent"}
    assert excellent and set(fb.bonus_units) == excellent
    marked = {r["unit"] for r in fb.tables["allocation_units"].rows if r["bonus_marker"]}
    assert marked == excellent
    assert fb.explained_unit in excellent  # default: the largest bonus recipient
    texts = [r["text"]["zh"] for r in fb.tables["explanation"].rows]
    assert any("优秀加成" in x for x in texts)
    cond = fb.tables["conditions"].rows
    assert cond and {(c["unit"], c["deadline"]) for c in cond} == {
        (c["unit"], c["deadline"]) for c in doc["conditions"]}
    req = fb.tables["requests"].rows
    assert [(r["maker"], r["checker"], r["status"]["en"]) for r in req] == [
        ("wang", "li", "approved"), ("wang", "—", "pending")]
    rev = fb.tables["reversals"].rows
    assert [(r["seq"], r["original"], r["amount"]) for r in rev] == [
        (books["reversal_seq"], books["wrong_seq"], 123_456)]
    assert rev[0]["original_kind"]["zh"] == "出资"
    events = [r["event"]["en"] for r in fb.tables["audit_log"].rows]
    assert events.count("request booked") == 2 and "approved" in events
    assert len(fb.notes) == 1 and "模拟" in fb.notes[0]["zh"]  # the run's simulated survey


def test_every_check_of_verify_is_listed() -> None:
    source = Path(__import__("cocity.fund.verify", fromlist=["x"]).__file__).read_text()
    codes = set(re.findall(r'_problem\("([a-z_]+)"', source))
    assert codes and codes == set(CHECKS)


def test_yuan_is_exact_and_two_decimals() -> None:
    assert yuan(123_456_789) == "1,234,567.89"
    assert yuan(5) == "0.05"
    assert yuan(-1_001) == "-10.01"
    assert cell_text(12_345.6, "yuan_f", "zh") == "123.46"
    assert cell_text(True, "flag", "zh") == "是" and cell_text(False, "flag", "en") == "no"


# ---------------------------------------------------------------------- the files
def test_manifest_lists_files_head_and_verify(report: tuple[Path, dict[str, Any]],
                                              books: dict[str, Any]) -> None:
    out, man = report
    assert set(man["outputs"]) == {"html", "xlsx", "xlsx:en", "pdf", "pdf:en"}
    for entry in man["outputs"].values():
        assert entry["sha256"] == sha256_file(out / entry["file"])
    assert verify_outputs(man, out) == []
    seq, head = books["ledger"].head()
    assert man["head"] == {"seq": seq, "hash": head}
    assert man["verify"] == {"holds": True, "problems": []}
    assert man["kind"] == "fund report" and man["reconciles"] is True
    assert json.loads((out / "manifest.json").read_text())["head"]["hash"] == head
    assert man["provenance"]["dataset"]  # the allocation's data provenance
    assert any("示意" in n["zh"] for n in man["notes"])


def test_workbooks_read_back(report: tuple[Path, dict[str, Any]], books: dict[str, Any]) -> None:
    out, _ = report
    zh = _sheets(out / "fund_report.xlsx")
    en = _sheets(out / "fund_report.en.xlsx")
    assert len(zh) == len(en) >= 17
    src = zh["资金来源（按出资方）"]
    assert list(src.columns) == ["来源代码", "出资方", "出资（元）"]
    assert _fen(src["出资（元）"].iloc[-1]) == sum(CONTRIBUTIONS.values())
    tb = en["Trial balance"]
    assert _fen(tb["Debits (yuan)"].iloc[-1]) == _fen(tb["Credits (yuan)"].iloc[-1])
    assert _fen(tb["Debits (yuan)"].iloc[:-1].sum()) == _fen(tb["Debits (yuan)"].iloc[-1])
    alloc = en["Allocation lines (unit × use)"]
    assert _fen(alloc["Amount (yuan)"].iloc[:-1].sum()) == FUND
    assert "Excellence bonus (yuan)" in alloc.columns
    req = zh["拨付申请（经办与复核）"]
    assert list(req["状态"].iloc[:2]) == ["已批准", "待复核"]
    assert _fen(req["金额（元）"].iloc[0]) == books["paid"]


def _pdf_text(path: Path) -> str:
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext is absent (apt-get install poppler-utils)"
    return subprocess.run([tool, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_pdfs_carry_the_headings_and_amounts(report: tuple[Path, dict[str, Any]],
                                             books: dict[str, Any]) -> None:
    out, _ = report
    zh = _pdf_text(out / "fund_report.pdf")
    for heading in ("来源与运用", "资产负债表", "试算平衡表", "分配", "审计", "示意数额", "模拟"):
        assert heading in zh, heading
    assert yuan(sum(CONTRIBUTIONS.values())) in zh
    assert yuan(FUND) in zh and yuan(books["paid"]) in zh
    assert "账目核验通过" in zh
    en = _pdf_text(out / "fund_report.en.pdf")
    assert "Sources and uses" in en and "Trial balance" in en and "illustrative" in en
    assert yuan(FUND) in en
    svg_units = (out / "fund_report.pdf").stat().st_size
    assert svg_units > 50_000  # the map is drawn (a vector map of 140+ units)


def test_html_opens_with_the_map_and_tables(report: tuple[Path, dict[str, Any]],
                                            doc: dict[str, Any], tmp_path: Path) -> None:
    require_chromium()
    out, _ = report
    page = out / "fund_report.html"
    text = page.read_text()
    assert "https://" not in re.sub(r"<script>.*?</script>", "", text, flags=re.S)
    dom, console = run_chromium(page, tmp_path, "--dump-dom", size="1400,20000",
                                budget_ms=30000)
    assert_clean_console(console)
    amounts = figure(dom, "fig-amounts")
    funded = {r["unit"] for r in doc["lines"] if r["amount_fen"] > 0}
    assert len(re.findall(r'class="choroplethlocation"', amounts)) >= len(funded)
    assert "获优秀加成" in amounts  # the bonus markers' legend entry
    for tid in ("sources", "uses", "reconcile", "balance_sheet", "trial_balance", "allocation",
                "conditions", "explanation", "requests", "reversals", "checks", "audit_log"):
        assert f'data-testid="table-{tid}"' in dom, tid
    assert yuan(FUND) in dom and "账目核验通过" in dom
    assert 'data-testid="notice-simulated"' in dom


# ---------------------------------------------------------------------- the audit
def test_a_tampered_row_shows_in_the_audit(books: dict[str, Any], doc: dict[str, Any],
                                           tmp_path: Path) -> None:
    copy = tmp_path / "tampered.sqlite"
    with sqlite3.connect(books["path"]) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    ledger = Ledger(open_records(copy))
    with triggers_off(ledger.records) as conn:
        conn.execute(fund_entries.update().where(fund_entries.c.seq == 1)
                     .values(reason="改过的事由"))
    out = tmp_path / "out"
    man = write_fund_report(ledger, out=out, allocation=doc, formats=("html", "xlsx"))
    assert man["verify"]["holds"] is False
    assert [p["code"] for p in man["verify"]["problems"]] == ["hash"]
    fb = fund_books(ledger, allocation=doc)
    outcome = {r["check"]: (r["problems"], r["outcome"]["en"]) for r in fb.tables["checks"].rows}
    assert outcome["hash"] == (1, "FAILS") and outcome["chain"] == (0, "holds")
    assert "被改动" in fb.tables["problems"].rows[0]["message"]["zh"]
    html = (out / "fund_report.html").read_text()
    assert "账目核验通过" not in html and "Verification found 1 problem" in html
    checks = _sheets(out / "fund_report.en.xlsx")["Verification checks"]
    assert list(checks.loc[checks["Check"] == "hash", "Outcome"]) == ["FAILS"]


def test_refusals_are_clear(books: dict[str, Any], doc: dict[str, Any], tmp_path: Path) -> None:
    ledger = books["ledger"]
    with pytest.raises(FundReportError, match="docx"):
        write_fund_report(ledger, out=tmp_path, formats=("docx",))
    with pytest.raises(FundReportError, match="not a cocity fund allocation"):
        write_fund_report(ledger, out=tmp_path, allocation={"lines": []}, formats=("html",))
    with pytest.raises(FundReportError, match="999999"):
        write_fund_report(ledger, out=tmp_path, allocation=doc, unit="999999",
                          formats=("html",))
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_without_allocation_or_store(books: dict[str, Any], tmp_path: Path) -> None:
    man = write_fund_report(books["ledger"], out=tmp_path, formats=("html",))
    assert set(man["outputs"]) == {"html"} and man["map_drawn"] is False
    html = (tmp_path / "fund_report.html").read_text()
    assert 'data-testid="section-allocation"' not in html
    assert 'data-testid="table-trial_balance"' in html
