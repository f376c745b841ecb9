"""``hashtag.missing``: the event's hashtag is neither in the message's Hashtags nor in its text.

The message's Hashtags field goes out with the post on X, Mastodon, Facebook and Telegram
(``platforms.hashtags``), so a tag there counts as present. Only the platforms where people follow
hashtags are concerned: a message only for text messages or email is not asked for one.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext

from campaigns.checker.findings import Finding
from platforms.hashtags import HASHTAG_KINDS, missing_hashtags

__all__ = ["check_hashtags"]


def check_hashtags(*, body: str, hashtags: Sequence[str], event_hashtags: Sequence[str],
                   channels: Sequence[str] = ()) -> list[Finding]:
    """``hashtags``: the message's (names, with or without "#"); ``event_hashtags``: its event's."""
    wanted = [tag.strip().lstrip("#") for tag in event_hashtags]
    wanted = [tag for tag in wanted if tag]
    if not wanted or (channels and not HASHTAG_KINDS.intersection(channels)):
        return []
    given = {tag.strip().lstrip("#").lower() for tag in hashtags}
    if any(tag.lower() in given for tag in wanted):
        return []
    if len(missing_hashtags(body, wanted)) < len(wanted):  # one of them is in the text already
        return []
    shown = ", ".join(f"#{tag}" for tag in wanted)
    return [
        Finding(
            code="hashtag.missing",
            severity="warning",
            message=gettext("Add the event hashtag to the Hashtags field so people can follow updates: "
                            "%(tags)s") % {"tags": shown},
        )
    ]
