"""The fund's double-entry ledger: chart, accounts, journal entries, postings, requests.

Revision ID: 0001_fund_ledger
Revises:
Create Date: 2025-01-01

What the database itself enforces (the code checks the same first, to give clear messages;
see :mod:`cocity.fund.journal` for the design):

* I1 — an entry's header row is written LAST, after its postings, by the same transaction. A
  BEFORE INSERT trigger on ``fund_entries`` refuses a header whose postings do not sum to zero
  (or are fewer than two); a trigger on ``fund_postings`` refuses a posting whose entry header
  already exists (an entry is closed by its header); the foreign key postings → entries is
  DEFERRABLE INITIALLY DEFERRED, so a transaction that leaves postings without a header cannot
  commit. PostgreSQL re-checks every new entry at COMMIT with a deferred constraint trigger.
* I2 — UPDATE and DELETE (and TRUNCATE on PostgreSQL) of entries and postings are refused by
  triggers; accounts may change only their cached balance; a reversal must mirror its original
  exactly, cannot reverse a reversal, and ``reverses`` is UNIQUE (one reversal per entry).
* I3 — ``fund_entries.key`` and ``fund_requests.key`` are UNIQUE.
* Allocation documents (``fund_allocations``: one per earmark entry, its canonical JSON and
  SHA-256) are append-only like the entries; ``key`` and ``entry_id`` are UNIQUE.
* I4 — ``fund_accounts.balance`` (the balance in the account's normal direction, maintained by
  a trigger on every posting) has CHECK ``NOT no_overdraft OR balance >= 0``.
* I5 — disbursement requests: amount > 0; the checker differs from the maker (CHECK); a request
  is resolved at most once (a trigger lets ``status`` go from pending to approved/rejected once
  and nothing else change); one disbursement entry per request (UNIQUE ``request_id``).
* I7 — the hash chain's links: ``seq`` is 1, 2, 3 … without gaps and ``prev_hash`` equals the
  previous entry's ``hash`` (trigger); the hashes themselves are recomputed by ``verify``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_fund_ledger"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64
CHAIN_LOCK = 0x636F63697479636E  # = cocity.fund.journal.CHAIN_LOCK ("cocity-ch")
ENTRY_KINDS = ("contribution", "pooling", "earmark", "disbursement", "release", "reversal")
ACCOUNT_KINDS = ("source", "cash", "pool", "commitment", "disbursed")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: INTEGER PRIMARY KEY
_TEXT = sa.Text()


def _inlist(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _tables() -> None:
    op.create_table(
        "fund_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", _TEXT, nullable=False),
        sa.Column("created", _TEXT, nullable=False))
    for name in ("fund_sources", "fund_uses"):
        op.create_table(
            name,
            sa.Column("id", sa.String(64), primary_key=True),
            sa.Column("name_zh", _TEXT, nullable=False),
            sa.Column("name_en", _TEXT, nullable=False),
            sa.Column("created", _TEXT, nullable=False))
    op.create_table(
        "fund_units",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name_zh", _TEXT, nullable=False),
        sa.Column("name_en", _TEXT, nullable=False),
        sa.Column("created", _TEXT, nullable=False))
    op.create_table(
        "fund_accounts",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("normal", sa.SmallInteger, nullable=False),
        sa.Column("no_overdraft", sa.Boolean, nullable=False),
        sa.Column("source_id", sa.String(64), sa.ForeignKey("fund_sources.id")),
        sa.Column("use_id", sa.String(64), sa.ForeignKey("fund_uses.id")),
        sa.Column("unit_code", sa.String(64), sa.ForeignKey("fund_units.code")),
        sa.Column("balance", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("created", _TEXT, nullable=False),
        sa.CheckConstraint(_inlist("kind", ACCOUNT_KINDS), name="ck_fund_accounts_kind"),
        sa.CheckConstraint("normal IN (1, -1)", name="ck_fund_accounts_normal"),
        sa.CheckConstraint("NOT no_overdraft OR balance >= 0",
                           name="ck_fund_accounts_overdraft"))
    op.create_table(
        "fund_requests",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("body_sha", sa.String(64), nullable=False),
        sa.Column("unit_code", sa.String(64), sa.ForeignKey("fund_units.code"),
                  nullable=False),
        sa.Column("use_id", sa.String(64), sa.ForeignKey("fund_uses.id"), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("actor", _TEXT, nullable=False),
        sa.Column("role", _TEXT, nullable=False),
        sa.Column("reason", _TEXT, nullable=False),
        sa.Column("document", _TEXT, nullable=False),
        sa.Column("time", _TEXT, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("checker", _TEXT),
        sa.Column("checker_role", _TEXT),
        sa.Column("checked_time", _TEXT),
        sa.Column("check_reason", _TEXT),
        sa.CheckConstraint("amount > 0", name="ck_fund_requests_amount"),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')",
                           name="ck_fund_requests_status"),
        sa.CheckConstraint("(status = 'pending') = (checker IS NULL)",
                           name="ck_fund_requests_checked"),
        sa.CheckConstraint("checker IS NULL OR checker <> actor",
                           name="ck_fund_requests_maker_checker"),
        sa.CheckConstraint("actor <> '' AND role <> '' AND reason <> ''",
                           name="ck_fund_requests_audit"))
    op.create_table(
        "fund_entries",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("body_sha", sa.String(64), nullable=False),
        sa.Column("actor", _TEXT, nullable=False),
        sa.Column("role", _TEXT, nullable=False),
        sa.Column("time", _TEXT, nullable=False),
        sa.Column("reason", _TEXT, nullable=False),
        sa.Column("document", _TEXT, nullable=False),
        sa.Column("reverses", sa.BigInteger, sa.ForeignKey("fund_entries.id"), unique=True),
        sa.Column("request_id", _ID, sa.ForeignKey("fund_requests.id"), unique=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.CheckConstraint(_inlist("kind", ENTRY_KINDS), name="ck_fund_entries_kind"),
        sa.CheckConstraint("(kind = 'reversal') = (reverses IS NOT NULL)",
                           name="ck_fund_entries_reversal"),
        sa.CheckConstraint("(kind = 'disbursement') = (request_id IS NOT NULL)",
                           name="ck_fund_entries_request"),
        sa.CheckConstraint("actor <> '' AND role <> '' AND reason <> '' AND time <> ''",
                           name="ck_fund_entries_audit"))
    op.create_table(
        "fund_postings",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("entry_id", sa.BigInteger,
                  sa.ForeignKey("fund_entries.id", deferrable=True, initially="DEFERRED"),
                  nullable=False),
        sa.Column("account_id", _ID, sa.ForeignKey("fund_accounts.id"), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.CheckConstraint("amount <> 0", name="ck_fund_postings_amount"))
    op.create_table(
        "fund_allocations",
        sa.Column("entry_id", sa.BigInteger, sa.ForeignKey("fund_entries.id"),
                  primary_key=True, autoincrement=False),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("document", _TEXT, nullable=False),
        sa.CheckConstraint("length(sha256) = 64", name="ck_fund_allocations_sha256"))
    op.create_index("ix_fund_postings_entry", "fund_postings", ["entry_id"])
    op.create_index("ix_fund_postings_account", "fund_postings", ["account_id"])
    op.create_index("ix_fund_requests_open", "fund_requests", ["unit_code", "use_id", "status"])


_IMMUTABLE = ("fund_meta", "fund_sources", "fund_uses", "fund_units", "fund_entries",
              "fund_postings", "fund_allocations")
_ACCOUNT_FIXED = ("id", "code", "kind", "normal", "no_overdraft", "source_id", "use_id",
                  "unit_code", "created")
_REQUEST_FIXED = ("id", "key", "body_sha", "unit_code", "use_id", "amount", "actor", "role",
                  "reason", "document", "time")


def _sqlite_triggers() -> list[str]:
    out = []
    for table in _IMMUTABLE:
        for action in ("UPDATE", "DELETE"):
            out.append(f"""CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}
