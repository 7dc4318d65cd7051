"""The committee's published statistics (委员会公开统计), computed on the records database.

:func:`statistics` reads the database in one pass over the event log that loads only the
events the figures depend on (changes of state into or out of a state that is not open —
closing, return, withdrawal, re-registration —, extensions and escalations; not the routine
changes, deferrals, reassignments or follow-ups), plus the cases and their units; numpy
aggregates them per case (closing date and resolution, latest extension, first departure from
the open states, counts of returns, withdrawals and escalations), per quarter, and for the
states at each quarter's end. The same figures are recomputed from the published event log alone by
:mod:`cocity.govern.recompute` (pandas, a different code path); a test checks that both agree.

Scope: everything **as of** a date ``A`` (default: today in China, UTC+8): cases opened on or
before ``A`` and events effective on or before ``A``; later events are ignored.

Definitions (``eff(e)``: the effective date of event ``e``; days are calendar days):

* **opened** — cases whose opening date (the effective date of their first event) falls in the
  group; by quarter: the quarter of the opening date.
* **closed** — closing events (``state`` → ``closed``; at most one per case, closing is final);
  by quarter: the quarter of ``eff(closing)``.
* **due in force at closing** ``D_c`` — the ``due`` of the last extension (``extend`` event)
  before the closing event, else the case's original due date. (Extensions only move the date
  later and only an open case can be extended, so this is the latest of its extensions.)
* **closed_on_time** — closed with ``eff(closing) <= D_c``; **on_time_rate 按时办结率** =
  closed_on_time / closed. Extensions are counted separately: **closed_extended** (closed
  cases with at least one extension before closing) and **closed_on_time_original** (closed on
  or before the ORIGINAL due date, extensions ignored).
* **closed_resolved** — closed with ``resolved = yes``; **resolution_rate 解决率** =
  closed_resolved / closed (closing a case is not solving it; the two rates are separate).
  Rates are missing (NaN) when nothing was closed.
* **median_days**, **p90_days** — of ``eff(closing) − opened`` over the closed cases of the
  group: ``numpy.quantile(x, q, method="linear")``, i.e. Hyndman & Fan (1996) type 7,
  ``x_(⌊h⌋) + (h − ⌊h⌋)(x_(⌊h⌋+1) − x_(⌊h⌋))`` with ``h = (n − 1)q`` (0-based order
  statistics), q = 0.5 and 0.9.
* **open**, **overdue_open 逾期** — on a reference date ``r``: a case opened on or before ``r``
  is open when the ``to_state`` of its last state event effective on or before ``r`` is an open
  state (登记/受理/办理中); it is overdue when open and ``r > due in force on r`` (the last
  extension effective on or before ``r``, else the original due date). ``r`` is the end of the
  quarter for quarter rows (``A`` for the current quarter), else ``A``.
* **returned**, **withdrawn** — events entering 退回 returned / 已撤销 withdrawn (a case may be
  returned more than once); **escalated_quarterly**, **escalated_leading_group** — ``escalate``
  events by target. By quarter: the quarter of the event's effective date.
* **simulated** — simulated (generated demonstration) cases among the opened ones. A register
  holding any simulated case says so on every output (:attr:`GovernStats.simulated`).

Groups (``dimension`` column): ``overall`` (key ``all``), ``category`` (category id), ``unit``
(GB/T 2260 code; a case naming several units counts once for each) and ``quarter`` (``YYYYQn``,
every quarter from the first opening to ``A``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
import sqlalchemy as sa

from cocity.govern.errors import GovernError
from cocity.govern.machine import ESCALATION_TARGETS, machine
from cocity.records import schema as S

if TYPE_CHECKING:
    from cocity.records import Records

DIMENSIONS = ("overall", "category", "unit", "quarter")
COUNTS = ("opened", "closed", "closed_on_time", "closed_on_time_original", "closed_extended",
          "closed_resolved", "open", "overdue_open", "returned", "withdrawn",
          "escalated_quarterly", "escalated_leading_group", "simulated")
RATES = ("on_time_rate", "resolution_rate", "median_days", "p90_days")
COLUMNS = ("dimension", "key", *COUNTS, *RATES)
QUANTILE_METHOD: Final = "linear"  # Hyndman & Fan type 7 (numpy's default)


@dataclass(frozen=True)
class GovernStats:
    """The statistics as of ``as_of``: ``table`` has one row per group (columns
    :data:`COLUMNS`); ``cases`` and ``simulated_cases`` count the cases in scope."""

    as_of: dt.date
    table: pd.DataFrame
    cases: int
    simulated_cases: int

    @property
    def simulated(self) -> bool:
        """The register holds simulated cases: every output must say so."""
        return self.simulated_cases > 0

    def overall(self) -> dict[str, Any]:
        """The headline figures (the ``overall`` row)."""
        row = self.table[self.table["dimension"] == "overall"].iloc[0]
        return {k: row[k] for k in (*COUNTS, *RATES)}


def china_today() -> dt.date:
    """Today's date in China (UTC+8)."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()


