"""The JSON control API (``/_sandbox/...``) and the adapter settings that point at a sandbox."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any

from platforms.sandbox.core import PLATFORMS, Behaviour, Incoming, Reply, SandboxState


def control(state: SandboxState, request: Incoming) -> Reply:
    action = request.path.removeprefix("/_sandbox/").strip("/")
    platform = (request.query.get("platform") or [""])[0]
    try:
        document = json.loads(request.body) if request.body else {}
    except ValueError:
        return Reply(400, {"error": "the body must be JSON"})
    if not isinstance(document, dict):
        return Reply(400, {"error": "the body must be a JSON object"})

    def need_platform(name: str) -> str:
        if name not in PLATFORMS:
            raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}")
        return name

    try:
        if request.method == "GET" and action == "health":
            return Reply(200, {"ok": True, "platforms": list(PLATFORMS)})
        if request.method == "GET" and action == "posts":
            include = (request.query.get("include_deleted") or ["0"])[0] in ("1", "true", "yes")
            posts = state.posts(need_platform(platform), include_deleted=include)
            return Reply(
                200, {"platform": platform, "count": len(posts), "posts": [p.to_json() for p in posts]}
            )
        if request.method == "GET" and action == "records":
            need_platform(platform)
            with state.lock:
                records = [r.to_json() for r in state.records if r.platform == platform]
            return Reply(200, {"platform": platform, "records": records})
        if request.method == "GET" and action == "requests":
            need_platform(platform)
            with state.lock:
                entries = [e.to_json() for e in state.request_log if e.platform == platform]
            return Reply(200, {"platform": platform, "requests": entries})
        if action == "behaviour" and request.method == "GET":
            return Reply(200, asdict(state.behaviour(need_platform(platform))))
        if action == "behaviour" and request.method == "POST":
            name = need_platform(str(document.pop("platform", platform)))
            known = {f.name for f in fields(Behaviour)}
            unknown = set(document) - known
            if unknown:
                raise ValueError(f"unknown behaviour fields: {', '.join(sorted(unknown))}")
            behaviour = Behaviour(**document)
            state.set_behaviour(name, behaviour)
            return Reply(200, {"platform": name, "behaviour": asdict(behaviour)})
        if action == "reset" and request.method == "POST":
            state.clear()
            return Reply(200, {"reset": True})
        if action == "hooks" and request.method == "POST":
            name, secret = str(document.get("name") or ""), str(document.get("secret") or "")
            if not name or not secret:
                raise ValueError("name and secret are required")
            with state.lock:
                state.accounts.add({"platform": "webhook", "name": name, "secret": secret})
            return Reply(200, {"name": name})
        if action == "stats" and request.method == "POST":
            name = need_platform(str(document.pop("platform", platform)))
            post_id = str(document.pop("id", "") or "")
            if not post_id:
                raise ValueError("id (the post's id on the platform) is required")
            state.set_figures(name, post_id, **document)
            return Reply(200, {"platform": name, "id": post_id, "figures": state.stats[(name, post_id)]})
        if action == "mastodon/notifications" and request.method == "POST":
            from platforms.mastodon.sandbox import MastodonApi

            return Reply(200, {"notification": MastodonApi(state).add_notification(document)})
        if action == "telegram/updates" and request.method == "POST":
            from platforms.telegram.sandbox_updates import build_update

            update = build_update(state, kind=str(document.get("kind") or ""), text=document.get("text") or "",
                                  post=str(document.get("post") or ""), chat=str(document.get("chat") or ""))
            return Reply(200, update)
        if action == "age" and request.method == "POST":
            hours = document.get("hours")
            if isinstance(hours, bool) or not isinstance(hours, int | float) or hours < 0:
                raise ValueError("hours must be a number, not negative")
            state.age(need_platform(str(document.get("platform") or "")), str(document.get("id") or ""), hours * 3600)
            return Reply(200, {"aged": True})
        if action == "accounts" and request.method == "POST":
            with state.lock:
                state.accounts.add(document)
            return Reply(200, {"added": document.get("platform")})
        if action == "credentials" and request.method == "GET":
            return Reply(
                200,
                {
                    kind: dict(zip(("config", "secrets"), adapter_settings(state, kind), strict=True))
                    for kind in PLATFORMS
                },
            )
    except (TypeError, ValueError) as exc:
        return Reply(400, {"error": str(exc)})
    return Reply(404, {"error": f"unknown control action {request.method} /_sandbox/{action}"})


def adapter_settings(state: SandboxState, kind: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Channel config and secrets that point an adapter of ``kind`` at this sandbox."""
    url, creds = state.base_url, state.credentials
    if kind == "mastodon":
        return {"instance_url": url, "media_poll_interval": 0.05}, {"access_token": creds.mastodon_token}
    if kind == "telegram":
        return {"chat_id": creds.telegram_chat, "api_base": url}, {"bot_token": creds.telegram_token}
    if kind == "x":
        return {"api_base": url, "username": "engage_sandbox"}, {"access_token": creds.x_token}
    if kind == "facebook":
        return (
            {"page_id": creds.facebook_page_id, "api_base": url},  # the version: ENGAGE_FACEBOOK_GRAPH_VERSION
            {"page_access_token": creds.facebook_token},
        )
    if kind == "sms":
        return (
            {
                "api_base": url,
                "account_sid": creds.twilio_account_sid,
                "from_number": creds.twilio_numbers[0],
                "price_per_segment": "0.04",
                "currency": "GBP",
            },
            {"auth_token": creds.twilio_auth_token},
        )
    if kind == "webhook":
        return {"url": f"{url}/hooks/partner", "health_url": f"{url}/hooks/partner/health"}, {
            "signing_secret": creds.webhook_secret
        }
    raise ValueError(f"the sandbox does not speak {kind!r}; it speaks {', '.join(PLATFORMS)}")
