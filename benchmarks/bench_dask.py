"""Benchmark: the same uncertainty analysis serial and on Dask LocalClusters of 1 and 2 workers.

Run: ``python benchmarks/bench_dask.py [--units 3000] [--replications 10000] [--repeat 3]``.

The job is :mod:`bench_index`'s (units × 60 indicators, a 4-level tree; normalisation,
top-level aggregation and weights uncertain). Each cluster (single-threaded worker processes,
no dashboard) is started before its timing and closed after it; its start-up time is printed
apart. Times are the median of ``--repeat`` runs; the speed-up of 2 workers is measured against
1 worker in the same run. The scores of every run are hashed and must be identical.
"""

from __future__ import annotations

import argparse
import hashlib
import os

import numpy as np
from bench_index import make, nominal, spec_for
from timing import local_cluster, timed

from cocity.index.uncertainty import UncertaintyResult, run_uncertainty


def digest(res: UncertaintyResult) -> str:
    return hashlib.sha256(np.ascontiguousarray(res.scores).tobytes()).hexdigest()[:16]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=3000)
    ap.add_argument("--replications", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    data, fw = make(args.units)
    pipe = nominal(data, fw)
    spec = spec_for(args.replications)
    print(f"{args.units} units × 60 indicators, cores: {os.cpu_count()}, "
          f"load average: {os.getloadavg()[0]:.2f}")
    t_serial, res = timed(lambda: run_uncertainty(pipe, spec, sobol=False), args.repeat)
    print(f"serial                 {t_serial:7.2f} s  {res.replications} replications  "
          f"scores {digest(res)}")
    times = {}
    for n in (1, 2):
        with local_cluster(n) as (cluster, start):
            times[n], res = timed(lambda c=cluster: run_uncertainty(
                pipe, spec, sobol=False, executor="dask", scheduler=c.scheduler_address),
                args.repeat)
        print(f"dask, {n} worker(s)       {times[n]:7.2f} s  (cluster start {start:.1f} s)  "
              f"scores {digest(res)}")
    print(f"speed-up 2 vs 1 worker: {times[1] / times[2]:.2f}×;  "
          f"dask 1 worker vs serial: {t_serial / times[1]:.2f}×")


if __name__ == "__main__":
    main()
