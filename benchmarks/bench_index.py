"""Benchmark: nominal composite-index build and uncertainty analysis, 3,000 units × 60 indicators.

Run: ``python benchmarks/bench_index.py [--units 3000] [--replications 10000] [--repeat 1]``.

1. Nominal build of a 3-level tree (60 indicators → 10 sub-dimensions → 3 dimensions → index)
   with every step: screen, impute, treat, normalise, entropy weights, aggregate.
2. Uncertainty analysis varying normalisation (3 choices), top-level aggregation (2 choices) and
   weights (100 perturbed sets, ±25 %), 10,240 replications (Saltelli N·(D+2), D = 3), Sobol'
   analysis included, against the 15 s target:

   - the engine with the kernels of :mod:`cocity.index.kernels` (one thread) on one core, and
     on a process pool of 2 workers;
   - the previous implementation, measured in the same run: the same engine with
     ``_kernels=False`` — numpy aggregation node by node and scipy's ``rankdata``, the code
     path before the kernels (results identical: every run's SHA-256 of scores, ranks, samples
     and Sobol' indices is printed and must be equal);
   - the baseline that rebuilds the pipeline once per replication, timed on a random subset
     of replications and scaled to the full count; the subset's scores are checked to be equal
     to the engine's.

numba's first use in a process (loading its compiled cache) is timed apart, on a small run
before the timings. Times are the median of ``--repeat`` runs, each printed with the load
average (the machine is shared: read the ratios, measured in the same run).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from typing import Any

import numpy as np
import pandas as pd
from timing import timed

from cocity.index.framework import Framework
from cocity.index.pipeline import Pipeline
from cocity.index.uncertainty import (
    UncertaintyResult,
    UncertaintySpec,
    rebuild_replication,
    run_uncertainty,
)

TARGET = 15.0


def make(units: int, seed: int = 0) -> tuple[pd.DataFrame, Framework]:
    # independent streams for the values and the missing cells (SeedSequence(seed).spawn)
    values_rng, missing_rng = (np.random.default_rng(s)
                               for s in np.random.SeedSequence(seed).spawn(2))
    nodes: list[dict[str, object]] = [{"code": "IDX"}]
    for d in range(3):
        nodes.append({"code": f"D{d}", "parent": "IDX", "weight": 1})
    for s in range(10):
        nodes.append({"code": f"S{s}", "parent": f"D{s % 3}", "weight": 1})
    for j in range(60):
        nodes.append({"code": f"x{j:02d}", "parent": f"S{j % 10}", "weight": 1,
                      "direction": 1 if j % 4 else -1})
    fw = Framework.from_records(nodes)
    data = pd.DataFrame(values_rng.lognormal(3, 0.5, size=(units, 60)), columns=fw.indicators,
                        index=pd.Index([f"u{i:05d}" for i in range(units)], name="unit"))
    data = data.mask(missing_rng.random(data.shape) < 0.02)  # 2 % missing
    return data, fw


def nominal(data: pd.DataFrame, fw: Framework) -> Pipeline:
    return (Pipeline(data, fw).screen(0.5).impute("median").treat("winsorise")
            .normalise("minmax", low=1, high=100).weight("entropy").aggregate())


def digest(res: UncertaintyResult) -> str:
    h = hashlib.sha256()
    for array in (res.scores, res.ranks, res.samples.to_numpy(float), res.sobol.to_numpy(float)):
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()[:16]


def spec_for(replications: int) -> UncertaintySpec:
    return UncertaintySpec.from_dict({
        "replications": replications, "seed": 11,
        "inputs": [
            {"step": "normalise", "choices": [{"method": "minmax", "low": 1, "high": 100},
                                              {"method": "rank"},
                                              {"method": "distance_max"}]},
            {"step": "aggregate", "level": 4, "choices": ["arithmetic", "geometric"]},
            {"step": "weights", "noise": 0.25, "sets": 100},
        ]})


def load() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=3000)
    ap.add_argument("--replications", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--baseline-sample", type=int, default=10)
    ap.add_argument("--no-previous", action="store_true",
                    help="skip the previous implementation (_kernels=False)")
    args = ap.parse_args()
    data, fw = make(args.units)

    t0 = time.perf_counter()
    pipe = nominal(data, fw)
    t_build = time.perf_counter() - t0
    builds = []
    for _ in range(3):
        t0 = time.perf_counter()
        nominal(data, fw)
        builds.append(time.perf_counter() - t0)
    print(f"data: {args.units:,} units × 60 indicators, tree 60 → 10 → 3 → 1")
    print(f"nominal build (screen, impute, treat, normalise, entropy weights, aggregate): "
          f"first {t_build:.3f} s, best of 3 {min(builds):.3f} s")

    spec = spec_for(args.replications)
    small_data, _ = make(200)
    t0 = time.perf_counter()
    run_uncertainty(nominal(small_data, fw), spec_for(600), _kernels=True)
    print(f"numba's first use in this process (cache load, 200 units × 768 replications): "
          f"{time.perf_counter() - t0:.2f} s")

    runs: list[tuple[str, dict[str, Any]]] = [
        ("kernels, one core (workers=1)", {"_kernels": True}),
        ("kernels, process pool of 2 (workers=2)", {"_kernels": True, "workers": 2}),
    ]
    if not args.no_previous:
        runs.append(("previous implementation (_kernels=False), workers=1",
                     {"_kernels": False}))
    print(f"uncertainty: Saltelli N·(D+2), D = 3, incl. Sobol' analysis; target {TARGET:.0f} s")
    times: dict[str, float] = {}
    res = None
    for label, kwargs in runs:
        t, res = timed(lambda kw=kwargs: run_uncertainty(pipe, spec, **kw), args.repeat)
        times[label] = t
        print(f"  {label:54s} {t:7.2f} s  ({t / TARGET:4.0%} of target)  "
              f"sha256 {digest(res)}  {load()}")
    assert res is not None
    if not args.no_previous:
        previous = times[runs[-1][0]]
        for label, _kw in runs[:-1]:
            print(f"  speed-up against the previous implementation, {label}: "
                  f"{previous / times[label]:.2f}×")

    rng = np.random.default_rng(5)
    subset = rng.choice(res.replications, size=args.baseline_sample, replace=False)
    t0 = time.perf_counter()
    for r in subset:
        rebuilt = rebuild_replication(pipe, spec, sample=res.samples.iloc[r])
        np.testing.assert_allclose(res.scores[r], rebuilt.to_numpy(), rtol=1e-9)
    t_per_rebuild = (time.perf_counter() - t0) / len(subset)
    best = min(times.values())
    print(f"  baseline, one pipeline rebuild per replication: {t_per_rebuild * 1000:.1f} ms each "
          f"× {res.replications:,} = {t_per_rebuild * res.replications:8.1f} s (timed on "
          f"{len(subset)} replications, scores equal); the best engine run is "
          f"{t_per_rebuild * res.replications / best:.0f}× faster  {load()}")
    print(res.sobol.round(3).to_string())


if __name__ == "__main__":
    main()
