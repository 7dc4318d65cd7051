"""Uncertainty and sensitivity analysis of a composite index, vectorised across replications.

Any pipeline choice can be an uncertain input: a discrete choice (the normalisation method, the
aggregation method of a level), a set of perturbed weights, or a continuous parameter (e.g. the
winsorisation limit). Inputs are sampled with Saltelli's extension of the Sobol' sequence
(SALib, ``calc_second_order=False``: N·(D+2) model runs for D inputs); each unit-cube coordinate
u ∈ [0, 1) maps to the k-th of K choices by k = ⌊u·K⌋, or to low + u·(high − low) for a range
(rounded when both bounds are integers).

Measurement error (step ``data``): ``sets`` alternative data sets are drawn once (seeded), each
cell x_ij + ε_ij with ε_ij ~ N(0, se_ij) from the standard errors given to
:func:`run_uncertainty` (``data_se``; e.g. a survey estimate's design-based standard error;
cells without one stay as observed); the uncertain input picks one set, and the pipeline's steps
before weighting are rerun on it.

Weights follow COINr's approach: ``sets`` alternative weight vectors are drawn once (seeded),
each node weight multiplied by an independent factor U(1 − noise, 1 + noise); the uncertain input
picks one set. Objective weights (e.g. entropy) are recomputed for each normalisation and then
perturbed the same way.

The output whose variance is decomposed is the mean absolute rank shift of the units against the
nominal ranking, R̄_s = (1/n) Σ_i |rank_i(s) − rank_i(nominal)| (Saisana, Saltelli & Tarantola
2005; COINr ``get_sensitivity``); first-order S_i and total-order S_Ti Sobol' indices with
bootstrap confidence intervals come from SALib's ``sobol.analyze`` (Saltelli 2010 / Jansen
estimators). Per-unit rank distributions are summarised by the median and the 5–95 % interval.

Randomness: one seed, four independent streams — ``numpy.random.SeedSequence(seed).spawn(4)``,
one child per role (the design's scrambling, the weight sets, the data sets, the bootstrap; see
:func:`streams`). The design's columns are the inputs sorted by name. So a result depends on
the seed and the inputs, not on the order in which the inputs are listed nor on the executor
(serial, a process pool or a Dask cluster — :mod:`executors`) or its number of workers: workers
only aggregate; they draw nothing.

Speed: the steps before weighting run once per distinct (data set, treat, normalise)
combination, not once per replication; weighting and aggregation then run for all replications
of a combination at once, on arrays with a leading replication axis (the method conventions of
:mod:`registry`). From :data:`KERNEL_CELLS` replications × units on, the arithmetic-mean nodes
and the ranks go through the numba kernels of :mod:`kernels`, which give numpy's and scipy's
results to the bit (``docs/scale.md``, “Uncertainty at 3,000 × 60”).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pydantic
from scipy.stats import rankdata

from cocity.data.errors import Issue
from cocity.i18n import t
from cocity.index import registry
from cocity.index.errors import FrameworkError, MethodInputError
from cocity.index.executors import choose, completed
from cocity.index.framework import Framework, validated
from cocity.index.pipeline import Pipeline
from cocity.spec import Spec

STEPS = ("data", "treat", "normalise", "aggregate", "weights")
#: the random streams of an analysis, one per role, spawned from the seed in this order
STREAMS = ("design", "weights", "data", "bootstrap")


def streams(seed: int) -> dict[str, np.random.SeedSequence]:
    """Independent random streams of one analysis: ``SeedSequence(seed).spawn(4)``, one child
    per role of :data:`STREAMS` — the Saltelli design (its scrambling), the perturbed weight
    sets, the perturbed data sets and the bootstrap of the Sobol' confidence intervals. A role
    always gets the same child, whatever the order of the uncertain inputs, and no two roles
    share one."""
    return dict(zip(STREAMS, np.random.SeedSequence(seed).spawn(len(STREAMS)), strict=True))


class UncertainInputSpec(Spec):
    """One item of ``uncertainty.inputs``."""

    step: Literal["data", "treat", "normalise", "aggregate", "weights"]
    choices: list[Any] = pydantic.Field(default_factory=list)
    level: int | None = pydantic.Field(default=None, ge=2)
    param: str | None = None
    range: tuple[float, float] | None = None
    noise: float = pydantic.Field(default=0.25, gt=0, lt=1)
    sets: int = pydantic.Field(default=100, ge=1)

    @pydantic.model_validator(mode="after")
    def _complete(self) -> UncertainInputSpec:
        if self.step in ("normalise", "aggregate") and len(self.choices) < 2:
            raise ValueError(t("index.u.few_choices", step=self.step))
        if self.step == "treat" and (self.range is None or not self.param):
            raise ValueError(t("index.u.treat_range"))
        if self.step == "aggregate" and self.level is None:
            raise ValueError(t("index.u.no_level"))
        return self


class UncertaintySection(Spec):
    """The ``uncertainty:`` section of a framework file."""

    replications: int = pydantic.Field(default=2000, ge=2)
    seed: int = pydantic.Field(default=0, ge=0)
    inputs: list[UncertainInputSpec] = pydantic.Field(min_length=1)

    @pydantic.model_validator(mode="after")
    def _distinct(self) -> UncertaintySection:
        names = [_input_name(i.step, i.level, i.param) for i in self.inputs]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(t("index.u.twice", names=", ".join(twice)))
        return self


def _input_name(step: str, level: int | None, param: str | None) -> str:
    if step == "aggregate":
        return f"aggregate.level{level}"
    return f"{step}.{param}" if param else step


@dataclass(frozen=True)
class UncertainInput:
    """One uncertain pipeline choice."""

    step: str
    choices: tuple[Any, ...] = ()
    level: int | None = None
    param: str | None = None
    range: tuple[float, float] | None = None
    noise: float = 0.25
    sets: int = 100

    @property
    def name(self) -> str:
        return _input_name(self.step, self.level, self.param)

    def value(self, u: np.ndarray) -> np.ndarray:
        """Map unit-cube coordinates to choice indices, set indices or parameter values."""
        if self.range is not None:
            low, high = self.range
            v = low + u * (high - low)
            return np.floor(v + 0.5) if float(low).is_integer() and float(high).is_integer() else v
        k = self.sets if self.step in ("weights", "data") else len(self.choices)
        return np.minimum(np.floor(u * k), k - 1).astype(int)


@dataclass
class UncertaintySpec:
    inputs: list[UncertainInput]
    replications: int = 2000
    seed: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, origin: str = "<uncertainty>",
                  key: str = "uncertainty") -> UncertaintySpec:
        """Read the ``uncertainty:`` section of a framework file; every problem at once as a
        :class:`~cocity.index.errors.FrameworkError` (keys under ``key``)."""
        return cls.from_section(section_of(d, origin=origin, key=key))

    @classmethod
    def from_section(cls, sec: UncertaintySection) -> UncertaintySpec:
        inputs = [UncertainInput(step=i.step, choices=tuple(i.choices), level=i.level,
                                 param=i.param, range=i.range, noise=i.noise, sets=i.sets)
                  for i in sec.inputs]
        return cls(inputs=inputs, replications=sec.replications, seed=sec.seed)


def uncertainty_issues(d: Any, *, origin: str, key: str = "uncertainty"
                       ) -> tuple[UncertaintySection | None, list[Issue]]:
    """The validated section and every problem: types and keys, the cross-field rules of each
    input, and the method names of normalisation and aggregation choices."""
    if not isinstance(d, Mapping):
        return None, [Issue(t("spec.err.not_mapping", kind=type(d).__name__), origin, key=key)]
    sec, issues = validated(UncertaintySection, d, origin, key)
    if sec is None:
        return None, issues
    for i, item in enumerate(sec.inputs):
        if item.step not in ("normalise", "aggregate"):
            continue
        kind = "normalise" if item.step == "normalise" else "aggregate"
        for j, choice in enumerate(item.choices):
            name = choice.get("method", "minmax") if isinstance(choice, Mapping) else choice
            problem = registry.unknown_method(kind, str(name), step=item.step)
            if problem:
                issues.append(Issue(problem, origin, key=f"{key}.inputs[{i}].choices[{j}]"))
    return (None, issues) if issues else (sec, [])


def section_of(d: Any, *, origin: str, key: str = "uncertainty") -> UncertaintySection:
    sec, issues = uncertainty_issues(d, origin=origin, key=key)
    if sec is None:
        raise FrameworkError(issues)
    return sec


def input_label(name: str, lang: str | None = None) -> str:
    """Readable name of an uncertain input (``normalise``, ``aggregate.level3``, ``weights``,
    ``treat.max_winsorised``)."""
    step, _, rest = name.partition(".")
    if step == "aggregate" and rest.startswith("level"):
        return t("index.cli.page.input.aggregate", lang, level=rest[len("level"):])
    if step in ("treat", "normalise", "weights", "data"):
        label = t(f"index.cli.page.input.{step}", lang)
        return t("index.cli.page.input.param", lang, step=label, param=rest) if rest else label
    return name


@dataclass
class UncertaintyResult:
    units: pd.Index
    node: str
    samples: pd.DataFrame          # one row per replication: the value of each input
    scores: np.ndarray             # (R, n) scores of ``node``
    ranks: np.ndarray              # (R, n) ranks (1 = best)
    nominal_rank: pd.Series
    sobol: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def replications(self) -> int:
        return int(self.scores.shape[0])

    @property
    def rank_summary(self) -> pd.DataFrame:
        """Nominal rank, median rank and the 5–95 % rank interval of each unit."""
        q = column_percentile(self.ranks, [5, 50, 95])
        out = pd.DataFrame({"nominal_rank": self.nominal_rank.to_numpy(),
                            "median_rank": q[1], "p05": q[0], "p95": q[2]}, index=self.units)
        return out.sort_values(["median_rank", "nominal_rank"])

    @property
    def mean_rank_shift(self) -> np.ndarray:
        """R̄_s of every replication (the output analysed by the Sobol' indices); computed
        :data:`JOB_ROWS` replications at a time (each row's mean is the same, the temporaries
        smaller)."""
        nominal = self.nominal_rank.to_numpy()[None, :]
        out = np.empty(self.ranks.shape[0])
        for start in range(0, len(out), JOB_ROWS):
            block = self.ranks[start:start + JOB_ROWS]
            out[start:start + JOB_ROWS] = np.nanmean(np.abs(block - nominal), axis=1)
        return out


Percentile = Literal["linear", "lower", "higher"]


def column_percentile(a: np.ndarray, q: float | list[float], *,
                      method: Percentile = "linear") -> np.ndarray:
    """``numpy.nanpercentile(a, q, axis=0, method=method)`` (NaN ignored; an all-NaN column
    gives NaN, silently): through ``numpy.percentile`` when ``a`` holds no NaN — the same
    values, without nanpercentile's column-by-column loop."""
    if not np.isnan(a).any():
        return np.percentile(a, q, axis=0, method=method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # a unit never graded: all-NaN column
        return np.nanpercentile(a, q, axis=0, method=method)


def _ranks(scores: np.ndarray, *, kernels: bool = True) -> np.ndarray:
    """Ranks along the last axis, 1 = highest score, ties share the best rank, NaN stays NaN:
    ``scipy.stats.rankdata(-scores, axis=-1, method="min", nan_policy="omit")`` — computed so
    by :func:`cocity.index.kernels.min_ranks` (identical, faster), or by scipy itself when
    ``kernels`` is False (for tests and benchmarks)."""
    if not kernels or scores.ndim != 2:
        return rankdata(-scores, axis=-1, method="min", nan_policy="omit")
    from cocity.index.kernels import min_ranks

    return min_ranks(scores)


def design_order(spec: UncertaintySpec) -> list[UncertainInput]:
    """The inputs in the order of the design's columns: sorted by name, so that the sample
    (and every result) does not depend on the order in which a file lists the inputs."""
    return sorted(spec.inputs, key=lambda i: i.name)


def saltelli_samples(spec: UncertaintySpec, *, replications: int | None = None,
                     seed: int | np.random.SeedSequence | None = None
                     ) -> tuple[dict[str, Any], np.ndarray]:
    """SALib problem and the (N·(D+2), D) unit-cube sample, N a power of two, the columns in
    :func:`design_order`; the scrambling of the Sobol' sequence draws from the ``design``
    stream of ``seed`` (default: the spec's)."""
    from SALib.sample import sobol as sobol_sample

    ordered = design_order(spec)
    d = len(ordered)
    total = replications or spec.replications
    n_base = 2 ** max(1, math.ceil(math.log2(max(2, total / (d + 2)))))
    problem = {"num_vars": d, "names": [i.name for i in ordered], "bounds": [[0.0, 1.0]] * d}
    stream = _stream(spec.seed if seed is None else seed, "design")
    u = sobol_sample.sample(problem, n_base, calc_second_order=False,
                            seed=np.random.default_rng(stream))
    return problem, np.clip(u, 0.0, np.nextafter(1.0, 0.0))


def _stream(seed: int | np.random.SeedSequence, role: str) -> np.random.SeedSequence:
    """The stream of ``role``: spawned from an integer seed, or a stream given as it is."""
    return seed if isinstance(seed, np.random.SeedSequence) else streams(int(seed))[role]


def data_sets(raw: pd.DataFrame, se: pd.DataFrame, *, sets: int,
              seed: int | np.random.SeedSequence) -> np.ndarray:
    """(sets, n, m) perturbed copies of ``raw``: x + N(0, se) per cell, from the ``data``
    stream of ``seed`` (an integer) or the stream ``seed``; cells without a standard error (or
    a missing value) are left as they are."""
    sd = se.reindex(index=raw.index, columns=raw.columns).to_numpy(float)
    sd = np.where(np.isfinite(sd) & (sd > 0), sd, 0.0)
    rng = np.random.default_rng(_stream(seed, "data"))
    noise = rng.standard_normal((sets, *raw.shape)) * sd
    return raw.to_numpy(float)[None, :, :] + noise


def weight_sets(n_nodes: int, *, noise: float, sets: int,
                seed: int | np.random.SeedSequence) -> np.ndarray:
    """(sets, n_nodes) multiplicative weight factors drawn from U(1 − noise, 1 + noise), from
    the ``weights`` stream of ``seed`` (an integer) or the stream ``seed``."""
    rng = np.random.default_rng(_stream(seed, "weights"))
    return rng.uniform(1 - noise, 1 + noise, size=(sets, n_nodes))


@dataclass(frozen=True)
class _Tree:
    """The framework flattened for array work: node positions, indicators first."""

    codes: list[str]
    levels: list[int]                       # the non-leaf levels, bottom-up (2, 3, …)
    # Non-leaf nodes bottom-up: (position, level, child positions, default method, min_share)
    inner: list[tuple[int, int, list[int], str, float]]

    @classmethod
    def of(cls, fw: Framework) -> _Tree:
        codes = list(fw.indicators)
        for level in range(2, fw.n_levels + 1):
            codes += fw.level_codes(level)
        pos = {c: i for i, c in enumerate(codes)}
        inner = [(pos[c], fw.nodes[c].level, [pos[k] for k in fw.children(c)],
                  fw.method_for(c), fw.min_share_for(c)) for c in codes[len(fw.indicators):]]
        return cls(codes=codes, levels=list(range(2, fw.n_levels + 1)), inner=inner)


CHUNK_BYTES = 64 * 2**20  # working-set budget for one chunk of replications
#: replications × units from which :func:`run_uncertainty` uses :mod:`cocity.index.kernels`
KERNEL_CELLS = 2**22


def aggregate_replications(tree: _Tree, normalised: np.ndarray, weights: np.ndarray,
                           methods: np.ndarray, params: dict[int, dict[str, Any]],
                           keep: int | None = None, *, kernels: bool = True) -> np.ndarray:
    """Scores (R, n) of node position ``keep`` (default: the root) for R replications that
    share one normalised matrix.

    ``weights`` (R, nodes) are sibling weights; ``methods`` (R, levels) holds each
    replication's aggregation method per level ("" = the framework's). Replications are
    grouped by their methods (one per level). The nodes aggregated by the arithmetic mean
    (without level parameters, over children computed the same way) go through
    :func:`cocity.index.kernels.tree_means`, which gives numpy's result to the bit or declines;
    every other node — and every node when the kernel declines or ``kernels`` is False (the
    numpy path, kept for tests and benchmarks) — through its registered method, one vectorised
    call per node (the geometric mean of complete, positive children through
    :func:`_geometric`, to the bit). Both work on chunks of replications that fit
    :data:`CHUNK_BYTES`.
    """
    r, n = weights.shape[0], normalised.shape[0]
    keep = len(tree.codes) - 1 if keep is None else keep
    result = np.empty((r, n))  # every row belongs to one group below
    for signature, rows_all in _same_methods(methods, np.arange(r)):
        plan = _FastPlan.of(tree, signature, params, keep) if kernels else None
        rest = [node for node in tree.inner if not plan or node[0] not in plan.order]
        # working set of a chunk: 4 arrays (rows, n, k) per numpy call, the kernel's exports
        width = max([4 * len(kids) for _p, _l, kids, _d, _s in rest]
                    + [len(plan.exported) if plan else 1])
        chunk = max(1, CHUNK_BYTES // (8 * n * width))
        for start in range(0, len(rows_all), chunk):
            rows = rows_all[start:start + chunk]
            scores = plan.scores(normalised, weights[rows]) if plan else None
            todo = tree.inner if scores is None else rest
            scores = scores or {}
            for position, level, kids, default, share in todo:
                method = signature[tree.levels.index(level)] or default
                y = np.stack([_column(normalised, scores, k, len(rows)) for k in kids], axis=-1)
                w = weights[np.ix_(rows, np.asarray(kids))]
                fast = (_geometric(y, w) if kernels and method == "geometric"
                        and not params.get(level) else None)
                scores[position] = fast if fast is not None else registry.get(
                    "aggregate", method)(y, w, min_share=share, **params.get(level, {}))
            result[rows] = _column(normalised, scores, keep, len(rows))
    return result


def _geometric(y: np.ndarray, w: np.ndarray) -> np.ndarray | None:
    """:func:`cocity.index.aggregate.geometric` (no shift) on complete, positive children with
    positive weights, to the bit: ``exp(Σ_j w'_j ln y_j)`` with numpy's ``log`` and ``exp`` on
    C-contiguous arrays, as there, and the weighted sum of
    :func:`cocity.index.kernels.weighted_means`; None (the registered method then runs) for
    any other input."""
    from cocity.index.kernels import weighted_means

    if not (np.isfinite(y).all() and (y > 0).all()):
        return None
    logs = weighted_means(np.log(y), w)
    return None if logs is None else np.exp(logs)


def _same_methods(methods: np.ndarray, rows: np.ndarray
                  ) -> list[tuple[tuple[str, ...], np.ndarray]]:
    """The rows grouped by their aggregation methods (one per level), in order of appearance."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for row in rows:
        groups.setdefault(tuple(str(m) for m in methods[row]), []).append(int(row))
    return [(key, np.asarray(members)) for key, members in groups.items()]


@dataclass(frozen=True)
class _FastPlan:
    """The nodes of a tree that :func:`cocity.index.kernels.tree_means` computes for one set
    of per-level methods: arithmetic means without level parameters whose children are
    indicators or such nodes, bottom-up, as the kernel's CSR arrays; ``exported``: those whose
    scores the rest needs (``keep`` and the children of the other nodes)."""

    order: tuple[int, ...]          # the tree positions of the nodes, in the kernel's order
    child_ptr: np.ndarray
    child_row: np.ndarray
    child_pos: np.ndarray
    exported: list[int]

    @classmethod
    def of(cls, tree: _Tree, signature: tuple[str, ...], params: dict[int, dict[str, Any]],
           keep: int) -> _FastPlan | None:
        m = len(tree.codes) - len(tree.inner)
        order: list[int] = []
        ptr, rows, pos = [0], [], []
        parent: dict[int, int] = {}
        for position, level, kids, default, _share in tree.inner:
            parent.update(dict.fromkeys(kids, position))
            method = signature[tree.levels.index(level)] or default
            if (method != "arithmetic" or params.get(level)
                    or any(k >= m and k not in order for k in kids)):
                continue
            rows += [k if k < m else m + order.index(k) for k in kids]
            pos += kids
            ptr.append(len(rows))
            order.append(position)
        exported = [p for p in order if p == keep or (p in parent and parent[p] not in order)]
        if not exported:
            return None
        return cls(order=tuple(order), child_ptr=np.asarray(ptr), child_row=np.asarray(rows),
                   child_pos=np.asarray(pos), exported=exported)

    def scores(self, normalised: np.ndarray, weights: np.ndarray) -> dict[int, np.ndarray] | None:
        """Scores (R, n) of the exported nodes, or None when the kernel declines."""
        from cocity.index.kernels import tree_means

        m = normalised.shape[1]
        index = {p: m + i for i, p in enumerate(self.order)}
        out = tree_means(normalised, self.child_ptr, self.child_row, self.child_pos, weights,
                         np.asarray([index[p] for p in self.exported]))
        return None if out is None else {p: out[:, e] for e, p in enumerate(self.exported)}


def _column(normalised: np.ndarray, scores: dict[int, np.ndarray], pos: int,
            count: int) -> np.ndarray:
    """Scores (count, n) of node ``pos`` for a chunk's ``count`` rows: an indicator's
    normalised column (a broadcast view) or an already aggregated node."""
    if pos < normalised.shape[1]:
        return np.broadcast_to(normalised[:, pos], (count, normalised.shape[0]))
    return scores[pos]


#: replications per job handed to an executor: the split depends only on the design, never on
#: the executor or the number of workers, so every executor computes the same jobs
JOB_ROWS = 512


def _group_scores(job: tuple[np.ndarray, int],
                  shared: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Worker: scores of ``node`` for one chunk of one configuration group. ``job`` = (the
    chunk's replications, the group's position); ``shared`` = (tree, weight factors and
    aggregation methods of every replication, level parameters, node position, the normalised
    matrix and base weights of every group, whether to use the kernels), shipped to each
    worker once."""
    rows, g = job
    tree, factors, methods, params, keep, normalised, base, kernels = shared
    return rows, aggregate_replications(tree, normalised[g], base[g][None, :] * factors[rows],
                                        methods[rows], params, keep, kernels=kernels)


def run_uncertainty(
    pipe: Pipeline,
    spec: UncertaintySpec,
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    executor: str | None = None,
    scheduler: str | None = None,
    node: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    sobol: bool = True,
    data_se: pd.DataFrame | None = None,
    _kernels: bool | None = None,
) -> UncertaintyResult:
    """Run the Saltelli design through ``pipe`` (already built nominally) and analyse it.

    Every random draw comes from one stream of :func:`streams` (``seed``, default the spec's):
    the design, the weight sets, the data sets and the bootstrap each have their own, so the
    results depend neither on the order of the inputs nor on the executor (the workers only
    aggregate, deterministically, the chunks they are given — at most :data:`JOB_ROWS`
    replications of one configuration group each; results are put back by replication).

    ``executor``: ``serial``, ``processes`` or ``dask`` (:mod:`cocity.index.executors`); by
    default ``dask`` when a scheduler address is given (``scheduler`` or
    ``$COCITY_DASK_SCHEDULER``, so that every command that runs replications uses a cluster
    when the variable is set), else ``processes`` when ``workers`` > 1, else ``serial``.
    ``scheduler``: the address of a Dask scheduler (default ``$COCITY_DASK_SCHEDULER``; with
    neither and ``executor="dask"``, a local cluster of ``workers`` processes).
    ``progress(done, total)`` is called as each chunk completes.

    ``data_se``: standard errors of the raw values (units × indicators), needed by a ``data``
    input.

    ``_kernels``: whether to aggregate and rank with the kernels of
    :mod:`cocity.index.kernels` (True) or with numpy and scipy only (False, the reference: the
    same results to the bit); by default when replications × units ≥ :data:`KERNEL_CELLS`
    (below that, loading numba costs more than it saves). For the tests and the benchmark."""
    from SALib.analyze import sobol as sobol_analyze

    fw = pipe.framework
    node = node or fw.root
    seed = spec.seed if seed is None else seed
    rngs = streams(seed)
    if "normalise" not in pipe.params:
        raise MethodInputError(t("index.p.normalise_first"))
    tree = _Tree.of(fw)
    problem, u = saltelli_samples(spec, replications=replications, seed=rngs["design"])
    column = {name: j for j, name in enumerate(problem["names"])}
    values = {inp.name: inp.value(u[:, column[inp.name]]) for inp in spec.inputs}
    samples = pd.DataFrame(values)
    total = len(samples)

    # Weight factors per replication (1 where weights are not uncertain).
    factors = np.ones((total, len(tree.codes)))
    for inp in spec.inputs:
        if inp.step == "weights":
            table = weight_sets(len(tree.codes), noise=inp.noise, sets=inp.sets,
                                seed=rngs["weights"])
            factors = factors * table[values[inp.name]]
    # Aggregation method per replication and level.
    methods = np.full((total, len(tree.levels)), "", dtype=object)
    base_by_level = {int(k): v for k, v in pipe.params.get("aggregate", {})
                     .get("by_level", {}).items()}
    for level, method in base_by_level.items():
        methods[:, tree.levels.index(level)] = method
    for inp in spec.inputs:
        if inp.step == "aggregate":
            assert inp.level is not None
            methods[:, tree.levels.index(inp.level)] = np.asarray(inp.choices,
                                                                  dtype=object)[values[inp.name]]
    level_params = {int(k): dict(v) for k, v in pipe.params.get("aggregate", {})
                    .get("params", {}).items()}

    # Configurations of the steps before weighting: (data set, treat value, normalise choice).
    perturbed = _data_sets(pipe, spec, data_se, rngs["data"])
    keys = pd.DataFrame(index=samples.index)
    for inp in spec.inputs:
        if inp.step in ("data", "treat", "normalise"):
            keys[inp.name] = values[inp.name]
    groups: list[tuple[Any, np.ndarray]] = [(None, samples.index.to_numpy())]
    if len(keys.columns):
        grouped = keys.groupby(list(keys.columns)).indices if len(keys.columns) > 1 else {
            (k,): v for k, v in keys.groupby(keys.columns[0]).indices.items()}
        groups = [(k, np.asarray(v)) for k, v in grouped.items()]
    jobs, normalised, base = [], [], []
    for g, (key, rows) in enumerate(groups):
        variant = _variant(pipe, spec, key, list(keys.columns), perturbed)
        base.append(variant.weights[tree.codes].to_numpy(float))
        normalised.append(variant.data["normalise"][fw.indicators].to_numpy(float))
        jobs += [(rows[start:start + JOB_ROWS], g) for start in range(0, len(rows), JOB_ROWS)]
    if _kernels is None:
        _kernels = total * len(pipe.scores.index) >= KERNEL_CELLS
    shared = (tree, factors, methods, level_params, tree.codes.index(node), normalised, base,
              _kernels)
    scores = np.full((total, len(pipe.scores.index)), np.nan)
    done = 0
    how = choose(executor, scheduler=scheduler, workers=workers)
    for _i, (rows, root) in completed(_group_scores, jobs, shared=shared, executor=how,
                                      workers=workers, scheduler=scheduler):
        scores[rows] = root
        done += len(rows)
        if progress:
            progress(done, total)
    nominal = pipe.ranks[node]
    result = UncertaintyResult(units=pipe.scores.index, node=node, samples=samples,
                               scores=scores, ranks=_ranks(scores, kernels=_kernels),
                               nominal_rank=nominal)
    if sobol:
        y = result.mean_rank_shift
        # SALib seeds its bootstrap with a non-zero integer (0 would mean "unseeded")
        boot = int(rngs["bootstrap"].generate_state(1, np.uint32)[0]) or 1
        si = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=boot)
        indices = pd.DataFrame({"S1": si["S1"], "S1_conf": si["S1_conf"],
                                "ST": si["ST"], "ST_conf": si["ST_conf"]},
                               index=pd.Index(problem["names"], name="input"))
        result.sobol = indices.reindex(pd.Index([i.name for i in spec.inputs], name="input"))
    return result


def _data_sets(pipe: Pipeline, spec: UncertaintySpec, data_se: pd.DataFrame | None,
               stream: np.random.SeedSequence) -> np.ndarray | None:
    inp = next((i for i in spec.inputs if i.step == "data"), None)
    if inp is None:
        return None
    if data_se is None:
        raise MethodInputError(t("index.u.no_data_se"))
    return data_sets(pipe.raw, data_se, sets=inp.sets, seed=stream)


def _variant(pipe: Pipeline, spec: UncertaintySpec, key: Any, columns: list[str],
             perturbed: np.ndarray | None = None) -> Pipeline:
    """The pipeline rebuilt with one (data set, treat, normalise) configuration (nominal if
    None)."""
    if key is None:
        return pipe
    key = key if isinstance(key, tuple) else (key,)
    changes: dict[str, dict[str, Any]] = {}
    data = None
    for name, value in zip(columns, key, strict=True):
        inp = next(i for i in spec.inputs if i.name == name)
        if inp.step == "data":
            assert perturbed is not None
            data = pd.DataFrame(perturbed[int(value)], index=pipe.raw.index,
                                columns=pipe.raw.columns)
        else:
            changes[inp.step] = _step_change(pipe, inp, value)
    # one replay, through the weights: the scores are aggregated from these by the kernels
    return pipe.rerun(data=data, until="weight", **changes)


def _step_change(pipe: Pipeline, inp: UncertainInput, value: Any) -> dict[str, Any]:
    """The pipeline change that a normalise or treat input's sampled value stands for."""
    if inp.step == "normalise":
        choice = inp.choices[int(value)]
        return dict(choice) if isinstance(choice, dict) else {"method": str(choice)}
    assert inp.step == "treat" and inp.param is not None
    v = int(value) if float(value).is_integer() else float(value)
    return {**pipe.params.get("treat", {}), inp.param: v}


def rebuild_replication(pipe: Pipeline, spec: UncertaintySpec, *, sample: pd.Series,
                        seed: int | None = None,
                        data_se: pd.DataFrame | None = None) -> pd.Series:
    """The baseline: one replication by rebuilding the whole pipeline (for tests and
    benchmarks — it must give the same scores as the vectorised engine)."""
    fw = pipe.framework
    rngs = streams(spec.seed if seed is None else seed)
    perturbed = _data_sets(pipe, spec, data_se, rngs["data"])
    tree = _Tree.of(fw)
    changes: dict[str, Any] = {}
    factor = np.ones(len(tree.codes))
    by_level = dict(pipe.params.get("aggregate", {}).get("by_level", {}))
    for inp in spec.inputs:
        value = sample[inp.name]
        if inp.step in ("normalise", "treat"):
            changes[inp.step] = _step_change(pipe, inp, value)
        elif inp.step == "aggregate":
            by_level[inp.level] = inp.choices[int(value)]
        elif inp.step == "weights":
            factor = factor * weight_sets(len(tree.codes), noise=inp.noise, sets=inp.sets,
                                          seed=rngs["weights"])[int(value)]
        elif inp.step == "data":
            assert perturbed is not None
            pipe = pipe.rerun(data=pd.DataFrame(perturbed[int(value)], index=pipe.raw.index,
                                                columns=pipe.raw.columns))
    keyed = pipe.rerun(**changes)
    w = keyed.weights[tree.codes] * factor
    changes["weight"] = {level: {"method": "manual",
                                 "w": {c: float(w[c]) for c in fw.level_codes(level)}}
                         for level in range(1, fw.n_levels)}
    changes["aggregate"] = {"by_level": by_level}
    return pipe.rerun(**changes).scores[fw.root]
