"""What X and Twilio accept, enforced where a channel is saved and where a text is checked.

X: publishing needs a user-context token (xdk specs/openapi.json: POST /2/tweets accepts only
OAuth2UserToken or UserToken). Twilio: a Body is at most 1,600 characters (twilio-oai
twilio_api_v2010.json, CreateMessage), so an SMS has at most 10 GSM-7 segments (1,530).
"""

from __future__ import annotations

import pytest

from campaigns.checker import CheckerConfig, check_message
from campaigns.models import Channel
from campaigns.services.channels import channel_create, channel_update
from core.errors import InvalidInput
from platforms.sms import adapter as sms_adapter
from platforms.sms import counting

APP_ONLY = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4X"
USER_TOKEN = "bWRWa3gzdnk3WkE2OWpXbWF1T0xmRXZkd3NqY2xHbk1pM0J6bm5QSDR4d2xROjE3MDA6MToxOmF0OjE"


def test_an_x_channel_with_an_app_only_token_is_refused_with_a_clear_message(world, api):
    client = api(world.a.admin)
    response = client.post("/api/v1/channels/", {
        "team": world.a.team.pk, "kind": "x", "name": "X app",
        "config": {"username": "northshire", "access_token": APP_ONLY}}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_config"
    [problem] = error["fields"]["config"]
    assert problem.startswith("access_token: X does not accept this token for publishing")
    assert "app-only bearer token" in problem and "user-context token" in problem
    assert APP_ONLY not in response.content.decode()
    assert not Channel.objects.filter(name="X app").exists()


def test_an_x_user_token_is_accepted_and_an_app_only_one_cannot_replace_it(world):
    channel = channel_create(actor=world.a.admin, team=world.a.team, kind="x", name="X",
                             config={"access_token": USER_TOKEN})
    with pytest.raises(InvalidInput, match="app-only bearer token"):
        channel_update(actor=world.a.admin, channel=channel, config={"access_token": APP_ONLY})
    channel.refresh_from_db()
    assert channel.get_secrets() == {"access_token": USER_TOKEN}


@pytest.mark.parametrize("segments", [11, 16, 100])
def test_an_sms_channel_over_10_segments_is_refused(world, api, segments):
    client = api(world.a.admin)
    response = client.post("/api/v1/channels/", {
        "team": world.a.team.pk, "kind": "sms", "name": "SMS",
        "config": {"account_sid": "AC5a1dbeef5a1dbeef5a1dbeef5a1dbeef", "from_number": "+15005550006",
                   "max_segments": segments}}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"]["config"] == [
        f"max_segments: At most 10: Twilio refuses a message over 1,600 characters, and {segments} "
        "segments could hold more."
    ]


def test_an_sms_channel_of_10_segments_is_accepted(world):
    channel = channel_create(actor=world.a.admin, team=world.a.team, kind="sms", name="SMS",
                             config={"account_sid": "AC5a1dbeef5a1dbeef5a1dbeef5a1dbeef",
                                     "from_number": "+15005550006", "max_segments": 10})
    assert channel.config["max_segments"] == 10


def test_the_checker_never_lets_an_sms_past_twilios_1600_characters() -> None:
    body = "Avoid the area. " + "d" * 1550  # 1,566 GSM-7 characters: 11 segments
    config = CheckerConfig(max_sms_segments=11)
    [finding] = [f for f in check_message(body=body, channels=["sms"], config=config) if f.code == "length.sms"]
    assert finding.severity == "error"
    assert "11 text messages" in finding.message and "the limit is 10" in finding.message
    assert "Twilio refuses a message over 1,600 characters" in finding.message
    assert finding.span == (1530, len(body))


def test_the_adapters_and_the_checker_share_the_sms_caps() -> None:
    assert (sms_adapter.MAX_BODY, sms_adapter.MAX_SEGMENTS) == (counting.SMS_MAX_BODY,
                                                                 counting.SMS_MAX_SEGMENTS) == (1600, 10)
    assert counting.SMS_MAX_SEGMENTS * counting.GSM_PART <= counting.SMS_MAX_BODY
    assert (counting.SMS_MAX_SEGMENTS + 1) * counting.GSM_PART > counting.SMS_MAX_BODY
