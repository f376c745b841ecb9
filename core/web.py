"""Small helpers for HTML views: run a service and turn its refusal into a clear message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.http import HttpRequest

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
