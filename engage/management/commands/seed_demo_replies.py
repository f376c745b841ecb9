"""Demo replies for the trust dashboard: enough for meaningful charts. Run after ``seed_demo``.

Adds, for the demo force:

* a football derby that already happened, "Northshire v Westport derby" (13 days ago), with a
  segment "Farsi-speaking residents near the stadium", eight messages published before, during
  and after it (through the approval and publishing services, on the public news channel), and
  about 360 replies to them in English, Farsi and Polish across the three phases;
* about 70 replies to the climate march message published by ``seed_demo`` (today);
* about 50 messages to the community desk through the public form over the last three weeks.

Replies are stored with ``reply_store`` and classified with ``reply_process`` (the real
classifier). Farsi speakers are deliberately answered much less and more slowly (about 4 in 10,
in hours, against about 9 in 10 in under an hour for everyone else), so the under-served flag
shows on the derby's dashboard.

Two things the services cannot do, because they take their times from the clock, are done by
the bulk helpers below and nowhere else: :func:`_backdate_message` moves a published demo
message's times (and its deliveries') to when the story says it went out, and
:func:`_record_demo_answers` records answers as sent at a past time (``ReplyAnswer`` rows with a
pre-approved template, ``first_response_at``, status), as ``answer_send`` would have, without
contacting any platform. One audit event records what they did. About half of the people answered
on email, SMS or Telegram then vote on "Did this answer help?" through the real service
(:func:`_record_demo_votes`; Farsi speakers, answered late, say yes less often).

Safe to run twice: everything is looked up first (events and segments by name, messages by
title, replies by their provider id), and answers are only recorded for replies that have none.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import Team, User
from campaigns import publishing
from campaigns.models import Campaign, Channel, ChannelKind, Delivery, Event, Message, MessageStatus, Segment
from campaigns.services import events as event_services
from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.services.segments import segment_create
from engage.inbound.feedback import feedback_record, feedback_token
from engage.inbound.ingest import reply_store
from engage.inbound.processing import reply_process
from engage.models import (
    AnswerKind,
    AnswerStatus,
    AnswerTemplate,
    Reply,
    ReplyAnswer,
    ReplySource,
    ReplyStatus,
)

DERBY = "Northshire v Westport derby"
FARSI_SEGMENT = "Farsi-speaking residents near the stadium"
TEXTS: dict[str, list[str]] = {
    "en_question": [
        "What time do the gates open on Saturday?", "Which car park is closest to the away end?",
        "Is the train station open after the match?", "Can I bring a small bag into the stadium?",
        "Where do away fans meet before kick-off?", "How do I get back to the station after the game?",
        "Are the roads around Station Road closed today?", "Is there step-free access at Gate C?",
        "Will there be extra buses after the final whistle?", "Where is the nearest first aid point?",
    ],
    "en_complaint": [
        "The queue at Gate A was terrible and nobody told us anything.",
        "Stewards were rude to my kids at the turnstile, not acceptable.",
        "Really disappointed, the road closure signs were wrong and we walked for nothing.",
    ],
    "en_praise": [
        "Thank you to the officers on Station Road, really helpful and friendly.",
        "Great job today, thanks for keeping everyone safe.", "Thanks for the quick updates, much appreciated.",
    ],
    "en_rumour": ["People are saying the match has been cancelled, is that true?",
                  "Someone posted that the bridge is closed, is this a rumour?"],
    "en_information": ["FYI the lift at the station is out of order.",
                       "Heads up: the cash machine by Gate D is not working."],
    "en_spam": ["Buy cheap tickets now at best prices click here www.example.com"],
    "fa_question": [
        "ساعت چند درهای ورزشگاه باز می شود؟", "آیا قطار بعد از بازی کار می کند؟", "کجا می توانم ماشین را پارک کنم؟",
        "آیا جاده ها امروز بسته است؟", "برای خانواده ها راه ورود جداگانه وجود دارد؟",
    ],
    "pl_question": ["O której otwierają bramy na stadion?", "Czy pociąg jeździ po meczu?"],
    "ar_question": ["متى تفتح أبواب الملعب؟", "هل القطار يعمل بعد المباراة؟"],
    "ti_question": ["ባቡር ድሕሪ ጸወታ ይሰርሕ ድዩ?"],
}
# (title, hours from kick-off, segments, body)
DERBY_MESSAGES = [
    ("Derby travel: plan ahead", -48, ["Visiting away supporters"],
     "The Northshire v Westport derby is on Saturday. Roads near the stadium will be busy from noon. Please use "
     "the train and allow extra time. #DerbyDay"),
    ("Derby: help in Farsi", -30, [FARSI_SEGMENT],
     "Living near the stadium? On Saturday roads close from noon. Ask any officer in a blue vest for help; "
     "information in Farsi is at the help point by Gate C. #DerbyDay"),
    ("Derby: what to bring", -3, ["Visiting away supporters", "Older residents"],
     "Going to the derby today? Bring your ticket and water in a plastic bottle. Glass and flares are not "
     "allowed. #DerbyDay"),
    ("Gates are open", 0.5, ["Visiting away supporters"],
     "Gates are now open. Away supporters please use Gate D on Station Road. #DerbyDay"),
    ("Station Road closed for a short time", 2, ["Older residents", FARSI_SEGMENT],
     "Station Road is closed for a short time while supporters cross. Please use Mill Lane instead. #DerbyDay"),
    ("Leaving the stadium", 4, ["Visiting away supporters"],
     "The match has finished. Please follow the stewards to the station; extra trains run until 22:00. #DerbyDay"),
    ("Roads reopened", 6.5, ["Older residents"],
     "All roads around the stadium have reopened. Thank you for your patience today. #DerbyDay"),
    ("Thank you, and tell us how it went", 26, ["Visiting away supporters", FARSI_SEGMENT],
     "Thank you to everyone who came to the derby. Tell us what worked and what did not: reply to this post. "
     "#DerbyDay"),
]


def _backdate_message(message: Message, when: datetime) -> None:
    """Bulk helper: move a demo message's workflow times and its deliveries' to ``when``."""
    Message.objects.filter(pk=message.pk).update(
        created_at=when - timedelta(hours=2), submitted_at=when - timedelta(minutes=90),
        approved_at=when - timedelta(minutes=60), scheduled_at=when, published_at=when)
    Delivery.objects.filter(message=message).update(
        created_at=when - timedelta(minutes=60), due_at=when, claimed_at=when, sent_at=when + timedelta(seconds=2))


def _record_demo_votes(answers: list[ReplyAnswer], groups: dict[int, str]) -> int:
    """Some of the people answered on email, SMS or Telegram say whether the answer helped (the
    anonymous "Did this answer help?" votes, through the real service): Farsi speakers, answered late,
    say yes less often. Only answers recorded in this run vote, so repeating adds none."""
    votes = 0
    for answer in answers:
        reply = answer.reply
        kind = reply.channel.kind if reply.channel_id else ChannelKind.EMAIL  # the form is answered by email
        if kind not in (ChannelKind.EMAIL, ChannelKind.SMS, ChannelKind.TELEGRAM):
            continue
        rng = random.Random(f"vote-{reply.provider_id}")  # noqa: S311 - demo data, the same on every run
        if rng.random() >= 0.45:
            continue
        ReplyAnswer.objects.filter(pk=answer.pk).update(feedback_requested=True)
        helpful = rng.random() < (0.45 if groups.get(reply.pk) == "fa" else 0.85)
        votes += feedback_record(token=feedback_token(answer_id=answer.pk, channel_kind=kind), helpful=helpful)
    return votes


def _record_demo_answers(plan: list[tuple[Reply, datetime, bool]], template: AnswerTemplate,
                         actor: User) -> list[ReplyAnswer]:
    """Bulk helper: record each reply's answer as sent at the given time (and close some)."""
    made = []
    for reply, sent_at, close in plan:
        key = f"engage-demo-answer-{reply.pk}"
        if ReplyAnswer.objects.filter(Q(reply=reply) | Q(idempotency_key=key)).exists():
            continue
        answer = ReplyAnswer.objects.create(
            reply=reply, kind=AnswerKind.TEMPLATE, template=template, body=template.body, language=template.language,
            status=AnswerStatus.SENT, idempotency_key=key, attempts=1, claimed_at=sent_at, sent_at=sent_at,
            external_id=f"demo-{reply.pk}", created_by=actor, created_at=sent_at - timedelta(seconds=20))
        Reply.objects.filter(pk=reply.pk, first_response_at__isnull=True).update(
            first_response_at=sent_at, status=ReplyStatus.CLOSED if close else ReplyStatus.ANSWERED,
            closed_at=sent_at + timedelta(minutes=5) if close else None, assignee=actor, updated_at=timezone.now())
        made.append(answer)
    return made


