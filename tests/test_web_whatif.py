"""The portal's what-if page: a signed-in user's changes give the same result as the library
function beside the edition in force, nothing is written, bad input is refused in both
languages, and hostile text comes back escaped."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from cocity.web.roles import ROLES
from tests.web_support import Portal, add_user, make_app, store_small_run


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    from cocity.publish.editions import sign_edition

    root = tmp_path_factory.mktemp("whatif")
    app = make_app(root, root / "records.sqlite")
    run_id = store_small_run(root / "runs")
    sign_edition(app.state.portal.records, root / "runs" / "runs" / run_id,
                 evaluator="测试评价机构", statement="", actor="u_evaluator")
    for role in ROLES:
        add_user(app, f"u_{role}", role)
    portal = Portal(app)
    assert portal.login("u_secretary").status_code == 303
    yield portal, root / "runs" / "runs" / run_id
    app.state.portal.records.close()


def test_the_page_names_the_edition_it_compares_with(web) -> None:
    portal, run = web
    page = portal.get("/whatif")
    assert page.status_code == 200
    assert run.name in page.text and "测试评价机构" in page.text


def test_a_hospital_changes_what_the_library_says_and_writes_nothing(web) -> None:
    from cocity.datasets import open_store
    from cocity.plan.whatif import AddHospital, what_if

    portal, run = web
    before = _digest(run)
    page = portal.post("/whatif", {"hospitals": "资阳:800", "level": "prefecture"})
    assert page.status_code == 200, page.text
    assert _digest(run) == before
    store = open_store()
    try:
        ref = what_if(store, changes=[AddHospital("资阳", 800)], level="prefecture", run=run)
    finally:
        store.close()
    changed = ref.levels["prefecture"].changed
    assert "512000" in changed.index  # 资阳市 itself
    rows = re.findall(r"<tr>\s*<td>([^<]+) <span class=\"code\">(\d+)</span>", page.text)
    assert [code for _, code in rows] == [str(c) for c in changed.index]
    scenario = f"{float(changed.loc['512000', 'scenario_score']):,.2f}"
    assert scenario in page.text
    assert "用时" in page.text


def test_bad_changes_are_refused_in_both_languages(web) -> None:
    portal, _ = web
    page = portal.post("/whatif", {"beds": "火星:500", "level": "prefecture"})
    assert page.status_code == 400
    assert 'lang="zh-CN"' in page.text and 'lang="en"' in page.text
    assert "火星" in page.text
    empty = portal.post("/whatif", {"level": "prefecture"})
    assert empty.status_code == 400 and "at least one change" in empty.text


def test_hostile_text_is_shown_escaped(web) -> None:
    portal, _ = web
    page = portal.post("/whatif", {"beds": "<script>alert(1)</script>:{{7*7}}",
                                   "level": "prefecture"})
    assert page.status_code == 400
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text and "{{7*7}}" in page.text and ">49<" not in page.text


def test_anonymous_callers_are_sent_to_sign_in(web) -> None:
    portal, _ = web
    anonymous = Portal(portal.app)
    assert anonymous.get("/whatif").status_code == 303


def test_the_allocation_shows_at_the_funds_level_and_is_pointed_to_elsewhere(web) -> None:
    portal, _ = web
    page = portal.post("/whatif", {"hospitals": "资阳:800", "level": "prefecture",
                                   "fund": "10亿"})
    assert page.status_code == 200, page.text
    assert "基金按另一评价层级" in page.text and "基金分配（元" not in page.text
