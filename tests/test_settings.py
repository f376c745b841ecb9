"""Production refuses unsafe settings, and passes Django's deployment checks with safe ones."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


_UNSET = ("SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_DEBUG", "ENGAGE_FIELD_ENCRYPTION_KEY", "ENGAGE_SITE_URL",
          "ENGAGE_PUBLIC_API_DOCS")


def _check(env_extra: dict[str, str], *args: str, command: str = "check") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in _UNSET}
    env.update(env_extra)
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", command, *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )


def _safe() -> dict[str, str]:
    """Everything production needs: a strong SECRET_KEY, hosts, a separate field key, an https address."""
    return {"DJANGO_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "engage.example.org",
            "ENGAGE_FIELD_ENCRYPTION_KEY": secrets.token_urlsafe(48), "ENGAGE_SITE_URL": "https://engage.example.org"}


@pytest.mark.slow
def test_production_deploy_check_is_clean_with_safe_settings(tmp_path):
    result = _check({**_safe(), "ENGAGE_VAR_DIR": str(tmp_path)}, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"ALLOWED_HOSTS": "engage.example.org"}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "django-insecure-" + "x" * 60, "ALLOWED_HOSTS": "a.example"}, "too weak"),
        ({"SECRET_KEY": "short", "ALLOWED_HOSTS": "a.example"}, "too weak"),
        ({"SECRET_KEY": secrets.token_urlsafe(64)}, "ALLOWED_HOSTS must be set"),
        ({"SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "a.example", "DJANGO_DEBUG": "1"},
         "DJANGO_DEBUG must be off"),
    ],
)
def test_production_refuses_to_start_with_unsafe_settings(tmp_path, env, needle):
    result = _check({"DJANGO_ENV": "production", "ENGAGE_VAR_DIR": str(tmp_path),
                     "ENGAGE_FIELD_ENCRYPTION_KEY": secrets.token_urlsafe(48),
                     "ENGAGE_SITE_URL": "https://engage.example.org", **env})
    assert result.returncode != 0
    assert needle in result.stderr


_KEY = secrets.token_urlsafe(64)


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"ENGAGE_FIELD_ENCRYPTION_KEY": ""}, "ENGAGE_FIELD_ENCRYPTION_KEY must be set"),
        ({"SECRET_KEY": _KEY, "ENGAGE_FIELD_ENCRYPTION_KEY": _KEY}, "must differ from SECRET_KEY"),
        ({"SECRET_KEY": _KEY, "ENGAGE_FIELD_ENCRYPTION_KEY": f"{_KEY},{secrets.token_urlsafe(48)}"},
         "must differ from SECRET_KEY"),
        ({"ENGAGE_FIELD_ENCRYPTION_KEY": "short-key"}, "ENGAGE_FIELD_ENCRYPTION_KEY is too weak"),
        ({"ENGAGE_SITE_URL": ""}, "ENGAGE_SITE_URL must be the site's https address"),
        ({"ENGAGE_SITE_URL": "http://engage.example.org"}, "ENGAGE_SITE_URL must be the site's https address"),
        ({"ENGAGE_SITE_URL": "engage.example.org"}, "ENGAGE_SITE_URL must be the site's https address"),
        ({"ENGAGE_TRUSTED_PROXIES": "10.0.0.0/8,not-a-network"}, "ENGAGE_TRUSTED_PROXIES"),
    ],
)
def test_production_refuses_a_shared_or_missing_field_key_and_a_plain_http_site(tmp_path, env, needle):
    result = _check({**_safe(), "ENGAGE_VAR_DIR": str(tmp_path), **env})
    assert result.returncode != 0
    assert needle in result.stderr


def test_production_keeps_the_api_schema_closed_by_default(tmp_path):
    script = "from django.conf import settings; print('public docs:', settings.ENGAGE_PUBLIC_API_DOCS)"
    closed = _check({**_safe(), "ENGAGE_VAR_DIR": str(tmp_path)}, "-c", script, command="shell")
    assert "public docs: False" in closed.stdout, closed.stderr
    opened = _check({**_safe(), "ENGAGE_VAR_DIR": str(tmp_path), "ENGAGE_PUBLIC_API_DOCS": "1"}, "-c", script,
                    command="shell")
    assert "public docs: True" in opened.stdout, opened.stderr
