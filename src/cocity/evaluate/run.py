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
from cocity.access.regional import workspace_spec
from cocity.data.provenance import provenance
from cocity.data.store import Store
from cocity.evaluate import grades as grading
from cocity.evaluate.compare import Comparison, compare_editions, scores_without
from cocity.evaluate.derive import MEASURES, Adjustments, Context, Edition, survey_estimates
from cocity.evaluate.errors import EvaluationError
from cocity.evaluate.framework import EvalFramework
from cocity.i18n import current_lang, t
from cocity.index.executors import choose
from cocity.index.framework import Framework
from cocity.index.obstacles import obstacle_degree
from cocity.index.pipeline import Pipeline
from cocity.index.uncertainty import (
    UncertaintyResult,
    UncertaintySpec,
    column_percentile,
    run_uncertainty,
)

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


@dataclass(frozen=True)
class Previous:
    """The previous edition a run is compared with, as read from its stored run
    (:func:`cocity.evaluate.runs.previous_run`): the index score of every unit per level and the
    indicator values it used (after imputation), so that the change can be computed on the
    indicators both editions share (:mod:`cocity.evaluate.compare`)."""

    year: int
    run: str = ""
    scores: dict[str, pd.Series] = field(default_factory=dict)
    values: dict[str, pd.DataFrame] = field(default_factory=dict)


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
    comparison: Comparison = field(default_factory=lambda: Comparison("none"))
    # index score and base-rule grade rebuilt without the survey-based indicators (when the
    # survey is simulated), to show how much the simulated survey decides
    without_survey: pd.DataFrame | None = None
    saturated: list[dict[str, Any]] = field(default_factory=list)  # see :func:`saturation`
    cache: dict[str, Any] = field(default_factory=dict, repr=False)  # derived tables
    in_data: int = 0  # units of this level in the data, of every membership

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

    @property
    def replications_run(self) -> int:
        """Replications the uncertainty analysis ran (0 without one)."""
        return self.uncertainty.replications if self.uncertainty is not None else 0

    @property
    def values_used(self) -> pd.DataFrame:
        """Indicator values after imputation (units × indicators)."""
        return self.pipeline.data.get("impute", self.pipeline.raw)[self.framework.indicators]


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
    previous: Previous | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    datum: str = ""
    geo: Any = None
    replications_asked: int = 0
    improvement_applies: bool = False  # whether the previous edition may move grades
    _inputs_sha256: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def year(self) -> int:
        return self.edition.year

    @property
    def previous_year(self) -> int | None:
        return self.previous.year if self.previous is not None else None

    @property
    def simulated_survey(self) -> bool:
        return bool(getattr(self.survey, "simulated", False))

    @property
    def survey_info(self) -> dict[str, Any]:
        """The survey this run used: none, the simulated demonstration (with its seed), or a
        real file (its path and SHA-256)."""
        return survey_provenance(self.survey)

    def inputs_sha256(self) -> str:
        """Hash of everything the results depend on: framework file, derived indicator
        values, survey responses, seed, replications, publication date, the previous edition
        (scores and values), the provenance of the data and the code (version and
        :func:`code_sha256`). Computed once per run (the run's folder name, manifest, JSON
        document and pages all quote it): a run is not changed after :func:`evaluate`."""
        if self._inputs_sha256 is None:
            self._inputs_sha256 = self._hash_inputs()
        return self._inputs_sha256

    def _hash_inputs(self) -> str:
        h = hashlib.sha256()
        h.update(self.framework.content)
        for level, res in sorted(self.levels.items()):
            h.update(level.encode())
            h.update(res.raw.to_csv(float_format="%.12g").encode())
        if self.survey is not None:
            h.update(self.survey.responses.to_csv(float_format="%.12g").encode())
        prev = self.previous
        h.update(json.dumps({"seed": self.seed, "replications": self.replications,
                             "publication_date": self.publication_date.isoformat(),
                             "previous": None if prev is None else {
                                 "year": prev.year,
                                 "scores": {k: v.round(10).to_dict() for k, v in
                                            sorted(prev.scores.items())},
                                 "values": {k: v.round(10).to_csv() for k, v in
                                            sorted(prev.values.items())}},
                             "provenance": self.provenance,
                             "version": cocity.__version__, "code": code_sha256()},
                            sort_keys=True, default=str).encode())
        return h.hexdigest()


