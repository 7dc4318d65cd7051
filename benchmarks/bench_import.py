"""Benchmark: validated import of a long CSV and panel reads, against baselines of the same run.

Run: ``python benchmarks/bench_import.py [--rows N]``. Prints wall times, rows per second and
ratios against baselines measured in the same run (machines are noisy; compare ratios, not
seconds):

- reference: the record-by-record importer as it was before the import was vectorised (a copy
  kept in this script, :func:`reference_import`: the CSV read with the csv module into rows of
  cells, one Python object per record, every cell parsed on its own, written with INSERT OR
  REPLACE into an observations table with a PRIMARY KEY index);
- import: ``import_observations`` (read, resolve names, validate every cell, diff against the
  store, one transaction), and its ratio to the reference — the speed-up;
- the unvalidated floor ``pandas.read_csv`` + one DuckDB INSERT;
- re-import of the same file (a no-op);
- panel read: ``Store.panel`` for every indicator vs. ``pandas.read_csv`` + ``pivot`` of the
  package CSV.
"""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from cocity.data.importers import import_observations
from cocity.data.store import Store
from cocity.data.validate import (
    CellError,
    IndicatorMatcher,
    UnitResolver,
    parse_value,
    parse_year,
)
from cocity.datasets import dataset_dir, load_into, open_store


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


# ------------------------------------------------------------------ the reference (before)
_PK_OBSERVATIONS = """
CREATE TABLE observations (
  unit VARCHAR NOT NULL, year INTEGER NOT NULL, indicator VARCHAR NOT NULL, value DOUBLE,
  source VARCHAR, imputed BOOLEAN NOT NULL DEFAULT FALSE,
  simulated BOOLEAN NOT NULL DEFAULT FALSE, PRIMARY KEY (unit, year, indicator));
"""


def reference_store() -> Store:
    """The embedded dataset in a store whose observations table has the PRIMARY KEY index
    that workspaces had before."""
    con = duckdb.connect(":memory:")
    con.execute(_PK_OBSERVATIONS)
    store = Store(con, None)
    load_into(store)
    return store


def reference_import(store: Store, path: Path) -> int:
    """The long-table import record by record, as it was (valid files only: the benchmark
    file is valid). Returns the number of observations written."""
    text = path.read_bytes().decode("utf-8-sig")
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=","))
    ncols = max(len(r) for r in records)
    rows = [(n, [c if c.strip() else None for c in r] + [None] * (ncols - len(r)))
            for n, r in enumerate(records, start=1)]
    header = [str(c).strip().lower() for c in rows[0][1]]
    col = {name: header.index(name) for name in ("unit", "year", "indicator", "value")}
    matcher = IndicatorMatcher(store.catalog())
    units = UnitResolver(store.unit_index())
    raw = []
    for number, cells in rows[1:]:
        indicator, _ = matcher.resolve(cells[col["indicator"]])
        if cells[col["value"]] is None:
            continue
        raw.append((number, indicator, cells[col["value"]], cells[col["year"]],
                    cells[col["unit"]]))
    out: list[tuple[str, int, str, float, str, int, str]] = []
    seen: dict[tuple[str, int, str], int] = {}
    for number, indicator, value_cell, year_cell, unit_cell in raw:
        try:
            code = units.resolve(unit_cell)
            year = parse_year(year_cell)
            value = parse_value(value_cell, matcher.value_kind(indicator))
        except CellError as exc:
            raise SystemExit(f"reference import: row {number}: {exc.message}") from None
        assert value is not None
        key = (code, year, indicator)
        if key in seen:
            raise SystemExit(f"reference import: row {number} repeats row {seen[key]}")
        seen[key] = number
        out.append((code, year, indicator, value, path.name, number, "value (D)"))
    frame = pd.DataFrame(out, columns=["unit", "year", "indicator", "value", "source",
                                       "src_row", "src_col"])
    old = store.observations(indicators=sorted(set(frame["indicator"])),
                             years=sorted({int(y) for y in frame["year"]}))
    merged = frame.merge(old[["unit", "year", "indicator"]], on=["unit", "year", "indicator"])
    assert merged.empty
    frame["imputed"] = False
    frame["simulated"] = False
    write = frame[["unit", "year", "indicator", "value", "source", "imputed", "simulated"]]
    con = store.con
    con.register("incoming", write)
    con.execute("BEGIN TRANSACTION")
    con.execute("INSERT OR REPLACE INTO observations SELECT * FROM incoming")
    con.execute("COMMIT")
    con.unregister("incoming")
    return len(frame)


# ------------------------------------------------------------------ main
def timed(make: Callable[[], Store], run: Callable[[Store], object], repeat: int = 3) -> float:
    """Best wall time of ``run`` on a fresh store from ``make`` (the store is not timed)."""
    times = []
    for _ in range(repeat):
        store = make()
        t0 = time.perf_counter()
        run(store)
        times.append(time.perf_counter() - t0)
        store.close()
    return min(times)


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

        import_observations(open_store(), path, dry_run=True)  # labels, caches: not timed
        t_base = best_of(baseline)
        t_ref = timed(reference_store, lambda s: reference_import(s, path))
        t_import = timed(open_store, lambda s: import_observations(s, path))
        store = open_store()
        result = import_observations(store, path)
        assert result.added == args.rows
        t_again = best_of(lambda: import_observations(store, path))

    obs_csv = dataset_dir() / "observations.csv"
    store = open_store()
    t_panel = best_of(lambda: store.panel())
    t_panel_base = best_of(lambda: pd.read_csv(obs_csv, dtype={"unit": str}).pivot(
        index=["unit", "year"], columns="indicator", values="value"))

    n = args.rows
    print(f"rows: {n:,}")
    print(f"floor: read_csv + INSERT (no validation):    {t_base:8.3f} s   "
          f"{n / t_base:12,.0f} rows/s")
    print(f"reference: record-by-record import (before): {t_ref:8.3f} s   "
          f"{n / t_ref:12,.0f} rows/s")
    print(f"cocity import (vectorised, validated):       {t_import:8.3f} s   "
          f"{n / t_import:12,.0f} rows/s   speed-up {t_ref / t_import:5.1f}x over the reference"
          f"   {t_import / t_base:5.1f}x the floor")
    print(f"cocity re-import (no-op):                    {t_again:8.3f} s   "
          f"{t_again / t_base:5.1f}x the floor")
    print(f"baseline read_csv + pivot of the package:    {t_panel_base:8.3f} s")
    print(f"Store.panel() of all indicators:            {t_panel:8.3f} s"
          f"   ratio {t_panel / t_panel_base:5.1f}x")


if __name__ == "__main__":
    main()
