"""The records store's public sections of the site: the fund's books and the committee's
statistics, read through their own modules' public reads (``fund_books``, ``statistics``).
Each returns ``None`` when the store holds nothing of the kind, so the page says so."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cocity.records import Records

HIDDEN_COLUMNS = ("actor",)  # logins are not published (as the committee's export)


def fund_section(records: Records | None) -> dict[str, Any] | None:
    """The fund's statements, sources and uses, latest allocation and checks, or ``None``."""
    if records is None:
        return None
    from cocity.fund.ledger import Ledger
    from cocity.fund.ledger_errors import FundNotOpenError
    from cocity.report.fund_tables import fund_books

    ledger = Ledger(records)
    try:
        ledger.fund()
    except FundNotOpenError:
        return None
    allocs = ledger.allocations()
    doc = None
    if len(allocs):
        doc = ledger.allocation_detail(str(allocs.iloc[-1]["key"]))
    books = fund_books(ledger, allocation=doc)
    for tb in books.tables.values():
        tb.columns = [c for c in tb.columns if c.key not in HIDDEN_COLUMNS]
    return {"books": books, "head": books.head, "illustrative": books.illustrative,
            "problems": len(books.problems)}


def committee_section(records: Records | None) -> Any:
    """The committee's statistics as of today in China, or ``None`` without cases."""
    if records is None:
        return None
    from cocity.govern.stats import statistics

    stats = statistics(records)
    return stats if stats.cases else None
