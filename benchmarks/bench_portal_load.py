"""Load test of the portal's public pages and JSON API on loopback, against the same site served
by Python's static file server, measured in the same run.

    pip install -e '.[bench]'
    python benchmarks/bench_portal_load.py                   # 50 users, 20 s per server
    python benchmarks/bench_portal_load.py --users 50 --duration 25 --wait 0,0

What runs: a deployment prepared as the browser tests prepare it (tests/portal_server.py: the
embedded dataset in a workspace, the 2020 evaluation signed and published with
:func:`cocity.publish.site.build_site`, the portal's users), then

1. the portal: ``cocity serve`` — ONE uvicorn process (the command has no worker option; it
   runs the app in one event loop with its thread pool), and
2. the baseline: ``python -m http.server`` (threading) on the same published folder,

each loaded in turn by ``locust --headless`` (``benchmarks/locust_portal.py``, FastHttpUser)
with ``--users`` concurrent users (all started within the first second), each waiting a random
``--wait`` (default 0.5–1.5 s) between requests, for ``--duration`` seconds. The requests: the
home page, the edition page, unit pages (Chinese and English, all units), the search index
(``assets/units-index.js``), and the JSON API — the editions, the edition, units — asked as
``…/api/v1/….json``, which the portal answers from its API and the static server from the
published files. Every path is asked once before the timing (both servers).

Reported per kind, for public pages, for the API and overall: requests, errors, p50/p95/p99
latency in ms (exact, from every request's time) and requests per second, and the ratio of the
portal's p50/p95 to the baseline's. The issue's aim is p95 < 200 ms for public pages and no
errors; the script says whether it was met and never asserts anything. Locust, the server and
everything else on the machine share its cores: the load average before and after each run is
printed with the results.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LOCUSTFILE = Path(__file__).with_name("locust_portal.py")
AIM_P95_MS = 200.0


def site_paths(site: Path, year: int) -> dict[str, Any]:
    """The paths to ask for, read from the published site."""
    units = json.loads((site / "api/v1/units.json").read_text(encoding="utf-8"))["units"]
    codes = [u["unit"] for u in units]
    return {"home": "/index.html", "edition": f"/editions/{year}/index.html",
            "units": [f"/units/{c}.html" for c in codes] + [f"/en/units/{c}.html"
                                                            for c in codes],
            "search": "/assets/units-index.js", "api_editions": "/api/v1/editions.json",
            "api_edition": f"/api/v1/editions/{year}.json",
            "api_units": [f"/api/v1/units/{c}.json" for c in codes]}


def warm(base: str, paths: dict[str, Any]) -> None:
    """Ask every path once (the portal reads the published edition at its first API call)."""
    for value in paths.values():
        for path in value if isinstance(value, list) else [value]:
            with urllib.request.urlopen(base + path, timeout=60) as answer:
                answer.read()


def run_locust(base: str, paths_file: Path, out: Path, *, users: int, duration: int,
               wait: str) -> dict[str, Any]:
    """One headless locust run against ``base``; its requests and its load averages."""
    env = {**os.environ, "COCITY_LOAD_PATHS": str(paths_file), "COCITY_LOAD_OUT": str(out),
           "COCITY_LOAD_WAIT": wait}
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
           "--host", base, "--users", str(users), "--spawn-rate", str(users),
           "--run-time", f"{duration}s", "--stop-timeout", "10", "--only-summary",
           "--loglevel", "WARNING"]
    before = os.getloadavg()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 120,
                          check=False)
    after = os.getloadavg()
    if not out.is_file():
        raise RuntimeError(f"locust wrote no results (exit {done.returncode}):\n"
                           f"{done.stderr[-3000:]}")
    samples = json.loads(out.read_text(encoding="utf-8"))
    return {"samples": samples, "load_before": before, "load_after": after}


def summarise(samples: list[list[Any]], kinds: list[str]) -> dict[str, float]:
    chosen = [s for s in samples if s[0] in kinds]
    if not chosen:
        return {"n": 0, "errors": 0, "p50": float("nan"), "p95": float("nan"),
                "p99": float("nan"), "rps": 0.0}
    ms = np.array([s[2] for s in chosen], dtype=float)
    starts = np.array([s[1] for s in samples], dtype=float)
    span = max(float(starts.max() - starts.min()), 1e-9)
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return {"n": len(chosen), "errors": sum(1 for s in chosen if s[3]), "p50": float(p50),
            "p95": float(p95), "p99": float(p99), "rps": len(chosen) / span}


def table(results: dict[str, dict[str, Any]]) -> list[str]:
    every = sorted({s[0] for r in results.values() for s in r["samples"]})
    pages = [k for k in every if k.startswith("page:")]
    api = [k for k in every if k.startswith("api:")]
    groups = [(k, [k]) for k in every] + [("public pages (all)", pages), ("API (all)", api),
                                          ("all requests", every)]
    head = (f"{'':22} {'portal (cocity serve, 1 worker)':>44} | {'baseline (http.server)':>44}"
            f" | {'portal/baseline':>15}")
    cols = f"{'n':>6} {'err':>4} {'p50':>7} {'p95':>7} {'p99':>7} {'req/s':>7}"
    lines = [head, f"{'kind':22} {cols:>44} | {cols:>44} | {'p50':>7} {'p95':>7}"]
    for name, kinds in groups:
        a, b = (summarise(results[s]["samples"], kinds) for s in ("portal", "baseline"))
        cells = []
        for x in (a, b):
            cells.append(f"{x['n']:>6} {x['errors']:>4} {x['p50']:>7.1f} {x['p95']:>7.1f} "
                         f"{x['p99']:>7.1f} {x['rps']:>7.1f}")
        lines.append(f"{name:22} {cells[0]:>44} | {cells[1]:>44} | "
                     f"{a['p50'] / b['p50']:>7.2f} {a['p95'] / b['p95']:>7.2f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=20, help="seconds per server")
    parser.add_argument("--wait", default="0.5,1.5",
                        help="seconds between a user's requests: min,max")
    args = parser.parse_args()

    from tests.portal_server import SIGNED_YEAR, prepare, start

    with tempfile.TemporaryDirectory(prefix="cocity-load-") as tmp:
        t0 = time.perf_counter()
        dep = prepare(Path(tmp) / "portal")
        print(f"prepared the deployment in {time.perf_counter() - t0:.1f} s "
              f"({', '.join(f'{k} {v:.1f} s' for k, v in dep.timings.items())})")
        paths = site_paths(dep.site_dir, SIGNED_YEAR)
        paths_file = Path(tmp) / "paths.json"
        paths_file.write_text(json.dumps(paths), encoding="utf-8")
        servers = {
            "portal": {},
            "baseline": {"command": [sys.executable, "-m", "http.server", "{port}", "--bind",
                                     "127.0.0.1", "--directory", str(dep.site_dir)],
                         "ready": "/index.html"},
        }
        results: dict[str, dict[str, Any]] = {}
        for name, how in servers.items():
            server = start(dep, **how)
            try:
                warm(server.base_url, paths)
                results[name] = run_locust(server.base_url, paths_file,
                                           Path(tmp) / f"{name}.json", users=args.users,
                                           duration=args.duration, wait=args.wait)
            finally:
                server.stop()

    print(f"\n{args.users} users, {args.duration} s per server, {args.wait} s between a "
          f"user's requests; {len(paths['units'])} unit pages, {len(paths['api_units'])} "
          f"unit documents; latency in ms; {os.cpu_count()} cores")
    for line in table(results):
        print(line)
    for name, r in results.items():
        print(f"load average (1, 5, 15 min) {name}: before "
              f"{', '.join(f'{x:.1f}' for x in r['load_before'])}; after "
              f"{', '.join(f'{x:.1f}' for x in r['load_after'])}")
    every = sorted({s[0] for s in results["portal"]["samples"]})
    pages = summarise(results["portal"]["samples"], [k for k in every if k.startswith("page:")])
    errors = summarise(results["portal"]["samples"], every)["errors"]
    print(f"aim (p95 < {AIM_P95_MS:.0f} ms for public pages, no errors): "
          f"{'met' if pages['p95'] < AIM_P95_MS and errors == 0 else 'NOT met'} — "
          f"public pages p95 {pages['p95']:.1f} ms, {errors} errors")


if __name__ == "__main__":
    main()
