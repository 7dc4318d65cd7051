"""Slow report files written in worker processes while the command goes on.

A report's PDFs (WeasyPrint lays out and draws in pure Python) and workbooks (openpyxl) take
most of a run's time but need only their input — an HTML string, a few frames — not the
computation that produced it. :class:`Background` sends such a job to a pool of ``workers``
processes (:class:`concurrent.futures.ProcessPoolExecutor`) and returns a future at once, so
that the caller computes the next thing (e.g. the next edition of ``cocity evaluate``) while
the files are written; ``workers=0`` writes each file at once, in the calling process, and
returns a finished future. The files are the same either way: a job is a module-level writer
called with the same arguments wherever it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from pathlib import Path
from types import TracebackType
from typing import Any

#: worker processes by default: the machine this was tuned on has two cores
DEFAULT_WORKERS = 2


class Background:
    """Where slow files are written: ``workers`` processes, or inline when 0. A context
    manager; leaving it waits for every job (and cancels those not started after an error).
    """

    def __init__(self, workers: int = DEFAULT_WORKERS) -> None:
        self.workers = max(0, int(workers))
        self._pool: ProcessPoolExecutor | None = None
        self._futures: list[Future[Any]] = []

    def submit(self, fn: Callable[..., Path], *args: Any, **kwargs: Any) -> Future[Path]:
        """``fn(*args, **kwargs)`` in a worker (``fn`` module-level, arguments picklable), or
        now when there are no workers; the future holds the path written or the error."""
        if self.workers == 0:
            done: Future[Path] = Future()
            try:
                done.set_result(fn(*args, **kwargs))
            except Exception as exc:  # handed to whoever waits for the file
                done.set_exception(exc)
            return done
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers)
        future = self._pool.submit(fn, *args, **kwargs)
        self._futures.append(future)
        return future

    def close(self, *, cancel: bool = False) -> None:
        """Wait for the jobs (after cancelling those not started when ``cancel``) and stop
        the workers."""
        if self._pool is None:
            return
        if cancel:
            for future in self._futures:
                future.cancel()
        wait(self._futures)
        self._pool.shutdown(wait=True)
        self._pool = None
        self._futures = []

    def __enter__(self) -> Background:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(cancel=kind is not None)


def resolve(value: Path | Future[Path]) -> Path:
    """The path of a file written now or by a background job (its error raised here)."""
    return value.result() if isinstance(value, Future) else value
