"""The fund's pages (民生协同基金) and its public JSON API.

Pages (``/fund…``): the sources and uses, the balances, the disbursement requests, the
statement of an account and the audit (``verify``) — read by the fund manager, the fund
approver and the administrator (read-only: an administrator manages users, not money); a fund
manager requests a disbursement, a fund approver approves or rejects a pending request. Every
write is the same :class:`cocity.fund.ledger.Ledger` call as ``cocity fund disburse`` /
``approve`` / ``reject`` (the unit and use named as on the command line,
:func:`cocity.fund.desk.unit_code`; the amount as people write it,
:func:`cocity.fund.money.parse_yuan`; a conditional line refused as
:func:`cocity.fund.desk.guard_conditional` refuses it), acting as the signed-in user in the
role the route admitted, and is recorded with :func:`cocity.web.deps.audit` once it is
booked (a replayed form books nothing and is not recorded twice). The ledger's refusals —
the maker approving their own request, an amount beyond the commitment — are shown in the
page, in Chinese and English, with status 400; nothing is booked.

The request form carries a key drawn with the form (:func:`._pages.new_form_key`): it is the
ledger's idempotency key, so a form submitted twice books one request.

API (``/api/v1/fund/…``, anyone): the balances and the sources and uses as
:mod:`cocity.fund.public` words them (no logins, no reasons, no documents).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.datastructures import FormData

from cocity.data.errors import CocityError
from cocity.i18n import t
from cocity.web.deps import Principal, audit, csrf_form, portal, render, require
from cocity.web.errors import PortalError
from cocity.web.roles import ADMIN, FUND_APPROVER, FUND_MANAGER, PUBLIC
from cocity.web.routes._pages import (
    TEXT_LIMIT,
    field,
    field_raw,
    form_key,
    new_form_key,
    shown,
)

if TYPE_CHECKING:
    from cocity.fund.ledger import Ledger

router = APIRouter()
READERS = (FUND_MANAGER, FUND_APPROVER, ADMIN)
NAV = [("/fund", "web_pages.nav.fund", READERS)]
STATUSES = ("pending", "approved", "rejected")
STATEMENT_ROWS = 200  # postings shown on a statement page (the newest)


def _ledger(request: Request) -> Ledger:
    from cocity.fund.ledger import Ledger

    return Ledger(portal(request).records)


def _yuan(fen: Any) -> str:
    from cocity.fund.money import format_yuan

    return format_yuan(int(fen))


def _name(names: tuple[str, str], lang: str) -> str:
    return names[0] if lang == "zh" else names[1]


def _page(request: Request, template: str, context: dict[str, Any], *,
          status: int = 200) -> Response:
    """``template`` with the fund's name, or the refusal when no fund is open yet."""
    from cocity.fund.ledger_errors import FundNotOpenError

    base: dict[str, Any] = {"yuan": _yuan, "error": None, "done": None, "info": None}
    try:
        base["info"] = _ledger(request).fund()
    except FundNotOpenError:  # said without the database's location (not for the web)
        base["error"] = shown(PortalError("web_pages.fund.err.no_fund"))
        return render(request, "fund/closed.html", base, status=status)
    base.update(context)
    return render(request, template, base, status=status)


# ------------------------------------------------------------------------------ pages
@router.get("/fund", response_class=HTMLResponse, include_in_schema=False)
def overview(request: Request,
             who: Annotated[Principal, Depends(require(*READERS))]) -> Response:
    from cocity.fund.ledger_errors import FundNotOpenError

    try:
        ledger = _ledger(request)
        sau = ledger.sources_and_uses()
        pending = len(ledger.requests(status="pending"))
    except FundNotOpenError:
        return _page(request, "fund/overview.html", {})
    col = "name_zh" if request.state.lang == "zh" else "name_en"
    uses = dict(zip(sau.uses["use"], sau.uses[col], strict=True))
    return _page(request, "fund/overview.html", {"sau": sau, "pending": pending,
                                                 "use_names": uses})


@router.get("/fund/balances", response_class=HTMLResponse, include_in_schema=False)
def balances(request: Request, who: Annotated[Principal, Depends(require(*READERS))],
             every: Annotated[bool, Query(alias="all")] = False) -> Response:
    from cocity.fund.ledger_errors import FundNotOpenError

    try:
        frame = _ledger(request).balances(nonzero=not every)
    except FundNotOpenError:
        return _page(request, "fund/balances.html", {})
    return _page(request, "fund/balances.html", {"rows": frame.to_dict("records"),
                                                 "every": every})


