"""The committee's pages and public API on the real app and a real records database (SQLite,
and PostgreSQL for the main flow): a secretary registers a case, moves it through its states,
holds a meeting with minutes; the double submit, the version check, the CSRF check, hostile
text in every field, the roles, and the register's refusals shown in the page."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from cocity.records.schema import govern_cases, govern_events, govern_meetings, govern_minutes
from tests.web_support import Portal, add_user, make_app

KEY = re.compile(r'name="key" value="(web-[0-9a-f]{32})"')
SCRIPT = "<script>alert('x')</script>"
HOSTILE = (SCRIPT, "{{7*7}}", "'; DROP TABLE govern_cases; --")


def make(tmp_path: Any, url: str) -> Any:
    app = make_app(tmp_path, url)
    add_user(app, "zhang", "secretary")
    add_user(app, "wang", "fund_manager")
    add_user(app, "root", "admin")
    return app


@pytest.fixture
def app(tmp_path, records_url):
    application = make(tmp_path, records_url)
    yield application
    application.state.portal.records.close()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One SQLite app for the tests that write nothing (the role checks)."""
    root = tmp_path_factory.mktemp("shared")
    application = make(root, str(root / "records.sqlite"))
    yield application
    application.state.portal.records.close()


@pytest.fixture
def lite(tmp_path):
    application = make(tmp_path, str(tmp_path / "records.sqlite"))
    yield application
    application.state.portal.records.close()


def signed_in(app: Any, login: str) -> Portal:
    web = Portal(app)
    assert web.login(login).status_code == 303
    return web


def key_of(web: Portal, url: str) -> str:
    page = web.get(url)
    assert page.status_code == 200
    found = KEY.search(page.text)
    assert found is not None, f"no form key on {url}"
    return found.group(1)


def new_case(web: Portal, **change: str) -> dict[str, str]:
    return {"key": key_of(web, "/govern/cases/new"),
            "title": "示例：异地就医备案材料两地要求不一", "description": "两地材料清单不同",
            "category": "医疗", "units": "成都、重庆市", "lead": "四川省医疗保障局",
            "co": "重庆市医疗保障局", "source": "hotline", "priority": "high",
            "opened": "2025-01-06", "due": "2025-02-28", "reason": "12345热线转办", **change}


def change(web: Portal, case: int, what: str, **fields: str) -> Any:
    page = web.get(f"/govern/cases/{case}").text
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    data = {"key": key_of(web, f"/govern/cases/{case}"), "version": version.group(1),
            **fields}
    return web.post(f"/govern/cases/{case}/{what}", data)


def rows(app: Any, table: Any) -> list[Any]:
    with app.state.portal.records.read() as conn:
        return conn.execute(sa.select(table)).all()


def audit_rows(app: Any) -> list[tuple[str, str, str, str]]:
    from cocity.web.auditlog import audit_trail

    return [(a.actor, a.role, a.action, a.target)
            for a in reversed(audit_trail(app.state.portal.records))
            if a.action.startswith("govern.")]


