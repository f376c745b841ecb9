"""The public pages' cache: a surge of visitors during an incident must not reach the database.

Every public page and feed is cached whole, per path, allowed query parameters and the
visitor's (normalised) languages, under a *version* number kept in the cache. Anything that
changes what the public sees bumps the version, so every page is rebuilt on its next visit:

* a delivery on the public channel being recorded (``delivery.sent``, reconciled, taken down; a
  delivery's audit row names its channel's kind, and one that does not is taken as public) or
  a message withdrawn: the audit trail records each of these (invariant 5), so the receiver
  listens to ``AuditEvent`` rows, which also catches the services' conditional
  ``QuerySet.update()`` calls that send no ``post_save``;
* an event edited or its phase overridden, a rumour registered or its status changed.

The version is bumped at once *and* again when the transaction commits: the first bump
drops pages at once; the second drops any page rebuilt from the old data while the change
was still uncommitted. Entries also expire after ``ENGAGE_PUBLIC_CACHE_SECONDS`` (60), which
bounds anything time-based (an event's phase, a CAP alert's expiry).

With a network cache (Redis in production), each process also keeps the pages it served
last in memory (``LOCAL_ENTRIES`` of them) and re-reads the shared version at most every
``ENGAGE_PUBLIC_CACHE_LOCAL_SECONDS`` (1 s): a hit then costs no network round trip at all,
and a change made in another process (a worker publishing) reaches every web process within
that second. A bump made in this process is seen at once. Responses carry an ETag: a client that already has the page (the live page's
poller, a feed reader) gets a 304 with no body.

Pages are compressed once, when they are cached, and sent gzipped to every client that
accepts it (phones on a congested network do): the live page with 50 updates is about 5 KB
over the wire instead of 40 KB, with no GZipMiddleware and no compression per request.
Public pages carry no secrets (no CSRF token, no session data), so BREACH does not apply.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import Resolver404, resolve
from django.utils.cache import patch_vary_headers

from engage.public.i18n import LANG_COOKIE, visitor_language

logger = logging.getLogger(__name__)

VERSION_KEY = "engage:public:version"
_KEPT_HEADERS = ("Content-Type", "Content-Language", "Cache-Control", "Last-Modified")
# Audit verbs after which a public page may show something else.
_PUBLIC_VERBS = ("delivery.sent", "delivery.reconciled", "delivery.taken_down", "message.withdrawn",
                 "event.created", "event.updated", "event.phase_overridden", "event.published", "rumour.",
                 "audit.head_published",
                 # the transparency page lists every watch of public signals: approved, stopped or ended
                 "awareness.watch.")


LOCAL_ENTRIES = 256
_ACCEPTS_GZIP = re.compile(r"\bgzip\b")
_lock = threading.Lock()
_local_pages: OrderedDict[str, dict[str, Any]] = OrderedDict()
_local_version: list[float] = [0.0, -1.0]  # [version, monotonic time it was read]


def ttl() -> int:
    return int(getattr(settings, "ENGAGE_PUBLIC_CACHE_SECONDS", 60))


def cache_control(max_age: int) -> str:
    """What a public page tells browsers (``max-age``) and a CDN or reverse-proxy cache in front
    (``s-maxage``, ``ENGAGE_PUBLIC_SHARED_MAX_AGE``, 5 s): a shared cache keeps a page at most that
    long unless purged (docs/deploy.md), and may serve it that much longer while it fetches a new
    one; the live JSON (``max_age`` 0) is never served stale, so a poller sees an update within
    its poll interval plus ``s-maxage``."""
    shared = int(getattr(settings, "ENGAGE_PUBLIC_SHARED_MAX_AGE", 5))
    if max_age <= 0:
        return f"public, max-age=0, s-maxage={shared}"
    return f"public, max-age={max_age}, s-maxage={shared}, stale-while-revalidate={shared}"


def _local_seconds() -> float:
    """How long this process trusts its copy of the version: 1 s with a network cache (Redis,
    memcached), where the copies save a round trip per request; 0 (no local copies) with a
    cache that is local already (locmem) or a file cache (the embedded run)."""
    configured = getattr(settings, "ENGAGE_PUBLIC_CACHE_LOCAL_SECONDS", None)
    if configured is not None:
        return float(configured)
    backend = settings.CACHES["default"]["BACKEND"].lower()
    return 1.0 if "redis" in backend or "memcached" in backend else 0.0


def reset_local() -> None:
    """Forget this process's copies (tests, and after a cache clear)."""
    with _lock:
        _local_pages.clear()
        _local_version[:] = [0.0, -1.0]


