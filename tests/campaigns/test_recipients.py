"""The people on a list channel: encrypted at rest, managed by team admins, every address view audited."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection

from accounts.models import AuditEvent
from campaigns.models import Channel, ListRecipient
from campaigns.services.recipients import recipient_add, recipients_import
from core.errors import InvalidInput, NotAllowed

pytestmark = pytest.mark.django_db

URL = "/api/v1/recipients/"


def no_address_in_the_audit(*addresses: str) -> None:
    for event in AuditEvent.objects.all():
        text = str(event.summary)
        assert not any(a in text for a in addresses), event.verb


def test_addresses_are_encrypted_at_rest_and_normalised(world):
    recipient = recipient_add(actor=world.a.admin, channel=world.a.sms, address="07700 900 555", language="FA",
                              consent_source="form")
    assert recipient.address == "+447700900555" and recipient.language == "fa"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT address_encrypted, address_digest FROM {ListRecipient._meta.db_table} "  # noqa: S608
                       "WHERE id = %s", [recipient.pk])
        stored = " ".join(cursor.fetchone())
    assert "7700900555" not in stored
    with pytest.raises(InvalidInput):  # the same person twice
        recipient_add(actor=world.a.admin, channel=world.a.sms, address="+44 7700 900555", consent_source="form")
    with pytest.raises(InvalidInput):
        recipient_add(actor=world.a.admin, channel=world.a.sms, address="call me", consent_source="form")
    with pytest.raises(InvalidInput):  # segments of another team
        recipient_add(actor=world.a.admin, channel=world.a.sms, address="+447700900556",
                      segments=[world.b.segment.pk], consent_source="form")
    with pytest.raises(NotAllowed):
        recipient_add(actor=world.a.supervisor, channel=world.a.sms, address="+447700900557", consent_source="form")
    no_address_in_the_audit("7700900555", "7700 900 555")


def test_the_api_adds_imports_masks_opts_out_and_audits_the_export(world, api):
    admin = api(world.a.admin)
    made = admin.post(URL, {"channel": world.a.sms.pk, "address": "+447700900601", "language": "ar",
                            "segments": [world.a.segment.pk], "consent_source": "form"}, format="json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert "address" not in body and body["address_masked"] == "+44•••601" and body["segments"] == [world.a.segment.pk]
    imported = admin.post(f"{URL}import/", {"channel": world.a.sms.pk, "consent_source": "paper forms",
                                             "text": "+447700900602\n+447700900601\nnonsense\n+447700900603,fa"},
                          format="json")
    assert imported.status_code == 201 and imported.json() == {"added": 2, "already_listed": 1, "opted_out": 0,
                                                               "invalid": 1}
    listed = admin.get(URL, {"channel": world.a.sms.pk}).json()["results"]
    assert len(listed) == 4 and "+447700900601" not in str(listed)
    assert admin.post(f"{URL}{body['id']}/opt-out/", {"reason": "Texted STOP"}, format="json").json()["opted_out_at"]
    # Someone who opted out is not put back by an import.
    again = admin.post(f"{URL}import/", {"channel": world.a.sms.pk, "consent_source": "x", "text": "+447700900601"},
                       format="json").json()
    assert again["opted_out"] == 1 and again["added"] == 0
    assert not AuditEvent.objects.filter(verb="channel.recipients_exported").exists()
    export = admin.get(f"{URL}export/", {"channel": world.a.sms.pk})
    assert export.status_code == 200
    assert {r["address"] for r in export.json()} >= {"+447700900601", "+447700900602", "+447700900603"}
    event = AuditEvent.objects.get(verb="channel.recipients_exported")
    assert event.actor == world.a.admin and event.summary["count"] == 4
    no_address_in_the_audit("+447700900601", "+447700900602", "+447700900603")
    # Other teams and other roles: nothing of team A's list.
    assert api(world.b.admin).get(f"{URL}export/", {"channel": world.a.sms.pk}).status_code == 400
    assert api(world.b.admin).get(f"{URL}{body['id']}/").status_code == 404
    assert api(world.a.supervisor).get(f"{URL}export/", {"channel": world.a.sms.pk}).status_code == 403
    assert api(world.a.supervisor).get(URL).json()["results"] == []
    assert admin.get(f"{URL}export/", {"channel": "99999999999999999999"}).status_code == 400


def test_the_page_shows_masked_addresses_and_the_export_is_audited(world, client):
    recipients_import(actor=world.a.admin, channel=world.a.sms, text="+447700900701\n+447700900702,fa",
                      consent_source="paper forms")
    client.force_login(world.a.admin)
    page = client.get(f"/desk/channels/{world.a.sms.pk}/recipients/").content.decode()
    assert "+44•••701" in page and "+447700900701" not in page
    added = client.post(f"/desk/channels/{world.a.sms.pk}/recipients/", {
        "action": "add", "add-address": "07700 900703", "add-language": "ar", "add-consent_source": "desk"})
    assert added.status_code == 302
    assert ListRecipient.objects.filter(channel=world.a.sms, language="ar").count() == 1
    csv = client.get(f"/desk/channels/{world.a.sms.pk}/recipients/export.csv")
    assert csv.status_code == 200 and "+447700900703" in csv.content.decode()
    assert AuditEvent.objects.filter(verb="channel.recipients_exported", actor=world.a.admin).count() == 1
    client.force_login(world.a.supervisor)
    assert client.get(f"/desk/channels/{world.a.sms.pk}/recipients/").status_code == 403
    assert client.get(f"/desk/channels/{world.a.sms.pk}/recipients/export.csv").status_code == 403
    client.force_login(world.b.admin)
    assert client.get(f"/desk/channels/{world.a.sms.pk}/recipients/").status_code == 404


def test_the_migration_moves_config_lists_into_rows(world):
    """Channels made before this change kept ``config.recipients``: the data migration moves them."""
    legacy = Channel.objects.create(team=world.a.team, kind="sms", name="Legacy SMS",
                                    config={"account_sid": "AC1", "recipients": ["07700 900801", "+447700900801",
                                                                                 "+447700900802", "junk"]})
    module = importlib.import_module("campaigns.migrations.0006_list_recipients")
    module.move_config_lists(apps, None)
    legacy.refresh_from_db()
    assert "recipients" not in legacy.config
    assert sorted(r.address for r in legacy.list_recipients.all()) == ["+447700900801", "+447700900802"]
    assert {r.language for r in legacy.list_recipients.all()} == {"en"}
