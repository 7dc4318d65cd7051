"""The fund's double-entry ledger on the records store (成渝地区双城经济圈民生协同基金).

Usage (amounts are integer fen 分; every write names its idempotency key and its audit)::

    from cocity.records import open_records
    from cocity.fund.ledger import Ledger

    records = open_records("fund.sqlite")            # or "postgresql+psycopg://…"
    ledger = Ledger(records)
    ledger.open_fund(units={"510300": ("自贡市", "Zigong")})  # shipped chart; idempotent
    who = {"actor": "wang", "role": "fund_manager"}
    ledger.contribute("central", 100_000_000, key="c-2024-1", reason="2024 拨款", **who)
    ledger.fund_pools({"facilities": 60_000_000}, key="p-2024", reason="年度分池", **who)
    ledger.post_allocation([("510300", "facilities", 5_000_000)], key="a-2024",
                           reason="2024 分配", **who)       # lines from fund.allocation
    rid = ledger.request_disbursement("510300", "facilities", 2_000_000, key="d-1",
                                      reason="医院一期", document="合同 2024-17", **who)
    ledger.approve(rid, actor="li", role="fund_approver")   # another user posts it
    ledger.release("510300", "facilities", key="r-1", reason="项目结束", **who)
    ledger.verify()                                          # [] = the books hold

The accounting model — accounts, normal balances, the entries of every operation — is in
:mod:`cocity.fund.accounts`; how one entry is written and what the database enforces is in
:mod:`cocity.fund.journal`. The invariants and where each is enforced:

* **I1 balanced entries** — code (:func:`journal.check_postings`) and database (header-last
  triggers and a deferred foreign key on SQLite; the same plus a deferred constraint trigger
  checked at COMMIT on PostgreSQL).
* **I2 append-only** — database triggers refuse UPDATE/DELETE of entries and postings;
  corrections are :meth:`Ledger.reverse` entries linked to the original (``reverses``, UNIQUE;
  a reversal of a reversal refused in code and by trigger; a reversal must mirror its
  original, checked by trigger).
* **I3 idempotency** — every write takes a ``key``; UNIQUE in the database; the same key with
  the same body (operation, content, actor, role, reason, document) returns the original
  result (``Posted.replayed``) and writes nothing; with another body it is refused
  (:class:`IdempotencyConflictError`). Requests' keys share the same space.
* **I4 no overdraft** on cash, pools and commitments — code (from the locked balances) and a
  CHECK on the account's cached balance.
* **I5 two-phase** — an earmark (commitment per unit and use) is paid by disbursements
  (partial, several) or its rest is released; a release takes the whole rest, so a commitment
  is resolved at most once per earmark and nothing can be paid beyond what was earmarked
  (code, and the commitment's no-overdraft CHECK). A disbursement is first requested (maker)
  and posts only when approved by ANOTHER user (checker): code and a CHECK on the request
  row; a request is approved or rejected once (trigger); a release waits until no request is
  pending; a request may not exceed the rest minus the pending requests.
* **I6 reproducible balances** — each account's balance is cached in its row by a trigger on
  every posting; :meth:`Ledger.verify` recomputes every balance from the postings.
* **I7 audit trail** — actor, role, time (UTC), reason and document on every entry (NOT NULL,
  non-empty CHECKs); a SHA-256 hash chain over the entries in commit order; :meth:`verify`
  recomputes every hash and link and reports each mismatch (:mod:`cocity.fund.verify`).
* **I8 trial balance zero; sources reconcile with uses** — Σ postings = 0 and Σ contributed =
  Σ disbursed + cash + pools + commitments, in :meth:`trial_balance`,
  :meth:`sources_and_uses` and :meth:`verify`.

Allocation documents: :meth:`Ledger.post_allocation` may store the allocation's JSON document
(``detail``, e.g. :meth:`cocity.fund.allocation.Allocation.document`) with its earmark, in the
same transaction, in the append-only table ``fund_allocations`` (canonical JSON and its
SHA-256). The SHA-256 is part of the key's fingerprint (I3) and of the entry's hash (I7);
:meth:`verify` recomputes it from the stored text. Read them with :meth:`Ledger.allocations`
and :meth:`Ledger.allocation_detail`.

Concurrency: every operation is one transaction. SQLite: ``BEGIN IMMEDIATE`` — writers queue
for the database's write lock from their first statement. PostgreSQL: first row locks
(``SELECT … FOR UPDATE``) on the accounts touched, in one global order (and on the request
approved or rejected), then the idempotency lookup and the code checks; the chain's advisory
lock is taken LAST, just before the chain head is read and the postings and the header are
written, and held until COMMIT (:mod:`cocity.fund.journal`) — so writers serialise only on
the chain's tail, not on their reads and checks. Changes of the chart take the same advisory
lock first. A conflict with a concurrent writer (deadlock, serialisation failure, a key taken
meanwhile) is retried a few times; the retry re-reads the state, so it replays, refuses or
posts — never doubles. Every refusal is a :class:`~cocity.fund.ledger_errors.LedgerError`
(a :class:`~cocity.data.errors.CocityError` with a bilingual label) and leaves the books
unchanged.
"""

