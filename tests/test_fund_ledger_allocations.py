"""Allocation documents stored with their earmark (``post_allocation(detail=…)``): stored and
read back identical, replayed, refused with another body, append-only, and a tampered
document found by ``verify`` — on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import sqlalchemy as sa

from cocity.fund.ledger import Ledger
from cocity.fund.ledger_errors import IdempotencyConflictError, InvalidDetailError
from cocity.i18n import use_lang
from cocity.records.schema import fund_allocations
from tests.conftest import WHO
from tests.test_fund_ledger import snapshot
from tests.test_fund_ledger_db import found, refused, triggers_off

LINES = [("510300", "facilities", 30_000), ("510400", "facilities", 20_000),
         ("510300", "medical_aid", 5_000)]
# the shape of cocity.fund.allocation.Allocation.document(), with hand-written values
DOC: dict[str, Any] = {
    "kind": "cocity fund allocation", "key": "a1",
    "rules": {"source": "default.yaml", "sha256": "ab" * 32, "name_zh": "默认规则",
              "name_en": "default rules", "level": "city"},
    "fund_fen": 55_000, "pools": {"facilities": 50_000, "medical_aid": 5_000},
    "run": None, "notes": ["金额为示意", "illustrative amounts"],
    "lines": [{"unit": "510300", "use": "facilities", "amount_fen": 30_000, "share": 0.6},
              {"unit": "510400", "use": "facilities", "amount_fen": 20_000, "share": 0.4},
              {"unit": "510300", "use": "medical_aid", "amount_fen": 5_000, "share": 1.0}],
    "excluded": [], "explanation": [{"unit": "510300", "text": "缺口 1.5 床/千人", "ok": True}],
}


def canonical_sha(doc: dict[str, Any]) -> str:
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def pooled(ledger: Ledger) -> Ledger:
    ledger.contribute("central", 100_000, key="c1", reason="2024 拨款", **WHO)
    ledger.fund_pools({"facilities": 60_000, "medical_aid": 10_000}, key="p1", reason="分池",
                      **WHO)
    return ledger


def test_a_document_is_stored_with_its_earmark_and_read_back_identical(ledger: Ledger) -> None:
    pooled(ledger)
    posted = ledger.post_allocation(LINES, key="a1", reason="2024 分配", detail=DOC, **WHO)
    plain = ledger.post_allocation([("510400", "medical_aid", 1_000)], key="a2",
                                   reason="补充", **WHO)
    assert ledger.allocation_detail("a1") == DOC
    assert ledger.allocation_detail(posted.entry_id) == DOC
    assert ledger.allocation_detail("a2") is None  # posted without a document
    assert ledger.allocation_detail(plain.entry_id) is None
    assert ledger.allocation_detail("no-such-key") is None
    assert ledger.allocation_detail(999) is None
    frame = ledger.allocations()
    assert frame.to_dict("records") == [
        {"entry_id": posted.entry_id, "seq": posted.seq, "key": "a1",
         "time": frame["time"][0], "actor": "wang", "reason": "2024 分配",
         "total_fen": 55_000, "sha256": canonical_sha(DOC), "reversed": False},
        {"entry_id": plain.entry_id, "seq": plain.seq, "key": "a2",
         "time": frame["time"][1], "actor": "wang", "reason": "补充",
         "total_fen": 1_000, "sha256": None, "reversed": False}]
    assert frame["time"][0].endswith("Z")
    ledger.reverse(posted.entry_id, key="rv1", reason="规则有误", **WHO)
    assert ledger.allocations()["reversed"].tolist() == [True, False]
    assert ledger.allocation_detail("a1") == DOC  # a reversal keeps the document
    assert ledger.verify() == []


def test_the_same_key_and_document_replays_another_document_is_refused(ledger: Ledger) -> None:
    pooled(ledger)
    first = ledger.post_allocation(LINES, key="a1", reason="2024 分配", detail=DOC, **WHO)
    again = ledger.post_allocation(LINES, key="a1", reason="2024 分配",
                                   detail=json.loads(json.dumps(DOC)), **WHO)
    assert again.replayed and again.entry_id == first.entry_id and again.hash == first.hash
    before = snapshot(ledger)
    other = {**DOC, "notes": ["另一份文件"]}
    with use_lang("en"), pytest.raises(IdempotencyConflictError,
                                       match=r"key 'a1' was used .* different body"):
        ledger.post_allocation(LINES, key="a1", reason="2024 分配", detail=other, **WHO)
    with pytest.raises(IdempotencyConflictError, match="幂等键 'a1'"):
        ledger.post_allocation(LINES, key="a1", reason="2024 分配", **WHO)  # none this time
    assert snapshot(ledger) == before
    with ledger.records.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(fund_allocations)
                            ).scalar_one() == 1


@pytest.mark.parametrize("bad", [{"share": float("nan")}, [1, 2], {"units": {"510300"}},
                                 "a text"])
def test_a_document_that_is_not_a_json_object_is_refused(ledger: Ledger, bad: Any) -> None:
    pooled(ledger)
    before = snapshot(ledger)
    with use_lang("en"), pytest.raises(InvalidDetailError,
                                       match=r"must be a JSON object.*books are unchanged"):
        ledger.post_allocation(LINES, key="a1", reason="r", detail=bad, **WHO)
    assert snapshot(ledger) == before


def test_stored_documents_cannot_be_changed_or_deleted(ledger: Ledger) -> None:
    pooled(ledger)
    ledger.post_allocation(LINES, key="a1", reason="r", detail=DOC, **WHO)
    before = snapshot(ledger)
    for statement in (fund_allocations.update().values(document="{}"),
                      fund_allocations.update().values(sha256="0" * 64),
                      fund_allocations.delete()):
        refused(ledger.records, "cocity:append_only fund_allocations",
                lambda c, s=statement: c.execute(s))
    if ledger.records.dialect == "postgresql":
        refused(ledger.records, "cocity:append_only",
                lambda c: c.exec_driver_sql("TRUNCATE fund_allocations"))
    assert snapshot(ledger) == before


def test_verify_finds_a_tampered_document(ledger: Ledger) -> None:
    pooled(ledger)
    posted = ledger.post_allocation(LINES, key="a1", reason="r", detail=DOC, **WHO)
    ledger.contribute("chongqing", 7_000, key="c2", reason="r", **WHO)
    assert ledger.verify() == []
    eid = posted.entry_id
    forged = json.dumps({**DOC, "fund_fen": 1}, sort_keys=True, separators=(",", ":"),
                        ensure_ascii=False)
    with triggers_off(ledger.records) as conn:  # the text changed, its SHA-256 left
        conn.execute(fund_allocations.update().values(document=forged))
    assert found(ledger) == {("detail", eid, None)}
    with triggers_off(ledger.records) as conn:  # and its SHA-256 changed to match
        conn.execute(fund_allocations.update().values(
            sha256=hashlib.sha256(forged.encode()).hexdigest()))
    assert found(ledger) == {("hash", eid, None)}  # the entry's hash covers the SHA-256
    with triggers_off(ledger.records) as conn:  # the document removed
        conn.execute(fund_allocations.delete())
    assert found(ledger) == {("hash", eid, None)}
