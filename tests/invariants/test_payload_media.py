"""A variant goes out with its own images, and only those (never another variant's or message's).

A message with two variants, each with its own image, and an image of the original's: every
post that reaches the platform (the local sandbox, over HTTP) carries exactly the images of the
text it carries, with their alt text. Nothing of our code is mocked.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from campaigns import publishing
from campaigns.models import Delivery, DeliveryStatus
from campaigns.publishing import deliveries_claim_due, delivery_send
from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.services.channels import channel_create
from tests.factories import make_message

pytestmark = pytest.mark.django_db

AR_BODY = "الطرق مزدحمة يوم السبت. يرجى استخدام القطار. #DerbyDay"
FR_BODY = "Les routes seront chargées samedi. Prenez le train, s'il vous plaît. #DerbyDay"


@pytest.fixture(autouse=True)
def _reset(sandbox):
    sandbox.reset()


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), colour).save(out, "PNG")
    return out.getvalue()


def test_each_delivery_carries_only_its_own_variants_images(world, sandbox):
    a = world.a
    config, secrets = sandbox.config_for("mastodon")
    mastodon = channel_create(actor=a.admin, team=a.team, kind="mastodon", name="Sandbox Mastodon",
                              config={**config, **secrets, "read_timeout": 2.0})
    # Other messages with images of their own, which must never ride along.
    for tw in (world.a, world.b):
        message_services.media_add(actor=tw.officer, message=make_message(tw), data=png((90, 90, 90)),
                                   alt_text="Someone else's picture")
    message = make_message(a, channels=[mastodon])
    ar = message_services.variant_add(actor=a.officer, message=message, language="ar", body=AR_BODY)
    fr = message_services.variant_add(actor=a.officer, message=message, language="fr", body=FR_BODY)
    assets = {
        "original": message_services.media_add(actor=a.officer, message=message, data=png((0, 160, 0)),
                                               alt_text="Map of the closures"),
        "ar": message_services.media_add(actor=a.officer, message=message, data=png((200, 0, 0)),
                                         alt_text="خريطة الإغلاقات", variant=ar),
        "fr": message_services.media_add(actor=a.officer, message=message, data=png((0, 0, 200)),
                                         alt_text="Carte des fermetures", variant=fr),
    }
    message = workflow.message_approve(actor=a.supervisor,
                                       message=workflow.message_submit(actor=a.officer, message=message))
    publishing.message_schedule(actor=a.officer, message=message, scheduled_at=None)
    outcomes = [delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()]
    assert outcomes == ["sent"] * 3
    assert Delivery.objects.filter(message=message, status=DeliveryStatus.SENT).count() == 3

    stored = {}
    for label, asset in assets.items():
        with asset.file.open("rb") as handle:
            stored[label] = (handle.read(), asset.alt_text)
    uploads = {r.id: r for r in sandbox.records("mastodon") if r.op == "media"}
    posts = sandbox.posts("mastodon")
    assert len(posts) == 3
    seen = {}
    for post in posts:
        text = post.fields.get("status", "")
        label = "ar" if AR_BODY.split()[0] in text else "fr" if "Les routes" in text else "original"
        ids = post.fields.get("media_ids[]", [])
        media = [uploads[m] for m in ([ids] if isinstance(ids, str) else ids)]
        seen[label] = [(u.files[0].content, u.fields.get("description")) for u in media]
    assert seen == {label: [stored[label]] for label in ("original", "ar", "fr")}
