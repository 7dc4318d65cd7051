"""The fund's ledger on both databases: the entries of every operation (hand-computed), the
invariants I1–I8 in code, every refusal with its bilingual message and the books unchanged."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from cocity.fund.accounts import load_chart
from cocity.fund.ledger import Ledger
from cocity.fund.ledger_errors import (
    ChartConflictError,
    ExceedsCommitmentError,
    FundNotOpenError,
    IdempotencyConflictError,
    InvalidAmountError,
    InvalidLinesError,
    MakerCheckerError,
    MissingAuditError,
    NothingToReleaseError,
    OverdraftError,
    PendingRequestsError,
    RequestStateError,
    ReversalError,
    UnknownNameError,
)
from cocity.i18n import use_lang
from cocity.records import schema
from cocity.spec import SpecError
from tests.conftest import CHECKER, LEDGER_UNITS, WHO


def snapshot(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every fund table, for 'the books are unchanged'."""
    out = {}
    with ledger.records.read() as conn:
        for name, table in schema.metadata.tables.items():
            rows = conn.execute(sa.select(table)).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def bal(ledger: Ledger) -> dict[str, int]:
    frame = ledger.balances(nonzero=True)
    return dict(zip(frame["account"], frame["balance_fen"].astype(int), strict=True))


def funded(ledger: Ledger) -> Ledger:
    """1,000.00 yuan from the centre, 600.00 pooled for facilities, 100.00 for medical aid,
    300.00 + 200.00 earmarked for facilities in two units."""
    ledger.contribute("central", 100_000, key="c1", reason="2024 拨款", **WHO)
    ledger.fund_pools({"facilities": 60_000, "medical_aid": 10_000}, key="p1",
                      reason="分池", **WHO)
    ledger.post_allocation([("510300", "facilities", 30_000),
                            ("510400", "facilities", 20_000)], key="a1", reason="分配", **WHO)
    return ledger


# -- set-up ----------------------------------------------------------------------------------
def test_open_fund_sets_up_the_chart_once(ledger: Ledger) -> None:
    info = ledger.fund()
    assert info.name == "成渝地区双城经济圈民生协同基金"
    assert set(info.sources) == {"central", "sichuan", "chongqing", "social_capital"}
    assert info.sources["central"] == ("中央财政补贴", "Central government subsidy")
    assert set(info.uses) == {"facilities", "social_security", "medical_aid"}
    assert info.units == LEDGER_UNITS
    codes = set(ledger.balances()["account"])
    # cash + 4 sources + 3 pools + 3 units × 3 uses × (commitment, disbursed)
    assert len(codes) == 1 + 4 + 3 + 18
    assert {"cash", "source:central", "pool:medical_aid", "commitment:510300:facilities",
            "disbursed:500101:social_security"} <= codes
    before = snapshot(ledger)
    again = ledger.open_fund(units=LEDGER_UNITS)
    assert again == info
    assert snapshot(ledger) == before


def test_open_fund_adds_units_and_refuses_renames(ledger: Ledger) -> None:
    ledger.add_units({"510500": ("泸州市", "Luzhou")})
    assert "commitment:510500:medical_aid" in set(ledger.balances()["account"])
    before = snapshot(ledger)
    with use_lang("en"), pytest.raises(ChartConflictError, match="stored as '自贡市 / Zigong'"):
        ledger.add_units({"510300": ("自贡", "Zigong")})
    with use_lang("en"), pytest.raises(ChartConflictError, match="fund name"):
        ledger.open_fund(name="另一个基金")
    chart = load_chart().model_dump()
    chart["sources"]["central"]["name_zh"] = "中央补助"
    with use_lang("zh"), pytest.raises(ChartConflictError, match="不可改名"):
        ledger.open_fund(chart=chart)
    assert snapshot(ledger) == before