def _remember_version(version: int) -> int:
    with _lock:
        _local_version[:] = [version, time.monotonic()]
    return version


# While the shared cache cannot be reached (Redis down or hung), the public pages are rendered
# live, uncached, and nothing is stored: no visitor gets a 500 and no one a stale page. After a
# failure the cache is not tried again for ``UNREACHABLE_SECONDS`` (a hung Redis costs a socket
# timeout per try), and the failure is logged once per such period.
UNREACHABLE_SECONDS = 5.0
_unreachable_until = [0.0]


def _reachable() -> bool:
    return time.monotonic() >= _unreachable_until[0]


def _unreachable(what: str) -> None:
    first = _reachable()
    _unreachable_until[0] = time.monotonic() + UNREACHABLE_SECONDS
    if first:
        logger.warning("The cache is unreachable (%s): public pages are rendered live, uncached, for %.0f s.",
                       what, UNREACHABLE_SECONDS, exc_info=True)


def current_version() -> int | None:
    """The shared version of every cached public page; None while the cache cannot be reached."""
    version, read_at = _local_version
    if read_at >= 0 and time.monotonic() - read_at < _local_seconds():
        return int(version)
    if not _reachable():
        return None
    try:
        shared = cache.get(VERSION_KEY)
        if shared is None:
            # Start from the clock, not 1: after an eviction of this key alone, old pages keyed
            # under a small number must not come back.
            cache.add(VERSION_KEY, time.time_ns() // 1000, None)
            shared = cache.get(VERSION_KEY) or 0
    except Exception:  # noqa: BLE001 - the cache is down: render live
        _unreachable("reading the version")
        return None
    return _remember_version(int(shared))


def bump() -> None:
    """Make every cached public page stale. With the cache unreachable nothing is cached, so there
    is nothing to make stale: this process forgets its own copies, and the failure is logged."""
    try:
        try:
            version = cache.incr(VERSION_KEY)
        except ValueError:
            version = time.time_ns() // 1000
            cache.set(VERSION_KEY, version, None)
    except Exception:  # noqa: BLE001 - never fail the change that asked for the bump
        _unreachable("making pages stale")
        reset_local()
        return
    _remember_version(int(version))


def _local_get(key: str) -> dict[str, Any] | None:
    if _local_seconds() <= 0:
        return None
    stored = _local_pages.get(key)
    if stored is not None and stored["expires"] > time.monotonic():
        return stored
    return None


def _local_put(key: str, stored: dict[str, Any]) -> None:
    if _local_seconds() <= 0:
        return
    with _lock:
        _local_pages[key] = {**stored, "expires": time.monotonic() + ttl()}
        _local_pages.move_to_end(key)
        while len(_local_pages) > LOCAL_ENTRIES:
            _local_pages.popitem(last=False)


def bump_now_and_on_commit() -> None:
    bump()
    if transaction.get_connection().in_atomic_block:  # outside one, the change is committed already
        transaction.on_commit(bump)


def page_key(request: HttpRequest, *, params: Iterable[str], version: int | None = None) -> str:
    # (No query string, nothing to parse: the live page's visitors send none.)
    allowed = sorted((name, request.GET.get(name, "")[:64]) for name in params if name in request.GET) \
        if params and request.META.get("QUERY_STRING") else []
    lang = visitor_language(request)
    raw = f"{request.path}|{allowed}|{lang.key}|{lang.ui}"
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]
    return f"engage:public:{current_version() if version is None else version}:{digest}"


