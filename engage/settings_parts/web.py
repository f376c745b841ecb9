"""Fixed tables of the web face: password rules, the Content Security Policy, the languages
offered, and the OpenAPI document's settings (no environment variable changes them)."""

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
LANGUAGES = [  # the public pages' language switcher; the first 16 have catalogs in locale/ (docs/translations.md)
    ("en", "English"),
    ("cy", "Cymraeg"),
    ("ar", "العربية"),
    ("fa", "فارسی"),
    ("ur", "اردو"),
    ("ps", "پښتو"),
    ("ckb", "کوردی"),
    ("pl", "Polski"),
    ("ro", "Română"),
    ("uk", "Українська"),
    ("ru", "Русский"),
    ("so", "Soomaali"),
    ("ti", "ትግርኛ"),
    ("tr", "Türkçe"),
    ("pt", "Português"),
    ("es", "Español"),
    ("fr", "Français"),
    ("de", "Deutsch"),
]
LANGUAGES_BIDI = ["ar", "ckb", "fa", "he", "ps", "ur"]

SPECTACULAR_SETTINGS = {
    "TITLE": "Engage API",
    "DESCRIPTION": "Public HTTP contract (v1) of Engage: outbound messages, approvals, publishing, "
    "citizen replies and trust metrics. Errors are {\"error\": {\"code\", \"message\", \"fields\"}}.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ChannelKindEnum": "campaigns.models.channels.ChannelKind.choices",
        "EventKindEnum": "campaigns.models.events.EventKind.choices",
        "PartnerKindEnum": "campaigns.models.segments.Partner.KINDS",
        "MessageStatusEnum": "campaigns.models.messages.MessageStatus.choices",
        "UrgencyEnum": "campaigns.models.messages.Urgency.choices",
        "VariantFormatEnum": "campaigns.models.messages.VariantFormat.choices",
    },
}
