"""PDF output of reports: an HTML string (inline SVG figures, a print stylesheet) → one PDF.

WeasyPrint lays out the page (A4, page numbers in the footer from CSS ``@page``) and embeds
subsets of the system fonts it finds through fontconfig — Noto Sans CJK SC for Chinese
(Debian: fonts-noto-cjk). It runs no JavaScript, so pages meant for print draw their figures
with :mod:`cocity.report.svg`. Nothing is fetched from the network: only ``data:`` and
``file:`` URLs are loaded. The file is written atomically.
"""

from __future__ import annotations

import base64
import html as htmllib
import re
from pathlib import Path
from typing import Any

from cocity.data.errors import CocityError
from cocity.i18n import both
from cocity.outputs import atomic_output
from cocity.report.style import FONT_STACK

# The page box every PDF gets (a user stylesheet, so a report's own CSS may override it).
PAGE_CSS = f"""
@page {{
  size: A4;
  margin: 18mm 16mm 20mm 16mm;
  @bottom-center {{
    content: counter(page) " / " counter(pages);
    font-family: {FONT_STACK};
    font-size: 9pt;
    color: #666666;
  }}
}}
html {{ font-family: {FONT_STACK}; }}
"""

# The print stylesheet report templates include (``<style>{{ PRINT_CSS }}</style>``): A4 with
# margins and page numbers, the CJK font stack, compact tables whose rows and figures are never
# split across pages, headings kept with what follows them.
PRINT_CSS = PAGE_CSS + f"""
html {{ font-size: 10.5pt; line-height: 1.5; color: #222222; }}
body {{ margin: 0; font-family: {FONT_STACK}; }}
h1 {{ font-size: 18pt; margin: 0 0 6mm; line-height: 1.3; }}
h2 {{ font-size: 14pt; margin: 8mm 0 3mm; border-bottom: 0.5pt solid #999999; }}
h3 {{ font-size: 11.5pt; margin: 5mm 0 2mm; }}
h1, h2, h3, h4 {{ break-after: avoid; page-break-after: avoid; }}
p, li {{ orphans: 2; widows: 2; }}
table {{ border-collapse: collapse; width: 100%; margin: 2mm 0 4mm; font-size: 9pt; }}
thead {{ display: table-header-group; }}
tr, th, td {{ break-inside: avoid; page-break-inside: avoid; }}
th, td {{ border-bottom: 0.4pt solid #cccccc; padding: 1.2mm 2mm; text-align: left;
          vertical-align: top; }}
th {{ background: #f0f0f0; font-weight: bold; border-bottom: 0.8pt solid #888888; }}
td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
caption {{ caption-side: top; text-align: left; font-weight: bold; margin-bottom: 1mm; }}
figure {{ margin: 3mm 0 5mm; break-inside: avoid; page-break-inside: avoid; }}
figcaption {{ font-size: 9pt; color: #555555; margin-top: 1mm; }}
svg, img {{ max-width: 100%; height: auto; }}
.page-break {{ break-before: page; page-break-before: always; }}
.no-print, script, noscript {{ display: none; }}
"""


class PdfUnavailableError(CocityError):
    """WeasyPrint or one of its system libraries (Pango) is missing."""


class PdfRenderError(CocityError):
    """WeasyPrint could not lay out or write the document."""


def _weasyprint() -> Any:
    """The weasyprint module, or a :class:`PdfUnavailableError` saying what to install."""
    try:
        import weasyprint
    except ImportError as exc:  # the package itself
        raise PdfUnavailableError(both("error.pdf_unavailable", reason=str(exc))) from exc
    except OSError as exc:  # cffi could not load Pango / GObject
        raise PdfUnavailableError(both("error.pdf_unavailable", reason=str(exc))) from exc
    return weasyprint


