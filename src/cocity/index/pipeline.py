"""A replayable composite-indicator pipeline (the "coin" of COINr, in Python).

A :class:`Pipeline` holds the raw data and a framework, runs the steps in a fixed order —
denominate → screen → impute → treat → normalise → weight → aggregate — keeps the data after
each step and a log of every step with its parameters. Calling a step again replaces its
parameters and replays that step and every later one. :meth:`Pipeline.rerun` builds a new
pipeline with any parameters changed; :meth:`Pipeline.compare` reports score and rank changes
between two versions. Single years (rows = units) and panels (rows = (unit, year)) both work:
in a panel, statistics (normalisation bounds, objective weights) pool all unit-years, so scores
are comparable across years.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from cocity.i18n import t
from cocity.index import registry
from cocity.index.errors import MethodInputError
from cocity.index.framework import Framework

ORDER = ("denominate", "screen", "impute", "treat", "normalise", "weight", "aggregate")
PANEL_IMPUTERS = ("latest", "linear")


class Pipeline:
    """Build a composite index step by step; every step is logged and can be replayed.

    >>> pipe = Pipeline(data, framework)                       # doctest: +SKIP
    >>> pipe.impute("median").normalise("minmax").aggregate()   # doctest: +SKIP
    >>> pipe.scores[framework.root].sort_values()               # doctest: +SKIP
    """

    def __init__(self, data: pd.DataFrame, framework: Framework, *,
                 groups: pd.Series | None = None, denominators: pd.DataFrame | None = None):
        framework.check_data(list(data.columns))
        self.framework = framework
        self.raw = data[framework.indicators].astype(float)
        self.groups = groups
        self.denominators = denominators
        self.params: dict[str, dict[str, Any]] = {}
        self.weight_params: dict[int, dict[str, Any]] = {}
        self.data: dict[str, pd.DataFrame] = {"raw": self.raw}
        self.imputed = pd.DataFrame(False, index=self.raw.index, columns=self.raw.columns)
        self.treatment: dict[str, Any] = {}
        self.weights = pd.Series({c: n.weight for c, n in framework.nodes.items()}, dtype=float)
        self.scores = pd.DataFrame(index=self.raw.index)
        self.log: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ steps
    def denominate(self, by: dict[str, str], *, scale: float | dict[str, float] = 1.0) -> Pipeline:
        """Divide indicators by denominators: ``by`` maps indicator → denominator column."""
        return self._set("denominate", {"by": dict(by), "scale": scale})

    def screen(self, min_share: float = 0.5) -> Pipeline:
        """Drop units whose share of non-missing raw indicators is below ``min_share``."""
        return self._set("screen", {"min_share": float(min_share)})

    def impute(self, method: str = "mean", **params: Any) -> Pipeline:
        """Fill missing values with an ``impute`` method (observed values never change)."""
        return self._set("impute", {"method": method, **params})

    def treat(self, method: str = "winsorise", **params: Any) -> Pipeline:
        """Treat outliers with a ``treat`` method."""
        return self._set("treat", {"method": method, **params})

    def normalise(self, method: str = "minmax", **params: Any) -> Pipeline:
        """Bring indicators to a common scale, oriented so that higher is better."""
        return self._set("normalise", {"method": method, **params})

    def weight(self, method: str = "manual", *, level: int = 1, **params: Any) -> Pipeline:
        """Weights of the nodes at ``level`` within each parent, from a ``weight`` method
        computed on the normalised (level 1) or aggregated (higher levels) scores."""
        self.weight_params[int(level)] = {"method": method, **params}
        self._replay("weight")
        return self

    def aggregate(self, *, by_level: dict[int, str] | None = None,
                  min_share: dict[int, float] | None = None,
                  params: dict[int, dict[str, Any]] | None = None) -> Pipeline:
        """Aggregate up the tree. ``by_level`` overrides the framework's method of a level,
        ``min_share`` its data-availability threshold (a unit with a smaller share of non-missing
        children gets no score), ``params`` the method parameters of a level."""
        return self._set("aggregate", {"by_level": dict(by_level or {}),
                                       "min_share": dict(min_share or {}),
                                       "params": dict(params or {})})

    def apply(self, steps: list[dict[str, dict[str, Any]]]) -> Pipeline:
        """Run steps given as data, e.g. from a framework file's ``pipeline:`` list::

            [{"impute": {"method": "median"}}, {"normalise": {"method": "minmax"}},
             {"weight": {"method": "entropy", "level": 1}}, {"aggregate": {}}]
        """
        for entry in steps:
            if len(entry) != 1:
                raise MethodInputError(t("index.p.bad_step", entry=entry))
            (kind, params), = entry.items()
            if kind not in ORDER:
                raise MethodInputError(t("index.p.unknown_step", step=kind,
                                         steps=", ".join(ORDER)))
            getattr(self, kind)(**(params or {}))
        return self

    # ------------------------------------------------------------------ versions
    def rerun(self, *, data: pd.DataFrame | None = None, until: str = "aggregate",
              **changes: dict[str, Any]) -> Pipeline:
        """A new pipeline with step parameters changed, e.g.
        ``pipe.rerun(normalise={"method": "zscore"}, aggregate={"by_level": {3: "geometric"}})``.
        A change that keeps a step's method is merged into its parameters; one that changes the
        method replaces them. Weight steps are changed with ``weight={level: {...}}``.

        ``data``: other raw values with the same units and indicators (e.g. a perturbed copy
        for the uncertainty analysis), else this pipeline's. ``until``: the last step replayed;
        the later ones are left unset (their parameters kept) — the uncertainty engine needs a
        variant's normalised data and weights, not its scores."""
        if data is not None and not (data.index.equals(self.raw.index)
                                     and list(data.columns) == list(self.raw.columns)):
            raise MethodInputError(t("index.p.with_data"))
        if until not in ORDER:
            raise MethodInputError(t("index.p.unknown_step", step=until, steps=", ".join(ORDER)))
        new = Pipeline(self.raw if data is None else data, self.framework, groups=self.groups,
                       denominators=self.denominators)
        new.params = copy.deepcopy(self.params)
        new.weight_params = copy.deepcopy(self.weight_params)
        for kind, change in changes.items():
            if kind == "weight":
                for level, p in change.items():
                    new.weight_params[int(level)] = dict(p)
            elif kind not in ORDER:
                raise MethodInputError(t("index.p.unknown_step", step=kind,
                                         steps=", ".join(ORDER)))
            else:
                old = new.params.get(kind, {})
                same_method = change.get("method", old.get("method")) == old.get("method")
                # Changing the method starts from its defaults; otherwise merge parameters.
                new.params[kind] = {**old, **change} if same_method else dict(change)
        new._replay(ORDER[0], until=until)
        return new

    def compare(self, other: Pipeline, *, node: str | None = None) -> pd.DataFrame:
        """Scores and ranks of ``node`` (default: the index) in both versions, with changes."""
        node = node or self.framework.root
        a, b = self.scores[node], other.scores[node]
        out = pd.DataFrame({"score": a, "rank": a.rank(ascending=False, method="min"),
                            "score_other": b, "rank_other": b.rank(ascending=False,
                                                                   method="min")})
        out["score_change"] = out["score_other"] - out["score"]
        out["rank_change"] = out["rank_other"] - out["rank"]
        return out.sort_values("rank")

    @property
    def ranks(self) -> pd.DataFrame:
        """Rank of each unit (1 = best) at every node; ties share the best rank."""
        return self.scores.rank(ascending=False, method="min")

    # ------------------------------------------------------------------ machinery
    def _set(self, kind: str, params: dict[str, Any]) -> Pipeline:
        """Set a step's parameters and replay; on failure the pipeline stays as it was."""
        previous = self.params.get(kind)
        self.params[kind] = params
        try:
            self._replay(kind)
        except Exception:
            if previous is None:
                del self.params[kind]
            else:
                self.params[kind] = previous
            self._replay(kind)
            raise
        return self

    def _replay(self, start: str, *, until: str = "aggregate") -> None:
        """Recompute ``start`` and every later step that has been set, up to ``until``."""
        first = ORDER.index(start)
        self.log = [entry for entry in self.log if ORDER.index(entry["step"]) < first]
        runners: dict[str, Callable[[], None]] = {
            "denominate": self._run_denominate, "screen": self._run_screen,
            "impute": self._run_impute, "treat": self._run_treat,
            "normalise": self._run_normalise, "weight": self._run_weight,
            "aggregate": self._run_aggregate,
        }
        for kind in ORDER[first:ORDER.index(until) + 1]:
            active = bool(self.weight_params) if kind == "weight" else kind in self.params
            if active:
                runners[kind]()
            elif kind in ("impute", "treat", "normalise"):
                self.data[kind] = self._latest(kind)

    def _latest(self, before: str) -> pd.DataFrame:
        """The data after the last step run before ``before``."""
        for kind in reversed(ORDER[: ORDER.index(before)]):
            if kind in self.data and kind in ("denominate", "screen", "impute", "treat",
                                              "normalise"):
                return self.data[kind]
        return self.raw

    def _record(self, step: str, params: dict[str, Any], **info: Any) -> None:
        self.log.append({"step": step, "params": copy.deepcopy(params), **info})

    def _run_denominate(self) -> None:
        p = self.params["denominate"]
        if self.denominators is None:
            raise MethodInputError(t("index.p.no_denominators"))
        out = self.raw.copy()
        for ind, den in p["by"].items():
            scale = p["scale"][ind] if isinstance(p["scale"], dict) else p["scale"]
            out[ind] = self.raw[ind] / self.denominators[den] * scale
        self.data["denominate"] = out
        self._record("denominate", p)

    def _run_screen(self) -> None:
        p = self.params["screen"]
        x = self._latest("screen")
        share = x.notna().mean(axis=1)
        kept = x[share >= p["min_share"]]
        self.data["screen"] = kept
        self._record("screen", p, dropped=list(x.index[share < p["min_share"]]))

    def _run_impute(self) -> None:
        p = dict(self.params["impute"])
        method = p.pop("method")
        x = self._latest("impute")
        fn = registry.get("impute", method)
        if method in PANEL_IMPUTERS:
            cube, rebuild = _to_cube(x)
            filled = rebuild(fn(cube, **p))
        else:
            if "groups" in p and isinstance(p["groups"], pd.Series):
                p["groups"] = p["groups"].reindex(_units(x.index)).to_numpy()
            filled = pd.DataFrame(fn(x.to_numpy(float), **p), index=x.index, columns=x.columns)
        self.imputed = x.isna() & filled.notna()
        self.data["impute"] = filled
        self._record("impute", self.params["impute"], cells=int(self.imputed.to_numpy().sum()))

    def _run_treat(self) -> None:
        p = dict(self.params["treat"])
        method = p.pop("method")
        x = self._latest("treat")
        treated, info = registry.get("treat", method)(x.to_numpy(float), **p)
        self.data["treat"] = pd.DataFrame(treated, index=x.index, columns=x.columns)
        self.treatment = info
        self._record("treat", self.params["treat"])

    def _run_normalise(self) -> None:
        p = dict(self.params["normalise"])
        method = p.pop("method")
        x = self._latest("normalise")
        fw = self.framework
        if method == "goalposts":
            p.setdefault("lower", np.array([fw.nodes[c].lower for c in x.columns], dtype=float))
            p.setdefault("upper", np.array([fw.nodes[c].upper for c in x.columns], dtype=float))
        if method == "distance_target":
            p.setdefault("targets", np.array([fw.nodes[c].target for c in x.columns],
                                             dtype=float))
        y = registry.get("normalise", method)(x.to_numpy(float), fw.directions(), **p)
        self.data["normalise"] = pd.DataFrame(y, index=x.index, columns=x.columns)
        self._record("normalise", self.params["normalise"])

    def _run_weight(self) -> None:
        fw = self.framework
        self.weights = pd.Series({c: n.weight for c, n in fw.nodes.items()}, dtype=float)
        for level, params in sorted(self.weight_params.items()):
            p = dict(params)
            method = p.pop("method")
            basis = self._level_scores(level)
            fn = registry.get("weight", method)
            for parent in fw.level_codes(level + 1):
                kids = fw.children(parent)
                if method == "manual":
                    given = p.get("w", {})
                    w = np.array([float(given.get(k, fw.nodes[k].weight)) for k in kids])
                    w = fn(basis[kids].to_numpy(float), w=w)
                else:
                    w = fn(basis[kids].to_numpy(float), **p)
                self.weights[kids] = np.asarray(w, dtype=float)
            self._record("weight", params, level=level,
                         weights=self.weights[fw.level_codes(level)].round(6).to_dict())

    def _level_scores(self, level: int) -> pd.DataFrame:
        """Scores of the nodes at ``level``: normalised indicators, or an aggregation."""
        if level == 1:
            return self.data["normalise"]
        self._run_aggregate(record=False, up_to=level)
        return self.scores[self.framework.level_codes(level)]

    def _run_aggregate(self, *, record: bool = True, up_to: int | None = None) -> None:
        fw = self.framework
        p = self.params.get("aggregate", {})
        by_level = {int(k): v for k, v in p.get("by_level", {}).items()}
        min_share = {int(k): float(v) for k, v in p.get("min_share", {}).items()}
        level_params = {int(k): dict(v) for k, v in p.get("params", {}).items()}
        if "normalise" not in self.data:
            raise MethodInputError(t("index.p.normalise_first"))
        scores = self.data["normalise"].copy()
        for level in range(2, (up_to or fw.n_levels) + 1):
            for node in fw.level_codes(level):
                kids = fw.children(node)
                method = by_level.get(level) or fw.method_for(node)
                share = min_share.get(level, fw.min_share_for(node))
                fn = registry.get("aggregate", method)
                w = self.weights[kids].to_numpy(float)
                scores[node] = fn(scores[kids].to_numpy(float), w, min_share=share,
                                  **level_params.get(level, {}))
        self.scores = scores
        if record:
            self._record("aggregate", self.params.get("aggregate", {}))


def _units(index: pd.Index) -> pd.Index:
    return index.get_level_values(0) if isinstance(index, pd.MultiIndex) else index


def _to_cube(x: pd.DataFrame) -> tuple[np.ndarray, Callable[[np.ndarray], pd.DataFrame]]:
    """A (unit, year)-indexed frame as a (years, units, indicators) array, and the way back."""
    if not isinstance(x.index, pd.MultiIndex) or x.index.nlevels != 2:
        raise MethodInputError(t("index.p.panel_needed"))
    units = x.index.get_level_values(0).unique()
    years = np.sort(x.index.get_level_values(1).unique())
    full = pd.MultiIndex.from_product([units, years], names=x.index.names)
    wide = x.reindex(full)
    cube = wide.to_numpy(float).reshape(len(units), len(years), x.shape[1]).transpose(1, 0, 2)

    def back(filled: np.ndarray) -> pd.DataFrame:
        flat = filled.transpose(1, 0, 2).reshape(len(units) * len(years), x.shape[1])
        return pd.DataFrame(flat, index=full, columns=x.columns).reindex(x.index)

    return cube, back
