"""Each role's main task through the app, end to end on a real workspace, records database and
run folder: the analyst uploads a CSV of observations and runs a draft evaluation, the
evaluator signs and publishes it (the site is rebuilt and the public page and the JSON API
show it), the administrator creates a user who can then sign in. Every write is in
``portal_audit``."""

from __future__ import annotations

import json
import re

import pytest

from cocity.web.auditlog import audit_trail
from tests.web_support import PASSWORD, Portal, add_user, make_app


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from cocity.data.store import Store
    from cocity.datasets import load_into

    root = tmp_path_factory.mktemp("tasks")
    store = Store.open(root / "ws", create=True)
    load_into(store, "chengyu")
    real = store.observations(indicators=["urban_share"], years=[2020]).head(5)
    store.close()
    application = make_app(root, root / "records.sqlite", workspace=root / "ws",
                           uploads_dir=root / "uploads")
    application.state.real_rows = real
    for login, role in (("ana", "analyst"), ("eva", "evaluator"), ("adm", "admin")):
        add_user(application, login, role)
    yield application
    application.state.portal.records.close()


def actions(app) -> list[str]:
    return [e.action for e in audit_trail(app.state.portal.records, limit=None)]


def test_the_analyst_imports_a_csv_runs_a_draft_and_the_evaluator_publishes_it(app) -> None:
    rows = app.state.real_rows
    csv = "unit,year,indicator,value\n" + "".join(
        f"{r.unit},{r.year},{r.indicator},{r.value}\n" for r in rows.itertuples())
    analyst = Portal(app)
    analyst.login("ana")
    response = analyst.post("/analyst/observations", {"form": "long"},
                            files={"file": ("城镇化率 2020.csv", csv.encode("utf-8"),
                                            "text/csv")})
    assert response.status_code == 303, response.text
    imported = audit_trail(app.state.portal.records, action="data.import")[0]
    assert imported.actor == "ana"
    assert imported.role == "analyst"
    assert imported.target == "城镇化率 2020.csv"
    assert imported.detail["records"] == len(rows)
    assert imported.detail["added"] + imported.detail["changed"] == 0  # the same real values

    response = analyst.post("/analyst/evaluate", {"replications": "2", "level": "prefecture"})
    assert response.status_code == 303, response.text
    run_id = response.headers["location"].rsplit("/", 1)[1]
    page = analyst.get(f"/analyst/runs/{run_id}")
    assert page.status_code == 200
    assert "草稿" in page.text and "DRAFT" not in page.text  # Chinese page: the draft note
    english = analyst.get(f"/analyst/runs/{run_id}?lang=en")
    assert "This is a DRAFT evaluation" in english.text
    draft = audit_trail(app.state.portal.records, action="evaluate.draft")[0]
    assert (draft.target, draft.detail["replications"]) == (run_id, 2)

    public = Portal(app)
    assert "尚未发布" in public.get("/").text

    evaluator = Portal(app)
    evaluator.login("eva")
    listing = evaluator.get("/evaluator")
    assert run_id in listing.text
    # an edited run is refused: nothing signed, nothing published, nothing audited
    folder = app.state.portal.runs_root / "runs" / run_id
    table = sorted((folder / "tables").glob("*.csv"))[0]
    original = table.read_bytes()
    table.write_bytes(original + b"\n")
    edited = evaluator.post(f"/evaluator/runs/{run_id}/sign", {"evaluator": "第三方评价中心"})
    assert edited.status_code == 400
    assert table.name in edited.text
    assert not app.state.portal.site_dir.exists()
    assert "edition.sign" not in actions(app)
    table.write_bytes(original)
    response = evaluator.post(f"/evaluator/runs/{run_id}/sign",
                              {"evaluator": "第三方评价中心", "statement": "依据评价框架复核"})
    assert response.status_code == 303, response.text
    assert "现行版次" in evaluator.get("/evaluator").text
    assert app.state.portal.site_dir.joinpath("index.html").is_file()

    home = public.get("/")
    assert home.status_code == 200
    assert "2020" in home.text
    index = public.get("/api/v1/editions")
    assert index.status_code == 200
    editions = index.json()["editions"]
    assert [(e["year"], e["run"], e["evaluator"]) for e in editions] == [
        (2020, run_id, "第三方评价中心")]
    # the API and the published static file say the same
    static = json.loads(app.state.portal.site_dir.joinpath("api/v1/editions.json").read_text(
        encoding="utf-8"))
    assert static == index.json()
    year_doc = public.get("/api/v1/editions/2020").json()
    assert year_doc == json.loads(app.state.portal.site_dir.joinpath(
        "api/v1/editions/2020.json").read_text(encoding="utf-8"))
    code = public.get("/api/v1/units").json()["units"][0]["unit"]
    assert public.get(f"/api/v1/units/{code}").json()["unit"] == code
    assert public.get("/api/v1/units/999999").status_code == 404
    signed = audit_trail(app.state.portal.records, action="edition.sign")[0]
    assert (signed.actor, signed.role, signed.target) == ("eva", "evaluator", run_id)
    assert {"data.import", "evaluate.draft", "edition.sign", "site.publish"} <= set(
        actions(app))


