"""Reliability of the ledger on both databases: concurrent writers (processes and threads),
racing allocations on one pool, a writer killed with SIGKILL in the middle of a transaction,
and bad input refused in both languages with the books unchanged. (Rows changed behind the
triggers' back are found by ``verify``: tests/test_fund_ledger_db.py.)"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cocity.fund import ledger_errors as le
from cocity.fund.ledger import Ledger
from cocity.i18n import use_lang
from cocity.records import open_records
from tests.conftest import LEDGER_UNITS, WHO
from tests.test_fund_ledger import snapshot

ROOT = Path(__file__).resolve().parent.parent
WORKERS, EACH, SHARED = 4, 30, 10


def _writer(url: str, worker: int) -> list[tuple[str, int, bool]]:
    """One writer process: its own contributions, and SHARED keys every writer also posts
    (same body: the same retry arriving from four places at once)."""
    records = open_records(url)
    try:
        ledger = Ledger(records)
        out = []
        for i in range(EACH):
            p = ledger.contribute("central", 100 + i, key=f"w{worker}-{i}", reason="并发出资",
                                  **WHO)
            out.append((p.key, p.entry_id, p.replayed))
            if i < SHARED:
                p = ledger.contribute("sichuan", 1_000 + i, key=f"shared-{i}",
                                      reason="同一笔重试", **WHO)
                out.append((p.key, p.entry_id, p.replayed))
        return out
    finally:
        records.close()


def test_concurrent_writer_processes_lose_and_double_nothing(ledger: Ledger) -> None:
    url = str(ledger.records.engine.url.render_as_string(hide_password=False)) \
        if ledger.records.dialect == "postgresql" else ledger.records.where
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(WORKERS) as pool:
        results = pool.starmap(_writer, [(url, w) for w in range(WORKERS)])
    flat = [r for rs in results for r in rs]
    own = [r for r in flat if not r[0].startswith("shared-")]
    assert len({r[1] for r in own}) == WORKERS * EACH and not any(r[2] for r in own)
    for i in range(SHARED):
        mine = [r for r in flat if r[0] == f"shared-{i}"]
        assert len(mine) == WORKERS
        assert len({r[1] for r in mine}) == 1  # one entry, the same for every writer
        assert sum(not r[2] for r in mine) == 1  # posted once, replayed three times
    balances = ledger.balances().set_index("account")["balance_fen"]
    assert balances["source:central"] == WORKERS * sum(100 + i for i in range(EACH))
    assert balances["source:sichuan"] == sum(1_000 + i for i in range(SHARED))
    assert balances["cash"] == balances["source:central"] + balances["source:sichuan"]
    seqs = ledger.statement()["seq"].drop_duplicates().tolist()
    assert seqs == list(range(1, WORKERS * EACH + SHARED + 1))
    assert ledger.verify() == []


def _race(ledger: Ledger, calls: list[Any]) -> list[Any]:
    """Run the calls at the same moment, one thread each; their results or errors."""
    barrier = threading.Barrier(len(calls))
    out: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = calls[i]()
        except Exception as exc:  # collected and asserted by the caller
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out


def test_two_allocations_racing_for_one_pool(ledger: Ledger) -> None:
    """Each round the pool holds 100.00 and two allocations of 70.00 and 60.00 (other keys)
    start at once: one is posted, the other is refused as an overdraft; nothing doubled."""
    ledger.contribute("central", 10_000 * 10, key="c", reason="r", **WHO)
    winners = []
    for round_ in range(10):
        ledger.fund_pools({"medical_aid": 10_000}, key=f"p{round_}", reason="r", **WHO)
        a, b = _race(ledger, [
            lambda r=round_: ledger.post_allocation([("510300", "medical_aid", 7_000)],
                                                    key=f"a{r}", reason="r", **WHO),
            lambda r=round_: ledger.post_allocation([("510400", "medical_aid", 6_000)],
                                                    key=f"b{r}", reason="r", **WHO)])
        won = [x for x in (a, b) if not isinstance(x, Exception)]
        lost = [x for x in (a, b) if isinstance(x, Exception)]
        assert len(won) == 1 and len(lost) == 1, (a, b)
        assert isinstance(lost[0], le.OverdraftError)
        winners.append(won[0].key[0])
        pool = ledger.balances().set_index("account")["balance_fen"]["pool:medical_aid"]
        assert pool == 10_000 - (7_000 if won[0].key[0] == "a" else 6_000)
        ledger.release("510300" if won[0].key[0] == "a" else "510400", "medical_aid",
                       key=f"r{round_}", reason="下一轮", **WHO)
        # the pool is emptied again for the next round
        ledger.post_allocation([("500101", "medical_aid", 10_000)], key=f"e{round_}",
                               reason="r", **WHO)
    assert ledger.verify() == []
    assert len(ledger.statement().query("kind == 'earmark'")["seq"].unique()) == 20


def test_same_key_other_body_racing(ledger: Ledger) -> None:
    """Two writers post the same key with different bodies at once: one wins, the other is
    refused as an idempotency conflict (or, if it arrives second, as such too)."""
    ledger.contribute("central", 100_000, key="c", reason="r", **WHO)
    for round_ in range(10):
        a, b = _race(ledger, [
            lambda r=round_: ledger.fund_pools({"facilities": 100}, key=f"k{r}", reason="r",
                                               **WHO),
            lambda r=round_: ledger.fund_pools({"medical_aid": 200}, key=f"k{r}", reason="r",
                                               **WHO)])
        results = [x for x in (a, b) if not isinstance(x, Exception)]
        errors = [x for x in (a, b) if isinstance(x, Exception)]
        assert len(results) == 1 and len(errors) == 1, (a, b)
        assert isinstance(errors[0], le.IdempotencyConflictError)
    su = ledger.sources_and_uses()
    assert su.pooled_fen + su.cash_fen == 100_000
    assert len(ledger.statement().query("kind == 'pooling'")["seq"].unique()) == 10
    assert ledger.verify() == []


CHILD = """
import sys, time
import sqlalchemy as sa
from cocity.records import open_records
from cocity.records.schema import fund_accounts, fund_entries, fund_postings
from cocity.fund import journal
from cocity.fund.journal import Audit, lock_accounts

