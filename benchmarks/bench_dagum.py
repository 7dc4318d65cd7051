"""Benchmark: Dagum's Gini decomposition, 3,000 units in 10 groups (target ≤ 0.5 s).

Run: ``python benchmarks/bench_dagum.py [--units 3000] [--groups 10] [--repeat 5]``.

Data: lognormal values (seeded) with group-specific location, unweighted and with
population weights. Compared in the same run with two straightforward baselines:

1. the O(n²) NumPy version: the full ``|y_i − y_j|`` matrix, summed block by block for every
   pair of groups (the way the formulas are usually transcribed);
2. a pure-Python double loop over all pairs, timed on a random subset of ``--loop-units``
   units and scaled by ``(n / n_sub)²`` to the full size.

The decomposition of baseline 1 is checked against cocity's. Prints; never asserts on time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from cocity.metrics.inequality import dagum_decomposition


def make(units: int, groups: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, units)
    y = rng.lognormal(10 + 0.08 * g, 0.5)
    p = rng.integers(10_000, 2_000_000, units).astype(float)
    return y, g, p


def naive_numpy(y: np.ndarray, g: np.ndarray) -> tuple[float, float, float, float]:
    """Dagum's formulas with the O(n²) difference matrix (unweighted)."""
    labels = sorted(np.unique(g), key=lambda c: y[g == c].mean())
    n, mu = y.size, y.mean()
    diff = y[:, None] - y[None, :]
    absd = np.abs(diff)
    members = [np.flatnonzero(g == c) for c in labels]
    means = np.array([y[m].mean() for m in members])
    sizes = np.array([m.size for m in members], dtype=float)
    p = sizes / n
    s = sizes * means / (n * mu)
    gw = gnb = gt = 0.0
    for j, mj in enumerate(members):
        block = absd[np.ix_(mj, mj)]
        gw += block.sum() / (2 * sizes[j] ** 2 * means[j]) * p[j] * s[j]
        for h in range(j):
            mh = members[h]
            cross = diff[np.ix_(mj, mh)]
            gjh = np.abs(cross).sum() / (sizes[j] * sizes[h] * (means[j] + means[h]))
            d = np.clip(cross, 0, None).sum()
            q = np.clip(-cross, 0, None).sum()
            D = (d - q) / (d + q)
            w = p[j] * s[h] + p[h] * s[j]
            gnb += gjh * w * D
            gt += gjh * w * (1 - D)
    return float(absd.sum() / (2 * n**2 * mu)), gw, gnb, gt


def naive_loop(y: list[float], g: list[int]) -> float:
    """Pure-Python double loop over pairs: the group-pair sums Dagum needs (and G)."""
    sums: dict[tuple[int, int], float] = {}
    total = 0.0
    for i in range(len(y)):
        yi, gi = y[i], g[i]
        for j in range(len(y)):
            d = abs(yi - y[j])
            key = (gi, g[j])
            sums[key] = sums.get(key, 0.0) + d
            total += d
    return total / (2 * len(y) ** 2 * (sum(y) / len(y)))


def best_of(repeat: int, fn: object) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=3000)
    ap.add_argument("--groups", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--loop-units", type=int, default=400)
    args = ap.parse_args()
    y, g, p = make(args.units, args.groups)

    res = dagum_decomposition(y, g)
    t_ours = best_of(args.repeat, lambda: dagum_decomposition(y, g))
    t_weighted = best_of(args.repeat, lambda: dagum_decomposition(y, g, p))
    t_perm = best_of(1, lambda: dagum_decomposition(y, g, permutations=999, seed=1))

    ref = naive_numpy(y, g)
    t_numpy = best_of(max(1, args.repeat // 2), lambda: naive_numpy(y, g))

    sub = np.random.default_rng(1).choice(args.units, args.loop_units, replace=False)
    ys, gs = y[sub].tolist(), g[sub].tolist()
    t_loop_sub = best_of(1, lambda: naive_loop(ys, gs))
    t_loop = t_loop_sub * (args.units / args.loop_units) ** 2

    ours = (res.gini, res.within, res.net_between, res.transvariation)
    err = max(abs(a - b) for a, b in zip(ours, ref, strict=True))
    print(f"Dagum decomposition, {args.units} units in {args.groups} groups (lognormal, seed 0)")
    print(f"  G = {res.gini:.6f}: within {res.contributions['within']:.2f} %, net between "
          f"{res.contributions['net_between']:.2f} %, transvariation "
          f"{res.contributions['transvariation']:.2f} %")
    print(f"  identity |G − (G_w + G_nb + G_t)| = "
          f"{abs(res.gini - res.within - res.net_between - res.transvariation):.1e}; "
          f"max difference to the O(n²) baseline {err:.1e}")
    print(f"  cocity (sorting, O(n log n + n k)) : {t_ours * 1e3:8.2f} ms   (target ≤ 500 ms)")
    print(f"  cocity, population-weighted        : {t_weighted * 1e3:8.2f} ms")
    print(f"  cocity, with 999 permutations      : {t_perm * 1e3:8.2f} ms")
    print(f"  baseline O(n²) NumPy broadcast     : {t_numpy * 1e3:8.2f} ms   "
          f"ratio {t_numpy / t_ours:6.1f}×")
    print(f"  baseline Python double loop        : {t_loop * 1e3:8.0f} ms   "
          f"ratio {t_loop / t_ours:6.0f}×  (timed on {args.loop_units} units: "
          f"{t_loop_sub * 1e3:.0f} ms, scaled by (n/{args.loop_units})²)")


if __name__ == "__main__":
    main()
