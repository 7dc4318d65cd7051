"""``cocity publish`` on the command line: signing and building, and a clear refusal (exit 2,
no traceback, nothing created) for every foreseeable failure."""

from __future__ import annotations

import contextlib
import shutil
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from cocity.cli import app
from cocity.outputs import now_utc
from tests.test_publish_site import runs, store  # noqa: F401  (module fixtures)

runner = CliRunner()


def run(*args: str, lang: str = "en") -> Result:
    return runner.invoke(app, ["--lang", lang, "publish", *args], env={"COLUMNS": "200"})


def refused(*args: str, match: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, (args, result.output)
    assert match in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output


def test_sign_latest_then_build_then_republish(runs: dict[str, Any],  # noqa: F811
                                               tmp_path: Path) -> None:
    root = str(runs["root"])
    with contextlib.chdir(tmp_path):
        result = run("--sign", "latest", "--evaluator", "西南评估中心", "--runs", root,
                     "--out", "site", "--no-diagnostics", "--actor", "zhang")
        assert result.exit_code == 0, result.output
        text = " ".join(result.output.split())
        assert f"signed the 2010 edition: run {runs['2010'].id} (西南评估中心)" in text
        assert f"signed the 2020 edition: run {runs['2020'].id}" in text
        assert "editions: 2010, 2020" in text
        assert f"open: {(tmp_path / 'site' / 'index.html').resolve()}" in text
        assert Path("cocity-records.sqlite").is_file()
        # the build time (to the second) is what a rebuild of the same editions changes: let
        # the clock move on, so that a fast machine does not rebuild within the same second
        first = now_utc()
        while now_utc() == first:
            time.sleep(0.05)
        again = run("--runs", root, "--out", "site", "--no-diagnostics")
        assert again.exit_code == 0, again.output
        assert "(3 changed)" in again.output  # the home page in each language and the sums
        zh = run("--runs", root, "--out", "site", "--no-diagnostics", lang="zh")
        assert "网站已生成" in zh.output


def test_refusals(runs: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    root = str(runs["root"])
    with contextlib.chdir(tmp_path):
        refused("--runs", root, match="cocity publish --sign latest --evaluator")
        refused("--sign", "latest", "--runs", "nowhere", "--evaluator", "X",
                match="there is no evaluation run in nowhere")
        refused("--sign", "latest", "--runs", root, match="needs the evaluating organisation")
        refused("--sign", "2020-000000000000", "--runs", root, "--evaluator", "X",
                match="there is no evaluation run 2020-000000000000")
        assert not Path("cocity-records.sqlite").exists()  # nothing signed, nothing created
        Path("bad.sqlite").write_text("not a database", encoding="utf-8")
        refused("--db", "bad.sqlite", "--runs", root, match="bad.sqlite")
        copy = tmp_path / "copy"
        shutil.copytree(runs["root"], copy)
        ranking = copy / "runs" / runs["2020"].id / "tables" / "prefecture_ranking.csv"
        ranking.write_text(ranking.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        refused("--sign", runs["2020"].id, "--runs", str(copy), "--evaluator", "X",
                match="tables/prefecture_ranking.csv (changed)")
        result = run("--sign", runs["2010"].id, "--runs", str(copy), "--evaluator", "X",
                     "--out", "bad.sqlite/site", "--no-diagnostics")
        assert result.exit_code == 2 and "cannot write the site folder" in " ".join(
            result.output.split()), result.output
