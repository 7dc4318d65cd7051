"""The committee's public event log (公开事件日志) and its Open311 GeoReport v2 view.

:func:`event_log` — one row per event (ordered by case and seq), with everything needed to
recompute every published statistic from this file alone
(:mod:`cocity.govern.recompute`). Columns (:data:`EVENT_COLUMNS`):

* every row: ``case_id``, ``seq``, ``kind`` (state/assign/extend/defer/escalate/follow_up),
  ``from_state`` (empty on the first event), ``to_state``, ``effective`` (ISO date the change
  took effect), ``resolved`` (``true``/``false`` on the closing event only), ``due`` (the new
  due date of an ``extend`` event), ``escalated_to`` (``quarterly``/``leading_group`` of an
  ``escalate`` event), ``assigned_to`` (the new lead department of an ``assign`` event),
  ``meeting_id`` and ``meeting_kind`` (monthly/quarterly) of an event decided at a meeting,
  ``role`` (the role of who recorded it), ``simulated`` (the case is a generated demonstration
  case: ``true``/``false``);
* the case's own fields, on its FIRST row (seq 1) only, empty on the others: ``category``,
  ``units`` (GB/T 2260 codes joined with ``;``), ``opened``, ``case_due`` (the original due
  date), ``title``, ``description``, ``source``, ``priority``, ``lead_department``,
  ``co_departments`` (``;``-joined).

Public and private fields (the decision, for the published file): the case as the committee
registered it (title, description, category, units, departments, dates, source, priority),
every change of state, its date, resolution, extension, escalation and meeting, and the ROLE
of who recorded it are public. NOT published: the actor's login (a person), the free-text
reason of each event (it may name a complainant), idempotency keys and body fingerprints,
machine time stamps (the effective date is published instead), the free detail of
``defer``/``follow_up`` events and a case's ``origin``.

:func:`open311_requests` — the cases as GeoReport v2 ``service_requests`` (the JSON response
of ``GET requests``: a list of objects with the spec's field names): ``service_request_id``,
``status`` (``open``/``closed``: every state that is not open — 已办结, 退回, 已撤销 — is
``closed`` in Open311's two-state vocabulary; ``status_notes`` names the register's own state
and resolution), ``status_notes``, ``service_name`` (the category's name), ``service_code``
(the category id), ``description``, ``agency_responsible`` (the lead department),
``requested_datetime`` (opened), ``updated_datetime`` (the last event's effective date),
``expected_datetime`` (the due date in force), ``address`` (the units' names), ``lat``/``long``
(the representative point of the case's FIRST unit in the embedded dataset; omitted when the
unit has none). The register records dates, not times: datetimes are midnight China time
(``+08:00``). ``service_notice``, ``address_id``, ``zipcode`` and ``media_url`` are not kept
by the register and are omitted.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from cocity.govern.errors import GovernError
from cocity.govern.machine import machine, vocabularies
from cocity.govern.stats import as_of_date
from cocity.records import schema as S

if TYPE_CHECKING:
    import pandas as pd

    from cocity.records import Records

EVENT_COLUMNS = ("case_id", "seq", "kind", "from_state", "to_state", "effective", "resolved",
                 "due", "escalated_to", "assigned_to", "meeting_id", "meeting_kind", "role",
                 "simulated", "category", "units", "opened", "case_due", "title",
                 "description", "source", "priority", "lead_department", "co_departments")
EXPORT_FORMATS = ("csv", "json", "open311")
FORMAT = "cocity-govern-events"
FORMAT_VERSION = 1


def _flag(value: object) -> str:
    return "" if value is None else ("true" if bool(value) else "false")


def event_log(records: Records) -> pd.DataFrame:
    """The public event log (see the module doc), every column as text ('' = empty) except
    ``case_id`` and ``seq``."""
    import pandas as pd

    e, c, m = S.govern_events, S.govern_cases, S.govern_meetings
    u = S.govern_case_units
    with records.read() as conn:
        rows = conn.execute(
            sa.select(e.c.case_id, e.c.seq, e.c.kind, e.c.from_state, e.c.to_state,
                      e.c.effective, e.c.resolved, e.c.due, e.c.detail, e.c.meeting_id,
                      m.c.kind, e.c.role, c.c.simulated)
            .select_from(e.join(c, c.c.id == e.c.case_id)
                         .outerjoin(m, m.c.id == e.c.meeting_id))
            .order_by(e.c.case_id, e.c.seq)).all()
        cases = conn.execute(sa.select(
            c.c.id, c.c.category, c.c.opened, c.c.due, c.c.title, c.c.description, c.c.source,
            c.c.priority, c.c.lead_department, c.c.co_departments)).all()
        units = conn.execute(sa.select(u.c.case_id, u.c.unit_code).order_by(
            u.c.case_id, u.c.pos)).all()
    codes: dict[int, list[str]] = {}
    for cid, code in units:
        codes.setdefault(int(cid), []).append(code)
    first = {int(r[0]): (r[1], ";".join(codes.get(int(r[0]), [])), r[2], r[3], r[4], r[5],
                         r[6], r[7], r[8], ";".join(json.loads(r[9]))) for r in cases}
    blank = ("",) * 10
    out = []
    for r in rows:
        detail = json.loads(r[8]) if r[8] and r[2] in ("escalate", "assign") else {}
        out.append((int(r[0]), int(r[1]), r[2], r[3] or "", r[4], r[5], _flag(r[6]),
                    r[7] or "", detail.get("to", "") if r[2] == "escalate" else "",
                    detail.get("lead_department", "") if r[2] == "assign" else "",
                    "" if r[9] is None else str(int(r[9])), r[10] or "", r[11],
                    _flag(r[12]), *(first[int(r[0])] if int(r[1]) == 1 else blank)))
    return pd.DataFrame(out, columns=list(EVENT_COLUMNS))


def open311_requests(records: Records, *, as_of: dt.date | str | None = None,
                     lang: str | None = None, points: Mapping[str, tuple[str, float, float]]
                     | None = None) -> list[dict[str, Any]]:
    """The cases as Open311 GeoReport v2 service requests (see the module doc), as of
    ``as_of`` (default: every event). ``points``: unit code → (name, lon, lat) (default: the
    embedded dataset's units)."""
    from cocity.i18n import current_lang, t

    lang = lang or current_lang()
    spec, vocab = machine(), vocabularies()
    day = None if as_of is None else as_of_date(as_of).isoformat()
    pts = dict(points) if points is not None else _points(lang)
    c, e, u = S.govern_cases, S.govern_events, S.govern_case_units
    with records.read() as conn:
        q = sa.select(c.c.id, c.c.category, c.c.description, c.c.title, c.c.lead_department,
                      c.c.opened, c.c.due, c.c.simulated).order_by(c.c.id)
        if day is not None:
            q = q.where(c.c.opened <= day)
        cases = conn.execute(q).all()
        evq = sa.select(e.c.case_id, e.c.kind, e.c.to_state, e.c.effective, e.c.resolved,
                       e.c.due, e.c.detail).order_by(e.c.case_id, e.c.seq)
        if day is not None:
            evq = evq.where(e.c.effective <= day)
        events = conn.execute(evq).all()
        units = conn.execute(sa.select(u.c.case_id, u.c.unit_code).order_by(
            u.c.case_id, u.c.pos)).all()
    codes: dict[int, list[str]] = {}
    for cid, code in units:
        codes.setdefault(int(cid), []).append(code)
    last: dict[int, Any] = {}
    due: dict[int, str] = {}
    resolved: dict[int, bool] = {}
    lead: dict[int, str] = {}
    for ev in events:
        cid = int(ev[0])
        last[cid] = ev
        if ev[1] == "extend":
            due[cid] = ev[5]
        if ev[4] is not None:
            resolved[cid] = bool(ev[4])
        if ev[1] == "assign" and ev[6]:
            lead[cid] = json.loads(ev[6]).get("lead_department", "")
    out = []
    for r in cases:
        cid = int(r[0])
        state = last[cid][2]
        notes = [spec.states[state].text(lang)]
        if cid in resolved:
            notes.append(t("govern.stats.resolved" if resolved[cid]
                           else "govern.stats.unresolved", lang))
        if r[7]:
            notes.append(t("govern.stats.simulated_case", lang))
        unit_codes = codes.get(cid, [])
        item: dict[str, Any] = {
            "service_request_id": str(cid),
            "status": "open" if spec.is_open(state) else "closed",
            "status_notes": "；".join(notes) if lang == "zh" else "; ".join(notes),
            "service_name": vocab.categories[r[1]].text(lang),
            "service_code": r[1],
            "description": r[2] or r[3],
            "agency_responsible": lead.get(cid, r[4]),
            "requested_datetime": _stamp(r[5]),
            "updated_datetime": _stamp(last[cid][3]),
            "expected_datetime": _stamp(due.get(cid, r[6])),
            "address": ("、" if lang == "zh" else ", ").join(
                pts[k][0] if k in pts else k for k in unit_codes),
        }
        if unit_codes and unit_codes[0] in pts:
            item["lat"], item["long"] = pts[unit_codes[0]][2], pts[unit_codes[0]][1]
        out.append(item)
    return out


def _stamp(day: str) -> str:
    return f"{day}T00:00:00+08:00"


def _points(lang: str | None = None) -> dict[str, tuple[str, float, float]]:
    """Unit code → (name, lon, lat) of the embedded dataset (its representative points)."""
    from cocity.datasets import open_store
    from cocity.i18n import current_lang

    units = open_store().units()
    col = "name_zh" if (lang or current_lang()) == "zh" else "name_en"
    out = {}
    for code, name, lon, lat in zip(units["code"], units[col], units["lon"], units["lat"],
                                    strict=True):
        if lon == lon and lat == lat:  # not NaN
            out[str(code)] = (str(name), float(lon), float(lat))
    return out


def write_export(records: Records, path: str | Path, *, fmt: str = "csv",
                 as_of: dt.date | str | None = None) -> dict[str, Any]:
    """Write the public event log (``csv`` or ``json``) or the Open311 requests (``open311``)
    to ``path`` and its manifest (``<path>.manifest.json``: size and SHA-256 of the file, the
    number of rows, whether simulated cases are included); returns the manifest."""
    from cocity.outputs import dumps, manifest, write_atomic, write_csv, write_json

    if fmt not in EXPORT_FORMATS:
        raise GovernError("govern.stats.err.format", value=fmt,
                          allowed=", ".join(EXPORT_FORMATS))
    target = Path(path)
    if fmt == "open311":
        requests = open311_requests(records, as_of=as_of)
        write_atomic(dumps(requests), target)
        rows = len(requests)
        with records.read() as conn:
            n_sim = int(conn.execute(sa.select(sa.func.count()).where(
                S.govern_cases.c.simulated.is_(True))).scalar_one())
    else:
        log = event_log(records)
        rows = len(log)
        n_sim = int(log.loc[log["simulated"] == "true", "case_id"].nunique())
        simulated = n_sim > 0
        if fmt == "csv":
            write_csv(log, target)
        else:
            write_json({"format": FORMAT, "version": FORMAT_VERSION,
                                "simulated": simulated, "columns": list(EVENT_COLUMNS),
                                "events": log.to_dict(orient="records")}, target)
    doc = manifest(f"govern.export.{fmt}", outputs={"events": target}, root=target.parent,
                   format=fmt, rows=rows, simulated=n_sim > 0, simulated_cases=n_sim,
                   public_fields=list(EVENT_COLUMNS) if fmt != "open311" else None)
    write_json(doc, target.with_name(target.name + ".manifest.json"))
    return doc
