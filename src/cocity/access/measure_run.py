"""The accessibility measures of ``cocity access measure`` on a user's files: the parameters
(:class:`MeasureParams`, every combination the method would not use refused), the demand and
supply points, a cost table or a street network routed with the bounded kernel, the measure
of :mod:`cocity.access.measures` and its summary (:class:`MeasureRun`). :func:`run_measure` is
the whole run; writing it is :mod:`cocity.report.access_report`'s job.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from cocity.access import decay as _decay
from cocity.access import measures
from cocity.access.errors import AccessInputError
from cocity.access.inputs import read_network, read_points, row_list
from cocity.i18n import t

MEASURE_METHODS = ("gravity", "cumulative_opportunities", "nearest_k", "fca_ratio",
                   "two_step_fca", "enhanced_2sfca", "gaussian_2sfca", "three_step_fca")
#: measures of the 2SFCA family: they have supply-side ratios R_j
CATCHMENT_METHODS = ("two_step_fca", "enhanced_2sfca", "gaussian_2sfca", "three_step_fca")
_NEEDS_THRESHOLD = ("cumulative_opportunities", "fca_ratio", "two_step_fca", "gaussian_2sfca",
                    "three_step_fca")
_TAKES_DECAY = ("gravity", "fca_ratio", "two_step_fca", "three_step_fca")
SPAR_MODES = ("none", "mean", "demand")
#: the command-line option of each decay or method parameter
PARAM_OPTIONS = {"beta": "--beta", "sigma": "--sigma", "h": "--bandwidth", "d_min": "--d-min",
                 "breaks": "--breaks", "weights": "--weights", "closed": "--closed",
                 "d0": "--threshold"}
E2SFCA_PARAMS = ("breaks", "weights", "closed")
def _options(params: list[str] | set[str]) -> str:
    return ", ".join(PARAM_OPTIONS.get(p, p) for p in sorted(params))


@dataclass
class MeasureParams:
    """What ``cocity access measure`` was asked to compute.

    ``params`` holds the decay parameters the user gave (``beta``, ``sigma``, ``h``,
    ``d_min``, ``breaks``, ``weights``, ``closed``); for ``enhanced_2sfca`` ``breaks``,
    ``weights`` and ``closed`` are the method's zones. A decay with a catchment scale ``d0``
    (binary, linear, Gaussian) takes the threshold, Epanechnikov takes it as ``h`` unless
    ``--bandwidth`` is given."""

    method: str
    threshold: float | None = None
    decay: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    k: int | None = None
    how: str | None = None
    spar: str = "none"

    def check(self) -> None:
        """Refuse a combination of options that the method would not use or cannot run."""
        m = self.method
        if m not in MEASURE_METHODS:
            raise AccessInputError(t("access.cli.measure.err.method", value=m,
                                     names=", ".join(MEASURE_METHODS)))
        if self.threshold is not None and not self.threshold > 0:
            raise AccessInputError(t("access.cli.measure.err.threshold_positive",
                                     value=self.threshold))
        if m == "enhanced_2sfca" and self.threshold is not None:
            raise AccessInputError(t("access.cli.measure.err.threshold_e2sfca"))
        if m in _NEEDS_THRESHOLD and self.threshold is None:
            raise AccessInputError(t("access.cli.measure.err.threshold_needed", method=m))
        if m == "gravity" and self.decay is None:
            raise AccessInputError(t("access.cli.measure.err.decay_needed", method=m))
        if m not in _TAKES_DECAY and self.decay is not None:
            raise AccessInputError(t("access.cli.measure.err.decay_not_used", method=m))
        if m != "nearest_k" and (self.k is not None or self.how is not None):
            raise AccessInputError(t("access.cli.measure.err.nearest_only", method=m))
        if self.spar not in SPAR_MODES:
            raise AccessInputError(t("access.cli.measure.err.spar", value=self.spar,
                                     names=", ".join(SPAR_MODES)))
        if m == "nearest_k" and self.spar != "none":
            raise AccessInputError(t("access.cli.measure.err.spar_nearest"))
        if self.decay is None:
            allowed = set(E2SFCA_PARAMS) if m == "enhanced_2sfca" else set()
            extra = set(self.params) - allowed
            if extra:
                raise AccessInputError(t("access.cli.measure.err.params_unused", method=m,
                                         options=_options(extra)))
        if m == "enhanced_2sfca":
            _decay.get("step", **self.params)  # checks the zones now
        self.decay_function()

    def decay_function(self) -> _decay.DecayFunction | None:
        """The decay with its parameters bound, or ``None`` (``f ≡ 1`` or the method's own)."""
        if self.decay is None:
            return None
        name = self.decay
        if name not in _decay.DECAYS:
            raise AccessInputError(t("access.m.err.unknown_decay", name=name,
                                     names=", ".join(_decay.DECAYS)))
        sig = inspect.signature(_decay.DECAYS[name])
        accepted = list(sig.parameters)[1:]
        params = dict(self.params)
        if "d0" in accepted:
            params["d0"] = self.threshold
        if name == "epanechnikov" and "h" not in params:
            params["h"] = self.threshold
        extra = {p for p, v in params.items() if p not in accepted and v is not None}
        if extra:
            raise AccessInputError(t("access.cli.measure.err.decay_param_unused", decay=name,
                                     options=_options(extra)))
        missing = [p for p in accepted if params.get(p) is None
                   and sig.parameters[p].default is inspect.Parameter.empty]
        if missing:
            raise AccessInputError(t("access.cli.measure.err.decay_param_missing", decay=name,
                                     options=_options(missing)))
        return _decay.get(name, **{p: v for p, v in params.items() if v is not None})

    def cutoff(self) -> float | None:
        """How far a search on a network has to go: the catchment (``None``: unbounded)."""
        if self.method == "enhanced_2sfca":
            return float(self.params.get("breaks", _decay.LUO_QI_2009_BREAKS)[-1])
        return self.threshold

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "threshold": self.threshold,
                               "decay": self.decay, "decay_params": dict(self.params)}
        if self.method == "enhanced_2sfca":
            out["decay_params"] = {"breaks": list(_decay.LUO_QI_2009_BREAKS),
                                   "weights": list(_decay.LUO_QI_2009_WEIGHTS),
                                   "closed": "left", **self.params}
        if self.method == "nearest_k":
            out.update(k=self.k or 1, how=self.how or "kth")
        out["spar"] = self.spar
        return out


