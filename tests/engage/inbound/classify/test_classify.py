"""Classification of citizens' replies: language, sentiment, category, urgency, the pipeline."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engage.inbound.classify.category import CATEGORIES, DEFAULT_RULES, Rule, classify_category
from engage.inbound.classify.language import detect_language
from engage.inbound.classify.pipeline import Classification, classify_reply, warm_up
from engage.inbound.classify.sentiment import score_sentiment
from engage.inbound.classify.text import fold, fold_with_offsets
from engage.inbound.classify.urgency import detect_urgency

LANGUAGE_CODE = re.compile(r"^(?:[a-z]{2}|ckb|unknown)$")

# -- language ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The road near the stadium is closed, where should we go to get home tonight?", "en"),
        ("Where is gate B?", "en"),
        ("شكرا جزيلا على المساعدة، الشرطة كانت لطيفة جدا", "ar"),
        ("لا أستطيع التنفس", "ar"),
        ("ممنون از کمک شما، پلیس خیلی مهربان بود", "fa"),
        ("نمی‌توانم نفس بکشم", "fa"),
        ("ሰላም፡ ኣብ ጥቓ ስታድዮም ሓገዝ የድልየና እዩ", "ti"),
        ("ሰላም፣ እባክዎ እርዳታ እንፈልጋለን፣ ይህ ምን ነው", "am"),
        ("Merci beaucoup pour votre aide ce soir", "fr"),
        ("Dziękuję bardzo za pomoc, policja była bardzo miła", "pl"),
        ("Ajutor, cineva este rănit lângă poarta 3", "ro"),
        ("Хто знає, де зараз можна перейти дорогу біля стадіону?", "uk"),
        ("¿Dónde está la salida más cercana del estadio?", "es"),
        ("Vielen Dank für die schnelle Hilfe heute Abend", "de"),
        ("מה קורה ליד השער?", "he"),
        ("میرا بیٹا کھو گیا ہے", "ur"),
        ("آپ کی مدد کا بہت شکریہ", "ur"),  # ہ and ھ, no other Urdu-only letter
        ("زما زوی ورک شوی دی", "ps"),
        ("کوڕەکەم ون بووە", "ckb"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["ok", "OK!", "thanks!", "👍👍", "", "   ", "12345", "https://example.org/x @police #match"])
def test_detect_language_is_honest_about_short_or_empty_text(text: str) -> None:
    assert detect_language(text) == "unknown"


def test_detect_language_is_deterministic() -> None:
    text = "Is the tram running after the concert tonight or should we walk?"
    assert {detect_language(text) for _ in range(5)} == {"en"}


def test_arabic_and_persian_are_told_apart_by_letters_not_just_script() -> None:
    # Same greeting, different letters: Persian keheh/yeh versus Arabic kaf/yeh/teh marbuta.
    assert detect_language("کمک کنید، پلیس کجاست") == "fa"
    assert detect_language("ساعدونا، أين الشرطة") == "ar"


# -- folding ----------------------------------------------------------------------------------------


def test_fold_removes_accents_and_arabic_variants_and_maps_back_to_the_original() -> None:
    assert fold("écrasé Żółw ș ş") == "ecrase Zolw s s"
    assert fold("أإآ ی ک ة") == "ااا ي ك ه"
    folded = fold_with_offsets("On est écrasés !")
    start = folded.text.index("ecrases")
    assert folded.original(start, start + len("ecrases")) == "écrasés"


# -- sentiment --------------------------------------------------------------------------------------


def test_sentiment_english_uses_vader() -> None:
    positive = score_sentiment("Thank you so much, the officers were brilliant and kind!", "en")
    negative = score_sentiment("This is a disgrace, the worst policing I have ever seen.", "en")
    neutral = score_sentiment("The march starts at 2pm on Market Street.", "en")
    assert positive.label == "positive" and positive.score is not None and positive.score > 0.5
    assert negative.label == "negative" and negative.score is not None and negative.score < -0.5
    assert neutral.label == "neutral" and neutral.score == 0.0


def test_sentiment_small_lexicons_for_other_languages() -> None:
    assert score_sentiment("Merci beaucoup, bravo à toute l'équipe", "fr").label == "positive"
    assert score_sentiment("C'est une honte, inadmissible", "fr").label == "negative"
    assert score_sentiment("Ce n'est pas bien du tout", "fr").label == "negative"  # negation flips
    assert score_sentiment("شكرا جزيلا، عمل ممتاز", "ar").label == "positive"
    assert score_sentiment("هذا سيء جدا، فضيحة", "ar").label == "negative"
    assert score_sentiment("Dziękuję, świetna robota", "pl").label == "positive"
    assert score_sentiment("¡Qué vergüenza, pésimo servicio!", "es").label == "negative"


def test_sentiment_is_unknown_when_it_cannot_tell() -> None:
    assert score_sentiment("La marche commence à quatorze heures", "fr") == score_sentiment("", "fr")
    assert score_sentiment("La marche commence à quatorze heures", "fr").label == "unknown"
    assert score_sentiment("ሰላም ኣብ ጥቓ ስታድዮም", "ti").label == "unknown"
    unknown = score_sentiment("asdf qwer", "unknown")
    assert unknown.label == "unknown" and unknown.score is None
    assert score_sentiment("👍👍", "unknown").label == "positive"  # emoji work in any language


# -- category ---------------------------------------------------------------------------------------

ENGLISH_CASES = [
    ("Where is the nearest exit from the stadium?", "question"),
    ("Just to let you know, I saw a man acting suspicious near gate 4, wearing a red jacket.", "information"),
    ("This is a disgrace, we waited for hours and nobody came. Absolutely unacceptable.", "complaint"),
    ("Thank you so much to the officers at the station tonight, brilliant job!", "praise"),
    ("Is it true that the match has been cancelled? There's a video going around on WhatsApp.", "rumour"),
    ("Please help, we are in danger at the east entrance, send help!", "emergency"),
    ("My phone was stolen by a pickpocket on the tram yesterday, I want to report it.", "crime_report"),
    ("You fucking pigs, go to hell", "abuse"),
    ("Earn $500 a day with crypto!!! Click here https://bit.ly/xyz", "spam"),
]

ARABIC_CASES = [
    ("أين أقرب مخرج من الملعب؟", "question"),
    ("رأيت شخص مشبوه قرب البوابة", "information"),
    ("هذا غير مقبول، انتظرنا ساعات ولم يأت أحد", "complaint"),
    ("شكرا جزيلا للشرطة على المساعدة", "praise"),
    ("هل صحيح أن المباراة ألغيت؟ هذه إشاعة على واتساب", "rumour"),
    ("النجدة! ساعدونا عند البوابة", "emergency"),
    ("سرقوا هاتفي في الترام", "crime_report"),
    ("يا كلاب", "abuse"),
    ("اربح المال مجانا اضغط على الرابط", "spam"),
]

FRENCH_CASES = [
    ("Où est la sortie la plus proche ?", "question"),
    ("J'ai vu un homme suspect près de la porte 3", "information"),
    ("C'est inadmissible, personne n'est venu, on a attendu des heures.", "complaint"),
    ("Merci beaucoup pour votre aide ce soir, bravo !", "praise"),
    ("Il paraît que le match est annulé, c'est une rumeur qui tourne sur WhatsApp", "rumour"),
    ("Au secours, aidez-nous, c'est une urgence", "emergency"),
    ("On m'a volé mon portefeuille, je veux porter plainte.", "crime_report"),
    ("Bande de connards", "abuse"),
    ("Gagnez de l'argent facile avec la crypto, cliquez ici", "spam"),
]


@pytest.mark.parametrize(("text", "expected"), ENGLISH_CASES)
def test_category_english(text: str, expected: str) -> None:
    result = classify_category(text, "en")
    assert result.category == expected
    assert 0.0 < result.confidence <= 1.0
    assert result.matched


@pytest.mark.parametrize(("text", "expected"), ARABIC_CASES)
def test_category_arabic(text: str, expected: str) -> None:
    assert classify_category(text, "ar").category == expected


@pytest.mark.parametrize(("text", "expected"), FRENCH_CASES)
def test_category_french(text: str, expected: str) -> None:
    assert classify_category(text, "fr").category == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("¿Dónde está la salida?", "es", "question"),
        ("¡Socorro! Ayúdenme", "es", "emergency"),
        ("Muchas gracias, buen trabajo", "es", "praise"),
        ("Qué vergüenza, nadie vino", "es", "complaint"),
        ("Gdzie jest wyjście?", "pl", "question"),
        ("Ratunku! Pomocy!", "pl", "emergency"),
        ("Dziękuję, dobra robota", "pl", "praise"),
        ("Skandal, nikt nie przyjechał", "pl", "complaint"),
        ("Unde este ieșirea?", "ro", "question"),
        ("Ajutor! Chemați ambulanța", "ro", "emergency"),
        ("Mulțumesc, bravo", "ro", "praise"),
        ("Rușine, nimeni nu a venit", "ro", "complaint"),
        ("Де вихід?", "uk", "question"),
        ("Допоможіть! Терміново", "uk", "emergency"),
        ("Дякую, молодці", "uk", "praise"),
        ("Ганьба, ніхто не приїхав", "uk", "complaint"),
        ("پلیس کجاست؟", "fa", "question"),
        ("کمک کنید! اورژانس", "fa", "emergency"),
        ("ممنون، خسته نباشید", "fa", "praise"),
        ("افتضاح است، شکایت دارم", "fa", "complaint"),
    ],
)
def test_category_other_languages(text: str, language: str, expected: str) -> None:
    assert classify_category(text, language).category == expected


def test_category_reports_the_original_words_with_their_accents() -> None:
    result = classify_category("Je vous signale un véhicule suspect", "fr")
    assert result.category == "information"
    assert "suspect" in result.matched


def test_category_without_any_cue_is_information_with_zero_confidence() -> None:
    result = classify_category("The bus was on Elm Street", "en")
    assert result == type(result)(category="information", confidence=0.0, matched=[])


def test_category_unknown_language_tries_every_language() -> None:
    assert classify_category("Merci!", "unknown").category == "praise"
    assert classify_category("شكرا", "unknown").category == "praise"


def test_category_thanks_for_nothing_is_a_complaint() -> None:
    assert classify_category("Thanks for nothing, useless", "en").category == "complaint"


def test_category_rules_can_be_replaced() -> None:
    rules = {"en": [Rule("praise", r"\bcracking\b", 2.0)]}
    assert classify_category("Cracking job tonight", "en", rules=rules).category == "praise"
    # The defaults are not used when rules are given: no question mark rule here.
    assert classify_category("Where is gate B?", "en", rules=rules).confidence == 0.0
    extended = {**DEFAULT_RULES, "en": [*DEFAULT_RULES["en"], Rule("rumour", r"\bdeepfake\b", 3.0)]}
    assert classify_category("That clip is a deepfake", "en", rules=extended).category == "rumour"


def test_rules_are_validated_when_written() -> None:
    with pytest.raises(ValueError, match="Unknown category"):
        Rule("gossip", r"x")
    with pytest.raises(ValueError, match="positive"):
        Rule("praise", r"x", 0)
    with pytest.raises(re.error):
        Rule("praise", r"(unclosed")


def test_every_default_rule_is_valid() -> None:
    for rules in DEFAULT_RULES.values():
        for rule in rules:
            assert rule.category in CATEGORIES


# -- urgency ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "term"),
    [
        ("Please, my son can't breathe, we are at the front", "en", "can't breathe"),
        ("I cannot breathe in here", "en", "cannot breathe"),
        ("People are being crushed against the barrier", "en", "crushed"),
        ("A man has been stabbed near the bar", "en", "stabbed"),
        ("Someone has a gun by gate 2", "en", "gun"),
        ("There's a fire near gate 4!", "en", "fire"),
        ("A woman collapsed and is unconscious", "en", "collapsed"),
        ("Kid drowning at the lake", "en", "drowning"),
        ("We are trapped in the tunnel", "en", "trapped"),
        ("لا أستطيع التنفس", "ar", "لا أستطيع التنفس"),
        ("ساعدونا! يوجد مصابين", "ar", "ساعدونا"),
        ("حريق قرب البوابة", "ar", "حريق"),
        ("نمی‌توانم نفس بکشم", "fa", "نمی\u200cتوانم نفس"),
        ("On étouffe, on est écrasés", "fr", "écrasés"),
        ("Il y a un blessé, au secours", "fr", "blessé"),
        ("No puedo respirar", "es", "No puedo respirar"),
        ("Hay un herido con un cuchillo", "es", "cuchillo"),
        ("Nie mogę oddychać, pomocy", "pl", "Nie mogę oddychać"),
        ("Cineva este rănit", "ro", "rănit"),
        ("Людина не може дихати", "uk", "не може дихати"),
        ("Є поранені біля стадіону", "uk", "поранені"),
        ("ሓገዝ! ሓዊ ኣሎ", "ti", "ሓገዝ"),
        ("Hilfe! Jemand ist bewusstlos", "de", "bewusstlos"),
    ],
)
def test_urgency_in_several_languages(text: str, language: str, term: str) -> None:
    result = detect_urgency(text, language)
    assert result.urgent is True
    assert term in result.matched


def test_urgency_english_terms_are_checked_whatever_the_language() -> None:
    assert detect_urgency("Proszę, help! SOS", "pl").urgent is True


def test_urgency_unknown_language_checks_every_list() -> None:
    assert detect_urgency("ساعدوني", "unknown").urgent is True
    assert detect_urgency("Pomocy", "unknown").urgent is True


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The ceasefire is holding, will the march go ahead?", "en"),
        ("The fireworks display was great, thanks!", "en"),
        ("Thanks for your help!", "en"),
        ("It was a blast, well done everyone", "en"),
        ("The queue is moving slowly, where is gate C?", "en"),
        ("Le feu d'artifice était magnifique", "fr"),
        ("Los fuegos artificiales fueron preciosos", "es"),
        ("Una sangría, por favor", "es"),
        ("Where is the emergency exit?", "en"),
    ],
)
def test_urgency_ignores_obvious_non_danger(text: str, language: str) -> None:
    assert detect_urgency(text, language).urgent is False


def test_urgency_does_not_understand_negation_on_purpose() -> None:
    # Documented: false positives are preferred over misses.
    assert detect_urgency("No one was injured, thankfully.", "en").urgent is True


# -- the pipeline -----------------------------------------------------------------------------------


def test_classify_reply_puts_it_all_together() -> None:
    result = classify_reply("Help! People are being crushed at the front barrier, a girl can't breathe!")
    assert isinstance(result, Classification)
    assert result.language == "en"
    assert result.urgent is True
    assert result.category == "emergency"
    assert {"crushed", "can't breathe"} <= set(result.urgent_terms)
    assert result.sentiment in {"negative", "neutral"}


def test_urgent_reply_is_emergency_even_when_keywords_said_otherwise() -> None:
    result = classify_reply("Thank you officers, but a man just collapsed by the stage and is not breathing")
    assert result.urgent is True
    assert result.category == "emergency"


def test_urgent_reply_that_is_clearly_a_crime_report_stays_one() -> None:
    result = classify_reply("My bag was stolen yesterday by a thief with a knife, I want to report a theft")
    assert result.urgent is True
    assert result.urgent_terms == ["knife"]
    assert result.category == "crime_report"


def test_classify_reply_reports_personal_data_kinds() -> None:
    result = classify_reply("Lost my wallet, please call me on 07700 900123 or mail jane@example.org")
    assert result.pii_kinds == ["email", "phone"]


def test_classify_reply_arabic() -> None:
    result = classify_reply("لا أستطيع التنفس، ساعدونا")
    assert (result.language, result.category, result.urgent) == ("ar", "emergency", True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_classify_reply_never_raises_and_answers_in_range(text: str) -> None:
    result = classify_reply(text)
    assert LANGUAGE_CODE.match(result.language)
    assert result.category in CATEGORIES
    assert result.sentiment in {"positive", "neutral", "negative", "unknown"}
    assert 0.0 <= result.category_confidence <= 1.0
    assert result.sentiment_score is None or -1.0 <= result.sentiment_score <= 1.0
    assert result.urgent == bool(result.urgent_terms)


def test_classify_reply_is_fast_after_warm_up() -> None:
    warm_up()
    text = (
        "Hi, I was at the match tonight near gate 4 and the crowd was getting very tight, people "
        "pushing. My friend's phone was stolen and we could not find any officer to tell. Where "
        "should we report it? Thanks to the stewards who helped an older man who fainted."
    )[:300]
    classify_reply(text)
    runs = 20
    started = time.perf_counter()
    for _ in range(runs):
        classify_reply(text)
    average = (time.perf_counter() - started) / runs
    assert average < 0.05, f"{average * 1000:.1f} ms per reply"
