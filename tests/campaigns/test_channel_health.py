"""The channel health check: expiries from the platforms or an administrator, and warnings before
they pass (once per threshold, in the app and by email, audited), against the sandbox."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import AuditEvent, Notification
from campaigns.models import Channel, ChannelHealth
from campaigns.services.channels import channel_create, channel_update
from campaigns.services.health import channel_health_record, channels_check_health, warning_level
from platforms.base import HealthResult

pytestmark = pytest.mark.django_db

PAGE = "100000000000001"


@pytest.fixture(autouse=True)
def _reset(sandbox):
    sandbox.reset()


@pytest.fixture
def eager_celery():
    """Run enqueued tasks in process, so the warning emails land in Django's locmem outbox."""
    from engage.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def facebook_channel(world, sandbox, *, token="EAAexpiring",  # noqa: S107 - a sandbox token
                     expires_in=timedelta(days=10), **extra):
    sandbox.add_account("facebook", token=token, page_id=PAGE, name="Derby Page",
                        expires_at=int(time.time() + expires_in.total_seconds()) if expires_in else 0)
    config, _secrets = sandbox.config_for("facebook")
    return channel_create(actor=world.a.admin, team=world.a.team, kind="facebook", name="Facebook A",
                          config={**config, "page_access_token": token, "read_timeout": 2.0, **extra})


def mastodon_channel(world, sandbox, **extra):
    config, secrets = sandbox.config_for("mastodon")
    return channel_create(actor=world.a.admin, team=world.a.team, kind="mastodon", name="Mastodon live",
                          config={**config, **secrets, "read_timeout": 2.0, **extra})


def warnings(channel, kind=None):
    qs = Notification.objects.filter(url="/desk/channels/", text__contains=channel.name)
    return qs.filter(kind=kind) if kind else qs


def check(channel, now=None):
    return channels_check_health(now=now) and Channel.objects.get(pk=channel.pk)


def test_thresholds():
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert warning_level(None, now) == ""
    assert warning_level(now + timedelta(days=30), now) == ""
    assert warning_level(now + timedelta(days=14), now) == "14d"
    assert warning_level(now + timedelta(days=3, seconds=1), now) == "14d"
    assert warning_level(now + timedelta(days=3), now) == "3d"
    assert warning_level(now + timedelta(seconds=1), now) == "3d"
    assert warning_level(now, now) == "expired"


