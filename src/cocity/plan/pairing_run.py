"""结对帮扶 pairing on a store: the evaluation it reads, the benefit it builds, the three
solutions it compares (the edge of :mod:`cocity.plan.pairing`; the page is
:mod:`cocity.plan.pairing_report`).

**The evaluation.** The latest evaluation of the chosen level (default ``prefecture``, where
the text's cities are): computed in memory on the store with the default framework
(:func:`cocity.evaluate.run.evaluate`, no uncertainty replications), or read from a stored run
folder (``run``: its files checked against its ``manifest.json`` first; the dimension scores
from ``evaluation.json``, the normalised indicator values and obstacle degrees from
``tables/<level>_indicators.csv``, rounded there to 0.01 and 0.1). :class:`EvalView` holds what
the pairing uses.

**The benefit.** ``b_ij = Σ_d w_jd · max(0, s_id − s_jd)`` (:func:`cocity.plan.pairing.
benefit_matrix`), with ``s`` the dimension scores (0–100) of the evaluation and ``w_jd`` the
share of helped unit j's obstacle degree that lies in dimension d
(:func:`cocity.plan.pairing.dimension_weights`). When the evaluation's survey is simulated (the
embedded default), the indicators measured by the survey are left out of ``w`` and a dimension
made only of them (满意度 Satisfaction) drops out of the benefit, so that no simulated figure
decides a pairing; ``with_survey=True`` keeps them and flags the result simulated.

**Who.** Helpers: the two core cities (重庆 500100, 成都 510100), capacity 2 each, as the text
gives each of them two cities; or any units named, with one capacity for all or one each.
Helped units: the ``k`` lowest-scoring units of the evaluation (``k`` = total capacity, helpers
excluded), or any units named; each needs one helper. The travel times are those of
:func:`cocity.plan.region.load_region` at the same level (modelled road times; said so).

**The comparison.** (1) the optimum for the helpers and helped units asked; (2) the text's
proposal (重庆→泸州、达州; 成都→绵阳、南充, ``pairing_text.yaml``) scored on the same objective
(:func:`cocity.plan.pairing.evaluate_pairing`); (3) the optimum for the text's own helpers,
capacities and helped units — the like-for-like comparison with (2). For every pair, what it is
expected to fix (:func:`cocity.plan.pairing.expected_fixes`) and the form of help the text
names for those indicators (校校合作, 医联体, 馆馆联动; ``pairing_text.yaml``); where a unit
lies relative to the cores (``not_fixable`` there) is never listed as fixable by a pairing.
Evaluated units that are not on the regional network (no boundary) take no part and are named
in the notes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
import pydantic

from cocity.i18n import LANGS, current_lang, t
from cocity.plan.errors import PlanInputError
from cocity.plan.pairing import (
    TIME_WEIGHT,
    Pairing,
    PairingScore,
    benefit_matrix,
    dimension_weights,
    evaluate_pairing,
    expected_fixes,
    solve_pairing,
)
from cocity.spec import Spec, load_spec

if TYPE_CHECKING:
    from cocity.data.store import Store
    from cocity.evaluate.run import Evaluation
    from cocity.plan.region import Region

CORES = ("500100", "510100")
CAPACITY = 2
LEVEL = "prefecture"
TOP_FIXES = 3


# ---------------------------------------------------------------------- the text, as data
class Form(Spec):
    name_zh: str
    name_en: str
    indicators: list[str]


class PairingText(Spec):
    """``pairing_text.yaml``: the text's proposal (helpers with capacities, pairs) and the forms
    of help it names with the indicators each one addresses."""

    source_zh: str
    source_en: str
    level: str
    helpers: dict[str, int]
    pairs: list[tuple[str, str]]
    forms: dict[str, Form] = pydantic.Field(default_factory=dict)
    not_fixable: list[str] = pydantic.Field(default_factory=list)

    def form_of(self, indicator: str) -> Form | None:
        for form in self.forms.values():
            if indicator in form.indicators:
                return form
        return None


def load_text() -> PairingText:
    return load_spec(PairingText, package=__package__, default="pairing_text.yaml")


# ---------------------------------------------------------------------- the evaluation read
@dataclass(frozen=True)
class EvalView:
    """What the pairing reads of one level of an evaluation: ``units`` (index code: name_zh,
    name_en, score, rank), the dimensions (codes, names), ``dim_scores`` (units × dimensions),
    the indicators with their names, dimension and whether the survey measures them,
    ``values`` (normalised 0–100) and ``obstacles`` (%), both units × indicators, and where the
    evaluation came from (``source``: zh/en)."""

    level: str
    year: int
    units: pd.DataFrame
    dimensions: list[str]
    dim_names: dict[str, tuple[str, str]]
    dim_scores: pd.DataFrame
    indicators: list[str]
    ind_names: dict[str, tuple[str, str]]
    ind_dimension: dict[str, str]
    survey_indicators: frozenset[str]
    values: pd.DataFrame
    obstacles: pd.DataFrame
    simulated_survey: bool
    source: dict[str, str]
    run: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)


def view_of_evaluation(ev: Evaluation, level: str) -> EvalView:
    """The :class:`EvalView` of level ``level`` of an evaluation in memory."""
    if level not in ev.levels:
        raise PlanInputError(t("plan.pair.err.level_missing", level=level,
                               levels=", ".join(ev.levels)))
    res = ev.levels[level]
    fw = res.framework
    dims = res.dimensions()
    inds = list(fw.indicators)
    units = res.units[["name_zh", "name_en"]].copy()
    units["score"] = res.graded["score"].reindex(units.index).astype(float)
    units["rank"] = res.graded["rank"].reindex(units.index).astype(float)
    units.index = units.index.astype(str)
    survey = frozenset(c for c in inds if ev.framework.leaf(c)["measure"]["kind"] == "survey")

    def frame(x: pd.DataFrame) -> pd.DataFrame:
        out = x.copy()
        out.index = out.index.astype(str)
        return out

    return EvalView(
        level=level, year=ev.year, units=units, dimensions=dims,
        dim_names={d: (fw.nodes[d].name_zh, fw.nodes[d].name_en) for d in dims},
        dim_scores=frame(res.scores[dims]), indicators=inds,
        ind_names={c: (fw.nodes[c].name_zh, fw.nodes[c].name_en) for c in inds},
        ind_dimension={c: fw.ancestor(c, fw.n_levels - 1) for c in inds},
        survey_indicators=survey, values=frame(res.pipeline.data["normalise"][inds]),
        obstacles=frame(res.obstacles[inds]), simulated_survey=ev.simulated_survey,
        source={lang: t("plan.pair.source.computed", lang, year=ev.year) for lang in LANGS},
        provenance=ev.provenance)


def view_of_run(path: str | Path, level: str) -> EvalView:
    """The :class:`EvalView` of level ``level`` of a stored run folder (``cocity evaluate``'s
    ``runs/<id>``), its files first checked against its manifest."""
    from cocity.evaluate.tables import read_table
    from cocity.outputs import verify_outputs

    folder = Path(path)
    try:
        man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if not isinstance(man, dict) or man.get("kind") != "cocity evaluate":
            raise ValueError("not an evaluation run")
        problems = verify_outputs(man, folder)
        if problems:
            raise PlanInputError(t("plan.pair.err.run_edited", path=str(folder), files=", ".join(
                f"{f} ({p})" for f, p in problems)))
        doc = json.loads((folder / man["outputs"]["json"]["file"]).read_text(encoding="utf-8"))
        levels = {str(lv["level"]): lv for lv in doc["levels"]}
        if level not in levels:
            raise PlanInputError(t("plan.pair.err.level_missing", level=level,
                                   levels=", ".join(levels)))
        lv = levels[level]
        long = read_table(folder / man["outputs"][f"csv:{level}_indicators"]["file"])
    except PlanInputError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise PlanInputError(t("plan.pair.err.run_unreadable", path=str(folder),
                               error=str(exc))) from None
    ranking = pd.DataFrame(lv["ranking"])
    ranking["unit"] = ranking["unit"].astype(str)
    ranking = ranking.set_index("unit")
    fw = pd.DataFrame(lv["framework"])
    inds = [str(c) for c in fw["indicator"]]
    dims = list(dict.fromkeys(str(d) for d in fw["dimension"]))
    dim_zh = dict(zip(fw["dimension"], fw["dimension_zh"], strict=True))
    long["unit"] = long["unit"].astype(str)
    values = long.pivot(index="unit", columns="indicator", values="normalised")
    obstacles = long.pivot(index="unit", columns="indicator", values="obstacle_pct")
    order = list(dict.fromkeys(long["unit"]))  # the evaluation's order of units
    units = ranking.reindex([c for c in order if c in ranking.index] + [
        c for c in ranking.index if c not in order])[["name_zh", "name_en", "score", "rank"]]
    units["score"] = units["score"].astype(float)
    units["rank"] = units["rank"].astype(float)
    return EvalView(
        level=level, year=int(doc["year"]), units=units, dimensions=dims,
        dim_names={d: (str(dim_zh[d]), d) for d in dims},
        dim_scores=ranking.loc[units.index, [f"score_{d}" for d in dims]].set_axis(
            dims, axis=1).astype(float),
        indicators=inds,
        ind_names={str(r["indicator"]): (str(r["name_zh"]), str(r["name_en"]))
                   for r in lv["framework"]},
        ind_dimension={str(r["indicator"]): str(r["dimension"]) for r in lv["framework"]},
        survey_indicators=frozenset(str(r["indicator"]) for r in lv["framework"]
                                    if r.get("measure") == "survey"),
        values=values.reindex(index=units.index, columns=inds).astype(float),
        obstacles=obstacles.reindex(index=units.index, columns=inds).astype(float),
        simulated_survey=bool(doc.get("simulated_survey")),
        source={lang: t("plan.pair.source.run", lang, run=str(man.get("run", folder.name)),
                        path=str(folder)) for lang in LANGS},
        run=str(man.get("run", folder.name)), provenance=dict(man.get("provenance") or {}))


def evaluation_view(store: Store, *, level: str = LEVEL, year: int | None = None,
                    run: str | Path | None = None) -> EvalView:
    """The evaluation the pairing follows: the stored ``run`` when given, else computed now
    on ``store`` with the default framework (``year``: its evaluation year by default)."""
    if run is not None:
        return view_of_run(run, level)
    from cocity.evaluate.framework import load_framework
    from cocity.evaluate.run import evaluate

    fw = load_framework()
    if level not in fw.doc["levels"]:
        raise PlanInputError(t("plan.pair.err.level_missing", level=level,
                               levels=", ".join(fw.doc["levels"])))
    ev = evaluate(fw, store, year=year, replications=0, levels=[level])
    return view_of_evaluation(ev, level)


# ---------------------------------------------------------------------- the run
@dataclass(frozen=True)
class Solution:
    """One assignment with its frame of pairs (helper, helped, benefit, minutes, net value,
    fixes and forms); ``score`` when it was given rather than solved."""

    key: str
    pairing: Pairing
    helpers: list[str]
    helped: list[str]
    capacity: np.ndarray
    pairs: pd.DataFrame
    score: PairingScore | None = None


@dataclass(frozen=True)
class PairingRun:
    """The result of :func:`run_pairing`: the evaluation read, the region, the benefit terms
    (``benefit``, ``minutes`` over every candidate helper × helped unit; ``weights`` per
    helped unit and dimension), the optimum, the text's proposal and the optimum on the text's
    own set (both None when the level is not the text's), and the notes."""

    view: EvalView
    region: Region
    time_weight: float
    with_survey: bool
    dimensions: list[str]
    weights: pd.DataFrame
    benefit: pd.DataFrame
    minutes: pd.DataFrame
    optimum: Solution
    text: Solution | None
    text_optimum: Solution | None
    helped_default: bool
    notes: list[tuple[str, str]]
    text_spec: PairingText

    @property
    def simulated(self) -> bool:
        return self.with_survey and self.view.simulated_survey


def _codes(store: Store, names: Sequence[str], level: str, view: EvalView,
           what: str) -> list[str]:
    from cocity.plan.region import resolve_units

    codes = resolve_units(store, list(names), level=level)
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise PlanInputError(t("plan.pair.err.duplicate", what=t(f"plan.pair.what.{what}"),
                               units=", ".join(dup)))
    missing = [c for c in codes if c not in view.units.index]
    if missing:
        raise PlanInputError(t("plan.pair.err.not_evaluated", what=t(f"plan.pair.what.{what}"),
                               units=", ".join(missing), year=view.year, level=view.level))
    return codes


def _capacity(capacity: Sequence[int] | int | None, helpers: list[str]) -> np.ndarray:
    if capacity is None:
        return np.full(len(helpers), CAPACITY, dtype=int)
    caps = [capacity] if isinstance(capacity, int) else list(capacity)
    if len(caps) == 1:
        caps = caps * len(helpers)
    if len(caps) != len(helpers):
        raise PlanInputError(t("plan.pair.err.capacity_count", given=len(caps),
                               helpers=len(helpers)))
    bad = [str(c) for c in caps if int(c) != c or c < 0]
    if bad:
        raise PlanInputError(t("plan.pair.err.capacity_value", values=", ".join(bad)))
    return np.array([int(c) for c in caps], dtype=int)


def _fixes(view: EvalView, text: PairingText, helper: str, helped: str,
           used: list[str]) -> dict[str, str]:
    used = [c for c in used if c not in text.not_fixable]
    found = expected_fixes(view.values.loc[helper, used].to_numpy(float),
                           view.values.loc[helped, used].to_numpy(float),
                           view.obstacles.loc[helped, used].to_numpy(float), top=TOP_FIXES)
    codes = [used[k] for k, _ in found]
    forms = [f for f in (text.form_of(c) for c in codes) if f is not None]
    forms = list({f.name_zh: f for f in forms}.values())
    return {
        "fixes": ", ".join(codes),
        "fixes_zh": "；".join(view.ind_names[c][0] for c in codes) or "—",
        "fixes_en": "; ".join(view.ind_names[c][1] for c in codes) or "—",
        "forms_zh": "、".join(f.name_zh for f in forms) or "—",
        "forms_en": ", ".join(f.name_en for f in forms) or "—",
    }


def _f(frame: pd.DataFrame, row: str, col: str) -> float:
    return float(cast(Any, frame.at[row, col]))


def _str(frame: pd.DataFrame, row: str, col: str) -> str:
    return str(frame.at[row, col])


def _solution(key: str, pairing: Pairing, helpers: list[str], helped: list[str],
              capacity: np.ndarray, run_parts: dict[str, Any],
              score: PairingScore | None = None) -> Solution:
    view: EvalView = run_parts["view"]
    rows = []
    for i, j in pairing.pairs:
        h, u = helpers[i], helped[j]
        b = _f(run_parts["benefit"], h, u)
        m = _f(run_parts["minutes"], h, u)
        rows.append({
            "helper": h, "helper_zh": view.units.at[h, "name_zh"],
            "helper_en": view.units.at[h, "name_en"], "helped": u,
            "helped_zh": view.units.at[u, "name_zh"], "helped_en": view.units.at[u, "name_en"],
            "helped_score": round(_f(view.units, u, "score"), 2),
            "benefit": round(b, 3), "minutes": round(m, 1),
            "value": round(b - pairing.time_weight * m / 60.0, 3),
            **_fixes(view, run_parts["text"], h, u, run_parts["used"]),
        })
    return Solution(key, pairing, helpers, helped, capacity, pd.DataFrame(rows), score)


def run_pairing(store: Store, *, helpers: Sequence[str] | None = None,
                helped: Sequence[str] | None = None,
                capacity: Sequence[int] | int | None = None, level: str = LEVEL,
                year: int | None = None, run: str | Path | None = None,
                time_weight: float = TIME_WEIGHT, with_survey: bool = False,
                evaluation: Evaluation | EvalView | None = None) -> PairingRun:
    """The pairing of the module docstring on ``store``; every bad name, capacity or
    infeasible request is a :class:`~cocity.plan.errors.PlanInputError` raised before
    anything is written. ``evaluation``: an evaluation already at hand (an
    :class:`~cocity.evaluate.run.Evaluation` or an :class:`EvalView`) instead of ``run`` or
    computing one."""
    from cocity.plan.region import load_region

    if not np.isfinite(time_weight) or time_weight < 0:
        raise PlanInputError(t("plan.pair.err.time_weight", value=time_weight))
    text = load_text()
    if isinstance(evaluation, EvalView):
        view = evaluation
    elif evaluation is not None:
        view = view_of_evaluation(evaluation, level)
    else:
        view = evaluation_view(store, level=level, year=year, run=run)
    level = view.level
    notes: list[tuple[str, str]] = []
    region = load_region(store, level=level, year=None)
    off = [c for c in view.units.index if c not in region.units.index]
    if off:
        listed = {lang: ("、" if lang == "zh" else ", ").join(
            f"{_str(view.units, c, f'name_{lang}')} {c}" for c in off) for lang in LANGS}
        notes.append((t("plan.pair.note.off_network", "zh", units=listed["zh"]),
                      t("plan.pair.note.off_network", "en", units=listed["en"])))
    if helpers:
        helper_codes = _codes(store, helpers, level, view, "helpers")
    else:
        # the text's cores where they are evaluated, else the workspace's core cities (a
        # cluster workspace marks them with tier ``core``)
        helper_codes = [c for c in CORES if c in view.units.index] if level == text.level \
            else []
        if not helper_codes:
            units = store.units(level=level)
            helper_codes = [str(c) for c in units.loc[units["tier"] == "core", "code"]
                            if str(c) in view.units.index]
        if not helper_codes:
            raise PlanInputError(t("plan.pair.err.helpers_needed", level=level))
    caps = _capacity(capacity, helper_codes)
    if helped:
        helped_codes = _codes(store, helped, level, view, "helped")
        both = sorted(set(helped_codes) & set(helper_codes))
        if both:
            raise PlanInputError(t("plan.pair.err.both_sides", units=", ".join(both)))
    else:
        k = int(caps.sum())
        rest = view.units.drop(index=helper_codes + off).sort_values(["score"], kind="stable")
        helped_codes = [str(c) for c in rest.index[:k]]
        notes.append((t("plan.pair.note.weakest", "zh", k=len(helped_codes)),
                      t("plan.pair.note.weakest", "en", k=len(helped_codes))))
    region.positions(helper_codes + helped_codes)  # a named unit off the network is refused
    # the benefit terms
    used = [c for c in view.indicators
            if with_survey or not view.simulated_survey or c not in view.survey_indicators]
    dims = [d for d in view.dimensions if any(view.ind_dimension[c] == d for c in used)]
    if view.simulated_survey and not with_survey:
        dropped = [d for d in view.dimensions if d not in dims]
        listed = {lang: ("、" if lang == "zh" else ", ").join(
            view.dim_names[d][0 if lang == "zh" else 1] for d in dropped) or "—"
            for lang in LANGS}
        notes.append((t("plan.pair.note.no_survey", "zh", dims=listed["zh"]),
                      t("plan.pair.note.no_survey", "en", dims=listed["en"])))
    elif view.simulated_survey:
        notes.append((t("plan.pair.note.with_survey", "zh"), t("plan.pair.note.with_survey",
                                                                "en")))
    codes = [c for c in view.units.index if c not in off]
    obst = view.obstacles.reindex(index=codes, columns=used).to_numpy(float)
    w = dimension_weights(obst, [dims.index(view.ind_dimension[c]) for c in used], len(dims))
    s = view.dim_scores.reindex(index=codes, columns=dims).to_numpy(float)
    if not np.isfinite(s).all():
        bad = [codes[i] for i in np.flatnonzero(~np.isfinite(s).all(axis=1))]
        raise PlanInputError(t("plan.pair.err.no_scores", units=", ".join(bad)))
    benefit = pd.DataFrame(benefit_matrix(s, s, w), index=codes, columns=codes)
    weights = pd.DataFrame(w, index=codes, columns=dims)
    minutes = pd.DataFrame(region.times(codes, codes), index=codes, columns=codes)
    parts = {"view": view, "benefit": benefit, "minutes": minutes, "text": text, "used": used}

    def names(hs: list[str], us: list[str]) -> tuple[list[str], list[str]]:
        lang_col = "name_zh" if current_lang() == "zh" else "name_en"
        return ([str(view.units.at[c, lang_col]) for c in hs],
                [str(view.units.at[c, lang_col]) for c in us])

    def solve(key: str, hs: list[str], us: list[str], cap: np.ndarray) -> Solution:
        allowed = np.array([[h != u for u in us] for h in hs], dtype=bool)
        p = solve_pairing(benefit.loc[hs, us].to_numpy(), minutes.loc[hs, us].to_numpy(),
                          capacity=cap, need=1, time_weight=time_weight, allowed=allowed,
                          names=names(hs, us))
        return _solution(key, p, hs, us, cap, parts)

    optimum = solve("optimum", helper_codes, helped_codes, caps)
    text_sol = text_opt = None
    if level == text.level and all(c in view.units.index for c in text.helpers) and all(
            u in view.units.index for _, u in text.pairs):
        th = list(text.helpers)
        tu = list(dict.fromkeys(u for _, u in text.pairs))
        tcap = np.array([text.helpers[h] for h in th], dtype=int)
        idx = [(th.index(h), tu.index(u)) for h, u in text.pairs]
        score = evaluate_pairing(benefit.loc[th, tu].to_numpy(), minutes.loc[th, tu].to_numpy(),
                                 idx, capacity=tcap, need=1, time_weight=time_weight,
                                 names=names(th, tu))
        text_sol = _solution("text", score.pairing, th, tu, tcap, parts, score)
        text_opt = solve("text_optimum", th, tu, tcap)
    else:
        notes.append((t("plan.pair.note.no_text", "zh", level=t(f"plan.region.level.{level}",
                                                                 "zh")),
                      t("plan.pair.note.no_text", "en", level=t(f"plan.region.level.{level}",
                                                                 "en"))))
    notes.append((region.note("zh"), region.note("en")))
    return PairingRun(view=view, region=region, time_weight=float(time_weight),
                      with_survey=with_survey, dimensions=dims, weights=weights,
                      benefit=benefit, minutes=minutes, optimum=optimum, text=text_sol,
                      text_optimum=text_opt, helped_default=not helped, notes=notes,
                      text_spec=text)
