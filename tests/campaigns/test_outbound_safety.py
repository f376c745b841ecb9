"""What the platform fetches, it fetches safely (issue 12, section 4).

Attacks are made against real local servers: a raw TCP listener that counts the connections it
accepts (so "refused" means no byte ever reached it), and a small HTTP server. Name resolution is
replaced at the socket level (``socket.getaddrinfo``), never in our own code.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from campaigns import publishing
from campaigns.models import Channel, Delivery
from campaigns.services.channels import channel_create
from campaigns.services.health import channels_check_health
from core.errors import InvalidInput
from core.links import safe_external_url
from platforms import get_adapter
from platforms.base import Payload, PermanentError
from platforms.http import Redactor, make_client, send
from platforms.netguard import DestinationRefused, address_is_public, check_url
from tests.factories import make_approved

MARKER = "INTERNAL-SECRET-7f3a"  # what an internal service would answer; must never be shown back


# --- local servers ------------------------------------------------------------------------------

class Listener:
    """A TCP port that accepts connections and counts them (then hangs up)."""

    def __init__(self, family: int = socket.AF_INET, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


class _Handler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status, headers, body = self.server.answer(self.path)  # type: ignore[attr-defined]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = do_DELETE = _answer  # noqa: N815

    def log_message(self, *args: Any) -> None:
        pass


class Http:
    def __init__(self, answer) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.answer = answer  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def production_policy(settings):
    """The production default: https to public addresses only, no allowlisted host."""
    settings.ENGAGE_OUTBOUND_ALLOW_PRIVATE = False
    settings.ENGAGE_OUTBOUND_ALLOWED_HOSTS = []
    return settings


@pytest.fixture
def fake_dns(monkeypatch):
    """Answers for chosen names at the socket level; an answer may be a list (one per lookup, the
    last repeating) to play a rebinding DNS server. Everything else goes to the real resolver."""
    real = socket.getaddrinfo
    answers: dict[str, Any] = {}
    lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in answers:
            lookups.append(name)
            ips = answers[name]
            ip = next(ips) if isinstance(ips, Iterator) else ips
            number = int(port or 0)
            if ":" in ip:
                return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, number, 0, 0))]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, number))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    def answer(name: str, *ips: str) -> None:
        answers[name] = itertools.chain(ips[:-1], itertools.repeat(ips[-1])) if len(ips) > 1 else ips[0]

    answer.lookups = lookups  # type: ignore[attr-defined]
    return answer


def _get(url: str, **kwargs: Any):
    with make_client(connect_timeout=1, read_timeout=1) as client:
        return send(client, "GET", url, what="probe", retry_safe=True, redact=Redactor([]), **kwargs)


# --- SSRF: every spelling of "here" is refused before a connection is made -------------------

LOOPBACK_SPELLINGS = [
    "https://127.0.0.1:{port}/",
    "https://localhost:{port}/",
    "https://LOCALHOST.:{port}/",
    "https://0x7f000001:{port}/",
    "https://2130706433:{port}/",
    "https://0177.0.0.1:{port}/",
    "https://127.1:{port}/",
    "https://0.0.0.0:{port}/",
    "https://[::1]:{port}/",
    "https://[::ffff:127.0.0.1]:{port}/",
    "https://[::ffff:7f00:1]:{port}/",
    "https://loopback.attacker.example:{port}/",
    "https://app.localhost:{port}/",
    "http://127.0.0.1:{port}/",  # plain http, too
]


@pytest.mark.parametrize("template", LOOPBACK_SPELLINGS)
def test_loopback_in_any_spelling_is_refused_and_never_connected(production_policy, fake_dns, listener, template):
    fake_dns("loopback.attacker.example", "127.0.0.1")
    url = template.format(port=listener.port)
    with pytest.raises(DestinationRefused):
        check_url(url)
    with pytest.raises(PermanentError, match="outbound address policy|not a valid URL"):  # httpx refuses 0177.x
        _get(url)
    assert listener.accepted == 0


INTERNAL_DESTINATIONS = [
    "https://169.254.169.254/latest/meta-data/",  # AWS, GCP, Azure metadata
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://metadata.attacker.example/",  # a name that resolves to the metadata address
    "https://[fd00:ec2::254]/",  # AWS IPv6 metadata
    "https://100.100.100.200/",  # Alibaba metadata (CGNAT range)
    "https://10.0.0.5/",
    "https://172.16.3.4/",
    "https://192.168.1.1/admin",
    "https://100.64.0.1/",
    "https://[fc00::1]/",
    "https://[fe80::1]/",
    "https://[ff02::1]/",
    "https://224.0.0.1/",
    "https://240.0.0.1/",
    "https://255.255.255.255/",
    "https://[::]/",
    "https://[2002:7f00:1::]/",  # 6to4 wrapping 127.0.0.1
    "https://[64:ff9b::a9fe:a9fe]/",  # NAT64 wrapping 169.254.169.254
]


@pytest.mark.parametrize("url", INTERNAL_DESTINATIONS)
def test_private_link_local_metadata_and_reserved_destinations_are_refused(production_policy, fake_dns, url):
    fake_dns("metadata.attacker.example", "169.254.169.254")
    fake_dns("metadata.google.internal", "169.254.169.254")
    with pytest.raises(DestinationRefused):
        check_url(url)
    with pytest.raises(PermanentError, match="outbound address policy"):
        _get(url)


def test_a_name_with_one_private_address_among_public_ones_is_refused(production_policy, monkeypatch):
    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 443))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(PermanentError, match="private, local or reserved"):
        _get("https://mixed.attacker.example/")


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "1.1.1.1"])
def test_public_addresses_pass(address):
    import ipaddress

    assert address_is_public(ipaddress.ip_address(address))


def test_only_http_and_https_are_fetched_even_where_private_addresses_are_allowed(settings):
    assert settings.ENGAGE_OUTBOUND_ALLOW_PRIVATE  # the embedded and test default
    for url in ("file:///etc/passwd", "gopher://127.0.0.1:25/", "ftp://example.org/"):
        with pytest.raises(DestinationRefused):
            check_url(url)


# --- DNS rebinding --------------------------------------------------------------------------------

def test_dns_rebinding_is_refused_at_connection_time(world, production_policy, fake_dns, listener):
    """Public when the channel is saved, loopback when the health check connects: refused there."""
    fake_dns("rebind.attacker.example", "93.184.216.34", "127.0.0.1")
    channel = channel_create(
        actor=world.a.admin, team=world.a.team, kind="webhook", name="Partner",
        config={"url": f"https://rebind.attacker.example:{listener.port}/hook", "signing_secret": "s" * 32,
                "connect_timeout": 1.0, "read_timeout": 1.0})
    assert fake_dns.lookups == ["rebind.attacker.example"]  # validated (public) when saved
    channels_check_health()
    channel.refresh_from_db()
    assert listener.accepted == 0
    assert channel.health == "failing"
    assert "outbound address policy" in channel.health_detail
    assert len(fake_dns.lookups) == 2  # resolved once at connection time, and that answer was checked


def test_a_name_is_resolved_once_per_connection_and_that_answer_is_the_one_judged(settings, production_policy, fake_dns):
    """One lookup per connection: the name is not resolved again after it was checked."""
    server = Http(lambda path: (200, {"Content-Type": "application/json"}, b"{}"))
    try:
        settings.ENGAGE_OUTBOUND_ALLOWED_HOSTS = []
        # An attacker's name: public on the first lookup, the local server after. Only one lookup
        # may happen, so the connection goes to the public address (and fails), never to the server.
        fake_dns("once.attacker.example", "192.0.2.1", "127.0.0.1")  # 192.0.2.0/24 is refused too
        with pytest.raises(PermanentError, match="outbound address policy"):
            _get(f"https://once.attacker.example:{server.port}/")
        assert fake_dns.lookups == ["once.attacker.example"]
    finally:
        server.close()


def test_through_an_egress_proxy_the_destination_is_checked_before_the_proxy_is_asked(
        production_policy, fake_dns, listener):
    production_policy.ENGAGE_OUTBOUND_PROXY = f"http://127.0.0.1:{listener.port}"
    fake_dns("public.partner.example", "93.184.216.34")
    with pytest.raises(PermanentError, match="outbound address policy"):
        _get("https://10.0.0.1/")
    with pytest.raises(PermanentError, match="outbound address policy"):
        _get("https://loopback.localhost/")
    assert listener.accepted == 0
    with pytest.raises(Exception):  # noqa: B017, PT011 - the stand-in proxy hangs up: any error will do
        _get("https://public.partner.example/")
    assert listener.accepted == 1  # a public destination does go through the proxy


# --- redirects ------------------------------------------------------------------------------------

def test_a_redirect_to_loopback_is_refused_even_when_the_first_hop_is_allowed(production_policy, listener):
    """The partner's own host is allowlisted (an on-premises gateway); its redirect to another
    local port is checked like any request, and refused."""
    target = f"http://127.0.0.1:{listener.port}/"
    first = Http(lambda path: (302, {"Location": target}, b""))
    try:
        production_policy.ENGAGE_OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{first.port}"]
        response = _get(first.url + "/start")  # our clients do not follow redirects at all
        assert response.status_code == 302
        with pytest.raises(PermanentError, match="outbound address policy"):
            _get(first.url + "/start", follow_redirects=True)  # and a client that did is still checked
        assert listener.accepted == 0
    finally:
        first.close()


def test_the_allowlist_names_a_host_and_port_and_nothing_else(production_policy, listener):
    production_policy.ENGAGE_OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{listener.port}"]
    check_url(f"http://127.0.0.1:{listener.port}/")
    with pytest.raises(DestinationRefused):
        check_url(f"http://127.0.0.1:{listener.port + 1}/")
    with pytest.raises(DestinationRefused):
        check_url(f"http://localhost:{listener.port}/")


# --- nothing a host answers is shown back -------------------------------------------------------

def _marker_bodies() -> list[dict]:
    common = {"description": MARKER, "message": MARKER, "detail": MARKER, "title": MARKER,
              "error_description": MARKER, "errors": [{"message": MARKER}], "acct": MARKER,
              "username": MARKER, "name": MARKER, "friendly_name": MARKER, "status": MARKER,
              "data": {"username": MARKER, "id": MARKER, "is_valid": False, "error": {"message": MARKER}},
              "id": MARKER, "ok": False, "code": MARKER, "result": {"username": MARKER}}
    return [{**common, "error": MARKER}, {**common, "error": {"message": MARKER, "code": MARKER, "type": MARKER}}]


HTTP_KINDS = {
    "mastodon": lambda url: ({"instance_url": url}, {"access_token": "tok-123456"}),
    "telegram": lambda url: ({"api_base": url, "chat_id": "@news"}, {"bot_token": "123:abcdef"}),
    "x": lambda url: ({"api_base": url}, {"access_token": "tok-123456"}),
    "facebook": lambda url: ({"api_base": url, "page_id": "100"}, {"page_access_token": "tok-123456"}),
    "sms": lambda url: ({"api_base": url, "account_sid": "AC1", "from_number": "+447700900000",
                         "recipients": ["+447700900111"]}, {"auth_token": "tok-123456"}),
    "webhook": lambda url: ({"url": url + "/hook", "health_url": url + "/health"}, {"signing_secret": "s" * 32}),
}


@pytest.mark.parametrize("kind", sorted(HTTP_KINDS))
@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 422, 429, 500])
@pytest.mark.parametrize("variant", [0, 1])
def test_no_error_or_health_detail_quotes_what_the_host_answered(kind, status, variant):
    body = json.dumps(_marker_bodies()[variant]).encode()
    server = Http(lambda path: (status, {"Content-Type": "application/json", "Retry-After": "1"}, body))
    try:
        config, secrets = HTTP_KINDS[kind](server.url)
        adapter = get_adapter(kind, config={**config, "read_timeout": 2.0}, secrets=secrets)
        health = adapter.check()
        assert MARKER not in health.detail
        try:
            adapter.publish(Payload(text="Hello"), idempotency_key="k")
        except Exception as exc:  # noqa: BLE001 - any error: what it says is what is stored
            assert MARKER not in str(exc)
            assert MARKER not in getattr(exc, "detail", "")
        adapter.close()
    finally:
        server.close()


def test_the_health_check_never_copies_the_answer_into_health_detail(world):
    """The reported case: a channel pointed at a local service (allowed here, as in the embedded
    demo) showed part of the answer in ``health_detail``."""
    for status in (200, 401, 500):
        server = Http(lambda path, s=status: (s, {"Content-Type": "application/json"},
                                              json.dumps({"acct": MARKER, "error": MARKER}).encode()))
        try:
            channel = channel_create(actor=world.a.admin, team=world.a.team, kind="mastodon",
                                     name=f"Local {status}", config={"instance_url": server.url,
                                                                     "access_token": "tok-123456"})
            channels_check_health()
            channel.refresh_from_db()
            assert channel.health_checked_at is not None
            assert MARKER not in channel.health_detail, channel.health_detail
            assert str(status) in channel.health_detail or channel.health == "ok"
        finally:
            server.close()


# --- channel settings are validated when saved ------------------------------------------------

def test_unknown_config_keys_are_refused_by_the_api_with_their_names(world, api):
    client = api(world.a.admin)
    response = client.post("/api/v1/channels/", {
        "team": world.a.team.pk, "kind": "mastodon", "name": "M",
        "config": {"instance_url": "https://mastodon.example", "access_token": "tok", "secret": "s3",
                   "webhook_secret": "w"}}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert "secret" in error["message"] and "webhook_secret" in error["message"]
    assert any("secret, webhook_secret" in text for text in error["fields"]["config"])
    assert not Channel.objects.filter(team=world.a.team, name="M").exists()


def test_secrets_are_encrypted_write_only_and_the_schema_decides_which(world, api):
    client = api(world.a.admin)
    response = client.post("/api/v1/channels/", {
        "team": world.a.team.pk, "kind": "webhook", "name": "W",
        "config": {"url": "https://partner.example/hook", "signing_secret": "sign-me-1234",
                   "inbound_secret": "in-5678"}}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["config"] == {"url": "https://partner.example/hook"}
    assert body["secrets_set"] == ["inbound_secret", "signing_secret"]
    channel = Channel.objects.get(pk=body["id"])
    assert "sign-me-1234" not in json.dumps(channel.config) and "sign-me-1234" not in channel.secrets_encrypted


@pytest.mark.parametrize(("kind", "config", "needle"), [
    ("mastodon", {"visibility": "everyone"}, "visibility"),
    ("mastodon", {"instance_url": 42}, "instance_url"),
    ("webhook", {"honours_idempotency_key": "yes"}, "honours_idempotency_key"),
    ("sms", {"recipients": "+447700900111"}, "recipients"),
    ("sms", {"max_segments": -1}, "max_segments"),
    ("public", {"site_url": "javascript:alert(1)"}, "site_url"),
    ("email", {"unsubscribe_url": "data:text/html,<script>alert(1)</script>"}, "unsubscribe_url"),
    ("webhook", {"url": "file:///etc/passwd"}, "url"),
    ("webhook", {"url": "https://user:pass@partner.example/"}, "url"),
    ("webhook", {"read_timeout": 1e9}, "read_timeout"),
    ("mastodon", {"media_poll_attempts": 10**9}, "media_poll_attempts"),
    ("email", {"reply_to": "a@example.org\r\nBcc: everyone@example.org"}, "reply_to"),
    ("email", {"unsubscribe_email": "x@example.org?subject=spam&body=<script>"}, "unsubscribe_email"),
    ("email", {"message_id_domain": "example.org>\r\nX-Evil: 1"}, "message_id_domain"),
])
def test_values_of_the_wrong_type_or_scheme_are_refused(world, kind, config, needle):
    with pytest.raises(InvalidInput) as caught:
        channel_create(actor=world.a.admin, team=world.a.team, kind=kind, name="X", config=config)
    assert any(text.startswith(f"{needle}:") for text in caught.value.fields["config"]), caught.value.fields


@pytest.mark.parametrize(("key", "url"), [
    ("instance_url", "http://mastodon.example"),
    ("instance_url", "https://127.0.0.1"),
    ("instance_url", "https://169.254.169.254/"),
    ("instance_url", "https://[::ffff:10.0.0.1]/"),
    ("instance_url", "https://localhost/"),
])
def test_in_production_urls_must_be_https_to_public_hosts_when_saved(world, api, production_policy, key, url):
    response = api(world.a.admin).post("/api/v1/channels/", {
        "team": world.a.team.pk, "kind": "mastodon", "name": "M", "config": {key: url, "access_token": "t"}},
        format="json")
    assert response.status_code == 400, response.content
    assert any(text.startswith(f"{key}:") for text in response.json()["error"]["fields"]["config"])


def test_an_update_is_validated_too(world, api, production_policy):
    response = api(world.a.admin).patch(f"/api/v1/channels/{world.a.mastodon.pk}/",
                                        {"config": {"instance_url": "https://10.0.0.1/"}}, format="json")
    assert response.status_code == 400, response.content
    world.a.mastodon.refresh_from_db()
    assert world.a.mastodon.config["instance_url"] == "http://127.0.0.1:9"


def test_the_html_form_shows_the_refusal(world, client, production_policy):
    client.force_login(world.a.admin)
    response = client.post("/desk/channels/", {
        "team": world.a.team.pk, "kind": "mastodon", "name": "Form",
        "config": json.dumps({"instance_url": "https://192.168.0.10", "secret": "x"})}, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Channel settings not accepted" in text and "instance_url" in text
    assert not Channel.objects.filter(name="Form").exists()


# --- the email channel ----------------------------------------------------------------------------

LOADED: list[str] = []


class EvilBackend:
    """Stands for any importable class: loading it is the attack."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        LOADED.append("evil")


