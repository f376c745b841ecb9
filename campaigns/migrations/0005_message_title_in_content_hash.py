"""The content hash now covers the title, each image's type and the corrected message.

Every stored hash is recomputed in the new form. An approval that held before (approved hash
equal to the content hash) is carried over to the new hash of the same content, and the
approved version's stored snapshot gains the new fields, so the worker can build payloads
from it. The snapshot is written here as it was at this migration, not imported from the app.
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
        Message.objects.filter(pk=message.pk).update(content_hash=new, **({"approved_hash": new, "approved_version": message.version} if held else {}))
        MessageVersion.objects.filter(message_id=message.pk, version=message.version, content_hash=old).update(
            content_hash=new, snapshot=snapshot)
        Approval.objects.filter(message_id=message.pk, version=message.version, content_hash=old).update(
            content_hash=new)


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0004_delivery_stats"),
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
