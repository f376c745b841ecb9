"""Publishing burst: N approved messages x 5 channels all due at once.

Local platform servers (the sandbox) answer after 50 ms; a real Celery worker sends. Prints the
time until the last delivery is sent, deliveries per second, the ratio to the ideal
(deliveries x 50 ms / concurrency), the number of duplicate posts (must be 0) and the CPU time a
delivery cost each process on the machine (worker, PostgreSQL, Redis, this bench and its sandbox).
Run it as production runs: PostgreSQL, and Redis as broker and cache.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/engage_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/3 CACHE_URL=redis://127.0.0.1:6379/4 \\
    .venv/bin/python bench/publish_burst.py --messages 1000 --concurrency 4 --pool prefork

With ``--emergency-after S``, the workers are split as a force would run them on event day: one
worker process consumes only the ``urgent`` queue (``--urgent-concurrency``), the others
``ticks,default``; S seconds into the burst an emergency message (written by the officer, approved
by the supervisor, scheduled now, to the five platforms) is added, and the bench prints how long
its deliveries took from the schedule to the last one sent, against ``--emergency-target``:

    ... bench/publish_burst.py --messages 1000 --concurrency 4 --pool prefork --emergency-after 20

It uses (and empties) the database it is given: never point it at real data.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engage.settings")

KINDS = ("mastodon", "telegram", "x", "facebook", "webhook")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_by_process() -> dict[int, tuple[str, float]]:
    """CPU seconds used so far by every process on the machine, with a short group name."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        group = ("this bench (sandbox, tick)" if int(pid) == os.getpid() else "celery" if "celery" in cmdline
                 else "postgres" if comm.startswith("postgres") else "redis" if comm.startswith("redis")
                 else "other")
        found[int(pid)] = (group, (int(fields[11]) + int(fields[12])) / TICKS, int(fields[1]))
    celery = {pid for pid, (group, _, _) in found.items() if group == "celery"}
    return {pid: ((("worker pool" if parent in celery else "worker main") if group == "celery" else group), seconds)
            for pid, (group, seconds, parent) in found.items()}  # a pool process's parent is the worker


def cpu_report(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], deliveries: int) -> None:
    used: Counter = Counter()
    for pid, (group, seconds) in after.items():
        used[group] += seconds - (before[pid][1] if pid in before else 0.0)
    total = sum(used.values())
    print(f"CPU per delivery     {total / deliveries * 1000:.1f} ms in all: " + ", ".join(
        f"{group} {seconds / deliveries * 1000:.1f}" for group, seconds in used.most_common()))


def burst_world(sandbox, *, latency: float, team=None, officer=None, supervisor=None, admin=None,
                campaign=None, extra_config: dict[str, dict] | None = None) -> tuple:
    """A team with one channel per platform kind on ``sandbox``, which answers after ``latency``
    seconds: (officer, supervisor, channels, campaign). Users, team and campaign are made unless given."""
    from accounts.models import Role
    from accounts.services import membership_set, team_create, user_create
    from campaigns.services import events as event_services
    from campaigns.services.channels import channel_create

    for kind in KINDS:
        sandbox.set_behaviour(kind, delay=latency, applies_to="all")
    if team is None:
        team = team_create(name="Bench", slug="bench")
        officer = user_create(email="officer@bench.test", password=None)
        supervisor = user_create(email="supervisor@bench.test", password=None)
        admin = user_create(email="admin@bench.test", password=None)
        for user, role in ((officer, Role.OFFICER), (supervisor, Role.SUPERVISOR), (admin, Role.ADMIN)):
            membership_set(user=user, team=team, role=role)
    channels = []
    for kind in KINDS:
        config, secrets = sandbox.config_for(kind)
        channels.append(channel_create(actor=admin, team=team, kind=kind, name=f"Bench {kind}",
                                       config={**config, **secrets, **(extra_config or {}).get(kind, {})}))
    if campaign is None:
        campaign = event_services.campaign_create(actor=officer, team=team, name="Burst")
    return officer, supervisor, channels, campaign


