"""The metrics summary: replies counted per hour and per day, so the dashboard and the after-action
report stay fast with a million replies (``engage.metrics.rollup`` fills it, ``engage.metrics.summary`` reads it).

One row counts the replies of one team, in one hour (``grain`` h, UTC) or one day (``grain`` d,
the team's calendar day), with the same campaign, event, phase and channel, the same *segments*
and the same value of one *dimension*: ``c`` category, ``l`` language, or ``x`` both
(``"<language>|<category>"``, read only under a language filter, for its per-category volume).
Every reply is counted once in the ``c`` rows, once in the ``l`` rows and once in the ``x`` rows,
whatever its segments.

``segments`` is the set of segments the answered message targeted, as their ids in order between
commas (``",3,7,"``; empty for a reply to no segmented message or to no message). So the replies
of segment 3 are exactly the rows whose set contains ``,3,`` (each reply once, as the live
filter counts them), and per-segment figures are the rows of each set added to each of its
segments (a reply to a message aimed at two segments counts for both, as live). The measures are
counts (replies, needing an answer, answered, SLA met/missed/pending, sentiment, corrections)
and a histogram of the time to first response in fixed bands (:data:`RESPONSE_BANDS`), from
which percentiles are interpolated.

It holds no personal data: no text, no handle, no reply id. Campaign, event and channel are
plain ids (no foreign keys), so the summary never blocks deleting anything.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

# Upper edges (seconds) of the response-time bands; the last band is open. Every edge of the
# dashboard's distribution chart (5 min, 15 min, 1 h, 4 h, 1 day, 3 days) is one of these; a band's
# top is at most 1.5x its bottom from 2 minutes to 5 days (2x below 2 minutes, 1.4x above 5 days).
RESPONSE_BANDS: tuple[int, ...] = (
    30, 60, 120, 180, 300, 420, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800, 14400, 21600, 28800,
    43200, 64800, 86400, 129600, 172800, 259200, 345600, 432000, 604800,
)
BAND_FIELDS: tuple[str, ...] = tuple(f"rt_{i:02d}" for i in range(len(RESPONSE_BANDS) + 1))


class MetricsRollup(models.Model):
    GRAIN_HOUR = "h"
    GRAIN_DAY = "d"
    CATEGORY = "c"
    LANGUAGE = "l"
    LANGUAGE_CATEGORY = "x"  # value "<language>|<category>" (a category never holds "|")

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+", db_index=False)
    grain = models.CharField(max_length=1)
    period_start = models.DateTimeField()
    dimension = models.CharField(max_length=1)
    value = models.CharField(max_length=40, blank=True)
    campaign_id = models.BigIntegerField(null=True, blank=True)
    event_id = models.BigIntegerField(null=True, blank=True)
    phase = models.CharField(max_length=6)
    channel_id = models.BigIntegerField(null=True, blank=True)
    segments = models.TextField(blank=True, help_text='The message\'s segment ids, e.g. ",3,7,"; empty: none')

    replies = models.PositiveIntegerField(default=0)
    needing = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    answered_needing = models.PositiveIntegerField(default=0)
    urgent = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    corrected_category = models.PositiveIntegerField(default=0)
    corrected_sentiment = models.PositiveIntegerField(default=0)
    sla_met = models.PositiveIntegerField(default=0)
    sla_missed = models.PositiveIntegerField(default=0)
    sla_pending = models.PositiveIntegerField(default=0)
    positive = models.PositiveIntegerField(default=0)
    neutral = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    sentiment_unknown = models.PositiveIntegerField(default=0)
    sentiment_unclassified = models.PositiveIntegerField(default=0)
    rt_sum = models.FloatField(default=0.0, help_text="Seconds to first response, summed (answered, needing)")
    rt_max = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["team", "grain", "dimension", "period_start"], name="rollup_team_period"),
            models.Index(fields=["event_id", "grain", "dimension", "period_start"], name="rollup_event"),
        ]

    def __str__(self) -> str:
        return f"{self.grain}/{self.dimension}={self.value} team {self.team_id} at {self.period_start:%Y-%m-%d %H:%M}"


for _name in BAND_FIELDS:
    MetricsRollup.add_to_class(_name, models.PositiveIntegerField(default=0))


class MetricsRollupState(models.Model):
    """Where the summary got to: the single row ``name="replies"``."""

    name = models.CharField(max_length=40, unique=True)
    watermark = models.DateTimeField(null=True, blank=True, help_text="Changes before this are in the summary")
    refreshed_at = models.DateTimeField(null=True, blank=True)
    full_at = models.DateTimeField(null=True, blank=True, help_text="Last rebuild from scratch")
    running_since = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name}: {self.watermark}"
