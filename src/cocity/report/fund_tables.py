"""The tables of the fund's report, read from the books (and an allocation document).

:func:`fund_books` reads a :class:`~cocity.fund.ledger.Ledger` through its public reads only
(``fund``, ``head``, ``sources_and_uses``, ``balances``, ``trial_balance``, ``requests``,
``audit_log``, ``verify``) and an allocation document (the plain data of
:meth:`cocity.fund.allocation.Allocation.document`), and returns :class:`FundBooks`: every
table of the report as a :class:`Table` — typed columns with bilingual labels and rows of
plain values — that the HTML page, the print pages and the workbooks all render. Nothing is
computed twice and nothing is written here.

Amounts stay integer fen (分) in the rows (``yuan`` columns) and are shown as 元 with two
decimals (``fen // 100`` and ``fen % 100``: no floating point). The allocation's base and
bonus are exact fractions of a fen rounded to floats by the allocation (``yuan_f`` columns);
the amounts booked are the integer ``amount_fen``.

The verification lists every check of :mod:`cocity.fund.verify` (:data:`CHECKS`) with the
number of problems it found; "all hold" is said only when ``verify()`` returned nothing.
Its messages are taken in both languages (``verify`` is run once per language).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cocity.data.errors import CocityError
from cocity.i18n import LANGS, both, labels, t, use_lang

if TYPE_CHECKING:
    import pandas as pd

    from cocity.fund.ledger import Ledger

# Every check of cocity.fund.verify, in the order its docstring lists them.
CHECKS = ("chain", "hash", "unbalanced", "orphan", "detail", "audit", "reversal", "key",
          "request", "account", "balance", "overdraft", "trial_balance", "reconcile")
KIND_ORDER = ("source", "cash", "pool", "commitment", "disbursed")
# Column kinds: how a cell is shown (HTML, print) and stored (workbook).
KINDS = ("text", "code", "pair", "yuan", "yuan_f", "int", "pct", "flag", "num")


class FundReportError(CocityError):
    """The report cannot be made as asked (bad format, allocation document or unit)."""


def yuan(fen: int | None) -> str:
    """Integer fen as 元 with two decimals and thousands separators (exact)."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # i18n key of the header (it names the unit, e.g. 元)
    kind: str = "text"


@dataclass
class Table:
    """One table of the report: ``rows`` are dicts keyed by the columns' keys; a ``pair``
    value is ``{"zh": …, "en": …}``; ``total`` an optional last row."""

    id: str
    title: str  # i18n key
    columns: list[Column]
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None = None
    note: str | None = None  # i18n key of a note under the table

    def column(self, key: str) -> list[Any]:
        return [r.get(key) for r in self.rows]


@dataclass
class FundBooks:
    """Everything the report shows (see the module docstring)."""

    name: str
    name_en: str
    head: tuple[int, str]
    problems: list[dict[str, Any]]  # code, seq, entry_id, account, zh, en
    tables: dict[str, Table]
    reconciles: bool
    balanced: bool
    notes: list[dict[str, str]] = field(default_factory=list)
    illustrative: bool = False
    allocation: Mapping[str, Any] | None = None
    unit_amounts: dict[str, int] = field(default_factory=dict)  # unit → fen allocated
    bonus_units: list[str] = field(default_factory=list)
    explained_unit: str | None = None
    level: str | None = None

    @property
    def holds(self) -> bool:
        return not self.problems


def _pair(zh: Any, en: Any) -> dict[str, str]:
    return {"zh": "" if zh is None else str(zh), "en": "" if en is None else str(en)}


def _label(key: str, default: str) -> dict[str, str]:
    """Both languages of a label, or ``default`` when no such label exists."""
    if key in labels():
        return {lg: t(key, lg) for lg in LANGS}
    return _pair(default, default)


def _none(value: Any) -> Any:
    """NA/NaN → None; numpy scalars → Python."""
    import pandas as pd

    if value is None or (not isinstance(value, str | bytes) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _none(v) for k, v in r.items()} for r in frame.to_dict("records")]


