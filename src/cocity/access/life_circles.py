"""15-minute life circles (15分钟生活圈) per GB 50180-2018 on a street network.

Purpose
-------
For every home (a point with a population and a unit code) and every life-circle level of the
standard (5-, 10- and 15-minute circles with their walking distances and facility checklists,
kept as editable data in ``life_circles_gb50180.yaml``): the walking distance on the network to
the nearest facility of each type, whether the home is covered at each level, the
population-weighted coverage per unit and per facility type, and the gaps — which homes lack
which facility.

Formula
-------
- **Distance** (metres) from home *h* to the nearest facility of type *k*:
  ``d(h, k) = s_h + min over facilities f of type k of (network(h → f) + s_f)`` where
  ``network`` sums the arcs' lengths (``Network.length``, metres) along the shortest path and
  ``s`` is a point's straight-line distance to the node it is snapped to (``include_snap=True``,
  the default; ``False`` measures node to node). Distances beyond the type's search bound are
  ``inf``.
- **Required types of a level** ``L``: the facility types of ``L`` and of every finer level
  (the 15-minute circle contains the 10- and 5-minute ones).
- **Covered** at ``L``: ``d(h, k) ≤ walk_m(L)`` for every required type ``k`` of ``L``.
- **Lacking** a type: ``d(h, k) > walk_m`` of the level that lists ``k`` (a kindergarten is
  lacking when it is farther than 300 m, a middle school when farther than 1,000 m).
- **Population-weighted share**: ``Σ_h p_h · covered_h / Σ_h p_h`` over the snapped homes of a
  unit (per level) or of all units (per level and type).

Algorithm
---------
One multi-source bounded Dijkstra per facility type (:meth:`~cocity.access.kernel.Router.
nearest_groups`; each type an independent job of :func:`cocity.access.blocks.nearest_times`,
on the executor asked for) on the network with arc lengths as weights, searching
from the facilities towards the homes on the reversed graph (so one-way arcs, if any, count
from home to facility), each facility starting at its snap distance. A type's search stops at
the largest walking distance of the levels that require it. Cost ``O(T · k log k)`` for ``T``
types and the ``k`` nodes within the bound — independent of the number of homes.

Results and documented cases
----------------------------
- Homes or facilities farther than ``max_snap`` metres from every node are **not snapped**:
  they are listed in ``far_homes`` / ``far_facilities`` and in the notes. Far homes keep their
  row with ``snapped = False``, ``inf`` distances and no coverage, and are left out of the
  shares (both numerator and denominator); far facilities are left out of the search.
- A facility type of the spec absent from the data: every home lacks it (distance ``inf``, no
  home covered at its level or coarser) and a note says so. Facility types in the data that
  the spec does not list are ignored, with a note.
- A level distance of 0 or less, a negative or missing population, or a missing ``type``
  column raise :class:`~cocity.access.errors.AccessInputError`.

Source
------
GB 50180-2018 《城市居住区规划设计标准》, §1.0.3 and 表 4.0.1 (levels and walking distances),
附录 B (facility checklists). The 15-minute level uses ``walk_m`` (1,000 m); the standard gives
800–1,000 m (``walk_m_min``) — edit the spec to use 800 m.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pydantic

from cocity.access.blocks import nearest_times
from cocity.access.errors import AccessInputError
from cocity.access.kernel import CSRGraph, Router
from cocity.access.network import Network
from cocity.i18n import t
from cocity.spec import Spec, validate_spec
from cocity.spec import load_spec as _load_spec

if TYPE_CHECKING:
    import geopandas as gpd

SPEC_FILE = "life_circles_gb50180.yaml"


# ----------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class Level:
    """One life-circle level: code, minutes, names, walking distance and its facility types."""

    code: str
    minutes: float
    name_zh: str
    name_en: str
    walk_m: float
    facilities: dict[str, dict[str, str]]
    walk_m_min: float | None = None

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True)
class LifeCircleSpec:
    """The levels, finest first; ``source`` names the file read."""

    standard: str
    levels: list[Level]
    source: str = SPEC_FILE

    @property
    def types(self) -> list[str]:
        """Every facility type, in level order."""
        return [k for lv in self.levels for k in lv.facilities]

    def level_of(self, facility_type: str) -> Level:
        """The level that lists ``facility_type``."""
        for lv in self.levels:
            if facility_type in lv.facilities:
                return lv
        raise AccessInputError(t("access.lc.err.unknown_type", type=facility_type))

    def required(self, level: str) -> list[str]:
        """Facility types required at ``level``: its own and those of every finer level."""
        out: list[str] = []
        for lv in self.levels:
            out += list(lv.facilities)
            if lv.code == level:
                return out
        raise AccessInputError(t("access.lc.err.unknown_level", level=level))

    def bound(self, facility_type: str) -> float:
        """The search bound of a type: the largest walking distance of a level requiring it."""
        return max(lv.walk_m for lv in self.levels if facility_type in self.required(lv.code))

    def type_name(self, facility_type: str, lang: str) -> str:
        entry = self.level_of(facility_type).facilities[facility_type]
        return str(entry.get(f"name_{lang}", facility_type))


class FacilityDoc(Spec):
    name_zh: str | None = None
    name_en: str | None = None


class LevelDoc(Spec):
    """One level of the spec file."""

    code: str
    minutes: float = pydantic.Field(default=0.0, ge=0)
    name_zh: str | None = None
    name_en: str | None = None
    walk_m: float = pydantic.Field(gt=0)
    walk_m_min: float | None = pydantic.Field(default=None, gt=0)
    facilities: dict[str, FacilityDoc | None] = pydantic.Field(min_length=1)


class LifeCircleDoc(Spec):
    """The life-circle spec file (``life_circles_gb50180.yaml``): levels from the finest
    (shortest walk) to the coarsest, each with its facility checklist."""

    standard: str = ""
    levels: list[LevelDoc] = pydantic.Field(min_length=1)

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> LifeCircleDoc:
        problems = []
        codes = [lv.code for lv in self.levels]
        if len(set(codes)) != len(codes):
            problems.append(t("access.lc.err.spec_codes"))
        seen: set[str] = set()
        for i, lv in enumerate(self.levels):
            if i and lv.walk_m < self.levels[i - 1].walk_m:
                problems.append(t("access.lc.err.spec_order", level=lv.code))
            twice = sorted(seen & set(lv.facilities))
            problems += [t("access.lc.err.spec_duplicate", type=k) for k in twice]
            seen |= set(lv.facilities)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def parse_spec(data: Any, source: str = "<dict>") -> LifeCircleSpec:
    """A :class:`LifeCircleSpec` from the YAML's mapping, validated (every problem at once as
    a :class:`~cocity.spec.SpecError` naming ``source`` and the key path)."""
    doc = validate_spec(LifeCircleDoc, data, origin=source)
    return _spec_of(doc, source)


def _spec_of(doc: LifeCircleDoc, source: str) -> LifeCircleSpec:
    levels = [Level(lv.code, lv.minutes, lv.name_zh or lv.code, lv.name_en or lv.code,
                    lv.walk_m, {k: {"name_zh": (f.name_zh if f and f.name_zh else k),
                                    "name_en": (f.name_en if f and f.name_en else k)}
                                for k, f in lv.facilities.items()}, lv.walk_m_min)
              for lv in doc.levels]
    return LifeCircleSpec(doc.standard, levels, source)


def default_spec() -> LifeCircleSpec:
    """The shipped GB 50180-2018 spec."""
    return load_spec()


def load_spec(source: str | Path | Mapping[str, Any] | LifeCircleSpec | None = None
              ) -> LifeCircleSpec:
    """The shipped spec (``None``), a YAML file (an edited copy), a mapping or a spec."""
    if isinstance(source, LifeCircleSpec):
        return source
    doc = _load_spec(LifeCircleDoc, source, package=__package__, default=SPEC_FILE)
    origin = SPEC_FILE if source is None else ("<dict>" if isinstance(source, Mapping)
                                               else str(source))
    return _spec_of(doc, origin)


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Note:
    """A remark on a run (a label key and its fields), in either language."""

    key: str
    fields: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str | None = None) -> str:
        return t(self.key, lang, **self.fields)


@dataclass
class LifeCircles:
    """Results of :func:`life_circles`.

    ``homes``: one row per home (input order): ``home``, ``unit``, ``population``, ``node``
    (position, ``-1`` not snapped), ``snap_m``, ``snapped``, ``x``/``y`` (network CRS),
    ``dist_<type>`` (metres, ``inf`` beyond the bound) and ``covered_<level>``.
    ``by_unit``: unit × level — ``homes``, ``population``, ``covered_population``, ``share``.
    ``by_type``: level × required type — the population within the level's distance and its
    share (all units); ``by_unit_type``: the same per unit. ``gaps``: one row per home and
    lacking type — ``home``, ``unit``, ``population``, ``level``, ``type``, ``distance_m``,
    ``required_m``. ``far_homes`` / ``far_facilities``: the points not snapped.
    """

    spec: LifeCircleSpec
    homes: pd.DataFrame
    by_unit: pd.DataFrame
    by_type: pd.DataFrame
    by_unit_type: pd.DataFrame
    gaps: pd.DataFrame
    far_homes: pd.DataFrame
    far_facilities: pd.DataFrame
    facility_counts: pd.Series
    max_snap: float
    include_snap: bool
    crs: str | None
    notes: list[Note] = field(default_factory=list)

    def distances(self) -> pd.DataFrame:
        """Homes × facility types (metres)."""
        cols = {k: self.homes[f"dist_{k}"] for k in self.spec.types}
        return pd.DataFrame(cols).set_index(self.homes["home"])

    def covered(self) -> pd.DataFrame:
        """Homes × levels (bool)."""
        cols = {lv.code: self.homes[f"covered_{lv.code}"] for lv in self.spec.levels}
        return pd.DataFrame(cols).set_index(self.homes["home"])

    def summary(self) -> pd.DataFrame:
        """Population-weighted coverage per level over every unit."""
        g = self.by_unit.groupby("level", sort=False)[["homes", "population",
                                                        "covered_population"]].sum()
        g["share"] = g["covered_population"] / g["population"].where(g["population"] > 0)
        return g.reset_index()

    def finest_level(self) -> pd.Series:
        """Per home: the code of the finest level at which it is covered, ``none`` or
        ``not_snapped``."""
        out = pd.Series("none", index=self.homes.index, dtype=object)
        for lv in reversed(self.spec.levels):
            out[self.homes[f"covered_{lv.code}"]] = lv.code
        out[~self.homes["snapped"]] = "not_snapped"
        return out

    def gap_layer(self) -> gpd.GeoDataFrame:
        """The homes as points (network CRS) with ``missing`` (list of lacking types, finest
        level first), ``n_missing`` and their coverage flags."""
        import geopandas as gpd

        lacking = self.gaps.groupby("home", sort=False)["type"].agg(list)
        frame = self.homes.drop(columns=[c for c in self.homes.columns
                                         if str(c).startswith("dist_")])
        missing = frame["home"].map(lacking)
        lists: list[list[str]] = [m if isinstance(m, list) else [] for m in missing]
        frame = frame.assign(missing=pd.Series(lists, index=frame.index, dtype=object))
        frame["n_missing"] = frame["missing"].map(len)
        return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["x"], frame["y"]),
                                crs=self.crs)


# ----------------------------------------------------------------------------- computation


def _point_frame(points: Any, what: str) -> pd.DataFrame:
    if isinstance(points, pd.DataFrame):
        return points.reset_index(drop=True)
    raise AccessInputError(t("access.lc.err.points", what=t(f"access.lc.what.{what}")))


def length_graph(network: Network) -> CSRGraph:
    """The network's CSR arcs weighted by their length in metres."""
    return CSRGraph(network.indptr, network.indices, np.asarray(network.length, dtype=float))


