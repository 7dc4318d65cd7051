"""The journal: writing one balanced, hash-chained, idempotent entry inside a transaction.

This is the ledger's lower level. :class:`~cocity.fund.ledger.Ledger` builds the postings of
each operation and calls :func:`write_entry` inside one ``Records.transaction()``. Every
invariant is checked here in code first (to give a precise bilingual message) and enforced by
the database as well (migration ``0001_fund_ledger``), so that a bug or a hand-written SQL
statement cannot break the books either.

How an entry is written (the order matters):

1. :func:`lock_accounts` — the rows of every account the entry touches, ``SELECT … FOR UPDATE``
   in ascending id order (PostgreSQL; one order for everyone, so writers cannot deadlock on
   them). On SQLite the transaction began with ``BEGIN IMMEDIATE`` and already holds the
   database's single write lock.
2. :func:`replay` — the idempotency key (I3): a key already posted with the same body returns
   the original result and writes nothing; with another body it is refused. A concurrent
   writer of the same key is either waited for (it holds a row lock taken in step 1) or, if it
   touched other accounts, caught by the UNIQUE key at step 6 — the operation is then re-run
   and finds the key. On PostgreSQL steps 1 and 2 are one round trip
   (:func:`lock_and_replay`, the database function ``fund_lock_accounts``).
3. Code checks: at least two postings, Σ = 0 (I1), no flagged account below zero (I4), from the
   locked balances; the entry's postings sorted and their codes looked up.
4. Only now the chain's writer lock (PostgreSQL: a transaction advisory lock; SQLite: the
   write lock it already holds) and the previous entry's ``seq`` and ``hash``. The lock is
   held until COMMIT, so the chain's order is the commit order; everything before it (steps
   1–3, the caller's validation, the body's fingerprint, the entry's canonical JSON) runs
   without it, so concurrent writers queue only for steps 4–6 and the COMMIT.
5. The postings under the id ``seq + 1``, in ascending account order. A trigger adds them to
   their accounts' cached balances (in the account's normal direction; on PostgreSQL once
   per statement, one UPDATE per account touched); ``CHECK (NOT no_overdraft OR balance >=
   0)`` refuses an overdraft in the database (I4).
6. The entry's header row — LAST. Its hash is SHA-256 of the previous hash, a newline and the
   canonical JSON of its content (:func:`entry_content`, :func:`entry_hash`): every audit
   field, the reversed entry, the disbursement request it posts (with the maker's fields),
   its postings as ``(account code, amount)`` and, for an earmark stored with its allocation
   document, the document's SHA-256. That document (canonical JSON) is written next, in the
   same transaction, into ``fund_allocations`` (append-only).

On PostgreSQL steps 4–6 are ONE round trip: the database function ``fund_write_entry``
(migration ``0001_fund_ledger``) takes the lock, reads the head, inserts the postings in one
statement and the header, computing the hash from the canonical JSON prepared here in three
parts around the id and the seq (:func:`hash_parts`) — the same bytes :func:`entry_hash`
hashes, which ``verify`` recomputes in Python. SQLite (in-process, no round trips) runs them as
statements: :func:`open_entry`, then the header.

Why the header comes last (I1 in the database): SQLite has no deferred triggers. The header's
BEFORE INSERT trigger checks that the entry's postings — all of them, since they were written
first — sum to zero; a posting whose header already exists is refused by another trigger (the
header closes the entry); and the foreign key postings → entries is ``DEFERRABLE INITIALLY
DEFERRED``, checked at COMMIT, so a transaction that wrote postings without their header cannot
commit. Together: every committed posting belongs to a closed, balanced entry. PostgreSQL uses
the same order and triggers and, in addition, a deferred constraint trigger that re-checks each
new entry's balance at COMMIT. Append-only (I2): triggers refuse UPDATE and DELETE of entries
and postings; the chain's links (``seq`` without gaps, ``prev_hash`` = previous ``hash``) are
checked by a trigger as well; the hashes are recomputed by ``Ledger.verify``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cocity.fund.ledger_errors import (
    AppendOnlyError,
    IdempotencyConflictError,
    LedgerError,
    MakerCheckerError,
    OverdraftError,
    RequestStateError,
    ReversalError,
    UnbalancedEntryError,
)
from cocity.records.schema import (
    fund_accounts,
    fund_allocations,
    fund_entries,
    fund_postings,
    fund_requests,
)

GENESIS = "0" * 64
# the key of PostgreSQL's transaction advisory lock over the chain ("cocity-ch")
CHAIN_LOCK = 0x636F63697479636E


@dataclass(frozen=True)
class Audit:
    """Who, in which role, when, why and on which document (I7)."""

    actor: str
    role: str
    reason: str
    document: str
    time: str


@dataclass(frozen=True)
class Posted:
    """The result of a posting operation: the entry, its chain position and hash, and
    ``replayed`` — True when the key had been posted before with the same body (nothing new
    was written)."""

    entry_id: int
    seq: int
    kind: str
    key: str
    hash: str
    replayed: bool = False


@dataclass(frozen=True)
class AccountRow:
    id: int
    code: str
    kind: str
    normal: int
    no_overdraft: bool
    balance: int


def canonical(obj: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 text kept."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def body_sha(kind: str, body: Mapping[str, Any], *, actor: str, role: str, reason: str,
             document: str) -> str:
    """The fingerprint an idempotency key is compared on: the operation, its content and its
    audit fields (not the time)."""
    doc = {"kind": kind, "body": body, "actor": actor, "role": role, "reason": reason,
           "document": document}
    return hashlib.sha256(canonical(doc).encode()).hexdigest()


def entry_content(entry: Mapping[str, Any], postings: Iterable[tuple[str, int]],
                  request: Mapping[str, Any] | None, detail_sha: str | None = None
                  ) -> dict[str, Any]:
    """What an entry's hash covers: the header's fields, the request it posts, its postings,
    and the SHA-256 of its stored allocation document (``detail``, only when there is one)."""
    fields = ("id", "seq", "kind", "key", "body_sha", "actor", "role", "time", "reason",
              "document", "reverses", "request_id")
    out: dict[str, Any] = {f: entry[f] for f in fields}
    out["postings"] = sorted([str(c), int(a)] for c, a in postings)
    out["request"] = None if request is None else {
        f: request[f] for f in ("id", "key", "unit_code", "use_id", "amount", "actor", "role",
                                "reason", "document", "time")}
    if detail_sha is not None:
        out["detail"] = detail_sha
    return out


def document_json(document: Mapping[str, Any]) -> tuple[str, str]:
    """``(canonical JSON, its SHA-256)`` of an allocation document; ``ValueError`` or
    ``TypeError`` when it is not a JSON object of finite numbers, strings, lists and
    objects."""
    if not isinstance(document, Mapping):
        raise TypeError(type(document).__name__)
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)
    return text, hashlib.sha256(text.encode()).hexdigest()


def entry_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    """SHA-256 of the previous hash, a newline and the canonical JSON of the content."""
    return hashlib.sha256((prev_hash + "\n" + canonical(content)).encode()).hexdigest()


_LOCK_ACCOUNTS = (sa.select(fund_accounts.c.id, fund_accounts.c.code, fund_accounts.c.kind,
                             fund_accounts.c.normal, fund_accounts.c.no_overdraft,
                             fund_accounts.c.balance)
                   .where(fund_accounts.c.id.in_(sa.bindparam("ids", expanding=True)))
                   .order_by(fund_accounts.c.id))
_LOCK_ACCOUNTS_PG = _LOCK_ACCOUNTS.with_for_update()
_REPLAY = sa.union_all(
    sa.select(sa.literal("entry").label("what"), fund_entries.c.id, fund_entries.c.seq,
              fund_entries.c.kind, fund_entries.c.hash, fund_entries.c.body_sha,
              fund_entries.c.time).where(fund_entries.c.key == sa.bindparam("key")),
    sa.select(sa.literal("request").label("what"), fund_requests.c.id, sa.null(),
              sa.literal("request"), sa.null(), fund_requests.c.body_sha, fund_requests.c.time)
    .where(fund_requests.c.key == sa.bindparam("key")))


def lock_accounts(conn: Connection, ids: Iterable[int]) -> dict[int, AccountRow]:
    """The account rows ``ids``, locked for the transaction in ascending id order."""
    q = _LOCK_ACCOUNTS_PG if conn.dialect.name == "postgresql" else _LOCK_ACCOUNTS
    return {r.id: AccountRow(r.id, r.code, r.kind, int(r.normal), bool(r.no_overdraft),
                             int(r.balance))
            for r in conn.execute(q, {"ids": sorted(set(ids))})}


def replay(conn: Connection, key: str, sha: str, *, kind: str,
           request_id: int | None = None) -> Posted | None:
    """The original result when ``key`` was posted with the same body; ``None`` when the key
    is new; :class:`IdempotencyConflictError` when it was used for something else."""
    return _replayed(conn.execute(_REPLAY, {"key": key}).all(), key, sha, kind=kind,
                     request_id=request_id)


def _replayed(rows: Sequence[Any], key: str, sha: str, *, kind: str,
              request_id: int | None) -> Posted | None:
    for row in rows:
        if row.what == "entry":
            if row.body_sha != sha or row.kind != kind:
                raise IdempotencyConflictError(ikey=key, kind=row.kind, time=row.time)
            return Posted(int(row.id), int(row.seq), row.kind, key, row.hash, replayed=True)
    for row in rows:
        if int(row.id) != request_id:
            raise IdempotencyConflictError(ikey=key, kind="request", time=row.time)
    return None


_LOCK_REPLAY_PG = sa.text("SELECT * FROM fund_lock_accounts(:ids, :key)")


def lock_and_replay(conn: Connection, ids: Iterable[int], key: str, sha: str, *, kind: str
                    ) -> tuple[dict[int, AccountRow], Posted | None]:
    """:func:`lock_accounts` then :func:`replay`, the same steps in the same order — on
    PostgreSQL in one round trip (the database function ``fund_lock_accounts``, whose key
    lookup runs with a fresh snapshot after the row locks are granted)."""
    if conn.dialect.name != "postgresql":
        locked = lock_accounts(conn, ids)
        return locked, replay(conn, key, sha, kind=kind)
    rows = conn.execute(_LOCK_REPLAY_PG, {"ids": sorted(set(ids)), "key": key}).all()
    locked = {int(r.id): AccountRow(int(r.id), r.code, r.kind, int(r.normal),
                                    bool(r.no_overdraft), int(r.balance))
              for r in rows if r.what == "account"}
    return locked, _replayed([r for r in rows if r.what != "account"], key, sha, kind=kind,
                             request_id=None)


def writer_lock(conn: Connection) -> None:
    """Take the ledger's single writer lock for the rest of the transaction: PostgreSQL's
    transaction advisory lock :data:`CHAIN_LOCK` (SQLite's ``BEGIN IMMEDIATE`` already holds
    the database's write lock). Changes of the chart take it; entries take it through
    :func:`write_entry`."""
    if conn.dialect.name == "postgresql":
        conn.execute(_WRITER_LOCK, {"k": CHAIN_LOCK})


_WRITER_LOCK = sa.text("SELECT pg_advisory_xact_lock(:k)")
_WRITE_ENTRY_PG = sa.text(
    "SELECT seq, hash FROM fund_write_entry(:accounts, :amounts, :parts, :kind, :key, :body_sha,"
    " :actor, :role, :time, :reason, :document, :reverses, :request_id)")
# stand-ins for the entry's id and seq in its canonical JSON until the chain's head is known
_ID_MARK, _SEQ_MARK = "\x00id\x00", "\x00seq\x00"


def hash_parts(content: Mapping[str, Any]) -> list[str]:
    """The entry's hashed text (:func:`entry_hash`) without the previous hash, cut around its
    id and its seq: ``[a, b, c]`` with canonical JSON = ``a + id + b + seq + c``. The
    database function ``fund_write_entry`` puts them together once it holds the chain's lock
    and knows the head (id = seq = head's seq + 1)."""
    text = canonical({**content, "id": _ID_MARK, "seq": _SEQ_MARK})
    # a string value never holds an unescaped quote, so these occur once, as the top keys
    id_token = '"id":' + json.dumps(_ID_MARK)
    seq_token = '"seq":' + json.dumps(_SEQ_MARK)
    a, rest = text.split(id_token)
    b, c = rest.split(seq_token)
    return [a + '"id":', b + '"seq":', c]


def open_entry(conn: Connection, postings: Sequence[tuple[int, int]]) -> tuple[int, str]:
    """SQLite's start of an entry: the chain's head ``(seq, hash)`` (the transaction holds the
    database's write lock since ``BEGIN IMMEDIATE``), then ``postings`` (``(account id,
    amount)``) under the entry id ``seq + 1``; returns the head."""
    seq, prev = chain_head(conn)
    conn.execute(fund_postings.insert(), [
        {"entry_id": seq + 1, "account_id": a, "amount": amt} for a, amt in postings])
    return seq, prev


def chain_head(conn: Connection) -> tuple[int, str]:
    """``(seq, hash)`` of the last entry (``(0, GENESIS)`` for an empty journal)."""
    row = conn.execute(sa.select(fund_entries.c.seq, fund_entries.c.hash)
                       .order_by(fund_entries.c.seq.desc()).limit(1)).first()
    return (0, GENESIS) if row is None else (int(row.seq), str(row.hash))


def check_postings(postings: Sequence[tuple[int, int]], accounts: Mapping[int, AccountRow]
                   ) -> None:
    """I1 and I4 in code: at least two postings, Σ = 0, no flagged account below zero."""
    if len(postings) < 2 or sum(a for _, a in postings) != 0:
        debit = sum(a for _, a in postings if a > 0)
        credit = -sum(a for _, a in postings if a < 0)
        raise UnbalancedEntryError(debit=debit, credit=credit, n=len(postings))
    change: dict[int, int] = {}
    for account_id, amount in postings:
        change[account_id] = change.get(account_id, 0) + amount
    for account_id, delta in sorted(change.items()):
        acc = accounts[account_id]
        after = acc.balance + delta * acc.normal
        if acc.no_overdraft and after < 0:
            raise OverdraftError(account=acc.code, balance=acc.balance, need=-delta * acc.normal)


def write_entry(conn: Connection, *, kind: str, key: str, sha: str,
                postings: Sequence[tuple[int, int]], accounts: Mapping[int, AccountRow],
                audit: Audit, reverses: int | None = None,
                request: Mapping[str, Any] | None = None,
                detail: tuple[str, str] | None = None) -> Posted:
    """Write one entry (see the module docstring); ``accounts`` must be the rows locked by
    :func:`lock_accounts` for every account of ``postings`` (``(account id, signed amount)``,
    positive = debit). ``detail``: ``(canonical JSON, SHA-256)`` of the allocation document
    stored with an earmark (:func:`document_json`). Call :func:`replay` first."""
    if any(not isinstance(a, int) or isinstance(a, bool) or a == 0 for _, a in postings):
        raise UnbalancedEntryError("fund.err.zero_posting")
    check_postings(postings, accounts)
    rows = sorted(postings)
    codes = [(accounts[a].code, amt) for a, amt in rows]
    header: dict[str, Any] = {
        "kind": kind, "key": key, "body_sha": sha, "actor": audit.actor, "role": audit.role,
        "time": audit.time, "reason": audit.reason, "document": audit.document,
        "reverses": reverses, "request_id": None if request is None else int(request["id"])}
    detail_sha = None if detail is None else detail[1]
    if conn.dialect.name == "postgresql":
        parts = hash_parts(entry_content({**header, "id": None, "seq": None}, codes, request,
                                         detail_sha))
        row = conn.execute(_WRITE_ENTRY_PG, {
            **header, "accounts": [a for a, _ in rows], "amounts": [amt for _, amt in rows],
            "parts": parts}).one()
        entry_id, entry_sha = int(row.seq), str(row.hash)
    else:
        seq, prev = open_entry(conn, rows)
        entry_id = seq + 1
        header.update(id=entry_id, seq=entry_id, prev_hash=prev)
        entry_sha = header["hash"] = entry_hash(prev, entry_content(header, codes, request,
                                                                    detail_sha))
        conn.execute(fund_entries.insert(), header)
    if detail is not None:
        conn.execute(fund_allocations.insert(), {"entry_id": entry_id, "key": key,
                                                 "sha256": detail[1], "document": detail[0]})
    return Posted(entry_id, entry_id, kind, key, entry_sha)


# -- what the database says, in words ---------------------------------------------------------
def is_retryable(exc: sa.exc.DBAPIError) -> bool:
    """A conflict with a concurrent writer that a fresh attempt resolves (PostgreSQL): a
    deadlock or serialisation failure, or a unique value (a key, a chain position, a
    reversal, a request's entry, a chart row) taken meanwhile — the new attempt re-reads the
    state and replays, refuses or proceeds."""
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40P01", "40001", "23505") or (
        code is not None and "cocity:chain" in str(exc.orig))


def refusal(exc: sa.exc.DBAPIError) -> LedgerError | None:
    """The ledger's refusal for an error raised by the database's own checks, else ``None``
    (what the code checks first never reaches the database; these are the backstops)."""
    text = str(exc.orig)
    if "cocity:append_only" in text:
        rest = text.split("cocity:append_only", 1)[1].split()
        return AppendOnlyError(table=rest[0] if rest else "?")
    if "cocity:reversal" in text:
        return ReversalError("fund.err.db.reversal")
    if "cocity:unbalanced" in text or "cocity:entry_closed" in text \
            or "FOREIGN KEY constraint failed" in text or "fund_postings_entry_id_fkey" in text:
        return UnbalancedEntryError("fund.err.db.unbalanced")
    if "ck_fund_accounts_overdraft" in text:
        return OverdraftError("fund.err.db.overdraft")
    if "ck_fund_requests_maker_checker" in text:
        return MakerCheckerError("fund.err.db.maker_checker")
    if "cocity:request_resolved" in text:
        return RequestStateError("fund.err.db.request_resolved")
    return None
