"""Event day, all at once: every activity of a derby day at the same time, on PostgreSQL and Redis.

For --seconds (default 300) it runs together, against one gunicorn and one Celery worker:

- **publishing**: a burst of --burst-messages approved messages x 5 platforms due at the start,
  then one more message every --message-interval seconds, sent by Celery prefork workers (as
  bench/publish_burst.py) to the platform sandbox answering after --latency; every tenth message
  also goes to the public page. A supervisor pauses the team's publishing at 40% of the run and
  resumes it at 60%, through the services (campaigns.publishing.pause), as the desk does;
- **webhook replies**: signed partner-webhook POSTs (as bench/ingest.py signs them) at
  --reply-rate a second, and --burst-rate a second for --burst-seconds from 70% of the run;
- **public**: the live event page, its Atom feed, its updates JSON and the news page, in turn,
  from --public-clients clients (wrk is used if installed; otherwise a small threaded client,
  and the output says which);
- **inbox**: --liaisons liaison officers, each with an API token from /api/v1/auth/token/: list
  the new replies, open one, triage it, assign it to themselves, answer it with an approved
  template (which goes out through the sandbox at once, unless publishing is paused);
- **dashboard**: a supervisor, signed in with a session, loading /desk/dashboard/.

It prints, per activity, throughput and p50/p95/p99 latency, then the checks (exit status 1 if
one fails):

- **duplicate posts**: 0. Every sandbox post of a delivery is counted per platform and text (one
  text per message and platform), every answer per idempotency key.
- **posts while paused**: 0. The pause window runs from the moment publishing_pause() committed
  (P0) to the moment publishing_resume() was called (P1). A delivery may still reach the platform
  after P0 only if its worker marked it in flight before P0 (the pause releases only claims not
  yet in flight; docs/publishing.md): so a post is counted as "while paused" when the sandbox
  received it in [P0, P1) and its attempt started (``DeliveryAttempt.started_at``, the in-flight
  mark) at or after P0, or when no such attempt is found. Answers are held by the pause as well:
  any answer post received in [P0 + 1 s, P1) counts (1 s: a template answer's call in flight at P0).
  The posts that were in flight at P0 are printed, with the latest receipt time after P0.
- **acknowledged replies missing**: 0. Every reply id the webhook answered 2xx is in the database.
- **server errors**: 0 responses >= 500 in gunicorn's access log and at the clients, and 0 failed
  deliveries.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/engage_bench_eventday \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/12 CACHE_URL=redis://127.0.0.1:6379/13 \\
    .venv/bin/python bench/event_day.py --seconds 300

It uses (and empties) the database and both Redis databases it is given: never point it at real
data. Only loopback addresses are loaded. The beat is not run: the bench ticks every second
(as bench/publish_burst.py), so the sweeper's periodic jobs do not run during it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess  # noqa: S404 - starts gunicorn on loopback, fixed arguments
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engage.settings")
os.environ.setdefault("ENGAGE_REQUIRE_2FA", "0")

from inbox import percentile  # noqa: E402
from ingest import SECRET, wait_port  # noqa: E402
from public import free_port, seed_world  # noqa: E402
from publish_burst import KINDS, burst_world, cpu_by_process, cpu_report, duplicate_posts, messages_prepare  # noqa: E402

WAITING: Counter = Counter()  # statements seen waiting on a lock, by their first 70 characters
ANSWER_TEXT = "Thank you. Officers at the ground have been told and will help. Stay safe."


class Activity:
    """Latencies and statuses of one activity's requests, filled by several threads."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.latencies: list[float] = []
        self.statuses: Counter = Counter()
        self.errors: list[str] = []

    def record(self, started: float, status: int) -> None:
        self.latencies.append(time.perf_counter() - started)
        self.statuses[status] += 1

    def failed(self, error: str) -> None:
        self.statuses["no answer"] += 1
        if len(self.errors) < 5:
            self.errors.append(error)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status == "no answer" or status >= 500)

    def line(self, seconds: float) -> str:
        lat = self.latencies or [0.0]
        return (f"{self.name:<22} {len(self.latencies):>8} {len(self.latencies) / seconds:>8.1f} "
                f"{percentile(lat, .5) * 1000:>8.1f} {percentile(lat, .95) * 1000:>8.1f} "
                f"{percentile(lat, .99) * 1000:>8.1f} {self.server_errors:>5}  "
                + " ".join(f"{k}:{v}" for k, v in sorted(self.statuses.items(), key=str)))


