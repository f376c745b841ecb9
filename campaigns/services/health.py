"""Channel health: check each channel's credentials, and warn before its token expires.

The periodic ``campaigns.check_channels`` task (every 30 minutes, and once when the beat starts)
asks each active channel's adapter to ``check()`` itself, and ``campaigns.check_channel`` asks
one channel as soon as it is created or saved; each records the answer: ``health``, ``health_detail``,
``health_checked_at`` and ``token_expires_at``.

**Where the expiry comes from.** The platform's word wins: Facebook's ``debug_token`` gives a
Page token's ``expires_at``, and an X OAuth 2.0 user token's expiry is kept in the channel's
config (``expires_at``) with the token. Mastodon, Telegram and Twilio tokens do not expire.
Where the platform gives no expiry, an administrator may record one by hand in the channel's
config as ``token_expires_at`` (an ISO 8601 date or time, or unix seconds): useful for a token
whose expiry the API does not reveal (an SMTP password rotated by policy, a partner's webhook
secret). Neither: no expiry, and ``token_expires_at`` is cleared. A check that could not reach
the platform keeps the expiry it knew.

**Warnings.** At 14 days and 3 days before the expiry (``ENGAGE_TOKEN_WARNING_DAYS``) and when
it has passed, the team's administrators and supervisors get an in-app notification and an
email, and the warning is on the audit trail. Each threshold warns once: the last one sent is
kept in ``Channel.token_warning``, and starts over when the expiry changes (a new token). A
first check that finds the token already within 3 days sends the 3-day warning only. An
expired token sets the channel's health to *sign-in expired*, whatever the platform said.

**Tokens that renew themselves.** An X channel given a ``refresh_token`` (secret) and its app's
``client_id`` (and ``client_secret`` for a confidential client) is renewed by the check when its
access token has less than ``REFRESH_AHEAD`` (65 minutes) left, or no known expiry: the new pair
(X rotates the refresh token too) is stored encrypted, the new expiry in ``config.expires_at``, and
``channel.token_refreshed`` goes on the audit trail. The row is locked while the platform is asked,
so two checks never spend the same refresh token. While renewal works, nobody is warned about an
access token that lasts two hours; when X refuses the refresh token, ``channel.token_refresh_failed``
is audited and the usual warnings apply, so the team hears before the channel stops.

**Working, with a warning.** A check that passes can still find something an administrator should
act on before it becomes a failure: the channel's health is then ``warning`` and ``health_detail``
says what, after the check's own detail. Two sources: the adapter's ``HealthResult.warnings`` (a
Facebook Graph API version within ``ENGAGE_FACEBOOK_VERSION_WARNING_DAYS`` of its end of life, or
past it), and for a channel whose platform gives statistics, ``adapter.stats_problems()`` asked on
its newest post sent in the last ``ENGAGE_STATS_DAYS`` days (a Facebook views metric Graph refuses,
such as ``post_impressions`` since November 2025, or no permission to read insights), so views that
stay empty are never silent. The channel page shows ``health`` and ``health_detail`` as they are.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_record
from accounts.notify import notify
from campaigns.models import Channel, ChannelHealth, Delivery, DeliveryStatus
from campaigns.publishing.send import adapter_for, http_client_for
from platforms.base import AdapterError, AuthExpiredError, HealthResult
from platforms.common import parse_expiry
from platforms.x.adapter import DEFAULT_API_BASE as X_API_BASE
from platforms.x.adapter import refresh_access_token

logger = logging.getLogger(__name__)

EXPIRED = "expired"
SAME_EXPIRY = timedelta(minutes=1)
REFRESH_AHEAD = timedelta(minutes=65)  # the check runs every 30 minutes: two chances before expiry


def warning_days() -> tuple[int, ...]:
    """The thresholds, in days before the expiry, largest first."""
    days = settings.ENGAGE_TOKEN_WARNING_DAYS
    return tuple(sorted({int(d) for d in days if int(d) > 0}, reverse=True))


def warning_level(expires_at: datetime | None, now: datetime) -> str:
    """``""`` (no expiry, or far off), ``"14d"``, ``"3d"``, ... or ``"expired"``."""
    if expires_at is None:
        return ""
    if expires_at <= now:
        return EXPIRED
    level = ""
    for days in warning_days():
        if expires_at - now <= timedelta(days=days):
            level = f"{days}d"
    return level


def _rank(level: str) -> int:
    if not level:
        return 0
    if level == EXPIRED:
        return 1_000_000
    try:
        return 100_000 - int(level.removesuffix("d"))  # fewer days left: more urgent
    except ValueError:
        return 0


def _expiry(channel: Channel, result: HealthResult) -> datetime | None:
    if result.expires_at is not None:
        return result.expires_at
    manual = parse_expiry((channel.config or {}).get("token_expires_at"))
    if manual is not None:
        return manual
    if result.expiry_unknown or result.state == ChannelHealth.FAILING:
        return channel.token_expires_at  # could not ask: keep what we knew
    return None


def _changed(before: datetime | None, after: datetime | None) -> bool:
    if before is None or after is None:
        return before is not after
    return abs(before - after) > SAME_EXPIRY


def renews_itself(channel: Channel) -> bool:
    """The channel holds what it needs to renew its own access token (an X user token)."""
    return (channel.kind == "x" and bool((channel.config or {}).get("client_id"))
            and "refresh_token" in channel.secret_names)


def token_refresh_if_due(*, channel_id: int, now: datetime | None = None) -> bool | None:
    """Renew a self-renewing channel's access token when it is due. None: the channel does not
    renew itself; True: renewed, or not due yet; False: the platform refused or could not be asked."""
    now = now or timezone.now()
    with transaction.atomic():
        channel = Channel.objects.select_for_update(no_key=True).get(pk=channel_id)  # see channel_health_record
        if not renews_itself(channel):
            return None
        config, secrets = dict(channel.config or {}), channel.get_secrets()
        expires = parse_expiry(config.get("expires_at"))
        if expires is not None and expires - now > REFRESH_AHEAD:
            return True
        try:
            pair = refresh_access_token(
                client_id=str(config["client_id"]), refresh_token=secrets["refresh_token"],
                client_secret=secrets.get("client_secret", ""), api_base=config.get("api_base") or X_API_BASE,
                http=http_client_for(config))
        except AdapterError as exc:
            audit_record(actor=None, verb="channel.token_refresh_failed", target=channel,
                         summary={"error": str(exc)[:200], "refused": isinstance(exc, AuthExpiredError)})
            logger.warning("Could not renew the token of channel %s: %s", channel.pk, exc)
            return False
        channel.set_secrets({**secrets, "access_token": pair.access_token, "refresh_token": pair.refresh_token})
        if pair.expires_at is not None:
            config["expires_at"] = pair.expires_at.isoformat()
        else:
            config.pop("expires_at", None)
        channel.config = config
        channel.save(update_fields=["config", "secrets_encrypted"])
        audit_record(actor=None, verb="channel.token_refreshed", target=channel,
                     summary={"expires_at": config.get("expires_at")})
        return True


@transaction.atomic
def channel_health_record(*, channel_id: int, result: HealthResult, now: datetime | None = None,
                          renewed: bool = False) -> Channel:
    """Record one check's result, set the expiry, and warn if a new threshold was crossed.
    ``renewed``: the channel renews its own token and did (no warnings before it expires)."""
    now = now or timezone.now()
    # FOR NO KEY UPDATE: serialises two records of one channel, yet lets a transaction that already
    # holds the audit chain's head insert rows referring to the channel (deliveries, at the COMMIT of
    # a schedule) while this waits for that head: FOR UPDATE deadlocked with it
    # (tests/campaigns/test_lock_races.py). token_refresh_if_due locks the same way.
    channel = Channel.objects.select_for_update(no_key=True).select_related("team").get(pk=channel_id)
    expires = _expiry(channel, result)
    state, detail = str(result.state), result.detail
    if state == ChannelHealth.OK and result.warnings:
        state = ChannelHealth.WARNING
        detail = " ".join([detail.rstrip(".") + "." if detail else "", *result.warnings]).strip()
    level = warning_level(expires, now)
    if renewed and level != EXPIRED:
        level = ""
    if level == EXPIRED and expires is not None:
        state = ChannelHealth.AUTH_EXPIRED
        detail = f"The token expired on {_when(expires, channel)}." + (f" {detail}" if detail else "")
    warned = "" if _changed(channel.token_expires_at, expires) else channel.token_warning
    warn_now = _rank(level) > _rank(warned)
    if warn_now or not level:
        warned = level
    before = channel.health
    Channel.objects.filter(pk=channel.pk).update(
        health=state, health_detail=detail[:500], health_checked_at=now, token_expires_at=expires,
        token_warning=warned)
    if before != state:
        audit_record(actor=None, verb="channel.health_changed", target=channel,
                     summary={"from": before, "to": state, "detail": detail[:200]})
    if warn_now and expires is not None:
        _warn(channel, level=level, expires=expires, now=now)
    channel.refresh_from_db()
    return channel


def _when(moment: datetime, channel: Channel) -> str:
    try:
        zone = ZoneInfo(channel.team.timezone or settings.ENGAGE_DEFAULT_TIMEZONE)
    except (ValueError, KeyError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).strftime("%d %b %Y %H:%M %Z")


def _days_left(expires: datetime, now: datetime) -> str:
    days = math.ceil((expires - now).total_seconds() / 86400)
    return "within a day" if days <= 1 else f"in {days} days"


def _warn(channel: Channel, *, level: str, expires: datetime, now: datetime) -> None:
    """The team's administrators and supervisors: in the app and by email, on the audit trail."""
    label = f'{channel.get_kind_display()} channel "{channel.name}"'
    if level == EXPIRED:
        kind = "channel_token_expired"
        text = (f"The token of the {label} expired on {_when(expires, channel)}. Nothing can be published "
                "to it until an administrator enters a new one.")
    else:
        kind = "channel_token_expiring"
        text = (f"The token of the {label} expires {_days_left(expires, now)} ({_when(expires, channel)}). "
                "An administrator should renew it before then.")
    recipients = notify(kind, team=channel.team_id, text=text, url=reverse("campaigns:channels"))
    audit_record(actor=None, verb="channel.token_warning", target=channel,
                 summary={"level": level, "expires_at": expires.isoformat(), "notified": recipients})


