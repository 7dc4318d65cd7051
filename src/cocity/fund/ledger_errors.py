"""Refusals of the fund's ledger: each a :class:`~cocity.data.errors.CocityError` with a
bilingual label naming what was refused and why. A refused operation leaves the books exactly
as they were (its transaction is rolled back)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cocity.data.errors import CocityError, IssuesError
from cocity.i18n import t


class LedgerError(CocityError):
    """An operation on the ledger was refused; nothing was written."""

    label = "fund.err.generic"

    def __init__(self, label: str | None = None, **fmt: Any) -> None:
        """``label`` replaces the class's label (a variant of the same refusal)."""
        self.fmt = fmt
        super().__init__(t(label or self.label, **fmt))


class FundNotOpenError(LedgerError):
    """The records database holds no fund yet (``Ledger.open_fund`` creates it)."""

    label = "fund.err.not_open"


class ChartConflictError(LedgerError):
    """``open_fund`` was given a name that differs from the one stored (accounts are
    permanent: a source, use or unit keeps its name)."""

    label = "fund.err.chart_conflict"


class UnknownNameError(LedgerError):
    """An unknown source, use, unit, account, entry or request."""

    label = "fund.err.unknown"


class InvalidAmountError(LedgerError):
    """An amount that is not a whole, positive number of fen."""

    label = "fund.err.amount"


class MissingAuditError(LedgerError):
    """A missing key, actor, role, reason or document."""

    label = "fund.err.audit"


class OverdraftError(LedgerError):
    """An entry would take an account flagged *no overdraft* below zero (I4)."""

    label = "fund.err.overdraft"


class IdempotencyConflictError(LedgerError):
    """The key was used before for an operation with another body (I3)."""

    label = "fund.err.idempotency"


class UnbalancedEntryError(LedgerError):
    """An entry whose debits and credits differ, or with fewer than two postings (I1)."""

    label = "fund.err.unbalanced"


class ExceedsCommitmentError(LedgerError):
    """A disbursement larger than the rest of the earmark (minus pending requests) (I5)."""

    label = "fund.err.exceeds"


class NothingToReleaseError(LedgerError):
    """A release of a commitment that has no rest (already released or fully paid) (I5)."""

    label = "fund.err.nothing_to_release"


class PendingRequestsError(LedgerError):
    """A release while disbursement requests on the same commitment wait for approval."""

    label = "fund.err.pending"


class MakerCheckerError(LedgerError):
    """A disbursement request approved (or rejected) by the user who booked it."""

    label = "fund.err.maker_checker"


class RequestStateError(LedgerError):
    """A request already approved or rejected (resolved at most once)."""

    label = "fund.err.request_state"


class ReversalError(LedgerError):
    """A reversal of a reversal, or a second reversal of one entry (I2)."""

    label = "fund.err.reversal"


class AppendOnlyError(LedgerError):
    """The database refused to change or delete a posted row (I2)."""

    label = "fund.err.append_only"


class InvalidDetailError(LedgerError):
    """An allocation document that is not a JSON object (``post_allocation(detail=…)``)."""

    label = "fund.err.detail"


class InvalidLinesError(IssuesError):
    """Allocation lines refused, with every problem found; nothing was posted."""

    headline = "fund.err.lines"


@dataclass(frozen=True)
class Problem:
    """One mismatch found by ``Ledger.verify``: a code (``chain``, ``hash``, ``unbalanced``,
    ``balance``, ``overdraft``, ``trial_balance``, ``reconcile``, ``reversal``, ``request``,
    ``audit``, ``account``, ``orphan``, ``key``), a bilingual message, and where."""

    code: str
    message: str
    seq: int | None = None
    entry_id: int | None = None
    account: str | None = None

    def __str__(self) -> str:
        return self.message
