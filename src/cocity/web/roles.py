"""The portal's roles: who may do what (docs/portal.md has the table the tests check).

``ROLES`` are the roles a user can hold (stored in ``portal_user_roles``; the migration
``0004_portal`` keeps a frozen copy of this vocabulary in a CHECK constraint). ``PUBLIC`` is
nobody's stored role: it is what anyone, signed in or not, may see. Each role's label is
``web.role.<role>`` in ``i18n/web.yaml``.
"""

from __future__ import annotations

from cocity.i18n import t

ANALYST = "analyst"
EVALUATOR = "evaluator"
FUND_MANAGER = "fund_manager"
FUND_APPROVER = "fund_approver"
SECRETARY = "secretary"
ADMIN = "admin"
ROLES: tuple[str, ...] = (ANALYST, EVALUATOR, FUND_MANAGER, FUND_APPROVER, SECRETARY, ADMIN)
PUBLIC = "public"


def role_label(role: str, lang: str | None = None) -> str:
    """The label of ``role`` (``public`` included) in ``lang``."""
    return t(f"web.role.{role}", lang)
