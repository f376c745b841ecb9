"""``hashtag.missing``: the event's hashtag is not in the body."""

from __future__ import annotations

import re
from collections.abc import Sequence

from campaigns.checker.findings import Finding

__all__ = ["check_hashtags"]


def check_hashtags(*, body: str, hashtags: Sequence[str]) -> list[Finding]:
    tags = [tag.strip().lstrip("#") for tag in hashtags]
    tags = [tag for tag in tags if tag]
    if not tags:
        return []
    for tag in tags:
        if re.search(rf"(?<![\w#])#?{re.escape(tag)}(?!\w)", body, re.IGNORECASE):
            return []
    shown = ", ".join(f"#{tag}" for tag in tags)
    return [
        Finding(
            code="hashtag.missing",
            severity="warning",
            message=f"Add the event hashtag so people can follow updates: {shown}",
        )
    ]
