"""Versioned annual runs: each run is one folder under ``<root>/runs/``, named
``<year>-<first 12 hex digits of the inputs hash>``, holding the result tables, the workbooks,
the JSON document, the report (HTML, PDF) and ``manifest.json`` (:func:`cocity.outputs.manifest`:
the provenance of the data and the survey, inputs hash, framework hash, seed, replications
asked and run, code fingerprint, library versions and the size and SHA-256 of every output).

A run folder is written into a temporary folder and renamed when complete. Asking again for a
run whose inputs hash is stored re-computes it and checks that the results (every CSV table and
the JSON document) are byte-identical to those the stored manifest lists — different results
for the same inputs raise :class:`EvaluationError` (a reproducibility bug) — and then checks the
stored files on disk against their manifest:

- every file present and unchanged, nothing the new run writes missing from the stored run →
  the stored folder is kept (*reproduced*);
- a file edited, appended to or deleted since the run was written, or an output the stored run
  lacks (e.g. a PDF skipped for want of a CJK font) → the folder is rewritten with the
  re-computed, identical results (*repaired*, the record names the files), because the next
  edition's comparison reads these files.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cocity.evaluate.errors import EvaluationError
from cocity.evaluate.run import Evaluation, Previous, code_sha256
from cocity.evaluate.tables import read_table
from cocity.i18n import t
from cocity.outputs import manifest, replace_folder, verify_outputs, write_json

Writer = Callable[[Evaluation, Path], Mapping[str, "Path | Future[Path]"]]
CHECKED = (".csv", ".json")  # outputs whose bytes must reproduce exactly
MANIFEST = "manifest.json"
KIND = "cocity evaluate"


def run_id(ev: Evaluation) -> str:
    return f"{ev.year}-{ev.inputs_sha256()[:12]}"


@dataclass(frozen=True)
class RunRecord:
    """A run folder as registered. ``status``: ``new``, ``reproduced`` (the stored folder
    kept) or ``repaired`` (rewritten; ``repaired`` lists the files found edited or missing)."""

    id: str
    year: int
    path: Path
    manifest: dict[str, Any]
    status: str = "new"
    repaired: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def reproduced(self) -> bool:
        return self.status != "new"

    @property
    def outputs(self) -> dict[str, str]:
        return {k: v["file"] for k, v in self.manifest.get("outputs", {}).items()}

    def file(self, key: str) -> Path:
        return self.path / self.manifest["outputs"][key]["file"]


def run_manifest(ev: Evaluation, rid: str, folder: Path, paths: dict[str, Path]
                 ) -> dict[str, Any]:
    """The manifest of a run written into ``folder``."""
    return manifest(
        KIND, outputs=paths, root=folder, provenance=ev.provenance,
        config={"seed": ev.seed, "publication_date": ev.publication_date.isoformat(),
                "replications": {"asked": ev.replications_asked,
                                 "run": {lv: r.replications_run
                                         for lv, r in ev.levels.items()}}},
        run=rid, year=ev.year, edition=ev.edition.sources, inputs_sha256=ev.inputs_sha256(),
        framework={"source": ev.framework.source, "sha256": ev.framework.sha256},
        previous=(None if ev.previous is None else {"year": ev.previous.year,
                                                     "run": ev.previous.run}),
        code_sha256=code_sha256())


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return doc if isinstance(doc, dict) and doc.get("kind") == KIND else None


def registry(root: str | Path) -> list[RunRecord]:
    """Every complete run under ``root``, oldest year first."""
    runs = Path(root) / "runs"
    out = []
    if runs.is_dir():
        for folder in sorted(runs.iterdir()):
            m = _read_manifest(folder) if folder.is_dir() and not folder.name.startswith(
                ".") else None
            if m is not None:
                out.append(RunRecord(str(m["run"]), int(m["year"]), folder, m))
    return sorted(out, key=lambda r: (r.year, r.manifest.get("created_utc", "")))


def latest(root: str | Path, year: int, framework_sha: str | None = None) -> RunRecord | None:
    """The most recently created run of ``year`` (of that framework file, if given)."""
    runs = [r for r in registry(root) if r.year == year and (
        framework_sha is None or r.manifest["framework"]["sha256"] == framework_sha)]
    return runs[-1] if runs else None


def previous_run(record: RunRecord) -> Previous:
    """A stored run as the previous edition of a new one: the index score of every unit per
    level (full precision, from the JSON document) and the indicator values it used (after
    imputation, from ``tables/<level>_indicators.csv``). The files are first checked against
    the run's manifest; an edited or missing file is refused."""
    problems = verify_outputs(record.manifest, record.path)
    if problems:
        raise EvaluationError(t("eval.err.previous_edited", run=record.id,
                                files=", ".join(f"{f} ({t('eval.file.' + p)})"
                                                for f, p in problems)))
    return _read_previous(record.year, record.id, record.file("json"),
                          {k: record.file(k) for k in record.manifest["outputs"]})