def compute_measure(cost: sparse.csr_matrix, demand: pd.Series, supply: pd.Series,
                    p: MeasureParams, *, demand_cost: sparse.csr_matrix | None = None
                    ) -> tuple[pd.Series, measures.CatchmentResult | None]:
    """The measure ``p.method`` on a demand × supply cost matrix (rows in the order of
    ``demand``, columns in the order of ``supply``; both Series indexed by id). Returns the
    score per demand point and, for the 2SFCA family, the full result with the ratios."""
    p.check()
    fn = p.decay_function()
    d_ids, s_ids = demand.index, supply.index
    res: measures.CatchmentResult | None = None
    m = p.method
    if m == "gravity":
        assert fn is not None
        score = measures.gravity(cost, supply.to_numpy(float), decay=fn, cutoff=p.threshold
                                 if p.threshold is not None else float("inf"),
                                 demand_ids=d_ids, supply_ids=s_ids)
    elif m == "cumulative_opportunities":
        score = measures.cumulative_opportunities(cost, supply.to_numpy(float),
                                                  cutoff=float(p.threshold or 0), demand_ids=d_ids,
                                                  supply_ids=s_ids)
    elif m == "nearest_k":
        score = measures.nearest_k(cost, k=p.k or 1, how=p.how or "kth",
                                   supply=supply.to_numpy(float),
                                   cutoff=p.threshold if p.threshold is not None
                                   else float("inf"), demand_ids=d_ids)
    elif m == "fca_ratio":
        if demand_cost is None:
            raise AccessInputError(t("access.cli.measure.err.demand_cost_needed"))
        score = measures.fca_ratio(cost, demand_cost, demand.to_numpy(float),
                                   supply.to_numpy(float), cutoff=float(p.threshold or 0), decay=fn,
                                   demand_ids=d_ids, supply_ids=s_ids)
    elif m == "two_step_fca":
        res = measures.two_step_fca(cost, demand.to_numpy(float), supply.to_numpy(float),
                                    cutoff=float(p.threshold or 0), decay=fn, demand_ids=d_ids,
                                    supply_ids=s_ids)
    elif m == "enhanced_2sfca":
        res = measures.enhanced_2sfca(cost, demand.to_numpy(float), supply.to_numpy(float),
                                      demand_ids=d_ids, supply_ids=s_ids, **p.params)
    elif m == "gaussian_2sfca":
        res = measures.gaussian_2sfca(cost, demand.to_numpy(float), supply.to_numpy(float),
                                      cutoff=float(p.threshold or 0), demand_ids=d_ids,
                                      supply_ids=s_ids)
    else:
        res = measures.three_step_fca(cost, demand.to_numpy(float), supply.to_numpy(float),
                                      cutoff=float(p.threshold or 0), decay=fn, demand_ids=d_ids,
                                      supply_ids=s_ids)
    if res is not None:
        score = res.access
    assert isinstance(score, pd.Series)
    return score.rename("access"), res


