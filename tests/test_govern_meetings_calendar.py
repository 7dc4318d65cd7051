"""The meeting calendar and the agenda rules, by hand-checked cases (pure functions)."""

from __future__ import annotations

import datetime as dt

import pytest

from cocity.govern import calendar as C
from cocity.govern.agenda import agenda_items
from cocity.govern.errors import GovernError
from cocity.spec import SpecError

D = dt.date


def test_default_plan_2024_hand_checked() -> None:
    # monthly: the 2nd Thursday; quarterly: the last Thursday of the quarter's last month,
    # replacing that month's work meeting — 12 meetings in all
    got = [(m.key, m.date) for m in C.plan(2024)]
    assert got == [
        ("2024-01-monthly", D(2024, 1, 11)), ("2024-02-monthly", D(2024, 2, 8)),
        ("2024-Q1-quarterly", D(2024, 3, 28)), ("2024-04-monthly", D(2024, 4, 11)),
        ("2024-05-monthly", D(2024, 5, 9)), ("2024-Q2-quarterly", D(2024, 6, 27)),
        ("2024-07-monthly", D(2024, 7, 11)), ("2024-08-monthly", D(2024, 8, 8)),
        ("2024-Q3-quarterly", D(2024, 9, 26)), ("2024-10-monthly", D(2024, 10, 10)),
        ("2024-11-monthly", D(2024, 11, 14)), ("2024-Q4-quarterly", D(2024, 12, 26))]
    assert not any(m.shifted for m in C.plan(2024))


def test_a_quarterly_meeting_that_does_not_replace_the_monthly_one() -> None:
    rules = {"calendar": {"quarterly": {"replaces_monthly": False, "month_of_quarter": 1,
                                        "rule": "day_of_month", "day": 20}}}
    got = C.plan(2024, rules=rules)
    assert len(got) == 16
    q = [(m.key, m.date, m.nominal) for m in got if m.kind == "quarterly"]
    # 2024-01-20 and 2024-04-20 are Saturdays → the next Monday; 2024-07-20 a Saturday too;
    # 2024-10-20 a Sunday
    assert q == [("2024-Q1-quarterly", D(2024, 1, 22), D(2024, 1, 20)),
                 ("2024-Q2-quarterly", D(2024, 4, 22), D(2024, 4, 20)),
                 ("2024-Q3-quarterly", D(2024, 7, 22), D(2024, 7, 20)),
                 ("2024-Q4-quarterly", D(2024, 10, 21), D(2024, 10, 20))]


def test_a_holiday_shifts_the_meeting_and_a_make_up_day_is_worked() -> None:
    rules = {"calendar": {"monthly": {"rule": "day_of_month", "day": 1},
                          "quarterly": {"replaces_monthly": False}}}
    # a hand-made list (not an official arrangement): 1–7 October off, Sunday 29 September
    # and Saturday 12 October worked
    days = C.holidays_of(["2024-10-01..2024-10-07"], workdays=["2024-09-29", "2024-10-12"])
    got = {m.key: m for m in C.plan(2024, rules=rules, holidays=days)}
    oct_ = got["2024-10-monthly"]
    assert (oct_.nominal, oct_.date, oct_.shifted) == (D(2024, 10, 1), D(2024, 10, 8), True)
    # 2024-06-01 is a Saturday → Monday 3 June; 2024-09-01 a Sunday → Monday 2 September
    assert got["2024-06-monthly"].date == D(2024, 6, 3)
    assert got["2024-09-monthly"].date == D(2024, 9, 2)
    # day 29: Sunday 29 September is a listed make-up working day, so the meeting stays
    r29 = {"calendar": {"monthly": {"rule": "day_of_month", "day": 28},
                        "quarterly": {"rule": "day_of_month", "day": 1,
                                      "replaces_monthly": False}}}
    assert days.working(D(2024, 9, 29)) and not days.working(D(2024, 10, 7))
    no_makeup = C.holidays_of(["2024-10-01..2024-10-07"])
    assert C.next_working_day(D(2024, 9, 29), days) == D(2024, 9, 29)
    assert C.next_working_day(D(2024, 9, 29), no_makeup) == D(2024, 9, 30)
    assert C.next_working_day(D(2024, 10, 5), days) == D(2024, 10, 8)
    # Saturday 28 September: not a make-up day → Sunday 29 September, which is one
    sep = {m.key: m for m in C.plan(2024, rules=r29, holidays=days)}["2024-09-monthly"]
    assert (sep.nominal, sep.date) == (D(2024, 9, 28), D(2024, 9, 29))


