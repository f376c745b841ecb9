"""``python3 manage.py run``: the whole platform in one command.

Migrates, loads the demo data (safe to repeat; only into an empty database or one that already
holds the demo force, never beside a force's own data, e.g. after a restore), declares the
periodic tasks, then starts
the web server (gunicorn), a Celery worker on both queues, exactly one beat, and the
local platform sandbox that the demo channels post to. Ctrl-C stops all of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

DEMO_FORCE_SLUG = "northshire"  # the force seed_demo creates


def demo_data_wanted() -> bool:
    """Whether ``run`` may load the demo data: into an empty database, or one that already holds
    the demo force. A database with any other force (a real one, or one restored from a backup)
    is left alone: demo teams, users and channels must never appear beside a force's own data."""
    from accounts.models import Team

    teams = Team.objects.all()
    return not teams.exists() or teams.filter(slug=DEMO_FORCE_SLUG).exists()


class Command(BaseCommand):
    help = "Run web, worker, beat and the platform sandbox together, with demo data."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=os.environ.get("ENGAGE_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("ENGAGE_PORT", "8000")))
        parser.add_argument("--sandbox-port", type=int, default=8025)
        parser.add_argument("--no-demo", action="store_true", help="Do not load the demo data")
        parser.add_argument("--workers", type=int, default=2, help="Celery worker concurrency")

    def handle(self, *args, **options) -> None:
        os.environ["ENGAGE_SANDBOX_URL"] = f"http://127.0.0.1:{options['sandbox_port']}"
        call_command("migrate", interactive=False, verbosity=0)
        call_command("setup_periodic_tasks", verbosity=0)
        if options["no_demo"]:
            pass
        elif demo_data_wanted():
            call_command("seed_demo")
            call_command("seed_demo_replies")
        else:
            self.stdout.write("This database holds a force's own data: the demo data was not loaded.")
        python = sys.executable
        bin_dir = Path(python).parent
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "engage.settings", "PYTHONUNBUFFERED": "1"}
        env.setdefault("ENGAGE_SITE_URL", f"http://{options['host']}:{options['port']}")
        commands = {
            "web": [str(bin_dir / "gunicorn"), "engage.wsgi:application", "--bind",
                    f"{options['host']}:{options['port']}", "--workers", "2", "--threads", "4",
                    "--access-logfile", "-", "--graceful-timeout", "5"],
            "worker": [str(bin_dir / "celery"), "-A", "engage", "worker", "-Q", "urgent,default",
                       "--concurrency", str(options["workers"]), "--loglevel", "INFO", "-n", "engage@%h"],
            "beat": [str(bin_dir / "celery"), "-A", "engage", "beat", "--loglevel", "INFO",
                     "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"],
            "sandbox": [python, "-m", "platforms.sandbox", "--port", str(options["sandbox_port"])],
        }
        processes: dict[str, subprocess.Popen] = {}
        for name, cmd in commands.items():
            processes[name] = subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=env)  # noqa: S603
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"\nEngage is running at {url}"))
        self.stdout.write(f"Staff sign-in: {url}accounts/login/  ·  API docs: {url}api/docs/")
        self.stdout.write(f"Local platform sandbox (demo channels post here): http://127.0.0.1:{options['sandbox_port']}/")
        self.stdout.write("Press Ctrl-C to stop everything.\n")

        stopping = False

        def stop(*_args: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in processes.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} stopped with code {proc.returncode}; stopping the rest.")
                        stopping = True
                        break
                time.sleep(0.5)
        finally:
            for proc in processes.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            deadline = time.time() + 10
            for proc in processes.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    proc.kill()
            self.stdout.write("Stopped.")
