"""Issue 12: an approval names the hash that was reviewed (section 1); destructive actions say what
they do and ask before doing it (section 9): withdraw, resume, and sending at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from accounts.models import AuditEvent
from campaigns import publishing
from campaigns.models import Approval, Delivery, DeliveryStatus, MessageStatus
from tests.factories import make_approved, make_submitted

pytestmark = pytest.mark.django_db

MESSAGES = "/api/v1/messages/"


def url(message, action: str) -> str:
    return f"{MESSAGES}{message.pk}/{action}/"


def page(message, action: str) -> str:
    return f"/desk/messages/{message.pk}/{action}/"


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:400])
    error = response.json()["error"]
    assert error["code"] == code, error
    return error


# --- approve: the content hash the supervisor reviewed is required ------------------------------

@pytest.mark.parametrize("body", [{}, {"content_hash": ""}, {"content_hash": "   "}])
def test_api_approve_without_the_reviewed_hash_is_400(world, api, body):
    message = make_submitted(world.a)
    error = error_of(api(world.a.supervisor).post(url(message, "approve"), body, format="json"), 400,
                     "content_hash_required")
    assert "content_hash" in error["fields"]
    message.refresh_from_db()
    assert message.status == MessageStatus.IN_REVIEW and not message.approved_hash
    assert not Approval.objects.filter(message=message).exists()


def test_api_approve_with_the_reviewed_hash_approves_and_a_stale_one_is_409(world, api):
    message = make_submitted(world.a)
    client = api(world.a.supervisor)
    error_of(client.post(url(message, "approve"), {"content_hash": "a" * 64}, format="json"), 409, "content_changed")
    response = client.post(url(message, "approve"), {"content_hash": message.content_hash}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved" and response.json()["approved_hash"] == message.content_hash


def test_api_approve_checks_permission_and_state_before_the_hash(world, api):
    message = make_submitted(world.a)
    error_of(api(world.a.liaison).post(url(message, "approve"), {}, format="json"), 403, "forbidden")
    error_of(api(world.a.officer).post(url(message, "approve"), {}, format="json"), 403, "own_message")
    approved = make_approved(world.a)
    error_of(api(world.a.supervisor2).post(url(approved, "approve"), {}, format="json"), 409, "wrong_state")


def test_page_approve_without_the_reviewed_hash_approves_nothing(world, client):
    message = make_submitted(world.a, title="Derby day: roads busy")
    client.force_login(world.a.supervisor)
    detail = client.get(f"/desk/messages/{message.pk}/").content.decode()
    assert "the email subject and the webhook title): <strong>Derby day: roads busy</strong>" in detail
    response = client.post(page(message, "approve"), {})
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == MessageStatus.IN_REVIEW
    assert any("content_hash" in text for text in flashes(response))
    client.post(page(message, "approve"), {"content_hash": message.content_hash})
    message.refresh_from_db()
    assert message.status == MessageStatus.APPROVED


# --- withdraw: a reason and a confirmation, both recorded -------------------------------------------

def test_api_withdraw_needs_a_reason(world, api):
    message = make_approved(world.a)
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=timezone.now() + timedelta(days=1))
    client = api(world.a.supervisor)
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        error = error_of(client.post(url(message, "withdraw"), body, format="json"), 400, "reason_required")
        assert "reason" in error["fields"]
    message.refresh_from_db()
    assert message.status == MessageStatus.SCHEDULED
    assert Delivery.objects.filter(message=message, status=DeliveryStatus.PENDING).exists()
    response = client.post(url(message, "withdraw"), {"reason": "Match postponed"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    event = AuditEvent.objects.get(verb="message.withdrawn", target_id=str(message.pk))
    assert event.summary["reason"] == "Match postponed" and event.summary["confirmation"] == "api"
    history = client.get(f"{MESSAGES}{message.pk}/history/").json()
    withdrawn = next(e for e in history["events"] if e["verb"] == "message.withdrawn")
    assert withdrawn["summary"]["reason"] == "Match postponed"


def test_page_withdraw_asks_for_a_reason_and_a_confirmation(world, client):
    message = make_approved(world.a)
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=timezone.now() + timedelta(days=1))
    client.force_login(world.a.supervisor)
    detail = client.get(f"/desk/messages/{message.pk}/").content.decode()
    assert 'name="confirm"' in detail and 'id="wd-reason"' in detail and "cannot be undone" in detail
    for form in ({"reason": "Match postponed"}, {"confirm": "on"}, {"reason": "  ", "confirm": "on"}):
        response = client.post(page(message, "withdraw"), form)
        assert response.status_code == 302
        message.refresh_from_db()
        assert message.status == MessageStatus.SCHEDULED, form
        assert flashes(response)
    response = client.post(page(message, "withdraw"), {"reason": "Match postponed", "confirm": "on"})
    message.refresh_from_db()
    assert message.status == MessageStatus.WITHDRAWN
    event = AuditEvent.objects.get(verb="message.withdrawn", target_id=str(message.pk))
    assert event.summary["reason"] == "Match postponed"
    assert "cannot be undone" in event.summary["confirmation"]
    detail = client.get(f"/desk/messages/{message.pk}/").content.decode()
    assert "message.withdrawn: “Match postponed”" in detail


# --- resume: the reason field says what it is for ---------------------------------------------------

def test_the_pause_form_says_what_the_reason_is_for_when_resuming(world, client):
    client.force_login(world.a.supervisor)
    body = client.get("/desk/publishing/").content.decode()
    assert "To resume: why it is safe to send again" in body


# --- schedule: a time that has passed is not "Scheduled." ---------------------------------------------

def _local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def test_page_refuses_a_time_in_the_past_and_offers_send_now(world, client):
    message = make_approved(world.a)
    client.force_login(world.a.officer)
    response = client.post(page(message, "schedule"), {"scheduled_at": _local(timezone.now() - timedelta(hours=2))})
    message.refresh_from_db()
    assert message.status == MessageStatus.APPROVED and not Delivery.objects.filter(message=message).exists()
    [text] = flashes(response)
    assert "has passed" in text and "Send now" in text
    response = client.post(page(message, "schedule"), {"scheduled_at": ""})
    assert "Send now" in flashes(response)[0]
    message.refresh_from_db()
    assert message.status == MessageStatus.APPROVED


def test_page_send_now_needs_its_own_confirmation(world, client):
    message = make_approved(world.a)
    client.force_login(world.a.officer)
    detail = client.get(f"/desk/messages/{message.pk}/").content.decode()
    assert 'id="send-now"' in detail
    client.post(page(message, "send-now"), {})
    message.refresh_from_db()
    assert message.status == MessageStatus.APPROVED
    response = client.post(page(message, "send-now"), {"confirm": "on"})
    assert flashes(response)[-1] == "Sending now."
    message.refresh_from_db()
    assert message.status == MessageStatus.SCHEDULED and message.scheduled_at <= timezone.now()


def test_page_schedules_a_future_time_and_says_when(world, client):
    message = make_approved(world.a)
    client.force_login(world.a.officer)
    when = timezone.now() + timedelta(days=2)
    response = client.post(page(message, "schedule"), {"scheduled_at": _local(when)})
    [text] = flashes(response)
    assert text.startswith("Scheduled for ")
    message.refresh_from_db()
    assert message.status == MessageStatus.SCHEDULED and message.scheduled_at > timezone.now() + timedelta(days=1)


def test_api_schedule_says_plainly_when_it_goes_out_now(world, api):
    client = api(world.a.officer)
    past = make_approved(world.a)
    response = client.post(url(past, "schedule"), {"scheduled_at": (timezone.now() - timedelta(hours=1)).isoformat()},
                           format="json")
    assert response.status_code == 200, response.content
    assert response.json()["sending_now"] is True and "Sending now" in response.json()["notice"]
    explicit = make_approved(world.a)
    response = client.post(url(explicit, "schedule"), {"send_now": True}, format="json")
    assert response.json()["sending_now"] is True and response.json()["notice"] == "Sending now."
    later = make_approved(world.a)
    response = client.post(url(later, "schedule"), {"scheduled_at": (timezone.now() + timedelta(days=1)).isoformat()},
                           format="json")
    assert response.json()["sending_now"] is False and response.json()["notice"].startswith("Scheduled for ")
    conflicting = make_approved(world.a)
    error_of(client.post(url(conflicting, "schedule"), {"send_now": True, "scheduled_at": (
        timezone.now() + timedelta(days=1)).isoformat()}, format="json"), 400, "invalid")
    conflicting.refresh_from_db()
    assert conflicting.status == MessageStatus.APPROVED
