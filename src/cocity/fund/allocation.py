"""The fund's allocation that follows the evaluation: rules as data
(:mod:`cocity.fund.rules`), needs from real indicators (:mod:`cocity.fund.needs`), grades and
the rectification list of an evaluation run (:mod:`cocity.fund.run_grades`), exact shares in
integer fen (:mod:`cocity.fund.apportion`).

API (everything is pure but :func:`allocate_store` and the readers it calls)::

    allocate_store(store, *, rules=None, run=None, fund_fen=None) -> Allocation
        = load_rules(rules)                          cocity.fund.rules (default, file, mapping)
          → compute_needs(rules, read_need_data(store, rules))        cocity.fund.needs
          → run_grades(run, level=rules.level)                         cocity.fund.run_grades
          → allocate(rules, needs, fund_fen=…, grades=…)               (pure, below)
    Allocation.lines()              -> [(unit, use, amount_fen), …]   (what the ledger earmarks,
                                       with Allocation.key as the idempotency key)
    Allocation.conditional_lines()  -> the lines released only on improvement
    Allocation.explain(unit, lang=None) -> the unit's amounts explained line by line
    Allocation.table / explanation / excluded / conditions / proxies / document()
    cocity.fund.release.check_release(allocation, later_run) -> which conditional lines may go
    cocity.fund.scenarios.compare({"name": allocation, …}) -> amounts side by side

**Pools.** A use given an ``amount_yuan`` gets that amount; the rest of the fund ``F`` is shared
among the uses given a ``share`` (the shares sum to 1) by the largest remainder, ties by use id;
the pools sum to ``F`` exactly.

**Within a pool** ``P`` (fen), for the use's recipients ``i`` (the level's receiving units, less
the units excluded from this use and the rectification-listed units none of whose obstacles maps
to it):

1. *need share* ``s_i = Σ_k w_k · q_ik / Σ_j q_jk`` — the component quantities ``q``
   (:mod:`cocity.fund.needs`) as shares of the recipients' total, weighted by the component
   weights ``w_k`` (a component no recipient needs is dropped and the others' weights are
   rescaled; a note says so);
2. *grade bonus*: a unit graded one of ``bonus.grades`` in the run gets ``m_i = 1 + rate``,
   others ``m_i = 1``. The bonuses are paid from the pool: the money shared by need is
   ``P′ = P / Σ_j s_j m_j``, the *base amount* ``b_i = P′ · s_i`` and the *bonus*
   ``β_i = (m_i − 1) · b_i`` — every bonus exactly ``rate`` of the unit's own base amount;
3. *floors and caps* (the use's, or a unit's own from ``limits``): the amounts
   ``x_i = clamp(λ · s_i m_i, f_i, c_i)`` summing to ``P``, found by iterative redistribution
   (:func:`cocity.fund.apportion.bounded_shares`); the *adjustment* is ``x_i − b_i − β_i``;
4. *rounding* to integer fen by the largest remainder (Hamilton's method; Balinski & Young,
   *Fair Representation*, 2nd ed., 2001), ties by unit code
   (:func:`cocity.fund.apportion.largest_remainder`): every line within one fen of ``x_i``, the
   pool exact.

A rectification-listed unit is funded only in the uses its named obstacles map to
(``rectification.obstacles``), and those lines are *conditional*: the allocation records the run,
the unit's score in it and the deadline; :func:`cocity.fund.release.check_release` says which may
be released once a later edition is out. Every recipient's every line is explained in both
languages (need with its proxy, share, base amount, bonus, floor/cap adjustment, rounding,
condition); units that receive nothing say why. When the run's satisfaction survey was
simulated, the allocation says so wherever a grade is used.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import pandas as pd

from cocity.data.errors import Issue
from cocity.fund.apportion import Infeasible, bounded_shares, largest_remainder
from cocity.fund.needs import Excluded, Needs, compute_needs, read_need_data, resolve_units
from cocity.fund.rules import (
    AllocationError,
    AllocationRules,
    LimitFields,
    exact,
    fen,
    load_rules,
)
from cocity.fund.run_grades import RunGrades, run_grades
from cocity.i18n import LANGS, current_lang, t

if TYPE_CHECKING:
    from cocity.data.store import Store

TABLE_COLUMNS = ["unit", "name_zh", "name_en", "use", "grade", "need_share", "bonus_rate",
                 "base", "bonus", "adjustment", "limit", "exact", "amount_fen", "rounding",
                 "conditional"]
STEPS = ("excluded", "need", "share", "base", "bonus", "adjust", "rounding", "condition", "total")


@dataclass
class Allocation:
    """An allocation, computed and not yet posted.

    ``table``: one row per (recipient, use) with the need share, base amount, bonus,
    adjustment and exact amount (fen, as floats), the ``limit`` state (``free``, ``floor``,
    ``cap``; ``none`` without need), ``amount_fen`` (int), ``rounding`` (fen) and
    ``conditional``. ``exact``: the exact amounts as fractions of a fen. ``explanation``: one
    row per (unit, use, step) with ``zh`` and ``en``. ``excluded``: units of the level in the
    circle that receive nothing from a use (``use`` empty: from every use), with the reason.
    ``conditions``: the conditional lines and what releases them. ``proxies``: every need
    component with its proxy. ``run``: the evaluation run followed (or None)."""

    rules: AllocationRules
    fund_fen: int
    pools: dict[str, int]
    table: pd.DataFrame
    exact: dict[tuple[str, str], Fraction]
    explanation: pd.DataFrame
    excluded: pd.DataFrame
    conditions: pd.DataFrame
    proxies: pd.DataFrame
    run: dict[str, Any] | None = None
    notes: list[dict[str, str]] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)

    def lines(self) -> list[tuple[str, str, int]]:
        """``(unit, use, amount_fen)`` of every line with money, sorted by unit then use —
        what :func:`cocity.fund.ledger.post_allocation` earmarks."""
        t_ = self.table[self.table["amount_fen"] > 0]
        return sorted((str(u), str(s), int(a)) for u, s, a in
                      zip(t_["unit"], t_["use"], t_["amount_fen"], strict=True))

    def conditional_lines(self) -> list[tuple[str, str, int]]:
        """The lines released only when a later edition shows improvement."""
        t_ = self.table[(self.table["amount_fen"] > 0) & self.table["conditional"]]
        return sorted((str(u), str(s), int(a)) for u, s, a in
                      zip(t_["unit"], t_["use"], t_["amount_fen"], strict=True))

    def totals(self) -> dict[str, int]:
        """Fen allocated per use (equal to :attr:`pools`)."""
        return {use: int(self.table.loc[self.table["use"] == use, "amount_fen"].sum())
                for use in self.pools}

    def by_unit(self) -> pd.DataFrame:
        """Units × uses, fen (0 where a unit receives nothing from a use), with ``total``."""
        wide = self.table.pivot_table(index="unit", columns="use", values="amount_fen",
                                      aggfunc="sum", fill_value=0)
        wide = wide.reindex(columns=list(self.pools), fill_value=0).astype("int64")
        wide["total"] = wide.sum(axis=1)
        return wide

    def explain(self, unit: str, lang: str | None = None) -> str:
        """The unit's amounts explained line by line in ``lang`` (default: the current
        language)."""
        lang = lang or current_lang()
        rows = self.explanation[self.explanation["unit"] == unit]
        if rows.empty:
            out = self.excluded[(self.excluded["unit"] == unit) & (self.excluded["use"] == "")]
            if not out.empty:
                return "\n".join(str(x) for x in out[lang])
            raise AllocationError([Issue(t("fund.alloc.err.not_recipient", unit=unit), None)])
        return "\n".join(str(x) for x in rows[lang])

    @property
    def sha256(self) -> str:
        """Hash of the rules, the fund, the run followed and every line (with its condition):
        the same allocation hashes alike; a ledger key (``allocation:<first 16>``)."""
        body = {"rules": self.rules.sha256, "fund_fen": self.fund_fen,
                "run": None if self.run is None else self.run.get("run"),
                "lines": self.lines(), "conditional": self.conditional_lines()}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    @property
    def key(self) -> str:
        return f"allocation:{self.sha256[:16]}"

    def document(self) -> dict[str, Any]:
        """The allocation as plain data (JSON-serialisable; no timestamps)."""
        from cocity.outputs import jsonable

        return jsonable({
            "kind": "cocity fund allocation", "key": self.key,
            "rules": {"source": self.rules.source, "sha256": self.rules.sha256,
                      "name_zh": self.rules.spec.name_zh, "name_en": self.rules.spec.name_en,
                      "level": self.rules.level},
            "fund_fen": self.fund_fen, "pools": self.pools, "run": self.run,
            "notes": self.notes, "provenance": self.provenance,
            "lines": self.table.to_dict("records"),
            "conditions": self.conditions.to_dict("records"),
            "excluded": self.excluded.to_dict("records"),
            "proxies": self.proxies.to_dict("records"),
            "explanation": self.explanation.to_dict("records"),
        })


# ---------------------------------------------------------------------- formatting
def _yuan(fen_amount: Fraction | float | int, places: int = 2) -> str:
    return f"{float(fen_amount) / 100:,.{places}f}"


def _pct(x: Fraction | float) -> str:
    return f"{float(x) * 100:.4f}%"


def _num(x: float) -> str:
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def _both(key: str, **fmt: Any) -> dict[str, str]:
    return {lang: t(key, lang, **{k: (v[lang] if isinstance(v, dict) else v)
                                  for k, v in fmt.items()}) for lang in LANGS}


def _join(parts: list[dict[str, str]], sep: dict[str, str]) -> dict[str, str]:
    return {lang: sep[lang].join(p[lang] for p in parts) for lang in LANGS}


SEP = {"zh": "、", "en": ", "}


# ---------------------------------------------------------------------- pools
def split_fund(rules: AllocationRules, fund_fen: int | None) -> tuple[int, dict[str, int]]:
    """The fund and its pools by use (see the module docstring)."""
    fixed = {u: fen(rules.use(u).amount_yuan) for u in rules.uses  # type: ignore[arg-type]
             if rules.use(u).amount_yuan is not None}
    shared = [u for u in rules.uses if rules.use(u).share is not None]
    if fund_fen is None:
        if rules.spec.fund_yuan is not None:
            fund_fen = fen(rules.spec.fund_yuan)
        elif not shared:
            fund_fen = sum(fixed.values())
        else:
            raise AllocationError([Issue(t("fund.alloc.err.no_fund"), rules.source,
                                         key="fund_yuan")])
    if isinstance(fund_fen, bool) or not isinstance(fund_fen, int) or fund_fen < 0:
        raise AllocationError([Issue(t("fund.alloc.err.fund_fen", value=repr(fund_fen)),
                                     rules.source)])
    rest = fund_fen - sum(fixed.values())
    if rest < 0 or (rest > 0 and not shared):
        raise AllocationError([Issue(t("fund.alloc.err.amounts_vs_fund",
                                       amounts=_yuan(sum(fixed.values())),
                                       fund=_yuan(fund_fen)), rules.source, key="uses")])
    pools = dict(fixed)
    if shared:
        quotas = [exact(rules.use(u).share) * rest for u in shared]  # type: ignore[arg-type]
        for u, amount in zip(shared, largest_remainder(rest, quotas, shared), strict=True):
            pools[u] = amount
    return fund_fen, {u: pools[u] for u in rules.uses}


# ---------------------------------------------------------------------- the core
@dataclass
class _Context:
    rules: AllocationRules
    needs: Needs
    grades: RunGrades | None
    unit_limits: dict[str, list[tuple[LimitFields, list[str] | None]]]
    notes: list[dict[str, str]]
    explain: list[dict[str, str]]
    excluded: list[Excluded]

    def name(self, unit: str, lang: str) -> str:
        return str(self.needs.units.at[unit, f"name_{lang}"])

    def add(self, unit: str, use: str, step: str, text: dict[str, str]) -> None:
        self.explain.append({"unit": unit, "use": use, "step": step, **text})

    def simulated(self) -> dict[str, str]:
        if self.grades is not None and self.grades.simulated_survey:
            return _both("fund.alloc.x.simulated")
        return {lang: "" for lang in LANGS}


def _limits(ctx: _Context, use: str, unit: str, pool: int) -> tuple[int | None, int | None]:
    spec = ctx.rules.use(use)
    floor, cap = spec.floor_fen(pool), spec.cap_fen(pool)
    for lim, uses in ctx.unit_limits.get(unit, []):
        if uses is None or use in uses:
            f, c = lim.floor_fen(pool), lim.cap_fen(pool)
            floor = f if f is not None else floor
            cap = c if c is not None else cap
    if floor is not None and cap is not None and floor > cap:
        raise AllocationError([Issue(t("fund.alloc.err.unit_floor_cap", unit=unit, use=use,
                                       floor=_yuan(floor), cap=_yuan(cap)), ctx.rules.source,
                                     key="limits")])
    return floor, cap


def _need_shares(ctx: _Context, use: str, units: list[str]
                 ) -> tuple[dict[str, Fraction], dict[str, Fraction], list[str]]:
    """Need share of every unit and the weight used for every component (rescaled when a
    component's total is zero); the components dropped."""
    comps = ctx.rules.use(use).need
    q = {c.id: {u: Fraction(float(v)) for u, v in ctx.needs.components[use][c.id]["quantity"]
                .reindex(units).items()} for c in comps}
    totals = {c.id: sum(q[c.id].values(), Fraction(0)) for c in comps}
    kept = [c for c in comps if totals[c.id] > 0]
    dropped = [c.id for c in comps if totals[c.id] <= 0]
    wsum = sum((exact(c.weight) for c in kept), Fraction(0))
    weights = {c.id: exact(c.weight) / wsum for c in kept} if kept else {}
    shares = {u: sum((weights[c.id] * q[c.id][u] / totals[c.id] for c in kept), Fraction(0))
              for u in units}
    return shares, weights, dropped


def _need_figures(ctx: _Context, use: str, units: list[str]
                  ) -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, float]]:
    """Per component: every unit's figures (base, value, reference, factor, quantity) and the
    recipients' total quantity."""
    figures: dict[str, dict[str, dict[str, float]]] = {}
    totals: dict[str, float] = {}
    for comp in ctx.rules.use(use).need:
        frame = ctx.needs.components[use][comp.id].reindex(units)
        figures[comp.id] = {str(u): {str(k): float(v) for k, v in rec.items()}
                            for u, rec in frame.to_dict("index").items()}
        totals[comp.id] = float(frame["quantity"].sum())
    return figures, totals


