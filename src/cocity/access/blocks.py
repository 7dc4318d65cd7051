"""The network searches of the accessibility engine as independent jobs, on any executor.

Every search of :class:`~cocity.access.kernel.Router` from one origin (or from one group of
sources) is independent of the others, so a large run splits into jobs mapped by
:func:`cocity.index.executors.completed` — the one executor map of the package: ``serial``,
``processes`` (a local pool) or ``dask`` (a ``distributed`` cluster).

- **Many-to-many travel times** (:func:`many_to_many`) and the **cumulative opportunities**
  computed from them (:func:`opportunities_within`): a job is a *block of origins* (at most
  ``block`` consecutive origins, :data:`ORIGIN_BLOCK` by default); it runs
  :meth:`Router.many_to_many <cocity.access.kernel.Router.many_to_many>` for its block and
  returns the block's rows (or, for the opportunities, one number per origin, so that little
  travels back). The caller stacks the blocks in origin order.
- **Nearest facility per group** (:func:`nearest_times`, used for the life circles): the
  natural job is *one group of sources* (a facility type: one pruned multi-source search),
  not a block of origins — a multi-source search cannot be split by the nodes it reaches. A
  job returns the group's times at the requested nodes only.

The graph (and the destinations, opportunities or nodes asked for) is shipped to each worker
once (:class:`SharedGraph`: through the pool's initializer, or ``client.scatter`` on Dask); a
job carries only its origins or its group. Each worker process builds its ``Router`` once and
reuses its buffers across jobs. On a pool or a Dask worker the router runs numba with **one
thread** (the executor already uses one process per core; more threads would oversubscribe
them); serial runs keep numba's own setting.

**Results are identical** to one call of the router's method on all the origins or groups:
each row (or group) is the same search with the same arithmetic wherever and whenever it runs
(a search's times do not depend on the number of threads, see :mod:`cocity.access.kernel`),
rows come back sorted by column as the router gives them, and the caller places every block by
its position, not by arrival. ``progress(done, total)`` is called as each job completes, with
origins (or groups) done so far.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from cocity.access.errors import AccessInputError
from cocity.access.kernel import CSRGraph, Direction, Router, as_graph
from cocity.i18n import t
from cocity.index.executors import choose, completed

#: origins per job unless ``block=`` says otherwise
ORIGIN_BLOCK = 1024

Progress = Callable[[int, int], None]


class SharedGraph:
    """What every job reads, shipped once: the graph, the search parameters and the
    per-call arrays in ``data``; :meth:`router` builds the worker's router on first use
    (one per thread, never pickled). ``threads``: the numba threads of that router
    (``None``: numba's setting)."""

    def __init__(self, graph: CSRGraph, *, threads: int | None = None,
                 router: Router | None = None, **data: Any) -> None:
        self.graph = graph
        self.threads = threads
        self.data = data
        self._local = threading.local()
        if router is not None:
            self._local.router = router

    def __getstate__(self) -> dict[str, Any]:
        return {"graph": self.graph, "threads": self.threads, "data": self.data}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["graph"], threads=state["threads"],  # type: ignore[misc]
                      **state["data"])

    def router(self) -> Router:
        router: Router | None = getattr(self._local, "router", None)
        if router is None:
            router = Router(self.graph, threads=self.threads)
            self._local.router = router
        return router


def _threads(executor: str | None) -> int | None:
    return None if executor == "serial" else 1


def origin_blocks(n: int, block: int | None = None) -> list[slice]:
    """Consecutive slices of at most ``block`` of ``n`` origins (depends on ``n`` and
    ``block`` only, never on the executor; default :data:`ORIGIN_BLOCK`)."""
    block = ORIGIN_BLOCK if block is None else block
    if isinstance(block, bool) or not isinstance(block, int | np.integer) or block < 1:
        raise AccessInputError(t("access.blocks.err.block", value=block))
    return [slice(lo, min(lo + int(block), n)) for lo in range(0, n, int(block))]


