"""Integration diagnostics of a workspace: the pure part of ``cocity diagnose``.

:func:`run_diagnostics` reads a :class:`~cocity.data.store.Store` and runs the toolbox of
:mod:`cocity.metrics` as a specification (:class:`DiagnoseSpec`, from
``diagnose_default.yaml`` merged with a user file) asks:

- **inequality** of each indicator in each cross-section year: population-weighted Gini,
  Theil T (or L) with its between/within decomposition, Dagum's Gini decomposition by groups
  (province, prefecture or metropolitan area) and Williamson's CV;
- **convergence**: the σ series (with its trend test from three years on) and absolute
  β-convergence with speed and half-life;
- **division of labour** of the prefecture-level units: location quotients, Krugman indices,
  structural similarity with the homogeneous-competition list, roles;
- the **linkage network** (modified gravity model) with centralities and core–periphery, and
  **polycentricity** (primacy, rank–size, morphological and functional);
- **spatial autocorrelation**: global Moran's I with permutation inference and LISA clusters on
  contiguity weights from the boundaries;
- **people–circle coupling coordination** per unit and year, graded.

The result, :class:`Diagnostics`, is plain data (frames and dataclasses, no figures, no I/O).
Units without data are left out of a computation with a :class:`Note` saying which; bad input
(one-member groups under ``min_group_size``, all-equal values where a test needs variation,
zeros where logarithms are taken, islands in the weights) raises :class:`DiagnoseError` — a
:class:`~cocity.metrics.errors.MetricInputError` carrying the metric's own message and where it
arose — or gets a documented result with a note. No table holds a silent ``NaN``: the few
undefined entries (a half-life under divergence) are explained by a note.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import yaml

from cocity.data.errors import CocityError
from cocity.data.schema import LEVELS, MEMBERSHIPS
from cocity.data.store import Store
from cocity.i18n import LANGS, current_lang, t
from cocity.i18n import labels as all_labels
from cocity.metrics import convergence as conv
from cocity.metrics import inequality as ineq
from cocity.metrics import network as net
from cocity.metrics import people_circle as pc
from cocity.metrics import polycentricity as poly
from cocity.metrics import spatial, structure, weights
from cocity.metrics.errors import MetricInputError

SECTIONS = ("inequality", "convergence", "structure", "network", "polycentricity", "spatial",
            "people_circle")
GROUP_BY = ("province", "prefecture", "metro")
NO_METRO = "none"
DEFAULT_SPEC = "diagnose_default.yaml"
_SIGMA_MEASURES = ("cv", "gini", "theil")
_SHOW = 8  # unit names listed in a note


class DiagnoseError(MetricInputError):
    """The diagnostics cannot run as specified: a bad specification, missing data, or a
    metric's :class:`~cocity.metrics.errors.MetricInputError` with where it arose."""


# ----------------------------------------------------------------------------- notes


Bilingual = Mapping[str, str]


@dataclass(frozen=True)
class Note:
    """A remark of the run shown in the report and the terminal: ``key`` is an i18n label,
    ``params`` its fields (a field may be a ``{"zh": …, "en": …}`` mapping)."""

    section: str
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str | None = None) -> str:
        lg = lang or current_lang()
        fmt: dict[str, Any] = {k: (v[lg] if isinstance(v, Mapping) else v)
                               for k, v in self.params.items()}
        return t(self.key, lg, **fmt)


