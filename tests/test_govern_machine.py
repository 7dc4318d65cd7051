"""The case state machine kept as data, the replay that defines a case's state from its events,
and a hypothesis stateful test of the register on SQLite: any sequence of valid and invalid
commands leaves each case in exactly one state, equal to the replay of its events, with the
counts by state recomputed from the events alone."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from cocity.govern import (
    DueBeforeOpenedError,
    DuplicateCaseError,
    InvalidTransitionError,
    Register,
    UnknownCaseError,
    UnknownUnitError,
    VersionConflictError,
    machine,
    replay,
    vocabularies,
)
from cocity.govern.machine import Machine, ReplayError
from cocity.records import open_records
from cocity.spec import SpecError, load_spec


def test_the_shipped_machine_is_the_one_of_the_issue() -> None:
    m = machine()
    assert m.initial == "registered"
    assert m.closing == "closed"
    assert [(s, d.zh) for s, d in m.states.items()] == [
        ("registered", "登记"), ("accepted", "受理"), ("in_progress", "办理中"),
        ("closed", "已办结"), ("returned", "退回"), ("withdrawn", "已撤销")]
    assert m.open_states() == ["registered", "accepted", "in_progress"]
    assert m.transitions["closed"] == []
    assert m.transitions["withdrawn"] == []
    assert m.allowed("registered", "accepted")
    assert not m.allowed("registered", "closed")
    assert m.allowed("in_progress", "closed")
    # every state is reachable from the initial one
    seen, todo = {m.initial}, [m.initial]
    while todo:
        for nxt in m.transitions[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(m.states)


def test_overdue_is_open_and_after_the_due_date() -> None:
    m, due = machine(), dt.date(2024, 5, 31)
    assert m.overdue("in_progress", due, dt.date(2024, 6, 1))
    assert not m.overdue("in_progress", due, due)
    assert not m.overdue("closed", due, dt.date(2025, 1, 1))


def test_the_vocabularies_name_the_categories_of_the_issue() -> None:
    v = vocabularies()
    assert [n.zh for n in v.categories.values()] == ["教育", "医疗", "社保", "就业", "交通",
                                                      "生态", "其他"]
    assert list(v.sources) == ["hotline", "meeting", "rectification", "public"]


def test_a_machine_naming_an_undefined_state_is_refused() -> None:
    bad = {"initial": "registered", "closing": "closed",
           "states": {"registered": {"zh": "登记", "en": "registered", "open": True}},
           "transitions": {"registered": ["closed"]}}
    with pytest.raises(SpecError, match=r"undefined states: closed|未定义的状态：closed"):
        load_spec(Machine, bad)


def ev(case: int, seq: int, frm: str | None, to: str) -> dict[str, Any]:
    return {"case_id": case, "seq": seq, "from_state": frm, "to_state": to}


def test_replay_is_the_last_state_of_each_case() -> None:
    log = [ev(2, 1, None, "registered"), ev(1, 2, "registered", "accepted"),
           ev(1, 1, None, "registered"), ev(1, 3, "accepted", "withdrawn")]
    assert replay(log) == {1: "withdrawn", 2: "registered"}


@pytest.mark.parametrize(("log", "match"), [
    ([ev(1, 2, None, "registered")], r"case 1: seq 2 after 0"),
    ([ev(1, 1, None, "accepted")], r"case 1: first event None -> accepted"),
    ([ev(1, 1, None, "registered"), ev(1, 2, "accepted", "in_progress")],
     r"event 2 accepted -> in_progress after registered"),
    ([ev(1, 1, None, "registered"), ev(1, 2, "registered", "closed")],
     r"event 2 registered -> closed after registered"),
])
def test_replay_refuses_a_log_the_register_cannot_write(log, match) -> None:
    with pytest.raises(ReplayError, match=match):
        replay(log)


# -- the stateful property on SQLite ---------------------------------------------------------
@cache
def unit_index() -> Any:
    from cocity.data.units import UnitIndex
    from cocity.datasets import open_store

    return UnitIndex(open_store().units())


UNIT_NAMES = ["成都", "重庆市", "自贡市", "绵阳市", "万州区", "泸州市"]
WHO = {"actor": "secretary", "role": "committee_secretary"}
OPENED = dt.date(2024, 1, 15)


class RegisterMachine(RuleBasedStateMachine):
    """The register against a model: per case its state and version."""

    cases = Bundle("cases")

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.records = open_records(Path(self.tmp.name) / "records.sqlite")
        self.register = Register(self.records, units=unit_index())
        self.state: dict[int, str] = {}
        self.version: dict[int, int] = {}
        self.body: dict[int, dict[str, Any]] = {}
        self.key: dict[int, str] = {}
        self.due: dict[int, dt.date] = {}
        self.added = 0

    def teardown(self) -> None:
        """At the end of each sequence: the published statistics recompute exactly from the
        exported event log alone (the independent pandas script)."""
        try:
            if self.state:
                from cocity.govern.export import write_export
                from cocity.govern.recompute import recompute
                from cocity.govern.stats import statistics
                from tests.test_govern_stats import assert_same

                path = Path(self.tmp.name) / "events.csv"
                write_export(self.records, path)
                assert_same(statistics(self.records, as_of="2030-01-01").table,
                            recompute(path, as_of="2030-01-01"))
        finally:
            self.records.close()
            self.tmp.cleanup()

    def _add(self, body: dict[str, Any], key: str) -> Any:
        return self.register.add_case(body["title"], description="", category=body["category"],
                                      units=body["units"], lead_department="协调处",
                                      source="meeting", opened=OPENED,
                                      due=OPENED + dt.timedelta(days=body["days"]), key=key,
                                      reason="登记", **WHO)

    @rule(target=cases, category=st.sampled_from(list(vocabularies().categories)),
          units=st.lists(st.sampled_from(UNIT_NAMES), min_size=1, max_size=3, unique=True),
          days=st.integers(min_value=0, max_value=90))
    def add(self, category: str, units: list[str], days: int) -> int:
        self.added += 1
        body = {"title": f"问题 {self.added}", "category": category, "units": units,
                "days": days}
        case = self._add(body, key=f"k{self.added}")
        assert (case.state, case.version, case.replayed) == (machine().initial, 1, False)
        self.state[case.id], self.version[case.id], self.body[case.id] = case.state, 1, body
        self.key[case.id] = f"k{self.added}"
        self.due[case.id] = OPENED + dt.timedelta(days=days)
        return int(case.id)

    @rule(days=st.integers(min_value=1, max_value=30))
    def add_due_before_opened(self, days: int) -> None:
        body = {"title": "错误期限", "category": "other", "units": ["成都"], "days": -days}
        with pytest.raises(DueBeforeOpenedError, match=r"办结期限 .* 早于登记日期"):
            self._add(body, key="bad-due")

    @rule(name=st.sampled_from(["不存在市", "Atlantis", "999999"]))
    def add_unknown_unit(self, name: str) -> None:
        body = {"title": "未知单元", "category": "other", "units": ["成都", name], "days": 10}
        with pytest.raises(UnknownUnitError, match=rf"无法识别涉及单元 {name}"):
            self._add(body, key="bad-unit")

    @rule(offset=st.integers(min_value=1, max_value=5))
    def transition_unknown_case(self, offset: int) -> None:
        missing = len(self.state) + offset
        with pytest.raises(UnknownCaseError, match=rf"没有编号为 {missing} 的案件"):
            self.register.transition(missing, "accepted", expected_version=1, reason="无",
                                     **WHO)

    @rule(case=cases, same=st.booleans())
    def add_again(self, case: int, same: bool) -> None:
        body = dict(self.body[case])
        key = self.key[case]
        if same:
            again = self._add(body, key=key)
            assert (again.id, again.replayed, again.state) == (case, True, self.state[case])
        else:
            body["title"] += "（改）"
            with pytest.raises(DuplicateCaseError, match=rf"幂等键 {key} 已用于"):
                self._add(body, key=key)

    @rule(case=cases, target_state=st.sampled_from(list(machine().states)),
          resolved=st.booleans(), stale=st.booleans())
    def transition(self, case: int, target_state: str, resolved: bool, stale: bool) -> None:
        m = machine()
        seen = self.version[case] - 1 if stale else self.version[case]
        kwargs = {"resolved": resolved} if target_state == m.closing else {}
        if stale:
            with pytest.raises(VersionConflictError, match=r"已被他人修改"):
                self.register.transition(case, target_state, expected_version=seen,
                                         reason="过期版本", **WHO, **kwargs)
        elif not m.allowed(self.state[case], target_state):
            with pytest.raises(InvalidTransitionError, match=rf"案件 {case} 不能从"):
                self.register.transition(case, target_state, expected_version=seen,
                                         reason="无效", **WHO, **kwargs)
        else:
            done = self.register.transition(case, target_state, expected_version=seen,
                                            reason="变更", **WHO, **kwargs)
            assert (done.state, done.version) == (target_state, seen + 1)
            self.state[case], self.version[case] = target_state, seen + 1

    @rule(case=cases, kind=st.sampled_from(["assign", "extend", "defer", "escalate"]),
          days=st.integers(min_value=-5, max_value=60))
    def same_state_event(self, case: int, kind: str, days: int) -> None:
        """A same-state event: kept state, one more version; refused on a finished case or
        for an extension that does not move the due date later."""
        extra: dict[str, Any] = {
            "assign": {"detail": {"lead_department": "重庆市协调处"}},
            "extend": {"due": self.due[case] + dt.timedelta(days=days)},
            "defer": {}, "escalate": {"detail": {"to": "quarterly"}}}[kind]
        call = lambda: self.register.record(  # noqa: E731
            case, kind, expected_version=self.version[case], reason="会议决定", **WHO, **extra)
        if not machine().is_open(self.state[case]):
            with pytest.raises(InvalidTransitionError, match=rf"案件 {case} 已处于"):
                call()
        elif kind == "extend" and days <= 0:
            with pytest.raises(InvalidTransitionError, match=r"不晚于现行期限"):
                call()
        else:
            done = call()
            assert (done.state, done.version) == (self.state[case], self.version[case] + 1)
            self.version[case] += 1
            if kind == "extend":
                self.due[case] = extra["due"]
            assert done.due_in_force == self.due[case]

    @invariant()
    def one_state_per_case_equal_to_the_replay(self) -> None:
        events = self.register.events()
        replayed = replay(events.to_dict("records"))
        frame = self.register.cases(as_of=OPENED)
        assert frame["id"].is_unique
        assert dict(zip(frame["id"], frame["state"], strict=True)) == replayed == self.state
        per_case = Counter(int(c) for c in events["case_id"])
        assert dict(zip(frame["id"], frame["version"], strict=True)) == dict(per_case) \
            == self.version

    @invariant()
    def counts_by_state_recompute_from_the_events(self) -> None:
        from_events = Counter(replay(self.register.events().to_dict("records")).values())
        expected = {s: from_events.get(s, 0) for s in machine().states}
        assert self.register.state_counts() == expected
        assert sum(expected.values()) == len(self.state)


RegisterMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestRegisterStateful = RegisterMachine.TestCase
