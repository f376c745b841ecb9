"""Shared fixtures. The database is real (SQLite file or PostgreSQL, from DATABASE_URL)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(autouse=True, scope="session")
def _celery_in_memory():
    """Unit tests enqueue into an in-memory broker. Fault tests start real workers on the real one."""
    from engage.celery import app

    os.environ.setdefault("ENGAGE_REAL_BROKER_URL", app.conf.broker_url or "")
    # Celery prefers the CELERY_BROKER_URL environment variable over any configuration, for every app
    # in the process: drop it here (settings have read it already), or unit tests would enqueue into
    # the real broker and the fault tests' sender apps would ignore the broker they are given.
    os.environ.pop("CELERY_BROKER_URL", None)
    app.conf.broker_url = "memory://"
    app.conf.broker_transport_options = {}
    yield


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ENGAGE_PUBLISH_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _platform_contracts(request):
    """After a test that used the platform sandbox (a fixture named ``sandbox``), every request it
    made to a platform with a contract (``tests/contracts``: X, Twilio) must be one that platform's
    own OpenAPI specification allows. Tests that send refused requests on purpose, to see the
    sandbox refuse them, are marked ``@pytest.mark.contract_exempt``."""
    if "sandbox" not in request.fixturenames or request.node.get_closest_marker("contract_exempt"):
        yield
        return
    box = request.getfixturevalue("sandbox")
    started = time.time()
    yield
    from tests.contracts import CONTRACTS, assert_requests_conform

    for platform in CONTRACTS:
        assert_requests_conform(platform, [r for r in box.requests(platform) if r.at >= started])


@pytest.fixture
def world(db):
    """A force with two teams and a user of every role in each."""
    from tests.factories import make_world

    return make_world()


@pytest.fixture
def api(world):
    from rest_framework.test import APIClient

    def client_for(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def sandbox():
    """The local platform sandbox, one per test module (modules reset it between tests as they need)."""
    from platforms.sandbox import Sandbox

    box = Sandbox.start()
    yield box
    box.stop()


DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback",
                     "live_server"}


def pytest_collection_modifyitems(config, items):
    """Mark ``nodb`` every test that cannot touch the database: no ``django_db`` mark and no
    database fixture, directly or through another fixture (pytest-django refuses such a test any
    database access). Its outcome cannot depend on the database, so CI runs it once, in the SQLite
    pass, and the PostgreSQL pass leaves it out (``-m "not nodb"``)."""
    for item in items:
        if item.get_closest_marker("django_db") is None and not DATABASE_FIXTURES & set(
                getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.nodb)


@pytest.fixture
def dead_url() -> str:
    """A local URL where nothing listens (connection refused): for the platform clients' and the
    awareness readers' tests of a host that is down."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