# ---------------------------------------------------------------------- the books
def _sources_and_uses(ledger: Ledger, uses: Mapping[str, tuple[str, str]]
                      ) -> tuple[list[Table], bool]:
    sau = ledger.sources_and_uses()
    sources = Table("sources", "fund.r.t.sources", [
        Column("source", "fund.r.c.source_id", "code"),
        Column("name", "fund.r.c.source", "pair"),
        Column("contributed", "fund.r.c.contributed", "yuan")],
        [{"source": r["source"], "name": _pair(r["name_zh"], r["name_en"]),
          "contributed": int(r["contributed_fen"])} for r in _records(sau.sources)],
        total={"name": _label("fund.r.total", "Σ"), "contributed": sau.contributed_fen})
    rows: list[dict[str, Any]] = [{"item": _label("fund.r.cash", "cash"), "pooled": None,
                                   "committed": None, "disbursed": None,
                                   "total": sau.cash_fen}]
    for r in _records(sau.uses):
        rows.append({"item": _pair(r["name_zh"], r["name_en"]), "pooled": int(r["pooled_fen"]),
                     "committed": int(r["committed_fen"]),
                     "disbursed": int(r["disbursed_fen"]),
                     "total": int(r["pooled_fen"] + r["committed_fen"] + r["disbursed_fen"])})
    uses_fen = sau.held_fen + sau.disbursed_fen
    where = Table("uses", "fund.r.t.uses", [
        Column("item", "fund.r.c.position", "pair"), Column("pooled", "fund.r.c.pooled", "yuan"),
        Column("committed", "fund.r.c.committed", "yuan"),
        Column("disbursed", "fund.r.c.disbursed", "yuan"),
        Column("total", "fund.r.c.amount", "yuan")], rows,
        total={"item": _label("fund.r.total", "Σ"), "pooled": sau.pooled_fen,
               "committed": sau.committed_fen, "disbursed": sau.disbursed_fen,
               "total": uses_fen})
    reconcile = Table("reconcile", "fund.r.t.reconcile", [
        Column("item", "fund.r.c.item", "pair"), Column("amount", "fund.r.c.amount", "yuan")], [
        {"item": _label("fund.r.sum_sources", ""), "amount": sau.contributed_fen},
        {"item": _label("fund.r.sum_uses", ""), "amount": uses_fen},
        {"item": _label("fund.r.difference", ""), "amount": sau.contributed_fen - uses_fen}],
        note="fund.r.reconcile_note")
    units = Table("units", "fund.r.t.units", [
        Column("unit", "fund.r.c.unit", "code"), Column("name", "fund.r.c.name", "pair"),
        Column("use", "fund.r.c.use", "pair"), Column("committed", "fund.r.c.committed", "yuan"),
        Column("disbursed", "fund.r.c.disbursed", "yuan")],
        [{"unit": r["unit"], "name": _pair(r["name_zh"], r["name_en"]),
          "use": _pair(*uses.get(r["use"], (r["use"], r["use"]))),
          "committed": int(r["committed_fen"]), "disbursed": int(r["disbursed_fen"])}
         for r in _records(sau.units)],
        total={"name": _label("fund.r.total", "Σ"), "committed": sau.committed_fen,
               "disbursed": sau.disbursed_fen})
    return [sources, where, reconcile, units], sau.reconciles


