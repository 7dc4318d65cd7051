"""The static public site (cocity.publish): its documents against the run's own tables, the
open-data files and their checksums, byte-stability of an old edition when a new one is
published, corrections, the fund and committee sections, and the site in real Chromium
(Playwright) from file:// and from a loopback HTTP server — no request leaves the site."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from cocity.datasets import open_store
from cocity.evaluate.framework import load_framework
from cocity.evaluate.run import Evaluation, evaluate
from cocity.evaluate.runs import save_run
from cocity.evaluate.tables import csv_frame, result_tables
from cocity.outputs import verify_outputs, write_atomic, write_csv
from cocity.publish.editions import EditionError, sign_edition
from cocity.publish.site import build_site
from cocity.records import open_records
from cocity.report.evaluate_report import document
from tests.chromium import require_chromium

SIGN = {"evaluator": "西南公共服务第三方评估中心", "statement": "经复核，同意发布",
        "actor": "zhang"}


def _writer(ev: Evaluation, folder: Path) -> dict[str, Path]:
    """The run's CSV tables and JSON document as the report writer writes them (no pages)."""
    tables = result_tables(ev)
    paths = {f"csv:{n}": write_csv(csv_frame(f, ev, n), folder / "tables" / f"{n}.csv")
             for n, f in tables.items()}
    paths["json"] = write_atomic(json.dumps(document(ev, tables), ensure_ascii=False,
                                            indent=1) + "\n", folder / "evaluation.json")
    return paths


@pytest.fixture(scope="module")
def store() -> Any:
    return open_store()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, store: Any) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("evaluate")
    fw = load_framework()
    old = save_run(evaluate(fw, store, year=2010, replications=0, levels=["prefecture"]),
                   root, _writer)
    new = save_run(evaluate(fw, store, year=2020, replications=40, levels=["prefecture"]),
                   root, _writer)
    return {"root": root, "2010": old, "2020": new}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, runs: dict[str, Any], store: Any
         ) -> dict[str, Any]:
    """Publish with the 2010 edition signed, then sign 2020 and publish again."""
    tmp = tmp_path_factory.mktemp("site")
    out = tmp / "site"
    records = open_records(tmp / "records.sqlite")
    sign_edition(records, runs["2010"].path, **SIGN)
    first = build_site(out=out, store=store, records=records, runs_root=runs["root"],
                       diagnostics=False)
    before = _files(out)
    sign_edition(records, runs["2020"].path, **SIGN)
    second = build_site(out=out, store=store, records=records, runs_root=runs["root"])
    yield {"out": out, "before": before, "first": first, "second": second,
           "records": records, "tmp": tmp}
    records.close()


def _json(site: dict[str, Any], rel: str) -> Any:
    return json.loads((site["out"] / rel).read_text(encoding="utf-8"))


