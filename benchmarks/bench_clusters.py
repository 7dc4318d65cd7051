"""Benchmark: building a cluster workspace from the national base (``cocity init --cluster``).

Run: ``python benchmarks/bench_clusters.py [--repeat N]``. For clusters of growing size (3, 13
and 27 prefecture-level members, given as name lists) prints the best-of-N time of cutting the
cluster out of the national base (:func:`cocity.clusters.build.cluster_data`, which includes
the network cores), of writing it into a workspace, and of deriving its framework — against
the baseline of the same run: loading the whole national base into a store
(``open_store(dataset="china")``), which is what a user would otherwise start from. Machines
are noisy; compare the ratios.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from timing import timed

from cocity.clusters.build import cluster_data, load_cluster_into
from cocity.clusters.definition import user_cluster
from cocity.clusters.framework import cluster_framework
from cocity.data.store import Store
from cocity.datasets import open_store

SIZES = {
    "长株潭 (3)": ["长沙", "株洲", "湘潭"],
    "京津冀 (13)": ["北京", "天津", "石家庄", "唐山", "秦皇岛", "邯郸", "邢台", "保定", "张家口",
                   "承德", "沧州", "廊坊", "衡水"],
    "长三角中心区 (27)": ["上海", "南京", "无锡", "常州", "苏州", "南通", "扬州", "镇江", "盐城",
                     "泰州", "杭州", "宁波", "温州", "湖州", "嘉兴", "绍兴", "金华", "舟山",
                     "台州", "合肥", "芜湖", "马鞍山", "铜陵", "安庆", "滁州", "池州", "宣城"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    base, _ = timed(lambda: open_store(dataset="china").close(), args.repeat, stat=min)
    print(f"baseline: open_store(dataset='china') {base:.2f} s (best of {args.repeat})")
    print(f"{'cluster':<18}{'units':>7}{'cut s':>8}{'write s':>9}{'framework s':>13}"
          f"{'total s':>9}{'× baseline':>12}")
    for label, names in SIZES.items():
        cluster = user_cluster(names, key="bench")
        cut, data = timed(lambda c=cluster: cluster_data(c), args.repeat, stat=min)

        def write(d=data) -> None:
            with tempfile.TemporaryDirectory() as tmp:
                store = Store.open(Path(tmp) / "ws", create=True)
                load_cluster_into(store, d)
                store.close()

        wr, _ = timed(write, args.repeat, stat=min)
        fw, _ = timed(lambda d=data: cluster_framework(d), args.repeat, stat=min)
        total = cut + wr + fw
        print(f"{label:<18}{len(data.units):>7}{cut:>8.2f}{wr:>9.2f}{fw:>13.2f}{total:>9.2f}"
              f"{total / base:>12.2f}")


if __name__ == "__main__":
    main()
