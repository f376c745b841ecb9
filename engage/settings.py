"""Engage settings. Everything comes from environment variables.

With nothing set, Engage runs *embedded*: SQLite in ``var/`` (WAL mode, immediate
transactions) and Celery over kombu's SQLAlchemy transport on a second SQLite file.
``DATABASE_URL`` switches to PostgreSQL and ``CELERY_BROKER_URL`` to Redis.
``DJANGO_ENV=production`` refuses to start with unsafe values.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django.conf.locale as _django_locale
from django.core.exceptions import ImproperlyConfigured

from engage.settings_parts.env import env, env_bool, env_list, hourly_caps
from engage.settings_parts.stack import INSTALLED_APPS, MIDDLEWARE  # noqa: F401 (settings)
from engage.settings_parts.web import (  # noqa: F401 (settings)
    AUTH_PASSWORD_VALIDATORS,
    CONTENT_SECURITY_POLICY,
    LANGUAGES,
    LANGUAGES_BIDI,
    SPECTACULAR_SETTINGS,
)

_hourly_caps = hourly_caps  # the name tests/engage/inbound/test_answer_safety.py imports

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env("ENGAGE_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DJANGO_ENV = env("DJANGO_ENV", "embedded")
PRODUCTION = DJANGO_ENV == "production"
TESTING = env_bool("ENGAGE_TESTING", False)

# --- secrets --------------------------------------------------------------------------------
_INSECURE_PREFIX = "django-insecure-"
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production.")
    # Embedded: one random key per installation, kept in var/ so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()
if PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith(_INSECURE_PREFIX) or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured("SECRET_KEY is too weak for production (at least 50 varied characters).")

# Channel secrets are encrypted at rest with Fernet keys derived from this (or SECRET_KEY when
# embedded). Comma-separated keys rotate: the first encrypts, all decrypt.
ENGAGE_FIELD_ENCRYPTION_KEY = env("ENGAGE_FIELD_ENCRYPTION_KEY", "" if PRODUCTION else SECRET_KEY)
if PRODUCTION:
    # A separate key: whoever learns SECRET_KEY (it signs cookies and reset links, and sits in more
    # places) must not also be able to read every channel's credentials.
    _encrypting_key = next((k.strip() for k in ENGAGE_FIELD_ENCRYPTION_KEY.split(",") if k.strip()), "")
    if not _encrypting_key:
        raise ImproperlyConfigured("ENGAGE_FIELD_ENCRYPTION_KEY must be set when DJANGO_ENV=production "
                                   "(a key of its own, not SECRET_KEY).")
    if _encrypting_key == SECRET_KEY:
        raise ImproperlyConfigured("ENGAGE_FIELD_ENCRYPTION_KEY must differ from SECRET_KEY in production.")
    if len(_encrypting_key) < 32 or len(set(_encrypting_key)) < 5:
        raise ImproperlyConfigured("ENGAGE_FIELD_ENCRYPTION_KEY is too weak for production "
                                   "(at least 32 varied characters).")

# The Ed25519 key that signs the audit chain head published each day (/transparency/audit-head.json):
# PEM (`openssl genpkey -algorithm ed25519`) or the base64 of the 32-byte private key. Unset: one is
# made in var/audit_signing_key on first use (set it in production, so every machine signs with the
# same key and losing a disk does not change it). See docs/operations.md.
ENGAGE_AUDIT_SIGNING_KEY = env("ENGAGE_AUDIT_SIGNING_KEY").replace("\\n", "\n")

DEBUG = env_bool("DJANGO_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1],testserver")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# The public address of the site, for links in feeds, emails (password reset too: never the
# request's Host header) and CAP alerts. Production needs an https address.
ENGAGE_SITE_URL = env("ENGAGE_SITE_URL", "" if PRODUCTION else "http://127.0.0.1:8000").rstrip("/")
if PRODUCTION:
    from urllib.parse import urlsplit as _urlsplit

    _site = _urlsplit(ENGAGE_SITE_URL)
    if _site.scheme != "https" or not _site.hostname or _site.query or _site.fragment:
        raise ImproperlyConfigured("ENGAGE_SITE_URL must be the site's https address (https://host[:port][/path]) "
                                   "when DJANGO_ENV=production.")

# --- the public face --------------------------------------------------------------------------
# Public pages are cached whole; anything published or withdrawn invalidates them at once.
ENGAGE_PUBLIC_CACHE_SECONDS = int(env("ENGAGE_PUBLIC_CACHE_SECONDS", "60"))
# Each process may keep its own copy this long before re-checking the shared version (seconds).
# Unset: 1 s in front of a network cache (Redis), none in front of the embedded file cache.
ENGAGE_PUBLIC_CACHE_LOCAL_SECONDS = float(env("ENGAGE_PUBLIC_CACHE_LOCAL_SECONDS")) if env(
    "ENGAGE_PUBLIC_CACHE_LOCAL_SECONDS") else None
ENGAGE_PUBLIC_POLL_SECONDS = int(env("ENGAGE_PUBLIC_POLL_SECONDS", "20"))  # live event page refresh
# How long a CDN or reverse-proxy cache in front may keep a public page (s-maxage; docs/deploy.md).
ENGAGE_PUBLIC_SHARED_MAX_AGE = int(env("ENGAGE_PUBLIC_SHARED_MAX_AGE", "5"))
ENGAGE_PUBLIC_AUTHOR = env("ENGAGE_PUBLIC_AUTHOR", "Police communications team")
# CAP 1.2: the sender id (e.g. "alerts@northshire.police.uk") and status ("Actual"; "Exercise" for drills).
ENGAGE_CAP_SENDER = env("ENGAGE_CAP_SENDER")
ENGAGE_CAP_STATUS = env("ENGAGE_CAP_STATUS", "Actual")
# The public contact form: each force has its own at /contact/<force slug>/; /contact/ is this
# force's (a top-level team's slug). ENGAGE_CONTACT_TEAM is its former name, still read.
ENGAGE_DEFAULT_CONTACT_FORCE = env("ENGAGE_DEFAULT_CONTACT_FORCE") or env("ENGAGE_CONTACT_TEAM")


# Answers one channel sends in an hour, at most; past it, automatic answers wait for a person.
ENGAGE_ANSWER_HOURLY_CAP = hourly_caps(env("ENGAGE_ANSWER_HOURLY_CAP", "60,sms=30"))

ROOT_URLCONF = "engage.urls"
WSGI_APPLICATION = "engage.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "engage.navigation.navigation",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("ENGAGE_SQLITE_PATH", str(VAR_DIR / "engage.sqlite3")),
            "OPTIONS": {
                # Web, worker and beat share this file: WAL lets readers run beside one writer,
                # IMMEDIATE takes the write lock at BEGIN so two writers queue instead of deadlocking.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            # A file (not :memory:) so worker processes and threads in the fault tests share it; one per
            # test process so two test runs on one machine never share a database.
            "TEST": {"NAME": env("ENGAGE_SQLITE_TEST_PATH", str(VAR_DIR / f"test-engage-{os.getpid()}.sqlite3"))},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache ----------------------------------------------------------------------------------
CACHE_URL = env("CACHE_URL")
if CACHE_URL:
    # Django's RedisCache, with one client per connection pool rather than one per operation (core/rediscache.py).
    CACHES = {"default": {"BACKEND": "core.rediscache.RedisCache", "LOCATION": CACHE_URL}}
else:
    # Shared by every embedded process (rate limits, public page cache), unlike locmem.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "desk_accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lock-out after repeated failed sign-ins (django-axes): per account and address.
AXES_FAILURE_LIMIT = int(env("ENGAGE_LOCKOUT_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("ENGAGE_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLED = env_bool("ENGAGE_AXES_ENABLED", True)

# --- client addresses, API tokens and the API docs (issue 12, section 6) ----------------------
# Reverse proxies whose X-Forwarded-For is believed (addresses or CIDRs, comma-separated). Empty
# (the default): the header is ignored and REMOTE_ADDR is the client. core.client_ip.client_ip
# applies it for the lock-out, every rate limit and the audit trail (docs/security.md).
ENGAGE_TRUSTED_PROXIES = env_list("ENGAGE_TRUSTED_PROXIES")
for _proxy in ENGAGE_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"ENGAGE_TRUSTED_PROXIES: {_proxy!r} is not an address or network.") from _exc
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"
# Most API tokens one user may hold at once; one more is refused with 409 token_limit.
ENGAGE_TOKEN_LIMIT_PER_USER = int(env("ENGAGE_TOKEN_LIMIT_PER_USER", "20"))
# /api/schema/ and /api/docs/ without signing in: open when embedded, closed in production.
ENGAGE_PUBLIC_API_DOCS = env_bool("ENGAGE_PUBLIC_API_DOCS", not PRODUCTION)
# Webhook refusals kept as RejectedInbound rows, per caller address and in all, per hour; an
# address refused more than ENGAGE_INBOUND_REFUSED_THROTTLE times gets 429 before any lookup.
ENGAGE_INBOUND_REJECT_LOG_PER_ADDRESS = int(env("ENGAGE_INBOUND_REJECT_LOG_PER_ADDRESS", "50"))
ENGAGE_INBOUND_REJECT_LOG_TOTAL = int(env("ENGAGE_INBOUND_REJECT_LOG_TOTAL", "2000"))

# Two-factor sign-in: required for supervisors and admins when on (the default in production).
ENGAGE_REQUIRE_2FA = env_bool("ENGAGE_REQUIRE_2FA", PRODUCTION)
OTP_TOTP_ISSUER = env("ENGAGE_OTP_ISSUER", "Engage")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(env("ENGAGE_SESSION_SECONDS", str(12 * 3600)))
CSRF_COOKIE_HTTPONLY = False  # the editor's fetch() calls read it to send X-CSRFToken

# --- security headers -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("ENGAGE_BEHIND_PROXY", bool(ENGAGE_TRUSTED_PROXIES)):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- i18n and time --------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
LOCALE_PATHS = [BASE_DIR / "locale"]
# Languages Django does not describe itself (get_language_info, the {% get_language_info %} tag).
EXTRA_LANG_INFO = {
    "ps": {"bidi": True, "code": "ps", "name": "Pashto", "name_local": "پښتو"},
    "so": {"bidi": False, "code": "so", "name": "Somali", "name_local": "Soomaali"},
    "ti": {"bidi": False, "code": "ti", "name": "Tigrinya", "name_local": "ትግርኛ"},
}
_django_locale.LANG_INFO.update({code: info for code, info in EXTRA_LANG_INFO.items()
                                 if code not in _django_locale.LANG_INFO})
USE_I18N = True
TIME_ZONE = "UTC"  # stored in UTC; shown in each team's own time zone
USE_TZ = True
ENGAGE_DEFAULT_TIMEZONE = env("ENGAGE_DEFAULT_TIMEZONE", "Europe/London")

# --- static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("ENGAGE_STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS: list[Path] = []
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise serves from the finders when embedded
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("ENGAGE_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# --- email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 15
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Engage <no-reply@engage.invalid>")
# The email *channel* (bulk public messages) uses its own backend: the file backend when embedded.
ENGAGE_PUBLISH_EMAIL_BACKEND = env(
    "ENGAGE_PUBLISH_EMAIL_BACKEND",
    EMAIL_BACKEND if PRODUCTION else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = str(VAR_DIR / "outbox")

# Which Django email backends an email channel's config may choose (``backend``); the one above is
# always allowed. Which sender addresses its ``from_email`` may use: domains (``police.uk``) or
# whole addresses; ``*`` allows any (the default outside production only).
ENGAGE_EMAIL_CHANNEL_BACKENDS = env_list(
    "ENGAGE_EMAIL_CHANNEL_BACKENDS",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else
    "django.core.mail.backends.smtp.EmailBackend,django.core.mail.backends.filebased.EmailBackend,"
    "django.core.mail.backends.locmem.EmailBackend,django.core.mail.backends.console.EmailBackend",
)
ENGAGE_EMAIL_CHANNEL_SENDERS = env_list(
    "ENGAGE_EMAIL_CHANNEL_SENDERS",
    DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") if PRODUCTION else "*",
)

# --- what the platform fetches (platforms.netguard) ---------------------------------
# Every outbound request (posts, health checks, stats, Mastodon polling) is https to a public
# address, checked when it connects. Allowing private addresses (and plain http) is for the
# embedded demo's local sandbox (127.0.0.1:8025) and the tests; production refuses it unless
# acknowledged. ENGAGE_OUTBOUND_ALLOWED_HOSTS names single hosts (``host`` or ``host:port``) that
# may be private, such as an on-premises SMS gateway.
ENGAGE_OUTBOUND_ALLOW_PRIVATE = env_bool("ENGAGE_OUTBOUND_ALLOW_PRIVATE", not PRODUCTION)
ENGAGE_OUTBOUND_ALLOWED_HOSTS = env_list("ENGAGE_OUTBOUND_ALLOWED_HOSTS")
# An egress proxy for platform requests (environment proxies are ignored); empty: connect directly.
ENGAGE_OUTBOUND_PROXY = env("ENGAGE_OUTBOUND_PROXY")
if PRODUCTION and ENGAGE_OUTBOUND_ALLOW_PRIVATE and not env_bool("ENGAGE_OUTBOUND_ALLOW_PRIVATE_ACKNOWLEDGED", False):
    raise ImproperlyConfigured(
        "ENGAGE_OUTBOUND_ALLOW_PRIVATE lets channel settings reach the server's own network. In production "
        "name the hosts in ENGAGE_OUTBOUND_ALLOWED_HOSTS instead, or set "
        "ENGAGE_OUTBOUND_ALLOW_PRIVATE_ACKNOWLEDGED=1 as well.")

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes "not signed in" a 401, as the contract says.
        "accounts.api.auth.TokenAuthentication",  # knox's, plus the second-factor rule per request
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_PARSER_CLASSES": [  # DRF's three, refusing NUL characters (core/parsers.py)
        "core.parsers.JSONParser", "core.parsers.FormParser",
        "core.parsers.MultiPartParser"],
    # django-filter with filter choices limited to what the caller can see (a force is a tenant) and
    # bad dates refused: campaigns/api/filters.py over core/filters.py
    "DEFAULT_FILTER_BACKENDS": ["campaigns.api.filters.ScopedFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "token": env("ENGAGE_TOKEN_THROTTLE", "10/min"),
        "inbound": env("ENGAGE_INBOUND_THROTTLE", "600/min"),
        "inbound_address": env("ENGAGE_INBOUND_ADDRESS_THROTTLE", "3000/min"),
        "inbound_refused": env("ENGAGE_INBOUND_REFUSED_THROTTLE", "30/min"),
        "public_form": env("ENGAGE_PUBLIC_FORM_THROTTLE", "5/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Never read X-Forwarded-For in DRF itself; Engage's throttles use core.client_ip.client_ip.
    "NUM_PROXIES": 0,
}
KNOX_TOKEN_MODEL = "knox.AuthToken"  # noqa: S105 - a model name; named because accounts.ApiTokenGrant points at it
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=int(env("ENGAGE_TOKEN_HOURS", "12"))),
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_LIMIT_PER_USER": ENGAGE_TOKEN_LIMIT_PER_USER,
}
# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}")
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# Tasks have external side effects: acknowledge after running, take one at a time, and
# give them a hard limit well inside the broker's visibility timeout.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any task time limit (180 s) or retry delay (retries are rescheduled in the
        # database, not with countdowns), so a slow task is never handed to a second worker.
        "visibility_timeout": 3600,
    }
else:
    # kombu's SQLAlchemy transport hands these to create_engine(); the broker file has its own
    # busy timeout so the worker, beat and web processes can share it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"connect_args": {"timeout": 30}}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
# Celery's Django fix-up closes every database connection around every task unless this is
# set; engage/celery.py applies CONN_MAX_AGE and health checks instead (as for web requests).
# The fix-up still closes them all once per this many tasks.
CELERY_DB_REUSE_MAX = 1000
# Every tasks module, one per room (task names are explicit and never follow the module path).
CELERY_IMPORTS = ("accounts.tasks", "campaigns.tasks", "campaigns.publishing.tasks", "engage.inbound.tasks",
                  "engage.metrics.tasks", "engage.awareness.tasks")
CELERY_TASK_ROUTES = {name: {"queue": "urgent"} for name in ("campaigns.deliver_urgent", "campaigns.tick_urgent")}
# The routine tick has a queue of its own: on `default` it waited behind every delivery it had
# enqueued (a burst of 5,000), so the next claim came only when the queue drained. Every worker
# command consumes it (`-Q urgent,ticks,default`); a worker on `default` without it logs a warning.
ENGAGE_TICK_QUEUE = "ticks"
CELERY_TASK_ROUTES["campaigns.tick"] = {"queue": ENGAGE_TICK_QUEUE}
ENGAGE_WORKER_QUEUES = f"urgent,{ENGAGE_TICK_QUEUE},default"  # what `manage.py run` and the docs start
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = False
ENGAGE_TICK_SECONDS = float(env("ENGAGE_TICK_SECONDS", "5"))
# Publishing: retries back off from this base (doubling, at most 15 minutes) up to the limit.
ENGAGE_RETRY_BASE_SECONDS = float(env("ENGAGE_RETRY_BASE_SECONDS", "10"))
ENGAGE_MAX_DELIVERY_ATTEMPTS = int(env("ENGAGE_MAX_DELIVERY_ATTEMPTS", "6"))
# A claim whose task never started (its message lost with the broker, a worker killed before it began)
# goes back to pending after this long: longer than a busy queue takes to reach a claimed row.
ENGAGE_STALE_CLAIM_SECONDS = float(env("ENGAGE_STALE_CLAIM_SECONDS", "300"))
# After a pause, deliveries more overdue than this wait on the "review before sending" list.
ENGAGE_RESUME_REVIEW_MINUTES = int(env("ENGAGE_RESUME_REVIEW_MINUTES", "15"))
# Channel tokens: warn the team's administrators and supervisors this many days before expiry.
ENGAGE_TOKEN_WARNING_DAYS = tuple(int(d) for d in env("ENGAGE_TOKEN_WARNING_DAYS", "14,3").split(",") if d.strip())
# Platform post statistics (views, shares, replies): posts sent in the last N days, at most this many
# a run, none fetched again within M minutes.
ENGAGE_STATS_DAYS = int(env("ENGAGE_STATS_DAYS", "14"))
ENGAGE_STATS_MAX_POSTS = int(env("ENGAGE_STATS_MAX_POSTS", "500"))
ENGAGE_STATS_MIN_MINUTES = int(env("ENGAGE_STATS_MIN_MINUTES", "15"))
# Facebook Graph API version for every Facebook channel without its own config.api_version (see
# platforms/facebook/graph_versions.py for the known versions and their end dates), and how many days
# before the version's end of life the channel's health and `manage.py check` warn.
ENGAGE_FACEBOOK_GRAPH_VERSION = env("ENGAGE_FACEBOOK_GRAPH_VERSION", "v25.0").strip()
ENGAGE_FACEBOOK_VERSION_WARNING_DAYS = int(env("ENGAGE_FACEBOOK_VERSION_WARNING_DAYS", "90"))

# --- logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # httpx logs every request URL at INFO, and Telegram's bot token is part of its URLs.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"},
                "httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