def life_circles(network: Network, homes: Any, facilities: Any, *,
                 spec: str | Path | dict[str, Any] | LifeCircleSpec | None = None,
                 max_snap: float = 500.0, include_snap: bool = True,
                 crs: Any = None, router: Router | None = None, executor: str | None = None,
                 scheduler: str | None = None, workers: int = 1,
                 progress: Callable[[int, int], None] | None = None) -> LifeCircles:
    """Distances, coverage, shares and gaps of the life circles (see the module notes).

    ``homes``: a DataFrame (``x``/``y`` in the network's CRS or in ``crs``, or ``lon``/``lat``)
    or GeoDataFrame with ``population`` and optionally ``unit`` (default: one unit ``"all"``)
    and ``id`` (default: the row number). ``facilities``: the same with a ``type`` column whose
    values are the spec's facility keys. ``router``: a :class:`Router` on
    :func:`length_graph` of the network, reused across calls. ``executor``/``scheduler``/
    ``workers``: where the searches run, one job per facility type
    (:func:`cocity.access.blocks.nearest_times`; same results on every executor).
    """
    sp = load_spec(spec)
    notes: list[Note] = []
    hm = _point_frame(homes, "homes")
    fc = _point_frame(facilities, "facilities")
    if "population" not in hm.columns:
        raise AccessInputError(t("access.lc.err.column", column="population",
                                 what=t("access.lc.what.homes")))
    if "type" not in fc.columns:
        raise AccessInputError(t("access.lc.err.column", column="type",
                                 what=t("access.lc.what.facilities")))
    pop = pd.to_numeric(hm["population"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(pop) | (pop < 0)
    if bad.any():
        raise AccessInputError(t("access.lc.err.population", count=int(bad.sum()),
                                 first=int(np.flatnonzero(bad)[0])))
    home_id = hm["id"].to_numpy() if "id" in hm.columns else np.arange(len(hm))
    if len(pd.unique(home_id)) != len(home_id):
        raise AccessInputError(t("access.lc.err.duplicate_homes"))
    unit = hm["unit"].astype(str).to_numpy() if "unit" in hm.columns \
        else np.full(len(hm), "all", dtype=object)

    hs = network.snap(hm, max_snap=max_snap, crs=crs)
    fs = network.snap(fc, max_snap=max_snap, crs=crs)
    hxy = network.point_coords(hm, crs)
    fxy = network.point_coords(fc, crs)
    if len(hs.far):
        notes.append(Note("access.lc.note.far_homes", {
            "count": len(hs.far), "max_snap": max_snap,
            "population": float(pop[hs.far].sum())}))
    if len(fs.far):
        notes.append(Note("access.lc.note.far_facilities", {
            "count": len(fs.far), "max_snap": max_snap}))

    ftype = fc["type"].astype(str).to_numpy()
    known = set(sp.types)
    unknown = sorted(set(ftype) - known)
    if unknown:
        notes.append(Note("access.lc.note.unknown_types", {
            "types": ", ".join(unknown), "count": int(np.isin(ftype, unknown).sum())}))
    counts = pd.Series({k: int(((ftype == k) & fs.snapped).sum()) for k in sp.types},
                       name="facilities")
    absent = [k for k in sp.types if counts[k] == 0]
    if absent:
        notes.append(Note("access.lc.note.absent_types", {"types": ", ".join(absent)}))

    r = router if router is not None else Router(length_graph(network))
    types = [k for k in sp.types if counts[k] > 0]
    groups, offsets = [], []
    for k in types:
        sel = (ftype == k) & fs.snapped
        groups.append(fs.node[sel])
        offsets.append(fs.distance[sel] if include_snap else np.zeros(int(sel.sum())))
    # One search per type bounded by its own distance, each type an independent job.
    dist = np.full((len(hm), len(sp.types)), np.inf)
    col = {k: j for j, k in enumerate(sp.types)}
    ok = hs.snapped
    home_node = hs.node[ok]
    home_off = hs.distance[ok] if include_snap else np.zeros(int(ok.sum()))
    bounds = [sp.bound(k) for k in types]
    times = nearest_times(r.graph, groups, bounds, offsets=offsets, direction="to",
                          at=home_node, router=r, executor=executor, scheduler=scheduler,
                          workers=workers, progress=progress)
    for k, bound, near in zip(types, bounds, times, strict=True):
        d = near + home_off
        dist[ok, col[k]] = np.where(d <= bound, d, np.inf)

    frame = pd.DataFrame({"home": home_id, "unit": unit, "population": pop,
                          "node": hs.node, "snap_m": hs.distance, "snapped": hs.snapped,
                          "x": hxy[:, 0], "y": hxy[:, 1]})
    for k in sp.types:
        frame[f"dist_{k}"] = dist[:, col[k]]
    for lv in sp.levels:
        req = [col[k] for k in sp.required(lv.code)]
        frame[f"covered_{lv.code}"] = ok & (dist[:, req] <= lv.walk_m).all(axis=1)

    by_unit = _by_unit(frame, sp)
    by_type, by_unit_type = _by_type(frame, sp)
    gaps = _gaps(frame, sp)
    far_h = frame.loc[~frame["snapped"], ["home", "unit", "population", "snap_m", "x", "y"]]
    far_f = pd.DataFrame({"row": fs.far, "type": ftype[fs.far], "snap_m": fs.distance[fs.far],
                          "x": fxy[fs.far, 0], "y": fxy[fs.far, 1]})
    return LifeCircles(sp, frame, by_unit, by_type, by_unit_type, gaps,
                       far_h.reset_index(drop=True), far_f, counts, float(max_snap),
                       include_snap, network.crs, notes)


def _share(covered: pd.Series, population: pd.Series) -> float:
    total = float(population.sum())
    return float((population * covered).sum() / total) if total > 0 else float("nan")


def _by_unit(frame: pd.DataFrame, sp: LifeCircleSpec) -> pd.DataFrame:
    snapped = frame[frame["snapped"]]
    rows = []
    for u in pd.unique(frame["unit"]):
        sub = snapped[snapped["unit"] == u]
        for lv in sp.levels:
            cov = sub[f"covered_{lv.code}"]
            rows.append({"unit": u, "level": lv.code, "homes": len(sub),
                         "population": float(sub["population"].sum()),
                         "covered_population": float((sub["population"] * cov).sum()),
                         "share": _share(cov, sub["population"])})
    return pd.DataFrame(rows, columns=["unit", "level", "homes", "population",
                                       "covered_population", "share"])


def _by_type(frame: pd.DataFrame, sp: LifeCircleSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    snapped = frame[frame["snapped"]]
    rows, unit_rows = [], []
    for lv in sp.levels:
        for k in sp.required(lv.code):
            within = snapped[f"dist_{k}"] <= lv.walk_m
            rows.append({"level": lv.code, "type": k, "required_m": lv.walk_m,
                         "population": float(snapped["population"].sum()),
                         "covered_population": float((snapped["population"] * within).sum()),
                         "share": _share(within, snapped["population"])})
            for u, sub in snapped.groupby("unit", sort=False):
                w = within[sub.index]
                unit_rows.append({"unit": u, "level": lv.code, "type": k,
                                  "population": float(sub["population"].sum()),
                                  "covered_population": float((sub["population"] * w).sum()),
                                  "share": _share(w, sub["population"])})
    cols = ["level", "type", "required_m", "population", "covered_population", "share"]
    return (pd.DataFrame(rows, columns=cols),
            pd.DataFrame(unit_rows, columns=["unit", "level", "type", "population",
                                             "covered_population", "share"]))


def _gaps(frame: pd.DataFrame, sp: LifeCircleSpec) -> pd.DataFrame:
    parts = []
    for k in sp.types:
        lv = sp.level_of(k)
        d = frame[f"dist_{k}"]
        sel = frame["snapped"] & (d > lv.walk_m)
        parts.append(pd.DataFrame({"home": frame.loc[sel, "home"],
                                   "unit": frame.loc[sel, "unit"],
                                   "population": frame.loc[sel, "population"],
                                   "level": lv.code, "type": k, "distance_m": d[sel],
                                   "required_m": lv.walk_m}))
    cols = ["home", "unit", "population", "level", "type", "distance_m", "required_m"]
    gaps = pd.concat(parts) if parts else pd.DataFrame(columns=cols)
    order = {h: i for i, h in enumerate(frame["home"])}
    gaps = gaps.assign(_o=gaps["home"].map(order)).sort_values("_o", kind="stable")
    return gaps.drop(columns="_o").reset_index(drop=True)[cols]
