"""The outbound message checker (campaigns.checker): every rule, with its span."""

from __future__ import annotations

import statistics
import time
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.checker import CheckerConfig, Finding, ImageInfo, check_message, has_errors
from platforms.counting import CHANNEL_KINDS

CALM = "The A6 is closed near the stadium until 6pm. Please use the B5 instead."


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def only(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.code == code]


def spanned(body: str, finding: Finding) -> str:
    assert finding.span is not None
    start, end = finding.span
    return body[start:end]


def test_a_calm_plain_message_has_no_findings() -> None:
    assert check_message(body=CALM, channels=["x", "mastodon", "sms", "telegram", "facebook"]) == []


# -- length --------------------------------------------------------------------------------------


def test_length_x_error_spans_the_overflow() -> None:
    body = "Avoid the area. " + "a" * 300
    findings = check_message(
        body=body,
        channels=["x"],
        instructive=False,
        config=CheckerConfig(disabled=frozenset({"readability"})),
    )
    [finding] = only(findings, "length.x")
    assert finding.severity == "error"
    assert finding.span == (280, len(body))
    assert "316 of 280" in finding.message
    assert has_errors(findings)


def test_length_x_counts_urls_as_23() -> None:
    body = "Road closures: https://example.police.uk/" + "x" * 400
    assert only(check_message(body=body, channels=["x"]), "length.x") == []


def test_length_mastodon_error() -> None:
    body = "Avoid the area. " + "b" * 490
    [finding] = only(check_message(body=body, channels=["mastodon"]), "length.mastodon")
    assert finding.severity == "error"
    assert finding.span == (500, len(body))


def test_length_sms_error_on_too_many_segments_names_ucs2_characters() -> None:
    body = "Don’t travel. " + "c" * 200  # the curly apostrophe forces UCS-2: 214 units > 3 × 67
    [finding] = only(check_message(body=body, channels=["sms"]), "length.sms")
    assert finding.severity == "error"
    assert "214 characters make 4 text messages" in finding.message and "’" in finding.message
    assert "UCS-2" not in finding.message and "UTF-16" not in finding.message  # plain words on the desk
    assert finding.span == (201, len(body))


def test_length_sms_max_segments_is_configurable() -> None:
    body = "Avoid the area. " + "d" * 200  # GSM-7, 2 segments
    assert only(check_message(body=body, channels=["sms"]), "length.sms") == []
    config = CheckerConfig(max_sms_segments=1)
    [finding] = only(check_message(body=body, channels=["sms"], config=config), "length.sms")
    assert finding.span == (160, len(body))


def test_length_telegram_caption_limit_applies_only_with_an_image() -> None:
    body = "Avoid the area. " + "e" * 1100
    assert only(check_message(body=body, channels=["telegram"]), "length.telegram") == []
    [finding] = only(check_message(body=body, channels=["telegram"], caption=True), "length.telegram")
    assert "caption" in finding.message
    assert finding.span == (1024, len(body))


@pytest.mark.parametrize("kind", ["email", "webhook", "public"])
def test_no_length_limit_for_email_webhook_public(kind: str) -> None:
    assert (
        only(check_message(body="Avoid the area. " + "f" * 100_000, channels=[kind]), f"length.{kind}") == []
    )


def test_duplicate_channels_are_reported_once() -> None:
    body = "Avoid it. " + "g" * 300
    assert codes(check_message(body=body, channels=["x", "x"])).count("length.x") == 1


def test_unknown_channel_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="Unknown channel kind"):
        check_message(body=CALM, channels=["myspace"])


# -- readability -----------------------------------------------------------------------------------

HARD = (
    "Use the bus. Notwithstanding the aforementioned considerations, individuals participating in the "
    "forthcoming commemorative procession are encouraged to familiarise themselves with the comprehensive "
    "operational arrangements established collaboratively by the participating organisations."
)


def test_readability_warning_spans_the_longest_sentence() -> None:
    [finding] = only(check_message(body=HARD, channels=["x"]), "readability")
    assert finding.severity == "warning"
    assert spanned(HARD, finding).startswith("Notwithstanding")
    assert spanned(HARD, finding).endswith("organisations.")
    assert "below the plain-language target of 60" in finding.message


def test_readability_target_is_configurable() -> None:
    body = "The road near the big stadium is closed all day today. Please take the number six bus instead."
    assert only(check_message(body=body, channels=["x"]), "readability") == []
    strict = CheckerConfig(reading_ease_target=120)
    assert codes(check_message(body=body, channels=["x"], config=strict)).count("readability") == 1


