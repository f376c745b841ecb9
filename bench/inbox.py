"""The inbox API with 1,000,000 replies in PostgreSQL: p95 latency of the default view and of
three filters, through the whole DRF stack (authentication, filters, pagination with its count,
serialisation), in process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/engage_bench_inbox \\
    .venv/bin/python bench/inbox.py --replies 1000000 --runs 60

The replies are written with one INSERT ... SELECT FROM generate_series (a few seconds), with
realistic mixes of category, language, sentiment, status and urgency over 90 days, about 5% of them
answering one of 200 messages. It uses (and empties) the database it is given: never point it at
real data. ``--keep`` reuses replies already loaded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engage.settings")

LOAD_SQL = """
INSERT INTO engage_reply (
    team_id, channel_id, source, provider_id, in_reply_to, message_id, raw_payload, raw_text, text, text_masked,
    author_handle, author_name, author_key, language, sentiment, sentiment_score, category, category_confidence,
    urgent, urgent_terms, pii_kinds, status, assignee_id, restricted, legal_hold, received_at, created_at,
    processed_at, processing_attempts, processing_error, sla_due_at, first_response_at, updated_at)
SELECT
    %(team)s,
    (ARRAY[%(channels)s])[1 + (g %% %(nchannels)s)],
    'webhook',
    'bench-' || g,
    '',
    CASE WHEN g %% 20 = 0 THEN (ARRAY[%(messages)s])[1 + (g / 20) %% %(nmessages)s] END,
    NULL,
    'Where is gate ' || (g %% 40) || '? Call me on 07700 900' || lpad((g %% 1000)::text, 3, '0'),
    'Where is gate ' || (g %% 40) || '? Call me on 07700 900' || lpad((g %% 1000)::text, 3, '0'),
    'Where is gate ' || (g %% 40) || '? Call me on [phone]',
    '@person' || (g %% 50000), '', 'person' || (g %% 50000),
    (ARRAY['en','en','en','en','en','ar','fr','pl','ro','unknown'])[1 + (g %% 10)],
    (ARRAY['neutral','neutral','positive','negative','unknown'])[1 + (g / 10 %% 5)],
    0.1,
    (ARRAY['question','question','question','information','complaint','praise','praise','rumour','spam',
           'abuse','crime_report'])[1 + (g / 50 %% 11)],
    0.6,
    (g %% 50 = 0),
    '[]'::jsonb, '[]'::jsonb,
    (ARRAY['closed','closed','answered','answered','answered','triaged','assigned','new','new','escalated'])
        [1 + (g / 7 %% 10)],
    CASE WHEN g %% 3 = 0 THEN %(assignee)s END,
    false, false,
    now() - (g * interval '7.776 seconds'),
    now() - (g * interval '7.776 seconds'),
    now() - (g * interval '7.776 seconds') + interval '2 seconds',
    0, '',
    now() - (g * interval '7.776 seconds') + interval '1 hour',
    CASE WHEN g %% 10 < 6 THEN now() - (g * interval '7.776 seconds') + interval '25 minutes' END,
    now()
FROM generate_series(1, %(n)s) AS g
"""


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
            sql = LOAD_SQL % {
                "team": team.pk, "channels": ",".join(str(c.pk) for c in channels), "nchannels": len(channels),
                "messages": ",".join(str(m.pk) for m in messages), "nmessages": len(messages),
                "assignee": liaison.pk, "n": args.replies,
            }
            cursor.execute(sql)  # noqa: S608 - integers we made, formatted into our own SQL
            cursor.execute("VACUUM ANALYZE engage_reply")
        print(f"loaded {args.replies:,} replies in {time.perf_counter() - started:.1f} s")
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
    print(f"{'view':<42} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'count':>9}")
    worst = 0.0
    for label, params in views.items():
        timings = []
        count = 0
        client = APIClient()  # one client, as one server process: middleware is loaded once
        for run in range(args.runs + 3):
            client.force_authenticate(User.objects.get(pk=liaison.pk))  # a fresh permission cache each time
            started = time.perf_counter()
            response = client.get("/api/v1/replies/", params)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.content[:300]
            count = response.json()["count"]
            if run >= 3:  # warm-up
                timings.append(elapsed)
        p95 = percentile(timings, 0.95)
        worst = max(worst, p95)
        print(f"{label:<42} {statistics.median(timings):>8.1f} {p95:>8.1f} {max(timings):>8.1f} {count:>9,}")
    print(f"worst p95: {worst:.1f} ms (target < 100 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
