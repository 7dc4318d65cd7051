"""One way to map independent jobs over an executor: ``serial``, ``processes`` or ``dask``.

:func:`completed` runs ``fn(job, shared)`` for every job and yields ``(position, result)`` as
each job finishes, so that a caller can advance a progress bar with the futures and put each
result in its place. ``shared`` (the arrays every job reads) is shipped to each worker once,
not once per task: to a process pool through its initializer, to a Dask cluster with
``client.scatter(..., broadcast=True)``; each job then carries only its own data.

The executor never changes a result: the jobs draw no random numbers (every random draw is
made beforehand by the caller, from ``numpy.random.SeedSequence(seed).spawn(...)`` streams),
each job is computed by the same function on the same inputs wherever it runs, and the caller
places results by position, not by arrival order.

Dask (``distributed``): the scheduler address is the ``scheduler`` argument, else the
environment variable :data:`SCHEDULER_ENV` (e.g. ``tcp://10.0.0.5:8786``, a scheduler started by
``dask scheduler`` / ``dask-jobqueue`` / ``dask-kubernetes``); with neither, a
``LocalCluster`` of ``workers`` single-threaded worker processes (no dashboard) is started for
the call and closed after it. ``distributed`` is imported only when ``dask`` is asked for.

Local workers share the machine's cores: each worker process of a pool or local cluster gives
numba's parallel kernels :func:`worker_threads` threads (cores // workers), so that two
workers on two cores do not run four spinning kernel threads (measured on the per-cluster runs:
2 Dask workers 14.6 s → 11.5 s). Workers of a remote cluster keep their own setting.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

from cocity.data.errors import CocityError
from cocity.i18n import t

EXECUTORS = ("serial", "processes", "dask")
#: environment variable holding the address of a Dask scheduler
SCHEDULER_ENV = "COCITY_DASK_SCHEDULER"

J = TypeVar("J")
S = TypeVar("S")
R = TypeVar("R")


class ExecutorError(CocityError, ValueError):
    """An executor cannot be used as asked (unknown name, unreachable scheduler)."""


def choose(executor: str | None = None, *, scheduler: str | None = None,
           workers: int = 1) -> str:
    """The executor to use: ``executor`` when given (checked), else ``dask`` when a scheduler
    address is known (``scheduler`` or ``$COCITY_DASK_SCHEDULER``), else ``processes`` when
    ``workers`` > 1, else ``serial``. Every command that maps jobs decides the same way."""
    if executor is not None:
        if executor not in EXECUTORS:
            raise ExecutorError(t("index.dask.unknown", name=executor,
                                  known=", ".join(EXECUTORS)))
        return executor
    if scheduler_address(scheduler):
        return "dask"
    return "processes" if workers > 1 else "serial"


def completed(fn: Callable[[J, S], R], jobs: Sequence[J], *, shared: S,
              executor: str = "serial", workers: int = 1, scheduler: str | None = None,
              timeout: float = 10.0) -> Iterator[tuple[int, R]]:
    """Yield ``(i, fn(jobs[i], shared))`` for every job, in the order the jobs finish.

    ``fn`` must be a module-level function (picklable). ``workers``: size of the process pool
    or of the local Dask cluster. ``scheduler``: address of a running Dask scheduler (default
    ``$COCITY_DASK_SCHEDULER``); ``timeout``: seconds to wait for it before giving up with an
    :class:`ExecutorError`. A process pool is made by :func:`process_pool`."""
    if executor not in EXECUTORS:
        raise ExecutorError(t("index.dask.unknown", name=executor, known=", ".join(EXECUTORS)))
    if executor == "serial" or (executor == "processes" and (workers < 2 or len(jobs) < 2)):
        for i, job in enumerate(jobs):
            yield i, fn(job, shared)
    elif executor == "processes":
        yield from _processes(fn, jobs, shared, workers)
    else:
        yield from _dask(fn, jobs, shared, workers, scheduler, timeout)


_SHARED: Any = None
#: environment variable read by numba when it is imported: threads of its parallel kernels
NUMBA_THREADS_ENV = "NUMBA_NUM_THREADS"


def worker_threads(workers: int) -> int:
    """Threads of numba's parallel kernels in each of ``workers`` local worker processes: the
    cores this process may run on, shared out, at least 1."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // max(1, workers))