def _balance_sheet(ledger: Ledger) -> tuple[list[Table], bool]:
    bal = ledger.balances()
    rows: list[dict[str, Any]] = []
    for kind in KIND_ORDER:
        sel = bal[bal["kind"] == kind]
        rows.append({"kind": _label(f"fund.r.kind.{kind}", kind),
                     "side": _label("fund.r.side.credit" if kind == "source"
                                    else "fund.r.side.debit", ""),
                     "accounts": len(sel), "nonzero": int((sel["balance_fen"] != 0).sum()),
                     "balance": int(sel["balance_fen"].sum())})
    held = sum(int(r["balance"]) for r in rows[1:])
    sheet = Table("balance_sheet", "fund.r.t.balance_sheet", [
        Column("kind", "fund.r.c.kind", "pair"), Column("side", "fund.r.c.side", "pair"),
        Column("accounts", "fund.r.c.accounts", "int"),
        Column("nonzero", "fund.r.c.nonzero", "int"),
        Column("balance", "fund.r.c.balance", "yuan")], rows,
        note="fund.r.balance_sheet_note")
    sheet.total = {"kind": _label("fund.r.sheet_total", ""),
                   "balance": held - int(rows[0]["balance"])}
    tb = ledger.trial_balance()
    trial = Table("trial_balance", "fund.r.t.trial_balance", [
        Column("account", "fund.r.c.account", "code"), Column("kind", "fund.r.c.kind", "pair"),
        Column("debit", "fund.r.c.debit", "yuan"), Column("credit", "fund.r.c.credit", "yuan"),
        Column("balance", "fund.r.c.balance", "yuan")],
        [{"account": r["account"], "kind": _label(f"fund.r.kind.{r['kind']}", r["kind"]),
          "debit": int(r["debit_fen"]), "credit": int(r["credit_fen"]),
          "balance": int(r["balance_fen"])} for r in _records(tb.frame)
         if r["debit_fen"] or r["credit_fen"]],
        total={"account": "Σ", "debit": tb.total_debit, "credit": tb.total_credit},
        note="fund.r.trial_note")
    return [sheet, trial], tb.balanced


# ---------------------------------------------------------------------- the allocation
def _grade(code: Any) -> dict[str, str]:
    if not isinstance(code, str) or not code:
        return _pair("—", "—")
    return _label(f"evaluate.grades.label.{code}", code)


def check_document(doc: Any) -> Mapping[str, Any]:
    """The allocation document, or a :class:`FundReportError` naming what is missing."""
    need = ("key", "fund_fen", "lines", "conditions", "explanation", "rules")
    if not isinstance(doc, Mapping) or doc.get("kind") != "cocity fund allocation":
        raise FundReportError(both("fund.r.err.not_allocation"))
    missing = [k for k in need if k not in doc]
    if missing:
        raise FundReportError(both("fund.r.err.allocation_keys", keys=", ".join(missing)))
    return doc


