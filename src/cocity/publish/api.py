"""The JSON documents of the published editions — the static site's ``api/v1`` endpoints and
the portal's JSON API say the same because both call these pure functions.

Every document says which edition (year, signature) and which run it comes from, who evaluated
it, and flags what is simulated (``simulated.survey``: the satisfaction dimension rests on the
simulated demonstration survey). Scores keep the full precision of the run's
``evaluation.json``; nothing is recomputed here — the figures are the run's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from cocity.publish.editions import Edition
from cocity.publish.sources import Published

API_VERSION = "v1"
RANKING_FIELDS = ("unit", "name_zh", "name_en", "parent", "score", "score_low", "score_high",
                  "rank", "rank_low", "rank_high", "grade", "base_grade", "grade_low",
                  "grade_high", "uncertain", "reason_zh", "reason_en", "previous_score",
                  "score_change", "score_without_survey", "grade_without_survey")


def _source(pub: Published) -> dict[str, Any]:
    doc = pub.document
    return {"edition": pub.edition.public(), "year": pub.year, "run": pub.edition.run_id,
            "evaluator": pub.edition.evaluator,
            "framework": {k: doc["framework"].get(k) for k in
                          ("source", "sha256", "name_zh", "name_en")},
            "simulated": simulated(pub)}


def simulated(pub: Published) -> dict[str, Any]:
    """What in the edition is simulated: the survey, and the notes that say so."""
    doc = pub.document
    return {"survey": bool(doc.get("simulated_survey")),
            "notes": [{"zh": n["zh"], "en": n["en"]} for n in doc.get("notes", [])
                      if n.get("kind") == "simulated"]}


def _superseded(pub: Published, history: Iterable[Edition]) -> list[dict[str, Any]]:
    return [e.public() for e in history
            if e.year == pub.year and e.id != pub.edition.id and e.id < pub.edition.id]


def editions_index(published: Sequence[Published], *, history: Iterable[Edition] = ()
                   ) -> dict[str, Any]:
    """The editions in force, oldest first, each with its signature, framework, whether its
    survey is simulated, the signatures it superseded and the path of its document."""
    history = list(history)
    return {"kind": "cocity editions", "api": API_VERSION, "editions": [
        {**_source(p), "publication_date": p.document.get("publication_date"),
         "levels": [{"level": lv["level"], "name_zh": lv["name_zh"], "name_en": lv["name_en"],
                     "units": lv["units"], "grade_counts": lv["grade_counts"]}
                    for lv in p.document["levels"]],
         "superseded": _superseded(p, history),
         "document": f"api/{API_VERSION}/editions/{p.year}.json"} for p in published]}


def _obstacle_list(pub: Published, level: str, unit: str) -> list[dict[str, Any]]:
    names = {r["indicator"]: r for lv in pub.document["levels"] if lv["level"] == level
             for r in lv.get("framework", [])}
    return [{"indicator": ind, "name_zh": names.get(ind, {}).get("name_zh", ind),
             "name_en": names.get(ind, {}).get("name_en", ind), "obstacle_pct": pct}
            for ind, pct in pub.obstacles.get(level, {}).get(unit, [])]


def _rectification(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        obstacles = [{"indicator": r[f"obstacle_{i}"], "name_zh": r.get(f"obstacle_{i}_name_zh"),
                      "name_en": r.get(f"obstacle_{i}_name_en"),
                      "obstacle_pct": r.get(f"obstacle_{i}_pct")}
                     for i in (1, 2, 3) if r.get(f"obstacle_{i}")]
        out.append({"unit": r["unit"], "name_zh": r["name_zh"], "name_en": r["name_en"],
                    "parent": r.get("parent"), "score": r.get("score"), "rank": r.get("rank"),
                    "rank_low": r.get("rank_low"), "rank_high": r.get("rank_high"),
                    "change": r.get("change"), "obstacles": obstacles,
                    "publication_date": r.get("publication_date"),
                    "deadline": r.get("deadline")})
    return out


def _rewards(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: r.get(k) for k in ("unit", "name_zh", "name_en", "parent", "score", "rank",
                                   "rank_low", "rank_high", "change")} for r in rows]


def edition_document(pub: Published, *, history: Iterable[Edition] = ()) -> dict[str, Any]:
    """One edition: per level its ranking (score, rank and whole-rank interval, grade and its
    interval, uncertain flag, dimension scores, like-for-like change), grade counts, reward and
    rectification lists (obstacles, deadline) and indicators with weights; the provenance and
    notes of the run; the signatures this one superseded."""
    doc = pub.document
    levels = []
    for lv in doc["levels"]:
        dims = sorted({k for r in lv["ranking"] for k in r if k.startswith("score_")
                       and k[6:].isupper()})
        ranking = [{**{k: r.get(k) for k in RANKING_FIELDS}, "dimensions": {
            d[6:]: r.get(d) for d in dims}} for r in lv["ranking"]]
        levels.append({
            "level": lv["level"], "name_zh": lv["name_zh"], "name_en": lv["name_en"],
            "units": lv["units"], "membership": lv.get("membership"),
            "grade_counts": lv["grade_counts"],
            "grade_counts_without_survey": lv.get("grade_counts_without_survey"),
            "replications": lv.get("replications"), "uncertain": lv.get("uncertain"),
            "ranking": ranking, "rewards": _rewards(lv.get("rewards", [])),
            "rectification": _rectification(lv.get("rectification", [])),
            "indicators": lv.get("framework", []), "comparison": lv.get("comparison")})
    return {"kind": "cocity edition", "api": API_VERSION, **_source(pub),
            "superseded": _superseded(pub, history),
            "publication_date": doc.get("publication_date"), "edition_sources": doc["edition"],
            "previous_year": doc.get("previous_year"), "grade_labels": doc["grade_labels"],
            "grading": doc.get("grading"), "replications": doc.get("replications"),
            "provenance": doc.get("provenance"), "notes": doc.get("notes", []),
            "levels": levels}


def _unit_rows(pub: Published, code: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(lv, r) for lv in pub.document["levels"] for r in lv["ranking"]
            if r["unit"] == code]


def unit_document(code: str, published: Sequence[Published]) -> dict[str, Any] | None:
    """One unit across the editions in force (oldest first): per edition and level its score,
    rank and interval, grade, whether it is on the reward or rectification list (with the
    list's obstacles and deadline), and its largest obstacle degrees; ``None`` when no edition
    evaluated the unit."""
    history = []
    names: dict[str, Any] = {}
    for pub in published:
        for lv, r in _unit_rows(pub, code):
            names = {"name_zh": r["name_zh"], "name_en": r["name_en"], "parent": r.get("parent"),
                     "level": lv["level"]}
            rect = [x for x in _rectification(lv.get("rectification", [])) if x["unit"] == code]
            history.append({
                "year": pub.year, "run": pub.edition.run_id, "evaluator": pub.edition.evaluator,
                "signed_at": pub.edition.signed_at, "level": lv["level"],
                "level_zh": lv["name_zh"], "level_en": lv["name_en"],
                **{f"grade_{lg}": pub.document["grade_labels"].get(r.get("grade"), {}).get(lg)
                   for lg in ("zh", "en")},
                "units": lv["units"], **{k: r.get(k) for k in RANKING_FIELDS if k not in (
                    "unit", "name_zh", "name_en", "parent")},
                "reward": any(x["unit"] == code for x in lv.get("rewards", [])),
                "rectification": rect[0] if rect else None,
                "obstacles": _obstacle_list(pub, lv["level"], code),
                "simulated": simulated(pub),
                "document": f"api/{API_VERSION}/editions/{pub.year}.json"})
    if not history:
        return None
    return {"kind": "cocity unit", "api": API_VERSION, "unit": code, **names,
            "editions": [p.year for p in published if _unit_rows(p, code)],
            "history": history}


def unit_codes(published: Sequence[Published]) -> list[str]:
    """Every unit evaluated by an edition in force, by code."""
    return sorted({r["unit"] for p in published for lv in p.document["levels"]
                   for r in lv["ranking"]})


def units_index(published: Sequence[Published]) -> dict[str, Any]:
    """Every evaluated unit (code, names, level, parent, the years evaluated, its grade in the
    newest edition) — the search box's index."""
    units: dict[str, dict[str, Any]] = {}
    for pub in published:
        for lv in pub.document["levels"]:
            for r in lv["ranking"]:
                u = units.setdefault(r["unit"], {"unit": r["unit"], "years": []})
                u.update({"name_zh": r["name_zh"], "name_en": r["name_en"],
                          "parent": r.get("parent"), "level": lv["level"],
                          "grade": r.get("grade"), "year": pub.year})
                if pub.year not in u["years"]:
                    u["years"].append(pub.year)
    return {"kind": "cocity units", "api": API_VERSION,
            "units": [units[c] for c in sorted(units)]}