def test_readability_skips_short_texts() -> None:
    assert (
        only(
            check_message(body="Notwithstanding considerations, familiarise yourselves.", channels=["x"]),
            "readability",
        )
        == []
    )


def test_readability_in_german_uses_the_german_formula() -> None:
    body = (
        "Aufgrund der außergewöhnlichen Sicherheitsvorkehrungen im Zusammenhang mit der Großveranstaltung "
        "empfehlen wir nachdrücklich die Nutzung öffentlicher Verkehrsmittel."
    )
    assert codes(check_message(body=body, channels=["x"], language="de")) == ["readability"]
    easy = "Die Straße ist zu. Nehmen Sie bitte den Bus. Er fährt alle zehn Minuten ab dem Markt."
    assert check_message(body=easy, channels=["x"], language="de-DE") == []


@pytest.mark.parametrize("language", ["ar", "fa", "ti", "pl"])
def test_readability_is_skipped_for_languages_without_a_formula(language: str) -> None:
    body = (
        "الطريق مغلق الليلة بسبب الحدث الكبير في الملعب، يرجى استخدام طريق آخر وتجنب المنطقة حتى الصباح " * 3
    )
    assert only(check_message(body=body, channels=["x"], language=language), "readability") == []


# -- tone ----------------------------------------------------------------------------------------


def test_shouting_words_are_reported_with_their_span() -> None:
    body = "ROAD CLOSED near the ground. Please use the B5."
    [finding] = only(check_message(body=body, channels=["x"]), "tone.shouting")
    assert finding.severity == "warning"
    assert spanned(body, finding) == "ROAD CLOSED"


def test_acronyms_and_short_capitals_are_not_shouting() -> None:
    body = "CCTV shows the NHS tent near A&E. Please use the UK exit and call 101."
    assert only(check_message(body=body, channels=["x"]), "tone.shouting") == []


def test_extra_acronyms_from_config() -> None:
    body = "Please follow GMPOLICE for updates."
    assert only(check_message(body=body, channels=["x"]), "tone.shouting")
    config = CheckerConfig(extra_acronyms=frozenset({"GMPOLICE"}))
    assert only(check_message(body=body, channels=["x"], config=config), "tone.shouting") == []


def test_shouting_by_capitals_ratio() -> None:
    body = "GO TO THE A6 OR THE A5 NOW, NOT THE M6. Use it."
    [finding] = only(check_message(body=body, channels=["x"]), "tone.shouting")
    assert finding.span is None
    assert "capitals" in finding.message


def test_repeated_exclamation_marks() -> None:
    body = "Avoid the area!!! Stay safe."
    [finding] = only(check_message(body=body, channels=["x"]), "tone.exclamations")
    assert spanned(body, finding) == "!!!"


def test_too_many_exclamation_marks() -> None:
    body = "Avoid the area! Use the bus! Stay safe!"
    [finding] = only(check_message(body=body, channels=["x"]), "tone.exclamations")
    assert finding.span == (27, 28)
    assert "3 exclamation marks" in finding.message
    relaxed = CheckerConfig(max_exclamations=3)
    assert only(check_message(body=body, channels=["x"], config=relaxed), "tone.exclamations") == []


@pytest.mark.parametrize("word", ["idiots", "Morons", "thugs", "yobs", "scum", "stupid", "You were  warned"])
def test_hostile_wording(word: str) -> None:
    body = f"Some {word} blocked the road. Please avoid the area."
    [finding] = only(check_message(body=body, channels=["x"]), "tone.hostile")
    assert spanned(body, finding) == word
    assert finding.severity == "warning"


def test_hostile_words_inside_other_words_are_fine() -> None:
    body = "Stupidly busy? No: the Scunthorpe road is open. Please drive with care."
    assert only(check_message(body=body, channels=["x"]), "tone.hostile") == []


def test_extra_hostile_words_from_config() -> None:
    body = "Some numpties blocked the road. Please avoid it."
    config = CheckerConfig(extra_hostile=frozenset({"numpties"}))
    [finding] = only(check_message(body=body, channels=["x"], config=config), "tone.hostile")
    assert spanned(body, finding) == "numpties"


