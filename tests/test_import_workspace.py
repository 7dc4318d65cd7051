"""Workspace faults (locked, damaged, full disk), read-only opening, the layering of
``open_store`` and what ``cocity init / units / indicators`` say (issue #10, points 1, 8, 10, 11).

The lock tests hold the workspace in a real second process; the full-disk test runs the import
in a process whose file-size limit (RLIMIT_FSIZE) the write exceeds, which fails the write the
way a full disk does (DuckDB reports an OS write error).
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import cocity.cli.imports
import cocity.cli.workspace  # noqa: F401  (registers the commands)
from cocity.cli import app
from cocity.data.errors import WorkspaceReadOnlyError
from cocity.data.store import DB_NAME, Store
from tests.conftest import fill_tiny

runner = CliRunner()
SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("COCITY_LANG", "en")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    fill_tiny(Store.open(ws, create=True)).close()
    return ws


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC), "COCITY_LANG": "en", "COLUMNS": "200"}


@contextmanager
def holding(ws: Path, *, read_only: bool) -> Iterator[int]:
    """Another process holding the workspace open (read-only or for writing)."""
    code = textwrap.dedent(f"""
        import sys, time
        from cocity.data.store import Store
        store = Store.open({str(ws)!r}, read_only={read_only})
        print("ready", flush=True)
        sys.stdin.readline()
        store.close()
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env())
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield proc.pid
    finally:
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.wait(timeout=60)


