"""The one protocol every platform adapter speaks, and the errors it may raise.

An adapter turns an approved :class:`Payload` into a post on one platform. It does no ORM
writes: it returns a :class:`PublishResult` or raises one of the errors below, and the
delivery service records the outcome.

The errors say what the caller may do next:

* :class:`TransientError`: nothing was accepted (could not connect, 5xx, 429). Retry later,
  after ``retry_after`` seconds when the platform said so.
* :class:`PermanentError`: the platform refused the request and retrying will not help
  (bad request, forbidden, content rejected). :class:`AuthExpiredError` is the special case
  of a token that was revoked or expired: the channel needs new credentials.
* :class:`UnconfirmedError`: the request was sent but we never learned the outcome (read
  timeout after sending, connection dropped after sending). The post may be live. It must
  not be blindly retried: it is reconciled. Adapters whose platform honours an idempotency
  key raise :class:`TransientError` instead, because a retry with the same key is safe.
* :class:`PartialDeliveryError`: a publish made several requests (one SMS per recipient, one
  email per recipient) and only some were accepted. It is an :class:`UnconfirmedError`, so a
  caller that knows nothing about it still will not resend; a caller that does can record
  ``accepted`` and retry only ``unsent``.

Error details never contain secrets (adapters redact tokens before building them) and never
quote a platform's answer: an HTTP status, a fixed sentence and a numeric platform code only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

HealthState = Literal["ok", "auth_expired", "failing"]


@dataclass(frozen=True)
class MediaItem:
    """One image, already validated and re-encoded (EXIF stripped) by campaigns.media."""

    content: bytes
    mime: str
    alt_text: str
    filename: str


@dataclass(frozen=True)
class Payload:
    """Exactly what was approved for one variant on one channel."""

    text: str
    language: str = "en"
    media: tuple[MediaItem, ...] = ()
    subject: str = ""  # email subject / webhook title
    link: str = ""  # canonical public URL of the message
    in_reply_to: str = ""  # external id to thread a reply under (citizen-reply answers)
    recipients: tuple[str, ...] = ()  # sms numbers / emails for direct answers; empty: channel config's list
    # The message's hashtags (names, no "#"): X, Mastodon, Facebook and Telegram add the ones the text
    # lacks on a last line (platforms.hashtags.with_hashtags, in each adapter's composed_text).
    hashtags: tuple[str, ...] = ()
    metadata: Mapping[str, str] = field(
        default_factory=dict
    )  # message id, urgency, ... (webhook includes it)


@dataclass(frozen=True)
class PublishResult:
    external_id: str
    external_url: str = ""
    http_status: int | None = None
    detail: str = ""


LookupState = Literal["found", "absent", "unknown"]


@dataclass(frozen=True)
class LookupQuery:
    """A call whose outcome we never learned, for :meth:`Adapter.lookup`: what was sent, under
    which key, and the window in which the platform may have received it (the row went in flight
    at ``sent_after``; the call had certainly ended by ``sent_before``)."""

    idempotency_key: str
    payload: Payload
    sent_after: datetime
    sent_before: datetime


@dataclass(frozen=True)
class LookupResult:
    """What a platform answered when asked whether a post went out.

    * ``found``: it has the post; ``external_id`` (and ``external_url``) name it;
    * ``absent``: it answered, for the whole window, and has certainly not got it: safe to send again;
    * ``unknown``: it cannot tell (too many posts to search, an ambiguous match, some recipients
      found and others not): a person decides, as before.

    ``detail`` is what the platform answered, as a fixed sentence that is safe to store in the audit
    trail: counts and statuses only, never a platform's text or a recipient's number.
    """

    state: LookupState
    detail: str
    external_id: str = ""
    external_url: str = ""
    http_status: int | None = None


@dataclass(frozen=True)
class HealthResult:
    """What ``check()`` learned. ``expires_at`` is when the credentials stop working, where the
    platform tells us (Facebook's ``debug_token``, an X OAuth 2.0 user token); ``None`` means the
    platform gives no expiry (or the token never expires)."""

    state: HealthState
    detail: str = ""
    expires_at: datetime | None = None
    expiry_unknown: bool = False  # the platform could not say this time (keep what we knew)
    # Working, but an administrator should act (an API version near its end of life, say):
    # the channel's health becomes "warning" with these sentences.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class PostStats:
    """One post's figures as the platform counts them; ``None`` where the platform does not give
    that figure (Mastodon has no views, for example), never a made-up zero.

    ``shares`` are boosts, reposts plus quotes, or shares; ``likes`` are favourites, likes or
    reactions; ``replies`` are the platform's own count of replies or comments.
    """

    views: int | None = None
    shares: int | None = None
    replies: int | None = None
    likes: int | None = None


class AdapterError(Exception):
    """Base of every error an adapter raises. ``detail`` is safe to store and show.

    ``platform_code`` is the platform's own error code when it gave one (Twilio 21211,
    Graph 190, ...).
    """

    platform_code: str | int | None = None
    # The platform's own error text, for the adapter's decisions and the worker's log only: never
    # stored or shown (``detail`` is what is; it never quotes what a host answered).
    platform_message: str = ""

    def __init__(self, detail: str, *, http_status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.http_status = http_status


class TransientError(AdapterError):
    """Nothing was accepted; safe to retry (after ``retry_after`` seconds if given)."""

    def __init__(
        self, detail: str, *, http_status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(detail, http_status=http_status)
        self.retry_after = retry_after


class PermanentError(AdapterError):
    """The platform refused the request; retrying the same request will not help."""


class AuthExpiredError(PermanentError):
    """The credentials were rejected (revoked, expired, wrong). The channel needs new ones."""


class UnconfirmedError(AdapterError):
    """The request may have been accepted. Reconcile; never blindly retry."""


class PartialDeliveryError(UnconfirmedError):
    """Several requests were needed and only some of them were accepted.

    ``accepted`` maps each recipient that was accepted to the platform's id for it.
    ``unconfirmed`` lists recipients whose request was sent but not answered (may have
    been delivered), ``unsent`` those never (or definitely not) accepted, which are safe to
    send again with ``dataclasses.replace(payload, recipients=exc.unsent)``, and
    ``rejected`` maps recipients the platform refused for good to the reason.
    ``result`` describes what was accepted, in the same form a full success would have.
    """

    def __init__(
        self,
        detail: str,
        *,
        accepted: Mapping[str, str],
        unconfirmed: tuple[str, ...] = (),
        unsent: tuple[str, ...] = (),
        rejected: Mapping[str, str] | None = None,
        result: PublishResult,
        http_status: int | None = None,
    ) -> None:
        super().__init__(detail, http_status=http_status)
        self.accepted = dict(accepted)
        self.unconfirmed = unconfirmed
        self.unsent = unsent
        self.rejected = dict(rejected or {})
        self.result = result


@runtime_checkable
class Adapter(Protocol):
    """One platform. Instances are cheap; make one per delivery attempt or per worker."""

    kind: str
    supports_withdraw: bool
    honours_idempotency_key: bool
    can_lookup: bool
    limit: int

    def publish(self, payload: Payload, *, idempotency_key: str) -> PublishResult: ...

    def withdraw(self, external_id: str) -> None: ...

    def check(self) -> HealthResult: ...

    def lookup(self, query: LookupQuery) -> LookupResult:
        """Ask the platform whether the call in ``query`` went through. Only called where
        ``can_lookup`` is true (which may depend on the channel's config). An adapter error
        raised here means the platform could not tell: the caller treats it as ``unknown``."""
        ...

    def count(self, text: str) -> int: ...

    # Optional (``AdapterBase`` gives every adapter a default): ``supports_stats`` says whether
    # ``stats(external_id) -> PostStats | None`` and ``stats_many(external_ids) -> dict[str,
    # PostStats]`` ask the platform for a post's figures (None / left out: the post is gone).


ConfigMapping = Mapping[str, Any]
SecretsMapping = Mapping[str, str]
