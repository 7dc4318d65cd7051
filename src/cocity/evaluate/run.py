"""One evaluation run: derive the indicators of every level, build the index with the
pipeline, run the uncertainty analysis, grade, and list rewards and rectifications.

Pure computation on a store and a framework: nothing is written here (see
:mod:`cocity.evaluate.runs` for the versioned run folders and :mod:`cocity.report` for the
report). The result is deterministic for given inputs and seed.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import cocity
from cocity.access.regional import load_spec as load_network_spec
from cocity.data.store import Store
from cocity.evaluate import grades as grading
from cocity.evaluate.derive import MEASURES, Context, Edition, survey_estimates
from cocity.evaluate.errors import EvaluationError
from cocity.evaluate.framework import EvalFramework
from cocity.i18n import current_lang, t
from cocity.index.framework import Framework
from cocity.index.obstacles import obstacle_degree
from cocity.index.pipeline import Pipeline
from cocity.index.uncertainty import UncertaintyResult, UncertaintySpec, run_uncertainty

Progress = Callable[[str, int, int], None]
CODE_SUFFIXES = (".py", ".yaml", ".j2")


@cache
def code_sha256() -> str:
    """Fingerprint of the code a run depends on: every source, specification and template file
    of the installed ``cocity`` package (the embedded data enter through the inputs)."""
    root = Path(cocity.__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in CODE_SUFFIXES and "datasets" not in path.relative_to(root).parts:
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


@dataclass(frozen=True)
class Note:
    """Something the report must say (imputed or left-out values, survey problems…)."""

    kind: str
    level: str
    zh: str
    en: str

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass
class LevelResult:
    """The evaluation of one level."""

    level: str
    framework: Framework
    units: pd.DataFrame  # evaluated units (index: code): name_zh, name_en, parent, membership
    raw: pd.DataFrame  # derived indicator values, units × indicators
    left_out: dict[str, str]  # indicator → reason code (not_applicable / no_data)
    pipeline: Pipeline
    uncertainty: UncertaintyResult | None
    graded: pd.DataFrame  # grade table (cocity.evaluate.grades), with ranks and intervals
    obstacles: pd.DataFrame  # units × indicators, obstacle degree in %
    rewards: pd.DataFrame
    rectification: pd.DataFrame
    survey_estimates: pd.DataFrame | None
    survey_checks: pd.DataFrame | None
    data_se: pd.DataFrame | None = None  # standard errors of the raw values (survey scores)

    @property
    def root(self) -> str:
        return self.framework.root

    @property
    def scores(self) -> pd.DataFrame:
        return self.pipeline.scores

    @property
    def imputed(self) -> pd.DataFrame:
        return self.pipeline.imputed

    def dimensions(self) -> list[str]:
        return self.framework.children(self.root)


@dataclass
class Evaluation:
    """A whole run: every level of one evaluation year."""

    framework: EvalFramework
    edition: Edition
    levels: dict[str, LevelResult]
    survey: Any
    seed: int
    replications: int
    publication_date: dt.date
    rules: grading.GradingRules
    notes: list[Note] = field(default_factory=list)
    previous_scores: dict[str, pd.Series] = field(default_factory=dict)
    previous_year: int | None = None
    source: str = ""
    datum: str = ""
    geo: Any = None

    @property
    def year(self) -> int:
        return self.edition.year

    @property
    def simulated_survey(self) -> bool:
        return bool(getattr(self.survey, "simulated", False))

    def inputs_sha256(self) -> str:
        """Hash of everything the results depend on: framework file, derived indicator
        values, survey responses, seed, replications, publication date, previous scores and
        the code (version and :func:`code_sha256`)."""
        h = hashlib.sha256()
        h.update(self.framework.content)
        for level, res in sorted(self.levels.items()):
            h.update(level.encode())
            h.update(res.raw.to_csv(float_format="%.12g").encode())
        if self.survey is not None:
            h.update(self.survey.responses.to_csv(float_format="%.12g").encode())
        h.update(json.dumps({"seed": self.seed, "replications": self.replications,
                             "publication_date": self.publication_date.isoformat(),
                             "previous": {k: v.round(10).to_dict() for k, v in
                                          sorted(self.previous_scores.items())},
                             "version": cocity.__version__, "code": code_sha256()},
                            sort_keys=True).encode())
        return h.hexdigest()


# ---------------------------------------------------------------------- helpers
def _evaluated_units(store: Store, level: str, membership: list[str]) -> pd.DataFrame:
    u = store.units(level=level)
    u = u[u["membership"].isin(membership)]
    return u.set_index("code", drop=False).sort_index()


def derive_level(ctx: Context, fw: EvalFramework, level: str, units: list[str]
                 ) -> tuple[pd.DataFrame, dict[str, str]]:
    """The derived value of every indicator of ``level`` (columns), and the indicators left
    out with the reason: ``not_applicable`` (not evaluated at this level) or ``no_data`` (the
    edition has no data for it)."""
    cols: dict[str, pd.Series] = {}
    left_out: dict[str, str] = {}
    for node in fw.leaves:
        code = str(node["code"])
        if not fw.applies(node, level):
            left_out[code] = "not_applicable"
            continue
        m = dict(node["measure"])
        kind = m.pop("kind")
        values = MEASURES[kind](ctx, level, units, **m)
        if values.isna().all():
            left_out[code] = "no_data"
            continue
        cols[code] = values.reindex(units).astype(float)
    return pd.DataFrame(cols, index=pd.Index(units, name="unit")), left_out


def _steps(fw: EvalFramework) -> list[dict[str, dict[str, Any]]]:
    return copy.deepcopy(fw.doc.get("pipeline") or [{"impute": {"method": "median"}},
                                                    {"normalise": {"method": "goalposts"}},
                                                    {"aggregate": {}}])


def _scaled01(pipe: Pipeline) -> pd.DataFrame:
    """Normalised values on [0, 1] for the obstacle degree: divided by the known range of the
    normalisation (goalposts: [0, scale]; min–max: [low, high]), or min–max over the whole
    matrix for methods without one (rank, z-scores, …)."""
    x = pipe.data["normalise"][pipe.framework.indicators].astype(float)
    params = pipe.params.get("normalise", {})
    method = params.get("method")
    if method == "goalposts":
        low, high = 0.0, float(params.get("scale", 100.0))
    elif method == "minmax":
        low, high = float(params.get("low", 0.0)), float(params.get("high", 100.0))
    else:
        low, high = float(np.nanmin(x.to_numpy())), float(np.nanmax(x.to_numpy()))
    return ((x - low) / (high - low)).clip(0, 1) if high > low else x * 0 + 1


# ---------------------------------------------------------------------- one level
def evaluate_level(ctx: Context, fw: EvalFramework, level: str, *, rules: grading.GradingRules,
                   replications: int, seed: int, previous: pd.Series | None,
                   publication_date: dt.date, notes: list[Note],
                   progress: Progress | None = None) -> LevelResult:
    spec = fw.doc["levels"][level]
    units = _evaluated_units(ctx.store, level, list(spec.get("membership", ["full", "partial"])))
    raw, left_out = derive_level(ctx, fw, level, list(units.index))
    for code, why in left_out.items():
        if why == "no_data":
            name = fw.leaf(code)
            notes.append(Note("left_out", level, *(
                t("eval.note.left_out", lang, name=name[f"name_{lang}"], year=ctx.edition.year)
                for lang in ("zh", "en"))))
    framework = fw.for_level(level, {c for c, w in left_out.items() if w == "no_data"})
    pipe = Pipeline(raw, framework)
    pipe.apply(_steps(fw))
    imputed = pipe.imputed
    for code in imputed.columns:
        who = list(imputed.index[imputed[code]])
        if who:
            node = framework.nodes[code]
            names = "、".join(str(units.at[u, "name_zh"]) for u in who[:12])
            names_en = ", ".join(str(units.at[u, "name_en"]) for u in who[:12])
            more = len(who) - 12
            method = str(pipe.params.get("impute", {}).get("method", ""))
            notes.append(Note("imputed", level,
                              t("eval.note.imputed", "zh", name=node.name_zh, n=len(who),
                                method=method,
                                units=names + (f" 等{len(who)}个" if more > 0 else "")),
                              t("eval.note.imputed", "en", name=node.name_en, n=len(who),
                                method=method,
                                units=names_en + (f" and {more} more" if more > 0 else ""))))
    root = framework.root
    data_se = _sampling_errors(ctx, fw, framework, level, raw)
    unc: UncertaintyResult | None = None
    if replications > 0 and fw.doc.get("uncertainty"):
        uspec = UncertaintySpec.from_dict(fw.doc["uncertainty"])

        def tick(done: int, total: int) -> None:
            if progress:
                progress(f"uncertainty:{level}", done, total)

        unc = run_uncertainty(pipe, uspec, replications=replications, seed=seed,
                              progress=tick, sobol=True, data_se=data_se)
    scores = pipe.scores[root]
    graded = grading.assign_grades(scores, rules, previous)
    rank = pipe.ranks[root]
    graded["rank"] = rank.reindex(graded.index)
    if unc is not None:
        gu = grading.grade_uncertainty(unc.scores, list(unc.units), rules, graded,
                                       previous=previous, ranks=unc.rank_summary)
        graded = graded.join(gu.drop(columns=["grade"]))
        q = np.nanpercentile(unc.scores, [5, 95], axis=0)
        graded["score_low"] = pd.Series(q[0], index=unc.units).reindex(graded.index)
        graded["score_high"] = pd.Series(q[1], index=unc.units).reindex(graded.index)
    x01 = _scaled01(pipe)
    w = framework.leaf_weights().reindex(framework.indicators).to_numpy(float)
    obstacles = pd.DataFrame(obstacle_degree(x01.to_numpy(float), w), index=x01.index,
                             columns=framework.indicators)
    unit_names = units[["name_zh", "name_en", "parent"]]
    ind_names = pd.DataFrame({c: {"name_zh": framework.nodes[c].name_zh,
                                  "name_en": framework.nodes[c].name_en}
                              for c in framework.indicators}).T
    rewards = grading.reward_list(graded, unit_names, rules)
    rect = grading.rectification_list(graded, unit_names, obstacles, ind_names, rules,
                                      publication_date)
    est = survey_estimates(ctx, level)
    checks = None
    if ctx.survey is not None:
        from cocity.evaluate.survey import check_survey

        sv = fw.doc.get("survey") or {}
        groups = None
        if level == "prefecture":
            county = ctx.units[ctx.units["level"] == "county"]
            groups = dict(zip(county.index, county["parent"].astype(str), strict=True))
        checks = _survey_checks(check_survey, ctx.survey, list(units.index), groups,
                                int(sv.get("min_n", 30)), float(sv.get("min_response", 0.5)))
        checks = checks[checks["unit"].isin(units.index)].set_index("unit")
        for ucode, row in checks[checks["problems"].astype(str) != ""].iterrows():
            problems = [p for p in str(row["problems"]).split(";") if p]
            notes.append(Note("survey", level, *(
                t("eval.note.survey", lang, unit=units.at[ucode, f"name_{lang}"],
                  problem=", ".join(t(f"eval.survey_problem.{p}", lang) for p in problems))
                for lang in ("zh", "en"))))
    return LevelResult(level, framework, units, raw, left_out, pipe, unc, graded, obstacles,
                       rewards, rect, est, checks, data_se)


def _sampling_errors(ctx: Context, fw: EvalFramework, framework: Framework, level: str,
                     raw: pd.DataFrame) -> pd.DataFrame:
    """Standard errors of the raw indicator values (units × indicators): the design-based
    standard error of each survey score; NaN (no error modelled) for the other indicators."""
    se = pd.DataFrame(np.nan, index=raw.index, columns=framework.indicators)
    est = survey_estimates(ctx, level)
    if est is None:
        return se
    for code in framework.indicators:
        m = fw.leaf(code)["measure"]
        if m["kind"] == "survey":
            sel = est[est["domain"] == m["domain"]].set_index("group")["se"]
            se[code] = sel.reindex(raw.index).astype(float)
    return se


def _survey_checks(check: Callable[..., pd.DataFrame], survey: Any, units: list[str],
                   groups: dict[str, str] | None, min_n: int, min_response: float
                   ) -> pd.DataFrame:
    """Survey checks per evaluated unit; prefectures pool their counties' respondents."""
    if groups is None:
        return check(survey, units, min_n=min_n, min_response=min_response)
    pooled = copy.copy(survey)
    resp = survey.responses.copy()
    resp["unit"] = resp["unit"].map(groups).fillna(resp["unit"])
    pooled.responses = resp
    return check(pooled, units, min_n=min_n, min_response=min_response)


