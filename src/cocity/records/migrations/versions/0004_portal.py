"""Publication and the portal: signed evaluation editions, the portal's users and roles, its
login attempts and its audit trail.

Revision ID: 0004_portal
Revises: 0003_govern_meetings_standards
Create Date: 2026-12-03

* ``publish_editions``: an evaluation run signed and published by a third-party evaluator — the
  run folder's id (``<year>-<12 hex>``), the SHA-256 of its ``manifest.json``, the framework's
  hash, the evaluating organisation, the statement, who signed it and when. Append-only; the
  latest row of a year is that year's edition in force (a corrected edition is a new row, and
  the row it supersedes stays). ``key`` is UNIQUE (idempotency).
* ``portal_users`` (a login, display name, Argon2 password hash, active flag) and
  ``portal_user_roles`` (the roles held; the vocabulary is checked here). Users are never
  deleted (a departed user is made inactive), so the audit trail keeps its names.
* ``portal_logins``: every login attempt (login as typed, client address, time, success);
  append-only. Rate limits and lock-out are computed from it.
* ``portal_audit``: every write made through the portal (actor, role, action, target, detail
  as JSON, client, time); append-only. The fund's and the committee's own tables keep their own
  audit fields as well.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_portal"
down_revision = "0003_govern_meetings_standards"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TEXT = sa.Text()
# frozen copy of cocity.web's role vocabulary (``public`` is nobody's stored role)
ROLES = ("analyst", "evaluator", "fund_manager", "fund_approver", "secretary", "admin")
_APPEND_ONLY = ("publish_editions", "portal_logins", "portal_audit")


def _tables() -> None:
    op.create_table(
        "publish_editions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("framework_sha256", sa.String(64), nullable=False),
        sa.Column("evaluator", _TEXT, nullable=False),
        sa.Column("statement", _TEXT, nullable=False),
        sa.Column("actor", _TEXT, nullable=False),
        sa.Column("role", _TEXT, nullable=False),
        sa.Column("signed_at", sa.String(32), nullable=False),
        sa.CheckConstraint("evaluator <> '' AND actor <> '' AND signed_at <> ''",
                           name="ck_publish_editions_signed"),
    )
    op.create_index("ix_publish_editions_year", "publish_editions", ["year", "id"])
    op.create_table(
        "portal_users",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("login", sa.String(64), nullable=False, unique=True),
        sa.Column("name", _TEXT, nullable=False),
        sa.Column("password_hash", _TEXT, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", _TEXT, nullable=False),
        sa.Column("password_changed_at", sa.String(32), nullable=False),
        sa.CheckConstraint("login <> ''", name="ck_portal_users_login"),
    )
    op.create_table(
        "portal_user_roles",
        sa.Column("user_id", _ID, sa.ForeignKey("portal_users.id"), primary_key=True),
        sa.Column("role", sa.String(32), primary_key=True),
        sa.CheckConstraint("role IN ({})".format(", ".join(f"'{r}'" for r in ROLES)),
                           name="ck_portal_user_roles_role"),
    )
    op.create_table(
        "portal_logins",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("login", sa.String(200), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
    )
    op.create_index("ix_portal_logins_login", "portal_logins", ["login", "id"])
    op.create_index("ix_portal_logins_client", "portal_logins", ["client", "id"])
    op.create_table(
        "portal_audit",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", _TEXT, nullable=False),
        sa.Column("role", _TEXT, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", _TEXT, nullable=False),
        sa.Column("detail", _TEXT, nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.CheckConstraint("actor <> '' AND action <> ''", name="ck_portal_audit_who"),
    )


def upgrade() -> None:
    _tables()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""CREATE FUNCTION portal_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'cocity:append_only %', TG_TABLE_NAME; END $$""")
        for table in _APPEND_ONLY:
            op.execute(f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION portal_refuse()""")
            op.execute(f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION portal_refuse()""")
        op.execute("""CREATE TRIGGER portal_users_no_delete BEFORE DELETE ON portal_users
FOR EACH ROW EXECUTE FUNCTION portal_refuse()""")
        return
    for table in _APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action}
ON {table} BEGIN SELECT RAISE(ABORT, 'cocity:append_only {table}'); END""")
    op.execute("""CREATE TRIGGER portal_users_no_delete BEFORE DELETE ON portal_users
BEGIN SELECT RAISE(ABORT, 'cocity:append_only portal_users'); END""")


def downgrade() -> None:
    for table in ("portal_audit", "portal_logins", "portal_user_roles", "portal_users",
                  "publish_editions"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION portal_refuse()")