def _requests_page(request: Request, who: Principal, *, status: str | None = None,
                   error: Exception | None = None, done: str | None = None,
                   values: dict[str, str] | None = None, code: int = 200) -> Response:
    from cocity.fund.ledger_errors import FundNotOpenError

    try:
        ledger = _ledger(request)
        frame = ledger.requests(status=status if status in STATUSES else None)
        info = ledger.fund()
    except FundNotOpenError:
        return _page(request, "fund/requests.html", {}, status=code)
    lang = request.state.lang
    rows = frame.to_dict("records")
    for r in rows:
        r["unit_name"] = _name(info.units.get(r["unit"], (r["unit"], r["unit"])), lang)
        r["use_name"] = _name(info.uses.get(r["use"], (r["use"], r["use"])), lang)
    form = {"unit": "", "use": "", "amount": "", "document": "", "reason": ""}
    form.update(values or {})
    form["key"] = (values or {}).get("key") or new_form_key()
    return _page(request, "fund/requests.html", {
        "rows": rows[::-1], "status": status if status in STATUSES else "",
        "statuses": STATUSES, "form": form,
        "units": sorted((code, _name(n, lang)) for code, n in info.units.items()),
        "uses": [(u, _name(n, lang)) for u, n in info.uses.items()],
        "may_request": who.has(FUND_MANAGER), "may_check": who.has(FUND_APPROVER),
        "error": None if error is None else shown(error), "done": done}, status=code)


@router.get("/fund/requests", response_class=HTMLResponse, include_in_schema=False)
def requests(request: Request, who: Annotated[Principal, Depends(require(*READERS))],
             status: Annotated[str | None, Query(max_length=20)] = None,
             booked: int | None = None, again: bool = False, approved: int | None = None,
             rejected: int | None = None) -> Response:
    done = None
    if booked is not None:
        done = t("web_pages.fund.booked_again" if again else "web_pages.fund.booked",
                 id=booked)
    elif approved is not None:
        done = t("web_pages.fund.approved", id=approved)
    elif rejected is not None:
        done = t("web_pages.fund.rejected", id=rejected)
    return _requests_page(request, who, status=status, done=done)


def _request_id_of_key(request: Request, key: str) -> int | None:
    from cocity.records.schema import fund_requests

    with portal(request).records.read() as conn:
        found = conn.execute(sa.select(fund_requests.c.id)
                             .where(fund_requests.c.key == key)).scalar_one_or_none()
    return None if found is None else int(found)


@router.post("/fund/requests", response_class=HTMLResponse, include_in_schema=False)
def request_disbursement(request: Request,
                         who: Annotated[Principal, Depends(require(FUND_MANAGER))],
                         form: Annotated[FormData, Depends(csrf_form)]) -> Response:
    from cocity.fund import desk
    from cocity.fund.money import parse_yuan

    values = {name: field_raw(form, name)
              for name in ("unit", "use", "amount", "document", "reason", "key")}
    try:
        unit_text, use_text = field(form, "unit", required=True), field(form, "use")
        amount = field(form, "amount", required=True)
        document = field(form, "document", required=True)
        reason = field(form, "reason", required=True, limit=TEXT_LIMIT)
        key = form_key(form)
        ledger = _ledger(request)
        code, use = desk.unit_code(ledger, unit_text), desk.use_id(ledger, use_text)
        fen = parse_yuan(amount)
        before = _request_id_of_key(request, key)
        if before is None:
            desk.guard_conditional(ledger, code, use)
        rid = ledger.request_disbursement(code, use, fen, key=key, actor=who.login,
                                          role=FUND_MANAGER, reason=reason,
                                          document=document)
    except CocityError as exc:
        return _requests_page(request, who, error=exc, values=values, code=400)
    if before is None:
        audit(request, who, action="fund.request", target=f"fund_request:{rid}",
              detail={"unit": code, "use": use, "amount_fen": fen, "key": key})
    again = "&again=1" if before is not None else ""
    return RedirectResponse(f"/fund/requests?booked={rid}{again}", status_code=303)


@router.post("/fund/requests/{request_id}/approve", response_class=HTMLResponse,
             include_in_schema=False)
def approve(request: Request, request_id: int,
            who: Annotated[Principal, Depends(require(FUND_APPROVER))],
            form: Annotated[FormData, Depends(csrf_form)]) -> Response:
    try:
        reason = field(form, "reason", limit=TEXT_LIMIT)
        posted = _ledger(request).approve(request_id, actor=who.login, role=FUND_APPROVER,
                                          reason=reason)
    except CocityError as exc:
        return _requests_page(request, who, error=exc, code=400)
    if not posted.replayed:
        audit(request, who, action="fund.approve", target=f"fund_request:{request_id}",
              detail={"entry": posted.entry_id, "seq": posted.seq, "hash": posted.hash})
    return RedirectResponse(f"/fund/requests?approved={request_id}", status_code=303)


@router.post("/fund/requests/{request_id}/reject", response_class=HTMLResponse,
             include_in_schema=False)