def _explain_need(ctx: _Context, use: str, unit: str, weights: Mapping[str, Fraction],
                  figures: Mapping[str, Mapping[str, Mapping[str, float]]],
                  totals: Mapping[str, float]) -> None:
    for comp in ctx.rules.use(use).need:
        row = figures[comp.id][unit]
        total = totals[comp.id]
        share = float(row["quantity"]) / total if total > 0 else 0.0
        if comp.factor is None:
            detail = _both("fund.alloc.x.detail_base", base=_num(float(row["base"])))
        else:
            f = comp.factor
            gap = float(row["factor"]) / f.scale
            detail = _both(f"fund.alloc.x.detail_{f.kind}",
                           base=_num(float(row["base"])), value=_num(float(row["value"])),
                           reference=_num(float(row["reference"])), gap=_num(gap),
                           factor=_num(float(row["factor"])), scale=f"{f.scale:g}",
                           where=_both(f"fund.alloc.x.scope_{f.scope}"))
        w = weights.get(comp.id)
        ctx.add(unit, use, "need", _both(
            "fund.alloc.x.need", name={"zh": comp.name_zh, "en": comp.name_en},
            quantity=_num(float(row["quantity"])), unit={"zh": comp.unit_zh, "en": comp.unit_en},
            detail=detail, share=_pct(share),
            weight=f"{float(w):.4g}" if w is not None else "0",
            proxy={"zh": comp.proxy_zh, "en": comp.proxy_en}))


