"""What the evaluation's outputs say is true of the run that made them: provenance from the
store's facts, the weight of a simulated survey, like-for-like comparisons, whole ranks, the
replications that ran, readable PDFs, reuse only of intact runs, labelled tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from cocity.data.importers import import_observations
from cocity.data.store import Store
from cocity.datasets import load_into, open_store
from cocity.evaluate.framework import load_framework
from cocity.evaluate.run import Evaluation, Previous, evaluate, saturation
from cocity.evaluate.runs import save_run
from cocity.evaluate.survey import read_survey, simulate_survey, write_survey
from cocity.evaluate.tables import csv_frame, read_table, result_tables
from cocity.index.framework import Framework
from cocity.outputs import sha256_file
from cocity.report import pdf as pdfmod
from cocity.report.evaluate_report import (
    _movers,
    document,
    report_html,
    report_print_html,
    score_range,
    write_run_outputs,
)
from cocity.report.pdf import PdfUnavailableError, write_pdf

EMBEDDED = "内置数据集“成渝地区双城经济圈（默认数据集）”的真实数据"


@pytest.fixture(scope="module")
def store() -> Store:
    return open_store()


@pytest.fixture(scope="module")
def run(store: Store) -> Evaluation:
    return evaluate(load_framework(), store, replications=64, seed=5)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Path]:
    """A workspace of the embedded data with one user import of schooling years."""
    folder = tmp_path_factory.mktemp("ws")
    ws = Store.open(folder / "ws", create=True)
    load_into(ws, "chengyu")
    csv = folder / "schooling.csv"
    pd.DataFrame({"unit": ["510104", "510105"], "year": [2020, 2020],
                  "indicator": ["schooling_years", "schooling_years"],
                  "value": [13.5, 13.25]}).to_csv(csv, index=False)
    import_observations(ws, csv, replace=True)
    return ws, csv


def _html(ev: Evaluation) -> str:
    return report_html(ev, result_tables(ev))


# ---------------------------------------------------------------------- provenance
def test_embedded_data_is_said_only_without_user_data(run: Evaluation,
                                                      workspace: tuple[Store, Path]) -> None:
    assert run.provenance["user_data"] is False and run.provenance["imports"] == []
    page = _html(run)
    assert EMBEDDED in page
    assert EMBEDDED in report_print_html(run, result_tables(run), "zh")
    ws, csv = workspace
    ev = evaluate(load_framework(), ws, replications=0, levels=["county"])
    digest = sha256_file(csv)
    (imp,) = ev.provenance["imports"]
    assert imp["file"] == str(csv) and imp["sha256"] == digest and imp["rows"] == 2
    assert imp["replaced"] == 2 and imp["indicators"] == ["schooling_years"]
    assert ev.provenance["workspace"] == str(ws.path)
    tables = result_tables(ev)
    for text in (report_html(ev, tables), report_print_html(ev, tables, "zh"),
                 report_print_html(ev, tables, "en")):
        assert "内置数据集的真实数据" not in text and EMBEDDED not in text
        assert "real data of the embedded dataset" not in text
        assert csv.name in text and digest[:16] in text
    doc = document(ev, tables)
    assert doc["provenance"]["imports"][0]["sha256"] == digest
    prov = csv_frame(tables["provenance"], ev, "provenance")
    assert digest in prov.iloc[:, 1].astype(str).tolist()


def test_an_import_of_unused_indicators_does_not_enter(store: Store, tmp_path: Path) -> None:
    ws = Store.open(tmp_path / "ws", create=True)
    load_into(ws, "chengyu")
    csv = tmp_path / "gdp.csv"
    pd.DataFrame({"unit": ["510100"], "year": [2019], "indicator": ["gdp_per_capita"],
                  "value": [1.0e5]}).to_csv(csv, index=False)
    import_observations(ws, csv, replace=True)
    ev = evaluate(load_framework(), ws, replications=0, levels=["prefecture"])
    assert ev.provenance["user_data"] is False and EMBEDDED in _html(ev)


def test_simulated_notice_if_and_only_if_the_survey_is_simulated(
        run: Evaluation, store: Store, tmp_path: Path) -> None:
    notice = "满意度维度使用模拟的演示问卷"
    assert run.simulated_survey and notice in _html(run)
    sim = simulate_survey(store, year=2020, n_per_unit=20, seed=2)
    sim.responses["simulated"] = False
    path = write_survey(sim, tmp_path / "survey.csv")
    real = read_survey(path, store, year=2020)
    assert not real.simulated
    ev = evaluate(load_framework(), store, survey=real, replications=0, levels=["county"])
    page = _html(ev)
    assert notice not in page and "SIMULATED" not in page
    assert sha256_file(path)[:16] in page and ev.provenance["survey"]["kind"] == "file"
    assert ev.levels["county"].without_survey is None


# ---------------------------------------------------------------------- simulated survey weight
def test_grades_without_the_simulated_survey(run: Evaluation) -> None:
    for level, res in run.levels.items():
        without = res.without_survey
        assert without is not None, level
        # arithmetic aggregation of equally weighted dimensions: leaving satisfaction out
        # leaves the mean of the other two dimension scores
        expected = (res.scores["FAIR"] + res.scores["CONV"]) / 2
        np.testing.assert_allclose(without["score"].reindex(expected.index), expected,
                                   rtol=1e-12)
        cut = np.select([without["score"] >= 80, without["score"] >= 65,
                         without["score"] >= 50], ["excellent", "good", "pass"], "fail")
        assert without["grade"].astype(str).tolist() == cut.tolist()
    rk = result_tables(run)["county_ranking"]
    assert {"score_without_survey", "grade_without_survey"} <= set(rk.columns)
    assert "不含满意度时的等级" in _html(run)


# ---------------------------------------------------------------------- like for like
def _previous_from(ev: Evaluation, drop: dict[str, list[str]], year: int) -> Previous:
    return Previous(year, "test",
                    {lv: r.graded["score"] for lv, r in ev.levels.items()},
                    {lv: r.values_used.drop(columns=drop.get(lv, [])) for lv, r in
                     ev.levels.items()})


def test_change_is_computed_on_the_shared_indicators(run: Evaluation, store: Store) -> None:
    # the previous edition: the same values without one indicator — on the shared indicators
    # nothing changed, so every like-for-like change is 0 although the full scores differ
    prev = _previous_from(run, {"county": ["beds_access"]}, 2019)
    ev = evaluate(load_framework(), store, replications=0, levels=["county"], previous=prev)
    cmp = ev.levels["county"].comparison
    assert cmp.kind == "shared" and cmp.current_only == ["beds_access"]
    np.testing.assert_allclose(cmp.change.to_numpy(float), 0.0, atol=1e-9)
    rk = result_tables(ev)["county_ranking"]
    np.testing.assert_allclose(rk["score_change"].to_numpy(float), 0.0, atol=1e-9)
    assert any(n.kind == "comparison" and "beds_access" not in n.zh for n in ev.notes)
    same = evaluate(load_framework(), store, replications=0, levels=["county"],
                    previous=_previous_from(run, {}, 2019))
    assert same.levels["county"].comparison.kind == "same"


def test_editions_sharing_too_little_are_not_comparable(run: Evaluation, store: Store) -> None:
    cols = list(run.levels["county"].values_used.columns)
    prev = _previous_from(run, {"county": cols[: len(cols) - 3]}, 2019)
    ev = evaluate(load_framework(), store, replications=0, levels=["county"], previous=prev)
    res = ev.levels["county"]
    assert res.comparison.kind == "none" and res.comparison.change is None
    assert "score_change" not in result_tables(ev)["county_ranking"]
    assert "两个版次不可比" in _html(ev)


def test_improvement_judges_the_like_for_like_change(run: Evaluation, store: Store) -> None:
    res = run.levels["county"]
    # the previous edition lacks one indicator (so both scores are rebuilt on the shared
    # ones) and one unit had a schooling gap of 20 % to the circle level then, none now
    values = res.values_used.drop(columns=["beds_access"])
    unit = str(res.values_used["school_gap_circle"].idxmin())
    values.loc[unit, "school_gap_circle"] += 20.0
    prev = Previous(2019, "test", {"county": res.graded["score"]}, {"county": values})
    ev = evaluate(load_framework(), store, replications=0, levels=["county"], previous=prev)
    g = ev.levels["county"].graded
    change = ev.levels["county"].comparison.change
    assert ev.improvement_applies
    np.testing.assert_allclose(g["change"], change.reindex(g.index), atol=1e-9)
    assert change[unit] > 0 and abs(change.drop(unit)).max() < 1e-9


def test_largest_falls_list_only_falls() -> None:
    rk = pd.DataFrame({"score_change": [3.0, 1.0, 0.5, -2.0, np.nan]},
                      index=list("abcde"))
    movers = _movers(rk)
    assert list(movers["up"].index) == ["a", "b", "c"]
    assert list(movers["down"].index) == ["d"]
    rising = _movers(pd.DataFrame({"score_change": [1.0, 2.0]}, index=["x", "y"]))
    assert rising["down"].empty


def test_ranks_and_rank_intervals_are_whole(run: Evaluation) -> None:
    rk = result_tables(run)["county_ranking"]
    for col in ("rank", "rank_low", "rank_high"):
        assert str(rk[col].dtype) == "Int64", col
    assert (rk["rank_low"] <= rk["rank"]).all() and (rk["rank"] <= rk["rank_high"]).all()
    text = read_table_text(run, "county_ranking")
    assert ",1.0," not in text.splitlines()[1]


def read_table_text(ev: Evaluation, name: str) -> str:
    return csv_frame(result_tables(ev)[name], ev, name).to_csv(index=False)


# ---------------------------------------------------------------------- replications
def test_the_replications_that_ran_are_reported(run: Evaluation, store: Store) -> None:
    # 64 asked, D = 2 uncertain inputs: N = 2^⌈log2(64/4)⌉ = 16, N·(D+2) = 64 ran
    assert {r.replications_run for r in run.levels.values()} == {64}
    few = evaluate(load_framework(), store, replications=1, levels=["prefecture"])
    assert few.levels["prefecture"].replications_run == 8  # N = 2 (the minimum), 2·4
    warning = [n for n in few.notes if n.kind == "warning"]
    assert warning and "8" in warning[0].zh and "100" in warning[0].zh
    none = evaluate(load_framework(), store, replications=0, levels=["prefecture"])
    assert none.levels["prefecture"].uncertainty is None
    assert "score_low" not in result_tables(none)["prefecture_ranking"]
    assert any(n.kind == "replications" and "未做不确定性分析" in n.zh for n in none.notes)


# ---------------------------------------------------------------------- PDF
def test_no_pdf_without_a_cjk_font(run: Evaluation, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert pdfmod.cjk_font_count() > 0
    empty = tmp_path / "fonts.conf"
    empty.write_text('<?xml version="1.0"?><fontconfig><dir>' + str(tmp_path / "none") +
                     "</dir><cachedir>" + str(tmp_path / "cache") + "</cachedir></fontconfig>",
                     encoding="utf-8")
    monkeypatch.setenv("FONTCONFIG_FILE", str(empty))
    assert pdfmod.cjk_font_count() == 0
    with pytest.raises(PdfUnavailableError, match="fonts-noto-cjk"):
        write_pdf("<p>中文</p>", tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()
    warnings: list[str] = []
    paths = write_run_outputs(run, tmp_path / "run", pdf=True, warnings=warnings)
    assert "pdf" not in paths and not list((tmp_path / "run").glob("*.pdf"))
    assert warnings and "fonts-noto-cjk" in warnings[0]


# ---------------------------------------------------------------------- reuse
def _writer(ev: Evaluation, folder: Path) -> dict[str, Path]:
    tables = result_tables(ev)
    paths = {}
    for name in ("county_ranking", "notes"):
        path = folder / "tables" / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        csv_frame(tables[name], ev, name).to_csv(path, index=False, lineterminator="\n")
        paths[f"csv:{name}"] = path
    return paths


def test_reuse_rehashes_the_files_on_disk(run: Evaluation, tmp_path: Path) -> None:
    first = save_run(run, tmp_path, _writer)
    ranking = first.path / "tables" / "county_ranking.csv"
    good = ranking.read_bytes()
    assert save_run(run, tmp_path, _writer).status == "reproduced"
    with ranking.open("a", encoding="utf-8") as fh:
        fh.write("999999,edited\n")
    again = save_run(run, tmp_path, _writer)
    assert again.status == "repaired"
    assert again.repaired == (("tables/county_ranking.csv", "changed"),)
    assert ranking.read_bytes() == good
    (first.path / "tables" / "notes.csv").unlink()
    assert save_run(run, tmp_path, _writer).repaired == (("tables/notes.csv", "missing"),)


def test_a_stored_run_lacking_an_output_is_completed(run: Evaluation, tmp_path: Path) -> None:
    def fewer(ev: Evaluation, folder: Path) -> dict[str, Path]:
        paths = _writer(ev, folder)
        paths.pop("csv:notes").unlink()
        return paths

    save_run(run, tmp_path, fewer)
    again = save_run(run, tmp_path, _writer)
    assert again.status == "repaired" and again.repaired == (("tables/notes.csv", "lacking"),)
    assert "csv:notes" in json.loads((again.path / "manifest.json").read_text())["outputs"]


# ---------------------------------------------------------------------- tables for officials
def test_tables_have_chinese_labels_first_and_read_back(run: Evaluation, tmp_path: Path) -> None:
    tables = result_tables(run)
    frame = csv_frame(tables["county_ranking"], run, "county_ranking")
    assert frame.columns[0] == "单元代码 (unit)" and "综合得分 (score)" in frame.columns
    assert "等级 (grade)" in frame.columns and "等级（英文） (grade_en)" in frame.columns
    assert len(set(frame.columns)) == len(frame.columns)
    assert not frame.isna().all().any()  # no empty column
    assert set(frame["等级 (grade)"]) <= {"优秀", "良好", "合格", "不合格"}
    assert frame["综合得分 (score)"].map(lambda v: round(v, 2) == v).all()
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False)
    back = read_table(path)
    assert back["unit"].tolist() == tables["county_ranking"]["unit"].tolist()
    np.testing.assert_allclose(back["score"], tables["county_ranking"]["score"], atol=0.005)
    assert back["uncertain"].dtype == object or back["uncertain"].dtype == bool


def test_workbooks_in_both_languages(run: Evaluation, tmp_path: Path) -> None:
    paths = write_run_outputs(run, tmp_path, pdf=False)
    zh = openpyxl.load_workbook(paths["xlsx"])["县级单元·排名"]
    header = [c.value for c in zh[1]]
    assert header[:3] == ["单元代码", "单元名称", "英文名称"]
    assert "评级理由（英文）" not in header and "等级（英文）" not in header
    col = header.index("综合得分") + 1
    assert zh.cell(row=2, column=col).number_format == "0.00"
    rank = zh.cell(row=2, column=header.index("排名") + 1).value
    assert isinstance(rank, int) and rank == 1
    assert zh.cell(row=2, column=header.index("等级") + 1).value in ("优秀", "良好")
    en = openpyxl.load_workbook(paths["xlsx:en"])["County level · ranking"]
    header_en = [c.value for c in en[1]]
    assert "Index score" in header_en and "评级理由" not in header_en
    assert en.cell(row=2, column=header_en.index("Grade") + 1).value in ("Excellent", "Good")


def test_shared_names_always_carry_their_city(run: Evaluation) -> None:
    rk = result_tables(run)["county_ranking"].set_index("unit")
    assert rk.at["511002", "name_zh"] == "市中区（内江市）"
    assert rk.at["511102", "name_en"] == "Shizhong District (Leshan)"
    assert rk.at["510104", "name_zh"] == "锦江区"
    assert rk.at["500100", "name_zh"] if "500100" in rk.index else True
    pref = result_tables(run)["prefecture_ranking"].set_index("unit")
    assert pref.at["500100", "name_zh"] == "重庆市"


def test_score_colours_span_the_scores() -> None:
    assert score_range(pd.Series([52.3, 86.7])) == (50.0, 90.0)
    assert score_range(pd.Series([60.0, 60.0])) == (55.0, 65.0)
    assert score_range(pd.Series([np.nan])) == (0.0, 100.0)


def test_saturated_scores_are_found_and_explained(run: Evaluation) -> None:
    fw = Framework.from_records([
        {"code": "I", "name_zh": "指数", "name_en": "Index"},
        {"code": "D", "parent": "I", "weight": 1, "name_zh": "维度", "name_en": "Dimension"},
        {"code": "a", "parent": "D", "weight": 1, "direction": 1, "name_zh": "甲",
         "name_en": "A"},
        {"code": "b", "parent": "D", "weight": 1, "direction": 1, "name_zh": "乙",
         "name_en": "B"}])
    scores = pd.DataFrame({"a": [100.0, 100.0, 40.0, 20.0], "b": [100.0, 90, 80, 70],
                           "D": [99.0, 95, 60, 45]})
    found = saturation(scores, fw)
    assert [(f["code"], f["n"], f["of"]) for f in found] == [("a", 2, 4), ("b", 1, 4)]
    assert [f["code"] for f in saturation(scores, fw, share=0.5)] == ["a"]
    county = run.levels["county"]
    codes = {f["code"] for f in county.saturated}
    assert "amenity_gap_circle" in codes
    assert "住房设施低于全圈水平的差距" in _html(run)


def test_a_unit_without_population_is_named(tmp_path: Path) -> None:
    ws = Store.open(tmp_path / "ws", create=True)
    load_into(ws, "chengyu")
    ws.con.execute("DELETE FROM observations WHERE unit = '510104' AND indicator = 'pop_total'"
                   " AND year = 2020")
    ev = evaluate(load_framework(), ws, replications=0, levels=["county"])
    (note,) = [n for n in ev.notes if n.kind == "no_population"]
    assert "锦江区" in note.zh and "Jinjiang" in note.en and "插补" in note.zh


def test_print_maps_let_a_reader_find_units(run: Evaluation) -> None:
    page = report_print_html(run, result_tables(run), "zh")
    labels = set(__import__("re").findall(r'class="map-label"[^>]*>([^<]+)<', page))
    assert {"成都", "重庆", "绵阳", "达州"} <= labels  # prefecture names
    assert {"1", "2", "144"} <= labels  # county ranks, keyed to the ranking table
    assert "图中数字为排名" in page
