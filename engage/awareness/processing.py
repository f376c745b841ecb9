"""What the worker does with the posts a watch read: mask, count, cluster, keep briefly.

:func:`posts_process` takes :class:`~platforms.signals.PublicPost` values (text, language, time:
nothing else exists to store) and, in one transaction: adds them to the watch's 5-minute
:class:`~engage.awareness.models.Bucket` rows (volume, languages, sentiments, danger terms, top
terms), stores each masked text as a :class:`~engage.awareness.models.Signal` until its retention
ends (a post already older than that is counted and not stored), and groups near-duplicate texts
into :class:`~engage.awareness.models.RumourCandidate` rows. Posts from before the window are
dropped. The spike checks (``spikes.py``) run on what was added.

Near-duplicates: two texts whose normalised word sets have a Jaccard similarity of at least
:data:`SIMILAR` are the same claim. A new text joins the most similar candidate; otherwise, when it
matches :data:`CLUSTER_MIN` - 1 recent texts not yet in a candidate, they become one. Candidate
generation uses an inverted index of the words, skipping words most recent texts share (the
event's hashtag), so a run stays linear in the number of posts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction

from engage.awareness.analysis import Reading, allowed_words, jaccard, read_post, tokens_of, top
from engage.awareness.models import BUCKET, Bucket, RumourCandidate, Signal, Watch
from platforms.signals import PublicPost

SIMILAR = 0.6
CLUSTER_MIN = 4  # texts that make a candidate
MIN_TOKENS = 3  # shorter texts never cluster
POOL_MINUTES = 60  # recent texts without a candidate that new ones are compared with
POOL_MAX = 2000
COMMON_SHARE = 0.2  # a word in more than this share of the pool does not propose matches
TOP_TERMS = 50


def bucket_start(when: datetime) -> datetime:
    seconds = int(BUCKET.total_seconds())
    return when - timedelta(seconds=int(when.timestamp()) % seconds, microseconds=when.microsecond)


@dataclass
class Outcome:
    counted: int = 0
    stored: int = 0
    dropped_before_window: int = 0
    new_candidates: int = 0
    danger: list[tuple[datetime, Reading]] = field(default_factory=list)


@dataclass
class _Pooled:
    tokens: frozenset[str]
    when: datetime
    text: str
    signal_id: int | None = None  # a stored signal without a candidate
    new_index: int | None = None  # or a post of this run
    candidate: RumourCandidate | None = None


class _Clusters:
    """The watch's candidates and its recent unclustered texts, indexed by word."""

    def __init__(self, watch: Watch, now: datetime) -> None:
        self.candidates = list(RumourCandidate.objects.filter(watch=watch, last_seen__gte=now - timedelta(days=1)))
        self.candidate_tokens = [frozenset(c.tokens) for c in self.candidates]
        self.by_word: dict[str, list[int]] = defaultdict(list)
        for index, tokens in enumerate(self.candidate_tokens):
            for word in tokens:
                self.by_word[word].append(index)
        self.pool: list[_Pooled] = []
        self.pool_words: dict[str, list[int]] = defaultdict(list)
        recent = (Signal.objects.filter(watch=watch, candidate__isnull=True,
                                        received_at__gte=now - timedelta(minutes=POOL_MINUTES))
                  .order_by("-received_at").values_list("pk", "text", "received_at")[:POOL_MAX])
        for pk, text, when in recent:
            self._add(_Pooled(tokens=tokens_of(text), when=when, text=text, signal_id=pk))
        self.linked: dict[int, RumourCandidate] = {}  # stored signal id -> its new candidate
        self.new_linked: dict[int, RumourCandidate] = {}  # a post of this run -> its new candidate
        self.created: list[RumourCandidate] = []

    def _add(self, pooled: _Pooled) -> None:
        index = len(self.pool)
        self.pool.append(pooled)
        for word in pooled.tokens:
            self.pool_words[word].append(index)

    def _best_candidate(self, tokens: frozenset[str]) -> RumourCandidate | None:
        proposed = {i for word in tokens for i in self.by_word.get(word, ())}
        scored = [(jaccard(tokens, self.candidate_tokens[i]), i) for i in proposed]
        scored = [(score, i) for score, i in scored if score >= SIMILAR]
        return self.candidates[max(scored)[1]] if scored else None

    def place(self, reading: Reading, when: datetime, new_index: int) -> RumourCandidate | None:
        tokens = reading.tokens
        if len(tokens) < MIN_TOKENS:
            return None
        candidate = self._best_candidate(tokens)
        if candidate is not None:
            candidate.count += 1
            candidate.first_seen = min(candidate.first_seen, when)
            candidate.last_seen = max(candidate.last_seen, when)
            return candidate
        limit = max(50, int(COMMON_SHARE * len(self.pool)))
        shared: Counter[int] = Counter()
        for word in tokens:
            postings = self.pool_words.get(word, ())
            if len(postings) <= limit:
                shared.update(postings)
        matches = [i for i, n in shared.items() if n >= 2 and self.pool[i].candidate is None
                   and jaccard(tokens, self.pool[i].tokens) >= SIMILAR]
        pooled = _Pooled(tokens=tokens, when=when, text=reading.text, new_index=new_index)
        if len(matches) + 1 < CLUSTER_MIN:
            self._add(pooled)
            return None
        members = [self.pool[i] for i in matches] + [pooled]
        candidate = RumourCandidate(watch_id=0, claim=_claim(members), tokens=sorted(tokens), count=len(members),
                                    first_seen=min(m.when for m in members), last_seen=max(m.when for m in members))
        for member in members:
            member.candidate = candidate
            if member.signal_id is not None:
                self.linked[member.signal_id] = candidate
            elif member.new_index is not None:
                self.new_linked[member.new_index] = candidate
        self.created.append(candidate)
        index = len(self.candidates)
        self.candidates.append(candidate)
        self.candidate_tokens.append(tokens)
        for word in tokens:
            self.by_word[word].append(index)
        return candidate


