"""Where a command's heavy work runs: the shared ``--executor``, ``--scheduler`` and
``--workers`` options.

Every command that maps independent jobs (uncertainty replications, accessibility origin
blocks, per-cluster runs) through :func:`cocity.index.executors.completed` takes these three
options, with the same meaning: ``--executor`` ``serial`` | ``processes`` | ``dask`` (default:
:func:`cocity.index.executors.choose` — Dask when a scheduler address is known, a process pool
when ``--workers`` > 1, else serial); ``--scheduler`` the address of a running Dask scheduler
(default ``$COCITY_DASK_SCHEDULER``); ``--workers`` the size of the process pool or of the local
Dask cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer

from cocity.i18n import both

ExecutorOpt = Annotated[str | None, typer.Option(
    "--executor", help=both("cli.exec.opt.executor"), show_default=False)]
SchedulerOpt = Annotated[str | None, typer.Option(
    "--scheduler", help=both("cli.exec.opt.scheduler"), show_default=False)]
WorkersOpt = Annotated[int, typer.Option("--workers", help=both("cli.exec.opt.workers"), min=1)]


@dataclass(frozen=True)
class Execution:
    """The three options as given; :meth:`kwargs` passes them on unchanged, after checking the
    executor's name (an unknown one is refused before any work starts)."""

    executor: str | None = None
    scheduler: str | None = None
    workers: int = 1

    def kwargs(self) -> dict[str, Any]:
        from cocity.index.executors import choose

        return {"executor": choose(self.executor, scheduler=self.scheduler,
                                   workers=self.workers),
                "scheduler": self.scheduler, "workers": self.workers}
