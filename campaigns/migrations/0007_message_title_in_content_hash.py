"""The content hash now covers the title, each image's type and the corrected message.

Every stored hash is recomputed in the new form, and the approved version's stored snapshot
gains the new fields, so the worker can build payloads from it. An approval that held before
(approved hash equal to the content hash) is carried over to the new hash of the same content,
except where a title that no supervisor approved would now go out: a message that is approved
or scheduled, not yet sending, with a title, goes back to review (its pending deliveries are
skipped and its approvals voided, audited as the system), since nothing may leave that a second
person did not approve in exactly that form. The snapshot is written here as it was at this migration, not imported from the app.
"""

import hashlib
import json

from django.db import migrations, models


def _media(items):
    return [{"sha256": m.sha256, "mime": m.mime, "alt_text": m.alt_text, "position": m.position} for m in items]


def _snapshot(message):
    media = list(message.media.all())
    variants = []
    for variant in message.variants.all():
        variants.append({
            "id": variant.pk, "language": variant.language, "format": variant.format, "body": variant.body,
            "segment": variant.segment_id, "channels": sorted(c.pk for c in variant.channels.all()),
            "machine_suggested": variant.machine_suggested, "human_edited": variant.human_edited,
            "media": _media(m for m in media if m.variant_id == variant.pk),
        })
    variants.sort(key=lambda v: (v["language"], v["format"], v["segment"] or 0))
    return {
        "title": message.title, "body": message.body, "language": message.language, "urgency": message.urgency,
        "instructive": message.instructive, "links": list(message.links or []),
        "hashtags": list(message.hashtags or []), "cap": message.cap or {}, "correction_of": message.correction_of_id,
        "channels": sorted(c.pk for c in message.channels.all()),
        "segments": sorted(s.pk for s in message.segments.all()),
        "media": _media(m for m in media if m.variant_id is None), "variants": variants,
    }


def _hash(snapshot):
    hashed = {**snapshot, "variants": [{k: v for k, v in item.items() if k != "id"} for item in snapshot["variants"]]}
    canonical = json.dumps(hashed, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


NOT_YET_SENDING = ("approved", "scheduled")


def _send_back_for_review(apps, message, new_hash):
    from django.utils import timezone

    Message = apps.get_model("campaigns", "Message")
    Approval = apps.get_model("campaigns", "Approval")
    Delivery = apps.get_model("campaigns", "Delivery")
    AuditEvent = apps.get_model("accounts", "AuditEvent")
    now = timezone.now()
    reason = "The title is now approved with the content; it was not part of this approval."
    Message.objects.filter(pk=message.pk).update(
        content_hash=new_hash, status="in_review", approved_hash="", approved_version=None, approved_at=None,
        approved_by=None)
    Approval.objects.filter(message_id=message.pk, voided_at__isnull=True).update(voided_at=now, void_reason=reason)
    skipped = Delivery.objects.filter(message_id=message.pk, status="pending").update(status="skipped",
                                                                                     last_error=reason)
    AuditEvent.objects.create(at=now, actor=None, actor_label="system", verb="message.approval_voided",
                              target_type="campaigns.message", target_id=str(message.pk), team_id=message.team_id,
                              summary={"reason": "title_in_content_hash", "from": message.status,
                                       "deliveries_skipped": skipped})


def rehash(apps, schema_editor):
    Message = apps.get_model("campaigns", "Message")
    MessageVersion = apps.get_model("campaigns", "MessageVersion")
    Approval = apps.get_model("campaigns", "Approval")
    messages = Message.objects.prefetch_related("media", "variants__channels", "channels", "segments")
    for message in messages.iterator(chunk_size=200):
        old = message.content_hash
        snapshot = _snapshot(message)
        new = _hash(snapshot)
        if new == old:
            continue
        held = bool(message.approved_hash) and message.approved_hash == old
        MessageVersion.objects.filter(message_id=message.pk, version=message.version, content_hash=old).update(
            content_hash=new, snapshot=snapshot)
        if held and message.status in NOT_YET_SENDING and (message.title or "").strip():
            _send_back_for_review(apps, message, new)
            continue
        Message.objects.filter(pk=message.pk).update(content_hash=new, **({"approved_hash": new, "approved_version": message.version} if held else {}))
        Approval.objects.filter(message_id=message.pk, version=message.version, content_hash=old).update(
            content_hash=new)


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0006_list_recipients"),
        ("accounts", "0002_audit_append_only"),
    ]

    operations = [
        migrations.AlterField(
            model_name="message",
            name="title",
            field=models.CharField(blank=True, help_text="The email subject and webhook title: approved with the rest",
                                   max_length=200),
        ),
        migrations.RunPython(rehash, migrations.RunPython.noop),
    ]
