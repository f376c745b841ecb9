"""What a watch at 50 public posts a second costs the awareness worker, in CPU of one core.

Run from the repository root (a throwaway SQLite database in a temporary directory unless
DATABASE_URL names one whose name contains "bench"):

    .venv/bin/python bench/awareness.py [--rate 50] [--minutes 5]

Each simulated minute hands the worker's processing step (``worker.watch_run``, with a reader that
returns the minute's posts, so no network time is counted) ``rate * 60`` posts: English, Welsh,
Polish and Spanish text, a fifth without a language from the platform (so it is detected), one in
forty with danger words, one in fifty repeating a rumour, each with a number or a hashtag, as a
busy event's timeline has. The CPU time of this process (``time.process_time``: the classifier,
the masking, the clustering, the ORM and the database driver) is divided by the simulated minutes.
Target (issue 18): under 10% of one core.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engage.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["ENGAGE_VAR_DIR"] = tempfile.mkdtemp(prefix="engage-awareness-bench-")
elif "bench" not in os.environ["DATABASE_URL"].rsplit("/", 1)[-1]:
    raise SystemExit("Refusing: the database's name must contain 'bench'.")

BUDGET = 10.0
OPENERS = ["Massive queues", "Lovely atmosphere", "Trains are packed", "Stewards are great", "So cold",
           "Loud singing", "Traffic is awful", "Food stalls sold out", "Great view", "Lost my scarf"]
PLACES = ["outside the stadium", "on Station Road", "by the fan zone", "at the tram stop", "near the club shop",
          "in the city centre", "at gate A", "by the north stand", "at the bus station", "on the bridge"]
OTHER = [("cy", "Awyrgylch gwych yn y stadiwm heddiw"), ("pl", "Ogromna kolejka do bramy, ale idzie szybko"),
         ("es", "Mucha gente en la puerta del estadio")]
DANGER = "Crush at gate {g}, people can't breathe, call 07700 900{n:03d}"
RUMOUR = "Heard the match is called off because a bomb was found at gate C"


def posts_for(minute: int, rate: int, start):
    from platforms.signals import PublicPost

    rng = random.Random(minute)
    posts = []
    for i in range(rate * 60):
        when = start + timedelta(minutes=minute, seconds=i / rate)
        roll = rng.random()
        if roll < 0.025:
            text, language = DANGER.format(g=rng.choice("ABC"), n=i % 1000), "en"
        elif roll < 0.045:
            text, language = RUMOUR + rng.choice(["", "!!", " #DerbyDay", " apparently"]), "en"
        elif roll < 0.12:
            language, text = rng.choice(OTHER)
        else:
            text = f"{rng.choice(OPENERS)} {rng.choice(PLACES)} #DerbyDay {rng.randint(1, 90)}' {rng.choice(['', 'lol', 'wow'])}"
            language = "en"
        posts.append(PublicPost(text=text, language="" if rng.random() < 0.2 else language, created_at=when))
    return posts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=50, help="posts per second")
    parser.add_argument("--minutes", type=int, default=5, help="simulated minutes")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import Role
    from accounts.services import membership_set, team_create, user_create
    from campaigns.services.events import event_create
    from engage.awareness import services, worker
    from engage.awareness.models import Bucket, RumourCandidate, Signal
    from engage.inbound.classify.pipeline import warm_up
    from platforms.signals import SourceResult

    call_command("migrate", verbosity=0)
    now = timezone.now().replace(second=0, microsecond=0)
    team = team_create(name=f"Bench {now:%H%M%S}", slug=f"bench-{now:%H%M%S}", timezone="Europe/London")
    one, two = (user_create(email=f"{name}-{now:%H%M%S}@bench.test", password="bench-password-1",  # noqa: S106 - throwaway
                            full_name=name)
                for name in ("one", "two"))
    for person in (one, two):
        membership_set(user=person, team=team, role=Role.SUPERVISOR)
    event = event_create(actor=one, team=team, name="Bench derby", kind="planned", starts_at=now + timedelta(hours=1),
                         ends_at=now + timedelta(hours=5), location="Stadium", hashtags=["DerbyDay"])
    watch = services.watch_create(actor=one, event=event, purpose="Benchmark", window_start=now - timedelta(minutes=1),
                                  window_end=now + timedelta(days=1), hashtags=["DerbyDay"],
                                  instances=["https://social.example"])
    watch = services.watch_approve(actor=two, watch_id=watch.pk)
    warm_up()

    spent = []
    for minute in range(args.minutes):
        posts = posts_for(minute, args.rate, now)
        started = time.process_time()
        worker.watch_run(watch, now=now + timedelta(minutes=minute + 1),
                         reader=lambda key, cursor, posts=posts: SourceResult(posts=posts, cursor=""))
        spent.append(time.process_time() - started)
        print(f"minute {minute + 1}: {len(posts)} posts, {spent[-1]:.2f} s CPU ({100 * spent[-1] / 60:.1f}% of a core)")
    share = 100 * sum(spent) / (60 * args.minutes)
    print(f"\n{args.rate} posts/s for {args.minutes} min: {sum(spent):.1f} s CPU, {share:.1f}% of one core "
          f"(budget {BUDGET:.0f}%); per post {1000 * sum(spent) / (args.rate * 60 * args.minutes):.2f} ms")
    print(f"buckets {Bucket.objects.filter(watch=watch).count()}, signals {Signal.objects.filter(watch=watch).count()}, "
          f"candidates {RumourCandidate.objects.filter(watch=watch).count()}")
    return 0 if share < BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
