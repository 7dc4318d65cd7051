"""The prefecture-level sections of ``cocity diagnose``: division of labour, the linkage
network and polycentricity.

These sections compare the 16 prefecture-level units of the circle. Four of them lie only
partly in it — Chongqing (500100, the whole municipality, of which 27 districts/counties in
full and parts of 开州 and 云阳 belong to the circle), 绵阳, 达州 and 雅安 — and with
``partial_units: in_circle`` each enters by its in-circle part: residents summed over its
member counties, sector shares weighted by their residents
(:meth:`~cocity.metrics.diagnose_context.Context.series`), its GDP — which exists only for
whole units — scaled by its in-circle share of residents (``network.partial_gdp``), and its
representative point the population-weighted centre of its member counties
(``network.points``). Every such choice is stated by a note.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from cocity.i18n import LANGS, t
from cocity.metrics import incircle, structure
from cocity.metrics import network as net
from cocity.metrics import polycentricity as poly
from cocity.metrics import quantities as qty
from cocity.metrics.diagnose_context import Context
from cocity.metrics.diagnose_result import NetworkResult, PolycentricityResult, StructureResult
from cocity.metrics.errors import DiagnoseError


# ----------------------------------------------------------------------------- structure
def run_structure(ctx: Context) -> StructureResult:
    cfg = ctx.spec.structure
    level = cfg.level
    year = int(cfg.year if cfg.year is not None else ctx.spec.main_year)
    units = ctx.scope_units(level)
    prefix = cfg.sector_prefix
    sectors = [c for c in ctx.catalog.index if str(c).startswith(prefix)]
    if not sectors:
        raise DiagnoseError(t("diagnose.err.no_sectors", prefix=prefix))
    obs = ctx.store.observations(sectors, [year], level)
    shares = (obs.assign(unit=obs["unit"].astype(str))
              .pivot(index="unit", columns="indicator", values="value")
              .reindex(index=units.index, columns=sectors).astype(float))
    whole: dict[str, set[str]] = {}
    if ctx.in_circle(level):
        part = [c for c in units.index if units.at[c, "membership"] == "partial"]
        for sector in sectors:
            values, lacking = ctx.in_circle_values(sector, year, part)
            shares.loc[values.index, sector] = values
            have = shares[sector].notna()
            whole[sector] = {c for c in lacking if bool(have.get(c, False))}
    empty = list(shares.index[shares.isna().all(axis=1)])
    if len(empty) == len(shares):
        raise DiagnoseError(t("diagnose.err.no_data", indicator=prefix + "*", year=year,
                              level=t(f"level.{level}")))
    if empty:
        ctx.note("structure", "diagnose.note.dropped_units", indicator=prefix + "*",
                 year=year, n=len(empty), units=ctx.names(empty))
        shares = shares.drop(index=empty)
    gaps = [c for c in shares.columns if shares[c].isna().any()]
    if gaps:
        if cfg.missing_sectors == "raise":
            raise DiagnoseError(t("diagnose.err.sector_gaps", sectors=", ".join(gaps),
                                  year=year))
        for c in gaps:
            ctx.note("structure", "diagnose.note.sector_dropped",
                     indicator=ctx.indicator(c, "structure"), year=year,
                     n=int(shares[c].isna().sum()), of=len(shares))
        shares = shares.drop(columns=gaps)
    kept_whole = sorted(set().union(*(whole.get(c, set()) for c in shares.columns)))
    if kept_whole:
        ctx.note("structure", "diagnose.note.partial_sectors_whole", year=year,
                 units=ctx.names(kept_whole))
    totals = ctx.series("structure", cfg.totals, year, units.loc[shares.index])
    shares = shares.loc[totals.index]
    ctx.note("structure", "diagnose.note.counts_proxy",
             totals=ctx.indicator(cfg.totals, "structure"), year=year)
    h = cfg.homogeneous
    with ctx.guard("structure"):
        counts = structure.counts_from_shares(shares, totals)
        lq = structure.location_quotients(counts, empty_sectors="drop")
        krugman = structure.krugman_vs_rest(counts)
        pairwise = structure.krugman_pairwise(counts)
        sim = structure.structural_similarity(counts)
        excluded = [c for c in counts.columns
                     if c in h.exclude_sectors or c.removeprefix(prefix) in h.exclude_sectors]
        homog = structure.homogeneous_competition(counts.drop(columns=excluded),
                                                  method=h.method, k=h.k,
                                                  threshold=h.threshold,
                                                  shared_lq=h.shared_lq)
        by_lang = {lg: structure.classify_roles(counts, population=totals,
                                                rules=ctx.spec.role_rules, lang=lg)
                   for lg in LANGS}
    roles = by_lang["zh"].copy()
    for col in ("tier_label", "tier_reason", "pole_labels", "pole_reasons", "role_label"):
        roles = roles.rename(columns={col: f"{col}_zh"})
        roles[f"{col}_en"] = by_lang["en"][col]
    roles.insert(0, "plan_tier", ctx.units.loc[roles.index, "tier"].fillna("").astype(str))
    roles.index.name = "unit"
    ctx.cover("structure", level, list(shares.index))
    return StructureResult(year, level, tuple(shares.columns), shares, lq, krugman,
                           pairwise, sim, homog, tuple(excluded), roles)


# ----------------------------------------------------------------------------- network
def _points(ctx: Context, units: pd.DataFrame, year: int) -> pd.DataFrame:
    """Each unit's representative point: its own, or (``points: in_circle``) the
    population-weighted centre of its member counties."""
    pts = units[["lon", "lat"]].astype(float)
    if ctx.spec.network.points != "in_circle":
        return pts
    members = incircle.member_counties(ctx.units, list(units.index))
    pop = ctx.store.observations([ctx.spec.population], [year], "county")
    w = pop.assign(unit=pop["unit"].astype(str)).set_index("unit")["value"]
    centres = incircle.weighted_points(ctx.units, members, w)
    moved = [c for c in centres.index if c in pts.index]
    pts.loc[moved] = centres.loc[moved, ["lon", "lat"]].to_numpy()
    part = [c for c in moved if units.at[c, "membership"] == "partial"]
    if part:
        old = units.loc[part, ["lon", "lat"]].astype(float).to_numpy()
        new = pts.loc[part, ["lon", "lat"]].to_numpy()
        km = {c: float(net.great_circle_km(pd.DataFrame(
            np.vstack([old[i], new[i]]), columns=["lon", "lat"])).to_numpy()[0, 1])
            for i, c in enumerate(part)}
        ctx.note("network", "diagnose.note.points_in_circle", units={
            lg: qty_list(ctx, km, lg) for lg in LANGS})
    return pts


def qty_list(ctx: Context, km: dict[str, float], lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    return sep.join(t("diagnose.note.moved_km", lang, unit=ctx.units.at[c, f"name_{lang}"],
                      km=qty.human(v, sig=2)) for c, v in km.items())


def _gdp_in_circle(ctx: Context, units: pd.DataFrame, P: pd.Series,
                   G: pd.Series) -> pd.Series:
    """GDP of the partly-in-circle units: their member counties' sum where county GDP
    exists, else (``partial_gdp: population_share``) the whole unit's GDP times its in-circle
    share of residents, else the whole unit's GDP — each case with a note."""
    cfg = ctx.spec.network
    part = [c for c in G.index if units.at[c, "membership"] == "partial"]
    if not part or not ctx.in_circle(cfg.level):
        return G
    G = G.copy()
    values, lacking = ctx.in_circle_values(cfg.gdp.indicator, cfg.gdp.year, part, how="sum")
    G.update(values)
    rest = [c for c in lacking if c in G.index and c in P.index]
    if not rest:
        return G
    gdp_name = ctx.indicator(cfg.gdp.indicator, "network")
    if cfg.partial_gdp == "whole":
        ctx.note("network", "diagnose.note.partial_gdp_whole", indicator=gdp_name,
                 units=ctx.names(rest))
        return G
    whole = ctx.series("network", cfg.population.indicator, cfg.population.year,
                       units.loc[rest], partial=False)
    share = (P[rest] / whole.reindex(rest)).dropna()
    G[share.index] = G[share.index] * share
    ctx.note("network", "diagnose.note.partial_gdp_share", indicator=gdp_name, units={
        lg: ("、" if lg == "zh" else ", ").join(
            f"{ctx.units.at[c, f'name_{lg}']!s} {qty.percent(v, 1, scale=100)}"
            for c, v in share.items()) for lg in LANGS})
    return G


