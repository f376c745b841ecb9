"""The sandbox's root page (issue 16): what it imitates and the posts it has received, for a person."""

from __future__ import annotations

import html

import httpx

from platforms import get_adapter
from platforms.base import Payload
from platforms.sandbox.home import IMITATES


def _post(sandbox, kind: str, text: str) -> str:
    config, secrets = sandbox.config_for(kind)
    adapter = get_adapter(kind, config=config, secrets=secrets)
    try:
        return adapter.publish(Payload(text=text), idempotency_key=f"home-{kind}").external_id
    finally:
        adapter.close()


def test_the_root_page_lists_what_it_imitates_and_the_posts_it_received(sandbox):
    sandbox.reset()
    with httpx.Client(base_url=sandbox.url) as client:
        empty = client.get("/")
        assert empty.status_code == 200 and empty.headers["content-type"] == "text/html; charset=utf-8"
        page = empty.text
        for name, what in IMITATES.values():
            assert f"<strong>{name}</strong>: {html.escape(what)}" in page
        assert page.count("No posts yet.") == len(IMITATES)

        post_id = _post(sandbox, "mastodon", "Roads near the stadium <b>close</b> at 2pm. #DerbyDay")
        _post(sandbox, "telegram", "Trains run late after the match")
        page = client.get("/").text
        assert "Roads near the stadium &lt;b&gt;close&lt;/b&gt; at 2pm. #DerbyDay" in page  # escaped
        assert "<b>close</b>" not in page
        assert "Trains run late after the match" in page
        assert f'id="mastodon-{post_id}"' in page
        assert "(1 post received)" in page and page.count("No posts yet.") == len(IMITATES) - 2
        assert client.head("/").status_code == 200
        # The API paths are still the platforms': an unknown path is still a 404.
        assert client.get("/nothing/here").status_code == 404
