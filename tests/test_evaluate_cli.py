"""``cocity evaluate`` as a user runs it: the runs, the report files, errors, the rendered
HTML page (headless Chromium) and the PDF (poppler)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from cocity.cli import _register, app
from cocity.evaluate.tables import read_table
from tests.chromium import (
    assert_clean_console,
    figure,
    legend_texts,
    require_chromium,
    run_chromium,
)

_register()
runner = CliRunner()


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("evaluate")
    result = runner.invoke(app, ["evaluate", "--out", str(folder), "--replications", "300"])
    assert result.exit_code == 0, result.output
    return folder


def _run_folder(out: Path, year: int) -> Path:
    (folder,) = [p for p in (out / "runs").iterdir() if p.name.startswith(f"{year}-")]
    return folder


def test_main_job_writes_both_editions_and_every_output(out: Path) -> None:
    assert sorted(p.name[:4] for p in (out / "runs").iterdir()) == ["2010", "2020"]
    run = _run_folder(out, 2020)
    for name in ("report.html", "report.pdf", "report.en.pdf", "evaluation.xlsx",
                 "evaluation.json", "manifest.json", "tables/county_ranking.csv",
                 "tables/county_rectification.csv", "tables/prefecture_rewards.csv"):
        assert (run / name).is_file(), name
    doc = json.loads((run / "evaluation.json").read_text(encoding="utf-8"))
    assert doc["year"] == 2020 and doc["previous_year"] == 2010
    assert doc["simulated_survey"] is True
    levels = {lv["level"]: lv for lv in doc["levels"]}
    assert levels["prefecture"]["units"] == 16 and levels["county"]["units"] == 144
    assert sum(levels["county"]["grade_counts"].values()) == 144
    book = openpyxl.load_workbook(run / "evaluation.xlsx", read_only=True)
    assert {"县级单元·排名", "县级单元·整改名单", "地级单元·指标体系", "说明",
            "数据来源"} <= set(book.sheetnames)
    book_en = openpyxl.load_workbook(run / "evaluation.en.xlsx", read_only=True)
    assert {"County level · ranking", "County level · rectification", "notes",
            "provenance"} <= set(book_en.sheetnames)
    import pandas as pd

    responses = pd.read_csv(run / "survey.csv")
    assert responses["simulated"].astype(str).str.lower().eq("true").all()
    ranking = read_table(run / "tables" / "county_ranking.csv")
    assert ranking["reason_zh"].str.contains("评为").all()
    assert ranking["reason_en"].str.len().gt(10).all()
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["provenance"]["survey"]["simulated"] is True
    assert manifest["config"]["replications"]["asked"] == 300
    # the Saltelli design ran N·(D + 2) with N a power of two: D = 2 inputs, N = 128
    assert manifest["config"]["replications"]["run"] == {"prefecture": 512, "county": 512}
    assert manifest["outputs"]["json"]["file"] == "evaluation.json"


def test_running_again_reproduces_the_stored_run(out: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCITY_LANG", "zh")  # restored after the test (--lang sets it)
    before = {p.name for p in (out / "runs").iterdir()}
    result = runner.invoke(app, ["--lang", "en", "evaluate", "--out", str(out),
                                 "--replications", "300", "--no-pdf"])
    assert result.exit_code == 0, result.output
    assert "identical to the stored run" in result.output
    assert {p.name for p in (out / "runs").iterdir()} == before


def test_history_lists_the_stored_runs(out: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = runner.invoke(app, ["evaluate", "--history", "--out", str(out)])
    assert result.exit_code == 0
    for folder in (out / "runs").iterdir():
        assert folder.name in result.output
    empty = runner.invoke(app, ["evaluate", "--history", "--out", str(tmp_path)])
    assert empty.exit_code == 0 and "还没有运行" in empty.output


def test_terminal_summary(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", "--out", str(tmp_path), "--replications", "300",
                                 "--no-pdf", "--level", "prefecture", "--no-previous"])
    assert result.exit_code == 0, result.output
    assert "地级单元" in result.output and "模拟" in result.output
    run = next((tmp_path / "runs").iterdir())
    assert f"{run / 'report.html'}" in result.output  # whole, unbroken paths


def test_quick_look_and_too_few_replications(tmp_path: Path) -> None:
    quick = runner.invoke(app, ["evaluate", "--out", str(tmp_path / "q"), "--replications", "0",
                                "--no-pdf", "--no-previous", "--level", "prefecture"],
                          terminal_width=200)
    assert quick.exit_code == 0, quick.output
    assert "未做不确定性分析" in quick.output
    one = runner.invoke(app, ["evaluate", "--out", str(tmp_path / "o"), "--replications", "1",
                              "--no-pdf", "--no-previous", "--level", "prefecture", "--lang",
                              "en"], terminal_width=200)
    assert one.exit_code == 0, one.output
    assert "Only 1 uncertainty replication(s) were asked" in one.output
    assert "ran 8" in one.output
    assert "Prefecture level: 16 units evaluated (membership: full + partial; 16 of this" \
        in one.output


def test_an_edited_run_is_repaired_not_reused(tmp_path: Path) -> None:
    args = ["evaluate", "--out", str(tmp_path), "--replications", "0", "--no-pdf",
            "--no-previous", "--level", "prefecture"]
    assert runner.invoke(app, args).exit_code == 0
    run = next((tmp_path / "runs").iterdir())
    ranking = run / "tables" / "prefecture_ranking.csv"
    original = ranking.read_bytes()
    ranking.write_bytes(original.replace(b",", b";", 3))
    result = runner.invoke(app, [*args, "--lang", "en"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "tables/prefecture_ranking.csv (changed)" in result.output
    assert "stored run repaired" in result.output
    assert ranking.read_bytes() == original


@pytest.mark.parametrize("args, message", [
    (["--framework", "nowhere.yaml"], "nowhere.yaml"),
    (["--publication-date", "2021-13-01"], "2021-13-01"),
    (["--year", "2015"], "2015"),
    (["--level", "galaxy"], "galaxy"),
    (["--replications", "-5"], "-5"),
])
def test_bad_requests_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["evaluate", "--out", str(tmp_path), "--no-pdf", "--no-previous",
                                 *(["--replications", "0"] if "--replications" not in args
                                   else []), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_an_empty_workspace_is_refused(tmp_path: Path) -> None:
    assert runner.invoke(app, ["init", str(tmp_path / "ws"), "--dataset", "none"]).exit_code == 0
    result = runner.invoke(app, ["evaluate", "-w", str(tmp_path / "ws"), "--out",
                                 str(tmp_path / "o"), "--no-pdf", "--replications", "0"])
    assert result.exit_code == 2
    assert "没有可评价的单元" in result.output
    assert not (tmp_path / "o").exists()


def test_a_survey_with_invalid_codes_is_refused(tmp_path: Path) -> None:
    survey = tmp_path / "survey.csv"
    survey.write_text("respondent,unit,weight,education,health,elderly_care,culture,"
                      "social_security,transport\n"
                      "r1,锦江区,100,5,4,3,2,1,5\n"
                      "r2,Atlantis,100,7,4,3,2,1,5\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", "--out", str(tmp_path / "o"), "--no-pdf",
                                 "--replications", "0", "--survey", str(survey)])
    assert result.exit_code == 2
    assert "Atlantis" in result.output and "7" in result.output
    assert not (tmp_path / "o" / "runs").exists() or not any((tmp_path / "o" / "runs").iterdir())


# ---------------------------------------------------------------------- rendering
@pytest.mark.browser
def test_report_page_draws_maps_and_charts(out: Path, tmp_path: Path) -> None:
    require_chromium()
    page = _run_folder(out, 2020) / "report.html"
    dom, console = run_chromium(page, tmp_path, "--dump-dom", size="1400,20000",
                                budget_ms=30000)
    assert_clean_console(console)
    for fig_id in ("fig-grades-prefecture", "fig-grades-county", "fig-scores-county",
                   "fig-intervals-county", "fig-profile-prefecture", "fig-change-county",
                   "unit-profile-prefecture", "unit-profile-county"):
        figure(dom, fig_id)
    # the unit profile shows the first unit of the ranking with the median of all units
    profile = figure(dom, "unit-profile-prefecture")
    assert "成都市" in " ".join(legend_texts(profile))
    county_map = figure(dom, "fig-grades-county")
    assert len(re.findall(r'class="choroplethlocation"', county_map)) >= 140
    assert any(text.startswith("良好") for text in legend_texts(county_map))
    assert "模拟" in dom and "SIMULATED" in dom
    assert 'data-testid="rectification-county"' in dom


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is absent (apt-get install poppler-utils)")
    return path


def test_pdfs_carry_chinese_and_english_text_in_cjk_fonts(out: Path, tmp_path: Path) -> None:
    run = _run_folder(out, 2020)
    text_zh = subprocess.run([_poppler("pdftotext"), str(run / "report.pdf"), "-"],
                             capture_output=True, text=True, check=True).stdout
    assert "公共服务评价" in text_zh and "整改名单" in text_zh and "模拟" in text_zh
    text_en = subprocess.run([_poppler("pdftotext"), str(run / "report.en.pdf"), "-"],
                             capture_output=True, text=True, check=True).stdout
    assert "Rectification list" in text_en and "SIMULATED" in text_en
    fonts = subprocess.run([_poppler("pdffonts"), str(run / "report.pdf")],
                           capture_output=True, text=True, check=True).stdout
    assert "NotoSansCJK" in fonts.replace("-", "")
    assert "Type 3" not in fonts
    subprocess.run([_poppler("pdftoppm"), "-r", "40", "-f", "2", "-l", "2", "-png",
                    str(run / "report.pdf"), str(tmp_path / "page")], check=True)
    from PIL import Image

    (png,) = tmp_path.glob("page*.png")
    colors = Image.open(png).convert("RGB").getcolors(maxcolors=1 << 20) or []
    assert len(colors) > 50  # a drawn map, not a blank page


@pytest.mark.parametrize("name", ["report.pdf", "report.en.pdf"])
def test_pdf_pages_are_filled_and_tables_fit(out: Path, tmp_path: Path, name: str) -> None:
    """No page but the last is more than half empty, and nothing is drawn beyond the right
    margin (a table too wide for the page)."""
    import numpy as np
    from PIL import Image

    run = _run_folder(out, 2020)
    subprocess.run([_poppler("pdftoppm"), "-r", "30", "-gray", str(run / name),
                    str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.pgm"))
    assert len(pages) > 5
    for page in pages:
        ink = np.asarray(Image.open(page)) < 200
        h, w = ink.shape
        rows = np.where(ink[: int(h * 0.93)].any(axis=1))[0]  # above the page number
        if page != pages[-1]:
            assert rows.max() > 0.5 * h, f"{page.name} is more than half empty"
        cols = np.where(ink.any(axis=0))[0]
        assert cols.max() < w - 0.05 * w, f"{page.name} draws into the right margin"
