"""The committee's case register on both databases (SQLite and PostgreSQL): cases, the event
log, the state machine, idempotency, refusals that write nothing, optimistic concurrency, and
what the database itself refuses past the register's code."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from cocity.govern import (
    AppendOnlyError,
    DueBeforeOpenedError,
    DuplicateCaseError,
    InvalidCaseError,
    InvalidTransitionError,
    Register,
    UnknownCaseError,
    UnknownUnitError,
    VersionConflictError,
    replay,
)
from cocity.i18n import use_lang
from cocity.records import Records, open_records
from cocity.records.schema import govern_case_units, govern_cases, govern_events

WHO = {"actor": "zhang", "role": "secretary"}


@pytest.fixture
def register(records: Records, unit_index) -> Register:
    return Register(records, units=unit_index)


def new_case(register: Register, key: str = "hotline-1", **change: Any):
    fields: dict[str, Any] = {
        "description": "参保人在重庆就医、回成都报销需往返两地",
        "category": "医疗", "units": ["成都", "重庆市"], "lead_department": "四川省医保局",
        "co_departments": ["重庆市医保局"], "source": "hotline", "opened": "2024-03-01",
        "due": "2024-05-31", "priority": "high", "reason": "热线转办"}
    fields.update(change)
    title = fields.pop("title", "异地就医报销慢")
    who = {**WHO, **fields.pop("who", {})}
    return register.add_case(title, key=key, **fields, **who)


def counts(records: Records) -> tuple[int, ...]:
    """How many cases, case units and events the database holds."""
    with records.read() as conn:
        return tuple(int(conn.execute(sa.select(sa.func.count()).select_from(tbl)).scalar_one())
                     for tbl in (govern_cases, govern_case_units, govern_events))


def test_a_case_is_registered_with_resolved_units_and_its_first_event(register) -> None:
    case = new_case(register)
    assert (case.category, case.source, case.priority) == ("health", "hotline", "high")
    assert case.units == ("510100", register.units.resolve("重庆市"))
    assert case.units[0] == "510100"  # 成都市
    assert (case.state, case.version, case.replayed) == ("registered", 1, False)
    assert (case.opened, case.due) == (dt.date(2024, 3, 1), dt.date(2024, 5, 31))
    assert case.co_departments == ("重庆市医保局",)
    record = register.case(case.id)
    assert record.case == case
    assert [(e.seq, e.from_state, e.to_state, e.actor, e.reason, e.resolved)
            for e in record.history] == [(1, None, "registered", "zhang", "热线转办", None)]
    assert counts(register.records) == (1, 2, 1)


def test_the_same_key_and_body_returns_the_case_another_body_is_refused(register) -> None:
    first = new_case(register)
    again = new_case(register)
    assert again.id == first.id
    assert again.replayed
    before = counts(register.records)
    with pytest.raises(DuplicateCaseError, match=r"幂等键 hotline-1 .*案件 1"):
        new_case(register, title="另一问题")
    with use_lang("en"), pytest.raises(DuplicateCaseError, match=r"key hotline-1 .*case 1"):
        new_case(register, due="2024-06-30")
    assert counts(register.records) == before


@pytest.mark.parametrize(("change", "error", "match"), [
    ({"units": ["成都", "不存在市"]}, UnknownUnitError, "不存在市"),
    ({"units": ["成都", "510100"]}, UnknownUnitError, r"510100 \(510100\) is listed twice"),
    ({"units": []}, InvalidCaseError, "units"),
    ({"due": "2024-02-28"}, DueBeforeOpenedError, r"2024-02-28.*2024-03-01"),
    ({"opened": "2024-13-01"}, InvalidCaseError, r"opened = 2024-13-01 is not a date"),
    ({"category": "住房"}, InvalidCaseError, r"category = 住房 .*education"),
    ({"source": "email"}, InvalidCaseError, r"source = email .*hotline"),
    ({"priority": "urgent"}, InvalidCaseError, r"priority = urgent"),
    ({"lead_department": " "}, InvalidCaseError, r"lead_department must not be empty"),
    ({"who": {"actor": ""}}, InvalidCaseError, r"actor must not be empty"),
    ({"reason": ""}, InvalidCaseError, r"reason must not be empty"),
])
def test_an_invalid_case_is_refused_and_nothing_is_written(register, change, error,
                                                           match) -> None:
    with use_lang("en"), pytest.raises(error, match=match):
        new_case(register, **change)
    assert counts(register.records) == (0, 0, 0)


def test_names_of_the_vocabularies_are_accepted_in_both_languages(register) -> None:
    case = new_case(register, category="Social Security", source="公众提交", priority="低")
    assert (case.category, case.source, case.priority) == ("social_security", "public", "low")
    assert case.co_departments == ("重庆市医保局",)
    one = new_case(register, key="one-department", co_departments="重庆市人社局")
    assert one.co_departments == ("重庆市人社局",)


def test_a_case_goes_through_its_life_and_closing_is_not_solving(register) -> None:
    case = new_case(register)
    case = register.transition(case.id, "受理", expected_version=1, reason="受理", **WHO)
    case = register.transition(case.id, "in progress", expected_version=2, reason="办理",
                               **WHO)
    case = register.transition(case.id, "closed", expected_version=3, resolved=False,
                               reason="办结，但未解决：需省级协调", **WHO)
    assert (case.state, case.version) == ("closed", 4)
    history = register.case(case.id).history
    assert [(e.from_state, e.to_state, e.resolved) for e in history] == [
        (None, "registered", None), ("registered", "accepted", None),
        ("accepted", "in_progress", None), ("in_progress", "closed", False)]
    events = register.events()
    assert replay(events.to_dict("records")) == {case.id: "closed"}
    assert events["resolved"].tolist()[-1] is False


def test_overdue_is_derived_from_the_due_date_and_an_open_state(register) -> None:
    a = new_case(register, key="a", due="2024-05-31")
    b = new_case(register, key="b", due="2024-05-31")
    register.transition(b.id, "withdrawn", expected_version=1, reason="撤回", **WHO)
    on_due = register.cases(as_of="2024-05-31")
    after = register.cases(as_of=dt.date(2024, 6, 1))
    assert on_due["overdue"].tolist() == [False, False]
    assert after["overdue"].tolist() == [True, False]  # a withdrawn case is not overdue
    assert after["state"].tolist() == ["registered", "withdrawn"]
    assert after["units"].tolist()[0] == ";".join(a.units)
    assert register.state_counts() == {"registered": 1, "accepted": 0, "in_progress": 0,
                                       "closed": 0, "returned": 0, "withdrawn": 1}


@pytest.mark.parametrize(("steps", "target", "extra", "match"), [
    ([], "closed", {"resolved": True}, r"cannot go from “登记 registered” to “已办结 closed”"),
    ([("withdrawn", None)], "accepted", {},
     r"from “已撤销 withdrawn” to “受理 accepted” — allowed now: —"),
    ([], "solved", {}, r"solved is not a case state"),
    ([("accepted", None), ("in_progress", None)], "closed", {},
     r"must say whether the problem was resolved"),
    ([], "accepted", {"resolved": True}, r"only closing records"),
])
def test_an_invalid_transition_is_refused_and_nothing_is_written(register, steps, target,
                                                                 extra, match) -> None:
    case = new_case(register)
    for state, resolved in steps:
        case = register.transition(case.id, state, expected_version=case.version,
                                   resolved=resolved, reason="步骤", **WHO)
    before = counts(register.records)
    with use_lang("en"), pytest.raises(InvalidTransitionError, match=match):
        register.transition(case.id, target, expected_version=case.version, reason="试", **WHO,
                            **extra)
    assert counts(register.records) == before
    assert register.case(case.id).case == case


def test_a_returned_case_may_be_registered_again(register) -> None:
    case = new_case(register)
    case = register.transition(case.id, "退回", expected_version=1, reason="材料不全", **WHO)
    case = register.transition(case.id, "登记", expected_version=2, reason="补齐材料", **WHO)
    assert (case.state, case.version) == ("registered", 3)


def test_an_unknown_case_is_refused(register) -> None:
    with use_lang("en"), pytest.raises(UnknownCaseError, match=r"there is no case 42"):
        register.transition(42, "accepted", expected_version=1, reason="x", **WHO)
    with pytest.raises(UnknownCaseError, match=r"没有编号为 42 的案件"):
        register.case(42)


def test_a_stale_version_is_refused_two_writers(records_url: str, unit_index) -> None:
    with open_records(records_url) as one, open_records(records_url) as two:
        a, b = Register(one, units=unit_index), Register(two, units=unit_index)
        case = new_case(a)
        seen_by_b = b.case(case.id).case
        a.transition(case.id, "accepted", expected_version=case.version, reason="受理", **WHO)
        with use_lang("en"), pytest.raises(
                VersionConflictError,
                match=r"case 1 was changed by someone else: you saw version 1, it is now "
                      r"version 2 \(state: 受理 accepted\)"):
            b.transition(case.id, "withdrawn", expected_version=seen_by_b.version,
                         reason="撤销", **WHO)
        assert [e.to_state for e in b.case(case.id).history] == ["registered", "accepted"]


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at the same moment, one thread each; their results or errors."""
    barrier = threading.Barrier(len(calls))
    out: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = calls[i]()
        except Exception as exc:  # the outcome is what the test inspects
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out


