"""The committee's meetings on the records store: convening a meeting with its agenda, and
recording its minutes — one decision per agenda item, applied to the register in ONE
transaction with the minutes row.

Usage::

    from cocity.govern import meetings as M

    M.plan(2024, holidays="holidays-2024.yaml")              # the calendar (pure)
    M.agenda(register, date="2024-05-09", kind="monthly")    # what would be on the agenda
    meeting = M.convene(register, date="2024-05-09", kind="monthly",
                        actor="zhang", role="secretary", reason="五月工作会议")
    M.record_minutes(register, meeting.key, decisions=[
        {"case": 3, "decision": "extend", "due": "2024-08-31", "reason": "需两地联合发文"},
        {"case": 4, "decision": "assign", "department": "重庆市医保局"},
        {"case": 5, "decision": "resolve", "resolved": True},
        {"case": 6, "decision": "escalate"}, {"case": 7, "decision": "defer"},
        {"case": 8, "decision": "continue"}],
        attendees=["…"], summary="…", actor="zhang", role="secretary", reason="会议纪要")
    M.meetings(register)                                     # every convened meeting

* **convene** computes the agenda (:func:`cocity.govern.agenda.agenda_items`) from the register
  inside the write transaction and stores the meeting (``govern_meetings``) and its items
  (``govern_agenda``: position, case, reasons). The key (default ``2024-05-monthly`` /
  ``2024-Q2-quarterly``, :func:`cocity.govern.calendar.meeting_key`) makes it idempotent: the
  same key with the same kind and date returns the meeting already convened (``replayed``);
  with another kind or date it is refused.
* **record_minutes** takes one decision per agenda item — ``assign`` (``department``: the new
  lead department), ``extend`` (``due``: the new due date, and a ``reason``), ``resolve``
  (close the case; ``resolved`` yes/no: closing is not solving), ``escalate`` (at a monthly
  meeting to the next quarterly meeting, at a quarterly meeting to the leading group),
  ``defer`` (the meeting postpones its decision; deferred twice → the coordination meeting),
  ``continue`` (reviewed, no change: no event) — checks all of them before writing (a
  decision for a case not on the agenda, a missing or repeated item, a missing or
  unexpected field → :class:`MinutesError` listing every problem, nothing written), then in
  one transaction writes the minutes row (``govern_minutes``, with the decisions as JSON) and
  every event through :meth:`Register.change` with ``meeting_id`` and ``effective`` = the
  meeting date. At a quarterly meeting, an item brought up there (``leading_group_reasons``)
  that the decision does not settle (``settled_by``) also gets an ``escalate`` event to
  ``leading_group`` (flagged for the leading group 领导小组). Any refusal of the register (a
  transition not allowed, an extension not later than the due date in force, …) rolls the
  whole transaction back. A second minutes for the same meeting is refused
  (:class:`MinutesExistError`), or returned as it is when identical (``replayed``).

``AFTER_DECISION_HOOK`` (tests only): when set, called with the number of decisions applied so
far inside the transaction — the reliability test pauses a writer there and kills it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cocity.data.errors import Issue, IssuesError
from cocity.govern import calendar as cal
from cocity.govern.agenda import AgendaItem, agenda_items, case_on
from cocity.govern.calendar import MEETING_KINDS, MeetingRules, PlannedMeeting, meeting_key, plan
from cocity.govern.errors import GovernError
from cocity.i18n import t
from cocity.records import schema as S

if TYPE_CHECKING:
    from cocity.govern.register import Register

__all__ = [
    "DECISIONS",
    "Decision",
    "DecisionsFile",
    "Meeting",
    "MeetingError",
    "Minutes",
    "MinutesError",
    "MinutesExistError",
    "PlannedMeeting",
    "agenda",
    "convene",
    "meeting",
    "meeting_date",
    "meetings",
    "plan",
    "read_decisions",
    "record_minutes",
]

DECISIONS = ("assign", "extend", "resolve", "escalate", "defer", "continue")
# the fields each decision takes (beyond case, decision and an optional reason)
_FIELDS = {"assign": {"department"}, "extend": {"due"}, "resolve": {"resolved"},
           "escalate": set(), "defer": set(), "continue": set()}
_OPTIONAL = {"case", "decision", "reason", "title"}  # title: for the reader, ignored
AFTER_DECISION_HOOK: Callable[[int], None] | None = None


class MeetingError(GovernError):
    """A meeting operation was refused; nothing was written."""

    label = "govern.meet.err.generic"


class MinutesExistError(MeetingError):
    """The meeting already has minutes with a different content."""

    label = "govern.meet.err.minutes_exist"


class MinutesError(IssuesError):
    """The decisions of a minutes were refused, with every problem found; nothing written."""

    headline = "govern.meet.err.minutes"


@dataclass(frozen=True)
class Decision:
    """One decision of a minutes, as recorded."""

    case: int
    decision: str
    reason: str | None = None
    due: str | None = None
    department: str | None = None
    resolved: bool | None = None
    to: str | None = None              # escalate: quarterly | leading_group
    leading_group: bool = False        # flagged for the leading group as unsettled

    def body(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Minutes:
    recorded: str
    attendees: tuple[str, ...]
    summary: str
    decisions: tuple[Decision, ...]
    actor: str
    role: str
    reason: str


@dataclass(frozen=True)
class Meeting:
    """A convened meeting with its agenda (and its minutes once recorded)."""

    id: int
    key: str
    kind: str
    date: str
    simulated: bool
    created: str
    actor: str
    role: str
    reason: str
    items: tuple[AgendaItem, ...] = ()
    minutes: Minutes | None = None
    replayed: bool = False

    def item(self, case_id: int) -> AgendaItem | None:
        return next((i for i in self.items if i.case_id == case_id), None)


# ------------------------------------------------------------------------------ reads
def _snapshot(conn: Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                         dict[int, str]]:
    c, e, m = S.govern_cases, S.govern_events, S.govern_meetings
    cases = [dict(r) for r in conn.execute(sa.select(
        c.c.id, c.c.title, c.c.opened, c.c.due, c.c.simulated, c.c.lead_department)
    ).mappings()]
    events = [dict(r) for r in conn.execute(sa.select(
        e.c.case_id, e.c.seq, e.c.kind, e.c.to_state, e.c.effective, e.c.due, e.c.detail,
        e.c.meeting_id)).mappings()]
    kinds = {int(i): str(k) for i, k in conn.execute(sa.select(m.c.id, m.c.kind))}
    return cases, events, kinds


def _check_kind(kind: str) -> str:
    if kind not in MEETING_KINDS:
        raise MeetingError("govern.meet.err.kind", value=kind, allowed="、".join(MEETING_KINDS))
    return kind


def meeting_date(value: dt.date | str, name: str = "date") -> str:
    """``value`` as an ISO date, or a bilingual refusal naming ``name``."""
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise MeetingError("govern.meet.err.date", field=name, value=value) from None


def agenda(register: Register, *, date: dt.date | str, kind: str,
           rules: MeetingRules | str | Path | dict[str, Any] | None = None) -> list[AgendaItem]:
    """The agenda a meeting of ``kind`` on ``date`` would have now (nothing written)."""
    day, kind = meeting_date(date), _check_kind(kind)
    with register.records.read() as conn:
        cases, events, kinds = _snapshot(conn)
    return agenda_items(cases, events, date=day, kind=kind, meeting_kinds=kinds,
                        rules=cal.rules(rules))


def _load(conn: Connection, meeting_id: int, *, replayed: bool = False) -> Meeting:
    m, a, mi = S.govern_meetings, S.govern_agenda, S.govern_minutes
    row = conn.execute(sa.select(m).where(m.c.id == meeting_id)).mappings().first()
    if row is None:
        raise MeetingError("govern.meet.err.unknown", meeting=meeting_id)
    cases, events, _ = _snapshot(conn)
    # each case as the meeting saw it: on its date, before its own decisions
    by_case: dict[int, list[dict[str, Any]]] = {}
    for ev in events:
        if ev["meeting_id"] != meeting_id:
            by_case.setdefault(int(ev["case_id"]), []).append(ev)
    fields = {int(x["id"]): x for x in cases}
    items = []
    for r in conn.execute(sa.select(a.c.pos, a.c.case_id, a.c.item).where(
            a.c.meeting_id == meeting_id).order_by(a.c.pos)).mappings():
        cid = int(r["case_id"])
        case = fields[cid]
        seen = case_on(case, by_case.get(cid, []), date=row["date"])
        items.append(AgendaItem(
            case_id=cid, reasons=tuple(str(r["item"]).split("+")), title=case["title"],
            state=seen.state if seen else "",
            due_in_force=seen.due_in_force if seen else str(case["due"]),
            overdue=seen.overdue if seen else False, simulated=bool(case["simulated"]),
            lead_department=seen.lead_department if seen else case["lead_department"],
            pos=int(r["pos"])))
    mrow = conn.execute(sa.select(mi).where(mi.c.meeting_id == meeting_id)).mappings().first()
    minutes = None
    if mrow is not None:
        minutes = Minutes(
            recorded=mrow["recorded"], attendees=tuple(json.loads(mrow["attendees"])),
            summary=mrow["summary"],
            decisions=tuple(Decision(**d) for d in json.loads(mrow["decisions"])),
            actor=mrow["actor"], role=mrow["role"], reason=mrow["reason"])
    return Meeting(id=int(row["id"]), key=row["key"], kind=row["kind"], date=row["date"],
                   simulated=bool(row["simulated"]), created=row["created"],
                   actor=row["actor"], role=row["role"], reason=row["reason"],
                   items=tuple(items), minutes=minutes, replayed=replayed)


def _find(conn: Connection, meeting: int | str) -> int:
    m = S.govern_meetings
    text = str(meeting).strip()
    q = sa.select(m.c.id).where(m.c.key == text)
    found = conn.execute(q).scalar_one_or_none()
    if found is None and text.isdigit():
        found = conn.execute(sa.select(m.c.id).where(m.c.id == int(text))).scalar_one_or_none()
    if found is None:
        raise MeetingError("govern.meet.err.unknown", meeting=meeting)
    return int(found)


def meeting(register: Register, ref: int | str) -> Meeting:
    """One meeting (by key, or by id) with its agenda and minutes."""
    return _read(register, ref)


def _read(register: Register, ref: int | str) -> Meeting:
    with register.records.read() as conn:
        return _load(conn, _find(conn, ref))


def meetings(register: Register) -> list[Meeting]:
    """Every convened meeting, by date then id, with agenda and minutes."""
    m = S.govern_meetings
    with register.records.read() as conn:
        ids = conn.execute(sa.select(m.c.id).order_by(m.c.date, m.c.id)).scalars().all()
        return [_load(conn, int(i)) for i in ids]


# ------------------------------------------------------------------------------ writes
def _text(value: object, name: str) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise MeetingError("govern.err.empty", field=name)
    return text


def convene(register: Register, *, date: dt.date | str, kind: str, key: str | None = None,
            actor: str, role: str, reason: str, simulated: bool = False,
            rules: MeetingRules | str | Path | dict[str, Any] | None = None) -> Meeting:
    """Convene a meeting: store it with its agenda derived from the register now (see the
    module doc); idempotent by ``key`` (default: the key of the period of ``date``; a meeting
    the calendar moved into the next period — e.g. a December meeting moved past New Year —
    takes its planned key, :attr:`PlannedMeeting.key`)."""
    day, kind = meeting_date(date), _check_kind(kind)
    spec = cal.rules(rules)
    idem = _text(key, "key") if key is not None else meeting_key(kind, day)
    audit = {"actor": _text(actor, "actor"), "role": _text(role, "role"),
             "reason": _text(reason, "reason")}
    m, a = S.govern_meetings, S.govern_agenda

    def work(conn: Connection) -> Meeting:
        row = conn.execute(sa.select(m.c.id, m.c.kind, m.c.date, m.c.simulated).where(
            m.c.key == idem)).first()
        if row is not None:
            if (row.kind, row.date, bool(row.simulated)) != (kind, day, bool(simulated)):
                raise MeetingError("govern.meet.err.key_taken", idem=idem, kind=row.kind,
                                   date=row.date)
            return _load(conn, int(row.id), replayed=True)
        cases, events, kinds = _snapshot(conn)
        items = agenda_items(cases, events, date=day, kind=kind, meeting_kinds=kinds,
                             rules=spec)
        meeting_id = conn.execute(m.insert().values(
            key=idem, kind=kind, date=day, created=register._clock(),
            simulated=bool(simulated), **audit).returning(m.c.id)).scalar_one()
        if items:
            conn.execute(a.insert(), [{"meeting_id": meeting_id, "pos": i.pos,
                                       "case_id": i.case_id, "item": i.item} for i in items])
        return _load(conn, int(meeting_id))

    return register._write(work)


def _issue(label: str, row: int | None = None, **fmt: Any) -> Issue:
    return Issue(t(label, **fmt), row=row)


def _decisions(meeting: Meeting, decisions: Iterable[Mapping[str, Any]],
               spec: MeetingRules, finished: set[int] | frozenset[int] = frozenset()
               ) -> list[Decision]:
    """The decisions checked against the agenda and each other (every problem at once).
    ``finished``: cases no longer open (closed since the agenda was drawn up: nothing is
    left for the leading group)."""
    issues: list[Issue] = []
    out: list[Decision] = []
    seen: set[int] = set()
    for n, raw in enumerate(decisions, start=1):
        d = {k: v for k, v in dict(raw).items() if v is not None and str(v).strip() != ""}
        try:
            case = int(str(d.get("case", "")).strip())
        except ValueError:
            issues.append(_issue("govern.meet.err.d_case", n, value=d.get("case", "")))
            continue
        kind = str(d.get("decision", "")).strip().lower()
        item = meeting.item(case)
        if item is None:
            issues.append(_issue("govern.meet.err.d_not_on_agenda", n, case=case,
                                 meeting=meeting.key))
            continue
        if case in seen:
            issues.append(_issue("govern.meet.err.d_twice", n, case=case))
            continue
        seen.add(case)
        if kind not in DECISIONS:
            issues.append(_issue("govern.meet.err.d_kind", n, case=case, value=kind,
                                 allowed="、".join(DECISIONS)))
            continue
        extra = sorted(set(d) - _OPTIONAL - _FIELDS[kind])
        missing = sorted(_FIELDS[kind] - set(d))
        if kind == "extend" and "reason" not in d:
            missing.append("reason")
        if extra or missing:
            issues.append(_issue("govern.meet.err.d_fields", n, case=case, decision=kind,
                                 missing=", ".join(missing) or "—",
                                 extra=", ".join(extra) or "—"))
            continue
        fields: dict[str, Any] = {"case": case, "decision": kind,
                                  "reason": str(d["reason"]).strip() if "reason" in d else None}
        if kind == "extend":
            try:
                fields["due"] = meeting_date(d["due"], "due")
            except MeetingError as exc:
                issues.append(Issue(str(exc), row=n))
                continue
        if kind == "assign":
            fields["department"] = str(d["department"]).strip()
        if kind == "resolve":
            resolved = _bool(d["resolved"])
            if resolved is None:
                issues.append(_issue("govern.meet.err.d_resolved", n, case=case,
                                     value=d["resolved"]))
                continue
            fields["resolved"] = resolved
        quarterly = meeting.kind == "quarterly"
        if kind == "escalate":
            fields["to"] = "leading_group" if quarterly else "quarterly"
        fields["leading_group"] = bool(
            quarterly and case not in finished and kind not in spec.agenda.settled_by
            and kind != "escalate"
            and any(r in spec.agenda.leading_group_reasons for r in item.reasons))
        out.append(Decision(**fields))
    for item in meeting.items:
        if item.case_id not in seen:
            issues.append(_issue("govern.meet.err.d_missing", None, case=item.case_id,
                                 title=item.title, meeting=meeting.key))
    if issues:
        raise MinutesError(issues)
    return out


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in ("yes", "true", "1", "y", "是", "已解决"):
        return True
    if text in ("no", "false", "0", "n", "否", "未解决"):
        return False
    return None


def _sha(body: Mapping[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def record_minutes(register: Register, meeting: int | str, *,
                   decisions: Iterable[Mapping[str, Any]], attendees: Iterable[str],
                   summary: str, actor: str, role: str, reason: str,
                   rules: MeetingRules | str | Path | dict[str, Any] | None = None) -> Meeting:
    """Record the minutes of ``meeting`` (key or id) and apply its decisions to the register,
    all in one transaction (see the module doc); returns the meeting with its minutes."""
    spec = cal.rules(rules)
    found = _read(register, meeting)
    c = S.govern_cases
    with register.records.read() as conn:
        finished = {int(i) for i, st in conn.execute(sa.select(c.c.id, c.c.state))
                    if not register.machine.is_open(st)}
    checked = _decisions(found, decisions, spec, finished)
    people = [str(p).strip() for p in ([attendees] if isinstance(attendees, str) else attendees)
              if str(p).strip()]
    if not people:
        raise MeetingError("govern.err.empty", field="attendees")
    audit = {"actor": _text(actor, "actor"), "role": _text(role, "role"),
             "reason": _text(reason, "reason")}
    body: dict[str, Any] = {"decisions": [d.body() for d in checked], "attendees": people,
                            "summary": str(summary or "").strip(), **audit}
    # the minutes' identity is what was given: not the derived leading-group flags, which
    # depend on the cases' states when recorded (a replay after a later change still matches)
    sha = _sha({**body, "decisions": [{k: v for k, v in d.items() if k != "leading_group"}
                                      for d in body["decisions"]]})
    mi = S.govern_minutes
    flag = f"{t('govern.meet.leading_group_reason', 'zh')} / " \
           f"{t('govern.meet.leading_group_reason', 'en')}"

    def version(conn: Connection, case_id: int) -> int:
        q = sa.select(c.c.version).where(c.c.id == case_id)
        if register.records.dialect == "postgresql":
            q = q.with_for_update()
        return int(conn.execute(q).scalar_one())

    def work(conn: Connection) -> Meeting:
        done = conn.execute(sa.select(mi.c.body_sha).where(
            mi.c.meeting_id == found.id)).scalar_one_or_none()
        if done is not None:
            if done != sha:
                raise MinutesExistError(meeting=found.key)
            return _load(conn, found.id, replayed=True)
        conn.execute(mi.insert().values(
            meeting_id=found.id, recorded=register._clock(), body_sha=sha,
            attendees=json.dumps(people, ensure_ascii=False), summary=body["summary"],
            decisions=json.dumps(body["decisions"], ensure_ascii=False), **audit))
        common: dict[str, Any] = {"actor": audit["actor"], "role": audit["role"],
                                  "effective": found.date, "meeting_id": found.id}
        for n, d in enumerate(checked, start=1):
            why = d.reason or f"{found.key}: {audit['reason']}"
            change = None
            if d.decision == "assign":
                change = register.change(d.case, "assign", detail={"lead_department":
                                                                    d.department},
                                         expected_version=version(conn, d.case), reason=why,
                                         **common)
            elif d.decision == "extend":
                change = register.change(d.case, "extend", due=d.due, reason=why,
                                         expected_version=version(conn, d.case), **common)
            elif d.decision == "resolve":
                change = register.change(d.case, "state", to_state="closed",
                                         resolved=d.resolved, reason=why,
                                         expected_version=version(conn, d.case), **common)
            elif d.decision in ("escalate", "defer"):
                change = register.change(d.case, d.decision,
                                         detail={"to": d.to} if d.to else None, reason=why,
                                         expected_version=version(conn, d.case), **common)
            if change is not None:
                change(conn)
            if d.leading_group:
                register.change(d.case, "escalate", detail={"to": "leading_group"},
                                reason=flag, expected_version=version(conn, d.case),
                                **common)(conn)
            if AFTER_DECISION_HOOK is not None:
                AFTER_DECISION_HOOK(n)
        return _load(conn, found.id)

    return register._write(work)


@dataclass(frozen=True)
class DecisionsFile:
    """A decisions file as read: the decisions, and the attendees and summary if it has them."""

    decisions: list[dict[str, Any]]
    attendees: list[str]
    summary: str | None


def read_decisions(path: str | Path) -> DecisionsFile:
    """Read a decisions file: YAML — a list of decisions, or a mapping with ``decisions`` (and
    optionally ``attendees``, ``summary``) — or CSV with the columns ``case``, ``decision`` and
    as needed ``due``, ``department``, ``resolved``, ``reason`` (UTF-8, a header row).
    Every value is read as text (checked by :func:`record_minutes`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MeetingError("govern.meet.err.decisions_file", file=str(p), why=str(exc)) from None
    if p.suffix.lower() == ".csv":
        import csv
        import io

        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows or not {"case", "decision"} <= set(rows[0]):
            raise MeetingError("govern.meet.err.decisions_shape", file=str(p))
        return DecisionsFile([{k.strip(): v for k, v in r.items() if k} for r in rows], [], None)
    import yaml

    try:
        data = yaml.load(text, Loader=yaml.BaseLoader)  # every value as text
    except yaml.YAMLError as exc:
        raise MeetingError("govern.meet.err.decisions_file", file=str(p), why=str(exc)) from None
    attendees: list[str] = []
    summary = None
    if isinstance(data, dict):
        if set(data) - {"decisions", "attendees", "summary"}:
            raise MeetingError("govern.meet.err.decisions_shape", file=str(p))
        raw = data.get("attendees") or []
        attendees = [str(a) for a in (raw if isinstance(raw, list) else [raw])]
        summary = data.get("summary")
        data = data.get("decisions")
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise MeetingError("govern.meet.err.decisions_shape", file=str(p))
    return DecisionsFile(data, attendees, None if summary is None else str(summary))