def test_an_illustrative_fund_is_flagged_once_and_for_good(records, ledger: Ledger) -> None:
    assert ledger.fund().illustrative is False
    assert ledger.fund().name_en.startswith("Chengdu")
    with use_lang("en"), pytest.raises(ChartConflictError, match="a real fund"):
        ledger.open_fund(illustrative=True)  # a real fund is never turned into a demo
    assert Ledger(records).fund().illustrative is False


def test_a_demo_fund_keeps_its_flag(records) -> None:
    demo = Ledger(records)
    info = demo.open_fund(name="演示基金", units=LEDGER_UNITS, illustrative=True)
    assert info.illustrative is True
    again = demo.open_fund(name="演示基金")  # opening it again keeps the flag
    assert again.illustrative is True and Ledger(records).fund().illustrative is True


def test_a_bad_chart_reports_every_problem(records) -> None:
    chart = {"name_zh": "基金", "name_en": "Fund", "sources": {"Central!": {"name_zh": "x"}},
             "uses": {}}
    with use_lang("en"), pytest.raises(SpecError, match=r"(?s)3 problem.*sources.*uses"):
        Ledger(records).open_fund(chart=chart)


def test_an_unopened_fund_is_a_clear_error(records) -> None:
    with use_lang("en"), pytest.raises(FundNotOpenError, match="holds no fund yet"):
        Ledger(records).contribute("central", 1, key="k", reason="r", **WHO)


# -- the entries of each operation -------------------------------------------------------------
def test_entries_of_contribution_pooling_and_earmark(ledger: Ledger) -> None:
    funded(ledger)
    assert bal(ledger) == {
        "source:central": 100_000, "cash": 30_000, "pool:facilities": 10_000,
        "pool:medical_aid": 10_000, "commitment:510300:facilities": 30_000,
        "commitment:510400:facilities": 20_000}
    st = ledger.statement()
    rows = {(r.seq, r.account): (r.debit_fen, r.credit_fen) for r in st.itertuples()}
    assert rows == {
        (1, "cash"): (100_000, 0), (1, "source:central"): (0, 100_000),
        (2, "cash"): (0, 70_000), (2, "pool:facilities"): (60_000, 0),
        (2, "pool:medical_aid"): (10_000, 0),
        (3, "commitment:510300:facilities"): (30_000, 0),
        (3, "commitment:510400:facilities"): (20_000, 0),
        (3, "pool:facilities"): (0, 50_000)}
    assert list(st.drop_duplicates("seq")["kind"]) == ["contribution", "pooling", "earmark"]
    assert set(st["actor"]) == {"wang"} and set(st["role"]) == {"fund_manager"}
    cash = ledger.statement("cash")
    assert list(cash["balance_fen"]) == [100_000, 30_000]


def test_disbursement_is_requested_then_approved_by_another_user(ledger: Ledger) -> None:
    funded(ledger)
    rid = ledger.request_disbursement("510300", "facilities", 12_345, key="d1",
                                      reason="医院一期", document="合同 2024-17", **WHO)
    assert bal(ledger)["commitment:510300:facilities"] == 30_000  # nothing posted yet
    posted = ledger.approve(rid, **CHECKER)
    assert posted.kind == "disbursement" and posted.key == "d1" and not posted.replayed
    b = bal(ledger)
    assert b["commitment:510300:facilities"] == 30_000 - 12_345
    assert b["disbursed:510300:facilities"] == 12_345
    entry = ledger.statement().query("seq == @posted.seq")
    assert set(entry["actor"]) == {"li"} and set(entry["document"]) == {"合同 2024-17"}
    assert set(entry["reason"]) == {"医院一期"}
    req = ledger.requests().set_index("id").loc[rid]
    assert (req["status"], req["actor"], req["checker"]) == ("approved", "wang", "li")


