"""Who hears what became of a message (``accounts.notify`` decides who, and each person's choices).

A message's team's supervisors (never its author) hear that it awaits review, and that an emergency
self-approval awaits its review afterwards; its author hears that it was approved, sent back with
changes requested, published, failed or withdrawn (not when they did it themselves)."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import User
from accounts.notify import notify
from campaigns.models import Message, MessageStatus


def _name(message: Message) -> str:
    return f"“{(message.title or message.body)[:80]}”"


def _url(message: Message) -> str:
    return reverse("campaigns:message", kwargs={"pk": message.pk})


def alert_submitted(*, actor: User, message: Message) -> None:
    notify("message_awaits_review", team=message.team_id, url=_url(message), exclude=[actor, message.author_id],
           text=f"{actor.display_name} sent {_name(message)} for review.")


def alert_approved(*, actor: User, message: Message) -> None:
    notify("message_approved", team=message.team_id, url=_url(message), also=message.author_id, exclude=actor,
           text=f"{actor.display_name} approved {_name(message)}.")
    if message.emergency_self_approved:
        notify("emergency_awaits_review", team=message.team_id, url=_url(message), exclude=actor,
               text=f"{actor.display_name} approved their own emergency message {_name(message)}: "
                    f"a second supervisor reviews it.")


def alert_changes_requested(*, actor: User, message: Message, comment: str) -> None:
    notify("message_changes_requested", team=message.team_id, url=_url(message), also=message.author_id,
           exclude=actor, text=f"{actor.display_name} asked for changes to {_name(message)}: {comment[:200]}")


def alert_withdrawn(*, actor: User, message: Message, reason: str) -> None:
    notify("message_withdrawn", team=message.team_id, url=_url(message), also=message.author_id, exclude=actor,
           text=f"{actor.display_name} withdrew {_name(message)}: {reason[:200]}")


def alert_settled(*, message_id: int, status: str) -> None:
    """The publishing engine settled the message: published (all or in part) or failed."""
    message = Message.objects.filter(pk=message_id).only("pk", "team_id", "author_id", "title", "body").first()
    if message is None:
        return
    if status == MessageStatus.FAILED:
        kind, text = "message_failed", f"{_name(message)} could not be published on any channel."
    elif status == MessageStatus.PARTIALLY_PUBLISHED:
        kind, text = "message_published", f"{_name(message)} was published, but not on every channel."
    else:
        kind, text = "message_published", f"{_name(message)} was published."
    notify(kind, team=message.team_id, url=_url(message), also=message.author_id, text=text)
