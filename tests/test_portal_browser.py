"""The portal in a real browser: Playwright driving Debian's chromium against ``cocity serve``
(tests/portal_server.py) — each role signs in through the login form and does its main task
end to end with clicks and typing.

Every page of every scenario is watched (:class:`Watch`): a console error, a Content-Security-
Policy violation, an uncaught page error, a request outside the server's origin or a response
≥ 500 fails the test; a 4xx answer is allowed only where the scenario expects it (the 403
page). Each role's main page is photographed into ``tmp_path`` and the picture must not be
blank. Chromium cannot be downloaded here: without ``/usr/bin/chromium`` the tests FAIL.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright

from cocity.i18n import t
from tests.portal_server import (
    DRAFT_YEAR,
    FIRST_EVALUATOR,
    FUND_UNITS,
    PASSWORD,
    SIGNED_YEAR,
    PortalServer,
    portal_server,
)

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SLOW_MS = 90_000  # signing and publishing, a draft evaluation: seconds on a shared machine
__all__ = ["portal_server"]  # the module-scoped server fixture, imported for pytest


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is absent (/usr/bin/chromium): apt-get install chromium "
                    "fonts-noto-cjk — the browser tests need it and cannot download one")
    with sync_playwright() as play:
        launched = play.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


class Watch:
    """Everything that goes wrong in a browser context: console errors and CSP violations,
    uncaught page errors, requests outside ``origin``, server errors, and 4xx answers other
    than those allowed (``allow(status, path)``)."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.allowed: list[tuple[int, re.Pattern[str]]] = []
        self._expected_logs = 0

    def allow(self, status: int, path: str) -> None:
        """An answer ``status`` to a path matching the regular expression ``path`` is what
        the scenario expects (Chromium logs the failed load of such a page once as a console
        error, which is then expected too)."""
        self.allowed.append((status, re.compile(path)))

    def attach(self, page: Page) -> None:
        page.on("console", lambda msg: self._console(page, msg))
        page.on("pageerror", lambda exc: self.problems.append(
            f"uncaught error on {page.url}: {exc}"))
        page.on("request", self._request)
        page.on("response", self._response)

    def _console(self, page: Page, msg: Any) -> None:
        source = (msg.location or {}).get("url") or "?"
        text = f"{msg.text} [{source}]"
        if re.search(r"content.security.policy", text, re.I):
            self.problems.append(f"CSP violation on {page.url}: {text}")
        elif msg.type == "error":
            status = re.search(r"status of (\d{3})", text)
            if status and self._expected_logs > 0 and int(status.group(1)) in {
                    s for s, _ in self.allowed}:
                self._expected_logs -= 1
                return
            self.problems.append(f"console error on {page.url}: {text}")

    def _request(self, request: Any) -> None:
        url = request.url
        self.requests.append(url)
        if not (url.startswith(self.origin + "/") or url.startswith("data:")):
            self.problems.append(f"request outside {self.origin}: {request.method} {url}")

    def _response(self, response: Any) -> None:
        status = response.status
        path = response.url.removeprefix(self.origin).split("?")[0]
        if status >= 500:
            self.problems.append(f"server error {status} on {response.url}")
        elif 400 <= status < 500:
            if any(s == status and p.fullmatch(path) for s, p in self.allowed):
                self._expected_logs += 1
            else:
                self.problems.append(f"unexpected {status} on {response.url}")

    def check(self) -> None:
        assert not self.problems, "\n".join(self.problems)
        assert self.requests, "no request was seen: the watch is not attached"