@dataclass
class MeasureRun:
    """A finished ``cocity access measure``: ``demand`` (``id``, ``demand``, coordinates when
    known, ``snapped``/``snap`` on a network, ``access``, ``spar``) and ``supply`` (``id``,
    ``capacity``, coordinates, ``ratio``, ``catchment_demand`` and ``status`` for the 2SFCA
    family); ``cost_unit`` is ``minutes``, ``metres`` or ``cost`` (a user's table)."""

    params: MeasureParams
    demand: pd.DataFrame
    supply: pd.DataFrame
    source: str
    cost_unit: str
    pairs: int
    inputs: dict[str, str]
    coords: str | None = None          # "xy", "lonlat" or None
    crs: str | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def has_ratios(self) -> bool:
        return "ratio" in self.supply.columns

    @property
    def lower_is_better(self) -> bool:
        return self.params.method == "nearest_k"

    def method_name(self, lang: str) -> str:
        return t(f"access.cli.measure.method.{self.params.method}", lang)

    def coverage(self, lang: str | None = None) -> str:
        """Which points the measure covers."""
        return t("access.measure.coverage", lang, demand=len(self.demand),
                 supply=len(self.supply), pairs=self.pairs)


def build_measure(cost: sparse.csr_matrix, demand: pd.DataFrame, supply: pd.DataFrame,
                  p: MeasureParams, *, source: str, cost_unit: str, inputs: dict[str, str],
                  demand_cost: sparse.csr_matrix | None = None, coords: str | None = None,
                  crs: str | None = None,
                  notes: list[tuple[str, str]] | None = None) -> MeasureRun:
    """Run the measure on prepared frames (``demand``: ``id``, ``demand``; ``supply``:
    ``id``, ``capacity``; rows in the order of the cost matrix) and collect the tables."""
    d = demand.reset_index(drop=True)
    s = supply.reset_index(drop=True)
    score, res = compute_measure(cost, pd.Series(d["demand"].to_numpy(float), index=d["id"]),
                                 pd.Series(s["capacity"].to_numpy(float), index=s["id"]), p,
                                 demand_cost=demand_cost)
    d["access"] = score.to_numpy(float)
    if p.spar != "none":
        spar = measures.spatial_access_ratio(
            score, weights=d["demand"].to_numpy(float) if p.spar == "demand" else None)
        d["spar"] = np.asarray(spar, dtype=float)
    out_notes = list(notes or [])
    if res is not None:
        s["ratio"] = np.asarray(res.ratio, dtype=float)
        s["catchment_demand"] = res.catchment_demand.to_numpy(float)
        status = np.full(len(s), "ok", dtype=object)
        status[s["id"].isin(res.unreached).to_numpy()] = "unreached"
        status[s["id"].isin(res.zero_demand).to_numpy()] = "zero_demand"
        s["status"] = status
        for key in ("unreached", "zero_demand"):
            n = int((status == key).sum())
            if n:
                out_notes.append(_bi_note(f"access.cli.measure.note.{key}", n=n))
    if p.method == "nearest_k":
        none = int(np.isinf(d["access"]).sum())
    else:
        none = int((d["access"] == 0).sum())
    if none:
        pop = float(d.loc[np.isinf(d["access"]) if p.method == "nearest_k"
                          else d["access"] == 0, "demand"].sum())
        out_notes.append(_bi_note("access.cli.measure.note.no_supply", n=none, pop=pop))
    return MeasureRun(p, d, s, source, cost_unit, int(cost.nnz), inputs, coords, crs,
                      out_notes)