def _read_previous(year: int, rid: str, json_path: Path, files: Mapping[str, Path]
                   ) -> Previous:
    """:class:`Previous` from a run's JSON document and its ``csv:<level>_indicators``
    tables (``files``: output key → path)."""
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    scores: dict[str, pd.Series] = {}
    values: dict[str, pd.DataFrame] = {}
    for lv in doc["levels"]:
        level = str(lv["level"])
        scores[level] = pd.Series({str(r["unit"]): float(r["score"]) for r in lv["ranking"]},
                                  dtype=float)
        key = f"csv:{level}_indicators"
        if key in files:
            long = read_table(files[key])
            wide = long.pivot(index="unit", columns="indicator", values="value_used")
            wide.index = wide.index.astype(str)
            values[level] = wide[[c for c in lv["indicators"] if c in wide.columns]]
    return Previous(year, rid, scores, values)


class PendingRun:
    """A run folder being written (:func:`start_run`): its tables and JSON document are on
    disk, slower files may still be written by background jobs. :meth:`previous` reads it as
    the previous edition of the next run meanwhile; :meth:`finish` waits for the files and
    registers the folder as :func:`save_run` does; :meth:`discard` drops it."""

    def __init__(self, ev: Evaluation, root: Path, writer: Writer) -> None:
        self.ev = ev
        self.rid = run_id(ev)
        runs = root / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        self.final = runs / self.rid
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.rid}.", dir=runs))
        self._started: Mapping[str, Path | Future[Path]] = {}
        try:
            self._started = writer(ev, self.tmp)
        except BaseException:
            self.discard()
            raise

    def _written(self) -> dict[str, Path]:
        """The outputs already on disk."""
        return {k: v for k, v in self._started.items() if isinstance(v, Path)}

    def previous(self) -> Previous:
        """This run as the previous edition of the next one (what :func:`previous_run` reads
        from the stored folder, read from the files already written)."""
        done = self._written()
        return _read_previous(self.ev.year, self.rid, done["json"], done)

    def discard(self) -> None:
        """Wait for the background files (errors ignored) and remove the folder."""
        wait([v for v in self._started.values() if isinstance(v, Future)])
        if self.tmp.exists():
            shutil.rmtree(self.tmp, ignore_errors=True)

    def finish(self) -> RunRecord:
        """Wait for every file, then register the run (see the module docstring)."""
        try:
            paths = {k: v.result() if isinstance(v, Future) else v
                     for k, v in self._started.items()}
            return _register(self.ev, self.rid, self.tmp, self.final, paths)
        finally:
            self.discard()


def start_run(ev: Evaluation, root: str | Path, writer: Writer) -> PendingRun:
    """Start writing ``ev`` as a run folder with ``writer`` (which may hand files to
    background jobs, returning futures); :meth:`PendingRun.finish` completes it."""
    return PendingRun(ev, Path(root), writer)


def save_run(ev: Evaluation, root: str | Path, writer: Writer) -> RunRecord:
    """Write ``ev`` as a new run folder, or verify it reproduces the stored one (see the
    module docstring)."""
    return start_run(ev, root, writer).finish()


def _register(ev: Evaluation, rid: str, tmp: Path, final: Path, paths: dict[str, Path]
              ) -> RunRecord:
    """The run written into ``tmp`` made ``final``: new, reproduced or repaired."""
    new = run_manifest(ev, rid, tmp, paths)
    stored = _read_manifest(final) if final.exists() else None
    if stored is not None:
        differ = [k for k, v in new["outputs"].items()
                  if v["file"].endswith(CHECKED) and k in stored["outputs"]
                  and stored["outputs"][k]["sha256"] != v["sha256"]]
        if differ:
            raise EvaluationError(t("eval.err.not_reproduced", run=rid,
                                    files=", ".join(differ)))
        problems = verify_outputs(stored, final)
        problems += [(v["file"], "lacking") for k, v in new["outputs"].items()
                     if k not in stored["outputs"]]
        if not problems:
            return RunRecord(rid, ev.year, final, stored, status="reproduced")
        write_json(new, tmp / MANIFEST)
        replace_folder(tmp, final)
        return RunRecord(rid, ev.year, final, new, status="repaired",
                         repaired=tuple(problems))
    write_json(new, tmp / MANIFEST)
    replace_folder(tmp, final)
    return RunRecord(rid, ev.year, final, new)