def run_network(ctx: Context) -> NetworkResult | None:
    cfg = ctx.spec.network
    level = cfg.level
    units = ctx.scope_units(level)
    P = ctx.series("network", cfg.population.indicator, cfg.population.year, units)
    G = ctx.series("network", cfg.gdp.indicator, cfg.gdp.year, units, partial=False)
    G = _gdp_in_circle(ctx, units, P, G)
    pts = _points(ctx, units, cfg.population.year)
    nowhere = list(pts.index[pts.isna().any(axis=1)])
    if nowhere:
        ctx.note("network", "diagnose.note.no_point", n=len(nowhere),
                 units=ctx.names(nowhere))
    keep = P.index.intersection(G.index).intersection(pts.dropna().index)
    P, G, pts = P[keep], G[keep], pts.loc[keep]
    pop_unit, gdp_unit = ctx.unit_of(cfg.population.indicator), ctx.unit_of(cfg.gdp.indicator)
    if pop_unit["zh"] == "人":  # persons → 万人, the unit of the gravity literature
        P, pop_unit = P / qty.POP_SCALE, dict(qty.POP_UNIT)
    if len(keep) <= max(3, cfg.top_k or 0) + 1:
        # too few units for a core–periphery structure (every unit linked to every other)
        ctx.note("network", "diagnose.note.network_small", n=len(keep),
                 need=max(3, cfg.top_k or 0) + 2)
        return None
    with ctx.guard("network"):
        D = net.great_circle_km(pts)
        R = net.gravity_linkage(P, G, D, b=cfg.decay)
        total = net.total_linkage(R)
        F = net.economic_affiliation(R)
        graph = net.linkage_network(R, top_k=cfg.top_k)
        summary = net.network_summary(graph)
        cent = net.centralities(graph)
        cp = net.core_periphery(graph, weight=None if cfg.core_periphery == "binary"
                                else "weight")
    Fv = F.to_numpy().copy()
    partner = F.columns[np.argmax(Fv, axis=1)]
    table = pd.DataFrame({
        "population": P, "gdp": G, "total_linkage": total,
        "linkage_rank": total.rank(ascending=False, method="min").astype(int),
        "top_partner": np.asarray(partner, dtype=object),
        "top_affiliation": Fv.max(axis=1),
    }, index=keep).join(cent)
    table["coreness"] = cp.coreness.reindex(table.index)
    table["core"] = table.index.isin(cp.core)
    table["lon"], table["lat"] = pts["lon"], pts["lat"]
    table.index.name = "unit"
    edges = pd.DataFrame([{"a": a, "b": b, "weight": float(w)}
                          for a, b, w in graph.edges(data="weight")],
                         columns=["a", "b", "weight"])
    Dm = D.to_numpy()
    pos = {u: i for i, u in enumerate(D.index)}
    edges["distance_km"] = [float(Dm[pos[a], pos[b]])
                            for a, b in zip(edges["a"], edges["b"], strict=True)]
    edges = edges.sort_values("weight", ascending=False, kind="stable").reset_index(drop=True)
    unit = qty.gravity_unit(pop_unit, gdp_unit, cfg.decay)
    _explain_core(ctx, table, edges, [str(c) for c in cp.core], unit)
    ctx.cover("network", level, list(keep))
    return NetworkResult(level, P, G, pts, D, R, table, edges, summary, graph,
                         [str(c) for c in cp.core], float(cp.fit), cfg.core_periphery,
                         unit, pop_unit, gdp_unit)


