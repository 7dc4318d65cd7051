"""Benchmark: 15-minute walk coverage of six facility types on a 1,000,000-node street network.

Run: ``python benchmarks/bench_kernel.py [--side 1000] [--spacing 100] [--minutes 15]
[--scipy-sample 300] [--m2m-sample 100000] [--repeats 3] [--threads N] [--no-pandana]
[--pandana-python PATH] [--pandana-timeout 1200] [--pandana-fallback-side 300]``.

Input: a synthetic street network, a ``side × side`` grid (``spacing`` metres) with every node
moved by up to ±20 % of the spacing, 3 % of the grid links removed and a diagonal added in 3 %
of the cells (about 4 arcs per node), link lengths = straight line × a detour factor in
[1.0, 1.15], walked at 4.5 km/h (15 minutes ≈ 1,125 m). Six facility types are scattered on
0.2–1 % of the nodes each. Everything is seeded.

Printed, in one run (numba's first calls — compilation, or loading its on-disk cache — timed
apart; every timed comparison is repeated ``--repeats`` times in alternation with its baseline,
each round with its ratio and the machine's load average, because a shared machine is noisy):

1. **Per origin**: ``scipy.sparse.csgraph.dijkstra(indices=o, limit=15)`` per origin (the
   baseline: the per-origin formulation a planner would write) against cocity's
   ``one_to_many`` (a Python call per origin, on the same ``--scipy-sample`` origins: the
   mean of 50 passes, the first right after scipy's loop has swept the caches, the others each
   after a 64 MiB sweep, so that every call starts from cold memory and the timed window,
   ~0.4 s, is about as long as scipy's single pass, ~0.5 s: one pass of 300 calls lasts only
   ~8 ms and a burst of load from another process can double it, where a long window
   averages such bursts in, as scipy's does; its fixed cost per call: the same calls with a
   cutoff of 0), ``many_to_many``
   on one thread from the same origins (cold memory too: the caches are swept first) and from
   ``--m2m-sample`` sorted origins (neighbouring searches share cached memory), and on all
   threads; the times of both are checked bit-identical to scipy's on 50 origins (and
   ``one_to_many``'s order: by time, then node).
2. **Node order**: the same many-to-many searches with the grid's nodes stored in random order
   and in the Z-order every cocity network builder stores.
3. **Nearest facility**: scipy's multi-source ``dijkstra(min_only=True)`` per type against
   ``Router.nearest`` on one thread; bit-identity checked.
4. **cocity coverage** of every node (nearest time and count within 15 minutes per type, all
   threads), checked against scipy (nearest times to the bit against ``min_only`` on the
   transposed graph; counts on the sampled origins' rows).
5. **pandana** (when ``--pandana-python``, default this interpreter, can import it: install it
   in a separate environment, never a cocity requirement): ``nearest_pois`` and
   ``aggregate(type="count")`` per type, after its contraction-hierarchy preprocessing (timed
   separately), against cocity's coverage and against cocity in pandana's own formulation (a
   bounded search from every node, counting facilities per row, no preprocessing). pandana runs
   in a child process; when its preprocessing of the full grid does not finish within
   ``--pandana-timeout`` seconds (grid-like networks have no road hierarchy to exploit), it is
   killed and the comparison is repeated on a ``--pandana-fallback-side`` grid from the same
   generator. pandana's time differences are printed (for its contraction hierarchy it
   multiplies arc times by 1,000 and truncates them to integers — ``DISTANCEMULTFACT`` in its
   ``graphalg.h`` — so its times run short by up to 0.001 min per arc).

Peak memory is the process's maximum resident set size (``resource.getrusage``). Nothing here
asserts on time.
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

import numpy as np

# cocity, numba and scipy are imported where used, so that the pandana worker (this file run
# by another interpreter, ``--pandana-python``) needs only numpy, pandas and pandana

_PREPROCESSED = "pandana-preprocessing-done"
FRACTIONS = (0.002, 0.003, 0.005, 0.006, 0.008, 0.010)
ONE_PASSES = 50  # one_to_many's passes over the sampled origins per round (module notes)
TYPES = ("kindergarten", "primary_school", "health_station", "food_market", "elderly_care",
         "sports_ground")


def grid_network(side: int, spacing: float, seed: int = 0) -> Any:
    from cocity.access.network import Network

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
    import numba
    from scipy.sparse.csgraph import dijkstra

    from cocity.access.kernel import Router

    ap = argparse.ArgumentParser()
    ap.add_argument("--side", type=int, default=1000)
    ap.add_argument("--spacing", type=float, default=100.0)
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--scipy-sample", type=int, default=300)
    ap.add_argument("--m2m-sample", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--no-pandana", action="store_true")
    ap.add_argument("--pandana-python", default=sys.executable,
                    help="interpreter with pandana installed (a separate environment)")
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
          f"walk 4.5 km/h, cutoff {cutoff:g} min; {numba.get_num_threads()} numba threads; "
          f"load average {load_average()}")
    facilities = {name: np.sort(rng.choice(n, max(1, round(f * n)), replace=False))
                  for name, f in zip(TYPES, FRACTIONS, strict=True)}
    print("facilities: " + ", ".join(f"{k} {len(v):,}" for k, v in facilities.items()))

    router = Router(net, threads=args.threads)
    single = Router(net, threads=1)
    t0 = time.perf_counter()
    small = {k: v[:2] for k, v in facilities.items()}
    router.coverage(small, cutoff, origins=np.arange(10))
    router.many_to_many(np.arange(10), cutoff)
    single.many_to_many(np.arange(10), cutoff)
    single.one_to_many(0, cutoff)
    print(f"numba first calls (compilation, or loading numba's on-disk cache when it is warm): "
          f"{time.perf_counter() - t0:.2f} s (excluded below)")

    # ------------------------------------------------------------------ per origin vs scipy
    mat = net.to_scipy()
    sample = np.sort(rng.choice(n, min(n, args.scipy_sample), replace=False))
    m2m_origins = np.sort(rng.choice(n, min(n, args.m2m_sample), replace=False))
    print(f"\nper origin ({args.repeats} rounds; scipy on {len(sample)} origins, cocity "
          f"many-to-many on {len(m2m_origins):,}):")
    for rep in range(args.repeats):
        t0 = time.perf_counter()
        for o in sample:
            dijkstra(mat, directed=True, indices=int(o), limit=cutoff)
        t_sp = (time.perf_counter() - t0) / len(sample)
        passes = []
        for k in range(ONE_PASSES):
            if k:
                evict_caches()     # the first pass runs right after scipy's loop swept them
            t0 = time.perf_counter()
            for o in sample:
                single.one_to_many(int(o), cutoff)
            passes.append((time.perf_counter() - t0) / len(sample))
        t_one = float(np.mean(passes))
        t0 = time.perf_counter()
        for o in sample:
            single.one_to_many(int(o), 0.0)
        t_zero = (time.perf_counter() - t0) / len(sample)
        evict_caches()
        t0 = time.perf_counter()
        single.many_to_many(sample, cutoff)
        t_m300 = (time.perf_counter() - t0) / len(sample)
        t0 = time.perf_counter()
        od = single.many_to_many(m2m_origins, cutoff)
        t_m1 = (time.perf_counter() - t0) / len(m2m_origins)
        t0 = time.perf_counter()
        od = router.many_to_many(m2m_origins, cutoff)
        t_mp = (time.perf_counter() - t0) / len(m2m_origins)
        print(f"  round {rep + 1}: scipy dijkstra(limit) {t_sp * 1e6:,.0f} µs; cocity "
              f"one_to_many {t_one * 1e6:.1f} µs (RATIO {t_sp / t_one:.0f}×; mean of "
              f"{ONE_PASSES} passes from cold caches, {min(passes) * 1e6:.1f}–"
              f"{max(passes) * 1e6:.1f} µs; the fixed cost of a call, cutoff 0: "
              f"{t_zero * 1e6:.1f} µs), many-to-many 1 thread "
              f"on the same {len(sample)} origins {t_m300 * 1e6:.1f} µs "
              f"(RATIO {t_sp / t_m300:.0f}×), on {len(m2m_origins):,} "
              f"{t_m1 * 1e6:.1f} µs (RATIO {t_sp / t_m1:.0f}×), "
              f"{router._nthreads()} threads {t_mp * 1e6:.1f} µs (RATIO {t_sp / t_mp:.0f}×); "
              f"load {load_average()}")
    reach = od.nnz / len(m2m_origins)
    print(f"  {reach:.0f} nodes reached per origin; scaled to all {n:,} origins: cocity "
          f"{t_mp * n:,.0f} s, scipy {t_sp * n:,.0f} s")
    want = dijkstra(mat, directed=True, indices=sample[:50], limit=cutoff)
    got = np.full(want.shape, np.inf)
    coo = single.many_to_many(sample[:50], cutoff).tocoo()
    got[coo.row, coo.col] = coo.data
    one_same = True
    for i, o in enumerate(sample[:50]):
        nodes, times = single.one_to_many(int(o), cutoff)
        row = np.full(n, np.inf)
        row[nodes] = times
        one_same = (one_same and np.array_equal(row, want[i])
                    and np.array_equal(np.lexsort((nodes, times)), np.arange(len(nodes))))
    print(f"  times bit-identical to scipy on 50 origins: many-to-many "
          f"{np.array_equal(got, want)}, one_to_many {one_same} (ordered by time, then node)")
    del od, got

    node_order(net, m2m_origins, cutoff, args.repeats)

    # ------------------------------------------------------------------ nearest vs min_only
    print("\nnearest facility, one multi-source search per type (1 thread):")
    for rep in range(args.repeats):
        t_sp = t_co = 0.0
        same = True
        for v in facilities.values():
            t0 = time.perf_counter()
            ref = dijkstra(mat, directed=True, indices=v, limit=cutoff, min_only=True)
            t_sp += time.perf_counter() - t0
            t0 = time.perf_counter()
            res = single.nearest(v, cutoff)
            t_co += time.perf_counter() - t0
            same = same and np.array_equal(res.time, ref)
        print(f"  round {rep + 1}: scipy min_only ×{len(TYPES)} {t_sp:.2f} s; cocity nearest "
              f"{t_co:.2f} s; RATIO {t_sp / t_co:.2f}×; bit-identical: {same}; "
              f"load {load_average()}")

    # ------------------------------------------------------------------ coverage
    t_cov, cov = median_time(lambda: router.coverage(facilities, cutoff), args.repeats)
    shares = cov.share()
    print(f"\ncocity coverage, all {n:,} origins × {len(TYPES)} types "
          f"(nearest time + count within {cutoff:g} min), {router._nthreads()} threads: "
          f"{t_cov:.2f} s")
    print("  share covered: " + ", ".join(f"{k} {v:.1%}" for k, v in shares.items()))
    t_near, _ = median_time(lambda: router.nearest_groups(list(facilities.values()), cutoff,
                                                          direction="to"), args.repeats)
    print(f"  of which nearest (6 multi-source searches): {t_near:.2f} s")
    is_fac = np.zeros((len(TYPES), n), dtype=bool)
    for j, v in enumerate(facilities.values()):
        is_fac[j, v] = True
    # "to" times run on the reversed graph (sums from the facility's end): scipy on the
    # transposed matrix is the same computation; the counts are checked on scipy's rows
    matT = mat.T.tocsr()
    ref = np.column_stack([dijkstra(matT, directed=True, indices=v, limit=cutoff,
                                    min_only=True) for v in facilities.values()])
    scipy_cnt = np.column_stack([(np.isfinite(want) & is_fac[j]).sum(axis=1)
                                 for j in range(len(TYPES))])
    print(f"  nearest times bit-identical to scipy min_only on the transposed graph: "
          f"{np.array_equal(cov.nearest, ref)}; counts equal to scipy's on "
          f"{len(want)} sampled origins: {np.array_equal(cov.counts[sample[:50]], scipy_cnt)}")

    # ------------------------------------------------------------------ pandana
    if args.no_pandana:
        print("\npandana: skipped (--no-pandana)")
    else:
        compare_pandana(net, facilities, cutoff, cov, t_cov, args)
    print(f"\npeak memory (max RSS, this process): {peak_mib():,.0f} MiB")


def node_order(net: Any, origins: np.ndarray, cutoff: float, repeats: int) -> None:
    """The same many-to-many searches on the grid with its nodes stored in random order (as an
    edge list in no particular order would be kept) and in the Z-order every cocity network
    builder stores (``Network.from_edges``/``from_lines``/``from_osm``), one thread."""
    from cocity.access.kernel import Router
    from cocity.access.network import Network

    rng = np.random.default_rng(7)
    n = net.n_nodes
    perm = rng.permutation(n)                    # position in the shuffled network -> old
    new = np.empty(n, dtype=np.int64)
    new[perm] = np.arange(n)
    arrays = {"node_ids": net.node_ids[perm], "x": net.x[perm], "y": net.y[perm],
              "u": new[net.tails()], "v": new[net.indices], "length": net.length,
              "oneway": np.ones(net.n_arcs, dtype=np.int8), "profile": "walk"}
    shuffled = Network.from_arrays(**arrays)
    t0 = time.perf_counter()
    zorder = Network.from_arrays(**arrays, spatial_order=True)
    t_z = time.perf_counter() - t0
    routers = {"random": Router(shuffled, threads=1), "z-order": Router(zorder, threads=1)}
    ids = net.node_ids[origins]
    print(f"\nnode order: many-to-many from the same {len(origins):,} origins, 1 thread "
          f"(building the z-ordered network from the shuffled arrays: {t_z:.1f} s)")
    nets = {"random": shuffled, "z-order": zorder}
    for rep in range(repeats):
        times, data = {}, {}
        for name, router in routers.items():
            orig = np.sort(nets[name].index_of(ids))   # each in its own memory order
            t0 = time.perf_counter()
            od = router.many_to_many(orig, cutoff)
            times[name] = (time.perf_counter() - t0) / len(orig)
            data[name] = np.sort(od.data)
        same = np.array_equal(data["random"], data["z-order"])
        print(f"  round {rep + 1}: random order {times['random'] * 1e6:.1f} µs per origin, "
              f"z-order {times['z-order'] * 1e6:.1f} µs "
              f"(RATIO {times['random'] / times['z-order']:.2f}×); same times: {same}; "
              f"load {load_average()}")


_EVICT: list[np.ndarray] = []


def evict_caches() -> None:
    """Write over 64 MiB (twice this machine's last-level cache), so that the next search
    starts from cold memory, as ``one_to_many`` does after scipy's loop."""
    if not _EVICT:
        _EVICT.append(np.zeros(8 << 20))
    _EVICT[0][::8] += 1.0


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def compare_pandana(net: Any, facilities: dict[str, np.ndarray], cutoff: float, cov: Any,
                    t_cov: float, args: argparse.Namespace) -> None:
    """pandana in a child process (a timeout for its preprocessing); smaller grid on timeout."""
    from cocity.access.kernel import Router

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
                proc = subprocess.run([args.pandana_python, __file__, "--pandana-worker", str(inp),
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
            router = Router(net, threads=args.threads)
            t_all, counts = all_node_counts(router, facilities, cutoff)
            t_all2, _ = all_node_counts(router, facilities, cutoff)
            t_all = min(t_all, t_all2)
            print(f"  cocity in pandana's formulation (a search from every node, counts per "
                  f"row; no preprocessing): {t_all:.2f} s, counts equal to coverage's in "
                  f"{float((counts == cov.counts).mean()):.3%} of cells (times summed from "
                  f"the other end can differ in the last bit at the cutoff); "
                  f"RATIO pandana aggregate / cocity: "
                  f"{float(res['t_cnt']) / t_all:.1f}×; load {load_average()}")
            return


def all_node_counts(router: Any, facilities: dict[str, np.ndarray], cutoff: float
                    ) -> tuple[float, np.ndarray]:
    """pandana's formulation: a bounded search from every node, counting facilities per row."""
    n = router.n
    t0 = time.perf_counter()
    od = router.many_to_many(np.arange(n), cutoff)
    od.data[:] = 1.0                                     # reached (a stored time may be 0)
    ind = np.zeros((n, len(facilities)))
    for j, v in enumerate(facilities.values()):
        np.add.at(ind[:, j], v, 1.0)
    counts = np.rint(od @ ind).astype(np.int64)
    return time.perf_counter() - t0, counts


def report_pandana(net: Any, res: Any, cov: Any, t_cov: float) -> None:
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