def _allocation(doc: Mapping[str, Any], books_log: pd.DataFrame,
                uses: Mapping[str, tuple[str, str]], unit: str | None
                ) -> tuple[list[Table], dict[str, int], list[str], str | None]:
    lines = [dict(x) for x in doc["lines"]]

    def use_name(u: str) -> dict[str, str]:
        return _pair(*uses.get(u, (u, u)))

    table = Table("allocation", "fund.r.t.allocation", [
        Column("unit", "fund.r.c.unit", "code"), Column("name", "fund.r.c.name", "pair"),
        Column("use", "fund.r.c.use", "pair"), Column("grade", "fund.r.c.grade", "pair"),
        Column("need_share", "fund.r.c.need_share", "pct"),
        Column("base", "fund.r.c.base", "yuan_f"),
        Column("bonus_rate", "fund.r.c.bonus_rate", "pct"),
        Column("bonus", "fund.r.c.bonus", "yuan_f"),
        Column("adjustment", "fund.r.c.adjustment", "yuan_f"),
        Column("amount", "fund.r.c.amount", "yuan"),
        Column("conditional", "fund.r.c.conditional", "flag")],
        [{"unit": r["unit"], "name": _pair(r["name_zh"], r["name_en"]), "use": use_name(r["use"]),
          "grade": _grade(r.get("grade")), "need_share": r.get("need_share"),
          "base": r.get("base"), "bonus_rate": r.get("bonus_rate"), "bonus": r.get("bonus"),
          "adjustment": r.get("adjustment"), "amount": int(r["amount_fen"]),
          "conditional": bool(r.get("conditional"))} for r in lines],
        total={"name": _label("fund.r.total", "Σ"),
               "amount": sum(int(r["amount_fen"]) for r in lines)},
        note="fund.r.allocation_note")
    amounts: dict[str, int] = {}
    bonus: dict[str, float] = {}
    first: dict[str, dict[str, Any]] = {}
    for r in lines:
        amounts[r["unit"]] = amounts.get(r["unit"], 0) + int(r["amount_fen"])
        bonus[r["unit"]] = bonus.get(r["unit"], 0.0) + float(r.get("bonus") or 0.0)
        first.setdefault(r["unit"], r)
    bonus_units = sorted(u for u, b in bonus.items() if b > 0)
    by_unit = Table("allocation_units", "fund.r.t.allocation_units", [
        Column("unit", "fund.r.c.unit", "code"), Column("name", "fund.r.c.name", "pair"),
        Column("grade", "fund.r.c.grade", "pair"), Column("bonus", "fund.r.c.bonus", "yuan_f"),
        Column("amount", "fund.r.c.amount", "yuan"),
        Column("bonus_marker", "fund.r.c.bonus_marker", "flag")],
        [{"unit": u, "name": _pair(first[u]["name_zh"], first[u]["name_en"]),
          "grade": _grade(first[u].get("grade")), "bonus": bonus[u], "amount": amounts[u],
          "bonus_marker": u in bonus_units}
         for u in sorted(amounts, key=lambda c: (-amounts[c], c))],
        total={"name": _label("fund.r.total", "Σ"), "amount": sum(amounts.values()),
               "bonus": sum(bonus.values())})
    names = {r["unit"]: _pair(r["name_zh"], r["name_en"]) for r in lines}
    conditions = Table("conditions", "fund.r.t.conditions", [
        Column("unit", "fund.r.c.unit", "code"), Column("name", "fund.r.c.name", "pair"),
        Column("use", "fund.r.c.use", "pair"), Column("amount", "fund.r.c.amount", "yuan"),
        Column("score", "fund.r.c.score", "num"), Column("deadline", "fund.r.c.deadline"),
        Column("obstacles", "fund.r.c.obstacles", "pair")],
        [{"unit": c["unit"], "name": names.get(c["unit"], _pair(c["unit"], c["unit"])),
          "use": use_name(c["use"]), "amount": int(c["amount_fen"]), "score": c.get("score"),
          "deadline": c.get("deadline") or "—",
          "obstacles": _pair(c.get("obstacles_zh"), c.get("obstacles_en"))}
         for c in doc["conditions"]],
        note="fund.r.conditions_note")
    chosen = unit
    if chosen is None and amounts:
        pool = bonus_units or list(amounts)
        chosen = max(pool, key=lambda c: (amounts.get(c, 0), c))
    expl_rows = [e for e in doc["explanation"] if e.get("unit") == chosen]
    if chosen is not None and not expl_rows:
        raise FundReportError(both("fund.r.err.unit", unit=chosen))
    explanation = Table("explanation", "fund.r.t.explanation", [
        Column("use", "fund.r.c.use", "pair"), Column("text", "fund.r.c.explanation", "pair")],
        [{"use": use_name(e["use"]) if e.get("use") else _label("fund.r.all_uses", ""),
          "text": _pair(e.get("zh"), e.get("en"))} for e in expl_rows])
    posted = books_log[(books_log["seq"].notna()) & (books_log["key"] == doc["key"])]
    total = sum(amounts.values())
    rows = [{"key": doc["key"], "seq": _none(r["seq"]), "time": r["time"], "actor": r["actor"],
             "allocated": total, "earmarked": int(r["amount_fen"]),
             "equal": int(r["amount_fen"]) == total} for r in _records(posted)]
    if not rows:
        rows = [{"key": doc["key"], "seq": None, "time": "—", "actor": "—", "allocated": total,
                 "earmarked": None, "equal": False}]
    posting = Table("allocation_posted", "fund.r.t.allocation_posted", [
        Column("key", "fund.r.c.key", "code"), Column("seq", "fund.r.c.seq", "int"),
        Column("time", "fund.r.c.time"), Column("actor", "fund.r.c.actor"),
        Column("allocated", "fund.r.c.allocated", "yuan"),
        Column("earmarked", "fund.r.c.earmarked", "yuan"),
        Column("equal", "fund.r.c.equal", "flag")], rows, note="fund.r.posted_note")
    return [table, by_unit, conditions, explanation, posting], amounts, bonus_units, chosen


