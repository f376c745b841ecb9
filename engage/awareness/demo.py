"""The demo's watch on the derby (``manage.py seed_demo``): set up by one supervisor, approved by a
second, with two hours of invented public posts already counted, a repeated claim that is a rumour
candidate, and a burst of danger posts about one gate in the last minutes that raised a spike alert.
The invented posts are written here, not fetched: no real person's post is in the demo."""

from __future__ import annotations

from datetime import datetime, timedelta

from accounts.models import User
from campaigns.models import Event
from engage.awareness import services, worker
from engage.awareness.models import MAX_WINDOW, Watch
from engage.awareness.processing import bucket_start
from platforms.signals import PublicPost, SourceResult

PURPOSE = ("Spot safety problems (crowding, blocked roads, lost children) and rumours around the derby early, so "
           "that the desk can check with the control room and publish an instruction or a correction.")
OPENERS = ["Lovely atmosphere", "Long queues", "Busy trains", "Friendly stewards", "Freezing wind", "Loud singing"]
PLACES = ["outside the stadium", "on Station Road", "by the fan zone", "at the tram stop", "near the club shop",
          "in the city centre"]


def steady(i: int) -> str:
    """An ordinary post; the 36 combinations come round in turn, so none is repeated enough to be a claim."""
    return f"{OPENERS[i % 6]} {PLACES[(i // 6) % 6]} #DerbyDay"


CLAIM = ["Heard the derby is called off because a bomb was found at Gate C",
         "heard the derby is called off, a bomb was found at gate C!!",
         "Someone said the derby is called off because a bomb was found at Gate C, call 07700 900123",
         "HEARD THE DERBY IS CALLED OFF BECAUSE A BOMB WAS FOUND AT GATE C"]
DANGER = ["Crush at gate C, people can't breathe", "Really scary crush near Gate C, kids at the front",
          "Crowd crush at gate C right now", "gate C crush getting worse, stewards overwhelmed",
          "Someone fainted in the crush at Gate C", "Crush at Gate C, please help"]


def _run(watch: Watch, now: datetime, posts: list[PublicPost]) -> None:
    worker.watch_run(watch, now=now, reader=lambda key, cursor: SourceResult(posts=posts if key.startswith(
        "mastodon") and key.endswith("#DerbyDay") else [], cursor=""))


def demo_watch(*, event: Event, set_up_by: User, approver: User, instance_url: str, now: datetime) -> Watch:
    existing = Watch.objects.filter(event=event).first()
    if existing is not None:
        return existing
    start = now - timedelta(hours=3)
    end = min(max(event.ends_at or event.starts_at, now) + timedelta(days=1), start + MAX_WINDOW)
    watch = services.watch_create(actor=set_up_by, event=event, purpose=PURPOSE, window_start=start, window_end=end,
                                  retention_hours=72, hashtags=["DerbyDay", "NorthshireSafe"],
                                  instances=[instance_url])
    watch = services.watch_approve(actor=approver, watch_id=watch.pk)
    first = bucket_start(now) - timedelta(hours=2)
    for slot in range(24):  # two hours of an ordinary stream, a few posts every 5 minutes
        at = first + timedelta(minutes=5 * slot)
        posts = [PublicPost(text=steady(3 * slot + i), language="", created_at=at + timedelta(minutes=i))
                 for i in range(3)]
        if slot in (20, 21, 22):
            posts += [PublicPost(text=CLAIM[(slot + i) % len(CLAIM)], language="en", created_at=at) for i in range(2)]
        _run(watch, at + timedelta(minutes=4), posts)
    burst = max(bucket_start(now), now - timedelta(minutes=2))  # inside the current 5 minutes
    posts = [PublicPost(text=text, language="en", created_at=burst + timedelta(seconds=10 * i))
             for i, text in enumerate(DANGER)]
    posts += [PublicPost(text=steady(i), language="", created_at=burst) for i in range(30)]
    _run(watch, now, posts)
    watch.refresh_from_db()
    return watch
