"""The edge of the eco-compensation tool: reads the store (units, names, representative points),
the monitoring file (or the SIMULATED demo) and the rules file, runs
:func:`cocity.plan.ecocomp.compensate`, and builds the planning report (tables, a map of the
sections and of who pays whom, charts of the monthly P index and class) — see
:mod:`cocity.report.plan_page` for the files."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from cocity.data.store import Store
from cocity.i18n import t
from cocity.plan.ecocomp import Compensation, compensate, group_totals
from cocity.plan.ecocomp_data import read_monitoring
from cocity.plan.ecocomp_demo import demo_path
from cocity.plan.ecocomp_rules import CLASSES, ITEMS, Rules, class_label, load_rules, load_standard
from cocity.report.plan_page import Layer, PlanReport, PlanTable

KIND = "ecocomp"
LABELS = "plan.ecocomp.col"


@dataclass
class EcoCompRun:
    """One run: the result, the units it names, what it read."""

    comp: Compensation
    rules: Rules
    units: pd.DataFrame  # index code: name_zh, name_en, lon, lat, province
    data_file: str
    demo: bool
    rules_file: str | None
    provinces: pd.DataFrame  # payments between provinces (group_totals)
    provenance: dict[str, Any] = field(default_factory=dict)

    def name(self, code: str, lang: str = "zh") -> str:
        return str(self.units.at[str(code), "name_zh" if lang == "zh" else "name_en"])


def _province(units: pd.DataFrame, code: str) -> str:
    seen = code
    for _ in range(5):
        if units.at[seen, "level"] == "province":
            return seen
        parent = units.at[seen, "parent"]
        if parent is None or str(parent) not in units.index:
            break
        seen = str(parent)
    return seen


def run_ecocomp(store: Store, *, data: str | Path | None = None,
                rules: str | Path | None = None, year: int | None = None,
                rule: str = "both") -> EcoCompRun:
    """Read everything and compute (no file written). ``data`` None: the SIMULATED demo."""
    from cocity.data.provenance import provenance
    from cocity.outputs import sha256_file

    standard = load_standard()
    rules_ = load_rules(rules)
    path = demo_path() if data is None else Path(data)

    def resolve(name: str) -> str:
        return store.resolve(name, None)

    samples = read_monitoring(path, resolve=resolve)
    units = store.units().copy()
    units["code"] = units["code"].astype(str)
    units = units.set_index("code")
    used = sorted(set(samples["upstream"]) | set(samples["downstream"]))
    table = units.loc[used, ["name_zh", "name_en", "lon", "lat", "level"]].copy()
    table["province"] = [_province(units, c) for c in used]
    names = {c: (str(table.at[c, "name_zh"]), str(table.at[c, "name_en"])) for c in used}
    comp = compensate(samples, rules_, standard, year=year, rule=rule, names=names)
    prov = provenance(store, indicators=[])
    prov["monitoring"] = {"file": path.name if data is None else str(path),
                          "sha256": sha256_file(path), "samples": len(samples),
                          "simulated": comp.simulated}
    prov["user_data"] = bool(prov.get("user_data")) or data is not None
    extra = sorted(set(table["province"]) - set(table.index))
    if extra:
        more = units.loc[extra, ["name_zh", "name_en", "lon", "lat", "level"]].copy()
        more["province"] = extra
        table = pd.concat([table, more])
    groups = {c: str(table.at[c, "province"]) for c in used}
    between = group_totals(comp.payments, groups, year=comp.year)
    return EcoCompRun(comp=comp, rules=rules_, units=table, data_file=str(path),
                      demo=data is None, rules_file=None if rules is None else str(rules),
                      provinces=between, provenance=prov)


# ---------------------------------------------------------------------- the report
def _pair_label(run: EcoCompRun, a: str, b: str, lang: str) -> str:
    return f"{run.name(a, lang)} → {run.name(b, lang)}"


def _midpoint(run: EcoCompRun, a: str, b: str) -> tuple[float, float]:
    lon = run.units["lon"].astype(float)
    lat = run.units["lat"].astype(float)
    return (lon[a] + lon[b]) / 2, (lat[a] + lat[b]) / 2


def _arrow(a: tuple[float, float], b: tuple[float, float],
           size: float = 0.05) -> list[tuple[float, float]]:
    """A line a → b ending in an arrowhead at b (two barbs, lengths in degrees of latitude,
    longitude scaled by cos(latitude) so that the head looks the same on the map)."""
    k = math.cos(math.radians((a[1] + b[1]) / 2))
    dx, dy = (b[0] - a[0]) * k, b[1] - a[1]
    norm = math.hypot(dx, dy) or 1.0
    ux, uy = dx / norm, dy / norm
    barbs = []
    for sign in (1, -1):
        cos30, sin30 = math.cos(math.radians(25)), math.sin(math.radians(25)) * sign
        rx, ry = -(ux * cos30 - uy * sin30), -(ux * sin30 + uy * cos30)
        barbs.append((b[0] + size * rx / k, b[1] + size * ry))
    return [a, b, barbs[0], b, barbs[1]]


def _flag(comp: Compensation) -> Any:
    return "simulated" if comp.simulated else "illustrative" if comp.illustrative else None


def _layers(run: EcoCompRun) -> list[Layer]:
    comp = run.comp
    flag = _flag(comp)
    pts = []
    for r in comp.yearly.to_dict("records"):
        lon, lat = _midpoint(run, r["upstream"], r["downstream"])
        text = {lg: t("plan.ecocomp.map.section", lg, section=r["section"],
                      cls=class_label(int(r["class"]), lg), p=f"{r['p']:.3f}",
                      pair=_pair_label(run, r["upstream"], r["downstream"], lg))
                for lg in ("zh", "en")}
        pts.append({"lon": lon, "lat": lat, "label_zh": r["section"], "label_en": r["section"],
                    "detail_zh": text["zh"], "detail_en": text["en"], "p": r["p"],
                    "class": class_label(int(r["class"]), "zh"),
                    "simulated": r["simulated"]})
    lines = []
    pairs = comp.pairs[comp.pairs["rule"] == "all"]
    for r in pairs.to_dict("records"):
        if r["net"] == 0:
            continue
        xs = run.units["lon"].astype(float)
        ys = run.units["lat"].astype(float)
        a = (float(xs[r["payer"]]), float(ys[r["payer"]]))
        b = (float(xs[r["payee"]]), float(ys[r["payee"]]))
        lines.append({"path": _arrow(a, b),
                      **{f"label_{lg}": t("plan.ecocomp.map.flow", lg, year=comp.year,
                                          payer=run.name(r["payer"], lg),
                                          payee=run.name(r["payee"], lg),
                                          amount=f"{abs(r['net']):,.2f}")
                         for lg in ("zh", "en")},
                      "net": abs(float(r["net"])), "payer": r["payer"], "payee": r["payee"]})
    return [
        Layer("ecocomp_sections", t("plan.ecocomp.layer.sections", "zh"),
              t("plan.ecocomp.layer.sections", "en"), "points", pd.DataFrame(pts),
              color="#1f77b4", flag=flag),
        Layer("ecocomp_flows", t("plan.ecocomp.layer.flows", "zh"),
              t("plan.ecocomp.layer.flows", "en"), "lines",
              pd.DataFrame(lines, columns=["path", "label_zh", "label_en", "net", "payer",
                                           "payee"]),
              color="#d62728", flag=flag),
    ]


def _monthly_figure(comp: Compensation, column: str) -> Callable[..., go.Figure]:
    def build(lang: str = "zh") -> go.Figure:
        fig = go.Figure()
        for section, sub in comp.monthly.groupby("section", sort=True):
            fig.add_trace(go.Scatter(x=sub["month"], y=sub[column], mode="lines+markers",
                                     name=str(section),
                                     line={"shape": "hv" if column == "class" else "linear"}))
        if column == "p":
            fig.add_hline(y=1, line_dash="dash", line_color="#888",
                          annotation_text=t("plan.ecocomp.fig.p_one", lang))
            fig.update_yaxes(title=t("plan.ecocomp.fig.p_axis", lang))
        else:
            fig.update_yaxes(title=t("plan.ecocomp.fig.class_axis", lang), autorange="reversed",
                             tickvals=list(range(1, 7)),
                             ticktext=[class_label(c, lang) for c in range(1, 7)])
        fig.update_xaxes(title=t("plan.ecocomp.fig.month", lang))
        fig.update_layout(height=380, margin={"l": 60, "r": 20, "t": 20, "b": 50},
                          legend={"orientation": "h", "y": -0.25})
        return fig

    return build


def _names(run: EcoCompRun, frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for c in columns:
        if c in out.columns:
            out[f"{c}_name"] = [run.name(x, "zh") if x else "" for x in out[c]]
    return out


def ecocomp_report(run: EcoCompRun) -> PlanReport:
    """The planning report of ``run`` (pure data; written by ``write_plan_report``)."""
    comp = run.comp
    monthly = comp.monthly.copy()
    monthly["class"] = [class_label(int(c), "zh") for c in monthly["class"]]
    monthly["target"] = [CLASSES[int(c) - 1] for c in monthly["target"]]
    monthly = _names(run, monthly, ["payer", "payee"])
    monthly[["p", "ratio"]] = monthly[["p", "ratio"]].round(4)
    yearly = comp.yearly.copy()
    yearly[[*ITEMS, "p"]] = yearly[[*ITEMS, "p"]].round(4)
    yearly["class"] = [class_label(int(c), "zh") for c in yearly["class"]]
    payments = _names(run, comp.payments, ["payer", "payee"])
    pairs = comp.pairs.copy()
    pairs["pair_zh"] = [_pair_label(run, a, b, "zh") for a, b in
                        zip(pairs["upstream"], pairs["downstream"], strict=True)]
    pairs["pair_en"] = [_pair_label(run, a, b, "en") for a, b in
                        zip(pairs["upstream"], pairs["downstream"], strict=True)]
    pairs = _names(run, pairs, ["payer", "payee"])
    pairs = pairs[["year", "pair_zh", "pair_en", "upstream", "downstream", "rule",
                   "to_upstream", "to_downstream", "net", "payer", "payer_name", "payee",
                   "payee_name", "payments", "simulated", "illustrative"]]
    baseline = comp.baseline.copy()
    provinces = _names(run, run.provinces, ["side_a", "side_b", "payer", "payee"])
    for lg in ("zh", "en"):
        provinces[f"explanation_{lg}"] = [
            t("plan.ecocomp.explain.provinces", lg, year=r["year"], payer=run.name(r["payer"], lg),
              payee=run.name(r["payee"], lg), amount=f"{abs(r['net_ab']):,.2f}",
              n=r["payments"]) if r["payer"] else t("plan.ecocomp.explain.no_payment", lg)
            for r in provinces.to_dict("records")]
    baseline[list(ITEMS)] = baseline[list(ITEMS)].round(4)
    total = float(comp.payments["amount"].sum()) if not comp.payments.empty else 0.0
    notice = None
    parts = []
    if comp.simulated:
        parts.append((t("plan.ecocomp.notice.simulated", "zh"),
                      t("plan.ecocomp.notice.simulated", "en")))
    if comp.illustrative:
        parts.append((t("plan.ecocomp.notice.illustrative", "zh"),
                      t("plan.ecocomp.notice.illustrative", "en")))
    if parts:
        notice = (" ".join(p[0] for p in parts), " ".join(p[1] for p in parts))
    rule_zh, rule_en = (t(f"plan.ecocomp.rule.{comp.rule}", lg) for lg in ("zh", "en"))
    notes = [(t("plan.ecocomp.note.class", "zh"), t("plan.ecocomp.note.class", "en")),
             (t("plan.ecocomp.note.p", "zh", k0=run.rules.p_index.k0,
                source=run.rules.p_index.source),
              t("plan.ecocomp.note.p", "en", k0=run.rules.p_index.k0,
                source=run.rules.p_index.source)),
             (t("plan.ecocomp.note.fixed", "zh"), t("plan.ecocomp.note.fixed", "en")),
             *comp.notes]
    if run.demo:
        notes.append((t("plan.ecocomp.note.demo", "zh"), t("plan.ecocomp.note.demo", "en")))
    for frame in (pairs, yearly, provinces):  # a year, not a quantity (no thousands separator)
        frame["year"] = frame["year"].astype(str)
    tables = [
        PlanTable("pairs", pairs, "按政府对汇总的年度补偿", "Yearly payments per pair of "
                  "governments", labels=LABELS),
        PlanTable("provinces", provinces, "省级之间的补偿（两省市合计）", "Payments between "
                  "provinces (sum over their units)", labels=LABELS),
        PlanTable("payments", payments, "每笔补偿及说明", "Every payment, explained",
                  labels=LABELS),
        PlanTable("yearly", yearly, "断面年度结果（P 指数）", "Yearly result per section (P "
                  "index)", labels=LABELS),
        PlanTable("monthly", monthly, "断面逐月结果（水质类别、双向定额）", "Monthly result per "
                  "section (class, bidirectional fixed amount)", labels=LABELS),
        PlanTable("baseline", baseline, "基准浓度 Cᵢ0（mg/L）", "Baseline concentrations "
                  "Cᵢ0 (mg/L)", labels=LABELS),
    ]
    return PlanReport(
        kind=KIND, title_zh="跨界断面生态补偿测算", title_en="Eco-compensation across "
        "cross-border water-quality sections",
        subtitle_zh=f"{comp.year} 年 · {len(comp.yearly)} 个断面 · {rule_zh}",
        subtitle_en=f"{comp.year} · {len(comp.yearly)} sections · {rule_en}",
        cards=[(str(len(comp.yearly)), "断面", "sections"),
               (str(len(comp.payments)), "补偿笔数", "payments"),
               (f"{total:,.2f}", "补偿资金合计（万元）", "total paid (10k yuan)"),
               (str(int((comp.pairs["rule"] == "all").sum())) if not comp.pairs.empty
                else "0", "政府对", "pairs of governments")],
        tables=tables, layers=_layers(run), notes=notes, notice=notice,
        figures=[("逐月 P 指数", "Monthly P index", "line", _monthly_figure(comp, "p")),
                 ("逐月水质类别", "Monthly water-quality class", "line",
                  _monthly_figure(comp, "class"))],
        provenance=run.provenance,
        config={"year": comp.year, "rule": comp.rule, "data": run.data_file,
                "rules_file": run.rules_file, "rules": run.rules.model_dump(mode="json"),
                "items": list(ITEMS)},
        facts={"simulated": comp.simulated, "illustrative": comp.illustrative,
               "sections": len(comp.yearly), "payments": len(comp.payments),
               "total_wan_yuan": total})
