"""Out-of-core origin–destination matrices: built in tiles of origin rows, stored as Parquet.

Purpose
-------
A many-to-many travel-time matrix of a large region (hundreds of thousands of origins, a
15–60-minute cutoff) can outgrow memory. :func:`build_od_tiles` computes it one tile of
``tile_rows`` origins at a time with :meth:`cocity.access.kernel.Router.many_to_many`, keeps
the destination columns and writes each tile to its own Parquet file; :class:`TiledOD` opens
the folder and hands the tiles back one at a time as ``scipy.sparse.csr_matrix`` blocks, which
the measures of :mod:`cocity.access.measures` (2SFCA family, gravity, cumulative
opportunities, nearest-k) accept as ``cost`` and consume tile by tile. Peak memory is bounded
by one tile (plus the router's buffers and the per-origin / per-destination vectors), not by
the matrix.

Layout of a folder
------------------
- ``tile_000000.parquet`` … one file per tile of origin rows ``[k·tile_rows, (k+1)·tile_rows)``,
  columns ``row`` (int64, the origin's row in the whole matrix), ``col`` (int32, the
  destination's column) and ``cost`` (float64), sorted by ``row`` then ``col``; only the pairs
  reached within the cutoff are stored (a stored 0 is "here"; an absent pair is "not
  reachable", as everywhere in :mod:`cocity.access`). A tile may hold no pair.
- ``building.json``: the journal of a build in progress (the inputs' SHA-256 and the SHA-256
  of every tile written so far), rewritten atomically after each tile and removed at the end.
- ``manifest.json``: written **last** and atomically (``cocity.outputs.write_json``): format,
  shape, tile size, cutoff, units, number of stored pairs, the inputs' SHA-256, every tile with
  its rows, pairs and SHA-256, and the library versions. A folder without it is a build that
  did not finish: :meth:`TiledOD.open` refuses it (bilingual message) and
  :func:`build_od_tiles` with the same inputs resumes it, keeping every tile whose SHA-256
  matches the journal and recomputing the others. Every tile is re-hashed when it is read.

Costs
-----
``cost_ij = t(o_i, d_j) + origin_legs[i] + destination_legs[j]`` (added in that order, as
``cocity access measure`` adds the walks to and from the network), where ``t`` is the shortest
network time within ``cutoff``; the cutoff bounds the network time, the legs are added after.
Times are those of the kernel: identical to scipy's Dijkstra to the bit.

Source
------
Tiling by origin rows is the row-block decomposition of a sparse matrix (blocked CSR);
Parquet: Apache Parquet format specification, written with ``pyarrow``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numba import njit
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from cocity import outputs
from cocity.access.errors import AccessInputError
from cocity.i18n import t

if TYPE_CHECKING:
    from cocity.access.kernel import Router

FORMAT = "cocity.od_tiles"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
JOURNAL = "building.json"
_SCHEMA = pa.schema([("row", pa.int64()), ("col", pa.int32()), ("cost", pa.float64())])


class ODTilesError(AccessInputError):
    """A tiled OD folder that cannot be used: unfinished, damaged or built from other inputs."""


def tile_name(k: int) -> str:
    """The file name of tile ``k``."""
    return f"tile_{k:06d}.parquet"


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Tile:
    """One tile as listed in the manifest: its file, origin rows ``[start, stop)``, stored
    pairs and SHA-256."""

    file: str
    start: int
    stop: int
    nnz: int
    sha256: str


class TiledOD:
    """A tiled origin–destination matrix on disk (see the module docstring).

    Open it with :meth:`open`; :meth:`blocks` yields ``(start, csr_matrix)`` one tile at a time
    (rows ``start … start + block.shape[0] − 1`` of the whole matrix, every destination
    column), re-hashing each file against the manifest. Nothing else is held in memory.
    """

    def __init__(self, folder: Path, manifest: dict[str, Any]):
        self.folder = folder
        self.manifest = manifest
        self.shape: tuple[int, int] = (int(manifest["shape"][0]), int(manifest["shape"][1]))
        self.tile_rows = int(manifest["tile_rows"])
        cutoff = manifest["cutoff"]
        self.cutoff = float("inf") if cutoff is None else float(cutoff)
        self.units = str(manifest["units"])
        self.nnz = int(manifest["nnz"])
        self.tiles = [Tile(str(e["file"]), int(e["rows"][0]), int(e["rows"][1]),
                           int(e["nnz"]), str(e["sha256"])) for e in manifest["tiles"]]

    ndim = 2

    @classmethod
    def open(cls, folder: str | Path) -> TiledOD:
        """Open a finished folder: its manifest must be there and coherent (tiles covering the
        rows in order, every tile file present). A folder whose build did not finish, or
        that holds no tiled matrix, is refused with :class:`ODTilesError`."""
        root = Path(folder)
        doc = _read_json(root / MANIFEST)
        if doc is None:
            journal = _read_json(root / JOURNAL)
            if journal is not None:
                raise ODTilesError(t("access.odt.err.incomplete", folder=root,
                                     done=len(journal.get("tiles", {})),
                                     total=journal.get("n_tiles", "?")))
            raise ODTilesError(t("access.odt.err.not_tiles", folder=root))
        problem = _manifest_problem(doc)
        if problem:
            raise ODTilesError(t("access.odt.err.manifest", folder=root, problem=problem))
        od = cls(root, doc)
        missing = [tile.file for tile in od.tiles if not (root / tile.file).is_file()]
        if missing:
            raise ODTilesError(t("access.odt.err.tile_missing", folder=root,
                                 count=len(missing), first=missing[0]))
        return od

    def __repr__(self) -> str:
        return (f"TiledOD({str(self.folder)!r}, shape={self.shape}, tiles={len(self.tiles)}, "
                f"nnz={self.nnz})")

    def block(self, k: int) -> sparse.csr_matrix:
        """Tile ``k`` as a CSR matrix of its rows × every destination (file re-hashed)."""
        tile = self.tiles[k]
        path = self.folder / tile.file
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ODTilesError(t("access.odt.err.tile_missing", folder=self.folder, count=1,
                                 first=tile.file)) from exc
        if hashlib.sha256(raw).hexdigest() != tile.sha256:
            raise ODTilesError(t("access.odt.err.tile_changed", file=path))
        table = pq.read_table(pa.BufferReader(raw))
        return _tile_csr(table, tile, self.shape[1], path)

    def blocks(self) -> Iterator[tuple[int, sparse.csr_matrix]]:
        """``(start, block)`` for every tile in row order, one tile in memory at a time."""
        for k, tile in enumerate(self.tiles):
            yield tile.start, self.block(k)

    def to_csr(self) -> sparse.csr_matrix:
        """The whole matrix in memory (for matrices that fit: checks and small cases)."""
        parts = [b for _, b in self.blocks()]
        if not parts:
            return sparse.csr_matrix(self.shape, dtype=np.float64)
        out = sparse.vstack(parts, format="csr")
        return sparse.csr_matrix(out, shape=self.shape)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ODTilesError(t("access.odt.err.manifest", folder=path.parent,
                             problem=f"{path.name}: {exc}")) from exc
    return doc if isinstance(doc, dict) else None


def _manifest_problem(doc: dict[str, Any]) -> str | None:
    """What is wrong with a manifest, or ``None``."""
    if doc.get("format") != FORMAT or doc.get("format_version") != FORMAT_VERSION:
        return f"format {doc.get('format')!r} v{doc.get('format_version')!r}"
    try:
        n_rows, _ = (int(v) for v in doc["shape"])
        rows = [(int(e["rows"][0]), int(e["rows"][1])) for e in doc["tiles"]]
        int(doc["tile_rows"]), int(doc["nnz"]), str(doc["units"])
    except (KeyError, TypeError, ValueError) as exc:
        return f"field {exc}"
    expected = 0
    for start, stop in rows:
        if start != expected or stop <= start:
            return f"tile rows [{start}, {stop})"
        expected = stop
    if expected != n_rows:
        return f"tiles cover {expected} of {n_rows} rows"
    return None


def _tile_csr(table: pa.Table, tile: Tile, n_cols: int, path: Path) -> sparse.csr_matrix:
    """A tile's pairs (sorted by row) as CSR; a file that breaks the layout is refused."""
    if table.schema.names != _SCHEMA.names:
        raise ODTilesError(t("access.odt.err.tile_damaged", file=path,
                             problem=f"columns {table.schema.names}"))
    row = table.column("row").to_numpy().astype(np.int64, copy=False) - tile.start
    col = table.column("col").to_numpy().astype(np.int32, copy=False)
    cost = table.column("cost").to_numpy().astype(np.float64, copy=False)
    n = tile.stop - tile.start
    if len(row) and (row[0] < 0 or row[-1] >= n or not np.all(row[1:] >= row[:-1])
                     or col.min() < 0 or col.max() >= n_cols):
        raise ODTilesError(t("access.odt.err.tile_damaged", file=path,
                             problem="rows or columns out of range or unsorted"))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n), out=indptr[1:])
    return sparse.csr_matrix((cost, col, indptr), shape=(n, n_cols))