def survey_provenance(survey: Any) -> dict[str, Any]:
    """What a run says of its survey: ``kind`` none / simulated / file, the source (the
    simulator's description with its seed, or the file's path), the file's SHA-256 and the
    number of respondents."""
    if survey is None:
        return {"kind": "none", "simulated": False, "source": None, "sha256": None,
                "respondents": 0}
    source = str(getattr(survey, "source", "") or "")
    simulated = bool(getattr(survey, "simulated", False))
    digest = None
    path = Path(source)
    if not simulated and source and path.is_file():
        from cocity.outputs import sha256_file

        digest = sha256_file(path)
    return {"kind": "simulated" if simulated else "file", "simulated": simulated,
            "source": source, "sha256": digest, "respondents": len(survey.responses)}


# ---------------------------------------------------------------------- helpers
def _evaluated_units(store: Store, level: str, membership: list[str]) -> pd.DataFrame:
    """The units of ``level`` with these memberships, indexed by code. A name several units
    share (市中区 in 内江 and in 乐山) always carries its prefecture: 市中区（内江市） /
    Shizhong District (Neijiang)."""
    every = store.units()
    u = every[(every["level"] == level) & every["membership"].isin(membership)].copy()
    names = every.set_index("code")
    same_level = every[every["level"] == level]
    for lang, fmt in (("zh", "{name}（{parent}）"), ("en", "{name} ({parent})")):
        col = f"name_{lang}"
        shared = set(same_level[col][same_level[col].duplicated(keep=False)])
        for i in u.index[u[col].isin(shared)]:
            parent = u.at[i, "parent"]
            if isinstance(parent, str) and parent in names.index:
                pname = str(names.at[parent, col])
                if lang == "en":
                    pname = pname.split(" ")[0]
                u.at[i, col] = fmt.format(name=u.at[i, col], parent=pname)
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
def _imputation_notes(units: pd.DataFrame, framework: Framework, pipe: Pipeline, level: str,
                      notes: list[Note]) -> None:
    imputed = pipe.imputed
    method = str(pipe.params.get("impute", {}).get("method", ""))
    for code in imputed.columns:
        who = list(imputed.index[imputed[code]])
        if not who:
            continue
        node = framework.nodes[code]
        more = len(who) - 12
        names = "、".join(str(units.at[u, "name_zh"]) for u in who[:12])
        names_en = ", ".join(str(units.at[u, "name_en"]) for u in who[:12])
        notes.append(Note("imputed", level,
                          t("eval.note.imputed", "zh", name=node.name_zh, n=len(who),
                            method=method,
                            units=names + (f" 等{len(who)}个" if more > 0 else "")),
                          t("eval.note.imputed", "en", name=node.name_en, n=len(who),
                            method=method,
                            units=names_en + (f" and {more} more" if more > 0 else ""))))


def _population_notes(ctx: Context, units: pd.DataFrame, level: str, method: str,
                      notes: list[Note]) -> None:
    """Name the evaluated units without a census population and say what that does."""
    pop = ctx.values("pop_total", "census")
    if pop is None:
        return
    if level == "prefecture":
        has = pd.Series({u: (pop.reindex(ctx.members(u)).notna().any()
                             if units.at[u, "membership"] == "partial" else pd.notna(pop.get(u)))
                         for u in units.index})
    else:
        has = pop.reindex(units.index).notna()
    who = list(units.index[~has.astype(bool)])
    if who:
        notes.append(Note("no_population", level, *(
            t("eval.note.no_population", lang, n=len(who), year=ctx.edition.data_year("census"),
              method=method, units=("、" if lang == "zh" else ", ").join(
                  str(units.at[u, f"name_{lang}"]) for u in who))
            for lang in ("zh", "en"))))


SATURATION_SHARE = 0.10


def saturation(scores: pd.DataFrame, framework: Framework, *, scale: float = 100.0,
               share: float = SATURATION_SHARE) -> list[dict[str, Any]]:
    """Dimensions and indicators whose score is at the top of the scale (≥ ``scale`` − 1e-9)
    for at least ``share`` of the units: ``{code, name_zh, name_en, n, of, dimension}``. Such
    a score does not discriminate among those units (e.g. a shortfall below the circle level
    is 0 — score 100 — for every unit at or above it); the report says so where it shows it."""
    out = []
    codes = list(framework.children(framework.root)) + list(framework.indicators)
    for code in codes:
        col = scores[code].dropna()
        n = int((col >= scale - 1e-9).sum())
        if len(col) and n >= share * len(col):
            node = framework.nodes[code]
            out.append({"code": code, "name_zh": node.name_zh, "name_en": node.name_en,
                        "n": n, "of": len(col), "dimension": node.level > 1})
    return out


