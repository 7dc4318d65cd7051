"""What the fund's and the committee's pages share (``routes/fund.py``, ``routes/govern.py``):
reading a submitted form's fields, the once-per-form idempotency key, and a library refusal
shown in both languages.

* :func:`field` — one text field of a form, stripped, at most ``limit`` characters; required
  fields refused when empty (a :class:`~cocity.web.errors.PortalError`, bilingual).
* :func:`new_form_key` / :func:`form_key` — every form that books something carries a key made
  when the form was drawn (``web-`` and 32 random hex digits); the library call uses it as its
  idempotency key, so that a form submitted twice (a double click, a reload) books once. A
  key of another shape is refused, so that a form cannot claim a key the command line made.
* :class:`Shown` / :func:`shown` — a refusal for ``fund/_refusal.html``: in Chinese and
  English when the error carries its label and values (the ledger's and the register's
  refusals built from their class label), else the message as raised, in the request's
  language only.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from cocity.i18n import LANGS, current_lang, t
from cocity.web.errors import PortalError

KEY_RE = re.compile(r"web-[0-9a-f]{32}")
TEXT_LIMIT = 2000  # characters of a free-text field (a reason, a description)
LINE_LIMIT = 300  # characters of a one-line field (a title, a department, a name)


def field(form: FormData, name: str, *, required: bool = False,
          limit: int = LINE_LIMIT) -> str:
    """The stripped text of field ``name`` ('' when absent); refused when longer than
    ``limit`` characters, or empty when ``required``."""
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > limit:
        raise PortalError("web_pages.err.too_long", field=t(f"web_pages.field.{name}")
                          if f"web_pages.field.{name}" in _labels() else name, n=limit)
    if required and not text:
        raise PortalError("web_pages.err.required", field=t(f"web_pages.field.{name}")
                          if f"web_pages.field.{name}" in _labels() else name)
    return text


def field_raw(form: FormData, name: str) -> str:
    """A field as typed (to show the form again after a refusal), cut to ``TEXT_LIMIT``."""
    value = form.get(name)
    return value[:TEXT_LIMIT] if isinstance(value, str) else ""


def _labels() -> dict[str, Any]:
    from cocity.i18n import labels

    return labels()


def new_form_key() -> str:
    """A fresh idempotency key for one drawn form."""
    return "web-" + secrets.token_hex(16)


def form_key(form: FormData) -> str:
    """The form's idempotency key (field ``key``), checked for its shape."""
    value = form.get("key")
    key = value.strip() if isinstance(value, str) else ""
    if not KEY_RE.fullmatch(key):
        raise PortalError("web_pages.err.form_key")
    return key


@dataclass(frozen=True)
class Shown:
    """A refusal's text in each language it is known in."""

    texts: dict[str, str]

    def text(self, lang: str) -> str:
        return self.texts.get(lang) or next(iter(self.texts.values()))

    def lines(self, lang: str) -> list[tuple[str, str]]:
        """``(lang, text)`` to show: the page's language first, the other when it differs."""
        first = self.text(lang)
        return [(lang, first)] + [(o, self.texts[o]) for o in LANGS
                                  if o != lang and self.texts.get(o, first) != first]


def shown(exc: Exception) -> Shown:
    """``exc`` in both languages when it carries its label (``label``/``key``) and its values
    (``fmt``) and the message is that label's; else its message as raised."""
    if isinstance(exc, PortalError):
        return Shown({lang: exc.text(lang) for lang in LANGS})
    message = str(exc)
    label = getattr(exc, "key", None) or getattr(type(exc), "label", None)
    fmt = getattr(exc, "fmt", None)
    if isinstance(label, str) and isinstance(fmt, dict) and label in _labels():
        try:
            if t(label, current_lang(), **fmt) == message:
                return Shown({lang: t(label, lang, **fmt) for lang in LANGS})
        except (KeyError, IndexError, ValueError):
            pass  # the message was not built from this label: show it as raised
    return Shown({current_lang(): message})
