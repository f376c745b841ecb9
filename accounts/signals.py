"""Sign-ins, sign-outs and failed sign-ins go on the record; changed credentials revoke API tokens."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save, pre_save
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


# --- credentials changed: API tokens go, whichever route made the change (issue 12, section 6) ---
# A password change also ends every other session by itself (Django keeps a hash of the password in
# the session); a second-factor change raises the user's session generation for the same effect.

def _password_changed(sender: Any, instance: Any, created: bool, update_fields: Any = None, **kwargs: Any) -> None:
    from accounts import permissions, services

    if created:
        return
    # set_password() leaves the new raw password in _password until the save; a hash upgrade at
    # sign-in (check_password) clears it first, so only a real change gets here.
    if getattr(instance, "_password", None) is not None:
        services.api_tokens_revoke(user=instance, reason="password_changed")
        audit_record(actor=instance, verb="auth.password_changed", target=instance)
    if update_fields is None or "is_superuser" in update_fields:
        permissions.forget(instance)
        if settings.ENGAGE_REQUIRE_2FA and permissions.must_use_2fa(instance):
            services.api_tokens_revoke(user=instance, reason="second_factor_required", only_without_otp=True)


def _role_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    from accounts import services
    from accounts.models import Role

    if settings.ENGAGE_REQUIRE_2FA and instance.role in (Role.SUPERVISOR, Role.ADMIN):
        services.api_tokens_revoke(user=instance.user, reason="second_factor_required", only_without_otp=True)


def _device_before_save(sender: Any, instance: Any, **kwargs: Any) -> None:
    instance._engage_newly_confirmed = bool(instance.confirmed) and (
        instance.pk is None or not sender.objects.filter(pk=instance.pk, confirmed=True).exists())


def _second_factor_changed(user: Any, reason: str) -> None:
    from accounts import services

    if user is not None:
        services.user_sign_out_everywhere(user=user, reason=reason)


def _device_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    if getattr(instance, "_engage_newly_confirmed", False):
        instance._engage_newly_confirmed = False
        _second_factor_changed(instance.user, "second_factor_enrolled")


def _device_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.confirmed:
        from accounts.models import User

        _second_factor_changed(User.objects.filter(pk=instance.user_id).first(), "second_factor_removed")


def connect_credential_signals() -> None:
    from django.apps import apps
    from django_otp.models import Device

    from accounts.models import Membership, User

    post_save.connect(_password_changed, sender=User, dispatch_uid="engage-password-changed")
    post_save.connect(_role_changed, sender=Membership, dispatch_uid="engage-role-changed")
    for model in apps.get_models():
        if issubclass(model, Device):
            uid = f"engage-device-{model._meta.label_lower}"
            pre_save.connect(_device_before_save, sender=model, dispatch_uid=f"{uid}-pre")
            post_save.connect(_device_saved, sender=model, dispatch_uid=f"{uid}-post")
            post_delete.connect(_device_deleted, sender=model, dispatch_uid=f"{uid}-delete")