def evaluate_level(ctx: Context, fw: EvalFramework, level: str, *, rules: grading.GradingRules,
                   replications: int, seed: int, previous: Previous | None,
                   improvement: bool, publication_date: dt.date, notes: list[Note],
                   progress: Progress | None = None,
                   execution: dict[str, Any] | None = None) -> LevelResult:
    """One level of a run: derive, build, compare, (uncertainty), grade, list.
    ``execution``: where the uncertainty replications run (``executor``, ``scheduler``,
    ``workers`` of :func:`cocity.index.uncertainty.run_uncertainty`; default serial)."""
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
    steps = _steps(fw)
    pipe = Pipeline(raw, framework)
    pipe.apply(copy.deepcopy(steps))
    _imputation_notes(units, framework, pipe, level, notes)
    _population_notes(ctx, units, level, str(pipe.params.get("impute", {}).get("method", "")),
                      notes)
    root = framework.root
    scores = pipe.scores[root]
    used = pipe.data.get("impute", pipe.raw)[framework.indicators]
    comparison = compare_editions(
        fw, level, current_values=used, current_scores=scores,
        previous_values=previous.values.get(level) if previous is not None else None,
        previous_scores=previous.scores.get(level) if previous is not None else None,
        steps=steps)
    change = comparison.change if improvement and comparison.comparable else None
    data_se = _sampling_errors(ctx, fw, framework, level, raw)
    unc: UncertaintyResult | None = None
    if replications > 0 and fw.doc.get("uncertainty"):
        uspec = UncertaintySpec.from_dict(fw.doc["uncertainty"])

        def tick(done: int, total: int) -> None:
            if progress:
                progress(f"uncertainty:{level}", done, total)

        unc = run_uncertainty(pipe, uspec, replications=replications, seed=seed,
                              progress=tick, sobol=True, data_se=data_se,
                              **(execution or {}))
    graded = grading.assign_grades(scores, rules=rules, change=change)
    graded["rank"] = pipe.ranks[root].reindex(graded.index)
    if unc is not None:
        # each replication's change follows its score: previous' = score − change
        prev_equiv = (scores - change) if change is not None else None
        gu = grading.grade_uncertainty(unc.scores, list(unc.units), rules=rules, nominal=graded,
                                       previous=prev_equiv, replicated_ranks=unc.ranks)
        graded = graded.join(gu.drop(columns=["grade"]))
        q = column_percentile(unc.scores, [5, 95])
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
    rewards = grading.reward_list(graded, unit_names, rules=rules)
    rect = grading.rectification_list(graded, unit_names, obstacles=obstacles,
                                      indicator_names=ind_names, rules=rules,
                                      publication_date=publication_date)
    est = survey_estimates(ctx, level)
    checks = None
    if ctx.survey is not None:
        checks = _checks(ctx, fw, level, units, notes)
    without = None
    survey_leaves = [c for c in framework.indicators
                     if fw.leaf(c)["measure"]["kind"] == "survey"]
    if ctx.survey is not None and getattr(ctx.survey, "simulated", False) and survey_leaves \
            and len(survey_leaves) < len(framework.indicators):
        alone = scores_without(fw, level, values=used, leave_out=survey_leaves, steps=steps)
        base = grading.assign_grades(alone, rules=rules)
        without = pd.DataFrame({"score": alone, "grade": base["grade"]})
    return LevelResult(level, framework, units, raw, left_out, pipe, unc, graded, obstacles,
                       rewards, rect, est, checks, data_se, comparison=comparison,
                       without_survey=without, saturated=saturation(pipe.scores, framework),
                       in_data=int((ctx.units["level"] == level).sum()))


def _checks(ctx: Context, fw: EvalFramework, level: str, units: pd.DataFrame,
            notes: list[Note]) -> pd.DataFrame:
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
    return checks


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
FEW_REPLICATIONS = 100


