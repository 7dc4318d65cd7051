"""The fund manager's desk: the steps of a fund year that join the data, the allocation rules,
an evaluation run and the ledger — what ``cocity fund`` and ``cocity fund demo`` call.

The computations stay where they are (:mod:`cocity.fund.allocation` is pure,
:class:`cocity.fund.ledger.Ledger` keeps the books); this module only finds their inputs:

* :func:`unit_code` / :func:`use_id` — a unit or a use of the fund by any of its names (the
  CLI's arguments, the portal's forms);
* :func:`recipient_units` — the units a fund registers: every unit of the rules' level in the
  circle (a name shared by two units is qualified by its parent, e.g. 内江市市中区);
* :func:`grades_run` — the evaluation run whose grades an allocation follows: the one given,
  else the newest stored run of the year under ``cocity-evaluate/`` (where ``cocity
  evaluate`` writes by default) or ``out/evaluate/`` (the README's folder), else the
  evaluation computed now (point grades, no uncertainty replications; said so in
  :attr:`GradesRun.how`);
* :func:`pool_cash` — cash into the pools by the rules' shares (:func:`allocation.split_fund`);
* :func:`plan` — an allocation of the pooled money (the fund size defaults to Σ pools);
* :func:`post` — the allocation booked as ONE entry with its document stored beside it;
* :func:`conditional_lines` / :func:`release_check` — the lines of rectification-listed
  units, which may be paid only once a later edition shows improvement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from cocity.data.errors import CocityError
from cocity.i18n import LANGS, current_lang, t

if TYPE_CHECKING:
    import pandas as pd

    from cocity.data.store import Store
    from cocity.fund.allocation import Allocation
    from cocity.fund.ledger import Ledger, Posted

EVALUATE_ROOTS = (Path("cocity-evaluate"), Path("out/evaluate"))
MANAGER, APPROVER = "fund_manager", "fund_approver"


class DeskError(CocityError):
    """A fund step that cannot be taken as asked (the label says why and what to do)."""

    def __init__(self, label: str, **fmt: Any) -> None:
        super().__init__(t(label, **fmt))


def recipient_units(store: Store, rules: Any = None) -> dict[str, tuple[str, str]]:
    """``{code: (name_zh, name_en)}`` of every unit of the rules' level in the circle."""
    from cocity.data.units import UnitIndex
    from cocity.fund.rules import load_rules

    loaded = load_rules(rules)
    spec = loaded.spec.recipients
    every = store.units()
    index = UnitIndex(every)
    at = every[(every["level"] == spec.level)
               & every["membership"].isin(list(spec.membership))]
    repeated = set(at.loc[at["name_zh"].duplicated(keep=False), "code"])
    return {str(r.code): (index.qualified_name(str(r.code)) if r.code in repeated
                          else str(r.name_zh), str(r.name_en))
            for r in at.itertuples()}


def unit_code(ledger: Ledger, text: str) -> str:
    """The code of the registered unit ``text`` names: its code, or its Chinese or English
    name (case- and space-insensitive at the ends) when only one unit has it; else a
    :class:`DeskError` listing the candidates or saying none is registered."""
    units = ledger.fund().units
    if text in units:
        return text
    low = text.strip().lower()
    found = sorted(c for c, (zh, en) in units.items() if low in (zh.lower(), en.lower()))
    if len(found) == 1:
        return found[0]
    if found:
        raise DeskError("fund.cli.err.unit_ambiguous", text=text, listed=", ".join(
            f"{units[c][0]} ({c})" for c in found))
    raise DeskError("fund.cli.err.unit_unknown", text=text)


def use_id(ledger: Ledger, text: str) -> str:
    """The id of the use ``text`` names: its id, or its Chinese or English name."""
    uses = ledger.fund().uses
    if text in uses:
        return text
    found = [u for u, names in uses.items() if text in names]
    if len(found) == 1:
        return found[0]
    lang = current_lang()
    raise DeskError("fund.cli.err.use_unknown", text=text, known=", ".join(
        f"{u} ({n[0] if lang == 'zh' else n[1]})" for u, n in uses.items()))


@dataclass(frozen=True)
class GradesRun:
    """The run an allocation follows (anything :func:`cocity.fund.run_grades.run_grades`
    reads) and how it was found, in both languages."""

    run: Any
    how: dict[str, str]


def grades_run(run: str | Path | None, *, store: Store, level: str, year: int | None = None,
               roots: tuple[Path, ...] = EVALUATE_ROOTS,
               progress: Callable[[str, int, int], None] | None = None,
               labels: str = "fund.desk.run") -> GradesRun:
    """The evaluation run to follow (see the module doc). ``labels``: the prefix of the
    ``given``/``stored``/``computed`` messages (the committee words them for its import)."""
    from cocity.evaluate.framework import load_framework

    if run is not None:
        path = Path(run)
        return GradesRun(path, {lang: t(f"{labels}.given", lang, path=str(path))
                                for lang in LANGS})
    fw = load_framework()
    year_ = fw.year if year is None else year
    from cocity.evaluate.runs import latest

    for root in roots:
        record = latest(root, year_)
        if record is not None:
            return GradesRun(record, {lang: t(f"{labels}.stored", lang, run=record.id,
                                              path=str(record.path)) for lang in LANGS})
    from cocity.evaluate.run import evaluate

    ev = evaluate(fw, store, year=year_, replications=0, levels=[level], progress=progress)
    return GradesRun(ev, {lang: t(f"{labels}.computed", lang, year=year_,
                                                 root=", ".join(map(str, roots)))
                          for lang in LANGS})


