"""Bad ids get a 4xx, never a 500: every route of the URL conf, attacked where ids come in.

Generated from the URL resolver, so a new endpoint is covered without a line here. For every route:

* each of its URL parameters is replaced by every value of ``ATTACKS`` (beyond 64 bits, negative, zero,
  letters, an exponent, an Arabic-Indic digit, a NUL byte, very long digits and text), with every method;
* the query parameters and form fields the view actually reads are found by running it once with a
  recording ``QueryDict``, and each of them is then sent every value of ``ATTACKS``.

As a signed-in supervisor and signed out, on the database the suite runs on (CI runs SQLite and
PostgreSQL). Each request runs in a savepoint that is rolled back, with an empty cache. The API's
JSON bodies are fuzzed from the OpenAPI schema by ``tests/test_api_fuzz.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.core.signals import got_request_exception
from django.db import transaction
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from core.ids import ID_MAX, parse_id, parse_ids
from tests.factories import World, make_approved, make_message

ATTACKS = [str(2**63), str(2**64), str(ID_MAX), "-1", "0", "abc", "1e3", "٣", "1\x00", "9" * 40, "a" * 3000]
# Also sent to query parameters and form fields named like a date or time: the ends of the calendar
# (arithmetic on them overflows), offsets that push them over, days that do not exist.
DATE_ATTACKS = ["9999-12-31", "0001-01-01", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00",
                "9999-12-31T23:59", "0001-01-01T00:00", "2026-02-30", "2026-13-01", "99999-01-01", "junk"]
DATE_KEY = re.compile(r"since|until|start|end|_at|date|day|week|month|from|^to$")

# A value for each URL parameter that its converter accepts, unique in the URL so it can be swapped out.
SENTINELS = {"pk": "7310001", "variant_id": "7310002", "answer_id": "7310003", "channel_id": "7310004",
             "recipient_id": "7310005", "user_id": "7310006",
             "action": "zqaction", "table": "summary", "token": "zqtoken", "uidb64": "MQ", "format": "json",
             "sha": "0123456789ab", "width": "640", "ext": "jpg"}
# Parameters whose pattern allows a fixed vocabulary: attacked through the others only.
FIXED = {"format", "sha", "width", "ext"}
_PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>")


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    params: tuple[str, ...]

    @property
    def api(self) -> bool:
        return self.route.startswith("api/")


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str | None]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern),
                             f"{namespace}:{ns}" if namespace and ns else (ns or namespace))
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield prefix + str(entry.pattern), name


def discover() -> list[Route]:
    routes = []
    for route, name in _walk(get_resolver().url_patterns):
        plain = route.lstrip("^")
        if (plain.startswith("admin/") and name != "admin:index") or name is None or plain.startswith("static/"):
            continue  # Django's admin internals and static files are Django's business
        routes.append(Route(name=name, route=plain, params=tuple(a or b for a, b in _PARAM.findall(route))))
    return routes


ROUTES = discover()
NAMES = sorted({r.name for r in ROUTES})


def sentinel_url(route: Route, values: dict[str, str] | None = None) -> str:
    kwargs = {p: SENTINELS.get(p, "zq" + p) for p in route.params}
    url = reverse(route.name, kwargs=kwargs)
    for param, value in (values or {}).items():
        url = url.replace(kwargs[param], value, 1)
    return url


# --- the objects URLs name, so that query parameters and forms behind an object are reached too ----

class Objects:
    """Team A's objects by the first word of the route, each made on first use."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.a = world.a

    @cached_property
    def message(self) -> Any:
        return make_message(self.a)

    @cached_property
    def published(self) -> Any:
        from campaigns import publishing
        from campaigns.models import Delivery, Message, MessageStatus

        message = publishing.message_schedule(actor=self.a.officer, message=make_approved(self.a), scheduled_at=None)
        Delivery.objects.filter(message=message).update(status="sent")
        Message.objects.filter(pk=message.pk).update(status=MessageStatus.PUBLISHED, published_at=timezone.now())
        return message

    @cached_property
    def reply(self) -> Any:
        from engage.inbound.ingest import reply_store
        from engage.inbound.processing import reply_process
        from engage.models import Reply

        stored = reply_store(team_id=self.a.team.pk, channel=self.a.mastodon, source="mastodon",
                             provider_id="bad-ids-1", text="What time do the gates open?", author_handle="@jane",
                             author_name="Jane Doe", received_at=timezone.now(), raw_payload={"text": "…"})
        reply_process(reply_id=stored.reply_id)
        return Reply.objects.get(pk=stored.reply_id)

    @cached_property
    def rumour(self) -> Any:
        from campaigns.services.rumours import rumour_create

        return rumour_create(actor=self.a.officer, event=self.a.event, claim="The match is cancelled.")

    def pk_for(self, route: Route) -> int | None:
        words = [w for w in re.split(r"[/.(^]", route.route) if w and w not in ("desk", "api", "v1")]
        first = words[0] if words else ""
        subject = {
            "messages": lambda: self.message.pk, "events": lambda: self.a.event.pk,
            "campaigns": lambda: self.a.campaign.pk, "segments": lambda: self.a.segment.pk,
            "channels": lambda: self.a.mastodon.pk, "replies": lambda: self.reply.pk,
            "inbox": lambda: self.reply.pk, "news": lambda: self.published.pk, "cap": lambda: self.published.pk,
            "feeds": lambda: self.a.event.pk, "dashboard": lambda: self.a.event.pk,
            "rumours": lambda: self.rumour.pk,
        }.get(first)
        return subject() if subject else None


