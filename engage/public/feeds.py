"""Atom feeds (Django's syndication framework): news, one event's updates, and CAP alerts.

Feed objects are shared between requests, so nothing about the request is kept on them:
``get_object`` returns a context, and ``items`` returns ready-made ``Entry`` values.
The CAP feed follows OASIS's CAP feed practice: one Atom entry per current alert, whose
link is the alert itself with ``type="application/cap+xml"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.feedgenerator import Atom1Feed, rfc3339_date
from django.utils.translation import gettext, gettext_lazy

from campaigns.models import Event, Message, RumourChange
from engage.public import cap, selectors
from engage.public.i18n import UI_LANGUAGES, VisitorLanguage, visitor_language

FEED_ITEMS = 50
URGENCY_LABELS = {"priority": gettext_lazy("Priority"), "emergency": gettext_lazy("Emergency")}


def _absolute(path: str) -> str:
    return settings.ENGAGE_SITE_URL.rstrip("/") + path


@dataclass(frozen=True)
class Entry:
    title: str
    link: str
    description: str
    published: datetime
    updated: datetime
    guid: str
    language: str
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Context:
    lang: VisitorLanguage
    event: Event | None = None


def message_entry(message: Message, lang: VisitorLanguage) -> Entry:
    chosen = selectors.pick_text(message, lang.prefs)
    when = message.public_at or message.published_at or message.created_at
    link = _absolute(reverse("public:news_detail", args=[message.pk]) + f"?lang={chosen.text.language}")
    # The labels are in the entry's own language (its xml:lang), where we have the words.
    words = chosen.text.language if chosen.text.language in UI_LANGUAGES else "en"
    with translation.override(words):
        labels = [str(URGENCY_LABELS[message.urgency])] if message.urgency in URGENCY_LABELS else []
        if message.correction_of_id:
            labels.append(gettext("Correction"))
    title = cap.headline(chosen.text.body, limit=120)
    if labels:
        title = f"{' · '.join(labels)}: {title}"
    return Entry(title=title, link=link, description=chosen.text.body, published=when, updated=when,
                 guid=_absolute(reverse("public:news_detail", args=[message.pk])), language=chosen.text.language,
                 categories=tuple(labels))


class LanguageAtomFeed(Atom1Feed):
    """Atom with ``xml:lang`` on each entry: a feed mixes languages where a variant is missing."""

    def write_items(self, handler):  # noqa: ANN001
        for item in self.items:
            attrs = {"xml:lang": item["language"]} if item.get("language") else {}
            handler.startElement("entry", attrs)
            self.add_item_elements(handler, item)
            handler.endElement("entry")


class _BaseFeed(Feed):
    feed_type = LanguageAtomFeed

    def get_object(self, request: HttpRequest, *args, **kwargs) -> Context:  # noqa: ANN002, ANN003
        return Context(lang=visitor_language(request))

    def __call__(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:  # noqa: ANN002, ANN003
        # The feed's own words (title, subtitle) and its language are the visitor's page language;
        # Feed reads the language from the active one. Each entry carries its own xml:lang.
        with translation.override(visitor_language(request).ui):
            return super().__call__(request, *args, **kwargs)

    def item_extra_kwargs(self, item: Entry) -> dict:
        return {"language": item.language}

    def item_title(self, item: Entry) -> str:
        return item.title

    def item_description(self, item: Entry) -> str:
        return item.description

    def item_link(self, item: Entry) -> str:
        return item.link

    def item_guid(self, item: Entry) -> str:
        return item.guid

    item_guid_is_permalink = False

    def item_pubdate(self, item: Entry) -> datetime:
        return item.published

    def item_updateddate(self, item: Entry) -> datetime:
        return item.updated

    def item_categories(self, item: Entry) -> tuple[str, ...]:
        return item.categories

    def item_author_name(self, item: Entry) -> str:
        return getattr(settings, "ENGAGE_PUBLIC_AUTHOR", "Police communications team")


class NewsFeed(_BaseFeed):
    title = gettext_lazy("News and safety updates")
    subtitle = gettext_lazy("Published updates from the police, newest first.")

    def link(self) -> str:
        return _absolute(reverse("public:news"))

    def feed_url(self) -> str:
        return _absolute(reverse("public:feed_news"))

    def items(self, obj: Context) -> list[Entry]:
        return [message_entry(m, obj.lang) for m in selectors.published_messages()[:FEED_ITEMS]]


class EventFeed(_BaseFeed):
    def get_object(self, request: HttpRequest, pk: int) -> Context:  # type: ignore[override]
        event = selectors.public_event(pk)
        if event is None:
            raise Http404("No such event.")
        return Context(lang=visitor_language(request), event=event)

    def title(self, obj: Context) -> str:
        return gettext("%(event)s: live updates") % {"event": obj.event.name}

    def subtitle(self, obj: Context) -> str:
        return gettext("Updates and rumour corrections for %(event)s.") % {"event": obj.event.name}

    def link(self, obj: Context) -> str:
        return _absolute(reverse("public:event", args=[obj.event.pk]))

    def feed_url(self, obj: Context) -> str:
        return _absolute(reverse("public:feed_event", args=[obj.event.pk]))

    def items(self, obj: Context) -> list[Entry]:
        entries = [message_entry(m, obj.lang) for m in selectors.event_updates(obj.event, limit=FEED_ITEMS)]
        page = _absolute(reverse("public:event", args=[obj.event.pk]))
        for change in selectors.corrections_log(obj.event)[:FEED_ITEMS]:
            entries.append(rumour_entry(change, page))
        entries.sort(key=lambda e: e.updated, reverse=True)
        return entries[:FEED_ITEMS]


def rumour_entry(change: RumourChange, page: str) -> Entry:
    label = change.get_status_display()
    return Entry(title=f"Rumour {label.lower()}: {change.rumour.claim[:100]}", link=f"{page}#rumour-{change.rumour_id}",
                 description=change.explanation, published=change.created_at, updated=change.created_at,
                 guid=f"{page}#rumour-change-{change.pk}", language=settings.LANGUAGE_CODE.split("-")[0],
                 categories=("Rumour", label))


class CapAtomFeed(Atom1Feed):
    """Each entry links to its CAP document with the CAP media type (OASIS CAP feed practice)."""

    def add_item_elements(self, handler, item):  # noqa: ANN001
        handler.addQuickElement("title", item["title"])
        handler.addQuickElement("link", "", {"href": item["link"], "rel": "alternate",
                                             "type": "application/cap+xml"})
        if item["pubdate"] is not None:
            handler.addQuickElement("published", rfc3339_date(item["pubdate"]))
        handler.addQuickElement("updated", rfc3339_date(item["updateddate"] or item["pubdate"]))
        handler.addQuickElement("id", item["unique_id"])
        if item["author_name"]:
            handler.startElement("author", {})
            handler.addQuickElement("name", item["author_name"])
            handler.endElement("author")
        if item["description"]:
            handler.addQuickElement("summary", item["description"], {"type": "text"})
        for cat in item["categories"]:
            handler.addQuickElement("category", "", {"term": cat})


class CapFeed(_BaseFeed):
    feed_type = CapAtomFeed
    title = gettext_lazy("Alerts (CAP 1.2)")
    subtitle = gettext_lazy("Current priority and emergency alerts, as OASIS CAP 1.2 documents.")

    def link(self) -> str:
        return _absolute(reverse("public:news"))

    def feed_url(self) -> str:
        return _absolute(reverse("public:feed_cap"))

    def item_extra_kwargs(self, item: Entry) -> dict:
        return {}

    def items(self, obj: Context) -> list[Entry]:
        entries = []
        for message in selectors.current_alerts(now=timezone.now()):
            info = cap.meta(message)
            link = _absolute(reverse("public:cap_alert", args=[message.pk]))
            title = info.headline if info.msg_type == "Alert" else f"{info.msg_type}: {info.headline}"
            entries.append(Entry(title=title, link=link, description=message.body, published=info.sent,
                                 updated=info.sent, guid=f"urn:cap:{info.identifier}", language=message.language,
                                 categories=(info.msg_type, message.get_urgency_display())))
        entries.sort(key=lambda e: e.updated, reverse=True)
        return entries