class Run:
    """The clock of the run and the moments of the pause."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = time.time()
        self.stop = threading.Event()
        self.paused_at = self.pause_called = self.resume_called = self.resumed_at = 0.0

    def at(self, fraction: float) -> float:
        return self.start + self.seconds * fraction

    def sleep_until(self, moment: float) -> bool:
        """Wait until ``moment``; False if the run ends first."""
        return not self.stop.wait(max(0.0, moment - time.time()))


def http(base: str):
    import httpx

    return httpx.Client(base_url=base, timeout=30, headers={"Accept-Encoding": "gzip"})


def call(activity: Activity, client, method: str, path: str, **kwargs):
    started = time.perf_counter()
    try:
        response = client.request(method, path, **kwargs)
    except Exception as exc:  # noqa: BLE001 - a dropped or timed-out request is counted, not raised
        activity.failed(f"{method} {path}: {exc!r}")
        return None
    activity.record(started, response.status_code)
    return response


# --- the activities --------------------------------------------------------------------------------

def webhook_replies(run: Run, base: str, channel_id: int, args, activity: Activity, acked: set[str]) -> None:
    """Signed replies at a steady rate, with a burst; each on a thread of a small pool."""
    from concurrent.futures import ThreadPoolExecutor

    from core.signing import sign

    local = threading.local()

    def post(reply_id: str) -> None:
        if not hasattr(local, "client"):
            local.client = http(base)
        body = json.dumps({"id": reply_id, "author": f"@person{random.randrange(5000)}",  # noqa: S311
                           "sent_at": datetime.now(UTC).isoformat(),
                           "text": f"Where is gate {random.randrange(40)}? The queue at the north entrance "  # noqa: S311
                                   f"is long."}, separators=(",", ":")).encode()
        stamp = int(time.time())
        response = call(activity, local.client, "POST", f"/api/v1/inbound/{channel_id}/", content=body,
                        headers={"Content-Type": "application/json", "X-Engage-Timestamp": str(stamp),
                                 "X-Engage-Signature": sign(secret=SECRET, body=body, timestamp=stamp)})
        if response is not None and 200 <= response.status_code < 300:
            acked.add(reply_id)

    burst_from, burst_to = run.at(0.7), run.at(0.7) + args.burst_seconds
    n = 0
    next_at = time.time()
    with ThreadPoolExecutor(max_workers=args.reply_threads) as pool:
        while run.sleep_until(next_at):
            pool.submit(post, f"eventday-{n}")
            n += 1
            rate = args.burst_rate if burst_from <= next_at < burst_to else args.reply_rate
            next_at += 1 / rate


def public_traffic(run: Run, base: str, paths: list[str], think: float, activity: Activity) -> None:
    client = http(base)
    client.headers["Accept-Language"] = "en-GB,en;q=0.9"
    i = random.randrange(len(paths))  # noqa: S311
    while not run.stop.is_set():
        call(activity, client, "GET", paths[i % len(paths)])
        i += 1
        if think:
            run.stop.wait(think)


def liaison(run: Run, base: str, who: tuple[str, int], password: str, template_id: int, think: float,
            steps: dict[str, Activity]) -> None:
    email, me = who
    client = http(base)
    response = call(steps["inbox token"], client, "POST", "/api/v1/auth/token/",
                    json={"email": email, "password": password})
    if response is None or response.status_code != 200:
        print(f"liaison {email} got no token: {response.status_code if response else 'no answer'} "
              f"{response.text[:300] if response else ''}")
        return
    client.headers["Authorization"] = f"Token {response.json()['token']}"
    while not run.stop.is_set():
        listing = call(steps["inbox list"], client, "GET", "/api/v1/replies/", params={"status": "new"})
        results = listing.json().get("results", []) if listing is not None and listing.status_code == 200 else []
        if not results:
            run.stop.wait(1.0)
            continue
        reply = random.choice(results[:10])  # noqa: S311 - two liaisons rarely take the same one
        detail = call(steps["inbox open"], client, "GET", f"/api/v1/replies/{reply['id']}/")
        if detail is None or detail.status_code != 200:
            continue
        run.stop.wait(think)
        call(steps["inbox triage"], client, "PATCH", f"/api/v1/replies/{reply['id']}/",
             json={"status": "triaged", "category": "question"})
        call(steps["inbox assign"], client, "PATCH", f"/api/v1/replies/{reply['id']}/", json={"assignee": me})
        run.stop.wait(think)
        call(steps["inbox answer"], client, "POST", f"/api/v1/replies/{reply['id']}/respond/",
             json={"template": template_id})
        run.stop.wait(think)


def dashboard(run: Run, base: str, cookie: tuple[str, str], think: float, activity: Activity) -> None:
    client = http(base)
    client.cookies.set(*cookie)
    while not run.stop.is_set():
        call(activity, client, "GET", "/desk/dashboard/")
        run.stop.wait(think)


def publishing(run: Run, app, world: dict, args, errors: list[str]) -> None:
    """Ticks every second (as the beat does, more often), writes one more message every
    --message-interval, and pauses and resumes the team's publishing in the middle."""
    from django.db import connection

    from campaigns.publishing.pause import publishing_pause, publishing_resume
    from tests.publishing_harness import tick

    n = args.burst_messages
    next_message = run.start + args.message_interval
    pause_at, resume_at = run.at(0.4), run.at(0.6)
    while not run.stop.is_set():
        try:
            now = time.time()
            if not run.paused_at and now >= pause_at:
                run.pause_called = time.time()
                publishing_pause(actor=world["supervisor"], reason="Event day bench: a pause in the middle",
                                 team=world["team"].pk)
                run.paused_at = time.time()
            elif run.paused_at and not run.resume_called and now >= resume_at:
                run.resume_called = time.time()
                publishing_resume(actor=world["supervisor"], reason="Event day bench", team=world["team"].pk)
                run.resumed_at = time.time()
            if now >= next_message:
                next_message += args.message_interval
                n += 1
                messages_prepare(officer=world["officer"], supervisor=world["supervisor"],
                                 campaign=world["campaign"], channels=world["channels"], count=1, first=n - 1,
                                 extra_channels={0: [world["public"]]})
            tick(app)
        except Exception as exc:  # noqa: BLE001 - a failed step is counted with the server errors; the run goes on
            errors.append(f"publishing at +{time.time() - run.start:.1f} s: {exc!r}"[:400])
        run.stop.wait(1.0)
    connection.close()


