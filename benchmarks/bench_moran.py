"""Benchmark: local and global Moran's I with 999 permutations, cocity vs. PySAL esda.

Run: ``python benchmarks/bench_moran.py [--units 3000] [--k 8] [--permutations 999]
[--repeats 5]``.

Input: ``--units`` random points in a lon/lat box around the Chengdu–Chongqing circle,
k-nearest-neighbour weights (great-circle, ``--k`` neighbours) and a spatially correlated
variable (a smooth trend plus neighbour-averaged noise). Both libraries get the same weights
(cocity's matrix handed to libpysal) and the same values; the statistics are checked equal.

Timings are the median of ``--repeats`` interleaved runs. esda compiles its conditional
randomisation with numba on the first call: that call is run once before timing and is
excluded (its duration is printed separately). esda runs with its defaults (``n_jobs=1``,
``keep_simulations=True``) and with ``keep_simulations=False``; cocity with its default
(``keep_simulations=False``) and with ``keep_simulations=True``. Global Moran's I in esda
loops over permutations in Python. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from cocity.metrics.spatial import local_moran, moran
from cocity.metrics.weights import SpatialWeights, knn


def make(units: int, k: int, seed: int = 0) -> tuple[SpatialWeights, np.ndarray]:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(102.5, 108.5, units)
    lat = rng.uniform(28.0, 32.5, units)
    w = knn(np.column_stack([lon, lat]), k)
    noise = rng.normal(size=units)
    smooth = w.row_standardised().matrix @ noise
    y = 0.8 * np.sin(lon - 103.0) + 0.5 * (lat - 30.0) + 1.5 * smooth + 0.5 * noise
    return w, y


def median_time(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=3000)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--permutations", type=int, default=999)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    P = args.permutations
    w, y = make(args.units, args.k)
    print(f"{args.units} units, KNN-{args.k} weights ({w.nnz} links), {P} permutations, "
          f"median of {args.repeats} runs")

    try:
        import esda
        import libpysal
    except ImportError:
        esda = None
    ref_w = None
    if esda is not None:
        warnings.simplefilter("ignore")
        ref_w = libpysal.weights.WSP(w.matrix.tocsr(), id_order=list(w.ids)).to_W(
            silence_warnings=True)
        t0 = time.perf_counter()
        esda.Moran_Local(y, ref_w, permutations=P, seed=1)
        first = time.perf_counter() - t0
        print(f"esda first Moran_Local call (numba compilation, excluded): {first:.2f} s")

    ours = local_moran(y, w, permutations=P, seed=1)
    if esda is not None:
        ref = esda.Moran_Local(y, ref_w, permutations=P, seed=1)
        assert np.allclose(ours.table["I"], ref.Is, rtol=1e-9, atol=1e-12)
        diff = np.abs(ours.table["p_sim"].to_numpy() - ref.p_sim)
        print(f"local I equal to esda's; p_sim |difference| mean {diff.mean():.4f}, "
              f"max {diff.max():.4f} (Monte Carlo)")

    runs: dict[str, Callable[[], Any]] = {
        "cocity local_moran": lambda: local_moran(y, w, permutations=P, seed=1),
        "cocity local_moran (keep_simulations)": lambda: local_moran(
            y, w, permutations=P, seed=1, keep_simulations=True),
    }
    if esda is not None:
        runs["esda Moran_Local (defaults)"] = lambda: esda.Moran_Local(
            y, ref_w, permutations=P, seed=1)
        runs["esda Moran_Local (keep_simulations=False)"] = lambda: esda.Moran_Local(
            y, ref_w, permutations=P, seed=1, keep_simulations=False)
    runs["cocity moran (global)"] = lambda: moran(y, w, permutations=P, seed=1)
    if esda is not None:
        runs["esda Moran (global)"] = lambda: esda.Moran(y, ref_w, permutations=P)

    times = {name: median_time(fn, args.repeats) for name, fn in runs.items()}
    width = max(map(len, times))
    for name, sec in times.items():
        print(f"  {name:<{width}}  {sec * 1000:8.1f} ms")
    if esda is not None:
        lo = times["cocity local_moran"]
        print(f"local Moran, esda defaults / cocity defaults: "
              f"{times['esda Moran_Local (defaults)'] / lo:.2f}×")
        print(f"local Moran, esda keep_simulations=False / cocity: "
              f"{times['esda Moran_Local (keep_simulations=False)'] / lo:.2f}×")
        kept = times["cocity local_moran (keep_simulations)"]
        print(f"local Moran, both keeping simulations (esda / cocity): "
              f"{times['esda Moran_Local (defaults)'] / kept:.2f}×")
        print(f"global Moran, esda / cocity: "
              f"{times['esda Moran (global)'] / times['cocity moran (global)']:.2f}×")
    else:
        print("esda is not installed: no baseline")


if __name__ == "__main__":
    main()
