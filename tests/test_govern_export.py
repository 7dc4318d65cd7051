"""The public event log (CSV, JSON) with its manifest, the Open311 GeoReport v2 view, and the
``cocity govern export`` / ``cocity govern stats`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from cocity.cli import app
from cocity.govern import GovernError, Register
from cocity.govern.export import EVENT_COLUMNS, open311_requests, write_export
from cocity.govern.recompute import main as recompute_main
from cocity.govern.recompute import recompute
from cocity.govern.stats import statistics
from cocity.outputs import sha256_file, verify_outputs
from cocity.records import Records, open_records
from tests.test_govern_stats import CD, CQ, tiny

runner = CliRunner()
# the GeoReport v2 "GET requests" response fields (http://wiki.open311.org/GeoReport_v2)
GEOREPORT_FIELDS = {"service_request_id", "status", "status_notes", "service_name",
                    "service_code", "description", "agency_responsible", "service_notice",
                    "requested_datetime", "updated_datetime", "expected_datetime", "address",
                    "address_id", "zipcode", "lat", "long", "media_url"}


@pytest.fixture(scope="session")
def unit_index():
    from cocity.data.units import UnitIndex
    from cocity.datasets import open_store

    return UnitIndex(open_store().units())


@pytest.fixture
def register(records: Records, unit_index) -> Register:
    return Register(records, units=unit_index)


def test_csv_export_with_manifest_recomputes(register: Register, tmp_path: Path) -> None:
    tiny(register)
    path = tmp_path / "events.csv"
    doc = write_export(register.records, path)
    assert doc["outputs"]["events"]["sha256"] == sha256_file(path)
    manifest = json.loads((tmp_path / "events.csv.manifest.json").read_text(encoding="utf-8"))
    assert verify_outputs(manifest, tmp_path) == []
    assert (manifest["rows"], manifest["simulated_cases"]) == (24, 1)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(frame.columns) == list(EVENT_COLUMNS)
    closing = frame[frame["to_state"] == "closed"]
    assert sorted(closing["resolved"]) == ["false", "true", "true"]
    assert set(frame.loc[frame["kind"] == "extend", "due"]) == {"2024-04-30"}
    assert set(frame.loc[frame["kind"] == "assign", "assigned_to"]) == {"另一局"}
    assert frame.loc[frame["seq"] == "1", "units"].tolist()[0] == f"{CD};{CQ}"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert verify_outputs(manifest, tmp_path) == [("events.csv", "changed")]


def test_json_export_holds_the_same_rows(register: Register, tmp_path: Path) -> None:
    tiny(register)
    write_export(register.records, tmp_path / "events.csv")
    write_export(register.records, tmp_path / "events.json", fmt="json")
    doc = json.loads((tmp_path / "events.json").read_text(encoding="utf-8"))
    assert (doc["format"], doc["simulated"], doc["columns"]) == (
        "cocity-govern-events", True, list(EVENT_COLUMNS))
    csv = pd.read_csv(tmp_path / "events.csv", dtype=str, keep_default_na=False)
    assert [str(e["case_id"]) + ":" + e["kind"] for e in doc["events"]] == [
        f"{a}:{b}" for a, b in zip(csv["case_id"], csv["kind"], strict=True)]


def test_unknown_format_is_refused_and_writes_nothing(register: Register,
                                                     tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(GovernError, match="xml"):
        write_export(register.records, out / "x.xml", fmt="xml")
    assert list(out.iterdir()) == []


def test_open311_requests_use_the_georeport_fields(register: Register) -> None:
    tiny(register)
    reqs = open311_requests(register.records, as_of="2024-12-31", lang="en")
    assert len(reqs) == 5
    for r in reqs:
        assert set(r) <= GEOREPORT_FIELDS
        assert r["status"] in ("open", "closed")
    first = reqs[0]  # case A: health, Chengdu + Chongqing, extended, closed resolved
    assert first["service_request_id"] == "1"
    assert (first["status"], first["service_code"], first["service_name"]) == (
        "closed", "health", "health care")
    assert first["status_notes"] == "closed; resolved"
    assert first["requested_datetime"] == "2024-01-10T00:00:00+08:00"
    assert first["updated_datetime"] == "2024-04-20T00:00:00+08:00"
    assert first["expected_datetime"] == "2024-04-30T00:00:00+08:00"
    assert "Chengdu" in first["address"] and "Chongqing" in first["address"]
    assert 30 < first["lat"] < 31.5 and 103 < first["long"] < 105  # Chengdu's point
    simulated = reqs[2]
    assert simulated["status_notes"] == "withdrawn; simulated case"
    open_one = reqs[3]
    assert (open_one["status"], open_one["agency_responsible"]) == ("open", "某局")
    assert reqs[4]["agency_responsible"] == "另一局"  # reassigned
    earlier = open311_requests(register.records, as_of="2024-03-31", lang="zh")
    assert [r["status"] for r in earlier] == ["open", "open", "closed"]
    assert earlier[2]["status_notes"] == "已办结；已解决"


def test_recompute_script_runs_on_the_published_file(register: Register, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    tiny(register)
    write_export(register.records, tmp_path / "events.csv")
    assert recompute_main([str(tmp_path / "events.csv"), "--as-of", "2024-12-31", "-o",
                           str(tmp_path / "stats.csv")]) == 0
    assert "simulated" in capsys.readouterr().err
    again = pd.read_csv(tmp_path / "stats.csv", keep_default_na=False, dtype={"key": str})
    direct = recompute(tmp_path / "events.csv", as_of="2024-12-31")
    assert again["opened"].tolist() == direct["opened"].tolist()
    assert int(direct.loc[direct["dimension"] == "overall", "closed"].iloc[0]) == 3


# -- the commands --------------------------------------------------------------------------
def run(*args: str, lang: str = "en") -> Result:
    return runner.invoke(app, ["--lang", lang, "govern", *args], env={"COLUMNS": "160"})


@pytest.fixture
def db(tmp_path: Path, unit_index) -> str:
    path = tmp_path / "records.sqlite"
    records = open_records(str(path))
    try:
        tiny(Register(records, units=unit_index))
    finally:
        records.close()
    return str(path)


def test_stats_command_prints_the_headline_and_flags_simulated(db: str) -> None:
    result = run("stats", "--db", db, "--as-of", "2024-12-31")
    assert result.exit_code == 0, result.output
    assert "on-time closure rate" in result.output and "66.7%" in result.output
    assert "resolution rate" in result.output and "100.6" in result.output
    assert "simulated" in result.output


def test_stats_command_writes_the_page_tables_and_manifest(db: str, tmp_path: Path) -> None:
    out = tmp_path / "stats"
    result = run("stats", "--db", db, "--as-of", "2024-12-31", "-o", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(doc["outputs"]) == {"html", "pdf", "pdf:en", "csv", "xlsx"}
    assert verify_outputs(doc, out) == []
    assert (doc["simulated"], doc["simulated_cases"], doc["cases"]) == (True, 1, 5)
    page = (out / "govern-stats.html").read_text(encoding="utf-8")
    assert page.index('data-testid="notice-simulated"') < page.index('id="headline"')
    assert "按时办结率" in page and "on-time closure rate" in page and "解决率" in page
    assert 'id="fig-cases"' in page and "2024Q3" in page
    table = pd.read_csv(out / "govern-stats.csv", keep_default_na=False, dtype={"key": str})
    records = open_records(db)
    try:
        expected = statistics(records, as_of="2024-12-31").table
    finally:
        records.close()
    assert table["closed"].tolist() == expected["closed"].tolist()
    assert (out / "govern-stats.pdf").read_bytes()[:4] == b"%PDF"


def test_export_command_and_refusals(db: str, tmp_path: Path) -> None:
    result = run("export", "--db", db, "--format", "open311", "-o", str(tmp_path / "r.json"))
    assert result.exit_code == 0, result.output
    assert len(json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))) == 5
    bad = run("export", "--db", db, "--format", "xml", "-o", str(tmp_path / "r.xml"))
    assert bad.exit_code == 2 and "unknown export format xml" in bad.output
    assert not (tmp_path / "r.xml").exists()
    late = run("stats", "--db", db, "--as-of", "2024-13-01")
    assert late.exit_code == 2 and "is not a date" in late.output
    missing = run("stats", "--db", str(tmp_path / "none.sqlite"))
    assert missing.exit_code == 2 and "Traceback" not in missing.output
