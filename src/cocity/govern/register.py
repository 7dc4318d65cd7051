"""The committee's case register (民生协同治理委员会 — 跨区域民生问题) on the records store.

Usage (every write names its audit: actor, role, reason; a new case also its idempotency key)::

    from cocity.records import open_records
    from cocity.govern import Register

    register = Register(open_records("cocity-records.sqlite"))   # or "postgresql+psycopg://…"
    who = {"actor": "zhang", "role": "secretary"}
    case = register.add_case(
        "异地就医报销慢", description="…", category="医疗", units=["成都", "重庆市"],
        lead_department="四川省医保局", co_departments=["重庆市医保局"], source="hotline",
        opened="2024-03-01", due="2024-05-31", priority="high",
        key="hotline-2024-0117", reason="热线转办", **who)
    case = register.transition(case.id, "accepted", expected_version=case.version,
                               reason="受理", **who)
    register.cases(as_of="2024-06-30")       # one row per case, with the derived 逾期 overdue
    register.events()                        # the whole event log
    register.case(case.id).history           # one case and its events

Design (the database backs each rule with a trigger or a constraint, migration
``0002_govern_cases``):

* **Cases** carry their fields as given (category, source and priority as ids of
  ``categories.yaml``, accepted by id or by their Chinese or English name; units resolved to
  GB/T 2260 codes by :meth:`cocity.data.units.UnitIndex.resolve`; dates as ISO dates). A case
  is checked whole before anything is written: an unknown value, an unknown, ambiguous or
  repeated unit, a due date before the opening date, an empty field → a
  :class:`~cocity.govern.errors.GovernError`, nothing written.
* **Idempotency**: ``add_case`` takes a ``key``; the same key with the same body (every field
  and the audit, not the time) returns the case already registered (``replayed=True``) and
  writes nothing; with another body it is refused (:class:`DuplicateCaseError`).
* **Events**: a case is created with its first event (nothing → ``initial``); every change of
  state is one appended event (case, seq per case, from, to, actor, role, time UTC, reason,
  and on closing ``resolved`` yes/no — closing is not solving). Events are never changed or
  deleted (triggers). The state machine is data (``states.yaml``, :mod:`cocity.govern.machine`).
* **Version**: a case's version is the seq of its last event. Each change names the version
  the writer saw (``expected_version``); a stale version is refused
  (:class:`VersionConflictError`) — no lost update between two writers. PostgreSQL locks the
  case row (``SELECT … FOR UPDATE``) before checking; SQLite's writers are serialised by
  ``BEGIN IMMEDIATE``.
* **Overdue** (逾期) is derived on reading: open state and ``as_of > due``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cocity.data.errors import CocityError
from cocity.govern.errors import (
    AppendOnlyError,
    DueBeforeOpenedError,
    DuplicateCaseError,
    GovernError,
    InvalidCaseError,
    InvalidTransitionError,
    UnknownCaseError,
    UnknownUnitError,
    VersionConflictError,
)
from cocity.govern.machine import (
    ESCALATION_TARGETS,
    EVENT_KINDS,
    Machine,
    Vocabularies,
    lookup,
    machine,
    vocabularies,
)
from cocity.outputs import now_utc
from cocity.records import schema as S

if TYPE_CHECKING:
    import pandas as pd

    from cocity.data.units import UnitIndex
    from cocity.records import Records

_RETRIES = 3


@dataclass(frozen=True)
class Event:
    """One change of a case's state (an appended row of ``govern_events``)."""

    case_id: int
    seq: int
    from_state: str | None
    to_state: str
    actor: str
    role: str
    time: str
    reason: str
    resolved: bool | None
    kind: str = "state"
    effective: str = ""
    due: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    meeting_id: int | None = None


@dataclass(frozen=True)
class Case:
    """A case as registered, with its current state and version (the seq of its last event).
    ``replayed``: this call found the case already registered under its key."""

    id: int
    key: str
    title: str
    description: str
    category: str
    source: str
    priority: str
    units: tuple[str, ...]
    lead_department: str
    co_departments: tuple[str, ...]
    opened: dt.date
    due: dt.date
    actor: str
    role: str
    reason: str
    created: str
    state: str
    version: int
    due_in_force: dt.date
    simulated: bool = False
    origin: dict[str, Any] | None = None
    replayed: bool = False

    def overdue(self, as_of: dt.date) -> bool:
        """逾期: still open on a date after the due date in force (the last extension's, else
        the case's own; derived, never stored)."""
        return machine().overdue(self.state, self.due_in_force, as_of)


