"""The what-if page (情景推演): a signed-in user adds hospital beds, a hospital or a faster link
between two units, and sees the derived indicators, scores, ranks, grades and the fund's
allocation recomputed beside the edition in force — :func:`cocity.plan.whatif.what_if`, the
function of ``cocity plan whatif``, with the fields typed as on the command line
(``成都:500``, ``成都-资阳:35``).

Nothing is written: the published run folder is read and checked against its signature, the
store is opened read-only and the computation runs in memory; the request waits for it (a few
seconds, serialised with the portal's other heavy jobs) and the page says how long it took.
The page is for every signed-in role (it computes, so anonymous callers cannot start it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from cocity.data.errors import CocityError
from cocity.web.deps import Principal, csrf_form, portal, render, require
from cocity.web.errors import PortalError, Shown
from cocity.web.roles import ROLES

router = APIRouter(prefix="/whatif")
NAV = [("/whatif", "whatif.web.nav", ROLES)]
SIGNED_IN = Depends(require(*ROLES))
LEVELS = ("prefecture", "county")
MAX_LINES = 20  # changes per field
MAX_CHARS = 2000  # characters per field
FIELDS = ("beds", "hospitals", "links", "level", "fund")


def _edition(state: Any) -> tuple[Any, Path | None]:
    """The newest edition in force and its run folder (checked), or (None, None)."""
    from cocity.publish.editions import editions, run_folder

    found = editions(state.records)
    if not found:
        return None, None
    edition = found[-1]
    return edition, run_folder(edition, state.runs_root)


def _lines(form: FormData, name: str) -> list[str]:
    text = str(form.get(name) or "")
    if len(text) > MAX_CHARS:
        raise PortalError("whatif.web.err.too_long", field=name, max=MAX_CHARS)
    lines = [line.strip() for line in text.replace("\r", "\n").split("\n") if line.strip()]
    if len(lines) > MAX_LINES:
        raise PortalError("whatif.web.err.too_many", field=name, max=MAX_LINES)
    return lines


def _page(request: Request, *, form: dict[str, str] | None = None, result: Any = None,
          error: Any = None, status: int = 200) -> Response:
    state = portal(request)
    try:
        edition, _ = _edition(state)
    except CocityError as exc:
        edition, error = None, error or Shown(exc)
    return render(request, "whatif/home.html", {
        "edition": edition, "form": form or {**dict.fromkeys(FIELDS, ""), "level": "prefecture"},
        "levels": LEVELS,
        "result": result, "error": error}, status=status)


@router.get("", response_class=HTMLResponse)
def home(request: Request, who: Annotated[Principal, SIGNED_IN]) -> Response:
    return _page(request)


@router.post("", response_class=HTMLResponse)
async def compute(request: Request, who: Annotated[Principal, SIGNED_IN],
                  form: Annotated[FormData, Depends(csrf_form)]) -> Response:
    from starlette.concurrency import run_in_threadpool

    state = portal(request)
    typed = {k: str(form.get(k) or "")[:MAX_CHARS]
             for k in FIELDS}
    try:
        level = typed["level"] or "prefecture"
        if level not in LEVELS:
            raise PortalError("web.err.choice", field="level", value=level[:20])
        from cocity.fund.money import parse_yuan
        from cocity.plan.whatif import parse_changes

        changes = parse_changes(beds=_lines(form, "beds"), hospitals=_lines(form, "hospitals"),
                                links=_lines(form, "links"))
        if not changes:
            raise PortalError("whatif.web.err.no_change")
        fund_fen = parse_yuan(typed["fund"]) if typed["fund"].strip() else None
        _, run = _edition(state)
        result = await run_in_threadpool(_what_if, state, changes, level, run, fund_fen)
    except CocityError as exc:
        return _page(request, form=typed, error=Shown(exc), status=400)
    return _page(request, form=typed, result=_view(result, level, request.state.lang))


def _what_if(state: Any, changes: list[Any], level: str, run: Path | None,
             fund_fen: int | None) -> Any:
    from cocity.datasets import open_store
    from cocity.plan.whatif import what_if

    with state.jobs:
        store = open_store(state.workspace, read_only=True)
        try:
            return what_if(store, changes=changes, level=level, run=run, fund_fen=fund_fen)
        finally:
            store.close()


def _num(value: Any, places: int = 2) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    return "—" if number != number else f"{number:,.{places}f}"


def _view(w: Any, level: str, lang: str) -> dict[str, Any]:
    """What the page shows of a :class:`~cocity.plan.whatif.WhatIf` (plain values)."""
    rules = w.baseline.rules
    res = w.levels[level]
    has_pub = "published_score" in res.units

    def grade(value: Any) -> str:
        return "—" if value is None or value != value else rules.label(str(value), lang)

    alloc: dict[str, tuple[int, int]] = {}
    if w.allocation is not None:
        a = w.allocation
        tot = a[(a["use"] == "total") & (a["unit"] != "*")]
        alloc = {str(u): (int(b), int(s)) for u, b, s in zip(
            tot["unit"], tot["amount_baseline"], tot["amount_scenario"], strict=True)}
    units = []
    for code, row in res.changed.iterrows():
        b, s = alloc.get(str(code), (0, 0))
        units.append({
            "code": str(code), "name": row[f"name_{lang}"],
            "published": _num(row["published_score"]) if has_pub else None,
            "published_grade": grade(row["published_grade"]) if has_pub else None,
            "baseline": _num(row["baseline_score"]), "scenario": _num(row["scenario_score"]),
            "rank": f"{row['baseline_rank']} → {row['scenario_rank']}",
            "grade": f"{grade(row['baseline_grade'])} → {grade(row['scenario_grade'])}",
            "allocation": (f"{_num(b / 100)} → {_num(s / 100)}"
                           if str(code) in alloc else None)})
    indicators = [{"unit": r[f"name_{lang}"], "indicator": r[f"indicator_{lang}"],
                   "baseline": _num(r["baseline"], 4), "scenario": _num(r["scenario"], 4),
                   "change": _num(r["change"], 4)}
                  for _, r in res.indicators.iterrows()]
    return {"year": w.year, "units": units, "indicators": indicators,
            "has_published": has_pub,
            "has_allocation": any(str(code) in alloc for code in res.units.index),
            "allocation_elsewhere": bool(alloc) and not any(
                str(code) in alloc for code in res.units.index),
            "published_run": None if w.published is None else w.published.run,
            "notes": [note[lang] for note in w.notes], "seconds": f"{w.seconds:.2f}"}
