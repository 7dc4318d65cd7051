"""Who is asking: :class:`Principal` (re-exported by :mod:`cocity.web.deps`)."""

from __future__ import annotations

from dataclasses import dataclass

from cocity.web.roles import PUBLIC


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in user (``login``, ``name``, ``roles``) or, with an empty
    login, an anonymous visitor."""

    login: str
    name: str
    roles: frozenset[str]

    @property
    def anonymous(self) -> bool:
        return not self.login

    def has(self, role: str) -> bool:
        """Whether this principal may act as ``role`` (everyone is ``public``)."""
        return role == PUBLIC or role in self.roles


ANONYMOUS = Principal(login="", name="", roles=frozenset())
