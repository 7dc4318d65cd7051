"""Benchmark: start-up time of the command line.

Run: ``python benchmarks/bench_startup.py [--repeat N]``. Each figure is the best wall time of
N fresh Python processes (start-up is what a user waits for; machines are noisy, so compare
ratios measured in the same run):

- ``cocity --help`` and ``cocity evaluate --help`` as users type them (``python -m cocity``);
- the floor: a Python process importing only Typer and Rich (the CLI framework);
- the eager baseline: a process importing what the command modules imported at start-up
  before the numerical stacks were made lazy — the store (DuckDB, GeoPandas), the index
  engine, the diagnostics and the access report (NumPy, pandas, SciPy, statsmodels, Plotly);
- ``cocity --help`` of the code before this change itself (``--before REV``, default the last
  commit before it, extracted with ``git archive`` into a temporary folder and run with this
  environment's libraries), when the benchmark runs inside the git checkout.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EAGER = ("import typer, rich.console; import cocity.data.store, cocity.datasets, "
         "cocity.index.run, cocity.metrics.diagnose, cocity.report.access_report, "
         "cocity.report.index_summary, cocity.report.profile, cocity.report.render")
OLD_HELP = ("import sys; sys.path.insert(0, {src!r}); sys.argv = ['cocity', '--help']; "
            "from cocity.cli import main; main()")


def old_source(rev: str, folder: Path) -> Path | None:
    """``src`` of revision ``rev`` extracted into ``folder`` (None outside a git checkout)."""
    root = Path(__file__).resolve().parent.parent
    try:
        archive = subprocess.run(["git", "-C", str(root), "archive", rev, "src"],
                                 capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


def best_of_code(code: str, repeat: int) -> float:
    """Like :func:`best_of`, for ``python -c code`` whose exit status may be non-zero (help
    pages of Typer exit with 0, older ones through SystemExit)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
        best = min(best, time.perf_counter() - start)
    return best


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
    parser.add_argument("--before", default="2fd1732",
                        help="the revision before the change (default: the last one)")
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
    with tempfile.TemporaryDirectory() as tmp:
        src = old_source(args.before, Path(tmp))
        if src is not None:
            figures[f"cocity --help at {args.before}"] = best_of_code(
                OLD_HELP.format(src=str(src)), args.repeat)
    width = max(map(len, figures))
    for name, seconds in figures.items():
        print(f"{name:<{width}}  {seconds * 1000:8.1f} ms")
    help_s = figures["cocity --help"]
    eager = figures["eager baseline (before)"]
    print(f"\ncocity --help vs the eager baseline: {eager / help_s:.1f}"
          f"x faster; {help_s / figures['floor: import typer, rich']:.2f}x the floor")
    before = figures.get(f"cocity --help at {args.before}")
    if before is not None:
        print(f"cocity --help vs the code at {args.before}: {before / help_s:.1f}x faster")


if __name__ == "__main__":
    main()
