"""The committee's standards register (统一标准、资质互认): which unified public-service
standards and mutual-recognition items each unit has adopted, from when, by which document.

Usage (every write names its audit: actor, role, reason; an optional idempotency key)::

    from cocity.records import open_records
    from cocity.govern.standards import Standards

    reg = Standards(open_records("cocity-records.sqlite"))
    reg.record("异地就医直接结算", "成都", "试点", date="2024-03-01",
               document="成医保发〔…〕…号", actor="zhang", role="secretary",
               reason="据文件登记", key="std-med-cd-1")
    reg.status(as_of="2024-12-31")        # one row per item × unit: the status in force
    reg.history(unit="成都")               # every record of a unit
    reg.coverage(as_of="2024-12-31")       # per item: units adopted / piloting / none, share

Design:

* **The items and the statuses are data** (``standards.yaml``, read through
  :mod:`cocity.spec`): each item has an id, a Chinese and English name, a case category
  (``categories.yaml``), what adoption means, and its source — the text naming it (a file of
  the project's source texts and the words quoted) and/or the national policy it belongs to.
  Statuses: 计划 planned, 试点 piloting, 已实施 adopted, 暂停 suspended. **No adoption is
  shipped**: the register starts empty; users record adoption, each record citing a document.
* **Records** are appended to ``govern_adoptions`` (append-only by triggers on both
  databases): item, unit (GB/T 2260 code resolved from what the user typed by
  :meth:`cocity.data.units.UnitIndex.resolve`), status, the date it took effect, the
  document, the audit (actor, role, reason, time UTC) and ``simulated`` (a generated
  demonstration record: flagged wherever shown). A record is checked whole before anything is
  written: an unknown item, unit or status, an empty field, a date that is not a date, or a
  date before the unit's previous record of the same item → a bilingual
  :class:`~cocity.govern.errors.GovernError`, nothing written. The date check and the insert
  run in one write transaction (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-level
  advisory lock on the item × unit pair), so two writers cannot interleave.
* **Idempotency**: with a ``key``, the same key and the same body (every field and the audit,
  not the time) returns the record already written (``replayed=True``); another body under
  that key is refused (:class:`DuplicateAdoptionError`).
* **Status in force** on a date ``d`` of an item in a unit: the status of its latest record
  with ``date <= d`` (ties: the later written); no such record → none (未登记).
* **Coverage** of an item on ``d`` over a set of units ``U`` (default: the evaluation's
  prefecture level — the 16 prefecture-level units of the embedded dataset, membership full
  or partial): the number of units of ``U`` whose status in force is adopted, piloting,
  planned, suspended or none, and ``share_adopted = adopted / |U|`` (piloting does not
  count as adopted). Per unit, ``share_adopted`` is the number of items adopted over the
  number of items.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import pydantic
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cocity.govern.errors import GovernError, InvalidCaseError
from cocity.govern.machine import Name, lookup, vocabularies
from cocity.govern.register import Register
from cocity.i18n import t
from cocity.records import schema as S
from cocity.spec import Spec, load_spec

if TYPE_CHECKING:
    import pandas as pd

    from cocity.data.units import UnitIndex
    from cocity.records import Records

# The default unit set of coverage: the evaluation's prefecture level (membership full+partial).
DEFAULT_LEVEL = "prefecture"
DEFAULT_MEMBERSHIP = ("full", "partial")
NONE = "none"  # the status shown where a unit has no record of an item


# ---------------------------------------------------------------------- errors
class StandardsError(GovernError):
    """A request to the standards register was refused; nothing was written."""

    label = "govern.std.err.generic"


class UnknownStandardError(StandardsError):
    """The item named is not in ``standards.yaml``."""

    label = "govern.std.err.standard"


class UnknownStatusError(StandardsError):
    """The status named is not one of the adoption statuses."""

    label = "govern.std.err.status"


class AdoptionDateError(StandardsError):
    """The date is before the unit's previous record of the same item."""

    label = "govern.std.err.date_order"


class DuplicateAdoptionError(StandardsError):
    """The idempotency key was used before for a record with another body."""

    label = "govern.std.err.duplicate"


