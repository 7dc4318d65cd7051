"""Eco-compensation (生态补偿) across a water-quality section between the government upstream
and the government downstream: pure computation (arrays and frames in, frames out; no store,
no files).

**Water-quality class** (GB 3838-2002 Table 1, limits as data in ``ecocomp_gb3838.yaml``): for
an item with class limits L_1 < … < L_5 (mg/L), a value v is in class

    c(v) = 1 + #{k : L_k < v}     (v ≤ L_c: a value exactly at a limit is in that class),

class 6 (劣V, worse than V) above L_5; the class of a sample is the worst class of the items
that the water body uses (rivers: permanganate index, NH3-N, TP with the river column; lakes and
reservoirs: also TN and the lake TP column) — the single-factor method of 《地表水环境质量评价
办法（试行）》(环办〔2011〕22号). Only the river form is used by the demo.

**P index** (新安江流域水环境补偿试点, first round 2011–2014):

    P = K0 · Σ_i k_i · C_i / C_i0,

C_i the period's mean concentration of item i at the section (variant: the arithmetic mean of
the monthly values of the calendar year, as the agreement uses the annual mean; with
``period: month`` the month's value), C_i0 the baseline concentration (the agreement's 基本限值;
here the mean of the monthly values of the baseline years, or values given in the rules),
K0 the water-quality stability coefficient (0.85), k_i the weights (0.25 each). Variant of the
payment: P ≤ 1 (including P = 1 exactly) → downstream pays upstream the agreed amount;
P > 1 → upstream pays downstream the same amount.

**Bidirectional fixed amount** (a monthly rule table): offset = c − c_target (negative:
better than the target); the signed amount a(offset) comes from the table (offsets beyond it take
the amount of its nearest end), plus the trend modifier m(trend), trend from the weighted ratio

    r = Σ_i k_i C_i / C_ref,i / Σ_i k_i     (C_ref: the baseline, or the previous month),

improved when r < 1 − τ, worsened when r > 1 + τ (strict), stable otherwise, none (m = 0)
without a previous month. s = a(offset) + m(trend): s > 0 downstream pays upstream s,
s < 0 upstream pays downstream −s, s = 0 no payment.

Payments are aggregated per pair of governments (upstream unit, downstream unit) and year:
the sums each way and the net (yearly sums are the sums of the monthly payments).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cocity.i18n import t
from cocity.plan.ecocomp_rules import ITEMS, Rules, Standard, class_label
from cocity.plan.errors import PlanInputError

RULES = ("p-index", "fixed")
TRENDS = ("improved", "stable", "worsened", "none")


# ---------------------------------------------------------------------- array cores
def item_classes(values: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """Class 1–6 of each value: ``values`` (n, m) in mg/L, ``limits`` (m, 5) increasing;
    c = 1 + #{k : L_k < v} (a value at a limit is in that limit's class)."""
    v = np.asarray(values, float)
    lim = np.asarray(limits, float)
    return 1 + (lim[None, :, :] < v[:, :, None]).sum(axis=2)