def test_a_secretary_opens_a_case_moves_it_and_holds_a_meeting(app) -> None:
    zhang = signed_in(app, "zhang")
    data = new_case(zhang)
    added = zhang.post("/govern/cases", data)
    assert added.status_code == 303
    assert added.headers["location"] == "/govern/cases/1?done=added"
    assert zhang.post("/govern/cases", data).headers["location"] == \
        "/govern/cases/1?done=again"
    assert len(rows(app, govern_cases)) == 1
    page = zhang.get("/govern/cases/1").text
    # the transitions the state machine allows from 登记 registered, and no other
    offered = re.findall(r'<option value="(\w+)">', page.split('name="to"')[1].split(
        "</select>")[0])
    assert offered == ["accepted", "returned", "withdrawn"]
    assert "成都市 (510100)" in page
    form = {"effective": "2025-01-07", "reason": "受理"}
    assert change(zhang, 1, "transition", to="accepted", **form).status_code == 303
    moved = change(zhang, 1, "transition", to="in_progress", effective="2025-01-08",
                   reason="交医保部门办理")
    assert moved.headers["location"] == "/govern/cases/1?done=changed"
    extended = change(zhang, 1, "event", kind="extend", due="2025-03-31",
                      effective="2025-01-08", reason="需两地联合发文")
    assert extended.status_code == 303
    stale = zhang.post("/govern/cases/1/transition", {
        "key": key_of(zhang, "/govern/cases/1"), "version": "2", "to": "returned",
        "reason": "退回", "effective": "2025-01-08"})
    assert stale.status_code == 400
    assert "版本" in stale.text
    assert len(rows(app, govern_events)) == 4
    listed = zhang.get("/govern?as_of=2025-04-01").text
    assert "逾期" in listed.split("<tbody>")[1]
    assert "2025-03-31" in listed
    # the meeting: the calendar, the draft agenda, convening, the minutes
    calendar = zhang.get("/govern/meetings?year=2025").text
    assert "2025-01-09" in calendar and "2025-Q1-quarterly" in calendar
    agenda = zhang.get("/govern/meetings/agenda?date=2025-01-09&kind=monthly").text
    assert "/govern/cases/1" in agenda
    convened = zhang.post("/govern/meetings", {"date": "2025-01-09", "kind": "monthly",
                                               "reason": "1月工作会议"})
    assert convened.status_code == 303
    assert convened.headers["location"] == "/govern/meetings/1?done=convened"
    assert zhang.post("/govern/meetings", {"date": "2025-01-09", "kind": "monthly",
                                           "reason": "1月工作会议"}).headers["location"] \
        == "/govern/meetings/1?done=again"
    meeting = zhang.get("/govern/meetings/1").text
    assert 'name="decision_1"' in meeting
    minutes = {"decision_1": "resolve", "resolved_1": "yes", "reason_1": "两地清单已统一",
               "attendees": "四川省代表、重庆市代表、秘书处", "summary": "审议在办案件一件",
               "reason": "1月工作会议纪要"}
    recorded = zhang.post("/govern/meetings/1/minutes", minutes)
    assert recorded.status_code == 303
    case = zhang.get("/govern/cases/1").text
    assert "已办结" in case and "已解决" in case
    shown = zhang.get("/govern/meetings/1").text
    assert "四川省代表、重庆市代表、秘书处" in shown and 'name="decision_1"' not in shown
    assert [(e.seq, e.kind, e.to_state, e.resolved, e.meeting_id)
            for e in rows(app, govern_events)][-1] == (5, "state", "closed", True, 1)
    assert audit_rows(app) == [
        ("zhang", "secretary", "govern.case.add", "govern_case:1"),
        ("zhang", "secretary", "govern.case.transition", "govern_case:1"),
        ("zhang", "secretary", "govern.case.transition", "govern_case:1"),
        ("zhang", "secretary", "govern.case.event", "govern_case:1"),
        ("zhang", "secretary", "govern.meeting.convene", "govern_meeting:2025-01-monthly"),
        ("zhang", "secretary", "govern.meeting.minutes", "govern_meeting:2025-01-monthly")]
    stats = Portal(app).get("/api/v1/govern/statistics?as_of=2025-03-31")
    assert stats.status_code == 200
    overall = next(r for r in stats.json()["rows"] if r["dimension"] == "overall")
    assert (overall["opened"], overall["closed"], overall["closed_resolved"],
            overall["on_time_rate"], overall["median_days"]) == (1, 1, 1, 1.0, 3.0)
    for private in ("zhang", "受理", "两地清单已统一"):
        assert private not in stats.text


def test_minutes_missing_a_decision_write_nothing(lite) -> None:
    zhang = signed_in(lite, "zhang")
    for title in ("甲", "乙"):
        assert zhang.post("/govern/cases", new_case(zhang, title=title)).status_code == 303
    assert zhang.post("/govern/meetings", {"date": "2025-01-09", "kind": "monthly",
                                           "reason": "会议"}).status_code == 303
    refused = zhang.post("/govern/meetings/1/minutes", {
        "decision_1": "resolve", "resolved_1": "yes", "attendees": "秘书处",
        "reason": "纪要"})
    assert refused.status_code == 400
    assert "#2" in refused.text or "案件 2" in refused.text
    assert rows(lite, govern_minutes) == []
    assert {c.state for c in rows(lite, govern_cases)} == {"registered"}
    # what was typed is shown again
    assert '<option value="resolve" selected>' in refused.text
    unsolved = zhang.post("/govern/meetings/1/minutes", {
        "decision_1": "resolve", "decision_2": "continue", "attendees": "秘书处",
        "reason": "纪要"})
    assert unsolved.status_code == 400
    assert rows(lite, govern_minutes) == []


