"""Spike alerts: a sudden rise in a watch's volume, or several posts with danger words about the
same place within minutes. The event's on-duty supervisors and liaisons hear it (``accounts.notify``,
kind ``awareness_spike``; every supervisor when nobody is on duty), with the masked texts, so the
desk can check with the control room and publish an instruction.

Volume: the current 5-minute bucket against the mean of the :data:`BASELINE_BUCKETS` before it
(a missing bucket counts as 0). It fires at :data:`VOLUME_FACTOR` times the baseline and at least
:data:`VOLUME_MIN` posts, once the watch has :data:`MIN_HISTORY` buckets of history (so the first
minutes of a watch, which have no baseline, never fire). Danger: :data:`DANGER_COUNT` posts with
danger words naming the same place (or naming none) within :data:`DANGER_MINUTES` minutes. One
alert per kind and place every :data:`QUIET_MINUTES` minutes."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.urls import reverse

from accounts.audit import audit_record
from accounts.notify import notify
from engage.awareness.analysis import Reading
from engage.awareness.models import BUCKET, Bucket, Signal, SpikeAlert, Watch
from engage.awareness.processing import bucket_start

BASELINE_BUCKETS = 12
MIN_HISTORY = 3
VOLUME_FACTOR = 3.0
VOLUME_MIN = 15
DANGER_COUNT = 5
DANGER_MINUTES = 5
QUIET_MINUTES = 15
QUOTED = 3


def _recently_alerted(watch: Watch, kind: str, key: str, now: datetime) -> bool:
    return SpikeAlert.objects.filter(watch=watch, kind=kind, key=key,
                                     raised_at__gt=now - timedelta(minutes=QUIET_MINUTES)).exists()


def _raise(watch: Watch, kind: str, key: str, text: str, now: datetime) -> SpikeAlert:
    alert = SpikeAlert.objects.create(watch=watch, kind=kind, key=key, raised_at=now, text=text[:500])
    url = reverse("campaigns:event", kwargs={"pk": watch.event_id}) + "#awareness"
    notify("awareness_spike", team=watch.event.team_id, text=f"{watch.event.name}: {text}", url=url)
    audit_record(actor=None, verb="awareness.spike", target=alert, team=watch.event.team_id,
                 summary={"watch": watch.pk, "kind": kind, "place": key})
    return alert


def volume_spike(watch: Watch, now: datetime) -> SpikeAlert | None:
    current = bucket_start(now)
    first = Bucket.objects.filter(watch=watch).order_by("start").values_list("start", flat=True).first()
    if first is None or first > current - MIN_HISTORY * BUCKET:
        return None
    since = max(first, current - BASELINE_BUCKETS * BUCKET)
    history = dict(Bucket.objects.filter(watch=watch, start__gte=since, start__lte=current)
                   .values_list("start", "volume"))
    slots = int((current - since) / BUCKET)
    baseline = sum(history.get(since + i * BUCKET, 0) for i in range(slots)) / max(1, slots)
    volume = history.get(current, 0)
    if volume < max(VOLUME_MIN, VOLUME_FACTOR * baseline) or _recently_alerted(watch, "volume", "", now):
        return None
    texts = list(Signal.objects.filter(watch=watch, received_at__gte=current).order_by("-received_at")
                 .values_list("text", flat=True)[:QUOTED])
    quoted = " · ".join(f"“{t[:100]}”" for t in texts)
    return _raise(watch, "volume", "", f"{volume} public posts in the last {int(BUCKET.total_seconds() // 60)} "
                  f"minutes, against about {baseline:.0f} before. {quoted}", now)


def danger_spikes(watch: Watch, danger: list[tuple[datetime, Reading]], now: datetime) -> list[SpikeAlert]:
    raised = []
    since = now - timedelta(minutes=DANGER_MINUTES)
    for place in sorted({reading.place for when, reading in danger if when >= since}):
        rows = list(Signal.objects.filter(watch=watch, danger=True, place=place, received_at__gte=since)
                    .order_by("-received_at").values_list("text", flat=True)[:200])
        if len(rows) < DANGER_COUNT or _recently_alerted(watch, "danger", place, now):
            continue
        terms = Counter(t.lower() for when, r in danger if r.place == place for t in r.danger_terms)
        words = ", ".join(term for term, _ in terms.most_common(3))
        where = f"near {place}" if place else "without a place named"
        quoted = " · ".join(f"“{t[:100]}”" for t in rows[:QUOTED])
        raised.append(_raise(watch, "danger", place, f"{len(rows)} posts about {words} {where} in the last "
                             f"{DANGER_MINUTES} minutes. {quoted}", now))
    return raised