# --- requests ----------------------------------------------------------------------------------

@dataclass
class Principal:
    label: str
    client: Client


def principals(world: World) -> list[Principal]:
    signed_in = Client(raise_request_exception=False)
    signed_in.force_login(world.a.supervisor)
    return [Principal("supervisor", signed_in), Principal("signed out", Client(raise_request_exception=False))]


def methods_for(route: Route) -> list[str]:
    return ["GET", "POST", "PATCH", "DELETE"] if route.api else ["GET", "POST"]


class Failures:
    """Every request that answered 5xx, with the exception the view raised."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self._last: BaseException | None = None

    def _record(self, sender: Any, request: Any = None, **kwargs: Any) -> None:
        import sys

        self._last = sys.exc_info()[1]

    @contextmanager
    def watching(self) -> Iterator[Failures]:
        got_request_exception.connect(self._record)
        try:
            yield self
        finally:
            got_request_exception.disconnect(self._record)

    def send(self, who: Principal, method: str, url: str, data: dict[str, Any] | None = None) -> Any:
        from django.core.cache import cache

        cache.clear()  # rate limits and cached public pages: every request meets the same state
        self._last = None
        with transaction.atomic():
            if method == "GET":
                response = who.client.get(url, data or {})
            elif method == "POST":
                response = who.client.post(url, data or {})
            else:
                response = getattr(who.client, method.lower())(url, urlencode(data or {}),
                                                              content_type="application/x-www-form-urlencoded")
            transaction.set_rollback(True)
        if response.status_code >= 500:
            shown = url if len(url) < 200 else url[:200] + "…"
            extra = f" {sorted((k, v[:40]) for k, v in (data or {}).items())}" if data else ""
            self.found.append(f"{method} {shown}{extra} as {who.label}: {response.status_code} "
                              f"({type(self._last).__name__}: {str(self._last)[:200]})")
        return response


@contextmanager
def recording_keys() -> Iterator[set[str]]:
    """Which keys a view reads from ``request.GET`` and ``request.POST`` (and DRF's ``query_params``)."""
    seen: set[str] = set()
    originals = {name: getattr(QueryDict, name) for name in ("get", "__getitem__", "getlist", "__contains__")}

    def wrap(name: str) -> Any:
        original = originals[name]

        def recorder(self: QueryDict, key: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(key, str):
                seen.add(key)
            return original(self, key, *args, **kwargs)

        return recorder

    for name in originals:
        setattr(QueryDict, name, wrap(name))
    try:
        yield seen
    finally:
        for name, original in originals.items():
            setattr(QueryDict, name, original)


# Keys that are not the request's own data (Django's and the test client's bookkeeping).
IGNORED_KEYS = {"csrfmiddlewaretoken", "_method"}


def resolves(url: str) -> bool:
    from urllib.parse import unquote

    from django.urls import Resolver404, resolve

    try:
        resolve(unquote(url))
    except Resolver404:
        return False
    return True


def _to_sign_in(response: Any) -> bool:
    from django.conf import settings
    from django.shortcuts import resolve_url

    location = response.get("Location", "") if response.status_code in (301, 302, 303) else ""
    return bool(location) and location.split("?")[0] in (resolve_url(settings.LOGIN_URL), reverse("admin:login"))


@pytest.fixture(autouse=True)
def _private_cache(settings: Any, request: pytest.FixtureRequest) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"engage-bad-ids-{request.node.nodeid}"}}


