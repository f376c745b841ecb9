"""The desk's own 404 and 403 pages (issue 16): styled like the rest of the desk, never Django's
plain text; the API keeps its JSON error format."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from core.api import handler403

pytestmark = pytest.mark.django_db


def _styled(html: str) -> bool:
    return '<main id="main"' in html and "engage/engage.css" in html and 'class="card narrow"' in html


@pytest.mark.parametrize("path", ["/desk/no-such-page/", "/desk/events/999999999/", "/desk/messages/999999999/",
                                  "/desk/inbox/999999999/"])
def test_a_missing_desk_page_is_the_desks_404(world, client, path):
    client.force_login(world.a.supervisor)
    response = client.get(path)
    assert response.status_code == 404
    html = response.content.decode()
    assert _styled(html) and "We could not find that page" in html
    assert 'class="site-nav"' in html and 'href="/desk/"' in html  # the desk's menu and a way back


def test_a_signed_out_visitor_gets_the_404_with_a_way_to_sign_in(client):
    response = client.get("/desk/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert _styled(html) and 'href="/accounts/login/"' in html and 'class="site-nav"' not in html


def test_the_api_keeps_its_json_404(world, client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_refused_desk_page_is_the_desks_403_with_the_reason(world, client):
    client.force_login(world.a.supervisor)
    for path in ("/desk/audit/", "/desk/audit/export.csv"):
        response = client.get(path)
        assert response.status_code == 403
        html = response.content.decode()
        assert _styled(html) and "Only administrators can" in html


def test_permission_denied_on_the_desk_renders_the_desks_403(world):
    request = RequestFactory().get("/desk/somewhere/")
    request.user = world.a.officer
    response = handler403(request, PermissionDenied())
    assert response.status_code == 403
    html = response.content.decode()
    assert _styled(html) and "Your role or team does not allow this." in html
    api = handler403(RequestFactory().get("/api/v1/x/"), PermissionDenied())
    assert api.status_code == 403 and b'"forbidden"' in api.content
