"""The rest of the outbound API: events, campaigns, segments, channels, deliveries, checks, the pause."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Role
from campaigns import publishing
from campaigns.models import Delivery, DeliveryStatus, Event
from campaigns.services.events import event_create
from campaigns.services.segments import segment_create
from tests.factories import make_approved, member

pytestmark = pytest.mark.django_db

DELIVERY_STATUSES = {"pending", "sending", "sent", "unconfirmed", "failed", "skipped", "withdrawn"}


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.utcoffset() is not None, f"{value} has no offset"
    return parsed


def page(response) -> list[dict]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}, body
    return body["results"]


def token_client(user) -> APIClient:
    """Signed in by token, as a script would be: the user is loaded afresh on every request."""
    from knox.models import AuthToken

    _instance, token = AuthToken.objects.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def count_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


# --- events -----------------------------------------------------------------------------------

EVENT_FIELDS = {"name", "kind", "starts_at", "ends_at", "location", "hashtags", "phase"}


def test_event_create_and_read_back(world, api):
    client = api(world.a.officer)
    response = client.post("/api/v1/events/", {
        "name": "Climate march", "kind": "protest", "starts_at": "2031-06-01T15:00:00+02:00",
        "ends_at": "2031-06-01T18:00:00+02:00", "location": "Town Hall", "hashtags": ["#ClimateMarch", "Town"],
        "phase": "after",  # read-only: ignored
    }, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert EVENT_FIELDS <= set(data)
    assert data["name"] == "Climate march" and data["kind"] == "protest" and data["location"] == "Town Hall"
    assert data["hashtags"] == ["ClimateMarch", "Town"]
    assert parse_time(data["starts_at"]) == datetime.fromisoformat("2031-06-01T13:00:00+00:00")
    assert data["phase"] == "before"
    assert data["team"] == world.a.team.pk
    detail = client.get(f"/api/v1/events/{data['id']}/").json()
    assert detail == data


@pytest.mark.parametrize("starts,ends,phase", [
    (timedelta(days=1), timedelta(days=1, hours=2), "before"),
    (timedelta(hours=-1), None, "during"),
    (timedelta(hours=-1), timedelta(hours=1), "during"),
    (timedelta(days=-2), timedelta(days=-1), "after"),
])
def test_event_phase_is_derived(world, api, starts, ends, phase):
    now = timezone.now()
    event = event_create(actor=world.a.officer, team=world.a.team, name="Gathering", kind="spontaneous",
                         starts_at=now + starts, ends_at=now + ends if ends is not None else None)
    assert api(world.a.officer).get(f"/api/v1/events/{event.pk}/").json()["phase"] == phase


def test_event_patch_cannot_set_the_phase(world, api):
    event = world.a.event
    response = api(world.a.officer).patch(f"/api/v1/events/{event.pk}/", {"location": "North Gate",
                                                                          "phase": "after"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["location"] == "North Gate" and response.json()["phase"] == "before"
    event.refresh_from_db()
    assert event.phase_override == ""


@pytest.mark.parametrize("change,field", [
    ({"kind": "riot"}, "kind"),
    ({"starts_at": "next week"}, "starts_at"),
    ({"ends_at": "2031-06-01T12:00:00Z"}, "ends_at"),  # before the start
    ({"name": ""}, "name"),
    ({"name": "n" * 201}, "name"),
    ({"hashtags": "not-a-list"}, "hashtags"),
    ({"latitude": 123.0}, "latitude"),
    ({"polygon": [[1, 2]]}, "polygon"),
])
def test_invalid_events_are_400_with_the_field(world, api, change, field):
    payload = {"name": "March", "kind": "protest", "starts_at": "2031-06-01T13:00:00Z", **change}
    error = assert_error(api(world.a.officer).post("/api/v1/events/", payload, format="json"), 400, "invalid")
    assert field in error["fields"], error
    assert not Event.objects.filter(name="March").exists()


def test_events_filter_by_kind_and_hide_other_teams(world, api):
    protest = event_create(actor=world.a.officer, team=world.a.team, name="Protest", kind="protest",
                           starts_at=timezone.now() + timedelta(days=1))
    client = api(world.a.officer)
    assert [e["id"] for e in page(client.get("/api/v1/events/?kind=protest"))] == [protest.pk]
    assert world.b.event.pk not in {e["id"] for e in page(client.get("/api/v1/events/"))}
    assert_error(client.get(f"/api/v1/events/{world.b.event.pk}/"), 404, "not_found")
    assert_error(client.patch(f"/api/v1/events/{world.b.event.pk}/", {"name": "Mine"}, format="json"), 404)
    assert_error(client.get("/api/v1/events/?kind=riot"), 400, "invalid")


def test_only_drafters_create_events(world, api):
    payload = {"name": "March", "kind": "protest", "starts_at": "2031-06-01T13:00:00Z", "team": world.a.team.pk}
    assert_error(api(world.a.liaison).post("/api/v1/events/", payload, format="json"), 403, "forbidden")
    error = assert_error(api(world.b.officer).post("/api/v1/events/", payload, format="json"), 400)
    assert "team" in error["fields"]  # another team's id is simply not a choice


def test_event_text_is_sanitised(world, api):
    response = api(world.a.officer).post("/api/v1/events/", {
        "name": "<script>alert(1)</script>March", "kind": "protest", "starts_at": "2031-06-01T13:00:00Z",
        "location": "<img src=x onerror=alert(1)>Square", "description": "&lt;script&gt;x&lt;/script&gt;Walk",
    }, format="json")
    assert response.status_code == 201, response.content
    assert "<script" not in response.content.decode().lower() and "<img" not in response.content.decode().lower()
    assert response.json()["location"] == "Square"


# --- campaigns ----------------------------------------------------------------------------------

def test_campaigns_create_with_an_event_of_your_team_only(world, api):
    client = api(world.a.officer)
    response = client.post("/api/v1/campaigns/", {"name": "Derby week", "event": world.a.event.pk}, format="json")
    assert response.status_code == 201, response.content
    assert {"name", "event", "team"} <= set(response.json())
    assert response.json()["event"] == world.a.event.pk and response.json()["team"] == world.a.team.pk
    standing = client.post("/api/v1/campaigns/", {"name": "Standing", "event": None}, format="json")
    assert standing.status_code == 201 and standing.json()["event"] is None
    error = assert_error(client.post("/api/v1/campaigns/", {"name": "X", "event": world.b.event.pk},
                                     format="json"), 400)
    assert "event" in error["fields"]
    assert_error(client.get(f"/api/v1/campaigns/{world.b.campaign.pk}/"), 404, "not_found")
    ids = {c["id"] for c in page(client.get(f"/api/v1/campaigns/?event={world.a.event.pk}"))}
    assert ids == {world.a.campaign.pk, response.json()["id"]}


# --- segments -----------------------------------------------------------------------------------

def test_segments_round_trip(world, api):
    client = api(world.a.officer)
    response = client.post("/api/v1/segments/", {
        "name": "Arabic-speaking visitors", "languages": ["AR", "en"], "channels": ["telegram", "sms"],
        "areas": ["Old Town"], "needs": ["easy_read"]}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert {"name", "languages", "channels", "areas", "needs"} <= set(data)
    assert (data["languages"], data["channels"], data["areas"], data["needs"]) == (
        ["ar", "en"], ["telegram", "sms"], ["Old Town"], ["easy_read"])
    patched = client.patch(f"/api/v1/segments/{data['id']}/", {"areas": ["Old Town", "Harbour"]}, format="json")
    assert patched.status_code == 200 and patched.json()["areas"] == ["Old Town", "Harbour"]
    assert patched.json()["languages"] == ["ar", "en"]


@pytest.mark.parametrize("change,field", [
    ({"languages": ["english"]}, "languages"),
    ({"languages": "ar"}, "languages"),
    ({"channels": ["myspace"]}, "channels"),
    ({"needs": ["telepathy"]}, "needs"),
    ({"name": ""}, "name"),
    ({"areas": [["nested"]]}, "areas"),
])
def test_invalid_segments_are_400(world, api, change, field):
    payload = {"name": "Visitors", **change}
    error = assert_error(api(world.a.officer).post("/api/v1/segments/", payload, format="json"), 400)
    assert field in error["fields"], error


def test_duplicate_segment_name_is_400(world, api):
    error = assert_error(api(world.a.officer).post("/api/v1/segments/", {"name": world.a.segment.name},
                                                   format="json"), 400)
    assert "name" in error["fields"]


def test_renaming_a_segment_to_a_taken_name_is_400(world, api):
    other = segment_create(actor=world.a.officer, team=world.a.team, name="Residents")
    error = assert_error(api(world.a.officer).patch(f"/api/v1/segments/{other.pk}/",
                                                    {"name": world.a.segment.name}, format="json"), 400)
    assert "name" in error["fields"]


def test_another_teams_segment_is_404(world, api):
    client = api(world.a.officer)
    assert_error(client.get(f"/api/v1/segments/{world.b.segment.pk}/"), 404, "not_found")
    assert_error(client.patch(f"/api/v1/segments/{world.b.segment.pk}/", {"name": "Mine"}, format="json"), 404)
    assert world.b.segment.pk not in {s["id"] for s in page(client.get("/api/v1/segments/"))}


# --- channels and their secrets -------------------------------------------------------------------

SECRET = "s3cr3t-ACCESS-token-value"  # noqa: S105


def _everything_the_api_says(client, channel_id: int) -> str:
    parts = [client.get("/api/v1/channels/").content, client.get(f"/api/v1/channels/{channel_id}/").content,
             client.get("/api/v1/channels/?kind=mastodon").content]
    return b" ".join(parts).decode()


def test_channel_secrets_are_write_only(world, api):
    admin = api(world.a.admin)
    response = admin.post("/api/v1/channels/", {
        "kind": "mastodon", "name": "Force Mastodon", "team": world.a.team.pk,
        "config": {"instance_url": "https://social.example", "access_token": SECRET}}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert {"kind", "name", "team", "config"} <= set(data)
    assert data["config"] == {"instance_url": "https://social.example"}
    assert SECRET not in response.content.decode()
    assert "access_token" in data["secrets_set"]
    # Nowhere: not in reads, not after an update, not in the audit trail, for anyone.
    patched = admin.patch(f"/api/v1/channels/{data['id']}/", {"config": {"access_token": SECRET + "2",
                                                                         "visibility": "public"}}, format="json")
    assert patched.status_code == 200, patched.content
    assert SECRET not in patched.content.decode()
    for user in (world.a.admin, world.a.officer, world.a.supervisor):
        assert SECRET not in _everything_the_api_says(api(user), data["id"])
    assert SECRET not in json.dumps(list(AuditEvent.objects.values_list("summary", flat=True)))
    for existing in ("tok-A", "sms-secret"):  # the world's own channel secrets
        assert existing not in _everything_the_api_says(admin, data["id"])


def test_only_admins_add_channels(world, api):
    payload = {"kind": "telegram", "name": "TG", "team": world.a.team.pk, "config": {"chat_id": "1"}}
    for role in ("officer", "supervisor", "liaison"):
        assert_error(api(world.a.users[role]).post("/api/v1/channels/", payload, format="json"), 403, "forbidden")


@pytest.mark.parametrize("change,field", [
    ({"kind": "myspace"}, "kind"),
    ({"name": ""}, "name"),
    ({"config": "token=abc"}, "config"),
    ({"name": "Public A"}, "name"),  # taken
])
def test_invalid_channels_are_400(world, api, change, field):
    payload = {"kind": "telegram", "name": "TG", "team": world.a.team.pk, "config": {}, **change}
    error = assert_error(api(world.a.admin).post("/api/v1/channels/", payload, format="json"), 400)
    assert field in error["fields"], error


def test_renaming_a_channel_to_a_taken_name_is_400(world, api):
    error = assert_error(api(world.a.admin).patch(f"/api/v1/channels/{world.a.sms.pk}/",
                                                  {"name": world.a.public.name}, format="json"), 400)
    assert "name" in error["fields"]


def test_an_admin_of_one_team_need_not_name_it(world, api):
    response = api(world.a.admin).post("/api/v1/channels/", {"kind": "telegram", "name": "TG",
                                                             "config": {"chat_id": "1"}}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["team"] == world.a.team.pk


def test_channels_filter_by_kind_and_hide_other_teams(world, api):
    client = api(world.a.officer)
    assert [c["id"] for c in page(client.get("/api/v1/channels/?kind=sms"))] == [world.a.sms.pk]
    assert_error(client.get(f"/api/v1/channels/{world.b.public.pk}/"), 404, "not_found")
    assert world.b.public.pk not in {c["id"] for c in page(client.get("/api/v1/channels/"))}


# --- deliveries ---------------------------------------------------------------------------------

def _send_all(outcome: str, **kwargs) -> None:
    for delivery_id, token, _urgent in publishing.deliveries_claim_due():
        permit = publishing.delivery_begin(delivery_id=delivery_id, token=token)
        assert permit is not None
        publishing.delivery_finish(permit=permit, token=token, outcome=outcome, **kwargs)


def test_deliveries_show_what_happened(world, api):
    message = make_approved(world.a, channels=[world.a.public, world.a.mastodon])
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    Delivery.objects.filter(channel=world.a.mastodon).update(attempts=5)  # the next failure is final
    for delivery_id, token, _urgent in publishing.deliveries_claim_due():
        permit = publishing.delivery_begin(delivery_id=delivery_id, token=token)
        if permit.delivery.channel_id == world.a.public.pk:
            publishing.delivery_finish(permit=permit, token=token, outcome="sent", external_id="post-1",
                                       external_url="https://news.example/1")
        else:
            publishing.delivery_finish(permit=permit, token=token, outcome="failed", error="401 Unauthorized")
    rows = api(world.a.officer).get(f"/api/v1/messages/{message.pk}/deliveries/").json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    by_channel = {r["channel"]: r for r in rows}
    assert set(by_channel) == {world.a.public.pk, world.a.mastodon.pk}
    for row in rows:
        assert {"channel", "status", "attempts", "external_id", "external_url", "last_error"} <= set(row)
        assert row["status"] in DELIVERY_STATUSES
    sent, failed = by_channel[world.a.public.pk], by_channel[world.a.mastodon.pk]
    assert (sent["status"], sent["attempts"], sent["external_id"], sent["external_url"], sent["last_error"]) == (
        "sent", 1, "post-1", "https://news.example/1", "")
    assert (failed["status"], failed["attempts"], failed["last_error"]) == ("failed", 6, "401 Unauthorized")


def test_deliveries_of_an_edited_message_are_skipped(world, api):
    message = make_approved(world.a)
    publishing.message_schedule(actor=world.a.officer, message=message,
                                scheduled_at=timezone.now() + timedelta(hours=1))
    api(world.a.officer).patch(f"/api/v1/messages/{message.pk}/", {"body": message.body + " Thanks."},
                               format="json")
    rows = api(world.a.officer).get(f"/api/v1/messages/{message.pk}/deliveries/").json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    assert [r["status"] for r in rows] == ["skipped"]


# --- the checker --------------------------------------------------------------------------------

def test_checks_return_findings_in_the_contract_shape(world, api):
    client = api(world.a.officer)
    body = " ".join(["Please avoid Station Road tonight and use the train."] * 8)  # 423 characters
    response = client.post("/api/v1/checks/", {"body": body, "channels": ["x", "mastodon"], "language": "en"},
                           format="json")
    assert response.status_code == 200, response.content
    findings = response.json()
    assert isinstance(findings, list) and findings
    for finding in findings:
        assert set(finding) == {"code", "severity", "message", "span"}, finding
        assert finding["severity"] in ("error", "warning")
        assert isinstance(finding["message"], str) and finding["message"]
        span = finding["span"]
        assert span is None or (len(span) == 2 and all(isinstance(i, int) for i in span) and span[0] <= span[1])
    x = [f for f in findings if f["code"] == "length.x"]
    assert len(x) == 1 and x[0]["severity"] == "error"
    start, end = x[0]["span"]
    assert 0 < start < end == len(body)  # from where it stops fitting to the end
    assert not [f for f in findings if f["code"] == "length.mastodon"]


def test_a_clean_message_has_no_errors(world, api):
    response = api(world.a.officer).post("/api/v1/checks/", {
        "body": "Going to the match? Please use the train and allow extra time. #DerbyDay",
        "channels": ["x"], "language": "en", "hashtags": ["DerbyDay"]}, format="json")
    assert response.status_code == 200
    assert [f for f in response.json() if f["severity"] == "error"] == []


@pytest.mark.parametrize("payload,field", [
    ({"channels": ["x"]}, "body"),
    ({"body": "Hi", "channels": ["myspace"]}, "channels"),
    ({"body": "Hi", "channels": "x"}, "channels"),
    ({"body": "x" * 20_001, "channels": ["x"]}, "body"),
    ({"body": "Hi", "language": "a-very-long-code"}, "language"),
])
def test_bad_check_requests_are_400(world, api, payload, field):
    error = assert_error(api(world.a.officer).post("/api/v1/checks/", payload, format="json"), 400, "invalid")
    assert field in error["fields"]


def test_checks_need_a_sign_in_and_your_own_team(world, api):
    assert_error(APIClient().post("/api/v1/checks/", {"body": "Hi"}, format="json"), 401)
    assert_error(api(world.a.officer).post("/api/v1/checks/", {"body": "Hi", "team": world.b.team.pk},
                                           format="json"), 404)


# --- the publishing pause -------------------------------------------------------------------------

def test_pause_and_resume_are_for_supervisors_and_audited(world, api):
    team = world.a.team.pk
    for role in ("officer", "liaison", "admin"):
        assert_error(api(world.a.users[role]).post("/api/v1/publishing/pause/",
                                                   {"reason": "Incident", "team": team}, format="json"), 403)
    assert_error(api(world.b.supervisor).post("/api/v1/publishing/pause/", {"reason": "Incident", "team": team},
                                              format="json"), 404)
    supervisor = api(world.a.supervisor)
    paused = supervisor.post("/api/v1/publishing/pause/", {"reason": "Major incident", "team": team},
                             format="json")
    assert paused.status_code == 201, paused.content
    assert paused.json()["paused"] is True
    event = AuditEvent.objects.get(verb="publishing.paused")
    assert event.actor == world.a.supervisor and event.summary["reason"] == "Major incident"

    # While paused, nothing of this team is claimed.
    message = make_approved(world.a)
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    assert publishing.deliveries_claim_due() == []

    for role in ("officer", "liaison", "admin"):
        assert_error(api(world.a.users[role]).post("/api/v1/publishing/resume/",
                                                   {"reason": "Over", "team": team}, format="json"), 403)
    resumed = supervisor.post("/api/v1/publishing/resume/", {"reason": "Stood down", "team": team}, format="json")
    assert resumed.status_code == 200, resumed.content
    assert resumed.json()["paused"] is False
    event = AuditEvent.objects.get(verb="publishing.resumed")
    assert event.actor == world.a.supervisor and event.summary["reason"] == "Stood down"
    assert len(publishing.deliveries_claim_due()) == 1
    assert_error(supervisor.post("/api/v1/publishing/resume/", {"reason": "Again", "team": team},
                                 format="json"), 409, "wrong_state")


def test_a_pause_needs_a_reason(world, api):
    error = assert_error(api(world.a.supervisor).post("/api/v1/publishing/pause/", {"team": world.a.team.pk},
                                                      format="json"), 400, "invalid")
    assert "reason" in error["fields"]


def test_pausing_every_team_needs_a_force_level_supervisor(world, api):
    assert_error(api(world.a.supervisor).post("/api/v1/publishing/pause/", {"reason": "Everything"},
                                              format="json"), 403)
    chief = member(world.force, Role.SUPERVISOR, email="chief@engage.test")
    response = api(chief).post("/api/v1/publishing/pause/", {"reason": "Everything"}, format="json")
    assert response.status_code == 201, response.content
    message = make_approved(world.b)
    publishing.message_schedule(actor=world.b.officer, message=message, scheduled_at=None)
    assert publishing.deliveries_claim_due() == []


# --- query counts on the list endpoints ---------------------------------------------------------

@pytest.mark.parametrize("path,bound", [
    ("/api/v1/events/", 8), ("/api/v1/segments/", 8), ("/api/v1/channels/", 8), ("/api/v1/campaigns/", 8)])
def test_list_query_counts_are_constant(world, django_assert_max_num_queries, path, bound):
    client = token_client(world.a.officer)
    small = count_queries(client, path)
    for i in range(12):
        event = event_create(actor=world.a.officer, team=world.a.team, name=f"Event {i}", kind="planned",
                             starts_at=timezone.now() + timedelta(days=i + 1))
        segment_create(actor=world.a.officer, team=world.a.team, name=f"Segment {i}", languages=["en"],
                       channels=["sms"])
        from campaigns.services.channels import channel_create
        from campaigns.services.events import campaign_create

        channel_create(actor=world.a.admin, team=world.a.team, kind="webhook", name=f"Partner {i}",
                       config={"url": "https://partner.example/hook", "signing_secret": "x"})
        campaign_create(actor=world.a.officer, team=world.a.team, name=f"Campaign {i}", event=event)
    large = count_queries(client, path)
    assert len(page(client.get(path))) > 12
    assert large == small, f"{path}: {small} queries with few rows, {large} with many"
    with django_assert_max_num_queries(bound):
        client.get(path)


def test_deliveries_list_query_count_is_constant(world, django_assert_max_num_queries):
    from campaigns.services import workflow
    from campaigns.services.messages import message_create, variant_add

    def scheduled(channels, languages):
        message = message_create(actor=world.a.officer, campaign=world.a.campaign, body="Use the train. #DerbyDay",
                                 channels=channels, hashtags=["DerbyDay"])
        for language in languages:
            variant_add(actor=world.a.officer, message=message, language=language, body="Hello #DerbyDay")
        message = workflow.message_submit(actor=world.a.officer, message=message)
        message = workflow.message_approve(actor=world.a.supervisor, message=message)
        return publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)

    few = scheduled([world.a.public], ["ar"])
    many = scheduled([world.a.public, world.a.mastodon], ["ar", "fr", "pl"])
    assert (Delivery.objects.filter(message=few).count(), Delivery.objects.filter(message=many).count()) == (2, 8)
    _send_all("sent", external_id="x")
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    client = token_client(world.a.officer)
    small = count_queries(client, f"/api/v1/messages/{few.pk}/deliveries/")
    large = count_queries(client, f"/api/v1/messages/{many.pk}/deliveries/")
    assert large == small
    with django_assert_max_num_queries(12):
        client.get(f"/api/v1/messages/{many.pk}/deliveries/")
