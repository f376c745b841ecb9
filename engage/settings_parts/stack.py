"""The installed apps and the middleware, in order (no environment variable changes them)."""

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.syndication",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "accounts",
    "campaigns",
    "engage.apps.EngageConfig",
    "engage.awareness.apps.AwarenessConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.csp.CSPMiddleware",  # django-csp's, the policy built once per process (core/csp.py)
    "engage.public.cache.PublicPageCacheMiddleware",  # cached public pages skip the rest (issue 7)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.nul.NulBytesMiddleware",  # NUL in a query or form field: 400 (PostgreSQL cannot hold it)
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.RequestContextMiddleware",
    "accounts.middleware.DeskLanguageMiddleware",  # the desk in the person's language, en or cy (issue 15)
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "accounts.middleware.TeamTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]
