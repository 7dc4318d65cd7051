"""Benchmark of the committee's published statistics on SQLite and PostgreSQL: the time of
:func:`cocity.govern.stats.statistics` (SQL aggregation per case, then numpy) on a register of
``--cases`` cases and about ten times as many events, against a pandas recomputation in the
same run (the public event log exported from the database — :func:`cocity.govern.export.
event_log` written to CSV — and :func:`cocity.govern.recompute.recompute` on that file).

    python benchmarks/bench_govern.py                 # 100,000 cases, ~1,000,000 events
    python benchmarks/bench_govern.py --cases 5000    # a quick run

The register is SYNTHETIC (a benchmark, not data; every case is flagged simulated): a fixed
seed draws each case's category, one or two units of the embedded dataset, its opening date
(2022-01-01 … 2025-06-30), its due date (15–120 days later) and a script of events — 登记,
sometimes 退回 and re-registration, 受理, 办理中, 2–10 same-state events (defer, escalate,
assign, extend with a later due date), then 已办结 (70 %, resolved 75 %), 已撤销 (10 %) or
still open (20 %); 0–14 days between events.

Bulk loading respects the tables' rules: the cases are inserted in state 登记 with version 0
and the events in rounds of equal ``seq`` (every case's event 1, then every case's event 2, …),
so that each event's BEFORE trigger sees its case at the previous version (PostgreSQL runs the
AFTER-row triggers that advance the case at the end of each statement); every CHECK, the chain
trigger and the case-advancing trigger run as in normal use. PostgreSQL is a throw-away server
started as ``tests/postgres.py`` does (fsync off: only the load is affected, the timed part
only reads), analysed after the load. The database is closed and opened again before the
timed part, as a command opens it. Timings: the best of ``--repeat`` runs for the
statistics; one run of the export and of the recomputation. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AS_OF = "2025-12-31"
WHO = {"actor": "bench", "role": "secretary", "reason": "benchmark", "time": "2026-01-01T00:00:00Z"}
CATEGORIES = ["education", "health", "social_security", "employment", "transport", "ecology",
              "other"]


def synthesise(n_cases: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                  list[list[dict[str, Any]]]]:
    """Cases, case units and the events grouped by seq (rounds)."""
    from cocity.datasets import open_store

    units = open_store().units()
    codes = list(units.loc[units["level"] == "prefecture", "code"])
    streams = np.random.SeedSequence(seed).spawn(2)
    rng, rng_units = (np.random.default_rng(s) for s in streams)
    start = dt.date(2022, 1, 1)
    cases, links, rounds = [], [], []
    for cid in range(1, n_cases + 1):
        opened = start + dt.timedelta(days=int(rng.integers(0, 1277)))
        due = opened + dt.timedelta(days=int(rng.integers(15, 121)))
        cases.append({"id": cid, "key": f"bench-{cid}", "body_sha": "0" * 64,
                      "title": f"模拟案件 {cid}", "description": "benchmark",
                      "category": CATEGORIES[int(rng.integers(0, len(CATEGORIES)))],
                      "source": "hotline", "priority": "normal", "lead_department": "某局",
                      "co_departments": "[]", "opened": opened.isoformat(),
                      "due": due.isoformat(), "created": WHO["time"], "state": "registered",
                      "version": 0, "simulated": True, "origin": None, "actor": WHO["actor"],
                      "role": WHO["role"], "reason": WHO["reason"]})
        picked = rng_units.choice(len(codes), size=int(rng_units.integers(1, 3)), replace=False)
        links += [{"case_id": cid, "pos": i, "unit_code": codes[int(k)]}
                  for i, k in enumerate(picked)]
        script: list[tuple[str, str | None, str, dict[str, Any]]] = [
            ("state", None, "registered", {})]
        if rng.random() < 0.1:
            script += [("state", "registered", "returned", {}),
                       ("state", "returned", "registered", {})]
        script += [("state", "registered", "accepted", {}),
                   ("state", "accepted", "in_progress", {})]
        due_now = due
        for _ in range(int(rng.integers(2, 11))):
            kind = ("defer", "escalate", "assign", "extend")[int(rng.integers(0, 4))]
            extra: dict[str, Any] = {}
            if kind == "extend":
                due_now += dt.timedelta(days=int(rng.integers(7, 61)))
                extra["due"] = due_now.isoformat()
            elif kind == "escalate":
                extra["detail"] = json.dumps(
                    {"to": "quarterly" if rng.random() < 0.7 else "leading_group"})
            elif kind == "assign":
                extra["detail"] = json.dumps({"lead_department": "另一局"}, ensure_ascii=False)
            script.append((kind, "in_progress", "in_progress", extra))
        end = rng.random()
        if end < 0.7:
            script.append(("state", "in_progress", "closed", {"resolved": rng.random() < 0.75}))
        elif end < 0.8:
            script.append(("state", "in_progress", "withdrawn", {}))
        day = opened
        for seq, (kind, frm, to, extra) in enumerate(script, start=1):
            if seq > 1:
                day += dt.timedelta(days=int(rng.integers(0, 15)))
            if len(rounds) < seq:
                rounds.append([])
            rounds[seq - 1].append({
                "case_id": cid, "seq": seq, "from_state": frm, "to_state": to, "kind": kind,
                "effective": day.isoformat(), "resolved": extra.get("resolved"),
                "due": extra.get("due"), "detail": extra.get("detail"), "meeting_id": None,
                "key": None, "body_sha": None, **WHO})
    return cases, links, rounds


def load(records: Any, cases: list[dict[str, Any]], links: list[dict[str, Any]],
         rounds: list[list[dict[str, Any]]]) -> None:
    from cocity.records import schema as S

    chunk = 20_000
    with records.transaction() as conn:
        for i in range(0, len(cases), chunk):
            conn.execute(S.govern_cases.insert(), cases[i:i + chunk])
        for i in range(0, len(links), chunk):
            conn.execute(S.govern_case_units.insert(), links[i:i + chunk])
    for batch in rounds:
        with records.transaction() as conn:
            for i in range(0, len(batch), chunk):
                conn.execute(S.govern_events.insert(), batch[i:i + chunk])
    if records.dialect == "postgresql":
        with records.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def agree(ours: Any, theirs: Any) -> bool:
    """Every count equal and every rate or day figure within 1e-12 (NaN where NaN)."""
    from cocity.govern.stats import COUNTS, RATES

    key = ["dimension", "key"]
    a = ours.sort_values(key).reset_index(drop=True)
    b = theirs.sort_values(key).reset_index(drop=True)
    if a[key].values.tolist() != b[key].values.tolist():
        return False
    if any(a[c].tolist() != b[c].tolist() for c in COUNTS):
        return False
    x, y = a[list(RATES)].to_numpy(float), b[list(RATES)].to_numpy(float)
    return bool((np.isnan(x) == np.isnan(y)).all()
                and np.allclose(x[~np.isnan(x)], y[~np.isnan(y)], rtol=0, atol=1e-12))


def measure(name: str, url: str, data: tuple[Any, Any, Any], repeat: int,
            work: Path) -> dict[str, float]:
    from cocity.govern.export import event_log
    from cocity.govern.recompute import recompute
    from cocity.govern.stats import statistics
    from cocity.outputs import write_csv
    from cocity.records import open_records

    records = open_records(url)
    try:
        t0 = time.perf_counter()
        load(records, *data)
        t_load = time.perf_counter() - t0
        # timed as `cocity govern stats` meets the database: opened anew after the writers
        # are gone (SQLite: the last connection's close checkpoints the write-ahead log)
        records.close()
        records = open_records(url)
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            stats = statistics(records, as_of=AS_OF)
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        log = event_log(records)
        path = write_csv(log, work / f"events-{name}.csv")
        t_export = time.perf_counter() - t0
        t0 = time.perf_counter()
        theirs = recompute(path, as_of=AS_OF)
        t_recompute = time.perf_counter() - t0
    finally:
        records.close()
    o = stats.overall()
    same = agree(stats.table, theirs)
    print(f"\n[{name}] {stats.cases:,} cases, {len(log):,} events (loaded in {t_load:.1f} s)")
    print(f"  opened {o['opened']:,}  closed {o['closed']:,}  on-time rate "
          f"{o['on_time_rate']:.4f}  resolution rate {o['resolution_rate']:.4f}  median days "
          f"{o['median_days']:.1f}  p90 days {o['p90_days']:.1f}  overdue open "
          f"{o['overdue_open']:,}  (simulated: all)")
    print(f"  statistics (SQL + numpy), best of {repeat}: {min(times):.3f} s")
    print(f"  pandas baseline: export {t_export:.3f} s + recompute {t_recompute:.3f} s = "
          f"{t_export + t_recompute:.3f} s")
    print(f"  ratio baseline / statistics: {(t_export + t_recompute) / min(times):.1f}x"
          f"   (every figure agrees: {same})")
    return {"stats": min(times), "export": t_export, "recompute": t_recompute}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20241231)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    t0 = time.perf_counter()
    data = synthesise(args.cases, args.seed)
    n_events = sum(len(r) for r in data[2])
    print(f"synthetic register: {args.cases:,} cases, {n_events:,} events, seed {args.seed} "
          f"(generated in {time.perf_counter() - t0:.1f} s); as of {AS_OF}")
    with tempfile.TemporaryDirectory(prefix="cocity-bench-govern-") as tmp:
        work = Path(tmp)
        measure("sqlite", str(work / "records.sqlite"), data, args.repeat, work)
        if not args.no_postgres:
            from tests.postgres import PostgresServer

            with PostgresServer() as server:
                measure("postgresql", server.create_database(), data, args.repeat, work)


if __name__ == "__main__":
    main()
