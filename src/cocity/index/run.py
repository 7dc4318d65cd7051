"""Index runs on a store: build an index from a framework file, compare two versions, and run
its uncertainty analysis. Pure with respect to files: a run reads the store and returns
objects; writing a run's tables, page and manifest is the report's job
(:mod:`cocity.report.index_summary`).

Python API (the framework shipped as ``chengyu_living`` is a demonstration on the embedded
data)::

    >>> from cocity.index.run import build_index, compare_runs
    >>> from cocity.index.tables import ranking_table
    >>> run = build_index("chengyu_living")
    >>> run.selection.year, run.selection.level, len(run.panel)
    (2020, 'county', 144)
    >>> top = ranking_table(run).iloc[0]
    >>> int(top["rank"]), top["name_en"]
    (1, 'Jiangbei District')
    >>> other = build_index("chengyu_living", overrides=["normalise.method=rank"])
    >>> changes = compare_runs(run, other)
    >>> list(changes.columns[:4])
    ['name_zh', 'name_en', 'score', 'rank']
    >>> run.selection.coverage("en")
    '144 county-level units (Full member + Partly inside) of 158 in the data'

``run_uncertainty_analysis(run)`` runs the file's ``uncertainty:`` section around the run's
pipeline.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cocity.data.provenance import provenance
from cocity.data.store import Store
from cocity.datasets import open_store
from cocity.i18n import t
from cocity.index.errors import BuildError, IndexEngineError
from cocity.index.executors import ExecutorError
from cocity.index.framework import Framework
from cocity.index.framework_file import FrameworkFile, load_framework
from cocity.index.overrides import apply_overrides
from cocity.index.pipeline import Pipeline
from cocity.index.selection import Selection, load_panel
from cocity.index.steps import Step, check_steps, prepare_steps
from cocity.index.uncertainty import UncertaintyResult, run_uncertainty
from cocity.outputs import jsonable

if TYPE_CHECKING:
    import geopandas as gpd

OnStep = Callable[[str], None]


@dataclass
class IndexRun:
    """An index built from a framework file on a store's data, with what is needed to write
    and explain it."""

    file: FrameworkFile
    selection: Selection
    steps: list[Step]
    overrides: list[str]
    panel: pd.DataFrame  # raw indicator values, index unit code
    units: pd.DataFrame  # the evaluated units, index unit code
    catalog: pd.DataFrame  # catalog rows of the framework's indicators
    pipeline: Pipeline
    provenance: dict[str, Any]  # cocity.data.provenance.provenance of the data read
    geo: gpd.GeoDataFrame | None  # every unit with a boundary (all levels), or None
    dropped: list[str] = field(default_factory=list)

    @property
    def framework(self) -> Framework:
        return self.file.framework

    @property
    def root(self) -> str:
        return self.framework.root

    @property
    def datum(self) -> str:
        return str(self.provenance.get("datum") or "")

    def node_order(self) -> list[str]:
        """Node codes from the index down to the indicators (framework order within a level)."""
        fw = self.framework
        return [c for lv in range(fw.n_levels, 0, -1) for c in fw.level_codes(lv)]

    @property
    def scores(self) -> pd.DataFrame:
        """Scores of every node (indicators: normalised values), one row per unit."""
        return self.pipeline.scores[self.node_order()]

    @property
    def ranks(self) -> pd.DataFrame:
        return self.pipeline.ranks[self.node_order()]

    def config(self) -> dict[str, Any]:
        """What the run was asked to do: selection, effective steps, overrides, uncertainty."""
        return {"data": self.selection.as_dict(), "pipeline": jsonable(self.steps),
                "overrides": list(self.overrides),
                "uncertainty": jsonable(self.file.uncertainty_doc)}

    def inputs(self) -> dict[str, Any]:
        """The inputs and their hashes: the panel's text form (index, columns, values to 17
        significant digits), the framework file's bytes, and both in that order."""
        panel = _panel_bytes(self.panel)
        return {
            "inputs_sha256": hashlib.sha256(panel + self.file.content).hexdigest(),
            "panel_sha256": hashlib.sha256(panel).hexdigest(),
            "framework_sha256": self.file.sha256,
            "framework": self.file.source,
            "framework_name_zh": self.framework.name_zh,
            "framework_name_en": self.framework.name_en,
            "units": len(self.panel),
            "units_in_level": self.selection.in_level,
            "indicators": self.panel.shape[1],
            "dropped_units": list(self.dropped),
        }


def _panel_bytes(panel: pd.DataFrame) -> bytes:
    return panel.to_csv(float_format="%.17g", lineterminator="\n").encode("utf-8")


def default_out(framework: FrameworkFile) -> Path:
    return Path(f"cocity-index-{framework.name}")


