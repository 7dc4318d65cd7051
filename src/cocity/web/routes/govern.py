"""The committee's pages (民生协同治理委员会) and its public JSON API.

Pages (``/govern…``), for the committee's secretary (the administrator may read them):

* the case list, filtered by state, category and unit, overdue cases marked (as of a date,
  default today in China); adding a case; a case's page with its events and the transitions
  the state machine allows from its state (``states.yaml``), where a change of state or a
  same-state event (assign, extend, defer, escalate) is recorded with its reason and effective
  date, naming the version the page showed (a colleague's change meanwhile is refused, nothing
  written);
* meetings: the calendar of a year (holidays and make-up working days typed in), the draft
  agenda of a date, convening (storing the meeting with its agenda), a meeting's page and its
  minutes with one decision per agenda item.

Every write is the same call as ``cocity govern case add|update`` and ``cocity govern meeting
agenda --convene|minutes`` (:class:`cocity.govern.register.Register`,
:mod:`cocity.govern.meetings`), acting as the signed-in user in the secretary's role, and is
recorded with :func:`cocity.web.deps.audit` once written (a replay writes nothing and is not
recorded again). Forms that add a case or change one carry a key drawn with the form (the
register's idempotency key): submitted twice, they write once. Refusals are shown in the page
with status 400 (404 for an unknown case or meeting); nothing is written.

API (``/api/v1/govern/…``, anyone): the committee's statistics as
:mod:`cocity.govern.public` words them (counts and rates: no logins, no reasons).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.datastructures import FormData

from cocity.data.errors import CocityError
from cocity.i18n import t
from cocity.web.deps import Principal, audit, csrf_form, portal, render, require
from cocity.web.errors import PortalError
from cocity.web.roles import ADMIN, PUBLIC, SECRETARY
from cocity.web.routes._pages import (
    TEXT_LIMIT,
    field,
    field_raw,
    form_key,
    new_form_key,
    shown,
)

if TYPE_CHECKING:
    from cocity.data.units import UnitIndex
    from cocity.govern.register import Register

router = APIRouter()
READERS = (SECRETARY, ADMIN)
NAV = [("/govern", "web_pages.nav.govern", READERS),
       ("/govern/meetings", "web_pages.nav.meetings", READERS)]
EVENT_FORMS = ("assign", "extend", "defer", "escalate")
SPLIT = re.compile(r"[\n,，、]+")


@lru_cache(maxsize=4)
def _unit_index(workspace: Path | None) -> UnitIndex:
    """The unit names of the portal's data (read once per workspace: about a second)."""
    from cocity.data.units import UnitIndex
    from cocity.datasets import open_store

    store = open_store(workspace, read_only=True) if workspace is not None else open_store()
    try:
        return UnitIndex(store.units())
    finally:
        if workspace is not None:
            store.close()


def _register(request: Request) -> Register:
    from cocity.govern.register import Register

    state = portal(request)
    return Register(state.records, units=_unit_index(state.workspace))


def _items(text: str) -> list[str]:
    """Several values typed in one field: one a line, or separated by , ， or 、"""
    return [p.strip() for p in SPLIT.split(text) if p.strip()]


def _today() -> str:
    from cocity.govern.stats import china_today

    return china_today().isoformat()


def _names(register: Register, lang: str) -> dict[str, str]:
    col = "name_zh" if lang == "zh" else "name_en"
    return {str(k): str(v) for k, v in register.units.units[col].items()}


def _view(request: Request, register: Register) -> dict[str, Any]:
    """What every committee page shows: the vocabularies, the states, unit names."""
    lang = request.state.lang
    return {"states": register.machine.states, "vocab": register.vocab,
            "unit_names": _names(register, lang), "error": None, "done": None,
            "text": lambda name: name.zh if lang == "zh" else name.en}


