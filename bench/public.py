"""Public pages under load: the live event page and the news page through gunicorn on PostgreSQL.

Seeds a public event with --updates published updates (each with an Arabic variant) and a
corrected rumour, starts gunicorn on loopback, and loads each URL with wrk (Debian's ``wrk``)
for --seconds, in --rounds alternating rounds: the static file served by the same gunicorn
(whitenoise), the live event page, its updates JSON, the news page, the event's Atom feed, and
the static file again. A page's ratio is to the mean of the two static runs of its own round
(robust to other load on a shared machine); the figure is the median of the rounds (target
(issue 17): the event page at 90% or more). Prints requests per second, p50/p95/p99 latency,
the load average, and how many database transactions PostgreSQL counted during each run
(cached pages: about none).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/engage_bench_public \\
    CACHE_URL=redis://127.0.0.1:6379/3 \\
    .venv/bin/python bench/public.py --seconds 8 --connections 32 --workers 2 --threads 4 --rounds 3

It uses (and empties) the database it is given: never point it at real data. Only loopback
addresses are loaded, with a bounded duration. Without wrk it falls back to a small threaded
Python load generator (lower ceiling: the client shares the two cores with the server).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess  # noqa: S404 - starts gunicorn and wrk on loopback, fixed arguments
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engage.settings")

PAGES = ("event", "json", "news", "feed")
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("ENGAGE p50=%d p95=%d p99=%d requests=%d errors=%d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99), summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
      + summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_database() -> None:
    """Create the PostgreSQL database named in DATABASE_URL if it is not there yet."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    with psycopg.connect(host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"],
                         password=config["PASSWORD"] or None, dbname="postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))


def seed(updates: int) -> dict[str, str]:
    return seed_world(updates)[1]


def seed_world(updates: int) -> tuple:
    """An emptied database with tests.factories' world and team A's published event with
    ``updates`` updates and a corrected rumour: (world, the paths loaded)."""
    import django

    ensure_database()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)
    from campaigns.services import events as event_services
    from tests.engage.public_helpers import ARABIC, corrected_rumour, publish
    from tests.factories import make_world

    world = make_world()
    tw = world.a
    event_services.event_update(actor=tw.officer, event=tw.event, location="Northshire Stadium, Station Road",
                                what_to_bring="Your ticket, water in a plastic bottle.",
                                prohibited_items="Glass, flares, smoke bombs.", help_points="Help point by Gate C.")
    for i in range(updates):
        publish(tw, body=f"Update {i}: the queue at Gate {'ABCD'[i % 4]} is moving well. Please keep to the "
                f"left, have your ticket ready and follow the stewards. Trains leave every ten minutes. #DerbyDay",
                variants=[("ar", ARABIC, "standard")])
    corrected_rumour(tw)
    from django.db import connection

    connection.close()
    return world, {"static": "/static/engage/public.css", "event": f"/events/{tw.event.pk}/",
                   "news": "/news/", "json": f"/events/{tw.event.pk}/updates.json?since=0",
                   "feed": f"/feeds/events/{tw.event.pk}.atom"}


def db_transactions() -> int | None:
    from django.conf import settings
    from django.db import connection

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
        value = cursor.fetchone()[0]
    connection.close()
    return int(value)


TICKS = os.sysconf("SC_CLK_TCK")


