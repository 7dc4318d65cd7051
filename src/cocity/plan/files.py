"""The files of a what-if (:class:`cocity.plan.whatif.WhatIf`), through :mod:`cocity.outputs`:
``changes.csv``, ``<level>_units.csv`` and ``<level>_indicators.csv`` per level,
``allocation.csv`` (baseline and scenario per unit and use, fen) when an allocation was
computed, ``notes.csv``, one workbook ``whatif.xlsx`` with those tables as sheets, the JSON
document ``whatif.json`` and ``manifest.json`` (every file with its size and SHA-256, the
provenance of the data, the settings)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from cocity.outputs import manifest, write_csv, write_json, write_xlsx

if TYPE_CHECKING:
    from cocity.plan.whatif import WhatIf

KIND = "cocity plan whatif"


def tables(w: WhatIf) -> dict[str, pd.DataFrame]:
    """The result tables by file stem (machine form: keys as column names)."""
    out: dict[str, pd.DataFrame] = {"changes": w.applied}
    for level, res in w.levels.items():
        out[f"{level}_units"] = res.units.reset_index()
        out[f"{level}_indicators"] = res.indicators
    if w.allocation is not None:
        out["allocation"] = w.allocation
    out["notes"] = pd.DataFrame(w.notes, columns=["kind", "zh", "en"])
    return out


def write_what_if(w: WhatIf, out: str | Path) -> Path:
    """Write the files of ``w`` into ``out`` (created if needed); returns the manifest's
    path. Each file is written atomically."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    frames = tables(w)
    paths: dict[str, Path] = {}
    for stem, frame in frames.items():
        paths[f"csv:{stem}"] = write_csv(frame, folder / f"{stem}.csv")
    paths["xlsx"] = write_xlsx(frames, folder / "whatif.xlsx")
    paths["json"] = write_json(w.document(), folder / "whatif.json")
    doc = manifest(KIND, outputs=paths, root=folder, provenance=w.provenance,
                   config={"year": w.year, "levels": list(w.levels),
                           "replications": w.replications, "seed": w.seed,
                           "fund_fen": (None if w.allocations is None else
                                        w.allocations["baseline"].fund_fen)},
                   published_run=None if w.published is None else w.published.run,
                   seconds=round(w.seconds, 3))
    return write_json(doc, folder / "manifest.json")
