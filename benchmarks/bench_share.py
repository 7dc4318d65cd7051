"""Benchmark: the cost-sharing rules (cocity.plan.sharing).

Run: ``python benchmarks/bench_share.py [--sizes 10 15 20] [--repeat 3]``.

1. The exact Shapley value, vectorised over bitmasks, at n = 10, 15, 20, against two
   baselines measured in the same run on the sizes they can do: the subset formula
   ``Σ_S |S|!(n−|S|−1)!/n! (c(S∪i) − c(S))`` in plain Python loops (n ≤ 15), and the
   permutation formula (the mean marginal cost over all n! orders, n ≤ 8); the vectorised
   result is checked equal to each baseline, and the ratio printed.
2. The nucleolus (sequential LPs, HiGHS) at n = 8…12, with the number of coalitions.

The games are minimum-spanning-tree games on random points (timing only, not data), drawn
from one seed through ``SeedSequence.spawn``.
"""

from __future__ import annotations

import argparse
import itertools
from math import factorial

import numpy as np
from timing import timed

from cocity.plan.sharing import nucleolus, shapley
from cocity.plan.sharing_costs import mst_game


def game(rng: np.random.Generator, n: int) -> np.ndarray:
    pts = rng.uniform(size=(n + 1, 2))
    return mst_game(np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1)))


def shapley_loops(costs: np.ndarray) -> np.ndarray:
    n = len(costs).bit_length() - 1
    w = [factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)]
    phi = [0.0] * n
    for i in range(n):
        for s in range(1 << n):
            if not s >> i & 1:
                phi[i] += w[bin(s).count("1")] * (costs[s | 1 << i] - costs[s])
    return np.array(phi)


def shapley_permutations(costs: np.ndarray) -> np.ndarray:
    n = len(costs).bit_length() - 1
    phi = np.zeros(n)
    count = 0
    for order in itertools.permutations(range(n)):
        mask = 0
        for i in order:
            phi[i] += costs[mask | 1 << i] - costs[mask]
            mask |= 1 << i
        count += 1
    return phi / count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 15, 20])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    streams = np.random.SeedSequence(20261203).spawn(len(args.sizes) + 6)
    print("exact Shapley value: vectorised vs baselines (best of --repeat, seconds)")
    print(f"{'n':>3} {'vectorised':>11} {'loops':>9} {'ratio':>7}")
    for k, n in enumerate(args.sizes):
        rng = np.random.default_rng(streams[k])
        costs = game(rng, n)
        tv, fast = timed(lambda c=costs: shapley(c).shares, args.repeat, stat=min)
        loops = ratio = "—"
        if n <= 15:
            tl, slow = timed(lambda c=costs: shapley_loops(c), 1, stat=min)
            assert np.allclose(fast, slow)
            loops, ratio = f"{tl:.4f}", f"{tl / tv:.0f}×"
        print(f"{n:>3} {tv:>11.4f} {loops:>9} {ratio:>7}")
    rng = np.random.default_rng(streams[-1])
    small = game(rng, 8)
    tp, perm = timed(lambda: shapley_permutations(small), 1, stat=min)
    tv, fast = timed(lambda: shapley(small).shares, args.repeat, stat=min)
    assert np.allclose(fast, perm)
    print(f"  8 {tv:>11.4f} permutations {tp:.4f} s, ratio {tp / tv:.0f}×")
    print("nucleolus (sequential LPs, HiGHS)")
    nucleolus(game(np.random.default_rng(streams[-2]), 3))  # import SciPy's LP outside the timing
    for k, n in enumerate(range(8, 13)):
        rng = np.random.default_rng(streams[len(args.sizes) + k % 5])
        costs = game(rng, n)
        tn, _ = timed(lambda c=costs: nucleolus(c), 1, stat=min)
        print(f"  n={n:>2} coalitions={(1 << n) - 2:>5} {tn:.3f} s")


if __name__ == "__main__":
    main()
