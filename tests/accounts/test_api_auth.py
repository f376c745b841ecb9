"""Signing in to the API: tokens, the second factor, lock-out, and the 401/403 error format."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The contract's error format: {"error": {"code", "message", "fields"}} with the right status."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def obtain(client: APIClient, email: str, password: str = PASSWORD, **extra):
    return client.post(TOKEN_URL, {"email": email, "password": password, **extra}, format="json")


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


# --- tokens -----------------------------------------------------------------------------------

def test_email_and_password_give_a_token_that_works(world):
    response = obtain(APIClient(), world.a.officer.email)
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    assert isinstance(token, str) and len(token) > 20
    client = with_token(token)
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["id"] == world.a.officer.pk
    assert client.get("/api/v1/messages/").status_code == 200
    assert AuditEvent.objects.filter(verb="auth.token_issued", actor=world.a.officer).exists()


def test_email_is_not_case_sensitive(world):
    assert obtain(APIClient(), world.a.officer.email.upper()).status_code == 200


@pytest.mark.parametrize("email,password", [
    ("officer-a@engage.test", "wrong-password-123"),
    ("nobody@engage.test", PASSWORD),  # the same answer: no hint that the account does not exist
])
def test_wrong_credentials_are_401_in_the_error_format(world, email, password):
    response = obtain(APIClient(), email, password)
    assert_error(response, 401, "invalid_credentials")
    assert "token" not in response.json()


def test_an_inactive_user_gets_no_token(world):
    world.a.officer.is_active = False
    world.a.officer.save(update_fields=["is_active"])
    assert_error(obtain(APIClient(), world.a.officer.email), 401, "invalid_credentials")


@pytest.mark.parametrize("payload,field", [
    ({"password": PASSWORD}, "email"),
    ({"email": "officer-a@engage.test"}, "password"),
    ({"email": "not an email", "password": PASSWORD}, "email"),
    ({"email": ["officer-a@engage.test"], "password": PASSWORD}, "email"),
])
def test_missing_or_malformed_fields_are_400_with_fields(world, payload, field):
    error = assert_error(APIClient().post(TOKEN_URL, payload, format="json"), 400, "invalid")
    assert field in error["fields"]


def test_malformed_json_is_400_not_500(world):
    response = APIClient().post(TOKEN_URL, data='{"email": "officer-a@engage.test", "password": ',
                                content_type="application/json")
    assert_error(response, 400)


def test_a_bad_or_missing_token_is_401(world):
    assert_error(APIClient().get("/api/v1/messages/"), 401, "not_authenticated")
    assert_error(with_token("0" * 64).get("/api/v1/messages/"), 401)
    response = APIClient().get("/api/v1/messages/")
    assert response.status_code == 401 and response.has_header("WWW-Authenticate")


def test_session_writes_need_csrf(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.a.officer)
    assert client.get("/api/v1/messages/").status_code == 200
    response = client.post("/api/v1/messages/", {"campaign": world.a.campaign.pk, "body": "Hello"}, format="json")
    assert_error(response, 403, "forbidden")


def test_method_not_allowed_uses_the_error_format(world):
    client = APIClient()
    client.force_authenticate(world.a.officer)
    assert_error(client.delete("/api/v1/messages/1/"), 405, "method_not_allowed")


# --- the second factor --------------------------------------------------------------------------

@pytest.fixture
def require_2fa(settings):
    settings.ENGAGE_REQUIRE_2FA = True


def test_supervisor_with_totp_needs_the_code(world, require_2fa):
    device = confirmed_device(world.a.supervisor)
    client = APIClient()
    assert_error(obtain(client, world.a.supervisor.email), 401, "otp_required")
    response = obtain(client, world.a.supervisor.email, otp=code_for(device))
    assert response.status_code == 200, response.content
    assert with_token(response.json()["token"]).get("/api/v1/messages/").status_code == 200


def test_a_wrong_code_is_401_and_audited(world, require_2fa):
    device = confirmed_device(world.a.supervisor)
    wrong = "000000" if code_for(device) != "000000" else "111111"
    response = obtain(APIClient(), world.a.supervisor.email, otp=wrong)
    assert_error(response, 401, "otp_invalid")
    assert "token" not in response.json()
    assert AuditEvent.objects.filter(verb="auth.second_factor_failed", actor=world.a.supervisor).count() == 1


def test_a_wrong_password_with_the_right_code_is_still_refused(world, require_2fa):
    device = confirmed_device(world.a.supervisor)
    assert_error(obtain(APIClient(), world.a.supervisor.email, "wrong-password-123", otp=code_for(device)),
                 401, "invalid_credentials")


def test_a_malformed_code_is_400(world, require_2fa):
    confirmed_device(world.a.supervisor)
    error = assert_error(obtain(APIClient(), world.a.supervisor.email, otp="12ab"), 400, "invalid")
    assert "otp" in error["fields"]


def test_supervisor_without_a_device_gets_no_token_when_2fa_is_required(world, require_2fa):
    response = obtain(APIClient(), world.a.supervisor.email)
    assert_error(response, 401, "otp_required")


def test_officer_without_a_device_signs_in_with_password_only(world, require_2fa):
    assert obtain(APIClient(), world.a.officer.email).status_code == 200


def test_anyone_with_a_confirmed_device_needs_the_code_even_when_2fa_is_optional(world, settings):
    settings.ENGAGE_REQUIRE_2FA = False
    device = confirmed_device(world.a.officer)
    assert_error(obtain(APIClient(), world.a.officer.email), 401, "otp_required")
    assert obtain(APIClient(), world.a.officer.email, otp=code_for(device)).status_code == 200


# --- lock-out -------------------------------------------------------------------------------

def test_repeated_failures_lock_the_account_out(world, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    client = APIClient()
    responses = [obtain(client, world.a.officer.email, f"wrong-password-{n}") for n in range(5)]
    for response in responses[:4]:
        assert_error(response, 401, "invalid_credentials")
    assert_error(responses[4], 403, "locked_out")  # the fifth failure reaches the limit
    # Locked: even the right password is refused now, with the contract's format.
    error = assert_error(obtain(client, world.a.officer.email), 403, "locked_out")
    assert "locked" in error["message"].lower()
    # Another account from the same address is not locked by these failures.
    assert obtain(client, world.a.liaison.email).status_code == 200
