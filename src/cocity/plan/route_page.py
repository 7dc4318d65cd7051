"""The report of ``cocity plan route`` (:class:`cocity.report.plan_page.PlanReport`): cards,
the tables of routes, stops and attractions, the map (attractions by county, one line per
route through its stops) and the notes; anything illustrative is said in the notice, the
tables (``illustrative`` column) and the map legend."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

from cocity.i18n import t
from cocity.plan.region import Region
from cocity.plan.route_run import Plan, RoutePlan, routes_table, stops_table
from cocity.report.plan_page import Layer, PlanReport, PlanTable

KIND = "route"
COLORS = {"named": "#d62728", "same": "#ff7f0e", "open": "#1f77b4", "proposal": "#2ca02c"}


def _both(key: str, **fmt: Any) -> tuple[str, str]:
    return t(key, "zh", **fmt), t(key, "en", **fmt)


def _points(rp: RoutePlan) -> dict[str, tuple[float, float]]:
    u = rp.region.units
    return {str(c): (float(x), float(y)) for c, x, y in zip(
        u.index, u["lon"].to_numpy(float), u["lat"].to_numpy(float), strict=True)}


def _path(plan: Plan, rp: RoutePlan) -> list[tuple[float, float]]:
    where = _points(rp)
    a = rp.attractions
    pts: list[tuple[float, float]] = []
    by_day: dict[int, list[int]] = {}
    for s in plan.solution.stops:
        by_day.setdefault(s.day, []).append(plan.candidates[s.node])
    for d, (start, end) in enumerate(plan.days):
        codes = [start] + [str(a.iloc[i]["code"]) for i in by_day.get(d, [])] + [end]
        for c in codes:
            p = where[c]
            if not pts or pts[-1] != p:
                pts.append(p)
    return pts


def _layers(rp: RoutePlan) -> list[Layer]:
    a = rp.attractions
    where = _points(rp)
    flag: Literal["illustrative"] | None = "illustrative" if rp.illustrative else None
    rows = []
    for code, grp in a.groupby("code", sort=False):
        rows.append({"lon": where[str(code)][0], "lat": where[str(code)][1],
                     "label_zh": "、".join(grp["name_zh"]),
                     "label_en": "; ".join(grp["name_en"]), "code": str(code),
                     "attractions": len(grp), "score": float(grp["score"].sum())})
    layers = [Layer("attractions", "景点（按所在县级单元）", "Attractions (by county)",
                    "points", pd.DataFrame(rows), color="#6b4c9a", flag=flag)]
    for variant in ("proposal", "open", "same", "named"):  # the named corridors drawn on top
        plans = [p for p in rp.plans if p.variant == variant]
        if not plans:
            continue
        zh, en = _both(f"plan.route.variant.{variant}")
        feats = pd.DataFrame([{
            "path": _path(p, rp),
            "label_zh": f"{p.name_zh}（{zh}）：{p.solution.score:g} 分",
            "label_en": f"{p.name_en} ({en}): score {p.solution.score:g}",
            "plan": p.key, "variant": p.variant, "score": p.solution.score} for p in plans])
        layers.append(Layer(f"routes_{variant}", zh, en, "lines", feats,
                            color=COLORS[variant], flag=flag))
    return layers


def _cards(rp: RoutePlan) -> list[tuple[str, str, str]]:
    cards = [(str(len(rp.attractions)), "景点", "attractions")]
    by = {(p.key, p.variant): p for p in rp.plans}
    for c in rp.corridors.corridors:
        named, best = by[(c.key, "named")], by[(c.key, "open")]
        cards.append((f"{named.solution.score:g} / {best.solution.score:g}",
                      f"{c.name_zh}：按名称 / 同日程全部景点",
                      f"{c.name_en}: as named / all attractions, same days"))
    return cards


def _attractions_table(rp: RoutePlan) -> pd.DataFrame:
    from cocity.plan.route_inputs import hhmm

    a = rp.attractions.copy()
    a["opens"] = a["opens"].map(hhmm)
    a["closes"] = a["closes"].map(hhmm)
    return a.drop(columns=["county"])


def route_report(rp: RoutePlan) -> PlanReport:
    """The report of ``rp`` (module docstring)."""
    s = rp.settings
    routes = routes_table(rp)
    stops = stops_table(rp)
    flag = rp.illustrative
    routes["illustrative"] = flag
    stops["illustrative"] = flag
    notes = [(Region.note("zh"), Region.note("en")),
             _both("plan.route.note.method"),
             _both("plan.route.note.same_county", minutes=f"{s.same_county_minutes:g}"),
             _both("plan.route.note.day", start=s.day_start, end=s.day_end),
             _both("plan.route.note.variants")]
    if any(p.solution.method == "ortools" for p in rp.plans):
        notes.append(_both("plan.route.note.ortools", limit=s.solution_limit))
    if rp.attractions["default_window"].any():
        notes.append(_both("plan.route.note.default_window", opens=s.default_opens,
                           closes=s.default_closes))
    notice = None
    if flag:
        notice = _both("plan.route.notice", source=rp.source)
    return PlanReport(
        kind=KIND, title_zh="文旅线路规划", title_en="Cultural-tourism routes",
        subtitle_zh="带开放时间与每日时长的定向越野问题（OPTW）：按名称的线路、同一批景点的最优、"
                    "同日程全部景点的最优与提议线路",
        subtitle_en="An orienteering problem with opening hours and a day budget (OPTW): the "
                    "corridors as named, the optimum over the same attractions, over all "
                    "attractions on the same days, and proposals",
        cards=_cards(rp),
        tables=[PlanTable("routes", routes, "线路", "Routes", labels="plan.route.col"),
                PlanTable("stops", stops, "各站时间", "Stops and times",
                          labels="plan.route.col"),
                PlanTable("attractions", _attractions_table(rp), "景点", "Attractions",
                          labels="plan.route.col")],
        layers=_layers(rp), notes=notes, notice=notice, provenance=rp.region.provenance,
        config={**s.model_dump(), "attractions": rp.source},
        facts={"illustrative": flag, "inputs": rp.inputs,
               "scores": {f"{p.key}/{p.variant}": p.solution.score for p in rp.plans}})
