"""The shipped cluster definitions (src/cocity/clusters/definitions/*.yaml): each loads,
resolves against the national base, has the member count its plan document states, and
``chengyu`` is exactly the embedded dataset's circle."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cocity.clusters.build import cluster_data
from cocity.clusters.definition import (
    Cluster,
    ClusterSpec,
    Resolved,
    load_cluster,
    resolve,
    shipped,
    user_cluster,
)
from cocity.clusters.errors import ClusterError
from cocity.datasets import read_units

# What each plan document states — facts read from the documents (see each file's `document`
# and `verified_*`), not outputs of the code:
# key: (prefecture-level members in the national base, members it does not hold,
#       {prefecture name: number of its counties the document names} for partial members)
DOCUMENT_COUNTS: dict[str, tuple[int, int, dict[str, int]]] = {
    # 成渝纲要 前言: 重庆 27个区（县）以及开州、云阳的部分地区 (29 counties, Chongqing counted as
    # one prefecture-level unit), 四川 15个市; 绵阳除2县 (9−2), 达州除万源市 (8−1),
    # 雅安除2县 (8−2)
    "chengyu": (16, 0, {"重庆市": 29, "绵阳市": 7, "达州市": 7, "雅安市": 6}),
    # 长三角纲要 前言: 27个城市为中心区
    "yangtze_delta": (27, 0, {}),
    # 京津冀协同发展规划纲要: 北京、天津、河北 — 2 municipalities and Hebei's 11 cities
    "jingjinji": (13, 0, {}),
    # 粤港澳大湾区纲要 前言: 香港、澳门和珠三角九市
    "greater_bay_area": (9, 2, {}),
    # 成都都市圈发展规划 前言: 成都、德阳、眉山、资阳全域
    "chengdu_metro": (4, 0, {}),
    # 重庆都市圈发展规划: 重庆主城都市区21个区和广安市全域
    "chongqing_metro": (2, 0, {"重庆市": 21}),
    # 南京都市圈发展规划: 8市全域及常州市金坛区和溧阳市
    "nanjing_metro": (9, 0, {"常州市": 2}),
    # 西安都市圈发展规划: 西安市全域，咸阳市8个区县（秦都…武功）及杨凌示范区（杨陵区），
    # 铜川市耀州区，渭南市临渭区、华州区、富平县
    "xian_metro": (4, 0, {"咸阳市": 9, "铜川市": 1, "渭南市": 3}),
}

CHENGYU_UNITS = Path(__file__).resolve().parents[1] / "src/cocity/datasets/chengyu/units.csv"


@pytest.fixture(scope="module")
def china() -> pd.DataFrame:
    return read_units("china")


@pytest.fixture(scope="module")
def resolved(china: pd.DataFrame) -> dict[str, Resolved]:
    return {key: resolve(load_cluster(key), china) for key in shipped()}


def name_of(china: pd.DataFrame, code: str) -> str:
    return str(china.set_index("code").at[code, "name_zh"])


def test_every_shipped_file_has_its_documented_count() -> None:
    # a new definition must come with the count its document states
    assert sorted(DOCUMENT_COUNTS) == shipped()


@pytest.mark.parametrize("key", sorted(DOCUMENT_COUNTS))
def test_definition_matches_its_document(key: str, china: pd.DataFrame,
                                         resolved: dict[str, Resolved]) -> None:
    cluster = load_cluster(key)
    spec = cluster.spec
    doc = spec.document
    assert doc is not None
    for text in (doc.title_zh, doc.title_en, doc.issuer_zh, doc.where_zh, doc.quote_zh,
                 spec.verified_zh, spec.verified_en):
        assert text.strip()
    assert doc.url == "" or doc.url.startswith("https://www.gov.cn/")
    n_members, n_absent, partial = DOCUMENT_COUNTS[key]
    res = resolved[key]
    assert len(res.members) == n_members
    assert len(spec.absent) == n_absent
    got_partial = {name_of(china, code): len(counties)
                   for code, counties in res.members.items() if counties is not None}
    assert got_partial == partial
    assert res.cores and set(res.cores) <= set(res.members)
    # every county a definition names belongs to the prefecture it is listed under
    parent = china.set_index("code")["parent"]
    for code, counties in res.members.items():
        assert all(parent[c] == code for c in counties or ())


def test_kinds() -> None:
    kinds = {key: load_cluster(key).spec.kind for key in shipped()}
    assert {k for k, v in kinds.items() if v == "metropolitan_area"} == {
        "chengdu_metro", "chongqing_metro", "nanjing_metro", "xian_metro"}


def test_chengyu_is_the_embedded_dataset(china: pd.DataFrame) -> None:
    data = cluster_data(load_cluster("chengyu"))
    got = data.units.set_index("code")
    want = pd.read_csv(CHENGYU_UNITS, dtype=str).set_index("code")
    assert set(got.index) == set(want.index)
    for level in ("province", "prefecture"):
        assert (got.loc[got.level == level, "membership"].sort_index().to_dict()
                == want.loc[want.level == level, "membership"].sort_index().to_dict())
    inside = got[(got.level == "county") & (got.membership != "outside")].index
    want_inside = want[(want.level == "county") & (want.membership != "outside")].index
    assert set(inside) == set(want_inside)
    assert len(inside) == 144
    # 开州、云阳: partial in the dataset, whole counties here (the base has no townships)
    assert set(want.index[want.membership == "partial"]) & set(want_inside) == {"500154",
                                                                               "500235"}
    assert (got.metro.fillna("").sort_index().to_dict()
            == want.metro.fillna("").sort_index().to_dict())
    # the Chongqing metro takes 21 of Chongqing's districts: 涪陵 is in it, 万州 only in
    # the circle
    assert got.at["500102", "metro"] == "chongqing"
    assert pd.isna(got.at["500101", "metro"])
    assert got.at["500101", "membership"] == "full"
    assert sorted(data.network["cores"]) == ["500100", "510100"]
    assert data.network["rail"] != {}


def test_jingjinji_is_three_whole_provinces() -> None:
    units = cluster_data(load_cluster("jingjinji")).units
    pref = units[units.level == "prefecture"]
    prov = units[units.level == "province"]
    assert len(pref) == 13 and set(pref.membership) == {"full"}
    assert sorted(prov.code) == ["110000", "120000", "130000"]
    assert set(prov.membership) == {"full"}
    assert set(units.loc[units.level == "county", "membership"]) == {"full"}
    # 定州、辛集 are county-level cities inside Baoding and Shijiazhuang
    assert {"130682", "130181"} <= set(units.code)


def test_greater_bay_area_lists_hong_kong_and_macao_as_absent() -> None:
    cluster = load_cluster("greater_bay_area")
    assert [a.name_zh for a in cluster.spec.absent] == ["香港特别行政区", "澳门特别行政区"]
    units = cluster_data(cluster).units
    assert set(units.loc[units.level == "province", "code"]) == {"440000"}
    assert units.loc[units.code == "440000", "membership"].item() == "partial"
    assert (units.level == "prefecture").sum() == 9


def test_nanjing_metro_takes_two_counties_of_changzhou() -> None:
    units = cluster_data(load_cluster("nanjing_metro")).units.set_index("code")
    assert units.at["320400", "membership"] == "partial"
    changzhou = units[units.parent == "320400"]
    assert set(changzhou.index[changzhou.membership == "full"]) == {"320413", "320481"}
    assert set(changzhou.membership) == {"full", "outside"}
    # two provinces, neither whole
    assert units.loc[["320000", "340000"], "membership"].tolist() == ["partial", "partial"]


def test_county_level_city_under_a_province_is_a_member(china: pd.DataFrame) -> None:
    # 仙桃、潜江、天门 are county-level units directly under Hubei, members on their own
    res = resolve(user_cluster(["武汉", "仙桃", "潜江市", "天门"], key="wuhan_test"), china)
    assert res.members == {"420100": None, "429004": None, "429005": None, "429006": None}
    units = cluster_data(user_cluster(["武汉", "仙桃"], key="wuhan_test")).units
    assert units.loc[units.code == "429004", "membership"].item() == "full"
    assert units.loc[units.code == "420000", "membership"].item() == "partial"


def test_a_metro_county_must_be_in_its_prefecture(china: pd.DataFrame) -> None:
    spec = ClusterSpec.model_validate({
        "name_zh": "测试", "name_en": "Test", "kind": "city_cluster",
        "members": ["重庆市", "广安市"],
        "metros": {"m": {"name_zh": "测", "name_en": "T",
                         "members": [{"unit": "重庆市", "counties": ["渝中区", "广安区"]}]}}})
    with pytest.raises(ClusterError, match="广安区"):
        resolve(Cluster(key="t", spec=spec, source="<test>"), china)
