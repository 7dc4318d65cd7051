"""Integrity of the embedded chengyu dataset (and its reproducibility from shared/data)."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cocity.data.store import Store
from cocity.datasets import dataset_dir, open_store, read_indicators, read_observations, read_units
from cocity.datasets.build_chengyu import SPEC, build

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_sources = pytest.mark.skipif(not SHARED.is_dir(), reason="shared/data not beside the repo")


@pytest.fixture(scope="module")
def store() -> Store:
    return open_store()


def test_unit_list_matches_the_plan(store: Store) -> None:
    plan = yaml.safe_load((SPEC / "plan.yaml").read_text(encoding="utf-8"))
    units = store.units().set_index("code")
    counties = units[units.level == "county"]
    cq = counties[counties.index.str.startswith("50")]
    assert set(cq.index[cq.membership == "full"]) == set(plan["chongqing_full"])
    assert len(plan["chongqing_full"]) == 27
    assert set(cq.index[cq.membership == "partial"]) == {"500154", "500235"}  # 开州, 云阳
    assert len(cq) == 38  # every district and county of Chongqing
    prefectures = units[units.level == "prefecture"]
    assert len(prefectures) == 16 and "500100" in prefectures.index
    sc = counties[~counties.index.str.startswith("50")]
    assert set(sc.parent) == set(plan["sichuan_cities"])
    outside = set(sc.index[sc.membership == "outside"])
    assert outside == {"510726", "510727", "511781", "511825", "511827"}
    assert {"500000", "510000"} <= set(units.index[units.level == "province"])
    # Metropolitan areas: 成都都市圈 = 4 whole cities, 重庆都市圈 = 21 districts + 广安.
    cd = counties[counties.metro == "chengdu"]
    assert set(cd.parent) == {"510100", "510600", "511400", "512000"}
    cqm = counties[counties.metro == "chongqing"]
    assert (cqm.index.str.startswith("50")).sum() == 21
    assert set(cqm.index[~cqm.index.str.startswith("50")]) == set(
        counties.index[counties.parent == "511600"])


def test_county_populations_add_up_to_prefecture_totals(store: Store) -> None:
    units = store.units(level="county")
    pop = store.panel(["pop_total"]).reset_index()
    county = pop.merge(units[["code", "parent"]], left_on="unit", right_on="code")
    totals = pop.set_index(["unit", "year"])["pop_total"]
    checked = 0
    for (parent, year), grp in county.groupby(["parent", "year"]):
        members = units[units.parent == parent]
        if grp["pop_total"].notna().sum() < len(members):
            continue  # a county without a comparable 2010 figure (documented split)
        assert grp["pop_total"].sum() == pytest.approx(totals[(parent, year)], abs=2)
        checked += 1
    assert checked >= 16 + 13  # every prefecture in 2020, all but three in 2010


@needs_sources
def test_2010_prefectures_match_the_harmonised_city_table(store: Store) -> None:
    city = pd.read_csv(SHARED / "census-dong2022" / "census_city_2010-2020_v1.csv",
                       dtype={"city_code": str}, usecols=["city_code", "popu_2010", "popu_2020"])
    city = city.set_index("city_code")
    pop = store.panel(["pop_total"], level="prefecture")["pop_total"]
    for code in store.units(level="prefecture")["code"]:
        # The city table takes some 2010 figures from other gazettes: 遂宁 +68, 宜宾 −105
        # persons against the county yearbook. Agreement within 0.01 % is what can be asked.
        assert pop[(code, 2010)] == pytest.approx(city.at[code, "popu_2010"], rel=1e-4), code
        assert pop[(code, 2020)] == city.at[code, "popu_2020"], code


def test_every_indicator_has_catalog_metadata() -> None:
    cat = read_indicators()
    obs = read_observations()
    assert set(obs.indicator) <= set(cat.id)
    assert set(cat.id) <= set(obs.indicator)
    meta = ["name_zh", "name_en", "unit_zh", "unit_en", "direction", "value_kind",
            "definition_zh", "definition_en", "source", "license"]
    assert cat[meta].notna().all().all()
    assert set(cat.direction) == {1, -1, 0}
    # Descriptive indicators (no "more is better"): the sectoral structure and the land area.
    descriptive = set(cat.id[cat.direction == 0])
    assert descriptive == {i for i in cat.id if i.startswith("emp_share_")} | {"area_km2"}
    assert len(descriptive) == 21
    assert set(obs.unit) <= set(read_units().code)
    assert not obs.duplicated(["unit", "year", "indicator"]).any()


def test_values_are_in_range_and_provenance_is_set() -> None:
    obs = read_observations().merge(read_indicators().drop(columns="source"),
                                    left_on="indicator", right_on="id")
    share = obs[obs.value_kind == "share_pct"]
    assert share.value.between(0, 100).all()
    assert (obs[obs.value_kind.isin(["count", "ratio"])].value >= 0).all()
    assert obs.source.notna().all() and not obs.simulated.any() and not obs.imputed.any()
    # The census table of 2020 lists 3 age groups that sum to 100 (± rounding).
    ages = obs[obs.indicator.str.match(r"age_(0_14|15_64|65)_share") & (obs.year == 2020)]
    sums = ages.groupby("unit").value.sum()
    assert sums.between(99.8, 100.2).all()


def test_known_figures() -> None:
    """Spot checks against the published sources."""
    obs = read_observations().set_index(["unit", "year", "indicator"]).value
    assert obs[("510100", 2020, "pop_total")] == 20937757  # 成都, 七普
    assert obs[("500100", 2020, "pop_total")] == 32054159  # 重庆, 七普
    assert obs[("510100", 2019, "gdp")] == pytest.approx(17012.65)  # 成都 2019 GDP (亿元)
    # 2010 简阳 (then in 资阳) is now part of 成都: 14,047,625 + 1,071,214.
    assert obs[("510100", 2010, "pop_total")] == 14047625 + 1071214
    assert ("511603", 2010, "pop_total") not in obs.index  # 前锋区: split, not comparable


def test_boundaries_cover_units_and_are_compact() -> None:
    import geopandas as gpd

    geo = gpd.read_file(dataset_dir() / "boundaries.geojson")
    units = read_units()
    stat_zones = set(units.code[units.kind == "stat_zone"])
    assert set(geo.code) == set(units.code) - stat_zones
    assert geo.geometry.is_valid.all()
    assert (dataset_dir() / "boundaries.geojson").stat().st_size < 3_000_000


@needs_sources
def test_build_reproduces_the_package_data(tmp_path: Path) -> None:
    build(SHARED, tmp_path)
    for name in ("units.csv", "indicators.csv", "observations.csv", "dataset.yaml", "NOTICE.md"):
        assert filecmp.cmp(tmp_path / name, dataset_dir() / name, shallow=False), name
    # Boundaries: byte-identical with the same GEOS; another GEOS release may place a simplified
    # vertex differently, so the documented tolerance is the output precision (1e-4 degrees).
    if not filecmp.cmp(tmp_path / "boundaries.geojson", dataset_dir() / "boundaries.geojson",
                       shallow=False):
        import geopandas as gpd
        import shapely

        new = gpd.read_file(tmp_path / "boundaries.geojson").set_index("code").geometry
        old = gpd.read_file(dataset_dir() / "boundaries.geojson").set_index("code").geometry
        assert list(new.index) == list(old.index)
        assert shapely.equals_exact(shapely.normalize(new.values), shapely.normalize(old.values),
                                    tolerance=1e-4).all()