def group_cpu(leader: int) -> float:
    """CPU seconds used so far by gunicorn: the process ``leader`` and its children (the workers)."""
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(pid) == leader or int(fields[1]) == leader:
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def children_cpu() -> float:
    """CPU seconds of this process's finished children (wrk, once it has been waited for)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(url: str, *, seconds: int, connections: int, threads: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        out = subprocess.run(  # noqa: S603
            [shutil.which("wrk") or "/usr/bin/wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", script.name,
             "-H", "Accept-Language: en-GB,en;q=0.9", "-H", "Accept-Encoding: gzip, deflate, br", url],
            capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    finally:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    match = re.search(r"ENGAGE p50=(\d+) p95=(\d+) p99=(\d+) requests=(\d+) errors=(\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": int(match.group(1)) / 1000, "p95": int(match.group(2)) / 1000,
            "p99": int(match.group(3)) / 1000, "requests": int(match.group(4)),
            "errors": int(match.group(5)) + (int(non2xx.group(1)) if non2xx else 0)}


def _request(url: str) -> urllib.request.Request:
    return urllib.request.Request(url, headers={"Accept-Language": "en-GB,en;q=0.9",  # noqa: S310
                                                "Accept-Encoding": "gzip, deflate, br"})


def wire_bytes(url: str) -> int:
    """The size of the response body as a browser receives it (gzip where the server sends it)."""
    with urllib.request.urlopen(_request(url), timeout=10) as response:  # noqa: S310 - loopback only
        return len(response.read())


def run_python(url: str, *, seconds: int, connections: int, threads: int) -> dict[str, float]:
    """A bounded fallback: ``connections`` threads, each requesting in a loop until the time is up."""
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def loop() -> None:
        nonlocal errors
        mine: list[float] = []
        bad = 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(_request(url), timeout=10) as response:  # noqa: S310 - loopback
                    response.read()
                mine.append(time.perf_counter() - started)
            except OSError:
                bad += 1
        with lock:
            latencies.extend(mine)
            errors += bad

    workers = [threading.Thread(target=loop) for _ in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    latencies.sort()
    cut = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {"rps": len(latencies) / seconds, "p50": cut[49] * 1000, "p95": cut[94] * 1000, "p99": cut[98] * 1000,
            "requests": len(latencies), "errors": errors}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (gthread)")
    parser.add_argument("--updates", type=int, default=50, help="published updates on the event page")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (static, pages, static)")
    parser.add_argument("--pages", default=",".join(PAGES), help=f"which of {','.join(PAGES)} to load")
    parser.add_argument("--target", type=float, default=0.9, help="the event page's share of the static rate")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 120:
        parser.error("--seconds is between 1 and 120")

    paths = seed(args.updates)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1,localhost", "DJANGO_ENV": "embedded",
           "ENGAGE_AXES_ENABLED": "false", "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(  # noqa: S603
        [str(Path(sys.executable).with_name("gunicorn")), "engage.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--worker-class", "gthread", "--threads", str(args.threads),
         "--keep-alive", "5", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + paths["static"], timeout=2).read()  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        else:
            print("gunicorn did not start")
            return 1
        for path in paths.values():  # warm the cache in every worker
            for _ in range(args.workers * 4):
                urllib.request.urlopen(base + path, timeout=10).read()  # noqa: S310
        tool = "wrk" if shutil.which("wrk") else "python"
        runner = run_wrk if tool == "wrk" else run_python
        print(f"load: {tool}, {args.connections} connections, {args.seconds} s per URL; gunicorn {args.workers} "
              f"workers x {args.threads} threads; {args.updates} updates on the event page; "
              f"cache {os.environ.get('CACHE_URL') or 'file (embedded default)'}; "
              f"database {os.environ.get('DATABASE_URL', 'SQLite (embedded default)').split('@')[-1]}")
        print("every request sends Accept-Encoding: gzip, as browsers do; 'bytes' is the body on the wire; "
              "'db xacts' is PostgreSQL's transaction count for the whole database during the run; 'server µs' "
              "and 'wrk µs' the CPU a request cost gunicorn (all its processes) and wrk")
        print(f"{'page':<12} {'path':<34} {'bytes':>7} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
              f"{'errors':>6} {'vs static':>9} {'db xacts':>8} {'server µs':>9} {'wrk µs':>6}")
        # Alternating rounds: each round loads the static file, then every page, then the static
        # file again; a page's ratio is to the mean of the two static runs around it, in the same
        # round, so that other load on the shared machine does not favour either side. The
        # figure is the median of the rounds.
        pages = tuple(name for name in args.pages.split(",") if name in PAGES) or ("event",)
        ratios: dict[str, list[float]] = {name: [] for name in pages}
        # The same comparison by CPU: what a request cost gunicorn and wrk (all their processes'
        # CPU time during the run, divided by the requests). On a machine whose cores the two
        # saturate, the rate is the cores divided by that cost, so the static file's cost over
        # the page's is the share of the static rate the page can reach; unlike the rates, it
        # hardly moves with other load on the machine.
        cpu_ratios: dict[str, list[float]] = {name: [] for name in pages}
        errors = 0
        for round_no in range(1, args.rounds + 1):
            print(f"round {round_no}: load average (1 min) {os.getloadavg()[0]:.2f}")
            results: dict[str, dict[str, float]] = {}
            for name in ("static", *pages, "static again"):
                path = paths[name.split()[0]]
                before = db_transactions()
                cpu_before = (group_cpu(server.pid), children_cpu())
                result = runner(base + path, seconds=args.seconds, connections=args.connections,
                                threads=args.wrk_threads)
                cpu_after = (group_cpu(server.pid), children_cpu())
                after = db_transactions()
                served = max(result["requests"], 1)
                result["server_us"] = (cpu_after[0] - cpu_before[0]) / served * 1e6
                result["client_us"] = (cpu_after[1] - cpu_before[1]) / served * 1e6 if tool == "wrk" else 0.0
                results[name] = result
                errors += result["errors"]
                ratio = result["rps"] / results["static"]["rps"] if results["static"]["rps"] else 0
                xacts = "-" if before is None else str(after - before - 1)
                print(f"{name:<12} {path:<34} {wire_bytes(base + path):>7} {result['rps']:>8.0f} "
                      f"{result['p50']:>7.1f} {result['p95']:>7.1f} {result['p99']:>7.1f} {result['errors']:>6} "
                      f"{ratio:>9.0%} {xacts:>8} {result['server_us']:>9.0f} {result['client_us']:>6.0f}")
            ceiling = (results["static"]["rps"] + results["static again"]["rps"]) / 2
            static_cpu = sum(results[n]["server_us"] + results[n]["client_us"] for n in ("static", "static again")) / 2
            for name in pages:
                ratios[name].append(results[name]["rps"] / ceiling)
                cpu_ratios[name].append(static_cpu / (results[name]["server_us"] + results[name]["client_us"]))
            print(f"round {round_no}: static {ceiling:.0f} req/s (mean of first and last); "
                  + ", ".join(f"{name} {ratios[name][-1]:.0%}" for name in pages)
                  + f"; load average (1 min) {os.getloadavg()[0]:.2f}")
        median = {name: statistics.median(values) for name, values in ratios.items()}
        by_cpu = {name: statistics.median(values) for name, values in cpu_ratios.items()}
        print(f"median of {args.rounds} rounds, by CPU per request (gunicorn + wrk), the static file's over the page's: "
              + ", ".join(f"{name} {by_cpu[name]:.0%}" for name in pages))
        met = median.get("event", 0) >= args.target and errors == 0
        print(f"median of {args.rounds} rounds, vs the static file: "
              + ", ".join(f"{name} {median[name]:.0%}" for name in pages)
              + f": target (event page >= {args.target:.0%}, no errors) {'met' if met else 'NOT met'}")
        return 0 if met else 1
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
