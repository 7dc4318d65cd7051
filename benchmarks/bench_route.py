"""Benchmark: the tourism-route solvers (cocity.plan.routing).

Run: ``python benchmarks/bench_route.py [--sizes 8 10 12] [--large 40] [--seeds 5]``.

1. Exact dynamic programming over subsets against OR-Tools (path cheapest arc + tabu search,
   stopped after ``--solutions`` solutions) on random instances the exact solver handles
   (one and two days; random places, windows and scores for timing only — not data — drawn
   from one seed through ``SeedSequence.spawn``): median seconds of each, their ratio
   (OR-Tools / exact) and how many times OR-Tools reached the exact optimum.
2. OR-Tools alone on the demo attractions over the regional network (the proposals' two days
   from Chengdu) and on a larger random instance: seconds and score, with the exact optimum
   where the instance is small enough, else only the OR-Tools figure.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from cocity.plan.routing import Day, Instance, solve_exact, solve_ortools


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    out = fn()
    return time.perf_counter() - began, out


def random_instance(rng: np.random.Generator, n: int, days: int) -> Instance:
    pts = rng.uniform(0, 120, (n + 1, 2))
    travel = np.rint(np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1)))
    opens = rng.integers(480, 660, n).astype(float)
    return Instance(travel=travel, score=rng.integers(1, 10, n).astype(float),
                    visit=rng.integers(20, 90, n).astype(float), opens=opens,
                    closes=opens + rng.integers(60, 480, n),
                    days=tuple(Day(0, 0, 480.0, 1080.0) for _ in range(days)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[8, 10, 12])
    ap.add_argument("--large", type=int, default=40)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--solutions", type=int, default=500)
    args = ap.parse_args()
    streams = iter(np.random.SeedSequence(20261203).spawn(len(args.sizes) * 2 * args.seeds + 1))
    print("1. exact DP vs OR-Tools (same instances)")
    print(f"{'n':>4} {'days':>4} {'exact s':>9} {'ortools s':>10} {'ratio':>7} {'optimum hit':>12}")
    for n in args.sizes:
        for days in (1, 2):
            te, to, hits = [], [], 0
            for _ in range(args.seeds):
                inst = random_instance(np.random.default_rng(next(streams)), n, days)
                t1, ex = timed(lambda inst=inst: solve_exact(inst))
                t2, ort = timed(lambda inst=inst: solve_ortools(
                    inst, solution_limit=args.solutions))
                te.append(t1)
                to.append(t2)
                hits += ort.score == ex.score
            me, mo = statistics.median(te), statistics.median(to)
            print(f"{n:>4} {days:>4} {me:>9.3f} {mo:>10.3f} {mo / me:>7.1f} "
                  f"{hits:>6}/{args.seeds}")

    print("\n2. OR-Tools alone")
    from cocity.datasets import open_store
    from cocity.plan.region import load_region
    from cocity.plan.route_inputs import Settings, read_attractions
    from cocity.plan.route_run import build_instance

    store = open_store()
    region = load_region(store, level="county")
    attractions = read_attractions(store, counties=region.codes)
    inst = build_instance(region, attractions, list(range(len(attractions))),
                          [("510105", "510105")] * 2, Settings())
    t, sol = timed(lambda: solve_ortools(inst, solution_limit=args.solutions))
    print(f"demo ({inst.n} attractions, 2 days from Qingyang): {t:.3f} s, score {sol.score:g} "
          f"({sol.status}; no exact reference at this size)")
    big = random_instance(np.random.default_rng(next(streams)), args.large, 3)
    t, sol = timed(lambda: solve_ortools(big, solution_limit=args.solutions))
    print(f"random ({args.large} attractions, 3 days): {t:.3f} s, score {sol.score:g}, "
          f"{len(sol.stops)} visits ({sol.status})")


if __name__ == "__main__":
    main()
