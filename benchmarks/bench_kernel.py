"""Benchmark: 15-minute walk coverage of six facility types on a 1,000,000-node street network.

Run: ``python benchmarks/bench_kernel.py [--side 1000] [--spacing 100] [--minutes 15]
[--scipy-sample 300] [--m2m-sample 100000] [--threads N] [--no-pandana]
[--pandana-timeout 1200] [--pandana-fallback-side 300]``.

Input: a synthetic street network, a ``side × side`` grid (``spacing`` metres) with every node
moved by up to ±20 % of the spacing, 3 % of the grid links removed and a diagonal added in 3 %
of the cells (about 4 arcs per node), link lengths = straight line × a detour factor in
[1.0, 1.15], walked at 4.5 km/h (15 minutes ≈ 1,125 m). Six facility types are scattered on
0.2–1 % of the nodes each. Everything is seeded.

Timed, in one run (medians of ``--repeats``, numba compilation excluded and printed apart):

1. **cocity coverage**: for every node, the time to the nearest facility of each type (one
   multi-source Dijkstra per type on the reversed graph, types in parallel) and the number of
   facilities of each type within 15 minutes (one bounded search per facility).
2. **cocity many-to-many** from a random sample of ``--m2m-sample`` origins (the sparse
   origin × node matrix within 15 minutes), scaled to all nodes.
3. **Baseline**: ``scipy.sparse.csgraph.dijkstra`` called once per origin with
   ``limit=15`` on a sample of ``--scipy-sample`` origins, scaled to all nodes — the per-origin
   formulation a planner would write; it also yields the coverage of every type from each
   origin's row. For reference, scipy's own multi-source search (``min_only=True``, once per
   type) is timed too.
4. **pandana** (when importable: install it in a separate environment, never a cocity
   requirement): ``nearest_pois`` per type and ``aggregate(type="count")`` per type, after its
   contraction-hierarchy preprocessing (timed separately). pandana runs in a child process;
   when its preprocessing of the full grid does not finish within ``--pandana-timeout``
   seconds (grid-like networks have no road hierarchy to exploit), it is killed and the
   comparison is repeated on a ``--pandana-fallback-side`` grid from the same generator.

Agreement is checked on the sampled origins: the coverage flags and nearest times of cocity
equal scipy's (1e-9); pandana's differences are printed (for its contraction hierarchy it
multiplies arc times by 1,000 and truncates them to integers — ``DISTANCEMULTFACT`` in its
``graphalg.h`` — so its times run short by up to 0.001 min per arc). Peak memory is the
process's maximum resident set size (``resource.getrusage``). Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numba
import numpy as np
from scipy.sparse.csgraph import dijkstra

from cocity.access.kernel import Router
from cocity.access.network import Network

_PREPROCESSED = "pandana-preprocessing-done"
FRACTIONS = (0.002, 0.003, 0.005, 0.006, 0.008, 0.010)
TYPES = ("kindergarten", "primary_school", "health_station", "food_market", "elderly_care",
         "sports_ground")


def grid_network(side: int, spacing: float, seed: int = 0) -> Network:
    rng = np.random.default_rng(seed)
    n = side * side
    ii, jj = np.divmod(np.arange(n, dtype=np.int64), side)
    x = jj * spacing + rng.uniform(-0.2, 0.2, n) * spacing
    y = ii * spacing + rng.uniform(-0.2, 0.2, n) * spacing
    node = np.arange(n, dtype=np.int64).reshape(side, side)
    horiz = np.column_stack([node[:, :-1].ravel(), node[:, 1:].ravel()])
    vert = np.column_stack([node[:-1, :].ravel(), node[1:, :].ravel()])
    links = np.vstack([horiz, vert])
    links = links[rng.random(len(links)) >= 0.03]
    cells = np.column_stack([node[:-1, :-1].ravel(), node[1:, 1:].ravel()])
    diag = cells[rng.random(len(cells)) < 0.03]
    edges = np.vstack([links, diag])
    u, v = edges[:, 0], edges[:, 1]
    length = np.hypot(x[u] - x[v], y[u] - y[v]) * rng.uniform(1.0, 1.15, len(u))
    return Network.from_arrays(np.arange(n), x, y, u, v, length, profile="walk",
                               crs="EPSG:32648")


def median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def peak_mib_since_exec() -> float:
    """Peak RSS of this process image (``VmHWM``; Linux keeps ``ru_maxrss`` across exec, so a
    child started from a large parent would report the parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return peak_mib()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", type=int, default=1000)
    ap.add_argument("--spacing", type=float, default=100.0)
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--scipy-sample", type=int, default=300)
    ap.add_argument("--m2m-sample", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--no-pandana", action="store_true")
    ap.add_argument("--pandana-timeout", type=float, default=1200.0)
    ap.add_argument("--pandana-fallback-side", type=int, default=300)
    args = ap.parse_args()
    cutoff = args.minutes
    rng = np.random.default_rng(1)

    t0 = time.perf_counter()
    net = grid_network(args.side, args.spacing)
    n = net.n_nodes
    print(f"network: {args.side ** 2:,}-node grid, {n:,} nodes after dropping "
          f"{net.report['unused_nodes']} left without links; {net.n_arcs:,} arcs "
          f"({net.n_arcs / n:.2f} per node), built in {time.perf_counter() - t0:.1f} s; "
          f"walk 4.5 km/h, cutoff {cutoff:g} min; {numba.get_num_threads()} numba threads")
    facilities = {name: np.sort(rng.choice(n, max(1, round(f * n)), replace=False))
                  for name, f in zip(TYPES, FRACTIONS, strict=True)}
    print("facilities: " + ", ".join(f"{k} {len(v):,}" for k, v in facilities.items()))

    router = Router(net, threads=args.threads)
    t0 = time.perf_counter()
    small = {k: v[:2] for k, v in facilities.items()}
    router.coverage(small, cutoff, origins=np.arange(10))
    router.many_to_many(np.arange(10), cutoff)
    print(f"numba load/compile and first calls: {time.perf_counter() - t0:.2f} s (excluded)")

    # ------------------------------------------------------------------ cocity
    t_cov, cov = median_time(lambda: router.coverage(facilities, cutoff), args.repeats)
    shares = cov.share()
    print(f"\ncocity coverage, all {n:,} origins × {len(TYPES)} types "
          f"(nearest time + count within {cutoff:g} min): {t_cov:.2f} s")
    print("  share covered: " + ", ".join(f"{k} {v:.1%}" for k, v in shares.items()))
    t_near, _ = median_time(lambda: router.nearest_groups(list(facilities.values()), cutoff,
                                                          direction="to"), args.repeats)
    print(f"  of which nearest (6 multi-source searches): {t_near:.2f} s")

    m2m_origins = np.sort(rng.choice(n, min(n, args.m2m_sample), replace=False))
    t_m2m, od = median_time(lambda: router.many_to_many(m2m_origins, cutoff), args.repeats)
    per = t_m2m / len(m2m_origins)
    print(f"\ncocity many-to-many, {len(m2m_origins):,} origins: {t_m2m:.2f} s "
          f"({per * 1e6:.1f} µs per origin, {od.nnz / len(m2m_origins):.0f} reached nodes per "
          f"origin); scaled to {n:,} origins: {per * n:.1f} s")
    del od

    # ------------------------------------------------------------------ scipy
    mat = net.to_scipy()
    sample = np.sort(rng.choice(n, min(n, args.scipy_sample), replace=False))
    is_fac = np.zeros((len(TYPES), n), dtype=bool)
    for j, v in enumerate(facilities.values()):
        is_fac[j, v] = True
    # the graph's reversal is needed for "origin → facility" times; the walk network is
    # symmetric, so scipy runs on the graph as is (and cocity's result is checked against it)
    t0 = time.perf_counter()
    scipy_near = np.full((len(sample), len(TYPES)), np.inf)
    for k, o in enumerate(sample):
        d = dijkstra(mat, directed=True, indices=int(o), limit=cutoff)
        for j in range(len(TYPES)):
            dj = d[is_fac[j]]
            scipy_near[k, j] = dj.min() if len(dj) else np.inf
    t_scipy = time.perf_counter() - t0
    scipy_all = t_scipy / len(sample) * n
    print(f"\nscipy.sparse.csgraph.dijkstra once per origin (limit={cutoff:g}): "
          f"{t_scipy / len(sample) * 1e3:.2f} ms per origin on {len(sample)} origins; "
          f"scaled to {n:,} origins: {scipy_all:,.0f} s ({scipy_all / 3600:.1f} h)")
    ours = cov.nearest[sample]
    same = np.array_equal(np.isinf(ours), np.isinf(scipy_near)) and np.allclose(
        ours[np.isfinite(ours)], scipy_near[np.isfinite(scipy_near)], rtol=0, atol=1e-9)
    print(f"  agreement with cocity on the sample (coverage and nearest times, 1e-9): {same}")
    print(f"  RATIO scipy per origin / cocity coverage: {scipy_all / t_cov:,.0f}×")
    print(f"  RATIO scipy per origin / cocity many-to-many (all origins): "
          f"{scipy_all / (per * n):,.0f}×")
    t_ms, _ = median_time(lambda: [dijkstra(mat, directed=True, indices=v, limit=cutoff,
                                            min_only=True) for v in facilities.values()], 1)
    print(f"  reference: scipy multi-source (min_only=True, once per type): {t_ms:.2f} s "
          f"(cocity nearest: {t_near:.2f} s, {t_ms / t_near:.1f}×)")

    # ------------------------------------------------------------------ pandana
    if args.no_pandana:
        print("\npandana: skipped (--no-pandana)")
    else:
        compare_pandana(net, facilities, cutoff, cov, t_cov, args)
    print(f"\npeak memory (max RSS, this process): {peak_mib():,.0f} MiB")


def compare_pandana(net: Network, facilities: dict[str, np.ndarray], cutoff: float, cov: Any,
                    t_cov: float, args: argparse.Namespace) -> None:
    """pandana in a child process (a timeout for its preprocessing); smaller grid on timeout."""
    sides = [args.side] + ([args.pandana_fallback_side]
                           if args.pandana_fallback_side < args.side else [])
    for side in sides:
        if side != args.side:
            net = grid_network(side, args.spacing)
            rng = np.random.default_rng(2)
            facilities = {name: np.sort(rng.choice(net.n_nodes, max(1, round(f * net.n_nodes)),
                                                   replace=False))
                          for name, f in zip(TYPES, FRACTIONS, strict=True)}
            router = Router(net, threads=args.threads)
            t_cov, cov = median_time(partial(router.coverage, facilities, cutoff), args.repeats)
            print(f"\n  fallback: {net.n_nodes:,}-node grid (same generator); cocity coverage "
                  f"{t_cov:.3f} s")
        with tempfile.TemporaryDirectory() as tmp:
            inp, out = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
            tail = net.tails()
            one = tail < net.indices                      # each two-way street once
            np.savez(inp, x=net.x, y=net.y, u=tail[one], v=net.indices[one].astype(np.int64),
                     w=net.weights[one], cutoff=cutoff, names=np.array(list(facilities)),
                     **{f"fac_{k}": v for k, v in enumerate(facilities.values())})
            try:
                proc = subprocess.run([sys.executable, __file__, "--pandana-worker", str(inp),
                                       str(out)], capture_output=True, text=True,
                                      timeout=args.pandana_timeout)
            except subprocess.TimeoutExpired as exc:
                partial_out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (
                    exc.stdout or "")
                stage = ("its queries" if _PREPROCESSED in partial_out
                         else "its contraction-hierarchy preprocessing")
                print(f"\npandana on {net.n_nodes:,} nodes: {stage} did not finish within "
                      f"{args.pandana_timeout:,.0f} s; killed")
                continue
            if proc.returncode == 3:
                print("\npandana: not installed here (never a cocity requirement; to compare, "
                      "`pip install pandana` in a separate environment and run this script "
                      "there)")
                return
            if proc.returncode != 0:
                print(f"\npandana failed: {proc.stderr.strip().splitlines()[-1:]}")
                return
            res = np.load(out)
            report_pandana(net, res, cov, t_cov)
            return


def report_pandana(net: Network, res: Any, cov: Any, t_cov: float) -> None:
    t_pre, t_near, t_cnt = float(res["t_pre"]), float(res["t_near"]), float(res["t_cnt"])
    nearest, counts = res["nearest"], res["counts"]
    total = t_near + t_cnt
    print(f"\npandana {res['version']} on {net.n_nodes:,} nodes: contraction hierarchy "
          f"{t_pre:.1f} s (excluded); nearest_pois ×{nearest.shape[1]}: {t_near:.2f} s; "
          f"aggregate(count) ×{nearest.shape[1]}: {t_cnt:.2f} s; total {total:.2f} s; "
          f"peak memory {float(res['peak']):,.0f} MiB")
    fin, pfin = np.isfinite(cov.nearest), np.isfinite(nearest)
    both = fin & pfin
    gap = float(np.abs(cov.nearest[both] - nearest[both]).max()) if both.any() else 0.0
    same_cnt = float((counts == cov.counts).mean())
    print(f"  agreement: nearest times differ by at most {gap:.4f} min where both reach a "
          f"facility (pandana rounds arc times to integers in its contraction hierarchy); "
          f"reach differs in {int((fin != pfin).sum()):,} of {fin.size:,} node × type cells "
          f"and counts are equal in {same_cnt:.3%} (cutoff boundary)")
    print(f"  RATIO pandana / cocity coverage: {total / t_cov:.1f}× "
          f"({(total + t_pre) / t_cov:.1f}× with its preprocessing)")


def pandana_worker(inp: str, out: str) -> None:
    try:
        import pandana
    except ImportError:
        sys.exit(3)
    import pandas as pd

    d = np.load(inp)
    cutoff = float(d["cutoff"])
    names = list(d["names"])
    t0 = time.perf_counter()
    pnet = pandana.Network(pd.Series(d["x"]), pd.Series(d["y"]), pd.Series(d["u"]),
                           pd.Series(d["v"]), pd.DataFrame({"minutes": d["w"]}), twoway=True)
    t_pre = time.perf_counter() - t0
    print(_PREPROCESSED, flush=True)
    n = len(d["x"])
    nearest = np.full((n, len(names)), np.inf)
    t0 = time.perf_counter()
    for j, name in enumerate(names):
        f = d[f"fac_{j}"]
        pnet.set_pois(name, cutoff, 1, d["x"][f], d["y"][f])
        dist = pnet.nearest_pois(cutoff, name, num_pois=1).iloc[:, 0].to_numpy(dtype=float)
        nearest[:, j] = np.where(dist < cutoff, dist, np.inf)   # pandana fills "none" with cutoff
    t_near = time.perf_counter() - t0
    counts = np.zeros((n, len(names)), dtype=np.int64)
    t0 = time.perf_counter()
    for j in range(len(names)):
        f = d[f"fac_{j}"]
        pnet.set(pd.Series(f), variable=pd.Series(np.ones(len(f))), name=f"f{j}")
        counts[:, j] = np.rint(pnet.aggregate(cutoff, type="count", decay="flat",
                                              name=f"f{j}").to_numpy()).astype(np.int64)
    t_cnt = time.perf_counter() - t0
    np.savez(out, nearest=nearest, counts=counts, t_pre=t_pre, t_near=t_near, t_cnt=t_cnt,
             version=getattr(pandana, "__version__", "?"), peak=peak_mib_since_exec())


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--pandana-worker":
        pandana_worker(sys.argv[2], sys.argv[3])
    else:
        main()
