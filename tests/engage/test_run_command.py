"""``manage.py run`` loads the demo data only where it cannot mix with a force's own data."""

from __future__ import annotations

import pytest

from accounts.services import team_create
from engage.management.commands.run import DEMO_FORCE_SLUG, demo_data_wanted

pytestmark = pytest.mark.django_db


def test_the_demo_data_goes_into_an_empty_database():
    assert demo_data_wanted()


def test_the_demo_data_is_refreshed_where_the_demo_force_already_is():
    team_create(name="Northshire Police", slug=DEMO_FORCE_SLUG, timezone="Europe/London")
    team_create(name="Another force", slug="another-force", timezone="Europe/London")
    assert demo_data_wanted()


def test_the_demo_data_never_goes_beside_a_forces_own_data():
    """A real force's database, or one restored from its backup: no demo teams, users or channels."""
    team_create(name="Westshire Constabulary", slug="westshire", timezone="Europe/London")
    assert not demo_data_wanted()


def _child(text: str) -> list[str]:
    import sys

    return [sys.executable, "-c", f"import sys; print({text!r}); print('oops', file=sys.stderr)"]


def test_without_verbose_the_processes_write_to_files_under_var_not_to_the_screen(tmp_path, capfd):
    """Issue 16: the address and sign-ins stay on the screen; worker, beat and sandbox logs go to files."""
    from contextlib import ExitStack

    from engage.management.commands.run import log_paths, start_processes

    commands = {"worker": _child("worker says hello"), "sandbox": _child("sandbox says hello")}
    logs = log_paths(list(commands), tmp_path)
    assert logs == {"worker": tmp_path / "logs" / "worker.log", "sandbox": tmp_path / "logs" / "sandbox.log"}
    with ExitStack() as files:
        for proc in start_processes(commands, cwd=tmp_path, env={}, logs=logs, files=files).values():
            assert proc.wait(timeout=30) == 0
    screen = capfd.readouterr()
    assert "says hello" not in screen.out + screen.err and "oops" not in screen.out + screen.err
    assert sorted(logs["worker"].read_text().splitlines()) == ["oops", "worker says hello"]  # stderr too
    assert "sandbox says hello" in logs["sandbox"].read_text()


def test_with_verbose_the_processes_write_to_the_screen(tmp_path, capfd):
    from contextlib import ExitStack

    from engage.management.commands.run import start_processes

    with ExitStack() as files:
        for proc in start_processes({"beat": _child("beat says hello")}, cwd=tmp_path, env={}, logs=None,
                                    files=files).values():
            assert proc.wait(timeout=30) == 0
    assert "beat says hello" in capfd.readouterr().out
    assert not (tmp_path / "logs").exists()


def test_the_banner_keeps_the_address_the_demo_sign_ins_and_the_log_paths(tmp_path):
    from engage.management.commands.run import banner, log_paths
    from engage.management.commands.seed_demo import DEMO_PASSWORD, USERS

    logs = log_paths(["web", "worker", "beat", "sandbox"], tmp_path)
    sign_ins = [(email, str(role)) for email, _name, _team, role in USERS]
    text = "\n".join(banner(url="http://127.0.0.1:8000/", sandbox_url="http://127.0.0.1:8025", sign_ins=sign_ins,
                            password=DEMO_PASSWORD, logs=logs))
    assert text.startswith("Engage is running at http://127.0.0.1:8000/")
    assert f"Demo sign-ins (password {DEMO_PASSWORD}):" in text
    for email, role in sign_ins:
        assert f"  {role:<11} {email}" in text
    assert "  supervisor  community-supervisor@engage.test" in text
    for path in logs.values():
        assert str(path) in text
    assert "--verbose" in text
    assert "Logs" not in "\n".join(banner(url="u/", sandbox_url="s", sign_ins=[], password="p", logs=None))


def test_the_install_step_never_says_first_run_only():
    """Issue 16: the install step runs again whenever pyproject.toml changes, and says so."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("engage_manage", root / "manage.py")
    manage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(manage)
    first, again = manage.install_note(updating=False), manage.install_note(updating=True)
    assert "first run only" not in first + again
    assert "again only when pyproject.toml changes" in first and "pyproject.toml changed" in again
    readme = (root / "README.md").read_text()
    assert "first run only" not in readme and "again only when it changes" in readme
