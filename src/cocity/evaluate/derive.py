"""Indicators of the evaluation, derived per unit from the store, the regional network and the
survey. Every measure has the signature ``measure(ctx, level, units, **params) -> pd.Series``
(index: the evaluated unit codes of ``level``) and is named by its ``kind`` in the framework.

Common parameters: ``indicators`` — one catalog id or a list (a list is averaged unweighted per
unit first, e.g. the four household amenities); ``source`` — which edition year to read
(``census``, ``yearbook``, ``survey``; see :class:`Edition`). Population weights are the
census resident population (``pop_total``) of the edition's census year.

Prefecture-level values of a prefecture only *partly* in the circle (membership ``partial``)
are the population-weighted means of its member counties, so that, e.g., Chongqing's figure
describes Chongqing's part of the circle; yearbook figures exist only for whole prefectures and
are used as published (a limit the methodology appendix states).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from cocity.data.store import Store
from cocity.evaluate.errors import EvaluationError
from cocity.i18n import t
from cocity.metrics import inequality

if TYPE_CHECKING:
    from cocity.access.regional import RegionalSpec

POP = "pop_total"
MEMBERS = ("full", "partial")


@dataclass(frozen=True)
class Edition:
    """The data years of one evaluation year: ``{"census": 2020, "yearbook": 2019, …}``
    (``None``: that source has no data for this edition)."""

    year: int
    sources: dict[str, int | None]

    def data_year(self, source: str) -> int | None:
        if source not in self.sources:
            raise EvaluationError(t("eval.err.unknown_source", source=source,
                                    known=", ".join(self.sources)))
        return self.sources[source]


@dataclass(frozen=True)
class Adjustments:
    """Changes to the inputs of the derivation, applied in memory — the store is never
    written (what-if scenarios, :mod:`cocity.plan.whatif`). Empty: the data as stored.

    ``values``: indicator → an amount added, per unit code, to the value read for the
    edition (``x'_i = x_i + δ_i``; units not listed unchanged). ``sited``: indicator → an
    amount of a prefecture-level resource (not a rate: e.g. beds) that is already counted in
    its prefecture's (adjusted) rate but stands at a named county-level unit: :func:`e2sfca`
    places it there instead of spreading it with the rest. ``links``: extra links
    ``(u, v, minutes)`` of the regional network between county-level units, both ways.
    """

    values: dict[str, pd.Series] = field(default_factory=dict)
    sited: dict[str, pd.Series] = field(default_factory=dict)
    links: tuple[tuple[str, str, float], ...] = ()


@dataclass
class Context:
    """What the measures read: the store, the edition, the regional network spec and the
    survey estimates, and the in-memory :class:`Adjustments`; caches what several measures
    share."""

    store: Store
    edition: Edition
    network_spec: RegionalSpec
    survey: Any = None  # cocity.evaluate.survey.Survey or None
    cache: dict[str, Any] = field(default_factory=dict)
    used: set[tuple[str, int]] = field(default_factory=set)  # (indicator, year) read
    adjust: Adjustments = field(default_factory=Adjustments)

    # ------------------------------------------------------------------ units
    @property
    def units(self) -> pd.DataFrame:
        if "units" not in self.cache:
            self.cache["units"] = self.store.units().set_index("code", drop=False)
        return self.cache["units"]

    def members(self, prefecture: str) -> list[str]:
        """Member county-level units of a prefecture (membership full or partial)."""
        u = self.units
        sel = (u["parent"] == prefecture) & (u["level"] == "county") & u["membership"].isin(MEMBERS)
        return list(u.index[sel])

    # ------------------------------------------------------------------ data
    def values(self, indicators: str | list[str], source: str) -> pd.Series | None:
        """Per-unit values of one indicator or the unweighted mean of several, every level;
        ``None`` when the edition has no data for ``source``."""
        year = self.edition.data_year(source)
        if year is None:
            return None
        ids = [indicators] if isinstance(indicators, str) else list(indicators)
        self.used.update((i, int(year)) for i in ids)
        key = f"values:{','.join(ids)}:{year}"
        if key not in self.cache:
            obs = self.store.observations(indicators=ids, years=[year])
            missing = sorted(set(ids) - set(obs["indicator"]))
            if missing:
                raise EvaluationError(t("eval.err.no_data", indicators=", ".join(missing),
                                        year=year))
            wide = obs.pivot_table(index="unit", columns="indicator", values="value")
            for ind in ids:
                if ind in self.adjust.values:
                    delta = self.adjust.values[ind].reindex(wide.index).fillna(0.0)
                    wide[ind] = wide[ind] + delta
            self.cache[key] = wide[ids].mean(axis=1, skipna=False)
        return self.cache[key]

    def network(self) -> Any:
        """The regional network (:func:`cocity.access.regional.build_regional_network`) with
        the adjustments' extra links, built once."""
        if "network" not in self.cache:
            from cocity.access.regional import build_regional_network

            net = build_regional_network(self.store, self.network_spec)
            if self.adjust.links:
                rows = [{"u": u, "v": v, "minutes": float(m), "mode": "link",
                         "modelled": False, "line": ""}
                        for a, b, m in self.adjust.links for u, v in ((a, b), (b, a))]
                net.edges = pd.concat([net.edges, pd.DataFrame(rows)], ignore_index=True)
            self.cache["network"] = net
        return self.cache["network"]

    def population(self) -> pd.Series:
        pop = self.values(POP, "census")
        if pop is None:
            raise EvaluationError(t("eval.err.no_population"))
        return pop


def _weighted_mean(x: pd.Series, w: pd.Series) -> float:
    ok = x.notna() & w.notna()
    return float(np.average(x[ok], weights=w[ok])) if ok.any() and w[ok].sum() > 0 else np.nan


def level_values(ctx: Context, level: str, units: list[str], x: pd.Series) -> pd.Series:
    """``x`` at ``level``: county values as they are; prefecture values as published, except
    for a prefecture partly in the circle, which gets its member counties' population-weighted
    mean when every member county has a value (otherwise — e.g. yearbook figures, published
    for whole prefectures only — the published value stays)."""
    out = x.reindex(units).astype(float)
    if level == "prefecture":
        pop = ctx.population()
        for code in units:
            if ctx.units.at[code, "membership"] == "partial":
                m = ctx.members(code)
                vals = x.reindex(m)
                if vals.notna().all():
                    out[code] = _weighted_mean(vals, pop.reindex(m))
    return out


# ---------------------------------------------------------------------- measures
Measure = Callable[..., pd.Series]
MEASURES: dict[str, Measure] = {}


def measure(kind: str) -> Callable[[Measure], Measure]:
    def deco(fn: Measure) -> Measure:
        MEASURES[kind] = fn
        return fn
    return deco


@measure("observed")
def observed(ctx: Context, level: str, units: list[str], *, indicators: str | list[str],
             source: str = "census") -> pd.Series:
    """The published value x_i (the unweighted mean of several indicators when a list is
    given); partial prefectures as in :func:`level_values`."""
    x = ctx.values(indicators, source)
    if x is None:
        return pd.Series(np.nan, index=units)
    return level_values(ctx, level, units, x)


INEQUALITY = {
    "theil_t": lambda y, p: inequality.theil(y, p, index="T"),
    "gini": lambda y, p: inequality.gini(y, p),
    "cv": lambda y, p: float(np.sqrt(np.average((y - np.average(y, weights=p)) ** 2, weights=p))
                             / np.average(y, weights=p)),
}


@measure("within_inequality")
def within_inequality(ctx: Context, level: str, units: list[str], *,
                      indicators: str | list[str], source: str = "census",
                      index: str = "theil_t") -> pd.Series:
    """Inequality of x across a prefecture's member counties, population-weighted.

    theil_t: ``T = Σ_i π_i (x_i/μ) ln(x_i/μ)``; gini: ``G = Σ_i Σ_j p_i p_j |x_i − x_j| /
    (2 μ P²)``; cv: weighted standard deviation / weighted mean. ``π_i`` are population shares,
    ``μ`` the population-weighted mean (:mod:`cocity.metrics.inequality`). Prefecture level only;
    a prefecture with fewer than two member counties with values gets NaN.
    """
    if level != "prefecture":
        raise EvaluationError(t("eval.err.level_only", kind="within_inequality",
                                level="prefecture"))
    if index not in INEQUALITY:
        raise EvaluationError(t("eval.err.bad_param", kind="within_inequality", param="index",
                                value=index, allowed=", ".join(INEQUALITY)))
    x = ctx.values(indicators, source)
    if x is None:
        return pd.Series(np.nan, index=units)
    pop = ctx.population()
    out = {}
    for code in units:
        m = ctx.members(code)
        y, p = x.reindex(m), pop.reindex(m)
        ok = y.notna() & p.notna()
        out[code] = (INEQUALITY[index](y[ok].to_numpy(float), p[ok].to_numpy(float))
                     if ok.sum() >= 2 else np.nan)
    return pd.Series(out, dtype=float).reindex(units)


@measure("shortfall")
def shortfall(ctx: Context, level: str, units: list[str], *, indicators: str | list[str],
              source: str = "census", reference: str = "circle",
              direction: int = 1) -> pd.Series:
    """Relative shortfall below a reference level, in per cent:

        s_i = 100 · max(0, (r − x_i) / r)        (direction 1: more is better)
        s_i = 100 · max(0, (x_i − r) / r)        (direction −1: less is better)

    ``reference``: ``circle`` — the population-weighted mean of the evaluated units of this
    level, ``r = Σ p_i x_i / Σ p_i``; ``parent`` (county level) — the unit's own prefecture's
    value (:func:`level_values`), i.e. the gap inside the city. Units at or above the
    reference score 0; the measure is a one-sided gap, read with direction −1.
    """
    x = ctx.values(indicators, source)
    if x is None:
        return pd.Series(np.nan, index=units)
    own = level_values(ctx, level, units, x)
    if reference == "circle":
        pop = level_values(ctx, level, units, ctx.population()) if level == "county" else \
            _prefecture_population(ctx, units)
        ref = pd.Series(_weighted_mean(own, pop), index=units)
    elif reference == "parent":
        if level != "county":
            raise EvaluationError(t("eval.err.level_only", kind="shortfall reference=parent",
                                    level="county"))
        parents = ctx.units.loc[units, "parent"].astype(str)
        pv = level_values(ctx, "prefecture", sorted(set(parents)), x)
        ref = parents.map(pv).astype(float)
    else:
        raise EvaluationError(t("eval.err.bad_param", kind="shortfall", param="reference",
                                value=reference, allowed="circle, parent"))
    gap = (ref - own) if int(direction) >= 0 else (own - ref)
    return (100.0 * (gap / ref).clip(lower=0)).astype(float)


def _prefecture_population(ctx: Context, units: list[str]) -> pd.Series:
    """Population of each prefecture's part of the circle (sum over member counties when the
    prefecture is partly in the circle)."""
    pop = ctx.population()
    out = pop.reindex(units).astype(float)
    for code in units:
        if ctx.units.at[code, "membership"] == "partial":
            out[code] = float(pop.reindex(ctx.members(code)).sum())
    return out


# ---------------------------------------------------------------------- regional network
def county_minutes(ctx: Context) -> pd.DataFrame:
    """All-pairs travel minutes between county-level units on the regional network
    (:mod:`cocity.access.regional`; road times modelled, rail published). The diagonal is the
    modelled time within a unit, ``t_ii = (2/3)·√(A_i/π) · detour / v · 60`` — the mean distance
    from the centre of a disc of the unit's area ``A_i`` to a point in it, at the network's
    road speed and detour factor."""
    if "minutes" in ctx.cache:
        return ctx.cache["minutes"]
    from cocity.access.regional import road_minutes

    net = ctx.network()
    dist = dijkstra(net.matrix(), directed=True)
    geo = ctx.store.geodata(level="county").set_index("code").loc[net.ids]
    area_km2 = geo.geometry.to_crs("EPSG:6933").area.to_numpy() / 1e6
    road = ctx.network_spec.road
    inner = road_minutes((2.0 / 3.0) * np.sqrt(area_km2 / np.pi), detour=road.detour,
                         speed_kmh=road.speed_kmh)
    np.fill_diagonal(dist, inner)
    ctx.cache["minutes"] = pd.DataFrame(dist, index=net.ids, columns=net.ids)
    return ctx.cache["minutes"]


def core_minutes_all(ctx: Context) -> pd.Series:
    """Minutes from each county-level unit to the nearest core city's central districts
    (0 inside them), the smaller over the spec's cores."""
    if "core_minutes" not in ctx.cache:
        from cocity.access.regional import travel_times

        net = ctx.network()
        times = [travel_times(net, list(core.counties))["minutes"]
                 for core in ctx.network_spec.cores.values()]
        ctx.cache["core_minutes"] = pd.concat(times, axis=1).min(axis=1)
    return ctx.cache["core_minutes"]


@measure("core_minutes")
def core_minutes(ctx: Context, level: str, units: list[str]) -> pd.Series:
    """Travel minutes to the nearest core city (Chengdu or Chongqing central districts) over
    the regional network; county level. Units without a boundary are not on the network and
    get NaN."""
    if level != "county":
        raise EvaluationError(t("eval.err.level_only", kind="core_minutes", level="county"))
    return core_minutes_all(ctx).reindex(units).astype(float)


@measure("core_share")
def core_share(ctx: Context, level: str, units: list[str], *,
               threshold: float = 60.0) -> pd.Series:
    """Share (%) of a prefecture's member-county population living within ``threshold``
    minutes of a core city: ``100 · Σ_{i: t_i ≤ T} p_i / Σ_i p_i``; prefecture level."""
    if level != "prefecture":
        raise EvaluationError(t("eval.err.level_only", kind="core_share", level="prefecture"))
    mins = core_minutes_all(ctx)
    pop = ctx.population()
    out = {}
    for code in units:
        m = [c for c in ctx.members(code) if c in mins.index]
        p = pop.reindex(m)
        out[code] = (100.0 * float(p[mins[m] <= threshold].sum()) / float(p.sum())
                     if p.notna().any() and p.sum() > 0 else np.nan)
    return pd.Series(out, dtype=float).reindex(units)


@measure("e2sfca")
def e2sfca(ctx: Context, level: str, units: list[str], *, supply: str,
           source: str = "yearbook", placement: str = "districts",
           breaks: list[float] | None = None, weights: list[float] | None = None,
           per: float = 1000.0) -> pd.Series:
    """Enhanced two-step floating catchment access (Luo & Qi 2009) to a prefecture-level
    resource published as a rate per 1,000 residents (e.g. hospital beds).

    Supply: each prefecture's total ``S_k = rate_k · P_k / 1000`` (``P_k``: the census
    population of the whole prefecture), placed on its county-level units — ``districts``: on
    its urban districts in proportion to their population (where large hospitals are; an
    assumption), ``population``: on all its counties in proportion to population. Demand: the
    census population of every county-level unit on the network. Costs: the regional network's
    minutes (:func:`county_minutes`). Zones and weights: ``breaks`` (default 20/40/60 min) and
    ``weights`` (default 1, 0.68, 0.22 — Luo & Qi's weights on zones stretched from their
    30-minute to a 60-minute catchment). Result ``A_i · per`` (resources per ``per`` residents
    within reach); prefectures get the population-weighted mean of their member counties.
    An amount the context's :class:`Adjustments` site at a county (a what-if hospital's beds)
    is taken out of its prefecture's total before the placement and stands at that county.
    """
    from cocity.access.measures import enhanced_2sfca

    rate = ctx.values(supply, source)
    if rate is None:
        return pd.Series(np.nan, index=units)
    if placement not in ("districts", "population"):
        raise EvaluationError(t("eval.err.bad_param", kind="e2sfca", param="placement",
                                value=placement, allowed="districts, population"))
    minutes = county_minutes(ctx)
    ids = list(minutes.index)
    pop = ctx.population().reindex(ids).fillna(0.0)
    u = ctx.units
    county = u.loc[ids]
    cap = pd.Series(0.0, index=ids)
    for pref, rows in county.groupby("parent"):
        r = rate.get(pref, np.nan)
        if not np.isfinite(r):
            continue
        total = float(r) * float(ctx.population().get(pref, np.nan)) / 1000.0
        host = rows.index[rows["kind"] == "district"] if placement == "districts" else rows.index
        if len(host) == 0:
            host = rows.index
        sited = ctx.adjust.sited.get(supply, pd.Series(dtype=float)).reindex(rows.index)
        total -= float(sited.sum())
        share = pop[host] / pop[host].sum() if pop[host].sum() > 0 else 1.0 / len(host)
        cap[host] += total * share
        cap[rows.index] += sited.fillna(0.0)
    b = [20.0, 40.0, 60.0] if breaks is None else [float(v) for v in breaks]
    w = [1.0, 0.68, 0.22] if weights is None else [float(v) for v in weights]
    m = minutes.to_numpy(float, copy=True)
    m[m > b[-1]] = np.inf
    rows_i, cols_j = np.nonzero(np.isfinite(m))
    cost = sparse.csr_matrix((m[rows_i, cols_j], (rows_i, cols_j)), shape=m.shape)
    res = enhanced_2sfca(cost, pop.to_numpy(float), cap.to_numpy(float), breaks=b, weights=w,
                         demand_ids=ids, supply_ids=ids)
    acc = pd.Series(np.asarray(res.access, dtype=float).ravel() * per, index=ids)
    if level == "county":
        return acc.reindex(units).astype(float)
    out = {}
    allpop = ctx.population()
    for code in units:
        mm = [c for c in ctx.members(code) if c in acc.index]
        out[code] = _weighted_mean(acc.reindex(mm), allpop.reindex(mm))
    return pd.Series(out, dtype=float).reindex(units)


@measure("survey")
def survey_score(ctx: Context, level: str, units: list[str], *,
                 domain: str) -> pd.Series:
    """The design-weighted satisfaction score (0–100) of a survey domain
    (:func:`cocity.evaluate.survey.estimate`); prefectures pool their counties' respondents.
    A unit without responses gets NaN (reported, then imputed by the pipeline's rule)."""
    est = survey_estimates(ctx, level)
    if est is None:
        return pd.Series(np.nan, index=units)
    sel = est[est["domain"] == domain].set_index("group")["score"]
    return sel.reindex(units).astype(float)


def survey_estimates(ctx: Context, level: str) -> pd.DataFrame | None:
    """Survey estimates of every domain at ``level`` (cached), or None without a survey."""
    if ctx.survey is None:
        return None
    key = f"survey:{level}"
    if key not in ctx.cache:
        from cocity.evaluate.survey import estimate

        groups = None
        if level == "prefecture":
            u = ctx.units
            county = u[u["level"] == "county"]
            groups = dict(zip(county.index, county["parent"].astype(str), strict=True))
        ctx.cache[key] = estimate(ctx.survey, groups=groups)
    return ctx.cache[key]
