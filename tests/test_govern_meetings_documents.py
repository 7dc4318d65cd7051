"""The agenda and minutes documents: bilingual HTML and one PDF per language, with the case
titles, the reasons, the decisions and the simulated flags (read back with pdftotext)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from cocity.govern import GovernError, Register
from cocity.govern import meetings as M
from cocity.records import open_records
from cocity.report.govern_meeting import write_meeting_documents
from tests.test_govern_meetings import WHO, working_case


@pytest.fixture
def register(tmp_path):
    from cocity.data.units import UnitIndex
    from cocity.datasets import open_store

    records = open_records(str(tmp_path / "r.sqlite"))
    yield Register(records, units=UnitIndex(open_store().units()))
    records.close()


def pdf_text(path) -> str:
    exe = shutil.which("pdftotext")
    assert exe is not None, "pdftotext (poppler-utils) is needed"
    text = subprocess.run([exe, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return "".join(text.split())  # table cells wrap: compare without white space


def squeeze(text: str) -> str:
    return "".join(text.split())


def test_agenda_and_minutes_documents(register: Register, tmp_path) -> None:
    a = working_case(register, "a", title="异地就医报销慢", due="2024-04-30")
    b = working_case(register, "b", title="跨省公交卡不通用", simulated=True)
    meeting = M.convene(register, date="2024-05-09", kind="monthly", reason="五月",
                        simulated=True, **WHO)
    out = tmp_path / "docs"
    facts = write_meeting_documents(M.meeting(register, meeting.key), out=out)
    assert sorted(p.name for p in out.iterdir()) == [
        "2024-05-monthly.agenda.en.pdf", "2024-05-monthly.agenda.html",
        "2024-05-monthly.agenda.pdf", "2024-05-monthly.manifest.json"]
    assert facts["minutes"] is False and facts["simulated_cases"] == 1
    html = (out / "2024-05-monthly.agenda.html").read_text(encoding="utf-8")
    for text in ("月度工作会议议程（2024-05-09）",
                 "Agenda of the monthly work meeting (2024-05-09)", "异地就医报销慢",
                 "跨省公交卡不通用", "已逾期", "overdue",
                 "本次会议为模拟演示会议", "simulated demonstration"):
        assert text in html
    zh = pdf_text(out / "2024-05-monthly.agenda.pdf")
    en = pdf_text(out / "2024-05-monthly.agenda.en.pdf")
    for text in ("月度工作会议议程", "异地就医报销慢", "跨省公交卡不通用", "模拟", "例行审议"):
        assert squeeze(text) in zh
    for text in ("Agenda of the monthly work meeting", "异地就医报销慢", "跨省公交卡不通用",
                 "simulated", "routine review"):
        assert squeeze(text) in en
    assert "Agendaofthe" not in zh and "月度工作会议议程" not in en
    M.record_minutes(register, meeting.key, decisions=[
        {"case": a, "decision": "extend", "due": "2024-08-31", "reason": "需联合发文"},
        {"case": b, "decision": "defer"}], attendees=["张主任", "李处长"], summary="审议两件",
        reason="纪要", **WHO)
    facts = write_meeting_documents(M.meeting(register, meeting.key), out=out)
    assert facts["minutes"] is True
    manifest = json.loads((out / "2024-05-monthly.manifest.json").read_text(encoding="utf-8"))
    assert {"2024-05-monthly.minutes.pdf", "2024-05-monthly.minutes.en.pdf",
            "2024-05-monthly.minutes.html"} <= {o["file"] for o in manifest["outputs"].values()}
    zh = pdf_text(out / "2024-05-monthly.minutes.pdf")
    en = pdf_text(out / "2024-05-monthly.minutes.en.pdf")
    for text in ("月度工作会议纪要", "异地就医报销慢", "新期限 2024-08-31", "需联合发文",
                 "暂缓审议", "张主任"):
        assert squeeze(text) in zh
    for text in ("Minutes of the monthly work meeting", "跨省公交卡不通用",
                 "new due date 2024-08-31", "deferred"):
        assert squeeze(text) in en


def test_a_draft_agenda_says_so(register: Register, tmp_path) -> None:
    working_case(register, "a", title="异地就医报销慢")
    items = M.agenda(register, date="2024-06-27", kind="quarterly")
    draft = M.Meeting(id=0, key="2024-Q2-quarterly", kind="quarterly", date="2024-06-27",
                      simulated=False, created="", actor="", role="", reason="",
                      items=tuple(items))
    write_meeting_documents(draft, out=tmp_path, formats=["html"], draft=True)
    html = (tmp_path / "2024-Q2-quarterly.agenda.html").read_text(encoding="utf-8")
    assert "议程草案" in html and "季度问题协调会议程" in html and "异地就医报销慢" in html
    odd = M.Meeting(**{**draft.__dict__, "key": "../二季度 会议"})
    write_meeting_documents(odd, out=tmp_path / "odd", formats=["html"], draft=True)
    assert sorted(p.name for p in (tmp_path / "odd").iterdir()) == [
        "二季度_会议.agenda.html", "二季度_会议.manifest.json"]
    with pytest.raises(GovernError, match="docx"):
        write_meeting_documents(draft, out=tmp_path, formats=["docx"])
