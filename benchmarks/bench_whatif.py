"""Benchmark: one what-if (``cocity.plan.whatif.what_if``) on the embedded dataset, as the
portal's what-if page would ask it, against a full evaluation of the same year.

Run: ``python benchmarks/bench_whatif.py [--replications 0] [--repeat 3]``.

1. The what-if of the README's example (800 beds as a new hospital in 资阳, 500 beds in 成都, a
   35-minute link 成都–资阳, a fund of 10亿 yuan) at the county level and at the prefecture level
   (the fund's county level is evaluated too when a fund is given, so the prefecture what-if is
   also timed without a fund). A what-if computes two evaluations (baseline and scenario), the
   regional network once more for the links, and two allocations.
2. Baseline in the same run: a full ``evaluate`` of the same year at both levels with the same
   replications — what re-running ``cocity evaluate`` by hand would cost for ONE of the two
   runs a comparison needs.

The best of ``--repeat`` runs is reported (the first call also pays imports and caches, shown
separately). Nothing is asserted on time.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from cocity.datasets import open_store
from cocity.evaluate.framework import load_framework
from cocity.evaluate.run import evaluate
from cocity.plan.whatif import AddBeds, AddHospital, FasterLink, what_if

CHANGES = [AddHospital("资阳", 800), AddBeds("成都", 500), FasterLink("成都", "资阳", 35)]
FUND = 10**11  # 10亿 yuan, in fen


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(first call, best of ``repeat`` further calls), seconds."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return first, min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replications", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    reps = args.replications

    t0 = time.perf_counter()
    store = open_store()
    fw = load_framework()
    print(f"embedded store opened in {time.perf_counter() - t0:.2f} s; "
          f"replications {reps}, best of {args.repeat}")

    full_first, full = best(lambda: evaluate(fw, store, replications=reps), args.repeat)
    print(f"baseline: full evaluate of {fw.year}, both levels: {full:.2f} s "
          f"(first call {full_first:.2f} s)")
    cases = {
        "county level, fund 10亿": {"level": "county", "fund_fen": FUND},
        "prefecture level, fund 10亿 (+ the fund's county level)":
            {"level": "prefecture", "fund_fen": FUND},
        "prefecture level, no fund": {"level": "prefecture"},
        "both levels, fund 10亿": {"fund_fen": FUND},
    }
    for name, kw in cases.items():
        first, secs = best(lambda kw=kw: what_if(store, changes=CHANGES, framework=fw,
                                                 replications=reps, **kw), args.repeat)
        print(f"what-if, {name}: {secs:.2f} s (first call {first:.2f} s); "
              f"ratio to one full evaluate {secs / full:.2f}")


if __name__ == "__main__":
    main()
