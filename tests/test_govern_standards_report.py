"""The standards register's coverage report: the tables equal the register's reads (counted
by hand), simulated records are flagged in every output, the map is drawn on the embedded
dataset's boundaries, the manifest verifies, and an empty register says so."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cocity.govern.standards import Standards, StandardsError, catalogue
from cocity.outputs import verify_outputs
from cocity.records import open_records
from cocity.report.govern_standards import share_map_figure, standards_view, write_standards_report

WHO = {"actor": "zhang", "role": "secretary", "reason": "据文件登记"}


@pytest.fixture(scope="module")
def store():
    from cocity.datasets import open_store

    return open_store()


@pytest.fixture(scope="module")
def filled(tmp_path_factory, store) -> Standards:
    from cocity.data.units import UnitIndex

    path = tmp_path_factory.mktemp("std") / "records.sqlite"
    reg = Standards(open_records(str(path)), units=UnitIndex(store.units()))
    reg.record("统一药品目录", "成都", "已实施", date="2024-01-01", document="文件甲", **WHO)
    reg.record("drug_list", "重庆", "piloting", date="2024-02-01", document="文件乙",
               simulated=True, **WHO)
    reg.record("medical_direct_settlement", "成都", "adopted", date="2024-03-01",
               document="文件丙", **WHO)
    reg.record("medical_direct_settlement", "绵阳", "adopted", date="2025-03-01",
               document="文件丁", **WHO)  # after the report's date: not in force
    return reg


@pytest.fixture(scope="module")
def report(filled: Standards, store, tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("std-report")
    return out, write_standards_report(filled, out=out, store=store, as_of="2024-12-31")


def test_the_view_counts_by_hand(filled: Standards) -> None:
    view = standards_view(filled, as_of="2024-12-31")
    assert len(view.units) == 16
    cov = view.coverage.set_index("standard")
    assert (cov.loc["drug_list", "adopted"], cov.loc["drug_list", "piloting"]) == (1, 1)
    assert cov.loc["medical_direct_settlement", "adopted"] == 1  # 绵阳's is later
    shares = view.share_rows
    assert shares["510100"]["share_adopted"] == pytest.approx(2 / len(catalogue().items))
    assert view.simulated == 1
    assert view.cell("drug_list", "500100", "zh") == "试点 2024-02-01 *"
    assert view.cell("drug_list", "500100", "en") == "piloting 2024-02-01 *"
    assert view.cell("drug_list", "510700", "zh") == "未登记"


def test_the_map_colours_the_share_adopted_and_marks_simulated_units(filled, store) -> None:
    from cocity.report.govern_standards import map_geo

    view = standards_view(filled, as_of="2024-12-31")
    geo = map_geo(store, view.units)
    assert sorted(geo["code"]) == view.units
    fig = share_map_figure(view, geo, lang="en")
    z = dict(zip(fig.data[0].locations, fig.data[0].z, strict=True))
    assert z["510100"] == pytest.approx(100 * 2 / len(catalogue().items))
    assert z["510700"] == 0
    assert list(fig.data[1].text) == [geo.set_index("code").at["500100", "name_en"]]


def test_manifest_lists_and_verifies_every_file(report) -> None:
    out, man = report
    assert set(man["outputs"]) == {"html", "xlsx", "xlsx:en", "pdf", "pdf:en"}
    assert verify_outputs(man, out) == []
    assert (man["records"], man["simulated_in_force"], man["simulated_records"]) == (4, 1, 1)
    assert man["map_drawn"] is True and man["config"]["as_of"] == "2024-12-31"
    assert len(man["units"]) == 16


def test_workbooks_read_back(report) -> None:
    out, _ = report
    zh = pd.read_excel(out / "standards_report.xlsx", sheet_name=None)
    assert list(zh) == ["各事项覆盖情况", "单元×事项实施状态", "全部记录"]
    cov = zh["各事项覆盖情况"].set_index("事项")
    assert cov.loc["统一药品目录", "已实施"] == 1 and cov.loc["统一药品目录", "未登记"] == 14
    assert cov.loc["统一药品目录", "已实施占比"] == pytest.approx(1 / 16)
    matrix = zh["单元×事项实施状态"].set_index("代码")
    assert matrix.loc[500100, "统一药品目录"] == "试点 2024-02-01 *"
    assert len(matrix) == 16
    assert zh["全部记录"]["模拟记录"].fillna("").tolist().count("模拟") == 1
    en = pd.read_excel(out / "standards_report.en.xlsx", sheet_name=None)
    assert en["Coverage per item"].set_index("item").loc["unified drug list", "adopted"] == 1


def _pdf_text(path: Path) -> str:
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext is absent (apt-get install poppler-utils)"
    return subprocess.run([tool, str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_pdfs_flag_simulated_records_and_draw_the_map(report) -> None:
    out, _ = report
    zh = _pdf_text(out / "standards_report.pdf")
    assert "统一标准与资质互认覆盖情况" in zh and "模拟" in zh
    assert re.search(r"试点\s+2024-02-01\s+\*", zh)
    en = _pdf_text(out / "standards_report.en.pdf")
    assert "simulated adoption records" in " ".join(en.split())
    assert re.search(r"piloting\s+2024-02-01\s+\*", en)
    html = (out / "standards_report.html").read_text(encoding="utf-8")
    assert html.count('data-testid="notice-simulated"') == 1
    assert 'data-testid="share-map"' in html
    assert re.search(r'<td class="st simulated" data-item="drug_list" '
                     r'style="background: #91cf60">', html)  # piloting, simulated
    assert "http://" not in html.split("<script>")[0]


def test_an_empty_register_says_so_and_shows_no_figure(tmp_path: Path, store) -> None:
    from cocity.data.units import UnitIndex

    reg = Standards(open_records(str(tmp_path / "r.sqlite")), units=UnitIndex(store.units()))
    man = write_standards_report(reg, out=tmp_path / "out", formats=["html", "xlsx"])
    html = (tmp_path / "out" / "standards_report.html").read_text(encoding="utf-8")
    assert 'data-testid="empty-register"' in html and 'data-testid="no-map"' in html
    assert 'data-testid="notice-simulated"' not in html
    assert (man["records"], man["map_drawn"]) == (0, False)
    cov = pd.read_excel(tmp_path / "out" / "standards_report.xlsx", sheet_name=0)
    assert (cov["已实施"] == 0).all() and (cov["未登记"] == 16).all()


def test_unknown_formats_are_refused(filled: Standards, tmp_path: Path) -> None:
    with pytest.raises(StandardsError, match="docx"):
        write_standards_report(filled, out=tmp_path / "x", formats=["docx"])
    assert not (tmp_path / "x").exists()
