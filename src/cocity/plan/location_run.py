"""``cocity plan locate``: where to put a regional public-service centre (区域公共服务中心).

The source text asks for the centre "in the geographic centre city of the circle" without
naming the city; this edge reads that several ways on the store's data and solves the four
classic location models (:mod:`cocity.plan.location`) over the same inputs:

* **demand**: the region's units (:func:`cocity.plan.region.load_region`: in-circle
  county-level units by default, or prefecture-level ``level``) weighted by their population
  of the region's year (2020 on the embedded data);
* **candidates**: the same units, or the units the user names (``candidates``);
* **times**: ``Region.minutes`` — shortest times over the regional network, whose road times
  are modelled (``Region.note``, shown on every page and table that shows times).

Models: p-median, p-centre (unweighted: the time from the farthest unit), MCLP and LSCP at
``radius`` minutes; ``p`` centres (1 by default: the text asks for one). The default radius of
90 minutes is a convention of this tool, not a figure of the source texts: a centre reached and
left again within a half-day (three hours' return travel); pass ``radius`` to use another.

The "geographic centre" table compares the population-weighted centroid (the unit containing
it), the 1-median and the 1-centre (:mod:`cocity.plan.location_centre`) with the centres of the
p = 1 models, each by its population-weighted mean time, its maximum time and the shares of the
population within 60, 90 and 120 minutes.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cocity.i18n import t
from cocity.metrics.geodesy import haversine_km
from cocity.plan.errors import PlanInputError
from cocity.plan.location import (
    MODELS,
    Location,
    UncoveredDemandError,
    lscp,
    mclp,
    one_centre,
    one_median,
    p_centre,
    p_median,
)
from cocity.plan.location_centre import THRESHOLDS, reach, weighted_centroid
from cocity.plan.region import Region, load_region, resolve_units

if TYPE_CHECKING:
    from cocity.data.store import Store
    from cocity.report.plan_page import PlanReport

KIND = "locate"
DEFAULT_RADIUS = 90.0
CHOICES = (*MODELS, "all")
COLORS = {"p-median": "#d62728", "p-centre": "#1f77b4", "mclp": "#2ca02c", "lscp": "#9467bd"}
CENTRE_COLOR = "#ff7f0e"


@dataclass(frozen=True)
class LocateRun:
    """The inputs and every result of one run: ``cost`` is demand × candidates minutes,
    ``results`` the models solved by name, ``centres`` the comparison of centres, ``centroid``
    the population-weighted centroid (lon, lat), ``skipped`` the models with no solution when
    all were asked for (by name: why, in Chinese and English)."""

    region: Region
    demand: list[str]
    candidates: list[str]
    user_candidates: bool
    cost: np.ndarray
    p: int
    radius: float
    models: list[str]
    results: dict[str, Location]
    centres: pd.DataFrame
    centroid: tuple[float, float]
    skipped: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def lines_model(self) -> str:
        """The model whose assignment the map draws: the p-median when solved, else the one
        model asked for."""
        return "p-median" if "p-median" in self.results else self.models[0]


# ---------------------------------------------------------------------- inputs
def parse_candidates(text: str) -> list[str]:
    """Unit names separated by commas (ASCII or full-width) or 、."""
    for sep in ("，", "、"):
        text = text.replace(sep, ",")
    return [x.strip() for x in text.split(",") if x.strip()]


def read_candidates(path: str | Path) -> list[str]:
    """The units of a candidates file: a UTF-8 CSV whose column ``unit`` (else its first
    column) names one unit per row (code or any name)."""
    p = Path(path)
    try:
        with p.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanInputError(t("plan.locate.err.file", path=str(p), reason=str(exc))) from None
    if not rows:
        raise PlanInputError(t("plan.locate.err.empty_file", path=str(p)))
    header = [h.strip().lower() for h in rows[0]]
    col = header.index("unit") if "unit" in header else 0
    names = []
    for k, row in enumerate(rows[1:], start=2):
        if len(row) <= col or not row[col].strip():
            raise PlanInputError(t("plan.locate.err.blank_row", path=str(p), row=k))
        names.append(row[col].strip())
    if not names:
        raise PlanInputError(t("plan.locate.err.empty_file", path=str(p)))
    return names


def _candidate_codes(store: Store, region: Region, names: Sequence[str], *,
                     source: str) -> list[str]:
    bad: list[str] = []
    codes: list[str] = []
    for k, name in enumerate(names, start=1):
        try:
            code = resolve_units(store, [name], level=region.level)[0]
        except PlanInputError as exc:
            bad.append(t("plan.locate.err.candidate_row", source=source, row=k, name=name,
                         reason=str(exc)))
            continue
        if code not in region.codes:
            bad.append(t("plan.locate.err.candidate_outside", source=source, row=k,
                         name=name))
            continue
        if code not in codes:
            codes.append(code)
    if bad:
        raise PlanInputError("; ".join(bad))
    return codes


# ---------------------------------------------------------------------- the run
def _solve(model: str, cost: np.ndarray, w: np.ndarray, *, p: int, radius: float) -> Location:
    if model == "p-median":
        return p_median(cost, weights=w, p=p)
    if model == "p-centre":
        return p_centre(cost, p=p)
    if model == "mclp":
        return mclp(cost, weights=w, p=p, radius=radius)
    return lscp(cost, radius=radius)


def _lonlat(region: Region, code: str) -> tuple[float, float]:
    """The representative point of unit ``code``."""
    lon, lat = region.units.loc[code, ["lon", "lat"]].to_numpy(float)
    return float(lon), float(lat)


def _containing(store: Store, region: Region, point: tuple[float, float]) -> str:
    """The region's unit containing ``point`` (a prefecture through its county), else the
    unit whose representative point is nearest."""
    from shapely.geometry import Point

    from cocity.plan.region import load_boundaries

    geo = load_boundaries(store)
    parents = store.units().astype({"code": str}).set_index("code")["parent"].astype(str)
    for code in geo.loc[geo.geometry.contains(Point(*point)), "code"].astype(str):
        unit = code if region.level == "county" else parents.get(code)
        if unit in region.codes:
            return str(unit)
    u = region.units
    km = haversine_km(u["lon"], u["lat"], point[0], point[1])
    return region.codes[int(np.argmin(km))]


def run_locate(store: Store, *, model: str = "all", p: int = 1,
               radius: float = DEFAULT_RADIUS, candidates: Sequence[str] | None = None,
               candidates_source: str = "--candidates", level: str = "county",
               year: int | None = None) -> LocateRun:
    """Solve ``model`` (one of :data:`MODELS` or ``all``) on the region of ``store`` and
    compare the geographic centres (module docstring). ``candidates``: unit names (default:
    every demand unit); ``candidates_source`` names where they came from in messages."""
    if model not in CHOICES:
        raise PlanInputError(t("plan.locate.err.model", model=model, allowed=", ".join(CHOICES)))
    region = load_region(store, level=level, year=year)
    demand = region.codes
    user = candidates is not None
    cands = _candidate_codes(store, region, candidates, source=candidates_source) \
        if candidates is not None else demand
    if not cands:
        raise PlanInputError(t("plan.locate.err.no_candidates"))
    w = region.population
    cost = region.times(demand, cands)
    models = list(MODELS) if model == "all" else [model]
    if isinstance(p, bool) or not isinstance(p, int) or not 1 <= p <= len(cands):
        raise PlanInputError(t("plan.locate.err.p_units", p=p, m=len(cands)))
    results: dict[str, Location] = {}
    skipped: dict[str, tuple[str, str]] = {}
    for name in models:
        try:
            results[name] = _solve(name, cost, w, p=p, radius=radius)
        except UncoveredDemandError as exc:
            units = ", ".join(f"{region.name(demand[i], 'zh')} / {region.name(demand[i], 'en')}"
                              f" ({demand[i]})" for i in exc.rows)
            if model != "all":
                raise PlanInputError(t("plan.locate.err.uncovered_units",
                                       radius=f"{exc.radius:g}", units=units)) from None
            # with every model asked for, the others still answer; the page says why not LSCP
            skipped[name] = tuple(t("plan.locate.err.uncovered_units", lang,  # type: ignore[assignment]
                                    radius=f"{exc.radius:g}", units=units)
                                  for lang in ("zh", "en"))
    centroid = weighted_centroid(region.units["lon"], region.units["lat"], weights=w)
    centres = _centres(store, region, demand, cands, cost, w, centroid)
    return LocateRun(region=region, demand=demand, candidates=cands, user_candidates=user,
                     cost=cost, p=p, radius=float(radius), models=list(results),
                     results=results, centres=centres, centroid=centroid, skipped=skipped)


def _centres(store: Store, region: Region, demand: list[str], cands: list[str],
             cost: np.ndarray, w: np.ndarray, centroid: tuple[float, float]) -> pd.DataFrame:
    """The comparison table of the geographic centres."""
    inside = _containing(store, region, centroid)
    picks = [("centroid", inside, centroid),
             ("one_median", cands[one_median(cost, weights=w)], None),
             ("one_centre", cands[one_centre(cost)], None)]
    rows = []
    for variant, code, point in picks:
        lon, lat = point if point is not None else _lonlat(region, code)
        rows.append({"variant": variant,
                     "variant_zh": t(f"plan.locate.variant.{variant}", "zh"),
                     "variant_en": t(f"plan.locate.variant.{variant}", "en"),
                     "code": code, "name_zh": region.name(code, "zh"),
                     "name_en": region.name(code, "en"), "lon": round(lon, 5),
                     "lat": round(lat, 5),
                     **{k: round(v, 4) for k, v in
                        reach(region.times(demand, [code])[:, 0], weights=w).items()}})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- tables and page
def model_table(run: LocateRun) -> pd.DataFrame:
    """One row per model: its centres, objective, and the population-weighted mean and the
    maximum time to the assigned centre, and the population share within the radius."""
    w = run.region.population
    rows = []
    for name, res in run.results.items():
        cost = run.cost[:, res.chosen].min(axis=1)
        rows.append({
            "model": name, "model_zh": t(f"plan.locate.model.{name}", "zh"),
            "model_en": t(f"plan.locate.model.{name}", "en"), "p": len(res.chosen),
            "radius": run.radius if name in ("mclp", "lscp") else None,
            "centres": ", ".join(run.candidates[j] for j in res.chosen),
            "centres_zh": "、".join(run.region.name(run.candidates[j], "zh")
                                    for j in res.chosen),
            "centres_en": ", ".join(run.region.name(run.candidates[j], "en")
                                    for j in res.chosen),
            "objective": round(res.objective, 4),
            "objective_is_zh": t(f"plan.locate.objective.{name}", "zh"),
            "objective_is_en": t(f"plan.locate.objective.{name}", "en"),
            "mean_minutes": round(float(cost @ w / w.sum()), 4),
            "max_minutes": round(float(cost.max()), 4),
            "within_radius": round(float(w[cost <= run.radius].sum() / w.sum()), 4),
            "optimal": bool(res.optimal), "gap": res.gap, "seconds": round(res.seconds, 4)})
    return pd.DataFrame(rows)


def assignment_table(run: LocateRun, model: str) -> pd.DataFrame:
    """Every demand unit with its population, the centre it is assigned to by ``model`` and
    the minutes to it (no centre within the radius: empty, for the MCLP)."""
    res = run.results[model]
    rows = []
    for i, code in enumerate(run.demand):
        j = int(res.assignment[i])
        centre = run.candidates[j] if j >= 0 else None
        rows.append({"code": code, "name_zh": run.region.name(code, "zh"),
                     "name_en": run.region.name(code, "en"),
                     "population": int(run.region.population[i]),
                     "centre": centre,
                     "centre_zh": run.region.name(centre, "zh") if centre else None,
                     "centre_en": run.region.name(centre, "en") if centre else None,
                     "minutes": round(float(run.cost[i, j]), 2) if j >= 0 else None})
    return pd.DataFrame(rows)


def _points(run: LocateRun, codes: Sequence[str], **extra: Any) -> pd.DataFrame:
    pts = [_lonlat(run.region, c) for c in codes]
    return pd.DataFrame({"code": list(codes), "lon": [x for x, _ in pts],
                         "lat": [y for _, y in pts],
                         "label_zh": [run.region.name(c, "zh") for c in codes],
                         "label_en": [run.region.name(c, "en") for c in codes], **extra})


def locate_report(run: LocateRun) -> PlanReport:
    """The page, tables and layers of ``run``."""
    from cocity.report.plan_page import Layer, PlanReport, PlanTable

    region = run.region
    layers: list[Layer] = []
    model = run.lines_model
    res = run.results[model]
    lines = []
    for i, code in enumerate(run.demand):
        j = int(res.assignment[i])
        if j < 0 or run.candidates[j] == code:
            continue
        centre = run.candidates[j]
        lines.append({"path": [_lonlat(region, code), _lonlat(region, centre)],
                      "label_zh": f"{region.name(code, 'zh')} → {region.name(centre, 'zh')}"
                                  f"（{run.cost[i, j]:.0f} 分钟）",
                      "label_en": f"{region.name(code, 'en')} → {region.name(centre, 'en')}"
                                  f" ({run.cost[i, j]:.0f} min)",
                      "minutes": round(float(run.cost[i, j]), 2)})
    if lines:
        layers.append(Layer("assignment", t("plan.locate.layer.assignment", "zh",
                                            model=t(f"plan.locate.model.{model}", "zh")),
                            t("plan.locate.layer.assignment", "en",
                              model=t(f"plan.locate.model.{model}", "en")),
                            "lines", pd.DataFrame(lines), color="#c9ccd1"))
    for name, r in run.results.items():
        codes = [run.candidates[j] for j in r.chosen]
        layers.append(Layer(f"centres_{name}", t(f"plan.locate.model.{name}", "zh"),
                            t(f"plan.locate.model.{name}", "en"), "points",
                            _points(run, codes, model=name), color=COLORS[name]))
    # readings that fall on the same place share one point (and one label)
    short = run.centres.assign(
        short_zh=[t(f"plan.locate.short.{v}", "zh") for v in run.centres["variant"]],
        short_en=[t(f"plan.locate.short.{v}", "en") for v in run.centres["variant"]])
    c = short.groupby(["lon", "lat"], sort=False).agg(
        code=("code", "first"), name_zh=("name_zh", "first"), name_en=("name_en", "first"),
        variant=("variant", " = ".join), variant_zh=("short_zh", " = ".join),
        variant_en=("short_en", " = ".join)).reset_index()
    layers.append(Layer("geographic_centres", t("plan.locate.layer.centres", "zh"),
                        t("plan.locate.layer.centres", "en"), "points",
                        pd.DataFrame({"code": c["code"], "lon": c["lon"], "lat": c["lat"],
                                      "label_zh": c["variant_zh"] + "：" + c["name_zh"],
                                      "label_en": c["variant_en"] + ": " + c["name_en"],
                                      "variant": c["variant"]}), color=CENTRE_COLOR))
    models = model_table(run)
    cards: list[tuple[str, str, str]] = []
    for name in run.results:
        row = models[models["model"] == name].iloc[0]
        many = len(run.results[name].chosen) > 3  # too many names for a card: the count
        cards.append((str(len(run.results[name].chosen)) if many
                      else f"{row['centres_zh']} / {row['centres_en']}",
                      t(f"plan.locate.model.{name}", "zh"), t(f"plan.locate.model.{name}", "en")))
    median = run.centres.set_index("variant").loc["one_median"]
    cards.append((f"{median['mean_minutes']:.0f}", t("plan.locate.card.mean", "zh"),
                  t("plan.locate.card.mean", "en")))
    notes = [(t("plan.locate.note.source", "zh"), t("plan.locate.note.source", "en")),
             (Region.note("zh"), Region.note("en")),
             (t("plan.locate.note.radius", "zh", radius=f"{run.radius:g}"),
              t("plan.locate.note.radius", "en", radius=f"{run.radius:g}")),
             (t("plan.locate.note.centroid", "zh"), t("plan.locate.note.centroid", "en")),
             (t("plan.locate.note.population", "zh", year=region.year),
              t("plan.locate.note.population", "en", year=region.year))]
    notes.extend(run.skipped.values())
    if run.user_candidates:
        notes.append((t("plan.locate.note.candidates", "zh", n=len(run.candidates)),
                      t("plan.locate.note.candidates", "en", n=len(run.candidates))))
    level_zh = t(f"plan.region.level.{region.level}", "zh")
    level_en = t(f"plan.region.level.{region.level}", "en")
    return PlanReport(
        kind=KIND, title_zh=t("plan.locate.title", "zh"), title_en=t("plan.locate.title", "en"),
        subtitle_zh=t("plan.locate.subtitle", "zh", n=len(run.demand), m=len(run.candidates),
                      p=run.p, level=level_zh, year=region.year),
        subtitle_en=t("plan.locate.subtitle", "en", n=len(run.demand), m=len(run.candidates),
                      p=run.p, level=level_en, year=region.year),
        cards=cards,
        tables=[PlanTable("centres", run.centres, t("plan.locate.table.centres", "zh"),
                          t("plan.locate.table.centres", "en"), labels="plan.locate.col"),
                PlanTable("models", models, t("plan.locate.table.models", "zh"),
                          t("plan.locate.table.models", "en"), labels="plan.locate.col"),
                PlanTable("assignment", assignment_table(run, model),
                          t("plan.locate.table.assignment", "zh",
                            model=t(f"plan.locate.model.{model}", "zh")),
                          t("plan.locate.table.assignment", "en",
                            model=t(f"plan.locate.model.{model}", "en")),
                          labels="plan.locate.col")],
        layers=layers, notes=notes, provenance=region.provenance,
        config={"model": run.models, "p": run.p, "radius": run.radius,
                "level": region.level, "year": region.year,
                "candidates": run.candidates if run.user_candidates else "demand units",
                "thresholds": list(THRESHOLDS)},
        facts={"centroid": {"lon": run.centroid[0], "lat": run.centroid[1]},
               "optimal": {k: bool(v.optimal) for k, v in run.results.items()},
               "skipped": {k: {"zh": zh, "en": en} for k, (zh, en) in run.skipped.items()}})


def write_locate(run: LocateRun, out: str | Path, *, store: Store,
                 lang: str = "zh") -> dict[str, Path]:
    """Write the report of ``run`` into ``out`` (:func:`cocity.report.plan_page.
    write_plan_report`); returns the paths by role."""
    from cocity.plan.region import load_boundaries
    from cocity.report.plan_page import write_plan_report

    return write_plan_report(locate_report(run), out, boundaries=load_boundaries(store),
                             lang=lang)
