"""Editable word lists for the English tone, plain-language and call-to-action rules.

All matching is case-insensitive and on whole words. Teams extend these through
``CheckerConfig`` (``extra_jargon``, ``extra_hostile``, ``extra_acronyms``) rather than
by editing this file.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

__all__ = [
    "ACRONYMS",
    "CTA_IMPERATIVES",
    "CTA_PHRASES",
    "GENERIC_ALT_TEXTS",
    "GENDER_NOUNS",
    "GENDER_NOUN_FOLLOWERS",
    "HOSTILE",
    "JARGON",
]

# Police jargon and officialese, with a plain alternative.
JARGON: Final = MappingProxyType(
    {
        "proceeding": "going",
        "proceeded": "went",
        "apprehended": "arrested",
        "apprehend": "arrest",
        "perpetrator": "person responsible",
        "perpetrators": "people responsible",
        "assailant": "attacker",
        "rtc": "road crash",
        "road traffic collision": "road crash",
        "rta": "road crash",
        "in attendance": "there / at the scene",
        "vehicle": "car (or van, lorry)",
        "vehicles": "cars (or vans, lorries)",
        "alighted": "got out",
        "alight": "get out",
        "conveyed": "taken",
        "en route": "on the way",
        "deployed": "sent",
        "in the vicinity of": "near",
        "prior to": "before",
        "utilise": "use",
        "commence": "start",
        "commenced": "started",
        "sustained injuries": "was hurt",
        "individual": "person",
        "individuals": "people",
        "members of the public": "people",
        "in order to": "to",
        "a quantity of": "some",
        "enquiries are ongoing": "we are still investigating",
    }
)

# "male" and "female" used as nouns ("a male was arrested"); as adjectives
# ("a male officer") they are fine. See GENDER_NOUN_FOLLOWERS.
GENDER_NOUNS: Final = MappingProxyType({"male": "man", "female": "woman", "males": "men", "females": "women"})

# Words that, right after "male"/"female", show it is used as a noun.
GENDER_NOUN_FOLLOWERS: Final = frozenset(
    {
        "was", "is", "has", "had", "who", "aged", "in", "with", "and", "from", "at", "on",
        "of", "wearing", "described", "believed", "been", "were", "then", "ran", "fled",
        "left", "got", "arrested", "approached", "entered", "driving", "seen", "remains",
        "died", "suffered", "sustained", "will", "would", "to", "for", "by", "or",
        "later", "also", "he", "she", "they", "but",
    }
)  # fmt: skip

# Blaming and hostile wording. Describe the behaviour, not the people.
HOSTILE: Final = frozenset(
    {
        "idiot", "idiots", "idiotic", "stupid", "stupidity", "moron", "morons", "moronic",
        "thug", "thugs", "thuggish", "yob", "yobs", "yobbish", "scum", "scumbag", "scumbags",
        "lowlife", "lowlifes", "vermin", "mindless", "imbecile", "imbeciles", "cretin",
        "cretins", "pathetic", "louts", "hooligans", "feral",
        "you were warned", "you have been warned", "you've been warned",
        "brought it on themselves", "only have yourselves to blame",
        "only have themselves to blame", "shame on you", "what did you expect",
    }
)  # fmt: skip

# Upper-case words of four letters or more that are names, not shouting.
ACRONYMS: Final = frozenset(
    {
        "CCTV", "NHS", "BTP", "UK", "A&E", "HMRC", "DVLA", "RSPCA", "RNLI", "PSNI", "UEFA",
        "FIFA", "NATO", "NASA", "COVID", "UNESCO", "NSPCC", "HGV", "HGVS", "LGBT", "LGBTQ",
        "LGBTQ+", "TFL", "TFGM", "ULEZ", "GCSE", "GCSES", "DBS", "NCA", "MI5", "OFCOM",
        "OFSTED", "ASAP", "FAQ", "FAQS", "SMS", "HTML", "URL", "QR", "GMT", "BST", "UTC",
        "NCSC", "ACPO", "NPCC", "IOPC", "HMICFRS", "CPS", "DWP", "BBC", "ITV", "RAF", "AFC",
        "FC",
    }
)  # fmt: skip

# English calls to action that count anywhere in the text.
CTA_PHRASES: Final = (
    "please", "allow extra time", "find out", "more information", "more info", "read more",
    "tell us", "let us know", "you should", "you can", "you must", "we ask", "we're asking",
    "we are asking", "we urge", "we advise", "we'd ask", "we would ask", "keep an eye",
    "look out for", "if you see", "if you have", "anyone with information",
    "call 999", "call 101", "dial 999", "dial 101", "text 999",
)  # fmt: skip

# English imperative verbs that make a call to action at the start of a sentence
# (or after "and", "so", "then", "or").
CTA_IMPERATIVES: Final = frozenset(
    {
        "avoid", "use", "call", "visit", "follow", "plan", "allow", "report", "check", "contact",
        "dial", "text", "go", "keep", "stay", "don't", "do", "look", "share", "tell", "leave",
        "give", "consider", "make", "remember", "take", "head", "find", "get", "bring",
        "download", "sign", "register", "watch", "listen", "be", "expect", "ring", "email",
        "message", "search", "see", "drive", "park", "walk", "travel", "move", "wait", "arrive",
        "come", "stop", "lock", "secure", "close", "never", "always", "read", "ask", "help",
        "join", "book", "buy", "carry", "drink", "charge", "note", "send", "apply", "speak",
        "talk", "try", "pick", "meet", "wear", "don’t",
    }
)  # fmt: skip

# Alt texts that say nothing about the picture.
GENERIC_ALT_TEXTS: Final = frozenset(
    {"image", "photo", "picture", "img", "pic", "graphic", "photograph", "screenshot", "alt",
     "alt text", "untitled", "poster", "image of", "photo of"}
)  # fmt: skip