# ---------------------------------------------------------------------- the data
class StatusDef(Name):
    """An adoption status: ``adopted`` counts as adopted, ``piloting`` as a pilot."""

    adopted: bool
    piloting: bool


class TextSource(Spec):
    """A source text naming the item: its file (``shared/seeds``) and the words quoted."""

    file: str
    quote: str


class ItemSource(Spec):
    texts: list[TextSource] = pydantic.Field(default_factory=list)
    policy: Name | None = None

    @pydantic.model_validator(mode="after")
    def _named(self) -> ItemSource:
        if not self.texts and self.policy is None:
            raise ValueError(t("govern.std.spec.no_source"))
        return self


class Item(Name):
    """A unified standard or mutual-recognition item."""

    category: str
    adoption: Name
    source: ItemSource


class Catalogue(Spec):
    statuses: dict[str, StatusDef]
    items: dict[str, Item]

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        known = vocabularies().categories
        bad = sorted(f"{k}: {i.category}" for k, i in self.items.items()
                     if i.category not in known)
        if bad:
            raise ValueError(t("govern.std.spec.category", items=", ".join(bad),
                               known=", ".join(known)))
        if sum(s.adopted for s in self.statuses.values()) != 1 or sum(
                s.piloting for s in self.statuses.values()) != 1:
            raise ValueError(t("govern.std.spec.statuses"))
        if NONE in self.statuses:
            raise ValueError(t("govern.std.spec.none", none=NONE))
        return self

    @property
    def adopted(self) -> str:
        return next(k for k, s in self.statuses.items() if s.adopted)

    @property
    def piloting(self) -> str:
        return next(k for k, s in self.statuses.items() if s.piloting)


@cache
def catalogue() -> Catalogue:
    """The shipped items and statuses (``standards.yaml``)."""
    return load_spec(Catalogue, package=__package__, default="standards.yaml")


@dataclass(frozen=True)
class Adoption:
    """One record of the register (a row of ``govern_adoptions``)."""

    id: int
    standard: str
    unit: str
    status: str
    date: str
    document: str
    time: str
    simulated: bool
    key: str | None
    actor: str
    role: str
    reason: str
    replayed: bool = False


def _text(value: object, field: str) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise InvalidCaseError("govern.err.empty", field=field)
    return text


def _date(value: object, field: str) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise InvalidCaseError("govern.err.date", field=field, value=value) from None


