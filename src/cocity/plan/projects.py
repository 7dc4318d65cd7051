"""The register of shared infrastructure projects (rail, road, water, energy, facilities): the
projects the cost-sharing tool shares and the planning map draws.

A register is a user file — CSV, YAML or GeoJSON — with, per project: ``id`` (unique),
``name_zh``, ``name_en``, ``kind`` (``rail|road|water|energy|facility``), ``units`` (the
prefecture-level units it joins, by name or code, in the order of the line; in CSV joined by
``+``), ``cost_yi`` (亿元, optional), ``status`` (``planned|under_construction|in_service``,
optional: empty means not stated) and a geometry: the coordinates given (a GeoJSON
``LineString``/``Point`` or a YAML ``coordinates`` list of ``[lon, lat]``), else the line
through the units' representative points. A YAML register may say ``illustrative: true``
(with ``note_zh``/``note_en``), as the shipped demo register ``projects_demo.yaml`` does.
Every problem of every row is reported at once (:class:`PlanInputError`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from cocity.data.errors import CocityError
from cocity.i18n import t
from cocity.plan.errors import PlanInputError

KINDS = ("rail", "road", "water", "energy", "facility")
STATUSES = ("planned", "under_construction", "in_service")
DEMO = Path(__file__).with_name("projects_demo.yaml")
LEVEL = "prefecture"


@dataclass(frozen=True)
class Project:
    """One project: ``units`` are unit codes in line order; ``path`` the ``(lon, lat)``
    vertices drawn (``drawn_through_units`` when built from the units' points)."""

    id: str
    name_zh: str
    name_en: str
    kind: str
    units: tuple[str, ...]
    cost_yi: float | None
    status: str | None
    path: tuple[tuple[float, float], ...]
    drawn_through_units: bool
    unit_names: tuple[tuple[str, str], ...] = ()

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True)
class Register:
    """The projects of one file; ``illustrative`` with its note when the file says so."""

    projects: list[Project]
    source: str
    illustrative: bool = False
    note: tuple[str, str] | None = None
    sha256: str | None = field(default=None)

    def get(self, project_id: str) -> Project:
        for p in self.projects:
            if p.id == project_id:
                return p
        raise PlanInputError(t("plan.projects.err.unknown_project", id=project_id,
                               file=self.source,
                               ids=", ".join(p.id for p in self.projects)))

    def frame(self, lang: str = "zh") -> pd.DataFrame:
        """One row per project (the table of the page and the CSV)."""
        return pd.DataFrame([{
            "id": p.id, "name_zh": p.name_zh, "name_en": p.name_en, "kind": p.kind,
            "units": "+".join(p.units),
            "units_zh": "+".join(zh for zh, _ in p.unit_names),
            "units_en": "+".join(en for _, en in p.unit_names), "cost_yi": p.cost_yi,
            "status": p.status or "", "illustrative": self.illustrative,
            "geometry": "units" if p.drawn_through_units else "given"} for p in self.projects],
            columns=["id", "name_zh", "name_en", "kind", "units", "units_zh", "units_en",
                     "cost_yi", "status", "illustrative", "geometry"])


# ---------------------------------------------------------------------- reading
def _records(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The raw rows of a register file and its file-level keys."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")], {}
        text = path.read_text(encoding="utf-8")
        if suffix in (".geojson", ".json"):
            doc = json.loads(text)
            rows = []
            for feat in doc.get("features", []) if isinstance(doc, dict) else []:
                row = dict(feat.get("properties") or {})
                row["_geometry"] = feat.get("geometry")
                rows.append(row)
            return rows, {}
        if suffix in (".yaml", ".yml"):
            doc = yaml.safe_load(text)
            if isinstance(doc, list):
                return doc, {}
            if isinstance(doc, dict) and isinstance(doc.get("projects"), list):
                return doc["projects"], {k: v for k, v in doc.items() if k != "projects"}
            raise PlanInputError(t("plan.projects.err.yaml_shape", file=str(path)))
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        if isinstance(exc, PlanInputError):
            raise
        raise PlanInputError(t("plan.projects.err.unreadable", file=str(path),
                               error=str(exc))) from None
    raise PlanInputError(t("plan.projects.err.format", file=str(path)))


def _text(v: Any) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    return str(v).strip()


def _coords(geom: Any) -> list[tuple[float, float]] | None:
    """The vertices of a GeoJSON geometry or a YAML coordinate list; ``None`` if unreadable."""
    if isinstance(geom, Mapping):
        kind = geom.get("type")
        pts = geom.get("coordinates")
        if pts is None:
            return None
        if kind == "Point":
            pts = [pts]
        elif kind != "LineString":
            return None
    else:
        pts = geom
    try:
        out = [(float(p[0]), float(p[1])) for p in pts]
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    if not out or any(not (-180 <= x <= 180 and -90 <= y <= 90) for x, y in out):
        return None
    return out


