"""API tokens can be revoked, and die with the credentials they were issued on: a password change,
a second-factor change, or 2FA becoming required for the user. The per-user token limit holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts import services
from accounts.models import AuditEvent
from tests.accounts.test_api_auth import assert_error, code_for, confirmed_device, obtain, with_token
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

DESK = "/desk/messages/"


def token_for(user, **extra) -> str:
    response = obtain(APIClient(), user.email, **extra)
    assert response.status_code == 200, response.content
    return response.json()["token"]


def works(token: str) -> bool:
    response = with_token(token).get("/api/v1/me/")
    assert response.status_code in (200, 401), response.content
    return response.status_code == 200


def browser(user) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(DESK).status_code == 200
    return client


def signed_in(client: Client) -> bool:
    response = client.get(DESK)
    return response.status_code == 200


# --- sign out ---------------------------------------------------------------------------------

def test_logout_revokes_the_token_it_is_called_with_and_no_other(world):
    first, second = token_for(world.a.officer), token_for(world.a.officer)
    response = with_token(first).post("/api/v1/auth/logout/")
    assert response.status_code == 204
    assert not works(first)
    assert_error(with_token(first).get("/api/v1/messages/"), 401)
    assert works(second)
    assert AuditEvent.objects.filter(verb="auth.tokens_revoked", actor=world.a.officer,
                                     summary__reason="signed_out").count() == 1


def test_logout_all_revokes_every_token_and_ends_every_session(world):
    first, second = token_for(world.a.officer), token_for(world.a.officer)
    other_user = token_for(world.a.liaison)
    desk = browser(world.a.officer)
    response = with_token(first).post("/api/v1/auth/logout-all/")
    assert response.status_code == 200 and response.json() == {"tokens_revoked": 2}
    assert not works(first) and not works(second)
    assert not signed_in(desk)
    assert works(other_user)
    # A fresh sign-in works again afterwards.
    assert works(token_for(world.a.officer))
    assert signed_in(browser(world.a.officer))


def test_logout_needs_a_signed_in_caller(world):
    assert_error(APIClient().post("/api/v1/auth/logout/"), 401)
    assert_error(APIClient().post("/api/v1/auth/logout-all/"), 401)


# --- password changes -----------------------------------------------------------------------------

def test_a_password_reset_revokes_tokens_and_ends_other_sessions(world, settings):
    token = token_for(world.a.officer)
    elsewhere = browser(world.a.officer)
    client = Client()
    client.post(reverse("accounts:password_reset"), {"email": world.a.officer.email})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line)
    path = link.split(settings.ENGAGE_SITE_URL, 1)[-1].strip()
    form_page = client.get(path, follow=True)
    new = "a-much-better-passphrase-2026"
    assert client.post(form_page.request["PATH_INFO"], {"new_password1": new, "new_password2": new}).status_code == 302
    assert not works(token)
    assert not signed_in(elsewhere)
    assert AuditEvent.objects.filter(verb="auth.password_changed", target_id=str(world.a.officer.pk)).exists()
    assert works(token_for(world.a.officer, password=new))


def test_a_password_set_by_any_route_revokes_tokens(world):
    """The admin site, the changepassword command and the shell all end in set_password() + save()."""
    token, other = token_for(world.a.officer), token_for(world.a.liaison)
    current = browser(world.a.officer)
    world.a.officer.set_password("another-long-passphrase-1")
    world.a.officer.save()
    assert not works(token)
    assert not signed_in(current)
    assert works(other)


def test_saving_a_user_without_a_new_password_keeps_tokens(world):
    token = token_for(world.a.officer)
    world.a.officer.full_name = "Renamed"
    world.a.officer.save()
    assert works(token)


# --- the second factor --------------------------------------------------------------------------

def test_a_token_issued_before_2fa_was_required_is_refused_once_it_is(world, settings):
    """The reproduced attack: a supervisor's password-only token still withdrew a message after the
    switch to required 2FA."""
    from tests.factories import make_approved

    settings.ENGAGE_REQUIRE_2FA = False
    message = make_approved(world.a)
    token = token_for(world.a.supervisor)
    assert works(token)
    settings.ENGAGE_REQUIRE_2FA = True
    assert_error(with_token(token).post(f"/api/v1/messages/{message.pk}/withdraw/", {}, format="json"),
                 401, "otp_required")
    message.refresh_from_db()
    assert message.status == "approved"
    assert_error(with_token(token).get("/api/v1/me/"), 401, "otp_required")


def test_a_token_issued_with_the_second_factor_keeps_working(world, settings):
    settings.ENGAGE_REQUIRE_2FA = True
    device = confirmed_device(world.a.supervisor)
    token = token_for(world.a.supervisor, otp=code_for(device))
    assert works(token)


def test_becoming_a_supervisor_revokes_password_only_tokens(world, settings):
    settings.ENGAGE_REQUIRE_2FA = True
    token = token_for(world.a.officer)
    assert works(token)
    services.membership_set(user=world.a.officer, team=world.a.team, role="supervisor")
    assert not AuthToken.objects.filter(user=world.a.officer).exists()
    assert_error(with_token(token).get("/api/v1/me/"), 401)


def test_becoming_a_platform_operator_refuses_password_only_tokens(world, settings):
    settings.ENGAGE_REQUIRE_2FA = True
    token = token_for(world.a.officer)
    world.a.officer.is_superuser = True
    world.a.officer.save(update_fields=["is_superuser"])
    assert not works(token)


def test_enrolling_a_device_revokes_tokens_and_other_sessions(world, settings):
    settings.ENGAGE_REQUIRE_2FA = False
    token = token_for(world.a.officer)
    elsewhere = browser(world.a.officer)
    enrolling = browser(world.a.officer)
    enrolling.get(reverse("accounts:otp_setup"))
    device = TOTPDevice.objects.get(user=world.a.officer, confirmed=False)
    response = enrolling.post(reverse("accounts:otp_setup"), {"otp": code_for(device)})
    assert response.status_code == 302
    assert not works(token)
    assert not signed_in(elsewhere)
    assert signed_in(enrolling)  # the session that enrolled stays, verified
    assert_error(obtain(APIClient(), world.a.officer.email), 401, "otp_required")


def test_removing_a_device_revokes_tokens(world):
    device = confirmed_device(world.a.officer)
    token = token_for(world.a.officer, otp=code_for(device))
    assert works(token)
    device.delete()
    assert not works(token)


def test_verifying_a_code_does_not_revoke_anything(world):
    device = confirmed_device(world.a.officer)
    first = token_for(world.a.officer, otp=code_for(device))
    device.refresh_from_db()
    device.save()  # what django-otp does after every verified code
    assert works(first)


# --- the token limit ------------------------------------------------------------------------------

def test_the_per_user_token_limit_is_a_clear_409(world, settings):
    settings.ENGAGE_TOKEN_LIMIT_PER_USER = 2
    first, _second = token_for(world.a.officer), token_for(world.a.officer)
    error = assert_error(obtain(APIClient(), world.a.officer.email), 409, "token_limit")
    assert "logout" in error["message"]
    assert AuthToken.objects.filter(user=world.a.officer).count() == 2
    assert token_for(world.a.liaison)  # per user
    with_token(first).post("/api/v1/auth/logout/")
    assert works(token_for(world.a.officer))


def test_expired_tokens_do_not_count_against_the_limit(world, settings):
    settings.ENGAGE_TOKEN_LIMIT_PER_USER = 1
    token_for(world.a.officer)
    AuthToken.objects.filter(user=world.a.officer).update(expiry=timezone.now() - timedelta(minutes=1))
    assert works(token_for(world.a.officer))


# --- the desk's own page -------------------------------------------------------------------------

def test_changing_the_password_on_the_desk_keeps_this_session_only(world):
    token = token_for(world.a.officer)
    elsewhere = browser(world.a.officer)
    here = browser(world.a.officer)
    new = "a-much-better-passphrase-2026"
    response = here.post(reverse("accounts:password_change"),
                         {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302
    assert signed_in(here)
    assert not signed_in(elsewhere)
    assert not works(token)


def test_sign_out_everywhere_on_the_desk_ends_this_session_too(world):
    token = token_for(world.a.officer)
    elsewhere = browser(world.a.officer)
    here = browser(world.a.officer)
    assert here.get(reverse("accounts:password_change")).status_code == 200
    assert here.post(reverse("accounts:sign_out_everywhere")).status_code == 302
    assert not signed_in(here) and not signed_in(elsewhere)
    assert not works(token)


def test_a_session_waiting_for_its_second_factor_cannot_change_the_password(world):
    device = confirmed_device(world.a.officer)
    client = Client()
    client.post("/accounts/login/", {"username": world.a.officer.email, "password": PASSWORD})
    new = "a-much-better-passphrase-2026"
    response = client.post(reverse("accounts:password_change"),
                           {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:otp"))
    world.a.officer.refresh_from_db()
    assert world.a.officer.check_password(PASSWORD)
    response = client.post(reverse("accounts:sign_out_everywhere"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:otp"))
    assert not AuditEvent.objects.filter(verb="auth.sessions_ended", actor=world.a.officer).exclude(
        summary__reason="second_factor_enrolled").exists()
    assert device.confirmed
