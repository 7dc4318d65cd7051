"""Benchmark: the national per-cluster run (every shipped cluster definition compared, each
cluster's run a task) serial, on a process pool of 2 and on Dask LocalClusters of 1 and 2
workers; the per-task costs; a projection to all of China's county-level units.

Run: ``python benchmarks/bench_cluster_tasks.py [--permutations 999] [--repeat 1]``.

Timed in the same run, on the same clusters and spec
(:func:`cocity.clusters.compare.compare_clusters`, ``--permutations`` for the inequality and
Moran tests, else the shipped default): ``serial``; ``processes`` with 2 workers; Dask with a
``LocalCluster`` of 1, then 2 single-threaded workers (no dashboard), each started before its
timing and closed after it, its start-up printed apart. The SHA-256 of the comparison table
and notes of every run are printed and must be equal.

Per-task costs come from the serial run: the progress callback is called as each cluster's
run ends, so the gaps between calls are the runs' times; a least-squares line
``seconds = a + b · units`` over the clusters gives a fixed cost per task ``a`` and a cost per
county-level unit ``b``.

Projection (printed, never measured): every province, or every prefecture-level unit, of the
national base as one task — its county-level units as the task's size, cost ``a + b · units``
plus the Dask overhead per task measured here (Dask 1 worker minus serial, per task) — on n
workers (n = 1, 2, 8, 32), scheduled longest first (LPT), makespan = the busiest worker.
Assumptions: cost linear in the units (permutation tests grow faster with size), workers as
fast as this machine's cores, data already on the workers, no failures. Prints; never asserts.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import os
import time
from typing import Any

import numpy as np
from scipy.optimize import nnls
from timing import local_cluster, timed

from cocity.clusters.compare import Comparison, compare_clusters
from cocity.clusters.definition import load_cluster, shipped
from cocity.datasets import read_units

WORKERS = (1, 2, 8, 32)


def digest(cmp: Comparison) -> str:
    h = hashlib.sha256()
    h.update(cmp.table.to_csv().encode())
    h.update(cmp.notes.to_csv().encode())
    return h.hexdigest()[:16]


def load() -> str:
    return f"load average {os.getloadavg()[0]:.2f}"


def per_task(clusters: list[Any], spec: dict[str, Any]) -> tuple[Comparison, list[float]]:
    """The serial run, and the seconds of each cluster's run (gaps between progress calls;
    a second round, when one is needed, adds its runs after the first eight)."""
    stamps = [time.perf_counter()]
    cmp = compare_clusters(clusters, spec=spec,
                           progress=lambda _done, _total: stamps.append(time.perf_counter()))
    return cmp, list(np.diff(stamps))


def lpt(costs: list[float], n: int) -> float:
    """Makespan of the tasks on ``n`` workers, longest task first to the least loaded."""
    loads = [0.0] * n
    for c in sorted(costs, reverse=True):
        heapq.heapreplace(loads, loads[0] + c)
    return max(loads)


def projection(a: float, b: float, overhead: float) -> None:
    units = read_units("china")
    counties = units[units["level"] == "county"]
    parents = units.set_index("code")
    prefecture_of = counties["parent"].astype(str)
    province_of = prefecture_of.map(
        lambda p: p if parents.at[p, "level"] == "province" else str(parents.at[p, "parent"]))
    print(f"projection to the national base's {len(counties)} county-level units "
          f"(cost = {a:.2f} s + {b * 1000:.1f} ms × units + {overhead:.2f} s Dask overhead "
          "per task; LPT on n workers):")
    for name, groups in (("province", province_of), ("prefecture", prefecture_of)):
        sizes = groups.value_counts().to_numpy()
        costs = [a + b * s + overhead for s in sizes]
        cells = "  ".join(f"n={n}: {lpt(costs, n):8.1f} s" for n in WORKERS)
        print(f"  every {name} a task ({len(sizes)} tasks, largest {sizes.max()} units):  "
              f"{cells}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--permutations", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    spec: dict[str, Any] = {}
    if args.permutations is not None:
        spec = {"inequality": {"permutations": args.permutations},
                "spatial": {"permutations": args.permutations}}
    clusters = [load_cluster(k) for k in shipped()]
    compare_clusters(clusters[:2], spec=spec)  # warm: numba's cache, file caches
    print(f"{len(clusters)} shipped clusters, cores: {os.cpu_count()}, {load()}")

    t_serial, (cmp, costs) = timed(lambda: per_task(clusters, spec), args.repeat)
    units = np.array([cmp.value("counties", c.key) for c in clusters])
    print(f"serial                  {t_serial:7.2f} s  table+notes {digest(cmp)}  {load()}")
    t_pool, pool = timed(lambda: compare_clusters(clusters, spec=spec, executor="processes",
                                                  workers=2), args.repeat)
    print(f"processes, 2 workers    {t_pool:7.2f} s  table+notes {digest(pool)}  {load()}")
    times = {}
    for n in (1, 2):
        with local_cluster(n) as (local, start):
            times[n], res = timed(lambda c=local: compare_clusters(
                clusters, spec=spec, scheduler=c.scheduler_address), args.repeat)
        print(f"dask, {n} worker(s)       {times[n]:7.2f} s  table+notes {digest(res)}  "
              f"(cluster start {start:.1f} s)  {load()}")
    same = len({digest(cmp), digest(pool), digest(res)}) == 1
    print(f"checksums equal: {same}")
    print(f"processes(2) vs serial: {t_serial / t_pool:.2f}×;  dask 2 vs 1 worker: "
          f"{times[1] / times[2]:.2f}×;  dask 1 worker vs serial: {t_serial / times[1]:.2f}×")

    print("per task (serial run):")
    for c, cost, n_units in zip(clusters, costs, units, strict=False):
        print(f"  {c.key:18s} {int(n_units):4d} units  {cost:6.2f} s  "
              f"{1000 * cost / n_units:6.1f} ms/unit")
    if len(costs) > len(clusters):
        print(f"  second round: {len(costs) - len(clusters)} runs, "
              f"{sum(costs[len(clusters):]):.2f} s")
    first = np.array(costs[:len(clusters)])
    # cost = a + b·units by least squares with a, b ≥ 0: a noisy run (few, uneven tasks) can
    # tilt an unconstrained line below zero, which no task's cost does
    (a, b), _residual = nnls(np.column_stack([np.ones(len(first)), units]), first)
    print(f"  total {first.sum():.2f} s for {int(units.sum())} units: "
          f"{1000 * first.sum() / units.sum():.1f} ms/unit;  fit (a, b ≥ 0): {a:.2f} s per "
          f"task + {1000 * b:.1f} ms per unit")
    overhead = max(0.0, (times[1] - t_serial) / len(clusters))
    projection(a, b, overhead)


if __name__ == "__main__":
    main()
