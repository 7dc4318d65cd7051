"""Embedded datasets. ``chengyu`` is the Chengdu–Chongqing Twin-City Economic Circle.

Each dataset is a folder of compact package data built by ``build_chengyu.py``:
``units.csv``, ``indicators.csv``, ``observations.csv``, ``boundaries.geojson`` and
``dataset.yaml`` (name, datum, provenance), plus the sources' license notices in ``NOTICE.md``.

:func:`open_store` is the one way to open data: a workspace folder, or with no argument the
embedded default in memory. It lives here, above the data layer, because only this package
knows the embedded datasets.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from cocity.data.errors import CocityError
from cocity.i18n import t

if TYPE_CHECKING:
    import pandas as pd

    from cocity.data.store import Store

DATASETS = ("chengyu",)
DEFAULT = "chengyu"


def open_store(workspace: str | Path | None = None, *, read_only: bool = False) -> Store:
    """Open the workspace folder ``workspace``; with ``None``, an in-memory store holding the
    default embedded dataset (``chengyu``).

    ``read_only=True`` is for commands that only read: the file is neither migrated nor
    written, and other processes may read it at the same time. Raises
    :class:`~cocity.data.errors.WorkspaceNotFoundError` for a folder without a workspace and
    :class:`~cocity.data.errors.WorkspaceError` for a locked or damaged one.
    """
    from cocity.data.store import Store

    if workspace is not None:
        return Store.open(workspace, read_only=read_only)
    store = Store.open(None)
    load_into(store, DEFAULT)
    return store


class UnknownDatasetError(CocityError, KeyError):
    """No embedded dataset has this name."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


def dataset_dir(name: str = "chengyu") -> Path:
    if name not in DATASETS:
        raise UnknownDatasetError(t("dataset.unknown", name=name, available=", ".join(DATASETS)))
    return Path(str(resources.files(__package__) / name))


def read_units(name: str = "chengyu") -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv(dataset_dir(name) / "units.csv", dtype={"code": str, "parent": str})


def read_indicators(name: str = "chengyu") -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv(dataset_dir(name) / "indicators.csv")


def read_observations(name: str = "chengyu") -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv(dataset_dir(name) / "observations.csv", dtype={"unit": str})


def read_info(name: str = "chengyu") -> dict[str, object]:
    info: dict[str, object] = yaml.safe_load(
        (dataset_dir(name) / "dataset.yaml").read_text(encoding="utf-8"))
    return info


def load_into(store: Store, name: str = "chengyu") -> None:
    """Load an embedded dataset into ``store`` (units, catalog, observations, boundaries)."""
    import geopandas as gpd

    folder = dataset_dir(name)
    info = read_info(name)
    store.add_units(read_units(name), source=f"{name}/units.csv")
    store.add_indicators(read_indicators(name), source=f"{name}/indicators.csv")
    store.add_observations(read_observations(name), replace=True, kind="dataset")
    geo = gpd.read_file(folder / "boundaries.geojson")
    store.add_geometries(geo, datum=str(info.get("datum", "WGS-84")))
    store.set_meta("dataset", name)
