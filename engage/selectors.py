"""Reads for the public pages: only what was published on the public channel and not withdrawn."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from campaigns.models import ChannelKind, Delivery, DeliveryStatus, Message, MessageStatus, Variant


def published_messages() -> QuerySet[Message]:
    public_sent = Delivery.objects.filter(message=OuterRef("pk"), channel__kind=ChannelKind.PUBLIC,
                                          status=DeliveryStatus.SENT)
    return (
        Message.objects.filter(Exists(public_sent))
        .exclude(status=MessageStatus.WITHDRAWN)
        .select_related("campaign__event", "team", "correction_of")
        .prefetch_related(Prefetch("variants", queryset=Variant.objects.order_by("id")), "media")
        .order_by("-published_at", "-id")
    )


def pick_variant(message: Message, languages: list[str], *, easy_read: bool = False) -> dict[str, str]:
    """The text in the visitor's best language, falling back to the original."""
    variants = [v for v in message.variants.all() if v.format != "sms_short"]
    wanted_format = "easy_read" if easy_read else "standard"
    for lang in languages:
        base = lang.split("-")[0].lower()
        for variant in variants:
            if variant.language == base and variant.format == wanted_format:
                return {"language": variant.language, "body": variant.body, "dir": variant.direction}
        if base == message.language and not easy_read:
            break
    from django.conf import settings

    direction = "rtl" if message.language in settings.LANGUAGES_BIDI else "ltr"
    return {"language": message.language, "body": message.body, "dir": direction}