def reject(request: Request, request_id: int,
           who: Annotated[Principal, Depends(require(FUND_APPROVER))],
           form: Annotated[FormData, Depends(csrf_form)]) -> Response:
    try:
        reason = field(form, "reason", required=True, limit=TEXT_LIMIT)
        ledger = _ledger(request)
        seen = ledger.requests()
        row = seen[seen["id"] == request_id]
        already = bool(len(row)) and row.iloc[0]["status"] == "rejected" \
            and row.iloc[0]["checker"] == who.login
        ledger.reject(request_id, actor=who.login, role=FUND_APPROVER, reason=reason)
    except CocityError as exc:
        return _requests_page(request, who, error=exc, code=400)
    if not already:
        audit(request, who, action="fund.reject", target=f"fund_request:{request_id}",
              detail={})
    return RedirectResponse(f"/fund/requests?rejected={request_id}", status_code=303)


@router.get("/fund/statement", response_class=HTMLResponse, include_in_schema=False)
def statement(request: Request, who: Annotated[Principal, Depends(require(*READERS))],
              account: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    from cocity.fund.ledger_errors import FundNotOpenError

    chosen = (account or "").strip() or None
    ledger = _ledger(request)
    try:
        accounts = ledger.balances()["account"].tolist()
    except FundNotOpenError:
        return _page(request, "fund/statement.html", {})
    try:
        frame = ledger.statement(chosen)
    except CocityError as exc:
        return _page(request, "fund/statement.html", {
            "account": chosen, "accounts": accounts, "rows": [], "total": 0,
            "error": shown(exc)}, status=400)
    return _page(request, "fund/statement.html", {
        "account": chosen, "accounts": accounts, "total": len(frame),
        "rows": frame.tail(STATEMENT_ROWS).to_dict("records")[::-1],
        "shown_rows": min(len(frame), STATEMENT_ROWS)})


@router.get("/fund/verify", response_class=HTMLResponse, include_in_schema=False)
def verify(request: Request,
           who: Annotated[Principal, Depends(require(*READERS))]) -> Response:
    from cocity.fund.ledger_errors import FundNotOpenError

    ledger = _ledger(request)
    try:
        problems = ledger.verify()
        seq, head = ledger.head()
    except FundNotOpenError:
        return _page(request, "fund/verify.html", {})
    return _page(request, "fund/verify.html", {"problems": problems, "seq": seq,
                                               "head": head,
                                               "where": portal(request).records.where})


# ------------------------------------------------------------------------------ API
class FundHead(BaseModel):
    fund: str = Field(description="the fund's name (Chinese)")
    fund_en: str = Field(description="the fund's name (English)")
    illustrative: bool = Field(description="opened as a demonstration: amounts not real")
    head_seq: int = Field(description="sequence number of the last entry of the hash chain")
    head_hash: str = Field(description="SHA-256 of the last entry (anchors the chain)")


class AccountBalance(BaseModel):
    account: str
    kind: str = Field(description="source, cash, pool, commitment or disbursed")
    source: str | None
    use: str | None
    unit: str | None = Field(description="GB/T 2260 code of the recipient unit")
    normal: str = Field(description="the account's normal side: debit or credit")
    balance_fen: int = Field(description="balance in its normal direction, in fen (分)")


class FundBalances(FundHead):
    accounts: list[AccountBalance]


class SourceTotal(BaseModel):
    source: str
    name_zh: str
    name_en: str
    contributed_fen: int


class UseTotal(BaseModel):
    use: str
    name_zh: str
    name_en: str
    pooled_fen: int
    committed_fen: int
    disbursed_fen: int


class UnitTotal(BaseModel):
    unit: str
    name_zh: str
    name_en: str
    use: str
    committed_fen: int
    disbursed_fen: int


class SourcesAndUses(FundHead):
    contributed_fen: int
    cash_fen: int
    pooled_fen: int
    committed_fen: int
    disbursed_fen: int
    held_fen: int = Field(description="cash + pools + commitments")
    reconciles: bool = Field(description="contributed = disbursed + held")
    sources: list[SourceTotal]
    uses: list[UseTotal]
    units: list[UnitTotal]


def _public(request: Request, build: Any) -> Any:
    from cocity.fund.ledger_errors import FundNotOpenError

    try:
        return build(_ledger(request))
    except FundNotOpenError:
        raise PortalError("web_pages.fund.err.no_fund", status=404) from None


@router.get("/api/v1/fund/balances", response_model=FundBalances,
            summary="the fund's account balances (public)")
def api_balances(request: Request, who: Annotated[Principal, Depends(require(PUBLIC))],
                 nonzero: bool = False) -> Any:
    """Every account's balance (fen) with the fund's name and the head of its hash chain;
    ``nonzero``: only the accounts holding something. No logins, reasons or documents."""
    from cocity.fund.public import balances_document

    return _public(request, lambda ledger: balances_document(ledger, nonzero=nonzero))


@router.get("/api/v1/fund/sources-and-uses", response_model=SourcesAndUses,
            summary="where the fund's money came from and where it is (public)")
def api_sources_and_uses(request: Request,
                         who: Annotated[Principal, Depends(require(PUBLIC))]) -> Any:
    """Contributed by source; pooled, committed and disbursed by use and by unit (fen);
    whether contributed = disbursed + held."""
    from cocity.fund.public import sources_and_uses_document

    return _public(request, sources_and_uses_document)