@contextmanager
def visit(browser: Browser, server: PortalServer, *,
          allow: tuple[tuple[int, str], ...] = ()) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page on the server, watched (``allow``: the
    4xx answers the scenario expects, as ``(status, path pattern)``); the watch is checked when the
    scenario ends."""
    context = browser.new_context(base_url=server.base_url, locale="zh-CN",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    watch = Watch(server.base_url)
    for status, path in allow:
        watch.allow(status, path)
    page = context.new_page()
    watch.attach(page)
    try:
        yield page
    finally:
        context.close()
    watch.check()


def sign_in(page: Page, login: str, *, then: str = "/portal") -> None:
    """Through the login form, as a person does: type the login and the password, click."""
    if "/login" not in page.url:
        page.goto("/login")
    page.get_by_label(t("web.login.login", "zh")).fill(login)
    page.get_by_label(t("web.login.password", "zh")).fill(PASSWORD)
    page.get_by_role("button", name=t("web.login.submit", "zh")).click()
    page.wait_for_url(re.compile(re.escape(then) + r"(\?.*)?$"))


def photograph(page: Page, path: Path) -> None:
    """A screenshot of the window that must not be blank: at least 2 % of its pixels differ from
    the most common colour (the background) and it has more than 50 colours."""
    page.screenshot(path=str(path))
    image = Image.open(path).convert("RGB")
    counts = image.getcolors(maxcolors=1 << 24)
    assert counts is not None
    total = image.width * image.height
    background = max(counts)[0]
    assert len(counts) > 50, f"{path.name}: only {len(counts)} colours"
    assert (total - background) / total > 0.02, f"{path.name} is blank"


def heading(page: Page) -> str:
    return page.locator("main h1").first.inner_text().strip()


# -- public -----------------------------------------------------------------------------
def test_public_site_edition_unit_search_language_and_api(
        portal_server: PortalServer, browser: Browser, tmp_path: Path) -> None:
    with visit(browser, portal_server) as page:
        page.goto("/")
        assert heading(page) == t("publish.site.title", "zh")
        row = page.locator("#editions tbody tr", has_text=str(SIGNED_YEAR))
        expect(row).to_contain_text(FIRST_EVALUATOR)
        photograph(page, tmp_path / "public-home.png")

        row.get_by_role("link", name=t("publish.site.edition.title", "zh",
                                        year=SIGNED_YEAR)).click()
        page.wait_for_url(f"**/editions/{SIGNED_YEAR}/index.html")
        assert heading(page) == t("publish.site.edition.title", "zh", year=SIGNED_YEAR)

        # the search box: typing a name lists the unit; choosing it opens the unit's page
        search = page.get_by_label(t("publish.site.search.label", "zh"))
        search.fill("成都")
        hit = page.locator("#unit-results a", has_text="510100")
        expect(hit).to_be_visible()
        hit.click()
        page.wait_for_url("**/units/510100.html")
        assert heading(page) == t("publish.site.unit.title", "zh", name="成都市", code="510100")
        search = page.get_by_label(t("publish.site.search.label", "zh"))
        search.fill("nothing-like-a-unit")
        expect(page.locator("#unit-results")).to_have_text(t("publish.site.search.none", "zh"))

        # 中文 → English on the same page, and back
        page.get_by_role("link", name=t("publish.site.lang_switch", "zh")).click()
        page.wait_for_url("**/en/units/510100.html")
        assert page.locator("html").get_attribute("lang") == "en"
        assert heading(page) == t("publish.site.unit.title", "en", name="Chengdu",
                                  code="510100")
        page.get_by_role("link", name=t("publish.site.lang_switch", "en")).click()
        page.wait_for_url(re.compile(r"/units/510100\.html$"))
        assert "/en/" not in page.url and heading(page).startswith("成都市")

        # the JSON API, as a browser fetches it: the same document as the published file
        answer = page.goto(f"/api/v1/editions/{SIGNED_YEAR}")
        assert answer is not None and answer.ok
        assert answer.headers["content-type"].startswith("application/json")
        doc = json.loads(answer.text())
        stored = portal_server.deployment.site_dir / f"api/v1/editions/{SIGNED_YEAR}.json"
        assert doc == json.loads(stored.read_text(encoding="utf-8"))
        assert doc["year"] == SIGNED_YEAR
        unit = json.loads(page.goto("/api/v1/units/510100").text())
        assert unit["unit"] == "510100" and unit["name_zh"] == "成都市"
        spec = json.loads(page.goto("/api/openapi.json").text())
        assert {"/api/v1/editions", "/api/v1/units/{code}"} <= set(spec["paths"])
        index = page.goto("/api/v1/editions.json")
        assert index is not None and index.ok
        assert [e["year"] for e in json.loads(index.text())["editions"]] == [SIGNED_YEAR]

        # the portal's own pages switch language too
        page.goto("/login")
        assert heading(page) == t("web.login.title", "zh")
        page.get_by_role("link", name=t("web.lang.switch", "zh")).click()
        page.wait_for_url("**/login?lang=en")
        assert heading(page) == t("web.login.title", "en")
        assert page.locator("html").get_attribute("lang") == "en"
        page.goto("/login?lang=zh")


# -- analyst ----------------------------------------------------------------------------
def test_analyst_uploads_observations_and_runs_a_draft(
        portal_server: PortalServer, browser: Browser, tmp_path: Path) -> None:
    with visit(browser, portal_server) as page:
        page.goto("/analyst")  # anonymous: sent to sign in, then brought back
        page.wait_for_url("**/login?next=%2Fanalyst")
        sign_in(page, "ana", then="/analyst")
        assert heading(page) == t("web.nav.analyst", "zh")
        photograph(page, tmp_path / "analyst.png")

        upload = page.locator("form[action='/analyst/observations']")
        upload.get_by_label(t("web.analyst.file", "zh")).set_input_files(
            portal_server.deployment.observations_csv)
        upload.get_by_label(t("web.analyst.form", "zh")).select_option("long")
        upload.get_by_role("button", name=t("web.analyst.import", "zh")).click()
        page.wait_for_url("**/analyst?done=import")
        expect(page.get_by_role("status")).to_have_text(t("web.analyst.done_import", "zh"))

        draft = page.locator("form[action='/analyst/evaluate']")
        draft.get_by_label(t("web.analyst.year", "zh")).fill(str(SIGNED_YEAR))
        draft.get_by_label(t("web.runs.replications", "zh")).fill("2")
        draft.get_by_label(t("web.analyst.level", "zh")).select_option("prefecture")
        draft.get_by_role("button", name=t("web.analyst.run", "zh")).click()
        page.wait_for_url(re.compile(r"/analyst/runs/\d{4}-[0-9a-f]+$"), timeout=SLOW_MS)
        run_id = page.url.rsplit("/", 1)[1]
        assert run_id.startswith(str(SIGNED_YEAR))
        expect(page.get_by_role("status")).to_have_text(t("web.runs.draft_note", "zh"))

        page.get_by_role("link", name=t("web.nav.analyst", "zh")).click()
        row = page.locator("table.runs tr", has=page.get_by_role("link", name=run_id))
        expect(row.locator("td.status-draft")).to_have_text(t("web.runs.status_draft", "zh"))


# -- evaluator --------------------------------------------------------------------------
def test_evaluator_signs_and_publishes_an_edition(
        portal_server: PortalServer, browser: Browser, tmp_path: Path) -> None:
    draft = portal_server.deployment.draft_run
    who = "某第三方评估中心（浏览器测试）"
    with visit(browser, portal_server) as page:
        sign_in(page, "eva")
        page.get_by_role("link", name=t("web.nav.evaluator", "zh")).click()
        assert heading(page) == t("web.nav.evaluator", "zh")
        photograph(page, tmp_path / "evaluator.png")
        row = page.locator("table.runs tr", has=page.get_by_role("link", name=draft))
        expect(row.locator("td.status-draft")).to_have_text(t("web.runs.status_draft", "zh"))
        row.get_by_label(t("web.runs.evaluator", "zh")).fill(who)
        row.get_by_label(t("web.runs.statement", "zh")).fill("经核验，同意发布。")
        row.get_by_role("button", name=t("web.runs.sign_publish", "zh")).click()
        page.wait_for_url("**/evaluator?done=published", timeout=SLOW_MS)
        expect(page.get_by_role("status")).to_have_text(t("web.evaluator.published", "zh"))

        # the public pages now carry the new edition beside the first one
        page.goto("/")
        editions = page.locator("#editions tbody tr")
        expect(editions).to_have_count(2)
        new = editions.filter(has_text=str(DRAFT_YEAR))
        expect(new).to_contain_text(who)
        new.get_by_role("link", name=t("publish.site.edition.title", "zh",
                                        year=DRAFT_YEAR)).click()
        page.wait_for_url(f"**/editions/{DRAFT_YEAR}/index.html")
        assert heading(page) == t("publish.site.edition.title", "zh", year=DRAFT_YEAR)
        years = json.loads(page.goto("/api/v1/editions.json").text())["editions"]
        assert sorted(e["year"] for e in years) == [DRAFT_YEAR, SIGNED_YEAR]


# -- fund manager and fund approver ----------------------------------------------------
def _request_disbursement(page: Page, *, amount: str, document: str) -> int:
    """Fill and send the fund manager's request form; the number of the booked request."""
    page.get_by_role("link", name=t("web_pages.nav.fund", "zh")).first.click()
    page.locator("main").get_by_role("link", name=t("web_pages.fund.requests", "zh"),
                                     exact=True).click()
    form = page.locator("form[action='/fund/requests']")
    form.get_by_label(t("web_pages.field.unit", "zh")).fill(FUND_UNITS["510300"][0])
    form.get_by_label(t("web_pages.field.use", "zh")).select_option("facilities")
    form.get_by_label(t("web_pages.field.amount", "zh")).fill(amount)
    form.get_by_label(t("web_pages.field.document", "zh")).fill(document)
    form.get_by_label(t("web_pages.field.reason", "zh")).fill("医院一期（浏览器测试）")
    form.get_by_role("button", name=t("web_pages.fund.submit_request", "zh")).click()
    page.wait_for_url(re.compile(r"/fund/requests\?booked=\d+$"))
    number = int(page.url.rsplit("=", 1)[1])
    expect(page.get_by_role("status")).to_have_text(t("web_pages.fund.booked", "zh",
                                                      id=number))
    return number


