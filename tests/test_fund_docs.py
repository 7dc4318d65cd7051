"""docs/fund.md runs as written: every ``cocity`` line of its bash blocks, in order, in an
empty folder; then the books it leaves behind are checked (issue #11: the guide walks a fund
manager through a year with runnable examples)."""

from __future__ import annotations

import contextlib
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cocity.cli import app
from cocity.fund.ledger import Ledger
from cocity.records import open_records

DOC = Path(__file__).resolve().parents[1] / "docs" / "fund.md"
runner = CliRunner()
BEAN_CHECK = Path(sys.executable).parent / "bean-check"


def commands() -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    return [shlex.split(line)[1:] for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)
            for line in block.splitlines() if line.startswith("cocity ")]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    here = tmp_path_factory.mktemp("fund-doc")
    with contextlib.chdir(here):
        for args in commands():
            result = runner.invoke(app, args, env={"COLUMNS": "160"})
            assert result.exit_code == 0, (args, result.output)
        yield here


def test_the_guide_covers_the_year() -> None:
    verbs = [c[1] for c in commands() if c[0] == "fund"]
    for verb in ("init", "contribute", "balances", "pool", "allocate", "disburse", "requests",
                 "approve", "reverse", "release", "statement", "verify", "export", "report",
                 "demo"):
        assert verb in verbs, verb
    assert any("--post" in c for c in commands())


def test_the_guide_leaves_sound_books(folder: Path) -> None:
    ledger = Ledger(open_records(folder / "cocity-records.sqlite"))
    try:
        assert ledger.verify() == []
        sau = ledger.sources_and_uses()
        assert sau.contributed_fen == 100_000_000_000 and sau.reconciles
        assert len(ledger.allocations()) == 1
        kinds = ledger.statement()["kind"].tolist()
        assert {"contribution", "pooling", "earmark", "disbursement", "reversal",
                "release"} <= set(kinds)
    finally:
        ledger.records.close()
    check = subprocess.run([str(BEAN_CHECK), str(folder / "fund.beancount")], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert (folder / "fund-report" / "fund_report.html").is_file()
    assert (folder / "demo.sqlite").is_file() and (folder / "demo-report").is_dir()
