"""Moving a scheduled message from the calendar (drag, or the "Move" form for those who do not drag):
a normal POST that goes through the schedule form's service, with its checks, its audit record and
its confirmation; an approved message keeps its approval when only its time changes (the content
hash does not cover the time), and loses it when its content changes. Bad input is a refusal on
the calendar, never a 500. The calendar filters by event, channel and audience."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from campaigns import publishing
from campaigns.models import Approval, Delivery, DeliveryStatus, Message, MessageStatus
from campaigns.services import messages as message_services
from campaigns.services.content import content_hash
from tests.factories import make_approved, make_other_force


def _local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def _scheduled(tw, days: int = 2, **kwargs) -> Message:
    message = make_approved(tw, **kwargs)
    return publishing.message_schedule(actor=tw.officer, message=message,
                                       scheduled_at=timezone.now() + timedelta(days=days))


def _move(client: Client, message: Message, value: str, **extra):
    return client.post(reverse("campaigns:calendar_move", args=[message.pk]), {"scheduled_at": value, **extra})


def _notes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_content_hash_does_not_cover_the_send_time(world):
    message = _scheduled(world.a)
    before = content_hash(message)
    Message.objects.filter(pk=message.pk).update(scheduled_at=timezone.now() + timedelta(days=9))
    assert content_hash(Message.objects.get(pk=message.pk)) == before


def test_a_move_keeps_the_approval_and_is_confirmed_and_audited(world):
    tw = world.a
    message = _scheduled(tw)
    approved_hash, version = message.approved_hash, message.version
    target = (timezone.localtime(message.scheduled_at) + timedelta(days=3)).replace(hour=18, minute=30)
    client = Client()
    client.force_login(tw.officer)
    response = _move(client, message, _local(target), view="week", start="2026-12-07", channel=str(tw.public.pk))
    assert response.status_code == 302
    assert response["Location"] == f"/desk/calendar/?view=week&start=2026-12-07&channel={tw.public.pk}"
    assert any(n.startswith("Scheduled for ") for n in _notes(response))

    message.refresh_from_db()
    assert message.status == MessageStatus.SCHEDULED
    assert timezone.localtime(message.scheduled_at).strftime("%Y-%m-%dT%H:%M") == _local(target)
    assert message.approved_hash == approved_hash == message.content_hash and message.version == version
    assert Approval.objects.filter(message=message, voided_at__isnull=True).count() == 1
    assert set(Delivery.objects.filter(message=message).values_list("due_at", flat=True)) == {message.scheduled_at}
    audited = AuditEvent.objects.filter(verb="message.scheduled", target_id=str(message.pk)).order_by("at", "id")
    assert audited.count() == 2 and audited.last().actor_id == tw.officer.pk
    assert audited.last().summary["scheduled_at"] == message.scheduled_at.isoformat()


def test_a_content_change_voids_the_approval_of_a_scheduled_message(world):
    tw = world.a
    message = _scheduled(tw)
    message_services.message_update(actor=tw.officer, message=message, body="Kick-off moved to 8pm. #DerbyDay")
    message.refresh_from_db()
    assert message.status == MessageStatus.DRAFT and not message.approved_hash
    assert not Approval.objects.filter(message=message, voided_at__isnull=True).exists()
    assert not Delivery.objects.filter(message=message, status=DeliveryStatus.PENDING).exists()
    client = Client()
    client.force_login(tw.officer)
    response = _move(client, message, _local(timezone.now() + timedelta(days=4)))
    assert response.status_code == 302 and any("approved" in n for n in _notes(response))
    message.refresh_from_db()
    assert message.status == MessageStatus.DRAFT


@pytest.mark.parametrize("value", ["", "tomorrow", "2026-13-45T99:99", "9999-12-31T23:59", "0001-01-01T00:00",
                                   "1" * 500, "2026-12-05T10:00\x00"])
def test_garbage_and_past_times_are_refused_on_the_calendar(world, value):
    tw = world.a
    message = _scheduled(tw)
    when = message.scheduled_at
    client = Client()
    client.force_login(tw.officer)
    response = _move(client, message, value, start="not-a-date", event="-1", segment="1" * 40)
    if "\x00" in value:  # Django refuses a NUL in a form field before the view: a 400, never a 500
        assert response.status_code == 400
    else:
        assert response.status_code == 302 and response["Location"] == "/desk/calendar/"
        assert _notes(response) and not any(n.startswith("Scheduled for") for n in _notes(response))
    message.refresh_from_db()
    assert message.scheduled_at == when


def test_a_time_that_has_passed_is_refused(world):
    tw = world.a
    message = _scheduled(tw)
    client = Client()
    client.force_login(tw.officer)
    response = _move(client, message, _local(timezone.now() - timedelta(hours=1)))
    assert any("That time has passed" in n for n in _notes(response))
    assert Message.objects.get(pk=message.pk).scheduled_at == message.scheduled_at


def test_a_message_that_is_not_approved_cannot_be_moved(world):
    tw = world.a
    message = make_approved(tw)
    message_services.message_update(actor=tw.officer, message=message, body="Changed after approval. #DerbyDay")
    client = Client()
    client.force_login(tw.officer)
    response = _move(client, message, _local(timezone.now() + timedelta(days=2)))
    assert response.status_code == 302
    assert any("Only an approved message can be scheduled" in n for n in _notes(response))
    assert Message.objects.get(pk=message.pk).scheduled_at is None


def test_another_teams_or_forces_message_is_not_found(world):
    message = _scheduled(world.a)
    _force, other = make_other_force()
    for user in (world.b.officer, other.officer, world.outsider):
        client = Client()
        client.force_login(user)
        assert _move(client, message, _local(timezone.now() + timedelta(days=5))).status_code == 404
    assert Message.objects.get(pk=message.pk).scheduled_at == message.scheduled_at
    client = Client()
    client.force_login(world.a.officer)
    assert client.post("/desk/calendar/999999999999/move/", {"scheduled_at": "x"}).status_code == 404
    assert client.get(reverse("campaigns:calendar_move", args=[message.pk])).status_code == 405


def test_a_liaison_officer_sees_the_calendar_but_cannot_move(world):
    tw = world.a
    message = _scheduled(tw)
    client = Client()
    client.force_login(tw.liaison)
    page = client.get(reverse("campaigns:calendar"), {"start": timezone.localdate(message.scheduled_at).isoformat()})
    assert page.status_code == 200 and f'id="cal-item-{message.pk}"' in page.content.decode()
    assert f'action="/desk/calendar/{message.pk}/move/"' not in page.content.decode()
    response = _move(client, message, _local(timezone.now() + timedelta(days=5)))
    assert response.status_code == 302 and any("cannot schedule" in n for n in _notes(response))
    assert Message.objects.get(pk=message.pk).scheduled_at == message.scheduled_at


def test_the_calendar_filters_by_event_channel_and_audience_and_offers_a_move_form(world):
    tw = world.a
    on_sms = _scheduled(tw, channels=[tw.sms], segments=[tw.segment], title="Buses")
    on_public = _scheduled(tw, channels=[tw.public], title="Trams")
    start = timezone.localdate(on_sms.scheduled_at).isoformat()
    client = Client()
    client.force_login(tw.officer)

    def shown(**query) -> set[int]:
        html = client.get(reverse("campaigns:calendar"), {"view": "week", "start": start, **query}).content.decode()
        return {m for m in (on_sms.pk, on_public.pk) if f'id="cal-item-{m}"' in html}

    assert shown() == {on_sms.pk, on_public.pk}
    assert shown(channel=tw.sms.pk) == {on_sms.pk}
    assert shown(channel=tw.public.pk) == {on_public.pk}
    assert shown(segment=tw.segment.pk) == {on_sms.pk}
    assert shown(event=tw.event.pk) == {on_sms.pk, on_public.pk}
    assert shown(channel=world.b.sms.pk) == set()  # another team's channel: nothing of theirs, nothing of ours
    assert shown(channel="junk", segment="-3", event="1e9") == {on_sms.pk, on_public.pk}
    html = client.get(reverse("campaigns:calendar"), {"view": "week", "start": start}).content.decode()
    assert f'action="/desk/calendar/{on_sms.pk}/move/"' in html and 'draggable="true"' in html
    assert f'value="{_local(on_sms.scheduled_at)}"' in html