def _limit_threads(threads: int) -> None:
    """In a worker process: numba's parallel kernels use ``threads`` threads (set now if numba
    is loaded, else read by numba when it is)."""
    if "numba" in sys.modules:
        import numba

        most = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
        numba.set_num_threads(min(threads, most))
    else:
        os.environ[NUMBA_THREADS_ENV] = str(threads)


def _start_worker(threads: int, initializer: Callable[..., None] | None,
                  initargs: tuple[Any, ...]) -> None:
    _limit_threads(threads)
    if initializer is not None:
        initializer(*initargs)


def _install(shared: Any) -> None:
    """Process-pool initializer: keep the shared data in the worker process."""
    global _SHARED
    _SHARED = shared


def _call(fn: Callable[[Any, Any], Any], job: Any) -> Any:
    return fn(job, _SHARED)


def process_pool(workers: int, *, initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = ()) -> ProcessPoolExecutor:
    """The one way cocity starts worker processes: ``workers`` processes *spawned*, not forked,
    each with :func:`worker_threads` kernel threads.

    numba's parallel kernels (the shortest-path kernel, the permutation tests) run on GNU
    OpenMP, which aborts a child forked from a process where it has started; a spawned worker
    starts clean (at the cost of importing its modules, about a second, once per pool)."""
    return ProcessPoolExecutor(max_workers=workers, initializer=_start_worker,
                               initargs=(worker_threads(workers), initializer, initargs),
                               mp_context=multiprocessing.get_context("spawn"))


def local_cluster(workers: int, **kwargs: Any) -> Any:
    """The one way cocity starts a Dask ``LocalCluster``: ``workers`` single-threaded worker
    processes, no dashboard, each with :func:`worker_threads` kernel threads (``kwargs`` go to
    ``LocalCluster``, e.g. ``silence_logs``). The caller closes it."""
    from distributed import LocalCluster

    workers = max(1, workers)
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                        dashboard_address=None,
                        env={NUMBA_THREADS_ENV: str(worker_threads(workers))}, **kwargs)


def _processes(fn: Callable[[J, S], R], jobs: Sequence[J], shared: S,
               workers: int) -> Iterator[tuple[int, R]]:
    with process_pool(workers, initializer=_install, initargs=(shared,)) as pool:
        futures = {pool.submit(_call, fn, job): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            yield futures[future], future.result()


def scheduler_address(scheduler: str | None = None) -> str | None:
    """The Dask scheduler to use: the argument, else ``$COCITY_DASK_SCHEDULER``, else None (a
    local cluster)."""
    return scheduler or os.environ.get(SCHEDULER_ENV) or None


def _dask(fn: Callable[[J, S], R], jobs: Sequence[J], shared: S, workers: int,
          scheduler: str | None, timeout: float) -> Iterator[tuple[int, R]]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    address = scheduler_address(scheduler)
    cluster = None
    if address is None:
        cluster = local_cluster(workers)
        client = Client(cluster, set_as_default=False)
    else:
        try:
            client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ExecutorError(t("index.dask.unreachable", address=address,
                                  env=SCHEDULER_ENV, reason=str(exc) or type(exc).__name__)
                                ) from exc
    try:
        [data] = client.scatter([shared], broadcast=True)
        futures = [client.submit(fn, job, data, pure=False) for job in jobs]
        position = {f.key: i for i, f in enumerate(futures)}
        for future, result in dask_completed(futures, loop=client.loop, with_results=True):
            yield position[future.key], result
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