def test_a_facebook_token_expiring_warns_admins_and_supervisors_once_per_threshold(
        world, sandbox, eager_celery, django_capture_on_commit_callbacks):
    channel = facebook_channel(world, sandbox)
    with django_capture_on_commit_callbacks(execute=True):
        channel = check(channel)
    assert channel.health == ChannelHealth.OK
    assert abs(channel.token_expires_at - (timezone.now() + timedelta(days=10))) < timedelta(minutes=1)
    assert channel.token_warning == "14d"
    expected = {world.a.admin.pk, world.a.supervisor.pk, world.a.supervisor2.pk}
    assert set(warnings(channel, "channel_token_expiring").values_list("user_id", flat=True)) == expected
    (note,) = warnings(channel).filter(user=world.a.admin)
    assert "expires in 10 days" in note.text and "Facebook Page" in note.text
    (email,) = mail.outbox
    assert sorted(email.to) == sorted([world.a.admin.email, world.a.supervisor.email, world.a.supervisor2.email])
    assert "expires soon" in email.subject and "expires in 10 days" in email.body
    assert "/desk/channels/" in email.body
    (audit,) = AuditEvent.objects.filter(verb="channel.token_warning")
    assert audit.summary["level"] == "14d" and sorted(audit.summary["notified"]) == sorted(expected)

    # Every later run at the same level is quiet.
    with django_capture_on_commit_callbacks(execute=True):
        check(channel)
        check(channel, now=timezone.now() + timedelta(days=5))
    assert warnings(channel).count() == 3 and len(mail.outbox) == 1

    # Eight days on, the 3-day threshold warns once.
    later = timezone.now() + timedelta(days=8)
    with django_capture_on_commit_callbacks(execute=True):
        channel = check(channel, now=later)
        check(channel, now=later + timedelta(hours=12))
    assert channel.token_warning == "3d" and channel.health == ChannelHealth.OK
    assert warnings(channel).count() == 6 and len(mail.outbox) == 2
    assert "within a day" not in mail.outbox[1].body and "in 2 days" in mail.outbox[1].body

    # Past the expiry: sign-in expired, warned once more.
    gone = timezone.now() + timedelta(days=10, minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        channel = check(channel, now=gone)
        check(channel, now=gone + timedelta(hours=1))
    assert channel.health == ChannelHealth.AUTH_EXPIRED and channel.token_warning == "expired"
    assert channel.health_detail.startswith("The token expired on")
    assert set(warnings(channel, "channel_token_expired").values_list("user_id", flat=True)) == expected
    assert len(mail.outbox) == 3 and "has expired" in mail.outbox[2].subject
    assert list(AuditEvent.objects.filter(verb="channel.token_warning").order_by("pk")
                .values_list("summary__level", flat=True)) == ["14d", "3d", "expired"]
    assert AuditEvent.objects.filter(verb="channel.health_changed", target_id=str(channel.pk),
                                     summary__to="auth_expired").exists()
    # Other teams' people hear nothing.
    assert not Notification.objects.filter(user__in=[world.b.admin, world.b.supervisor, world.a.officer]).exists()


def test_a_first_check_inside_3_days_sends_only_the_3_day_warning(world, sandbox):
    channel = facebook_channel(world, sandbox, expires_in=timedelta(days=2))
    channel = check(channel)
    assert channel.token_warning == "3d"
    assert set(warnings(channel).values_list("kind", flat=True)) == {"channel_token_expiring"}
    assert warnings(channel).filter(user=world.a.admin).count() == 1


def test_a_page_token_that_never_expires_warns_nobody(world, sandbox):
    channel = check(facebook_channel(world, sandbox, expires_in=None))
    assert (channel.health, channel.token_expires_at, channel.token_warning) == ("ok", None, "")
    assert not warnings(channel).exists()


def test_a_token_the_platform_refuses_is_auth_expired(world, sandbox):
    channel = facebook_channel(world, sandbox, expires_in=timedelta(seconds=-60))
    channel = check(channel)
    assert channel.health == ChannelHealth.AUTH_EXPIRED
    assert "EAAexpiring" not in channel.health_detail


def test_an_administrator_records_an_expiry_by_hand_and_renewal_starts_over(world, sandbox):
    soon = (timezone.now() + timedelta(days=2)).isoformat()
    channel = mastodon_channel(world, sandbox, token_expires_at=soon)
    channel = check(channel)
    assert channel.health == ChannelHealth.OK and channel.token_warning == "3d"
    assert channel.token_expires_at == datetime.fromisoformat(soon)
    assert warnings(channel).filter(user=world.a.admin).count() == 1

    renewed = (timezone.now() + timedelta(days=90)).date().isoformat()
    channel_update(actor=world.a.admin, channel=channel, config={"token_expires_at": renewed})
    channel = check(channel)
    assert channel.token_warning == "" and channel.token_expires_at.date().isoformat() == renewed
    # ...and the new expiry warns again when its time comes.
    channel = check(channel, now=timezone.now() + timedelta(days=80))
    assert channel.token_warning == "14d"
    assert warnings(channel).filter(user=world.a.admin).count() == 2

    channel_update(actor=world.a.admin, channel=channel, config={"token_expires_at": None})
    channel = check(channel)
    assert (channel.token_expires_at, channel.token_warning) == (None, "")


def test_a_check_that_cannot_reach_the_platform_keeps_the_expiry_and_does_not_repeat(world, sandbox):
    channel = check(facebook_channel(world, sandbox))
    known = channel.token_expires_at
    sandbox.set_behaviour("facebook", fail=100, applies_to="all")
    channel = check(channel)
    assert channel.health == ChannelHealth.FAILING
    assert (channel.token_expires_at, channel.token_warning) == (known, "14d")
    sandbox.set_behaviour("facebook")
    channel = check(channel)
    assert (channel.health, channel.token_expires_at) == (ChannelHealth.OK, known)
    assert warnings(channel).filter(user=world.a.admin).count() == 1


def test_an_x_user_token_reports_the_expiry_kept_in_its_config(world, sandbox):
    config, secrets = sandbox.config_for("x")
    expires = timezone.now() + timedelta(days=5)
    channel = channel_create(actor=world.a.admin, team=world.a.team, kind="x", name="X A",
                             config={**config, **secrets, "expires_at": int(expires.timestamp()),
                                     "refresh_token": "sandbox-x-refresh-token"})
    assert "refresh_token" in channel.secret_names and "refresh_token" not in channel.config
    channel = check(channel)
    assert channel.token_warning == "14d"
    assert abs(channel.token_expires_at - expires) < timedelta(seconds=1)


def test_the_record_service_directly(world):
    channel = world.a.mastodon
    expires = timezone.now() + timedelta(days=20)
    channel = channel_health_record(channel_id=channel.pk, result=HealthResult("ok", "@a", expires))
    assert (channel.token_expires_at, channel.token_warning) == (expires, "")
    channel = channel_health_record(channel_id=channel.pk, result=HealthResult("ok", "@a", None))
    assert channel.token_expires_at is None  # the platform says it no longer expires


def test_the_channels_page_shows_the_expiry_with_a_warning_style(world, sandbox, client):
    channel = check(facebook_channel(world, sandbox))
    steady = check(mastodon_channel(world, sandbox, token_expires_at=(timezone.now() + timedelta(days=60)).isoformat()))
    assert channel.token_warning == "14d" and steady.token_warning == ""
    client.force_login(world.a.officer)
    page = client.get("/desk/channels/").content.decode()
    assert '<div class="gap warning">Token expires in 1' in page  # "1 week, 2 days" and the like
    assert '<div class="meta">Token expires in 1' in page  # 60 days: "1 month, ..." in plain style
    Channel.objects.filter(pk=channel.pk).update(token_warning="expired", health="auth_expired")
    page = client.get("/desk/channels/").content.decode()
    assert '<div class="gap error">Token expired on' in page


def renewing_x_channel(world, sandbox, *, expires_in, refresh_token="sandbox-x-refresh-token"):  # noqa: S107
    config, secrets = sandbox.config_for("x")
    return channel_create(actor=world.a.admin, team=world.a.team, kind="x", name="X renewing",
                          config={**config, **secrets, "client_id": "sandbox-x-client-id", "read_timeout": 2.0,
                                  "expires_at": int((timezone.now() + expires_in).timestamp()),
                                  "refresh_token": refresh_token})


def _token_calls(sandbox):
    return [r for r in sandbox.requests("x") if r.op == "oauth2_token"]


def test_an_x_token_about_to_expire_is_renewed_and_nobody_is_warned(world, sandbox):
    from campaigns.publishing import adapter_for
    from platforms.base import Payload

    channel = renewing_x_channel(world, sandbox, expires_in=timedelta(minutes=30))
    before = channel.get_secrets()
    channel = check(channel)
    assert len(_token_calls(sandbox)) == 1
    after = channel.get_secrets()
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] != before["refresh_token"]  # X rotates it: the new one is kept
    assert "refresh_token" not in channel.config and "access_token" not in channel.config
    assert timedelta(hours=1, minutes=55) < channel.token_expires_at - timezone.now() <= timedelta(hours=2)
    assert (channel.health, channel.token_warning) == (ChannelHealth.OK, "")
    assert not warnings(channel).exists()  # a two-hour token that renews itself is no news
    refreshed = AuditEvent.objects.get(verb="channel.token_refreshed", target_id=str(channel.pk))
    assert before["refresh_token"] not in str(refreshed.summary) and after["access_token"] not in str(refreshed.summary)
    adapter_for(channel).publish(Payload(text="Posted with the renewed token"), idempotency_key="renewed")

    check(channel)  # not due again for almost two hours: the platform is not asked
    assert len(_token_calls(sandbox)) == 1


def test_a_refused_refresh_token_warns_the_team_and_keeps_the_old_pair(
        world, sandbox, eager_celery, django_capture_on_commit_callbacks):
    channel = renewing_x_channel(world, sandbox, expires_in=timedelta(minutes=40), refresh_token="revoked-by-user")
    before = channel.get_secrets()
    with django_capture_on_commit_callbacks(execute=True):
        channel = check(channel)
    assert len(_token_calls(sandbox)) == 1
    assert channel.get_secrets() == before
    assert AuditEvent.objects.filter(verb="channel.token_refresh_failed", target_id=str(channel.pk)).exists()
    assert channel.token_warning == "3d" and warnings(channel, "channel_token_expiring").exists()
    assert any("expires within a day" in m.body for m in mail.outbox), [m.body for m in mail.outbox]

    # A renewal that fails again does not warn again for the same expiry.
    sent = warnings(channel).count()
    with django_capture_on_commit_callbacks(execute=True):
        check(channel)
    assert len(_token_calls(sandbox)) == 2  # it did try again
    assert warnings(channel).count() == sent and len(mail.outbox) == 1
