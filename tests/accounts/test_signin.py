"""Signing in: errors, lock-out, the second factor, password reset and the role homes."""

from __future__ import annotations

import time

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def sign_in(client, user, password=PASSWORD):
    return client.post(LOGIN, {"username": user.email, "password": password})


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_wrong_password_shows_a_clear_error_and_stays(world, client):
    response = sign_in(client, world.a.officer, "not-the-password")
    assert response.status_code == 200
    assert "do not match" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lock_out_after_repeated_failures(world, client):
    for _ in range(5):
        sign_in(client, world.a.officer, "wrong-password-again")
    response = sign_in(client, world.a.officer)  # even the right password is refused now
    assert response.status_code in (403, 429)
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(("role", "home"), [("officer", "/desk/messages/"), ("supervisor", "/desk/review/"),
                                            ("liaison", "/desk/inbox/"), ("admin", "/desk/audit/")])
def test_each_role_lands_on_its_home(world, client, role, home):
    response = sign_in(client, world.a.users[role])
    assert response.status_code == 302
    landed = client.get(response["Location"], follow=True)
    assert landed.status_code == 200
    assert landed.request["PATH_INFO"] == home


def test_supervisors_must_enrol_and_verify_when_2fa_is_required(world, client, settings):
    settings.ENGAGE_REQUIRE_2FA = True
    sign_in(client, world.a.supervisor)
    response = client.get("/desk/review/")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:otp")
    assert client.get(reverse("accounts:otp"))["Location"] == reverse("accounts:otp_setup")
    assert client.get("/api/v1/messages/").status_code == 403
    page = client.get(reverse("accounts:otp_setup"))
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=world.a.supervisor)
    client.post(reverse("accounts:otp_setup"), {"otp": code_for(device)})
    assert client.get("/desk/review/").status_code == 200


def test_officers_need_no_second_factor_by_default(world, client, settings):
    settings.ENGAGE_REQUIRE_2FA = True
    sign_in(client, world.a.officer)
    assert client.get("/desk/messages/").status_code == 200


def test_a_voluntary_device_is_always_required(world, client, settings):
    settings.ENGAGE_REQUIRE_2FA = False
    device = TOTPDevice.objects.create(user=world.a.officer, name="phone", confirmed=True)
    response = sign_in(client, world.a.officer)
    assert response["Location"].startswith(reverse("accounts:otp"))
    assert client.get("/desk/messages/")["Location"] == reverse("accounts:otp")  # no way round it
    bad = client.post(reverse("accounts:otp"), {"otp": "000000" if code_for(device) != "000000" else "111111"})
    assert bad.status_code == 200 and "not right" in bad.content.decode()
    time.sleep(1.1)  # django-otp throttles verification for a second after a failure
    client.post(reverse("accounts:otp"), {"otp": code_for(device)})
    assert client.get("/desk/messages/").status_code == 200


def test_password_reset_sends_a_link_that_works_once(world, client, settings):
    client.post(reverse("accounts:password_reset"), {"email": world.a.officer.email})
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line)
    path = link.split(settings.ENGAGE_SITE_URL, 1)[-1].strip()
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    new = "a-much-better-passphrase-2026"
    done = client.post(form_page.request["PATH_INFO"], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    assert sign_in(client, world.a.officer, new).status_code == 302
    client.logout()
    assert client.get(path, follow=True).context["validlink"] is False


@pytest.mark.parametrize("headers", [
    {"HTTP_HOST": "evil.example"},
    {"HTTP_X_FORWARDED_HOST": "evil.example"},
    {"HTTP_HOST": "evil.example", "HTTP_X_FORWARDED_HOST": "evil.example", "HTTP_X_FORWARDED_PROTO": "http"},
])
def test_password_reset_link_uses_the_site_url_under_a_poisoned_host(world, client, settings, headers):
    settings.ALLOWED_HOSTS = ["*"]  # even where the host check would let the forged name through
    settings.ENGAGE_SITE_URL = "https://engage.example.org"
    response = client.post(reverse("accounts:password_reset"), {"email": world.a.officer.email}, **headers)
    assert response.status_code == 302
    body = mail.outbox[0].body
    link = next(line for line in body.splitlines() if "/accounts/reset/" in line)
    assert link.startswith("https://engage.example.org/accounts/reset/")
    assert "evil" not in body and "evil" not in mail.outbox[0].subject


def test_unknown_email_gets_the_same_answer(world, client):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@engage.test"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_create_user_command_for_operators(db):
    from django.core.management import call_command

    from accounts.models import Membership
    from tests.factories import TeamFactory

    team = TeamFactory(slug="ops")
    call_command("create_user", "new.officer@engage.test", "--team", "ops", "--role", "officer",
                 "--password", "a-long-enough-passphrase")
    membership = Membership.objects.get(user__email="new.officer@engage.test")
    assert membership.team == team and membership.role == "officer"
