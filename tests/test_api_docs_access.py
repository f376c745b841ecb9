"""/api/schema/ and /api/docs/ need a signed-in user unless ENGAGE_PUBLIC_API_DOCS opens them
(closed by default in production, open when embedded)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.accounts.test_api_auth import assert_error, obtain, with_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(settings):
    settings.ENGAGE_PUBLIC_API_DOCS = False


def test_the_schema_needs_a_signed_in_user_when_closed(world, closed):
    assert_error(APIClient().get("/api/schema/"), 401, "not_authenticated")
    token = obtain(APIClient(), world.a.officer.email).json()["token"]
    response = with_token(token).get("/api/schema/")
    assert response.status_code == 200 and b"openapi" in response.content
    session = APIClient()
    session.force_login(world.a.officer)
    assert session.get("/api/schema/").status_code == 200


def test_the_docs_page_sends_visitors_to_sign_in_when_closed(world, client, closed):
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/api/docs/")
    client.force_login(world.a.officer)
    assert client.get("/api/docs/").status_code == 200


def test_the_setting_opens_them(world, client, settings):
    settings.ENGAGE_PUBLIC_API_DOCS = True
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
