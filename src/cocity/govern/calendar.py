"""The committee's meeting calendar: a monthly work meeting (工作会议) every month and a
quarterly problem-coordination meeting (问题协调会) every quarter, on dates given as rules in
``meetings.yaml`` (``calendar``), moved off weekends and the holidays the user lists.

Pure: :func:`plan` is a function of the year, the rules and the holidays.

* **Nominal date** of a month's meeting: ``nth_weekday`` — the ``nth`` ``weekday`` of the month
  (``nth`` 1–4, or −1 for the last one); ``day_of_month`` — day ``day`` (1–28, or −1 for the
  month's last day).
* The quarterly meeting is held in month ``month_of_quarter`` (1–3) of each quarter; with
  ``replaces_monthly`` no work meeting is held in that month (the coordination meeting also
  reviews every open case, :mod:`cocity.govern.agenda`).
* **Working day**: Monday–Friday and not a listed holiday, or a listed make-up working day
  (调休上班日, e.g. a Sunday worked before a long holiday). A nominal date that is not a working
  day moves to the next working day (``shift: next_working_day``) — possibly into the next
  month; the meeting keeps the key of its period (``2024-05-monthly``, ``2024-Q2-quarterly``).

No holiday list is shipped: the user gives one (:func:`read_holidays`, a YAML file
``{holidays: [...], workdays: [...]}`` whose entries are dates or ranges
``2024-10-01..2024-10-07``), e.g. transcribed from the State Council's notice for the year.
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pydantic

from cocity.govern.errors import GovernError
from cocity.i18n import t
from cocity.spec import Spec, load_spec

MEETING_KINDS = ("monthly", "quarterly")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class MeetingDateRule(Spec):
    """How a month's meeting date is found (see the module doc)."""

    rule: Literal["nth_weekday", "day_of_month"] = "nth_weekday"
    nth: int = 2
    weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                     "sunday"] = "thursday"
    day: int = 15

    @pydantic.model_validator(mode="after")
    def _ranges(self) -> MeetingDateRule:
        if self.nth not in (1, 2, 3, 4, -1):
            raise ValueError(t("govern.meet.spec.nth", nth=self.nth))
        if not (1 <= self.day <= 28 or self.day == -1):
            raise ValueError(t("govern.meet.spec.day", day=self.day))
        return self

    def nominal(self, year: int, month: int) -> dt.date:
        """The meeting's date in ``year``-``month`` before any shift."""
        last = _cal.monthrange(year, month)[1]
        if self.rule == "day_of_month":
            return dt.date(year, month, last if self.day == -1 else self.day)
        wd = WEEKDAYS.index(self.weekday)
        days = [d for d in range(1, last + 1) if dt.date(year, month, d).weekday() == wd]
        return dt.date(year, month, days[-1] if self.nth == -1 else days[self.nth - 1])


class QuarterlyRule(MeetingDateRule):
    month_of_quarter: int = 3
    replaces_monthly: bool = True

    @pydantic.model_validator(mode="after")
    def _month(self) -> QuarterlyRule:
        if self.month_of_quarter not in (1, 2, 3):
            raise ValueError(t("govern.meet.spec.month_of_quarter", month=self.month_of_quarter))
        return self


class CalendarRules(Spec):
    monthly: MeetingDateRule = pydantic.Field(default_factory=MeetingDateRule)
    quarterly: QuarterlyRule = pydantic.Field(default_factory=QuarterlyRule)
    shift: Literal["next_working_day"] = "next_working_day"


class ReasonName(Spec):
    zh: str
    en: str


class AgendaRules(Spec):
    reasons: dict[str, ReasonName]
    defer_limit: int = 2
    escalate_overdue: bool = True
    leading_group_reasons: list[str] = pydantic.Field(
        default_factory=lambda: ["escalated", "deferred", "overdue"])
    settled_by: list[str] = pydantic.Field(default_factory=lambda: ["resolve"])

    @pydantic.model_validator(mode="after")
    def _known(self) -> AgendaRules:
        needed = {"escalated", "deferred", "overdue", "review"}
        missing = sorted(needed - set(self.reasons))
        unknown = sorted(set(self.leading_group_reasons) - needed)
        if missing or unknown:
            raise ValueError(t("govern.meet.spec.reasons", missing=", ".join(missing) or "—",
                               unknown=", ".join(unknown) or "—"))
        if self.defer_limit < 1:
            raise ValueError(t("govern.meet.spec.defer_limit", n=self.defer_limit))
        return self


class MeetingRules(Spec):
    """The whole ``meetings.yaml``."""

    calendar: CalendarRules = pydantic.Field(default_factory=CalendarRules)
    agenda: AgendaRules


@cache
def _shipped() -> MeetingRules:
    return load_spec(MeetingRules, package=__package__, default="meetings.yaml")


def rules(source: str | Path | dict[str, Any] | MeetingRules | None = None) -> MeetingRules:
    """The meeting rules: the shipped ``meetings.yaml``, or it overlaid by ``source`` (a YAML
    file or a mapping, key by key)."""
    if isinstance(source, MeetingRules):
        return source
    if source is None:
        return _shipped()
    return load_spec(MeetingRules, source, package=__package__, default="meetings.yaml",
                     overlay=True)


