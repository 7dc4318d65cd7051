"""The tables of the records store as SQLAlchemy Core objects, for queries. They describe the
schema the newest migration (``migrations/versions``) leaves; the migrations, not this module,
create and change the database (a test checks that the two agree)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
_T = sa.Text()

fund_meta = sa.Table(
    "fund_meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", _T, nullable=False),
    sa.Column("created", _T, nullable=False))

fund_sources = sa.Table(
    "fund_sources", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name_zh", _T, nullable=False),
    sa.Column("name_en", _T, nullable=False),
    sa.Column("created", _T, nullable=False))

fund_uses = sa.Table(
    "fund_uses", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name_zh", _T, nullable=False),
    sa.Column("name_en", _T, nullable=False),
    sa.Column("created", _T, nullable=False))

fund_units = sa.Table(
    "fund_units", metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("name_zh", _T, nullable=False),
    sa.Column("name_en", _T, nullable=False),
    sa.Column("created", _T, nullable=False))

fund_accounts = sa.Table(
    "fund_accounts", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("code", sa.String(200), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("normal", sa.SmallInteger, nullable=False),
    sa.Column("no_overdraft", sa.Boolean, nullable=False),
    sa.Column("source_id", sa.String(64)),
    sa.Column("use_id", sa.String(64)),
    sa.Column("unit_code", sa.String(64)),
    sa.Column("balance", sa.BigInteger, nullable=False),
    sa.Column("created", _T, nullable=False))

fund_requests = sa.Table(
    "fund_requests", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("body_sha", sa.String(64), nullable=False),
    sa.Column("unit_code", sa.String(64), nullable=False),
    sa.Column("use_id", sa.String(64), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("actor", _T, nullable=False),
    sa.Column("role", _T, nullable=False),
    sa.Column("reason", _T, nullable=False),
    sa.Column("document", _T, nullable=False),
    sa.Column("time", _T, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("checker", _T),
    sa.Column("checker_role", _T),
    sa.Column("checked_time", _T),
    sa.Column("check_reason", _T))

fund_entries = sa.Table(
    "fund_entries", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("body_sha", sa.String(64), nullable=False),
    sa.Column("actor", _T, nullable=False),
    sa.Column("role", _T, nullable=False),
    sa.Column("time", _T, nullable=False),
    sa.Column("reason", _T, nullable=False),
    sa.Column("document", _T, nullable=False),
    sa.Column("reverses", sa.BigInteger),
    sa.Column("request_id", sa.BigInteger),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, unique=True))

fund_postings = sa.Table(
    "fund_postings", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("entry_id", sa.BigInteger, nullable=False),
    sa.Column("account_id", sa.BigInteger, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False))

fund_allocations = sa.Table(
    "fund_allocations", metadata,
    sa.Column("entry_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("document", _T, nullable=False))

# -- the committee's case register (migration 0002_govern_cases; cocity.govern.register) -----

govern_cases = sa.Table(
    "govern_cases", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("body_sha", sa.String(64), nullable=False),
    sa.Column("title", _T, nullable=False),
    sa.Column("description", _T, nullable=False),
    sa.Column("category", sa.String(32), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("priority", sa.String(16), nullable=False),
    sa.Column("lead_department", _T, nullable=False),
    sa.Column("co_departments", _T, nullable=False),
    sa.Column("opened", sa.String(10), nullable=False),
    sa.Column("due", sa.String(10), nullable=False),
    sa.Column("actor", _T, nullable=False),
    sa.Column("role", _T, nullable=False),
    sa.Column("reason", _T, nullable=False),
    sa.Column("created", _T, nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("simulated", sa.Boolean, nullable=False),  # 0003
    sa.Column("origin", _T))  # 0003: JSON, e.g. the rectification list a case came from

govern_case_units = sa.Table(
    "govern_case_units", metadata,
    sa.Column("case_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("pos", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("unit_code", sa.String(12), nullable=False))

govern_events = sa.Table(
    "govern_events", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("case_id", sa.BigInteger, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("from_state", sa.String(32)),
    sa.Column("to_state", sa.String(32), nullable=False),
    sa.Column("actor", _T, nullable=False),
    sa.Column("role", _T, nullable=False),
    sa.Column("time", _T, nullable=False),
    sa.Column("reason", _T, nullable=False),
    sa.Column("resolved", sa.Boolean),
    sa.Column("key", sa.String(200), unique=True),
    sa.Column("body_sha", sa.String(64)),
    # 0003: what kind of event, the date it took effect, a new due date (extend), details
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("effective", sa.String(10), nullable=False),
    sa.Column("due", sa.String(10)),
    sa.Column("detail", _T),
    sa.Column("meeting_id", sa.BigInteger))

# -- meetings and standards (migration 0003_govern_meetings_standards) ------------------------

govern_meetings = sa.Table(
    "govern_meetings", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("date", sa.String(10), nullable=False),
    sa.Column("created", _T, nullable=False),
    sa.Column("simulated", sa.Boolean, nullable=False),
    sa.Column("actor", _T, nullable=False),
    sa.Column("role", _T, nullable=False),
    sa.Column("reason", _T, nullable=False))

govern_agenda = sa.Table(
    "govern_agenda", metadata,
    sa.Column("meeting_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("pos", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("case_id", sa.BigInteger, nullable=False),
    sa.Column("item", sa.String(32), nullable=False))

govern_minutes = sa.Table(
    "govern_minutes", metadata,
    sa.Column("meeting_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("recorded", _T, nullable=False),
    sa.Column("body_sha", sa.String(64), nullable=False),
    sa.Column("attendees", _T, nullable=False),
    sa.Column("summary", _T, nullable=False),
    sa.Column("decisions", _T, nullable=False),
    sa.Column("actor", _T, nullable=False),
    sa.Column("role", _T, nullable=False),
    sa.Column("reason", _T, nullable=False))

govern_adoptions = sa.Table(
    "govern_adoptions", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("standard", sa.String(64), nullable=False),
    sa.Column("unit_code", sa.String(12), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("date", sa.String(10), nullable=False),
    sa.Column("document", _T, nullable=False),
    sa.Column("time", _T, nullable=False),
    sa.Column("simulated", sa.Boolean, nullable=False),
    sa.Column("key", sa.String(200), unique=True),
    sa.Column("body_sha", sa.String(64)),
    sa.Column("actor", _T, nullable=False),
    sa.Column("role", _T, nullable=False),
    sa.Column("reason", _T, nullable=False))

publish_editions = sa.Table(
    "publish_editions", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("manifest_sha256", sa.String(64), nullable=False),
    sa.Column("framework_sha256", sa.String(64), nullable=False),
    sa.Column("evaluator", _T, nullable=False),
    sa.Column("statement", _T, nullable=False),
    sa.Column("actor", _T, nullable=False),
    sa.Column("role", _T, nullable=False),
    sa.Column("signed_at", sa.String(32), nullable=False))

portal_users = sa.Table(
    "portal_users", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("login", sa.String(64), nullable=False, unique=True),
    sa.Column("name", _T, nullable=False),
    sa.Column("password_hash", _T, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("created_by", _T, nullable=False),
    sa.Column("password_changed_at", sa.String(32), nullable=False))

portal_user_roles = sa.Table(
    "portal_user_roles", metadata,
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("portal_users.id"), primary_key=True),
    sa.Column("role", sa.String(32), primary_key=True))

portal_logins = sa.Table(
    "portal_logins", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("login", sa.String(200), nullable=False),
    sa.Column("client", sa.String(64), nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False))

portal_audit = sa.Table(
    "portal_audit", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("actor", _T, nullable=False),
    sa.Column("role", _T, nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", _T, nullable=False),
    sa.Column("detail", _T, nullable=False),
    sa.Column("client", sa.String(64), nullable=False))