def _request_row(page: Page, number: int) -> Any:
    return page.locator("main table tbody tr").filter(
        has=page.locator("td:first-child", has_text=re.compile(rf"^{number}$")))


def test_fund_manager_requests_and_another_person_approves(
        portal_server: PortalServer, browser: Browser, tmp_path: Path) -> None:
    pending = t("web_pages.fund.status.pending", "zh")
    with visit(browser, portal_server) as page:
        sign_in(page, "wang")
        number = _request_disbursement(page, amount="50万", document="合同-2026-01")
        photograph(page, tmp_path / "fund-manager.png")
        row = _request_row(page, number)
        expect(row).to_contain_text(pending)
        expect(row).to_contain_text("500,000.00")
        # the maker has no approver's buttons
        expect(row.get_by_role("button", name=t("web_pages.fund.approve", "zh"))).to_have_count(0)

    with visit(browser, portal_server) as page:
        sign_in(page, "li")
        page.goto("/fund/requests")
        row = _request_row(page, number)
        expect(row).to_contain_text(pending)
        photograph(page, tmp_path / "fund-approver.png")
        row.get_by_placeholder(t("web_pages.field.reason_optional", "zh")).fill("核对无误")
        row.get_by_role("button", name=t("web_pages.fund.approve", "zh")).click()
        page.wait_for_url(f"**/fund/requests?approved={number}")
        expect(page.get_by_role("status")).to_have_text(t("web_pages.fund.approved", "zh",
                                                          id=number))
        row = _request_row(page, number)
        expect(row).to_contain_text(t("web_pages.fund.status.approved", "zh"))
        expect(row).to_contain_text("li")


