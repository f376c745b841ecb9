"""Each person turns each kind of alert off, in the app and by email separately, and notify() honours it."""

from __future__ import annotations

from html import unescape

from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, Notification, NotificationPreference
from accounts.notify import KINDS, notify
from accounts.services import notification_preferences_set
from tests.factories import make_submitted


def _eager(capture):
    from engage.celery import app

    app.conf.task_always_eager = True
    return capture(execute=True)


def test_an_opt_out_stops_the_alert_in_the_app_and_by_email_separately(world, django_capture_on_commit_callbacks):
    from engage.celery import app

    sup, sup2 = world.a.supervisor, world.a.supervisor2
    notification_preferences_set(user=sup, choices={"message_awaits_review": (False, True)})
    notification_preferences_set(user=sup2, choices={"message_awaits_review": (True, False)})
    try:
        with _eager(django_capture_on_commit_callbacks):
            make_submitted(world.a)
    finally:
        app.conf.task_always_eager = False
    assert list(Notification.objects.filter(kind="message_awaits_review").values_list("user_id", flat=True)) == [
        sup2.pk]
    (email,) = mail.outbox
    assert email.to == [sup.email] and email.subject == KINDS["message_awaits_review"].email
    notification_preferences_set(user=sup, choices={"message_awaits_review": (False, False)})
    assert notify("message_awaits_review", team=world.a.team, text="t") == [sup2.pk]


def test_the_settings_page_lists_every_kind_and_saves_the_choice(world):
    client = Client()
    client.force_login(world.a.liaison)
    html = unescape(client.get(reverse("desk_accounts:notification_settings")).content.decode())
    for rule in KINDS.values():
        assert rule.label and rule.label in html
    assert 'name="reply_overdue-email"' in html and 'name="restore_report-email"' not in html  # no email there
    on = {f"{kind}-{side}": "on" for kind in KINDS for side in ("app", "email")}
    del on["reply_assigned-email"]
    assert client.post(reverse("desk_accounts:notification_settings"), on).status_code == 302
    assert list(NotificationPreference.objects.filter(user=world.a.liaison).values_list("kind", "in_app", "email")) \
        == [("reply_assigned", True, False)]
    assert AuditEvent.objects.filter(verb="user.notification_preferences_set", actor=world.a.liaison).count() == 1
    assert notify("reply_assigned", team=world.a.team, text="t", also=world.a.liaison) == [world.a.liaison.pk]
    html = client.get(reverse("desk_accounts:notification_settings")).content.decode()
    assert 'name="reply_assigned-email" id="reply_assigned-email" aria-labelledby="reply_assigned-label ' \
           'reply_assigned-email-h">' in html  # unchecked now


def test_unknown_kinds_are_refused(world):
    import pytest

    from core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        notification_preferences_set(user=world.a.liaison, choices={"everything": (False, False)})
