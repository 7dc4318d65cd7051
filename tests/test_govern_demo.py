"""``cocity govern demo`` as a new user meets it, in an empty folder: a simulated year flagged
simulated everywhere plus the real rectification lists; ``cocity govern stats`` then finds the
register without options; its published statistics equal an independent recomputation from
the exported event log (the recompute script run as a separate process on the CSV alone);
running the demo again writes nothing. The demo on PostgreSQL: the same figures."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from cocity.cli import app
from cocity.govern import Register
from cocity.govern import meetings as M
from cocity.govern.demo import run_demo
from cocity.govern.standards import Standards
from cocity.govern.stats import statistics
from cocity.records import open_records
from tests.test_govern_stats import assert_same

runner = CliRunner()
AS_OF = "2025-12-31"


def ok(*args: str) -> str:
    result = runner.invoke(app, ["--lang", "en", "govern", *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, (args, result.output)
    return " ".join(result.output.split())


@pytest.fixture(scope="module")
def runs() -> dict[tuple[int, str], Any]:
    """The default evaluation's two editions, computed once (no replications)."""
    from cocity.datasets import open_store
    from cocity.evaluate.framework import load_framework
    from cocity.evaluate.run import evaluate
    from cocity.fund.run_grades import run_grades

    store, fw = open_store(), load_framework()
    out = {}
    for year in (2010, 2020):
        ev = evaluate(fw, store, year=year, replications=0, levels=["prefecture", "county"])
        out.update({(year, lv): run_grades(ev, level=lv) for lv in ("prefecture", "county")})
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    here = tmp_path_factory.mktemp("govern-demo")
    with contextlib.chdir(here):
        said = ok("demo")
        assert "[SIMULATED] a demonstration register" in said
        assert "real rectification lists: 34 cases opened, later grades on 32" in said
        yield here


def test_the_demo_is_flagged_simulated_and_runs_once(folder: Path) -> None:
    with contextlib.chdir(folder):
        assert "already holds the 2025 demonstration: nothing written twice" in ok("demo")
    with open_records(folder / "cocity-records.sqlite") as records:
        register = Register(records)
        cases = register.cases()
        real = cases[cases["source"] == "rectification"]
        assert len(real) == 34 and not real["simulated"].any()
        fake = cases[cases["source"] != "rectification"]
        assert len(fake) > 30 and fake["simulated"].all()
        assert fake["title"].str.startswith("【模拟】").all()
        held = M.meetings(register)
        assert len(held) == 12 and all(m.simulated and m.minutes for m in held)
        assert {m.kind for m in held} == {"monthly", "quarterly"}
        events = register.events()
        on_real = events[events["case_id"].isin(real["id"])]
        # nothing simulated touches a real case: its creation and the later edition's grade
        assert set(on_real["kind"]) == {"state", "follow_up"}
        assert on_real["meeting_id"].isna().all()
        assert {"extend", "escalate", "defer"} <= set(events["kind"])
        status = Standards(records).status()
        recorded = status[status["record_id"].notna()]
        assert 0 < len(recorded) < len(status) and recorded["simulated"].astype(bool).all()


def test_stats_find_the_register_and_equal_an_independent_recomputation(folder: Path) -> None:
    with contextlib.chdir(folder):
        said = ok("stats", "--as-of", AS_OF)
        assert "simulated" in said.lower()
        ok("export", "--format", "csv", "-o", "events.csv")
        ok("export", "--format", "open311", "-o", "requests.json")
    script = subprocess.run(
        [sys.executable, "-m", "cocity.govern.recompute", str(folder / "events.csv"),
         "--as-of", AS_OF, "-o", str(folder / "recomputed.csv")],
        capture_output=True, text=True, cwd=folder)
    assert script.returncode == 0, script.stderr
    theirs = pd.read_csv(folder / "recomputed.csv", dtype={"key": str})
    with open_records(folder / "cocity-records.sqlite") as records:
        ours = statistics(records, as_of=AS_OF)
    assert ours.simulated and ours.cases == 90
    assert_same(ours.table, theirs)
    overall = ours.overall()
    assert overall["closed"] > 0 and overall["escalated_leading_group"] > 0


def test_the_demo_gives_the_same_register_on_postgresql(folder: Path, postgres_server,
                                                        runs) -> None:
    with open_records(postgres_server.create_database()) as records:
        result = run_demo(Register(records), runs=runs)
        assert not result.already and result.meetings == 12
        pg = statistics(records, as_of=AS_OF)
    with open_records(folder / "cocity-records.sqlite") as records:
        lite = statistics(records, as_of=AS_OF)
    assert_same(lite.table, pg.table)
