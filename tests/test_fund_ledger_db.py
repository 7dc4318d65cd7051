"""What the database itself enforces (raw SQL past the ledger's code), and what ``verify``
finds when someone changes rows with the triggers disabled — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cocity.fund import journal
from cocity.fund.journal import Audit, chain_head, lock_accounts, write_entry
from cocity.fund.ledger import Ledger
from cocity.fund.ledger_errors import OverdraftError, UnbalancedEntryError
from cocity.i18n import use_lang
from cocity.records import Records
from cocity.records.schema import (
    fund_accounts,
    fund_entries,
    fund_postings,
    fund_requests,
)
from tests.conftest import CHECKER, WHO
from tests.test_fund_ledger import funded, snapshot

AUDIT = Audit(actor="raw", role="sql", reason="raw SQL", document="", time="2024-01-01T00:00:00"
              ".000000Z")


def account_id(conn: Connection, code: str) -> int:
    return int(conn.execute(sa.select(fund_accounts.c.id).where(fund_accounts.c.code == code))
               .scalar_one())


def next_entry_id(conn: Connection) -> int:
    return journal.chain_head(conn)[0] + 1


def raw_entry(conn: Connection, postings: list[tuple[str, int]], *, kind: str = "contribution",
              key: str = "raw", reverses: int | None = None, prev_hash: str | None = None,
              seq: int | None = None) -> int:
    """Postings then a header, straight into the tables (no code checks)."""
    entry = next_entry_id(conn)
    conn.execute(fund_postings.insert(), [
        {"entry_id": entry, "account_id": account_id(conn, c), "amount": a}
        for c, a in postings])
    head_seq, head_hash = chain_head(conn)
    conn.execute(fund_entries.insert(), {
        "id": entry, "seq": head_seq + 1 if seq is None else seq, "kind": kind, "key": key,
        "body_sha": "0" * 64, "actor": "raw", "role": "sql", "time": AUDIT.time,
        "reason": "raw", "document": "", "reverses": reverses, "request_id": None,
        "prev_hash": head_hash if prev_hash is None else prev_hash, "hash": f"{key:0>64}"})
    return entry


def refused(records: Records, match: str, action: Any) -> None:
    """``action(conn)`` inside a transaction must be refused by the database (at the
    statement or at COMMIT) with a message containing ``match``."""
    with pytest.raises(sa.exc.DBAPIError, match=match), records.transaction() as conn:
        action(conn)


# -- I1 ----------------------------------------------------------------------------------------
def test_the_database_refuses_an_unbalanced_entry(ledger: Ledger) -> None:
    before = snapshot(ledger)
    refused(ledger.records, "cocity:unbalanced", lambda c: raw_entry(
        c, [("cash", 100), ("source:central", -99)]))
    refused(ledger.records, "cocity:unbalanced", lambda c: raw_entry(c, [("cash", 100)]))
    assert snapshot(ledger) == before


def test_postings_without_their_header_cannot_commit(ledger: Ledger) -> None:
    before = snapshot(ledger)

    def orphan(conn: Connection) -> None:
        conn.execute(fund_postings.insert(), [
            {"entry_id": next_entry_id(conn), "account_id": account_id(conn, "cash"),
             "amount": 100},
            {"entry_id": next_entry_id(conn), "account_id": account_id(conn, "source:central"),
             "amount": -100}])

    refused(ledger.records, "FOREIGN KEY|foreign key", orphan)
    assert snapshot(ledger) == before


def test_a_closed_entry_takes_no_more_postings(ledger: Ledger) -> None:
    posted = ledger.contribute("central", 500, key="c1", reason="r", **WHO)
    before = snapshot(ledger)
    refused(ledger.records, "cocity:entry_closed", lambda c: c.execute(
        fund_postings.insert(), [
            {"entry_id": posted.entry_id, "account_id": account_id(c, "cash"), "amount": 1},
            {"entry_id": posted.entry_id, "account_id": account_id(c, "source:central"),
             "amount": -1}]))
    assert snapshot(ledger) == before


def test_the_lower_level_api_refuses_unbalanced_entries_in_code_and_in_the_database(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(ledger)

    def post(conn: Connection) -> None:
        ids = [account_id(conn, "cash"), account_id(conn, "source:central")]
        locked = lock_accounts(conn, ids)
        write_entry(conn, kind="contribution", key="u1", sha="0" * 64,
                    postings=[(ids[0], 100), (ids[1], -90)], accounts=locked, audit=AUDIT)

    with use_lang("en"), pytest.raises(UnbalancedEntryError,
                                       match="debits 100 fen, credits 90 fen"):
        ledger._run(post)
    monkeypatch.setattr(journal, "check_postings", lambda *a: None)  # the code check off
    with use_lang("en"), pytest.raises(UnbalancedEntryError,
                                       match="the database refused an unbalanced"):
        ledger._run(post)
    assert snapshot(ledger) == before


# -- I2 ----------------------------------------------------------------------------------------
def test_posted_rows_cannot_be_changed_or_deleted(ledger: Ledger) -> None:
    funded(ledger)
    before = snapshot(ledger)
    for statement in (
            fund_entries.update().values(reason="changed"),
            fund_entries.delete(),
            fund_postings.update().values(amount=fund_postings.c.amount * 2),
            fund_postings.delete(),
            fund_accounts.update().where(fund_accounts.c.code == "cash").values(
                no_overdraft=False),
            fund_accounts.update().where(fund_accounts.c.code == "cash").values(code="cash2"),
            fund_accounts.delete().where(fund_accounts.c.code == "disbursed:510300:facilities"),
    ):
        refused(ledger.records, "cocity:append_only", lambda c, s=statement: c.execute(s))
    if ledger.records.dialect == "postgresql":
        refused(ledger.records, "cocity:append_only",
                lambda c: c.exec_driver_sql("TRUNCATE fund_postings CASCADE"))
    assert snapshot(ledger) == before


def test_the_database_refuses_bad_reversals_and_chain_links(ledger: Ledger) -> None:
    c = ledger.contribute("central", 500, key="c1", reason="r", **WHO)
    rev = ledger.reverse(c.entry_id, key="x1", reason="r", **WHO)
    ledger.contribute("central", 700, key="c2", reason="r", **WHO)
    before = snapshot(ledger)
    # a reversal of a reversal
    refused(ledger.records, "cocity:reversal", lambda conn: raw_entry(
        conn, [("cash", 500), ("source:central", -500)], kind="reversal", key="bad1",
        reverses=rev.entry_id))
    # a "reversal" of entry 3 that does not mirror it
    refused(ledger.records, "cocity:reversal", lambda conn: raw_entry(
        conn, [("cash", -600), ("source:central", 600)], kind="reversal", key="bad2",
        reverses=3))
    # a second reversal of entry 1
    refused(ledger.records, "UNIQUE|unique|duplicate", lambda conn: raw_entry(
        conn, [("cash", -500), ("source:central", 500)], kind="reversal", key="bad3",
        reverses=c.entry_id))
    # a broken link of the chain, a gap in seq
    refused(ledger.records, "cocity:chain", lambda conn: raw_entry(
        conn, [("cash", 1), ("source:central", -1)], key="bad4", prev_hash="f" * 64))
    refused(ledger.records, "cocity:chain", lambda conn: raw_entry(
        conn, [("cash", 1), ("source:central", -1)], key="bad5", seq=99))
    # a key used twice
    refused(ledger.records, "UNIQUE|unique|duplicate", lambda conn: raw_entry(
        conn, [("cash", 1), ("source:central", -1)], key="c2"))
    assert snapshot(ledger) == before


# -- I4, I5 ------------------------------------------------------------------------------------
def test_the_database_refuses_an_overdraft(ledger: Ledger,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ledger.contribute("central", 500, key="c1", reason="r", **WHO)
    before = snapshot(ledger)
    refused(ledger.records, "ck_fund_accounts_overdraft", lambda c: raw_entry(
        c, [("pool:facilities", 501), ("cash", -501)], kind="pooling"))
    monkeypatch.setattr(journal, "check_postings", lambda *a: None)
    with use_lang("en"), pytest.raises(OverdraftError, match="the database refused an entry"):
        ledger.fund_pools({"facilities": 501}, key="p1", reason="r", **WHO)
    assert snapshot(ledger) == before


def test_the_database_refuses_maker_as_checker_and_a_second_decision(ledger: Ledger) -> None:
    funded(ledger)
    rid = ledger.request_disbursement("510300", "facilities", 100, key="d1", reason="r",
                                      document="doc", **WHO)
    before = snapshot(ledger)
    refused(ledger.records, "ck_fund_requests_maker_checker", lambda c: c.execute(
        fund_requests.update().where(fund_requests.c.id == rid).values(
            status="approved", checker="wang", checker_role="x", checked_time="t")))
    assert snapshot(ledger) == before
    ledger.approve(rid, **CHECKER)
    refused(ledger.records, "cocity:request_resolved", lambda c: c.execute(
        fund_requests.update().where(fund_requests.c.id == rid).values(
            status="rejected", checker="zhao")))
    refused(ledger.records, "cocity:request_resolved", lambda c: c.execute(
        fund_requests.update().where(fund_requests.c.id == rid).values(amount=1)))


# -- verify finds what was changed behind the triggers' back ------------------------------------
@contextmanager
def triggers_off(records: Records) -> Iterator[Connection]:
    """A transaction in which the triggers (and, on PostgreSQL, foreign keys) do not fire:
    PostgreSQL ``session_replication_role = replica``; SQLite has no switch, so every trigger
    is dropped and re-created by the same transaction."""
    with records.transaction() as conn:
        if records.dialect == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            yield conn
            return
        saved = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").all()
        for name, _ in saved:
            conn.exec_driver_sql(f"DROP TRIGGER {name}")
        yield conn
        for _, sql in saved:
            conn.exec_driver_sql(sql)


def busy_ledger(ledger: Ledger) -> Ledger:
    funded(ledger)
    rid = ledger.request_disbursement("510300", "facilities", 1_000, key="d1", reason="r",
                                      document="合同", **WHO)
    ledger.approve(rid, **CHECKER)
    ledger.contribute("chongqing", 7_000, key="c2", reason="r", **WHO)
    assert ledger.verify() == []
    return ledger


def found(ledger: Ledger) -> set[tuple[str, int | None, str | None]]:
    return {(p.code, p.entry_id, p.account) for p in ledger.verify()}


def test_verify_finds_a_changed_amount(ledger: Ledger) -> None:
    busy_ledger(ledger)
    with triggers_off(ledger.records) as conn:  # both sides, so the entry still balances
        for code, delta in (("cash", 1), ("source:central", -1)):
            conn.execute(fund_postings.update().where(
                fund_postings.c.entry_id == 1,
                fund_postings.c.account_id == account_id(conn, code))
                .values(amount=fund_postings.c.amount + delta))
    assert found(ledger) == {("hash", 1, None), ("balance", None, "cash"),
                             ("balance", None, "source:central")}


def test_verify_finds_a_changed_reason_and_a_changed_request(ledger: Ledger) -> None:
    busy_ledger(ledger)
    with triggers_off(ledger.records) as conn:
        conn.execute(fund_entries.update().where(fund_entries.c.id == 2)
                     .values(reason="另一个事由"))
        conn.execute(fund_requests.update().where(fund_requests.c.id == 1)
                     .values(document="伪造合同"))
    assert found(ledger) == {("hash", 2, None), ("hash", 4, None)}
    with triggers_off(ledger.records) as conn:  # (checker = maker is a CHECK: still refused)
        conn.execute(fund_requests.update().where(fund_requests.c.id == 1)
                     .values(checker="zhao"))
    assert ("request", None, None) in found(ledger)


def test_verify_finds_a_deleted_entry_and_a_moved_posting(ledger: Ledger) -> None:
    busy_ledger(ledger)
    with triggers_off(ledger.records) as conn:
        conn.execute(fund_postings.delete().where(fund_postings.c.entry_id == 2))
        conn.execute(fund_entries.delete().where(fund_entries.c.id == 2))
    problems = found(ledger)
    assert ("chain", 3, None) in problems
    assert {("balance", None, "cash"), ("balance", None, "pool:facilities")} <= problems
    with triggers_off(ledger.records) as conn:
        conn.execute(fund_postings.update().where(
            fund_postings.c.entry_id == 5,
            fund_postings.c.account_id == account_id(conn, "source:chongqing"))
            .values(account_id=account_id(conn, "source:sichuan")))
    assert {("hash", 5, None), ("balance", None, "source:sichuan"),
            ("balance", None, "source:chongqing")} <= found(ledger)


def test_verify_finds_an_extra_posting_a_cache_edit_and_a_flag(ledger: Ledger) -> None:
    busy_ledger(ledger)
    with triggers_off(ledger.records) as conn:
        conn.execute(fund_postings.insert(), {"entry_id": 5, "amount": 50,
                                              "account_id": account_id(conn, "cash")})
        conn.execute(fund_accounts.update().where(fund_accounts.c.code == "pool:medical_aid")
                     .values(balance=fund_accounts.c.balance + 10))
        conn.execute(fund_accounts.update().where(fund_accounts.c.code == "cash")
                     .values(no_overdraft=False))
    problems = found(ledger)
    assert {("unbalanced", 5, None), ("hash", 5, None), ("balance", None, "cash"),
            ("balance", None, "pool:medical_aid"), ("account", None, "cash"),
            ("trial_balance", None, None), ("reconcile", None, None)} == problems
    with use_lang("en"):
        text = [p.message for p in ledger.verify()]
    assert ("the trial balance does not hold: all postings sum to 50 fen (should be 0)"
            in text)
    assert ("account pool:medical_aid: cached balance 10010 fen differs from its postings' "
            "10000 fen") in text


def test_verify_since_anchored_head_rehashes_only_later_entries(ledger: Ledger) -> None:
    busy_ledger(ledger)
    with triggers_off(ledger.records) as conn:
        conn.execute(fund_entries.update().where(fund_entries.c.id == 2).values(actor="x"))
    assert ("hash", 2, None) in found(ledger)
    assert [p.code for p in ledger.verify(since_seq=2)] == []
    assert [p.code for p in ledger.verify(since_seq=1)] == ["hash"]


def test_the_entry_hash_written_in_one_round_trip_is_the_one_verify_recomputes(
        ledger: Ledger) -> None:
    """On PostgreSQL the database function joins the canonical JSON's three parts around the
    id and the seq; texts that look like those parts must not confuse the cut."""
    tricky = '"id":"\x00id\x00" "seq":1 {"id":5}'
    content = journal.entry_content(
        {"id": 12, "seq": 12, "kind": "contribution", "key": tricky, "body_sha": "0" * 64,
         "actor": "王", "role": tricky, "time": AUDIT.time, "reason": tricky,
         "document": "\x00seq\x00", "reverses": None, "request_id": 3},
        [("cash", 5), ("source:central", -5)],
        {"id": 3, "key": "k", "unit_code": "510300", "use_id": "facilities", "amount": 5,
         "actor": tricky, "role": "r", "reason": "r", "document": "d", "time": AUDIT.time})
    a, b, c = journal.hash_parts(content)
    assert a + "12" + b + "12" + c == journal.canonical(content)
    funded(ledger)
    tricky = '"id":"x" "seq":1 {"id":5} \\u0000'  # (PostgreSQL's text refuses NUL itself)
    posted = ledger.contribute("central", 777, key=tricky, reason=tricky, document="文件 №1",
                               **WHO)
    with ledger.records.read() as conn:
        stored = conn.execute(sa.select(fund_entries.c.hash)
                              .where(fund_entries.c.id == posted.entry_id)).scalar_one()
    assert stored == posted.hash
    assert ledger.verify() == []
