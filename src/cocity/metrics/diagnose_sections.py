"""The cross-section sections of ``cocity diagnose`` on the analysed units (by default the 144
county-level units of the circle): inequality, convergence, spatial autocorrelation, and the
people–circle coupling.

Random computations (the permutation tests of the Theil and Dagum between-group components,
Moran's I and LISA) draw from independent streams spawned from the spec's one ``seed``
(:mod:`cocity.metrics.streams`): for indicator ``i`` and year ``y`` (positions in the spec's
lists, ``Y`` years), task ``k = i·Y + y`` uses stream ``2k`` (Theil; Moran's I) and ``2k + 1``
(Dagum; LISA) of its section.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cocity.i18n import LANGS
from cocity.metrics import convergence as conv
from cocity.metrics import inequality as ineq
from cocity.metrics import people_circle as pc
from cocity.metrics import spatial, weights
from cocity.metrics.diagnose_context import SEP, Context
from cocity.metrics.diagnose_result import (
    ConvergenceResult,
    InequalityResult,
    PeopleCircleResult,
    SpatialResult,
)


def _none_nan(value: float | None) -> float:
    """An optional statistic as a float column entry (``None`` becomes ``NaN``; every such
    case is explained by a note or by the column's documented meaning)."""
    return float("nan") if value is None else float(value)


def _front(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return frame[cols + [c for c in frame.columns if c not in cols]]


def lorenz(y: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    """Population-weighted Lorenz curve: cumulative population share against cumulative
    share of ``Σ p y``, units sorted by ``y``; starts at (0, 0), ends at (1, 1)."""
    order = np.argsort(y, kind="stable")
    py = (p * y)[order]
    return pd.DataFrame({
        "pop_share": np.concatenate([[0.0], np.cumsum(p[order]) / p.sum()]),
        "value_share": np.concatenate([[0.0], np.cumsum(py) / py.sum()]),
    })


# ----------------------------------------------------------------------------- inequality
def run_inequality(ctx: Context, scope: pd.DataFrame, groups: pd.Series) -> InequalityResult:
    cfg = ctx.spec.inequality
    years = ctx.spec.years
    rngs = ctx.streams.generators("inequality", 2 * len(ctx.spec.indicators) * len(years))
    rows, t_groups, d_groups, d_pairs, lorenzes = [], [], [], [], []
    used: set[str] = set()
    for i, ind in enumerate(ctx.spec.indicators):
        names = ctx.indicator(ind, "inequality")
        for j, year in enumerate(years):
            task = i * len(years) + j
            y = ctx.series("inequality", ind, year, scope)
            p = ctx.series("inequality", ctx.spec.population, year, scope)
            units = y.index.intersection(p.index).intersection(groups.index)
            y, p, g = y[units], p[units], groups[units]
            if g.nunique() < 2:
                # e.g. 2010 county data withheld for all but one group (the national base)
                ctx.note("inequality", "diagnose.note.too_few_groups", indicator=names,
                         year=year, n=len(y), groups=int(g.nunique()))
                continue
            used |= set(units)
            sizes = g.value_counts()
            single = sorted(sizes.index[sizes == 1])
            if single and cfg.min_group_size == 1:
                ctx.note("inequality", "diagnose.note.single_group",
                         groups={lg: ", ".join(ctx.group_label(s, lg) for s in single)
                                 for lg in LANGS})
            if len(y) and float(np.ptp(y.to_numpy())) == 0.0:
                ctx.note("inequality", "diagnose.note.all_equal", indicator=names, year=year)
            with ctx.guard("inequality", ind, year):
                gini_w = ineq.gini(y, p)
                gini_u = ineq.gini(y)
                th = ineq.theil_decomposition(y, g, p, index=cfg.theil,
                                              permutations=cfg.permutations,
                                              seed=rngs[2 * task])
                dg = ineq.dagum_decomposition(y, g, p, min_group_size=cfg.min_group_size,
                                              permutations=cfg.permutations,
                                              seed=rngs[2 * task + 1])
                wcv = ineq.williamson_cv(y, p)
            rows.append({
                "indicator": ind, "year": year, "n": len(y), "n_groups": int(g.nunique()),
                "mean": float(np.dot(p, y) / p.sum()), "gini": gini_w,
                "gini_unweighted": gini_u, "theil": th.total,
                "theil_between": th.between, "theil_within": th.within,
                "theil_between_share": th.between_share,
                "theil_p_value": _none_nan(th.p_value),
                "dagum_gini": dg.gini, "dagum_within": dg.within,
                "dagum_net_between": dg.net_between,
                "dagum_transvariation": dg.transvariation,
                "dagum_within_pct": float(dg.contributions["within"]),
                "dagum_net_between_pct": float(dg.contributions["net_between"]),
                "dagum_transvariation_pct": float(dg.contributions["transvariation"]),
                "dagum_p_value": _none_nan(dg.p_value),
                "williamson_cv": wcv,
            })
            key: dict[str, Any] = {"indicator": ind, "year": year}
            t_groups.append(th.groups.reset_index().assign(**key))
            d_groups.append(dg.groups.reset_index().assign(**key))
            d_pairs.append(dg.pairs.assign(**key))
            lorenzes.append(lorenz(y.to_numpy(float), p.to_numpy(float)).assign(**key))
    first = ["indicator", "year"]
    ctx.cover("inequality", ctx.spec.level, sorted(used))

    def stacked(parts: list[pd.DataFrame]) -> pd.DataFrame:
        return _front(pd.concat(parts, ignore_index=True), first) if parts else \
            pd.DataFrame(columns=first)

    return InequalityResult(pd.DataFrame(rows), stacked(t_groups), stacked(d_groups),
                            stacked(d_pairs), stacked(lorenzes))


# ----------------------------------------------------------------------------- convergence
def run_convergence(ctx: Context, scope: pd.DataFrame) -> ConvergenceResult:
    cfg = ctx.spec.convergence
    years = tuple(int(y) for y in cfg.years)
    measure = cfg.sigma
    sig_rows, trend_rows, beta_rows, pts = [], [], [], []
    unbalanced: dict[tuple[str, ...], list[dict[str, str]]] = {}
    used: set[str] = set()
    if len(years) == 2:
        ctx.note("convergence", "diagnose.note.two_years", start=years[0], end=years[1])
    for ind in ctx.spec.indicators:
        names = ctx.indicator(ind, "convergence")
        panel = pd.DataFrame({y: ctx.series("convergence", ind, y, scope) for y in years})
        pop = pd.DataFrame({y: ctx.series("convergence", ctx.spec.population, y, scope)
                            for y in years}).reindex(panel.index)
        incomplete = list(panel.index[panel.isna().any(axis=1) | pop.isna().any(axis=1)])
        if incomplete:
            unbalanced.setdefault(tuple(incomplete), []).append(dict(names))
        keep = panel.index.difference(pd.Index(incomplete))
        panel, pop = panel.loc[keep], pop.loc[keep]
        used |= set(keep)
        with ctx.guard("convergence", ind):
            for y in years:
                col, w = panel[y].to_numpy(float), pop[y].to_numpy(float)
                if measure == "cv":
                    value = ineq.williamson_cv(col, w)
                elif measure == "gini":
                    value = ineq.gini(col, w)
                else:
                    value = ineq.theil(col, w, index="T")
                sig_rows.append({"indicator": ind, "year": y, "n": len(col),
                                 "measure": measure, "sigma": value})
            if len(years) >= 3:
                sc = conv.sigma_convergence(panel, measure=measure, p=pop)
                trend_rows.append({"indicator": ind, "slope": sc.slope, "se": sc.stderr,
                                   "t_stat": sc.t_stat, "p_value": sc.p_value,
                                   "r2": sc.r2, "converging": sc.converging})
            b = conv.beta_convergence(panel, start=years[0], end=years[-1])
        if b.half_life is None:
            ctx.note("convergence", "diagnose.note.no_half_life", indicator=names,
                     beta=f"{b.beta:.4f}")
        beta_rows.append({
            "indicator": ind, "n": b.nobs, "start": years[0], "end": years[-1],
            "beta": b.beta, "se": b.se, "t_stat": b.t_stat, "p_value": b.p_value,
            "alpha": b.alpha, "r2": b.r2, "horizon": b.horizon,
            "speed": _none_nan(b.speed), "half_life": _none_nan(b.half_life),
            "converging": b.converging})
        y0, y1 = panel[years[0]].to_numpy(float), panel[years[-1]].to_numpy(float)
        pts.append(pd.DataFrame({
            "indicator": ind, "unit": panel.index.astype(str), "y0": y0, "y1": y1,
            "ln_y0": np.log(y0), "growth": (np.log(y1) - np.log(y0)) / b.horizon}))
    for codes, names_list in unbalanced.items():
        ctx.note("convergence", "diagnose.note.unbalanced",
                 indicators={lg: SEP[lg].join(n[lg] for n in names_list) for lg in LANGS},
                 n=len(codes), units=ctx.names(list(codes)))
    ctx.cover("convergence", ctx.spec.level, sorted(used))
    return ConvergenceResult(
        years, measure, pd.DataFrame(sig_rows),
        pd.DataFrame(trend_rows, columns=["indicator", "slope", "se", "t_stat", "p_value",
                                          "r2", "converging"]),
        pd.DataFrame(beta_rows), pd.concat(pts, ignore_index=True))


# ----------------------------------------------------------------------------- spatial
def run_spatial(ctx: Context, scope: pd.DataFrame, geo: gpd.GeoDataFrame) -> SpatialResult:
    cfg = ctx.spec.spatial
    years = ctx.spec.years
    rngs = ctx.streams.generators("spatial", 2 * len(ctx.spec.indicators) * len(years))
    with_geom = geo.set_index("code")
    shapeless = [c for c in scope.index if c not in with_geom.index]
    if shapeless:
        ctx.note("spatial", "diagnose.note.no_geometry", n=len(shapeless),
                 units=ctx.names(shapeless))
    cache: dict[tuple[str, ...], weights.SpatialWeights] = {}
    moran_rows, lisa = [], []
    first: weights.SpatialWeights | None = None
    used: set[str] = set()
    for j, year in enumerate(years):
        for i, ind in enumerate(ctx.spec.indicators):
            task = i * len(years) + j
            y = ctx.series("spatial", ind, year, scope)
            ids = tuple(c for c in y.index if c in with_geom.index)
            with ctx.guard("spatial", ind, year):
                if ids not in cache:
                    cache[ids] = weights.contiguity(
                        geo[geo["code"].isin(ids)].set_index("code").loc[list(ids)]
                        .reset_index(), cfg.contiguity, snap=cfg.snap, islands=cfg.islands)
                w = cache[ids]
                if w.joined_islands:
                    ctx.note("spatial", "diagnose.note.islands_joined",
                             n=len(w.joined_islands), units=ctx.names(list(w.joined_islands)))
                if w.n_components > 1:
                    ctx.note("spatial", "diagnose.note.components", n=w.n_components)
                yw = y[list(w.ids)]
                m = spatial.moran(yw, w, permutations=cfg.permutations, seed=rngs[2 * task])
                lm = spatial.local_moran(yw, w, permutations=cfg.permutations,
                                         seed=rngs[2 * task + 1], alpha=cfg.alpha)
            used |= set(w.ids)
            if first is None:
                first = w
            moran_rows.append({
                "indicator": ind, "year": year, "n": m.n, "I": m.value,
                "expected": m.expected, "z_norm": _none_nan(m.z_norm),
                "p_norm": _none_nan(m.p_norm), "p_sim": _none_nan(m.p_sim),
                "z_sim": _none_nan(m.z_sim), "permutations": m.permutations})
            cols = ["value", "I", "quadrant", "p_sim" if m.permutations else "p_rand",
                    "cluster"]
            lisa.append(lm.table[cols].rename(columns={"p_rand": "p_sim"})
                        .reset_index().assign(indicator=ind, year=year))
    assert first is not None
    links = first.to_frame()[["focal", "neighbour"]]
    ctx.cover("spatial", ctx.spec.level, sorted(used))
    return SpatialResult(cfg.contiguity, first.summary(), pd.DataFrame(moran_rows),
                         _front(pd.concat(lisa, ignore_index=True), ["indicator", "year"]),
                         links)


# ----------------------------------------------------------------------------- people–circle
def run_people_circle(ctx: Context) -> PeopleCircleResult:
    spec = ctx.spec.people_circle_spec
    with ctx.guard("people_circle"):
        panel = pc.people_circle_panel(ctx.store, spec)
        scores = pc.people_circle(panel, spec)
    lost = panel.index.difference(scores.index)
    if len(lost):
        for year in sorted({int(y) for _, y in lost}):
            codes = [str(u) for u, y in lost if int(y) == year]
            ctx.note("people_circle", "diagnose.note.pc_dropped", year=year,
                     n=len(codes), units=ctx.names(codes))
    imputed = scores.filter(like="imputed_").sum(axis=1)
    if int(imputed.sum()):
        ctx.note("people_circle", "diagnose.note.pc_imputed", cells=int(imputed.sum()),
                 rows=int((imputed > 0).sum()))
    scores = scores.reset_index()
    scores["unit"] = scores["unit"].astype(str)
    scores["year"] = scores["year"].astype(int)
    summary = scores.groupby("year")["D"].agg(
        n="count", mean_D="mean", median_D="median", min_D="min", max_D="max").reset_index()
    grades = (scores.groupby(["year", "grade", "grade_zh", "grade_en"]).size()
              .rename("n").reset_index())
    ctx.cover("people_circle", spec.data.level, sorted(set(scores["unit"])))
    return PeopleCircleResult(spec.name_zh, spec.name_en, scores, summary, grades)