@njit(cache=True)
def _column_sums(out: Any, indptr: Any, indices: Any, w: Any, x: Any) -> None:  # pragma: no cover
    for i in range(len(indptr) - 1):
        xi = x[i]
        for k in range(indptr[i], indptr[i + 1]):
            out[indices[k]] += w[k] * xi


def add_column_sums(out: NDArray[np.float64], block: sparse.csr_matrix | Any,
                    w: NDArray[np.float64], x: NDArray[np.float64]) -> None:
    """``out[j] += Σ_i w_ij x_i`` over one block of rows (CSR pattern of ``block``, values
    ``w``), in place.

    **Algorithm**: pair by pair in storage order (rows in order, each row's pairs in order),
    ``out[j] += w_ij · x_i`` — the loop of scipy's ``csc_matvec``, which computes ``Wᵀ x`` for
    a CSR ``W``. Called block after block on the same ``out``, it adds every pair in the
    order the product over the whole matrix would, so the sums are the same to the bit
    however the rows are cut into tiles (tested against ``W.T @ x``). Compiled with numba
    (no ``fastmath``: no reordering); ``np.add.at`` gives the same bits 5× slower.
    """
    _column_sums(out, np.asarray(block.indptr), np.asarray(block.indices),
                 np.ascontiguousarray(w, dtype=np.float64),
                 np.ascontiguousarray(x, dtype=np.float64))