def _bi_note(key: str, **fmt: Any) -> tuple[str, str]:
    return t(key, "zh", **fmt), t(key, "en", **fmt)


def measure_stats(run: MeasureRun) -> dict[str, float]:
    """Summary statistics of the scores (finite values; demand-weighted mean)."""
    a = run.demand["access"].to_numpy(float)
    w = run.demand["demand"].to_numpy(float)
    ok = np.isfinite(a)
    v = a[ok]
    q = np.quantile(v, [0.0, 0.25, 0.5, 0.75, 1.0]) if len(v) else np.full(5, np.nan)
    wsum = float(w[ok].sum())
    none = np.isinf(a) if run.lower_is_better else a == 0
    total = float(w.sum())
    return {
        "n": float(len(a)), "finite": float(ok.sum()),
        "mean": float(v.mean()) if len(v) else float("nan"),
        "weighted_mean": float((v * w[ok]).sum() / wsum) if wsum > 0 else float("nan"),
        "std": float(v.std(ddof=1)) if len(v) > 1 else float("nan"),
        "min": float(q[0]), "p25": float(q[1]), "median": float(q[2]), "p75": float(q[3]),
        "max": float(q[4]), "no_supply": float(none.sum()),
        "no_supply_share": float(w[none].sum() / total) if total > 0 else float("nan"),
    }


STAT_KEYS = ("n", "mean", "weighted_mean", "std", "min", "p25", "median", "p75", "max",
             "no_supply", "no_supply_share")


def _column(frame: pd.DataFrame, column: str, option: str, what: str, path: Path) -> None:
    if column not in frame.columns:
        raise AccessInputError(t("access.cli.measure.err.column", what=t(
            f"access.cli.measure.what.{what}"), path=str(path), column=column, option=option,
            columns=", ".join(map(str, frame.columns))))


def _first_column(frame: pd.DataFrame, given: str | None, defaults: tuple[str, ...]) -> str:
    if given is not None:
        return given
    return next((c for c in defaults if c in frame.columns), defaults[0])