# ---------------------------------------------------------------------- requests and audit
def _event(kind: Any) -> dict[str, str]:
    return _label(f"fund.r.event.{kind}", str(kind))


def _requests(ledger: Ledger, log: pd.DataFrame, units: Mapping[str, tuple[str, str]],
              uses: Mapping[str, tuple[str, str]]) -> list[Table]:
    req = ledger.requests()
    requests = Table("requests", "fund.r.t.requests", [
        Column("id", "fund.r.c.request", "int"), Column("unit", "fund.r.c.unit", "code"),
        Column("name", "fund.r.c.name", "pair"), Column("use", "fund.r.c.use", "pair"),
        Column("amount", "fund.r.c.amount", "yuan"), Column("maker", "fund.r.c.maker"),
        Column("maker_role", "fund.r.c.role"), Column("time", "fund.r.c.time"),
        Column("checker", "fund.r.c.checker"), Column("checker_role", "fund.r.c.role"),
        Column("checked_time", "fund.r.c.checked_time"),
        Column("status", "fund.r.c.status", "pair"), Column("reason", "fund.r.c.reason"),
        Column("document", "fund.r.c.document")],
        [{"id": int(r["id"]), "unit": r["unit"], "name": _pair(*units.get(r["unit"],
                                                                          (r["unit"],) * 2)),
          "use": _pair(*uses.get(r["use"], (r["use"],) * 2)), "amount": int(r["amount_fen"]),
          "maker": r["actor"], "maker_role": r["role"], "time": r["time"],
          "checker": r["checker"] or "—", "checker_role": r["checker_role"] or "—",
          "checked_time": r["checked_time"] or "—", "status": _event(r["status"]),
          "reason": r["reason"], "document": r["document"]} for r in _records(req)],
        total={"name": _label("fund.r.total", "Σ"), "amount": int(req["amount_fen"].sum())},
        note="fund.r.requests_note")
    entries = log[log["seq"].notna()]
    by_id = {int(r["entry_id"]): r for r in _records(entries)}
    rows = []
    for r in _records(entries[entries["reverses"].notna()]):
        orig = by_id.get(int(r["reverses"]))
        rows.append({"seq": r["seq"], "time": r["time"],
                     "original": None if orig is None else orig["seq"],
                     "original_kind": _event(None if orig is None else orig["event"]),
                     "amount": int(r["amount_fen"]), "actor": r["actor"], "role": r["role"],
                     "reason": r["reason"], "document": r["document"]})
    reversals = Table("reversals", "fund.r.t.reversals", [
        Column("seq", "fund.r.c.seq", "int"), Column("time", "fund.r.c.time"),
        Column("original", "fund.r.c.original", "int"),
        Column("original_kind", "fund.r.c.original_kind", "pair"),
        Column("amount", "fund.r.c.amount", "yuan"), Column("actor", "fund.r.c.actor"),
        Column("role", "fund.r.c.role"), Column("reason", "fund.r.c.reason"),
        Column("document", "fund.r.c.document")], rows, note="fund.r.reversals_note")
    return [requests, reversals]


def _verify(ledger: Ledger) -> list[dict[str, Any]]:
    """The problems of ``verify()`` with their messages in both languages."""
    runs = {}
    for lg in LANGS:
        with use_lang(lg):
            runs[lg] = ledger.verify()
    base = runs[LANGS[0]]
    out = []
    for i, p in enumerate(base):
        msgs = {lg: (runs[lg][i].message if len(runs[lg]) == len(base) else p.message)
                for lg in LANGS}
        out.append({"code": p.code, "seq": p.seq, "entry_id": p.entry_id,
                    "account": p.account, **msgs})
    return out


