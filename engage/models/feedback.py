"""The anonymous answer to "Did this answer help?" (the trust signal, issue 8).

An answer sent on a private channel that can carry a link (email, SMS, Telegram) ends with one
line asking whether it helped, and a signed link to ``/feedback/<token>/`` (see
``engage.inbound.feedback``). The vote is stored here, apart from the answer.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


def this_hour():
    """Now, rounded down to the hour: the only time an :class:`AnswerFeedback` keeps."""
    return timezone.now().replace(minute=0, second=0, microsecond=0)


class AnswerFeedback(models.Model):
    """One anonymous "yes, it helped" or "no, it did not".

    **What it holds**: the vote, the hour it was cast, and aggregate keys copied from the answer at
    vote time (team, event, campaign, the segments the answered message targeted, our channel and
    its kind, the reply's language, the event phase the reply arrived in): the dimensions the trust
    metrics are cut by. **What it never holds**: the reply, the answer, the message, the person (handle,
    name, number, address), the IP address, the browser or any other identifier. The primary key is
    random (a UUID), so the order of the rows says nothing about the order of the votes. No audit
    event is written for a vote: an audit row naming the answer would be exactly the link this table
    avoids.

    **One vote per answer**, without a link: the answer row carries two flags,
    ``ReplyAnswer.feedback_requested`` (the question went out with it) and
    ``ReplyAnswer.feedback_given`` (someone voted). ``feedback_given`` is set by a conditional update
    in the same transaction as the insert here, so a second vote is refused and a vote is never lost
    or counted twice. The flag says *that* an answer got a vote, never *which* vote or when.

    **The trade-off, honestly**: anonymity here is only as good as the crowd. Anyone who can read the
    database can list the answers with ``feedback_given`` and the feedback rows with their keys and
    hour. When few answers are voted on in a team (one in an hour, or one in a segment and language),
    matching the keys of the only flagged answer to the only feedback row with those keys reveals how
    that person voted. Rounding the time to the hour, keeping no vote time on the answer, the random
    primary key, and keeping no finer key (no message, no answer template) make that harder, not
    impossible. The alternative, no flag at all, would allow ballot stuffing from one link, which would
    make the figure worthless; a keyed digest of the answer id instead of the flag would hide nothing
    from whoever holds the key (the same people who can read the database). Web server access logs
    record the link (which carries the answer id, signed, not encrypted) with the visitor's address and
    the minute: keep them short-lived. The dashboard shows these figures only to the team's own staff.

    **Retention**: these rows are anonymous aggregates, but they are deleted after the team's longest
    retention period for replies anyway (``engage.inbound.feedback.feedback_apply_retention``, run with
    the daily reply retention), so that none outlives the replies it could be matched against.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    helpful = models.BooleanField()
    created_at = models.DateTimeField(default=this_hour, help_text="Rounded down to the hour")
    # Aggregate keys, copied at vote time; none of them identifies the answer or the person.
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey("campaigns.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    campaign = models.ForeignKey("campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    segments = models.ManyToManyField("campaigns.Segment", blank=True, related_name="+",
                                      help_text="The segments the answered message targeted (rows do not add up)")
    channel = models.ForeignKey("campaigns.Channel", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", help_text="Our account the reply came in on; empty for the form")
    channel_kind = models.CharField(max_length=20, blank=True, help_text="The kind of channel the answer went out on")
    language = models.CharField(max_length=16, blank=True, help_text="The reply's language")
    phase = models.CharField(max_length=8, default="none", help_text="before, during, after or none")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["team", "created_at"], name="feedback_team_created")]

    def __str__(self) -> str:
        return f"{'Helped' if self.helpful else 'Did not help'} ({self.created_at:%Y-%m-%d %H}:00)"