def _points_table(path: Path, what: str, id_col: str | None, value_col: str,
                  value_name: str, id_option: str, value_option: str,
                  need_ids: bool) -> pd.DataFrame:
    """Demand or supply points with ``id`` (text), ``demand``/``capacity`` and the original
    columns; ids and values are checked, each problem named with its rows."""
    raw = read_points(path, what)
    frame = raw.reset_index(drop=True)
    if len(frame) == 0:
        raise AccessInputError(t("access.cli.measure.err.empty", path=str(path),
                                 what=t(f"access.cli.measure.what.{what}")))
    rows = np.arange(len(frame)) + 2
    label = t(f"access.cli.measure.what.{what}")
    col = id_col or "id"
    if col not in frame.columns and (need_ids or id_col is not None):
        _column(frame, col, id_option, what, path)
    if col in frame.columns:
        ids = frame[col]
        empty = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy()
        if empty.any():
            raise AccessInputError(t("access.cli.measure.err.ids_missing", what=label,
                                     path=str(path), column=col,
                                     n=int(empty.sum()), rows=row_list(rows[empty].tolist())))
        id_text = ids.astype(str).str.strip()
    else:
        id_text = pd.Series(np.arange(len(frame)).astype(str))
    dup = id_text[id_text.duplicated()].unique().tolist()
    if dup:
        raise AccessInputError(t("access.cli.measure.err.ids_duplicate", what=label,
                                 path=str(path), ids=", ".join(dup[:10])))
    _column(frame, value_col, value_option, what, path)
    values = pd.to_numeric(frame[value_col], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        items = ", ".join(t("access.cli.measure.err.value_item", row=int(r), id=i, value=v)
                          for r, i, v in list(zip(rows[bad], id_text[bad],
                                                  frame[value_col][bad], strict=True))[:10])
        raise AccessInputError(t("access.cli.measure.err.values", what=label, path=str(path),
                                 column=value_col, n=int(bad.sum()), items=items))
    frame = frame.drop(columns=[c for c in {col, "id", value_col, value_name}
                                if c in frame.columns])
    frame.insert(0, "id", id_text.to_numpy())
    frame.insert(1, value_name, values)
    return frame


def _pairs_to_csr(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]
                  ) -> Any:
    """A CSR matrix from distinct (row, column) pairs; stored zeros are kept."""
    from scipy import sparse

    order = np.lexsort((cols, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    out = sparse.csr_matrix((values.astype(float), cols.astype(np.int32), indptr), shape=shape)
    out.has_sorted_indices = True
    return out


def read_cost_table(path: Path, origins: pd.Series, destinations: pd.Series, *,
                    columns: tuple[str, str, str], what: str) -> Any:
    """A long cost table (origin, destination, cost) as a CSR matrix with rows in the order
    of ``origins`` and columns in the order of ``destinations`` (ids as text). Unknown ids,
    missing, non-numeric or negative costs and repeated pairs are refused with their rows."""
    from cocity.access.network import read_table

    if not path.is_file():
        raise AccessInputError(t("access.net.err.no_file", path=str(path)))
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".txt", ".parquet", ".pq"):
        raise AccessInputError(t("access.cli.measure.err.cost_format", path=str(path)))
    table = read_table(path)
    o_col, d_col, c_col = columns
    for col, option in zip(columns, ("--origin-col", "--destination-col", "--cost-col"),
                           strict=True):
        _column(table, col, option, what, path)
    rows = np.arange(len(table)) + 2
    o_ids = table[o_col].astype(str).str.strip().to_numpy()
    d_ids = table[d_col].astype(str).str.strip().to_numpy()
    o_pos = pd.Index(origins).get_indexer(o_ids)
    d_pos = pd.Index(destinations).get_indexer(d_ids)
    problems = []
    for col, ids, pos, kind in ((o_col, o_ids, o_pos, "demand"),
                                (d_col, d_ids, d_pos, "supply" if what == "cost" else "demand")):
        unknown = pos < 0
        if unknown.any():
            first = pd.Series(rows[unknown]).groupby(ids[unknown]).min()
            listed = ", ".join(f"\u201c{i}\u201d ({r})" for i, r in list(first.items())[:10])
            problems.append(t("access.cli.measure.err.unknown_ids_item", column=col,
                              n=len(first), what=t(f"access.cli.measure.what.{kind}"),
                              ids=listed + (", …" if len(first) > 10 else "")))
    if problems:
        raise AccessInputError(t("access.cli.measure.err.unknown_ids", path=str(path),
                                 items="; ".join(problems)))
    cost = pd.to_numeric(table[c_col], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(cost) | (cost < 0)
    if bad.any():
        raise AccessInputError(t("access.cli.measure.err.cost_values", path=str(path),
                                 column=c_col, n=int(bad.sum()),
                                 rows=row_list(rows[bad].tolist())))
    pair = pd.Series(o_pos.astype(np.int64) * len(destinations) + d_pos)
    dup = pair.duplicated(keep=False).to_numpy()
    if dup.any():
        raise AccessInputError(t("access.cli.measure.err.cost_duplicates", path=str(path),
                                 n=int(dup.sum()), rows=row_list(rows[dup].tolist())))
    return _pairs_to_csr(o_pos, d_pos, cost, (len(origins), len(destinations)))


def _has_coords(*frames: pd.DataFrame) -> str | None:
    if all({"x", "y"} <= set(f.columns) for f in frames):
        return "xy"
    if all({"lon", "lat"} <= set(f.columns) for f in frames):
        return "lonlat"
    return None


def _route(router: Any, origins: Any, o_leg: np.ndarray, destinations: Any,
           d_leg: np.ndarray, cutoff: float | None, shape: tuple[int, int],
           **execution: Any) -> Any:
    """Node-to-node costs between snapped points (several points may share a node), plus the
    legs from each point to its node; pairs of points not snapped are absent. The searches
    run in blocks of origins on ``execution``'s executor (:mod:`cocity.access.blocks`)."""
    from cocity.access import blocks

    o_ok, d_ok = origins.snapped, destinations.snapped
    o_nodes, o_inv = np.unique(origins.node[o_ok], return_inverse=True)
    d_nodes, d_inv = np.unique(destinations.node[d_ok], return_inverse=True)
    if len(o_nodes) == 0 or len(d_nodes) == 0:
        return _pairs_to_csr(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), shape)
    m = blocks.many_to_many(router.graph, o_nodes, cutoff, destinations=d_nodes, router=router,
                            **execution).tocoo()
    od = pd.DataFrame({"r": m.row, "c": m.col, "v": m.data})
    orig = pd.DataFrame({"r": o_inv.ravel(), "i": np.flatnonzero(o_ok)})
    dest = pd.DataFrame({"c": d_inv.ravel(), "j": np.flatnonzero(d_ok)})
    pairs = od.merge(orig, on="r").merge(dest, on="c")
    i = pairs["i"].to_numpy(np.int64)
    j = pairs["j"].to_numpy(np.int64)
    v = pairs["v"].to_numpy(float) + o_leg[i] + d_leg[j]
    return _pairs_to_csr(i, j, v, shape)


def parse_numbers(text: str | None, *, option: str) -> list[float] | None:
    """``"10, 20，30"`` (commas, also full-width) as numbers; ``None`` stays ``None``."""
    if text is None:
        return None
    try:
        return [float(v) for v in text.replace("，", ",").split(",") if v.strip()]
    except ValueError:
        raise AccessInputError(t("access.cli.measure.err.numbers", option=option,
                                 value=text)) from None


def _network_costs(path: Path, nodes: Path | None, crs: str | None, dem: pd.DataFrame,
                   sup: pd.DataFrame, params: Any, unit: str, max_snap: float, *,
                   need_demand_cost: bool, **execution: Any) -> tuple[Any, ...]:
    """Costs on a street network: snap both point sets, route demand → supply (and demand →
    demand for the FCA ratio) within the catchment, add the legs to and from the network.
    ``execution``: ``executor``/``scheduler``/``workers`` of the searches."""
    from cocity.access.kernel import Router
    from cocity.access.life_circles import length_graph
    from cocity.access.network import DEFAULT_SPEED_KMH

    raw = read_network(path, nodes=nodes, crs=crs)
    net, report = raw.largest_component("weak")
    notes: list[tuple[str, str]] = []
    if report.dropped_nodes:
        notes.append(_note("access.cli.lc.note.component", n=report.dropped_nodes,
                           kept=report.kept_nodes))
    speed = float(net.speeds.get("default", DEFAULT_SPEED_KMH[net.profile]))
    per_metre = 1.0 if unit == "metres" else 60.0 / (speed * 1000.0)
    frames, snaps, legs = [], [], []
    for what, frame in (("demand", dem), ("supply", sup)):
        snap = net.snap(frame, max_snap=max_snap, crs=crs)
        xy = net.point_coords(frame, crs)
        frame = frame.assign(x=xy[:, 0], y=xy[:, 1], snapped=snap.snapped,
                             snap_m=snap.distance)
        far = int((~snap.snapped).sum())
        if far:
            notes.append(_note(f"access.cli.measure.note.far_{what}", n=far, max_snap=max_snap))
        frames.append(frame)
        snaps.append(snap)
        legs.append(snap.distance * per_metre)
    graph = net.csr if unit == "minutes" else length_graph(net)
    router = Router(graph)
    cutoff = params.cutoff()
    od = _route(router, snaps[0], legs[0], snaps[1], legs[1], cutoff, (len(dem), len(sup)),
                **execution)
    dd = _route(router, snaps[0], legs[0], snaps[0], legs[0], cutoff,
                (len(dem), len(dem)), **execution) if need_demand_cost else None
    return net, od, dd, frames[0], frames[1], notes


def _note(key: str, **fmt: Any) -> tuple[str, str]:
    return t(key, "zh", **fmt), t(key, "en", **fmt)


@dataclass(frozen=True)
class MeasureFiles:
    """The files of a measure run: demand and supply points and either a cost table (with a
    demand × demand table for the FCA ratio) or a street network (with its nodes)."""

    demand: Path
    supply: Path
    cost: Path | None = None
    demand_cost: Path | None = None
    network: Path | None = None
    nodes: Path | None = None


@dataclass(frozen=True)
class MeasureColumns:
    """Column names of the point files and the cost table (``None``: the defaults)."""

    demand_id: str | None = None
    demand: str | None = None
    supply_id: str | None = None
    capacity: str | None = None
    origin: str = "origin"
    destination: str = "destination"
    cost: str = "cost"


def run_measure(params: MeasureParams, files: MeasureFiles, *,
                columns: MeasureColumns | None = None, network_cost: str = "minutes",
                max_snap: float = 500.0, crs: str | None = None,
                on_step: Callable[[str], None] | None = None, executor: str | None = None,
                scheduler: str | None = None, workers: int = 1,
                progress: Callable[[int, int], None] | None = None) -> MeasureRun:
    """The whole ``cocity access measure`` run: check the parameters and the combination of
    files, read and check the points, read the cost table or route on the network (costs in
    ``network_cost``: minutes or metres), compute the measure. ``on_step`` is called with a
    label key before each stage (for progress displays). ``executor``/``scheduler``/
    ``workers``: where the network searches run, in blocks of origins
    (:func:`cocity.access.blocks.many_to_many`; same results on every executor);
    ``progress(done, total)`` follows the blocks."""
    step = on_step or (lambda _key: None)
    cols = columns or MeasureColumns()
    params.check()
    if (files.cost is None) == (files.network is None):
        raise AccessInputError(t("access.cli.measure.err.cost_or_network"))
    if files.network is None and files.nodes is not None:
        raise AccessInputError(t("access.cli.measure.err.network_only", option="--nodes"))
    if files.demand_cost is not None and (params.method != "fca_ratio" or files.cost is None):
        raise AccessInputError(t("access.cli.measure.err.demand_cost_unused"))
    if params.method == "fca_ratio" and files.cost is not None and files.demand_cost is None:
        raise AccessInputError(t("access.cli.measure.err.demand_cost_needed"))
    if network_cost not in ("minutes", "metres"):
        raise AccessInputError(t("access.cli.measure.err.network_cost", value=network_cost))
    step("access.cli.measure.step.points")
    by_table = files.cost is not None
    dem = read_points(files.demand, "demand")
    sup = read_points(files.supply, "supply")
    dem = _points_table(files.demand, "demand", cols.demand_id,
                        _first_column(dem, cols.demand, ("population", "demand")),
                        "demand", "--demand-id", "--demand-col", by_table)
    sup = _points_table(files.supply, "supply", cols.supply_id,
                        _first_column(sup, cols.capacity, ("capacity", "supply")),
                        "capacity", "--supply-id", "--capacity-col", by_table)
    inputs = {"demand": str(files.demand), "supply": str(files.supply)}
    notes: list[tuple[str, str]] = []
    dd_cost = None
    if files.cost is not None:
        step("access.cli.measure.step.cost")
        names = (cols.origin, cols.destination, cols.cost)
        od = read_cost_table(files.cost, dem["id"], sup["id"], columns=names, what="cost")
        if files.demand_cost is not None:
            dd_cost = read_cost_table(files.demand_cost, dem["id"], dem["id"], columns=names,
                                      what="demand_cost")
            inputs["demand_cost"] = str(files.demand_cost)
        inputs["cost"] = str(files.cost)
        coords = _has_coords(dem, sup)
        if coords == "lonlat":
            dem = dem.assign(x=dem["lon"], y=dem["lat"])
            sup = sup.assign(x=sup["lon"], y=sup["lat"])
        run_crs, source, unit = crs, "table", "cost"
    else:
        assert files.network is not None
        step("access.cli.step.network")
        net, od, dd_cost, dem, sup, notes = _network_costs(
            files.network, files.nodes, crs, dem, sup, params, network_cost, max_snap,
            need_demand_cost=params.method == "fca_ratio", executor=executor,
            scheduler=scheduler, workers=workers, progress=progress)
        inputs["network"] = str(files.network)
        if files.nodes is not None:
            inputs["nodes"] = str(files.nodes)
        coords, run_crs, source, unit = "xy", net.crs, "network", network_cost
    step("access.cli.measure.step.measure")
    return build_measure(od, dem, sup, params, source=source, cost_unit=unit, inputs=inputs,
                         demand_cost=dd_cost, coords=coords, crs=run_crs, notes=notes)