def _explain_core(ctx: Context, table: pd.DataFrame, edges: pd.DataFrame, core: list[str],
                  unit: dict[str, str]) -> None:
    """A note for each unit the plan makes a core city but the network puts outside the
    core: its coreness, its strongest link against the strongest link of the core."""
    plan_core = [c for c in table.index
                 if ctx.units.at[c, "tier"] == "core" and c not in core]
    if not plan_core or edges.empty:
        return
    inner = edges[edges["a"].isin(core) & edges["b"].isin(core)]
    top = inner.iloc[0] if len(inner) else edges.iloc[0]
    for c in plan_core:
        own = edges[(edges["a"] == c) | (edges["b"] == c)]
        if own.empty:
            continue
        best = own.iloc[0]
        partner = best["b"] if best["a"] == c else best["a"]
        ctx.note("network", f"diagnose.note.core_outside_{ctx.spec.network.core_periphery}",
                 unit={lg: str(ctx.units.at[c, f"name_{lg}"]) for lg in LANGS},
                 coreness=qty.fixed(table.at[c, "coreness"], 3),
                 core={lg: "、".join(str(ctx.units.at[u, f"name_{lg}"]) for u in core)
                       if lg == "zh" else ", ".join(str(ctx.units.at[u, f"name_{lg}"])
                                                    for u in core) for lg in LANGS},
                 pair={lg: f"{ctx.units.at[top['a'], f'name_{lg}']!s}–"
                           f"{ctx.units.at[top['b'], f'name_{lg}']!s}" for lg in LANGS},
                 weight=qty.human(top["weight"]), km=qty.human(top["distance_km"], sig=2),
                 partner={lg: str(ctx.units.at[partner, f"name_{lg}"]) for lg in LANGS},
                 own=qty.human(best["weight"]), own_km=qty.human(best["distance_km"], sig=2),
                 degree=int(table["degree"].loc[c]), unit_of=unit)