def _audit(problems: list[dict[str, Any]], head: tuple[int, str], log: pd.DataFrame
           ) -> list[Table]:
    codes = [p["code"] for p in problems]
    known = list(CHECKS) + sorted(set(codes) - set(CHECKS))
    checks = Table("checks", "fund.r.t.checks", [
        Column("check", "fund.r.c.check", "code"),
        Column("what", "fund.r.c.what", "pair"), Column("problems", "fund.r.c.problems", "int"),
        Column("outcome", "fund.r.c.outcome", "pair")],
        [{"check": c, "what": _label(f"fund.r.check.{c}", c), "problems": codes.count(c),
          "outcome": _label("fund.r.holds" if c not in codes else "fund.r.fails", "")}
         for c in known])
    found = Table("problems", "fund.r.t.problems", [
        Column("check", "fund.r.c.check", "code"), Column("seq", "fund.r.c.seq", "int"),
        Column("entry", "fund.r.c.entry", "int"), Column("account", "fund.r.c.account", "code"),
        Column("message", "fund.r.c.message", "pair")],
        [{"check": p["code"], "seq": p["seq"], "entry": p["entry_id"],
          "account": p["account"] or "—", "message": _pair(p["zh"], p["en"])}
         for p in problems])
    chain = Table("chain", "fund.r.t.chain", [
        Column("item", "fund.r.c.item", "pair"), Column("value", "fund.r.c.value", "code")], [
        {"item": _label("fund.r.head_seq", ""), "value": str(head[0])},
        {"item": _label("fund.r.head_hash", ""), "value": head[1]}],
        note="fund.r.chain_note")
    trail = Table("audit_log", "fund.r.t.audit_log", [
        Column("time", "fund.r.c.time"), Column("event", "fund.r.c.event", "pair"),
        Column("actor", "fund.r.c.actor"), Column("role", "fund.r.c.role"),
        Column("reason", "fund.r.c.reason"), Column("document", "fund.r.c.document"),
        Column("seq", "fund.r.c.seq", "int"), Column("request", "fund.r.c.request", "int"),
        Column("key", "fund.r.c.key", "code"), Column("amount", "fund.r.c.amount", "yuan")],
        [{"time": r["time"], "event": _event(r["event"]), "actor": r["actor"], "role": r["role"],
          "reason": r["reason"] or "—", "document": r["document"] or "—", "seq": r["seq"],
          "request": r["request_id"], "key": r["key"], "amount": int(r["amount_fen"])}
         for r in _records(log)])
    return [chain, checks, found, trail]


def fund_books(ledger: Ledger, *, allocation: Mapping[str, Any] | None = None,
               unit: str | None = None, illustrative: bool | None = None) -> FundBooks:
    """Read every table of the report (see the module docstring). ``unit``: the recipient
    whose explanation is shown (default: the largest recipient with a grade bonus, else the
    largest). ``illustrative``: the contributions are illustrative amounts (said first);
    ``None``: as the fund was opened (:attr:`cocity.fund.ledger.FundInfo.illustrative`)."""
    info = ledger.fund()
    head = ledger.head()
    log = ledger.audit_log()
    tables: list[Table] = []
    sau_tables, reconciles = _sources_and_uses(ledger, info.uses)
    tables += sau_tables
    sheet_tables, balanced = _balance_sheet(ledger)
    tables += sheet_tables
    notes: list[dict[str, str]] = []
    shown = info.illustrative if illustrative is None else illustrative
    if shown:
        notes.append({lg: t("fund.r.note.illustrative", lg) for lg in LANGS})
    books = FundBooks(name=info.name, name_en=info.name_en, head=head,
                      problems=_verify(ledger), tables={},
                      reconciles=reconciles, balanced=balanced, notes=notes,
                      illustrative=shown)
    if allocation is not None:
        doc = check_document(allocation)
        alloc_tables, amounts, bonus_units, chosen = _allocation(doc, log, info.uses, unit)
        tables += alloc_tables
        books.allocation, books.unit_amounts, books.bonus_units = doc, amounts, bonus_units
        books.explained_unit = chosen
        books.level = str((doc.get("rules") or {}).get("level") or "") or None
        books.notes += [_pair(n.get("zh"), n.get("en")) for n in doc.get("notes") or []]
    elif unit is not None:
        raise FundReportError(both("fund.r.err.unit_without_allocation", unit=unit))
    tables += _requests(ledger, log, info.units, info.uses)
    tables += _audit(books.problems, head, log)
    books.tables = {tb.id: tb for tb in tables}
    return books
