"""Signed evaluation editions (评价版次的签发).

An *edition* is an evaluation run folder (``cocity evaluate``) that a third-party evaluator has
signed for publication. Signing re-hashes every file the run's ``manifest.json`` lists
(:func:`cocity.outputs.verify_outputs`): a run edited, appended to or missing a file since it was
written is refused, naming the files. The row appended to ``publish_editions`` records the
SHA-256 of the manifest itself, so the published files can be checked against the signature
later (the manifest lists the SHA-256 of every output; its own hash covers them all).

Rows are append-only. The latest row of a year is that year's edition in force; a correction is
a new signature for the same year and the rows it supersedes stay (:func:`edition_history`).
Signing is idempotent by ``key``: the same key with the same body returns the stored edition,
the same key with another body is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from cocity.data.errors import CocityError
from cocity.i18n import both
from cocity.outputs import now_utc, sha256_file, verify_outputs
from cocity.records import schema as S

if TYPE_CHECKING:
    from cocity.records import Records

MANIFEST = "manifest.json"
RUN_KIND = "cocity evaluate"


class EditionError(CocityError):
    """An edition cannot be signed or read as asked; nothing was written."""

    def __init__(self, label: str, **fmt: Any) -> None:
        self.label = label
        super().__init__(both(label, **fmt))


@dataclass(frozen=True)
class Edition:
    """One signature of an evaluation run (a row of ``publish_editions``)."""

    id: int
    year: int
    run_id: str
    manifest_sha256: str
    framework_sha256: str
    evaluator: str
    statement: str
    actor: str
    signed_at: str
    role: str = "evaluator"
    key: str = ""

    def public(self) -> dict[str, Any]:
        """The fields a reader of the site sees (no login: ``actor`` is who signed)."""
        return {"id": self.id, "year": self.year, "run": self.run_id,
                "manifest_sha256": self.manifest_sha256,
                "framework_sha256": self.framework_sha256, "evaluator": self.evaluator,
                "statement": self.statement, "signed_by": self.actor,
                "signed_at": self.signed_at}


def read_run_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a run folder; a folder that is not a run is refused."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise EditionError("publish.err.no_run", run=str(folder))
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise EditionError("publish.err.not_run", run=str(folder)) from None
    if not isinstance(doc, dict) or doc.get("kind") != RUN_KIND or "run" not in doc:
        raise EditionError("publish.err.not_run", run=str(folder))
    return doc


def check_run(folder: Path) -> dict[str, Any]:
    """The run's manifest after re-hashing every file it lists (refused when one was edited
    or is missing)."""
    doc = read_run_manifest(folder)
    problems = verify_outputs(doc, folder)
    if problems:
        files = ", ".join(f"{f} ({p})" for f, p in problems)
        raise EditionError("publish.err.edited", run=str(folder), files=files)
    return doc


def _edition(row: Any) -> Edition:
    return Edition(id=int(row.id), year=int(row.year), run_id=str(row.run_id),
                   manifest_sha256=str(row.manifest_sha256),
                   framework_sha256=str(row.framework_sha256), evaluator=str(row.evaluator),
                   statement=str(row.statement), actor=str(row.actor),
                   signed_at=str(row.signed_at), role=str(row.role), key=str(row.key))


def sign_edition(records: Records, run: str | Path, *, evaluator: str, statement: str,
                 actor: str, role: str = "evaluator", key: str | None = None) -> Edition:
    """Sign the run folder ``run`` as its year's edition (see the module docstring).

    ``key`` (default: the run id, the manifest's SHA-256 and the evaluator) makes signing
    idempotent: signing again with the same key and body returns the stored edition."""
    for field, value in (("evaluator", evaluator), ("actor", actor), ("role", role)):
        if not str(value).strip():
            raise EditionError("publish.err.empty", field=field)
    folder = Path(run)
    doc = check_run(folder)
    manifest_sha = sha256_file(folder / MANIFEST)
    body = {"year": int(doc["year"]), "run_id": str(doc["run"]),
            "manifest_sha256": manifest_sha,
            "framework_sha256": str((doc.get("framework") or {}).get("sha256") or ""),
            "evaluator": evaluator.strip(), "statement": statement.strip()}
    key = key or f"{body['run_id']}:{manifest_sha[:16]}:{body['evaluator']}"[:200]
    table = S.publish_editions
    with records.transaction() as conn:
        row = conn.execute(sa.select(table).where(table.c.key == key)).first()
        if row is not None:
            stored = {k: getattr(row, k) for k in body}
            if stored != body:
                raise EditionError("publish.err.key_reused", idem=key, run=row.run_id)
            return _edition(row)
        conn.execute(table.insert().values(key=key, **body, actor=actor.strip(),
                                           role=role.strip(), signed_at=now_utc()))
        return _edition(conn.execute(sa.select(table).where(table.c.key == key)).one())


def edition_history(records: Records) -> list[Edition]:
    """Every signature ever recorded, by year then in the order signed (the last of a year is
    in force; the earlier ones of that year are superseded)."""
    table = S.publish_editions
    with records.read() as conn:
        rows = conn.execute(sa.select(table).order_by(table.c.year, table.c.id)).all()
    return [_edition(r) for r in rows]


def editions(records: Records, *, runs_root: str | Path | None = None) -> list[Edition]:
    """The editions in force, one per year, oldest first. With ``runs_root`` (the folder of
    ``cocity evaluate --out``), each edition's run folder is checked: present, its manifest
    the one signed and every file it lists unchanged."""
    latest: dict[int, Edition] = {}
    for ed in edition_history(records):
        latest[ed.year] = ed
    out = [latest[y] for y in sorted(latest)]
    if runs_root is not None:
        for ed in out:
            run_folder(ed, runs_root)
    return out


def run_folder(edition: Edition, runs_root: str | Path) -> Path:
    """The run folder of ``edition`` under ``runs_root``, checked against the signature."""
    folder = Path(runs_root) / "runs" / edition.run_id
    if not (folder / MANIFEST).is_file():
        raise EditionError("publish.err.run_missing", run=edition.run_id, year=edition.year,
                           root=str(runs_root))
    if sha256_file(folder / MANIFEST) != edition.manifest_sha256:
        raise EditionError("publish.err.manifest_changed", run=edition.run_id,
                           year=edition.year)
    check_run(folder)
    return folder
