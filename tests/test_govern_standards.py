"""The committee's standards register on both databases (SQLite and PostgreSQL): the items
as data, records with resolved names, the status in force on a date, coverage over the
default unit set (hand-computed), refusals that write nothing, idempotency, append-only."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from cocity.govern import InvalidCaseError, UnknownUnitError
from cocity.govern.machine import vocabularies
from cocity.govern.standards import (
    AdoptionDateError,
    DuplicateAdoptionError,
    Standards,
    UnknownStandardError,
    UnknownStatusError,
    catalogue,
)
from cocity.i18n import use_lang
from cocity.records import Records, open_records
from cocity.records.schema import govern_adoptions

WHO = {"actor": "zhang", "role": "secretary", "reason": "据文件登记"}
CHENGDU, CHONGQING, MIANYANG = "510100", "500100", "510700"


@pytest.fixture(scope="session")
def unit_index():
    from cocity.data.units import UnitIndex
    from cocity.datasets import open_store

    return UnitIndex(open_store().units())


@pytest.fixture
def reg(records: Records, unit_index) -> Standards:
    return Standards(records, units=unit_index, clock=lambda: "2025-01-02T03:04:05Z")


def rec(reg: Standards, standard: str, unit: str, status: str, date: str, **more: Any):
    return reg.record(standard, unit, status, date=date,
                      document=more.pop("document", "川渝医保发〔2024〕1号"), **{**WHO, **more})


def rows(records: Records) -> int:
    with records.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(govern_adoptions))
                   .scalar_one())


def test_items_and_statuses_are_data_with_sources_and_case_categories() -> None:
    cat = catalogue()
    assert set(cat.statuses) == {"planned", "piloting", "adopted", "suspended"}
    assert (cat.statuses["adopted"].zh, cat.statuses["piloting"].zh) == ("已实施", "试点")
    assert (cat.adopted, cat.piloting) == ("adopted", "piloting")
    assert {"medical_direct_settlement", "social_insurance_transfer",
            "vocational_certificates", "housing_fund_recognition"} <= set(cat.items)
    known = set(vocabularies().categories)
    for item_id, item in cat.items.items():
        assert item.category in known, item_id
        assert item.zh and item.en and item.adoption.zh and item.adoption.en, item_id
        assert item.source.texts or item.source.policy is not None, item_id
        for src in item.source.texts:
            assert src.file.endswith(".txt") and len(src.quote) >= 6, item_id
    assert cat.items["medical_direct_settlement"].category == "health"


def test_the_default_unit_set_is_the_sixteen_prefecture_level_units(reg) -> None:
    codes = reg.default_units()
    assert len(codes) == 16
    assert {CHENGDU, CHONGQING, MIANYANG} <= set(codes)
    frame = reg.units.units.set_index("code").loc[codes]
    assert set(frame["level"]) == {"prefecture"}
    assert set(frame["membership"]) <= {"full", "partial"}


def test_the_register_starts_empty_and_says_none_everywhere(reg) -> None:
    assert reg.history().empty
    st = reg.status()
    assert len(st) == len(catalogue().items) * 16
    assert set(st["status"]) == {"none"}
    cov = reg.coverage()
    assert (cov["none"] == 16).all() and (cov["adopted"] == 0).all()
    assert (cov["share_adopted"] == 0.0).all()


def test_a_record_resolves_names_and_keeps_its_audit(reg, records) -> None:
    got = rec(reg, "异地就医直接结算", "成都", "试点", "2024-03-01", key="k1")
    assert (got.standard, got.unit, got.status, got.date) == (
        "medical_direct_settlement", CHENGDU, "piloting", "2024-03-01")
    assert (got.actor, got.role, got.reason, got.time) == (
        "zhang", "secretary", "据文件登记", "2025-01-02T03:04:05Z")
    assert (got.simulated, got.replayed, got.key) == (False, False, "k1")
    english = rec(reg, "direct settlement of medical costs incurred elsewhere", "Chongqing",
                  "adopted", "2024-05-01")
    assert (english.standard, english.unit, english.status) == (
        "medical_direct_settlement", CHONGQING, "adopted")
    assert rows(records) == 2
    hist = reg.history(unit="成都")
    assert hist[["standard", "unit_code", "status", "date"]].values.tolist() == [
        ["medical_direct_settlement", CHENGDU, "piloting", "2024-03-01"]]


def test_status_in_force_is_the_latest_record_on_or_before_the_date(reg) -> None:
    rec(reg, "medical_direct_settlement", "成都", "planned", "2023-06-01")
    rec(reg, "medical_direct_settlement", "成都", "piloting", "2024-03-01")
    rec(reg, "medical_direct_settlement", "成都", "adopted", "2024-09-01", document="文件B")
    rec(reg, "medical_direct_settlement", "成都", "suspended", "2024-09-01")  # same day: later
    one = "standard == 'medical_direct_settlement' and unit_code == @CHENGDU"

    def at(day: str | None) -> tuple[str, Any]:
        row = reg.status(as_of=day).query(one).iloc[0]
        return row["status"], row["date"]

    status, date = at("2023-05-31")
    assert status == "none" and pd.isna(date)
    assert at("2023-06-01") == ("planned", "2023-06-01")
    assert at("2024-08-31") == ("piloting", "2024-03-01")
    assert at("2024-09-01") == ("suspended", "2024-09-01")
    assert at(None) == ("suspended", "2024-09-01")
    other = reg.status(as_of="2024-12-31").query(
        "standard == 'drug_list' and unit_code == @CHENGDU").iloc[0]
    assert other["status"] == "none"
    assert len(reg.status(standard="统一药品目录")) == 16


def test_coverage_and_unit_shares_by_hand(reg) -> None:
    rec(reg, "medical_direct_settlement", "成都", "adopted", "2024-01-01")
    rec(reg, "medical_direct_settlement", "重庆", "adopted", "2024-02-01", simulated=True)
    rec(reg, "medical_direct_settlement", "绵阳", "piloting", "2024-02-01")
    rec(reg, "drug_list", "成都", "adopted", "2024-03-01")
    rec(reg, "drug_list", "绵阳", "planned", "2024-03-01")
    cov = reg.coverage(as_of="2024-12-31").set_index("standard")
    med = cov.loc["medical_direct_settlement"]
    # 2 adopted, 1 piloting, 13 of the 16 units without a record
    assert (med["adopted"], med["piloting"], med["planned"], med["none"], med["units"]) == (
        2, 1, 0, 13, 16)
    assert med["share_adopted"] == pytest.approx(2 / 16)
    assert med["simulated"] == 1
    drug = cov.loc["drug_list"]
    assert (drug["adopted"], drug["planned"], drug["none"]) == (1, 1, 14)
    # on 2024-01-15 only Chengdu's settlement record is in force
    early = reg.coverage(as_of="2024-01-15").set_index("standard")
    assert early.loc["medical_direct_settlement", "adopted"] == 1
    assert early.loc["drug_list", "none"] == 16
    n = len(catalogue().items)
    shares = reg.unit_shares(as_of="2024-12-31").set_index("unit_code")
    assert shares.loc[CHENGDU, "adopted"] == 2
    assert shares.loc[CHENGDU, "share_adopted"] == pytest.approx(2 / n)
    assert (shares.loc[MIANYANG, "adopted"], shares.loc[MIANYANG, "piloting"]) == (0, 1)
    assert shares.loc[CHONGQING, "simulated"] == 1
    assert len(shares) == 16
    # an explicit unit set
    two = reg.coverage(as_of="2024-12-31", units=["成都", "绵阳"]).set_index("standard")
    assert two.loc["medical_direct_settlement", "share_adopted"] == pytest.approx(1 / 2)


@pytest.mark.parametrize(("change", "error", "match"), [
    ({"standard": "免费午餐"}, UnknownStandardError, "免费午餐"),
    ({"unit": "火星市"}, UnknownUnitError, "火星市"),
    ({"status": "finished"}, UnknownStatusError, "finished"),
    ({"date": "2024-13-01"}, InvalidCaseError, "2024-13-01"),
    ({"document": " "}, InvalidCaseError, "document"),
    ({"reason": ""}, InvalidCaseError, "reason"),
])
def test_refusals_write_nothing(reg, records, change, error, match) -> None:
    args = {"standard": "drug_list", "unit": "成都", "status": "adopted",
            "date": "2024-01-01", "document": "文件", **WHO, **change}
    with pytest.raises(error, match=match):
        reg.record(args.pop("standard"), args.pop("unit"), args.pop("status"), **args)
    assert rows(records) == 0


def test_a_date_before_the_previous_record_is_refused_bilingually(reg, records) -> None:
    rec(reg, "drug_list", "成都", "piloting", "2024-06-01")
    with pytest.raises(AdoptionDateError, match=r"2024-06-01.*2024-05-31"):
        rec(reg, "drug_list", "成都", "adopted", "2024-05-31")
    with use_lang("en"), pytest.raises(AdoptionDateError,
                                       match="unit 510100 already has a record"):
        rec(reg, "drug_list", "成都", "adopted", "2024-05-31")
    # another unit or another item is not constrained by it
    rec(reg, "drug_list", "重庆", "adopted", "2024-05-31")
    rec(reg, "medical_service_fees", "成都", "adopted", "2024-05-31")
    assert rows(records) == 3


def test_idempotency_by_key(reg, records) -> None:
    first = rec(reg, "drug_list", "成都", "adopted", "2024-01-01", key="doc-7")
    again = rec(reg, "统一药品目录", "成都市", "已实施", "2024-01-01", key="doc-7")
    assert again.replayed and again.id == first.id
    assert rows(records) == 1
    with pytest.raises(DuplicateAdoptionError, match="doc-7"):
        rec(reg, "drug_list", "成都", "adopted", "2024-02-01", key="doc-7")
    assert rows(records) == 1


def test_records_are_append_only_in_the_database(reg, records) -> None:
    rec(reg, "drug_list", "成都", "adopted", "2024-01-01")
    for stmt in (govern_adoptions.update().values(status="suspended"),
                 govern_adoptions.delete()):
        with pytest.raises(sa.exc.DBAPIError, match="append_only"), \
                records.transaction() as conn:
            conn.execute(stmt)
    assert reg.history()["status"].tolist() == ["adopted"]


def test_simulated_records_are_flagged_in_status(reg) -> None:
    rec(reg, "transport_card", "成都", "adopted", "2024-01-01", simulated=True)
    st = reg.status().query("standard == 'transport_card' and unit_code == @CHENGDU").iloc[0]
    assert bool(st["simulated"]) is True
    assert bool(reg.history()["simulated"].iloc[0]) is True


def test_two_writers_at_once_never_append_an_earlier_date(records_url: str, unit_index) -> None:
    from tests.test_govern_register import run_together

    with open_records(records_url) as one, open_records(records_url) as two:
        a, b = Standards(one, units=unit_index), Standards(two, units=unit_index)
        for item in ("drug_list", "transport_card", "environmental_standards"):
            results = run_together([
                lambda r=a, i=item: rec(r, i, "成都", "adopted", "2024-06-01"),
                lambda r=b, i=item: rec(r, i, "成都", "piloting", "2024-05-01")])
            lost = [r for r in results if isinstance(r, Exception)]
            assert all(isinstance(e, AdoptionDateError) for e in lost), lost
            dates = a.history(standard=item).sort_values("id")["date"].tolist()
            assert dates == sorted(dates) and len(dates) == 2 - len(lost)
        same = run_together([lambda: rec(a, "drug_list", "重庆", "adopted", "2024-01-01",
                                         key="same"),
                             lambda: rec(b, "drug_list", "重庆", "adopted", "2024-01-01",
                                         key="same")])
        assert not [r for r in same if isinstance(r, Exception)]
        assert sorted(r.replayed for r in same) == [False, True]
        assert len(a.history(unit="重庆")) == 1