def test_an_email_backend_outside_the_allowlist_is_refused_when_saved_and_when_sent(world):
    evil = f"{__name__}.EvilBackend"
    with pytest.raises(InvalidInput, match="backend"):
        channel_create(actor=world.a.admin, team=world.a.team, kind="email", name="E", config={"backend": evil})
    with pytest.raises(InvalidInput, match="backend"):
        channel_create(actor=world.a.admin, team=world.a.team, kind="email", name="E",
                       config={"backend": "os.system"})
    # A config stored around the check (an old row) still cannot load it.
    adapter = get_adapter("email", config={"backend": evil, "recipients": ["a@example.org"]}, secrets={})
    with pytest.raises(PermanentError, match="not an allowed email backend"):
        adapter.publish(Payload(text="Hi"), idempotency_key="k")
    assert LOADED == []
    channel_create(actor=world.a.admin, team=world.a.team, kind="email", name="Allowed",
                   config={"backend": "django.core.mail.backends.smtp.EmailBackend"})


def test_the_sender_must_be_an_allowed_address_or_domain(world, settings):
    settings.ENGAGE_EMAIL_CHANNEL_SENDERS = ["police.example", "alerts@partner.example"]
    for sender in ("ceo@bank.example", "Chief <chief@police.example.evil.com>", "x@partner.example",
                   "news@police.example\r\nBcc: all@example.org"):
        with pytest.raises(InvalidInput, match="from_email"):
            channel_create(actor=world.a.admin, team=world.a.team, kind="email", name="E",
                           config={"from_email": sender})
    for sender in ("news@police.example", "Stadium Police <news@police.example>", "alerts@partner.example"):
        channel_create(actor=world.a.admin, team=world.a.team, kind="email", name=sender, config={"from_email": sender})
    adapter = get_adapter("email", config={"from_email": "ceo@bank.example", "recipients": ["a@example.org"]},
                          secrets={})
    with pytest.raises(PermanentError, match="not an allowed sender"):
        adapter.publish(Payload(text="Hi"), idempotency_key="k")


