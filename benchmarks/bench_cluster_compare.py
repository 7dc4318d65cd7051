"""Benchmark: comparing two clusters against running the diagnostics on them one by one.

Run: ``python benchmarks/bench_cluster_compare.py [--repeat 3] [--permutations 999]``.

Clusters: user clusters of 京津冀's 13 cities and the 9 Guangdong cities of the Greater Bay
Area, cut from the national base. Timed in the same run:

- **baseline** — for each cluster, cut its store from the national base
  (:func:`cocity.clusters.build.open_cluster`) and run
  :func:`cocity.metrics.diagnose.run_diagnostics` with the same spec;
- **comparison** — :func:`cocity.clusters.compare.compare_clusters` on both (which does the
  same, plus the check of common indicators, the service figures on each cluster's regional
  network, the definitions and notes);
- **report** — :func:`cocity.report.cluster_compare.write_compare_outputs` into a temporary
  folder.

The ratio comparison / baseline is the overhead of the comparison. Prints; never asserts.
"""

from __future__ import annotations

import argparse
import tempfile
from typing import Any

from timing import timed

from cocity.clusters.build import open_cluster
from cocity.clusters.compare import compare_clusters, comparison_spec
from cocity.clusters.definition import Cluster, user_cluster
from cocity.metrics.diagnose import run_diagnostics
from cocity.report.cluster_compare import write_compare_outputs

JJJ = ["北京", "天津", "石家庄", "唐山", "秦皇岛", "邯郸", "邢台", "保定", "张家口", "承德",
       "沧州", "廊坊", "衡水"]
GBA = ["广州", "深圳", "珠海", "佛山", "惠州", "东莞", "中山", "江门", "肇庆"]


def baseline(clusters: list[Cluster], overrides: dict[str, Any]) -> list[Any]:
    spec = comparison_spec(overrides)
    out = []
    for c in clusters:
        store = open_cluster(c)
        try:
            out.append(run_diagnostics(store, spec))
        finally:
            store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--permutations", type=int, default=999)
    args = ap.parse_args()
    overrides = {"inequality": {"permutations": args.permutations},
                 "spatial": {"permutations": args.permutations}}
    clusters = [user_cluster(JJJ, key="jjj"), user_cluster(GBA, key="gba")]
    baseline(clusters, overrides)  # warm: numba compilation, file caches
    t_base, _ = timed(lambda: baseline(clusters, overrides), args.repeat)
    t_cmp, cmp = timed(lambda: compare_clusters(clusters, spec=overrides), args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        t_rep, _ = timed(lambda: write_compare_outputs(cmp, tmp), args.repeat)
    print(f"two clusters (13 + 9 cities, {int(cmp.value('counties', 'jjj'))} + "
          f"{int(cmp.value('counties', 'gba'))} county-level units), "
          f"{args.permutations} permutations, median of {args.repeat}")
    print(f"  baseline: open + run_diagnostics one by one  {t_base:7.2f} s")
    print(f"  compare_clusters                             {t_cmp:7.2f} s  "
          f"(ratio {t_cmp / t_base:.2f}, overhead {t_cmp - t_base:+.2f} s)")
    print(f"  write_compare_outputs (CSV, XLSX, HTML)      {t_rep:7.2f} s")


if __name__ == "__main__":
    main()
