"""Same-state events (assign, extend, defer, escalate, follow-up), effective dates and the
due date in force, on both databases; the replay of a log with every kind of event."""

from __future__ import annotations

import datetime as dt

import pytest

from cocity.govern import InvalidCaseError, InvalidTransitionError, Register, replay
from cocity.i18n import use_lang
from cocity.records import Records, head_revision
from tests.test_govern_register import WHO, counts, new_case


@pytest.fixture
def register(records: Records, unit_index) -> Register:
    return Register(records, units=unit_index)


def test_same_state_events_keep_the_state_and_extend_moves_the_due_date(register) -> None:
    case = new_case(register)  # opened 2024-03-01, due 2024-05-31
    case = register.transition(case.id, "受理", expected_version=1, reason="受理",
                               effective="2024-03-05", **WHO)
    case = register.record(case.id, "assign", expected_version=2, reason="改由重庆牵头",
                           detail={"lead_department": "重庆市医保局"},
                           effective="2024-03-20", **WHO)
    case = register.record(case.id, "extend", expected_version=3, reason="需跨省协商",
                           due="2024-07-31", effective="2024-05-20", **WHO)
    assert (case.state, case.version) == ("accepted", 4)
    assert (case.due, case.due_in_force) == (dt.date(2024, 5, 31), dt.date(2024, 7, 31))
    assert not case.overdue(dt.date(2024, 6, 30)) and case.overdue(dt.date(2024, 8, 1))
    case = register.record(case.id, "escalate", expected_version=4, reason="逾期",
                           detail={"to": "quarterly"}, effective="2024-08-02", **WHO)
    log = register.events()
    assert log["kind"].tolist() == ["state", "state", "assign", "extend", "escalate"]
    assert log["effective"].tolist() == ["2024-03-01", "2024-03-05", "2024-03-20",
                                         "2024-05-20", "2024-08-02"]
    assert log["due"].tolist()[3] == "2024-07-31" and log["due"].isna().sum() == 4
    assert replay(log.to_dict("records")) == {case.id: "accepted"}
    frame = register.cases(as_of="2024-08-01")
    assert frame.loc[0, "due_in_force"] == "2024-07-31" and bool(frame.loc[0, "overdue"])
    history = register.case(case.id).history
    assert history[2].detail == {"lead_department": "重庆市医保局"}
    assert history[4].detail == {"to": "quarterly"}


@pytest.mark.parametrize(("kind", "extra", "match"), [
    ("extend", {}, r"must give the new due date"),
    ("defer", {"due": "2024-09-01"}, r"must give the new due date, and no other"),
    ("extend", {"due": "2024-05-31"}, r"is not after the due date in force 2024-05-31"),
    ("escalate", {"detail": {"to": "mayor"}}, r"must say where it goes"),
    ("assign", {}, r"lead_department must not be empty"),
    ("defer", {"effective": "2024-02-01"}, r"is before its opening"),
    ("reopen", {}, r"is not a kind of case event"),
])
def test_malformed_events_are_refused_and_write_nothing(register, kind, extra, match) -> None:
    case = new_case(register)
    error = InvalidCaseError if kind == "assign" else InvalidTransitionError
    with use_lang("en"), pytest.raises(error, match=match):
        register.record(case.id, kind, expected_version=1, reason="x", **extra, **WHO)
    assert counts(register.records) == (1, 2, 1)


def test_a_finished_case_takes_only_follow_ups_and_dates_never_go_back(register) -> None:
    case = new_case(register)
    for seq, (to, day) in enumerate([("accepted", "2024-03-02"), ("in_progress", "2024-03-03")],
                                    start=1):
        case = register.transition(case.id, to, expected_version=seq, reason="x",
                                   effective=day, **WHO)
    with use_lang("en"), pytest.raises(InvalidTransitionError, match=r"is before its opening "
                                                                     r"or its previous event"):
        register.transition(case.id, "closed", expected_version=3, reason="x", resolved=True,
                            effective="2024-03-01", **WHO)
    case = register.transition(case.id, "closed", expected_version=3, reason="办结",
                               resolved=False, effective="2024-04-30", **WHO)
    with use_lang("en"), pytest.raises(InvalidTransitionError, match=r"cannot take a defer"):
        register.record(case.id, "defer", expected_version=4, reason="x", **WHO)
    case = register.record(case.id, "follow_up", expected_version=4, reason="下一期评价",
                           detail={"grade": "B"}, effective="2025-06-30", **WHO)
    assert (case.state, case.version) == ("closed", 5)
    assert replay(register.events().to_dict("records")) == {case.id: "closed"}


def test_the_default_effective_date_is_today_in_china(records, unit_index) -> None:
    register = Register(records, units=unit_index, clock=lambda: "2024-06-30T17:30:00Z")
    case = new_case(register)
    case = register.transition(case.id, "accepted", expected_version=1, reason="x", **WHO)
    assert register.case(case.id).history[-1].effective == "2024-07-01"  # 01:30 in Beijing


def test_a_register_of_0002_upgrades_with_effective_dates_from_its_events(records) -> None:
    """Events written before 0003 become ``state`` events effective on their time's date;
    the database then refuses a second closing flag but accepts a follow-up on a closed case."""
    import sqlalchemy as sa
    from alembic import command

    from cocity.records.store import _alembic_config

    with records.transaction() as conn:
        command.downgrade(_alembic_config(conn), "0002_govern_cases")
    with records.transaction() as conn:
        conn.execute(sa.text(
            "INSERT INTO govern_cases (key, body_sha, title, description, category, source, "
            "priority, lead_department, co_departments, opened, due, actor, role, reason, "
            "created, state, version) VALUES ('k', 's', 't', '', 'health', 'hotline', "
            "'normal', 'd', '[]', '2024-01-02', '2024-02-01', 'a', 'r', 'x', "
            "'2024-01-02T08:00:00Z', 'registered', 0)"))
        conn.execute(sa.text(
            "INSERT INTO govern_events (case_id, seq, from_state, to_state, actor, role, time, "
            "reason) VALUES (1, 1, NULL, 'registered', 'a', 'r', '2024-01-03T08:00:00Z', 'x')"))
    records.migrate()
    assert records.revision() == head_revision()
    register = Register(records)
    log = register.events()
    assert log[["kind", "effective"]].values.tolist() == [["state", "2024-01-03"]]
    assert register.case(1).case.simulated is False
    for seq, to in enumerate(["accepted", "in_progress"], start=1):
        register.transition(1, to, expected_version=seq, reason="x", actor="a", role="r",
                            effective="2024-01-10")
    register.transition(1, "closed", expected_version=3, reason="x", actor="a", role="r",
                        resolved=True, effective="2024-01-20")
    case = register.record(1, "follow_up", expected_version=4, reason="评价", actor="a",
                           role="r", detail={"grade": "B"}, effective="2025-01-01")
    assert (case.state, case.version) == ("closed", 5)
