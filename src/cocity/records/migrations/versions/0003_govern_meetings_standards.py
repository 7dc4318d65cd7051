"""The committee's second part: event kinds and effective dates, meetings with their agendas
and minutes, and the adoption of unified standards by each unit.

Revision ID: 0003_govern_meetings_standards
Revises: 0002_govern_cases
Create Date: 2026-12-03

* ``govern_events`` gains ``kind`` (``state``: a change of state; or a same-state event —
  ``assign`` another lead department, ``extend`` the due date (the new date in ``due``),
  ``defer`` at a meeting, ``escalate`` to the quarterly meeting or the leading group,
  ``follow_up``: a later evaluation edition's grade of a rectification case), ``effective``
  (the ISO date the change took effect, e.g. the meeting's date; existing rows: the date of
  their ``time``), ``due``, ``detail`` (JSON) and ``meeting_id`` (the meeting whose minutes
  decided it). A ``state`` event changes the state (or is the first); every other kind keeps
  it. Events stay append-only, in the chain of 0002.
* ``govern_cases`` gains ``simulated`` (a generated demonstration case) and ``origin`` (JSON:
  where a case came from, e.g. an evaluation run's rectification list); both fixed.
* ``govern_meetings`` (a convened meeting: monthly work meeting or quarterly coordination
  meeting), ``govern_agenda`` (its items: one case each, with why it is on the agenda) and
  ``govern_minutes`` (at most one per meeting, written in the same transaction as the events
  of its decisions; ``decisions``: JSON, one decision per agenda item): all append-only.
* ``govern_adoptions``: the adoption status of a unified standard or mutual-recognition item
  (the items are data, ``cocity/govern/standards.yaml``) in one unit from a date; append-only,
  the latest record of a (standard, unit) is its status.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_govern_meetings_standards"
down_revision = "0002_govern_cases"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TEXT = sa.Text()
# frozen copies of the code's vocabularies (cocity.govern.machine.EVENT_KINDS, meetings)
KINDS = ("state", "assign", "extend", "defer", "escalate", "follow_up")
MEETING_KINDS = ("monthly", "quarterly")
_FIXED = ("id", "key", "body_sha", "title", "description", "category", "source", "priority",
          "lead_department", "co_departments", "opened", "due", "actor", "role", "reason",
          "created", "simulated", "origin")
_NEW_APPEND_ONLY = ("govern_meetings", "govern_agenda", "govern_minutes", "govern_adoptions")
_EVENT_RULE = ("kind IN ({kinds}) AND effective <> '' "
               "AND (kind = 'state') = (seq = 1 OR from_state <> to_state) "
               "AND (kind = 'extend') = (due IS NOT NULL)").format(
    kinds=", ".join(f"'{k}'" for k in KINDS))


def _columns() -> None:
    op.add_column("govern_events", sa.Column("kind", sa.String(16), nullable=False,
                                             server_default="state"))
    op.add_column("govern_events", sa.Column("effective", sa.String(10)))
    op.add_column("govern_events", sa.Column("due", sa.String(10)))
    op.add_column("govern_events", sa.Column("detail", _TEXT))
    op.add_column("govern_events", sa.Column("meeting_id", _ID))
    op.add_column("govern_cases", sa.Column("simulated", sa.Boolean, nullable=False,
                                            server_default=sa.false()))
    op.add_column("govern_cases", sa.Column("origin", _TEXT))


def _audit() -> list[sa.Column]:
    return [sa.Column(name, _TEXT, nullable=False) for name in ("actor", "role", "reason")]


def _tables() -> None:
    op.create_table(
        "govern_meetings",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("date", sa.String(10), nullable=False),
        sa.Column("created", _TEXT, nullable=False),
        sa.Column("simulated", sa.Boolean, nullable=False),
        *_audit(),
        sa.CheckConstraint("kind IN ({})".format(", ".join(f"'{k}'" for k in MEETING_KINDS)),
                           name="ck_govern_meetings_kind"))
    op.create_table(
        "govern_agenda",
        sa.Column("meeting_id", _ID, sa.ForeignKey("govern_meetings.id"), primary_key=True,
                  autoincrement=False),
        sa.Column("pos", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("case_id", _ID, sa.ForeignKey("govern_cases.id"), nullable=False),
        sa.Column("item", sa.String(32), nullable=False),
        sa.UniqueConstraint("meeting_id", "case_id", name="uq_govern_agenda_case"))
    op.create_table(
        "govern_minutes",
        sa.Column("meeting_id", _ID, sa.ForeignKey("govern_meetings.id"), primary_key=True,
                  autoincrement=False),
        sa.Column("recorded", _TEXT, nullable=False),
        sa.Column("body_sha", sa.String(64), nullable=False),
        sa.Column("attendees", _TEXT, nullable=False),
        sa.Column("summary", _TEXT, nullable=False),
        sa.Column("decisions", _TEXT, nullable=False),
        *_audit())
    op.create_table(
        "govern_adoptions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("standard", sa.String(64), nullable=False),
        sa.Column("unit_code", sa.String(12), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("date", sa.String(10), nullable=False),
        sa.Column("document", _TEXT, nullable=False),
        sa.Column("time", _TEXT, nullable=False),
        sa.Column("simulated", sa.Boolean, nullable=False),
        sa.Column("key", sa.String(200), unique=True),
        sa.Column("body_sha", sa.String(64)),
        *_audit(),
        sa.CheckConstraint("(key IS NULL) = (body_sha IS NULL)", name="ck_govern_adoptions_key"))
    op.create_index("ix_govern_adoptions_unit", "govern_adoptions", ["standard", "unit_code"])
    op.create_index("ix_govern_events_meeting", "govern_events", ["meeting_id"])


def _sqlite(upgrade: bool) -> None:
    op.execute("DROP TRIGGER govern_cases_fixed")
    fixed = _FIXED if upgrade else _FIXED[:-2]
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in fixed)
    op.execute(f"""CREATE TRIGGER govern_cases_fixed BEFORE UPDATE ON govern_cases
