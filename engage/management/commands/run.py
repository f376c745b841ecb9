"""``python3 manage.py run``: the whole platform in one command.

Migrates, loads the demo data (safe to repeat; only into an empty database or one that already
holds the demo force, never beside a force's own data, e.g. after a restore), declares the
periodic tasks, then starts
the web server (gunicorn), a Celery worker on every queue (urgent, ticks, default), exactly one beat, and the
local platform sandbox that the demo channels post to. Ctrl-C stops all of it.

The screen keeps what a person needs: the address, the demo sign-ins and where the logs are. The
web server's, worker's, beat's and sandbox's output goes to ``var/logs/<name>.log`` (under
``ENGAGE_VAR_DIR``), appended to; ``--verbose`` shows it all on the screen instead.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import IO

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


def log_paths(names: list[str], var_dir: Path) -> dict[str, Path]:
    """Where each process's output goes when ``run`` is not ``--verbose``."""
    folder = var_dir / "logs"
    return {name: folder / f"{name}.log" for name in names}


def start_processes(commands: dict[str, list[str]], *, cwd: Path, env: dict[str, str],
                    logs: dict[str, Path] | None, files: ExitStack) -> dict[str, subprocess.Popen]:
    """Start each command; with ``logs``, its stdout and stderr are appended to its file (kept open
    in ``files``), else they go to this terminal."""
    processes: dict[str, subprocess.Popen] = {}
    for name, cmd in commands.items():
        out: IO[bytes] | None = None
        if logs is not None:
            logs[name].parent.mkdir(parents=True, exist_ok=True)
            out = files.enter_context(open(logs[name], "ab"))  # noqa: SIM115 - closed by the ExitStack
        processes[name] = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out,  # noqa: S603
                                           stderr=subprocess.STDOUT if out is not None else None)
    return processes


def banner(*, url: str, sandbox_url: str, sign_ins: list[tuple[str, str]], password: str,
           logs: dict[str, Path] | None) -> list[str]:
    """What stays on the screen while everything runs."""
    lines = [f"Engage is running at {url}",
             f"Staff sign-in: {url}accounts/login/  ·  API docs: {url}api/docs/",
             f"Local platform sandbox (demo channels post here): {sandbox_url}/"]
    if sign_ins:
        lines.append(f"Demo sign-ins (password {password}):")
        lines += [f"  {role:<11} {email}" for email, role in sign_ins]
    if logs is not None:
        lines.append("Logs (run with --verbose to see them here instead):")
        lines += [f"  {name:<8} {path}" for name, path in logs.items()]
    lines.append("Press Ctrl-C to stop everything.")
    return lines


class Command(BaseCommand):
    help = "Run web, worker, beat and the platform sandbox together, with demo data."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=os.environ.get("ENGAGE_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("ENGAGE_PORT", "8000")))
        parser.add_argument("--sandbox-port", type=int, default=8025)
        parser.add_argument("--no-demo", action="store_true", help="Do not load the demo data")
        parser.add_argument("--workers", type=int, default=2, help="Celery worker concurrency")
        parser.add_argument("--verbose", action="store_true",
                            help="Show the web, worker, beat and sandbox logs here instead of in var/logs/")

    def handle(self, *args, **options) -> None:
        os.environ["ENGAGE_SANDBOX_URL"] = f"http://127.0.0.1:{options['sandbox_port']}"
        call_command("migrate", interactive=False, verbosity=0)
        call_command("setup_periodic_tasks", verbosity=0)
        from engage.management.commands.seed_demo import DEMO_PASSWORD, USERS

        sign_ins: list[tuple[str, str]] = []
        if options["no_demo"]:
            pass
        elif demo_data_wanted():
            self.stdout.write("Loading the demo data…")
            quiet = {} if options["verbose"] else {"stdout": io.StringIO()}
            call_command("seed_demo", **quiet)
            call_command("seed_demo_replies", **quiet)
            sign_ins = [(email, str(role)) for email, _name, _team, role in USERS]
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
            "worker": [str(bin_dir / "celery"), "-A", "engage", "worker", "-Q", settings.ENGAGE_WORKER_QUEUES,
                       "--concurrency", str(options["workers"]), "--loglevel", "INFO", "-n", "engage@%h"],
            "beat": [str(bin_dir / "celery"), "-A", "engage", "beat", "--loglevel", "INFO",
                     "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"],
            "sandbox": [python, "-m", "platforms.sandbox", "--port", str(options["sandbox_port"])],
        }
        logs = None if options["verbose"] else log_paths(list(commands), Path(settings.VAR_DIR))
        files = ExitStack()
        processes = start_processes(commands, cwd=settings.BASE_DIR, env=env, logs=logs, files=files)
        url = f"http://{options['host']}:{options['port']}/"
        lines = banner(url=url, sandbox_url=f"http://127.0.0.1:{options['sandbox_port']}", sign_ins=sign_ins,
                       password=DEMO_PASSWORD, logs=logs)
        self.stdout.write(self.style.SUCCESS("\n" + lines[0]))
        self.stdout.write("\n".join(lines[1:]) + "\n")

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
                        where = f" (its log: {logs[name]})" if logs is not None else ""
                        self.stderr.write(f"{name} stopped with code {proc.returncode}{where}; stopping the rest.")
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
            files.close()
            self.stdout.write("Stopped.")
