"""The replies API: filters, order, masking, visibility, audited reveals, edits, bulk, rights."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, Membership, Notification
from accounts.services import team_update_settings
from campaigns.models import Delivery
from engage.models import ClassificationCorrection, Reply, ReplyNote
from tests.engage.inbound_helpers import make_reply
from tests.factories import make_approved

pytestmark = pytest.mark.django_db

URL = "/api/v1/replies/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def inbox(world):
    """Five replies in team A (one urgent, one old question with a phone number) and one in team B."""
    now = timezone.now()
    message = make_approved(world.a, channels=[world.a.mastodon])
    Delivery.objects.create(message=message, channel=world.a.mastodon, idempotency_key="d-1", due_at=now,
                            status="sent", external_id="9001")
    message.segments.add(world.a.segment)
    replies = {
        "old_question": make_reply(world.a, text="Where is gate B? Call me on 07700 900123",
                                   received_at=now - timedelta(hours=3), channel=world.a.sms, author="+447700900123"),
        "praise": make_reply(world.a, text="Thank you, brilliant work today!", received_at=now - timedelta(hours=2),
                             channel=world.a.mastodon, author="@fan@example.social"),
        "urgent": make_reply(world.a, text="Someone is injured and bleeding near the stand", author="@witness",
                             received_at=now - timedelta(minutes=30), channel=world.a.mastodon),
        "complaint": make_reply(world.a, text="This is disgraceful. Nobody came to help and we waited for hours, "
                                     "terrible service.",
                                received_at=now - timedelta(hours=1), author="@angry"),
        "linked": make_reply(world.a, text="Is the road closed?", received_at=now - timedelta(minutes=10),
                             channel=world.a.mastodon, author="@asker", process=False),
        "other_team": make_reply(world.b, text="Where do I park?", author="@b-person"),
    }
    linked = replies["linked"]
    Reply.objects.filter(pk=linked.pk).update(in_reply_to="9001")
    from engage.inbound.processing import reply_process

    reply_process(reply_id=linked.pk)
    replies["linked"].refresh_from_db()
    return replies


def test_the_default_order_is_urgent_first_then_oldest(world, api, inbox):
    got = ids(api(world.a.liaison).get(URL))
    r = inbox
    assert got == [r["urgent"].pk, r["old_question"].pk, r["praise"].pk, r["complaint"].pk, r["linked"].pk]
    newest = ids(api(world.a.liaison).get(URL, {"order": "newest"}))
    assert newest[0] == r["linked"].pk


@pytest.mark.parametrize("params, expected", [
    ({"urgent": "true"}, ["urgent"]),
    ({"urgent": "false", "category": "question"}, ["old_question", "linked"]),
    ({"category": "praise"}, ["praise"]),
    ({"sentiment": "negative"}, ["urgent", "complaint"]),
    ({"source": "web"}, ["complaint"]),
    ({"language": "en", "status": "new,closed"}, ["urgent", "old_question", "praise", "complaint", "linked"]),
    ({"status": "assigned"}, []),
    ({"assignee": "none"}, ["urgent", "old_question", "praise", "complaint", "linked"]),
])
def test_filters(world, api, inbox, params, expected):
    assert ids(api(world.a.liaison).get(URL, params)) == [inbox[name].pk for name in expected]


def test_filters_through_what_the_reply_answers(world, api, inbox):
    linked = inbox["linked"]
    assert linked.message_id is not None
    client = api(world.a.liaison)
    assert ids(client.get(URL, {"event": world.a.event.pk})) == [linked.pk]
    assert ids(client.get(URL, {"campaign": world.a.campaign.pk})) == [linked.pk]
    assert ids(client.get(URL, {"segment": world.a.segment.pk})) == [linked.pk]
    assert ids(client.get(URL, {"channel": world.a.sms.pk})) == [inbox["old_question"].pk]
    body = client.get(f"{URL}{linked.pk}/").json()
    assert body["event"] == world.a.event.pk and body["campaign"] == world.a.campaign.pk


def test_bad_filter_values_are_400_not_500(world, api, inbox):
    client = api(world.a.liaison)
    for params in ({"event": "abc"}, {"status": "lost"}, {"category": "nope"}, {"since": "yesterday"},
                   {"assignee": "x"}):
        response = client.get(URL, params)
        assert response.status_code == 400, params
        assert response.json()["error"]["code"] == "invalid"


def test_overdue_replies_are_flagged_and_filterable(world, api, inbox):
    client = api(world.a.liaison)
    rows = {row["id"]: row for row in client.get(URL).json()["results"]}
    assert rows[inbox["urgent"].pk]["overdue"] is True  # 5 minutes, 30 minutes ago
    assert rows[inbox["old_question"].pk]["overdue"] is True  # 60 minutes, 3 hours ago
    assert rows[inbox["linked"].pk]["overdue"] is False
    assert ids(client.get(URL, {"overdue": "true"})) == [inbox["urgent"].pk, inbox["old_question"].pk]


def test_lists_mask_personal_data(world, api, inbox):
    rows = {row["id"]: row for row in api(world.a.liaison).get(URL).json()["results"]}
    question = rows[inbox["old_question"].pk]
    assert "07700 900123" not in question["text"] and "[phone]" in question["text"]
    assert question["author_handle"] == "+4••••" and question["author"].startswith("Person ")
    assert "author_name" not in question and "raw_text" not in question
    assert not AuditEvent.objects.filter(verb="reply.personal_data_viewed").exists()


def test_opening_personal_details_is_audited_and_needs_the_right(world, api, inbox):
    reply = inbox["old_question"]
    plain = api(world.a.liaison).get(f"{URL}{reply.pk}/").json()
    assert plain["personal_data_revealed"] is False and plain["raw_text"] is None
    revealed = api(world.a.liaison).get(f"{URL}{reply.pk}/", {"reveal": "1"})
    assert revealed.status_code == 200
    body = revealed.json()
    assert body["author_handle"] == "+447700900123" and body["author_name"] == "Jane Doe"
    assert "07700 900123" in body["text"] and body["personal_data_revealed"] is True
    event = AuditEvent.objects.get(verb="reply.personal_data_viewed")
    assert (event.actor_id, event.target_id, event.team_id) == (world.a.liaison.pk, str(reply.pk), world.a.team.pk)
    # An intelligence liaison who is an officer sees the restricted queue but not personal details.
    Membership.objects.filter(user=world.a.officer, team=world.a.team).update(intelligence_liaison=True)
    Reply.objects.filter(pk=reply.pk).update(restricted=True)
    officer = api(world.a.officer.__class__.objects.get(pk=world.a.officer.pk))  # fresh permission cache
    assert officer.get(f"{URL}{reply.pk}/").status_code == 200
    assert officer.get(f"{URL}{reply.pk}/", {"reveal": "1"}).status_code == 403
    assert AuditEvent.objects.filter(verb="reply.personal_data_viewed").count() == 1


def test_visibility_by_team_and_role(world, api, inbox):
    other = inbox["other_team"]
    assert other.pk not in ids(api(world.a.liaison).get(URL))
    assert api(world.a.liaison).get(f"{URL}{other.pk}/").status_code == 404
    assert api(world.a.liaison).patch(f"{URL}{other.pk}/", {"status": "closed"}, format="json").status_code == 404
    assert ids(api(world.a.officer).get(URL)) == []  # officers do not triage
    assert api(world.a.officer).get(f"{URL}{inbox['praise'].pk}/").status_code == 404
    assert len(ids(api(world.a.supervisor).get(URL))) == 5
    assert len(ids(api(world.a.admin).get(URL))) == 5
    assert ids(api(world.outsider).get(URL)) == []
    assert api().get(URL).status_code in (401, 403)


def test_the_restricted_queue(world, api):
    team_update_settings(team=world.a.team, actor=world.a.admin, changes={"restricted_queue": True})
    tip = make_reply(world.a, text="I saw a suspicious man with a van near the stadium, the number plate is AB12 CDE")
    question = make_reply(world.a, text="What time does it start?")
    assert tip.category == "information" and tip.restricted is True
    assert question.restricted is False
    assert ids(api(world.a.liaison).get(URL)) == [question.pk]
    assert api(world.a.liaison).get(f"{URL}{tip.pk}/").status_code == 404
    Membership.objects.filter(user=world.a.liaison, team=world.a.team).update(intelligence_liaison=True)
    liaison = world.a.liaison.__class__.objects.get(pk=world.a.liaison.pk)  # fresh permission cache
    assert ids(api(liaison).get(URL, {"restricted": "true"})) == [tip.pk]
    assert api(liaison).get(f"{URL}{tip.pk}/").status_code == 200


def test_patch_status_assignee_and_correction(world, api, inbox):
    reply = inbox["complaint"]
    client = api(world.a.liaison)
    response = client.patch(f"{URL}{reply.pk}/", {"assignee": world.a.supervisor.pk}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "assigned"
    assert AuditEvent.objects.filter(verb="reply.reassigned", target_id=str(reply.pk)).count() == 1
    assert Notification.objects.filter(user=world.a.supervisor, kind="reply_assigned").exists()
    corrected = client.patch(f"{URL}{reply.pk}/", {"category": "question", "sentiment": "neutral"}, format="json")
    assert corrected.status_code == 200 and corrected.json()["category"] == "question"
    fields = set(ClassificationCorrection.objects.filter(reply=reply).values_list("field", "old_value", "new_value"))
    assert fields == {("category", "complaint", "question"), ("sentiment", "negative", "neutral")}
    closed = client.patch(f"{URL}{reply.pk}/", {"status": "closed"}, format="json").json()
    assert closed["status"] == "closed" and closed["closed_at"]
    assert client.patch(f"{URL}{reply.pk}/", {"assignee": world.a.officer.pk}, format="json").status_code == 400
    assert client.patch(f"{URL}{reply.pk}/", {"assignee": world.b.liaison.pk}, format="json").status_code == 400
    assert client.patch(f"{URL}{reply.pk}/", {"status": "gone"}, format="json").status_code == 400
    assert client.patch(f"{URL}{reply.pk}/", {"legal_hold": True}, format="json").status_code == 403
    assert api(world.a.admin).patch(f"{URL}{reply.pk}/", {"legal_hold": True}, format="json").json()["legal_hold"]
    assert api(world.a.admin).patch(f"{URL}{reply.pk}/", {"status": "new"}, format="json").status_code == 403


def test_notes_escalation_and_bulk(world, api, inbox):
    client = api(world.a.liaison)
    reply = inbox["praise"]
    note = client.post(f"{URL}{reply.pk}/notes/", {"body": "Shared with the <b>match</b> commander"}, format="json")
    assert note.status_code == 201 and note.json()["body"] == "Shared with the match commander"
    escalated = client.post(f"{URL}{reply.pk}/escalate/", {"reason": "Needs a senior answer"}, format="json")
    assert escalated.status_code == 200 and escalated.json()["status"] == "escalated"
    assert Notification.objects.filter(user=world.a.supervisor, kind="reply_escalated").exists()
    assert Notification.objects.filter(user=world.a.supervisor2, kind="reply_escalated").exists()
    assert ReplyNote.objects.filter(reply=reply).count() == 2
    targets = [inbox["old_question"].pk, inbox["complaint"].pk]
    bulk = client.post(f"{URL}bulk/", {"ids": targets, "action": "assign", "assignee": "me"}, format="json")
    assert bulk.status_code == 200 and bulk.json() == {"updated": 2}
    assert set(Reply.objects.filter(pk__in=targets).values_list("assignee_id", "status")) == {
        (world.a.liaison.pk, "assigned")}
    assert AuditEvent.objects.filter(verb="reply.reassigned").count() == 2
    closing = client.post(f"{URL}bulk/", {"ids": targets, "action": "close"}, format="json")
    assert closing.json() == {"updated": 2}
    other = client.post(f"{URL}bulk/", {"ids": [inbox["other_team"].pk], "action": "close"}, format="json")
    assert other.status_code == 404
    assert Reply.objects.get(pk=inbox["other_team"].pk).status == "new"


def test_export_is_masked_and_audited(world, api, inbox):
    response = api(world.a.liaison).get(f"{URL}export/", {"category": "question"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    content = response.content.decode()
    assert "[phone]" in content and "07700 900123" not in content and "+447700900123" not in content
    event = AuditEvent.objects.get(verb="reply.exported")
    assert event.summary["rows"] == 2 and event.summary["filters"]["category"] == "question"


def test_subject_access_and_erasure_are_for_administrators(world, api, inbox):
    make_reply(world.a, text="Second message from the same number", author="07700 900123")
    admin = api(world.a.admin)
    assert api(world.a.liaison).get(f"{URL}subject-access/", {"handle": "+447700900123"}).status_code == 403
    export = admin.get(f"{URL}subject-access/", {"handle": "+44 7700 900123"})
    assert export.status_code == 200
    body = export.json()
    assert body["count"] == 2 and {r["author_handle"] for r in body["replies"]} == {"+447700900123", "07700 900123"}
    assert AuditEvent.objects.get(verb="reply.subject_access_exported").summary["count"] == 2
    assert api(world.a.liaison).post(f"{URL}erase/", {"handle": "+447700900123"}, format="json").status_code == 403
    erased = admin.post(f"{URL}erase/", {"handle": "07700900123", "reason": "SAR-1"}, format="json")
    assert erased.status_code == 200 and erased.json() == {"erased": 2, "held": 0, "list_entries": 0}
    assert not Reply.objects.filter(author_key="+447700900123").exists()
    assert AuditEvent.objects.filter(verb="reply.erased").count() == 1
    # Another team's admin finds nothing of team A's.
    assert api(world.b.admin).get(f"{URL}subject-access/", {"handle": "@jane"}).json()["count"] == 0


def test_the_list_query_count_does_not_grow_with_the_page(world, api, inbox, django_assert_max_num_queries):
    def fresh_client():  # a user object without cached memberships, as in a real request
        return api(world.a.liaison.__class__.objects.get(pk=world.a.liaison.pk))

    fresh_client().get(URL)  # warm up (content types)
    # memberships, team tree, (PostgreSQL: the planner's estimate), count, page; however many rows.
    client = fresh_client()
    with django_assert_max_num_queries(5):
        small = client.get(URL)
    for i in range(40):
        make_reply(world.a, text=f"Question number {i}?", channel=world.a.mastodon, author=f"@p{i}",
                   message=inbox["linked"].message)
    client = fresh_client()
    with django_assert_max_num_queries(5):
        big = client.get(URL)
    assert len(small.json()["results"]) == 5 and len(big.json()["results"]) == 45
    client = fresh_client()
    with django_assert_max_num_queries(6):  # one more: the event's message ids
        assert client.get(URL, {"event": world.a.event.pk, "urgent": "false"}).status_code == 200


# --- trust metrics --------------------------------------------------------------------------------

def test_trust_metrics_match_a_hand_computed_case(world, api):
    from engage.inbound import triage

    base = timezone.now() - timedelta(days=1)
    answered = []
    for i, (seconds, text) in enumerate([(60, "Where is gate A?"), (120, "Thank you, brilliant work today!"),
                                         (300, "Where is the bus stop?"), (600, "Is the road closed?")]):
        reply = make_reply(world.a, text=text, channel=world.a.mastodon, author=f"@m{i}",
                           received_at=base + timedelta(minutes=i))
        Reply.objects.filter(pk=reply.pk).update(first_response_at=reply.received_at + timedelta(seconds=seconds))
        answered.append(reply)
    make_reply(world.a, text="Where do I park?", channel=world.a.sms, received_at=base)  # unanswered
    make_reply(world.a, text="Earn $500 a day with crypto, click here bit.ly/xyz", received_at=base)  # spam
    make_reply(world.b, text="Team B: where is the exit?", received_at=base)  # not ours
    triage.reply_update(actor=world.a.liaison, reply=answered[0], category="rumour")

    body = api(world.a.supervisor).get("/api/v1/metrics/trust/").json()
    # Praise and spam need no answer: the rumour (corrected), the two questions answered and the one
    # unanswered question do. Four were answered; three of the four needing one.
    assert body["replies"] == 6 and body["answered"] == 4 and body["needing_answer"] == 4
    assert body["answered_needing"] == 3 and body["response_rate"] == 0.75
    # Times of the answered replies that needed one, sorted: 60, 300, 600. Median 300; p90 at
    # 0.9 * (3 - 1) = 1.8 -> 300 + 0.8 * 300 = 540.
    assert body["time_to_first_response"] == {"median_seconds": 300.0, "p90_seconds": 540.0, "count": 3}
    assert body["by_category"] == {"praise": 1, "question": 3, "rumour": 1, "spam": 1}
    assert sum(body["sentiment"].values()) == 6
    assert body["classification"]["processed"] == 6 and body["classification"]["corrected"] == 1
    assert body["classification"]["accuracy"] == round(1 - 1 / 6, 4)
    # Four answered within the deadline; the unanswered question is past its deadline: a miss.
    assert body["sla"]["measured"] == 5 and body["sla"]["met"] == 4 and body["sla"]["missed"] == 1

    by_channel = api(world.a.supervisor).get("/api/v1/metrics/trust/", {"channel": world.a.sms.pk}).json()
    assert by_channel["replies"] == 1 and by_channel["response_rate"] == 0.0
    assert by_channel["time_to_first_response"]["median_seconds"] is None
    later = api(world.a.supervisor).get("/api/v1/metrics/trust/",
                                        {"since": (base + timedelta(minutes=2)).isoformat()}).json()
    assert later["answered"] == 2 and later["time_to_first_response"]["median_seconds"] == 450.0
    assert later["time_to_first_response"]["p90_seconds"] == 570.0  # 300 + 0.9 * 300
    assert api(world.b.supervisor).get("/api/v1/metrics/trust/").json()["replies"] == 1
    assert api(world.a.supervisor).get("/api/v1/metrics/trust/", {"event": world.a.event.pk}).json()["replies"] == 0
    assert api(world.a.supervisor).get("/api/v1/metrics/trust/", {"since": "soon"}).status_code == 400
    assert api(world.outsider).get("/api/v1/metrics/trust/").json()["replies"] == 0


def test_long_lists_report_an_estimated_count_on_postgresql(world, api):
    from django.db import connection

    from engage.models import Reply as ReplyModel

    now = timezone.now()
    ReplyModel.objects.bulk_create([
        ReplyModel(team=world.a.team, source="web", provider_id=f"bulk-{i}", text="Where is gate B?",
                   text_masked="Where is gate B?", category="question", language="en", urgent=(i % 300 == 0),
                   received_at=now - timedelta(seconds=i), processed_at=now)
        for i in range(1500)])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE engage_reply")
    client = api(world.a.liaison)
    body = client.get(URL).json()
    urgent = client.get(URL, {"urgent": "true"}).json()
    assert urgent["count"] == 5 and urgent["count_exact"] is True  # short lists are counted exactly
    if connection.vendor == "postgresql":
        assert body["count_exact"] is False and 1000 < body["count"] < 3000
    else:
        assert body["count_exact"] is True and body["count"] == 1500
    assert len(body["results"]) == 50 and body["next"]
