"""Benchmark: peak memory of an OD matrix in memory against the same matrix built in tiles.

Run: ``python benchmarks/bench_od_tiles.py [--side 1000] [--origins 20000,50000,100000,200000]
[--tile-rows 10000] [--minutes 15] [--limit-gib 1.0] [--limit-origins 200000]
[--sweep 2500,10000,40000] [--sweep-origins 100000]``.

Network: :func:`bench_kernel.grid_network` (a ``side × side`` perturbed street grid, walked at
4.5 km/h; 15 minutes reach about 242 nodes). The job: travel times from the first ``N``
origins of a seeded permutation of the nodes to **every** node (destinations: all nodes, e.g.
jobs or residents at every node), then the 2SFCA (:func:`measures.two_step_fca`, cutoff = the
search cutoff) with seeded demand and supply. Two ways, each in its own child process (so that
each peak is its own):

(a) **in memory**: ``Router.many_to_many`` (to every node) → one ``csr_matrix`` →
    ``two_step_fca``;
(b) **tiled**: ``build_od_tiles`` (``--tile-rows`` origins per Parquet tile) → ``TiledOD`` →
    ``two_step_fca`` tile by tile.

Printed per size: stored pairs, the CSR's own size, the child's peak resident set (``VmHWM``)
and its growth over the child's resident set after loading the graph and warming numba up
(both ways carry the same graph, router buffers and libraries), the times of building and of
the measure, the ratio tiled / in memory, the SHA-256 of the accessibility (identical both
ways) and the load average. Then the tiled way on ``--sweep-origins`` origins with each tile
size of ``--sweep`` (the peak should follow the tile, not the matrix). Then the
demonstration: both ways again for ``--limit-origins`` origins, with the child's address space
limited (``RLIMIT_AS``) to its size after warm-up plus ``--limit-gib``; the in-memory way is
expected to fail with ``MemoryError`` (caught and reported), the tiled way to finish. Nothing
here asserts on time or memory.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from bench_kernel import grid_network

_SEED = 20260


def _status(field: str) -> float:
    """A ``/proc/self/status`` field in MiB (``VmHWM``, ``VmRSS``, ``VmSize``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1]) / 1024.0
    return float("nan")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def child(args: argparse.Namespace) -> None:
    """One case in this (child) process; prints one JSON line."""
    # both ways import the same libraries (pyarrow included) before the baseline is taken
    from cocity.access.kernel import Router
    from cocity.access.measures import two_step_fca
    from cocity.access.od_tiles import build_od_tiles

    z = np.load(args.graph)
    router = Router((z["indptr"], z["indices"], z["weights"]))
    n = router.n
    rng = np.random.default_rng(_SEED)
    origins = rng.permutation(n)[: args.n]
    dest = np.arange(n)
    demand = rng.integers(0, 500, args.n).astype(float)
    supply = rng.integers(0, 3, n).astype(float)
    router.many_to_many(origins[:64], args.minutes, destinations=dest)   # numba warm-up
    base_rss, base_vm = _status("VmRSS"), _status("VmSize")
    limit = None
    if args.limit_gib:
        limit = int((base_vm + args.limit_gib * 1024) * 2**20)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    out: dict[str, Any] = {"mode": args.mode, "n": args.n, "base_rss": base_rss,
                           "limit_mib": None if limit is None else limit / 2**20}
    try:
        t0 = time.perf_counter()
        if args.mode == "memory":
            # every node is a destination: the search's own columns are the matrix (the
            # fastest way in memory; passing ``destinations`` gives the same matrix)
            cost: Any = router.many_to_many(origins, args.minutes)
            nnz = cost.nnz
        else:
            folder = Path(args.folder)
            cost = build_od_tiles(router, origins, dest, folder, cutoff=args.minutes,
                                  tile_rows=args.tile_rows)
            nnz = cost.nnz
        t1 = time.perf_counter()
        res = two_step_fca(cost, demand, supply, cutoff=args.minutes)
        t2 = time.perf_counter()
        access = np.ascontiguousarray(res.access.to_numpy())
        out.update(ok=True, nnz=int(nnz), build_s=t1 - t0, measure_s=t2 - t1,
                   sha=hashlib.sha256(access.tobytes()).hexdigest()[:16])
    except MemoryError as exc:
        out.update(ok=False, error=f"MemoryError: {exc}"[:120])
    out["peak_rss"] = _status("VmHWM")
    print(json.dumps(out))


