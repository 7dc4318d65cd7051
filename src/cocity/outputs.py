"""The one low-level module through which every output file is written.

- :func:`atomic_output` / :func:`write_atomic`: a file is written to a temporary file beside
  its target and renamed into place, so a failure leaves the old file or none, never half a
  file (and no temporary file behind);
- :func:`sha256_file`: the file hasher (manifests, import logs, reuse checks);
- :func:`write_csv`, :func:`write_xlsx` (XlsxWriter), :func:`write_json`, :func:`write_gpkg`:
  the table, workbook, JSON and GeoPackage writers, all atomic;
- :func:`manifest`: the run manifest every command writes — kind, time, the provenance of its
  inputs (see :func:`cocity.data.provenance.provenance`), its configuration, library versions
  and the SHA-256 of every output file — and :func:`verify_outputs`, which re-hashes the files
  a manifest lists.

Nothing here knows about reports or the store: callers hand in frames, texts and provenance.
"""

from __future__ import annotations

import datetime as dt
import decimal
import errno
import hashlib
import json
import math
import numbers
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import cocity
from cocity.data.errors import CocityError
from cocity.i18n import both

MANIFEST_FORMAT = 2


class OutputError(CocityError):
    """An output could not be written (full disk, no permission, …); nothing was left behind."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _os_error(exc: OSError, target: Path) -> OutputError:
    key = {errno.ENOSPC: "error.output.disk_full", errno.EDQUOT: "error.output.disk_full",
           errno.EACCES: "error.output.permission", errno.EPERM: "error.output.permission",
           errno.EROFS: "error.output.permission"}.get(exc.errno or 0, "error.output.failed")
    return OutputError(both(key, path=str(target), reason=exc.strerror or str(exc)))


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` for the block to write (any writer: a file handle,
    openpyxl, GDAL); renamed over ``path`` when the block ends without error, removed
    otherwise, so ``path`` keeps its old content or none. An operating-system failure (full
    disk, no permission) becomes an :class:`OutputError` naming the file."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix or ".tmp",
                                   dir=target.parent)
        os.close(fd)
        os.unlink(tmp)  # the writer creates the file itself
    except OSError as exc:
        raise _os_error(exc, target) from exc
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 → the usual mode
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _os_error(exc, target) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_output(path: str | Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """A file handle for writing ``path`` atomically (see :func:`atomic_path`); the content
    is flushed to disk before the rename."""
    with atomic_path(path) as tmp:
        try:
            fh = (tmp.open("xb") if binary else tmp.open("x", encoding="utf-8", newline=""))
        except OSError as exc:
            raise _os_error(exc, Path(path)) from exc
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())


def write_atomic(content: str | bytes, path: str | Path) -> Path:
    """Write text (UTF-8) or bytes to ``path`` atomically (see :func:`atomic_output`)."""
    with atomic_output(path, binary=isinstance(content, bytes)) as fh:
        fh.write(content)
    return Path(path)


def replace_folder(tmp: Path, final: Path) -> None:
    """Move a completed temporary folder into place (the folder gets the usual mode)."""
    os.chmod(tmp, 0o777 & ~_umask())
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)


# ---------------------------------------------------------------------- hashes
def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------- JSON
def jsonable(obj: Any) -> Any:
    """Plain JSON data: numpy scalars and arrays, Series, tuples, sets, dates and paths
    converted, keys as text, non-finite floats as null."""
    import numpy as np
    import pandas as pd

    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return [jsonable(v) for v in sorted(obj, key=str)]
    if isinstance(obj, pd.Series):
        return jsonable(obj.to_dict())
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (dt.date, dt.datetime)):
        return obj.isoformat()
    if obj is pd.NA or obj is pd.NaT:
        return None
    return str(obj)


def dumps(obj: Any, *, indent: int = 2) -> str:
    """Deterministic JSON text (UTF-8 characters kept, a final newline)."""
    return json.dumps(jsonable(obj), ensure_ascii=False, indent=indent, allow_nan=False) + "\n"


def write_json(obj: Any, path: str | Path, *, indent: int = 2) -> Path:
    return write_atomic(dumps(obj, indent=indent), path)


# ---------------------------------------------------------------------- tables
def write_csv(frame: Any, path: str | Path, *, index: bool = False) -> Path:
    """A frame as UTF-8 CSV with ``\\n`` line ends (a byte-stable text for hashing)."""
    return write_atomic(frame.to_csv(index=index, lineterminator="\n"), path)


def write_xlsx(sheets: Mapping[str, Any], path: str | Path, *,
               index: Mapping[str, bool] | None = None,
               number_formats: Mapping[str, Mapping[str, str]] | None = None,
               widths: bool = True) -> Path:
    """One workbook, one sheet per frame (XlsxWriter), written atomically.

    ``index`` says per sheet whether the frame's index is written (default: no).
    ``number_formats`` maps sheet → column → an Excel number format (``0.0``, ``0``, ``0.0%``).
    Sheet names are cut to Excel's 31 characters; the header row is bold and frozen and
    columns are sized to their content when ``widths``. Cells are typed as pandas would
    write them: numbers, booleans, dates and texts; missing values are left empty and
    infinities written as the texts ``inf`` / ``-inf``. XlsxWriter streams the XML without a
    cell object per value (3–4× faster than openpyxl on an evaluation's workbook).
    """
    import xlsxwriter
    from xlsxwriter.exceptions import FileCreateError

    with atomic_path(path) as tmp:
        # nothing is written before close(): a failure on the way leaves no file
        book = xlsxwriter.Workbook(str(tmp), {"remove_timezone": True})
        header = book.add_format({"bold": True, "border": 1, "align": "center",
                                  "valign": "top"})
        styles: dict[str, Any] = {}

        def style(spec: str | None) -> Any:
            if spec and spec not in styles:
                styles[spec] = book.add_format({"num_format": spec})
            return styles.get(spec) if spec else None

        dates = style("yyyy-mm-dd"), style("yyyy-mm-dd hh:mm:ss")
        for name, frame in sheets.items():
            with_index = (index or {}).get(name, False)
            table = _sheet_table(frame, with_index)
            ws = book.add_worksheet(str(name)[:31])
            ws.freeze_panes(1, 1 if with_index else 0)
            formats = (number_formats or {}).get(name, {})
            for j, col in enumerate(table.columns):
                ws.write_string(0, j, str(col), header)
                values = table.iloc[:, j].tolist()
                _write_column(ws, j, values, style(formats.get(str(col))), *dates)
                if widths:
                    sample = [str(col)] + [str(v) for v in values[:200]]
                    width = max(_display_width(s) for s in sample)
                    ws.set_column(j, j, min(60, max(6, width + 2)))
        try:
            book.close()
        except FileCreateError as exc:  # the OSError inside: atomic_path names the file
            raise exc.args[0] from None
    return Path(path)


def _sheet_table(frame: Any, with_index: bool) -> Any:
    """The frame as written: its index as the first column(s) when ``with_index`` (an
    unnamed index under an empty header, as pandas writes it)."""
    if not with_index:
        return frame
    names = [n if n is not None else "" for n in frame.index.names]
    out = frame.copy()
    out.index = out.index.set_names([f"__index_{i}" for i in range(len(names))])
    out = out.reset_index()
    out.columns = names + list(out.columns[len(names):])
    return out


def _write_column(ws: Any, j: int, values: list[Any], number: Any, date: Any,
                  stamp: Any) -> None:
    """Column ``j`` from row 2: each value typed as pandas' ``to_excel`` types it."""
    import pandas as pd

    for i, v in enumerate(values, start=1):
        if v is None or v is pd.NA or v is pd.NaT:
            continue
        if isinstance(v, bool):
            ws.write_boolean(i, j, v)
        elif isinstance(v, (numbers.Real, decimal.Decimal)):
            x = float(v)
            if math.isnan(x):
                continue
            if math.isinf(x):
                ws.write_string(i, j, "inf" if x > 0 else "-inf")
            else:
                ws.write_number(i, j, v if isinstance(v, (int, float)) else x, number)
        elif isinstance(v, dt.datetime):
            ws.write_datetime(i, j, v, stamp)
        elif isinstance(v, dt.date):
            ws.write_datetime(i, j, v, date)
        else:
            ws.write_string(i, j, str(v))


def _display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: CJK characters count twice."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def write_gpkg(layers: Mapping[str, Any], path: str | Path) -> Path:
    """GeoDataFrames as the layers of one GeoPackage (pyogrio), written atomically; infinite
    values are written as nulls."""
    import warnings

    import numpy as np

    with atomic_path(path) as tmp:
        for name, frame in layers.items():
            clean = frame.copy()
            num = clean.select_dtypes("number").columns
            clean[num] = clean[num].replace([np.inf, -np.inf], np.nan)
            with warnings.catch_warnings():
                # a network without a CRS gives layers without one, as documented
                warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
                clean.to_file(tmp, layer=str(name), driver="GPKG", engine="pyogrio")
    return Path(path)


# ---------------------------------------------------------------------- manifest
def versions() -> dict[str, str]:
    """cocity, Python, NumPy and pandas versions and the platform (for the manifest)."""
    import numpy as np
    import pandas as pd

    return {"cocity": cocity.__version__, "python": platform.python_version(),
            "numpy": np.__version__, "pandas": pd.__version__,
            "platform": f"{sys.platform}-{platform.machine()}"}


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def file_entry(path: Path, root: Path) -> dict[str, Any]:
    """How a manifest lists one output: its path relative to ``root``, size and SHA-256."""
    return {"file": path.relative_to(root).as_posix(), "bytes": path.stat().st_size,
            "sha256": sha256_file(path)}


def manifest(kind: str, *, outputs: Mapping[str, Path], root: str | Path,
             provenance: Mapping[str, Any] | None = None,
             config: Mapping[str, Any] | None = None, **facts: Any) -> dict[str, Any]:
    """The run manifest: ``kind`` (the command), creation time, the provenance of the inputs,
    the configuration, any further ``facts``, library versions and every output file with its
    size and SHA-256 (paths relative to ``root``, the folder the manifest is written into)."""
    base = Path(root)
    return jsonable({
        "format": MANIFEST_FORMAT, "kind": kind, "created_utc": now_utc(),
        **({"provenance": dict(provenance)} if provenance is not None else {}),
        **({"config": dict(config)} if config is not None else {}),
        **facts,
        "versions": versions(),
        "outputs": {k: file_entry(Path(p), base) for k, p in sorted(outputs.items())},
    })


def verify_outputs(doc: Mapping[str, Any], root: str | Path) -> list[tuple[str, str]]:
    """Re-hash every output a manifest lists: ``(file, problem)`` for each file that is
    missing or whose bytes differ (``missing`` / ``changed``); an empty list when all hold."""
    base = Path(root)
    problems = []
    for entry in doc.get("outputs", {}).values():
        path = base / entry["file"]
        if not path.is_file():
            problems.append((entry["file"], "missing"))
        elif sha256_file(path) != entry["sha256"]:
            problems.append((entry["file"], "changed"))
    return problems