# ------------------------------------------------------------------------------ cases
@router.get("/govern", response_class=HTMLResponse, include_in_schema=False)
def cases(request: Request, who: Annotated[Principal, Depends(require(*READERS))],
          state: Annotated[str, Query(max_length=40)] = "",
          category: Annotated[str, Query(max_length=40)] = "",
          unit: Annotated[str, Query(max_length=100)] = "",
          overdue: bool = False,
          as_of: Annotated[str, Query(max_length=20)] = "") -> Response:
    from cocity.govern.errors import InvalidCaseError
    from cocity.govern.machine import lookup

    register = _register(request)
    context = _view(request, register)
    state, category, unit, as_of = state.strip(), category.strip(), unit.strip(), as_of.strip()
    context["asked"] = {"state": state, "category": category, "unit": unit,
                        "overdue": overdue, "as_of": as_of}
    try:
        frame = register.cases(as_of=as_of or None)
        if state:
            found = lookup(state, register.machine.states)
            if found is None:
                raise InvalidCaseError("govern.err.no_state", value=state,
                                       allowed="、".join(register.machine.states))
            frame = frame[frame["state"] == found]
        if category:
            found = lookup(category, register.vocab.categories)
            if found is None:
                raise InvalidCaseError("govern.err.choice", field="category", value=category,
                                       allowed="、".join(register.vocab.categories))
            frame = frame[frame["category"] == found]
        if unit:
            code = register.units.resolve(unit)
            frame = frame[frame["units"].str.split(";").map(lambda codes: code in codes)]
        if overdue:
            frame = frame[frame["overdue"]]
    except CocityError as exc:
        context.update(rows=[], error=shown(exc))
        return render(request, "govern/cases.html", context, status=400)
    rows = frame.to_dict("records")
    for r in rows:
        r["unit_list"] = [c for c in str(r["units"]).split(";") if c]
    context["rows"] = rows[::-1]
    return render(request, "govern/cases.html", context)


def _new_case_form(request: Request, *, values: dict[str, str] | None = None,
                   error: Exception | None = None, code: int = 200) -> Response:
    register = _register(request)
    context = _view(request, register)
    form = {"title": "", "description": "", "category": "", "units": "", "lead": "",
            "co": "", "source": "hotline", "priority": "normal", "opened": _today(),
            "due": "", "reason": ""}
    form.update(values or {})
    form["key"] = (values or {}).get("key") or new_form_key()
    context.update(form=form, error=None if error is None else shown(error))
    return render(request, "govern/new_case.html", context, status=code)


@router.get("/govern/cases/new", response_class=HTMLResponse, include_in_schema=False)
def new_case(request: Request,
             who: Annotated[Principal, Depends(require(SECRETARY))]) -> Response:
    return _new_case_form(request)


@router.post("/govern/cases", response_class=HTMLResponse, include_in_schema=False)
def add_case(request: Request, who: Annotated[Principal, Depends(require(SECRETARY))],
             form: Annotated[FormData, Depends(csrf_form)]) -> Response:
    names = ("title", "description", "category", "units", "lead", "co", "source", "priority",
             "opened", "due", "reason", "key")
    values = {name: field_raw(form, name) for name in names}
    try:
        title = field(form, "title", required=True)
        description = field(form, "description", limit=TEXT_LIMIT)
        units = _items(field(form, "units", required=True))
        co = _items(field(form, "co", limit=TEXT_LIMIT))
        reason = field(form, "reason", required=True, limit=TEXT_LIMIT)
        key = form_key(form)
        case = _register(request).add_case(
            title, description=description, category=field(form, "category", required=True),
            units=units, lead_department=field(form, "lead", required=True),
            co_departments=co, source=field(form, "source", required=True),
            opened=field(form, "opened") or _today(), due=field(form, "due", required=True),
            priority=field(form, "priority") or "normal", key=key, actor=who.login,
            role=SECRETARY, reason=reason)
    except CocityError as exc:
        return _new_case_form(request, values=values, error=exc, code=400)
    if not case.replayed:
        audit(request, who, action="govern.case.add", target=f"govern_case:{case.id}",
              detail={"key": case.key, "category": case.category, "units": list(case.units)})
    done = "again" if case.replayed else "added"
    return RedirectResponse(f"/govern/cases/{case.id}?done={done}", status_code=303)


def _case_page(request: Request, who: Principal, case_id: int, *,
               error: Exception | None = None, done: str | None = None,
               code: int = 200) -> Response:
    from cocity.govern.errors import UnknownCaseError
    from cocity.govern.stats import china_today

    register = _register(request)
    context = _view(request, register)
    try:
        record = register.case(case_id)
    except UnknownCaseError as exc:
        context.update(error=shown(exc))
        return render(request, "govern/missing.html", context, status=404)
    case = record.case
    open_now = register.machine.is_open(case.state)
    context.update(
        case=case, history=record.history, overdue=case.overdue(china_today()),
        nexts=register.machine.transitions[case.state], closing=register.machine.closing,
        open_now=open_now, event_forms=EVENT_FORMS if open_now else (),
        key=new_form_key(), today=_today(), may_write=who.has(SECRETARY),
        error=None if error is None else shown(error), done=done,
        detail=lambda e: _detail(e, request.state.lang))
    return render(request, "govern/case.html", context, status=code)