def _etag(content: bytes) -> str:
    return '"' + hashlib.md5(content, usedforsecurity=False).hexdigest() + '"'


def _not_modified(request: HttpRequest, etag: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH", "")
    return bool(header) and (header.strip() == "*" or etag in [t.strip() for t in header.split(",")])


def _lookup(key: str) -> dict[str, Any] | None:
    stored = _local_get(key)
    if stored is None:
        try:
            stored = cache.get(key)
        except Exception:  # noqa: BLE001 - the cache is down: a miss
            _unreachable("reading a page")
            return None
        if stored is not None:
            _local_put(key, stored)
    return stored


def _store(key: str, stored: dict[str, Any]) -> None:
    try:
        cache.set(key, stored, ttl())
    except Exception:  # noqa: BLE001 - the cache is down: the page was served; it is not kept
        _unreachable("storing a page")
        return
    _local_put(key, stored)


_VARY = ("Accept-Encoding", "Accept-Language", "Cookie")


def _headers(stored: dict[str, Any], *, compressed: bool, max_age: int) -> dict[str, tuple[str, str]]:
    """The headers of a 200 (or 410) from ``stored``, as Django's ``ResponseHeaders`` keeps them,
    worked out once per stored page and variant: a hit then copies them instead of validating
    a dozen headers one by one (about a fifth of a hit's time in process)."""
    key = ("prepared", compressed, max_age)
    prepared = stored.get(key)
    if prepared is None:
        response = HttpResponse(status=stored["status"])
        for name, value in stored["headers"].items():
            response[name] = value
        if compressed:
            response["Content-Encoding"] = "gzip"
        response["Content-Length"] = str(len(stored["gzip"] if compressed else stored["content"]))
        response["ETag"] = _variant_etag(stored, compressed)
        if "Cache-Control" not in stored["headers"]:
            response["Cache-Control"] = cache_control(max_age)
        patch_vary_headers(response, _VARY)
        prepared = stored[key] = dict(response.headers._store)  # noqa: SLF001 - Django's header store
    return prepared


def _variant_etag(stored: dict[str, Any], compressed: bool) -> str:
    return stored["etag"][:-1] + '-gz"' if compressed else stored["etag"]


def _respond(request: HttpRequest, stored: dict[str, Any], *, max_age: int) -> HttpResponse:
    compressed = stored.get("gzip") is not None and bool(_ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING",
                                                                                                  "")))
    etag = _variant_etag(stored, compressed)
    if stored["status"] == 200 and _not_modified(request, etag):
        response: HttpResponse = HttpResponseNotModified()
        response["ETag"] = etag
        if "Cache-Control" not in stored["headers"]:
            response["Cache-Control"] = cache_control(max_age)
        patch_vary_headers(response, _VARY)
    else:
        response = HttpResponse(stored["gzip"] if compressed else stored["content"], status=stored["status"])
        response.headers._store.update(_headers(stored, compressed=compressed, max_age=max_age))  # noqa: SLF001
    chosen = visitor_language(request).explicit
    if chosen and request.COOKIES.get(LANG_COOKIE) != chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=request.is_secure(), httponly=True)
    return response


def public_page(*, params: Iterable[str] = (), max_age: int = 30) -> Callable:
    """Cache a public GET view whole. ``params``: the query parameters its output depends on."""
    params = tuple(params)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in ("GET", "HEAD"):
                return view(request, *args, **kwargs)
            version = current_version()
            if version is None:  # the cache is unreachable: render live, keep nothing
                return view(request, *args, **kwargs)
            key = page_key(request, params=params, version=version)
            stored = _lookup(key)
            if stored is None:
                response = view(request, *args, **kwargs)
                if getattr(response, "streaming", False) or response.status_code not in (200, 410):
                    return response
                content = response.content
                stored = {"status": response.status_code, "content": content, "etag": _etag(content),
                          "gzip": gzip.compress(content, compresslevel=6, mtime=0) if len(content) > 512 else None,
                          "headers": {h: response[h] for h in _KEPT_HEADERS if h in response}}
                # Only a page rendered for an anonymous visitor is shared: a signed-in person's copy
                # carries their name and a CSRF token in the header.
                user = getattr(request, "user", None)
                if not response.cookies and not (user is not None and user.is_authenticated):
                    _store(key, stored)
            return _respond(request, stored, max_age=max_age)

        wrapper.public_cache = {"params": params, "max_age": max_age}  # type: ignore[attr-defined]
        return wrapper

    return decorator