def messages_prepare(*, officer, supervisor, campaign, channels, count: int, first: int = 0,
                     extra_channels: dict[int, list] | None = None) -> None:
    """``count`` messages written, submitted, approved and scheduled now, through the services;
    message ``first + i`` also goes to ``extra_channels[(first + i) % n]`` when that is given."""
    from campaigns import publishing
    from campaigns.services import messages as message_services
    from campaigns.services import workflow

    for i in range(first, first + count):
        extra = (extra_channels or {}).get(i % 10, [])
        message = message_services.message_create(
            actor=officer, campaign=campaign, channels=[*channels, *extra], hashtags=["Bench"],
            body=f"Update {i}: roads near the stadium are busy. Please allow extra time. #Bench")
        workflow.message_submit(actor=officer, message=message)
        workflow.message_approve(actor=supervisor, message=message)
        publishing.message_schedule(actor=officer, message=message, scheduled_at=None)


def emergency_schedule(*, officer, supervisor, campaign, channels) -> tuple:
    """One emergency message, written, approved by a second person and scheduled now through the
    services (its tick and deliveries go to the ``urgent`` queue); (message, when it was scheduled)."""
    from django.utils import timezone

    from campaigns import publishing
    from campaigns.models import Urgency
    from campaigns.services import messages as message_services
    from campaigns.services import workflow

    message = message_services.message_create(
        actor=officer, campaign=campaign, channels=channels, urgency=Urgency.EMERGENCY,
        body="Emergency: leave the north stand by the east gates now. Follow stewards' directions.")
    workflow.message_submit(actor=officer, message=message)
    workflow.message_approve(actor=supervisor, message=message)
    scheduled = timezone.now()
    publishing.message_schedule(actor=officer, message=message, scheduled_at=None)
    return message, scheduled