def test_concurrent_writers_on_one_case_lose_no_update(records_url: str, unit_index) -> None:
    with open_records(records_url) as one, open_records(records_url) as two:
        a, b = Register(one, units=unit_index), Register(two, units=unit_index)
        case = new_case(a)
        for _ in range(5):
            v = a.case(case.id).case.version
            state = a.case(case.id).case.state
            nxt = {"registered": ("accepted", "returned"), "accepted": ("in_progress",
                   "returned"), "returned": ("registered", "registered")}[state]
            results = run_together([
                lambda r=a, s=nxt[0], v=v: r.transition(case.id, s, expected_version=v,
                                                        reason="甲", **WHO),
                lambda r=b, s=nxt[1], v=v: r.transition(case.id, s, expected_version=v,
                                                        reason="乙", **WHO)])
            won = [r for r in results if not isinstance(r, Exception)]
            lost = [r for r in results if isinstance(r, Exception)]
            assert len(won) == 1
            assert len(lost) == 1
            assert isinstance(lost[0], VersionConflictError)
            assert won[0].version == v + 1
            if won[0].state == "in_progress":
                break
        events = a.events()
        assert events["seq"].tolist() == list(range(1, len(events) + 1))
        assert replay(events.to_dict("records")) == {case.id: a.case(case.id).case.state}