def _od_job(origins: NDArray[np.int64], shared: SharedGraph) -> Any:
    d = shared.data
    block = shared.router().many_to_many(origins, d["cutoff"], d["destinations"])
    if d["opportunities"] is None:
        return block
    from cocity.access.measures import cumulative_opportunities

    score = cumulative_opportunities(block, d["opportunities"], cutoff=d["within"])
    return np.asarray(score, dtype=np.float64)


def _map_blocks(graph: Any, origins: ArrayLike, cutoff: float | None, *, block: int | None,
                executor: str | None, workers: int, scheduler: str | None,
                progress: Progress | None, router: Router | None,
                **data: Any) -> tuple[list[Any], NDArray[Any]]:
    executor = choose(executor, scheduler=scheduler, workers=workers)
    g = router.graph if router is not None else as_graph(graph)
    orig = np.asarray(origins).ravel()  # checked by the router, in each job
    slices = origin_blocks(len(orig), block)
    jobs = [orig[s] for s in slices]
    shared = SharedGraph(g, threads=_threads(executor),
                         router=router if executor == "serial" else None,
                         cutoff=cutoff, **data)
    parts: list[Any] = [None] * len(jobs)
    done = 0
    for i, part in completed(_od_job, jobs, shared=shared, executor=executor,
                             workers=workers, scheduler=scheduler):
        parts[i] = part
        done += len(jobs[i])
        if progress:
            progress(done, len(orig))
    return parts, orig


def many_to_many(graph: Any, origins: ArrayLike, cutoff: float | None = None, *,
                 destinations: ArrayLike | None = None, block: int | None = None,
                 executor: str | None = None, workers: int = 1, scheduler: str | None = None,
                 progress: Progress | None = None,
                 router: Router | None = None) -> sparse.csr_matrix:
    """:meth:`Router.many_to_many <cocity.access.kernel.Router.many_to_many>` in blocks of
    origins: one bounded Dijkstra per origin (the kernel's), ``block`` origins per job, the
    blocks' rows stacked in origin order into one CSR matrix (``data``, ``indices`` and
    ``indptr`` identical to a single call). ``graph``: anything
    :func:`~cocity.access.kernel.as_graph` accepts (ignored when ``router`` is given; a
    serial run then reuses that router). ``executor``/``workers``/``scheduler``: as
    :func:`cocity.index.executors.completed`, the executor chosen by
    :func:`cocity.index.executors.choose` when not named."""
    parts, orig = _map_blocks(graph, origins, cutoff, block=block, executor=executor,
                              workers=workers, scheduler=scheduler, progress=progress,
                              router=router, destinations=destinations, opportunities=None,
                              within=None)
    if not parts:  # no origin: let the router give the empty matrix of the right shape
        g = router if router is not None else Router(graph)
        return g.many_to_many(orig, cutoff, destinations)
    # built as the router builds its own matrix (same arrays, same constructor, same dtypes)
    indptr = np.zeros(len(orig) + 1, dtype=np.int64)
    np.cumsum(np.concatenate([np.diff(p.indptr) for p in parts]), out=indptr[1:])
    out = sparse.csr_matrix((np.concatenate([p.data for p in parts]),
                             np.concatenate([p.indices for p in parts]), indptr),
                            shape=(len(orig), parts[0].shape[1]))
    out.has_sorted_indices = True
    return out


def opportunities_within(graph: Any, origins: ArrayLike, cutoff: float, *,
                         opportunities: ArrayLike, destinations: ArrayLike | None = None,
                         block: int | None = None, executor: str | None = None, workers: int = 1,
                         scheduler: str | None = None, progress: Progress | None = None,
                         router: Router | None = None) -> NDArray[np.float64]:
    """Cumulative opportunities of each origin on the network,
    ``A_i = Σ_j O_j [t_ij ≤ cutoff]`` (Wachs & Kumagai 1973, as
    :func:`cocity.access.measures.cumulative_opportunities`, closed catchment), with the
    travel times of :func:`many_to_many` computed and summed block by block on the workers:
    a job returns one number per origin, not its OD rows. ``opportunities``: one value per
    destination (per node when ``destinations`` is ``None``). Identical to
    ``cumulative_opportunities(Router(graph).many_to_many(origins, cutoff, destinations),
    opportunities, cutoff=cutoff)``."""
    weights = np.asarray(opportunities, dtype=np.float64).ravel()
    parts, _orig = _map_blocks(graph, origins, cutoff, block=block, executor=executor,
                              workers=workers, scheduler=scheduler, progress=progress,
                              router=router, destinations=destinations,
                              opportunities=weights, within=cutoff)
    return np.concatenate(parts) if parts else np.zeros(0, np.float64)


