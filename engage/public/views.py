"""The public pages: news, live event pages, feeds, CAP alerts and image sizes. No sign-in.

Every page here is the same for every visitor with the same languages, so it is cached
whole (``engage.public.cache``): nothing user-specific is rendered (no CSRF token, no
staff navigation, no flash messages), and times are shown in the team's time zone, not the
viewer's. Views return 404 and 410 responses rather than raising, so a 410 is cached too.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_safe

from campaigns.models import Event, MediaAsset, Message
from core.ids import parse_id
from engage.public import cap, feeds, selectors
from engage.public.cache import public_page
from engage.public.i18n import (
    VisitorLanguage,
    chrome_context,
    phase_label,
    rumour_status_label,
    visitor_language,
)

NEWS_PAGE_SIZE = 20
IMAGE_WIDTHS = (320, 640, 1024)
POLL_SECONDS = 20


# --- helpers -------------------------------------------------------------------------------------

def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or settings.ENGAGE_DEFAULT_TIMEZONE)
    except (KeyError, ValueError):
        return ZoneInfo(settings.ENGAGE_DEFAULT_TIMEZONE)


def _base_context(request: HttpRequest, lang: VisitorLanguage) -> dict[str, Any]:
    return chrome_context(request, lang)


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, lang: VisitorLanguage,
            status: int = 200) -> HttpResponse:
    with translation.override(lang.ui), timezone.override(_zone(None)):
        response = render(request, template, {**_base_context(request, lang), **context}, status=status)
    response["Content-Language"] = lang.ui
    return response


def _item(message: Message, lang: VisitorLanguage, *, easy: bool) -> dict[str, Any]:
    chosen = selectors.pick_text(message, lang.prefs, easy_read=easy)
    return {"message": message, "chosen": chosen, "text": chosen.text, "zone": _zone(message.team.timezone),
            "media": [_image(asset) for asset in selectors.media_for(message, chosen.text)],
            "event": selectors.public_event_of(message)}


_EXTENSIONS = {"image/png": "png", "image/webp": "webp", "image/jpeg": "jpg"}


def _image(asset: MediaAsset) -> dict[str, Any]:
    ext = _EXTENSIONS.get(asset.mime, "jpg")
    widths = [w for w in IMAGE_WIDTHS if w < asset.width] + [min(asset.width, IMAGE_WIDTHS[-1])]
    widths = sorted(set(widths))

    def url(width: int) -> str:
        return reverse("public:image", kwargs={"pk": asset.pk, "sha": asset.sha256[:12], "width": width, "ext": ext})

    middle = next((w for w in widths if w >= 640), widths[-1])
    return {"src": url(middle), "srcset": ", ".join(f"{url(w)} {w}w" for w in widths),
            "width": middle, "height": max(1, round(asset.height * middle / asset.width)), "alt": asset.alt_text}


def _not_found(request: HttpRequest, lang: VisitorLanguage) -> HttpResponse:
    return _render(request, "engage/public_404.html", {}, lang=lang, status=404)


# --- news ------------------------------------------------------------------------------------------

@require_safe
@public_page(params=("page", "event", "area", "format"))
def news_list(request: HttpRequest) -> HttpResponse:
    lang = visitor_language(request)
    easy = request.GET.get("format") == "easy_read"
    raw_event = request.GET.get("event", "")
    event_id = parse_id(raw_event)
    area = request.GET.get("area", "").strip()[:100]
    page = Paginator(selectors.news(event_id=event_id, area=area), NEWS_PAGE_SIZE).get_page(request.GET.get("page"))
    choices = selectors.filter_choices()
    base_query = urlencode([(k, v) for k, v in (("event", raw_event if event_id else ""), ("area", area),
                                                 ("format", "easy_read" if easy else "")) if v])
    with translation.override(lang.ui):
        live_events = [{"event": e, "phase": phase_label(e.phase)} for e in selectors.live_events()]
    return _render(request, "engage/news_list.html", {
        "page": page, "items": [_item(m, lang, easy=easy) for m in page], "easy": easy,
        "event_choices": choices["events"], "area_choices": choices["areas"], "event_id": event_id, "area": area,
        "base_query": base_query,
        "live_events": live_events,
    }, lang=lang)


@require_safe
@public_page(params=("format",))
def news_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lang = visitor_language(request)
    message = selectors.published_messages().filter(pk=pk).select_related("correction_of").first()
    if message is None:
        withdrawn = selectors.withdrawn_public_message(pk)
        if withdrawn is not None:
            return _render(request, "engage/news_withdrawn.html", {"message": withdrawn,
                                                                    "zone": _zone(withdrawn.team.timezone)},
                           lang=lang, status=410)
        return _not_found(request, lang)
    easy = request.GET.get("format") == "easy_read"
    item = _item(message, lang, easy=easy)
    return _render(request, "engage/news_detail.html", {
        "item": item, "message": message, "easy": easy, "is_alert": selectors.is_alert(message),
    }, lang=lang)


# --- the live event page ------------------------------------------------------------------------

def _event_context(event: Event, lang: VisitorLanguage, *, easy: bool) -> dict[str, Any]:
    updates = selectors.event_updates(event)
    items = [_item(m, lang, easy=easy) for m in updates]
    newest = max((m.public_at for m in updates if m.public_at), default=None)
    with translation.override(lang.ui):
        rumours = [{"rumour": r, "label": rumour_status_label(r.status)} for r in selectors.public_rumours(event)]
        corrections = [{"change": c, "label": rumour_status_label(c.status),
                        "previous_label": rumour_status_label(c.previous_status) if c.previous_status else ""}
                       for c in selectors.corrections_log(event)]
        phase = phase_label(event.phase)
    version_source = "|".join([lang.ui, *(f"{r['rumour'].pk}:{r['rumour'].status_changed_at}" for r in rumours),
                               *(str(c["change"].pk) for c in corrections)])
    return {
        "event": event, "zone": _zone(event.team.timezone), "items": items, "easy": easy,
        "rumours_version": hashlib.sha256(version_source.encode("utf-8")).hexdigest()[:16], "rumours": rumours,
        "corrections": corrections, "content_lang": settings.LANGUAGE_CODE.split("-")[0],
        "cursor": _cursor(newest), "rendered_at": timezone.now(), "phase_label": phase,
    }


def _cursor(value: Any) -> str:
    return str(int(value.timestamp() * 1_000_000)) if value else "0"


@require_safe
@public_page(params=("format",))
def event_live(request: HttpRequest, pk: int) -> HttpResponse:
    lang = visitor_language(request)
    event = selectors.public_event(pk)
    if event is None:
        return _not_found(request, lang)
    context = _event_context(event, lang, easy=request.GET.get("format") == "easy_read")
    query = {"lang": lang.prefs[0]}
    if context["easy"]:
        query["format"] = "easy_read"
    context["updates_url"] = reverse("public:event_updates", args=[event.pk]) + "?" + urlencode(query)
    context["poll_seconds"] = int(getattr(settings, "ENGAGE_PUBLIC_POLL_SECONDS", POLL_SECONDS))
    context["older_url"] = reverse("public:news") + "?" + urlencode({"event": event.pk})
    return _render(request, "engage/event_live.html", context, lang=lang)


@require_safe
@public_page(params=("since", "format"), max_age=0)
def event_updates_json(request: HttpRequest, pk: int) -> HttpResponse:
    """What changed on the live page since ``since`` (a cursor the page and this endpoint hand out)."""
    lang = visitor_language(request)
    event = selectors.public_event(pk)
    if event is None:
        return JsonResponse({"error": {"code": "not_found", "message": "No such event.", "fields": {}}},
                            status=404)
    since = parse_id(request.GET.get("since", "0")) or 0  # a cursor: microseconds since the epoch
    easy = request.GET.get("format") == "easy_read"
    context = _event_context(event, lang, easy=easy)
    base = _base_context(request, lang)
    with translation.override(lang.ui), timezone.override(_zone(event.team.timezone)):
        fresh = []
        for item in context["items"]:
            at = item["message"].public_at
            if at is not None and int(at.timestamp() * 1_000_000) > since:
                fresh.append({"id": item["message"].pk,
                              "html": render_to_string("engage/_update.html", {**base, "item": item,
                                                                                "zone": context["zone"]})})
        rumours_html = render_to_string("engage/_rumours.html", {**base, **context})
        updated_label = timezone.localtime(context["rendered_at"]).strftime("%H:%M")
    payload = {
        "event": event.pk,
        "cursor": context["cursor"],
        "ids": [item["message"].pk for item in context["items"]],
        "updates": fresh,
        "rumours": {"version": context["rumours_version"], "html": rumours_html},
        "phase": context["phase_label"],
        "updated": updated_label,
    }
    # Cache-Control from public_page (max-age=0: a browser asks again at every poll, with its ETag).
    return HttpResponse(json.dumps(payload, ensure_ascii=False), content_type="application/json")


# --- feeds and alerts ----------------------------------------------------------------------------

news_feed = require_safe(public_page()(feeds.NewsFeed()))
event_feed = require_safe(public_page()(feeds.EventFeed()))
cap_feed = require_safe(public_page()(feeds.CapFeed()))


@require_safe
@public_page()
def cap_alert(request: HttpRequest, pk: int) -> HttpResponse:
    message = selectors.alert_message(pk)
    if message is None:
        return HttpResponse("No such alert.\n", status=404, content_type="text/plain; charset=utf-8")
    # A withdrawn alert is served as its Cancel: a document in its own right, so 200. Its note
    # ("This alert has been withdrawn.") is in the visitor's language.
    with translation.override(visitor_language(request).ui):
        return HttpResponse(cap.alert_xml(message), content_type=cap.CONTENT_TYPE)


# --- images in responsive sizes --------------------------------------------------------------------

@require_safe
def public_image(request: HttpRequest, pk: str, sha: str, width: str, ext: str) -> HttpResponse:
    """One size of a published message's image: made once from the re-encoded original, then
    served from storage. The URL carries the image's hash, so it can be cached for a year."""
    from campaigns.media import ImageRejected, process_image

    size, asset_id = int(width), parse_id(pk)  # the URL pattern lets only ASCII digits through
    asset = MediaAsset.objects.filter(pk=asset_id, sha256__startswith=sha).first() if asset_id else None
    if (asset is None or size not in {*IMAGE_WIDTHS, min(asset.width, IMAGE_WIDTHS[-1])}
            or ext != _EXTENSIONS.get(asset.mime, "jpg")):
        raise Http404("No such image.")
    if not selectors.published_messages().filter(pk=asset.message_id).exists():
        raise Http404("No such image.")
    name = f"renditions/{asset.sha256[:32]}-{size}.{ext}"
    if not default_storage.exists(name):
        with asset.file.open("rb") as handle:
            data = handle.read()
        longest = max(asset.width, asset.height)
        target = min(longest, round(size * longest / max(asset.width, 1)))
        try:
            image = process_image(data=data, max_dimension=target)
        except ImageRejected as exc:
            raise Http404("No such image.") from exc
        name = default_storage.save(name, ContentFile(image.content))
    response = FileResponse(default_storage.open(name, "rb"), content_type=asset.mime)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
