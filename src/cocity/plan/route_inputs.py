"""The inputs of ``cocity plan route``: the attractions file, the corridors specification and
the settings, each validated all at once (every bad row, column and value in one
:class:`~cocity.plan.errors.PlanInputError`).

Attractions file (CSV, UTF-8, or XLSX, first sheet), one row per attraction:
``name_zh``, ``name_en``, ``county`` (any name or code of a county-level unit in the circle),
``score`` (> 0), ``visit_minutes`` (> 0), ``opens`` and ``closes`` (HH:MM, the earliest and
latest start of a visit; both empty = the settings' default window, flagged illustrative),
``theme`` (free text, e.g. ``history``, ``liquor``; may be empty) and optionally
``illustrative`` (true/false: the score, minutes and theme are illustrative, not measured).
Rows are numbered as in a spreadsheet (the header is row 1).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import pydantic

from cocity.data.errors import CocityError
from cocity.data.store import Store
from cocity.i18n import t
from cocity.plan.errors import PlanInputError
from cocity.spec import Spec, load_spec

DEMO = "route_attractions_demo.csv"
CORRIDORS = "route_corridors.yaml"
REQUIRED = ("name_zh", "name_en", "county", "score", "visit_minutes", "opens", "closes",
            "theme")
TRUE = {"true", "1", "yes", "y", "是"}
FALSE = {"false", "0", "no", "n", "否", ""}
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::00)?\s*$")


def clock(text: str) -> float | None:
    """Minutes after midnight of ``HH:MM`` (00:00–24:00; ``HH:MM:00`` as a spreadsheet's time
    cell reads), ``None`` when not a clock time."""
    m = _CLOCK.match(str(text))
    if not m:
        return None
    h, mi = int(m.group(1)), int(m.group(2))
    if mi >= 60 or h > 24 or (h == 24 and mi):
        return None
    return float(h * 60 + mi)


def hhmm(minutes: float) -> str:
    """``HH:MM`` of minutes after midnight (rounded to the minute; ``+1`` past midnight)."""
    m = round(minutes)
    day, m = divmod(m, 1440)
    text = f"{m // 60:02d}:{m % 60:02d}"
    return text if day == 0 else f"{text}+{day}"


class Settings(Spec):
    """The day and the rules of ``cocity plan route``."""

    day_start: str = "08:00"
    day_end: str = "20:00"
    default_opens: str = "09:00"
    default_closes: str = "17:00"
    same_county_minutes: float = pydantic.Field(default=20.0, ge=0, le=600)
    solver: str = "auto"
    solution_limit: int = pydantic.Field(default=500, ge=1, le=1_000_000)

    @pydantic.model_validator(mode="after")
    def _times(self) -> Settings:
        bad = [f"{k}={getattr(self, k)}" for k in ("day_start", "day_end", "default_opens",
                                                  "default_closes")
               if clock(getattr(self, k)) is None]
        if bad:
            raise ValueError(t("plan.route.err.clock", values=", ".join(bad)))
        if self.solver not in ("auto", "exact", "ortools"):
            raise ValueError(t("plan.route.err.solver", solver=self.solver))
        if clock(self.day_end) <= clock(self.day_start):  # type: ignore[operator]
            raise ValueError(t("plan.route.err.day", start=self.day_start, end=self.day_end))
        if clock(self.default_closes) < clock(self.default_opens):  # type: ignore[operator]
            raise ValueError(t("plan.route.err.default_window", opens=self.default_opens,
                               closes=self.default_closes))
        return self

    @property
    def depart(self) -> float:
        return float(clock(self.day_start) or 0.0)

    @property
    def back_by(self) -> float:
        return float(clock(self.day_end) or 0.0)


class Corridor(Spec):
    """A named corridor: cities in order, one overnight stop per city (county-level)."""

    key: str
    name_zh: str
    name_en: str
    theme: str
    cities: list[str] = pydantic.Field(min_length=2)
    stops: list[str] = pydantic.Field(min_length=2)
    source_zh: str = ""

    @pydantic.model_validator(mode="after")
    def _same_length(self) -> Corridor:
        if len(self.stops) != len(self.cities):
            raise ValueError(t("plan.route.err.stops", corridor=self.key))
        return self


class Proposal(Spec):
    """A proposed route over all attractions: ``base`` and ``days`` (back to the base each
    evening) or ``stops`` (a day from each stop to the next)."""

    key: str
    name_zh: str
    name_en: str
    base: str | None = None
    days: int | None = pydantic.Field(default=None, ge=1, le=7)
    stops: list[str] | None = None

    @pydantic.model_validator(mode="after")
    def _one_form(self) -> Proposal:
        by_base = self.base is not None and self.days is not None
        by_stops = self.stops is not None and len(self.stops) >= 2
        if by_base == by_stops:
            raise ValueError(t("plan.route.err.proposal", corridor=self.key))
        return self

    def day_stops(self) -> list[tuple[str, str]]:
        if self.stops is not None:
            return list(zip(self.stops[:-1], self.stops[1:], strict=True))
        return [(str(self.base), str(self.base))] * int(self.days or 1)


class Corridors(Spec):
    corridors: list[Corridor] = pydantic.Field(default_factory=list)
    proposals: list[Proposal] = pydantic.Field(default_factory=list)


def load_corridors(path: str | Path | None = None) -> Corridors:
    """The corridors file (default: the shipped ``route_corridors.yaml``)."""
    return load_spec(Corridors, path, package=__package__, default=CORRIDORS)


def default_corridors() -> Path:
    return Path(str(resources.files(__package__).joinpath(CORRIDORS)))


def demo_path() -> Path:
    return Path(str(resources.files(__package__).joinpath(DEMO)))


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise PlanInputError(t("plan.route.err.no_file", path=str(path)))
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, dtype=str, keep_default_na=False)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise PlanInputError(t("plan.route.err.unreadable", path=str(path),
                               reason=str(exc))) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def read_attractions(store: Store, path: str | Path | None = None, *,
                     counties: list[str] | None = None,
                     settings: Settings | None = None) -> pd.DataFrame:
    """The attractions of ``path`` (default: the shipped demo file), validated all at once:
    columns ``name_zh name_en county code county_zh county_en score visit_minutes opens
    closes theme illustrative default_window`` (``opens``/``closes`` in minutes after
    midnight; ``code`` the county-level unit; ``default_window`` when the file gave no hours).
    ``counties``: the codes the region covers (a county outside it is refused)."""
    settings = settings or Settings()
    src = demo_path() if path is None else Path(path)
    frame = _read_table(src)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise PlanInputError(t("plan.route.err.columns", path=src.name,
                               missing=", ".join(missing), required=", ".join(REQUIRED)))
    if frame.empty:
        raise PlanInputError(t("plan.route.err.empty", path=src.name))
    issues: list[str] = []
    rows: list[dict[str, Any]] = []
    units = store.units().set_index("code")
    units.index = units.index.astype(str)
    seen: dict[str, int] = {}

    def bad(row: int, column: str, value: Any, why: str) -> None:
        issues.append(t("plan.route.err.cell", row=row, column=column, value=value, why=why))

    for i, rec in enumerate(frame.to_dict("records")):
        row = i + 2
        ok = True
        out: dict[str, Any] = {}
        for col in ("name_zh", "name_en"):
            out[col] = str(rec[col]).strip()
            if not out[col]:
                bad(row, col, "", t("plan.route.why.empty"))
                ok = False
        if out["name_zh"] and out["name_zh"] in seen:
            bad(row, "name_zh", out["name_zh"], t("plan.route.why.duplicate",
                                                  first=seen[out["name_zh"]]))
            ok = False
        seen.setdefault(out["name_zh"], row)
        county = str(rec["county"]).strip()
        try:
            code = store.resolve(county, "county") if county else None
        except CocityError as exc:  # unknown or ambiguous: the store's message says which
            code = None
            bad(row, "county", county, str(exc))
            ok = False
        else:
            if code is None:
                bad(row, "county", county, t("plan.route.why.empty"))
                ok = False
            elif counties is not None and code not in counties:
                bad(row, "county", county, t("plan.route.why.outside"))
                ok = False
        for col in ("score", "visit_minutes"):
            try:
                value = float(str(rec[col]).strip())
            except ValueError:
                value = float("nan")
            if not (value > 0 and value < 1e9):
                bad(row, col, rec[col], t("plan.route.why.positive"))
                ok = False
            out[col] = value
        o_txt, c_txt = str(rec["opens"]).strip(), str(rec["closes"]).strip()
        out["default_window"] = not o_txt and not c_txt
        if out["default_window"]:
            o_txt, c_txt = settings.default_opens, settings.default_closes
        o, c = clock(o_txt), clock(c_txt)
        if o is None:
            bad(row, "opens", o_txt, t("plan.route.why.clock"))
            ok = False
        if c is None:
            bad(row, "closes", c_txt, t("plan.route.why.clock"))
            ok = False
        if o is not None and c is not None and c < o:
            bad(row, "closes", c_txt, t("plan.route.why.before", opens=o_txt))
            ok = False
        flag = str(rec.get("illustrative", "")).strip().lower()
        if flag not in TRUE | FALSE:
            bad(row, "illustrative", rec.get("illustrative"), t("plan.route.why.bool"))
            ok = False
        if ok:
            assert code is not None and o is not None and c is not None
            out.update(code=code, county=county, opens=o, closes=c,
                       theme=str(rec["theme"]).strip(), illustrative=flag in TRUE,
                       county_zh=str(units.at[code, "name_zh"]),
                       county_en=str(units.at[code, "name_en"]))
            rows.append(out)
    if issues:
        raise PlanInputError(t("plan.route.err.file", path=src.name, n=len(issues),
                               issues="; ".join(issues)))
    cols = ["name_zh", "name_en", "county", "code", "county_zh", "county_en", "theme", "score",
            "visit_minutes", "opens", "closes", "default_window", "illustrative"]
    return pd.DataFrame(rows)[cols]