def _nearest_job(job: list[int], shared: SharedGraph) -> list[NDArray[np.float64]]:
    d = shared.data
    near = shared.router().nearest_groups([d["groups"][k] for k in job], d["cutoffs"][job[0]],
                                          offsets=[d["offsets"][k] for k in job],
                                          direction=d["direction"])
    return [n.time if d["at"] is None else n.time[d["at"]] for n in near]


def group_jobs(cutoffs: Sequence[float | None], per_job: int) -> list[list[int]]:
    """The groups (by position) split into jobs: groups sharing a cutoff, at most ``per_job``
    per job, in order of cutoff then position."""
    if isinstance(per_job, bool) or not isinstance(per_job, int | np.integer) or per_job < 1:
        raise AccessInputError(t("access.blocks.err.block", value=per_job))
    key = [np.inf if c is None else float(c) for c in cutoffs]
    jobs: list[list[int]] = []
    for c in sorted(set(key)):
        same = [k for k in range(len(key)) if key[k] == c]
        jobs += [same[i:i + int(per_job)] for i in range(0, len(same), int(per_job))]
    return jobs


def nearest_times(graph: Any, groups: Sequence[ArrayLike], cutoffs: Sequence[float | None], *,
                  offsets: Sequence[ArrayLike] | None = None, direction: Direction = "from",
                  at: ArrayLike | None = None, per_job: int | None = None,
                  executor: str | None = None, workers: int = 1,
                  scheduler: str | None = None, progress: Progress | None = None,
                  router: Router | None = None) -> list[NDArray[np.float64]]:
    """Per group of sources (e.g. a facility type), the time from (``direction="from"``) or
    to (``"to"``) its nearest source within the group's cutoff, by
    :meth:`Router.nearest_groups <cocity.access.kernel.Router.nearest_groups>` (one pruned
    multi-source bounded Dijkstra per group). A multi-source search cannot be split by
    origins, so the independent job is a set of groups sharing a cutoff: at most ``per_job``
    groups (default: one per job on a pool or Dask, where the workers are the parallelism;
    all the groups of a cutoff in one job when serial, where numba runs them in parallel
    threads). Returns one array per group,
    the times at the nodes ``at`` (all nodes when ``None``; ``inf`` beyond the cutoff) —
    identical to ``nearest_groups([group], cutoff, ...)[0].time[at]``."""
    executor = choose(executor, scheduler=scheduler, workers=workers)
    g = router.graph if router is not None else as_graph(graph)
    srcs = [np.asarray(s).ravel() for s in groups]  # checked by the router
    offs = ([np.zeros(len(s)) for s in srcs] if offsets is None
            else [np.asarray(o, dtype=np.float64).ravel() for o in offsets])
    if len(cutoffs) != len(srcs) or len(offs) != len(srcs):
        raise AccessInputError(t("access.blocks.err.groups", n=len(srcs),
                                 cutoffs=len(cutoffs), offsets=len(offs)))
    shared = SharedGraph(g, threads=_threads(executor),
                         router=router if executor == "serial" else None,
                         groups=srcs, offsets=offs, cutoffs=list(cutoffs), direction=direction,
                         at=None if at is None else np.asarray(at, dtype=np.int64))
    jobs = group_jobs(cutoffs, per_job if per_job is not None
                      else (len(srcs) or 1) if executor == "serial" else 1)
    out: list[Any] = [None] * len(srcs)
    done = 0
    for i, times in completed(_nearest_job, jobs, shared=shared, executor=executor,
                              workers=workers, scheduler=scheduler):
        for k, time in zip(jobs[i], times, strict=True):
            out[k] = time
        done += len(jobs[i])
        if progress:
            progress(done, len(srcs))
    return out
