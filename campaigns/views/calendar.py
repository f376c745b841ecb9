"""The calendar of the team's scheduled messages, by week or month, in the team's time zone, and
moving a message to another day or time from it.

A move (dragging a message onto another day, or the "Move" form each message has for those who do
not drag) is a normal POST with its CSRF token to ``calendar/<pk>/move/``, which goes through the
message page's schedule form and service (``message_actions.schedule_from_form``): the same checks,
the same audit record and the same confirmation. The content hash covers what goes out, never when,
so an approved message keeps its approval when only its time changes.
"""

from __future__ import annotations

import calendar as pycal
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.views.decorators.http import require_POST, require_safe

from accounts import permissions
from campaigns import selectors
from campaigns.models import MessageStatus
from campaigns.views.message_actions import schedule_from_form
from campaigns.views.messages import _message
from core.ids import parse_id
from core.timeutil import in_request_range

# The calendar's own query: what a move keeps when it comes back to the calendar.
FILTERS = ("view", "start", "event", "channel", "segment")


def _query(data: dict) -> str:
    """The calendar's filters from ``data`` (GET or the move form's copy), each reduced to what it may be."""
    kept = {}
    if data.get("view") == "week":
        kept["view"] = "week"
    start = str(data.get("start") or "")
    try:
        if start and in_request_range(date.fromisoformat(start)):
            kept["start"] = start
    except ValueError:
        pass
    for name in ("event", "channel", "segment"):
        if (value := parse_id(data.get(name))) is not None:
            kept[name] = str(value)
    return urlencode(kept)


@login_required
@require_safe
def calendar_view(request: HttpRequest) -> HttpResponse:
    """Scheduled messages by week or month, in the team's time zone, filtered by event, channel and audience."""
    user = request.user
    mode = "week" if request.GET.get("view") == "week" else "month"
    today = timezone.localdate()
    try:
        anchor = date.fromisoformat(request.GET.get("start", "")) if request.GET.get("start") else today
    except ValueError:
        anchor = today
    if not in_request_range(anchor):
        anchor = today  # 9999-12-31 has no next month to link to
    if mode == "week":
        first = anchor - timedelta(days=anchor.weekday())
        days = [first + timedelta(days=i) for i in range(7)]
        prev_start, next_start = first - timedelta(days=7), first + timedelta(days=7)
    else:
        first = anchor.replace(day=1)
        weeks = pycal.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
        days = [d for week in weeks for d in week]
        prev_start = (first - timedelta(days=1)).replace(day=1)
        next_start = (first + timedelta(days=32)).replace(day=1)
    zone = timezone.get_current_timezone()
    start_dt = datetime.combine(days[0], time.min, tzinfo=zone)
    end_dt = datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=zone)
    event_id = parse_id(request.GET.get("event"))
    channel_id = parse_id(request.GET.get("channel"))
    segment_id = parse_id(request.GET.get("segment"))
    items = selectors.scheduled_between(user, start_dt, end_dt, event=event_id, channel=channel_id,
                                        segment=segment_id)
    by_day: dict[date, list] = {d: [] for d in days}
    now = timezone.now()
    for message in items:
        local = timezone.localtime(message.scheduled_at)
        message.local_value = local.strftime("%Y-%m-%dT%H:%M")
        # Only what is still waiting to go out moves, and only for those who may schedule it.
        message.can_move = (message.status == MessageStatus.SCHEDULED and message.scheduled_at > now
                            and permissions.can_schedule(user, message))
        by_day.setdefault(local.date(), []).append(message)
    rows = [days[i:i + 7] for i in range(0, len(days), 7)]
    filters = {"event": str(event_id or ""), "channel": str(channel_id or ""), "segment": str(segment_id or "")}
    return render(request, "campaigns/calendar.html", {
        "mode": mode, "rows": [[(d, by_day.get(d, [])) for d in row] for row in rows], "first": first,
        "prev_start": prev_start, "next_start": next_start, "today": today,
        "events": selectors.events_for(user), "channels": selectors.channels_for(user).order_by("name"),
        "segments": selectors.segments_for(user).order_by("name"),
        **{f"{name}_id": value for name, value in filters.items()},
        "filter_query": urlencode({k: v for k, v in filters.items() if v}),
        "start": first.isoformat(),
        "weekdays": [WEEKDAYS_ABBR[day] for day in range(7)],  # Django's own words, in the desk's language
    })


@login_required
@require_POST
def calendar_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a scheduled message to another day or time, through the schedule form and its service;
    back to the calendar as it was, with the confirmation or the refusal shown there."""
    message = _message(request, pk)  # one the user may not see is a 404
    schedule_from_form(request, message)
    query = _query(request.POST)
    return redirect(reverse("campaigns:calendar") + (f"?{query}" if query else ""))
