"""numba kernels of the uncertainty engine, bit-identical to the numpy/scipy code they replace.

Two hot spots of :func:`cocity.index.uncertainty.run_uncertainty` (3,000 units × 60 indicators,
10,240 replications) are done here:

- :func:`tree_means` — the scores of every node of a framework tree aggregated by weighted
  arithmetic means, for many replications, each replication's whole tree computed in a
  per-thread table that stays in cache (instead of one ``(rows, n, k)`` stack and product per
  node). It reproduces :func:`cocity.index.aggregate.arithmetic` on complete data operation by
  operation: ``w' = w / Σw`` and ``y = Σ_j w'_j y_j``, both sums in numpy's order — numpy's
  pairwise summation (``loops_utils.h.src``: below 8 terms one running sum; up to 128 terms
  eight interleaved accumulators combined as ``((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))``, the
  remainder added after; the reduction starts from the identity ``+0``). No ``fastmath``, so
  no fused multiply-add or reassociation. Cases it does not reproduce — a non-finite input, a
  negative or non-finite weight, weights summing to 0, more than 128 children, a non-finite
  result — make it report failure, and the caller then takes the numpy path, which gives the
  same result or the same error as before.
- :func:`weighted_means` — the weighted sum of one node's children for many replications,
  ``(R, n, k)`` → ``(R, n)``, in the same order; the engine uses it for the logarithms of the
  geometric mean (the logarithms and the exponential stay numpy's).
- :func:`min_ranks` — ranks along the last axis, 1 = highest, ties sharing the best (lowest)
  rank, ``NaN`` left ``NaN`` and the other values ranked among themselves: exactly
  ``scipy.stats.rankdata(-x, axis=-1, method="min", nan_policy="omit")``, dtype included.
  numpy's (unstable, SIMD) ``argsort`` orders each row, then one linear scan gives each run of
  equal values the rank of its first member (the order within a run does not matter for the
  "min" method).

numpy's summation order follows the memory layout: the kernel matches it for the C-contiguous
arrays the engine passes to the aggregation methods (children stacked as ``(rows, n, k)``,
weights ``weights[np.ix_(rows, kids)]``); for other layouts numpy may sum 8 or more children
in one running sum instead (below 8 children the two orders are the same).

The kernels run on one thread: on the shared two-core machine numba's (GNU OpenMP) threads
were slower than one, and they do not survive the fork of a process pool; more cores come from
the executors (``workers``, Dask), each worker running the kernels serially.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: the largest number of children numpy sums in one block (``PW_BLOCKSIZE``); wider nodes
#: would need numpy's recursive halving, and go to the numpy path instead
MAX_CHILDREN = 128
#: rows sorted at a time by :func:`min_ranks` (bounds the index array it needs)
RANK_BLOCK = 1024


@njit(cache=True, inline="always")
def _pairwise(v: Array, k: int) -> float:
    """numpy's ``np.sum`` of ``v[:k]`` (k ≤ 128): the pairwise order, from the identity +0."""
    if k < 8:
        s = v[0]
        for j in range(1, k):
            s += v[j]
        return s + 0.0
    r0, r1, r2, r3 = v[0], v[1], v[2], v[3]
    r4, r5, r6, r7 = v[4], v[5], v[6], v[7]
    j = 8
    while j < k - (k % 8):
        r0 += v[j]
        r1 += v[j + 1]
        r2 += v[j + 2]
        r3 += v[j + 3]
        r4 += v[j + 4]
        r5 += v[j + 5]
        r6 += v[j + 6]
        r7 += v[j + 7]
        j += 8
    s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while j < k:
        s += v[j]
        j += 1
    return s + 0.0


@njit(cache=True, inline="always")
def _node(table: Array, rows: IntArray, w: Array, k: int, dst: Array, acc: Array) -> None:
    """``dst = Σ_j w[j] · table[rows[j]]`` in numpy's pairwise order, vectorised over units."""
    n = dst.size
    if k < 8:
        src = table[rows[0]]
        wj = w[0]
        for i in range(n):
            dst[i] = wj * src[i]
        for j in range(1, k):
            src = table[rows[j]]
            wj = w[j]
            for i in range(n):
                dst[i] += wj * src[i]
    else:
        for q in range(8):
            src = table[rows[q]]
            wj = w[q]
            for i in range(n):
                acc[q, i] = wj * src[i]
        j = 8
        while j < k - (k % 8):
            for q in range(8):
                src = table[rows[j + q]]
                wj = w[j + q]
                for i in range(n):
                    acc[q, i] += wj * src[i]
            j += 8
        for i in range(n):
            dst[i] = ((acc[0, i] + acc[1, i]) + (acc[2, i] + acc[3, i])) + (
                (acc[4, i] + acc[5, i]) + (acc[6, i] + acc[7, i]))
        while j < k:
            src = table[rows[j]]
            wj = w[j]
            for i in range(n):
                dst[i] += wj * src[i]
            j += 1
    for i in range(n):
        dst[i] += 0.0