# ----------------------------------------------------------------------------- building


def _legs(values: ArrayLike | None, n: int, what: str) -> NDArray[np.float64] | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,) or not np.all(np.isfinite(arr) & (arr >= 0)):
        raise ODTilesError(t("access.odt.err.legs", what=what, n=n))
    return arr


def _fingerprint(router: Router, origins: NDArray[np.int64], dest: NDArray[np.int64],
                 o_leg: NDArray[np.float64] | None, d_leg: NDArray[np.float64] | None,
                 cutoff: float | None, tile_rows: int, units: str) -> str:
    """SHA-256 of everything the tiles depend on: graph arrays, nodes, legs and parameters."""
    h = hashlib.sha256()
    g = router.graph
    for arr in (g.indptr, g.indices, g.weights, origins, dest):
        h.update(np.ascontiguousarray(arr).tobytes())
        h.update(b"|")
    for leg in (o_leg, d_leg):
        h.update(b"-" if leg is None else leg.tobytes())
        h.update(b"|")
    h.update(json.dumps([cutoff, tile_rows, units]).encode())
    return h.hexdigest()


def _write_tile(path: Path, start: int, m: sparse.csr_matrix,
                o_leg: NDArray[np.float64] | None, d_leg: NDArray[np.float64] | None) -> None:
    row = np.repeat(np.arange(start, start + m.shape[0], dtype=np.int64), np.diff(m.indptr))
    cost = m.data
    if o_leg is not None:
        cost = cost + o_leg[row]
    if d_leg is not None:
        cost = cost + d_leg[m.indices]
    table = pa.table({"row": row, "col": m.indices.astype(np.int32, copy=False),
                      "cost": np.asarray(cost, dtype=np.float64)}, schema=_SCHEMA)
    with outputs.atomic_path(path) as tmp:
        # snappy: Parquet's default codec; zstd saved 11 % of the bytes but took 3× longer to
        # write and 6× longer to read (2.4M pairs: 0.95 s / 0.74 s against 0.31 s / 0.12 s)
        pq.write_table(table, tmp, compression="snappy", row_group_size=max(1, len(row)))