def cjk_font_count() -> int:
    """How many fonts covering Chinese (``:lang=zh``) fontconfig finds — the fonts WeasyPrint
    would use — through the fontconfig library itself (no ``fc-list`` needed); 0 without
    fontconfig."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("fontconfig")
    if name is None:
        return 0
    try:
        fc = ctypes.CDLL(name)
    except OSError:
        return 0

    class FontSet(ctypes.Structure):
        _fields_ = [("nfont", ctypes.c_int), ("sfont", ctypes.c_int),
                    ("fonts", ctypes.c_void_p)]

    fc.FcInitLoadConfigAndFonts.restype = ctypes.c_void_p
    fc.FcNameParse.restype = ctypes.c_void_p
    fc.FcNameParse.argtypes = [ctypes.c_char_p]
    fc.FcObjectSetBuild.restype = ctypes.c_void_p
    fc.FcObjectSetBuild.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    fc.FcFontList.restype = ctypes.POINTER(FontSet)
    fc.FcFontList.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    for free in ("FcPatternDestroy", "FcObjectSetDestroy", "FcConfigDestroy"):
        getattr(fc, free).argtypes = [ctypes.c_void_p]
    fc.FcFontSetDestroy.argtypes = [ctypes.POINTER(FontSet)]
    config = fc.FcInitLoadConfigAndFonts()
    if not config:
        return 0
    pattern = fc.FcNameParse(b":lang=zh")
    objects = fc.FcObjectSetBuild(b"family", None)
    found = fc.FcFontList(config, pattern, objects)
    count = int(found.contents.nfont) if found else 0
    if found:
        fc.FcFontSetDestroy(found)
    fc.FcObjectSetDestroy(objects)
    fc.FcPatternDestroy(pattern)
    fc.FcConfigDestroy(config)
    return count


def require_cjk_font() -> None:
    """Raise :class:`PdfUnavailableError` when no font covers Chinese: WeasyPrint would draw
    boxes for every Chinese character, so no PDF is better than an unreadable one."""
    if cjk_font_count() == 0:
        raise PdfUnavailableError(both("error.pdf_no_cjk_font"))


def pdf_possible(wanted: bool, warnings: list[str]) -> bool:
    """Whether to write the PDFs asked for (``wanted``): only when a font covers Chinese;
    otherwise the reason is added to ``warnings`` and the other outputs go ahead."""
    if not wanted:
        return False
    try:
        require_cjk_font()
    except PdfUnavailableError as exc:
        warnings.append(str(exc))
        return False
    return True


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


LOCAL_SCHEMES = ("data", "file")


def offline_url_fetcher() -> Any:
    """A WeasyPrint URL fetcher that loads only ``data:`` and ``file:`` URLs, so a report never
    reaches the network (WeasyPrint logs a refused URL and leaves the resource out). WeasyPrint
    ≥ 68 takes a ``URLFetcher`` with allowed protocols; older versions a function."""
    weasyprint = _weasyprint()
    if hasattr(weasyprint, "URLFetcher"):
        return weasyprint.URLFetcher(allowed_protocols=LOCAL_SCHEMES)
    default = weasyprint.default_url_fetcher

    def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
        if url.split(":", 1)[0].lower() not in LOCAL_SCHEMES:
            raise ValueError(f"URI uses disallowed protocol: {url}")
        return default(url, *args, **kwargs)

    return fetch


def load_engine() -> None:
    """Load WeasyPrint and the fonts covering Chinese once (a tiny page laid out in memory), so
    that processes forked afterwards to write PDFs (:mod:`cocity.report.background`) start
    with them loaded; the caller's own PDFs are faster too."""
    weasyprint = _weasyprint()
    weasyprint.HTML(string=f"<p style='font-family: {FONT_STACK}'>中文 English</p>").write_pdf()


_INLINE_SVG = re.compile(r"<svg\b[^>]*>.*?</svg>", re.DOTALL)
_SVG_CLASS = re.compile(r'^<svg\b[^>]*?\sclass="([^"]*)"')
_SVG_TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL)


def svg_as_images(html: str) -> str:
    """Every inline ``<svg>…</svg>`` of ``html`` as an ``<img>`` of the same SVG (a
    ``data:image/svg+xml`` URL, its class kept, its ``<title>`` as the ``alt`` text).

    WeasyPrint draws both the same way (the pages are pixel-identical), but the elements of an
    inline SVG also go through its HTML parser and CSS cascade: as images, an evaluation
    report's PDF takes about 13 % less CPU. The figures of :mod:`cocity.report.svg` never
    nest an ``<svg>``."""
    def image(match: re.Match[str]) -> str:
        svg = match.group(0)
        if "xmlns=" not in svg[: svg.index(">")]:
            svg = svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1)
        cls = _SVG_CLASS.match(svg)
        title = _SVG_TITLE.search(svg)
        data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
        attrs = f' class="{cls.group(1)}"' if cls else ""
        alt = htmllib.escape(htmllib.unescape(title.group(1)), quote=True) if title else ""
        return f'<img{attrs} alt="{alt}" src="data:image/svg+xml;base64,{data}">'

    return _INLINE_SVG.sub(image, html)


def write_pdf(html: str, path: str | Path, *, base_url: str | Path | None = None) -> Path:
    """Render the HTML string ``html`` to a PDF at ``path`` and return the path.

    The page is A4 with page numbers in the footer (``PAGE_CSS``, which the document's own
    styles, e.g. :data:`PRINT_CSS`, may override); fonts come from the system through
    fontconfig and are embedded as subsets; inline SVG figures are drawn as images
    (:func:`svg_as_images`). ``base_url`` resolves relative URLs (a folder or
    file; only local files and ``data:`` URLs are loaded). A document with Chinese text and
    no font covering Chinese raises :class:`PdfUnavailableError` (no PDF with boxes for
    glyphs). The PDF is written to a temporary
    file beside ``path`` and renamed into place, so a failure leaves the old file or none and
    no temporary file behind.
    """
    weasyprint = _weasyprint()
    if _has_cjk(html):
        require_cjk_font()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    base = None
    if base_url is not None:
        base = str(base_url) if "://" in str(base_url) else Path(base_url).resolve().as_uri()
        if Path(base_url).is_dir() and not base.endswith("/"):
            base += "/"
    with atomic_output(target, binary=True) as fh:
        try:
            document = weasyprint.HTML(string=svg_as_images(html), base_url=base,
                                       url_fetcher=offline_url_fetcher())
            document.write_pdf(fh, stylesheets=[weasyprint.CSS(string=PAGE_CSS)])
        except (OSError, CocityError):
            raise
        except Exception as exc:  # layout or font errors inside WeasyPrint
            raise PdfRenderError(both("error.pdf_failed", reason=repr(exc))) from exc
    return target