def test_partial_disbursements_then_release_of_the_rest(ledger: Ledger) -> None:
    funded(ledger)
    for i, amount in enumerate((10_000, 5_000)):
        rid = ledger.request_disbursement("510300", "facilities", amount, key=f"d{i}",
                                          reason="分期", document=f"票据{i}", **WHO)
        ledger.approve(rid, **CHECKER)
    posted = ledger.release("510300", "facilities", key="r1", reason="项目结束", **WHO)
    assert posted.kind == "release"
    b = bal(ledger)
    assert "commitment:510300:facilities" not in b
    assert b["disbursed:510300:facilities"] == 15_000
    assert b["pool:facilities"] == 10_000 + 15_000
    su = ledger.sources_and_uses()
    assert su.reconciles
    assert (su.contributed_fen, su.disbursed_fen, su.held_fen) == (100_000, 15_000, 85_000)


def test_sources_and_uses_and_trial_balance(ledger: Ledger) -> None:
    funded(ledger)
    ledger.contribute("sichuan", 40_000, key="c2", reason="四川出资", **WHO)
    rid = ledger.request_disbursement("510400", "facilities", 5_000, key="d1", reason="r",
                                      document="doc", **WHO)
    ledger.approve(rid, **CHECKER)
    su = ledger.sources_and_uses()
    assert dict(zip(su.sources["source"], su.sources["contributed_fen"], strict=True)) == {
        "central": 100_000, "chongqing": 0, "sichuan": 40_000, "social_capital": 0}
    uses = su.uses.set_index("use")
    assert uses.loc["facilities", ["pooled_fen", "committed_fen", "disbursed_fen"]].tolist() \
        == [10_000, 45_000, 5_000]
    assert (su.cash_fen, su.pooled_fen, su.committed_fen) == (70_000, 20_000, 45_000)
    assert su.contributed_fen == su.disbursed_fen + su.held_fen == 140_000
    units = su.units.set_index("unit")
    assert units.loc["510400", ["committed_fen", "disbursed_fen"]].tolist() == [15_000, 5_000]
    assert units.loc["510400", "name_zh"] == "攀枝花市"
    tb = ledger.trial_balance()
    assert tb.balanced and tb.total_debit == tb.total_credit == 100_000 + 70_000 + 50_000 \
        + 40_000 + 5_000


# -- I3 idempotency --------------------------------------------------------------------------
def test_same_key_same_body_returns_the_original_and_writes_nothing(ledger: Ledger) -> None:
    first = ledger.contribute("central", 100_000, key="c1", reason="2024 拨款", **WHO)
    before = snapshot(ledger)
    again = ledger.contribute("central", 100_000, key="c1", reason="2024 拨款", **WHO)
    assert again.replayed and not first.replayed
    assert (again.entry_id, again.seq, again.hash) == (first.entry_id, first.seq, first.hash)
    assert snapshot(ledger) == before
    ledger.fund_pools({"facilities": 50_000}, key="p1", reason="r", **WHO)
    lines = [("510300", "facilities", 30_000), ("510400", "facilities", 0)]
    a1 = ledger.post_allocation(lines, key="a1", reason="r", **WHO)
    before = snapshot(ledger)
    assert ledger.post_allocation(list(reversed(lines)), key="a1", reason="r", **WHO) \
        == a1.__class__(**{**a1.__dict__, "replayed": True})
    rid = ledger.request_disbursement("510300", "facilities", 1_000, key="d1", reason="r",
                                      document="doc", **WHO)
    assert ledger.request_disbursement("510300", "facilities", 1_000, key="d1", reason="r",
                                       document="doc", **WHO) == rid
    ok = ledger.approve(rid, **CHECKER)
    assert ledger.approve(rid, **CHECKER) == ok.__class__(**{**ok.__dict__, "replayed": True})
    rel = ledger.release("510300", "facilities", key="r1", reason="r", **WHO)
    assert ledger.release("510300", "facilities", key="r1", reason="r", **WHO).replayed
    rev = ledger.reverse(rel.entry_id, key="x1", reason="r", **WHO)
    assert ledger.reverse(rel.entry_id, key="x1", reason="r", **WHO).entry_id == rev.entry_id
    assert before != snapshot(ledger)


