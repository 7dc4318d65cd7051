"""The fund's pages and public API on the real app and a real records database (SQLite, and
PostgreSQL for the main flows): maker and checker through the portal, the double submit, the
CSRF check, hostile text, the roles, and the ledger's refusals shown in the page."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from cocity.records.schema import fund_entries, fund_requests
from tests.conftest import LEDGER_UNITS
from tests.web_support import Portal, add_user, make_app

HOSTILE = ("<script>alert('x')</script>", "{{7*7}}", "'; DROP TABLE fund_requests; --")
KEY = re.compile(r'name="key" value="(web-[0-9a-f]{32})"')
SETUP = {"actor": "setup", "role": "fund_manager"}


def open_books(records: Any) -> None:
    """A fund with 10,000,000 yuan earmarked for 自贡市 and 攀枝花市 (facilities)."""
    from cocity.fund.ledger import Ledger

    ledger = Ledger(records)
    ledger.open_fund(units=LEDGER_UNITS)
    ledger.contribute("central", 100_000_000_00, key="c1", reason="出资", document="d1",
                      **SETUP)
    ledger.fund_pools({"facilities": 60_000_000_00}, key="p1", reason="分池", **SETUP)
    ledger.post_allocation([("510300", "facilities", 10_000_000_00),
                            ("510400", "facilities", 10_000_000_00)], key="a1",
                           reason="分配", **SETUP)


def make(tmp_path: Any, url: str, *, books: bool = True) -> Any:
    app = make_app(tmp_path, url)
    add_user(app, "wang", "fund_manager", "fund_approver")  # may make AND check: not both
    add_user(app, "li", "fund_approver")
    add_user(app, "zhang", "secretary")
    add_user(app, "root", "admin")
    if books:
        open_books(app.state.portal.records)
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


def form_of(web: Portal) -> dict[str, str]:
    page = web.get("/fund/requests")
    assert page.status_code == 200
    found = KEY.search(page.text)
    assert found is not None, "the request form carries no key"
    return {"key": found.group(1), "unit": "自贡市", "use": "facilities", "amount": "50万",
            "document": "合同-2025-01", "reason": "医院一期"}


def requests_of(app: Any) -> list[Any]:
    with app.state.portal.records.read() as conn:
        return conn.execute(sa.select(fund_requests).order_by(fund_requests.c.id)).all()


def entries(app: Any) -> int:
    with app.state.portal.records.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(fund_entries))
                   .scalar_one())


def audit_rows(app: Any) -> list[tuple[str, str, str, str]]:
    from cocity.web.auditlog import audit_trail

    return [(a.actor, a.role, a.action, a.target)
            for a in reversed(audit_trail(app.state.portal.records))
            if a.action.startswith("fund.")]


def test_a_manager_requests_the_maker_cannot_approve_an_approver_approves(app) -> None:
    api = Portal(app)
    before = api.get("/api/v1/fund/sources-and-uses").json()
    assert before["disbursed_fen"] == 0
    assert before["committed_fen"] == 20_000_000_00
    wang = signed_in(app, "wang")
    data = form_of(wang)
    booked = wang.post("/fund/requests", data)
    assert booked.status_code == 303
    assert booked.headers["location"] == "/fund/requests?booked=1"
    again = wang.post("/fund/requests", data)  # the same form twice: one request
    assert again.headers["location"] == "/fund/requests?booked=1&again=1"
    assert [(r.id, r.unit_code, r.amount, r.actor, r.status) for r in requests_of(app)] == [
        (1, "510300", 500_000_00, "wang", "pending")]
    said = wang.get(again.headers["location"])
    assert "此前已登记" in said.text
    # the maker may hold the approver's role too; the ledger still refuses them
    refused = wang.post("/fund/requests/1/approve", {"reason": ""})
    assert refused.status_code == 400
    assert "不能由同一人审批或驳回" in refused.text
    assert "maker and checker must be different users" in refused.text
    assert requests_of(app)[0].status == "pending"
    posted_before = entries(app)
    li = signed_in(app, "li")
    approved = li.post("/fund/requests/1/approve", {"reason": "符合合同"})
    assert approved.status_code == 303
    assert approved.headers["location"] == "/fund/requests?approved=1"
    assert li.post("/fund/requests/1/approve", {"reason": "符合合同"}).status_code == 303
    assert entries(app) == posted_before + 1
    row = requests_of(app)[0]
    assert (row.status, row.checker) == ("approved", "li")
    after = api.get("/api/v1/fund/sources-and-uses").json()
    assert after["disbursed_fen"] == 500_000_00
    assert after["committed_fen"] == 20_000_000_00 - 500_000_00
    assert after["reconciles"] is True
    unit = [u for u in after["units"] if u["unit"] == "510300"]
    assert unit == [{"unit": "510300", "name_zh": "自贡市", "name_en": "Zigong",
                     "use": "facilities", "committed_fen": 10_000_000_00 - 500_000_00,
                     "disbursed_fen": 500_000_00}]
    balances = {a["account"]: a["balance_fen"]
                for a in api.get("/api/v1/fund/balances").json()["accounts"]}
    assert balances["disbursed:510300:facilities"] == 500_000_00
    assert audit_rows(app) == [("wang", "fund_manager", "fund.request", "fund_request:1"),
                               ("li", "fund_approver", "fund.approve", "fund_request:1")]
    verified = li.get("/fund/verify")
    assert verified.status_code == 200
    assert "账目完好" in verified.text


def test_a_form_without_its_csrf_token_is_refused_and_books_nothing(app) -> None:
    wang = signed_in(app, "wang")
    data = form_of(wang)
    refused = wang.client.post("/fund/requests", data=data)  # no csrf_token
    assert refused.status_code == 403
    forged = wang.client.post("/fund/requests", data={**data, "csrf_token": "forged"})
    assert forged.status_code == 403
    assert requests_of(app) == []
    assert wang.post("/fund/requests", data).status_code == 303
    li = signed_in(app, "li")
    assert li.client.post("/fund/requests/1/approve", data={}).status_code == 403
    assert li.client.post("/fund/requests/1/reject", data={"reason": "x"}).status_code == 403
    assert requests_of(app)[0].status == "pending"
    assert [a[2] for a in audit_rows(app)] == ["fund.request"]


def test_a_rejection_posts_nothing_and_is_recorded(lite) -> None:
    wang = signed_in(lite, "wang")
    assert wang.post("/fund/requests", form_of(wang)).status_code == 303
    posted = entries(lite)
    li = signed_in(lite, "li")
    empty = li.post("/fund/requests/1/reject", {"reason": "  "})
    assert empty.status_code == 400
    assert "不能为空" in empty.text
    assert li.post("/fund/requests/1/reject", {"reason": "材料不全"}).status_code == 303
    assert (requests_of(lite)[0].status, entries(lite)) == ("rejected", posted)
    late = li.post("/fund/requests/1/approve", {"reason": ""})
    assert late.status_code == 400
    assert "已被 li 处理" in late.text
    assert [a[2] for a in audit_rows(lite)] == ["fund.request", "fund.reject"]


def test_hostile_text_is_stored_verbatim_and_shown_escaped(lite) -> None:
    wang = signed_in(lite, "wang")
    for n, text in enumerate(HOSTILE):
        data = {**form_of(wang), "document": text, "reason": text, "amount": f"{n + 1}万"}
        assert wang.post("/fund/requests", data).status_code == 303
    stored = [(r.document, r.reason) for r in requests_of(lite)]
    assert stored == [(text, text) for text in HOSTILE]
    li = signed_in(lite, "li")
    assert li.post("/fund/requests/3/reject", {"reason": HOSTILE[0]}).status_code == 303
    assert li.post("/fund/requests/2/approve", {"reason": HOSTILE[1]}).status_code == 303
    page = li.get("/fund/requests").text
    assert "<script>alert" not in page
    assert page.count("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") == 3
    assert page.count("{{7*7}}") == 3  # request 2: document, reason, approval reason
    assert page.count("&#39;; DROP TABLE fund_requests; --") == 2
    statement = li.get("/fund/statement?account=disbursed:510300:facilities").text
    assert "{{7*7}}" in statement
    with lite.state.portal.records.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(fund_requests)
                            ).scalar_one() == 3


@pytest.mark.parametrize(("login", "method", "url", "status"), [
    ("zhang", "get", "/fund", 403),
    ("zhang", "get", "/fund/requests", 403),
    ("zhang", "post", "/fund/requests", 403),
    ("li", "post", "/fund/requests", 403),
    ("root", "post", "/fund/requests", 403),
    ("root", "post", "/fund/requests/1/approve", 403),
    ("root", "get", "/fund", 200),
    ("root", "get", "/fund/balances", 200),
    ("root", "get", "/fund/requests", 200),
    ("root", "get", "/fund/statement", 200),
    ("root", "get", "/fund/verify", 200),
    ("li", "get", "/fund/balances?all=1", 200),
    ("", "get", "/fund", 303),
    ("", "get", "/api/v1/fund/balances", 200),
    ("", "get", "/api/v1/fund/sources-and-uses", 200),
])
def test_each_role_reaches_what_it_may_and_no_more(shared, login, method, url, status
                                                    ) -> None:
    web = signed_in(shared, login) if login else Portal(shared)
    if not login:
        web.refresh_token()
    response = web.get(url) if method == "get" else web.post(
        url, {"reason": "x", "key": "web-" + "0" * 32, "unit": "自贡市", "amount": "1万",
              "document": "d"})
    assert response.status_code == status
    assert requests_of(shared) == []


def test_the_admin_reads_the_books_but_sees_no_form(lite) -> None:
    page = signed_in(lite, "root").get("/fund/requests")
    assert page.status_code == 200
    assert 'action="/fund/requests"' not in page.text
    assert "申请列表" in page.text


@pytest.mark.parametrize(("change", "says"), [
    ({"amount": "五十万"}, "金额「五十万」无法使用"),
    ({"amount": "-5"}, "金额「-5」无法使用"),
    ({"amount": "2000万"}, "不足以拨付"),
    ({"unit": "火星市"}, "基金中没有单位「火星市」"),
    ({"use": "yachts"}, "没有用途「yachts」"),
    ({"document": ""}, "不能为空"),
    ({"reason": "x" * 2001}, "过长"),
    ({"key": "c1"}, "提交编号"),
])
def test_refusals_are_shown_in_the_page_and_book_nothing(lite, change, says) -> None:
    wang = signed_in(lite, "wang")
    response = wang.post("/fund/requests", {**form_of(wang), **change})
    assert response.status_code == 400
    assert says in response.text
    assert 'class="refusal"' in response.text
    assert requests_of(lite) == []
    assert audit_rows(lite) == []


def test_a_refusal_reads_in_english_too(lite) -> None:
    wang = signed_in(lite, "wang")
    wang.get("/fund?lang=en")
    response = wang.post("/fund/requests", {**form_of(wang), "amount": "2000万"})
    assert response.status_code == 400
    english = response.text.index("a disbursement cannot exceed what was earmarked")
    assert english < response.text.index("不足以拨付")  # the page's language first


def test_the_statement_of_an_account_has_its_running_balance(lite) -> None:
    li = signed_in(lite, "li")
    page = li.get("/fund/statement?account=pool:facilities")
    assert page.status_code == 200
    cells = re.findall(r'<td class="num">([\d,.]*)</td>', page.text)
    # newest first (debit, credit, balance): the earmark of 20,000,000 from 60,000,000 pooled
    assert cells == ["", "20,000,000.00", "40,000,000.00", "60,000,000.00", "",
                     "60,000,000.00"]
    unknown = li.get("/fund/statement?account=pool:yachts")
    assert unknown.status_code == 400
    assert "pool:yachts" in unknown.text


def test_without_a_fund_the_pages_say_so_and_the_api_is_404(tmp_path) -> None:
    app = make(tmp_path, str(tmp_path / "empty.sqlite"), books=False)
    try:
        page = signed_in(app, "li").get("/fund/requests")
        assert page.status_code == 200
        assert "cocity fund init" in page.text
        assert str(tmp_path) not in page.text  # the database's location is not shown
        api = Portal(app).get("/api/v1/fund/balances")
        assert api.status_code == 404
        assert "cocity fund init" in api.json()["error"]["en"]
    finally:
        app.state.portal.records.close()


def test_the_api_is_documented_and_public_fields_only(lite) -> None:
    wang = signed_in(lite, "wang")
    assert wang.post("/fund/requests", form_of(wang)).status_code == 303
    text = Portal(lite).get("/api/v1/fund/sources-and-uses").text
    for private in ("wang", "医院一期", "合同-2025-01", "setup"):
        assert private not in text
    schema = lite.openapi()
    paths = schema["paths"]
    for path, model in (("/api/v1/fund/balances", "FundBalances"),
                        ("/api/v1/fund/sources-and-uses", "SourcesAndUses")):
        ref = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ref == {"$ref": f"#/components/schemas/{model}"}
    assert "balance_fen" in schema["components"]["schemas"]["AccountBalance"]["properties"]
