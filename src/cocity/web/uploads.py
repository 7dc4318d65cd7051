"""Uploaded files: checked by extension AND content, kept under a name made from their SHA-256.

* The request body is limited while it is read (``upload.max_bytes``, 413; see
  :mod:`cocity.web.session`).
* The name the file came with is used only to read its extension and to be shown; it is never
  part of a path. The file is kept as ``<uploads_dir>/<kind>/<sha256>.<ext>``.
* ``.xlsx`` must be a ZIP archive holding ``[Content_Types].xml`` and ``xl/workbook.xml``;
  ``.csv`` must be text: no NUL byte, decodable as UTF-8 (with or without BOM) or GB 18030
  (which covers GBK).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from starlette.datastructures import UploadFile

from cocity.outputs import write_atomic
from cocity.web.errors import UploadRefused

ACCEPTED = (".csv", ".xlsx")
XLSX_PARTS = ("[Content_Types].xml", "xl/workbook.xml")


@dataclass(frozen=True)
class Upload:
    path: Path       # where it is kept
    name: str        # the name it came with (display only)
    sha256: str
    size: int


def display_name(filename: str | None) -> str:
    """The last component of an uploaded file's name, for display (never a path)."""
    raw = filename or ""
    name = PureWindowsPath(PurePosixPath(raw).name).name
    return "".join(c for c in name if c.isprintable())[:200] or "upload"


def check_content(data: bytes, suffix: str, name: str) -> None:
    """Refuse bytes that are not what the extension says (:class:`UploadRefused`)."""
    if suffix == ".xlsx":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError):
            raise UploadRefused("web.err.upload_content", name=name, kind="XLSX") from None
        if not all(part in names for part in XLSX_PARTS):
            raise UploadRefused("web.err.upload_content", name=name, kind="XLSX")
        return
    if b"\x00" in data:
        raise UploadRefused("web.err.upload_content", name=name, kind="CSV")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            data.decode(encoding)
            return
        except UnicodeDecodeError:
            continue
    raise UploadRefused("web.err.upload_content", name=name, kind="CSV")


async def receive(upload: UploadFile | str | None, *, kind: str, root: Path,
                  max_bytes: int) -> Upload:
    """Check ``upload`` and keep it under ``root/kind`` (see the module docstring)."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise UploadRefused("web.err.upload_missing")
    name = display_name(upload.filename)
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in ACCEPTED:
        raise UploadRefused("web.err.upload_type", name=name, accepted=", ".join(ACCEPTED))
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadRefused("web.err.too_large", status=413, mb=round(max_bytes / 1048576, 1))
    if not data:
        raise UploadRefused("web.err.upload_empty", name=name)
    check_content(data, suffix, name)
    digest = hashlib.sha256(data).hexdigest()
    folder = root / kind
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}{suffix}"
    if not path.exists():
        write_atomic(data, path)
    return Upload(path=path, name=name, sha256=digest, size=len(data))