def _grade_of(ctx: _Context, unit: str) -> str | None:
    if ctx.grades is None:
        return None
    g = ctx.grades.grades.get(unit)
    return None if g is None or pd.isna(g) else str(g)


def _bonus_rate(ctx: _Context, unit: str) -> Fraction:
    b = ctx.rules.spec.bonus
    grade = _grade_of(ctx, unit)
    if b is None or grade is None or grade not in b.grades:
        return Fraction(0)
    return exact(b.rate)


def _explain_bonus(ctx: _Context, unit: str, use: str, rate: Fraction, bonus: Fraction) -> None:
    g = ctx.grades
    if g is None:
        ctx.add(unit, use, "bonus", _both("fund.alloc.x.no_run"))
        return
    grade = _grade_of(ctx, unit)
    if grade is None:
        ctx.add(unit, use, "bonus", _both("fund.alloc.x.not_graded", run=g.run))
        return
    label = {lang: g.label(grade, lang) for lang in LANGS}
    if rate > 0:
        ctx.add(unit, use, "bonus", _both("fund.alloc.x.bonus", run=g.run, grade=label,
                                          rate=f"{float(rate) * 100:g}%", bonus=_yuan(bonus, 4),
                                          sim=ctx.simulated()))
    else:
        b = ctx.rules.spec.bonus
        names = (_join([{lang: g.label(c, lang) for lang in LANGS} for c in b.grades], SEP)
                 if b is not None else {lang: "—" for lang in LANGS})
        ctx.add(unit, use, "bonus", _both("fund.alloc.x.no_bonus", run=g.run, grade=label,
                                          grades=names, sim=ctx.simulated()))


