"""Rendering one page of the static site in one language.

Chinese pages live at the root, English pages under ``en/`` at the same paths. Every link is
relative (``root`` is the way back to the site's root from the page), so the site works from
``file://`` and from any static server. The pages load one stylesheet and two scripts from
``assets/`` and obey a strict Content-Security-Policy given in a ``<meta>`` tag: nothing inline,
no request outside the site.
"""

from __future__ import annotations

import posixpath
from typing import Any

import jinja2

from cocity.i18n import LANGS, t

CSP = ("default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "font-src 'none'; connect-src 'none'; frame-src 'none'; object-src 'none'; "
       "base-uri 'none'; form-action 'none'")


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("cocity.publish", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["num"] = number
    return env


def number(value: Any, digits: int = 2) -> str:
    """A figure as shown: ``—`` when missing, else rounded to ``digits`` decimals."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{float(value):,.{digits}f}"


def page_path(path: str, lang: str) -> str:
    """Where the page ``path`` (relative to the root, e.g. ``editions/2020/index.html``) is
    written for ``lang``."""
    return path if lang == "zh" else f"en/{path}"


def relative(target: str, page: str) -> str:
    """The relative link from the file ``page`` to the file ``target`` (both root-relative)."""
    return posixpath.relpath(target, posixpath.dirname(page) or ".")


def render_page(env: jinja2.Environment, template: str, path: str, lang: str,
                **context: Any) -> str:
    """The HTML of page ``path`` in ``lang``: links with ``link(p)`` (a page in the same
    language), ``asset(p)`` (a shared file), ``other`` (this page in the other language)."""
    written = page_path(path, lang)
    other_lang = next(lg for lg in LANGS if lg != lang)

    def link(target: str) -> str:
        return relative(page_path(target, lang), written)

    def asset(target: str) -> str:
        return relative(target, written)

    def label(key: str, **fmt: Any) -> str:
        return t(key, lang, **fmt)

    def pick(row: Any, field: str) -> Any:
        return row.get(f"{field}_{lang}") or row.get(f"{field}_zh")

    return env.get_template(template).render(
        lang=lang, other_lang=other_lang, path=path, link=link, asset=asset, L=label,
        pick=pick, csp=CSP, other=relative(page_path(path, other_lang), written),
        root=relative("index.html", written).removesuffix("index.html"), **context)