# --- external_url is a link only if it is http(s) ------------------------------------------------

ATTACK_URLS = [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "//evil.example/x",
    "https://x.example/\"onmouseover=\"alert(1)",
    "http:alert(1)",
]


@pytest.mark.parametrize("url", ATTACK_URLS)
def test_unsafe_external_urls_are_not_links(url):
    assert safe_external_url(url) == ""


def test_safe_external_urls_stay():
    for url in ("https://mastodon.example/@police/1", "http://t.me/news/5"):
        assert safe_external_url(url) == url


def test_a_platform_answer_with_a_javascript_url_is_recorded_without_it(world, client, api):
    message = make_approved(world.a, channels=[world.a.public, world.a.mastodon])
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    for delivery_id, token, _urgent in publishing.deliveries_claim_due():
        permit = publishing.delivery_begin(delivery_id=delivery_id, token=token)
        publishing.delivery_finish(permit=permit, token=token, outcome="sent", external_id="1",
                                   external_url="javascript:alert(document.cookie)")
    assert set(Delivery.objects.filter(message=message).values_list("external_url", flat=True)) == {""}
    # A value stored before this check is still not a link when shown.
    Delivery.objects.filter(message=message).update(external_url="javascript:alert(document.cookie)")
    client.force_login(world.a.officer)
    page = client.get(f"/desk/messages/{message.pk}/").content.decode()
    assert 'href="javascript:' not in page
    rows = api(world.a.officer).get(f"/api/v1/messages/{message.pk}/deliveries/").json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    assert rows and {row["external_url"] for row in rows} == {""}


