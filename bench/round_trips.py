"""What one unit of work costs: database round trips and CPU of one delivery, one webhook reply,
one public page view, one inbox list and one dashboard load, in process (docs/scaling.md).

Round trips are the statements Django sends, counted with ``CaptureQueriesContext`` (each is one
round trip to the database; a transaction's BEGIN and COMMIT are two more when the code opens
one, and are not in Django's list: they are counted from the ``atomic`` blocks separately and
reported in the notes). CPU is this thread's CPU time (``time.thread_time``): it leaves out the
platform sandbox (its own threads), PostgreSQL, Redis and Celery's own overhead, which
bench/publish_burst.py measures for the whole machine.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/engage_bench_trips \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/12 CACHE_URL=redis://127.0.0.1:6379/13 \\
    .venv/bin/python bench/round_trips.py

It uses (and empties) the database it is given: never point it at real data.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engage.settings")
os.environ.setdefault("ENGAGE_REQUIRE_2FA", "0")

from ingest import SECRET  # noqa: E402
from public import seed_world  # noqa: E402
from publish_burst import burst_world, messages_prepare  # noqa: E402


def measure(fn: Callable[[], object]) -> tuple[int, float, list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.thread_time()
        fn()
        cpu = time.thread_time() - started
    return len(captured.captured_queries), cpu, [q["sql"][:90] for q in captured.captured_queries]


def report(name: str, samples: list[tuple[int, float, list[str]]], verbose: bool) -> None:
    trips = [s[0] for s in samples]
    cpu = [s[1] * 1000 for s in samples]
    print(f"{name:<44} {statistics.median(trips):>6.0f} {min(trips):>4}-{max(trips):<4} "
          f"{statistics.median(cpu):>8.1f}")
    if verbose:
        for sql in samples[len(samples) // 2][2]:
            print(f"      {sql}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--verbose", action="store_true", help="print the statements of a median run")
    args = parser.parse_args()

    world, paths = seed_world(50)
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from campaigns.publishing import deliveries_claim_due, delivery_send
    from core.signing import sign
    from engage.inbound.processing import reply_process_safely
    from engage.models import Reply
    from engage.public import cache as public_cache
    from platforms.sandbox import Sandbox

    print(f"database {connection.vendor}, cache {settings.CACHE_URL or 'file'}, broker "
          f"{settings.CELERY_BROKER_URL.split('://')[0]}; {args.runs} runs each; CPU of this thread only")
    tw = world.a
    sandbox = Sandbox.start()
    officer, supervisor, channels, campaign = burst_world(
        sandbox, latency=0.0, team=tw.team, officer=tw.officer, supervisor=tw.supervisor, admin=tw.admin,
        campaign=tw.campaign, extra_config={"webhook": {"inbound_secret": SECRET}})
    print(f"{'unit of work':<44} {'trips':>6} {'range':>9} {'CPU ms':>8}")

    # One delivery: the worker's whole send (check, mark in flight, build, call, record, settle).
    messages_prepare(officer=officer, supervisor=supervisor, campaign=campaign, channels=channels,
                     count=max(1, args.runs // len(channels)) + 1)
    tick = []
    claimed: list = []
    while len(claimed) < args.runs:
        trips, cpu, sql = measure(lambda: claimed.extend(deliveries_claim_due(limit=len(channels))))
        tick.append((trips, cpu, sql))
    report(f"tick: claim {len(channels)} due deliveries", tick, args.verbose)
    sends = [measure(lambda d=d, t=t: delivery_send(delivery_id=d, token=t)) for d, t, _ in claimed[:args.runs]]
    report("one delivery (delivery_send)", sends, args.verbose)

    # One reply: the signed webhook request, then its processing (classification, routing).
    client = Client()
    webhook = next(c for c in channels if c.kind == "webhook")
    posts = []
    for i in range(args.runs + 1):
        body = json.dumps({"id": f"trips-{i}", "author": f"@person{i}", "sent_at": "2026-12-05T00:00:00+00:00",
                           "text": f"Where is gate {i}? The queue at the north entrance is long."}).encode()
        stamp = int(time.time())
        headers = {"HTTP_X_ENGAGE_TIMESTAMP": str(stamp),
                   "HTTP_X_ENGAGE_SIGNATURE": sign(secret=SECRET, body=body, timestamp=stamp)}
        result = measure(lambda b=body, h=headers: client.post(f"/api/v1/inbound/{webhook.pk}/", data=b,
                                                               content_type="application/json", **h))
        if i:  # the first warms the channel's settings
            posts.append(result)
    report("one webhook reply (acknowledged)", posts, args.verbose)
    ids = list(Reply.objects.filter(provider_id__startswith="trips-").values_list("pk", flat=True))
    processed = [measure(lambda r=r: reply_process_safely(reply_id=r)) for r in ids[1:]]
    report("its processing (Celery task body)", processed, args.verbose)

    # One public page view: a cache hit, and a rebuild after a change (a miss).
    visitor = Client(HTTP_ACCEPT_LANGUAGE="en-GB", HTTP_ACCEPT_ENCODING="gzip")
    for name in ("event", "feed", "json"):
        visitor.get(paths[name])
        hits = [measure(lambda n=name: visitor.get(paths[n])) for _ in range(args.runs)]
        report(f"public {name} page, cached", hits, args.verbose)
        misses = []
        for _ in range(max(3, args.runs // 4)):
            public_cache.bump()  # what a publish does: every page is rebuilt on its next visit
            misses.append(measure(lambda n=name: visitor.get(paths[n])))
        report(f"public {name} page, rebuilt", misses, args.verbose)

    # A liaison's inbox list and a supervisor's dashboard, signed in.
    liaison, boss = Client(), Client()
    liaison.force_login(tw.liaison)
    boss.force_login(tw.supervisor)
    report("inbox list (GET /api/v1/replies/)", [measure(lambda: liaison.get("/api/v1/replies/"))
                                                 for _ in range(args.runs)], args.verbose)
    report("dashboard (GET /desk/dashboard/)", [measure(lambda: boss.get("/desk/dashboard/"))
                                                for _ in range(max(3, args.runs // 4))], args.verbose)
    sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
