"""The grades, scores and rectification list of one level of an evaluation run, as the
allocation reads them — from an :class:`~cocity.evaluate.run.Evaluation` in memory, a stored
run (its folder, its :class:`~cocity.evaluate.runs.RunRecord`, or its ``evaluation.json``) or
the JSON document as a mapping.

A stored run's files are first checked against its ``manifest.json`` when there is one (an
edited or missing file is refused, as :func:`cocity.evaluate.runs.previous_run` does). The run
is identified as :func:`cocity.evaluate.runs.run_id` does: ``<year>-<first 12 hex digits of
the inputs hash>``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cocity.data.errors import Issue
from cocity.fund.rules import AllocationError
from cocity.i18n import t

RUN_JSON = "evaluation.json"


@dataclass(frozen=True)
class Rectify:
    """A unit on the rectification list: its named obstacles (evaluation indicator codes, with
    names) and its deadline."""

    unit: str
    obstacles: tuple[str, ...]
    names_zh: tuple[str, ...]
    names_en: tuple[str, ...]
    deadline: str


@dataclass(frozen=True)
class RunGrades:
    """One level of an evaluation run: ``grades`` and ``scores`` by unit code, the
    rectification list, the grade names and whether the run used a simulated survey."""

    run: str
    year: int
    level: str
    grades: pd.Series
    scores: pd.Series
    rectification: dict[str, Rectify]
    labels: dict[str, dict[str, str]]
    simulated_survey: bool
    source: str
    publication_date: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def label(self, grade: str, lang: str) -> str:
        return self.labels.get(grade, {}).get(lang, grade)


def _err(key: str, source: str, **fmt: object) -> AllocationError:
    return AllocationError([Issue(t("fund.alloc.err." + key, None, **fmt), source)])


def _rectify(rec: Mapping[str, Any]) -> Rectify:
    k = 1
    ids, zh, en = [], [], []
    while f"obstacle_{k}" in rec:
        code = rec.get(f"obstacle_{k}")
        if isinstance(code, str) and code:
            ids.append(code)
            zh.append(str(rec.get(f"obstacle_{k}_name_zh") or code))
            en.append(str(rec.get(f"obstacle_{k}_name_en") or code))
        k += 1
    return Rectify(str(rec["unit"]), tuple(ids), tuple(zh), tuple(en),
                   str(rec.get("deadline") or ""))


def from_document(doc: Mapping[str, Any], *, level: str, source: str = "<evaluation>"
                  ) -> RunGrades:
    """The grades of ``level`` from an evaluation JSON document (``evaluation.json``)."""
    if not isinstance(doc, Mapping) or doc.get("kind") != "cocity evaluation":
        raise _err("not_evaluation", source)
    levels = {str(lv.get("level")): lv for lv in doc.get("levels", [])
              if isinstance(lv, Mapping)}
    if level not in levels:
        raise _err("run_level", source, level=level, levels=", ".join(levels) or "—")
    lv = levels[level]
    try:
        ranking = list(lv["ranking"])
        grades = pd.Series({str(r["unit"]): str(r["grade"]) for r in ranking}, dtype=object)
        scores = pd.Series({str(r["unit"]): float(r["score"]) for r in ranking}, dtype=float)
        rect = {str(r["unit"]): _rectify(r) for r in lv.get("rectification", [])}
        year = int(doc["year"])
        run = f"{year}-{str(doc['inputs_sha256'])[:12]}"
    except (KeyError, TypeError, ValueError) as exc:
        raise _err("run_fields", source, error=str(exc)) from None
    labels = {str(k): {"zh": str(v.get("zh", k)), "en": str(v.get("en", k))}
              for k, v in (doc.get("grade_labels") or {}).items()}
    return RunGrades(run, year, level, grades, scores, rect, labels,
                     bool(doc.get("simulated_survey")), source,
                     str(doc.get("publication_date") or ""))


def from_evaluation(ev: Any, *, level: str) -> RunGrades:
    """The grades of ``level`` from an :class:`~cocity.evaluate.run.Evaluation`."""
    from cocity.evaluate.runs import run_id

    if level not in ev.levels:
        raise _err("run_level", "Evaluation", level=level, levels=", ".join(ev.levels))
    res = ev.levels[level]
    g = res.graded
    rect = {str(r["unit"]): _rectify(r) for r in res.rectification.to_dict("records")}
    labels = {c: {lg: ev.rules.label(c, lg) for lg in ("zh", "en")} for c in ev.rules.codes}
    rid = run_id(ev)
    return RunGrades(rid, int(ev.year), level, g["grade"].astype(str).rename(None),
                     g["score"].astype(float).rename(None), rect, labels,
                     bool(ev.simulated_survey), f"Evaluation {rid}",
                     ev.publication_date.isoformat())


def _read_folder(folder: Path, manifest: Mapping[str, Any] | None) -> tuple[Any, str]:
    from cocity.outputs import verify_outputs

    if manifest is not None:
        problems = verify_outputs(manifest, folder)
        if problems:
            raise _err("run_edited", str(folder), files=", ".join(f for f, _ in problems))
        outputs = manifest.get("outputs", {})
        name = outputs.get("json", {}).get("file", RUN_JSON)
    else:
        name = RUN_JSON
    return _read_json(folder / name), str(folder / name)


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise _err("run_missing", str(path))
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _err("run_unreadable", str(path), error=str(exc)) from None


def run_grades(source: Any, *, level: str) -> RunGrades:
    """The grades of ``level`` of a run given as an ``Evaluation``, a ``RunRecord``, a run
    folder, an ``evaluation.json`` path or the document as a mapping (see the module
    docstring); a :class:`RunGrades` is returned as it is."""
    if isinstance(source, RunGrades):
        if source.level != level:
            raise _err("run_level", source.source, level=level, levels=source.level)
        return source
    if isinstance(source, Mapping):
        return from_document(source, level=level)
    if hasattr(source, "levels") and hasattr(source, "rules"):
        return from_evaluation(source, level=level)
    if hasattr(source, "manifest") and hasattr(source, "path"):
        doc, where = _read_folder(Path(source.path), source.manifest)
        return from_document(doc, level=level, source=where)
    path = Path(source)
    if path.is_dir():
        manifest_path = path / "manifest.json"
        manifest = _read_json(manifest_path) if manifest_path.is_file() else None
        doc, where = _read_folder(path, manifest)
        return from_document(doc, level=level, source=where)
    return from_document(_read_json(path), level=level, source=str(path))