def test_a_person_cannot_record_a_javascript_url_either(world):
    message = make_approved(world.a, channels=[world.a.mastodon])
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    for delivery_id, token, _urgent in publishing.deliveries_claim_due():
        permit = publishing.delivery_begin(delivery_id=delivery_id, token=token)
        publishing.delivery_finish(permit=permit, token=token, outcome="unconfirmed", error="timeout")
    delivery = Delivery.objects.get(message=message)
    with pytest.raises(InvalidInput):
        publishing.delivery_resolve_unconfirmed(actor=world.a.officer, delivery=delivery, posted=True,
                                                external_url="javascript:alert(1)")
    publishing.delivery_resolve_unconfirmed(actor=world.a.officer, delivery=delivery, posted=True,
                                            external_url="https://mastodon.example/@police/9")


# --- production refuses to open the policy without saying so --------------------------------------

def _production_env(tmp_path, **extra: str) -> dict[str, str]:
    import secrets as random_secrets

    return {"DJANGO_ENV": "production", "SECRET_KEY": random_secrets.token_urlsafe(64),
            "ENGAGE_FIELD_ENCRYPTION_KEY": random_secrets.token_urlsafe(64), "ALLOWED_HOSTS": "engage.example.org",
            "ENGAGE_SITE_URL": "https://engage.example.org", "ENGAGE_VAR_DIR": str(tmp_path), **extra}