def test_same_key_other_body_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    rid = ledger.request_disbursement("510300", "facilities", 1_000, key="d1", reason="r",
                                      document="doc", **WHO)
    before = snapshot(ledger)
    with use_lang("en"), pytest.raises(IdempotencyConflictError,
                                       match=r"key 'c1' was used .* different body"):
        ledger.contribute("central", 99_999, key="c1", reason="2024 拨款", **WHO)
    with use_lang("zh"), pytest.raises(IdempotencyConflictError, match="幂等键 'c1'"):
        ledger.contribute("central", 100_000, key="c1", reason="另一事由", **WHO)
    with pytest.raises(IdempotencyConflictError, match="earmark"):
        ledger.fund_pools({"facilities": 1}, key="a1", reason="分配", **WHO)
    with pytest.raises(IdempotencyConflictError, match="request"):
        ledger.contribute("central", 1, key="d1", reason="r", **WHO)
    with pytest.raises(IdempotencyConflictError, match="contribution"):
        ledger.request_disbursement("510300", "facilities", 1_000, key="c1", reason="r",
                                    document="doc", **WHO)
    with pytest.raises(IdempotencyConflictError, match="request"):
        ledger.request_disbursement("510300", "facilities", 2_000, key="d1", reason="r",
                                    document="doc", **WHO)
    assert snapshot(ledger) == before
    assert ledger.requests()["id"].tolist() == [rid]


# -- I4 no overdraft ---------------------------------------------------------------------------
def test_the_fund_cannot_pool_or_earmark_money_it_has_not_received(ledger: Ledger) -> None:
    with use_lang("en"), pytest.raises(OverdraftError, match="account cash holds 0 fen"):
        ledger.fund_pools({"facilities": 1}, key="p0", reason="r", **WHO)
    funded(ledger)
    before = snapshot(ledger)
    with use_lang("en"), pytest.raises(OverdraftError,
                                       match="pool:facilities holds 10000 fen, not enough "
                                             "for 10001"):
        ledger.post_allocation([("510300", "facilities", 5_000),
                                ("500101", "facilities", 5_001)], key="a2", reason="r", **WHO)
    with use_lang("zh"), pytest.raises(OverdraftError, match="不允许透支"):
        ledger.fund_pools({"social_security": 30_001}, key="p2", reason="r", **WHO)
    assert snapshot(ledger) == before


# -- I5 two-phase, maker–checker ------------------------------------------------------------
def test_never_disburse_more_than_earmarked(ledger: Ledger) -> None:
    funded(ledger)
    r1 = ledger.request_disbursement("510400", "facilities", 15_000, key="d1", reason="r",
                                     document="doc", **WHO)
    before = snapshot(ledger)
    with use_lang("en"), pytest.raises(ExceedsCommitmentError,
                                       match=r"holds 20000 fen \(15000 fen of it already "
                                             r"requested\), not enough to disburse 5001"):
        ledger.request_disbursement("510400", "facilities", 5_001, key="d2", reason="r",
                                    document="doc", **WHO)
    with pytest.raises(ExceedsCommitmentError, match="500101"):
        ledger.request_disbursement("500101", "facilities", 1, key="d3", reason="r",
                                    document="doc", **WHO)
    assert snapshot(ledger) == before
    ledger.approve(r1, **CHECKER)
    r2 = ledger.request_disbursement("510400", "facilities", 5_000, key="d4", reason="r",
                                     document="doc", **WHO)
    ledger.approve(r2, **CHECKER)
    assert bal(ledger)["disbursed:510400:facilities"] == 20_000
    assert "commitment:510400:facilities" not in bal(ledger)