@pytest.mark.parametrize("name", NAMES)
def test_bad_ids_never_answer_500(name: str, world: World) -> None:
    objects = Objects(world)
    people = principals(world)
    failures = Failures()
    with failures.watching():
        for route in (r for r in ROUTES if r.name == name):
            # 1. Every URL parameter, attacked. A value the URL pattern refuses is a 404 from the resolver
            #    whatever the method; one it lets through reaches the view with every method.
            for param in (p for p in route.params if p not in FIXED):
                for value in ATTACKS:
                    url = sentinel_url(route, {param: quote(value, safe="")})
                    methods = methods_for(route) if resolves(url) else ["GET"]
                    for who in people:
                        for method in methods:
                            failures.send(who, method, url)
            # 2. The query parameters and form fields the view reads, attacked one at a time (signed out
            #    only where the view itself answers, not the sign-in redirect).
            pk = objects.pk_for(route) if "pk" in route.params else None
            url = sentinel_url(route, {"pk": str(pk)} if pk else None)
            for method in ("GET", "POST"):
                for who in people:
                    with recording_keys() as keys:
                        probe = failures.send(who, method, url)
                    if probe.status_code in (401, 403, 405) or _to_sign_in(probe):
                        continue
                    for key in sorted(keys - IGNORED_KEYS):
                        for value in ATTACKS + (DATE_ATTACKS if DATE_KEY.search(key) else []):
                            failures.send(who, method, url, {key: value})
    assert not failures.found, f"{name}: server errors on bad input:\n  " + "\n  ".join(failures.found)


def test_the_walk_covers_object_and_api_routes() -> None:
    names = set(NAMES)
    for expected in ("campaigns:message_new", "campaigns:message", "reply-bulk", "message-detail",
                     "public:news_detail", "public:image", "inbox:bulk", "api-inbound"):
        assert expected in names
    assert any("pk" in r.params and r.api for r in ROUTES)


# --- the parser itself -----------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["1", "42", str(ID_MAX), 7, ID_MAX, "0042"])
def test_parse_id_takes_ids(value: Any) -> None:
    assert parse_id(value) == int(value)


@pytest.mark.parametrize("value", [str(2**63), str(2**64), 2**63, "-1", -1, "0", 0, "abc", "1e3", "٣", "²", "1\x00",
                                   " 1", "+1", "1.0", 1.0, True, None, "", "9" * 40, ["1"], {"id": 1}])
def test_parse_id_refuses_everything_else(value: Any) -> None:
    assert parse_id(value) is None


def test_parse_ids_keeps_valid_ids_once_in_order() -> None:
    assert parse_ids(["3", "x", str(2**64), "1", "3", "٣", "2"], limit=2) == [3, 1]


# --- the cases the issue names, and the API's error format for them --------------------------------

def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


@pytest.mark.parametrize("bad", [2**64, 2**63, -1, 0, "abc", "1e3", "٣", True, 1.5, None])
def test_bulk_reply_action_with_a_bad_id_is_a_400_naming_the_field(world: World, api: Any, bad: Any) -> None:
    objects = Objects(world)
    response = api(world.a.supervisor).post("/api/v1/replies/bulk/", {"ids": [objects.reply.pk, bad],
                                                                      "action": "close"}, format="json")
    error = _error(response, 400)
    assert error["code"] == "invalid" and "ids" in error["fields"], error
    assert objects.reply.__class__.objects.get(pk=objects.reply.pk).status != "closed"


@pytest.mark.parametrize("query", ["playbook=abc", "event=zzz", "campaign=1e3", f"event={2**64}", "playbook=٣",
                                   f"campaign={2**63}"])
def test_new_message_page_ignores_a_bad_id_in_its_query(world: World, client: Client, query: str) -> None:
    client.force_login(world.a.officer)
    response = client.get(f"/desk/messages/new/?{query}")
    assert response.status_code == 200
    assert response.context["template"] is None and response.context["event"] is None


