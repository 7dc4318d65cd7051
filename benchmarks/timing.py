"""The one timer of the benchmark scripts (imported as a sibling module: run the scripts as
``python benchmarks/bench_x.py``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
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