def test_holiday_file(tmp_path) -> None:
    good = tmp_path / "h.yaml"
    good.write_text("source: 示例（手工列出）\nholidays: ['2024-05-01..2024-05-05']\n"
                    "workdays: [2024-04-28, 2024-05-11]\n", encoding="utf-8")
    days = C.read_holidays(good)
    assert len(days.off) == 5 and days.workdays == {D(2024, 4, 28), D(2024, 5, 11)}
    may = {m.key: m for m in C.plan(2024, rules={"calendar": {"monthly": {
        "rule": "day_of_month", "day": 2}}}, holidays=good)}["2024-05-monthly"]
    assert may.date == D(2024, 5, 6)
    bad = tmp_path / "bad.yaml"
    bad.write_text("holidays: [2024-13-01]\n", encoding="utf-8")
    with pytest.raises(C.HolidayError, match="2024-13-01"):
        C.read_holidays(bad)
    both = tmp_path / "both.yaml"
    both.write_text("holidays: [2024-05-01]\nworkdays: [2024-05-01]\n", encoding="utf-8")
    with pytest.raises(C.HolidayError, match="2024-05-01"):
        C.read_holidays(both)
    odd = tmp_path / "odd.yaml"
    odd.write_text("feiertage: [2024-05-01]\n", encoding="utf-8")
    with pytest.raises(C.HolidayError, match=r"odd\.yaml"):
        C.read_holidays(odd)


def test_bad_rules_are_refused() -> None:
    with pytest.raises(SpecError, match="nth"):
        C.rules({"calendar": {"monthly": {"nth": 5}}})
    with pytest.raises(SpecError, match="month_of_quarter"):
        C.rules({"calendar": {"quarterly": {"month_of_quarter": 4}}})
    with pytest.raises(GovernError, match="weekly"):
        C.meeting_key("weekly", "2024-05-01")
    assert C.meeting_key("quarterly", D(2024, 5, 9)) == "2024-Q2-quarterly"


# ------------------------------------------------------------------ agenda rules (pure)
def case(i: int, opened: str = "2024-01-05", due: str = "2024-06-30", **kw) -> dict:
    return {"id": i, "title": f"案件{i}", "opened": opened, "due": due, "simulated": False,
            "lead_department": "部门", **kw}


def ev(cid: int, seq: int, kind: str, to: str, eff: str, *, due: str | None = None,
       detail: dict | None = None, meeting: int | None = None) -> dict:
    return {"case_id": cid, "seq": seq, "kind": kind, "to_state": to, "effective": eff,
            "due": due, "detail": detail, "meeting_id": meeting}


def opened(cid: int, day: str = "2024-01-05") -> list[dict]:
    return [ev(cid, 1, "state", "registered", day), ev(cid, 2, "state", "accepted", day),
            ev(cid, 3, "state", "in_progress", day)]


