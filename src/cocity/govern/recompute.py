"""Recompute the committee's published statistics from the published event log ALONE.

This file depends on pandas (and numpy) and the Python standard library only — not on the rest
of cocity — so that anyone can check the published figures: copy it next to the published
``events.csv`` (``cocity govern export --format csv -o events.csv``) and run::

    python recompute.py events.csv --as-of 2025-12-31            # prints the table
    python recompute.py events.csv --as-of 2025-12-31 -o stats.csv
    python -m cocity.govern.recompute events.csv                 # the same, installed

It is written independently of :mod:`cocity.govern.stats` (which aggregates in SQL and
numpy); a test checks that both give the same figures on the same register.

The file: one row per event (``case_id``, ``seq``, ``kind``, ``from_state``, ``to_state``,
``effective``, ``resolved``, ``due``, ``escalated_to``, …); each case's own fields
(``category``, ``units`` — ``;``-joined codes —, ``opened``, ``case_due``) on its first row
(``seq`` 1); ``simulated`` on every row.

Definitions (as of a date ``A``, default today in China; only cases opened on or before ``A``
and events effective on or before ``A``):

* opened: cases, by the quarter of ``opened``.
* closed: events ``kind == state`` and ``to_state == closed``, by the quarter of their
  ``effective`` date. Days to close: ``effective − opened`` (calendar days).
* due in force at closing: the ``due`` of the case's last ``extend`` event with a smaller
  ``seq`` than the closing event, else ``case_due``. closed_on_time: ``effective <=`` it;
  on_time_rate (按时办结率) = closed_on_time / closed. closed_on_time_original: closed on or
  before ``case_due``; closed_extended: closed with at least one earlier extension.
* closed_resolved: closing events with ``resolved == true``; resolution_rate (解决率) =
  closed_resolved / closed. Rates are empty when nothing was closed.
* median_days, p90_days: pandas ``Series.quantile`` with linear interpolation
  (Hyndman & Fan type 7).
* open / overdue_open on a date ``r`` (a quarter's last day, or ``A`` for the current quarter
  and for the other groups): the case's last ``state`` event effective on or before ``r``
  leaves it in an open state (registered, accepted, in_progress); overdue when, moreover,
  ``r`` is after the due in force on ``r`` (last ``extend`` effective on or before ``r``,
  else ``case_due``).
* returned / withdrawn: ``state`` events entering those states; escalated_quarterly /
  escalated_leading_group: ``escalate`` events by ``escalated_to``; by their quarter.
* simulated: simulated cases among the opened ones.
* groups: overall (``all``), category, unit (a case naming several units counts for each),
  quarter (``YYYYQn``, from the first opening to ``A``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import pandas as pd

OPEN_STATES = ("registered", "accepted", "in_progress")
COUNTS = ["opened", "closed", "closed_on_time", "closed_on_time_original", "closed_extended",
          "closed_resolved", "open", "overdue_open", "returned", "withdrawn",
          "escalated_quarterly", "escalated_leading_group", "simulated"]
RATES = ["on_time_rate", "resolution_rate", "median_days", "p90_days"]


def read_events(path: str | Path) -> pd.DataFrame:
    """The published CSV as text columns ('' for empty), ``case_id`` and ``seq`` as integers."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame.astype({"case_id": "int64", "seq": "int64"})


