"""Versioned annual runs: each run is one immutable folder under ``<root>/runs/``, named
``<year>-<first 12 hex digits of the inputs hash>``, holding the result tables, the workbook,
the JSON document, the report (HTML, PDF) and ``manifest.json`` (inputs hash, framework hash,
seed, replications, code and library versions, and the SHA-256 of every output).

A run folder is written into a temporary folder and renamed when complete, and never changed
afterwards. Asking for a run whose inputs hash already exists re-computes it and checks that the
results (every CSV table and the JSON document) are byte-identical to the stored ones: the run
is *reproduced*, and the stored folder is kept. Different results for the same inputs raise
:class:`EvaluationError` (this would be a reproducibility bug).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cocity.evaluate.errors import EvaluationError
from cocity.evaluate.run import Evaluation, code_sha256
from cocity.i18n import t
from cocity.outputs import dumps, sha256_file, versions

Writer = Callable[[Evaluation, Path], dict[str, Path]]
CHECKED = (".csv", ".json")  # outputs whose bytes must reproduce exactly
MANIFEST = "manifest.json"


def run_id(ev: Evaluation) -> str:
    return f"{ev.year}-{ev.inputs_sha256()[:12]}"


@dataclass(frozen=True)
class RunRecord:
    """A run folder as registered."""

    id: str
    year: int
    path: Path
    manifest: dict[str, Any]
    reproduced: bool = False

    @property
    def outputs(self) -> dict[str, str]:
        return {k: v["file"] for k, v in self.manifest.get("outputs", {}).items()}

    def file(self, key: str) -> Path:
        return self.path / self.manifest["outputs"][key]["file"]


def _manifest(ev: Evaluation, rid: str, folder: Path, paths: dict[str, Path]) -> dict[str, Any]:
    return {
        "kind": "cocity evaluate",
        "run": rid,
        "year": ev.year,
        "edition": ev.edition.sources,
        "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "inputs_sha256": ev.inputs_sha256(),
        "framework": {"source": ev.framework.source, "sha256": ev.framework.sha256},
        "dataset": ev.source,
        "survey": {"source": getattr(ev.survey, "source", None),
                   "simulated": ev.simulated_survey,
                   "respondents": (len(ev.survey.responses) if ev.survey is not None else 0)},
        "seed": ev.seed,
        "replications": ev.replications,
        "publication_date": ev.publication_date.isoformat(),
        "previous": {k: len(v) for k, v in ev.previous_scores.items()},
        "versions": versions(),
        "code_sha256": code_sha256(),
        "outputs": {k: {"file": str(p.relative_to(folder)), "sha256": sha256_file(p)}
                    for k, p in sorted(paths.items())},
    }


def registry(root: str | Path) -> list[RunRecord]:
    """Every complete run under ``root``, oldest year first."""
    runs = Path(root) / "runs"
    out = []
    if runs.is_dir():
        for folder in sorted(runs.iterdir()):
            mf = folder / MANIFEST
            if folder.is_dir() and not folder.name.startswith(".") and mf.is_file():
                m = json.loads(mf.read_text(encoding="utf-8"))
                out.append(RunRecord(str(m["run"]), int(m["year"]), folder, m))
    return sorted(out, key=lambda r: (r.year, r.manifest.get("created_utc", "")))


def latest(root: str | Path, year: int, framework_sha: str | None = None) -> RunRecord | None:
    """The most recently created run of ``year`` (of that framework file, if given)."""
    runs = [r for r in registry(root) if r.year == year and (
        framework_sha is None or r.manifest["framework"]["sha256"] == framework_sha)]
    return runs[-1] if runs else None


def previous_scores(record: RunRecord) -> dict[str, pd.Series]:
    """The index score of every unit per level, read from a stored run."""
    out = {}
    for key, entry in record.manifest["outputs"].items():
        if key.startswith("csv:") and key.endswith("_ranking"):
            level = key[len("csv:"):-len("_ranking")]
            frame = pd.read_csv(record.path / entry["file"], dtype={"unit": str})
            out[level] = frame.set_index("unit")["score"].astype(float)
    return out


def save_run(ev: Evaluation, root: str | Path, writer: Writer) -> RunRecord:
    """Write ``ev`` as a new immutable run folder, or verify it reproduces the stored one."""
    rid = run_id(ev)
    runs = Path(root) / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    final = runs / rid
    tmp = Path(tempfile.mkdtemp(prefix=f".{rid}.", dir=runs))
    try:
        paths = writer(ev, tmp)
        manifest = _manifest(ev, rid, tmp, paths)
        (tmp / MANIFEST).write_text(dumps(manifest), encoding="utf-8")
        if final.exists():
            stored = json.loads((final / MANIFEST).read_text(encoding="utf-8"))
            differ = [k for k, v in manifest["outputs"].items()
                      if v["file"].endswith(CHECKED)
                      and stored["outputs"].get(k, {}).get("sha256") != v["sha256"]]
            if differ:
                raise EvaluationError(t("eval.err.not_reproduced", run=rid,
                                        files=", ".join(differ)))
            return RunRecord(rid, ev.year, final, stored, reproduced=True)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o777 & ~mask)
        os.replace(tmp, final)
        return RunRecord(rid, ev.year, final, manifest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
