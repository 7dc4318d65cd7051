"""Benchmark: ``cocity evaluate`` on the embedded dataset, as the README runs it.

Run: ``python benchmarks/bench_evaluate.py [--rounds 2] [--baseline-sample 40]``.

1. The main job end to end in a fresh output folder (a subprocess, as a user types it): the
   2010 edition, then 2020 with the comparison, each at both levels with the framework's
   uncertainty analysis (Saltelli design, 16,384 replications per level), HTML, two PDFs,
   two workbooks, JSON and tables. Each round runs the default (the PDFs and workbooks written
   by the ``--render-workers 1`` background process, started before the computation, while
   the next edition is computed, the command joining in at the end) and the
   baseline in the same round, ``--render-workers 0`` (every file written in the command's
   own process, one after the other, as before), in alternating order; wall time, CPU time
   (the command and its workers) and the load average are printed, and the ratio. Target:
   ≤ 10 s wall. Then the same command again (the run is reproduced and reused).
2. Where the time goes: the stages of the two editions in one process — evaluation (derived
   indicators, nominal index, uncertainty), tables/CSV/JSON, the HTML page, the print pages
   (SVG figures), each PDF (WeasyPrint) and each workbook — CPU seconds.
3. Baseline of the uncertainty engine in the same run: the county-level uncertainty done the
   slow way — rebuilding the pipeline once per replication (``rebuild_replication``) and
   grading each — timed on a random sample of replications and scaled to the full count; the
   sample's scores are checked to equal the engine's.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

TARGET_S = 10.0


def load() -> str:
    return "load " + " ".join(f"{v:.1f}" for v in os.getloadavg())


def cli(out: Path, *extra: str) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the command and its children, stdout)."""
    exe = Path(sys.executable).with_name("cocity")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([str(exe), "evaluate", "--out", str(out), *extra],
                          capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def main_job(rounds: int) -> None:
    print("1. `cocity evaluate --out DIR` in a fresh folder (2010 edition, then 2020); "
          f"target ≤ {TARGET_S:.0f} s wall")
    tmp = Path(tempfile.mkdtemp(prefix="bench-evaluate-"))
    runs: dict[str, list[tuple[float, float]]] = {"default": [], "baseline": []}
    try:
        for r in range(rounds):
            order = ["default", "baseline"] if r % 2 == 0 else ["baseline", "default"]
            for name in order:
                extra = ("--render-workers", "0") if name == "baseline" else ()
                folder = tmp / f"{name}-{r}"
                wall, cpu, text = cli(folder, *extra)
                runs[name].append((wall, cpu))
                print(f"   round {r + 1} {name:8s} {wall:6.1f} s wall  {cpu:6.1f} s CPU  "
                      f"({load()})")
                shutil.rmtree(folder, ignore_errors=True)
        again_dir = tmp / "again"
        cli(again_dir)
        again, _, _ = cli(again_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    best = {k: min(w for w, _ in v) for k, v in runs.items()}
    ratios = [b[0] / d[0] for d, b in zip(runs["default"], runs["baseline"], strict=True)]
    print(f"   best of {rounds}: default {best['default']:.1f} s, baseline (--render-workers 0) "
          f"{best['baseline']:.1f} s; per-round ratio baseline/default "
          + ", ".join(f"{x:.2f}×" for x in ratios))
    print(f"   target ≤ {TARGET_S:.0f} s: {'met' if best['default'] <= TARGET_S else 'not met'} "
          f"({best['default'] / TARGET_S:.1f}× the target)")
    print(f"   same again {again:6.1f} s   (run reproduced and reused)")
    print("   " + "\n   ".join(text.strip().splitlines()[:4]))


def stages() -> None:
    from cocity.datasets import open_store
    from cocity.evaluate.framework import load_framework
    from cocity.evaluate.run import evaluate
    from cocity.evaluate.runs import previous_run, save_run
    from cocity.evaluate.tables import csv_frame, number_formats, result_tables, sheet_frame
    from cocity.outputs import write_csv, write_xlsx
    from cocity.report import evaluate_report as er
    from cocity.report.pdf import write_pdf

    print(f"\n2. stages of the main job in one process, CPU seconds ({load()})")
    fw = load_framework()
    store = open_store()
    tmp = Path(tempfile.mkdtemp(prefix="bench-evaluate-stages-"))
    total: dict[str, float] = {}

    def clock(name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.process_time()
        out = fn()
        total[name] = total.get(name, 0.0) + time.process_time() - t0
        return out

    try:
        prev = None
        for year in (fw.previous, fw.year):
            ev = clock("evaluation (indicators, index, uncertainty)",
                       lambda y=year, p=prev: evaluate(fw, store, year=y, previous=p))
            out = tmp / str(year)
            tables = clock("tables, CSV, JSON", lambda e=ev: result_tables(e))
            clock("tables, CSV, JSON", lambda e=ev, tb=tables, o=out: [
                write_csv(csv_frame(f, e, n), o / "tables" / f"{n}.csv")
                for n, f in tb.items()] + [er.document(e, tb)])
            clock("HTML page (plotly)", lambda e=ev, tb=tables: er.report_html(e, tb))
            for lg in ("zh", "en"):
                html = clock("print pages (SVG figures)",
                             lambda e=ev, tb=tables, lang=lg: er.report_print_html(e, tb, lang))
                clock(f"PDF {lg} (WeasyPrint)", lambda h=html, o=out, lang=lg:
                      write_pdf(h, o / f"report.{lang}.pdf"))
                sheets = {er._sheet_name(ev, n, lg): sheet_frame(f, ev, lg, n)
                          for n, f in tables.items()}
                formats = {er._sheet_name(ev, n, lg): number_formats(f, ev, lg, n)
                           for n, f in tables.items()}
                clock("workbooks (XlsxWriter)", lambda s=sheets, fm=formats, o=out, lang=lg:
                      write_xlsx(s, o / f"e.{lang}.xlsx", number_formats=fm))
            if year == fw.previous:
                record = save_run(ev, tmp / "runs", lambda e, folder: er.write_run_outputs(
                    e, folder, pdf=False))
                prev = previous_run(record)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    whole = sum(total.values())
    for name, secs in total.items():
        print(f"   {name:45s} {secs:6.2f} s  {100 * secs / whole:4.0f} %")
    print(f"   {'sum (both editions)':45s} {whole:6.2f} s")


def engine_baseline(sample: int) -> None:
    from cocity.datasets import open_store
    from cocity.evaluate import grades as grading
    from cocity.evaluate.framework import load_framework
    from cocity.evaluate.run import evaluate
    from cocity.index.uncertainty import UncertaintySpec, rebuild_replication, run_uncertainty

    fw = load_framework()
    ev = evaluate(fw, open_store(), replications=0)
    res = ev.levels["county"]
    spec = UncertaintySpec.from_dict(fw.doc["uncertainty"])
    t0 = time.perf_counter()
    unc = run_uncertainty(res.pipeline, spec, seed=spec.seed, sobol=False, data_se=res.data_se)
    t_unc = time.perf_counter() - t0
    t0 = time.perf_counter()
    grading.grade_uncertainty(unc.scores, list(unc.units), rules=ev.rules, nominal=res.graded,
                               replicated_ranks=unc.ranks)
    t_grade = time.perf_counter() - t0
    reps = unc.replications
    rng = np.random.default_rng(0)
    rows = rng.choice(len(unc.samples), size=sample, replace=False)
    t0 = time.perf_counter()
    worst = 0.0
    for r in rows:
        rebuilt = rebuild_replication(res.pipeline, spec, sample=unc.samples.iloc[r],
                                      seed=spec.seed, data_se=res.data_se)
        grading.assign_grades(rebuilt, rules=ev.rules)
        scores = rebuilt.reindex(unc.units).to_numpy(float)
        worst = max(worst, float(np.nanmax(np.abs(scores - unc.scores[r]))))
    per = (time.perf_counter() - t0) / len(rows)
    baseline = per * reps
    engine = t_unc + t_grade
    print(f"\n3. uncertainty, county level, {reps:,} replications ({load()}): engine "
          f"{t_unc:.2f} s + grading {t_grade:.2f} s")
    print(f"   baseline: rebuild the pipeline and grade once per replication "
          f"({per * 1000:.1f} ms each, {len(rows)} sampled) scaled: {baseline:8.1f} s; "
          f"ratio {baseline / engine:,.0f}×")
    print(f"   largest score difference engine vs rebuild on the sample: {worst:.2e}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--baseline-sample", type=int, default=40)
    ap.add_argument("--skip-stages", action="store_true")
    args = ap.parse_args()
    main_job(args.rounds)
    if not args.skip_stages:
        stages()
    if args.baseline_sample > 0:
        engine_baseline(args.baseline_sample)


if __name__ == "__main__":
    main()