def test_release_resolves_the_rest_once(ledger: Ledger) -> None:
    funded(ledger)
    rid = ledger.request_disbursement("510300", "facilities", 1_000, key="d1", reason="r",
                                      document="doc", **WHO)
    before = snapshot(ledger)
    with use_lang("en"), pytest.raises(PendingRequestsError, match=r"1000 fen .* await"):
        ledger.release("510300", "facilities", key="r1", reason="r", **WHO)
    assert snapshot(ledger) == before
    ledger.reject(rid, reason="票据不全", **CHECKER)
    ledger.release("510300", "facilities", key="r1", reason="r", **WHO)
    before = snapshot(ledger)
    with use_lang("en"), pytest.raises(NothingToReleaseError, match="nothing left to release"):
        ledger.release("510300", "facilities", key="r2", reason="r", **WHO)
    with pytest.raises(ExceedsCommitmentError, match="510300"):
        ledger.request_disbursement("510300", "facilities", 1, key="d2", reason="r",
                                    document="doc", **WHO)
    with pytest.raises(RequestStateError, match="rejected"):
        ledger.approve(rid, **CHECKER)
    assert snapshot(ledger) == before


def test_maker_cannot_check_and_a_request_is_resolved_once(ledger: Ledger) -> None:
    funded(ledger)
    rid = ledger.request_disbursement("510300", "facilities", 1_000, key="d1", reason="r",
                                      document="doc", **WHO)
    before = snapshot(ledger)
    with use_lang("en"), pytest.raises(MakerCheckerError, match="booked by wang"):
        ledger.approve(rid, actor="wang", role="fund_approver")
    with use_lang("zh"), pytest.raises(MakerCheckerError, match="经办与复核须为不同用户"):
        ledger.reject(rid, actor="wang", role="fund_approver", reason="r")
    assert snapshot(ledger) == before
    ledger.approve(rid, **CHECKER)
    before = snapshot(ledger)
    with use_lang("en"), pytest.raises(RequestStateError, match="already approved by li"):
        ledger.approve(rid, actor="zhao", role="fund_approver")
    with pytest.raises(RequestStateError, match="li"):
        ledger.reject(rid, actor="zhao", role="fund_approver", reason="r")
    with pytest.raises(UnknownNameError, match="999"):
        ledger.approve(999, **CHECKER)
    assert snapshot(ledger) == before


# -- I2 corrections by reversal ----------------------------------------------------------------
def test_reversal_swaps_the_postings_and_is_linked(ledger: Ledger) -> None:
    c = ledger.contribute("central", 5_000, key="c1", reason="误记", **WHO)
    rev = ledger.reverse(c.entry_id, key="x1", reason="冲销误记", document="更正单 1", **WHO)
    assert rev.kind == "reversal"
    assert bal(ledger) == {}
    st = ledger.statement().query("seq == @rev.seq")
    assert set(st["reverses"]) == {c.entry_id}
    assert {(r.account, r.debit_fen, r.credit_fen) for r in st.itertuples()} == {
        ("cash", 0, 5_000), ("source:central", 5_000, 0)}
    before = snapshot(ledger)
    with use_lang("en"), pytest.raises(ReversalError, match="already reversed by entry"):
        ledger.reverse(c.entry_id, key="x2", reason="again", **WHO)
    with use_lang("en"), pytest.raises(ReversalError, match="is itself the reversal"):
        ledger.reverse(rev.entry_id, key="x3", reason="undo", **WHO)
    with pytest.raises(UnknownNameError, match="12345"):
        ledger.reverse(12345, key="x4", reason="r", **WHO)
    assert snapshot(ledger) == before


def test_a_reversal_that_would_overdraw_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    before = snapshot(ledger)
    with use_lang("en"), pytest.raises(OverdraftError, match="account cash holds 30000"):
        ledger.reverse(1, key="x1", reason="r", **WHO)  # the contribution, already pooled
    assert snapshot(ledger) == before


