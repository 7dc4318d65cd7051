"""The committee's meetings on both databases: convening with the derived agenda, minutes
applying one decision per item in one transaction, refusals that write nothing, escalation to
the quarterly meeting and to the leading group."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from cocity.govern import InvalidTransitionError, Register
from cocity.govern import meetings as M
from cocity.records import Records
from cocity.records.schema import govern_agenda, govern_events, govern_meetings, govern_minutes

WHO = {"actor": "li", "role": "secretary"}


@pytest.fixture(scope="session")
def unit_index():
    from cocity.data.units import UnitIndex
    from cocity.datasets import open_store

    return UnitIndex(open_store().units())


@pytest.fixture
def register(records: Records, unit_index) -> Register:
    return Register(records, units=unit_index)


def working_case(register: Register, key: str, *, title: str, opened: str = "2024-03-01",
                 due: str = "2024-06-30", state: str = "in_progress",
                 simulated: bool = False) -> int:
    """A case moved to ``state`` (through the machine's states) on its opening date."""
    case = register.add_case(
        title, description="", category="医疗", units=["成都", "重庆市"],
        lead_department="四川省医保局", source="hotline", opened=opened, due=due, key=key,
        reason="热线转办", simulated=simulated, **WHO)
    for to in ("accepted", "in_progress")[: ("registered", "accepted",
                                             "in_progress").index(state)]:
        case = register.transition(case.id, to, expected_version=case.version, reason="受理",
                                   effective=opened, **WHO)
    return case.id


def counts(records: Records) -> tuple[int, ...]:
    with records.read() as conn:
        return tuple(int(conn.execute(sa.select(sa.func.count()).select_from(tbl)).scalar_one())
                     for tbl in (govern_meetings, govern_agenda, govern_minutes, govern_events))


def six_cases(register: Register) -> dict[str, int]:
    return {
        "extend": working_case(register, "c1", title="异地就医报销慢"),
        "assign": working_case(register, "c2", title="跨省公交卡不通用"),
        "resolve": working_case(register, "c3", title="社保转移手续繁琐"),
        "escalate": working_case(register, "c4", title="学籍互认难"),
        "defer": working_case(register, "c5", title="公积金异地贷款难"),
        "continue": working_case(register, "c6", title="养老认证需回原籍",
                                 state="registered"),
    }


def decide(ids: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"case": ids["extend"], "decision": "extend", "due": "2024-09-30",
         "reason": "需两地联合发文"},
        {"case": ids["assign"], "decision": "assign", "department": "重庆市交通局"},
        {"case": ids["resolve"], "decision": "resolve", "resolved": "是"},
        {"case": ids["escalate"], "decision": "escalate"},
        {"case": ids["defer"], "decision": "defer", "reason": "待数据"},
        {"case": ids["continue"], "decision": "continue"},
    ]


def test_convene_stores_the_derived_agenda_idempotently(register) -> None:
    ids = six_cases(register)
    late = working_case(register, "late", title="后来的案件", opened="2024-06-01")
    preview = M.agenda(register, date="2024-05-09", kind="monthly")
    assert [i.case_id for i in preview] == sorted(ids.values())
    assert late not in [i.case_id for i in preview]
    meeting = M.convene(register, date="2024-05-09", kind="monthly", reason="五月工作会议",
                        **WHO)
    assert (meeting.key, meeting.kind, meeting.date, meeting.replayed) == (
        "2024-05-monthly", "monthly", "2024-05-09", False)
    assert [(i.pos, i.case_id, i.reasons) for i in meeting.items] == [
        (n + 1, cid, ("review",)) for n, cid in enumerate(sorted(ids.values()))]
    assert meeting.items[0].title == "异地就医报销慢"
    before = counts(register.records)
    again = M.convene(register, date="2024-05-09", kind="monthly", reason="五月工作会议",
                      **WHO)
    assert again.replayed and again.id == meeting.id and again.items == meeting.items
    with pytest.raises(M.MeetingError, match="2024-05-monthly"):
        M.convene(register, date="2024-05-16", kind="monthly", key="2024-05-monthly",
                  reason="改期", **WHO)
    with pytest.raises(M.MeetingError, match="weekly"):
        M.convene(register, date="2024-05-16", kind="weekly", reason="x", **WHO)
    assert counts(register.records) == before
    assert [m.key for m in M.meetings(register)] == ["2024-05-monthly"]


