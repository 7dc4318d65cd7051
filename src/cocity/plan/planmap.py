"""The one planning map (规划一张图): the register's projects as line layers by kind (one colour
per kind, the status in the labels) and every map layer of the planning outputs given —
folders written by ``cocity plan pair|locate|route|share|…`` — drawn together over the county
boundaries on one bilingual page (:mod:`cocity.report.plan_page`).

Each output folder must hold the ``layers.geojson`` its tool wrote
(:func:`cocity.report.plan_page.read_layers`); its layers keep their labels, colours and flags
(simulated / illustrative) and are keyed ``<folder>/<layer>`` so that two folders never
collide. A line layer of more than ``HIDDEN_ABOVE`` lines (every unit's line to its assigned
centre) starts switched off: its legend entry turns it on. Tables: the projects, and the list
of layers drawn with their source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cocity.i18n import t
from cocity.plan.errors import PlanInputError
from cocity.plan.projects import KINDS, Register, read_register
from cocity.report.plan_page import LAYERS_FILE, Layer, PlanReport, PlanTable, read_layers

HIDDEN_ABOVE = 50  # a line layer with more lines starts hidden (e.g. every unit → its centre)
KIND_COLORS = {"rail": "#c0392b", "road": "#e67e22", "water": "#2980b9", "energy": "#8e44ad",
               "facility": "#16a085"}


@dataclass
class PlanMap:
    """The register, the layers drawn (in order) and, per layer, the folder it came from
    (``None`` for the register's own layers)."""

    register: Register
    layers: list[Layer]
    sources: list[str | None]


def _status(status: str | None, lang: str) -> str:
    return t(f"plan.map.status.{status or 'unknown'}", lang)


def project_layers(register: Register) -> list[Layer]:
    """One line layer per kind present in the register, in the order of :data:`KINDS`."""
    flag = "illustrative" if register.illustrative else None
    layers = []
    for kind in KINDS:
        rows = [p for p in register.projects if p.kind == kind]
        if not rows:
            continue
        frame = pd.DataFrame({
            "path": [list(p.path) for p in rows],
            "label_zh": [f"{p.name_zh}（{_status(p.status, 'zh')}）" for p in rows],
            "label_en": [f"{p.name_en} ({_status(p.status, 'en')})" for p in rows],
            "id": [p.id for p in rows], "status": [p.status or "" for p in rows],
            "cost_yi": [p.cost_yi for p in rows]})
        layers.append(Layer(f"projects/{kind}", t(f"plan.map.kind.{kind}", "zh"),
                            t(f"plan.map.kind.{kind}", "en"), "lines", frame,
                            color=KIND_COLORS[kind], flag=flag))  # type: ignore[arg-type]
    return layers


def folder_layers(folder: str | Path, *, prefix: str | None = None) -> list[Layer]:
    """The layers of one output folder, keyed ``<prefix>/<layer key>`` (default prefix: the
    folder's name); a folder that is missing or has no ``layers.geojson`` is refused by
    name."""
    path = Path(folder)
    file = path / LAYERS_FILE
    if not path.is_dir():
        raise PlanInputError(t("plan.map.err.no_folder", folder=str(path)))
    if not file.is_file():
        raise PlanInputError(t("plan.map.err.no_layers", folder=str(path), file=LAYERS_FILE))
    try:
        layers = read_layers(file)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PlanInputError(t("plan.map.err.bad_layers", file=str(file),
                               error=str(exc))) from None
    prefix = path.name if prefix is None else prefix
    return [Layer(f"{prefix}/{x.key}", x.label_zh, x.label_en, x.kind, x.features,
                  color=x.color, flag=x.flag,
                  hidden=x.kind == "lines" and len(x.features) > HIDDEN_ABOVE)
            for x in layers]


def build_map(store: Any, *, sources: Sequence[str | Path] = (),
              projects: str | Path | None = None) -> PlanMap:
    """The register's layers then every folder's layers, all checked before anything is
    drawn (every bad folder named in one error). Folders of the same name get the prefixes
    ``name``, ``name-2``, … so that no two layers share a key."""
    register = read_register(store, projects)
    layers = project_layers(register)
    origin: list[str | None] = [None] * len(layers)
    problems = []
    used: set[str] = set()
    for folder in sources:
        name = Path(folder).name
        prefix, k = name, 1
        while prefix in used:
            k += 1
            prefix = f"{name}-{k}"
        used.add(prefix)
        try:
            got = folder_layers(folder, prefix=prefix)
        except PlanInputError as exc:
            problems.append(str(exc))
            continue
        layers += got
        origin += [str(folder)] * len(got)
    if problems:
        raise PlanInputError("\n".join(problems))
    return PlanMap(register=register, layers=layers, sources=origin)


def layers_table(m: PlanMap) -> pd.DataFrame:
    """One row per layer drawn: key, labels, kind, number of features, flag, source."""
    return pd.DataFrame([{
        "layer": x.key, "label_zh": x.label_zh, "label_en": x.label_en, "kind": x.kind,
        "features": len(x.features), "flag": x.flag or "",
        "source": src if src is not None else m.register.source}
        for x, src in zip(m.layers, m.sources, strict=True)],
        columns=["layer", "label_zh", "label_en", "kind", "features", "flag", "source"])


def map_report(m: PlanMap, *, store: Any) -> PlanReport:
    """The page of the planning map."""
    from cocity.data.provenance import provenance

    flags = sorted({x.flag for x in m.layers if x.flag})
    notice = None
    if flags:
        notice = (t("plan.map.notice", "zh", flags="、".join(
                      t(f"plan.page.flag.{f}", "zh") for f in flags)),
                  t("plan.map.notice", "en", flags=", ".join(
                      t(f"plan.page.flag.{f}", "en") for f in flags)))
    notes = [(t("plan.map.note.geometry", "zh"), t("plan.map.note.geometry", "en"))]
    if m.register.note is not None:
        notes.append(m.register.note)
    folders = sorted({s for s in m.sources if s is not None})
    cards = [(str(len(m.register.projects)), t("plan.map.card.projects", "zh"),
              t("plan.map.card.projects", "en")),
             (str(len(m.layers)), t("plan.map.card.layers", "zh"),
              t("plan.map.card.layers", "en")),
             (str(len(folders)), t("plan.map.card.folders", "zh"),
              t("plan.map.card.folders", "en"))]
    return PlanReport(
        kind="map", title_zh="规划一张图", title_en="One planning map",
        subtitle_zh=t("plan.map.subtitle", "zh"), subtitle_en=t("plan.map.subtitle", "en"),
        cards=cards,
        tables=[PlanTable("projects", m.register.frame(), "项目登记册", "Project register",
                          labels="plan.map.col"),
                PlanTable("layers", layers_table(m), "图层", "Layers", labels="plan.map.col")],
        layers=m.layers, notes=notes, notice=notice, provenance=provenance(store),
        config={"projects": m.register.source, "projects_sha256": m.register.sha256,
                "from": folders},
        facts={"illustrative": "illustrative" in flags, "simulated": "simulated" in flags})


def write_map(m: PlanMap, out: str | Path, *, store: Any, lang: str = "zh") -> dict[str, Path]:
    """Write the map's files (:func:`cocity.report.plan_page.write_plan_report`)."""
    from cocity.plan.region import load_boundaries
    from cocity.report.plan_page import write_plan_report

    return write_plan_report(map_report(m, store=store), out,
                             boundaries=load_boundaries(store), lang=lang)
