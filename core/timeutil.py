"""Times are stored in UTC and shown in the team's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.utils import timezone

from core.errors import InvalidInput

# Dates and times that come from a request must fall in these bounds: far enough from the ends of Python's
# calendar (years 1 and 9999) that the arithmetic done on them (a month ahead, the next day, a time zone,
# the database's conversion to UTC) can never overflow into a 500.
REQUEST_DATE_MIN = date(1900, 1, 1)
REQUEST_DATE_MAX = date(2999, 12, 31)
REQUEST_DATE_MESSAGE = f"Give a date between {REQUEST_DATE_MIN.year} and {REQUEST_DATE_MAX.year}."


def in_request_range(value: date | datetime) -> bool:
    """Whether a date or time from a request is within ``REQUEST_DATE_MIN``..``REQUEST_DATE_MAX`` (a time by
    its UTC date; a naive time as it stands)."""
    if isinstance(value, datetime):
        try:
            day = value.astimezone(UTC).date() if value.tzinfo is not None else value.date()
        except OverflowError:
            return False
    else:
        day = value
    return REQUEST_DATE_MIN <= day <= REQUEST_DATE_MAX


def now() -> datetime:
    return timezone.now()


def get_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"Unknown time zone {name!r}.", code="invalid_timezone") from exc


def is_valid_zone(name: str) -> bool:
    return name in available_timezones()


def local_to_utc(value: datetime, zone_name: str) -> datetime:
    """Interpret a naive wall-clock time in ``zone_name`` and return it in UTC.

    A time that does not exist (the hour skipped when clocks go forward) is refused; an
    ambiguous one (the hour repeated when clocks go back) means the first occurrence,
    which is what people mean by "01:30" on that night unless told otherwise.
    """
    if value.tzinfo is not None:
        return value.astimezone(ZoneInfo("UTC"))
    zone = get_zone(zone_name)
    first = value.replace(tzinfo=zone, fold=0)
    roundtrip = first.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    if roundtrip != value:
        raise InvalidInput(
            f"{value:%H:%M} on {value:%d %B %Y} does not exist in {zone_name} (the clocks go forward).",
            code="nonexistent_time",
        )
    return first.astimezone(ZoneInfo("UTC"))


def utc_to_local(value: datetime, zone_name: str) -> datetime:
    return value.astimezone(get_zone(zone_name))


def ceil_minutes(value: datetime, minutes: int = 1) -> datetime:
    step = timedelta(minutes=minutes)
    remainder = (value - datetime.min.replace(tzinfo=value.tzinfo)) % step
    return value if not remainder else value + (step - remainder)