def pool_cash(ledger: Ledger, *, rules: Any = None, amount_fen: int | None = None,
              key: str | None = None, actor: str, role: str = MANAGER,
              reason: str | None = None) -> tuple[Posted, dict[str, int]]:
    """Move ``amount_fen`` of cash (default: all of it) into the pools by the rules' shares
    (the same split an allocation of that size makes). Returns the entry and the pools."""
    from cocity.fund.allocation import split_fund
    from cocity.fund.rules import load_rules

    cash = ledger.sources_and_uses().cash_fen
    amount = cash if amount_fen is None else amount_fen
    if amount <= 0:
        raise DeskError("fund.desk.err.no_cash")
    loaded = load_rules(rules)
    _, pools = split_fund(loaded, amount)
    pools = {u: a for u, a in pools.items() if a > 0}
    posted = ledger.fund_pools(
        pools, key=key or f"pooling:{amount}:{loaded.sha256[:12]}:{ledger.head()[0]}",
        actor=actor, role=role,
        reason=reason or t("fund.desk.pool.reason", "zh", rules=loaded.name("zh")))
    return posted, pools


def pooled(ledger: Ledger) -> dict[str, int]:
    """Money in each pool now (fen): pooled and not yet earmarked."""
    frame = ledger.balances()
    pools = frame[frame["kind"] == "pool"]
    return {str(u): int(b) for u, b in zip(pools["use"], pools["balance_fen"], strict=True)}


def plan(ledger: Ledger | None, store: Store, *, rules: Any = None, run: Any = None,
         fund_fen: int | None = None) -> Allocation:
    """The allocation of ``fund_fen`` (default: the money now in the pools) by ``rules``
    following ``run``'s grades; nothing is posted."""
    from cocity.fund.allocation import allocate_store

    if fund_fen is None:
        if ledger is None:
            raise DeskError("fund.desk.err.no_size")
        fund_fen = sum(pooled(ledger).values())
        if fund_fen <= 0:
            done = ledger.allocations()
            if not done.empty:
                last = done.iloc[-1]
                raise DeskError("fund.desk.err.empty_pools_posted", ikey=str(last["key"]),
                                time=str(last["time"])[:19], entry=int(last["entry_id"]))
            raise DeskError("fund.desk.err.empty_pools")
    return allocate_store(store, rules=rules, run=run, fund_fen=fund_fen)


def post(ledger: Ledger, allocation: Allocation, *, actor: str, role: str = MANAGER,
         reason: str | None = None) -> Posted:
    """Book ``allocation`` as one earmark entry keyed by :attr:`Allocation.key`, with its
    document (every line explained) stored in the same transaction. Posting it again
    returns the original entry; pools short of the allocation are refused, nothing booked."""
    have = pooled(ledger)
    short = {u: (a, have.get(u, 0)) for u, a in allocation.totals().items()
             if a > have.get(u, 0)}
    if short:
        from cocity.fund.money import format_yuan

        done = ledger.allocation_detail(allocation.key)
        if done is None:
            raise DeskError("fund.desk.err.short", pools="; ".join(
                f"{u}: {format_yuan(a)} > {format_yuan(have)}"
                for u, (a, have) in sorted(short.items())))
    return ledger.post_allocation(
        allocation.lines(), key=allocation.key, actor=actor, role=role,
        reason=reason or t("fund.desk.post.reason", "zh", rules=allocation.rules.name("zh")),
        document=allocation.key, detail=allocation.document())


def latest_detail(ledger: Ledger) -> dict[str, Any] | None:
    """The document of the newest allocation posted and not reversed, or ``None``."""
    table = ledger.allocations()
    live = table[~table["reversed"].astype(bool)]
    if live.empty:
        return None
    return ledger.allocation_detail(str(live.iloc[-1]["key"]))


def conditional_lines(ledger: Ledger) -> pd.DataFrame:
    """The conditional lines of every live allocation: key, unit, use, amount, run, score,
    deadline — what may be paid only after a later edition shows improvement."""
    import pandas as pd

    table = ledger.allocations()
    rows = []
    for key, rev in zip(table["key"], table["reversed"], strict=True):
        if bool(rev):
            continue
        detail = ledger.allocation_detail(str(key)) or {}
        for rec in detail.get("conditions", []):
            rows.append({"allocation": str(key), **rec})
    return pd.DataFrame(rows)


def release_check(detail: Mapping[str, Any], after: Any) -> pd.DataFrame:
    """:func:`cocity.fund.release.check_release` on a stored allocation document."""
    import pandas as pd

    from cocity.fund.allocation import Allocation
    from cocity.fund.release import check_release

    @dataclass
    class _Stored:  # the two fields check_release reads, from the stored document
        run: dict[str, Any] | None
        conditions: pd.DataFrame

    stored = _Stored(detail.get("run"), pd.DataFrame(detail.get("conditions", [])))
    return check_release(cast(Allocation, stored), after)


def guard_conditional(ledger: Ledger, unit: str, use: str, *, after: Any = None) -> None:
    """Refuse a disbursement from a conditional line unless ``after`` (a later evaluation
    run) shows the improvement its condition asks for."""
    lines = conditional_lines(ledger)
    if lines.empty:
        return
    mine = lines[(lines["unit"] == unit) & (lines["use"] == use)]
    if mine.empty:
        return
    if after is None:
        raise DeskError("fund.desk.err.conditional", unit=unit, use=use,
                        deadline=str(mine.iloc[-1].get("deadline", "")))
    for key in dict.fromkeys(mine["allocation"]):
        detail = ledger.allocation_detail(str(key)) or {}
        check = release_check(detail, after)
        row = check[(check["unit"] == unit) & (check["use"] == use)]
        if row.empty or not bool(row.iloc[0]["release"]):
            text = "" if row.empty else str(row.iloc[0][current_lang()])
            raise DeskError("fund.desk.err.held", unit=unit, use=use, why=text)