BEGIN SELECT RAISE(ABORT, 'cocity:append_only {table}'); END""")
    out.append("""CREATE TRIGGER fund_accounts_no_delete BEFORE DELETE ON fund_accounts
BEGIN SELECT RAISE(ABORT, 'cocity:append_only fund_accounts'); END""")
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _ACCOUNT_FIXED)
    out.append(f"""CREATE TRIGGER fund_accounts_fixed BEFORE UPDATE ON fund_accounts
WHEN {changed}
BEGIN SELECT RAISE(ABORT, 'cocity:append_only fund_accounts'); END""")
    out.append("""CREATE TRIGGER fund_requests_no_delete BEFORE DELETE ON fund_requests
BEGIN SELECT RAISE(ABORT, 'cocity:append_only fund_requests'); END""")
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _REQUEST_FIXED)
    out.append(f"""CREATE TRIGGER fund_requests_once BEFORE UPDATE ON fund_requests
WHEN OLD.status <> 'pending' OR NEW.status = 'pending' OR {changed}
BEGIN SELECT RAISE(ABORT, 'cocity:request_resolved'); END""")
    out.append("""CREATE TRIGGER fund_postings_open BEFORE INSERT ON fund_postings
WHEN EXISTS (SELECT 1 FROM fund_entries WHERE id = NEW.entry_id)
BEGIN SELECT RAISE(ABORT, 'cocity:entry_closed'); END""")
    out.append("""CREATE TRIGGER fund_postings_balance AFTER INSERT ON fund_postings