# ----------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class DiagnoseSpec:
    """A validated specification; ``raw`` is the merged mapping (recorded in the manifest)."""

    level: str
    membership: tuple[str, ...] | None
    indicators: tuple[str, ...]
    years: tuple[int, ...]
    population: str
    sections: tuple[str, ...]
    inequality: Mapping[str, Any]
    convergence: Mapping[str, Any]
    structure: Mapping[str, Any]
    network: Mapping[str, Any]
    polycentricity: Mapping[str, Any]
    spatial: Mapping[str, Any]
    people_circle: Mapping[str, Any]
    source: str
    raw: Mapping[str, Any]

    @property
    def group_by(self) -> str:
        return str(self.inequality["group_by"])

    @property
    def main_year(self) -> int:
        return self.years[0]

    @property
    def sha256(self) -> str:
        text = json.dumps(self.raw, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def default_spec() -> dict[str, Any]:
    """The shipped specification (``diagnose_default.yaml``) as a mapping."""
    text = (resources.files(__package__) / DEFAULT_SPEC).read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _spec_error(path: str, key: str = "diagnose.err.spec_type", **fmt: object) -> DiagnoseError:
    return DiagnoseError(t("diagnose.err.spec", path=path, detail=t(key, None, **fmt)))


def _merge(base: dict[str, Any], user: Mapping[str, Any], path: str = "") -> dict[str, Any]:
    """``user`` over ``base``: mappings of the default merge key by key; an unknown key is an
    error; any other value replaces the default."""
    out = copy.deepcopy(base)
    for key, value in user.items():
        where = f"{path}{key}"
        if key not in base:
            raise _spec_error(where, "diagnose.err.spec_unknown", allowed=", ".join(base))
        if isinstance(base[key], dict) and key != "people_circle":
            if not isinstance(value, Mapping):
                raise _spec_error(where, "diagnose.err.spec_type", expected="mapping",
                                  got=type(value).__name__)
            out[key] = _merge(base[key], value, f"{where}.")
        else:
            out[key] = copy.deepcopy(value)
    return out


def _int(value: Any, path: str, *, low: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) \
            or (low is not None and value < low):
        raise _spec_error(path, "diagnose.err.spec_int", low="" if low is None else low,
                          got=value)
    return int(value)


def _float(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise _spec_error(path, "diagnose.err.spec_type", expected="number", got=value)
    return float(value)


def _choice(value: Any, path: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise _spec_error(path, "diagnose.err.spec_choice", got=value,
                          allowed=", ".join(allowed))
    return str(value)


def _str_list(value: Any, path: str, *, allowed: Sequence[str] | None = None,
              empty: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or (not value and not empty) \
            or not all(isinstance(v, str) for v in value):
        raise _spec_error(path, "diagnose.err.spec_type", expected="list of text",
                          got=value)
    if allowed is not None:
        for i, v in enumerate(value):
            _choice(v, f"{path}[{i}]", allowed)
    if len(set(value)) != len(value):
        raise _spec_error(path, "diagnose.err.spec_duplicates", got=value)
    return tuple(value)


def _year_list(value: Any, path: str, need: int = 1) -> tuple[int, ...]:
    if not isinstance(value, list) or len(value) < need:
        raise _spec_error(path, "diagnose.err.spec_years", need=need, got=value)
    years = tuple(_int(v, f"{path}[{i}]") for i, v in enumerate(value))
    if len(set(years)) != len(years):
        raise _spec_error(path, "diagnose.err.spec_duplicates", got=value)
    return years


def _indicator_year(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping) or set(value) != {"indicator", "year"} \
            or not isinstance(value["indicator"], str):
        raise _spec_error(path, "diagnose.err.spec_type", expected="{indicator, year}",
                          got=value)
    return {"indicator": value["indicator"], "year": _int(value["year"], f"{path}.year")}


def _people_circle_spec(value: Any) -> dict[str, Any]:
    """The people–circle specification (the shipped one, a file, or inline), checked for the
    shape :mod:`cocity.metrics.people_circle` reads: subsystems with indicator directions."""
    if value is None:
        return pc.default_spec()
    if isinstance(value, str):
        path = Path(value)
        if not path.is_file():
            raise _spec_error("people_circle", "diagnose.err.spec_file", file=value)
        try:
            spec = pc.load_spec(path)
        except yaml.YAMLError as exc:
            raise DiagnoseError(t("diagnose.err.spec_yaml", file=path, detail=exc)) from None
    elif isinstance(value, Mapping):
        spec = dict(value)
    else:
        raise _spec_error("people_circle", "diagnose.err.spec_type",
                          expected="null, path or mapping", got=value)
    subs = spec.get("subsystems") if isinstance(spec, Mapping) else None
    if not isinstance(subs, Mapping) or not subs:
        raise _spec_error("people_circle.subsystems", "diagnose.err.spec_type",
                          expected="mapping", got=subs)
    for key, sub in subs.items():
        inds = sub.get("indicators") if isinstance(sub, Mapping) else None
        if not isinstance(inds, Mapping) or not inds \
                or any(v not in (1, -1) for v in inds.values()):
            raise _spec_error(f"people_circle.subsystems.{key}.indicators",
                              "diagnose.err.spec_type", expected="{indicator: 1 | -1}",
                              got=inds)
    return dict(spec)


def load_spec(source: str | Path | Mapping[str, Any] | None = None, *,
              group_by: str | None = None, year: int | None = None) -> DiagnoseSpec:
    """The default specification merged with ``source`` (a YAML file or a mapping), then the
    command-line overrides ``group_by`` and ``year`` (which makes ``years`` ``[year]``);
    every value is checked and a bad one raises :class:`DiagnoseError` naming its key."""
    base = default_spec()
    label = "<default>"
    user: Any = {}
    if isinstance(source, Mapping):
        user, label = source, "<mapping>"
    elif source is not None:
        path = Path(source)
        if not path.is_file():
            raise DiagnoseError(t("diagnose.err.spec_missing", file=path))
        try:
            user = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise DiagnoseError(t("diagnose.err.spec_yaml", file=path, detail=exc)) from None
        label = str(path)
    if not isinstance(user, Mapping):
        raise _spec_error("<root>", "diagnose.err.spec_type", expected="mapping",
                          got=type(user).__name__)
    raw = _merge(base, user)
    if group_by is not None:
        raw["inequality"]["group_by"] = group_by
    if year is not None:
        raw["years"] = [year]

    scope = raw["scope"]
    level = _choice(scope["level"], "scope.level", LEVELS)
    membership = (None if scope["membership"] is None
                  else _str_list(scope["membership"], "scope.membership", allowed=MEMBERSHIPS))
    indicators = _str_list(raw["indicators"], "indicators")
    years = _year_list(raw["years"], "years")
    if not isinstance(raw["population"], str):
        raise _spec_error("population", "diagnose.err.spec_type", expected="text",
                          got=raw["population"])
    sections = _str_list(raw["sections"], "sections", allowed=SECTIONS)

    q = raw["inequality"]
    _choice(q["group_by"], "inequality.group_by", GROUP_BY)
    _choice(q["theil"], "inequality.theil", ("T", "L"))
    _int(q["permutations"], "inequality.permutations", low=0)
    _int(q["seed"], "inequality.seed", low=0)
    _int(q["min_group_size"], "inequality.min_group_size", low=1)

    c = raw["convergence"]
    c_years = _year_list(c["years"], "convergence.years", need=2)
    if list(c_years) != sorted(c_years):
        raise _spec_error("convergence.years", "diagnose.err.spec_increasing", got=c["years"])
    _choice(c["sigma"], "convergence.sigma", _SIGMA_MEASURES)

    s = raw["structure"]
    _choice(s["level"], "structure.level", LEVELS)
    if s["year"] is not None:
        _int(s["year"], "structure.year")
    if not isinstance(s["sector_prefix"], str) or not s["sector_prefix"]:
        raise _spec_error("structure.sector_prefix", "diagnose.err.spec_type", expected="text",
                          got=s["sector_prefix"])
    _choice(s["missing_sectors"], "structure.missing_sectors", ("drop", "raise"))
    if not isinstance(s["totals"], str):
        raise _spec_error("structure.totals", "diagnose.err.spec_type", expected="text",
                          got=s["totals"])
    threshold = _float(s["similarity_threshold"], "structure.similarity_threshold")
    if not 0 < threshold <= 1:
        raise _spec_error("structure.similarity_threshold", "diagnose.err.spec_choice",
                          got=threshold, allowed="(0, 1]")
    if s["roles"] is not None and not Path(str(s["roles"])).is_file():
        raise _spec_error("structure.roles", "diagnose.err.spec_file", file=s["roles"])

    n = raw["network"]
    _choice(n["level"], "network.level", LEVELS)
    n["population"] = _indicator_year(n["population"], "network.population")
    n["gdp"] = _indicator_year(n["gdp"], "network.gdp")
    if _float(n["decay"], "network.decay") < 0:
        raise _spec_error("network.decay", "diagnose.err.spec_choice", got=n["decay"],
                          allowed="≥ 0")
    if n["top_k"] is not None:
        _int(n["top_k"], "network.top_k", low=1)

    p = raw["polycentricity"]
    _choice(p["level"], "polycentricity.level", LEVELS)
    p["size"] = _indicator_year(p["size"], "polycentricity.size")
    _str_list(p["primacy"], "polycentricity.primacy", allowed=poly.PRIMACY_INDICES)
    if not isinstance(p["tops"], list) or not p["tops"]:
        raise _spec_error("polycentricity.tops", "diagnose.err.spec_type",
                          expected="list of integers ≥ 2", got=p["tops"])
    for i, k in enumerate(p["tops"]):
        _int(k, f"polycentricity.tops[{i}]", low=2)

    sp = raw["spatial"]
    _choice(sp["contiguity"], "spatial.contiguity", ("queen", "rook"))
    if _float(sp["snap"], "spatial.snap") < 0:
        raise _spec_error("spatial.snap", "diagnose.err.spec_choice", got=sp["snap"],
                          allowed="≥ 0")
    _choice(sp["islands"], "spatial.islands", ("raise", "nearest"))
    _int(sp["permutations"], "spatial.permutations", low=0)
    _int(sp["seed"], "spatial.seed", low=0)
    alpha = _float(sp["alpha"], "spatial.alpha")
    if not 0 < alpha < 1:
        raise _spec_error("spatial.alpha", "diagnose.err.spec_choice", got=alpha,
                          allowed="(0, 1)")

    return DiagnoseSpec(
        level=level, membership=membership, indicators=indicators, years=years,
        population=raw["population"], sections=sections, inequality=q, convergence=c,
        structure=s, network=n, polycentricity=p, spatial=sp,
        people_circle=_people_circle_spec(raw["people_circle"]), source=label, raw=raw)


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class InequalityResult:
    """One row of ``summary`` per (indicator, year); group tables in long form."""

    summary: pd.DataFrame       # indicator, year, n, n_groups, mean, gini, theil, …
    theil_groups: pd.DataFrame  # indicator, year, group, n, pop_share, income_share, …
    dagum_groups: pd.DataFrame  # indicator, year, group, n, pop_share, …, gini, within
    dagum_pairs: pd.DataFrame   # indicator, year, group_j, group_h, gini, affluence, …
    lorenz: pd.DataFrame        # indicator, year, pop_share, value_share (cumulative)


@dataclass(frozen=True)
class ConvergenceResult:
    years: tuple[int, ...]
    measure: str
    sigma: pd.DataFrame         # indicator, year, n, sigma
    sigma_trend: pd.DataFrame   # indicator, slope, t_stat, p_value, r2 (≥ 3 years only)
    beta: pd.DataFrame          # indicator, n, beta, se, t_stat, p_value, alpha, r2, …
    points: pd.DataFrame        # indicator, unit, y0, y1, ln_y0, growth


@dataclass(frozen=True)
class StructureResult:
    year: int
    level: str
    sectors: tuple[str, ...]
    shares: pd.DataFrame        # unit × sector (the input shares, %)
    lq: pd.DataFrame            # unit × sector
    krugman: pd.Series          # unit → K against the rest of the cluster
    krugman_pairwise: pd.DataFrame
    similarity: pd.DataFrame
    threshold: float
    warnings: pd.DataFrame      # unit_a, unit_b, similarity
    roles: pd.DataFrame         # per unit: tier, poles, labels and reasons in zh and en


@dataclass(frozen=True)
class NetworkResult:
    level: str
    population: pd.Series
    gdp: pd.Series
    distance: pd.DataFrame
    linkage: pd.DataFrame       # R (directed)
    units: pd.DataFrame         # per unit: total_linkage, rank, top_partner, affiliation, …
    edges: pd.DataFrame         # a, b, weight (the kept links)
    summary: pd.Series
    graph: nx.Graph
    core: list[str]
    core_fit: float


@dataclass(frozen=True)
class PolycentricityResult:
    sizes: pd.Series
    primacy: pd.Series
    rank_size: poly.RankSize
    morphological: pd.Series
    functional: pd.Series | None


@dataclass(frozen=True)
class SpatialResult:
    contiguity: str
    weights: Mapping[str, Any]  # summary of the weights of the main year's first indicator
    moran: pd.DataFrame         # indicator, year, n, I, expected, z_norm, p_norm, p_sim, z_sim
    lisa: pd.DataFrame          # indicator, year, unit, value, I, quadrant, p_sim, cluster
    links: pd.DataFrame         # focal, neighbour (of the main year's first indicator)


@dataclass(frozen=True)
class PeopleCircleResult:
    name_zh: str
    name_en: str
    scores: pd.DataFrame        # unit, year, U_*, C, T, D, grade, grade_zh, grade_en
    summary: pd.DataFrame       # year, n, mean_D, median_D, min_D, max_D
    grades: pd.DataFrame        # year, grade, grade_zh, grade_en, n


@dataclass(frozen=True)
class Diagnostics:
    """Everything :func:`run_diagnostics` found; sections not run are ``None``."""

    spec: DiagnoseSpec
    source: str
    datum: str
    units: pd.DataFrame          # every unit of the store (code, names, level, parent, …)
    scope: pd.DataFrame          # analysed units: code, names, group
    groups: pd.DataFrame         # group → name_zh, name_en (index: group)
    catalog: pd.DataFrame        # indicators used
    values: pd.DataFrame         # unit, year, indicator, value (the inputs of the sections)
    geo: gpd.GeoDataFrame | None
    inequality: InequalityResult | None
    convergence: ConvergenceResult | None
    structure: StructureResult | None
    network: NetworkResult | None
    polycentricity: PolycentricityResult | None
    spatial: SpatialResult | None
    people_circle: PeopleCircleResult | None
    notes: tuple[Note, ...]

    def unit_name(self, code: object, lang: str) -> str:
        code = str(code)
        if code in self.units.index:
            return str(self.units.at[code, f"name_{lang}"])
        return code

    def group_name(self, group: object, lang: str) -> str:
        if group in self.groups.index:
            return str(self.groups.at[group, f"name_{lang}"])
        return str(group)

    def indicator_name(self, indicator: str, lang: str) -> str:
        return str(self.catalog.at[indicator, f"name_{lang}"])

    def headline(self) -> dict[str, Any]:
        """The headline figures (main year, first indicator first) as plain values."""
        out: dict[str, Any] = {"main_year": self.spec.main_year}
        if self.inequality is not None:
            s = self.inequality.summary
            main = s[s["year"] == self.spec.main_year].set_index("indicator")
            out["gini"] = main["gini"].to_dict()
            out["theil_between_share"] = main["theil_between_share"].to_dict()
            out["dagum_net_between_pct"] = main["dagum_net_between_pct"].to_dict()
        if self.convergence is not None:
            b = self.convergence.beta.set_index("indicator")
            out["beta"] = b["beta"].to_dict()
            out["half_life"] = {k: (None if pd.isna(v) else float(v))
                                for k, v in b["half_life"].items()}
        if self.spatial is not None:
            m = self.spatial.moran
            main_m = m[m["year"] == self.spec.main_year].set_index("indicator")
            out["moran_i"] = main_m["I"].to_dict()
            out["moran_p_sim"] = main_m["p_sim"].to_dict()
        if self.structure is not None:
            out["homogeneous_pairs"] = len(self.structure.warnings)
        if self.network is not None:
            top = self.network.edges.sort_values("weight", ascending=False).head(1)
            out["strongest_link"] = (None if top.empty else
                                     [str(top.iloc[0]["a"]), str(top.iloc[0]["b"])])
            out["network_density"] = float(self.network.summary["density"])
        if self.polycentricity is not None:
            out["primacy"] = self.polycentricity.primacy.to_dict()
            out["zipf_q"] = self.polycentricity.rank_size.q
        if self.people_circle is not None:
            out["coupling_mean_D"] = self.people_circle.summary.set_index("year")[
                "mean_D"].to_dict()
        return out


# ----------------------------------------------------------------------------- the run


def _names(frame: pd.DataFrame, codes: Sequence[str]) -> dict[str, str]:
    """Both languages of a list of unit names (the first few, with their codes)."""
    out = {}
    for lang in LANGS:
        shown = [f"{frame.at[c, f'name_{lang}']!s} ({c})" if c in frame.index else str(c)
                 for c in list(codes)[:_SHOW]]
        out[lang] = ", ".join(shown) + (" …" if len(codes) > _SHOW else "")
    return out


def _ancestor(units: pd.DataFrame, code: str, level: str) -> str | None:
    """The code of ``code``'s unit or its first ancestor at ``level``."""
    seen: set[str] = set()
    cur: str | None = code
    while cur is not None and cur in units.index and cur not in seen:
        if units.at[cur, "level"] == level:
            return cur
        seen.add(cur)
        parent = units.at[cur, "parent"]
        cur = str(parent) if isinstance(parent, str) and parent else None
    return None


class _Run:
    """State shared by the sections of one run."""

    def __init__(self, store: Store, spec: DiagnoseSpec,
                 on_step: Callable[[str], None] | None):
        self.store = store
        self.spec = spec
        self.on_step = on_step or (lambda _section: None)
        self.notes: list[Note] = []
        self._seen: set[str] = set()
        self._drops: dict[tuple[int, tuple[str, ...]], list[dict[str, str]]] = {}
        self._unbalanced: dict[tuple[str, ...], list[dict[str, str]]] = {}
        units = store.units()
        units["code"] = units["code"].astype(str)
        self.units = units.set_index("code", drop=False)
        self.catalog = store.catalog()
        if self.units.empty:
            raise DiagnoseError(t("diagnose.err.no_units_store"))

    # ------------------------------------------------------------------ helpers
    def note(self, section: str, key: str, **params: Any) -> None:
        ident = json.dumps([section, key, params], sort_keys=True, ensure_ascii=False,
                           default=str)
        if ident not in self._seen:
            self._seen.add(ident)
            self.notes.append(Note(section, key, params))

    def indicator(self, ind: str, where: str) -> dict[str, str]:
        if ind not in self.catalog.index:
            raise DiagnoseError(t("diagnose.err.unknown_indicator", indicator=ind,
                                  where=where))
        return {lg: str(self.catalog.at[ind, f"name_{lg}"]) for lg in LANGS}

    @contextmanager
    def guard(self, section: str, indicator: str | None = None,
              year: int | None = None) -> Iterator[None]:
        """Re-raise a metric's error with the section, indicator and year it arose in."""
        try:
            yield
        except DiagnoseError:
            raise
        except CocityError as exc:
            where = t(f"diagnose.section.{section}")
            if indicator is not None:
                name = str(self.catalog.at[indicator, f"name_{current_lang()}"]) \
                    if indicator in self.catalog.index else indicator
                where += f" · {name}"
            if year is not None:
                where += f" · {year}"
            raise DiagnoseError(t("diagnose.err.in_section", where=where,
                                  detail=str(exc))) from exc

    def scope_units(self, level: str) -> pd.DataFrame:
        sel = self.units[self.units["level"] == level]
        if self.spec.membership is not None:
            sel = sel[sel["membership"].isin(self.spec.membership)]
        if sel.empty:
            members = ", ".join(self.spec.membership or ()) or "—"
            raise DiagnoseError(t("diagnose.err.no_units", level=t(f"level.{level}"),
                                  membership=members))
        return sel

    def series(self, section: str, ind: str, year: int, units: pd.DataFrame) -> pd.Series:
        """Values of ``ind`` in ``year`` for ``units``; units without one are noted, not
        returned."""
        names = self.indicator(ind, section)
        level = str(units["level"].iloc[0])
        obs = self.store.observations([ind], [year], level)
        s = (obs.assign(unit=obs["unit"].astype(str)).set_index("unit")["value"]
             .astype(float).reindex(units.index))
        missing = list(s.index[s.isna()])
        if len(missing) == len(s):
            raise DiagnoseError(t("diagnose.err.no_data", indicator=ind, year=year,
                                  level=t(f"level.{level}")))
        if missing:
            self.dropped(names, year, missing)
        return s.dropna()

    def dropped(self, names: Mapping[str, str], year: int, codes: Sequence[str]) -> None:
        """Record units left out for lack of data; one note per (year, units) lists every
        indicator they lack (see :meth:`data_notes`)."""
        entry = self._drops.setdefault((year, tuple(codes)), [])
        if dict(names) not in entry:
            entry.append(dict(names))

    def data_notes(self) -> list[Note]:
        sep = {"zh": "、", "en": ", "}
        return [Note("data", "diagnose.note.dropped", {
            "indicators": {lg: sep[lg].join(n[lg] for n in names) for lg in LANGS},
            "year": year, "n": len(codes), "units": _names(self.units, codes)})
            for (year, codes), names in self._drops.items()]

    # ------------------------------------------------------------------ scope and groups
    def groups(self, scope: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
        by = self.spec.group_by
        if by == "metro":
            labels = scope["metro"].where(scope["metro"].notna(), NO_METRO).astype(str)
            keys = sorted(set(labels), key=lambda k: (k == NO_METRO, k))
            names = pd.DataFrame(
                {f"name_{lg}": [t(f"metro.{k}", lg) if f"metro.{k}" in all_labels()
                                else k for k in keys] for lg in LANGS}, index=keys)
        else:
            labels = pd.Series({c: _ancestor(self.units, c, by) for c in scope.index},
                               dtype=object)
            lost = list(labels.index[labels.isna()])
            if lost:
                self.note("inequality", "diagnose.note.no_group", n=len(lost),
                          units=_names(self.units, lost),
                          level={lg: t(f"level.{by}", lg) for lg in LANGS})
            labels = labels.dropna().astype(str)
            keys = sorted(set(labels))
            names = self.units.loc[keys, ["name_zh", "name_en"]]
        names.index.name = "group"
        return labels, names

    # ------------------------------------------------------------------ inequality
    def inequality(self, scope: pd.DataFrame, groups: pd.Series) -> InequalityResult:
        cfg = self.spec.inequality
        rows, t_groups, d_groups, d_pairs, lorenz = [], [], [], [], []
        for ind in self.spec.indicators:
            names = self.indicator(ind, "inequality")
            for year in self.spec.years:
                y = self.series("inequality", ind, year, scope)
                p = self.series("inequality", self.spec.population, year, scope)
                units = y.index.intersection(p.index).intersection(groups.index)
                y, p, g = y[units], p[units], groups[units]
                sizes = g.value_counts()
                single = sorted(sizes.index[sizes == 1])
                if single and cfg["min_group_size"] == 1:
                    self.note("inequality", "diagnose.note.single_group",
                              groups={lg: ", ".join(str(_group_label(self, s, lg))
                                                    for s in single) for lg in LANGS})
                if len(y) and float(np.ptp(y.to_numpy())) == 0.0:
                    self.note("inequality", "diagnose.note.all_equal", indicator=names,
                              year=year)
                with self.guard("inequality", ind, year):
                    gini_w = ineq.gini(y, p)
                    gini_u = ineq.gini(y)
                    th = ineq.theil_decomposition(
                        y, g, p, index=cfg["theil"], permutations=cfg["permutations"],
                        seed=cfg["seed"])
                    dg = ineq.dagum_decomposition(
                        y, g, p, min_group_size=cfg["min_group_size"],
                        permutations=cfg["permutations"], seed=cfg["seed"])
                    wcv = ineq.williamson_cv(y, p)
                rows.append({
                    "indicator": ind, "year": year, "n": len(y), "n_groups": int(g.nunique()),
                    "mean": float(np.dot(p, y) / p.sum()), "gini": gini_w,
                    "gini_unweighted": gini_u, "theil": th.total,
                    "theil_between": th.between, "theil_within": th.within,
                    "theil_between_share": th.between_share,
                    "theil_p_value": _none_nan(th.p_value),
                    "dagum_gini": dg.gini, "dagum_within": dg.within,
                    "dagum_net_between": dg.net_between,
                    "dagum_transvariation": dg.transvariation,
                    "dagum_within_pct": float(dg.contributions["within"]),
                    "dagum_net_between_pct": float(dg.contributions["net_between"]),
                    "dagum_transvariation_pct": float(dg.contributions["transvariation"]),
                    "dagum_p_value": _none_nan(dg.p_value),
                    "williamson_cv": wcv,
                })
                key: dict[str, Any] = {"indicator": ind, "year": year}
                t_groups.append(th.groups.reset_index().assign(**key))
                d_groups.append(dg.groups.reset_index().assign(**key))
                d_pairs.append(dg.pairs.assign(**key))
                lorenz.append(_lorenz(y.to_numpy(float), p.to_numpy(float)).assign(**key))
        first = ["indicator", "year"]
        return InequalityResult(
            pd.DataFrame(rows),
            _front(pd.concat(t_groups, ignore_index=True), first),
            _front(pd.concat(d_groups, ignore_index=True), first),
            _front(pd.concat(d_pairs, ignore_index=True), first),
            _front(pd.concat(lorenz, ignore_index=True), first))

    # ------------------------------------------------------------------ convergence
    def convergence(self, scope: pd.DataFrame) -> ConvergenceResult:
        cfg = self.spec.convergence
        years = tuple(int(y) for y in cfg["years"])
        measure = str(cfg["sigma"])
        sig_rows, trend_rows, beta_rows, pts = [], [], [], []
        if len(years) == 2:
            self.note("convergence", "diagnose.note.two_years", start=years[0], end=years[1])
        for ind in self.spec.indicators:
            names = self.indicator(ind, "convergence")
            cols = {y: self.series("convergence", ind, y, scope) for y in years}
            pops = {y: self.series("convergence", self.spec.population, y, scope)
                    for y in years}
            panel = pd.DataFrame(cols)
            pop = pd.DataFrame(pops).reindex(panel.index)
            incomplete = list(panel.index[panel.isna().any(axis=1) | pop.isna().any(axis=1)])
            if incomplete:
                entry = self._unbalanced.setdefault(tuple(incomplete), [])
                entry.append(dict(names))
            keep = panel.index.difference(pd.Index(incomplete))
            panel, pop = panel.loc[keep], pop.loc[keep]
            with self.guard("convergence", ind):
                for y in years:
                    col, w = panel[y].to_numpy(float), pop[y].to_numpy(float)
                    if measure == "cv":
                        value = ineq.williamson_cv(col, w)
                    elif measure == "gini":
                        value = ineq.gini(col, w)
                    else:
                        value = ineq.theil(col, w, index="T")
                    sig_rows.append({"indicator": ind, "year": y, "n": len(col),
                                     "measure": measure, "sigma": value})
                if len(years) >= 3:
                    sc = conv.sigma_convergence(panel, measure=measure,  # type: ignore[arg-type]
                                                p=pop)
                    trend_rows.append({"indicator": ind, "slope": sc.slope, "se": sc.stderr,
                                       "t_stat": sc.t_stat, "p_value": sc.p_value,
                                       "r2": sc.r2, "converging": sc.converging})
                b = conv.beta_convergence(panel, start=years[0], end=years[-1])
            if b.half_life is None:
                self.note("convergence", "diagnose.note.no_half_life", indicator=names,
                          beta=f"{b.beta:.4g}")
            beta_rows.append({
                "indicator": ind, "n": b.nobs, "start": years[0], "end": years[-1],
                "beta": b.beta, "se": b.se, "t_stat": b.t_stat, "p_value": b.p_value,
                "alpha": b.alpha, "r2": b.r2, "horizon": b.horizon,
                "speed": _none_nan(b.speed), "half_life": _none_nan(b.half_life),
                "converging": b.converging})
            y0, y1 = panel[years[0]].to_numpy(float), panel[years[-1]].to_numpy(float)
            pts.append(pd.DataFrame({
                "indicator": ind, "unit": panel.index.astype(str), "y0": y0, "y1": y1,
                "ln_y0": np.log(y0), "growth": (np.log(y1) - np.log(y0)) / b.horizon}))
        sep = {"zh": "、", "en": ", "}
        for codes, names_list in self._unbalanced.items():
            self.note("convergence", "diagnose.note.unbalanced",
                      indicators={lg: sep[lg].join(n[lg] for n in names_list) for lg in LANGS},
                      n=len(codes), units=_names(self.units, list(codes)))
        return ConvergenceResult(
            years, measure, pd.DataFrame(sig_rows),
            pd.DataFrame(trend_rows, columns=["indicator", "slope", "se", "t_stat", "p_value",
                                              "r2", "converging"]),
            pd.DataFrame(beta_rows), pd.concat(pts, ignore_index=True))

    # ------------------------------------------------------------------ structure
    def structure(self) -> StructureResult:
        cfg = self.spec.structure
        level = str(cfg["level"])
        year = int(cfg["year"] if cfg["year"] is not None else self.spec.main_year)
        units = self.scope_units(level)
        prefix = str(cfg["sector_prefix"])
        sectors = [c for c in self.catalog.index if str(c).startswith(prefix)]
        if not sectors:
            raise DiagnoseError(t("diagnose.err.no_sectors", prefix=prefix))
        obs = self.store.observations(sectors, [year], level)
        shares = (obs.assign(unit=obs["unit"].astype(str))
                  .pivot(index="unit", columns="indicator", values="value")
                  .reindex(index=units.index, columns=sectors).astype(float))
        empty = list(shares.index[shares.isna().all(axis=1)])
        if len(empty) == len(shares):
            raise DiagnoseError(t("diagnose.err.no_data", indicator=prefix + "*", year=year,
                                  level=t(f"level.{level}")))
        if empty:
            self.note("structure", "diagnose.note.dropped",
                      indicator={lg: prefix + "*" for lg in LANGS}, year=year, n=len(empty),
                      units=_names(self.units, empty))
            shares = shares.drop(index=empty)
        gaps = [c for c in shares.columns if shares[c].isna().any()]
        if gaps:
            if cfg["missing_sectors"] == "raise":
                raise DiagnoseError(t("diagnose.err.sector_gaps", sectors=", ".join(gaps),
                                      year=year))
            for c in gaps:
                self.note("structure", "diagnose.note.sector_dropped",
                          indicator=self.indicator(c, "structure"), year=year,
                          n=int(shares[c].isna().sum()), of=len(shares))
            shares = shares.drop(columns=gaps)
        totals = self.series("structure", str(cfg["totals"]), year, units.loc[shares.index])
        shares = shares.loc[totals.index]
        self.note("structure", "diagnose.note.counts_proxy",
                  totals=self.indicator(str(cfg["totals"]), "structure"), year=year)
        rules = cfg["roles"]
        with self.guard("structure"):
            counts = structure.counts_from_shares(shares, totals)
            lq = structure.location_quotients(counts, empty_sectors="drop")
            krugman = structure.krugman_vs_rest(counts)
            pairwise = structure.krugman_pairwise(counts)
            sim = structure.structural_similarity(counts)
            warn = structure.homogeneous_competition(sim, float(cfg["similarity_threshold"]))
            by_lang = {lg: structure.classify_roles(counts, population=totals, rules=rules,
                                                    lang=lg) for lg in LANGS}
        roles = by_lang["zh"].copy()
        for col in ("tier_label", "tier_reason", "pole_labels", "pole_reasons", "role_label"):
            roles = roles.rename(columns={col: f"{col}_zh"})
            roles[f"{col}_en"] = by_lang["en"][col]
        roles.insert(0, "plan_tier", self.units.loc[roles.index, "tier"].fillna("").astype(str))
        roles.index.name = "unit"
        return StructureResult(year, level, tuple(shares.columns), shares, lq, krugman,
                               pairwise, sim, float(cfg["similarity_threshold"]), warn, roles)

    # ------------------------------------------------------------------ network
    def network(self) -> NetworkResult:
        cfg = self.spec.network
        level = str(cfg["level"])
        units = self.scope_units(level)
        P = self.series("network", cfg["population"]["indicator"], cfg["population"]["year"],
                        units)
        G = self.series("network", cfg["gdp"]["indicator"], cfg["gdp"]["year"], units)
        pts = units[["lon", "lat"]].astype(float)
        nowhere = list(pts.index[pts.isna().any(axis=1)])
        if nowhere:
            self.note("network", "diagnose.note.no_point", n=len(nowhere),
                      units=_names(self.units, nowhere))
        keep = P.index.intersection(G.index).intersection(pts.dropna().index)
        P, G, pts = P[keep], G[keep], pts.loc[keep]
        with self.guard("network"):
            D = net.great_circle_km(pts)
            R = net.gravity_linkage(P, G, D, b=float(cfg["decay"]))
            total = net.total_linkage(R)
            F = net.economic_affiliation(R)
            graph = net.linkage_network(R, top_k=cfg["top_k"])
            summary = net.network_summary(graph)
            cent = net.centralities(graph)
            cp = net.core_periphery(graph)
        Fv = F.to_numpy().copy()
        partner = F.columns[np.argmax(Fv, axis=1)]
        table = pd.DataFrame({
            "population": P, "gdp": G, "total_linkage": total,
            "linkage_rank": total.rank(ascending=False, method="min").astype(int),
            "top_partner": np.asarray(partner, dtype=object),
            "top_affiliation": Fv.max(axis=1),
        }, index=keep).join(cent)
        table["coreness"] = cp.coreness.reindex(table.index)
        table["core"] = table.index.isin(cp.core)
        table.index.name = "unit"
        edges = pd.DataFrame([{"a": a, "b": b, "weight": float(w)}
                              for a, b, w in graph.edges(data="weight")],
                             columns=["a", "b", "weight"])
        edges = edges.sort_values("weight", ascending=False, kind="stable").reset_index(
            drop=True)
        return NetworkResult(level, P, G, D, R, table, edges, summary, graph,
                             [str(c) for c in cp.core], float(cp.fit))

    # ------------------------------------------------------------------ polycentricity
    def polycentricity(self, graph: nx.Graph | None) -> PolycentricityResult:
        cfg = self.spec.polycentricity
        units = self.scope_units(str(cfg["level"]))
        sizes = self.series("polycentricity", cfg["size"]["indicator"], cfg["size"]["year"],
                            units)
        n = len(sizes)
        which = [w for w in cfg["primacy"] if n >= {"s2": 2, "s4": 4, "s11": 11}[w]]
        for w in cfg["primacy"]:
            if w not in which:
                self.note("polycentricity", "diagnose.note.primacy_skipped", index=w.upper(),
                          n=n)
        tops = [int(k) for k in cfg["tops"] if int(k) <= n]
        for k in cfg["tops"]:
            if int(k) > n:
                self.note("polycentricity", "diagnose.note.top_skipped", k=k, n=n)
        with self.guard("polycentricity"):
            primacy = (poly.primacy_indices(sizes, which) if which
                       else pd.Series(dtype=float))
            rs = poly.rank_size(sizes)
            morph = (poly.morphological_polycentricity(sizes, tops) if tops
                     else pd.Series(dtype=float))
            func = poly.functional_polycentricity(graph) if graph is not None else None
        if graph is None:
            self.note("polycentricity", "diagnose.note.no_functional")
        return PolycentricityResult(sizes.sort_values(ascending=False), primacy, rs, morph,
                                    func)

    # ------------------------------------------------------------------ spatial
    def spatial(self, scope: pd.DataFrame, geo: gpd.GeoDataFrame) -> SpatialResult:
        cfg = self.spec.spatial
        with_geom = geo.set_index("code")
        shapeless = [c for c in scope.index if c not in with_geom.index]
        if shapeless:
            self.note("spatial", "diagnose.note.no_geometry", n=len(shapeless),
                      units=_names(self.units, shapeless))
        cache: dict[tuple[str, ...], weights.SpatialWeights] = {}
        moran_rows, lisa = [], []
        first: weights.SpatialWeights | None = None
        for year in self.spec.years:
            for ind in self.spec.indicators:
                y = self.series("spatial", ind, year, scope)
                ids = tuple(c for c in y.index if c in with_geom.index)
                with self.guard("spatial", ind, year):
                    if ids not in cache:
                        cache[ids] = weights.contiguity(
                            geo[geo["code"].isin(ids)].set_index("code").loc[list(ids)]
                            .reset_index(), str(cfg["contiguity"]),  # type: ignore[arg-type]
                            snap=float(cfg["snap"]), islands=cfg["islands"])
                    w = cache[ids]
                    if w.joined_islands:
                        self.note("spatial", "diagnose.note.islands_joined",
                                  n=len(w.joined_islands),
                                  units=_names(self.units, list(w.joined_islands)))
                    if w.n_components > 1:
                        self.note("spatial", "diagnose.note.components", n=w.n_components)
                    yw = y[list(w.ids)]
                    m = spatial.moran(yw, w, permutations=cfg["permutations"],
                                      seed=cfg["seed"])
                    lm = spatial.local_moran(yw, w, permutations=cfg["permutations"],
                                             seed=cfg["seed"], alpha=cfg["alpha"])
                if first is None:
                    first = w
                moran_rows.append({
                    "indicator": ind, "year": year, "n": m.n, "I": m.value,
                    "expected": m.expected, "z_norm": _none_nan(m.z_norm),
                    "p_norm": _none_nan(m.p_norm), "p_sim": _none_nan(m.p_sim),
                    "z_sim": _none_nan(m.z_sim), "permutations": m.permutations})
                cols = ["value", "I", "quadrant", "p_sim" if m.permutations else "p_rand",
                        "cluster"]
                lisa.append(lm.table[cols].rename(columns={"p_rand": "p_sim"})
                            .reset_index().assign(indicator=ind, year=year))
        assert first is not None
        links = first.to_frame()[["focal", "neighbour"]]
        return SpatialResult(str(cfg["contiguity"]), first.summary(),
                             pd.DataFrame(moran_rows),
                             _front(pd.concat(lisa, ignore_index=True), ["indicator", "year"]),
                             links)

    # ------------------------------------------------------------------ people–circle
    def people_circle(self) -> PeopleCircleResult:
        spec = dict(self.spec.people_circle)
        with self.guard("people_circle"):
            panel = pc.people_circle_panel(self.store, spec)
            scores = pc.people_circle(panel, spec)
        lost = panel.index.difference(scores.index)
        if len(lost):
            for year in sorted({int(y) for _, y in lost}):
                codes = [str(u) for u, y in lost if int(y) == year]
                self.note("people_circle", "diagnose.note.pc_dropped", year=year,
                          n=len(codes), units=_names(self.units, codes))
        imputed = scores.filter(like="imputed_").sum(axis=1)
        if int(imputed.sum()):
            self.note("people_circle", "diagnose.note.pc_imputed", cells=int(imputed.sum()),
                      rows=int((imputed > 0).sum()))
        scores = scores.reset_index()
        scores["unit"] = scores["unit"].astype(str)
        scores["year"] = scores["year"].astype(int)
        summary = scores.groupby("year")["D"].agg(
            n="count", mean_D="mean", median_D="median", min_D="min", max_D="max").reset_index()
        grades = (scores.groupby(["year", "grade", "grade_zh", "grade_en"]).size()
                  .rename("n").reset_index())
        return PeopleCircleResult(str(spec.get("name_zh", "")), str(spec.get("name_en", "")),
                                  scores, summary, grades)


def _group_label(run: _Run, group: str, lang: str) -> str:
    if run.spec.group_by == "metro":
        key = f"metro.{group}"
        return t(key, lang) if key in all_labels() else group
    return str(run.units.at[group, f"name_{lang}"]) if group in run.units.index else group


def _none_nan(value: float | None) -> float:
    """An optional statistic as a float column entry (``None`` becomes ``NaN``; every such
    case is explained by a note or by the column's documented meaning)."""
    return float("nan") if value is None else float(value)


def _front(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return frame[cols + [c for c in frame.columns if c not in cols]]


def _lorenz(y: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    """Population-weighted Lorenz curve: cumulative population share against cumulative
    share of ``Σ p y``, units sorted by ``y``; starts at (0, 0), ends at (1, 1)."""
    order = np.argsort(y, kind="stable")
    py = (p * y)[order]
    return pd.DataFrame({
        "pop_share": np.concatenate([[0.0], np.cumsum(p[order]) / p.sum()]),
        "value_share": np.concatenate([[0.0], np.cumsum(py) / py.sum()]),
    })


def _boundaries(store: Store, run: _Run, spec: DiagnoseSpec) -> gpd.GeoDataFrame | None:
    """Boundaries of the analysed units, and of the prefectures around counties (outlines,
    network map); ``None`` when the store has none."""
    levels = [spec.level] + (["prefecture"] if spec.level == "county" else [])
    if "network" in spec.sections and spec.network["level"] not in levels:
        levels.append(str(spec.network["level"]))
    frames = []
    for lv in levels:
        g = store.geodata(lv)
        g["code"] = g["code"].astype(str)
        keep = g["code"][g["code"].isin(run.scope_units(lv).index)] \
            if lv == spec.level else g["code"]
        frames.append(g[g["code"].isin(keep) & g.geometry.notna()])
    geo = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                           crs="EPSG:4326")
    return None if geo.empty else geo


def run_diagnostics(store: Store, spec: DiagnoseSpec | None = None, *,
                    on_step: Callable[[str], None] | None = None) -> Diagnostics:
    """Run the sections of ``spec`` (default: :func:`load_spec`) on ``store``.

    ``on_step(section)`` is called before each section starts (for progress displays).
    Raises :class:`DiagnoseError` (the metric's message, where it arose) on bad input.
    """
    spec = spec or load_spec()
    run = _Run(store, spec, on_step)
    for ind in (*spec.indicators, spec.population):
        run.indicator(ind, "indicators")
    scope = run.scope_units(spec.level)
    groups, group_names = run.groups(scope)
    scope_table = scope[["code", "name_zh", "name_en", "parent", "metro", "tier",
                         "membership"]].copy()
    scope_table["group"] = groups.reindex(scope_table.index)

    geo = _boundaries(store, run, spec)

    results: dict[str, Any] = {}
    for section in spec.sections:
        run.on_step(section)
        if section == "inequality":
            results[section] = run.inequality(scope, groups)
        elif section == "convergence":
            results[section] = run.convergence(scope)
        elif section == "structure":
            results[section] = run.structure()
        elif section == "network":
            results[section] = run.network()
        elif section == "polycentricity":
            nw = results.get("network")
            results[section] = run.polycentricity(nw.graph if nw is not None else None)
        elif section == "spatial":
            if geo is None or not (geo["level"] == spec.level).any():
                raise DiagnoseError(t("diagnose.err.no_boundaries",
                                      level=t(f"level.{spec.level}")))
            results[section] = run.spatial(scope, geo[geo["level"] == spec.level])
        else:
            results[section] = run.people_circle()

    used = sorted({*spec.indicators, spec.population})
    values = store.observations(used, sorted({*spec.years, *spec.convergence["years"]}),
                                spec.level)
    values = values[values["unit"].astype(str).isin(scope.index)][
        ["unit", "year", "indicator", "value"]].reset_index(drop=True)
    shown = {*used, spec.network["gdp"]["indicator"], spec.network["population"]["indicator"],
             spec.polycentricity["size"]["indicator"]}
    if results.get("structure") is not None:
        shown |= set(results["structure"].sectors)
    catalog = run.catalog.loc[[c for c in run.catalog.index if c in shown]]
    group_table = group_names.assign(n=groups.value_counts().reindex(group_names.index)
                                     .fillna(0).astype(int))
    meta = store.meta()
    return Diagnostics(
        spec=spec, source=meta.get("dataset") or str(store.path or ""),
        datum=meta.get("datum", "WGS-84"), units=run.units, scope=scope_table,
        groups=group_table, catalog=catalog, values=values, geo=geo,
        inequality=results.get("inequality"), convergence=results.get("convergence"),
        structure=results.get("structure"), network=results.get("network"),
        polycentricity=results.get("polycentricity"), spatial=results.get("spatial"),
        people_circle=results.get("people_circle"), notes=(*run.data_notes(), *run.notes))


# ----------------------------------------------------------------------------- tables


def result_tables(diag: Diagnostics) -> dict[str, pd.DataFrame]:
    """Every result as a named table (for CSV and XLSX): units carry both names."""
    names = diag.units[["name_zh", "name_en"]]

    def named(frame: pd.DataFrame, col: str = "unit") -> pd.DataFrame:
        out = frame.copy()
        codes = out[col].astype(str)
        pos = list(out.columns).index(col) + 1
        out.insert(pos, f"{col}_name_zh", codes.map(names["name_zh"]).to_numpy())
        out.insert(pos + 1, f"{col}_name_en", codes.map(names["name_en"]).to_numpy())
        return out

    def matrix(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        out.index = pd.Index([str(c) for c in out.index], name="unit")
        return named(out.reset_index())

    def group_names(frame: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
        out = frame.copy()
        for col in cols:
            pos = list(out.columns).index(col) + 1
            for i, lg in enumerate(LANGS):
                out.insert(pos + i, f"{col}_name_{lg}",
                           [diag.group_name(g, lg) for g in out[col]])
        return out

    tables: dict[str, pd.DataFrame] = {
        "scope": named(diag.scope.reset_index(drop=True).rename(columns={"code": "unit"})
                       .drop(columns=["name_zh", "name_en"])),
        "groups": diag.groups.reset_index(),
        "values": named(diag.values),
    }
    if (q := diag.inequality) is not None:
        tables["inequality"] = q.summary
        tables["theil_groups"] = group_names(q.theil_groups, ["group"])
        tables["dagum_groups"] = group_names(q.dagum_groups, ["group"])
        tables["dagum_pairs"] = group_names(q.dagum_pairs, ["group_j", "group_h"])
    if (c := diag.convergence) is not None:
        tables["sigma"] = c.sigma
        if not c.sigma_trend.empty:
            tables["sigma_trend"] = c.sigma_trend
        tables["beta"] = c.beta
        tables["beta_points"] = named(c.points)
    if (s := diag.structure) is not None:
        tables["shares"] = matrix(s.shares)
        tables["location_quotients"] = matrix(s.lq)
        tables["krugman"] = named(s.krugman.rename("krugman_vs_rest").rename_axis("unit")
                                  .reset_index())
        tables["krugman_pairwise"] = matrix(s.krugman_pairwise)
        tables["similarity"] = matrix(s.similarity)
        tables["homogeneous_competition"] = named(named(s.warnings, "unit_a"), "unit_b")
        tables["roles"] = named(s.roles.reset_index())
    if (n := diag.network) is not None:
        tables["linkage_units"] = named(named(n.units.reset_index()), "top_partner")
        tables["linkage_matrix"] = matrix(n.linkage)
        tables["distance_km"] = matrix(n.distance)
        tables["linkage_edges"] = named(named(n.edges, "a"), "b")
        tables["network_summary"] = n.summary.rename("value").rename_axis("measure") \
            .reset_index()
    if (p := diag.polycentricity) is not None:
        rs = p.rank_size
        rows = [("primacy_" + str(k), float(v)) for k, v in p.primacy.items()]
        rows += [("zipf_q", rs.q), ("zipf_se", rs.se), ("zipf_se_gi", rs.se_gi),
                 ("zipf_intercept", rs.intercept), ("zipf_r2", rs.r2), ("zipf_n", rs.n)]
        rows += [(str(k), float(v)) for k, v in p.morphological.items()]
        if p.functional is not None:
            rows += [("functional_" + str(k), float(v)) for k, v in p.functional.items()]
        tables["polycentricity"] = pd.DataFrame(rows, columns=["measure", "value"])
        tables["sizes"] = named(p.sizes.rename("size").rename_axis("unit").reset_index())
    if (sp := diag.spatial) is not None:
        tables["moran"] = sp.moran
        tables["lisa"] = named(sp.lisa)
    if (pcr := diag.people_circle) is not None:
        tables["coupling"] = named(pcr.scores)
        tables["coupling_summary"] = pcr.summary
        tables["coupling_grades"] = pcr.grades
    tables["notes"] = pd.DataFrame(
        [{"section": n.section, "note_zh": n.text("zh"), "note_en": n.text("en")}
         for n in diag.notes], columns=["section", "note_zh", "note_en"])
    return tables