class Command(BaseCommand):
    help = "Add demo replies (a past derby, today's march, the community desk) for the dashboard. Safe to repeat."

    def handle(self, *args: Any, **options: Any) -> None:
        rng = random.Random(2026)  # noqa: S311 - demo data, not security
        ops = Team.objects.filter(slug="northshire-events").first()
        community = Team.objects.filter(slug="northshire-community").first()
        if ops is None or community is None:
            self.stderr.write("Run seed_demo first.")
            return
        officer = User.objects.get(email="officer@engage.test")
        supervisor = User.objects.get(email="supervisor@engage.test")
        liaison = User.objects.get(email="liaison@engage.test")
        zone = ZoneInfo(ops.timezone)
        derby, messages = self._derby(ops, officer, supervisor, zone)
        stored: list[tuple[Reply, str]] = []
        stored += self._derby_replies(ops, derby, messages, rng)
        stored += self._march_replies(ops, rng)
        stored += self._community_replies(community, rng)
        processed = 0
        for reply, _group in stored:
            if reply.processed_at is None:
                processed += bool(reply_process(reply_id=reply.pk))
        template = (AnswerTemplate.objects.filter(team__isnull=True, purpose="general", language="en").first()
                    or AnswerTemplate.objects.filter(purpose="general").first())
        answered = votes = 0
        if template is not None:
            groups = {r.pk: g for r, g in stored}
            plan = self._answer_plan([Reply.objects.get(pk=r.pk) for r, _g in stored], groups)
            with transaction.atomic():
                answers = _record_demo_answers(plan, template, supervisor)
                answered = len(answers)
                votes = _record_demo_votes(answers, groups)
                if answered:
                    audit_record(actor=None, verb="demo.replies_seeded", team=ops.pk,
                                 summary={"replies": len(stored), "processed": processed, "answers": answered,
                                          "votes": votes, "by": "seed_demo_replies", "liaison": liaison.pk})
        try:
            from engage.metrics.rollup import summary_refresh

            summary_refresh(full=True)
        except Exception as exc:  # noqa: BLE001 - the summary is an optimisation; the demo works without it
            self.stderr.write(f"Could not refresh the metrics summary: {exc}")
        self.stdout.write(self.style.SUCCESS(
            f"Demo replies ready: {len(stored)} replies ({processed} classified now), {answered} answers recorded, "
            f"{votes} “did this help?” votes. "
            f"Open the dashboard for “{DERBY}”."))

    # --- the past derby ------------------------------------------------------------------------------

    def _derby(self, ops: Team, officer: User, supervisor: User, zone: ZoneInfo) -> tuple[Event, list[Message]]:
        event = Event.objects.filter(team=ops, name=DERBY).first()
        if event is None:
            day = (timezone.now() - timedelta(days=13)).astimezone(zone).date()
            kickoff = datetime(day.year, day.month, day.day, 15, 0, tzinfo=zone)
            event = event_services.event_create(
                actor=officer, team=ops, name=DERBY, kind="planned", starts_at=kickoff - timedelta(hours=2),
                ends_at=kickoff + timedelta(hours=5), location="Northshire Stadium, Station Road",
                hashtags=["DerbyDay"], risk_level="high", expected_attendance=26000)
            event_services.campaign_create(actor=officer, team=ops, name=DERBY, event=event)
        campaign = Campaign.objects.get(event=event)
        segments = {s.name: s for s in Segment.objects.filter(team=ops)}
        if FARSI_SEGMENT not in segments:
            segments[FARSI_SEGMENT] = segment_create(
                actor=officer, team=ops, name=FARSI_SEGMENT, languages=["fa"], channels=["telegram", "sms", "public"],
                areas=["Station Road"], needs=[],
                description="Farsi-speaking families living in the streets around the stadium.")
        public = Channel.objects.get(team=ops, kind="public")
        kickoff = event.starts_at + timedelta(hours=2)
        messages = []
        for title, hours, segment_names, body in DERBY_MESSAGES:
            message = Message.objects.filter(campaign=campaign, title=title).first()
            if message is None:
                message = message_services.message_create(
                    actor=officer, campaign=campaign, title=title, body=body, channels=[public],
                    segments=[segments[n] for n in segment_names if n in segments], hashtags=["DerbyDay"])
                workflow.message_submit(actor=officer, message=message)
                workflow.message_approve(actor=supervisor, message=message)
                publishing.message_schedule(actor=officer, message=message, scheduled_at=None)
                from campaigns.publishing import deliveries_claim_due, delivery_send

                for delivery_id, token, _urgent in deliveries_claim_due():
                    delivery_send(delivery_id=delivery_id, token=token)
                message.refresh_from_db()
                if message.status in (MessageStatus.PUBLISHED, MessageStatus.PARTIALLY_PUBLISHED):
                    _backdate_message(message, kickoff + timedelta(hours=hours))
                message.refresh_from_db()
            messages.append(message)
        return event, messages

    def _store(self, team: Team, key: str, text: str, received_at: datetime, *, message: Message | None = None,
               handle: str = "") -> Reply:
        result = reply_store(team_id=team.pk, channel=None, source=ReplySource.WEB, provider_id=f"demo-{key}",
                             text=text, author_handle=handle, received_at=received_at,
                             message_id=message.pk if message else None, raw_payload={"demo": True})
        return Reply.objects.get(pk=result.reply_id)

    def _derby_replies(self, ops: Team, derby: Event, messages: list[Message], rng: random.Random
                       ) -> list[tuple[Reply, str]]:
        out = []
        now = timezone.now()
        farsi_messages = [m for m in messages if any(s.name == FARSI_SEGMENT for s in m.segments.all())]
        for i in range(360):
            message = rng.choice(messages)
            roll = rng.random()
            if message in farsi_messages and roll < 0.55:
                group, text = "fa", rng.choice(TEXTS["fa_question"])
            elif roll < 0.05:
                group, text = "other", rng.choice(TEXTS["pl_question"])
            else:
                kind = rng.choices(["question", "complaint", "praise", "rumour", "information", "spam"],
                                   weights=[55, 12, 15, 6, 9, 3])[0]
                group, text = "en", rng.choice(TEXTS[f"en_{kind}"])
            sent = message.published_at or derby.starts_at
            received = min(now - timedelta(minutes=5), sent + timedelta(minutes=rng.expovariate(1 / 90)))
            out.append((self._store(ops, f"derby-{i}", text, received, message=message,
                                    handle=f"fan{i}@example.org" if i % 3 else ""), group))
        return out

    def _march_replies(self, ops: Team, rng: random.Random) -> list[tuple[Reply, str]]:
        march = Message.objects.filter(team=ops, title="March route and closures").first()
        if march is None or march.published_at is None:
            return []
        now = timezone.now()
        out = []
        for i in range(70):
            kind = rng.choices(["question", "complaint", "praise", "information"], weights=[60, 15, 15, 10])[0]
            received = min(now - timedelta(minutes=2), march.published_at + timedelta(minutes=rng.uniform(1, 100)))
            out.append((self._store(ops, f"march-{i}", rng.choice(TEXTS[f"en_{kind}"]), received, message=march),
                        "march"))
        return out

    def _community_replies(self, community: Team, rng: random.Random) -> list[tuple[Reply, str]]:
        now = timezone.now()
        out = []
        for i in range(50):
            group = rng.choices(["ar", "fa", "ti", "en"], weights=[35, 25, 15, 25])[0]
            text = rng.choice(TEXTS[f"{group}_question"] if group != "en" else TEXTS["en_question"])
            # One in four from 31 to 85 days ago, so the 90-day figures hold more than the 30-day ones.
            received = now - timedelta(days=rng.uniform(31, 85) if i % 4 == 3 else rng.uniform(0.2, 20))
            out.append((self._store(community, f"community-{i}", text, received, handle=f"+4477009{i:05d}"),
                        "community" if group != "fa" else "fa"))
        return out

    def _answer_plan(self, replies: list[Reply], groups: dict[int, str]) -> list[tuple[Reply, datetime, bool]]:
        """Who gets an answer, and when: Farsi speakers about 4 in 10 after hours; the rest about 9 in 10
        within the hour; the march's newest replies are still waiting."""
        now = timezone.now()
        plan = []
        for reply in replies:
            if reply.first_response_at is not None or reply.category in ("spam", "abuse"):
                continue
            rng = random.Random(reply.provider_id)  # noqa: S311 - the same plan on every run
            group = groups[reply.pk]
            if group == "fa":
                chance, minutes = 0.4, rng.uniform(150, 600)
            elif group == "march":
                chance, minutes = 0.75, rng.expovariate(1 / 20)
            else:
                chance, minutes = 0.9 if reply.category != "praise" else 0.4, rng.expovariate(1 / 25) + 2
            if rng.random() >= chance:
                continue
            sent_at = reply.received_at + timedelta(minutes=minutes)
            if sent_at >= now:
                continue
            plan.append((reply, sent_at, rng.random() < 0.5))
        return plan
