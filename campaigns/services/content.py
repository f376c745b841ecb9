"""What exactly goes out: the canonical snapshot of a message and its content hash.

The snapshot holds every field that leaves: the title (email subject, webhook title), the
text and language of the original and of every variant, every image (by the hash of its
re-encoded bytes, its type and its alt text, per variant), the channels and segments, the
links, hashtags, urgency and CAP fields, and the message it corrects. The hash covers all of
it. An approval records the hash; the version with that hash (``MessageVersion``) is what
the worker builds every payload from, never the live rows, and the worker refuses to send
when the live rows no longer hash to the approved value.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings

from campaigns.models import Message, MessageVersion
from platforms.base import MediaItem, Payload


def _media(items: Any) -> list[dict[str, Any]]:
    return [{"sha256": m.sha256, "mime": m.mime, "alt_text": m.alt_text, "position": m.position} for m in items]


def message_snapshot(message: Message) -> dict[str, Any]:
    media = list(message.media.all())
    variants = []
    for variant in message.variants.all():
        variants.append(
            {
                "id": variant.pk,
                "language": variant.language,
                "format": variant.format,
                "body": variant.body,
                "segment": variant.segment_id,
                "channels": sorted(c.pk for c in variant.channels.all()),
                "machine_suggested": variant.machine_suggested,
                "human_edited": variant.human_edited,
                "media": _media(m for m in media if m.variant_id == variant.pk),
            }
        )
    variants.sort(key=lambda v: (v["language"], v["format"], v["segment"] or 0))
    return {
        "title": message.title,
        "body": message.body,
        "language": message.language,
        "urgency": message.urgency,
        "instructive": message.instructive,
        "links": list(message.links or []),
        "hashtags": list(message.hashtags or []),
        "cap": message.cap or {},
        "correction_of": message.correction_of_id,
        "channels": sorted(c.pk for c in message.channels.all()),
        "segments": sorted(s.pk for s in message.segments.all()),
        "media": _media(m for m in media if m.variant_id is None),
        "variants": variants,
    }


def hash_snapshot(snapshot: dict[str, Any]) -> str:
    hashed = {**snapshot, "variants": [{k: v for k, v in item.items() if k != "id"} for item in snapshot["variants"]]}
    canonical = json.dumps(hashed, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def content_hash(message: Message) -> str:
    return hash_snapshot(message_snapshot(message))


# The approved snapshot of a message never changes (it is keyed by its own hash), so a worker
# process keeps the ones it has loaded: a message's deliveries cost one query between them.
_APPROVED: dict[tuple[int, int, str, str], dict[str, Any]] = {}


def approved_snapshot(message: Message) -> dict[str, Any] | None:
    """The snapshot the supervisor approved: the stored version whose number and hash are the
    approval's, and whose content still hashes to that value. None when there is none (not
    approved, or the stored version does not match): then nothing may go out."""
    if not message.approved_hash or not message.approved_version:
        return None
    key = (message.pk, message.approved_version, message.approved_hash,
           message.approved_at.isoformat() if message.approved_at else "")
    cached = _APPROVED.get(key)
    if cached is not None:
        return cached
    prefetched = getattr(message, "approved_versions", None)
    if prefetched is not None:
        version = next((v for v in prefetched if v.version == message.approved_version), None)
    else:
        version = (MessageVersion.objects.filter(message_id=message.pk, version=message.approved_version)
                   .only("snapshot", "content_hash").first())
    if version is None or version.content_hash != message.approved_hash:
        return None
    snapshot = version.snapshot
    if not isinstance(snapshot, dict) or hash_snapshot(snapshot) != message.approved_hash:
        return None
    if len(_APPROVED) > 2_000:
        _APPROVED.clear()
    _APPROVED[key] = snapshot
    return snapshot


def snapshot_variant(snapshot: dict[str, Any], variant_id: int | None) -> dict[str, Any] | None:
    """The approved text of one delivery: the original (``variant_id`` None) or one variant.
    A variant the approval does not know gives None."""
    if variant_id is None:
        return {"language": snapshot["language"], "body": snapshot["body"], "media": snapshot.get("media", []),
                "channels": None}
    return next((v for v in snapshot["variants"] if v.get("id") == variant_id), None)


def snapshot_payload(*, snapshot: dict[str, Any], text_of: dict[str, Any], message_id: int,
                     media: tuple[MediaItem, ...] = (), metadata: dict[str, str] | None = None) -> Payload:
    """What goes out for one text of a snapshot (``text_of``, from :func:`snapshot_variant`): its
    text and language, the title (else the text's first line), the message's public link and
    its hashtags. The worker builds every payload with it from the approved snapshot; the
    previews (``campaigns.previews``) build theirs with it from the live one, so a preview shows
    what would leave if the message were approved as it stands."""
    text, language = text_of["body"], text_of["language"]
    return Payload(
        text=text,
        language=language,
        media=media,
        subject=snapshot["title"] or text.split("\n", 1)[0][:120],
        link=f"{settings.ENGAGE_SITE_URL}/news/{message_id}/",
        hashtags=tuple(snapshot.get("hashtags") or ()),
        metadata={"message_id": str(message_id), "urgency": snapshot["urgency"], **(metadata or {}),
                  "language": language},
    )
