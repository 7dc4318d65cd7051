"""Benchmark: the location models (cocity.plan.location) against PySAL spopt with CBC.

Run: ``python benchmarks/bench_location.py [--demand 400] [--candidates 60] [--p 8]
[--radius 15] [--cover 25] [--seed 2026] [--repeat 1] [--models p-median …]``.

One random instance (seeded through ``numpy.random.SeedSequence(seed).spawn(3)``: demand points
and candidates uniform in a 100 × 100 square, integer weights 1–99 — timing inputs, not data),
Euclidean costs rounded to 0.1 (travel-time-like, with ties). For each of the four models the
same cost matrix goes to ours (HiGHS, :mod:`cocity.plan.location`) and to spopt 0.7
(``from_cost_matrix`` + ``solve(pulp.PULP_CBC_CMD(msg=False))``, model building included, as a
user would call it); the medians of ``--repeat`` runs are printed with their ratio, and both
objectives are recomputed exactly from each solution's open candidates and must agree (the
benchmark stops with an error otherwise). Also the embedded region (142 county-level units,
p = 1 and p = 8) with ours alone.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from timing import timed


def instance(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    demand_rng, site_rng, weight_rng = (np.random.default_rng(s)
                                        for s in np.random.SeedSequence(seed).spawn(3))
    demand = demand_rng.uniform(0, 100, (n, 2))
    sites = site_rng.uniform(0, 100, (m, 2))
    cost = np.round(np.linalg.norm(demand[:, None, :] - sites[None, :, :], axis=2), 1)
    return cost, weight_rng.integers(1, 100, n).astype(float)


def value(model: str, cost: np.ndarray, w: np.ndarray, open_: list[int] | np.ndarray,
          radius: float) -> float:
    """A solution's objective recomputed from its open candidates."""
    sel = list(open_)
    near = cost[:, sel].min(axis=1)
    if model == "p-median":
        return float(w @ near)
    if model == "p-centre":
        return float(near.max())
    if model == "mclp":
        return float(w[near <= radius].sum())
    return float(len(sel))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--demand", type=int, default=400)
    ap.add_argument("--candidates", type=int, default=60)
    ap.add_argument("--p", type=int, default=8)
    ap.add_argument("--radius", type=float, default=15.0, help="MCLP radius")
    ap.add_argument("--cover", type=float, default=25.0, help="LSCP radius")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per timing (spopt's p-centre alone takes minutes)")
    ap.add_argument("--models", nargs="+", default=["p-median", "p-centre", "mclp", "lscp"])
    args = ap.parse_args()

    import pulp
    from spopt.locate import LSCP, MCLP, PCenter, PMedian

    from cocity.plan.location import lscp, mclp, p_centre, p_median

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    cost, w = instance(args.demand, args.candidates, args.seed)
    p, r, cover = args.p, args.radius, args.cover
    ours = {"p-median": lambda: p_median(cost, weights=w, p=p),
            "p-centre": lambda: p_centre(cost, p=p),
            "mclp": lambda: mclp(cost, weights=w, p=p, radius=r),
            "lscp": lambda: lscp(cost, radius=cover)}
    theirs = {"p-median": lambda: PMedian.from_cost_matrix(cost, w, p),
              "p-centre": lambda: PCenter.from_cost_matrix(cost, p),
              "mclp": lambda: MCLP.from_cost_matrix(cost, w, r, p),
              "lscp": lambda: LSCP.from_cost_matrix(cost, cover)}
    print(f"instance: {args.demand} demand × {args.candidates} candidates, p = {p}, "
          f"MCLP radius {r:g}, LSCP radius {cover:g}, seed {args.seed}, "
          f"median of {args.repeat}")
    print(f"{'model':<10}{'ours (s)':>10}{'spopt+CBC (s)':>15}{'ratio':>8}"
          f"{'objective':>16}{'equal':>7}")
    failed = []
    total_ours = total_theirs = 0.0
    for name in args.models:
        t_ours, res = timed(ours[name], args.repeat)
        t_theirs, model = timed(lambda n=name: theirs[n]().solve(
            pulp.PULP_CBC_CMD(msg=False)), args.repeat)
        spopt_open = [j for j, v in enumerate(model.fac_vars) if v.value() > 0.5]
        mine = value(name, cost, w, res.chosen, r)
        ref = value(name, cost, w, spopt_open, r)
        equal = bool(np.isclose(mine, ref, rtol=1e-12)) and res.optimal
        failed += [] if equal else [name]
        total_ours += t_ours
        total_theirs += t_theirs
        print(f"{name:<10}{t_ours:>10.3f}{t_theirs:>15.3f}{t_theirs / t_ours:>7.1f}×"
              f"{mine:>16,.1f}{'yes' if equal else 'NO':>7}")
    print(f"{'together':<10}{total_ours:>10.3f}{total_theirs:>15.3f}"
          f"{total_theirs / total_ours:>7.1f}×")

    from cocity.datasets import open_store
    from cocity.plan.region import load_region

    region = load_region(open_store())
    t, pop = region.minutes, region.population
    print(f"\nembedded region: {len(region.codes)} county-level units (ours only)")
    for k in (1, 8):
        for name, fn in (("p-median", lambda k=k: p_median(t, weights=pop, p=k)),
                         ("p-centre", lambda k=k: p_centre(t, p=k)),
                         ("mclp", lambda k=k: mclp(t, weights=pop, p=k, radius=90)),
                         ("lscp", lambda: lscp(t, radius=90))):
            sec, res = timed(fn, args.repeat)
            print(f"  p = {k}  {name:<10}{sec:>8.3f} s  optimal={res.optimal}")
    if failed:
        raise SystemExit(f"objectives differ from spopt's for: {', '.join(failed)}")


if __name__ == "__main__":
    main()