# --- setting up -------------------------------------------------------------------------------------

def prepare(args, sandbox) -> dict:
    from django.test import Client

    from engage.inbound.policies import answer_template_save
    from tests.factories import PASSWORD, approve_template

    world, paths = seed_world(args.updates)
    tw = world.a
    officer, supervisor, channels, campaign = burst_world(
        sandbox, latency=args.latency, team=tw.team, officer=tw.officer, supervisor=tw.supervisor,
        admin=tw.admin, campaign=tw.campaign, extra_config={"webhook": {"inbound_secret": SECRET}})
    webhook = next(c for c in channels if c.kind == "webhook")
    template = answer_template_save(actor=tw.supervisor2, team=tw.team, title="Thanks", body=ANSWER_TEXT)
    approve_template(template, tw.supervisor)
    started = time.perf_counter()
    messages_prepare(officer=officer, supervisor=supervisor, campaign=campaign, channels=channels,
                     count=args.burst_messages, extra_channels={0: [tw.public]})
    print(f"prepared the burst: {args.burst_messages} approved messages due now in "
          f"{time.perf_counter() - started:.1f} s")
    browser = Client()
    browser.force_login(tw.supervisor)
    from django.conf import settings

    cookie = (settings.SESSION_COOKIE_NAME, browser.cookies[settings.SESSION_COOKIE_NAME].value)
    liaisons = [tw.liaison]
    from accounts.models import Role
    from tests.factories import member

    liaisons += [member(tw.team, Role.LIAISON, email=f"liaison{i}-a@engage.test") for i in range(1, args.liaisons)]
    return {"team": tw.team, "officer": officer, "supervisor": supervisor, "channels": channels,
            "campaign": campaign, "public": tw.public, "webhook": webhook, "template": template.pk,
            "paths": paths, "cookie": cookie, "liaisons": [(u.email, u.pk) for u in liaisons], "password": PASSWORD}


