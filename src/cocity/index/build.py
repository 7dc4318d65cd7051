"""Build a composite index from a framework file and a store: the I/O edge of the engine.

A framework file is the YAML of :mod:`cocity.index.framework` (or its CSV form, nodes only). The
YAML may also carry the data selection, the pipeline steps and the uncertainty inputs::

    data: {year: 2020, level: county, membership: [full, partial]}
    pipeline:
      - impute: {method: median}
      - normalise: {method: minmax, low: 1, high: 100}
      - aggregate: {by_level: {3: geometric}}
    uncertainty: {...}          # read by cocity.index.uncertainty

``data`` is optional: without a year the latest year in which every indicator has values is
used, without a level the finest level where every indicator has values; ``membership`` keeps
units of those circle memberships. Without ``pipeline`` the steps are min–max normalisation and
aggregation. An impute step may name a unit column as its groups (``groups: parent``).

Step parameters can be changed without editing the file, as ``step.param=value`` strings (the
command line's ``--set``): ``normalise.method=zscore``, ``aggregate.by_level.3=arithmetic``,
``weight.method=entropy`` (level-1 weights; ``weight.2.method=equal`` for level 2). Values are
read as YAML (``1``, ``0.5``, ``[0, 100]``, ``geometric``). Changing a step's method starts that
step from the new method's defaults; a step the file does not have is added.

Python API (the framework shipped as ``chengyu_living`` is a demonstration on the embedded data)::

    >>> from cocity.index.build import build_index, compare_runs
    >>> run = build_index("chengyu_living")
    >>> run.selection.year, run.selection.level, len(run.panel)
    (2020, 'county', 144)
    >>> top = run.ranking().iloc[0]
    >>> int(top["rank"]), top["name_en"]
    (1, 'Jiangbei District')
    >>> other = build_index("chengyu_living", overrides=["normalise.method=rank"])
    >>> changes = compare_runs(run, other)
    >>> list(changes.columns[:4])
    ['name_zh', 'name_en', 'score', 'rank']

``write_outputs(run, "out/living")`` then writes the tables (CSV, XLSX), the pipeline log, the
run manifest and the HTML summary; ``run_uncertainty_analysis(run)`` and
``write_uncertainty(run, result, "out/living")`` do the same for the file's uncertainty section.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import inspect
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import yaml

from cocity.data.schema import LEVELS, MEMBERSHIPS
from cocity.data.store import Store
from cocity.datasets import open_store
from cocity.i18n import t
from cocity.index import registry
from cocity.index.errors import FrameworkError, IndexEngineError
from cocity.index.framework import Framework
from cocity.index.pipeline import ORDER, Pipeline
from cocity.index.uncertainty import UncertaintyResult, UncertaintySpec, run_uncertainty
from cocity.outputs import dumps, jsonable, now_utc, sha256_file, versions, write_csv, write_xlsx
from cocity.outputs import write_atomic as write_text

FRAMEWORKS_DIR = "frameworks"
DATA_KEYS = ("year", "level", "membership")
DEFAULT_STEPS: list[dict[str, dict[str, Any]]] = [
    {"normalise": {"method": "minmax"}}, {"aggregate": {}}]
# Steps whose parameters are those of a registered method, and their keyword arguments that
# the pipeline itself takes.
METHOD_STEPS = ("impute", "treat", "normalise", "weight")
STEP_EXTRAS = {"weight": ("method", "level")}
PLAIN_STEPS = {"denominate": ("by", "scale"), "screen": ("min_share",),
               "aggregate": ("by_level", "min_share", "params")}
UNIT_GROUP_COLUMNS = ("parent", "membership", "tier", "metro", "kind")
LEVEL_PREFERENCE = ("county", "prefecture", "province")

NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")

Step = dict[str, dict[str, Any]]
OnStep = Callable[[str], None]


class BuildError(IndexEngineError):
    """The index cannot be built as asked (framework file, selection, overrides)."""


# ---------------------------------------------------------------------- framework files
@dataclass(frozen=True)
class FrameworkFile:
    """A framework file as read: the validated tree and the file's other sections."""

    source: str  # the path or shipped name as given
    name: str  # file stem, used for default output folders
    content: bytes
    framework: Framework
    data: dict[str, Any]
    steps: list[Step]
    uncertainty: dict[str, Any] | None
    notice_zh: str = ""
    notice_en: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def shipped_frameworks() -> list[str]:
    """Names of the framework files shipped with cocity."""
    folder = resources.files("cocity.index").joinpath(FRAMEWORKS_DIR)
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir()
                  if p.name.endswith(".yaml"))