def test_minutes_apply_every_decision_in_one_go(register) -> None:
    ids = six_cases(register)
    meeting = M.convene(register, date="2024-05-09", kind="monthly", reason="五月工作会议",
                        **WHO)
    before = counts(register.records)
    done = M.record_minutes(register, meeting.key, decisions=decide(ids),
                            attendees=["张主任", "李处长"], summary="审议六件", reason="纪要",
                            **WHO)
    assert done.minutes is not None and not done.replayed
    assert [d.decision for d in done.minutes.decisions] == [
        "extend", "assign", "resolve", "escalate", "defer", "continue"]
    # five events (continue writes none), the minutes row; nothing else
    assert counts(register.records) == (before[0], before[1], before[2] + 1, before[3] + 5)
    ev = register.events()
    mine = ev[ev["meeting_id"] == meeting.id]
    assert set(mine["effective"]) == {"2024-05-09"}
    got = {int(r.case_id): (r.kind, r.to_state) for r in mine.itertuples()}
    assert got == {ids["extend"]: ("extend", "in_progress"),
                   ids["assign"]: ("assign", "in_progress"),
                   ids["resolve"]: ("state", "closed"),
                   ids["escalate"]: ("escalate", "in_progress"),
                   ids["defer"]: ("defer", "in_progress")}
    cases = register.cases(as_of="2024-05-09").set_index("id")
    assert cases.loc[ids["extend"], "due_in_force"] == "2024-09-30"
    closed = register.case(ids["resolve"]).history[-1]
    assert (closed.to_state, closed.resolved) == ("closed", True)
    assigned = register.case(ids["assign"]).history[-1]
    assert assigned.detail == {"lead_department": "重庆市交通局"}
    escalated = register.case(ids["escalate"]).history[-1]
    assert escalated.detail == {"to": "quarterly"}
    assert register.case(ids["extend"]).history[-1].reason == "需两地联合发文"
    # the meeting shows its cases as it saw them; the next agenda sees the decisions
    assert done.item(ids["assign"]).lead_department == "四川省医保局"
    assert done.item(ids["extend"]).due_in_force == "2024-06-30"
    later = {i.case_id: i for i in M.agenda(register, date="2024-06-13", kind="monthly")}
    assert later[ids["assign"]].lead_department == "重庆市交通局"
    assert later[ids["extend"]].due_in_force == "2024-09-30"
    assert ids["resolve"] not in later and len(later) == 5
    # the same minutes again: replayed, nothing written; other minutes: refused
    after = counts(register.records)
    same = M.record_minutes(register, meeting.id, decisions=decide(ids),
                            attendees=["张主任", "李处长"], summary="审议六件", reason="纪要",
                            **WHO)
    assert same.replayed and same.minutes == done.minutes
    with pytest.raises(M.MinutesExistError, match="2024-05-monthly"):
        M.record_minutes(register, meeting.key, decisions=decide(ids), attendees=["张主任"],
                         summary="另一份", reason="纪要", **WHO)
    assert counts(register.records) == after


def test_refused_decisions_write_nothing(register) -> None:
    ids = six_cases(register)
    other = working_case(register, "other", title="不在议程上", opened="2024-06-01")
    meeting = M.convene(register, date="2024-05-09", kind="monthly", reason="五月", **WHO)
    before = counts(register.records)
    bad = decide(ids)[1:]                                  # the extension's item is missing
    bad.append({"case": other, "decision": "defer"})       # not on the agenda
    bad[0] = {"case": ids["assign"], "decision": "assign"}  # no department
    bad.append({"case": ids["defer"], "decision": "defer"})  # twice
    bad[1] = {"case": ids["resolve"], "decision": "close", "resolved": "yes"}
    with pytest.raises(M.MinutesError, match="5") as err:
        M.record_minutes(register, meeting.key, decisions=bad, attendees=["张"], summary="",
                         reason="纪要", **WHO)
    text = str(err.value)
    assert f"案件 {other} 不在会议 2024-05-monthly 的议程上" in text
    assert "缺少 department" in text and "close" in text
    assert f"案件 {ids['defer']} 有不止一项决定" in text
    assert f"议程事项案件 {ids['extend']}「异地就医报销慢」没有决定" in text
    assert counts(register.records) == before
    # the register refuses one decision (closing a case not in progress) → all rolled back
    refused = decide(ids)
    refused[5] = {"case": ids["continue"], "decision": "resolve", "resolved": "no"}
    with pytest.raises(InvalidTransitionError, match=str(ids["continue"])):
        M.record_minutes(register, meeting.key, decisions=refused, attendees=["张"],
                         summary="", reason="纪要", **WHO)
    # an extension not later than the due date in force, decided last
    late = decide(ids)
    late.append(late.pop(0) | {"due": "2024-06-01"})
    with pytest.raises(InvalidTransitionError, match="2024-06-01"):
        M.record_minutes(register, meeting.key, decisions=late, attendees=["张"], summary="",
                         reason="纪要", **WHO)
    assert counts(register.records) == before
    assert M.meeting(register, meeting.key).minutes is None


