"""Benchmark: the pairing integer programme (:func:`cocity.plan.pairing.solve_pairing`, HiGHS
through ``scipy.optimize.milp``) against its references, measured in the same run.

Run: ``python benchmarks/bench_pairing.py [--repeat 3] [--no-county]``.

1. Against brute force (:func:`~cocity.plan.pairing.brute_force_pairing`) on the largest size
   the enumeration handles in seconds: 4 helpers × 9 helped units, capacity 3 each (4⁹ = 262,144
   assignments), seeded random benefits and times; both objectives printed.
2. Against the assignment algorithm (:func:`~cocity.plan.pairing.assignment_pairing`,
   ``scipy.optimize.linear_sum_assignment`` over capacity slots) at a large size: 20 helpers ×
   150 helped units, and 50 × 500.
3. On the real data at the county level (unless ``--no-county``): the 20 highest-scoring
   county-level units of the 2020 evaluation help the rest (capacity 8 each), benefit and
   modelled times from :mod:`cocity.plan.pairing_run` (the evaluation is computed once, not
   timed); milp against the assignment algorithm.

The best of ``--repeat`` runs is reported; ratios are reference time ÷ milp time (above 1: the
integer programme is faster). Nothing is asserted on time.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np
from timing import timed

from cocity.plan.pairing import assignment_pairing, brute_force_pairing, solve_pairing


def instance(m: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 35, (m, n)), rng.uniform(30, 400, (m, n))


def compare(label: str, b: np.ndarray, t: np.ndarray, cap: Any, ref: Callable[..., Any],
            ref_name: str, repeat: int) -> None:
    solve_pairing(np.ones((1, 1)), np.ones((1, 1)), capacity=1)  # imports, not timed
    t_milp, p = timed(lambda: solve_pairing(b, t, capacity=cap), repeat, stat=min)
    t_ref, r = timed(lambda: ref(b, t, capacity=cap), repeat, stat=min)
    print(f"{label:<44} milp {t_milp * 1e3:9.2f} ms   {ref_name} {t_ref * 1e3:10.2f} ms   "
          f"ratio {t_ref / t_milp:8.3g}   objective {p.objective:.4f} vs {r.objective:.4f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-county", action="store_true")
    args = ap.parse_args()
    b, t = instance(4, 9, 1)
    compare("random 4 × 9, capacity 3 (262,144 cases)", b, t, 3, brute_force_pairing,
            "brute force", 1)
    for m, n in ((20, 150), (50, 500)):
        b, t = instance(m, n, 2)
        cap = int(np.ceil(n / m)) + 1
        compare(f"random {m} × {n}, capacity {cap}", b, t, cap, assignment_pairing,
                "assignment", args.repeat)
    if not args.no_county:
        from cocity.datasets import open_store
        from cocity.plan.pairing_run import evaluation_view, run_pairing

        store = open_store()
        view = evaluation_view(store, level="county")
        top = [str(c) for c in view.units.sort_values("score", ascending=False).index[:20]]
        run = run_pairing(store, evaluation=view, helpers=top, capacity=8)
        sol = run.optimum
        b = run.benefit.loc[sol.helpers, sol.helped].to_numpy()
        t = run.minutes.loc[sol.helpers, sol.helped].to_numpy()
        compare(f"county level {len(sol.helpers)} × {len(sol.helped)}, capacity 8", b, t, 8,
                assignment_pairing, "assignment", args.repeat)


if __name__ == "__main__":
    main()
