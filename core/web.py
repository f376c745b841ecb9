"""Small helpers for HTML views: run a service and turn its refusal into a clear message; one view per action."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from core.errors import ServiceError

T = TypeVar("T")


def run_service(request: HttpRequest, fn: Callable[..., T], *, success: str = "", **kwargs: Any) -> T | None:
    """Call ``fn(actor=request.user, **kwargs)``; on a ServiceError show its message and return None."""
    try:
        result = fn(actor=request.user, **kwargs)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return None
    if success:
        messages.success(request, success)
    return result


def object_action(lookup: Callable[[HttpRequest, int], Any], page: str) -> Callable[..., Callable[..., Any]]:
    """Make ``action(request, obj)`` one action view at its own URL ``<pk>/<action>/``: signed in, POST
    only (CSRF stays on), ``obj`` found by ``lookup(request, pk)`` (which raises 404 for an object the
    user may not see), and back to the object's ``page`` (a URL name taking ``pk``) afterwards. The
    service ``action`` calls checks the permission and the state; ``run_service`` shows a refusal there."""
    def decorator(action: Callable[[HttpRequest, Any], None]) -> Callable[..., Any]:
        @login_required
        @require_POST
        @wraps(action)
        def view(request: HttpRequest, pk: int) -> Any:
            action(request, lookup(request, pk))
            return redirect(page, pk=pk)

        return view

    return decorator
