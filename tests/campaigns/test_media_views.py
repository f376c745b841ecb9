"""Images are served only to the message's team, and to the public once the message is published."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from campaigns import publishing
from campaigns.publishing import deliveries_claim_due, delivery_send
from campaigns.services import messages as message_services
from campaigns.services import workflow
from tests.factories import make_message

pytestmark = pytest.mark.django_db


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), "navy")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)  # GPSLatitude
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_staff_and_public_access(world, client):
    message = make_message(world.a, channels=[world.a.public])
    asset = message_services.media_add(actor=world.a.officer, message=message, data=jpeg_with_gps(),
                                       alt_text="A police officer pointing the way to the station")
    staff_url, public_url = f"/desk/media/{asset.pk}/", f"/media/{asset.pk}/"
    client.force_login(world.b.officer)
    assert client.get(staff_url).status_code == 404
    client.force_login(world.a.officer)
    response = client.get(staff_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    served = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert not served.getexif() and "exif" not in served.info
    client.logout()
    assert client.get(public_url).status_code == 404  # not published yet
    workflow.message_submit(actor=world.a.officer, message=message)
    workflow.message_approve(actor=world.a.supervisor, message=message)
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    assert [delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()] == ["sent"]
    assert client.get(public_url).status_code == 200
    publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="Out of date")
    assert client.get(public_url).status_code == 404