def _pool(ctx: _Context, use: str, pool: int, units: list[str], conditional: dict[str, Any]
          ) -> tuple[list[dict[str, Any]], dict[tuple[str, str], Fraction]]:
    """Allocate one pool among ``units`` (sorted codes): rows of the table, exact amounts."""
    shares, weights, dropped = _need_shares(ctx, use, units)
    if dropped:
        names = [c for c in ctx.rules.use(use).need if c.id in dropped]
        ctx.notes.append(_both("fund.alloc.note.dropped", use=_use_name(ctx.rules, use),
                               components=_join([{"zh": c.name_zh, "en": c.name_en}
                                                 for c in names], SEP)))
    rates = {u: _bonus_rate(ctx, u) for u in units}
    W = [shares[u] * (1 + rates[u]) for u in units]
    S = sum(W, Fraction(0))
    limits = [_limits(ctx, use, u, pool) for u in units]
    try:
        res = bounded_shares(pool, W, [f for f, _ in limits], [c for _, c in limits])
    except Infeasible as exc:
        raise AllocationError([Issue(t(f"fund.alloc.err.infeasible_{exc.kind}",
                                       use=_use_name(ctx.rules, use)[current_lang()],
                                       required=_yuan(exc.required), available=_yuan(
                                           exc.available)), ctx.rules.source,
                                     key=f"uses.{use}")]) from None
    amounts = largest_remainder(pool, res.amounts, units)
    figures, totals = _need_figures(ctx, use, units)
    need_pool = Fraction(pool) / S if S > 0 else Fraction(0)
    rows, exacts = [], {}
    for i, u in enumerate(units):
        base = need_pool * shares[u]
        bonus = base * rates[u]
        x = res.amounts[i]
        adj = x - base - bonus
        exacts[(u, use)] = x
        grade = _grade_of(ctx, u)
        rows.append({"unit": u, "name_zh": ctx.name(u, "zh"), "name_en": ctx.name(u, "en"),
                     "use": use, "grade": grade, "need_share": float(shares[u]),
                     "bonus_rate": float(rates[u]), "base": float(base), "bonus": float(bonus),
                     "adjustment": float(adj), "limit": res.state[i], "exact": float(x),
                     "amount_fen": int(amounts[i]), "rounding": float(amounts[i] - x),
                     "conditional": u in conditional and amounts[i] > 0})
        # explanation
        if res.state[i] == "none":
            _explain_need(ctx, use, u, weights, figures, totals)
            ctx.add(u, use, "share", _both("fund.alloc.x.no_need"))
            ctx.add(u, use, "total", _both("fund.alloc.x.total", use=_use_name(ctx.rules, use),
                                           amount=_yuan(0)))
            continue
        _explain_need(ctx, use, u, weights, figures, totals)
        ctx.add(u, use, "share", _both("fund.alloc.x.share", share=_pct(shares[u])))
        ctx.add(u, use, "base", _both("fund.alloc.x.base", pool=_yuan(pool),
                                      need_pool=_yuan(need_pool, 4), share=_pct(shares[u]),
                                      base=_yuan(base, 4)))
        _explain_bonus(ctx, u, use, rates[u], bonus)
        f, c = limits[i]
        if res.state[i] == "floor":
            ctx.add(u, use, "adjust", _both("fund.alloc.x.floor", before=_yuan(base + bonus, 4),
                                            floor=_yuan(f or 0), delta=_yuan(adj, 4)))
        elif res.state[i] == "cap":
            ctx.add(u, use, "adjust", _both("fund.alloc.x.cap", before=_yuan(base + bonus, 4),
                                            cap=_yuan(c or 0), delta=_yuan(adj, 4)))
        elif adj != 0:
            ratio = res.lam / (need_pool if need_pool else 1)
            ctx.add(u, use, "adjust", _both("fund.alloc.x.redistributed", delta=_yuan(adj, 4),
                                            ratio=f"{float(ratio):.6f}"))
        else:
            ctx.add(u, use, "adjust", _both("fund.alloc.x.no_adjust"))
        ctx.add(u, use, "rounding", _both("fund.alloc.x.rounding", exact=_yuan(x, 4),
                                          amount=_yuan(amounts[i]),
                                          delta=f"{float(amounts[i] - x):+.4f}"))
        if u in conditional:
            ctx.add(u, use, "condition", conditional[u]["text"])
        else:
            ctx.add(u, use, "condition", _both("fund.alloc.x.unconditional"))
        ctx.add(u, use, "total", _both("fund.alloc.x.total", use=_use_name(ctx.rules, use),
                                       amount=_yuan(amounts[i])))
    return rows, exacts