BEGIN
  UPDATE fund_accounts SET balance = balance + NEW.amount * normal WHERE id = NEW.account_id;
END""")
    out.append("""CREATE TRIGGER fund_entries_balanced BEFORE INSERT ON fund_entries
WHEN (SELECT count(*) FROM fund_postings WHERE entry_id = NEW.id) < 2
  OR (SELECT sum(amount) FROM fund_postings WHERE entry_id = NEW.id) <> 0
BEGIN SELECT RAISE(ABORT, 'cocity:unbalanced'); END""")
    out.append(f"""CREATE TRIGGER fund_entries_chain BEFORE INSERT ON fund_entries
WHEN NEW.seq <> coalesce((SELECT max(seq) FROM fund_entries), 0) + 1
  OR NEW.prev_hash IS NOT coalesce((SELECT hash FROM fund_entries WHERE seq = NEW.seq - 1),
                                   '{GENESIS}')
BEGIN SELECT RAISE(ABORT, 'cocity:chain'); END""")
    out.append("""CREATE TRIGGER fund_entries_reversal BEFORE INSERT ON fund_entries
WHEN NEW.reverses IS NOT NULL AND (
  (SELECT reverses FROM fund_entries WHERE id = NEW.reverses) IS NOT NULL
  OR EXISTS (SELECT account_id, -amount FROM fund_postings WHERE entry_id = NEW.reverses
             EXCEPT SELECT account_id, amount FROM fund_postings WHERE entry_id = NEW.id)
  OR EXISTS (SELECT account_id, amount FROM fund_postings WHERE entry_id = NEW.id
             EXCEPT SELECT account_id, -amount FROM fund_postings WHERE entry_id = NEW.reverses)
  OR (SELECT count(*) FROM fund_postings WHERE entry_id = NEW.id)
     <> (SELECT count(*) FROM fund_postings WHERE entry_id = NEW.reverses))