# -- what the database refuses past the register's code ------------------------------------
def raw_refused(records: Records, match: str, statement: Any) -> None:
    with pytest.raises(sa.exc.DBAPIError, match=match), records.transaction() as conn:
        conn.execute(statement)


def test_events_and_case_units_are_append_only_in_the_database(register) -> None:
    case = new_case(register)
    records = register.records
    ev, cu = govern_events, govern_case_units
    raw_refused(records, "cocity:append_only govern_events",
                ev.update().values(reason="改写").where(ev.c.case_id == case.id))
    raw_refused(records, "cocity:append_only govern_events", ev.delete())
    raw_refused(records, "cocity:append_only govern_case_units",
                cu.update().values(unit_code="500101"))
    raw_refused(records, "cocity:append_only govern_case_units", cu.delete())
    raw_refused(records, "cocity:append_only govern_cases", govern_cases.delete())
    assert counts(records) == (1, 2, 1)
    assert register.case(case.id).case == case


def test_a_case_row_changes_only_by_an_appended_event(register) -> None:
    case = new_case(register)
    records = register.records
    c, ev = govern_cases, govern_events
    raw_refused(records, "cocity:govern_case_fixed",
                c.update().values(state="closed", version=2))
    raw_refused(records, "cocity:govern_case_fixed", c.update().values(title="改题"))
    raw_refused(records, "cocity:govern_case_fixed", c.update().values(due="2030-01-01"))
    base = {"case_id": case.id, "actor": "raw", "role": "sql", "time": "2024-01-01T00:00:00Z",
            "reason": "raw", "resolved": None, "kind": "state", "effective": "2024-01-01"}
    # a gap in the sequence, and a change from a state the case is not in
    raw_refused(records, "cocity:govern_chain",
                ev.insert().values(seq=3, from_state="registered", to_state="accepted", **base))
    raw_refused(records, "cocity:govern_chain",
                ev.insert().values(seq=2, from_state="accepted", to_state="in_progress",
                                   **base))
    raw_refused(records, "ck_govern_events_resolved",
                ev.insert().values(**{**base, "seq": 2, "from_state": "registered",
                                      "to_state": "closed"}))
    # event kinds: a same-state event called a change of state, a state change called
    # something else, an extension without its date, no effective date
    raw_refused(records, "govern_event_kind|ck_govern_events_kind",
                ev.insert().values(**{**base, "seq": 2, "from_state": "registered",
                                      "to_state": "registered"}))
    raw_refused(records, "govern_event_kind|ck_govern_events_kind",
                ev.insert().values(**{**base, "seq": 2, "from_state": "registered",
                                      "to_state": "accepted", "kind": "defer"}))
    raw_refused(records, "govern_event_kind|ck_govern_events_kind",
                ev.insert().values(**{**base, "seq": 2, "from_state": "registered",
                                      "to_state": "registered", "kind": "extend"}))
    raw_refused(records, "govern_event_kind|ck_govern_events_kind|effective",
                ev.insert().values(**{**base, "seq": 2, "from_state": "registered",
                                      "to_state": "accepted", "effective": None}))
    assert register.case(case.id).case == case
    with records.transaction() as conn:  # a well-formed event moves the case (trigger)
        conn.execute(ev.insert().values(seq=2, from_state="registered", to_state="accepted",
                                        **base))
    assert (register.case(case.id).case.state, register.case(case.id).case.version) == (
        "accepted", 2)


