"""The message page's buttons: one view per action (campaigns/views/message_actions.py), each at its
own URL. Each test posts as a role that may and checks what changed, and as one that may not and
checks that nothing did. Who may use which URL, for every role, is tests/test_permission_matrix.py."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from campaigns import publishing
from campaigns.models import Message, MessageStatus
from campaigns.services import workflow
from tests.factories import make_approved, make_message, make_submitted

pytestmark = pytest.mark.django_db

# URL name -> the path segment the page's forms, the browser tests and the docs use.
ACTIONS = {
    "message_submit": "submit", "message_approve": "approve", "message_request_changes": "request-changes",
    "message_apply_plan": "apply-plan", "message_comment": "comment", "message_schedule": "schedule",
    "message_send_now": "send-now", "message_withdraw": "withdraw", "message_emergency_review": "emergency-review",
    "message_pause_override": "pause-override", "message_variant_add": "variant", "message_media_add": "media",
}


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def post(user, name: str, message: Message, data: dict | None = None):
    response = signed_in(user).post(reverse(f"campaigns:{name}", kwargs={"pk": message.pk}), data or {})
    assert response.status_code == 302, (response.status_code, response.content[:300])
    assert response["Location"] == f"/desk/messages/{message.pk}/"
    return response


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def fresh(message: Message) -> Message:
    return Message.objects.get(pk=message.pk)


# --- the URLs ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "segment"), ACTIONS.items())
def test_each_action_keeps_its_url(name, segment):
    assert reverse(f"campaigns:{name}", kwargs={"pk": 7}) == f"/desk/messages/7/{segment}/"


@pytest.mark.parametrize("name", ACTIONS)
def test_each_action_is_post_only_signed_in_and_csrf_checked(world, name):
    message = make_message(world.a)
    url = reverse(f"campaigns:{name}", kwargs={"pk": message.pk})
    assert signed_in(world.a.supervisor).get(url).status_code == 405
    assert Client().post(url)["Location"].startswith("/accounts/login/")
    assert signed_in(world.a.supervisor, enforce_csrf_checks=True).post(url).status_code == 403
    assert signed_in(world.b.supervisor).post(url).status_code == 404  # another team's message: not found
    assert fresh(message).status == MessageStatus.DRAFT and fresh(message).version == message.version


def test_an_unknown_action_is_not_found(world):
    message = make_message(world.a)
    assert signed_in(world.a.supervisor).post(f"/desk/messages/{message.pk}/publish-everywhere/").status_code == 404


def test_the_message_page_posts_to_each_action(world):
    draft = make_message(world.a, channels=[], segments=[world.a.segment])
    html = signed_in(world.a.officer).get(f"/desk/messages/{draft.pk}/").content.decode()
    for name in ("message_submit", "message_apply_plan", "message_comment", "message_variant_add",
                 "message_media_add"):
        assert f'action="{reverse(f"campaigns:{name}", kwargs={"pk": draft.pk})}"' in html, name
    in_review = make_submitted(world.a)
    html = signed_in(world.a.supervisor).get(f"/desk/messages/{in_review.pk}/").content.decode()
    for name in ("message_approve", "message_request_changes"):
        assert f'action="{reverse(f"campaigns:{name}", kwargs={"pk": in_review.pk})}"' in html, name
    approved = make_approved(world.a)
    html = signed_in(world.a.supervisor).get(f"/desk/messages/{approved.pk}/").content.decode()
    for name in ("message_schedule", "message_send_now", "message_withdraw"):
        assert f'action="{reverse(f"campaigns:{name}", kwargs={"pk": approved.pk})}"' in html, name


# --- one test per action ---------------------------------------------------------------------------

def test_submit(world):
    message = make_message(world.a)
    post(world.a.liaison, "message_submit", message)
    assert fresh(message).status == MessageStatus.DRAFT
    assert flashes(post(world.a.officer, "message_submit", message)) == ["Sent for approval."]
    assert fresh(message).status == MessageStatus.IN_REVIEW
    post(world.a.officer, "message_submit", message)  # the wrong state now: refused, said on the page
    assert fresh(message).status == MessageStatus.IN_REVIEW


def test_approve(world):
    message = make_submitted(world.a)
    post(world.a.officer, "message_approve", message, {"content_hash": message.content_hash})  # the author
    assert fresh(message).status == MessageStatus.IN_REVIEW
    post(world.a.supervisor, "message_approve", message, {"content_hash": "a" * 64})  # not the version reviewed
    assert fresh(message).status == MessageStatus.IN_REVIEW
    response = post(world.a.supervisor, "message_approve", message, {"content_hash": message.content_hash})
    assert flashes(response) == ["Approved."] and fresh(message).status == MessageStatus.APPROVED


def test_request_changes(world):
    message = make_submitted(world.a)
    assert flashes(post(world.a.supervisor, "message_request_changes", message)) == ["Say what needs to change."]
    assert fresh(message).status == MessageStatus.IN_REVIEW
    post(world.a.liaison, "message_request_changes", message, {"comment": "Which station?"})
    assert fresh(message).status == MessageStatus.IN_REVIEW
    post(world.a.supervisor, "message_request_changes", message, {"comment": "Which station?"})
    message = fresh(message)
    assert message.status == MessageStatus.CHANGES_REQUESTED
    assert message.comments.get().body == "Which station?"


def test_apply_plan(world):
    message = make_message(world.a, channels=[], segments=[world.a.segment])
    post(world.a.liaison, "message_apply_plan", message)
    assert not fresh(message).channels.exists()
    response = post(world.a.officer, "message_apply_plan", message)
    assert flashes(response) == ["Added the channels the plan proposes."]
    assert fresh(message).channels.exists()


def test_comment(world):
    message = make_message(world.a)
    post(world.a.liaison, "message_comment", message, {"comment": "Looks right."})
    assert not message.comments.exists()
    assert flashes(post(world.a.officer, "message_comment", message, {"comment": "Looks right."})) == ["Comment added."]
    assert [(c.author, c.body) for c in message.comments.all()] == [(world.a.officer, "Looks right.")]


def _local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def test_schedule(world):
    message = make_approved(world.a)
    when = _local(timezone.now() + timedelta(days=2))
    post(world.a.liaison, "message_schedule", message, {"scheduled_at": when})
    assert fresh(message).status == MessageStatus.APPROVED
    response = post(world.a.officer, "message_schedule", message, {"scheduled_at": when})
    assert flashes(response)[0].startswith("Scheduled for ")
    assert fresh(message).status == MessageStatus.SCHEDULED


def test_send_now(world):
    message = make_approved(world.a)
    post(world.a.officer, "message_send_now", message)  # without its own confirmation: nothing happens
    assert fresh(message).status == MessageStatus.APPROVED
    post(world.a.liaison, "message_send_now", message, {"confirm": "on"})
    assert fresh(message).status == MessageStatus.APPROVED
    assert flashes(post(world.a.officer, "message_send_now", message, {"confirm": "on"})) == ["Sending now."]
    message = fresh(message)
    assert message.status == MessageStatus.SCHEDULED and message.scheduled_at <= timezone.now()


def test_withdraw(world):
    message = publishing.message_schedule(actor=world.a.officer, message=make_approved(world.a),
                                           scheduled_at=timezone.now() + timedelta(days=1))
    form = {"reason": "Match postponed", "confirm": "on"}
    post(world.a.officer, "message_withdraw", message, form)  # officers do not withdraw
    post(world.a.supervisor, "message_withdraw", message, {"reason": "Match postponed"})  # not confirmed
    assert fresh(message).status == MessageStatus.SCHEDULED
    post(world.a.supervisor, "message_withdraw", message, form)
    assert fresh(message).status == MessageStatus.WITHDRAWN


def test_emergency_review(world):
    message = workflow.message_approve(actor=world.a.supervisor2, message=make_submitted(
        world.a, author=world.a.supervisor2, urgency="emergency"))
    assert message.emergency_self_approved
    post(world.a.supervisor2, "message_emergency_review", message, {"comment": "Checked."})  # not one's own
    assert fresh(message).emergency_reviewed_at is None
    response = post(world.a.supervisor, "message_emergency_review", message, {"comment": "Checked."})
    assert flashes(response) == ["Review recorded."]
    assert fresh(message).emergency_reviewed_by == world.a.supervisor


def test_pause_override(world):
    message = workflow.message_approve(actor=world.a.supervisor2,
                                       message=make_submitted(world.a, urgency="emergency"))
    post(world.a.supervisor2, "message_pause_override", message)  # its approver: the two-person rule
    post(world.a.officer, "message_pause_override", message)
    assert fresh(message).pause_override_at is None
    post(world.a.supervisor, "message_pause_override", message)
    assert fresh(message).pause_override_by == world.a.supervisor
    routine = make_approved(world.a)
    post(world.a.supervisor2, "message_pause_override", routine)  # only emergencies: the wrong state
    assert fresh(routine).pause_override_at is None


def test_variant_add(world):
    message = make_message(world.a)
    variant = {"language": "fr", "format": "standard", "body": "Routes chargées samedi. #DerbyDay"}
    post(world.a.liaison, "message_variant_add", message, variant)
    assert not message.variants.exists()
    response = post(world.a.officer, "message_variant_add", message, {"language": "fr"})
    assert flashes(response)[0].startswith("Check the variant: ") and not message.variants.exists()
    assert flashes(post(world.a.officer, "message_variant_add", message, variant)) == ["Variant added."]
    assert [v.language for v in message.variants.all()] == ["fr"]


def _png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 160)).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "map.png"
    return buffer


def test_media_add(world):
    message = make_message(world.a)
    alt = "A map of the roads closed near the stadium"
    response = post(world.a.officer, "message_media_add", message, {"file": _png()})  # no alt text
    assert flashes(response) == ["Choose an image and describe it in the alt text."]
    post(world.a.liaison, "message_media_add", message, {"file": _png(), "alt_text": alt})
    assert not message.media.exists()
    assert flashes(post(world.a.officer, "message_media_add", message, {"file": _png(), "alt_text": alt})) == [
        "Image added."]
    assert [m.alt_text for m in message.media.all()] == [alt]


def test_schedule_refuses_a_time_past_the_calendar(world):
    """Found by tests/test_bad_ids.py once the action had its own URL: a time whose UTC conversion
    overflows is a form error on the page, not a 500."""
    message = make_approved(world.a)
    response = post(world.a.officer, "message_schedule", message, {"scheduled_at": "9999-12-31T23:59:59-12:00"})
    assert flashes(response) == ["Give a date between 1900 and 2999."]
    assert fresh(message).status == MessageStatus.APPROVED
