"""A force with one team, its people and an event; a local Mastodon instance serving a hashtag
timeline (hostile statuses included) and a feed; helpers to set up and approve a watch."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from accounts.models import Role
from campaigns.services import events as event_services
from engage.awareness import services
from tests.factories import TeamFactory, member


def make_desk(label: str = "A") -> SimpleNamespace:
    force = TeamFactory(name=f"Force {label}", slug=f"force-{label.lower()}")
    team = TeamFactory(name=f"Team {label}", slug=f"team-{label.lower()}", parent=force)
    people = {role: member(team, role, email=f"{role}-{label.lower()}@engage.test")
              for role in (Role.OFFICER, Role.SUPERVISOR, Role.LIAISON, Role.ADMIN)}
    second = member(team, Role.SUPERVISOR, email=f"supervisor2-{label.lower()}@engage.test")
    now = timezone.now()
    event = event_services.event_create(actor=people[Role.OFFICER], team=team, name=f"Derby {label}",
                                        kind="planned", starts_at=now + timedelta(hours=2),
                                        ends_at=now + timedelta(hours=6), location="Stadium",
                                        hashtags=["DerbyDay"])
    return SimpleNamespace(force=force, team=team, event=event, officer=people[Role.OFFICER],
                           supervisor=people[Role.SUPERVISOR], supervisor2=second, liaison=people[Role.LIAISON],
                           admin=people[Role.ADMIN])


@pytest.fixture
def desk(db) -> SimpleNamespace:
    return make_desk("A")


def approved_watch(desk: SimpleNamespace, *, start: datetime | None = None, hours: float = 48, retention: int = 72,
                   instances: list[str] | None = None, feeds: list[str] | None = None, hashtags=("DerbyDay",)):
    start = start or timezone.now() - timedelta(hours=1)
    watch = services.watch_create(actor=desk.supervisor, event=desk.event, purpose="Spot safety problems and rumours.",
                                  window_start=start, window_end=start + timedelta(hours=hours),
                                  retention_hours=retention, hashtags=list(hashtags),
                                  instances=instances if instances is not None else ["https://social.example"],
                                  feed_urls=feeds or [])
    return services.watch_approve(actor=desk.supervisor2, watch_id=watch.pk)


# --- a local Mastodon instance --------------------------------------------------------------------

HOSTILE_NAMES = ("evil_author", "Jane Quxdoe", "mentioned_victim", "109999000000000777", "avatars/evil.png",
                 "https://attacker.example/@evil_author", "blobevilname")


def hostile_status(n: int, text: str, *, created: datetime | None = None, language: str | None = "en") -> dict[str, Any]:
    """A status as Mastodon sends it, with every identifying field filled and spelt out in the text."""
    created = created or datetime.now(UTC)
    account = {"id": "109999000000000777", "username": "evil_author", "acct": "evil_author@attacker.example",
               "display_name": "Jane Quxdoe :blobevilname:", "url": "https://attacker.example/@evil_author",
               "avatar": "https://attacker.example/avatars/evil.png", "avatar_static": "https://attacker.example/avatars/evil.png",
               "header": "https://attacker.example/headers/evil.png", "note": "<p>I am Jane Quxdoe, call 07700 900123</p>",
               "followers_count": 12, "emojis": [{"shortcode": "blobevilname", "url": "https://attacker.example/e.png"}],
               "fields": [{"name": "home", "value": "12 Acacia Avenue"}]}
    mention = {"id": "109999000000000888", "username": "mentioned_victim", "acct": "mentioned_victim@other.example",
               "url": "https://other.example/@mentioned_victim"}
    content = (f'<p><span class="h-card" translate="no"><a href="https://other.example/@mentioned_victim" '
               f'class="u-url mention">@<span>mentioned_victim</span></a></span> {text} '
               f'<a href="https://social.example/tags/derbyday" class="mention hashtag" rel="tag">#<span>DerbyDay</span></a> '
               f'<a href="https://attacker.example/@evil_author/1" rel="nofollow"><span class="invisible">https://</span>'
               f'<span class="ellipsis">attacker.example/@evil_author</span><span class="invisible">/1</span></a> '
               f'evil_author says hi, Jane Quxdoe here :blobevilname: @evil_author@attacker.example</p>')
    return {"id": str(110_000_000_000_000_000 + n), "created_at": created.isoformat().replace("+00:00", "Z"),
            "uri": f"https://attacker.example/users/evil_author/statuses/{n}",
            "url": f"https://attacker.example/@evil_author/{n}", "language": language, "content": content,
            "spoiler_text": "", "visibility": "public", "account": account, "mentions": [mention],
            "tags": [{"name": "derbyday", "url": "https://social.example/tags/derbyday"}],
            "emojis": [{"shortcode": "blobevilname", "url": "https://attacker.example/e.png"}],
            "card": {"url": "https://attacker.example/card", "author_name": "evil_author"},
            "media_attachments": [{"url": "https://attacker.example/m.png", "description": "photo of Jane Quxdoe"}],
            "reblog": None}


class Instance:
    """Serves ``/api/v1/timelines/tag/<tag>`` newest first, with ``limit``, ``min_id``, ``since_id``
    and ``max_id`` as Mastodon does; ``rate_limited`` answers 429 with Retry-After; every request's
    query is recorded. Also serves ``/feed.xml`` from ``feed``."""

    def __init__(self) -> None:
        self.statuses: list[dict[str, Any]] = []
        self.requests: list[dict[str, list[str]]] = []
        self.rate_limited = False
        self.feed = b""
        instance = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                instance.requests.append({"path": [parts.path], **query})
                if parts.path == "/feed.xml":
                    self._send(200, instance.feed, "application/atom+xml")
                    return
                if not parts.path.startswith("/api/v1/timelines/tag/"):
                    self._send(404, b'{"error":"Record not found"}')
                    return
                if instance.rate_limited:
                    self._send(429, b'{"error":"Too many requests"}', headers={"Retry-After": "120"})
                    return
                limit = min(int(query.get("limit", ["20"])[0]), 40)
                rows = sorted(instance.statuses, key=lambda s: int(s["id"]), reverse=True)
                if "max_id" in query:
                    rows = [s for s in rows if int(s["id"]) < int(query["max_id"][0])]
                if "since_id" in query:
                    rows = [s for s in rows if int(s["id"]) > int(query["since_id"][0])]
                if "min_id" in query:  # the page just above min_id: the oldest newer ones, newest first
                    rows = [s for s in rows if int(s["id"]) > int(query["min_id"][0])][-limit:]
                self._send(200, json.dumps(rows[:limit]).encode())

            def _send(self, status: int, body: bytes, content_type: str = "application/json",
                      headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def instance() -> Iterator[Instance]:
    server = Instance()
    yield server
    server.stop()