BEGIN SELECT RAISE(ABORT, 'cocity:reversal'); END""")
    return out


def _pg_triggers() -> list[str]:
    out = ["""CREATE FUNCTION fund_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'cocity:append_only %', TG_TABLE_NAME; END $$"""]
    for table in _IMMUTABLE:
        out.append(f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION fund_refuse()""")
    for table in (*_IMMUTABLE, "fund_accounts", "fund_requests"):
        out.append(f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION fund_refuse()""")
    for table in ("fund_accounts", "fund_requests"):
        out.append(f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION fund_refuse()""")
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _ACCOUNT_FIXED)
    out.append(f"""CREATE FUNCTION fund_accounts_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF {changed} THEN RAISE EXCEPTION 'cocity:append_only fund_accounts'; END IF;
  RETURN NEW;
END $$""")
    out.append("""CREATE TRIGGER fund_accounts_fixed BEFORE UPDATE ON fund_accounts
FOR EACH ROW EXECUTE FUNCTION fund_accounts_fixed()""")
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _REQUEST_FIXED)
    out.append(f"""CREATE FUNCTION fund_requests_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status <> 'pending' OR NEW.status = 'pending' OR {changed} THEN
    RAISE EXCEPTION 'cocity:request_resolved';
  END IF;
  RETURN NEW;
END $$""")
    out.append("""CREATE TRIGGER fund_requests_once BEFORE UPDATE ON fund_requests
FOR EACH ROW EXECUTE FUNCTION fund_requests_once()""")
    # once per statement (the ledger writes an entry's postings in ONE statement): the same
    # refusal of a closed entry and one UPDATE per account touched instead of one per posting
    out.append("""CREATE FUNCTION fund_postings_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM new_postings n JOIN fund_entries e ON e.id = n.entry_id) THEN
    RAISE EXCEPTION 'cocity:entry_closed';
  END IF;
  UPDATE fund_accounts a SET balance = a.balance + s.total * a.normal
    FROM (SELECT account_id, sum(amount) AS total FROM new_postings GROUP BY account_id) s
   WHERE a.id = s.account_id;
  RETURN NULL;
END $$""")
    out.append("""CREATE TRIGGER fund_postings_open AFTER INSERT ON fund_postings
REFERENCING NEW TABLE AS new_postings
FOR EACH STATEMENT EXECUTE FUNCTION fund_postings_open()""")
    out.append(f"""CREATE FUNCTION fund_entries_checks() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint; s numeric; last_seq bigint; last_hash text;
BEGIN
  SELECT count(*), coalesce(sum(amount), 0) INTO n, s FROM fund_postings
   WHERE entry_id = NEW.id;
  IF n < 2 OR s <> 0 THEN RAISE EXCEPTION 'cocity:unbalanced'; END IF;
  SELECT seq, hash INTO last_seq, last_hash FROM fund_entries ORDER BY seq DESC LIMIT 1;
  IF NEW.seq <> coalesce(last_seq, 0) + 1
     OR NEW.prev_hash IS DISTINCT FROM coalesce(last_hash, '{GENESIS}') THEN
    RAISE EXCEPTION 'cocity:chain';
  END IF;
  IF NEW.reverses IS NOT NULL AND (
       (SELECT reverses FROM fund_entries WHERE id = NEW.reverses) IS NOT NULL
       OR EXISTS (SELECT account_id, -amount FROM fund_postings WHERE entry_id = NEW.reverses
                  EXCEPT SELECT account_id, amount FROM fund_postings WHERE entry_id = NEW.id)
       OR EXISTS (SELECT account_id, amount FROM fund_postings WHERE entry_id = NEW.id
                  EXCEPT SELECT account_id, -amount FROM fund_postings
                   WHERE entry_id = NEW.reverses)
       OR n <> (SELECT count(*) FROM fund_postings WHERE entry_id = NEW.reverses)) THEN
    RAISE EXCEPTION 'cocity:reversal';
  END IF;
  RETURN NEW;
END $$""")
    out.append("""CREATE TRIGGER fund_entries_checks BEFORE INSERT ON fund_entries
FOR EACH ROW EXECUTE FUNCTION fund_entries_checks()""")
    out.append("""CREATE FUNCTION fund_entries_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint; s numeric;
BEGIN
  SELECT count(*), coalesce(sum(amount), 0) INTO n, s FROM fund_postings
   WHERE entry_id = NEW.id;
  IF n < 2 OR s <> 0 THEN RAISE EXCEPTION 'cocity:unbalanced'; END IF;
  RETURN NULL;
END $$""")
    out.append("""CREATE CONSTRAINT TRIGGER fund_entries_at_commit AFTER INSERT ON fund_entries
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fund_entries_at_commit()""")
    # the start of a ledger write in ONE round trip: the rows of the accounts touched locked
    # in ascending id order, then (a fresh snapshot, after the locks are granted) whatever
    # already holds the idempotency key — the same as two statements, one round trip less
    out.append("""CREATE FUNCTION fund_lock_accounts(p_ids bigint[], p_key text)
RETURNS TABLE(what text, id bigint, code text, kind text, normal integer,
              no_overdraft boolean, balance bigint, seq bigint, hash text, body_sha text,
              "time" text)
VOLATILE LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY SELECT 'account'::text, a.id, a.code::text, a.kind::text, a.normal::integer,
         a.no_overdraft, a.balance, NULL::bigint, NULL::text, NULL::text, NULL::text
    FROM fund_accounts a WHERE a.id = ANY(p_ids) ORDER BY a.id FOR UPDATE;
  RETURN QUERY SELECT 'entry'::text, e.id, NULL::text, e.kind::text, NULL::integer,
         NULL::boolean, NULL::bigint, e.seq, e.hash::text, e.body_sha::text, e.time
    FROM fund_entries e WHERE e.key = p_key;
  RETURN QUERY SELECT 'request'::text, r.id, NULL::text, 'request'::text, NULL::integer,
         NULL::boolean, NULL::bigint, NULL::bigint, NULL::text, r.body_sha::text, r.time
    FROM fund_requests r WHERE r.key = p_key;
END $$""")
    # an entry in ONE round trip (the ledger's path on PostgreSQL; see cocity.fund.journal):
    # the chain's writer lock; the chain's head (VOLATILE plpgsql: its SELECT takes a fresh
    # snapshot once the lock is granted, at READ COMMITTED); the postings in one INSERT under
    # the next id; the header, whose hash is SHA-256 of the previous hash, a newline and the
    # entry's canonical JSON, given as three parts around its id and its seq (the only values
    # that depend on the head). Every trigger above still checks what it writes.
    out.append(f"""CREATE FUNCTION fund_write_entry(
    p_accounts bigint[], p_amounts bigint[], p_parts text[], p_kind text, p_key text,
    p_body_sha text, p_actor text, p_role text, p_time text, p_reason text, p_document text,
    p_reverses bigint, p_request_id bigint, OUT seq bigint, OUT hash text)
VOLATILE LANGUAGE plpgsql AS $$
DECLARE prev text;
BEGIN
  PERFORM pg_advisory_xact_lock({CHAIN_LOCK});
  SELECT e.seq, e.hash INTO seq, prev FROM fund_entries e ORDER BY e.seq DESC LIMIT 1;
  seq := coalesce(seq, 0) + 1;
  prev := coalesce(prev, '{GENESIS}');
  INSERT INTO fund_postings (entry_id, account_id, amount)
  SELECT seq, u.a, u.x FROM unnest(p_accounts, p_amounts) WITH ORDINALITY AS u(a, x, n)
   ORDER BY u.n;
  hash := encode(sha256(convert_to(prev || E'\\n' || p_parts[1] || seq::text || p_parts[2]
                                   || seq::text || p_parts[3], 'UTF8')), 'hex');
  INSERT INTO fund_entries (id, seq, kind, key, body_sha, actor, role, time, reason,
                            document, reverses, request_id, prev_hash, hash)
  VALUES (seq, seq, p_kind, p_key, p_body_sha, p_actor, p_role, p_time, p_reason,
          p_document, p_reverses, p_request_id, prev, hash);
END $$""")
    return out


def upgrade() -> None:
    _tables()
    dialect = op.get_bind().dialect.name
    for statement in (_pg_triggers() if dialect == "postgresql" else _sqlite_triggers()):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in ("fund_allocations", "fund_postings", "fund_entries", "fund_requests",
                  "fund_accounts", "fund_units", "fund_uses", "fund_sources", "fund_meta"):
        op.drop_table(table)
    if dialect == "postgresql":
        for fn in ("fund_refuse", "fund_accounts_fixed", "fund_requests_once",
                   "fund_postings_open", "fund_entries_checks", "fund_entries_at_commit"):
            op.execute(f"DROP FUNCTION {fn}()")
        op.execute("DROP FUNCTION fund_write_entry")
        op.execute("DROP FUNCTION fund_lock_accounts")