WHEN {changed} OR NEW.version <> OLD.version + 1
  OR NEW.state IS NOT (SELECT to_state FROM govern_events
                        WHERE case_id = NEW.id AND seq = NEW.version)
BEGIN SELECT RAISE(ABORT, 'cocity:govern_case_fixed'); END""")
    if not upgrade:
        return
    op.execute("DROP TRIGGER govern_events_no_update")
    op.execute("UPDATE govern_events SET effective = substr(time, 1, 10)")
    op.execute("""CREATE TRIGGER govern_events_no_update BEFORE UPDATE ON govern_events
BEGIN SELECT RAISE(ABORT, 'cocity:append_only govern_events'); END""")
    rule = ("NEW.kind IN ({kinds}) AND coalesce(NEW.effective, '') <> '' "
            "AND (NEW.kind = 'state') = (NEW.seq = 1 OR NEW.from_state <> NEW.to_state) "
            "AND (NEW.kind = 'extend') = (NEW.due IS NOT NULL)").format(
        kinds=", ".join(f"'{k}'" for k in KINDS))
    op.execute(f"""CREATE TRIGGER govern_events_kind BEFORE INSERT ON govern_events
WHEN NOT ({rule})
BEGIN SELECT RAISE(ABORT, 'cocity:govern_event_kind'); END""")
    for table in _NEW_APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}
BEGIN SELECT RAISE(ABORT, 'cocity:append_only {table}'); END""")


def _pg(upgrade: bool) -> None:
    fixed = _FIXED if upgrade else _FIXED[:-2]
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in fixed)
    op.execute(f"""CREATE OR REPLACE FUNCTION govern_cases_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF {changed} OR NEW.version <> OLD.version + 1
     OR NEW.state IS DISTINCT FROM (SELECT to_state FROM govern_events
                                     WHERE case_id = NEW.id AND seq = NEW.version) THEN
    RAISE EXCEPTION 'cocity:govern_case_fixed';
  END IF;
  RETURN NEW;
END $$""")
    if not upgrade:
        return
    op.execute("ALTER TABLE govern_events DISABLE TRIGGER govern_events_append_only")
    op.execute("UPDATE govern_events SET effective = substr(time, 1, 10)")
    op.execute("ALTER TABLE govern_events ENABLE TRIGGER govern_events_append_only")
    op.execute("ALTER TABLE govern_events ALTER COLUMN effective SET NOT NULL")
    op.execute(f"ALTER TABLE govern_events ADD CONSTRAINT ck_govern_events_kind "
               f"CHECK ({_EVENT_RULE})")
    op.execute("ALTER TABLE govern_events ADD CONSTRAINT fk_govern_events_meeting "
               "FOREIGN KEY (meeting_id) REFERENCES govern_meetings (id)")
    for table in _NEW_APPEND_ONLY:
        op.execute(f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION govern_refuse()""")
        op.execute(f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION govern_refuse()""")


def upgrade() -> None:
    _columns()
    _tables()
    if op.get_bind().dialect.name == "postgresql":
        _pg(True)
    else:
        _sqlite(True)


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        op.execute("ALTER TABLE govern_events DROP CONSTRAINT fk_govern_events_meeting")
        op.execute("ALTER TABLE govern_events DROP CONSTRAINT ck_govern_events_kind")
    else:
        op.execute("DROP TRIGGER govern_events_kind")
    op.drop_index("ix_govern_events_meeting", "govern_events")
    for table in ("govern_adoptions", "govern_minutes", "govern_agenda", "govern_meetings"):
        op.drop_table(table)
    # dropping columns: SQLite ≥ 3.35 supports DROP COLUMN (no index or trigger names them)
    _pg(False) if pg else _sqlite(False)
    for column in ("kind", "effective", "due", "detail", "meeting_id"):
        op.drop_column("govern_events", column)
    for column in ("simulated", "origin"):
        op.drop_column("govern_cases", column)