def test_agenda_rules_by_hand() -> None:
    kinds = {1: "monthly", 2: "monthly", 3: "quarterly"}
    cases = [case(1), case(2, due="2024-03-31"), case(3), case(4), case(5), case(6),
             case(7, opened="2024-05-01"), case(8, due="2024-03-31")]
    events = (
        opened(1)                                                   # 1: just open
        + opened(2)                                                 # 2: overdue from 04-01
        + opened(3) + [ev(3, 4, "defer", "in_progress", "2024-02-08", meeting=1),
                       ev(3, 5, "defer", "in_progress", "2024-03-14", meeting=2)]
        + opened(4) + [ev(4, 4, "escalate", "in_progress", "2024-02-08",
                          detail={"to": "quarterly"}, meeting=1)]
        + opened(5) + [ev(5, 4, "state", "closed", "2024-02-08", meeting=1)]
        # 6: deferred twice, then decided at the quarterly meeting 3 → the count restarts
        + opened(6) + [ev(6, 4, "defer", "in_progress", "2024-02-08", meeting=1),
                       ev(6, 5, "defer", "in_progress", "2024-03-14", meeting=2),
                       ev(6, 6, "defer", "in_progress", "2024-03-28", meeting=3)]
        + opened(7, "2024-05-01")                                   # 7: opened later
        # 8: overdue on 03-31, extended to 09-30 (effective 03-14) → not overdue
        + opened(8) + [ev(8, 4, "extend", "in_progress", "2024-03-14", due="2024-09-30")])
    q = agenda_items(cases, events, date="2024-04-25", kind="quarterly", meeting_kinds=kinds)
    assert [(i.case_id, i.reasons) for i in q] == [
        (2, ("overdue",)), (3, ("deferred",)), (4, ("escalated",)),
        (1, ("review",)), (6, ("review",)), (8, ("review",))]
    assert [i.pos for i in q] == [1, 2, 3, 4, 5, 6]
    assert q[0].overdue and q[0].due_in_force == "2024-03-31"
    assert q[-1].due_in_force == "2024-09-30" and not q[-1].overdue
    # without replacing the monthly meeting only the brought-up cases come
    q2 = agenda_items(cases, events, date="2024-04-25", kind="quarterly", meeting_kinds=kinds,
                      rules=C.rules({"calendar": {"quarterly": {"replaces_monthly": False}}}))
    assert [i.case_id for i in q2] == [2, 3, 4]
    # the monthly meeting reviews every open case, noting the overdue one; as of 2024-03-01
    # case 2 is not yet overdue, case 5 closed, case 7 not opened
    m = agenda_items(cases, events, date="2024-04-11", kind="monthly", meeting_kinds=kinds)
    assert [(i.case_id, i.item) for i in m] == [
        (1, "review"), (2, "overdue+review"), (3, "review"), (4, "review"), (6, "review"),
        (8, "review")]
    early = agenda_items(cases, events, date="2024-01-31", kind="monthly", meeting_kinds=kinds)
    assert [i.case_id for i in early] == [1, 2, 3, 4, 5, 6, 8]
    # one defer only is not enough; the deferred-twice rule's limit is data
    once = agenda_items(cases, events, date="2024-02-20", kind="quarterly", meeting_kinds=kinds,
                        rules=C.rules({"calendar": {"quarterly": {"replaces_monthly": False}}}))
    assert [(i.case_id, i.reasons) for i in once] == [(4, ("escalated",))]
    strict = C.rules({"agenda": {"defer_limit": 1},
                      "calendar": {"quarterly": {"replaces_monthly": False}}})
    assert [i.case_id for i in agenda_items(cases, events, date="2024-02-20", kind="quarterly",
                                            meeting_kinds=kinds, rules=strict)] == [3, 4, 6]


def test_calendar_invariants_over_years() -> None:
    """Every planned meeting is on a working day, on or after its nominal date and before the
    next working day after it; one meeting per month (the quarterly one replacing the work
    meeting of its month), for every rule variant."""
    days = C.holidays_of([f"{y}-{md}" for y in range(2020, 2031)
                          for md in ("01-01", "05-01", "05-02", "10-01", "10-02", "10-03")],
                         workdays=["2024-09-29", "2025-09-28"])
    variants = [None, {"calendar": {"monthly": {"rule": "day_of_month", "day": -1}}},
                {"calendar": {"monthly": {"rule": "day_of_month", "day": 1},
                              "quarterly": {"nth": 1, "weekday": "monday",
                                            "month_of_quarter": 1}}}]
    for rules in variants:
        for year in range(2020, 2031):
            got = C.plan(year, rules=rules, holidays=days)
            assert len(got) == 12
            assert sorted(m.period for m in got) == sorted(
                {f"{year}-{mo:02d}" for mo in range(1, 13)} - {
                    f"{year}-{q * 3 + C.rules(rules).calendar.quarterly.month_of_quarter:02d}"
                    for q in range(4)} | {f"{year}-Q{q}" for q in range(1, 5)})
            for m in got:
                assert days.working(m.date) and m.date >= m.nominal
                assert all(not days.working(m.nominal + dt.timedelta(days=k))
                           for k in range((m.date - m.nominal).days))