def _table(run: Any, name: str) -> list[dict[str, str]]:
    """A run's CSV table read as plain text (headers ``中文 (key)`` → key)."""
    with (run.path / "tables" / f"{name}.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [{re.sub(r"^.*\((\w+)\)$", r"\1", k): v for k, v in r.items()} for r in rows]


# ---------------------------------------------------------------------- stability
def test_an_old_edition_stays_byte_identical(site: dict[str, Any]) -> None:
    before, after = site["before"], _files(site["out"])
    kept = [n for n in before if n.startswith(("editions/2010/", "en/editions/2010/"))
            or n == "api/v1/editions/2010.json"]
    assert len(kept) > 2 * 16 + 10  # the edition page, 16 unit pages per language, data
    assert [n for n in kept if after.get(n) != before[n]] == []
    assert not any("2020" in n for n in before)
    assert any(n.startswith("editions/2020/units/") for n in after)
    # no build time in edition pages; the home page carries it
    page = after["editions/2010/index.html"].decode()
    assert site["second"].manifest.is_file() and "本站生成于" not in page


def test_republishing_rewrites_only_the_home_page_and_the_sums(
        site: dict[str, Any], runs: dict[str, Any], store: Any) -> None:
    again = build_site(out=site["out"], store=store, records=site["records"],
                       runs_root=runs["root"], diagnostics=False)
    # the diagnostics pages of the previous build are no longer part of the site
    assert again.removed == 4 and again.changed == 3  # home ×2 (time, links) and the sums
    assert list(site["out"].glob("**/diagnostics/*.html")) == []
    third = build_site(out=site["out"], store=store, records=site["records"],
                       runs_root=runs["root"])
    assert third.changed == 4 + 3  # diagnostics back (2 years × 2 languages), home ×2, sums
    assert third.pages == site["second"].pages


# ---------------------------------------------------------------------- documents
def test_edition_document_has_the_runs_figures(site: dict[str, Any], runs: dict[str, Any]
                                               ) -> None:
    doc = _json(site, "api/v1/editions/2020.json")
    assert doc["run"] == runs["2020"].id and doc["evaluator"] == SIGN["evaluator"]
    assert doc["simulated"]["survey"] is True and doc["edition"]["statement"] == "经复核，同意发布"
    (level,) = doc["levels"]
    rows = {r["unit"]: r for r in level["ranking"]}
    # hand-checked against an independent `cocity evaluate` of the embedded data:
    # 成都市 ranks first in 2020 with 74.85 (良好), 2010 tenth with 40.50 (不合格)
    assert rows["510100"]["rank"] == 1 and round(rows["510100"]["score"], 2) == 74.85
    assert rows["510100"]["grade"] == "good"
    for r in _table(runs["2020"], "prefecture_ranking"):
        got = rows[r["unit"]]
        assert round(got["score"], 2) == float(r["score"]) and str(got["rank"]) == r["rank"]
        assert (str(got["rank_low"]), str(got["rank_high"])) == (r["rank_low"], r["rank_high"])
    assert rows["510500"]["rank_low"] == 3 and rows["510500"]["rank_high"] == 4
    old = _json(site, "api/v1/editions/2010.json")["levels"][0]
    listed = {r["unit"]: r for r in old["rectification"]}
    table = _table(runs["2010"], "prefecture_rectification")
    assert sorted(listed) == sorted(r["unit"] for r in table) and len(listed) == 12
    for r in table:
        assert listed[r["unit"]]["deadline"] == r["deadline"] == "2012-06-30"
        assert listed[r["unit"]]["obstacles"][0]["indicator"] == r["obstacle_1"]


def test_unit_document_has_its_history_and_obstacles(site: dict[str, Any]) -> None:
    unit = _json(site, "api/v1/units/510100.json")
    assert unit["name_zh"] == "成都市" and unit["editions"] == [2010, 2020]
    (y2010, y2020) = unit["history"]
    assert (y2010["rank"], y2010["grade"], round(y2010["score"], 2)) == (10, "fail", 40.5)
    assert y2010["rectification"]["deadline"] == "2012-06-30" and not y2010["reward"]
    assert y2020["grade_zh"] == "良好" and y2020["rectification"] is None
    assert y2020["simulated"]["survey"] is True
    pcts = [o["obstacle_pct"] for o in y2010["obstacles"]]
    assert len(pcts) == 3 and pcts == sorted(pcts, reverse=True)
    index = _json(site, "api/v1/units.json")["units"]
    assert len(index) == 16 and {"unit": "510100", "name_en": "Chengdu"}.items() <= next(
        u for u in index if u["unit"] == "510100").items()
    js = (site["out"] / "assets" / "units-index.js").read_text(encoding="utf-8")
    assert '["510100", "成都市", "Chengdu", "prefecture"]' in js
    editions = _json(site, "api/v1/editions.json")["editions"]
    assert [e["year"] for e in editions] == [2010, 2020]


# ---------------------------------------------------------------------- open data
def test_downloads_checksums_and_manifest(site: dict[str, Any]) -> None:
    out = site["out"]
    data = out / "editions" / "2020" / "data"
    sums = (data / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert len(sums) == 7
    for line in sums:
        sha, name = line.split("  ")
        assert hashlib.sha256((data / name).read_bytes()).hexdigest() == sha
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "cocity publish" and verify_outputs(manifest, out) == []
    assert [e["year"] for e in manifest["editions"]] == [2010, 2020]
    dic = list(csv.DictReader((data / "2020-dictionary.csv").open(encoding="utf-8")))
    for name in ("ranking", "rewards", "rectification", "indicators"):
        with (data / f"2020-{name}.csv").open(encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        described = {r["column"] for r in dic if r["file"] == f"2020-{name}.csv"}
        assert set(header) == described
    assert all(r["name_zh"] and r["name_en"] for r in dic)
    score = next(r for r in dic if r["column"] == "score" and r["file"] == "2020-ranking.csv")
    assert (score["unit_zh"], score["unit_en"]) == ("分（0–100）", "points (0–100)")
    book = openpyxl.load_workbook(data / "2020.xlsx", read_only=True)
    assert book.sheetnames == ["ranking", "rewards", "rectification", "indicators",
                               "dictionary"]
    assert book["ranking"].max_row == 17


def test_every_edition_page_flags_the_simulated_survey(site: dict[str, Any]) -> None:
    pages = sorted((site["out"]).glob("**/editions/*/**/*.html"))
    assert len(pages) == 2 * (2 + 2 * 16)
    missing = [p for p in pages if 'data-simulated="survey"' not in p.read_text("utf-8")]
    assert missing == []
    home = (site["out"] / "en" / "index.html").read_text("utf-8")
    assert home.count("SIMULATED") == 2
    method = (site["out"] / "editions" / "2020" / "index.html").read_text("utf-8")
    assert "数据：内置数据集“成渝地区双城经济圈（默认数据集）”的真实数据" in method
    assert "未导入用户数据" in method


def test_pages_request_nothing_outside_the_site(site: dict[str, Any]) -> None:
    out = site["out"]
    for path in [*out.glob("**/*.html"), *out.glob("assets/*")]:
        text = path.read_text(encoding="utf-8")
        urls = set(re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>)]*", text)) - {
            "http://www.w3.org/2000/svg"}
        assert urls == set(), (path, urls)
        if path.suffix == ".html":
            assert re.search(r"<script(?![^>]*\bsrc=)", text) is None, path
            assert re.search(r"\sstyle=", text) is None, path
            assert re.search(r"\son[a-z]+=", text) is None, path
            assert "Content-Security-Policy" in text


# ---------------------------------------------------------------------- corrections, records
def test_a_correction_replaces_the_years_pages_and_says_so(
        site: dict[str, Any], runs: dict[str, Any], store: Any, tmp_path: Path) -> None:
    records = open_records(tmp_path / "records.sqlite")
    first = sign_edition(records, runs["2020"].path, **SIGN)
    fixed = sign_edition(records, runs["2020"].path, **{**SIGN, "statement": "更正：重新复核"},
                         key="2020-correction-1")
    result = build_site(out=tmp_path / "site", store=store, records=records,
                        runs_root=runs["root"], diagnostics=False)
    records.close()
    assert result.years == (2020,)
    page = (tmp_path / "site" / "editions" / "2020" / "index.html").read_text("utf-8")
    assert "更正：本版次替换了" in page and first.signed_at in page and "更正：重新复核" in page
    doc = json.loads((tmp_path / "site/api/v1/editions/2020.json").read_text("utf-8"))
    assert doc["edition"]["id"] == fixed.id and [s["id"] for s in doc["superseded"]] == [
        first.id]
    home = (tmp_path / "site" / "index.html").read_text("utf-8")
    assert home.count("已被更正替换") == 2  # the heading and the superseded row


def test_nothing_signed_is_refused_with_the_command(runs: dict[str, Any], store: Any,
                                                    tmp_path: Path) -> None:
    with open_records(tmp_path / "r.sqlite") as records, pytest.raises(
            EditionError, match="cocity publish --sign latest --evaluator"):
        build_site(out=tmp_path / "site", store=store, records=records,
                   runs_root=runs["root"])
    assert not (tmp_path / "site").exists()


def test_fund_and_committee_sections(runs: dict[str, Any], store: Any, tmp_path: Path,
                                     unit_index: Any) -> None:
    from cocity.fund.ledger import Ledger
    from cocity.govern import Register

    records = open_records(tmp_path / "r.sqlite")
    sign_edition(records, runs["2010"].path, **SIGN)
    out = tmp_path / "site"
    build_site(out=out, store=store, records=records, runs_root=runs["root"],
               diagnostics=False)
    for page in ("fund/index.html", "committee/index.html"):
        assert "记录库中尚无记录" in (out / page).read_text("utf-8")
    ledger = Ledger(records)
    ledger.open_fund(units={"510300": ("自贡市", "Zigong")}, illustrative=True)
    ledger.contribute("central", 123_456_789, key="c1", reason="示意出资", actor="wang",
                      role="fund_manager")
    Register(records, units=unit_index).add_case(
        "跨区域就医结算", description="说明", category="health", units=["成都", "重庆"],
        lead_department="医保局", source="hotline", opened="2024-01-10", due="2024-03-31",
        key="k1", actor="li", role="secretary", reason="登记", simulated=True)
    build_site(out=out, store=store, records=records, runs_root=runs["root"],
               diagnostics=False)
    records.close()
    fund = (out / "fund" / "index.html").read_text("utf-8")
    assert 'data-simulated="fund"' in fund and "1,234,567.89" in fund and "wang" not in fund
    committee = (out / "en" / "committee" / "index.html").read_text("utf-8")
    assert 'data-simulated="cases"' in committee and "holds 1 SIMULATED" in committee


# ---------------------------------------------------------------------- in a browser
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(site: dict[str, Any]) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                             "127.0.0.1", "--directory", str(site["out"])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.browser
@pytest.mark.parametrize("where", ["file", "http"])
def test_the_site_in_chromium(site: dict[str, Any], where: str, request: pytest.FixtureRequest
                              ) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    base = (site["out"].as_uri() + "/" if where == "file"
            else request.getfixturevalue("server"))
    shots = site["tmp"] / f"shots-{where}"
    shots.mkdir(exist_ok=True)
    requests: list[str] = []
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: problems.append(m.text) if m.type in (
            "error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        for name, path in (("home", "index.html"), ("edition", "editions/2020/index.html"),
                           ("unit", "units/510100.html")):
            page.goto(base + path)
            page.screenshot(path=str(shots / f"{name}.png"), full_page=name != "edition")
        page.goto(base + "editions/2020/index.html")
        assert page.locator("#ranking-prefecture tbody tr").count() == 16
        assert page.locator(".map svg path[data-code]").count() >= 16
        for query in ("成都", "Chengdu", "510100"):
            page.goto(base + "index.html")
            page.fill("#unit-search", query)
            first = page.locator("#unit-results a").first
            assert "成都市" in first.inner_text() and "510100" in first.inner_text()
        first.click()
        page.wait_for_url(re.compile(r"units/510100\.html$"))
        assert page.locator("h1").inner_text() == "成都市（510100）"
        page.click("#lang-switch")
        page.wait_for_url(re.compile(r"en/units/510100\.html$"))
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("h1").inner_text() == "Chengdu (510100)"
        page.fill("#unit-search", "chengdu")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"en/units/510100\.html$"))
        page.click("#lang-switch")
        page.wait_for_url(re.compile(r"/units/510100\.html$"))
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        page.goto(base + "editions/2020/index.html")
        page.locator('.map path[data-code="510100"]').first.click()
        page.wait_for_url(re.compile(r"editions/2020/units/510100\.html$"))
        browser.close()
    assert problems == []
    outside = [u for u in requests if not u.startswith(base)]
    assert outside == [] and len(requests) > 10