@pytest.mark.slow
def test_production_refuses_private_destinations_unless_acknowledged(tmp_path):
    from tests.test_settings import _check

    refused = _check(_production_env(tmp_path, ENGAGE_OUTBOUND_ALLOW_PRIVATE="1"))
    assert refused.returncode != 0
    assert "ENGAGE_OUTBOUND_ALLOW_PRIVATE" in refused.stderr
    acknowledged = _check(_production_env(tmp_path, ENGAGE_OUTBOUND_ALLOW_PRIVATE="1",
                                          ENGAGE_OUTBOUND_ALLOW_PRIVATE_ACKNOWLEDGED="1"))
    assert "ENGAGE_OUTBOUND_ALLOW_PRIVATE" not in acknowledged.stderr, acknowledged.stderr
    default = _check(_production_env(tmp_path, ENGAGE_OUTBOUND_ALLOWED_HOSTS="sms-gateway.force.internal:8443"))
    assert "ENGAGE_OUTBOUND_ALLOW_PRIVATE" not in default.stderr, default.stderr


def test_mastodon_polling_never_quotes_an_odd_answer_in_last_error(world):
    from engage.inbound.ingest import mastodon_poll
    from engage.models import InboundCursor

    odd = [{"id": "1", "type": "mention", "created_at": MARKER,
            "account": {"id": "9", "acct": "someone", "display_name": "Someone"},
            "status": {"id": "5", "content": "<p>hello</p>", "created_at": MARKER, "visibility": "public"}}]
    server = Http(lambda path: (200, {"Content-Type": "application/json"}, json.dumps(odd).encode()))
    try:
        channel = channel_create(actor=world.a.admin, team=world.a.team, kind="mastodon", name="Polled",
                                 config={"instance_url": server.url, "access_token": "tok-123456"})
        mastodon_poll(channel=channel)
    finally:
        server.close()
    error = InboundCursor.objects.get(channel=channel).last_error
    assert error and MARKER not in error, error


