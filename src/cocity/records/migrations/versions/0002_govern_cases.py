"""The committee's case register: cases, their units, and the append-only event log.

Revision ID: 0002_govern_cases
Revises: 0001_fund_ledger
Create Date: 2026-12-03

What the database itself enforces (the code checks the same first, to give clear messages;
see :mod:`cocity.govern.register`):

* ``govern_events`` and ``govern_case_units`` are append-only: UPDATE and DELETE (and TRUNCATE
  on PostgreSQL) are refused by triggers (``cocity:append_only <table>``).
* A case row cannot be deleted; its fields are fixed except ``state`` and ``version``, which
  change only together, one step at a time, to the ``to_state`` and ``seq`` of the event just
  appended (a trigger on each new event makes that change; ``cocity:govern_case_fixed``).
* An event continues its case's chain: ``seq`` = the case's version + 1 (1, 2, 3 … per case,
  UNIQUE (case_id, seq)); the first event has no ``from_state``, every later one starts from
  the case's current state (``cocity:govern_chain``). Which transitions are allowed is data
  (``cocity/govern/states.yaml``), checked by the code.
* The closing event, and only it, says whether the problem was resolved (CHECK on
  ``resolved``: closing is not solving). ``key`` of a case is UNIQUE (idempotency); the due
  date is not before the opening date (CHECK); actor, role, reason, time are non-empty.
* A change of state may carry its own idempotency key (``govern_events.key``, UNIQUE, with the
  fingerprint of its body), so that a writer retrying after a lost reply replays it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_govern_cases"
down_revision = "0001_fund_ledger"
branch_labels = None
depends_on = None

CLOSING = "closed"  # = states.yaml `closing`, frozen here as the migration's CHECK
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: INTEGER PRIMARY KEY
_TEXT = sa.Text()
_FIXED = ("id", "key", "body_sha", "title", "description", "category", "source", "priority",
          "lead_department", "co_departments", "opened", "due", "actor", "role", "reason",
          "created")
_APPEND_ONLY = ("govern_events", "govern_case_units")


def _tables() -> None:
    op.create_table(
        "govern_cases",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("body_sha", sa.String(64), nullable=False),
        sa.Column("title", _TEXT, nullable=False),
        sa.Column("description", _TEXT, nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("lead_department", _TEXT, nullable=False),
        sa.Column("co_departments", _TEXT, nullable=False),
        sa.Column("opened", sa.String(10), nullable=False),
        sa.Column("due", sa.String(10), nullable=False),
        sa.Column("actor", _TEXT, nullable=False),
        sa.Column("role", _TEXT, nullable=False),
        sa.Column("reason", _TEXT, nullable=False),
        sa.Column("created", _TEXT, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.CheckConstraint("due >= opened", name="ck_govern_cases_due"),
        sa.CheckConstraint("version >= 0", name="ck_govern_cases_version"),
        sa.CheckConstraint("title <> '' AND lead_department <> '' AND actor <> '' "
                           "AND role <> '' AND reason <> ''", name="ck_govern_cases_audit"))
    op.create_table(
        "govern_case_units",
        sa.Column("case_id", _ID, sa.ForeignKey("govern_cases.id"), primary_key=True,
                  autoincrement=False),
        sa.Column("pos", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("unit_code", sa.String(12), nullable=False),
        sa.UniqueConstraint("case_id", "unit_code", name="uq_govern_case_units_unit"))
    op.create_table(
        "govern_events",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("case_id", _ID, sa.ForeignKey("govern_cases.id"), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("from_state", sa.String(32)),
        sa.Column("to_state", sa.String(32), nullable=False),
        sa.Column("actor", _TEXT, nullable=False),
        sa.Column("role", _TEXT, nullable=False),
        sa.Column("time", _TEXT, nullable=False),
        sa.Column("reason", _TEXT, nullable=False),
        sa.Column("resolved", sa.Boolean),
        sa.Column("key", sa.String(200), unique=True),
        sa.Column("body_sha", sa.String(64)),
        sa.UniqueConstraint("case_id", "seq", name="uq_govern_events_seq"),
        sa.CheckConstraint("(key IS NULL) = (body_sha IS NULL)", name="ck_govern_events_key"),
        sa.CheckConstraint("(seq = 1) = (from_state IS NULL)", name="ck_govern_events_first"),
        sa.CheckConstraint(f"(to_state = '{CLOSING}') = (resolved IS NOT NULL)",
                           name="ck_govern_events_resolved"),
        sa.CheckConstraint("actor <> '' AND role <> '' AND reason <> '' AND time <> ''",
                           name="ck_govern_events_audit"))
    op.create_index("ix_govern_case_units_unit", "govern_case_units", ["unit_code"])
    op.create_index("ix_govern_cases_state", "govern_cases", ["state"])


def _sqlite_triggers() -> list[str]:
    out = []
    for table in _APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            out.append(f"""CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}
