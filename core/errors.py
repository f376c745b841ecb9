"""Errors that services raise. The API turns them into the contract's error format."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A rule said no. ``status`` is the HTTP status the API answers with."""

    status: int = 400
    code: str = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class InvalidInput(ServiceError):
    status = 400
    code = "invalid"


class NotAllowed(ServiceError):
    status = 403
    code = "forbidden"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class WrongState(ServiceError):
    status = 409
    code = "wrong_state"


class TooLarge(ServiceError):
    status = 413
    code = "too_large"