def test_a_maker_who_is_also_an_approver_cannot_approve_their_own_request(
        portal_server: PortalServer, browser: Browser) -> None:
    with visit(browser, portal_server, allow=((400, r"/fund/requests/\d+/approve"),)) as page:
        sign_in(page, "zhao")
        number = _request_disbursement(page, amount="12万", document="合同-2026-02")
        row = _request_row(page, number)
        row.get_by_role("button", name=t("web_pages.fund.approve", "zh")).click()
        refusal = page.get_by_role("alert")
        expect(refusal).to_contain_text(t("fund.err.maker_checker", "zh", request=number,
                                          actor="zhao"))
        expect(refusal).to_contain_text(t("fund.err.maker_checker", "en", request=number,
                                          actor="zhao"))
        page.goto("/fund/requests")
        expect(_request_row(page, number)).to_contain_text(
            t("web_pages.fund.status.pending", "zh"))


# -- committee secretary ----------------------------------------------------------------
def test_secretary_opens_a_case_moves_it_and_holds_a_meeting_with_minutes(
        portal_server: PortalServer, browser: Browser, tmp_path: Path) -> None:
    from cocity.govern.stats import china_today

    today = china_today()
    title = "跨市就医备案手续繁琐（浏览器测试）"
    with visit(browser, portal_server) as page:
        sign_in(page, "zhang")
        page.get_by_role("link", name=t("web_pages.nav.govern", "zh")).first.click()
        assert heading(page) == t("web_pages.govern.cases", "zh")

        page.locator("main").get_by_role("link", name=t("web_pages.govern.new_case", "zh")).click()
        form = page.locator("form[action='/govern/cases']")
        form.get_by_label(t("web_pages.field.title", "zh")).fill(title)
        form.get_by_label(t("web_pages.field.category", "zh")).select_option("health")
        form.get_by_label(t("web_pages.field.units", "zh")).fill("成都、重庆市")
        form.get_by_label(t("web_pages.field.lead", "zh")).fill("成都市医疗保障局")
        form.get_by_label(t("web_pages.field.due", "zh")).fill(
            (today + dt.timedelta(days=60)).isoformat())
        form.get_by_label(t("web_pages.field.reason", "zh")).fill("群众来电反映")
        form.get_by_role("button", name=t("web_pages.govern.add", "zh")).click()
        page.wait_for_url(re.compile(r"/govern/cases/\d+\?done=added$"))
        case_id = int(re.search(r"/cases/(\d+)", page.url).group(1))  # type: ignore[union-attr]
        assert heading(page) == f"#{case_id} {title}"
        expect(page.get_by_role("status")).to_have_text(t("web_pages.govern.done.added", "zh"))
        state = page.locator("main table").first.locator("tr").first
        expect(state).to_contain_text("登记")

        # move it: 登记 → 受理
        move = page.locator(f"form[action='/govern/cases/{case_id}/transition']")
        move.get_by_label(t("web_pages.govern.to_state", "zh")).select_option("accepted")
        move.get_by_label(t("web_pages.field.reason", "zh")).fill("材料齐全，予以受理")
        move.get_by_role("button", name=t("web_pages.govern.record", "zh")).click()
        page.wait_for_url(f"**/govern/cases/{case_id}?done=changed")
        state = page.locator("main table").first.locator("tr").first
        expect(state).to_contain_text("受理")

        # the month's meeting: its agenda holds the open case; convene it, record minutes
        page.locator("main").get_by_role("link", name=t("web_pages.govern.agenda", "zh")).click()
        agenda = page.locator("main table")
        expect(agenda.get_by_role("link", name=str(case_id), exact=True)).to_be_visible()
        convene = page.locator("form[action='/govern/meetings']")
        convene.get_by_label(t("web_pages.field.reason", "zh")).fill("月度工作会议")
        convene.get_by_role("button").click()
        page.wait_for_url(re.compile(r"/govern/meetings/\d+\?done=convened$"))
        expect(page.get_by_role("status")).to_have_text(
            t("web_pages.govern.done.convened", "zh"))
        item = page.locator("main table tbody tr").filter(
            has=page.get_by_role("link", name=str(case_id), exact=True))
        item.get_by_label(t("govern.meet.doc.c.decision", "zh")).select_option("continue")
        minutes = page.locator("form[action$='/minutes']")
        minutes.get_by_label(t("web_pages.govern.attendees", "zh")).fill("张秘书、王委员")
        minutes.get_by_label(t("web_pages.field.reason", "zh")).fill("会议纪要")
        minutes.get_by_role("button", name=t("web_pages.govern.record_minutes", "zh")).click()
        page.wait_for_url(re.compile(r"/govern/meetings/\d+\?done=minutes$"))
        expect(page.get_by_role("status")).to_have_text(t("web_pages.govern.done.minutes", "zh"))
        expect(page.locator("main")).to_contain_text("张秘书、王委员")
        expect(page.locator("main h2", has_text=t("web_pages.govern.minutes", "zh"))
               ).to_have_count(1)
        photograph(page, tmp_path / "secretary-minutes.png")

        # the register lists the case, accepted, with its units
        page.locator("main").get_by_role("link", name=t("web_pages.govern.cases", "zh"),
                                         exact=True).click()
        row = page.locator("main table tbody tr", has_text=title)
        expect(row).to_contain_text("受理")
        expect(row).to_contain_text("成都市、重庆市")
        photograph(page, tmp_path / "secretary.png")


