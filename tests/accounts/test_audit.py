"""The audit trail is append-only, at the ORM and in the database."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from accounts.audit import audit_record
from accounts.models import AuditEvent
from accounts.services import audit_export_csv
from core.errors import NotAllowed

pytestmark = pytest.mark.django_db


def _event(world):
    return audit_record(actor=world.a.officer, verb="test.thing", target=world.a.event, summary={"x": 1})


def test_record_has_actor_verb_target_team_and_summary(world):
    event = _event(world)
    assert event.actor == world.a.officer and event.actor_label == world.a.officer.email
    assert (event.target_type, event.target_id) == ("campaigns.event", str(world.a.event.pk))
    assert event.team_id == world.a.team.pk
    assert event.summary == {"x": 1}


def test_orm_refuses_update_and_delete(world):
    event = _event(world)
    event.verb = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(verb="rewritten")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).verb == "test.thing"


def test_database_refuses_raw_update(world):
    event = _event(world)
    table = AuditEvent._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET verb = %s WHERE id = %s", ["rewritten", event.pk])  # noqa: S608
    assert AuditEvent.objects.get(pk=event.pk).verb == "test.thing"


def test_database_refuses_raw_delete_on_postgresql(world):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite cannot refuse deletes without also refusing the test runner's flush")
    event = _event(world)
    table = AuditEvent._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [event.pk])  # noqa: S608
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_admin_site_cannot_change_or_delete(world, client):
    from django.contrib import admin

    model_admin = admin.site._registry[AuditEvent]
    request = type("R", (), {"user": world.a.admin})()
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert not model_admin.has_add_permission(request)


def test_export_is_itself_audited_and_defuses_formulas(world):
    audit_record(actor=world.a.admin, verb="test.formula", team=world.a.team, summary={"x": "=HYPERLINK()"})
    events = AuditEvent.objects.filter(team=world.a.team)
    body = audit_export_csv(actor=world.a.admin, events=events, filters={"team": "A"})
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["at", "actor", "verb"]
    assert AuditEvent.objects.filter(verb="audit.exported", actor=world.a.admin).exists()
    assert all(not cell.startswith("=") for row in rows[1:] for cell in row)


def test_non_admin_cannot_export(world):
    with pytest.raises(NotAllowed):
        audit_export_csv(actor=world.a.supervisor, events=AuditEvent.objects.all(), filters={})


def test_audit_page_for_admins_only_and_scoped_to_their_teams(world, client):
    audit_record(actor=world.b.officer, verb="secret.b", team=world.b.team)
    audit_record(actor=world.a.officer, verb="visible.a", team=world.a.team)
    client.force_login(world.a.supervisor)
    assert client.get(reverse("desk_accounts:audit")).status_code == 403
    client.force_login(world.a.admin)
    page = client.get(reverse("desk_accounts:audit")).content.decode()
    assert "visible.a" in page and "secret.b" not in page
    response = client.get(reverse("desk_accounts:audit_export") + "?verb=visible")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "visible.a" in response.content.decode()


def test_sign_in_and_failures_are_on_the_record(world, client):
    from tests.factories import PASSWORD

    client.post(reverse("accounts:login"), {"username": world.a.officer.email, "password": "wrong-one-123"})
    assert AuditEvent.objects.filter(verb="auth.sign_in_failed", summary__email=world.a.officer.email).exists()
    client.post(reverse("accounts:login"), {"username": world.a.officer.email, "password": PASSWORD})
    assert AuditEvent.objects.filter(verb="auth.signed_in", actor=world.a.officer).exists()


def test_details_read_as_text_on_the_page_and_in_the_csv_and_rows_link_to_their_object(world, client):
    """Issue 16: no Python dict text; each row links to the desk page of its object."""
    audit_record(actor=world.a.officer, verb="message.checked", target=world.a.event,
                 summary={"reason_code": "late", "status": {"from": "approved", "to": "sent"},
                          "channels": ["Mastodon", "SMS"], "urgent": True})
    client.force_login(world.a.admin)
    page = client.get(reverse("desk_accounts:audit") + "?verb=message.checked").content.decode()
    text = "channels: Mastodon, SMS; reason code: late; status: approved → sent; urgent: yes"
    assert text in page
    assert "{&#x27;" not in page and "{'" not in page
    assert f'<a href="/desk/events/{world.a.event.pk}/">campaigns.event {world.a.event.pk}</a>' in page
    # The scroll area can be reached from the keyboard and is named.
    assert '<div class="table-wrap" tabindex="0" role="region" aria-label="Audit events' in page
    body = client.get(reverse("desk_accounts:audit_export") + "?verb=message.checked").content.decode()
    [row] = list(csv.reader(io.StringIO(body)))[1:]
    assert row[-1] == text


@pytest.mark.parametrize("query", ["?since=yesterday", "?until=2026-13-45T99:00", "?verbb=message",
                                   "?verb=x&team=3"])
def test_an_invalid_filter_on_the_export_is_a_400_with_a_message_not_the_whole_log(world, client, query):
    audit_record(actor=world.a.officer, verb="visible.a", team=world.a.team)
    client.force_login(world.a.admin)
    response = client.get(reverse("desk_accounts:audit_export") + query)
    assert response.status_code == 400
    body = response.content.decode()
    assert "The filters are not valid, so nothing was exported." in body and "visible.a" not in body
    assert not AuditEvent.objects.filter(verb="audit.exported").exists()


def test_a_delivery_row_links_to_its_place_on_its_messages_page(world, client):
    from campaigns import publishing
    from campaigns.models import Delivery
    from tests.factories import make_approved

    message = make_approved(world.a, channels=[world.a.public])
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    delivery = Delivery.objects.get(message=message)
    audit_record(actor=world.a.supervisor, verb="delivery.retried", target=delivery, team=world.a.team)
    client.force_login(world.a.admin)
    page = client.get(reverse("desk_accounts:audit") + "?verb=delivery.retried").content.decode()
    assert f'<a href="/desk/deliveries/{delivery.pk}/">campaigns.delivery {delivery.pk}</a>' in page
    client.force_login(world.a.officer)
    response = client.get(f"/desk/deliveries/{delivery.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/desk/messages/{message.pk}/#delivery-{delivery.pk}"
    client.force_login(world.b.supervisor)  # another team's: not found
    assert client.get(f"/desk/deliveries/{delivery.pk}/").status_code == 404
