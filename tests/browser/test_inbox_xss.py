"""Issue 6 in a real browser: hostile replies through a signed webhook render inert in the inbox.

Escaping, not the Content-Security-Policy, must be what stops them: the test checks that no element
from the payloads exists in the page at all, not only that no script ran (the CSP alone would
block inline scripts and hide an escaping bug).
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from engage.inbound.processing import reply_process_safely
from engage.models import Reply
from tests.browser.conftest import shot, sign_in
from tests.engage.inbound_helpers import PARTNER_SECRET, partner_channel, partner_item, xss_text
from tests.factories import PASSWORD, make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MARKER = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script><b id=xss-bold>bold</b>"


def test_xss_payloads_through_the_webhook_are_inert_in_the_inbox(page, live_server, artifacts_dir):
    from core.signing import sign

    world = make_world()
    channel = partner_channel(world.a)
    text = (MARKER + " " + xss_text(9_800))[:10_000]
    body = json.dumps({"items": [partner_item(item_id="xss-1", author="@<svg onload=window.__xss=3>", text=text)]})
    stamp = int(time.time())
    response = httpx.post(f"{live_server.url}/api/v1/inbound/{channel.pk}/", content=body.encode(),
                          headers={"Content-Type": "application/json", "X-Engage-Timestamp": str(stamp),
                                   "X-Engage-Signature": sign(secret=PARTNER_SECRET, body=body.encode(),
                                                              timestamp=stamp)})
    assert response.status_code in (200, 201, 202), response.text
    reply = Reply.objects.get(provider_id="xss-1")
    reply_process_safely(reply_id=reply.pk)

    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, live_server, world.a.liaison.email, PASSWORD)
    for path in ("/desk/inbox/", f"/desk/inbox/{reply.pk}/", f"/desk/inbox/{reply.pk}/?reveal=1"):
        page.goto(live_server.url + path)
        assert page.evaluate("window.__xss") is None, path
        assert page.locator("#xss-bold").count() == 0, path
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"], svg[onload], details[ontoggle]').length") == 0
        assert page.evaluate("[...document.scripts].filter(s => s.textContent.includes('__xss')).length") == 0
    assert dialogs == []
    # The person's words are still there, shown as plain text (the tags were stripped on the way in).
    assert "window.__xss=2" in page.locator("main").inner_text()
    shot(page, artifacts_dir, "inbox-xss-detail")
