"""The 15-minute life circles of ``cocity access lifecircle`` on a user's files: the street
network (its largest weakly connected component), the homes and the facilities, and the
result of :func:`cocity.access.life_circles.life_circles` with the notes of the run.
:func:`run_lifecircle` is the whole run; writing it is :mod:`cocity.report.access_report`'s
job."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cocity.access.inputs import read_network, read_points
from cocity.access.life_circles import LifeCircles, LifeCircleSpec, life_circles, load_spec
from cocity.access.network import Network
from cocity.i18n import t


@dataclass
class LifeCircleRun:
    """A finished life-circle run: the result, the network it ran on, the input files by role
    and the run's own notes (zh, en) besides the result's."""

    result: LifeCircles
    network: Network
    inputs: dict[str, str]
    notes: list[tuple[str, str]] = field(default_factory=list)

    def coverage(self, lang: str | None = None) -> str:
        """Which homes and units the run covers."""
        homes = self.result.homes
        return t("access.lc.coverage", lang, homes=len(homes),
                 units=int(homes["unit"].nunique()), snapped=int(homes["snapped"].sum()))


def run_lifecircle(network: Path, homes: Path, facilities: Path, *, nodes: Path | None = None,
                   spec: str | Path | Mapping[str, Any] | LifeCircleSpec | None = None,
                   max_snap: float = 500.0, crs: str | None = None,
                   on_step: Callable[[str], None] | None = None, executor: str | None = None,
                   scheduler: str | None = None, workers: int = 1,
                   progress: Callable[[int, int], None] | None = None) -> LifeCircleRun:
    """Read the spec and the files, keep the network's largest weakly connected component
    (noted when nodes are dropped) and compute the life circles (``executor``/``scheduler``/
    ``workers``: where the searches run, see :func:`~cocity.access.life_circles.life_circles`;
    ``progress(done, total)`` follows them)."""
    step = on_step or (lambda _key: None)
    sp = load_spec(spec)
    step("access.cli.step.network")
    raw = read_network(network, nodes=nodes, crs=crs)
    net, report = raw.largest_component("weak")
    notes: list[tuple[str, str]] = []
    if report.dropped_nodes:
        notes.append(tuple(t("access.cli.lc.note.component", lang, n=report.dropped_nodes,
                             kept=report.kept_nodes) for lang in ("zh", "en")))  # type: ignore[arg-type]
    step("access.cli.step.points")
    hm = read_points(homes, "homes")
    fc = read_points(facilities, "facilities")
    step("access.cli.step.search")
    res = life_circles(net, hm, fc, spec=sp, max_snap=max_snap, crs=crs, executor=executor,
                       scheduler=scheduler, workers=workers, progress=progress)
    inputs = {"network": str(network), "homes": str(homes), "facilities": str(facilities)}
    if nodes is not None:
        inputs["nodes"] = str(nodes)
    return LifeCircleRun(res, net, inputs, notes)
