"""The command line's language option and help pages."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cocity.cli import app, lift_lang
from cocity.cli.helpformat import cell_width, wrap
from cocity.i18n import current_lang

runner = CliRunner()


def test_lang_is_lifted_from_anywhere() -> None:
    assert lift_lang(["units", "--lang", "en", "--level", "county"]) == [
        "--lang", "en", "units", "--level", "county"]
    assert lift_lang(["units", "--lang=en"]) == ["--lang=en", "units"]
    assert lift_lang(["--lang", "zh", "units", "--lang", "en"]) == ["--lang", "en", "units"]
    assert lift_lang(["import", "--", "--lang", "en"]) == ["import", "--", "--lang", "en"]


@pytest.mark.parametrize("argv", [["--lang", "en", "units", "--level", "prefecture"],
                                  ["units", "--level", "prefecture", "--lang", "en"]])
def test_lang_before_or_after_the_subcommand(argv: list[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COCITY_LANG", raising=False)
    result = runner.invoke(app, argv, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Administrative units" in result.output and "Chengdu" in result.output
    assert current_lang() == "zh"  # the language was the command's only


def test_bad_lang_is_refused() -> None:
    result = runner.invoke(app, ["units", "--lang", "fr"])
    assert result.exit_code == 2
    assert "zh | en" in result.output


def test_wrapping_counts_cells_and_never_cuts() -> None:
    text = "一体化诊断：不平等及分解、收敛、分工、联系网络、多中心性 / Integration diagnostics"
    lines = wrap(text, 20)
    assert all(cell_width(line) <= 20 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert not any(line.startswith(("，", "、", "：")) for line in lines)


@pytest.mark.parametrize("argv", [["--help"], ["diagnose", "--help"], ["access", "--help"],
                                  ["evaluate", "--help"]])
def test_help_fits_80_columns_and_keeps_the_chinese_half(argv: list[str]) -> None:
    out = subprocess.run([sys.executable, "-m", "cocity", *argv], capture_output=True,
                         text=True, env={"COLUMNS": "80", "PATH": ""}, check=True).stdout
    assert "…" not in out
    assert max(cell_width(line) for line in out.splitlines()) <= 80
    assert "Usage: " in out