def load_framework(ref: str | Path) -> FrameworkFile:
    """Read a framework file: a path (YAML or CSV) or the name of a shipped framework."""
    path = Path(ref)
    if path.is_file():
        content, name, suffix = path.read_bytes(), path.stem, path.suffix.lower()
    elif str(ref) in shipped_frameworks():
        res = resources.files("cocity.index").joinpath(FRAMEWORKS_DIR, f"{ref}.yaml")
        content, name, suffix = res.read_bytes(), str(ref), ".yaml"
    else:
        raise BuildError(t("index.cli.err.no_framework", ref=str(ref),
                           shipped=", ".join(shipped_frameworks())))
    source = str(ref)
    if suffix == ".csv":
        return FrameworkFile(source, name, content, Framework.from_csv(path), {},
                             copy.deepcopy(DEFAULT_STEPS), None)
    try:
        doc = yaml.safe_load(content.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise BuildError(t("index.cli.err.yaml", file=source, detail=str(exc))) from None
    if not isinstance(doc, dict) or "nodes" not in doc:
        raise FrameworkError([t("index.f.no_nodes", file=source)])
    framework = Framework.from_records(doc["nodes"], settings=doc, source=source)
    data = doc.get("data") or {}
    if not isinstance(data, dict):
        raise BuildError(t("index.cli.err.section", file=source, section="data",
                           kind=t("index.cli.kind.mapping")))
    unknown = sorted(set(data) - set(DATA_KEYS))
    if unknown:
        raise BuildError(t("index.cli.err.data_keys", file=source, keys=", ".join(unknown),
                           allowed=", ".join(DATA_KEYS)))
    raw_steps = doc.get("pipeline")
    steps = copy.deepcopy(DEFAULT_STEPS) if raw_steps is None else _steps(raw_steps, source)
    unc = doc.get("uncertainty")
    if unc is not None and not isinstance(unc, dict):
        raise BuildError(t("index.cli.err.section", file=source, section="uncertainty",
                           kind=t("index.cli.kind.mapping")))
    return FrameworkFile(source, name, content, framework, dict(data), steps, unc,
                         str(doc.get("notice_zh") or ""), str(doc.get("notice_en") or ""))


def _steps(raw: Any, source: str) -> list[Step]:
    """The ``pipeline:`` list as ``[{step: params}, …]``, each step known."""
    if not isinstance(raw, list):
        raise BuildError(t("index.cli.err.section", file=source, section="pipeline",
                           kind=t("index.cli.kind.list")))
    steps: list[Step] = []
    for entry in raw:
        if not isinstance(entry, dict) or len(entry) != 1:
            raise BuildError(t("index.p.bad_step", entry=entry))
        (kind, params), = entry.items()
        if kind not in ORDER:
            raise BuildError(t("index.p.unknown_step", step=kind, steps=", ".join(ORDER)))
        if params is not None and not isinstance(params, dict):
            raise BuildError(t("index.p.bad_step", entry=entry))
        steps.append({str(kind): dict(params or {})})
    return steps


# ---------------------------------------------------------------------- overrides
@dataclass(frozen=True)
class Override:
    """One ``step.param=value`` change of a step parameter."""

    text: str
    step: str
    level: int | None  # weight steps: the level whose weights change
    path: tuple[str | int, ...]
    value: Any


def parse_override(text: str) -> Override:
    """``"normalise.method=zscore"`` → an :class:`Override` (clear error on bad syntax)."""
    key, sep, raw = text.partition("=")
    parts = key.strip().split(".")
    if not sep or raw.strip() == "" or len(parts) < 2 or any(p == "" for p in parts):
        raise BuildError(t("index.cli.err.bad_set", text=text))
    step, rest = parts[0], parts[1:]
    if step not in ORDER:
        raise BuildError(t("index.cli.err.set_step", text=text, step=step,
                           steps=", ".join(ORDER)))
    level = None
    if step == "weight" and rest[0].isdigit():
        level, rest = int(rest[0]), rest[1:]
        if not rest:
            raise BuildError(t("index.cli.err.bad_set", text=text))
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise BuildError(t("index.cli.err.set_value", text=text, detail=str(exc))) from None
    if isinstance(value, str) and NUMBER.fullmatch(value.strip()):
        value = float(value)  # YAML 1.1 reads 1e2 (no dot) as text
    path = tuple(int(p) if p.isdigit() else p for p in rest)
    return Override(text, step, level, path, value)


def apply_overrides(steps: Sequence[Step], overrides: Iterable[str | Override]) -> list[Step]:
    """A copy of ``steps`` with the overrides applied, in the pipeline's step order."""
    out = copy.deepcopy(list(steps))
    parsed = [o if isinstance(o, Override) else parse_override(o) for o in overrides]
    # A method change resets its step, so method changes go first.
    for ov in sorted(parsed, key=lambda o: o.path != ("method",)):
        params = _find_step(out, ov.step, ov.level)
        if ov.path == ("method",) and params.get("method") != ov.value:
            keep = {"level": params["level"]} if "level" in params else {}
            params.clear()
            params.update(keep)
        target: dict[Any, Any] = params
        for key in ov.path[:-1]:
            nxt = target.setdefault(key, {})
            if not isinstance(nxt, dict):
                raise BuildError(t("index.cli.err.bad_set", text=ov.text))
            target = nxt
        target[ov.path[-1]] = ov.value
    out.sort(key=lambda e: ORDER.index(next(iter(e))))
    return out


def _find_step(steps: list[Step], kind: str, level: int | None) -> dict[str, Any]:
    """The parameters of step ``kind`` (a weight step: of ``level``, default 1); added when
    the steps do not have it."""
    for entry in steps:
        if kind in entry and (kind != "weight" or int(entry[kind].get("level", 1)) == (level or 1)):
            return entry[kind]
    params: dict[str, Any] = {"level": level} if kind == "weight" and level else {}
    steps.append({kind: params})
    return params


def check_steps(steps: Sequence[Step]) -> None:
    """Every method exists and every parameter is one its method or step takes."""
    for entry in steps:
        (kind, params), = entry.items()
        if kind in PLAIN_STEPS:
            _check_names(kind, None, params, PLAIN_STEPS[kind])
            if kind == "aggregate":
                for method in (params.get("by_level") or {}).values():
                    _method(kind, "aggregate", str(method))
            continue
        default = inspect.signature(getattr(Pipeline, kind)).parameters["method"].default
        method = str(params.get("method", default))
        fn = _method(kind, kind, method)
        sig = inspect.signature(fn).parameters.values()
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig):
            continue
        allowed = [p.name for p in sig if p.kind is inspect.Parameter.KEYWORD_ONLY]
        _check_names(kind, method, params, (*STEP_EXTRAS.get(kind, ("method",)), *allowed))