def duplicate_posts(posts: list, expected: int) -> int:
    """Posts received more than once (same platform and text, or key), plus any beyond ``expected``."""
    texts = Counter((p.platform, str(p.fields.get("text") or p.fields.get("status") or p.fields.get("message")
                                     or p.idempotency_key)) for p in posts)
    return sum(n - 1 for n in texts.values() if n > 1) + max(0, len(posts) - expected)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.05, help="platform answer delay in seconds")
    parser.add_argument("--pool", default="threads", choices=["threads", "prefork", "solo"])
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--tick-seconds", type=float, default=1.0,
                        help="how often the bench claims due deliveries (the beat's tick is every 5 s; "
                             "one tick claims up to 500)")
    parser.add_argument("--emergency-after", type=float, default=0.0,
                        help="seconds into the burst to schedule one emergency message (0: none); the "
                             "workers are then split into an urgent-only one and the rest")
    parser.add_argument("--urgent-concurrency", type=int, default=2)
    parser.add_argument("--emergency-target", type=float, default=5.0,
                        help="seconds from scheduling an emergency message to its last delivery sent")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis"):
        print("warning: CELERY_BROKER_URL is not Redis; the figure will not be the production one")
    if not settings.CACHE_URL:
        print("warning: CACHE_URL is not set (the embedded file cache); production uses Redis")
    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)

    from campaigns.models import Delivery, DeliveryStatus
    from platforms.sandbox import Sandbox
    from tests.publishing_harness import Worker, sender_app, tick

    sandbox = Sandbox.start()
    officer, supervisor, channels, campaign = burst_world(sandbox, latency=args.latency)
    started = time.perf_counter()
    messages_prepare(officer=officer, supervisor=supervisor, campaign=campaign, channels=channels,
                     count=args.messages)
    prepared = time.perf_counter() - started
    total = Delivery.objects.count()
    expected_posts = total + (len(KINDS) if args.emergency_after > 0 else 0)
    print(f"prepared {args.messages} approved messages, {total} deliveries in {prepared:.1f} s")

    split = args.emergency_after > 0
    workers = [Worker(broker, name=f"bench{i}", concurrency=args.concurrency, pool=args.pool,
                      queues=f"{settings.ENGAGE_TICK_QUEUE},default" if split else None).start()
               for i in range(args.workers)]
    if split:
        workers.append(Worker(broker, name="urgent", concurrency=args.urgent_concurrency, pool=args.pool,
                              queues="urgent").start())
    emergency = None
    app = sender_app(broker)
    concurrency = args.concurrency * args.workers
    print(f"load average (1 min) {os.getloadavg()[0]:.2f} at the start, on {os.cpu_count()} cores")
    try:
        cpu_before = cpu_by_process()
        t0 = time.perf_counter()
        next_tick = t0
        while Delivery.objects.exclude(status=DeliveryStatus.SENT).exists():
            if split and emergency is None and time.perf_counter() - t0 >= args.emergency_after:
                in_flight = Delivery.objects.exclude(status=DeliveryStatus.SENT).count()
                emergency = emergency_schedule(officer=officer, supervisor=supervisor, campaign=campaign,
                                               channels=channels)
                print(f"emergency message scheduled {time.perf_counter() - t0:.1f} s in, "
                      f"{in_flight} bulk deliveries not yet sent")
            if time.perf_counter() >= next_tick:  # what the beat does, more often than its 5 s
                tick(app)
                next_tick = time.perf_counter() + args.tick_seconds
            time.sleep(0.05)
            if time.perf_counter() - t0 > 1800:
                print("gave up after 30 minutes")
                return 1
        elapsed = time.perf_counter() - t0
        cpu_after = cpu_by_process()
    finally:
        for worker in workers:
            worker.stop()
        connection.close()

    durations = sorted(float(m.group(1)) for w in workers for line in w.lines
                       if (m := re.search(r"campaigns\.deliver\[.*\] succeeded in ([0-9.]+)s", line)))
    posts = [p for kind in KINDS for p in sandbox.posts(kind)]
    per_platform = Counter(p.platform for p in posts)
    duplicates = duplicate_posts(posts, expected_posts)
    emergency_ok = True
    if emergency is not None:
        message, scheduled = emergency
        sent = list(Delivery.objects.filter(message=message).values_list("sent_at", flat=True))
        last = max(sent) if all(sent) else None
        took = (last - scheduled).total_seconds() if last else float("inf")
        emergency_ok = took <= args.emergency_target
        print(f"emergency message    {len(sent)} deliveries, last sent {took:.2f} s after it was scheduled "
              f"(target {args.emergency_target:g} s): {'met' if emergency_ok else 'NOT MET'}")
        total += len(sent)
    ideal = total * args.latency / concurrency
    print(f"load average (1 min) {os.getloadavg()[0]:.2f} at the end, on {os.cpu_count()} cores")
    print(f"deliveries           {total}")
    print(f"worker concurrency   {concurrency} ({args.workers} x {args.pool} {args.concurrency})")
    print(f"time to last sent    {elapsed:.2f} s")
    print(f"deliveries/second    {total / elapsed:.1f}")
    print(f"ideal                {ideal:.2f} s  ({total} x {args.latency * 1000:.0f} ms / {concurrency})")
    print(f"ratio to ideal       {elapsed / ideal:.2f}x  (target 1.5x)")
    print(f"posts received       {len(posts)} {dict(per_platform)}")
    print(f"duplicate posts      {duplicates}")
    cpu_report(cpu_before, cpu_after, total)
    if durations:
        print(f"task time p50/p95    {durations[len(durations) // 2] * 1000:.0f} / "
              f"{durations[int(len(durations) * 0.95)] * 1000:.0f} ms (inside the worker)")
    sandbox.stop()
    return 0 if duplicates == 0 and len(posts) == total and emergency_ok else 1


if __name__ == "__main__":
    sys.exit(main())