def _detail(event: Any, lang: str) -> str:
    """What an event changed besides the state (the register's words, as ``case show``)."""
    kind, detail = event.kind, event.detail
    if kind == "extend":
        return t("govern.cli.detail.extend", lang, due=event.due)
    if kind == "assign":
        return str(detail.get("lead_department", ""))
    if kind == "escalate":
        return t(f"govern.escalate.{detail.get('to')}", lang)
    if kind == "follow_up":
        grade = detail.get(f"grade_{lang}", detail.get("grade"))
        return f"{detail.get('year')}: {grade}"
    if event.resolved is not None:
        return t("govern.cli.detail.resolved" if event.resolved
                 else "govern.cli.detail.unresolved", lang)
    return ""


@router.get("/govern/cases/{case_id}", response_class=HTMLResponse, include_in_schema=False)
def case_page(request: Request, case_id: int,
              who: Annotated[Principal, Depends(require(*READERS))],
              done: Annotated[str, Query(max_length=20)] = "") -> Response:
    said = t(f"web_pages.govern.done.{done}") if done in (
        "added", "again", "changed", "replayed") else None
    return _case_page(request, who, case_id, done=said)


def _version(form: FormData) -> int:
    try:
        return int(field(form, "version", required=True))
    except ValueError:
        raise PortalError("web_pages.err.version") from None


def _resolved(text: str) -> bool | None:
    return {"yes": True, "no": False}.get(text)


@router.post("/govern/cases/{case_id}/transition", response_class=HTMLResponse,
             include_in_schema=False)
def transition(request: Request, case_id: int,
               who: Annotated[Principal, Depends(require(SECRETARY))],
               form: Annotated[FormData, Depends(csrf_form)]) -> Response:
    try:
        to = field(form, "to", required=True)
        case = _register(request).transition(
            case_id, to, expected_version=_version(form), actor=who.login, role=SECRETARY,
            reason=field(form, "reason", required=True, limit=TEXT_LIMIT),
            resolved=_resolved(field(form, "resolved")),
            effective=field(form, "effective") or None, key=form_key(form))
    except CocityError as exc:
        return _case_page(request, who, case_id, error=exc, code=_status(exc))
    if not case.replayed:
        audit(request, who, action="govern.case.transition", target=f"govern_case:{case_id}",
              detail={"to": case.state, "version": case.version})
    done = "replayed" if case.replayed else "changed"
    return RedirectResponse(f"/govern/cases/{case_id}?done={done}", status_code=303)


def _status(exc: Exception) -> int:
    from cocity.govern.errors import UnknownCaseError

    return 404 if isinstance(exc, UnknownCaseError) else 400


@router.post("/govern/cases/{case_id}/event", response_class=HTMLResponse, include_in_schema=False)
def record_event(request: Request, case_id: int,
                 who: Annotated[Principal, Depends(require(SECRETARY))],
                 form: Annotated[FormData, Depends(csrf_form)]) -> Response:
    try:
        kind = field(form, "kind", required=True)
        if kind not in EVENT_FORMS:
            raise PortalError("web_pages.govern.err.kind", value=kind,
                              allowed="、".join(EVENT_FORMS))
        detail: dict[str, Any] | None = None
        if kind == "assign":
            detail = {"lead_department": field(form, "department", required=True)}
        elif kind == "escalate":
            detail = {"to": field(form, "to", required=True)}
        case = _register(request).record(
            case_id, kind, expected_version=_version(form), actor=who.login, role=SECRETARY,
            reason=field(form, "reason", required=True, limit=TEXT_LIMIT),
            due=(field(form, "due", required=True) if kind == "extend" else None),
            detail=detail, effective=field(form, "effective") or None, key=form_key(form))
    except CocityError as exc:
        return _case_page(request, who, case_id, error=exc, code=_status(exc))
    if not case.replayed:
        audit(request, who, action="govern.case.event", target=f"govern_case:{case_id}",
              detail={"kind": kind, "version": case.version})
    done = "replayed" if case.replayed else "changed"
    return RedirectResponse(f"/govern/cases/{case_id}?done={done}", status_code=303)


