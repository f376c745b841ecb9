"""Real moving parts for the publishing fault tests and the burst benchmark: a private Redis
server, Celery worker processes on the test database, and a sender app for the tick."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from celery import Celery
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A throwaway redis-server on its own port, so a test may stop the broker without
    disturbing anything else on the machine."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if not self.binary:
            raise RuntimeError("redis-server is not installed")
        self.proc = subprocess.Popen(  # noqa: S603
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None


def database_env() -> dict[str, str]:
    """Point a child process at the database this test process is using (the test database)."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        user = db.get("USER") or "postgres"
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        return {"DATABASE_URL": f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"}
    return {"DATABASE_URL": "", "ENGAGE_SQLITE_PATH": str(db["NAME"])}


class Worker:
    """``celery worker`` in its own process group, so SIGKILL takes all of it at once."""

    def __init__(self, broker_url: str, *, name: str, concurrency: int = 1, pool: str = "solo",
                 extra_env: dict[str, str] | None = None, queues: str | None = None) -> None:
        self.broker_url, self.name, self.concurrency, self.pool = broker_url, name, concurrency, pool
        self.queues = queues  # None: every queue, as ``manage.py run`` starts a worker
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []
        self._ready = threading.Event()

    def start(self, timeout: float = 40) -> Worker:
        env = {**os.environ, **database_env(), "DJANGO_SETTINGS_MODULE": "engage.settings",
               "CELERY_BROKER_URL": self.broker_url, "SECRET_KEY": settings.SECRET_KEY,
               "ENGAGE_FIELD_ENCRYPTION_KEY": settings.ENGAGE_FIELD_ENCRYPTION_KEY,
               "ENGAGE_RETRY_BASE_SECONDS": "0.2", "PYTHONUNBUFFERED": "1", **self.extra_env}
        cmd = [sys.executable, "-m", "celery", "-A", "engage", "worker", "-Q", self.queues or settings.ENGAGE_WORKER_QUEUES,
               "--pool", self.pool, "--concurrency", str(self.concurrency), "-n", f"{self.name}@%h",
               "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,  # noqa: S603
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(timeout):
            self.kill()
            raise RuntimeError("worker did not become ready:\n" + "\n".join(self.lines[-40:]))
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            if " ready." in line:
                self._ready.set()

    def saw(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup, no acknowledgement, no goodbye."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def sender_app(broker_url: str) -> Celery:
    """A Celery app that only sends, to the given broker (the test process's own app uses memory://)."""
    app = Celery("engage-test-sender", broker=broker_url, set_as_current=False)
    app.conf.broker_connection_retry = False
    app.conf.broker_connection_timeout = 2
    app.conf.broker_transport_options = {"max_retries": 0}
    return app


def tick(app: Celery, *, urgent_only: bool = False) -> int:
    """What the beat's tick does: claim due deliveries and enqueue them on ``app``'s broker."""
    from campaigns.publishing import deliveries_claim_due
    from campaigns.publishing.tasks import dispatch_claimed

    return dispatch_claimed(deliveries_claim_due(urgent_only=urgent_only), app=app)


def wait_for(condition: Callable[[], bool], *, timeout: float = 60, interval: float = 0.1,
             tick_with: Celery | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if tick_with is not None:
            tick(tick_with)
        if condition():
            return
        time.sleep(interval)
    raise AssertionError("condition not met in time")