# -- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize("amount", [-5, 0, 1.5, 100.0, "100", True, None])
def test_amounts_must_be_whole_positive_fen(ledger: Ledger, amount: object) -> None:
    before = snapshot(ledger)
    with use_lang("en"), pytest.raises(InvalidAmountError, match="whole, positive numbers"):
        ledger.contribute("central", amount, key="c1", reason="r", **WHO)  # type: ignore[arg-type]
    assert snapshot(ledger) == before


def test_unknown_names_and_missing_audit_fields(ledger: Ledger) -> None:
    before = snapshot(ledger)
    with use_lang("en"), pytest.raises(UnknownNameError, match="unknown source 'beijing'"):
        ledger.contribute("beijing", 1, key="c1", reason="r", **WHO)
    with use_lang("zh"), pytest.raises(UnknownNameError, match="未知的资金用途 'roads'"):
        ledger.fund_pools({"roads": 1}, key="p1", reason="r", **WHO)
    with use_lang("en"), pytest.raises(UnknownNameError, match="recipient unit '110000'"):
        ledger.request_disbursement("110000", "facilities", 1, key="d1", reason="r",
                                    document="doc", **WHO)
    with use_lang("en"), pytest.raises(MissingAuditError, match="reason is missing"):
        ledger.contribute("central", 1, key="c1", reason="  ", **WHO)
    with use_lang("en"), pytest.raises(MissingAuditError, match="actor is missing"):
        ledger.contribute("central", 1, key="c1", reason="r", actor="", role="x")
    with use_lang("en"), pytest.raises(MissingAuditError, match="key is missing"):
        ledger.contribute("central", 1, key="", reason="r", **WHO)
    with use_lang("en"), pytest.raises(MissingAuditError, match="document"):
        ledger.request_disbursement("510300", "facilities", 1, key="d1", reason="r",
                                    document="", **WHO)
    assert snapshot(ledger) == before


def test_allocation_lines_report_every_problem_at_once(ledger: Ledger) -> None:
    funded(ledger)
    before = snapshot(ledger)
    lines = [("510300", "facilities", 1), ("999999", "facilities", 1),
             ("510400", "roads", 2), ("510400", "medical_aid", 2.5),
             ("510300", "facilities", 3), ("oops",)]
    with use_lang("en"), pytest.raises(InvalidLinesError) as caught:
        ledger.post_allocation(lines, key="a2", reason="r", **WHO)  # type: ignore[arg-type]
    text = str(caught.value)
    assert "5 problem(s) found; nothing was posted" in text
    for part in ("row 2: unknown recipient unit '999999'", "row 3: unknown use 'roads'",
                 "row 4: amount 2.5", "row 5: (510300, facilities) appears more",
                 "row 6: ('oops',) is not a (unit, use, amount)"):
        assert part in text
    with use_lang("en"), pytest.raises(InvalidLinesError, match="nothing to post"):
        ledger.post_allocation([("510300", "facilities", 0)], key="a3", reason="r", **WHO)
    assert snapshot(ledger) == before


# -- the audit trail ---------------------------------------------------------------------------
def test_audit_log_lists_every_event_with_who_and_why(ledger: Ledger) -> None:
    funded(ledger)
    rid = ledger.request_disbursement("510300", "facilities", 1_000, key="d1", reason="申请",
                                      document="doc", **WHO)
    ledger.approve(rid, reason="同意", **CHECKER)
    log = ledger.audit_log()
    assert log["event"].tolist() == ["contribution", "pooling", "earmark", "request",
                                     "approved", "disbursement"]
    assert log["actor"].tolist() == ["wang"] * 4 + ["li"] * 2
    assert log["reason"].tolist() == ["2024 拨款", "分池", "分配", "申请",
                                      "同意", "同意"]
    assert log["amount_fen"].tolist() == [100_000, 70_000, 50_000, 1_000, 1_000, 1_000]
    assert log["time"].is_monotonic_increasing
    head = ledger.head()
    assert head == (4, log["hash"].dropna().iloc[-1])
    assert ledger.verify() == []