@dataclass(frozen=True)
class CaseRecord:
    """A case with its whole history (events in seq order)."""

    case: Case
    history: tuple[Event, ...]


def _date(value: object, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidCaseError("govern.err.date", field=field, value=value) from None


def _text(value: object, field: str) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise InvalidCaseError("govern.err.empty", field=field)
    return text


def _choice(value: object, field: str, names: Mapping[str, Any]) -> str:
    found = lookup(_text(value, field), names)
    if found is None:
        allowed = "、".join(f"{k} ({n.zh}/{n.en})" for k, n in names.items())
        raise InvalidCaseError("govern.err.choice", field=field, value=value, allowed=allowed)
    return found


def _sha(body: Mapping[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _refusal(exc: sa.exc.DBAPIError) -> GovernError | None:
    """The register's refusal for an error raised by the database's own checks (backstops of
    what the code checks first), else ``None``."""
    text = str(exc.orig)
    if "cocity:append_only" in text:
        rest = text.split("cocity:append_only", 1)[1].split()
        return AppendOnlyError(table=rest[0] if rest else "?")
    if "cocity:govern_case_fixed" in text:
        return AppendOnlyError(table="govern_cases")
    if "cocity:govern_chain" in text or "uq_govern_events_seq" in text:
        return VersionConflictError("govern.err.db.chain")
    if "cocity:govern_event_kind" in text or "ck_govern_events_kind" in text:
        return InvalidTransitionError("govern.err.db.kind")
    if "ck_govern_cases_due" in text:
        return DueBeforeOpenedError("govern.err.db.due")
    return None


def _retryable(exc: sa.exc.DBAPIError) -> bool:
    """A conflict with a concurrent writer that a fresh attempt resolves (PostgreSQL: a
    deadlock, a serialisation failure, or a key taken meanwhile — the retry replays it)."""
    return getattr(exc.orig, "sqlstate", None) in ("40P01", "40001", "23505")


class Register:
    """The case register on an open records database (see the module doc).

    ``units``: the :class:`~cocity.data.units.UnitIndex` resolving unit names (default: the
    units of the embedded dataset, ``cocity.datasets.open_store()``, read on first use).
    ``clock``: the UTC time stamp of events (default :func:`cocity.outputs.now_utc`)."""

    def __init__(self, records: Records, *, units: UnitIndex | None = None,
                 clock: Callable[[], str] | None = None) -> None:
        self.records = records
        self._units = units
        self._clock = clock or now_utc
        self.machine: Machine = machine()
        self.vocab: Vocabularies = vocabularies()

    # -- helpers -------------------------------------------------------------------------
    @property
    def units(self) -> UnitIndex:
        if self._units is None:
            from cocity.data.units import UnitIndex
            from cocity.datasets import open_store

            self._units = UnitIndex(open_store().units())
        return self._units

    def _resolve_units(self, names: Iterable[object]) -> tuple[str, ...]:
        if isinstance(names, str):
            names = [names]
        codes: list[str] = []
        for name in names:
            try:
                code = self.units.resolve(name)
            except CocityError as exc:  # UnitNotFoundError, AmbiguousUnitError
                raise UnknownUnitError(text=name, why=str(exc)) from None
            if code in codes:
                raise UnknownUnitError("govern.err.unit_twice", text=name, code=code)
            codes.append(code)
        if not codes:
            raise InvalidCaseError("govern.err.empty", field="units")
        return tuple(codes)

    def _state(self, value: object) -> str:
        found = lookup(_text(value, "state"), self.machine.states)
        if found is None:
            allowed = "、".join(f"{k} ({d.zh})" for k, d in self.machine.states.items())
            raise InvalidTransitionError("govern.err.no_state", value=value, allowed=allowed)
        return found

    def _write(self, work: Callable[[Connection], Any]) -> Any:
        """Run ``work`` in one write transaction; map the database's refusals; retry the
        conflicts a fresh attempt resolves (PostgreSQL)."""
        for attempt in range(_RETRIES):
            try:
                with self.records.transaction() as conn:
                    return work(conn)
            except sa.exc.DBAPIError as exc:
                refused = _refusal(exc)
                if refused is not None:
                    raise refused from exc
                if attempt + 1 < _RETRIES and _retryable(exc):
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- writes --------------------------------------------------------------------------
    def add_case(self, title: str, *, description: str, category: str,
                 units: Iterable[object], lead_department: str,
                 co_departments: Iterable[str] = (), source: str,
                 opened: dt.date | str, due: dt.date | str, priority: str = "normal",
                 key: str, actor: str, role: str, reason: str, simulated: bool = False,
                 origin: Mapping[str, Any] | None = None) -> Case:
        """Register a new case (state ``initial`` of the machine, version 1, its first event
        effective on ``opened``), or return the one already registered under ``key`` with
        the same body; see the module doc. ``simulated``: a generated demonstration case
        (shown as such everywhere); ``origin``: where it came from (JSON-able, e.g. the
        evaluation run and unit of a rectification list)."""
        v = self.vocab
        if isinstance(co_departments, str):  # one department given as text, not a list
            co_departments = [co_departments]
        body: dict[str, Any] = {
            "title": _text(title, "title"),
            "description": str(description or "").strip(),
            "category": _choice(category, "category", v.categories),
            "source": _choice(source, "source", v.sources),
            "priority": _choice(priority, "priority", v.priorities),
            "units": list(self._resolve_units(units)),
            "lead_department": _text(lead_department, "lead_department"),
            "co_departments": [_text(d, "co_departments") for d in co_departments],
            "opened": _date(opened, "opened").isoformat(),
            "due": _date(due, "due").isoformat(),
            "simulated": bool(simulated),
            "origin": None if origin is None else json.loads(json.dumps(origin)),
        }
        if body["due"] < body["opened"]:
            raise DueBeforeOpenedError(due=body["due"], opened=body["opened"])
        audit = {"key": _text(key, "key"), "actor": _text(actor, "actor"),
                 "role": _text(role, "role"), "reason": _text(reason, "reason")}
        sha = _sha({"body": body, "actor": audit["actor"], "role": audit["role"],
                    "reason": audit["reason"]})

        def work(conn: Connection) -> Case:
            row = conn.execute(sa.select(S.govern_cases.c.id, S.govern_cases.c.body_sha)
                               .where(S.govern_cases.c.key == audit["key"])).first()
            if row is not None:
                if row.body_sha != sha:
                    raise DuplicateCaseError(idem=audit["key"], case=row.id)
                return self._load(conn, row.id, replayed=True)
            now = self._clock()
            values = {k: body[k] for k in body if k != "units"}
            values["co_departments"] = json.dumps(body["co_departments"], ensure_ascii=False)
            if values["origin"] is not None:
                values["origin"] = json.dumps(values["origin"], ensure_ascii=False,
                                              sort_keys=True)
            case_id = conn.execute(S.govern_cases.insert().values(
                **values, **audit, body_sha=sha, created=now, state=self.machine.initial,
                version=0).returning(S.govern_cases.c.id)).scalar_one()
            conn.execute(S.govern_case_units.insert(),
                         [{"case_id": case_id, "pos": i, "unit_code": c}
                          for i, c in enumerate(body["units"])])
            conn.execute(S.govern_events.insert().values(
                case_id=case_id, seq=1, from_state=None, to_state=self.machine.initial,
                actor=audit["actor"], role=audit["role"], time=now, reason=audit["reason"],
                resolved=None, kind="state", effective=body["opened"]))
            return self._load(conn, case_id)

        return self._write(work)

    def transition(self, case_id: int, to_state: str, *, expected_version: int, actor: str,
                   role: str, reason: str, resolved: bool | None = None,
                   effective: dt.date | str | None = None, key: str | None = None) -> Case:
        """Move a case to ``to_state`` (an id or a Chinese/English state name) by appending
        one ``state`` event; returns the case as it now is.

        ``effective``: the date the change took effect (default: today in China, UTC+8) —
        not before the case was opened nor before its previous event.
        ``key`` (optional) makes the change idempotent: the same key with the same body (case,
        target, expected version, resolved, audit) returns the case as it is now
        (``replayed=True``) and writes nothing — a writer retrying after a lost reply does not
        get a version conflict; with another body it is refused (:class:`DuplicateCaseError`).

        Refused, nothing written: an unknown case or state; a transition the machine does not
        allow from the current state; ``resolved`` missing when closing or given otherwise;
        ``expected_version`` differing from the case's version (another writer changed it:
        read it again and decide)."""
        change = self.change(case_id, "state", to_state=to_state,
                             expected_version=expected_version, actor=actor, role=role,
                             reason=reason, resolved=resolved, effective=effective, key=key)
        return self._write(change)

    def record(self, case_id: int, kind: str, *, expected_version: int, actor: str, role: str,
               reason: str, due: dt.date | str | None = None,
               detail: Mapping[str, Any] | None = None,
               effective: dt.date | str | None = None, key: str | None = None) -> Case:
        """Append one same-state event to an open case (``kind``: ``assign`` — a new lead
        department in ``detail["lead_department"]`` —, ``extend`` — a new ``due`` date, later
        than the due date in force —, ``defer``, ``escalate`` — ``detail["to"]``:
        ``quarterly`` or ``leading_group`` —; ``follow_up`` — a later evaluation's grade,
        also on a finished case). Same checks and idempotency as :meth:`transition`."""
        change = self.change(case_id, kind, expected_version=expected_version, actor=actor,
                             role=role, reason=reason, due=due, detail=detail,
                             effective=effective, key=key)
        return self._write(change)

    def change(self, case_id: int, kind: str, *, expected_version: int, actor: str, role: str,
               reason: str, to_state: str | None = None, resolved: bool | None = None,
               due: dt.date | str | None = None, detail: Mapping[str, Any] | None = None,
               effective: dt.date | str | None = None, key: str | None = None,
               meeting_id: int | None = None) -> Callable[[Connection], Case]:
        """The work of one event, checked up to what needs the database, as a function of an
        open write transaction (so that a meeting's minutes apply all their decisions in one
        transaction: :mod:`cocity.govern.meetings`). :meth:`transition` and :meth:`record`
        run it in a transaction of their own."""
        if kind not in EVENT_KINDS:
            raise InvalidTransitionError("govern.err.kind", value=kind,
                                         allowed="、".join(EVENT_KINDS))
        state_change = kind == "state"
        target = self._state(to_state) if state_change else None
        if not state_change and to_state is not None:
            raise InvalidTransitionError("govern.err.kind_state", value=kind)
        audit = {"actor": _text(actor, "actor"), "role": _text(role, "role"),
                 "reason": _text(reason, "reason")}
        closing = target == self.machine.closing
        if closing and resolved is None:
            raise InvalidTransitionError("govern.err.resolved_missing", case=case_id)
        if not closing and resolved is not None:
            raise InvalidTransitionError("govern.err.resolved_extra", case=case_id,
                                         state=target or kind)
        new_due = None if due is None else _date(due, "due").isoformat()
        if (kind == "extend") != (new_due is not None):
            raise InvalidTransitionError("govern.err.extend_due", case=case_id)
        info = dict(detail or {})
        if kind == "assign":
            info["lead_department"] = _text(info.get("lead_department"), "lead_department")
        if kind == "escalate" and info.get("to") not in ESCALATION_TARGETS:
            raise InvalidTransitionError("govern.err.escalate_to", value=info.get("to"),
                                         allowed="、".join(ESCALATION_TARGETS))
        day = self._today() if effective is None else _date(effective, "effective").isoformat()
        detail_text = json.dumps(info, ensure_ascii=False, sort_keys=True) if info else None
        idem = None if key is None else _text(key, "key")
        sha = None if idem is None else _sha({
            "case": int(case_id), "kind": kind, "to": target, "resolved": resolved,
            "expected_version": int(expected_version), "due": new_due, "detail": info,
            "effective": day, "meeting": meeting_id, **audit})

        def work(conn: Connection) -> Case:
            c = S.govern_cases
            q = sa.select(c.c.state, c.c.version, c.c.opened, c.c.due).where(
                c.c.id == int(case_id))
            if self.records.dialect == "postgresql":
                q = q.with_for_update()
            row = conn.execute(q).first()
            if row is None:
                raise UnknownCaseError(case=case_id)
            # after the row lock: a concurrent retry under the same key is seen committed
            if idem is not None:
                done = conn.execute(sa.select(S.govern_events.c.case_id,
                                              S.govern_events.c.body_sha).where(
                    S.govern_events.c.key == idem)).first()
                if done is not None:
                    if done.body_sha != sha:
                        raise DuplicateCaseError("govern.err.duplicate_event", idem=idem,
                                                 case=done.case_id)
                    return self._load(conn, int(done.case_id), replayed=True)
            if int(expected_version) != row.version:
                raise VersionConflictError(case=case_id, expected=expected_version,
                                           version=row.version, state=self._name(row.state))
            if target is not None and not self.machine.allowed(row.state, target):
                nexts = "、".join(self._name(s) for s in self.machine.transitions[row.state])
                raise InvalidTransitionError(case=case_id, src=self._name(row.state),
                                             dst=self._name(target), allowed=nexts or "—")
            if kind not in ("state", "follow_up") and not self.machine.is_open(row.state):
                raise InvalidTransitionError("govern.err.kind_closed", case=case_id,
                                             kind=kind, state=self._name(row.state))
            last = conn.execute(sa.select(sa.func.max(S.govern_events.c.effective)).where(
                S.govern_events.c.case_id == int(case_id))).scalar_one()
            floor = max(row.opened, last or row.opened)
            if day < floor:
                raise InvalidTransitionError("govern.err.effective_early", case=case_id,
                                             day=day, floor=floor)
            if new_due is not None:
                in_force = _due_in_force(conn, int(case_id), row.due)
                if new_due <= in_force:
                    raise InvalidTransitionError("govern.err.extend_earlier", case=case_id,
                                                 due=new_due, current=in_force)
            conn.execute(S.govern_events.insert().values(
                case_id=int(case_id), seq=row.version + 1, from_state=row.state,
                to_state=target or row.state, time=self._clock(), resolved=resolved,
                key=idem, body_sha=sha, kind=kind, effective=day, due=new_due,
                detail=detail_text, meeting_id=meeting_id, **audit))
            return self._load(conn, int(case_id))

        return work

    def _today(self) -> str:
        """Today's date in China (UTC+8) by the register's clock."""
        stamp = dt.datetime.fromisoformat(self._clock().replace("Z", "+00:00"))
        return (stamp + dt.timedelta(hours=8)).date().isoformat()

    def _name(self, state: str) -> str:
        d = self.machine.states[state]
        return f"{d.zh} {d.en}"

    # -- reads ---------------------------------------------------------------------------
    def _load(self, conn: Connection, case_id: int, *, replayed: bool = False) -> Case:
        row = conn.execute(sa.select(S.govern_cases).where(
            S.govern_cases.c.id == case_id)).mappings().first()
        if row is None:
            raise UnknownCaseError(case=case_id)
        units = conn.execute(sa.select(S.govern_case_units.c.unit_code).where(
            S.govern_case_units.c.case_id == case_id).order_by(
            S.govern_case_units.c.pos)).scalars().all()
        return Case(
            id=int(row["id"]), key=row["key"], title=row["title"],
            description=row["description"], category=row["category"], source=row["source"],
            priority=row["priority"], units=tuple(units),
            lead_department=row["lead_department"],
            co_departments=tuple(json.loads(row["co_departments"])),
            opened=dt.date.fromisoformat(row["opened"]), due=dt.date.fromisoformat(row["due"]),
            actor=row["actor"], role=row["role"], reason=row["reason"],
            created=row["created"], state=row["state"], version=int(row["version"]),
            due_in_force=dt.date.fromisoformat(_due_in_force(conn, case_id, row["due"])),
            simulated=bool(row["simulated"]),
            origin=None if row["origin"] is None else json.loads(row["origin"]),
            replayed=replayed)

    def case(self, case_id: int) -> CaseRecord:
        """One case and its history (events in seq order)."""
        with self.records.read() as conn:
            case = self._load(conn, int(case_id))
            rows = conn.execute(sa.select(S.govern_events).where(
                S.govern_events.c.case_id == int(case_id)).order_by(
                S.govern_events.c.seq)).mappings().all()
        return CaseRecord(case, tuple(_event(r) for r in rows))

    def events(self) -> pd.DataFrame:
        """The whole event log, one row per event, ordered by case and seq: ``case_id``,
        ``seq``, ``kind``, ``from_state``, ``to_state``, ``effective``, ``actor``, ``role``,
        ``time``, ``reason``, ``resolved`` (on closing events only), ``due`` (on extensions
        only), ``detail`` (JSON text or missing), ``meeting_id``."""
        import pandas as pd

        cols = ["case_id", "seq", "kind", "from_state", "to_state", "effective", "actor",
                "role", "time", "reason", "resolved", "due", "detail", "meeting_id"]
        with self.records.read() as conn:
            rows = conn.execute(sa.select(*(S.govern_events.c[c] for c in cols)).order_by(
                S.govern_events.c.case_id, S.govern_events.c.seq)).all()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=cols)
        frame["resolved"] = frame["resolved"].astype("boolean")
        for col in ("from_state", "due", "detail"):
            frame[col] = frame[col].astype("string")
        frame["meeting_id"] = frame["meeting_id"].astype("Int64")
        return frame.astype({"case_id": "int64", "seq": "int64"})

    def cases(self, *, as_of: dt.date | str | None = None) -> pd.DataFrame:
        """Every case, one row each, ordered by id: its fields (``units`` and
        ``co_departments`` joined with ``;``), ``state``, ``version``, ``simulated``,
        ``origin`` (JSON text or missing),
        ``due_in_force`` (the last extension's date, else ``due``) and ``overdue`` — open on
        ``as_of`` (default: today in China, UTC+8, by the register's clock) after its due
        date in force (derived, never stored)."""
        import pandas as pd

        day = dt.date.fromisoformat(self._today()) if as_of is None else _date(as_of, "as_of")
        c, u = S.govern_cases, S.govern_case_units
        cols = ["id", "key", "title", "category", "source", "priority", "lead_department",
                "co_departments", "opened", "due", "state", "version", "simulated", "origin"]
        e = S.govern_events
        with self.records.read() as conn:
            rows = conn.execute(sa.select(*(c.c[k] for k in cols)).order_by(c.c.id)).all()
            last = sa.select(e.c.case_id, sa.func.max(e.c.seq).label("seq")).where(
                e.c.kind == "extend").group_by(e.c.case_id).subquery()
            extended = dict(conn.execute(sa.select(e.c.case_id, e.c.due).join(
                last, (last.c.case_id == e.c.case_id) & (last.c.seq == e.c.seq))).all())
            units = conn.execute(sa.select(u.c.case_id, u.c.unit_code).order_by(
                u.c.case_id, u.c.pos)).all()
        by_case: dict[int, list[str]] = {}
        for cid, code in units:
            by_case.setdefault(int(cid), []).append(code)
        frame = pd.DataFrame([tuple(r) for r in rows], columns=cols)
        frame.insert(3, "units", [";".join(by_case.get(int(i), [])) for i in frame["id"]])
        frame["co_departments"] = [";".join(json.loads(x)) for x in frame["co_departments"]]
        frame["due_in_force"] = [extended.get(int(i), d) for i, d in
                                 zip(frame["id"], frame["due"], strict=True)]
        frame["overdue"] = [self.machine.overdue(s, dt.date.fromisoformat(d), day)
                            for s, d in zip(frame["state"], frame["due_in_force"], strict=True)]
        return frame.astype({"id": "int64", "version": "int64", "overdue": "bool",
                             "simulated": "bool"})

    def state_counts(self) -> dict[str, int]:
        """How many cases are in each state (every state of the machine, zeros included), as
        the register holds them."""
        c = S.govern_cases
        with self.records.read() as conn:
            rows = conn.execute(sa.select(c.c.state, sa.func.count()).group_by(c.c.state)).all()
        counts = dict.fromkeys(self.machine.states, 0)
        counts.update({str(s): int(n) for s, n in rows})
        return counts


def _event(row: Any) -> Event:
    resolved = row["resolved"]
    return Event(case_id=int(row["case_id"]), seq=int(row["seq"]),
                 from_state=row["from_state"], to_state=row["to_state"], actor=row["actor"],
                 role=row["role"], time=row["time"], reason=row["reason"],
                 resolved=None if resolved is None else bool(resolved), kind=row["kind"],
                 effective=row["effective"], due=row["due"],
                 detail=json.loads(row["detail"]) if row["detail"] else {},
                 meeting_id=None if row["meeting_id"] is None else int(row["meeting_id"]))


def _due_in_force(conn: Connection, case_id: int, due: str) -> str:
    """The due date in force of a case: its last extension's date, else its own."""
    e = S.govern_events
    extended = conn.execute(sa.select(e.c.due).where(
        e.c.case_id == case_id, e.c.kind == "extend").order_by(e.c.seq.desc()).limit(1)
    ).scalar_one_or_none()
    return str(extended or due)

