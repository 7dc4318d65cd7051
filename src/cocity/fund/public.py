"""The fund's public view as JSON-able documents: what anyone may read of the books (the
portal's ``/api/v1/fund/…`` and any published copy say the same).

Public: the fund's name, every account's balance (fen) with its kind, source, use and unit,
the sources and uses (contributed by source; pooled, committed and disbursed by use and by
unit), whether they reconcile, and the head of the hash chain (its sequence number and hash,
so that anyone can later check that the books they were shown were not rewritten). NOT
public: who booked or approved what (logins), the free-text reasons and documents of entries
and requests, idempotency keys — as :mod:`cocity.govern.export` keeps logins and reasons out
of the committee's published log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cocity.fund.ledger import Ledger


def _fund(ledger: Ledger) -> dict[str, Any]:
    info = ledger.fund()
    seq, head = ledger.head()
    return {"fund": info.name, "fund_en": info.name_en, "illustrative": info.illustrative,
            "head_seq": int(seq), "head_hash": head}


def _records(frame: Any, columns: list[str]) -> list[dict[str, Any]]:
    rows = frame[columns].astype(object).where(frame[columns].notna(), None)
    return [{k: (int(v) if k.endswith("_fen") else v) for k, v in r.items()}
            for r in rows.to_dict("records")]


def balances_document(ledger: Ledger, *, nonzero: bool = False) -> dict[str, Any]:
    """Every account's balance in its normal direction (``nonzero``: only the accounts that
    hold something), with the fund's name and chain head."""
    frame = ledger.balances(nonzero=nonzero)
    return {**_fund(ledger), "accounts": _records(
        frame, ["account", "kind", "source", "use", "unit", "normal", "balance_fen"])}


def sources_and_uses_document(ledger: Ledger) -> dict[str, Any]:
    """Where the money came from and where it is (fen): totals, by source, by use, by unit,
    and whether contributed = disbursed + held (held = cash + pools + commitments)."""
    sau = ledger.sources_and_uses()
    return {
        **_fund(ledger),
        "contributed_fen": sau.contributed_fen, "cash_fen": sau.cash_fen,
        "pooled_fen": sau.pooled_fen, "committed_fen": sau.committed_fen,
        "disbursed_fen": sau.disbursed_fen, "held_fen": sau.held_fen,
        "reconciles": sau.reconciles,
        "sources": _records(sau.sources, ["source", "name_zh", "name_en", "contributed_fen"]),
        "uses": _records(sau.uses, ["use", "name_zh", "name_en", "pooled_fen", "committed_fen",
                                    "disbursed_fen"]),
        "units": _records(sau.units, ["unit", "name_zh", "name_en", "use", "committed_fen",
                                      "disbursed_fen"]),
    }
