"""Shared fixtures: a tiny hand-made store (not real data) for unit tests of the data layer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# pytest-xdist's workers inherit COLUMNS=80; the command-line tests read whole messages from a
# Rich console that sizes itself from COLUMNS when it is set, so let it choose as in one process.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from cocity.data.store import Store


def tiny_units() -> pd.DataFrame:
    pref, dist = "prefecture_city", "district"
    rows = [
        ("510000", "四川省", "Sichuan Province", "province", None, "province", None, None, None),
        ("511000", "内江市", "Neijiang City", "prefecture", "510000", pref, "full", "node", None),
        ("511100", "乐山市", "Leshan City", "prefecture", "510000", pref, "full", "node", None),
        ("511002", "市中区", "Shizhong District", "county", "511000", dist, "full", "node", None),
        ("511011", "东兴区", "Dongxing District", "county", "511000", dist, "full", "node", None),
        ("511102", "市中区", "Shizhong District", "county", "511100", dist, "full", "node", None),
        ("511111", "沙湾区", "Shawan District", "county", "511100", dist, "full", "hinterland",
         None),
    ]
    cols = ["code", "name_zh", "name_en", "level", "parent", "kind", "membership", "tier", "metro"]
    df = pd.DataFrame(rows, columns=cols)
    df["lon"] = [104.0, 105.05, 103.76, 105.06, 105.07, 103.76, 103.55]
    df["lat"] = [30.6, 29.58, 29.55, 29.58, 29.59, 29.55, 29.41]
    return df


def tiny_catalog() -> pd.DataFrame:
    return pd.DataFrame([
        ("pop_total", "常住人口", "Resident population", "人", "persons", 1, "count",
         "普查常住人口", "Census resident population", "test", "CC0"),
        ("urban_share", "城镇化率", "Urban share", "%", "%", 1, "share_pct",
         "城镇人口占常住人口比重", "Urban population / resident population × 100", "test", "CC0"),
        ("illiteracy_rate", "文盲率", "Illiteracy rate", "%", "%", -1, "share_pct",
         "15岁及以上文盲人口比重", "Illiterate share of population 15+", "test", "CC0"),
    ], columns=["id", "name_zh", "name_en", "unit_zh", "unit_en", "direction", "value_kind",
                "definition_zh", "definition_en", "source", "license"])


def tiny_observations() -> pd.DataFrame:
    rows = []
    for code, pop, urb in (("511002", 337106, 80.1), ("511011", 754120, 55.0),
                           ("511102", 814597, 70.2), ("511111", 144931, 40.0)):
        rows.append((code, 2020, "pop_total", pop))
        rows.append((code, 2020, "urban_share", urb))
    df = pd.DataFrame(rows, columns=["unit", "year", "indicator", "value"])
    df["source"] = "test"
    df["imputed"] = False
    df["simulated"] = False
    return df


@pytest.fixture
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages in English for the duration of a test (the default language is Chinese)."""
    monkeypatch.setenv("COCITY_LANG", "en")


def tiny_boxes() -> gpd.GeoDataFrame:
    """A 0.2° square around each tiny unit's point, as its boundary."""
    units = tiny_units()
    boxes = [shapely.box(x - 0.1, y - 0.1, x + 0.1, y + 0.1)
             for x, y in zip(units.lon, units.lat, strict=True)]
    return gpd.GeoDataFrame({"code": units.code}, geometry=boxes, crs="EPSG:4326")


def fill_tiny(store: Store) -> Store:
    """Add the tiny units, catalog, observations and boxes to ``store``."""
    store.add_units(tiny_units())
    store.add_indicators(tiny_catalog())
    store.add_observations(tiny_observations())
    store.add_geometries(tiny_boxes(), datum="WGS-84")
    return store


@pytest.fixture
def tiny_store() -> Store:
    return fill_tiny(Store.open(None))


# -- the records store and the fund's ledger: every test parametrised over SQLite and a REAL
# PostgreSQL server started here (tests/postgres.py); without PostgreSQL those tests fail.
LEDGER_UNITS = {"510300": ("自贡市", "Zigong"), "510400": ("攀枝花市", "Panzhihua"),
                "500101": ("万州区", "Wanzhou")}
WHO = {"actor": "wang", "role": "fund_manager"}
CHECKER = {"actor": "li", "role": "fund_approver"}


@pytest.fixture(scope="session")
def postgres_server():
    from tests.postgres import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def records_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A new, empty records database: an SQLite file, or a database on the test server."""
    if request.param == "sqlite":
        return str(tmp_path / "records.sqlite")
    return request.getfixturevalue("postgres_server").create_database()


@pytest.fixture
def records(records_url: str):
    from cocity.records import open_records

    opened = open_records(records_url)
    yield opened
    opened.close()


@pytest.fixture
def ledger(records):
    """A ledger with the shipped chart and three recipient units."""
    from cocity.fund.ledger import Ledger

    book = Ledger(records)
    book.open_fund(units=LEDGER_UNITS)
    return book


@pytest.fixture(scope="session")
def unit_index():
    """The name matching of the embedded dataset's units (成都 → 510100)."""
    from cocity.data.units import UnitIndex
    from cocity.datasets import open_store

    return UnitIndex(open_store().units())


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """cocity's local Dask cluster of two worker processes (single-threaded, no dashboard) for
    the tests of a module; closed after them, and its worker processes checked gone."""
    import psutil

    from cocity.index.executors import local_cluster

    local = local_cluster(2)
    workers = [psutil.Process(nanny.process.pid) for nanny in local.workers.values()]
    assert len(workers) == 2 and all(w.is_running() for w in workers)
    yield local
    local.close()
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == [], f"worker processes left behind: {alive}"
    assert len(gone) == 2


def dask_clients(cluster: Any) -> int:
    """Clients that have connected to ``cluster``'s scheduler so far."""
    return sum(event.get("action") == "add-client"
               for _time, event in cluster.scheduler.get_events("all"))


def assert_messages_match(prefix: str, *sources: Path) -> set[str]:
    """The messages under ``prefix`` are exactly those the ``sources`` use (``"prefix…"``
    literals), each with both languages and the same format fields in both; returns them."""
    import re
    import string

    from cocity.i18n import labels

    pattern = re.compile(r'"(' + re.escape(prefix) + r'[a-z_.]+)"')
    used: set[str] = set()
    for source in sources:
        used |= set(pattern.findall(source.read_text("utf-8")))
    table = labels()
    assert {k for k in table if k.startswith(prefix)} == used
    for key in sorted(used):
        entry = table[key]
        assert set(entry) == {"zh", "en"}, key
        fields = [{f for _, f, _, _ in string.Formatter().parse(entry[lang]) if f}
                  for lang in ("zh", "en")]
        assert fields[0] == fields[1], key
    return used
