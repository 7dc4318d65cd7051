"""The allocation rules file: the shipped default, a user's own file, overlays, and bad files
reported with every problem at once (key paths, both languages)."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from cocity.fund.rules import USES, AllocationRules, exact, fen, load_rules
from cocity.i18n import use_lang
from cocity.spec import SpecError


def default_doc() -> dict[str, Any]:
    text = (resources.files("cocity.fund") / "rules" / "default.yaml").read_text("utf-8")
    return dict(yaml.safe_load(text))


def test_shipped_rules_load_and_name_every_proxy() -> None:
    rules = load_rules()
    assert isinstance(rules, AllocationRules)
    assert rules.uses == USES
    assert rules.level == "county"
    assert rules.spec.recipients.exclude_tiers == ["core"]
    assert sum(exact(rules.use(u).share) for u in rules.uses) == 1  # type: ignore[arg-type]
    for use in rules.uses:
        assert sum(exact(c.weight) for c in rules.use(use).need) == 1
        for comp in rules.use(use).need:
            assert comp.proxy_zh.strip() and comp.proxy_en.strip()
    # every indicator named is a real one of the embedded catalog, in a year it has
    reads = rules.reads()
    assert reads[2019] == ["doctors_per_1000", "hospital_beds_per_1000", "nurses_per_1000"]
    assert {"migrants_other_province", "migrants_other_county", "age_65_share",
            "illiteracy_rate", "schooling_years", "pop_total"} <= set(reads[2020])
    # no fund size is invented in the shipped rules
    assert rules.spec.fund_yuan is None
    # medical aid states that no poverty figure exists and which proxy stands for it
    med = rules.use("medical_aid").need[0]
    assert "illiteracy_rate" in med.factor.indicators  # type: ignore[union-attr]
    assert "低保" in med.proxy_zh and "not a measure of poverty" in med.proxy_en


def test_same_rules_hash_alike_from_file_and_mapping(tmp_path: Path) -> None:
    doc = default_doc()
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    a, b, c = load_rules(), load_rules(path), load_rules(doc)
    assert a.sha256 == b.sha256 == c.sha256
    assert b.source == str(path)
    doc["bonus"]["rate"] = 0.2
    assert load_rules(doc).sha256 != a.sha256


def test_overlay_changes_only_the_keys_given(tmp_path: Path) -> None:
    path = tmp_path / "overlay.yaml"
    path.write_text("bonus: {rate: 0.25}\nfund_yuan: 123456.78\n", encoding="utf-8")
    rules = load_rules(path, overlay=True)
    assert rules.spec.bonus is not None and rules.spec.bonus.rate == 0.25
    assert rules.spec.fund_yuan is not None and fen(rules.spec.fund_yuan) == 12345678
    assert rules.use("facilities").need == load_rules().use("facilities").need


@pytest.mark.parametrize(("value", "ok"), [(100, True), ("100.5", True), (0.01, True),
                                           (100.001, False), (-1, False), (True, False),
                                           ("abc", False), (float("inf"), False)])
def test_money_is_yuan_with_whole_fen(value: Any, ok: bool) -> None:
    doc = default_doc()
    doc["fund_yuan"] = value
    if ok:
        assert fen(load_rules(doc).spec.fund_yuan) == round(float(value) * 100)  # type: ignore[arg-type]
    else:
        with pytest.raises(SpecError, match="fund_yuan") as info:
            load_rules(doc)
        assert [i.key for i in info.value.issues] == ["fund_yuan"]


def bad_doc() -> dict[str, Any]:
    doc = copy.deepcopy(default_doc())
    doc["uses"]["transport"] = copy.deepcopy(doc["uses"]["medical_aid"])  # not a use of the fund
    doc["fundd"] = 1                                              # unknown key
    doc["fund_yuan"] = "10.001"                                   # sub-fen amount
    doc["recipients"]["level"] = "city"                           # not a level
    doc["uses"]["facilities"]["share"] = 0.6                      # shares sum to 1.1
    doc["uses"]["facilities"]["need"][0]["weight"] = -1           # not positive
    doc["uses"]["social_security"]["amount_yuan"] = 1000          # share and amount
    doc["uses"]["medical_aid"]["floor_share"] = 0.5               # floor above cap (0.05)
    doc["bonus"]["rate"] = "ten"                                  # not a number
    doc["rectification"]["obstacles"]["sat_culture"] = "culture"  # not a use
    return doc


def test_bad_rules_every_problem_at_once(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad_doc(), allow_unicode=True), encoding="utf-8")
    with pytest.raises(SpecError, match=r"bad\.yaml") as info:
        load_rules(path)
    keys = sorted(str(i.key) for i in info.value.issues)
    assert keys == sorted([
        "fundd", "fund_yuan", "recipients.level", "uses",
        "uses.facilities.need[0].weight", "uses.social_security", "uses.medical_aid",
        "uses.transport", "bonus.rate", "rectification.obstacles.sat_culture"])
    assert all(i.file == str(path) for i in info.value.issues)
    by_key = {i.key: i.message for i in info.value.issues}
    assert "1.1" in by_key["uses"]
    with use_lang("en"), pytest.raises(SpecError, match="the uses' shares must sum") as info_en:
        load_rules(path)
    en = {i.key: i.message for i in info_en.value.issues}
    assert "exactly one of share" in en["uses.social_security"]
    assert "floor" in en["uses.medical_aid"] and "cap" in en["uses.medical_aid"]
    assert "at most two decimals" in en["fund_yuan"]


def test_cross_rules_reported_with_shape_problems() -> None:
    doc = default_doc()
    del doc["uses"]["medical_aid"]                               # shares now sum to 0.8
    doc["limits"] = [{"unit": "渠县", "uses": ["medical_aid"], "cap_yuan": 10}]
    doc["recipients"]["exclude"] = [{"unit": "渠县", "reason_zh": "测试", "reason_en": "test",
                                     "uses": ["medical_aid"]}]
    doc["uses"]["facilities"]["need"][1]["weight"] = 0.25        # weights sum to 1.1
    with pytest.raises(SpecError, match="rectification") as info:
        load_rules(doc)
    keys = sorted(str(i.key) for i in info.value.issues)
    assert keys == sorted(["uses", "uses.facilities", "limits[0].uses",
                           "recipients.exclude[0].uses", "rectification.obstacles.sat_health",
                           "rectification.obstacles.sat_elderly"])


def test_unreadable_rules_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"missing\.yaml"):
        load_rules(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("uses: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError, match="YAML"):
        load_rules(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(SpecError, match="list"):
        load_rules(listed)
