"""``cocity govern meeting …``: plan, agenda (draft and convened), minutes from a YAML or CSV
decisions file, show, list; refusals exit 2 with a bilingual message and write nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from cocity.cli import app
from cocity.govern import Register
from cocity.records import open_records
from cocity.records.schema import govern_events, govern_meetings, govern_minutes
from tests.test_govern_meetings import working_case

runner = CliRunner()


def run(*args: str, lang: str = "zh") -> Result:
    return runner.invoke(app, ["--lang", lang, "govern", "meeting", *args],
                         env={"COLUMNS": "200"})


@pytest.fixture
def db(tmp_path) -> tuple[str, dict[str, int]]:
    from cocity.data.units import UnitIndex
    from cocity.datasets import open_store

    path = str(tmp_path / "r.sqlite")
    records = open_records(path)
    reg = Register(records, units=UnitIndex(open_store().units()))
    ids = {"a": working_case(reg, "a", title="异地就医报销慢", due="2024-04-30"),
           "b": working_case(reg, "b", title="跨省公交卡不通用")}
    records.close()
    return path, ids


def counts(path: str) -> tuple[int, int, int]:
    records = open_records(path)
    try:
        with records.read() as conn:
            return tuple(int(conn.execute(sa.select(sa.func.count()).select_from(x))
                             .scalar_one()) for x in (govern_meetings, govern_minutes,
                                                      govern_events))  # type: ignore[return-value]
    finally:
        records.close()


def test_plan_with_a_holiday_file(tmp_path) -> None:
    days = tmp_path / "h.yaml"
    days.write_text("holidays: ['2024-05-09']\n", encoding="utf-8")
    res = run("plan", "--year", "2024", "--holidays", str(days))
    assert res.exit_code == 0, res.output
    assert "2024-05-10 (五)" in res.output and "2024-05-09 → 顺延" in res.output
    res = run("plan", "--year", "2024", lang="en")
    assert res.exit_code == 0 and "2024-05-09 (Thu)" in res.output
    assert "only weekends are avoided" in res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("holidays: [5月1日]\n", encoding="utf-8")
    res = run("plan", "--year", "2024", "--holidays", str(bad), lang="en")
    assert res.exit_code == 2 and "5月1日" in res.output and "Traceback" not in res.output


def test_agenda_convene_minutes_show_list(db, tmp_path) -> None:
    path, ids = db
    res = run("agenda", "--date", "2024-05-09", "--kind", "monthly", "--db", path, "-o",
              str(tmp_path / "draft"))
    assert res.exit_code == 0, res.output
    assert "草案" in res.output and "异地就医报销慢" in res.output
    assert counts(path)[0] == 0
    assert (tmp_path / "draft" / "2024-05-monthly.agenda.html").exists()
    res = run("agenda", "--date", "2024-05-09", "--kind", "monthly", "--convene", "--db", path,
              "--actor", "li", "-o", str(tmp_path / "out"))
    assert res.exit_code == 0, res.output
    assert "已召开会议 2024-05-monthly" in res.output
    assert (tmp_path / "out" / "2024-05-monthly.agenda.pdf").exists()
    # a decisions file missing an item and naming an unknown decision: refused, nothing written
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"decisions:\n  - {{case: {ids['a']}, decision: postpone}}\n",
                   encoding="utf-8")
    before = counts(path)
    res = run("minutes", "2024-05-monthly", "--decisions", str(bad), "--attendees", "张",
              "--db", path, lang="en")
    assert res.exit_code == 2, res.output
    assert "postpone" in res.output and "has no decision" in res.output
    assert counts(path) == before
    good = tmp_path / "d.csv"
    good.write_text("case,decision,due,department,resolved,reason\n"
                    f"{ids['a']},extend,2024-08-31,,,需联合发文\n"
                    f"{ids['b']},assign,,重庆市交通局,,\n", encoding="utf-8")
    res = run("minutes", "2024-05-monthly", "--decisions", str(good), "--attendees",
              "张主任，李处长", "--db", path, "-o", str(tmp_path / "out"))
    assert res.exit_code == 0, res.output
    assert "已记录会议 2024-05-monthly 的纪要：2 项决定" in res.output
    assert counts(path) == (before[0], before[1] + 1, before[2] + 2)
    assert (tmp_path / "out" / "2024-05-monthly.minutes.en.pdf").exists()
    res = run("show", "2024-05-monthly", "--db", path, lang="en")
    assert res.exit_code == 0 and "new due date 2024-08-31" in res.output
    res = run("list", "--db", path)
    assert res.exit_code == 0 and "2024-05-monthly" in res.output and "有" in res.output
    res = run("agenda", "--date", "2024-05-09", "--kind", "weekly", "--convene", "--db", path)
    assert res.exit_code == 2 and "weekly" in res.output
    res = run("show", "2024-13-monthly", "--db", path, lang="en")
    assert res.exit_code == 2 and "there is no meeting 2024-13-monthly" in res.output


def test_read_decisions_files(tmp_path) -> None:
    from cocity.govern.meetings import MeetingError, read_decisions

    full = tmp_path / "d.yaml"
    full.write_text("attendees: [张主任, 李处长]\nsummary: 审议两件\ndecisions:\n"
                    "  - {case: 3, decision: resolve, resolved: 否}\n"
                    "  - {case: 4, decision: extend, due: 2024-09-30, reason: 待批复}\n",
                    encoding="utf-8")
    got = read_decisions(full)
    assert got.attendees == ["张主任", "李处长"] and got.summary == "审议两件"
    assert got.decisions == [{"case": "3", "decision": "resolve", "resolved": "否"},
                             {"case": "4", "decision": "extend", "due": "2024-09-30",
                              "reason": "待批复"}]
    bare = tmp_path / "l.yaml"
    bare.write_text("- {case: 3, decision: defer}\n", encoding="utf-8")
    assert read_decisions(bare).decisions == [{"case": "3", "decision": "defer"}]
    for name, text in (("x.yaml", "decisionz: []\n"), ("y.yaml", "just text\n"),
                       ("z.csv", "id,what\n3,defer\n")):
        bad = tmp_path / name
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(MeetingError, match=name.replace(".", r"\.")):
            read_decisions(bad)
    with pytest.raises(MeetingError, match="missing"):
        read_decisions(tmp_path / "missing.yaml")
