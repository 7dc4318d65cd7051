"""Reports: the data profile (``cocity profile``) — a model built from a store, its maps and
charts, and renderers to a self-contained bilingual HTML page."""

from cocity.report.profile import (
    Distribution,
    EmptyWorkspaceError,
    NoDataError,
    Profile,
    ProfileError,
    UnknownIndicatorError,
    ValueMap,
    build_profile,
)
from cocity.report.render import profile_html, render_profile_html

__all__ = [
    "Distribution", "EmptyWorkspaceError", "NoDataError", "Profile", "ProfileError",
    "UnknownIndicatorError", "ValueMap", "build_profile", "profile_html", "render_profile_html",
]