def test_a_form_without_its_csrf_token_writes_nothing(lite) -> None:
    zhang = signed_in(lite, "zhang")
    data = new_case(zhang)
    assert zhang.client.post("/govern/cases", data=data).status_code == 403
    assert zhang.client.post("/govern/meetings", data={
        "date": "2025-01-09", "kind": "monthly", "reason": "x"}).status_code == 403
    assert rows(lite, govern_cases) == [] and rows(lite, govern_meetings) == []
    assert zhang.post("/govern/cases", data).status_code == 303
    assert zhang.client.post("/govern/cases/1/transition", data={
        "key": key_of(zhang, "/govern/cases/1"), "version": "1", "to": "accepted",
        "reason": "受理"}).status_code == 403
    assert len(rows(lite, govern_events)) == 1
    assert [a[2] for a in audit_rows(lite)] == ["govern.case.add"]


def test_hostile_text_in_every_field_is_stored_verbatim_and_shown_escaped(lite) -> None:
    from cocity.govern import Register

    zhang = signed_in(lite, "zhang")
    for n, text in enumerate(HOSTILE, start=1):
        data = new_case(zhang, title=text, description=text, lead=text, co=text,
                        reason=text, opened=f"2025-01-0{n}")
        assert zhang.post("/govern/cases", data).status_code == 303
        assert change(zhang, n, "event", kind="assign", department=text,
                      effective=f"2025-01-0{n}", reason=text).status_code == 303
    register = Register(lite.state.portal.records)
    for n, text in enumerate(HOSTILE, start=1):
        record = register.case(n)
        case = record.case
        assert (case.title, case.description, case.lead_department, case.co_departments,
                case.reason) == (text, text, text, (text,), text)
        assert record.history[-1].detail == {"lead_department": text}
        assert record.history[-1].reason == text
        page = zhang.get(f"/govern/cases/{n}").text
        assert "<script>alert" not in page
    page = zhang.get("/govern/cases/1").text
    assert page.count("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") >= 7
    assert zhang.get("/govern/cases/2").text.count("{{7*7}}") >= 7
    assert zhang.post("/govern/meetings", {"date": "2025-01-09", "kind": "monthly",
                                           "reason": SCRIPT}).status_code == 303
    minutes = {"attendees": SCRIPT, "summary": "{{7*7}}", "reason": SCRIPT}
    for n in (1, 2, 3):
        minutes |= {f"decision_{n}": "assign", f"department_{n}": HOSTILE[n - 1],
                    f"reason_{n}": HOSTILE[2]}
    assert zhang.post("/govern/meetings/1/minutes", minutes).status_code == 303
    shown = zhang.get("/govern/meetings/1").text
    assert "<script>alert" not in shown
    assert "{{7*7}}" in shown
    listed = zhang.get("/govern").text
    assert "<script>alert" not in listed and "{{7*7}}" in listed
    assert len(rows(lite, govern_cases)) == 3  # the SQL text did not drop anything
    found = zhang.get("/govern", params={"state": SCRIPT})
    assert found.status_code == 400 and "<script>alert" not in found.text


@pytest.mark.parametrize(("login", "method", "url", "status"), [
    ("wang", "get", "/govern", 403),
    ("wang", "get", "/govern/meetings", 403),
    ("wang", "post", "/govern/cases", 403),
    ("root", "get", "/govern", 200),
    ("root", "get", "/govern/meetings?year=2025", 200),
    ("root", "get", "/govern/meetings/agenda", 200),
    ("root", "get", "/govern/cases/new", 403),
    ("root", "post", "/govern/cases", 403),
    ("root", "post", "/govern/meetings", 403),
    ("zhang", "get", "/govern/cases/99", 404),
    ("zhang", "get", "/govern/meetings/99", 404),
    ("", "get", "/govern", 303),
    ("", "get", "/api/v1/govern/statistics", 200),
])
def test_each_role_reaches_what_it_may_and_no_more(shared, login, method, url, status
                                                    ) -> None:
    web = signed_in(shared, login) if login else Portal(shared)
    if not login:
        web.refresh_token()
    response = web.get(url) if method == "get" else web.post(
        url, {"title": "t", "date": "2025-01-09", "kind": "monthly", "reason": "r"})
    assert response.status_code == status
    assert rows(shared, govern_cases) == [] and rows(shared, govern_meetings) == []