def evaluate(fw: EvalFramework, store: Store, *, year: int | None = None, survey: Any = None,
             replications: int | None = None, seed: int | None = None,
             previous: Previous | None = None, publication_date: dt.date | None = None,
             levels: list[str] | None = None, progress: Progress | None = None,
             adjust: Adjustments | None = None, executor: str | None = None,
             scheduler: str | None = None, workers: int = 1) -> Evaluation:
    """Evaluate ``year`` (default: the framework's) on ``store``.

    ``survey``: a :class:`cocity.evaluate.survey.Survey`; None → the framework's simulator
    (flagged simulated). ``previous``: the previous edition (:class:`Previous`) for the
    year-on-year change (on shared indicators, :mod:`cocity.evaluate.compare`) and, when it is
    at most ``improvement_max_years`` earlier, the improvement rule. ``replications``: 0 for a
    quick look without the uncertainty analysis. ``publication_date`` (default 30 June of the
    next year) anchors the rectification deadlines, so a run is reproducible. ``adjust``:
    changes to the derivation's inputs made in memory (:class:`~cocity.evaluate.derive.
    Adjustments`, what-if scenarios); the store is only read. ``executor``, ``scheduler``,
    ``workers``: where the uncertainty replications run (:func:`cocity.index.executors.choose`:
    ``serial``, ``processes`` or ``dask``); the results do not depend on it.
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
    execution = {"executor": choose(executor, scheduler=scheduler, workers=workers),
                 "scheduler": scheduler, "workers": workers}
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
    network = (workspace_spec(store) if fw.doc.get("network") in (None, "regional_chengyu")
               else load_network_spec(fw.doc["network"]))
    ctx = Context(store, edition, network, survey, adjust=adjust or Adjustments())
    gap = int(fw.doc.get("improvement_max_years", 1))
    improvement = previous is not None and year - previous.year <= gap
    if previous is not None and not improvement:
        # a distant edition is compared with, but does not move grades (see the framework)
        notes.append(Note("improvement", "all", *(t("eval.note.no_improvement", lang,
                                                    year=previous.year, gap=gap)
                                                  for lang in ("zh", "en"))))
    results: dict[str, LevelResult] = {}
    for level in levels or list(fw.doc["levels"]):
        if progress:
            progress(f"level:{level}", 0, 0)
        results[level] = evaluate_level(
            ctx, fw, level, rules=rules, replications=replications, seed=seed,
            previous=previous, improvement=improvement, publication_date=publication_date,
            notes=notes, progress=progress, execution=execution)
    _run_notes(fw, results, replications, previous, notes)
    geo = store.geodata()
    geo = geo[geo.geometry.notna() & ~geo.geometry.is_empty]
    used = sorted(ctx.used)
    prov = provenance(store, indicators=sorted({i for i, _ in used}),
                      years=sorted({y for _, y in used}))
    prov["survey"] = survey_provenance(survey)
    return Evaluation(fw, edition, results, survey, seed, replications, publication_date,
                      rules, notes, previous, prov, datum=str(geo.attrs.get("datum", "")),
                      geo=geo, replications_asked=replications, improvement_applies=improvement)


def _run_notes(fw: EvalFramework, results: dict[str, LevelResult], replications: int,
               previous: Previous | None, notes: list[Note]) -> None:
    """Notes on the replications that ran, the edition comparison and saturated scores."""
    ran = {lv: r.replications_run for lv, r in results.items()}
    if replications > 0 and any(ran.values()):
        n_run = max(ran.values())
        key = "eval.note.replications_few" if replications < FEW_REPLICATIONS else \
            "eval.note.replications"
        notes.append(Note("replications" if key.endswith("s") else "warning", "all", *(
            t(key, lang, asked=replications, ran=n_run, few=FEW_REPLICATIONS)
            for lang in ("zh", "en"))))
    elif replications == 0:
        notes.append(Note("replications", "all", t("eval.note.no_uncertainty", "zh"),
                          t("eval.note.no_uncertainty", "en")))
    for level, res in results.items():
        cmp = res.comparison
        if previous is not None and cmp.kind != "same":
            names = {lang: ("、" if lang == "zh" else ", ").join(
                str(fw.leaf(c)[f"name_{lang}"]) for c in cmp.current_only + cmp.previous_only)
                for lang in ("zh", "en")}
            notes.append(Note("comparison", level, *(
                t(f"eval.note.compare_{cmp.kind}", lang, year=previous.year,
                  shared=len(cmp.shared), left=names[lang] or "—")
                for lang in ("zh", "en"))))
        for item in res.saturated:
            notes.append(Note("saturated", level, *(
                t("eval.note.saturated", lang, name=item[f"name_{lang}"], n=item["n"],
                  of=item["of"]) for lang in ("zh", "en"))))
