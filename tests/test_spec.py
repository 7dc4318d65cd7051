"""The typed specification layer: every problem of a file at once, with its key path."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pydantic
import pytest

from cocity.i18n import use_lang
from cocity.spec import Spec, SpecError, load_spec, merge


class Level(Spec):
    membership: list[Literal["full", "partial", "outside"]] = pydantic.Field(
        default_factory=lambda: ["full"])
    min_n: int = pydantic.Field(30, gt=0)


class Doc(Spec):
    year: int
    levels: dict[str, Level] = pydantic.Field(default_factory=dict)


def test_every_problem_is_reported_with_its_key_path() -> None:
    with use_lang("en"), pytest.raises(SpecError, match="4 problem") as err:
        load_spec(Doc, {"yeer": 2020, "levels": {"county": {"membership": ["ful"],
                                                              "min_n": -1}}})
    found = {(i.key, i.message) for i in err.value.issues}
    assert found == {
        ("year", "required key missing"),
        ("yeer", "unknown key (a typo?)"),
        ("levels.county.membership[0]", "'ful' is not one of 'full', 'partial' or 'outside'"),
        ("levels.county.min_n", "must be greater than 0, got -1"),
    }


def test_messages_are_chinese_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COCITY_LANG", raising=False)
    with pytest.raises(SpecError, match=r"键 year: 应为整数，实为 'x'"):
        load_spec(Doc, {"year": "x"})


def test_file_errors(tmp_path: Path) -> None:
    with use_lang("en"):
        with pytest.raises(SpecError, match="file not found"):
            load_spec(Doc, tmp_path / "none.yaml")
        bad = tmp_path / "bad.yaml"
        bad.write_text("year: [2020\n", encoding="utf-8")
        with pytest.raises(SpecError, match=r"bad\.yaml, row 2: YAML syntax error"):
            load_spec(Doc, bad)
        listy = tmp_path / "list.yaml"
        listy.write_text("- 1\n", encoding="utf-8")
        with pytest.raises(SpecError, match="expected a mapping"):
            load_spec(Doc, listy)


def test_overlay_merges_mappings_and_replaces_the_rest() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 2}
    assert merge(base, {"a": {"y": [3]}, "c": 4}) == {"a": {"x": 1, "y": [3]}, "b": 2, "c": 4}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 2}  # the base is not changed
