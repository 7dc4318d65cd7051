"""docs/new-cluster.md runs as written: its files are written and its commands executed in an
empty folder (issue #10, point 7: a workspace for any cluster from the command line)."""

from __future__ import annotations

import contextlib
import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cocity.cli import app
from cocity.data.store import Store

DOC = Path(__file__).resolve().parents[1] / "docs" / "new-cluster.md"
runner = CliRunner()


def files_and_commands() -> tuple[dict[str, str], list[list[str]]]:
    """The files (fenced blocks with a file name after the language) and the ``cocity``
    commands (bash blocks) of the walk-through, in order."""
    text = DOC.read_text(encoding="utf-8")
    files = {name: body for _, name, body in
             re.findall(r"```(\w+) ([\w.\-]+)\n(.*?)```", text, flags=re.S)}
    commands = [shlex.split(line)[1:] for block in
                re.findall(r"```bash\n(.*?)```", text, flags=re.S)
                for line in block.splitlines() if line.startswith("cocity ")]
    return files, commands


def run(args: list[str]) -> Result:
    return runner.invoke(app, args, env={"COLUMNS": "200", "COCITY_LANG": "en"})


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The walk-through's folder after every step but the evaluation."""
    here = tmp_path_factory.mktemp("jingjinji")
    files, commands = files_and_commands()
    with contextlib.chdir(here):
        for name, body in files.items():
            Path(name).write_text(body, encoding="utf-8")
        for args in commands:
            if args[0] == "evaluate":
                continue
            result = run(args)
            assert result.exit_code == 0, (args, result.output)
        yield here


def test_the_walkthrough_has_its_files_and_steps() -> None:
    files, commands = files_and_commands()
    assert set(files) == {"units.csv", "catalog.csv", "boundaries.geojson", "observations.csv",
                          "framework.yaml"}
    assert [c[:2] for c in commands if c[0] == "import"] == [
        ["import", "units"], ["import", "catalog"], ["import", "boundaries"],
        ["import", "observations"]]
    assert commands[0] == ["init", "ws", "--dataset", "none"]
    assert commands[-1][0] == "evaluate"


def test_the_walkthrough_builds_a_workspace_and_its_profile(folder: Path) -> None:
    with Store.open(folder / "ws", read_only=True) as store:
        units = store.units()
        assert len(units) == 12
        assert set(units.loc[units["level"] == "prefecture", "code"]) == {
            "110100", "120100", "130100", "130600", "131000"}
        # No pinyin required: the districts carry their Chinese name in English output.
        assert units.set_index("code").at["110101", "name_en"] == "东城区"
        catalog = store.catalog()
        assert catalog.at["pop_total", "direction"] == 0
        obs = store.observations()
        assert len(obs) == 19 and obs["simulated"].all()
        pop = store.panel(["pop_total"], years=[2020])["pop_total"]
        assert pop[("110100", 2020)] == 20_000_000  # 2000 万人 → 人
        log = store.import_log()
        assert log["kind"].tolist() == ["units", "catalog", "boundaries", "observations"]
        assert any("万人 → persons" in n for n in log["notes"].iloc[-1])
        assert store.geodata().attrs["datum"] == "WGS-84"
    assert (folder / "out" / "profile.html").stat().st_size > 0
    with contextlib.chdir(folder):
        listing = " ".join(run(["units", "-w", "ws", "--level", "prefecture"]).output.split())
    assert ("5 prefecture-level units: Full member 5; by province: Beijing Municipality 1 "
            "(110100), Tianjin Municipality 1 (120100), Hebei Province 3") in listing


def test_the_walkthrough_evaluates_with_its_own_framework(folder: Path) -> None:
    _, commands = files_and_commands()
    with contextlib.chdir(folder):
        result = run(commands[-1])
    assert result.exit_code == 0, result.output
    runs = list((folder / "out" / "evaluate" / "runs").glob("2020-*"))
    assert len(runs) == 1 and (runs[0] / "report.html").stat().st_size > 0
    doc = json.loads((runs[0] / "evaluation.json").read_text(encoding="utf-8"))
    assert doc["provenance"]["user_data"] is True  # the report says the values are imports
    assert [i["kind"] for i in doc["provenance"]["imports"]] == [
        "units", "catalog", "boundaries", "observations"]
