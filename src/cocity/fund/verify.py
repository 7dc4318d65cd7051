"""``verify``: recompute the books from the stored rows and report every mismatch.

Everything is read in one snapshot and checked in Python, independently of the database's
triggers (which a person with raw SQL access can disable). The checks, each reported as a
:class:`~cocity.fund.ledger_errors.Problem` with a code:

* ``chain`` — seq runs 1, 2, 3 … without gaps and each ``prev_hash`` equals the previous
  entry's ``hash`` (I7);
* ``hash`` — each entry's hash recomputed from its header, its postings (account code,
  amount), for a disbursement its request and, for an earmark stored with its allocation
  document, that document's stored SHA-256 (I7): any field changed after posting shows;
* ``detail`` — a stored allocation document whose SHA-256 recomputed from its text differs
  from the stored one, or that belongs to no earmark entry (whatever ``since_seq``);
* ``unbalanced`` — an entry with fewer than two postings or Σ ≠ 0 (I1); ``orphan`` — a
  posting whose entry does not exist;
* ``audit`` — an empty actor, role or reason, or a time that is not an ISO-8601 UTC time;
* ``reversal`` — a reversal that does not mirror its original, reverses a reversal or a
  missing entry, or an entry reversed twice (I2);
* ``request`` — an approved request without exactly one disbursement entry matching it, a
  pending or rejected one with an entry, a checker equal to the maker (I5);
* ``account`` — an account whose kind, normal side, overdraft flag or code does not follow
  the chart's rules (:mod:`cocity.fund.accounts`);
* ``balance`` — a cached balance that differs from the sum of its postings (I6);
  ``overdraft`` — a flagged account whose balance from the postings is negative (I4);
* ``trial_balance`` — Σ of all postings ≠ 0; ``reconcile`` — contributions ≠ disbursed + cash
  + pools + commitments (I8).

``since_seq=n`` re-hashes only the entries after position ``n`` (taking the earlier ones as
anchored, e.g. by a published head hash); all the other checks always cover the whole ledger.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from cocity.fund import accounts as acc
from cocity.fund.journal import GENESIS, entry_content, entry_hash
from cocity.fund.ledger_errors import Problem
from cocity.i18n import t
from cocity.records import Records
from cocity.records.schema import (
    fund_accounts,
    fund_allocations,
    fund_entries,
    fund_postings,
    fund_requests,
)

_REQUEST_FIELDS = ("id", "key", "unit_code", "use_id", "amount", "actor", "role", "reason",
                   "document", "time", "status", "checker")


def _problem(code: str, *, seq: int | None = None, entry_id: int | None = None,
             account: str | None = None, **fmt: Any) -> Problem:
    return Problem(code, t(f"fund.verify.{code}", seq=seq, entry=entry_id, account=account,
                           **fmt), seq=seq, entry_id=entry_id, account=account)


def _expected_code(kind: str, source: str | None, use: str | None, unit: str | None) -> str:
    if kind == acc.SOURCE:
        return acc.source_account(str(source))
    if kind == acc.POOL:
        return acc.pool_account(str(use))
    if kind == acc.COMMITMENT:
        return acc.commitment_account(str(unit), str(use))
    if kind == acc.DISBURSED:
        return acc.disbursed_account(str(unit), str(use))
    return acc.CASH


def _good_time(text: str) -> bool:
    try:
        stamp = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    except (TypeError, ValueError):
        return False
    return stamp.year >= 2000


def verify(records: Records, *, since_seq: int | None = None) -> list[Problem]:
    """Every mismatch found in the books of ``records`` (empty: they hold)."""
    e, p = fund_entries, fund_postings
    after = since_seq or 0
    with records.read() as conn:
        accounts = conn.execute(sa.select(fund_accounts)).all()
        sums = {int(a): int(s) for a, s in conn.execute(
            sa.select(p.c.account_id, sa.func.sum(p.c.amount)).group_by(p.c.account_id))}
        orphans = conn.execute(
            sa.select(p.c.entry_id, sa.func.count())
            .where(~sa.exists(sa.select(e.c.id).where(e.c.id == p.c.entry_id)))
            .group_by(p.c.entry_id).order_by(p.c.entry_id)).all()
        anchor = (0, GENESIS) if after == 0 else conn.execute(
            sa.select(e.c.seq, e.c.hash).where(e.c.seq == after)).first()
        entries = conn.execute(sa.select(e).where(e.c.seq > after).order_by(e.c.seq)).all()
        # postings of the entries checked, of the entries they reverse, of every disbursement
        wanted = sa.select(e.c.id).where(sa.or_(
            e.c.seq > after, e.c.request_id.is_not(None),
            e.c.id.in_(sa.select(e.c.reverses).where(e.c.seq > after))))
        lines: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for row in conn.execute(sa.select(p.c.entry_id, p.c.account_id, p.c.amount)
                                .where(p.c.entry_id.in_(wanted))):
            lines[int(row.entry_id)].append((int(row.account_id), int(row.amount)))
        headers = {int(r.id): r for r in conn.execute(
            sa.select(e.c.id, e.c.seq, e.c.kind, e.c.actor, e.c.reverses, e.c.request_id)
            .where(e.c.id.in_(wanted)))}
        twice = conn.execute(sa.select(e.c.reverses, sa.func.count()).where(
            e.c.reverses.is_not(None)).group_by(e.c.reverses)
            .having(sa.func.count() > 1)).all()
        keys = conn.execute(sa.select(e.c.key).group_by(e.c.key)
                            .having(sa.func.count() > 1)).all()
        requests = {int(r.id): r for r in conn.execute(
            sa.select(*[fund_requests.c[f] for f in _REQUEST_FIELDS]))}
        d = fund_allocations
        details = conn.execute(
            sa.select(d.c.entry_id, d.c.sha256, d.c.document, e.c.seq, e.c.kind)
            .select_from(d.outerjoin(e, e.c.id == d.c.entry_id)).order_by(d.c.entry_id)).all()
    problems: list[Problem] = []
    detail_sha = {int(r.entry_id): str(r.sha256) for r in details}
    by_id = {int(a.id): a for a in accounts}
    problems += _check_accounts(accounts)
    for entry_id, n in orphans:
        problems.append(_problem("orphan", entry_id=int(entry_id), n=int(n)))
    if anchor is None:
        problems.append(_problem("chain", seq=after, entry_id=None))
        anchor = (after, "?")
    problems += _check_entries(entries, lines, headers, by_id, requests, detail_sha,
                               anchor=(int(anchor[0]), str(anchor[1])))
    for r in details:
        text = str(r.document)
        if hashlib.sha256(text.encode()).hexdigest() != r.sha256 or r.kind != "earmark":
            problems.append(_problem("detail", entry_id=int(r.entry_id),
                                     seq=None if r.seq is None else int(r.seq)))
    for original, _n in twice:
        problems.append(_problem("reversal", entry_id=None, original=int(original)))
    for (key,) in keys:
        problems.append(_problem("key", ikey=key))
    problems += _check_requests(headers, lines, by_id, requests)
    problems += _check_totals(accounts, sums)
    return problems


def _check_accounts(accounts: Sequence[Any]) -> list[Problem]:
    out = []
    for a in accounts:
        ok = (a.kind in acc.KINDS and int(a.normal) == acc.NORMAL.get(a.kind)
              and bool(a.no_overdraft) == acc.NO_OVERDRAFT.get(a.kind)
              and a.code == _expected_code(a.kind, a.source_id, a.use_id, a.unit_code))
        if not ok:
            out.append(_problem("account", account=a.code, kind=a.kind))
    return out


def _check_entries(entries: Sequence[Any], lines: dict[int, list[tuple[int, int]]],
                   headers: dict[int, Any], by_id: dict[int, Any], requests: dict[int, Any],
                   detail_sha: dict[int, str], *, anchor: tuple[int, str]) -> list[Problem]:
    out: list[Problem] = []
    prev_seq, prev_hash = anchor
    for e in entries:
        seq, eid = int(e.seq), int(e.id)
        mine = lines.get(eid, [])
        if seq != prev_seq + 1 or e.prev_hash != prev_hash:
            out.append(_problem("chain", seq=seq, entry_id=eid))
        codes = [(by_id[a].code if a in by_id else f"?{a}", amt) for a, amt in mine]
        request = requests.get(int(e.request_id)) if e.request_id is not None else None
        content = entry_content(e._mapping, codes, None if request is None else request._mapping,
                                detail_sha.get(eid))
        if entry_hash(e.prev_hash, content) != e.hash:
            out.append(_problem("hash", seq=seq, entry_id=eid))
        if len(mine) < 2 or sum(a for _, a in mine) != 0:
            out.append(_problem("unbalanced", seq=seq, entry_id=eid,
                                total=sum(a for _, a in mine), n=len(mine)))
        if not all(str(x or "").strip() for x in (e.actor, e.role, e.reason)) \
                or not _good_time(e.time):
            out.append(_problem("audit", seq=seq, entry_id=eid))
        if e.reverses is not None:
            orig = headers.get(int(e.reverses))
            mirror = orig is not None and sorted(lines.get(int(orig.id), [])) == sorted(
                (a, -amt) for a, amt in mine)
            if orig is None or orig.reverses is not None or not mirror \
                    or e.kind != "reversal":
                out.append(_problem("reversal", seq=seq, entry_id=eid, original=e.reverses))
        elif e.kind == "reversal":
            out.append(_problem("reversal", seq=seq, entry_id=eid, original=None))
        prev_seq, prev_hash = seq, e.hash
    return out


def _check_requests(headers: dict[int, Any], lines: dict[int, list[tuple[int, int]]],
                    by_id: dict[int, Any], requests: dict[int, Any]) -> list[Problem]:
    out = []
    posted: dict[int, list[Any]] = defaultdict(list)
    for e in headers.values():
        if e.request_id is not None:
            posted[int(e.request_id)].append(e)
        elif e.kind == "disbursement":
            out.append(_problem("request", entry_id=int(e.id), seq=int(e.seq), request=None))
    for rid in sorted(set(posted) - set(requests)):
        out.append(_problem("request", entry_id=int(posted[rid][0].id), request=rid))
    for rid, r in sorted(requests.items()):
        mine = posted.get(rid, [])
        ok = r.checker is None or r.checker != r.actor
        if r.status == "approved":
            ok = ok and len(mine) == 1
            if ok:
                e = mine[0]
                want = sorted([(acc.disbursed_account(r.unit_code, r.use_id), int(r.amount)),
                               (acc.commitment_account(r.unit_code, r.use_id),
                                -int(r.amount))])
                got = sorted((by_id[a].code if a in by_id else "?", amt)
                             for a, amt in lines.get(int(e.id), []))
                ok = got == want and e.kind == "disbursement" and e.actor == r.checker
        else:
            ok = ok and not mine
        if not ok:
            out.append(_problem("request", request=rid, entry_id=None))
    return out


def _check_totals(accounts: Sequence[Any], sums: dict[int, int]) -> list[Problem]:
    out = []
    computed: dict[str, int] = defaultdict(int)
    for a in accounts:
        balance = sums.get(int(a.id), 0) * int(a.normal)
        if balance != int(a.balance):
            out.append(_problem("balance", account=a.code, cached=int(a.balance),
                                computed=balance))
        if bool(acc.NO_OVERDRAFT.get(a.kind)) and balance < 0:
            out.append(_problem("overdraft", account=a.code, balance=balance))
        computed[a.kind] += balance
    total = sum(sums.values())
    if total != 0:
        out.append(_problem("trial_balance", total=total))
    held = computed[acc.CASH] + computed[acc.POOL] + computed[acc.COMMITMENT]
    if computed[acc.SOURCE] != computed[acc.DISBURSED] + held:
        out.append(_problem("reconcile", contributed=computed[acc.SOURCE],
                            disbursed=computed[acc.DISBURSED], held=held))
    return out