def start_gunicorn(args, port: int, access_log: Path) -> subprocess.Popen:
    from django.conf import settings

    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1,localhost", "ENGAGE_AXES_ENABLED": "false",
           "ENGAGE_INBOUND_THROTTLE": "100000000/min", "LOG_LEVEL": "WARNING", "ENGAGE_REQUIRE_2FA": "0",
           "SECRET_KEY": settings.SECRET_KEY, "ENGAGE_FIELD_ENCRYPTION_KEY": settings.ENGAGE_FIELD_ENCRYPTION_KEY}
    server = subprocess.Popen(  # noqa: S603
        [str(Path(sys.executable).with_name("gunicorn")), "engage.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.web_workers), "--worker-class", "gthread", "--threads", str(args.web_threads),
         "--keep-alive", "5", "--log-level", "warning", "--access-logfile", str(access_log),
         "--access-logformat", "%(s)s %(m)s %(U)s %(D)s"],
        cwd=ROOT, env=env, start_new_session=True)
    wait_port(port)
    return server


# --- the checks ----------------------------------------------------------------------------------

def sandbox_posts(sandbox) -> list:
    return [p for kind in KINDS for p in sandbox.posts(kind)]


def check_posts(sandbox, run: Run, expected_deliveries: int) -> tuple[int, int, int, float]:
    """(duplicates, posts while paused, posts in flight at the pause, latest of those after P0 in s)."""
    from campaigns.models import DeliveryAttempt

    posts = sandbox_posts(sandbox)
    answers = [p for p in posts if ANSWER_TEXT in json.dumps(p.fields)]
    deliveries = [p for p in posts if p not in answers]
    answer_keys = Counter(p.idempotency_key for p in answers)
    duplicates = duplicate_posts(deliveries, expected_deliveries) + sum(n - 1 for n in answer_keys.values() if n > 1)
    started = {}
    for key, begun in DeliveryAttempt.objects.filter(outcome="sent").values_list("delivery__idempotency_key",
                                                                                 "started_at"):
        started[key] = min(started.get(key, begun.timestamp()), begun.timestamp())
    # The webhook adapter sends the delivery's key; the others are found by the text they carry.
    from campaigns.models import Delivery

    by_text = {}
    for key, body, kind in Delivery.objects.values_list("idempotency_key", "message__body", "channel__kind"):
        by_text[(kind, body)] = key
    in_window = lambda t: run.paused_at <= t < run.resume_called  # noqa: E731
    while_paused, in_flight, latest = 0, 0, 0.0
    for post in deliveries:
        if not in_window(post.created_at):
            continue
        key = post.idempotency_key if post.idempotency_key in started else next(
            (k for (kind, body), k in by_text.items() if kind == post.platform and body in json.dumps(post.fields)),
            "")
        if key in started and started[key] < run.paused_at:
            in_flight += 1
            latest = max(latest, post.created_at - run.paused_at)
        else:
            while_paused += 1
            print(f"  posted while paused: {post.platform} {post.idempotency_key} at P0 + "
                  f"{post.created_at - run.paused_at:.3f} s, attempt started "
                  f"{(started.get(key, 0) - run.paused_at):.3f} s after P0")
    while_paused += sum(1 for p in answers if run.paused_at + 1.0 <= p.created_at < run.resume_called)
    return duplicates, while_paused, in_flight, latest