@pytest.mark.parametrize("pk", [str(2**63), str(2**64), "9" * 40, "0", "abc", "٣", "-1"])
def test_object_urls_with_a_bad_id_are_404_in_the_api_format(world: World, api: Any, client: Client, pk: str) -> None:
    error = _error(api(world.a.supervisor).get(f"/api/v1/messages/{quote(pk)}/"), 404)
    assert error["code"] == "not_found"
    _error(api(world.a.supervisor).post(f"/api/v1/replies/{quote(pk)}/notes/", {"body": "x"}, format="json"), 404)
    client.force_login(world.a.supervisor)
    assert client.get(f"/desk/messages/{quote(pk)}/").status_code == 404
    assert client.get(f"/news/{quote(pk)}/").status_code == 404


@pytest.mark.parametrize(("field", "value"), [("event", 2**64), ("campaign", "1e3"), ("team", "abc"),
                                              ("author", 2**63), ("page", 2**64), ("starts_at__gte", "junk")])
def test_api_filters_refuse_bad_ids_with_a_4xx(world: World, api: Any, field: str, value: Any) -> None:
    for path in ("/api/v1/messages/", "/api/v1/events/", "/api/v1/campaigns/", "/api/v1/replies/"):
        response = api(world.a.supervisor).get(path, {field: value})
        assert response.status_code < 500, (path, field, response.status_code)
        if response.status_code >= 400:
            assert response.status_code in (400, 404), (path, field, response.status_code)
            _error(response, response.status_code)


# --- dates and times from a request ---------------------------------------------------------------

EDGE_TIMES = ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
              "9999-12-31", "0001-01-01"]


@pytest.mark.parametrize("value", EDGE_TIMES)
def test_api_date_and_time_parameters_at_the_ends_of_the_calendar_are_4xx_or_served(
        world: World, api: Any, value: str) -> None:
    client = api(world.a.supervisor)
    for path, params in (("/api/v1/events/", {"starts_at__gte": value}), ("/api/v1/events/", {"starts_at__lte": value}),
                         ("/api/v1/replies/", {"since": value}), ("/api/v1/replies/", {"until": value}),
                         ("/api/v1/metrics/trust/", {"since": value, "until": value}),
                         ("/api/v1/metrics/series/", {"metric": "replies", "since": value}),
                         ("/api/v1/metrics/series/", {"metric": "replies", "until": value, "interval": "hour"})):
        response = client.get(path, params)
        assert response.status_code in (200, 400), (path, params, response.status_code, response.content[:200])
        if response.status_code == 400:
            _error(response, 400)


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01"])
def test_pages_with_dates_at_the_ends_of_the_calendar_still_answer(world: World, client: Client, value: str) -> None:
    client.force_login(world.a.supervisor)
    assert client.get("/desk/calendar/", {"start": value}).status_code == 200
    assert client.get("/desk/calendar/", {"start": value, "view": "week"}).status_code == 200
    assert client.get("/desk/dashboard/", {"period": "custom", "since": value, "until": value}).status_code == 200


# --- a citizen's reply is never lost to bad input -------------------------------------------------

@pytest.mark.parametrize("ref", [str(2**64), str(2**63), "0", "-1", "abc", "٣", "3_0", " 3", "1\x00", "a" * 300])
def test_a_webhook_to_a_bad_channel_id_is_a_404_and_on_record(world: World, ref: str) -> None:
    from engage.models import RejectedInbound

    response = Client().post(f"/api/v1/inbound/{quote(ref, safe='')}/", data=b'{"update_id": 1}',
                             content_type="application/json")
    assert _error(response, 404)["code"] == "not_found"
    rejected = RejectedInbound.objects.get()
    assert rejected.status == 404 and rejected.channel is None
    assert rejected.channel_ref == ref.replace("\x00", "\ufffd")[:40]