def sample_class(values: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """The class of each sample (row): the worst (largest) item class."""
    return item_classes(values, limits).max(axis=1)


def p_index(conc: np.ndarray, baseline: np.ndarray, weights: np.ndarray,
            k0: float) -> np.ndarray:
    """P = K0 · Σ_i k_i C_i / C_i0 per row of ``conc`` (n, m) and ``baseline`` (n, m)."""
    c = np.asarray(conc, float)
    c0 = np.asarray(baseline, float)
    return float(k0) * (np.asarray(weights, float)[None, :] * c / c0).sum(axis=1)


def downstream_pays(p: np.ndarray) -> np.ndarray:
    """True where downstream pays upstream (P ≤ 1), False where upstream pays (P > 1)."""
    return np.asarray(p, float) <= 1.0


def trend_ratio(conc: np.ndarray, reference: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """r = Σ_i k_i C_i / C_ref,i / Σ_i k_i per row (NaN where the reference is missing)."""
    w = np.asarray(weights, float)
    return (w[None, :] * np.asarray(conc, float) / np.asarray(reference, float)).sum(
        axis=1) / w.sum()


def trend_state(ratio: np.ndarray, tolerance: float) -> np.ndarray:
    """``improved`` (r < 1 − τ), ``worsened`` (r > 1 + τ), ``stable``, ``none`` (NaN)."""
    r = np.asarray(ratio, float)
    out = np.full(r.shape, "stable", dtype=object)
    out[r < 1 - tolerance] = "improved"
    out[r > 1 + tolerance] = "worsened"
    out[np.isnan(r)] = "none"
    return out


def offset_amount(offsets: np.ndarray, amounts: Mapping[int, float]) -> np.ndarray:
    """The table's signed amount of each offset (the table's keys are consecutive integers);
    offsets beyond the table are clamped to its nearest end."""
    keys = sorted(amounts)
    off = np.clip(np.asarray(offsets, int), keys[0], keys[-1])
    return np.array([amounts[int(o)] for o in off], float)


def fixed_amounts(classes: np.ndarray, targets: np.ndarray, trends: np.ndarray,
                  amounts: Mapping[int, float],
                  modifiers: Mapping[Any, float]) -> tuple[np.ndarray, np.ndarray]:
    """(class part a(c − c_target), trend part m(trend)) of each month's signed amount."""
    base = offset_amount(np.asarray(classes, int) - np.asarray(targets, int), amounts)
    mod = np.array([0.0 if s == "none" else float(modifiers[s]) for s in trends], float)
    return base, mod


# ---------------------------------------------------------------------- the whole computation
@dataclass
class Compensation:
    """The result: ``monthly`` (one row per section and month of the year), ``yearly`` (one
    row per section), ``payments`` (every payment with its explanation), ``pairs`` (per pair
    of governments and rule: each way and net), ``baseline`` (C_i0 per section)."""

    year: int
    rule: str
    monthly: pd.DataFrame
    yearly: pd.DataFrame
    payments: pd.DataFrame
    pairs: pd.DataFrame
    baseline: pd.DataFrame
    simulated: bool
    illustrative: bool
    notes: list[tuple[str, str]] = field(default_factory=list)


def _fmt(x: float) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def baselines(samples: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """C_i0 per section (index ``section``, columns ITEMS, ``source``, ``simulated``): the
    rules' values, else the mean of the monthly values of the baseline years; a section with
    neither is refused."""
    rows: dict[str, dict[str, Any]] = {}
    years = samples["month"].str[:4].astype(int)
    missing: list[str] = []
    for section in pd.unique(samples["section"]):
        given = rules.baseline.values.get(str(section))
        if given is not None:
            rows[str(section)] = {**{k: float(given[k]) for k in ITEMS}, "source": "rules",
                                  "simulated": False}
            continue
        sub = samples[(samples["section"] == section) & years.isin(rules.baseline.years)]
        if sub.empty:
            missing.append(str(section))
            continue
        rows[str(section)] = {**{k: float(sub[k].mean()) for k in ITEMS},
                              "source": "mean " + ",".join(map(str, rules.baseline.years)),
                              "simulated": bool(sub["simulated"].any())}
    if missing:
        raise PlanInputError(t("plan.ecocomp.err.no_baseline", sections=", ".join(missing),
                               years=", ".join(map(str, rules.baseline.years)) or "—"))
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "section"
    zero = [str(s) for s in out.index if (out.loc[s, list(ITEMS)] <= 0).any()]
    if zero:
        raise PlanInputError(t("plan.ecocomp.err.zero_baseline", sections=", ".join(zero)))
    return out


def _who(names: Mapping[str, tuple[str, str]], code: str, lang: str) -> str:
    zh, en = names.get(code, (code, code))
    return zh if lang == "zh" else en


def _fixed_text(row: Mapping[Any, Any], names: Mapping[str, tuple[str, str]], against: str,
                lang: str) -> str:
    off = int(row["class"]) - int(row["target"])
    rel = "better" if off < 0 else "meets" if off == 0 else "worse"
    trend = "" if row["trend"] == "none" else t(
        f"plan.ecocomp.explain.trend.{row['trend']}", lang,
        against=t(f"plan.ecocomp.explain.against.{against}", lang))
    s = float(row["amount"])
    if s == 0:
        pay = t("plan.ecocomp.explain.no_payment", lang)
    else:
        pay = t("plan.ecocomp.explain.pays", lang, payer=_who(names, row["payer"], lang),
                payee=_who(names, row["payee"], lang), amount=_fmt(abs(s)))
    return t("plan.ecocomp.explain.fixed", lang, period=row["month"], section=row["section"],
             cls=class_label(int(row["class"]), lang),
             relation=t(f"plan.ecocomp.explain.{rel}", lang),
             target=class_label(int(row["target"]), lang), trend=trend, payment=pay,
             base=_fmt(float(row["class_part"])), mod=f"{float(row['trend_part']):+,.2f}"
             .rstrip("0").rstrip("."))


def _p_text(period: str, section: str, p: float, k0: float, payer: str, payee: str,
            amount: float, names: Mapping[str, tuple[str, str]], lang: str) -> str:
    key = "plan.ecocomp.explain.p_down" if p <= 1 else "plan.ecocomp.explain.p_up"
    return t(key, lang, period=period, section=section, p=f"{p:.4f}", k0=_fmt(k0),
             payer=_who(names, payer, lang), payee=_who(names, payee, lang),
             amount=_fmt(amount))


def compensate(samples: pd.DataFrame, rules: Rules, standard: Standard, *,
               year: int | None = None, rule: str = "both",
               names: Mapping[str, tuple[str, str]] | None = None) -> Compensation:
    """Apply ``rules`` to the monthly ``samples`` (validated: ``section``, ``upstream``,
    ``downstream``, ``month`` YYYY-MM, the ITEMS in mg/L, ``simulated``) for ``year`` (default:
    the latest in the data). ``rule``: ``p-index``, ``fixed`` or ``both``. ``names``: unit code
    → (中文名, English name) for the explanations."""
    if rule not in (*RULES, "both"):
        raise PlanInputError(t("plan.ecocomp.err.rule", rule=rule,
                               allowed=", ".join((*RULES, "both"))))
    names = names or {}
    data = samples.sort_values(["section", "month"]).reset_index(drop=True)
    years = sorted({int(m[:4]) for m in data["month"]})
    if year is None:
        year = years[-1]
    if year not in years:
        raise PlanInputError(t("plan.ecocomp.err.year", year=year,
                               years=", ".join(map(str, years))))
    known = set(data["section"].astype(str))
    strays = sorted((set(rules.fixed.targets) | set(rules.baseline.values)) - known)
    if strays:
        raise PlanInputError(t("plan.ecocomp.err.unknown_sections", sections=", ".join(strays),
                               known=", ".join(sorted(known))))
    base = baselines(data, rules)
    items = list(ITEMS)
    weights = np.array([rules.p_index.weights.get(k, 0.0) for k in items])
    limits = np.array([standard.limits[k] for k in standard.class_items[rules.water_body]])
    class_items = standard.class_items[rules.water_body]
    # the lake TP column reads the tp measurement
    measured = [("tp" if k == "tp_lake" else k) for k in class_items]

    data["class"] = sample_class(data[measured].to_numpy(float), limits)
    c0 = base.loc[data["section"], items].to_numpy(float)
    data["p"] = p_index(data[items].to_numpy(float), c0, weights, rules.p_index.k0)
    trend_rule = rules.fixed.trend
    if trend_rule.against == "baseline":
        ref = c0
    else:
        prev = data.groupby("section")[items].shift(1)
        order = data["month"].str[:4].astype(int) * 12 + data["month"].str[5:7].astype(int)
        consecutive = (order - order.groupby(data["section"]).shift(1)) == 1
        ref = np.array(prev.to_numpy(float), dtype=float, copy=True)
        ref[~consecutive.to_numpy(bool)] = np.nan
    data["ratio"] = trend_ratio(data[items].to_numpy(float), ref, weights)
    data["trend"] = trend_state(data["ratio"].to_numpy(float), trend_rule.tolerance)
    data["target"] = [rules.fixed.target(str(s)) for s in data["section"]]
    cls_part, trend_part = fixed_amounts(data["class"].to_numpy(), data["target"].to_numpy(),
                                         data["trend"].to_numpy(), rules.fixed.amounts,
                                         trend_rule.modifiers)
    data["class_part"] = cls_part
    data["trend_part"] = trend_part
    data["amount"] = cls_part + trend_part
    data["payer"] = np.where(data["amount"] > 0, data["downstream"],
                             np.where(data["amount"] < 0, data["upstream"], ""))
    data["payee"] = np.where(data["amount"] > 0, data["upstream"],
                             np.where(data["amount"] < 0, data["downstream"], ""))
    monthly = data[data["month"].str[:4].astype(int) == year].reset_index(drop=True)
    monthly["explanation_zh"] = [_fixed_text(r, names, trend_rule.against, "zh")
                                 for r in monthly.to_dict("records")]
    monthly["explanation_en"] = [_fixed_text(r, names, trend_rule.against, "en")
                                 for r in monthly.to_dict("records")]

    payments: list[dict[str, Any]] = []
    if rule in ("fixed", "both"):
        for r in monthly.to_dict("records"):
            if r["amount"] != 0:
                payments.append({"rule": "fixed", "period": r["month"],
                                 "section": r["section"], "upstream": r["upstream"],
                                 "downstream": r["downstream"], "measure":
                                 class_label(int(r["class"]), "en"), "payer": r["payer"],
                                 "payee": r["payee"], "amount": abs(float(r["amount"])),
                                 "explanation_zh": r["explanation_zh"],
                                 "explanation_en": r["explanation_en"],
                                 "simulated": bool(r["simulated"])})

    yearly_rows: list[dict[str, Any]] = []
    pr = rules.p_index
    for section, sub in monthly.groupby("section", sort=True):
        up, down = str(sub["upstream"].iloc[0]), str(sub["downstream"].iloc[0])
        means = sub[items].mean()
        p_year = float(p_index(means.to_numpy(float)[None, :],
                               base.loc[[section], items].to_numpy(float), weights, pr.k0)[0])
        down_pays = bool(downstream_pays(np.array([p_year]))[0])
        fixed_sum = float(sub["amount"].sum())
        row: dict[str, Any] = {
            "section": section, "upstream": up, "downstream": down, "year": year,
            "months": len(sub), **{k: float(means[k]) for k in items},
            "class": int(sample_class(means.to_numpy(float)[None, :][:, [
                items.index(m) for m in measured]], limits)[0]),
            "p": p_year, "fixed_net": fixed_sum,
            "simulated": bool(sub["simulated"].any())}
        if rule in ("p-index", "both") and pr.period == "year":
            payer, payee = (down, up) if down_pays else (up, down)
            zh = _p_text(str(year), str(section), p_year, pr.k0, payer, payee, pr.amount,
                         names, "zh")
            en = _p_text(str(year), str(section), p_year, pr.k0, payer, payee, pr.amount,
                         names, "en")
            row.update(p_payer=payer, p_payee=payee, p_amount=pr.amount,
                       explanation_zh=zh, explanation_en=en)
            if pr.amount > 0:
                payments.append({"rule": "p-index", "period": str(year), "section": section,
                                 "upstream": up, "downstream": down, "measure":
                                 f"P={p_year:.4f}", "payer": payer, "payee": payee,
                                 "amount": float(pr.amount), "explanation_zh": zh,
                                 "explanation_en": en, "simulated": row["simulated"]})
        yearly_rows.append(row)
    if rule in ("p-index", "both") and pr.period == "month":
        part = pr.amount / 12
        for r in monthly.to_dict("records"):
            p = float(r["p"])
            payer, payee = ((r["downstream"], r["upstream"]) if p <= 1
                            else (r["upstream"], r["downstream"]))
            if part > 0:
                payments.append({
                    "rule": "p-index", "period": r["month"], "section": r["section"],
                    "upstream": r["upstream"], "downstream": r["downstream"],
                    "measure": f"P={p:.4f}", "payer": payer, "payee": payee,
                    "amount": part,
                    "explanation_zh": _p_text(r["month"], r["section"], p, pr.k0, payer,
                                              payee, part, names, "zh"),
                    "explanation_en": _p_text(r["month"], r["section"], p, pr.k0, payer,
                                              payee, part, names, "en"),
                    "simulated": bool(r["simulated"])})
    pay_cols = ["rule", "period", "section", "upstream", "downstream", "measure", "payer",
                "payee", "amount", "explanation_zh", "explanation_en", "simulated"]
    pay = pd.DataFrame(payments, columns=pay_cols)
    pay["illustrative"] = rules.illustrative
    yearly = pd.DataFrame(yearly_rows)
    yearly["illustrative"] = rules.illustrative
    monthly_cols = ["section", "upstream", "downstream", "month", *items, "class", "target",
                    "p", "ratio", "trend", "class_part", "trend_part", "amount", "payer",
                    "payee", "explanation_zh", "explanation_en", "simulated"]
    monthly = monthly[monthly_cols].copy()
    if rule == "p-index":  # the fixed-amount rule is not applied: show none of its amounts
        monthly[["class_part", "trend_part", "amount"]] = np.nan
        monthly[["payer", "payee", "explanation_zh", "explanation_en"]] = ""
        yearly["fixed_net"] = np.nan
    monthly["illustrative"] = rules.illustrative
    pairs = pair_totals(pay, year=year)
    notes = []
    if year in rules.baseline.years and not rules.baseline.values:
        notes.append((t("plan.ecocomp.note.baseline_year", "zh", year=year),
                      t("plan.ecocomp.note.baseline_year", "en", year=year)))
    short = yearly[yearly["months"] < 12]
    if not short.empty:
        sec = ", ".join(f"{s} ({n})" for s, n in zip(short["section"], short["months"],
                                                      strict=True))
        notes.append((t("plan.ecocomp.note.short_year", "zh", sections=sec),
                      t("plan.ecocomp.note.short_year", "en", sections=sec)))
    return Compensation(year=year, rule=rule, monthly=monthly, yearly=yearly, payments=pay,
                        pairs=pairs, baseline=base.reset_index(),
                        simulated=bool(data["simulated"].any()),
                        illustrative=rules.illustrative, notes=notes)


def pair_totals(payments: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """Per (upstream, downstream) pair of governments and rule (and ``all``): the sum paid by
    downstream to upstream, by upstream to downstream, the net (positive: downstream pays) and
    who pays whom the net."""
    cols = ["year", "upstream", "downstream", "rule", "to_upstream", "to_downstream", "net",
            "payer", "payee", "payments", "simulated", "illustrative"]
    if payments.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    tagged = pd.concat([payments, payments.assign(rule="all")], ignore_index=True)
    for (up, down, rule), sub in tagged.groupby(["upstream", "downstream", "rule"],
                                                sort=True):
        to_up = float(sub.loc[sub["payer"] == down, "amount"].sum())
        to_down = float(sub.loc[sub["payer"] == up, "amount"].sum())
        net = to_up - to_down
        rows.append({"year": year, "upstream": up, "downstream": down, "rule": rule,
                     "to_upstream": to_up, "to_downstream": to_down, "net": net,
                     "payer": down if net > 0 else up if net < 0 else "",
                     "payee": up if net > 0 else down if net < 0 else "",
                     "payments": len(sub), "simulated": bool(sub["simulated"].any()),
                     "illustrative": bool(sub["illustrative"].any())})
    return pd.DataFrame(rows, columns=cols)


def group_totals(payments: pd.DataFrame, groups: Mapping[str, str], *,
                 year: int) -> pd.DataFrame:
    """The payments between groups of units (a unit's province: ``groups`` unit → group), per
    unordered pair of groups (a, b), a < b: paid a → b, paid b → a, the net (a → b minus
    b → a) and who pays whom the net. Payments within one group are left out."""
    cols = ["year", "side_a", "side_b", "a_to_b", "b_to_a", "net_ab", "payer", "payee",
            "payments", "simulated", "illustrative"]
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for r in payments.to_dict("records"):
        ga, gb = groups[str(r["payer"])], groups[str(r["payee"])]
        if ga == gb:
            continue
        a, b = sorted((ga, gb))
        row = rows.setdefault((a, b), {"year": year, "side_a": a, "side_b": b, "a_to_b": 0.0,
                                       "b_to_a": 0.0, "payments": 0, "simulated": False,
                                       "illustrative": False})
        row["a_to_b" if ga == a else "b_to_a"] += float(r["amount"])
        row["payments"] += 1
        row["simulated"] = row["simulated"] or bool(r["simulated"])
        row["illustrative"] = row["illustrative"] or bool(r["illustrative"])
    for row in rows.values():
        net = row["a_to_b"] - row["b_to_a"]
        row["net_ab"] = net
        row["payer"] = row["side_a"] if net > 0 else row["side_b"] if net < 0 else ""
        row["payee"] = row["side_b"] if net > 0 else row["side_a"] if net < 0 else ""
    return pd.DataFrame(list(rows.values()), columns=cols)