def _claim(members: list[_Pooled]) -> str:
    """The claim as shown: the earliest wording not written in capitals (else the earliest)."""
    ordered = sorted(members, key=lambda m: m.when)
    calm = [m for m in ordered if not (sum(c.isupper() for c in m.text) > 0.5 * sum(c.isalpha() for c in m.text))]
    return (calm or ordered)[0].text[:500]


def _merge(bucket: Bucket, readings: list[Reading]) -> None:
    languages, sentiments = Counter(bucket.languages), Counter(bucket.sentiments)
    danger_terms, terms = Counter(bucket.danger_terms), Counter(bucket.top_terms)
    for reading in readings:
        bucket.volume += 1
        languages[reading.language] += 1
        sentiments[reading.sentiment] += 1
        if reading.danger_terms:
            bucket.danger += 1
            danger_terms.update({term.lower() for term in reading.danger_terms})
        terms.update(reading.terms)
    bucket.languages, bucket.sentiments = dict(languages), dict(sentiments)
    bucket.danger_terms, bucket.top_terms = dict(danger_terms), top(terms, TOP_TERMS)


def posts_process(*, watch: Watch, posts: list[PublicPost], now: datetime) -> Outcome:
    """Count, cluster and briefly keep ``posts`` for ``watch`` (see the module's description)."""
    outcome = Outcome()
    allowed = allowed_words(watch.event.name, watch.event.location, watch.hashtags, watch.event.hashtags)
    read: list[tuple[datetime, Reading]] = []
    for post in posts:
        if post.created_at < watch.window_start:
            outcome.dropped_before_window += 1
            continue
        when = min(post.created_at, now)
        read.append((when, read_post(post.text, post.language, allowed=allowed)))
    if not read:
        return outcome
    keep_until = timedelta(hours=watch.retention_hours)
    with transaction.atomic():
        clusters = _Clusters(watch, now)
        placed = [clusters.place(reading, when, i) for i, (when, reading) in enumerate(read)]
        placed = [clusters.new_linked.get(i, found) for i, found in enumerate(placed)]
        for candidate in clusters.created:
            candidate.watch = watch
        RumourCandidate.objects.bulk_create(clusters.created)
        grown = [c for c in clusters.candidates if c.pk and c not in clusters.created]
        RumourCandidate.objects.bulk_update(grown, ["count", "first_seen", "last_seen"])
        for candidate in set(clusters.linked.values()):
            Signal.objects.filter(pk__in=[pk for pk, c in clusters.linked.items() if c is candidate]).update(
                candidate=candidate)
        signals = [Signal(watch=watch, text=reading.text, language=reading.language, received_at=when,
                          delete_after=when + keep_until, danger=bool(reading.danger_terms), place=reading.place,
                          candidate=candidate)
                   for (when, reading), candidate in zip(read, placed, strict=True) if when + keep_until > now]
        Signal.objects.bulk_create(signals)
        by_slot: dict[datetime, list[Reading]] = defaultdict(list)
        for when, reading in read:
            by_slot[bucket_start(when)].append(reading)
        existing = {b.start: b for b in Bucket.objects.filter(watch=watch, start__in=list(by_slot))}
        for start, readings in by_slot.items():
            bucket = existing.get(start) or Bucket(watch=watch, start=start)
            _merge(bucket, readings)
            existing[start] = bucket
        fresh = [b for b in existing.values() if b.pk is None]
        changed = [b for b in existing.values() if b.pk is not None]
        Bucket.objects.bulk_create(fresh)
        Bucket.objects.bulk_update(changed, ["volume", "danger", "languages", "sentiments", "danger_terms",
                                             "top_terms"])
    outcome.counted, outcome.stored, outcome.new_candidates = len(read), len(signals), len(clusters.created)
    outcome.danger = [(when, reading) for when, reading in read if reading.danger_terms]
    return outcome