@pytest.mark.parametrize(
    ("jargon", "alternative"),
    [
        ("proceeding", "going"),
        ("apprehended", "arrested"),
        ("perpetrator", "person responsible"),
        ("RTC", "road crash"),
        ("in attendance", "at the scene"),
        ("vehicle", "car"),
        ("alighted", "got out"),
        ("conveyed", "taken"),
        ("en route", "on the way"),
        ("deployed", "sent"),
    ],
)
def test_jargon_offers_the_plain_alternative(jargon: str, alternative: str) -> None:
    body = f"Officers say {jargon} is the word. Please avoid the area."
    [finding] = only(check_message(body=body, channels=["x"]), "tone.jargon")
    assert spanned(body, finding) == jargon
    assert alternative in finding.message


@pytest.mark.parametrize(
    ("body", "noun"),
    [
        ("A male was arrested. Please avoid the area.", "male"),
        ("We are looking for a female, aged 30. Please call 101.", "female"),
        ("Two males ran off. Please call 101.", "males"),
        ("A male and a female were seen. Please call 101.", "male"),
    ],
)
def test_male_and_female_as_nouns(body: str, noun: str) -> None:
    findings = only(check_message(body=body, channels=["x"]), "tone.jargon")
    assert spanned(body, findings[0]) == noun
    assert any(word in findings[0].message for word in ("man", "woman", "men", "women"))


def test_male_and_female_as_adjectives_are_fine() -> None:
    body = "A female officer and male and female stewards will help. Please ask them."
    assert only(check_message(body=body, channels=["x"]), "tone.jargon") == []


def test_extra_jargon_from_config() -> None:
    body = "The suspect decamped on foot. Please call 101."
    config = CheckerConfig(extra_jargon=MappingProxyType({"decamped": "left"}))
    [finding] = only(check_message(body=body, channels=["x"], config=config), "tone.jargon")
    assert spanned(body, finding) == "decamped"
    assert "left" in finding.message


def test_english_word_lists_are_not_applied_to_other_languages() -> None:
    body = "Le véhicule en route: idiots! Merci."
    found = codes(check_message(body=body, channels=["x"], language="fr"))
    assert "tone.jargon" not in found and "tone.hostile" not in found and "cta.missing" not in found


# -- call to action, hashtags ---------------------------------------------------------------------


def test_instructive_message_without_call_to_action() -> None:
    body = "The A6 is closed near the stadium until 6pm."
    [finding] = only(check_message(body=body, channels=["x"]), "cta.missing")
    assert finding.severity == "warning" and finding.span is None
    assert only(check_message(body=body, channels=["x"], instructive=False), "cta.missing") == []


@pytest.mark.parametrize(
    "cta",
    [
        "Avoid the area.",
        "Allow extra time.",
        "Roads are busy, so plan ahead.",
        "More at https://example.police.uk/events",
        "Anyone with information should call 101.",
        "🚧 Use the B5 instead.",
        "Find out more on our website.",
    ],
)
def test_calls_to_action_are_recognised(cta: str) -> None:
    body = f"The A6 is closed near the stadium. {cta}"
    assert only(check_message(body=body, channels=["x"]), "cta.missing") == []


def test_the_use_of_a_verb_mid_sentence_is_not_a_call_to_action() -> None:
    body = "Officers reviewed the use of force at the match."
    assert codes(check_message(body=body, channels=["x"])) == ["cta.missing"]


def test_hashtag_missing() -> None:
    [finding] = only(
        check_message(body=CALM, channels=["x"], event_hashtags=["#Carnival2025", "NHC"]), "hashtag.missing"
    )
    assert "#Carnival2025" in finding.message and finding.span is None
    assert "Hashtags field" in finding.message


@pytest.mark.parametrize("body", [CALM + " #carnival2025", CALM + " #NHC"])
def test_hashtag_present_in_the_text_any_case(body: str) -> None:
    assert (
        only(check_message(body=body, channels=["x"], event_hashtags=["#Carnival2025", "NHC"]), "hashtag.missing")
        == []
    )


@pytest.mark.parametrize("field", [["carnival2025"], ["#NHC"], ["Other", "NHC"]])
def test_the_event_hashtag_in_the_hashtags_field_counts(field: list[str]) -> None:
    """The Hashtags field goes out with the post, so the checker does not ask for the tag again."""
    findings = check_message(body=CALM, channels=["x"], hashtags=field, event_hashtags=["#Carnival2025", "NHC"])
    assert only(findings, "hashtag.missing") == []
    other = check_message(body=CALM, channels=["x"], hashtags=["Other"], event_hashtags=["NHC"])
    assert only(other, "hashtag.missing")


def test_no_hashtag_is_asked_for_text_messages_and_email_only() -> None:
    assert only(check_message(body=CALM, channels=["sms", "email"], event_hashtags=["NHC"]), "hashtag.missing") == []
    assert only(check_message(body=CALM, channels=["sms", "mastodon"], event_hashtags=["NHC"]), "hashtag.missing")