def _method(step: str, kind: str, name: str) -> Callable[..., Any]:
    try:
        return registry.get(kind, name)
    except registry.UnknownMethodError:
        available = registry.available(kind)
        close = difflib.get_close_matches(name, available, n=1)
        raise BuildError(t("index.cli.err.unknown_method", step=step, method=name,
                           available=", ".join(available),
                           hint=t("index.cli.err.did_you_mean", name=close[0]) if close
                           else "")) from None


def _check_names(step: str, method: str | None, params: dict[str, Any],
                 allowed: Sequence[str]) -> None:
    unknown = [str(k) for k in params if k not in allowed]
    if unknown:
        raise BuildError(t("index.cli.err.unknown_param", step=step,
                           method=method or step, params=", ".join(unknown),
                           allowed=", ".join(allowed) or "—"))


# ---------------------------------------------------------------------- selection and data
@dataclass(frozen=True)
class Selection:
    """Which observations an index is built on."""

    year: int
    level: str
    membership: tuple[str, ...] | None

    def as_dict(self) -> dict[str, Any]:
        return {"year": self.year, "level": self.level,
                "membership": list(self.membership) if self.membership else None}


def _membership(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    bad = [str(m) for m in items if m not in MEMBERSHIPS]
    if bad:
        raise BuildError(t("index.cli.err.membership", values=", ".join(bad),
                           allowed=", ".join(MEMBERSHIPS)))
    return tuple(str(m) for m in items)


def load_panel(store: Store, framework: Framework, *, year: int | None = None,
               level: str | None = None, membership: Sequence[str] | str | None = None
               ) -> tuple[pd.DataFrame, pd.DataFrame, Selection, list[str]]:
    """The indicators of ``framework`` for one year at one level, one row per unit code.

    Returns the panel, the units it covers (code, names, level, parent, membership, tier,
    metro), the resolved selection and the codes of selected units dropped for having no
    value at all.
    """
    catalog = store.catalog()
    absent = [c for c in framework.indicators if c not in catalog.index]
    if absent:
        raise BuildError(t("index.cli.err.missing_indicators", codes=", ".join(absent)))
    if level is not None and level not in LEVELS:
        raise BuildError(t("index.cli.err.level", level=level, levels=", ".join(LEVELS)))
    members = _membership(membership)
    obs = store.observations(framework.indicators)
    obs = obs[obs["value"].notna()]
    level_of = store.units().set_index("code")["level"]
    obs = obs.assign(level=obs["unit"].map(level_of))
    inds = set(framework.indicators)
    if level is None:
        complete = [lv for lv in LEVEL_PREFERENCE
                    if set(obs.loc[obs["level"] == lv, "indicator"]) >= inds]
        level = complete[0] if complete else next(
            (lv for lv in LEVEL_PREFERENCE if (obs["level"] == lv).any()), "county")
    at_level = obs[obs["level"] == level]
    if year is None:
        by_year = at_level.groupby("year")["indicator"].agg(set)
        full_years = [int(str(y)) for y, have in by_year.items() if have >= inds]
        if full_years:
            year = max(full_years)
        elif len(by_year):
            year = int(by_year.index.max())
        else:
            raise BuildError(t("index.cli.err.no_values", codes=", ".join(sorted(inds)),
                               year="—", level=t(f"level.{level}")))
    selection = Selection(int(year), level, members)
    units = store.units(level=level, membership=list(members) if members else None)
    if units.empty:
        raise BuildError(t("index.cli.err.empty", level=t(f"level.{level}"),
                           membership=", ".join(members or ()) or "—"))
    sel = at_level[(at_level["year"] == selection.year) & at_level["unit"].isin(units["code"])]
    no_values = [c for c in framework.indicators if c not in set(sel["indicator"])]
    if no_values:
        raise BuildError(t("index.cli.err.no_values", codes=", ".join(no_values),
                           year=selection.year, level=t(f"level.{level}")))
    panel = (sel.pivot(index="unit", columns="indicator", values="value")
             .reindex(columns=framework.indicators).astype(float).sort_index())
    panel.columns.name = None
    dropped = sorted(set(units["code"]) - set(panel.index))
    units = units.set_index("code").loc[panel.index]
    units.index.name = "unit"
    return panel, units, selection, dropped


# ---------------------------------------------------------------------- the run
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
    source: str  # dataset name or workspace folder
    datum: str
    geo: gpd.GeoDataFrame | None  # every unit with a boundary (all levels), or None
    dropped: list[str] = field(default_factory=list)

    @property
    def framework(self) -> Framework:
        return self.file.framework

    @property
    def root(self) -> str:
        return self.framework.root

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

    def nodes(self) -> pd.DataFrame:
        """The framework's nodes with bilingual names, weights (as used, normalised among
        siblings), effective weight in the index, direction, aggregation method and, for
        indicators, the unit of measure."""
        fw, pipe = self.framework, self.pipeline
        weights = pipe.weights
        agg = pipe.params.get("aggregate", {})
        by_level = {int(k): str(v) for k, v in (agg.get("by_level") or {}).items()}
        rows = []
        for code in self.node_order():
            node = fw.nodes[code]
            local = 1.0
            if node.parent is not None:
                sibs = fw.children(node.parent)
                total = float(weights[sibs].sum())
                local = float(weights[code]) / total if total > 0 else 1.0 / len(sibs)
            cat = self.catalog.loc[code] if code in self.catalog.index else None
            assert cat is None or isinstance(cat, pd.Series)
            rows.append({
                "code": code, "name_zh": _name(node.name_zh, code, cat, "name_zh"),
                "name_en": _name(node.name_en, code, cat, "name_en"), "level": node.level,
                "parent": node.parent or "", "weight": local, "direction": node.direction,
                "method": (by_level.get(node.level) or fw.method_for(code)) if node.level > 1
                else "",
                "unit_zh": "" if cat is None else _text(cat["unit_zh"]),
                "unit_en": "" if cat is None else _text(cat["unit_en"]),
            })
        out = pd.DataFrame(rows).set_index("code")
        local_w = out["weight"].astype(float).to_dict()
        effective = {}
        for code in out.index:
            w, c = 1.0, str(code)
            while True:
                w *= local_w[c]
                parent = fw.nodes[c].parent
                if parent is None:
                    break
                c = parent
            effective[code] = w
        out.insert(5, "effective_weight", pd.Series(effective))
        return out

    def ranking(self) -> pd.DataFrame:
        """One row per unit, best first: names, rank, the index score, then the score and rank
        of every node between the index and the indicators."""
        fw = self.framework
        out = self.units[["name_zh", "name_en"]].copy()
        out.index.name = "code"
        out["rank"] = self.ranks[self.root]
        out[self.root] = self.scores[self.root]
        for lv in range(fw.n_levels - 1, 1, -1):
            for code in fw.level_codes(lv):
                out[code] = self.scores[code]
                out[f"{code}_rank"] = self.ranks[code]
        out = out.sort_values(["rank", "name_zh"], na_position="last", kind="stable")
        out["rank"] = out["rank"].astype("Int64")
        for c in out.columns:
            if c.endswith("_rank"):
                out[c] = out[c].astype("Int64")
        return out

    def long_scores(self) -> pd.DataFrame:
        """Every (unit, node) pair: unit and node names, the node's level, score and rank and,
        for indicators, the raw value and whether it was imputed."""
        nodes = self.nodes()
        scores = self.scores.rename_axis("unit").reset_index().melt(
            id_vars="unit", var_name="node", value_name="score")
        ranks = self.ranks.rename_axis("unit").reset_index().melt(
            id_vars="unit", var_name="node", value_name="rank")
        out = scores.merge(ranks, on=["unit", "node"])
        out["rank"] = out["rank"].astype("Int64")
        out.insert(1, "unit_name_zh", out["unit"].map(self.units["name_zh"]))
        out.insert(2, "unit_name_en", out["unit"].map(self.units["name_en"]))
        out.insert(4, "node_name_zh", out["node"].map(nodes["name_zh"]))
        out.insert(5, "node_name_en", out["node"].map(nodes["name_en"]))
        out.insert(6, "level", out["node"].map(nodes["level"]).astype(int))
        raw = self.panel.rename_axis("unit").reset_index().melt(
            id_vars="unit", var_name="node", value_name="value")
        imputed = self.pipeline.imputed.reindex(index=self.panel.index,
                                                columns=self.panel.columns, fill_value=False)
        raw["imputed"] = imputed.to_numpy().ravel(order="F")
        out = out.merge(raw, on=["unit", "node"], how="left")
        order = {c: i for i, c in enumerate(self.node_order())}
        out["_order"] = out["node"].map(order)
        out = out.sort_values(["_order", "rank", "unit"], kind="stable", na_position="last")
        return out.drop(columns="_order").reset_index(drop=True)

    def log(self) -> list[dict[str, Any]]:
        """The pipeline's log, with the outlier treatment of each indicator by unit code."""
        entries = copy.deepcopy(self.pipeline.log)
        configured = {k: v for e in self.steps for k, v in e.items() if k == "impute"}
        for entry in entries:
            if entry["step"] == "impute" and "groups" in entry["params"]:
                entry["params"]["groups"] = configured["impute"].get("groups")
        info = self.pipeline.treatment
        cols = info.get("columns") if isinstance(info, dict) else None
        if cols:
            names = list(self.panel.columns)
            codes = list(self.panel.index)
            for entry in entries:
                if entry["step"] == "treat":
                    entry["indicators"] = [
                        {"indicator": names[int(c["column"])], "treatment": c["treatment"],
                         "winsorised": [codes[int(r)] for r in c.get("rows") or []],
                         "skew_before": c.get("skew_before"), "kurt_before": c.get("kurt_before"),
                         "skew_after": c.get("skew_after"), "kurt_after": c.get("kurt_after")}
                        for c in cols]
        return entries


def _text(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def _name(given: str, code: str, cat: pd.Series | None, col: str) -> str:
    """A node's name: the framework's, else the catalog's (indicators), else the code."""
    if given and given != code:
        return given
    if cat is None:
        return given
    return _text(cat[col]) or code


def _prepare_steps(steps: list[Step], units: pd.DataFrame) -> list[Step]:
    """Steps as the pipeline takes them: an impute step's ``groups`` naming a unit column
    becomes that column."""
    out = copy.deepcopy(steps)
    for entry in out:
        params = entry.get("impute")
        if params and isinstance(params.get("groups"), str):
            col = params["groups"]
            if col not in UNIT_GROUP_COLUMNS:
                raise BuildError(t("index.cli.err.groups", column=col,
                                   allowed=", ".join(UNIT_GROUP_COLUMNS)))
            params["groups"] = units[col].astype(object).where(units[col].notna(), "")
    return out


def build_index(framework: str | Path | FrameworkFile, store: Store | None = None, *,
                year: int | None = None, level: str | None = None,
                membership: Sequence[str] | str | None = None,
                overrides: Iterable[str] = (), on_step: OnStep | None = None) -> IndexRun:
    """Build the index of a framework file on ``store`` (default: the embedded dataset).

    ``year``, ``level`` and ``membership`` override the file's ``data:`` section;
    ``overrides`` are ``step.param=value`` changes of its pipeline. ``on_step`` is called with
    a label key before each stage (for progress displays).
    """
    step = on_step or (lambda _key: None)
    step("index.cli.step.framework")
    ff = framework if isinstance(framework, FrameworkFile) else load_framework(framework)
    overrides = list(overrides)
    steps = apply_overrides(ff.steps, overrides)
    check_steps(steps)
    own = store is None
    st = open_store() if store is None else store
    try:
        step("index.cli.step.data")
        panel, units, selection, dropped = load_panel(
            st, ff.framework, year=ff.data.get("year") if year is None else year,
            level=ff.data.get("level") if level is None else level,
            membership=ff.data.get("membership") if membership is None else membership)
        catalog = st.catalog().loc[ff.framework.indicators]
        geo = st.geodata()
        meta = st.meta()
        source = meta.get("dataset") or (str(st.path) if st.path else "")
    finally:
        if own:
            st.close()
    geo = geo[geo.geometry.notna() & ~geo.geometry.is_empty]
    step("index.cli.step.pipeline")
    pipe = Pipeline(panel, ff.framework)
    try:
        pipe.apply(_prepare_steps(steps, units))
    except IndexEngineError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise BuildError(t("index.cli.err.step_failed", detail=str(exc))) from exc
    return IndexRun(ff, selection, steps, overrides, panel, units, catalog, pipe, source,
                    str(geo.attrs.get("datum", "WGS-84")), geo if len(geo) else None, dropped)


# ---------------------------------------------------------------------- comparison
def compare_runs(base: IndexRun, other: IndexRun, node: str | None = None) -> pd.DataFrame:
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


# ---------------------------------------------------------------------- manifest and files
def panel_sha256(panel: pd.DataFrame) -> str:
    """sha256 of the panel's text form (index, columns, values to 17 significant digits)."""
    return hashlib.sha256(_panel_bytes(panel)).hexdigest()


def _panel_bytes(panel: pd.DataFrame) -> bytes:
    return panel.to_csv(float_format="%.17g", lineterminator="\n").encode("utf-8")


def inputs_sha256(panel: pd.DataFrame, framework: FrameworkFile) -> str:
    """sha256 over the panel's text form followed by the framework file's bytes."""
    return hashlib.sha256(_panel_bytes(panel) + framework.content).hexdigest()


def run_config(run: IndexRun) -> dict[str, Any]:
    """What a run was asked to do: selection, effective steps, overrides, uncertainty."""
    return {"data": run.selection.as_dict(), "pipeline": jsonable(run.steps),
            "overrides": list(run.overrides), "uncertainty": jsonable(run.file.uncertainty)}


def run_inputs(run: IndexRun) -> dict[str, Any]:
    return {
        "inputs_sha256": inputs_sha256(run.panel, run.file),
        "panel_sha256": panel_sha256(run.panel),
        "framework_sha256": run.file.sha256,
        "framework": run.file.source,
        "framework_name_zh": run.framework.name_zh,
        "framework_name_en": run.framework.name_en,
        "data_source": run.source,
        "datum": run.datum,
        "units": len(run.panel),
        "indicators": run.panel.shape[1],
        "dropped_units": list(run.dropped),
    }


def manifest(run: IndexRun, outputs: dict[str, Path] | None = None,
             kind: str = "build") -> dict[str, Any]:
    """The run manifest: inputs and their hashes, configuration, versions, output hashes."""
    return {
        "kind": kind,
        "created_utc": now_utc(),
        "inputs": run_inputs(run),
        "config": run_config(run),
        "versions": versions(),
        "outputs": {k: {"file": p.name, "sha256": sha256_file(p)}
                    for k, p in (outputs or {}).items()},
    }


def default_out(framework: FrameworkFile) -> Path:
    return Path(f"cocity-index-{framework.name}")


def write_outputs(run: IndexRun, out: str | Path, lang: str = "zh") -> dict[str, Path]:
    """Write the build's files into folder ``out``: ``ranking.csv`` (one row per unit),
    ``scores.csv`` (every unit × node, bilingual names), ``index.xlsx`` (ranking, scores,
    framework, pipeline and input data sheets), ``log.json``, ``index.html`` and, last,
    ``manifest.json`` with the hashes of the others. Returns the paths by key."""
    from cocity.report.index_summary import render_index_summary

    folder = Path(out)
    ranking, long, nodes = run.ranking(), run.long_scores(), run.nodes()
    log = run.log()
    steps = pd.DataFrame([{"step": e["step"], "params": json.dumps(
        jsonable(e["params"]), ensure_ascii=False)} for e in log], columns=["step", "params"])
    data = run.units[["name_zh", "name_en"]].join(run.panel)
    data.index.name = "code"
    paths = {
        "ranking_csv": write_csv(ranking, folder / "ranking.csv", index=True),
        "scores_csv": write_csv(long, folder / "scores.csv", index=False),
        "xlsx": write_xlsx({"ranking": ranking, "scores": long, "framework": nodes,
                            "pipeline": steps, "data": data}, folder / "index.xlsx",
                           index={"ranking": True, "framework": True, "data": True}),
        "log": write_text(dumps(log), folder / "log.json"),
    }
    man = manifest(run, paths)
    paths["html"] = render_index_summary(run, man, folder / "index.html", lang=lang)
    man = manifest(run, paths)
    paths["manifest"] = write_text(dumps(man), folder / "manifest.json")
    return paths


def write_compare(base: IndexRun, other: IndexRun, table: pd.DataFrame,
                  out: str | Path) -> dict[str, Path]:
    """Write a comparison: ``compare.csv``, ``compare.xlsx`` and ``compare.json`` (both runs'
    inputs and configuration, versions and output hashes)."""
    folder = Path(out)
    paths = {"csv": write_csv(table, folder / "compare.csv", index=True),
             "xlsx": write_xlsx({"compare": table}, folder / "compare.xlsx",
                               index={"compare": True})}
    man = {
        "kind": "compare",
        "created_utc": now_utc(),
        "base": {"inputs": run_inputs(base), "config": run_config(base)},
        "other": {"inputs": run_inputs(other), "config": run_config(other)},
        "versions": versions(),
        "outputs": {k: {"file": p.name, "sha256": sha256_file(p)}
                    for k, p in paths.items()},
    }
    paths["manifest"] = write_text(dumps(man), folder / "compare.json")
    return paths


# ---------------------------------------------------------------------- uncertainty
def run_uncertainty_analysis(run: IndexRun, *, replications: int | None = None,
                             seed: int | None = None, workers: int = 1,
                             progress: Callable[[int, int], None] | None = None
                             ) -> UncertaintyResult:
    """The uncertainty analysis of the framework file's ``uncertainty:`` section around the
    run's pipeline (``replications`` and ``seed`` override the section's)."""
    if not run.file.uncertainty:
        raise BuildError(t("index.cli.err.no_uncertainty", file=run.file.source))
    spec = UncertaintySpec.from_dict(run.file.uncertainty)
    try:
        return run_uncertainty(run.pipeline, spec, replications=replications, seed=seed,
                               workers=workers, progress=progress)
    except IndexEngineError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise BuildError(t("index.cli.err.step_failed", detail=str(exc))) from exc


def uncertainty_tables(run: IndexRun, result: UncertaintyResult
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rank intervals (one row per unit, by median rank) and the Sobol indices (one row per
    uncertain input), with bilingual names."""
    from cocity.report.index_summary import input_label

    ranks = run.units[["name_zh", "name_en"]].join(result.rank_summary, how="right")
    ranks.index.name = "code"
    sobol = result.sobol.copy()
    sobol.insert(0, "label_zh", [input_label(str(i), "zh") for i in sobol.index])
    sobol.insert(1, "label_en", [input_label(str(i), "en") for i in sobol.index])
    return ranks, sobol


def write_uncertainty(run: IndexRun, result: UncertaintyResult, out: str | Path, *,
                      replications: int | None = None, seed: int | None = None,
                      workers: int = 1, lang: str = "zh") -> dict[str, Path]:
    """Write ``uncertainty_ranks.csv``, ``uncertainty_sobol.csv``, ``uncertainty.xlsx`` (ranks,
    Sobol indices and the sampled input values), ``uncertainty.html`` and, last,
    ``uncertainty.json`` (inputs, configuration, versions, output hashes)."""
    from cocity.report.index_summary import render_uncertainty

    folder = Path(out)
    ranks, sobol = uncertainty_tables(run, result)
    paths = {
        "ranks_csv": write_csv(ranks, folder / "uncertainty_ranks.csv", index=True),
        "sobol_csv": write_csv(sobol, folder / "uncertainty_sobol.csv", index=True),
        "xlsx": write_xlsx({"ranks": ranks, "sobol": sobol, "samples": result.samples},
                           folder / "uncertainty.xlsx",
                           index={"ranks": True, "sobol": True, "samples": True}),
    }
    spec = run.file.uncertainty or {}

    def man() -> dict[str, Any]:
        m = manifest(run, paths, kind="uncertainty")
        m["config"]["run"] = {"replications_asked": replications or spec.get("replications"),
                              "replications": result.replications,
                              "seed": spec.get("seed", 0) if seed is None else seed,
                              "workers": workers, "node": result.node}
        return m

    paths["html"] = render_uncertainty(run, result, man(), folder / "uncertainty.html",
                                       lang=lang)
    paths["manifest"] = write_text(dumps(man()), folder / "uncertainty.json")
    return paths