def as_of_date(value: dt.date | str | None) -> dt.date:
    """The as-of date given (a date or ISO text), else today in China; a value that is not a
    date is refused with a bilingual :class:`~cocity.govern.errors.GovernError`."""
    if value is None:
        return china_today()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise GovernError("govern.stats.err.as_of", value=value) from None


def quarter_label(index: int) -> str:
    """``YYYYQn`` of a quarter index ``year * 4 + (quarter − 1)``."""
    return f"{index // 4}Q{index % 4 + 1}"


def _days(values: Iterable[object]) -> np.ndarray:
    """ISO dates → days since 1970-01-01 (int64)."""
    return np.array(list(values), dtype="datetime64[D]").astype(np.int64)


def _quarters(days: np.ndarray) -> np.ndarray:
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return (months // 12 + 1970) * 4 + (months % 12) // 3


def _quarter_end(index: int) -> int:
    year, q = divmod(index + 1, 4)
    first_next = np.datetime64(f"{year:04d}-{q * 3 + 1:02d}-01", "D")
    return int(first_next.astype(np.int64)) - 1


def _last_in_prefix(row_case: np.ndarray, row_day: np.ndarray, n_cases: int,
                    day: int) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by case then (non-decreasing) day: per case, whether a row is effective
    on or before ``day`` and the index of the last such row (meaningless where there is
    none)."""
    counts = np.bincount(row_case[row_day <= day], minlength=n_cases)
    starts = np.searchsorted(row_case, np.arange(n_cases), side="left")
    return counts > 0, np.minimum(starts + np.maximum(counts, 1) - 1, len(row_case) - 1)


MARKS = ("returned", "withdrawn", *(f"escalated_{t}" for t in ESCALATION_TARGETS))
_NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class _Data:
    """Per case (arrays aligned on ``ids``), plus the few rows the quarter-end states need."""

    ids: np.ndarray
    category: np.ndarray
    opened: np.ndarray
    due: np.ndarray
    simulated: np.ndarray
    closed: np.ndarray
    close_day: np.ndarray
    due_close: np.ndarray
    resolved: np.ndarray
    extended: np.ndarray
    first_shut: np.ndarray  # the first day the case entered a state that is not open
    marks: dict[str, np.ndarray]  # per case: returned, withdrawn, escalated_* events
    mark_quarters: dict[str, np.ndarray]  # per quarter index: the same events
    pair_case: np.ndarray
    pair_unit: np.ndarray
    turn_case: np.ndarray  # reopened cases only: their changes between open and not open
    turn_day: np.ndarray
    turn_open: np.ndarray
    ext_case: np.ndarray
    ext_day: np.ndarray
    ext_due: np.ndarray


def _day(records: Records, col: Any) -> Any:
    """An ISO date column as days since 1970-01-01, in SQL (NULL stays NULL)."""
    if records.dialect == "postgresql":
        return sa.cast(col, sa.Date) - sa.literal_column("DATE '1970-01-01'")
    return sa.cast(sa.func.julianday(col) - 2440587.5, sa.Integer)


def _target(records: Records, col: Any) -> Any:
    """The ``to`` of an escalation's JSON detail, in SQL."""
    if records.dialect == "postgresql":
        return sa.func.json_extract_path_text(sa.cast(col, sa.JSON), "to")
    return sa.func.json_extract(col, "$.to")


def _columns(rows: Sequence[Any], n: int) -> list[np.ndarray]:
    """The ``n`` columns of ``rows`` (object arrays)."""
    if not rows:
        return [np.array([], dtype=object) for _ in range(n)]
    table = np.empty((len(rows), n), dtype=object)
    table[:] = rows
    return [table[:, k] for k in range(n)]


def _ints(values: np.ndarray, missing: int = _NEVER) -> np.ndarray:
    """Day numbers with NULL (None) replaced by ``missing``."""
    if values.dtype != object:
        return values.astype(np.int64)
    floats = values.astype(float)  # None → NaN
    gaps = np.isnan(floats)
    return np.where(gaps, missing, np.where(gaps, 0, floats).astype(np.int64))


def _rows(conn: Any, stmt: Any) -> list[tuple[Any, ...]]:
    """Every row of ``stmt`` as plain tuples straight from the driver's cursor (the values
    bound here are the validated as-of date and constants, rendered as SQL literals)."""
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _any_of(values: np.ndarray, choices: Sequence[str]) -> np.ndarray:
    """Which items of an object array equal one of ``choices`` (few choices: compared one by
    one, no conversion of the array)."""
    out = np.zeros(len(values), bool)
    for choice in choices:
        out |= values == choice
    return out


def _load(records: Records, day: str) -> _Data:
    """The SQL side, one pass over the event log: the cases opened by ``day``, their units,
    and only the events the figures depend on — changes of state into or out of a state that
    is not open (closing, return, withdrawal, re-registration), extensions and escalations —
    effective by ``day``. Everything per case or per quarter is then numpy."""
    c, u, e = S.govern_cases, S.govern_case_units, S.govern_events
    spec = machine()
    shut = [s for s in spec.states if not spec.is_open(s)]
    is_state = e.c.kind == "state"
    relevant = e.c.kind.in_(("extend", "escalate")) | (
        is_state & (e.c.to_state.in_(shut) | e.c.from_state.in_(shut)))
    with records.read() as conn:
        cases = _rows(conn,
            sa.select(c.c.id, c.c.category, _day(records, c.c.opened), _day(records, c.c.due),
                      c.c.simulated)
            .where(c.c.opened <= day).order_by(c.c.id))
        units = _rows(conn, sa.select(u.c.case_id, u.c.unit_code).join(
            c, c.c.id == u.c.case_id).where(c.c.opened <= day))
        events = _rows(conn,
            sa.select(e.c.case_id, e.c.seq, e.c.kind, e.c.to_state, e.c.from_state,
                      _day(records, e.c.effective), e.c.resolved, _day(records, e.c.due),
                      sa.case((e.c.kind == "escalate", _target(records, e.c.detail))))
            .where(e.c.effective <= day, relevant))
    cols = _columns(cases, 5)
    ids = cols[0].astype(np.int64)
    n = len(ids)
    opened, due = _ints(cols[2]), _ints(cols[3])
    ev = _columns(events, 9)
    # an event effective by `day` belongs to a case opened by then (events never precede it)
    case = np.searchsorted(ids, ev[0].astype(np.int64))
    seq = ev[1].astype(np.int64)
    kind, to, frm = ev[2], ev[3], ev[4]  # object arrays: compared, never converted
    eday = ev[5].astype(np.int64)
    state = kind == "state"
    closing = state & (to == spec.closing)
    # closed is final: at most one closing per case
    close_day = np.full(n, _NEVER, np.int64)
    close_day[case[closing]] = eday[closing]
    closed = close_day != _NEVER
    resolved = np.zeros(n, bool)
    resolved[case[closing]] = [bool(r) for r in ev[6][closing]]
    ext = kind == "extend"
    ext_days = ev[7][ext].astype(np.int64)
    # only an open case is extended: a closed case's extensions all precede its closing, so
    # the due date in force at closing is its latest extension's
    last_ext = np.full(n, np.iinfo(np.int64).min, np.int64)
    np.maximum.at(last_ext, case[ext], ext_days)
    has_ext = np.bincount(case[ext], minlength=n) > 0
    to_shut = _any_of(to, shut)
    into_shut = state & to_shut
    first_shut = np.full(n, _NEVER, np.int64)
    np.minimum.at(first_shut, case[into_shut], eday[into_shut])
    target = ev[8]
    mark_rules = {"returned": state & (to == "returned"),
                  "withdrawn": state & (to == "withdrawn"),
                  **{f"escalated_{t}": (kind == "escalate") & (target == t)
                     for t in ESCALATION_TARGETS}}
    marks = {name: np.bincount(case[rule], minlength=n).astype(np.int64)
             for name, rule in mark_rules.items()}
    mark_quarters = {name: np.stack([_quarters(eday[rule]),
                                     np.ones(int(rule.sum()), np.int64)])
                     for name, rule in mark_rules.items()}
    ucols = _columns(units, 2)
    # reopened (退回 → 登记) cases: their changes between open and not open, from their opening
    from_shut = _any_of(frm, shut)
    turns = state & (to_shut | from_shut)
    again = np.unique(case[state & from_shut])
    keep = turns & np.isin(case, again)
    t_order = np.concatenate([again, case[keep]])
    t_seq = np.concatenate([np.zeros(len(again), np.int64), seq[keep]])
    t_sorted = np.lexsort((t_seq, t_order))
    turn_open = np.concatenate([np.ones(len(again), bool),
                                np.array([spec.is_open(s) for s in to[keep]], bool)])
    # extensions by case, date and due (= seq order: both only grow along a case)
    order = np.lexsort((ext_days, eday[ext], case[ext]))
    return _Data(
        ids=ids, category=cols[1].astype(object), opened=opened, due=due,
        simulated=cols[4].astype(bool), closed=closed, close_day=close_day,
        due_close=np.where(has_ext, last_ext, due), resolved=closed & resolved,
        extended=closed & has_ext, first_shut=first_shut, marks=marks,
        mark_quarters=mark_quarters,
        pair_case=np.searchsorted(ids, ucols[0].astype(np.int64)),
        pair_unit=ucols[1].astype(object),
        turn_case=t_order[t_sorted],
        turn_day=np.concatenate([opened[again], eday[keep]])[t_sorted],
        turn_open=turn_open[t_sorted],
        ext_case=case[ext][order], ext_day=eday[ext][order], ext_due=ext_days[order])


def _status_on(d: _Data, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Per case: open on ``day``, and overdue on ``day`` (see the module doc). A case never
    reopened is open from its opening until it first enters a state that is not open; a
    reopened one (退回 → 登记) by its last change effective on or before ``day``."""
    n = len(d.ids)
    is_open = (d.opened <= day) & (day < d.first_shut)
    if len(d.turn_case):
        seen, last = _last_in_prefix(d.turn_case, d.turn_day, n, day)
        reopened = np.zeros(n, bool)
        reopened[d.turn_case] = True
        is_open = np.where(reopened, seen & d.turn_open[last], is_open)
    due = d.due.copy()
    if len(d.ext_case):
        moved, last_ext = _last_in_prefix(d.ext_case, d.ext_day, n, day)
        due[moved] = d.ext_due[last_ext[moved]]
    return is_open, is_open & (day > due)


def _quantiles(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group: the median and 90th percentile of ``values`` (type 7); NaN if empty."""
    out = np.full((n_groups, 2), np.nan)
    order = np.lexsort((values, groups))
    values, groups = values[order], groups[order]
    bounds = np.searchsorted(groups, np.arange(n_groups + 1), side="left")
    for g in range(n_groups):
        chunk = values[bounds[g]:bounds[g + 1]]
        if len(chunk):
            out[g] = np.quantile(chunk.astype(float), [0.5, 0.9], method=QUANTILE_METHOD)
    return out


def _group_table(d: _Data, member: tuple[np.ndarray, np.ndarray], n_groups: int,
                 is_open: np.ndarray, overdue: np.ndarray) -> dict[str, np.ndarray]:
    """Every statistic for case-based groups: ``member`` = (case index, group index) pairs
    (a case may belong to several groups)."""
    case, group = member
    n = len(d.ids)

    def per_group(per_case: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=per_case[case].astype(float), minlength=n_groups)

    closed = d.closed
    on_time = closed & (d.close_day <= d.due_close)
    out = {
        "opened": per_group(np.ones(n)), "closed": per_group(closed),
        "closed_on_time": per_group(on_time),
        "closed_on_time_original": per_group(closed & (d.close_day <= d.due)),
        "closed_extended": per_group(closed & d.extended),
        "closed_resolved": per_group(closed & d.resolved),
        "open": per_group(is_open), "overdue_open": per_group(overdue),
        "simulated": per_group(d.simulated)}
    for name, per_case in d.marks.items():
        out[name] = per_group(per_case)
    pick = closed[case]
    q = _quantiles((d.close_day - d.opened)[case[pick]], group[pick], n_groups)
    out["median_days"], out["p90_days"] = q[:, 0], q[:, 1]
    return out


def _quarter_table(d: _Data, quarters: np.ndarray, as_of: int) -> dict[str, np.ndarray]:
    """Every statistic by quarter of the relevant date (opening, closing, event; the overdue
    figures at each quarter's end)."""
    first = int(quarters[0])
    n_groups = len(quarters)

    def count(q: np.ndarray, mask: np.ndarray | None = None,
              weights: np.ndarray | None = None) -> np.ndarray:
        q = q if mask is None else q[mask]
        return np.bincount(q - first, weights=weights, minlength=n_groups).astype(float)

    closed = d.closed
    cq = _quarters(np.where(closed, d.close_day, d.opened))
    out = {
        "opened": count(_quarters(d.opened)),
        "closed": count(cq, closed),
        "closed_on_time": count(cq, closed & (d.close_day <= d.due_close)),
        "closed_on_time_original": count(cq, closed & (d.close_day <= d.due)),
        "closed_extended": count(cq, closed & d.extended),
        "closed_resolved": count(cq, closed & d.resolved),
        "simulated": count(_quarters(d.opened), d.simulated)}
    for name, (q, n_events) in d.mark_quarters.items():
        out[name] = count(q, weights=n_events.astype(float))
    open_n, overdue_n = np.zeros(n_groups), np.zeros(n_groups)
    for g, qi in enumerate(quarters):
        day = min(_quarter_end(int(qi)), as_of)
        is_open, overdue = _status_on(d, day)
        open_n[g], overdue_n[g] = is_open.sum(), overdue.sum()
    out["open"], out["overdue_open"] = open_n, overdue_n
    q = _quantiles((d.close_day - d.opened)[closed], cq[closed] - first, n_groups)
    out["median_days"], out["p90_days"] = q[:, 0], q[:, 1]
    return out


def _frame(dimension: str, keys: list[str], values: dict[str, np.ndarray]) -> pd.DataFrame:
    frame = pd.DataFrame({"dimension": dimension, "key": keys})
    for name in COUNTS:
        frame[name] = np.asarray(values[name]).round().astype(np.int64)
    closed = frame["closed"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["on_time_rate"] = np.where(closed > 0, frame["closed_on_time"] / closed, np.nan)
        frame["resolution_rate"] = np.where(closed > 0, frame["closed_resolved"] / closed,
                                            np.nan)
    frame["median_days"] = values["median_days"]
    frame["p90_days"] = values["p90_days"]
    return frame


def statistics(records: Records, *, as_of: dt.date | str | None = None) -> GovernStats:
    """The committee's statistics as of ``as_of`` (default: today in China); see the module
    doc for every definition."""
    day = as_of_date(as_of)
    data = _load(records, day.isoformat())
    as_of_day = int(np.datetime64(day.isoformat(), "D").astype(np.int64))
    n = len(data.ids)
    is_open, overdue = _status_on(data, as_of_day)
    parts = [_frame("overall", ["all"], _group_table(
        data, (np.arange(n), np.zeros(n, np.int64)), 1, is_open, overdue))]
    cats = [c for c in machine_categories() if c in set(data.category)]
    cats += sorted(set(data.category) - set(cats))
    cat_index = {c: i for i, c in enumerate(cats)}
    parts.append(_frame("category", cats, _group_table(
        data, (np.arange(n), np.array([cat_index[c] for c in data.category], np.int64)),
        len(cats), is_open, overdue)))
    codes = sorted(set(data.pair_unit))
    unit_index = {c: i for i, c in enumerate(codes)}
    parts.append(_frame("unit", codes, _group_table(
        data, (data.pair_case, np.array([unit_index[c] for c in data.pair_unit], np.int64)),
        len(codes), is_open, overdue)))
    if n:
        quarters = np.arange(int(_quarters(data.opened).min()),
                             int(_quarters(np.array([as_of_day]))[0]) + 1)
        parts.append(_frame("quarter", [quarter_label(int(q)) for q in quarters],
                            _quarter_table(data, quarters, as_of_day)))
    table = pd.concat(parts, ignore_index=True)[list(COLUMNS)]
    return GovernStats(as_of=day, table=table, cases=n,
                       simulated_cases=int(data.simulated.sum()))


def machine_categories() -> list[str]:
    """The category ids in vocabulary order (``categories.yaml``)."""
    from cocity.govern.machine import vocabularies

    return list(vocabularies().categories)