def parse_register(rows: list[dict[str, Any]], *, resolve: Callable[[str], str | None],
                   points: Mapping[str, tuple[float, float]], source: str,
                   meta: Mapping[str, Any] | None = None,
                   names: Mapping[str, tuple[str, str]] | None = None) -> Register:
    """Validate the rows of a register (module docstring); ``resolve(name)`` gives a unit's
    code or ``None``, ``points[code]`` its representative point, ``names[code]`` its
    ``(name_zh, name_en)`` (default: the code). Row numbers are 1-based
    data rows (in a CSV, the header is line 1 and row 1 is line 2)."""
    issues: list[str] = []
    projects: list[Project] = []
    seen: dict[str, int] = {}
    for k, raw in enumerate(rows):
        row = k + 1
        if not isinstance(raw, Mapping):
            issues.append(t("plan.projects.err.row_shape", file=source, row=row))
            continue
        pid = _text(raw.get("id"))
        where: dict[str, Any] = {"file": source, "row": row, "id": pid or "?"}
        bad: list[str] = []
        if not pid:
            bad.append(t("plan.projects.err.no_id", **where))
        elif pid in seen:
            bad.append(t("plan.projects.err.repeat_id", first=seen[pid], **where))
        else:
            seen[pid] = row
        for key in ("name_zh", "name_en"):
            if not _text(raw.get(key)):
                bad.append(t("plan.projects.err.no_field", field=key, **where))
        kind = _text(raw.get("kind"))
        if kind not in KINDS:
            bad.append(t("plan.projects.err.kind", kind=kind, allowed="|".join(KINDS), **where))
        status = _text(raw.get("status"))
        if status and status not in STATUSES:
            bad.append(t("plan.projects.err.status", status=status,
                         allowed="|".join(STATUSES), **where))
        units_raw = raw.get("units")
        given = ([_text(u) for u in units_raw] if isinstance(units_raw, list)
                 else [p.strip() for p in _text(units_raw).split("+")] if _text(units_raw)
                 else [])
        codes: list[str] = []
        for name in given:
            code = resolve(name) if name else None
            if code is None:
                bad.append(t("plan.projects.err.unit", name=name, **where))
            elif code in codes:
                bad.append(t("plan.projects.err.unit_repeat", name=name, **where))
            else:
                codes.append(code)
        if not given:
            bad.append(t("plan.projects.err.no_units", **where))
        cost_raw = raw.get("cost_yi")
        cost: float | None = None
        if _text(cost_raw):
            value = pd.to_numeric(pd.Series([cost_raw]), errors="coerce").iloc[0]
            if pd.isna(value) or value < 0:
                bad.append(t("plan.projects.err.cost", cost=cost_raw, **where))
            else:
                cost = float(value)
        geom = raw.get("_geometry", raw.get("coordinates"))
        path: list[tuple[float, float]] | None = None
        if geom is not None:
            path = _coords(geom)
            if path is None:
                bad.append(t("plan.projects.err.geometry", **where))
        if bad:
            issues.extend(bad)
            continue
        drawn = path is None
        if path is None:
            path = [points[c] for c in codes]
        projects.append(Project(id=pid, name_zh=_text(raw["name_zh"]),
                                name_en=_text(raw["name_en"]), kind=kind, units=tuple(codes),
                                cost_yi=cost, status=status or None, path=tuple(path),
                                drawn_through_units=drawn,
                                unit_names=tuple((names or {}).get(c, (c, c)) for c in codes)))
    if not rows:
        issues.append(t("plan.projects.err.empty", file=source))
    if issues:
        raise PlanInputError("\n".join(issues))
    meta = meta or {}
    illustrative = bool(meta.get("illustrative", False))
    note = (str(meta.get("note_zh", "")), str(meta.get("note_en", ""))) \
        if meta.get("note_zh") or meta.get("note_en") else None
    return Register(projects=projects, source=source, illustrative=illustrative, note=note)


def read_register(store: Any, path: str | Path | None = None) -> Register:
    """The register of ``path`` (default: the shipped demo register), its units resolved
    against ``store`` at the prefecture level."""
    from cocity.outputs import sha256_file

    file = DEMO if path is None else Path(path)
    if not file.is_file():
        raise PlanInputError(t("plan.projects.err.no_file", file=str(file)))
    rows, meta = _records(file)
    units = store.units()
    units = units[units["level"] == LEVEL]
    points = {str(c): (float(x), float(y))
              for c, x, y in zip(units["code"], units["lon"], units["lat"], strict=True)}

    def resolve(name: str) -> str | None:
        try:
            code = str(store.resolve(name, LEVEL))
        except CocityError:
            return None
        return code if code in points else None

    names = {str(c): (str(z), str(e))
             for c, z, e in zip(units["code"], units["name_zh"], units["name_en"], strict=True)}
    source = file.name if path is None else str(file)
    reg = parse_register(rows, resolve=resolve, points=points, source=source, meta=meta,
                         names=names)
    return Register(projects=reg.projects, source=reg.source, illustrative=reg.illustrative,
                    note=reg.note, sha256=sha256_file(file))
