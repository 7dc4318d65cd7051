"""The ledger's reads as pandas frames: balances, trial balance, statement, sources and uses,
requests, audit log, allocations (and one allocation's stored document). Each runs in one
read snapshot of the records store."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from cocity.fund import accounts as acc
from cocity.records.schema import (
    fund_accounts,
    fund_allocations,
    fund_entries,
    fund_postings,
    fund_requests,
    fund_sources,
    fund_units,
    fund_uses,
)

if TYPE_CHECKING:
    from cocity.fund.ledger import Ledger, SourcesAndUses, TrialBalance

_KIND_ORDER = {k: i for i, k in enumerate(acc.KINDS)}


def _frame(rows: Sequence[Any], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def _sort_accounts(frame: pd.DataFrame) -> pd.DataFrame:
    """Accounts in the chart's order of kinds (sources, cash, pools, commitments, disbursed),
    then by code."""
    kinds, codes = frame["kind"].tolist(), frame["account"].tolist()
    order = sorted(range(len(frame)), key=lambda i: (_KIND_ORDER.get(str(kinds[i]), 9),
                                                     str(codes[i])))
    return frame.iloc[order].reset_index(drop=True)


def balances(ledger: Ledger, *, nonzero: bool = False) -> pd.DataFrame:
    ledger._ready()
    a = fund_accounts
    with ledger.records.read() as conn:
        rows = conn.execute(sa.select(a.c.code, a.c.kind, a.c.source_id, a.c.use_id,
                                      a.c.unit_code, a.c.normal, a.c.no_overdraft,
                                      a.c.balance)).all()
    frame = _frame(rows, ["account", "kind", "source", "use", "unit", "normal", "no_overdraft",
                          "balance_fen"])
    frame["normal"] = ["debit" if int(n) == 1 else "credit" for n in frame["normal"]]
    frame["no_overdraft"] = frame["no_overdraft"].astype(bool)
    frame["balance_fen"] = frame["balance_fen"].astype("int64")
    if nonzero:
        frame = frame[frame["balance_fen"] != 0]
    return _sort_accounts(frame)


def _sums(conn: sa.Connection) -> pd.DataFrame:
    """Per account: Σ debits, Σ credits (fen, ≥ 0) from the postings."""
    a, p = fund_accounts, fund_postings
    debit = sa.func.coalesce(sa.func.sum(sa.case((p.c.amount > 0, p.c.amount), else_=0)), 0)
    credit = sa.func.coalesce(sa.func.sum(sa.case((p.c.amount < 0, -p.c.amount), else_=0)), 0)
    rows = conn.execute(
        sa.select(a.c.code, a.c.kind, a.c.source_id, a.c.use_id, a.c.unit_code, a.c.normal,
                  debit, credit)
        .select_from(a.outerjoin(p, p.c.account_id == a.c.id))
        .group_by(a.c.id, a.c.code, a.c.kind, a.c.source_id, a.c.use_id, a.c.unit_code,
                  a.c.normal)).all()
    frame = _frame(rows, ["account", "kind", "source", "use", "unit", "normal", "debit_fen",
                          "credit_fen"])
    frame[["debit_fen", "credit_fen"]] = frame[["debit_fen", "credit_fen"]].astype("int64")
    frame["balance_fen"] = ((frame["debit_fen"] - frame["credit_fen"])
                            * frame["normal"].astype("int64"))
    return frame


def trial_balance(ledger: Ledger) -> TrialBalance:
    from cocity.fund.ledger import TrialBalance

    ledger._ready()
    with ledger.records.read() as conn:
        frame = _sums(conn)
    frame = _sort_accounts(frame[["account", "kind", "debit_fen", "credit_fen",
                                  "balance_fen"]])
    return TrialBalance(frame, int(frame["debit_fen"].sum()), int(frame["credit_fen"].sum()))


def statement(ledger: Ledger, *, account: str | None = None) -> pd.DataFrame:
    e, p, a = fund_entries, fund_postings, fund_accounts
    q = (sa.select(e.c.seq, e.c.id, e.c.time, e.c.kind, e.c.key, e.c.actor, e.c.role,
                   e.c.reason, e.c.document, e.c.reverses, e.c.request_id, a.c.code,
                   a.c.normal, p.c.amount)
         .select_from(p.join(e, e.c.id == p.c.entry_id).join(a, a.c.id == p.c.account_id))
         .order_by(e.c.seq, a.c.code, p.c.id))
    if account is not None:
        q = q.where(a.c.code == account)
    with ledger.records.read() as conn:
        rows = conn.execute(q).all()
    frame = _frame(rows, ["seq", "entry_id", "time", "kind", "key", "actor", "role", "reason",
                          "document", "reverses", "request_id", "account", "normal", "amount"])
    amount = frame["amount"].astype("int64")
    frame["debit_fen"] = amount.clip(lower=0)
    frame["credit_fen"] = (-amount).clip(lower=0)
    if account is not None:
        frame["balance_fen"] = (amount * frame["normal"].astype("int64")).cumsum()
    for col in ("reverses", "request_id"):
        frame[col] = frame[col].astype("Int64")
    return frame.drop(columns=["normal", "amount"]).reset_index(drop=True)


def sources_and_uses(ledger: Ledger) -> SourcesAndUses:
    from cocity.fund.ledger import SourcesAndUses

    ledger._ready()
    with ledger.records.read() as conn:
        sums = _sums(conn)
        sources = _frame(conn.execute(sa.select(fund_sources.c.id, fund_sources.c.name_zh,
                                                fund_sources.c.name_en)
                                      .order_by(fund_sources.c.id)).all(),
                         ["source", "name_zh", "name_en"])
        uses = _frame(conn.execute(sa.select(fund_uses.c.id, fund_uses.c.name_zh,
                                             fund_uses.c.name_en)
                                   .order_by(fund_uses.c.id)).all(),
                      ["use", "name_zh", "name_en"])
        units = _frame(conn.execute(sa.select(fund_units.c.code, fund_units.c.name_zh,
                                              fund_units.c.name_en)).all(),
                       ["unit", "name_zh", "name_en"])

    def total(kind: str) -> int:
        return int(sums.loc[sums["kind"] == kind, "balance_fen"].sum())

    by_source = sums[sums["kind"] == acc.SOURCE].set_index("source")["balance_fen"]
    sources["contributed_fen"] = sources["source"].map(by_source).fillna(0).astype("int64")
    for kind, col in ((acc.POOL, "pooled_fen"), (acc.COMMITMENT, "committed_fen"),
                      (acc.DISBURSED, "disbursed_fen")):
        by_use = sums[sums["kind"] == kind].groupby("use")["balance_fen"].sum()
        uses[col] = uses["use"].map(by_use).fillna(0).astype("int64")
    per_unit = sums[sums["kind"].isin([acc.COMMITMENT, acc.DISBURSED])]
    wide = (per_unit.pivot_table(index=["unit", "use"], columns="kind", values="balance_fen",
                                 aggfunc="sum", fill_value=0)
            .reindex(columns=[acc.COMMITMENT, acc.DISBURSED], fill_value=0)
            .rename(columns={acc.COMMITMENT: "committed_fen", acc.DISBURSED: "disbursed_fen"})
            .reset_index())
    wide = wide[(wide["committed_fen"] != 0) | (wide["disbursed_fen"] != 0)]
    by_unit = (units.merge(wide, on="unit", how="inner")
               [["unit", "name_zh", "name_en", "use", "committed_fen", "disbursed_fen"]]
               .sort_values(["unit", "use"]).reset_index(drop=True))
    for col in ("committed_fen", "disbursed_fen"):
        by_unit[col] = by_unit[col].astype("int64")
    return SourcesAndUses(sources=sources, uses=uses, units=by_unit,
                          contributed_fen=total(acc.SOURCE), cash_fen=total(acc.CASH),
                          pooled_fen=total(acc.POOL), committed_fen=total(acc.COMMITMENT),
                          disbursed_fen=total(acc.DISBURSED))


_REQUEST_COLUMNS = ["id", "key", "unit_code", "use_id", "amount", "actor", "role", "reason",
                    "document", "time", "status", "checker", "checker_role", "checked_time",
                    "check_reason"]


def requests(ledger: Ledger, *, status: str | None = None) -> pd.DataFrame:
    r = fund_requests
    q = sa.select(*[r.c[c] for c in _REQUEST_COLUMNS]).order_by(r.c.id)
    if status is not None:
        q = q.where(r.c.status == status)
    with ledger.records.read() as conn:
        rows = conn.execute(q).all()
    frame = _frame(rows, _REQUEST_COLUMNS).rename(columns={
        "unit_code": "unit", "use_id": "use", "amount": "amount_fen"})
    frame["amount_fen"] = frame["amount_fen"].astype("int64")
    return frame


def audit_log(ledger: Ledger) -> pd.DataFrame:
    e, p, r = fund_entries, fund_postings, fund_requests
    debit = sa.func.coalesce(sa.func.sum(sa.case((p.c.amount > 0, p.c.amount), else_=0)), 0)
    with ledger.records.read() as conn:
        entries = conn.execute(
            sa.select(e.c.time, e.c.kind, e.c.actor, e.c.role, e.c.reason, e.c.document,
                      e.c.seq, e.c.id, e.c.request_id, e.c.key, debit, e.c.reverses, e.c.hash)
            .select_from(e.join(p, p.c.entry_id == e.c.id))
            .group_by(e.c.id, e.c.time, e.c.kind, e.c.actor, e.c.role, e.c.reason,
                      e.c.document, e.c.seq, e.c.request_id, e.c.key, e.c.reverses, e.c.hash)
        ).all()
        reqs = conn.execute(sa.select(r)).all()
    cols = ["time", "event", "actor", "role", "reason", "document", "seq", "entry_id",
            "request_id", "key", "amount_fen", "reverses", "hash"]
    rows = [tuple(x) for x in entries]
    for q in reqs:
        rows.append((q.time, "request", q.actor, q.role, q.reason, q.document, None, None,
                     q.id, q.key, q.amount, None, None))
        if q.status != "pending":
            rows.append((q.checked_time, q.status, q.checker, q.checker_role,
                         q.check_reason or "", q.document, None, None, q.id, q.key, q.amount,
                         None, None))
    frame = pd.DataFrame(rows, columns=cols)
    for col in ("seq", "entry_id", "request_id", "reverses"):
        frame[col] = frame[col].astype("Int64")
    frame["amount_fen"] = frame["amount_fen"].astype("int64")
    # an approval's entry and its "approved" event share a time: the event first, then entry
    frame["_o"] = frame["seq"].isna().map({True: 0, False: 1})
    return (frame.sort_values(["time", "_o", "seq"], na_position="first")
            .drop(columns="_o").reset_index(drop=True))


def allocations(ledger: Ledger) -> pd.DataFrame:
    e, p, d = fund_entries, fund_postings, fund_allocations
    r = e.alias("r")
    total = (sa.select(sa.func.coalesce(sa.func.sum(p.c.amount), 0))
             .where(p.c.entry_id == e.c.id, p.c.amount > 0).scalar_subquery())
    reversed_ = sa.exists(sa.select(r.c.id).where(r.c.reverses == e.c.id))
    q = (sa.select(e.c.id, e.c.seq, e.c.key, e.c.time, e.c.actor, e.c.reason, total,
                   d.c.sha256, reversed_)
         .select_from(e.outerjoin(d, d.c.entry_id == e.c.id))
         .where(e.c.kind == "earmark").order_by(e.c.seq))
    with ledger.records.read() as conn:
        rows = conn.execute(q).all()
    frame = _frame(rows, ["entry_id", "seq", "key", "time", "actor", "reason", "total_fen",
                          "sha256", "reversed"])
    for column in ("entry_id", "seq", "total_fen"):
        frame[column] = frame[column].astype("int64")
    frame["reversed"] = frame["reversed"].astype(bool)
    frame["sha256"] = frame["sha256"].astype(object).where(frame["sha256"].notna(), None)
    return frame


def allocation_detail(ledger: Ledger, key_or_entry_id: str | int) -> dict[str, Any] | None:
    d = fund_allocations
    if isinstance(key_or_entry_id, bool) or not isinstance(key_or_entry_id, (str, int)):
        return None
    where = d.c.key == key_or_entry_id if isinstance(key_or_entry_id, str) \
        else d.c.entry_id == int(key_or_entry_id)
    with ledger.records.read() as conn:
        text = conn.execute(sa.select(d.c.document).where(where)).scalar()
    if text is None:
        return None
    out: dict[str, Any] = json.loads(text)
    return out
