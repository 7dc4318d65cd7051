"""Benchmark: start-up time of the command line.

Run: ``python benchmarks/bench_startup.py [--repeat N]``. Each figure is the best wall time of
N fresh Python processes (start-up is what a user waits for; machines are noisy, so compare
ratios measured in the same run):

- ``cocity --help`` and ``cocity evaluate --help`` as users type them (``python -m cocity``);
- the floor: a Python process importing only Typer and Rich (the CLI framework);
- the eager baseline: a process importing what the command modules imported at start-up
  before the numerical stacks were made lazy — the store (DuckDB, GeoPandas), the index
  engine, the diagnostics and the access report (NumPy, pandas, SciPy, statsmodels, Plotly) —
  i.e. the start-up ``cocity --help`` had before, measured on this machine in this run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

EAGER = ("import typer, rich.console; import cocity.data.store, cocity.index.build, "
         "cocity.metrics.diagnose, cocity.report.access_report, cocity.report.index_summary, "
         "cocity.report.profile, cocity.report.render")


def best_of(argv: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    py = sys.executable
    figures = {
        "cocity --help": best_of([py, "-m", "cocity", "--help"], args.repeat),
        "cocity evaluate --help": best_of([py, "-m", "cocity", "evaluate", "--help"],
                                          args.repeat),
        "floor: import typer, rich": best_of([py, "-c", "import typer, rich.console"],
                                             args.repeat),
        "eager baseline (before)": best_of([py, "-c", EAGER], args.repeat),
    }
    width = max(map(len, figures))
    for name, seconds in figures.items():
        print(f"{name:<{width}}  {seconds * 1000:8.1f} ms")
    help_s = figures["cocity --help"]
    print(f"\ncocity --help vs the eager baseline: {figures['eager baseline (before)'] / help_s:.1f}"
          f"x faster; {help_s / figures['floor: import typer, rich']:.2f}x the floor")


if __name__ == "__main__":
    main()
