"""A hand-computed case for the metrics tests, and a helper to store replies with exact times.

Replies are stored with the ORM here (not through ``reply_store``) because the metrics depend on
times the services set from the clock (``first_response_at`` is when an answer was sent); every
figure below is computed by hand in the comments and asserted in the tests.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from campaigns.models import Campaign, Delivery, Event, Message, Segment
from campaigns.services import events as event_services
from campaigns.services import messages as message_services
from campaigns.services.segments import segment_create
from engage.models import ClassificationCorrection, Reply
from tests.factories import TeamWorld

_ids = itertools.count(1)


def make_reply(team_id: int, *, received_at: datetime, response_after: float | None = None,
               category: str = "question", sentiment: str = "neutral", language: str = "en",
               message: Message | None = None, channel: Any = None, sla_minutes: int | None = None,
               status: str | None = None, processed: bool = True, text: str = "A reply", **extra: Any) -> Reply:
    first = received_at + timedelta(seconds=response_after) if response_after is not None else None
    return Reply.objects.create(
        team_id=team_id, channel=channel, source="mastodon" if channel is not None else "web",
        provider_id=f"metrics-{next(_ids)}", text=text, received_at=received_at,
        created_at=received_at, processed_at=received_at + timedelta(seconds=1) if processed else None,
        category=category, sentiment=sentiment, language=language, message=message,
        first_response_at=first, sla_due_at=received_at + timedelta(minutes=sla_minutes) if sla_minutes else None,
        status=status or ("answered" if first else "new"), **extra)


@dataclass
class Case:
    base: datetime
    event: Event
    campaign: Campaign
    visitors: Segment
    farsi: Segment
    m1: Message
    m2: Message
    replies: dict[int, Reply] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)


def build_case(tw: TeamWorld, other: TeamWorld) -> Case:
    """Team A: nine replies to a past event (2 h to 6 h after ``base``), hand-computed:

    ====  ============  ====  =======  =========  =======  ==========  ======  ============
    no.   category      lang  message  received   answer   SLA (min)   phase   sentiment
    ====  ============  ====  =======  =========  =======  ==========  ======  ============
    1     question      en    m1       +1 h       600 s    60 met      before  positive
    2     question      en    m1       +3 h       1800 s   60 met      during  neutral
    3     complaint     en    m1       +4 h       7200 s   1440 met    during  negative
    4     question      fa    m2       +3 h       none     60 missed   during  negative
    5     question      fa    m2       +5 h       18000 s  60 missed   during  negative
    6     praise        en    m1       +7 h       none     none        after   positive
    7     spam          en    none     +8 h       none     none        none    unknown
    8     information   en    m1       +7 h       3600 s   240 met     after   neutral
    9     (unclassified)en    none     +9 h       none     none        none    (none)
    ====  ============  ====  =======  =========  =======  ==========  ======  ============

    Needing an answer: 1 2 3 4 5 8 9 (7); answered among them: 1 2 3 5 8 (5): rate 5/7.
    Times sorted: 600 1800 3600 7200 18000: median 3600; p90 at 0.9*4 = 3.6: 7200 + 0.6*10800 = 13680.
    SLA: met 1 2 3 8, missed 4 5: 4/6. Team B has one reply that must never be counted.
    """
    base = timezone.now() - timedelta(days=10)
    event = event_services.event_create(actor=tw.officer, team=tw.team, name="Past derby", kind="planned",
                                        starts_at=base + timedelta(hours=2), ends_at=base + timedelta(hours=6))
    campaign = event_services.campaign_create(actor=tw.officer, team=tw.team, name="Past derby", event=event)
    visitors = tw.segment
    farsi = segment_create(actor=tw.officer, team=tw.team, name="Farsi speakers", languages=["fa"],
                           channels=["sms"], needs=[])
    m1 = message_services.message_create(actor=tw.officer, campaign=campaign, body="Travel advice for the derby",
                                         channels=[tw.mastodon, tw.sms], segments=[visitors])
    m2 = message_services.message_create(actor=tw.officer, campaign=campaign, body="Advice in Farsi",
                                         channels=[tw.sms], segments=[farsi], language="fa")
    team = tw.team.pk
    h = timedelta(hours=1)
    r: dict[int, Reply] = {
        1: make_reply(team, received_at=base + h, response_after=600, message=m1, channel=tw.mastodon,
                      sla_minutes=60, sentiment="positive"),
        2: make_reply(team, received_at=base + 3 * h, response_after=1800, message=m1, channel=tw.mastodon,
                      sla_minutes=60),
        3: make_reply(team, received_at=base + 4 * h, response_after=7200, category="complaint", message=m1,
                      channel=tw.mastodon, sla_minutes=1440, sentiment="negative"),
        4: make_reply(team, received_at=base + 3 * h, language="fa", message=m2, channel=tw.sms, sla_minutes=60,
                      sentiment="negative"),
        5: make_reply(team, received_at=base + 5 * h, response_after=18000, language="fa", message=m2,
                      channel=tw.sms, sla_minutes=60, sentiment="negative"),
        6: make_reply(team, received_at=base + 7 * h, category="praise", message=m1, sentiment="positive"),
        7: make_reply(team, received_at=base + 8 * h, category="spam", sentiment="unknown", status="closed"),
        8: make_reply(team, received_at=base + 7 * h, response_after=3600, category="information", message=m1,
                      sla_minutes=240),
        9: make_reply(team, received_at=base + 9 * h, category="", sentiment="", processed=False),
    }
    make_reply(other.team.pk, received_at=base + 3 * h, response_after=5, message=None)
    ClassificationCorrection.objects.create(reply=r[4], field="category", old_value="information",
                                            new_value="question", corrected_by=tw.liaison)
    deliveries = [
        Delivery.objects.create(message=m1, channel=tw.mastodon, status="sent", idempotency_key="d1",
                                due_at=base, sent_at=base + timedelta(minutes=1)),
        Delivery.objects.create(message=m1, channel=tw.sms, status="failed", idempotency_key="d2", due_at=base),
        Delivery.objects.create(message=m2, channel=tw.sms, status="withdrawn", idempotency_key="d3", due_at=base),
    ]
    Reply.objects.filter(pk__in=[r[1].pk, r[2].pk]).update(delivery=deliveries[0])
    return Case(base=base, event=event, campaign=campaign, visitors=visitors, farsi=farsi, m1=m1, m2=m2,
                replies=r, deliveries=deliveries)
