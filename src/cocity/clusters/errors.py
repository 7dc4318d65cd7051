"""The one refusal of the clusters package."""

from __future__ import annotations

from cocity.data.errors import CocityError


class ClusterError(CocityError, ValueError):
    """A cluster definition, a unit list or a cluster workspace cannot be used."""