from __future__ import annotations

import datetime as dt
import numbers
import random
import time as _time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cocity.data.errors import Issue
from cocity.fund import accounts as acc
from cocity.fund.journal import (
    Audit,
    Posted,
    body_sha,
    chain_head,
    document_json,
    is_retryable,
    lock_accounts,
    lock_and_replay,
    refusal,
    replay,
    write_entry,
    writer_lock,
)
from cocity.fund.ledger_errors import (
    ChartConflictError,
    ExceedsCommitmentError,
    FundNotOpenError,
    IdempotencyConflictError,
    InvalidAmountError,
    InvalidDetailError,
    InvalidLinesError,
    MakerCheckerError,
    MissingAuditError,
    NothingToReleaseError,
    PendingRequestsError,
    Problem,
    RequestStateError,
    ReversalError,
    UnknownNameError,
)
from cocity.i18n import t
from cocity.records import Records, RecordsWriteError
from cocity.records.schema import (
    fund_accounts,
    fund_entries,
    fund_meta,
    fund_postings,
    fund_requests,
    fund_sources,
    fund_units,
    fund_uses,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FundInfo", "Ledger", "Posted", "SourcesAndUses", "TrialBalance"]

T = TypeVar("T")
ATTEMPTS = 8


@dataclass(frozen=True)
class FundInfo:
    """The fund's name and its chart: ``{id: (name_zh, name_en)}`` for sources, uses, units;
    ``illustrative``: the fund was opened as a demonstration whose amounts are not real (every
    report says so)."""

    name: str
    sources: dict[str, tuple[str, str]]
    uses: dict[str, tuple[str, str]]
    units: dict[str, tuple[str, str]]
    name_en: str = ""
    illustrative: bool = False


@dataclass(frozen=True)
class TrialBalance:
    """Debits and credits per account from the postings; ``balanced`` when they agree (I8)."""

    frame: pd.DataFrame
    total_debit: int
    total_credit: int

    @property
    def balanced(self) -> bool:
        return self.total_debit == self.total_credit


@dataclass(frozen=True)
class SourcesAndUses:
    """Where the money came from and where it is (fen, from the postings). ``reconciles``:
    contributed = disbursed + held, held = cash + pools + commitments (I8)."""

    sources: pd.DataFrame  # source, name_zh, name_en, contributed_fen
    uses: pd.DataFrame  # use, name_zh, name_en, pooled_fen, committed_fen, disbursed_fen
    units: pd.DataFrame  # unit, name_zh, name_en, use, committed_fen, disbursed_fen
    contributed_fen: int
    cash_fen: int
    pooled_fen: int
    committed_fen: int
    disbursed_fen: int

    @property
    def held_fen(self) -> int:
        return self.cash_fen + self.pooled_fen + self.committed_fen

    @property
    def reconciles(self) -> bool:
        return self.contributed_fen == self.disbursed_fen + self.held_fen


@dataclass(frozen=True)
class _Account:
    id: int
    code: str
    kind: str
    normal: int
    no_overdraft: bool
    source: str | None
    use: str | None
    unit: str | None


@dataclass
class _Chart:
    accounts: dict[str, _Account] = field(default_factory=dict)
    name: str | None = None
    name_en: str = ""
    illustrative: bool = False
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)
    uses: dict[str, tuple[str, str]] = field(default_factory=dict)
    units: dict[str, tuple[str, str]] = field(default_factory=dict)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _amount(value: object, *, what: str, zero: bool = False) -> int:
    """A whole number of fen (> 0, or ≥ 0 with ``zero``); anything else is refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidAmountError(value=repr(value), what=what)
    out = int(value)
    if out < 0 or (out == 0 and not zero):
        raise InvalidAmountError(value=repr(value), what=what)
    return out


def _text(value: object, name: str, *, limit: int | None = None) -> str:
    if not isinstance(value, str) or not value.strip() or (limit and len(value) > limit):
        raise MissingAuditError(field=name, value=repr(value))
    return value


class Ledger:
    """The fund's ledger on an open :class:`~cocity.records.Records` (see the module doc).

    ``clock`` (a function returning an aware ``datetime``) replaces the system clock, for
    replayable tests and demonstrations; times are stored in UTC, to the microsecond.
    """

    def __init__(self, records: Records, *,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.records = records
        self._clock = clock or _utc_now
        self._chart = _Chart()

    # -- plumbing ----------------------------------------------------------------------------
    def _now(self) -> str:
        return self._clock().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _run(self, op: Callable[[Connection], T], *, chart: bool = False) -> T:
        """Run ``op`` in one write transaction; conflicts with concurrent writers retried.
        ``chart``: take the writer lock first (changes of the chart); entries take it late,
        in :func:`~cocity.fund.journal.write_entry`."""
        for attempt in range(ATTEMPTS):
            try:
                with self.records.transaction() as conn:
                    if chart:
                        writer_lock(conn)
                    return op(conn)
            except sa.exc.DBAPIError as exc:
                if is_retryable(exc) and attempt + 1 < ATTEMPTS:
                    _time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                    continue
                refused = refusal(exc)
                if refused is not None:
                    raise refused from exc
                reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                raise RecordsWriteError(self.records.where, reason=reason) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _load_chart(self, conn: Connection) -> _Chart:
        chart = _Chart()
        for r in conn.execute(sa.select(fund_accounts.c.id, fund_accounts.c.code,
                                        fund_accounts.c.kind, fund_accounts.c.normal,
                                        fund_accounts.c.no_overdraft, fund_accounts.c.source_id,
                                        fund_accounts.c.use_id, fund_accounts.c.unit_code)):
            chart.accounts[r.code] = _Account(int(r.id), r.code, r.kind, int(r.normal),
                                              bool(r.no_overdraft), r.source_id, r.use_id,
                                              r.unit_code)
        meta = dict(conn.execute(sa.select(fund_meta.c.key, fund_meta.c.value)).all())
        chart.name = meta.get("name")
        chart.name_en = meta.get("name_en") or ""
        chart.illustrative = meta.get("illustrative") == "1"
        chart.sources = {r.id: (r.name_zh, r.name_en) for r in conn.execute(
            sa.select(fund_sources).order_by(fund_sources.c.id))}
        chart.uses = {r.id: (r.name_zh, r.name_en) for r in conn.execute(
            sa.select(fund_uses).order_by(fund_uses.c.id))}
        chart.units = {r.code: (r.name_zh, r.name_en) for r in conn.execute(
            sa.select(fund_units).order_by(fund_units.c.code))}
        return chart

    def _refresh(self) -> _Chart:
        with self.records.read() as conn:
            self._chart = self._load_chart(conn)
        if self._chart.name is None:
            raise FundNotOpenError(where=self.records.where)
        return self._chart

    def _ready(self) -> _Chart:
        return self._chart if self._chart.name is not None else self._refresh()

    def _account(self, code: str) -> _Account:
        found = self._ready().accounts.get(code) or self._refresh().accounts.get(code)
        if found is None:
            raise UnknownNameError(what=t("fund.what.account"), name=code,
                                   known=self._known(list(self._chart.accounts)))
        return found

    @staticmethod
    def _known(names: list[str]) -> str:
        shown = ", ".join(names[:12])
        return shown + (" …" if len(names) > 12 else "")

    def _check_source(self, source: str) -> None:
        if source not in self._ready().sources and source not in self._refresh().sources:
            raise UnknownNameError(what=t("fund.what.source"), name=source,
                                   known=self._known(list(self._chart.sources)))

    def _check_use(self, use: str) -> None:
        if use not in self._ready().uses and use not in self._refresh().uses:
            raise UnknownNameError(what=t("fund.what.use"), name=use,
                                   known=self._known(list(self._chart.uses)))

    def _check_unit(self, unit: str) -> None:
        if unit not in self._ready().units and unit not in self._refresh().units:
            raise UnknownNameError(what=t("fund.what.unit"), name=unit,
                                   known=self._known(list(self._chart.units)))

    def _audit(self, *, key: str, actor: str, role: str, reason: str, document: str,
               need_document: bool = False) -> Audit:
        _text(key, "key", limit=200)
        _text(actor, "actor")
        _text(role, "role")
        _text(reason, "reason")
        if need_document:
            _text(document, "document")
        elif not isinstance(document, str):
            raise MissingAuditError(field="document", value=repr(document))
        return Audit(actor=actor, role=role, reason=reason, document=document, time=self._now())

    # -- set-up ------------------------------------------------------------------------------
    def open_fund(self, *, name: str | None = None,
                  chart: str | Path | Mapping[str, Any] | acc.Chart | None = None,
                  units: Any = None, illustrative: bool = False) -> FundInfo:
        """Set up the fund's chart of accounts (idempotent): its name (default: the chart's
        Chinese name), whether it is ``illustrative`` (a demonstration whose amounts are not
        real: recorded once, when the fund is created; a real fund cannot be turned into one),
        sources and uses (``chart``: a :class:`~cocity.fund.accounts.Chart`, a YAML file or a
        mapping; default the shipped 成渝 chart) with ``cash``, a pool per use, and the
        recipient ``units`` (see :func:`~cocity.fund.accounts.units_table`) with a commitment
        and a disbursed account per unit and use. Whatever exists already is kept; new
        sources, uses and units are added; a different name for the fund or for an existing
        source, use or unit is refused (:class:`ChartConflictError`)."""
        spec = chart if isinstance(chart, acc.Chart) else acc.load_chart(chart)
        fund_name = _text(name if name is not None else spec.name_zh, "name")
        table = acc.units_table(units) if units is not None else {}
        self._check_unit_codes(table)
        now = self._now()

        def op(conn: Connection) -> None:
            have = self._load_chart(conn)
            if have.name is None:
                conn.execute(fund_meta.insert(), [
                    {"key": "name", "value": fund_name, "created": now},
                    {"key": "name_en", "value": spec.name_en, "created": now},
                    *([{"key": "illustrative", "value": "1", "created": now}]
                      if illustrative else [])])
            elif have.name != fund_name:
                raise ChartConflictError(what=t("fund.what.fund"), name="",
                                         stored=have.name, given=fund_name)
            elif illustrative and not have.illustrative:
                raise ChartConflictError(what=t("fund.what.fund"), name=fund_name,
                                         stored=t("fund.what.real"),
                                         given=t("fund.what.illustrative"))
            self._add_names(conn, fund_sources, "id", have.sources,
                            {k: (v.name_zh, v.name_en) for k, v in spec.sources.items()},
                            t("fund.what.source"), now)
            self._add_names(conn, fund_uses, "id", have.uses,
                            {k: (v.name_zh, v.name_en) for k, v in spec.uses.items()},
                            t("fund.what.use"), now)
            self._add_names(conn, fund_units, "code", have.units, table, t("fund.what.unit"),
                            now)
            self._add_accounts(conn, have.accounts, sources=set(have.sources) | set(spec.sources),
                               uses=set(have.uses) | set(spec.uses),
                               units=set(have.units) | set(table), now=now)

        self._run(op, chart=True)
        return self._info(self._refresh())

    def add_units(self, units: Any) -> FundInfo:
        """Register recipient units (idempotent; see :meth:`open_fund`)."""
        self._refresh()
        table = acc.units_table(units)
        self._check_unit_codes(table)
        now = self._now()

        def op(conn: Connection) -> None:
            have = self._load_chart(conn)
            self._add_names(conn, fund_units, "code", have.units, table, t("fund.what.unit"),
                            now)
            self._add_accounts(conn, have.accounts, sources=set(have.sources),
                               uses=set(have.uses), units=set(have.units) | set(table),
                               now=now)

        self._run(op, chart=True)
        return self._info(self._refresh())

    def fund(self) -> FundInfo:
        """The fund's name and chart as stored."""
        return self._info(self._refresh())

    @staticmethod
    def _info(chart: _Chart) -> FundInfo:
        return FundInfo(chart.name or "", dict(chart.sources), dict(chart.uses),
                        dict(chart.units), name_en=chart.name_en,
                        illustrative=chart.illustrative)

    @staticmethod
    def _check_unit_codes(table: Mapping[str, tuple[str, str]]) -> None:
        bad = [Issue(t("fund.err.unit_code", code=code)) for code in table
               if not acc.UNIT_PATTERN.match(code)]
        if bad:
            raise InvalidLinesError(bad)

    @staticmethod
    def _add_names(conn: Connection, table: sa.Table, key: str,
                   have: Mapping[str, tuple[str, str]], want: Mapping[str, tuple[str, str]],
                   what: str, now: str) -> None:
        new = []
        for ident, names in want.items():
            if ident in have:
                if tuple(have[ident]) != tuple(names):
                    raise ChartConflictError(what=what, name=ident, stored=" / ".join(
                        have[ident]), given=" / ".join(names))
            else:
                new.append({key: ident, "name_zh": names[0], "name_en": names[1],
                            "created": now})
        if new:
            conn.execute(table.insert(), new)

    @staticmethod
    def _add_accounts(conn: Connection, have: Mapping[str, _Account], *, sources: set[str],
                      uses: set[str], units: set[str], now: str) -> None:
        want: list[dict[str, Any]] = []

        def add(code: str, kind: str, *, source: str | None = None, use: str | None = None,
                unit: str | None = None) -> None:
            if code not in have:
                want.append({"code": code, "kind": kind, "normal": acc.NORMAL[kind],
                             "no_overdraft": acc.NO_OVERDRAFT[kind], "source_id": source,
                             "use_id": use, "unit_code": unit, "balance": 0, "created": now})

        add(acc.CASH, acc.CASH)
        for s in sorted(sources):
            add(acc.source_account(s), acc.SOURCE, source=s)
        for u in sorted(uses):
            add(acc.pool_account(u), acc.POOL, use=u)
        for unit in sorted(units):
            for u in sorted(uses):
                add(acc.commitment_account(unit, u), acc.COMMITMENT, use=u, unit=unit)
                add(acc.disbursed_account(unit, u), acc.DISBURSED, use=u, unit=unit)
        if want:
            conn.execute(fund_accounts.insert(), want)

    # -- operations ----------------------------------------------------------------------------
    def contribute(self, source: str, amount_fen: int, *, key: str, actor: str, role: str,
                   reason: str, document: str = "") -> Posted:
        """Money received from ``source``: Dr cash / Cr ``source:<source>``."""
        amount = _amount(amount_fen, what=t("fund.what.contribution"))
        audit = self._audit(key=key, actor=actor, role=role, reason=reason, document=document)
        self._check_source(source)
        src, cash = self._account(acc.source_account(source)), self._account(acc.CASH)
        return self._post_simple("contribution", {"source": source, "amount": amount},
                                 [(cash.id, amount), (src.id, -amount)], key=key, audit=audit)

    def fund_pools(self, amounts: Mapping[str, int], *, key: str, actor: str, role: str,
                   reason: str, document: str = "") -> Posted:
        """Cash into the pools by use: Dr ``pool:<use>`` (each) / Cr cash (the sum)."""
        audit = self._audit(key=key, actor=actor, role=role, reason=reason, document=document)
        if not isinstance(amounts, Mapping) or not amounts:
            raise InvalidLinesError([Issue(t("fund.err.no_lines"))])
        clean: dict[str, int] = {}
        for use, value in amounts.items():
            self._check_use(use)
            clean[use] = _amount(value, what=t("fund.what.pool", use=use))
        cash = self._account(acc.CASH)
        postings = [(self._account(acc.pool_account(u)).id, a) for u, a in sorted(clean.items())]
        postings.append((cash.id, -sum(clean.values())))
        return self._post_simple("pooling", {"pools": sorted([u, a] for u, a in clean.items())},
                                 postings, key=key, audit=audit)

    def post_allocation(self, lines: Iterable[tuple[str, str, int]], *, key: str, actor: str,
                        role: str, reason: str, document: str = "",
                        detail: Mapping[str, Any] | None = None) -> Posted:
        """Earmark an allocation in ONE entry: for every line ``(unit, use, amount_fen)``
        Dr ``commitment:<unit>:<use>``, and Cr ``pool:<use>`` by the sum per use. Lines of
        0 fen are kept in the body (the key's fingerprint) but post nothing; every bad line
        is reported at once (:class:`InvalidLinesError`); a pool that cannot cover its lines
        is an :class:`OverdraftError`.

        ``detail``: the allocation's document (a JSON object, e.g.
        :meth:`cocity.fund.allocation.Allocation.document`), stored as canonical JSON with
        its SHA-256 in the same transaction (``fund_allocations``); that SHA-256 joins the
        key's fingerprint, so a retry with another document is refused. Anything that is not
        a JSON object of strings, finite numbers, booleans, nulls, lists and objects is
        refused (:class:`InvalidDetailError`)."""
        audit = self._audit(key=key, actor=actor, role=role, reason=reason, document=document)
        stored: tuple[str, str] | None = None
        if detail is not None:
            try:
                stored = document_json(detail)
            except (TypeError, ValueError) as exc:
                raise InvalidDetailError(reason=str(exc)) from None
        self._ready()
        rows: list[tuple[str, str, int]] = []
        issues: list[Issue] = []
        seen: set[tuple[str, str]] = set()
        for i, line in enumerate(lines, start=1):
            try:
                unit, use, amount = line
            except (TypeError, ValueError):
                issues.append(Issue(t("fund.err.line_shape", line=repr(line)), row=i))
                continue
            problems = self._line_problems(unit, use, amount)
            if (unit, use) in seen:
                problems.append(t("fund.err.line_twice", unit=unit, use=use))
            seen.add((unit, use))
            issues.extend(Issue(p, row=i) for p in problems)
            if not problems:
                rows.append((str(unit), str(use), int(amount)))
        if not issues and not any(a for *_, a in rows):
            issues.append(Issue(t("fund.err.no_lines")))
        if issues:
            raise InvalidLinesError(issues)
        by_pool: dict[str, int] = {}
        postings = []
        for unit, use, amount in sorted(rows):
            if amount:
                postings.append((self._account(acc.commitment_account(unit, use)).id, amount))
                by_pool[use] = by_pool.get(use, 0) + amount
        for use, total in sorted(by_pool.items()):
            postings.append((self._account(acc.pool_account(use)).id, -total))
        body: dict[str, Any] = {"lines": sorted([u, s, a] for u, s, a in rows)}
        if stored is not None:
            body["detail"] = stored[1]
        return self._post_simple("earmark", body, postings, key=key, audit=audit,
                                 detail=stored)

    def _line_problems(self, unit: object, use: object, amount: object) -> list[str]:
        out = []
        if not isinstance(unit, str) or (unit not in self._chart.units
                                         and unit not in self._refresh().units):
            out.append(t("fund.line.unknown", what=t("fund.what.unit"), name=unit))
        if not isinstance(use, str) or use not in self._chart.uses:
            out.append(t("fund.line.unknown", what=t("fund.what.use"), name=use))
        try:
            _amount(amount, what=t("fund.what.line"), zero=True)
        except InvalidAmountError:
            out.append(t("fund.line.amount", value=repr(amount)))
        return out

    def _post_simple(self, kind: str, body: Mapping[str, Any], postings: list[tuple[int, int]],
                     *, key: str, audit: Audit, detail: tuple[str, str] | None = None
                     ) -> Posted:
        sha = body_sha(kind, body, actor=audit.actor, role=audit.role, reason=audit.reason,
                       document=audit.document)

        def op(conn: Connection) -> Posted:
            locked, again = lock_and_replay(conn, [a for a, _ in postings], key, sha,
                                            kind=kind)
            if again is not None:
                return again
            return write_entry(conn, kind=kind, key=key, sha=sha, postings=postings,
                               accounts=locked, audit=audit, detail=detail)

        return self._run(op)

    def request_disbursement(self, unit: str, use: str, amount_fen: int, *, key: str,
                             actor: str, role: str, reason: str, document: str) -> int:
        """Book (make) a disbursement request against the commitment of ``unit`` and ``use``;
        it posts only when another user approves it (:meth:`approve`). The amount may not
        exceed the commitment's rest minus the requests already pending. Returns the
        request's id (the original id when the key was used before with the same body)."""
        amount = _amount(amount_fen, what=t("fund.what.disbursement"))
        audit = self._audit(key=key, actor=actor, role=role, reason=reason, document=document,
                            need_document=True)
        self._check_unit(unit)
        self._check_use(use)
        commitment = self._account(acc.commitment_account(unit, use))
        body = {"unit": unit, "use": use, "amount": amount}
        sha = body_sha("request", body, actor=actor, role=role, reason=reason,
                       document=document)

        def op(conn: Connection) -> int:
            locked = lock_accounts(conn, [commitment.id])
            old = conn.execute(sa.select(fund_requests.c.id, fund_requests.c.body_sha,
                                         fund_requests.c.time)
                               .where(fund_requests.c.key == key)).first()
            if old is not None:
                if old.body_sha != sha:
                    raise IdempotencyConflictError(ikey=key, kind="request", time=old.time)
                return int(old.id)
            entry = conn.execute(sa.select(fund_entries.c.kind, fund_entries.c.time)
                                 .where(fund_entries.c.key == key)).first()
            if entry is not None:
                raise IdempotencyConflictError(ikey=key, kind=entry.kind, time=entry.time)
            pending = self._pending(conn, unit, use)
            rest = locked[commitment.id].balance
            if amount > rest - pending:
                raise ExceedsCommitmentError(unit=unit, use=use, amount=amount, rest=rest,
                                             pending=pending)
            return int(conn.execute(fund_requests.insert().returning(fund_requests.c.id), {
                "key": key, "body_sha": sha, "unit_code": unit, "use_id": use,
                "amount": amount, "actor": actor, "role": role, "reason": reason,
                "document": document, "time": audit.time, "status": "pending"}).scalar_one())

        return self._run(op)

    @staticmethod
    def _pending(conn: Connection, unit: str, use: str) -> int:
        return int(conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(fund_requests.c.amount), 0))
            .where(fund_requests.c.unit_code == unit, fund_requests.c.use_id == use,
                   fund_requests.c.status == "pending")).scalar_one())

    def _request_row(self, conn: Connection, request_id: int) -> Any:
        q = sa.select(fund_requests).where(fund_requests.c.id == request_id)
        if conn.dialect.name == "postgresql":
            q = q.with_for_update()
        row = conn.execute(q).first()
        if row is None:
            raise UnknownNameError(what=t("fund.what.request"), name=request_id, known="")
        return row

    def approve(self, request_id: int, *, actor: str, role: str, reason: str = "") -> Posted:
        """Approve (check) a pending request and post its disbursement: Dr
        ``disbursed:<unit>:<use>`` / Cr ``commitment:<unit>:<use>``. The approver must not be
        the user who booked it (:class:`MakerCheckerError`). The entry's key is the request's
        key; its reason is ``reason`` or else the request's; its document the request's.
        Approving again by the same approver returns the original entry (``replayed``)."""
        _text(actor, "actor")
        _text(role, "role")
        if not isinstance(reason, str):
            raise MissingAuditError(field="reason", value=repr(reason))
        self._ready()
        now = self._now()

        def op(conn: Connection) -> Posted:
            req = self._request_row(conn, request_id)
            commitment = self._account(acc.commitment_account(req.unit_code, req.use_id))
            paid = self._account(acc.disbursed_account(req.unit_code, req.use_id))
            locked = lock_accounts(conn, [commitment.id, paid.id])
            if req.status == "approved":
                if req.checker != actor:
                    raise RequestStateError(request=request_id, status=req.status,
                                            by=req.checker)
                entry = conn.execute(sa.select(fund_entries)
                                     .where(fund_entries.c.request_id == req.id)).one()
                return Posted(int(entry.id), int(entry.seq), entry.kind, entry.key, entry.hash,
                              replayed=True)
            if req.status != "pending":
                raise RequestStateError(request=request_id, status=req.status, by=req.checker)
            if actor == req.actor:
                raise MakerCheckerError(actor=actor, request=request_id)
            rest = locked[commitment.id].balance
            if req.amount > rest:
                raise ExceedsCommitmentError(unit=req.unit_code, use=req.use_id,
                                             amount=int(req.amount), rest=rest, pending=0)
            audit = Audit(actor=actor, role=role, reason=reason or req.reason,
                          document=req.document, time=now)
            sha = body_sha("disbursement", {"request": int(req.id)}, actor=actor, role=role,
                           reason=audit.reason, document=audit.document)
            again = replay(conn, req.key, sha, kind="disbursement", request_id=int(req.id))
            if again is not None:  # cannot happen while the request is pending; kept as a guard
                return again
            conn.execute(fund_requests.update().where(fund_requests.c.id == req.id).values(
                status="approved", checker=actor, checker_role=role, checked_time=now,
                check_reason=reason))
            amount = int(req.amount)
            return write_entry(conn, kind="disbursement", key=req.key, sha=sha,
                               postings=[(paid.id, amount), (commitment.id, -amount)],
                               accounts=locked, audit=audit, request=req._mapping)

        return self._run(op)

    def reject(self, request_id: int, *, actor: str, role: str, reason: str) -> None:
        """Reject a pending request (by a user other than its maker); nothing is posted.
        Rejecting again by the same user changes nothing."""
        _text(actor, "actor")
        _text(role, "role")
        _text(reason, "reason")
        self._ready()
        now = self._now()

        def op(conn: Connection) -> None:
            req = self._request_row(conn, request_id)
            if req.status == "rejected" and req.checker == actor:
                return
            if req.status != "pending":
                raise RequestStateError(request=request_id, status=req.status, by=req.checker)
            if actor == req.actor:
                raise MakerCheckerError(actor=actor, request=request_id)
            conn.execute(fund_requests.update().where(fund_requests.c.id == req.id).values(
                status="rejected", checker=actor, checker_role=role, checked_time=now,
                check_reason=reason))

        self._run(op)

    def release(self, unit: str, use: str, *, key: str, actor: str, role: str, reason: str,
                document: str = "") -> Posted:
        """Return the unspent rest of the commitment of ``unit`` and ``use`` to its pool:
        Dr ``pool:<use>`` / Cr ``commitment:<unit>:<use>`` by the whole rest. Refused when
        nothing is left (:class:`NothingToReleaseError`) or requests are pending."""
        audit = self._audit(key=key, actor=actor, role=role, reason=reason, document=document)
        self._check_unit(unit)
        self._check_use(use)
        commitment = self._account(acc.commitment_account(unit, use))
        pool = self._account(acc.pool_account(use))
        sha = body_sha("release", {"unit": unit, "use": use}, actor=actor, role=role,
                       reason=reason, document=document)

        def op(conn: Connection) -> Posted:
            locked, again = lock_and_replay(conn, [commitment.id, pool.id], key, sha,
                                            kind="release")
            if again is not None:
                return again
            pending = self._pending(conn, unit, use)
            if pending:
                raise PendingRequestsError(unit=unit, use=use, pending=pending)
            rest = locked[commitment.id].balance
            if rest <= 0:
                raise NothingToReleaseError(unit=unit, use=use)
            return write_entry(conn, kind="release", key=key, sha=sha,
                               postings=[(pool.id, rest), (commitment.id, -rest)],
                               accounts=locked, audit=audit)

        return self._run(op)

    def reverse(self, entry_id: int, *, key: str, actor: str, role: str, reason: str,
                document: str = "") -> Posted:
        """Correct an entry by a reversing entry (its postings with the signs swapped),
        linked to it. A reversal cannot be reversed, an entry is reversed at most once, and a
        reversal that would overdraw an account (e.g. a contribution already pooled) is
        refused."""
        audit = self._audit(key=key, actor=actor, role=role, reason=reason, document=document)
        if isinstance(entry_id, bool) or not isinstance(entry_id, numbers.Integral):
            raise UnknownNameError(what=t("fund.what.entry"), name=repr(entry_id), known="")
        self._ready()
        sha = body_sha("reversal", {"entry": int(entry_id)}, actor=actor, role=role,
                       reason=reason, document=document)

        def op(conn: Connection) -> Posted:
            orig = conn.execute(sa.select(fund_entries.c.id, fund_entries.c.reverses)
                                .where(fund_entries.c.id == int(entry_id))).first()
            if orig is None:
                raise UnknownNameError(what=t("fund.what.entry"), name=entry_id, known="")
            lines = conn.execute(sa.select(fund_postings.c.account_id, fund_postings.c.amount)
                                 .where(fund_postings.c.entry_id == orig.id)).all()
            locked = lock_accounts(conn, [int(r.account_id) for r in lines])
            again = replay(conn, key, sha, kind="reversal")
            if again is not None:
                return again
            if orig.reverses is not None:
                raise ReversalError("fund.err.reversal.of_reversal", entry=entry_id,
                                    original=orig.reverses)
            done = conn.execute(sa.select(fund_entries.c.id)
                                .where(fund_entries.c.reverses == orig.id)).first()
            if done is not None:
                raise ReversalError("fund.err.reversal.twice", entry=entry_id, by=done.id)
            postings = [(int(r.account_id), -int(r.amount)) for r in lines]
            return write_entry(conn, kind="reversal", key=key, sha=sha, postings=postings,
                               accounts=locked, audit=audit, reverses=int(orig.id))

        return self._run(op)

    # -- reads -----------------------------------------------------------------------------
    def head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the last entry: publish it to anchor the chain."""
        with self.records.read() as conn:
            return chain_head(conn)

    def balances(self, *, nonzero: bool = False) -> pd.DataFrame:
        """Every account's balance in its normal direction (fen), with its kind, source, use
        and unit (the cached balances; :meth:`verify` checks them against the postings)."""
        from cocity.fund import ledger_reads

        return ledger_reads.balances(self, nonzero=nonzero)

    def trial_balance(self) -> TrialBalance:
        """Σ debits and Σ credits per account from the postings, and their totals."""
        from cocity.fund import ledger_reads

        return ledger_reads.trial_balance(self)

    def statement(self, account: str | None = None) -> pd.DataFrame:
        """The journal: one row per posting with its entry's fields (seq, id, time, kind, key,
        actor, role, reason, document, reverses, request), in chain order; for one
        ``account``, with its running balance."""
        from cocity.fund import ledger_reads

        if account is not None:
            self._account(account)
        return ledger_reads.statement(self, account=account)

    def sources_and_uses(self) -> SourcesAndUses:
        """Contributions by source, and where the money is: by use and by unit."""
        from cocity.fund import ledger_reads

        return ledger_reads.sources_and_uses(self)

    def requests(self, *, status: str | None = None) -> pd.DataFrame:
        """The disbursement requests (maker, checker, status), optionally of one status."""
        from cocity.fund import ledger_reads

        return ledger_reads.requests(self, status=status)

    def audit_log(self) -> pd.DataFrame:
        """Every event in time order: each entry and each request's booking and decision,
        with actor, role, time, reason, document, amount and the entry's hash."""
        from cocity.fund import ledger_reads

        return ledger_reads.audit_log(self)

    def allocations(self) -> pd.DataFrame:
        """Every earmark entry (a posted allocation), in chain order: ``entry_id``, ``seq``,
        ``key``, ``time``, ``actor``, ``reason``, ``total_fen`` (Σ earmarked), ``sha256`` of
        its stored document (``None`` when posted without one) and ``reversed``."""
        from cocity.fund import ledger_reads

        return ledger_reads.allocations(self)

    def allocation_detail(self, key_or_entry_id: str | int) -> dict[str, Any] | None:
        """The document stored with an allocation, by its idempotency key (``str``) or its
        entry id (``int``), as it was given; ``None`` when there is no such allocation or it
        was posted without a document."""
        from cocity.fund import ledger_reads

        return ledger_reads.allocation_detail(self, key_or_entry_id)

    def verify(self, *, since_seq: int | None = None) -> list[Problem]:
        """Every mismatch in the books (empty: they hold). See :mod:`cocity.fund.verify`.
        ``since_seq`` re-hashes only the entries after that position (the earlier ones taken
        as anchored); every other check covers the whole ledger."""
        from cocity.fund import verify

        return verify.verify(self.records, since_seq=since_seq)