class HolidayError(GovernError):
    """A holiday file cannot be read or holds something that is not a date."""

    label = "govern.meet.err.holidays"


@dataclass(frozen=True)
class Holidays:
    """Listed non-working days (holidays) and make-up working days (调休上班日)."""

    off: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    source: str | None = None

    def working(self, day: dt.date) -> bool:
        """A working day: a listed make-up working day, else Monday–Friday and not listed
        as a holiday."""
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.off


def _dates(entries: Iterable[object], origin: str) -> frozenset[dt.date]:
    out: set[dt.date] = set()
    for entry in entries:
        text = str(entry).strip()
        try:
            if ".." in text:
                first, last = (dt.date.fromisoformat(p.strip()) for p in text.split("..", 1))
                if last < first:
                    raise ValueError(text)
                out.update(first + dt.timedelta(days=i)
                           for i in range((last - first).days + 1))
            else:
                out.add(dt.date.fromisoformat(text))
        except ValueError:
            raise HolidayError(file=origin, value=text) from None
    return frozenset(out)


def holidays_of(holidays: Iterable[object] = (), *, workdays: Iterable[object] = (),
                source: str | None = None) -> Holidays:
    """A :class:`Holidays` from lists of dates (``date`` objects, ISO dates or ranges
    ``first..last``)."""
    where = source or "<list>"
    both_ = _dates(holidays, where) & _dates(workdays, where)
    if both_:
        raise HolidayError("govern.meet.err.holiday_both", file=where,
                           days=", ".join(sorted(d.isoformat() for d in both_)))
    return Holidays(_dates(holidays, where), _dates(workdays, where), source)


def read_holidays(path: str | Path) -> Holidays:
    """Read a holiday file: YAML ``{holidays: [...], workdays: [...]}`` (``source:`` free text
    naming where the dates come from, optional)."""
    import yaml

    p = Path(path)
    try:
        # every scalar as text: dates are checked here, with the file named
        data = yaml.load(p.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise HolidayError("govern.meet.err.holiday_file", file=str(p), why=str(exc)) from None
    if not isinstance(data, dict) or set(data) - {"holidays", "workdays", "source"}:
        raise HolidayError("govern.meet.err.holiday_shape", file=str(p))
    return holidays_of(data.get("holidays") or [], workdays=data.get("workdays") or [],
                       source=str(p))


def next_working_day(day: dt.date, holidays: Holidays) -> dt.date:
    """``day`` if it is a working day, else the first working day after it."""
    while not holidays.working(day):
        day += dt.timedelta(days=1)
    return day


@dataclass(frozen=True)
class PlannedMeeting:
    """A meeting of the calendar: its key, kind, date (after any shift) and nominal date."""

    key: str
    kind: str
    date: dt.date
    nominal: dt.date
    period: str

    @property
    def shifted(self) -> bool:
        return self.date != self.nominal


def meeting_key(kind: str, day: dt.date | str) -> str:
    """The key of the meeting of ``kind`` for the period of ``day``: ``2024-05-monthly``,
    ``2024-Q2-quarterly``."""
    d = dt.date.fromisoformat(str(day)) if not isinstance(day, dt.date) else day
    if kind == "monthly":
        return f"{d.year}-{d.month:02d}-monthly"
    if kind == "quarterly":
        return f"{d.year}-Q{(d.month - 1) // 3 + 1}-quarterly"
    raise GovernError("govern.meet.err.kind", value=kind, allowed="、".join(MEETING_KINDS))


def plan(year: int, *, rules: MeetingRules | str | Path | dict[str, Any] | None = None,
         holidays: Holidays | str | Path | None = None) -> list[PlannedMeeting]:
    """Every meeting of ``year`` in date order (see the module doc). ``holidays``: a
    :class:`Holidays` or a holiday file; default none (weekends only)."""
    spec = _rules(rules).calendar
    days = _holidays(holidays)
    out: list[PlannedMeeting] = []
    q_rule = spec.quarterly
    for month in range(1, 13):
        quarter = (month - 1) // 3 + 1
        q_month = month == (quarter - 1) * 3 + q_rule.month_of_quarter
        if q_month:
            nominal = q_rule.nominal(year, month)
            out.append(PlannedMeeting(f"{year}-Q{quarter}-quarterly", "quarterly",
                                      next_working_day(nominal, days), nominal,
                                      f"{year}-Q{quarter}"))
        if not (q_month and q_rule.replaces_monthly):
            nominal = spec.monthly.nominal(year, month)
            out.append(PlannedMeeting(f"{year}-{month:02d}-monthly", "monthly",
                                      next_working_day(nominal, days), nominal,
                                      f"{year}-{month:02d}"))
    return sorted(out, key=lambda m: (m.date, m.kind))


def _rules(source: MeetingRules | str | Path | dict[str, Any] | None) -> MeetingRules:
    return rules(source)


def _holidays(source: Holidays | str | Path | None) -> Holidays:
    if source is None:
        return Holidays()
    if isinstance(source, Holidays):
        return source
    return read_holidays(source)