def _tile_times(router: Router, origins: NDArray[np.int64], cutoff: float | None,
                dest: NDArray[np.int64]) -> sparse.csr_matrix:
    """One tile's times (origins × destinations, sorted rows), as ``many_to_many`` gives them.

    Destinations in increasing node order (every node, or a sorted subset) are kept from a
    search to every node by a column map, which keeps the rows sorted: ``many_to_many`` with
    ``destinations`` checks them with ``np.unique`` on every call, which took 2 s per call for
    10⁶ destinations here (NumPy 2.4) — more than the tile's searches. The searches, and so the
    times, are the same either way; other orders go through ``destinations``.
    """
    if len(dest) > 1 and not np.all(np.diff(dest) > 0):
        return router.many_to_many(origins, cutoff, destinations=dest)
    m = router.many_to_many(origins, cutoff)
    if len(dest) == router.n:      # increasing and distinct: every node, in order
        return m
    col_of = np.full(router.n, -1, dtype=np.int32)
    col_of[dest] = np.arange(len(dest), dtype=np.int32)
    cols = col_of[m.indices]
    keep = cols >= 0
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    indptr = np.zeros(m.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=m.shape[0]), out=indptr[1:])
    return sparse.csr_matrix((m.data[keep], cols[keep], indptr), shape=(m.shape[0], len(dest)))