def _with_stats_problems(channel: Channel, adapter, result: HealthResult, *, now: datetime) -> HealthResult:
    """``result`` with the platform's statistics problems added to its warnings, asked on the
    channel's newest post sent in the statistics window (none: nothing to ask on)."""
    if not getattr(adapter, "supports_stats", False):
        return result
    sample = (Delivery.objects.filter(channel=channel, status=DeliveryStatus.SENT,
                                      sent_at__gte=now - timedelta(days=settings.ENGAGE_STATS_DAYS))
              .exclude(external_id="").order_by("-sent_at", "-pk").values_list("external_id", flat=True).first())
    if not sample:
        return result
    problems = adapter.stats_problems(sample)
    if not problems:
        return result
    return dataclasses.replace(result, warnings=(*result.warnings, *problems))


def channel_check_health(*, channel_id: int, now: datetime | None = None) -> bool:
    """Check one active channel and record the answer (a channel that cannot be reached is recorded
    as failing); False when there is no such active channel. Run when a channel is saved
    (``campaigns.check_channel``), as well as every 30 minutes and when the beat starts."""
    channel = Channel.objects.filter(pk=channel_id, is_active=True).first()
    if channel is None:
        return False
    renewed = token_refresh_if_due(channel_id=channel.pk, now=now)
    if renewed is not None:
        channel = Channel.objects.get(pk=channel.pk)  # the new token and expiry
    try:
        adapter = adapter_for(channel)
        try:
            result = adapter.check()
            if result.state == "ok":
                result = _with_stats_problems(channel, adapter, result, now=now or timezone.now())
        finally:
            adapter.close()
    except AdapterError as exc:
        result = HealthResult(state="failing", detail=str(exc), expiry_unknown=True)
    channel_health_record(channel_id=channel.pk, result=result, now=now, renewed=bool(renewed))
    return True


def channels_check_health(*, now: datetime | None = None) -> int:
    """Check every active channel; one that cannot be reached is recorded as failing, never skipped."""
    ids = Channel.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)
    return sum(channel_check_health(channel_id=pk, now=now) for pk in list(ids))
