"""The sandbox itself: its control API, running as a process, and thread safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from platforms import get_adapter
from platforms.base import AuthExpiredError, Payload, PermanentError, TransientError
from platforms.sandbox import Behaviour, Sandbox

ROOT = Path(__file__).resolve().parents[2]


def test_control_api(sandbox):
    with httpx.Client(base_url=sandbox.url) as control:
        assert control.get("/_sandbox/health").json()["ok"] is True
        answer = control.post("/_sandbox/behaviour", json={"platform": "mastodon", "fail": 1})
        assert answer.status_code == 200
        assert answer.json()["behaviour"]["fail"] == 1
        assert control.get("/_sandbox/behaviour", params={"platform": "mastodon"}).json()["fail"] == 1

        credentials = control.get("/_sandbox/credentials").json()["mastodon"]
        adapter = get_adapter("mastodon", config=credentials["config"], secrets=credentials["secrets"])
        with pytest.raises(TransientError):
            adapter.publish(Payload(text="Hi"), idempotency_key="k")
        adapter.publish(Payload(text="Hi"), idempotency_key="k")

        posts = control.get("/_sandbox/posts", params={"platform": "mastodon"}).json()
        assert posts["count"] == 1
        assert posts["posts"][0]["fields"]["status"] == "Hi"
        requests = control.get("/_sandbox/requests", params={"platform": "mastodon"}).json()["requests"]
        assert [r["outcome"] for r in requests] == ["failed", "answered"]

        assert control.post("/_sandbox/reset").json() == {"reset": True}
        assert control.get("/_sandbox/posts", params={"platform": "mastodon"}).json()["count"] == 0

        assert control.post("/_sandbox/behaviour", json={"platform": "myspace"}).status_code == 400
        assert control.post("/_sandbox/behaviour", json={"platform": "x", "explode": 1}).status_code == 400
        assert control.post("/_sandbox/behaviour", json={"platform": "x", "fail": -1}).status_code == 400
        assert control.post("/_sandbox/hooks", json={"name": "p", "secret": "s"}).status_code == 200
        assert control.get("/_sandbox/nope").status_code == 404
        assert control.get("/nothing/here").status_code == 404


def test_behaviour_validation():
    with pytest.raises(ValueError):
        Behaviour(drop=-1)
    with pytest.raises(ValueError):
        Behaviour(applies_to="some")


def test_concurrent_posts_are_all_recorded_once(sandbox):
    config, secrets = sandbox.config_for("mastodon")

    def post(number: int) -> str:
        with get_adapter("mastodon", config=config, secrets=secrets) as adapter:
            return adapter.publish(Payload(text=f"Post {number}"), idempotency_key=f"k{number}").external_id

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(post, range(40)))
    assert len(set(ids)) == 40
    assert len(sandbox.posts("mastodon")) == 40


def test_runs_as_a_process_and_is_programmed_over_http(dead_url, tmp_path):
    port = int(dead_url.rsplit(":", 1)[1])
    accounts = tmp_path / "accounts.json"
    accounts.write_text('[{"platform": "telegram", "token": "42:demo", "chat": "@demo_channel"}]')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [
            sys.executable,
            "-m",
            "platforms.sandbox",
            "--port",
            str(port),
            "--log-level",
            "WARNING",
            "--accounts",
            str(accounts),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=2) as control:
            deadline = time.monotonic() + 15
            while True:
                try:
                    if control.get("/_sandbox/health").status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            control.post(
                "/_sandbox/behaviour", json={"platform": "telegram", "rate_limit": 1, "retry_after": 3}
            )
            telegram = control.get("/_sandbox/credentials").json()["telegram"]
            adapter = get_adapter("telegram", config=telegram["config"], secrets=telegram["secrets"])
            with pytest.raises(TransientError) as caught:
                adapter.publish(Payload(text="Hi"), idempotency_key="k")
            assert caught.value.retry_after == 3
            adapter.publish(Payload(text="Hi"), idempotency_key="k")
            demo = get_adapter(
                "telegram",
                config={"api_base": url, "chat_id": "@demo_channel"},
                secrets={"bot_token": "42:demo"},
            )
            demo.publish(Payload(text="Hi from the demo bot"), idempotency_key="k2")
            assert control.get("/_sandbox/posts", params={"platform": "telegram"}).json()["count"] == 2
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr.decode()


def test_more_accounts_are_let_in_and_others_refused(sandbox):
    sandbox.add_account(
        "telegram", token="654321:partner-bot", username="partner_bot", chat="@partner_channel"
    )
    sandbox.add_account("sms", account_sid="ACpartner", auth_token="partner-auth", numbers=["+447700900000"])
    sandbox.add_account("facebook", token="partner-page-token", page_id="200000000000002", name="Partner")
    telegram = get_adapter(
        "telegram",
        config={"api_base": sandbox.url, "chat_id": "@partner_channel"},
        secrets={"bot_token": "654321:partner-bot"},
    )
    first = telegram.publish(Payload(text="Hello"), idempotency_key="k")
    assert first.external_url == "https://t.me/partner_channel/1"  # message ids count per chat
    assert telegram.check().detail == "the Bot API accepted the bot token"
    sms = get_adapter(
        "sms",
        config={
            "api_base": sandbox.url,
            "account_sid": "ACpartner",
            "from_number": "+447700900000",
            "recipients": ["+447700900111"],
        },
        secrets={"auth_token": "partner-auth"},
    )
    sms.publish(Payload(text="Hello"), idempotency_key="k")
    facebook_config, _ = sandbox.config_for("facebook")
    partner_page = get_adapter(
        "facebook",
        config={**facebook_config, "page_id": "200000000000002"},
        secrets={"page_access_token": "partner-page-token"},
    )
    assert partner_page.check().detail == "the Page token was accepted"
    partner_page.publish(Payload(text="Hello"), idempotency_key="k")
    wrong_page = get_adapter(
        "facebook", config=facebook_config, secrets={"page_access_token": "partner-page-token"}
    )
    with pytest.raises(PermanentError, match=r"HTTP 403: .*\(code 200\)") as caught:
        wrong_page.publish(Payload(text="Hello"), idempotency_key="k")
    assert "#200" in caught.value.platform_message
    with pytest.raises(ValueError, match="needs 'token'"):
        sandbox.add_account("mastodon", username="nobody")

    sandbox.reset()  # accounts added at run time are forgotten
    with pytest.raises(AuthExpiredError):
        telegram.publish(Payload(text="Hello"), idempotency_key="k")


def test_accounts_given_at_start_survive_reset():
    with Sandbox.start(
        accounts=[{"platform": "mastodon", "token": "demo-token", "username": "northshire"}]
    ) as own:
        own.reset()
        adapter = get_adapter(
            "mastodon", config={"instance_url": own.url}, secrets={"access_token": "demo-token"}
        )
        result = adapter.publish(Payload(text="Hello"), idempotency_key="k")
        assert result.external_url.startswith(f"{own.url}/@northshire/")
        with httpx.Client(base_url=own.url) as control:
            answer = control.post("/_sandbox/accounts", json={"platform": "x", "token": "demo-x"})
            assert answer.status_code == 200
            assert control.post("/_sandbox/accounts", json={"platform": "x"}).status_code == 400
        get_adapter("x", config={"api_base": own.url}, secrets={"access_token": "demo-x"}).publish(
            Payload(text="Hello"), idempotency_key="k"
        )
