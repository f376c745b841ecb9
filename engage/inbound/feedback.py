"""The trust signal: "Did this answer help? yes/no", asked after an answer, stored anonymously.

* **Per team, opt-in.** The team setting ``answer_feedback`` (``Team.settings``) switches it on; a
  unit without the setting follows the nearest team above it that has one (so a force can switch it
  on for all its units), and without any it is off: it adds words to what citizens receive, so an
  administrator decides. The demo force has it on.
* **Where it is asked** (:func:`feedback_applies`): answers from a template or in free text sent on a
  private channel that can carry a link: email, SMS and Telegram (:data:`FEEDBACK_CHANNEL_KINDS`).
  Not on Mastodon, where the answer is a public post (anyone could follow the link and vote), nor to
  a partner's webhook (their system, not the person, receives it), nor after the automatic urgent
  answer ("call 999 now" is not a moment for a survey). The line is added when the answer is sent, after
  the text that was approved, like Mastodon's mention: fixed words of the platform, never the
  officer's, so a free-text answer's approved body is sent unchanged and followed by it.
* **The link** carries a token signed with ``django.core.signing.TimestampSigner`` (salt :data:`SALT`),
  valid for :data:`TOKEN_MAX_AGE` (30 days). It holds the answer id and a letter for the channel kind,
  signed so they cannot be changed, but not encrypted: it is not a secret from whoever receives the
  answer, and it lets nobody read anything (the page shows only the question).
* **The vote** (:func:`feedback_record`) inserts an anonymous :class:`~engage.models.AnswerFeedback`
  and sets ``ReplyAnswer.feedback_given`` by conditional update in one transaction: once per answer.
  See that model for what is kept, what is not, and the limits of that anonymity.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import Team
from campaigns.models import ChannelKind, Message
from core.errors import InvalidInput, NotFound
from engage.inbound import policies
from engage.models import AnswerFeedback, AnswerKind, Reply, ReplyAnswer
from engage.public.i18n import UI_LANGUAGES

SETTING = "answer_feedback"
SALT = "engage.feedback.answer"
TOKEN_MAX_AGE = timedelta(days=30)
MAX_TOKEN_LENGTH = 200  # a real token is about 55 characters; anything far longer is not one of ours
FEEDBACK_CHANNEL_KINDS = frozenset({ChannelKind.EMAIL, ChannelKind.SMS, ChannelKind.TELEGRAM})

# The line added to the answer, in the answer's language where the public pages have words (else English):
# the catalogs' "Did this answer help? Tell us with one click (anonymous): %(url)s".
LINE = frozenset(UI_LANGUAGES)


class FeedbackTokenInvalid(InvalidInput):
    code = "feedback_token_invalid"


class FeedbackTokenExpired(InvalidInput):
    code = "feedback_token_expired"


# --- the team's policy ----------------------------------------------------------------------------

def feedback_enabled(team_id: int) -> bool:
    """The ``answer_feedback`` setting of the team, else of the nearest team above it; off without one."""
    chain = policies.lineage(team_id)
    found = {pk: s or {} for pk, s in Team.objects.filter(pk__in=chain).values_list("pk", "settings")}
    for pk in chain:
        value = found.get(pk, {}).get(SETTING)
        if value is not None:
            return bool(value)
    return False


def feedback_applies(*, answer: ReplyAnswer, team_id: int, channel_kind: str) -> bool:
    """Whether this answer, going out on a channel of this kind, asks the question."""
    return (answer.kind in (AnswerKind.TEMPLATE, AnswerKind.FREE_TEXT)
            and channel_kind in FEEDBACK_CHANNEL_KINDS
            and feedback_enabled(team_id))


# --- the token and the line -----------------------------------------------------------------------

_KIND_CODES = {ChannelKind.EMAIL: "e", ChannelKind.SMS: "s", ChannelKind.TELEGRAM: "t"}
_CODE_KINDS = {code: str(kind) for kind, code in _KIND_CODES.items()}
_VALUE = re.compile(r"^([1-9][0-9]{0,17})\.([a-z])$")


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def feedback_token(*, answer_id: int, channel_kind: str) -> str:
    """``<answer id>.<kind letter>:<time>:<signature>``: about 55 characters, short enough for an SMS."""
    return _signer().sign(f"{int(answer_id)}.{_KIND_CODES.get(channel_kind, 'x')}")


def feedback_token_read(token: str) -> tuple[int, str]:
    """(answer id, channel kind) from a token; :class:`FeedbackTokenInvalid` or
    :class:`FeedbackTokenExpired` for anything else. Never raises anything but those two."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise FeedbackTokenInvalid("This link is not valid.")
    try:
        value = _signer().unsign(token, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise FeedbackTokenExpired("This link has expired.") from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise FeedbackTokenInvalid("This link is not valid.") from exc
    match = _VALUE.match(value)
    if match is None:
        raise FeedbackTokenInvalid("This link is not valid.")
    return int(match.group(1)), _CODE_KINDS.get(match.group(2), "")


def feedback_url(*, answer_id: int, channel_kind: str, language: str = "en") -> str:
    """The absolute link; ``?lang=`` only for a language the public pages have words in, other than English."""
    path = reverse("public:feedback", kwargs={"token": feedback_token(answer_id=answer_id, channel_kind=channel_kind)})
    query = f"?{urlencode({'lang': language})}" if language != "en" and language in LINE else ""
    return f"{settings.ENGAGE_SITE_URL}{path}{query}"


def feedback_line(*, answer_id: int, channel_kind: str, language: str) -> str:
    """The question and its link, in the answer's language where we have the words."""
    lang = (language or "en").split("-")[0].lower()
    lang = lang if lang in LINE else "en"
    url = feedback_url(answer_id=answer_id, channel_kind=channel_kind, language=lang)
    with translation.override(lang):
        return gettext("Did this answer help? Tell us with one click (anonymous): %(url)s") % {"url": url}


def feedback_suffix(*, answer: ReplyAnswer, team_id: int, channel_kind: str, language: str) -> str:
    """What :func:`engage.inbound.answer_sending.answer_send` appends to the text: a blank line and the
    question, or "" when the team has it off or the channel cannot carry it."""
    if not feedback_applies(answer=answer, team_id=team_id, channel_kind=channel_kind):
        return ""
    return "\n\n" + feedback_line(answer_id=answer.pk, channel_kind=channel_kind, language=language)


# --- the vote -------------------------------------------------------------------------------------

def _phase(received_at: datetime, starts_at: datetime | None, ends_at: datetime | None) -> str:
    """As ``engage.metrics.scope.phase_expression``: from the event's times and the reply's."""
    if starts_at is None:
        return "none"
    if received_at < starts_at:
        return "before"
    if ends_at is None or received_at < ends_at:
        return "during"
    return "after"


def feedback_status(*, answer_id: int) -> str:
    """``open`` (may vote), ``given`` (a vote is in) or ``gone`` (no such answer any more)."""
    given = ReplyAnswer.objects.filter(pk=answer_id).values_list("feedback_given", flat=True).first()
    if given is None:
        return "gone"
    return "given" if given else "open"


@transaction.atomic
def feedback_record(*, token: str, helpful: bool) -> bool:
    """Record one anonymous vote for the answer the token names. True when recorded, False when that
    answer already had its vote. A bad or expired token raises ``InvalidInput``; an answer that no
    longer exists ``NotFound``."""
    answer_id, channel_kind = feedback_token_read(token)
    if not isinstance(helpful, bool):
        raise InvalidInput("Choose yes or no.", fields={"helpful": ["Choose yes or no."]})
    claimed = ReplyAnswer.objects.filter(pk=answer_id, feedback_given=False).update(feedback_given=True)
    if not claimed:
        if not ReplyAnswer.objects.filter(pk=answer_id).exists():
            raise NotFound("This answer no longer exists.")
        return False
    # Only the aggregate keys are read: nothing about the person is even loaded.
    keys = Reply.objects.filter(answers__pk=answer_id).values(
        "team_id", "channel_id", "language", "received_at", "message_id", "message__campaign_id",
        "message__campaign__event_id", "message__campaign__event__starts_at",
        "message__campaign__event__ends_at").get()
    language = keys["language"] if keys["language"] and keys["language"] != "unknown" else ""
    row = AnswerFeedback.objects.create(
        helpful=helpful, team_id=keys["team_id"], channel_id=keys["channel_id"], channel_kind=channel_kind,
        language=language, campaign_id=keys["message__campaign_id"], event_id=keys["message__campaign__event_id"],
        phase=_phase(keys["received_at"], keys["message__campaign__event__starts_at"],
                     keys["message__campaign__event__ends_at"]))
    if keys["message_id"] is not None:
        segment_ids = list(Message.segments.through.objects.filter(message_id=keys["message_id"])
                           .values_list("segment_id", flat=True))
        if segment_ids:
            row.segments.set(segment_ids)
    return True


# --- retention ------------------------------------------------------------------------------------

def feedback_apply_retention(*, now: datetime | None = None) -> int:
    """Delete votes older than their team's longest reply retention period. Returns how many."""
    now = now or timezone.now()
    deleted = 0
    for team_id in AnswerFeedback.objects.values_list("team_id", flat=True).distinct().order_by():
        days = max(policies.retention_days(team_id=team_id).values())
        _total, per_model = AnswerFeedback.objects.filter(
            team_id=team_id, created_at__lt=now - timedelta(days=days)).delete()
        deleted += per_model.get(AnswerFeedback._meta.label, 0)
    return deleted
