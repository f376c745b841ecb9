"""The worker: window and retention enforced on every run, aggregates equal to the posts seen,
near-duplicates clustered with personal data masked, spike alerts on a burst and not on a steady
stream."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership, Notification
from engage.awareness import worker
from engage.awareness.models import Bucket, RumourCandidate, Signal, SpikeAlert, WatchStatus
from engage.awareness.processing import bucket_start
from platforms.signals import PublicPost, SourceResult
from tests.engage.awareness.conftest import approved_watch

pytestmark = pytest.mark.django_db


class Feed:
    """A reader that hands the worker the posts queued for the next run (and records the calls)."""

    def __init__(self) -> None:
        self.queue: list[PublicPost] = []
        self.calls: list[tuple[str, str]] = []

    def __call__(self, key: str, cursor: str) -> SourceResult:
        self.calls.append((key, cursor))
        posts, self.queue = self.queue, []
        return SourceResult(posts=posts, cursor=str(len(self.calls)))

    def add(self, when: datetime, *texts: str, language: str = "en") -> None:
        self.queue += [PublicPost(text=t, language=language, created_at=when) for t in texts]


def test_the_window_is_enforced_by_the_worker(desk):
    start = timezone.now().replace(microsecond=0) + timedelta(hours=1)
    watch = approved_watch(desk, start=start, hours=2)
    feed = Feed()
    assert worker.watches_run(now=start - timedelta(minutes=1), reader=feed)["skipped"] == 1
    assert feed.calls == []
    feed.add(start, "Queues at the gates are long")
    assert worker.watches_run(now=start + timedelta(minutes=1), reader=feed)["ran"] == 1
    assert len(feed.calls) == 1
    summary = worker.watches_run(now=start + timedelta(hours=2), reader=feed)  # the window's end
    assert summary["ended"] == 1 and len(feed.calls) == 1
    watch.refresh_from_db()
    assert watch.status == WatchStatus.STOPPED
    worker.watches_run(now=start + timedelta(minutes=30), reader=feed)  # stopped stays stopped
    assert len(feed.calls) == 1


def test_post_text_is_deleted_at_the_end_of_its_retention_and_the_counts_stay(desk):
    now = timezone.now()
    watch = approved_watch(desk, retention=2, start=now - timedelta(hours=4))
    feed = Feed()
    feed.add(now - timedelta(minutes=5), "Long queues at the north gate")
    feed.add(now - timedelta(hours=3), "An old post already past its retention")
    worker.watches_run(now=now, reader=feed)
    assert list(Signal.objects.values_list("text", flat=True)) == ["Long queues at the north gate"]
    assert Signal.objects.get().delete_after == now - timedelta(minutes=5) + timedelta(hours=2)
    worker.watches_run(now=now + timedelta(hours=2), reader=feed)
    assert not Signal.objects.exists()
    assert sum(Bucket.objects.filter(watch=watch).values_list("volume", flat=True)) == 2


def test_the_aggregates_match_the_posts_seen(desk):
    now = timezone.now().replace(second=30, microsecond=0)
    watch = approved_watch(desk)
    feed = Feed()
    slot = bucket_start(now)
    feed.add(slot + timedelta(seconds=10), "Great atmosphere at the stadium, love it", "Lovely day at the stadium")
    feed.add(slot + timedelta(seconds=20), "Terrible queues, awful organisation at the stadium")
    feed.add(slot + timedelta(seconds=30), "Crush at gate 3, people cannot breathe")
    feed.add(slot + timedelta(seconds=40), "Mucha gente en la puerta del estadio", language="es")
    feed.add(slot - timedelta(minutes=5), "Heading to the stadium early")
    feed.add(watch.window_start - timedelta(minutes=1), "Before the window: not counted")
    worker.watches_run(now=now, reader=feed)
    buckets = {b.start: b for b in Bucket.objects.filter(watch=watch)}
    assert set(buckets) == {slot, slot - timedelta(minutes=5)}
    current = buckets[slot]
    assert current.volume == 5 and current.danger == 1
    assert current.languages == {"en": 4, "es": 1}
    assert sum(current.sentiments.values()) == 5 and current.sentiments.get("positive", 0) >= 1
    assert current.sentiments.get("negative", 0) >= 1
    assert set(current.danger_terms) >= {"crush"}
    assert current.top_terms["stadium"] == 3
    assert buckets[slot - timedelta(minutes=5)].volume == 1
    # A second run adds to the same bucket.
    feed.add(slot + timedelta(seconds=50), "Still at the stadium")
    worker.watches_run(now=now + timedelta(seconds=20), reader=feed)
    assert Bucket.objects.get(watch=watch, start=slot).volume == 6
    assert Bucket.objects.get(watch=watch, start=slot).top_terms["stadium"] == 4


def test_names_phones_and_handles_never_become_top_terms(desk):
    now = timezone.now()
    watch = approved_watch(desk)
    feed = Feed()
    feed.add(now, "Lost child near the Stadium, ask Kowalski on 07700 900123 or @finder, 12 Acacia Avenue")
    worker.watches_run(now=now, reader=feed)
    terms = set(Bucket.objects.get(watch=watch).top_terms)
    assert {"lost", "child", "stadium"} <= terms
    assert not terms & {"kowalski", "07700", "900123", "finder", "acacia", "avenue", "phone", "address", "handle"}


CLAIM = "They say a bomb was found at the north stand, call Jane on {phone} or mail {mail}"


def test_near_duplicates_become_one_candidate_with_personal_data_masked(desk):
    now = timezone.now()
    watch = approved_watch(desk)
    feed = Feed()
    feed.add(now - timedelta(minutes=3), CLAIM.format(phone="07700 900123", mail="jane@example.org"))
    worker.watches_run(now=now - timedelta(minutes=3), reader=feed)
    assert not RumourCandidate.objects.exists()  # one post is not a claim many repeat
    feed.add(now - timedelta(minutes=2), CLAIM.format(phone="07700 900456", mail="j@example.org") + "!!",
             "they say a BOMB was found at the north stand call Jane", "They say a bomb was found at the north stand")
    feed.add(now - timedelta(minutes=1), "Lovely weather for the match today")
    worker.watches_run(now=now - timedelta(minutes=2), reader=feed)
    candidate = RumourCandidate.objects.get()
    assert candidate.count == 4 and candidate.watch == watch
    assert candidate.first_seen == now - timedelta(minutes=3) and candidate.last_seen == now - timedelta(minutes=2)
    assert candidate.claim == "They say a bomb was found at the north stand, call Jane on [phone] or mail [email]"
    for secret in ("07700", "900123", "900456", "jane@example.org", "j@example.org"):
        assert secret not in candidate.claim
    assert Signal.objects.filter(candidate=candidate).count() == 4
    feed.add(now, "they say a bomb was found at the north stand")
    worker.watches_run(now=now, reader=feed)
    candidate.refresh_from_db()
    assert candidate.count == 5 and candidate.last_seen == now
    assert RumourCandidate.objects.count() == 1


def _run_minutes(watch, feed, start, minutes, per_minute, text="Queues at the stadium {n} today"):
    for minute in range(minutes):
        when = start + timedelta(minutes=minute)
        feed.add(when, *[text.format(n=f"{minute}-{i}") for i in range(per_minute)])
        worker.watches_run(now=when + timedelta(seconds=30), reader=feed)


def test_a_steady_stream_raises_no_spike_and_a_burst_does(desk):
    Membership.objects.filter(user=desk.liaison).update(on_duty=True)
    start = bucket_start(timezone.now()) - timedelta(hours=1, minutes=30)
    watch = approved_watch(desk, start=start - timedelta(minutes=1))
    feed = Feed()
    _run_minutes(watch, feed, start, 70, 6)
    assert not SpikeAlert.objects.exists() and not Notification.objects.filter(kind="awareness_spike").exists()
    burst = start + timedelta(minutes=70)
    feed.add(burst, *[f"Something is happening at the stadium {i}, phone 07700 900{i:03d}" for i in range(120)])
    worker.watches_run(now=burst + timedelta(seconds=30), reader=feed)
    alert = SpikeAlert.objects.get()
    assert alert.kind == "volume"
    notes = Notification.objects.filter(kind="awareness_spike")
    assert set(notes.values_list("user_id", flat=True)) == {desk.liaison.pk}  # on duty: the liaison
    assert "07700" not in notes.get().text and "[phone]" in notes.get().text
    feed.add(burst + timedelta(minutes=1), *[f"Still lots at the stadium {i}" for i in range(120)])
    worker.watches_run(now=burst + timedelta(minutes=1, seconds=30), reader=feed)
    assert SpikeAlert.objects.count() == 1  # one alert for one burst


def test_danger_posts_about_one_place_raise_an_alert(desk):
    now = timezone.now()
    approved_watch(desk)
    feed = Feed()
    feed.add(now - timedelta(minutes=2), "Crush near gate 3, people cannot breathe",
             "Stampede at gate 3!! call 07700 900123", "crush at Gate 3 send help")
    feed.add(now - timedelta(minutes=1), "Gate 3 crush getting worse", "Someone fainted in the crush at gate 3",
             "Crush at gate 7 too")
    worker.watches_run(now=now, reader=feed)
    alert = SpikeAlert.objects.get()
    assert alert.kind == "danger" and alert.key == "gate 3"
    assert alert.text.startswith("5 posts about crush") and "near gate 3" in alert.text
    note = Notification.objects.get(kind="awareness_spike", user=desk.supervisor)  # nobody on duty: supervisors
    assert "07700" not in note.text
    assert set(Notification.objects.filter(kind="awareness_spike").values_list("user_id", flat=True)) == {
        desk.supervisor.pk, desk.supervisor2.pk}


def test_four_danger_posts_are_not_yet_a_spike(desk):
    now = timezone.now()
    approved_watch(desk)
    feed = Feed()
    feed.add(now - timedelta(minutes=1), *["Crush near gate 3"] * 4, "Crush near gate 4")
    worker.watches_run(now=now, reader=feed)
    assert not SpikeAlert.objects.exists()


def test_the_worker_reads_the_instance_and_the_feed_and_waits_when_told(desk, instance):
    from tests.engage.awareness.test_fetchers import FEED

    now = timezone.now()
    instance.feed = FEED.replace("2026-12-05T10:00:00Z", now.strftime("%Y-%m-%dT%H:%M:%SZ")).encode()
    from tests.engage.awareness.conftest import hostile_status

    instance.statuses = [hostile_status(n, f"Long queues at the stadium {n}", created=now) for n in range(1, 4)]
    watch = approved_watch(desk, instances=[instance.url], feeds=[f"{instance.url}/feed.xml"])
    assert worker.watches_run(now=now)["read"] == 5  # three statuses and the feed's two entries
    assert sum(Bucket.objects.values_list("volume", flat=True)) == 4  # the older entry is before the window
    watch.refresh_from_db()
    assert set(watch.cursors) == {f"mastodon:{instance.url}#DerbyDay", f"feed:{instance.url}/feed.xml"}
    assert watch.next_run_at is None and watch.last_error == ""
    instance.rate_limited = True
    worker.watches_run(now=now + timedelta(minutes=1))
    watch.refresh_from_db()
    assert watch.next_run_at == now + timedelta(minutes=1, seconds=120)  # Retry-After: 120
    asked = len(instance.requests)
    assert worker.watches_run(now=now + timedelta(minutes=2))["skipped"] == 1
    assert len(instance.requests) == asked  # not asked again before the time it gave
    instance.rate_limited = False
    instance.feed = b"<html>not a feed</html>"
    worker.watches_run(now=now + timedelta(minutes=3, seconds=1))
    watch.refresh_from_db()
    assert watch.last_error.startswith("feed: ") and watch.next_run_at is None