def test_unknown_keys_stored_before_the_schema_are_moved_into_the_encrypted_secrets(world, api):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("campaigns.migrations.0005_channel_config_unknown_keys_encrypted")
    Channel.objects.filter(pk=world.a.mastodon.pk).update(
        config={"instance_url": "http://127.0.0.1:9", "secret": "plain-s3cret", "password": "hunter22"})
    migration.forwards(apps, None)
    channel = Channel.objects.get(pk=world.a.mastodon.pk)
    assert channel.config == {"instance_url": "http://127.0.0.1:9"}
    assert channel.get_secrets() == {"access_token": "tok-A", "password": "hunter22", "secret": "plain-s3cret"}
    shown = api(world.a.admin).get(f"/api/v1/channels/{channel.pk}/").json()
    assert "plain-s3cret" not in json.dumps(shown)


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_an_answer_too_large_to_be_a_platform_answer_is_not_read_whole(encoding):
    """A host that answers without end, or with a small gzip that expands to gigabytes."""
    import gzip

    from platforms.base import UnconfirmedError
    from platforms.http import MAX_ANSWER_BYTES

    raw = b"{" + b" " * (MAX_ANSWER_BYTES + 10) + b"}"
    body = gzip.compress(raw) if encoding == "gzip" else raw
    headers = {"Content-Type": "application/json"} | ({"Content-Encoding": "gzip"} if encoding == "gzip" else {})
    server = Http(lambda path: (200, headers, body))
    try:
        with pytest.raises(PermanentError, match="larger than"):
            _get(server.url)
        with make_client() as client, pytest.raises(UnconfirmedError, match="larger than"):
            send(client, "POST", server.url, what="probe", retry_safe=False, redact=Redactor([]))
        small = Http(lambda path: (200, {"Content-Type": "application/json", "Retry-After": "3"}, b'{"id": "7"}'))
        try:
            answer = _get(small.url)
            assert (answer.json(), answer.headers["Retry-After"]) == ({"id": "7"}, "3")
        finally:
            small.close()
    finally:
        server.close()
