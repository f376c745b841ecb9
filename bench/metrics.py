"""Metrics at scale: 1,000,000 replies and 100,000 deliveries in PostgreSQL.

Fills a dedicated database (its name must contain "bench", or be given again with --database; it
is created if missing, and emptied when its contents do not match the sizes asked for: messages and
deliveries with generate_series, the replies generated in Python and written with COPY, see
bench/copyload.py, about a minute per million on a shared 2-core machine), then prints
the time of the dashboard's queries, the whole dashboard page, the trust API and the
after-action report (HTML and PDF), cold (first run) and warm (median of --repeat runs):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/engage_metrics_bench \\
    .venv/bin/python bench/metrics.py

Targets: dashboard under 500 ms at 1M replies, under 250 ms at 10M (issue 17); PDF under 5 s.
At 10M: ``--replies 10000000``, then ``--no-load --no-summary-rebuild`` to reuse the rows and the
summary (the full rebuild took 15 minutes).

The data: one team with every reply (the worst case for a team dashboard), 6 channels, 8
segments, 10 events and a standing campaign; 20,000 published messages (half of them for one
large event, so its after-action report covers about 400,000 replies), 5 deliveries each; replies
over 90 days, 80% linked to a message, in 7 languages, with Farsi speakers answered less and
more slowly than the rest (so the under-served flag shows at scale too).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engage.settings")
os.environ.setdefault("ENGAGE_REQUIRE_2FA", "0")

SEGMENTS = 8
CHANNEL_KINDS = ("mastodon", "telegram", "sms", "x", "facebook", "webhook")
EVENTS = 10
# Indexes on the replies table (another engineer's model) that make the summary's incremental
# refresh read only what changed; proposed, not in any migration yet.
PROPOSED = (
    "CREATE INDEX IF NOT EXISTS proposed_reply_team_received ON engage_reply (team_id, received_at)",
    "CREATE INDEX IF NOT EXISTS proposed_reply_updated ON engage_reply (updated_at)",
    "CREATE INDEX IF NOT EXISTS proposed_reply_created ON engage_reply (created_at)",
    "CREATE INDEX IF NOT EXISTS proposed_reply_sla_open ON engage_reply (sla_due_at) WHERE first_response_at IS NULL",
)
from bench.copyload import copy_lines  # noqa: E402 - after the path is set

PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway bench database


def ensure_database(url: str, allowed: str = "") -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    if "bench" not in name and name != allowed:
        raise SystemExit(f"Refusing to use database {name!r}: its name must contain 'bench' "
                         "(or be named again with --database).")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def build(replies: int, deliveries: int) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Role
    from accounts.services import membership_set, team_create, user_create
    from campaigns.services import events as event_services
    from campaigns.services.channels import channel_create
    from campaigns.services.segments import segment_create

    call_command("flush", verbosity=0, interactive=False)
    now = timezone.now()
    force = team_create(name="Bench force", slug="bench-force")
    team = team_create(name="Bench comms", slug="bench-comms", parent=force)
    supervisor = user_create(email="supervisor@bench.test", password=PASSWORD, full_name="Bench Supervisor")
    officer = user_create(email="officer@bench.test", password=PASSWORD, full_name="Bench Officer")
    admin = user_create(email="admin@bench.test", password=PASSWORD, full_name="Bench Admin")
    membership_set(user=supervisor, team=team, role=Role.SUPERVISOR)
    membership_set(user=officer, team=team, role=Role.OFFICER)
    membership_set(user=admin, team=team, role=Role.ADMIN)
    channels = [channel_create(actor=admin, team=team, kind=kind, name=f"Bench {kind}",
                               config={"instance_url": "http://127.0.0.1:9"} if kind == "mastodon" else {}).pk
                for kind in CHANNEL_KINDS]
    languages = ["fa", "ar", "en", "pl", "ro", "ti", "en", "en"]
    segments = [segment_create(actor=officer, team=team, name=f"Segment {i}" if i else "Farsi speakers",
                               languages=[languages[i]], channels=["sms"], needs=[]).pk for i in range(SEGMENTS)]
    events, campaigns = [], []
    for j in range(EVENTS):
        starts = now - timedelta(days=85 - 8 * j)
        event = event_services.event_create(actor=officer, team=team, name=f"Bench event {j}", kind="protest",
                                            starts_at=starts, ends_at=starts + timedelta(hours=8))
        events.append(event)
        campaigns.append(event_services.campaign_create(actor=officer, team=team, name=f"Bench event {j}",
                                                        event=event).pk)
    campaigns.append(event_services.campaign_create(actor=officer, team=team, name="Standing engagement").pk)
    messages = max(1, deliveries // 5)
    start = now - timedelta(days=90)
    event_starts = "ARRAY[" + ",".join(f"'{e.starts_at.isoformat()}'::timestamptz" for e in events) + \
        f",'{start.isoformat()}'::timestamptz]"
    camp = "ARRAY[" + ",".join(str(c) for c in campaigns) + "]"
    chan = "ARRAY[" + ",".join(str(c) for c in channels) + "]"
    segs = "ARRAY[" + ",".join(str(s) for s in segments) + "]"
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        # Messages: even ones for the big event 0; the rest spread over events 1..9 and the standing campaign.
        cursor.execute(f"""
            INSERT INTO campaigns_message (id, title, body, language, urgency, instructive, links, hashtags, cap,
                status, version, content_hash, approved_hash, approved_version, approved_at, emergency_self_approved,
                published_at, created_at, updated_at, author_id, approved_by_id, campaign_id, team_id)
            SELECT g, 'Bench message ' || g, repeat('Bench body text. ', 12), 'en', 'routine', true, '[]', '[]', '{{}}',
                'published', 1, md5(g::text), md5(g::text), 1, t, false, t, t, t, %s, %s, c, %s
            FROM (SELECT g,
                         CASE WHEN g %% 2 = 0 THEN 1 ELSE 2 + ((g / 2) %% 10) END AS k
                  FROM generate_series(1, %s) g) s,
                 LATERAL (SELECT ({camp})[k] AS c,
                                 LEAST(now(), CASE WHEN k <= {EVENTS}
                                      THEN ({event_starts})[k] - interval '24 hours' + random() * interval '48 hours'
                                      ELSE ({event_starts})[k] + random() * interval '90 days' END) AS t) x
        """, [officer.pk, supervisor.pk, team.pk, messages])  # noqa: S608 - only ids and times we generated
        cursor.execute("SELECT setval(pg_get_serial_sequence('campaigns_message', 'id'), %s)", [messages])
        cursor.execute(f"""
            INSERT INTO campaigns_message_segments (message_id, segment_id)
            SELECT g, ({segs})[1 + g %% {SEGMENTS}] FROM generate_series(1, %s) g
            UNION
            SELECT g, ({segs})[1 + (g * 3) %% {SEGMENTS}] FROM generate_series(1, %s) g WHERE g %% 3 = 0
        """, [messages, messages])  # noqa: S608 - only ids and times we generated
        cursor.execute(f"""
            INSERT INTO campaigns_delivery (status, idempotency_key, urgent, due_at, attempts, claim_token, sent_at,
                external_id, external_url, last_error, manual_takedown, needs_review, created_at, updated_at,
                channel_id, message_id, lookup_answer, lookup_asks, lookup_token)
            SELECT CASE WHEN r < 0.90 THEN 'sent' WHEN r < 0.95 THEN 'failed' WHEN r < 0.97 THEN 'withdrawn'
                        WHEN r < 0.98 THEN 'unconfirmed' ELSE 'pending' END,
                   'bench-' || m.id || '-' || k, false, m.published_at, 1, '',
                   CASE WHEN r < 0.90 OR (r >= 0.95 AND r < 0.97) THEN m.published_at + interval '2 seconds' END,
                   'ext-' || m.id || '-' || k, '', '', false, false, m.published_at, m.published_at,
                   ({chan})[1 + (m.id + k) %% 6], m.id, '', 0, ''
            FROM campaigns_message m CROSS JOIN generate_series(0, 4) k, LATERAL (SELECT random() AS r) x
            WHERE m.id <= %s
        """, [deliveries // 5])  # noqa: S608 - only ids and times we generated
        cursor.execute("SELECT id, published_at FROM campaigns_message WHERE id <= %s ORDER BY id", [messages])
        published = {pk: at for pk, at in cursor.fetchall()}
        copy_lines(cursor, "engage_reply", REPLY_COLUMNS,
                   reply_lines(replies, messages=messages, published=published, channels=channels, team=team.pk,
                               now=timezone.now(), start=start),
                   total=replies, label="replies")
        cursor.execute("ANALYZE")
        cursor.execute("VACUUM ANALYZE engage_reply")  # the visibility map, as autovacuum keeps it: index-only scans
    return {"team": team.pk, "supervisor": supervisor.pk, "event": events[0].pk}


REPLY_COLUMNS = (
    "source", "provider_id", "in_reply_to", "raw_payload", "raw_text", "text", "text_masked", "author_handle",
    "author_name", "author_key", "language", "sentiment", "sentiment_score", "category", "category_confidence",
    "urgent", "urgent_terms", "pii_kinds", "status", "restricted", "legal_hold", "received_at", "created_at",
    "processed_at", "processing_attempts", "processing_error", "sla_due_at", "first_response_at", "closed_at",
    "updated_at", "channel_id", "message_id", "team_id",
)
LANGUAGES = ("en", "en", "en", "en", "en", "en", "ar", "fa", "pl", "ro", "ti", "unknown")
SENTIMENTS = ("positive", "neutral", "neutral", "negative", "unknown")
CATEGORIES = ("question", "question", "question", "question", "question", "question", "question", "information",
              "information", "complaint", "complaint", "complaint", "praise", "praise", "praise", "rumour",
              "emergency", "crime_report", "abuse", "spam", "spam", "")
SLA = {"question": timedelta(minutes=60), "complaint": timedelta(days=1), "emergency": timedelta(minutes=5),
       "rumour": timedelta(hours=2), "information": timedelta(hours=4), "crime_report": timedelta(hours=1)}


def reply_lines(replies: int, *, messages: int, published: dict[int, Any], channels: list[int], team: int,
                now: Any, start: Any) -> Any:
    """The replies as COPY text lines, one at a time (so memory stays bounded at any size).

    Reply g: 80% answer a random message (received within 6 hours of its publication), the rest
    arrive at any time in the 90 days; Farsi is 60% of the replies to every 8th message (the Farsi
    speakers' segment) and 1 in 12 elsewhere; Farsi speakers are answered less often (41% against
    88%) and more slowly (mean 3 hours against 40 minutes); anything older than two days that was
    not answered is mostly closed.
    """
    import math
    import random

    rng = random.Random(42)
    rand = rng.random
    latest = now - timedelta(minutes=1)
    six_hours = 6 * 3600
    span = 90 * 86400
    two_days_ago = now - timedelta(days=2)
    team_s = str(team)
    chans = [str(c) for c in channels]
    for g in range(1, replies + 1):
        msg = 1 + int(rand() * messages) if rand() < 0.8 else None
        sent = SENTIMENTS[int(rand() * 5)]
        cat = CATEGORIES[int(rand() * 22)]
        r = rand()
        lang = "fa" if msg is not None and msg % SEGMENTS == 0 and rand() < 0.6 else LANGUAGES[int(rand() * 12)]
        base = published.get(msg) if msg is not None else None
        rec = (base if base is not None else start + timedelta(seconds=r * span)) + timedelta(
            seconds=rand() * six_hours)
        if rec > latest:
            rec = latest
        fa = lang == "fa"
        ans = (cat not in ("praise", "abuse", "spam") and rand() < (0.41 if fa else 0.88)) or (
            cat == "praise" and rand() < 0.3)
        rt = -math.log(1 - rand() * 0.999) * (10800 if fa else 2400)
        if ans:
            status = "closed" if g % 3 == 0 else "answered"
        elif rec < two_days_ago and g % 100 < 97:
            status = "closed"
        else:
            status = "new" if g % 2 == 0 else "assigned"
        received = rec.isoformat()
        sla = SLA.get(cat)
        first = min(now, rec + timedelta(seconds=rt)).isoformat() if ans else NULL
        processed = (rec + THREE_SECONDS).isoformat() if cat else NULL
        due = (rec + sla).isoformat() if sla else NULL
        message = NULL if msg is None else str(msg)
        txt = f"Bench reply number {g}: {WORDS}"
        yield (f"mastodon\tbench-{g}\t\t{{\"id\": {g}, \"bench\": true}}\t{txt}\t{txt}\t{txt}\t"
               f"@someone{g % 50000}\t\tsomeone{g % 50000}\t{lang}\t{sent}\t0.1\t{cat}\t0.8\tf\t[]\t[]\t"
               f"{status}\tf\tf\t{received}\t{received}\t{processed}\t1\t\t{due}\t{first}\t{NULL}\t{received}\t"
               f"{chans[g % 6]}\t{message}\t{team_s}\n")


NULL = "\\N"  # COPY's text format
WORDS = "some words people write " * 6
THREE_SECONDS = timedelta(seconds=3)


def timed(label: str, fn: Callable[[], Any], repeat: int) -> dict[str, Any]:
    from django.db import connection, reset_queries

    results = []
    queries = 0
    for i in range(repeat + 1):
        reset_queries()
        started = time.perf_counter()
        fn()
        results.append((time.perf_counter() - started) * 1000)
        if i == 0:
            queries = len(connection.queries)
    warm = results[1:] or results
    row = {"what": label, "queries": queries, "cold_ms": results[0], "median_ms": statistics.median(warm),
           "min_ms": min(warm), "load": os.getloadavg()[0]}
    print(f"{label:<58} {queries:>4} {results[0]:>10.0f} {row['median_ms']:>10.0f} {row['min_ms']:>10.0f}"
          f" {row['load']:>6.2f}", flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replies", type=int, default=1_000_000)
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="empty and refill even if the sizes match")
    parser.add_argument("--proposed-indexes", action="store_true",
                        help="create the indexes on engage_reply proposed for the summary's refresh (see PROPOSED)")
    parser.add_argument("--no-summary-rebuild", action="store_true",
                        help="refresh the summary incrementally instead of rebuilding it from scratch")
    parser.add_argument("--no-load", action="store_true", help="use the rows already loaded, whatever their number")
    parser.add_argument("--database", default="",
                        help="the database's name, to confirm it may be emptied when it does not contain 'bench'")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database whose name contains 'bench'.")
    ensure_database(url, args.database)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.DEBUG = True  # count queries
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0, interactive=False)
    from accounts.models import User
    from campaigns.models import Delivery, Event
    from engage.models import Reply

    have = (Reply.objects.count(), Delivery.objects.count())
    if args.no_load:
        pass
    elif args.rebuild or have[0] < args.replies - 1000 or have[1] != args.deliveries:
        print(f"Filling the database: {args.replies:,} replies, {args.deliveries:,} deliveries ...", flush=True)
        started = time.perf_counter()
        build(args.replies, args.deliveries)
        print(f"  filled in {time.perf_counter() - started:.0f} s", flush=True)
    from engage.metrics.rollup import summary_refresh

    if args.proposed_indexes:
        with connection.cursor() as cursor:
            for statement in PROPOSED:
                cursor.execute(statement)
            cursor.execute("ANALYZE engage_reply")
        print("Proposed indexes on engage_reply created.", flush=True)
    started = time.perf_counter()
    if args.no_summary_rebuild:
        refreshed = summary_refresh()
        print(f"Summary table refreshed: {refreshed} rows rewritten in {time.perf_counter() - started:.1f} s",
              flush=True)
    else:
        refreshed = summary_refresh(full=True)
        print(f"Summary table rebuilt from scratch: {refreshed} rows in {time.perf_counter() - started:.1f} s",
              flush=True)
    from django.db.models import F
    from django.utils import timezone

    touched = Reply.objects.order_by("-received_at")[:100]  # what changes in a minute: the newest replies
    Reply.objects.filter(pk__in=[r.pk for r in touched]).update(updated_at=timezone.now(), status="closed",
                                                               first_response_at=F("received_at") + timedelta(hours=1))
    started = time.perf_counter()
    refreshed = summary_refresh()
    print(f"Incremental refresh after the 100 newest replies changed: {refreshed} rows rewritten in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    user = User.objects.get(email="supervisor@bench.test")
    event = Event.objects.get(name="Bench event 0")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM engage_reply r JOIN campaigns_message m ON m.id = r.message_id "
                       "WHERE m.campaign_id IN (SELECT id FROM campaigns_campaign WHERE event_id = %s)", [event.pk])
        event_replies = cursor.fetchone()[0]
    print(f"{Reply.objects.count():,} replies, {Delivery.objects.count():,} deliveries; "
          f"the large event has {event_replies:,} replies. PostgreSQL {connection.pg_version}.")
    run(user, event, args.repeat)
    return 0


def run(user: Any, event: Any, repeat: int) -> None:
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from engage.metrics import reports, trust_metrics
    from engage.metrics.dashboard import dashboard
    from engage.metrics.scope import resolve_scope
    from engage.metrics.views import period_bounds

    client = Client()
    client.force_login(user)
    tz = resolve_scope(user=user).tz
    since, _until = period_bounds("30d", zone=tz, since=None, until=None, now=timezone.now())
    odd_since = timezone.now() - timedelta(days=30)
    farsi = user.memberships.first().team.segments.get(name="Farsi speakers")
    print(f"\n{'what':<58} {'queries':>4} {'cold ms':>10} {'median ms':>10} {'min ms':>10} {'load':>6}")
    timed("dashboard data: team, all replies", lambda: dashboard(resolve_scope(user=user)), repeat)
    timed("dashboard data: team, last 30 days (whole days)",
          lambda: dashboard(resolve_scope(user=user, since=since)), repeat)
    timed("dashboard data: team, since a time 30 days ago (days + hours)",
          lambda: dashboard(resolve_scope(user=user, since=odd_since)), repeat)
    timed("dashboard data: the large event",
          lambda: dashboard(resolve_scope(user=user, event=event.pk)), repeat)
    timed("dashboard data: one segment (Farsi speakers)",
          lambda: dashboard(resolve_scope(user=user, segment=farsi.pk)), repeat)
    timed("dashboard data: one segment, last 30 days",
          lambda: dashboard(resolve_scope(user=user, segment=farsi.pk, since=since)), repeat)
    timed("dashboard data: one segment, the large event",
          lambda: dashboard(resolve_scope(user=user, segment=farsi.pk, event=event.pk)), repeat)
    timed("dashboard data: one language (fa)",
          lambda: dashboard(resolve_scope(user=user, language="fa")), repeat)
    timed("dashboard data: one language, last 30 days",
          lambda: dashboard(resolve_scope(user=user, language="fa", since=since)), repeat)
    timed("dashboard data: one language and segment, the large event",
          lambda: dashboard(resolve_scope(user=user, language="fa", segment=farsi.pk, event=event.pk)), repeat)
    timed("dashboard page (HTTP), one segment",
          lambda: _ok(client.get(f"/desk/dashboard/?segment={farsi.pk}&period=all")), repeat)
    timed("dashboard page (HTTP, rendered with charts), all time",
          lambda: _ok(client.get("/desk/dashboard/?period=all")), repeat)
    timed("dashboard page (HTTP), the large event",
          lambda: _ok(client.get(f"/desk/dashboard/?event={event.pk}")), repeat)
    timed("engage.metrics.trust_metrics: team, all time", lambda: trust_metrics(user=user), repeat)
    timed("trust API (HTTP; its view still calls selectors_inbox)", lambda: _ok(client.get("/api/v1/metrics/trust/")),
          repeat)
    timed("series API (HTTP): median response per day",
          lambda: _ok(client.get("/api/v1/metrics/series/?metric=median_response_seconds&interval=day")), repeat)
    timed("after-action report data: the large event",
          lambda: reports.event_report(user=user, event_id=event.pk), max(1, repeat // 2))
    timed("after-action report page (HTTP, HTML)",
          lambda: _ok(client.get(f"/desk/dashboard/events/{event.pk}/report/")), max(1, repeat // 2))
    timed("after-action report PDF (HTTP)",
          lambda: _ok(client.get(f"/desk/dashboard/events/{event.pk}/report.pdf")), max(1, repeat // 2))


def _ok(response: Any) -> Any:
    if response.status_code != 200:
        raise SystemExit(f"HTTP {response.status_code}: {response.content[:300]!r}")
    if not getattr(response, "streaming", False):
        _ = response.content
    return response


if __name__ == "__main__":
    raise SystemExit(main())
