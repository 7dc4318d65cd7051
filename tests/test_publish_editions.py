"""Signed editions (cocity.publish.editions) on SQLite and on a real PostgreSQL server: a run
folder is verified against its manifest before it is signed, signing is idempotent by key, a
correction supersedes the year's edition and both rows stay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cocity.outputs import manifest, sha256_file, write_json
from cocity.publish.editions import (
    EditionError,
    edition_history,
    editions,
    run_folder,
    sign_edition,
)


def fake_run(root: Path, run: str, year: int, text: str = "score\n1\n") -> Path:
    """A run folder as cocity evaluate lays it out: two files and their manifest."""
    folder = root / "runs" / run
    (folder / "tables").mkdir(parents=True)
    (folder / "tables" / "ranking.csv").write_text(text, encoding="utf-8")
    (folder / "evaluation.json").write_text(json.dumps({"year": year}), encoding="utf-8")
    doc = manifest("cocity evaluate", outputs={"csv:ranking": folder / "tables" / "ranking.csv",
                                               "json": folder / "evaluation.json"},
                   root=folder, run=run, year=year, framework={"source": "x", "sha256": "f" * 64})
    write_json(doc, folder / "manifest.json")
    return folder


SIGN = {"evaluator": "西南第三方评估中心", "statement": "结果经复核", "actor": "zhang"}


def test_sign_records_the_manifest_hash_and_is_idempotent(records, tmp_path: Path) -> None:
    folder = fake_run(tmp_path, "2020-aaaaaaaaaaaa", 2020)
    first = sign_edition(records, folder, **SIGN)
    assert first.year == 2020 and first.run_id == "2020-aaaaaaaaaaaa"
    assert first.manifest_sha256 == sha256_file(folder / "manifest.json")
    assert first.framework_sha256 == "f" * 64 and first.role == "evaluator"
    again = sign_edition(records, folder, **SIGN)
    assert again == first
    assert len(edition_history(records)) == 1
    with pytest.raises(EditionError, match="2020-aaaaaaaaaaaa"):
        sign_edition(records, folder, **{**SIGN, "statement": "另一份声明"}, key=first.key)
    assert len(edition_history(records)) == 1


def test_an_edited_run_is_refused_naming_the_file(records, tmp_path: Path) -> None:
    folder = fake_run(tmp_path, "2020-bbbbbbbbbbbb", 2020)
    with (folder / "tables" / "ranking.csv").open("a", encoding="utf-8") as fh:
        fh.write("2\n")
    with pytest.raises(EditionError, match=r"tables/ranking\.csv \(changed\)"):
        sign_edition(records, folder, **SIGN)
    (folder / "evaluation.json").unlink()
    with pytest.raises(EditionError, match=r"evaluation\.json \(missing\)"):
        sign_edition(records, folder, **SIGN)
    with pytest.raises(EditionError, match="cocity evaluate"):
        sign_edition(records, tmp_path / "nowhere", **SIGN)
    with pytest.raises(EditionError, match="evaluator"):
        sign_edition(records, folder, **{**SIGN, "evaluator": " "})
    assert edition_history(records) == []


def test_a_correction_supersedes_and_history_keeps_both(records, tmp_path: Path) -> None:
    old = sign_edition(records, fake_run(tmp_path, "2010-cccccccccccc", 2010), **SIGN)
    first = sign_edition(records, fake_run(tmp_path, "2020-dddddddddddd", 2020), **SIGN)
    fixed = sign_edition(records, fake_run(tmp_path, "2020-eeeeeeeeeeee", 2020, "score\n2\n"),
                         **{**SIGN, "statement": "更正：替换 2020 年版次"})
    assert [e.run_id for e in editions(records)] == [old.run_id, fixed.run_id]
    assert [e.id for e in edition_history(records)] == [old.id, first.id, fixed.id]
    assert editions(records, runs_root=tmp_path)[1] == fixed


def test_runs_root_checks_the_signed_folder(records, tmp_path: Path) -> None:
    folder = fake_run(tmp_path, "2020-ffffffffffff", 2020)
    ed = sign_edition(records, folder, **SIGN)
    assert run_folder(ed, tmp_path) == folder
    with pytest.raises(EditionError, match="2020-ffffffffffff"):
        editions(records, runs_root=tmp_path / "elsewhere")
    doc = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    doc["created_utc"] = "2000-01-01T00:00:00Z"
    write_json(doc, folder / "manifest.json")
    with pytest.raises(EditionError, match=r"manifest\.json"):
        editions(records, runs_root=tmp_path)
