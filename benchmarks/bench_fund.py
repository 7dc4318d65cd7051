"""Benchmark of the fund's ledger: postings per second on SQLite and PostgreSQL with 1 and 4
writer processes, against a baseline of plain INSERTs of the same rows in the same run, and the
time of posting one allocation of 200 recipient lines.

    python benchmarks/bench_fund.py [--entries 400] [--lines 200]

What is measured (every figure comes from this run; nothing is asserted):

* ledger — ``Ledger.contribute`` (an entry of 2 postings) and ``Ledger.post_allocation`` of 10
  lines (an entry of 11–13 postings): one transaction each, with the idempotency lookup, the
  account row locks, the code checks, the triggers (balance cache, I1, chain, reversal) and
  the hash chain;
* baseline — the same numbers of postings and entry rows INSERTed into plain tables without
  constraints, triggers or indexes, one transaction per entry, by the same number of writers;
* allocation — ``post_allocation`` of ``--lines`` lines (one entry), best of 3.

PostgreSQL is a throw-away server started here (tests/postgres.py) with its default durability
(fsync and synchronous commit on); SQLite is a file in WAL mode with its default synchronous
setting. The recipient units are synthetic codes (a benchmark, not data).

With ``--no-sync-line`` omitted, PostgreSQL is then run once more with ``synchronous_commit =
off`` on the benchmark's databases, printed under its own heading: NOT a figure of the ledger
as shipped (a crash may lose the last commits), only to show how much of the time is the
commit's WAL flush, which the ledger's chain lock serialises.

What the 4-writer figures mean: every ledger write takes one chain lock held until COMMIT (the
hash chain is in commit order), so entries are written one at a time; extra writers can only
overlap their reads, checks and hashing with the holder's work. Here, moreover, every
contribution debits ``cash`` and every allocation credits the same three pools, whose rows each
writer locks (no overdraft is checked from a balance that may change) from its first statement
to its COMMIT — the benchmark's writers queue on those rows too. On a machine with few cores
the writer processes, the database server and anything else running share them, so 4 writers
may be slower than 1 (the plain-INSERT baseline, without any lock, shows how much). The core
count is printed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

USES = ["facilities", "social_security", "medical_aid"]
WHO = {"actor": "bench", "role": "fund_manager"}


def _units(n: int) -> dict[str, tuple[str, str]]:
    return {f"9{i:05d}": (f"单元{i}", f"unit {i}") for i in range(n)}


def _ledger_worker(url: str, worker: int, entries: int, kind: str) -> tuple[float, float, int]:
    from cocity.fund.ledger import Ledger
    from cocity.records import open_records

    records = open_records(url)
    ledger = Ledger(records)
    units = sorted(ledger.fund().units)
    postings = 0
    start = time.time()
    for i in range(entries):
        key = f"{kind}-{worker}-{i}"
        if kind == "contribute":
            ledger.contribute("central", 100 + i, key=key, reason="bench", **WHO)
            postings += 2
        else:
            lines = [(units[(worker * 37 + i * 10 + j) % len(units)], USES[j % 3], 1 + j)
                     for j in range(10)]
            p = ledger.post_allocation(lines, key=key, reason="bench", **WHO)
            del p
            postings += 10 + len({use for _, use, _ in lines})
    end = time.time()
    records.close()
    return start, end, postings


def _baseline_worker(url: str, worker: int, entries: int, per_entry: int
                     ) -> tuple[float, float, int]:
    import sqlalchemy as sa

    from cocity.records import open_records

    records = open_records(url)
    start = time.time()
    for i in range(entries):
        with records.transaction() as conn:
            eid = worker * 10_000_000 + i
            conn.execute(sa.text("INSERT INTO bench_postings VALUES (:e, :a, :x)"),
                         [{"e": eid, "a": j, "x": 100 * (1 if j % 2 else -1)}
                          for j in range(per_entry)])
            conn.execute(sa.text("INSERT INTO bench_entries VALUES (:e, :k, :h)"),
                         {"e": eid, "k": f"b-{worker}-{i}", "h": "0" * 64})
    end = time.time()
    records.close()
    return start, end, entries * per_entry


def _parallel(fn, args_of, writers: int) -> float:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(writers) as pool:
        results = pool.starmap(fn, [args_of(w) for w in range(writers)])
    start = min(r[0] for r in results)
    end = max(r[1] for r in results)
    return sum(r[2] for r in results) / (end - start)


def _fresh(url_of, name: str, units: int, *, sync_off: bool = False):
    from cocity.fund.ledger import Ledger
    from cocity.records import open_records

    url = url_of(name)
    records = open_records(url)
    ledger = Ledger(records)
    ledger.open_fund(units=_units(units))
    ledger.contribute("central", 10**15, key="seed", reason="bench", **WHO)
    ledger.fund_pools({u: 10**14 for u in USES}, key="pools", reason="bench", **WHO)
    with records.transaction() as conn:
        if sync_off:
            name = conn.exec_driver_sql("SELECT current_database()").scalar_one()
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        conn.exec_driver_sql("CREATE TABLE bench_postings (entry_id BIGINT, account_id BIGINT,"
                             " amount BIGINT)")
        conn.exec_driver_sql("CREATE TABLE bench_entries (id BIGINT, key TEXT, hash TEXT)")
    records.close()
    return url


def run_database(label: str, url_of, *, entries: int, lines: int,
                 sync_off: bool = False) -> None:
    from cocity.fund.ledger import Ledger
    from cocity.records import open_records

    print(f"\n== {label} ==")
    tag = "nosync" if sync_off else ""
    for kind, per_entry in (("contribute", 2), ("allocate", 13)):
        for writers in (1, 4):
            url = _fresh(url_of, f"{kind}{writers}{tag}", units=200, sync_off=sync_off)
            n = entries // writers if kind == "contribute" else entries // (writers * 4)
            ledger_rate = _parallel(_ledger_worker, lambda w, u=url, n=n, k=kind: (u, w, n, k),
                                    writers)
            base_rate = _parallel(_baseline_worker,
                                  lambda w, u=url, n=n, p=per_entry: (u, w, n, p), writers)
            what = "2 postings" if kind == "contribute" else "10 lines"
            print(f"  {kind:10s} ({what:10s}) {writers} writer(s): ledger "
                  f"{ledger_rate:8.0f} postings/s | plain INSERTs {base_rate:8.0f} rows/s | "
                  f"ratio {ledger_rate / base_rate:5.2f}")
    if sync_off:
        return
    url = _fresh(url_of, "alloc", units=lines)
    records = open_records(url)
    ledger = Ledger(records)
    units = sorted(ledger.fund().units)
    best = float("inf")
    for attempt in range(3):
        rows = [(units[i], USES[i % 3], 1_000 + i) for i in range(lines)]
        t0 = time.perf_counter()
        ledger.post_allocation(rows, key=f"full-{attempt}", reason="bench", **WHO)
        best = min(best, time.perf_counter() - t0)
    records.close()
    print(f"  allocation of {lines} lines ({lines + 3} postings, one entry): "
          f"{best * 1000:.0f} ms (best of 3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=400,
                        help="entries of 2 postings per run (allocations: a quarter)")
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--no-sync-line", action="store_true",
                        help="skip the extra PostgreSQL run with synchronous_commit = off")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU core(s); {args.entries} contributions and "
          f"{args.entries // 4} allocations per run, split over the writers")

    from tests.postgres import PostgresServer

    with tempfile.TemporaryDirectory(prefix="cocity-bench-") as tmp:
        run_database("SQLite (WAL, file)", lambda name: str(Path(tmp) / f"{name}.sqlite"),
                     entries=args.entries, lines=args.lines)
    with PostgresServer(durable=True) as server:
        run_database("PostgreSQL (Unix socket, fsync on)",
                     lambda name: server.create_database(f"bench_{name}"),
                     entries=args.entries, lines=args.lines)
        if not args.no_sync_line:
            run_database("PostgreSQL, synchronous_commit = OFF (NOT the figure: durability "
                         "reduced; shows the commit flush's share)",
                         lambda name: server.create_database(f"bench_{name}"),
                         entries=args.entries, lines=args.lines, sync_off=True)


if __name__ == "__main__":
    main()
