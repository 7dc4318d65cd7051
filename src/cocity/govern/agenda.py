"""A meeting's agenda, derived from the register by rules kept as data (``meetings.yaml``,
``agenda``). Pure: :func:`agenda_items` is a function of the cases, their events and the kinds of
the meetings those events came from, on the meeting's date.

On the meeting date ``d`` a case's state is the ``to`` of its last event effective on or before
``d`` (events never go back in time within a case); it is *open* when the state machine says so;
its due date in force is the last extension's (effective by ``d``) else its own; it is
*overdue* when open and ``d`` > due in force. Its *cycle* is the events after its last decision
at a coordination meeting (an event carrying a quarterly meeting's id).

* **Monthly work meeting** (工作会议): every case open on ``d`` and opened by then, reason
  ``review`` — and ``overdue`` too when it is overdue.
* **Quarterly coordination meeting** (问题协调会): every open case with at least one of
  ``escalated`` (an ``escalate`` event to ``quarterly`` in its cycle), ``deferred`` (at least
  ``defer_limit`` ``defer`` events in its cycle — deferred at two meetings), ``overdue`` (with
  ``escalate_overdue``); and when the coordination meeting replaces that month's work meeting
  (``calendar.quarterly.replaces_monthly``), every other open case with ``review``.

Items are ordered: brought-up items first (escalated, deferred, overdue), then reviews; by case
id within each group. A case appears at most once; its reasons are listed in the order of
``agenda.reasons``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cocity.govern import calendar as cal
from cocity.govern.calendar import MeetingRules
from cocity.govern.machine import machine

BROUGHT_UP = ("escalated", "deferred", "overdue")


@dataclass(frozen=True)
class AgendaItem:
    """One case on an agenda and why (``reasons``, ids of ``meetings.yaml`` ``agenda.reasons``),
    with what the meeting needs to see of it on the meeting date."""

    case_id: int
    reasons: tuple[str, ...]
    title: str = ""
    state: str = ""
    due_in_force: str = ""
    overdue: bool = False
    simulated: bool = False
    lead_department: str = ""
    pos: int = 0

    @property
    def item(self) -> str:
        """The reasons as stored in ``govern_agenda.item`` (``escalated+overdue``)."""
        return "+".join(self.reasons)

    @property
    def brought_up(self) -> bool:
        return any(r in BROUGHT_UP for r in self.reasons)


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _detail(value: object) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str) and value:
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return {}


def agenda_items(cases: Iterable[Mapping[str, Any]], events: Iterable[Mapping[str, Any]], *,
                 date: dt.date | str, kind: str, meeting_kinds: Mapping[int, str],
                 rules: MeetingRules | None = None) -> list[AgendaItem]:
    """The agenda of a meeting of ``kind`` on ``date`` (see the module doc).

    ``cases``: mappings with ``id``, ``opened``, ``due`` (and for display ``title``,
    ``simulated``, ``lead_department``); ``events``: mappings with ``case_id``, ``seq``,
    ``kind``, ``to_state``, ``effective``, ``due``, ``detail`` (a mapping or JSON text),
    ``meeting_id``; ``meeting_kinds``: meeting id → ``monthly`` / ``quarterly``."""
    spec = cal.rules(rules)
    day = _iso(date)
    m = machine()
    order = list(spec.agenda.reasons)
    by_case: dict[int, list[Mapping[str, Any]]] = {}
    for ev in events:
        if _iso(ev["effective"]) <= day:
            by_case.setdefault(int(ev["case_id"]), []).append(ev)
    up: list[AgendaItem] = []
    review: list[AgendaItem] = []
    for case in sorted(cases, key=lambda c: int(c["id"])):
        cid = int(case["id"])
        evs = sorted(by_case.get(cid, []), key=lambda e: int(e["seq"]))
        seen = case_on(case, evs, date=day)
        if seen is None or not m.is_open(seen.state):
            continue
        state, due, overdue = seen.state, seen.due_in_force, seen.overdue
        last_q = max((i for i, ev in enumerate(evs)
                      if ev.get("meeting_id") is not None
                      and meeting_kinds.get(int(ev["meeting_id"])) == "quarterly"), default=-1)
        cycle = evs[last_q + 1:]
        reasons: set[str] = set()
        if kind == "monthly":
            reasons.add("review")
            if overdue:
                reasons.add("overdue")
        else:
            if any(ev["kind"] == "escalate" and _detail(ev.get("detail")).get("to") == "quarterly"
                   for ev in cycle):
                reasons.add("escalated")
            if sum(ev["kind"] == "defer" for ev in cycle) >= spec.agenda.defer_limit:
                reasons.add("deferred")
            if overdue and spec.agenda.escalate_overdue:
                reasons.add("overdue")
            if not reasons and spec.calendar.quarterly.replaces_monthly:
                reasons.add("review")
        if not reasons:
            continue
        item = AgendaItem(
            case_id=cid, reasons=tuple(r for r in order if r in reasons),
            title=str(case.get("title", "")), state=state, due_in_force=due, overdue=overdue,
            simulated=bool(case.get("simulated", False)),
            lead_department=seen.lead_department)
        (up if item.brought_up and kind == "quarterly" else review).append(item)
    return [AgendaItem(**{**item.__dict__, "pos": i + 1})
            for i, item in enumerate(up + review)]


@dataclass(frozen=True)
class CaseOn:
    """A case as it stood on a date."""

    state: str
    due_in_force: str
    overdue: bool
    lead_department: str


def case_on(case: Mapping[str, Any], events: Iterable[Mapping[str, Any]], *,
            date: dt.date | str) -> CaseOn | None:
    """The case on ``date`` from its events effective by then (see the module doc): state,
    due date in force (the last extension's, else its own), overdue (open and ``date`` > due
    in force), lead department (the last ``assign``'s, else its own); ``None`` before it was
    opened."""
    day = _iso(date)
    evs = sorted((e for e in events if _iso(e["effective"]) <= day), key=lambda e: int(e["seq"]))
    if _iso(case["opened"]) > day or not evs:
        return None
    state = str(evs[-1]["to_state"])
    due = _iso(case["due"])
    lead = str(case.get("lead_department", ""))
    for ev in evs:
        if ev["kind"] == "extend" and ev.get("due"):
            due = _iso(ev["due"])
        if ev["kind"] == "assign":
            lead = str(_detail(ev.get("detail")).get("lead_department", lead))
    return CaseOn(state, due, machine().is_open(state) and day > due, lead)