def _use_name(rules: AllocationRules, use: str) -> dict[str, str]:
    spec = rules.use(use)
    return {"zh": spec.name_zh, "en": spec.name_en}


def _rectification(ctx: _Context, recipients: list[str]
                   ) -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
    """Per rectification-listed recipient: the uses its obstacles map to, and the record of
    its condition; ``{use: units not funded}``."""
    g, spec = ctx.grades, ctx.rules.spec.rectification
    out: dict[str, dict[str, Any]] = {}
    blocked: dict[str, set[str]] = {use: set() for use in ctx.rules.uses}
    if g is None or spec is None:
        return out, blocked
    for unit in recipients:
        r = g.rectification.get(unit)
        if r is None:
            continue
        uses = {spec.obstacles[o] for o in r.obstacles if o in spec.obstacles}
        obst = {"zh": "、".join(r.names_zh) or "—", "en": ", ".join(r.names_en) or "—"}
        score = float(g.scores.get(unit, float("nan")))
        text = _both("fund.alloc.x.conditional", run=g.run, obstacles=obst,
                     score=f"{score:.2f}", min_gain=f"{spec.min_gain:g}",
                     deadline=r.deadline or "—", sim=ctx.simulated())
        out[unit] = {"uses": uses, "score": score, "deadline": r.deadline,
                     "obstacles": list(r.obstacles), "obstacles_zh": obst["zh"],
                     "obstacles_en": obst["en"], "text": text}
        for use in ctx.rules.uses:
            if use not in uses:
                blocked[use].add(unit)
                ctx.excluded.append(Excluded(unit, use, "rectification", **_both(
                    "fund.alloc.excl.rectification", run=g.run, obstacles=obst,
                    use=_use_name(ctx.rules, use))))
    return out, blocked


