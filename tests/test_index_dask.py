"""Executors of the uncertainty replications: serial, process pool and Dask give identical
results; a Dask LocalCluster started here leaves no process behind; a bad scheduler address
is refused with a clear message."""

from __future__ import annotations

import hashlib
import itertools
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

from cocity.index.executors import (
    SCHEDULER_ENV,
    ExecutorError,
    choose,
    completed,
    scheduler_address,
    worker_threads,
)
from cocity.index.framework import Framework
from cocity.index.pipeline import Pipeline
from cocity.index.uncertainty import JOB_ROWS, UncertaintyResult, UncertaintySpec, run_uncertainty
from tests.conftest import dask_clients

pytestmark = pytest.mark.usefixtures("english")

SPEC = {
    "replications": 1500, "seed": 11,
    "inputs": [
        {"step": "normalise", "choices": [{"method": "minmax", "low": 1, "high": 100},
                                          {"method": "rank"}]},
        {"step": "aggregate", "level": 3, "choices": ["arithmetic", "geometric"]},
        {"step": "weights", "noise": 0.3, "sets": 20},
    ],
}


@pytest.fixture(scope="module")
def pipe() -> Pipeline:
    nodes = [{"code": "IDX"}]
    for d in ("D1", "D2", "D3"):
        nodes.append({"code": d, "parent": "IDX", "weight": 1})
        nodes += [{"code": f"{d}_{j}", "parent": d, "weight": 1 + j, "direction": 1}
                  for j in range(3)]
    fw = Framework.from_records(nodes)
    rng = np.random.default_rng(5)
    data = pd.DataFrame(rng.lognormal(2, 0.6, size=(30, 9)), columns=fw.indicators,
                        index=pd.Index([f"u{i:02d}" for i in range(30)], name="unit"))
    return Pipeline(data, fw).treat("winsorise").normalise("minmax", low=1, high=100).aggregate()


def _digest(res: UncertaintyResult) -> str:
    h = hashlib.sha256()
    for array in (res.scores, res.ranks, res.samples.to_numpy(float),
                  res.sobol.to_numpy(float)):
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def test_serial_processes_and_dask_give_identical_results(pipe: Pipeline,
                                                          cluster: LocalCluster) -> None:
    spec = UncertaintySpec.from_dict(SPEC)
    seen: list[tuple[int, int]] = []
    serial = run_uncertainty(pipe, spec)
    # 512 · (3 + 2) = 2560 replications in 2 configuration groups → at least 5 chunks
    assert serial.replications == 2560 and serial.replications // JOB_ROWS == 5
    pool = run_uncertainty(pipe, spec, workers=2)
    dask = run_uncertainty(pipe, spec, executor="dask", scheduler=cluster.scheduler_address,
                           progress=lambda done, total: seen.append((done, total)))
    assert np.isfinite(serial.scores).all()
    assert _digest(serial) == _digest(pool) == _digest(dask)
    # the progress callback follows the futures up to the total
    assert len(seen) >= 2 and seen[-1] == (2560, 2560)
    assert len(seen) >= 2560 // JOB_ROWS and all(a[0] < b[0] for a, b in itertools.pairwise(seen))
    other = run_uncertainty(pipe, spec, seed=12, executor="dask",
                            scheduler=cluster.scheduler_address)
    assert _digest(other) != _digest(serial)


