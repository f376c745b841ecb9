"""The inbox API with 1,000,000 replies in PostgreSQL: p95 latency of the default view and of
three filters, through the whole DRF stack (authentication, filters, pagination with its count,
serialisation), in process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/engage_bench_inbox \\
    .venv/bin/python bench/inbox.py --replies 1000000 --runs 60

The replies are generated in Python and written with COPY (bench/copyload.py: bounded memory,
indexes rebuilt after the load; about 1 minute per million rows), with realistic mixes of category,
language, sentiment, status and urgency over ``--days`` (90), about 5% of them answering one of 200
messages. It uses (and empties) the database it is given: never point it at
real data. ``--keep`` reuses replies already loaded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engage.settings")

from bench.copyload import copy_lines  # noqa: E402 - after the path is set

COLUMNS = (
    "team_id", "channel_id", "source", "provider_id", "in_reply_to", "message_id", "raw_text", "text",
    "text_masked", "author_handle", "author_name", "author_key", "language", "sentiment", "sentiment_score",
    "category", "category_confidence", "urgent", "urgent_terms", "pii_kinds", "status", "assignee_id", "restricted",
    "legal_hold", "received_at", "created_at", "processed_at", "processing_attempts", "processing_error",
    "sla_due_at", "first_response_at", "updated_at",
)
LANGUAGES = ("en", "en", "en", "en", "en", "ar", "fr", "pl", "ro", "unknown")
SENTIMENTS = ("neutral", "neutral", "positive", "negative", "unknown")
CATEGORIES = ("question", "question", "question", "information", "complaint", "praise", "praise", "rumour", "spam",
              "abuse", "crime_report")
STATUSES = ("closed", "closed", "answered", "answered", "answered", "triaged", "assigned", "new", "new", "escalated")
NULL = "\\N"  # COPY's text format


def reply_lines(n: int, *, team: int, channels: list[int], messages: list[int], assignee: int, now: Any,
                days: float) -> Iterator[str]:
    """Reply g (1..n), as a COPY text line: received ``g * days / n`` ago (so newest first), every
    20th answering one of the messages, every 50th urgent, every 3rd assigned to ``assignee``."""
    step = timedelta(days=days) / n
    second, hour, minutes25 = timedelta(seconds=2), timedelta(hours=1), timedelta(minutes=25)
    team_s, assignee_s = str(team), str(assignee)
    chans = [str(c) for c in channels]
    msgs = [str(m) for m in messages]
    nchannels, nmessages = len(chans), len(msgs)
    for g in range(1, n + 1):
        at = now - g * step
        received = at.isoformat()
        message = msgs[(g // 20) % nmessages] if g % 20 == 0 else NULL
        raw = f"Where is gate {g % 40}? Call me on 07700 900{g % 1000:03d}"
        first = (at + minutes25).isoformat() if g % 10 < 6 else NULL
        yield (f"{team_s}\t{chans[g % nchannels]}\twebhook\tbench-{g}\t\t{message}\t{raw}\t{raw}\t"
               f"Where is gate {g % 40}? Call me on [phone]\t@person{g % 50000}\t\tperson{g % 50000}\t"
               f"{LANGUAGES[g % 10]}\t{SENTIMENTS[g // 10 % 5]}\t0.1\t{CATEGORIES[g // 50 % 11]}\t0.6\t"
               f"{'t' if g % 50 == 0 else 'f'}\t[]\t[]\t{STATUSES[g // 7 % 10]}\t"
               f"{assignee_s if g % 3 == 0 else NULL}\tf\tf\t{received}\t{received}\t{(at + second).isoformat()}\t"
               f"0\t\t{(at + hour).isoformat()}\t{first}\t{now.isoformat()}\n")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replies", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--days", type=float, default=90,
                        help="the replies are spread evenly over this many days before now")
    parser.add_argument("--load-only", action="store_true", help="load the replies, measure nothing")
    parser.add_argument("--keep", action="store_true", help="reuse the replies already loaded")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    if connection.vendor != "postgresql":
        print("Run this against PostgreSQL: DATABASE_URL=postgres://...")
        return 2
    call_command("migrate", verbosity=0, interactive=False)

    from rest_framework.test import APIClient

    from accounts.models import Role, Team, User
    from accounts.services import membership_set, team_create, user_create
    from campaigns.models import Channel, Message
    from campaigns.services import events as event_services
    from campaigns.services import messages as message_services
    from campaigns.services.channels import channel_create
    from engage.models import Reply

    team = Team.objects.filter(slug="bench").first()
    if not args.keep or team is None or Reply.objects.count() < args.replies:
        call_command("flush", verbosity=0, interactive=False)
        team = team_create(name="Bench", slug="bench")
        officer = user_create(email="officer@bench.test", password=None)
        liaison = user_create(email="liaison@bench.test", password=None)
        admin = user_create(email="admin@bench.test", password=None)
        for user, role in ((officer, Role.OFFICER), (liaison, Role.LIAISON), (admin, Role.ADMIN)):
            membership_set(user=user, team=team, role=role)
        channels = [channel_create(actor=admin, team=team, kind="webhook", name=f"Partner {i}",
                                   config={"url": "http://127.0.0.1:9/", "inbound_secret": "s"}) for i in range(5)]
        event = event_services.event_create(actor=officer, team=team, name="Bench derby", kind="planned",
                                            starts_at=timezone.now())
        campaign = event_services.campaign_create(actor=officer, team=team, name="Bench", event=event)
        messages = [message_services.message_create(actor=officer, campaign=campaign, body=f"Update {i}.",
                                                    channels=[channels[0]], hashtags=[]) for i in range(200)]
        started = time.perf_counter()
        with connection.cursor() as cursor:
            lines = reply_lines(args.replies, team=team.pk, channels=[c.pk for c in channels],
                                messages=[m.pk for m in messages], assignee=liaison.pk, now=timezone.now(),
                                days=args.days)
            copy_lines(cursor, "engage_reply", COLUMNS, lines, total=args.replies, label="replies")
            cursor.execute("VACUUM ANALYZE engage_reply")
        print(f"loaded {args.replies:,} replies in {time.perf_counter() - started:.1f} s")
    if args.load_only:
        return 0
    liaison = User.objects.get(email="liaison@bench.test")
    event = Message.objects.filter(team=team).select_related("campaign").first().campaign.event_id
    channel = Channel.objects.filter(team=team).order_by("id").first().pk
    print(f"{Reply.objects.filter(team=team).count():,} replies in the bench team")

    views = {
        "default (urgent first, then oldest)": {},
        "open and urgent": {"urgent": "true", "open": "true"},
        "category=question, language=ar": {"category": "question", "language": "ar"},
        f"event={event}, channel={channel}": {"event": event, "channel": channel},
        "assignee=me, status=assigned": {"assignee": "me", "status": "assigned"},
    }
    print(f"{'view':<42} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu p50':>8} {'count':>9} {'load':>6}")
    worst = 0.0
    for label, params in views.items():
        timings = []
        cpu = []
        count = 0
        client = APIClient()  # one client, as one server process: middleware is loaded once
        for run in range(args.runs + 3):
            client.force_authenticate(User.objects.get(pk=liaison.pk))  # a fresh permission cache each time
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get("/api/v1/replies/", params)
            elapsed = (time.perf_counter() - started) * 1000
            cpu_ms = (time.process_time() - cpu_started) * 1000
            assert response.status_code == 200, response.content[:300]
            count = response.json()["count"]
            if run >= 3:  # warm-up
                timings.append(elapsed)
                cpu.append(cpu_ms)
        p95 = percentile(timings, 0.95)
        worst = max(worst, p95)
        print(f"{label:<42} {statistics.median(timings):>8.1f} {p95:>8.1f} {max(timings):>8.1f} "
              f"{statistics.median(cpu):>8.1f} {count:>9,} {os.getloadavg()[0]:>6.2f}")
    print(f"worst p95: {worst:.1f} ms (target < 50 ms at 10M replies, issue 17)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