def test_hashtag_inside_a_longer_tag_or_without_its_hash_does_not_count() -> None:
    assert only(check_message(body=CALM + " #NHC2024", channels=["x"], event_hashtags=["NHC"]), "hashtag.missing")
    assert only(check_message(body=CALM + " NHC updates", channels=["x"], event_hashtags=["NHC"]), "hashtag.missing")


# -- personal data -------------------------------------------------------------------------------


def test_personal_data_warnings_with_spans() -> None:
    body = (
        "Have you seen AB12 CDE? The driver, born 12/03/1985, lives at 12 High Street. "
        "Call 07700 900123 or email jo@example.com."
    )
    findings = [f for f in check_message(body=body, channels=["x"]) if f.code.startswith("pii.")]
    assert [(f.code, spanned(body, f)) for f in findings] == [
        ("pii.vehicle_registration", "AB12 CDE"),
        ("pii.date_of_birth", "12/03/1985"),
        ("pii.address", "12 High Street"),
        ("pii.phone", "07700 900123"),
        ("pii.email", "jo@example.com"),
    ]
    assert all(f.severity == "warning" for f in findings)


# -- images -------------------------------------------------------------------------------------


def test_image_without_alt_text_is_an_error() -> None:
    findings = check_message(
        body=CALM, channels=["x"], images=[ImageInfo(alt_text="A closed road"), ImageInfo(alt_text="  ")]
    )
    [finding] = only(findings, "media.alt_missing")
    assert finding.severity == "error" and "Image 2" in finding.message
    assert has_errors(findings)


@pytest.mark.parametrize("alt", ["img", "Image", "photo.", "IMG_1234.jpg", "map"])
def test_poor_alt_text_is_a_warning(alt: str) -> None:
    findings = check_message(body=CALM, channels=["x"], images=[ImageInfo(alt_text=alt)])
    assert codes(findings) == ["media.alt_short"]
    assert not has_errors(findings)


def test_good_alt_text_has_no_finding() -> None:
    images = [ImageInfo(alt_text="Map of road closures around the stadium")]
    assert check_message(body=CALM, channels=["x"], images=images) == []


# -- configuration --------------------------------------------------------------------------------


def test_codes_and_code_prefixes_can_be_disabled() -> None:
    body = "ROAD CLOSED!!! Idiots crashed a vehicle. Call 07700 900123. " + "h" * 300
    everything = set(codes(check_message(body=body, channels=["x", "sms"], images=[ImageInfo(alt_text="")])))
    assert {
        "tone.shouting",
        "tone.exclamations",
        "tone.hostile",
        "tone.jargon",
        "pii.phone",
        "length.x",
        "media.alt_missing",
    } <= everything

    config = CheckerConfig(disabled=frozenset({"tone", "pii.phone", "length.x", "media"}))
    remaining = set(
        codes(check_message(body=body, channels=["x", "sms"], images=[ImageInfo(alt_text="")], config=config))
    )
    assert not any(code.startswith(("tone.", "media.")) for code in remaining)
    assert "pii.phone" not in remaining and "length.x" not in remaining


def test_errors_come_before_warnings() -> None:
    body = "ROAD CLOSED. " + "i" * 300
    findings = check_message(body=body, channels=["x"], images=[ImageInfo(alt_text="")])
    severities = [f.severity for f in findings]
    assert severities == sorted(severities)  # "error" < "warning"


def test_has_errors() -> None:
    assert not has_errors([])
    assert not has_errors([Finding(code="tone.jargon", severity="warning", message="m", span=(0, 1))])
    assert has_errors([Finding(code="length.x", severity="error", message="m", span=None)])


# -- robustness and speed --------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    body=st.text(),
    language=st.sampled_from(["en", "de", "ar", "", "xx-YY", "fr"]),
    hashtags=st.lists(st.text(max_size=10), max_size=3),
    alts=st.lists(st.text(max_size=10), max_size=2),
    caption=st.booleans(),
)
def test_checker_never_raises_and_spans_are_in_range(
    body: str, language: str, hashtags: list[str], alts: list[str], caption: bool
) -> None:
    findings = check_message(
        body=body,
        channels=CHANNEL_KINDS,
        language=language,
        hashtags=hashtags,
        images=[ImageInfo(alt_text=alt) for alt in alts],
        caption=caption,
    )
    for finding in findings:
        assert finding.severity in ("error", "warning")
        if finding.span is not None:
            assert 0 <= finding.span[0] <= finding.span[1] <= len(body)


