"""Where a run's data came from, read from the store's facts (never from static text).

:func:`provenance` says which workspace a run read (or the embedded dataset in memory), which
embedded dataset it was built from, the datum of its boundaries and every user write logged
in the import log that touched the indicators (and years) the run used: file, SHA-256, rows,
values added and replaced, and when. Reports, workbooks, JSON documents and manifests all
print this one record (:func:`cocity.outputs.manifest` stores it), so they tell the same
story: "内置数据集的真实数据" is true only when ``user_data`` is false.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cocity.data.store import Store


def _overlaps(logged: Any, wanted: set[Any] | None, cast: type) -> bool:
    """Whether an import's logged list touches ``wanted`` (an unlogged list counts as yes)."""
    if wanted is None or not _listlike(logged):
        return True
    return bool(wanted & {cast(v) for v in logged})


def provenance(store: Store, *, indicators: Iterable[str] | None = None,
               years: Iterable[int] | None = None,
               include_boundaries: bool = True) -> dict[str, Any]:
    """The provenance record of a run on ``store`` that used ``indicators`` in ``years``
    (``None``: any).

    Keys: ``workspace`` (folder, or ``None`` for the embedded dataset in memory), ``dataset``
    (the embedded dataset the workspace was created with, or ``None``), ``datum``, ``imports``
    (the logged writes that touched those indicators and years, and boundary imports when
    ``include_boundaries``: ``file``, ``sha256``, ``kind``, ``rows``, ``added``, ``replaced``,
    ``imported_at`` UTC, ``indicators``, ``years``, ``notes`` such as the unit conversions
    applied) and ``user_data`` (any such import).
    """
    wanted_ind = set(map(str, indicators)) if indicators is not None else None
    wanted_years = {int(y) for y in years} if years is not None else None
    meta = store.meta()
    log = store.import_log()
    entries = []
    for row in log.to_dict("records"):
        kind = str(row.get("kind") or "")
        if kind == "boundaries":
            if not include_boundaries:
                continue
        elif not (_overlaps(row.get("indicators"), wanted_ind, str)
                  and _overlaps(row.get("years"), wanted_years, int)):
            continue
        stamp = row.get("imported_at")
        entries.append({
            "file": str(row.get("file") or ""), "sha256": row.get("sha256") or None,
            "kind": kind, "rows": _int(row.get("rows")), "added": _int(row.get("added")),
            "replaced": _int(row.get("changed")),
            "imported_at": _utc(stamp),
            "indicators": sorted(map(str, row["indicators"])) if _listlike(
                row.get("indicators")) else None,
            "years": sorted(int(y) for y in row["years"]) if _listlike(row.get("years"))
            else None,
            "notes": [str(n) for n in row["notes"]] if _listlike(row.get("notes")) else [],
        })
    return {
        "workspace": str(store.path) if store.path is not None else None,
        "dataset": meta.get("dataset"),
        "datum": meta.get("datum"),
        "imports": entries,
        "user_data": bool(entries),
    }


def _utc(stamp: Any) -> str | None:
    if stamp is None or not hasattr(stamp, "strftime"):
        return None if stamp is None else str(stamp)
    return str(stamp.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _listlike(value: Any) -> bool:
    return value is not None and not isinstance(value, (str, float)) and hasattr(
        value, "__iter__")
