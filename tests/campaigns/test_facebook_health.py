"""A Facebook channel's health says what would otherwise fail quietly: a views metric Graph refuses
(views would stay empty), a Graph API version near or past its end of life; and the settings
refuse a version written wrongly or already ended, on save and in ``manage.py check``."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from campaigns.checks import facebook_graph_version
from campaigns.models import Channel, ChannelHealth, Delivery, DeliveryStatus
from campaigns.services.channels import channel_create
from campaigns.services.health import channels_check_health
from core.errors import InvalidInput
from platforms import get_adapter
from platforms.base import Payload
from tests.factories import make_approved

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reset(sandbox):
    sandbox.reset()


def facebook_channel(world, sandbox, **extra) -> Channel:
    config, secrets = sandbox.config_for("facebook")
    return channel_create(actor=world.a.admin, team=world.a.team, kind="facebook", name="Facebook A",
                          config={**config, **secrets, "read_timeout": 2.0, **extra})


def sent_post(world, sandbox, channel: Channel) -> Delivery:
    """A post the channel really made on the (sandbox) Page, recorded as sent."""
    config, secrets = sandbox.config_for("facebook")
    with get_adapter("facebook", config=config, secrets=secrets) as adapter:
        post = adapter.publish(Payload(text="Gates open at six."), idempotency_key="k").external_id
    now = timezone.now()
    return Delivery.objects.create(message=make_approved(world.a), channel=channel, idempotency_key="fb-1",
                                   due_at=now, status=DeliveryStatus.SENT, external_id=post, sent_at=now)


def checked(channel: Channel) -> Channel:
    channels_check_health()
    return Channel.objects.get(pk=channel.pk)


def test_a_refused_views_metric_shows_on_the_channels_health(world, sandbox):
    channel = facebook_channel(world, sandbox, views_metric="post_impressions")
    assert checked(channel).health == ChannelHealth.OK  # no post yet: nothing to ask on
    sent_post(world, sandbox, channel)

    channel = checked(channel)

    assert channel.health == ChannelHealth.WARNING and channel.get_health_display() == "Working, with a warning"
    assert channel.health_detail.startswith("the Page token was accepted. Facebook views are not read")
    assert "'post_impressions'" in channel.health_detail and "valid insights metric" not in channel.health_detail


def test_the_default_views_metric_keeps_the_channel_ok(world, sandbox):
    channel = facebook_channel(world, sandbox)
    sent_post(world, sandbox, channel)
    channel = checked(channel)
    assert (channel.health, channel.health_detail) == (ChannelHealth.OK, "the Page token was accepted")


def test_a_version_near_its_end_of_life_shows_on_the_channels_health(world, sandbox, settings):
    settings.ENGAGE_FACEBOOK_GRAPH_VERSION = "v21.0"  # ends 21 January 2027
    channel = checked(facebook_channel(world, sandbox))
    assert channel.health == ChannelHealth.WARNING
    assert "v21.0 reaches its end of life on 21 January 2027" in channel.health_detail


def test_a_channel_refuses_a_malformed_or_ended_version(world, sandbox):
    for version, words in (("21.0", "Write the version as Graph does"), ("v20.0", "reached its end of life")):
        with pytest.raises(InvalidInput) as caught:
            facebook_channel(world, sandbox, api_version=version)
        assert any(problem.startswith("api_version: ") and words in problem
                   for problem in caught.value.fields["config"]), caught.value.fields
    assert facebook_channel(world, sandbox, api_version="v24.0").config["api_version"] == "v24.0"


def test_the_system_check_warns_before_the_configured_versions_end(settings):
    assert facebook_graph_version() == []
    settings.ENGAGE_FACEBOOK_GRAPH_VERSION = "v21.0"
    (warning,) = facebook_graph_version()
    assert warning.id == "campaigns.W001" and "21 January 2027" in warning.msg
    settings.ENGAGE_FACEBOOK_GRAPH_VERSION = "25"
    (error,) = facebook_graph_version()
    assert error.id == "campaigns.E001"
    settings.ENGAGE_FACEBOOK_GRAPH_VERSION = "v25.0"
    call_command("check")  # registered, and quiet with the default


def test_the_channels_page_shows_the_warning_in_the_warning_style(world, sandbox, client, settings):
    settings.ENGAGE_FACEBOOK_GRAPH_VERSION = "v21.0"
    checked(facebook_channel(world, sandbox))
    client.force_login(world.a.officer)
    page = client.get("/desk/channels/").content.decode()
    assert '<span class="status warning">Working, with a warning</span>' in page
    assert "v21.0 reaches its end of life on 21 January 2027" in page
    css = (settings.BASE_DIR / "engage/static/engage/engage.css").read_text()
    assert ".status.warning" in css  # in the amber (warning) rule, beside "pending"
