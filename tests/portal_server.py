"""A real portal for the browser tests and the load benchmark: the data a deployment has, then
the server started in a subprocess the way a user starts it, on a free loopback port.

:func:`prepare` lays out, in a new folder:

* ``workspace/`` — a data workspace holding the embedded Chengdu–Chongqing dataset (as
  ``cocity init`` makes it);
* ``evaluate/runs/`` — two stored evaluation runs of every level, saved with
  :func:`cocity.evaluate.runs.save_run` like ``cocity evaluate``'s, kept cheap: no uncertainty
  replications, and only the CSV tables and JSON document of the report writer (no pages, no
  workbooks): the 2020 run, signed as its year's edition with
  :func:`cocity.publish.editions.sign_edition`, and the 2010 run left a DRAFT for the
  evaluator to sign;
* ``site/`` — the public site built from the records with :func:`cocity.publish.site.build_site`;
* ``records.sqlite`` — the records database with the portal's users (one per role, made with
  :func:`cocity.web.users.add_user` and the shipped password policy) and an ILLUSTRATIVE fund
  (``open_fund(illustrative=True)``: its amounts are test amounts, not real money) with money
  earmarked for two units;
* ``observations.csv`` — three real observations copied from the embedded dataset, for the
  analyst's upload.

:func:`start` then runs ``python -m cocity serve`` (uvicorn) on it and waits for ``/healthz``;
:meth:`PortalServer.stop` ends that process. :func:`portal_server` is the module-scoped fixture
of the browser tests; ``benchmarks/bench_portal_load.py`` uses :func:`prepare` and
:func:`start`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

PASSWORD = "portal browser test 密码短语"
# login → (name, roles): one user per role, and one who holds both fund roles (maker AND
# checker: the ledger must still refuse to let them approve their own request)
USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ana": ("分析员甲", ("analyst",)),
    "eva": ("评价员乙", ("evaluator",)),
    "wang": ("王经办", ("fund_manager",)),
    "li": ("李复核", ("fund_approver",)),
    "zhao": ("赵双岗", ("fund_manager", "fund_approver")),
    "zhang": ("张秘书", ("secretary",)),
    "root": ("管理员", ("admin",)),
}
SIGNED_YEAR = 2020  # the edition in force when the server starts
DRAFT_YEAR = 2010  # the draft left for the evaluator
FIRST_EVALUATOR = "第三方评价机构（测试）"
# the illustrative fund's units (code → 中文, English) and its earmarks in fen
FUND_UNITS = {"510300": ("自贡市", "Zigong"), "510400": ("攀枝花市", "Panzhihua")}
SETUP = {"actor": "setup", "role": "fund_manager"}
UPLOAD_ROWS = (("510100", "pop_total"), ("510300", "pop_total"), ("500101", "pop_total"))
STARTUP_S = 90.0


@dataclass
class Deployment:
    """The folders and files of a prepared portal (see the module docstring)."""

    root: Path
    workspace: Path
    runs_root: Path
    site_dir: Path
    records: Path
    uploads_dir: Path
    observations_csv: Path
    draft_run: str
    signed_run: str
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class PortalServer:
    """A running ``cocity serve`` process on ``base_url`` (its output in ``log``)."""

    deployment: Deployment
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """End the server process (SIGTERM, then SIGKILL after 15 s) and its workers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def _tables_writer(ev: Any, folder: Path) -> dict[str, Path]:
    """The run's CSV tables and JSON document, written as the report writer writes them
    (:mod:`cocity.report.evaluate_report`), without its pages and workbooks: all that signing
    and publishing read, in a fraction of the time."""
    from cocity.evaluate.tables import csv_frame, result_tables
    from cocity.outputs import write_atomic, write_csv
    from cocity.report.evaluate_report import document

    tables = result_tables(ev)
    paths = {f"csv:{name}": write_csv(csv_frame(frame, ev, name),
                                      folder / "tables" / f"{name}.csv")
             for name, frame in tables.items()}
    paths["json"] = write_atomic(json.dumps(document(ev, tables), ensure_ascii=False,
                                            indent=1) + "\n", folder / "evaluation.json")
    return paths


def _evaluate(workspace: Path, runs_root: Path, year: int) -> str:
    """A stored run of ``year`` (every level, no replications) saved with
    :func:`cocity.evaluate.runs.save_run`."""
    from cocity.datasets import open_store
    from cocity.evaluate.framework import load_framework
    from cocity.evaluate.run import evaluate
    from cocity.evaluate.runs import save_run

    store = open_store(workspace, read_only=True)
    try:
        ev = evaluate(load_framework(None), store, year=year, replications=0)
        record = save_run(ev, runs_root, _tables_writer)
    finally:
        store.close()
    return record.id


