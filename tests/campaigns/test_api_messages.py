"""/api/v1/messages/: the contract in API.md, checked field by field and status by status."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from campaigns.models import Approval, Delivery, DeliveryStatus, Message, MessageStatus
from campaigns.services import messages as message_services
from campaigns.services.content import content_hash
from tests.factories import GOOD_BODY, make_approved, make_message, make_submitted

pytestmark = pytest.mark.django_db

MESSAGES = "/api/v1/messages/"
CONTRACT_FIELDS = {"campaign", "body", "urgency", "channels", "segments", "status", "author", "variants", "media",
                   "scheduled_at", "content_hash"}
AR_BODY = "يرجى استخدام القطار والسماح بوقت إضافي. #DerbyDay"


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def url(message, action: str = "") -> str:
    pk = message if isinstance(message, int) else message.pk
    return f"{MESSAGES}{pk}/{action + '/' if action else ''}"


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.utcoffset() is not None, f"{value} has no offset"
    return parsed


def create_payload(tw, **extra) -> dict:
    return {"campaign": tw.campaign.pk, "body": GOOD_BODY, "urgency": "routine",
            "channels": [tw.public.pk, tw.mastodon.pk], "segments": [tw.segment.pk], **extra}


# --- shape ------------------------------------------------------------------------------------

def test_create_returns_the_contract_fields(world, api):
    a = world.a
    response = api(a.officer).post(MESSAGES, create_payload(
        a, variants=[{"language": "ar", "body": AR_BODY}]), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert CONTRACT_FIELDS <= set(data)
    assert data["campaign"] == a.campaign.pk
    assert data["body"] == GOOD_BODY
    assert data["urgency"] == "routine"
    assert sorted(data["channels"]) == sorted([a.public.pk, a.mastodon.pk])
    assert data["segments"] == [a.segment.pk]
    assert data["status"] == "draft"
    assert data["author"] == a.officer.pk
    assert [(v["language"], v["body"]) for v in data["variants"]] == [("ar", AR_BODY)]
    assert data["media"] == []
    assert data["scheduled_at"] is None
    message = Message.objects.get(pk=data["id"])
    assert data["content_hash"] == message.content_hash == content_hash(message)
    assert isinstance(data["id"], int)
    parse_time(data["created_at"])


def test_read_only_fields_cannot_be_written(world, api):
    a = world.a
    client = api(a.officer)
    response = client.post(MESSAGES, create_payload(a, content_hash="f" * 64, status="approved",
                                                    author=a.supervisor.pk), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["content_hash"] != "f" * 64 and data["status"] == "draft" and data["author"] == a.officer.pk
    patched = client.patch(url(data["id"]), {"content_hash": "e" * 64, "status": "published",
                                             "author": a.supervisor.pk}, format="json")
    assert patched.status_code in (200, 400), patched.content
    message = Message.objects.get(pk=data["id"])
    assert message.status == MessageStatus.DRAFT
    assert message.content_hash == data["content_hash"] == content_hash(message)
    assert message.author_id == a.officer.pk
    assert not Approval.objects.filter(message=message).exists()


def test_patch_edits_and_bumps_the_version(world, api):
    a = world.a
    message = make_message(a)
    response = api(a.officer).patch(url(message), {"body": GOOD_BODY + " Thank you.", "urgency": "priority"},
                                    format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["body"].endswith("Thank you.") and data["urgency"] == "priority"
    assert data["version"] == 2 and data["content_hash"] != message.content_hash


def test_patch_cannot_move_a_message_to_another_campaign(world, api):
    message = make_message(world.a)
    error = assert_error(api(world.a.officer).patch(url(message), {"campaign": world.a.campaign.pk},
                                                    format="json"), 400, "invalid")
    assert "campaign" in error["fields"]


def test_detail_and_list_agree(world, api):
    message = make_message(world.a)
    client = api(world.a.officer)
    detail = client.get(url(message)).json()
    listed = client.get(MESSAGES).json()["results"]
    assert [m["id"] for m in listed] == [message.pk]
    assert listed[0] == detail


# --- the workflow -------------------------------------------------------------------------------

def test_submit_approve_schedule_withdraw_through_the_api(world, api):
    a = world.a
    officer, supervisor = api(a.officer), api(a.supervisor)
    created = officer.post(MESSAGES, create_payload(a, variants=[{"language": "ar", "body": AR_BODY}]),
                           format="json").json()
    mid = created["id"]

    submitted = officer.post(url(mid, "submit"))
    assert submitted.status_code == 200 and submitted.json()["status"] == "in_review"
    assert_error(officer.post(url(mid, "submit")), 409, "wrong_state")

    approved = supervisor.post(url(mid, "approve"), {"content_hash": created["content_hash"]}, format="json")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert approved.json()["approved_hash"] == created["content_hash"]

    before = timezone.now()
    scheduled = officer.post(url(mid, "schedule"), {"scheduled_at": "2001-01-01T09:00:00+01:00"}, format="json")
    assert scheduled.status_code == 200, scheduled.content
    assert scheduled.json()["status"] == "scheduled"
    when = parse_time(scheduled.json()["scheduled_at"])
    assert before - timedelta(seconds=1) <= when <= timezone.now() + timedelta(seconds=1), "past should mean now"

    rows = officer.get(url(mid, "deliveries")).json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    # One row per (variant, channel): the original and the Arabic variant, on both channels.
    assert len(rows) == 4
    assert {(r["variant"], r["channel"]) for r in rows} == {
        (v, c) for v in (None, created["variants"][0]["id"]) for c in (a.public.pk, a.mastodon.pk)}
    for row in rows:
        assert {"channel", "status", "attempts", "external_id", "external_url", "last_error"} <= set(row)
        assert row["status"] == "pending" and row["attempts"] == 0

    assert_error(officer.post(url(mid, "withdraw"), {"reason": "Wrong date"}, format="json"), 403, "forbidden")
    withdrawn = supervisor.post(url(mid, "withdraw"), {"reason": "Wrong date"}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert set(Delivery.objects.filter(message_id=mid).values_list("status", flat=True)) == {
        DeliveryStatus.WITHDRAWN}

    history = officer.get(url(mid, "history")).json()
    verbs = [e["verb"] for e in history["events"]]
    for verb in ("message.created", "message.submitted", "message.approved", "message.scheduled",
                 "message.withdrawn"):
        assert verb in verbs
    approved_event = next(e for e in history["events"] if e["verb"] == "message.approved")
    assert approved_event["actor"] == a.supervisor.email
    parse_time(approved_event["at"])
    assert [v["version"] for v in history["versions"]] == [1, 2]
    assert history["versions"][-1]["content_hash"] == created["content_hash"]
    assert all(v["actor"] == a.officer.email for v in history["versions"])


def test_schedule_in_the_future_keeps_the_time(world, api):
    message = make_approved(world.a)
    at = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    response = api(world.a.officer).post(url(message, "schedule"), {"scheduled_at": at.isoformat()},
                                         format="json")
    assert response.status_code == 200, response.content
    assert parse_time(response.json()["scheduled_at"]) == at


def test_schedule_needs_an_approved_message(world, api):
    message = make_submitted(world.a)
    assert_error(api(world.a.officer).post(url(message, "schedule"), {}, format="json"), 409, "wrong_state")


def test_schedule_rejects_a_time_that_is_not_a_time(world, api):
    message = make_approved(world.a)
    error = assert_error(api(world.a.officer).post(url(message, "schedule"), {"scheduled_at": "tomorrow"},
                                                   format="json"), 400, "invalid")
    assert "scheduled_at" in error["fields"]


def test_author_approving_is_403(world, api):
    message = make_submitted(world.a, author=world.a.supervisor)
    error = assert_error(api(world.a.supervisor).post(url(message, "approve"), {}, format="json"), 403)
    assert error["code"] == "own_message"


@pytest.mark.parametrize("role", ["officer", "liaison", "admin"])
def test_non_supervisors_approving_is_403(world, api, role):
    message = make_submitted(world.a, author=world.a.supervisor2)
    assert_error(api(world.a.users[role]).post(url(message, "approve"), {}, format="json"), 403, "forbidden")


def test_approving_a_draft_is_409(world, api):
    message = make_message(world.a)
    assert_error(api(world.a.supervisor).post(url(message, "approve"), {}, format="json"), 409, "wrong_state")


def test_approving_with_a_stale_hash_is_409(world, api):
    message = make_submitted(world.a)
    error = assert_error(api(world.a.supervisor).post(url(message, "approve"), {"content_hash": "0" * 64},
                                                      format="json"), 409)
    assert error["code"] == "content_changed"
    message.refresh_from_db()
    assert message.status == MessageStatus.IN_REVIEW


def test_an_edit_after_approval_voids_it_through_the_api(world, api):
    message = make_approved(world.a)
    response = api(world.a.officer).patch(url(message), {"body": GOOD_BODY + " Updated."}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "draft" and response.json()["approved_hash"] == ""
    assert Approval.objects.get(message=message).voided_at is not None


def test_request_changes_needs_a_comment_and_is_in_the_history(world, api):
    message = make_submitted(world.a)
    supervisor = api(world.a.supervisor)
    error = assert_error(supervisor.post(url(message, "request-changes"), {}, format="json"), 400, "invalid")
    assert "comment" in error["fields"]
    response = supervisor.post(url(message, "request-changes"), {"comment": "Softer, please."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "changes_requested"
    comments = api(world.a.officer).get(url(message, "history")).json()["comments"]
    assert [(c["kind"], c["body"], c["actor"]) for c in comments] == [
        ("changes_requested", "Softer, please.", world.a.supervisor.email)]
    assert_error(supervisor.post(url(message, "request-changes"), {"comment": "Again"}, format="json"), 409)


def test_withdrawing_a_draft_is_409(world, api):
    message = make_message(world.a)
    assert_error(api(world.a.supervisor).post(url(message, "withdraw"), {}, format="json"), 409, "wrong_state")


# --- another team's messages are not there ------------------------------------------------------

@pytest.mark.parametrize("method,action,payload", [
    ("get", "", None),
    ("patch", "", {"body": "Hijacked"}),
    ("post", "submit", {}),
    ("post", "approve", {}),
    ("post", "request-changes", {"comment": "No"}),
    ("post", "schedule", {}),
    ("post", "withdraw", {}),
    ("get", "history", None),
    ("get", "deliveries", None),
])
def test_another_teams_message_is_404(world, api, method, action, payload):
    message = make_submitted(world.a)
    client = api(world.b.supervisor)
    response = getattr(client, method)(url(message, action), payload, format="json")
    assert_error(response, 404, "not_found")
    message.refresh_from_db()
    assert message.status == MessageStatus.IN_REVIEW and message.body == GOOD_BODY


def test_another_teams_campaign_and_channels_are_refused_like_unknown_ones(world, api):
    client = api(world.b.officer)
    theirs = client.post(MESSAGES, create_payload(world.b, campaign=world.a.campaign.pk, channels=[],
                                                  segments=[]), format="json")
    unknown = client.post(MESSAGES, create_payload(world.b, campaign=987654, channels=[], segments=[]),
                          format="json")
    assert assert_error(theirs, 400, "invalid") == assert_error(unknown, 400, "invalid")
    error = assert_error(client.post(MESSAGES, create_payload(world.b, channels=[world.a.public.pk]),
                                     format="json"), 400)
    assert "channels" in error["fields"]
    error = assert_error(client.post(MESSAGES, create_payload(world.b, segments=[world.a.segment.pk]),
                                     format="json"), 400)
    assert "segments" in error["fields"]
    assert not Message.objects.filter(team=world.b.team).exists()


def test_the_list_shows_only_your_teams_messages(world, api):
    mine, theirs = make_message(world.a), make_message(world.b)
    ids = [m["id"] for m in api(world.a.officer).get(MESSAGES).json()["results"]]
    assert mine.pk in ids and theirs.pk not in ids


def test_not_signed_in_is_401(world):
    assert_error(APIClient().get(MESSAGES), 401, "not_authenticated")
    assert_error(APIClient().post(MESSAGES, create_payload(world.a), format="json"), 401, "not_authenticated")


# --- pagination and filters -------------------------------------------------------------------

def test_filters_are_named_after_fields(world, api):
    a = world.a
    draft = make_message(a)
    priority = make_submitted(a, urgency="priority")
    other_campaign = message_services.message_create(
        actor=a.officer, campaign=_second_campaign(a), body=GOOD_BODY, channels=[a.public])
    client = api(a.officer)

    def ids(query: str) -> set[int]:
        response = client.get(MESSAGES + query)
        assert response.status_code == 200, response.content
        return {m["id"] for m in response.json()["results"]}

    assert ids("?status=draft") == {draft.pk, other_campaign.pk}
    assert ids("?status=in_review") == {priority.pk}
    assert ids("?urgency=priority") == {priority.pk}
    assert ids(f"?campaign={a.campaign.pk}") == {draft.pk, priority.pk}
    assert ids(f"?campaign={other_campaign.campaign_id}&status=draft") == {other_campaign.pk}


def _second_campaign(tw):
    from campaigns.services.events import campaign_create

    return campaign_create(actor=tw.officer, team=tw.team, name="Standing engagement", event=None)


@pytest.mark.parametrize("query", ["?status=bogus", "?urgency=loud", "?campaign=abc", "?campaign=%00",
                                   "?status=%00", "?campaign=99999999999999999999999999", "?page=abc"])
def test_bad_filter_values_are_400_or_empty_never_500(world, api, query):
    make_message(world.a)
    response = api(world.a.officer).get(MESSAGES + query)
    if response.status_code == 200:
        assert response.json()["results"] == []
    else:
        assert_error(response, response.status_code)
        assert response.status_code in (400, 404)


def test_a_page_past_the_end_is_404(world, api):
    make_message(world.a)
    assert_error(api(world.a.officer).get(MESSAGES + "?page=99"), 404, "not_found")


def _many(tw, n: int) -> None:
    for i in range(n):
        message = message_services.message_create(
            actor=tw.officer, campaign=tw.campaign, body=f"{GOOD_BODY} ({i})", channels=[tw.public, tw.mastodon],
            segments=[tw.segment], hashtags=["DerbyDay"])
        message_services.variant_add(actor=tw.officer, message=message, language="ar", body=AR_BODY,
                                     channels=[tw.mastodon])


def _token_client(user) -> APIClient:
    """Signed in by token, as a script would be: the user (and its permission cache) is loaded per request."""
    from knox.models import AuthToken

    _instance, token = AuthToken.objects.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _count_list_queries(client) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(MESSAGES)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()


def test_list_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries):
    client = _token_client(world.a.officer)
    _many(world.a, 3)
    small, data = _count_list_queries(client)
    assert data["count"] == 3
    _many(world.a, 27)
    large, data = _count_list_queries(client)
    assert data["count"] == 30 and len(data["results"]) == 30
    assert all(len(m["variants"]) == 1 and len(m["channels"]) == 2 and len(m["segments"]) == 1
               for m in data["results"])
    assert large == small, f"{small} queries for 3 messages but {large} for 30"
    # Sign-in (2), permissions (2), count, page, then one per prefetched relation (5).
    with django_assert_max_num_queries(12):
        client.get(MESSAGES)


def test_pagination_links(world, api):
    for i in range(51):
        make_message(world.a, body=f"{GOOD_BODY} {i}")
    client = api(world.a.officer)
    first = client.get(MESSAGES).json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 51 and len(first["results"]) == 50
    assert first["previous"] is None and "page=2" in first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None and second["previous"]
    assert not {m["id"] for m in first["results"]} & {m["id"] for m in second["results"]}


# --- bad input is 400, never 500 -----------------------------------------------------------------

@pytest.mark.parametrize("change,field", [
    ({"body": ""}, "body"),
    ({"body": None}, "body"),
    ({"body": {"text": "hi"}}, "body"),
    ({"body": ["hi"]}, "body"),
    ({"body": "x" * 10_001}, "body"),
    ({"body": "<p></p>"}, "body"),  # nothing left after sanitising
    ({"urgency": "critical"}, "urgency"),
    ({"urgency": 3}, "urgency"),
    ({"channels": "1"}, "channels"),
    ({"channels": ["abc"]}, "channels"),
    ({"channels": [99999999]}, "channels"),
    ({"segments": [99999999]}, "segments"),
    ({"campaign": "abc"}, "campaign"),
    ({"campaign": None}, "campaign"),
    ({"title": "t" * 201}, "title"),
    ({"language": "english-uk"}, "language"),
    ({"links": ["javascript:alert(1)"]}, "links"),
    ({"links": "https://example.org"}, "links"),
    ({"hashtags": [{"a": 1}]}, "hashtags"),
    ({"cap": ["not", "an", "object"]}, "cap"),
    ({"variants": "ar"}, "variants"),
    ({"variants": [{"language": "ar"}]}, "variants"),
    ({"variants": [{"language": "ar", "body": "x", "format": "poster"}]}, "variants"),
    ({"variants": [{"language": "ar", "body": AR_BODY}, {"language": "ar", "body": AR_BODY}]}, "language"),
    ({"instructive": "maybe"}, "instructive"),
    ({"correction_of": 99999999}, "correction_of"),
])
def test_invalid_create_is_400_with_the_field(world, api, change, field):
    payload = {**create_payload(world.a), **change}
    response = api(world.a.officer).post(MESSAGES, payload, format="json")
    error = assert_error(response, 400, None)
    assert error["code"] in ("invalid", "duplicate")
    assert field in json.dumps(error["fields"]), error
    assert not Message.objects.exists(), "a refused create left a message behind"


def test_huge_and_odd_payloads_never_give_500(world, api):
    client = api(world.a.officer)
    message = make_message(world.a)
    payloads = [
        "{not json",
        '{"body": "unterminated',
        "[]",
        '"just a string"',
        "null",
        json.dumps({"body": "x" * 2_000_000}),
        json.dumps({"body": "\u0000\u0000"}),
        json.dumps({"campaign": 2**70, "body": "Hello"}),
        json.dumps({"campaign": world.a.campaign.pk, "body": "Hi", "channels": [2**70]}),
        json.dumps({"campaign": world.a.campaign.pk, "body": "Hi", "channels": [-1]}),
        json.dumps({"campaign": world.a.campaign.pk, "body": "Hi", "variants": [[]]}),
        json.dumps({"campaign": world.a.campaign.pk, "body": "Hi", "cap": {"headline": "a" * 100_000}}),
    ]
    for raw in payloads:
        for target, method in ((MESSAGES, "post"), (url(message), "patch")):
            response = getattr(client, method)(target, data=raw, content_type="application/json")
            assert response.status_code < 500, (raw[:80], method, response.status_code, response.content[:300])
            if response.status_code >= 400:
                assert_error(response, response.status_code)
    for path in (url(99999999), url(2**70), f"{MESSAGES}abc/", f"{MESSAGES}-1/", url(99999999, "approve")):
        response = client.get(path) if not path.endswith("approve/") else client.post(path, {}, format="json")
        assert_error(response, 404, "not_found")


def test_wrong_content_type_is_415(world, api):
    response = api(world.a.officer).generic("POST", MESSAGES, "body=hello", content_type="text/plain")
    assert_error(response, 415)


# --- user text is sanitised on the way in --------------------------------------------------------

XSS = [
    "<script>alert(1)</script>Please use the train. #DerbyDay",
    "<img src=x onerror=alert(1)>Please use the train. #DerbyDay",
    "Please use the train. <svg/onload=alert(1)> #DerbyDay",
    "&lt;script&gt;alert(1)&lt;/script&gt;Please use the train. #DerbyDay",
    "<<script>script>alert(1)<</script>/script>Please use the train. #DerbyDay",
    "&#60;script&#62;alert(1)&#60;/script&#62;Please use the train. #DerbyDay",
]


def _assert_no_markup(text: str) -> None:
    lowered = text.lower()
    for bad in ("<script", "<img", "<svg", "onerror=", "onload="):
        assert bad not in lowered, f"{bad!r} in API output: {text[:300]}"


@pytest.mark.parametrize("payload", XSS)
def test_stored_text_comes_back_without_markup(world, api, payload):
    client = api(world.a.officer)
    response = client.post(MESSAGES, create_payload(
        world.a, body=payload, title=payload, variants=[{"language": "ar", "body": payload}]), format="json")
    assert response.status_code in (201, 400), response.content
    if response.status_code == 201:
        mid = response.json()["id"]
        _assert_no_markup(response.content.decode())
        _assert_no_markup(client.get(url(mid)).content.decode())
        _assert_no_markup(client.get(MESSAGES).content.decode())
        client.post(url(mid, "comments"), {"comment": payload}, format="json")
        _assert_no_markup(client.get(url(mid, "history")).content.decode())
    _assert_no_markup(" ".join(Message.objects.values_list("body", flat=True)))


def test_cap_text_is_sanitised(world, api):
    response = api(world.a.officer).post(MESSAGES, create_payload(
        world.a, cap={"headline": "<script>alert(1)</script>Road closed", "instruction": "<img src=x onerror=1>"}),
        format="json")
    assert response.status_code in (201, 400), response.content
    _assert_no_markup(response.content.decode())
    _assert_no_markup(json.dumps(list(Message.objects.values_list("cap", flat=True))))


def test_a_nul_inside_cap_is_not_a_500(world, api):
    response = api(world.a.officer).post(MESSAGES, create_payload(world.a, cap={"headline": "Road\u0000 closed"}),
                                         format="json")
    assert response.status_code in (201, 400), response.content


def test_sanitising_keeps_ordinary_text(world, api):
    body = "Roads close at 2pm & reopen at 6pm; 3 < 5 and 5 > 3. Use the train. #DerbyDay"
    response = api(world.a.officer).post(MESSAGES, create_payload(world.a, body=body), format="json")
    assert response.status_code == 201
    assert response.json()["body"] == body


def test_approve_and_history_are_audited(world, api):
    message = make_submitted(world.a)
    api(world.a.supervisor).post(url(message, "approve"), {"content_hash": message.content_hash}, format="json")
    event = AuditEvent.objects.get(verb="message.approved", target_id=str(message.pk))
    assert event.actor == world.a.supervisor
    assert event.summary["content_hash"] == message.content_hash
