"""Store: round trips, name resolution, transactions and conflict handling."""

from __future__ import annotations

import pandas as pd
import pytest

from cocity.data import AmbiguousUnitError, Store, UnitNotFoundError, ValidationError
from tests.conftest import tiny_observations


def test_resolve_names_codes_and_qualified(tiny_store: Store) -> None:
    assert tiny_store.resolve("内江") == "511000"
    assert tiny_store.resolve("内江市") == "511000"
    assert tiny_store.resolve("Neijiang") == "511000"
    assert tiny_store.resolve(" neijiang city ") == "511000"
    assert tiny_store.resolve(511000) == "511000"
    assert tiny_store.resolve("511000.0") == "511000"
    assert tiny_store.resolve("东兴") == "511011"
    assert tiny_store.resolve("内江市市中区") == "511002"
    assert tiny_store.resolve("Leshan Shizhong") == "511102"
    assert tiny_store.resolve("四川") == "510000"


def test_ambiguous_and_unknown_names_raise(tiny_store: Store, english: None) -> None:
    with pytest.raises(AmbiguousUnitError, match=r"511002.*511102|511102.*511002"):
        tiny_store.resolve("市中区")
    with pytest.raises(UnitNotFoundError, match="unknown unit 'Atlantis'"):
        tiny_store.resolve("Atlantis")
    with pytest.raises(UnitNotFoundError, match="at level"):
        tiny_store.resolve("511000", level="county")


def test_panel_is_wide_and_filtered(tiny_store: Store) -> None:
    panel = tiny_store.panel(["urban_share", "pop_total"], level="county")
    assert list(panel.columns) == ["urban_share", "pop_total"]
    assert panel.loc[("511011", 2020), "pop_total"] == 754120
    assert len(tiny_store.units(level="county", parent="乐山")) == 2


def test_reimport_is_noop_and_conflict_is_rejected(tiny_store: Store, english: None) -> None:
    before = tiny_store.observations()
    assert tiny_store.add_observations(tiny_observations()) == (0, 0)
    changed = tiny_observations()
    changed.loc[0, "value"] = 1.0
    with pytest.raises(ValidationError, match="differs"):
        tiny_store.add_observations(changed)
    pd.testing.assert_frame_equal(tiny_store.observations(), before)
    assert tiny_store.add_observations(changed, replace=True) == (0, 1)
    assert tiny_store.observations()["value"].iloc[0] != before["value"].iloc[0]


def test_failed_transaction_leaves_store_unchanged(tiny_store: Store) -> None:
    before = tiny_store.observations()
    with pytest.raises(RuntimeError, match="boom"), tiny_store.transaction() as con:
        con.execute("DELETE FROM observations")
        raise RuntimeError("boom")
    pd.testing.assert_frame_equal(tiny_store.observations(), before)


def test_geodata_has_geometry_for_every_unit(tiny_store: Store) -> None:
    gdf = tiny_store.geodata(level="county")
    assert len(gdf) == 4 and gdf.geometry.notna().all()
    assert gdf.crs.to_epsg() == 4326


def test_errors_are_chinese_by_default(tiny_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COCITY_LANG", raising=False)
    with pytest.raises(UnitNotFoundError, match="未知单元 'Atlantis'"):
        tiny_store.resolve("Atlantis")
    with pytest.raises(AmbiguousUnitError, match=r"有多个匹配.*内江市市中区"):
        tiny_store.resolve("市中区")


def test_bad_units_are_rejected_with_row_and_column(tiny_store: Store, english: None) -> None:
    bad = pd.DataFrame([{"code": "51x", "name_zh": "甲", "name_en": "Jia", "level": "town",
                         "parent": "999999"}])
    with pytest.raises(ValidationError, match=r"problem\(s\) found|个问题") as err:
        tiny_store.add_units(bad)
    text = str(err.value)
    assert "row 2" in text and "'code'" in text and "'level'" in text and "parent 999999" in text
