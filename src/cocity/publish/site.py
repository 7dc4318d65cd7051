"""``build_site``: the static, bilingual public site of the signed editions.

Layout (Chinese at the root, English under ``en/`` at the same paths)::

    index.html                          editions in force, signatures, build time
    editions/<year>/index.html          map of grades, ranking with rank intervals, lists,
                                        methodology and provenance, open data
    editions/<year>/units/<code>.html   the unit in that edition
    editions/<year>/data/               <year>-*.csv, <year>.xlsx, <year>.json, dictionary,
                                        SHA256SUMS
    units/index.html, units/<code>.html every unit across the editions (stable URL)
    diagnostics/<year>.html             cocity diagnose for the edition's year
    fund/index.html, committee/index.html
    api/v1/editions.json, api/v1/editions/<year>.json, api/v1/units.json,
    api/v1/units/<code>.json
    assets/site.css, site.js, units-index.js
    SHA256SUMS, manifest.json

An edition's pages, units and data depend on that edition alone (no build time, no list of the
other editions), so publishing again after a new edition leaves them byte-identical. Files are
compared with what is on disk and only those that differ are written (each atomically); files
of an earlier build that are no longer part of the site are removed; ``manifest.json`` (with the
build time) is written last.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cocity
from cocity.i18n import LANGS, both
from cocity.outputs import OutputError, dumps, manifest, now_utc, sha256_bytes, write_atomic
from cocity.publish import api
from cocity.publish.editions import Edition, EditionError, edition_history
from cocity.publish.editions import editions as editions_in_force
from cocity.publish.opendata import edition_files
from cocity.publish.render import environment, page_path, render_page
from cocity.publish.sources import Published, load_published

if TYPE_CHECKING:
    from cocity.data.store import Store
    from cocity.records import Records

Progress = Callable[[str, int, int], None]
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
ASSETS = ("site.css", "site.js")


@dataclass(frozen=True)
class SiteResult:
    """What a build wrote: ``pages`` (HTML files), ``files`` (all files), ``changed`` (files
    written because they were new or differed), ``removed`` (stale files), the manifest."""

    out: Path
    pages: int
    files: int
    changed: int
    removed: int
    years: tuple[int, ...]
    manifest: Path
    diagnostics_s: float = 0.0

    @property
    def home(self) -> Path:
        return self.out / "index.html"


def _units_js(index: dict[str, Any]) -> bytes:
    rows = [[u["unit"], u["name_zh"], u["name_en"], u["level"]] for u in index["units"]]
    return ("window.COCITY_UNITS = " + json.dumps(rows, ensure_ascii=False) + ";\n").encode()


class _Site:
    def __init__(self, store: Store, records: Records | None, published: list[Published],
                 history: list[Edition], diagnostics: bool, progress: Progress | None) -> None:
        self.store = store
        self.records = records
        self.published = published
        self.history = history
        self.env = environment()
        self.files: dict[str, bytes] = {}
        self.diagnostics = diagnostics
        self.progress = progress or (lambda stage, done, total: None)
        self.diag_seconds = 0.0
        geo = store.geodata()
        self.geo = geo[geo.geometry.notna() & ~geo.geometry.is_empty]

    def page(self, template: str, path: str, **context: Any) -> None:
        for lang in LANGS:
            html = render_page(self.env, template, path, lang, **context)
            self.files[page_path(path, lang)] = html.encode("utf-8")

    def build(self, built: str) -> None:
        from cocity.publish import pages

        for name in ASSETS:
            self.files[f"assets/{name}"] = resources.files("cocity.publish").joinpath(
                "assets", name).read_bytes()
        docs = [api.edition_document(p, history=self.history) for p in self.published]
        units = api.units_index(self.published)
        self.files["assets/units-index.js"] = _units_js(units)
        self.files["api/v1/units.json"] = dumps(units).encode()
        self.files["api/v1/editions.json"] = dumps(api.editions_index(
            self.published, history=self.history)).encode()
        n = len(docs) + 3
        for i, (pub, doc) in enumerate(zip(self.published, docs, strict=True)):
            self.progress("pages", i, n)
            year = pub.year
            self.files[f"api/v1/editions/{year}.json"] = dumps(doc).encode()
            data = edition_files(doc)
            for name, body in data.items():
                self.files[f"editions/{year}/data/{name}"] = body
            self.page("edition.html.j2", f"editions/{year}/index.html",
                      **pages.edition_context(doc, data, self.geo))
            for level in doc["levels"]:
                for row in level["ranking"]:
                    self.page("edition_unit.html.j2",
                              f"editions/{year}/units/{row['unit']}.html",
                              **pages.edition_unit_context(doc, level, row, pub))
        self.progress("pages", len(docs), n)
        for code in api.unit_codes(self.published):
            doc_u = api.unit_document(code, self.published)
            assert doc_u is not None
            self.files[f"api/v1/units/{code}.json"] = dumps(doc_u).encode()
            self.page("unit.html.j2", f"units/{code}.html", unit=doc_u)
        self.page("units.html.j2", "units/index.html", units=units["units"])
        years = sorted({p.year for p in self.published})
        if self.diagnostics:
            import time

            self.progress("diagnostics", len(docs) + 1, n)
            start = time.perf_counter()
            for year in years:
                self.page("diagnostics.html.j2", f"diagnostics/{year}.html",
                          **pages.diagnostics_context(self.store, year, self.geo))
            self.diag_seconds = time.perf_counter() - start
        self.progress("pages", len(docs) + 2, n)
        from cocity.publish.sections import committee_section, fund_section
        from cocity.report.fund_report import cell_text

        self.page("fund.html.j2", "fund/index.html", fund=fund_section(self.records),
                  cell=cell_text)
        self.page("committee.html.j2", "committee/index.html",
                  **pages.committee_context(committee_section(self.records)))
        self.page("home.html.j2", "index.html", docs=docs, history=self.history,
                  built=built, version=cocity.__version__, years=years,
                  diagnostics=self.diagnostics)
        self.progress("pages", n, n)


def _write(out: Path, files: dict[str, bytes]) -> tuple[int, int]:
    """Write the files that differ from what is on disk; remove the previous build's files
    that are no longer part of the site. Returns (changed, removed)."""
    changed = 0
    for rel, body in sorted(files.items()):
        path = out / rel
        if path.is_file() and path.stat().st_size == len(body) and path.read_bytes() == body:
            continue
        write_atomic(body, path)
        changed += 1
    removed = 0
    old = out / MANIFEST
    if old.is_file():
        try:
            listed = json.loads(old.read_text(encoding="utf-8")).get("outputs", {})
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            listed = {}
        for entry in listed.values():
            rel = str(entry.get("file", ""))
            if rel and rel not in files and ".." not in Path(rel).parts:
                (out / rel).unlink(missing_ok=True)
                removed += 1
    return changed, removed


def build_site(*, out: str | Path, store: Store, records: Records | None,
               runs_root: str | Path, editions: Sequence[Edition] | None = None,
               progress: Progress | None = None, diagnostics: bool = True) -> SiteResult:
    """Build the whole site into ``out`` (see the module docstring) from the editions in force
    of ``records`` (or the ``editions`` given), their run folders under ``runs_root`` and the
    boundaries and data of ``store``. ``records`` ``None``: no records store (no editions can
    be read then, so ``editions`` must be given; the fund and committee pages say nothing is
    recorded). Raises :class:`EditionError` when there is no edition to publish."""
    report = progress or (lambda stage, done, total: None)
    report("read", 0, 0)
    history = edition_history(records) if records is not None else list(editions or [])
    chosen = list(editions) if editions is not None else (
        editions_in_force(records) if records is not None else [])
    if not chosen:
        raise EditionError("publish.err.no_editions",
                           db=getattr(records, "where", "—"),
                           command="cocity publish --sign latest --evaluator 评价机构名称")
    published = [load_published(e, runs_root) for e in chosen]
    site = _Site(store, records, published, history, diagnostics, progress)
    built = now_utc()
    site.build(built)
    target = Path(out)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(both("publish.err.out", out=str(target),
                               reason=exc.strerror or exc)) from None
    files = dict(site.files)
    files[SUMS] = "".join(f"{sha256_bytes(b)}  {n}\n" for n, b in sorted(files.items())
                          ).encode("utf-8")
    report("write", 0, len(files))
    changed, removed = _write(target, files)
    doc = manifest("cocity publish", outputs={n: target / n for n in files}, root=target,
                   editions=[e.public() for e in chosen], built_utc=built)
    path = write_atomic(dumps(doc), target / MANIFEST)
    report("write", len(files), len(files))
    return SiteResult(target, sum(1 for n in files if n.endswith(".html")), len(files) + 1,
                      changed, removed, tuple(p.year for p in published), path,
                      site.diag_seconds)