def _open_books(records: object) -> None:
    """The illustrative fund: 100,000,000 yuan contributed, 60,000,000 in the facilities pool,
    10,000,000 yuan earmarked for each of :data:`FUND_UNITS`."""
    from cocity.fund.ledger import Ledger

    ledger = Ledger(records)  # type: ignore[arg-type]
    ledger.open_fund(units=FUND_UNITS, illustrative=True)
    ledger.contribute("central", 100_000_000_00, key="setup-c1", reason="测试出资",
                      document="test-1", **SETUP)
    ledger.fund_pools({"facilities": 60_000_000_00}, key="setup-p1", reason="测试分池",
                      **SETUP)
    ledger.post_allocation([(code, "facilities", 10_000_000_00) for code in FUND_UNITS],
                           key="setup-a1", reason="测试分配", **SETUP)


def _upload_file(path: Path) -> Path:
    """Three real observations (2020 resident population) from the embedded dataset, long
    form: importing them changes nothing but runs the whole import."""
    from cocity.datasets import open_store

    obs = open_store().observations()
    rows = []
    for unit, indicator in UPLOAD_ROWS:
        found = obs[(obs["unit"] == unit) & (obs["indicator"] == indicator)
                    & (obs["year"] == SIGNED_YEAR)]
        assert len(found) == 1, (unit, indicator)
        rows.append(f"{unit},{SIGNED_YEAR},{indicator},{float(found.iloc[0]['value'])!r}")
    path.write_text("unit,year,indicator,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def prepare(root: Path, *, users: bool = True) -> Deployment:
    """Lay out a deployment in ``root`` (a new folder): see the module docstring."""
    from cocity.data.store import Store
    from cocity.datasets import load_into, open_store
    from cocity.publish.editions import sign_edition
    from cocity.publish.site import build_site
    from cocity.records import open_records
    from cocity.web.users import add_user

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    workspace, runs_root = root / "workspace", root / "evaluate"
    store = Store.open(workspace, create=True)
    try:
        load_into(store, "chengyu")
    finally:
        store.close()
    timings["workspace"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    signed = _evaluate(workspace, runs_root, SIGNED_YEAR)
    draft = _evaluate(workspace, runs_root, DRAFT_YEAR)
    timings["evaluate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    records_path = root / "records.sqlite"
    records = open_records(records_path)
    try:
        sign_edition(records, runs_root / "runs" / signed, evaluator=FIRST_EVALUATOR,
                     statement="浏览器测试的签发 / signed for the browser tests",
                     actor="setup", role="evaluator")
        store_ro = open_store(workspace, read_only=True)
        try:
            build_site(out=root / "site", store=store_ro, records=records,
                       runs_root=runs_root, diagnostics=False)
        finally:
            store_ro.close()
        timings["publish"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if users:
            for login, (name, roles) in USERS.items():
                add_user(records, login, password=PASSWORD, roles=roles, name=name,
                         actor="setup")
        _open_books(records)
        timings["users_fund"] = time.perf_counter() - t0
    finally:
        records.close()
    return Deployment(root=root, workspace=workspace, runs_root=runs_root,
                      site_dir=root / "site", records=records_path,
                      uploads_dir=root / "uploads",
                      observations_csv=_upload_file(root / "observations.csv"),
                      draft_run=draft, signed_run=signed, timings=timings)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_command(dep: Deployment, *, port: int) -> list[str]:
    """``cocity serve`` on ``dep``, as a user types it (with this interpreter): one uvicorn
    process (the command has no worker option)."""
    return [sys.executable, "-m", "cocity", "serve", "--host", "127.0.0.1",
            "--port", str(port), "--db", str(dep.records), "--site", str(dep.site_dir),
            "--runs", str(dep.runs_root), "--workspace", str(dep.workspace),
            "--uploads", str(dep.uploads_dir)]


def start(dep: Deployment, *, command: Sequence[str] | None = None,
          env: dict[str, str] | None = None, ready: str = "/healthz") -> PortalServer:
    """Start the server on ``dep`` (``command``: another command line, ``{port}`` standing for
    the port) on a free loopback port and wait until ``ready`` answers 200 (at most
    :data:`STARTUP_S` seconds; its log is in the failure message)."""
    port = free_port()
    cmd = [a.replace("{port}", str(port)) for a in command] if command is not None \
        else serve_command(dep, port=port)
    log = dep.root / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, cwd=dep.root, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})})
    server = PortalServer(dep, f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + STARTUP_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n"
                               f"{server.log_text()[-4000:]}")
        try:
            with urllib.request.urlopen(server.base_url + ready, timeout=2) as answer:
                if answer.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"the server did not answer {ready} within {STARTUP_S:.0f} s"
                               f":\n{server.log_text()[-4000:]}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def portal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalServer]:
    """One prepared deployment and its running server per test module."""
    dep = prepare(tmp_path_factory.mktemp("portal"))
    server = start(dep)
    yield server
    server.stop()