def test_the_database_refuses_a_due_date_before_opening(register) -> None:
    row = {"key": "raw", "body_sha": "0" * 64, "title": "t", "description": "", "category":
           "other", "source": "public", "priority": "low", "lead_department": "d",
           "co_departments": "[]", "opened": "2024-03-01", "due": "2024-02-01", "actor": "a",
           "role": "r", "reason": "x", "created": "2024-03-01T00:00:00Z",
           "state": "registered", "version": 0}
    raw_refused(register.records, "ck_govern_cases_due", govern_cases.insert().values(**row))


def test_two_writers_adding_the_same_key_at_once_register_one_case(records_url: str,
                                                                   unit_index) -> None:
    with open_records(records_url) as one, open_records(records_url) as two:
        a, b = Register(one, units=unit_index), Register(two, units=unit_index)
        results = run_together([lambda: new_case(a, key="same"), lambda: new_case(b, key="same")])
        assert not [r for r in results if isinstance(r, Exception)]
        assert {r.id for r in results} == {1}
        assert sorted(r.replayed for r in results) == [False, True]
        assert counts(one) == (1, 2, 1)


def test_a_change_of_state_with_a_key_replays_after_a_lost_reply(register) -> None:
    case = new_case(register)
    done = register.transition(case.id, "accepted", expected_version=1, reason="受理",
                               key="m-2024-03-accept-1", **WHO)
    again = register.transition(case.id, "accepted", expected_version=1, reason="受理",
                                key="m-2024-03-accept-1", **WHO)  # the retry: no conflict
    assert (done.replayed, again.replayed) == (False, True)
    assert (again.id, again.state, again.version) == (case.id, "accepted", 2)
    before = counts(register.records)
    with use_lang("en"), pytest.raises(
            DuplicateCaseError, match=r"key m-2024-03-accept-1 was already used for a "
                                      r"different change of state of case 1"):
        register.transition(case.id, "withdrawn", expected_version=2, reason="撤销",
                            key="m-2024-03-accept-1", **WHO)
    assert counts(register.records) == before
    with register.records.read() as conn:
        keys = conn.execute(sa.select(govern_events.c.seq, govern_events.c.key).order_by(
            govern_events.c.seq)).all()
    assert [tuple(k) for k in keys] == [(1, None), (2, "m-2024-03-accept-1")]


def test_two_writers_sending_one_keyed_change_at_once_append_one_event(records_url: str,
                                                                       unit_index) -> None:
    with open_records(records_url) as one, open_records(records_url) as two:
        a, b = Register(one, units=unit_index), Register(two, units=unit_index)
        case = new_case(a)
        results = run_together([
            lambda r=r: r.transition(case.id, "accepted", expected_version=1, reason="受理",
                                     key="k-accept", **WHO) for r in (a, b)])
        assert not [r for r in results if isinstance(r, Exception)]
        assert sorted(r.replayed for r in results) == [False, True]
        assert a.events()["seq"].tolist() == [1, 2]


def test_the_migration_goes_down_to_the_fund_alone_and_up_again(records, register) -> None:
    from alembic import command

    from cocity.records.store import _alembic_config

    new_case(register)
    with records.transaction() as conn:
        command.downgrade(_alembic_config(conn), "0001_fund_ledger")
    assert records.revision() == "0001_fund_ledger"
    with records.read() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert not {t for t in tables if t.startswith("govern_")}
    assert "fund_entries" in tables
    records.migrate()
    assert counts(records) == (0, 0, 0)
    assert new_case(register).version == 1


def test_the_database_refusals_become_bilingual_register_errors(register) -> None:
    """What the code checks first never reaches the database; if raw writes do, the
    register's write path names the refusal (here through its transaction runner)."""
    case = new_case(register)
    ev = govern_events
    with use_lang("en"), pytest.raises(AppendOnlyError, match=r"govern_events: events are "
                                                              r"append-only"):
        register._write(lambda c: c.execute(ev.delete()))
    with pytest.raises(AppendOnlyError, match=r"govern_cases"):
        register._write(lambda c: c.execute(govern_cases.update().values(state="closed")))
    with use_lang("en"), pytest.raises(VersionConflictError, match=r"event sequence conflict"):
        register._write(lambda c: c.execute(ev.insert().values(
            case_id=case.id, seq=5, from_state="registered", to_state="accepted", actor="a",
            role="r", time="t", reason="x", kind="state", effective="2024-01-01")))
    with use_lang("en"), pytest.raises(InvalidTransitionError, match=r"breaks its rules"):
        register._write(lambda c: c.execute(ev.insert().values(
            case_id=case.id, seq=2, from_state="registered", to_state="registered",
            actor="a", role="r", time="t", reason="x", kind="state", effective="2024-01-01")))
    assert counts(register.records) == (1, 2, 1)