# ----------------------------------------------------------------------------- polycentricity
def run_polycentricity(ctx: Context, graph: nx.Graph | None) -> PolycentricityResult:
    cfg = ctx.spec.polycentricity
    units = ctx.scope_units(cfg.level)
    sizes = ctx.series("polycentricity", cfg.size.indicator, cfg.size.year, units)
    n = len(sizes)
    which = [w for w in cfg.primacy if n >= {"s2": 2, "s4": 4, "s11": 11}[w]]
    for w in cfg.primacy:
        if w not in which:
            ctx.note("polycentricity", "diagnose.note.primacy_skipped", index=w.upper(), n=n)
    tops = [int(k) for k in cfg.tops if int(k) <= n]
    for k in cfg.tops:
        if int(k) > n:
            ctx.note("polycentricity", "diagnose.note.top_skipped", k=k, n=n)
    with ctx.guard("polycentricity"):
        primacy = poly.primacy_indices(sizes, which) if which else pd.Series(dtype=float)
        rs = poly.rank_size(sizes)
        morph = (poly.morphological_polycentricity(sizes, tops) if tops
                 else pd.Series(dtype=float))
        func = poly.functional_polycentricity(graph) if graph is not None else None
    if graph is None:
        ctx.note("polycentricity", "diagnose.note.no_functional")
    ctx.cover("polycentricity", cfg.level, list(sizes.index))
    return PolycentricityResult(sizes.sort_values(ascending=False), primacy, rs, morph, func,
                                ctx.unit_of(cfg.size.indicator))