def _status(events: pd.DataFrame, cases: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """Per case opened on or before ``day``: open and overdue on ``day``."""
    known = cases[cases["opened"] <= day].set_index("case_id")
    upto = events[events["eff"] <= day]
    states = upto[upto["kind"] == "state"].sort_values("seq").groupby("case_id")["to_state"]
    last_state = states.last().reindex(known.index)
    ext = upto[upto["kind"] == "extend"].sort_values("seq").groupby("case_id")["due"].last()
    due = pd.to_datetime(ext).reindex(known.index).fillna(known["case_due"])
    is_open = last_state.isin(OPEN_STATES)
    return pd.DataFrame({"open": is_open, "overdue": is_open & (day > due)})


def recompute(events: pd.DataFrame | str | Path, *, as_of: str | dt.date | None = None
              ) -> pd.DataFrame:
    """Every statistic by group (columns ``dimension``, ``key``, the counts, the rates)."""
    ev = read_events(events) if isinstance(events, str | Path) else events.copy()
    if as_of is None:
        as_of = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()
    day = pd.Timestamp(str(as_of))
    ev["eff"] = pd.to_datetime(ev["effective"])
    first = ev[ev["seq"] == 1]
    cases = pd.DataFrame({
        "case_id": first["case_id"], "category": first["category"], "units": first["units"],
        "opened": pd.to_datetime(first["opened"]), "case_due": pd.to_datetime(first["case_due"]),
        "simulated": first["simulated"] == "true"})
    cases = cases[cases["opened"] <= day].reset_index(drop=True)
    ev = ev[(ev["eff"] <= day) & ev["case_id"].isin(cases["case_id"])]

    closing = ev[(ev["kind"] == "state") & (ev["to_state"] == "closed")][
        ["case_id", "seq", "eff", "resolved"]]
    ext = ev[ev["kind"] == "extend"][["case_id", "seq", "due"]]
    pairs = closing.merge(ext, on="case_id", suffixes=("", "_ext"))
    pairs = pairs[pairs["seq_ext"] < pairs["seq"]]
    moved = pairs.groupby("case_id").agg(due_close=("due", "max"), n_ext=("due", "size"))
    closed = closing.merge(cases, on="case_id").merge(moved, on="case_id", how="left")
    closed["due_close"] = pd.to_datetime(closed["due_close"]).fillna(closed["case_due"])
    closed["on_time"] = closed["eff"] <= closed["due_close"]
    closed["on_time_original"] = closed["eff"] <= closed["case_due"]
    closed["extended"] = closed["n_ext"].fillna(0) > 0
    closed["solved"] = closed["resolved"] == "true"
    closed["days"] = (closed["eff"] - closed["opened"]).dt.days

    marks = {
        "returned": ev[(ev["kind"] == "state") & (ev["to_state"] == "returned")],
        "withdrawn": ev[(ev["kind"] == "state") & (ev["to_state"] == "withdrawn")],
        "escalated_quarterly": ev[(ev["kind"] == "escalate")
                                  & (ev["escalated_to"] == "quarterly")],
        "escalated_leading_group": ev[(ev["kind"] == "escalate")
                                      & (ev["escalated_to"] == "leading_group")],
    }
    now = _status(ev, cases, day)

    def table(dimension: str, key_of_case: pd.Series) -> pd.DataFrame:
        """Groups defined by the case (key_of_case: case_id → key, repeated for several)."""
        link = pd.DataFrame({"case_id": key_of_case.index, "key": key_of_case.to_numpy()})
        keys = sorted(link["key"].unique())
        out = pd.DataFrame(index=pd.Index(keys, name="key"))

        def count(frame: pd.DataFrame, col: str | None = None) -> pd.Series:
            sub = frame if col is None else frame[frame[col]]
            return sub.merge(link, on="case_id").groupby("key").size()

        out["opened"] = count(cases)
        out["closed"] = count(closed)
        out["closed_on_time"] = count(closed, "on_time")
        out["closed_on_time_original"] = count(closed, "on_time_original")
        out["closed_extended"] = count(closed, "extended")
        out["closed_resolved"] = count(closed, "solved")
        status = now.reset_index()
        out["open"] = count(status, "open")
        out["overdue_open"] = count(status, "overdue")
        for name, frame in marks.items():
            out[name] = count(frame)
        out["simulated"] = count(cases, "simulated")
        days = closed.merge(link, on="case_id").groupby("key")["days"]
        out["median_days"] = days.quantile(0.5)
        out["p90_days"] = days.quantile(0.9)
        out["dimension"] = dimension
        return out.reset_index()

    overall = table("overall", pd.Series("all", index=cases["case_id"]))
    category = table("category", cases.set_index("case_id")["category"])
    units = cases.assign(unit=cases["units"].str.split(";")).explode("unit")
    unit = table("unit", units.set_index("case_id")["unit"])

    parts = [overall, category, unit]
    if len(cases):
        quarters = pd.period_range(cases["opened"].min().to_period("Q"), day.to_period("Q"),
                                   freq="Q")
        out = pd.DataFrame(index=pd.Index([str(q) for q in quarters], name="key"))

        def by_quarter(dates: pd.Series) -> pd.Series:
            return dates.dt.to_period("Q").astype(str).value_counts()

        out["opened"] = by_quarter(cases["opened"])
        out["closed"] = by_quarter(closed["eff"])
        for col, flag in (("closed_on_time", "on_time"),
                          ("closed_on_time_original", "on_time_original"),
                          ("closed_extended", "extended"), ("closed_resolved", "solved")):
            out[col] = by_quarter(closed.loc[closed[flag], "eff"])
        for name, frame in marks.items():
            out[name] = by_quarter(frame["eff"])
        out["simulated"] = by_quarter(cases.loc[cases["simulated"], "opened"])
        ends = []
        for q in quarters:
            end = min(q.end_time.normalize(), day)
            s = _status(ev, cases, end)
            ends.append((int(s["open"].sum()), int(s["overdue"].sum())))
        out["open"] = [a for a, _ in ends]
        out["overdue_open"] = [b for _, b in ends]
        days = closed.assign(q=closed["eff"].dt.to_period("Q").astype(str)).groupby("q")["days"]
        out["median_days"] = days.quantile(0.5)
        out["p90_days"] = days.quantile(0.9)
        out["dimension"] = "quarter"
        parts.append(out.reset_index())
    result = pd.concat(parts, ignore_index=True)
    result[COUNTS] = result[COUNTS].fillna(0).astype("int64")
    closed_n = result["closed"].where(result["closed"] > 0)
    result["on_time_rate"] = result["closed_on_time"] / closed_n
    result["resolution_rate"] = result["closed_resolved"] / closed_n
    result[RATES] = result[RATES].astype(float)
    return result[["dimension", "key", *COUNTS, *RATES]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="recompute", description="Recompute the committee's statistics from events.csv.")
    parser.add_argument("events", help="the published event log (CSV)")
    parser.add_argument("--as-of", default=None, help="ISO date (default: today, UTC+8)")
    parser.add_argument("-o", "--out", default=None, help="write the table to this CSV")
    args = parser.parse_args(argv)
    result = recompute(args.events, as_of=args.as_of)
    if args.out:
        result.to_csv(args.out, index=False)
    else:
        with pd.option_context("display.max_rows", None, "display.width", 200):
            print(result.to_string(index=False))
    sim = read_events(args.events)["simulated"].eq("true").any()
    if sim:
        print("注意：含模拟案件 / NOTE: the log includes simulated cases", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
