"""The portal's audit trail (``portal_audit``): one row per write made through the portal or
through ``cocity portal`` — who (actor and the role acted in), what (action, target, detail as
JSON), from where (client) and when. Append-only: the database refuses UPDATE and DELETE.

:func:`write_audit` takes the caller's connection so that the row is written in the same
transaction as the change it records (both or neither).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cocity.records import Records
from cocity.records.schema import portal_audit


def stamp(now: dt.datetime | None = None) -> str:
    """A UTC time as the portal stores it: ISO 8601 with microseconds, fixed width (so that
    stored times sort and compare as text)."""
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stamp(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def write_audit(conn: Connection, *, actor: str, role: str, action: str, target: str,
                detail: dict[str, Any] | None = None, client: str = "cli",
                now: dt.datetime | None = None) -> None:
    """Append one audit row on ``conn`` (the caller's transaction)."""
    conn.execute(portal_audit.insert().values(
        at=stamp(now), actor=actor, role=role, action=action, target=target,
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
        client=client[:64]))


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    role: str
    action: str
    target: str
    detail: dict[str, Any]
    client: str


def audit_trail(records: Records, *, limit: int | None = 200, action: str | None = None,
                actor: str | None = None) -> list[AuditEntry]:
    """The newest audit rows first (at most ``limit``; ``None``: all), optionally of one action
    or one actor."""
    query = sa.select(portal_audit).order_by(portal_audit.c.id.desc())
    if action is not None:
        query = query.where(portal_audit.c.action == action)
    if actor is not None:
        query = query.where(portal_audit.c.actor == actor)
    if limit is not None:
        query = query.limit(limit)
    with records.read() as conn:
        rows = conn.execute(query).mappings().all()
    return [AuditEntry(id=r["id"], at=r["at"], actor=r["actor"], role=r["role"],
                       action=r["action"], target=r["target"], detail=json.loads(r["detail"]),
                       client=r["client"]) for r in rows]
