"""Personal data detection and masking (core.pii)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.pii import PII_KINDS, PiiMatch, find_pii, mask_pii


def found(text: str) -> list[tuple[str, str]]:
    return [(m.kind, m.text) for m in find_pii(text)]


@pytest.mark.parametrize(
    "number",
    [
        "07700 900123",
        "07700900123",
        "+44 7700 900123",
        "+447700900123",
        "020 7946 0958",
        "(020) 7946 0958",
        "+44 (0)20 7946 0958",
        "0161-496-0123",
        "+33 6 12 34 56 78",
        "0044 20 7946 0958",
        "+1 202 555 0143",
    ],
)
def test_phone_numbers_in_uk_and_international_formats(number: str) -> None:
    text = f"Call {number} tonight."
    assert found(text) == [("phone", number)]


@pytest.mark.parametrize(
    "text",
    [
        "Gates open at 19:30 and close at 23:00.",
        "In 2024 over 12,000 people came; in 2025 we expect 15000.",
        "Call 999 in an emergency or 101 otherwise.",
        "The A6 is closed between junctions 25 and 26.",
        "Crimestoppers: 0800 555 111, or 0300 123 1212.",
        "See https://example.org/contact/07700900123 for details.",
        "Follow #Carnival2025 and #A6Closure.",
        "It is 0.5 miles away; 3.14159 is pi.",
    ],
)
def test_no_phone_false_positives(text: str) -> None:
    assert [m for m in find_pii(text) if m.kind == "phone"] == []


@pytest.mark.parametrize(
    "number",
    [
        "+963 944 123 456",  # Syria
        "00963 944 123 456",
        "0944 123 456",
        "+93 70 123 4567",  # Afghanistan
        "070 123 4567",
        "+98 912 345 6789",  # Iran
        "00 98 912 345 6789",
        "0912 345 6789",  # also a UK premium-rate number: an Iranian mobile is likelier in a reply
        "+291 7 123 456",  # Eritrea
        "+251 91 123 4567",  # Ethiopia
        "+252 61 234 5678",  # Somalia
        "061 234 5678",
        "+48 501 234 567",  # Poland
        "+40 721 234 567",  # Romania
        "0721 234 567",
        "+380 67 123 4567",  # Ukraine
        "067 123 4567",
        "+90 532 123 45 67",  # Turkey
        "0532 123 45 67",
        "(0532) 123 45 67",
        "+964 750 123 4567",  # Iraq (Kurdistan)
        "+92 300 1234567",  # Pakistan
        "+963-944-123-456",
        "+44 (0) 7911 123456",
        "۰۹۱۲ ۳۴۵ ۶۷۸۹",  # Persian digits
        "٠٧٩١١ ١٢٣٤٥٦",  # Arabic-Indic digits
        "+٩٦٣ ٩٤٤ ١٢٣ ٤٥٦",
    ],
)
def test_phone_numbers_from_the_communities_we_serve(number: str) -> None:
    text = f"Ring me on {number} please"
    assert found(text) == [("phone", number)]
    assert mask_pii(text) == "Ring me on [phone] please"


@pytest.mark.parametrize(
    "text",
    [
        "The parade is on 12/03/2026, 2026-03-12 or 12.03.2026 at 7.30pm.",
        "The 2026-12-04T19:30:00Z update moved the start to 19.30.",
        "Tickets cost £1,250,000 in total, €3 500 each, $1 000 000, 1.250.000 zł.",
        "between 10 000 and 20 000 people; population 0.5 million",
        "Ref: 2024/123456. Crime reference 41260012345. Incident 1234 of 04/12/2026. Order #123456789.",
        "Your crime reference is 0412 2026 1234",
        "Crime ref 01234567890",
        "Booking number 0123 456 7890, lot 0123456789",
        "Incident 0412-2026-000123, flight BA 0117 at 12:45",
        "Coordinates 51.5074, -0.1278; version 10.0.19045.3693",
        "Sort code 12-34-56, account 12345678, card 4111 1111 1111 1111",
        "Call 0800 555 111, +44 800 555 111, 0300 123 1212 or 0845 46 47.",
    ],
)
def test_dates_times_amounts_and_references_are_not_phone_numbers(text: str) -> None:
    assert [m for m in find_pii(text) if m.kind == "phone"] == []
    assert "[phone]" not in mask_pii(text)


def test_email_is_found_but_fediverse_handle_is_not() -> None:
    text = "Write to jane.doe+tips@example.co.uk or follow @force@police.social."
    assert found(text) == [("email", "jane.doe+tips@example.co.uk")]


@pytest.mark.parametrize("plate", ["AB12 CDE", "AB12CDE", "YX69 ZZA", "A123 BCD", "P45 XYZ", "ABC 123D"])
def test_uk_vehicle_registrations(plate: str) -> None:
    assert found(f"Officers stopped {plate} on the A1.") == [("vehicle_registration", plate)]


@pytest.mark.parametrize(
    "text",
    [
        "Delays on the M25 JCT 10 and the A1 ROAD.",
        "Call NHS 111 or go to A&E.",
        "COVID19 rules no longer apply.",
        "The route is A40 via M4.",
    ],
)
def test_no_vehicle_registration_false_positives(text: str) -> None:
    assert [m for m in find_pii(text) if m.kind == "vehicle_registration"] == []


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("The man, born 12/03/1985, was found.", "12/03/1985"),
        ("DOB: 01/02/03.", "01/02/03"),
        ("D.O.B. 5th March 1990", "5th March 1990"),
        ("date of birth 1985-03-12", "1985-03-12"),
        ("She was born in March 1985 in Leeds.", "March 1985"),
        ("Her birthday is March 12, 1984.", "March 12, 1984"),
    ],
)
def test_dates_of_birth_after_a_keyword(text: str, date: str) -> None:
    assert found(text) == [("date_of_birth", date)]


def test_an_old_full_date_without_keyword_is_a_possible_date_of_birth() -> None:
    old = dt.date.today().year - 40
    text = f"Missing: Sam Smith, 14/06/{old}."
    assert found(text) == [("date_of_birth", f"14/06/{old}")]


def test_event_dates_and_times_are_not_dates_of_birth() -> None:
    this_year = dt.date.today().year
    text = f"The parade is on 14/06/{this_year} at 19:30 and on 15/06/{this_year + 1}. In {this_year - 30} it rained."
    assert found(text) == []


def test_impossible_dates_are_ignored() -> None:
    assert found("born 45/13/1985") == []


@pytest.mark.parametrize(
    "address",
    [
        "12 High Street",
        "4a St John's Road",
        "221B Baker Street",
        "10 Downing St",
        "SW1A 1AA",
        "M1 1AE",
        "EH1 2NG",
    ],
)
def test_addresses_and_postcodes(address: str) -> None:
    assert found(f"He lives at {address}, we believe.") == [("address", address)]


def test_a_street_without_a_number_is_a_public_place() -> None:
    assert found("High Street and Station Road are closed.") == []


def test_matches_are_sorted_and_do_not_overlap() -> None:
    text = "Email a.b@example.com, ring 07700 900123, car AB12 CDE, home 12 High Street, SW1A 1AA."
    matches = find_pii(text)
    assert [m.kind for m in matches] == ["email", "phone", "vehicle_registration", "address", "address"]
    assert all(earlier.end <= later.start for earlier, later in zip(matches, matches[1:], strict=False))


def test_match_is_frozen() -> None:
    match = find_pii("ring 07700 900123")[0]
    assert match == PiiMatch(kind="phone", start=5, end=17, text="07700 900123")
    with pytest.raises(AttributeError):
        match.kind = "email"  # type: ignore[misc]


def test_mask_pii_uses_readable_length_agnostic_labels() -> None:
    text = "Ring 07700 900123 or email a.b@example.com about AB12 CDE."
    assert mask_pii(text) == "Ring [phone] or email [email] about [vehicle_registration]."


def test_mask_pii_with_a_custom_mask() -> None:
    assert mask_pii("Ring 07700 900123 now", mask="•••") == "Ring ••• now"
    assert mask_pii("Ring 07700 900123 now", mask="<{kind} removed>") == "Ring <phone removed> now"


def test_mask_pii_leaves_clean_text_alone() -> None:
    text = "Avoid the A6 after 19:30 tonight. #Carnival"
    assert mask_pii(text) == text


def test_empty_text() -> None:
    assert find_pii("") == []
    assert mask_pii("") == ""


# -- properties --------------------------------------------------------------------------------

_pii_pieces = st.sampled_from(
    [
        "07700 900123",
        "+44 20 7946 0958",
        "a.b@example.com",
        "AB12 CDE",
        "born 12/03/1985",
        "12 High Street",
        "SW1A 1AA",
        "19:30",
        "2024",
        "#Tag",
        "https://x.org/1",
        " ",
        ", ",
        "\n",
        "Call",
        "(",
        ")",
        "0",
        "+",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(_pii_pieces | st.text(max_size=5)).map("".join)))
def test_spans_slice_back_to_the_match_and_never_overlap(text: str) -> None:
    matches = find_pii(text)
    for match in matches:
        assert match.kind in PII_KINDS
        assert 0 <= match.start < match.end <= len(text)
        assert text[match.start : match.end] == match.text
    for earlier, later in zip(matches, matches[1:], strict=False):
        assert earlier.end <= later.start
