"""Benchmark of ``cocity publish``: the time to build the static site from the embedded data
with two signed editions (2010 and 2020, both levels), and the time to publish again with
nothing new (every file compared with what is on disk, only the home page, the sums and the
manifest rewritten). Ratio: republish / first build (the baseline is the first build of the
same run).

    python benchmarks/bench_publish.py                       # 100 replications per run
    python benchmarks/bench_publish.py --replications 0      # quicker runs, no intervals
    python benchmarks/bench_publish.py --no-diagnostics

The evaluation runs themselves are computed first and not timed. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--no-diagnostics", action="store_true")
    args = parser.parse_args()

    from cocity.datasets import open_store
    from cocity.evaluate.framework import load_framework
    from cocity.evaluate.run import evaluate
    from cocity.evaluate.runs import save_run
    from cocity.publish.editions import sign_edition
    from cocity.publish.site import build_site
    from cocity.records import open_records
    from cocity.report.evaluate_report import write_run_outputs

    store = open_store()
    fw = load_framework()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        records = open_records(root / "records.sqlite")
        start = time.perf_counter()
        for year in (2010, 2020):
            ev = evaluate(fw, store, year=year, replications=args.replications)
            run = save_run(ev, root / "evaluate",
                           lambda e, folder: write_run_outputs(e, folder, pdf=False))
            sign_edition(records, run.path, evaluator="benchmark", statement="",
                         actor="bench")
        print(f"evaluation runs (not timed): {time.perf_counter() - start:.1f} s")
        diagnostics = not args.no_diagnostics
        start = time.perf_counter()
        first = build_site(out=root / "site", store=store, records=records,
                           runs_root=root / "evaluate", diagnostics=diagnostics)
        t_first = time.perf_counter() - start
        start = time.perf_counter()
        again = build_site(out=root / "site", store=store, records=records,
                           runs_root=root / "evaluate", diagnostics=diagnostics)
        t_again = time.perf_counter() - start
        records.close()
    print(f"first build : {t_first:6.2f} s  ({first.pages} pages, {first.files} files, "
          f"diagnostics {first.diagnostics_s:.1f} s)")
    print(f"republish   : {t_again:6.2f} s  ({again.changed} files rewritten)")
    print(f"ratio republish / first build: {t_again / t_first:.2f}")


if __name__ == "__main__":
    main()
