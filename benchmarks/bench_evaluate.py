"""Benchmark: ``cocity evaluate`` on the embedded dataset, as the README runs it.

Run: ``python benchmarks/bench_evaluate.py [--baseline-sample 40]``.

1. The main job end to end in a fresh output folder (a subprocess, as a user types it): the
   2010 edition, then 2020 with the comparison, each at both levels with the framework's
   uncertainty analysis (Saltelli design, ≥ 10,000 replications per level), HTML, two PDFs,
   workbook, JSON and tables. The same command again (the run is reproduced and reused).
2. Stages of one 2020 run in process: derived indicators and nominal index, uncertainty at county
   level, grading every replication, the report files.
3. Baseline in the same run: the county-level uncertainty (the survey's sampling error as 100
   perturbed data sets, and perturbed weights) done the slow way — rebuilding the pipeline once
   per replication (``rebuild_replication``) and grading each — timed on a random
   sample of replications and scaled to the full count; the sample's scores are checked to equal
   the engine's.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from cocity.datasets import open_store
from cocity.evaluate import grades as grading
from cocity.evaluate.framework import load_framework
from cocity.evaluate.run import evaluate
from cocity.index.uncertainty import (
    UncertaintySpec,
    rebuild_replication,
    run_uncertainty,
)


def cli(out: Path) -> tuple[float, str]:
    exe = Path(sys.executable).with_name("cocity")
    t0 = time.perf_counter()
    done = subprocess.run([str(exe), "evaluate", "--out", str(out)], capture_output=True,
                          text=True, check=True)
    return time.perf_counter() - t0, done.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline-sample", type=int, default=40)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-evaluate-"))
    try:
        first, text = cli(tmp / "out")
        again, _ = cli(tmp / "out")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("1. `cocity evaluate --out DIR` (fresh folder; 2010 edition, then 2020)")
    print(f"   first run  {first:6.1f} s   (target ≤ 60 s)")
    print(f"   same again {again:6.1f} s   (run reproduced and reused)")
    print("   " + "\n   ".join(text.strip().splitlines()[:8]))

    fw = load_framework()
    store = open_store()
    t0 = time.perf_counter()
    ev = evaluate(fw, store, replications=0)
    t_nominal = time.perf_counter() - t0
    res = ev.levels["county"]
    spec = UncertaintySpec.from_dict(fw.doc["uncertainty"])
    t0 = time.perf_counter()
    unc = run_uncertainty(res.pipeline, spec, seed=spec.seed, sobol=False, data_se=res.data_se)
    t_unc = time.perf_counter() - t0
    t0 = time.perf_counter()
    grading.grade_uncertainty(unc.scores, list(unc.units), ev.rules, res.graded)
    t_grade = time.perf_counter() - t0
    reps = unc.replications
    print(f"\n2. stages (in process), {len(res.graded)} county-level units, {reps:,} replications")
    print(f"   indicators + nominal index, both levels, no uncertainty  {t_nominal:6.2f} s")
    print(f"   uncertainty, county level (engine)                       {t_unc:6.2f} s")
    print(f"   grading every replication                                {t_grade:6.2f} s")

    rng = np.random.default_rng(0)
    rows = rng.choice(len(unc.samples), size=args.baseline_sample, replace=False)
    t0 = time.perf_counter()
    worst = 0.0
    for r in rows:
        rebuilt = rebuild_replication(res.pipeline, spec, sample=unc.samples.iloc[r],
                                      seed=spec.seed,
                                      data_se=res.data_se)
        grading.assign_grades(rebuilt, ev.rules)
        scores = rebuilt.reindex(unc.units).to_numpy(float)
        worst = max(worst, float(np.nanmax(np.abs(scores - unc.scores[r]))))
    per = (time.perf_counter() - t0) / len(rows)
    baseline = per * reps
    engine = t_unc + t_grade
    print(f"\n3. baseline: rebuild the pipeline and grade once per replication "
          f"({per * 1000:.1f} ms each, {len(rows)} sampled)")
    print(f"   scaled to {reps:,} replications: {baseline:8.1f} s;  engine {engine:.2f} s;  "
          f"ratio {baseline / engine:,.0f}×")
    print(f"   largest score difference engine vs rebuild on the sample: {worst:.2e}")


if __name__ == "__main__":
    main()