def test_escalation_to_the_quarterly_meeting_and_the_leading_group(register) -> None:
    a = working_case(register, "a", title="跨市医保结算", due="2024-12-31")
    b = working_case(register, "b", title="两地户籍迁移", due="2024-12-31")
    c = working_case(register, "c", title="逾期的案件", due="2024-04-30")
    d = working_case(register, "d", title="按期推进的案件", due="2024-12-31")
    april = M.convene(register, date="2024-04-11", kind="monthly", reason="四月", **WHO)
    M.record_minutes(register, april.key, decisions=[
        {"case": a, "decision": "escalate"}, {"case": b, "decision": "defer"},
        {"case": c, "decision": "continue"}, {"case": d, "decision": "continue"}],
        attendees=["张"], summary="", reason="纪要", **WHO)
    may = M.convene(register, date="2024-05-09", kind="monthly", reason="五月", **WHO)
    assert [(i.case_id, i.item) for i in may.items] == [
        (a, "review"), (b, "review"), (c, "overdue+review"), (d, "review")]
    M.record_minutes(register, may.key, decisions=[
        {"case": a, "decision": "continue"}, {"case": b, "decision": "defer"},
        {"case": c, "decision": "continue"}, {"case": d, "decision": "continue"}],
        attendees=["张"], summary="", reason="纪要", **WHO)
    q2 = M.convene(register, date="2024-06-27", kind="quarterly", reason="二季度", **WHO)
    assert [(i.case_id, i.reasons) for i in q2.items] == [
        (a, ("escalated",)), (b, ("deferred",)), (c, ("overdue",)), (d, ("review",))]
    done = M.record_minutes(register, q2.key, decisions=[
        {"case": a, "decision": "resolve", "resolved": "no"},
        {"case": b, "decision": "extend", "due": "2025-03-31", "reason": "需省级协调"},
        {"case": c, "decision": "escalate"}, {"case": d, "decision": "defer"}],
        attendees=["王"], summary="", reason="纪要", **WHO)
    assert done.minutes is not None
    flags = {x.case: x.leading_group for x in done.minutes.decisions}
    assert flags == {a: False, b: True, c: False, d: False}
    ev = register.events()
    lead = ev[(ev["kind"] == "escalate") & ev["detail"].str.contains("leading_group")]
    assert sorted(int(x) for x in lead["case_id"]) == sorted([b, c])
    assert set(lead["meeting_id"]) == {q2.id}
    # after the coordination meeting the counts restart: b is not "deferred" any more
    q3 = M.agenda(register, date="2024-09-26", kind="quarterly")
    assert [(i.case_id, i.reasons) for i in q3] == [(c, ("overdue",)), (b, ("review",)),
                                                   (d, ("review",))]


def test_two_writers_of_the_same_meetings_minutes(register, records_url) -> None:
    """Two writers at once (separate connections) record the same minutes: one writes, the
    other gets them replayed; a third writer's different minutes are refused."""
    import threading

    from cocity.records import open_records

    ids = six_cases(register)
    meeting = M.convene(register, date="2024-05-09", kind="monthly", reason="五月", **WHO)
    results: list[Any] = []

    def write(summary: str) -> None:
        records = open_records(records_url)
        try:
            results.append(M.record_minutes(
                Register(records, units=register.units), meeting.key, decisions=decide(ids),
                attendees=["张"], summary=summary, reason="纪要", **WHO))
        except M.MinutesExistError as exc:
            results.append(exc)
        finally:
            records.close()

    threads = [threading.Thread(target=write, args=("同一份",)) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(r.replayed for r in results) == [False, True]
    ev = register.events()
    assert int((ev["meeting_id"] == meeting.id).sum()) == 5
    results.clear()
    other = threading.Thread(target=write, args=("另一份",))
    other.start()
    other.join()
    assert isinstance(results[0], M.MinutesExistError)
    assert int((register.events()["meeting_id"] == meeting.id).sum()) == 5


def test_a_case_closed_after_convening_is_not_sent_to_the_leading_group(register) -> None:
    c = working_case(register, "c", title="逾期的案件", due="2024-04-30")
    q2 = M.convene(register, date="2024-06-27", kind="quarterly", reason="二季度", **WHO)
    assert [(i.case_id, i.reasons) for i in q2.items] == [(c, ("overdue",))]
    case = register.case(c).case
    register.transition(c, "closed", expected_version=case.version, resolved=True,
                        effective="2024-06-27", reason="会前办结", **WHO)
    # closed meanwhile: only "continue" (no event) fits; nothing is left for the leading group
    done = M.record_minutes(register, q2.key, decisions=[{"case": c, "decision": "continue"}],
                            attendees=["王"], summary="", reason="纪要", **WHO)
    assert done.minutes is not None
    assert [(d.decision, d.leading_group) for d in done.minutes.decisions] == [
        ("continue", False)]
    assert not (register.events()["kind"] == "escalate").any()


def test_identical_minutes_replay_after_a_later_change(register) -> None:
    c = working_case(register, "c", title="逾期的案件", due="2024-04-30")
    q2 = M.convene(register, date="2024-06-27", kind="quarterly", reason="二季度", **WHO)
    given = {"decisions": [{"case": c, "decision": "continue"}], "attendees": ["王"],
             "summary": "", "reason": "纪要", **WHO}
    done = M.record_minutes(register, q2.key, **given)
    assert done.minutes is not None and done.minutes.decisions[0].leading_group
    case = register.case(c).case
    register.transition(c, "closed", expected_version=case.version, resolved=False,
                        effective="2024-07-15", reason="会后办结", **WHO)
    before = len(register.events())
    again = M.record_minutes(register, q2.key, **given)
    assert again.replayed and again.minutes == done.minutes
    assert len(register.events()) == before
