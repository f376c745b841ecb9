"""The registry, the shared HTTP client and the error mapping every adapter relies on."""

from __future__ import annotations

import logging

import httpx
import pytest

from platforms import KINDS, get_adapter
from platforms.base import Adapter, PermanentError, TransientError, UnconfirmedError
from platforms.http import (
    USER_AGENT,
    Redactor,
    error_for_status,
    make_client,
    parse_retry_after,
)


def test_every_kind_builds_an_adapter_that_speaks_the_protocol(sandbox):
    configs = {
        kind: sandbox.config_for(kind) for kind in ("mastodon", "telegram", "x", "facebook", "sms", "webhook")
    }
    configs["email"] = ({"recipients": ["a@example.org"]}, {})
    configs["public"] = ({}, {})
    assert set(configs) == set(KINDS)
    for kind, (config, secrets) in configs.items():
        adapter = get_adapter(kind, config=config, secrets=secrets)
        assert isinstance(adapter, Adapter)
        assert adapter.kind == kind
        assert adapter.limit > 0
        assert adapter.count("hello") == 5  # characters, septets or UTF-16 units alike


def test_unknown_kind_and_missing_settings_are_permanent():
    with pytest.raises(PermanentError, match="unknown channel kind"):
        get_adapter("myspace", config={}, secrets={})
    with pytest.raises(PermanentError, match="instance_url"):
        get_adapter("mastodon", config={}, secrets={"access_token": "t"})
    with pytest.raises(PermanentError, match="bot_token"):
        get_adapter("telegram", config={"chat_id": "@c"}, secrets={})


def test_a_shared_client_is_used_and_not_closed(sandbox):
    config, secrets = sandbox.config_for("x")
    with httpx.Client() as shared:
        adapter = get_adapter("x", config=config, secrets=secrets, http=shared)
        assert adapter.http is shared
        adapter.close()
        assert not shared.is_closed


def test_the_client_has_explicit_timeouts_and_our_user_agent():
    with make_client() as client:
        assert client.headers["User-Agent"] == USER_AGENT == "Engage/0.1"
        assert (client.timeout.connect, client.timeout.read) == (5.0, 15.0)
        assert client.follow_redirects is False
    with make_client(connect_timeout=1, read_timeout=0.5) as client:
        assert (client.timeout.connect, client.timeout.read) == (1, 0.5)


def test_retry_after_parsing():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480) == 30.0


def test_the_redactor_hides_raw_and_url_encoded_secrets():
    redact = Redactor(["123:abc-DEF", "p@ss w/rd+1", "xy", ""])
    text = "GET /bot123:abc-DEF/x; p@ss w/rd+1; p%40ss%20w%2Frd%2B1; p@ss%20w/rd%2B1; p%40ss+w%2Frd%2B1; xy"
    expected = (
        "GET /bot[redacted]/x; [redacted]; [redacted]; [redacted]; [redacted]; xy"  # xy: too short to matter
    )
    assert redact(text) == expected


def _response(status: int) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("POST", "https://example.org/"))


def test_status_mapping():
    redact = Redactor([])
    assert isinstance(
        error_for_status(_response(500), what="w", detail="", redact=redact, retry_safe=False), TransientError
    )
    gateway = error_for_status(_response(504), what="w", detail="", redact=redact, retry_safe=False)
    assert isinstance(gateway, UnconfirmedError)
    assert isinstance(
        error_for_status(_response(504), what="w", detail="", redact=redact, retry_safe=True), TransientError
    )
    assert (
        type(error_for_status(_response(422), what="w", detail="", redact=redact, retry_safe=False))
        is PermanentError
    )


def test_httpx_log_filter_hides_bot_tokens(caplog):
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info(
            'HTTP Request: %s %s "%s"',
            "POST",
            "https://api.telegram.org/bot42:SECRET/getMe",
            "HTTP/1.1 200 OK",
        )
    assert "SECRET" not in caplog.text
    assert "/bot[redacted]/getMe" in caplog.text