def build_index(framework: str | Path | FrameworkFile, store: Store | None = None, *,
                year: int | None = None, level: str | None = None,
                membership: Sequence[str] | str | None = None,
                overrides: Iterable[str] = (), on_step: OnStep | None = None) -> IndexRun:
    """Build the index of a framework file on ``store`` (default: the embedded dataset).

    The file is read with the catalog's directions (a leaf without a direction takes its
    indicator's; a descriptive indicator, direction 0, is refused). ``year``, ``level`` and
    ``membership`` override the file's ``data:`` section; ``overrides`` are
    ``step.param=value`` changes of its pipeline. ``on_step`` is called with a label key
    before each stage (for progress displays).
    """
    step = on_step or (lambda _key: None)
    step("index.cli.step.framework")
    own = store is None
    st = open_store() if store is None else store
    try:
        catalog = st.catalog()
        ff = framework if isinstance(framework, FrameworkFile) else load_framework(
            framework, directions=catalog.get("direction"))
        overrides = list(overrides)
        steps = check_steps(apply_overrides(ff.steps, overrides), origin=ff.source)
        step("index.cli.step.data")
        panel, units, selection, dropped = load_panel(
            st, ff.framework, year=ff.data.year if year is None else year,
            level=ff.data.level if level is None else level,
            membership=ff.data.membership if membership is None else membership)
        used = catalog.loc[ff.framework.indicators]
        record = provenance(st, indicators=ff.framework.indicators, years=[selection.year])
        geo = st.geodata()
    finally:
        if own:
            st.close()
    geo = geo[geo.geometry.notna() & ~geo.geometry.is_empty]
    step("index.cli.step.pipeline")
    pipe = Pipeline(panel, ff.framework)
    try:
        pipe.apply(prepare_steps(steps, units))
    except IndexEngineError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise BuildError(t("index.cli.err.step_failed", detail=str(exc))) from exc
    return IndexRun(ff, selection, steps, overrides, panel, units, used, pipe, record,
                    geo if len(geo) else None, dropped)


def compare_runs(base: IndexRun, other: IndexRun, *, node: str | None = None) -> pd.DataFrame:
    """Scores and ranks of ``node`` (default: each run's index) in both runs, with the
    changes from ``base`` to ``other``; unit names first, best base rank first."""
    node_a = node or base.root
    node_b = node or other.root
    for run, code in ((base, node_a), (other, node_b)):
        if code not in run.pipeline.scores:
            raise BuildError(t("index.cli.err.unknown_node", node=code,
                               nodes=", ".join(run.node_order())))
    view = other.pipeline
    if node_b != node_a:
        view = copy.copy(other.pipeline)
        view.scores = other.pipeline.scores.rename(columns={node_b: node_a})
    cmp = base.pipeline.compare(view, node=node_a)
    names = pd.concat([base.units[["name_zh", "name_en"]], other.units[["name_zh", "name_en"]]])
    names = names[~names.index.duplicated()]
    out = names.reindex(cmp.index).join(cmp)
    out.index.name = "code"
    for c in ("rank", "rank_other", "rank_change"):
        out[c] = out[c].astype("Int64")
    return out


@dataclass
class UncertaintyRun:
    """An uncertainty analysis of an index run, with how it was asked for."""

    run: IndexRun
    result: UncertaintyResult
    replications_asked: int
    seed: int
    workers: int

    def config(self) -> dict[str, Any]:
        return {**self.run.config(), "run": {
            "replications_asked": self.replications_asked,
            "replications": self.result.replications, "seed": self.seed,
            "workers": self.workers, "node": self.result.node}}


def run_uncertainty_analysis(run: IndexRun, *, replications: int | None = None,
                             seed: int | None = None, workers: int = 1,
                             executor: str | None = None, scheduler: str | None = None,
                             progress: Callable[[int, int], None] | None = None
                             ) -> UncertaintyRun:
    """The uncertainty analysis of the framework file's ``uncertainty:`` section around the
    run's pipeline (``replications`` and ``seed`` override the section's; ``workers``,
    ``executor`` and ``scheduler`` as in :func:`~cocity.index.uncertainty.run_uncertainty`)."""
    spec = run.file.uncertainty
    if spec is None:
        raise BuildError(t("index.cli.err.no_uncertainty", file=run.file.source))
    used_seed = spec.seed if seed is None else int(seed)
    try:
        result = run_uncertainty(run.pipeline, spec, replications=replications, seed=used_seed,
                                 workers=workers, executor=executor, scheduler=scheduler,
                                 progress=progress)
    except (IndexEngineError, ExecutorError):
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise BuildError(t("index.cli.err.step_failed", detail=str(exc))) from exc
    return UncertaintyRun(run, result, replications or spec.replications, used_seed, workers)
