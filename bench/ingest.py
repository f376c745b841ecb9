"""Webhook ingestion through gunicorn against PostgreSQL, beside a bare DRF create view.

wrk (Debian's, on loopback) replays pre-signed partner-webhook POSTs, each with its own reply id,
at ``POST /api/v1/inbound/<channel>/``: HMAC-SHA256 verified, parsed, stored raw and sanitised,
deduplicated, committed, enqueued on Redis, then acknowledged. The baseline is a bare DRF
``CreateAPIView`` on the same table (added only by this bench's URLconf, bench/ingest_urls.py),
fed the same replies unsigned. Prints replies per second and p50/p95/p99 acknowledgement latency
for both, the ratio, and the replies counted in the database afterwards (acknowledged but missing
must be 0).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/engage_bench_ingest \\
    .venv/bin/python bench/ingest.py --seconds 20 --connections 32 --workers 4 --threads 4

Needs ``wrk`` (``apt-get install -y wrk``), PostgreSQL and Redis (``--redis``, default
redis://127.0.0.1:6379; databases 7 and 8 are used and emptied). It uses (and empties) the database
it is given: never point it at real data.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ingest_settings")

SECRET = "bench-inbound-secret"  # noqa: S105 - a throwaway bench channel secret


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def write_requests(path: Path, *, url_path: str, prefix: str, count: int, signed: bool) -> None:
    from core.signing import sign

    stamp = int(time.time())
    sent_at = datetime.now(UTC).isoformat()
    with path.open("w") as out:
        for i in range(count):
            if signed:
                body = json.dumps({"id": f"{prefix}{i}", "author": f"@person{i % 5000}", "sent_at": sent_at,
                                   "text": f"Where is gate {i % 40}? The queue at the north entrance is long."},
                                  separators=(",", ":"))
                signature = sign(secret=SECRET, body=body.encode(), timestamp=stamp)
            else:
                body = json.dumps({"team": BENCH_IDS["team"], "channel": BENCH_IDS["channel"], "source": "webhook",
                                   "provider_id": f"{prefix}{i}", "author_handle": f"@person{i % 5000}",
                                   "received_at": sent_at,
                                   "text": f"Where is gate {i % 40}? The queue at the north entrance is long."},
                                  separators=(",", ":"))
                signature = ""
            out.write(f"{url_path}\t{stamp}\t{signature}\t{body}\n")


BENCH_IDS: dict[str, int] = {}


def run_wrk(*, port: int, requests_file: Path, seconds: int, connections: int, threads: int) -> dict:
    env = {**os.environ, "INGEST_FILE": str(requests_file), "INGEST_THREADS": str(threads)}
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
           "-s", str(BENCH / "ingest.lua"), f"http://127.0.0.1:{port}"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)  # noqa: S603
    line = next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--max-rate", type=int, default=4000, help="requests per second to prepare for")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each endpoint")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk")
        return 2

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        print("Run this against PostgreSQL: DATABASE_URL=postgres://...")
        return 2
    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)
    import redis

    for db in (7, 8):
        redis.Redis.from_url(f"{args.redis}/{db}").flushdb()

    from accounts.models import Role
    from accounts.services import membership_set, team_create, user_create
    from campaigns.services.channels import channel_create
    from engage.models import Reply

    team = team_create(name="Bench", slug="bench")
    admin = user_create(email="admin@bench.test", password=None)
    membership_set(user=admin, team=team, role=Role.ADMIN)
    channel = channel_create(actor=admin, team=team, kind="webhook", name="Partner",
                             config={"url": "http://127.0.0.1:9/", "inbound_secret": SECRET})
    BENCH_IDS.update(team=team.pk, channel=channel.pk)

    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ingest_settings",
           "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT)]),
           "DATABASE_URL": os.environ["DATABASE_URL"], "CELERY_BROKER_URL": f"{args.redis}/7",
           "CACHE_URL": f"{args.redis}/8", "ENGAGE_INBOUND_THROTTLE": "100000000/min",
           "SECRET_KEY": settings.SECRET_KEY, "ENGAGE_FIELD_ENCRYPTION_KEY": settings.ENGAGE_FIELD_ENCRYPTION_KEY,
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING"}
    gunicorn = subprocess.Popen(  # noqa: S603
        [str(ROOT / ".venv/bin/gunicorn"), "engage.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(args.workers),
         "--threads", str(args.threads), "-k", "gthread", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True)
    rounds: list[dict[str, dict]] = []
    try:
        wait_port(port)
        count = args.max_rate * args.seconds
        with tempfile.TemporaryDirectory() as tmp:
            plan = [("warm-up", f"/api/v1/inbound/{channel.pk}/", True, 0)]
            for r in range(args.rounds):  # alternate, so a change in the machine's load hits both alike
                plan += [("inbound webhook", f"/api/v1/inbound/{channel.pk}/", True, r),
                         ("baseline DRF create", "/bench/baseline/", False, r)]
            for name, url_path, signed, r in plan:
                prefix = f"{name.split()[0]}{r}-"
                path = Path(tmp) / f"{prefix}requests.tsv"
                write_requests(path, url_path=url_path, prefix=prefix,
                               count=count if name != "warm-up" else args.max_rate * 3, signed=signed)
                seconds = 3 if name == "warm-up" else args.seconds
                result = run_wrk(port=port, requests_file=path, seconds=seconds, connections=args.connections,
                                 threads=args.wrk_threads)
                result["stored"] = Reply.objects.filter(provider_id__startswith=prefix).count()
                result["rate"] = result["acked"] / (result["duration_us"] / 1e6)
                if name != "warm-up":
                    if len(rounds) <= r:
                        rounds.append({})
                    rounds[r][name] = result
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)

    print(f"gunicorn {args.workers} workers x {args.threads} threads, wrk {args.wrk_threads} threads x "
          f"{args.connections} connections, {args.seconds} s each, {args.rounds} alternating round(s), "
          f"load average at the end {os.getloadavg()[0]:.1f}")
    print(f"{'round':<6}{'endpoint':<22} {'replies/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'acked':>8} {'stored':>8} {'lost':>5} {'non-2xx':>8} {'errors':>7}")
    ratios = []
    for r, results in enumerate(rounds, start=1):
        for name in ("inbound webhook", "baseline DRF create"):
            x = results[name]
            lost = max(0, x["acked"] - x["stored"]) if x["exhausted"] == 0 else "?"
            print(f"{r:<6}{name:<22} {x['rate']:>10.0f} {x['p50_us'] / 1000:>8.1f} {x['p95_us'] / 1000:>8.1f} "
                  f"{x['p99_us'] / 1000:>8.1f} {x['acked']:>8} {x['stored']:>8} {lost!s:>5} {x['refused']:>8} "
                  f"{x['errors']:>7}")
        ratios.append(results["inbound webhook"]["rate"] / results["baseline DRF create"]["rate"])
    print("inbound / baseline throughput per round: " + ", ".join(f"{x:.0%}" for x in ratios)
          + f"; median {sorted(ratios)[len(ratios) // 2]:.0%} (target at least 70%)")
    if any(x["exhausted"] for results in rounds for x in results.values()):
        print("warning: wrk ran out of prepared requests; raise --max-rate")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
