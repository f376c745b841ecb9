"""A reply past its response time, unanswered: its assignee hears once, or (nobody has it) the team's liaison
officers; never another team's (engage/inbound/sla_alerts.py)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import Membership, Notification
from engage.inbound.sla_alerts import replies_alert_overdue
from engage.inbound.sweeper import replies_sweep
from engage.models import Reply
from tests.engage.inbound_helpers import make_reply


def overdue(reply: Reply, **changes) -> Reply:
    Reply.objects.filter(pk=reply.pk).update(sla_due_at=timezone.now() - timedelta(minutes=1), **changes)
    return Reply.objects.get(pk=reply.pk)


def test_the_assignee_hears_once_when_their_reply_passes_its_sla(world):
    reply = overdue(make_reply(world.a), assignee=world.a.liaison, status="assigned")
    assert replies_sweep(older_than_seconds=0)["overdue_alerted"] == 1
    assert replies_alert_overdue() == 0  # told once
    rows = Notification.objects.filter(kind="reply_overdue")
    assert [(n.user_id, n.url) for n in rows] == [(world.a.liaison.pk, f"/desk/inbox/{reply.pk}/")]
    assert not Notification.objects.filter(user__in=[world.a.supervisor, world.b.liaison],
                                           kind__startswith="reply_overdue").exists()


def test_an_unassigned_reply_reaches_the_teams_liaisons_on_duty(world):
    Membership.objects.filter(user=world.a.liaison, team=world.a.team).update(on_duty=True)
    overdue(make_reply(world.a))
    assert replies_alert_overdue() == 1
    assert list(Notification.objects.filter(kind="reply_overdue_unassigned").values_list("user_id", flat=True)) == [
        world.a.liaison.pk]
    assert not Notification.objects.filter(user=world.b.liaison).exists()


def test_answered_closed_or_not_yet_due_replies_are_not_alerted(world):
    overdue(make_reply(world.a), first_response_at=timezone.now())
    overdue(make_reply(world.a), status="closed")
    Reply.objects.filter(pk=make_reply(world.a).pk).update(sla_due_at=timezone.now() + timedelta(minutes=5))
    assert replies_alert_overdue() == 0
    assert not Notification.objects.filter(kind__startswith="reply_overdue").exists()
