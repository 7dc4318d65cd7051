"""Administrative units and name matching.

Users type unit names in many ways: ``成都``, ``成都市``, ``Chengdu``, ``510100`` or, for names that
repeat across prefectures, a qualified name such as ``内江市市中区`` / ``Neijiang Shizhong``.
:class:`UnitIndex` resolves all of them to the GB/T 2260 code.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

import pandas as pd

from cocity.data.errors import AmbiguousUnitError, UnitNotFoundError
from cocity.i18n import t

# Longest first, so that 自治县 is stripped before 县.
_ZH_SUFFIXES = (
    "土家族苗族自治县", "苗族土家族自治县", "藏族羌族自治州", "土家族自治县", "彝族自治县",
    "羌族自治县", "藏族自治县", "藏族自治州", "彝族自治州", "自治县", "自治州",
    "地区", "省", "市", "区", "县",
)
_EN_SUFFIXES = (
    "autonomouscounty", "autonomousprefecture", "municipality", "prefecture", "province",
    "district", "county", "city",
)
_CODE = re.compile(r"^\d{6}(\d{6})?(\.0+)?$")
# When one name matches units of several levels (重庆市 is a province-level unit and, in
# cocity, a prefecture-level city), the first level in this order wins unless one is asked for.
LEVEL_PREFERENCE = ("prefecture", "county", "province")


def normalize(text: object) -> str:
    """NFKC-fold, lower-case and drop spaces, dots, dashes and apostrophes."""
    s = unicodedata.normalize("NFKC", str(text)).casefold()
    return re.sub(r"[\s\.\-'’_·]", "", s)


def _keys(name_zh: str, name_en: str) -> set[str]:
    keys = {normalize(name_zh), normalize(name_en)}
    zh = normalize(name_zh)
    for suf in _ZH_SUFFIXES:
        if zh.endswith(suf) and len(zh) > len(suf):
            keys.add(zh[: -len(suf)])
            break
    en = normalize(name_en)
    for suf in _EN_SUFFIXES:
        if en.endswith(suf) and len(en) > len(suf):
            keys.add(en[: -len(suf)])
            break
    return {k for k in keys if k}


class UnitIndex:
    """Resolve what people type to GB/T 2260 codes.

    Matching order: a 6-digit code (a 12-digit statistical code is cut to its first six digits);
    an exact or suffix-less Chinese or English name (``成都市``, ``成都``, ``Chengdu``,
    ``Chengdu City``); a name qualified by its parent (``内江市市中区``, ``Neijiang Shizhong``).
    A name matching units at several levels resolves by :data:`LEVEL_PREFERENCE`; a name matching
    several units at one level raises :class:`AmbiguousUnitError` listing them.
    """

    def __init__(self, units: pd.DataFrame):
        self.units = units.set_index("code", drop=False) if "code" in units else units
        self._by_key: dict[str, set[str]] = defaultdict(set)
        for code, zh, en in zip(units["code"], units["name_zh"], units["name_en"], strict=True):
            for k in _keys(str(zh), str(en)):
                self._by_key[k].add(str(code))
        self._children: dict[str, list[str]] = defaultdict(list)
        for code, parent in zip(units["code"], units["parent"], strict=True):
            if isinstance(parent, str) and parent:
                self._children[parent].append(str(code))

    def __contains__(self, code: object) -> bool:
        return str(code) in self.units.index

    def candidates(self, text: object) -> set[str]:
        """Every code that ``text`` could mean (empty set if none)."""
        plain = unicodedata.normalize("NFKC", str(text)).strip()
        if _CODE.match(plain):  # 6-digit code, 12-digit statistical code, or Excel's 510100.0
            code = plain[:6]
            return {code} if code in self.units.index else set()
        raw = normalize(plain)
        found = set(self._by_key.get(raw, set()))
        if found:
            return found
        # Qualified by parent: <parent key><child key> (every split of the text is tried).
        for cut in range(1, len(raw)):
            parents = self._by_key.get(raw[:cut])
            if not parents:
                continue
            for child in self._by_key.get(raw[cut:], set()):
                if any(child in self._children[p] for p in parents):
                    found.add(child)
        return found

    def resolve(self, text: object, level: str | None = None) -> str:
        """Return the code of the one unit that ``text`` names, or raise a helpful error."""
        found = self.candidates(text)
        if level is not None:
            found = {c for c in found if self.units.at[c, "level"] == level}
        if not found:
            at_level = t("error.at_level", level=level) if level else ""
            raise UnitNotFoundError(t("error.unit_not_found", text=text, at_level=at_level))
        if len(found) > 1 and level is None:
            levels = {c: self.units.at[c, "level"] for c in found}
            for lv in LEVEL_PREFERENCE:
                at = {c for c in found if levels[c] == lv}
                if at:
                    found = at
                    break
        if len(found) > 1:
            listed = ", ".join(sorted(f"{self.qualified_name(c)} ({c})" for c in found))
            raise AmbiguousUnitError(t("error.unit_ambiguous", text=text, listed=listed))
        return found.pop()

    def qualified_name(self, code: str) -> str:
        row = self.units.loc[code]
        parent = row["parent"]
        if isinstance(parent, str) and parent in self.units.index and row["level"] == "county":
            return f"{self.units.at[parent, 'name_zh']!s}{row['name_zh']!s}"
        return str(row["name_zh"])

    def resolve_all(self, texts: Iterable[object], level: str | None = None) -> list[str]:
        return [self.resolve(t, level) for t in texts]
