"""The fund's chart of accounts: the accounting model, the kinds of account, their codes.

The accounting model (double entry, amounts in integer fen 分; a posting's amount is signed,
positive = debit, negative = credit; every entry's postings sum to zero):

==============================  ===========  ======  ============  ===========================
account (code)                  kind         normal  no overdraft  holds
==============================  ===========  ======  ============  ===========================
``source:<source>``             source       credit  no            money contributed by a
                                                                   source (中央财政补贴 …)
``cash``                        cash         debit   yes           received, not yet pooled
``pool:<use>``                  pool         debit   yes           pooled for a use, not yet
                                                                   earmarked
``commitment:<unit>:<use>``     commitment   debit   yes           earmarked for a recipient
                                                                   unit and use, not yet paid
``disbursed:<unit>:<use>``      disbursed    debit   no            paid out to the unit for
                                                                   the use
==============================  ===========  ======  ============  ===========================

A balance is kept in the account's *normal* direction (debit-normal: debits − credits;
credit-normal: credits − debits), so every balance of a sound ledger is ≥ 0; the accounts
flagged *no overdraft* refuse any entry that would take theirs below zero (I4: the fund cannot
pool, earmark or pay money it has not received). The entries of each operation:

* contribution ``contribute(source, a)``: Dr ``cash`` a / Cr ``source:<source>`` a
* pooling ``fund_pools({use: a})``: Dr ``pool:<use>`` a (each) / Cr ``cash`` Σa
* earmark ``post_allocation([(unit, use, a)])``: Dr ``commitment:<unit>:<use>`` a (each line)
  / Cr ``pool:<use>`` Σa per use
* disbursement (a request approved by another user): Dr ``disbursed:<unit>:<use>`` a /
  Cr ``commitment:<unit>:<use>`` a
* release ``release(unit, use)``: Dr ``pool:<use>`` r / Cr ``commitment:<unit>:<use>`` r, r
  the unspent rest
* reversal ``reverse(entry)``: the original's postings with their signs swapped.

Hence the identity checked by ``sources_and_uses`` and ``verify`` (I8): Σ contributed by the
sources = Σ disbursed + cash + Σ pools + Σ commitments (the money still held).

The sources and uses are data: a chart file (:class:`Chart`, the shipped default
``chart_chengyu.yaml`` names the four sources and three uses of 成渝地区双城经济圈民生协同基金),
stored in the records database when the fund is opened; the recipient units (GB/T 2260 codes
with names) are registered the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

import pydantic

from cocity.i18n import t
from cocity.spec import Spec, load_spec

SOURCE, CASH, POOL, COMMITMENT, DISBURSED = "source", "cash", "pool", "commitment", "disbursed"
KINDS = (SOURCE, CASH, POOL, COMMITMENT, DISBURSED)
NORMAL = {SOURCE: -1, CASH: 1, POOL: 1, COMMITMENT: 1, DISBURSED: 1}  # +1 debit, -1 credit
NO_OVERDRAFT = {SOURCE: False, CASH: True, POOL: True, COMMITMENT: True, DISBURSED: False}
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
UNIT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DEFAULT_CHART = "chart_chengyu.yaml"


class Name(Spec):
    """A bilingual name."""

    name_zh: str = pydantic.Field(min_length=1)
    name_en: str = pydantic.Field(min_length=1)


def _check_id(value: str) -> str:
    if not ID_PATTERN.match(value):
        raise ValueError(t("fund.chart.bad_id", ids=repr(value)))
    return value


def _not_empty(value: dict[str, Name]) -> dict[str, Name]:
    if not value:
        raise ValueError(t("fund.chart.empty"))
    return value


Ident = Annotated[str, pydantic.AfterValidator(_check_id)]
Names = Annotated[dict[Ident, Name], pydantic.AfterValidator(_not_empty)]


class Chart(Spec):
    """The fund's name, its sources and its uses (ids: lower-case letters, digits, ``_``)."""

    name_zh: str = pydantic.Field(min_length=1)
    name_en: str = pydantic.Field(min_length=1)
    sources: Names
    uses: Names


def load_chart(source: str | Path | Mapping[str, Any] | None = None) -> Chart:
    """The chart of accounts: the shipped default (``None``), a user's YAML file or a mapping;
    every problem at once as a :class:`cocity.spec.SpecError`."""
    return load_spec(Chart, source, package=__package__, default=DEFAULT_CHART)


def source_account(source: str) -> str:
    return f"{SOURCE}:{source}"


def pool_account(use: str) -> str:
    return f"{POOL}:{use}"


def commitment_account(unit: str, use: str) -> str:
    return f"{COMMITMENT}:{unit}:{use}"


def disbursed_account(unit: str, use: str) -> str:
    return f"{DISBURSED}:{unit}:{use}"


def units_table(units: Any) -> dict[str, tuple[str, str]]:
    """Recipient units as ``{code: (name_zh, name_en)}`` from a mapping ``code → name`` or
    ``code → (name_zh, name_en)``, a frame with ``code`` (and ``name_zh``/``name_en``), or an
    iterable of codes (the code is then the name)."""
    out: dict[str, tuple[str, str]] = {}
    if hasattr(units, "columns"):  # a pandas frame
        cols = set(units.columns)
        for row in units.to_dict("records"):
            code = str(row["code"])
            zh = str(row["name_zh"]) if "name_zh" in cols else code
            en = str(row["name_en"]) if "name_en" in cols else zh
            out[code] = (zh, en)
        return out
    if isinstance(units, Mapping):
        for code, name in units.items():
            if isinstance(name, str):
                out[str(code)] = (name, name)
            else:
                zh, en = name
                out[str(code)] = (str(zh), str(en))
        return out
    if isinstance(units, Iterable) and not isinstance(units, str | bytes):
        return {str(code): (str(code), str(code)) for code in units}
    raise TypeError(f"units must be a mapping, a frame or an iterable of codes, not {units!r}")
