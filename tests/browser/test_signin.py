"""Signing in and out in a real browser: every role lands on its own home page."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PHONE, shot, sign_in, sign_out
from tests.factories import PASSWORD, make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# role -> (home path, the home page's h1), as accounts.views.ROLE_HOMES says
LANDINGS = {
    "officer": ("/desk/messages/", "Messages"),
    "supervisor": ("/desk/review/", "Review queue"),
    "liaison": ("/desk/inbox/", "Inbox"),
    "admin": ("/desk/audit/", "Audit trail"),
}


def test_each_role_lands_on_its_home_page_and_signs_out(page, live_server, artifacts_dir):
    world = make_world()
    for role, (path, heading) in LANDINGS.items():
        user = world.a.users[role]
        sign_in(page, live_server, user.email, PASSWORD)
        assert page.url == f"{live_server.url}{path}", f"{role} landed on {page.url}"
        assert page.locator("h1").first.inner_text().strip() == heading
        # The header says who is signed in, and the current page is marked in the navigation.
        assert user.display_name in page.locator(".user-menu").inner_text()
        assert page.locator('.site-nav a[aria-current="page"]').get_attribute("href") == path
        shot(page, artifacts_dir, f"signin-landing-{role}")
        page.console.assert_clean()

        sign_out(page)
        assert page.url.startswith(f"{live_server.url}/accounts/login/")
        assert page.get_by_role("button", name="Sign out").count() == 0
        # Signed out means signed out: the desk sends us back to the sign-in page.
        page.goto(f"{live_server.url}{path}")
        assert urlpath(page.url, live_server) == "/accounts/login/"


def test_a_wrong_password_shows_the_error_and_stays_on_the_sign_in_page(page, live_server, artifacts_dir):
    world = make_world()
    sign_in(page, live_server, world.a.officer.email, "not-the-password")
    assert urlpath(page.url, live_server) == "/accounts/login/"
    alert = page.get_by_role("alert")
    assert alert.is_visible()
    assert "do not match" in alert.inner_text()
    # The email is kept, the password is not.
    assert page.get_by_label("Email address").input_value() == world.a.officer.email
    assert page.get_by_label("Password").input_value() == ""
    shot(page, artifacts_dir, "signin-wrong-password")
    page.console.assert_clean()

    # The right password still works afterwards (one failure does not lock the account).
    sign_in(page, live_server, world.a.officer.email, PASSWORD)
    assert urlpath(page.url, live_server) == "/desk/messages/"


def test_the_sign_in_page_fits_a_phone(phone_page, live_server, artifacts_dir):
    page = phone_page
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.locator("h1").inner_text().strip() == "Sign in to Engage"
    # Nothing wider than the screen: no sideways scrolling.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px screen"
    button = page.get_by_role("button", name="Sign in").bounding_box()
    assert button is not None and button["x"] >= 0 and button["x"] + button["width"] <= PHONE["width"]
    shot(page, artifacts_dir, "signin-phone")
    page.console.assert_clean()


def urlpath(url: str, live_server) -> str:
    return re.sub(r"\?.*$", "", url.removeprefix(live_server.url))
