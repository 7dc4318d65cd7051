"""``cocity index build|compare|uncertainty`` through the command line, and the build module."""

from __future__ import annotations

import doctest
import hashlib
import json
import re
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import cocity
import cocity.cli.index  # registers `cocity index`
import cocity.index.run
from cocity.cli import app
from cocity.data.store import Store
from cocity.datasets import open_store
from cocity.index.errors import IndexEngineError
from cocity.index.framework import Framework
from cocity.index.overrides import Override, apply_overrides, parse_override
from cocity.index.pipeline import Pipeline
from cocity.index.uncertainty import UncertaintySpec, run_uncertainty
from cocity.outputs import verify_outputs
from tests.conftest import fill_tiny, tiny_boxes, tiny_catalog, tiny_observations, tiny_units

runner = CliRunner()
SHIPPED = resources.files("cocity.index").joinpath("frameworks", "chengyu_living.yaml")
OUTPUTS = ("ranking.csv", "scores.csv", "index.xlsx", "log.json", "manifest.json", "index.html")


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # no wrapped messages
    monkeypatch.setenv("COCITY_LANG", "zh")  # restored after `--lang en` changed it


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def read_ranking(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "ranking.csv", dtype={"code": str}).set_index("code")


def without_plotlyjs(page: str) -> str:
    start = page.index("<script>/**")  # plotly.js starts with its licence comment
    return page[:start] + page[page.index("</script>", start):]


def assert_self_contained(page: str) -> None:
    assert page.count("plotly.js v") == 1
    assert "default-src 'none'" in page
    rest = without_plotlyjs(page)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", rest)
    assert "<link" not in rest and "@import" not in rest and "@font-face" not in rest
    assert 'data-set-lang="zh"' in page and 'data-set-lang="en"' in page


