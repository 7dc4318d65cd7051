"""Benchmark: validated import of a long CSV and panel reads, against plain baselines.

Run: ``python benchmarks/bench_import.py [--rows N]``. Prints wall times and ratios against
baselines measured in the same run (machines are noisy; compare ratios, not seconds):

- import: ``import_observations`` (read, resolve names, validate every cell, diff against the
  store, one transaction) vs. the unvalidated baseline ``pandas.read_csv`` + one DuckDB INSERT;
- re-import of the same file (a no-op) vs. the same baseline;
- panel read: ``Store.panel`` for every indicator vs. ``pandas.read_csv`` + ``pivot`` of the
  package CSV.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from cocity.data import open_store
from cocity.data.importers import import_observations
from cocity.datasets import dataset_dir


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def make_csv(path: Path, rows: int) -> pd.DataFrame:
    """A long table on the real units (qualified names or codes), percentage indicators."""
    store = open_store()
    units = store.units()
    index = store.unit_index()
    names = [index.qualified_name(c) if i % 2 == 0 and lv != "province" else c
             for i, (c, lv) in enumerate(zip(units["code"], units["level"], strict=True))]
    catalog = store.catalog()
    indicators = list(catalog.index[catalog["value_kind"] == "share_pct"][:12])
    years_needed = int(np.ceil(rows / (len(units) * len(indicators))))
    years = np.arange(1901, 1901 + years_needed)
    grid = pd.MultiIndex.from_product([names, years, indicators]).to_frame(index=False)
    grid.columns = ["unit", "year", "indicator"]
    rng = np.random.default_rng(0)
    grid["value"] = rng.uniform(1, 99, len(grid)).round(3)
    grid = grid.head(rows)
    grid.to_csv(path, index=False)
    return grid


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.csv"
        make_csv(path, args.rows)

        def baseline() -> None:
            con = duckdb.connect(":memory:")
            con.execute("CREATE TABLE o (unit VARCHAR, year INTEGER, indicator VARCHAR, "
                        "value DOUBLE)")
            frame = pd.read_csv(path, dtype={"unit": str})
            con.register("incoming", frame)
            con.execute("INSERT INTO o SELECT * FROM incoming")

        t_base = best_of(baseline)
        timings = []
        for _ in range(3):
            store = open_store()
            t0 = time.perf_counter()
            result = import_observations(store, path)
            timings.append(time.perf_counter() - t0)
        t_import = min(timings)
        t_again = best_of(lambda: import_observations(store, path))
        assert result.added == args.rows

    obs_csv = dataset_dir() / "observations.csv"
    store = open_store()
    t_panel = best_of(lambda: store.panel())
    t_panel_base = best_of(lambda: pd.read_csv(obs_csv, dtype={"unit": str}).pivot(
        index=["unit", "year"], columns="indicator", values="value"))

    print(f"rows: {args.rows:,}")
    print(f"baseline read_csv + INSERT (no validation): {t_base:8.3f} s")
    print(f"cocity import (validated, transactional):   {t_import:8.3f} s"
          f"   ratio {t_import / t_base:5.1f}x   {args.rows / t_import:,.0f} rows/s")
    print(f"cocity re-import (no-op):                   {t_again:8.3f} s"
          f"   ratio {t_again / t_base:5.1f}x")
    print(f"baseline read_csv + pivot of the package:   {t_panel_base:8.3f} s")
    print(f"Store.panel() of all indicators:           {t_panel:8.3f} s"
          f"   ratio {t_panel / t_panel_base:5.1f}x")


if __name__ == "__main__":
    main()