class PublicPageCacheMiddleware:
    """Answer a cached public page before the rest of the middleware runs.

    Optional: the views cache themselves either way. Placed right after CSPMiddleware (so the
    page still gets its Content-Security-Policy, and SecurityMiddleware's headers), a hit
    skips sessions, locale, CSRF, authentication, 2FA and the rest: about 0.2 ms instead of
    1 ms in process, which is what lets the live page keep up with a surge. A miss, or any
    page that is not a cached public page, goes through the whole stack as usual.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD") and not request.path_info.startswith(_NOT_PUBLIC):
            options = _cache_options(request.path_info)
            version = current_version() if options is not None else None
            if options is not None and version is not None:
                stored = _lookup(page_key(request, params=options["params"], version=version))
                if stored is not None:
                    response = _respond(request, stored, max_age=options["max_age"])
                    response.setdefault("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY"))
                    return response
        return self.get_response(request)


_NOT_PUBLIC = ("/static/", "/media/", "/desk/", "/api/", "/admin/", "/accounts/")
# Path -> the cached view's options, or None: resolving a path costs about 20 µs, a third of a hit.
# Bounded (emptied when full), and emptied when a test changes the URLconf.
_RESOLVED_ENTRIES = 4096
_resolved: dict[str, dict[str, Any] | None] = {}


def _cache_options(path: str) -> dict[str, Any] | None:
    try:
        return _resolved[path]
    except KeyError:
        pass
    try:
        options = getattr(resolve(path).func, "public_cache", None)
    except Resolver404:
        options = None
    if len(_resolved) >= _RESOLVED_ENTRIES:
        _resolved.clear()
    _resolved[path] = options
    return options


@receiver(setting_changed)
def _forget_resolved(setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _resolved.clear()


# --- invalidation ---------------------------------------------------------------------------

def _on_audit(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    verb = str(getattr(instance, "verb", ""))
    if not created or not verb.startswith(_PUBLIC_VERBS):
        return
    # The public pages show what went out on the public channel. A delivery's audit row names its
    # channel's kind; one to Mastodon or by SMS (most of a publishing burst) changes no page.
    summary = getattr(instance, "summary", None)
    kind = summary.get("channel") if verb.startswith("delivery.") and isinstance(summary, dict) else None
    if kind in (None, "public"):
        bump_now_and_on_commit()


def _on_public_model(sender: Any, instance: Any, **kwargs: Any) -> None:
    bump_now_and_on_commit()


def _on_message(sender: Any, instance: Any, **kwargs: Any) -> None:
    # Drafts and approvals change nothing public; a withdrawal (or a correction going out) does.
    if instance.status == "withdrawn" or instance.withdrawn_at is not None:
        bump_now_and_on_commit()


def connect() -> None:
    """Called from EngageConfig.ready(), so every process (web, worker, beat) invalidates."""
    from accounts.models import AuditEvent
    from campaigns.models import Delivery, Event, Message, Rumour, RumourChange

    post_save.connect(_on_audit, sender=AuditEvent, dispatch_uid="engage.public.cache.audit")
    post_save.connect(_on_message, sender=Message, dispatch_uid="engage.public.cache.message")
    for model in (Delivery, Event, Rumour, RumourChange):
        post_save.connect(_on_public_model, sender=model, dispatch_uid=f"engage.public.cache.{model.__name__}")
