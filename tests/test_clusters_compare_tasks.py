"""Clusters as tasks (cocity.clusters.compare through cocity.index.executors.completed): the
comparison is identical serial, on a process pool and on a Dask LocalCluster (SHA-256 of the
table and notes), the speculative first round is corrected when a cluster lacks an indicator
the others have, and ``cocity clusters compare`` takes ``--all`` and the shared executor
options.

Small user clusters keep the runs short: 珠海/中山/江门, 北京/天津/廊坊, and 乌鲁木齐/克拉玛依,
whose units have no 2020 value of ``emp_share_international`` (the others have it), so the
first two are run again on the common indicators."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from distributed import LocalCluster
from typer.testing import CliRunner

import cocity.cli.clusters_compare  # noqa: F401  (registers `cocity clusters compare`)
from cocity.cli import app
from cocity.clusters.compare import Comparison, compare_clusters
from cocity.clusters.definition import Cluster, shipped, user_cluster
from cocity.clusters.errors import ClusterError
from tests.conftest import dask_clients

PEARL = ["珠海", "中山", "江门"]
CAPITAL = ["北京", "天津", "廊坊"]
XJ = ["乌鲁木齐", "克拉玛依"]
# three sections keep the runs short (the others' cells are empty, each with its note)
SPEC = {"indicators": ["urban_share", "emp_share_international"],
        "sections": ["inequality", "convergence", "spatial"],
        "inequality": {"permutations": 99}, "spatial": {"permutations": 99}}
runner = CliRunner()
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(scope="module")
def serial() -> tuple[Comparison, list[tuple[int, int]]]:
    """The serial comparison of the three clusters, and its progress calls."""
    seen: list[tuple[int, int]] = []
    cmp = compare_clusters(_clusters(), spec=SPEC,
                           progress=lambda done, total: seen.append((done, total)))
    return cmp, seen


def _clusters() -> list[Cluster]:
    return [user_cluster(PEARL, key="pearl"), user_cluster(CAPITAL, key="capital"),
            user_cluster(XJ, key="xj")]


def _digest(cmp: Comparison) -> str:
    h = hashlib.sha256()
    h.update(cmp.table.to_csv().encode())
    h.update(cmp.notes.to_csv().encode())
    return h.hexdigest()


def test_serial_processes_and_dask_give_identical_comparisons(
        cluster: LocalCluster, serial: tuple[Comparison, list[tuple[int, int]]]) -> None:
    cmp, seen = serial
    # 3 first runs, then pearl and capital again without emp_share_international
    assert seen == [(1, 3), (2, 3), (3, 3), (4, 5), (5, 5)]
    assert cmp.dropped == ("emp_share_international",)
    pool = compare_clusters(_clusters(), spec=SPEC, executor="processes", workers=2)
    before = dask_clients(cluster)
    on_dask = compare_clusters(_clusters(), spec=SPEC, scheduler=cluster.scheduler_address)
    assert dask_clients(cluster) == before + 2  # one client per round, both on this cluster
    assert _digest(cmp) == _digest(pool) == _digest(on_dask)
    assert cmp.provenance == pool.provenance == on_dask.provenance
    for figure in ("gini", "theil", "moran_i", "beta"):
        assert cmp.table.loc[(figure, "urban_share")].notna().all(), figure


def test_second_round_equals_a_comparison_on_the_common_indicators(
        serial: tuple[Comparison, list[tuple[int, int]]]) -> None:
    """The clusters speculatively run on both indicators are run again on the common one:
    the table equals a comparison asked for that indicator alone, and the notes differ only
    by the note on the dropped indicator."""
    both, _ = serial
    alone = compare_clusters(_clusters(), spec={**SPEC, "indicators": ["urban_share"]})
    assert both.indicators == alone.indicators == ("urban_share",)
    assert both.table.equals(alone.table)
    dropped = both.notes["indicator"] == "emp_share_international"
    assert dropped.sum() == 1
    assert "xj 2020" in both.notes.loc[dropped, "text_en"].item()
    assert both.notes[~dropped].reset_index(drop=True).equals(alone.notes)


def test_refusals_are_the_same_whatever_the_executor() -> None:
    """A cluster without county-level units (东莞 and 嘉峪关 have none in the base) is refused
    by name — the first such cluster in the order given, not the first to finish — and
    nothing is compared."""
    none_a, none_b = user_cluster(["东莞"], key="dg"), user_cluster(["嘉峪关"], key="jyg")
    with pytest.raises(ClusterError, match=r"\(dg\) has no county-level units"):
        compare_clusters([none_a, none_b], spec=SPEC, executor="processes", workers=2)
    with pytest.raises(ClusterError, match=r"at least two clusters \(1 given\)"):
        compare_clusters(_clusters()[:1], executor="processes", workers=2)
    with pytest.raises(ClusterError, match="given more than once: xj"):
        compare_clusters([*_clusters(), user_cluster(PEARL, key="xj")], executor="dask")


def _tables(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "tables").glob("*.csv"))}


def test_cli_on_the_scheduler_writes_the_serial_files(cluster: LocalCluster,
                                                      tmp_path: Path) -> None:
    files = []
    for key, names in (("pearl", PEARL), ("xj", XJ)):
        path = tmp_path / f"{key}.txt"
        path.write_text("\n".join(names) + "\n", encoding="utf-8")
        files.append(f"@{path}")
    spec = tmp_path / "fast.yaml"
    spec.write_text(json.dumps(SPEC), encoding="utf-8")
    base = ["--lang", "en", "clusters", "compare", *files, "--spec", str(spec)]
    serial = runner.invoke(app, [*base, "--out", str(tmp_path / "serial")])
    assert serial.exit_code == 0, serial.output
    before = dask_clients(cluster)
    on_dask = runner.invoke(app, [*base, "--scheduler", cluster.scheduler_address,
                                  "--out", str(tmp_path / "dask")])
    assert on_dask.exit_code == 0, on_dask.output
    assert dask_clients(cluster) > before
    got, want = _tables(tmp_path / "dask"), _tables(tmp_path / "serial")
    assert {"comparison.csv", "notes.csv"} <= set(want)
    assert got == want
    bad = runner.invoke(app, [*base, "--executor", "threads", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2
    assert "unknown executor “threads”" in bad.output
    assert not (tmp_path / "bad").exists()


def test_cli_all_refuses_names_too(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for lang, message in (("en", "--all compares every shipped cluster; clusters cannot be "
                                 "named with it (jingjinji)"),
                          ("zh", "--all 已比较全部内置城市群，不能再指定城市群（jingjinji）")):
        res = runner.invoke(app, ["--lang", lang, "clusters", "compare", "--all", "jingjinji",
                                  "--out", str(out)])
        assert res.exit_code == 2, res.output
        assert message in res.output.replace("\n", "")
        assert not out.exists()


def test_cli_all_compares_every_shipped_definition(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """``--all`` hands every shipped definition, in order, with the executor options, to
    :func:`compare_clusters` (stopped there: the full national run is the benchmark's)."""
    import cocity.clusters.compare as compare_module

    asked: dict[str, object] = {}

    def stop(clusters: list[Cluster], **kwargs: object) -> Comparison:
        asked.update(keys=[c.key for c in clusters], **kwargs)
        raise ClusterError("stopped by the test")

    monkeypatch.setattr(compare_module, "compare_clusters", stop)
    res = runner.invoke(app, ["--lang", "en", "clusters", "compare", "--all", "--workers", "2",
                              "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and "stopped by the test" in res.output
    assert len(shipped()) == 8
    assert asked["keys"] == shipped()
    assert (asked["executor"], asked["workers"]) == ("processes", 2)