@njit(cache=True)
def _tree_block(norm_t: Array, child_ptr: IntArray, child_row: IntArray, child_pos: IntArray,
                weights: Array, export: IntArray, out: Array, first: int, stop: int) -> bool:
    """Replications ``first … stop−1`` in one table; False as soon as one cannot be exact."""
    m, n = norm_t.shape
    nodes = child_ptr.size - 1
    table = np.empty((m + nodes, n))
    acc = np.empty((8, n))
    w = np.empty(MAX_CHILDREN)
    for c in range(m):
        for i in range(n):
            x = norm_t[c, i]
            if not np.isfinite(x):
                return False
            table[c, i] = x
    for r in range(first, stop):
        for f in range(nodes):
            lo, k = child_ptr[f], child_ptr[f + 1] - child_ptr[f]
            if k > MAX_CHILDREN:
                return False
            for j in range(k):
                x = weights[r, child_pos[lo + j]]
                if not (np.isfinite(x) and x >= 0.0):
                    return False
                w[j] = x
            total = _pairwise(w, k)
            if not total > 0.0:
                return False
            for j in range(k):
                w[j] = w[j] / total
            _node(table, child_row[lo:lo + k], w, k, table[m + f], acc)
        for e in range(export.size):
            src = table[export[e]]
            for i in range(n):
                if not np.isfinite(src[i]):
                    return False
                out[r, e, i] = src[i]
    return True


def tree_means(normalised: Array, child_ptr: IntArray, child_row: IntArray,
               child_pos: IntArray, weights: Array, export: IntArray) -> Array | None:
    """Scores ``(R, len(export), n)`` of a tree aggregated by weighted arithmetic means for the
    R replications of ``weights``, or ``None`` when the exact numpy result cannot be
    reproduced here (module docstring) and the caller must take the numpy path.

    ``normalised`` ``(n, m)``: the indicators' scores, shared by the replications. The nodes
    ``f = 0 … F−1`` come bottom-up; node ``f``'s children are ``child_row[child_ptr[f] :
    child_ptr[f+1]]``, rows of a table whose rows ``0 … m−1`` are the indicators and
    ``m + g`` node ``g`` (< ``f``); their weights are read in ``weights`` ``(R, P)`` at the
    tree positions ``child_pos`` (same layout). ``export``: the table rows returned."""
    norm_t = np.ascontiguousarray(np.asarray(normalised, dtype=np.float64).T)
    w = np.ascontiguousarray(weights, dtype=np.float64)
    out = np.empty((w.shape[0], len(export), norm_t.shape[1]))
    ok = _tree_block(norm_t, np.asarray(child_ptr, np.int64), np.asarray(child_row, np.int64),
                     np.asarray(child_pos, np.int64), w, np.asarray(export, np.int64), out, 0,
                     w.shape[0])
    return out if ok else None


@njit(cache=True)
def _weighted_rows(y: Array, w: Array, out: Array) -> bool:
    reps, n, k = y.shape
    v = np.empty(MAX_CHILDREN)
    p = np.empty(MAX_CHILDREN)
    if k > MAX_CHILDREN:
        return False
    for r in range(reps):
        for j in range(k):
            x = w[r, j]
            if not (np.isfinite(x) and x > 0.0):
                return False
            v[j] = x
        total = _pairwise(v, k)
        for j in range(k):
            v[j] = v[j] / total
        for i in range(n):
            for j in range(k):
                p[j] = v[j] * y[r, i, j]
            out[r, i] = _pairwise(p, k)
    return True


def weighted_means(y: Array, w: Array) -> Array | None:
    """``Σ_j (w_rj / Σ_l w_rl) · y_rij`` ``(R, n)`` for C-contiguous children ``y`` ``(R, n, k)``
    and positive weights ``w`` ``(R, k)``, equal to numpy's ``np.sum(w' * y, axis=-1)`` on
    them (the pairwise order of the module docstring); None when a weight is not positive and
    finite or ``k`` > :data:`MAX_CHILDREN`. ``y`` is not checked (its non-finite values go
    through the arithmetic as numpy's would)."""
    if not (y.flags.c_contiguous and w.flags.c_contiguous):
        return None
    out = np.empty(y.shape[:2])
    return out if _weighted_rows(y, w, out) else None


@njit(cache=True)
def _scan_row(x: Array, order: IntArray, out: NDArray[Any]) -> None:
    n = x.size
    seen = 0
    rank = 0
    previous = 0.0
    for t in range(n - 1, -1, -1):      # descending: walk the ascending order backwards
        i = order[t]
        v = x[i]
        if v != v:
            out[i] = np.nan
            continue
        seen += 1
        if seen == 1 or v != previous:
            rank = seen
            previous = v
        out[i] = rank


@njit(cache=True)
def _scan_rows(values: Array, order: IntArray, out: NDArray[Any]) -> None:
    for r in range(values.shape[0]):
        _scan_row(values[r], order[r], out[r])


def min_ranks(scores: Array) -> NDArray[Any]:
    """Ranks along the last axis of a 2-D array: 1 = highest, ties share the lowest rank,
    ``NaN`` stays ``NaN`` (equal to ``scipy.stats.rankdata(-scores, axis=-1, method="min",
    nan_policy="omit")``, its dtype too: int64, or float64 when a value is ``NaN``; module
    docstring). Rows are sorted :data:`RANK_BLOCK` at a time."""
    x = np.ascontiguousarray(scores, dtype=np.float64)
    out: NDArray[Any] = np.empty(x.shape, dtype=np.float64 if np.isnan(x).any() else np.int64)
    for start in range(0, x.shape[0], RANK_BLOCK):
        block = x[start:start + RANK_BLOCK]
        _scan_rows(block, np.argsort(block, axis=-1), out[start:start + RANK_BLOCK])
    return out
