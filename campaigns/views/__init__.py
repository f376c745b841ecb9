"""Staff pages of the outbound room."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def forbidden(request: HttpRequest, reason: str) -> HttpResponse:
    """The page for an action the user's role never allows: 403, with the reason in plain words."""
    return render(request, "campaigns/forbidden.html", {"reason": reason}, status=403)
