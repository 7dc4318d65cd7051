"""``cocity plan route`` on a store: the attractions and corridors as OPTW instances
(:mod:`cocity.plan.routing`) over the regional network's county-level times, solved.

Travel minutes between two places are the region's county-level times
(:func:`cocity.plan.region.load_region`, modelled road and published rail times) between their
counties; every place stands at its county's representative point, so two distinct places of
the same county are ``same_county_minutes`` apart (a stated parameter, default 20) and a place
is 0 from itself.

Plans, each solved on the same days (08:00–20:00 by default):

* ``named`` — a corridor as the text names it: the corridor theme's attractions in its cities,
  the cities visited in the named order (ranks never decrease), day d running from the
  overnight stop of city d to that of city d+1 and visiting only those two cities.
* ``same`` — the optimum over the same attractions and days without the order.
* ``open`` — the optimum over every attraction of the file on the same days.
* ``proposal`` — the proposals of the corridors file (a base and days, or stops).

A plan with at most 12 attractions is solved exactly (``auto``); larger ones by OR-Tools.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cocity.data.store import Store
from cocity.i18n import current_lang, t
from cocity.outputs import sha256_file
from cocity.plan.errors import PlanInputError
from cocity.plan.region import Region, load_region, resolve_units
from cocity.plan.route_inputs import (
    Corridors,
    Settings,
    default_corridors,
    demo_path,
    hhmm,
    load_corridors,
    read_attractions,
)
from cocity.plan.routing import Day, Instance, Solution, solve_exact, solve_ortools

AUTO_EXACT = 12


@dataclass(frozen=True)
class Plan:
    """One solved route plan: its key and variant, names, the county codes of each day's start
    and end, the attractions it could visit (rows of the attractions table) and the solution
    (attraction indices are positions in ``candidates``)."""

    key: str
    variant: str
    name_zh: str
    name_en: str
    days: tuple[tuple[str, str], ...]
    candidates: tuple[int, ...]
    solution: Solution

    def visited(self) -> list[int]:
        return [self.candidates[s.node] for s in self.solution.stops]


@dataclass
class RoutePlan:
    """Everything ``cocity plan route`` computed."""

    attractions: pd.DataFrame
    plans: list[Plan]
    settings: Settings
    region: Region
    corridors: Corridors
    source: str
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def illustrative(self) -> bool:
        a = self.attractions
        return bool(a["illustrative"].any() or a["default_window"].any())


def travel_matrix(region: Region, codes: Sequence[str], *, same_county: float) -> np.ndarray:
    """Minutes between places standing at the counties ``codes`` (module docstring)."""
    m = region.times(list(codes), list(codes)).astype(float)
    same = np.asarray(codes)[:, None] == np.asarray(codes)[None, :]
    m[same] = same_county
    np.fill_diagonal(m, 0.0)
    return m


def build_instance(region: Region, attractions: pd.DataFrame, candidates: Sequence[int],
                   days: Sequence[tuple[str, str]], settings: Settings, *,
                   rank: np.ndarray | None = None,
                   allowed: np.ndarray | None = None) -> Instance:
    """The OPTW instance of ``candidates`` (rows of ``attractions``) on ``days`` (start and end
    county codes per day)."""
    a = attractions.iloc[list(candidates)]
    depots = list(dict.fromkeys(c for pair in days for c in pair))
    codes = a["code"].astype(str).tolist() + depots
    travel = travel_matrix(region, codes, same_county=settings.same_county_minutes)
    return Instance(
        travel=travel, score=a["score"].to_numpy(float), visit=a["visit_minutes"].to_numpy(float),
        opens=a["opens"].to_numpy(float), closes=a["closes"].to_numpy(float),
        days=tuple(Day(depots.index(s), depots.index(e), settings.depart, settings.back_by)
                   for s, e in days),
        rank=rank, allowed=allowed)


def _solve(inst: Instance, settings: Settings,
           initial: Sequence[Sequence[int]] | None = None) -> Solution:
    """Exact for small plans under ``auto``, else OR-Tools (from ``initial`` when given)."""
    if settings.solver == "exact" or (settings.solver == "auto" and inst.n <= AUTO_EXACT):
        if inst.n > AUTO_EXACT + 4:
            raise PlanInputError(t("plan.route.err.exact_size", n=inst.n, limit=AUTO_EXACT + 4))
        return solve_exact(inst)
    return solve_ortools(inst, solution_limit=settings.solution_limit, initial=initial)


def _check_days(region: Region, key: str, days: Sequence[tuple[str, str]],
                settings: Settings) -> None:
    budget = settings.back_by - settings.depart
    for d, (s, e) in enumerate(days, start=1):
        direct = float(region.times([s], [e])[0, 0])
        if direct > budget:
            raise PlanInputError(t(
                "plan.route.err.day_too_short", plan=key, day=d,
                start=region.name(s, current_lang()), end=region.name(e, current_lang()),
                minutes=f"{direct:.0f}", budget=f"{budget:.0f}",
                window=f"{settings.day_start}–{settings.day_end}"))


def _check_any_reachable(plans: list[Plan], attractions: pd.DataFrame,
                         settings: Settings, region: Region) -> None:
    """Refuse when no plan can visit any attraction, saying what the shortest visit needs."""
    if any(p.solution.stops for p in plans):
        return
    best: tuple[float, str] | None = None
    for rec in attractions.to_dict("records"):
        for p in plans:
            for s, e in p.days:
                t_in = float(travel_matrix(region, [s, rec["code"]],
                                           same_county=settings.same_county_minutes)[0, 1])
                t_out = float(travel_matrix(region, [rec["code"], e],
                                            same_county=settings.same_county_minutes)[0, 1])
                begin = max(settings.depart + t_in, float(rec["opens"]))
                need = begin + float(rec["visit_minutes"]) + t_out - settings.depart
                if begin > float(rec["closes"]):
                    continue
                if best is None or need < best[0]:
                    best = (need, f"{rec['name_zh']} / {rec['name_en']}")
    budget = settings.back_by - settings.depart
    if best is None:
        raise PlanInputError(t("plan.route.err.all_closed",
                               window=f"{settings.day_start}–{settings.day_end}"))
    raise PlanInputError(t("plan.route.err.budget", budget=f"{budget:.0f}",
                           window=f"{settings.day_start}–{settings.day_end}",
                           need=f"{best[0]:.0f}", name=best[1]))


def plan_routes(store: Store, *, attractions: str | None = None, corridors: str | None = None,
                settings: Settings | None = None, year: int | None = None,
                extra: Sequence[tuple[str, int]] = ()) -> RoutePlan:
    """Read, check and solve every plan (module docstring). ``extra``: more proposals as
    (base unit, days)."""
    settings = settings or Settings()
    region = load_region(store, level="county", year=year)
    table = read_attractions(store, attractions, counties=region.codes, settings=settings)
    spec = load_corridors(corridors)
    plans: list[Plan] = []
    themes = table["theme"].astype(str)
    parents = region.units.loc[table["code"], "parent"].astype(str).to_numpy()
    for c in spec.corridors:
        cities = resolve_units(store, c.cities, level="prefecture")
        stops = resolve_units(store, c.stops, level="county")
        region.positions(stops)
        days = list(itertools.pairwise(stops))
        _check_days(region, c.key, days, settings)
        cand = [i for i in range(len(table)) if themes.iloc[i] == c.theme and parents[i] in cities]
        rank = np.array([cities.index(parents[i]) for i in cand], dtype=float)
        allowed = np.array([[r in (d, d + 1) for r in rank] for d in range(len(days))],
                           dtype=bool).reshape(len(days), len(cand))
        named = build_instance(region, table, cand, days, settings, rank=rank, allowed=allowed)
        plans.append(Plan(c.key, "named", c.name_zh, c.name_en, tuple(days), tuple(cand),
                          _solve(named, settings)))
        same = _solve(build_instance(region, table, cand, days, settings), settings)
        plans.append(Plan(c.key, "same", c.name_zh, c.name_en, tuple(days), tuple(cand), same))
        every = list(range(len(table)))
        # the same-attractions optimum is feasible here too: kept if the search finds less
        start = [[cand[i] for i in r] for r in same.routes]
        plans.append(Plan(c.key, "open", c.name_zh, c.name_en, tuple(days), tuple(every),
                          _solve(build_instance(region, table, every, days, settings),
                                 settings, initial=start)))
    proposals: list[tuple[str, str, str, list[tuple[str, str]]]] = []
    for p in spec.proposals:
        pairs = p.day_stops()
        codes = resolve_units(store, [x for pair in pairs for x in pair], level="county")
        proposals.append((p.key, p.name_zh, p.name_en,
                          list(zip(codes[0::2], codes[1::2], strict=True))))
    for base, ndays in extra:
        code = resolve_units(store, [base], level="county")[0]
        region.positions([code])
        proposals.append((f"from_{code}_{ndays}d",
                          t("plan.route.extra", "zh", base=region.name(code, "zh"), days=ndays),
                          t("plan.route.extra", "en", base=region.name(code, "en"), days=ndays),
                          [(code, code)] * ndays))
    for key, zh, en, days in proposals:
        region.positions([c for pair in days for c in pair])
        _check_days(region, key, days, settings)
        every = list(range(len(table)))
        plans.append(Plan(key, "proposal", zh, en, tuple(days), tuple(every),
                          _solve(build_instance(region, table, every, days, settings),
                                 settings)))
    if not plans:
        raise PlanInputError(t("plan.route.err.nothing"))
    _check_any_reachable(plans, table, settings, region)
    for plan in plans:
        if not plan.solution.feasible:  # a solver's result always satisfies the instance
            raise AssertionError(f"infeasible solution for {plan.key}/{plan.variant}")
    source = "demo" if attractions is None else str(attractions)
    files = {"attractions": (demo_path(), attractions), "corridors": (default_corridors(),
                                                                     corridors)}
    inputs = {}
    for role, (shipped, given) in files.items():
        path = shipped if given is None else Path(given)
        inputs[role] = {"file": f"shipped:{shipped.name}" if given is None else str(path),
                        "sha256": sha256_file(path)}
    return RoutePlan(attractions=table, plans=plans, settings=settings, region=region,
                     corridors=spec, source=source, inputs=inputs)


def stops_table(rp: RoutePlan) -> pd.DataFrame:
    """One row per departure, visit and return of every plan, times as HH:MM."""
    a = rp.attractions
    rows: list[dict[str, Any]] = []
    region = rp.region
    for p in rp.plans:
        sol = p.solution
        by_day: dict[int, list[Any]] = {}
        for s in sol.stops:
            by_day.setdefault(s.day, []).append(s)
        for d, (start, end) in enumerate(p.days):
            base = {"plan": p.key, "variant": p.variant, "day": d + 1}
            rows.append({**base, "position": 0, "kind": "depart",
                         "name_zh": region.name(start, "zh"), "name_en": region.name(start, "en"),
                         "county_zh": region.name(start, "zh"), "arrival": "",
                         "start": "", "end": hhmm(rp.settings.depart), "wait_minutes": 0.0,
                         "score": 0.0})
            for s in by_day.get(d, []):
                rec = a.iloc[p.candidates[s.node]]
                rows.append({**base, "position": s.position, "kind": "visit",
                             "name_zh": rec["name_zh"], "name_en": rec["name_en"],
                             "county_zh": rec["county_zh"], "arrival": hhmm(s.arrival),
                             "start": hhmm(s.start), "end": hhmm(s.end),
                             "wait_minutes": round(s.wait, 1), "score": float(rec["score"])})
            rows.append({**base, "position": len(by_day.get(d, [])) + 1, "kind": "return",
                         "name_zh": region.name(end, "zh"), "name_en": region.name(end, "en"),
                         "county_zh": region.name(end, "zh"), "arrival": hhmm(sol.returns[d]),
                         "start": "", "end": "", "wait_minutes": 0.0, "score": 0.0})
    return pd.DataFrame(rows)


def routes_table(rp: RoutePlan) -> pd.DataFrame:
    """One row per plan: score, visits, the candidates' total score, travel and visit minutes,
    the method and its status."""
    rows = []
    for p in rp.plans:
        sol = p.solution
        cand_score = float(rp.attractions.iloc[list(p.candidates)]["score"].sum()) \
            if p.candidates else 0.0
        visit = sum(s.end - s.start for s in sol.stops)
        wait = sum(s.wait for s in sol.stops)
        span = sum(r - rp.settings.depart for r in sol.returns)
        rows.append({"plan": p.key, "variant": p.variant, "name_zh": p.name_zh,
                     "name_en": p.name_en, "days": len(p.days), "candidates": len(p.candidates),
                     "visits": len(sol.stops), "score": sol.score,
                     "candidate_score": cand_score, "visit_minutes": round(visit, 1),
                     "travel_minutes": round(span - visit - wait, 1),
                     "wait_minutes": round(wait, 1), "method": sol.method,
                     "status": sol.status, "optimal": sol.optimal})
    return pd.DataFrame(rows)