def test_scheduler_variable_sends_the_replications_to_the_cluster(
        pipe: Pipeline, cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = UncertaintySpec.from_dict({**SPEC, "replications": 100})


    before = dask_clients(cluster)
    serial = run_uncertainty(pipe, spec, sobol=False)
    assert dask_clients(cluster) == before
    monkeypatch.setenv(SCHEDULER_ENV, cluster.scheduler_address)
    via_env = run_uncertainty(pipe, spec, sobol=False)  # no executor named
    assert dask_clients(cluster) > before
    np.testing.assert_array_equal(serial.scores, via_env.scores)


def _square_plus(job: int, shared: dict[str, int]) -> int:
    return job * job + shared["offset"]


def test_completed_yields_every_job_with_its_position(cluster: LocalCluster,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SCHEDULER_ENV, cluster.scheduler_address)
    assert scheduler_address() == cluster.scheduler_address
    jobs = list(range(7))
    expected = {i: i * i + 3 for i in jobs}
    for how in ("serial", "processes", "dask"):
        got = dict(completed(_square_plus, jobs, shared={"offset": 3}, executor=how, workers=2))
        assert got == expected, how
    # the cluster still has its two workers: the calls closed their clients, not the cluster
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        assert len(client.scheduler_info()["workers"]) == 2


def _kernel_threads(job: int, shared: None) -> int:
    import numba

    return int(numba.get_num_threads())


def test_local_workers_share_the_cores_among_their_kernels(cluster: LocalCluster) -> None:
    import os

    cores = len(os.sched_getaffinity(0))
    assert worker_threads(1) == cores and worker_threads(2) == max(1, cores // 2)
    assert worker_threads(2 * cores) == 1
    for how in ("processes", "dask"):
        got = dict(completed(_kernel_threads, list(range(4)), shared=None, executor=how,
                             workers=2, scheduler=cluster.scheduler_address))
        assert set(got.values()) == {max(1, cores // 2)}, how
    # serial jobs run in this process with its own setting
    import numba

    assert dict(completed(_kernel_threads, [0], shared=None)) == {0: numba.get_num_threads()}


def test_bad_scheduler_address_is_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port nobody listens on: bind one, then release it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    with pytest.raises(ExecutorError, match=rf"cannot reach the Dask scheduler at {address}"):
        list(completed(_square_plus, [1, 2], shared={"offset": 0}, executor="dask",
                       scheduler=address, timeout=2))
    monkeypatch.setenv(SCHEDULER_ENV, address)
    with pytest.raises(ExecutorError, match=rf"unset {SCHEDULER_ENV}"):
        list(completed(_square_plus, [1], shared={"offset": 0}, executor="dask", timeout=2))
    with pytest.raises(ExecutorError, match="unknown executor “threads”"):
        list(completed(_square_plus, [1], shared={"offset": 0}, executor="threads"))


def test_message_is_bilingual() -> None:
    from cocity.i18n import both

    text = both("index.dask.unreachable")
    assert "Dask 调度器" in text and "Dask scheduler" in text


def test_dask_is_imported_only_when_asked_for() -> None:
    """``cocity --help`` and importing the uncertainty engine load neither dask nor distributed
    (the CLI start-up budget); only ``executor="dask"`` does."""
    probe = ("import sys; sys.argv = ['cocity', 'index', 'uncertainty', '--help']\n"
             "from cocity.cli import main\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "import cocity.index.uncertainty\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env={"COLUMNS": "100"})
    assert "--workers" in out.stdout  # the help page was really printed
    assert out.stdout.rstrip().splitlines()[-1] == "[]"


def test_choose_decides_the_executor_the_same_way_everywhere(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    assert choose() == "serial"
    assert choose(workers=2) == "processes"
    assert choose(scheduler="tcp://h:8786") == "dask"
    assert choose("serial", scheduler="tcp://h:8786", workers=4) == "serial"
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://h:8786")
    assert choose(workers=2) == "dask"
    with pytest.raises(ExecutorError, match="unknown executor “threads”"):
        choose("threads")


def test_cli_sends_the_replications_to_the_scheduler_given(
        cluster: LocalCluster, tmp_path: Path) -> None:
    """``cocity index uncertainty --scheduler ADDRESS`` runs on that cluster and writes the same
    ranks as the serial run; an unknown ``--executor`` is refused before any work, exit 2."""
    from typer.testing import CliRunner

    from cocity.cli import app


    runner = CliRunner()
    base = ["--lang", "en", "index", "uncertainty", "chengyu_living", "--replications", "60",
            "--seed", "3"]
    serial = runner.invoke(app, [*base, "--out", str(tmp_path / "serial")])
    assert serial.exit_code == 0, serial.output
    before = dask_clients(cluster)
    on_dask = runner.invoke(app, [*base, "--scheduler", cluster.scheduler_address,
                                  "--out", str(tmp_path / "dask")])
    assert on_dask.exit_code == 0, on_dask.output
    assert dask_clients(cluster) > before
    assert ((tmp_path / "serial" / "uncertainty_ranks.csv").read_bytes()
            == (tmp_path / "dask" / "uncertainty_ranks.csv").read_bytes())
    bad = runner.invoke(app, [*base, "--executor", "threads", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2
    assert "unknown executor “threads”" in bad.output
    assert not (tmp_path / "bad").exists()
