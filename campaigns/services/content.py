"""What exactly goes out: the canonical snapshot of a message and its content hash.

The hash covers every variant, every image (by the hash of its re-encoded bytes, and its
alt text), the channels and segments, the urgency and the CAP fields. An approval
records it; the worker refuses to send when it has changed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from campaigns.models import Message


def _media(items: Any) -> list[dict[str, Any]]:
    return [{"sha256": m.sha256, "alt_text": m.alt_text, "position": m.position} for m in items]


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
        "body": message.body,
        "language": message.language,
        "urgency": message.urgency,
        "instructive": message.instructive,
        "links": list(message.links or []),
        "hashtags": list(message.hashtags or []),
        "cap": message.cap or {},
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