def database_sample() -> tuple[int, int, int, int]:
    """(connections to this database, of them waiting on a lock, max_connections, connections in all)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock'), "
                       "current_setting('max_connections')::int, (SELECT count(*) FROM pg_stat_activity) "
                       "FROM pg_stat_activity WHERE datname = current_database()")
        mine, waiting, limit, everyone = cursor.fetchone()
        cursor.execute("SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 70) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND wait_event_type = 'Lock'")
        WAITING.update(row[0] for row in cursor.fetchall())
    return mine, waiting, limit, everyone


def access_log_errors(path: Path) -> tuple[int, Counter]:
    statuses: Counter = Counter()
    server_errors = 0
    for line in path.read_text().splitlines():
        parts = line.split(" ", 3)
        if len(parts) < 3 or not parts[0].isdigit():
            continue
        statuses[parts[0]] += 1
        if int(parts[0]) >= 500:
            server_errors += 1
            if server_errors <= 5:
                print(f"  5xx in the access log: {line}")
    return server_errors, statuses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--burst-messages", type=int, default=400, help="messages (x 5 platforms) due at the start")
    parser.add_argument("--message-interval", type=float, default=1.0, help="seconds between later messages")
    parser.add_argument("--latency", type=float, default=0.05, help="platform answer delay in seconds")
    parser.add_argument("--concurrency", type=int, default=4, help="Celery prefork processes")
    parser.add_argument("--reply-rate", type=float, default=20.0, help="webhook replies a second")
    parser.add_argument("--burst-rate", type=float, default=100.0, help="webhook replies a second in the burst")
    parser.add_argument("--burst-seconds", type=float, default=20.0)
    parser.add_argument("--reply-threads", type=int, default=8)
    parser.add_argument("--public-clients", type=int, default=4)
    parser.add_argument("--public-think", type=float, default=0.05, help="seconds each public client waits")
    parser.add_argument("--liaisons", type=int, default=2)
    parser.add_argument("--liaison-think", type=float, default=0.5)
    parser.add_argument("--dashboard-think", type=float, default=2.0)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=8)
    parser.add_argument("--updates", type=int, default=50, help="published updates on the event page")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis") \
            or not settings.CACHE_URL:
        print("Run this on PostgreSQL and Redis: DATABASE_URL=postgres://..., CELERY_BROKER_URL=redis://..., "
              "CACHE_URL=redis://...")
        return 2
    import redis

    for url in (settings.CELERY_BROKER_URL, settings.CACHE_URL):
        redis.Redis.from_url(url).flushdb()
    from platforms.sandbox import Sandbox
    from tests.publishing_harness import Worker, sender_app

    sandbox = Sandbox.start()
    world = prepare(args, sandbox)
    connection.close()
    tool = "wrk" if shutil.which("wrk") else "python"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    tmp = Path(tempfile.mkdtemp(prefix="eventday-"))
    access_log = tmp / "access.log"
    server = start_gunicorn(args, port, access_log)
    worker = Worker(settings.CELERY_BROKER_URL, name="eventday", concurrency=args.concurrency,
                    pool="prefork").start()
    app = sender_app(settings.CELERY_BROKER_URL)
    activities = {name: Activity(name) for name in (
        "webhook replies", "public pages", "inbox token", "inbox list", "inbox open", "inbox triage",
        "inbox assign", "inbox answer", "dashboard")}
    acked: set[str] = set()
    errors: list[str] = []
    public_paths = [world["paths"][k] for k in ("event", "feed", "json", "news")]
    print(f"load: {args.seconds} s; gunicorn {args.web_workers} x {args.web_threads} threads; Celery prefork "
          f"{args.concurrency}; public pages by {'wrk' if tool == 'wrk' else 'a threaded Python client'} "
          f"({args.public_clients} clients, {args.public_think * 1000:.0f} ms think); replies {args.reply_rate:.0f}/s, "
          f"{args.burst_rate:.0f}/s for {args.burst_seconds:.0f} s from 70%; {args.liaisons} liaisons; "
          f"1 supervisor on the dashboard; pause at 40%, resume at 60%")
    if tool == "wrk":
        print("(wrk is installed but the mixed run drives the public pages from Python threads too, so that "
              "their pacing matches the other activities)")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the start, on {os.cpu_count()} cores")
    cpu_before = cpu_by_process()
    run = Run(args.seconds)
    threads = [threading.Thread(target=publishing, args=(run, app, world, args, errors), daemon=True),
               threading.Thread(target=webhook_replies, daemon=True,
                                args=(run, base, world["webhook"].pk, args, activities["webhook replies"], acked))]
    threads += [threading.Thread(target=public_traffic, daemon=True,
                                 args=(run, base, public_paths, args.public_think, activities["public pages"]))
                for _ in range(args.public_clients)]
    threads += [threading.Thread(target=liaison, daemon=True,
                                 args=(run, base, who, world["password"], world["template"], args.liaison_think,
                                       activities)) for who in world["liaisons"]]
    threads.append(threading.Thread(target=dashboard, daemon=True,
                                    args=(run, base, world["cookie"], args.dashboard_think, activities["dashboard"])))
    for thread in threads:
        thread.start()
    loads, samples = [], []
    try:
        while time.time() < run.at(1.0):
            time.sleep(5)
            loads.append(os.getloadavg()[0])
            samples.append(database_sample())
        run.stop.set()
        for thread in threads:
            thread.join(timeout=60)
        # Let the deliveries already due finish (bounded), so that every post can be checked.
        from campaigns.models import Delivery, DeliveryStatus
        from tests.publishing_harness import tick

        drain_until = time.time() + 120
        while Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING],
                                      needs_review=False).exists() and time.time() < drain_until:
            tick(app)
            time.sleep(1)
        cpu_after = cpu_by_process()
    finally:
        worker.stop()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    elapsed = args.seconds
    from campaigns.models import Delivery, DeliveryAttempt, DeliveryStatus
    from engage.models import Reply

    print(f"load average (1 min) during the run: min {min(loads, default=0):.2f}, max {max(loads, default=0):.2f}, "
          f"mean {sum(loads) / max(1, len(loads)):.2f}; at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if samples:
        print(f"PostgreSQL every 5 s: connections to this database max {max(x[0] for x in samples)}, waiting on a "
              f"lock max {max(x[1] for x in samples)} (in {sum(1 for x in samples if x[1])} of {len(samples)} "
              f"samples); all databases max {max(x[3] for x in samples)} of max_connections {samples[0][2]}")
        for statement, n in WAITING.most_common(5):
            print(f"  waiting on a lock in {n} sample(s): {statement}")
    print(f"{'activity':<22} {'requests':>8} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'5xx':>5}  statuses")
    for activity in activities.values():
        print(activity.line(elapsed))
        for error in activity.errors:
            print(f"    {error}")
    sent = DeliveryAttempt.objects.filter(outcome="sent").select_related("delivery")
    due_to_sent = sorted((a.finished_at - a.delivery.due_at).total_seconds() for a in sent
                         if a.finished_at and a.finished_at.timestamp() < run.paused_at)
    task = sorted((a.finished_at - a.started_at).total_seconds() for a in sent if a.finished_at)
    statuses = Counter(Delivery.objects.values_list("status", flat=True))
    in_run = sum(1 for a in sent if a.finished_at and run.start <= a.finished_at.timestamp() < run.at(1.0))
    print(f"{'publishing':<22} {in_run:>8} {in_run / elapsed:>8.1f} "
          f"{percentile(task or [0], .5) * 1000:>8.1f} {percentile(task or [0], .95) * 1000:>8.1f} "
          f"{percentile(task or [0], .99) * 1000:>8.1f} {statuses.get('failed', 0):>5}  deliveries sent in the run; "
          f"latency: in flight to recorded (platform 50 ms); statuses after the drain {dict(statuses)}")
    if due_to_sent:
        print(f"{'':<22} due to sent before the pause p50/p95/p99 {percentile(due_to_sent, .5):.1f} / "
              f"{percentile(due_to_sent, .95):.1f} / {percentile(due_to_sent, .99):.1f} s (the burst queues)")
    durations = [float(m.group(1)) for line in worker.lines
                 if (m := re.search(r"campaigns\.deliver\[.*\] succeeded in ([0-9.]+)s", line))]
    if durations:
        durations.sort()
        print(f"{'':<22} Celery task time p50/p95 {percentile(durations, .5) * 1000:.0f} / "
              f"{percentile(durations, .95) * 1000:.0f} ms")
    cpu_report(cpu_before, cpu_after, max(1, len(task)))
    print("  (all the machine's CPU during the run, divided by the deliveries: the other activities included)")

    stored = set(Reply.objects.filter(provider_id__startswith="eventday-").values_list("provider_id", flat=True))
    missing = len(acked - stored)
    expected = Delivery.objects.filter(status=DeliveryStatus.SENT).exclude(channel__kind="public").count()
    duplicates, while_paused, in_flight, latest = check_posts(sandbox, run, expected)
    print(f"deliveries recorded as sent (not public) {expected}; sandbox posts {len(sandbox_posts(sandbox))} "
          f"(answers included); a post beyond the recorded ones counts as a duplicate")
    log_5xx, log_statuses = access_log_errors(access_log)
    client_5xx = sum(a.server_errors for a in activities.values())
    failed = statuses.get("failed", 0)
    print(f"pause: P0 (pause committed) at +{run.paused_at - run.start:.1f} s (the call took "
          f"{(run.paused_at - run.pause_called) * 1000:.0f} ms), P1 (resume called) at "
          f"+{run.resume_called - run.start:.1f} s; {in_flight} posts arrived after P0 from calls already in "
          f"flight, the last {latest * 1000:.0f} ms after P0")
    print(f"gunicorn access log: {dict(log_statuses)}")
    checks = [("duplicate posts", duplicates), ("posts while paused", while_paused),
              ("acknowledged replies missing", missing),
              ("server errors (5xx or no answer)", max(log_5xx, client_5xx) + failed + len(errors))]
    for name, value in checks:
        print(f"check: {name:<34} {value:>5}  {'ok' if value == 0 else 'FAILED'}")
    for error in errors:
        print(f"  {error}")
    print(f"({len(acked)} replies acknowledged, {len(stored)} stored; {failed} deliveries failed)")
    sandbox.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if all(value == 0 for _, value in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
