"""Benchmark: the fund's allocation (cocity.fund.allocation).

Run: ``python benchmarks/bench_allocation.py [--units 200 1000] [--repeat 5]``.

1. The shipped rules on the embedded real data (123 county-level recipients, 3 uses), following
   a county-level evaluation run without replications: the whole ``allocate_store`` (rules,
   store reads, needs, allocation with explanations) and the pure ``allocate`` alone.
2. Synthetic data sets of N county-level recipients (random values for timing only — not data,
   drawn from one seed through ``SeedSequence.spawn``) with the default rules' structure, a cap
   that binds and a grade run: ``allocate`` (exact fractions, floors/caps, explanations in both
   languages) against the baseline measured in the same run, a float split rounded by the
   largest remainder with numpy (no bounds, no explanations), and the ratio.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import pandas as pd
from timing import timed

from cocity.fund.allocation import allocate, allocate_store
from cocity.fund.needs import NeedData, compute_needs
from cocity.fund.rules import load_rules
from cocity.fund.run_grades import from_document

KINDS = {"pop_total": "count", "migrants_other_province": "count",
         "migrants_other_county": "count", "schooling_years": "level",
         "hospital_beds_per_1000": "ratio", "doctors_per_1000": "ratio",
         "nurses_per_1000": "ratio", "hh_piped_water_share": "share_pct",
         "hh_kitchen_share": "share_pct", "hh_toilet_share": "share_pct",
         "hh_bath_share": "share_pct", "age_65_share": "share_pct",
         "illiteracy_rate": "share_pct"}




def synthetic(n: int, seed: int = 11) -> tuple[NeedData, dict[str, Any]]:
    """N counties under N/10 prefectures with random values, and a grade document."""
    values_rng, grade_rng = (np.random.default_rng(s)
                             for s in np.random.SeedSequence(seed).spawn(2))
    n_pref = max(1, n // 10)
    units = [("800000", "省", "Province", "province", None, "province", "full", None)]
    units += [(f"8{p + 1:03d}00", f"市{p}", f"City {p}", "prefecture", "800000",
               "prefecture_city", "full", "node") for p in range(n_pref)]
    counties = [f"{700000 + i:06d}" for i in range(n)]
    units += [(c, f"县{i}", f"County {i}", "county", f"8{i % n_pref + 1:03d}00", "county",
               "full", "hinterland") for i, c in enumerate(counties)]
    frame = pd.DataFrame(units, columns=["code", "name_zh", "name_en", "level", "parent", "kind",
                                         "membership", "tier"])
    rows = []
    for c in counties:
        pop = values_rng.lognormal(13, 0.6)
        vals = {"pop_total": pop, "migrants_other_province": pop * values_rng.uniform(0, .1),
                "migrants_other_county": pop * values_rng.uniform(0, .2),
                "schooling_years": values_rng.normal(9, 1),
                "hh_piped_water_share": values_rng.uniform(70, 100),
                "hh_kitchen_share": values_rng.uniform(70, 100),
                "hh_toilet_share": values_rng.uniform(70, 100),
                "hh_bath_share": values_rng.uniform(70, 100),
                "age_65_share": values_rng.uniform(8, 25),
                "illiteracy_rate": values_rng.uniform(1, 8)}
        rows += [(c, 2020, k, float(v)) for k, v in vals.items()]
    for p in range(n_pref):
        code = f"8{p + 1:03d}00"
        rows += [(code, 2019, k, float(values_rng.uniform(2, 9))) for k in
                 ("hospital_beds_per_1000", "doctors_per_1000", "nurses_per_1000")]
    catalog = pd.DataFrame({"id": list(KINDS), "value_kind": list(KINDS.values())}
                           ).set_index("id", drop=False)
    data = NeedData(frame, catalog, pd.DataFrame(rows, columns=["unit", "year", "indicator",
                                                                "value"]))
    scores = grade_rng.uniform(40, 95, size=n)
    grade = np.select([scores >= 80, scores >= 65, scores >= 50],
                      ["excellent", "good", "pass"], "fail")
    doc = {"kind": "cocity evaluation", "year": 2020, "inputs_sha256": "0" * 64,
           "levels": [{"level": "county",
                       "ranking": [{"unit": c, "grade": g, "score": float(s)}
                                   for c, g, s in zip(counties, grade, scores, strict=True)],
                       "rectification": [{"unit": c, "obstacle_1": "beds_access",
                                          "deadline": "2022-06-30"}
                                         for c, g in zip(counties, grade, strict=True)
                                         if g == "fail"]}]}
    return data, doc


def numpy_baseline(weights: np.ndarray, pool: int) -> np.ndarray:
    """Float proportional split rounded by the largest remainder (ties by position)."""
    exact = pool * weights / weights.sum()
    base = np.floor(exact).astype(np.int64)
    left = pool - int(base.sum())
    order = np.argsort(-(exact - base), kind="stable")
    base[order[:left]] += 1
    return base


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, nargs="+", default=[200, 1000])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    fund = 10**10

    from cocity.datasets import open_store
    from cocity.evaluate.framework import load_framework
    from cocity.evaluate.run import evaluate

    store = open_store()
    ev = evaluate(load_framework(), store, replications=0, levels=["county"])
    t_store, a = timed(lambda: allocate_store(store, run=ev, fund_fen=fund), args.repeat)
    rules = a.rules
    from cocity.fund.needs import read_need_data
    from cocity.fund.run_grades import from_evaluation

    needs = compute_needs(rules, read_need_data(store, rules))
    grades = from_evaluation(ev, level="county")
    t_core, _ = timed(lambda: allocate(rules, needs, fund_fen=fund, grades=grades),
                      args.repeat)
    print(f"real data, {a.table['unit'].nunique()} recipients × {len(a.pools)} uses: "
          f"allocate_store {t_store * 1000:.0f} ms, allocate {t_core * 1000:.0f} ms")

    doc = rules.spec.model_dump(mode="json")
    doc["recipients"]["exclude_tiers"] = []
    for use in doc["uses"].values():
        use["cap_share"] = 0.02  # binds for some lines of N = 200 recipients
    syn_rules = load_rules(doc)
    for n in args.units:
        synthetic_case(syn_rules, n, fund, args.repeat)


def synthetic_case(rules: Any, n: int, fund: int, repeat: int) -> None:
    data, run_doc = synthetic(n)
    needs = compute_needs(rules, data)
    g = from_document(run_doc, level="county")
    t_alloc, out = timed(lambda: allocate(rules, needs, fund_fen=fund, grades=g), repeat)
    assert out.totals() == out.pools
    ss = needs.quantities("social_security")["migrants"].to_numpy(float)
    t_base, _ = timed(lambda: numpy_baseline(ss, out.pools["social_security"]), repeat)
    capped = int((out.table["limit"] == "cap").sum())
    print(f"synthetic, {n} recipients × 3 uses ({capped} capped lines): allocate "
          f"{t_alloc * 1000:.0f} ms; numpy float baseline (one use, no bounds, no "
          f"explanations) {t_base * 1e6:.0f} µs × 3; ratio {t_alloc / (3 * t_base):.0f}×")

if __name__ == "__main__":
    main()