REALISTIC = (
    "Match day update: the A6 London Road is closed between the station and the stadium until 7pm. "
    "Allow extra time and use the park and ride from Junction 25, which runs every ten minutes. "
    "Officers and stewards will be at the turnstiles to help you. If you see anything suspicious, tell a steward or call 101. "
    "In an emergency always dial 999. More information: https://example.police.uk/matchday #MatchDaySafe "
    "Thank you for your patience, stay safe and enjoy the game tonight."
)


def test_checker_median_is_under_20_ms_for_500_characters() -> None:
    assert 450 <= len(REALISTIC) <= 520
    channels = ["x", "mastodon", "sms", "telegram"]
    check_message(body=REALISTIC, channels=channels)  # warm-up: loads the hyphenation dictionary
    timings = []
    for run in range(30):
        body = f"{REALISTIC} {run}"  # a new text each time: no result caching
        started = time.perf_counter()
        check_message(body=body, channels=channels, hashtags=["MatchDaySafe"])
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.020


# -- once per kind, quotes cut at word boundaries ---------------------------------------------------


def test_repeated_exclamation_marks_are_one_warning_with_a_count() -> None:
    body = "Avoid the area!!! Use the bus!! Stay safe!!! Call 101!!!!"
    [finding] = only(check_message(body=body, channels=["x"]), "tone.exclamations")
    assert finding.message.startswith("4 runs of repeated exclamation marks (“!!!!”, “!!!”, “!!”)")
    assert finding.count == 4 and spanned(body, finding) == "!!!"
    assert "exclamation marks; use at most 1" in finding.message  # and too many in all, in the same finding


def test_shouting_jargon_and_personal_data_come_once_per_kind_with_a_count() -> None:
    body = ("ROAD CLOSED near the ground. STAY AWAY from the park. KEEP CLEAR of the bridge. "
            "Officers attended an RTC en route. Call 07700 900123 or 07700 900456.")
    findings = check_message(body=body, channels=["x"])
    [shouting] = only(findings, "tone.shouting")
    assert shouting.count == 3 and shouting.message.startswith("Capitals read as shouting in 3 places:")
    assert "“ROAD CLOSED”, “STAY AWAY”, “KEEP CLEAR”" in shouting.message
    assert spanned(body, shouting) == "ROAD CLOSED"
    [jargon] = only(findings, "tone.jargon")
    assert jargon.count == 2 and "Police jargon in 2 places" in jargon.message and "(try “" in jargon.message
    [phones] = only(findings, "pii.phone")
    assert phones.count == 2 and "“07700 900123”, “07700 900456”" in phones.message
    assert len(findings) == len({f.code for f in findings})  # each kind once


def test_a_long_quote_is_cut_at_a_word_boundary() -> None:
    shout = "PLEASE DO NOT TRAVEL TO THE STADIUM WITHOUT A TICKET UNDER ANY CIRCUMSTANCES"
    [finding] = only(check_message(body=f"{shout} today.", channels=["x"]), "tone.shouting")
    quote = finding.message.split("“", 1)[1].split("”", 1)[0]
    assert quote.endswith("…") and len(quote) <= 41
    assert shout.startswith(quote[:-1]) and shout[len(quote) - 1] == " "  # cut where a word ends


@pytest.mark.parametrize("text,expected", [
    ("Short text", "Short text"),
    ("Please avoid the area around the stadium tonight", "Please avoid the area around the stadium…"),
    ("Please avoid the area around the stadiums tonight", "Please avoid the area around the…"),
    ("a" * 60, "a" * 40 + "…"),  # one long word: cut inside it
    ("Line one\nline two", "Line one line two"),
])
def test_quoted(text: str, expected: str) -> None:
    from campaigns.checker.findings import quoted

    assert quoted(text) == expected


def test_the_length_of_a_post_counts_the_hashtags_added_to_it() -> None:
    body = "Avoid the area. " + "a" * 255  # 271: fits X alone
    assert only(check_message(body=body, channels=["x"]), "length.x") == []
    [finding] = only(check_message(body=body, channels=["x"], hashtags=["DerbyDay"]), "length.x")
    assert "282 of 280 characters" in finding.message and "hashtags added at the end" in finding.message
    assert finding.span is None  # the officer's text fits; the tag is what does not
    assert only(check_message(body=body, channels=["sms"], hashtags=["DerbyDay"]), "length.sms") == []