def csv_file(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "obs.csv"
    path.write_text("unit,year,indicator,value\n" + rows, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- locks
def test_a_workspace_another_process_writes_is_refused_clearly(workspace: Path,
                                                               tmp_path: Path) -> None:
    path = csv_file(tmp_path, "东兴区,2021,pop_total,5\n")
    with holding(workspace, read_only=False) as pid:
        before = sha(workspace / DB_NAME)
        result = runner.invoke(app, ["import", "observations", str(path), "-w", str(workspace)])
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert f"the workspace file {workspace / DB_NAME} is in use by another process " \
               f"(PID {pid})" in text
        assert "try again" in text and "The workspace was not changed" in text
        units = runner.invoke(app, ["units", "-w", str(workspace)])
        assert units.exit_code == 2 and "in use by another process" in units.output
        assert sha(workspace / DB_NAME) == before
    with Store.open(workspace) as store:  # nothing lost, and free again
        assert len(store.observations()) == 8


def test_read_only_commands_run_while_another_process_reads(workspace: Path,
                                                            tmp_path: Path) -> None:
    with holding(workspace, read_only=True):
        result = runner.invoke(app, ["units", "-w", str(workspace), "--level", "county"])
        assert result.exit_code == 0, result.output
        assert "4 county-level units" in result.output
        assert runner.invoke(app, ["indicators", "-w", str(workspace)]).exit_code == 0
        profile = runner.invoke(app, ["profile", "-w", str(workspace), "--out",
                                      str(tmp_path / "p.html")])
        assert profile.exit_code == 0, profile.output
        # A writer is refused while the reader holds the file.
        path = csv_file(tmp_path, "东兴区,2021,pop_total,5\n")
        write = runner.invoke(app, ["import", "observations", str(path), "-w", str(workspace)])
        assert write.exit_code == 2 and "in use by another process" in write.output


def test_read_only_opening_never_migrates_or_writes(workspace: Path) -> None:
    with Store.open(workspace) as store:  # a workspace made before the notes column
        store.con.execute("ALTER TABLE imports DROP COLUMN notes")
    before = sha(workspace / DB_NAME)
    assert runner.invoke(app, ["units", "-w", str(workspace)]).exit_code == 0
    with Store.open(workspace, read_only=True) as store:
        assert "notes" not in store.import_log().columns
        with pytest.raises(WorkspaceReadOnlyError, match="opened read-only"):
            store.set_meta("x", "y")
    assert sha(workspace / DB_NAME) == before
    with Store.open(workspace) as store:  # a writer migrates
        assert "notes" in store.import_log().columns


# ---------------------------------------------------------------------------- damaged files
@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_workspace_file_is_named_and_left_alone(workspace: Path, tmp_path: Path,
                                                          damage: str) -> None:
    db = workspace / DB_NAME
    data = db.read_bytes()
    db.write_bytes(data[:len(data) // 3] if damage == "truncated" else b"not a database" * 99)
    before = sha(db)
    for args in (["units", "-w", str(workspace)],
                 ["import", "observations", str(csv_file(tmp_path, "东兴区,2021,pop_total,5\n")),
                  "-w", str(workspace)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert f"the workspace file {db} is damaged or not a cocity workspace" in text
        assert "restore it from a backup" in text and "cocity did not change the file" in text
    assert sha(db) == before


def test_read_only_commands_of_the_real_cli_exit_2_on_a_damaged_file(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / DB_NAME).write_bytes(b"garbage" * 100)
    for args in (["profile", "-w", str(ws), "--out", str(tmp_path / "p.html")],
                 ["evaluate", "-w", str(ws), "--out", str(tmp_path / "e"), "--no-pdf"]):
        proc = subprocess.run([sys.executable, "-c", "from cocity.cli import main; main()",
                               *args], capture_output=True, text=True, env=env(), timeout=300)
        assert proc.returncode == 2, proc.stderr
        assert "is damaged or not a cocity workspace" in " ".join(proc.stderr.split())
        assert "Traceback" not in proc.stderr


def test_damaged_workspace_in_chinese(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCITY_LANG", "zh")
    (workspace / DB_NAME).write_bytes(b"garbage" * 100)
    result = runner.invoke(app, ["indicators", "-w", str(workspace)])
    assert result.exit_code == 2 and "已损坏或不是 cocity 工作区" in result.output


# ---------------------------------------------------------------------------- full disk
def test_a_full_disk_during_an_import_loses_nothing(workspace: Path, tmp_path: Path) -> None:
    rows = "".join(f"{u},{y},{i},{v}\n" for y in range(1900, 2020)
                   for u in ("511000", "511100", "511002", "511011", "511102", "511111")
                   for i, v in (("pop_total", 1000 + y), ("urban_share", 50.5),
                                ("illiteracy_rate", y / 100)))
    path = csv_file(tmp_path, rows)
    db = workspace / DB_NAME
    limit = 64 * 1024  # bytes any file of the process may reach: the write log cannot
    code = textwrap.dedent(f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        sys.argv = ["cocity", "import", "observations", {str(path)!r}, "-w", {str(workspace)!r}]
        from cocity.cli import main
        main()
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env(), timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    text = " ".join(proc.stderr.split())
    assert f"cannot write the workspace file {db}: the disk is full" in text, text
    assert "this write was rolled back, the workspace is as it was" in text
    assert "Traceback" not in proc.stderr
    with Store.open(workspace) as store:
        obs = store.observations()
        assert len(obs) == 8 and set(obs["year"]) == {2020}
        assert store.import_log()["file"].tolist() == ["<api>"]  # the fixture's write only


# ---------------------------------------------------------------------------- layering
def test_the_data_layer_does_not_import_the_datasets_package() -> None:
    code = ("import sys, cocity.data, cocity.data.store, cocity.data.importers, "
            "cocity.data.import_boundaries, cocity.data.import_definitions; "
            "print('cocity.datasets' in sys.modules, hasattr(cocity.data, 'open_store'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env(), timeout=120)
    assert out.stdout.split() == ["False", "False"], out.stderr


LIGHT = {"typer", "rich", "cocity.i18n", "cocity.cli", "cocity.data.errors", "__future__"}


@pytest.mark.parametrize("module", ["imports.py", "workspace.py"])
def test_cli_modules_import_only_light_modules_at_module_level(module: str) -> None:
    tree = ast.parse((SRC / "cocity" / "cli" / module).read_text(encoding="utf-8"))
    imported = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            imported += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            imported.append(node.module or "")
    heavy = [m for m in imported
             if m.split(".")[0] in {"numpy", "pandas", "duckdb", "geopandas", "shapely"}
             or (m.startswith("cocity") and m not in LIGHT)
             or (not m.startswith("cocity") and m.split(".")[0] not in LIGHT
                 and m.split(".")[0] not in sys.stdlib_module_names)]
    assert heavy == [], heavy


# ---------------------------------------------------------------------------- what commands say
def test_units_says_which_set_it_lists() -> None:
    pref = runner.invoke(app, ["units", "--level", "prefecture"])
    assert pref.exit_code == 0
    text = " ".join(pref.output.split())
    assert ("16 prefecture-level units: Full member 12, Partly inside 4 (inside the circle, "
            "full and partial: 16); by province: Chongqing Municipality 1 (500100), "
            "Sichuan Province 15") in text
    assert "Listed: every unit" in text
    county = " ".join(runner.invoke(app, ["units", "--level", "county"]).output.split())
    assert ("158 county-level units: Full member 142, Partly inside 2, Outside the circle 14 "
            "(inside the circle, full and partial: 144)") in county
    full = runner.invoke(app, ["units", "--level", "county", "--membership", "full"])
    text = " ".join(full.output.split())
    assert "142 county-level units: Full member 142;" in text
    assert "Listed: units whose membership is 'Full member'" in text
    bad = runner.invoke(app, ["units", "--level", "town"])
    assert bad.exit_code == 2 and "province | prefecture | county" in bad.output


def test_indicators_show_descriptive_directions(monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["indicators"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "46 indicators: 22 benefit, 3 cost, 21 descriptive" in text
    assert re.search(r"area_km2 .*│ descriptive", result.output)
    monkeypatch.setenv("COCITY_LANG", "zh")
    zh = runner.invoke(app, ["indicators"])
    assert "描述性 21 个" in " ".join(zh.output.split())


def test_init_says_which_units_the_workspace_holds(tmp_path: Path) -> None:
    full = runner.invoke(app, ["init", str(tmp_path / "a")])
    assert full.exit_code == 0
    text = " ".join(full.output.split())
    assert "16 prefecture-level units" in text and "158 county-level units" in text
    empty = runner.invoke(app, ["init", str(tmp_path / "b"), "--dataset", "none"])
    assert "holds no units yet: import them with `cocity import units`" in " ".join(
        empty.output.split())


def test_init_refuses_an_unknown_dataset_and_leaves_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "ws"), "--dataset", "jingjinji"])
    assert result.exit_code == 2
    assert "no embedded dataset named jingjinji (available: chengyu" in result.output
    assert not (tmp_path / "ws" / DB_NAME).exists()


def test_geodata_of_the_embedded_dataset_does_not_claim_wgs84() -> None:
    from cocity.data.geodesy import GCJ02_CRS
    from cocity.datasets import open_store

    store = open_store()
    gcj = store.geodata(level="prefecture")
    assert gcj.attrs["datum"] == "GCJ-02" and gcj.crs == GCJ02_CRS
    assert gcj.crs.to_epsg() is None and "NOT WGS 84" in gcj.crs.name
    wgs = store.geodata(level="prefecture", datum="WGS-84")
    assert wgs.crs.to_epsg() == 4326 and wgs.attrs["datum"] == "WGS-84"
    # Chengdu's representative point moves by the GCJ-02 offset (a few hundred metres).
    shift = (gcj.set_index("code").loc["510100", ["lon", "lat"]]
             - wgs.set_index("code").loc["510100", ["lon", "lat"]]).abs()
    assert 0.001 < shift.max() < 0.01
    # Areas through to_crs stay within 0.1 % (the offset is nearly a translation).
    area = gcj.to_crs("EPSG:6933").area.sum() / wgs.to_crs("EPSG:6933").area.sum()
    assert area == pytest.approx(1.0, abs=1e-3)
    pd.testing.assert_index_equal(gcj.index, wgs.index)


def test_the_readme_python_example_runs() -> None:
    text = (SRC.parent / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1 and "from cocity.datasets import open_store" in blocks[0]
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    assert namespace["gdf"].attrs["datum"] == "GCJ-02"  # type: ignore[attr-defined]
    assert namespace["wgs"].crs.to_epsg() == 4326  # type: ignore[attr-defined]
