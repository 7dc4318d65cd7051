"""Benchmark: loading the national base ``china``, against the chengyu default of the same run.

Run: ``python benchmarks/bench_dataset_china.py [--repeat N]``. Prints the package size of
each dataset, the best-of-N wall time of ``open_store(dataset=...)`` and of its parts
(units, observations, boundaries read; the store writes), and the ratio china / chengyu
(machines are noisy; compare ratios, not seconds). Also prints the boundary formats that were
weighed for ``china`` — gzip-compressed GeoJSON (read through GDAL's /vsigzip/) against the
GeoParquet the build writes — with their sizes and read times, so the choice can be re-checked.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
from timing import timed

from cocity.datasets import (
    dataset_dir,
    open_store,
    read_boundaries,
    read_observations,
    read_units,
)


def best_of(fn: Callable[[], object], repeat: int) -> float:
    return timed(fn, repeat, stat=min)[0]


def folder_mb(name: str) -> float:
    return sum(f.stat().st_size for f in dataset_dir(name).iterdir()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    open_store()  # warm the imports once, so neither side pays them

    print(f"{'':28}{'chengyu':>10}{'china':>10}{'ratio':>8}")
    print(f"{'package data (MB)':28}{folder_mb('chengyu'):>10.2f}{folder_mb('china'):>10.2f}"
          f"{folder_mb('china') / folder_mb('chengyu'):>8.1f}")
    rows: list[tuple[str, Callable[[str], object]]] = [
        ("open_store (s)", lambda n: open_store(dataset=n)),
        ("  read units (s)", read_units),
        ("  read observations (s)", read_observations),
        ("  read boundaries (s)", read_boundaries),
    ]
    for label, fn in rows:
        a = best_of(lambda fn=fn: fn("chengyu"), args.repeat)
        b = best_of(lambda fn=fn: fn("china"), args.repeat)
        print(f"{label:28}{a:>10.3f}{b:>10.3f}{b / a:>8.1f}")
    units = read_units("china")
    print(f"china: {len(units)} units, {len(read_observations('china'))} observations, "
          f"{len(read_boundaries('china'))} boundaries")

    # The boundary formats weighed for china (the build writes GeoParquet).
    geo = read_boundaries("china")
    with tempfile.TemporaryDirectory() as tmp:
        gz = Path(tmp) / "boundaries.geojson.gz"
        text = geo.to_json(drop_id=True, to_wgs84=False)
        fc = json.loads(text)
        gz.write_bytes(gzip.compress(json.dumps(fc, separators=(",", ":")).encode(), mtime=0))
        parquet = dataset_dir("china") / "boundaries.parquet"
        t_gz = best_of(lambda: gpd.read_file(f"/vsigzip/{gz}"), args.repeat)
        t_pq = best_of(lambda: gpd.read_parquet(parquet), args.repeat)
        print(f"boundaries as GeoJSON      {len(text.encode()) / 1e6:8.2f} MB")
        print(f"boundaries as GeoJSON.gz   {gz.stat().st_size / 1e6:8.2f} MB  read {t_gz:.3f} s")
        print(f"boundaries as GeoParquet   {parquet.stat().st_size / 1e6:8.2f} MB  read "
              f"{t_pq:.3f} s  (GeoJSON.gz / GeoParquet read time: {t_gz / t_pq:.1f})")


if __name__ == "__main__":
    main()