def test_the_admin_reads_the_register_without_forms(lite) -> None:
    zhang = signed_in(lite, "zhang")
    assert zhang.post("/govern/cases", new_case(zhang)).status_code == 303
    page = signed_in(lite, "root").get("/govern/cases/1")
    assert page.status_code == 200
    assert "/transition" not in page.text and "/event" not in page.text


@pytest.mark.parametrize(("fields", "says"), [
    ({"category": "天文"}, "category"),
    ({"units": "火星市"}, "火星市"),
    ({"due": "2024-12-31"}, "2024-12-31"),
    ({"title": "  "}, "不能为空"),
    ({"title": "x" * 301}, "过长"),
    ({"key": "hotline-1"}, "提交编号"),
])
def test_refusals_of_a_new_case_are_shown_and_write_nothing(lite, fields, says) -> None:
    zhang = signed_in(lite, "zhang")
    response = zhang.post("/govern/cases", new_case(zhang, **fields))
    assert response.status_code == 400
    assert says in response.text and 'class="refusal"' in response.text
    assert rows(lite, govern_cases) == [] and audit_rows(lite) == []


def test_changes_the_machine_or_the_dates_refuse_are_shown(lite) -> None:
    zhang = signed_in(lite, "zhang")
    assert zhang.post("/govern/cases", new_case(zhang)).status_code == 303
    jump = change(zhang, 1, "transition", to="closed", resolved="yes", reason="直接办结",
                  effective="2025-01-07")
    assert jump.status_code == 400
    assert "登记 registered" in jump.text
    early = change(zhang, 1, "transition", to="accepted", reason="受理",
                   effective="2025-01-01")
    assert early.status_code == 400 and "2025-01-06" in early.text
    odd = change(zhang, 1, "event", kind="follow_up", reason="x")
    assert odd.status_code == 400 and "follow_up" in odd.text
    assert len(rows(lite, govern_events)) == 1
    missing = zhang.post("/govern/cases/7/transition", {
        "key": key_of(zhang, "/govern/cases/1"), "version": "1", "to": "accepted",
        "reason": "x"})
    assert missing.status_code == 404


def test_the_case_list_filters_by_state_category_and_unit(lite) -> None:
    zhang = signed_in(lite, "zhang")
    assert zhang.post("/govern/cases", new_case(zhang)).status_code == 303
    assert zhang.post("/govern/cases", new_case(
        zhang, title="示例：公交接驳", category="交通", units="广安市")).status_code == 303
    assert change(zhang, 2, "transition", to="accepted", reason="受理",
                  effective="2025-01-07").status_code == 303

    def titles(**query: str) -> list[str]:
        page = zhang.get("/govern", params=query)
        assert page.status_code == 200
        return re.findall(r'<a href="/govern/cases/\d+">(示例[^<]+)</a>', page.text)

    assert titles() == ["示例：公交接驳", "示例：异地就医备案材料两地要求不一"]
    assert titles(state="accepted") == ["示例：公交接驳"]
    assert titles(category="医疗") == ["示例：异地就医备案材料两地要求不一"]
    assert titles(unit="成都") == ["示例：异地就医备案材料两地要求不一"]
    assert titles(unit="广安", overdue="true", as_of="2025-12-31") == ["示例：公交接驳"]
    assert titles(overdue="true", as_of="2025-01-10") == []


def test_the_statistics_api_is_documented(lite) -> None:
    schema = lite.openapi()
    ref = schema["paths"]["/api/v1/govern/statistics"]["get"]["responses"]["200"][
        "content"]["application/json"]["schema"]
    assert ref == {"$ref": "#/components/schemas/Statistics"}
    props = schema["components"]["schemas"]["StatisticsRow"]["properties"]
    assert {"on_time_rate", "resolution_rate", "overdue_open"} <= set(props)
    bad = Portal(lite).get("/api/v1/govern/statistics?as_of=not-a-date")
    assert bad.status_code == 400
    assert "not-a-date" in bad.json()["error"]["en"]
