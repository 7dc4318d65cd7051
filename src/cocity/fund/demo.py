"""A demonstration year of the fund on the embedded data (``cocity fund demo``).

What is real and what is not:

* **illustrative** — the contributions: no amounts of 成渝地区双城经济圈民生协同基金 are public,
  so the demo books round figures (central 4 亿, Sichuan 3 亿, Chongqing 2 亿, social capital
  1 亿 yuan), each marked 示意金额 in its reason and document, and the fund is named
  ``…（演示·示意金额）`` so that no page or export can pass it off as the real fund; the
  disbursements, the rejection, the reversal and the release are made-up steps showing each
  operation;
* **real** — the recipients and their needs (census 2020, yearbook 2019 of the embedded
  dataset), the allocation rules shipped with cocity, and the grades of the 2020 evaluation
  (whose satisfaction survey is itself simulated unless a real survey was used — the
  allocation says so wherever a grade is used).

Every step has a fixed idempotency key (``demo:…``), so running the demo again on the same
records database replays each step and books nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cocity.fund import desk
from cocity.i18n import t

if TYPE_CHECKING:
    from cocity.data.store import Store
    from cocity.fund.ledger import Ledger

YI = 100_000_000 * 100  # one 亿 yuan in fen
CONTRIBUTIONS = {"central": 4 * YI, "sichuan": 3 * YI, "chongqing": 2 * YI,
                 "social_capital": 1 * YI}
MAKER = {"actor": "demo-王经理", "role": desk.MANAGER}
CHECKER = {"actor": "demo-李复核", "role": desk.APPROVER}


@dataclass
class DemoYear:
    """What the demo did: the allocation's key, the entries and requests it booked."""

    allocation_key: str = ""
    grades_how: dict[str, str] = field(default_factory=dict)
    steps: list[dict[str, str]] = field(default_factory=list)

    def add(self, key: str, **fmt: Any) -> None:
        self.steps.append({lang: t(key, lang, **fmt) for lang in ("zh", "en")})


def fund_name() -> str:
    """The demo fund's name: the chart's, marked as a demonstration with illustrative money."""
    from cocity.fund.accounts import load_chart

    return load_chart(None).name_zh + t("fund.demo.name_suffix", "zh")


def run_demo(ledger: Ledger, store: Store, *, run: Any = None,
             progress: Callable[[str], None] | None = None) -> DemoYear:
    """Book the demonstration year on ``ledger`` (see the module doc)."""
    from cocity.fund.money import format_yuan

    say = progress or (lambda _key: None)
    out = DemoYear()
    say("fund.demo.step.open")
    ledger.open_fund(name=fund_name(), units=desk.recipient_units(store), illustrative=True)
    out.add("fund.demo.did.open", n=len(ledger.fund().units))
    for source, fen in CONTRIBUTIONS.items():
        ledger.contribute(source, fen, key=f"demo:contribution:{source}",
                          reason=t("fund.demo.reason.contribution", "zh"),
                          document=t("fund.demo.document.illustrative", "zh"), **MAKER)
    out.add("fund.demo.did.contributions", total=format_yuan(sum(CONTRIBUTIONS.values())))
    say("fund.demo.step.pool")
    _, pools = desk.pool_cash(ledger, amount_fen=sum(CONTRIBUTIONS.values()),
                              key="demo:pooling", **MAKER)
    uses = ledger.fund().uses
    out.steps.append({lang: t("fund.demo.did.pools", lang, pools=("；" if lang == "zh" else "; ")
                              .join(f"{uses[u][i]} {format_yuan(a)}" for u, a in pools.items()))
                      for i, lang in enumerate(("zh", "en"))})
    booked = desk.latest_detail(ledger)
    if booked is not None:  # a second run: the year's allocation stands as it was booked
        table = pd.DataFrame(booked["lines"])
        run_id = str((booked.get("run") or {}).get("run") or "—")
        out.grades_how = {lang: t("fund.demo.booked_before", lang, ikey=booked["key"],
                                  run=run_id) for lang in ("zh", "en")}
        out.allocation_key = str(booked["key"])
        entry = int(ledger.allocations().iloc[-1]["entry_id"])
    else:
        say("fund.demo.step.grades")
        found = desk.grades_run(run, store=store, level="county", year=2020)
        out.grades_how = found.how
        say("fund.demo.step.allocate")
        allocation = desk.plan(None, store, run=found.run,
                               fund_fen=sum(CONTRIBUTIONS.values()))
        entry = desk.post(ledger, allocation, reason=t("fund.demo.reason.allocation", "zh"),
                          **MAKER).entry_id
        out.allocation_key = allocation.key
        table = allocation.table
    paid = table[table["amount_fen"] > 0]
    out.add("fund.demo.did.allocation", lines=len(paid), entry=entry,
            conditional=int(paid["conditional"].astype(bool).sum()))
    say("fund.demo.step.disburse")
    _disbursements(ledger, table, out)
    return out


