"""Slow report files written in worker processes while the command goes on.

A report's PDFs (WeasyPrint lays out and draws in pure Python) and workbooks (XlsxWriter) take
most of a run's time but need only their input — an HTML string, a few frames — not the
computation that produced it. :class:`Background` sends such a job to a pool of ``workers``
processes (:class:`concurrent.futures.ProcessPoolExecutor`) and returns a future at once, so
that the caller computes the next thing (e.g. the next edition of ``cocity evaluate``) while
the files are written; ``workers=0`` writes each file at once, in the calling process, and
returns a finished future.

Jobs wait in the caller's queue and a worker is handed one only when it is free (the pool's
own queue would commit jobs to a busy worker ahead of time). When the caller has nothing left
to compute it calls :meth:`Background.help` and takes jobs from the same queue, in the order
submitted — the order the workers take them in — until none is left: a caller who submits its
longest jobs first (a report's PDFs before its workbooks) has both sides take the longest job
left, and no core waits at the end while the other writes two files in a row. The files are
the same either way: a job is a module-level writer called with the same arguments wherever
it runs, with the cyclic garbage collector paused (:func:`collected_after`).

A command starts the workers (:meth:`Background.start`) before it computes: they fork from a
small heap and load their libraries (``prepare``) on the core the computation leaves idle.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from pathlib import Path
from types import TracebackType
from typing import Any

#: worker processes by default: one beside the calling process, on a two-core machine
DEFAULT_WORKERS = 1


class _Job:
    """One submitted job: the call, and the caller's future for its result."""

    def __init__(self, fn: Callable[..., Path], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.proxy: Future[Path] = Future()

    def run(self) -> None:
        """Run here; the result or the error goes to the future."""
        _settle(self.proxy, lambda: collected_after(self.fn, *self.args, **self.kwargs))

    def copy(self, pooled: Future[Path]) -> None:
        """Take the result or the error of the pool's future."""
        _settle(self.proxy, pooled.result)


def collected_after(fn: Callable[..., Path], *args: Any, **kwargs: Any) -> Path:
    """``fn(*args, **kwargs)`` with the cyclic garbage collector paused, and one collection
    of the youngest generation after it — which, no collection having run meanwhile, holds
    everything the job allocated and none of the caller's older objects. A writer builds many
    short-lived objects (WeasyPrint's boxes, a workbook's cells) whose reference cycles the
    collector would otherwise scan again and again while they are alive: an evaluation
    report's PDF takes ≈ 15 % less CPU, for one collection of ≈ 0.1 s and a peak of
    ≈ 350 MB per worker."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return fn(*args, **kwargs)
    finally:
        if enabled:
            gc.enable()
            gc.collect(0)


def _settle(proxy: Future[Path], get: Callable[[], Path]) -> None:
    try:
        proxy.set_result(get())
    except Exception as exc:  # handed to whoever waits for the file
        proxy.set_exception(exc)


class Background:
    """Where slow files are written: ``workers`` processes, or inline when 0. A context
    manager; leaving it waits for every job (and drops those not started after an error).

    The workers are forked by :meth:`start` (or the first job), with the objects existing
    then frozen (:func:`gc.freeze`) so that the workers' garbage collector does not copy the
    pages of the caller's data, which they never use; each worker then runs ``prepare()``
    (e.g. loading the PDF library and its fonts) before its first job. A caller who starts
    the workers before its own computation has them prepared on the otherwise idle cores.
    """

    def __init__(self, workers: int = DEFAULT_WORKERS, *,
                 prepare: Callable[[], None] | None = None) -> None:
        self.workers = max(0, int(workers))
        self.prepare = prepare
        self._pool: ProcessPoolExecutor | None = None
        self._queue: deque[_Job] = deque()
        self._busy = 0  # jobs handed to the pool and not finished
        self._jobs: list[_Job] = []
        self._lock = threading.RLock()  # the pool's callbacks run in its own thread

    def submit(self, fn: Callable[..., Path], *args: Any, **kwargs: Any) -> Future[Path]:
        """``fn(*args, **kwargs)`` in a worker (``fn`` module-level, arguments picklable), or
        now when there are no workers; the future holds the path written or the error."""
        job = _Job(fn, args, kwargs)
        if self.workers == 0:
            job.run()
            return job.proxy
        with self._lock:
            self.start()
            self._queue.append(job)
            self._feed()
            self._jobs.append(job)
        return job.proxy

    def start(self) -> Background:
        """Fork the workers now (each runs ``prepare()`` as it starts); a no-op when they run
        already or there are none. Returns self."""
        with self._lock:
            if self._pool is not None or self.workers == 0:
                return self
            gc.freeze()
            try:
                self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                                 initializer=_prepared,
                                                 initargs=(self.prepare,))
                # the first submission forks every worker (the fork start method launches
                # them all at once); this one only makes sure they are started
                self._pool.submit(_nothing)
            finally:
                gc.unfreeze()
        return self

    def _feed(self) -> None:
        """Hand queued jobs to the pool while a worker is free."""
        with self._lock:
            while self._queue and self._busy < self.workers and self._pool is not None:
                job = self._queue.popleft()
                try:
                    pooled = self._pool.submit(collected_after, job.fn, *job.args,
                                               **job.kwargs)
                except RuntimeError as exc:  # the pool is broken (a worker died) or shut down
                    job.proxy.set_exception(exc)
                    continue
                self._busy += 1
                pooled.add_done_callback(functools.partial(self._finished, job))

    def _finished(self, job: _Job, pooled: Future[Path]) -> None:
        job.copy(pooled)
        with self._lock:
            self._busy -= 1
            self._feed()

    def help(self) -> int:
        """Run in this process the queued jobs, in the order submitted, until none is left
        (the workers go on taking them too); returns how many ran here."""
        taken = 0
        while True:
            with self._lock:
                if not self._queue:
                    return taken
                job = self._queue.popleft()
            job.run()
            taken += 1

    def close(self, *, cancel: bool = False) -> None:
        """Wait for the jobs (after dropping those not started when ``cancel``) and stop
        the workers."""
        if self._pool is None:
            return
        with self._lock:
            if cancel:
                for job in self._queue:
                    job.proxy.cancel()
                self._queue.clear()
        wait([job.proxy for job in self._jobs])
        self._pool.shutdown(wait=True)
        self._pool = None
        self._jobs = []

    def __enter__(self) -> Background:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(cancel=kind is not None)


def _prepared(prepare: Callable[[], None] | None) -> None:
    """A worker's start: ``prepare()``, then what it loaded frozen out of the collector's
    reach (it lives as long as the worker)."""
    if prepare is not None:
        prepare()
    gc.freeze()


def _nothing() -> None:
    """The job that starts the workers."""


def resolve(value: Path | Future[Path]) -> Path:
    """The path of a file written now or by a background job (its error raised here)."""
    return value.result() if isinstance(value, Future) else value