# ------------------------------------------------------------------------------ meetings
@router.get("/govern/meetings", response_class=HTMLResponse, include_in_schema=False)
def meetings_page(request: Request, who: Annotated[Principal, Depends(require(*READERS))],
                  year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                  holidays: Annotated[str, Query(max_length=2000)] = "",
                  workdays: Annotated[str, Query(max_length=2000)] = "") -> Response:
    from cocity.govern import meetings as M
    from cocity.govern.calendar import holidays_of

    register = _register(request)
    context = _view(request, register)
    chosen = year or dt.date.fromisoformat(_today()).year
    context.update(year=chosen, holidays=holidays, workdays=workdays, planned=[],
                   meetings=M.meetings(register), today=_today(),
                   may_write=who.has(SECRETARY))
    try:
        days = holidays_of(_items(holidays), workdays=_items(workdays),
                           source=t("web_pages.govern.typed_holidays"))
        context["planned"] = M.plan(chosen, holidays=days)
    except CocityError as exc:
        context["error"] = shown(exc)
        return render(request, "govern/meetings.html", context, status=400)
    return render(request, "govern/meetings.html", context)


@router.get("/govern/meetings/agenda", response_class=HTMLResponse, include_in_schema=False)
def agenda_page(request: Request, who: Annotated[Principal, Depends(require(*READERS))],
                date: Annotated[str, Query(max_length=20)] = "",
                kind: Annotated[str, Query(max_length=20)] = "monthly") -> Response:
    from cocity.govern import meetings as M

    register = _register(request)
    context = _view(request, register)
    day = date.strip() or _today()
    context.update(date=day, kind=kind, items=[], may_write=who.has(SECRETARY),
                   reasons=_reasons(request.state.lang))
    try:
        context["items"] = M.agenda(register, date=day, kind=kind)
    except CocityError as exc:
        context["error"] = shown(exc)
        return render(request, "govern/agenda.html", context, status=400)
    return render(request, "govern/agenda.html", context)


def _reasons(lang: str) -> dict[str, str]:
    from cocity.govern import calendar as cal

    return {k: (v.zh if lang == "zh" else v.en) for k, v in cal.rules().agenda.reasons.items()}


@router.post("/govern/meetings", response_class=HTMLResponse, include_in_schema=False)
def convene(request: Request, who: Annotated[Principal, Depends(require(SECRETARY))],
            form: Annotated[FormData, Depends(csrf_form)]) -> Response:
    from cocity.govern import meetings as M

    register = _register(request)
    try:
        kind = field(form, "kind", required=True)
        meeting = M.convene(register, date=field(form, "date", required=True), kind=kind,
                            actor=who.login, role=SECRETARY,
                            reason=field(form, "reason", required=True, limit=TEXT_LIMIT))
    except CocityError as exc:
        context = _view(request, register)
        context.update(date=field_raw(form, "date"), kind=field_raw(form, "kind"), items=[],
                       may_write=True, reasons=_reasons(request.state.lang),
                       error=shown(exc))
        return render(request, "govern/agenda.html", context, status=400)
    if not meeting.replayed:
        audit(request, who, action="govern.meeting.convene",
              target=f"govern_meeting:{meeting.key}",
              detail={"id": meeting.id, "date": meeting.date, "kind": meeting.kind,
                      "items": [i.case_id for i in meeting.items]})
    done = "again" if meeting.replayed else "convened"
    return RedirectResponse(f"/govern/meetings/{meeting.id}?done={done}", status_code=303)


def _meeting_page(request: Request, who: Principal, meeting_id: int, *,
                  error: Exception | None = None, done: str | None = None,
                  values: dict[str, str] | None = None, code: int = 200) -> Response:
    from cocity.govern import meetings as M
    from cocity.report.govern_meeting import _decision_text

    register = _register(request)
    context = _view(request, register)
    try:
        found = M.meeting(register, meeting_id)
    except M.MeetingError as exc:
        context.update(error=shown(exc))
        return render(request, "govern/missing.html", context, status=404)
    lang = request.state.lang
    decided = {d.case: _decision_text(d)[lang] for d in found.minutes.decisions} \
        if found.minutes else {}
    context.update(meeting=found, decided=decided, decisions=M.DECISIONS,
                   reasons=_reasons(lang), may_write=who.has(SECRETARY),
                   values=values or {}, error=None if error is None else shown(error),
                   done=done)
    return render(request, "govern/meeting.html", context, status=code)


