"""System checks (``manage.py check``, and at every start) for what the settings ask of the platforms."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.utils import timezone

from platforms.facebook.graph_versions import GRAPH_VERSIONS, format_problem, version_warning


@checks.register(checks.Tags.compatibility)
def facebook_graph_version(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``ENGAGE_FACEBOOK_GRAPH_VERSION``: written as Graph names versions (an error), and not within
    ``ENGAGE_FACEBOOK_VERSION_WARNING_DAYS`` of its end of life, past it, or unknown (a warning)."""
    version = settings.ENGAGE_FACEBOOK_GRAPH_VERSION
    problem = format_problem(version)
    if problem:
        return [checks.Error(f"ENGAGE_FACEBOOK_GRAPH_VERSION: {problem}", id="campaigns.E001")]
    warning = version_warning(version, timezone.now().date(), warn_days=settings.ENGAGE_FACEBOOK_VERSION_WARNING_DAYS)
    if warning:
        hint = "See platforms/facebook/graph_versions.py for the versions Engage knows and their end dates."
        level = checks.Info if version not in GRAPH_VERSIONS else checks.Warning
        return [level(f"ENGAGE_FACEBOOK_GRAPH_VERSION: {warning}", hint=hint, id="campaigns.W001")]
    return []