url, stage = sys.argv[1], sys.argv[2]
records = open_records(url)
with records.transaction() as conn:
    ids = [conn.execute(sa.select(fund_accounts.c.id).where(fund_accounts.c.code == c))
           .scalar_one() for c in ("cash", "source:central")]
    locked = lock_accounts(conn, ids)
    entry = journal.chain_head(conn)[0] + 1
    conn.execute(fund_postings.insert(), [
        {"entry_id": entry, "account_id": ids[0], "amount": 777},
        {"entry_id": entry, "account_id": ids[1], "amount": -777}])
    if stage == "header":
        seq, prev = journal.chain_head(conn)
        conn.execute(fund_entries.insert(), {
            "id": entry, "seq": seq + 1, "kind": "contribution", "key": "killed",
            "body_sha": "0" * 64, "actor": "x", "role": "y", "reason": "z", "document": "",
            "time": "2024-01-01T00:00:00.000000Z", "reverses": None, "request_id": None,
            "prev_hash": prev, "hash": "e" * 64})
    print("READY", flush=True)
    time.sleep(600)
"""


@pytest.mark.parametrize("stage", ["postings", "header"])
def test_a_writer_killed_mid_transaction_leaves_no_partial_entry(ledger: Ledger,
                                                                 stage: str) -> None:
    ledger.contribute("central", 5_000, key="c1", reason="r", **WHO)
    before = snapshot(ledger)
    url = ledger.records.engine.url.render_as_string(hide_password=False) \
        if ledger.records.dialect == "postgresql" else ledger.records.where
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, stage], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "READY", child.stderr.read() if child.stderr else ""
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
    assert snapshot(ledger) == before  # no posting, no header, balances as they were
    with ledger.records.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM fund_postings")).scalar_one() == 2
    posted = ledger.contribute("central", 1, key="after", reason="the next writer", **WHO)
    assert posted.seq == 2
    assert ledger.verify() == []


def test_bad_input_is_refused_in_both_languages_and_changes_nothing(ledger: Ledger) -> None:
    ledger.contribute("central", 1_000, key="c1", reason="r", **WHO)
    bad: list[tuple[type[Exception], Any]] = [
        (le.InvalidAmountError, lambda: ledger.contribute("central", -1, key="x", reason="r",
                                                          **WHO)),
        (le.InvalidAmountError, lambda: ledger.contribute("central", 0.5, key="x",
                                                          reason="r", **WHO)),
        (le.UnknownNameError, lambda: ledger.contribute("tianjin", 1, key="x", reason="r",
                                                        **WHO)),
        (le.OverdraftError, lambda: ledger.fund_pools({"facilities": 1_001}, key="x",
                                                      reason="r", **WHO)),
        (le.IdempotencyConflictError, lambda: ledger.contribute("central", 2, key="c1",
                                                                reason="r", **WHO)),
        (le.InvalidLinesError, lambda: ledger.post_allocation([("999", "x", -1)], key="x",
                                                              reason="r", **WHO)),
        (le.ExceedsCommitmentError, lambda: ledger.request_disbursement(
            "510300", "facilities", 1, key="x", reason="r", document="d", **WHO)),
        (le.NothingToReleaseError, lambda: ledger.release("510300", "facilities", key="x",
                                                          reason="r", **WHO)),
        (le.ReversalError, lambda: ledger.reverse(ledger.reverse(
            1, key="rv", reason="r", **WHO).entry_id, key="x", reason="r", **WHO)),
        (le.MissingAuditError, lambda: ledger.contribute("central", 1, key="x", reason="r",
                                                         actor="", role="r")),
    ]
    for cls, call in bad:
        before = snapshot(ledger)
        messages = {}
        for lang in ("zh", "en"):
            with use_lang(lang), pytest.raises(cls, match=r"\S") as caught:
                call()
            messages[lang] = str(caught.value)
        if cls is not le.ReversalError:  # (its set-up posts the first reversal)
            assert snapshot(ledger) == before
        assert any("\u4e00" <= ch <= "\u9fff" for ch in messages["zh"]), messages
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in
                       messages["en"].replace("（", "").split("'")[0]), messages
        assert messages["zh"] != messages["en"]
    assert sorted(LEDGER_UNITS) == sorted(ledger.fund().units)
    assert ledger.verify() == []
