"""Amounts as text → integer fen, exactly (cocity.fund.money)."""

from __future__ import annotations

import pytest

from cocity.fund.money import AmountTextError, format_yuan, parse_yuan


@pytest.mark.parametrize(("text", "fen"), [
    ("1", 100), ("0.01", 1), ("12,345.67", 1_234_567), ("12，345.67元", 1_234_567),
    ("300万", 300_000_000), ("1.5亿", 15_000_000_000), ("0.000001万", 1),
    ("4亿", 40_000_000_000), (" 7 ", 700), ("1_000", 100_000),
])
def test_parse_yuan_is_exact(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["-5", "0", "0.001", "abc", "", "1.2.3", "1e400", "nan",
                                  "0.0000001万", "5万万", "1e3", "+5", "99999999999999999999亿"])
def test_parse_yuan_refuses(text: str) -> None:
    with pytest.raises(AmountTextError, match=r"元|yuan"):
        parse_yuan(text)


def test_zero_only_when_allowed() -> None:
    assert parse_yuan("0", zero=True) == 0


def test_format_yuan() -> None:
    assert format_yuan(123_456_789) == "1,234,567.89"
    assert format_yuan(-5) == "-0.05"
    assert format_yuan(0) == "0.00"
    assert parse_yuan(format_yuan(98_765_432_101)) == 98_765_432_101