def allocate(rules: AllocationRules, needs: Needs, *, fund_fen: int | None = None,
             grades: RunGrades | None = None) -> Allocation:
    """The allocation of ``fund_fen`` (default: the rules' ``fund_yuan``) among the recipients
    of ``needs`` by ``rules``, following ``grades`` (the run's level must be the rules'). Pure:
    nothing is read or written. See the module docstring for the formulas."""
    if grades is not None and grades.level != rules.level:
        raise AllocationError([Issue(t("fund.alloc.err.run_level", level=rules.level,
                                       levels=grades.level), grades.source)])
    fund_total, pools = split_fund(rules, fund_fen)
    named = {f"limits[{i}].unit": lim.unit for i, lim in enumerate(rules.spec.limits)}
    codes = resolve_units(named, needs.units.reset_index(names="code"), level=rules.level,
                          origin=rules.source) if named else {}
    unit_limits: dict[str, list[tuple[LimitFields, list[str] | None]]] = {}
    for i, lim in enumerate(rules.spec.limits):
        unit_limits.setdefault(codes[f"limits[{i}].unit"], []).append(
            (lim, None if lim.uses is None else list(lim.uses)))
    ctx = _Context(rules, needs, grades, unit_limits, [], [], list(needs.excluded))
    if grades is not None and grades.simulated_survey:
        ctx.notes.append(_both("fund.alloc.note.simulated", run=grades.run))
    conditional, blocked = _rectification(ctx, needs.recipients)
    rows: list[dict[str, Any]] = []
    exacts: dict[tuple[str, str], Fraction] = {}
    for use in rules.uses:
        off = set(needs.use_exclusions.get(use, {})) | blocked[use]
        ctx.excluded.extend(needs.use_exclusions.get(use, {}).values())
        units = [u for u in needs.recipients if u not in off]
        cond = {u: v for u, v in conditional.items() if use in v["uses"]}
        r, e = _pool(ctx, use, pools[use], units, cond)
        rows.extend(r)
        exacts.update(e)
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    for ex in ctx.excluded:
        if ex.use:
            ctx.add(ex.unit, ex.use, "excluded", _both("fund.alloc.x.excluded",
                                                       use=_use_name(rules, ex.use),
                                                       reason={"zh": ex.zh, "en": ex.en}))
    # per-unit totals, after every use
    for unit, amount in table.groupby("unit")["amount_fen"].sum().items():
        ctx.add(str(unit), "", "total", _both("fund.alloc.x.unit_total", amount=_yuan(amount)))
    order = {s: i for i, s in enumerate(STEPS)}
    uses_order = {u: i for i, u in enumerate(rules.uses)} | {"": len(rules.uses)}
    expl = pd.DataFrame(ctx.explain, columns=["unit", "use", "step", "zh", "en"])
    expl["_u"] = expl["use"].map(uses_order)
    expl["_s"] = expl["step"].map(order)
    expl = expl.sort_values(["unit", "_u", "_s"], kind="stable").drop(columns=["_u", "_s"])
    names = needs.units
    excluded = pd.DataFrame(
        [{"unit": e.unit, "name_zh": names.at[e.unit, "name_zh"],
          "name_en": names.at[e.unit, "name_en"], "use": e.use, "reason": e.reason,
          "zh": e.zh, "en": e.en} for e in ctx.excluded],
        columns=["unit", "name_zh", "name_en", "use", "reason", "zh", "en"])
    conds = []
    spec = rules.spec.rectification
    for _, row in table[table["conditional"]].iterrows():
        c = conditional[row["unit"]]
        conds.append({"unit": row["unit"], "use": row["use"], "amount_fen": row["amount_fen"],
                      "run": grades.run if grades else None,
                      "year": grades.year if grades else None,
                      "level": rules.level, "score": c["score"],
                      "min_gain": spec.min_gain if spec else 0.0, "deadline": c["deadline"],
                      "obstacles": ", ".join(c["obstacles"]),
                      "obstacles_zh": c["obstacles_zh"], "obstacles_en": c["obstacles_en"]})
    conditions = pd.DataFrame(conds, columns=["unit", "use", "amount_fen", "run", "year",
                                              "level", "score", "min_gain", "deadline",
                                              "obstacles", "obstacles_zh", "obstacles_en"])
    proxies = pd.DataFrame(
        [{"use": use, "component": c.id, "weight": c.weight, "name_zh": c.name_zh,
          "name_en": c.name_en, "unit_zh": c.unit_zh, "unit_en": c.unit_en,
          "proxy_zh": c.proxy_zh, "proxy_en": c.proxy_en}
         for use in rules.uses for c in rules.use(use).need])
    run = None if grades is None else {
        "run": grades.run, "year": grades.year, "level": grades.level,
        "source": grades.source, "simulated_survey": grades.simulated_survey,
        "publication_date": grades.publication_date}
    return Allocation(rules, fund_total, pools, table, exacts, expl.reset_index(drop=True),
                      excluded, conditions, proxies, run, ctx.notes)


def allocate_store(store: Store, *, rules: AllocationRules | str | Any | None = None,
                   run: Any = None, fund_fen: int | None = None) -> Allocation:
    """Read the rules (:func:`cocity.fund.rules.load_rules`: default, a file or a mapping),
    the need data from ``store`` and the grades of ``run`` (an ``Evaluation``, a run folder or
    record, an ``evaluation.json``; ``None``: no bonus and no rectification), then
    :func:`allocate`. The allocation carries the provenance of the data read."""
    from cocity.data.provenance import provenance

    loaded = load_rules(rules)
    needs = compute_needs(loaded, read_need_data(store, loaded))
    grades = None if run is None else run_grades(run, level=loaded.level)
    out = allocate(loaded, needs, fund_fen=fund_fen, grades=grades)
    reads = loaded.reads()
    out.provenance = provenance(store, indicators=sorted({i for v in reads.values() for i in v}),
                                years=sorted(reads))
    return out
