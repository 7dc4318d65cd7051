"""What the site and the API read of a signed edition: its run folder's ``evaluation.json``,
``manifest.json`` and the obstacle degrees of ``tables/<level>_indicators.csv``, after checking
the folder against the signature (:func:`cocity.publish.editions.run_folder`). I/O only; the
documents are built by the pure functions of :mod:`cocity.publish.api`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cocity.publish.editions import MANIFEST, Edition, run_folder

TOP_OBSTACLES = 3


@dataclass(frozen=True)
class Published:
    """A signed edition with what its run folder holds. ``obstacles``: level → unit → the
    unit's largest obstacle degrees ``(indicator, percent)``, largest first."""

    edition: Edition
    document: dict[str, Any]
    manifest: dict[str, Any]
    folder: Path
    obstacles: dict[str, dict[str, list[tuple[str, float]]]] = field(default_factory=dict)

    @property
    def year(self) -> int:
        return self.edition.year

    def file(self, key: str) -> Path:
        return self.folder / self.manifest["outputs"][key]["file"]


def _obstacles(path: Path) -> dict[str, list[tuple[str, float]]]:
    from cocity.evaluate.tables import read_table

    frame = read_table(path)
    frame = frame[frame["obstacle_pct"].notna()]
    frame = frame.sort_values(["unit", "obstacle_pct", "indicator"],
                              ascending=[True, False, True])
    out: dict[str, list[tuple[str, float]]] = {}
    for unit, part in frame.groupby("unit", sort=True):
        out[str(unit)] = [(str(i), float(p)) for i, p in zip(
            part["indicator"].head(TOP_OBSTACLES), part["obstacle_pct"].head(TOP_OBSTACLES),
            strict=True) if float(p) > 0]
    return out


def load_published(edition: Edition, runs_root: str | Path) -> Published:
    """Read the run folder of a signed ``edition`` (checked against the signature)."""
    folder = run_folder(edition, runs_root)
    man = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    doc = json.loads((folder / man["outputs"]["json"]["file"]).read_text(encoding="utf-8"))
    obstacles = {}
    for lv in doc["levels"]:
        key = f"csv:{lv['level']}_indicators"
        if key in man["outputs"]:
            obstacles[str(lv["level"])] = _obstacles(folder / man["outputs"][key]["file"])
    return Published(edition, doc, man, folder, obstacles)
