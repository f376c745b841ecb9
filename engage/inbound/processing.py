"""Processing a stored reply: classify it, link it to what it answers, start its clock, route it.

Runs in a Celery task (enqueued after the reply was committed) and from the sweeper, so it must
be safe to run twice at once: the reply row is locked (``select_for_update``; SQLite's immediate
transactions serialise writers) and a reply already processed is left alone. Everything it
decides is written in one transaction with its audit event; the urgent answer is only queued
here and sent after the commit.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_record
from accounts.notify import notify
from campaigns.models import Delivery
from core.pii import mask_pii
from engage.inbound import policies
from engage.inbound.classify.pipeline import classify_reply
from engage.models import AnswerKind, AnswerStatus, Reply, ReplyAnswer, TemplatePurpose

logger = logging.getLogger(__name__)

MAX_PROCESSING_ATTEMPTS = 5


def find_delivery(*, channel_id: int, external_id: str) -> Delivery | None:
    """Our delivery on this channel whose platform id is ``external_id``.

    Telegram albums store every message id of the album ("11,12,13"), so a reply to any photo
    of the album finds it.
    """
    if not external_id:
        return None
    x = external_id.strip()
    match = (Q(external_id=x) | Q(external_id__startswith=f"{x},") | Q(external_id__endswith=f",{x}")
             | Q(external_id__contains=f",{x},"))
    return (Delivery.objects.filter(channel_id=channel_id).filter(match).select_related("message")
            .order_by("-id").first())


def _link(reply: Reply) -> list[str]:
    if reply.message_id is not None or reply.channel_id is None or not reply.in_reply_to:
        return []
    delivery = find_delivery(channel_id=reply.channel_id, external_id=reply.in_reply_to)
    if delivery is not None:
        reply.delivery = delivery
        reply.message_id = delivery.message_id
        return ["delivery", "message"]
    # A reply to one of our answers belongs to the same conversation.
    earlier = (ReplyAnswer.objects.filter(reply__channel_id=reply.channel_id, status=AnswerStatus.SENT)
               .filter(Q(external_id=reply.in_reply_to) | Q(external_id__startswith=f"{reply.in_reply_to},"))
               .select_related("reply").order_by("-id").first())
    if earlier is not None and earlier.reply.message_id:
        reply.message_id = earlier.reply.message_id
        reply.delivery_id = earlier.reply.delivery_id
        return ["delivery", "message"]
    return []


def _alert_urgent(reply: Reply) -> int:
    url = reverse("inbox:detail", kwargs={"pk": reply.pk})
    words = ", ".join(reply.urgent_terms[:3])
    where = reply.channel.name if reply.channel_id else "the public form"
    text = f"Urgent reply on {where}" + (f": “{words}”" if words else "") + ". Someone may be in danger."
    return len(notify("urgent_reply", team=reply.team_id, text=text, url=url))


def _queue_urgent_answer(reply: Reply) -> ReplyAnswer | None:
    """The automatic urgent answer, only to a sender the platform proves (never to an address or
    number typed into the public form: a person decides to contact those)."""
    from engage.inbound.answers import answer_route, sender_proven

    if not sender_proven(reply) or answer_route(reply) is None:
        return None
    template = policies.answer_template_for(team_id=reply.team_id, purpose=TemplatePurpose.URGENT,
                                            language=reply.language)
    if template is None:
        return None
    answer, created = ReplyAnswer.objects.get_or_create(
        reply=reply, kind=AnswerKind.AUTO,
        defaults={"template": template, "body": template.body, "language": template.language,
                  "status": AnswerStatus.PENDING, "idempotency_key": f"engage-reply-{reply.pk}-urgent"},
    )
    return answer if created else None


def _sender_proven(reply: Reply) -> bool:
    from engage.inbound.answers import sender_proven

    return sender_proven(reply)


def reply_process(*, reply_id: int) -> bool:
    """Classify and route one reply. Returns False when there was nothing to do."""
    answer_id: int | None = None
    with transaction.atomic():
        reply = Reply.objects.select_for_update().filter(pk=reply_id).first()
        if reply is None or reply.processed_at is not None:
            return False
        reply = Reply.objects.select_related("team", "channel").get(pk=reply_id)
        result = classify_reply(reply.text, rules=policies.category_rules(team_id=reply.team_id))
        reply.language = result.language
        reply.sentiment = result.sentiment
        reply.sentiment_score = result.sentiment_score
        reply.category = result.category
        reply.category_confidence = result.category_confidence
        reply.urgent = result.urgent
        reply.urgent_terms = result.urgent_terms
        reply.pii_kinds = result.pii_kinds
        reply.text_masked = mask_pii(reply.text)
        linked = _link(reply)
        minutes = policies.sla_minutes(team_id=reply.team_id, category=reply.category, urgent=reply.urgent)
        reply.sla_due_at = reply.received_at + timedelta(minutes=minutes) if minutes else None
        # Urgent replies stay in the main inbox: whoever is on duty must see them at once.
        if reply.category in policies.restricted_categories(reply.team) and not reply.urgent:
            reply.restricted = True
        reply.processed_at = timezone.now()
        reply.processing_error = ""
        reply.save(update_fields=["language", "sentiment", "sentiment_score", "category", "category_confidence",
                                  "urgent", "urgent_terms", "pii_kinds", "text_masked", "sla_due_at", "restricted",
                                  "processed_at", "processing_error", "updated_at", *linked])
        alerted = 0
        if reply.urgent:
            alerted = _alert_urgent(reply)
            answer = _queue_urgent_answer(reply)
            answer_id = answer.pk if answer is not None else None
        audit_record(actor=None, verb="reply.processed", target=reply, team=reply.team_id, summary={
            "source": reply.source, "channel": reply.channel_id, "language": reply.language,
            "category": reply.category, "confidence": reply.category_confidence, "sentiment": reply.sentiment,
            "urgent": reply.urgent, "restricted": reply.restricted, "message": reply.message_id,
            "pii_kinds": reply.pii_kinds, "alerted": alerted, "urgent_answer": answer_id,
            **({"urgent_answer_withheld": "sender not proven: a person decides"}
               if reply.urgent and not _sender_proven(reply) else {}),
        })
        if answer_id is not None:
            from engage.inbound.answers import enqueue_answer

            transaction.on_commit(lambda: enqueue_answer(answer_id))
    return True


def reply_processing_failed(*, reply_id: int, error: str) -> None:
    """Count a failed attempt. After MAX_PROCESSING_ATTEMPTS the sweeper stops retrying; the reply
    stays in the inbox, unclassified, with the error shown."""
    Reply.objects.filter(pk=reply_id, processed_at__isnull=True).update(
        processing_attempts=F("processing_attempts") + 1, processing_error=error[:500])
    logger.error("Processing reply %s failed: %s", reply_id, error)


def replies_unprocessed(*, older_than_seconds: float = 5.0, limit: int = 200) -> list[int]:
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(Reply.objects.filter(processed_at__isnull=True, created_at__lte=cutoff,
                                     processing_attempts__lt=MAX_PROCESSING_ATTEMPTS)
                .order_by("created_at").values_list("pk", flat=True)[:limit])


def reply_process_safely(*, reply_id: int) -> bool:
    try:
        return reply_process(reply_id=reply_id)
    except Exception as exc:  # noqa: BLE001 - one bad reply must not stop the others
        logger.exception("Processing reply %s failed", reply_id)
        reply_processing_failed(reply_id=reply_id, error=f"{type(exc).__name__}: {exc}")
        return False