BEGIN SELECT RAISE(ABORT, 'cocity:append_only {table}'); END""")
    out.append("""CREATE TRIGGER govern_cases_no_delete BEFORE DELETE ON govern_cases
BEGIN SELECT RAISE(ABORT, 'cocity:append_only govern_cases'); END""")
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _FIXED)
    out.append(f"""CREATE TRIGGER govern_cases_fixed BEFORE UPDATE ON govern_cases
WHEN {changed} OR NEW.version <> OLD.version + 1
  OR NEW.state IS NOT (SELECT to_state FROM govern_events
                        WHERE case_id = NEW.id AND seq = NEW.version)
BEGIN SELECT RAISE(ABORT, 'cocity:govern_case_fixed'); END""")
    out.append("""CREATE TRIGGER govern_events_chain BEFORE INSERT ON govern_events
WHEN NOT EXISTS (SELECT 1 FROM govern_cases c WHERE c.id = NEW.case_id
                   AND NEW.seq = c.version + 1
                   AND (NEW.seq = 1 OR NEW.from_state = c.state))
BEGIN SELECT RAISE(ABORT, 'cocity:govern_chain'); END""")
    out.append("""CREATE TRIGGER govern_events_apply AFTER INSERT ON govern_events
BEGIN
  UPDATE govern_cases SET state = NEW.to_state, version = NEW.seq WHERE id = NEW.case_id;
END""")
    return out


def _pg_triggers() -> list[str]:
    out = ["""CREATE FUNCTION govern_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'cocity:append_only %', TG_TABLE_NAME; END $$"""]
    for table in _APPEND_ONLY:
        out.append(f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION govern_refuse()""")
    for table in (*_APPEND_ONLY, "govern_cases"):
        out.append(f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION govern_refuse()""")
    out.append("""CREATE TRIGGER govern_cases_no_delete BEFORE DELETE ON govern_cases
FOR EACH ROW EXECUTE FUNCTION govern_refuse()""")
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _FIXED)
    out.append(f"""CREATE FUNCTION govern_cases_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF {changed} OR NEW.version <> OLD.version + 1
     OR NEW.state IS DISTINCT FROM (SELECT to_state FROM govern_events
                                     WHERE case_id = NEW.id AND seq = NEW.version) THEN
    RAISE EXCEPTION 'cocity:govern_case_fixed';
  END IF;
  RETURN NEW;
END $$""")
    out.append("""CREATE TRIGGER govern_cases_fixed BEFORE UPDATE ON govern_cases
FOR EACH ROW EXECUTE FUNCTION govern_cases_fixed()""")
    out.append("""CREATE FUNCTION govern_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM govern_cases c WHERE c.id = NEW.case_id
                   AND NEW.seq = c.version + 1
                   AND (NEW.seq = 1 OR NEW.from_state = c.state)) THEN
    RAISE EXCEPTION 'cocity:govern_chain';
  END IF;
  RETURN NEW;
END $$""")
    out.append("""CREATE TRIGGER govern_events_chain BEFORE INSERT ON govern_events
FOR EACH ROW EXECUTE FUNCTION govern_events_chain()""")
    out.append("""CREATE FUNCTION govern_events_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE govern_cases SET state = NEW.to_state, version = NEW.seq WHERE id = NEW.case_id;
  RETURN NULL;
END $$""")
    out.append("""CREATE TRIGGER govern_events_apply AFTER INSERT ON govern_events
FOR EACH ROW EXECUTE FUNCTION govern_events_apply()""")
    return out


def upgrade() -> None:
    _tables()
    dialect = op.get_bind().dialect.name
    for statement in (_pg_triggers() if dialect == "postgresql" else _sqlite_triggers()):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in ("govern_events", "govern_case_units", "govern_cases"):
        op.drop_table(table)
    if dialect == "postgresql":
        for fn in ("govern_refuse", "govern_cases_fixed", "govern_events_chain",
                   "govern_events_apply"):
            op.execute(f"DROP FUNCTION {fn}()")
