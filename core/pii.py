"""Find and mask personal data in free text.

Shared by the outbound message checker and the inbound reply classifier, so the
API (``PiiMatch``, ``find_pii``, ``mask_pii``) is kept stable.

What is found (``PiiMatch.kind``):

``phone``
    Found by libphonenumber's matcher (the ``phonenumbers`` package, Google's metadata for
    every country), so the formats of the communities we serve are caught: ``+963 944 123
    456``, ``00 98 912 345 6789``, ``+44 (0)20 7946 0958``, ``+291 7 123 456``, and numbers
    written nationally with their trunk 0, UK or not (``07700 900123``, ``(020) 7946 0958``,
    ``0944 123 456``, ``070 123 4567``, ``0532 123 45 67``), in Arabic-Indic or Persian digits
    too. A candidate counts when it starts with ``+``, ``00`` or ``0`` and has enough digits
    for its country (valid, or at least possible, by libphonenumber). Not reported: numbers
    that belong to organisations (freephone, premium rate, shared cost, the UK's 03 numbers,
    after ``+44`` too: Crimestoppers on 0800 555 111), unless a UK premium-rate number is a
    mobile in one of the communities' countries (Iran's 0912…); short numbers (999, 101);
    numbers right after a reference word (ref, crime number, incident, log, case, order,
    booking, ticket, lot, flight, account, #); dates, times, amounts and years (the matcher
    skips them, and they have no leading ``+``/``0``). National numbers written without a
    trunk 0 (Polish ``501 234 567``) are not found: too many ordinary numbers look the same.
``email``
    ``name@example.org``. A fediverse handle (``@force@police.social``) is a
    public account name, not an email address, and is skipped.
``vehicle_registration``
    UK plates in upper case: current (``AB12 CDE``), prefix (``A123 BCD``) and
    suffix (``ABC 123D``) formats. Dateless and Northern Irish plates are not
    detected: they look too much like ordinary words and numbers.
``date_of_birth``
    A date close after "born", "DOB", "D.O.B." or "date of birth" (any year,
    two-digit years allowed, or month and year), and, without such a word, any
    full date with a four-digit year that is between 10 and 110 years ago.
    Recent and future dates are event dates, not dates of birth, so they are
    not reported. Only the date itself is the match, not the keyword.
``address``
    UK postcodes (upper case, ``SW1A 1AA``) and house-number street addresses
    (``12 High Street``, ``4a St John's Road``). A street name without a number
    is a public place, not personal data.

Text inside URLs and hashtags is never reported; times (``19:30``), years and
ordinary numbers are not phone numbers or dates.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher, PhoneNumberType

__all__ = ["PII_KINDS", "PiiMatch", "find_pii", "mask_pii"]

PII_KINDS: Final = ("phone", "email", "vehicle_registration", "date_of_birth", "address")


@dataclass(frozen=True)
class PiiMatch:
    kind: str
    start: int
    end: int
    text: str


# -- zones that are never personal data -----------------------------------------------------------

_EXCLUDED_ZONE_RE: Final = re.compile(
    r"""(?:https?://|www\.)[^\s<>"']+   # URLs
      | (?<![\w&])\#\w+                  # hashtags
    """,
    re.IGNORECASE | re.VERBOSE,
)

# -- phone numbers --------------------------------------------------------------------------------

# Where a number written nationally (with its trunk 0) may come from, besides the UK: the
# communities we serve. Used only to tell a personal mobile from a UK premium-rate number (0912
# 345 6789 is both a UK premium-rate number and an Iranian mobile).
_COMMUNITY_REGIONS: Final = (
    "IR", "AF", "SY", "IQ", "TR", "UA", "RO", "SO", "ER", "ET", "SD", "PK", "PL", "RU", "PT", "ES", "IT",
)  # fmt: skip
# Numbers that belong to organisations, not people: freephone, premium rate, shared cost, the
# UK's 03 numbers (UAN) and voicemail access. Crimestoppers on 0800 555 111 is not personal data.
_SERVICE_TYPES: Final = frozenset(
    {
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.UAN,
        PhoneNumberType.VOICEMAIL,
    }
)
# A number right after one of these words is a reference, not a phone number.
_REFERENCE_BEFORE: Final = re.compile(
    r"(?:\bref(?:erence)?|\bcrime\s+(?:number|no)|\bincident|\blog|\bcase|\border|\binvoice|\baccount|"
    r"\bbooking|\bticket|\blot|\bserial|\bpolicy|\bclaim|\bparcel|\btracking|\bflight|\bvin|\biban|#)"
    r"[\s:.#-]*(?:no\.?|number|num)?(?:\s+is)?[\s:.#-]*$",
    re.IGNORECASE,
)

# -- email ------------------------------------------------------------------------------------------

_EMAIL_RE: Final = re.compile(
    r"(?<![\w.%+@-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w@-])"
)

# -- UK vehicle registrations -------------------------------------------------------------------

# Letters that never appear in the relevant position of a UK plate are excluded to cut
# false positives (I, Q and Z in the current format, I, O, Q, U, Z as a prefix year letter).
_VRM_CURRENT: Final = r"[A-HJ-PR-Y][A-HJ-PR-Y](?:0[2-9]|[1-9]\d) ?[A-HJ-PR-Z]{3}"
_VRM_PREFIX: Final = r"[A-HJ-NPR-TV-Y]\d{1,3} ?[A-HJ-PR-Y][A-HJ-PR-Z]{2}"
_VRM_SUFFIX: Final = r"[A-HJ-PR-Y][A-HJ-PR-Z]{2} ?\d{1,3} ?[A-HJ-NPR-TV-Y]"
_VRM_RE: Final = re.compile(rf"(?<![\w&-])(?P<plate>{_VRM_CURRENT}|{_VRM_PREFIX}|{_VRM_SUFFIX})(?![\w&-])")
# Upper-case words that follow a road number ("A1 JCT", "M25 ONLY") or precede one
# ("NHS 111 A") in shouted text and would otherwise look like old-style plates.
_VRM_STOPWORDS: Final = frozenset(
    {
        "AND", "ARE", "BUT", "FOR", "HAS", "HAD", "HER", "HIM", "HIS", "ITS", "JCT", "NHS",
        "NOT", "NOW", "OFF", "OUR", "OUT", "RTC", "SHE", "THE", "WAS", "WAY", "WHO", "YOU",
        "BTP", "GMP", "ALL", "ANY", "CAN", "MAY", "TWO", "TEN", "SIX", "ONE", "NEW", "OLD",
    }
)  # fmt: skip

# -- dates of birth ----------------------------------------------------------------------------

_MONTHS: Final = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}  # fmt: skip
_MONTH_RE: Final = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ORD: Final = r"(?:st|nd|rd|th)?"

_DATE_PATTERNS: Final = (
    # 12/03/1985, 12-03-85, 12.3.1985
    re.compile(
        r"(?<![\w/.\-:])(?P<d>\d{1,2})(?P<sep>[/.\-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})(?![\w/\-:]|\.\d)"
    ),
    # 1985-03-12
    re.compile(r"(?<![\w/.\-:])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?![\w/\-:]|\.\d)"),
    # 12 March 1985, 12th of Mar. 1985
    re.compile(
        rf"(?<!\w)(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?(?P<mon>{_MONTH_RE})\.?,?\s+(?P<y>\d{{4}})(?!\w)",
        re.IGNORECASE,
    ),
    # March 12, 1985
    re.compile(
        rf"(?<!\w)(?P<mon>{_MONTH_RE})\.?\s+(?P<d>\d{{1,2}}){_ORD},?\s+(?P<y>\d{{4}})(?!\w)",
        re.IGNORECASE,
    ),
)
# Month and year only: a date of birth only after a keyword ("born in March 1985").
_MONTH_YEAR_RE: Final = re.compile(rf"(?<!\w)(?P<mon>{_MONTH_RE})\.?,?\s+(?P<y>\d{{4}})(?!\w)", re.IGNORECASE)
_DOB_KEYWORD_RE: Final = re.compile(
    r"(?<!\w)(?:born|d\.?o\.?b\b\.?|date\s+of\s+birth|birth\s*date|birthday)", re.IGNORECASE
)
_KEYWORD_WINDOW: Final = 30
_MIN_DOB_AGE_YEARS: Final = 10
_MAX_DOB_AGE_YEARS: Final = 110

# -- addresses --------------------------------------------------------------------------------------

_POSTCODE_RE: Final = re.compile(
    r"(?<![A-Za-z0-9])"
    r"(?:GIR ?0AA|(?:[A-PR-UWYZ](?:\d[A-HJKPS-UW\d]?|[A-HK-Y]\d[ABEHMNPRV-Y\d]?)) ?\d[ABD-HJLNP-UW-Z]{2})"
    r"(?![A-Za-z0-9])"
)
_STREET_TYPES: Final = (
    "Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Close|Drive|Dr|Way|Crescent|Cres|Place|Pl|Court|Ct|"
    "Gardens|Gdns|Terrace|Grove|Square|Sq|Hill|Mews|Row|Walk|Parade|Rise|Vale|Boulevard|"
    "Park|Green|Wharf|Yard|Embankment|Approach|Circus|Broadway"
)
_STREET_RE: Final = re.compile(
    rf"(?<![\w/:.\-£$€])\d{{1,4}}[A-Za-z]?(?:[-–]\d{{1,4}}[A-Za-z]?)?,?[ \t]+"
    rf"(?:(?:St\.?|[A-Z][a-z'’\-]+)[ \t]+){{1,4}}?(?:{_STREET_TYPES})(?![\w'’])"
)


# -- public API -------------------------------------------------------------------------------------


def find_pii(text: str) -> list[PiiMatch]:
    """Return the personal data found in ``text``: non-overlapping, sorted by start.

    Where two candidates overlap, the earlier one wins, then the longer one.
    ``text[m.start:m.end] == m.text`` always holds.
    """
    if not text:
        return []
    excluded = [(m.start(), m.end()) for m in _EXCLUDED_ZONE_RE.finditer(text)]
    candidates: list[PiiMatch] = []
    candidates += _find_emails(text)
    candidates += _find_phones(text)
    candidates += _find_dates_of_birth(text)
    candidates += _find_vehicle_registrations(text)
    candidates += _find_addresses(text)

    candidates.sort(key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[PiiMatch] = []
    last_end = -1
    for match in candidates:
        if match.start < last_end or _overlaps_any(match.start, match.end, excluded):
            continue
        kept.append(match)
        last_end = match.end
    return kept


def mask_pii(text: str, *, mask: str = "[{kind}]") -> str:
    """Replace every match of ``find_pii`` with ``mask``.

    The default gives a readable, length-agnostic form: ``"Call [phone]"``. It does not
    reveal how long the hidden value was. ``{kind}`` in ``mask`` is replaced with the
    match's kind; any other text is used as it is (``mask="•••"`` gives ``"Call •••"``).
    """
    matches = find_pii(text)
    if not matches:
        return text
    parts: list[str] = []
    position = 0
    for match in matches:
        parts.append(text[position : match.start])
        parts.append(mask.replace("{kind}", match.kind))
        position = match.end
    parts.append(text[position:])
    return "".join(parts)


# -- finders ------------------------------------------------------------------------------------


def _overlaps_any(start: int, end: int, zones: list[tuple[int, int]]) -> bool:
    return any(start < zone_end and zone_start < end for zone_start, zone_end in zones)


def _match(kind: str, text: str, start: int, end: int) -> PiiMatch:
    return PiiMatch(kind=kind, start=start, end=end, text=text[start:end])


def _find_emails(text: str) -> list[PiiMatch]:
    if "@" not in text:
        return []
    return [_match("email", text, m.start(), m.end()) for m in _EMAIL_RE.finditer(text)]


def _find_phones(text: str) -> list[PiiMatch]:
    """Phone numbers found by libphonenumber's matcher (the ``phonenumbers`` package).

    The matcher proposes every digit run that could be a number (UK rules for national
    numbers, any country's after ``+`` or ``00``); a candidate is kept when it is written as a
    phone number is: with ``+``, ``00`` or a trunk ``0`` in front, with enough digits for its
    country, not a service number and not a reference (see the module docstring).
    """
    if sum(char.isdigit() for char in text) < 8:
        return []
    found = []
    for candidate in PhoneNumberMatcher(text, "GB", leniency=Leniency.POSSIBLE):
        if _is_personal_phone(text, candidate.start, candidate.raw_string, candidate.number):
            found.append(_match("phone", text, candidate.start, candidate.end))
    return found


def _is_personal_phone(text: str, start: int, raw: str, number: phonenumbers.PhoneNumber) -> bool:
    digits = phonenumbers.normalize_digits_only(raw)
    written = raw.lstrip("( ")
    international = written.startswith("+") or digits.startswith("00")
    national = not international and digits.startswith("0")
    significant = phonenumbers.national_significant_number(number)
    if international:
        if len(significant) < 7 or len(digits.removeprefix("00")) > 15:
            return False
    elif not national or not 9 <= len(significant) <= 11:
        return False
    if _REFERENCE_BEFORE.search(text[max(0, start - 30) : start]):
        return False
    if not phonenumbers.is_valid_number(number):
        return phonenumbers.is_possible_number(number)
    kind = phonenumbers.number_type(number)
    if kind not in _SERVICE_TYPES:
        return True
    # A UK premium-rate number (09…) written nationally is more likely another country's mobile
    # (Iran's 0912…, Syria's 0944…). Freephone and 03 numbers stay organisations' even where
    # they look like a mobile elsewhere (0300… is also a Pakistani mobile).
    return national and kind == PhoneNumberType.PREMIUM_RATE and any(
        _is_mobile_in(raw, region) for region in _COMMUNITY_REGIONS
    )


def _is_mobile_in(raw: str, region: str) -> bool:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in {
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }


def _find_vehicle_registrations(text: str) -> list[PiiMatch]:
    found = []
    for m in _VRM_RE.finditer(text):
        plate = m.group("plate")
        letter_groups = re.findall(r"[A-Z]+", plate)
        if any(group in _VRM_STOPWORDS for group in letter_groups):
            continue
        found.append(_match("vehicle_registration", text, m.start("plate"), m.end("plate")))
    return found


def _find_addresses(text: str) -> list[PiiMatch]:
    found = [_match("address", text, m.start(), m.end()) for m in _POSTCODE_RE.finditer(text)]
    found += [_match("address", text, m.start(), m.end()) for m in _STREET_RE.finditer(text)]
    return found


def _find_dates_of_birth(text: str) -> list[PiiMatch]:
    keyword_ends = [m.end() for m in _DOB_KEYWORD_RE.finditer(text)]
    this_year = dt.date.today().year
    found: list[PiiMatch] = []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            year = _full_year(m.group("y"), this_year=this_year)
            month = _month_number(m)
            if month is None or not _valid_day_month(int(m.group("d")), month):
                continue
            after_keyword = _follows_keyword(text, m.start(), keyword_ends)
            plausible_age = (
                len(m.group("y")) == 4
                and this_year - _MAX_DOB_AGE_YEARS <= year <= this_year - _MIN_DOB_AGE_YEARS
            )
            if after_keyword or plausible_age:
                found.append(_match("date_of_birth", text, m.start(), m.end()))
    if keyword_ends:
        for m in _MONTH_YEAR_RE.finditer(text):
            if _follows_keyword(text, m.start(), keyword_ends):
                found.append(_match("date_of_birth", text, m.start(), m.end()))
    return found


def _full_year(raw: str, *, this_year: int) -> int:
    if len(raw) == 4:
        return int(raw)
    # Two-digit years: the most recent year ending in those digits that is not in the future.
    year = (this_year // 100) * 100 + int(raw)
    return year - 100 if year > this_year else year


def _month_number(m: re.Match[str]) -> int | None:
    groups = m.groupdict()
    if groups.get("mon"):
        return _MONTHS.get(groups["mon"].lower())
    return int(groups["m"])


def _valid_day_month(day: int, month: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31


def _follows_keyword(text: str, start: int, keyword_ends: list[int]) -> bool:
    """True when a keyword ends at most ``_KEYWORD_WINDOW`` characters before ``start``,
    in the same sentence. ``keyword_ends`` is sorted."""
    first = bisect.bisect_left(keyword_ends, start - _KEYWORD_WINDOW)
    last = bisect.bisect_right(keyword_ends, start)
    for end in keyword_ends[first:last]:
        between = text[end:start]
        if "\n" not in between and not re.search(r"[.!?]\s", between):
            return True
    return False
