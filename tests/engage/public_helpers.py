"""Publishing on the public channel the way production does: approve, schedule, claim, send."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from campaigns import publishing
from campaigns.models import Message
from campaigns.publishing import deliveries_claim_due, delivery_send
from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.services.rumours import rumour_create
from tests.factories import GOOD_BODY, TeamWorld, make_message, publish_rumour_verdict

ARABIC = "الطرق المحيطة بالملعب مزدحمة يوم السبت. يرجى استخدام القطار والحضور مبكرًا. #DerbyDay"
EASY = "Saturday: the derby. Roads will be busy. Take the train. Leave early. #DerbyDay"


@pytest.fixture(autouse=True)
def private_cache(settings, request):
    """A cache of this test's own. The default embedded cache is a directory shared by every
    process on the machine, so parallel test runs would clear it and bump the public version
    under each other's feet."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"engage-public-tests-{request.node.nodeid}"}}
    from django.core.cache import cache

    from engage.public import cache as public_cache

    cache.clear()
    public_cache.reset_local()
    yield
    cache.clear()
    public_cache.reset_local()


def send_due() -> list[str]:
    return [delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()]


def draft(tw: TeamWorld, *, body: str = GOOD_BODY, urgency: str = "routine",
          variants: Sequence[tuple[str, str, str]] = (), channels: list | None = None, **kwargs: Any) -> Message:
    message = make_message(tw, body=body, urgency=urgency, channels=channels or [tw.public], **kwargs)
    for language, text, fmt in variants:
        message_services.variant_add(actor=tw.officer, message=message, language=language, body=text, format=fmt)
    return message


def approve_and_send(tw: TeamWorld, message: Message) -> Message:
    message = workflow.message_submit(actor=tw.officer, message=message)
    message = workflow.message_approve(actor=tw.supervisor, message=message)
    if message.status == "approved":
        publishing.message_schedule(actor=tw.officer, message=message, scheduled_at=None)
    send_due()
    message.refresh_from_db()
    return message


def publish(tw: TeamWorld, **kwargs: Any) -> Message:
    return approve_and_send(tw, draft(tw, **kwargs))


def corrected_rumour(tw: TeamWorld, claim: str = "The bridge has collapsed"):
    rumour = rumour_create(actor=tw.officer, event=tw.event, claim=claim)
    rumour = publish_rumour_verdict(writer=tw.supervisor, publisher=tw.supervisor2, rumour=rumour,
                                    status="unverified", explanation="We are checking this with the council now.")
    return publish_rumour_verdict(writer=tw.officer, publisher=tw.supervisor, rumour=rumour, status="false",
                                  explanation="The bridge is open. Engineers inspected it at 14:00.")
