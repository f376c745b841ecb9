"""Production refuses unsafe settings, and passes Django's deployment checks with safe ones."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _check(env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_DEBUG")}
    env.update(env_extra)
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_production_deploy_check_is_clean_with_safe_settings(tmp_path):
    result = _check({"DJANGO_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(64),
                     "ALLOWED_HOSTS": "engage.example.org", "ENGAGE_VAR_DIR": str(tmp_path)},
                    "--deploy", "--fail-level", "WARNING")
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
    result = _check({"DJANGO_ENV": "production", "ENGAGE_VAR_DIR": str(tmp_path), **env})
    assert result.returncode != 0
    assert needle in result.stderr