# ---------------------------------------------------------------------- the embedded dataset
def shipped_pipeline() -> Pipeline:
    """The demo framework computed directly with the engine, without the build module."""
    doc = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    fw = Framework.from_records(doc["nodes"], settings=doc)
    store = open_store()
    members = store.units(level="county", membership=["full", "partial"])["code"]
    panel = store.panel(fw.indicators, years=[2020], level="county").xs(2020, level="year")
    store.close()
    panel = panel[panel.index.isin(members)]
    return Pipeline(panel, fw).apply(doc["pipeline"])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("build")
    result = runner.invoke(app, ["index", "build", "chengyu_living", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_build_writes_every_output_equal_to_the_engine(built: tuple[Path, str]) -> None:
    out, output = built
    for name in OUTPUTS:
        assert (out / name).stat().st_size > 0, name
    pipe = shipped_pipeline()
    expected = pipe.scores["LIVING"]
    ranking = read_ranking(out)
    assert len(ranking) == 144 and ranking["rank"].tolist() == sorted(ranking["rank"])
    pd.testing.assert_series_equal(ranking["LIVING"].sort_index(), expected.sort_index(),
                                   check_names=False, check_index_type=False, rtol=1e-12)
    xlsx = pd.read_excel(out / "index.xlsx", sheet_name=None, dtype={"code": str, "unit": str})
    assert set(xlsx) == {"ranking", "scores", "framework", "pipeline", "data"}
    pd.testing.assert_series_equal(xlsx["ranking"].set_index("code")["LIVING"].sort_index(),
                                   expected.sort_index(), check_names=False,
                                   check_index_type=False, rtol=1e-12)
    long = pd.read_csv(out / "scores.csv", dtype={"unit": str})
    assert len(long) == 144 * 12  # every unit × every node of the tree
    index_rows = long[long["node"] == "LIVING"].set_index("unit")
    pd.testing.assert_series_equal(index_rows["score"].sort_index(), expected.sort_index(),
                                   check_names=False, check_index_type=False, rtol=1e-12)
    row = long[(long["node"] == "illiteracy_rate") & (long["unit"] == "510104")].iloc[0]
    assert row["node_name_zh"] == "文盲率" and row["node_name_en"] == "Illiteracy rate"
    assert row["unit_name_zh"] == "锦江区" and row["unit_name_en"] == "Jinjiang District"
    assert row["value"] == pytest.approx(pipe.raw.at["510104", "illiteracy_rate"])
    # The terminal shows the best unit first, and where the files are.
    best = expected.idxmax()
    assert re.search(rf"│\s+1 │ {best} │ {ranking.at[best, 'name_zh']}", output), output
    assert str(out / "index.html") in output and "演示框架" in output


def test_manifest_and_log(built: tuple[Path, str]) -> None:
    out, _ = built
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    pipe = shipped_pipeline()
    panel_text = pipe.raw.to_csv(float_format="%.17g", lineterminator="\n").encode()
    content = SHIPPED.read_bytes()
    inputs = man["inputs"]
    assert inputs["panel_sha256"] == hashlib.sha256(panel_text).hexdigest()
    assert inputs["framework_sha256"] == hashlib.sha256(content).hexdigest()
    assert inputs["inputs_sha256"] == hashlib.sha256(panel_text + content).hexdigest()
    assert inputs["units"] == 144 and inputs["indicators"] == 9
    assert man["kind"] == "index build"
    prov = man["provenance"]
    assert prov["dataset"] == "chengyu" and prov["datum"] == "GCJ-02"
    assert prov["workspace"] is None and prov["user_data"] is False and prov["imports"] == []
    assert man["coverage"]["en"] == ("144 county-level units (Full member + Partly inside) "
                                     "of 158 in the data")
    assert verify_outputs(man, out) == []
    assert man["config"]["data"] == {"year": 2020, "level": "county",
                                     "membership": ["full", "partial"]}
    assert [next(iter(s)) for s in man["config"]["pipeline"]] == [
        "impute", "treat", "normalise", "aggregate"]
    assert man["config"]["uncertainty"]["seed"] == 1
    versions = man["versions"]
    assert versions["cocity"] == cocity.__version__ and versions["pandas"] == pd.__version__
    assert {"python", "numpy"} <= set(versions)
    for entry in man["outputs"].values():
        assert hashlib.sha256((out / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    log = json.loads((out / "log.json").read_text(encoding="utf-8"))
    assert [e["step"] for e in log] == ["impute", "treat", "normalise", "aggregate"]
    treat = next(e for e in log if e["step"] == "treat")
    winsorised = {c["indicator"]: c["winsorised"] for c in treat["indicators"]}
    info = pipe.treatment["columns"]
    codes = list(pipe.raw.index)
    assert winsorised == {pipe.raw.columns[c["column"]]: [codes[r] for r in c["rows"]]
                          for c in info}


def test_summary_page_is_self_contained_bilingual_with_a_map(built: tuple[Path, str]) -> None:
    out, _ = built
    page = (out / "index.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert '<html lang="zh-CN" data-lang="zh">' in page
    for zh, en in (("居住条件与人力资本指数", "Living conditions and human capital index"),
                   ("排名", "Ranking"), ("指标框架", "Framework"), ("江北区", "Jiangbei District"),
                   ("演示框架", "Demonstration framework")):
        assert zh in page and en in page
    assert 'id="fig-map"' in page and 'id="fig-bar"' in page
    figures = json.loads(re.search(r"var FIGS = (\[.*?\]);\n", page, re.S).group(1))  # type: ignore[union-attr]
    bar = next(f for f in figures if f["id"] == "fig-bar")
    assert len(bar["data"][0]["y"]) == 144
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert man["inputs"]["inputs_sha256"] in page


def test_set_changes_the_result_and_compare_reports_rank_changes(
        built: tuple[Path, str], tmp_path: Path) -> None:
    base = read_ranking(built[0])
    code, output = invoke("index", "build", "chengyu_living", "--set", "normalise.method=rank",
                          "--out", str(tmp_path / "rank"))
    assert code == 0, output
    ranked = read_ranking(tmp_path / "rank")
    expected = shipped_pipeline().rerun(normalise={"method": "rank"}).scores["LIVING"]
    pd.testing.assert_series_equal(ranked["LIVING"].sort_index(), expected.sort_index(),
                                   check_names=False, check_index_type=False, rtol=1e-12)
    changed = (ranked["rank"].sort_index() != base["rank"].sort_index())
    assert changed.sum() > 0
    man = json.loads((tmp_path / "rank" / "manifest.json").read_text(encoding="utf-8"))
    assert man["config"]["overrides"] == ["normalise.method=rank"]
    assert {"normalise": {"method": "rank"}} in man["config"]["pipeline"]

    code, output = invoke("--lang", "en", "index", "compare", "chengyu_living",
                          "--set", "normalise.method=rank", "--out", str(tmp_path / "cmp"))
    assert code == 0, output
    table = pd.read_csv(tmp_path / "cmp" / "compare.csv", dtype={"code": str}).set_index("code")
    both = pd.DataFrame({"rank": base["rank"], "rank_other": ranked["rank"]})
    assert (table["rank_change"] == (both["rank_other"] - both["rank"])
            .reindex(table.index)).all()
    assert f"{len(table)} units compared: {int(changed.sum())} changed rank" in output
    biggest = table["rank_change"].abs().idxmax()
    assert biggest in output and "--set normalise.method=rank" in output
    assert (tmp_path / "cmp" / "compare.xlsx").exists()
    assert json.loads((tmp_path / "cmp" / "compare.json").read_text())["kind"] == "index compare"


def test_uncertainty_command(tmp_path: Path) -> None:
    code, output = invoke("--lang", "en", "index", "uncertainty", "chengyu_living",
                          "--replications", "60", "--seed", "3", "--out", str(tmp_path))
    assert code == 0, output
    ranks = pd.read_csv(tmp_path / "uncertainty_ranks.csv", dtype={"code": str})
    sobol = pd.read_csv(tmp_path / "uncertainty_sobol.csv").set_index("input")
    doc = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    res = run_uncertainty(shipped_pipeline(), UncertaintySpec.from_dict(doc["uncertainty"]),
                          replications=60, seed=3)
    expected = res.rank_summary
    assert ranks["code"].tolist() == [str(c) for c in expected.index]
    assert ranks["median_rank"].tolist() == expected["median_rank"].tolist()
    assert ranks["p95"].tolist() == expected["p95"].tolist()
    assert list(sobol.index) == list(res.sobol.index)
    assert sobol["ST"].to_numpy() == pytest.approx(res.sobol["ST"].to_numpy())
    assert sobol.at["normalise", "label_zh"] == "标准化方法"
    man = json.loads((tmp_path / "uncertainty.json").read_text(encoding="utf-8"))
    assert man["config"]["run"]["replications"] == res.replications
    assert man["config"]["run"]["seed"] == 3
    page = (tmp_path / "uncertainty.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert 'id="fig-ranks"' in page and 'id="fig-sobol"' in page
    assert "Sobol sensitivity indices" in output and "Median rank" in output


def test_module_examples_run() -> None:
    result = doctest.testmod(cocity.index.run, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 7 and result.failed == 0


# ---------------------------------------------------------------------- a small workspace
FRAMEWORK = """\
name_zh: 测试指数
name_en: Test index
data: {year: 2020, level: county}
pipeline:
  - normalise: {method: minmax}
  - aggregate: {}
nodes:
  - {code: IDX, name_zh: 测试指数, name_en: Test index}
  - {code: pop_total, parent: IDX, weight: 1, direction: 1}
  - {code: urban_share, parent: IDX, weight: 1, direction: 1}
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    store = Store.open(ws, create=True)
    fill_tiny(store)
    store.close()
    return ws


def framework_file(tmp_path: Path, text: str = FRAMEWORK, name: str = "fw.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_build_on_a_workspace_by_hand(workspace: Path, tmp_path: Path, english: None) -> None:
    fw = framework_file(tmp_path)
    out = tmp_path / "out"
    code, output = invoke("index", "build", str(fw), "-w", str(workspace), "--out", str(out))
    assert code == 0, output
    ranking = read_ranking(out)
    # min–max 0–100: pop = (x − 144931)/(814597 − 144931)·100, urban = (x − 40)/(80.1 − 40)·100;
    # the index is their mean.
    pop = {"511002": 337106, "511011": 754120, "511102": 814597, "511111": 144931}
    urb = {"511002": 80.1, "511011": 55.0, "511102": 70.2, "511111": 40.0}
    for c in pop:
        expected = ((pop[c] - 144931) / (814597 - 144931) * 100
                    + (urb[c] - 40) / 40.1 * 100) / 2
        assert ranking.at[c, "IDX"] == pytest.approx(expected, rel=1e-12)
    assert list(ranking.index) == ["511102", "511002", "511011", "511111"]
    assert ranking.at["511011", "name_en"] == "Dongxing District"
    assert "Test index: top 4 of 4 units (2020, County)" in output
    page = (out / "index.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    geo = json.loads(re.search(r"var GEO = (\{.*?\});\n", page, re.S).group(1))  # type: ignore[union-attr]
    assert set(geo) == {"cocity-geo:county", "cocity-geo:prefecture"}
    nodes = pd.read_excel(out / "index.xlsx", sheet_name="framework").set_index("code")
    assert nodes.at["urban_share", "name_zh"] == "城镇化率"  # from the catalog
    assert nodes.at["urban_share", "effective_weight"] == pytest.approx(0.5)

    # Weights 3:1 → IDX = 0.75·pop + 0.25·urban: Dongxing (511011) overtakes Shizhong (511002).
    weights = ["--set", "weight.method=manual", "--set", "weight.w={pop_total: 3, urban_share: 1}"]
    code, output = invoke("index", "compare", str(fw), "-w", str(workspace), *weights,
                          "--out", str(tmp_path / "cmp"))
    assert code == 0, output
    table = pd.read_csv(tmp_path / "cmp" / "compare.csv", dtype={"code": str}).set_index("code")
    assert table["rank_change"].to_dict() == {"511102": 0, "511002": 1, "511011": -1,
                                              "511111": 0}
    assert table.at["511011", "score_other"] == pytest.approx(
        0.75 * (754120 - 144931) / (814597 - 144931) * 100 + 0.25 * (55.0 - 40) / 40.1 * 100)
    assert "4 units compared: 2 changed rank" in output

    # Two framework files: the second weighs population three times.
    other = framework_file(tmp_path, FRAMEWORK.replace(
        "{code: pop_total, parent: IDX, weight: 1", "{code: pop_total, parent: IDX, weight: 3"),
        "other.yaml")
    code, output = invoke("index", "compare", str(fw), str(other), "-w", str(workspace),
                          "--out", str(tmp_path / "cmp2"))
    assert code == 0, output
    again = pd.read_csv(tmp_path / "cmp2" / "compare.csv", dtype={"code": str}).set_index("code")
    pd.testing.assert_frame_equal(again, table)


BAD_FRAMEWORK = FRAMEWORK.replace("{code: urban_share, parent: IDX, weight: 1, direction: 1}",
                                  "{code: urban_share, parent: IDX, weight: 1, direction: 0}")


@pytest.mark.parametrize(("args", "message"), [
    (["--set", "normalise.method=minmaxx"],
     "step normalise has no method minmaxx (did you mean minmax?); methods: borda"),
    (["--set", "normalise"], "cannot read the change 'normalise': write it as step.param=value"),
    (["--set", "=3"], "cannot read the change '=3'"),
    (["--set", "normalise.low="], "cannot read the change 'normalise.low='"),
    (["--set", "normalize.method=rank"], "unknown step normalize in the change"),
    (["--set", "normalise.lo=1"], "step normalise (method minmax) has no parameter(s) lo"),
    (["--set", "aggregate.by_level.2=geometrc"], "step aggregate has no method geometrc"),
    (["--level", "district"], "unknown level district; levels: province, prefecture, county"),
    (["--year", "1990"], "no values of pop_total, urban_share in 1990 at County level"),
])
def test_rejected_requests_exit_2(workspace: Path, tmp_path: Path, english: None,
                                  args: list[str], message: str) -> None:
    code, output = invoke("index", "build", str(framework_file(tmp_path)), "-w",
                          str(workspace), "--out", str(tmp_path / "out"), *args)
    assert code == 2
    assert "Error:" in output and message in output, output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("text", "message"), [
    (FRAMEWORK.replace("code: urban_share", "code: no_such_indicator"),
     "framework indicators not in the workspace's catalog: no_such_indicator"),
    (FRAMEWORK.replace("code: urban_share", "code: illiteracy_rate"),
     "no values of illiteracy_rate in 2020 at County level"),
    (BAD_FRAMEWORK, "nodes[2].direction: a direction is 1 (more is better) or -1 (less is "
                    "better), not 0"),
    (FRAMEWORK.replace("level: county}", "level: county, membership: [partial]}"),
     "no units in the selection (level County, membership partial)"),
    (FRAMEWORK.replace("data: {", "data: {years: [2020], "), "data.years: unknown key"),
    (FRAMEWORK.replace("method: minmax", "method: minmax, low: [1"),
     "fw.yaml, row 5: YAML syntax error"),
])
def test_framework_problems_exit_2(workspace: Path, tmp_path: Path, english: None, text: str,
                                   message: str) -> None:
    code, output = invoke("index", "build", str(framework_file(tmp_path, text)), "-w",
                          str(workspace), "--out", str(tmp_path / "out"))
    assert code == 2
    assert message in output, output


def test_other_rejections(workspace: Path, tmp_path: Path) -> None:
    fw = str(framework_file(tmp_path))
    code, output = invoke("index", "build", "no_such_framework", "-w", str(workspace))
    assert code == 2 and "找不到框架 no_such_framework" in output and "chengyu_living" in output
    code, output = invoke("index", "build", fw, "-w", str(workspace), "--set",
                          "normalise.method=minmaxx")
    assert code == 2 and "步骤 normalise 没有方法 minmaxx" in output
    code, output = invoke("--lang", "en", "index", "compare", fw, "-w", str(workspace))
    assert code == 2 and "nothing to compare" in output
    code, output = invoke("--lang", "en", "index", "uncertainty", fw, "-w", str(workspace))
    assert code == 2 and "has no uncertainty section" in output


# ---------------------------------------------------------------------- overrides as data
def test_overrides_parse_and_apply() -> None:
    ov = parse_override("aggregate.by_level.3=geometric")
    assert ov == Override("aggregate.by_level.3=geometric", "aggregate", None,
                          ("by_level", 3), "geometric")
    assert parse_override("weight.2.w=[1, 2]").level == 2
    assert parse_override("normalise.high=1e2").value == 100.0
    steps = [{"normalise": {"method": "minmax", "low": 1, "high": 100}},
             {"aggregate": {"by_level": {2: "arithmetic"}}}]
    out = apply_overrides(steps, ["normalise.method=zscore", "aggregate.by_level.3=geometric",
                                  "weight.method=entropy", "impute.method=median"])
    # A new method starts from its defaults; new steps go to their place in the order.
    assert out == [{"impute": {"method": "median"}}, {"normalise": {"method": "zscore"}},
                   {"weight": {"method": "entropy"}},
                   {"aggregate": {"by_level": {2: "arithmetic", 3: "geometric"}}}]
    kept = apply_overrides(steps, ["normalise.high=10", "normalise.method=minmax"])
    assert kept[0] == {"normalise": {"method": "minmax", "low": 1, "high": 10}}
    assert steps[0]["normalise"]["high"] == 100  # the input is not changed
    with pytest.raises(IndexEngineError, match=r"\-\ \-\-set:\ 无法理解参数修改\ \'normalise\.met"):
        apply_overrides(steps, ["normalise.method.x=1"])


def test_units_without_enough_data_get_no_score_not_a_silent_nan(tmp_path: Path) -> None:
    ws = tmp_path / "gappy"
    store = Store.open(ws, create=True)
    store.add_units(tiny_units())
    store.add_indicators(tiny_catalog())
    obs = tiny_observations()
    store.add_observations(obs[~((obs["unit"] == "511111") & (obs["indicator"] == "urban_share"))])
    store.add_geometries(tiny_boxes(), datum="WGS-84")
    store.close()
    text = FRAMEWORK.replace("nodes:", "aggregation: {min_share: {2: 1.0}}\nnodes:")
    out = tmp_path / "out"
    code, output = invoke("--lang", "en", "index", "build", str(framework_file(tmp_path, text)),
                          "-w", str(ws), "--out", str(out))
    assert code == 0, output
    assert "1 unit(s) have no index score" in output and "511111" in output
    ranking = pd.read_csv(out / "ranking.csv", dtype={"code": str}, keep_default_na=False)
    last = ranking.iloc[-1]
    assert last["code"] == "511111" and last["rank"] == "" and last["IDX"] == ""
    assert ranking["rank"].iloc[:3].tolist() == ["1", "2", "3"]
    page = (out / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<td class="n">—</td><td>511111</td>', page)
    figures = json.loads(re.search(r"var FIGS = (\[.*?\]);\n", page, re.S).group(1))  # type: ignore[union-attr]
    traces = next(f for f in figures if f["id"] == "fig-map")["data"]
    assert "511111" in traces[0]["locations"]  # drawn grey, not coloured as a score
    assert "511111" not in traces[1]["locations"]


# ---------------------------------------------------------------------- the command module
LIGHT = ("typer", "rich", "cocity.i18n", "cocity.cli", "cocity.data.errors", "__future__")


def module_level_imports(module: str) -> list[str]:
    """Modules a CLI module imports at module level (``if TYPE_CHECKING:`` blocks left out)."""
    import ast
    import importlib.util
    import sys

    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    found = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append(node.module or "")
    stdlib = set(sys.stdlib_module_names)
    return [m for m in found if m.split(".")[0] not in stdlib]


def broad_handlers(module: str) -> list[str]:
    """``except KeyError`` / ``except Exception`` (alone or in a tuple) in a module."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            names = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            out += [n.id for n in names if isinstance(n, ast.Name)
                    and n.id in ("KeyError", "Exception", "BaseException")]
    return out


def test_index_cli_module_is_light_and_catches_nothing_broad() -> None:
    heavy = [m for m in module_level_imports("cocity.cli.index")
             if not any(m == ok or m.startswith(ok + ".") for ok in LIGHT)]
    assert heavy == []
    assert broad_handlers("cocity.cli.index") == []


def test_every_index_command_says_which_units_it_covers(workspace: Path, tmp_path: Path,
                                                        english: None) -> None:
    fw = str(framework_file(tmp_path))
    code, output = invoke("index", "build", fw, "-w", str(workspace), "--out", str(tmp_path / "b"))
    assert code == 0 and "Covers: 4 county-level units of 4 in the data" in output, output
    partial = framework_file(tmp_path, FRAMEWORK.replace("level: county}",
                                                         "level: county, membership: [full]}"),
                             "full.yaml")
    code, output = invoke("index", "compare", str(partial), "-w", str(workspace), "--set",
                          "normalise.method=rank", "--out", str(tmp_path / "c"))
    assert code == 0, output
    assert "Covers: 4 county-level units (Full member) of 4 in the data" in output
    man = json.loads((tmp_path / "b" / "manifest.json").read_text(encoding="utf-8"))
    assert man["coverage"]["zh"] == "覆盖 4 个县级单元，数据中该层级共 4 个"
    page = (tmp_path / "b" / "index.html").read_text(encoding="utf-8")
    assert "4 county-level units of 4 in the data" in page


def test_manifest_names_user_imports_in_its_provenance(tmp_path: Path, english: None) -> None:
    """A value the user imported is in the provenance of the manifest and on the page."""
    from cocity.data.importers import import_observations

    ws = tmp_path / "ws"
    store = Store.open(ws, create=True)
    fill_tiny(store)
    csv = tmp_path / "mine.csv"
    csv.write_text("unit,year,indicator,value\n511111,2020,urban_share,41.5\n", encoding="utf-8")
    import_observations(store, csv, replace=True)
    store.close()
    out = tmp_path / "out"
    code, output = invoke("index", "build", str(framework_file(tmp_path)), "-w", str(ws),
                          "--out", str(out))
    assert code == 0, output
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    prov = man["provenance"]
    assert prov["user_data"] is True and prov["workspace"] == str(ws)
    (entry,) = [i for i in prov["imports"] if i["file"].endswith("mine.csv")]
    assert entry["replaced"] == 1 and entry["indicators"] == ["urban_share"]
    assert entry["sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()
    page = (out / "index.html").read_text(encoding="utf-8")
    assert 'data-testid="user-data"' in page and entry["sha256"] in page
