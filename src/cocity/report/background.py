"""Slow report files written in worker processes while the command goes on.

A report's PDFs (WeasyPrint lays out and draws in pure Python) and workbooks (openpyxl) take
most of a run's time but need only their input — an HTML string, a few frames — not the
computation that produced it. :class:`Background` sends such a job to a pool of ``workers``
processes (:class:`concurrent.futures.ProcessPoolExecutor`) and returns a future at once, so
that the caller computes the next thing (e.g. the next edition of ``cocity evaluate``) while
the files are written; ``workers=0`` writes each file at once, in the calling process, and
returns a finished future. When the caller has nothing left to compute it calls
:meth:`Background.help`: the jobs no worker has started yet are taken back (cancelled in the
pool) and run in the calling process, the last submitted first, so that the caller's core
works too. The files are the same either way: a job is a module-level writer called with the
same arguments wherever it runs.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from pathlib import Path
from types import TracebackType
from typing import Any

#: worker processes by default: one beside the calling process, on a two-core machine
DEFAULT_WORKERS = 1


class _Job:
    """One submitted job: the pool's future, the caller's future and the call itself."""

    def __init__(self, pooled: Future[Path], proxy: Future[Path], call: tuple[Any, ...]) -> None:
        self.pooled, self.proxy, self.call = pooled, proxy, call
        pooled.add_done_callback(self._copy)

    def _copy(self, pooled: Future[Path]) -> None:
        if pooled.cancelled():  # taken back by the caller (Background.help)
            return
        exc = pooled.exception()
        if exc is not None:
            self.proxy.set_exception(exc)
        else:
            self.proxy.set_result(pooled.result())


def _run(proxy: Future[Path], fn: Callable[..., Path], args: tuple[Any, ...],
         kwargs: dict[str, Any]) -> None:
    try:
        proxy.set_result(fn(*args, **kwargs))
    except Exception as exc:  # handed to whoever waits for the file
        proxy.set_exception(exc)


class Background:
    """Where slow files are written: ``workers`` processes, or inline when 0. A context
    manager; leaving it waits for every job (and cancels those not started after an error).

    The workers are forked at the first job, after ``prepare()`` (e.g. loading the PDF
    library once, for this process and the workers) and with the objects existing then frozen
    (:func:`gc.freeze`), so that the workers' garbage collector does not copy the pages of
    the caller's data, which they never use.
    """

    def __init__(self, workers: int = DEFAULT_WORKERS, *,
                 prepare: Callable[[], None] | None = None) -> None:
        self.workers = max(0, int(workers))
        self.prepare = prepare
        self._pool: ProcessPoolExecutor | None = None
        self._jobs: list[_Job] = []

    def submit(self, fn: Callable[..., Path], *args: Any, **kwargs: Any) -> Future[Path]:
        """``fn(*args, **kwargs)`` in a worker (``fn`` module-level, arguments picklable), or
        now when there are no workers; the future holds the path written or the error."""
        proxy: Future[Path] = Future()
        if self.workers == 0:
            _run(proxy, fn, args, kwargs)
            return proxy
        if self._pool is not None:
            pooled = self._pool.submit(fn, *args, **kwargs)
        else:  # the first job forks the workers (the fork start method forks them all now)
            if self.prepare is not None:
                self.prepare()
            gc.freeze()
            try:
                self._pool = ProcessPoolExecutor(max_workers=self.workers)
                pooled = self._pool.submit(fn, *args, **kwargs)
            finally:
                gc.unfreeze()
        self._jobs.append(_Job(pooled, proxy, (fn, args, kwargs)))
        return proxy

    def help(self) -> int:
        """Run in this process the jobs no worker has started, the last submitted first;
        returns how many."""
        taken = 0
        for job in reversed(self._jobs):
            if job.pooled.cancel():
                _run(job.proxy, *job.call)
                taken += 1
        return taken

    def close(self, *, cancel: bool = False) -> None:
        """Wait for the jobs (after cancelling those not started when ``cancel``) and stop
        the workers."""
        if self._pool is None:
            return
        pending = [job.pooled for job in self._jobs]
        if cancel:
            for future in pending:
                future.cancel()
        wait(pending)
        self._pool.shutdown(wait=True)
        self._pool = None
        self._jobs = []

    def __enter__(self) -> Background:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(cancel=kind is not None)


def resolve(value: Path | Future[Path]) -> Path:
    """The path of a file written now or by a background job (its error raised here)."""
    return value.result() if isinstance(value, Future) else value