def test_the_administrator_creates_a_user_who_can_sign_in(app) -> None:
    admin = Portal(app)
    admin.login("adm")
    response = admin.client.post("/admin/users", data={
        "csrf_token": admin.csrf, "login": "zhao", "name": "赵六", "password": PASSWORD,
        "roles": ["secretary", "fund_manager"]})
    assert response.status_code == 303, response.text
    page = admin.get("/admin/users")
    assert "赵六" in page.text
    newcomer = Portal(app)
    assert newcomer.login("zhao").status_code == 303
    desk = newcomer.get("/portal")
    assert re.search("委员会秘书", desk.text) and "基金经办人" in desk.text
    added = audit_trail(app.state.portal.records, action="user.add", actor="adm")[0]
    assert added.target == "zhao"
    assert added.detail == {"name": "赵六", "roles": ["fund_manager", "secretary"]}
    trail = admin.get("/admin/audit?action=user.add")
    assert "zhao" in trail.text


def test_an_invalid_upload_shows_every_problem_and_imports_nothing(app) -> None:
    analyst = Portal(app)
    analyst.login("ana")
    before = len(actions(app))
    csv = ("unit,year,indicator,value\n不存在的县,2020,urban_share,50\n"
           "510100,2020,no_such_indicator,1\n")
    response = analyst.post("/analyst/observations", {"form": "long"},
                            files={"file": ("bad.csv", csv.encode("utf-8"), "text/csv")})
    assert response.status_code == 400
    assert "不存在的县" in response.text
    assert "no_such_indicator" in response.text
    assert response.text.count("不存在的县") == 2  # once per language, not again in a list
    assert "bad.csv" in response.text
    uploads = str(app.state.portal.settings.uploads_dir)
    assert uploads not in response.text and "observations/" not in response.text
    assert len(actions(app)) == before


def test_the_analyst_uploads_a_survey_that_is_validated_and_kept(app, tmp_path) -> None:
    from cocity.datasets import open_store
    from cocity.evaluate.survey import simulate_survey, write_survey

    store = open_store(app.state.portal.workspace, read_only=True)
    try:
        survey = simulate_survey(store, year=2020, n_per_unit=3, seed=5)  # flagged simulated
    finally:
        store.close()
    path = write_survey(survey, tmp_path / "问卷.csv")
    analyst = Portal(app)
    analyst.login("ana")
    response = analyst.post("/analyst/survey", {"year": "2020"},
                            files={"file": ("问卷.csv", path.read_bytes(), "text/csv")})
    assert response.status_code == 303, response.text
    kept = audit_trail(app.state.portal.records, action="survey.upload")[0]
    assert kept.detail["respondents"] == len(survey.responses)
    page = analyst.get("/analyst")
    assert "问卷.csv" in page.text
    assert f'value="{kept.detail["sha256"]}"' in page.text  # offered for a draft evaluation
    wrong_year = analyst.post("/analyst/evaluate", {"year": "2010", "survey":
                                                    kept.detail["sha256"]})
    assert wrong_year.status_code == 400
    assert "2020" in wrong_year.text and "2010" in wrong_year.text
