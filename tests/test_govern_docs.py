"""docs/committee.md runs as written: its ``yaml`` file blocks are written, then every
``cocity`` line of its bash blocks runs in order in an empty folder, then its Python block;
the register it leaves is checked, and the recomputation it shows gives the figures of
``cocity govern stats`` (issue #12: the guide walks a secretariat through a quarter)."""

from __future__ import annotations

import contextlib
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cocity.cli import app
from cocity.govern import Register
from cocity.govern import meetings as M
from cocity.govern.stats import statistics
from cocity.records import open_records
from tests.test_govern_stats import assert_same

DOC = Path(__file__).resolve().parents[1] / "docs" / "committee.md"
runner = CliRunner()


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def commands() -> list[list[str]]:
    return [shlex.split(line)[1:] for block in blocks("bash") for line in block.splitlines()
            if line.startswith("cocity ")]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    here = tmp_path_factory.mktemp("committee-doc")
    for block in blocks("yaml"):
        name = re.match(r"# file: (\S+)\n", block)
        assert name is not None, block
        (here / name.group(1)).write_text(block, encoding="utf-8")
    with contextlib.chdir(here):
        for args in commands():
            result = runner.invoke(app, args, env={"COLUMNS": "160"})
            assert result.exit_code == 0, (args, result.output)
        (python,) = blocks("python")
        exec(compile(python, str(DOC), "exec"), {})  # the guide's own example
        yield here


def test_the_guide_covers_the_quarter() -> None:
    verbs = {tuple(c[1:3]) if c[1] in ("case", "meeting", "standards") else (c[1],)
             for c in commands() if c[0] == "govern"}
    for verb in [("case", "add"), ("case", "update"), ("case", "list"), ("case", "show"),
                 ("meeting", "plan"), ("meeting", "agenda"), ("meeting", "minutes"),
                 ("meeting", "list"), ("standards", "record"), ("standards", "status"),
                 ("standards", "report"), ("import-rectification",), ("stats",), ("export",),
                 ("demo",)]:
        assert verb in verbs, verb


def test_the_guide_leaves_the_register_it_describes(folder: Path) -> None:
    with open_records(folder / "cocity-records.sqlite") as records:
        register = Register(records)
        cases = register.cases(as_of="2025-03-31").set_index("id")
        assert cases.loc[1, "state"] == "closed" and cases.loc[2, "due_in_force"] == "2025-06-30"
        assert not cases.loc[[2, 3], "overdue"].any()
        held = M.meetings(register)
        assert [m.key for m in held] == ["2025-01-monthly", "2025-02-monthly",
                                         "2025-Q1-quarterly"]
        quarterly = held[-1]
        assert [(i.case_id, i.reasons) for i in quarterly.items] == [
            (2, ("overdue",)), (3, ("deferred",))]
        events = register.events()
        flagged = events[(events["kind"] == "escalate")
                         & events["detail"].str.contains("leading_group")]
        assert sorted(flagged["case_id"]) == [2, 3]
        assert (cases["source"] == "rectification").sum() == 12
        follow = events[events["kind"] == "follow_up"]
        assert len(follow) == 12
    for name in ("meetings/2025-Q1-quarterly.minutes.html", "stats/govern-stats.html",
                 "standards/manifest.json", "events.csv", "requests.json", "demo.sqlite"):
        assert (folder / name).is_file(), name


def test_the_recomputation_shown_gives_the_published_figures(folder: Path) -> None:
    (line,) = [ln for ln in blocks("text")[0].splitlines() if ln.startswith("python ")]
    args = shlex.split(line)[1:]
    done = subprocess.run([sys.executable, *args, "-o", "recomputed.csv"], cwd=folder,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    as_of = args[args.index("--as-of") + 1]
    with open_records(folder / "cocity-records.sqlite") as records:
        ours = statistics(records, as_of=as_of)
    assert_same(ours.table, pd.read_csv(folder / "recomputed.csv", dtype={"key": str}))
    assert not ours.simulated
