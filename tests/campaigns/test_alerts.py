"""Each event of a message's review reaches exactly the right people (campaigns/services/alerts.py): its team's
supervisors (never another team's, never another force's, never its author) when it awaits review; its author
when it is approved, sent back, published, failed or withdrawn."""

from __future__ import annotations

import pytest

from accounts.models import Notification
from campaigns import publishing
from campaigns.models import Delivery, MessageStatus
from campaigns.publishing.lifecycle import message_settle
from campaigns.services import workflow
from tests.factories import make_approved, make_other_force, make_submitted


def heard(kind: str) -> set[int]:
    return set(Notification.objects.filter(kind=kind).values_list("user_id", flat=True))


def test_a_submitted_message_reaches_its_teams_supervisors_only(world):
    _, other = make_other_force("C")
    message = make_submitted(world.a)
    assert heard("message_awaits_review") == {world.a.supervisor.pk, world.a.supervisor2.pk}
    assert str(message.pk) in Notification.objects.filter(kind="message_awaits_review").first().url
    assert not heard("message_awaits_review") & {world.b.supervisor.pk, other.supervisor.pk, world.a.officer.pk}


def test_a_supervisors_own_message_is_not_announced_to_themself(world):
    make_submitted(world.a, author=world.a.supervisor)
    assert heard("message_awaits_review") == {world.a.supervisor2.pk}


def test_the_author_hears_of_approval_and_of_changes_requested(world):
    message = make_submitted(world.a)
    workflow.message_request_changes(actor=world.a.supervisor, message=message, comment="Say which gate.")
    assert heard("message_changes_requested") == {world.a.officer.pk}
    assert "Say which gate." in Notification.objects.get(kind="message_changes_requested").text
    message = workflow.message_submit(actor=world.a.officer, message=message)
    workflow.message_approve(actor=world.a.supervisor2, message=message)
    assert heard("message_approved") == {world.a.officer.pk}


def test_an_emergency_self_approval_reaches_the_other_supervisors_for_review(world):
    message = make_submitted(world.a, author=world.a.supervisor, urgency="emergency")
    Notification.objects.all().delete()
    workflow.message_approve(actor=world.a.supervisor, message=message)
    assert heard("emergency_awaits_review") == {world.a.supervisor2.pk}
    assert heard("message_approved") == set()  # they approved it themself


@pytest.fixture
def eager():
    from engage.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_the_author_hears_it_was_published_or_failed_once(world, eager, django_capture_on_commit_callbacks):
    tw = world.a
    message = make_approved(tw, channels=[tw.public, tw.mastodon])
    publishing.message_schedule(actor=tw.supervisor, message=message, scheduled_at=None)
    Delivery.objects.filter(message=message).update(status="sent")
    with django_capture_on_commit_callbacks(execute=True):
        message_settle(message.pk)
        message_settle(message.pk)  # settled again: not told again
    assert list(Notification.objects.filter(kind="message_published").values_list("user_id", flat=True)) == [
        tw.officer.pk]
    failed = make_approved(tw)
    publishing.message_schedule(actor=tw.supervisor, message=failed, scheduled_at=None)
    Delivery.objects.filter(message=failed).update(status="failed")
    with django_capture_on_commit_callbacks(execute=True):
        message_settle(failed.pk)
    failed.refresh_from_db()
    assert failed.status == MessageStatus.FAILED and heard("message_failed") == {tw.officer.pk}


def test_the_author_hears_it_was_withdrawn(world):
    tw = world.a
    message = make_approved(tw)
    publishing.message_withdraw(actor=tw.supervisor, message=message, reason="Wrong date.")
    assert heard("message_withdrawn") == {tw.officer.pk}
    assert "Wrong date." in Notification.objects.get(kind="message_withdrawn").text