def build_od_tiles(graph: Any, origins: ArrayLike, destinations: ArrayLike,
                   folder: str | Path, *, cutoff: float | None, tile_rows: int,
                   origin_legs: ArrayLike | None = None,
                   destination_legs: ArrayLike | None = None, units: str = "minutes",
                   on_tile: Callable[[int, int], None] | None = None) -> TiledOD:
    """Build a tiled OD matrix (origins × destinations) in ``folder`` and open it.

    **Algorithm**: the origins are cut into tiles of ``tile_rows`` consecutive rows; for each
    tile, one :meth:`Router.many_to_many` call (bounded Dijkstra from each origin, parallel over
    origins, only the ``destinations`` columns kept, rows sorted) gives the network times
    within ``cutoff``; the legs are added (``t + origin_legs[i] + destination_legs[j]``) and the
    tile is written atomically to Parquet, then the journal records its SHA-256. The manifest
    is written last (see the module docstring). Memory: one tile's pairs at a time.

    **Resume**: if ``folder`` holds an unfinished build of the *same* inputs (graph, origins,
    destinations, legs, cutoff, tile size and units, compared by SHA-256), the tiles whose
    SHA-256 matches the journal are kept and only the others computed; a finished folder of
    the same inputs is opened as it is. A folder built from other inputs is refused
    (:class:`ODTilesError`): choose another folder or delete it.

    ``graph`` is a :class:`Router` or anything it accepts; ``destinations`` must be distinct
    nodes; ``origins`` may repeat. ``on_tile(done, total)`` is called after each tile.
    """
    from cocity.access.kernel import Router

    router = graph if isinstance(graph, Router) else Router(graph)
    if isinstance(tile_rows, bool) or not isinstance(tile_rows, int | np.integer) \
            or tile_rows < 1:
        raise ODTilesError(t("access.odt.err.tile_rows", value=tile_rows))
    tile_rows = int(tile_rows)
    orig = router._nodes(origins, "origins")
    dest = router._nodes(destinations, "destinations")
    if len(dest) and np.bincount(dest, minlength=router.n).max() > 1:
        raise AccessInputError(t("access.net.err.dest_duplicates"))
    o_leg = _legs(origin_legs, len(orig), "origin_legs")
    d_leg = _legs(destination_legs, len(dest), "destination_legs")
    c = None if cutoff is None or cutoff == float("inf") else float(cutoff)
    digest = _fingerprint(router, orig, dest, o_leg, d_leg, c, tile_rows, units)
    root = Path(folder)
    bounds = [(a, min(a + tile_rows, len(orig))) for a in range(0, len(orig), tile_rows)]

    done = _resume(root, digest)
    if done is None:   # finished earlier with the same inputs
        return TiledOD.open(root)
    root.mkdir(parents=True, exist_ok=True)
    journal: dict[str, Any] = {"format": FORMAT, "inputs_sha256": digest,
                               "n_tiles": len(bounds), "tiles": done}
    if not done:
        outputs.write_json(journal, root / JOURNAL)
    for k, (a, b) in enumerate(bounds):
        name = tile_name(k)
        if name not in done:
            m = _tile_times(router, orig[a:b], c, dest)
            _write_tile(root / name, a, m, o_leg, d_leg)
            done[name] = {"sha256": outputs.sha256_file(root / name), "nnz": int(m.nnz)}
            outputs.write_json(journal, root / JOURNAL)
        if on_tile is not None:
            on_tile(k + 1, len(bounds))
    doc = {"format": FORMAT, "format_version": FORMAT_VERSION, "created_utc": outputs.now_utc(),
           "shape": [len(orig), len(dest)], "tile_rows": tile_rows, "cutoff": c,
           "units": units, "nnz": sum(int(e["nnz"]) for e in done.values()),
           "inputs_sha256": digest,
           "columns": {"row": "int64", "col": "int32", "cost": "float64"},
           "tiles": [{"file": tile_name(k), "rows": [a, b], "nnz": done[tile_name(k)]["nnz"],
                      "sha256": done[tile_name(k)]["sha256"]}
                     for k, (a, b) in enumerate(bounds)],
           "versions": outputs.versions()}
    outputs.write_json(doc, root / MANIFEST)
    (root / JOURNAL).unlink(missing_ok=True)
    return TiledOD.open(root)


def _resume(root: Path, digest: str) -> dict[str, dict[str, Any]] | None:
    """The tiles already done (name → sha256, nnz) that still check; ``None`` when the folder
    holds a finished build of the same inputs. Other inputs are refused."""
    if not root.exists():
        return {}
    doc = _read_json(root / MANIFEST)
    if doc is not None:
        if doc.get("inputs_sha256") != digest:
            raise ODTilesError(t("access.odt.err.other_inputs", folder=root))
        return None
    journal = _read_json(root / JOURNAL)
    if journal is None:
        if any(root.iterdir()):
            raise ODTilesError(t("access.odt.err.not_empty", folder=root))
        return {}
    if journal.get("inputs_sha256") != digest:
        raise ODTilesError(t("access.odt.err.other_inputs", folder=root))
    kept: dict[str, dict[str, Any]] = {}
    for name, entry in dict(journal.get("tiles", {})).items():
        path = root / name
        if path.is_file() and outputs.sha256_file(path) == entry.get("sha256"):
            kept[name] = entry
    return kept
