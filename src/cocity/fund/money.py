"""Amounts as people write them and as the ledger keeps them: yuan (元) in, integer fen (分)
inside, yuan with two decimals out.

``parse_yuan("1.5亿") == 15_000_000_000`` fen. Accepted: a decimal number of yuan with at
most two decimals after any multiplier is applied, thousands separators (``,`` ``，`` or
``_``), an optional ``元`` and one multiplier suffix ``万`` (10⁴) or ``亿`` (10⁸). The
conversion is exact (:class:`decimal.Decimal`); an amount that is not a whole number of fen,
negative (no sign is accepted), zero (unless allowed), beyond the database's 64-bit range or
not a plain decimal number (no exponent) is refused with a bilingual :class:`AmountTextError`
naming the text.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from cocity.data.errors import CocityError
from cocity.i18n import t

MAX_FEN = 2**63 - 1  # the database's BIGINT
MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}


class AmountTextError(CocityError):
    """A text that is not an amount of yuan in whole fen."""

    def __init__(self, text: str) -> None:
        super().__init__(t("fund.money.err", text=text))


def parse_yuan(text: str | int | Decimal, *, zero: bool = False) -> int:
    """Integer fen of an amount of yuan written ``text`` (see the module doc)."""
    raw = str(text).strip()
    body = raw.replace(",", "").replace("，", "").replace("_", "").replace(" ", "")
    body = body.removesuffix("元")
    factor = Decimal(1)
    if body[-1:] in MULTIPLIERS:
        factor, body = MULTIPLIERS[body[-1]], body[:-1]
    if not body or any(c not in "0123456789." for c in body):
        raise AmountTextError(raw)
    try:
        yuan = Decimal(body) * factor
    except InvalidOperation:
        raise AmountTextError(raw) from None
    fen = yuan * 100
    if fen != fen.to_integral_value() or fen > MAX_FEN or (fen == 0 and not zero):
        raise AmountTextError(raw)
    return int(fen)


def format_yuan(fen: int) -> str:
    """``123456789`` fen → ``"1,234,567.89"`` (yuan, two decimals, thousands separated)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"