@router.get("/govern/meetings/{meeting_id}", response_class=HTMLResponse, include_in_schema=False)
def meeting_page(request: Request, meeting_id: int,
                 who: Annotated[Principal, Depends(require(*READERS))],
                 done: Annotated[str, Query(max_length=20)] = "") -> Response:
    said = t(f"web_pages.govern.done.{done}") if done in (
        "convened", "again", "minutes", "minutes_again") else None
    return _meeting_page(request, who, meeting_id, done=said)


@router.post("/govern/meetings/{meeting_id}/minutes", response_class=HTMLResponse,
             include_in_schema=False)
def minutes(request: Request, meeting_id: int,
            who: Annotated[Principal, Depends(require(SECRETARY))],
            form: Annotated[FormData, Depends(csrf_form)]) -> Response:
    from cocity.govern import meetings as M

    register = _register(request)
    values = {k: v[:TEXT_LIMIT] for k, v in form.items() if isinstance(v, str)}
    try:
        found = M.meeting(register, meeting_id)
    except M.MeetingError:
        return _meeting_page(request, who, meeting_id)  # the unknown meeting's 404
    try:
        decisions = []
        for item in found.items:
            n = item.case_id
            decisions.append({
                "case": n, "decision": field(form, f"decision_{n}"),
                "department": field(form, f"department_{n}"), "due": field(form, f"due_{n}"),
                "resolved": field(form, f"resolved_{n}"),
                "reason": field(form, f"reason_{n}", limit=TEXT_LIMIT)})
        done = M.record_minutes(
            register, found.key, decisions=decisions,
            attendees=_items(field(form, "attendees", required=True, limit=TEXT_LIMIT)),
            summary=field(form, "summary", limit=TEXT_LIMIT), actor=who.login,
            role=SECRETARY, reason=field(form, "reason", required=True, limit=TEXT_LIMIT))
    except CocityError as exc:
        return _meeting_page(request, who, meeting_id, error=exc, values=values, code=400)
    if not done.replayed:
        audit(request, who, action="govern.meeting.minutes",
              target=f"govern_meeting:{done.key}",
              detail={"id": done.id, "decisions": len(done.minutes.decisions)
                      if done.minutes else 0})
    said = "minutes_again" if done.replayed else "minutes"
    return RedirectResponse(f"/govern/meetings/{meeting_id}?done={said}", status_code=303)


# ------------------------------------------------------------------------------ API
class StatisticsRow(BaseModel):
    dimension: str = Field(description="overall, category, unit or quarter")
    key: str = Field(description="all, a category id, a GB/T 2260 unit code or YYYYQn")
    opened: int
    closed: int
    closed_on_time: int
    closed_on_time_original: int
    closed_extended: int
    closed_resolved: int
    open: int
    overdue_open: int
    returned: int
    withdrawn: int
    escalated_quarterly: int
    escalated_leading_group: int
    simulated: int
    on_time_rate: float | None = Field(description="按时办结率: closed on time / closed")
    resolution_rate: float | None = Field(description="解决率: closed resolved / closed")
    median_days: float | None = Field(description="median days from opening to closing")
    p90_days: float | None = Field(description="90th percentile of the days to close")


class Statistics(BaseModel):
    as_of: str = Field(description="ISO date: cases opened and events effective by then")
    cases: int
    simulated_cases: int
    simulated: bool = Field(description="the register holds simulated demonstration cases")
    rows: list[StatisticsRow]


@router.get("/api/v1/govern/statistics", response_model=Statistics,
            summary="the committee's published statistics (public)")
def api_statistics(request: Request, who: Annotated[Principal, Depends(require(PUBLIC))],
                   as_of: Annotated[str | None, Query(max_length=20)] = None) -> Any:
    """按时办结率 and 解决率 apart, days to close, open and overdue cases, escalations, returns
    and withdrawals — overall, by category, unit and quarter, as of ``as_of`` (default today
    in China). Definitions: docs/committee.md and :mod:`cocity.govern.stats`."""
    from cocity.govern.public import statistics_document

    return statistics_document(portal(request).records, as_of=as_of)
