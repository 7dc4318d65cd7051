"""Export of the ledger as beancount text, for an independent check with ``bean-check``.

Every entry becomes a transaction dated by its UTC day, in chain order, with its audit fields
as metadata (seq, id, kind, key, actor, role, document, reversed entry, request, hash) and the
reason as narration; every account is opened on the first entry's day; at the end, one
``balance`` assertion per account (the day after the last entry) states the ledger's balance,
so ``bean-check`` verifies independently that the postings add up to the ledger's balances.
Amounts are fen written as yuan with two decimals, currency CNY; the balance assertions carry a
third decimal (``12.340``) because beancount's tolerance for a balance is twice the precision
inferred from its digits — 0.01 yuan at two decimals, which would let a one-fen error pass.

Accounts (beancount's five roots; the ledger's normal sides map onto them):

* ``source:<s>`` → ``Equity:Contributions:<S>`` (credit-normal: negative in beancount)
* ``cash`` → ``Assets:Fund:Cash``; ``pool:<u>`` → ``Assets:Fund:Pools:<U>``
* ``commitment:<unit>:<u>`` → ``Assets:Fund:Committed:U<unit>:<U>``
* ``disbursed:<unit>:<u>`` → ``Expenses:Disbursed:U<unit>:<U>``

where ``<S>``/``<U>`` are the ids in beancount's spelling (``social_security`` →
``Social-Security``).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from cocity.fund import accounts as acc
from cocity.outputs import write_atomic

if TYPE_CHECKING:
    from cocity.fund.ledger import Ledger

CURRENCY = "CNY"


def _component(ident: str) -> str:
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", ident) if p]
    return "-".join(p[:1].upper() + p[1:] for p in parts) or "X"


def account_name(code: str) -> str:
    """The beancount account of a ledger account code."""
    kind, *rest = code.split(":")
    if kind == acc.SOURCE:
        return f"Equity:Contributions:{_component(rest[0])}"
    if kind == acc.CASH:
        return "Assets:Fund:Cash"
    if kind == acc.POOL:
        return f"Assets:Fund:Pools:{_component(rest[0])}"
    unit, use = rest
    unit_part = "U" + re.sub(r"[^A-Za-z0-9]", "-", unit)
    if kind == acc.COMMITMENT:
        return f"Assets:Fund:Committed:{unit_part}:{_component(use)}"
    return f"Expenses:Disbursed:{unit_part}:{_component(use)}"


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, exactly (no float)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{cents:02d}"


def _quote(text: object) -> str:
    clean = " ".join(str(text).split())
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def beancount_text(ledger: Ledger) -> str:
    """The ledger as beancount text (see the module docstring)."""
    fund = ledger.fund()
    journal = ledger.statement()
    balances = ledger.balances()
    days = sorted({str(x)[:10] for x in journal["time"]})
    first = days[0] if days else dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    last = dt.date.fromisoformat(days[-1] if days else first)
    out = [f"option \"title\" {_quote(fund.name)}",
           f"option \"operating_currency\" \"{CURRENCY}\"", ""]
    for code in balances["account"]:
        out.append(f"{first} open {account_name(code)} {CURRENCY}")
    out.append("")
    for _, rows in journal.groupby("seq", sort=True):
        head = rows.iloc[0]
        out.append(f"{str(head['time'])[:10]} * {_quote(head['actor'])} "
                   f"{_quote(head['reason'])}")
        meta = {"seq": int(head["seq"]), "entry": int(head["entry_id"]), "kind": head["kind"],
                "key": head["key"], "role": head["role"], "time": head["time"],
                "document": head["document"]}
        for col, name in (("reverses", "reverses"), ("request_id", "request")):
            if not pd.isna(head[col]):
                meta[name] = int(head[col])
        for name, value in meta.items():
            out.append(f"  {name}: {value if isinstance(value, int) else _quote(value)}")
        for _, r in rows.iterrows():
            amount = int(r["debit_fen"]) - int(r["credit_fen"])
            out.append(f"  {account_name(r['account'])}  {yuan(amount)} {CURRENCY}")
        out.append("")
    check_day = (last + dt.timedelta(days=1)).isoformat()
    for _, r in balances.iterrows():
        signed = int(r["balance_fen"]) * (1 if r["normal"] == "debit" else -1)
        # three decimals: beancount's tolerance for a balance is twice the inferred one,
        # 0.01 yuan at two decimals (a 1-fen error would pass), 0.001 at three
        out.append(f"{check_day} balance {account_name(r['account'])}  {yuan(signed)}0 "
                   f"{CURRENCY}")
    return "\n".join(out) + "\n"


def export_beancount(ledger: Ledger, path: str | Path) -> Path:
    """Write the ledger as beancount text to ``path`` (atomically) and return the path."""
    return write_atomic(beancount_text(ledger), path)
