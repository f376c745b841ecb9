"""What a cached public page costs Django in process, next to the static file: no gunicorn, no wrk.

Calls the WSGI application directly with the request wrk sends (gzip, English) for the static file,
the live event page and its updates JSON, --requests times each, in --rounds rounds, and prints the
thread CPU per request (``time.thread_time``: this process only, so other load on the machine
hardly moves it). ``--profile event`` adds a cProfile of the cached event page, by own time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/engage_h3_public CACHE_URL=redis://127.0.0.1:6379/6 \\
    .venv/bin/python bench/public_hit.py --requests 3000 --no-seed

Without --no-seed it seeds the database as bench/public.py does (and empties it first: never point
it at real data); with it, it uses what bench/public.py left there.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engage.settings")
os.environ.update({"ALLOWED_HOSTS": "127.0.0.1,localhost", "ENGAGE_AXES_ENABLED": "false", "LOG_LEVEL": "WARNING"})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--updates", type=int, default=50)
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--profile", choices=["static", "event", "json"])
    args = parser.parse_args()

    if args.no_seed:
        import django

        django.setup()
        from campaigns.models import Event

        event = Event.objects.order_by("pk").first()
        if event is None:
            parser.error("nothing seeded: run without --no-seed, or bench/public.py first")
        paths = {"static": "/static/engage/public.css", "event": f"/events/{event.pk}/",
                 "json": f"/events/{event.pk}/updates.json?since=0"}
    else:
        from public import seed

        paths = {k: v for k, v in seed(args.updates).items() if k in ("static", "event", "json")}
    from engage.wsgi import application

    def call(path: str) -> tuple[str, int]:
        route, _, query = path.partition("?")
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": route, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
                   "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1:8000", "wsgi.url_scheme": "http",
                   "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "SERVER_PROTOCOL": "HTTP/1.1",
                   "HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9", "HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}
        status = []
        body = application(environ, lambda s, headers, exc=None: status.append(s))
        size = sum(len(chunk) for chunk in body)
        body.close()
        return status[0], size

    for name, path in paths.items():
        for _ in range(3):  # the first builds and caches the page
            status, size = call(path)
        print(f"{name:<7} {path:<34} {status} {size} bytes")
    for round_no in range(1, args.rounds + 1):
        line = []
        for name, path in paths.items():
            started = time.thread_time()
            for _ in range(args.requests):
                call(path)
            line.append(f"{name} {(time.thread_time() - started) / args.requests * 1e6:.0f} µs")
        print(f"round {round_no}: " + ", ".join(line) + f" per request; load average {os.getloadavg()[0]:.2f}")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            call(paths[args.profile])
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
