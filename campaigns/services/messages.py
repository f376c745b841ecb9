"""Drafting: creating and editing messages, variants, media and comments.

Every edit recomputes the content hash. An edit that changes it after submission or
approval voids the approval and returns the message to draft: nothing is published that
was not approved in exactly that form.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import User
from accounts.policies import policy_for
from campaigns.models import (
    Approval,
    Campaign,
    Channel,
    Comment,
    Delivery,
    DeliveryStatus,
    MediaAsset,
    Message,
    MessageStatus,
    MessageVersion,
    Segment,
    Urgency,
    Variant,
    VariantFormat,
)
from campaigns.services.content import hash_snapshot, message_snapshot
from core.errors import InvalidInput, NotAllowed, NotFound, WrongState
from core.sanitize import sanitize_text
from platforms.hashtags import hashtag_problem

MAX_BODY = 10_000
# States in which the text may still change. Once publishing starts, only a correction can.
_EDITABLE = {MessageStatus.DRAFT, MessageStatus.CHANGES_REQUESTED, MessageStatus.IN_REVIEW, MessageStatus.APPROVED,
             MessageStatus.SCHEDULED}


def _clean_body(body: str, field: str = "body") -> str:
    text = sanitize_text(body or "")
    if not text:
        raise InvalidInput(gettext("The message needs some text."), fields={field: ["This field may not be blank."]})
    if len(text) > MAX_BODY:
        raise InvalidInput(gettext("The text is longer than %(limit)s characters.") % {"limit": MAX_BODY}, fields={field: ["Too long."]})
    return text


def _clean_tags(values: Sequence[str] | None, *, strict: bool = True) -> list[str]:
    """Hashtag names without "#", once each (any case). A tag that is not a hashtag
    (``platforms.hashtags.hashtag_problem``) is refused (``strict``) or left out (an event's
    tags copied onto a new message: the officer did not type them)."""
    tags: list[str] = []
    for raw in values or []:
        tag = str(raw).strip()
        tag = tag[1:] if tag.startswith("#") else tag
        problem = hashtag_problem(tag)
        if problem is not None:
            if not strict:
                continue
            shown = sanitize_text(tag)[:60]
            raise InvalidInput(gettext("“#%(tag)s” is not a hashtag: it %(problem)s. Use letters, digits and _ only.")
                               % {"tag": shown, "problem": problem},
                               fields={"hashtags": [f"#{shown}: {problem}"]})
        if tag.lower() not in (t.lower() for t in tags):
            tags.append(tag)
    return tags


def _clean_links(values: Sequence[str] | None) -> list[str]:
    links = []
    for raw in values or []:
        link = str(raw).strip()
        if not link.lower().startswith(("https://", "http://")):
            raise InvalidInput(gettext("Links must start with https:// or http://."), fields={"links": [f"Invalid: {link[:80]}"]})
        links.append(link[:500])
    return links


MAX_CAP_BYTES = 20_000


def _clean_cap(value: Any, *, depth: int = 0) -> Any:
    """CAP fields are user text too: sanitise every string, refuse anything that is not plain data."""
    if depth > 5:
        raise InvalidInput(gettext("The CAP fields are nested too deeply."), fields={"cap": ["Too deeply nested."]})
    if isinstance(value, dict):
        return {sanitize_text(str(k), max_length=100): _clean_cap(v, depth=depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_cap(v, depth=depth + 1) for v in value]
    if isinstance(value, str):
        return sanitize_text(value, max_length=5000)
    if value is None or isinstance(value, bool | int | float):
        return value
    raise InvalidInput(gettext("CAP fields must be text, numbers, lists or objects."), fields={"cap": ["Invalid value."]})


def clean_cap(cap: Any) -> dict[str, Any]:
    if cap in (None, ""):
        return {}
    if not isinstance(cap, dict):
        raise InvalidInput(gettext("cap must be an object."), fields={"cap": ["Expected an object."]})
    cleaned = _clean_cap(cap)
    if len(json.dumps(cleaned)) > MAX_CAP_BYTES:
        raise InvalidInput(gettext("The CAP fields are too long."), fields={"cap": ["Too long."]})
    return cleaned


def _ids_ok(ids: set[int]) -> bool:
    """Ids a database row could have: SQLite raises OverflowError on an ``IN`` past 64 bits."""
    return all(0 < i < 2**63 for i in ids)


def _team_channels(message: Message, channels: Sequence[Channel | int]) -> list[Channel]:
    ids = {c.pk if isinstance(c, Channel) else int(c) for c in channels}
    found = list(Channel.objects.filter(pk__in=ids, team_id=message.team_id, is_active=True)) if _ids_ok(ids) else []
    if len(found) != len(ids):
        raise InvalidInput(gettext("Choose channels of this message's team."), fields={"channels": ["Unknown channel."]})
    return found


def _team_segments(message: Message, segments: Sequence[Segment | int]) -> list[Segment]:
    ids = {s.pk if isinstance(s, Segment) else int(s) for s in segments}
    found = list(Segment.objects.filter(pk__in=ids, team_id=message.team_id)) if _ids_ok(ids) else []
    if len(found) != len(ids):
        raise InvalidInput(gettext("Choose segments of this message's team."), fields={"segments": ["Unknown segment."]})
    return found


def lock_message(message_id: int) -> Message:
    """Lock the row for the rest of the transaction (PostgreSQL; SQLite's IMMEDIATE transactions serialise)."""
    try:
        return Message.objects.select_for_update().get(pk=message_id)
    except Message.DoesNotExist as exc:
        raise NotFound(gettext("No such message.")) from exc


def record_version(*, message: Message, actor: User | None, reason: str) -> bool:
    """Recompute the hash; when the content changed, store a new version and void any approval.

    Returns True if the content changed. Callers hold the row lock.
    """
    snapshot = message_snapshot(message)
    new_hash = hash_snapshot(snapshot)
    if new_hash == message.content_hash:
        return False
    first = not message.content_hash
    previous_status = message.status
    if not first:
        message.version += 1
    message.content_hash = new_hash
    fields = ["content_hash", "version", "updated_at"]
    voided = False
    if message.status in (MessageStatus.IN_REVIEW, MessageStatus.APPROVED, MessageStatus.SCHEDULED):
        voided = message.status != MessageStatus.IN_REVIEW or Approval.objects.filter(
            message=message, voided_at__isnull=True).exists()
        message.status = MessageStatus.DRAFT
        message.approved_hash = ""
        message.approved_version = None
        message.approved_at = None
        message.approved_by = None
        message.emergency_self_approved = False
        fields += ["status", "approved_hash", "approved_version", "approved_at", "approved_by",
                   "emergency_self_approved"]
    if message.status == MessageStatus.CHANGES_REQUESTED:
        message.status = MessageStatus.DRAFT
        fields.append("status")
    Approval.objects.filter(message=message, voided_at__isnull=True).update(
        voided_at=timezone.now(), void_reason=f"Edited after approval ({reason})"
    )
    # Anything queued for the old content must not go out.
    Delivery.objects.filter(message=message, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SKIPPED, last_error="Content changed after approval"
    )
    message.save(update_fields=fields)
    MessageVersion.objects.create(
        message=message, version=message.version, content_hash=new_hash, snapshot=snapshot, created_by=actor
    )
    if not first:
        audit_record(
            actor=actor,
            verb="message.edited",
            target=message,
            summary={"version": message.version, "reason": reason, "from_status": previous_status,
                     "approval_voided": voided},
        )
    return True


def _require_editable(actor: User, message: Message) -> None:
    if not policy_for(Message).may(actor, "draft", message):
        raise NotAllowed(gettext("You cannot edit messages of this team."))
    if message.status not in _EDITABLE:
        raise WrongState(
            gettext("A message that is %(status)s cannot be edited. Publish a correction instead.")
            % {"status": gettext(message.get_status_display()).lower()},
        )


@transaction.atomic
def message_create(
    *,
    actor: User,
    campaign: Campaign,
    body: str,
    urgency: str = Urgency.ROUTINE,
    language: str = "en",
    title: str = "",
    channels: Sequence[Channel | int] = (),
    segments: Sequence[Segment | int] = (),
    links: Sequence[str] = (),
    hashtags: Sequence[str] | None = None,
    instructive: bool = True,
    cap: dict[str, Any] | None = None,
    correction_of: Message | None = None,
    inbox_answer: bool = False,
) -> Message:
    """``inbox_answer``: a free-text answer to a citizen's reply, drafted by the inbox for one of the
    team's liaison officers or drafters (``engage.inbound.answers`` alone passes it); it is approved like
    any message, by a supervisor who wrote none of it."""
    allowed = permissions.can_draft(actor, campaign.team_id) or (
        inbox_answer and permissions.can_triage(actor, campaign.team_id))
    if not allowed:
        raise NotAllowed(gettext("You cannot draft messages for this team."))
    if urgency not in Urgency.values:
        raise InvalidInput(gettext("Urgency is routine, priority or emergency."), fields={"urgency": ["Invalid choice."]})
    if correction_of is not None:
        if correction_of.team_id != campaign.team_id:
            raise NotFound(gettext("No such message."))
        if correction_of.status not in (MessageStatus.PUBLISHED, MessageStatus.PARTIALLY_PUBLISHED,
                                        MessageStatus.WITHDRAWN):
            raise WrongState(gettext("Only a published message can be corrected."))
    strict_tags = hashtags is not None
    if hashtags is None:
        hashtags = campaign.event.hashtags if campaign.event_id else []
    message = Message.objects.create(
        campaign=campaign,
        team_id=campaign.team_id,
        author=actor,
        title=sanitize_text(title, max_length=200),
        body=_clean_body(body),
        language=(language or "en")[:8],
        urgency=urgency,
        links=_clean_links(links),
        hashtags=_clean_tags(hashtags, strict=strict_tags),
        instructive=instructive,
        cap=clean_cap(cap),
        correction_of=correction_of,
    )
    if channels:
        message.channels.set(_team_channels(message, channels))
    if segments:
        message.segments.set(_team_segments(message, segments))
    record_version(message=message, actor=actor, reason="created")
    audit_record(actor=actor, verb="message.created", target=message,
                 summary={"campaign": campaign.pk, "urgency": urgency,
                          "correction_of": correction_of.pk if correction_of else None})
    return message


@transaction.atomic
def message_update(
    *,
    actor: User,
    message: Message,
    body: str | None = None,
    urgency: str | None = None,
    language: str | None = None,
    title: str | None = None,
    channels: Sequence[Channel | int] | None = None,
    segments: Sequence[Segment | int] | None = None,
    links: Sequence[str] | None = None,
    hashtags: Sequence[str] | None = None,
    instructive: bool | None = None,
    cap: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> Message:
    message = lock_message(message.pk)
    _require_editable(actor, message)
    if expected_version is not None and expected_version != message.version:
        raise WrongState(
            gettext("Someone else changed this message (now version %(version)s). Reload and try again.")
            % {"version": message.version},
            code="version_conflict",
        )
    fields: list[str] = []
    if body is not None:
        message.body = _clean_body(body)
        fields.append("body")
    if urgency is not None:
        if urgency not in Urgency.values:
            raise InvalidInput(gettext("Urgency is routine, priority or emergency."), fields={"urgency": ["Invalid choice."]})
        message.urgency = urgency
        fields.append("urgency")
    if language is not None:
        message.language = language[:8]
        fields.append("language")
    if title is not None:
        message.title = sanitize_text(title, max_length=200)
        fields.append("title")
    if links is not None:
        message.links = _clean_links(links)
        fields.append("links")
    if hashtags is not None:
        message.hashtags = _clean_tags(hashtags)
        fields.append("hashtags")
    if instructive is not None:
        message.instructive = instructive
        fields.append("instructive")
    if cap is not None:
        message.cap = clean_cap(cap)
        fields.append("cap")
    if fields:
        message.save(update_fields=[*fields, "updated_at"])
    if channels is not None:
        message.channels.set(_team_channels(message, channels))
    if segments is not None:
        message.segments.set(_team_segments(message, segments))
    record_version(message=message, actor=actor, reason="edited")
    return message


def _clean_variant_fields(*, language: str, format: str, body: str) -> tuple[str, str, str]:
    if not language or len(language) > 8:
        raise InvalidInput(gettext("Give the variant's language as an ISO 639-1 code."), fields={"language": ["Required."]})
    if format not in VariantFormat.values:
        raise InvalidInput(gettext("Format is standard, easy_read or sms_short."), fields={"format": ["Invalid choice."]})
    return language.lower(), format, _clean_body(body)


@transaction.atomic
def variant_add(
    *,
    actor: User,
    message: Message,
    language: str,
    body: str,
    format: str = VariantFormat.STANDARD,
    channels: Sequence[Channel | int] = (),
    segment: Segment | int | None = None,
    machine_suggested: bool = False,
) -> Variant:
    message = lock_message(message.pk)
    _require_editable(actor, message)
    language, format, body = _clean_variant_fields(language=language, format=format, body=body)
    segment_obj = _team_segments(message, [segment])[0] if segment else None
    if Variant.objects.filter(message=message, language=language, format=format, segment=segment_obj).exists():
        raise InvalidInput(gettext("This message already has a variant in that language and format."), code="duplicate",
                           fields={"language": ["Duplicate variant."]})
    variant = Variant.objects.create(
        message=message, language=language, format=format, body=body, segment=segment_obj,
        machine_suggested=machine_suggested, human_edited=not machine_suggested,
    )
    if channels:
        variant.channels.set(_team_channels(message, channels))
    record_version(message=message, actor=actor, reason=f"variant {language}/{format} added")
    audit_record(actor=actor, verb="variant.created", target=variant, team=message.team_id,
                 summary={"message": message.pk, "language": language, "format": format})
    return variant


@transaction.atomic
def variant_update(
    *,
    actor: User,
    variant: Variant,
    body: str | None = None,
    language: str | None = None,
    format: str | None = None,
    channels: Sequence[Channel | int] | None = None,
) -> Variant:
    message = lock_message(variant.message_id)
    _require_editable(actor, message)
    variant = Variant.objects.get(pk=variant.pk)
    language, format, body_clean = _clean_variant_fields(
        language=language or variant.language, format=format or variant.format,
        body=body if body is not None else variant.body,
    )
    if body is not None and body_clean != variant.body and variant.machine_suggested:
        variant.human_edited = True
    variant.language, variant.format, variant.body = language, format, body_clean
    variant.save(update_fields=["language", "format", "body", "human_edited"])
    if channels is not None:
        variant.channels.set(_team_channels(message, channels))
    record_version(message=message, actor=actor, reason=f"variant {language}/{format} edited")
    return variant


@transaction.atomic
def variant_remove(*, actor: User, variant: Variant) -> None:
    message = lock_message(variant.message_id)
    _require_editable(actor, message)
    if variant.deliveries.exists():
        raise WrongState(gettext("This variant has deliveries; withdraw the message instead."))
    audit_record(actor=actor, verb="variant.removed", target=variant, team=message.team_id,
                 summary={"message": message.pk, "language": variant.language, "format": variant.format})
    variant.delete()
    record_version(message=message, actor=actor, reason="variant removed")


@transaction.atomic
def variants_replace(*, actor: User, message: Message, variants: Sequence[dict[str, Any]]) -> list[Variant]:
    """Make the message's variants exactly ``variants`` (matched by language, format and segment)."""
    message = lock_message(message.pk)
    _require_editable(actor, message)
    existing = {(v.language, v.format, v.segment_id): v for v in message.variants.all()}
    keep: list[Variant] = []
    for item in variants:
        key = ((item.get("language") or "").lower(), item.get("format") or VariantFormat.STANDARD, item.get("segment"))
        current = existing.pop(key, None)
        if current is None:
            keep.append(variant_add(actor=actor, message=message, **item))
        else:
            keep.append(variant_update(actor=actor, variant=current, body=item.get("body"),
                                       channels=item.get("channels")))
    for leftover in existing.values():
        variant_remove(actor=actor, variant=leftover)
    return keep


@transaction.atomic
def media_add(
    *, actor: User, message: Message, data: bytes, alt_text: str, variant: Variant | None = None, position: int = 0
) -> MediaAsset:
    from campaigns.media import ImageRejected, process_image

    message = lock_message(message.pk)
    _require_editable(actor, message)
    try:
        image = process_image(data=data)
    except ImageRejected as exc:
        raise InvalidInput(exc.message, code=exc.code, fields={"file": [exc.message]}) from exc
    asset = MediaAsset(
        message=message, variant=variant, mime=image.mime, width=image.width, height=image.height,
        sha256=image.sha256, alt_text=sanitize_text(alt_text, max_length=1000), position=position,
    )
    asset.file.save(f"{image.sha256[:16]}.{image.extension}", ContentFile(image.content), save=False)
    asset.save()
    record_version(message=message, actor=actor, reason="image added")
    audit_record(actor=actor, verb="media.added", target=asset, team=message.team_id,
                 summary={"message": message.pk, "sha256": image.sha256})
    return asset


@transaction.atomic
def media_update_alt(*, actor: User, asset: MediaAsset, alt_text: str) -> MediaAsset:
    message = lock_message(asset.message_id)
    _require_editable(actor, message)
    asset.alt_text = sanitize_text(alt_text, max_length=1000)
    asset.save(update_fields=["alt_text"])
    record_version(message=message, actor=actor, reason="alt text edited")
    return asset


@transaction.atomic
def comment_add(*, actor: User, message: Message, body: str, kind: str = "comment") -> Comment:
    if not (policy_for(Message).may(actor, "draft", message) or policy_for(Message).may(actor, "approve", message)):
        raise NotAllowed(gettext("You cannot comment on this message."))
    text = _clean_body(body, field="comment")
    comment = Comment.objects.create(message=message, author=actor, body=text, version=message.version, kind=kind)
    audit_record(actor=actor, verb=f"message.{kind}", target=message, summary={"comment": comment.pk})
    return comment
