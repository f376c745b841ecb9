"""Channel health is checked when a channel is saved and when the platform starts (issue 16), not
only at the periodic task's first turn 30 minutes later. Against the sandbox."""

from __future__ import annotations

import pytest
from celery.signals import beat_init

from campaigns.models import Channel, ChannelHealth
from campaigns.services.channels import channel_create, channel_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_celery():
    """Run enqueued tasks in process, as a worker would."""
    from engage.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def box(sandbox):
    sandbox.reset()
    return sandbox


def test_a_new_channel_is_checked_as_soon_as_it_is_saved(world, box, eager_celery,
                                                         django_capture_on_commit_callbacks):
    config, secrets = box.config_for("mastodon")
    with django_capture_on_commit_callbacks(execute=True):
        channel = channel_create(actor=world.a.admin, team=world.a.team, kind="mastodon", name="Mastodon now",
                                 config={**config, **secrets, "read_timeout": 2.0})
    channel = Channel.objects.get(pk=channel.pk)
    assert channel.health == ChannelHealth.OK and channel.health_checked_at is not None


def test_saving_new_credentials_checks_them_at_once(world, box, eager_celery, django_capture_on_commit_callbacks):
    config, secrets = box.config_for("mastodon")
    with django_capture_on_commit_callbacks(execute=True):
        channel = channel_create(actor=world.a.admin, team=world.a.team, kind="mastodon", name="Mastodon now",
                                 config={**config, **secrets, "read_timeout": 2.0})
    box.set_behaviour("mastodon", auth_expired=True, applies_to="all")
    with django_capture_on_commit_callbacks(execute=True):
        channel_update(actor=world.a.admin, channel=channel, config={"access_token": "a-revoked-token"})
    channel = Channel.objects.get(pk=channel.pk)
    assert channel.health == ChannelHealth.AUTH_EXPIRED, (channel.health, channel.health_detail)


def test_a_rolled_back_save_checks_nothing(world, box, django_capture_on_commit_callbacks):
    from django.db import transaction

    config, secrets = box.config_for("mastodon")
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        channel_create(actor=world.a.admin, team=world.a.team, kind="mastodon", name="Never",
                       config={**config, **secrets})
        raise RuntimeError("rolled back")
    assert callbacks == [] and not Channel.objects.filter(name="Never").exists()


def test_the_beat_asks_for_every_channels_health_when_it_starts(monkeypatch):
    from engage.celery import app

    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append((name, options)))
    beat_init.send(sender=None)
    assert [name for name, _options in sent] == ["campaigns.check_channels"]
    assert 0 < sent[0][1]["countdown"] <= 30
