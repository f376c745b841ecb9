#!/usr/bin/env python3
"""Engage's command line.

On a fresh machine with only python3, two commands do everything:

    python3 manage.py run        # venv, install, migrate, demo data, web + worker + beat
    python3 manage.py runtests   # venv with the dev extra, then the whole test suite

Both first make sure ``.venv`` exists and holds what pyproject.toml asks for, then carry
on inside it. Every other command is Django's, run with whatever Python you call it with.
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("ENGAGE_VENV", ROOT / ".venv"))
BOOTSTRAP = {"run": "", "runtests": "dev", "bootstrap": "dev"}


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def install_note(*, updating: bool) -> str:
    """What the second step says: it runs on the first run, and again whenever pyproject.toml changes."""
    if updating:
        return "pyproject.toml changed since the last install: updating Engage and its dependencies ...\n"
    return "Installing Engage and its dependencies (again only when pyproject.toml changes) ...\n"


def _ensure_venv(extra: str) -> None:
    python = _venv_python()
    if not python.exists():
        sys.stderr.write(f"Creating the virtual environment in {VENV} ...\n")
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extra.encode()).hexdigest()
    stamp = VENV / f".engage-installed-{extra or 'base'}"
    if stamp.exists() and stamp.read_text() == wanted:
        return
    sys.stderr.write(install_note(updating=stamp.exists()))
    target = f".[{extra}]" if extra else "."
    subprocess.check_call([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], cwd=ROOT)
    subprocess.check_call([str(python), "-m", "pip", "install", "--quiet", "-e", target], cwd=ROOT)
    stamp.write_text(wanted)


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command in BOOTSTRAP and os.environ.get("ENGAGE_BOOTSTRAPPED") != "1":
        _ensure_venv(BOOTSTRAP[command])
        if command == "bootstrap":
            return
        env = {**os.environ, "ENGAGE_BOOTSTRAPPED": "1"}
        python = str(_venv_python())
        os.execve(python, [python, str(ROOT / "manage.py"), *sys.argv[1:]], env)  # noqa: S606

    if command == "runtests":
        # The whole suite (or the pytest arguments given), in this interpreter's environment.
        os.execv(sys.executable, [sys.executable, "-m", "pytest", *sys.argv[2:]])  # noqa: S606

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engage.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
