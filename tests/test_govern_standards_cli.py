"""``cocity govern standards …``: list, record (idempotent, refusals exit 2 and write
nothing), status (coverage and statuses), report (the files and the manifest)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from cocity.cli import app
from cocity.records import open_records
from cocity.records.schema import govern_adoptions

runner = CliRunner()


def run(*args: str, lang: str = "en") -> Result:
    return runner.invoke(app, ["--lang", lang, "govern", "standards", *args],
                         env={"COLUMNS": "200", "COCITY_ACTOR": "li"})


def rows(db: Path) -> list[tuple[str, str, str, str, bool, str]]:
    records = open_records(str(db))
    try:
        with records.read() as conn:
            return [tuple(r) for r in conn.execute(sa.select(
                govern_adoptions.c.standard, govern_adoptions.c.unit_code,
                govern_adoptions.c.status, govern_adoptions.c.date,
                govern_adoptions.c.simulated, govern_adoptions.c.actor).order_by(
                govern_adoptions.c.id)).all()]
    finally:
        records.close()


def test_list_names_every_item_with_its_source() -> None:
    from cocity.govern.standards import catalogue

    res = run("list", lang="zh")
    assert res.exit_code == 0, res.output
    for item_id, item in catalogue().items.items():
        assert item_id in res.output and item.zh in res.output
    assert "001_a66d7a3389521e77.txt" in res.output
    assert "不预置任何实施数据" in res.output


def test_record_status_and_idempotent_retry(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    args = ["record", "异地就医直接结算", "成都", "试点", "--date", "2024-03-01",
            "--document", "川渝医保〔2024〕1号", "--db", str(db)]
    first = run(*args, lang="zh")
    assert first.exit_code == 0, first.output
    assert "已登记记录 1" in first.output and "成都市 (510100)" in first.output
    again = run(*args, lang="zh")
    assert again.exit_code == 0 and "未重复写入" in again.output
    assert rows(db) == [("medical_direct_settlement", "510100", "piloting", "2024-03-01",
                         False, "li")]
    res = run("record", "drug_list", "Chongqing", "adopted", "--date", "2024-04-01",
              "--document", "doc 2", "--reason", "minutes of May", "--db", str(db))
    assert res.exit_code == 0, res.output
    status = run("status", "--db", str(db))
    assert status.exit_code == 0, status.output
    assert "coverage per item (16 units" in status.output
    lines = [ln for ln in status.output.splitlines() if "unified drug list" in ln]
    # coverage row: planned 0, piloting 0, adopted 1, suspended 0, none 15, 1/16 = 6.2 %
    cells = [c.strip() for c in lines[0].split("│")[1:-1]]
    assert cells == ["unified drug list", "0", "0", "1", "0", "15", "6.2%"]
    assert "Chongqing" in status.output and "doc 2" in status.output
    early = run("status", "--as-of", "2024-03-31", "--standard", "统一药品目录",
                "--db", str(db))
    assert early.exit_code == 0, early.output
    assert "status (as of 2024-03-31)" in early.output
    assert "adopted" not in early.output.split("status (as of")[1]


@pytest.mark.parametrize(("args", "match"), [
    (["免费午餐", "成都", "adopted"], "免费午餐"),
    (["drug_list", "火星", "adopted"], "火星"),
    (["drug_list", "成都", "finished"], "finished"),
])
def test_refusals_exit_2_and_write_nothing(tmp_path: Path, args: list[str], match: str) -> None:
    db = tmp_path / "r.sqlite"
    res = run("record", *args, "--date", "2024-01-01", "--document", "d", "--db", str(db))
    assert res.exit_code == 2
    assert match in res.output and "nothing was written" in " ".join(res.output.split())
    assert "Traceback" not in res.output
    assert rows(db) == []


def test_an_earlier_date_is_refused_in_chinese(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    ok = run("record", "drug_list", "成都", "piloting", "--date", "2024-06-01",
             "--document", "d1", "--db", str(db))
    assert ok.exit_code == 0, ok.output
    res = run("record", "drug_list", "成都", "adopted", "--date", "2024-05-01",
              "--document", "d2", "--db", str(db), lang="zh")
    assert res.exit_code == 2
    assert "早于它" in res.output and "未写入任何内容" in res.output
    assert len(rows(db)) == 1


def test_status_without_a_database_says_where_it_looked(tmp_path: Path) -> None:
    res = run("status", "--db", str(tmp_path / "absent.sqlite"))
    assert res.exit_code == 2 and "absent.sqlite" in res.output
    assert not (tmp_path / "absent.sqlite").exists()


def test_report_writes_the_files_and_the_manifest(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    assert run("record", "drug_list", "成都", "adopted", "--date", "2024-01-01",
               "--document", "d", "--db", str(db)).exit_code == 0
    out = tmp_path / "rep"
    res = run("report", "-o", str(out), "--as-of", "2024-12-31", "--db", str(db))
    assert res.exit_code == 0, res.output
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert man["kind"] == "standards report" and man["records"] == 1
    assert {p.name for p in out.iterdir()} >= {
        "standards_report.html", "standards_report.xlsx", "standards_report.en.xlsx",
        "manifest.json"}
    assert f"wrote {len(man['outputs']) + 1} files" in res.output