# ---------------------------------------------------------------------- a run
def evaluate(fw: EvalFramework, store: Store, *, year: int | None = None, survey: Any = None,
             replications: int | None = None, seed: int | None = None,
             previous: dict[str, pd.Series] | None = None, previous_year: int | None = None,
             publication_date: dt.date | None = None, levels: list[str] | None = None,
             progress: Progress | None = None) -> Evaluation:
    """Evaluate ``year`` (default: the framework's) on ``store``.

    ``survey``: a :class:`cocity.evaluate.survey.Survey`; None → the framework's simulator
    (flagged simulated). ``previous``: last run's index scores per level (for the improvement
    rule and the year-on-year change). ``publication_date`` (default 30 June of the next year)
    anchors the rectification deadlines, so a run is reproducible.
    """
    year = fw.year if year is None else int(year)
    edition = fw.edition(year)
    unknown = sorted(set(levels or []) - set(fw.doc["levels"]))
    if unknown:
        raise EvaluationError(t("eval.err.unknown_level", levels=", ".join(unknown),
                                known=", ".join(fw.doc["levels"])))
    if replications is not None and replications < 0:
        raise EvaluationError(t("eval.err.replications", value=replications))
    unc = fw.doc.get("uncertainty") or {}
    replications = int(unc.get("replications", 0)) if replications is None else replications
    seed = int(unc.get("seed", 0)) if seed is None else seed
    publication_date = publication_date or dt.date(year + 1, 6, 30)
    rules = grading.load_rules(fw.doc.get("grading"))
    for level in levels or list(fw.doc["levels"]):
        membership = list(fw.doc["levels"][level].get("membership", ["full", "partial"]))
        if _evaluated_units(store, level, membership).empty:
            raise EvaluationError(t("eval.err.no_units",
                                    level=fw.level_label(level, current_lang())))
    notes: list[Note] = []
    if survey is None and edition.sources.get("survey") is not None:
        from cocity.evaluate.survey import simulate_survey

        sim = (fw.doc.get("survey") or {}).get("simulate") or {}
        survey = simulate_survey(store, year=int(edition.sources["survey"] or year),
                                 level="county", n_per_unit=int(sim.get("n_per_unit", 60)),
                                 seed=int(sim.get("seed", 0)))
    if survey is not None and getattr(survey, "simulated", False):
        notes.append(Note("simulated", "all", t("eval.note.simulated", "zh"),
                          t("eval.note.simulated", "en")))
    network = load_network_spec(None if fw.doc.get("network") in (None, "regional_chengyu")
                                else fw.doc["network"])
    ctx = Context(store, edition, network, survey)
    gap = int(fw.doc.get("improvement_max_years", 1))
    graded_on = previous
    if previous and previous_year is not None and year - previous_year > gap:
        # a distant edition is compared with, but does not move grades (see the framework)
        graded_on = None
        notes.append(Note("improvement", "all", *(t("eval.note.no_improvement", lang,
                                                    year=previous_year, gap=gap)
                                                  for lang in ("zh", "en"))))
    results: dict[str, LevelResult] = {}
    for level in levels or list(fw.doc["levels"]):
        if progress:
            progress(f"level:{level}", 0, 0)
        results[level] = evaluate_level(
            ctx, fw, level, rules=rules, replications=replications, seed=seed,
            previous=(graded_on or {}).get(level), publication_date=publication_date,
            notes=notes, progress=progress)
    geo = store.geodata()
    geo = geo[geo.geometry.notna() & ~geo.geometry.is_empty]
    meta = store.meta()
    return Evaluation(fw, edition, results, survey, seed, replications, publication_date,
                      rules, notes, dict(previous or {}),
                      previous_year=previous_year if previous else None,
                      source=str(meta.get("dataset") or (store.path or "")),
                      datum=str(geo.attrs.get("datum", "")), geo=geo)
