"""The monitoring file of the eco-compensation tool: read (CSV or XLSX) and validated at once.

Columns (headers in English or Chinese, any case): ``section`` (断面), ``upstream`` (上游) and
``downstream`` (下游) units (code or name, 成都 / 510100), ``month`` (月份, ``YYYY-MM``), and the
concentrations in mg/L either one column per item — ``codmn`` (高锰酸盐指数), ``nh3n`` (氨氮),
``tn`` (总氮), ``tp`` (总磷) — or long form ``parameter`` (指标) + ``value`` (浓度); optional
``simulated`` (模拟: true/false). Other columns are ignored. Every problem is reported at once
(:class:`MonitoringError`), each naming its row (1-based as a spreadsheet shows it, the header
being row 1): unknown unit, upstream equal to downstream, a section whose units change between
rows, bad month, a value that is not a number or is negative, an unknown parameter, a duplicate
(section, month, item), an item missing from a section's month.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cocity.data.errors import CocityError, Issue, IssuesError
from cocity.i18n import t
from cocity.plan.ecocomp_rules import ITEMS
from cocity.plan.errors import PlanInputError

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
ALIASES = {
    "section": ("section", "断面", "断面名称"),
    "upstream": ("upstream", "上游", "上游单元"),
    "downstream": ("downstream", "下游", "下游单元"),
    "month": ("month", "月份", "月"),
    "parameter": ("parameter", "item", "指标", "项目"),
    "value": ("value", "浓度", "值", "value_mg_l"),
    "simulated": ("simulated", "模拟"),
    "codmn": ("codmn", "cod_mn", "codmn_mg_l", "高锰酸盐指数", "permanganate"),
    "nh3n": ("nh3n", "nh3-n", "nh3_n", "氨氮", "ammonia"),
    "tn": ("tn", "总氮", "total_nitrogen"),
    "tp": ("tp", "总磷", "total_phosphorus"),
}
TRUE = {"true", "1", "yes", "y", "是", "t"}
FALSE = {"false", "0", "no", "n", "否", "f", ""}


class MonitoringError(IssuesError, PlanInputError):
    """The monitoring file cannot be used; ``issues`` lists every bad row."""

    headline = "plan.ecocomp.data.headline"


def _canonical(name: object) -> str | None:
    key = str(name).strip().lower()
    for canon, names in ALIASES.items():
        if key in names:
            return canon
    return None


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise PlanInputError(t("plan.ecocomp.data.no_file", file=str(path)))
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return pd.read_excel(path, dtype=str, keep_default_na=False)
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise PlanInputError(t("plan.ecocomp.data.unreadable", file=str(path),
                               error=str(exc))) from None
    raise PlanInputError(t("plan.ecocomp.data.format", file=str(path)))


def read_monitoring(path: str | Path, *, resolve: Callable[[str], str]) -> pd.DataFrame:
    """The validated samples, wide form: ``section``, ``upstream``, ``downstream`` (unit
    codes), ``month``, ITEMS (mg/L), ``simulated``, ``row`` (the first file row of the sample).
    ``resolve`` turns a unit name or code into its code (a :class:`CocityError` when it
    cannot)."""
    file = Path(path)
    raw = _read(file)
    return validate_monitoring(raw, resolve=resolve, origin=str(file))


def validate_monitoring(raw: pd.DataFrame, *, resolve: Callable[[str], str],
                        origin: str = "<data>") -> pd.DataFrame:
    """Validate a frame read as text (see :func:`read_monitoring`)."""
    issues: list[Issue] = []
    cols: dict[str, str] = {}
    for c in raw.columns:
        canon = _canonical(c)
        if canon is not None and canon not in cols:
            cols[canon] = str(c)
    long_form = "parameter" in cols and "value" in cols
    need = ["section", "upstream", "downstream", "month"] + (
        [] if long_form else list(ITEMS))
    missing = [c for c in need if c not in cols]
    if missing:
        raise MonitoringError([Issue(t("plan.ecocomp.data.columns", columns=", ".join(missing),
                                       items=", ".join(ITEMS)), origin)])
    frame = raw.rename(columns={v: k for k, v in cols.items()})
    frame = frame[list(cols)].astype(str).apply(lambda s: s.str.strip())
    frame["row"] = np.arange(len(frame)) + 2
    codes: dict[str, str | None] = {}
    errors: dict[str, str] = {}

    def unit(name: str, row: int, column: str) -> str | None:
        if not name:
            issues.append(Issue(t("plan.ecocomp.data.empty"), origin, row, column))
            return None
        if name not in codes:
            try:
                codes[name] = resolve(name)
            except CocityError as exc:
                codes[name] = None
                errors[name] = str(exc)
        if codes[name] is None:
            issues.append(Issue(errors[name], origin, row, column))
        return codes[name]

    records: list[dict[str, Any]] = []
    sections: dict[str, tuple[str | None, str | None, int]] = {}
    for rec in frame.to_dict("records"):
        row = int(rec["row"])
        ok = True
        if not rec["section"]:
            issues.append(Issue(t("plan.ecocomp.data.empty"), origin, row, "section"))
            ok = False
        up = unit(rec["upstream"], row, "upstream")
        down = unit(rec["downstream"], row, "downstream")
        ok = ok and up is not None and down is not None
        if up is not None and up == down:
            issues.append(Issue(t("plan.ecocomp.data.same_unit", unit=rec["upstream"]),
                                origin, row, "downstream"))
            ok = False
        if rec["section"] and up is not None and down is not None:
            seen = sections.setdefault(rec["section"], (up, down, row))
            if seen[:2] != (up, down):
                issues.append(Issue(t("plan.ecocomp.data.section_units",
                                      section=rec["section"], first=seen[2]), origin, row))
                ok = False
        if not MONTH.match(rec["month"]):
            issues.append(Issue(t("plan.ecocomp.data.month", value=rec["month"]), origin, row,
                                "month"))
            ok = False
        sim = str(rec.get("simulated", "")).lower()
        if sim not in TRUE | FALSE:
            issues.append(Issue(t("plan.ecocomp.data.flag", value=rec["simulated"]), origin,
                                row, "simulated"))
            ok = False
        pairs = ([(rec["parameter"], rec["value"], "value")] if long_form
                 else [(k, rec[k], k) for k in ITEMS])
        values: dict[str, float] = {}
        for item, text, column in pairs:
            canon = _canonical(item)
            if canon not in ITEMS:
                issues.append(Issue(t("plan.ecocomp.data.parameter", value=item,
                                      items=", ".join(ITEMS)), origin, row, "parameter"))
                ok = False
                continue
            try:
                v = float(text)
            except ValueError:
                v = float("nan")
            if not np.isfinite(v):
                issues.append(Issue(t("plan.ecocomp.data.number", value=text), origin, row,
                                    column))
                ok = False
            elif v < 0:
                issues.append(Issue(t("plan.ecocomp.data.negative", value=text), origin, row,
                                    column))
                ok = False
            else:
                values[str(canon)] = v
        if ok:
            for item, v in values.items():
                records.append({"section": rec["section"], "upstream": up, "downstream": down,
                                "month": rec["month"], "item": item, "value": v,
                                "simulated": sim in TRUE, "row": row})
    long = pd.DataFrame(records, columns=["section", "upstream", "downstream", "month", "item",
                                          "value", "simulated", "row"])
    dup = long[long.duplicated(["section", "month", "item"], keep=False)]
    for (section, month, item), sub in dup.groupby(["section", "month", "item"], sort=True):
        rows = sub["row"].tolist()
        issues.append(Issue(t("plan.ecocomp.data.duplicate", section=section, month=month,
                              item=item, rows=", ".join(map(str, rows))), origin, rows[-1]))
    for (section, month), sub in long.groupby(["section", "month"], sort=True):
        absent = [k for k in ITEMS if k not in set(sub["item"])]
        if absent:
            issues.append(Issue(t("plan.ecocomp.data.missing_item", section=section,
                                  month=month, items=", ".join(absent)), origin,
                                int(sub["row"].min())))
    if issues:
        raise MonitoringError(issues)
    if long.empty:
        raise MonitoringError([Issue(t("plan.ecocomp.data.no_rows"), origin)])
    wide = long.pivot_table(index=["section", "upstream", "downstream", "month"],
                            columns="item", values="value", aggfunc="first")
    meta = long.groupby(["section", "upstream", "downstream", "month"]).agg(
        simulated=("simulated", "any"), row=("row", "min"))
    out = wide.join(meta).reset_index()
    out.columns.name = None
    return out[["section", "upstream", "downstream", "month", *ITEMS, "simulated", "row"]]
