"""Sign-ins, sign-outs and failed sign-ins go on the record."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.audit import audit_record


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, verb="auth.signed_in", target=user)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, verb="auth.signed_out", target=user)


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    attempted = str(credentials.get("username") or credentials.get("email") or "")[:254]
    audit_record(actor=None, verb="auth.sign_in_failed", target_type="accounts.user", summary={"email": attempted})