def _disbursements(ledger: Ledger, table: pd.DataFrame, out: DemoYear) -> None:
    """Four requests against the largest unconditional facilities lines: two approved, one
    rejected, one approved with a wrong amount, reversed and booked again; then the rest
    of one commitment released to its pool."""
    from cocity.fund.money import format_yuan

    free = table[(table["use"] == "facilities") & ~table["conditional"].astype(bool)
                 & (table["amount_fen"] > 0)].sort_values(["amount_fen", "unit"],
                                                           ascending=[False, True])
    units = [str(u) for u in free["unit"].head(4)]
    amount = {u: int(a) for u, a in zip(free["unit"], free["amount_fen"], strict=True)}
    doc = t("fund.demo.document.contract", "zh")
    ids = []
    for i, unit in enumerate(units):
        part = amount[unit] * 2 // 5  # 40 % of the line: a first tranche
        ids.append(ledger.request_disbursement(
            unit, "facilities", part, key=f"demo:request:{i}",
            reason=t("fund.demo.reason.tranche", "zh"), document=f"{doc}-{i + 1}", **MAKER))
    approved = []
    for rid in (ids[0], ids[1], ids[3]):
        approved.append(_approve(ledger, rid))
    _reject(ledger, ids[2])
    out.add("fund.demo.did.requests", n=len(ids), approved=len(approved), rejected=1)
    # The fourth was booked at 40 % where the contract says 30 %: reverse it, book it again.
    wrong = approved[2]
    rev = ledger.reverse(wrong, key="demo:reverse:3", reason=t("fund.demo.reason.reverse", "zh"),
                         document=f"{doc}-4", **MAKER)
    fixed = ledger.request_disbursement(
        units[3], "facilities", amount[units[3]] * 3 // 10, key="demo:request:3b",
        reason=t("fund.demo.reason.tranche", "zh"), document=f"{doc}-4", **MAKER)
    _approve(ledger, fixed)
    out.add("fund.demo.did.reversal", entry=wrong, reversal=rev.entry_id,
            amount=format_yuan(amount[units[3]] * 3 // 10))
    # The second unit's project came in under budget: the rest returns to the pool.
    rest = _release(ledger, units[1])
    names = ledger.fund().units[units[1]]
    out.steps.append({lang: t("fund.demo.did.release", lang, unit=names[i],
                              amount=format_yuan(rest)) for i, lang in enumerate(("zh", "en"))})


def _approve(ledger: Ledger, request_id: int) -> int:
    return ledger.approve(request_id, reason=t("fund.demo.reason.approve", "zh"),
                          **CHECKER).entry_id


def _reject(ledger: Ledger, request_id: int) -> None:
    requests = ledger.requests()
    status = requests.loc[requests["id"] == request_id, "status"]
    if not status.empty and str(status.iloc[0]) == "pending":
        ledger.reject(request_id, reason=t("fund.demo.reason.reject", "zh"), **CHECKER)


def _release(ledger: Ledger, unit: str) -> int:
    """Release the rest of ``unit``'s facilities commitment; the amount released."""
    ledger.release(unit, "facilities", key="demo:release:1",
                   reason=t("fund.demo.reason.release", "zh"), **MAKER)
    journal = ledger.statement()
    mine = journal[(journal["key"] == "demo:release:1") & (journal["account"] == "pool:facilities")]
    return int(mine["debit_fen"].sum())


def write_reports(ledger: Ledger, store: Store, *, out: Path) -> dict[str, Any]:
    """The fund's reports of the demo year (see :mod:`cocity.report.fund_report`)."""
    from cocity.report.fund_report import write_fund_report

    return write_fund_report(ledger, out=out, allocation=desk.latest_detail(ledger),
                             store=store)
