"""``cocity evaluate`` runs where it is told and writes the same files however it runs: the
uncertainty replications serially or on a process pool (``--executor``/``--workers``), the
slow report files (PDFs, workbooks) in background processes or in the command's own
(``--render-workers``), the previous edition read from its folder while that is still being
written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from cocity.cli import _register, app
from cocity.datasets import open_store
from cocity.evaluate.framework import load_framework
from cocity.evaluate.run import evaluate
from cocity.evaluate.runs import previous_run, start_run
from cocity.outputs import write_xlsx
from cocity.report.background import Background, resolve
from cocity.report.evaluate_report import start_run_outputs, write_run_outputs
from cocity.report.pdf import PdfRenderError

_register()
runner = CliRunner()
QUICK = ["--replications", "120", "--level", "prefecture", "--no-previous"]


def _run_folder(out: Path) -> Path:
    (folder,) = [p for p in (out / "runs").iterdir() if not p.name.startswith(".")]
    return folder


def test_processes_give_the_same_evaluation_as_serial(tmp_path: Path) -> None:
    serial = runner.invoke(app, ["evaluate", "--out", str(tmp_path / "s"), "--no-pdf", *QUICK,
                                 "--executor", "serial"])
    assert serial.exit_code == 0, serial.output
    pool = runner.invoke(app, ["evaluate", "--out", str(tmp_path / "p"), "--no-pdf", *QUICK,
                               "--executor", "processes", "--workers", "2"])
    assert pool.exit_code == 0, pool.output
    a = (_run_folder(tmp_path / "s") / "evaluation.json").read_bytes()
    b = (_run_folder(tmp_path / "p") / "evaluation.json").read_bytes()
    assert json.loads(a)["replications"]["run"]["prefecture"] > 0
    assert a == b


def test_an_unknown_executor_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", "--out", str(tmp_path / "o"), *QUICK,
                                 "--executor", "threads"])
    assert result.exit_code == 2
    assert "threads" in result.output and "serial" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def _pdf_text(path: Path) -> str:
    tool = shutil.which("pdftotext")
    assert tool is not None, "poppler-utils (pdftotext) is needed"
    return subprocess.run([tool, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _cells(path: Path) -> dict[str, list[list[object]]]:
    book = openpyxl.load_workbook(path)
    return {name: [[(c.value, c.number_format) for c in row] for row in book[name].iter_rows()]
            + [[(k, d.width) for k, d in sorted(book[name].column_dimensions.items())]]
            for name in book.sheetnames}


@pytest.fixture(scope="module")
def ev2010() -> object:
    fw = load_framework()
    return evaluate(fw, open_store(), year=fw.previous, replications=60)


def test_background_files_equal_those_written_in_process(ev2010: object,
                                                         tmp_path: Path) -> None:
    here = write_run_outputs(ev2010, tmp_path / "here")  # type: ignore[arg-type]
    with Background(2) as bg:
        started = start_run_outputs(ev2010, tmp_path / "bg",  # type: ignore[arg-type]
                                    background=bg)
        assert any(not isinstance(v, Path) for v in started.values())  # futures
        there = {k: resolve(v) for k, v in started.items()}
    assert sorted(here) == sorted(there)
    assert {"pdf", "pdf:en", "xlsx", "xlsx:en", "html", "json"} <= set(here)
    for key, path in here.items():
        other = there[key]
        if path.suffix == ".pdf":
            assert _pdf_text(path) == _pdf_text(other), key
            assert "公共服务" in _pdf_text(path) or key == "pdf:en"
        elif path.suffix == ".xlsx":
            assert _cells(path) == _cells(other), key
        else:
            assert path.read_bytes() == other.read_bytes(), key


def test_a_pending_run_reads_as_the_stored_run(ev2010: object, tmp_path: Path) -> None:
    with Background(1) as bg:
        pending = start_run(ev2010, tmp_path,  # type: ignore[arg-type]
                            lambda e, folder: start_run_outputs(e, folder, background=bg,
                                                                pdf=False))
        early = pending.previous()
        record = pending.finish()
    stored = previous_run(record)
    assert early.year == stored.year == 2010 and early.run == stored.run == record.id
    assert sorted(early.scores) == sorted(stored.scores) == ["county", "prefecture"]
    for level in stored.scores:
        pd.testing.assert_series_equal(early.scores[level], stored.scores[level])
        pd.testing.assert_frame_equal(early.values[level], stored.values[level])
    assert not [p for p in (tmp_path / "runs").iterdir() if p.name.startswith(".")]


def _fails(path: Path) -> Path:
    raise PdfRenderError(f"cannot lay out {path.name}")


@pytest.mark.parametrize("workers", [0, 1])
def test_a_background_failure_reaches_the_caller(tmp_path: Path, workers: int) -> None:
    with Background(workers) as bg:
        ok = bg.submit(write_xlsx, {"a": pd.DataFrame({"x": [1.5]})}, tmp_path / "a.xlsx")
        bad = bg.submit(_fails, tmp_path / "b.pdf")
        assert resolve(ok) == tmp_path / "a.xlsx"
        with pytest.raises(PdfRenderError, match=r"cannot lay out b\.pdf"):
            resolve(bad)
    assert openpyxl.load_workbook(tmp_path / "a.xlsx")["a"]["A2"].value == 1.5


def _pid_file(path: Path, pause: float = 0.0) -> Path:
    time.sleep(pause)
    path.write_text(f"{os.getpid()} {time.monotonic_ns()}", encoding="utf-8")
    return path


def test_the_caller_takes_back_the_jobs_no_worker_has_started(tmp_path: Path) -> None:
    with Background(1) as bg:
        # the one worker is held by the first job; the others wait in the caller's queue
        futures = [bg.submit(_pid_file, tmp_path / "0", 1.0)]
        futures += [bg.submit(_pid_file, tmp_path / str(i)) for i in range(1, 5)]
        taken = bg.help()
        paths = [resolve(f) for f in futures]
    pids, stamps = zip(*(map(int, p.read_text(encoding="utf-8").split()) for p in paths),
                       strict=True)
    assert paths == [tmp_path / str(i) for i in range(5)]
    here = [i for i, pid in enumerate(pids) if pid == os.getpid()]
    assert taken == 4 and here == [1, 2, 3, 4]  # the first in the worker, the others here
    # taken in the order submitted (a report submits its longest jobs first)
    assert [stamps[i] for i in here] == sorted(stamps[i] for i in here)


_PREPARED: list[int] = []


def _prepare() -> None:
    _PREPARED.append(os.getpid())


def _prepared_file(path: Path) -> Path:
    import gc

    path.write_text(f"{os.getpid()} {_PREPARED} {gc.isenabled()}", encoding="utf-8")
    return path


def test_workers_start_early_and_prepare_themselves(tmp_path: Path) -> None:
    _PREPARED.clear()
    with Background(2, prepare=_prepare).start() as bg:
        deadline = time.monotonic() + 30
        while len(bg._pool._processes) < 2 and time.monotonic() < deadline:  # type: ignore[union-attr]
            time.sleep(0.05)
        started = set(bg._pool._processes)  # type: ignore[union-attr]
        assert len(started) == 2  # forked by start(), before any job
        paths = [resolve(bg.submit(_prepared_file, tmp_path / str(i))) for i in range(4)]
    assert _PREPARED == []  # never prepared in this process
    for path in paths:
        pid, seen, collecting = path.read_text(encoding="utf-8").split(" ")
        # each worker prepared itself once, before its jobs, which run with the collector off
        assert int(pid) in started and seen == f"[{pid}]" and collecting == "False"


def test_a_job_run_here_pauses_the_collector_and_restores_it(tmp_path: Path) -> None:
    import gc

    with Background(0) as bg:
        path = resolve(bg.submit(_prepared_file, tmp_path / "here"))
    assert path.read_text(encoding="utf-8").endswith(" False")
    assert gc.isenabled()