def run_case(script: Path, graph: Path, mode: str, n: int, args: argparse.Namespace,
             limit_gib: float = 0.0) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="od_tiles_", dir=args.tmp)) / "od"
    cmd = [sys.executable, str(script), "--child", "--graph", str(graph), "--mode", mode,
           "--n", str(n), "--minutes", str(args.minutes), "--tile-rows", str(args.tile_rows),
           "--folder", str(folder), "--limit-gib", str(limit_gib)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        disk = sum(p.stat().st_size for p in folder.glob("*")) if folder.exists() else 0
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        tail = (done.stderr or "").strip().splitlines()[-3:]
        return {"mode": mode, "n": n, "ok": False, "error": f"exit {done.returncode}: "
                + " | ".join(tail)[:200], "peak_rss": float("nan"), "base_rss": float("nan")}
    res: dict[str, Any] = json.loads(lines[-1])
    res["disk_mib"] = disk / 2**20
    return res


def show(r: dict[str, Any]) -> str:
    head = (f"  {r['mode']:<7} peak RSS {r['peak_rss']:8,.0f} MiB "
            f"(+{r['peak_rss'] - r['base_rss']:7,.0f} over warm-up)")
    if not r.get("ok"):
        return f"{head}  FAILED: {r.get('error')}"
    disk = f", tiles on disk {r['disk_mib']:,.0f} MiB" if r["mode"] == "tiled" else ""
    return (f"{head}  build {r['build_s']:6.2f} s  2SFCA {r['measure_s']:6.2f} s  "
            f"sha {r['sha']}{disk}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", type=int, default=1000)
    ap.add_argument("--origins", default="20000,50000,100000,200000")
    ap.add_argument("--tile-rows", type=int, default=10000)
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--limit-gib", type=float, default=1.0)
    ap.add_argument("--limit-origins", type=int, default=200000)
    ap.add_argument("--sweep", default="2500,10000,40000",
                    help="tile sizes tried on --sweep-origins origins ('' to skip)")
    ap.add_argument("--sweep-origins", type=int, default=100000)
    ap.add_argument("--tmp", default=None, help="folder for the tiles (default: the system's)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--graph", help=argparse.SUPPRESS)
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return

    script = Path(__file__).resolve()
    work = Path(tempfile.mkdtemp(prefix="bench_od_tiles_"))
    try:
        t0 = time.perf_counter()
        g = grid_network(args.side, 100.0).csr
        graph = work / "graph.npz"
        np.savez(graph, indptr=g.indptr, indices=g.indices, weights=g.weights)
        print(f"grid {args.side}×{args.side}: {g.n:,} nodes, {len(g.indices):,} arcs "
              f"({time.perf_counter() - t0:.1f} s); destinations: every node; cutoff "
              f"{args.minutes:g} min; tiles of {args.tile_rows:,} origins; load {load_average()}")
        print("\n(a) in memory vs (b) tiled, one child process per case")
        for n in (int(x) for x in args.origins.split(",") if x):
            mem = run_case(script, graph, "memory", n, args)
            til = run_case(script, graph, "tiled", n, args)
            nnz = til.get("nnz", mem.get("nnz", 0))
            print(f"origins {n:,}: {nnz:,} pairs, CSR itself {nnz * 12 / 2**20:,.0f} MiB; "
                  f"load {load_average()}")
            print(show(mem))
            print(show(til))
            if mem.get("ok") and til.get("ok"):
                ratio = (til["build_s"] + til["measure_s"]) / (mem["build_s"] + mem["measure_s"])
                grow = ((til["peak_rss"] - til["base_rss"])
                        / (mem["peak_rss"] - mem["base_rss"]))
                print(f"  tiled / in memory: time ×{ratio:.2f}, peak growth ×{grow:.2f}; "
                      f"same accessibility: {til['sha'] == mem['sha']}")
        if args.sweep:
            n = args.sweep_origins
            print(f"\ntile size against peak memory, origins {n:,}; load {load_average()}")
            for rows in (int(x) for x in args.sweep.split(",")):
                r = run_case(script, graph, "tiled", n, argparse.Namespace(
                    **{**vars(args), "tile_rows": rows}))
                print(f"  tiles of {rows:>7,} origins:" + show(r)[9:])
        if args.limit_gib > 0:
            n = args.limit_origins
            print(f"\nunder a memory limit: address space = size after warm-up + "
                  f"{args.limit_gib:g} GiB (RLIMIT_AS), origins {n:,}; load {load_average()}")
            print(show(run_case(script, graph, "memory", n, args, args.limit_gib)))
            print(show(run_case(script, graph, "tiled", n, args, args.limit_gib)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