# -- admin ------------------------------------------------------------------------------
def test_admin_creates_a_user_and_gives_a_role(
        portal_server: PortalServer, browser: Browser, tmp_path: Path) -> None:
    newbie = "newbie"
    with visit(browser, portal_server) as page:
        sign_in(page, "root")
        page.get_by_role("link", name=t("web.nav.users", "zh")).click()
        assert heading(page) == t("web.nav.users", "zh")
        photograph(page, tmp_path / "admin.png")
        add = page.locator("form[action='/admin/users']")
        add.get_by_label(t("web.login.login", "zh")).fill(newbie)
        add.get_by_label(t("web.admin.name", "zh")).fill("新同事")
        add.get_by_label(t("web.login.password", "zh")).fill(PASSWORD)
        add.get_by_label(t("web.role.analyst", "zh")).check()
        add.get_by_role("button", name=t("web.admin.add", "zh")).click()
        page.wait_for_url("**/admin/users?done=add")
        row = page.locator("table.users tbody tr", has_text=newbie)
        expect(row.get_by_label(t("web.role.analyst", "zh"))).to_be_checked()
        expect(row.get_by_label(t("web.role.evaluator", "zh"))).not_to_be_checked()

        row.get_by_label(t("web.role.evaluator", "zh")).check()
        row.get_by_role("button", name=t("web.admin.set_roles", "zh")).click()
        page.wait_for_url("**/admin/users?done=roles")
        row = page.locator("table.users tbody tr", has_text=newbie)
        expect(row.get_by_label(t("web.role.evaluator", "zh"))).to_be_checked()

    # the new user signs in and may use the role just given
    with visit(browser, portal_server) as page:
        sign_in(page, newbie)
        page.get_by_role("link", name=t("web.nav.evaluator", "zh")).click()
        assert heading(page) == t("web.nav.evaluator", "zh")


# -- the wrong role ---------------------------------------------------------------------
def test_a_wrong_role_gets_the_403_page(portal_server: PortalServer, browser: Browser,
                                        tmp_path: Path) -> None:
    with visit(browser, portal_server, allow=((403, "/admin/users"),)) as page:
        sign_in(page, "ana")
        expect(page.get_by_role("link", name=t("web.nav.users", "zh"))).to_have_count(0)
        answer = page.goto("/admin/users")
        assert answer is not None and answer.status == 403
        assert heading(page) == "403"
        expect(page.get_by_role("alert")).to_contain_text(
            t("web.err.forbidden", "zh", roles="admin"))
        expect(page.get_by_role("alert")).to_contain_text(
            t("web.err.forbidden", "en", roles="admin"))
        photograph(page, tmp_path / "forbidden.png")