@pytest.mark.parametrize("body", [
    b"{not json", b'{"update_id": "\\u0000"}', b"\x00" * 10, b'{"update_id": 1, "message": {"message_id": "1e3", "chat": {"id": 1}, "text": "hi", "date": 1}}',
    b'{"update_id": 1, "message": {"message_id": 1, "chat": {"id": 1}, "text": "hi", "date": 100000000000000000000}}',
])
def test_a_malformed_webhook_to_a_real_channel_is_a_4xx_and_on_record(world: World, body: bytes) -> None:
    from engage.models import RejectedInbound, Reply
    from tests.engage.inbound_helpers import post_telegram, telegram_channel

    channel = telegram_channel(world.a)
    response = post_telegram(Client(), channel, body)
    assert 400 <= response.status_code < 500
    _error(response, response.status_code)
    assert RejectedInbound.objects.filter(channel=channel, status=response.status_code).count() == 1
    assert not Reply.objects.exists()


# --- NUL characters: PostgreSQL cannot hold them, so they are refused on every database alike ------

def test_nul_in_a_query_or_form_field_is_a_400(world: World, client: Client, api: Any) -> None:
    client.force_login(world.a.supervisor)
    assert client.get("/desk/playbooks/", {"kind": "planned\x00"}).status_code == 400
    assert client.post(f"/desk/events/{world.a.event.pk}/phase/", {"phase": "during", "reason": "x\x00"}
                       ).status_code == 400
    assert _error(api(world.a.supervisor).get("/api/v1/replies/", {"language": "en\x00"}), 400)["code"] == "invalid"
    event = world.a.event
    event.refresh_from_db()
    assert event.phase_override in (None, "")


@pytest.mark.parametrize("body", [{"body": "Hello\x00"}, {"body": "Hello", "hashtags": ["a\x00"]}, {"bo\x00dy": "x"}])
def test_nul_anywhere_in_a_json_body_is_a_400(world: World, api: Any, body: dict[str, Any]) -> None:
    message = make_message(world.a)
    client = api(world.a.officer)
    assert _error(client.post("/api/v1/checks/", body, format="json"), 400)["code"] == "invalid"
    assert _error(client.patch(f"/api/v1/messages/{message.pk}/", body, format="json"), 400)["code"] == "invalid"
    assert _error(client.patch(f"/api/v1/messages/{message.pk}/", urlencode(body, doseq=True),
                               content_type="application/x-www-form-urlencoded"), 400)["code"] == "invalid"
    message.refresh_from_db()
    assert "\x00" not in message.body


def test_a_webhook_with_nul_in_its_text_is_still_stored(world: World) -> None:
    """Webhooks read their raw body: a citizen's text with a NUL is kept (NUL replaced), not refused."""
    from engage.models import Reply
    from tests.engage.inbound_helpers import post_telegram, telegram_channel, telegram_update

    channel = telegram_channel(world.a)
    response = post_telegram(Client(), channel, telegram_update(text="Where is gate\x00 B?"))
    assert response.status_code == 200, response.content
    assert Reply.objects.filter(channel=channel).count() == 1


@pytest.mark.parametrize("bad", [2**64, 2**63, "٣", "abc", "1e3", -1, 0, True])
def test_related_object_fields_take_only_ids(world: World, api: Any, bad: Any) -> None:
    client = api(world.a.officer)
    error = _error(client.post("/api/v1/campaigns/", {"name": "Parade", "event": bad, "team": world.a.team.pk},
                               format="json"), 400)
    assert "event" in error["fields"], error
    error = _error(client.post("/api/v1/segments/", {"name": "Families", "team": bad}, format="json"), 400)
    assert "team" in error["fields"], error


def _arabic_indic(number: int) -> str:
    return "".join(chr(0x660 + int(d)) for d in str(number))


def test_an_id_in_other_digits_is_not_that_object(world: World, api: Any, client: Client) -> None:
    """``int("٣") == 3`` in Python: without the parser, "٣" would name object 3 and slip past ASCII-only checks."""
    client_api = api(world.a.officer)
    event_ref = _arabic_indic(world.a.event.pk)
    error = _error(client_api.post("/api/v1/campaigns/", {"name": "Parade", "event": event_ref,
                                                          "team": world.a.team.pk}, format="json"), 400)
    assert "event" in error["fields"], error
    client.force_login(world.a.officer)
    page = client.get("/desk/messages/new/", {"event": event_ref})
    assert page.status_code == 200 and page.context["event"] is None
    assert _error(client_api.get("/api/v1/messages/", {"event": event_ref}), 400)["code"] == "invalid"
