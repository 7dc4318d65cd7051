"""The one timer of the benchmark scripts, and their one local Dask cluster (imported as a
sibling module: run the scripts as ``python benchmarks/bench_x.py``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def timed(fn: Callable[[], Any], repeat: int, *,
          stat: Callable[[list[float]], float] = statistics.median) -> tuple[float, Any]:
    """(``stat`` — the median by default, or ``min`` for the best — of ``repeat`` calls of
    ``fn`` in seconds, the last call's result)."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return stat(times), out


@contextmanager
def local_cluster(workers: int) -> Iterator[tuple[Any, float]]:
    """(cocity's local Dask cluster of ``workers`` worker processes
    (:func:`cocity.index.executors.local_cluster`), quiet logs; the seconds it took to start),
    closed on leaving."""
    from cocity.index.executors import local_cluster as start

    t0 = time.perf_counter()
    cluster = start(workers, silence_logs=40)
    start = time.perf_counter() - t0
    try:
        yield cluster, start
    finally:
        cluster.close()
