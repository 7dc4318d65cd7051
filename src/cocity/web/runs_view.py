"""The evaluation runs as the portal shows them: each stored run folder (``runs_root``, as
``cocity evaluate --out`` writes it) with its status — ``draft`` (nobody signed it),
``signed`` (signed, but a later signature of its year is in force) or ``in_force`` (the
latest signature of its year) — and the summary of its ``evaluation.json``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cocity.records import Records

RUN_ID = re.compile(r"^\d{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class RunRow:
    id: str
    year: int
    path: Path
    created: str
    replications: int
    status: str  # draft | signed | in_force
    signatures: tuple[Any, ...]


def run_rows(records: Records, runs_root: Path) -> list[RunRow]:
    """Every stored run, newest first, with its status."""
    from cocity.evaluate.runs import registry
    from cocity.publish.editions import edition_history

    history = edition_history(records)
    in_force: dict[int, str] = {}
    for ed in history:
        in_force[ed.year] = ed.run_id
    rows = []
    for rec in registry(runs_root):
        sigs = tuple(ed for ed in history if ed.run_id == rec.id)
        status = ("in_force" if in_force.get(rec.year) == rec.id
                  else "signed" if sigs else "draft")
        reps = rec.manifest.get("config", {}).get("replications", {}).get("asked")
        rows.append(RunRow(id=rec.id, year=rec.year, path=rec.path,
                           created=str(rec.manifest.get("created_utc", "")),
                           replications=int(reps or 0), status=status, signatures=sigs))
    return sorted(rows, key=lambda r: r.created, reverse=True)


def find_run(records: Records, runs_root: Path, run_id: str) -> RunRow | None:
    """The stored run ``run_id`` (``None`` for an unknown or malformed id: the id is never
    used as a path)."""
    if not RUN_ID.match(run_id):
        return None
    return next((r for r in run_rows(records, runs_root) if r.id == run_id), None)


def summary(row: RunRow, lang: str) -> list[dict[str, Any]]:
    """Per level: its name, units evaluated, and units by grade (labels in ``lang``)."""
    doc = json.loads((row.path / "evaluation.json").read_text(encoding="utf-8"))
    labels = doc.get("grade_labels", {})
    out = []
    for lv in doc.get("levels", []):
        counts = lv.get("grade_counts", {})
        out.append({"name": lv.get(f"name_{lang}", ""), "units": lv.get("units", 0),
                    "grades": [(labels[g][lang], counts.get(g, 0)) for g in labels],
                    "top": [u.get(f"name_{lang}", "") for u in lv.get("top", [])[:3]]})
    return out