def _sha(body: Mapping[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _adoption(row: Any, *, replayed: bool = False) -> Adoption:
    return Adoption(id=int(row["id"]), standard=row["standard"], unit=row["unit_code"],
                    status=row["status"], date=row["date"], document=row["document"],
                    time=row["time"], simulated=bool(row["simulated"]), key=row["key"],
                    actor=row["actor"], role=row["role"], reason=row["reason"],
                    replayed=replayed)


_COLUMNS = ["id", "standard", "unit_code", "status", "date", "document", "time", "simulated",
            "key", "actor", "role", "reason"]


class Standards:
    """The standards register on an open records database (see the module doc).

    ``units``: the :class:`~cocity.data.units.UnitIndex` resolving unit names and giving the
    default unit set (default: the embedded dataset's units, read on first use).
    ``clock``: the UTC time stamp of records (default :func:`cocity.outputs.now_utc`)."""

    def __init__(self, records: Records, *, units: UnitIndex | None = None,
                 clock: Callable[[], str] | None = None) -> None:
        self.records = records
        self._register = Register(records, units=units, clock=clock)
        self.catalogue: Catalogue = catalogue()

    @property
    def units(self) -> UnitIndex:
        return self._register.units

    def default_units(self) -> list[str]:
        """The codes of the default unit set: the evaluation's prefecture level (the units of
        level ``prefecture`` with membership full or partial), in code order."""
        u = self.units.units
        keep = (u["level"] == DEFAULT_LEVEL) & u["membership"].isin(DEFAULT_MEMBERSHIP)
        return sorted(str(c) for c in u.loc[keep, "code"])

    def standard(self, value: object) -> str:
        """The item id named by ``value`` (its id, Chinese or English name)."""
        found = lookup(_text(value, "standard"), self.catalogue.items)
        if found is None:
            allowed = "、".join(f"{k} ({i.zh})" for k, i in self.catalogue.items.items())
            raise UnknownStandardError(value=value, allowed=allowed)
        return found

    def status_id(self, value: object) -> str:
        """The status id named by ``value`` (its id, Chinese or English name)."""
        found = lookup(_text(value, "status"), self.catalogue.statuses)
        if found is None:
            allowed = "、".join(f"{k} ({s.zh}/{s.en})"
                               for k, s in self.catalogue.statuses.items())
            raise UnknownStatusError(value=value, allowed=allowed)
        return found

    def unit(self, value: object) -> str:
        """The GB/T 2260 code of the unit named by ``value``."""
        return self._register._resolve_units([value])[0]

    # -- writes --------------------------------------------------------------------------
    def record(self, standard: str, unit: str, status: str, *, date: dt.date | str,
               document: str, actor: str, role: str, reason: str, key: str | None = None,
               simulated: bool = False) -> Adoption:
        """Append one record: ``unit`` has ``status`` for ``standard`` from ``date``, by
        ``document``; returns it. Refused, nothing written: see the module doc."""
        body: dict[str, Any] = {
            "standard": self.standard(standard),
            "unit_code": self.unit(unit),
            "status": self.status_id(status),
            "date": _date(date, "date"),
            "document": _text(document, "document"),
            "simulated": bool(simulated),
        }
        audit = {"actor": _text(actor, "actor"), "role": _text(role, "role"),
                 "reason": _text(reason, "reason")}
        idem = None if key is None else _text(key, "key")
        sha = None if idem is None else _sha({"body": body, **audit})
        a = S.govern_adoptions

        def work(conn: Connection) -> Adoption:
            if self.records.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                             {"k": f"govern_adoptions:{body['standard']}:{body['unit_code']}"})
            if idem is not None:
                done = conn.execute(sa.select(a).where(a.c.key == idem)).mappings().first()
                if done is not None:
                    if done["body_sha"] != sha:
                        raise DuplicateAdoptionError(idem=idem, id=done["id"])
                    return _adoption(done, replayed=True)
            last = conn.execute(sa.select(sa.func.max(a.c.date)).where(
                a.c.standard == body["standard"], a.c.unit_code == body["unit_code"])
            ).scalar_one()
            if last is not None and body["date"] < last:
                raise AdoptionDateError(date=body["date"], last=last,
                                        standard=self._item_name(body["standard"]),
                                        unit=body["unit_code"])
            new_id = conn.execute(a.insert().values(
                **body, **audit, key=idem, body_sha=sha, time=self._register._clock()
            ).returning(a.c.id)).scalar_one()
            row = conn.execute(sa.select(a).where(a.c.id == new_id)).mappings().one()
            return _adoption(row)

        return self._register._write(work)

    def _item_name(self, item: str) -> str:
        i = self.catalogue.items[item]
        return f"{i.zh} {i.en}"

    # -- reads ---------------------------------------------------------------------------
    def history(self, *, standard: str | None = None, unit: str | None = None
                ) -> pd.DataFrame:
        """Every record (of one item and/or one unit when given), ordered by item, unit,
        date and id: ``id``, ``standard``, ``unit_code``, ``status``, ``date``,
        ``document``, ``time``, ``simulated``, ``key``, ``actor``, ``role``, ``reason``."""
        import pandas as pd

        a = S.govern_adoptions
        q = sa.select(*(a.c[c] for c in _COLUMNS))
        if standard is not None:
            q = q.where(a.c.standard == self.standard(standard))
        if unit is not None:
            q = q.where(a.c.unit_code == self.unit(unit))
        q = q.order_by(a.c.standard, a.c.unit_code, a.c.date, a.c.id)
        with self.records.read() as conn:
            rows = conn.execute(q).all()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=_COLUMNS)
        frame["key"] = frame["key"].astype("string")
        return frame.astype({"id": "int64", "simulated": "bool"})

    def status(self, *, as_of: dt.date | str | None = None, standard: str | None = None,
               units: Iterable[str] | None = None) -> pd.DataFrame:
        """The status in force on ``as_of`` (default: every record) of each item × unit —
        every item (or ``standard``) × every unit of ``units`` (default: the default unit
        set) and any other unit with a record —, ordered by item (as in ``standards.yaml``)
        and unit code: ``standard``, ``unit_code``, ``status`` (``none`` without a record on
        or before ``as_of``), ``date``, ``document``, ``simulated`` (the record in force is
        simulated), ``record_id``."""
        import pandas as pd

        day = None if as_of is None else _date(as_of, "as_of")
        items = list(self.catalogue.items) if standard is None else [self.standard(standard)]
        hist = self.history(standard=standard)
        if day is not None:
            hist = hist[hist["date"] <= day]
        latest: dict[tuple[str, str], dict[Any, Any]] = {
            (r["standard"], r["unit_code"]): r
            for r in hist.sort_values(["date", "id"]).to_dict("records")}  # last wins
        wanted = self.default_units() if units is None else [self.unit(u) for u in units]
        codes = sorted(set(wanted) | set(hist["unit_code"]))
        rows: list[tuple[Any, ...]] = []
        for item in items:
            for code in codes:
                r = latest.get((item, code))
                if r is not None:
                    rows.append((item, code, r["status"], r["date"], r["document"],
                                 bool(r["simulated"]), int(r["id"])))
                else:
                    rows.append((item, code, NONE, None, None, False, None))
        frame = pd.DataFrame(rows, columns=["standard", "unit_code", "status", "date",
                                            "document", "simulated", "record_id"])
        for col in ("date", "document"):
            frame[col] = frame[col].astype("string")
        return frame.astype({"simulated": "bool", "record_id": "Int64"})

    def coverage(self, *, as_of: dt.date | str | None = None,
                 units: Iterable[str] | None = None) -> pd.DataFrame:
        """Per item (in ``standards.yaml`` order), over the unit set ``units`` (default: the
        default unit set): how many units have each status in force on ``as_of`` (one
        column per status, and ``none``), ``units`` (the size of the set), ``share_adopted``
        (adopted / units) and ``simulated`` (records in force that are simulated)."""
        import pandas as pd

        wanted = self.default_units() if units is None else list(
            dict.fromkeys(self.unit(u) for u in units))
        st = self.status(as_of=as_of, units=wanted)
        st = st[st["unit_code"].isin(wanted)]
        columns = [*self.catalogue.statuses, NONE]
        rows = []
        for item in self.catalogue.items:
            mine = st[st["standard"] == item]
            counts = mine["status"].value_counts()
            row: dict[str, Any] = {"standard": item}
            row.update({s: int(counts.get(s, 0)) for s in columns})
            row["units"] = len(wanted)
            row["share_adopted"] = row[self.catalogue.adopted] / len(wanted) if wanted else 0.0
            row["simulated"] = int(mine["simulated"].sum())
            rows.append(row)
        return pd.DataFrame(rows, columns=["standard", *columns, "units", "share_adopted",
                                           "simulated"])

    def unit_shares(self, *, as_of: dt.date | str | None = None,
                    units: Iterable[str] | None = None) -> pd.DataFrame:
        """Per unit (default set, code order): ``adopted`` (items adopted on ``as_of``),
        ``piloting``, ``items`` (the number of items), ``share_adopted`` (adopted / items)
        and ``simulated`` (records in force that are simulated)."""
        import pandas as pd

        wanted = self.default_units() if units is None else list(
            dict.fromkeys(self.unit(u) for u in units))
        st = self.status(as_of=as_of, units=wanted)
        st = st[st["unit_code"].isin(wanted)]
        n = len(self.catalogue.items)
        rows = []
        for code in wanted:
            mine = st[st["unit_code"] == code]
            adopted = int((mine["status"] == self.catalogue.adopted).sum())
            rows.append({"unit_code": code, "adopted": adopted,
                         "piloting": int((mine["status"] == self.catalogue.piloting).sum()),
                         "items": n, "share_adopted": adopted / n,
                         "simulated": int(mine["simulated"].sum())})
        return pd.DataFrame(rows, columns=["unit_code", "adopted", "piloting", "items",
                                           "share_adopted", "simulated"])
