"""CAP 1.2 (OASIS Common Alerting Protocol) alerts for priority and emergency messages.

* A published alert is ``msgType`` ``Alert``; a correction (``Message.correction_of``) of an
  alert is an ``Update`` whose ``<references>`` name the original as ``sender,identifier,sent``;
  a withdrawn alert is a ``Cancel`` with its own identifier that references the original.
* Each text that went out on the public channel in a standard format becomes its own
  ``<info>`` block with its ``<language>`` (easy-read texts are left out: an aggregator
  shows one block per language).
* ``sent`` and ``expires`` are written as CAP wants them: seconds, and a numeric offset.

Elements are written in the order the schema's sequences require; the tests validate every
kind of alert against the OASIS CAP 1.2 XSD.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET  # noqa: S405 - we only write XML here, never parse it

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext

from campaigns.models import Message, MessageStatus, Urgency, VariantFormat
from campaigns.services.cap import DEFAULTS, event_area
from engage.public.selectors import approved_content, public_texts

NS = "urn:oasis:names:tc:emergency:cap:1.2"
CONTENT_TYPE = "application/cap+xml; charset=utf-8"
ET.register_namespace("", NS)


def cap_time(value: datetime | None) -> str:
    value = value or timezone.now()
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _site() -> str:
    return settings.ENGAGE_SITE_URL.rstrip("/")


def _host() -> str:
    return (urlsplit(_site()).hostname or "localhost").lower()


def default_sender() -> str:
    return getattr(settings, "ENGAGE_CAP_SENDER", "") or f"engage@{_host()}"


def identifier(message: Message, *, cancel: bool = False) -> str:
    base = f"{_host()}.engage.message.{message.pk}"
    return f"{base}.cancel" if cancel else base


def approved_cap(message: Message) -> dict:
    """The CAP fields as the supervisor approved them (the approved version's snapshot), never the live row."""
    return (approved_content(message) or {}).get("cap") or {}


def sender_of(message: Message) -> str:
    return approved_cap(message).get("sender") or default_sender()


def sent_of(message: Message) -> datetime:
    return getattr(message, "public_at", None) or message.published_at or message.created_at


def reference(message: Message) -> str:
    """``sender,identifier,sent`` of an original alert, as ``<references>`` wants it."""
    return f"{sender_of(message)},{identifier(message)},{cap_time(sent_of(message))}"


@dataclass(frozen=True)
class AlertMeta:
    msg_type: str
    identifier: str
    sent: datetime
    headline: str
    references: str


def headline(text: str, limit: int = 140) -> str:
    first = " ".join(text.strip().split("\n", 1)[0].split())
    for stop in (". ", "! ", "? "):
        if stop in first and first.index(stop) < limit:
            first = first[: first.index(stop) + 1]
            break
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def meta(message: Message) -> AlertMeta:
    withdrawn = message.status == MessageStatus.WITHDRAWN
    refs: list[str] = []
    original = message.correction_of if message.correction_of_id else None
    if withdrawn:
        msg_type = "Cancel"
        refs.append(reference(message))
        sent = message.withdrawn_at or timezone.now()
    else:
        sent = sent_of(message)
        msg_type = "Update" if original is not None and _was_alert(original) else "Alert"
    if original is not None and _was_alert(original):
        refs.append(reference(original))
    body = (approved_content(message) or {}).get("body", "")
    return AlertMeta(msg_type=msg_type, identifier=identifier(message, cancel=withdrawn), sent=sent,
                     headline=headline(body), references=" ".join(refs))


def _was_alert(message: Message) -> bool:
    from engage.public.selectors import is_alert

    return is_alert(message)


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _area(message: Message) -> dict[str, str]:
    cap = approved_cap(message)
    if cap.get("areaDesc"):
        return {k: cap[k] for k in ("areaDesc", "circle", "polygon") if cap.get(k)}
    return event_area(_public_event(message))


def _public_event(message: Message):
    """The message's event as the public sees it (its published revision), never the live row:
    an officer's unpublished edit to the event's name or place must not reach an alert."""
    event = message.campaign.event if message.campaign_id else None
    return event.public_version() if event is not None else None


def _info(alert: ET.Element, message: Message, *, language: str, body: str) -> None:
    approved = approved_content(message) or {}
    cap = approved.get("cap") or {}
    defaults = DEFAULTS.get(approved.get("urgency", message.urgency), DEFAULTS[Urgency.PRIORITY])
    event = _public_event(message)
    info = _sub(alert, "info")
    _sub(info, "language", language)
    for category in cap.get("category") or ["Safety"]:
        _sub(info, "category", category)
    _sub(info, "event", cap.get("event") or (event.name if event else "Public safety"))
    for response in cap.get("responseType") or []:
        _sub(info, "responseType", response)
    for key in ("urgency", "severity", "certainty"):
        _sub(info, key, cap.get(key) or defaults[key])
    if cap.get("expires"):
        from django.utils.dateparse import parse_datetime

        expires = parse_datetime(cap["expires"])
        if expires is not None:
            _sub(info, "expires", cap_time(expires))
    _sub(info, "senderName", cap.get("senderName") or message.team.name)
    _sub(info, "headline", headline(body))
    _sub(info, "description", body)
    if cap.get("instruction") and language == approved.get("language", message.language):
        _sub(info, "instruction", cap["instruction"])
    _sub(info, "web", cap.get("web") or f"{_site()}/news/{message.pk}/?lang={language}")
    area = _area(message)
    if area.get("areaDesc"):
        area_el = _sub(info, "area")
        _sub(area_el, "areaDesc", area["areaDesc"])
        if area.get("polygon"):
            _sub(area_el, "polygon", area["polygon"])
        if area.get("circle"):
            _sub(area_el, "circle", area["circle"])


def alert_xml(message: Message) -> bytes:
    """The CAP 1.2 document for ``message`` (an Alert, Update or Cancel)."""
    info = meta(message)
    alert = ET.Element(f"{{{NS}}}alert")
    _sub(alert, "identifier", info.identifier)
    _sub(alert, "sender", sender_of(message))
    _sub(alert, "sent", cap_time(info.sent))
    _sub(alert, "status", getattr(settings, "ENGAGE_CAP_STATUS", "Actual"))
    _sub(alert, "msgType", info.msg_type)
    _sub(alert, "scope", "Public")
    if info.msg_type == "Cancel":
        _sub(alert, "note", gettext("This alert has been withdrawn."))  # in the visitor's language
    if info.references:
        _sub(alert, "references", info.references)
    if info.msg_type != "Cancel":
        for text in public_texts(message):
            if text.format == VariantFormat.STANDARD:
                _info(alert, message, language=text.language, body=text.body)
    ET.indent(alert)
    return ET.tostring(alert, encoding="utf-8", xml_declaration=True)
